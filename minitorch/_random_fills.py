"""In-place random fills composed from minitorch's uniform_/normal_/_randint_ kernels (so they use
minitorch's generator: minitorch.manual_seed / a minitorch.Generator): Tensor.random_, exponential_,
geometric_, cauchy_, log_normal_, bernoulli_ (float p). Ranges, dtype rules and errors follow torch:
random_() on a floating tensor draws integers in [0, 2**digits] (2**24 float32, 2**53 float64), on an
integer tensor in [0, max of the dtype]; the continuous ones need a floating tensor. Values differ from
torch's for the same seed (another generator), their distributions do not."""
import math
import warnings

from . import _C
from ._types import float64, int64

__all__ = []

_DIGITS = {"float32": 24, "float64": 53}
_INT_MAX = {"int64": (-(2 ** 63), 2 ** 63 - 1, "long"), "int32": (-(2 ** 31), 2 ** 31 - 1, "int"),
            "bool": (0, 1, "bool")}
_DT_NAME = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "bool": "Bool"}


def _name(t):
    return str(t.dtype).split(".")[-1]


def _check_leaf(self):
    if self.requires_grad and self.is_leaf and _C.is_grad_enabled():
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def _uniform(self, generator):
    """a uniform [0, 1) tensor of self's shape, in self's floating dtype (float64 for other dtypes)"""
    from ._creation import empty
    dt = self.dtype if self.dtype.is_floating_point else float64
    u = empty(tuple(self.shape), dtype=dt, device=self.device)
    return u.uniform_(0, 1, generator=generator)


def _fill(self, values):
    from .autograd import no_grad
    with no_grad():
        self.copy_(values)
    return self


def random_(self, *args, generator=None, **kwargs):
    """random_(), random_(to), random_(from, to): integers uniformly from [from, to - 1] (to=None: up to
    the dtype's largest integer, 2**digits for floating tensors)."""
    if kwargs:  # random_(**{"from": a, "to": b}) / random_(a, to=b), as torch's overloads allow
        if set(kwargs) - {"from", "to"} or ("to" not in kwargs) or len(args) + len(kwargs) != 2 \
                or (len(args) == 1 and "from" in kwargs):
            got = ", ".join(f"{k}=" + type(v).__name__ for k, v in kwargs.items())
            raise TypeError(f"random_() received an invalid combination of arguments - got ({got}, )")
        args = (args[0] if args else kwargs["from"], kwargs["to"])
    if len(args) > 2:
        raise TypeError("random_() takes at most 2 positional arguments")
    _check_leaf(self)
    name = _name(self)
    if name in _DIGITS:
        top = 2 ** _DIGITS[name]
    else:
        top = _INT_MAX[name][1]
    if len(args) == 0:
        low, high = 0, top + 1
    elif len(args) == 1:
        low, high = 0, int(args[0])
    else:
        low = int(args[0])
        high = top + 1 if args[1] is None else int(args[1])
    if not low < high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if name in _DIGITS:
        d = _DIGITS[name]
        if not -(2 ** d) <= low <= 2 ** d:
            warnings.warn(f"from is out of bounds [-(2^{d}), 2^{d}]. Due to precision limitations {name[:5] if name == 'float32' else 'double'} "
                          "can support discrete uniform distribution only within this range. This warning will "
                          "become an error in version 1.7 release, please fix the code in advance", UserWarning,
                          stacklevel=2)
        if not -(2 ** d) <= high - 1 <= 2 ** d:
            warnings.warn(f"to - 1 is out of bounds [-(2^{d}), 2^{d}]. Due to precision limitations {name[:5] if name == 'float32' else 'double'} "
                          "can support discrete uniform distribution only within this range. This warning will "
                          "become an error in version 1.7 release, please fix the code in advance", UserWarning,
                          stacklevel=2)
    else:
        lo, hi, tn = _INT_MAX[name]
        if not lo <= low <= hi:
            raise RuntimeError(f"from is out of bounds for {tn}")
        if not lo <= high - 1 <= hi:
            raise RuntimeError(f"to - 1 is out of bounds for {tn}")
    from ._creation import empty
    if high - low <= 2 ** 63 - 1 and -(2 ** 63) <= low and high <= 2 ** 63 - 1:
        tmp = empty(tuple(self.shape), dtype=int64, device=self.device)
        tmp._randint_(low, high, generator)
    elif low >= 0 and high == 2 ** 63:  # int64's full non-negative range: 31 high bits and 32 low bits
        a = empty(tuple(self.shape), dtype=int64, device=self.device)
        b = empty(tuple(self.shape), dtype=int64, device=self.device)
        a._randint_(0, 2 ** 32, generator)
        b._randint_(0, 2 ** 31, generator)
        tmp = b * 4294967296 + a
        if low:
            raise NotImplementedError(f"random_({low}, None) on int64: a range of more than 2**63 values")
    else:
        raise NotImplementedError(f"random_({low}, {high}) on {name}: a range of more than 2**63 values")
    return _fill(self, tmp)


def _need_float(self, what, spelled=None):
    if not self.dtype.is_floating_point:
        n = spelled or _DT_NAME.get(_name(self), _name(self))
        raise RuntimeError(f"{what} distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {n}")


def exponential_(self, lambd=1.0, *, generator=None):
    """Fills with Exponential(lambd) samples: -log(1 - U) / lambd."""
    if not (lambd > 0 and not math.isinf(lambd)):
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_num(lambd)}")
    _need_float(self, "Exponential")
    _check_leaf(self)
    u = _uniform(self, generator)
    return _fill(self, (-u).log1p() * (-1.0 / lambd))


def geometric_(self, p, *, generator=None):
    """Fills with Geometric(p) samples in {1, 2, ...} (the trial of the first success): ceil(log(U) / log(1 - p))."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_num(p)}")
    _check_leaf(self)
    u = _uniform(self, generator)
    # 1 - U lies in (0, 1]: log(1 - U) / log1p(-p) >= 0, and ceil of it >= 1 except when U == 0
    v = ((-u).log1p() / math.log1p(-p)).ceil().clamp(min=1.0)
    return _fill(self, v)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fills with Cauchy(median, sigma) samples: median + sigma * tan(pi * (U - 1/2))."""
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_num(sigma)}")
    _need_float(self, "Cauchy", {"int64": "long int", "int32": "int", "bool": "bool"}.get(_name(self)))
    _check_leaf(self)
    u = _uniform(self, generator)
    return _fill(self, ((u - 0.5) * math.pi).tan() * sigma + median)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fills with samples whose log is Normal(mean, std)."""
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_num(std)}")
    if not self.dtype.is_floating_point:
        raise NotImplementedError(f"\"log_normal_cpu\" not implemented for '{_DT_NAME.get(_name(self))}'")
    _check_leaf(self)
    from ._creation import empty
    z = empty(tuple(self.shape), dtype=self.dtype, device=self.device).normal_(mean, std, generator=generator)
    return _fill(self, z.exp())


def bernoulli_(self, p=0.5, *, generator=None):
    """Fills with 1 with probability p (a float, or a tensor of probabilities broadcast to self), else 0."""
    if not isinstance(p, _C.TensorBase):
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_num(p)}")
    _check_leaf(self)
    u = _uniform(self, generator)
    return _fill(self, u < (p.to(u.dtype) if isinstance(p, _C.TensorBase) else p))


def _num(v):
    return int(v) if float(v).is_integer() and not isinstance(v, bool) else v


def _install():
    from ._tensor import Tensor
    for fn in (random_, exponential_, geometric_, cauchy_, log_normal_, bernoulli_):
        if not hasattr(Tensor, fn.__name__):
            setattr(Tensor, fn.__name__, fn)


_install()

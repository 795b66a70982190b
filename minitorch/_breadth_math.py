"""Math functions of PyTorch's surface composed from existing minitorch ops (autograd and every device come
for free): pointwise (addcmul, addcdiv, lerp, fmax, fmin, gcd, lcm, ldexp, frexp, signbit, deg2rad, ...),
BLAS-style products (addmv, addr, addbmm, baddbmm, mv, inner, tensordot, ...), reductions and statistics
(aminmax, median, mode, kthvalue, quantile, nanmean, var_mean, cov, histogram, ...), calculus helpers (diff,
gradient, trapezoid), and the torch.* forms of nn ops with their aten signatures (torch.batch_norm(input,
weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled), torch.embedding(weight,
indices, ...), torch.lstm_cell, ...). Names, signatures, defaults, dtypes and errors follow torch 2.13.

Index-valued results (median/mode/kthvalue indices, isin, histogram counts) are computed with NumPy on the
host, values are then gathered from the input so their gradient flows as in torch."""
import functools
import math
import warnings
from collections import namedtuple

import numpy as np

from . import _C
from ._types import float32, float64, int32, int64

__all__ = [
    "addcmul", "addcdiv", "lerp", "fmax", "fmin", "gcd", "lcm", "ldexp", "frexp", "signbit", "deg2rad", "rad2deg",
    "isin", "isneginf", "isposinf", "isreal", "mvlgamma", "polygamma",
    "addmv", "addr", "addbmm", "baddbmm", "mv", "ger", "inner", "vdot", "tensordot", "chain_matmul", "cross",
    "aminmax", "median", "nanmedian", "mode", "kthvalue", "quantile", "nanquantile", "nanmean", "nansum",
    "std_mean", "var_mean", "msort", "diff", "gradient", "trapezoid", "trapz", "cumulative_trapezoid", "cov",
    "corrcoef", "dist", "renorm", "histogram", "bernoulli", "poisson", "binomial", "randint_like", "frobenius_norm", "nuclear_norm",
    "pdist",
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "convolution",
    "batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "embedding", "pixel_shuffle",
    "pixel_unshuffle", "channel_shuffle", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d",
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "bilinear", "binary_cross_entropy_with_logits",
    "constant_pad_nd", "lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell",
]


# ------------------------------------------------------------------------------------------ helpers
def _return_type(name, fields):
    """A torch.return_types.<name> named tuple (also reachable as minitorch.return_types.<name>)."""
    from . import return_types
    cls = namedtuple(name, fields)
    cls.__module__ = "torch.return_types"
    cls.__repr__ = lambda self: f"torch.return_types.{name}(\n" + ",\n".join(
        f"{f}={getattr(self, f)!r}" for f in fields) + ")"
    if not hasattr(return_types, name):
        setattr(return_types, name, cls)
    return getattr(return_types, name)


_aminmax_t = _return_type("aminmax", ["min", "max"])
_median_t = _return_type("median", ["values", "indices"])
_nanmedian_t = _return_type("nanmedian", ["values", "indices"])
_mode_t = _return_type("mode", ["values", "indices"])
_kthvalue_t = _return_type("kthvalue", ["values", "indices"])
_frexp_t = _return_type("frexp", ["mantissa", "exponent"])
_histogram_t = _return_type("histogram", ["hist", "bin_edges"])


def _wrap(dim, ndim):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _is_tensor(x):
    return isinstance(x, _C.TensorBase)


def _as_tensor(x, like):
    from ._creation import tensor
    return x if _is_tensor(x) else tensor(x, device=like.device)


def _np(t):
    return t.detach().cpu().numpy()


def _from_np(a, like, dtype=None):
    from ._creation import tensor
    a = np.asarray(a)
    return tensor(np.ascontiguousarray(a).reshape(a.shape), dtype=dtype, device=like.device)


def _meta_name(dt):
    """The name torch's dtype-mismatch messages use (caffe2 TypeMeta): float, double, long int, ..."""
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
            "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}[str(dt).split(".")[-1]]


def _dtype_name(dt):
    return {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}[str(dt).split(".")[-1]]


def _is_float(t):
    return t.dtype.is_floating_point


def _is_int(t):
    return not t.dtype.is_floating_point and t.dtype != _bool()


def _bool():
    from ._types import bool_
    return bool_


def _float_of(t):
    """The float dtype an integer/bool input is computed in (the default dtype), as torch's unary float ops."""
    from ._creation import get_default_dtype
    return t.dtype if _is_float(t) else get_default_dtype()


def _not_implemented(op, t):
    raise NotImplementedError(f'"{op}" not implemented for \'{_dtype_name(t.dtype)}\'')


def _inplace(self, result):
    """Writes result into self as torch's in-place ops do: same shape (no broadcasting of self) and a result
    dtype that can be cast to self's (no float into an integer tensor, no number into bool)."""
    if tuple(result.shape) != tuple(self.shape):
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                           f"{list(result.shape)}")
    def kind(dt):
        return 2 if dt.is_floating_point else (0 if dt == _bool() else 1)
    if kind(result.dtype) > kind(self.dtype):
        raise RuntimeError(f"result type {_dtype_name(result.dtype)} can't be cast to the desired output type "
                           f"{_dtype_name(self.dtype)}")
    self.copy_(result)
    return self


def _make_inplace(fn):
    @functools.wraps(fn)   # fn's signature (for help() and the stubs)
    def method_(self, *args, **kwargs):
        return _inplace(self, fn(self, *args, **kwargs))
    method_.__name__ = method_.__qualname__ = fn.__name__ + "_"
    method_.__doc__ = f"In-place form of {fn.__name__}."
    return method_


def _where(cond, a, b):
    return _C.where(cond, a, b)


def _zeros_like(t, dtype=None):
    from ._creation import zeros_like
    return zeros_like(t, dtype=dtype)


# ------------------------------------------------------------------------------------------ pointwise
def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2 (broadcast)."""
    prod = tensor1 * tensor2
    value = _factor(value, prod if _is_float(prod) else input)
    return input + (prod * value if value != 1 else prod)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 / tensor2 (true division); integer tensor1/tensor2 are refused as in torch."""
    if not _is_float(tensor1) and not _is_float(tensor2):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release addcdiv will perform "
            "a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as "
            "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
            "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter "
            "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    q = tensor1 / tensor2
    return input + (q * value if value != 1 else q)


def lerp(input, end, weight, *, out=None):
    """input + weight * (end - input), evaluated as torch does: from `end` backwards when |weight| >= 0.5
    (exact at weight 1)."""
    if not _is_tensor(end):
        raise TypeError(f"lerp() received an invalid combination of arguments - got (Tensor, "
                        f"{type(end).__name__}, {type(weight).__name__}), but expected a Tensor end")
    if end.dtype != input.dtype:
        raise RuntimeError(f"expected dtype {_meta_name(input.dtype)} for `end` but got dtype "
                           f"{_meta_name(end.dtype)}")
    if not _is_float(input):
        _not_implemented("lerp_kernel_scalar" if not _is_tensor(weight) else "lerp_kernel_tensor", input)
    if _is_tensor(weight) and weight.dtype != input.dtype:
        raise RuntimeError(f"expected dtype {_meta_name(input.dtype)} for `weight` but got dtype "
                           f"{_meta_name(weight.dtype)}")
    diff = end - input
    if not _is_tensor(weight):
        return input + diff * weight if abs(weight) < 0.5 else end - diff * (1 - weight)
    return _where(weight.abs() < 0.5, input + weight * diff, end - diff * (1 - weight))


def _fminmax(input, other, ge):
    if not _is_tensor(other):
        raise TypeError(f"{'fmax' if ge else 'fmin'}(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    pick = (input >= other) if ge else (input <= other)
    if _is_float(input) or _is_float(other):
        pick = pick.logical_or(other.isnan())   # a NaN loses to a number; both NaN: NaN
    return _where(pick, input, other)


def fmax(input, other, *, out=None):
    """Elementwise maximum that ignores NaN (NaN only where both are NaN); ties pass the gradient to input."""
    return _fminmax(input, other, True)


def fmin(input, other, *, out=None):
    """Elementwise minimum that ignores NaN (NaN only where both are NaN); ties pass the gradient to input."""
    return _fminmax(input, other, False)


def _int_pair(input, other, op):
    other = _as_tensor(other, input)
    for t in (input, other):
        if not _is_int(t):
            _not_implemented(op, t)
    dt = _C.promote_types(input.dtype, other.dtype)
    return input.to(dt), other.to(dt)


def gcd(input, other, *, out=None):
    """Greatest common divisor of integers, elementwise (non-negative; gcd(0, 0) = 0)."""
    a, b = _int_pair(input, other, "gcd_cpu")
    a, b = (a.abs() + b * 0), (b.abs() + a * 0)   # broadcast both to the result's shape
    while bool((b != 0).any()):   # Euclid on all elements at once: at most ~log(max) rounds
        nz = b != 0
        safe = _where(nz, b, b * 0 + 1)
        a, b = _where(nz, b, a), _where(nz, a.remainder(safe), b)
    return a


def lcm(input, other, *, out=None):
    """Least common multiple of integers, elementwise (non-negative; 0 when either is 0)."""
    a, b = _int_pair(input, other, "lcm_cpu")
    g = gcd(a, b)
    safe = _where(g == 0, g * 0 + 1, g)
    return _where(g == 0, g * 0, (a.div(safe, rounding_mode="trunc") * b).abs())


def ldexp(input, other, *, out=None):
    """input * 2**other (a float result)."""
    return input * _two_pow(_as_tensor(other, input))


def _two_pow(e):
    from ._creation import full_like
    base = full_like(e, 2.0, dtype=_float_of(e) if not _is_float(e) else e.dtype)
    return base.pow(e)


def frexp(input, *, out=None):
    """(mantissa, exponent) with input = mantissa * 2**exponent, 0.5 <= |mantissa| < 1; exponent is int32."""
    if not _is_float(input):
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    _, e = np.frexp(_np(input))
    exponent = _from_np(e.astype(np.int32), input)
    mantissa = input / _two_pow(exponent.to(input.dtype))   # exact: a power of two; the gradient is grad/2**e
    return _frexp_t(mantissa, exponent)


def signbit(input, *, out=None):
    """Whether the sign bit is set (true for -0.0 and negative NaN)."""
    if _is_float(input):
        from ._creation import ones_like
        return ones_like(input).copysign(input.detach()) < 0
    return input.detach() < 0 if input.dtype != _bool() else _zeros_like(input, dtype=_bool())


def deg2rad(input, *, out=None):
    if not _is_float(input):
        input = input.to(_float_of(input))
    return input * (math.pi / 180.0)


def rad2deg(input, *, out=None):
    if not _is_float(input):
        input = input.to(_float_of(input))
    return input * (180.0 / math.pi)


def isneginf(input, *, out=None):
    if not _is_float(input):
        return _zeros_like(input, dtype=_bool())
    return input.isinf().logical_and(input < 0)


def isposinf(input, *, out=None):
    if not _is_float(input):
        return _zeros_like(input, dtype=_bool())
    return input.isinf().logical_and(input > 0)


def isreal(input):
    """True everywhere: minitorch has no complex dtypes."""
    from ._creation import ones_like
    return ones_like(input, dtype=_bool())


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of `elements` occurs in `test_elements` (either may be a number)."""
    if not _is_tensor(elements) and not _is_tensor(test_elements):
        raise TypeError("isin() received an invalid combination of arguments - got (Scalar, Scalar)")
    like = elements if _is_tensor(elements) else test_elements
    for t in (elements, test_elements):
        if (_is_tensor(t) and t.dtype == _bool()) or isinstance(t, bool):
            raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    a = _np(elements) if _is_tensor(elements) else np.asarray(elements)
    b = _np(test_elements) if _is_tensor(test_elements) else np.asarray(test_elements)
    if _is_tensor(elements) and _is_tensor(test_elements) and elements.dtype != test_elements.dtype:
        dt = _C.promote_types(elements.dtype, test_elements.dtype)
        a, b = _np(elements.to(dt)), _np(test_elements.to(dt))
    return _from_np(np.isin(a, b, invert=invert).reshape(np.shape(a)), like)


def mvlgamma(input, p, *, out=None):
    """The multivariate log-gamma of dimension p: sum_j lgamma(input - j/2) + p(p-1)/4 log(pi)."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if not _is_float(input):
        input = input.to(_float_of(input))
    # torch 2.13 no longer checks input > (p-1)/2: lgamma's poles give inf there
    out = input.lgamma()
    for j in range(1, p):
        out = out + (input - j / 2).lgamma()
    return out + p * (p - 1) / 4 * math.log(math.pi)


_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
           -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
           1.8152105401943546773e17, -7.1661652561756670113e18)


def _hurwitz_zeta(s, q):
    """zeta(s, q) = sum_k (q + k)^-s for an integer s > 1, by Cephes' Euler-Maclaurin summation (torch's): the
    first N terms directly (N >= 9 with q + N > 9 for every element), then the tail's integral and Bernoulli
    corrections. Composed of ops, so it is differentiable in q."""
    qmin = float(q.detach().min()) if q.numel() else 0.0
    big = 9 if not math.isfinite(qmin) else max(9, int(math.ceil(9 - qmin)) + 1)
    total = q.pow(-s)
    for k in range(1, big + 1):
        total = total + (q + k).pow(-s)
    w = q + big
    b = w.pow(-s)
    total = total + b * w / (s - 1) - 0.5 * b
    a, kk = 1.0, 0.0
    for i in range(12):
        a *= s + kk
        b = b / w
        total = total + b * (a / _ZETA_A[i])
        kk += 1.0
        a *= s + kk
        b = b / w
        kk += 1.0
    # q a non-positive integer: a pole
    pole = (q <= 0).logical_and(q == q.floor())
    from ._creation import full_like
    return _where(pole, full_like(total, float("inf")), total)


def _trigamma_composite(x):
    """torch's trigamma (the C kernel's formula: reflection below 0.5, six recurrence steps, then the asymptotic
    series) composed of ops, so that it has a derivative."""
    small = x < 0.5
    sin_pi_x = (x * math.pi).sin()
    refl = -(math.pi * math.pi) / (sin_pi_x * sin_pi_x)
    y = _where(small, 1 - x, x)
    result = _where(small, refl, _zeros_like(x))
    for _ in range(6):
        result = result + 1 / (y * y)
        y = y + 1
    ixx = 1 / (y * y)
    result = result + (1 + 1 / (2 * y) + ixx * (1. / 6 - ixx * (1. / 30 - ixx * (1. / 42)))) / y
    return _where(small, -result, result)


def polygamma(n, input, *, out=None):
    """The n-th derivative of digamma: digamma (n = 0), trigamma (n = 1), and (-1)^(n+1) n! zeta(n+1, x) above."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if not _is_float(input):
        input = input.to(_float_of(input))
    if n == 0:
        return input.digamma()
    if n == 1:
        if not (input.requires_grad and _C.is_grad_enabled()):
            return input._trigamma()
        return _trigamma_composite(input)   # the C kernel has no derivative
    sign = 1.0 if n % 2 else -1.0
    # evaluated in float64 (the tail sums many terms), returned in input's dtype
    z = _hurwitz_zeta(n + 1, input.to(float64))
    return (z * (sign * math.exp(math.lgamma(n + 1.0)))).to(input.dtype)


# ------------------------------------------------------------------------------------------ products
def _factor(value, t):
    """A scalar factor (value/alpha/beta) for a result of t's dtype: torch truncates a float one for an integer
    result (addcmul(int, ..., value=0.5) multiplies by 0)."""
    if isinstance(value, float) and not _is_float(t) and math.isfinite(value):
        return int(value)
    return value


def _beta_alpha(input, prod, beta, alpha, checked=False):
    """beta * input + alpha * prod; beta == 0 ignores input (NaN and inf included), as torch. input must
    broadcast to prod's shape (not the other way)."""
    if not checked:
        _expand_check(input, prod.shape)
    beta, alpha = _factor(beta, prod), _factor(alpha, prod)
    p = prod * alpha if alpha != 1 else prod
    if beta == 0:   # input's NaN/inf do not reach the result; its gradient is zero (still connected)
        from ._creation import ones_like
        return p + _where(ones_like(input, dtype=_bool()), _zeros_like(input), input)
    return (input * beta if beta != 1 else input) + p


def mv(input, vec, *, out=None):
    """Matrix-vector product: input (n, m) @ vec (m,)."""
    if input.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.dim()}, {vec.dim()}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat ({input.shape[0]}x{input.shape[1]}),"
                           f" vec ({vec.shape[0]})")
    if input.dtype != vec.dtype:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {_dtype_name(vec.dtype)}, "
                           f"{_dtype_name(input.dtype)}, and {_dtype_name(vec.dtype)}")
    return input.matmul(vec)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat @ vec)."""
    if mat.dim() != 2 or vec.dim() != 1 or input.dim() > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}, {mat.dim()}, {vec.dim()}")
    if mat.shape[1] != vec.shape[0] or (input.dim() == 1 and input.shape[0] not in (1, mat.shape[0])):
        raise RuntimeError(f"size mismatch, got input ({input.shape[0] if input.dim() else 1}), mat "
                           f"({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    return _beta_alpha(input, mv(mat, vec), beta, alpha, True)


def ger(input, vec2, *, out=None):
    """The outer product of two 1-D tensors (torch.outer's older name)."""
    return outer(input, vec2)


def outer(input, vec2):
    if input.dim() != 1 or vec2.dim() != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input.dim()}-D" if input.dim() != 1 else
                           f"outer: Expected 1-D argument vec2, but got {vec2.dim()}-D")
    return input.outer(vec2)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * outer(vec1, vec2)."""
    if vec1.dim() != 1 or vec2.dim() != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {vec1.dim()}-D" if vec1.dim() != 1 else
                           f"addr: Expected 1-D argument vec2, but got {vec2.dim()}-D")
    if input.dtype == _bool() and vec1.dtype == _bool():
        o = vec1.reshape(-1, 1).logical_and(vec2.reshape(1, -1))
        return (input if beta else _zeros_like(input)).logical_or(o if alpha else _zeros_like(o))
    return _beta_alpha(input, vec1.outer(vec2), beta, alpha)


def _expand_check(t, shape):
    """torch's message when t does not expand to shape."""
    shape = list(shape)
    ts = list(t.shape)
    ok = len(ts) <= len(shape) and all(a == b or a == 1 for a, b in zip(ts[::-1], shape[::-1]))
    if not ok:
        for i in range(1, len(ts) + 1):
            if i > len(shape) or (ts[-i] != 1 and ts[-i] != shape[-i]):
                break
        dim = len(shape) - i
        raise RuntimeError(f"The expanded size of the tensor ({shape[-i] if i <= len(shape) else ''}) must match the "
                           f"existing size ({ts[-i]}) at non-singleton dimension {dim}.  Target sizes: {shape}.  "
                           f"Tensor sizes: {ts}")


def _bmm_check(b1, b2, name):
    if b1.dim() != 3 or b2.dim() != 3:
        if name == "addbmm" and b1.dim() != 3:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-max(b1.dim(), 1)}, "
                             f"{max(b1.dim(), 1) - 1}], but got 2)")
        raise RuntimeError(f"batch1 must be a 3D tensor" if b1.dim() != 3 else "batch2 must be a 3D tensor")
    if name == "baddbmm" and (b2.shape[0] != b1.shape[0] or b2.shape[1] != b1.shape[2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{b1.shape[0]}, "
                           f"{b1.shape[2]}] but got: [{b2.shape[0]}, {b2.shape[1]}].")
    if b1.shape[0] != b2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {b1.shape[0]} and "
                           f"{b2.shape[0]}")
    if b1.shape[2] != b2.shape[1]:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({b1.shape[1]}x{b1.shape[2]} and "
                           f"{b2.shape[1]}x{b2.shape[2]})")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (batch1 @ batch2), per batch."""
    _bmm_check(batch1, batch2, "baddbmm")
    return _beta_alpha(input, batch1.bmm(batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]."""
    _bmm_check(batch1, batch2, "addbmm")
    n, m = batch1.shape[1], batch2.shape[2]
    # one GEMM: (n, b*k) @ (b*k, m) sums the batch products
    a = batch1.permute(1, 0, 2).reshape(n, -1)
    b = batch2.reshape(-1, m)
    return _beta_alpha(input, a.mm(b), beta, alpha)


def inner(input, other, *, out=None):
    """Sum of products over the last dims (a number times a tensor for 0-d operands)."""
    if input.dim() == 0 or other.dim() == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, dims=([-1], [-1]))


def vdot(input, other, *, out=None):
    """Dot product of two 1-D tensors (no conjugation needed: minitorch has no complex dtypes)."""
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {other.dim()}D tensors")
    if input.dtype != other.dtype:
        raise RuntimeError(f"vdot : expected both vectors to have same dtype, but found "
                           f"{_dtype_name(input.dtype)} and {_dtype_name(other.dtype)}")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
                           f"[{other.shape[0]}] to have the same number of elements, but got {input.shape[0]} "
                           f"and {other.shape[0]} elements respectively")
    return input.dot(other)


def tensordot(a, b, dims=2, out=None):
    """Contracts dims of a with dims of b: dims an int (the last `dims` of a with the first of b) or a pair
    of dim lists."""
    if _is_tensor(dims):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.dim() or dims > b.dim():
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(a.dim() - dims, a.dim())), list(range(dims))
    else:
        if len(dims) != 2:
            raise RuntimeError("tensordot expects dims to be a pair of lists or an int")
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
    da = [_wrap(d, a.dim()) for d in da]
    db = [_wrap(d, b.dim()) for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[x]} in dim {x} "
                               f"and second has size {b.shape[y]} in dim {y}")
    fa = [d for d in range(a.dim()) if d not in da]
    fb = [d for d in range(b.dim()) if d not in db]
    k = 1
    for d in da:
        k *= a.shape[d]
    sa, sb = [a.shape[d] for d in fa], [b.shape[d] for d in fb]
    ma = a.permute(fa + da).reshape(int(np.prod(sa)), k)
    mb = b.permute(db + fb).reshape(k, int(np.prod(sb)))
    return ma.mm(mb).reshape(sa + sb)


def chain_matmul(*matrices, out=None):
    """Deprecated: the product of 2-D matrices (torch.linalg.multi_dot)."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
                  "parameters.", UserWarning, stacklevel=2)
    if len(matrices) == 0:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    if len(matrices) == 1:
        if matrices[0].dim() != 2:
            raise RuntimeError(f"Tensor dimension is {matrices[0].dim()}, expected 2 instead.")
        return matrices[0].clone()
    from .linalg import multi_dot
    return multi_dot(list(matrices))


def cross(input, other, dim=None, *, out=None):
    """Cross product of 3-vectors along dim; dim=None: the first dim of size 3 (deprecated in torch: it warns)."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        shape = _C.broadcast_shapes(input.shape, other.shape) if hasattr(_C, "broadcast_shapes") else \
            np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input")
    from .linalg import cross as lcross
    return lcross(input, other, dim=dim)


# ------------------------------------------------------------------------------------------ reductions
def aminmax(input, *, dim=None, keepdim=False, out=None):
    """(min, max) over all elements or along dim."""
    if input.numel() == 0 and dim is None:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    if dim is not None and input.dim() and input.shape[_wrap(dim, input.dim())] == 0:
        raise IndexError(f"aminmax: Expected reduction dim {_wrap(dim, input.dim())} to have non-zero size.")
    if dim is None:
        if keepdim:
            shape = [1] * input.dim()
            return _aminmax_t(input.amin().reshape(shape), input.amax().reshape(shape))
        return _aminmax_t(input.amin(), input.amax())
    return _aminmax_t(input.amin(dim, keepdim), input.amax(dim, keepdim))


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum treating NaN as zero."""
    x = _where(input.isnan(), _zeros_like(input), input) if _is_float(input) else input
    kw = {} if dtype is None else {"dtype": dtype}
    if dim is None:
        return x.sum(**kw) if not keepdim else x.sum(dim=tuple(range(input.dim())), keepdim=True, **kw)
    return x.sum(dim, keepdim, **kw)


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of the non-NaN elements (NaN where there is none)."""
    if not _is_float(input):
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_dtype_name(input.dtype)}")
    count = nansum(input.isnan().logical_not(), dim, keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / count


def _var_mean(fn, input, dim, unbiased, keepdim, correction):
    if not _is_float(input):
        raise RuntimeError(f"{fn}_mean only support floating point and complex dtypes")
    if isinstance(dim, bool):     # var_mean(input, unbiased)
        unbiased, dim = dim, None
    kw = {}
    if correction is not None:
        kw["correction"] = correction
    elif unbiased is not None:
        kw["unbiased"] = unbiased
    if dim is None:
        if keepdim:
            dims = tuple(range(input.dim()))
            return getattr(input, fn)(dims, keepdim=True, **kw), input.mean(dims, keepdim=True)
        return getattr(input, fn)(**kw), input.mean()
    return getattr(input, fn)(dim, keepdim=keepdim, **kw), input.mean(dim, keepdim=keepdim)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """(var, mean) over dim (var_mean(input, unbiased) and correction= forms as torch)."""
    return _var_mean("var", input, dim, unbiased, keepdim, correction)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """(std, mean) over dim (std_mean(input, unbiased) and correction= forms as torch)."""
    return _var_mean("std", input, dim, unbiased, keepdim, correction)


def _moved(input, dim):
    """input as a NumPy array with `dim` last (a 0-d input is one element), and the wrapped dim."""
    d = _wrap(dim, input.dim())
    a = _np(input).reshape(-1) if input.dim() == 0 else np.moveaxis(_np(input), d, -1)
    return a, d


def _by_index(input, idx_last, d, keepdim, cls):
    """Values gathered from input at indices computed with the reduced dim last (shape (..., 1))."""
    if input.dim() == 0:
        idx = _from_np(np.zeros((), np.int64), input)
        return cls(input.clone(), idx)
    idx = _from_np(np.moveaxis(idx_last, -1, d).astype(np.int64), input)
    values = input.gather(d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return cls(values, idx)


def _check_nonempty_dim(input, d, name):
    if input.dim() and input.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _median_dim(input, dim, keepdim, ignore_nan, cls, name):
    if input.dtype == _bool():
        _not_implemented("median_out", input)
    a, d = _moved(input, dim)
    _check_nonempty_dim(input, d, name)
    # torch picks element k of the stable (value, index) order; NaN sorts last; median with a NaN: its first NaN
    order = np.argsort(a, axis=-1, kind="stable")
    n = a.shape[-1]
    nan = np.isnan(a) if _is_float(input) else np.zeros(a.shape, bool)
    if ignore_nan:
        k = np.maximum(n - nan.sum(-1, keepdims=True) - 1, 0) // 2
    else:
        k = np.full(a.shape[:-1] + (1,), (n - 1) // 2)
    idx = np.take_along_axis(order, k, -1)
    if not ignore_nan and nan.any():
        has = nan.any(-1, keepdims=True)
        idx = np.where(has, np.argmax(nan, -1)[..., None], idx)
    return _by_index(input, idx, d, keepdim, cls)


def _median_all(input, ignore_nan, name):
    from ._creation import full
    if input.numel() == 0:   # torch's NaN, cast: the smallest integer, True for bool
        if _is_float(input):
            fill = float("nan")
        elif input.dtype == _bool():
            fill = True
        else:
            from ._types import iinfo
            fill = iinfo(input.dtype).min
        return full((), fill, dtype=input.dtype, device=input.device)
    if input.dtype == _bool():
        _not_implemented("median_cpu", input)
    flat = input.reshape(-1)
    value = _median_dim(flat.detach(), 0, False, ignore_nan, _median_t, name).values
    if not (input.requires_grad and _C.is_grad_enabled()):
        return value
    # torch spreads the gradient evenly over every element equal to the median (NaN: over the NaNs)
    mask = input.isnan() if bool(value.isnan()) else input == value
    return _median_grad().apply(input, value, mask.to(input.dtype))


def _median_grad():
    from .autograd import Function

    class MedianBackward0(Function):
        @staticmethod
        def forward(ctx, x, value, mask):
            ctx.save_for_backward(mask)
            return value.clone()

        @staticmethod
        def backward(ctx, grad):
            mask, = ctx.saved_tensors
            return grad * mask / mask.sum(), None, None
    return MedianBackward0


def median(input, dim=None, keepdim=False, *, out=None):
    """The lower median (of all elements, or values and indices along dim); NaN propagates."""
    if dim is None:
        return _median_all(input, False, "median")
    return _median_dim(input, dim, keepdim, False, _median_t, "median")


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """The lower median ignoring NaN (NaN only where all are NaN)."""
    if dim is None:
        return _median_all(input, True, "nanmedian")
    return _median_dim(input, dim, keepdim, True, _nanmedian_t, "nanmedian")


def _std_sort(keys):
    """The permutation libstdc++'s std::sort (introsort, then insertion sort) leaves for `keys` compared with
    `<` only: torch's CPU mode sorts (value, index) pairs so, and its index choice among equal values follows."""
    a = list(range(len(keys)))

    def lt(i, j):
        return keys[i] < keys[j]

    def adjust_heap(first, hole, n, value):
        top, child = hole, hole
        while child < (n - 1) // 2:
            child = 2 * (child + 1)
            if lt(a[first + child], a[first + child - 1]):
                child -= 1
            a[first + hole] = a[first + child]
            hole = child
        if n % 2 == 0 and child == (n - 2) // 2:
            child = 2 * (child + 1)
            a[first + hole] = a[first + child - 1]
            hole = child - 1
        parent = (hole - 1) // 2
        while hole > top and lt(a[first + parent], value):
            a[first + hole] = a[first + parent]
            hole = parent
            parent = (hole - 1) // 2
        a[first + hole] = value

    def heap_sort(first, last):
        n = last - first
        if n >= 2:
            for parent in range((n - 2) // 2, -1, -1):
                adjust_heap(first, parent, n, a[first + parent])
        while last - first > 1:
            last -= 1
            value = a[last]
            a[last] = a[first]
            adjust_heap(first, 0, last - first, value)

    def introsort(first, last, depth):
        while last - first > 16:
            if depth == 0:
                heap_sort(first, last)
                return
            depth -= 1
            x, y, z = first + 1, first + (last - first) // 2, last - 1   # median of three moved to first
            if lt(a[x], a[y]):
                m = y if lt(a[y], a[z]) else (z if lt(a[x], a[z]) else x)
            else:
                m = x if lt(a[x], a[z]) else (z if lt(a[y], a[z]) else y)
            a[first], a[m] = a[m], a[first]
            lo, hi, piv = first + 1, last, a[first]
            while True:
                while lt(a[lo], piv):
                    lo += 1
                hi -= 1
                while lt(piv, a[hi]):
                    hi -= 1
                if not lo < hi:
                    break
                a[lo], a[hi] = a[hi], a[lo]
                lo += 1
            introsort(lo, last, depth)
            last = lo

    def linear_insert(i):
        v = a[i]
        while lt(v, a[i - 1]):
            a[i] = a[i - 1]
            i -= 1
        a[i] = v

    def insertion_sort(first, last):
        for i in range(first + 1, last):
            if lt(a[i], a[first]):
                v = a[i]
                a[first + 1:i + 1] = a[first:i]
                a[first] = v
            else:
                linear_insert(i)

    n = len(a)
    if n:
        introsort(0, n, 2 * (n.bit_length() - 1))
        if n > 16:
            insertion_sort(0, 16)
            for i in range(16, n):
                linear_insert(i)
        else:
            insertion_sort(0, n)
    return a


def mode(input, dim=-1, keepdim=False, *, out=None):
    """The most frequent value along dim (the smallest among ties) and an index of it: the one torch's CPU
    kernel returns (the last of its run after libstdc++'s std::sort)."""
    a, d = _moved(input, dim)
    if input.dim() and input.shape[d] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    n = a.shape[-1]
    rows = a.reshape(-1, n)
    out = np.zeros(rows.shape[0], np.int64)
    for r, row in enumerate(rows):
        if np.unique(row).size == n and not (_is_float(input) and np.isnan(row).any()):
            out[r] = int(np.argmin(row))     # all distinct: the mode is the smallest value, once
            continue
        keys = row.tolist()
        order = _std_sort(keys)
        best, best_len, run = 0, 0, 0
        for i in range(n):   # torch: a run ends where the next value differs (NaN != NaN); strict > keeps the first
            run += 1
            if i == n - 1 or keys[order[i]] != keys[order[i + 1]]:
                if run > best_len:
                    best, best_len = order[i], run
                run = 0
        out[r] = best
    return _by_index(input, out.reshape(a.shape[:-1] + (1,)), d, keepdim, _mode_t)


def _quickselect(row, k):
    """The index torch's CPU kthvalue returns: its median-of-three quickselect (SortingUtils.h), NaN largest."""
    arr = list(row)
    ind = list(range(len(arr)))

    def gt(x, y):
        return (x != x and y == y) or x > y

    def swap(i, j):
        arr[i], arr[j] = arr[j], arr[i]
        ind[i], ind[j] = ind[j], ind[i]

    L, R = 0, len(arr) - 1
    while True:
        if R <= L:
            break
        if R == L + 1:
            if gt(arr[L], arr[R]):
                swap(L, R)
            break
        P = L + (R - L) // 2
        swap(P, L + 1)
        if gt(arr[L + 1], arr[R]):
            swap(L + 1, R)
        if gt(arr[L], arr[R]):
            swap(L, R)
        if gt(arr[L + 1], arr[L]):
            swap(L + 1, L)
        i, j = L + 1, R
        piv = arr[L]
        while True:
            i += 1
            while gt(piv, arr[i]):
                i += 1
            j -= 1
            while gt(arr[j], piv):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(L, j)
        if j <= k:
            L = i
        if j >= k:
            R = j - 1
    return ind[k]


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The k-th smallest value along dim and its index (torch's choice among equal values)."""
    a, d = _moved(input, dim)
    n = a.shape[-1]
    if input.dtype == _bool():
        _not_implemented("kthvalue_cpu", input)
    _check_nonempty_dim(input, d, "kthvalue")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    rows = a.reshape(-1, n)
    out = np.zeros(rows.shape[0], np.int64)
    for r, row in enumerate(rows):
        if np.unique(row).size == n and not (_is_float(input) and np.isnan(row).any()):
            out[r] = np.argpartition(row, k - 1)[k - 1]   # distinct values: any selection agrees
        else:
            out[r] = _quickselect(row.tolist(), k - 1)
    return _by_index(input, out.reshape(a.shape[:-1] + (1,)), d, keepdim, _kthvalue_t)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, name):
    if not _is_float(input) or input.dtype not in (float32, float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest. "
                           f"Got '{interpolation}'")
    scalar_q = not _is_tensor(q) or q.dim() == 0    # a 0-d q adds no dim, as a number
    if not _is_tensor(q):
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        from ._creation import tensor
        qt = tensor([q], dtype=input.dtype, device=input.device)
    else:
        if q.dim() > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype != input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        if bool(((q < 0) | (q > 1)).any()):
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
        qt = q.reshape(-1)
    if dim is None:
        x = input.reshape(-1)
        d = 0
    else:
        d = _wrap(dim, input.dim())
        x = input.permute([i for i in range(input.dim()) if i != d] + [d]) if input.dim() else input.reshape(1)
    srt = x.sort(dim=-1).values                        # (..., n), NaN last
    n = srt.shape[-1]
    nq = qt.shape[0]
    lead = list(srt.shape[:-1])
    qb = qt.reshape([1] * len(lead) + [nq]).detach()
    nan = srt.isnan()
    if ignore_nan:
        cnt = nan.logical_not().sum(-1, keepdim=True).to(input.dtype)
        ranks = qb * (cnt - 1)
        ranks = _where(ranks < 0, _zeros_like(ranks), ranks)
    else:
        ranks = qb * (n - 1) + _zeros_like(srt[..., :1])
        ranks = _where(nan.any(-1, keepdim=True), _zeros_like(ranks) + (n - 1), ranks)
    if interpolation == "lower":
        ranks = ranks.floor()
    elif interpolation == "higher":
        ranks = ranks.ceil()
    elif interpolation == "nearest":
        ranks = ranks.round()
    below = ranks.to(int64)
    out = srt.gather(-1, below)
    if interpolation in ("linear", "midpoint"):
        w = ranks - below.to(input.dtype) if interpolation == "linear" else _zeros_like(ranks) + 0.5
        above = srt.gather(-1, ranks.ceil().to(int64))
        out = lerp(out, above, w)
    # out: (..., nq) -> (nq, ...) with the reduced dim restored for keepdim
    out = out.permute([len(lead)] + list(range(len(lead))))
    if keepdim:
        if dim is None:
            out = out.reshape([nq] + [1] * input.dim())
        elif input.dim():
            out = out.unsqueeze(d + 1)
    return out.squeeze(0) if scalar_q else out


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The q-th quantiles along dim (q a number or 1-D tensor: its dim comes first); NaN propagates."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """quantile ignoring NaN (NaN where a row is all NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


def msort(input, *, out=None):
    """input sorted along its first dim."""
    return input.sort(dim=0).values


def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):
    """The n-th forward difference along dim (bool: !=), after prepend/append are concatenated."""
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _wrap(dim, input.dim())
    parts = [_as_tensor(t, input) for t in (prepend, input, append) if t is not None]
    for t in parts:
        if t.dim() != input.dim():
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        for i in range(input.dim()):
            if i != d and t.shape[i] != input.shape[i]:
                raise RuntimeError(f"diff expects the shape of tensor to prepend or append to match that of input "
                                   f"except along the differencing dimension; input.size({i}) = {input.shape[i]}, "
                                   f"but got tensor.size({i}) = {t.shape[i]}")
    x = _C.cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        size = x.shape[d]
        if size == 0:
            break
        a, b = x.narrow(d, 1, size - 1), x.narrow(d, 0, size - 1)
        x = a.logical_xor(b) if x.dtype == _bool() else a - b
    return x


def _spacing_list(input, spacing, dims, dim_given):
    if isinstance(spacing, (int, float)) and not isinstance(spacing, bool):
        return [spacing] * len(dims)
    if _is_tensor(spacing):
        spacing = [spacing]
    spacing = list(spacing)
    if dim_given is False and len(spacing) != input.dim():
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar, or a list of length equal "
                           f"to 'self.dim() = {input.dim()}', since dim argument was not given, but got a list of "
                           f"length {len(spacing)}")
    if len(spacing) != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
                           f"arguments to have the same length, but got a spacing argument of length "
                           f"{len(spacing)} and a dim argument of length {len(dims)}.")
    return spacing


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Central differences in the interior and one-sided (edge_order 1 or 2) at the ends, along each dim;
    spacing: a number, one number per dim, or one coordinate tensor per dim. Returns one tensor per dim."""
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if dim is None:
        dims = list(range(input.dim()))
    else:
        dims = [dim] if isinstance(dim, int) else list(dim)
        dims = [_wrap(x, input.dim()) for x in dims]
    sp = _spacing_list(input, spacing, dims, dim is not None)
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    x = input if _is_float(input) else input.to(_float_of(input))
    out = []
    for d, h in zip(dims, sp):
        n = x.shape[d]

        def s(a, b):   # slice [a, b) along d
            a, b = a % n if a < 0 else a, (b % n if b < 0 else b) if b is not None else n
            return x.narrow(d, a, b - a)
        if not _is_tensor(h):
            center = (s(2, None) - s(0, -2)) / (2 * h)
            if edge_order == 1:
                first = (s(1, 2) - s(0, 1)) / h
                last = (s(-1, None) - s(-2, -1)) / h
            else:
                first = (s(0, 1) * -1.5 + s(1, 2) * 2 - s(2, 3) * 0.5) / h
                last = (s(-3, -2) * 0.5 - s(-2, -1) * 2 + s(-1, None) * 1.5) / h
        else:
            if h.dim() != 1 or h.shape[0] != n:
                raise RuntimeError(f"torch.gradient expected each tensor to be on the same device, and each "
                                   f"tensor's size to match the input's size along dim {d}")
            h = h.to(x.dtype)
            shape = [1] * x.dim()
            shape[d] = -1

            def c(t):
                return t.reshape(shape)
            dx = h[1:] - h[:-1]
            dx1, dx2 = dx[:-1], dx[1:]
            a = c(-dx2 / (dx1 * (dx1 + dx2)))
            b = c((dx2 - dx1) / (dx1 * dx2))
            cc = c(dx1 / (dx2 * (dx1 + dx2)))
            center = a * s(0, -2) + b * s(1, -1) + cc * s(2, None)
            if edge_order == 1:
                first = (s(1, 2) - s(0, 1)) / dx[0]
                last = (s(-1, None) - s(-2, -1)) / dx[-1]
            else:
                h1, h2 = dx[0], dx[1]
                first = (s(0, 1) * (-(2 * h1 + h2) / (h1 * (h1 + h2))) + s(1, 2) * ((h1 + h2) / (h1 * h2))
                         + s(2, 3) * (-h1 / (h2 * (h1 + h2))))
                h1, h2 = dx[-2], dx[-1]
                last = (s(-3, -2) * (h2 / (h1 * (h1 + h2))) + s(-2, -1) * (-(h2 + h1) / (h1 * h2))
                        + s(-1, None) * ((2 * h2 + h1) / (h2 * (h1 + h2))))
        out.append(_C.cat([first, center, last], d))
    return tuple(out)


def _trapz_dx(y, dx, d):
    n = y.shape[d]
    if n == 0:
        return y.sum(d)
    return (y.sum(d) - (y.select(d, 0) + y.select(d, n - 1)) * 0.5) * dx


def _trapz_x(y, x, d):
    n = y.shape[d]
    if x.dim() == 1:
        if x.shape[0] != n:
            raise RuntimeError(f"trapezoid: There must be one `x` value for each sample point")
        shape = [1] * y.dim()
        shape[d] = -1
        x = x.reshape(shape)
        xd = d
    else:
        xd = d if x.dim() == y.dim() else _wrap(d - y.dim(), x.dim())
    if n == 0:
        return y.sum(d)
    dxs = x.narrow(xd, 1, x.shape[xd] - 1) - x.narrow(xd, 0, x.shape[xd] - 1)
    return (dxs * (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1))).sum(d) / 2


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along dim, with sample points x (a tensor) or a constant spacing dx (1)."""
    d = _wrap(dim, y.dim())
    if x is not None and _is_tensor(x):
        if dx is not None:
            raise TypeError("trapezoid() received an invalid combination of arguments")
        return _trapz_x(y, x, d)
    if x is not None:
        dx = x
    return _trapz_dx(y, 1 if dx is None else dx, d)


def trapz(y, x=None, *, dx=None, dim=-1):
    """The older name of trapezoid."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal integral along dim (one element shorter than y along dim)."""
    d = _wrap(dim, y.dim())
    n = y.shape[d]
    if n == 0:
        return y
    mid = y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)
    if x is not None and _is_tensor(x):
        if dx is not None:
            raise TypeError("cumulative_trapezoid() received an invalid combination of arguments - got (Tensor, "
                            "Tensor, dx=float)")
        if x.dim() == 1:
            shape = [1] * y.dim()
            shape[d] = -1
            x = x.reshape(shape)
            xd = d
        else:
            xd = d if x.dim() == y.dim() else _wrap(d - y.dim(), x.dim())
        dxs = x.narrow(xd, 1, x.shape[xd] - 1) - x.narrow(xd, 0, x.shape[xd] - 1)
        return (dxs * mid / 2).cumsum(d)
    h = 1 if dx is None and x is None else (x if x is not None else dx)
    return (mid * h / 2).cumsum(d) if h != 1 else (mid / 2).cumsum(d)


def _cov_weights(wt, name, floating, nobs):
    """cov's fweights (integral) or aweights (floating): torch's checks and messages, then the weights"""
    if wt.dim() > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
                           f"{wt.dim()} dimensions")
    if _is_float(wt) != floating:
        raise RuntimeError(f"cov(): expected {name} to have {'floating point' if floating else 'integral'} dtype "
                           f"but got {name} with {_dtype_name(wt.dtype)} dtype")
    if wt.numel() != nobs:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the "
                           f"input but got {wt.numel()} != {nobs}")
    if nobs and bool((wt < 0).any()):
        raise RuntimeError(f"cov(): {name} cannot be negative")
    return wt


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the variables in input's rows (observations in columns)."""
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.dim()} dimensions")
    if input.dtype == _bool():
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input.reshape(1, -1) if input.dim() < 2 else input
    if not _is_float(x):
        x = x.to(_float_of(x))
    nobs = x.shape[1]
    w = None
    if fweights is not None:
        w = _cov_weights(fweights, "fweights", False, nobs)
    if aweights is not None:
        aw = _cov_weights(aweights, "aweights", True, nobs)
        w = aw if w is None else w * aw
    if w is None:
        avg = x.mean(1, keepdim=True)
        norm = nobs - correction
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1, keepdim=True) / w_sum
        if aweights is not None and correction != 0:
            norm = w_sum - correction * (w * aweights).sum() / w_sum
        else:
            norm = w_sum - correction
    if (float(norm) if _is_tensor(norm) else norm) <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=2)
        norm = norm * 0 if _is_tensor(norm) else 0
    xm = x - avg
    c = xm.mm((xm if w is None else xm * w).t())
    return (c / norm).squeeze()   # as torch: one variable gives a 0-d result


def corrcoef(input):
    """Pearson correlation coefficients of input's rows (clipped to [-1, 1])."""
    c = cov(input)
    if c.dim() == 0:
        return c / c
    d = c.diagonal() if hasattr(c, "diagonal") else None
    sd = d.sqrt()
    c = c / sd.reshape(-1, 1)
    c = c / sd.reshape(1, -1)
    return c.clamp(-1, 1)


def dist(input, other, p=2):
    """The p-norm of input - other."""
    from .linalg import vector_norm
    return vector_norm(input - other, p)


def renorm(input, p, dim, maxnorm, *, out=None):
    """Each slice along dim whose p-norm exceeds maxnorm scaled to norm maxnorm."""
    if not _is_float(input):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_dtype_name(input.dtype)}")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.dim() <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} dimensions")
    d = _wrap(dim, input.dim())
    from .linalg import vector_norm
    norms = vector_norm(input, p, dim=[i for i in range(input.dim()) if i != d], keepdim=True)
    factor = _where(norms > maxnorm, maxnorm / (norms + 1e-7), _zeros_like(norms) + 1)
    return input * factor


def histogram(input, bins, *, range=None, weight=None, density=False, out=None):
    """Counts (or weight sums) of input in bins: `bins` equal-width bins over range (input's min/max by
    default) or the given edges; the last bin includes its right edge. Returns (hist, bin_edges)."""
    from ._creation import linspace
    if not _is_float(input):
        _not_implemented("histogramdd", input)
    if weight is not None and (weight.dtype != input.dtype or tuple(weight.shape) != tuple(input.shape)):
        raise RuntimeError("torch.histogram: if weight tensor is provided it should have the same shape as the "
                           "input tensor excluding its innermost dimension")
    a = _np(input).reshape(-1)
    if _is_tensor(bins):
        if bins.dtype != input.dtype:
            raise RuntimeError(f"torch.histogram: input tensor and bins tensors should have the same dtype, but "
                               f"got input {input.dtype} and bins {bins.dtype}")
        if bins.dim() != 1 or bins.numel() < 1:
            raise RuntimeError("torch.histogram: bins tensor should have one dimension and at least 1 element")
        edges = bins.detach().clone()
    else:
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
        elif a.size:
            lo, hi = float(a.min()), float(a.max())   # NaN propagates into the finiteness error, as torch
            if np.isnan(a).any():
                lo = hi = float("nan")
        else:
            lo, hi = 0.0, 1.0                          # torch's range for an empty input
        if lo > hi:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {lo:g} max {hi:g} for "
                               f"dimension 0")
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd: dimension 0's range [{lo:g}, {hi:g}] is not finite")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = linspace(lo, hi, bins + 1, dtype=input.dtype, device=input.device)
    e = _np(edges)
    nb = e.size - 1
    hist = np.zeros(max(nb, 0), np.float64)
    if nb > 0 and a.size:
        keep = (a >= e[0]) & (a <= e[-1])
        pos = np.searchsorted(e, a[keep], side="right") - 1
        pos = np.minimum(pos, nb - 1)    # the right edge belongs to the last bin
        w = _np(weight).reshape(-1)[keep] if weight is not None else None
        hist = np.bincount(pos, weights=w, minlength=nb).astype(np.float64)
    if density:
        widths = np.diff(e.astype(np.float64))
        total = hist.sum()
        hist = hist / (total * widths)
    return _histogram_t(_from_np(hist.astype(a.dtype), input), edges)


# ------------------------------------------------------------------------------------------ random
def bernoulli(input, p=None, *, generator=None, out=None):
    """Samples 0/1 with probabilities input (or a number p), in input's dtype and shape."""
    from ._creation import empty_like
    res = empty_like(input.detach())
    kw = {} if generator is None else {"generator": generator}
    return res.bernoulli_(input.detach() if p is None else p, **kw)


def _uniforms(like, generator):
    """A function drawing n float64 uniforms in [0, 1) from minitorch's generator (as NumPy, on the host)."""
    from ._creation import rand
    kw = {} if generator is None else {"generator": generator}
    return lambda n: _np(rand(n, dtype=float64, **kw)) if n else np.zeros(0)


def _poisson_np(lam, uniform):
    """torch's CPU sampler: multiplication of uniforms below rate 10, Hormann's PTRS rejection above."""
    out = np.zeros(lam.shape)
    small = (lam < 10) & (lam > 0)
    if small.any():
        enlam, prod = np.exp(-lam[small]), np.ones(small.sum())
        x, live = np.zeros(small.sum()), np.ones(small.sum(), bool)
        while live.any():
            prod[live] *= uniform(int(live.sum()))
            grow = live & (prod > enlam)
            x[grow] += 1
            live = grow
        out[small] = x
    big = lam >= 10
    if big.any():
        lb = lam[big]
        slam, loglam = np.sqrt(lb), np.log(lb)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        res, live = np.zeros(lb.shape), np.ones(lb.shape, bool)
        while live.any():
            idx = np.nonzero(live)[0]
            u = uniform(idx.size) - 0.5
            v = uniform(idx.size)
            us = 0.5 - np.abs(u)
            k = np.floor((2 * a[idx] / us + b[idx]) * u + lb[idx] + 0.43)
            ok = (us >= 0.07) & (v <= vr[idx])
            rest = ~ok & ~((k < 0) | ((us < 0.013) & (v > us)))
            with np.errstate(divide="ignore", invalid="ignore"):
                from math import lgamma
                lg = np.array([lgamma(x + 1) if x >= 0 else np.inf for x in k])
                ok |= rest & (np.log(v) + np.log(invalpha[idx]) - np.log(a[idx] / (us * us) + b[idx])
                              <= -lb[idx] + k * loglam[idx] - lg)
            res[idx[ok]] = k[ok]
            live[idx[ok]] = False
        out[big] = res
    out[np.isinf(lam)] = np.inf
    return out


def poisson(input, generator=None):
    """Samples from Poisson distributions with rates input (same dtype and shape; no gradient)."""
    if not _is_float(input):
        _not_implemented("poisson_cpu", input)
    lam = _np(input).astype(np.float64)
    if (np.isnan(lam) | (lam < 0)).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return _from_np(_poisson_np(lam, _uniforms(input, generator)), input, dtype=input.dtype)


def _stirling_tail(k):
    table = np.array([0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
                      0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
                      0.00925546218271273, 0.00833056343336287])
    kp1sq = (k + 1) * (k + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        far = (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)
    return np.where(k <= 9, table[np.clip(k, 0, 9).astype(np.int64)], far)


def _binomial_np(n, p, uniform):
    """torch's CPU sampler for p <= 0.5: geometric waiting times when n p < 10, Hormann's BTRS otherwise."""
    out = np.zeros(n.shape)
    inv = n * p < 10
    if inv.any():
        ni, logq = n[inv], np.log1p(-p[inv])
        total, count, live = np.zeros(ni.shape), np.zeros(ni.shape), np.ones(ni.shape, bool)
        while live.any():
            idx = np.nonzero(live)[0]
            with np.errstate(divide="ignore"):
                total[idx] += np.ceil(np.log(uniform(idx.size)) / logq[idx])
            done = total[idx] > ni[idx]
            count[idx[~done]] += 1
            live[idx[done]] = False
        out[inv] = count
    bt = ~inv
    if bt.any():
        nb, pb = n[bt], p[bt]
        sd = np.sqrt(nb * pb * (1 - pb))
        b = 1.15 + 2.53 * sd
        a = -0.0873 + 0.0248 * b + 0.01 * pb
        c = nb * pb + 0.5
        vr = 0.92 - 4.2 / b
        r = pb / (1 - pb)
        alpha = (2.83 + 5.1 / b) * sd
        m = np.floor((nb + 1) * pb)
        res, live = np.zeros(nb.shape), np.ones(nb.shape, bool)
        while live.any():
            i = np.nonzero(live)[0]
            u = uniform(i.size) - 0.5
            v = uniform(i.size)
            us = 0.5 - np.abs(u)
            k = np.floor((2 * a[i] / us + b[i]) * u + c[i])
            inside = (k >= 0) & (k <= nb[i])
            ok = inside & (us >= 0.07) & (v <= vr[i])
            with np.errstate(divide="ignore", invalid="ignore"):
                lv = np.log(v * alpha[i] / (a[i] / (us * us) + b[i]))
                mi, ni = m[i], nb[i]
                ub = ((mi + 0.5) * np.log((mi + 1) / (r[i] * (ni - mi + 1))) + (ni + 1) * np.log((ni - mi + 1) / (ni - k + 1))
                      + (k + 0.5) * np.log(r[i] * (ni - k + 1) / (k + 1)) + _stirling_tail(mi) + _stirling_tail(ni - mi)
                      - _stirling_tail(k) - _stirling_tail(ni - k))
            ok |= inside & (lv <= ub)
            res[i[ok]] = k[ok]
            live[i[ok]] = False
        out[bt] = res
    return out


def binomial(count, prob, generator=None):
    """Samples from Binomial(count, prob) (float tensors of one dtype, broadcast; no gradient)."""
    if not _is_float(count):
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: {_dtype_name(count.dtype)}")
    if prob.dtype != count.dtype:
        raise RuntimeError(f"Found dtype {_dtype_name(prob.dtype)} but expected {_dtype_name(count.dtype)}")
    n, p = np.broadcast_arrays(_np(count).astype(np.float64), _np(prob).astype(np.float64))
    n, p = n.copy(), p.copy()
    out = np.full(n.shape, np.nan)
    zero = (n <= 0) | (p <= 0)
    one = ~zero & (p >= 1)
    out[zero] = 0
    out[one] = n[one]
    uniform = _uniforms(count, generator)
    lo = ~zero & ~one & (p <= 0.5)
    hi = ~zero & ~one & (p > 0.5)
    if lo.any():
        out[lo] = _binomial_np(n[lo], p[lo], uniform)
    if hi.any():
        out[hi] = n[hi] - _binomial_np(n[hi], 1 - p[hi], uniform)
    return _from_np(out, count, dtype=count.dtype)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None):
    """Random integers in [low, high) with input's shape (and dtype/device unless given)."""
    from ._creation import randint
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device,
                   requires_grad=requires_grad)


# ------------------------------------------------------------------------------------------ norms
def frobenius_norm(input, dim=(), keepdim=False, *, out=None):
    """The 2-norm over dims (all when empty)."""
    from .linalg import vector_norm
    dims = [dim] if isinstance(dim, int) else list(dim)
    if len(dims) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dims)} dimensions instead.")
    return vector_norm(input, 2, dim=dims if dims else None, keepdim=keepdim)


def nuclear_norm(input, dim=None, keepdim=False, *, out=None):
    """The sum of singular values of input (2-D), or over the pair of dims."""
    from .linalg import matrix_norm
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    if dim is None:
        if input.dim() != 2:
            raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 dimensions.") \
                if input.dim() < 2 else RuntimeError(f"Expected a tensor with 2 dimensions, but got a tensor with "
                                                     f"{input.dim()} dimensions instead.")
        dim = (0, 1)
    return matrix_norm(input, "nuc", dim=tuple(dim), keepdim=keepdim)


def pdist(input, p=2):
    """The p-norm distances between every pair of input's rows (i < j, in row-major order)."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not _is_float(input):
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    from .linalg import vector_norm
    a = input.index_select(0, _from_np(i.astype(np.int64), input))
    b = input.index_select(0, _from_np(j.astype(np.int64), input))
    return vector_norm(a - b, p, dim=1)


# ------------------------------------------------------------------------------------------ nn (aten forms)
def _F():
    from .nn import functional
    return functional


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _F().conv1d(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _F().conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _F().conv3d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _F().conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _F().conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _F().conv_transpose3d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """The aten convolution: conv{1,2,3}d or conv_transpose{1,2,3}d by weight's rank and `transposed`."""
    nd = weight.dim() - 2
    if nd not in (1, 2, 3):
        raise RuntimeError(f"Expected 3D, 4D or 5D weight for convolution, but got weight of size "
                           f"{list(weight.shape)}")
    F = _F()
    if transposed:
        fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[nd - 1]
        return fn(input, weight, bias, tuple(stride), tuple(padding), tuple(output_padding), groups,
                  tuple(dilation))
    fn = (F.conv1d, F.conv2d, F.conv3d)[nd - 1]
    return fn(input, weight, bias, tuple(stride), tuple(padding), tuple(dilation), groups)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    return _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    return _F().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    return _F().layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    return _F().group_norm(input, num_groups, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    return _F().rms_norm(input, normalized_shape, weight, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """The aten embedding: weight first; padding_idx -1 (or any negative) is none."""
    return _F().embedding(indices, weight, None if padding_idx is None or padding_idx < 0 else padding_idx,
                          scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def pixel_shuffle(input, upscale_factor):
    return _F().pixel_shuffle(input, upscale_factor)


def pixel_unshuffle(input, downscale_factor):
    return _F().pixel_unshuffle(input, downscale_factor)


def channel_shuffle(input, groups):
    """Splits the channels (dim 1) into groups and interleaves them: (N, g, C/g, *) -> (N, C/g, g, *)."""
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    if input.dim() < 3:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                           f"{list(input.shape)}")
    c = input.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    n, rest = input.shape[0], list(input.shape[2:])
    return input.reshape([n, groups, c // groups] + rest).transpose(1, 2).reshape([n, c] + rest)


def _stride(stride):
    return None if stride is None or (not isinstance(stride, int) and len(stride) == 0) else stride


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True):
    return _F().avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode, count_include_pad)


def adaptive_avg_pool1d(input, output_size):
    return _F().adaptive_avg_pool1d(input, output_size)


def adaptive_max_pool1d(input, output_size):
    """(values, indices), as the aten op."""
    return tuple(_F().adaptive_max_pool1d(input, output_size, return_indices=True))


def bilinear(input1, input2, weight, bias=None):
    return _F().bilinear(input1, input2, weight, bias)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    """The aten form: reduction an int (0 none, 1 mean, 2 sum), none by default as torch's top-level form
    (which also treats any other int as none; minitorch refuses it)."""
    red = {0: "none", 1: "mean", 2: "sum"}
    if reduction not in red:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _F().binary_cross_entropy_with_logits(input, target, weight, reduction=red[reduction],
                                                 pos_weight=pos_weight)


def constant_pad_nd(input, pad, value=0):
    return _F().pad(input, list(pad), "constant", value)


def _linear(x, w, b):
    y = x.matmul(w.t())
    return y + b if b is not None else y


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: returns (h', c') from hx = (h, c); gates in torch's order i, f, g, o."""
    h, c = hx
    gates = _linear(input, w_ih, b_ih) + _linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, -1)
    c2 = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c2.tanh(), c2


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (gates r, z, n as torch)."""
    gi = _linear(input, w_ih, b_ih)
    gh = _linear(hx, w_hh, b_hh)
    ir, iz, inn = gi.chunk(3, -1)
    hr, hz, hn = gh.chunk(3, -1)
    r = (ir + hr).sigmoid()
    z = (iz + hz).sigmoid()
    n = (inn + r * hn).tanh()
    return n + z * (hx - n)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return (_linear(input, w_ih, b_ih) + _linear(hx, w_hh, b_hh)).tanh()


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return (_linear(input, w_ih, b_ih) + _linear(hx, w_hh, b_hh)).relu()


# ------------------------------------------------------------------------------------------ Tensor methods
_METHODS = ["addcmul", "addcdiv", "lerp", "fmax", "fmin", "gcd", "lcm", "ldexp", "frexp", "signbit", "deg2rad",
            "rad2deg", "isneginf", "isposinf", "isreal", "mvlgamma", "addmv", "addr", "addbmm", "baddbmm", "mv",
            "ger", "inner", "vdot", "cross", "aminmax", "median", "nanmedian", "mode", "kthvalue", "quantile",
            "nanquantile", "nanmean", "nansum", "msort", "diff", "cov", "corrcoef", "dist", "renorm", "histogram",
            "bernoulli"]
_INPLACE = ["addcmul", "addcdiv", "lerp", "gcd", "lcm", "ldexp", "deg2rad", "rad2deg", "mvlgamma", "addmv",
            "addr", "addbmm", "baddbmm", "renorm"]


def _write_out(out, result, name):
    """out=: result written into the given tensor(s), as torch (a dtype it can be cast to; no autograd)."""
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): argument 'out' must be tuple of {len(result)} Tensors")
        written = [_write_out(o, r, name) for o, r in zip(out, result)]
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
    if not _is_tensor(out):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if result.requires_grad and _C.is_grad_enabled():
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           f"but one of the arguments requires grad.")
    if tuple(out.shape) != tuple(result.shape):
        raise NotImplementedError(f"{name}(): out= of shape {list(out.shape)} for a result of shape "
                                  f"{list(result.shape)}: minitorch cannot resize out")
    return _inplace(out, result)


def _supports_out(fn):
    """Gives fn torch's out= keyword (fn itself is written for out=None)."""
    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        result = fn(*args, **kwargs)
        return result if out is None else _write_out(out, result, fn.__name__)
    return wrapper


def _wrap_out_functions():
    import inspect
    g = globals()
    for name in __all__:
        if "out" in inspect.signature(g[name]).parameters:
            g[name] = _supports_out(g[name])


def _tensor_polygamma(self, n):
    return polygamma(n, self)


def _tensor_polygamma_(self, n):
    return _inplace(self, polygamma(n, self))


def _install():
    from ._tensor import Tensor
    g = globals()
    for name in _METHODS:
        if not hasattr(Tensor, name):
            setattr(Tensor, name, g[name])
    for name in _INPLACE:
        if not hasattr(Tensor, name + "_"):
            setattr(Tensor, name + "_", _make_inplace(g[name]))
    if not hasattr(Tensor, "polygamma"):
        Tensor.polygamma = _tensor_polygamma
        Tensor.polygamma_ = _tensor_polygamma_


_wrap_out_functions()
_install()

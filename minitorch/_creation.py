"""Tensor factories: tensor, zeros, ones, arange, rand, ... (the PyTorch signatures), and the legacy
constructors Tensor(...), FloatTensor(...), ...."""
import collections.abc
import math
import numbers
import operator

import numpy as np

from . import _C, _types
from ._tensor import Tensor
from ._types import (SCALAR_TYPE_NAMES, Size, bfloat16, bool_, device as _device, dtype as _dtype, float16, float32,
                     float64, int8, int16, int32, int64, uint8)

# the minitorch dtype of a NumPy dtype by (kind, itemsize): any byte order, and NumPy's aliases (longlong, intc)
_NP_KINDS = {("b", 1): bool_, ("i", 4): int32, ("i", 8): int64, ("f", 4): float32, ("f", 8): float64,
             ("u", 1): uint8, ("i", 1): int8, ("i", 2): int16, ("f", 2): float16}
_NP_TO_DTYPE = {np.dtype(d._np): d for d in _NP_KINDS.values()}
# the range of each integer dtype narrower than int64, for torch.tensor's overflow check
_INT_RANGES = {d: (_types.iinfo(d).min, _types.iinfo(d).max) for d in (int32, int16, int8, uint8)}
_default_dtype = [float32]
_default_device = [None]  # set_default_device: the factories' device where none is given (None: the CPU)
_PY_SCALARS = {bool, int, float}


def get_default_dtype():
    return _default_dtype[0]


def set_default_dtype(d):
    if d not in (float32, float64):
        raise TypeError("only floating-point types are supported as the default type")
    _default_dtype[0] = d


def _numpy_dtype_error(npdt):
    return TypeError(f"can't convert np.ndarray of type numpy.{npdt.type.__name__}. The only supported types are: "
                     "float64, float32, float16, int64, int32, int16, int8, uint8, and bool.")


def _is_sequence(x):
    """What torch.tensor reads as a sequence: lists, tuples (Size), ranges and other sequences but str and bytes."""
    return isinstance(x, (list, tuple, range)) or (
        isinstance(x, collections.abc.Sequence) and not isinstance(x, (str, bytes, bytearray)))


def _scan(data, infer, dim=0):
    """(shape, dtype) of data nested in sequences, as torch.tensor reads them, with PyTorch's errors.

    A tensor inside a sequence is a scalar (one element, its dtype); a NumPy array or scalar keeps its dtype;
    bool, int and float are bool, int64 and the default dtype; the dtype of a sequence is the promotion of its
    elements' (None when it holds none). infer=False (an explicit dtype) lets NumPy dtypes minitorch lacks through."""
    if _is_sequence(data):
        items = data if isinstance(data, (list, tuple)) else list(data)
        if not items:
            return (0,), None
        types = set(map(type, items))
        if types <= _PY_SCALARS:  # the common case, without a call per element
            return (len(items),), _default_dtype[0] if float in types else int64 if int in types else bool_
        first, dt = _scan(items[0], infer, dim + 1)
        for k in range(1, len(items)):
            item = items[k]
            s, d = _scan(item, infer, dim + 1)
            if s != first:
                if len(s) != len(first) and not any(n == 0 for n in s + first):
                    # a scalar where a sequence is expected (or the reverse): torch raises TypeError
                    raise TypeError("not a sequence" if len(s) < len(first) else
                                    "'list' object cannot be interpreted as an integer")
                if len(s) and len(first) and _is_sequence(item):
                    raise ValueError(f"expected sequence of length {first[0]} at dim {dim + 1} (got {s[0]})")
                raise ValueError(f"expected sequence of length {first[0] if first else 0} at dim {dim + 1} "
                                 f"(got {s[0] if s else 0})")
            if d is not None:
                dt = d if dt is None else _C.promote_types(dt, d)
        return (len(items),) + first, dt
    if isinstance(data, _C.TensorBase):
        if data.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return (), data.dtype
    if isinstance(data, (np.ndarray, np.generic)):
        d = _NP_KINDS.get((data.dtype.kind, data.dtype.itemsize))
        if d is None:
            if infer or data.dtype.kind not in "biufc":
                raise _numpy_dtype_error(data.dtype)
            d = float64 if data.dtype.kind in "fc" else int64  # converted to the explicit dtype
        return data.shape, d
    if isinstance(data, bool):
        return (), bool_
    if isinstance(data, numbers.Integral):
        return (), int64
    if isinstance(data, numbers.Real):
        return (), _default_dtype[0]
    if isinstance(data, numbers.Complex):
        raise TypeError("minitorch does not support complex numbers")
    if isinstance(data, (str, bytes)):
        raise ValueError(f"too many dimensions '{type(data).__name__}'")
    if not infer:
        raise TypeError(f"must be real number, not {type(data).__name__}")
    raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")


def _plain(data):
    """data with each tensor inside its sequences replaced by its Python scalar."""
    if isinstance(data, _C.TensorBase):
        return data.item()
    if _is_sequence(data):
        return data if set(map(type, data)) <= _PY_SCALARS else [_plain(x) for x in data]
    return data


def _convert(data, dtype, inferred):
    """np.array(data) in dtype, where data holds Python and NumPy scalars and arrays; an integer dtype gets
    torch's overflow errors (an int past int64: ValueError; a value outside the dtype: RuntimeError)."""
    if dtype.is_floating_point or dtype is bool_:
        with np.errstate(over="ignore"):  # 1e300 as float32 is inf, as in torch
            # (bfloat16, which NumPy lacks, goes through float32: the caller converts it)
            return np.array(data, dtype=dtype._np or np.float32)
    try:
        with np.errstate(invalid="raise"):
            arr = np.array(data, dtype=np.int64)
    except (OverflowError, ValueError, FloatingPointError):
        if inferred is not None and not inferred.is_floating_point:
            raise ValueError("Overflow when unpacking long long") from None
        raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow") from None
    if dtype in _INT_RANGES:
        lo, hi = _INT_RANGES[dtype]
        if dtype is uint8 and not np.asarray(data).dtype.kind == "f":
            lo = -hi  # c10's check lets integers down to -255 wrap into uint8 (-1 is 255); floats must fit
        if arr.size and (arr.min() < lo or arr.max() > hi):
            raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")
        arr = arr.astype(dtype._np)
    return arr


def _to_numpy(data, dtype):
    """The values of tensor()'s data (not a tensor) as a NumPy array of a minitorch dtype (dtype, else inferred)."""
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if isinstance(data, np.ndarray):  # converted as a whole, like torch's cast of the array's tensor
        src = _NP_KINDS.get((data.dtype.kind, data.dtype.itemsize))
        if src is None and (dtype is None or data.dtype.kind not in "biufc"):
            raise _numpy_dtype_error(data.dtype)
        target = dtype or src
        with np.errstate(all="ignore"):
            npdt = np.dtype(target._np or np.float32)  # bfloat16: converted from float32 by the caller
            return data if data.dtype == npdt else data.astype(npdt)
    shape, inferred = _scan(data, dtype is None)
    if len(shape) > 64:
        raise ValueError(f"too many dimensions '{type(data).__name__}'")
    target = dtype or inferred or _default_dtype[0]  # no elements at all: the default dtype, as torch.tensor([])
    if _is_sequence(data):
        data = _plain(data)
    return _convert(data, target, inferred)


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    if dtype is not None and not isinstance(dtype, _dtype):
        raise TypeError(f"tensor(): argument 'dtype' must be torch.dtype, not {type(dtype).__name__}")
    device = _default_device[0] if device is None else device
    if isinstance(data, _C.TensorBase):
        t = data.detach().to(dtype=dtype, device=device, copy=True)
    else:
        arr = _to_numpy(data, dtype)
        t = _C._from_numpy(arr, True)
        if dtype is bfloat16:
            t = t.to(bfloat16)
        if device is not None:
            t = t.to(device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, _C.TensorBase):
        return data.to(dtype=dtype, device=device)
    device = _default_device[0] if device is None else device
    if hasattr(data, "__dlpack__") and not isinstance(data, np.ndarray) and getattr(data, "__dlpack_device__",
                                                                                    lambda: (1, 0))()[0] == 1:
        return from_dlpack(data).to(dtype=dtype, device=device)  # shares the producer's memory where it can
    if isinstance(data, np.ndarray) and data.dtype in _NP_TO_DTYPE and (dtype is None or _NP_TO_DTYPE[data.dtype] is dtype) \
            and (device is None or _device(device).type == "cpu") and all(s >= 0 for s in data.strides):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(arr):
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    return _C._from_numpy(arr, False)


def from_dlpack(ext_tensor):
    """A tensor sharing the memory of a DLPack producer (any object with __dlpack__, or a DLPack capsule): NumPy
    arrays, PyTorch and JAX tensors ... on the CPU."""
    if hasattr(ext_tensor, "__dlpack__"):
        ext_tensor = ext_tensor.__dlpack__()  # (no max_version: the unversioned capsule every producer gives)
    return _C._from_dlpack(ext_tensor)


def _size_args(size, fn):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            if isinstance(s, _C.TensorBase) and s.dim() == 0 and not s.dtype.is_floating_point:
                continue
            raise TypeError(f"{fn}(): argument 'size' (position 1) must be tuple of ints, but found element of type "
                            f"{type(s).__name__} at pos 0")
    return tuple(int(s) for s in size)


def _factory(size, value, dtype, device, requires_grad, fn, size_kw=None):
    """size: the positional sizes; size_kw: size= given by keyword (torch accepts either, not both, not neither)"""
    if size_kw is not None:
        if size:
            raise TypeError(f"{fn}() got multiple values for argument 'size'")
        size = (size_kw,)
    elif not size:
        if fn in ("rand", "randn"):
            raise TypeError(f"{fn}() received an invalid combination of arguments - got (), but expected (tuple of "
                            "ints size, ...)")
        raise TypeError(f'{fn}() missing 1 required positional arguments: "size"')
    shape = _size_args(size, fn)
    return _C._full(shape, value, dtype or _default_dtype[0], _default_device[0] if device is None else device,
                    requires_grad)


def zeros(*args, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return _factory(args, 0, dtype, device, requires_grad, "zeros", size)


def ones(*args, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return _factory(args, 1, dtype, device, requires_grad, "ones", size)


def empty(*args, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None, pin_memory=False):
    return _factory(args, None, dtype, device, requires_grad, "empty", size)


def _fill_value(value, fn):
    """The fill value of full / full_like: a number, or the value of a one-element tensor (PyTorch's Number)."""
    if isinstance(value, _C.TensorBase) and value.numel() == 1 and value.dim() == 0:
        return value.item()
    if isinstance(value, (numbers.Number, np.bool_)):
        return value
    raise TypeError(f"{fn}(): argument 'fill_value' (position 2) must be Number, not {type(value).__name__}")


def full(size, fill_value, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    fill_value = _fill_value(fill_value, "full")
    if dtype is None:
        dtype = bool_ if isinstance(fill_value, bool) else int64 if isinstance(fill_value, numbers.Integral) \
            else _default_dtype[0]
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    return _factory((tuple(size),), fill_value, dtype, device, requires_grad, "full")


def _like(t, dtype, device):
    return dtype or t.dtype, device or t.device


def zeros_like(input, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    d, dev = _like(input, dtype, device)
    return _C._full(tuple(input.shape), 0, d, dev, requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    d, dev = _like(input, dtype, device)
    return _C._full(tuple(input.shape), 1, d, dev, requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    d, dev = _like(input, dtype, device)
    return _C._full(tuple(input.shape), None, d, dev, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    d, dev = _like(input, dtype, device)
    return _C._full(tuple(input.shape), _fill_value(fill_value, "full_like"), d, dev, requires_grad)


def rand_like(input, dtype=None, device=None, requires_grad=False):
    d, dev = _like(input, dtype, device)
    return rand(*input.shape, dtype=d, device=dev, requires_grad=requires_grad)


def randn_like(input, dtype=None, device=None, requires_grad=False):
    d, dev = _like(input, dtype, device)
    return randn(*input.shape, dtype=d, device=dev, requires_grad=requires_grad)


def _as_index(v, tensors=True):
    """The int that v stands for where PyTorch takes an int (an int, a NumPy integer or 0-d integer array and, with
    tensors, a 0-d integer tensor; never a bool), else None."""
    if isinstance(v, (bool, np.bool_)) or (isinstance(v, _C.TensorBase) and (not tensors or v.dim() != 0)):
        return None
    try:
        return operator.index(v)
    except TypeError:
        return None


def _int_arg(v, fn, name, pos):
    """An int argument, with PyTorch's errors."""
    i = _as_index(v)
    if i is None:
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be int, not {type(v).__name__}")
    if not -(1 << 63) <= i < 1 << 63:
        raise ValueError("Overflow when unpacking long long")
    return i


def _real_arg(v, fn, name, pos):
    """A number argument (a NumPy scalar or 0-d tensor gives its value), with PyTorch's TypeError otherwise."""
    if isinstance(v, _C.TensorBase) and v.dim() == 0:
        return v.item()
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, numbers.Real):
        return v
    raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Number, not {type(v).__name__}")


def _not_implemented(fn, dtype):
    return NotImplementedError(f'"{fn}" not implemented for \'{SCALAR_TYPE_NAMES[dtype]}\'')


def _filled(shape, dtype, device, requires_grad, value, fill):
    """A new tensor whose values fill(a) writes into a, its NumPy view. The C allocator runs first, so a size that
    cannot be allocated raises its RuntimeError before NumPy allocates anything. The 16-bit floats are filled
    in float32 and rounded once, as c10 converts (NumPy has no bfloat16, and rounds double -> half directly)."""
    device = _default_device[0] if device is None else device
    if dtype in (float16, bfloat16):
        return _filled(shape, float32, None, False, value, fill).to(dtype=dtype, device=device).requires_grad_(
            requires_grad)
    t = _C._full(shape, value, dtype, None, False)
    if t.numel():
        fill(t.numpy())
    if device is not None:
        t = t.to(device)
    return t.requires_grad_() if requires_grad else t


def _as_int64(v):
    """A range bound or step as torch's int64 accumulator: truncated toward zero; RuntimeError if it does not fit."""
    fits = math.isfinite(v) and -2.0 ** 63 <= v < 2.0 ** 63 if isinstance(v, float) else -(1 << 63) <= v < 1 << 63
    if not fits:
        raise RuntimeError("value cannot be converted to type int64_t without overflow")
    return int(v)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """PyTorch's arange: the size from the bounds as doubles (for int64, from the bounds and step truncated to
    integers), the values start + i * step (integer dtypes: in int64 after truncating start and step)."""
    names, args = (("end", "step"), (start, step)) if end is None else (("start", "end", "step"), (start, end, step))
    vals = [_real_arg(v, "arange", name, pos) for pos, (name, v) in enumerate(zip(names, args), 1)]
    start, end, step = [0] + vals if end is None else vals
    if dtype is None:
        dtype = int64 if all(isinstance(v, numbers.Integral) for v in (start, end, step)) else _default_dtype[0]
    if dtype is bool_:
        raise _not_implemented("arange_cpu", dtype)
    fstart, fend, fstep = float(start), float(end), float(step)
    if not (fstep > 0 or fstep < 0):
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(fstart) and math.isfinite(fend)):
        raise RuntimeError(f"unsupported range: {fstart:g} -> {fend:g}")
    if not ((fstep > 0 and fend >= fstart) or (fstep < 0 and fend <= fstart)):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    size = (fend - fstart) / fstep
    if dtype.is_floating_point:
        def fill(a):
            a[...] = fstart + np.arange(a.size, dtype=np.float64) * fstep
    else:
        istart, iend, istep = _as_int64(start), _as_int64(end), _as_int64(step)
        if dtype is int64:  # exact, in integers (C's truncating division)
            if istep == 0:
                raise ValueError("step must be nonzero")
            num = iend - istart + istep - (1 if istep > 0 else -1)
            size = abs(num) // abs(istep) * (1 if (num >= 0) == (istep > 0) else -1)

        def fill(a):
            a[...] = istart + np.arange(a.size, dtype=np.int64) * istep  # int64 arithmetic, wrapping into int32
    if not 0 <= size <= 2.0 ** 63 - 1:
        raise RuntimeError("invalid size, possible overflow?")
    return _filled((math.ceil(size),), dtype, device, requires_grad, None, fill)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    start, end = _real_arg(start, "linspace", "start", 1), _real_arg(end, "linspace", "end", 2)
    steps = _int_arg(steps, "linspace", "steps", 3)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtype or _default_dtype[0]
    if dtype is bool_:
        raise _not_implemented("linspace_cpu", dtype)
    if dtype in (float16, bfloat16) and steps > 1:
        # PyTorch's kernel steps in the dtype itself for these (step_t is Half): each product and sum rounds
        s, e = tensor(start, dtype=dtype), tensor(end, dtype=dtype)
        step = (e - s) / (steps - 1)
        i = arange(steps).to(dtype)
        t = _C.where(i < steps // 2, s + step * i, e - step * (steps - 1 - i))
        device = _default_device[0] if device is None else device
        t = t.to(device) if device is not None else t
        return t.requires_grad_() if requires_grad else t

    def fill(a):
        # PyTorch fills the first half from start and the second half from end (symmetric rounding)
        if steps == 1:
            a[...] = start
            return
        step = (end - start) / (steps - 1)
        i = np.arange(steps, dtype=np.float64)
        a[...] = np.where(i < steps // 2, start + step * i, end - step * (steps - 1 - i))
    return _filled((steps,), dtype, device, requires_grad, None, fill)


def eye(n, m=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    n = _int_arg(n, "eye", "n", 1)
    m = n if m is None else _int_arg(m, "eye", "m", 2)
    for name, v in (("n", n), ("m", m)):
        if v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    return _filled((n, m), dtype or _default_dtype[0], device, requires_grad, 0, lambda a: np.fill_diagonal(a, 1))


def rand(*args, size=None, dtype=None, device=None, requires_grad=False, generator=None, out=None, layout=None):
    t = _factory(args, None, dtype, device, False, "rand", size)
    t.uniform_(0.0, 1.0, generator=generator)
    return t.requires_grad_() if requires_grad else t


def randn(*args, size=None, dtype=None, device=None, requires_grad=False, generator=None, out=None, layout=None):
    t = _factory(args, None, dtype, device, False, "randn", size)
    t.normal_(0.0, 1.0, generator=generator)
    return t.requires_grad_() if requires_grad else t


# the range an integer dtype holds (int64's is the argument range itself), and PyTorch's name for it
_INT_BOUNDS = {bool_: (0, 1, "bool"), float16: (-65504, 65504, "c10::Half"),
               **{d: _INT_RANGES[d] + (name,) for d, name in ((int32, "int"), (uint8, "unsigned char"),
                                                               (int8, "signed char"), (int16, "short int"))}}


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False, generator=None, out=None):
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
        high = _int_arg(high, "randint", "high", 1)
    elif high is None:
        low, high = 0, _int_arg(low, "randint", "high", 1)
    else:
        low, high = _int_arg(low, "randint", "low", 1), _int_arg(high, "randint", "high", 2)
    if size is None:
        raise TypeError("randint() missing 1 required positional arguments: \"size\"")
    if not high > low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if dtype in _INT_BOUNDS:
        lo, hi, name = _INT_BOUNDS[dtype]
        if not lo <= low <= hi:
            raise RuntimeError(f"from is out of bounds for {name}")
        if not lo <= high - 1 <= hi:
            raise RuntimeError(f"to - 1 is out of bounds for {name}")
    t = _factory((tuple(size),), None, int64, device, False, "randint")
    t._randint_(low, high, generator)
    if dtype is not None and dtype is not int64:
        t = t.to(dtype)
    return t


def randperm(n, dtype=None, device=None, requires_grad=False, generator=None, out=None):
    n = _int_arg(n, "randperm", "n", 1)
    if dtype is bool_:
        raise _not_implemented("randperm", dtype)
    t = _C._randperm(n, generator)
    if dtype is not None and dtype is not int64:
        t = t.to(dtype)
    device = _default_device[0] if device is None else device
    return t.to(device) if device is not None else t


def _broadcast_shape(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                               f"dimension {i}")
    return tuple(max(x, y) if x and y else 0 for x, y in zip(a, b))


def normal(mean, std, size=None, generator=None, dtype=None, device=None):
    """torch.normal: with a tensor mean or std, one draw per element of their broadcast shape, in mean's dtype
    (std's when mean is a number); std must be >= 0 everywhere (NaN is not)."""
    m_t, s_t = isinstance(mean, _C.TensorBase), isinstance(std, _C.TensorBase)
    if not (m_t or s_t):
        t = _factory((tuple(size),), None, dtype, device, False, "normal")
        return t.normal_(float(mean), float(std), generator=generator)
    if s_t and not bool((std >= 0).all()):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    like = mean if m_t else std
    shape = _broadcast_shape(tuple(mean.shape) if m_t else (), tuple(std.shape) if s_t else ())
    # a number std scales the draws in normal_, which checks it
    z = _C._full(shape, None, like.dtype, like.device, False).normal_(0.0, 1.0 if s_t else float(std),
                                                                     generator=generator)
    if s_t:
        z = z * (std if std.dtype is like.dtype else std.to(like.dtype))
    return z + (mean if not m_t or mean.dtype is like.dtype else mean.to(like.dtype))


def multinomial(input, num_samples, replacement=False, generator=None):
    """torch.multinomial: indices drawn from the rows of ``input`` (unnormalised non-negative weights).

    With replacement: inverse CDF, one ``rand`` draw per sample located in the row's normalised cumulative sums
    (one ``searchsorted`` for all rows, each row shifted by its row number). Without replacement (and for one
    sample): the exponential race, the ``num_samples`` largest of ``p / E`` with ``E = -log(U)`` ~ Exp(1), i.e.
    Gumbel top-k. Every draw comes from the global Philox stream, so results repeat under ``manual_seed``.
    """
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.dtype.is_floating_point:
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{SCALAR_TYPE_NAMES[input.dtype]}")
    num_samples = int(num_samples)
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    n_cat = input.size(-1)
    if not replacement and num_samples > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if n_cat > (1 << 24):
        raise RuntimeError("number of categories cannot exceed 2^24")
    p = input.detach().cpu().numpy().astype(np.float64, copy=False)
    p = p.reshape(-1, n_cat) if p.ndim == 2 else p[None]
    rows = p.shape[0]
    out_shape = (rows, num_samples) if input.dim() == 2 else (num_samples,)
    if p.size == 0:
        t = zeros(*out_shape, dtype=int64)
        return t.to(input.device) if input.device.type != "cpu" else t
    if not replacement or num_samples == 1:  # torch's checks on its exponential-race path
        with np.errstate(invalid="ignore"):
            valid = bool(p.max() < np.inf) and bool(p.min() >= 0)  # nan fails both comparisons
        if not valid:
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if (p.sum(-1) == 0).any():
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    else:  # torch's checks on its inverse-CDF path: row by row, each element, then the row's sum
        with np.errstate(invalid="ignore"):
            bad = ~(p >= 0) | np.isinf(p)
            row_bad = bad.any(1) | ~(p.sum(1) > 0)
        if row_bad.any():
            r = int(np.argmax(row_bad))
            if bad[r].any():
                v = p[r, int(np.argmax(bad[r]))]
                raise RuntimeError("invalid multinomial distribution (encountering probability entry " +
                                   ("< 0)" if not v >= 0 else "= infinity or NaN)"))
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement or num_samples == 1:
        u = rand(rows, n_cat, dtype=float64, generator=generator).numpy()
        with np.errstate(divide="ignore"):
            key = p / -np.log(u)  # u == 0 gives an infinite waiting time: key 0
        if num_samples == 1:
            out = np.argmax(key, axis=1)[:, None]
        else:
            if num_samples < n_cat:
                part = np.argpartition(-key, num_samples - 1, axis=1)[:, :num_samples]
            else:
                part = np.broadcast_to(np.arange(n_cat), (rows, n_cat))
            order = np.argsort(-np.take_along_axis(key, part, 1), axis=1, kind="stable")
            out = np.take_along_axis(part, order, 1)
    else:
        cs = np.cumsum(p, axis=1)
        cdf = cs / cs[:, -1:]                      # the last entry of every row is exactly 1.0
        offs = np.arange(rows, dtype=np.float64)[:, None]
        u = rand(rows, num_samples, dtype=float64, generator=generator).numpy()
        out = np.searchsorted((cdf + offs).ravel(), (u + offs).ravel(), side="right").reshape(rows, num_samples)
        out -= np.arange(rows)[:, None] * n_cat
        # rounding of u + row may reach the row's end; fall back to its last category of positive weight
        last = n_cat - 1 - np.argmax(p[:, ::-1] > 0, axis=1)
        out = np.clip(out, 0, None)
        np.minimum(out, last[:, None], out=out)
    out = np.ascontiguousarray(out, dtype=np.int64)
    t = tensor(out if input.dim() == 2 else out[0])
    return t.to(input.device) if input.device.type != "cpu" else t


def _rebuild_tensor(arr, requires_grad, device, dtype_name=None):
    """Tensor.__reduce_ex__'s inverse (dtype_name: a dtype NumPy lacks, carried in float32)."""
    t = tensor(arr)
    if dtype_name is not None:
        t = t.to(getattr(_types, dtype_name))
    if device != "cpu":
        t = t.to(device)
    return t.requires_grad_() if requires_grad else t


# ------------------------------------------------------------------------------------------------ legacy constructors

def _legacy_new(cls, args, kwargs, dtype=None):
    """torch.Tensor(...) and FloatTensor(...), LongTensor(...), ...: () an empty tensor; (*sizes) or (Size) an
    uninitialised one of that shape; (sequence or ndarray) its values in dtype; (tensor) an alias of it (its dtype
    must be dtype for a typed constructor). dtype None: the default dtype. Only device= is accepted as a keyword."""
    device = kwargs.pop("device", None)
    if kwargs:
        got = ", ".join([type(a).__name__ for a in args] + [f"{k}={type(v).__name__}" for k, v in kwargs.items()])
        raise TypeError(f"new() received an invalid combination of arguments - got ({got})")
    typed, dtype = dtype is not None, dtype or _default_dtype[0]
    first = args[0] if args else None
    if len(args) == 1 and isinstance(first, _C.TensorBase):
        if typed and first.dtype is not dtype:
            raise TypeError(f"expected {dtype} (got {first.dtype})")
        t = first.view_as(first)
    elif len(args) == 1 and not isinstance(first, Size) and _as_index(first, tensors=False) is None:
        if isinstance(first, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(first).__name__}'")
        if not (isinstance(first, np.ndarray) or _is_sequence(first)):
            tp = type(first)
            name = tp.__name__ if tp.__module__ == "builtins" else f"{tp.__module__}.{tp.__name__}"
            raise TypeError(f"new(): data must be a sequence (got {name})")
        t = tensor(first, dtype=dtype, device=device)
    else:
        sizes = tuple(first) if len(args) == 1 and isinstance(first, Size) else args or (0,)
        shape = []
        for pos, s in enumerate(sizes, 1):
            i = _as_index(s, tensors=False)
            if i is None or not -(1 << 63) <= i < 1 << 63:
                why = "Overflow when unpacking long long" if i is not None else \
                    f"type must be tuple of ints,but got {type(s).__name__}"
                raise TypeError(f"new(): argument 'size' failed to unpack the object at pos {pos} with error \"{why}\"")
            shape.append(i)
        t = _C._full(tuple(shape), None, dtype, device, False)
    return t if cls is Tensor else cls._make_subclass(t, t.requires_grad)


class _LegacyTensorType(type):
    """The type of FloatTensor, LongTensor, ...: calling one is the legacy constructor for its dtype (a
    minitorch.Tensor), and isinstance(t, FloatTensor) asks whether t is a float32 CPU tensor, as in torch."""

    def __call__(cls, *args, **kwargs):
        return _legacy_new(Tensor, args, kwargs, cls.dtype)

    def __instancecheck__(cls, obj):
        return isinstance(obj, _C.TensorBase) and obj.dtype is cls.dtype and obj.device.type == "cpu"


def _legacy_type(name, dtype):
    doc = f"minitorch.{name}(...): the legacy constructor of {dtype} tensors."
    return _LegacyTensorType(name, (), {"dtype": dtype, "__module__": "minitorch", "__doc__": doc})


FloatTensor = _legacy_type("FloatTensor", float32)
DoubleTensor = _legacy_type("DoubleTensor", float64)
LongTensor = _legacy_type("LongTensor", int64)
IntTensor = _legacy_type("IntTensor", int32)
BoolTensor = _legacy_type("BoolTensor", bool_)
HalfTensor = _legacy_type("HalfTensor", float16)
BFloat16Tensor = _legacy_type("BFloat16Tensor", bfloat16)
ByteTensor = _legacy_type("ByteTensor", uint8)
CharTensor = _legacy_type("CharTensor", int8)
ShortTensor = _legacy_type("ShortTensor", int16)

"""Tensor factories: tensor, zeros, ones, arange, rand, ... (the PyTorch signatures)."""
import math
import numbers

import numpy as np

from . import _C
from ._tensor import Tensor
from ._types import SCALAR_TYPE_NAMES, bool_, device as _device, dtype as _dtype, float32, float64, int32, int64

_NP_TO_DTYPE = {np.dtype(np.bool_): bool_, np.dtype(np.int32): int32, np.dtype(np.int64): int64,
                np.dtype(np.float32): float32, np.dtype(np.float64): float64}
_default_dtype = [float32]


def get_default_dtype():
    return _default_dtype[0]


def set_default_dtype(d):
    if d not in (float32, float64):
        raise TypeError("only floating-point types are supported as the default type")
    _default_dtype[0] = d


def _infer_shape(data, dim=0):
    """Shape of nested sequences, with PyTorch's error for ragged input."""
    if isinstance(data, (list, tuple)):
        if not data:
            return (0,)
        first = _infer_shape(data[0], dim + 1)
        for item in data[1:]:
            s = _infer_shape(item, dim + 1)
            if s != first:
                if len(s) != len(first) and not any(d == 0 for d in s + first):
                    # a scalar where a sequence is expected (or the reverse): torch raises TypeError
                    raise TypeError("not a sequence" if len(s) < len(first) else
                                    "'list' object cannot be interpreted as an integer")
                if len(s) and len(first) and isinstance(item, (list, tuple)):
                    raise ValueError(f"expected sequence of length {first[0]} at dim {dim + 1} (got {s[0]})")
                raise ValueError(f"expected sequence of length {first[0] if first else 0} at dim {dim + 1} (got {s[0] if s else 0})")
        return (len(data),) + first
    if isinstance(data, _C.TensorBase):
        return tuple(data.shape)
    if isinstance(data, np.ndarray):
        return data.shape
    if isinstance(data, (numbers.Number, np.generic)):
        return ()
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


def _to_numpy(data, dtype):
    if isinstance(data, np.generic):  # a NumPy scalar keeps its dtype, like a 0-d array (as in torch)
        data = np.asarray(data)
    if isinstance(data, np.ndarray):
        arr = data
        if arr.dtype not in _NP_TO_DTYPE and dtype is None:
            if arr.dtype.kind in "iu":
                arr = arr.astype(np.int64)
            elif arr.dtype.kind == "f":
                arr = arr.astype(np.float32 if arr.dtype.itemsize <= 4 else np.float64)
            else:
                raise TypeError(f"can't convert np.ndarray of type {arr.dtype}. The only supported types are: float64, "
                                f"float32, int64, int32, and bool.")
    else:
        _infer_shape(data)

        def leaf_kind(x):
            if isinstance(x, (list, tuple)):
                k = None  # no elements: the default dtype, as torch.tensor([]) is float
                for e in x:
                    ek = leaf_kind(e)
                    if ek is None:
                        continue
                    if k is None or ek == "f" or (ek == "i" and k == "b"):
                        k = ek
                    if k == "f":
                        break
                return k
            if isinstance(x, _C.TensorBase):
                return "f" if x.dtype.is_floating_point else ("b" if x.dtype is bool_ else "i")
            if isinstance(x, (bool, np.bool_)):
                return "b"
            if isinstance(x, (numbers.Integral, np.integer)):
                return "i"
            if isinstance(x, (numbers.Real, np.floating)):
                return "f"
            if isinstance(x, numbers.Complex):
                raise TypeError("minitorch does not support complex numbers")
            raise TypeError(f"Could not infer dtype of {type(x).__name__}")

        kind = leaf_kind(data) or "f"
        npdt = {"b": np.bool_, "i": np.int64, "f": _default_dtype[0]._np}[kind]
        if dtype is not None:
            npdt = dtype._np
        try:
            arr = np.array(data, dtype=npdt)
        except OverflowError:
            raise RuntimeError("Overflow when unpacking long")
        return arr
    if dtype is not None and arr.dtype != np.dtype(dtype._np):
        arr = arr.astype(dtype._np)
    return arr


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    if dtype is not None and not isinstance(dtype, _dtype):
        raise TypeError(f"tensor(): argument 'dtype' must be torch.dtype, not {type(dtype).__name__}")
    if isinstance(data, _C.TensorBase):
        t = data.detach().to(dtype=dtype, device=device, copy=True)
    else:
        arr = _to_numpy(data, dtype)
        t = _C._from_numpy(arr, True)
        if device is not None:
            t = t.to(device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, _C.TensorBase):
        return data.to(dtype=dtype, device=device)
    if isinstance(data, np.ndarray) and data.dtype in _NP_TO_DTYPE and (dtype is None or np.dtype(dtype._np) == data.dtype) \
            and (device is None or _device(device).type == "cpu") and all(s >= 0 for s in data.strides):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(arr):
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    return _C._from_numpy(arr, False)


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


def _factory(size, value, dtype, device, requires_grad, fn):
    shape = _size_args(size, fn)
    return _C._full(shape, value, dtype or _default_dtype[0], device, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return _factory(size, 0, dtype, device, requires_grad, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return _factory(size, 1, dtype, device, requires_grad, "ones")


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None, pin_memory=False):
    return _factory(size, None, dtype, device, requires_grad, "empty")


def full(size, fill_value, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    if dtype is None:
        dtype = bool_ if isinstance(fill_value, bool) else int64 if isinstance(fill_value, numbers.Integral) \
            else _default_dtype[0]
    return _factory((size,) if not isinstance(size, (tuple, list)) else tuple(size), fill_value, dtype, device,
                    requires_grad, "full")


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
    return _C._full(tuple(input.shape), fill_value, d, dev, requires_grad)


def rand_like(input, dtype=None, device=None, requires_grad=False):
    d, dev = _like(input, dtype, device)
    return rand(*input.shape, dtype=d, device=dev, requires_grad=requires_grad)


def randn_like(input, dtype=None, device=None, requires_grad=False):
    d, dev = _like(input, dtype, device)
    return randn(*input.shape, dtype=d, device=dev, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, _C.TensorBase) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = int64 if all(isinstance(v, numbers.Integral) for v in vals) else _default_dtype[0]
    n = max(0, math.ceil((end - start) / step))
    if dtype.is_floating_point:
        arr = (start + np.arange(n, dtype=np.float64) * step).astype(dtype._np)
    else:
        arr = (int(start) + np.arange(n, dtype=np.int64) * int(step)).astype(dtype._np)
    t = _C._from_numpy(arr, True)
    if device is not None:
        t = t.to(device)
    return t.requires_grad_() if requires_grad else t


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtype or _default_dtype[0]
    # PyTorch fills the first half from start and the second half from end (symmetric rounding)
    if steps == 1:
        arr = np.array([start], dtype=np.float64)
    else:
        step = (end - start) / (steps - 1)
        i = np.arange(steps, dtype=np.float64)
        half = steps // 2
        arr = np.where(i < half, start + step * i, end - step * (steps - 1 - i))
    t = _C._from_numpy(arr.astype(dtype._np), True)
    if device is not None:
        t = t.to(device)
    return t.requires_grad_() if requires_grad else t


def eye(n, m=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    m = n if m is None else m
    if n < 0 or m < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n if n < 0 else m}")
    t = _C._from_numpy(np.eye(n, m, dtype=(dtype or _default_dtype[0])._np), True)
    if device is not None:
        t = t.to(device)
    return t.requires_grad_() if requires_grad else t


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None, out=None, layout=None):
    t = _factory(size, None, dtype, device, False, "rand")
    t.uniform_(0.0, 1.0, generator=generator)
    return t.requires_grad_() if requires_grad else t


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None, out=None, layout=None):
    t = _factory(size, None, dtype, device, False, "randn")
    t.normal_(0.0, 1.0, generator=generator)
    return t.requires_grad_() if requires_grad else t


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False, generator=None, out=None):
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing 1 required positional arguments: \"size\"")
    if not high > low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    t = _factory((tuple(size),), None, int64, device, False, "randint")
    t._randint_(int(low), int(high), generator)
    if dtype is not None and dtype is not int64:
        t = t.to(dtype)
    return t


def randperm(n, dtype=None, device=None, requires_grad=False, generator=None, out=None):
    t = _C._randperm(int(n), generator)
    if dtype is not None and dtype is not int64:
        t = t.to(dtype)
    return t.to(device) if device is not None else t


def normal(mean, std, size=None, generator=None, dtype=None, device=None):
    if isinstance(mean, _C.TensorBase) or isinstance(std, _C.TensorBase):
        m = mean if isinstance(mean, _C.TensorBase) else None
        s = std if isinstance(std, _C.TensorBase) else None
        like = m if m is not None else s
        z = randn(*like.shape, dtype=like.dtype, device=like.device, generator=generator)
        return z * std + mean
    t = _factory((tuple(size),), None, dtype, device, False, "normal")
    return t.normal_(float(mean), float(std), generator=generator)


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


def _rebuild_tensor(arr, requires_grad, device):
    t = tensor(arr)
    if device != "cpu":
        t = t.to(device)
    return t.requires_grad_() if requires_grad else t

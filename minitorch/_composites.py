"""Tensor functions composed from existing minitorch ops (so autograd and every device work without new
kernels): diagonal, diag, diag_embed, trace, kron, roll, rot90, meshgrid, cartesian_prod, cdist,
block_diag, atleast_1d/2d/3d, vander, count_nonzero; and the integer-valued searchsorted, bucketize,
histc, bincount, unique_consecutive. Names, signatures, defaults, dtypes and errors follow torch.

diagonal() is a view of its input where its two dims merge into one (contiguous tensors, their transposes); for other
layouts it is a copy (minitorch has no as_strided): reading and autograd match torch there, writes do not reach input."""
import warnings

import numpy as np

from . import _C
from ._types import float32, float64, int64

__all__ = ["diagonal", "diag", "diag_embed", "trace", "kron", "roll", "rot90", "meshgrid", "cartesian_prod",
           "cdist", "block_diag", "atleast_1d", "atleast_2d", "atleast_3d", "vander", "count_nonzero",
           "searchsorted", "bucketize", "histc", "bincount", "unique_consecutive"]


def _wrap(dim, ndim):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _tensor(x, like=None):
    from ._creation import tensor
    return tensor(x, device=like.device) if like is not None else tensor(x)


def _index(values, device):
    from ._creation import tensor
    return tensor(values, dtype=int64, device=device)


def _zeros(shape, like):
    from ._creation import zeros
    return zeros(*shape, dtype=like.dtype, device=like.device) if shape else zeros((), dtype=like.dtype,
                                                                                    device=like.device)


def _dtype_name(dt):
    return {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "bool": "Bool"}.get(
        str(dt).split(".")[-1], str(dt))


# ------------------------------------------------------------------------------------------ diagonals
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal (offset > 0: above, < 0: below the main one) over dims dim1, dim2, as the last dim.

    A view of input, as torch's, wherever the two dims merge into one (a contiguous tensor, its transposes and
    slices of whole rows): the merged dim sliced with step n + 1, so that writes (x.diagonal().add_(eps)) reach
    input. Other layouts (dims that no view can merge) get a copy: reading and autograd as torch, writes into
    the result do not reach input."""
    nd = input.dim()
    d1, d2 = _wrap(dim1, nd), _wrap(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rest = [d for d in range(nd) if d not in (d1, d2)]
    n1, n2 = input.shape[d1], input.shape[d2]
    i0, j0 = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(0, min(n1 - i0, n2 - j0))
    lead = list(input.shape[d] for d in rest)
    if length <= 1 or n1 * n2 == 0:  # at most one element: a select pair (or an empty narrow) is a view
        t = input.permute(rest + [d1, d2])
        if length == 0:
            return t.reshape(lead + [0]) if n1 * n2 == 0 else t[..., :0, 0]
        return t.select(-1, j0).select(-1, i0).unsqueeze(-1)
    st = input.stride()
    # element (i0 + k, j0 + k): merged over (d1, d2) at (i0 + k) * n2 + j0 + k, over (d2, d1) at (j0 + k) * n1 + i0 + k
    for a, b, start, step in ((d1, d2, i0 * n2 + j0, n2 + 1), (d2, d1, j0 * n1 + i0, n1 + 1)):
        if st[a] == input.shape[b] * st[b]:
            t = input.permute(rest + [a, b]).view(lead + [n1 * n2])
            return t[..., start:start + (length - 1) * step + 1:step]
    t = input.permute(rest + [d1, d2]).reshape(lead + [n1 * n2])
    return t.index_select(-1, _index([i0 * n2 + j0 + k * (n2 + 1) for k in range(length)], input.device))


def fill_diagonal_(input, fill_value, wrap=False):
    """Writes fill_value at [i, i, ..., i] in place (all dims of equal length past 2-d); wrap: a tall matrix's
    diagonal restarts N + 1 rows down, as torch's. Written by advanced indexing, so any layout and autograd work."""
    if input.dim() < 2:
        raise RuntimeError("dimensions must larger than 1")
    n = input.shape[0]
    if input.dim() > 2 and any(s != n for s in input.shape):
        raise RuntimeError("all dimensions of input must be of equal length")
    rows, cols = input.shape[0], input.shape[1]
    if input.dim() == 2 and wrap and rows > cols + 1:
        flat = np.arange(0, rows * cols, cols + 1)
        idx = (flat // cols, flat % cols)
    else:
        k = np.arange(min(input.shape))
        idx = (k,) * input.dim()
    input[tuple(_index(i.tolist(), input.device) for i in idx)] = fill_value
    return input


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose diagonals (over dim1, dim2 of the result) are input's last dim, zeros elsewhere."""
    nd = input.dim() + 1
    d1, d2 = _wrap(dim1, nd), _wrap(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = input.shape[-1] if input.dim() else 1
    m = n + abs(offset)
    src = input.reshape(list(input.shape[:-1]) + [n]) if input.dim() else input.reshape(1)
    src = _C.cat([src, _zeros(list(src.shape[:-1]) + [1], src)], -1)
    idx = [n] * (m * m)
    for k in range(n):
        i, j = (k, k + offset) if offset >= 0 else (k - offset, k)
        idx[i * m + j] = k
    out = src.index_select(-1, _index(idx, input.device)).reshape(list(src.shape[:-1]) + [m, m])
    # out's dims: the batch dims then (row, col); place row at d1 and col at d2
    batch = list(range(nd - 2))
    order = [None] * nd
    order[d1], order[d2] = nd - 2, nd - 1
    it = iter(batch)
    order = [next(it) if o is None else o for o in order]
    return out.permute(order)


def diag(input, diagonal=0):
    """1-D input: the square matrix with input on its diagonal-th diagonal; 2-D: that diagonal as 1-D."""
    if input.dim() == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.dim() == 2:
        return globals()["diagonal"](input, diagonal, 0, 1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.dim()}D")


def trace(input):
    """The sum of the main diagonal of a 2-D tensor (integer inputs sum to int64)."""
    if input.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    return diagonal(input).sum()


# ------------------------------------------------------------------------------------------ shapes
def kron(input, other):
    """Kronecker product: result[i0*b0 + j0, ...] = input[i0, ...] * other[j0, ...]."""
    nd = max(input.dim(), other.dim())
    a = input.reshape([1] * (nd - input.dim()) + list(input.shape))
    b = other.reshape([1] * (nd - other.dim()) + list(other.shape))
    sa, sb = list(a.shape), list(b.shape)
    ai, bi = [], []
    for x, y in zip(sa, sb):
        ai += [x, 1]
        bi += [1, y]
    return (a.reshape(ai) * b.reshape(bi)).reshape([x * y for x, y in zip(sa, sb)])


def roll(input, shifts, dims=None):
    """Rolls input along dims by shifts (elements leaving one end come back at the other); dims=None: the
    flattened tensor, shape restored."""
    shifts = [shifts] if isinstance(shifts, int) else list(shifts)
    if dims is None or (not isinstance(dims, int) and len(dims) == 0):
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return roll(input.flatten(), shifts, 0).reshape(input.shape)
    dims = [dims] if isinstance(dims, int) else list(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    out = input
    for s, d in zip(shifts, dims):
        d = _wrap(d, input.dim())
        size = input.shape[d] if input.dim() else 1
        if size == 0:
            continue
        s %= size
        if s:
            out = _C.cat([out.narrow(d, size - s, s), out.narrow(d, 0, size - s)], d)
    return out if out is not input else input.clone()


def rot90(input, k=1, dims=(0, 1)):
    """Rotates by 90 degrees k times in the plane of dims (from the first towards the second)."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.dim() < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.dim()}")
    d0, d1 = _wrap(dims[0], input.dim()), _wrap(dims[1], input.dim())
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return input.flip([d1]).transpose(d0, d1)
    if k == 2:
        return input.flip([d0, d1])
    if k == 3:
        return input.flip([d0]).transpose(d0, d1)
    return input.clone()


def _tensor_list(tensors, name):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    return tensors


def meshgrid(*tensors, indexing=None):
    """Coordinate grids of 0-D/1-D tensors: out[i] varies along dim i ('ij'); 'xy' swaps the first two dims.
    indexing=None is 'ij' with torch's UserWarning."""
    tensors = _tensor_list(tensors, "meshgrid")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if len(tensors) == 0:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t.dim() > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t.device != tensors[0].device:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
    ts = list(tensors)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    sizes = [t.numel() for t in ts]
    out = []
    for i, t in enumerate(ts):
        shape = [1] * len(ts)
        shape[i] = -1
        out.append(t.reshape(shape).expand(sizes))
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def cartesian_prod(*tensors):
    """All combinations of the elements of 1-D tensors, as rows (a single tensor is returned as it is)."""
    tensors = _tensor_list(tensors, "cartesian_prod")
    for t in tensors:
        if t.dim() != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return _C.stack([g.flatten() for g in grids], 1)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M): (..., P, R), batch dims
    broadcast. Computed from the differences (exact, also for p=2)."""
    for name, x in (("X1", x1), ("X2", x2)):
        if x.dim() < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.dim()}D")
    for name, x in (("X1", x1), ("X2", x2)):
        if not x.dtype.is_floating_point:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_dtype_name(x.dtype)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if not p >= 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist", None):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    d = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if d.shape[-1] == 0:
        return d.sum(-1)
    return d.norm(p=float(p), dim=-1)


def block_diag(*tensors):
    """The block diagonal matrix of 0-D, 1-D (one row) and 2-D tensors, in their promoted dtype."""
    ts = []
    for i, t in enumerate(tensors):
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.dim()} dimensions")
        ts.append(t.reshape(1, 1) if t.dim() == 0 else t.reshape(1, -1) if t.dim() == 1 else t)
    if not ts:
        from ._creation import zeros
        return zeros(1, 0)
    probe = ts[0].flatten()[:0]
    for t in ts[1:]:
        probe = probe + t.flatten()[:0]
    ts = [t.to(probe.dtype) for t in ts]
    ncols = sum(t.shape[1] for t in ts)
    rows, left = [], 0
    for t in ts:
        r, c = t.shape
        parts = []
        if left:
            parts.append(_zeros([r, left], t))
        parts.append(t)
        if ncols - left - c:
            parts.append(_zeros([r, ncols - left - c], t))
        rows.append(_C.cat(parts, 1) if len(parts) > 1 else t)
        left += c
    return _C.cat(rows, 0)


def _atleast(tensors, fn):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(fn(t) for t in tensors[0])
    if len(tensors) == 1:
        return fn(tensors[0])
    return tuple(fn(t) for t in tensors)


def atleast_1d(*tensors):
    """Tensors with at least 1 dim (a 0-D tensor becomes shape (1,)); one tensor in, one out."""
    return _atleast(tensors, lambda t: t.reshape(1) if t.dim() == 0 else t)


def atleast_2d(*tensors):
    """Tensors with at least 2 dims: () -> (1, 1), (N,) -> (1, N)."""
    return _atleast(tensors, lambda t: t.reshape(1, 1) if t.dim() == 0 else t.unsqueeze(0) if t.dim() == 1 else t)


def atleast_3d(*tensors):
    """Tensors with at least 3 dims: () -> (1, 1, 1), (N,) -> (1, N, 1), (M, N) -> (M, N, 1)."""
    def f(t):
        if t.dim() == 0:
            return t.reshape(1, 1, 1)
        if t.dim() == 1:
            return t.reshape(1, -1, 1)
        if t.dim() == 2:
            return t.unsqueeze(-1)
        return t
    return _atleast(tensors, f)


def vander(x, N=None, increasing=False):
    """Vandermonde matrix: columns x**(N-1), ..., x**0 (increasing: x**0 first); integers widen to int64."""
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    if N is None:
        N = x.shape[0]
    if N < 0:
        raise RuntimeError("N must be non-negative.")
    if not x.dtype.is_floating_point:
        x = x.to(int64)
    from ._creation import ones
    cols = [ones(x.shape[0], dtype=x.dtype, device=x.device)] if N else []
    for _ in range(1, N):
        cols.append(cols[-1] * x)
    if not cols:
        return _zeros([x.shape[0], 0], x)
    out = _C.stack(cols, 1)
    return out if increasing else out.flip([1])


def count_nonzero(input, dim=None):
    """The number of nonzero elements (over dim: an int or a tuple of ints), as int64."""
    nz = input.ne(0)
    if dim is None:
        return nz.sum()
    dims = [dim] if isinstance(dim, int) else list(dim)
    seen = set()
    for d in dims:
        w = _wrap(d, input.dim())
        if w in seen:
            raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
        seen.add(w)
    return nz.sum(dim=tuple(dims)) if dims else nz.sum()


# ------------------------------------------------------------------------------------------ integer-valued
def _np(t):
    from ._tensor import _numpy_of
    return _numpy_of(t)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    """Indices where input's values would be inserted into the innermost dim of sorted_sequence to keep it
    sorted (side='left': first such index, 'right'/right=True: last); int64 (int32 with out_int32)."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    scalar = not isinstance(input, _C.TensorBase)
    if scalar:
        if sorted_sequence.dim() != 1:
            raise RuntimeError("torch.searchsorted(): input value can be a scalar only when boundaries tensor "
                               f"dimension is 1, but we got boundaries tensor dim({sorted_sequence.dim()}) and "
                               "input value's dim(0) numel(1)")
        input = _tensor([input]).to(sorted_sequence.dtype)
    if sorter is not None:
        if sorter.dtype != int64:
            raise RuntimeError(f"torch.searchsorted(): sorter must be a tensor of long dtype but got dtype "
                               f"{_dtype_name(sorter.dtype)}")
        if list(sorter.shape) != list(sorted_sequence.shape):
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size, but got "
                               f"boundary tensor {list(sorted_sequence.shape)}and got sorter tensor "
                               f"{list(sorter.shape)}")
    if sorted_sequence.dim() == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
                           "dimension")
    if sorted_sequence.dim() != 1 and (input.dim() != sorted_sequence.dim()
                                       or list(input.shape[:-1]) != list(sorted_sequence.shape[:-1])):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(sorted_sequence.shape)} and input value tensor "
                           f"{list(input.shape)}")
    seq, val = _np(sorted_sequence), _np(input)
    if sorter is not None:
        seq = np.take_along_axis(seq, _np(sorter), -1)
    sd = "right" if right else "left"
    if seq.ndim == 1:
        res = np.searchsorted(seq, val, side=sd)
    else:
        s2, v2 = seq.reshape(-1, seq.shape[-1]), val.reshape(-1, val.shape[-1])
        res = np.stack([np.searchsorted(a, b, side=sd) for a, b in zip(s2, v2)]).reshape(val.shape) if len(s2) \
            else np.zeros(val.shape, np.int64)
    res = np.asarray(res, np.int32 if out_int32 else np.int64)
    if scalar:
        res = res.reshape(())
    from ._creation import tensor
    result = tensor(res, device=sorted_sequence.device)
    if out is not None:
        out.copy_(result)
        return out
    return result


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each input value among the 1-D sorted boundaries (right=False: boundaries[i-1] < x <=
    boundaries[i]; right=True: boundaries[i-1] <= x < boundaries[i])."""
    if boundaries.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


def histc(input, bins=100, min=0, max=0, *, out=None):
    """Histogram of input's values in bins equal-width bins over [min, max] (min == max: the data's range;
    values outside are ignored, max itself goes into the last bin); same dtype as input."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_dtype_name(input.dtype)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    x = _np(input).reshape(-1)
    dt = x.dtype.type
    lo, hi = dt(min), dt(max)
    if lo == hi and x.size:
        lo, hi = x.min(), x.max()
    if lo == hi:
        lo, hi = lo - dt(1), hi + dt(1)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    x = x[(x >= lo) & (x <= hi)]
    pos = ((x - lo) * dt(bins) / (hi - lo)).astype(np.int64)
    pos[pos == bins] = bins - 1
    res = np.bincount(pos, minlength=bins).astype(x.dtype)
    from ._creation import tensor
    result = tensor(res, device=input.device)
    if out is not None:
        out.copy_(result)
        return out
    return result


def bincount(input, weights=None, minlength=0):
    """Counts of each value of a 1-D non-negative integer tensor (length max(input.max() + 1, minlength)),
    int64; with weights, the sum of the weights per value (float32 weights stay float32, others give
    float64). Differentiable with respect to weights."""
    if input.dtype.is_floating_point:
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_dtype_name(input.dtype)}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if input.dim() != 1 or (input.numel() and int(input.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.dim() != 1 or weights.shape[0] != input.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    n = builtin_max(int(input.max()) + 1 if input.numel() else 0, minlength)
    idx = input.to(int64)
    if weights is None:
        from ._creation import ones, zeros
        return zeros(n, dtype=int64, device=input.device).scatter_add(0, idx, ones(input.shape[0], dtype=int64,
                                                                                       device=input.device))
    w = weights if weights.dtype in (float32, float64) else weights.to(float64)
    from ._creation import zeros
    return zeros(n, dtype=w.dtype, device=input.device).scatter_add(0, idx, w)


builtin_max = max


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Drops all but the first of each run of equal consecutive elements (dim=None: of the flattened
    tensor; else of slices along dim). Returns output, and inverse indices / run counts when asked."""
    from ._creation import tensor
    a = _np(input)
    if dim is None:
        flat = a.reshape(-1)
        if flat.size:
            keep = np.concatenate([[True], flat[1:] != flat[:-1]])
        else:
            keep = np.zeros(0, bool)
        vals = flat[keep]
        inv = (np.cumsum(keep) - 1).reshape(a.shape)
    else:
        d = _wrap(dim, input.dim())
        m = np.moveaxis(a, d, 0)
        n = m.shape[0]
        if n:
            diff = (m[1:] != m[:-1]).reshape(n - 1, -1).any(axis=1) if m[0].size else np.zeros(n - 1, bool)
            keep = np.concatenate([[True], diff])
        else:
            keep = np.zeros(0, bool)
        vals = np.moveaxis(m[keep], 0, d)
        inv = np.cumsum(keep) - 1
    starts = np.nonzero(keep)[0]
    counts = np.diff(np.append(starts, len(keep)))
    return _unique_result(input, vals, inv, counts, return_inverse, return_counts)


def _unique_result(input, vals, inv, counts, return_inverse, return_counts):
    """unique's and unique_consecutive's return: the values (NumPy arrays as input's dtype and device), then the
    inverse indices and the counts as int64 where asked"""
    from ._creation import tensor
    out = tensor(np.ascontiguousarray(vals), dtype=input.dtype, device=input.device)
    res = [out]
    if return_inverse:
        res.append(tensor(np.asarray(inv, np.int64), dtype=int64, device=input.device))
    if return_counts:
        res.append(tensor(np.asarray(counts, np.int64), dtype=int64, device=input.device))
    return res[0] if len(res) == 1 else tuple(res)


def _install():
    from ._tensor import Tensor
    for name in ("diagonal", "fill_diagonal_", "diag_embed", "trace", "kron", "roll", "rot90", "count_nonzero", "bincount", "histc",
                 "unique_consecutive", "diag"):
        if not hasattr(Tensor, name):
            setattr(Tensor, name, globals()[name])


_install()

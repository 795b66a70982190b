"""Advanced indexing (int/bool tensors and lists), called by the C __getitem__/__setitem__
after it has applied the basic part (ints, slices, None, ...) as a view.

Reads are composed from ops (index_select, permute, reshape), so autograd works for free.
Writes go through NumPy's identical semantics on the CPU tensor's memory."""
import numpy as np

from . import _C
from ._types import SCALAR_TYPE_NAMES


def _as_index_tensors(view, pairs):
    """Turns (dim, index) pairs into (dims, int64 index tensors); a bool mask over k dims becomes k indices."""
    from ._creation import tensor

    dims, idxs = [], []
    first = pairs[0][0] if pairs else 0  # PyTorch numbers the dims in its messages from the first advanced one
    for dim, obj in pairs:
        if not isinstance(obj, _C.TensorBase):
            obj = tensor(obj) if not isinstance(obj, list) or obj else tensor(obj, dtype=_int64())
            if obj.dtype.is_floating_point:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if obj.dtype.name == "bool":
            k = obj.dim()
            for j in range(k):
                if obj.shape[j] != view.shape[dim + j]:
                    raise IndexError(
                        f"The shape of the mask {list(obj.shape)} at index {j} does not match the shape of the indexed "
                        f"tensor {list(view.shape)} at index {dim + j}")
            nz = np.nonzero(obj.cpu().numpy())
            for j in range(k):
                dims.append(dim + j)
                idxs.append(tensor(nz[j], dtype=_int64()).to(view.device))
        elif obj.dtype.is_floating_point:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        else:
            size = view.shape[dim]
            if obj.numel():
                lo, hi = int(obj.min()), int(obj.max())
                bad = hi if hi >= size else lo if lo < -size else None
                if bad is not None:
                    raise IndexError(f"index {bad} is out of bounds for dimension {dim - first} with size {size}")
            if obj.dtype.name != "int64":
                obj = obj.long()
            dims.append(dim)
            idxs.append(_C.where(obj < 0, obj + size, obj))
    return dims, idxs


def _zero_dim_masks(view, pairs):
    """A 0-d bool index adds a dim of size 1 that it keeps (True) or empties (False), as in PyTorch."""
    out, shift = [], 0
    for dim, obj in pairs:
        dim += shift
        if isinstance(obj, _C.TensorBase) and obj.dtype.name == "bool" and obj.dim() == 0:
            from ._creation import tensor
            view = view.unsqueeze(dim)
            obj = tensor([0] if bool(obj) else [], dtype=_int64()).to(view.device)
            shift += 1
        out.append((dim, obj))
    return view, out


def _int64():
    from ._types import int64

    return int64


def advanced_getitem(view, pairs):
    view, pairs = _zero_dim_masks(view, pairs)
    dims, idxs = _as_index_tensors(view, pairs)
    return _gather(view, dims, idxs)


def _gather(view, dims, idxs):
    """view[advanced indices idxs at dims] (the indices already int64, in range, non-negative)."""
    shapes = [tuple(i.shape) for i in idxs]
    bshape = tuple(np.broadcast_shapes(*shapes)) if shapes else ()
    idxs = [i.expand(*bshape) if tuple(i.shape) != bshape else i for i in idxs]
    rest = [d for d in range(view.dim()) if d not in dims]
    moved = view.permute(*dims, *rest) if dims != list(range(len(dims))) else view
    adv_sizes = [view.shape[d] for d in dims]
    n_adv = 1
    for s in adv_sizes:
        n_adv *= s
    flat = moved.reshape(n_adv, *[view.shape[d] for d in rest])
    lin = None
    stride = 1
    for d_size, idx in zip(reversed(adv_sizes), reversed(idxs)):
        term = idx * stride if stride != 1 else idx
        lin = term if lin is None else lin + term
        stride *= d_size
    out = flat.index_select(0, lin.reshape(-1))
    out = out.reshape(*bshape, *[view.shape[d] for d in rest])
    # NumPy's rule: adjacent advanced dims keep their place; separated ones go first
    adjacent = dims == list(range(dims[0], dims[0] + len(dims)))
    if adjacent and dims[0] > 0:
        nb = len(bshape)
        before = list(range(nb, nb + dims[0]))
        order = before + list(range(nb)) + list(range(nb + dims[0], out.dim()))
        out = out.permute(*order)
    return out


def _result_shape(shape, dims, bshape):
    """The shape of view[index] for advanced indices at dims broadcast to bshape (NumPy's placement)."""
    rest = [shape[d] for d in range(len(shape)) if d not in dims]
    if dims and dims == list(range(dims[0], dims[0] + len(dims))):
        return tuple(shape[:dims[0]]) + tuple(bshape) + tuple(shape[dims[-1] + 1:])
    return tuple(bshape) + tuple(rest)


class _PutArgs:
    """index_put_'s values and accumulate flag, passed through the C __setitem__ to advanced_setitem."""
    __slots__ = ("values", "accumulate")

    def __init__(self, values, accumulate):
        self.values = values
        self.accumulate = accumulate


def _shape_error(value_shape, result_shape):
    return RuntimeError(f"shape mismatch: value tensor of shape {list(value_shape)} cannot be broadcast to "
                        f"indexing result of shape {list(result_shape)}")


def _broadcasts_to(shape, target):
    if len(shape) > len(target):
        return False
    return all(s == 1 or s == t for s, t in zip(reversed(shape), reversed(target)))


def advanced_setitem(view, pairs, value, self=None, index=None):
    """view[pairs] = value (x[index] = value, or index_put_ when value is a _PutArgs). `self` is the
    tensor being indexed, `index` the whole index, `view` the result of applying its basic part to self."""
    strict, accumulate = False, False
    if isinstance(value, _PutArgs):  # index_put_: no leading-1 stripping, accumulate
        strict, accumulate, value = True, value.accumulate, value.values
    if view.device.type != "cpu":
        raise NotImplementedError("minitorch: advanced-index assignment is supported on CPU tensors only")
    orig_pairs = pairs
    view, pairs = _zero_dim_masks(view, pairs)
    dims, idxs = _as_index_tensors(view, pairs)
    shapes = [tuple(i.shape) for i in idxs]
    try:  # PyTorch checks the indices broadcast before it looks at the value
        bshape = tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                         + ", ".join(str(list(s)) for s in shapes)) from None
    result_shape = _result_shape(tuple(view.shape), dims, bshape)
    if isinstance(value, _C.TensorBase):
        # PyTorch's index_put_ needs equal dtypes, except a one-element value under a single
        # bool mask, which it sends to masked_fill_ (and that converts)
        one_mask = (not accumulate and len(orig_pairs) == 1 and isinstance(orig_pairs[0][1], _C.TensorBase)
                    and orig_pairs[0][1].dtype.name == "bool" and orig_pairs[0][1].dim() > 0)
        if value.dtype != view.dtype and not (one_mask and value.numel() == 1):
            raise RuntimeError("Index put requires the source and destination dtypes match, got "
                               f"{SCALAR_TYPE_NAMES[view.dtype]} for the destination and {SCALAR_TYPE_NAMES[value.dtype]} for the source.")
        if strict and not _broadcasts_to(tuple(value.shape), result_shape):
            raise _shape_error(value.shape, result_shape)
    if _C.is_grad_enabled() and (view.requires_grad or (isinstance(value, _C.TensorBase) and value.requires_grad)):
        if self is not None and self._base is None and self.is_contiguous():
            # memory offsets in self are its row-major positions: computed from view's strides, O(written)
            lin = _strided_positions(view, self.storage_offset(), dims, idxs, bshape, result_shape)
        elif self is not None and index is not None:
            # the positions, in self's row-major order, of the written elements: self's own indexing
            # applied to a tensor of positions (the same basic and advanced rules, the same result layout)
            lin = _positions(self)[index]
        else:  # called without the C layer's context: write into the view
            self, lin = view, _gather(_positions(view), dims, idxs)
        _setitem_autograd(self, lin.reshape(-1), value, result_shape, strict, accumulate)
        return None
    # NumPy has no bfloat16: write into a float32 copy (exact), rounded back once at the end
    target = view.detach().float() if view.dtype.name == "bfloat16" else view.detach()
    arr = target.numpy()
    key = [slice(None)] * view.dim()
    # build a NumPy key: advanced entries at their dims
    for d, i in zip(dims, idxs):
        key[d] = i.numpy()
    # NumPy needs advanced entries in one block to keep PyTorch's placement; they are, as given
    if isinstance(value, _C.TensorBase):
        from ._tensor import _numpy_of
        value = _numpy_of(value)
    try:
        if accumulate:
            np.add.at(arr, tuple(key), np.asarray(value, dtype=arr.dtype))
        else:
            arr[tuple(key)] = value
    except ValueError:
        raise _shape_error(np.shape(value), arr[tuple(key)].shape) from None
    if target.dtype is not view.dtype:
        view.detach().copy_(target)
    return None


def _strided_positions(view, base_offset, dims, idxs, bshape, result_shape):
    """The storage offsets (from base_offset) of view[advanced indices idxs at dims], in the result's layout."""
    from ._creation import arange, tensor

    nd, nb, r = view.dim(), len(bshape), len(result_shape)
    rest = [d for d in range(nd) if d not in dims]
    adjacent = dims == list(range(dims[0], dims[0] + len(dims)))
    at = dims[0] if adjacent else 0  # where the broadcast index dims sit in the result
    lin = tensor(view.storage_offset() - base_offset, dtype=_int64(), device=view.device)
    for d, i in zip(dims, idxs):
        shp = [1] * (at + nb - i.dim()) + list(i.shape) + [1] * (r - at - nb)
        lin = lin + i.reshape(shp) * view.stride(d)
    for k, d in enumerate(rest):
        pos = (d if d < at else d - len(dims) + nb) if adjacent else nb + k
        shp = [1] * r
        shp[pos] = view.shape[d]
        lin = lin + arange(view.shape[d], dtype=_int64(), device=view.device).reshape(shp) * view.stride(d)
    return lin.expand(*result_shape).reshape(-1)


def _positions(t):
    from ._creation import arange

    return arange(t.numel(), dtype=_int64(), device=t.device).view(tuple(t.shape))


def _setitem_autograd(target, lin, value, result_shape, strict, accumulate):
    """The assignment when autograd records it (PyTorch's IndexPutBackward0): the gradient of target's old
    value is the incoming one with the written positions (lin, flat in target's row-major order) zeroed
    (kept whole when accumulating), the value's is the incoming one at those positions, summed back to its
    shape. Both are built of differentiable ops, so double backward works."""
    from ._creation import tensor

    if not isinstance(value, _C.TensorBase):
        value = tensor(value, dtype=target.dtype)
    if value.dtype != target.dtype:
        value = value.to(target.dtype)
    if not strict:  # x[i] = v drops v's leading size-1 dims, as PyTorch's copy_to
        k = 0
        while k < value.dim() and value.shape[k] == 1:
            k += 1
        if k:
            value = value.reshape(tuple(value.shape[k:]))
    if not _broadcasts_to(tuple(value.shape), result_shape):
        raise _shape_error(value.shape, result_shape)
    if target._base is None and target.is_contiguous():
        _put_recorded(target, lin, value, result_shape, accumulate)
        return
    # target is a view (or not contiguous): compute its new contents out of place and copy them in, which
    # rebases the base's history (CopySlices) and makes target a window of the new base
    flat = target.reshape(-1)
    src = value.expand(*result_shape).reshape(-1)
    new = flat.scatter_add(0, lin, src) if accumulate else flat.scatter(0, lin, src)
    target.copy_(new.view(tuple(target.shape)))


class _PutCtx:
    __slots__ = ("lin", "value_shape", "result_shape", "accumulate", "self_grad", "value_grad")


def _put_backward(ctx, g):
    from ._creation import zeros

    flat = g.reshape(-1)
    gs = gv = None
    if ctx.self_grad:
        gs = g if ctx.accumulate else flat.scatter(0, ctx.lin, zeros(ctx.lin.shape, dtype=g.dtype, device=g.device)).view(tuple(g.shape))
    if ctx.value_grad:
        gv = _sum_to(flat.index_select(0, ctx.lin).reshape(ctx.result_shape), ctx.value_shape)
    return gs, gv


def _sum_to(t, shape):
    lead = t.dim() - len(shape)
    if lead:
        t = t.sum(dim=tuple(range(lead)))
    red = tuple(i for i, s in enumerate(shape) if s == 1 and t.shape[i] != 1)
    if red:
        t = t.sum(dim=red, keepdim=True)
    return t


def _put_recorded(target, lin, value, result_shape, accumulate):
    """Writes value at the flat positions lin of the contiguous, base-less target, and records one
    IndexPutBackward0 node whose edges lead to target's old history and to value."""
    from .autograd.grad_mode import no_grad

    ctx = _PutCtx()
    ctx.lin = lin
    ctx.value_shape = tuple(value.shape)
    ctx.result_shape = tuple(result_shape)
    ctx.accumulate = accumulate
    ctx.self_grad = target.requires_grad
    ctx.value_grad = value.requires_grad
    with no_grad():
        src = value.detach().expand(*result_shape).reshape(-1)
        flat = target.detach().view(-1)
        if accumulate:
            flat.scatter_add_(0, lin, src)
        else:
            flat.scatter_(0, lin, src)
    _C._function_record(ctx, "IndexPutBackward0", _put_backward, (target, value), (target,))



def _parse_put_args(name, args, kwargs, first):
    """(indices, values, accumulate) from torch's signature index_put(indices, values, accumulate=False);
    `first` is the position of indices in the messages (1 for the methods, 2 for the function)."""
    names = ("indices", "values", "accumulate")
    if len(args) > 3:
        raise TypeError(f"{name}() takes from {first + 1} to {first + 2} positional arguments but "
                        f"{len(args) + first - 1} were given")
    got = dict(zip(names, args))
    positional = set(got)
    for k, v in kwargs.items():
        if k not in names:
            raise TypeError(f"{name}() got an unexpected keyword argument '{k}'")
        if k in got:
            raise TypeError(f"{name}() got multiple values for argument '{k}'")
        got[k] = v
    missing = [k for k in names[:2] if k not in got]
    if missing:
        raise TypeError(f"{name}() missing {len(missing)} required positional arguments: "
                        + ", ".join(f'"{k}"' for k in missing))
    indices, values, accumulate = got["indices"], got["values"], got.get("accumulate", False)

    def where(k):
        return f" (position {first + names.index(k)})" if k in positional else ""

    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{name}(): argument 'indices'{where('indices')} must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    for j, i in enumerate(indices):
        if not isinstance(i, _C.TensorBase):
            raise TypeError(f"expected Tensor as element {j} in argument {first - 1}, but got {type(i).__name__}")
    if not isinstance(values, _C.TensorBase):
        raise TypeError(f"{name}(): argument 'values'{where('values')} must be Tensor, not {type(values).__name__}")
    if not isinstance(accumulate, bool):
        raise TypeError(f"{name}(): argument 'accumulate'{where('accumulate')} must be bool, not "
                        f"{type(accumulate).__name__}")
    return tuple(indices), values, accumulate


def _root(t):
    b = t._base
    return t if b is None else b


def _span(t):
    """[first, last] element offsets (in the storage) that t reaches, or None when it is empty."""
    if t.numel() == 0:
        return None
    lo = hi = t.storage_offset()
    for n, st in zip(t.shape, t.stride()):
        if st >= 0:
            hi += (n - 1) * st
        else:
            lo += (n - 1) * st
    return lo, hi


def _index_put_(self, indices, values, accumulate):
    if self.device.type != "cpu":
        raise NotImplementedError("minitorch: index_put_ is supported on CPU tensors only")
    consumed = sum(i.dim() if i.dtype.name in ("bool", "uint8") else 1 for i in indices)
    if consumed > self.dim():
        raise IndexError(f"too many indices for tensor of dimension {self.dim()} (got {consumed})")
    if not indices:
        raise RuntimeError("index_put_(): indices must contain at least one index tensor")
    # the value may not share memory with the target (PyTorch's check; memory it cannot classify, i.e. not
    # dense on both sides, is read from a private copy instead)
    if _root(values) is _root(self):
        a, b = _span(self), _span(values)
        if a is not None and b is not None and a[0] <= b[1] and b[0] <= a[1]:
            if self.is_contiguous() and values.is_contiguous():
                raise RuntimeError(
                    "unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
                    "single memory location. Please clone() the tensor before performing the operation.")
            values = values.clone()
    key = []
    for i in indices:
        if i.dtype.name == "uint8":  # PyTorch reads a byte index as a mask
            i = i.bool()
        elif i.dim() == 0 and not i.dtype.is_floating_point and i.dtype.name != "bool":
            # a 0-d integer index is an advanced index of shape () here, not the C layer's basic select
            i = np.asarray(int(i), dtype=np.int64)
        key.append(i)
    self.__setitem__(tuple(key), _PutArgs(values, accumulate))
    return self


def index_put_(self, *args, **kwargs):
    """Tensor.index_put_(indices, values, accumulate=False): self[indices] = values (or += with duplicates
    summed, when accumulate), with torch's argument checks; recorded by autograd as IndexPutBackward0."""
    indices, values, accumulate = _parse_put_args("index_put_", args, kwargs, 1)
    return _index_put_(self, indices, values, accumulate)


def tensor_index_put(self, *args, **kwargs):
    """Tensor.index_put(indices, values, accumulate=False): index_put_ into a copy."""
    indices, values, accumulate = _parse_put_args("index_put", args, kwargs, 1)
    return _index_put_(self.clone(), indices, values, accumulate)


def index_put(input, *args, **kwargs):
    """minitorch.index_put(input, indices, values, accumulate=False): index_put_ into a copy of input."""
    indices, values, accumulate = _parse_put_args("index_put", args, kwargs, 2)
    return _index_put_(input.clone(), indices, values, accumulate)

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
                    raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
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


def advanced_setitem(view, pairs, value):
    if view.device.type != "cpu":
        raise NotImplementedError("minitorch: advanced-index assignment is supported on CPU tensors only")
    if view.requires_grad and _C.is_grad_enabled():
        raise NotImplementedError("minitorch: advanced-index assignment into a tensor that requires grad")
    orig_pairs = pairs
    view, pairs = _zero_dim_masks(view, pairs)
    dims, idxs = _as_index_tensors(view, pairs)
    shapes = [tuple(i.shape) for i in idxs]
    try:  # PyTorch checks the indices broadcast before it looks at the value
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                         + ", ".join(str(list(s)) for s in shapes)) from None
    arr = view.detach().numpy()
    key = [slice(None)] * view.dim()
    # build a NumPy key: advanced entries at their dims
    for d, i in zip(dims, idxs):
        key[d] = i.numpy()
    # NumPy needs advanced entries in one block to keep PyTorch's placement; they are, as given
    if isinstance(value, _C.TensorBase):
        # PyTorch's index_put_ needs equal dtypes, except a one-element value under a single
        # bool mask, which it sends to masked_fill_ (and that converts)
        one_mask = len(orig_pairs) == 1 and isinstance(orig_pairs[0][1], _C.TensorBase) and orig_pairs[0][1].dtype.name == "bool" and orig_pairs[0][1].dim() > 0
        if value.dtype != view.dtype and not (one_mask and value.numel() == 1):
            raise RuntimeError("Index put requires the source and destination dtypes match, got "
                               f"{SCALAR_TYPE_NAMES[view.dtype]} for the destination and {SCALAR_TYPE_NAMES[value.dtype]} for the source.")
        value = value.detach().cpu().numpy()
    try:
        arr[tuple(key)] = value
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(value))} cannot be broadcast to "
                           f"indexing result of shape {list(arr[tuple(key)].shape)}") from None
    return None

"""index_add / index_copy / index_fill (and their in-place forms), masked_scatter, take, put: composed from
scatter, scatter_add and advanced indexing, so autograd (double backward included), every device the parts run on
and every dtype come from those (the grad_fn is the part's, e.g. ScatterAddBackward0 for torch's
IndexAddBackward0). PyTorch's signatures, checks and messages."""
from . import _C

__all__ = ["index_add", "index_copy", "index_fill", "masked_scatter", "take"]


def _dim(self, dim):
    n = max(self.dim(), 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


# per op, as torch: whether a negative index counts from the end, and how an index out of range is reported
_RANGE = {"index_add": (False, RuntimeError, ""), "index_copy": (False, IndexError, "index_copy_(): "),
          "index_fill": (True, IndexError, "")}


def _index_along(self, dim, index, like_shape, fn):
    """index (1-D, integer, in range for self.size(dim)) viewed along dim and expanded to like_shape"""
    name = fn.rstrip("_")
    if not isinstance(index, _C.TensorBase) or index.dtype.name not in ("int64", "int32"):
        got = type(index).__name__ if not isinstance(index, _C.TensorBase) else \
            {"float32": "Float", "float64": "Double", "bool": "Bool"}.get(index.dtype.name, index.dtype.name)
        raise RuntimeError(f"{name}_(): Expected dtype int32/int64 for index but got: {got}")
    if index.dim() > 1:
        raise IndexError(f"{name}_(): Index is supposed to be a vector")
    index = index.reshape(-1)
    size = self.size(dim) if self.dim() else 1
    negative, exc, prefix = _RANGE[name]
    if index.numel():
        lo, hi = int(index.min()), int(index.max())
        if lo < (-size if negative else 0) or hi >= size:
            bad = hi if hi >= size else lo
            raise exc(f"{prefix}index {bad} is out of bounds for dimension {dim} with size {size}")
        index = index.remainder(size) if lo < 0 else index
    shape = [1] * len(like_shape)
    if shape:
        shape[dim] = index.numel()
    return index.reshape(shape).expand(*like_shape) if like_shape else index.reshape(())


def _source_shape(self, dim, index, source, fn):
    want = list(self.shape)
    if want:
        want[dim] = index.numel()
    if list(source.shape) != want and not (source.dim() == 0 and index.numel() == 1 and self.dim() <= 1):
        have = source.size(dim) if source.dim() > dim else 1
        if have != index.numel():
            raise RuntimeError(f"{fn.rstrip('_')}_(): Number of indices ({index.numel()}) should be equal to "
                               f"source.size(dim): ({have}), for dim: {dim}")
        raise RuntimeError(f"{fn.rstrip('_')}_(): Source/destination tensor must have same slice shapes. "
                           f"Destination slice shape: {[s for d, s in enumerate(self.shape) if d != dim]} at dimension "
                           f"{dim} and source slice shape: {[s for d, s in enumerate(source.shape) if d != dim]} at "
                           f"dimension {dim}.")
    return source.reshape(want)


def index_add(self, dim, index, source, *, alpha=1):
    dim = _dim(self, dim)
    source = _source_shape(self, dim, index, source, "index_add")
    idx = _index_along(self, dim, index, tuple(source.shape), "index_add")
    return self.scatter_add(dim, idx, source if alpha == 1 else source * alpha)


def index_add_(self, dim, index, source, *, alpha=1):
    dim = _dim(self, dim)
    source = _source_shape(self, dim, index, source, "index_add_")
    idx = _index_along(self, dim, index, tuple(source.shape), "index_add_")
    return self.scatter_add_(dim, idx, source if alpha == 1 else source * alpha)


def index_copy(self, dim, index, source):
    dim = _dim(self, dim)
    source = _source_shape(self, dim, index, source, "index_copy")
    return self.scatter(dim, _index_along(self, dim, index, tuple(source.shape), "index_copy"), source)


def index_copy_(self, dim, index, source):
    dim = _dim(self, dim)
    source = _source_shape(self, dim, index, source, "index_copy_")
    return self.scatter_(dim, _index_along(self, dim, index, tuple(source.shape), "index_copy_"), source)


def _fill_shape(self, dim, index):
    shape = list(self.shape)
    if shape:
        shape[dim] = index.numel()
    return tuple(shape)


def _fill_value(self, value, shape):
    if isinstance(value, _C.TensorBase):
        if value.dim() != 0:
            raise IndexError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                             f"{value.dim()} dimension(s).")
        return value.to(self.dtype).expand(*shape)
    from ._creation import full
    return full(shape, value, dtype=self.dtype, device=self.device)


def index_fill(self, dim, index, value):
    dim = _dim(self, dim)
    shape = _fill_shape(self, dim, index.reshape(-1))
    return self.scatter(dim, _index_along(self, dim, index, shape, "index_fill"), _fill_value(self, value, shape))


def index_fill_(self, dim, index, value):
    dim = _dim(self, dim)
    shape = _fill_shape(self, dim, index.reshape(-1))
    return self.scatter_(dim, _index_along(self, dim, index, shape, "index_fill_"), _fill_value(self, value, shape))


def _masked_positions(self, mask, source, fn):
    if mask.dtype.name != "bool":
        raise RuntimeError(f"{fn}_: expected BoolTensor for mask")
    if source.dtype != self.dtype:
        raise RuntimeError(f"{fn}_: expected self and source to have same dtypes but got {self.dtype} and {source.dtype}")
    mask = mask.expand_as(self) if tuple(mask.shape) != tuple(self.shape) else mask
    n = int(mask.sum())
    if source.numel() < n:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return mask, source.reshape(-1)[:n]


def masked_scatter(self, mask, source):
    mask, vals = _masked_positions(self, mask, source, "masked_scatter")
    out = self.clone()
    out[mask] = vals
    return out


def masked_scatter_(self, mask, source):
    mask, vals = _masked_positions(self, mask, source, "masked_scatter")
    self[mask] = vals
    return self


def _check_flat(self, index):
    """index into self's elements in row-major order (negative from the end), as take and put check it"""
    n = self.numel()
    if index.numel():
        lo, hi = int(index.min()), int(index.max())
        if lo < -n or hi >= n:
            raise IndexError(f"out of range: tried to access index {hi if hi >= n else lo} on a tensor of {n} elements.")


def take(self, index):
    _check_flat(self, index)
    return self.reshape(-1)[index]


def put_(self, index, source, accumulate=False):
    if index.numel() != source.numel():
        raise RuntimeError(f"put_(): Expected source and index to have the same number of elements, but got "
                           f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    _check_flat(self, index)
    if self.is_contiguous():
        self.view(-1).index_put_((index.reshape(-1),), source.reshape(-1), accumulate)
        return self
    flat = self.reshape(-1).clone().index_put_((index.reshape(-1),), source.reshape(-1), accumulate)
    return self.copy_(flat.view(self.shape))


def put(self, index, source, accumulate=False):
    return put_(self.clone(), index, source, accumulate)


def _install():
    from ._tensor import Tensor
    for name in ("index_add", "index_add_", "index_copy", "index_copy_", "index_fill", "index_fill_",
                 "masked_scatter", "masked_scatter_", "take", "put_", "put"):
        if not hasattr(Tensor, name):
            setattr(Tensor, name, globals()[name])


_install()

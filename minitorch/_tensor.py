"""minitorch.Tensor: the C TensorBase plus the Python-level conveniences."""
import numpy as np

from . import _C, _tensor_str, _types
from ._types import ALL_DTYPES, SCALAR_TYPE_NAMES, Size as _Size, bool_, device as _device, dtype as _dtype, float32, float64, int32, int64


def _numpy_of(t):
    """t's values as a NumPy array (detached, on the host): a view where NumPy has t's dtype; bfloat16, which NumPy
    lacks, as a float32 copy (which holds every bfloat16 value exactly)."""
    t = t.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    return (t.float() if t.dtype is _types.bfloat16 else t).numpy()


class Tensor(_C.TensorBase):
    def __new__(cls, *args, **kwargs):
        # the legacy constructor: Tensor([1., 2.]) is data, Tensor(2, 3) uninitialised storage of that shape
        from ._creation import _legacy_new
        return _legacy_new(cls, args, kwargs)

    # ---- printing ----
    def __repr__(self, *, tensor_contents=None):
        values = _numpy_of(self)
        dev = None if self.device.type == "cpu" else str(self.device)
        gf = self.grad_fn
        return _tensor_str.format_tensor(
            values, dtype=self.dtype.name, device=dev,
            requires_grad=self.requires_grad and gf is None, grad_fn=gf.name() if gf is not None else None)

    __str__ = __repr__

    def __format__(self, spec):
        if self.dim() == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    # ---- Python protocols ----
    def __iter__(self):
        if self.dim() == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __reversed__(self):
        return self.flip(0) if self.dim() else self

    def __array__(self, dtype=None, copy=None):
        a = self.detach().cpu().numpy()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __contains__(self, element):
        if isinstance(element, (Tensor, int, float, bool)):
            return bool((self == element).any())
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a {type(element)}.")

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        new = self.detach().clone()
        new.requires_grad_(self.requires_grad)
        if self.grad is not None:
            new.grad = self.grad.detach().clone()
        if type(self) is not Tensor:
            new = type(self)._make_subclass(new, self.requires_grad)
        memo[id(self)] = new
        return new

    def share_memory_(self):
        """Moves the storage to shared memory (see minitorch/_shared_memory.py); a no-op if it is there."""
        from ._shared_memory import share_memory_
        return share_memory_(self)

    def is_shared(self):
        from ._shared_memory import is_shared
        return is_shared(self)

    # ---- DLPack (csrc/python/dlpack_py.c): zero-copy exchange with NumPy, PyTorch, JAX ... (CPU memory) ----
    def __dlpack__(self, stream=None, max_version=None, dl_device=None, copy=None):
        if self.requires_grad:
            raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")
        if dl_device is not None and tuple(dl_device) != self.__dlpack_device__():
            raise BufferError(f"minitorch: __dlpack__ to device {tuple(dl_device)} is not supported (the tensor is on "
                              f"{self.__dlpack_device__()}; copy it there first)")
        return _C._to_dlpack(self.clone() if copy else self)

    def __dlpack_device__(self):
        return (2, self.device.index or 0) if self.device.type == "cuda" else (1, 0)

    def __reduce_ex__(self, proto):
        from ._creation import _rebuild_tensor
        args = (_numpy_of(self).copy(), self.requires_grad, str(self.device))
        return (_rebuild_tensor, args + (("bfloat16",) if self.dtype is _types.bfloat16 else ()))

    # ---- indexing ----
    def index_put_(self, *args, **kwargs):
        from ._indexing import index_put_
        return index_put_(self, *args, **kwargs)

    def index_put(self, *args, **kwargs):
        from ._indexing import tensor_index_put
        return tensor_index_put(self, *args, **kwargs)

    # ---- conversions ----
    def to(self, *args, **kwargs):
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
        for a in args:
            if isinstance(a, _dtype):
                dtype = a
            elif isinstance(a, (str, _device, int)) and not isinstance(a, bool):
                device = a
            elif isinstance(a, _C.TensorBase):
                dtype, device = a.dtype, a.device
            elif a is not None:
                raise TypeError(f"to() received an invalid combination of arguments - got ({type(a).__name__})")
        return self._to(dtype, device, copy)

    def cuda(self, device=None, non_blocking=False):
        return self._to(None, _device("cuda", device) if isinstance(device, int) else (device or "cuda"))

    def cpu(self):
        return self._to(None, "cpu")

    def float(self):
        return self._to(float32)

    def double(self):
        return self._to(float64)

    def long(self):
        return self._to(int64)

    def int(self):
        return self._to(int32)

    def bool(self):
        return self._to(bool_)

    def half(self):
        return self._to(_types.float16)

    def bfloat16(self):
        return self._to(_types.bfloat16)

    def byte(self):
        return self._to(_types.uint8)

    def char(self):
        return self._to(_types.int8)

    def short(self):
        return self._to(_types.int16)

    def type(self, dtype=None):
        names = {d: f"torch.{n}Tensor" for d, n in SCALAR_TYPE_NAMES.items()}  # torch.HalfTensor, torch.ByteTensor ...
        if dtype is None:
            n = names[self.dtype]
            return n.replace("torch.", "torch.cuda.") if self.is_cuda else n
        if isinstance(dtype, type) and isinstance(getattr(dtype, "dtype", None), _dtype):  # FloatTensor, ...
            dtype = dtype.dtype
        if isinstance(dtype, str):
            by_name = {v: k for k, v in names.items()}
            if dtype in by_name:
                return self._to(by_name[dtype], "cpu")
            cuda = dtype.replace("torch.cuda.", "torch.", 1)
            if dtype.startswith("torch.cuda.") and cuda in by_name:
                return self._to(by_name[cuda], "cuda")
            raise ValueError(f"invalid type: '{dtype}'")
        return self._to(dtype)

    def type_as(self, other):
        return self._to(other.dtype)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from ._creation import tensor
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        from ._creation import zeros
        return zeros(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        from ._creation import ones
        return ones(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from ._creation import full
        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        from ._creation import empty
        return empty(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    # ---- shape helpers built from views ----
    def unflatten(self, dim, sizes):
        from .nn._functional_layers import unflatten
        return unflatten(self, dim, sizes)

    def unbind(self, dim=0):
        n = self.size(dim)  # checks dim
        return self._split([1] * n, dim, 2) if n else ()

    def split(self, split_size, dim=0):
        if self.dim() == 0:
            raise RuntimeError("split expects at least a 1-dimensional tensor")
        size = self.size(dim)
        if isinstance(split_size, int):
            if split_size <= 0 and size:
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
            sizes = [split_size] * (size // split_size) if split_size else []
            if split_size and size % split_size:
                sizes.append(size % split_size)
            return self._split(sizes or [0], dim, 0)
        return self._split(list(split_size), dim, 1)

    def chunk(self, chunks, dim=0):
        if chunks <= 0:
            raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
        if self.dim() == 0:
            raise RuntimeError("chunk expects at least a 1-dimensional tensor")
        size = self.size(dim)
        step = -(-size // chunks) if size else 0
        if step == 0:
            return tuple(self.narrow(dim, 0, 0) for _ in range(chunks)) if size == 0 else (self,)
        return self.split(step, dim)

    def flip(self, *dims):
        from ._creation import arange
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        seen = set()
        for d in dims:
            w = d + self.dim() if d < 0 else d
            if w in seen:
                raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
            seen.add(w)
        if not dims:  # torch returns a copy, never the tensor itself
            return self.clone()
        out = self
        for d in dims:
            n = out.size(d)
            out = out.index_select(d, arange(n - 1, -1, -1, device=out.device))
        return out

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """The k largest (or smallest) entries along dim; NaN counts as the largest value, as in torch.
        Values come from ``gather`` so gradients flow back to the selected entries."""
        from . import return_types
        from ._creation import tensor
        k = int(k)
        if self.dtype.name == "bool":
            raise RuntimeError("topk does not support bool dtypes on CPU")
        if self.dim() == 0:
            if k not in (0, 1):
                raise RuntimeError("selected index k out of range")
            return return_types.topk(self.clone(), tensor(0).to(self.device))
        d = dim + self.dim() if -self.dim() <= dim < 0 else dim
        if not 0 <= d < self.dim():
            raise IndexError(f"Dimension out of range (expected to be in range of [{-self.dim()}, {self.dim() - 1}], "
                             f"but got {dim})")
        n = self.size(d)
        if k < 0 or k > n:
            raise RuntimeError("selected index k out of range")
        key = self._sort_key(d, largest)
        if 0 < k < n and n > 256 and k * 8 < n:  # partial selection, then order only the k kept
            part = np.argpartition(key, k - 1, axis=-1)[..., :k]
            idx = np.take_along_axis(part, np.argsort(np.take_along_axis(key, part, -1), axis=-1, kind="stable"), -1)
        else:
            idx = np.argsort(key, axis=-1, kind="stable")[..., :k]
        indices = tensor(np.ascontiguousarray(np.moveaxis(idx, -1, d))).to(self.device)
        return return_types.topk(self.gather(d, indices), indices)

    def _sort_key(self, d, descending):
        """int64 keys whose ascending stable order along the last axis is the wanted order along dim d.
        Floats map to their IEEE bits made order-preserving, after -0.0 -> 0.0 (equal, as in torch) and every NaN
        -> one positive NaN (the largest value, as in torch); descending is ~key, exact and overflow-free."""
        a = np.moveaxis(_numpy_of(self), d, -1)
        if a.dtype.kind == "f":
            f = a.astype(np.float64) + 0.0
            f[np.isnan(f)] = np.nan
            i = f.view(np.int64)
            key = i ^ ((i >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))
        else:
            key = a.astype(np.int64)
        return ~key if descending else key

    def sort(self, dim=-1, descending=False, stable=False):
        """Sorted values and their indices along dim (stable always, NaN as the largest value, as in torch)."""
        from . import return_types
        from ._creation import tensor
        if self.dim() == 0:
            if not -1 <= dim <= 0:
                raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
            return return_types.sort(self.clone(), tensor(0).to(self.device))
        d = dim + self.dim() if -self.dim() <= dim < 0 else dim
        if not 0 <= d < self.dim():
            raise IndexError(f"Dimension out of range (expected to be in range of [{-self.dim()}, {self.dim() - 1}], "
                             f"but got {dim})")
        idx = np.argsort(self._sort_key(d, descending), axis=-1, kind="stable")
        indices = tensor(np.ascontiguousarray(np.moveaxis(idx, -1, d))).to(self.device)
        return return_types.sort(self.gather(d, indices), indices)

    def argsort(self, dim=-1, descending=False, stable=False):
        return self.sort(dim=dim, descending=descending, stable=stable).indices

    def nonzero(self, as_tuple=False):
        from ._creation import tensor
        nz = np.nonzero(_numpy_of(self))
        if as_tuple:
            return tuple(tensor(i, dtype=int64).to(self.device) for i in nz)
        return tensor(np.stack(nz, axis=1) if nz else np.zeros((1, 0), dtype=np.int64), dtype=int64).to(self.device)

    def float_power(self, exponent):
        """self ** exponent in float64 (PyTorch's float_power)."""
        if isinstance(exponent, _C.TensorBase):
            exponent = exponent.double()
        return self.double().pow(exponent)

    def float_power_(self, exponent):
        if self.dtype != float64:
            raise RuntimeError(f"the base given to float_power_ has dtype {SCALAR_TYPE_NAMES[self.dtype]} but the operation's "
                               "result requires dtype Double")
        return self.pow_(exponent.double() if isinstance(exponent, _C.TensorBase) else exponent)

    def abs_(self):
        return _C.TensorBase.abs_(self)

    def multinomial(self, num_samples, replacement=False, generator=None):
        from ._creation import multinomial
        return multinomial(self, num_samples, replacement, generator=generator)

    @property
    def is_cpu(self):
        return self.device.type == "cpu"

    @property
    def itemsize(self):
        return self.element_size()

    @property
    def nbytes(self):
        return self.element_size() * self.numel()

    def register_hook(self, hook):
        """hook(grad) -> Tensor or None runs when the gradient w.r.t. this tensor is computed; a returned
        tensor replaces it. Returns a handle whose remove() unregisters the hook."""
        from .autograd.graph import _HookHandle
        return _HookHandle(_C._hook_add(self, 0, hook))

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) runs after a backward has accumulated this leaf's .grad."""
        from .autograd.graph import _HookHandle
        return _HookHandle(_C._hook_add(self, 3, hook))


def _lazy_method(module, name):
    """A Tensor method whose function lives in a lazily imported submodule's _TOP table (minitorch/linalg.py,
    minitorch/testing.py): x.det() is minitorch.linalg.det(x)."""
    def method(self, *args, **kwargs):
        import importlib
        return importlib.import_module("minitorch." + module)._TOP[name](self, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    return method


for _name in ("inverse", "det", "logdet", "slogdet", "pinverse", "cholesky", "cholesky_solve", "cholesky_inverse",
              "qr", "svd", "matrix_power", "matrix_exp", "lu", "lu_solve"):
    setattr(Tensor, _name, _lazy_method("linalg", _name))
for _name in ("allclose", "isclose"):
    setattr(Tensor, _name, _lazy_method("testing", _name))
del _name

# autocast("cpu")'s lower-precision list meets the matrix products here (F.linear and the modules call them)
from .amp.autocast_mode import lower_precision as _lower_precision  # noqa: E402

for _name in ("matmul", "mm", "bmm", "addmm", "baddbmm", "__matmul__", "__rmatmul__"):
    if hasattr(_C.TensorBase, _name):
        setattr(Tensor, _name, _lower_precision(getattr(_C.TensorBase, _name)))
_C._register(Tensor, _Size, ALL_DTYPES, _device)

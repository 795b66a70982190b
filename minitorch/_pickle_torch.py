"""PyTorch's checkpoint format without PyTorch: the zip files torch.save writes (and the pre-1.6 legacy stream),
read through an allowlisting unpickler and written by a pickler that uses torch's global names.

A torch.save zip holds <archive>/data.pkl (protocol-2 pickle; each tensor is a call of
torch._utils._rebuild_tensor_v2 on a persistent id ("storage", torch.FloatStorage, key, location, numel)),
<archive>/data/<key> (the raw little-endian bytes of each storage, stored uncompressed and 64-byte aligned),
byteorder, version, .format_version, .storage_alignment and .data/serialization_id.

weights_only=True (the default) never runs code from the file: the unpickler below interprets the opcodes itself
(as torch/_weights_only_unpickler.py does) and resolves a GLOBAL only through the allowlist (_allowed_globals plus
serialization.add_safe_globals); anything else raises pickle.UnpicklingError naming the global. weights_only=False
is plain pickle with torch.* names mapped to the same names under minitorch.* (it can run arbitrary code, as in
PyTorch).
"""
import _compat_pickle
import io
import math
import os
import pickle
import struct
import sys
import zipfile
import zlib
from collections import Counter, OrderedDict

import numpy as np

from . import _C
from ._types import Size, device as _device, dtype as _dtype

# ONE table: torch dtype name -> (torch's legacy storage class, NumPy dtype of the raw bytes). The minitorch dtype is
# looked up by the same name with getattr(minitorch, name) when a file needs it, so new minitorch dtypes work at once.
_DTYPES = {
    "float32": ("FloatStorage", "<f4"), "float64": ("DoubleStorage", "<f8"), "float16": ("HalfStorage", "<f2"),
    "bfloat16": ("BFloat16Storage", "<u2"), "int64": ("LongStorage", "<i8"), "int32": ("IntStorage", "<i4"),
    "int16": ("ShortStorage", "<i2"), "int8": ("CharStorage", "|i1"), "uint8": ("ByteStorage", "|u1"),
    "bool": ("BoolStorage", "|b1"), "complex64": ("ComplexFloatStorage", "<c8"),
    "complex128": ("ComplexDoubleStorage", "<c16"), "qint8": ("QInt8Storage", None), "qint32": ("QInt32Storage", None),
    "quint8": ("QUInt8Storage", None), "quint4x2": ("QUInt4x2Storage", None), "quint2x4": ("QUInt2x4Storage", None),
    # dtypes torch stores as UntypedStorage + _rebuild_tensor_v3
    "uint16": (None, "<u2"), "uint32": (None, "<u4"), "uint64": (None, "<u8"), "complex32": (None, None),
    "float8_e4m3fn": (None, None), "float8_e5m2": (None, None), "float8_e4m3fnuz": (None, None),
    "float8_e5m2fnuz": (None, None), "float8_e8m0fnu": (None, None), "float4_e2m1fn_x2": (None, None),
    "bits8": (None, None), "bits16": (None, None), "bits1x8": (None, None), "bits2x4": (None, None),
    "bits4x2": (None, None),
    **{f"{u}int{i}": (None, None) for u in ("u", "") for i in range(1, 8)},
}
_STORAGE_DTYPE = {storage: name for name, (storage, _) in _DTYPES.items() if storage}

_LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
_BLOCKED_MODULES = ("sys", "os", "posix", "nt")


class _LoadTypeError(TypeError):
    """A TypeError minitorch.load raises as itself (a dtype minitorch lacks, a bad map_location), not wrapped in
    the UnpicklingError of a refused file."""


def _minitorch():
    import minitorch
    return minitorch


def _mt_dtype(name):
    """The minitorch dtype called `name`, or a TypeError naming it."""
    d = getattr(_minitorch(), name, None)
    if not isinstance(d, _dtype):
        kind = "complex " if name.startswith("complex") else ("quantized " if name.startswith("q") else "")
        raise _LoadTypeError(f"minitorch.load: the checkpoint holds a {kind}tensor of dtype torch.{name}, which "
                                f"minitorch does not support")
    return d


# ------------------------------------------------------------------------------------------------ reading: storages

class _StorageType:
    """What GLOBAL torch.FloatStorage (or torch.storage.UntypedStorage) unpickles to: it only names a dtype."""
    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype

    def __repr__(self):
        return f"torch.{self.name}"


class _Storage:
    """One storage of a checkpoint: its raw bytes (a NumPy uint8 array, maybe memory-mapped) and where it lived.
    flat(dtype) is the whole storage as one 1-D minitorch tensor on the mapped device, made once per dtype, so that
    every tensor built on the storage is a view of that one tensor."""

    def __init__(self, raw, dtype, location, numel, restore, byteorder):
        self.raw, self.dtype, self.location, self.numel = raw, dtype, location, numel
        self._restore, self._byteorder = restore, byteorder
        self._flat, self._host = {}, {}

    def host(self, name):
        """The storage as a 1-D NumPy array of dtype `name` (sharing the raw bytes where it can), made once."""
        arr = self._host.get(name)
        if arr is None:
            arr = self._host[name] = self._as_numpy(name)
        return arr

    def _as_numpy(self, name):
        d = _mt_dtype(name)
        npname = _DTYPES.get(name, (None, None))[1] or getattr(d, "_np", None)
        try:
            npdt = np.dtype(npname)
        except TypeError:
            raise _LoadTypeError(f"minitorch.load: cannot build torch.{name} tensors from raw bytes") from None
        raw = self.raw
        if raw.nbytes % npdt.itemsize:
            raise RuntimeError(f"minitorch.load: a storage of {raw.nbytes} bytes does not hold whole {name} values")
        if raw.ctypes.data % npdt.itemsize:  # misaligned (not written by torch): copy to aligned memory
            raw = raw.copy()
        if npdt.kind == "b":
            if raw.size and raw.max() > 1:
                raise RuntimeError("minitorch.load: a bool storage holds bytes other than 0 and 1 (corrupt file?)")
            return raw.view(npdt)
        if self._byteorder == "big" and npdt.itemsize > 1:
            return raw.view(npdt.newbyteorder(">")).astype(npdt)
        return raw.view(npdt)

    def flat(self, name):
        t = self._flat.get(name)
        if t is None:
            from ._creation import from_numpy
            arr = self.host(name)
            if name == "bfloat16":  # NumPy has no bfloat16: its bits are the top half of a float32's (a copy, even under mmap)
                t = from_numpy((arr.astype(np.uint32) << 16).view(np.float32)).to(_mt_dtype(name))
            else:
                t = from_numpy(arr)
            if t.dtype is not _mt_dtype(name):
                raise _LoadTypeError(f"minitorch.load: cannot build torch.{name} tensors from NumPy data")
            t = self._flat[name] = self._restore(t, self.location)
        return t


def _restorer(map_location, cpu_only=False):
    """torch's map_location semantics for one storage: (1-D tensor on the CPU, saved location) -> tensor."""
    from . import cuda as _cuda

    def to(t, where):
        dev = where if isinstance(where, _device) else _device(where)
        if dev.type == "cpu":
            return t
        if cpu_only:
            raise RuntimeError(f"minitorch.load: legacy (pre-1.6) checkpoints load on the CPU only; pass "
                               f"map_location='cpu' (the checkpoint asks for {dev})")
        if dev.type != "cuda":
            raise RuntimeError(f"don't know how to restore data location of torch.storage.UntypedStorage (tagged "
                               f"with {dev})")
        if not _cuda.is_available():
            raise RuntimeError(_NO_CUDA_MSG)
        return t.to(dev)

    def restore(t, location):
        if map_location is None:
            return to(t, location)
        if isinstance(map_location, dict):
            return to(t, map_location.get(location, location))
        if isinstance(map_location, (str, _device)):
            return to(t, map_location)
        if callable(map_location) and not cpu_only:
            out = map_location(t, location)
            if out is None:
                return to(t, location)
            if not isinstance(out, _C.TensorBase) or out.dtype is not t.dtype or tuple(out.shape) != tuple(t.shape):
                raise _LoadTypeError(f"minitorch.load: map_location must return the storage it was given (a 1-D "
                                     f"{t.dtype} tensor of {t.shape[0]} elements, moved or not) or None, not "
                                     f"{out!r}")
            return out
        raise _LoadTypeError(f"minitorch.load: map_location must be None, a str, a device, a dict or a callable, "
                             f"not {type(map_location).__name__}")
    return restore


_NO_CUDA_MSG = ("Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. If you are "
                "running on a CPU-only machine, please use torch.load with map_location=torch.device('cpu') to map "
                "your storages to the CPU.")


def _as_view(storage, dtype_name, offset, size, stride):
    """A tensor of `size`/`stride` at `offset` in `storage`: a minitorch view of the storage's one flat tensor
    where slicing, view, permute and expand can express the layout, else a NumPy strided view of the same memory."""
    for name, v in (("storage_offset", offset), ("size", size), ("stride", stride)):
        ok = (type(v) is int and v >= 0) if name == "storage_offset" else (
            type(v) in (tuple, list, Size) and all(type(s) is int and s >= 0 for s in v))
        if not ok:
            raise RuntimeError(f"minitorch.load: invalid tensor {name} {v!r} in the checkpoint (negative strides "
                               f"and sizes are not supported)")
    if len(size) != len(stride) or len(size) > 64:
        raise RuntimeError(f"minitorch.load: tensor size {tuple(size)} and stride {tuple(stride)} do not match")
    size, stride = tuple(size), tuple(stride)
    flat = storage.flat(dtype_name)
    # contiguous strides and element counts must fit in int64 even where a zero dim leaves no data (torch raises
    # "Stride calculation overflowed" for such shapes)
    if math.prod(max(s, 1) for s in size) * flat.element_size() >= 1 << 63 or any(st >= 1 << 63 for st in stride):
        raise RuntimeError(f"minitorch.load: tensor size {list(size)} / stride {list(stride)} overflow int64 "
                           f"(corrupt file?)")
    n, numel = flat.shape[0], math.prod(size)
    extent = 0 if numel == 0 else 1 + sum((s - 1) * st for s, st in zip(size, stride))
    if offset + extent > n or (numel == 0 and offset > n):
        raise RuntimeError(f"minitorch.load: a tensor of size {list(size)}, stride {list(stride)} and offset {offset} "
                           f"lies outside its storage of {n} elements (corrupt file?)")
    if numel == 0:
        return flat[0:0].view(size)
    # dims that hold data, outermost (largest stride) first; size-1 and stride-0 (expanded) dims are put back after
    dims = sorted((i for i in range(len(size)) if size[i] != 1 and stride[i] != 0), key=lambda i: -stride[i])
    core = _strided_slice(flat, offset, [size[i] for i in dims], [stride[i] for i in dims])
    if core is not None:
        rest = [i for i in range(len(size)) if i not in dims]
        for _ in rest:
            core = core.unsqueeze(-1)
        order = dims + rest
        t = core.permute([order.index(i) for i in range(len(size))]) if order != list(range(len(size))) else core
        return t.expand(size) if t.shape != size else t
    from ._creation import from_numpy
    host = storage.host(dtype_name)
    es = host.itemsize
    view = np.lib.stride_tricks.as_strided(host[offset:], size, [s * es for s in stride])
    t = from_numpy(view)
    return t if flat.device.type == "cpu" else t.to(flat.device)


def _strided_slice(flat, offset, sizes, strides):
    """flat[offset:] seen with sizes/strides (strides decreasing) through view and slicing, or None where those
    cannot express it: a contiguous block, one strided dim, or a grid whose strides divide each other."""
    if not sizes:
        return flat[offset:offset + 1].view([])
    if all(st == math.prod(sizes[i + 1:]) for i, st in enumerate(strides)):
        return flat[offset:offset + math.prod(sizes)].view(sizes)
    if len(sizes) == 1:
        return flat[offset:offset + (sizes[0] - 1) * strides[0] + 1:strides[0]]
    chain = all(a % b == 0 and n * b <= a for a, b, n in zip(strides, strides[1:], sizes[1:]))
    if not chain:
        return None
    # a contiguous grid [sizes[0], strides[0] / strides[1], ..., strides[-1]] placed inside the storage so that
    # it covers the tensor; the tensor is a slice of it starting at the grid index of offset - start
    total = sizes[0] * strides[0]
    extent = 1 + sum((n - 1) * st for n, st in zip(sizes, strides))
    start = max(0, offset + extent - total)
    if start + total > flat.shape[0]:
        return None
    radix = [a // b for a, b in zip(strides, strides[1:])] + [strides[-1]]
    delta, index = offset - start, [slice(0, sizes[0])]
    for n, st, q in zip(sizes[1:] + [1], strides[1:] + [1], radix):
        d, delta = divmod(delta, st)
        if d + n > q:
            return None
        index.append(slice(d, d + n))
    grid = flat[start:start + total].view([sizes[0]] + radix)
    return grid[tuple(index[:-1]) + (index[-1].start,)]


def _set_requires_grad(t, requires_grad):
    if type(requires_grad) is not bool:
        raise RuntimeError(f"minitorch.load: invalid requires_grad {requires_grad!r} in the checkpoint")
    return t.requires_grad_(True) if requires_grad else t


def _check_storage(storage):
    if type(storage) is not _Storage:
        raise pickle.UnpicklingError(f"minitorch.load: expected a storage, got {type(storage).__name__}")
    return storage


# ---- the rebuild functions a torch checkpoint calls (torch/_utils.py names)

def _check_metadata(metadata):
    if metadata:  # torch's conj/neg bits: minitorch has neither
        raise RuntimeError(f"minitorch.load: tensor metadata {metadata!r} is not supported")


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    storage = _check_storage(storage)
    _check_metadata(metadata)
    if storage.dtype is None:
        raise pickle.UnpicklingError("minitorch.load: _rebuild_tensor_v2 needs a typed storage")
    return _set_requires_grad(_as_view(storage, storage.dtype, storage_offset, size, stride), requires_grad)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    storage = _check_storage(storage)
    _check_metadata(metadata)
    if type(dtype) is not _dtype:
        raise pickle.UnpicklingError(f"minitorch.load: invalid dtype {dtype!r} in the checkpoint")
    return _set_requires_grad(_as_view(storage, dtype.name, storage_offset, size, stride), requires_grad)


def _rebuild_tensor(storage, storage_offset, size, stride):
    storage = _check_storage(storage)
    return _as_view(storage, storage.dtype, storage_offset, size, stride)


def _parameter(data, requires_grad):
    from .nn import Parameter
    if not isinstance(data, _C.TensorBase):
        raise pickle.UnpicklingError(f"minitorch.load: a Parameter of {type(data).__name__}")
    return Parameter(data, requires_grad)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    return _parameter(data, requires_grad)


def _set_obj_state(obj, state):
    dict_state, slots_state = state if isinstance(state, tuple) and len(state) == 2 else (state, None)
    for part in (dict_state, slots_state):
        if part:
            if not isinstance(part, dict) or any(type(k) is not str or k.startswith("__") for k in part):
                raise pickle.UnpicklingError("minitorch.load: invalid object state in the checkpoint")
            for k, v in part.items():
                setattr(obj, k, v)
    return obj


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _set_obj_state(_parameter(data, requires_grad), state)


def _rebuild_from_type_v2(func, new_type, args, state):
    from .nn import Parameter
    if func not in (_rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter, _rebuild_parameter_with_state,
                    _rebuild_device_tensor_from_cpu_tensor) or not isinstance(args, tuple):
        raise pickle.UnpicklingError(f"minitorch.load: _rebuild_from_type_v2 of {func!r}")
    out = func(*args)
    if new_type is Parameter and type(out) is not Parameter:
        out = _parameter(out, out.requires_grad)
    elif new_type not in (_minitorch().Tensor, Parameter):
        raise pickle.UnpicklingError(f"minitorch.load: tensor subclass {new_type!r} is not supported")
    return _set_obj_state(out, state)


def _rebuild_device_tensor_from_cpu_tensor(data, dtype, device, requires_grad):
    if not isinstance(data, _C.TensorBase):
        raise pickle.UnpicklingError("minitorch.load: expected a tensor")
    return _set_requires_grad(data.to(dtype=dtype, device=device), requires_grad)


def _unsupported(what, fn):
    def refuse(*args, **kwargs):
        raise RuntimeError(f"minitorch.load: the checkpoint holds {what} (torch._utils.{fn}), which minitorch does "
                           f"not support")
    refuse.__name__ = fn
    return refuse


def _get_layout(name):
    if name != "torch.strided":
        raise RuntimeError(f"minitorch.load: layout {name!r} is not supported (only torch.strided)")
    return name


def _encode(s, encoding="latin1"):  # how protocol 2 pickles bytes: _codecs.encode(str, "latin1")
    if type(s) is not str or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("minitorch.load: _codecs.encode is allowed only as encode(str, 'latin1')")
    return s.encode("latin1")


def _bytearray(*args):
    if args and type(args[0]) not in (bytes, str):  # bytearray(int) would allocate what the file says
        raise pickle.UnpicklingError("minitorch.load: bytearray is allowed only from bytes")
    return bytearray(*args)


_ALLOWED = {}


def _allowed_globals():
    """torch's weights_only allowlist, by the names files use, mapped to what minitorch builds for them."""
    if _ALLOWED:
        return _ALLOWED
    mt = _minitorch()
    from .nn import Parameter
    rc = {
        "collections.OrderedDict": OrderedDict, "collections.Counter": Counter,
        "torch.nn.parameter.Parameter": Parameter, "torch.serialization._get_layout": _get_layout,
        "torch.Size": Size, "torch.Tensor": mt.Tensor, "torch.device": _device,
        "_codecs.encode": _encode, "builtins.bytearray": _bytearray, "builtins.set": set, "builtins.complex": complex,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2, "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
        "torch._utils._rebuild_tensor": _rebuild_tensor, "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch._utils._rebuild_device_tensor_from_cpu_tensor": _rebuild_device_tensor_from_cpu_tensor,
        "torch.storage.UntypedStorage": _StorageType("UntypedStorage", None),
    }
    for what, fn in (("a quantized tensor", "_rebuild_qtensor"), ("a sparse tensor", "_rebuild_sparse_tensor"),
                     ("a meta tensor", "_rebuild_meta_tensor_no_storage"),
                     ("a nested tensor", "_rebuild_nested_tensor"),
                     ("a tensor subclass", "_rebuild_wrapper_subclass"),
                     ("a NumPy-backed device tensor", "_rebuild_device_tensor_from_numpy")):
        rc[f"torch._utils.{fn}"] = _unsupported(what, fn)
    for name, (storage, _) in _DTYPES.items():
        rc[f"torch.{name}"] = _LazyDtype(name)
        if storage:
            for mod in ("torch", "torch.cuda"):
                rc[f"{mod}.{storage}"] = _StorageType(storage, name)
    for name in dir(mt):  # the legacy tensor classes minitorch has (torch.FloatTensor, ...)
        if name.endswith("Tensor") and name[:-6] in ("Float", "Double", "Long", "Int", "Bool", "Half", "BFloat16",
                                                     "Byte", "Char", "Short"):
            rc[f"torch.{name}"] = getattr(mt, name)
    _ALLOWED.update(rc)
    return _ALLOWED


class _LazyDtype:
    """An allowlisted torch dtype name; resolved to minitorch's dtype (or a TypeError naming it) when a file uses it."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


def _resolve(obj):
    return _mt_dtype(obj.name) if type(obj) is _LazyDtype else obj


def _user_globals():
    from .serialization import _SAFE_GLOBALS
    rc = {}
    for f in _SAFE_GLOBALS:
        if isinstance(f, tuple):
            if len(f) != 2:
                raise ValueError(f"Expected tuple of length 2 (global, str of callable full path), but got tuple of "
                                 f"length: {len(f)}")
            if type(f[1]) is not str:
                raise TypeError(f"Expected second item in tuple to be str of callable full path, but got: "
                                f"{type(f[1])}")
            f, name = f
            rc[name] = f
        else:
            name = f"{f.__module__}.{f.__qualname__}"
            rc[name] = f
            if name.startswith("minitorch."):  # files name minitorch's objects by torch's names
                rc["torch." + name[10:]] = f
                rc[f"{_torch_module(f, f.__module__, f.__qualname__)}.{f.__qualname__}"] = f
    return rc


def _map_compat(module, name):
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def _unsupported_global_msg(module, name):
    full = f"{module}.{name}"
    if module in _BLOCKED_MODULES:
        return f"Trying to load unsupported GLOBAL {full} whose module {module} is blocked."
    if module == "builtins":
        full = name
    return (f"Unsupported global: GLOBAL {full} was not an allowed global by default. Please use "
            f"`torch.serialization.add_safe_globals([{full}])` or the `torch.serialization.safe_globals([{full}])` "
            f"context manager to allowlist this global if you trust this class/function.")


# ------------------------------------------------------------------------------------------------ the unpicklers

_OP = pickle


class _WeightsUnpickler:
    """A pickle interpreter for the opcodes torch.save emits; every GLOBAL goes through the allowlist and only
    allowlisted callables and classes are called, built or instantiated. Nothing else in the file can run."""

    def __init__(self, data, persistent_load, encoding="ASCII"):
        self._file = io.BytesIO(data)
        self.persistent_load = persistent_load
        self.encoding = encoding
        self.memo = {}
        allowed = _allowed_globals()
        self.globals = {**allowed, **_user_globals()}
        self.callables = {id(v) for v in self.globals.values()}

    def read(self, n):
        b = self._file.read(n)
        if len(b) < n:
            raise pickle.UnpicklingError("pickle data was truncated")
        return b

    def readline(self):
        b = self._file.readline()
        if not b.endswith(b"\n"):
            raise pickle.UnpicklingError("pickle data was truncated")
        return b[:-1]

    def find_global(self, module, name):
        module, name = _map_compat(module, name)
        full = f"{module}.{name}"
        if module not in _BLOCKED_MODULES and full in self.globals:
            return _resolve(self.globals[full])
        raise pickle.UnpicklingError(_unsupported_global_msg(module, name))

    def pop_mark(self):
        items = self.stack
        self.stack = self.metastack.pop()
        return items

    def load(self):
        self.stack, self.metastack = [], []
        ops = self._ops
        while True:
            key = self._file.read(1)
            if not key:
                raise EOFError("Ran out of input")
            op = ops.get(key[0])
            if op is None:
                raise pickle.UnpicklingError(f"Unsupported operand {key[0]}")
            if op is _STOP:
                return self.stack.pop()
            op(self)

    # -- the opcodes
    def _global(self):
        module = self.readline().decode("utf-8")
        self.stack.append(self.find_global(module, self.readline().decode("utf-8")))

    def _stack_global(self):
        name, module = self.stack.pop(), self.stack.pop()
        if type(name) is not str or type(module) is not str:
            raise pickle.UnpicklingError("STACK_GLOBAL requires str")
        self.stack.append(self.find_global(module, name))

    def _allowed(self, obj):
        """Allowlisted, and not a tensor class: torch.Tensor and the legacy FloatTensor-style names are allowed as
        names (types in _rebuild_from_type_v2), but a file may not construct them (Tensor(n) allocates n)."""
        from .nn import Parameter
        return id(obj) in self.callables and not (isinstance(obj, type) and issubclass(obj, _C.TensorBase) and
                                                  obj is not Parameter)

    def _newobj(self):
        from .nn import Parameter
        args, cls = self.stack.pop(), self.stack.pop()
        if type(args) is not tuple:
            raise pickle.UnpicklingError("NEWOBJ expected an argument tuple")
        if cls is Parameter:
            self.stack.append(Parameter(*args))
        elif isinstance(cls, type) and self._allowed(cls):
            self.stack.append(cls.__new__(cls, *args))
        else:
            raise pickle.UnpicklingError(f"Can only create new object for nn.Parameter or classes allowlisted via "
                                         f"`add_safe_globals` but got {cls}")

    def _reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        if not self._allowed(func) or not callable(func):
            raise pickle.UnpicklingError(f"Trying to call reduce for unrecognized function {func}")
        if type(args) is not tuple:
            raise pickle.UnpicklingError("REDUCE expected an argument tuple")
        self.stack[-1] = func(*args)

    def _build(self):
        from .nn import Parameter
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is OrderedDict:
            if not isinstance(state, dict):
                raise pickle.UnpicklingError("OrderedDict state must be a dict")
            inst.__dict__.update(state)
        elif type(inst) is not Parameter and self._allowed(type(inst)):
            if hasattr(inst, "__setstate__"):
                inst.__setstate__(state)
            else:
                _set_obj_state(inst, state)
        else:
            raise pickle.UnpicklingError(f"Can only build Tensor, Parameter, OrderedDict or types allowlisted via "
                                         f"`add_safe_globals`, but got {type(inst)}")

    def _append(self):
        item = self.stack.pop()
        if type(self.stack[-1]) is not list:
            raise pickle.UnpicklingError(f"Can only append to lists, but got {type(self.stack[-1])}")
        self.stack[-1].append(item)

    def _appends(self):
        items = self.pop_mark()
        if type(self.stack[-1]) is not list:
            raise pickle.UnpicklingError(f"Can only extend lists, but got {type(self.stack[-1])}")
        self.stack[-1].extend(items)

    def _check_dict(self, opcode):
        if type(self.stack[-1]) not in (dict, OrderedDict, Counter):
            raise pickle.UnpicklingError(f"Can only {opcode} for dict, collections.OrderedDict, collections.Counter, "
                                         f"but got {type(self.stack[-1])}")

    def _setitem(self):
        v, k = self.stack.pop(), self.stack.pop()
        self._check_dict("SETITEM")
        self.stack[-1][k] = v

    def _setitems(self):
        items = self.pop_mark()
        self._check_dict("SETITEMS")
        if len(items) % 2:
            raise pickle.UnpicklingError("SETITEMS with an odd number of items")
        d = self.stack[-1]
        for i in range(0, len(items), 2):
            d[items[i]] = items[i + 1]

    def _additems(self):
        items = self.pop_mark()
        if type(self.stack[-1]) is not set:
            raise pickle.UnpicklingError("Can only add items to sets")
        self.stack[-1].update(items)

    def _mark(self):
        self.metastack.append(self.stack)
        self.stack = []

    def _binpersid(self):
        pid = self.stack.pop()
        if type(pid) is not tuple and type(pid) is not int:
            raise pickle.UnpicklingError(f"persistent_load id must be tuple or int, but got {type(pid)}")
        self.stack.append(self.persistent_load(pid))

    def _get(self, idx):
        if idx not in self.memo:
            raise pickle.UnpicklingError(f"Memo value not found at index {idx}")
        self.stack.append(self.memo[idx])

    def _string(self, n, as_bytes=False):
        data = self.read(n)
        if as_bytes:
            return data
        return str(data, "utf-8", "surrogatepass")

    def _short_binstring(self):
        data = self.read(self.read(1)[0])
        self.stack.append(data if self.encoding == "bytes" else data.decode(self.encoding, "strict"))

    def _push(self, value):  # (self.stack changes inside pop_mark: bind it after)
        self.stack.append(value)

    def _tuple(self, n):
        if len(self.stack) < n:
            raise pickle.UnpicklingError("unpickling stack underflow")
        items = tuple(self.stack[-n:])
        del self.stack[-n:]
        self.stack.append(items)

    def _proto(self):
        if self.read(1)[0] > pickle.HIGHEST_PROTOCOL:
            raise pickle.UnpicklingError("unsupported pickle protocol")

    _ops = {}


def _STOP(self):
    pass


def _u(fmt, n):
    return lambda self: struct.unpack(fmt, self.read(n))[0]


_int1, _int2, _int4, _uint4, _int8 = _u("<B", 1), _u("<H", 2), _u("<i", 4), _u("<I", 4), _u("<Q", 8)
_WeightsUnpickler._ops = {
    _OP.GLOBAL[0]: _WeightsUnpickler._global, _OP.STACK_GLOBAL[0]: _WeightsUnpickler._stack_global,
    _OP.NEWOBJ[0]: _WeightsUnpickler._newobj, _OP.REDUCE[0]: _WeightsUnpickler._reduce,
    _OP.BUILD[0]: _WeightsUnpickler._build, _OP.APPEND[0]: _WeightsUnpickler._append,
    _OP.APPENDS[0]: _WeightsUnpickler._appends, _OP.SETITEM[0]: _WeightsUnpickler._setitem,
    _OP.SETITEMS[0]: _WeightsUnpickler._setitems, _OP.ADDITEMS[0]: _WeightsUnpickler._additems,
    _OP.MARK[0]: _WeightsUnpickler._mark, _OP.BINPERSID[0]: _WeightsUnpickler._binpersid,
    _OP.TUPLE[0]: lambda self: self._push(tuple(self.pop_mark())),
    _OP.TUPLE1[0]: lambda self: self._tuple(1), _OP.TUPLE2[0]: lambda self: self._tuple(2),
    _OP.TUPLE3[0]: lambda self: self._tuple(3),
    _OP.NONE[0]: lambda self: self.stack.append(None),
    _OP.NEWFALSE[0]: lambda self: self.stack.append(False), _OP.NEWTRUE[0]: lambda self: self.stack.append(True),
    _OP.EMPTY_TUPLE[0]: lambda self: self.stack.append(()), _OP.EMPTY_LIST[0]: lambda self: self.stack.append([]),
    _OP.EMPTY_DICT[0]: lambda self: self.stack.append({}), _OP.EMPTY_SET[0]: lambda self: self.stack.append(set()),
    _OP.BININT[0]: lambda self: self.stack.append(_int4(self)),
    _OP.BININT1[0]: lambda self: self.stack.append(_int1(self)),
    _OP.BININT2[0]: lambda self: self.stack.append(_int2(self)),
    _OP.LONG1[0]: lambda self: self.stack.append(pickle.decode_long(self.read(_int1(self)))),
    _OP.BINFLOAT[0]: lambda self: self.stack.append(struct.unpack(">d", self.read(8))[0]),
    _OP.BINUNICODE[0]: lambda self: self.stack.append(self._string(_uint4(self))),
    _OP.SHORT_BINUNICODE[0]: lambda self: self.stack.append(self._string(_int1(self))),
    _OP.BINBYTES[0]: lambda self: self.stack.append(self._string(_uint4(self), True)),
    _OP.SHORT_BINBYTES[0]: lambda self: self.stack.append(self._string(_int1(self), True)),
    _OP.SHORT_BINSTRING[0]: _WeightsUnpickler._short_binstring,
    _OP.BINGET[0]: lambda self: self._get(_int1(self)), _OP.LONG_BINGET[0]: lambda self: self._get(_uint4(self)),
    _OP.BINPUT[0]: lambda self: self.memo.__setitem__(_int1(self), self.stack[-1]),
    _OP.LONG_BINPUT[0]: lambda self: self.memo.__setitem__(_uint4(self), self.stack[-1]),
    _OP.MEMOIZE[0]: lambda self: self.memo.__setitem__(len(self.memo), self.stack[-1]),
    _OP.FRAME[0]: lambda self: _int8(self), _OP.PROTO[0]: _WeightsUnpickler._proto, _OP.STOP[0]: _STOP,
}


_UNSAFE_MESSAGE = ("In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` from "
                   "`False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will likely "
                   "succeed, but it can result in arbitrary code execution. Do it only if you got the file from a "
                   "trusted source.")


def _weights_only_error(msg):
    """torch.load's wording around the unpickler's message."""
    doc = ("\n\nCheck the documentation of torch.load to learn more about types accepted by default with "
           "weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")
    if "was not an allowed global by default." in msg:
        return pickle.UnpicklingError(
            "Weights only load failed. This file can still be loaded, to do so you have two options, \x1b[1mdo those "
            f"steps only if you trust the source of the checkpoint\x1b[0m. \n\t(1) {_UNSAFE_MESSAGE}\n\t(2) "
            "Alternatively, to load with `weights_only=True` please check the recommended steps in the following "
            f"error message.\n\tWeightsUnpickler error: {msg}{doc}")
    out = f"Weights only load failed. {_UNSAFE_MESSAGE}\n"
    if "is blocked." not in msg:
        out += ("Please file an issue with the following so that we can make `weights_only=True` compatible with "
                "your use case: WeightsUnpickler error: ")
    return pickle.UnpicklingError(f"{out}\n\n{msg}{doc}")


def _unpickle(data, persistent_load, weights_only, pickle_module, load_args):
    """Unpickle the first pickle in `data` (load_args: torch.load's pickle_load_args); returns (object, bytes
    it took)."""
    if not weights_only:
        return _full_load(data, persistent_load, pickle_module, load_args)
    u = _WeightsUnpickler(data, persistent_load, load_args.get("encoding", "utf-8"))
    try:
        return u.load(), u._file.tell()
    except (_LoadTypeError, RuntimeError):
        raise
    except (pickle.UnpicklingError, EOFError, IndexError, KeyError, TypeError, ValueError, AttributeError,
            struct.error, UnicodeDecodeError, MemoryError, OverflowError, RecursionError) as e:
        raise _weights_only_error(str(e) or type(e).__name__) from None


def _torch_global_in_minitorch(module, name):
    """weights_only=False: torch.X.Y -> minitorch.X.Y, else the same name in a parent package (torch.nn.modules.
    linear.Linear -> minitorch.nn.Linear)."""
    import importlib
    special = _allowed_globals().get(f"{module}.{name}")
    if special is not None:
        return _resolve(special)
    parts = ("minitorch" + module[5:]).split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in name.split("."):
                obj = getattr(obj, attr)
            return obj
        except AttributeError:
            continue
    raise pickle.UnpicklingError(f"minitorch.load: the checkpoint needs {module}.{name}, which minitorch does not "
                                 f"have")


def _full_load(data, persistent_load, pickle_module, load_args):
    class _Unpickler((pickle_module or pickle).Unpickler):
        def find_class(self, module, name):
            if module == "torch" or module.startswith("torch."):
                return _torch_global_in_minitorch(module, name)
            return super().find_class(module, name)

    buf = io.BytesIO(data)
    u = _Unpickler(buf, **load_args)
    u.persistent_load = persistent_load
    return u.load(), buf.tell()


# ------------------------------------------------------------------------------------------------ reading: files

_CHUNK = 1 << 24  # a power of two (see _crc_shift)
_CRC_SHIFT = {}


def _crc_shift(crc, n):
    """What appending n bytes (n a power of two) does to a CRC-32, without the bytes: zlib.crc32(b, c) is
    A_n(c) ^ zlib.crc32(b) for an n-byte b, with A_n linear over GF(2); so crc(x + y) = A_len(y)(crc(x)) ^ crc(y).
    A_n is kept as its 32 columns, A_1 measured on one zero byte, A_2n = A_n after A_n."""
    op = _CRC_SHIFT.get(n)
    if op is None:
        if n == 1:
            op = [zlib.crc32(b"\0", 1 << j) ^ zlib.crc32(b"\0") for j in range(32)]
        else:
            half = [_crc_shift(1 << j, n // 2) for j in range(32)]
            op = [_gf2_apply(_CRC_SHIFT[n // 2], c) for c in half]
        _CRC_SHIFT[n] = op
    return _gf2_apply(op, crc)


def _gf2_apply(op, v):
    out, j = 0, 0
    while v:
        if v & 1:
            out ^= op[j]
        v >>= 1
        j += 1
    return out


def _corrupt(msg):
    return RuntimeError(f"PytorchStreamReader failed reading zip archive: {msg}")


class _ZipCheckpoint:
    """The records of a torch.save zip, read from `fh` (or memory-mapped from `path`)."""

    def __init__(self, fh, path, use_mmap):
        try:
            self.zf = zipfile.ZipFile(fh)
            infos = self.zf.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, struct.error) as e:
            raise _corrupt(f"failed finding central directory ({e})") from None
        if not infos:
            raise _corrupt("the archive is empty")
        self.prefix = infos[0].filename.split("/", 1)[0] + "/"
        self.infos = {i.filename[len(self.prefix):]: i for i in infos if i.filename.startswith(self.prefix)}
        if "data.pkl" not in self.infos:
            raise RuntimeError("PytorchStreamReader failed locating file data.pkl: file not found")
        self.fh = fh
        self._pool = None
        self.size = fh.seek(0, io.SEEK_END)
        self.whole = None
        if use_mmap:
            self.whole = np.memmap(path, dtype=np.uint8, mode="c")  # copy-on-write, as torch's MAP_PRIVATE
        bo = self.infos.get("byteorder")
        self.byteorder = self.read("byteorder").tobytes().decode("ascii", "replace") if bo else "little"
        if self.byteorder not in ("little", "big"):
            raise _corrupt(f"unknown byteorder {self.byteorder!r}")

    def _data_offset(self, info):
        self.fh.seek(info.header_offset)
        h = self.fh.read(30)
        if len(h) < 30 or h[:4] != b"PK\x03\x04":
            raise _corrupt(f"bad local header of {info.filename}")
        n, m = struct.unpack("<HH", h[26:30])
        return info.header_offset + 30 + n + m

    def read(self, name):
        """The record as a writable uint8 array (a copy-on-write map with mmap=True)."""
        info = self.infos.get(name)
        if info is None:
            raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not found")
        if info.compress_type != zipfile.ZIP_STORED:
            if info.file_size > max(1 << 26, 1100 * info.compress_size):  # deflate cannot expand more than ~1032x
                raise _corrupt(f"{info.filename}: implausible compressed size (a zip bomb?)")
            try:
                return np.frombuffer(bytearray(self.zf.read(info)), dtype=np.uint8)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as e:
                raise _corrupt(f"{info.filename}: {e}") from None
        off = self._data_offset(info)
        if off + info.file_size > self.size:
            raise _corrupt(f"{info.filename} is truncated ({info.file_size} bytes at {off}, file of {self.size})")
        if self.whole is not None:
            return self.whole[off:off + info.file_size]
        from .serialization import _CorruptError, _read_into
        buf = np.empty(info.file_size, dtype=np.uint8)
        self.fh.seek(off)
        # the CRCs of whole chunks run on worker threads while the next chunks are read (zlib.crc32 and readinto
        # release the GIL), then are chained with _crc_shift; the last, shorter chunk continues the chain here
        tasks, full = [], info.file_size // _CHUNK * _CHUNK
        try:
            for start in range(0, full, _CHUNK):
                chunk = buf[start:start + _CHUNK]
                _read_into(self.fh, chunk, info.filename)
                tasks.append(self._crc_pool().submit(zlib.crc32, chunk))
            if full < info.file_size:
                _read_into(self.fh, buf[full:], info.filename)
        except _CorruptError as e:
            raise _corrupt(str(e)) from None
        finally:
            crcs = [task.result() for task in tasks]
        crc = 0
        for c in crcs:
            crc = _crc_shift(crc, _CHUNK) ^ c
        if zlib.crc32(buf[full:], crc) != info.CRC:
            raise _corrupt(f"CRC-32 check failed for {info.filename} (the file is corrupt)")
        return buf

    def _crc_pool(self):
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor
            self._pool = ThreadPoolExecutor(min(4, os.cpu_count() or 1))
        return self._pool

    def close(self):
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def load(self, map_location, weights_only, pickle_module, load_args):
        restore = _restorer(map_location)
        storages = {}

        def persistent_load(pid):
            if type(pid) is not tuple or len(pid) != 5 or _ascii(pid[0]) != "storage":
                raise pickle.UnpicklingError(f"Only persistent_load of storage is allowed, but got {pid!r}")
            _, stype, key, location, numel = pid
            if type(stype) is not _StorageType or type(key) is not str or type(location) is not str or \
                    type(numel) is not int or numel < 0:
                raise pickle.UnpicklingError(f"minitorch.load: invalid storage id {pid!r}")
            s = storages.get(key)
            if s is None:
                raw = self.read(f"data/{key}")
                itemsize = 1 if stype.dtype is None else _mt_dtype(stype.dtype).itemsize
                if raw.nbytes != numel * itemsize:
                    raise RuntimeError(f"minitorch.load: storage data/{key} holds {raw.nbytes} bytes but the "
                                       f"checkpoint says {numel} x {itemsize} (corrupt file?)")
                s = storages[key] = _Storage(raw, stype.dtype, location, numel, restore, self.byteorder)
            return s

        try:
            return _unpickle(self.read("data.pkl").tobytes(), persistent_load, weights_only, pickle_module,
                             load_args)[0]
        finally:
            self.close()


def _ascii(x):
    return x.decode("ascii") if isinstance(x, bytes) else x


def _legacy_load(fh, map_location, weights_only, pickle_module, load_args):
    """The pre-1.6 stream: pickles of the magic number, protocol version and sys_info, the object (storages as
    persistent ids ("storage", type, key, location, numel, view_metadata)), the list of storage keys, then each
    storage as an int64 element count and its raw bytes. The bytes come after the object, so each storage is
    allocated when the object names it, the tensors are built as views of it, and the bytes are read into it after."""
    data = fh.read()
    pos, pending = 0, {}
    restore = _restorer(map_location, cpu_only=True)

    def next_pickle(persistent_load=_no_persistent):
        nonlocal pos
        value, used = _unpickle(data[pos:], persistent_load, weights_only, pickle_module, load_args)
        pos += used
        return value

    def persistent_load(pid):
        if type(pid) is not tuple or len(pid) != 6 or _ascii(pid[0]) != "storage":
            raise pickle.UnpicklingError(f"Only persistent_load of storage is allowed, but got {pid!r}")
        _, stype, key, location, numel, view = pid
        if type(stype) is not _StorageType or stype.dtype is None or type(key) is not str or \
                type(location) is not str or type(numel) is not int or numel < 0 or view is not None:
            raise pickle.UnpicklingError(f"minitorch.load: unsupported legacy storage id {pid!r}")
        s = pending.get(key)
        if s is None:
            nbytes = numel * _mt_dtype(stype.dtype).itemsize
            if nbytes > len(data):
                raise RuntimeError(f"minitorch.load: legacy storage {key!r} of {nbytes} bytes is larger than the file")
            s = pending[key] = _Storage(np.zeros(nbytes, np.uint8), stype.dtype, location, numel, restore, "little")
        return s

    if next_pickle() != _LEGACY_MAGIC:
        raise RuntimeError("Invalid magic number; corrupt file?")
    if next_pickle() != 1001:
        raise RuntimeError("Invalid protocol version")
    info = next_pickle()
    if isinstance(info, dict) and info.get("little_endian") is False:
        raise RuntimeError("minitorch.load: big-endian legacy checkpoints are not supported")
    obj = next_pickle(persistent_load)
    keys = next_pickle()
    if type(keys) is not list or sorted(keys) != sorted(pending):
        raise RuntimeError("minitorch.load: corrupt legacy checkpoint (its storage keys do not match the object)")
    for key in keys:
        s = pending[key]
        head = data[pos:pos + 8]
        if len(head) < 8 or struct.unpack("<q", head)[0] != s.numel or pos + 8 + s.raw.nbytes > len(data):
            raise RuntimeError(f"minitorch.load: legacy storage {key!r} is truncated or corrupt")
        s.raw[:] = np.frombuffer(data, np.uint8, s.raw.nbytes, pos + 8)  # the tensors view these bytes
        if s.dtype == "bool" and s.raw.size and s.raw.max() > 1:
            raise RuntimeError("minitorch.load: a bool storage holds bytes other than 0 and 1 (corrupt file?)")
        pos += 8 + s.raw.nbytes
    return obj


def _no_persistent(pid):
    raise pickle.UnpicklingError("unsupported persistent id encountered")


# ------------------------------------------------------------------------------------------------ writing

class _Global:
    """A global written by name (torch's), never imported here: the pickler emits GLOBAL module\\nname."""
    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):
        raise TypeError(f"{self.module}.{self.name} is a name for pickling only")

    def __reduce__(self):
        raise TypeError("pickled by the torch pickler only")


_G_REBUILD_V2 = _Global("torch._utils", "_rebuild_tensor_v2")
_G_REBUILD_V3 = _Global("torch._utils", "_rebuild_tensor_v3")
_G_REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")
_G_ORDERED_DICT = _Global("collections", "OrderedDict")
_G_DEVICE = _Global("torch", "device")
_G_SIZE = _Global("torch", "Size")
_G_STORAGE = {}


def _storage_global(name):
    g = _G_STORAGE.get(name)
    if g is None:
        g = _G_STORAGE[name] = _Global("torch.storage", name) if name == "UntypedStorage" else _Global("torch", name)
    return g


class _StorageRef:
    __slots__ = ("pid",)

    def __init__(self, pid):
        self.pid = pid


class _HostBytes:
    """Exposes `nbytes` bytes at `addr` (a CPU storage) to NumPy, keeping the tensor that owns them alive."""

    def __init__(self, t, addr, nbytes):
        self.t = t
        self.__array_interface__ = {"shape": (nbytes,), "typestr": "|u1", "data": (addr, True), "version": 3}


def _torch_module(obj, module, qualname):
    """torch's module for a minitorch object: the shortest public package that exports the same object
    (minitorch.nn.modules.layers.Linear -> torch.nn), with minitorch replaced by torch."""
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        mod = sys.modules.get(".".join(parts[:i]))
        target = mod
        try:
            for attr in qualname.split("."):
                target = getattr(target, attr)
        except AttributeError:
            continue
        if target is obj:
            return "torch" + ".".join(parts[:i])[9:]
    return "torch" + module[9:]


class _TorchPickler(pickle._Pickler):
    """pickle's Python pickler, writing tensors as torch.save does and minitorch's globals by torch's names."""
    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, protocol, legacy=False):
        super().__init__(file, protocol)
        self.legacy = legacy  # the pre-1.6 stream's persistent ids carry a sixth item (view metadata, None)
        self.storages = {}  # key -> uint8 array of the storage's bytes
        self._refs = {}     # ("cpu", base address) or ("dev", id) -> _StorageRef
        self._reach = {}    # key -> bytes of that storage
        self.numel = {}     # storage name -> its element count

    def write_global(self, module, name, obj):
        self.write(pickle.GLOBAL + module.encode("utf-8") + b"\n" + name.encode("utf-8") + b"\n")
        self.memoize(obj)

    def save_global(self, obj, name=None):
        module = getattr(obj, "__module__", None) or ""
        qualname = name or getattr(obj, "__qualname__", None) or obj.__name__
        if module == "minitorch" or module.startswith("minitorch."):
            return self.write_global(_torch_module(obj, module, qualname), qualname, obj)
        return super().save_global(obj, name)

    dispatch[_Global] = lambda self, obj: self.write_global(obj.module, obj.name, obj)
    dispatch[_dtype] = lambda self, obj: self.write_global("torch", obj.name, obj)

    def persistent_id(self, obj):
        return obj.pid if type(obj) is _StorageRef else None

    def reducer_override(self, obj):
        if isinstance(obj, _C.TensorBase):
            return self._reduce_tensor(obj)
        if type(obj) is _device:
            return (_G_DEVICE, (obj.type,) if obj.index is None else (obj.type, obj.index))
        if type(obj) is Size:
            return (_G_SIZE, (tuple(obj),))
        return NotImplemented

    def _reduce_tensor(self, t):
        from .nn import Parameter
        if isinstance(t, Parameter):
            return (_G_REBUILD_PARAMETER, (t.detach(), t.requires_grad, OrderedDict()))
        ref, offset, stride = self._storage(t)
        hooks = OrderedDict()
        if _DTYPES[t.dtype.name][0] is None:  # dtypes torch keeps in untyped storages
            return (_G_REBUILD_V3, (ref, offset, tuple(t.shape), stride, t.requires_grad, hooks, t.dtype))
        return (_G_REBUILD_V2, (ref, offset, tuple(t.shape), stride, t.requires_grad, hooks))

    def _storage(self, t):
        """(storage ref, storage_offset, stride) of tensor t. CPU tensors save their whole storage, once for all
        the tensors that view it (as torch); a CUDA tensor is saved by its own values (minitorch cannot read a
        CUDA storage beyond the tensor)."""
        dev, es = t.device, t.element_size()
        if dev.type == "cpu":
            offset, stride = t.storage_offset(), tuple(t.stride())
            base = t.data_ptr() - offset * es
            # the bytes the tensor reaches: more than _storage_nbytes for a from_numpy of a strided NumPy view
            reach = 0 if 0 in t.shape else (offset + 1 + sum((n - 1) * st for n, st in zip(t.shape, stride))) * es
            nbytes = max(_C._storage_nbytes(t), reach)
            key = ("cpu", base)
            if key in self._refs and self._reach[key] < reach:  # the storage seen before is too short for t
                key = ("cpu", base, nbytes)
            self._reach.setdefault(key, nbytes)
            location = "cpu"
        else:
            key = ("dev", id(t))
            t = t.detach().contiguous()
            offset, stride = 0, tuple(t.stride())
            location = f"{dev.type}:{dev.index or 0}"
        ref = self._refs.get(key)
        if ref is None:
            if dev.type == "cpu":
                raw = np.asarray(_HostBytes(t, base, nbytes)) if nbytes else np.zeros(0, np.uint8)
            else:
                raw = np.ascontiguousarray(t.cpu().numpy()).reshape(-1).view(np.uint8)
            storage_name = _DTYPES[t.dtype.name][0]
            name = str(len(self.storages))
            numel = raw.nbytes // es if storage_name else raw.nbytes
            if self.legacy and not storage_name:
                raise RuntimeError(f"minitorch.save: torch's legacy format has no storage type for {t.dtype}")
            pid = ("storage", _storage_global(storage_name or "UntypedStorage"), name, location, numel)
            ref = self._refs[key] = _StorageRef(pid + (None,) if self.legacy else pid)
            self.storages[name] = raw
            self.numel[name] = numel
        return ref, offset, stride


def _archive_name(f):
    if isinstance(f, (str, bytes, os.PathLike)):
        base = os.path.basename(os.fsdecode(f))
        stem = base.rsplit(".", 1)[0] if "." in base else base
        return stem or "archive"
    return "archive"


def save_zip(obj, fh, archive, pickle_protocol=2, disable_byteorder=False):
    """Write obj in torch.save's zip format to the seekable binary file fh."""
    buf = io.BytesIO()
    pickler = _TorchPickler(buf, pickle_protocol)
    pickler.dump(obj)
    records = [("data.pkl", buf.getvalue()), (".format_version", b"1"), (".storage_alignment", b"64")]
    if not disable_byteorder:
        records.append(("byteorder", sys.byteorder.encode()))
    records += [(f"data/{k}", v) for k, v in pickler.storages.items()]
    records += [("version", b"3\n"), (".data/serialization_id", _serialization_id().encode())]
    start = fh.tell() if fh.seekable() else 0
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, data in records:
            info = zipfile.ZipInfo(f"{archive}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = len(data) if isinstance(data, bytes) else data.nbytes
            zip64 = info.file_size * 1.05 > zipfile.ZIP64_LIMIT
            header = 30 + len(info.filename.encode("utf-8")) + (20 if zip64 else 0)
            pos = fh.tell() - start
            pad = -(pos + header + 4) % 64  # torch's "FB" extra field pads each record to 64 bytes
            info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad
            with zf.open(info, "w", force_zip64=zip64) as w:
                w.write(data if isinstance(data, bytes) else memoryview(data.reshape(-1)))


def save_legacy(obj, fh, pickle_protocol=2):
    """Write obj as torch.save(_use_new_zipfile_serialization=False) does: pickles of the magic number, the
    protocol version, sys_info and obj, the sorted storage keys, then each storage as int64 numel + its bytes."""
    def dump(value):
        pickle._Pickler(fh, pickle_protocol).dump(value)
    buf = io.BytesIO()
    pickler = _TorchPickler(buf, pickle_protocol, legacy=True)
    pickler.dump(obj)
    dump(_LEGACY_MAGIC)
    dump(1001)
    dump({"protocol_version": 1001, "little_endian": sys.byteorder == "little",
          "type_sizes": {"short": 2, "int": 4, "long": 4}})
    fh.write(buf.getvalue())
    keys = sorted(pickler.storages)
    dump(keys)
    for key in keys:
        raw = pickler.storages[key]
        fh.write(struct.pack("<q", pickler.numel[key]))
        fh.write(memoryview(raw.reshape(-1)))


def _serialization_id():
    return "".join(str(b % 10) for b in os.urandom(40))

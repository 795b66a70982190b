"""minitorch.cuda: the CUDA device, like torch.cuda.

The CUDA backend is the separate extension minitorch._C_cuda; importing it registers the CUDA
kernels with the core. It is optional: without it (not built, no driver, no device) every query
here answers "no CUDA" instead of raising, and importing minitorch never fails.
"""
try:
    from . import _C, _C_cuda as _cuda
    _cuda._attach(_C)  # registers the CUDA kernels with this package's core
except ImportError as _e:  # not built, libcudart / libcublas missing at run time, or no usable device
    _cuda = None
    _import_error = str(_e)
else:
    _import_error = None


def _lazy_init_error():
    if _cuda is None:
        return f"minitorch was built without CUDA or its CUDA module failed to load ({_import_error})"
    return f"No CUDA GPUs are available ({_cuda.init_error()})" if _cuda.device_count() == 0 else None


def _check():
    msg = _lazy_init_error()
    if msg:
        raise AssertionError("Torch not compiled with CUDA enabled" if _cuda is None else msg)


def is_available():
    """True when a CUDA device can be used."""
    try:
        return _cuda is not None and _cuda.device_count() > 0
    except Exception:
        return False


def is_bf16_supported(including_emulation=True):
    """False: minitorch has no bfloat16 dtype on any device (torch answers for the GPU's hardware)."""
    from . import _types

    return is_available() and hasattr(_types, "bfloat16")


def device_count():
    return _cuda.device_count() if _cuda is not None else 0


def current_device():
    _check()
    return 0


def get_device_name(device=None):
    _check()
    if device is None:
        idx = 0
    elif isinstance(device, int):
        idx = device
    else:
        idx = getattr(device, "index", None)
        if idx is None and isinstance(device, str):
            idx = int(device.split(":")[1]) if ":" in device else 0
        idx = idx or 0
    return _cuda.get_device_name(idx)


def synchronize(device=None):
    if _cuda is not None:
        _cuda.synchronize()


def manual_seed(seed):
    """Seeds the CUDA generator (silently ignored without CUDA, like torch)."""
    if _cuda is not None:
        _cuda.manual_seed(int(seed))


def manual_seed_all(seed):
    manual_seed(seed)


def memory_allocated(device=None):
    return _cuda.memory_allocated() if _cuda is not None else 0


def max_memory_allocated(device=None):
    return _cuda.max_memory_allocated() if _cuda is not None else 0


def memory_reserved(device=None):
    return _cuda.memory_reserved() if _cuda is not None else 0


def reset_peak_memory_stats(device=None):
    if _cuda is not None:
        _cuda.reset_peak_memory_stats()


def empty_cache():
    if _cuda is not None:
        _cuda.empty_cache()


class _TF32Flag:
    """minitorch.cuda.matmul.allow_tf32 (off by default, like torch)."""

    _value = False  # remembered without the CUDA backend too, as torch's flag is

    @property
    def allow_tf32(self):
        return bool(_cuda.get_allow_tf32()) if _cuda is not None else _TF32Flag._value

    @allow_tf32.setter
    def allow_tf32(self, value):
        _TF32Flag._value = bool(value)
        if _cuda is not None:
            _cuda.set_allow_tf32(bool(value))


matmul = _TF32Flag()


def set_allow_tf32(value):
    matmul.allow_tf32 = value


def set_device(device):
    """Selects the current CUDA device; minitorch drives one device, cuda:0."""
    idx = device if isinstance(device, int) else getattr(device, "index", None)
    if isinstance(device, str):
        idx = int(device.split(":")[1]) if ":" in device else 0
    if idx is None or idx < 0:  # torch ignores a negative index
        return
    _check()
    if idx >= device_count():
        raise RuntimeError(f"CUDA error: invalid device ordinal (device {idx} of {device_count()})")


class _CudaLegacyTensorType(type):
    """minitorch.cuda.FloatTensor, ...: the legacy constructor of CUDA tensors of one dtype, and
    isinstance(t, cuda.FloatTensor) asks whether t is a float32 CUDA tensor."""

    def __call__(cls, *args, **kwargs):
        if not is_available():
            raise TypeError(f"type minitorch.cuda.{cls.__name__} not available. "
                            + ("Torch not compiled with CUDA enabled." if _cuda is None else _lazy_init_error()))
        from ._creation import _legacy_new
        from ._tensor import Tensor
        if args and isinstance(args[0], Tensor):  # a tensor (not a NumPy array, which has .device too)
            t = args[0]
            if t.dtype is not cls.dtype:
                raise TypeError(f"expected {cls.dtype} (got {t.dtype})")
            return t.to("cuda")
        kwargs.setdefault("device", "cuda")
        return _legacy_new(Tensor, args, kwargs, cls.dtype)

    def __instancecheck__(cls, obj):
        return hasattr(obj, "dtype") and obj.dtype is cls.dtype and getattr(obj, "device", None) is not None and \
            obj.device.type == "cuda"


def _cuda_legacy_type(name, dtype):
    return _CudaLegacyTensorType(name, (), {"dtype": dtype, "__module__": "minitorch.cuda",
                                            "__doc__": f"minitorch.cuda.{name}(...): legacy constructor of {dtype}"})


class _CudaAmp:
    """minitorch.cuda.amp: the deprecated device-specific spellings of minitorch.amp."""

    @staticmethod
    def autocast(enabled=True, dtype=None, cache_enabled=True):
        from .amp import autocast
        return autocast("cuda", dtype=dtype, enabled=enabled)

    @staticmethod
    def GradScaler(init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, enabled=True):
        from .amp import GradScaler
        return GradScaler("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


amp = _CudaAmp()


def _make_legacy_types():
    from . import _types
    names = {"FloatTensor": _types.float32, "DoubleTensor": _types.float64, "LongTensor": _types.int64,
             "IntTensor": _types.int32, "BoolTensor": _types.bool_}
    return {n: _cuda_legacy_type(n, d) for n, d in names.items()}


globals().update(_make_legacy_types())

__all__ = ["is_available", "device_count", "current_device", "get_device_name", "synchronize", "manual_seed",
           "manual_seed_all", "memory_allocated", "max_memory_allocated", "memory_reserved", "reset_peak_memory_stats",
           "empty_cache", "set_allow_tf32", "set_device", "FloatTensor", "DoubleTensor", "LongTensor", "IntTensor",
           "BoolTensor"]

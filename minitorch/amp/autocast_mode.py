"""torch.autocast on the CPU, with PyTorch's op lists for it: inside `autocast("cpu")` (bfloat16 by default, or
float16) the matrix products (matmul mm bmm addmm baddbmm linear), convolutions, scaled_dot_product_attention and
the recurrent layers take their float32 inputs in the low-precision dtype and return it; the losses take theirs in
float32 and return float32; every other op runs in the dtypes it is given (type promotion as usual). float64
tensors are never cast. The state is per thread, as PyTorch's; entering and leaving nest.

autocast("cuda") on a machine without CUDA warns and is disabled, as in PyTorch. With CUDA it raises
NotImplementedError: minitorch keeps float16 / bfloat16 off the GPU for now."""
import functools
import threading
import warnings

from .._types import bfloat16, device as _device, float16, float32

_tls = threading.local()
_ENTERED = [0]  # enabled CPU autocast regions open in any thread: the hooks' fast exit when there are none


def _stack():
    s = getattr(_tls, "stack", None)
    if s is None:
        s = _tls.stack = []
    return s


def _dtype_of(device_type):
    """The low-precision dtype autocast has this thread use for device_type, or None."""
    for dev, dt in reversed(_stack()):
        if dev == device_type:
            return dt
    return None


def cpu_dtype():
    return _dtype_of("cpu") if _ENTERED[0] else None


def is_autocast_available(device_type):
    return device_type in ("cpu", "cuda")


def is_autocast_enabled(device_type=None):
    return _dtype_of(device_type or "cuda") is not None


def get_autocast_dtype(device_type):
    if device_type not in ("cpu", "cuda"):
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
    return _dtype_of(device_type) or (bfloat16 if device_type == "cpu" else float16)


class autocast:
    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        _device(device_type)  # an unknown device string: torch's "Expected one of cpu, cuda, ..." error
        if device_type not in ("cpu", "cuda"):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else (bfloat16 if device_type == "cpu" else float16)
        self._enabled = bool(enabled)
        if self._enabled and device_type == "cuda":
            from .. import cuda
            if not cuda.is_available():
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", stacklevel=2)
                self._enabled = False
            else:
                raise NotImplementedError("autocast(device_type='cuda'): minitorch has no float16/bfloat16 tensors on "
                                          "the GPU yet; use enabled=False (or no autocast) to run in float32")
        if self._enabled and self.fast_dtype not in (bfloat16, float16):
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling autocast.\nCPU Autocast "
                          "only supports dtype of torch.bfloat16, torch.float16 currently.", stacklevel=2)
            self._enabled = False

    def __enter__(self):
        _stack().append((self.device, self.fast_dtype if self._enabled else None))
        if self._enabled:
            _ENTERED[0] += 1
        return self

    def __exit__(self, *exc):
        _stack().pop()
        if self._enabled:
            _ENTERED[0] -= 1
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled):
                return func(*args, **kwargs)
        return wrapper


# ---------------------------------------------------------------------------------------- the op lists' hooks

def convert_tensors(obj, src, dst):
    """obj (a tensor, or tuples and lists of them, any other value) with its CPU tensors of a dtype in src
    converted to dst (nn/_narrow.py uses it too)"""
    if isinstance(obj, tuple):
        return tuple(convert_tensors(o, src, dst) for o in obj)
    if isinstance(obj, list):
        return [convert_tensors(o, src, dst) for o in obj]
    if hasattr(obj, "grad_fn") and getattr(obj, "dtype", None) in src and obj.device.type == "cpu":
        return obj.to(dst)
    return obj


def lower_precision(fn):
    """fn of PyTorch's CPU lower-precision list: float32 (and the other 16-bit float) tensor arguments are cast
    to the autocast dtype first."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        dt = cpu_dtype()
        if dt is None:
            return fn(*args, **kwargs)
        src = (float32, float16 if dt is bfloat16 else bfloat16)
        return fn(*convert_tensors(args, src, dt), **{k: convert_tensors(v, src, dt) for k, v in kwargs.items()})

    return wrapper


def full_precision(fn):
    """fn of PyTorch's CPU float32 list (the losses): 16-bit float tensor arguments are cast to float32."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if cpu_dtype() is None:
            return fn(*args, **kwargs)
        src = (float16, bfloat16)
        return fn(*convert_tensors(args, src, float32), **{k: convert_tensors(v, src, float32) for k, v in kwargs.items()})

    return wrapper

"""The fused kernels (convolution, pooling, the fused losses, the recurrent layers) have float32 and float64 code
only. For float16 / bfloat16 arguments they run on float32 copies and their floating results are rounded back
once: PyTorch's CPU kernels for Half and BFloat16 also compute in float and round once, so the values agree to
the narrow dtype's rounding (the grad_fn of the result is then the conversion's, ToCopyBackward0)."""
import functools

from .._types import bfloat16, float16, float32
from ..amp.autocast_mode import convert_tensors

_NARROW_FLOATS = (float16, bfloat16)


def _narrow_dtype(obj):
    """The first float16 / bfloat16 tensor among obj (a tensor, or tuples and lists of them), else None."""
    if isinstance(obj, (tuple, list)):
        for o in obj:
            d = _narrow_dtype(o)
            if d is not None:
                return d
        return None
    d = getattr(obj, "dtype", None)
    return d if d in _NARROW_FLOATS and hasattr(obj, "grad_fn") else None


def in_float32(fn):
    """fn run on float32 copies of its float16 / bfloat16 tensor arguments, its float32 results rounded to the
    narrow dtype (the first one found among the arguments)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        narrow = _narrow_dtype(args) or _narrow_dtype(tuple(kwargs.values()))
        if narrow is None:
            return fn(*args, **kwargs)
        args = convert_tensors(args, _NARROW_FLOATS, float32)
        kwargs = {k: convert_tensors(v, _NARROW_FLOATS, float32) for k, v in kwargs.items()}
        return convert_tensors(fn(*args, **kwargs), (float32,), narrow)

    return wrapper

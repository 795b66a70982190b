"""Helpers of torch.distributions.utils: broadcast_all, probs/logits conversions, lazy_property."""
from numbers import Number

from .. import _C

__all__ = ["_sum_rightmost", "broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits"]

_EPS = {"float32": 1.1920928955078125e-07, "float64": 2.220446049250313e-16}
_MIN = {"float32": -3.4028234663852886e38, "float64": -1.7976931348623157e308}


def _dt(t):
    return str(t.dtype).split(".")[-1]


def finfo_eps(t):
    return _EPS.get(_dt(t), _EPS["float32"])


def finfo_min(t):
    return _MIN.get(_dt(t), _MIN["float32"])


def broadcast_all(*values):
    """Numbers become tensors (the dtype of the tensor arguments, else the default dtype); all are
    expanded to their broadcast shape."""
    from .. import broadcast_shapes, get_default_dtype, tensor
    if not all(isinstance(v, (_C.TensorBase, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, torch.Tensor or objects "
                         "implementing __torch_function__.")
    tensors = [v for v in values if isinstance(v, _C.TensorBase)]
    if len(tensors) < len(values):
        like = tensors[0] if tensors else None
        dtype = like.dtype if like is not None else get_default_dtype()
        device = like.device if like is not None else None
        values = [v if isinstance(v, _C.TensorBase) else tensor(float(v), dtype=dtype, device=device)
                  for v in values]
    shape = broadcast_shapes(*[tuple(v.shape) for v in values])
    return tuple(v if tuple(v.shape) == tuple(shape) else v.expand(shape) for v in values)


def clamp_probs(probs):
    eps = finfo_eps(probs)
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def probs_to_logits(probs, is_binary=False):
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ps_clamped.log() - (-ps_clamped).log1p()
    return ps_clamped.log()


class lazy_property:
    """Computed on first access (with grad enabled, as torch) and then stored on the instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = getattr(wrapped, "__doc__", None)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        from ..autograd import enable_grad
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def _sum_rightmost(value, dim):
    """sums out the dim rightmost dimensions of value"""
    if dim == 0:
        return value
    return value.reshape(list(value.shape[: value.dim() - dim]) + [-1]).sum(-1)


def finfo_tiny(t):
    return {"float64": 2.2250738585072014e-308}.get(_dt(t), 1.1754943508222875e-38)

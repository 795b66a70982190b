"""nn.functional for the losses, with PyTorch's signatures, reductions, checks and errors.

Class-index cross-entropy and nll_loss run ONE fused C kernel each (minitorch._C._cross_entropy /
_C._nll_loss: log-softmax + gather in one pass per row, with their own backward). mse_loss,
binary_cross_entropy and binary_cross_entropy_with_logits run one fused elementwise C kernel
(_C._pointwise_loss). Probability targets, weighted mse/l1 and l1 are composed from core ops as in
PyTorch. The fused kernels exist for CPU and CUDA tensors (cuda/loss.cu); tensors on another device take
the composed path.
"""
import warnings

from .. import _C
from .._C import TensorBase
from .._types import Size

__all__ = ["mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits"]

_MSE, _BCE, _BCE_LOGITS = 0, 1, 2          # kinds of _C._pointwise_loss
_NONE, _MEAN, _SUM = 0, 1, 2                # torch.nn._reduction enum


# ---------------------------------------------------------------- reductions (torch.nn._reduction)
def _get_enum(reduction):
    if reduction == "none":
        return _NONE
    if reduction == "mean":
        return _MEAN
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.")
        return _MEAN
    if reduction == "sum":
        return _SUM
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _legacy_get_string(size_average, reduce, emit_warning=True):
    warning = "size_average and reduce args will be deprecated, please use reduction='{}' instead."
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    if emit_warning:
        warnings.warn(warning.format(ret))
    return ret


_ENUM = {"none": _NONE, "mean": _MEAN, "sum": _SUM}


def _reduction_enum(size_average, reduce, reduction):
    if size_average is None and reduce is None and reduction.__class__ is str:
        r = _ENUM.get(reduction)
        if r is not None:
            return r
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    return _get_enum(reduction)


def _check_tensor(fn, name, t, optional=False):
    if optional and t is None:
        return
    if not isinstance(t, TensorBase):
        raise TypeError(f"{fn}(): argument '{name}' (position {1 if name == 'input' else 2}) must be Tensor, "
                        f"not {type(t).__name__}")


def _on_cpu(*ts):
    """True when the fused C kernels serve these tensors: all on the CPU or on CUDA (cuda/loss.cu, registered
    when minitorch._C_cuda is imported). The composed paths below remain for other devices."""
    return all(t is None or t.is_cpu or t.is_cuda for t in ts)


def _reduce(loss, red):
    if red == _NONE:
        return loss
    return loss.sum() if red == _SUM else loss.mean()


def _broadcast_shape(a, b):
    """Broadcast shape of two shapes, with PyTorch's error for a mismatch."""
    a, b = tuple(a), tuple(b)
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + a
    b = (1,) * (n - len(b)) + b
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                               f"dimension {i}")
        out.append(y if x == 1 else x)
    return Size(out)


def _expand_to(t, shape):
    return t if t is None or tuple(t.shape) == tuple(shape) else t.expand(*shape)


# ---------------------------------------------------------------- regression losses
def _size_warning(input, target):
    if target.size() != input.size():
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
            "This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )


def _weighted(errors, weight, red):
    w = errors * weight
    if red == _NONE:
        return w
    if red == _SUM:
        return w.sum()
    return w.sum() / weight.sum()


def _regression_args(name, input, target, size_average, reduce, reduction):
    """mse_loss / l1_loss: the checks and warning, the reduction, input and target broadcast to one
    shape; returns (input, target, reduction enum)"""
    _check_tensor(name, "input", input)
    _check_tensor(name, "target", target)
    _size_warning(input, target)
    red = _reduction_enum(size_average, reduce, reduction)
    if input.shape != target.shape:
        shape = _broadcast_shape(input.shape, target.shape)
        input, target = _expand_to(input, shape), _expand_to(target, shape)
    return input, target, red


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (one fused C kernel, node MseLossBackward0)."""
    input, target, red = _regression_args("mse_loss", input, target, size_average, reduce, reduction)
    if weight is not None:
        if weight.size() != input.size():
            raise ValueError("Weights and input must have the same size.")
        return _weighted((input - target) ** 2, weight, red)
    if _on_cpu(input, target):
        return _C._pointwise_loss(_MSE, input, target, None, None, red)
    return _reduce((input - target) ** 2, red)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error, composed like PyTorch's (|input - target| then the reduction)."""
    input, target, red = _regression_args("l1_loss", input, target, size_average, reduce, reduction)
    errors = (input - target).abs()
    if weight is not None:
        if weight.size() != input.size():
            raise ValueError("Weights and input must have the same size.")
        return _weighted(errors, weight, red)
    return _reduce(errors, red)


# ---------------------------------------------------------------- classification losses
def _nll_composed(logp, target, weight, ignore_index, red):
    """nll_loss from core ops (for devices without the fused kernel); same checks as the kernel."""
    if logp.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {logp.dim()})")
    cdim = 0 if logp.dim() == 1 else 1
    n_classes = logp.shape[cdim]
    if logp.dim() != 1 and (target.dim() == 0 or logp.shape[0] != target.shape[0]):
        raise ValueError(f"Expected input batch_size ({logp.shape[0]}) to match target batch_size "
                         f"({target.shape[0] if target.dim() else 0}).")
    want = ([] if logp.dim() == 1 else [logp.shape[0]]) + list(logp.shape[2:])
    if logp.dim() == 1 and target.dim() == 1:
        want = [1]
    if list(target.shape) != want:
        raise RuntimeError(f"Expected target size {want}, got {list(target.shape)}")
    if str(target.dtype) != "torch.int64":
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {target.type().split('.')[-1][:-6]}")
    if weight is not None and (weight.dim() != 1 or weight.shape[0] != n_classes):
        raise RuntimeError(f"weight tensor should be defined either for all {n_classes} classes or no classes but "
                           f"got weight tensor of shape: {list(weight.shape)}")
    t = target.reshape(logp.shape[:1] + logp.shape[2:]) if logp.dim() > 1 else target.reshape(1)
    lp = logp if logp.dim() > 1 else logp.unsqueeze(0)
    keep = t != ignore_index
    safe = t.masked_fill(~keep, 0)
    bad = keep & ((safe < 0) | (safe >= n_classes))
    if bool(bad.any()):
        raise IndexError(f"Target {int(t[bad].reshape(-1)[0])} is out of bounds.")
    picked = lp.gather(1, safe.unsqueeze(1)).squeeze(1)
    w = keep.to(lp.dtype)
    if weight is not None:
        w = w * weight.index_select(0, safe.reshape(-1)).reshape(safe.shape)
    loss = -(picked * w)
    if red == _NONE:
        return loss.reshape(target.shape)
    if red == _SUM:
        return loss.sum()
    return loss.sum() / w.sum()


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of log-probabilities (one fused C kernel, node NllLossBackward0)."""
    _check_tensor("nll_loss", "input", input)
    _check_tensor("nll_loss", "target", target)
    red = _reduction_enum(size_average, reduce, reduction)
    if _on_cpu(input, target, weight):
        return _C._nll_loss(input, target, weight, int(ignore_index), red)
    return _nll_composed(input, target, weight, ignore_index, red)


def _cross_entropy_probs(input, target, weight, red, label_smoothing):
    """Soft (probability) targets, composed as PyTorch's cross_entropy_loss_prob_target."""
    if not target.dtype.is_floating_point:
        raise RuntimeError("Expected floating point type for target with class probabilities, got "
                           f"{target.type().split('.')[-1][:-6]}")
    if not (0.0 <= label_smoothing <= 1.0):
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing:g}")
    cdim = 0 if input.dim() == 1 else 1
    n_classes = input.shape[cdim]
    if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all {n_classes} classes or "
                           f"no classes but got weight tensor of shape: {list(weight.shape)}")
    logp = input.log_softmax(cdim)
    if label_smoothing > 0.0:
        target = target * (1 - label_smoothing) + (label_smoothing / n_classes)
    prod = logp * target
    if weight is not None:
        shape = [1] * input.dim()
        shape[cdim] = n_classes
        prod = prod * weight.view(*shape)
    if red == _NONE:
        return -prod.sum(cdim)
    if red == _SUM:
        return -prod.sum()
    if input.numel() == 0:
        return -prod.sum() * float("nan")
    return -prod.sum() / (input.numel() // n_classes)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy of logits. Class-index targets: one fused, numerically stable C kernel
    (log-softmax + gather) with its own backward; probability targets: composed from log_softmax."""
    _check_tensor("cross_entropy", "input", input)
    _check_tensor("cross_entropy", "target", target)
    red = _reduction_enum(size_average, reduce, reduction)
    label_smoothing = float(label_smoothing)
    if input.dim() == target.dim() and input.shape == target.shape:
        if ignore_index >= 0:
            if not target.dtype.is_floating_point:
                raise RuntimeError("Expected floating point type for target with class probabilities, got "
                                   f"{target.type().split('.')[-1][:-6]}")
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _cross_entropy_probs(input, target, weight, red, label_smoothing)
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing:g}")
    eps = label_smoothing if label_smoothing > 0.0 else 0.0   # torch ignores a negative smoothing here
    if _on_cpu(input, target, weight):
        return _C._cross_entropy(input, target, weight, int(ignore_index), eps, red)
    # other devices: log_softmax + nll (+ the smoothing term), as PyTorch composes it
    cdim = 0 if input.dim() == 1 else 1
    logp = input.log_softmax(cdim)
    nll = _nll_composed(logp, target, weight, ignore_index, red)
    if eps == 0.0:
        return nll
    n_classes = input.shape[cdim]
    if weight is not None:
        shape = [1] * input.dim()
        shape[cdim] = n_classes
        smooth = -(logp * weight.view(*shape)).sum(cdim)
    else:
        smooth = -logp.sum(cdim)
    ignored = target == ignore_index
    smooth = smooth.masked_fill(ignored, 0.0)
    if red == _MEAN:
        keep = ~ignored
        if weight is not None:
            denom = (weight.index_select(0, target.masked_fill(ignored, 0).reshape(-1)).reshape(target.shape)
                     * keep.to(weight.dtype)).sum()
        else:
            denom = keep.sum()
        ret = smooth.sum() / denom
    elif red == _SUM:
        ret = smooth.sum()
    else:
        ret = smooth
    return (1 - eps) * nll + ret * (eps / n_classes)


def _check_bce_size(input, target):
    if target.size() != input.size():
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input size "
                         f"({input.size()}) is deprecated. Please ensure they have the same size.")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross-entropy of probabilities (logs clamped at -100 like PyTorch; one fused C kernel,
    node BinaryCrossEntropyBackward0). Inputs or targets outside [0, 1] raise RuntimeError."""
    _check_tensor("binary_cross_entropy", "input", input)
    _check_tensor("binary_cross_entropy", "target", target)
    red = _reduction_enum(size_average, reduce, reduction)
    _check_bce_size(input, target)
    if weight is not None:
        weight = _expand_to(weight, _broadcast_shape(target.shape, weight.shape))
    if _on_cpu(input, target, weight):
        return _C._pointwise_loss(_BCE, input, target, weight, None, red)
    if input.dtype != target.dtype:
        raise RuntimeError(f"Found dtype {target.type().split('.')[-1][:-6]} but expected "
                           f"{input.type().split('.')[-1][:-6]}")
    if bool(((input < 0) | (input > 1) | input.isnan()).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if bool(((target < 0) | (target > 1) | target.isnan()).any()):
        raise RuntimeError("all elements of target should be between 0 and 1")
    loss = -(target * input.log().clamp(min=-100) + (1 - target) * (-input).log1p().clamp(min=-100))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, red)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross-entropy of logits, stable for any logit: (1 - y) x + (1 + (pw - 1) y) log(1 + exp(-x)),
    times weight (one fused C kernel, node BinaryCrossEntropyWithLogitsBackward0)."""
    _check_tensor("binary_cross_entropy_with_logits", "input", input)
    _check_tensor("binary_cross_entropy_with_logits", "target", target)
    red = _reduction_enum(size_average, reduce, reduction)
    if target.size() != input.size():
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    for name, t in (("weight", weight), ("pos_weight", pos_weight)):
        if t is not None and t.requires_grad and _C.is_grad_enabled():
            raise RuntimeError(f"The function 'binary_cross_entropy_with_logits' is not differentiable with respect "
                               f"to argument '{name}'. This input cannot have requires_grad True.")
    if weight is not None:
        weight = _expand_to(weight, _broadcast_shape(input.shape, weight.shape))
    if pos_weight is not None:
        pos_weight = _expand_to(pos_weight, _broadcast_shape(input.shape, pos_weight.shape))
    if _on_cpu(input, target, weight, pos_weight):
        return _C._pointwise_loss(_BCE_LOGITS, input, target, weight, pos_weight, red)
    if not target.dtype.is_floating_point:
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{target.type().split('.')[-1][:-6]}")
    # softplus(-x) = max(-x, 0) + log1p(exp(-|x|))
    sp = (-input).clamp(min=0) + (-input.abs()).exp().log1p()
    lw = sp if pos_weight is None else ((pos_weight - 1) * target + 1) * sp
    loss = (1 - target) * input + lw
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, red)

"""nn.functional for the losses, with PyTorch's signatures, reductions, checks and errors.

Class-index cross-entropy and nll_loss run ONE fused C kernel each (minitorch._C._cross_entropy /
_C._nll_loss: log-softmax + gather in one pass per row, with their own backward). mse_loss,
binary_cross_entropy and binary_cross_entropy_with_logits run one fused elementwise C kernel
(_C._pointwise_loss). Probability targets, weighted mse/l1 and l1 are composed from core ops as in
PyTorch. The fused kernels exist for CPU and CUDA tensors (cuda/loss.cu); tensors on another device take
the composed path.
"""
import math
import warnings

from .. import _C
from ._narrow import in_float32
from ..amp.autocast_mode import full_precision
from .._C import TensorBase, cat, stack, where
from .._creation import ones_like as _ones_like
from .._types import SCALAR_TYPE_NAMES, Size
from ..autograd.grad_mode import no_grad as _no_grad

__all__ = ["mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits",
           "smooth_l1_loss", "huber_loss", "kl_div", "poisson_nll_loss", "gaussian_nll_loss", "hinge_embedding_loss",
           "margin_ranking_loss", "cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
           "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss", "soft_margin_loss",
           "cosine_similarity", "pairwise_distance", "ctc_loss"]

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


@full_precision
@in_float32
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


@full_precision
@in_float32
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


@full_precision
@in_float32
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


@full_precision
@in_float32
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


@full_precision
@in_float32
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


@full_precision
@in_float32
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


# ---------------------------------------------------------------- more losses, composed from core ops as in ATen
# (their gradients come from the ops' derivatives; each follows PyTorch's formula and its choice of branch at a
# kink, e.g. smooth_l1's |x - y| == beta, hinge's clamp_min, multi_margin's strict z > 0)
def _fmt(v):
    return f"{v:g}"


@full_precision
@in_float32
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """|d| < beta ? 0.5 d^2 / beta : |d| - 0.5 beta, with d = input - target (l1_loss for beta == 0)."""
    input, target, red = _regression_args("smooth_l1_loss", input, target, size_average, reduce, reduction)
    if beta == 0.0:
        return _reduce((input - target).abs(), red)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = input - target
    z = d.abs()
    return _reduce(where(z < beta, d * d * (0.5 / beta), z - 0.5 * beta), red)


@full_precision
@in_float32
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """|d| < delta ? 0.5 d^2 : delta (|d| - 0.5 delta), with d = input - target."""
    input, target, red = _regression_args("huber_loss", input, target, None, None,
                                          reduction if weight is None else "none")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = input - target
    z = d.abs()
    loss = where(z < delta, d * d * 0.5, (z - 0.5 * delta) * delta)
    if weight is None:
        return _reduce(loss, red)
    if weight.size() != input.size():
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


@full_precision
@in_float32
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target * (log(target) - input) pointwise (xlogy, so 0 where target == 0), or exp(target) * (target - input)
    for log_target; 'batchmean' divides the sum by the batch size."""
    _check_tensor("kl_div", "input", input)
    _check_tensor("kl_div", "target", target)
    if size_average is not None or reduce is not None:
        red = _get_enum(_legacy_get_string(size_average, reduce))
    else:
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                          "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                          "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                          stacklevel=2)
        red = _SUM if reduction == "batchmean" else _get_enum(reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target.xlogy(target) - target * input
    out = _reduce(loss, red)
    if reduction == "batchmean" and input.dim() != 0:
        out = out / input.size()[0]
    return out


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """exp(input) - target * input (log_input), or input - target * log(input + eps); full adds Stirling's
    approximation of log(target!) where target > 1."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    _check_tensor("poisson_nll_loss", "input", input)
    _check_tensor("poisson_nll_loss", "target", target)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + (target * (2 * math.pi)).log() * 0.5
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, _ENUM[reduction])


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log(max(var, eps)) + (input - target)^2 / max(var, eps)) (+ 0.5 log(2 pi) if full); the clamp of var
    is invisible to autograd, as in PyTorch."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * _ones_like(input)
    elif not isinstance(var, TensorBase):
        raise TypeError(f"any(): argument 'input' (position 1) must be Tensor, not {type(var).__name__}")
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.size() != input.size():
        if input.size()[:-1] == var.size():
            var = var.unsqueeze(-1)
        elif input.dim() == var.dim() and sum(y for x, y in zip(input.size(), var.size()) if x != y) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with _no_grad():
        var.clamp_(min=eps)
    loss = ((input - target) ** 2 / var + var.log()) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, _ENUM[reduction])


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where target == 1, max(0, margin - x) where target == -1 (ATen's sum of the two where-terms)."""
    red = _reduction_enum(size_average, reduce, reduction)
    margin_clamp = (margin - input).clamp(min=0)
    loss = where(target != 1, margin_clamp, 0.0) + where(target != -1, input, 0.0)
    return _reduce(loss, red)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    red = _reduction_enum(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), red)


_COS_EPSILON = 1e-12


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target == 1, max(0, cos(x1, x2) - margin) where target == -1."""
    red = _reduction_enum(size_average, reduce, reduction)
    td = target.dim()
    if td not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if td == 1:
        if input1.dim() != 2 or input2.dim() != 2:
            raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with sizes "
                               f"{list(input1.shape)} and {list(input2.shape)}.")
    elif input1.dim() != 1 or input2.dim() != 1:
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    prod_sum = (input1 * input2).sum(td)
    mag1 = (input1 * input1).sum(td) + _COS_EPSILON
    mag2 = (input2 * input2).sum(td) + _COS_EPSILON
    cos = prod_sum / (mag1 * mag2).sqrt()
    pos = 1 - cos
    neg = (cos - margin).clamp(min=0)
    loss = where(target == 1, pos, 0.0) + where(target == -1, neg, 0.0)
    return _reduce(loss, red)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim of the broadcast shape."""
    nd = max(x1.dim(), x2.dim())
    return (x1 - x2 + eps).norm(p, dim=nd - 1, keepdim=keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along dim of the broadcast shape; the clamps are
    invisible to autograd (ATen normalises each input first, for a result within [-1, 1])."""
    if not (x1.dtype.is_floating_point or x2.dtype.is_floating_point):
        common = SCALAR_TYPE_NAMES[x1.dtype if x1.dtype.itemsize >= x2.dtype.itemsize else x2.dtype]
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is {common}")
    if not x1.dtype.is_floating_point:
        x1 = x1.to(x2.dtype)
    if not x2.dtype.is_floating_point:
        x2 = x2.to(x1.dtype)
    if tuple(x1.shape) != tuple(x2.shape):
        shape = _broadcast_shape(x1.shape, x2.shape)
        x1, x2 = _expand_to(x1, shape), _expand_to(x2, shape)
    n1 = x1.norm(2, dim=dim, keepdim=True).clone()
    n2 = x2.norm(2, dim=dim, keepdim=True).clone()
    with _no_grad():
        n1.clamp_(min=eps)
        n2.clamp_(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + d(a, p) - d(a, n)), d the pairwise p-norm distance (swap: d(a, n) -> min(d(a, n), d(p, n)))."""
    red = _reduction_enum(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    dist_pos = pairwise_distance(anchor, positive, p, eps)
    dist_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = dist_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + dist_pos - dist_neg).clamp(min=0), red)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p and p == n):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs")


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    if distance_function is None:
        distance_function = pairwise_distance
    dist_pos = distance_function(anchor, positive)
    dist_neg = distance_function(anchor, negative)
    if swap:
        dist_neg = dist_neg.minimum(distance_function(positive, negative))
    loss = (margin + dist_pos - dist_neg).clamp(min=0)
    return _reduce(loss, _ENUM[reduction])


def _margin_input_check(input):
    nd = input.dim()
    if not ((nd == 2 and input.shape[1] != 0) or (nd == 1 and input.shape[0] != 0) or nd == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")
    if nd <= 1:
        return 1, (1 if nd == 0 else input.shape[0])
    return input.shape[0], input.shape[1]


def _long_target(target):
    if str(target.dtype) != "torch.int64":
        raise RuntimeError(f"expected scalar type Long but found {target.type().split('.')[-1][:-6]}")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """sum_{j != y} max(0, margin - x[y] + x[j])^p * weight[y] / C per sample."""
    red = _reduction_enum(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    nframe, dim = _margin_input_check(input)
    if target.dim() > 1 or target.numel() != nframe:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{nframe}], but got {list(target.shape)}. "
                           f"Input has shape {list(input.shape)}.")
    if weight is not None and (weight.dim() > 1 or weight.numel() != dim):
        raise RuntimeError(f"inconsistent weight size, expected {dim} but got {list(weight.shape)}")
    _long_target(target)
    _not_differentiable("multi_margin_loss", "weight", weight)
    t = target.reshape(nframe, 1)
    if nframe and bool(((t < 0) | (t >= dim)).any()):
        raise RuntimeError("target out of range")
    x = input.reshape(nframe, dim)
    x_y = x.gather(1, t)
    z = x - x_y + margin
    from .._creation import arange
    other = arange(dim, device=input.device).reshape(1, dim) != t
    h = z if p == 1 else z * z
    if weight is not None:
        h = h * weight.index_select(0, t.reshape(-1)).reshape(nframe, 1)
    loss = where(other & (z > 0), h, 0.0).sum(1) / dim
    if red == _NONE:
        return loss.reshape(target.shape) if target.dim() > 0 else loss.reshape(())
    return _reduce(loss, red)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j (the entries of target up to the first -1) and non-target classes k of
    max(0, 1 - (x[j] - x[k])), / C per sample."""
    import numpy as np
    from .._creation import tensor
    red = _reduction_enum(size_average, reduce, reduction)
    nframe, dim = _margin_input_check(input)
    if tuple(target.shape) != tuple(input.shape) and not (input.dim() <= 1 and target.numel() == dim):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    _long_target(target)
    t = target.detach().cpu().numpy().reshape(nframe, dim)
    if t.size and ((t < -1) | (t >= dim)).any():
        raise RuntimeError("argument #2 'target' is out of range")
    cnt = np.zeros((nframe, dim), dtype=np.float64)
    for i in range(nframe):
        for c in t[i]:
            if c < 0:
                break
            cnt[i, c] += 1
    is_target = tensor(cnt > 0, device=input.device)
    cnt = tensor(cnt, dtype=input.dtype, device=input.device)
    x = input.reshape(nframe, dim)
    z = 1 - x.unsqueeze(2) + x.unsqueeze(1)                  # z[i, j, k] = 1 - x[j] + x[k]
    keep = (cnt.unsqueeze(2) > 0) & (~is_target).unsqueeze(1) & (z > 0)
    loss = (where(keep, z, 0.0) * cnt.unsqueeze(2)).sum((1, 2)) / dim
    if red == _NONE:
        return loss if target.dim() > 1 else loss.reshape(())
    if nframe == 0:
        return loss.sum()
    return _reduce(loss, red)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(y log sigmoid(x) + (1 - y) log sigmoid(-x)) (times weight), averaged over the class dim."""
    from ._functional_activation import logsigmoid
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    C = input.size(class_dim)
    loss = loss.sum(class_dim) / C
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(reduction + " is not valid")


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)) (ATen's formula: no rescaling for large -target * input)."""
    red = _reduction_enum(size_average, reduce, reduction)
    _not_differentiable("soft_margin_loss", "target", target)
    return _reduce((-input * target).exp().log1p(), red)


def _not_differentiable(fn, name, t):
    if t is not None and t.requires_grad and _C.is_grad_enabled():
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument '{name}'. This "
                           "input cannot have requires_grad True.")


# ---------------------------------------------------------------- CTC
def _lse_safe(terms):
    """log(sum(exp(terms))) over the stacked last dim; -inf (with zero gradient, not NaN) where every term is -inf"""
    from .._C import where
    x = stack(terms, -1)
    m = x.detach().max(-1, keepdim=True).values
    m = where(m == float("-inf"), 0.0, m)
    s = (x - m).exp().sum(-1)
    pos = s > 0
    return where(pos, m.squeeze(-1) + where(pos, s, 1.0).log(), float("-inf"))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification (Graves et al. 2006): the forward (alpha) recursion over the
    blank-extended targets in log space, one vectorised step per time step; autograd gives the gradient.
    log_probs [T, N, C] (or [T, C]), targets [N, S] padded or 1-D concatenated, lengths as tensors or lists;
    'mean' divides each sample's loss by its target length, then averages (torch's rule)."""
    import numpy as np
    from .._C import where
    from .._creation import full, tensor
    if not log_probs.is_floating_point():
        raise RuntimeError(f"\"ctc_loss_cpu\" not implemented for '{log_probs.type().split('.')[-1][:-6]}'")
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        if targets.dim() == 1 and not (hasattr(target_lengths, "numel") and target_lengths.dim() == 1):
            targets = targets.unsqueeze(0)
    if log_probs.dim() != 3:
        raise RuntimeError(f"ctc_loss: expected log_probs of 2 or 3 dims, got {log_probs.dim()}")
    T, N, C = log_probs.shape
    il = np.asarray(input_lengths.tolist() if hasattr(input_lengths, "tolist") else input_lengths,
                    dtype=np.int64).reshape(-1)
    tl = np.asarray(target_lengths.tolist() if hasattr(target_lengths, "tolist") else target_lengths,
                    dtype=np.int64).reshape(-1)
    if il.size != N:
        raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value {il.max() if il.size else 0} "
                           "(while checking arguments for ctc_loss_allocate_outputs)" if il.size and il.max() > T
                           else f"input_lengths must be of size batch_size ({N}), got {il.size}")
    if tl.size != N:
        raise RuntimeError(f"target_lengths must be of size batch_size ({N}), got {tl.size}")
    if (il > T).any():
        raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value {il.max()} (while "
                           "checking arguments for ctc_loss_allocate_outputs)")
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    tg = np.asarray(targets.tolist(), dtype=np.int64)
    if tg.ndim == 2:
        if (tl > tg.shape[1]).any():
            raise RuntimeError(f"Expected tensor to have size at least {tl.max()} at dimension 1, but got size "
                               f"{tg.shape[1]} for argument #2 'targets' (while checking arguments for "
                               "ctc_loss_allocate_outputs)")
        rows = [tg[n, :tl[n]] for n in range(N)]
    else:
        if tl.sum() > tg.size:
            raise RuntimeError("ctc_loss: the target lengths sum to more than the targets' length")
        ends = np.cumsum(tl)
        rows = [tg[e - ln:e] for e, ln in zip(ends, tl)]
    S = 2 * int(tl.max() if tl.size else 0) + 1
    ext = np.full((N, S), blank, dtype=np.int64)       # blank, l1, blank, l2, ..., blank
    skip = np.zeros((N, S), dtype=bool)                 # s may come from s - 2 (a label differing from l[s - 2])
    for n, r in enumerate(rows):
        ext[n, 1:2 * len(r):2] = r
        for s2 in range(3, 2 * len(r), 2):
            skip[n, s2] = r[(s2 - 1) // 2] != r[(s2 - 3) // 2]
    dev, dt = log_probs.device, log_probs.dtype
    idx = tensor(ext, device=dev).unsqueeze(0).expand(T, N, S)
    lp = log_probs.gather(2, idx)                          # [T, N, S]: log p of each extended label
    neg = full((N, 1), float("-inf"), dtype=dt, device=dev)
    skip_t = tensor(skip, device=dev)
    init = np.full((N, S), False)
    init[:, 0] = True
    init[:, 1] = tl > 0
    alpha = where(tensor(init[:, :S], device=dev), lp[0], float("-inf"))
    alphas = [alpha]
    for t in range(1, T):
        a1 = cat([neg, alpha[:, :-1]], 1)
        a2 = where(skip_t, cat([neg, neg, alpha[:, :-2]], 1) if S > 2 else neg.expand(N, S), float("-inf"))
        alpha = _lse_safe([alpha, a1, a2]) + lp[t]
        alphas.append(alpha)
    al = stack(alphas, 0)                                  # [T, N, S]
    last = tensor(np.clip(il - 1, 0, T - 1), device=dev).view(1, N, 1).expand(1, N, S)
    a_end = al.gather(0, last).squeeze(0)                  # [N, S]: alpha at each sample's last frame
    e1 = tensor(2 * tl, device=dev).view(N, 1)
    e2 = tensor(np.maximum(2 * tl - 1, 0), device=dev).view(N, 1)
    end1, end2 = a_end.gather(1, e1).squeeze(1), a_end.gather(1, e2).squeeze(1)
    end2 = where(tensor(tl > 0, device=dev), end2, float("-inf"))
    loss = -_lse_safe([end1, end2])
    loss = where(tensor(il > 0, device=dev), loss, float("inf"))
    if zero_infinity:
        loss = where(loss == float("inf"), 0.0, loss)
    if reduction == "mean":
        return (loss / tensor(np.maximum(tl, 1), dtype=dt, device=dev)).mean()
    if reduction == "sum":
        return loss.sum()
    if reduction != "none":
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return loss.squeeze(0) if unbatched else loss

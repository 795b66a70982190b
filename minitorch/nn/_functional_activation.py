"""nn.functional for the other activations (ELU family, hard* family, shrinks, softplus, mish, GLU, PReLU,
RReLU, threshold, ...) and the channel-wise / alpha dropouts.

Every function is composed from core ops, which carry their own derivatives, so gradients come for free.
The compositions follow PyTorch's kernels, including which side of a kink a point such as x == 0 or
x == threshold belongs to (the branch chosen by `where` is the one whose derivative autograd takes), and
never evaluate a branch that overflows where it is not selected (its zero gradient would meet an inf and
give NaN): such a branch reads its input through a clamp or a `where` first.
"""
import math
import struct
import warnings

from .. import _C
from .._C import where
from .._creation import rand, zeros_like
from .._types import SCALAR_TYPE_NAMES
from ..autograd.grad_mode import no_grad
from ._functional_layers import _floating_only, _softmax_dim, leaky_relu

__all__ = [
    "threshold", "threshold_", "hardtanh", "hardtanh_", "relu6", "elu", "elu_", "selu", "selu_", "celu", "celu_",
    "prelu", "rrelu", "rrelu_", "glu", "logsigmoid", "hardshrink", "tanhshrink", "softsign", "softplus", "softmin",
    "softshrink", "hardsigmoid", "hardswish", "mish",
    "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
]

# SELU's constants (Klambauer et al. 2017), as in ATen
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
# PyTorch's hardsigmoid backward multiplies by the float constant 1.0f / 6.0f, for every dtype
_ONE_SIXTH_F32 = 0.1666666716337204


def _inplace(input, out_fn):
    """input.copy_(out_fn(input)): the in-place form. When autograd records the op, the composite reads a clone
    of input, so the values its backward saved are not the ones copy_ overwrites (PyTorch's in-place kernels
    save the result instead)."""
    src = input.clone() if (input.requires_grad and _C.is_grad_enabled()) else input
    return input.copy_(out_fn(src))


def _with_grad(value, surrogate):
    """value in the forward, d(surrogate) in the backward (for kernels whose backward constants differ from the
    forward's, like hardsigmoid's float 1/6)."""
    if not surrogate.requires_grad:
        return value
    return value.detach() + (surrogate - surrogate.detach())


def _fmt(v):
    """A number as C++'s ostream prints a double (6 significant digits)."""
    return f"{v:g}"


# ---------------------------------------------------------------- threshold, hardtanh, relu6
def _threshold_out(input, threshold, value):
    if not input.dtype.is_floating_point:
        value = int(value)
    # x <= threshold ? value : x  (NaN stays NaN)
    return where(input <= threshold, value, input)


def threshold(input, threshold, value, inplace=False):
    if inplace:
        return threshold_(input, threshold, value)
    return _threshold_out(input, threshold, value)


def threshold_(input, threshold, value):
    return _inplace(input, lambda x: _threshold_out(x, threshold, value))


def _hardtanh_out(input, min_val, max_val):
    if not input.dtype.is_floating_point:   # integer tensors stay integer, bounds truncated like a C cast
        return input.clamp(int(min_val), int(max_val))
    # derivative 1 strictly inside (min_val, max_val), 0 at and beyond the ends (PyTorch's hardtanh_backward)
    return where(input <= min_val, min_val, where(input >= max_val, max_val, input))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return _inplace(input, lambda x: _hardtanh_out(x, min_val, max_val))
    return _hardtanh_out(input, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


# ---------------------------------------------------------------- ELU family
def _elu_out(input, alpha, scale, input_scale):
    """x > 0 ? scale * x : alpha * scale * (exp(input_scale * x) - 1); x == 0 takes the negative branch."""
    _floating_only(input, "elu_cpu")
    neg = input.clamp(max=0.0)
    if input_scale != 1.0:
        neg = neg * input_scale
    neg = neg.expm1()
    negcoef = alpha * scale
    if negcoef != 1.0:
        neg = neg * negcoef
    pos = input * scale if scale != 1.0 else input
    return where(input > 0, pos, neg)


def elu(input, alpha=1.0, inplace=False):
    if inplace:
        return elu_(input, alpha)
    return _elu_out(input, alpha, 1.0, 1.0)


def elu_(input, alpha=1.0):
    _floating_only(input, "elu_cpu")
    return _inplace(input, lambda x: _elu_out(x, alpha, 1.0, 1.0))


def selu(input, inplace=False):
    if inplace:
        return selu_(input)
    return _elu_out(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input):
    _floating_only(input, "elu_cpu")
    return _inplace(input, lambda x: _elu_out(x, _SELU_ALPHA, _SELU_SCALE, 1.0))


def _celu_check(alpha):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")


def _celu_out(input, alpha, inplace=False):
    value = _elu_out(input, alpha, 1.0, 1.0 / alpha)
    # PyTorch's celu backward takes input_scale = 1.0 / alpha.toFloat() (alpha rounded to float) while the
    # forward uses the double 1 / alpha; the float64 gradient follows that backward: exp(x * b_scale) * alpha *
    # b_scale out of place, (result + alpha) * b_scale for celu_ (whose backward reads the result)
    b_scale = 1.0 / float(struct.unpack("f", struct.pack("f", alpha))[0])
    if b_scale == 1.0 / alpha or input.dtype.itemsize != 8 or not value.requires_grad:
        return value
    if inplace:
        r = b_scale * alpha
        surrogate = where(input > 0, input, _elu_out(input.clamp(max=0.0), alpha, 1.0, 1.0 / alpha) * r)
    else:
        surrogate = _elu_out(input, alpha, 1.0, b_scale)
    return _with_grad(value, surrogate)


def celu(input, alpha=1.0, inplace=False):
    if inplace:
        return celu_(input, alpha)
    _celu_check(alpha)
    return _celu_out(input, alpha)


def celu_(input, alpha=1.0):
    _celu_check(alpha)
    _floating_only(input, "elu_cpu")
    return _inplace(input, lambda x: _celu_out(x, alpha, True))


# ---------------------------------------------------------------- PReLU, RReLU
def prelu(input, weight):
    """max(0, x) + weight * min(0, x), weight a scalar or one value per channel (dim 1)."""
    if input.dtype != weight.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {SCALAR_TYPE_NAMES[input.dtype]} and "
                           f"{SCALAR_TYPE_NAMES[weight.dtype]}")
    nd = input.dim()
    if weight.numel() != 1:
        if nd == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if nd > 1 else 1
        if channels != weight.numel():
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{weight.numel()} and channel size = {channels}.")
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    _floating_only(input, "prelu_cpu")
    w = weight
    if nd != weight.dim():
        shape = [1] * nd
        if nd > 1:
            shape[1] = weight.numel()
        w = weight.reshape(shape)
    return where(input > 0, input, w * input)


def _rrelu_check(lower, upper):
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")


def _rrelu_out(input, lower, upper, training):
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    _floating_only(input, "rrelu_with_noise_out_cpu")
    # x <= 0 gets a slope drawn from U(lower, upper), one per element
    with no_grad():
        slope = rand(tuple(input.shape), dtype=input.dtype, device=input.device) * (upper - lower) + lower
    return where(input > 0, input, input * slope)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    if inplace:
        return rrelu_(input, lower, upper, training)
    _rrelu_check(lower, upper)
    return _rrelu_out(input, lower, upper, training)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    _rrelu_check(lower, upper)
    if not training:
        _floating_only(input, "leaky_relu_cpu")
    return _inplace(input, lambda x: _rrelu_out(x, lower, upper, training))


# ---------------------------------------------------------------- GLU
def glu(input, dim=-1):
    """a * sigmoid(b), with a and b the two halves of input along dim."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    nd = input.dim()
    if not -nd <= dim < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dim})")
    d = dim + nd if dim < 0 else dim
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    _floating_only(input, "glu_cpu")
    h = n // 2
    return input.narrow(d, 0, h) * input.narrow(d, h, h).sigmoid()


# ---------------------------------------------------------------- softplus, logsigmoid, mish
def _log1p_exp(x):
    """log(1 + exp(x)) for any x, with derivative sigmoid(x) (1/2 at x == 0)."""
    pos = x.clamp(min=0.0)
    neg = x.clamp(max=0.0)
    return where(x > 0, pos + (-pos).exp().log1p(), neg.exp().log1p())


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold."""
    _floating_only(input, "softplus_cpu")
    bx = input * beta if beta != 1.0 else input
    soft = bx.clamp(max=threshold).exp().log1p()
    if beta != 1.0:
        soft = soft / beta
    return where(bx > threshold, input, soft)


def logsigmoid(input):
    """log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|)), stable for any x."""
    _floating_only(input, "log_sigmoid_cpu")
    neg = input.clamp(max=0.0)
    pos = input.clamp(min=0.0)
    return where(input < 0, neg - neg.exp().log1p(), -(-pos).exp().log1p())


def _mish_out(input):
    return input * _log1p_exp(input).tanh()


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    _floating_only(input, "mish_cpu")
    if inplace:
        return _inplace(input, _mish_out)
    return _mish_out(input)


# ---------------------------------------------------------------- hard sigmoid / swish
def _hardsigmoid_out(input):
    _floating_only(input, "hardsigmoid_cpu")
    value = (input + 3.0).clamp(0.0, 6.0) / 6.0
    # derivative 1/6 strictly inside (-3, 3), 0 elsewhere
    surrogate = where((input > -3.0) & (input < 3.0), input * _ONE_SIXTH_F32, 0.0)
    return _with_grad(value, surrogate)


def hardsigmoid(input, inplace=False):
    if inplace:
        _floating_only(input, "hardsigmoid_cpu")
        return _inplace(input, _hardsigmoid_out)
    return _hardsigmoid_out(input)


def _hardswish_out(input):
    _floating_only(input, "hardswish_cpu")
    return where(input <= -3.0, 0.0, where(input < 3.0, input * (input + 3.0) / 6.0, input))


def hardswish(input, inplace=False):
    if inplace:
        _floating_only(input, "hardswish_cpu")
        return _inplace(input, _hardswish_out)
    return _hardswish_out(input)


# ---------------------------------------------------------------- shrinks, softsign
def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    _floating_only(input, "hardshrink_cpu")
    return where((input >= -lambd) & (input <= lambd), 0.0, input)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    _floating_only(input, "softshrink_check")
    big = 3.4028234663852886e38 if input.dtype.itemsize == 4 else 1.7976931348623157e308
    if not 0 <= lambd <= big:
        raise RuntimeError(f"lambda must be in range [0, {_fmt(big)}] for input dtype "
                           f"{SCALAR_TYPE_NAMES[input.dtype]}, but found {_fmt(lambd)}")
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, input * 0))


def tanhshrink(input):
    return input - input.tanh()


def softsign(input):
    return input / (input.abs() + 1)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmin", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return (-input).softmax(dim)


# ---------------------------------------------------------------- channel-wise and alpha dropout
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


_ALPHA = 1.7580993408473766  # SELU's alpha * scale: the value a dropped unit saturates to (negated)


def _dropout_impl(input, p, train, inplace, feature, alpha):
    """ATen's _dropout_impl: Bernoulli(1 - p) noise, per element or per (sample, channel) when feature; alpha
    dropout keeps SELU's mean and variance: out = a * (x * noise + alpha' * (noise - 1)) + alpha' * a * p."""
    _check_p(p)
    if p == 0 or not train or input.numel() == 0:
        return input
    if p == 1:
        if not input.dtype.is_floating_point:
            return input.zero_() if inplace else zeros_like(input)
        return input.mul_(0.0) if inplace else input * 0.0
    if feature:
        if input.dim() < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    else:
        shape = tuple(input.shape)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{SCALAR_TYPE_NAMES[input.dtype]}")
    with no_grad():
        keep = (rand(shape, device=input.device) >= p).to(input.dtype)
        if alpha:
            a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
            b = (keep - 1) * (_ALPHA * a) + _ALPHA * a * p
            noise = keep * a
        else:
            noise = keep / (1 - p)
    if inplace:
        input.mul_(noise)
        return input.add_(b) if alpha else input
    out = input * noise
    return out + b if alpha else out


def _feature_dropout_nd(name, input, p, training, inplace, batched_dim):
    """dropout1d / dropout3d: an unbatched input gets a batch dim of 1 for the mask."""
    is_batched = input.dim() == batched_dim
    if not is_batched:
        input = input.unsqueeze(0)
    result = _dropout_impl(input, p, training, inplace, True, False)
    if not is_batched:
        result = result.squeeze(0)
    return result


def dropout1d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    nd = input.dim()
    if nd not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that dropout1d "
                           "exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel "
                           "dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout_nd("dropout1d", input, p, training, inplace, 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    nd = input.dim()
    if nd not in (3, 4):
        warnings.warn(f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will result in an "
                      "error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
                      "inputs).", stacklevel=2)
    if nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", stacklevel=2)
    return _dropout_impl(input, p, training, inplace, True, False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    nd = input.dim()
    if nd not in (4, 5):
        warnings.warn(f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will result in an "
                      "error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D "
                      "inputs).", stacklevel=2)
    return _feature_dropout_nd("dropout3d", input, p, training, inplace, 5)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout_impl(input, p, training, inplace, False, True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout_impl(input, p, training, inplace, True, True)

"""nn.functional for the other activations (ELU family, hard* family, shrinks, softplus, mish, GLU, PReLU,
RReLU, threshold, ...) and the channel-wise / alpha dropouts.

The pointwise activations are declared elementwise ops (csrc/ops/elementwise_ops.h, MT_ACTIVATION_OPS): one
kernel each, torch's node, formulas, kinks (which side of x == 0 or x == threshold a point belongs to) and
in-place nodes. The rest (prelu, rrelu, glu, ...) are composed from core ops, whose derivatives they inherit.
"""
import math
import struct
import warnings

from .. import _C
from .._C import where
from .._creation import rand, zeros_like
from .._types import SCALAR_TYPE_NAMES, bool_ as _bool, uint8 as _uint8
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


def _inplace(input, out_fn):
    """input.copy_(out_fn(input)): the in-place form of a composite (rrelu). When autograd records the op, the
    composite reads a clone of input, so the values its backward saved are not the ones copy_ overwrites."""
    src = input.clone() if (input.requires_grad and _C.is_grad_enabled()) else input
    return input.copy_(out_fn(src))


def _fmt(v):
    """A number as C++'s ostream prints a double (6 significant digits)."""
    return f"{v:g}"


# Each activation below is one declared elementwise op (csrc/ops/elementwise_ops.h, MT_ACTIVATION_OPS): one
# kernel, torch's node, its kinks and NaN handling; the Python side keeps torch's argument checks and messages.

_INT_RANGE = {1: (-2 ** 7, 2 ** 7), 2: (-2 ** 15, 2 ** 15), 4: (-2 ** 31, 2 ** 31), 8: (-2 ** 63, 2 ** 63)}
_C_INT_NAMES = {1: "int8_t", 2: "int16_t", 4: "int32_t", 8: "int64_t"}


def _int_param(v, dtype):
    """A parameter as an integer kernel takes it (truncated; torch's Scalar.to<int>() overflow error)."""
    if dtype == _uint8:
        lo, hi, cname = -256, 256, "uint8_t"
    else:
        lo, hi = _INT_RANGE[dtype.itemsize]
        cname = _C_INT_NAMES[dtype.itemsize]
    if v != v or not lo <= v < hi:
        raise RuntimeError(f"value cannot be converted to type {cname} without overflow")
    return int(v)


# ---------------------------------------------------------------- threshold, hardtanh, relu6
def _threshold_check(input, threshold, value):
    if input.dtype == _bool:
        raise NotImplementedError("\"threshold_cpu\" not implemented for 'Bool'")
    if not input.dtype.is_floating_point:
        return _int_param(threshold, input.dtype), _int_param(value, input.dtype)
    return threshold, value


def _threshold(input, th, value, inplace):
    """x <= threshold ? value : x (NaN stays NaN)."""
    th, value = _threshold_check(input, th, value)
    return input._threshold_(th, value) if inplace else input._threshold(th, value)


def threshold(input, threshold, value, inplace=False):
    return _threshold(input, threshold, value, inplace)


def threshold_(input, threshold, value):
    return _threshold(input, threshold, value, True)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if not input.dtype.is_floating_point and input.dtype != _bool:  # integer tensors: the bounds truncated, as torch
        if input.dtype == _uint8 and (min_val < 0 or max_val < 0):
            raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
        min_val, max_val = _int_param(min_val, input.dtype), _int_param(max_val, input.dtype)
    # derivative 1 strictly inside (min_val, max_val), 0 at and beyond the ends (torch's hardtanh_backward)
    return input._hardtanh_(min_val, max_val) if inplace else input._hardtanh(min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


# ---------------------------------------------------------------- ELU family
# x > 0 ? scale * x : alpha * scale * (exp(input_scale * x) - 1); x == 0 takes the negative branch. The op's
# fourth parameter is the input_scale its backward uses (celu's 1 / float(alpha), below).
def elu(input, alpha=1.0, inplace=False):
    if inplace:
        return elu_(input, alpha)
    _floating_only(input, "elu_cpu")
    return input._elu(alpha, 1.0, 1.0, 1.0)


def elu_(input, alpha=1.0):
    _floating_only(input, "elu_cpu")
    return input._elu_(alpha, 1.0, 1.0, 1.0)


def selu(input, inplace=False):
    if inplace:
        return selu_(input)
    _floating_only(input, "elu_cpu")
    return input._elu(_SELU_ALPHA, _SELU_SCALE, 1.0, 1.0)


def selu_(input):
    _floating_only(input, "elu_cpu")
    return input._elu_(_SELU_ALPHA, _SELU_SCALE, 1.0, 1.0)


def _celu_params(input, alpha):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    _floating_only(input, "elu_cpu")
    # torch's forward takes input_scale = 1 / alpha, its backward 1.0 / alpha.toFloat() (alpha rounded to float)
    return alpha, 1.0, 1.0 / alpha, 1.0 / struct.unpack("f", struct.pack("f", alpha))[0]


def celu(input, alpha=1.0, inplace=False):
    if inplace:
        return celu_(input, alpha)
    return input._celu(*_celu_params(input, alpha))


def celu_(input, alpha=1.0):
    return input._celu_(*_celu_params(input, alpha))


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
def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold."""
    _floating_only(input, "softplus_cpu")
    return input._softplus(beta, threshold)


def logsigmoid(input):
    """log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|)), stable for any x."""
    _floating_only(input, "log_sigmoid_cpu")
    return input._log_sigmoid()


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    _floating_only(input, "mish_cpu")
    return input._mish_() if inplace else input._mish()


# ---------------------------------------------------------------- hard sigmoid / swish
def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6; derivative 1/6 (torch's float 1.0f / 6) strictly inside (-3, 3)."""
    _floating_only(input, "hardsigmoid_cpu")
    return input._hardsigmoid_() if inplace else input._hardsigmoid()


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6; derivative x / 3 + 1/2 on [-3, 3] (torch's kinks), 0 below, 1 above."""
    _floating_only(input, "hardswish_cpu")
    return input._hardswish_() if inplace else input._hardswish()


# ---------------------------------------------------------------- shrinks, softsign
def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    _floating_only(input, "hardshrink_cpu")
    return input._hardshrink(lambd)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    _floating_only(input, "softshrink_check")
    big = 3.4028234663852886e38 if input.dtype.itemsize == 4 else 1.7976931348623157e308
    if not 0 <= lambd <= big:
        raise RuntimeError(f"lambda must be in range [0, {_fmt(big)}] for input dtype "
                           f"{SCALAR_TYPE_NAMES[input.dtype]}, but found {_fmt(lambd)}")
    return input._softshrink(lambd)


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

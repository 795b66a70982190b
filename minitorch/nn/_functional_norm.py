"""nn.functional for normalization and resampling: batch_norm, instance_norm, group_norm, layer-free rms_norm,
local_response_norm, normalize, interpolate/upsample, pixel_shuffle/pixel_unshuffle.

Everything is composed from core ops (mean, var, index_select, matmul, elementwise), so autograd comes for free.
Statistics are computed in one pass over the reduced dims; running-stat buffers are updated in place under
no_grad, like PyTorch's kernels. The resampling index/weight tables are computed with NumPy in the input's
opmath type (float32 for float32, float64 for float64), following ATen's UpSample.h formulas exactly.
"""
import math
import numbers
import warnings

import numpy as np

from .. import _C
from .._C import cat, where
from .._creation import tensor, zeros
from .._types import SCALAR_TYPE_NAMES, float32, float64, int64
from ..autograd.grad_mode import no_grad
from ._functional_conv import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

__all__ = [
    "batch_norm", "instance_norm", "group_norm", "local_response_norm", "rms_norm", "normalize",
    "interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle",
]

_FINFO_EPS = {float32: float(np.finfo(np.float32).eps), float64: float(np.finfo(np.float64).eps)}


def _not_implemented_for(input, kernel):
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{SCALAR_TYPE_NAMES[input.dtype]}\'')


def _bshape(c, nd):
    """The shape that broadcasts a per-channel vector of length c against an (N, C, *) input of nd dims."""
    return (1, c) + (1,) * (nd - 2)


# ---------------------------------------------------------------------------------------------- batch norm
def _verify_batch_size(size):
    size_prods = size[0]
    for i in range(len(size) - 2):
        size_prods *= size[i + 2]
    if size_prods == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def _verify_spatial_size(size):
    size_prods = 1
    for i in range(2, len(size)):
        size_prods *= size[i]
    if size_prods == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {size}")


def _check_numel(t, name, expected, have_factor=1):
    if t is not None and t.numel() * have_factor != expected:
        raise RuntimeError(f"{name} should contain {expected} elements not {t.numel() * have_factor}")


def _check_same_dtype(input, *others):
    if any(t is not None and t.dtype != input.dtype for t in others):
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def _update_running(buf, new_stat, momentum):
    """buf = (1 - momentum) * buf + momentum * new_stat, in place and outside autograd."""
    with no_grad():
        stat = new_stat.detach()
        buf.copy_(buf * (1.0 - momentum) + stat * momentum)


def _batch_norm_fused(input, weight, bias, running_mean, running_var, training, momentum, eps, stat_groups):
    """The C kernel (ops/norm.c): statistics, normalisation and its backward in a few passes; the running buffers
    move here from the batch statistics it returns."""
    g = stat_groups

    def per_instance(t):
        return None if t is None else (t.reshape(-1).repeat(g) if g > 1 else t.reshape(-1))
    rm, rv = (None, None) if training else (per_instance(running_mean), per_instance(running_var))
    out, mean, var = _C._batch_norm(input, per_instance(weight), per_instance(bias), rm, rv, bool(training),
                                    float(eps))
    if training and running_mean is not None:
        n = input.numel() // input.size(1)
        c = input.size(1)
        _update_running(running_mean, mean.reshape(g, c // g).mean(0), momentum)
        _update_running(running_var, (var * (n / (n - 1) if n > 1 else float("nan"))).reshape(g, c // g).mean(0),
                        momentum)
    return out


def _batch_norm_impl(input, weight, bias, running_mean, running_var, training, momentum, eps, stat_groups=1,
                     kernel="batch_norm"):
    """Normalises over every dim but 1. stat_groups > 1 (instance norm): the running buffers hold C values while
    the batch statistics hold stat_groups * C (one per instance); the update averages over the instances."""
    nd = input.dim()
    c = input.size(1)
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    _not_implemented_for(input, kernel)
    _check_numel(running_mean, "running_mean", c, stat_groups)
    _check_numel(running_var, "running_var", c, stat_groups)
    _check_numel(weight, "weight", c, stat_groups)
    _check_numel(bias, "bias", c, stat_groups)
    _check_same_dtype(input, weight, bias, running_mean, running_var)
    if not training and running_mean is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    shape = _bshape(c, nd)
    if input.numel() == 0:  # PyTorch: a clone (keeping the graph), scaled by weight[0] and shifted by bias[0]
        out = input.clone()
        if weight is not None and weight.numel():
            out = out * weight.reshape(-1)[0]
        if bias is not None and bias.numel():
            out = out + bias.reshape(-1)[0]
        return out
    if input.device.type == "cpu" and not any(t is not None and t.requires_grad for t in (running_mean, running_var)):
        return _batch_norm_fused(input, weight, bias, running_mean, running_var, training, momentum, eps,
                                 stat_groups)
    if training:
        dims = (0,) + tuple(range(2, nd))
        mean = input.mean(dims, keepdim=True)
        var = input.var(dims, correction=0, keepdim=True)
        if running_mean is not None:
            n = input.numel() // c
            g = stat_groups
            _update_running(running_mean, mean.reshape(g, c // g).mean(0), momentum)
            _update_running(running_var, (var * (n / (n - 1) if n > 1 else float("nan"))).reshape(g, c // g).mean(0),
                            momentum)
    else:
        mean = running_mean.reshape(-1)
        var = running_var.reshape(-1)
        if stat_groups > 1:
            mean, var = mean.repeat(stat_groups), var.repeat(stat_groups)
        mean, var = mean.reshape(shape), var.reshape(shape)
    out = (input - mean) * (var + eps).rsqrt()
    if weight is not None:
        w = weight.reshape(-1)
        out = out * (w.repeat(stat_groups) if stat_groups > 1 else w).reshape(shape)
    if bias is not None:
        b = bias.reshape(-1)
        out = out + (b.repeat(stat_groups) if stat_groups > 1 else b).reshape(shape)
    return out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over every dim but the channel dim 1. In training the batch statistics (biased
    variance) normalise and the running buffers, when given, move towards the batch mean and the UNBIASED
    batch variance by momentum; in evaluation the running buffers normalise."""
    if training:
        _verify_batch_size(input.size())
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if input.dtype.is_floating_point and input.dtype.itemsize == 2 and all(
            t is None or t.dtype is float32 for t in (running_mean, running_var, weight, bias)):
        # a 16-bit input with float32 parameters and buffers (autocast's case): computed in float32, the running
        # buffers updated in place, the output rounded once, as torch's mixed-dtype CPU batch norm
        return _batch_norm_impl(input.float(), weight, bias, running_mean, running_var, training, momentum,
                                eps).to(input.dtype)
    return _batch_norm_impl(input, weight, bias, running_mean, running_var, training, momentum, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalises each (sample, channel) over its spatial dims. Like PyTorch, this is batch norm on the input
    viewed as (1, N*C, *), the running buffers (C values) taking the mean of the N per-instance updates."""
    if use_input_stats:
        _verify_spatial_size(input.size())
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    b = input.size(0)
    shape = tuple(input.shape)
    x = input.reshape((1, b * shape[1]) + shape[2:])
    out = _batch_norm_impl(x, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                           stat_groups=b)
    return out.reshape(shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalises each sample over groups of num_groups consecutive channels (and all spatial dims)."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    _verify_batch_size([input.size(0) * input.size(1) // num_groups, num_groups] + list(input.size()[2:]))
    shape = tuple(input.shape)
    n, c = shape[0], shape[1]
    if c % num_groups != 0:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {list(t.shape)} and input of shape {list(shape)}")
    _not_implemented_for(input, "group_norm")
    _check_same_dtype(input, weight, bias)
    if input.numel() == 0:
        out = input.clone()
    else:
        x = input.reshape(n, num_groups, input.numel() // (n * num_groups))
        mean = x.mean(2, keepdim=True)
        var = x.var(2, correction=0, keepdim=True)
        out = ((x - mean) * (var + eps).rsqrt()).reshape(shape)
    bs = _bshape(c, len(shape))
    if weight is not None:
        out = out * weight.reshape(bs)
    if bias is not None:
        out = out + bias.reshape(bs)
    return out


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over a window of `size` channels, zero padded) ** beta."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    sq = input.mul(input)
    shape = list(sq.shape)
    c = shape[1]
    lo, hi = size // 2, (size - 1) // 2
    parts = []
    if lo:
        shape[1] = lo
        parts.append(zeros(tuple(shape), dtype=sq.dtype, device=sq.device))
    parts.append(sq)
    if hi:
        shape[1] = hi
        parts.append(zeros(tuple(shape), dtype=sq.dtype, device=sq.device))
    padded = cat(parts, 1) if len(parts) > 1 else sq
    acc = padded.narrow(1, 0, c)
    for j in range(1, size):  # the window sum, in the order avg_pool sums it
        acc = acc + padded.narrow(1, j, c)
    div = (acc / size).mul(alpha).add(k).pow(beta)
    return input / div


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x * rsqrt(mean(x^2 over the trailing normalized_shape dims) + eps) * weight; eps defaults to
    the machine epsilon of input's dtype."""
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    k = len(normalized_shape)
    if input.dim() < k:
        raise ValueError(f"Input tensor must have at least {k} dimensions, but got {input.dim()}")
    if tuple(input.shape[input.dim() - k:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*{', '.join(str(s) for s in normalized_shape)}], but got input of size"
                           f"{list(input.shape)}")
    if weight is not None and tuple(weight.shape) != normalized_shape:
        raise RuntimeError("Expected weight to be of same shape as normalized_shape, but got weight of shape "
                           f"{list(weight.shape)} and normalized_shape = {list(normalized_shape)}")
    _not_implemented_for(input, "rms_norm")
    if eps is None:
        eps = _FINFO_EPS.get(input.dtype, _FINFO_EPS[float32])
    dims = tuple(range(-k, 0))
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    if weight is not None:
        out = out * weight
    return out


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p over dim, eps)."""
    denom = input.norm(p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    if out is None:
        return input / denom
    return out.copy_(input / denom)


# ---------------------------------------------------------------------------------------------- pixel shuffle
def _int_arg(fn, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}(): argument '{name}' (position 2) must be int, not {type(value).__name__}")
    return int(value)


def pixel_shuffle(input, upscale_factor):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    r = _int_arg("pixel_shuffle", "upscale_factor", upscale_factor)
    if input.dim() < 3:
        raise RuntimeError("pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    shape = tuple(input.shape)
    c, h, w = shape[-3:]
    if c % (r * r) != 0:
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    batch = shape[:-3]
    nb = len(batch)
    oc = c // (r * r)
    x = input.reshape(batch + (oc, r, r, h, w))
    x = x.permute(*range(nb), nb, nb + 3, nb + 1, nb + 4, nb + 2)
    return x.reshape(batch + (oc, h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    r = _int_arg("pixel_unshuffle", "downscale_factor", downscale_factor)
    if input.dim() < 3:
        raise RuntimeError("pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    shape = tuple(input.shape)
    c, h, w = shape[-3:]
    if h % r != 0:
        raise RuntimeError("pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)="
                           f"{h} is not divisible by {r}")
    if w % r != 0:
        raise RuntimeError("pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)="
                           f"{w} is not divisible by {r}")
    batch = shape[:-3]
    nb = len(batch)
    oh, ow = h // r, w // r
    x = input.reshape(batch + (c, oh, r, ow, r))
    x = x.permute(*range(nb), nb, nb + 2, nb + 4, nb + 1, nb + 3)
    return x.reshape(batch + (c * r * r, oh, ow))


# ---------------------------------------------------------------------------------------------- interpolation
def _opmath(dtype):
    return np.float64 if dtype == float64 else np.float32


def _compute_scales_value(scale, in_size, out_size, ft):
    if scale is not None and scale > 0:
        return ft(1.0 / scale)
    return ft(in_size) / ft(out_size)


def _area_pixel_compute_scale(in_size, out_size, align_corners, scale, ft):
    if align_corners:
        return ft(in_size - 1) / ft(out_size - 1) if out_size > 1 else ft(0)
    return _compute_scales_value(scale, in_size, out_size, ft)


def _area_pixel_compute_source_index(scale, dst, align_corners, cubic, ft):
    """dst: an array of output indices in the opmath type ft."""
    if align_corners:
        return scale * dst
    src = scale * (dst + ft(0.5)) - ft(0.5)
    return src if cubic else np.where(src < 0, ft(0), src).astype(ft)


def _nearest_indices(in_size, out_size, scale, exact, shortcuts):
    """ATen's nearest_idx and nearest_exact_idx, in float32 like ATen. nearest_idx's in==out and 2x shortcuts
    (which differ from the formula when a scale_factor is given) are taken by PyTorch's CPU kernel for 2 spatial
    dims only; for 1 and 3 it always applies the formula."""
    out_idx = np.arange(out_size, dtype=np.int64)
    if not exact and shortcuts:
        if out_size == in_size:
            return out_idx
        if out_size == 2 * in_size:
            return out_idx >> 1
    s = _compute_scales_value(scale, in_size, out_size, np.float32)
    if exact:
        src = np.floor(((out_idx + 0.5) * np.float64(s)).astype(np.float32))  # (int + 0.5) * float -> double
    else:
        src = np.floor(out_idx.astype(np.float32) * s)
    return np.minimum(src.astype(np.int64), in_size - 1)


def _linear_table(in_size, out_size, align_corners, scale, ft):
    """compute_source_index_and_lambda: (i0, i1, lambda0, lambda1) per output index."""
    if out_size == in_size:
        i = np.arange(out_size, dtype=np.int64)
        return i, i, np.ones(out_size, ft), np.zeros(out_size, ft)
    ratio = _area_pixel_compute_scale(in_size, out_size, align_corners, scale, ft)
    real = _area_pixel_compute_source_index(ratio, np.arange(out_size).astype(ft), align_corners, False, ft)
    i0 = np.minimum(np.floor(real.astype(np.float32)).astype(np.int64), in_size - 1)  # floorf
    lam1 = np.clip(real - i0.astype(ft), ft(0), ft(1)).astype(ft)
    i1 = i0 + (i0 < in_size - 1)
    lam0 = (ft(1) - lam1).astype(ft)
    return i0, i1, lam0, lam1


def _cubic_table(in_size, out_size, align_corners, scale, ft):
    """Four clamped source indices and the cubic-convolution weights (A = -0.75) per output index."""
    A = ft(-0.75)

    def conv1(x):
        return ((A + ft(2)) * x - (A + ft(3))) * x * x + ft(1)

    def conv2(x):
        return ((A * x - ft(5) * A) * x + ft(8) * A) * x - ft(4) * A

    ratio = _area_pixel_compute_scale(in_size, out_size, align_corners, scale, ft)
    real = _area_pixel_compute_source_index(ratio, np.arange(out_size).astype(ft), align_corners, True, ft)
    idx = np.minimum(np.floor(real.astype(np.float32)).astype(np.int64), in_size - 1)
    t = np.clip(real - idx.astype(ft), ft(0), ft(1)).astype(ft)
    x2 = (ft(1) - t).astype(ft)
    weights = [conv2((t + ft(1)).astype(ft)), conv1(t), conv1(x2), conv2((x2 + ft(1)).astype(ft))]
    indices = [np.clip(idx - 1 + j, 0, in_size - 1) for j in range(4)]
    return indices, [w.astype(ft) for w in weights]


def _index(arr, x):
    return tensor(np.ascontiguousarray(arr, dtype=np.int64), dtype=int64, device=x.device)


def _weight(arr, x, d):
    shape = [1] * x.dim()
    shape[d] = len(arr)
    return tensor(np.ascontiguousarray(arr), dtype=x.dtype, device=x.device).reshape(shape)


def _resample_dim(x, d, out_size, mode, align_corners, scale, nearest_shortcuts=False):
    in_size = x.shape[d]
    ft = _opmath(x.dtype)
    if mode in ("nearest", "nearest-exact"):
        idx = _nearest_indices(in_size, out_size, scale, mode == "nearest-exact", nearest_shortcuts)
        return x.index_select(d, _index(idx, x))
    if mode == "linear":
        i0, i1, l0, l1 = _linear_table(in_size, out_size, align_corners, scale, ft)
        return x.index_select(d, _index(i0, x)) * _weight(l0, x, d) + x.index_select(d, _index(i1, x)) * \
            _weight(l1, x, d)
    if mode == "cubic":
        indices, weights = _cubic_table(in_size, out_size, align_corners, scale, ft)
        out = None
        for i, w in zip(indices, weights):
            term = x.index_select(d, _index(i, x)) * _weight(w, x, d)
            out = term if out is None else out + term
        return out
    raise AssertionError(mode)


def _is_integer(x):
    """torch.nn.functional._is_integer: a Python int (bool included) or a non-floating tensor."""
    return isinstance(x, numbers.Integral) or (hasattr(x, "dtype") and not x.dtype.is_floating_point)


_MODES_MSG = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"
_DIMS_FOR_MODE = {"linear": 3, "bilinear": 4, "trilinear": 5, "bicubic": 4}
_KERNEL_NAMES = {"nearest": "compute_indices_weights_nearest", "nearest-exact": "compute_indices_weights_nearest",
                 "linear": "compute_indices_weights_linear", "bilinear": "compute_indices_weights_linear",
                 "trilinear": "compute_indices_weights_linear", "bicubic": "compute_indices_weights_cubic"}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resizes the spatial dims of an (N, C, *spatial) input (1 to 3 spatial dims) with PyTorch's index formulas."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    elif size is not None:
        scale_factors = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError("Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {list(input.shape[2:])} and output size of {size}. "
                                 "Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                                 "(o1, o2, ...,oK) format.")
            if not all(_is_integer(x) for x in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                                f"Tuple[int, int, int], but got size with types {[type(x) for x in size]}")
            output_size = list(size)
        else:
            output_size = [size for _ in range(dim)]
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError("Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(input.shape[2:])} and scale_factor of "
                                 f"shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                                 "format and scale_factor in (s1, s2, ...,sK) format.")
            scale_factors = list(scale_factor)
        else:
            scale_factors = [scale_factor for _ in range(dim)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor is not None and recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor is not None and recompute_scale_factor:
        output_size = [int(input.size(i + 2) * scale_factors[i]) for i in range(dim)]
        scale_factors = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by minitorch")

    nd = input.dim()
    if mode in ("nearest", "nearest-exact", "area") and nd in (3, 4, 5) or _DIMS_FOR_MODE.get(mode) == nd:
        pass
    elif mode == "lanczos" and nd == 4:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        raise ValueError("Lanczos mode requires antialias=True")
    else:
        for m, want in (("bilinear", 4), ("trilinear", 5), ("linear", 3)):
            if mode == m and nd in (3, 4, 5) and nd != want:
                raise NotImplementedError(f"Got {nd}D input, but {m} mode needs {want}D input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {nd}D) for the "
                                  f"modes: {_MODES_MSG} (got {mode})")

    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[dim - 1](input, output_size)

    # the C++ kernels: output size from the scale factors, then the size checks
    if output_size is None:
        output_size = [int(input.size(i + 2) * scale_factors[i]) for i in range(dim)]
    for s in output_size:
        if not _is_integer(s):
            raise TypeError(f"interpolate(): output size must be a sequence of ints, but got {output_size}")
    output_size = [int(s) for s in output_size]
    scales = scale_factors if scale_factors is not None else [None] * dim
    spatial = list(input.shape[2:])
    names = ("D", "H", "W")[3 - dim:]
    if not all(s > 0 for s in spatial) or not all(s > 0 for s in output_size):
        raise RuntimeError("Input and output sizes should be greater than 0, but got input ("
                           + ", ".join(f"{n}: {s}" for n, s in zip(names, spatial))
                           + (") and output (" if dim == 1 else ") output (")  # ATen's wording differs by rank
                           + ", ".join(f"{n}: {s}" for n, s in zip(names, output_size)) + ")")
    if input.numel() == 0 and math.prod(input.shape[1:]) == 0:
        raise RuntimeError(f"Non-empty {nd}D data tensor expected but got a tensor with sizes {list(input.shape)}")
    _not_implemented_for(input, _KERNEL_NAMES[mode])
    kind = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    out = input
    for j in range(dim - 1, -1, -1):  # innermost dim first: ATen's separable evaluation order
        out = _resample_dim(out, 2 + j, output_size[j], kind, align_corners, scales[j], nearest_shortcuts=dim == 2)
    return out if out is not input else input.clone()


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


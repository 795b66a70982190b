"""Functional convolution and pooling: F.conv*, F.conv_transpose*, F.*pool*, F.unfold/fold.

The kernels are in the C core (ops/conv.c, ops/pool.c) and take batched input with explicit per-dim
parameters; this layer expands ints to tuples, adds the batch dim of unbatched input, resolves
padding='same'/'valid', and gives PyTorch's argument errors."""
import numbers

from .. import _C
from ._narrow import in_float32
from ..amp.autocast_mode import lower_precision

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
    "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "adaptive_max_pool3d", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices", "lp_pool1d", "lp_pool2d", "lp_pool3d", "unfold", "fold", "max_unpool1d",
    "max_unpool2d", "max_unpool3d",
]

_POOL_MAX, _POOL_AVG, _POOL_ADAPTIVE_MAX, _POOL_ADAPTIVE_AVG = 0, 1, 2, 3


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _expand(name, value, n, what="convolution"):
    """value as a tuple of n ints (an int is repeated), with torch's error for a wrong length."""
    if _is_int(value):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and all(_is_int(v) for v in value):
        if len(value) == 1 and n > 1:
            return (int(value[0]),) * n
        if len(value) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match the "
                               f"{what} dimensions, but got {name}={list(value)}")
        return tuple(int(v) for v in value)
    raise TypeError(f"{name} must be an int or a tuple of ints, not {type(value).__name__}")


def _check_input(fn, input, nsp):
    if not hasattr(input, "dim"):
        raise TypeError(f"{fn}() argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input.dim() not in (nsp + 1, nsp + 2):
        raise RuntimeError(f"Expected {nsp + 1}D (unbatched) or {nsp + 2}D (batched) input to {fn}, but got input "
                           f"of size: {list(input.shape)}")


@lower_precision
@in_float32
def _conv(fn, nsp, input, weight, bias, stride, padding, dilation, groups, transposed=False, output_padding=0):
    _check_input(fn, input, nsp)
    if not hasattr(weight, "dim"):
        raise TypeError(f"{fn}() argument 'weight' (position 2) must be Tensor, not {type(weight).__name__}")
    if not _is_int(groups):
        raise TypeError(f"{fn}(): argument 'groups' must be int, not {type(groups).__name__}")
    wsp = max(weight.dim() - 2, 1)
    stride = _expand("stride", stride, wsp)
    dilation = _expand("dilation", dilation, wsp)
    unbatched = input.dim() == nsp + 1
    if unbatched:
        input = input.unsqueeze(0)
    if isinstance(padding, str):
        if transposed:
            raise TypeError(f"{fn}(): argument 'padding' must be tuple of ints, not str")
        if padding == "valid":
            padding = (0,) * wsp
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = [d * (k - 1) for d, k in zip(dilation, weight.shape[2:])]
            padding = tuple(t // 2 for t in total)
            extra = [t - 2 * (t // 2) for t in total]
            if any(extra):  # odd total padding: PyTorch pads the extra element on the right
                from ._functional_layers import pad as _pad
                amounts = []
                for e in reversed(extra):
                    amounts += [0, e]
                input = _pad(input, amounts)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = _expand("padding", padding, wsp)
    output_padding = _expand("output_padding", output_padding, wsp)
    args = (input, weight, bias, stride, padding, dilation, bool(transposed), output_padding, int(groups))
    if input.device.type == "cpu" and not _COMPOSE_ON_CPU:
        out = _C._convolution(*args)
    else:
        _C._convolution_check(*args)
        out = _conv_composed(*args)
    return out.squeeze(0) if unbatched else out


# Tensors on other devices (CUDA) have no convolution or pooling kernels of their own yet: their forms below are
# composed from unfold / fold (index_select, scatter_add) and matmul, whose device kernels exist, so autograd and the
# device come for free. Tests set _COMPOSE_ON_CPU to check these forms against torch on the CPU.
_COMPOSE_ON_CPU = False


def _conv_composed(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    nsp = weight.dim() - 2
    if nsp == 3:
        raise NotImplementedError(f"conv3d on {input.device.type} tensors is not supported yet (CPU only)")
    if nsp == 1:  # as a 2-d convolution with a unit first dim
        w2 = weight.unsqueeze(2)
        b2 = None if bias is None else bias
        out = _conv_composed(input.unsqueeze(2), w2, b2, (1,) + stride, (0,) + padding, (1,) + dilation, transposed,
                             (0,) + output_padding, groups)
        return out.squeeze(2)
    n, c, h, w = input.shape
    kh, kw = weight.shape[2:]
    k = kh * kw
    g = groups
    if not transposed:
        o = weight.shape[0]
        cols = unfold(input, (kh, kw), dilation, padding, stride)              # [n, c k, L]
        oh = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
        ow = (w + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
        out = weight.reshape(1, g, o // g, (c // g) * k).matmul(cols.view(n, g, (c // g) * k, oh * ow))
        out = out.reshape(n, o, oh, ow)
    else:
        og = weight.shape[1]
        o = og * g
        oh = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + output_padding[0] + 1
        ow = (w - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + output_padding[1] + 1
        if any(op >= s for op, s in zip(output_padding, stride)):
            raise NotImplementedError(f"conv_transpose on {input.device.type} tensors: output_padding >= stride "
                                      "is not supported yet")
        wg = weight.reshape(g, c // g, og * k).transpose(1, 2).unsqueeze(0)     # [1, g, og k, c/g]
        cols = wg.matmul(input.reshape(n, g, c // g, h * w)).reshape(n, o * k, h * w)
        out = fold(cols, (oh, ow), (kh, kw), dilation, padding, stride)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv("conv_transpose1d", 1, input, weight, bias, stride, padding, dilation, groups, True, output_padding)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv("conv_transpose2d", 2, input, weight, bias, stride, padding, dilation, groups, True, output_padding)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv("conv_transpose3d", 3, input, weight, bias, stride, padding, dilation, groups, True, output_padding)


# ---- pooling ----

def _pool_params(fn, nsp, kernel_size, stride, padding, dilation):
    kernel = _expand("kernel_size", kernel_size, nsp, "pooling")
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    return kernel, _expand("stride", stride, nsp, "pooling"), _expand("padding", padding, nsp, "pooling"), \
        _expand("dilation", dilation, nsp, "pooling")


@in_float32
def _pool_op(kind, x, nsp, kernel, stride, padding, dilation, ceil_mode, count_include_pad, divisor, output_size):
    """The C pooling kernels on CPU tensors; on other devices the C checks, then the composed form."""
    args = (kind, x, nsp, kernel, stride, padding, dilation, ceil_mode, count_include_pad, divisor, output_size)
    if x.device.type == "cpu" and not _COMPOSE_ON_CPU:
        return _C._pool(*args)
    _C._pool(*args, True)
    return _pool_composed(*args)


def _plain_out_size(n, k, p, s, d, ceil_mode):
    """PyTorch's pooling_output_shape"""
    num = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool_composed(kind, x, nsp, kernel, stride, padding, dilation, ceil_mode, count_include_pad, divisor,
                   output_size):
    import numpy as np
    from .._creation import tensor
    from ._functional_layers import pad as _pad
    if nsp == 3:
        raise NotImplementedError(f"3-d pooling on {x.device.type} tensors is not supported yet (CPU only)")
    if not x.is_floating_point():
        raise NotImplementedError(f"pooling of {x.dtype} tensors on {x.device.type} is not supported yet")
    unbatched = x.dim() == 3
    if unbatched:
        x = x.unsqueeze(0)
    n, c, h, w = x.shape
    if kind == _POOL_ADAPTIVE_MAX:
        raise NotImplementedError(f"adaptive_max_pool2d on {x.device.type} tensors is not supported yet (CPU only)")
    if kind == _POOL_ADAPTIVE_AVG:  # separable: an averaging matrix per spatial dim
        def averaging(size_in, size_out):
            a = np.zeros((size_out, size_in))
            for i in range(size_out):
                lo, hi = i * size_in // size_out, -(-(i + 1) * size_in // size_out)
                a[i, lo:hi] = 1.0 / (hi - lo)
            return tensor(a, dtype=x.dtype, device=x.device)
        out = averaging(h, output_size[0]).matmul(x.matmul(averaging(w, output_size[1]).t()))
        return out.squeeze(0) if unbatched else out
    (k0, k1), (s0, s1), (p0, p1) = kernel, stride, padding
    d0, d1 = dilation if kind == _POOL_MAX else (1, 1)
    oh, ow = _plain_out_size(h, k0, p0, s0, d0, ceil_mode), _plain_out_size(w, k1, p1, s1, d1, ceil_mode)
    eh = max(0, (oh - 1) * s0 + d0 * (k0 - 1) + 1 - (h + 2 * p0))  # ceil_mode's windows past the padding
    ew = max(0, (ow - 1) * s1 + d1 * (k1 - 1) + 1 - (w + 2 * p1))
    fill = float("-inf") if kind == _POOL_MAX else 0.0
    xp = _pad(x, (p1, p1 + ew, p0, p0 + eh), value=fill) if (p0 or p1 or eh or ew) else x
    cols = unfold(xp, (k0, k1), (d0, d1), 0, (s0, s1)).view(n, c, k0 * k1, oh * ow)
    if kind == _POOL_MAX:
        # per tap and output: the input row and column it reads, for the flat indices
        rows = (np.arange(oh) * s0 - p0)[None, :, None] + (np.arange(k0) * d0)[:, None, None, None]
        colz = (np.arange(ow) * s1 - p1)[None, None, :] + (np.arange(k1) * d1)[None, :, None, None]
        rows = np.broadcast_to(rows, (k0, k1, oh, ow)).reshape(k0 * k1, oh * ow)
        colz = np.broadcast_to(colz, (k0, k1, oh, ow)).reshape(k0 * k1, oh * ow)
        vals, arg = cols.max(2)
        table = tensor(rows * w + colz, device=x.device).view(1, 1, k0 * k1, oh * ow).expand(n, c, k0 * k1, oh * ow)
        idx = table.gather(2, arg.unsqueeze(2)).squeeze(2)
        out = (vals.view(n, c, oh, ow), idx.view(n, c, oh, ow))
        return tuple(t.squeeze(0) for t in out) if unbatched else out
    if divisor:
        div = np.full(oh * ow, float(divisor))
    else:
        starts_h, starts_w = np.arange(oh) * s0 - p0, np.arange(ow) * s1 - p1
        if count_include_pad:
            ch = np.minimum(starts_h + k0, h + p0) - starts_h
            cw = np.minimum(starts_w + k1, w + p1) - starts_w
        else:
            ch = np.minimum(starts_h + k0, h) - np.maximum(starts_h, 0)
            cw = np.minimum(starts_w + k1, w) - np.maximum(starts_w, 0)
        div = (ch[:, None] * cw[None, :]).reshape(-1).astype(np.float64)
    out = (cols.sum(2) / tensor(div, dtype=x.dtype, device=x.device)).view(n, c, oh, ow)
    return out.squeeze(0) if unbatched else out


def _pool1d(kind, input, kernel, stride, padding, dilation, ceil_mode, count_include_pad, divisor, output_size):
    """1-d pooling is the 2-d kernel on input with a unit dim before the last (as PyTorch)."""
    r = _pool_op(kind, input.unsqueeze(-2), 2, (1,) + kernel, (1,) + stride, (0,) + padding, (1,) + dilation,
                 ceil_mode, count_include_pad, divisor, (1,) + output_size)
    if isinstance(r, tuple):
        return r[0].squeeze(-2), r[1].squeeze(-2)
    return r.squeeze(-2)


def _check_pool_input(fn, input, nsp):
    if not hasattr(input, "dim"):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if nsp == 1 and input.dim() not in (2, 3):
        raise RuntimeError(f"{fn}() Expected 2D or 3D input tensor, but got {list(input.shape)}")


def _max_pool(fn, nsp, input, kernel_size, stride, padding, dilation, ceil_mode):
    _check_pool_input(fn, input, nsp)
    k, s, p, d = _pool_params(fn, nsp, kernel_size, stride, padding, dilation)
    if nsp == 1:
        return _pool1d(_POOL_MAX, input, k, s, p, d, bool(ceil_mode), True, 0, (0,))
    return _pool_op(_POOL_MAX, input, nsp, k, s, p, d, bool(ceil_mode), True, 0, (0,) * nsp)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    r = max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return r if return_indices else r[0]


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    r = max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return r if return_indices else r[0]


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    r = max_pool3d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return r if return_indices else r[0]


def _avg_pool(fn, nsp, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    _check_pool_input(fn, input, nsp)
    k, s, p, d = _pool_params(fn, nsp, kernel_size, stride, padding, 1)
    if divisor_override is not None:
        if not _is_int(divisor_override):
            raise TypeError(f"{fn}(): argument 'divisor_override' must be int, not "
                            f"{type(divisor_override).__name__}")
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
    div = 0 if divisor_override is None else int(divisor_override)
    if nsp == 1:
        return _pool1d(_POOL_AVG, input, k, s, p, d, bool(ceil_mode), bool(count_include_pad), div, (0,))
    return _pool_op(_POOL_AVG, input, nsp, k, s, p, d, bool(ceil_mode), bool(count_include_pad), div, (0,) * nsp)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _adaptive_size(fn, input, output_size, nsp):
    """output_size as nsp ints; None entries take the input's size (as torch)."""
    if output_size is None or _is_int(output_size):
        output_size = (output_size,) * nsp
    if not isinstance(output_size, (tuple, list)) or len(output_size) != nsp:
        raise ValueError(f"{fn}: output_size must be an int or a tuple of {nsp} ints, got {output_size!r}")
    out = []
    for i, v in enumerate(output_size):
        if v is None:
            v = input.shape[input.dim() - nsp + i]
        if not _is_int(v):
            raise TypeError(f"{fn}(): argument 'output_size' must be tuple of ints, not {type(v).__name__}")
        out.append(int(v))
    return tuple(out)


def _adaptive(fn, kind, nsp, input, output_size):
    _check_pool_input(fn, input, nsp)
    size = _adaptive_size(fn, input, output_size, nsp)
    ones = (1,) * nsp
    if nsp == 1:
        return _pool1d(kind, input, ones, ones, (0,), ones, False, True, 0, size)
    return _pool_op(kind, input, nsp, ones, ones, (0,) * nsp, ones, False, True, 0, size)


def adaptive_avg_pool1d(input, output_size):
    return _adaptive("adaptive_avg_pool1d", _POOL_ADAPTIVE_AVG, 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    size = _adaptive_size("adaptive_avg_pool2d", input, output_size, 2) if hasattr(input, "dim") else None
    if size == (1, 1) and input.dim() in (3, 4) and input.is_floating_point() and input.numel() > 0:
        return input.mean((-2, -1), keepdim=True)  # torch's shortcut (its grad_fn is MeanBackward1)
    return _adaptive("adaptive_avg_pool2d", _POOL_ADAPTIVE_AVG, 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    return _adaptive("adaptive_avg_pool3d", _POOL_ADAPTIVE_AVG, 3, input, output_size)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return _adaptive("adaptive_max_pool1d", _POOL_ADAPTIVE_MAX, 1, input, output_size)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return _adaptive("adaptive_max_pool2d", _POOL_ADAPTIVE_MAX, 2, input, output_size)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return _adaptive("adaptive_max_pool3d", _POOL_ADAPTIVE_MAX, 3, input, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    r = adaptive_max_pool1d_with_indices(input, output_size)
    return r if return_indices else r[0]


def adaptive_max_pool2d(input, output_size, return_indices=False):
    r = adaptive_max_pool2d_with_indices(input, output_size)
    return r if return_indices else r[0]


def adaptive_max_pool3d(input, output_size, return_indices=False):
    r = adaptive_max_pool3d_with_indices(input, output_size)
    return r if return_indices else r[0]


def _lp_pool(nsp, input, norm_type, kernel_size, stride, ceil_mode):
    """PyTorch's formula: (sum over the window of x^p)^(1/p), via the average pool."""
    k = _expand("kernel_size", kernel_size, nsp, "pooling")
    pool = (avg_pool1d, avg_pool2d, avg_pool3d)[nsp - 1]
    out = pool(input.pow(norm_type), k, stride, 0, ceil_mode)
    n = 1
    for v in k:
        n *= v
    return (out.sign() * out.abs().relu()).mul(n).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


def _max_unpool(fn, nsp, input, indices, kernel_size, stride, padding, output_size):
    """Scatters input into zeros of the unpooled size at the per-plane flat indices of max_pool."""
    from .._creation import zeros
    k = _expand("kernel_size", kernel_size, nsp, "pooling")
    s = k if stride is None else _expand("stride", stride, nsp, "pooling")
    p = _expand("padding", padding, nsp, "pooling")
    if input.dim() not in (nsp + 1, nsp + 2):
        raise RuntimeError(f"{fn}(): Expected input to have {nsp + 1} or {nsp + 2} dims, got {input.dim()}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    sp = list(input.shape[-nsp:])
    default = [(sp[i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(nsp)]
    if output_size is None:
        out = default
    else:
        out = list(output_size)[-nsp:]
        if len(out) != nsp:
            raise ValueError(f"output_size should be a sequence containing {nsp} or {nsp + 2} elements, but it has "
                             f"a length of '{len(list(output_size))}'")
        for i in range(nsp):
            lo, hi = default[i] - s[i], default[i] + s[i]
            if not lo < out[i] < hi:
                raise ValueError(f'invalid output_size "{out}" (dim {i} must be between {lo} and {hi})')
    lead = list(input.shape[:-nsp])
    plane = 1
    for v in out:
        plane *= v
    flat_idx = indices.reshape(*lead, -1)
    if flat_idx.numel() and (int(flat_idx.min()) < 0 or int(flat_idx.max()) >= plane):
        bad = int(flat_idx.max()) if int(flat_idx.max()) >= plane else int(flat_idx.min())
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{'x'.join(str(v) for v in out)}")
    res = zeros(*lead, plane, dtype=input.dtype, device=input.device)
    res = res.scatter(len(lead), flat_idx, input.reshape(*lead, -1))
    return res.reshape(*lead, *out)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)


# ---- unfold / fold (im2col as a tensor op) ----

def _unfold_index(shape_hw, kernel, dilation, padding, stride):
    """For each (kernel tap, output position) the flat index into the padded image, and the output size."""
    import numpy as np
    (H, W), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = shape_hw, kernel, dilation, padding, stride
    Hp, Wp = H + 2 * ph, W + 2 * pw
    oh = (Hp - dh * (kh - 1) - 1) // sh + 1
    ow = (Wp - dw * (kw - 1) - 1) // sw + 1
    if oh <= 0 or ow <= 0:
        raise RuntimeError(f"Given input with spatial size ({H}, {W}), kernel_size=({kh}, {kw}), dilation=({dh}, "
                           f"{dw}), padding=({ph}, {pw}), calculated shape of the array of sliding blocks as "
                           f"({oh}, {ow}), but its components must be at least one.")
    ki, kj = np.meshgrid(np.arange(kh) * dh, np.arange(kw) * dw, indexing="ij")
    oi, oj = np.meshgrid(np.arange(oh) * sh, np.arange(ow) * sw, indexing="ij")
    rows = ki.reshape(-1, 1) + oi.reshape(1, -1)
    cols = kj.reshape(-1, 1) + oj.reshape(1, -1)
    return (rows * Wp + cols).reshape(-1), (Hp, Wp), oh * ow


def _fold_args(fn, kernel_size, dilation, padding, stride):
    return tuple(_expand(n, v, 2, fn) for n, v in
                 (("kernel_size", kernel_size), ("dilation", dilation), ("padding", padding), ("stride", stride)))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """[N, C, H, W] -> [N, C * kh * kw, L]: each column one sliding block (exact gather, no arithmetic)."""
    from .._creation import tensor
    from ._functional_layers import pad as _pad
    k, d, p, s = _fold_args("unfold", kernel_size, dilation, padding, stride)
    if input.dim() not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.dim()}D)")
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    idx, (Hp, Wp), L = _unfold_index(tuple(x.shape[2:]), k, d, p, s)
    xp = _pad(x, (p[1], p[1], p[0], p[0])) if any(p) else x
    N, C = x.shape[0], x.shape[1]
    cols = xp.reshape(N, C, Hp * Wp).index_select(2, tensor(idx, device=x.device))
    out = cols.reshape(N, C * k[0] * k[1], L)
    return out.squeeze(0) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of unfold: [N, C * kh * kw, L] -> [N, C, H, W], overlapping blocks summed."""
    from .._creation import tensor, zeros
    k, d, p, s = _fold_args("fold", kernel_size, dilation, padding, stride)
    out_hw = _expand("output_size", output_size, 2, "fold")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported (got "
                           f"{input.dim()}D)")
    unbatched = input.dim() == 2
    x = input.unsqueeze(0) if unbatched else input
    K = k[0] * k[1]
    if x.shape[1] % K != 0:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={x.shape[1]} and kernel_size=({k[0]}, {k[1]})")
    idx, (Hp, Wp), L = _unfold_index(out_hw, k, d, p, s)
    if x.shape[2] != L:
        raise RuntimeError(f"Given output_size=({out_hw[0]}, {out_hw[1]}), kernel_size=({k[0]}, {k[1]}), "
                           f"dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), stride=({s[0]}, {s[1]}), expected "
                           f"size of input's dimension 2 to match the calculated number of sliding blocks {L}, but "
                           f"got input.size(2)={x.shape[2]}.")
    N, C = x.shape[0], x.shape[1] // K
    img = zeros((N, C, Hp * Wp), dtype=x.dtype, device=x.device)
    index = tensor(idx, device=x.device).view(1, 1, -1).expand(N, C, K * L)
    img = img.scatter_add(2, index, x.reshape(N, C, K * L))
    img = img.reshape(N, C, Hp, Wp)[:, :, p[0]:Hp - p[0], p[1]:Wp - p[1]]
    return img.squeeze(0) if unbatched else img

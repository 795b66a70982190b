"""nn.functional for the layers: activations, softmax, dropout, embedding, layer_norm, linear, one_hot, pad.

Each is composed from core ops (which carry their own derivatives), so gradients come for free.
"""
import math
import numbers
import warnings

import numpy as np

from .. import _C
from .._C import cat, where
from .._creation import _as_index, full, rand, tensor, zeros, zeros_like
from ..autograd.function import Function
from . import _fusion
from ..autograd.grad_mode import no_grad
from .._types import SCALAR_TYPE_NAMES, bool_, float32 as _float32, float64 as _float64, int32, int64

__all__ = [
    "relu", "relu_", "leaky_relu", "leaky_relu_", "sigmoid", "tanh", "gelu", "silu", "softmax", "log_softmax",
    "dropout", "embedding", "embedding_bag", "layer_norm", "linear", "bilinear", "one_hot", "pad", "flatten",
    "unflatten",
]

_SQRT1_2 = 0.7071067811865476
_SQRT_2_OVER_PI = 0.7978845608028654


def _floating_only(input, kernel):
    """PyTorch's error for a floating-point kernel given an integer or bool tensor."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{SCALAR_TYPE_NAMES[input.dtype]}\'')


def relu(input, inplace=False):
    return input.relu_() if inplace else input.relu()


def relu_(input):
    return input.relu_()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    # one kernel and torch's node (csrc/ops/elementwise_ops.h, MT_ACTIVATION_OPS), as the other activations
    _floating_only(input, "leaky_relu_cpu")
    return input._leaky_relu_(negative_slope) if inplace else input._leaky_relu(negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def silu(input, inplace=False):
    _floating_only(input, "silu_cpu")
    return input._silu_() if inplace else input._silu()


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _floating_only(input, "GeluKernelImpl")
    if approximate == "none":
        if _fusion.ENABLED[0]:
            return input._gelu()  # one kernel (csrc/ops/elementwise_ops.h: _gelu and its derivative _gelu_grad)
        return input * 0.5 * ((input * _SQRT1_2).erf() + 1.0)
    inner = (input + input * input * input * 0.044715) * _SQRT_2_OVER_PI
    return input * 0.5 * (inner.tanh() + 1.0)


def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return input.softmax(dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return input.log_softmax(dim)


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        if not input.dtype.is_floating_point:  # zeros of input's dtype
            return input.zero_() if inplace else zeros_like(input)
        return input.mul_(0.0) if inplace else input * 0.0
    if not input.dtype.is_floating_point:  # the mask scaled by 1/(1-p) is float
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{SCALAR_TYPE_NAMES[input.dtype]}")
    keep = rand(tuple(input.shape), device=input.device) >= p
    scale = 1.0 / (1.0 - p)
    mask = keep * scale
    if mask.dtype != input.dtype:
        mask = mask.to(input.dtype)
    return input.mul_(mask) if inplace else input * mask


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    if padding_idx is not None:
        n = weight.size(0)
        if padding_idx > 0:
            if padding_idx >= n:
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -n:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = n + padding_idx
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    if input.dtype not in (int64, int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.type()} instead (while checking arguments for embedding)")
    if sparse:
        raise NotImplementedError("embedding: sparse=True (sparse gradients) is not supported")
    flat = input.reshape(-1)
    if max_norm is not None:
        _embedding_renorm_(weight, flat, max_norm, norm_type)
    out = weight.index_select(0, flat)
    if scale_grad_by_freq and weight.requires_grad and flat.numel():
        # each lookup's gradient divided by how often its row occurs in this batch (the values are unchanged)
        counts = np.bincount(flat.cpu().numpy().astype(np.int64), minlength=weight.size(0))
        freq = tensor(counts[flat.cpu().numpy()], dtype=weight.dtype, device=weight.device).unsqueeze(1)
        out = _ScaleGrad.apply(out, 1.0 / freq)
    if padding_idx is not None and weight.requires_grad:
        # the padding row gets no gradient: its lookups read a detached copy of the weight
        keep = (flat != padding_idx).unsqueeze(1)
        out = where(keep, out, weight.detach().index_select(0, flat))
    out = out.view(*input.shape, weight.shape[1])
    if out.requires_grad:
        # the output's node gets torch's name (EmbeddingBackward0): an identity node recorded onto the output
        # itself (its edge is taken from the view's history before the output's grad_fn is replaced). The
        # gradient is the recorded index_select (index_add into zeros), padding mask and frequency scaling
        # below it, so double backward and the composed ops' speed are kept.
        _C._function_record(_EMBEDDING_CTX, "EmbeddingBackward0", _embedding_identity_backward, (out,), (out,))
    return out


class _EmbeddingCtx:
    __slots__ = ()


_EMBEDDING_CTX = _EmbeddingCtx()


def _embedding_identity_backward(ctx, g):
    return (g,)


class _ScaleGrad(Function):
    """The identity forward; the backward multiplies the gradient by `scale`."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(scale)
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        (scale,) = ctx.saved_tensors
        if not _C.is_grad_enabled():
            return g * scale, None
        # create_graph: the value is g * scale, but its derivative with respect to g is the identity, as
        # torch's embedding_dense_double_backward (which leaves out the frequency scaling). The scaled
        # pseudo-gradient is no true derivative; this way the second derivative with respect to the weight
        # (Hessian-vector products through the lookup) is exact and matches torch.
        return g + (g * (scale - 1.0)).detach(), None


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embeddings: the rows of a 2-D input, or the runs of a 1-D input that
    start at offsets. Entries equal to padding_idx are left out of their bag (and of its count); an empty bag
    gives zeros. The lookups are index_select, the bag sums one scatter_add, so autograd follows."""
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        nb, per = input.shape
        starts = np.arange(nb, dtype=np.int64) * per
        flat = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        starts = offsets.cpu().numpy().astype(np.int64)
        if include_last_offset:
            starts = starts[:-1]
        if starts.size and starts[0] != 0:
            raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                               f"position 0. However, got {starts[0]}")
        if starts.size and starts[-1] > input.numel():
            raise RuntimeError(f"offsets[-1] can not be greater than input's length ({input.numel()}), but got "
                               f"offsets[-1] of {starts[-1]}")
        nb, flat = starts.size, input
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if scale_grad_by_freq:  # torch's bag gradients do not follow the per-batch frequency rule of F.embedding
        raise NotImplementedError("embedding_bag: scale_grad_by_freq=True is not supported")
    if sparse:
        raise NotImplementedError("embedding_bag: sparse=True (sparse gradients) is not supported")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                      f"supported for mode='sum' (got mode='{mode}'). Please open a feature request "
                                      "on GitHub.")
        if tuple(per_sample_weights.shape) != tuple(flat.shape):
            raise ValueError(f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)}) is not None, "
                             f"then it must have the same shape as the input ({list(input.shape)})")
    if input.dtype not in (int64, int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.type()} instead (while checking arguments for embedding_bag)")
    n = weight.size(0)
    idx = flat.cpu().numpy().astype(np.int64)
    bad = np.nonzero((idx < 0) | (idx >= n))[0]
    if bad.size:
        raise RuntimeError(f"Index {bad[0]} of input takes value {idx[bad[0]]} which is not in the valid range "
                           f"[0, {n})")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    bag = np.zeros(idx.size, dtype=np.int64)
    if nb:
        bag = np.searchsorted(starts, np.arange(idx.size), side="right") - 1
    keep = np.ones(idx.size, dtype=bool) if padding_idx is None else idx != padding_idx
    sel = np.nonzero(keep)[0]
    dev = weight.device
    rows = embedding(tensor(idx[sel], device=dev), weight, None, max_norm, norm_type)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.index_select(0, tensor(sel, device=dev)).unsqueeze(1)
    d = weight.size(1)
    bags = tensor(bag[sel], device=dev)
    if mode == "max":
        parts = []
        for b in range(nb):
            members = np.nonzero(bag[sel] == b)[0]
            parts.append(rows.index_select(0, tensor(members, device=dev)).max(0).values if members.size
                         else zeros(d, dtype=weight.dtype, device=dev))
        from .._C import stack
        return stack(parts) if parts else zeros((0, d), dtype=weight.dtype, device=dev)
    out = zeros((nb, d), dtype=weight.dtype, device=dev).scatter_add(0, bags.unsqueeze(1).expand(-1, d), rows)
    if mode == "mean":
        counts = np.maximum(np.bincount(bag[sel], minlength=nb), 1).astype(np.float64)
        out = out / tensor(counts, dtype=weight.dtype, device=dev).unsqueeze(1)
    return out


def _embedding_renorm_(weight, flat_idx, max_norm, norm_type):
    with no_grad():
        uniq = np.unique(flat_idx.cpu().numpy())
        idx = tensor(uniq, dtype=int64, device=weight.device)
        rows = weight.index_select(0, idx)
        norms = rows.norm(norm_type, dim=1, keepdim=True)
        scale = where(norms > max_norm, max_norm / (norms + 1e-7), full((1, 1), 1.0, dtype=weight.dtype,
                                                                         device=weight.device))
        weight[idx] = rows * scale
    return weight


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or tuple(input.shape[input.dim() - k:]) != normalized_shape or input.dim() < k:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size"
                           f"{list(input.shape)}")
    _floating_only(input, "LayerNormKernelImpl")
    if (_fusion.ENABLED[0] and input.device.type == "cpu" and input.dtype in (_float32, _float64)
            and all(t is None or (t.dtype is input.dtype and t.device.type == "cpu" and t.numel() == math.prod(normalized_shape))
                    for t in (weight, bias))):
        return _C._layer_norm(input, weight, bias, k, float(eps))  # one pass each way (csrc/ops/norm.c)
    dims = tuple(range(-k, 0))
    mean = input.mean(dims, keepdim=True)
    var = input.var(dims, correction=0, keepdim=True)
    out = (input - mean) * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias (one addmm for 2-D input)."""
    if bias is not None and input.dim() == 2:
        return bias.addmm(input, weight.t())
    out = input.matmul(weight.t())
    return out + bias if bias is not None else out


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = input1[..., i] weight[o, i, j] input2[..., j] + bias[o]: one GEMM, then a product over j."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} and "
                           f"{list(input2.shape[:-1])}")
    if weight.dim() != 3 or input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input sizes {input1.shape[-1]} and {input2.shape[-1]} do not match weight "
                           f"of size {list(weight.shape)}")
    out_f, in1, in2 = weight.shape
    lead = input1.shape[:-1]
    x1 = input1.reshape(-1, in1)
    t = x1.matmul(weight.permute(1, 0, 2).reshape(in1, out_f * in2)).view(-1, out_f, in2)
    y = (t * input2.reshape(-1, 1, in2)).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(*lead, out_f)


def one_hot(tensor, num_classes=-1):
    if tensor.dtype != int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return zeros(*tensor.shape, num_classes, dtype=int64, device=tensor.device)
    if bool((tensor < 0).any()):
        raise RuntimeError("Class values must be non-negative.")
    mx = int(tensor.max())
    if num_classes == -1:
        num_classes = mx + 1
    elif mx >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = zeros(*tensor.shape, num_classes, dtype=int64, device=tensor.device)
    return out.scatter_(-1, tensor.unsqueeze(-1), 1)


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """Pads (or, with negative amounts, crops) the last len(pad)//2 dims: pad = (left, right, top, bottom, ...)."""
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, not {type(pad).__name__}")
    amounts = [_as_index(p) for p in pad]
    if None in amounts:
        bad = pad[amounts.index(None)]
        raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but found element of type "
                        f"{type(bad).__name__} at pos {amounts.index(None)}")
    pad = amounts
    if value is not None and not isinstance(value, numbers.Real):
        raise TypeError(f"pad(): argument 'value' (position 4) must be float, not {type(value).__name__}")
    if len(pad) % 2 != 0:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.dim()}")
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode != "constant":
        if value is not None and value != 0:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
        return _pad_indexed(input, pad, mode)
    value = 0.0 if value is None else value
    out = input
    for i in range(len(pad) // 2):
        dim = input.dim() - 1 - i
        left, right = pad[2 * i], pad[2 * i + 1]
        size = out.shape[dim]
        if left < 0 or right < 0:
            start = -left if left < 0 else 0
            stop = size + right if right < 0 else size
            if stop - start < 0:
                raise RuntimeError(f"The input size {size}, plus negative padding {left} and {right} resulted in a "
                                   f"negative output size, which is invalid. Check dimension {dim} of your input.")
            out = out.narrow(dim, start, stop - start)
        parts = []
        shape = list(out.shape)
        if left > 0:
            shape[dim] = left
            parts.append(full(tuple(shape), value, dtype=out.dtype, device=out.device))
        parts.append(out)
        if right > 0:
            shape[dim] = right
            parts.append(full(tuple(shape), value, dtype=out.dtype, device=out.device))
        if len(parts) > 1:
            out = cat(parts, dim)
    return out if out is not input else input.clone()


_NONCONSTANT_PAD_DIMS = {2: (2, 3), 4: (3, 4), 6: (4, 5)}


def _pad_source_index(size, left, right, mode):
    """For each output position along one dim, the input position it reads (ATen's reflection/replication/
    circular index maps, which also cover negative padding)."""
    if mode == "circular":  # ATen crops the negative pads first, then wraps around what is left
        start, kept = max(0, -left), size - max(0, -left) - max(0, -right)
        if kept <= 0:
            return np.zeros(0, dtype=np.int64) if kept == 0 and left <= 0 and right <= 0 else None
        return start + np.mod(np.arange(kept + max(0, left) + max(0, right), dtype=np.int64) - max(0, left), kept)
    src = np.arange(size + left + right, dtype=np.int64) - left
    if mode == "reflect":
        src = np.abs(src)
        return np.where(src >= size, 2 * (size - 1) - src, src)
    return np.clip(src, 0, size - 1)


def _pad_indexed(input, pad, mode):
    """reflect / replicate / circular padding of the last len(pad)//2 dims, one index_select per dim (so the
    gradient is index_select's: the scatter-add of the output gradient into the input positions read)."""
    nd, k = input.dim(), len(pad)
    if k not in _NONCONSTANT_PAD_DIMS or nd not in _NONCONSTANT_PAD_DIMS[k]:
        raise NotImplementedError(
            f"Padding size {k} is not supported for {nd}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    npad = k // 2
    shape = list(input.shape)
    dims = [nd - 1 - i for i in range(npad)]  # pad[2i], pad[2i+1] pad dims[i]
    out_sizes = [shape[d] + pad[2 * i] + pad[2 * i + 1] for i, d in enumerate(dims)]
    if mode == "circular":
        for i in reversed(range(npad)):
            d, left, right = dims[i], pad[2 * i], pad[2 * i + 1]
            if left > shape[d] or right > shape[d]:
                raise RuntimeError("Padding value causes wrapping around more than once.")
            if out_sizes[i] < 0:
                raise RuntimeError("Negative padding value is resulting in an empty dimension")
    else:
        kernel = ("reflection" if mode == "reflect" else "replication") + f"_pad{npad}d"
        if input.dtype == bool_:
            raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
        first = 1 if nd == npad + 2 else 0  # the batch dim may be empty, the others may not
        if any(s == 0 for s in shape[first:]):
            raise RuntimeError(f"Expected {npad + 1}D or {npad + 2}D (batch mode) tensor with possibly 0 batch size "
                               f"and other non-zero dimensions for input, but got: {shape}")
        if mode == "reflect":
            for i, d in enumerate(dims):
                left, right = pad[2 * i], pad[2 * i + 1]
                if not (left < shape[d] and right < shape[d]):
                    raise RuntimeError(f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding "
                                       f"input dimension, but got: padding ({left}, {right}) at dimension {d} of "
                                       f"input {shape}")
        if all(o < 1 for o in out_sizes):
            names = ("W", "H", "D")[:npad]
            ins = ", ".join(f"{n}: {shape[d]}" for n, d in reversed(list(zip(names, dims))))
            outs = " ".join(f"{n}: {o}" for n, o in reversed(list(zip(names, out_sizes))))
            raise RuntimeError(f"input ({ins}) is too small. Calculated output {outs}")
        if any(o < 0 for o in out_sizes):
            new_shape = list(shape)
            for d, o in zip(dims, out_sizes):
                new_shape[d] = o
            raise RuntimeError(f"Trying to create tensor with negative dimension {min(out_sizes)}: {new_shape}")
    out = input
    for i, d in enumerate(dims):
        left, right = pad[2 * i], pad[2 * i + 1]
        if left == 0 and right == 0:
            continue
        idx = _pad_source_index(shape[d], left, right, mode)
        if idx is None:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        out = out.index_select(d, tensor(idx, dtype=int64, device=input.device))
    return out if out is not input else input.clone()


def flatten(input, start_dim=0, end_dim=-1):
    return input.flatten(start_dim, end_dim)


def unflatten(input, dim, sizes):
    nd = input.dim()
    d = dim + nd if dim < 0 else dim
    if not 0 <= d < max(nd, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dim})")
    sizes = tuple(int(s) for s in sizes)
    shape = tuple(input.shape)
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in sizes if s != -1)
    if -1 not in sizes and known != shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                           f"({shape[d]}) in the input tensor")
    return input.view(*shape[:d], *sizes, *shape[d + 1:])

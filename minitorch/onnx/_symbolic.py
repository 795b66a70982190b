"""Symbolic functions: each translates one minitorch op (a call whose arguments and real output the tracer
hands over) into ONNX nodes, and returns the ONNX value name(s) of that output.

A handler is `fn(g, out, *args, **kwargs)` with the op's own (torch) signature after `g` (the _Graph) and
`out` (the real result, whose shape and dtype settle promotion, split sizes and reshape targets). Module
handlers get the module after `out`. Anything a handler cannot translate exactly raises
UnsupportedOperatorError naming it; it never emits an approximation.
"""
import math

import numpy as np

from .._tensor import Tensor
from ._trace import UnsupportedOperatorError, _np_dtype, _onnx_type, _to_numpy

HANDLERS = {}
MODULE_HANDLERS = {}
INT64_MAX = np.iinfo(np.int64).max


def _reg(*names):
    def deco(fn):
        for n in names:
            HANDLERS[n] = fn
        return fn
    return deco


def _dim(d, rank):
    return d + rank if d < 0 else d


def _pair(v, n):
    return list(v) if isinstance(v, (tuple, list)) else [v] * n


def _require(cond, name, why):
    if not cond:
        raise UnsupportedOperatorError(name, why)


# ---- elementwise ----
_UNARY = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "exp": "Exp", "log": "Log", "sqrt": "Sqrt",
          "abs": "Abs", "neg": "Neg", "reciprocal": "Reciprocal", "sin": "Sin", "cos": "Cos", "erf": "Erf",
          "floor": "Floor", "ceil": "Ceil", "sign": "Sign", "logical_not": "Not", "round": "Round",
          "__neg__": "Neg", "__abs__": "Abs", "negative": "Neg", "absolute": "Abs", "tan": "Tan",
          "asin": "Asin", "acos": "Acos", "atan": "Atan", "sinh": "Sinh", "cosh": "Cosh"}


def _inplace_check(g, t, name):
    """An in-place op rebinds its tensor to the new value (the tracer marks the tensors that share its memory
    stale: using one afterwards raises); writing into a view would change its base unrecorded."""
    if getattr(t, "_base", None) is not None:
        raise UnsupportedOperatorError(name, " on a view of another tensor")


def _unary(onnx_op, inplace=False):
    def h(g, out, x, *args, **kwargs):
        _require(not args and not kwargs, g.op_name, f" with arguments {args or ''}{kwargs or ''}")
        if inplace:
            _inplace_check(g, x, g.op_name)
        return g.op(onnx_op, g.cast(x, np.bool_ if onnx_op == "Not" else _np_dtype(out)))
    return h


for _n, _o in _UNARY.items():
    HANDLERS[_n] = _unary(_o)
    HANDLERS[_n + "_"] = _unary(_o, inplace=True)
HANDLERS["F.sigmoid"], HANDLERS["F.tanh"] = _unary("Sigmoid"), _unary("Tanh")


@_reg("F.relu")
def _f_relu(g, out, x, inplace=False):
    if inplace:
        _inplace_check(g, x, "relu_")
    return g.op("Relu", g.v(x))


@_reg("rsqrt", "rsqrt_")
def _rsqrt(g, out, x):
    return g.op("Reciprocal", g.op("Sqrt", g.v(x)))


@_reg("square")
def _square(g, out, x):
    x = g.cast(x, _np_dtype(out))
    return g.op("Mul", x, x)


@_reg("__pos__", "contiguous", "clone", "detach", "data", "cpu", "F.dropout", "dropout", "alpha_dropout",
      "F.alpha_dropout", "feature_alpha_dropout", "F.feature_alpha_dropout")
def _passthrough(g, out, x, *args, **kwargs):
    name = g.op_name
    if "dropout" in name:
        training = kwargs.get("training", kwargs.get("train", args[1] if len(args) > 1 else name.startswith("F.")))
        _require(not training, name, " in training mode (call model.eval() or export with training=EVAL)")
    return g.v(x)


def _compare_dtype(a, b):
    """The common dtype of a comparison's operands, as torch promotes them."""
    ta, tb = (_np_dtype(x) if isinstance(x, Tensor) else None for x in (a, b))
    if ta is not None and tb is not None:
        return np.result_type(ta, tb)
    t, s = (ta, b) if ta is not None else (tb, a)
    if isinstance(s, float) and t.kind in "biu":
        return np.dtype(np.float32)
    if isinstance(s, bool) or t.kind != "b":
        return t
    return np.dtype(np.int64)


def _binary(onnx_op, swap=False, compare=False, inplace=False):
    def h(g, out, a, b, *, alpha=1, rounding_mode=None):
        if inplace:
            _inplace_check(g, a, g.op_name)
        _require(rounding_mode is None, g.op_name, f" with rounding_mode={rounding_mode!r}")
        dt = _compare_dtype(a, b) if compare else _np_dtype(out)
        x, y = g.cast(a, dt), g.cast(b, dt)
        if alpha != 1:  # add/sub: input + alpha * other; rsub: other - alpha * input
            if swap:
                x = g.op("Mul", x, g.scalar(alpha, dt))
            else:
                y = g.op("Mul", y, g.scalar(alpha, dt))
        return g.op(onnx_op, y, x) if swap else g.op(onnx_op, x, y)
    return h


for _names, _o in ((("add", "__add__", "__radd__"), "Add"), (("sub", "subtract", "__sub__"), "Sub"),
                   (("mul", "multiply", "__mul__", "__rmul__"), "Mul"),
                   (("div", "divide", "true_divide", "__truediv__"), "Div"), (("pow", "__pow__"), "Pow"),
                   (("maximum",), "Max"), (("minimum",), "Min")):
    for _n in _names:
        HANDLERS[_n] = _binary(_o)
        if not _n.startswith("__"):
            HANDLERS[_n + "_"] = _binary(_o, inplace=True)
HANDLERS.update({"__iadd__": _binary("Add", inplace=True), "__isub__": _binary("Sub", inplace=True),
                 "__imul__": _binary("Mul", inplace=True), "__itruediv__": _binary("Div", inplace=True),
                 "__rsub__": _binary("Sub", swap=True), "rsub": _binary("Sub", swap=True),
                 "__rtruediv__": _binary("Div", swap=True), "__rpow__": _binary("Pow", swap=True)})
for _names, _o in ((("eq", "__eq__"), "Equal"), (("lt", "less", "__lt__"), "Less"),
                   (("gt", "greater", "__gt__"), "Greater"), (("le", "less_equal", "__le__"), "LessOrEqual"),
                   (("ge", "greater_equal", "__ge__"), "GreaterOrEqual")):
    for _n in _names:
        HANDLERS[_n] = _binary(_o, compare=True)


@_reg("ne", "not_equal", "__ne__")
def _ne(g, out, a, b):
    return g.op("Not", _binary("Equal", compare=True)(g, out, a, b))


@_reg("logical_and", "logical_or", "logical_xor", "__and__", "__or__", "__xor__")
def _logical(g, out, a, b):
    _require(_np_dtype(out) == np.bool_, g.op_name, " on integer tensors (bitwise)")
    op = {"and": "And", "or": "Or", "xor": "Xor"}[g.op_name.strip("_").replace("logical_", "")]
    return g.op(op, g.cast(a, np.bool_), g.cast(b, np.bool_))


@_reg("F.hardtanh")
def _hardtanh(g, out, input, min_val=-1.0, max_val=1.0, inplace=False):
    if inplace:
        _inplace_check(g, input, "hardtanh_")
    return _clamp(g, out, input, min_val, max_val)


@_reg("F.relu6")
def _relu6(g, out, input, inplace=False):
    return _hardtanh(g, out, input, 0.0, 6.0, inplace)


@_reg("clamp", "clip", "clamp_", "clip_")
def _clamp(g, out, x, min=None, max=None):
    if g.op_name.endswith("_"):
        _inplace_check(g, x, g.op_name)
    dt = _np_dtype(out)
    lo = "" if min is None else g.cast(min, dt)
    hi = "" if max is None else g.cast(max, dt)
    return g.op("Clip", g.cast(x, dt), lo, hi)


@_reg("where")
def _where(g, out, condition, input=None, other=None):
    _require(input is not None, "where", " with one argument (nonzero)")
    dt = _np_dtype(out)
    return g.op("Where", g.cast(condition, np.bool_), g.cast(input, dt), g.cast(other, dt))


@_reg("Tensor.where")
def _tensor_where(g, out, self, condition, other):
    return _where(g, out, condition, self, other)


@_reg("masked_fill", "masked_fill_")
def _masked_fill(g, out, x, mask, value):
    if g.op_name.endswith("_"):
        _inplace_check(g, x, g.op_name)
    dt = _np_dtype(out)
    return g.op("Where", g.cast(mask, np.bool_), g.cast(value, dt), g.v(x))


# ---- activations and softmax ----
@_reg("F.leaky_relu")
def _leaky_relu(g, out, x, negative_slope=0.01, inplace=False):
    return g.op("LeakyRelu", g.v(x), alpha=float(negative_slope))


@_reg("F.elu")
def _elu(g, out, x, alpha=1.0, inplace=False):
    return g.op("Elu", g.v(x), alpha=float(alpha))


@_reg("F.silu")
def _silu(g, out, x, inplace=False):
    x = g.v(x)
    return g.op("Mul", x, g.op("Sigmoid", x))


@_reg("F.softplus")
def _softplus(g, out, x, beta=1.0, threshold=20.0):
    # softplus(x) and x agree to float rounding above the threshold, so torch's cut-over needs no node
    x = g.v(x)
    if beta == 1:
        return g.op("Softplus", x)
    b = g.scalar(beta, g.dtype(x))
    return g.op("Div", g.op("Softplus", g.op("Mul", x, b)), b)


@_reg("F.gelu")
def _gelu(g, out, x, approximate="none"):
    x = g.v(x)
    dt = g.dtype(x)
    if g.opset >= 20:
        return g.op("Gelu", x, approximate=approximate)
    if approximate == "tanh":
        inner = g.op("Mul", g.scalar(math.sqrt(2 / math.pi), dt),
                     g.op("Add", x, g.op("Mul", g.scalar(0.044715, dt), g.op("Pow", x, g.scalar(3.0, dt)))))
        return g.op("Mul", g.op("Mul", x, g.scalar(0.5, dt)), g.op("Add", g.scalar(1.0, dt), g.op("Tanh", inner)))
    erf = g.op("Erf", g.op("Div", x, g.scalar(math.sqrt(2.0), dt)))
    return g.op("Mul", g.op("Mul", x, g.scalar(0.5, dt)), g.op("Add", erf, g.scalar(1.0, dt)))


@_reg("F.celu")
def _celu(g, out, x, alpha=1.0, inplace=False):
    return g.op("Celu", g.v(x), alpha=float(alpha))


@_reg("F.selu")
def _selu(g, out, x, inplace=False):
    return g.op("Selu", g.v(x))


@_reg("F.softsign")
def _softsign(g, out, x):
    return g.op("Softsign", g.v(x))


@_reg("F.logsigmoid")
def _logsigmoid(g, out, x):
    # -softplus(-x): log(sigmoid(x)) without the underflow of sigmoid for large negative x
    return g.op("Neg", g.op("Softplus", g.op("Neg", g.v(x))))


@_reg("F.hardsigmoid")
def _hardsigmoid(g, out, x, inplace=False):
    return g.op("HardSigmoid", g.v(x), alpha=1.0 / 6, beta=0.5)


@_reg("F.hardswish")
def _hardswish(g, out, x, inplace=False):
    if g.opset >= 14:
        return g.op("HardSwish", g.v(x))
    return g.op("Mul", g.v(x), _hardsigmoid(g, out, x))


@_reg("F.mish")
def _mish(g, out, x, inplace=False):
    if g.opset >= 18:
        return g.op("Mish", g.v(x))
    return g.op("Mul", g.v(x), g.op("Tanh", g.op("Softplus", g.v(x))))


# threshold and the shrinks are single ops in minitorch (not where-composites the tracer could follow)
@_reg("F.threshold")
def _threshold(g, out, x, threshold, value, inplace=False):
    if inplace:
        _inplace_check(g, x, "threshold_")
    x = g.v(x)
    dt = g.dtype(x)
    th = g.scalar(threshold, dt)
    # x <= threshold, false for NaN (which stays NaN, as torch); before opset 12, not(x > threshold)
    le = g.op("LessOrEqual", x, th) if g.opset >= 12 else g.op("Not", g.op("Greater", x, th))
    return g.op("Where", le, g.scalar(value, dt), x)


@_reg("F.hardshrink")
def _hardshrink(g, out, x, lambd=0.5):
    return g.op("Shrink", g.v(x), bias=0.0, lambd=float(lambd))


@_reg("F.softshrink")
def _softshrink(g, out, x, lambd=0.5):
    return g.op("Shrink", g.v(x), bias=float(lambd), lambd=float(lambd))


@_reg("F.prelu")
def _prelu(g, out, x, weight):
    w = g.v(weight)
    if weight.numel() > 1 and x.dim() > 2:  # one slope per channel (dim 1): broadcast over the rest
        w = g.op("Reshape", w, g.ints([weight.numel()] + [1] * (x.dim() - 2)))
    return g.op("PRelu", g.v(x), w)


@_reg("F.glu")
def _glu(g, out, x, dim=-1):
    d = _dim(dim, x.dim())
    half = x.shape[d] // 2
    a, b = g.op("Split", g.v(x), g.ints([half, half]), axis=d, outputs=2)
    return g.op("Mul", a, g.op("Sigmoid", b))


@_reg("F.normalize")
def _normalize(g, out, x, p=2.0, dim=1, eps=1e-12, out_=None):
    _require(p in (1, 2), "normalize", f" with p={p}")
    name = g.v(x)
    norm = g.reduce("ReduceL2" if p == 2 else "ReduceL1", name, [_dim(dim, x.dim())], True)
    return g.op("Div", name, g.op("Max", norm, g.scalar(eps, g.dtype(name))))


@_reg("F.pad")
def _pad(g, out, x, pad, mode="constant", value=None):
    onnx_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}.get(mode)
    _require(onnx_mode is not None and (mode != "circular" or g.opset >= 19), "pad", f" with mode={mode!r}")
    n = x.dim()
    begins, ends = [0] * n, [0] * n
    for i in range(len(pad) // 2):  # torch's pad lists (begin, end) pairs from the last dim backwards
        begins[n - 1 - i], ends[n - 1 - i] = pad[2 * i], pad[2 * i + 1]
    inputs = [g.v(x), g.ints(begins + ends)]
    if mode == "constant":
        inputs.append(g.scalar(0 if value is None else value, _np_dtype(out)))
    return g.op("Pad", *inputs, mode=onnx_mode)


def _softmax_dim(ndim):
    return 0 if ndim in (0, 1, 3) else 1  # torch's implicit dim (with its deprecation warning)


def _softmax(onnx_op):
    # F.softmax(input, dim, _stacklevel, dtype) and Tensor.softmax(dim, dtype): a dtype is the output's
    def h(g, out, x, dim=None, *args, **kwargs):
        if dim is None:
            dim = _softmax_dim(x.dim())
        return g.op(onnx_op, g.cast(x, _np_dtype(out)), axis=int(dim))
    return h


for _n, _o in (("softmax", "Softmax"), ("log_softmax", "LogSoftmax")):
    HANDLERS[_n] = HANDLERS["F." + _n] = _softmax(_o)


# ---- linear algebra ----
@_reg("matmul", "mm", "bmm", "__matmul__", "F.matmul")
def _matmul(g, out, a, b):
    dt = _np_dtype(out)
    return g.op("MatMul", g.cast(a, dt), g.cast(b, dt))


@_reg("__rmatmul__")
def _rmatmul(g, out, a, b):
    return _matmul(g, out, b, a)


@_reg("addmm")
def _addmm(g, out, input, mat1, mat2, *, beta=1, alpha=1):
    return g.op("Gemm", g.v(mat1), g.v(mat2), g.v(input), alpha=float(alpha), beta=float(beta))


@_reg("F.linear")
def _linear(g, out, input, weight, bias=None):
    x, w = g.v(input), g.v(weight)
    if input.dim() == 2 and weight.dim() == 2:
        return g.op("Gemm", x, w, *([g.v(bias)] if bias is not None else []), transB=1)
    y = g.op("MatMul", x, g.op("Transpose", w, perm=[1, 0]))
    return g.op("Add", y, g.v(bias)) if bias is not None else y


# ---- shapes ----
@_reg("view", "reshape", "flatten", "unflatten", "view_as", "reshape_as", "squeeze", "unsqueeze", "F.unflatten",
      "ravel")
def _reshape(g, out, x, *args, **kwargs):
    """Every shape-only op is a Reshape to the traced output shape; export resolves which target dims follow
    a dynamic axis (from a second trace) into ONNX's 0 (copy) and -1 (infer)."""
    if g.op_name == "view" and args and not isinstance(args[0], (int, tuple, list)) and not hasattr(args[0], "shape"):
        raise UnsupportedOperatorError("view", " to a dtype")
    name = g.v(x)
    if tuple(out.shape) == tuple(x.shape):
        return g.op("Identity", name)
    target = g.const(np.asarray(tuple(out.shape), dtype=np.int64), role=("shape", tuple(x.shape)))
    return g.op("Reshape", name, target)


@_reg("transpose", "swapaxes", "swapdims", "t", "T", "mT")
def _transpose(g, out, x, dim0=None, dim1=None):
    n = x.dim()
    if g.op_name == "mT":
        dim0, dim1 = -2, -1
    elif dim0 is None:  # t() and T: reverse the dims
        return g.op("Transpose", g.v(x), perm=list(range(n))[::-1])
    perm = list(range(n))
    a, b = _dim(dim0, n), _dim(dim1, n)
    perm[a], perm[b] = perm[b], perm[a]
    return g.op("Transpose", g.v(x), perm=perm)


@_reg("permute")
def _permute(g, out, x, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    return g.op("Transpose", g.v(x), perm=[_dim(d, x.dim()) for d in dims])


@_reg("to", "float", "double", "long", "int", "bool", "half", "type", "type_as")
def _to(g, out, x, *args, **kwargs):
    if not isinstance(out, Tensor):
        return None  # type() without a dtype returns its name
    dt = _np_dtype(out)
    return g.v(x) if _np_dtype(x) == dt else g.op("Cast", g.v(x), to=_onnx_type(dt))


@_reg("expand", "expand_as")
def _expand(g, out, x, *sizes):
    # ONNX Expand broadcasts both ways: a 1 keeps the input's own size, so traced sizes stay out of the graph
    shape = tuple(out.shape)
    lead = len(shape) - x.dim()
    target = [s if i < lead or x.shape[i - lead] != s else 1 for i, s in enumerate(shape)]
    return g.op("Expand", g.v(x), g.ints(target))


@_reg("repeat")
def _repeat(g, out, x, *sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    name = g.v(x)
    lead = len(sizes) - x.dim()
    if lead:
        name = g.op("Reshape", name, g.ints([1] * lead + list(x.shape)))
    return g.op("Tile", name, g.ints(list(sizes)))


def _slice_bounds(start, stop, step):
    step = 1 if step is None else step
    _require(step > 0, "__getitem__", " with a non-positive slice step")
    return (0 if start is None else start), (INT64_MAX if stop is None else stop), step


@_reg("__getitem__")
def _getitem(g, out, x, index):
    if not isinstance(index, tuple):
        index = (index,)
    if any(isinstance(i, (Tensor, list, np.ndarray, bool)) for i in index):
        if len(index) == 1 and isinstance(index[0], Tensor) and _np_dtype(index[0]).kind in "iu":
            return g.op("Gather", g.v(x), g.v(index[0]), axis=0)
        raise UnsupportedOperatorError("__getitem__", " with tensor (advanced) indices other than one integer "
                                                      "tensor on the first dimension")
    n_real = sum(1 for i in index if i is not None and i is not Ellipsis)
    k = index.index(Ellipsis) if Ellipsis in index else len(index)  # the dims that no index names
    index = index[:k] + (slice(None),) * (x.dim() - n_real) + index[k + 1:]
    axes, starts, ends, steps, squeeze, new_axes = [], [], [], [], [], []
    d = o = 0  # input dim, output dim
    for i in index:
        if i is None:
            new_axes.append(o)
            o += 1
            continue
        if isinstance(i, slice):
            if i != slice(None):
                s, e, st = _slice_bounds(i.start, i.stop, i.step)
                axes.append(d), starts.append(s), ends.append(e), steps.append(st)
            o += 1
        else:
            i = int(i)
            axes.append(d), starts.append(i), ends.append(i + 1 if i != -1 else INT64_MAX), steps.append(1)
            squeeze.append(d)
        d += 1
    name = g.v(x)
    if axes:
        name = g.op("Slice", name, g.index_ints(starts), g.index_ints(ends), g.ints(axes), g.ints(steps))
    if squeeze:
        name = g.op("Squeeze", name, g.ints(squeeze))
    if new_axes:
        name = g.op("Unsqueeze", name, g.ints(new_axes))
    return name if name != g.v(x) else g.op("Identity", name)


@_reg("narrow")
def _narrow(g, out, x, dim, start, length):
    _require(isinstance(start, int), "narrow", " with a tensor start")
    start = start % x.shape[dim] if start < 0 else start  # from the end: a traced size (checked if dynamic)
    return g.op("Slice", g.v(x), g.index_ints([start]), g.index_ints([start + length]), g.ints([dim]))


@_reg("select")
def _select(g, out, x, dim, index):
    return g.op("Gather", g.v(x), g.ints(index), axis=_dim(dim, x.dim()))


@_reg("split", "chunk", "unbind", "F.split")
def _split(g, out, x, *args, dim=0, **kwargs):
    if g.op_name == "unbind":
        dim = args[0] if args else dim
    elif len(args) > 1:
        dim = args[1]
    dim = _dim(dim, x.dim())
    sizes = [o.shape[dim] for o in out] if g.op_name != "unbind" else [1] * len(out)
    names = g.op("Split", g.v(x), g.ints(sizes), axis=dim, outputs=len(out))
    names = [names] if len(out) == 1 else names
    if g.op_name == "unbind":
        names = [g.op("Squeeze", n, g.ints([dim])) for n in names]
    return names


@_reg("cat", "concat", "concatenate")
def _cat(g, out, tensors, dim=0):
    dt = _np_dtype(out)
    parts = [g.cast(t, dt) for t in tensors if not (t.dim() == 1 and t.shape[0] == 0)]
    return g.op("Concat", *parts, axis=_dim(dim, out.dim()))


@_reg("stack")
def _stack(g, out, tensors, dim=0):
    dt = _np_dtype(out)
    d = _dim(dim, out.dim())
    return g.op("Concat", *[g.op("Unsqueeze", g.cast(t, dt), g.ints([d])) for t in tensors], axis=d)


# ---- reductions ----
def _axes(dim, n):
    if dim is None:
        return None
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return [_dim(d, n) for d in dims] if dims else None


def _reduction(onnx_op):
    def h(g, out, x, dim=None, keepdim=False, *, dtype=None):
        name = g.cast(x, _np_dtype(out))
        return g.reduce(onnx_op, name, _axes(dim, x.dim()), keepdim)
    return h


HANDLERS.update({"sum": _reduction("ReduceSum"), "mean": _reduction("ReduceMean"),
                 "amax": _reduction("ReduceMax"), "amin": _reduction("ReduceMin"), "prod": _reduction("ReduceProd")})


@_reg("any", "all")
def _any_all(g, out, x, dim=None, keepdim=False):
    # Reduce{Max,Min} on bool needs opset 20: reduce 0/1 as int32
    op = "ReduceMax" if g.op_name == "any" else "ReduceMin"
    r = g.reduce(op, g.op("Cast", g.v(x), to=_onnx_type(np.int32)), _axes(dim, x.dim()), keepdim)
    return g.op("Cast", r, to=_onnx_type(np.bool_))


@_reg("minitorch._C:_gru_cell")
def _gru_cell(g, out, xp, hh, h):
    """GRUCell's pointwise step (rnn.py _cell): r, z, n from the input and hidden projections."""
    third = xp.shape[1] // 3
    xr, xz, xn = g.op("Split", g.v(xp), g.ints([third] * 3), axis=1, outputs=3)
    hr, hz, hn = g.op("Split", g.v(hh), g.ints([third] * 3), axis=1, outputs=3)
    r = g.op("Sigmoid", g.op("Add", xr, hr))
    z = g.op("Sigmoid", g.op("Add", xz, hz))
    n = g.op("Tanh", g.op("Add", xn, g.op("Mul", r, hn)))
    return g.op("Add", n, g.op("Mul", z, g.op("Sub", g.v(h), n)))


@_reg("minitorch.nn._functional_attention:_safe_softmax")
def _safe_softmax(g, out, scores):
    """softmax over the last dim with the rows that are all -inf giving zeros, for every input (the traced
    function branches on the values)."""
    x = g.v(scores)
    dt = g.dtype(x)
    dead = g.op("Equal", g.reduce("ReduceMax", x, [scores.dim() - 1], True), g.scalar(-np.inf, dt))
    zero = g.scalar(0.0, dt)
    return g.op("Where", dead, zero, g.op("Softmax", g.op("Where", dead, zero, x), axis=-1))


@_reg("zeros_like", "ones_like", "full_like")
def _like(g, out, input, *args, **kwargs):
    """A constant of input's shape: ConstantOfShape(Shape(input)) follows its dynamic axes."""
    if out.numel() == 0:
        return g.op("Identity", g.const(_to_numpy(out)))
    value = _to_numpy(out).reshape(-1)[:1]
    return g.op("ConstantOfShape", g.op("Shape", g.v(input)), value=_tensor_attr(value))


def _tensor_attr(array):
    from onnx import numpy_helper
    return numpy_helper.from_array(np.array(array, order="C"))


@_reg("new_zeros", "new_ones", "new_full", "new_tensor")
def _new(g, out, self, *args, **kwargs):
    # only self's dtype and device are used: the result is a constant (its sizes are checked if dynamic)
    g.captured[id(out)] = out
    return g.v(out)


def _max_min(reduce_op, arg_op, pair_op):
    def h(g, out, x, dim=None, keepdim=False):
        if isinstance(dim, Tensor):  # max(a, b): elementwise
            dt = _np_dtype(out)
            return g.op(pair_op, g.cast(x, dt), g.cast(dim, dt))
        if dim is None:
            return g.reduce(reduce_op, g.v(x), None, False)
        d = _dim(dim, x.dim())
        return [g.reduce(reduce_op, g.v(x), [d], keepdim), g.op(arg_op, g.v(x), axis=d, keepdims=int(keepdim))]
    return h


HANDLERS.update({"max": _max_min("ReduceMax", "ArgMax", "Max"), "min": _max_min("ReduceMin", "ArgMin", "Min")})


def _arg(onnx_op):
    def h(g, out, x, dim=None, keepdim=False):
        name = g.v(x)
        if dim is None:
            name, dim, keepdim = g.op("Reshape", name, g.ints([-1])), 0, False
        return g.op(onnx_op, name, axis=_dim(dim, max(x.dim(), 1)), keepdims=int(keepdim))
    return h


HANDLERS.update({"argmax": _arg("ArgMax"), "argmin": _arg("ArgMin")})


def _var(std):
    # var(dim, unbiased, keepdim) and var(dim, *, correction, keepdim): the sum of squares / (n - correction)
    def h(g, out, x, dim=None, unbiased=None, keepdim=False, *, correction=None):
        if isinstance(dim, bool):  # x.var(False): unbiased
            dim, unbiased = None, dim
        corr = correction if correction is not None else (0 if unbiased is False else 1)
        axes = _axes(dim, x.dim())
        name = g.cast(x, _np_dtype(out))
        dt = g.dtype(name)
        # n from the graph's shape (not the traced one), so that dynamic axes stay dynamic
        sizes = g.op("Gather", g.op("Shape", name), g.ints(axes if axes is not None else list(range(x.dim()))))
        n = g.op("Cast", g.reduce("ReduceProd", sizes, None, False), to=_onnx_type(dt))
        n = g.op("Max", g.op("Sub", n, g.scalar(corr, dt)), g.scalar(0, dt))
        d = g.op("Sub", name, g.reduce("ReduceMean", name, axes, True))
        v = g.op("Div", g.reduce("ReduceSum", g.op("Mul", d, d), axes, keepdim), n)
        return g.op("Sqrt", v) if std else v
    return h


HANDLERS.update({"var": _var(False), "std": _var(True)})


@_reg("logsumexp")
def _logsumexp(g, out, x, dim, keepdim=False):
    # max + log(sum(exp(x - max))): no overflow; a row of -inf gives -inf as torch
    name = g.v(x)
    axes = _axes(dim, x.dim())
    m = g.reduce("ReduceMax", name, axes, True)
    m = g.op("Where", g.op("IsInf", m), g.scalar(0.0, g.dtype(name)), m)
    lse = g.op("Add", g.op("Log", g.reduce("ReduceSum", g.op("Exp", g.op("Sub", name, m)), axes, True)), m)
    return lse if keepdim else g.op("Squeeze", lse, g.ints(axes))


@_reg("tril", "triu")
def _trilu(g, out, x, diagonal=0):
    return g.op("Trilu", g.v(x), g.ints(diagonal), upper=int(g.op_name == "triu"))


@_reg("cumsum")
def _cumsum(g, out, x, dim, *, dtype=None):
    return g.op("CumSum", g.cast(x, _np_dtype(out)), g.ints(_dim(dim, x.dim())))


@_reg("gather")
def _gather(g, out, x, dim, index, *, sparse_grad=False):
    return g.op("GatherElements", g.v(x), g.v(index), axis=_dim(dim, x.dim()))


@_reg("flip")
def _flip(g, out, x, *dims):
    dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    axes = [_dim(d, x.dim()) for d in dims]
    if not axes:
        return g.op("Identity", g.v(x))
    big = np.iinfo(np.int64).min
    return g.op("Slice", g.v(x), g.ints([-1] * len(axes)), g.ints([big] * len(axes)), g.ints(axes),
                g.ints([-1] * len(axes)))


@_reg("topk")
def _topk(g, out, x, k, dim=-1, largest=True, sorted=True):
    _require(sorted, "topk", " with sorted=False (the order of its results is unspecified)")
    return g.op("TopK", g.v(x), g.ints([k]), axis=_dim(dim, x.dim()), largest=int(largest), sorted=1, outputs=2)


@_reg("index_select")
def _index_select(g, out, x, dim, index):
    return g.op("Gather", g.v(x), g.v(index), axis=_dim(dim, x.dim()))


# ---- layers (functional forms; the modules below reuse them) ----
@_reg("F.embedding")
def _embedding(g, out, input, weight, padding_idx=None, max_norm=None, *args, **kwargs):
    _require(max_norm is None, "embedding", " with max_norm (it renormalizes the weight in place)")
    return g.op("Gather", g.v(weight), g.v(input), axis=0)


@_reg("F.one_hot")
def _one_hot(g, out, tensor, num_classes=-1):
    if num_classes == -1:
        import warnings
        from ._trace import TracerWarning
        warnings.warn("one_hot without num_classes: the traced number of classes is a constant of the graph",
                      TracerWarning, stacklevel=3)
    depth = out.shape[-1]
    return g.op("OneHot", g.v(tensor), g.ints(depth), g.ints([0, 1]), axis=-1)


@_reg("F.layer_norm")
def _layer_norm(g, out, input, normalized_shape, weight=None, bias=None, eps=1e-5):
    k = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
    x = g.v(input)
    dt = g.dtype(x)
    shape = tuple(input.shape[input.dim() - k:])
    w = g.v(weight) if weight is not None else g.const(np.ones(shape, dt))
    b = g.v(bias) if bias is not None else g.const(np.zeros(shape, dt))
    if g.opset >= 17:
        return g.op("LayerNormalization", x, w, b, axis=-k, epsilon=float(eps))
    axes = list(range(input.dim() - k, input.dim()))
    d = g.op("Sub", x, g.reduce("ReduceMean", x, axes, True))
    var = g.reduce("ReduceMean", g.op("Mul", d, d), axes, True)
    y = g.op("Div", d, g.op("Sqrt", g.op("Add", var, g.scalar(eps, dt))))
    return g.op("Add", g.op("Mul", y, w), b)


@_reg("F.batch_norm")
def _batch_norm(g, out, input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
                eps=1e-5):
    _require(not training and running_mean is not None and running_var is not None, "batch_norm",
             " in training mode or without running statistics (the batch's own statistics)")
    x = g.v(input)
    dt = g.dtype(x)
    c = input.shape[1]
    w = g.v(weight) if weight is not None else g.const(np.ones(c, dt))
    b = g.v(bias) if bias is not None else g.const(np.zeros(c, dt))
    return g.op("BatchNormalization", x, w, b, g.v(running_mean), g.v(running_var), epsilon=float(eps))


def _conv_pads(padding, k, dilation, n):
    if padding == "valid":
        return [0] * 2 * n
    if padding == "same":  # torch puts the odd extra pad at the end
        total = [d * (kk - 1) for d, kk in zip(dilation, k)]
        return [t // 2 for t in total] + [t - t // 2 for t in total]
    p = _pair(padding, n)
    return p + p


def _conv(n):
    def h(g, out, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        k = list(weight.shape[2:])
        dil = _pair(dilation, n)
        inputs = [g.v(input), g.v(weight)] + ([g.v(bias)] if bias is not None else [])
        return g.op("Conv", *inputs, kernel_shape=k, strides=_pair(stride, n), dilations=dil,
                    pads=_conv_pads(padding, k, dil, n), group=int(groups))
    return h


HANDLERS.update({"F.conv1d": _conv(1), "F.conv2d": _conv(2), "F.conv3d": _conv(3)})


def _conv_transpose(n):
    def h(g, out, input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        p = _pair(padding, n)
        inputs = [g.v(input), g.v(weight)] + ([g.v(bias)] if bias is not None else [])
        return g.op("ConvTranspose", *inputs, kernel_shape=list(weight.shape[2:]), strides=_pair(stride, n),
                    pads=p + p, output_padding=_pair(output_padding, n), group=int(groups),
                    dilations=_pair(dilation, n))
    return h


for _n in (1, 2, 3):
    HANDLERS[f"F.conv_transpose{_n}d"] = _conv_transpose(_n)


def _pool_sizes(kernel_size, stride, padding, n):
    """Kernel, strides and padding as lists of n; torch's stride defaults to the kernel size."""
    k = _pair(kernel_size, n)
    return k, (k if stride is None or stride in ([], ()) else _pair(stride, n)), _pair(padding, n)


def _max_pool(n):
    def h(g, out, input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        _require(not return_indices, f"max_pool{n}d", " with return_indices=True")
        k, s, p = _pool_sizes(kernel_size, stride, padding, n)
        return g.op("MaxPool", g.v(input), kernel_shape=k, strides=s, pads=p + p, dilations=_pair(dilation, n),
                    ceil_mode=int(ceil_mode))
    return h


def _avg_pool(n):
    def h(g, out, input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
          divisor_override=None):
        _require(divisor_override is None, f"avg_pool{n}d", " with divisor_override")
        _require(not (ceil_mode and count_include_pad and any(_pair(padding, n))), f"avg_pool{n}d",
                 " with ceil_mode, count_include_pad and padding together")
        k, s, p = _pool_sizes(kernel_size, stride, padding, n)
        return g.op("AveragePool", g.v(input), kernel_shape=k, strides=s, pads=p + p, ceil_mode=int(ceil_mode),
                    count_include_pad=int(count_include_pad))
    return h


def _adaptive_pool(n, kind):
    def h(g, out, input, output_size, *args, **kwargs):
        _require(not (args and args[0]) and not kwargs.get("return_indices"), f"adaptive_max_pool{n}d",
                 " with return_indices=True")
        in_sz = list(input.shape[-n:])
        out_sz = list(out.shape[-n:])
        if all(o == 1 for o in out_sz):
            return g.op("Global" + kind + "Pool", g.v(input))
        _require(all(i % o == 0 for i, o in zip(in_sz, out_sz)), f"adaptive_{kind.lower()}_pool{n}d",
                 f" from size {in_sz} to {out_sz} (only sizes that divide evenly are one ONNX pool)")
        k = [i // o for i, o in zip(in_sz, out_sz)]
        return g.op(kind + "Pool", g.v(input), kernel_shape=k, strides=k)
    return h


for _n in (1, 2, 3):
    HANDLERS[f"F.max_pool{_n}d"] = _max_pool(_n)
    HANDLERS[f"F.avg_pool{_n}d"] = _avg_pool(_n)
    HANDLERS[f"F.adaptive_avg_pool{_n}d"] = _adaptive_pool(_n, "Average")
    HANDLERS[f"F.adaptive_max_pool{_n}d"] = _adaptive_pool(_n, "Max")


def _register_modules():
    from .. import nn

    def mod(cls):
        def deco(fn):
            MODULE_HANDLERS[cls] = fn
            return fn
        return deco

    @mod(nn.Linear)
    def _m_linear(g, out, m, input):
        return _linear(g, out, input, m.weight, m.bias)

    for n, cls in ((1, nn.Conv1d), (2, nn.Conv2d), (3, nn.Conv3d)):
        @mod(cls)
        def _m_conv(g, out, m, input, _n=n):
            _require(m.padding_mode == "zeros", type(m).__name__, f" with padding_mode={m.padding_mode!r}")
            return _conv(_n)(g, out, input, m.weight, m.bias, m.stride, m.padding, m.dilation, m.groups)

    for n, cls in ((1, nn.ConvTranspose1d), (2, nn.ConvTranspose2d), (3, nn.ConvTranspose3d)):
        @mod(cls)
        def _m_conv_transpose(g, out, m, input, output_size=None, _n=n):
            _require(m.padding_mode == "zeros", type(m).__name__, f" with padding_mode={m.padding_mode!r}")
            output_padding = m._output_padding(input, output_size, m.stride, m.padding, m.kernel_size, _n,
                                               m.dilation)
            return _conv_transpose(_n)(g, out, input, m.weight, m.bias, m.stride, m.padding, output_padding,
                                       m.groups, m.dilation)

    for cls in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d):
        @mod(cls)
        def _m_bn(g, out, m, input):
            use_batch_stats = m.training or m.running_mean is None
            return _batch_norm(g, out, input, m.running_mean, m.running_var, m.weight, m.bias, use_batch_stats,
                               m.momentum, m.eps)

    for n, cls in ((1, nn.MaxPool1d), (2, nn.MaxPool2d), (3, nn.MaxPool3d)):
        @mod(cls)
        def _m_maxpool(g, out, m, input, _n=n):
            return _max_pool(_n)(g, out, input, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode,
                                 m.return_indices)

    for n, cls in ((2, nn.AvgPool2d), (3, nn.AvgPool3d)):
        @mod(cls)
        def _m_avgpool(g, out, m, input, _n=n):
            return _avg_pool(_n)(g, out, input, m.kernel_size, m.stride, m.padding, m.ceil_mode,
                                 m.count_include_pad, m.divisor_override)

    for n, cls in ((1, nn.AdaptiveAvgPool1d), (2, nn.AdaptiveAvgPool2d), (3, nn.AdaptiveAvgPool3d)):
        @mod(cls)
        def _m_adaptive(g, out, m, input, _n=n):
            return _adaptive_pool(_n, "Average")(g, out, input, m.output_size)

    @mod(nn.Embedding)
    def _m_embedding(g, out, m, input):
        return _embedding(g, out, input, m.weight, m.padding_idx, m.max_norm)

    @mod(nn.LayerNorm)
    def _m_layer_norm(g, out, m, input):
        return _layer_norm(g, out, input, m.normalized_shape, m.weight, m.bias, m.eps)

    for cls in (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout):
        @mod(cls)
        def _m_dropout(g, out, m, input):
            _require(not m.training or m.p == 0, type(m).__name__, " in training mode (call model.eval())")
            return g.v(input)

    @mod(nn.Identity)
    def _m_identity(g, out, m, input, *args, **kwargs):
        return g.v(input)

    for cls in (nn.LSTM, nn.GRU, nn.RNN):
        @mod(cls)
        def _m_rnn(g, out, m, input, hx=None):
            from ._rnn import recurrent
            return recurrent(g, out, m, input, hx)


_register_modules()

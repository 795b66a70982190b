"""The tracer behind minitorch.onnx.export: run forward once while recording the ops it calls.

For the duration of one forward, every public Tensor method, every function of the minitorch and
minitorch.nn.functional namespaces (in each minitorch module that holds it) and Module.__call__ are
replaced by a wrapper. At depth 0 (a call from the user's code, not from inside another recorded op) a
call that takes a traced tensor runs as usual, then its symbolic function (minitorch/onnx/_symbolic.py)
appends ONNX nodes for it. A C op with no symbolic function raises UnsupportedOperatorError; a Python
function with none (a composite such as F.multi_head_attention_forward) is traced through, op by op,
and raises naming it if it reads tensor values or returns a tensor the tracer did not see. Library
modules with an ONNX counterpart (Linear, Conv, LSTM, BatchNorm, ...) are recorded whole at
Module.__call__.

A tensor reaching a recorded op is either traced (a graph input, a parameter or buffer, an op's output),
a constant made in forward without traced inputs (minitorch.ones(...), arange, ...) or a plain tensor
attribute of a module; anything else came from an op the tracer did not see, and export raises rather
than freezing it into the graph as a constant (which would be a wrong graph).
"""
import sys
import types
import warnings

import numpy as np

from .._tensor import Tensor

_active = [None]  # the _Graph being recorded, or None

# Tensor attributes that compute nothing to record (metadata, conversions to Python, autograd plumbing)
_PASS_METHODS = set("""
size dim ndimension numel nelement stride storage_offset is_contiguous is_floating_point element_size data_ptr
is_inference is_shared is_leaf item tolist numpy backward register_hook register_post_accumulate_grad_hook
retain_grad requires_grad_ share_memory_ is_cpu is_cuda get_device
__repr__ __str__ __format__ __hash__ __array__ __bool__ __int__ __float__ __index__ __len__ __iter__
__reversed__ __contains__ __deepcopy__ __reduce__ __reduce_ex__ __getstate__ __setstate__ __sizeof__
__init__ __new__ __getattribute__ __getattr__ __setattr__ __delattr__ __dir__ __class__ __init_subclass__
__subclasshook__ __array_priority__ __dlpack__ __dlpack_device__ __copy__ __cuda_array_interface__
""".split())
# Python values read from a traced tensor: the graph is then only right for the traced values
_DATA_DEPENDENT = {"item", "tolist", "numpy", "__bool__", "__int__", "__float__", "__index__", "__array__"}
_PASS_FUNCTIONS = {"is_tensor", "numel", "is_floating_point", "is_complex", "is_inference", "is_storage",
                   "is_nonzero", "broadcast_shapes", "typename", "result_type", "promote_types", "can_cast"}
_TENSOR_PROPERTIES = ("T", "mT", "data")  # attributes that return a new tensor
# random draws: recorded as constants they would freeze one draw into the graph
_RANDOM = set("""
rand randn randint randperm normal bernoulli multinomial poisson rand_like randn_like randint_like
uniform_ normal_ bernoulli_ random_ exponential_ geometric_ cauchy_ log_normal_
""".split())


class OnnxExporterError(RuntimeError):
    """Errors raised by minitorch.onnx (torch.onnx.errors.OnnxExporterError)."""


class UnsupportedOperatorError(OnnxExporterError):
    """An op the exporter has no ONNX translation for (torch.onnx.errors.UnsupportedOperatorError)."""

    def __init__(self, name, why=""):
        super().__init__(f"minitorch.onnx: exporting '{name}' is not supported{why}")


class TracerWarning(Warning):
    """The traced graph may not generalize to other inputs (torch.jit.TracerWarning)."""


def _tensors(obj):
    """The tensors in a (nested) tuple/list/dict, in order."""
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for o in obj:
            yield from _tensors(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors(o)


class _Graph:
    """The ONNX graph being recorded: nodes as plain tuples so that two traces can be compared."""

    def __init__(self, opset):
        self.opset = opset
        self.nodes = []        # (op_type, [input names], [output names], {attr: value})
        self.inits = {}        # initializer name -> numpy array (parameters, buffers, constants)
        self.roles = {}        # constant name -> ("shape", input name) for Reshape targets
        self.values = {}       # id(tensor) -> value name
        self.captured = {}     # id(tensor) -> tensor: constants made in forward, module tensor attributes
        self.info = {}         # value name -> (numpy dtype, shape)
        self.keep = []         # every tensor seen, so that no id() is reused during the trace
        self.frames = []       # the Python composites being traced through (outermost first)
        self.stale = {}        # id(tensor) -> the in-place op that changed its memory through another tensor
        self.depth = 0
        self.n = 0
        self.op_name = "?"     # the op being translated, for error messages

    # ---- values ----
    def bind(self, t, name):
        self.values[id(t)] = name
        self.keep.append(t)
        self.info[name] = (_np_dtype(t), tuple(t.shape))

    def is_traced(self, t):
        return id(t) in self.values

    def any_traced(self, args, kwargs):
        return any(id(t) in self.values or id(t) in self.stale for t in _tensors((args, kwargs)))

    def v(self, t):
        """The value name of tensor `t` as an op's input."""
        name = self.values.get(id(t))
        if name is not None:
            return name
        if id(t) in self.stale:
            raise UnsupportedOperatorError(self.stale[id(t)], " on a tensor that shares memory with a view that is "
                                                              "used afterwards")
        if id(t) in self.captured:
            name = self.const(_to_numpy(t), prefix="onnx::Constant")
            self.bind(t, name)
            return name
        raise OnnxExporterError(
            f"minitorch.onnx: a tensor of shape {list(t.shape)} used by '{self.op_name}' was made by an operation "
            "the exporter did not record (a direct minitorch._C call, a function outside minitorch's public "
            "namespaces, or a tensor held outside the model: register it as a buffer); exporting it as a "
            "constant could give a wrong graph")

    def wrote(self, t, name, traced):
        """In-place op `name` changed t's memory: other tensors that share it no longer match their ONNX value
        (captured constants are embedded again with their new values, traced ones raise if used); so does
        t itself after an untraced op (a constant changed in place)."""
        span = _span(t)
        for k in self.keep:
            if k is not t and id(k) in self.values and span is not None and _overlap(span, _span(k)):
                del self.values[id(k)]
                if id(k) not in self.captured:
                    self.stale[id(k)] = name
        if not traced:
            self.values.pop(id(t), None)

    def const(self, array, prefix="onnx::Constant", role=None):
        self.n += 1
        name = f"{prefix}_{self.n}"
        array = np.asarray(array)
        self.inits[name] = array
        self.info[name] = (array.dtype, array.shape)
        if role is not None:
            self.roles[name] = role
        return name

    def dtype(self, name):
        return self.info[name][0]

    def shape(self, name):
        return self.info[name][1]

    # ---- nodes ----
    def op(self, op_type, *inputs, outputs=1, **attrs):
        """Append a node; returns its output name (or a list of names when outputs > 1)."""
        names = []
        for _ in range(outputs):
            self.n += 1
            names.append(f"/{op_type}_{self.n}")
        self.nodes.append((op_type, list(inputs), names, attrs))
        return names[0] if outputs == 1 else names

    def ints(self, values):
        return self.const(np.asarray(values, dtype=np.int64))

    def index_ints(self, values):
        """Slice bounds: export may turn the ones that follow a dynamic axis into that axis' size."""
        return self.const(np.asarray(values, dtype=np.int64), role=("index",))

    def scalar(self, value, dtype):
        return self.const(np.asarray(value, dtype=dtype))

    def cast(self, x, dtype):
        """Value `x` (a tensor or a Python number) as a value of numpy dtype `dtype`."""
        if not isinstance(x, Tensor):
            return self.scalar(x, dtype)
        name = self.v(x)
        if self.dtype(name) == dtype:
            return name
        out = self.op("Cast", name, to=_onnx_type(dtype))
        self.info[out] = (np.dtype(dtype), self.shape(name))
        return out

    def reduce(self, op_type, x, axes, keepdims):
        """Reduce* over `axes` (None: all); since opset 18 (13 for ReduceSum) the axes are an input."""
        if axes is None:
            return self.op(op_type, x, keepdims=int(keepdims))
        if op_type == "ReduceSum" and self.opset >= 13 or self.opset >= 18:
            return self.op(op_type, x, self.ints(axes), keepdims=int(keepdims))
        return self.op(op_type, x, axes=list(axes), keepdims=int(keepdims))


_NP_OF = {"float32": np.float32, "float64": np.float64, "float16": np.float16, "int64": np.int64,
          "int32": np.int32, "int16": np.int16, "int8": np.int8, "uint8": np.uint8, "bool": np.bool_}


def _to_numpy(t):
    """A copy of tensor `t`'s values (on any device) as a NumPy array."""
    return np.array(t.detach().cpu().numpy(), order="C")


def _span(t):
    """The byte range [start, end) that tensor t's elements lie in, or None when it is empty."""
    if t.numel() == 0:
        return None
    start = t.data_ptr()
    return start, start + (sum((n - 1) * s for n, s in zip(t.shape, t.stride())) + 1) * t.element_size()


def _overlap(a, b):
    return b is not None and a[0] < b[1] and b[0] < a[1]


def _is_inplace(name):
    return name.endswith("_") and not name.startswith("__") or name.startswith("__i") or name == "__setitem__"


def _np_dtype(t):
    name = t.dtype.name if hasattr(t.dtype, "name") else str(t.dtype).replace("torch.", "")
    try:
        return np.dtype(_NP_OF[name])
    except KeyError:
        raise OnnxExporterError(f"minitorch.onnx: tensors of dtype {t.dtype} cannot be exported") from None


def _onnx_type(dtype):
    from onnx import helper
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


# ---- the wrappers ----
def _bind_outputs(g, out, names):
    if isinstance(out, Tensor):
        if names is None:
            raise OnnxExporterError(f"minitorch.onnx: internal error: no ONNX value for the output of '{g.op_name}'")
        g.bind(out, names)
    elif isinstance(out, (tuple, list)):
        for o, n in zip(out, names):
            _bind_outputs(g, o, n)


def _through(g, name, call, args, kwargs):
    """A Python function without a translation of its own: trace the ops it calls. Its result must be
    recorded, and it may not read tensor values (that would bake one path into the graph)."""
    g.frames.append(name)
    try:
        out = call(*args, **kwargs)
    except OnnxExporterError as e:
        if len(g.frames) > 1 or f"exporting '{name}'" in str(e):
            raise
        raise UnsupportedOperatorError(name, f" (inside it: {e})") from None
    finally:
        g.frames.pop()
    if any(id(t) not in g.values and id(t) not in g.captured for t in _tensors(out)):
        raise UnsupportedOperatorError(name, " (its result comes from an op the exporter does not record)")
    return out


def _record(name, call, args, kwargs, handler, python=False, owned=()):
    """Run one call; at depth 0 record it when a tensor it takes (or `owned`: a module's own parameters and
    buffers) is traced."""
    g = _active[0]
    if g is None or g.depth:
        return call(*args, **kwargs)
    if name in _RANDOM:
        raise UnsupportedOperatorError(name, " (random numbers: the graph would hold the traced draw)")
    traced = g.any_traced(args, kwargs) or g.any_traced(owned, {})
    if traced and handler is None and python:
        return _through(g, name, call, args, kwargs)
    g.depth += 1
    try:
        if traced and handler is None:
            raise UnsupportedOperatorError(name)
        out = call(*args, **kwargs)
        # in place: by name (relu_, __iadd__, __setitem__) or by an inplace=True flag (F.relu(x, inplace=True))
        inplace = args and isinstance(args[0], Tensor) and (
            _is_inplace(name) or out is args[0] and (kwargs.get("inplace") is True or args[-1] is True))
        if not traced:
            if inplace:
                g.wrote(args[0], name, False)
            for t in _tensors(out):  # made without traced inputs: a constant of the graph
                g.captured[id(t)] = t
                g.keep.append(t)
            return out
        g.op_name = name
        _bind_outputs(g, out, handler(g, out, *args, **kwargs))
        if inplace:
            g.wrote(args[0], name, True)
        return out
    finally:
        g.depth -= 1


def _wrap_function(name, fn, handlers):
    handler = handlers.get(name)
    python = isinstance(fn, types.FunctionType)

    def wrapper(*args, **kwargs):
        return _record(name, fn, args, kwargs, handler, python)

    wrapper.__wrapped__ = fn
    return wrapper


def _wrap_method(name, meth, handlers):
    handler = handlers.get("Tensor." + name, handlers.get(name))
    python = isinstance(meth, types.FunctionType)

    def wrapper(*args, **kwargs):
        return _record(name, meth, args, kwargs, handler, python)

    return wrapper


def _wrap_passing(name, meth):
    def wrapper(self, *args, **kwargs):
        g = _active[0]
        if g is not None and not g.depth and name in _DATA_DEPENDENT and g.is_traced(self):
            if g.frames:
                raise UnsupportedOperatorError(g.frames[0], f" (it reads tensor values ({name}), so its graph would "
                                                            "only hold for the traced values)")
            warnings.warn(f"Converting a tensor to a Python value ({name}) might cause the trace to be incorrect: "
                          "the value is recorded as a constant and will not change for other inputs",
                          TracerWarning, stacklevel=2)
        return meth(self, *args, **kwargs)

    return wrapper


class _Patches:
    """Attribute replacements, undone in reverse order."""

    def __init__(self):
        self.undo = []

    def set(self, obj, name, value):
        own = name in vars(obj)
        self.undo.append((obj, name, vars(obj)[name] if own else None, own))
        setattr(obj, name, value)

    def restore(self):
        for obj, name, old, own in reversed(self.undo):
            if own:
                setattr(obj, name, old)
            else:
                delattr(obj, name)
        self.undo.clear()


def _install(handlers, module_handlers):
    import minitorch
    from ..nn import functional as F
    from ..nn.modules.module import Module

    p = _Patches()
    try:
        for name in dir(Tensor):
            if name in _PASS_METHODS or name.startswith("_") and not name.startswith("__"):
                if name in _DATA_DEPENDENT:
                    p.set(Tensor, name, _wrap_passing(name, getattr(Tensor, name)))
                continue
            attr = getattr(Tensor, name)
            if name in _TENSOR_PROPERTIES:
                prop = _wrap_method(name, lambda self, _n=name, _a=attr: _a.__get__(self), handlers)
                p.set(Tensor, name, property(prop))
            elif callable(attr) and not isinstance(attr, type):
                p.set(Tensor, name, _wrap_method(name, attr, handlers))
        # every public function of minitorch and minitorch.nn.functional, in every module that holds it
        targets = {}
        for ns in (minitorch, F):
            for name, obj in vars(ns).items():
                if (not name.startswith("_") and callable(obj) and not isinstance(obj, type)
                        and type(obj).__name__ in ("function", "builtin_function_or_method", "method_descriptor")
                        and name not in _PASS_FUNCTIONS):
                    key = ("F." + name) if ns is F else name
                    targets[id(obj)] = (name, key, obj)
        for modname, mod in list(sys.modules.items()):
            if mod is None or not (modname == "minitorch" or modname.startswith("minitorch.")) \
                    or modname.startswith("minitorch.onnx"):
                continue
            for attr_name, obj in list(vars(mod).items()):
                hit = targets.get(id(obj))
                if hit is not None and attr_name == hit[0]:
                    name, key, fn = hit
                    handler = handlers.get(key, handlers.get(name))
                    p.set(mod, attr_name, _wrap_function(name, fn, {name: handler}))
        for key, handler in handlers.items():  # private library helpers, named "module:function"
            if ":" in key and key.split(":")[0] in sys.modules:
                modname, attr_name = key.split(":")
                mod = sys.modules[modname]
                p.set(mod, attr_name, _wrap_function(attr_name, getattr(mod, attr_name), {attr_name: handler}))
        orig_call = Module.__call__

        from ..nn.modules import module as _module

        def module_call(self, *args, **kwargs):
            handler = module_handlers.get(type(self))
            # a hook may change the module's result: then its forward (and the hooks) are traced op by op
            owned = list(self._parameters.values()) + list(self._buffers.values())
            if handler is None or self._forward_pre_hooks or self._forward_hooks or \
                    _module._global_forward_pre_hooks or _module._global_forward_hooks:
                out = orig_call(self, *args, **kwargs)
                g = _active[0]
                if g is not None and not g.depth and (g.any_traced(args, kwargs) or g.any_traced(owned, {})) and \
                        any(id(t) not in g.values and id(t) not in g.captured for t in _tensors(out)):
                    raise UnsupportedOperatorError(type(self).__name__, " (its forward computes with ops the "
                                                                        "exporter does not see)")
                return out
            return _record(type(self).__name__, lambda *a, **k: orig_call(self, *a, **k), args, kwargs,
                           lambda g, out, *a, **k: handler(g, out, self, *a, **k), owned=owned)

        p.set(Module, "__call__", module_call)
    except BaseException:
        p.restore()
        raise
    return p


def trace(model, args, kwargs, input_names, params, opset, export_params, handlers, module_handlers):
    """Run model(*args, **kwargs) once, recording its ops; returns (graph, outputs)."""
    g = _Graph(opset)
    g.export_params = export_params
    inputs = list(_tensors((args, kwargs)))
    for t, name in zip(inputs, input_names):
        g.bind(t, name)
    for name, t in params.items():
        if id(t) not in g.values:
            g.bind(t, name)
    for m in model.modules():  # plain tensor attributes (not parameters or buffers) are constants
        for v in vars(m).values():
            if isinstance(v, Tensor) and id(v) not in g.values:
                g.captured[id(v)] = v
    from ..autograd import no_grad
    from ..nn._fusion import composed_only
    patches = _install(handlers, module_handlers)
    _active[0] = g
    try:
        with no_grad(), composed_only():  # the ops of the composed forms are what gets recorded
            out = model(*args, **kwargs)
    finally:
        _active[0] = None
        patches.restore()
    return g, out

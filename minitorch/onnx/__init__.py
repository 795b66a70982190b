"""minitorch.onnx: export a model to ONNX, as torch.onnx.export's TorchScript (tracing) exporter does.

    minitorch.onnx.export(model, (x,), "model.onnx", input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})

The model's forward runs once on the example arguments while the ops it calls are recorded (see _trace.py):
Python control flow is traced as the path taken. Parameters and buffers become initializers. An op without
an ONNX translation raises UnsupportedOperatorError naming it, never a graph that computes something else.

dynamic_axes: forward runs a second time on the inputs grown along those axes (size n -> 2n + 1, the data
repeated); the traced sizes that change with them become graph computations (Reshape 0/-1, Shape -> Gather
for slice bounds and arange(n)), and any other constant that changes (x.new_zeros(x.size(0)), a split of
a dynamic axis, ...) raises. Writing the file needs the `onnx` package (pip install onnx); importing this
module does not.
"""
import enum
import inspect
import warnings

import numpy as np

from ._trace import OnnxExporterError, TracerWarning, UnsupportedOperatorError, _onnx_type, _tensors, _to_numpy

__all__ = ["export", "OnnxExporterError", "UnsupportedOperatorError", "TracerWarning", "TrainingMode",
           "is_in_onnx_export"]

# torch 2.13's TorchScript exporter: opset 20 by default (torch.onnx._constants.ONNX_DEFAULT_OPSET)
_DEFAULT_OPSET = 20
_MIN_OPSET, _MAX_OPSET = 13, 20  # 13: the axes of Squeeze/Unsqueeze/ReduceSum/Split are inputs


class TrainingMode(enum.IntEnum):
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def is_in_onnx_export():
    from ._trace import _active
    return _active[0] is not None


def _import_onnx():
    try:
        import onnx
    except ImportError as e:
        raise ModuleNotFoundError("minitorch.onnx.export needs the 'onnx' package: pip install onnx "
                                  "(and onnxruntime to run the exported model)", name="onnx") from e
    return onnx


def export(model, args=(), f=None, export_params=True, verbose=False, training=TrainingMode.EVAL,
           input_names=None, output_names=None, operator_export_type=None, opset_version=None,
           do_constant_folding=True, dynamic_axes=None, keep_initializers_as_inputs=None, custom_opsets=None,
           export_modules_as_functions=False, autograd_inlining=True, *, kwargs=None, dynamo=False,
           external_data=True, optimize=True, **unsupported):
    """Trace `model(*args)` and write it as an ONNX model to `f` (a path or a binary file object).

    Returns the onnx.ModelProto when `f` is None. Ops without an ONNX translation raise
    UnsupportedOperatorError naming the op. The parameters of torch's TorchScript exporter that concern
    its own internals (operator_export_type, custom_opsets, export_modules_as_functions, autograd_inlining)
    are accepted with their default values only; do_constant_folding is accepted (the tracer records
    ops on constants as constants already). torch 2.13's newer keywords `dynamo` (its default is True
    there), `external_data` and `optimize` are accepted: minitorch always traces as dynamo=False does."""
    onnx = _import_onnx()
    if unsupported:
        raise TypeError(f"minitorch.onnx.export() got unsupported arguments: {', '.join(sorted(unsupported))} "
                        "(the dynamo exporter's options are not available)")
    if custom_opsets or export_modules_as_functions:
        raise OnnxExporterError("minitorch.onnx: custom_opsets and export_modules_as_functions are not supported")
    opset = _DEFAULT_OPSET if opset_version is None else opset_version
    if not isinstance(opset, int) or not _MIN_OPSET <= opset <= _MAX_OPSET:
        raise ValueError(f"minitorch.onnx: unsupported ONNX opset version: {opset_version} "
                         f"(supported: {_MIN_OPSET} to {_MAX_OPSET})")
    from .. import Tensor
    if isinstance(args, Tensor):
        args = (args,)
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict):  # the legacy exporter's trailing dict of keyword arguments
        kwargs.update(args[-1])
        args = args[:-1]

    inputs = list(_tensors((args, kwargs)))
    names = _input_names(model, args, kwargs, inputs, input_names)
    params = _params(model)
    dyn = _dynamic_axes(dynamic_axes)

    modes = [(m, m.training) for m in model.modules()]
    if training == TrainingMode.EVAL:
        model.train(False)
    elif training == TrainingMode.TRAINING:
        model.train(True)
    try:
        g, out = _run(model, args, kwargs, names, params, opset, export_params)
        if any(n in dyn for n in names):
            args2, kwargs2 = _resized_inputs((args, kwargs), names, dyn)
            try:
                g2, _ = _run(model, args2, kwargs2, names, params, opset, export_params)
            except OnnxExporterError:
                raise
            except Exception as e:
                raise OnnxExporterError(
                    "minitorch.onnx: the model fails on inputs resized along their dynamic_axes "
                    f"({type(e).__name__}: {e}); are the dynamic_axes of all inputs declared?") from e
            _resolve_dynamic(g, g2, names, dyn)
    finally:
        for m, mode in modes:
            m.training = mode
    proto = _build(onnx, g, out, names, output_names, dyn, params, export_params, keep_initializers_as_inputs,
                   opset)
    if verbose:
        print(onnx.helper.printable_graph(proto.graph))
    if f is None:
        return proto
    if hasattr(f, "write"):
        f.write(proto.SerializeToString())
    else:
        onnx.save(proto, f)
    return None


def _run(model, args, kwargs, names, params, opset, export_params):
    from ._symbolic import HANDLERS, MODULE_HANDLERS
    from ._trace import trace
    return trace(model, args, kwargs, names, params, opset, export_params, HANDLERS, MODULE_HANDLERS)


def _input_names(model, args, kwargs, inputs, input_names):
    names = list(input_names or [])
    if len(names) > len(inputs):
        raise ValueError(f"minitorch.onnx: {len(names)} input_names for {len(inputs)} input tensors")
    defaults = []
    try:  # forward's parameter names, where each argument is one tensor
        params = list(inspect.signature(model.forward).parameters)
        if len(inputs) == len(args) + len(kwargs) and all(isinstance(a, type(inputs[0])) for a in args):
            defaults = params[:len(args)] + list(kwargs)
    except (TypeError, ValueError, IndexError):
        pass
    if len(defaults) != len(inputs):
        defaults = [f"input_{i}" for i in range(len(inputs))]
    names += [d if d not in names else f"input_{i}" for i, d in enumerate(defaults)][len(names):]
    if len(set(names)) != len(names):
        raise ValueError(f"minitorch.onnx: duplicate input names {names}")
    return names


def _params(model):
    params = {}
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        if t is not None and all(t is not p for p in params.values()):
            params[name] = t
    return params


def _dynamic_axes(dynamic_axes):
    """{name: {axis: dim name}}, from torch's two spellings ({name: {axis: name}} or {name: [axes]})."""
    out = {}
    for name, axes in (dynamic_axes or {}).items():
        if isinstance(axes, dict):
            out[name] = {int(a): str(n) for a, n in axes.items()}
        else:
            out[name] = {int(a): f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(axes)}
    return out


def _resized_inputs(obj, names, dyn):
    """The example inputs grown along their dynamic axes (size n -> 2n + 1, repeating the data, so that
    indices stay valid): the second trace tells which traced sizes follow those axes."""
    from .. import Tensor, from_numpy
    it = iter(names)

    def walk(o):
        if isinstance(o, Tensor):
            name = next(it)
            a = _to_numpy(o)
            for axis in dyn.get(name, {}):
                axis = axis % a.ndim
                a = np.take(a, np.arange(2 * a.shape[axis] + 1) % a.shape[axis], axis=axis)
            return from_numpy(np.ascontiguousarray(a)).to(o.device) if name in dyn else o
        if isinstance(o, (tuple, list)):
            return type(o)(walk(x) for x in o)
        if isinstance(o, dict):
            return {k: walk(v) for k, v in o.items()}
        return o

    return walk(obj)


def _dynamic_shape(s1, s2, in1, in2):
    """A Reshape target traced at two sizes of the dynamic axes, as ONNX's 0 (copy the input's dim) and -1."""
    out = []
    for i, (a, b) in enumerate(zip(s1, s2)):
        if a == b and a != 0:
            out.append(a)
        elif i < len(in1) and i < len(in2) and a == in1[i] and b == in2[i]:
            out.append(0)
        else:
            out.append(-1)
    if out.count(-1) > 1:
        raise OnnxExporterError(f"minitorch.onnx: a reshape to {list(s1)} depends on the dynamic axes in a way one "
                                "ONNX Reshape cannot express (several of its sizes change with them)")
    return np.asarray(out, dtype=np.int64)


def _resolve_dynamic(g, g2, input_names, dyn):
    """Check that the trace at other sizes of the dynamic axes is the same graph. Traced sizes that follow
    those axes become graph computations: Reshape targets 0/-1, slice bounds and arange(n) constants
    the size of the input's axis (Shape -> Gather) when n is that size in both traces. Any other traced
    size that follows them would be a wrong graph: raise."""
    def consumer(name):
        return next((n[0] for n in g.nodes if name in n[1]), "?")

    # (input, axis) of each dynamic axis, with its size in both traces
    sources = [(n, a % len(g.info[n][1]), g.info[n][1][a], g2.info[n][1][a]) for n in input_names
               for a in dyn.get(n, {})]
    front = []  # nodes computing sizes from the inputs' shapes: they go first

    def size_of(v1, v2, name, negated=False):
        """The size of the dynamic axis that is v1 in the first trace and v2 in the second, as a 1-d value."""
        hits = {(n, a) for n, a, s1, s2 in sources if (s1, s2) == (v1, v2)}
        if len({dyn[n].get(a, dyn[n].get(a - len(g.info[n][1]))) for n, a in hits}) != 1:
            if not negated:  # -t (x[:, -t:]): minus the size
                return emit("Neg", [size_of(-v1, -v2, name, True)])
            raise OnnxExporterError(
                f"minitorch.onnx: a constant used by '{consumer(name)}' depends on the size of a dynamic axis "
                "(a tensor made in forward from x.size(), or a size passed to an op) in a way the exporter "
                "cannot express; pass it as an input, or export without that dynamic axis")
        n, a = sorted(hits)[0]
        return emit("Gather", [emit("Shape", [n]), g.ints([a])], axis=0)

    def emit(op, inputs, out=None, **attrs):
        g.n += 1
        out = out or f"/dynamic/{op}_{g.n}"
        front.append((op, inputs, [out], attrs))
        return out

    if len(g.nodes) != len(g2.nodes):
        raise OnnxExporterError("minitorch.onnx: the model records different ops for other sizes of its dynamic "
                                "axes (shape-dependent Python control flow); export without dynamic_axes")
    for a, b in zip(g.nodes, g2.nodes):
        if a[:3] != b[:3]:
            raise OnnxExporterError(f"minitorch.onnx: the model records different ops ('{a[0]}' then '{b[0]}') for "
                                    "other sizes of its dynamic axes (shape-dependent Python control flow)")
        if a[3] != b[3]:
            raise OnnxExporterError(f"minitorch.onnx: the attributes of '{a[0]}' depend on the size of a dynamic "
                                    f"axis ({a[3]} vs {b[3]}); export it with static sizes")
    for name, a1 in list(g.inits.items()):
        a2 = g2.inits[name]
        if a1.shape == a2.shape and np.array_equal(a1, a2):
            continue
        role = g.roles.get(name)
        if role is not None and role[0] == "shape":
            g.inits[name] = _dynamic_shape(a1, a2, role[1], g2.roles[name][1])
        elif role is not None and role[0] == "index" and a1.shape == a2.shape:
            pieces = []
            for v1, v2 in zip(a1.tolist(), a2.tolist()):
                if v1 == v2:
                    pieces.append(g.ints([v1]))
                else:
                    pieces.append(size_of(v1, v2, name))
            del g.inits[name]
            emit("Concat", pieces, out=name, axis=0)
        elif a1.ndim == 1 and a2.ndim == 1 and np.array_equal(a1, np.arange(len(a1))) \
                and np.array_equal(a2, np.arange(len(a2))):  # arange(n) of a dynamic size
            limit = emit("Squeeze", [size_of(len(a1), len(a2), name, True), g.ints([0])])
            if a1.dtype != np.int64:
                limit = emit("Cast", [limit], to=_onnx_type(a1.dtype))
            del g.inits[name]
            emit("Range", [g.scalar(0, a1.dtype), limit, g.scalar(1, a1.dtype)], out=name)
        else:
            raise OnnxExporterError(
                f"minitorch.onnx: a constant of shape {list(a1.shape)} used by '{consumer(name)}' depends on the size "
                "of a dynamic axis (a tensor made in forward from x.size(), or a size passed to an op); pass it "
                "as an input, or export without that dynamic axis")
    g.nodes[:0] = front
    for name in g.info:  # the value shapes: a size that follows the dynamic axes is symbolic
        if name in g2.info and g.info[name][1] != g2.info[name][1]:
            s1, s2 = g.info[name][1], g2.info[name][1]
            g.info[name] = (g.info[name][0], tuple(a if a == b else None for a, b in zip(s1, s2)))


def _value_info(onnx, name, dtype, shape, dims=None):
    dims = {a % len(shape): n for a, n in (dims or {}).items()} if shape else {}
    shape = [dims.get(i, s) for i, s in enumerate(shape)]
    return onnx.helper.make_tensor_value_info(name, _onnx_type(dtype), shape)


def _build(onnx, g, out, input_names, output_names, dyn, params, export_params, keep_initializers_as_inputs, opset):
    from onnx import helper, numpy_helper
    nodes = [list(n) for n in g.nodes]
    outs = list(_tensors(out))
    if not outs:
        raise OnnxExporterError("minitorch.onnx: the model returns no tensor")
    out_names = list(output_names or [])
    if len(out_names) > len(outs):
        raise ValueError(f"minitorch.onnx: {len(out_names)} output_names for {len(outs)} outputs")
    out_names += [f"output_{i}" for i in range(len(out_names), len(outs))]
    for n in list(dyn):
        if n not in input_names and n not in out_names:
            warnings.warn(f"Provided key {n} for dynamic axes is not a valid input/output name")
    produced = {o for n in nodes for o in n[2]}
    graph_outputs, renamed = [], {}
    for t, final in zip(outs, out_names):
        name = g.values.get(id(t))
        if name is None:
            if id(t) not in g.captured:
                raise OnnxExporterError("minitorch.onnx: an output of the model was made by an operation the "
                                        "exporter did not record")
            g.depth += 1
            try:
                name = g.v(t)
            finally:
                g.depth -= 1
        info = g.info[name]
        if name in produced and name not in renamed and name not in input_names:
            renamed[name] = final
        else:
            nodes.append(["Identity", [name], [final], {}])
        graph_outputs.append(_value_info(onnx, final, info[0], info[1], dyn.get(final)))
    for n in nodes:
        n[1] = [renamed.get(x, x) for x in n[1]]
        n[2] = [renamed.get(x, x) for x in n[2]]
    used = {x for n in nodes for x in n[1]}
    graph_inputs = [_value_info(onnx, name, *g.info[name], dyn.get(name)) for name in input_names]
    inits = []
    for name, t in params.items():
        if name in used and name not in input_names:
            if export_params:
                inits.append(numpy_helper.from_array(_to_numpy(t), name))
                if keep_initializers_as_inputs:
                    graph_inputs.append(_value_info(onnx, name, *g.info[name]))
            else:
                graph_inputs.append(_value_info(onnx, name, *g.info[name]))
    for name, a in g.inits.items():
        if name in used:
            inits.append(numpy_helper.from_array(np.array(a, order="C"), name))
    onnx_nodes = [helper.make_node(op, ins, outs_, **attrs) for op, ins, outs_, attrs in nodes]
    graph = helper.make_graph(onnx_nodes, "main_graph", graph_inputs, graph_outputs, inits)
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="minitorch",
                              ir_version=helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(model)
    return model

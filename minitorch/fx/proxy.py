"""minitorch.fx.proxy (torch.fx.proxy): Proxy objects stand for values during symbolic tracing; each operation on
them appends a Node to the tracer's graph.

minitorch has no __torch_function__ protocol: a Proxy records the Python operators and method calls itself,
and calls of minitorch / minitorch.nn.functional functions are recorded by the Tracer, which patches those
namespaces while it traces (see _symbolic_trace.py)."""
import dis
import inspect
import operator
import sys
from bisect import bisect_left

from .graph import Graph, magic_methods, reflectable_magic_methods  # noqa: F401  (torch.fx.proxy has Graph)
from .node import Node, map_aggregate, map_arg  # noqa: F401

__all__ = ["TracerBase", "GraphAppendingTracer", "TraceError", "Proxy", "Attribute", "ParameterProxy"]

_base_types = (int, float, bool, complex, str, bytes, type(None), type(...))


class TraceError(ValueError):
    pass


class Scope:
    def __init__(self, module_path, module_type):
        self.module_path = module_path
        self.module_type = module_type


class TracerBase:
    """What a Proxy needs from its tracer: a graph, create_proxy / create_arg and the control-flow hooks."""

    graph = None
    trace_asserts = False  # assert statements on proxies raise TraceError, as torch's default
    check_mutable_operations = False

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = self.graph.create_node(kind, target, args, kwargs, name, type_expr)
        return node

    def proxy(self, node):
        return Proxy(node, self)

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, proxy_factory_fn=None):
        args_ = self.create_arg(args)
        kwargs_ = self.create_arg(kwargs)
        if not isinstance(args_, tuple):
            raise AssertionError(f"Expected args_ to be tuple, got {type(args_)}")
        if not isinstance(kwargs_, dict):
            raise AssertionError(f"Expected kwargs_ to be dict, got {type(kwargs_)}")
        node = self.create_node(kind, target, args_, kwargs_, name, type_expr)
        return self.proxy(node) if proxy_factory_fn is None else proxy_factory_fn(node)

    def create_arg(self, a):
        """Lower an argument seen during tracing into what a Node may hold (Nodes and plain constants)."""
        if isinstance(a, Proxy):
            return a.node
        if hasattr(a, "__fx_create_arg__"):
            return a.__fx_create_arg__(self)
        if isinstance(a, tuple):
            if hasattr(a, "_fields"):
                return type(a)(*[self.create_arg(elem) for elem in a])
            return tuple(self.create_arg(elem) for elem in a)
        if isinstance(a, list):
            return [self.create_arg(elem) for elem in a]
        if isinstance(a, dict):
            r = {}
            for k, v in a.items():
                if not isinstance(k, str):
                    k = self.create_arg(k)

                    def no_node(arg):
                        raise RuntimeError(f"Keys for dictionaries used as an argument cannot contain a Node. "
                                           f"Got key: {k}")

                    map_arg(k, no_node)
                r[k] = self.create_arg(v)
            return r
        if isinstance(a, slice):
            return slice(self.create_arg(a.start), self.create_arg(a.stop), self.create_arg(a.step))
        if isinstance(a, range):
            return range(self.create_arg(a.start), self.create_arg(a.stop), self.create_arg(a.step))
        if isinstance(a, Node):
            return a
        from .._types import device, dtype

        if isinstance(a, _base_types) or isinstance(a, (dtype, device)):
            return a
        import enum

        if isinstance(a, enum.Enum):
            return a
        raise NotImplementedError(f"argument of type: {type(a)}")

    def to_bool(self, obj):
        raise TraceError("symbolically traced variables cannot be used as inputs to control flow")

    def iter(self, obj):
        raise TraceError("Proxy object cannot be iterated. This can be attempted when the Proxy is used in a loop "
                         "or as a *args or **kwargs function argument. See the torch.fx docs on pytorch.org for a "
                         "more detailed explanation of what types of control flow can be traced, and check out the "
                         "Proxy docstring for help troubleshooting Proxy iteration errors")

    def keys(self, obj):
        return Attribute(obj, "keys")()


class GraphAppendingTracer(TracerBase):
    """The tracer of a Proxy made around a Node of an existing graph: operations append to that graph."""

    def __init__(self, graph):
        super().__init__()
        self.graph = graph
        self.scope = Scope("", None)
        self.module_stack = {}
        self.node_name_to_scope = {}


def _calling_instruction(frame):
    insts = list(dis.get_instructions(frame.f_code))
    if sys.version_info >= (3, 11):
        return insts, bisect_left(insts, frame.f_lasti, key=lambda x: x.offset)
    return insts, frame.f_lasti // 2


class Proxy:
    """A value during symbolic tracing (torch.fx.Proxy). `Proxy(node)` wraps a Node of an existing graph: the
    operations on it then append nodes to that graph (the way to write a transform with Python operators)."""

    def __init__(self, node, tracer=None):
        if tracer is None:
            tracer = GraphAppendingTracer(node.graph)
        self.tracer = tracer
        self.node = node

    def __repr__(self):
        return f"Proxy({self.node.name})"

    def __getattr__(self, k):
        # not added to the graph yet: a method call becomes one call_method node
        return Attribute(self, k)

    def __getstate__(self):
        return self.__dict__

    def __setstate__(self, d):
        self.__dict__ = d

    def __deepcopy__(self, memo):
        import copy

        new = Proxy.__new__(type(self))
        for k, v in self.__dict__.items():
            try:
                new.__dict__[k] = copy.deepcopy(v, memo)
            except Exception:
                new.__dict__[k] = copy.copy(v)
        return new

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", "__call__", (self,) + args, kwargs)

    def __iter__(self):
        # `a, b = proxy` unpacks into getitem nodes; other iteration cannot be traced
        calling_frame = inspect.currentframe().f_back
        insts, idx = _calling_instruction(calling_frame)
        inst = insts[idx]
        if inst.opname == "UNPACK_SEQUENCE":
            return (self[i] for i in range(inst.argval))
        return self.tracer.iter(self)

    def __abs__(self):
        return self.tracer.create_proxy("call_function", operator.abs, (self,), {})

    def __bool__(self):
        if self.tracer.trace_asserts:
            calling_frame = inspect.currentframe().f_back
            insts, cur = _calling_instruction(calling_frame)
            inst = insts[cur]
            if inst.opname in ("POP_JUMP_IF_TRUE", "POP_JUMP_FORWARD_IF_TRUE"):
                first = insts[cur + 1]
                if first.opname == "LOAD_ASSERTION_ERROR" or (first.opname == "LOAD_GLOBAL"
                                                             and first.argval == "AssertionError"):
                    from .node import _assert

                    self.tracer.create_proxy("call_function", _assert, (self, "Assertion failed"), {})
                    return True
        return self.tracer.to_bool(self)

    def keys(self):
        return self.tracer.keys(self)

    def __len__(self):
        raise RuntimeError("'len' is not supported in symbolic tracing by default. If you want this call to be "
                           "recorded, please call torch.fx.wrap('len') at module scope")


class Attribute(Proxy):
    """`proxy.attr`: a call_method node when called, else (lazily) a getattr call_function node."""

    def __init__(self, root, attr):
        self.root = root
        self.attr = attr
        self.tracer = root.tracer
        self._node = None

    @property
    def node(self):
        if self._node is None:
            self._node = self.tracer.create_proxy("call_function", getattr, (self.root, self.attr), {}).node
        return self._node

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", self.attr, (self.root,) + args, kwargs)


class ParameterProxy(Proxy):
    """A parameter's proxy: shape, size(), dim(), ndim, numel() answer from the parameter itself, so that tests
    on them do not stop tracing."""

    def __init__(self, tracer, node, name, param):
        super().__init__(node, tracer)
        self.param = param
        self.name = name

    def __repr__(self):
        return f"ParameterProxy({self.name})"

    @property
    def shape(self):
        return self.param.shape

    def size(self, *dim):
        return self.param.size(*dim)

    def dim(self):
        return self.param.dim()

    @property
    def ndim(self):
        return self.param.ndim

    def numel(self):
        return self.param.numel()

    def nelement(self):
        return self.param.nelement()


def _make_magic(method):
    def impl(*args, **kwargs):
        return args[0].tracer.create_proxy("call_function", getattr(operator, method), args, kwargs)

    impl.__name__ = method
    setattr(Proxy, f"__{method.strip('_')}__", impl)


def _make_reflectable(method):
    def impl(self, rhs):
        return self.tracer.create_proxy("call_function", getattr(operator, method), (rhs, self), {})

    impl.__name__ = f"__r{method.strip('_')}__"
    setattr(Proxy, impl.__name__, impl)


for _method in magic_methods:
    _make_magic(_method)
for _method in reflectable_magic_methods:
    _make_reflectable(_method)
del _method

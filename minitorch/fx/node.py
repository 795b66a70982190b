"""minitorch.fx.node (torch.fx.node): a Node is one operation of a Graph.

op is one of placeholder, get_attr, call_function, call_module, call_method, output; args/kwargs hold other
Nodes and constants. A node knows its users (the nodes reading it) and its input nodes, which the Graph's
rewriting methods keep up to date."""
import builtins
import types
from typing import Any, Callable, Union

Target = Union[Callable[..., Any], str]
Argument = Any  # None, numbers, str, slice, Node, and tuples / lists / dicts of those

_legal_ops = ("placeholder", "call_method", "call_module", "call_function", "get_attr", "output", "root")


def map_aggregate(a, fn):
    """Apply fn to each leaf of the nested tuples / lists / dicts / slices in a, keeping their shape."""
    if isinstance(a, tuple):
        t = tuple(map_aggregate(elem, fn) for elem in a)
        return type(a)(*t) if hasattr(a, "_fields") else t  # NamedTuples keep their type
    if isinstance(a, list):
        return [map_aggregate(elem, fn) for elem in a]
    if isinstance(a, dict):
        return {k: map_aggregate(v, fn) for k, v in a.items()}
    if isinstance(a, slice):
        return slice(map_aggregate(a.start, fn), map_aggregate(a.stop, fn), map_aggregate(a.step, fn))
    return fn(a)


def map_arg(a, fn):
    """Apply fn to each Node in the nested argument a (torch.fx.node.map_arg)."""
    if not callable(fn):
        raise AssertionError("torch.fx.map_arg(a, fn): fn must be a callable")
    return map_aggregate(a, lambda x: fn(x) if isinstance(x, Node) else x)


def _minitorch_type_name(obj):
    """`torch.Tensor` for minitorch.Tensor, `torch.nn.modules.linear.Linear` for minitorch's Linear: the name of
    a minitorch class as torch prints its own (None for other objects)."""
    module = getattr(obj, "__module__", None) or ""
    if not isinstance(obj, type) or not (module == "minitorch" or module.startswith("minitorch.")):
        return None
    import minitorch

    if getattr(minitorch, obj.__name__, None) is obj:
        return f"torch.{obj.__qualname__}"
    return "torch" + module[len("minitorch"):] + "." + obj.__qualname__


def _type_repr(obj):
    if isinstance(obj, type):
        mt = _minitorch_type_name(obj)
        if mt is not None:
            return mt
        return obj.__qualname__ if obj.__module__ == "builtins" else f"{obj.__module__}.{obj.__qualname__}"
    if obj is ...:
        return "..."
    if isinstance(obj, types.FunctionType):
        return obj.__name__
    return repr(obj)


def _get_qualified_name(func):
    """The dotted name torch.fx prints for a call_function target: `getattr`, `operator.add`, `torch.relu`,
    `torch.nn.functional.relu`, or module.qualname of a user function."""
    from ._symbolic_trace import _torch_qualified_name

    name = getattr(func, "__name__", None)
    if name is not None and getattr(builtins, name, None) is func:
        return name
    q = _torch_qualified_name(func)
    if q is not None:
        return q
    if name == "<lambda>":
        raise RuntimeError("Unable to represent lambda")
    module = getattr(func, "__module__", None) or "builtins"
    if module == "_operator":
        module = "operator"
    return f"{module}.{name}"


def _format_arg(arg, max_list_len=float("inf")):
    if isinstance(arg, list):
        items = ", ".join(_format_arg(a) for idx, a in enumerate(arg) if idx < max_list_len)
        maybe_len = "" if len(arg) < max_list_len + 1 else f", ...[total_len={len(arg)}]"
        return f"[{items}{maybe_len}]"
    if isinstance(arg, tuple):
        items = ", ".join(_format_arg(a) for idx, a in enumerate(arg) if idx < max_list_len)
        maybe_len = "" if len(arg) < max_list_len + 1 else f", ...[total_len={len(arg)}]"
        maybe_comma = "," if len(arg) == 1 else ""
        return f"({items}{maybe_comma}{maybe_len})"
    if isinstance(arg, dict):
        items_str = ", ".join(f"{k}: {_format_arg(v)}" for k, v in arg.items())
        return f"{{{items_str}}}"
    if isinstance(arg, Node):
        return "%" + str(arg)
    return str(arg)


class Node:
    """One operation of a Graph (torch.fx.Node). Build nodes with the Graph's methods, not directly."""

    def __init__(self, graph, name, op, target, args, kwargs, return_type=None):
        if op not in _legal_ops:
            raise AssertionError(f"Invalid op {op!r}: expected one of {_legal_ops}")
        if op in ("call_method", "call_module", "get_attr", "placeholder") and not isinstance(target, str):
            raise ValueError(f"Node [graph = {graph}, name = '{name}'] target {target} has type "
                             f"{type(target).__name__} but a str is expected")
        if op == "call_function" and not callable(target):
            raise ValueError(f"Node [graph = {graph}, name = '{name}'] target {target} has type "
                             f"{type(target).__name__} but a Callable is expected")
        self.graph = graph
        self.name = name
        self.op = op
        self.target = target
        self.type = return_type
        self._input_nodes = {}
        self.users = {}
        self._args = ()
        self._kwargs = {}
        self.__update_args_kwargs(args, kwargs)
        self._prev = self
        self._next = self
        self._erased = False
        self.meta = {}
        self._repr_fn = None

    # the doubly linked list of the graph
    @property
    def next(self):
        return self._next

    @property
    def prev(self):
        return self._prev

    def prepend(self, x):
        """Insert x before this node (x is moved if it is already in the graph)."""
        if x is self:
            raise AssertionError("Cannot prepend a node to itself")
        if self.graph is not x.graph:
            raise AssertionError("Attempting to move a Node into a different Graph")
        x._remove_from_list()
        p = self._prev
        p._next, x._prev = x, p
        x._next, self._prev = self, x

    def append(self, x):
        """Insert x after this node."""
        self._next.prepend(x)

    def _remove_from_list(self):
        # the node keeps its own links, so that an iteration standing on it (erased) goes on to the next one
        p, n = self._prev, self._next
        p._next, n._prev = n, p

    @property
    def args(self):
        return self._args

    @args.setter
    def args(self, a):
        self.__update_args_kwargs(a, self._kwargs)

    @property
    def kwargs(self):
        return self._kwargs

    @kwargs.setter
    def kwargs(self, k):
        self.__update_args_kwargs(self._args, k)

    @property
    def all_input_nodes(self):
        """The Nodes this node reads, in the order of its args and kwargs."""
        return list(self._input_nodes.keys())

    def update_arg(self, idx, arg):
        args = list(self.args)
        args[idx] = arg
        self.args = tuple(args)

    def insert_arg(self, idx, arg):
        self.args = self.args[:idx] + (arg,) + self.args[idx:]

    def update_kwarg(self, key, arg):
        self.kwargs = {**self.kwargs, key: arg}

    def __update_args_kwargs(self, new_args, new_kwargs):
        for old_use in self._input_nodes:
            old_use.users.pop(self)
        self._input_nodes = {}

        def collect(n):
            self._input_nodes.setdefault(n)
            return n

        self._args = map_arg(tuple(new_args), collect)
        self._kwargs = map_arg(dict(new_kwargs), collect)
        for new_use in self._input_nodes:
            new_use.users.setdefault(self)

    @property
    def stack_trace(self):
        return self.meta.get("stack_trace", None)

    @stack_trace.setter
    def stack_trace(self, trace):
        self.meta["stack_trace"] = trace

    def __repr__(self):
        if self._repr_fn:
            return self._repr_fn(self)
        return self.name

    @staticmethod
    def _pretty_print_target(target):
        if isinstance(target, str):
            return target
        name = getattr(target, "__name__", None)
        module = getattr(target, "__module__", None)
        if module == "builtins" and name is not None:
            return f"builtins.{name}"
        if module == "_operator" and name is not None:
            return f"operator.{name}"
        return _get_qualified_name(target)

    def format_node(self, placeholder_names=None, maybe_return_typename=None):
        """A line of print(graph): `%name : [num_users=N] = op[target=...](args = ..., kwargs = ...)`."""
        if self.op == "placeholder":
            arg_str = self.target
            arg_str += arg_str + f": {_type_repr(self.type)}" if self.type else ""
            if placeholder_names:
                placeholder_names.append(arg_str)
                return None
            maybe_typename = f"{_type_repr(self.type)} " if self.type else ""
            default_val = "(default=" + str(self.args[0]) + ")" if self.args else ""
            return (f"%{self.name} : {maybe_typename}[num_users={len(self.users)}] = "
                    f"{self.op}[target={self.target}]{default_val}")
        maybe_typename = f"{_type_repr(self.type)} " if self.type is not None else ""
        if self.op == "get_attr":
            return (f"%{self.name} : {maybe_typename}[num_users={len(self.users)}] = "
                    f"{self.op}[target={self._pretty_print_target(self.target)}]")
        if self.op == "output":
            if self.type and maybe_return_typename:
                maybe_return_typename[0] = f" -> {_type_repr(self.type)}"
            return f"return {self.args[0]}"
        return (f"%{self.name} : {maybe_typename}[num_users={len(self.users)}] = "
                f"{self.op}[target={self._pretty_print_target(self.target)}]("
                f"args = {_format_arg(self.args)}, kwargs = {_format_arg(self.kwargs)})")

    def replace_all_uses_with(self, replace_with, delete_user_cb=lambda user: True, *, propagate_meta=False):
        """Make every user of this node read replace_with instead; returns the users changed."""
        if propagate_meta:
            if len(replace_with.meta) != 0:
                raise AssertionError("Called node.replace_all_uses_with(replace_with, propagate_meta=True), "
                                     "but replace_with already has .meta keys")
            replace_with.meta.update(self.meta)
        result = []
        for use_node in list(self.users):
            if not delete_user_cb(use_node):
                continue
            result.append(use_node)
            use_node.replace_input_with(self, replace_with)
        return result

    def replace_input_with(self, old_input, new_input):
        """Replace the input old_input of this node with new_input."""
        m = lambda n: new_input if n is old_input else n  # noqa: E731
        self.__update_args_kwargs(map_arg(self._args, m), map_arg(self._kwargs, m))

    def is_impure(self):
        """placeholder and output nodes, asserts and modules marked _is_impure must not be removed as dead code
        (as in torch, a call_method node, in-place or not, may be)."""
        if self.op in ("placeholder", "output"):
            return True
        if self.op == "call_function":
            return self.target in _side_effectful_functions
        if self.op == "call_module":
            mod = self.graph.owning_module
            if mod is not None:
                try:
                    return getattr(mod.get_submodule(self.target), "_is_impure", False)
                except AttributeError:
                    return False
        return False

    def __getstate__(self):
        return dict(self.__dict__)


def _assert_is_none(value, msg):
    assert value is None, msg


def _assert(condition, message):
    """torch._assert: what a concrete_args specialization records."""
    assert condition, message


_side_effectful_functions = {_assert, _assert_is_none}

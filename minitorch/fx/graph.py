"""minitorch.fx.graph (torch.fx.Graph): a doubly linked list of Nodes, its rewriting methods and the Python code
generated from it. print(graph) and the generated code follow torch.fx's format, with `torch.` names (the
generated code runs with `torch` bound to minitorch)."""
import builtins
import copy
import inspect
import keyword
import math
import re
import warnings

from .node import Node, _get_qualified_name, _minitorch_type_name, _type_repr, map_arg

_illegal_names = {k: object() for k in keyword.kwlist}
_illegal_names.update(builtins.__dict__)  # a name must not shadow a builtin (but `getattr` may be getattr)

_snake_case_sub = re.compile(r"(?<=[a-z])([A-Z])").sub
_illegal_char_regex = re.compile("[^0-9a-zA-Z_]+")
_name_regex = re.compile(r"^([a-zA-Z_][0-9a-zA-Z_]*?)(?:_(\d+))?$")


def _snake_case(s):
    return _snake_case_sub(r"_\1", s).lower()


def _is_magic(x):
    return x.startswith("__") and x.endswith("__")


class _Namespace:
    """Unique names for objects (torch's naming: `add`, `add_1`, ...; `sum` becomes `sum_1`, never a builtin)."""

    def __init__(self):
        self._obj_to_name = {}
        self._used_names = set()
        self._base_count = {}

    def create_name(self, candidate, obj):
        if obj is not None and obj in self._obj_to_name:
            return self._obj_to_name[obj]
        match = _name_regex.match(candidate)
        if match is None:
            candidate = _illegal_char_regex.sub("_", candidate)
            if not candidate:
                candidate = "_unnamed"
            if candidate[0].isdigit():
                candidate = f"_{candidate}"
            match = _name_regex.match(candidate)
        base, num = match.group(1, 2)
        if num is None or candidate in self._used_names:
            num = self._base_count.get(base, 0)
            if _illegal_names.get(candidate, obj) is not obj:
                num += 1
                candidate = f"{base}_{num}"
        else:
            num = int(num)
        while candidate in self._used_names:
            num += 1
            candidate = f"{base}_{num}"
        self._used_names.add(candidate)
        self._base_count[base] = num
        if obj is not None:
            self._obj_to_name[obj] = candidate
        return candidate

    def associate_name_with_obj(self, name, obj):
        self._obj_to_name.setdefault(obj, name)

    def _rename_object(self, obj, name):
        self._obj_to_name[obj] = name
        self._used_names.add(name)


class _node_list:
    def __init__(self, graph, direction="_next"):
        self.graph = graph
        self.direction = direction

    def __len__(self):
        return self.graph._len

    def __iter__(self):
        root = self.graph._root
        cur = getattr(root, self.direction)
        while cur is not root:
            if not cur._erased:
                yield cur
            cur = getattr(cur, self.direction)

    def __reversed__(self):
        return _node_list(self.graph, "_next" if self.direction == "_prev" else "_prev")


class _InsertPoint:
    def __init__(self, graph, new_insert):
        self.graph = graph
        self.orig_insert, graph._insert = graph._insert, new_insert

    def __enter__(self):
        pass

    def __exit__(self, type, value, tb):
        self.graph._insert = self.orig_insert


reflectable_magic_methods = {
    "add": "{} + {}", "sub": "{} - {}", "mul": "{} * {}", "floordiv": "{} // {}", "truediv": "{} / {}",
    "div": "{} / {}", "mod": "{} % {}", "pow": "{} ** {}", "lshift": "{} << {}", "rshift": "{} >> {}",
    "and_": "{} & {}", "or_": "{} | {}", "xor": "{} ^ {}", "getitem": "{}[{}]", "matmul": "{} @ {}",
}
magic_methods = {
    "eq": "{} == {}", "ne": "{} != {}", "lt": "{} < {}", "gt": "{} > {}", "le": "{} <= {}", "ge": "{} >= {}",
    "pos": "+{}", "neg": "-{}", "invert": "~{}", **reflectable_magic_methods,
}
inplace_methods = {
    "iadd": "{} += {}", "iand": "{} &= {}", "ifloordiv": "{} //= {}", "ilshift": "{} <<= {}", "imod": "{} %= {}",
    "imul": "{} *= {}", "imatmul": "{} @= {}", "ior": "{} |= {}", "ipow": "{} **= {}", "irshift": "{} >>= {}",
    "isub": "{} -= {}", "itruediv": "{} /= {}", "ixor": "{} ^= {}", "setitem": "{}[{}] = {}",
}


def _format_target(base, target):
    r = base
    for e in target.split("."):
        r = f"{r}.{e}" if e.isidentifier() else f'getattr({r}, "{e}")'
    return r


_dtype_abbrs = {f"torch.{k}": v for k, v in dict(
    bfloat16="bf16", float64="f64", float32="f32", float16="f16", complex64="c64", complex128="c128", int8="i8",
    int16="i16", int32="i32", int64="i64", bool="b8", uint8="u8").items()}


def _parse_stack_trace(stack_trace):
    """`File: <file>:<line> in <function>, code: <line of code>` of the innermost frame of a stack trace."""
    if stack_trace is None:
        return None
    pattern = re.compile(r"^File \"(.+)\", line (\d+), in (.+)$")
    lines = stack_trace.strip().split("\n")
    for idx in range(len(lines) - 2, -1, -1):
        matches = pattern.match(lines[idx].strip())
        if matches:
            return f"File: {matches.group(1)}:{matches.group(2)} in {matches.group(3)}, code: {lines[idx + 1].strip()}"
    return None


class PythonCode:
    """The source of the generated forward and the globals it runs with."""

    def __init__(self, src, globals):
        self.src = src
        self.globals = globals


def _torch_globals():
    from ._symbolic_trace import _torch_namespace

    from .._types import device

    # torch's "custom builtins" of generated code: repr(device) is `device(type='cpu')`
    return {"torch": _torch_namespace(), "inf": math.inf, "nan": math.nan, "NoneType": type(None), "device": device}


def _is_from_torch(obj):
    from ._symbolic_trace import _torch_qualified_name

    return _torch_qualified_name(obj) is not None or _minitorch_type_name(obj) is not None


class Graph:
    """The IR of torch.fx: Nodes in execution order, ending with one output node."""

    def __init__(self, owning_module=None, tracer_cls=None, tracer_extras=None):
        self._root = Node(self, "", "root", "", (), {})
        self._used_names = {}
        self._insert = self._root.prepend
        self._len = 0
        self._graph_namespace = _Namespace()
        self._owning_module = owning_module
        self._tracer_cls = tracer_cls
        self._tracer_extras = tracer_extras
        self._co_fields = {}

    @property
    def owning_module(self):
        return self._owning_module

    @owning_module.setter
    def owning_module(self, mod):
        self._owning_module = mod

    @property
    def nodes(self):
        return _node_list(self)

    def find_nodes(self, *, op, target=None, sort=True):
        return [n for n in self.nodes if n.op == op and (target is None or n.target == target)]

    def graph_copy(self, g, val_map, return_output_node=False):
        """Copy the nodes of g into this graph (val_map maps g's nodes to ours); returns the copied output value."""
        for node in g.nodes:
            if node in val_map:
                continue
            if node.op == "output":
                rv = map_arg(node.args[0], lambda n: val_map[n])
                return (rv, node) if return_output_node else rv
            val_map[node] = self.node_copy(node, lambda n: val_map[n])
        return None

    def __deepcopy__(self, memo=None):
        memo = memo if memo else {}
        g = Graph(tracer_cls=self._tracer_cls)
        output_vals = g.graph_copy(self, val_map=memo, return_output_node=True)
        if output_vals is not None:
            output_val, old_output_node = output_vals
            new_output_node = g.output(output_val, type_expr=getattr(old_output_node, "type", None))
            new_output_node.meta = copy.copy(old_output_node.meta)
        return g

    def create_node(self, op, target, args=None, kwargs=None, name=None, type_expr=None):
        """Create a Node at the current insert point (see inserting_before / inserting_after)."""
        args = () if not args else args
        kwargs = {} if not kwargs else kwargs
        if not isinstance(args, tuple):
            raise AssertionError(f"args must be a tuple, got {type(args)}")
        if not isinstance(kwargs, dict):
            raise AssertionError(f"kwargs must be a dict, got {type(kwargs)}")
        candidate = name if name is not None else self._target_to_str(target)
        name = self._graph_namespace.create_name(candidate, None)
        n = Node(self, name, op, target, args, kwargs, type_expr)
        self._graph_namespace.associate_name_with_obj(name, n)
        self._insert(n)
        self._len += 1
        return n

    def erase_node(self, to_erase):
        """Remove a node that has no users left."""
        if len(to_erase.users) > 0:
            raise RuntimeError(f"Tried to erase Node {to_erase} but it still had {len(to_erase.users)} "
                               f"users in the graph: {to_erase.users}!")
        if to_erase.graph is not self:
            raise RuntimeError(f"Attempting to remove {to_erase} from wrong graph!")
        if to_erase._erased:
            warnings.warn(f"erase_node({to_erase}) on an already erased node")
            return
        to_erase._remove_from_list()
        to_erase._erased = True
        self._len -= 1
        # the erased node no longer uses its inputs
        to_erase.args = map_arg(to_erase.args, lambda n: None)
        to_erase.kwargs = map_arg(to_erase.kwargs, lambda n: None)

    def inserting_before(self, n=None):
        """Context manager (or plain call) that makes create_node insert before n (at the start when None)."""
        if n is None:
            return self.inserting_after(self._root)
        if n.graph is not self:
            raise AssertionError("Node to insert before is not in graph.")
        return _InsertPoint(self, n.prepend)

    def inserting_after(self, n=None):
        """Context manager (or plain call) that makes create_node insert after n (at the end when None)."""
        if n is None:
            return self.inserting_before(self._root)
        if n.graph is not self:
            raise AssertionError("Node to insert after is not in graph.")
        return _InsertPoint(self, n.append)

    def placeholder(self, name, type_expr=None, default_value=inspect.Signature.empty):
        args = () if default_value is inspect.Signature.empty else (default_value,)
        return self.create_node("placeholder", name, args=args, type_expr=type_expr)

    def get_attr(self, qualified_name, type_expr=None):
        mod = self.owning_module
        if mod is not None and not _has_attr_path(mod, qualified_name):
            warnings.warn("Attempted to insert a get_attr Node with no underlying reference in the owning "
                          "GraphModule! Call GraphModule.add_submodule to add the necessary submodule, "
                          "GraphModule.add_parameter to add the necessary Parameter, or "
                          "nn.Module.register_buffer to add the necessary buffer", stacklevel=2)
        return self.create_node("get_attr", qualified_name, type_expr=type_expr)

    def call_module(self, module_name, args=None, kwargs=None, type_expr=None):
        mod = self.owning_module
        if mod is not None and not _has_attr_path(mod, module_name):
            warnings.warn("Attempted to insert a call_module Node with no underlying reference in the owning "
                          "GraphModule! Call GraphModule.add_submodule to add the necessary submodule")
        return self.create_node("call_module", module_name, args, kwargs, type_expr=type_expr)

    def call_method(self, method_name, args=None, kwargs=None, type_expr=None):
        return self.create_node("call_method", method_name, args, kwargs, type_expr=type_expr)

    def call_function(self, the_function, args=None, kwargs=None, type_expr=None, name=None):
        return self.create_node("call_function", the_function, args, kwargs, name=name, type_expr=type_expr)

    def node_copy(self, node, arg_transform=lambda x: x):
        """Copy node (from another graph) into this one, its inputs mapped through arg_transform."""
        args = map_arg(node.args, arg_transform)
        kwargs = map_arg(node.kwargs, arg_transform)
        result_node = self.create_node(node.op, node.target, args, kwargs, node.name, node.type)
        result_node.meta = copy.copy(node.meta)
        return result_node

    def output(self, result, type_expr=None):
        return self.create_node(op="output", target="output", args=(result,), type_expr=type_expr)

    def _target_to_str(self, target):
        if callable(target):
            from ._symbolic_trace import _torch_qualified_name

            q = _torch_qualified_name(target)  # minitorch's function objects may be named otherwise than torch's
            op = q.rsplit(".", 1)[1] if q is not None else target.__name__
        else:
            op = target
            if _is_magic(op):
                op = op[2:-2]
        return _snake_case(op)

    def lint(self):
        """Check that nodes belong to this graph, come in topological order, and that their targets exist in the
        owning module."""
        seen_names = set()
        seen_values = set()
        for node in self.nodes:
            if node.op not in ("placeholder", "call_method", "call_module", "call_function", "get_attr", "output"):
                raise RuntimeError(f"Node {node} had unknown opcode {node.op}!")
            if node.graph is not self:
                raise RuntimeError(f"Node '{node}' does not belong to this Graph!")
            for arg in node._input_nodes:
                if arg.graph is not self:
                    raise RuntimeError(f"Argument '{arg}' of Node '{node}' does not belong to this Graph, but was "
                                       "used as an argument! If you are copying nodes from another graph, make "
                                       "sure to use ``arg_transform`` on node_copy() to remap values\n"
                                       f"{self}")
                if arg not in seen_values:
                    raise RuntimeError(f"Argument '{arg}' of Node '{node}' was used before it has been defined! "
                                       "Please check that Nodes in the graph are topologically ordered\n"
                                       f"{self}")
            if node.name in seen_names:
                raise RuntimeError(f"Node redefined name {node.name}!")
            seen_names.add(node.name)
            seen_values.add(node)
        mod = self.owning_module
        if mod is not None:
            for node in self.nodes:
                if node.op in ("get_attr", "call_module"):
                    if not _has_attr_path(mod, node.target):
                        raise RuntimeError(f"Node {node} target {node.target} does not reference an "
                                           f"nn.Module" if node.op == "call_module" else
                                           f"Node {node} target {node.target} references nonexistent attribute "
                                           f"{node.target.split('.')[-1]} of {node.target}")

    def eliminate_dead_code(self, is_impure_node=None):
        """Remove the nodes without users (in reverse order, so chains go); impure ones stay. True if changed."""
        self.lint()
        changed = False
        for node in reversed(self.nodes):
            impure = is_impure_node(node) if is_impure_node is not None else node.is_impure()
            if not impure and len(node.users) == 0:
                self.erase_node(node)
                changed = True
        return changed

    # ------------------------------------------------------------------ printing and code
    def __str__(self):
        placeholder_names = []
        maybe_return_typename = [""]
        node_strs = [node.format_node(placeholder_names) for node in self.nodes]
        s = f"graph({', '.join(placeholder_names)}){maybe_return_typename[0]}:"
        for node_str in node_strs:
            if node_str:
                s += "\n    " + node_str
        return s

    def print_tabular(self):
        """Print the nodes as a table (needs the `tabulate` package, as torch)."""
        try:
            from tabulate import tabulate
        except ImportError:
            print("`print_tabular` relies on the library `tabulate`, which could not be found on this machine. "
                  "Run `pip install tabulate` to install the library.")
            raise
        node_specs = [[n.op, n.name, n.target, n.args, n.kwargs] for n in self.nodes]
        print(tabulate(node_specs, headers=["opcode", "name", "target", "args", "kwargs"]))

    def python_code(self, root_module, *, verbose=False):
        """The source of `forward(self, ...)` for this graph and its globals, as torch.fx generates it: each node a
        line, values freed (`x = None`) after their last use."""
        namespace = _Namespace()
        free_vars = []
        body = []
        globals_ = _torch_globals()
        for name in globals_:
            namespace.create_name(name, globals_[name])
        for node in self.nodes:
            namespace.create_name(node.name, node)

        def add_global(name_hint, obj):
            if _minitorch_type_name(obj) is not None:
                return _minitorch_type_name(obj)
            if _is_from_torch(obj):
                return _get_qualified_name(obj)
            global_name = namespace.create_name(name_hint, obj)
            if global_name in globals_:
                return global_name
            globals_[global_name] = obj
            return global_name

        def type_repr(o):
            return add_global(_type_repr(o), o)

        def _get_repr(arg):
            from .._tensor import Tensor

            if isinstance(arg, Node):
                return repr(arg)
            if isinstance(arg, tuple) and hasattr(arg, "_fields"):
                global_name = add_global(type(arg).__name__, type(arg))
                return f"{global_name}{repr(tuple(arg))}"
            if isinstance(arg, Tensor):
                return f"torch.Tensor(size={list(arg.size())}, dtype={str(arg.dtype).split('.')[-1]})"
            if isinstance(arg, tuple):
                if len(arg) == 1:
                    return f"({_get_repr(arg[0])},)"
                return "(" + ", ".join(_get_repr(a) for a in arg) + ")"
            if isinstance(arg, list):
                return "[" + ", ".join(_get_repr(a) for a in arg) + "]"
            if isinstance(arg, slice):
                return f"slice({_get_repr(arg.start)}, {_get_repr(arg.stop)}, {_get_repr(arg.step)})"
            return repr(arg)

        def _format_args(args, kwargs):
            res = [_get_repr(a) for a in args]
            res.extend([f"{k} = {_get_repr(v)}" for k, v in kwargs.items()])
            return ", ".join(res)

        # free each value after its last use, as torch does (`x = None`)
        nodes = list(self.nodes)
        node_to_last_use = {}
        user_to_last_uses = {}
        for node in reversed(nodes):
            for input_node in node._input_nodes:
                if input_node not in node_to_last_use:
                    node_to_last_use[input_node] = node
                    user_to_last_uses.setdefault(node, []).append(input_node)

        def delete_unused_values(user):
            if user.op == "placeholder":
                return
            if user.op == "output":
                body.append("\n")
                return
            nodes_to_delete = list(user_to_last_uses.get(user, []))
            if len(user.users) == 0:
                nodes_to_delete.append(user)
            if nodes_to_delete:
                body.append(f";  {' = '.join([repr(n) for n in nodes_to_delete] + ['None'])}\n")
            else:
                body.append("\n")

        wrapped_fns = {}
        maybe_return_annotation = [""]

        def emit_node(node):
            maybe_type_annotation = "" if node.type is None else f" : {type_repr(node.type)}"
            meta = node.meta.get("tensor_meta") if verbose else None
            if meta is not None and hasattr(meta, "dtype") and hasattr(meta, "shape"):
                maybe_type_annotation = f': "{_dtype_abbrs.get(str(meta.dtype), str(meta.dtype))}' \
                                        f'[{", ".join(str(d) for d in meta.shape)}]"'
            if node.op == "placeholder":
                maybe_default_arg = "" if not node.args else f" = {_get_repr(node.args[0])}"
                free_vars.append(f"{node.target}{maybe_type_annotation}{maybe_default_arg}")
                raw_name = node.target.replace("*", "")
                if raw_name != repr(node):
                    body.append(f"{repr(node)} = {raw_name}\n")
                return
            if node.op == "call_method":
                body.append(f"{repr(node)}{maybe_type_annotation} = "
                            f"{_format_target(_get_repr(node.args[0]), node.target)}"
                            f"({_format_args(node.args[1:], node.kwargs)})")
                return
            if node.op == "call_function":
                name = getattr(node.target, "__name__", "")
                if getattr(node.target, "__module__", "") == "_operator" and name in magic_methods:
                    body.append(f"{repr(node)}{maybe_type_annotation} = "
                                f"{magic_methods[name].format(*(_get_repr(a) for a in node.args))}")
                    return
                if getattr(node.target, "__module__", "") == "_operator" and name in inplace_methods:
                    body.append(f"{inplace_methods[name].format(*(_get_repr(a) for a in node.args))};  "
                                f"{repr(node)}{maybe_type_annotation} = {_get_repr(node.args[0])}")
                    return
                qualified_name = _get_qualified_name(node.target)
                global_name = add_global(qualified_name, node.target)
                if (global_name == "getattr" and len(node.args) == 2 and isinstance(node.args[1], str)
                        and node.args[1].isidentifier()):
                    body.append(f"{repr(node)}{maybe_type_annotation} = "
                                f"{_format_target(_get_repr(node.args[0]), node.args[1])}")
                    return
                body.append(f"{repr(node)}{maybe_type_annotation} = "
                            f"{global_name}({_format_args(node.args, node.kwargs)})")
                if node.meta.get("is_wrapped", False):
                    wrapped_fns.setdefault(global_name)
                return
            if node.op == "call_module":
                body.append(f"{repr(node)}{maybe_type_annotation} = "
                            f"{_format_target(root_module, node.target)}({_format_args(node.args, node.kwargs)})")
                return
            if node.op == "get_attr":
                body.append(f"{repr(node)}{maybe_type_annotation} = {_format_target(root_module, node.target)}")
                return
            if node.op == "output":
                if node.type is not None:
                    maybe_return_annotation[0] = f" -> {type_repr(node.type)}"
                body.append(f"return {_get_repr(node.args[0])}")
                return
            raise NotImplementedError(f"node: {node.op} {node.target}")

        prev_summary = [None]

        def append_stacktrace_summary(node):
            # verbose code (print_readable) says where each node comes from; symbolic tracing records no stacks
            if node.op not in ("placeholder", "output"):
                parsed = _parse_stack_trace(node.stack_trace)
                summary = "\n# " + (parsed if parsed else "No stacktrace found for following nodes") + "\n"
                if summary != prev_summary[0]:
                    prev_summary[0] = summary
                    body.append(summary)

        for node in nodes:
            if verbose:
                append_stacktrace_summary(node)
            emit_node(node)
            delete_unused_values(node)
        if len(body) == 0:
            body.append("pass\n")
        if wrapped_fns:
            wrap_name = "torch.fx._symbolic_trace.wrap"  # resolves on minitorch (minitorch.fx is imported)
            wrap_stmts = "\n".join([f'{wrap_name}("{name}")' for name in wrapped_fns])
        else:
            wrap_stmts = ""
        if len(free_vars) == 0 or free_vars[0] != "self":
            free_vars.insert(0, "self")
        prologue = f"def forward({', '.join(free_vars)}){maybe_return_annotation[0]}:"
        code = "".join(body).lstrip("\n")
        code = "\n".join("    " + line for line in code.split("\n"))
        fn_code = f"\n{wrap_stmts}\n\n{prologue}\n{code}"
        return PythonCode(fn_code, globals_)

    def on_generate_code(self, make_transformer):
        raise NotImplementedError("minitorch.fx: Graph.on_generate_code (code transformers) is not supported")


def _has_attr_path(mod, qualified_name):
    for atom in qualified_name.split("."):
        if not hasattr(mod, atom):
            return False
        mod = getattr(mod, atom)
    return True

"""minitorch.fx.GraphModule (torch.fx.GraphModule): an nn.Module whose forward is generated from a Graph."""
import copy
import itertools
import linecache
import sys
import traceback

from ..nn import Module, Parameter
from .graph import Graph

__all__ = ["GraphModule"]

_next_id = itertools.count()


def _exec_with_source(src, globals):
    """exec src under a fake file name registered with linecache, so that tracebacks show the generated lines."""
    key = f"<eval_with_key>.{next(_next_id)}"
    linecache.cache[key] = (len(src), None, src.splitlines(True), key)
    exec(compile(src, key, "exec"), globals)


def _generate_error_message(frame_summary):
    err_lineno = frame_summary.lineno
    line = frame_summary.line or ""
    all_src_lines = linecache.getlines(frame_summary.filename)
    tb_repr = traceback.format_exc()
    custom_msg = ("Call using an FX-traced Module, line " + str(err_lineno)
                  + " of the traced Module's generated forward function:")
    before_err = "".join(all_src_lines[err_lineno - 2:err_lineno])
    marker = "~" * len(line) + "~~~ <--- HERE"
    err_and_after_err = "\n".join(all_src_lines[err_lineno:err_lineno + 2])
    return "\n".join([tb_repr, custom_msg, before_err, marker, err_and_after_err])


def _copy_attr(from_module, to_module, target):
    """Copy the attribute target ('a.b.c') of from_module to to_module, making empty Modules for missing parents."""
    *prefix, field = target.split(".")
    for item in prefix:
        f = getattr(from_module, item)
        t = getattr(to_module, item, None)
        if f is t:
            return  # a parent is installed already
        if t is None:
            t = Module()
            setattr(to_module, item, t)
        from_module, to_module = f, t
    orig = getattr(from_module, field)
    from .._tensor import Tensor

    if isinstance(orig, Tensor) and not isinstance(orig, Parameter):
        to_module.register_buffer(field, orig)
    else:
        setattr(to_module, field, orig)


def _assign_attr(from_obj, to_module, target):
    *prefix, field = target.split(".")
    for item in prefix:
        t = getattr(to_module, item, None)
        if t is None:
            t = Module()
            setattr(to_module, item, t)
        to_module = t
    from .._tensor import Tensor

    if isinstance(from_obj, Tensor) and not isinstance(from_obj, Parameter):
        to_module.register_buffer(field, from_obj)
    else:
        setattr(to_module, field, from_obj)


def _addindent(s_, num_spaces):
    s = s_.split("\n")
    if len(s) == 1:
        return s_
    first = s.pop(0)
    return first + "\n" + "\n".join((num_spaces * " ") + line if line.strip() else "" for line in s)


def _print_readable(module, module_name):
    module_code = module.graph.python_code(root_module="self", verbose=True).src.lstrip("\n")
    module_code = _addindent(f"class {module_name}(torch.nn.Module):\n" + module_code, 4)
    submodule_code_list = [""]
    for submodule_name, submodule in module.named_children():
        if isinstance(submodule, GraphModule):
            submodule_code_list.append(_print_readable(submodule, submodule_name))
    return module_code + _addindent("\n".join(submodule_code_list), 4)


class _CodeOnlyModule(Module):
    def __init__(self, body):
        super().__init__()
        self.__dict__ = body


class GraphModule(Module):
    """GraphModule(root, graph, class_name='GraphModule'): root is an nn.Module (the targets of the graph's
    get_attr / call_module nodes are copied from it) or a dict {target: object}."""

    def __new__(cls, *args, **kwargs):
        # each instance has its own class, whose forward is the generated one
        for t in cls.__mro__:
            if t.__qualname__.split(".")[-1] != "GraphModuleImpl":
                cls = t
                break

        class GraphModuleImpl(cls):
            pass

        return super().__new__(GraphModuleImpl)

    def __init__(self, root, graph, class_name="GraphModule"):
        super().__init__()
        self.__class__.__name__ = class_name
        if isinstance(root, Module):
            if hasattr(root, "training"):
                self.training = root.training
            if isinstance(root, _CodeOnlyModule):
                for k, _ in root.named_children():
                    _copy_attr(root, self, k)
                for k, _ in root.named_buffers():
                    _copy_attr(root, self, k)
                for k, _ in root.named_parameters():
                    _copy_attr(root, self, k)
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    _copy_attr(root, self, node.target)
        elif isinstance(root, dict):
            targets_to_copy = []
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    if node.target not in root:
                        raise RuntimeError("Node " + str(node) + " referenced target " + node.target
                                           + " but that target was not provided in ``root``!")
                    targets_to_copy.append(node.target)
            targets_to_copy.sort(key=lambda t: t.count("."))
            for target_to_copy in targets_to_copy:
                _assign_attr(root[target_to_copy], self, target_to_copy)
        else:
            raise RuntimeError("Unsupported type " + str(root) + " passed for root!")
        self.graph = graph
        self._tracer_cls = None
        if graph._tracer_cls and "<locals>" not in graph._tracer_cls.__qualname__:
            self._tracer_cls = graph._tracer_cls
        self.meta = {}

    def __call__(self, *args, **kwargs):
        # an error raised in the generated forward also prints the generated lines around it (torch's
        # _WrappedCall); Module.__call__ is looked up now, so that a tracer's patch of it applies
        try:
            return Module.__call__(self, *args, **kwargs)
        except Exception as e:
            # the innermost frame of generated code (torch looks at the topmost frame only; minitorch's ops may
            # raise from a Python helper below it)
            frames = [f for f in traceback.extract_tb(e.__traceback__) if "eval_with_key" in f.filename]
            top = frames[-1] if frames else None
            if top is not None:
                print(_generate_error_message(top), file=sys.stderr)
                raise e.with_traceback(None)
            raise

    @property
    def graph(self):
        return self._graph

    @graph.setter
    def graph(self, g):
        if not isinstance(g, Graph):
            raise AssertionError(f"Expected a Graph instance, but got {type(g)}")
        self.__dict__["_graph"] = g
        g.owning_module = self
        self.recompile()

    @property
    def code(self):
        """The Python source of the generated forward."""
        if not hasattr(self, "_code"):
            raise RuntimeError("Code has not been generated! Please report a bug to PyTorch")
        return self._code

    def recompile(self):
        """Regenerate forward from self.graph: call it after changing the graph."""
        python_code = self._graph.python_code(root_module="self")
        self.__dict__["_code"] = python_code.src
        globals_ = dict(python_code.globals)
        _exec_with_source(python_code.src, globals_)
        cls = type(self)
        cls.forward = globals_["forward"]
        return python_code

    def add_submodule(self, target, m):
        """Install m at target ('a.b.c'), making empty Modules for missing parents; False if a parent is not a
        Module."""
        *prefix, field = target.split(".")
        mod = self
        for item in prefix:
            submod = getattr(mod, item, None)
            if submod is None:
                submod = Module()
                setattr(mod, item, submod)
            if not isinstance(submod, Module):
                return False
            mod = submod
        mod.add_module(field, m)
        return True

    def delete_submodule(self, target):
        atoms = target.split(".")
        path, target_submod = atoms[:-1], atoms[-1]
        mod = self
        for item in path:
            if not hasattr(mod, item):
                return False
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                return False
        if not hasattr(mod, target_submod) or not isinstance(getattr(mod, target_submod), Module):
            return False
        delattr(mod, target_submod)
        return True

    def delete_all_unused_submodules(self):
        """Delete the submodules that no call_module / get_attr node uses (nor their children)."""
        used = []
        for node in self.graph.nodes:
            if node.op in ("call_module", "get_attr") and isinstance(node.target, str):
                fullpath = node.target.split(".")
                used.extend(itertools.accumulate(fullpath, lambda x, y: ".".join([x, y] if y else [x])))
                if node.op == "call_module":
                    try:
                        submod = self.get_submodule(node.target)
                        for submod_name, _ in submod.named_modules():
                            if submod_name != "":
                                used.append(".".join([node.target, submod_name]))
                    except AttributeError:
                        pass
        to_delete = [name for name, _ in self.named_modules() if name not in used]
        for name in to_delete:
            self.delete_submodule(name)

    def __deepcopy__(self, memo):
        res = type(self).__new__(type(self))
        memo[id(self)] = res
        fake_mod = _CodeOnlyModule(copy.deepcopy(self.__dict__, memo))
        GraphModule.__init__(res, fake_mod, fake_mod.__dict__["_graph"])  # named GraphModule, as in torch
        res.meta = copy.copy(getattr(self, "meta", {}))
        return res

    def __copy__(self):
        res = GraphModule(self, self.graph, self.__class__.__name__)
        res.meta = getattr(self, "meta", {})
        return res

    def __reduce__(self):
        raise NotImplementedError("minitorch.fx: pickling a GraphModule is not supported (save its state_dict)")

    def print_readable(self, print_output=True):
        """The generated code as `class <Name>(torch.nn.Module): def forward(...)`, with torch's comments and the
        shapes ShapeProp recorded (`: "f32[3, 4]"`); GraphModule children follow, nested."""
        out = _print_readable(self, self.__class__.__name__)
        if print_output:
            print(out)
        return out

    def __str__(self):
        orig_str = super().__str__()
        print_readable_reminder = "# To see more debug info, please use `graph_module.print_readable()`"
        return "\n".join([orig_str, self._code, print_readable_reminder])


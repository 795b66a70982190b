"""Writes minitorch/_C.pyi, the type stub of the C extension, from the extension itself, so that editors
and type checkers (mypy, pyright) see TensorBase's methods and properties (minitorch.Tensor's base) and
the module's functions instead of treating the whole extension as Any.

    python3 tools/gen_stubs.py            # rewrite minitorch/_C.pyi (after a change to the C core)
    python3 tools/gen_stubs.py --check    # exit 1 if minitorch/_C.pyi is not what this would write

What introspection gives: every name, the signatures CPython records (the number protocol's slots), the
types of the properties (read from a sample tensor), and which methods return a tensor (the elementwise
op table `_C._ops`; the arithmetic operators). The other C methods take `*args, **kwargs` and return Any,
as their parameters are parsed in C. The methods minitorch attaches to Tensor at import (torch's aliases
such as arctan, and Python-level methods such as roll or random_) are declared on TensorBase as well,
since a checker cannot see a setattr."""
import argparse
import ast
import inspect
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUB = os.path.join(ROOT, "minitorch", "_C.pyi")

# operators whose result is a tensor; the other dunders return what the Python protocol demands
TENSOR_DUNDERS = {f"__{p}{n}__" for n in ("add sub mul truediv floordiv mod pow matmul lshift rshift and or xor"
                                          .split()) for p in ("", "r", "i")}
TENSOR_DUNDERS |= {"__neg__", "__pos__", "__abs__", "__invert__", "__getitem__",
                   "__lt__", "__le__", "__eq__", "__ne__", "__gt__", "__ge__"}
DUNDER_RETURNS = {"__bool__": "bool", "__int__": "int", "__float__": "float", "__index__": "int", "__len__": "int",
                  "__hash__": "int", "__setitem__": "None", "__delitem__": "None", "__repr__": "str"}
# a tensor where object's is a bool (as NumPy's stubs); CPython's in-place slot takes no `mod` argument
IGNORES = {"__eq__": "override", "__ne__": "override", "__ipow__": "misc"}


def render_params(sig, method):
    out, kw_only_marked = [], False
    params = list(sig.parameters.values())
    for i, p in enumerate(params):
        name = "self" if method and i == 0 else p.name
        if p.kind is p.VAR_POSITIONAL:
            kw_only_marked = True
            out.append(f"*{name}: Any")
            continue
        if p.kind is p.VAR_KEYWORD:
            out.append(f"**{name}: Any")
            continue
        if p.kind is p.KEYWORD_ONLY and not kw_only_marked:
            kw_only_marked = True
            out.append("*")
        text = name if (method and i == 0) else f"{name}: Any"
        out.append(text + (" = ..." if p.default is not p.empty else ""))
        if p.kind is p.POSITIONAL_ONLY and (i + 1 == len(params) or params[i + 1].kind is not p.POSITIONAL_ONLY):
            out.append("/")
    return ", ".join(out)


def params_of(obj, method):
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):  # a C function that parses its own arguments
        return "self, *args: Any, **kwargs: Any" if method else "*args: Any, **kwargs: Any"
    if method and (not sig.parameters or list(sig.parameters.values())[0].kind is inspect.Parameter.VAR_POSITIONAL):
        return "self" + (", " + render_params(sig, False) if sig.parameters else "")
    return render_params(sig, method)


def method_lines(name, obj, returns, tensor_class):
    kind = type(obj).__name__
    if kind in ("classmethod_descriptor", "classmethod"):
        return ["    @classmethod", f"    def {name}(cls, *args: Any, **kwargs: Any) -> {returns}: ..."]
    if kind == "builtin_function_or_method" or isinstance(obj, staticmethod):
        return ["    @staticmethod", f"    def {name}(*args: Any, **kwargs: Any) -> {returns}: ..."]
    ignore = f"  # type: ignore[{IGNORES[name]}]" if tensor_class and name in IGNORES else ""
    return [f"    def {name}({params_of(obj, True)}) -> {returns}: ...{ignore}"]


def property_type(value):
    if value is None:
        return "Any"  # None on a fresh tensor (grad, grad_fn, _base): the type is not known from it
    t = type(value)
    if t.__module__ == "builtins":
        return t.__qualname__
    return "Tensor" if t.__qualname__ == "Tensor" else f"_{t.__qualname__}"


def class_names_in_source(path, cls):
    """names the class body of `cls` in `path` binds: a type checker sees those without help"""
    tree = ast.parse(open(path).read())
    body = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls).body
    names = set()
    for st in body:
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(st.name)
        elif isinstance(st, (ast.Assign, ast.AnnAssign)):
            for t in (st.targets if isinstance(st, ast.Assign) else [st.target]):
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def generate():
    import minitorch
    from minitorch import _C

    tensor_methods = set()
    for op in _C._ops:
        if "M" in op["variants"]:
            tensor_methods.add(op["name"])
        if "I" in op["variants"]:
            tensor_methods.add(op["name"] + "_")

    def returns(name, obj, cls):
        target = getattr(obj, "__name__", name)  # an alias (arctan) returns what its target (atan) does
        if name in DUNDER_RETURNS:
            return DUNDER_RETURNS[name]
        if cls is not _C.TensorBase:
            return "bool" if name in ("__lt__", "__le__", "__eq__", "__ne__", "__gt__", "__ge__") else "Any"
        return "Tensor" if name in TENSOR_DUNDERS or target in tensor_methods else "Any"

    sample = minitorch.zeros(2)
    used_types = set()
    lines = ['"""Type stub of minitorch._C, written by tools/gen_stubs.py from the extension: do not edit."""',
             "from typing import Any", "", "from minitorch._tensor import Tensor", "{imports}", ""]

    def class_block(cls, extra=()):
        out = [f"class {cls.__name__}:"]
        for name in sorted(cls.__dict__):
            obj = cls.__dict__[name]
            if name in ("__doc__", "__new__", "__module__", "__dict__", "__weakref__"):
                continue
            if type(obj).__name__ == "getset_descriptor":
                try:
                    t = property_type(getattr(sample, name)) if cls is _C.TensorBase else "Any"
                except Exception:  # raises on this sample (mT of a 1-d tensor)
                    t = "Any"
                if t.startswith("_"):
                    used_types.add(t[1:])
                out += ["    @property", f"    def {name}(self) -> {t}: ..."]
                if name in settable.get(cls.__name__, ()):
                    out += [f"    @{name}.setter", f"    def {name}(self, value: Any) -> None: ..."]
            else:
                out += method_lines(name, obj, returns(name, obj, cls), cls is _C.TensorBase)
        if extra:
            out.append("    # attached to minitorch.Tensor at import (aliases, Python-level methods)")
            for name, obj in extra:
                if callable(obj):
                    out += method_lines(name, obj, returns(name, obj, cls), True)
                else:
                    out += ["    @property", f"    def {name}(self) -> Any: ..."]
        out.append("    def __init__(self, *args: Any, **kwargs: Any) -> None: ...")
        return out

    # properties a user may assign (x.requires_grad = True, x.grad = None, x.data = y)
    settable = {}
    for cname in ("TensorBase", "Generator", "Node"):
        cls = getattr(_C, cname)
        settable[cname] = set()
        for name, obj in cls.__dict__.items():
            if type(obj).__name__ == "getset_descriptor":
                try:
                    obj.__set__(_probe(cls, sample), getattr(_probe(cls, sample), name))
                    settable[cname].add(name)
                except Exception:
                    pass

    statically = class_names_in_source(os.path.join(os.path.dirname(minitorch.__file__), "_tensor.py"), "Tensor")
    attached = [(n, o) for n, o in sorted(vars(minitorch.Tensor).items())
                if n not in statically and n not in vars(_C.TensorBase) and not n.startswith("__")]
    for cls in (_C.Generator, _C.Node, _C.TensorBase):
        lines += class_block(cls, attached if cls is _C.TensorBase else ()) + [""]
    for name in sorted(vars(_C)):
        obj = getattr(_C, name)
        if name.startswith("__") or isinstance(obj, type):
            continue
        if callable(obj):
            lines.append(f"def {name}({params_of(obj, False)}) -> Any: ...")
        elif isinstance(obj, tuple):
            lines.append(f"{name}: tuple[dict[str, Any], ...]")
        else:
            lines.append(f"{name}: {type(obj).__name__ if isinstance(obj, _C.Generator) else 'Any'}")
    imports = "".join(f"from minitorch._types import {t} as _{t}\n" for t in sorted(used_types))
    return "\n".join(lines).replace("{imports}", imports.rstrip("\n")) + "\n"


def _probe(cls, sample):
    """an instance of cls to try a property's setter on (the sample tensor's copy for TensorBase)"""
    import minitorch
    from minitorch import _C

    if cls is _C.TensorBase:
        return sample.clone()
    if cls is _C.Generator:
        return _C.Generator()
    x = minitorch.ones(1, requires_grad=True)
    return (x * 2).grad_fn


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the stub is out of date; write nothing")
    ap.add_argument("--output", default=STUB)
    args = ap.parse_args(argv)
    text = generate()
    if args.check:
        current = open(args.output).read() if os.path.exists(args.output) else ""
        if current != text:
            print(f"{args.output} is out of date: run python3 tools/gen_stubs.py", file=sys.stderr)
            return 1
        return 0
    with open(args.output, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    import glob
    import importlib.machinery

    # this tree's minitorch when it is built in place, else the one on the path (an unbuilt tree first on
    # sys.path would shadow an installed minitorch and fail to import its _C)
    if any(glob.glob(os.path.join(ROOT, "minitorch", "_C" + s)) for s in importlib.machinery.EXTENSION_SUFFIXES):
        sys.path.insert(0, ROOT)
    sys.exit(main())

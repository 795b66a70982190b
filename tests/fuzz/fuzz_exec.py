"""Runs a fuzz case (fuzz_cases.py) on one library and compares two libraries' outcomes.

run_case(lib, case) builds the inputs, calls the op, and returns a library-neutral Outcome
(NumPy copies of every result, the exception's builtin class, in-place identity, the mutated
input and its base, gradients). compare(got, want, case) returns a list of mismatches, each
{"kind", "detail"}: kinds are value, dtype, shape, structure, requires_grad, missing_exception,
spurious_exception, exception_type, inplace_identity, mutated, base, grad, grad_exception.
The caller passes the library modules, so this module imports neither.
"""
import math
import operator
import warnings

import numpy as np

from fuzz_cases import (ALL_DTYPES, FLOATS, NARROW_FLOATS, OPERATORS, UNARY_OPERATORS, INPLACE_OPERATORS, finite_max,
                        make_array, round_bfloat16, view_shape)

BINOPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "//": operator.floordiv,
          "%": operator.mod, "**": operator.pow, "&": operator.and_, "|": operator.or_, "^": operator.xor,
          "<<": operator.lshift, ">>": operator.rshift, "==": operator.eq, "!=": operator.ne, "<": operator.lt,
          "<=": operator.le, ">": operator.gt, ">=": operator.ge, "@": operator.matmul}
IOPS = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
        "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "&=": operator.iand, "|=": operator.ior,
        "^=": operator.ixor, "<<=": operator.ilshift, ">>=": operator.irshift}
UOPS = {"-": operator.neg, "abs": abs, "~": operator.invert}


def builtin_class(exc):
    """The first builtin class in the exception's MRO (torch raises subclasses such as _LinAlgError)."""
    for k in type(exc).__mro__:
        if k.__module__ == "builtins":
            return k.__name__
    return type(exc).__name__


class Outcome:
    __slots__ = ("exc", "value", "same", "mutated", "base", "grads", "grad_exc", "stage")

    def __init__(self):
        self.exc = None          # (class name, message) when the call raised
        self.value = None        # converted result
        self.same = None         # in-place forms: the result is the input object
        self.mutated = None      # in-place forms: the input after the call
        self.base = None         # mutating forms: the input's base tensor after the call
        self.grads = None        # gradients of the leaves requiring grad, or None
        self.grad_exc = None     # (class name, message) when backward raised
        self.stage = "call"

    def __repr__(self):
        return f"Outcome(exc={self.exc}, value={_short(self.value)}, grads={_short(self.grads)}, grad_exc={self.grad_exc})"


def _short(v, n=200):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "..."


class Lib:
    """What the runner needs from one library."""

    def __init__(self, mod, name):
        self.mod, self.name = mod, name
        self.Tensor = mod.Tensor
        self.dtypes = {n: getattr(mod, n) for n in ALL_DTYPES}

    def is_tensor(self, v):
        return isinstance(v, self.Tensor)


def _dtype_name(dt):
    return str(dt).replace("torch.", "")


def _np_dtype(name):
    """The NumPy dtype holding a tensor dtype's values (bfloat16, which NumPy lacks, widens exactly to float32)."""
    return np.bool_ if name == "bool" else np.dtype("float32" if name == "bfloat16" else name)


def convert(lib, v):
    """A library-neutral copy of a result."""
    if lib.is_tensor(v):
        t = v.detach()
        if getattr(t, "_is_zerotensor", None) and t._is_zerotensor():  # torch's lazily-zero gradients
            data = np.zeros(tuple(t.shape), dtype=_np_dtype(_dtype_name(t.dtype)))
        elif _dtype_name(t.dtype) == "bfloat16":  # .numpy() refuses bfloat16 in both libraries
            data = np.array(t.float().numpy(), copy=True)
        else:
            data = np.array(t.numpy(), copy=True)
        return {"t": _dtype_name(v.dtype), "shape": tuple(int(s) for s in v.shape), "data": data,
                "rg": bool(v.requires_grad)}
    if isinstance(v, (tuple, list)):
        return {"seq": [convert(lib, x) for x in v], "type": "list" if isinstance(v, list) else "tuple"}
    if v is None or isinstance(v, (bool, int, float, str)):
        return {"py": type(v).__name__, "v": v}
    if type(v).__name__ == "Size" or "Size" in type(v).__name__:
        return {"py": "Size", "v": tuple(v)}
    return {"py": type(v).__name__, "v": repr(v)}


def _apply_view(t, v):
    k = v[0]
    if k == "permute":
        return t.permute(*v[1])
    if k == "slice":
        return t[tuple(slice(a, b, c) for a, b, c in v[1])]
    if k == "expand":
        return t.expand(*v[1])
    if k == "select":
        return t.select(v[1], v[2])
    raise ValueError(k)


def build_inputs(lib, case):
    """(views, bases, leaves): the tensors the op sees, the tensor each view was made from, and grad leaves."""
    views, bases, leaves = [], [], []
    for spec in case["inputs"]:
        arr = make_array(spec)
        t = lib.mod.tensor(arr)
        if spec["dtype"] == "bfloat16":
            t = t.to(lib.dtypes["bfloat16"])  # each library's own float32 -> bfloat16 rounding
        if spec.get("widen"):
            t = t.to(lib.dtypes[spec["widen"]])  # the narrow values, computed wider (narrow_case's oracle)
        leaf = None
        if spec.get("rg"):
            t.requires_grad_(True)
            leaf = t
            if spec.get("clone"):
                t = t.clone()
        base = t
        for v in spec["views"]:
            t = _apply_view(t, v)
        views.append(t)
        bases.append(base)
        leaves.append(leaf)
    return views, bases, leaves


def resolve(lib, node, views):
    if isinstance(node, dict):
        if "t" in node:
            return views[node["t"]]
        if "list" in node:
            return [resolve(lib, x, views) for x in node["list"]]
        if "tuple" in node:
            return tuple(resolve(lib, x, views) for x in node["tuple"])
        if "slice" in node:
            return slice(*node["slice"])
        if "ellipsis" in node:
            return Ellipsis
        if "dtype" in node:
            return lib.dtypes[node["dtype"]]
        raise ValueError(node)
    return node


def _trigamma(lib, x):
    return x._trigamma() if lib.name == "minitorch" else lib.mod.polygamma(1, x)


def invoke(lib, case, args, kwargs):
    op, form = case["op"], case["form"]
    if op == "_trigamma":
        return _trigamma(lib, args[0])
    if form in ("F", "Fr"):
        return getattr(lib.mod, op)(*args, **kwargs)
    if form == "M":
        return getattr(args[0], op)(*args[1:], **kwargs)
    if form == "I":
        return getattr(args[0], op + "_")(*args[1:], **kwargs)
    if form == "Mwhere":  # a.where(cond, b) for where(cond, a, b)
        return args[1].where(args[0], args[2])
    if form in ("op", "rop"):
        if op == "matmul":
            return operator.matmul(*args)
        if op in UNARY_OPERATORS:
            return UOPS[UNARY_OPERATORS[op]](args[0])
        return BINOPS[OPERATORS[op]](args[0], args[1])
    if form == "iop":
        return IOPS[INPLACE_OPERATORS[op]](args[0], args[1])
    if form == "getitem":
        return args[0][args[1]]
    if form == "setitem":
        args[0][args[1]] = args[2]
        return None
    if form == "attr":
        return getattr(args[0], op)
    raise ValueError(form)


MUTATING = ("I", "iop", "setitem")


def _grad_targets(lib, v):
    if lib.is_tensor(v):
        return [v] if v.requires_grad and v.dtype.is_floating_point else []
    if isinstance(v, (tuple, list)):
        out = []
        for x in v:
            out += _grad_targets(lib, x)
        return out
    return []


def run_case(lib, case):
    o = Outcome()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np_err = np.seterr(all="ignore")
        try:
            o.stage = "build"
            views, bases, leaves = build_inputs(lib, case)
            args = [resolve(lib, a, views) for a in case["args"]]
            kwargs = {k: resolve(lib, v, views) for k, v in case["kwargs"].items()}
            o.stage = "call"
            try:
                r = invoke(lib, case, args, kwargs)
            except Exception as e:  # noqa: BLE001 - the exception type is what is compared
                o.exc = (builtin_class(e), str(e)[:300])
                return o
            o.stage = "convert"
            try:
                return _finish(lib, case, o, r, args, bases, leaves)
            except Exception as e:  # noqa: BLE001 - a result that cannot be read back (numel overflow, ...)
                o.exc = (builtin_class(e), "[reading the result back] " + str(e)[:300])
                o.value = o.mutated = o.base = o.grads = None
                return o
        finally:
            np.seterr(**np_err)


def _finish(lib, case, o, r, args, bases, leaves):
    """Converts the result, the mutated input, the probe and the gradients into the outcome."""
    form = case["form"]
    if form in MUTATING:
        x = args[0]
        if form != "setitem":
            o.same = r is x
        o.mutated = convert(lib, x)
        o.base = convert(lib, bases[0])
        o.value = convert(lib, r) if form != "setitem" else None
        target = x
    else:
        if case["op"] == "topk" and args[0].dim():
            # ties make topk's indices unspecified: compare the values they point at instead
            d = case["kwargs"].get("dim", -1)
            r = (r[0], args[0].gather(d, r[1]))
        o.value = convert(lib, r)
        target = r
    if case.get("probe"):
        # write through the result; views alias their input, copies do not
        o.stage = "probe"
        outs = [t for t in (r if isinstance(r, (tuple, list)) else [r]) if lib.is_tensor(t)]
        try:
            with lib.mod.no_grad():
                for t in outs:
                    if t.numel():
                        t.fill_(True if t.dtype == lib.dtypes["bool"] else 7)
            o.base = {"seq": [convert(lib, b) for b in bases], "type": "probe"}
        except Exception as e:  # noqa: BLE001
            o.base = {"py": "probe_exception", "v": builtin_class(e)}
    if any(lf is not None for lf in leaves):
        o.stage = "backward"
        tg = _grad_targets(lib, target)
        if tg:
            try:
                loss = None
                for k, t in enumerate(tg):
                    w = np.random.default_rng(1234 + k).standard_normal(tuple(t.shape))
                    w = lib.mod.tensor(w.astype(np.float64 if _dtype_name(t.dtype) == "float64" else np.float32))
                    if _dtype_name(t.dtype) in NARROW_FLOATS:
                        w = w.to(t.dtype)  # the whole backward in the narrow dtype
                    term = (t * w).sum()
                    loss = term if loss is None else loss + term
                loss.backward()
                o.grads = [None if lf is None else (convert(lib, lf.grad) if lf.grad is not None else "none")
                           for lf in leaves]
            except Exception as e:  # noqa: BLE001
                o.grad_exc = (builtin_class(e), str(e)[:300])
    o.stage = "done"
    return o


# ---------------------------------------------------------------------------------------------
# comparison
# ---------------------------------------------------------------------------------------------

TRANSCENDENTAL = {"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "asin", "acos", "atan",
                  "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "erf", "erfc", "pow", "atan2",
                  "hypot", "logaddexp", "logaddexp2", "xlogy", "sinc", "logit", "rsqrt", "sqrt", "float_power",
                  "softmax", "log_softmax", "logsumexp", "norm", "std", "var", "arccos", "arcsin", "arctan",
                  "arccosh", "arcsinh", "arctanh", "arctan2", "reciprocal", "div", "divide", "true_divide"}
SPECIAL_FN = {"erfinv", "lgamma", "digamma", "_trigamma"}
ACCUMULATING = {"sum", "mean", "prod", "var", "std", "logsumexp", "norm", "softmax", "log_softmax", "matmul", "mm",
                "bmm", "dot", "addmm", "scatter_add", "outer"}


# the spacing of the narrow floats at 1 (2^-10, 2^-7): both libraries compute in float32 and round once, so
# results differ by the float32 difference plus at most one rounding flip of the narrow dtype
NARROW_EPS = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}


def tolerance(case, dtype, inputs_max, n_acc):
    """(rtol, atol) for a float result of `dtype`."""
    op = case["op"]
    narrow = dtype in NARROW_EPS
    f32 = (dtype == "float32" or any(s["dtype"] == "float32" for s in case["inputs"])
           or case["kwargs"].get("dtype") == {"dtype": "float32"})
    if narrow:
        # two units in the narrow dtype's last place, relative; near zero the float32 absolute tolerances
        rtol, atol = 2 * NARROW_EPS[dtype], 1e-6
        if op in TRANSCENDENTAL:
            atol = 1e-5
        if op in SPECIAL_FN:
            rtol, atol = max(rtol, 1e-3), 1e-3
    elif dtype == "float64" and not f32:
        rtol, atol = 1e-9, 1e-12
        if op in SPECIAL_FN:
            rtol, atol = 1e-7, 1e-9
    else:
        rtol, atol = 1e-5, 1e-6
        if op in TRANSCENDENTAL:
            rtol, atol = 3e-5, 1e-5
        if op in SPECIAL_FN:
            rtol, atol = 1e-3, 1e-3
    if op in ACCUMULATING or case["family"] == "reduce":
        eps = 1.2e-7 if f32 or narrow else 2.3e-16  # narrow results accumulate in float32
        scale = max(inputs_max, 1.0)
        if op in ("var", "std", "prod", "matmul", "mm", "bmm", "dot", "addmm", "outer", "norm"):
            scale = scale * scale
        atol = max(atol, 4 * eps * max(n_acc, 1) * scale)
        rtol = max(rtol, 4 * eps * max(n_acc, 1) ** 0.5 * 4)
    return rtol, atol


def _first_diff(g, e, bad):
    i = np.argwhere(bad)[0]
    idx = tuple(int(v) for v in i)
    return f"at {list(idx)}: got {g[idx]!r}, want {e[idx]!r} ({int(bad.sum())} of {bad.size} differ)"


def compare_tensor(got, want, tol, where):
    out = []
    if got.get("t") is None:
        return [{"kind": "structure", "detail": f"{where}: got {_short(got)}, want a tensor"}]
    if got["t"] != want["t"]:
        out.append({"kind": "dtype", "detail": f"{where}: got {got['t']}, want {want['t']}"})
    if got["shape"] != want["shape"]:
        out.append({"kind": "shape", "detail": f"{where}: got {list(got['shape'])}, want {list(want['shape'])}"})
        return out
    g, e = got["data"], want["data"]
    if g.shape != e.shape:
        out.append({"kind": "shape", "detail": f"{where}: .numpy() has shape {g.shape}, tensor says {got['shape']}"})
        return out
    if e.size == 0:
        return out
    if e.dtype.kind == "f" or g.dtype.kind == "f":
        g64, e64 = g.astype(np.float64), e.astype(np.float64)
        rtol, atol = tol(want["t"])
        both_nan = np.isnan(g64) & np.isnan(e64)
        same = (g64 == e64) | both_nan
        with np.errstate(invalid="ignore", over="ignore"):
            close = np.abs(g64 - e64) <= atol + rtol * np.abs(e64)
        finite = np.isfinite(g64) & np.isfinite(e64)
        bad = ~(same | (close & finite))
        if bad.any():
            out.append({"kind": "value", "detail": f"{where}: {_first_diff(g, e, bad)}"})
    else:
        if g.dtype.kind == "b" or e.dtype.kind == "b":
            bad = g.astype(bool) != e.astype(bool)
        else:
            bad = g.astype(np.int64) != e.astype(np.int64)
        if bad.any():
            out.append({"kind": "value", "detail": f"{where}: {_first_diff(g, e, bad)}"})
    if got.get("rg") != want.get("rg") and want["t"] in FLOATS:  # (torch lets in-place ops mark int tensors)
        out.append({"kind": "requires_grad", "detail": f"{where}: requires_grad {got.get('rg')}, want {want.get('rg')}"})
    return out


def compare_value(got, want, tol, where="result"):
    if want is None or got is None:
        if (want is None) != (got is None):
            return [{"kind": "structure", "detail": f"{where}: got {_short(got)}, want {_short(want)}"}]
        return []
    if "t" in want:
        return compare_tensor(got, want, tol, where)
    if "seq" in want:
        if "seq" not in got:
            return [{"kind": "structure", "detail": f"{where}: got {_short(got)}, want a sequence"}]
        if len(got["seq"]) != len(want["seq"]):
            return [{"kind": "structure", "detail": f"{where}: got {len(got['seq'])} items, want {len(want['seq'])}"}]
        out = []
        for i, (g, w) in enumerate(zip(got["seq"], want["seq"])):
            out += compare_value(g, w, tol, f"{where}[{i}]")
        return out
    if "py" in want:
        if "py" not in got or got["py"] != want["py"]:
            return [{"kind": "structure", "detail": f"{where}: got {_short(got)}, want {_short(want)}"}]
        gv, wv = got["v"], want["v"]
        if isinstance(wv, float) and isinstance(gv, float):
            if not (gv == wv or (math.isnan(gv) and math.isnan(wv)) or abs(gv - wv) <= 1e-5 * abs(wv) + 1e-6):
                return [{"kind": "value", "detail": f"{where}: got {gv!r}, want {wv!r}"}]
        elif gv != wv:
            return [{"kind": "value", "detail": f"{where}: got {gv!r}, want {wv!r}"}]
        return []
    return []


def _input_stats(case):
    arrays = []
    for s in case["inputs"]:
        try:
            arrays.append(make_array(s))
        except Exception:  # noqa: BLE001
            pass
    m = finite_max(arrays)
    shapes = [view_shape(s) for s in case["inputs"]]
    n_acc = max((int(np.prod(s)) if s else 1 for s in shapes), default=1)
    if case["family"] == "matmul":
        sh = [view_shape(s) for s in case["inputs"]]
        n_acc = max([s[-1] for s in sh if s] + [1])
    return m, n_acc


def _zero_if_none(a, other):
    if a == "none" and isinstance(other, dict) and "t" in other:
        return dict(other, data=np.zeros_like(other["data"]))
    return a


def compare(got, want, case):
    """Mismatches between minitorch's outcome (got) and torch's (want)."""
    if want.exc or got.exc:
        if want.exc and not got.exc:
            return [{"kind": "missing_exception", "detail": f"torch raised {want.exc[0]}: {want.exc[1]}"}]
        if got.exc and not want.exc:
            return [{"kind": "spurious_exception", "detail": f"minitorch raised {got.exc[0]}: {got.exc[1]}"}]
        if got.exc[0] != want.exc[0]:
            return [{"kind": "exception_type",
                     "detail": f"minitorch raised {got.exc[0]}: {got.exc[1]} | torch raised {want.exc[0]}: {want.exc[1]}"}]
        return []
    m, n_acc = _input_stats(case)
    tol = (lambda dt: tolerance(case, dt, m, n_acc))
    out = []
    out += compare_value(got.value, want.value, tol, "result")
    if want.same is not None and got.same != want.same:
        out.append({"kind": "inplace_identity", "detail": f"result is input: got {got.same}, want {want.same}"})
    if want.mutated is not None:
        out += [dict(x, kind="mutated" if x["kind"] == "value" else x["kind"])
                for x in compare_value(got.mutated, want.mutated, tol, "mutated input")]
    if want.base is not None:
        out += [dict(x, kind="base" if x["kind"] == "value" else x["kind"])
                for x in compare_value(got.base, want.base, tol, "input base")]
    if want.grad_exc and not got.grad_exc and "not implemented" not in want.grad_exc[1]:
        pass  # torch's own backward failed (scatter with a larger src, clamp with broadcast bounds, bool negation)
    elif want.grad_exc and "inplace version of" in want.grad_exc[1]:
        pass  # torch lacks some in-place derivatives (asinh_, atanh_) that minitorch has
    elif want.grad_exc or got.grad_exc:
        if bool(want.grad_exc) != bool(got.grad_exc) or want.grad_exc[0] != got.grad_exc[0]:
            out.append({"kind": "grad_exception", "detail": f"backward: minitorch {got.grad_exc}, torch {want.grad_exc}"})
    elif want.grads is not None or got.grads is not None:
        if (want.grads is None) != (got.grads is None):
            out.append({"kind": "grad", "detail": f"grads: minitorch {_short(got.grads)}, torch {_short(want.grads)}"})
        else:
            for i, (g, w) in enumerate(zip(got.grads, want.grads)):
                g, w = _zero_if_none(g, w), _zero_if_none(w, g)  # no gradient == a zero gradient
                gtol = _grad_tolerance(case, m, n_acc, w, i)
                if isinstance(w, dict) or isinstance(g, dict):
                    if not (isinstance(w, dict) and isinstance(g, dict)):
                        out.append({"kind": "grad", "detail": f"grad of input {i}: minitorch {_short(g)}, torch {_short(w)}"})
                        continue
                    out += [dict(x, kind="grad") for x in compare_tensor(g, w, gtol, f"grad of input {i}")
                            if x["kind"] != "requires_grad"]
                elif g != w:
                    out.append({"kind": "grad", "detail": f"grad of input {i}: minitorch {g}, torch {w}"})
    return out


NARROW_ALT = True
INT_OR_BOOL = ("int32", "int64", "bool", "uint8", "int8", "int16")


def widen_case(case):
    """The case with its float16/bfloat16 inputs (and dtype= arguments) computed in float32: the arithmetic
    PyTorch's CPU kernels promise for them (compute in float32, round once), with torch's float32 kernels."""
    import copy
    c = copy.deepcopy(case)
    for s in c["inputs"]:
        if s["dtype"] in NARROW_FLOATS:
            s["widen"] = "float32"
    if isinstance(c["kwargs"].get("dtype"), dict) and c["kwargs"]["dtype"].get("dtype") in NARROW_FLOATS:
        c["kwargs"]["dtype"] = {"dtype": "float32"}
    return c


def _round_like(v, like):
    """`v` (a converted float32 result) rounded into the narrow float dtype of `like` (torch's own result)."""
    if isinstance(v, dict) and isinstance(like, dict) and "t" in v and "t" in like:
        if like["t"] in NARROW_FLOATS and v["t"] == "float32":
            with np.errstate(over="ignore"):
                d = v["data"].astype(np.float16) if like["t"] == "float16" else round_bfloat16(v["data"])
            return dict(v, t=like["t"], data=d)
        return v
    if isinstance(v, dict) and isinstance(like, dict) and "seq" in v and "seq" in like:
        return dict(v, seq=[_round_like(x, y) for x, y in zip(v["seq"], like["seq"])])
    if isinstance(v, list) and isinstance(like, list):
        return [_round_like(x, y) for x, y in zip(v, like)]
    return v


def _grad_tolerance(case, m, n_acc, want, leaf):
    """Ten times the result's tolerance. Narrow gradients also get two units in the last place of the
    gradient's largest element, absolute, and of sqrt(terms) when one gradient element sums several terms
    (a broadcast or repeated input, matmul): a backward is a chain of narrow ops, each rounding (per-batch
    matmul products, partial sums over broadcast dims are rounded into the dtype in each library's own order),
    so an element's error follows the size of the partial sums it went through, not its own (a cancelling sum
    of terms ~1 is off by ~1 ulp of 1; the partial sums of n random terms grow as sqrt(n))."""
    big = finite_max([want["data"]]) if isinstance(want, dict) and "data" in want else 0.0
    numel = [int(np.prod(view_shape(s))) for s in case["inputs"]]
    terms = max(numel) / max(numel[leaf], 1) if leaf < len(numel) else 1
    if case["family"] == "matmul":
        terms *= n_acc
    if terms > 1:
        big = max(big, 1.0) * terms ** 0.5
    # a wider leaf's gradient that went through a narrow op (a float64 operand of float16's in-place op) carries
    # that op's rounding: the narrowest float input sets the tolerance
    narrow = [d for d in ("bfloat16", "float16") if any(s["dtype"] == d for s in case["inputs"])]

    def tol(dt):
        dt = narrow[0] if narrow else dt
        rtol, atol = (v * 10 for v in tolerance(case, dt, m, n_acc))
        if dt in NARROW_EPS:
            atol = max(atol, 2 * NARROW_EPS[dt] * big)
        return rtol, atol
    return tol


def upcast_case(case):
    """The case with float32 inputs computed in float64 (same values): a more accurate oracle."""
    import copy
    c = copy.deepcopy(case)
    for s in c["inputs"]:
        if s["dtype"] == "float32" or (s["dtype"] in INT_OR_BOOL and c["family"] == "unary"):
            s["data"]["upcast"] = "float64"
    if isinstance(c["kwargs"].get("dtype"), dict) and c["kwargs"]["dtype"].get("dtype") == "float32":
        c["kwargs"]["dtype"] = {"dtype": "float64"}
    return c


def _as_float32(v):
    if isinstance(v, dict) and "t" in v:
        d = v["data"].astype(np.float32) if v["data"].dtype == np.float64 else v["data"]
        return dict(v, t="float32" if v["t"] == "float64" else v["t"], data=d)
    if isinstance(v, dict) and "seq" in v:
        return dict(v, seq=[_as_float32(x) for x in v["seq"]])
    return v


def check_case(mt, th, case, on_stage=None):
    """Runs the case on both libraries; (minitorch outcome, torch outcome, mismatches).
    Float32 transcendental results that differ from torch's float32 are accepted when they match
    torch's float64 result rounded to float32 (torch's float32 kernels are the less accurate side
    there: polygamma, lgamma near poles, ...). Likewise float16/bfloat16 results are accepted when they
    match torch's float32 result rounded once into the narrow dtype (the arithmetic torch's CPU kernels
    promise; some of its narrow kernels, composite ones, round intermediates)."""
    if on_stage:
        on_stage("minitorch")
    got = run_case(mt, case)
    if on_stage:
        on_stage("torch")
    want = run_case(th, case)
    ms = compare(got, want, case)
    if (ms and all(m["kind"] in ("value", "mutated", "base", "grad") for m in ms)
            and case["family"] in ("unary", "binary", "misc", "reduce")
            and all(s["dtype"] != "float64" for s in case["inputs"]) and case["op"] not in ("float_power",)):
        alt = run_case(th, upcast_case(case))
        if not alt.exc and not alt.grad_exc:
            alt.value, alt.mutated, alt.base = (_as_float32(alt.value), _as_float32(alt.mutated), _as_float32(alt.base))
            if alt.grads is not None:
                alt.grads = [_as_float32(x) if isinstance(x, dict) else x for x in alt.grads]
            if not compare(got, alt, case):
                ms = []
    if (NARROW_ALT and ms and all(m["kind"] in ("value", "mutated", "base", "grad") for m in ms)
            and (any(s["dtype"] in NARROW_FLOATS for s in case["inputs"])
                 or case["kwargs"].get("dtype") in [{"dtype": d} for d in NARROW_FLOATS])):
        alt = run_case(th, widen_case(case))
        if not alt.exc and not alt.grad_exc:
            for k in ("value", "mutated", "base", "grads"):
                setattr(alt, k, _round_like(getattr(alt, k), getattr(want, k)))
            # a mismatch stays when the float32 oracle disagrees at the same place too (a result can match
            # it while a gradient's difference is a known one)
            left = {(m["kind"], m["detail"].split(":")[0]) for m in compare(got, alt, case)}
            ms = [m for m in ms if (m["kind"], m["detail"].split(":")[0]) in left]
    return got, want, ms


# ---------------------------------------------------------------------------------------------
# reproducers
# ---------------------------------------------------------------------------------------------

def _lit(node):
    if isinstance(node, dict):
        if "t" in node:
            return f"x{node['t']}"
        if "list" in node:
            return "[" + ", ".join(_lit(x) for x in node["list"]) + "]"
        if "tuple" in node:
            items = [_lit(x) for x in node["tuple"]]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if "slice" in node:
            a, b, c = node["slice"]
            s = f"{'' if a is None else a}:{'' if b is None else b}"
            return s + (f":{c}" if c is not None else "")
        if "ellipsis" in node:
            return "..."
        if "dtype" in node:
            return f"lib.{node['dtype']}"
    if isinstance(node, float) and not math.isfinite(node):
        return f"float('{node}')"
    return repr(node)


def _index_lit(node):
    if isinstance(node, dict) and "tuple" in node:
        return ", ".join(_index_lit(x) for x in node["tuple"]) or "()"
    return _lit(node)


def case_code(case, lib="lib"):
    """Python lines that rebuild the inputs and make the call (`lib` is minitorch or torch)."""
    lines = []
    for i, s in enumerate(case["inputs"]):
        a = make_array(s)
        if a.size <= 24:
            src = f"np.array({a.tolist()!r}, dtype=np.{_np_dtype(s['dtype']).__name__ if s['dtype'] == 'bool' else a.dtype})"
            if a.ndim and a.size == 0:
                src += f".reshape({tuple(a.shape)})"
        else:
            src = f"make_array({s!r})"
        t = f"{lib}.tensor({src})"
        if s["dtype"] == "bfloat16":
            t += f".to({lib}.bfloat16)"
        if s.get("rg"):
            t += ".requires_grad_()"
            if s.get("clone"):
                t += ".clone()"
        for v in s["views"]:
            if v[0] == "permute":
                t += f".permute{tuple(v[1])}"
            elif v[0] == "slice":
                t += "[" + ", ".join(f"{a_}:{b_}:{c_}" for a_, b_, c_ in v[1]) + "]"
            elif v[0] == "expand":
                t += f".expand({', '.join(map(str, v[1]))})"
            elif v[0] == "select":
                t += f".select({v[1]}, {v[2]})"
        lines.append(f"x{i} = {t}")
    args = [_lit(a).replace("lib.", lib + ".") for a in case["args"]]
    kw = [f"{k}={_lit(v).replace('lib.', lib + '.')}" for k, v in case["kwargs"].items()]
    op, form = case["op"], case["form"]
    call_args = ", ".join(args + kw)
    if form in ("F", "Fr"):
        call = f"{lib}.{op}({call_args})"
    elif form == "M":
        call = f"{args[0]}.{op}({', '.join(args[1:] + kw)})"
    elif form == "I":
        call = f"{args[0]}.{op}_({', '.join(args[1:] + kw)})"
    elif form == "Mwhere":
        call = f"{args[1]}.where({args[0]}, {args[2]})"
    elif form in ("op", "rop"):
        if op in UNARY_OPERATORS:
            sym = UNARY_OPERATORS[op]
            call = f"abs({args[0]})" if sym == "abs" else f"{sym}{args[0]}"
        else:
            call = f"{args[0]} {'@' if op == 'matmul' else OPERATORS[op]} {args[1]}"
    elif form == "iop":
        call = f"{args[0]} {INPLACE_OPERATORS[op]} {args[1]}"
    elif form == "getitem":
        call = f"{args[0]}[{_index_lit(case['args'][1])}]"
    elif form == "setitem":
        call = f"{args[0]}[{_index_lit(case['args'][1])}] = {args[2]}"
    elif form == "attr":
        call = f"{args[0]}.{op}"
    else:
        call = f"<{form}>"
    if op == "_trigamma":
        call = f"{args[0]}._trigamma()" if lib == "minitorch" else f"torch.polygamma(1, {args[0]})"
    lines.append(call)
    return lines


def describe(case):
    """One line: op, form, input dtypes/shapes/layouts, seed and index."""
    parts = []
    for i, s in enumerate(case["inputs"]):
        lay = "+".join(v[0] for v in s["views"]) or "contig"
        parts.append(f"x{i}:{s['dtype']}{view_shape(s)}({lay}{',rg' if s.get('rg') else ''})")
    return (f"{case['family']}:{case['op']} form={case['form']} {' '.join(parts)} args={[_lit(a) for a in case['args']]} "
            f"kwargs={ {k: _lit(v) for k, v in case['kwargs'].items()} } seed={case['seed']} index={case['index']}")

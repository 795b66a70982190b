"""Case generation for the differential fuzzer (minitorch vs PyTorch).

A case is a plain, JSON-serialisable dict, a pure function of (seed, index):

    {"seed", "index", "family", "op", "form",
     "inputs": [tensor spec, ...],      # built identically by both libraries
     "args": [node, ...], "kwargs": {name: node}}

A tensor spec is {"dtype", "base": shape, "data": {...}, "views": [...], "rg": bool, "clone": bool}:
the base array comes from NumPy (seeded), each library makes its own tensor from the same array,
then applies the same views (permute / slice with steps / expand / select), so both sides see
the same non-contiguous or stride-0 layout. An argument node is a literal (int, float, bool,
None, str) or one of {"t": i} (input tensor i), {"list": [...]}, {"tuple": [...]},
{"slice": [a, b, c]}, {"ellipsis": 1}, {"dtype": name}.

Forms: F minitorch.op(*args), M args[0].op(*rest), I args[0].op_(*rest), op / rop / iop Python
operators (a OP b, scalar OP b, a OP= b), getitem, setitem, attr (a property such as .T).
Narrow dtypes (uint8 int8 int16 float16 bfloat16): a share of the indices (NARROW_SHARE), picked from a
stream of their own, are narrow cases, whose dtypes come from NARROW first; the other indices give the
cases they gave before the narrow dtypes existed.
Nothing here imports minitorch or torch.
"""
import math
import os

import numpy as np

DTYPES = ["float32", "float64", "int64", "int32", "bool"]  # the original dtypes: their cases are unchanged
# the narrow storage dtypes (computed in float32 / int32 and rounded once per op, as PyTorch's CPU kernels)
NARROW = ["uint8", "int8", "int16", "float16", "bfloat16"]
NARROW_WEIGHTS = (12, 12, 10, 33, 33)
ALL_DTYPES = DTYPES + NARROW
FLOATS = ("float32", "float64", "float16", "bfloat16")
NARROW_FLOATS = ("float16", "bfloat16")
INTS = ("int64", "int32", "uint8", "int8", "int16")
# The share of cases built around a narrow dtype. It is decided from its own random stream, so every other
# case is exactly the case the same (seed, index) gave before the narrow dtypes existed;
# MINITORCH_FUZZ_NARROW=0 reproduces the old sequence in full, =1 makes every case a narrow one.
NARROW_SHARE = float(os.environ.get("MINITORCH_FUZZ_NARROW", "0.34"))

# ---------------------------------------------------------------------------------------------
# the elementwise manifest (minitorch._C._ops), passed in by the caller so that this module does
# not import minitorch; the generator only needs names, arity, variants and differentiability.
# ---------------------------------------------------------------------------------------------

# float-input domains that keep most values where the op is defined (the rest of the values still
# come from the general distributions, so out-of-domain inputs are exercised too)
FLOAT_PREF = {
    "log": "pos", "log2": "pos", "log10": "pos", "log1p": "pos", "sqrt": "pos", "rsqrt": "pos",
    "reciprocal": "pos", "acosh": "pos1", "asin": "unit", "acos": "unit", "atanh": "unit", "erfinv": "unit",
    "logit": "prob", "lgamma": "pos", "digamma": "pos", "_trigamma": "pos", "tan": "unit",
}
INT_PREF_B = {  # the second operand of integer binary ops
    "floor_divide": "nonzero", "remainder": "nonzero", "fmod": "nonzero", "div": "nonzero",
    "pow": "nonneg", "bitwise_left_shift": "shift", "bitwise_right_shift": "shift",
}
OPERATORS = {
    "add": "+", "sub": "-", "mul": "*", "div": "/", "floor_divide": "//", "remainder": "%", "pow": "**",
    "bitwise_and": "&", "bitwise_or": "|", "bitwise_xor": "^", "bitwise_left_shift": "<<",
    "bitwise_right_shift": ">>", "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
}
UNARY_OPERATORS = {"neg": "-", "abs": "abs", "bitwise_not": "~"}
INPLACE_OPERATORS = {k: v + "=" for k, v in OPERATORS.items() if k not in ("eq", "ne", "lt", "le", "gt", "ge")}

SPECIAL_FLOATS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 1e30, -1e30, 1e-40,
                  3e38, 1e-7, 88.8, -104.0, 709.0]
# the narrow floats' own edges (largest finite, subnormals, exp's overflow point), mixed into their "special" data
NARROW_SPECIALS = {"float16": [65504.0, -65504.0, 6e-8, 1e-5, 6.1e-5, 11.1, -17.3, 300.0, 1e30],
                   "bfloat16": [3.3e38, -3.3e38, 1e-39, 9.2e-41, 1.2e-38, 88.8, -104.0, 1e30]}
SCALARS_INT = [0, 1, -1, 2, 3, -3, 5, 7, -8, 100, 2 ** 31, -2 ** 31 - 1, 2 ** 40]
SCALARS_FLOAT = [0.5, -2.5, 0.0, -0.0, 1e-3, 3.75, 2.0, -1.0, float("nan"), float("inf"), float("-inf"), 1e20]
SCALARS_BOOL = [True, False]


class Gen:
    """Random helpers over one numpy Generator."""

    def __init__(self, seed, index, narrow=False):
        self.r = np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(index)]))
        self.narrow = narrow  # a narrow case: its first dtype is a narrow one, later ones mostly too
        self._dtypes_drawn = 0

    def p(self, prob):
        return bool(self.r.random() < prob)

    def pick(self, seq, weights=None):
        if weights is None:
            return seq[int(self.r.integers(len(seq)))]
        w = np.asarray(weights, dtype=float)
        return seq[int(self.r.choice(len(seq), p=w / w.sum()))]

    def int(self, lo, hi):  # inclusive (an empty range gives lo)
        return int(self.r.integers(lo, hi + 1)) if hi >= lo else int(lo)

    def seed(self):
        return int(self.r.integers(2 ** 31))

    # ---- shapes ----
    def dim_size(self):
        return self.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 17], [3, 18, 16, 14, 11, 9, 6, 6, 5, 4, 3])

    def shape(self, rank=None, max_numel=600, min_rank=0, max_rank=5):
        if rank is None:
            rank = self.pick([0, 1, 2, 3, 4, 5], [8, 22, 26, 20, 14, 10])
            rank = min(max(rank, min_rank), max_rank)
        s = [self.dim_size() for _ in range(rank)]
        while int(np.prod(s)) > max_numel:
            i = int(np.argmax(s))
            s[i] = max(1, s[i] // 2)
        return s

    def big_shape(self):
        """Shapes past the kernels' thread split (2^15 .. 2^17 elements)."""
        return self.pick([[2, 40000], [70001], [3, 130, 170], [257, 255], [1, 65537], [33000, 2], [4, 5, 3301]])

    def broadcast_pair(self, out):
        """Two shapes that broadcast to `out` (or, rarely, do not broadcast)."""
        def derive():
            s = list(out)
            drop = self.int(0, len(s)) if self.p(0.3) else 0
            s = s[drop:]
            for i in range(len(s)):
                if self.p(0.25):
                    s[i] = 1
            return s
        a, b = (list(out), derive()) if self.p(0.5) else (derive(), list(out))
        if self.p(0.5):
            a, b = b, a
        if self.p(0.06) and len(out):
            # an incompatible pair: a size that is neither 1 nor the other's
            i = self.int(0, len(b) - 1) if b else None
            if i is not None and b[i] not in (0,):
                b[i] = b[i] + 1 if b[i] != 1 else 2
                if len(a) >= len(b) and a[len(a) - len(b) + i] == 1:
                    a[len(a) - len(b) + i] = 3
        return a, b

    # ---- dtypes, scalars ----
    def dtype(self, weights=(30, 16, 20, 14, 20)):
        """A dtype; `weights` are those of DTYPES (narrow cases draw the narrow ones by NARROW_WEIGHTS)."""
        if not self.narrow:
            return self.pick(DTYPES, weights)
        self._dtypes_drawn += 1
        if self._dtypes_drawn == 1 or self.p(0.6):
            return self.pick(NARROW, NARROW_WEIGHTS)
        return self.pick(DTYPES, weights)  # mixed with a wide dtype: promotion across the lattice

    def any_dtype(self):
        """A dtype= argument: every dtype in narrow cases."""
        return self.pick(ALL_DTYPES if self.narrow else DTYPES)

    def scalar(self, kinds=("int", "float", "bool"), weights=None):
        k = self.pick(list(kinds), weights)
        if k == "int":
            return self.pick(SCALARS_INT, [9, 9, 8, 8, 6, 6, 5, 4, 4, 3, 1, 1, 1])
        if k == "float":
            return self.pick(SCALARS_FLOAT, [10, 10, 5, 3, 3, 5, 6, 5, 2, 2, 2, 1])
        return self.pick(SCALARS_BOOL)


# ---------------------------------------------------------------------------------------------
# layouts: the views that turn a base array into a tensor of a wanted shape
# ---------------------------------------------------------------------------------------------

def make_layout(g, shape, kind=None):
    """(base shape, views): views applied in order to a tensor of the base shape give `shape`."""
    shape = list(shape)
    r = len(shape)
    if kind is None:
        kind = g.pick(["contig", "perm", "slice", "expand", "select", "mixed"], [44, 15, 15, 12, 4, 10])
    if kind == "contig":
        return shape, []
    steps = [kind] if kind != "mixed" else [g.pick(["perm", "slice", "expand", "select"]) for _ in range(g.int(2, 3))]
    cur, views = shape, []
    for st in steps:  # built from the output backwards: each step finds the shape before it
        r = len(cur)
        if st == "perm" and r >= 2:
            p = [int(v) for v in g.r.permutation(r)]
            prev = [0] * r
            for i in range(r):
                prev[p[i]] = cur[i]
            views.insert(0, ["permute", p])
            cur = prev
        elif st == "slice" and r >= 1:
            prev, sl = [], []
            for n in cur:
                step = g.pick([1, 2, 3], [3, 4, 2])
                start = g.int(0, 2)
                extra = g.int(0, 2)
                if n == 0:
                    prev.append(start + extra)
                    sl.append([start, start, step])
                else:
                    stop = start + (n - 1) * step + 1
                    prev.append(stop + extra)
                    sl.append([start, stop, step])
            views.insert(0, ["slice", sl])
            cur = prev
        elif st == "expand" and r >= 1:
            prev = list(cur)
            for i in range(r):
                if g.p(0.5):
                    prev[i] = 1
            drop = g.int(0, min(2, r)) if g.p(0.3) else 0
            prev = prev[drop:]
            if prev == cur:
                if r:
                    prev[-1] = 1 if cur[-1] != 1 else 1
            views.insert(0, ["expand", list(cur)])
            cur = prev
        elif st == "select":
            d = g.int(0, r)
            n = g.int(1, 4)
            prev = cur[:d] + [n] + cur[d:]
            views.insert(0, ["select", d, g.int(0, n - 1)])
            cur = prev
    return cur, views


def data_spec(g, dtype, op=None, side="a", dist=None):
    if dist is None:
        if dtype == "bool":
            dist = "bool"
        elif dtype in FLOATS:
            pref = FLOAT_PREF.get(op, "normal")
            dist = g.pick(["normal", pref, "special", "intlike", "wide"], [34, 28, 18, 12, 8])
        else:
            pref = INT_PREF_B.get(op, "small") if side == "b" else "small"
            dist = g.pick(["small", pref, "wide", "nonneg"], [40, 35, 12, 13])
    return {"seed": g.seed(), "dist": dist}


POLES = {"lgamma", "digamma", "_trigamma"}  # poles at 0, -1, -2, ...: both sides' values there are rounding noise


def tensor_spec(g, shape, dtype, op=None, side="a", dist=None, layout=None, data=None):
    base, views = make_layout(g, shape, layout)
    data = data if data is not None else data_spec(g, dtype, op, side, dist)
    if op in POLES:
        data["nopoles"] = True
    return {"dtype": dtype, "base": [int(s) for s in base], "views": views, "data": data, "rg": False, "clone": False}


def literal_spec(values, dtype, shape=None):
    a = np.asarray(values)
    return {"dtype": dtype, "base": list(a.shape) if shape is None else list(shape), "views": [],
            "data": {"dist": "literal", "values": a.reshape(-1).tolist()}, "rg": False, "clone": False}


def make_array(spec):
    """The base NumPy array of a tensor spec. NumPy has no bfloat16: its array is float32, which each library
    converts with its own .to(bfloat16) (fuzz_exec.build_inputs)."""
    dtype, shape, d = spec["dtype"], tuple(spec["base"]), spec["data"]
    npdt = np.bool_ if dtype == "bool" else np.dtype("float32" if dtype == "bfloat16" else dtype)
    dist = d["dist"]
    if dist == "literal":
        return np.asarray(d["values"], dtype=npdt).reshape(shape)
    r = np.random.default_rng(d["seed"])
    if dist == "bool":
        return _upcast(np.asarray(r.random(shape) < d.get("p", 0.5)).reshape(shape), d)
    if dtype in FLOATS:
        if dist == "normal":
            a = r.standard_normal(shape) * r.choice([1.0, 3.0])
        elif dist == "pos":
            a = r.uniform(0.05, 4.0, shape)
        elif dist == "pos1":
            a = r.uniform(1.0, 5.0, shape)
        elif dist == "unit":
            a = r.uniform(-0.95, 0.95, shape)
        elif dist == "prob":
            a = r.uniform(0.02, 0.98, shape)
        elif dist == "intlike":
            a = r.integers(-10, 11, shape) / 2.0
        elif dist == "wide":
            lo, hi = (-17, 11.5) if dtype == "float16" else (-14, 14)  # float16: subnormals to near its overflow
            a = np.exp(r.uniform(lo, hi, shape)) * r.choice([-1.0, 1.0], shape)
        elif dist == "special":
            a = np.array(r.standard_normal(shape) * 2).reshape(shape)
            m = np.array(r.random(shape) < 0.2).reshape(shape)
            a[m] = r.choice(np.array(SPECIAL_FLOATS + NARROW_SPECIALS.get(dtype, [])), int(m.sum()))
        elif dist == "rspecial":  # specials without overflow-sized finite values (reductions)
            a = np.array(r.standard_normal(shape) * 2).reshape(shape)
            m = np.array(r.random(shape) < 0.15).reshape(shape)
            a[m] = r.choice(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, 1e-40, 1e-7]), int(m.sum()))
        elif dist == "gspecial":
            a = np.array(r.standard_normal(shape) * 2).reshape(shape)
            m = np.array(r.random(shape) < 0.15).reshape(shape)
            a[m] = r.choice(np.array([np.nan, 0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -3.0]), int(m.sum()))
        elif dist == "range":
            a = r.uniform(d["lo"], d["hi"], shape)
        elif dist == "distinct":  # distinct values, exact in bfloat16 and float16 (7 fraction bits, |x| in [1/4, 16))
            pool = np.concatenate([(1 + np.arange(128) / 128) * 2.0 ** k for k in range(-2, 4)])
            pool = np.concatenate([pool, -pool])
            n = int(np.prod(shape))
            a = r.choice(pool, n, replace=n > pool.size).reshape(shape)  # (a base larger than the pool: some ties)
        else:
            raise ValueError(dist)
        if d.get("nopoles") and dtype in NARROW_FLOATS:
            # the poles are found after the rounding into the narrow dtype (which makes integers of -33.1, ...);
            # below -60, x + 0.25 (off the pole) would round back onto it
            a = np.maximum(a, -60.0)
            if dtype == "bfloat16":
                a = round_bfloat16(a)
        with np.errstate(over="ignore"):
            return _upcast(np.asarray(a, dtype=npdt).reshape(shape), d)
    info = np.iinfo(npdt)
    if dist == "small":
        a = r.integers(-6, 7, shape)
    elif dist == "nonzero":
        a = r.integers(1, 8, shape) * r.choice([-1, 1], shape)
    elif dist == "nonneg":
        a = r.integers(0, 10, shape)
    elif dist == "shift":
        a = r.choice([0, 1, 2, 3, 7, 8, 15, 31, 32, 33, 63, 64, 65, -1, -2], shape)
    elif dist == "wide":
        pool = np.array([info.min, info.max, info.min + 1, info.max - 1, 0, -1, 1, 2 ** 20, -(2 ** 20), 46341, 3037000500],
                        dtype=np.int64)
        pool = pool[(pool >= info.min) & (pool <= info.max)]
        a = np.where(r.random(shape) < 0.5, r.choice(pool, shape), r.integers(info.min // 2, info.max // 2, shape))
    elif dist == "range":
        a = r.integers(d["lo"], d["hi"], shape) if d["hi"] > d["lo"] else np.full(shape, d["lo"])
    else:
        raise ValueError(dist)
    return _upcast(np.asarray(a).astype(npdt).reshape(shape), d)


def round_bfloat16(a):
    """float32 values rounded to the nearest bfloat16 (ties to even), held in float32 (NumPy has no bfloat16)."""
    a = np.asarray(a, np.float32)
    b = a.view(np.uint32).astype(np.uint64)
    r = (((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16).astype(np.uint32).view(np.float32)
    return np.where(np.isnan(a), a, r)


def _upcast(a, d):
    """The same values in a wider dtype (the float64 oracle for float32 results); pole inputs
    (negative integers) of the gamma-family functions moved off the pole."""
    if d.get("nopoles") and a.dtype.kind in "fiu":
        pole = (a < 0) & (a == np.round(a)) if a.dtype.kind == "f" else (a < 0)
        if a.dtype.kind == "f":
            a = np.where(pole, a + np.asarray(0.25, a.dtype), a).astype(a.dtype)
        else:
            a = np.where(pole, -a, a).astype(a.dtype)
    return a.astype(d["upcast"]) if d.get("upcast") else a


def view_shape(spec):
    """The shape of a spec after its views (pure shape arithmetic)."""
    s = list(spec["base"])
    for v in spec["views"]:
        if v[0] == "permute":
            s = [s[i] for i in v[1]]
        elif v[0] == "slice":
            s = [len(range(*sl)) for sl in v[1]] + s[len(v[1]):]
        elif v[0] == "expand":
            s = list(v[1])
        elif v[0] == "select":
            s = s[:v[1]] + s[v[1] + 1:]
    return s


# ---------------------------------------------------------------------------------------------
# families
# ---------------------------------------------------------------------------------------------

def _T(i):
    return {"t": i}


def _case(family, op, form, inputs, args, kwargs=None, **extra):
    c = {"family": family, "op": op, "form": form, "inputs": inputs, "args": args, "kwargs": kwargs or {}}
    c.update(extra)
    return c


# ops without a derivative: their in-place forms on tensors that require grad follow autograd
# rules torch itself is inconsistent about, so those get no gradient check
NONDIFF = {"logical_not", "isnan", "isinf", "isfinite", "bitwise_not", "floor_divide", "eq", "ne", "lt", "le", "gt",
           "ge", "logical_and", "logical_or", "logical_xor", "nextafter", "heaviside", "bitwise_and", "bitwise_or",
           "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "_trigamma", "greater", "less", "greater_equal",
           "less_equal", "not_equal", "argmax", "argmin", "all", "any", "nonzero", "argsort"}


def _maybe_grad(g, case, prob=0.3, mutating=False):
    """Marks float tensor inputs as requiring grad (mutating forms work on a clone of the leaf)."""
    if not g.p(prob) or case["op"] == "_trigamma" or (mutating and case["op"] in NONDIFF):
        return case
    dt = case["kwargs"].get("dtype")
    if isinstance(dt, dict) and dt.get("dtype") not in FLOATS:
        return case  # torch refuses autograd through an integer dtype= reduction
    if case["op"] in ("var", "std") and {"tuple": []} in list(case["kwargs"].values()) + case["args"]:
        return case  # torch's own var/std backward is wrong for dim=() (2x, and inf for std)
    ties_matter = case["op"] in ("topk", "sort")
    for i, spec in enumerate(case["inputs"]):
        if spec["dtype"] in FLOATS and spec["data"]["dist"] != "literal" and not spec.get("index"):
            spec["rg"] = True
            if spec["data"]["dist"] in ("special", "wide", "rspecial"):
                spec["data"]["dist"] = "gspecial"  # no overflow-sized values: intermediate overflow differs
            if ties_matter:
                # ties pick unspecified indices, so gradients differ; normal values tie often once rounded
                # into a narrow dtype, so those get distinct ones
                spec["data"]["dist"] = "distinct" if spec["dtype"] in NARROW_FLOATS else "normal"
            if mutating and i == 0:
                spec["clone"] = True
    return case


def _shape_for(g):
    return g.big_shape() if g.p(0.012) else g.shape()


def _declared_forms(op):
    """The call forms an op's declared variants allow (function, method, in-place), weighted."""
    forms = []
    for v, weight in (("F", 4), ("M", 3), ("I", 3)):
        if v in op["variants"]:
            forms += [v] * weight
    return forms


def gen_unary(g, ops):
    op = g.pick(ops)
    name = op["name"]
    dtype = g.dtype()
    shape = _shape_for(g)
    x = tensor_spec(g, shape, dtype, name)
    forms = _declared_forms(op)
    if name in UNARY_OPERATORS:
        forms += ["op"] * 2
    form = g.pick(forms)
    inputs, args, kwargs = [x], [_T(0)], {}
    if name == "clamp":
        def bound():
            k = g.pick(["none", "int", "float", "tensor"], [2, 3, 3, 3])
            if k == "none":
                return None
            if k == "int":
                return g.pick([-2, -1, 0, 1, 2, 3])
            if k == "float":
                return g.pick([-1.5, -0.5, 0.0, 0.25, 1.0, 2.5, float("nan"), float("inf")], [3, 3, 3, 3, 3, 2, 1, 1])
            s, _ = g.broadcast_pair(view_shape(x)) if g.p(0.8) else (g.shape(), None)
            inputs.append(tensor_spec(g, s, g.dtype((40, 20, 20, 10, 3)), None))
            return _T(len(inputs) - 1)
        lo, hi = bound(), bound()
        style = g.pick(["kw", "pos", "min", "max"])
        if style == "pos":
            args += [lo, hi]
        elif style == "min":
            kwargs["min"] = lo
        elif style == "max":
            kwargs["max"] = hi
        else:
            kwargs.update(min=lo, max=hi)
        if g.p(0.15) and form == "F":
            name = "clip"
    elif name == "logit":
        if g.p(0.5):
            kwargs["eps"] = g.pick([None, 0.0, 1e-6, 0.1, 0.3, 0.5])
    elif name == "nan_to_num":
        for k in ("nan", "posinf", "neginf"):
            if g.p(0.4):
                kwargs[k] = g.pick([0.0, 1.5, -2.0, 1e10, 1e40, 7, None])
    c = _case("unary", name, form, inputs, args, kwargs)
    return _maybe_grad(g, c, 0.3, mutating=form == "I")


def gen_binary(g, ops):
    op = g.pick(ops)
    name = op["name"]
    da = g.dtype()
    db = da if g.p(0.55) else g.dtype()
    out = _shape_for(g)
    sa, sb = g.broadcast_pair(out) if g.p(0.85) else (list(out), list(out))
    if g.p(0.08):
        sb = []  # a 0-d operand: it does not decide the result dtype within a category
    if g.p(0.04):
        sa = []
    a = tensor_spec(g, sa, da, name, "a")
    inputs, kwargs = [a], {}
    scalar = None
    if g.p(0.25):
        kinds = g.pick([("int",), ("float",), ("bool",), ("int", "float", "bool")])
        scalar = g.scalar(kinds)
        other = scalar
    else:
        inputs.append(tensor_spec(g, sb, db, name, "b"))
        other = _T(1)
    forms = _declared_forms(op)
    if name in OPERATORS:
        forms += ["op"] * 3
        if scalar is not None:
            forms += ["rop"] * 2
    if name in INPLACE_OPERATORS:
        forms += ["iop"] * 2
    if scalar is not None and "F" in op["variants"]:
        forms += ["Fr"]  # minitorch.op(scalar, tensor)
    form = g.pick(forms)
    if form in ("rop", "Fr"):
        args = [scalar, _T(0)]
    else:
        args = [_T(0), other]
    if name in ("add", "sub") and g.p(0.2) and form in ("F", "M", "I"):
        kwargs["alpha"] = g.pick([2, -1, 0, 0.5, True, 3])
    if name == "div" and g.p(0.35) and form in ("F", "M", "I"):
        kwargs["rounding_mode"] = g.pick([None, "trunc", "floor"])
    if g.p(0.04) and form in ("F", "M"):
        alias = {"sub": "subtract", "mul": "multiply", "div": "divide", "gt": "greater", "lt": "less",
                 "ge": "greater_equal", "le": "less_equal", "ne": "not_equal", "atan2": "arctan2"}.get(name)
        if alias:
            name = alias
    c = _case("binary", name, form, inputs, args, kwargs)
    return _maybe_grad(g, c, 0.3, mutating=form in ("I", "iop"))


REDUCTIONS = ["sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "var", "std", "logsumexp",
              "all", "any", "norm", "softmax", "log_softmax"]
MULTI_DIM = {"sum", "mean", "amax", "amin", "var", "std", "logsumexp", "norm", "all", "any"}


def _dim(g, r, allow_none=True, multi=False):
    k = g.pick(["none", "int", "neg", "tuple", "bad", "empty"], [3 if allow_none else 0, 5, 3, 4 if multi else 0, 1,
                                                               1 if multi else 0])
    if r == 0:
        return g.pick([None, 0, -1, 1]) if allow_none else g.pick([0, -1, 1])
    if k == "none":
        return None
    if k == "int":
        return g.int(0, r - 1)
    if k == "neg":
        return g.int(-r, -1)
    if k == "tuple":
        n = g.int(1, r)
        ds = [int(v) for v in g.r.permutation(r)[:n]]
        ds = [d - r if g.p(0.3) else d for d in ds]
        if g.p(0.08):
            ds.append(ds[0])  # a repeated dim
        return {"tuple": ds} if g.p(0.7) else {"list": ds}
    if k == "empty":
        return {"tuple": []}
    return g.pick([r, -r - 1, r + 2])


def gen_reduce(g, _ops=None):
    name = g.pick(REDUCTIONS)
    dtype = g.dtype((36, 20, 18, 10, 16))
    shape = _shape_for(g)
    x = tensor_spec(g, shape, dtype, name)
    if name == "prod" and x["data"]["dist"] == "wide" and dtype not in FLOATS:
        x["data"]["dist"] = "small"  # overflowing products: inf*0 vs 0*inf depends on the multiplication order
    if name == "prod" and dtype in FLOATS and int(np.prod(shape)) > 64:
        # long products of normal values end near the float range, where the multiplication order decides overflow
        x["data"].update(dist="range", lo=-1.3, hi=1.3)
    if x["data"]["dist"] in ("special", "wide") and dtype in FLOATS:
        # intermediate overflow (sum of squares, Welford vs two-pass) is implementation-defined
        x["data"]["dist"] = "rspecial"
    r = len(shape)
    args, kwargs = [_T(0)], {}
    if name in ("softmax", "log_softmax"):
        kwargs["dim"] = _dim(g, r, allow_none=False)
        if g.p(0.2):
            kwargs["dtype"] = {"dtype": g.pick(["float32", "float64"] + (list(NARROW_FLOATS) if g.narrow else []))}
    elif name == "logsumexp":
        kwargs["dim"] = _dim(g, r, allow_none=False, multi=True)
        if kwargs["dim"] == {"tuple": []}:
            kwargs["dim"] = {"tuple": [0]} if r else 0  # torch raises an internal error for dim=()
        if g.p(0.5):
            kwargs["keepdim"] = g.p(0.5)
    elif name in ("max", "min", "argmax", "argmin", "prod"):
        d = _dim(g, r, allow_none=True, multi=False)
        if d is not None:
            kwargs["dim"] = d
        if g.p(0.5) and (d is not None or name in ("argmax", "argmin")):
            kwargs["keepdim"] = g.p(0.5)
        if name == "prod" and g.p(0.15):
            kwargs["dtype"] = {"dtype": g.any_dtype()}
    else:
        d = _dim(g, r, multi=True)
        if d is not None:
            kwargs["dim"] = d
        if g.p(0.5) and d is not None:
            kwargs["keepdim"] = g.p(0.5)
        if name in ("sum", "mean") and g.p(0.15):
            kwargs["dtype"] = {"dtype": g.any_dtype()}
        if name in ("var", "std"):
            k = g.pick(["none", "unbiased", "correction"])
            if k == "unbiased":
                kwargs["unbiased"] = g.p(0.5)
            elif k == "correction":
                kwargs["correction"] = g.pick([0, 1, 2, 0.5])
        if name == "norm":
            if g.p(0.7):
                kwargs["p"] = g.pick([1, 2, 3, 0, 0.5, -1, float("inf"), float("-inf"), "fro", 2.0])
    # positional forms exercise the argument parsers too
    if "dim" in kwargs and g.p(0.3) and name not in ("norm", "var", "std"):
        args.append(kwargs.pop("dim"))
        if "keepdim" in kwargs and g.p(0.5):
            args.append(kwargs.pop("keepdim"))
    form = g.pick(["F", "M"])
    c = _case("reduce", name, form, [x], args, kwargs)
    return _maybe_grad(g, c, 0.3)


def _reshape_target(g, shape):
    n = int(np.prod(shape)) if shape else 1
    if g.p(0.1):
        return [n + 1] if n else [2, -1]  # invalid (or, for 0 elements, ambiguous -1)
    if g.p(0.02):
        return g.pick([[-2, n], [-1, -1], [2 ** 62, 4], [-n - 1] if n else [-3]])  # negative / overflowing sizes
    # factor n into a random shape
    out = []
    m = n
    while m > 1 and len(out) < 4:
        f = [d for d in range(2, m + 1) if m % d == 0]
        d = g.pick(f[:6]) if f else m
        out.append(d)
        m //= d
    if m > 1 or not out and n:
        out.append(m)
    if n == 0:
        out = [g.int(0, 3), 0, g.int(1, 2)][: g.int(1, 3)]
        if 0 not in out:
            out.append(0)
    g.r.shuffle(out)
    if g.p(0.25):
        out.insert(g.int(0, len(out)), 1)
    if out and g.p(0.35) and n:
        out[g.int(0, len(out) - 1)] = -1
    return [int(v) for v in out]


SHAPE_OPS = ["reshape", "view", "flatten", "squeeze", "unsqueeze", "permute", "transpose", "t", "T", "mT", "expand",
             "repeat", "narrow", "select", "split", "chunk", "unbind", "flip", "cat", "stack", "contiguous", "clone",
             "swapaxes", "expand_as", "reshape_as", "view_as"]


def gen_shape(g, _ops=None):
    name = g.pick(SHAPE_OPS)
    dtype = g.dtype()
    shape = g.shape(max_numel=400)
    r = len(shape)
    x = tensor_spec(g, shape, dtype)
    inputs, args, kwargs, form = [x], [_T(0)], {}, g.pick(["F", "M"])
    if name in ("reshape", "view"):
        tgt = _reshape_target(g, shape)
        if g.p(0.5) and form == "M":
            args += tgt
        else:
            args.append({"tuple": tgt})
        if name == "view":
            form = "M"
    elif name == "flatten":
        if g.p(0.7):
            args.append(_dim(g, max(r, 1), allow_none=False))
            if g.p(0.7):
                args.append(_dim(g, max(r, 1), allow_none=False))
    elif name == "squeeze":
        if g.p(0.7):
            d = _dim(g, r, allow_none=True, multi=True)
            if d is not None:
                args.append(d)
    elif name == "unsqueeze":
        args.append(g.int(-r - 1, r) if g.p(0.92) else g.pick([r + 1, -r - 2]))
    elif name == "permute":
        p = [int(v) for v in g.r.permutation(r)]
        p = [d - r if g.p(0.2) else d for d in p]
        if g.p(0.08) and r:
            p[0] = p[-1] if r > 1 else r
        if g.p(0.08):
            p = p[:-1] if p else [0]
        if g.p(0.5) and form == "M":
            args += p
        else:
            args.append({"tuple": p})
    elif name in ("transpose", "swapaxes"):
        args += [_dim(g, r, allow_none=False), _dim(g, r, allow_none=False)]
    elif name in ("t", "T", "mT"):
        if name != "t":
            form = "attr"
    elif name in ("expand", "expand_as"):
        tgt = list(shape)
        for i in range(r):
            if tgt[i] == 1 and g.p(0.6):
                tgt[i] = g.int(0, 4)
            elif g.p(0.1):
                tgt[i] = -1
        tgt = [g.int(1, 3) for _ in range(g.int(0, 2))] + tgt
        if g.p(0.05) and tgt:
            tgt[-1] += 1
        if g.p(0.03) and tgt:
            tgt[0] = g.pick([-2, 2 ** 62])
        if name == "expand":
            args += tgt if g.p(0.5) else [{"tuple": tgt}]
        else:
            inputs.append(tensor_spec(g, [abs(v) if abs(v) < 2 ** 20 else 2 for v in tgt], "float32", layout="contig"))
            args.append(_T(1))
        form = "M"
    elif name in ("reshape_as", "view_as"):
        tgt = [1 if v == -1 else abs(v) if abs(v) < 2 ** 20 else 2 for v in _reshape_target(g, shape)]
        inputs.append(tensor_spec(g, tgt, "int32", layout="contig"))
        args.append(_T(1))
        form = "M"
    elif name == "repeat":
        reps = [g.int(0, 3) for _ in range(max(r, 0) + g.int(0, 2))]
        if g.p(0.03) and reps:
            reps[0] = g.pick([-1, 2 ** 62])
        if g.p(0.05) and reps:
            reps = reps[1:]
        args += reps if g.p(0.5) else [{"tuple": reps}]
        form = "M"
    elif name == "narrow":
        d = _dim(g, r, allow_none=False)
        n = shape[d] if isinstance(d, int) and -r <= d < r and r else 3
        start = g.int(-n, n) if n else 0
        args += [d, start, g.int(0, max(0, n - (start % n if n else 0)) + (1 if g.p(0.1) else 0))]
    elif name == "select":
        d = _dim(g, r, allow_none=False)
        n = shape[d] if isinstance(d, int) and -r <= d < r and r else 3
        args += [d, g.int(-n, n - 1) if g.p(0.9) else n]
    elif name in ("split", "chunk"):
        d = _dim(g, r, allow_none=False)
        n = shape[d] if isinstance(d, int) and -r <= d < r and r else 3
        if name == "split":
            if g.p(0.3) and n:
                parts, left = [], n
                while left > 0:
                    k = g.int(0, left)
                    parts.append(k)
                    left -= k
                    if len(parts) > 5:
                        parts.append(left)
                        break
                if g.p(0.1):
                    parts.append(1)
                args.append({"list": parts})
            else:
                args.append(g.int(0 if n == 0 else 1, max(1, n + 1)))
        else:
            args.append(g.int(1, 5) if g.p(0.95) else 0)
        args.append(d)
    elif name == "unbind":
        args.append(_dim(g, r, allow_none=False))
    elif name == "flip":
        ds = _dim(g, r, allow_none=False, multi=True)
        if isinstance(ds, int):
            ds = {"tuple": [ds]}
        if g.p(0.5) and form == "M":
            args += ds.get("tuple", ds.get("list"))
        else:
            args.append(ds)
        if r == 0:
            args = [_T(0), {"tuple": []}]
    elif name in ("cat", "stack"):
        n = g.int(1, 4)
        if name == "cat":
            d = _dim(g, max(r, 1), allow_none=False)
        else:
            d = g.int(-r - 1, r) if g.p(0.9) else r + 1
        inputs = []
        for k in range(n):
            s = list(shape)
            if name == "cat" and isinstance(d, int) and -max(r, 1) <= d < max(r, 1) and r:
                s[d] = g.int(0, 4)
            if g.p(0.05) and s:
                s[g.int(0, len(s) - 1)] += 1  # a shape mismatch
            if name == "cat" and g.p(0.04):
                s = [0]  # torch's legacy rule: 1-d empty tensors are skipped
            dt = dtype if g.p(0.75) else g.dtype()
            inputs.append(tensor_spec(g, s, dt))
        args = [{"list": [_T(i) for i in range(n)]} if g.p(0.7) else {"tuple": [_T(i) for i in range(n)]}]
        if g.p(0.5):
            kwargs["dim"] = d
        else:
            args.append(d)
        form = "F"
        if g.p(0.04):
            args = [{"list": []}]
    elif name in ("contiguous", "clone"):
        if name == "contiguous":
            form = "M"
    c = _case("shape", name, form, inputs, args, kwargs)
    # probe aliasing: write into the result and compare the inputs afterwards (views share memory)
    if g.p(0.3) and name not in ("cat", "stack"):
        c["probe"] = True
    return _maybe_grad(g, c, 0.25)


def _index_entry(g, size, inputs, allow_adv=True):
    """One entry of an index tuple for a dim of `size`; returns (node, dims consumed)."""
    k = g.pick(["int", "slice", "none", "ellipsis", "tensor", "list", "mask", "bool", "t0"],
               [18, 30, 6, 5, 14 if allow_adv else 0, 6 if allow_adv else 0, 8 if allow_adv else 0, 2, 3])
    if k == "int":
        if size == 0 or g.p(0.04):
            return g.pick([size, -size - 1, 0]), 1
        return g.int(-size, size - 1), 1
    if k == "slice":
        def b():
            return g.pick([None, g.int(-size - 2, size + 2)], [1, 2])
        step = g.pick([None, 1, 2, 3], [4, 2, 3, 1]) if g.p(0.97) else g.pick([0, -1])
        return {"slice": [b(), b(), step]}, 1
    if k == "none":
        return None, 0
    if k == "ellipsis":
        return {"ellipsis": 1}, -1
    if k == "bool":
        return g.p(0.5), 0
    if k == "t0":  # a 0-d integer tensor: basic indexing in both libraries
        v = g.int(-size, size - 1) if size else 0
        inputs.append(literal_spec(v, g.pick(["int64", "int32"])))
        inputs[-1]["index"] = True
        return _T(len(inputs) - 1), 1
    if k in ("tensor", "list"):
        shp = g.shape(max_numel=12, max_rank=2)
        lo, hi = (-size, size - 1) if size else (0, 0)
        if g.p(0.04) or size == 0:
            hi = hi + 1  # out of range
        if k == "list":
            n = g.int(0, 4)
            vals = [g.int(lo, hi) for _ in range(n)]
            return {"list": vals}, 1
        inputs.append({"dtype": g.pick(["int64", "int32"], [4, 1]), "base": shp, "views": [],
                       "data": {"seed": g.seed(), "dist": "range", "lo": lo, "hi": hi + 1}, "rg": False, "clone": False,
                       "index": True})
        return _T(len(inputs) - 1), 1
    return None, 0


def _bad_lo(g, size):
    """The low end of an index range: 0, or (rarely) negative / far out of range, which the
    index ops must reject rather than read or write outside the tensor."""
    return g.pick([0, -1, -size - 1, -(2 ** 40)], [94, 3, 2, 1])


def gen_index(g, _ops=None):
    name = g.pick(["getitem", "setitem", "index_select", "gather", "scatter", "scatter_add", "masked_fill", "nonzero",
                   "take_mask", "where"], [30, 18, 7, 7, 5, 5, 7, 4, 5, 8])
    dtype = g.dtype()
    shape = g.shape(max_numel=300, min_rank=0)
    r = len(shape)
    x = tensor_spec(g, shape, dtype)
    inputs, args, kwargs, form = [x], [_T(0)], {}, "F"
    if name in ("getitem", "setitem"):
        form = name
        n = g.int(1, min(r + 1, 4)) if r else g.int(0, 2)
        entries, d, ell = [], 0, False
        for _ in range(n):
            size = shape[d] if d < r else 1
            e, used = _index_entry(g, size, inputs)
            if used == -1:
                if ell:
                    continue
                ell = True
                d = r - (n - len(entries) - 1)
                d = max(d, 0)
            else:
                d += used
            entries.append(e)
        # bool masks: a mask over the next dims (mask shape = those sizes)
        if g.p(0.12) and r:
            k = g.int(1, min(r, 2))
            inputs.append(tensor_spec(g, shape[:k], "bool", layout="contig"))
            inputs[-1]["index"] = True
            entries = [_T(len(inputs) - 1)] + ([] if g.p(0.5) else [{"slice": [None, None, g.pick([1, 2])]}])
        idx = entries[0] if len(entries) == 1 and g.p(0.6) else {"tuple": entries}
        args = [_T(0), idx]
        if name == "setitem":
            if g.p(0.5):
                args.append(g.scalar())
            else:
                # a value that broadcasts to a guess of the indexed shape: a 0-d, 1-element or full-row tensor
                vs = g.pick([[], [1], [shape[-1]] if r else [], [2]])
                inputs.append(tensor_spec(g, vs, g.dtype()))
                args.append(_T(len(inputs) - 1))
    elif name == "index_select":
        d = _dim(g, max(r, 1), allow_none=False)
        size = shape[d] if isinstance(d, int) and -r <= d < r and r else 1
        n = g.int(0, 6)
        hi = size + (1 if g.p(0.05) else 0)
        inputs.append({"dtype": g.pick(["int64", "int32"], [4, 1]), "base": [n] if g.p(0.9) else [], "views": [],
                       "data": {"seed": g.seed(), "dist": "range", "lo": _bad_lo(g, size), "hi": max(hi, 1)}, "rg": False,
                       "clone": False, "index": True})
        args = [_T(0), d, _T(1)]
        form = g.pick(["F", "M"])
    elif name in ("gather", "scatter", "scatter_add"):
        d = _dim(g, max(r, 1), allow_none=False)
        ok = isinstance(d, int) and -max(r, 1) <= d < max(r, 1)
        dd = d % max(r, 1) if ok else 0
        ishape = [g.int(0, s) if g.p(0.8) else s for s in shape]
        if g.p(0.05) and ishape:
            ishape[g.int(0, len(ishape) - 1)] += 1
        size = shape[dd] if r else 1
        if name == "scatter" and r:
            # distinct indices along dim for each position (duplicates make scatter's winner unspecified)
            ishape[dd] = min(ishape[dd], size)
            rr = np.random.default_rng(g.seed())
            n_other = int(np.prod([s for i, s in enumerate(ishape) if i != dd]))
            perms = [rr.permutation(size)[:ishape[dd]] for _ in range(n_other)]
            arr = np.stack(perms, 0) if perms else np.zeros((0, ishape[dd]), np.int64)
            moved = [s for i, s in enumerate(ishape) if i != dd] + [ishape[dd]]
            arr = np.moveaxis(arr.reshape(moved), -1, dd)
            inputs.append(literal_spec(arr.astype(np.int64), "int64", ishape))
        else:
            hi = size + (1 if g.p(0.04) else 0)
            inputs.append({"dtype": "int64", "base": ishape, "views": [],
                           "data": {"seed": g.seed(), "dist": "range", "lo": _bad_lo(g, size), "hi": max(hi, 1)}, "rg": False,
                           "clone": False})
        inputs[-1]["index"] = True
        args = [_T(0), d, _T(1)]
        if name != "gather":
            if g.p(0.3) and name == "scatter":
                args.append(g.scalar(("int", "float")))
                kwargs = {}
            else:
                sshape = [s + g.int(0, 1) for s in ishape]
                inputs.append(tensor_spec(g, sshape, dtype if g.p(0.85) else g.dtype()))
                args.append(_T(2))
            form = g.pick(["F", "M", "I"])
            if form == "I":
                x["clone"] = False
        else:
            form = g.pick(["F", "M"])
    elif name == "masked_fill":
        ms, _ = g.broadcast_pair(shape)
        if g.p(0.5):
            ms = list(shape)
        inputs.append(tensor_spec(g, ms, "bool" if g.p(0.93) else "int64"))
        inputs[-1]["index"] = True
        if g.p(0.75):
            v = g.scalar()
        else:
            inputs.append(tensor_spec(g, g.pick([[], [], [1]]), g.dtype()))
            v = _T(2)
        args = [_T(0), _T(1), v]
        form = g.pick(["F", "M", "I"])
    elif name == "nonzero":
        if g.p(0.4):
            kwargs["as_tuple"] = g.p(0.5)
        form = g.pick(["F", "M"])
    elif name == "take_mask":  # x[mask] with a mask of the full shape
        inputs.append(tensor_spec(g, shape, "bool"))
        inputs[-1]["index"] = True
        args = [_T(0), _T(1)]
        form = "getitem" if g.p(0.6) else "setitem"
        if form == "setitem":
            args.append(g.scalar() if g.p(0.7) else None)
            if args[-1] is None:
                inputs.append(tensor_spec(g, [], g.dtype()))
                args[-1] = _T(2)
    elif name == "where":
        out = g.shape(max_numel=300)
        sc, sa = g.broadcast_pair(out)
        _, sb = g.broadcast_pair(out)
        inputs = [tensor_spec(g, sc, "bool" if g.p(0.93) else g.dtype())]
        inputs[0]["index"] = True
        args = [_T(0)]
        for s in (sa, sb):
            if g.p(0.2):
                args.append(g.scalar())
            else:
                inputs.append(tensor_spec(g, s, g.dtype()))
                args.append(_T(len(inputs) - 1))
        if g.p(0.06):
            args = [_T(0)]  # where(cond): the nonzero indices as a tuple
        form = "F"
        if g.p(0.2) and len(args) == 3 and isinstance(args[1], dict):
            form = "Mwhere"  # a.where(cond, b)
    c = _case("index", name, form, inputs, args, kwargs)
    return _maybe_grad(g, c, 0.25, mutating=form in ("setitem", "I"))


def gen_matmul(g, _ops=None):
    name = g.pick(["matmul", "@", "mm", "bmm", "dot", "outer", "addmm"], [6, 3, 3, 3, 2, 2, 2])
    dtype = g.dtype((50, 30, 8, 5, 4))
    db = dtype if g.p(0.93) else g.dtype()

    def dim():
        return g.pick([0, 1, 2, 3, 4, 5, 7, 8, 16, 17, 33], [2, 10, 8, 8, 6, 6, 5, 4, 3, 3, 2])

    m, k, n = dim(), dim(), dim()
    kk = k if g.p(0.94) else k + 1
    if name in ("matmul", "@"):
        ra, rb = g.pick([1, 2, 3, 4]), g.pick([1, 2, 3, 4])
        batch = [g.pick([1, 2, 3]) for _ in range(max(ra, rb) - 2)]

        def side(rank, rows, cols, first):
            if rank == 1:
                return [cols if first else rows]
            b = batch[len(batch) - (rank - 2):] if rank > 2 else []
            b = [1 if g.p(0.25) else v for v in b]
            return b + [rows, cols]
        sa = side(ra, m, k, True)
        sb = side(rb, kk, n, False)
        inputs = [tensor_spec(g, sa, dtype), tensor_spec(g, sb, db)]
        args = [_T(0), _T(1)]
        form = "op" if name == "@" else g.pick(["F", "M"])
        name = "matmul"
    elif name == "mm":
        inputs = [tensor_spec(g, [m, k], dtype), tensor_spec(g, [kk, n], db)]
        args, form = [_T(0), _T(1)], g.pick(["F", "M"])
    elif name == "bmm":
        b = g.pick([0, 1, 2, 3])
        inputs = [tensor_spec(g, [b, m, k], dtype), tensor_spec(g, [b if g.p(0.95) else b + 1, kk, n], db)]
        args, form = [_T(0), _T(1)], g.pick(["F", "M"])
    elif name == "dot":
        inputs = [tensor_spec(g, [k], dtype), tensor_spec(g, [kk], db)]
        args, form = [_T(0), _T(1)], g.pick(["F", "M"])
    elif name == "outer":
        inputs = [tensor_spec(g, [m], dtype), tensor_spec(g, [n], db)]
        args, form = [_T(0), _T(1)], g.pick(["F", "M"])
    else:  # addmm(input, mat1, mat2, beta=, alpha=)
        s_in = g.pick([[m, n], [n], [1, n], [m, 1], []])
        inputs = [tensor_spec(g, s_in, dtype), tensor_spec(g, [m, k], dtype), tensor_spec(g, [kk, n], db)]
        args, form = [_T(0), _T(1), _T(2)], g.pick(["F", "M"])
        kw = {}
        if g.p(0.4):
            kw["beta"] = g.pick([0, 0.5, 2, 1])
        if g.p(0.4):
            kw["alpha"] = g.pick([0, -1, 1.5, 1])
    c = _case("matmul", name, form, inputs, args, kw if name == "addmm" else None)
    for s in inputs:  # matmul inputs: moderate values (the tolerance scales with k), and no overflow-sized
        # finite values: which partial sum overflows first (inf vs nan) depends on the accumulation order
        if s["dtype"] in FLOATS and s["data"]["dist"] in ("wide", "special"):
            s["data"]["dist"] = "normal" if g.p(0.8) else "rspecial"
    return _maybe_grad(g, c, 0.3)


def gen_misc(g, _ops=None):
    name = g.pick(["sort", "argsort", "topk", "float_power", "rsub", "clamp_t", "heaviside", "alias"], [4, 3, 4, 3, 2, 3, 1, 3])
    dtype = g.dtype()
    shape = g.shape(max_numel=300)
    r = len(shape)
    x = tensor_spec(g, shape, dtype, "sort" if dtype not in FLOATS else None)
    inputs, args, kwargs, form = [x], [_T(0)], {}, g.pick(["F", "M"])
    if name in ("sort", "argsort"):
        if g.p(0.8):
            kwargs["dim"] = _dim(g, r, allow_none=False)
        if g.p(0.5):
            kwargs["descending"] = g.p(0.5)
        kwargs["stable"] = True
    elif name == "topk":
        d = _dim(g, r, allow_none=False)
        n = shape[d] if isinstance(d, int) and -r <= d < r and r else 1
        args.append(g.int(0, n) if g.p(0.93) else n + 1)
        kwargs["dim"] = d
        if g.p(0.5):
            kwargs["largest"] = g.p(0.5)
    elif name == "float_power":
        if g.p(0.4):
            args.append(g.scalar())
        else:
            sa, sb = g.broadcast_pair(shape)
            inputs = [tensor_spec(g, sa, dtype), tensor_spec(g, sb, g.dtype())]
            args = [_T(0), _T(1)]
        form = g.pick(["F", "M", "I"], [3, 3, 1])
    elif name == "rsub":
        if g.p(0.5):
            args.append(g.scalar(("int", "float")))
        else:
            inputs.append(tensor_spec(g, g.broadcast_pair(shape)[1], g.dtype()))
            args.append(_T(1))
        if g.p(0.3):
            kwargs["alpha"] = g.pick([2, 0.5, -1])
        form = "F"  # torch has no Tensor.rsub method
    elif name == "clamp_t":
        name = "clamp"
        lo = g.p(0.8)
        hi = g.p(0.7) or not lo
        for use, key in ((lo, "min"), (hi, "max")):
            if use:
                inputs.append(tensor_spec(g, g.broadcast_pair(shape)[1], dtype if g.p(0.8) else g.dtype()))
                kwargs[key] = _T(len(inputs) - 1)
        form = g.pick(["F", "M", "I"])
        c = _case("misc", name, form, inputs, args, kwargs)
        return _maybe_grad(g, c, 0.3, mutating=form == "I")
    elif name == "heaviside":
        inputs.append(tensor_spec(g, g.broadcast_pair(shape)[1], dtype if g.p(0.8) else g.dtype()))
        args.append(_T(1))
    elif name == "alias":
        name = g.pick(["absolute", "negative", "arccos", "arcsin", "arctan", "arccosh", "arcsinh", "arctanh", "fix"])
        form = g.pick(["F", "M", "I"])
        c = _case("misc", name, form, inputs, args, kwargs)
        return _maybe_grad(g, c, 0.3, mutating=form == "I")
    c = _case("misc", name, form, inputs, args, kwargs)
    return _maybe_grad(g, c, 0.25, mutating=form == "I")


SCANS = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "tril", "triu"]


def gen_scan(g, _ops=None):
    """cumsum/cumprod (dtype=, in place), cummax/cummin, logcumsumexp along a dim; tril/triu (diagonal=, in place)"""
    name = g.pick(SCANS, [4, 4, 3, 3, 3, 3, 3])
    dtype = g.dtype()
    shape = _shape_for(g)
    r = len(shape)
    x = tensor_spec(g, shape, dtype, name)
    if name == "cumprod" and dtype in FLOATS:
        # long products end near the float range; zeros stay in (the exact zero-aware backward)
        x["data"].update(dist="range", lo=-1.3, hi=1.3) if g.p(0.7) else x["data"].update(dist="gspecial")
    if name == "cumprod" and dtype not in FLOATS and x["data"]["dist"] == "wide":
        x["data"]["dist"] = "small"
    if name in ("cumsum", "logcumsumexp") and dtype in FLOATS and x["data"]["dist"] in ("special", "wide"):
        x["data"]["dist"] = "rspecial"  # overflow-sized partial sums: inf vs nan depends on the order
    args, kwargs = [_T(0)], {}
    if name in ("tril", "triu"):
        if g.p(0.7):
            k = g.int(-4, 4) if g.p(0.95) else g.pick([2 ** 62, -(2 ** 62)])
            if g.p(0.5):
                args.append(k)
            else:
                kwargs["diagonal"] = k
        form = g.pick(["F", "M", "I"], [2, 2, 1])
    else:
        d = _dim(g, r, allow_none=False)
        if g.p(0.6):
            args.append(d)
        else:
            kwargs["dim"] = d
        if name in ("cumsum", "cumprod") and g.p(0.2):
            kwargs["dtype"] = {"dtype": g.any_dtype()}
        form = g.pick(["F", "M", "I"], [2, 2, 1]) if name in ("cumsum", "cumprod") else g.pick(["F", "M"])
    c = _case("scan", name, form, [x], args, kwargs)
    return _maybe_grad(g, c, 0.3, mutating=form == "I")


FAMILIES = [("unary", gen_unary, 22), ("binary", gen_binary, 28), ("reduce", gen_reduce, 16), ("shape", gen_shape, 12),
            ("index", gen_index, 12), ("matmul", gen_matmul, 5), ("misc", gen_misc, 5),
            ("scan", gen_scan, 4)]


def is_narrow_case(seed, index, share=None):
    """Whether (seed, index) is a narrow-dtype case: its own stream, so the other cases keep their streams."""
    share = NARROW_SHARE if share is None else share
    r = np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(index), 16]))
    return bool(r.random() < share)


def internal_only(op):
    """Manifest ops with no torch method to compare with: F.gelu's internals _gelu / _gelu_grad (tests/test_op_table.py
    checks them against torch's gelu and gelu_backward) and the nn.functional activations, hand-bound internals with
    parameters (MT_ACTIVATION_OPS: tests/test_op_table.py and tests/test_activation_ops.py check them)."""
    name = op["name"]
    return name in ("_gelu", "_gelu_grad") or (name.startswith("_") and "C" in op["variants"])


def make_case(manifest, seed, index, family=None, narrow=None):
    """The case for (seed, index); `manifest` is minitorch._C._ops (a sequence of dicts)."""
    narrow = is_narrow_case(seed, index) if narrow is None else narrow
    g = Gen(seed, index, narrow)
    unary = [o for o in manifest if o["arity"] == 1 and not internal_only(o)]
    binary = [o for o in manifest if o["arity"] == 2]
    names = [f[0] for f in FAMILIES]
    fam = family or g.pick(names, [f[2] for f in FAMILIES])
    fn = dict((f[0], f[1]) for f in FAMILIES)[fam]
    ops = unary if fam == "unary" else binary if fam == "binary" else None
    c = fn(g, ops)
    c["seed"], c["index"] = int(seed), int(index)
    if narrow:
        c["narrow"] = True
    if family:
        c["family_forced"] = family
    return c


def case_key(case):
    """A short label: family/op/form/dtypes."""
    dts = ",".join(s["dtype"] for s in case["inputs"])
    return f"{case['op']}/{case['form']}/{dts}"


def is_float_dtype(name):
    return name in FLOATS


def finite_max(arrays):
    m = 0.0
    for a in arrays:
        if a.size and a.dtype.kind in "fiub":
            v = np.abs(a.astype(np.float64))
            v = v[np.isfinite(v)]
            if v.size:
                m = max(m, float(v.max()))
    return m if math.isfinite(m) else 0.0

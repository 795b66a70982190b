"""Tests generated from the elementwise op declarations (csrc/ops/elementwise_ops.h, exposed as
minitorch._C._ops). Every declared op needs an entry in ENTRIES below, else
test_every_declared_op_has_an_entry fails; from the entry and the declaration come:

- values against PyTorch for every dtype (bool, int32, int64, float32, float64) on contiguous,
  transposed and broadcast (stride-0) inputs: the same dtype and values, or the same exception type;
- the scalar-operand forms (tensor op number, and the TypeError where torch takes tensors only);
- the in-place form, and the variants (function / method / in-place) against torch's namespace;
- autograd: gradcheck in float64 and torch's grad_fn name, or no graph for non-differentiable
  ops, or a RuntimeError naming the op where the derivative is declared NOT_IMPL;
- the same values on CUDA, where a GPU is present.
"""
import numpy as np
import pytest

import minitorch as mt
from minitorch.autograd import gradcheck

OPS = {op["name"]: op for op in mt._C._ops}
PUBLIC = sorted(n for n in OPS if not n.startswith("_"))  # _trigamma is internal (digamma's derivative)
# the internal ops and what they are in torch: digamma's derivative, F.gelu and gelu's derivative
PRIVATE = {"_trigamma": lambda lib, x: lib.polygamma(1, x), "_gelu": lambda lib, x: lib.nn.functional.gelu(x),
           "_gelu_grad": lambda lib, x: lib.ops.aten.gelu_backward(lib.ones_like(x), x)}
# the activations (MT_ACTIVATION_OPS) with their default parameters, against torch's functionals
# (tests/test_activation_ops.py checks the parameters, the in-place forms and double backward)
_TF = lambda name, *a: (lambda lib, x: getattr(lib.nn.functional, name)(x, *a))  # noqa: E731
PRIVATE.update({"_leaky_relu": _TF("leaky_relu"), "_elu": _TF("elu"), "_celu": _TF("celu"), "_silu": _TF("silu"),
                "_mish": _TF("mish"), "_softplus": _TF("softplus"), "_hardtanh": _TF("hardtanh"),
                "_hardswish": _TF("hardswish"), "_hardsigmoid": _TF("hardsigmoid"), "_log_sigmoid": _TF("logsigmoid"),
                "_softshrink": _TF("softshrink"), "_hardshrink": _TF("hardshrink"),
                "_threshold": _TF("threshold", 0.0, 0.0)})

# name: domain of the float inputs (per operand for binary ops), integer domain, extra call
# arguments (each a (args, kwargs) pair), and where needed a gradcheck domain away from kinks.
ENTRIES = {
    # unary
    "neg": {}, "abs": {"grad": (0.2, 2)}, "exp": {}, "log": {"dom": (0.1, 4)}, "log1p": {"dom": (-0.5, 3)},
    "expm1": {}, "sqrt": {"dom": (0.1, 4)}, "rsqrt": {"dom": (0.1, 4)}, "sin": {}, "cos": {}, "tanh": {},
    "sigmoid": {}, "relu": {"grad": (0.2, 2)}, "sign": {}, "floor": {}, "ceil": {}, "round": {}, "trunc": {},
    "reciprocal": {"dom": (0.2, 3)}, "logical_not": {}, "isnan": {}, "isinf": {}, "isfinite": {},
    "clamp": {"args": [((-0.5, 0.5), {}), ((), {"min": 0.1}), ((), {"max": -0.2})], "grad": (0.6, 2)},
    "erf": {}, "tan": {"dom": (-1.2, 1.2)}, "atan": {}, "asin": {"dom": (-0.9, 0.9)}, "acos": {"dom": (-0.9, 0.9)},
    "sinh": {}, "cosh": {}, "asinh": {}, "acosh": {"dom": (1.1, 4)}, "atanh": {"dom": (-0.9, 0.9)},
    "log2": {"dom": (0.1, 4)}, "log10": {"dom": (0.1, 4)}, "exp2": {}, "sgn": {}, "frac": {}, "square": {},
    "erfinv": {"dom": (-0.9, 0.9)}, "erfc": {}, "lgamma": {"dom": (0.1, 5)}, "digamma": {"dom": (0.1, 5)},
    "_trigamma": {"dom": (0.1, 5), "int": (1, 6)}, "sinc": {}, "_gelu": {"dom": (-4, 4)}, "_gelu_grad": {"dom": (-4, 4)},  # (torch's float32 poles are rounding noise)
    "logit": {"dom": (0.05, 0.95), "args": [((), {}), ((), {"eps": 0.2})], "grad": (0.25, 0.75)},
    "nan_to_num": {"args": [((), {}), ((), {"nan": 1.5, "posinf": 7.0, "neginf": -3.0})]},
    "bitwise_not": {},
    # the activations: gradcheck away from the kinks (0, +-1, +-3, +-lambd)
    "_leaky_relu": {"grad": (0.2, 2)}, "_elu": {"grad": (-2, -0.2)}, "_celu": {"grad": (-2, -0.2)}, "_silu": {},
    "_mish": {}, "_softplus": {}, "_hardtanh": {"grad": (-0.9, 0.9)}, "_hardswish": {"grad": (-2.9, 2.9)},
    "_hardsigmoid": {"grad": (-2.9, 2.9)}, "_log_sigmoid": {}, "_softshrink": {"grad": (0.6, 2)},
    "_hardshrink": {"grad": (0.6, 2)}, "_threshold": {"grad": (0.2, 2)},
    # binary
    "add": {}, "sub": {}, "mul": {}, "div": {"dom": ((-3, 3), (0.5, 3))},
    "floor_divide": {"dom": ((-3, 3), (0.5, 3)), "int": ((-9, 9), (1, 5))},
    "remainder": {"dom": ((-3, 3), (0.5, 3)), "int": ((-9, 9), (1, 5))},
    "pow": {"dom": ((0.5, 2), (-2, 2)), "int": ((-3, 3), (0, 4))},
    "maximum": {}, "minimum": {}, "eq": {}, "ne": {}, "lt": {}, "le": {}, "gt": {}, "ge": {},
    "logical_and": {}, "logical_or": {}, "logical_xor": {},
    "atan2": {}, "hypot": {}, "fmod": {"dom": ((-3, 3), (0.5, 3)), "int": ((-9, 9), (1, 5))},
    "copysign": {"grad": ((0.2, 2), (-2, 2))}, "logaddexp": {}, "logaddexp2": {}, "nextafter": {},
    "xlogy": {"dom": ((-2, 2), (0.2, 3))}, "heaviside": {},
    "bitwise_and": {}, "bitwise_or": {}, "bitwise_xor": {},
    "bitwise_left_shift": {"int": ((-9, 9), (0, 8))}, "bitwise_right_shift": {"int": ((-99, 99), (0, 8))},
}
DTYPES = ["bool", "int32", "int64", "float32", "float64"]
DEVICES = ["cpu"] + (["cuda"] if mt.cuda.is_available() else [])


def test_every_declared_op_has_an_entry():
    missing = sorted(set(OPS) - set(ENTRIES))
    assert not missing, f"declared ops without a test entry in ENTRIES: {missing}"
    assert not sorted(set(ENTRIES) - set(OPS)), "ENTRIES names ops that are not declared"


def test_manifest_is_consistent():
    for name, op in OPS.items():
        assert op["arity"] in (1, 2)
        if op["differentiable"]:
            assert op["node"], name
        if op["node"] is None:
            assert not op["differentiable"], name
        for v in op["variants"]:
            assert v in "FMISC", (name, v)


def _rng(name, extra=0):
    return np.random.default_rng(abs(hash(name)) % 2**32 + extra)


def _entry_domain(name, k, arity, key="dom", default=(-2.0, 2.0)):
    d = ENTRIES[name].get(key)
    if d is None:
        return default
    return d[k] if arity == 2 else d


def _sample(name, dtype, shape, k, arity):
    r = _rng(name, 17 * k + len(shape) + DTYPES.index(dtype))
    if dtype == "bool":
        return r.random(shape) < 0.5
    if dtype.startswith("int"):
        lo, hi = _entry_domain(name, k, arity, "int", (-5, 6))
        return r.integers(lo, hi, shape).astype(dtype)
    lo, hi = _entry_domain(name, k, arity)
    return r.uniform(lo, hi, shape).astype(dtype)


def _call(lib, name, args, extra):
    fn = getattr(lib, name, None)
    if fn is None:  # the private internals, against what torch computes with them
        if lib is mt:
            return getattr(args[0], name)()
        return PRIVATE[name](lib, args[0])
    xargs, kw = extra
    return fn(*args, *xargs, **kw)


def _compare(name, mt_fn, torch_fn, rtol=2e-5, atol=1e-6):
    """Runs both; the same exception type, or the same dtype and values."""
    try:
        expected = torch_fn()
    except Exception as e:  # noqa: BLE001 - the oracle's exception type is the expectation
        with pytest.raises(type(e)):
            mt_fn()
        return
    got = mt_fn()
    assert str(got.dtype) == str(expected.dtype), (name, got.dtype, expected.dtype)
    assert tuple(got.shape) == tuple(expected.shape), name
    g, e = got.cpu().numpy(), expected.numpy()
    if e.dtype.kind == "f":
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, equal_nan=True, err_msg=name)
    else:
        np.testing.assert_array_equal(g, e, err_msg=name)


def _extras(name):
    return ENTRIES[name].get("args", [((), {})])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", PUBLIC + sorted(PRIVATE))
def test_values_match_torch(name, dtype, device):
    torch = pytest.importorskip("torch")
    op = OPS[name]
    tol = {"rtol": 1e-3, "atol": 1e-4} if dtype == "float32" and name in ("erfinv", "digamma", "_trigamma", "lgamma") else {}
    for extra in _extras(name):
        if op["arity"] == 1:
            base = _sample(name, dtype, (4, 3), 0, 1)
            layouts = {"contiguous": lambda t: t, "transposed": lambda t: t.t(),
                       "broadcast": lambda t: t[:1].expand(4, 3)}
            for layout, view in layouts.items():
                def mk(lib, view=view):
                    t = view(lib.tensor(base))
                    return t.to(device) if lib is mt else t
                _compare(f"{name} {dtype} {layout} {extra}", lambda: _call(mt, name, (mk(mt),), extra),
                         lambda: _call(torch, name, (mk(torch),), extra), **tol)
        else:
            a = _sample(name, dtype, (3, 4), 0, 2)
            b = _sample(name, dtype, (3, 4), 1, 2)
            cases = [("contiguous", a, b, False), ("transposed", a.T.copy(), b.T.copy(), True),
                     ("broadcast row", a, b[0], False), ("broadcast column", a, b[:, :1], False)]
            for layout, x, y, transpose in cases:
                def mk(lib, v, transpose=transpose):
                    t = lib.tensor(v)
                    t = t.t() if transpose else t
                    return t.to(device) if lib is mt else t
                _compare(f"{name} {dtype} {layout}", lambda: _call(mt, name, (mk(mt, x), mk(mt, y)), extra),
                         lambda: _call(torch, name, (mk(torch, x), mk(torch, y)), extra))
            # mixed dtypes promote as torch does
            other = "float32" if dtype != "float32" else "int64"
            y2 = _sample(name, other, (3, 4), 1, 2)
            _compare(f"{name} {dtype}+{other}", lambda: _call(mt, name, (mk(mt, a), mk(mt, y2)), extra),
                     lambda: _call(torch, name, (mk(torch, a), mk(torch, y2)), extra))


@pytest.mark.parametrize("name", sorted(n for n in PUBLIC if OPS[n]["arity"] == 1 and OPS[n]["kind"] != "integer"))
def test_special_values_match_torch(name):
    torch = pytest.importorskip("torch")
    v = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5], dtype=np.float32)
    for extra in _extras(name):
        _compare(f"{name} specials {extra}", lambda: _call(mt, name, (mt.tensor(v),), extra),
                 lambda: _call(torch, name, (torch.tensor(v),), extra))


@pytest.mark.parametrize("name", sorted(n for n in PUBLIC if OPS[n]["arity"] == 2))
def test_scalar_operand_matches_torch(name):
    torch = pytest.importorskip("torch")
    op = OPS[name]
    for dtype in ("int64", "float32", "bool"):
        a = _sample(name, dtype, (2, 3), 0, 2)
        for s in (2, 0.5, True):
            if "S" in op["variants"]:
                _compare(f"{name} {dtype} scalar {s}", lambda: getattr(mt, name)(mt.tensor(a), s),
                         lambda: getattr(torch, name)(torch.tensor(a), s))
            else:
                with pytest.raises(TypeError):
                    getattr(torch.Tensor, name)(torch.tensor(a), s)
                with pytest.raises(TypeError):
                    getattr(mt.Tensor, name)(mt.tensor(a), s)


@pytest.mark.parametrize("name", sorted(n for n in PUBLIC if "I" in OPS[n]["variants"]))
def test_inplace_matches_torch(name):
    torch = pytest.importorskip("torch")
    op = OPS[name]
    for dtype in ("bool", "int64", "float32"):
        a = _sample(name, dtype, (3, 4), 0, op["arity"])
        b = _sample(name, dtype, (3, 4), 1, op["arity"])
        for extra in _extras(name):
            def run(lib):
                x = lib.tensor(a)
                args = () if op["arity"] == 1 else (lib.tensor(b),)
                r = getattr(x, name + "_")(*args, *extra[0], **extra[1])
                assert r is x
                return x
            _compare(f"{name}_ {dtype} {extra}", lambda: run(mt), lambda: run(torch))


@pytest.mark.parametrize("name", PUBLIC)
def test_variants_match_torch(name):
    torch = pytest.importorskip("torch")
    v = OPS[name]["variants"]
    assert ("F" in v) == hasattr(torch, name) == hasattr(mt, name), name
    assert ("M" in v) == hasattr(torch.Tensor, name) == hasattr(mt.Tensor, name), name
    assert ("I" in v) == hasattr(torch.Tensor, name + "_") == hasattr(mt.Tensor, name + "_"), name


def _grad_inputs(name, arity):
    shapes = [(2, 3)] if arity == 1 else [(2, 3), (2, 3)]
    out = []
    for k, shape in enumerate(shapes):
        r = _rng(name, 100 + k)
        lo, hi = _entry_domain(name, k, arity, "grad", _entry_domain(name, k, arity))
        out.append(r.uniform(lo, hi, shape))
    return out


@pytest.mark.parametrize("name", sorted(n for n in OPS if OPS[n]["kind"] not in ("integer", "intonly")))
def test_autograd_matches_declaration(name):
    """(Integer-only ops take no float inputs, so they have no graph to check.)"""
    torch = pytest.importorskip("torch")
    op = OPS[name]
    vals = _grad_inputs(name, op["arity"])
    for extra in _extras(name):
        xs = [mt.tensor(v, requires_grad=True) for v in vals]
        f = (lambda *t: _call(mt, name, t, extra))
        out = f(*xs)
        if op["node"] is None:
            assert not out.requires_grad and out.grad_fn is None, name
            continue
        assert out.grad_fn.name() == op["node"]
        if not op["differentiable"]:
            with pytest.raises(RuntimeError, match=f"derivative for aten::{name} is not implemented"):
                out.sum().backward()
            continue
        assert gradcheck(f, tuple(xs)), name
        if name == "_trigamma":
            continue
        xs = [mt.tensor(v, requires_grad=True) for v in vals]  # gradcheck perturbed the first ones in place
        out = f(*xs)
        txs = [torch.tensor(v, requires_grad=True) for v in vals]
        tout = _call(torch, name, txs, extra)
        assert out.grad_fn.name() == type(tout.grad_fn).__name__, name
        g = _rng(name, 7).standard_normal(tout.shape)
        out.backward(mt.tensor(g))
        tout.backward(torch.tensor(g))
        for x, tx in zip(xs, txs):
            expected = np.zeros(tx.shape) if tx.grad._is_zerotensor() else tx.grad.numpy()
            np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-7, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("name", sorted(n for n in PUBLIC if OPS[n]["arity"] == 2 and OPS[n]["differentiable"]))
def test_broadcast_and_scalar_gradients(name):
    """Gradients sum back over broadcast dims; a scalar operand's node is torch's."""
    torch = pytest.importorskip("torch")
    op = OPS[name]
    a, b = _grad_inputs(name, 2)
    x, y = mt.tensor(a, requires_grad=True), mt.tensor(b[:1, :], requires_grad=True)
    assert gradcheck(getattr(mt, name), (x, y)), name
    if "S" in op["variants"]:
        s = float(b[0, 0])
        x = mt.tensor(a, requires_grad=True)
        assert gradcheck(lambda t: getattr(mt, name)(t, s), (x,)), name
        tout = getattr(torch, name)(torch.tensor(a, requires_grad=True), s)
        assert getattr(mt, name)(x, s).grad_fn.name() == type(tout.grad_fn).__name__, name


# ---- missing means an error, never a default ----

def test_a_failed_node_allocation_raises_instead_of_dropping_the_gradient():
    x = mt.ones(3, requires_grad=True)
    mt._C._fail_node_allocs(1)
    try:
        with pytest.raises(RuntimeError, match="out of memory.*MulBackward0"):
            x * 2
    finally:
        mt._C._fail_node_allocs(0)
    (x * 2).sum().backward()  # and the next op is unaffected
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_not_implemented_derivative_names_the_op():
    torch = pytest.importorskip("torch")
    a, b = np.array([-1.0, 0.0, 2.0]), np.array([0.5, 0.5, 0.5])
    x, tx = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for aten::heaviside is not implemented"):
        torch.heaviside(tx, torch.tensor(b)).sum().backward()
    with pytest.raises(RuntimeError, match="derivative for aten::heaviside is not implemented"):
        mt.heaviside(x, mt.tensor(b)).sum().backward()
    # digamma's derivative is the internal trigamma, whose own derivative is not written yet
    y = mt.tensor([1.5], requires_grad=True, dtype=mt.float64)
    (g,) = mt.autograd.grad(mt.digamma(y), (y,))
    want = torch.polygamma(1, torch.tensor([1.5], dtype=torch.float64)).numpy()
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(g.numpy(), [np.pi ** 2 / 2 - 4], rtol=1e-9)  # polygamma(1, 3/2), exactly


def test_missing_dtype_kernels_raise_not_implemented_like_torch():
    torch = pytest.importorskip("torch")
    for f in (lambda lib: lib.tensor([1.5]).bitwise_not(), lambda lib: lib.tensor([1.5]) << 1,
              lambda lib: lib.hypot(lib.tensor([1]), lib.tensor([2])), lambda lib: lib.tensor([True]).frac(),
              lambda lib: lib.tensor([3]).frac(), lambda lib: lib.tensor([True]).abs()):
        with pytest.raises(NotImplementedError):
            f(torch)
        with pytest.raises(NotImplementedError):
            f(mt)


def test_bitwise_operators_match_torch():
    torch = pytest.importorskip("torch")
    a, b = np.array([3, 5, -8, 0]), np.array([6, 1, 3, 7])
    for expr in ("x & y", "x | y", "x ^ y", "~x", "x << 2", "x >> 1", "x & 6", "2 << y", "x & True"):
        got = eval(expr, {"x": mt.tensor(a), "y": mt.tensor(b)})
        want = eval(expr, {"x": torch.tensor(a), "y": torch.tensor(b)})
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=expr)
        assert str(got.dtype) == str(want.dtype), expr
    m = mt.tensor([True, False])
    assert (~m).tolist() == [False, True] and (m & mt.tensor([True, True])).dtype == mt.bool
    with pytest.raises(TypeError, match="invert"):
        ~mt.tensor([1.0])
    x = mt.tensor(a)
    x <<= 1
    x |= 1
    np.testing.assert_array_equal(x.numpy(), (a << 1) | 1)


def test_argument_errors_match_torch():
    torch = pytest.importorskip("torch")
    cases = [lambda lib: lib.tensor([1.0]).stride("a"), lambda lib: lib.tensor([1.0]).size("a"),
             lambda lib: lib.tensor([1.0]).add(1, alpha=2 ** 70),
             lambda lib: lib.tensor([1, 2]).add(lib.tensor([1, 2]), alpha=2.5),
             lambda lib: lib.atan2(lib.tensor([1.0]), 2.0), lambda lib: lib.heaviside(lib.tensor([1]), lib.tensor([1.0]))]
    for f in cases:
        try:
            f(torch)
        except Exception as e:  # noqa: BLE001 - torch's exception type is the expectation
            with pytest.raises(type(e)):
                f(mt)
        else:
            raise AssertionError("torch accepted a case meant to fail")
    np.testing.assert_allclose(mt.tensor([1.0, 2]).add_(mt.tensor([1, 2]), alpha=2.5).numpy(), [3.5, 7.0])


def test_clamp_with_tensor_bounds_matches_torch():
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(3)
    a, lo, hi = r.normal(size=(3, 4)), r.normal(size=(4,)) - 0.5, r.normal(size=(3, 1)) + 0.5
    lo[0] = a[0, 0]  # a tie: the gradient goes to the input, as torch
    for kw in ({"min": True, "max": True}, {"min": True}, {"max": True}):
        ins = [a] + ([lo] if "min" in kw else []) + ([hi] if "max" in kw else [])
        xs = [mt.tensor(v, requires_grad=True) for v in ins]
        txs = [torch.tensor(v, requires_grad=True) for v in ins]

        def call(lib, ts, kw=kw):
            k = {}
            if "min" in kw:
                k["min"] = ts[1]
            if "max" in kw:
                k["max"] = ts[-1]
            return lib.clamp(ts[0], **k)
        out, tout = call(mt, xs), call(torch, txs)
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy())
        assert out.grad_fn.name() == type(tout.grad_fn).__name__
        g = r.normal(size=tout.shape)
        out.backward(mt.tensor(g))
        tout.backward(torch.tensor(g))
        for x, tx in zip(xs, txs):
            np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), err_msg=str(kw))
    # promotion: an integer tensor with float bounds is float; in place keeps the dtype
    out = mt.clamp(mt.tensor([1, 5, 9]), mt.tensor([2.0]))
    assert out.dtype == mt.float32 and out.tolist() == [2.0, 5.0, 9.0]
    x = mt.tensor([1.0, 5.0, 9.0])
    assert x.clamp_(mt.tensor([2.0]), mt.tensor([8.0])) is x and x.tolist() == [2.0, 5.0, 8.0]
    with pytest.raises(TypeError):
        mt.clamp(mt.tensor([1.0]), mt.tensor([0.0]), 2.0)


def test_float_power_matches_torch():
    torch = pytest.importorskip("torch")
    for a, b in (([2, 3], [-1, 2]), ([1.5, 2.0], 2), ([2, 4], 0.5)):
        tb = torch.tensor(b) if isinstance(b, list) else b
        mb = mt.tensor(b) if isinstance(b, list) else b
        want = torch.float_power(torch.tensor(a), tb)
        got = mt.float_power(mt.tensor(a), mb)
        assert got.dtype == mt.float64
        np.testing.assert_allclose(got.numpy(), want.numpy())
    with pytest.raises(RuntimeError, match="float_power_"):
        mt.tensor([2]).float_power_(2)


def test_aliases_are_the_same_ops():
    x = mt.tensor([0.3, -0.6])
    for alias, name in (("arctan", "atan"), ("arcsin", "asin"), ("absolute", "abs"), ("fix", "trunc"),
                        ("negative", "neg"), ("arctan2", "atan2")):
        args = (x, x) if name == "atan2" else (x,)
        np.testing.assert_array_equal(getattr(mt, alias)(*args).numpy(), getattr(mt, name)(*args).numpy())
        assert hasattr(mt.Tensor, alias)

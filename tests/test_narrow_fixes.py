"""Regression tests for the narrow-dtype bugs the differential fuzzer found (tests/fuzz/fuzz_known.py), each against
PyTorch: logit's eps in the dtype, add/sub's alpha rounded once, a 0-d operand of another dtype in mul and the
divisions, where with a uint8 condition, and sinc's gradient formula. Sizes under 16 and over 32 elements: torch's
scalar and vectorized CPU paths, which differ for alpha (minitorch follows the vectorized one)."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

NARROW = ("float16", "bfloat16")
ULP = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}  # the spacing at 1


def in_dtype(values, dt):
    """values rounded into dt by torch, as float64 (exact inputs for both libraries)"""
    return torch.tensor(np.asarray(values, dtype=np.float64)).to(getattr(torch, dt)).double().numpy()


def both(values, dt, requires_grad=False):
    v = in_dtype(values, dt)
    m = mt.tensor(v.tolist() if v.ndim else float(v), dtype=getattr(mt, dt), requires_grad=requires_grad)
    t = torch.tensor(v, dtype=getattr(torch, dt), requires_grad=requires_grad)
    return m, t


def arr(t):
    return t.detach().double().numpy()


def assert_same(m, t):
    assert str(m.dtype) == str(t.dtype), (m.dtype, t.dtype)
    np.testing.assert_array_equal(arr(m), arr(t))


# ---------------- logit(x, eps): the bounds in the dtype ----------------

@pytest.mark.parametrize("dt", NARROW)
@pytest.mark.parametrize("eps", [1e-6, 0.1, 0.3, 0.5, 0.7])
@pytest.mark.parametrize("n", [7, 40])
def test_logit_eps_bounds_in_dtype(dt, eps, n):
    # values on both sides of both bounds, 0.9999 (1 in float16 and bfloat16), 0 and 1
    vals = np.concatenate([[0.0, 1.0, 0.9999, 1e-7, eps, 1 - eps], np.linspace(-0.1, 1.1, n)])[:max(n, 6)]
    m, t = both(vals, dt, requires_grad=True)
    mo, to = mt.logit(m, eps=eps), torch.logit(t, eps=eps)
    assert mo.dtype == getattr(mt, dt)
    mv, tv = arr(mo), arr(to)
    np.testing.assert_array_equal(np.isinf(mv), np.isinf(tv))
    np.testing.assert_array_equal(np.isnan(mv), np.isnan(tv))
    fin = np.isfinite(tv)
    # torch rounds 1 - x and x / (1 - x) into the dtype before the log: within 2 units of the dtype at 1
    np.testing.assert_allclose(mv[fin], tv[fin], rtol=2 * ULP[dt], atol=2 * ULP[dt])
    mo.sum().backward()
    to.sum().backward()
    np.testing.assert_allclose(arr(m.grad), arr(t.grad), rtol=2 * ULP[dt], atol=0)


@pytest.mark.parametrize("dt", NARROW)
@pytest.mark.parametrize("n", [1, 40])
def test_logit_eps_one_minus_eps_rounds_to_one(dt, n):
    """float16's / bfloat16's 1 - 1e-6 is 1, so x = 0.9999 (1 in the dtype) is not clamped: inf, as torch"""
    m, t = both(np.full(n, 0.9999), dt, requires_grad=True)
    mo, to = mt.logit(m, eps=1e-6), torch.logit(t, eps=1e-6)
    assert np.isinf(arr(to)).all() and np.isinf(arr(mo)).all()
    mo.sum().backward()
    to.sum().backward()
    assert_same(m.grad, t.grad)
    mi, ti = both(np.full(n, 0.9999), dt)
    mi.logit_(eps=1e-6)
    ti.logit_(eps=1e-6)
    assert_same(mi, ti)


# ---------------- add/sub/rsub(x, y, alpha=a): x + a * y rounded once ----------------

def vectorized(fn, *tensors, n):
    """torch's result from its vectorized kernel: the inputs tiled to a multiple of 32 elements, the first n kept"""
    size = -(-n // 32) * 32
    tiled = [t.repeat(size // t.numel() + 1)[:size] if t.dim() else t for t in tensors]
    return fn(*tiled)[:n]


ALPHA_FNS = {
    "add": lambda L, a, b, al: L.add(a, b, alpha=al),
    "sub": lambda L, a, b, al: L.sub(a, b, alpha=al),
    "rsub": lambda L, a, b, al: L.rsub(a, b, alpha=al),
    "sub_": lambda L, a, b, al: a.clone().sub_(b, alpha=al),
    "add_number": lambda L, a, b, al: L.add(a, 1.7, alpha=al),
    "rsub_number": lambda L, a, b, al: L.rsub(a, 1.3, alpha=al),
}


@pytest.mark.parametrize("dt", NARROW)
@pytest.mark.parametrize("fn", list(ALPHA_FNS))
@pytest.mark.parametrize("alpha", [3, -1, 0.5, 0.1, 1 / 3, 2.5])
def test_alpha_rounds_once(dt, fn, alpha):
    rng = np.random.default_rng(3)
    f = ALPHA_FNS[fn]
    for n in (5, 64, 100):
        A, B = rng.standard_normal(n) * 4, rng.standard_normal(n) * 4
        ma, ta = both(A, dt)
        mb, tb = both(B, dt)
        mo = f(mt, ma, mb, alpha)
        if n % 32 == 0:  # all of it in torch's vectorized kernel
            assert_same(mo, f(torch, ta, tb, alpha))
        else:
            assert_same(mo, vectorized(lambda a, b: f(torch, a, b, alpha), ta, tb, n=n))


@pytest.mark.parametrize("n", [1, 64])
def test_alpha_cancellation(n):
    """bfloat16 2.15625 - 3 * 0.8828125 is -0.4921875 exactly; a * y rounded first gives -0.5 (torch's scalar path,
    for tensors under 32 elements: minitorch follows its vectorized kernel)"""
    ma, ta = both(np.full(n, 2.15625), "bfloat16")
    mb, tb = both(np.full(n, 0.8828125), "bfloat16")
    for mo in (mt.sub(ma, mb, alpha=3), mt.add(ma, mb, alpha=-3), mt.rsub(mb, ma, alpha=3), ma.clone().sub_(mb, alpha=3)):
        np.testing.assert_array_equal(arr(mo), -0.4921875)
    assert (arr(torch.sub(ta, tb, alpha=3)) == (-0.4921875 if n == 64 else -0.5)).all()


@pytest.mark.parametrize("case", [
    lambda L: L.add(L.ones(3, dtype=L.bfloat16), L.ones(3, dtype=L.int8), alpha=0.5),
    lambda L: L.add(L.ones(3, dtype=L.int8), L.ones(3, dtype=L.float16), alpha=0.5),
    lambda L: L.sub(L.tensor(1.0, dtype=L.bfloat16), 3, alpha=0.5),
    lambda L: L.sub(L.tensor([1.0, 2.0], dtype=L.bfloat16), L.tensor(3.0), alpha=0.5),
    lambda L: L.add(L.tensor(1, dtype=L.int8), 3, alpha=2),
    lambda L: L.add(L.ones(2), L.ones(2, dtype=L.int8), alpha=0.5),
    lambda L: L.add(L.ones(2, dtype=L.int16), L.ones(2, dtype=L.int8), alpha=-2),
    lambda L: L.ones(2, dtype=L.bfloat16).add_(L.ones(2), alpha=0.5),
    # a number other is converted into the result dtype unchecked, as torch's wrapped number
    lambda L: L.add(L.tensor([1, 2], dtype=L.int8), 300, alpha=2),
    lambda L: L.add(L.ones(2, dtype=L.float16), 1e6, alpha=0.5),
    lambda L: L.add(L.ones(2), 1e39, alpha=0.5),
    lambda L: L.rsub(L.tensor([1, 2], dtype=L.int8), 300, alpha=2),
    lambda L: L.add(L.ones(2, dtype=L.bfloat16), True, alpha=2),
])
def test_alpha_result_dtype(case):
    """alpha takes no part in type promotion: the dtype is that of x + y"""
    assert_same(case(mt), case(torch))


def test_alpha_errors():
    for L in (mt, torch):
        with pytest.raises(RuntimeError, match="argument alpha must not be a floating point number"):
            L.add(L.ones(2, dtype=L.int8), L.ones(2, dtype=L.int8), alpha=0.5)
        with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with two bool tensors is not supported"):
            L.sub(L.tensor([True]), L.tensor([True]), alpha=2)
        with pytest.raises(RuntimeError, match="result type BFloat16 can't be cast to the desired output type Char"):
            L.ones(2, dtype=L.int8).add_(L.ones(2, dtype=L.bfloat16), alpha=2)


@pytest.mark.parametrize("dt", NARROW + ("float32",))
def test_alpha_gradients(dt):
    mx, tx = both([2.0, -1.5, 0.25, 3.0, 7.0], dt, requires_grad=True)
    my, ty = both([3.0, 0.5, -2.0, 1.0, 0.125], "bfloat16", requires_grad=True)
    for L, x, y in ((mt, mx, my), (torch, tx, ty)):
        (L.sub(x, y, alpha=0.5) * L.arange(5)).sum().backward()
    assert_same(mx.grad, tx.grad)
    assert_same(my.grad, ty.grad)
    mo, to = mt.add(mx, my, alpha=3), torch.add(tx, ty, alpha=3)
    assert mo.grad_fn.name() == to.grad_fn.name() == "AddBackward0"


# ---------------- a 0-d operand of another dtype: mul and the divisions read it in float ----------------

@pytest.mark.parametrize("n", [1, 40])
def test_floor_divide_by_float64_0d(n):
    for L in (mt, torch):
        r = L.floor_divide(L.full((n,), 2.398, dtype=L.float16), L.tensor(-1.19889381, dtype=L.float64))
        assert r.dtype == L.float16 and (r == -3).all()
        x = L.full((n,), 2.398, dtype=L.float16)
        x.floor_divide_(L.tensor(-1.19889381, dtype=L.float64))
        assert (x == -3).all()


OPS_0D = ["mul", "div", "true_divide", "floor_divide", "add", "sub", "remainder", "fmod", "atan2", "maximum", "lt"]


@pytest.mark.parametrize("dt", NARROW)
@pytest.mark.parametrize("sdt", ["float64", "float32", "int64", "other"])
@pytest.mark.parametrize("op", OPS_0D)
def test_0d_operand_of_another_dtype(dt, sdt, op):
    """torch's CPU mul / div / floor_divide take a 0-d second operand in float32 (its original value, like a Python
    number); the other ops round it into the tensor's dtype first. A 0-d first operand is rounded in all."""
    sdt = ("bfloat16" if dt == "float16" else "float16") if sdt == "other" else sdt
    rng = np.random.default_rng(5)
    for n in (6, 64):
        for _ in range(20):
            A = rng.standard_normal(n) * 3
            s = float(rng.integers(1000, 5000)) if sdt == "int64" else float(rng.standard_normal() * 2)
            ma, ta = both(A, dt)
            ms, ts = mt.tensor(s, dtype=getattr(mt, sdt)), torch.tensor(s, dtype=getattr(torch, sdt))
            assert_same(getattr(mt, op)(ma, ms), getattr(torch, op)(ta, ts))
            if op in ("mul", "div", "floor_divide"):
                assert_same(getattr(ma.clone(), op + "_")(ms), getattr(ta.clone(), op + "_")(ts))
            if op in ("mul", "div"):  # (torch's floor_divide(0-d, tensor) rounds its quotient into the dtype in its
                # vectorized kernel and not in its scalar one, for tensor-tensor operands too: not this bug)
                assert_same(getattr(mt, op)(ms, ma), getattr(torch, op)(ts, ta))


def test_0d_operand_gradients():
    mx, tx = both([2.398, -1.5, 0.3], "float16", requires_grad=True)
    ms, ts = mt.tensor(1.00012, dtype=mt.float64, requires_grad=True), torch.tensor(1.00012, dtype=torch.float64,
                                                                                      requires_grad=True)
    for L, x, s in ((mt, mx, ms), (torch, tx, ts)):
        ((x * s) + (x / s)).sum().backward()
    assert_same(mx.grad, tx.grad)
    np.testing.assert_allclose(ms.grad.item(), ts.grad.item(), rtol=2 * ULP["float16"])


# ---------------- where with a uint8 condition ----------------

@pytest.mark.parametrize("n", [3, 40])
def test_where_uint8_condition(n):
    cond = (np.arange(n) % 3).astype(np.uint8)  # 0, 1, 2: nonzero is true
    mc, tc = mt.tensor(cond.tolist(), dtype=mt.uint8), torch.tensor(cond)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert_same(mt.where(mc, mt.ones(n), mt.zeros(n)), torch.where(tc, torch.ones(n), torch.zeros(n)))
        assert_same(mt.where(mc, mt.ones(n, dtype=mt.bfloat16), 0.0), torch.where(tc, torch.ones(n, dtype=torch.bfloat16), 0.0))
        assert_same(mt.arange(n).where(mc, -1), torch.arange(n).where(tc, -1))
        mx, tx = mt.ones(n, requires_grad=True), torch.ones(n, requires_grad=True)
        mt.where(mc, mx, 0.0).sum().backward()
        torch.where(tc, tx, 0.0).sum().backward()
        assert_same(mx.grad, tx.grad)


def test_where_other_integer_conditions_still_raise():
    for L in (mt, torch):
        with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor, but got a tensor with "
                                               "dtype Char"):
            L.where(L.tensor([1, 0], dtype=L.int8), L.ones(2), L.zeros(2))
        with pytest.raises(RuntimeError, match="masked_fill_ only supports boolean masks"):
            L.ones(2).masked_fill(L.tensor([1, 0], dtype=L.uint8), 5.0)


def test_where_uint8_warns_once_per_process():
    """torch's TORCH_WARN_ONCE: the first uint8 where of a process warns (a fresh process here), later ones do not"""
    code = ("import warnings, {lib} as L\n"
            "warnings.simplefilter('always')\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    c = L.tensor([1, 0, 2], dtype=L.uint8)\n"
            "    L.where(c, L.ones(3), L.zeros(3)); L.ones(3).where(c, 0.0); L.where(c, L.ones(3), 1.0)\n"
            "print(len(w), w[0].category.__name__, str(w[0].message).split(' (Triggered')[0])\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(mt.__file__)))  # the minitorch under test (CI: installed)
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    outs = [subprocess.run([sys.executable, "-c", code.format(lib=lib)], capture_output=True, text=True, env=env,
                           check=True).stdout for lib in ("minitorch", "torch")]
    assert outs[0] == outs[1]
    assert outs[0].startswith("1 UserWarning where received a uint8 condition tensor. This behavior is deprecated")


# ---------------- sinc's gradient: torch's formula ----------------

def test_sinc_grad_is_torchs_formula():
    """(pi x cos(pi x) - sin(pi x)) / (pi x x), each step rounded to float32 (as torch's derivative, whose float32
    cos differs from the correctly rounded one by an ulp for some x: near 0 the cancellation magnifies it, which is
    why values there differ from torch's; see fuzz_known's torch-sinc-backward-cancellation), 0 where pi x x is"""
    x = np.array([-5.7636e-4, 0.01, -0.03, 0.2, 1.5, -2.25, 0.0, 1e-30], dtype=np.float32)
    m = mt.tensor(x.tolist(), requires_grad=True)
    mt.sinc(m).sum().backward()
    f = np.float32
    px = (x * f(np.pi)).astype(f)
    num = (px * np.cos(px.astype(np.float64)).astype(f)).astype(f) - np.sin(px.astype(np.float64)).astype(f)
    den = ((x * x).astype(f) * f(np.pi)).astype(f)
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.where(den == 0, f(0), (num.astype(f) / den).astype(f))
    np.testing.assert_allclose(m.grad.numpy(), want, rtol=4e-7, atol=0)
    # float64, away from the cancellation: torch's values
    xs = [0.2, 1.5, -2.25, 0.37]
    m64, t64 = mt.tensor(xs, dtype=mt.float64, requires_grad=True), torch.tensor(xs, dtype=torch.float64,
                                                                                 requires_grad=True)
    mt.sinc(m64).sum().backward()
    torch.sinc(t64).sum().backward()
    np.testing.assert_allclose(m64.grad.numpy(), t64.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dt", NARROW)
@pytest.mark.parametrize("shape,dim", [((3, 130, 170), 1), ((300, 40), 0), ((2, 3, 200, 20), (1, 2))])
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_column_sums_accumulate_in_float32(dt, shape, dim, op):
    # a sum over a dim that is not the innermost, kept one, ran as one elementwise add per row, rounding each
    # partial sum into the dtype (bfloat16 [3, 130, 170].sum(1): off by 0.6); torch accumulates in float32
    rng = np.random.default_rng(5)
    m, t = both(rng.standard_normal(shape), dt)
    assert_same(getattr(m, op)(dim), getattr(t, op)(dim))


def test_division_gradient_in_torchs_order():
    # b's gradient is -g * ((a / b) / b), as torch's: g * a first overflowed float16 (-inf where torch has -22496)
    for lib in (mt, torch):
        a = lib.full((20,), 30000, dtype=lib.int16)
        b = lib.full((20,), 2.0, dtype=lib.float16, requires_grad=True)
        (a / b).backward(lib.full((20,), 3.0, dtype=lib.float16))
        assert b.grad[0].item() == -22496.0


@pytest.mark.parametrize("dt", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("e", [0.5, -0.5, 2, -1, 1.5])
def test_pow_by_a_number_at_signed_zeros_and_infinities(dt, e):
    # torch takes x ** 0.5 / x ** -0.5 (a Python number) as sqrt / rsqrt for bfloat16, float32 and float64:
    # (-0.0) ** 0.5 is -0.0 and (-inf) ** 0.5 nan (C's pow: +0.0, inf); its float16 kernel is std::pow; a tensor
    # exponent is std::pow everywhere
    vals = [-0.0, 0.0, 4.0, float("-inf"), -4.0, float("inf"), float("nan"), 3.0] * 3
    for exp_m, exp_t in ((e, e), (mt.tensor(e), torch.tensor(e))):
        a = (torch.tensor(vals).to(getattr(torch, dt)) ** exp_t).double().numpy()
        b = (mt.tensor(vals).to(getattr(mt, dt)) ** exp_m).double().numpy()
        np.testing.assert_array_equal(a, b)
        keep = ~np.isnan(a)
        np.testing.assert_array_equal(np.signbit(a[keep]), np.signbit(b[keep]))

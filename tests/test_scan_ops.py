"""Scans (cumsum, cumprod, cummax, cummin, logcumsumexp) and triangles (tril, triu, tril_indices,
triu_indices) against PyTorch: values for every dtype, dims (negative, 0-d, empty, size 1, out of
range), layouts (transposed, sliced, expanded), NaN / inf / zeros, the dtype= argument, the
in-place forms, gradients (against torch and by finite differences in float64), node names and
the exceptions torch raises."""
import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64", "int32", "int64", "bool"]
NP = {"float32": np.float32, "float64": np.float64, "int32": np.int32, "int64": np.int64, "bool": np.bool_}
SCANS = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]
NODE = {"cumsum": "CumsumBackward0", "cumprod": "CumprodBackward0", "cummax": "CummaxBackward0",
        "cummin": "CumminBackward0", "logcumsumexp": "LogcumsumexpBackward0", "tril": "TrilBackward0",
        "triu": "TriuBackward0"}


def make(shape, dtype, seed=0):
    r = np.random.default_rng(seed)
    if dtype == "bool":
        return r.random(shape) > 0.4
    if dtype.startswith("int"):
        return r.integers(-3, 4, size=shape).astype(NP[dtype])
    return r.standard_normal(shape).astype(NP[dtype])


def both(a):
    a = np.array(a, order="C")
    return mt.tensor(a), torch.tensor(a)


def values(r):
    """(values, indices) of cummax/cummin or the tensor itself, as a list of tensors"""
    return list(r) if isinstance(r, tuple) else [r]


def same(got, want, rtol=None, atol=None):
    g_list, w_list = values(got), values(want)
    assert len(g_list) == len(w_list)
    for g, w in zip(g_list, w_list):
        assert str(g.dtype) == str(w.dtype), (g.dtype, w.dtype)
        assert tuple(g.shape) == tuple(w.shape), (tuple(g.shape), tuple(w.shape))
        gn, wn = g.detach().numpy(), w.detach().numpy()
        if wn.dtype.kind == "f":
            r = rtol if rtol is not None else (2e-6 if wn.dtype == np.float32 else 1e-12)
            a = atol if atol is not None else (1e-6 if wn.dtype == np.float32 else 1e-12)
            np.testing.assert_allclose(gn, wn, rtol=r, atol=a, equal_nan=True)
        else:
            np.testing.assert_array_equal(gn, wn)


def outcome(fn):
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001  (the exception class is compared with torch's)
        return None, e


def same_outcome(fm, ft, **tol):
    """runs fm (minitorch) and ft (torch): the same values, or the same exception class and message"""
    rt, et = outcome(ft)
    rm, em = outcome(fm)
    if et is not None:
        assert em is not None, f"torch raised {type(et).__name__}: {et}, minitorch returned {rm}"
        assert type(em).__name__ == type(et).__name__, (em, et)
        return et
    if em is not None:
        raise em
    same(rm, rt, **tol)
    return None


# ---------------------------------------------------------------- forward
SHAPE_DIMS = [((), 0), ((), -1), ((7,), 0), ((7,), -1), ((3, 4), 0), ((3, 4), 1), ((3, 4), -2),
              ((2, 3, 4), 1), ((2, 3, 4), -1), ((2, 0, 3), 1), ((2, 0, 3), 0), ((1, 5), 0), ((4, 1, 3), 1),
              ((0,), 0)]


@pytest.mark.parametrize("op", SCANS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dim", SHAPE_DIMS)
def test_scan_values(op, dtype, shape, dim):
    a = make(shape, dtype, seed=len(shape) + abs(dim))
    xm, xt = both(a)
    same_outcome(lambda: getattr(mt, op)(xm, dim), lambda: getattr(torch, op)(xt, dim))
    same_outcome(lambda: getattr(xm, op)(dim), lambda: getattr(xt, op)(dim))
    same_outcome(lambda: getattr(xm, op)(dim=dim), lambda: getattr(xt, op)(dim=dim))


def test_scan_dtype_rules():
    for dt in ["int32", "int64", "bool"]:
        xm, _ = both(make((4,), dt))
        assert xm.cumsum(0).dtype == mt.int64 and xm.cumprod(0).dtype == mt.int64
        assert xm.cummax(0).values.dtype == xm.dtype and xm.cummin(0).indices.dtype == mt.int64
    xm, _ = both(make((4,), "float32"))
    assert xm.cumsum(0).dtype == mt.float32 and xm.logcumsumexp(0).dtype == mt.float32


@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_scan_dtype_argument(op, src, dst):
    xm, xt = both(make((3, 5), src, seed=3))
    same_outcome(lambda: getattr(xm, op)(1, dtype=getattr(mt, dst if dst != "bool" else "bool")),
                 lambda: getattr(xt, op)(1, dtype=getattr(torch, dst)))
    same_outcome(lambda: getattr(mt, op)(xm, 0, dtype=getattr(mt, dst)),
                 lambda: getattr(torch, op)(xt, 0, dtype=getattr(torch, dst)))


def test_scan_bool_dtype_on_0d_and_empty():
    """torch copies a 0-d or empty input without the bool-kernel check (logcumsumexp still checks)"""
    for shape in [(), (0,), (0, 3)]:
        for src in ("bool", "float32", "int32"):
            xm, xt = both(make(shape, src))
            for op in ("cumsum", "cumprod"):
                same_outcome(lambda: getattr(xm, op)(0, dtype=mt.bool), lambda: getattr(xt, op)(0, dtype=torch.bool))
                if src == "bool":
                    same_outcome(lambda: getattr(xm.clone(), op + "_")(0), lambda: getattr(xt.clone(), op + "_")(0))
            same_outcome(lambda: xm.logcumsumexp(0), lambda: xt.logcumsumexp(0))
    xm, _ = both(np.ones((1,), np.bool_))
    with pytest.raises(NotImplementedError, match="\"cumsum_out_cpu\" not implemented for 'Bool'"):
        xm.cumsum_(0)


def test_scan_dtype_is_keyword_only():
    xm, _ = both(make((3,), "float32"))
    with pytest.raises(TypeError):
        xm.cumsum(0, mt.float64)


def test_cumsum_integer_wraps_like_torch():
    a = np.array([2**62, 2**62, 2**62, -5], dtype=np.int64)
    xm, xt = both(a)
    same(xm.cumsum(0), xt.cumsum(0))
    same(xm.cumprod(0), xt.cumprod(0))
    b = np.array([2**30, 2**30, 2**30, 7], dtype=np.int32)
    xm, xt = both(b)
    same(xm.cumsum(0, dtype=mt.int32), xt.cumsum(0, dtype=torch.int32))
    same(xm.cumprod(0, dtype=mt.int32), xt.cumprod(0, dtype=torch.int32))


SPECIAL = [
    [1.0, np.nan, 3.0, np.nan, 0.0, -1.0],
    [np.inf, 1.0, -np.inf, 2.0, np.nan, 3.0],
    [-np.inf, -np.inf, 0.0, np.inf, np.inf, -np.inf],
    [0.0, 2.0, 0.0, 0.0, 3.0, -0.0],
    [2.0, 2.0, 1.0, 1.0, 2.0, 5.0],  # ties: the later index
    [np.nan, np.nan, 1.0, 2.0, 0.0, np.inf],
    [1e38, 1e38, -1e38, 1e-45, 3e38, 1.0],
]


@pytest.mark.parametrize("op", SCANS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("row", range(len(SPECIAL)))
def test_scan_special_values(op, dtype, row):
    a = np.array([SPECIAL[row], SPECIAL[(row + 3) % len(SPECIAL)]], dtype=NP[dtype])
    for dim in (0, 1):
        xm, xt = both(a)
        same_outcome(lambda: getattr(xm, op)(dim), lambda: getattr(xt, op)(dim))


def layouts(a):
    """(name, minitorch tensor, torch tensor) for the same values in non-contiguous layouts"""
    xm, xt = both(np.ascontiguousarray(np.swapaxes(a, 0, -1)))
    yield "transposed", xm.transpose(0, -1), xt.transpose(0, -1)
    big = np.concatenate([a, a], axis=-1)
    xm, xt = both(big)
    yield "sliced", xm[..., ::2], xt[..., ::2]
    xm, xt = both(a[:1])
    shape = (a.shape[0],) + a.shape[1:]
    yield "expanded", xm.expand(*shape), xt.expand(*shape)


@pytest.mark.parametrize("op", SCANS + ["tril", "triu"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous(op, dtype):
    a = make((4, 3, 5), dtype, seed=5)
    for name, xm, xt in layouts(a):
        assert not xm.is_contiguous(), name
        if op in ("tril", "triu"):
            for k in (-1, 0, 2):
                same_outcome(lambda: getattr(xm, op)(k), lambda: getattr(xt, op)(k))
            continue
        for dim in range(-3, 3):
            same_outcome(lambda: getattr(xm, op)(dim), lambda: getattr(xt, op)(dim))


@pytest.mark.parametrize("op", SCANS)
@pytest.mark.parametrize("shape,dim", [((64, 700, 3), 1), ((3, 50, 130), 1), ((200000,), 0), ((5, 70000), 1),
                                       ((70000, 5), 0)])
def test_scan_large(op, shape, dim):
    """big enough for the parallel tiles; inner sizes past and between the kernel's block size"""
    a = make(shape, "float64", seed=9) * 0.01 + (1.0 if op == "cumprod" else 0.0)
    xm, xt = both(a)
    same(getattr(xm, op)(dim), getattr(xt, op)(dim), rtol=1e-9, atol=1e-9)
    a = make(shape, "int64", seed=9)
    xm, xt = both(a)
    if op != "logcumsumexp":
        same(getattr(xm, op)(dim), getattr(xt, op)(dim))


@pytest.mark.parametrize("op", SCANS)
def test_scan_dim_errors(op):
    for shape, dim in [((), 1), ((), -2), ((3,), 1), ((3,), -2), ((2, 3), 2), ((2, 3), -3)]:
        xm, xt = both(make(shape, "float32"))
        e = same_outcome(lambda: getattr(xm, op)(dim), lambda: getattr(xt, op)(dim))
        assert isinstance(e, IndexError)
        with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of"):
            getattr(xm, op)(dim)
    # torch's cummax/cummin skip the dim check for an empty input (the other scans do not)
    for shape, dim in [((0,), 3), ((2, 0), -5), ((0, 3), 7)]:
        xm, xt = both(make(shape, "float32"))
        xm.requires_grad_(True)
        xt.requires_grad_(True)
        e = same_outcome(lambda: getattr(xm, op)(dim), lambda: getattr(xt, op)(dim))
        assert (e is None) == (op in ("cummax", "cummin"))
    xm, _ = both(make((2, 3), "float32"))
    with pytest.raises(TypeError, match="missing 1 required positional arguments"):
        getattr(xm, op)()
    for bad in (0.5, None, "a", True):
        with pytest.raises(TypeError, match="argument 'dim'"):
            getattr(xm, op)(bad)


def test_scan_not_implemented_messages():
    xm, xt = both(make((3,), "int32"))
    for fm, ft in [(lambda: xm.logcumsumexp(0), lambda: xt.logcumsumexp(0)),
                   (lambda: xm.cumsum(0, dtype=mt.bool), lambda: xt.cumsum(0, dtype=torch.bool)),
                   (lambda: xm.cumprod(0, dtype=mt.bool), lambda: xt.cumprod(0, dtype=torch.bool))]:
        e = same_outcome(fm, ft)
        assert isinstance(e, NotImplementedError)
        with pytest.raises(NotImplementedError) as info:
            fm()
        assert str(info.value) == str(e)


def test_return_types():
    xm, _ = both(make((3, 4), "float32"))
    r = xm.cummax(1)
    assert type(r).__name__ == "cummax" and type(mt.cummin(xm, 0)).__name__ == "cummin"
    v, i = r
    assert v is r.values and i is r.indices and r[0] is v
    assert repr(r).startswith("torch.return_types.cummax(\nvalues=tensor(")


# ---------------------------------------------------------------- in place
@pytest.mark.parametrize("op", ["cumsum_", "cumprod_"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_scan_inplace_values(op, dtype):
    a = make((3, 4), dtype, seed=2)
    for dim in (0, 1, -1):
        xm, xt = both(a)
        rm, em = outcome(lambda: getattr(xm, op)(dim))
        rt, et = outcome(lambda: getattr(xt, op)(dim))
        assert (em is None) == (et is None), (em, et)
        if et is not None:
            assert type(em) is type(et)
            continue
        assert rm is xm
        same(xm, xt)
        # in place into a view writes through to the base
        bm, bt = both(a)
        getattr(bm[:, 1:], op)(dim)
        getattr(bt[:, 1:], op)(dim)
        same(bm, bt)


def test_scan_inplace_errors():
    xm, xt = both(make((3,), "int32"))
    e = same_outcome(lambda: xm.clone().cumsum_(0, dtype=mt.float64),
                     lambda: xt.clone().cumsum_(0, dtype=torch.float64))
    assert "Bad in-place call: input tensor dtype int and output tensor dtype double should match" in str(e)
    with pytest.raises(RuntimeError, match="dtype int and output tensor dtype double"):
        xm.clone().cumsum_(0, dtype=mt.float64)
    ym, yt = both(make((3,), "float32"))
    same_outcome(lambda: ym.clone().cumprod_(0, dtype=mt.float64), lambda: yt.clone().cumprod_(0, dtype=torch.float64))
    same(ym.clone().cumsum_(0, dtype=mt.float32), yt.clone().cumsum_(0, dtype=torch.float32))
    lm = mt.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        lm.cumsum_(0)
    em, et = both(np.ones((1, 3), np.float32))
    same_outcome(lambda: em.expand(3, 3).cumsum_(0), lambda: et.expand(3, 3).cumsum_(0))


@pytest.mark.parametrize("op", ["cumsum_", "cumprod_", "tril_", "triu_"])
def test_inplace_gradients(op):
    a = make((4, 5), "float64", seed=11)
    a[1, 2] = 0.0
    g = make((4, 5), "float64", seed=12)
    arg = (1,) if op.startswith("cum") else (0,)
    xm, xt = both(a)
    xm.requires_grad_(True)
    xt.requires_grad_(True)
    ym, yt = xm * 2, xt * 2
    getattr(ym, op)(*arg)
    getattr(yt, op)(*arg)
    assert ym.grad_fn.name() == yt.grad_fn.name()
    same(ym, yt)
    ym.backward(mt.tensor(g))
    yt.backward(torch.tensor(g))
    same(xm.grad, xt.grad)
    # in place on a view of a non-leaf: the base gets the history (CopySlices)
    xm.grad = None
    xt.grad = None
    bm, bt = xm * 1, xt * 1
    getattr(bm[1:], op)(*arg)
    getattr(bt[1:], op)(*arg)
    same(bm, bt)
    (bm * mt.tensor(g)).sum().backward()
    (bt * torch.tensor(g)).sum().backward()
    same(xm.grad, xt.grad)


# ---------------------------------------------------------------- gradients
CUMPROD_ZEROS = [
    [0.0, 2.0, 3.0, 4.0, 5.0],
    [2.0, 3.0, 0.0, 4.0, 5.0],
    [2.0, 3.0, 4.0, 5.0, 0.0],
    [2.0, 0.0, 3.0, 0.0, 5.0],
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [1.5, -2.0, 0.0, 0.0, 3.0],
    [0.5, 1.5, -1.0, 2.0, 3.0],
]


def grads(op, a, g, dim, dtype):
    xm, xt = both(a.astype(NP[dtype]))
    xm.requires_grad_(True)
    xt.requires_grad_(True)
    ym, yt = values(getattr(mt, op)(xm, dim))[0], values(getattr(torch, op)(xt, dim))[0]
    assert ym.grad_fn.name() == yt.grad_fn.name() == NODE[op]
    ym.backward(mt.tensor(g.astype(NP[dtype])))
    yt.backward(torch.tensor(g.astype(NP[dtype])))
    return xm.grad, xt.grad


@pytest.mark.parametrize("op", SCANS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,dim", [((), 0), ((6,), 0), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1), ((2, 0, 3), 1),
                                       ((1, 4), 0), ((4, 1), 1)])
def test_scan_gradients_vs_torch(op, dtype, shape, dim):
    a = make(shape, "float64", seed=21)
    g = make(shape, "float64", seed=22)
    gm, gt = grads(op, a, g, dim, dtype)
    same(gm, gt, rtol=1e-4 if dtype == "float32" else 1e-9, atol=1e-5 if dtype == "float32" else 1e-10)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("row", range(len(CUMPROD_ZEROS)))
def test_cumprod_gradient_with_zeros(dtype, row):
    a = np.array([CUMPROD_ZEROS[row], CUMPROD_ZEROS[(row + 1) % len(CUMPROD_ZEROS)],
                  CUMPROD_ZEROS[-1]])  # the last row has no zeros
    g = make(a.shape, "float64", seed=row)
    for dim in (0, 1):
        gm, gt = grads("cumprod", a, g, dim, dtype)
        same(gm, gt, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-5 if dtype == "float32" else 1e-12)
        assert np.all(np.isfinite(gm.numpy()))
    gm, gt = grads("cumprod", a.T.copy(), g.T.copy(), 0, dtype)
    same(gm, gt, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-5 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("op", SCANS)
@pytest.mark.parametrize("row", range(len(SPECIAL)))
def test_scan_gradients_special_values(op, row):
    a = np.array([SPECIAL[row], SPECIAL[(row + 2) % len(SPECIAL)]])
    g = make(a.shape, "float64", seed=row)
    for dim in (0, 1):
        gm, gt = grads(op, a, g, dim, "float64")
        same(gm, gt, rtol=1e-9, atol=1e-9)


def test_logcumsumexp_gradient_signs():
    """the backward splits the gradient by sign: zero, positive and negative gradients"""
    a = make((3, 6), "float64", seed=4)
    g = np.array([[0.0, 1.0, -1.0, 0.0, 2.5, -0.5], [0.0] * 6, [-1.0] * 6])
    gm, gt = grads("logcumsumexp", a, g, 1, "float64")
    same(gm, gt)


def test_scan_gradient_with_dtype_argument():
    a = make((3, 4), "float32", seed=6)
    for op in ("cumsum", "cumprod"):
        xm, xt = both(a)
        xm.requires_grad_(True)
        xt.requires_grad_(True)
        ym = getattr(xm, op)(1, dtype=mt.float64)
        yt = getattr(xt, op)(1, dtype=torch.float64)
        assert ym.dtype == mt.float64 and ym.grad_fn.name() == yt.grad_fn.name()
        ym.sum().backward()
        yt.sum().backward()
        assert xm.grad.dtype == mt.float32
        same(xm.grad, xt.grad, rtol=1e-6)
        # to an integer dtype: torch refuses while recording, and computes under no_grad
        for dt in ("int64", "int32"):
            e = same_outcome(lambda: getattr(xm, op)(1, dtype=getattr(mt, dt)),
                             lambda: getattr(xt, op)(1, dtype=getattr(torch, dt)))
            assert isinstance(e, RuntimeError) and "Autograd not support dtype" in str(e)
            with pytest.raises(RuntimeError, match=f"^{e}$"):
                getattr(xm, op)(1, dtype=getattr(mt, dt))
            with mt.no_grad(), torch.no_grad():
                same(getattr(xm, op)(1, dtype=getattr(mt, dt)), getattr(xt, op)(1, dtype=getattr(torch, dt)))
        e = same_outcome(lambda: (xm * 1).cumsum_(0, dtype=mt.int64), lambda: (xt * 1).cumsum_(0, dtype=torch.int64))
        assert "dtype float and output tensor dtype long int should match" in str(e)
        with pytest.raises(RuntimeError, match="dtype float and output tensor dtype long int should match"):
            (xm * 1).cumsum_(0, dtype=mt.int64)


def test_cummax_indices_have_no_grad():
    xm = mt.tensor([[1.0, 3.0], [2.0, 0.0]], requires_grad=True)
    v, i = xm.cummax(0)
    assert v.requires_grad and not i.requires_grad and i.grad_fn is None
    assert not mt.tensor([1, 2]).cummax(0).values.requires_grad


@pytest.mark.parametrize("op", SCANS + ["tril", "triu"])
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 4), 1), ((2, 3, 3), 0), ((), 0)])
def test_gradcheck(op, shape, dim):
    if op in ("tril", "triu") and len(shape) < 2:
        return
    r = np.random.default_rng(len(shape))
    a = r.permutation(np.arange(int(np.prod(shape)), dtype=np.float64)).reshape(shape) * 0.37 - 1.1  # no ties
    if op == "cumprod" and a.size > 2:
        a.reshape(-1)[1] = 0.0
    x = mt.tensor(a, requires_grad=True)
    if op in ("tril", "triu"):
        f = (lambda t: getattr(t, op)(1))
    else:
        f = (lambda t: values(getattr(t, op)(dim))[0])
    assert mt.autograd.gradcheck(f, (x,), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_gradcheck_detects_wrong_gradients():
    """the check above can fail: a deliberately wrong function (gradient off by the factor 2)"""
    x = mt.tensor(np.arange(4.0) + 1, requires_grad=True)

    class Twice(mt.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t.cumsum(0)

        @staticmethod
        def backward(ctx, g):
            return 2 * g.flip(0).cumsum(0).flip(0)

    assert not mt.autograd.gradcheck(Twice.apply, (x,), raise_exception=False)


# ---------------------------------------------------------------- tril / triu
@pytest.mark.parametrize("op", ["tril", "triu"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (3, 5), (5, 3), (2, 3, 4), (2, 1, 3, 4), (0, 3), (3, 0), (2, 0, 0), (1, 1)])
def test_tri_values(op, dtype, shape):
    a = make(shape, dtype, seed=7)
    xm, xt = both(a)
    for k in (-6, -2, -1, 0, 1, 2, 6):
        same(getattr(mt, op)(xm, k), getattr(torch, op)(xt, k))
        same(getattr(xm, op)(diagonal=k), getattr(xt, op)(diagonal=k))
        cm, ct = both(a)
        assert getattr(cm, op + "_")(k) is cm
        getattr(ct, op + "_")(k)
        same(cm, ct)
    same(getattr(xm, op)(), getattr(xt, op)())


def test_tri_extreme_diagonals():
    xm, xt = both(make((3, 4), "float32"))
    for k in (2**62, 2**63 - 1, -(2**63), -(2**62)):
        for op in ("tril", "triu"):
            same(getattr(xm, op)(k), getattr(xt, op)(k))
            # torch's own tril/triu_indices overflow here (negative sizes, 13 of 12 entries): brute force instead
            keep = [(i, j) for i in range(3) for j in range(4) if (j - i <= k if op == "tril" else j - i >= k)]
            want = np.array(keep, dtype=np.int64).reshape(-1, 2).T
            got = getattr(mt, op + "_indices")(3, 4, k)
            assert got.dtype == mt.int64
            np.testing.assert_array_equal(got.numpy(), want)


def test_tri_gpt_mask():
    T = 8
    m = mt.tril(mt.ones(T, T))
    same(m, torch.tril(torch.ones(T, T)))
    att = mt.tensor(make((2, T, T), "float32"))
    filled = att.masked_fill(m[:T, :T] == 0, float("-inf")).softmax(-1)
    want = torch.tensor(att.numpy()).masked_fill(torch.tril(torch.ones(T, T)) == 0, float("-inf")).softmax(-1)
    same(filled, want)


@pytest.mark.parametrize("op", ["tril", "triu"])
def test_tri_errors(op):
    for shape in [(), (3,)]:
        xm, xt = both(make(shape, "float32"))
        e = same_outcome(lambda: getattr(xm, op)(), lambda: getattr(xt, op)())
        assert str(e) == f"{op}: input tensor must have at least 2 dimensions"
        with pytest.raises(RuntimeError, match=f"^{op}: input tensor must have at least 2 dimensions$"):
            getattr(mt, op)(xm)
        with pytest.raises(RuntimeError, match="at least 2 dimensions"):
            getattr(xm, op + "_")()
    xm, _ = both(make((3, 3), "float32"))
    for bad in (0.5, True, "1", None):
        with pytest.raises(TypeError):
            getattr(xm, op)(bad)
    lm = mt.ones(3, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        getattr(lm, op + "_")()


@pytest.mark.parametrize("op", ["tril", "triu"])
def test_tri_gradients(op):
    a = make((2, 3, 4), "float64", seed=8)
    g = make((2, 3, 4), "float64", seed=9)
    for k in (-1, 0, 2):
        xm, xt = both(a)
        xm.requires_grad_(True)
        xt.requires_grad_(True)
        ym, yt = getattr(xm, op)(k), getattr(xt, op)(k)
        assert ym.grad_fn.name() == yt.grad_fn.name() == NODE[op]
        ym.backward(mt.tensor(g))
        yt.backward(torch.tensor(g))
        same(xm.grad, xt.grad)
        # non-contiguous input and gradient
        xm2 = mt.tensor(np.ascontiguousarray(np.swapaxes(a, 1, 2))).transpose(1, 2).requires_grad_(True)
        getattr(xm2, op)(k).backward(mt.tensor(np.ascontiguousarray(np.swapaxes(g, 1, 2))).transpose(1, 2))
        same(xm2.grad, xt.grad)


def test_tri_inplace_on_expanded():
    """expanded batch dims: every alias gets the same matrix, accepted as in torch; an expanded row or column
    dim would write different values into one location (torch's result depends on the write order): refused"""
    a = make((2, 3), "float32", seed=1)
    for op in ("tril_", "triu_"):
        xm, xt = both(a)
        same_outcome(lambda: getattr(xm.expand(3, 2, 3), op)(), lambda: getattr(xt.expand(3, 2, 3), op)())
        same(xm, xt)
        # 4-D and more: torch writes in place only when the batch dims after the first are laid out densely
        for base, expanded in (((1, 2, 3, 3), (4, 2, 3, 3)), ((2, 1, 3, 3), (2, 4, 3, 3)), ((1, 1, 2, 3), (3, 2, 2, 3)),
                               ((1, 1, 3, 3, 2), (5, 3, 3, 3, 2))):
            b = make(base, "float32", seed=2)
            for rg in (False, True):
                xm, xt = both(b)
                if rg:
                    xm, xt = xm.requires_grad_(True).clone(), xt.requires_grad_(True).clone()
                same_outcome(lambda: getattr(xm.expand(*expanded), op)(), lambda: getattr(xt.expand(*expanded), op)())
                same(xm, xt)
        for shape, expanded in (((2, 1), (2, 4)), ((1, 3), (4, 3))):
            xm, _ = both(make(shape, "float32"))
            with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
                getattr(xm.expand(*expanded), op)()


@pytest.mark.parametrize("fn", ["tril_indices", "triu_indices"])
def test_tri_indices(fn):
    for row in (0, 1, 3, 4, 7):
        for col in (0, 1, 3, 5):
            for off in (-9, -3, -1, 0, 1, 2, 4, 9):
                same(getattr(mt, fn)(row, col, off), getattr(torch, fn)(row, col, off))
    same(getattr(mt, fn)(4, 3), getattr(torch, fn)(4, 3))
    same(getattr(mt, fn)(4, 3, offset=1, dtype=mt.int32), getattr(torch, fn)(4, 3, offset=1, dtype=torch.int32))
    same(getattr(mt, fn)(3, 3, device="cpu"), getattr(torch, fn)(3, 3, device="cpu"))
    # a huge row count with nothing (or everything) kept is answered without walking every row
    same(getattr(mt, fn)(10**12, 0), getattr(torch, fn)(10**12, 0))
    off = -10**12 + 2 if fn == "tril_indices" else 1
    same(getattr(mt, fn)(10**12, 2, off), getattr(torch, fn)(10**12, 2, off))
    assert getattr(mt, fn)(10**12, 2, off).shape == (2, 3 if fn == "tril_indices" else 1)


@pytest.mark.parametrize("fn", ["tril_indices", "triu_indices"])
def test_tri_indices_errors(fn):
    for args, kw in [((-1, 3), {}), ((3, -2), {}), ((3, 3), {"dtype": "float32"}), ((3, 3), {"dtype": "bool"}),
                     ((3, 3), {"dtype": "float64"})]:
        kwm = {k: getattr(mt, v) for k, v in kw.items()}
        kwt = {k: getattr(torch, v) for k, v in kw.items()}
        e = same_outcome(lambda: getattr(mt, fn)(*args, **kwm), lambda: getattr(torch, fn)(*args, **kwt))
        assert e is not None
        with pytest.raises(type(e)) as info:
            getattr(mt, fn)(*args, **kwm)
        assert str(info.value) == str(e)
    for bad in [(3.0, 3), (3, "a"), (3, 3, 0.5)]:
        with pytest.raises(TypeError):
            getattr(mt, fn)(*bad)
    with pytest.raises(TypeError, match="missing 1 required positional arguments"):
        getattr(mt, fn)(3)


# ---------------------------------------------------------------- devices
@pytest.mark.skipif(not mt.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_raises_not_implemented():
    x = mt.ones(3, 3).cuda()
    for f in (lambda: x.cumsum(0), lambda: x.cumprod(0), lambda: x.cummax(0), lambda: x.cummin(0),
              lambda: x.logcumsumexp(0), lambda: x.tril(), lambda: x.triu_(), lambda: x.clone().cumsum_(0)):
        with pytest.raises(NotImplementedError, match="CUDA"):
            f()
    same(mt.tril_indices(3, 3, device="cuda").cpu(), torch.tril_indices(3, 3))

"""Reductions, max/min along a dim, softmax / log_softmax: values against NumPy, gradients by
central finite differences in float64, and values, gradients, grad_fn names and exception
types against PyTorch where it is installed."""
import math

import numpy as np
import pytest

import minitorch as mt

DT = {"float32": mt.float32, "float64": mt.float64, "int32": mt.int32, "int64": mt.int64, "bool": mt.bool}
NP = {"float32": np.float32, "float64": np.float64, "int32": np.int32, "int64": np.int64, "bool": np.bool_}


def rng(seed=0):
    return np.random.default_rng(seed)


def make(shape, dtype="float32", seed=0, lo=-3, hi=4):
    r = rng(seed)
    if dtype == "bool":
        return r.random(shape) > 0.3
    if dtype.startswith("int"):
        return r.integers(lo, hi, size=shape).astype(NP[dtype])
    return r.standard_normal(shape).astype(NP[dtype])


def T(a, requires_grad=False):
    t = mt.tensor(np.array(a, order="C"))  # (np.ascontiguousarray would make 0-d arrays 1-d)
    if requires_grad:
        t.requires_grad_(True)
    return t


def N(t):
    return t.detach().numpy()


def check(got, want, rtol=None, atol=None, dtype=None):
    g = N(got)
    want = np.asarray(want)
    assert tuple(got.shape) == tuple(want.shape), (tuple(got.shape), want.shape)
    if dtype is not None:
        assert got.dtype == dtype, (got.dtype, dtype)
    if g.dtype.kind in "fc" or want.dtype.kind in "fc":
        if rtol is None:
            rtol = 1e-5 if g.dtype == np.float32 else 1e-10
        if atol is None:
            atol = 1e-5 if g.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(g.astype(np.float64), want.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(g, want)


# layouts: the same logical array as a contiguous, a transposed, an expanded and a strided tensor
def layouts(a):
    out = [("contig", T(a), a)]
    if a.ndim >= 2:
        at = np.ascontiguousarray(np.swapaxes(a, 0, -1))  # memory order transposed
        out.append(("transposed", T(at).transpose(0, -1), a))
    if a.ndim >= 1:
        first = a[:1]
        out.append(("expanded", T(first).expand(*a.shape), np.broadcast_to(first, a.shape)))
        doubled = np.repeat(a, 2, axis=-1)
        out.append(("strided", T(doubled)[..., ::2], doubled[..., ::2]))
    return out


DIMS = [None, 0, -1, 1, (0, 2), (-1, 0), (2, 1, 0), ()]


def np_dims(dims, nd):
    if dims is None or dims == ():
        return tuple(range(nd))
    if isinstance(dims, int):
        dims = (dims,)
    return tuple(d % nd for d in dims)


def call(t, name, dims, keepdim, **kw):
    f = getattr(t, name)
    if dims is None:
        return f(**kw)
    return f(dims, keepdim=keepdim, **kw)


# ---------------------------------------------------------------- values against NumPy
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool"])
@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_values(dtype, dims, keepdim):
    a = make((3, 4, 5), dtype)
    for name, t, ref in layouts(a):
        nd = np_dims(dims, 3)
        got = call(t, "sum", dims, keepdim)
        want_dtype = np.int64 if dtype in ("int32", "int64", "bool") else NP[dtype]
        want = ref.astype(want_dtype).sum(axis=nd, keepdims=keepdim and dims is not None)
        check(got, want, dtype=DT["int64"] if dtype in ("int32", "int64", "bool") else DT[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_mean_var_std_values(dtype, dims, keepdim):
    a = make((3, 4, 5), dtype)
    for name, t, ref in layouts(a):
        nd = np_dims(dims, 3)
        kd = keepdim and dims is not None
        check(call(t, "mean", dims, keepdim), ref.mean(axis=nd, keepdims=kd), dtype=DT[dtype])
        for corr in (0, 1, 2):
            if dims is None:
                v, s = t.var(correction=corr), t.std(correction=corr)
            else:
                v, s = t.var(dims, keepdim=keepdim, correction=corr), t.std(dims, keepdim=keepdim, correction=corr)
            check(v, ref.astype(np.float64).var(axis=nd, keepdims=kd, ddof=corr), dtype=DT[dtype])
            check(s, ref.astype(np.float64).std(axis=nd, keepdims=kd, ddof=corr), dtype=DT[dtype])
    t = T(a)
    check(t.var(unbiased=False), a.astype(np.float64).var())
    check(t.var(1, unbiased=True), a.astype(np.float64).var(axis=1, ddof=1))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod_values(dtype, dim, keepdim):
    a = make((3, 4, 5), dtype, lo=-2, hi=3)
    for name, t, ref in layouts(a):
        want_dtype = np.int64 if dtype in ("int32", "int64", "bool") else NP[dtype]
        if dim is None:
            got, want = t.prod(), ref.astype(want_dtype).prod()
        else:
            got, want = t.prod(dim, keepdim=keepdim), ref.astype(want_dtype).prod(axis=dim, keepdims=keepdim)
        check(got, want, rtol=1e-4 if dtype == "float32" else None)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool"])
def test_max_min_full(dtype):
    a = make((3, 4, 5), dtype)
    for name, t, ref in layouts(a):
        check(t.max(), ref.max(), dtype=DT[dtype])
        check(t.min(), ref.min(), dtype=DT[dtype])
        if dtype != "bool":
            check(t.argmax(), np.argmax(ref))
            check(t.argmin(), np.argmin(ref))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool"])
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_dim(dtype, dim, keepdim):
    a = make((3, 4, 5), dtype, lo=-2, hi=2)  # many ties: the first index must win
    for name, t, ref in layouts(a):
        for is_min in (False, True):
            r = t.min(dim, keepdim=keepdim) if is_min else t.max(dim, keepdim=keepdim)
            v, i = r
            assert r.values is v and r.indices is i
            want_v = (ref.min if is_min else ref.max)(axis=dim, keepdims=keepdim)
            want_i = (np.argmin if is_min else np.argmax)(ref, axis=dim)
            if keepdim:
                want_i = np.expand_dims(want_i, dim)
            check(v, want_v, dtype=DT[dtype])
            check(i, want_i, dtype=mt.int64)
            if dtype != "bool":
                check((t.argmin if is_min else t.argmax)(dim, keepdim=keepdim), want_i, dtype=mt.int64)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool"])
@pytest.mark.parametrize("dim", [None, 0, -1])
def test_all_any(dtype, dim):
    a = make((3, 4, 5), dtype, lo=0, hi=3)
    a_all = np.ones((3, 4, 5), NP[dtype])
    for arr in (a, a_all, np.zeros_like(a)):
        for name, t, ref in layouts(arr):
            if dim is None:
                check(t.all(), ref.all(), dtype=mt.bool)
                check(t.any(), ref.any(), dtype=mt.bool)
            else:
                check(t.all(dim), ref.all(axis=dim), dtype=mt.bool)
                check(t.any(dim, keepdim=True), ref.any(axis=dim, keepdims=True), dtype=mt.bool)
    t = T(np.array([0.0, float("nan")]))
    assert bool(t.any()) and not bool(t.all())


def np_logsumexp(a, axis, keepdims=False):
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    r = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dims", [0, -1, 1, (0, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp(dtype, dims, keepdim):
    a = make((3, 4, 5), dtype) * 30  # large values: needs the max shift
    for name, t, ref in layouts(a):
        check(t.logsumexp(dims, keepdim=keepdim), np_logsumexp(ref.astype(np.float64), np_dims(dims, 3), keepdim),
              dtype=DT[dtype])
    inf = float("inf")
    check(T(np.array([-inf, -inf])).logsumexp(0), -inf)
    check(T(np.array([inf, 1.0])).logsumexp(0), inf)
    check(T(np.zeros((2, 0), np.float32)).logsumexp(1), np.array([-inf, -inf], np.float32))
    # integer input gives float32
    r = T(np.array([1, 2], np.int64)).logsumexp(0)
    assert r.dtype == mt.float32
    check(r, np.log(np.exp(1.0) + np.exp(2.0)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [2, 1, 3, 0.5, 0, float("inf"), float("-inf"), -1])
@pytest.mark.parametrize("dims", [None, 1, (0, 2)])
def test_norm(dtype, p, dims):
    a = make((3, 4, 5), dtype)
    a[0, 0, 0] = 0
    for name, t, ref in layouts(a):
        nd = np_dims(dims, 3)
        r = np.abs(ref.astype(np.float64))
        if p == 0:
            want = (r != 0).sum(axis=nd).astype(np.float64)
        elif p == float("inf"):
            want = r.max(axis=nd)
        elif p == float("-inf"):
            want = r.min(axis=nd)
        else:
            with np.errstate(divide="ignore"):
                want = (r ** p).sum(axis=nd) ** (1.0 / p)
        got = t.norm(p) if dims is None else t.norm(p, dims)
        check(got, want, rtol=1e-5 if dtype == "float32" else 1e-10, dtype=DT[dtype])
    assert T(a).norm().item() == pytest.approx(np.linalg.norm(a.astype(np.float64)), rel=1e-6)


def test_sum_dtype_argument():
    a = np.array([1.5, 2.0, 2.7], np.float32)
    check(T(a).sum(dtype=mt.int32), np.int32(5), dtype=mt.int32)  # the input is converted first
    check(T(a).sum(dtype=mt.float64), a.astype(np.float64).sum(), dtype=mt.float64)
    check(T(a).sum(0, dtype=mt.bool), np.bool_(True), dtype=mt.bool)
    check(T(np.array([2, 3], np.int64)).sum(dtype=mt.float32), np.float32(5), dtype=mt.float32)
    check(T(np.array([2, 3], np.int32)).mean(dtype=mt.float64), 2.5, dtype=mt.float64)
    check(T(a).prod(dtype=mt.int32), np.int32(1 * 2 * 2), dtype=mt.int32)


def test_module_functions():
    a = make((3, 4, 5))
    t = T(a)
    check(mt.sum(t, (0, 2)), a.sum(axis=(0, 2)))
    check(mt.sum(t, dim=1, keepdim=True), a.sum(axis=1, keepdims=True))
    check(mt.mean(t, -1), a.mean(axis=-1))
    check(mt.max(t), a.max())
    check(mt.argmax(t, 1), a.argmax(axis=1))
    check(mt.softmax(t, 1), np_softmax(a.astype(np.float64), 1))
    check(mt.log_softmax(t, dim=0), np.log(np_softmax(a.astype(np.float64), 0)), atol=1e-5)
    check(mt.logsumexp(t, 2), np_logsumexp(a.astype(np.float64), 2))
    check(mt.std(t), a.astype(np.float64).std(ddof=1))


def test_zero_dim_and_scalars():
    t = T(np.array(3.5, np.float32))
    for name in ("sum", "mean", "prod", "max", "min"):
        r = getattr(t, name)()
        assert r.shape == () and r.item() == 3.5
    assert t.sum(0).item() == 3.5 and t.sum(-1).item() == 3.5
    assert t.sum(0, keepdim=True).shape == ()
    assert t.argmax().item() == 0 and t.argmax(0, keepdim=True).shape == ()
    v, i = t.max(0)
    assert v.item() == 3.5 and i.item() == 0 and v.shape == () and i.shape == ()
    assert t.softmax(0).item() == 1.0 and t.log_softmax(0).item() == 0.0
    assert t.norm().item() == 3.5
    assert bool(t.all()) and bool(t.any())
    with pytest.raises(IndexError):
        t.sum(1)


def test_empty_inputs():
    e = T(np.zeros((0, 3), np.float32))
    check(e.sum(), np.float32(0))
    check(e.sum(0), np.zeros(3, np.float32))
    check(e.sum(1), np.zeros(0, np.float32))
    check(e.prod(0), np.ones(3, np.float32))
    assert math.isnan(e.mean().item())
    check(e.mean(0), np.full(3, np.nan, np.float32))
    check(e.norm(), np.float32(0))
    check(e.all(), np.bool_(True))
    check(e.any(), np.bool_(False))
    check(e.max(1).values, np.zeros(0, np.float32))
    check(e.argmax(1), np.zeros(0, np.int64))
    assert e.sum(0, keepdim=True).shape == (1, 3)
    assert T(np.zeros((2, 3), np.float32)).sum((0, 1), keepdim=True).shape == (1, 1)
    assert e.softmax(0).shape == (0, 3) and e.softmax(1).shape == (0, 3)
    check(T(np.zeros((2, 0), np.float32)).var(1), np.full(2, np.nan, np.float32))
    check(T(np.zeros(0, np.int64)).sum(), np.int64(0), dtype=mt.int64)


def test_errors():
    t = T(make((2, 3)))
    with pytest.raises(IndexError):
        t.sum(2)
    with pytest.raises(IndexError):
        t.sum((0, -3))
    with pytest.raises(IndexError):
        t.max(5)
    with pytest.raises(IndexError):
        t.softmax(2)
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        t.sum((0, 0))
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times"):
        t.sum((0, -2))
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype. Input dtype must be either a "
                                           "floating point or complex dtype. Got: Long"):
        T(np.array([1, 2])).mean()
    with pytest.raises(RuntimeError, match="Got: Bool"):
        T(np.array([True])).mean()
    with pytest.raises(RuntimeError, match="Optional dtype"):
        T(np.array([1.0])).mean(dtype=mt.int64)
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        T(np.array([1, 2])).var()
    with pytest.raises(RuntimeError):
        T(np.array([1, 2])).norm()
    e = T(np.zeros((0, 3), np.float32))
    with pytest.raises(RuntimeError,
                       match="max\\(\\): Expected reduction dim to be specified for input.numel\\(\\) == 0"):
        e.max()
    with pytest.raises(RuntimeError, match="min\\(\\)"):
        e.min()
    with pytest.raises(IndexError, match="max\\(\\): Expected reduction dim 0 to have non-zero size"):
        e.max(0)
    with pytest.raises(IndexError, match="argmax\\(\\): Expected reduction dim 0 to have non-zero size"):
        e.argmax(0)
    with pytest.raises(IndexError):
        e.argmax()
    with pytest.raises(RuntimeError, match="inf norm"):
        e.norm(float("inf"))
    with pytest.raises(RuntimeError, match="does not support bool"):
        T(np.array([True, False])).argmax()
    with pytest.raises(NotImplementedError, match="softmax_lastdim_kernel_impl\" not implemented for 'Long'"):
        T(np.array([1, 2])).softmax(0)
    with pytest.raises(NotImplementedError, match="log_softmax_kernel_impl\" not implemented for 'Long'"):
        T(np.array([[1, 2]])).log_softmax(0)


def test_nan_propagation():
    nan = float("nan")
    a = np.array([1.0, nan, 3.0, nan], np.float32)
    t = T(a)
    assert math.isnan(t.max().item()) and math.isnan(t.min().item())
    assert t.argmax().item() == 1 and t.argmin().item() == 1
    v, i = t.max(0)
    assert math.isnan(v.item()) and i.item() == 1
    # long rows take the vectorised path
    b = np.arange(1000, dtype=np.float64)
    b[700] = nan
    assert math.isnan(T(b).max().item()) and T(b).argmax().item() == 700 and T(b).argmin().item() == 700
    b2 = np.arange(1000, dtype=np.float64)
    b2[400] = 5000
    b2[900] = 5000
    assert T(b2).argmax().item() == 400 and T(b2).max(0).indices.item() == 400
    assert math.isnan(T(np.array([nan, 1.0])).norm(float("inf")).item())
    assert math.isnan(T(a).sum().item()) and math.isnan(T(a).logsumexp(0).item())


def test_large_sum_accuracy():
    a = rng(1).random(1 << 24, dtype=np.float32)
    exact = a.astype(np.float64).sum()
    got = T(a).sum().item()
    assert abs(got - exact) <= 1e-6 * exact  # accumulates in double: closer than float32 pairwise
    assert abs(got - float(a.sum())) <= 1e-5 * exact
    m = T(a).mean().item()
    assert m == pytest.approx(exact / a.size, rel=1e-6)
    v = T(a[: 1 << 20]).var().item()
    assert v == pytest.approx(a[: 1 << 20].astype(np.float64).var(ddof=1), rel=1e-5)
    assert T(a).max().item() == a.max() and T(a).argmax().item() == int(a.argmax())
    assert T(a).norm().item() == pytest.approx(np.linalg.norm(a.astype(np.float64)), rel=1e-6)
    i = (rng(2).integers(-1000, 1000, 1 << 22)).astype(np.int32)
    assert T(i).sum().item() == int(i.astype(np.int64).sum())


@pytest.mark.parametrize("shape,dims", [((300, 500), 0), ((40, 30, 70), (0,)), ((20, 30, 40), (0, 1)),
                                        ((7, 300, 64), 1), ((8, 9, 10, 40), (0, 2)), ((300, 500), (0, 1))])
def test_column_and_large_reductions(shape, dims):
    """Reductions over leading dims of big tensors (the GEMM column-sum and tiled-copy paths)."""
    for dtype in ("float32", "float64"):
        a = make(shape, dtype, seed=3)
        t = T(a)
        nd = np_dims(dims, len(shape))
        check(t.sum(dims), a.astype(np.float64).sum(axis=nd), rtol=1e-4 if dtype == "float32" else 1e-10,
              atol=1e-3 if dtype == "float32" else 1e-10)
        check(t.mean(dims, keepdim=True), a.astype(np.float64).mean(axis=nd, keepdims=True),
              rtol=1e-4 if dtype == "float32" else 1e-10, atol=1e-5)
        check(t.var(dims), a.astype(np.float64).var(axis=nd, ddof=1), rtol=1e-4 if dtype == "float32" else 1e-10)
        if len(nd) == 1:
            check(t.max(nd[0]).values, a.max(axis=nd[0]))
            check(t.argmin(nd[0]), a.argmin(axis=nd[0]))
            check(t.softmax(nd[0]), np_softmax(a.astype(np.float64), nd[0]), atol=1e-6)


def np_softmax(a, dim):
    e = np.exp(a - a.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_softmax_values(dtype, dim):
    a = make((3, 4, 5), dtype) * 20
    for name, t, ref in layouts(a):
        r64 = ref.astype(np.float64)
        s = t.softmax(dim)
        assert s.dtype == DT[dtype] and s.is_contiguous()
        check(s, np_softmax(r64, dim), atol=1e-6)
        ls = t.log_softmax(dim)
        want = r64 - r64.max(axis=dim, keepdims=True)
        want = want - np.log(np.exp(want).sum(axis=dim, keepdims=True))
        check(ls, want, rtol=1e-5, atol=1e-5 if dtype == "float32" else 1e-12)
    ninf = float("-inf")
    x = T(np.array([[0.0, ninf, 1.0], [ninf, ninf, 2.0]], np.float32))
    check(x.softmax(1), np_softmax(np.array([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, 2.0]]), 1))
    check(T(np.array([1.0, 2.0], np.float32)).softmax(0, dtype=mt.float64), np_softmax(np.array([1.0, 2.0]), 0),
          dtype=mt.float64)


# ---------------------------------------------------------------- gradients (finite differences)
def numgrad(f, a, eps=1e-6):
    """d sum(f(a) * w) / da for a fixed random weight w, by central differences in float64."""
    a = a.astype(np.float64)
    out0 = f(a)
    w = rng(7).standard_normal(np.shape(out0))
    g = np.zeros_like(a)
    it = np.nditer(a, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        ap, am = a.copy(), a.copy()
        ap[idx] += eps
        am[idx] -= eps
        g[idx] = ((np.asarray(f(ap)) * w).sum() - (np.asarray(f(am)) * w).sum()) / (2 * eps)
    return g, w


def check_grad(fn, a, atol=1e-6, rtol=1e-5):
    def f(arr):
        return N(fn(T(arr)))

    g_num, w = numgrad(f, a)
    x = T(a.astype(np.float64), requires_grad=True)
    y = fn(x)
    (y * T(w)).sum().backward()
    np.testing.assert_allclose(N(x.grad), g_num, atol=atol, rtol=rtol)
    return y


GRAD_CASES = [
    ("sum", lambda x: x.sum()),
    ("sum_dim", lambda x: x.sum(1)),
    ("sum_dims_keep", lambda x: x.sum((0, 2), keepdim=True)),
    ("sum_neg", lambda x: x.sum(-1)),
    ("mean", lambda x: x.mean()),
    ("mean_dims", lambda x: x.mean((2, 0))),
    ("prod", lambda x: x.prod()),
    ("prod_dim", lambda x: x.prod(1)),
    ("prod_dim_keep", lambda x: x.prod(2, keepdim=True)),
    ("max", lambda x: x.max()),
    ("min", lambda x: x.min()),
    ("max_dim", lambda x: x.max(1).values),
    ("min_dim_keep", lambda x: x.min(2, keepdim=True).values),
    ("var", lambda x: x.var()),
    ("var_dim", lambda x: x.var(1)),
    ("var_dims_c0", lambda x: x.var((0, 2), correction=0, keepdim=True)),
    ("std", lambda x: x.std()),
    ("std_dim", lambda x: x.std(0)),
    ("logsumexp", lambda x: x.logsumexp(1)),
    ("logsumexp_dims", lambda x: x.logsumexp((0, 2), keepdim=True)),
    ("norm", lambda x: x.norm()),
    ("norm_dim", lambda x: x.norm(2, 1)),
    ("norm1", lambda x: x.norm(1)),
    ("norm3", lambda x: x.norm(3, (0, 2))),
    ("norm1.5", lambda x: x.norm(1.5, 1)),
    ("norm0.5", lambda x: x.norm(0.5, 1)),
    ("norm_inf", lambda x: x.norm(float("inf"), 1)),
    ("norm_-inf", lambda x: x.norm(float("-inf"))),
    ("softmax0", lambda x: x.softmax(0)),
    ("softmax1", lambda x: x.softmax(1)),
    ("softmax_last", lambda x: x.softmax(-1)),
    ("log_softmax0", lambda x: x.log_softmax(0)),
    ("log_softmax_last", lambda x: x.log_softmax(2)),
]


@pytest.mark.parametrize("name,fn", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients(name, fn):
    a = rng(5).uniform(0.5, 2.0, (2, 3, 4)) * rng(6).choice([-1, 1], (2, 3, 4))  # distinct, away from 0
    check_grad(fn, a)


def test_gradients_noncontiguous_and_broadcast():
    a = rng(8).standard_normal((4, 3))
    check_grad(lambda x: x.t().sum(0), a)
    check_grad(lambda x: x.t().softmax(0), a)
    check_grad(lambda x: x.t().var(1), a)
    check_grad(lambda x: x[:, ::2].max(1).values, a)
    check_grad(lambda x: x.expand(2, 4, 3).sum((0, 1)), a)
    check_grad(lambda x: x.unsqueeze(0).expand(3, 4, 3).mean(0), a)


def test_broadcast_gradient_sums():
    """Autograd sums broadcast gradients back down with mt_reduce (column sums, stride-0 inputs)."""
    x = rng(10).standard_normal((300, 200))
    bias = rng(11).standard_normal(200)
    w = rng(12).standard_normal((300, 200))
    tb = T(bias, requires_grad=True)
    ((T(x) + tb) * T(w)).sum().backward()
    np.testing.assert_allclose(N(tb.grad), w.sum(0), rtol=1e-10, atol=1e-10)
    tb = T(bias, requires_grad=True)
    (T(x) * tb).mean().backward()  # MeanBackward0 hands an expanded gradient to the broadcast sum
    np.testing.assert_allclose(N(tb.grad), x.sum(0) / x.size, rtol=1e-10, atol=1e-12)
    c = T(np.array(2.0), requires_grad=True)
    (T(x) * c).sum().backward()
    np.testing.assert_allclose(c.grad.item(), x.sum(), rtol=1e-10)
    # sums over expanded (stride-0) dims
    e = T(bias).expand(300, 200)
    check(e.sum(0), bias * 300)
    check(e.mean(0), bias)
    check(e.max(0).values, bias)
    check(T(np.array([3], np.int64)).expand(5, 4).sum(), np.int64(60), dtype=mt.int64)


def test_gradient_ties_and_zeros():
    x = T(np.array([1.0, 3.0, 3.0, 2.0]), requires_grad=True)
    x.max().backward()
    check(x.grad, [0, 0.5, 0.5, 0])
    x = T(np.array([1.0, 3.0, 3.0, 2.0]), requires_grad=True)
    x.max(0).values.backward()
    check(x.grad, [0, 1, 0, 0])
    x = T(np.array([[1.0, 3.0, 3.0, 2.0]]), requires_grad=True)
    x.norm(float("inf"), 1).sum().backward()
    check(x.grad, [[0, 0.5, 0.5, 0]])
    x = T(np.array([0.0, 2.0, 3.0]), requires_grad=True)
    x.prod().backward()
    check(x.grad, [6, 0, 0])
    x = T(np.array([0.0, 2.0, 0.0]), requires_grad=True)
    x.prod().backward()
    check(x.grad, [0, 0, 0])
    x = T(np.array([[0.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    x.prod(1).sum().backward()
    check(x.grad, [[2, 0], [4, 3]])
    x = T(np.zeros(3), requires_grad=True)
    x.norm().backward()
    check(x.grad, [0, 0, 0])
    # a float32 input reduced in float64 gets a float32 gradient
    x = T(np.array([1.0, 2.0], np.float32), requires_grad=True)
    y = x.sum(dtype=mt.float64)
    assert y.dtype == mt.float64
    y.backward()
    assert x.grad.dtype == mt.float32
    check(x.grad, [1, 1])
    # integer / bool results are not differentiable
    assert not T(np.array([1.0]), requires_grad=True).argmax().requires_grad
    assert not T(np.array([1.0]), requires_grad=True).all().requires_grad
    assert T(np.array([1.0]), requires_grad=True).max(0).indices.requires_grad is False


def test_std_of_constant_has_zero_gradient():
    assert T(np.ones(2), requires_grad=True).std().grad_fn.name() == "StdBackward0"
    x = T(np.ones(3), requires_grad=True)
    x.std().backward()
    check(x.grad, [0, 0, 0])


def test_gradcheck_helper():
    gradcheck = getattr(mt.autograd, "gradcheck", None)
    if gradcheck is None:
        pytest.skip("minitorch.autograd.gradcheck not available")
    x = T(rng(9).standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda t: t.logsumexp(1), (x,))
    assert gradcheck(lambda t: t.softmax(0), (x,))
    assert gradcheck(lambda t: t.var(1, keepdim=True), (x,))


# ---------------------------------------------------------------- against PyTorch
@pytest.fixture(scope="module")
def torch_ref():
    return pytest.importorskip("torch")


def both(torch_ref, a, requires_grad=False):
    x = T(a, requires_grad)
    tx = torch_ref.tensor(a)
    if requires_grad:
        tx.requires_grad_(True)
    return x, tx


TORCH_CASES = [
    ("sum", lambda x: x.sum()),
    ("sum1", lambda x: x.sum(1)),
    ("sum_tuple", lambda x: x.sum((0, 2), keepdim=True)),
    ("mean", lambda x: x.mean()),
    ("mean1", lambda x: x.mean(-1)),
    ("prod", lambda x: x.prod()),
    ("prod1", lambda x: x.prod(1)),
    ("max", lambda x: x.max()),
    ("min", lambda x: x.min()),
    ("max_dim", lambda x: x.max(1)[0]),
    ("min_dim", lambda x: x.min(2, keepdim=True)[0]),
    ("var", lambda x: x.var()),
    ("var_dim", lambda x: x.var(1, keepdim=True)),
    ("var_c0", lambda x: x.var(0, correction=0)),
    ("std", lambda x: x.std()),
    ("std_dim", lambda x: x.std(2)),
    ("logsumexp", lambda x: x.logsumexp(1)),
    ("norm", lambda x: x.norm()),
    ("norm_dim", lambda x: x.norm(dim=1)),
    ("norm1", lambda x: x.norm(1)),
    ("norm_inf", lambda x: x.norm(float("inf"))),
    ("norm3", lambda x: x.norm(3, 2)),
    ("softmax", lambda x: x.softmax(1)),
    ("log_softmax", lambda x: x.log_softmax(-1)),
]


@pytest.mark.parametrize("name,fn", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_against_torch(torch_ref, name, fn, dtype):
    a = make((3, 4, 5), dtype, seed=11)
    a[1, 2, 3] = 0.0
    a[0, 1, 1] = a[0, 1, 2]  # a tie
    x, tx = both(torch_ref, a, True)
    y, ty = fn(x), fn(tx)
    assert tuple(y.shape) == tuple(ty.shape)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(N(y), ty.detach().numpy(), **tol)
    assert y.grad_fn.name() == ty.grad_fn.name(), (y.grad_fn.name(), ty.grad_fn.name())
    w = make(tuple(ty.shape), dtype, seed=12)
    (y * T(w)).sum().backward()
    (ty * torch_ref.tensor(w)).sum().backward()
    np.testing.assert_allclose(N(x.grad), tx.grad.numpy(), rtol=1e-4 if dtype == "float32" else 1e-9,
                               atol=1e-5 if dtype == "float32" else 1e-10)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool"])
def test_dtypes_against_torch(torch_ref, dtype):
    a = make((3, 4), dtype)
    x, tx = both(torch_ref, a)
    for f in (lambda t: t.sum(), lambda t: t.sum(0), lambda t: t.prod(1), lambda t: t.max(), lambda t: t.min(0)[0],
              lambda t: t.max(1)[1], lambda t: t.all(), lambda t: t.any(1), lambda t: t.logsumexp(1),
              lambda t: t.sum(dtype=torch_ref.float64 if isinstance(t, torch_ref.Tensor) else mt.float64)):
        y, ty = f(x), f(tx)
        assert str(y.dtype).split(".")[-1] == str(ty.dtype).split(".")[-1]
        np.testing.assert_allclose(N(y).astype(np.float64), ty.numpy().astype(np.float64), rtol=1e-5)
    if dtype != "bool":
        np.testing.assert_array_equal(N(x.argmax()), tx.argmax().numpy())
        np.testing.assert_array_equal(N(x.argmin(1, keepdim=True)), tx.argmin(1, keepdim=True).numpy())


def test_errors_against_torch(torch_ref):
    cases = [
        (np.zeros((2, 3), np.float32), lambda t: t.sum(2)),
        (np.zeros((2, 3), np.float32), lambda t: t.sum((0, 0))),
        (np.zeros((2, 3), np.float32), lambda t: t.sum((1, -1))),
        (np.zeros((2, 3), np.float32), lambda t: t.softmax(-3)),
        (np.zeros((2, 3), np.float32), lambda t: t.max(2)),
        (np.zeros(3, np.int64), lambda t: t.mean()),
        (np.zeros(3, np.int64), lambda t: t.var()),
        (np.zeros(3, np.int64), lambda t: t.softmax(0)),
        (np.zeros(3, np.bool_), lambda t: t.argmax()),
        (np.zeros((0, 3), np.float32), lambda t: t.max()),
        (np.zeros((0, 3), np.float32), lambda t: t.min()),
        (np.zeros((0, 3), np.float32), lambda t: t.max(0)),
        (np.zeros((0, 3), np.float32), lambda t: t.argmax()),
        (np.zeros((0, 3), np.float32), lambda t: t.argmin(0)),
        (np.zeros((0, 3), np.float32), lambda t: t.norm(float("inf"))),
    ]
    for a, f in cases:
        with pytest.raises(Exception) as te:
            f(torch_ref.tensor(a))
        with pytest.raises(Exception) as me:
            f(T(a))
        assert me.type is te.type, (me.value, te.value)
        assert str(me.value).split("\n")[0] == str(te.value).split("\n")[0] or me.type is IndexError


def test_empty_against_torch(torch_ref):
    a = np.zeros((0, 3), np.float32)
    x, tx = both(torch_ref, a)
    for f in (lambda t: t.sum(), lambda t: t.prod(0), lambda t: t.mean(1), lambda t: t.norm(),
              lambda t: t.logsumexp(0), lambda t: t.max(1)[0], lambda t: t.all(), lambda t: t.any(0),
              lambda t: t.softmax(0)):
        y, ty = f(x), f(tx)
        assert tuple(y.shape) == tuple(ty.shape)
        np.testing.assert_allclose(N(y).astype(np.float64), ty.numpy().astype(np.float64))

"""minitorch/_breadth_math.py against torch: every case is a function of the module (minitorch or torch) run on
both, comparing values, dtypes and shapes (and named-tuple fields); gradients are compared the same way."""
import math
import warnings

import numpy as np
import pytest

import minitorch

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")
rng = np.random.default_rng(0)
A34 = rng.standard_normal((3, 4))
A234 = rng.standard_normal((2, 3, 4))
V3, V4 = rng.standard_normal(3), rng.standard_normal(4)
DUP = np.array([[1., 2, 2, 1, 3, 1], [5, 5, 4, 4, 0, 0], [2, 2, 2, 7, 7, 7]])
NANS = np.array([[1., NAN, 3, 2], [NAN, NAN, NAN, NAN], [4, 1, 1, NAN]])
INTS = np.array([[12, -18, 0, 7], [0, 5, -9, 21]])


def f32(T, a):
    return T.tensor(np.array(a, np.float32))


def f64(T, a):
    return T.tensor(np.array(a, np.float64))


def i64(T, a):
    return T.tensor(np.array(a, np.int64))


def _cmp(m, t, rtol, atol, path="out"):
    if isinstance(t, torch.Tensor):
        assert isinstance(m, minitorch.Tensor), f"{path}: {type(m)}"
        assert str(m.dtype) == str(t.dtype), f"{path}: dtype {m.dtype} != {t.dtype}"
        assert tuple(m.shape) == tuple(t.shape), f"{path}: shape {tuple(m.shape)} != {tuple(t.shape)}"
        tn = t.detach().numpy()
        mn = m.detach().numpy()
        if tn.dtype.kind == "f":
            np.testing.assert_allclose(mn, tn, rtol=rtol, atol=atol, equal_nan=True, err_msg=path)
        else:
            np.testing.assert_array_equal(mn, tn, err_msg=path)
    elif isinstance(t, tuple):
        assert isinstance(m, tuple) and len(m) == len(t), path
        if hasattr(t, "_fields"):
            assert type(m).__name__ == type(t).__name__ and m._fields == t._fields, f"{path}: {type(m)}"
        for i, (a, b) in enumerate(zip(m, t)):
            _cmp(a, b, rtol, atol, f"{path}[{i}]")
    else:
        assert m == t or (m != m and t != t), f"{path}: {m} != {t}"


def same(fn, rtol=1e-5, atol=1e-6):
    """Runs fn(module) on minitorch and torch and compares the results."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = fn(torch)
        m = fn(minitorch)
    _cmp(m, t, rtol, atol)


def same_error(fn, match=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as te:
            fn(torch)
        with pytest.raises(type(te.value), match=match) as me:
            fn(minitorch)
    return te.value, me.value


def same_grad(fn, *arrays, rtol=1e-6, atol=1e-8):
    """fn(module, *leaves) on float64 leaves: the outputs and the gradients of a fixed weighting of them."""
    res = {}
    for T in (torch, minitorch):
        leaves = [T.tensor(np.array(a, np.float64), requires_grad=True) for a in arrays]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(T, *leaves)
        outs = out if isinstance(out, tuple) else (out,)
        loss = None
        for k, o in enumerate(outs):
            if not o.dtype.is_floating_point:
                continue
            w = T.tensor(np.cos(np.arange(o.numel()) + k).reshape(tuple(o.shape)))
            term = (o * w).sum()
            loss = term if loss is None else loss + term
        loss.backward()
        res[T] = (out, [x.grad for x in leaves])
    _cmp(res[minitorch][0], res[torch][0], rtol, atol)
    for i, (g, tg) in enumerate(zip(res[minitorch][1], res[torch][1])):
        if tg is None:
            assert g is None or not g.detach().numpy().any()
        else:
            _cmp(g, tg, rtol, atol, f"grad[{i}]")


# ------------------------------------------------------------------------------------------ pointwise
POINTWISE = [
    lambda T: T.addcmul(f32(T, A34), f32(T, V4), f32(T, A34), value=0.5),
    lambda T: T.addcmul(i64(T, INTS), i64(T, INTS), i64(T, INTS), value=2),
    lambda T: f32(T, A34).addcmul(f32(T, A34), f32(T, V4)),
    lambda T: T.addcdiv(f32(T, A34), f32(T, V4), f32(T, A34), value=-2),
    lambda T: T.addcdiv(f64(T, V4), i64(T, [1, 2, 3, 4]), f32(T, V4)),
    lambda T: T.lerp(f32(T, A34), f32(T, A34[::-1]), 0.3),
    lambda T: T.lerp(f32(T, A34), f32(T, A34[::-1]), 0.75),
    lambda T: T.lerp(f32(T, [1e8, 1.]), f32(T, [3., 1e-8]), 1.0),
    lambda T: T.lerp(f32(T, A34), f32(T, V4), f32(T, [[0.1, 0.5, 0.9, 1.0]])),
    lambda T: f32(T, A34).lerp(f32(T, V4), 0.5),
    lambda T: T.fmax(f32(T, [1, NAN, NAN, -0.5, 2]), f32(T, [NAN, 3, NAN, -1, 2])),
    lambda T: T.fmin(f32(T, [1, NAN, NAN, -0.5, 2]), f32(T, [NAN, 3, NAN, -1, 2])),
    lambda T: T.fmax(i64(T, [1, 5]), f64(T, [[2.], [NAN]])),
    lambda T: i64(T, INTS).fmin(i64(T, INTS[::-1])),
    lambda T: T.gcd(i64(T, INTS), i64(T, INTS[::-1])),
    lambda T: T.gcd(i64(T, [0, 0, -4, 6]), i64(T, [[0], [8]])),
    lambda T: T.lcm(i64(T, INTS), i64(T, INTS[::-1])),
    lambda T: T.tensor([3, 4], dtype=T.int32).lcm(T.tensor([6, 10], dtype=T.int32)),
    lambda T: T.ldexp(f32(T, [1., -2, 0.5, 3]), i64(T, [0, 3, -2, 10])),
    lambda T: T.ldexp(i64(T, [1, 3]), i64(T, [2, -1])),
    lambda T: f64(T, V4).ldexp(f64(T, [1., 2, 3, 4])),
    lambda T: T.frexp(f32(T, [0., -0., 1., -3.5, 1024, 1e-30, INF, NAN])),
    lambda T: f64(T, A34).frexp(),
    lambda T: T.signbit(f32(T, [1., -1, 0., -0., INF, -INF])),
    lambda T: T.signbit(i64(T, INTS)),
    lambda T: T.signbit(T.tensor([True, False])),
    lambda T: T.deg2rad(f32(T, [0., 90, 180, -45])),
    lambda T: T.deg2rad(i64(T, [180, 90])),
    lambda T: f64(T, V4).rad2deg(),
    lambda T: T.rad2deg(i64(T, [3, 1])),
    lambda T: T.isneginf(f32(T, [INF, -INF, NAN, 1., -1])),
    lambda T: T.isposinf(f32(T, [INF, -INF, NAN, 1., -1])),
    lambda T: T.isposinf(i64(T, [1, 2])),
    lambda T: T.isreal(f32(T, A34)),
    lambda T: T.isin(i64(T, INTS), i64(T, [0, 7, -9])),
    lambda T: T.isin(i64(T, INTS), i64(T, [0, 7, -9]), invert=True),
    lambda T: T.isin(f32(T, [1., NAN, 2.]), f32(T, [NAN, 2.])),
    lambda T: T.isin(i64(T, [1, 2, 3]), 2),
    lambda T: T.isin(2, i64(T, [1, 2, 3])),
    lambda T: T.isin(i64(T, [1, 2, 3]), f32(T, [2.0, 3.5]), assume_unique=True),
    lambda T: T.mvlgamma(f32(T, [2.5, 3., 10.]), 3),
    lambda T: f64(T, [1.5, 4.]).mvlgamma(p=1),
    lambda T: T.polygamma(0, f32(T, [0.5, 2., 7.])),
    lambda T: T.polygamma(1, f64(T, [0.5, 2., 7.])),
    lambda T: f32(T, [0.5, 3.]).polygamma(1),
]


@pytest.mark.parametrize("case", range(len(POINTWISE)))
def test_pointwise(case):
    same(POINTWISE[case])


def test_pointwise_inplace():
    for T_fn in [lambda T, x: x.addcmul_(f32(T, V4), f32(T, V4), value=2),
                 lambda T, x: x.addcdiv_(f32(T, V4), f32(T, V4) + 3),
                 lambda T, x: x.lerp_(f32(T, V4), 0.8),
                 lambda T, x: x.deg2rad_(), lambda T, x: x.rad2deg_(),
                 lambda T, x: x.ldexp_(f32(T, [1., 2, 0, -1])),
                 lambda T, x: x.abs().add(1).mvlgamma_(1)]:
        def fn(T):
            x = f32(T, A34)
            out = T_fn(T, x)
            return out, x
        same(fn)
    same(lambda T: (lambda x: (x.gcd_(i64(T, [4, 6, 9, 10])), x))(i64(T, INTS)))
    same(lambda T: (lambda x: (x.lcm_(i64(T, [4, 6, 9, 10])), x))(i64(T, INTS)))
    same(lambda T: (lambda x: (x.polygamma_(1), x))(f32(T, [1., 2.])))


POINTWISE_ERRORS = [
    (lambda T: T.addcdiv(i64(T, [1]), i64(T, [1]), i64(T, [2])), "Integer division with addcdiv"),
    (lambda T: T.lerp(f32(T, [1.]), f64(T, [1.]), 0.5), "expected dtype float for `end`"),
    (lambda T: T.lerp(i64(T, [1]), i64(T, [1]), 0.5), "not implemented for 'Long'"),
    (lambda T: T.gcd(f32(T, [1.]), f32(T, [2.])), "not implemented for 'Float'"),
    (lambda T: T.lcm(T.tensor([True]), T.tensor([True])), "not implemented for 'Bool'"),
    (lambda T: T.frexp(i64(T, [1])), "only supports floating-point"),
    (lambda T: T.mvlgamma(f32(T, [0.5, 3.]), 0), "p has to be greater than or equal to 1"),
    (lambda T: f32(T, [1.]).addcmul_(f32(T, [[1.], [2.]]), f32(T, [1.])), "doesn't match the broadcast shape"),
    (lambda T: i64(T, [1]).lerp_(f32(T, [1.]), 0.5), None),
    (lambda T: i64(T, [1]).deg2rad_(), "can't be cast"),
]


@pytest.mark.parametrize("case", range(len(POINTWISE_ERRORS)))
def test_pointwise_errors(case):
    fn, match = POINTWISE_ERRORS[case]
    same_error(fn, match)


def test_pointwise_grads():
    same_grad(lambda T, a, b, c: T.addcmul(a, b, c, value=-1.5), A34, V4, A34)
    same_grad(lambda T, a, b, c: T.addcdiv(a, b, c + 3, value=0.5), A34, V4, A34)
    same_grad(lambda T, a, b: T.lerp(a, b, 0.7), A34, V4)
    same_grad(lambda T, a, b, w: T.lerp(a, b, w), A34, V4, [0.1, 0.5, 0.6, 1.0])
    same_grad(lambda T, a, b: T.fmax(a, b), [1., NAN, 2., 3.], [NAN, 1., 2., 4.])
    same_grad(lambda T, a, b: T.fmin(a, b), [1., NAN, 2., 3.], [NAN, 1., 2., 4.])
    same_grad(lambda T, a: T.frexp(a).mantissa, [3., -0.1, 1e5])
    # torch's ldexp gradient is grad * pow(2, other) in integers: 0 for a negative exponent; minitorch's is the
    # true derivative, so compare at exponents >= 0 only
    same_grad(lambda T, a: T.ldexp(a, T.tensor([1, 0, 3])), [3., -0.1, 1e5])
    same_grad(lambda T, a: T.deg2rad(a) + T.rad2deg(a), V4)
    same_grad(lambda T, a: T.mvlgamma(a, 2), [1.5, 3.2])
    same_grad(lambda T, a: T.polygamma(0, a), [1.5, 3.2])


# ------------------------------------------------------------------------------------------ products
M23, M34, B234, B245 = (rng.standard_normal(s) for s in [(2, 3), (3, 4), (2, 3, 4), (2, 4, 5)])
PRODUCTS = [
    lambda T: T.mv(f32(T, M34), f32(T, V4)),
    lambda T: f32(T, M34).mv(f32(T, V4)),
    lambda T: T.addmv(f32(T, V3), f32(T, M34), f32(T, V4), beta=0.5, alpha=2),
    lambda T: T.addmv(f32(T, [NAN, INF, 1.]), f32(T, M34), f32(T, V4), beta=0),
    lambda T: T.addmv(f32(T, 1.5), f32(T, M34), f32(T, V4)),
    lambda T: T.addr(f32(T, M34), f32(T, V3), f32(T, V4), beta=2, alpha=-1),
    lambda T: T.addr(f32(T, M34) * NAN, f32(T, V3), f32(T, V4), beta=0),
    lambda T: T.addr(i64(T, [[1, 2], [3, 4]]), i64(T, [1, 2]), i64(T, [3, 4]), alpha=2),
    lambda T: T.baddbmm(f32(T, V4), f32(T, B234[:, :, :3]), f32(T, B234[:, :3]), beta=0.5, alpha=0.1),
    lambda T: T.baddbmm(f32(T, [NAN]), f32(T, B234), f32(T, B245), beta=0),
    lambda T: T.addbmm(f32(T, M34[:, :1]), f32(T, B234[:, :, :3]), f32(T, B234[:, :3]), alpha=3),
    lambda T: T.ger(f32(T, V3), f32(T, V4)),
    lambda T: T.inner(f32(T, A34), f32(T, A234)),
    lambda T: T.inner(f32(T, 2.), f32(T, A34)),
    lambda T: f32(T, V4).inner(f32(T, V4)),
    lambda T: T.vdot(f32(T, V4), f32(T, V4[::-1])),
    lambda T: T.tensordot(f32(T, A234), f32(T, B245), dims=([2, 0], [1, 0])),
    lambda T: T.tensordot(f32(T, A234), f32(T, np.ones((3, 4, 2))), dims=2),
    lambda T: T.tensordot(f32(T, V3), f32(T, V4), dims=0),
    lambda T: T.tensordot(f32(T, A234), f32(T, B245), dims=([0], [0])),
    lambda T: T.chain_matmul(f32(T, M23), f32(T, M34), f32(T, M34.T)),
    lambda T: T.chain_matmul(f32(T, M23)),
    lambda T: T.cross(f32(T, A234[:, :, :3]), f32(T, A234[:, :, 1:])),
    lambda T: T.cross(f32(T, M34[:, :3]), f32(T, M34[:, 1:]), dim=1),
    lambda T: f32(T, M34[:, :3]).cross(f32(T, M34[:, 1:])),
]


@pytest.mark.parametrize("case", range(len(PRODUCTS)))
def test_products(case):
    same(PRODUCTS[case], rtol=1e-5, atol=1e-5)


def test_products_inplace_and_warnings():
    same(lambda T: (lambda x: (x.addmv_(f32(T, M34), f32(T, V4), alpha=2), x))(f32(T, V3)))
    same(lambda T: (lambda x: (x.addr_(f32(T, V3), f32(T, V4)), x))(f32(T, M34)))
    same(lambda T: (lambda x: (x.baddbmm_(f32(T, B234), f32(T, B245), beta=2), x))(f32(T, np.ones((2, 3, 5)))))
    same(lambda T: (lambda x: (x.addbmm_(f32(T, B234), f32(T, B245)), x))(f32(T, np.ones((3, 5)))))
    with pytest.warns(UserWarning, match="chain_matmul is deprecated"):
        minitorch.chain_matmul(minitorch.ones(2, 2), minitorch.ones(2, 2))
    with pytest.warns(UserWarning, match="without specifying the dim arg is deprecated"):
        minitorch.cross(minitorch.ones(3, 3), minitorch.ones(3, 3))


PRODUCT_ERRORS = [
    (lambda T: T.mv(f32(T, M34), f32(T, V3)), None),
    (lambda T: T.mv(f32(T, V3), f32(T, V3)), None),
    (lambda T: T.vdot(f32(T, V3), f64(T, V3)), "same dtype"),
    (lambda T: T.vdot(f32(T, M34), f32(T, M34)), "1D tensors expected"),
    (lambda T: T.tensordot(f32(T, M34), f32(T, M34), dims=([0], [1])), "contracted dimensions need to match"),
    (lambda T: T.inner(f32(T, M34), f32(T, M23)), "last dimension must match"),
    (lambda T: T.baddbmm(f32(T, [1.]), f32(T, B234), f32(T, B234)), None),
]


@pytest.mark.parametrize("case", range(len(PRODUCT_ERRORS)))
def test_product_errors(case):
    fn, match = PRODUCT_ERRORS[case]
    same_error(fn, match)


def test_product_grads():
    same_grad(lambda T, i, m, v: T.addmv(i, m, v, beta=0.5, alpha=2), V3, M34, V4)
    same_grad(lambda T, i, a, b: T.addr(i, a, b, beta=-1), M34, V3, V4)
    same_grad(lambda T, i, a, b: T.baddbmm(i, a, b, alpha=0.3), V4[:1], B234, B245)
    same_grad(lambda T, i, a, b: T.addbmm(i, a, b, beta=2), np.ones((3, 5)), B234, B245)
    same_grad(lambda T, a, b: T.tensordot(a, b, dims=([2, 0], [1, 0])), A234, B245)
    same_grad(lambda T, a, b: T.inner(a, b), A34, A234)
    same_grad(lambda T, a, b: T.cross(a, b, dim=1), M34[:, :3], M34[:, 1:])
    same_grad(lambda T, a: T.baddbmm(a, T.ones(2, 3, 4, dtype=T.float64), T.ones(2, 4, 5, dtype=T.float64),
                                     beta=0), [1.])


# ------------------------------------------------------------------------------------------ reductions
REDUCTIONS = [
    lambda T: T.aminmax(f32(T, A34)),
    lambda T: T.aminmax(f32(T, A34), dim=1, keepdim=True),
    lambda T: f32(T, A234).aminmax(dim=-1),
    lambda T: T.aminmax(i64(T, INTS), dim=0),
    lambda T: T.aminmax(f32(T, 3.)),
    lambda T: T.aminmax(f32(T, NANS), dim=1),
    lambda T: T.nansum(f32(T, NANS)),
    lambda T: T.nansum(f32(T, NANS), 1, keepdim=True),
    lambda T: T.nansum(i64(T, INTS), dim=0),
    lambda T: f32(T, NANS).nansum(dim=(0, 1)),
    lambda T: T.nanmean(f32(T, NANS)),
    lambda T: T.nanmean(f32(T, NANS), dim=1),
    lambda T: f64(T, NANS).nanmean(0, True),
    lambda T: T.var_mean(f32(T, A34)),
    lambda T: T.var_mean(f32(T, A34), 1, keepdim=True),
    lambda T: T.var_mean(f32(T, A34), dim=0, correction=0),
    lambda T: T.var_mean(f32(T, A34), False),
    lambda T: T.std_mean(f32(T, A234), (0, 2), unbiased=False),
    lambda T: T.std_mean(f32(T, A234), dim=1, correction=2, keepdim=True),
    lambda T: T.median(f32(T, DUP)),
    lambda T: T.median(f32(T, NANS)),
    lambda T: T.median(i64(T, INTS)),
    lambda T: T.median(f32(T, DUP), 1),
    lambda T: T.median(f32(T, DUP), 0, keepdim=True),
    lambda T: f32(T, NANS).median(dim=1),
    lambda T: T.median(f32(T, 4.), 0),
    lambda T: T.nanmedian(f32(T, NANS)),
    lambda T: T.nanmedian(f32(T, NANS[[0, 2]]), 1),
    lambda T: T.nanmedian(f32(T, NANS), 1).values,   # an all-NaN row: torch's index there is arbitrary
    lambda T: T.nanmedian(f32(T, NANS[:, [0, 2, 3]]), 0, True),
    lambda T: T.nanmedian(f32(T, [NAN, NAN])),
    lambda T: T.mode(f32(T, DUP)),
    lambda T: T.mode(f32(T, DUP), 0),
    lambda T: T.mode(i64(T, [[3, 1, 3, 1, 2]]), keepdim=True),
    lambda T: f32(T, DUP).mode(dim=1),
    lambda T: T.kthvalue(f32(T, DUP), 2),
    lambda T: T.kthvalue(f32(T, DUP), 4, dim=1, keepdim=True),
    lambda T: T.kthvalue(f32(T, DUP), 1, 0),
    lambda T: T.kthvalue(f32(T, np.tile([2., 1, 2, 1, 2, 1, 3, 1], 3)), 10),
    lambda T: T.kthvalue(f32(T, A234), 3, 1),
    lambda T: T.kthvalue(f32(T, NANS[0]), 4),
    lambda T: f32(T, A34).kthvalue(2),
    lambda T: T.msort(f32(T, A34)),
    lambda T: i64(T, INTS).msort(),
]


@pytest.mark.parametrize("case", range(len(REDUCTIONS)))
def test_reductions(case):
    same(REDUCTIONS[case])


Q = np.array([0., 0.1, 0.25, 0.5, 0.9, 1.0])
QUANTILES = [lambda T, i=i: T.quantile(f32(T, A234), 0.3, interpolation=i) for i in
             ["linear", "lower", "higher", "midpoint", "nearest"]] + [
    lambda T, i=i: T.quantile(f64(T, A234), f64(T, Q), dim=1, keepdim=True, interpolation=i) for i in
    ["linear", "lower", "higher", "midpoint", "nearest"]] + [
    lambda T: T.quantile(f32(T, A234), f32(T, Q), keepdim=True),
    lambda T: T.quantile(f32(T, A234), 0.5, dim=-1),
    lambda T: T.quantile(f32(T, NANS), f32(T, Q), dim=1),
    lambda T: T.nanquantile(f32(T, NANS), f32(T, Q), dim=1),
    lambda T: T.nanquantile(f32(T, NANS), 0.4, dim=0, interpolation="nearest"),
    lambda T: T.nanquantile(f32(T, NANS), 0.6),
    lambda T: f32(T, A34).quantile(f32(T, 0.25)),
    lambda T: T.quantile(f32(T, [0., 1., 2., 3., 4.]), f32(T, [0.125, 0.375, 0.625, 0.875]),
                         interpolation="nearest"),
    lambda T: T.quantile(f32(T, 2.), 0.5, dim=0, keepdim=True),
]


@pytest.mark.parametrize("case", range(len(QUANTILES)))
def test_quantile(case):
    same(QUANTILES[case])


REDUCTION_ERRORS = [
    (lambda T: T.aminmax(T.zeros(0)), "aminmax"),
    (lambda T: T.nanmean(i64(T, [1, 2])), "floating point"),
    (lambda T: T.kthvalue(f32(T, V3), 4), "out of range"),
    (lambda T: T.median(T.zeros(2, 0), 1), "Expected reduction dim 1 to have non-zero size"),
    (lambda T: T.mode(T.zeros(2, 0), 1), None),
    (lambda T: T.quantile(i64(T, V3), 0.5), "float or double"),
    (lambda T: T.quantile(f32(T, V3), 1.5), r"q must be in the range \[0, 1\]"),
    (lambda T: T.quantile(f32(T, V3), f64(T, [0.5])), "same dtype"),
    (lambda T: T.quantile(f32(T, V3), f32(T, [[0.5]])), "scalar or 1D"),
    (lambda T: T.quantile(T.zeros(0), 0.5), "non-empty"),
    (lambda T: T.quantile(f32(T, V3), 0.5, interpolation="cubic"), "interpolation must be one of"),
]


@pytest.mark.parametrize("case", range(len(REDUCTION_ERRORS)))
def test_reduction_errors(case):
    fn, match = REDUCTION_ERRORS[case]
    same_error(fn, match)


def test_reduction_grads():
    same_grad(lambda T, a: T.aminmax(a, dim=1), A34)
    same_grad(lambda T, a: T.nansum(a, 1) + T.nanmean(a, 1), NANS[[0, 2]])
    same_grad(lambda T, a: T.var_mean(a, 1, correction=0), A34)
    same_grad(lambda T, a: T.std_mean(a), A34)
    same_grad(lambda T, a: T.median(a, 1), DUP)
    same_grad(lambda T, a: T.median(a), DUP)
    same_grad(lambda T, a: T.nanmedian(a, 1), NANS[[0, 2]])
    same_grad(lambda T, a: T.mode(a, 1), DUP)
    same_grad(lambda T, a: T.kthvalue(a, 3, 1), DUP)
    same_grad(lambda T, a: T.quantile(a, T.tensor(Q), dim=1), A34)
    same_grad(lambda T, a: T.quantile(a, 0.4, interpolation="midpoint"), A34)
    same_grad(lambda T, a: T.nanquantile(a, T.tensor(Q), dim=1), NANS[[0, 2]])
    same_grad(lambda T, a: T.msort(a), A34)


# ------------------------------------------------------------------------------------------ calculus, stats
X5 = np.array([0., 0.5, 1.5, 1.7, 3.0])
CALCULUS = [
    lambda T: T.diff(f32(T, A34)),
    lambda T: T.diff(f32(T, A34), n=2, dim=0),
    lambda T: T.diff(f32(T, A34), n=5),
    lambda T: T.diff(f32(T, A34), dim=1, prepend=f32(T, np.ones((3, 2))), append=f32(T, np.zeros((3, 1)))),
    lambda T: T.diff(T.tensor([True, False, False, True])),
    lambda T: i64(T, INTS).diff(n=0),
    lambda T: i64(T, INTS).diff(append=i64(T, [[1], [2]])),
    lambda T: T.gradient(f32(T, A34)),
    lambda T: T.gradient(f32(T, A34), spacing=2.0, dim=1),
    lambda T: T.gradient(f32(T, A34), spacing=[0.5, 3.], edge_order=2),
    lambda T: T.gradient(f32(T, A34), spacing=(f32(T, X5[:3]), f32(T, X5[1:])), dim=(0, 1)),
    lambda T: T.gradient(f64(T, A234), spacing=[f64(T, X5[1:])], dim=2, edge_order=2),
    lambda T: T.gradient(f32(T, V4)),
    lambda T: T.trapezoid(f32(T, A34)),
    lambda T: T.trapezoid(f32(T, A34), dx=0.5, dim=0),
    lambda T: T.trapezoid(f32(T, A34), f32(T, X5[1:])),
    lambda T: T.trapezoid(f32(T, A34), f32(T, A34 ** 2), dim=0),
    lambda T: T.trapezoid(i64(T, INTS)),
    lambda T: T.trapezoid(f32(T, np.zeros((2, 0)))),
    lambda T: T.trapz(f32(T, A34), f32(T, X5[1:])),
    lambda T: T.trapz(f32(T, A34), dx=2.0),
    lambda T: T.cumulative_trapezoid(f32(T, A34)),
    lambda T: T.cumulative_trapezoid(f32(T, A34), dx=3.0, dim=0),
    lambda T: T.cumulative_trapezoid(f32(T, A34), f32(T, X5[1:])),
    lambda T: T.cov(f32(T, A34)),
    lambda T: T.cov(f32(T, V4), correction=0),
    lambda T: T.cov(f32(T, A34), fweights=i64(T, [1, 2, 0, 3]), aweights=f32(T, [0.5, 1, 2, 1])),
    lambda T: T.cov(f32(T, A34), correction=2, aweights=f32(T, [0.5, 1, 2, 1])),
    lambda T: T.cov(i64(T, INTS)),
    lambda T: f32(T, A34).cov(fweights=i64(T, [1, 1, 2, 2])),
    lambda T: T.corrcoef(f32(T, A34)),
    lambda T: f32(T, V4).corrcoef(),
    lambda T: T.dist(f32(T, A34), f32(T, V4)),
    lambda T: T.dist(f32(T, A34), f32(T, V4), p=1),
    lambda T: f32(T, A34).dist(f32(T, A34 * 2), INF),
    lambda T: T.dist(f32(T, A34), f32(T, V4), 0),
    lambda T: T.renorm(f32(T, A34), 2, 0, 1.0),
    lambda T: T.renorm(f32(T, A234), 1, 1, 2.5),
    lambda T: f32(T, A34).renorm(p=3, dim=-1, maxnorm=0.5),
    lambda T: T.histogram(f32(T, A34), 5),
    lambda T: T.histogram(f32(T, A34), 4, range=(-1., 1.), density=True),
    lambda T: T.histogram(f64(T, A34), f64(T, [-2., -0.5, 0., 0.3, 2.]), weight=f64(T, A34 ** 2)),
    lambda T: T.histogram(f32(T, [1., 1., 1.]), 3),
    lambda T: f32(T, [0., 1, 2, 3, 4, 5]).histogram(bins=5),
    lambda T: T.frobenius_norm(f32(T, A234), dim=(0, 2)),
    lambda T: T.frobenius_norm(f32(T, A234), dim=[1], keepdim=True),
    lambda T: T.nuclear_norm(f32(T, A34)),
    lambda T: T.nuclear_norm(f32(T, A234), dim=(1, 2), keepdim=True),
    lambda T: T.pdist(f32(T, A34)),
    lambda T: T.pdist(f64(T, A34), p=1),
    lambda T: T.pdist(f32(T, A34[:1])),
]


@pytest.mark.parametrize("case", range(len(CALCULUS)))
def test_calculus_stats(case):
    same(CALCULUS[case], rtol=2e-5, atol=2e-5)


def test_inplace_renorm_and_histogram_type():
    same(lambda T: (lambda x: (x.renorm_(2, 1, 0.7), x))(f32(T, A34)))
    h = minitorch.histogram(minitorch.tensor([1., 2.]), 2)
    assert type(h).__name__ == "histogram" and "hist=" in repr(h)


CALC_ERRORS = [
    (lambda T: T.diff(f32(T, 1.)), "at least one-dimensional"),
    (lambda T: T.diff(f32(T, V3), n=-1), "non-negative"),
    (lambda T: T.gradient(f32(T, [1.])), "at least edge_order\\+1"),
    (lambda T: T.gradient(f32(T, V3), edge_order=3), "edge_order"),
    (lambda T: T.cov(f32(T, A234)), "two or fewer dimensions"),
    (lambda T: T.cov(f32(T, A34), fweights=f32(T, [1., 1, 1, 1])), "integral dtype"),
    (lambda T: T.cov(f32(T, A34), aweights=f32(T, [1., 1])), "same numel"),
    (lambda T: T.renorm(f32(T, A34), 0, 0, 1.0), "non-positive-norm"),
    (lambda T: T.renorm(f32(T, A34), 2, 0, -1.0), "maxnorm"),
    (lambda T: T.histogram(i64(T, [1, 2]), 2), None),
    (lambda T: T.histogram(f32(T, [1., 2]), f64(T, [0., 1.])), "same dtype"),
    (lambda T: T.pdist(f32(T, V3)), "2D tensors"),
]


@pytest.mark.parametrize("case", range(len(CALC_ERRORS)))
def test_calculus_errors(case):
    fn, match = CALC_ERRORS[case]
    same_error(fn, match)


def test_cov_warns_on_no_dof():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        c = minitorch.cov(minitorch.tensor([1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert str(torch.cov(torch.tensor([1.0])).item()) == str(c.item())


def test_calculus_grads():
    same_grad(lambda T, a: T.diff(a, n=2, dim=1), A34)
    same_grad(lambda T, a, p: T.diff(a, dim=0, prepend=p), A34, V4[None])
    same_grad(lambda T, a: T.gradient(a, spacing=[0.5, 2.], edge_order=2), A34)
    same_grad(lambda T, a, x: T.gradient(a, spacing=[x], dim=1, edge_order=2)[0], A34, X5[1:])
    same_grad(lambda T, y, x: T.trapezoid(y, x), A34, X5[1:])
    same_grad(lambda T, y: T.trapezoid(y, dx=0.3, dim=0), A34)
    same_grad(lambda T, y, x: T.cumulative_trapezoid(y, x), A34, X5[1:])
    same_grad(lambda T, a, w: T.cov(a, aweights=w), A34, [0.5, 1, 2, 1])
    same_grad(lambda T, a: T.corrcoef(a), A34)
    same_grad(lambda T, a, b: T.dist(a, b, 3), A34, V4)
    same_grad(lambda T, a: T.renorm(a, 2, 0, 1.0), A34)
    same_grad(lambda T, a: T.frobenius_norm(a, dim=(0, 1)), A34)
    same_grad(lambda T, a: T.pdist(a), A34)
    same_grad(lambda T, a: T.pdist(a, p=1.5), A34)


# ------------------------------------------------------------------------------------------ edge cases
rng1 = np.random.default_rng(1)
EDGE = {}
R = rng1.integers(0, 4, (5, 40)).astype(np.float64)
R2 = rng1.integers(0, 3, (3, 7, 9)).astype(np.float64)
E = np.zeros((0, 3))
B = np.array([True, False, True])
EDGE.update({
 'kth_dup': lambda T: T.kthvalue(f32(T, R), 17, 1),
 'kth_dup2': lambda T: T.kthvalue(f32(T, R2), 4, 1),
 'kth_dup0': lambda T: T.kthvalue(f32(T, R2), 2, 0, True),
 'kth_nan': lambda T: T.kthvalue(f32(T, [[1., np.nan, 2, np.nan, 1, 1]]), 5),
 'kth_0d': lambda T: T.kthvalue(f32(T, 3.), 1),
 'kth_int': lambda T: T.kthvalue(i64(T, R), 3),
 'median_dup': lambda T: T.median(f32(T, R), 1),
 'median_dup3': lambda T: T.median(f32(T, R2), 2),
 'median_int': lambda T: T.median(i64(T, R), 0),
 'median_empty': lambda T: T.median(T.zeros(0)),
 'median_empty_int': lambda T: T.median(T.zeros(0, dtype=T.int64)),
 'nanmedian_empty': lambda T: T.nanmedian(T.zeros(0)),
 'median_empty_dim': lambda T: T.median(T.zeros(0, 3), 1),
 'mode_dup': lambda T: T.mode(f32(T, R), 1),
 'mode_dup3': lambda T: T.mode(f32(T, R2), 1),
 'mode_0d': lambda T: T.mode(f32(T, 3.)),
 'mode_bool': lambda T: T.mode(T.tensor(B)),
 'mode_nan': lambda T: T.mode(f32(T, [np.nan, 1, np.nan, 1, np.nan])),
 'aminmax_empty_dim': lambda T: T.aminmax(T.zeros(0, 3), dim=1),
 'aminmax_bool': lambda T: T.aminmax(T.tensor(B)),
 'aminmax_0d_keep': lambda T: T.aminmax(f32(T, 2.), keepdim=True),
 'aminmax_0d_dim': lambda T: T.aminmax(f32(T, 2.), dim=0),
 'nansum_bool': lambda T: T.nansum(T.tensor(B)),
 'nansum_empty': lambda T: T.nansum(T.zeros(0, 3), 0),
 'nansum_dtype': lambda T: T.nansum(f32(T, [1., np.nan]), dtype=T.float64),
 'nanmean_allnan': lambda T: T.nanmean(f32(T, [np.nan, np.nan])),
 'nanmean_empty': lambda T: T.nanmean(T.zeros(0)),
 'nanmean_keep': lambda T: T.nanmean(f32(T, R), keepdim=True),
 'nansum_keep': lambda T: T.nansum(f32(T, R), keepdim=True),
 'var_mean_0d': lambda T: T.var_mean(f32(T, 3.)),
 'var_mean_keep_none': lambda T: T.var_mean(f32(T, R), keepdim=True),
 'std_mean_list': lambda T: T.std_mean(f32(T, R2), [0, 2], True, True),
 'quantile_big': lambda T: T.quantile(f32(T, R), f32(T, np.linspace(0, 1, 11)), dim=1),
 'nanquantile_allnan': lambda T: T.nanquantile(f32(T, [[np.nan, np.nan], [1, 2]]), 0.3, dim=1),
 'quantile_keep_none': lambda T: T.quantile(f64(T, R2), f64(T, [0.2, 0.7]), keepdim=True, interpolation='midpoint'),
 'quantile_neg_dim': lambda T: T.quantile(f64(T, R2), 0.7, dim=-2, keepdim=True),
 'lerp_half': lambda T: T.lerp(f32(T, [1e-3, 5.]), f32(T, [7e5, -3]), 0.5),
 'lerp_neg': lambda T: T.lerp(f32(T, [1e-3, 5.]), f32(T, [7e5, -3]), -0.7),
 'lerp_tw': lambda T: T.lerp(f32(T, [1e-3, 5., 2, 2]), f32(T, [7e5, -3, 1, 1]), f32(T, [0.49999, 0.5, -0.5, 1.7])),
 'lerp_0d': lambda T: T.lerp(f32(T, 1.), f32(T, [2., 3]), f32(T, 0.25)),
 'lerp_empty': lambda T: T.lerp(T.zeros(0), T.zeros(0), 0.3),
 'addcdiv_0d': lambda T: T.addcdiv(f32(T, 1.), f32(T, 2.), f32(T, 3.), value=2),
 'addcmul_bool': lambda T: T.addcmul(f32(T, [1., 2]), T.tensor([True, False]), f32(T, [3., 3])),
 'addcmul_int_float': lambda T: T.addcmul(i64(T, [1, 2]), i64(T, [1, 2]), f32(T, [0.5, 0.5])),
 'fmax_bool': lambda T: T.fmax(T.tensor(B), T.tensor(~B)),
 'fmin_0d': lambda T: T.fmin(f32(T, np.nan), f32(T, [1., np.nan])),
 'gcd_int32_64': lambda T: T.gcd(T.tensor([12, 18], dtype=T.int32), i64(T, [8, 27])),
 'gcd_uint8': lambda T: T.gcd(T.tensor([12, 18], dtype=T.uint8), T.tensor([8, 27], dtype=T.uint8)),
 'gcd_empty': lambda T: T.gcd(T.zeros(0, dtype=T.int64), T.zeros(0, dtype=T.int64)),
 'lcm_neg': lambda T: T.lcm(i64(T, [-4, 6, 0]), i64(T, [6, -4, 5])),
 'ldexp_float_exp': lambda T: T.ldexp(f32(T, [1., 2]), f32(T, [0.5, -1])),
 'ldexp_f64_int': lambda T: T.ldexp(f64(T, [1., 2]), T.tensor([3, 4], dtype=T.int32)),
 'frexp_empty': lambda T: T.frexp(T.zeros(0)),
 'frexp_0d': lambda T: T.frexp(f64(T, -6.)),
 'frexp_sub': lambda T: T.frexp(f32(T, [1e-40, -3e-39])),
 'signbit_nan': lambda T: T.signbit(-f32(T, [np.nan])),
 'deg2rad_bool': lambda T: T.deg2rad(T.tensor(B)),
 'deg2rad_int32': lambda T: T.deg2rad(T.tensor([1, 2], dtype=T.int32)),
 'rad2deg_f64': lambda T: T.rad2deg(f64(T, [np.pi])),
 'isreal_int': lambda T: T.isreal(i64(T, [1])),
 'isneginf_bool': lambda T: T.isneginf(T.tensor(B)),
 'isin_empty': lambda T: T.isin(T.zeros(0), f32(T, [1.])),
 'isin_empty_test': lambda T: T.isin(f32(T, [1.]), T.zeros(0)),
 'isin_2d': lambda T: T.isin(f32(T, R), f32(T, [[1, 2]])),
 'mvlgamma_int': lambda T: T.mvlgamma(i64(T, [2, 5]), 2),
 'polygamma_int': lambda T: T.polygamma(1, i64(T, [1, 3])),
 'polygamma_0d': lambda T: T.polygamma(0, f64(T, 2.5)),
 'diff_empty': lambda T: T.diff(T.zeros(0)),
 'diff_n_large': lambda T: T.diff(f32(T, [1., 2, 4]), n=4),
 'diff_prepend_0d': lambda T: T.diff(f32(T, [1., 2, 4]), prepend=f32(T, [0.])),
 'diff_int_bool_pre': lambda T: T.diff(T.tensor(B), append=T.tensor([False])),
 'gradient_int': lambda T: T.gradient(i64(T, [1, 4, 9, 16])),
 'gradient_neg_dim': lambda T: T.gradient(f32(T, R2), dim=-1, spacing=[2.]),
 'gradient_e2_coords': lambda T: T.gradient(f64(T, R[:3, :5]), spacing=[f64(T, [0., 1, 3]), f64(T, [0., .5, 1.5, 1.7, 3.])], edge_order=2),
 'trapz_x_2d': lambda T: T.trapezoid(f32(T, R[:, :5]), f32(T, np.cumsum(R[:, :5], 1))),
 'trapz_dx': lambda T: T.trapezoid(f32(T, [1., 2., 3.]), dx=0.5),
 'trapz_int_x': lambda T: T.trapezoid(i64(T, [1, 2, 3]), i64(T, [0, 2, 5])),
 'trapz_one': lambda T: T.trapezoid(f32(T, [[1.], [2.]])),
 'cumtrapz_empty': lambda T: T.cumulative_trapezoid(T.zeros(2, 0)),
 'cumtrapz_one': lambda T: T.cumulative_trapezoid(T.zeros(2, 1)),
 'cumtrapz_int': lambda T: T.cumulative_trapezoid(i64(T, [1, 2, 3])),
 'cumtrapz_x2d': lambda T: T.cumulative_trapezoid(f32(T, R[:, :5]), f32(T, np.cumsum(R[:, :5], 1)), dim=1),
 'cov_0d': lambda T: T.cov(f32(T, 2.)),
 'cov_f64': lambda T: T.cov(f64(T, R[:3, :6]), correction=0, fweights=i64(T, [1, 2, 3, 0, 1, 1])),
 'cov_1var': lambda T: T.cov(f32(T, R[:1, :6])),
 'corrcoef_1var': lambda T: T.corrcoef(f32(T, R[:1, :6])),
 'corrcoef_int': lambda T: T.corrcoef(i64(T, R[:3, :6])),
 'corrcoef_const': lambda T: T.corrcoef(f32(T, [[1., 1, 1], [1, 2, 3]])),
 'dist_0d': lambda T: T.dist(f32(T, 1.), f32(T, 3.)),
 'dist_neg_p': lambda T: T.dist(f32(T, [1., 2]), f32(T, [3., 3.]), -1),
 'dist_f64_p': lambda T: T.dist(f64(T, R), f64(T, R[::-1]), 2.5),
 'renorm_noscale': lambda T: T.renorm(f32(T, R), 2, 0, 100.),
 'renorm_inf': lambda T: T.renorm(f32(T, R), float('inf'), 1, 1.),
 'renorm_empty': lambda T: T.renorm(T.zeros(0, 3), 2, 0, 1.),
 'hist_empty': lambda T: T.histogram(T.zeros(0), 3),
 'hist_2d': lambda T: T.histogram(f32(T, R), 7),
 'hist_nan_range': lambda T: T.histogram(f32(T, [0., 0.5, 1, 2, 3]), 3, range=(0.5, 2.)),
 'hist_density_edges': lambda T: T.histogram(f32(T, R), f32(T, [0., 0.5, 2, 3.]), density=True),
 'hist_weight_f32': lambda T: T.histogram(f32(T, R), 4, weight=f32(T, R * 0.1)),
 'frob_noargs': lambda T: T.frobenius_norm(f32(T, R), (0, 1)),
 'frob_int_dim': lambda T: T.frobenius_norm(f32(T, R), 1),
 'nuc_keep': lambda T: T.nuclear_norm(f32(T, R[:3, :5]), True),
 'pdist_inf': lambda T: T.pdist(f32(T, R[:4, :5]), float('inf')),
 'pdist_0': lambda T: T.pdist(f32(T, R[:4, :5]), 0),
 'pdist_empty': lambda T: T.pdist(T.zeros(0, 3)),
 'inner_1d_2d': lambda T: T.inner(f32(T, R[0, :3]), f32(T, R[:2, :3])),
 'inner_int': lambda T: T.inner(i64(T, R[:2, :3]), i64(T, R[:2, :3])),
 'tensordot_0': lambda T: T.tensordot(f32(T, R[:2, :2]), f32(T, R[:2, :3]), 0),
 'tensordot_int_list': lambda T: T.tensordot(f32(T, R2), f32(T, R2), dims=[[0, 1, 2], [0, 1, 2]]),
 'tensordot_empty': lambda T: T.tensordot(T.zeros(2, 0), T.zeros(0, 3), 1),
 'mv_int': lambda T: T.mv(i64(T, R[:2, :3]), i64(T, R[0, :3])),
 'mv_empty': lambda T: T.mv(T.zeros(0, 3), T.zeros(3)),
 'addmv_bcast': lambda T: T.addmv(f32(T, [1.]), f32(T, R[:2, :3]), f32(T, R[0, :3])),
 'addr_bool': lambda T: T.addr(T.tensor([[True, False], [False, False]]), T.tensor([True, False]), T.tensor([False, True])),
 'addr_bcast': lambda T: T.addr(f32(T, 1.), f32(T, [1., 2]), f32(T, [3., 4, 5])),
 'addr_int_float': lambda T: T.addr(i64(T, [[1, 2]]), i64(T, [1]), i64(T, [3, 4]), beta=2, alpha=3),
 'baddbmm_int': lambda T: T.baddbmm(i64(T, np.ones((1, 2, 2))), i64(T, np.ones((3, 2, 4))), i64(T, np.ones((3, 4, 2))), beta=2),
 'addbmm_empty': lambda T: T.addbmm(T.zeros(2, 3), T.zeros(0, 2, 4), T.zeros(0, 4, 3)),
 'vdot_int': lambda T: T.vdot(i64(T, [1, 2]), i64(T, [3, 4])),
 'ger_int': lambda T: T.ger(i64(T, [1, 2]), i64(T, [3, 4])),
 'cross_bcast': lambda T: T.cross(f32(T, R[:1, :3]), f32(T, R[:4, 3:6])),
 'cross_int': lambda T: T.cross(i64(T, R[:2, :3]), i64(T, R[2:4, :3]), dim=-1),
 'chain3': lambda T: T.chain_matmul(f32(T, R[:2, :3]), f32(T, R[:3, :4]), f32(T, R[:4, :2]), f32(T, R[:2, :5])),
 'msort_0d': lambda T: T.msort(f32(T, 1.)),
 'msort_3d': lambda T: T.msort(f32(T, R2)),
 'channel_shuffle_3d': lambda T: T.channel_shuffle(f32(T, R2), 7),
 'embedding_pad_neg': lambda T: T.embedding(f32(T, R[:4, :3]), i64(T, [0, 3]), -1),
 'pool_tuple': lambda T: T.max_pool1d(f32(T, R2), [2], [1]),
 'avg_pool_stride_list': lambda T: T.avg_pool1d(f32(T, R2), [3], [2], [1]),
 'adaptive_avg': lambda T: T.adaptive_avg_pool1d(f32(T, R2), [3]),
 'constant_pad_neg': lambda T: T.constant_pad_nd(f32(T, R2), [-1, 2, 0, 1]),
})
EDGE_ERRORS = {
 'cov_bool': lambda T: T.cov(T.tensor([[True, False, True], [False, False, True]])),
 'gradient_list1': lambda T: T.gradient(f32(T, R2), spacing=[2.0]),
 'isin_bool': lambda T: T.isin(T.tensor(B), T.tensor([True])),
 'var_mean_int': lambda T: T.var_mean(i64(T, R)),
 'median_bool': lambda T: T.median(T.tensor(B)),
 'kth_empty': lambda T: T.kthvalue(T.zeros(0), 1),
 'mode_empty': lambda T: T.mode(T.zeros(0)),
 'median_dim_oob': lambda T: T.median(f32(T, [1.]), 2),
 'quantile_q_neg': lambda T: T.quantile(f32(T, [1.]), f32(T, [-0.5])),
 'quantile_f16': lambda T: T.quantile(f32(T, [1.]).half(), 0.5),
 'cross_nodim3': lambda T: T.cross(f32(T, R[:2, :2]), f32(T, R[:2, :2])),
 'cross_dim_size': lambda T: T.cross(f32(T, R[:3, :4]), f32(T, R[:3, :4]), dim=1),
 'tensordot_neg': lambda T: T.tensordot(f32(T, R), f32(T, R), -1),
 'tensordot_len': lambda T: T.tensordot(f32(T, R), f32(T, R), ([0], [0, 1])),
 'addmv_shape': lambda T: T.addmv(f32(T, [1., 2, 3]), f32(T, R[:2, :3]), f32(T, R[0, :3])),
 'addr_shape': lambda T: T.addr(f32(T, [1., 2, 3]), f32(T, [1., 2]), f32(T, [1., 2])),
 'baddbmm_batch': lambda T: T.baddbmm(f32(T, [1.]), T.zeros(2, 2, 2), T.zeros(3, 2, 2)),
 'addbmm_2d': lambda T: T.addbmm(f32(T, [1.]), T.zeros(2, 2), T.zeros(2, 2)),
 'mv_f64': lambda T: T.mv(f32(T, R[:2, :3]), f64(T, R[0, :3])),
 'vdot_len': lambda T: T.vdot(f32(T, [1., 2]), f32(T, [1., 2, 3])),
 'gcd_float_int': lambda T: T.gcd(i64(T, [1]), f32(T, [2.])),
 'diff_shape': lambda T: T.diff(f32(T, R), prepend=f32(T, [1., 2])),
 'trapz_x_len': lambda T: T.trapezoid(f32(T, [1., 2, 3]), f32(T, [1., 2])),
 'cov_neg_fw': lambda T: T.cov(f32(T, R[:2, :3]), fweights=i64(T, [1, -1, 2])),
 'hist_bins0': lambda T: T.histogram(f32(T, [1.]), 0),
 'hist_range': lambda T: T.histogram(f32(T, [1.]), 3, range=(2., 1.)),
 'frexp_bool': lambda T: T.frexp(T.tensor(B)),
 'polygamma_neg': lambda T: T.polygamma(-1, f32(T, [1.])),
 'pdist_int': lambda T: T.pdist(i64(T, R[:2, :2])),
 'pdist_negp': lambda T: T.pdist(f32(T, R[:2, :2]), -1),
 'renorm_1d': lambda T: T.renorm(f32(T, [1., 2]), 2, 0, 1.),
 'renorm_int': lambda T: T.renorm(i64(T, R), 2, 0, 1.),
 'isin_ss': lambda T: T.isin(1, 2),
 'nuclear_1d': lambda T: T.nuclear_norm(f32(T, [1., 2])),
 'frob_3dims': lambda T: T.frobenius_norm(f32(T, R2), (0, 1, 2)),
 'lerp_weight_dtype': lambda T: T.lerp(f32(T, [1.]), f32(T, [1.]), f64(T, [0.5])),
 'nanmean_bool': lambda T: T.nanmean(T.tensor(B)),
 'mvlgamma_p0': lambda T: T.mvlgamma(f32(T, [1.]), 0),
 'inplace_bcast': lambda T: f32(T, [1.]).lerp_(f32(T, [1., 2.]), 0.5),
 'addcmul_int_inplace_float': lambda T: i64(T, [1]).addcmul_(f32(T, [1.]), f32(T, [1.])),
 'chain_empty': lambda T: T.chain_matmul(),
 'chain_1d': lambda T: T.chain_matmul(f32(T, [1., 2])),
 'channel_shuffle_2d': lambda T: T.channel_shuffle(f32(T, R), 2),
 'gradient_spacing_len': lambda T: T.gradient(f32(T, R), spacing=[1., 2., 3.]),
}
EDGE.update({
 'nansum_dtype_int': lambda T: T.nansum(i64(T, [1, 2]), dtype=T.float32),
 'aminmax_empty1': lambda T: T.aminmax(T.zeros(0, 3), dim=1),
 'median_empty_rows': lambda T: T.median(T.zeros(0, 3), 1),
 'kth_empty_rows': lambda T: T.kthvalue(T.zeros(0, 3), 1, 1),
 'nanmedian_empty_rows': lambda T: T.nanmedian(T.zeros(3, 0), 0),
 'mode_empty_rows': lambda T: T.mode(T.zeros(0, 3), 1),
 'out_add': lambda T: (lambda o: (T.addcmul(f32(T, [1., 2]), f32(T, [1., 2]), f32(T, [3., 4]), out=o), o))(T.zeros(2, dtype=T.float64)),
 'out_frexp': lambda T: (lambda o: (T.frexp(f32(T, [1., 6]), out=o), o))((T.zeros(2), T.zeros(2, dtype=T.int32))),
 'out_median': lambda T: (lambda o: (T.median(f32(T, [[1., 6, 2]]), 1, out=o), o))((T.zeros(1), T.zeros(1, dtype=T.int64))),
 'out_lerp': lambda T: (lambda o: (T.lerp(f32(T, [1., 6, 2]), f32(T, [0., 0, 0]), 0.3, out=o), o))(T.zeros(3)),
})
EDGE_ERRORS.update({
 'lerp_scalar_end': lambda T: T.lerp(T.ones(2), 2., 0.5),
 'cumtrapz_x_dx': lambda T: T.cumulative_trapezoid(T.zeros(3), T.zeros(3), dx=2.),
 'trapz_x_dx': lambda T: T.trapezoid(T.zeros(3), T.zeros(3), dx=2.),
 'fmin_scalar': lambda T: T.fmin(T.ones(2), 2.),
 'fmax_scalar': lambda T: T.fmax(T.ones(2), 2.),
 'aminmax_empty0': lambda T: T.aminmax(T.zeros(0, 3), dim=0),
 'nanmean_int_dtype': lambda T: T.nanmean(i64(T, [1, 2]), dtype=T.float32),
 'out_grad': lambda T: T.addcmul(T.ones(2, requires_grad=True), T.ones(2), T.ones(2), out=T.zeros(2)),
 'out_int': lambda T: T.addcmul(T.ones(2), T.ones(2), T.ones(2), out=T.zeros(2, dtype=T.int64)),
})
EDGE.update({
 'polygamma_high': lambda T: T.polygamma(3, f64(T, [-1.5, -2., 0., 1e-3, 0.3, 1., 2.5, 50., 1e4, NAN, INF, -INF])),
 'polygamma_2_f32': lambda T: T.polygamma(2, f32(T, [0.2, 1., 7.5])),
 'polygamma_5_int': lambda T: T.polygamma(5, i64(T, [1, 2, 30])),
 'polygamma_method': lambda T: f64(T, [0.7, 3.]).polygamma(4),
})


@pytest.mark.parametrize("name", sorted(EDGE))
def test_edge_cases(name):
    same(EDGE[name], rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("name", sorted(EDGE_ERRORS))
def test_edge_errors(name):
    te, me = same_error(EDGE_ERRORS[name])
    assert str(me).split("\n")[0] == str(te).split("\n")[0] or name in {"isin_ss", "lerp_scalar_end", "cumtrapz_x_dx", "trapz_x_dx"}, (te, me)


def test_index_choice_among_equal_values():
    """mode/kthvalue/median/nanmedian pick the index torch's CPU kernels pick among equal values (libstdc++
    std::sort for mode, SortingUtils' quickselect for kthvalue, the stable (value, index) order for median)."""
    r = np.random.default_rng(5)
    for trial in range(40):
        n = int(r.choice([2, 3, 16, 17, 33, 100, 257]))
        a = r.integers(0, int(r.integers(1, 6)), (3, n)).astype(np.float32)
        if trial % 3 == 0:
            a[r.random(a.shape) < 0.2] = NAN
            a[:, 0] = 0.0     # no all-NaN row (torch's nanmedian index is arbitrary there)
        k = (n + 1) // 3 + 1
        same(lambda T: (T.mode(f32(T, a), 1), T.kthvalue(f32(T, a), k, 1), T.median(f32(T, a), 1),
                        T.nanmedian(f32(T, a), 1)))


def test_polygamma_grad():
    same_grad(lambda T, a: T.polygamma(2, a) + T.polygamma(1, a), [0.3, 1.5, 7.0], rtol=1e-8)


# ------------------------------------------------------------------------------------------ random
def test_random():
    g = minitorch.Generator().manual_seed(3)
    p = minitorch.tensor([0., 1., 0.5, 1.])
    b = minitorch.bernoulli(p, generator=g)
    assert b.dtype == minitorch.float32 and b[0].item() == 0 and b[1].item() == 1 and b[3].item() == 1
    assert set(np.unique(minitorch.bernoulli(minitorch.zeros(1000), 0.5).numpy()).tolist()) == {0.0, 1.0}
    frac = minitorch.bernoulli(minitorch.full((4000,), 0.25, dtype=minitorch.float64)).mean().item()
    assert abs(frac - 0.25) < 0.05
    assert p.bernoulli().shape == (4,)
    r = minitorch.randint_like(minitorch.zeros(50, 3, dtype=minitorch.int32), 5)
    assert r.dtype == minitorch.int32 and r.shape == (50, 3) and 0 <= r.min().item() and r.max().item() < 5
    r = minitorch.randint_like(minitorch.zeros(200), -3, 3, dtype=minitorch.int64)
    assert r.dtype == minitorch.int64 and r.min().item() >= -3 and r.max().item() < 3 and r.min().item() < 0


def _chi2(x, pmf, kmax):
    obs = np.bincount(x.astype(np.int64), minlength=kmax + 1)[:kmax + 1]
    exp = np.array([pmf(k) for k in range(kmax + 1)]) * len(x)
    keep = exp > 20
    return ((obs[keep] - exp[keep]) ** 2 / exp[keep]).sum(), int(keep.sum())


@pytest.mark.parametrize("lam", [0.7, 6.0, 12.0, 40.0])   # both of torch's samplers (below and above rate 10)
def test_poisson_distribution(lam):
    g = minitorch.Generator().manual_seed(11)
    x = minitorch.poisson(minitorch.full((20000,), lam, dtype=minitorch.float64), generator=g).numpy()
    stat, dof = _chi2(x, lambda k: math.exp(k * math.log(lam) - lam - math.lgamma(k + 1)), int(3 * lam + 5))
    assert stat < 2 * dof + 25, (stat, dof)
    g2 = minitorch.Generator().manual_seed(11)
    again = minitorch.poisson(minitorch.full((20000,), lam, dtype=minitorch.float64), generator=g2).numpy()
    np.testing.assert_array_equal(x, again)


@pytest.mark.parametrize("n,p", [(20, 0.3), (100, 0.3), (300, 0.8), (40, 0.9)])   # inversion and BTRS, p > 0.5
def test_binomial_distribution(n, p):
    g = minitorch.Generator().manual_seed(5)
    x = minitorch.binomial(minitorch.full((20000,), float(n)), minitorch.tensor([p]), generator=g).numpy()
    assert x.dtype == np.float32 and x.min() >= 0 and x.max() <= n
    pmf = lambda k: math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(p)
                             + (n - k) * math.log(1 - p))
    stat, dof = _chi2(x, pmf, n)
    assert stat < 2 * dof + 25, (stat, dof)


def test_poisson_binomial_edges():
    same(lambda T: T.poisson(f32(T, [0., 0.])))
    same(lambda T: T.binomial(f32(T, [0., 5, 5, -2, 7]), f32(T, [0.5, 0., 1., 0.5, 1.5])))
    same(lambda T: T.binomial(f64(T, [5., 3.]), f64(T, [0.5])).shape)
    for fn in [lambda T: T.poisson(f32(T, [-1.])), lambda T: T.poisson(f32(T, [NAN])), lambda T: T.poisson(i64(T, [1])),
               lambda T: T.binomial(i64(T, [5]), f32(T, [0.5])), lambda T: T.binomial(f32(T, [5.]), f64(T, [0.5]))]:
        same_error(fn)


# ------------------------------------------------------------------------------------------ nn (aten forms)
X = rng.standard_normal((2, 4, 6))
X2 = rng.standard_normal((2, 4, 5, 5))
W1 = rng.standard_normal((3, 4, 3))
W2 = rng.standard_normal((2, 2, 3, 3))
WB = rng.standard_normal((2, 4, 3))
NN = [
    lambda T: T.conv1d(f32(T, X), f32(T, W1), f32(T, V3), 1, 1),
    lambda T: T.conv2d(f32(T, X2), f32(T, W2), None, 2, 0, 1, 2),
    lambda T: T.conv3d(f32(T, X2[:, :, None]), f32(T, np.ones((1, 4, 1, 2, 2))), stride=1),
    lambda T: T.conv_transpose1d(f32(T, X), f32(T, np.ones((4, 2, 3))), None, 2, 1, 1),
    lambda T: T.conv_transpose2d(f32(T, X2), f32(T, np.ones((4, 1, 2, 2))), stride=2),
    lambda T: T.conv_transpose3d(f32(T, X2[:, :, None]), f32(T, np.ones((4, 1, 1, 2, 2)))),
    lambda T: T.convolution(f32(T, X), f32(T, W1), None, [1], [0], [1], False, [0], 1),
    lambda T: T.convolution(f32(T, X2), f32(T, np.ones((4, 2, 3, 3))), f32(T, [1., 2.]), [2, 2], [1, 1], [1, 1],
                            True, [1, 1], 1),
    lambda T: T.batch_norm(f32(T, X), f32(T, [1., 2, 3, 4]), f32(T, V4), f32(T, V4), f32(T, [1., 2, 3, 4]), False,
                           0.1, 1e-5, False),
    lambda T: T.batch_norm(f32(T, X), None, None, None, None, True, 0.1, 1e-3, True),
    lambda T: T.layer_norm(f32(T, X), [6], f32(T, np.ones(6) * 2), None, 1e-5, True),
    lambda T: T.layer_norm(f32(T, X), (4, 6)),
    lambda T: T.group_norm(f32(T, X), 2, f32(T, V4), f32(T, V4)),
    lambda T: T.instance_norm(f32(T, X), None, None, None, None, True, 0.1, 1e-5, False),
    lambda T: T.rms_norm(f32(T, X), [6], f32(T, np.arange(6.)), 1e-6),
    lambda T: T.rms_norm(f32(T, X), (6,)),
    lambda T: T.embedding(f32(T, M34), i64(T, [[0, 2], [1, 1]])),
    lambda T: T.embedding(f32(T, M34), i64(T, [0, 2]), 1),
    lambda T: T.pixel_shuffle(f32(T, X2), 2),
    lambda T: T.pixel_unshuffle(f32(T, np.ones((1, 1, 4, 6)) * np.arange(24).reshape(4, 6)), 2),
    lambda T: T.channel_shuffle(f32(T, X2), 2),
    lambda T: T.max_pool1d(f32(T, X), 2),
    lambda T: T.max_pool1d(f32(T, X), 3, 2, 1, 1, True),
    lambda T: T.max_pool2d(f32(T, X2), (2, 2), stride=1),
    lambda T: T.max_pool3d(f32(T, X2[:, :, None]), (1, 2, 2)),
    lambda T: T.avg_pool1d(f32(T, X), 3, 2, 1, False, False),
    lambda T: T.avg_pool1d(f32(T, X), 2),
    lambda T: T.adaptive_avg_pool1d(f32(T, X), 4),
    lambda T: T.adaptive_max_pool1d(f32(T, X), 4),
    lambda T: T.bilinear(f32(T, M34), f32(T, M34[:, :3]), f32(T, WB), f32(T, [1., 2])),
    lambda T: T.binary_cross_entropy_with_logits(f32(T, M34), f32(T, M34 > 0)),
    lambda T: T.binary_cross_entropy_with_logits(f32(T, M34), f32(T, M34 > 0), f32(T, V4), f32(T, V4 ** 2), 0),
    lambda T: T.binary_cross_entropy_with_logits(f32(T, M34), f32(T, M34 > 0), None, None, 2),
    lambda T: T.constant_pad_nd(f32(T, M34), [1, 2], 3.5),
    lambda T: T.constant_pad_nd(f32(T, M34), (1, 0, 0, 2)),
]


@pytest.mark.parametrize("case", range(len(NN)))
def test_nn_forms(case):
    same(NN[case], rtol=1e-4, atol=1e-5)


H3 = rng.standard_normal((2, 3))
XI = rng.standard_normal((2, 4))


@pytest.mark.parametrize("cell,g", [("lstm_cell", 4), ("gru_cell", 3), ("rnn_tanh_cell", 1), ("rnn_relu_cell", 1)])
def test_rnn_cells(cell, g):
    wih, whh, bih, bhh = (rng.standard_normal(s) for s in [(3 * g, 4), (3 * g, 3), (3 * g,), (3 * g,)])

    def fn(T, x, h, c, wi, wh, bi, bh):
        hx = (h, c) if cell == "lstm_cell" else h
        return getattr(T, cell)(x, hx, wi, wh, bi, bh)
    same_grad(fn, XI, H3, H3[::-1], wih, whh, bih, bhh)
    # without biases
    same(lambda T: getattr(T, cell)(f32(T, XI), (f32(T, H3), f32(T, H3)) if cell == "lstm_cell" else f32(T, H3),
                                    f32(T, wih), f32(T, whh)), rtol=1e-5, atol=1e-6)


def test_nn_forms_grads():
    same_grad(lambda T, x, w: T.conv1d(x, w, None, 1, 1), X, W1)
    same_grad(lambda T, x, w, b: T.batch_norm(x, w, b, None, None, True, 0.1, 1e-5, False), X, V4, V4)
    same_grad(lambda T, x, w: T.layer_norm(x, [6], w), X, np.ones(6))
    same_grad(lambda T, w: T.embedding(w, T.tensor([0, 2, 2])), M34)
    same_grad(lambda T, x: T.channel_shuffle(x, 2), X2)
    same_grad(lambda T, x: T.adaptive_max_pool1d(x, 3)[0], X)


NN_ERRORS = [
    (lambda T: T.channel_shuffle(f32(T, X2), 3), "divisible by groups"),
]


@pytest.mark.parametrize("case", range(len(NN_ERRORS)))
def test_nn_errors(case):
    fn, match = NN_ERRORS[case]
    same_error(fn, match)


def test_bce_reduction_ints():
    # torch's top-level form treats any int other than 1 and 2 as 'none'; minitorch refuses unknown ones
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        minitorch.binary_cross_entropy_with_logits(minitorch.ones(2), minitorch.ones(2), None, None, 5)


def test_namespace():
    from minitorch import _breadth_math
    for name in _breadth_math.__all__:
        assert hasattr(torch, name), name
        assert getattr(minitorch, name) is getattr(_breadth_math, name)
    for name in _breadth_math._METHODS + [n + "_" for n in _breadth_math._INPLACE] + ["polygamma", "polygamma_"]:
        assert hasattr(torch.Tensor, name), name
        assert hasattr(minitorch.Tensor, name), name

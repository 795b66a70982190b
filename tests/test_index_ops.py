"""Indexing along one dimension: index_select, gather, scatter / scatter_ / scatter_add(_), masked_fill(_).

Values against NumPy for every dtype (contiguous and strided operands, int32 and int64 indices),
gradients by float64 central differences, and values, gradients, grad_fn names and errors
against PyTorch where it is installed. Out-of-range indices must raise, never touch memory."""
import warnings

import numpy as np
import pytest

import minitorch as mt
from minitorch.autograd import gradcheck

DTYPES = {"bool": np.bool_, "int32": np.int32, "int64": np.int64, "float32": np.float32, "float64": np.float64}


def rand(shape, dtype, rng):
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(bool)
    if np.issubdtype(dtype, np.integer):
        return rng.integers(-50, 50, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def same(got, want):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def dbl(shape, rng, rg=True):
    return mt.tensor(rng.standard_normal(shape), dtype=mt.float64, requires_grad=rg)


# ---------------------------------------------------------------- index_select
@pytest.mark.parametrize("dt", list(DTYPES))
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_index_select_values(dt, dim):
    rng = np.random.default_rng(0)
    x = rand((4, 5, 3), DTYPES[dt], rng)
    idx = np.array([2, 0, 2, x.shape[dim] - 1])
    want = np.take(x, idx, axis=dim)
    same(mt.tensor(x).index_select(dim, mt.tensor(idx)).numpy(), want)
    same(mt.index_select(mt.tensor(x), dim, mt.tensor(idx, dtype=mt.int32)).numpy(), want)
    # strided self
    xt = np.ascontiguousarray(np.transpose(x, (2, 0, 1)))
    got = mt.tensor(xt).permute(1, 2, 0).index_select(dim, mt.tensor(idx))
    same(got.numpy(), want)


def test_index_select_shapes():
    x = mt.arange(12.0).view(3, 4)
    assert x.index_select(0, mt.tensor(1)).shape == (1, 4)  # a 0-d index counts as one
    assert x.index_select(0, mt.tensor([], dtype=mt.int64)).shape == (0, 4)
    assert mt.zeros(0, 3).index_select(0, mt.tensor([], dtype=mt.int64)).shape == (0, 3)
    s = mt.tensor(5.0).index_select(0, mt.tensor([0]))
    assert s.shape == () and s.item() == 5.0
    assert mt.tensor(5.0).index_select(-1, mt.tensor(0)).shape == ()
    assert x.index_select(1, mt.tensor([3, 3, 3])).tolist() == [[3.0] * 3, [7.0] * 3, [11.0] * 3]
    # strided index
    assert x.index_select(1, mt.tensor([0, 9, 3, 9, 2])[::2]).tolist() == [[0.0, 3.0, 2.0], [4.0, 7.0, 6.0],
                                                                          [8.0, 11.0, 10.0]]


def test_index_select_gradcheck():
    rng = np.random.default_rng(1)
    x = dbl((4, 3), rng)
    assert gradcheck(lambda x: x.index_select(0, mt.tensor([3, 0, 3, 3])), (x,))
    assert gradcheck(lambda x: x.index_select(1, mt.tensor([2, 2], dtype=mt.int32)), (x,))
    assert gradcheck(lambda x: x.t().index_select(0, mt.tensor([1, 0, 1])), (x,))
    assert gradcheck(lambda x: x.index_select(0, mt.tensor([], dtype=mt.int64)), (x,))
    s = mt.tensor(2.0, dtype=mt.float64, requires_grad=True)
    assert gradcheck(lambda s: s.index_select(0, mt.tensor([0])), (s,))


# ---------------------------------------------------------------- gather
@pytest.mark.parametrize("dt", list(DTYPES))
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_gather_values(dt, dim):
    rng = np.random.default_rng(2)
    x = rand((4, 5, 3), DTYPES[dt], rng)
    ishape = [2, 3, 2]
    ishape[dim] = 6
    idx = rng.integers(0, x.shape[dim], size=ishape)
    # index may be smaller than self in the other dims: compare against the matching corner
    corner = x[tuple(slice(0, s) if d != dim else slice(None) for d, s in enumerate(ishape))]
    want = np.take_along_axis(corner, idx, axis=dim)
    same(mt.gather(mt.tensor(x), dim, mt.tensor(idx)).numpy(), want)
    same(mt.tensor(x).gather(dim, mt.tensor(idx, dtype=mt.int32)).numpy(), want)
    # strided self and strided index
    tx = mt.tensor(np.ascontiguousarray(np.swapaxes(x, 0, 2))).transpose(0, 2)
    ti = mt.tensor(np.ascontiguousarray(np.swapaxes(idx, 0, 1))).transpose(0, 1)
    same(mt.gather(tx, dim, ti).numpy(), want)


def test_gather_shapes():
    assert mt.gather(mt.tensor(3.0), 0, mt.tensor([0, 0])).tolist() == [3.0, 3.0]
    assert mt.gather(mt.tensor([3.0]), 0, mt.tensor(0)).shape == ()
    assert mt.gather(mt.zeros(3, 4), 0, mt.zeros(0, 7, dtype=mt.int64)).shape == (0, 7)
    assert mt.gather(mt.zeros(3, 4), 0, mt.zeros(0, 2, 3, dtype=mt.int64)).shape == (0, 2, 3)


def test_gather_gradcheck():
    rng = np.random.default_rng(3)
    x = dbl((3, 4), rng)
    assert gradcheck(lambda x: mt.gather(x, 0, mt.tensor([[0, 1, 2, 2], [2, 2, 2, 0]])), (x,))
    assert gradcheck(lambda x: mt.gather(x, 1, mt.tensor([[3], [3], [0]])), (x,))
    assert gradcheck(lambda x: mt.gather(x.t(), 1, mt.tensor([[0, 2], [1, 1]], dtype=mt.int32)), (x,))


# ---------------------------------------------------------------- scatter
def scatter_ref(x, dim, idx, src, add):
    out = x.copy()
    for pos in np.ndindex(*idx.shape):
        tgt = list(pos)
        tgt[dim] = idx[pos]
        v = src[pos] if isinstance(src, np.ndarray) else src
        if add:
            out[tuple(tgt)] = (out[tuple(tgt)] + v) if out.dtype != np.bool_ else (out[tuple(tgt)] or v)
        else:
            out[tuple(tgt)] = v
    return out


@pytest.mark.parametrize("dt", list(DTYPES))
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_values(dt, dim):
    rng = np.random.default_rng(4)
    dtype = DTYPES[dt]
    x = rand((4, 5), dtype, rng)
    src = rand((3, 6), dtype, rng)
    ishape = (3, 2) if dim == 0 else (2, 3)
    # unique targets per line for plain scatter (repeated targets are unordered in PyTorch)
    idx = np.stack([rng.permutation(x.shape[dim])[: ishape[dim]] for _ in range(ishape[1 - dim])], axis=1 - dim)
    same(mt.tensor(x).scatter(dim, mt.tensor(idx), mt.tensor(src)).numpy(), scatter_ref(x, dim, idx, src, False))
    dup = rng.integers(0, x.shape[dim], size=ishape)
    same(mt.tensor(x).scatter_add(dim, mt.tensor(dup), mt.tensor(src)).numpy(), scatter_ref(x, dim, dup, src, True))
    same(mt.scatter_add(mt.tensor(x), dim, mt.tensor(dup, dtype=mt.int32), mt.tensor(src)).numpy(),
         scatter_ref(x, dim, dup, src, True))
    val = True if dtype == np.bool_ else 7
    same(mt.tensor(x).scatter(dim, mt.tensor(idx), val).numpy(), scatter_ref(x, dim, idx, dtype(val), False))
    # in place, including a strided (transposed) self
    t = mt.tensor(x)
    r = t.scatter_(dim, mt.tensor(idx), mt.tensor(src))
    assert r is t
    same(t.numpy(), scatter_ref(x, dim, idx, src, False))
    t = mt.tensor(np.ascontiguousarray(x.T)).t()
    t.scatter_add_(dim, mt.tensor(dup), mt.tensor(src))
    same(t.numpy(), scatter_ref(x, dim, dup, src, True))


def test_scatter_scalar_conversion():
    x = mt.arange(12).view(3, 4)
    assert x.scatter(0, mt.tensor([[0, 1, 2, 0]]), 2.7).tolist() == [[2, 1, 2, 2], [4, 2, 6, 7], [8, 9, 2, 11]]
    b = mt.zeros(2, dtype=mt.bool).scatter(0, mt.tensor([1]), 2.5)
    assert b.tolist() == [False, True]
    assert mt.zeros(()).scatter(0, mt.tensor(0), mt.ones(())).item() == 1.0
    assert mt.zeros(3).scatter(0, mt.tensor([0, 1]), mt.ones(5)).tolist() == [1.0, 1.0, 0.0]
    # an empty index skips the shape checks, as in PyTorch
    assert mt.zeros(3, 4).scatter(0, mt.zeros(0, 2, dtype=mt.int64), mt.ones(1, 3, 1)).shape == (3, 4)


def test_scatter_reduce_add_keyword():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = mt.zeros(3).scatter(0, mt.tensor([1, 1]), mt.ones(2), reduce="add")
    assert r.tolist() == [0.0, 2.0, 0.0]


def test_scatter_gradcheck():
    rng = np.random.default_rng(5)
    x, s = dbl((3, 4), rng), dbl((2, 5), rng)
    idx = mt.tensor([[0, 1, 2, 0], [2, 0, 1, 1]])
    assert gradcheck(lambda x, s: x.scatter(0, idx, s), (x, s))
    assert gradcheck(lambda x, s: x.scatter_add(0, idx, s), (x, s))
    assert gradcheck(lambda x: x.scatter(1, mt.tensor([[3], [0]]), 1.5), (x,))
    assert gradcheck(lambda x, s: (x * 1).scatter_(0, idx, s), (x, s))
    assert gradcheck(lambda x, s: (x * 1).scatter_add_(0, idx, s), (x, s))
    assert gradcheck(lambda x, s: x.scatter(0, mt.zeros(0, 4, dtype=mt.int64), s), (x, s))


def test_scatter_src_larger_than_index_grad():
    s = mt.ones(2, 5, dtype=mt.float64, requires_grad=True)
    x = mt.zeros(3, 4, dtype=mt.float64)
    x.scatter(0, mt.tensor([[0, 1, 2, 0]]), s).sum().backward()
    assert s.grad.tolist() == [[1.0, 1.0, 1.0, 1.0, 0.0], [0.0] * 5]


# ---------------------------------------------------------------- masked_fill
@pytest.mark.parametrize("dt", list(DTYPES))
def test_masked_fill_values(dt):
    rng = np.random.default_rng(6)
    dtype = DTYPES[dt]
    x = rand((3, 4), dtype, rng)
    m = rng.integers(0, 2, size=(3, 4)).astype(bool)
    v = True if dtype == np.bool_ else 3
    same(mt.tensor(x).masked_fill(mt.tensor(m), v).numpy(), np.where(m, dtype(v), x))
    same(mt.masked_fill(mt.tensor(x), mt.tensor(m[0]), v).numpy(), np.where(m[0], dtype(v), x))
    # the mask may broadcast the result to a larger shape
    m3 = rng.integers(0, 2, size=(2, 1, 4)).astype(bool)
    same(mt.tensor(x).masked_fill(mt.tensor(m3), v).numpy(), np.where(m3, dtype(v), x))
    # in place, on a strided view
    t = mt.tensor(np.ascontiguousarray(x.T)).t()
    r = t.masked_fill_(mt.tensor(m), v)
    assert r is t
    same(t.numpy(), np.where(m, dtype(v), x))


def test_masked_fill_scalar_conversion():
    m = mt.tensor([True, False, True, False])
    assert mt.arange(4).masked_fill(m, 1.5).tolist() == [1, 1, 1, 3]
    assert mt.ones(4, dtype=mt.bool).masked_fill(m, 0).tolist() == [False, True, False, True]
    assert mt.arange(4).masked_fill(m, 2 ** 40).tolist() == [2 ** 40, 1, 2 ** 40, 3]
    r = mt.zeros(4).masked_fill(m, float("nan")).numpy()
    assert np.isnan(r[0]) and r[1] == 0
    assert mt.zeros(4).masked_fill(m, float("inf")).tolist()[0] == float("inf")
    assert mt.zeros(2, 2).masked_fill(mt.tensor(True), mt.tensor(2.0)).tolist() == [[2.0, 2.0], [2.0, 2.0]]


def test_masked_fill_gradcheck():
    rng = np.random.default_rng(7)
    x = dbl((3, 4), rng)
    m = mt.tensor(rng.integers(0, 2, size=(3, 4)).astype(bool))
    assert gradcheck(lambda x: x.masked_fill(m, 2.0), (x,))
    assert gradcheck(lambda x: x.masked_fill(mt.tensor([[[True, False, False, True]], [[False] * 4]]), 0.0), (x,))
    assert gradcheck(lambda x: (x * 1).masked_fill_(m, -1.0), (x,))


# ---------------------------------------------------------------- bounds: errors, never memory
@pytest.mark.parametrize("bad", [3, -1, 2 ** 62, -(2 ** 62), 2 ** 63 - 1, -(2 ** 63)])
def test_out_of_range_indices_raise(bad):
    x = mt.arange(12.0).view(3, 4)
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_select(0, mt.tensor([0, bad]))
    with pytest.raises(RuntimeError, match=f"index {bad} is out of bounds for dimension 0 with size 3"):
        mt.gather(x, 0, mt.tensor([[0, bad]]))
    with pytest.raises(RuntimeError, match=f"index {bad} is out of bounds for dimension 0 with size 3"):
        x.scatter(0, mt.tensor([[0, bad]]), mt.ones(1, 2))
    with pytest.raises(RuntimeError, match=f"index {bad} is out of bounds for dimension 0 with size 3"):
        x.scatter_add(0, mt.tensor([[0, bad]]), mt.ones(1, 2))
    # a failing in-place scatter leaves the tensor as it was
    with pytest.raises(RuntimeError):
        x.scatter_(0, mt.tensor([[0, bad]]), 100.0)
    assert x.tolist() == np.arange(12.0).reshape(3, 4).tolist()


def test_int32_index_out_of_range():
    x = mt.arange(12.0).view(3, 4)
    with pytest.raises(RuntimeError, match="index -5 is out of bounds for dimension 1 with size 4"):
        mt.gather(x, 1, mt.tensor([[-5]], dtype=mt.int32))
    with pytest.raises(IndexError):
        x.index_select(1, mt.tensor([4], dtype=mt.int32))


def err(fn):
    with pytest.raises(Exception) as ei:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    return ei.type, str(ei.value)


def _x(L):
    return L.arange(12.0).view(3, 4)


ERROR_CASES = {
    "is_oob0": lambda L: _x(L).index_select(0, L.tensor([5])),
    "is_neg": lambda L: _x(L).index_select(0, L.tensor([-1])),
    "is_dtype": lambda L: _x(L).index_select(0, L.tensor([0.0])),
    "is_bool_dtype": lambda L: _x(L).index_select(0, L.tensor([True])),
    "is_matrix_index": lambda L: _x(L).index_select(0, L.tensor([[0, 1]])),
    "is_dim": lambda L: _x(L).index_select(2, L.tensor([0])),
    "is_scalar_many": lambda L: L.tensor(5.0).index_select(0, L.tensor([0, 0])),
    "is_scalar_oob": lambda L: L.tensor(5.0).index_select(0, L.tensor([1])),
    "is_empty_dim": lambda L: L.zeros(0, 3).index_select(0, L.tensor([0])),
    "g_oob": lambda L: L.gather(_x(L), 0, L.tensor([[5]])),
    "g_oob1": lambda L: L.gather(_x(L), 1, L.tensor([[5]])),
    "g_neg": lambda L: L.gather(_x(L), 0, L.tensor([[-1]])),
    "g_dtype": lambda L: L.gather(_x(L), 0, L.tensor([[0.0]])),
    "g_ndim": lambda L: L.gather(_x(L), 0, L.tensor([0])),
    "g_size": lambda L: L.gather(_x(L), 0, L.tensor([[0, 0, 0, 0, 0]])),
    "g_size1": lambda L: L.gather(_x(L), 1, L.tensor([[0], [0], [0], [0]])),
    "g_dim": lambda L: L.gather(_x(L), 2, L.tensor([[0]])),
    "g_scalar_oob": lambda L: L.gather(L.tensor(3.0), 0, L.tensor(1)),
    "g_empty_self": lambda L: L.gather(L.zeros(0, 4), 0, L.zeros(1, 4, dtype=L.int64)),
    "s_oob": lambda L: _x(L).scatter(0, L.tensor([[0, 1, 2, 5]]), 2.5),
    "s_neg1": lambda L: _x(L).scatter(1, L.tensor([[0, 1, 2, -1]]), 2.5),
    "s_dtype_index": lambda L: _x(L).scatter(0, L.tensor([[0.0]]), 1.0),
    "s_dtype_src": lambda L: _x(L).scatter(0, L.tensor([[0, 1, 2, 0]]), L.ones(1, 4, dtype=L.float64)),
    "sa_dtype_src": lambda L: _x(L).scatter_add(0, L.tensor([[0, 1, 2, 0]]), L.ones(1, 4, dtype=L.float64)),
    "s_src_small": lambda L: _x(L).scatter(0, L.tensor([[0, 1, 2, 0]]), L.ones(1, 3)),
    "s_self_small": lambda L: _x(L).scatter(0, L.tensor([[0, 1, 2, 0, 1]]), L.ones(2, 5)),
    "s_self_small_value": lambda L: _x(L).scatter(0, L.tensor([[0] * 5]), 1.0),
    "s_ndim": lambda L: _x(L).scatter(0, L.tensor([0, 1, 2, 0]), L.ones(4)),
    "s_src_ndim": lambda L: _x(L).scatter(0, L.tensor([[0] * 4]), L.ones(1, 4, 1)),
    "s_src_ndim1": lambda L: L.zeros(3).scatter(0, L.tensor([0, 1]), L.ones(5, 3)),
    "s_src_0d": lambda L: L.zeros(3).scatter(0, L.tensor([0, 1]), L.ones(())),
    "s_dim": lambda L: _x(L).scatter(2, L.tensor([[0]]), 1.0),
    "s_dim_before_dtype": lambda L: _x(L).scatter(2, L.tensor([[0] * 5]), L.ones(1, 3, dtype=L.float64)),
    "s_index_before_src": lambda L: _x(L).scatter(0, L.tensor([[0] * 5]).float(), L.ones(1, 3, dtype=L.float64)),
    "s_overflow": lambda L: L.zeros(3, dtype=L.int32).scatter(0, L.tensor([0]), 2 ** 31),
    "s_overflow_float": lambda L: L.zeros(3, dtype=L.int32).scatter(0, L.tensor([0]), 1e10),
    "s_leaf_inplace": lambda L: L.zeros(3, 4, requires_grad=True).scatter_(0, L.tensor([[0]]), 3.0),
    "sa_oob": lambda L: _x(L).scatter_add(0, L.tensor([[0, 1, 2, 7]]), L.ones(1, 4)),
    "sa_bool_src": lambda L: _x(L).scatter_add(0, L.tensor([[1, 1]]), L.ones(2, 2, dtype=L.bool)),
    "mf_int_mask": lambda L: _x(L).masked_fill((_x(L) > 0).int(), 0.0),
    "mf_long_mask": lambda L: _x(L).masked_fill((_x(L) > 0).long(), 0.0),
    "mf_float_mask": lambda L: _x(L).masked_fill((_x(L) > 0).float(), 0.0),
    "mf_double_mask": lambda L: _x(L).masked_fill((_x(L) > 0).double(), 0.0),
    "mf_broadcast": lambda L: _x(L).masked_fill(L.tensor([True, False, True]), 1.0),
    "mf_inplace_broadcast": lambda L: _x(L).masked_fill_(L.tensor([True, False, True]), 1.0),
    "mf_inplace_grow": lambda L: _x(L).masked_fill_(L.ones(2, 3, 4, dtype=L.bool), 1.0),
    "mf_value_1d": lambda L: _x(L).masked_fill(_x(L) > 0, L.tensor([2.0])),
    "mf_int_inf": lambda L: L.arange(4).masked_fill(L.tensor([True, False, True, False]), float("inf")),
    "mf_int_nan": lambda L: L.arange(4).int().masked_fill(L.tensor([True, False, True, False]), float("nan")),
    "mf_int32_big": lambda L: L.arange(4).int().masked_fill(L.tensor([True, False, True, False]), 2 ** 40),
    "mf_int32_2p31": lambda L: L.arange(4).int().masked_fill(L.tensor([True, False, True, False]), 2 ** 31),
    "mf_float_big": lambda L: L.zeros(3).masked_fill(L.ones(3, dtype=L.bool), 1e300),
    "mf_leaf_inplace": lambda L: L.zeros(3, requires_grad=True).masked_fill_(L.ones(3, dtype=L.bool), 1.0),
}

EXPECTED = {  # what torch 2.13 raises (checked by test_errors_match_torch when torch is installed)
    "is_oob0": (IndexError, "index out of range in self"),
    "is_dtype": (RuntimeError, "index_select(): Expected dtype int32 or int64 for index"),
    "g_oob": (RuntimeError, "index 5 is out of bounds for dimension 0 with size 3"),
    "g_dtype": (RuntimeError, "gather(): Expected dtype int32/int64 for index"),
    "s_oob": (RuntimeError, "index 5 is out of bounds for dimension 0 with size 3"),
    "s_dtype_src": (RuntimeError, "scatter(): Expected self.dtype to be equal to src.dtype"),
    "mf_int_mask": (RuntimeError, "masked_fill_ only supports boolean masks, but got mask with dtype int"),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_errors(name):
    typ, msg = err(lambda: ERROR_CASES[name](mt))
    assert typ is EXPECTED[name][0]
    assert msg == EXPECTED[name][1]


# checked by the Python binding (csrc/python/methods.c), which turns any value tensor into a number
BINDING_GAPS = {"mf_value_1d"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(reason="binding: masked_fill value tensor "
                                                                            "must be 0-d")) if n in BINDING_GAPS else n
                                  for n in ERROR_CASES])
def test_errors_match_torch(name):
    torch = pytest.importorskip("torch")
    want = err(lambda: ERROR_CASES[name](torch))
    got = err(lambda: ERROR_CASES[name](mt))
    assert got[0] is want[0], (got, want)
    assert got[1] == want[1].split("\n")[0]


# ---------------------------------------------------------------- against PyTorch
def run_both(fn, *arrays):
    torch = pytest.importorskip("torch")
    res = []
    for L in (mt, torch):
        ins = [L.tensor(a, requires_grad=True) for a in arrays]
        out = fn(L, *ins)
        g = np.random.default_rng(99).standard_normal(tuple(out.shape))
        out.backward(L.tensor(g))
        res.append((out.grad_fn.name(), out.detach().numpy(),
                    [i.grad.numpy() if i.grad is not None else None for i in ins]))
    (mn, mv, mg), (tn, tv, tg) = res
    assert mn == tn
    np.testing.assert_allclose(mv, tv, rtol=1e-12, atol=1e-12)
    for a, b in zip(mg, tg):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


CASES = {
    "index_select0": (lambda L, x: x.index_select(0, L.tensor([2, 0, 2])), [(3, 4)]),
    "index_select1": (lambda L, x: x.index_select(1, L.tensor([3, 3, 1], dtype=L.int32)), [(3, 4)]),
    "index_select_t": (lambda L, x: x.t().index_select(1, L.tensor([0, 0])), [(3, 4)]),
    "gather": (lambda L, x: L.gather(x, 1, L.tensor([[0, 0], [3, 1], [2, 2]])), [(3, 4)]),
    "gather0": (lambda L, x: x.gather(0, L.tensor([[2, 2, 2, 0]])), [(3, 4)]),
    "scatter": (lambda L, x, s: x.scatter(0, L.tensor([[0, 1, 2, 0]]), s), [(3, 4), (1, 4)]),
    "scatter_big_src": (lambda L, x, s: x.scatter(1, L.tensor([[0, 3], [1, 2]]), s[:2, :2]), [(3, 4), (2, 3)]),
    "scatter_value": (lambda L, x: x.scatter(1, L.tensor([[0], [3], [2]]), -2.0), [(3, 4)]),
    "scatter_add": (lambda L, x, s: x.scatter_add(0, L.tensor([[0, 0, 2, 0], [0, 1, 1, 1]]), s), [(3, 4), (2, 4)]),
    "scatter_inplace": (lambda L, x, s: (x * 2).scatter_(0, L.tensor([[1, 1, 1, 1]]), s), [(3, 4), (1, 4)]),
    "scatter_add_inplace": (lambda L, x, s: (x * 2).scatter_add_(1, L.tensor([[1], [1], [0]]), s), [(3, 4), (3, 1)]),
    "masked_fill": (lambda L, x: x.masked_fill(L.tensor([True, False, False, True]), 0.5), [(3, 4)]),
    "masked_fill_grow": (lambda L, x: x.masked_fill(L.tensor([[[True], [False], [True]]] * 2), 0.5), [(3, 4)]),
    "masked_fill_inplace": (lambda L, x: (x + 0).masked_fill_(L.tensor([True, False, False, True]), 0.5), [(3, 4)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_against_torch(name):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(8)
    run_both(fn, *[rng.standard_normal(s) for s in shapes])


def test_against_torch_integer_values():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    x = rng.integers(-9, 9, size=(4, 6))
    idx = rng.integers(0, 4, size=(5, 6))
    for L in (mt, torch):
        r = [L.tensor(x).gather(0, L.tensor(idx)).numpy(),
             L.tensor(x).scatter_add(0, L.tensor(idx), L.tensor(x[:4].repeat(2, 0)[:5])).numpy(),
             L.tensor(x, dtype=L.int32).index_select(1, L.tensor([5, 0])).numpy()]
        if L is mt:
            got = r
        else:
            want = r
    for a, b in zip(got, want):
        same(a, b)


def test_large_gather_scatter_add_parallel_paths():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((300, 400)).astype(np.float32)
    idx = rng.integers(0, 300, size=(250, 400))
    same(mt.gather(mt.tensor(x), 0, mt.tensor(idx)).numpy(), np.take_along_axis(x, idx, axis=0))
    sel = rng.integers(0, 400, size=500)
    same(mt.tensor(x).index_select(1, mt.tensor(sel)).numpy(), np.take(x, sel, axis=1))
    acc = np.zeros((300, 400), np.float64)
    src = rng.standard_normal((250, 400))
    np.add.at(acc, (idx, np.arange(400)[None, :].repeat(250, 0)), src)
    got = mt.zeros(300, 400, dtype=mt.float64).scatter_add(0, mt.tensor(idx), mt.tensor(src)).numpy()
    np.testing.assert_allclose(got, acc, rtol=1e-12, atol=1e-12)
    # index_select's backward: index_add of the gradient into zeros
    t = mt.tensor(x.astype(np.float64), requires_grad=True)
    t.index_select(1, mt.tensor(sel)).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.broadcast_to(np.bincount(sel, minlength=400), (300, 400)))

"""Tensor creation, dtype inference, NumPy interop, factories vs torch, random ops and seeding,
Python conversions, repr vs torch, and huge allocations."""
import math

import numpy as np
import pytest

import minitorch as mt


def N(t):
    return t.detach().numpy()


def same(got, want):
    """values, shape and dtype equal to a torch tensor"""
    assert str(got.dtype) == str(want.dtype), (got.dtype, want.dtype)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(N(got).astype(np.float64), want.numpy().astype(np.float64), rtol=1e-6, atol=1e-7)


DATA = [
    1, 2.5, True, -3, [1, 2, 3], [1.0, 2, 3], [True, False], [[1, 2], [3, 4]], [[1, 2.5]], [True, 2],
    [False, 1.5], [], [[]], [[[1]], [[2]]], (1, 2), [(1.0, 2.0), (3.0, 4.0)], 0.0, [1e20, -1e-20],
    np.float64(2.0), np.int32(3), [np.float32(1.5), 2], np.array([1.0, 2.0]), np.array([1, 2], dtype=np.int32),
    np.array([[True]]), np.array(3.5, dtype=np.float32), np.arange(6, dtype=np.int64).reshape(2, 3),
    [mt.tensor(1.0), mt.tensor(2.0)] if False else [1, 2],
]


@pytest.mark.parametrize("i", range(len(DATA)))
def test_tensor_dtype_inference_vs_torch(i):
    torch = pytest.importorskip("torch")
    d = DATA[i]
    want = torch.tensor(d)
    got = mt.tensor(d)
    same(got, want)


def test_tensor_explicit_dtype_and_list_of_tensors():
    torch = pytest.importorskip("torch")
    same(mt.tensor([1, 2], dtype=mt.float64), torch.tensor([1, 2], dtype=torch.float64))
    same(mt.tensor([1.7, -1.7], dtype=mt.int32), torch.tensor([1.7, -1.7], dtype=torch.int32))
    same(mt.tensor([0, 2], dtype=mt.bool), torch.tensor([0, 2], dtype=torch.bool))
    same(mt.tensor(np.array([1.5]), dtype=mt.float32), torch.tensor(np.array([1.5]), dtype=torch.float32))
    same(mt.tensor([mt.tensor(1.0), mt.tensor(2.0)]), torch.tensor([torch.tensor(1.0), torch.tensor(2.0)]))
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    assert x.requires_grad and x.is_leaf
    with pytest.raises(RuntimeError):
        mt.tensor([1, 2], requires_grad=True)  # only floating point tensors can require gradients
    # tensor() copies its data
    a = np.array([1.0, 2.0])
    t = mt.tensor(a)
    a[0] = 100
    assert t[0].item() == 1.0


@pytest.mark.parametrize("bad", [[[1, 2], [3]], [[1], 2], [[[1, 2]], [[1]]], [1, [2]]])
def test_ragged_raises_like_torch(bad):
    """ragged lists raise ValueError; a list mixing sequences and scalars raises what torch raises"""
    torch = pytest.importorskip("torch")
    with pytest.raises((ValueError, TypeError)) as te:
        torch.tensor(bad)
    with pytest.raises(te.type):
        mt.tensor(bad)


def test_unsupported_numpy_dtypes_raise_unless_a_dtype_is_given():
    # minitorch has no uint16/uint32/uint64: inferring one is a TypeError, never a silent widening
    for a in (np.array([1, 2], dtype=np.uint16), np.array([1, 200], dtype=np.uint32), np.array([1], dtype=np.uint64)):
        with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy"):
            mt.tensor(a)
    # the narrow dtypes minitorch has are kept
    for a, d in ((np.array([1, -2], dtype=np.int16), mt.int16), (np.array([1, 200], dtype=np.uint8), mt.uint8),
                 (np.array([1.5], dtype=np.float16), mt.float16), (np.array([-3], dtype=np.int8), mt.int8)):
        t = mt.tensor(a)
        assert t.dtype is d
        np.testing.assert_array_equal(t.numpy(), a)
        assert t.numpy().dtype == a.dtype
    # an explicit dtype converts, values kept (as torch.tensor(a, dtype=...) does)
    np.testing.assert_array_equal(N(mt.tensor(np.array([1, -2], dtype=np.int16), dtype=mt.int64)), [1, -2])
    np.testing.assert_array_equal(N(mt.tensor(np.array([1, 200], dtype=np.uint8), dtype=mt.int32)), [1, 200])
    np.testing.assert_array_equal(N(mt.tensor(np.array([1.5], dtype=np.float16), dtype=mt.float32)), [1.5])


def test_from_numpy_and_numpy_share_memory():
    a = np.arange(6.0).reshape(2, 3)
    t = mt.from_numpy(a)
    assert t.dtype == mt.float64
    a[0, 0] = 42.0
    assert t[0, 0].item() == 42.0
    t[1, 2] = -1.0
    assert a[1, 2] == -1.0
    n = t.numpy()
    assert np.shares_memory(n, a)
    x = mt.zeros(3)
    xn = x.numpy()
    xn[1] = 5
    assert x[1].item() == 5.0
    assert np.shares_memory(x.numpy(), x.numpy())
    # numpy() of a view is a strided view of the same memory
    y = mt.tensor(np.arange(12.0).reshape(3, 4))
    yt = y.t().numpy()
    np.testing.assert_array_equal(yt, np.arange(12.0).reshape(3, 4).T)
    assert np.shares_memory(yt, y.numpy())
    with pytest.raises(RuntimeError):
        mt.tensor([1.0], requires_grad=True).numpy()
    i32 = mt.from_numpy(np.array([1, 2], dtype=np.int32))
    assert i32.dtype == mt.int32
    b = mt.from_numpy(np.array([True]))
    assert b.dtype == mt.bool
    nc = np.arange(10.0)[::2]
    tn = mt.from_numpy(nc)
    np.testing.assert_array_equal(N(tn), nc)
    nc[1] = -7
    assert tn[1].item() == -7


def test_zeros_ones_full_empty_like():
    torch = pytest.importorskip("torch")
    same(mt.zeros(2, 3), torch.zeros(2, 3))
    same(mt.zeros((2, 3), dtype=mt.int64), torch.zeros((2, 3), dtype=torch.int64))
    same(mt.ones([4]), torch.ones([4]))
    same(mt.ones(2, dtype=mt.bool), torch.ones(2, dtype=torch.bool))
    same(mt.full((2, 2), 7), torch.full((2, 2), 7))
    same(mt.full((2, 2), 7.5), torch.full((2, 2), 7.5))
    same(mt.full((2,), True), torch.full((2,), True))
    same(mt.zeros(()), torch.zeros(()))
    same(mt.zeros(0, 3), torch.zeros(0, 3))
    e = mt.empty(3, 4)
    assert tuple(e.shape) == (3, 4) and e.dtype == mt.float32
    src = mt.tensor([[1, 2, 3]])
    tsrc = torch.tensor([[1, 2, 3]])
    same(mt.zeros_like(src), torch.zeros_like(tsrc))
    same(mt.ones_like(src, dtype=mt.float64), torch.ones_like(tsrc, dtype=torch.float64))
    same(mt.full_like(src, 4), torch.full_like(tsrc, 4))
    same(mt.full_like(src, 4.7), torch.full_like(tsrc, 4.7))
    el = mt.empty_like(src)
    assert tuple(el.shape) == (1, 3) and el.dtype == mt.int64
    assert mt.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError):
        mt.zeros(-1)


ARANGE = [(5,), (2, 7), (0, 1, 0.1), (1, 2.5, 0.5), (10, 0, -3), (0.0, 1.0, 0.3), (5.0,), (-3, 3, 2), (0, 0),
          (1, 0.99, 0.001) if False else (0, 10, 3)]


@pytest.mark.parametrize("args", ARANGE)
def test_arange_vs_torch(args):
    torch = pytest.importorskip("torch")
    same(mt.arange(*args), torch.arange(*args))
    same(mt.arange(*args, dtype=mt.float64), torch.arange(*args, dtype=torch.float64))


def test_arange_errors():
    with pytest.raises(RuntimeError):
        mt.arange(0, 10, 0)
    with pytest.raises(RuntimeError):
        mt.arange(10, 0, 1)


@pytest.mark.parametrize("args", [(0, 1, 5), (-1, 1, 1), (2, 2, 3), (0, 10, 0), (1.5, -2.5, 7), (0, 1, 2)])
def test_linspace_vs_torch(args):
    torch = pytest.importorskip("torch")
    same(mt.linspace(*args), torch.linspace(*args))
    same(mt.linspace(*args, dtype=mt.float64), torch.linspace(*args, dtype=torch.float64))


def test_eye_vs_torch():
    torch = pytest.importorskip("torch")
    same(mt.eye(3), torch.eye(3))
    same(mt.eye(2, 4), torch.eye(2, 4))
    same(mt.eye(4, 2, dtype=mt.int64), torch.eye(4, 2, dtype=torch.int64))
    same(mt.eye(0), torch.eye(0))
    same(mt.eye(2, dtype=mt.bool), torch.eye(2, dtype=torch.bool))


def test_random_ranges_and_seed():
    mt.manual_seed(123)
    r = N(mt.rand(2000))
    assert r.dtype == np.float32 and r.min() >= 0 and r.max() < 1
    assert 0.45 < r.mean() < 0.55
    n = N(mt.randn(4000, dtype=mt.float64))
    assert n.dtype == np.float64 and abs(n.mean()) < 0.1 and 0.9 < n.std() < 1.1
    i = N(mt.randint(3, 10, (3000,)))
    assert i.dtype == np.int64 and i.min() == 3 and i.max() == 9
    i2 = N(mt.randint(5, (100,)))
    assert i2.min() >= 0 and i2.max() < 5
    p = N(mt.randperm(50))
    assert p.dtype == np.int64
    np.testing.assert_array_equal(np.sort(p), np.arange(50))
    mt.manual_seed(7)
    a = [N(mt.rand(5)), N(mt.randn(3, 2)), N(mt.randint(0, 100, (6,))), N(mt.randperm(9))]
    mt.manual_seed(7)
    b = [N(mt.rand(5)), N(mt.randn(3, 2)), N(mt.randint(0, 100, (6,))), N(mt.randperm(9))]
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    c = N(mt.rand(5))
    assert not np.array_equal(a[0], c)
    st = mt.get_rng_state()
    x1 = N(mt.randn(4))
    mt.set_rng_state(st)
    np.testing.assert_array_equal(x1, N(mt.randn(4)))
    assert mt.randn(2, 3).shape == (2, 3)
    assert mt.rand_like(mt.zeros(2, dtype=mt.float64)).dtype == mt.float64


def test_python_conversions():
    torch = pytest.importorskip("torch")
    assert mt.tensor(3.5).item() == 3.5 and isinstance(mt.tensor(3.5).item(), float)
    assert mt.tensor([7]).item() == 7 and isinstance(mt.tensor([7]).item(), int)
    assert mt.tensor(True).item() is True
    with pytest.raises(RuntimeError):
        mt.tensor([1, 2]).item()
    for v in ([[1, 2], [3, 4]], [1.5, -2.0], [True, False], 3, 2.5, [[]]):
        assert mt.tensor(v).tolist() == torch.tensor(v).tolist()
    assert mt.tensor([[1.0, 2.0]]).t().tolist() == [[1.0], [2.0]]
    assert len(mt.zeros(4, 2)) == 4
    with pytest.raises(TypeError):
        len(mt.tensor(1.0))
    rows = list(mt.tensor([[1, 2], [3, 4]]))
    assert [r.tolist() for r in rows] == [[1, 2], [3, 4]]
    with pytest.raises(TypeError):
        iter(mt.tensor(1.0))
    assert bool(mt.tensor([1.0])) is True and bool(mt.tensor(0)) is False
    with pytest.raises(RuntimeError):
        bool(mt.tensor([1, 2]))
    assert float(mt.tensor([2.5])) == 2.5 and int(mt.tensor(2.9)) == 2 and int(mt.tensor(-2.9)) == -2
    assert float(mt.tensor(3)) == 3.0
    assert mt.tensor(5)[None].tolist() == [5]
    assert f"{mt.tensor(2.5):.2f}" == "2.50"
    assert [0, 1, 2][mt.tensor(1)] == 1  # __index__


REPR_VALUES = [
    1.0, 0.0, -0.0, 1.5, 123456.0, 1e-5, 1e10, [1.0, 2.0, 3.0], [1.5, -2.25], [0.1, 100.0], [1e-8, 1.0],
    [1e8, 1.0], [[1.0, 2.0], [3.0, 4.0]], [float("nan"), 1.0], [float("inf"), -float("inf"), 1.0],
    [1, 2, 3], [-100, 5], 7, [True, False], True, [], [[]], [[[1.0, 2.0]], [[3.0, 4.0]]], [0.001, 0.002],
    [123.456, 0.5], list(range(1200)), [float(x) / 7 for x in range(20)], [1e-4, 1e4], [2.0 ** 40],
]


@pytest.mark.parametrize("i", range(len(REPR_VALUES)))
@pytest.mark.parametrize("dtype", [None, "float64", "int32"])
def test_repr_matches_torch(i, dtype):
    torch = pytest.importorskip("torch")
    v = REPR_VALUES[i]
    tt = torch.tensor(v)
    if dtype is not None:
        if dtype == "int32" and tt.dtype.is_floating_point and not torch.isfinite(tt).all():
            return
        tt = tt.to(getattr(torch, dtype))
    mtt = mt.tensor(tt.numpy())
    assert repr(mtt) == repr(tt)
    assert str(mtt) == str(tt)


def test_repr_grad_suffixes():
    torch = pytest.importorskip("torch")
    a = [1.0, 2.0]
    x, tx = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    assert repr(x) == repr(tx)
    assert repr(x * 2) == repr(tx * 2)
    assert repr((x * 2).sum()) == repr((tx * 2).sum())
    assert repr(x.exp()) == repr(tx.exp())
    assert repr(x.detach()) == repr(tx.detach())
    b = [[1.0, 2.0]]
    y, ty = mt.tensor(b, dtype=mt.float64, requires_grad=True), torch.tensor(b, dtype=torch.float64,
                                                                            requires_grad=True)
    assert repr(y.t()) == repr(ty.t())
    assert repr(mt.zeros(0, 3)) == repr(torch.zeros(0, 3))
    assert repr(mt.zeros(2, 0, dtype=mt.int64)) == repr(torch.zeros(2, 0, dtype=torch.int64))


def test_huge_allocation_raises():
    with pytest.raises(RuntimeError):
        mt.empty(2 ** 40, 2 ** 20)
    with pytest.raises(RuntimeError):
        mt.zeros(2 ** 62, 4)
    with pytest.raises(RuntimeError):
        mt.empty(2 ** 31, 2 ** 31, 2 ** 31)
    assert mt.ones(3).sum().item() == 3.0  # still usable


def test_factories_need_a_size_and_take_size_keyword_as_torch():
    torch = pytest.importorskip("torch")
    for name in ("zeros", "ones", "empty", "rand", "randn"):
        for lib in (mt, torch):
            with pytest.raises(TypeError):
                getattr(lib, name)()
            assert tuple(getattr(lib, name)(size=(2, 3)).shape) == (2, 3)
            assert tuple(getattr(lib, name)(()).shape) == ()
            with pytest.raises(TypeError):
                getattr(lib, name)(2, size=(2,))
    assert mt.full((), 3.0).item() == 3.0 and tuple(mt.full([2, 1], True).shape) == (2, 1)
    for lib in (mt, torch):
        with pytest.raises(TypeError, match="must be tuple of ints, not int"):
            lib.full(3, 2.0)

"""minitorch.isclose / allclose and minitorch.testing (assert_close, make_tensor) against PyTorch:
values, dtype rules, errors, and assert_close's messages word for word."""
import math

import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

NAN, INF = math.nan, math.inf


def both(lib, values, dtype="float32"):
    return lib.tensor(values, dtype=getattr(lib, dtype))


ISCLOSE = [
    ([1., NAN, INF, -INF, 1., 0., 1e-9], [1.00001, NAN, INF, INF, 2., 1e-8, 0.], "float32", {}),
    ([1., NAN, INF, 1.], [1.0000001, NAN, INF, 1.1], "float64", {"equal_nan": True}),
    ([1., 2., 3.], [1.1, 2.5, 3.], "float64", {"rtol": 0.1, "atol": 0.0}),
    ([1., 2., 3.], [1.1, 2.5, 3.], "float64", {"rtol": 0.0, "atol": 0.2}),
    ([1., 2., 3.], [1.1, 2.5, 3.], "float32", {"rtol": 0.0, "atol": 0.0}),
    ([1, 2, 3], [1, 3, 5], "int64", {"rtol": 0.5, "atol": 0}),
    ([1, 2, 3], [1, 3, 5], "int64", {"rtol": 0, "atol": 0}),
    ([1, 2, 3], [1, 3, 5], "int32", {"atol": 1}),
    ([True, False], [True, True], "bool", {}),
]


@pytest.mark.parametrize("k", range(len(ISCLOSE)))
def test_isclose_allclose_against_torch(k):
    a, b, dtype, kw = ISCLOSE[k]
    t = torch.isclose(both(torch, a, dtype), both(torch, b, dtype), **kw)
    m = mt.isclose(both(mt, a, dtype), both(mt, b, dtype), **kw)
    assert m.dtype == mt.bool
    assert m.tolist() == t.tolist()
    assert mt.allclose(both(mt, a, dtype), both(mt, b, dtype), **kw) == \
        torch.allclose(both(torch, a, dtype), both(torch, b, dtype), **kw)
    # the Tensor methods
    assert both(mt, a, dtype).isclose(both(mt, b, dtype), **kw).tolist() == t.tolist()
    assert both(mt, a, dtype).allclose(both(mt, b, dtype), **kw) == bool(t.all())


def test_isclose_broadcasts_and_random_values():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 1, 5))
    b = a + rng.standard_normal((3, 5)) * 1e-5
    for rtol, atol in ((1e-5, 1e-8), (1e-3, 0.0), (0.0, 1e-5)):
        t = torch.isclose(torch.tensor(a), torch.tensor(b), rtol, atol)
        m = mt.isclose(mt.tensor(a), mt.tensor(b), rtol, atol)
        assert m.shape == t.shape and m.tolist() == t.tolist()


ERRORS = [
    lambda lib: lib.isclose(lib.ones(2), lib.ones(2, dtype=lib.float64)),
    lambda lib: lib.isclose(lib.ones(2), lib.ones(2), rtol=-1),
    lambda lib: lib.isclose(lib.ones(2), lib.ones(2), atol=-1),
    lambda lib: lib.isclose(lib.ones(2), lib.ones(2), rtol=float("nan")),
    lambda lib: lib.allclose(lib.ones(2), lib.ones(3)),
    lambda lib: lib.testing.assert_close(lib.ones(2), lib.ones(2), rtol=1e-3),
    lambda lib: lib.testing.assert_close(lib.ones(2), lib.ones(2), atol=1e-3),
    lambda lib: lib.testing.make_tensor(3, dtype=lib.float32, device="cpu", low=2, high=1),
    lambda lib: lib.testing.make_tensor(3, dtype=lib.float32, device="cpu", low=float("nan")),
    lambda lib: lib.testing.make_tensor(3, dtype=lib.int64, device="cpu", low=5, high=5),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_as_torch(k):
    with pytest.raises(Exception) as te:
        ERRORS[k](torch)
    with pytest.raises(Exception) as me:
        ERRORS[k](mt)
    assert type(me.value).__name__ == type(te.value).__name__
    assert str(me.value) == str(te.value)


def test_isclose_needs_tensors():
    with pytest.raises(TypeError, match="must be Tensor, not float"):
        mt.isclose(mt.ones(2), 1.0)


ASSERT_CLOSE = [
    lambda lib: lib.testing.assert_close(lib.tensor([1., 2., 3.]), lib.tensor([1., 2.1, 3.])),
    lambda lib: lib.testing.assert_close(lib.tensor([1., 2., 3.], dtype=lib.float64),
                                         lib.tensor([1., 2.1, 3.5], dtype=lib.float64)),
    lambda lib: lib.testing.assert_close(lib.tensor([[1, 2], [3, 4]]), lib.tensor([[1, 2], [3, 5]])),
    lambda lib: lib.testing.assert_close(lib.tensor(1.), lib.tensor(2.)),
    lambda lib: lib.testing.assert_close(1.0, 1.1),
    lambda lib: lib.testing.assert_close(1, 2),
    lambda lib: lib.testing.assert_close(1.0, 1),
    lambda lib: lib.testing.assert_close(True, False),
    lambda lib: lib.testing.assert_close(lib.ones(2), lib.ones(3)),
    lambda lib: lib.testing.assert_close(lib.ones(2), lib.ones(2, dtype=lib.float64)),
    lambda lib: lib.testing.assert_close(lib.ones(2), lib.ones(2, dtype=lib.float64), check_dtype=False),
    lambda lib: lib.testing.assert_close(lib.tensor([1, 2]), lib.tensor([1., 2.5]), check_dtype=False),
    lambda lib: lib.testing.assert_close(lib.ones(2), lib.ones(2) * 1.1, msg="custom"),
    lambda lib: lib.testing.assert_close(lib.ones(2), lib.ones(2) * 1.1, msg=lambda m: "X" + m),
    lambda lib: lib.testing.assert_close(lib.tensor([NAN]), lib.tensor([NAN])),
    lambda lib: lib.testing.assert_close(lib.tensor([NAN]), lib.tensor([NAN]), equal_nan=True),
    lambda lib: lib.testing.assert_close(lib.tensor([1., INF]), lib.tensor([1., INF])),
    lambda lib: lib.testing.assert_close(lib.tensor([1., INF]), lib.tensor([1., -INF])),
    lambda lib: lib.testing.assert_close(lib.tensor([0., 0.]), lib.tensor([1., 0.])),
    lambda lib: lib.testing.assert_close(lib.tensor([0., 2., 3., 4.]), lib.tensor([1e-9, 2., 3., 4.])),
    lambda lib: lib.testing.assert_close(lib.tensor([1., 2.]), lib.tensor([1.5, 2.]), rtol=0.5, atol=0.),
    lambda lib: lib.testing.assert_close(lib.tensor([1., 2.]), lib.tensor([1.5, 2.]), rtol=0.1, atol=0.1),
    lambda lib: lib.testing.assert_close(lib.tensor([True, False]), lib.tensor([True, True])),
    lambda lib: lib.testing.assert_close([lib.ones(2)], [lib.ones(2), lib.ones(2)]),
    lambda lib: lib.testing.assert_close([lib.ones(2), lib.zeros(2)], [lib.ones(2), lib.ones(2)]),
    lambda lib: lib.testing.assert_close({"a": lib.ones(2)}, {"a": lib.zeros(2)}),
    lambda lib: lib.testing.assert_close({"a": lib.ones(2)}, {"b": lib.zeros(2)}),
    lambda lib: lib.testing.assert_close((1.0, [lib.ones(2, 2)]), (1.0, [lib.eye(2)])),
    lambda lib: lib.testing.assert_close(lib.ones(2, 2), lib.ones(2, 2).t(), check_stride=True),
    lambda lib: lib.testing.assert_close(lib.tensor([]), lib.tensor([])),
    lambda lib: lib.testing.assert_close(lib.ones(2, requires_grad=True), lib.ones(2)),
    lambda lib: lib.testing.assert_close(lib.arange(12.).reshape(3, 4), lib.arange(12.).reshape(3, 4) * 1.0001),
    lambda lib: lib.testing.assert_close(np.ones(2), np.ones(2)),
    lambda lib: lib.testing.assert_close(np.ones(2), np.zeros(2)),
    lambda lib: lib.testing.assert_close(np.ones(2), np.ones(2, np.float32)),
    lambda lib: lib.testing.assert_close(np.float64(1.0), 1.0),
    lambda lib: lib.testing.assert_close(lib.ones(2), lib.nn.Parameter(lib.ones(2))),
    lambda lib: lib.testing.assert_close(lib.ones(2), lib.ones(2), check_device=False),
]


@pytest.mark.parametrize("k", range(len(ASSERT_CLOSE)))
def test_assert_close_messages_as_torch(k):
    def run(lib):
        try:
            ASSERT_CLOSE[k](lib)
        except Exception as e:  # noqa: BLE001  (compared below)
            return type(e).__name__, str(e)
        return None

    assert run(mt) == run(torch)


def test_assert_close_type_pairs():
    for a, b in ((mt.ones(2), 1.0), (1.0, mt.ones(2)), (mt.ones(2), [1., 1.]), ("a", "a"), (mt.ones(2), np.ones(2))):
        with pytest.raises(TypeError, match="No comparison pair was able to handle inputs of type"):
            mt.testing.assert_close(a, b)
    with pytest.raises(TypeError, match="No comparison pair"):
        mt.testing.assert_close(mt.ones(2), mt.nn.Parameter(mt.ones(2)), allow_subclasses=False)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool"])
def test_make_tensor(dtype):
    dt = getattr(mt, dtype)
    t = mt.testing.make_tensor(4, 5, dtype=dt, device="cpu")
    assert t.shape == (4, 5) and t.dtype == dt
    v = t.numpy()
    if dtype in ("float32", "float64"):
        assert v.min() >= -9 and v.max() < 9
        r = mt.testing.make_tensor((200,), dtype=dt, device="cpu", low=-1, high=1, requires_grad=True,
                                   noncontiguous=True, exclude_zero=True)
        assert r.requires_grad and not r.is_contiguous()
        assert (r.detach().numpy() != 0).all() and r.detach().numpy().min() >= -1 and r.detach().numpy().max() < 1
    elif dtype != "bool":
        assert v.min() >= -9 and v.max() <= 9
        r = mt.testing.make_tensor(200, dtype=dt, device="cpu", low=0, high=3, exclude_zero=True)
        assert set(np.unique(r.numpy())) <= {1, 2, 3}
    mt.manual_seed(3)
    a = mt.testing.make_tensor(3, dtype=dt, device="cpu")
    mt.manual_seed(3)
    assert mt.testing.make_tensor(3, dtype=dt, device="cpu").tolist() == a.tolist()

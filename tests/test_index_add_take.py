"""index_add / index_copy / index_fill (+ in-place), masked_scatter, take, put (minitorch/_index_ops.py) against
PyTorch: values for several dims and dtypes, gradients of self and source, and torch's errors for bad indices and
shapes."""
import re

import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")


def both(a, **kw):
    return mt.tensor(a, **kw), torch.tensor(a, **{k: getattr(torch, v.name) if k == "dtype" else v for k, v in kw.items()})


CASES = {
    "index_add": lambda l, x, s: x.index_add(1, l.tensor([0, 2, 0]), s, alpha=2),
    "index_add dim0": lambda l, x, s: x.index_add(0, l.tensor([1]), s.reshape(-1)[:4].reshape(1, 4)),
    "index_add_": lambda l, x, s: x.clone().index_add_(-1, l.tensor([3, 3, 1]), s),
    "index_copy": lambda l, x, s: x.index_copy(1, l.tensor([2, 0, 3]), s),
    "index_copy_": lambda l, x, s: x.clone().index_copy_(0, l.tensor([2]), s.reshape(-1)[:4].reshape(1, 4)),
    "index_fill": lambda l, x, s: x.index_fill(1, l.tensor([1, -1]), 5.0),
    "index_fill tensor": lambda l, x, s: x.index_fill(0, l.tensor([0]), l.tensor(-2.0)),
    "index_fill_": lambda l, x, s: x.clone().index_fill_(1, l.tensor([0]), 1.5),
    "masked_scatter": lambda l, x, s: x.masked_scatter(x > 0, s.reshape(-1).repeat(2)),
    "masked_scatter broadcast": lambda l, x, s: x.masked_scatter(l.tensor([True, False, True, False]), s.reshape(-1)),
    "masked_scatter_": lambda l, x, s: x.clone().masked_scatter_(x < 0, s.reshape(-1).repeat(2)),
    "take": lambda l, x, s: x.take(l.tensor([[0, 11], [-1, 5]])),
    "torch.take": lambda l, x, s: l.take(x, l.tensor([3, 3])),
    "put_": lambda l, x, s: x.clone().put_(l.tensor([1, 1, 4, -2]), s.reshape(-1)[:4], accumulate=True),
    "put": lambda l, x, s: x.put(l.tensor([0, 7]), s.reshape(-1)[:2]),
}


@pytest.mark.parametrize("name", CASES)
def test_values_and_gradients_match_torch(name):
    rng = np.random.default_rng(abs(hash(name)) % 2 ** 32)
    xv, sv = rng.standard_normal((3, 4)), rng.standard_normal((3, 3))
    res = []
    for lib in (mt, torch):
        x = lib.tensor(xv, requires_grad=True)
        s = lib.tensor(sv, requires_grad=True)
        out = CASES[name](lib, x, s)
        g = lib.tensor(rng.standard_normal(tuple(out.shape)) if lib is mt else res[0][2])
        out.backward(g)
        res.append((out.detach().numpy(), [t.grad.numpy() if t.grad is not None else None for t in (x, s)], g.numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    for a, b in zip(res[0][1], res[1][1]):
        if b is None:
            assert a is None or not np.any(a)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_integer_dtypes_and_gradcheck():
    for lib in (mt, torch):
        x = lib.zeros(2, 3, dtype=lib.int64)
        assert x.index_add(1, lib.tensor([0, 0]), lib.ones(2, 2, dtype=lib.int64)).tolist() == [[2, 0, 0], [2, 0, 0]]
    x = mt.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    s = mt.tensor(np.random.default_rng(1).standard_normal((3, 2)), requires_grad=True)
    assert mt.autograd.gradcheck(lambda a, b: a.index_add(1, mt.tensor([1, 1]), b), (x, s))


ERRORS = [
    lambda l: l.zeros(3, 4).index_add(1, l.tensor([-1]), l.ones(3, 1)),
    lambda l: l.zeros(3, 4).index_add(1, l.tensor([4]), l.ones(3, 1)),
    lambda l: l.zeros(3, 4).index_copy(1, l.tensor([-1]), l.ones(3, 1)),
    lambda l: l.zeros(3, 4).index_add(1, l.tensor([0.0]), l.ones(3, 1)),
    lambda l: l.zeros(3, 4).index_add(1, l.tensor([0]), l.ones(3, 2)),
    lambda l: l.zeros(3, 4).masked_scatter(l.ones(3, 4, dtype=l.bool), l.ones(5)),
    lambda l: l.arange(6.0).take(l.tensor([9])),
    lambda l: l.zeros(2, 3).put_(l.tensor([6]), l.tensor([1.0])),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_as_torch(k):
    with pytest.raises(Exception) as te:
        ERRORS[k](torch)
    with pytest.raises(type(te.value), match=re.escape(str(te.value).split("\n")[0])):
        ERRORS[k](mt)

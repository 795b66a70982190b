"""diagonal() is a view where its dims merge (writes reach the input, as torch's), and fill_diagonal_."""
import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

CASES = [((4, 4), 0, 0, 1), ((3, 5), 1, 0, 1), ((3, 5), -2, 0, 1), ((5, 3), 2, 1, 0), ((2, 3, 4), -1, -1, 1),
         ((2, 4, 4), 0, 1, 2), ((3, 3), 5, 0, 1), ((1, 4), 0, 0, 1), ((0, 3), 0, 0, 1), ((4, 1), -2, 0, 1),
         ((4, 4), 3, 0, 1)]


@pytest.mark.parametrize("shape,offset,d1,d2", CASES)
@pytest.mark.parametrize("transposed", [False, True])
def test_writes_through_the_diagonal_reach_the_input(shape, offset, d1, d2, transposed):
    x = np.random.default_rng(0).standard_normal(shape)
    m, t = mt.tensor(x), torch.tensor(x)
    if transposed:
        m, t = m.transpose(0, -1), t.transpose(0, -1)
    dm, dt = m.diagonal(offset, d1, d2), t.diagonal(offset, d1, d2)
    assert tuple(dm.shape) == tuple(dt.shape)
    np.testing.assert_array_equal(dm.numpy(), dt.numpy())
    dm.add_(10)
    dt.add_(10)
    np.testing.assert_array_equal(m.numpy(), t.numpy())


def test_in_place_on_the_diagonal_of_a_non_leaf_keeps_the_gradient():
    x = np.random.default_rng(1).standard_normal((4, 4))
    grads = []
    for lib in (mt, torch):
        w = lib.tensor(x, requires_grad=True)
        y = w * 2
        y.diagonal().add_(1)
        lib.diagonal(y).mul_(3)
        (y * y).sum().backward()
        grads.append(w.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_diagonal_of_a_strided_slice_reads_as_torch():
    big = np.random.default_rng(2).standard_normal((6, 8))
    np.testing.assert_array_equal(mt.tensor(big)[::2, 1::3].diagonal().numpy(),
                                  torch.tensor(big)[::2, 1::3].diagonal().numpy())


@pytest.mark.parametrize("shape,wrap", [((7, 3), True), ((7, 3), False), ((3, 7), True), ((3, 3, 3), False),
                                        ((4, 4), False)])
def test_fill_diagonal_matches_torch(shape, wrap):
    m, t = mt.zeros(*shape), torch.zeros(*shape)
    assert m.fill_diagonal_(5.0, wrap=wrap) is m
    t.fill_diagonal_(5.0, wrap=wrap)
    np.testing.assert_array_equal(m.numpy(), t.numpy())
    m, t = mt.zeros(4, 6).t(), torch.zeros(4, 6).t()  # any layout
    m.fill_diagonal_(1)
    t.fill_diagonal_(1)
    np.testing.assert_array_equal(m.numpy(), t.numpy())


def test_fill_diagonal_errors_match_torch():
    for shape, msg in (((3,), "dimensions must larger than 1"), ((2, 3, 2), "all dimensions of input must be of equal")):
        with pytest.raises(RuntimeError, match=msg):
            mt.zeros(*shape).fill_diagonal_(1)
        with pytest.raises(RuntimeError, match=msg):
            torch.zeros(*shape).fill_diagonal_(1)

"""F.ctc_loss / nn.CTCLoss against PyTorch: losses and log_probs gradients, every reduction and input layout."""
import numpy as np
import pytest

import minitorch

torch = pytest.importorskip("torch")

CASES = [
    # (T, N, C, targets (padded rows or 1-D), input_lengths, target_lengths, blank)
    (12, 3, 5, [[1, 2, 2, 3], [4, 1, 0, 0], [2, 2, 2, 0]], [12, 9, 10], [4, 2, 3], 0),
    (12, 3, 5, [1, 2, 2, 3, 4, 1, 2, 2, 2], [12, 9, 10], [4, 2, 3], 0),          # 1-D concatenated targets
    (8, 2, 4, [[0, 1, 1], [2, 0, 2]], [8, 8], [3, 3], 3),                           # blank is the last class
    (6, 2, 4, [[1, 2, 3, 1], [1, 1, 1, 1]], [6, 3], [4, 4], 0),                    # sample 2 cannot align: inf
    (7, 2, 3, [[1, 2], [1, 1]], [7, 5], [0, 2], 0),                                # an empty target
]


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_ctc_loss_matches_torch(case, reduction, zero_infinity, dtype, tol):
    T, N, C, tg, il, tl, blank = case
    x = np.random.default_rng(3).standard_normal((T, N, C)).astype(dtype)
    res = []
    for lib in (minitorch, torch):
        xs = lib.tensor(x, requires_grad=True)
        loss = lib.nn.CTCLoss(blank=blank, reduction=reduction, zero_infinity=zero_infinity)(
            xs.log_softmax(2), lib.tensor(tg), lib.tensor(il), lib.tensor(tl))
        finite = loss.detach()
        if np.isfinite(finite.numpy()).all():  # torch's gradient of an infinite loss is not compared
            loss.sum().backward()
        res.append((finite.numpy(), None if xs.grad is None else xs.grad.numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=tol, atol=tol)
    if res[1][1] is not None:
        np.testing.assert_allclose(res[0][1], res[1][1], rtol=10 * tol, atol=10 * tol)


def test_ctc_unbatched_and_lists():
    x = np.random.default_rng(4).standard_normal((9, 4))
    res = []
    for lib in (minitorch, torch):
        lp = lib.tensor(x).log_softmax(1)
        res.append(lib.nn.functional.ctc_loss(lp, lib.tensor([1, 2, 1]), lib.tensor(9), lib.tensor(3),
                                              reduction="sum").item())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)
    lp = np.random.default_rng(5).standard_normal((6, 2, 3))
    a = minitorch.nn.functional.ctc_loss(minitorch.tensor(lp).log_softmax(2), minitorch.tensor([[1, 2], [2, 2]]),
                                         [6, 5], [2, 2])
    b = torch.nn.functional.ctc_loss(torch.tensor(lp).log_softmax(2), torch.tensor([[1, 2], [2, 2]]), [6, 5], [2, 2])
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)


def test_ctc_repr_and_errors():
    assert repr(minitorch.nn.CTCLoss(blank=1)) == repr(torch.nn.CTCLoss(blank=1))
    lp = np.random.default_rng(6).standard_normal((5, 2, 4))
    for call in (lambda L: L.nn.functional.ctc_loss(L.tensor(lp), L.tensor([[1, 2], [1, 1]]), L.tensor([5, 5]),
                                                    L.tensor([2, 3])),
                 lambda L: L.nn.functional.ctc_loss(L.tensor(lp), L.tensor([[1, 2], [1, 1]]), L.tensor([6, 5]),
                                                    L.tensor([2, 2]))):
        with pytest.raises(RuntimeError) as et:
            call(torch)
        with pytest.raises(RuntimeError) as em:
            call(minitorch)
        assert str(em.value) == str(et.value)

"""nn.utils.weight_norm / spectral_norm against PyTorch: parameters and buffers, outputs and gradients over
several training steps (u and v copied from torch, whose random start minitorch's RNG does not reproduce)."""
import numpy as np
import pytest

import minitorch

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated")


def _copy_state(mm, tm):
    sd = {k: minitorch.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    mm.load_state_dict(sd)


def _train_both(mm, tm, x, steps=3, lr=0.05):
    om = minitorch.optim.SGD(mm.parameters(), lr=lr)
    ot = torch.optim.SGD(tm.parameters(), lr=lr)
    for _ in range(steps):
        ym, yt = mm(minitorch.tensor(x)), tm(torch.tensor(x))
        np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
        om.zero_grad()
        ot.zero_grad()
        (ym * ym).mean().backward()
        (yt * yt).mean().backward()
        for (n, pm), (_, pt) in zip(mm.named_parameters(), tm.named_parameters()):
            np.testing.assert_allclose(pm.grad.numpy(), pt.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=n)
        om.step()
        ot.step()
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(mm.state_dict()[k].numpy(), v.numpy(), rtol=1e-4, atol=1e-5, err_msg=k)


@pytest.mark.parametrize("make,dim,xs", [
    (lambda nn: nn.Linear(4, 3), 0, (5, 4)),
    (lambda nn: nn.Linear(4, 3), None, (5, 4)),
    (lambda nn: nn.Conv1d(2, 3, 3), 0, (2, 2, 9)),   # a TCN's layer
    (lambda nn: nn.Conv2d(2, 3, 3), 1, (2, 2, 6, 6)),
])
def test_weight_norm_matches_torch(make, dim, xs):
    mm = minitorch.nn.utils.weight_norm(make(minitorch.nn), dim=dim)
    tm = torch.nn.utils.weight_norm(make(torch.nn), dim=dim)
    assert list(mm.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in mm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    _copy_state(mm, tm)
    _train_both(mm, tm, np.random.default_rng(0).standard_normal(xs).astype(np.float32))
    minitorch.nn.utils.remove_weight_norm(mm)
    torch.nn.utils.remove_weight_norm(tm)
    assert list(mm.state_dict()) == list(tm.state_dict())
    np.testing.assert_allclose(mm.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_weight_norm_g_is_the_norm():
    m = minitorch.nn.utils.weight_norm(minitorch.nn.Linear(4, 3))
    np.testing.assert_allclose(m.weight_g.detach().numpy()[:, 0],
                               np.linalg.norm(m.weight_v.detach().numpy(), axis=1), rtol=1e-6)
    with pytest.raises(RuntimeError):
        minitorch.nn.utils.weight_norm(m)


@pytest.mark.parametrize("make,xs", [
    (lambda nn: nn.Linear(4, 3), (5, 4)),
    (lambda nn: nn.Conv2d(2, 3, 3), (2, 2, 6, 6)),
    (lambda nn: nn.ConvTranspose2d(3, 2, 3), (2, 3, 4, 4)),  # dim 1 by default, as torch
])
def test_spectral_norm_matches_torch(make, xs):
    mm = minitorch.nn.utils.spectral_norm(make(minitorch.nn))
    tm = torch.nn.utils.spectral_norm(make(torch.nn))
    assert list(mm.state_dict()) == list(tm.state_dict())
    _copy_state(mm, tm)
    x = np.random.default_rng(1).standard_normal(xs).astype(np.float32)
    _train_both(mm, tm, x)
    mm.eval()
    tm.eval()  # no power iteration in eval mode
    np.testing.assert_allclose(mm(minitorch.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    minitorch.nn.utils.remove_spectral_norm(mm)
    torch.nn.utils.remove_spectral_norm(tm)
    assert list(mm.state_dict()) == list(tm.state_dict())

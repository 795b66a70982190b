"""F.affine_grid and F.grid_sample against PyTorch: values and the gradients of input, grid and theta."""
import numpy as np
import pytest

import minitorch

torch = pytest.importorskip("torch")
MF, TF = minitorch.nn.functional, torch.nn.functional
pytestmark = [pytest.mark.filterwarnings("ignore:Since version 1.3.0, affine_grid"),
              pytest.mark.filterwarnings("ignore:Default grid_sample and affine_grid behavior")]


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 5, 7), (2, 1, 1, 4), (2, 2, 3, 4, 5)])
def test_affine_grid_matches_torch(size, align_corners):
    rng = np.random.default_rng(0)
    th = rng.standard_normal((2, 2, 3) if len(size) == 4 else (2, 3, 4))
    tm, tt = minitorch.tensor(th, requires_grad=True), torch.tensor(th, requires_grad=True)
    gm, gt = MF.affine_grid(tm, size, align_corners=align_corners), TF.affine_grid(tt, size,
                                                                                   align_corners=align_corners)
    np.testing.assert_allclose(gm.detach().numpy(), gt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(tuple(gt.shape))
    gm.backward(minitorch.tensor(g))
    gt.backward(torch.tensor(g))
    np.testing.assert_allclose(tm.grad.numpy(), tt.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_matches_torch(mode, padding_mode, align_corners, dtype, tol):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 6, 5)).astype(dtype)
    g = rng.uniform(-1.4, 1.4, (2, 4, 7, 2)).astype(dtype)
    g[0, 0, 0] = [1.0, -1.0]  # exactly on the border
    xm, gm = minitorch.tensor(x, requires_grad=True), minitorch.tensor(g, requires_grad=True)
    xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(g, requires_grad=True)
    ym = MF.grid_sample(xm, gm, mode, padding_mode, align_corners)
    yt = TF.grid_sample(xt, gt, mode, padding_mode, align_corners)
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    go = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    ym.backward(minitorch.tensor(go))
    yt.backward(torch.tensor(go))
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(gm.grad.numpy(), gt.grad.numpy(), rtol=10 * tol, atol=10 * tol)


def test_spatial_transformer_step_matches_torch():
    """theta from a layer, the grid from theta, the sample from the grid: one gradient through all three."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 1, 8, 8))
    th0 = np.tile(np.array([[1.0, 0.1, 0.05], [-0.1, 0.9, 0.0]]), (2, 1, 1))
    res = []
    for lib, F in ((minitorch, MF), (torch, TF)):
        th = lib.tensor(th0, requires_grad=True)
        y = F.grid_sample(lib.tensor(x), F.affine_grid(th, (2, 1, 8, 8), align_corners=False), align_corners=False)
        (y * y).sum().backward()
        res.append((y.detach().numpy(), th.grad.numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("call", [
    lambda F, L: F.grid_sample(L.zeros(1, 1, 3, 3), L.zeros(2, 2, 2, 2)),
    lambda F, L: F.grid_sample(L.zeros(1, 1, 3, 3), L.zeros(1, 2, 2, 3)),
    lambda F, L: F.grid_sample(L.zeros(1, 1, 3, 3), L.zeros(1, 2, 2, 2), mode="cubic"),
    lambda F, L: F.grid_sample(L.zeros(1, 1, 3, 3), L.zeros(1, 2, 2, 2), padding_mode="wrap"),
    lambda F, L: F.affine_grid(L.zeros(1, 2, 3), (1, 1, 4)),
    lambda F, L: F.affine_grid(L.zeros(1, 3, 3), (1, 1, 4, 4)),
    lambda F, L: F.affine_grid(L.zeros(1, 2, 3), (1, 1, 0, 4)),
])
def test_sampling_errors_match_torch(call):
    with pytest.raises(Exception) as et:
        call(TF, torch)
    with pytest.raises(type(et.value)):
        call(MF, minitorch)


def test_unsupported_modes_raise():
    with pytest.raises(NotImplementedError, match="bicubic"):
        MF.grid_sample(minitorch.zeros(1, 1, 3, 3), minitorch.zeros(1, 2, 2, 2), mode="bicubic")
    with pytest.raises(NotImplementedError, match="5-D"):
        MF.grid_sample(minitorch.zeros(1, 1, 3, 3, 3), minitorch.zeros(1, 2, 2, 2, 3))

"""F.layer_norm's fused CPU kernel (csrc/ops/norm.c) and F.gelu's one-pass op against PyTorch: values, the three
gradients, grad_fn names, double backward (gradgradcheck, and a gradient penalty through a LayerNorm critic)."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape,ns,affine", [((4, 5, 6), (6,), True), ((3, 4, 5), (4, 5), True), ((7, 8), (8,), False),
                                             ((2, 1, 9), (9,), True), ((5, 3), (3,), "weight-only")])
def test_layer_norm_matches_torch(shape, ns, affine, dtype):
    rng = np.random.default_rng(len(shape) * 10 + len(ns))
    x, w, b, g = rng.standard_normal(shape), rng.standard_normal(ns), rng.standard_normal(ns), rng.standard_normal(shape)
    res = []
    for lib in (mt, torch):
        d = getattr(lib, dtype)
        tx = lib.tensor(x, dtype=d, requires_grad=True)
        tw = lib.tensor(w, dtype=d, requires_grad=True) if affine else None
        tb = lib.tensor(b, dtype=d, requires_grad=True) if affine is True else None
        out = lib.nn.functional.layer_norm(tx.transpose(0, 1).transpose(0, 1), ns, tw, tb, eps=1e-4)
        out.backward(lib.tensor(g, dtype=d))
        res.append([out.detach().numpy(), tx.grad.numpy()] + [t.grad.numpy() for t in (tw, tb) if t is not None]
                   + [type(out.grad_fn).__name__ if lib is torch else out.grad_fn.name()])
    tol = 1e-12 if dtype == "float64" else 2e-5
    for a, b_ in zip(res[0][:-1], res[1][:-1]):
        np.testing.assert_allclose(a, b_, rtol=tol, atol=tol)
    assert res[0][-1] == res[1][-1] == "NativeLayerNormBackward0"


def test_layer_norm_double_backward():
    rng = np.random.default_rng(1)
    x = mt.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = mt.tensor(rng.standard_normal(4), requires_grad=True)
    b = mt.tensor(rng.standard_normal(4), requires_grad=True)
    assert mt.autograd.gradgradcheck(lambda a, c, d: F.layer_norm(a, (4,), c, d), (x, w, b))
    # a WGAN-GP style penalty through a LayerNorm critic, as torch
    outs = []
    for lib in (mt, torch):
        a = lib.tensor(rng.standard_normal((5, 4)) if lib is mt else outs[0][1], requires_grad=True)
        lib.manual_seed(0)
        ww = lib.tensor(np.linspace(-1, 1, 4), requires_grad=True)
        y = (lib.nn.functional.layer_norm(a, (4,), ww) ** 3).sum()
        (ga,) = lib.autograd.grad(y, a, create_graph=True)
        ((ga.norm(2, dim=1) - 1) ** 2).mean().backward()
        outs.append((ww.grad.numpy(), a.detach().numpy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-10, atol=1e-12)


def test_layer_norm_paths_left_composed_and_errors():
    # the 16-bit floats and mixed dtypes stay composed; torch's shape error is kept
    h = mt.randn(3, 4).half()
    assert F.layer_norm(h, (4,)).dtype is mt.float16
    with pytest.raises(RuntimeError, match="Given normalized_shape"):
        F.layer_norm(mt.randn(3, 4), (5,))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gelu_matches_torch(dtype):
    x = np.concatenate([np.linspace(-6, 6, 301), [0.0, -0.0, 1e-8, -1e-8, 20.0, -20.0]])
    g = np.random.default_rng(2).standard_normal(x.shape)
    res = []
    for lib in (mt, torch):
        t = lib.tensor(x, dtype=getattr(lib, dtype), requires_grad=True)
        y = lib.nn.functional.gelu(t)
        y.backward(lib.tensor(g, dtype=getattr(lib, dtype)))
        res.append((y.detach().numpy(), t.grad.numpy()))
    tol = 1e-12 if dtype == "float64" else 2e-6  # float32: the same A&S erf as torch's vectorised kernel
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=tol, atol=tol)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=tol, atol=tol)
    t = mt.tensor(x[:5], requires_grad=True)
    assert mt.autograd.gradgradcheck(F.gelu, (t,))

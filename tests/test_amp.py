"""minitorch.amp against torch.amp: GradScaler's algorithm (scale, unscale, skipped steps, scale updates, state)
and autocast's switched-off form (CPU autocast itself: tests/test_autocast.py)."""
import warnings

import numpy as np
import pytest

import minitorch

torch = pytest.importorskip("torch")


def _run(lib, grads_inf_at, steps=6):
    lib.manual_seed(0)
    w = lib.nn.Parameter(lib.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)))
    opt = lib.optim.SGD([w], lr=0.1)
    scaler = lib.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=2)
    x = lib.tensor(np.arange(6, dtype=np.float32).reshape(3, 2))
    scales = []
    for i in range(steps):
        opt.zero_grad()
        loss = (w @ x).pow(2).sum() * (float("inf") if i in grads_inf_at else 1.0)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    return w.detach().numpy(), scales, scaler.state_dict()


def test_grad_scaler_matches_torch():
    wm, sm, dm = _run(minitorch, {2})
    wt, st, dt = _run(torch, {2})
    np.testing.assert_allclose(wm, wt, rtol=1e-6)
    assert sm == st and dm == dt


def test_grad_scaler_state_and_disabled_forms():
    s = minitorch.amp.GradScaler("cpu")
    s.load_state_dict(torch.amp.GradScaler("cpu", init_scale=8.0).state_dict())
    assert s.get_scale() == 8.0
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        off = minitorch.cuda.amp.GradScaler()
    if not minitorch.cuda.is_available():
        assert not off.is_enabled() and any("CUDA is not available" in str(x.message) for x in w)
        loss = minitorch.tensor(2.0)
        assert off.scale(loss) is loss and off.get_scale() == 1.0 and off.state_dict() == {}
    dis = minitorch.amp.GradScaler("cpu", enabled=False)
    assert not dis.is_enabled()


def test_autocast_disabled_is_a_no_op():
    x = minitorch.ones(2, 2)
    with minitorch.autocast(device_type="cpu", enabled=False):
        y = x @ x
    assert y.dtype is minitorch.float32

    @minitorch.amp.autocast("cpu", enabled=False)
    def f(a):
        return a * 2
    assert f(x).tolist() == [[2.0, 2.0], [2.0, 2.0]]
    with pytest.raises(ValueError):
        minitorch.amp.autocast(0)

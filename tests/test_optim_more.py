"""The optimizers composed in Python (Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop) against
torch.optim: N steps on a small model with copied weights (and on raw parameters with given
gradients) must give the same parameters and state; defaults, param_groups, state_dict round
trips and argument errors as torch."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.optim as optim

torch = pytest.importorskip("torch")

NAMES = ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"]
SHAPES = [(4, 5), (5,), (3, 2, 2)]

CONFIGS = {
    "Adadelta": [{}, {"lr": 0.5, "rho": 0.8, "eps": 1e-5, "weight_decay": 0.1}, {"maximize": True}],
    "Adamax": [{}, {"lr": 0.01, "betas": (0.8, 0.9), "weight_decay": 0.05}, {"maximize": True}],
    "NAdam": [{}, {"lr": 0.01, "weight_decay": 0.1}, {"weight_decay": 0.1, "decoupled_weight_decay": True},
              {"momentum_decay": 0.01, "maximize": True}],
    "RAdam": [{}, {"lr": 0.01, "betas": (0.9, 0.9)}, {"weight_decay": 0.1, "decoupled_weight_decay": True},
              {"weight_decay": 0.1, "maximize": True}],
    "ASGD": [{}, {"lr": 0.05, "lambd": 1e-2, "alpha": 0.5, "t0": 3, "weight_decay": 0.1}, {"maximize": True}],
    "Rprop": [{}, {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)}, {"maximize": True}],
}
CASES = [(n, i) for n in NAMES for i in range(len(CONFIGS[n]))]


def _np(dt):
    return np.float64 if dt == "float64" else np.float32


def _tol(dt):
    return dict(rtol=1e-6, atol=1e-6) if dt == "float32" else dict(rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,ci", CASES)
def test_steps_with_given_grads(name, ci, dtype):
    cfg = CONFIGS[name][ci]
    rng = np.random.default_rng(ci)
    arrays = [rng.standard_normal(s).astype(_np(dtype)) for s in SHAPES]
    mps = [mt.tensor(a, requires_grad=True) for a in arrays]
    tps = [torch.tensor(a, requires_grad=True) for a in arrays]
    mo, to = getattr(optim, name)(mps, **cfg), getattr(torch.optim, name)(tps, **cfg)
    for step in range(12):
        for mp, tp, s in zip(mps, tps, SHAPES):
            g = rng.standard_normal(s).astype(_np(dtype))
            if step % 4 == 3:
                g = np.sign(g) * 0.5   # repeated signs exercise Rprop's growth branch
            mp.grad, tp.grad = mt.tensor(g), torch.tensor(g)
        mo.step()
        to.step()
        for mp, tp in zip(mps, tps):
            np.testing.assert_allclose(mp.detach().numpy(), tp.detach().numpy(), **_tol(dtype))
    for mp, tp in zip(mps, tps):
        ms, ts = mo.state[mp], to.state[tp]
        assert sorted(ms) == sorted(ts)
        for k in ts:
            np.testing.assert_allclose(np.asarray(ms[k].numpy()), np.asarray(ts[k].numpy()), **_tol(dtype))
            assert str(ms[k].dtype).split(".")[-1] == str(ts[k].dtype).split(".")[-1]


@pytest.mark.parametrize("name", NAMES)
def test_small_model_training(name):
    torch.manual_seed(0)
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    mnet = mt.nn.Sequential(mt.nn.Linear(3, 8), mt.nn.Tanh(), mt.nn.Linear(8, 2))
    with mt.no_grad():
        for mp, tp in zip(mnet.parameters(), tnet.parameters()):
            mp.copy_(mt.tensor(tp.detach().numpy()))
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 3)).astype(np.float32)
    y = rng.standard_normal((16, 2)).astype(np.float32)
    mo, to = getattr(optim, name)(mnet.parameters()), getattr(torch.optim, name)(tnet.parameters())
    for _ in range(10):
        mo.zero_grad()
        to.zero_grad()
        ml = ((mnet(mt.tensor(x)) - mt.tensor(y)) ** 2).mean()
        tl = ((tnet(torch.tensor(x)) - torch.tensor(y)) ** 2).mean()
        ml.backward()
        tl.backward()
        mo.step()
        to.step()
    for mp, tp in zip(mnet.parameters(), tnet.parameters()):
        np.testing.assert_allclose(mp.detach().numpy(), tp.detach().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_defaults_and_groups(name):
    mp, tp = mt.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    mo, to = getattr(optim, name)([mp]), getattr(torch.optim, name)([tp])
    assert set(mo.defaults) == set(to.defaults)
    for k, v in to.defaults.items():
        assert mo.defaults[k] == v, k
    mq, tq = mt.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    mo.add_param_group({"params": [mq], "lr": 0.123})
    to.add_param_group({"params": [tq], "lr": 0.123})
    assert [g["lr"] for g in mo.param_groups] == [g["lr"] for g in to.param_groups]
    assert set(mo.param_groups[1]) == set(to.param_groups[1])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_roundtrip(name, dtype):
    """3 steps, state_dict -> fresh optimizer.load_state_dict -> 3 more steps, in both libraries
    (loading casts floating state to the parameter's dtype in both)"""
    rng = np.random.default_rng(0)
    a = rng.standard_normal(6).astype(_np(dtype))
    grads = [rng.standard_normal(6).astype(_np(dtype)) for _ in range(6)]
    res = []
    for lib, o in ((mt, optim), (torch, torch.optim)):
        p = lib.tensor(a, requires_grad=True)
        o1 = getattr(o, name)([p])
        for g in grads[:3]:
            p.grad = lib.tensor(g)
            o1.step()
        sd = o1.state_dict()
        o2 = getattr(o, name)([p])
        o2.load_state_dict(sd)
        assert sorted(o2.state_dict()["state"][0]) == sorted(sd["state"][0])
        for g in grads[3:]:
            p.grad = lib.tensor(g)
            o2.step()
        res.append((p.detach().numpy(), {k: str(v.dtype).split(".")[-1] for k, v in o2.state_dict()["state"][0].items()}))
    np.testing.assert_allclose(res[0][0], res[1][0], **_tol(dtype))
    assert res[0][1] == res[1][1]


BAD = [
    ("Adadelta", {"lr": -1.0}), ("Adadelta", {"rho": 1.5}), ("Adadelta", {"eps": -1.0}),
    ("Adadelta", {"weight_decay": -1.0}),
    ("Adamax", {"lr": -1.0}), ("Adamax", {"betas": (1.0, 0.9)}), ("Adamax", {"betas": (0.9, -0.1)}),
    ("Adamax", {"eps": -1.0}), ("NAdam", {"momentum_decay": -1.0}), ("NAdam", {"betas": (0.9, 1.0)}),
    ("RAdam", {"weight_decay": -0.1}), ("RAdam", {"lr": -1.0}), ("ASGD", {"lr": -1.0}),
    ("ASGD", {"weight_decay": -1.0}), ("Rprop", {"etas": (1.5, 1.2)}), ("Rprop", {"etas": (0.5, 0.9)}),
    ("Rprop", {"lr": -1.0}),
]


@pytest.mark.parametrize("name,kw", BAD)
def test_bad_arguments(name, kw):
    with pytest.raises(Exception) as te:
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kw)
    with pytest.raises(type(te.value)) as me:
        getattr(optim, name)([mt.zeros(1, requires_grad=True)], **kw)
    assert str(me.value) == str(te.value)

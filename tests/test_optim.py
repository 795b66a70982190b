"""minitorch.optim against torch.optim: identical parameters and gradients for several steps must
give the same parameters and optimizer state (float32: to float32 rounding; float64: tight), plus
param groups, zero_grad, state_dict round trips, lr schedulers and argument checks."""
import copy
import warnings

import numpy as np
import pytest

import minitorch as mt
import minitorch.optim as optim
from minitorch import _C

torch = pytest.importorskip("torch")

SHAPES = [(4, 5), (5,), (3, 2, 2)]


def np_dtype(dt):
    return np.float64 if dt == "float64" else np.float32


def make_pair(dtype="float32", seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(np_dtype(dtype)) for s in shapes]
    mps = [mt.tensor(a, requires_grad=True) for a in arrays]
    tps = [torch.tensor(a, requires_grad=True) for a in arrays]
    return mps, tps


def grads_seq(steps, dtype="float32", seed=1, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(np_dtype(dtype)) for s in shapes] for _ in range(steps)]


def set_grads(mps, tps, gs):
    for mp, tp, g in zip(mps, tps, gs):
        mp.grad = mt.tensor(g)
        tp.grad = torch.tensor(g)


def tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)


def assert_params_close(mps, tps, dtype):
    for mp, tp in zip(mps, tps):
        np.testing.assert_allclose(mp.detach().numpy(), tp.detach().numpy(), **tol(dtype))


def to_np(v):
    if isinstance(v, mt.Tensor):
        return v.detach().numpy()
    if isinstance(v, torch.Tensor):
        return v.detach().numpy()
    return v


def assert_state_dicts_close(msd, tsd, dtype):
    assert set(msd) == {"state", "param_groups"}
    assert len(msd["param_groups"]) == len(tsd["param_groups"])
    for mg, tg in zip(msd["param_groups"], tsd["param_groups"]):
        assert mg.keys() == tg.keys()
        for k in tg:
            assert mg[k] == tg[k], k
    assert msd["state"].keys() == tsd["state"].keys()
    for pid in tsd["state"]:
        ms, ts = msd["state"][pid], tsd["state"][pid]
        assert list(ms.keys()) == list(ts.keys())
        for k in ts:
            if isinstance(ts[k], torch.Tensor):
                assert isinstance(ms[k], mt.Tensor), k
                assert str(ms[k].dtype) == str(ts[k].dtype), k
                assert tuple(ms[k].shape) == tuple(ts[k].shape), k
                np.testing.assert_allclose(to_np(ms[k]), to_np(ts[k]), **tol(dtype))
            else:
                assert ms[k] == ts[k]


def run_both(name, kwargs, dtype="float32", steps=8, check_state=True):
    mps, tps = make_pair(dtype)
    mo = getattr(optim, name)(mps, **kwargs)
    to = getattr(torch.optim, name)(tps, **kwargs)
    for gs in grads_seq(steps, dtype):
        set_grads(mps, tps, gs)
        mo.step()
        to.step()
    assert_params_close(mps, tps, dtype)
    if check_state:
        assert_state_dicts_close(mo.state_dict(), to.state_dict(), dtype)
    return mo, to, mps, tps


# ---------------------------------------------------------------- update formulas vs torch

SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.1, weight_decay=0.05),
    dict(lr=0.1, maximize=True),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True),
    dict(lr=0.05, momentum=0.5, dampening=0.5, weight_decay=0.1),
]
ADAM_CASES = [
    dict(),
    dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.01, amsgrad=True, weight_decay=0.05, maximize=True),
    dict(lr=0.01, betas=(0.3, 0.5)),  # lerp weight >= 0.5 takes PyTorch's other lerp form
    dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1),
]
ADAMW_CASES = [dict(), dict(lr=0.01, weight_decay=0.1, amsgrad=True), dict(lr=0.01, maximize=True, weight_decay=0)]
RMSPROP_CASES = [
    dict(),
    dict(lr=0.01, alpha=0.9, eps=1e-6),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.01, centered=True),
    dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.01, maximize=True),
    dict(lr=0.01, alpha=0.3, centered=True),  # lerp weight >= 0.5
]
ADAGRAD_CASES = [
    dict(),
    dict(lr=0.1, lr_decay=0.05),
    dict(lr=0.1, weight_decay=0.1),
    dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6),
    dict(lr=0.1, maximize=True, lr_decay=0.01, weight_decay=0.01),
]
ALL_CASES = ([("SGD", c) for c in SGD_CASES] + [("Adam", c) for c in ADAM_CASES] + [("AdamW", c) for c in ADAMW_CASES]
             + [("RMSprop", c) for c in RMSPROP_CASES] + [("Adagrad", c) for c in ADAGRAD_CASES])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", ALL_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ALL_CASES)])
def test_matches_torch(name, kwargs, dtype):
    run_both(name, kwargs, dtype)


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.01, momentum=0.9)), ("Adam", dict(lr=1e-3)),
                                         ("AdamW", dict(lr=1e-3, amsgrad=True)), ("RMSprop", dict(centered=True)),
                                         ("Adagrad", dict())])
def test_large_tensor_parallel_path(name, kwargs):
    # above the OpenMP threshold, with a tail that is not a multiple of the vector width
    shapes = [(301, 257), (3,)]
    mps, tps = make_pair("float32", shapes=shapes)
    mo = getattr(optim, name)(mps, **kwargs)
    to = getattr(torch.optim, name)(tps, **kwargs)
    for gs in grads_seq(4, "float32", shapes=shapes):
        set_grads(mps, tps, gs)
        mo.step()
        to.step()
    assert_params_close(mps, tps, "float32")


def test_non_contiguous_param_and_grad():
    base = np.random.default_rng(3).standard_normal((6, 4)).astype(np.float32)
    mp = mt.tensor(base).t().detach().requires_grad_(True)  # a transposed (non-contiguous) leaf
    tp = torch.tensor(base).t().detach().requires_grad_(True)
    assert not mp.is_contiguous()
    mo = optim.Adam([mp], lr=0.1, weight_decay=0.1)
    to = torch.optim.Adam([tp], lr=0.1, weight_decay=0.1)
    for g in grads_seq(3, shapes=[(6, 4)]):
        mp.grad = mt.tensor(g[0]).t()
        tp.grad = torch.tensor(g[0]).t()
        mo.step()
        to.step()
    np.testing.assert_allclose(mp.detach().numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert mp.stride() == (1, 4)


def test_param_without_grad_is_skipped():
    mps, tps = make_pair()
    mo, to = optim.Adam(mps, lr=0.1), torch.optim.Adam(tps, lr=0.1)
    gs = grads_seq(1)[0]
    for i in (0, 2):
        mps[i].grad = mt.tensor(gs[i])
        tps[i].grad = torch.tensor(gs[i])
    mo.step()
    to.step()
    assert_params_close(mps, tps, "float32")
    assert_state_dicts_close(mo.state_dict(), to.state_dict(), "float32")
    assert 1 not in mo.state_dict()["state"]


def test_sgd_without_momentum_keeps_no_state():
    mo, to, _, _ = run_both("SGD", dict(lr=0.1), steps=2)
    assert mo.state_dict()["state"] == {} == to.state_dict()["state"]


def test_step_bumps_version_and_records_no_graph():
    p = mt.tensor([1.0, 2.0], requires_grad=True)
    p.grad = mt.tensor([0.5, -0.5])
    v0 = p._version
    opt = optim.Adam([p], lr=0.1)
    opt.step()
    assert p._version > v0
    assert p.grad_fn is None and p.is_leaf and p.requires_grad
    s = opt.state[p]
    assert s["exp_avg"]._version > 0 and s["step"].item() == 1.0
    # the parameter still works in autograd after the update
    (p * 3).sum().backward()


def test_closure_returns_loss_and_runs_with_grad():
    mps, tps = make_pair(shapes=[(3,)])
    w = mps[0]
    opt = optim.SGD([w], lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        calls.append(float(loss))
        return loss

    with mt.no_grad():
        loss = opt.step(closure)
    assert len(calls) == 1 and float(loss) == calls[0]
    tw = tps[0]
    topt = torch.optim.SGD([tw], lr=0.1)

    def tclosure():
        topt.zero_grad()
        loss = (tw * tw).sum()
        loss.backward()
        return loss

    topt.step(tclosure)
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-6)


def test_parameter_subclass_if_available():
    nn = pytest.importorskip("minitorch.nn")
    Parameter = getattr(nn, "Parameter", None)
    if Parameter is None:
        pytest.skip("minitorch.nn.Parameter not available yet")
    p = Parameter(mt.tensor([1.0, -1.0]))
    p.grad = mt.tensor([1.0, 1.0])
    optim.SGD([p], lr=0.5, momentum=0.9).step()
    np.testing.assert_allclose(p.detach().numpy(), [0.5, -1.5])


# ---------------------------------------------------------------- param groups

def test_param_groups_with_different_lrs_and_defaults():
    mps, tps = make_pair()
    mo = optim.SGD([{"params": mps[:2]}, {"params": mps[2:], "lr": 0.5, "momentum": 0.5}], lr=0.1, momentum=0.9)
    to = torch.optim.SGD([{"params": tps[:2]}, {"params": tps[2:], "lr": 0.5, "momentum": 0.5}], lr=0.1,
                         momentum=0.9)
    for gs in grads_seq(5):
        set_grads(mps, tps, gs)
        mo.step()
        to.step()
    assert_params_close(mps, tps, "float32")
    assert mo.param_groups[1]["lr"] == 0.5 and mo.param_groups[0]["lr"] == 0.1
    assert_state_dicts_close(mo.state_dict(), to.state_dict(), "float32")
    assert repr(mo) == repr(to)


def test_add_param_group():
    mps, tps = make_pair()
    mo = optim.Adam(mps[:1], lr=0.01)
    to = torch.optim.Adam(tps[:1], lr=0.01)
    seq = grads_seq(6)
    for i, gs in enumerate(seq):
        if i == 3:
            mo.add_param_group({"params": mps[1:], "lr": 0.1, "amsgrad": True})
            to.add_param_group({"params": tps[1:], "lr": 0.1, "amsgrad": True})
        set_grads(mps, tps, gs)
        mo.step()
        to.step()
    assert_params_close(mps, tps, "float32")
    assert_state_dicts_close(mo.state_dict(), to.state_dict(), "float32")
    # a single tensor as 'params'
    extra = mt.zeros(2, requires_grad=True)
    mo.add_param_group({"params": extra})
    assert mo.param_groups[-1]["params"] == [extra] or mo.param_groups[-1]["params"][0] is extra


def test_add_param_group_errors_match_torch():
    mps, tps = make_pair()
    for lib, o_lib, ps in ((mt, optim, mps), (torch, torch.optim, tps)):
        opt = o_lib.SGD(ps[:2], lr=0.1)
        with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
            opt.add_param_group({"params": [ps[1]]})
        with pytest.raises(TypeError, match="param_group must be a dict"):
            opt.add_param_group([ps[2]])
        with pytest.raises(TypeError, match="ordered collections"):
            opt.add_param_group({"params": {ps[2]}})
        with pytest.raises(TypeError, match="optimizer can only optimize Tensors"):
            opt.add_param_group({"params": [1.0]})
        nonleaf = ps[2] * 2
        with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
            opt.add_param_group({"params": [nonleaf]})
        with pytest.warns(UserWarning, match="duplicate parameters"):
            o_lib.SGD([ps[0], ps[0]], lr=0.1)


def test_zero_grad_both_ways():
    mps, tps = make_pair()
    mo, to = optim.SGD(mps, lr=0.1), torch.optim.SGD(tps, lr=0.1)
    set_grads(mps, tps, grads_seq(1)[0])
    mo.zero_grad()
    to.zero_grad()
    assert all(p.grad is None for p in mps) and all(p.grad is None for p in tps)
    set_grads(mps, tps, grads_seq(1)[0])
    g0 = mps[0].grad
    mo.zero_grad(set_to_none=False)
    to.zero_grad(set_to_none=False)
    assert mps[0].grad is g0  # zeroed in place
    for mp, tp in zip(mps, tps):
        assert mp.grad is not None and not mp.grad.requires_grad
        np.testing.assert_array_equal(mp.grad.numpy(), tp.grad.numpy())
        assert float(mp.grad.abs().sum()) == 0.0
    # zeroed gradients still take a (no-op for plain SGD) step
    mo.step()
    to.step()
    assert_params_close(mps, tps, "float32")


# ---------------------------------------------------------------- state dicts

@pytest.mark.parametrize("name,kwargs", [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
])
def test_state_dict_round_trip_continues_like_torch(name, kwargs):
    mo, to, mps, tps = run_both(name, kwargs, steps=4)
    msd, tsd = copy.deepcopy(mo.state_dict()), copy.deepcopy(to.state_dict())
    assert_state_dicts_close(msd, tsd, "float32")
    # a fresh optimizer over fresh copies of the parameters, loaded from the state dict
    mps2 = [mt.tensor(p.detach().numpy(), requires_grad=True) for p in mps]
    tps2 = [torch.tensor(p.detach().numpy(), requires_grad=True) for p in tps]
    mo2 = getattr(optim, name)(mps2, lr=123.0)  # lr etc. come back from the state dict
    to2 = getattr(torch.optim, name)(tps2, lr=123.0)
    mo2.load_state_dict(msd)
    to2.load_state_dict(tsd)
    assert mo2.param_groups[0]["lr"] == kwargs.get("lr", mo2.defaults["lr"]) == to2.param_groups[0]["lr"]
    for gs in grads_seq(4, seed=7):
        set_grads(mps2, tps2, gs)
        set_grads(mps, tps, gs)
        mo2.step()
        to2.step()
        mo.step()
    assert_params_close(mps2, tps2, "float32")
    assert_params_close(mps2, mps, "float32")  # the original optimizer continued identically
    assert_state_dicts_close(mo2.state_dict(), to2.state_dict(), "float32")


def test_state_dict_format():
    mps, _ = make_pair()
    opt = optim.Adam([{"params": mps[:1]}, {"params": mps[1:], "lr": 0.5}], lr=0.1)
    for p in mps:
        p.grad = mt.ones_like(p)
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0] and sd["param_groups"][1]["params"] == [1, 2]
    assert sorted(sd["state"]) == [0, 1, 2]
    assert sd["state"][1]["exp_avg"] is opt.state[mps[1]]["exp_avg"]  # live tensors, as torch
    assert sd["state"][0]["step"].dtype == mt.float32 and sd["state"][0]["step"].item() == 1.0


def test_load_state_dict_errors_match_torch():
    mps, tps = make_pair()
    for o_lib, ps in ((optim, mps), (torch.optim, tps)):
        sd = o_lib.SGD([{"params": ps[:1]}, {"params": ps[1:]}], lr=0.1).state_dict()
        with pytest.raises(ValueError, match="different number of parameter groups"):
            o_lib.SGD(ps, lr=0.1).load_state_dict(sd)
        with pytest.raises(ValueError, match="doesn't match the size"):
            o_lib.SGD([{"params": ps[:2]}, {"params": ps[2:]}], lr=0.1).load_state_dict(sd)


def test_load_state_dict_casts_state_to_param_dtype():
    p = mt.zeros(3, dtype=mt.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    sd = {"state": {0: {"momentum_buffer": mt.ones(3)}}, "param_groups": copy.deepcopy(opt.state_dict()["param_groups"])}
    opt.load_state_dict(sd)
    assert opt.state[p]["momentum_buffer"].dtype == mt.float64
    p.grad = mt.zeros(3, dtype=mt.float64)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [-0.09] * 3)


# ---------------------------------------------------------------- argument checks

ARG_ERRORS = [
    ("SGD", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("SGD", dict(lr=0.1, momentum=-1), "Invalid momentum value: -1"),
    ("SGD", dict(lr=0.1, weight_decay=-1e-3), "Invalid weight_decay value: -0.001"),
    ("SGD", dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", dict(lr=0.1, nesterov=True, momentum=0.9, dampening=0.1), "Nesterov momentum requires"),
    ("Adam", dict(lr=-1.0), "Invalid learning rate: -1.0"),
    ("Adam", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("Adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    ("Adam", dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    ("Adam", dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    ("Adam", dict(betas=(0, 0.999)), "betas must be either both floats or both Tensors"),
    ("AdamW", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("AdamW", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    ("RMSprop", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("RMSprop", dict(alpha=-0.5), "Invalid alpha value: -0.5"),
    ("RMSprop", dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    ("RMSprop", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("Adagrad", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("Adagrad", dict(lr_decay=-0.1), "Invalid lr_decay value: -0.1"),
    ("Adagrad", dict(initial_accumulator_value=-1.0), "Invalid initial_accumulator_value value: -1.0"),
    ("Adagrad", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
]


@pytest.mark.parametrize("name,kwargs,msg", ARG_ERRORS)
def test_argument_checks_match_torch(name, kwargs, msg):
    mps, tps = make_pair()
    with pytest.raises(ValueError) as te:
        getattr(torch.optim, name)(tps, **kwargs)
    with pytest.raises(ValueError) as me:
        getattr(optim, name)(mps, **kwargs)
    assert str(me.value) == str(te.value)
    assert msg in str(me.value)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_empty_parameter_list(name):
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        getattr(optim, name)([], lr=0.1)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        getattr(torch.optim, name)([], lr=0.1)
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts"):
        getattr(optim, name)(mt.zeros(2, requires_grad=True), lr=0.1)


def test_kernel_errors():
    p = mt.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="shape"):
        _C._sgd_step(p, mt.zeros(4), None, 0.1, 0.0, 0.0, False, 0.0, False, False)
    with pytest.raises(RuntimeError, match="dtype"):
        _C._sgd_step(p, mt.zeros(3, dtype=mt.float64), None, 0.1, 0.0, 0.0, False, 0.0, False, False)
    with pytest.raises(RuntimeError, match="floating point"):
        q = mt.zeros(3, dtype=mt.int64)
        _C._sgd_step(q, q, None, 0.1, 0.0, 0.0, False, 0.0, False, False)
    with pytest.raises(RuntimeError, match="momentum buffer"):
        _C._sgd_step(p, mt.zeros(3), None, 0.1, 0.9, 0.0, False, 0.0, False, False)
    with pytest.raises(RuntimeError, match="amsgrad"):
        _C._adam_step(p, mt.zeros(3), mt.zeros(3), mt.zeros(3), None, 1.0, 0.1, 0.9, 0.99, 1e-8, 0.0, True, False,
                      False)
    with pytest.raises(TypeError):
        _C._adam_step(p, mt.zeros(3), mt.zeros(3))
    with pytest.raises(TypeError, match="must be a Tensor"):
        _C._adagrad_step(p, [0.0, 0.0, 0.0], mt.zeros(3), 1.0, 0.1, 0.0, 0.0, 1e-10, False)
    with pytest.raises(TypeError, match="must be a number"):
        _C._adagrad_step(p, mt.zeros(3), mt.zeros(3), 1.0, "0.1", 0.0, 0.0, 1e-10, False)
    # a plain number as the step count (already incremented) is accepted
    _C._adagrad_step(p, mt.ones(3), mt.zeros(3), 1.0, 0.5, 0.0, 0.0, 1e-10, False)
    np.testing.assert_allclose(p.detach().numpy(), [-0.5] * 3, rtol=1e-6)


# ---------------------------------------------------------------- lr schedulers

def _sched_pair(make, n_groups=2, opt_name="SGD", **okw):
    mps, tps = make_pair(shapes=[(2,), (3,)][:n_groups])
    if n_groups == 2:
        mo = getattr(optim, opt_name)([{"params": mps[:1]}, {"params": mps[1:], "lr": 0.3}], lr=0.1, **okw)
        to = getattr(torch.optim, opt_name)([{"params": tps[:1]}, {"params": tps[1:], "lr": 0.3}], lr=0.1, **okw)
    else:
        mo, to = getattr(optim, opt_name)(mps, lr=0.1, **okw), getattr(torch.optim, opt_name)(tps, lr=0.1, **okw)
    return (mo, make(optim.lr_scheduler, mo)), (to, make(torch.optim.lr_scheduler, to))


SCHEDULERS = {
    "StepLR": lambda s, o: s.StepLR(o, step_size=4, gamma=0.5),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, milestones=[3, 7, 7, 20], gamma=0.3),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
    "CosineAnnealingLR-T7": lambda s, o: s.CosineAnnealingLR(o, T_max=7),
    "LambdaLR": lambda s, o: s.LambdaLR(o, lr_lambda=lambda e: 0.95 ** e + 0.01 * (e % 3)),
    "LambdaLR-list": lambda s, o: s.LambdaLR(o, lr_lambda=[lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lr_lambda=lambda e: 0.97),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_lr_sequence_matches_torch(name):
    (mo, ms), (to, ts) = _sched_pair(SCHEDULERS[name])
    assert ms.get_last_lr() == ts.get_last_lr()
    assert ms.last_epoch == ts.last_epoch == 0
    for _ in range(30):
        mo.step()
        to.step()
        ms.step()
        ts.step()
        assert ms.last_epoch == ts.last_epoch
        np.testing.assert_allclose(ms.get_last_lr(), ts.get_last_lr(), rtol=1e-13, atol=1e-15)
        assert [g["lr"] for g in mo.param_groups] == ms.get_last_lr()
    assert [g["initial_lr"] for g in mo.param_groups] == [g["initial_lr"] for g in to.param_groups]


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR"])
def test_scheduler_closed_form_with_epoch(name):
    (mo, ms), (to, ts) = _sched_pair(SCHEDULERS[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in [3, 5, 9, 12, 4]:
            mo.step()
            to.step()
            ms.step(epoch)
            ts.step(epoch)
            np.testing.assert_allclose(ms.get_last_lr(), ts.get_last_lr(), rtol=1e-13)


def test_scheduler_drives_optimizer_like_torch():
    (mo, ms), (to, ts) = _sched_pair(SCHEDULERS["StepLR"], opt_name="Adam")
    mps = [p for g in mo.param_groups for p in g["params"]]
    tps = [p for g in to.param_groups for p in g["params"]]
    for gs in grads_seq(10, shapes=[(2,), (3,)]):
        set_grads(mps, tps, gs)
        mo.step()
        to.step()
        ms.step()
        ts.step()
    assert_params_close(mps, tps, "float32")


def test_scheduler_warns_when_stepped_before_optimizer():
    (mo, ms), (to, ts) = _sched_pair(SCHEDULERS["ExponentialLR"])
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        ms.step()
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        ts.step()


def test_scheduler_state_dict_and_resume():
    (mo, ms), (to, ts) = _sched_pair(SCHEDULERS["CosineAnnealingLR"])
    for _ in range(5):
        mo.step()
        ms.step()
    sd = ms.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 5 and sd["T_max"] == 10
    ms2 = optim.lr_scheduler.CosineAnnealingLR(mo, T_max=10, eta_min=0.01, last_epoch=4)
    ms2.load_state_dict(sd)
    assert ms2.get_last_lr() == ms.get_last_lr()
    with pytest.raises(KeyError, match="initial_lr"):
        p = mt.zeros(1, requires_grad=True)
        optim.lr_scheduler.StepLR(optim.SGD([p], lr=0.1), step_size=2, last_epoch=3)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        optim.lr_scheduler.StepLR(object(), step_size=2)


PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.95, 0.95, 0.96, 0.97, 0.8, 0.81, 0.81, 0.81, 0.81, 0.81, 0.5, 0.5, 0.5, 0.5,
                   0.5, 0.5, 0.49999, 0.6, 0.7, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(patience=2, factor=0.5),
    dict(patience=1, factor=0.5, cooldown=2, min_lr=0.02),
    dict(mode="max", patience=1, factor=0.3, threshold_mode="abs", threshold=0.01),
    dict(patience=0, factor=0.1, min_lr=[0.001, 0.05], threshold=0.05),
    dict(mode="min", patience=1, threshold_mode="abs", threshold=0.1, eps=1e-3),
])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    (mo, ms), (to, ts) = _sched_pair(lambda s, o: s.ReduceLROnPlateau(o, **kwargs))
    for metric in PLATEAU_METRICS:
        mo.step()
        to.step()
        ms.step(metric)
        ts.step(metric)
        assert ms.get_last_lr() == ts.get_last_lr()
        assert (ms.num_bad_epochs, ms.cooldown_counter, ms.best, ms.last_epoch) == \
            (ts.num_bad_epochs, ts.cooldown_counter, ts.best, ts.last_epoch)
    ms.step(mt.tensor(0.1))  # a 0-d tensor metric
    ts.step(torch.tensor(0.1))
    assert ms.get_last_lr() == ts.get_last_lr()


def test_reduce_lr_on_plateau_errors_match_torch():
    for o_lib, lib in ((optim, mt), (torch.optim, torch)):
        o = o_lib.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        with pytest.raises(ValueError, match="Factor should be < 1.0."):
            o_lib.lr_scheduler.ReduceLROnPlateau(o, factor=1.0)
        with pytest.raises(ValueError, match="mode foo is unknown!"):
            o_lib.lr_scheduler.ReduceLROnPlateau(o, mode="foo")
        with pytest.raises(ValueError, match="threshold mode bar is unknown!"):
            o_lib.lr_scheduler.ReduceLROnPlateau(o, threshold_mode="bar")
        with pytest.raises(ValueError, match="expected 1 min_lrs, got 2"):
            o_lib.lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1, 0.2])


def test_optimizer_repr_matches_torch():
    mps, tps = make_pair()
    for name, kw in [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01)), ("RMSprop", {}), ("Adagrad", {})]:
        assert repr(getattr(optim, name)(mps, **kw)) == repr(getattr(torch.optim, name)(tps, **kw))


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop", "Adagrad"])
def test_setstate_turns_number_steps_into_tensors(name):
    """a state whose 'step' entries are plain numbers (an older checkpoint) gets them back as tensors,
    and the next step equals the one of an optimizer that never lost them"""
    import minitorch as mt

    results = []
    for as_number in (False, True):
        p = mt.tensor([1.0, -2.0, 3.0], requires_grad=True)
        opt = getattr(mt.optim, name)([p], lr=0.1)
        for _ in range(2):
            p.grad = mt.tensor([0.5, 0.25, -1.0])
            opt.step()
        if as_number:
            st = opt.__getstate__()
            st["state"][p]["step"] = 2.0
            opt.__setstate__(st)
            assert isinstance(opt.state[p]["step"], mt.Tensor) and float(opt.state[p]["step"]) == 2.0
        p.grad = mt.tensor([0.5, 0.25, -1.0])
        opt.step()
        results.append(p.detach().numpy().copy())
    np.testing.assert_array_equal(results[1], results[0])

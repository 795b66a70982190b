"""minitorch.optim.lr_scheduler's OneCycleLR, CyclicLR, CosineAnnealingWarmRestarts, LinearLR, ConstantLR,
PolynomialLR, SequentialLR, ChainedScheduler and optim.swa_utils (AveragedModel, SWALR, update_bn) against
torch: the same lr (and momentum / betas) sequences step by step, state_dict round trips mid-way, the same
exceptions for bad arguments, the same averaged parameters and recomputed BatchNorm statistics."""
import copy
import warnings

import numpy as np
import pytest

import minitorch as mt
import minitorch.optim as optim
from minitorch.optim import swa_utils

torch = pytest.importorskip("torch")
import torch.optim.swa_utils  # noqa: E402

STEPS = 100
LIBS = {"mt": (mt, optim), "torch": (torch, torch.optim)}


def make_opt(lib, kind):
    """An optimizer over two tiny parameters in two param groups (lr 0.1 and 0.05)."""
    T, O = LIBS[lib]
    a = T.nn.Parameter(T.ones(2))
    b = T.nn.Parameter(T.ones(3))
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    if kind == "sgd_tensor":  # tensor learning rates: the schedulers fill them in place
        groups[1]["lr"] = T.tensor(0.05, dtype=T.float64)
        return O.SGD(groups, lr=T.tensor(0.1, dtype=T.float64), momentum=0.9)
    if kind == "sgd":
        return O.SGD(groups, lr=0.1, momentum=0.9)
    if kind == "adam":
        return O.Adam(groups, lr=0.1, betas=(0.9, 0.99))
    if kind == "plain":
        return O.SGD(groups, lr=0.1)
    raise AssertionError(kind)


def _floats(values):
    return [[float(x) for x in v] if isinstance(v, (list, tuple)) else float(v) for v in values]


def assert_close(m, t, what):
    np.testing.assert_allclose(np.asarray(_floats(m), dtype=np.float64), np.asarray(_floats(t), dtype=np.float64),
                               rtol=1e-12, atol=0, err_msg=what)


def assert_same_state(ms, mo, ts, to, step):
    assert_close(ms.get_last_lr(), ts.get_last_lr(), f"get_last_lr at step {step}")
    for key in ("lr", "momentum"):
        if key in to.param_groups[0]:
            assert_close([g[key] for g in mo.param_groups], [g[key] for g in to.param_groups],
                         f"param_groups {key} at step {step}")
    if "betas" in to.param_groups[0]:
        assert_close([list(g["betas"]) for g in mo.param_groups], [list(g["betas"]) for g in to.param_groups],
                     f"param_groups betas at step {step}")


def make_pair(make, kind):
    mo, to = make_opt("mt", kind), make_opt("torch", kind)
    return (mo, make(optim.lr_scheduler, mo)), (to, make(torch.optim.lr_scheduler, to))


def step_pair(pair, steps, start=0, epoch_fn=None):
    (mo, ms), (to, ts) = pair
    for i in range(start, start + steps):
        mo.step()
        to.step()
        if epoch_fn is None:
            ms.step()
            ts.step()
        else:
            ms.step(epoch_fn(i))
            ts.step(epoch_fn(i))
        assert_same_state(ms, mo, ts, to, i)


SCHEDULERS = {
    "onecycle_cos": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS)),
    "onecycle_linear_3phase": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.8, total_steps=STEPS,
                                                                 anneal_strategy="linear", three_phase=True)),
    "onecycle_adam_epochs": ("adam", lambda L, o: L.OneCycleLR(o, max_lr=0.3, epochs=10, steps_per_epoch=10,
                                                                pct_start=0.25, div_factor=10.0,
                                                                final_div_factor=100.0, base_momentum=0.8,
                                                                max_momentum=[0.95, 0.9])),
    "onecycle_3phase_adam_cos": ("adam", lambda L, o: L.OneCycleLR(o, max_lr=0.3, total_steps=STEPS,
                                                                    three_phase=True, pct_start=0.2)),
    "onecycle_no_momentum": ("plain", lambda L, o: L.OneCycleLR(o, max_lr=0.3, total_steps=STEPS,
                                                                 cycle_momentum=False)),
    "cyclic_triangular": ("sgd", lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=7)),
    "cyclic_triangular2": ("sgd", lambda L, o: L.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=5,
                                                           step_size_down=9, mode="triangular2")),
    "cyclic_exp_range_adam": ("adam", lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=6,
                                                               mode="exp_range", gamma=0.98,
                                                               base_momentum=0.85, max_momentum=0.95)),
    "cyclic_scale_fn": ("sgd", lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4,
                                                        scale_fn=lambda x: 1.0 / (1.0 + 0.1 * x),
                                                        scale_mode="iterations")),
    "cyclic_no_momentum": ("plain", lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                                             cycle_momentum=False)),
    "warm_restarts": ("sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=7)),
    "warm_restarts_mult": ("sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001)),
    "linear": ("sgd", lambda L, o: L.LinearLR(o)),
    "linear_decay": ("sgd", lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=40)),
    "constant": ("sgd", lambda L, o: L.ConstantLR(o)),
    "constant_long": ("sgd", lambda L, o: L.ConstantLR(o, factor=0.5, total_iters=30)),
    "polynomial": ("sgd", lambda L, o: L.PolynomialLR(o)),
    "polynomial_pow": ("sgd", lambda L, o: L.PolynomialLR(o, total_iters=60, power=2.5)),
    "sequential": ("sgd", lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=10), L.ExponentialLR(o, gamma=0.97)], milestones=[10])),
    "sequential3": ("sgd", lambda L, o: L.SequentialLR(
        o, [L.ConstantLR(o, factor=0.2, total_iters=5), L.CosineAnnealingLR(o, T_max=20),
            L.StepLR(o, step_size=7, gamma=0.5)], milestones=[5, 40])),
    "chained": ("sgd", lambda L, o: L.ChainedScheduler(
        [L.ConstantLR(o, factor=0.1, total_iters=4), L.ExponentialLR(o, gamma=0.95)])),
    "chained_opt": ("sgd", lambda L, o: L.ChainedScheduler(
        [L.LinearLR(o, start_factor=0.5, total_iters=10), L.MultiStepLR(o, milestones=[20, 50], gamma=0.3),
         L.PolynomialLR(o, total_iters=80, power=0.5)], optimizer=o)),
    "swalr_cos": ("sgd", lambda L, o: (optim.swa_utils if L is optim.lr_scheduler else torch.optim.swa_utils)
                  .SWALR(o, swa_lr=0.02)),
    "swalr_linear": ("sgd", lambda L, o: (optim.swa_utils if L is optim.lr_scheduler else torch.optim.swa_utils)
                     .SWALR(o, swa_lr=[0.02, 0.5], anneal_epochs=7, anneal_strategy="linear")),
    "swalr_zero": ("sgd", lambda L, o: (optim.swa_utils if L is optim.lr_scheduler else torch.optim.swa_utils)
                   .SWALR(o, swa_lr=0.3, anneal_epochs=0)),
}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_sequence_matches_torch(name):
    kind, make = SCHEDULERS[name]
    pair = make_pair(make, kind)
    (mo, ms), (to, ts) = pair
    assert_same_state(ms, mo, ts, to, -1)
    step_pair(pair, STEPS)


@pytest.mark.parametrize("name", ["onecycle_cos", "cyclic_triangular2", "warm_restarts_mult", "linear_decay",
                                  "constant_long", "polynomial_pow", "sequential3", "chained_opt", "swalr_cos"])
def test_tensor_lr_sequence_matches_torch(name):
    _, make = SCHEDULERS[name]
    pair = make_pair(make, "sgd_tensor")
    step_pair(pair, STEPS)
    (mo, ms), (to, ts) = pair
    assert all(isinstance(g["lr"], mt.Tensor) for g in mo.param_groups)
    assert all(isinstance(g["lr"], torch.Tensor) for g in to.param_groups)


def test_get_lr_outside_step_warns():
    for L in (optim.lr_scheduler, torch.optim.lr_scheduler):
        o = make_opt("mt" if L is optim.lr_scheduler else "torch", "sgd")
        for s in (L.OneCycleLR(o, 0.1, total_steps=10), L.LinearLR(o), L.PolynomialLR(o), L.ConstantLR(o),
                  L.CyclicLR(o, 0.01, 0.1), L.CosineAnnealingWarmRestarts(o, 3), _swa(L).SWALR(o, 0.1)):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                s.get_lr()
            assert any("get_last_lr()" in str(x.message) for x in w), type(s)


def test_onecycle_past_total_steps_raises():
    kind, make = SCHEDULERS["onecycle_cos"]
    pair = make_pair(make, kind)
    step_pair(pair, STEPS)
    (_, ms), (_, ts) = pair
    with pytest.raises(ValueError, match="Tried to step 101 times"):
        ts.step()
    with pytest.raises(ValueError, match="Tried to step 101 times"):
        ms.step()


@pytest.mark.parametrize("name", ["warm_restarts", "warm_restarts_mult"])
def test_warm_restarts_fractional_epochs(name):
    kind, make = SCHEDULERS[name]
    pair = make_pair(make, kind)
    step_pair(pair, STEPS, epoch_fn=lambda i: i / 4.0 + (0.3 if i % 3 else 0.0))
    # jumping back and forth, including exactly onto restarts
    step_pair(pair, 6, epoch_fn=lambda i: [21, 3, 0, 9.5, 45.0, 2.25][i])


@pytest.mark.parametrize("name", ["linear_decay", "constant_long", "polynomial_pow"])
def test_closed_form_with_epoch(name):
    kind, make = SCHEDULERS[name]
    pair = make_pair(make, kind)
    step_pair(pair, 30, epoch_fn=lambda i: (i * 7) % 50)


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_state_dict_round_trip(name):
    """Half-way, a fresh optimizer and scheduler take both state dicts and continue as torch does."""
    kind, make = SCHEDULERS[name]
    pair = make_pair(make, kind)
    half = STEPS // 2
    step_pair(pair, half)
    (mo, ms), (to, ts) = pair
    sd = copy.deepcopy(ms.state_dict())
    osd = mo.state_dict()
    # the torch scheduler's state dict has the same keys
    assert set(sd) == set(ts.state_dict())
    mo2 = make_opt("mt", kind)
    ms2 = make(optim.lr_scheduler, mo2)
    mo2.load_state_dict(osd)
    ms2.load_state_dict(sd)
    assert getattr(ms2, "last_epoch", None) == getattr(ms, "last_epoch", None)
    for i in range(half, STEPS):
        mo2.step()
        to.step()
        ms2.step()
        ts.step()
        assert_same_state(ms2, mo2, ts, to, i)


def test_cyclic_callable_scale_fn_state():
    class Scale:
        def __init__(self):
            self.k = 0.5

        def __call__(self, x):
            return self.k ** x

    mo = make_opt("mt", "sgd")
    ms = optim.lr_scheduler.CyclicLR(mo, 0.01, 0.1, step_size_up=3, scale_fn=Scale())
    sd = ms.state_dict()
    assert sd["_scale_fn_custom"] == {"k": 0.5}
    assert "_scale_fn_ref" not in sd
    fn = Scale()
    fn.k = 0.1
    ms2 = optim.lr_scheduler.CyclicLR(make_opt("mt", "sgd"), 0.01, 0.1, step_size_up=3, scale_fn=fn)
    ms2.load_state_dict(sd)
    assert fn.k == 0.5
    lam = optim.lr_scheduler.CyclicLR(make_opt("mt", "sgd"), 0.01, 0.1, scale_fn=lambda x: 1.0)
    assert lam.state_dict()["_scale_fn_custom"] is None


BAD = {
    "onecycle_no_steps": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1)),
    "onecycle_total_steps": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=0)),
    "onecycle_total_steps_float": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=10.0)),
    "onecycle_epochs": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1, epochs=-1, steps_per_epoch=3)),
    "onecycle_steps_per_epoch": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1, epochs=2, steps_per_epoch=0)),
    "onecycle_pct": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5)),
    "onecycle_pct_int": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=0)),
    "onecycle_anneal": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp")),
    "onecycle_max_lr_len": ("sgd", lambda L, o: L.OneCycleLR(o, max_lr=[0.1, 0.2, 0.3], total_steps=10)),
    "onecycle_no_momentum": ("plain_rprop", lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=10)),
    "onecycle_not_opt": (None, lambda L, o: L.OneCycleLR(object(), max_lr=0.1, total_steps=10)),
    "cyclic_mode": ("sgd", lambda L, o: L.CyclicLR(o, 0.01, 0.1, mode="foo")),
    "cyclic_base_len": ("sgd", lambda L, o: L.CyclicLR(o, [0.01], 0.1)),
    "cyclic_momentum_len": ("sgd", lambda L, o: L.CyclicLR(o, 0.01, 0.1, base_momentum=[0.8, 0.8, 0.8])),
    "cyclic_no_momentum": ("plain_rprop", lambda L, o: L.CyclicLR(o, 0.01, 0.1)),
    "cyclic_not_opt": (None, lambda L, o: L.CyclicLR(object(), 0.01, 0.1)),
    "warm_T0": ("sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0)),
    "warm_T0_float": ("sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2.0)),
    "warm_Tmult": ("sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0)),
    "warm_Tmult_float": ("sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5)),
    "warm_eta_min": ("sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="0")),
    "warm_neg_epoch": ("sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2).step(-1)),
    "linear_start": ("sgd", lambda L, o: L.LinearLR(o, start_factor=0)),
    "linear_start_big": ("sgd", lambda L, o: L.LinearLR(o, start_factor=1.5)),
    "linear_end": ("sgd", lambda L, o: L.LinearLR(o, end_factor=-0.1)),
    "constant_factor": ("sgd", lambda L, o: L.ConstantLR(o, factor=1.5)),
    "constant_factor_neg": ("sgd", lambda L, o: L.ConstantLR(o, factor=-0.5)),
    "sequential_empty": ("sgd", lambda L, o: L.SequentialLR(o, [], milestones=[])),
    "sequential_milestones": ("sgd", lambda L, o: L.SequentialLR(
        o, [L.ConstantLR(o), L.ExponentialLR(o, 0.9)], milestones=[3, 5])),
    "sequential_plateau": ("sgd", lambda L, o: L.SequentialLR(
        o, [L.ConstantLR(o), L.ReduceLROnPlateau(o)], milestones=[3])),
    "sequential_other_opt": ("sgd", lambda L, o: L.SequentialLR(
        o, [L.ConstantLR(o), L.ExponentialLR(type(o)(o.param_groups[0]["params"], lr=0.1), 0.9)],
        milestones=[3])),
    "sequential_no_optimizer": ("sgd", lambda L, o: L.SequentialLR(o, [object()], milestones=[])),
    "chained_empty": ("sgd", lambda L, o: L.ChainedScheduler([])),
    "chained_plateau": ("sgd", lambda L, o: L.ChainedScheduler([L.ConstantLR(o), L.ReduceLROnPlateau(o)])),
    "chained_other_opt": ("sgd", lambda L, o: L.ChainedScheduler(
        [L.ConstantLR(o), L.ExponentialLR(type(o)(o.param_groups[0]["params"], lr=0.1), 0.9)])),
    "swalr_anneal": ("sgd", lambda L, o: _swa(L).SWALR(o, 0.1, anneal_strategy="exp")),
    "swalr_epochs": ("sgd", lambda L, o: _swa(L).SWALR(o, 0.1, anneal_epochs=-1)),
    "swalr_epochs_float": ("sgd", lambda L, o: _swa(L).SWALR(o, 0.1, anneal_epochs=2.0)),
    "swalr_len": ("sgd", lambda L, o: _swa(L).SWALR(o, [0.1, 0.2, 0.3])),
    "ema_decay": (None, lambda L, o: _swa(L).get_ema_avg_fn(1.5)),
    "ema_multi_decay": (None, lambda L, o: _swa(L).get_ema_multi_avg_fn(-0.1)),
    "averaged_both_fns": (None, lambda L, o: _swa(L).AveragedModel(
        _lib(L).nn.Linear(2, 2), avg_fn=_swa(L).get_ema_avg_fn(), multi_avg_fn=_swa(L).get_ema_multi_avg_fn())),
}


def _swa(L):
    return optim.swa_utils if L is optim.lr_scheduler else torch.optim.swa_utils


def _lib(L):
    return mt if L is optim.lr_scheduler else torch


def _bad_opt(lib, kind):
    if kind is None:
        return None
    if kind == "plain_rprop":
        T, O = LIBS[lib]
        return O.Rprop([T.nn.Parameter(T.ones(2))], lr=0.1)
    return make_opt(lib, kind)


@pytest.mark.parametrize("name", list(BAD))
def test_bad_arguments_raise_like_torch(name):
    kind, make = BAD[name]
    with pytest.raises(Exception) as texc:
        make(torch.optim.lr_scheduler, _bad_opt("torch", kind))
    with pytest.raises(Exception) as mexc:
        make(optim.lr_scheduler, _bad_opt("mt", kind))
    assert type(mexc.value) is type(texc.value), (mexc.value, texc.value)
    assert str(mexc.value).split(" at 0x")[0].split(" has <")[0] == \
        str(texc.value).split(" at 0x")[0].split(" has <")[0].replace("torch.", "minitorch.")


# --- swa_utils: AveragedModel and update_bn -------------------------------------------------------------

def make_models(seed=0):
    """The same small MLP with BatchNorm in both libraries."""
    def build(T):
        return T.nn.Sequential(T.nn.Linear(3, 4), T.nn.BatchNorm1d(4), T.nn.ReLU(), T.nn.Linear(4, 2),
                               T.nn.BatchNorm1d(2))
    mm, tm = build(mt), build(torch)
    rng = np.random.default_rng(seed)
    set_weights(mm, tm, rng)
    return mm, tm


def set_weights(mm, tm, rng, buffers=False):
    with mt.no_grad(), torch.no_grad():
        pairs = list(zip(mm.parameters(), tm.parameters()))
        if buffers:
            pairs += [(b, c) for b, c in zip(mm.buffers(), tm.buffers()) if b.dtype == mt.float32]
        for mp, tp in pairs:
            a = rng.standard_normal(tuple(tp.shape)).astype(np.float32)
            if buffers and tp.ndim == 1 and not isinstance(tp, torch.nn.Parameter):
                a = np.abs(a)
            mp.copy_(mt.tensor(a))
            tp.copy_(torch.tensor(a))


def assert_tensors_match(mtensors, ttensors, rtol=1e-6, atol=1e-7):
    mtensors, ttensors = list(mtensors), list(ttensors)
    assert len(mtensors) == len(ttensors)
    for m, t in zip(mtensors, ttensors):
        assert str(m.dtype) == str(t.dtype)
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)


AVG_OPTIONS = {
    "swa": lambda S: {},
    "ema_avg_fn": lambda S: {"avg_fn": S.get_ema_avg_fn(0.9)},
    "ema_multi": lambda S: {"multi_avg_fn": S.get_ema_multi_avg_fn(0.8)},
    "swa_multi": lambda S: {"multi_avg_fn": S.get_swa_multi_avg_fn()},
    "swa_avg_fn": lambda S: {"avg_fn": S.get_swa_avg_fn()},
    "swa_buffers": lambda S: {"use_buffers": True},
    "ema_multi_buffers": lambda S: {"multi_avg_fn": S.get_ema_multi_avg_fn(0.7), "use_buffers": True},
    "ema_default_decay": lambda S: {"multi_avg_fn": S.get_ema_multi_avg_fn()},
}


@pytest.mark.parametrize("name", list(AVG_OPTIONS))
def test_averaged_model_matches_torch(name):
    mm, tm = make_models()
    ma = swa_utils.AveragedModel(mm, **AVG_OPTIONS[name](swa_utils))
    ta = torch.optim.swa_utils.AveragedModel(tm, **AVG_OPTIONS[name](torch.optim.swa_utils))
    assert list(ma.state_dict()) == list(ta.state_dict())
    rng = np.random.default_rng(1)
    for i in range(6):
        set_weights(mm, tm, rng, buffers=True)
        ma.update_parameters(mm)
        ta.update_parameters(tm)
        assert int(ma.n_averaged) == int(ta.n_averaged) == i + 1
        assert_tensors_match(ma.parameters(), ta.parameters())
        assert_tensors_match(ma.buffers(), ta.buffers())
    # the averaged copy does not share storage with the model, and runs forward like it
    x = np.random.default_rng(2).standard_normal((5, 3)).astype(np.float32)
    ma.eval()
    ta.eval()
    assert_tensors_match([ma(mt.tensor(x))], [ta(torch.tensor(x))], rtol=1e-5, atol=1e-6)
    sd_m, sd_t = ma.state_dict(), ta.state_dict()
    assert list(sd_m) == list(sd_t)
    assert_tensors_match(sd_m.values(), sd_t.values())


def test_averaged_model_float64_tight():
    mm = mt.nn.Linear(3, 2).double()
    tm = torch.nn.Linear(3, 2).double()
    rng = np.random.default_rng(3)
    for opts in ({}, {"multi_avg_fn": "ema"}):
        kw_m = {"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(0.95)} if opts else {}
        kw_t = {"multi_avg_fn": torch.optim.swa_utils.get_ema_multi_avg_fn(0.95)} if opts else {}
        ma, ta = swa_utils.AveragedModel(mm, **kw_m), torch.optim.swa_utils.AveragedModel(tm, **kw_t)
        for _ in range(5):
            with mt.no_grad(), torch.no_grad():
                for mp, tp in zip(mm.parameters(), tm.parameters()):
                    a = rng.standard_normal(tuple(tp.shape))
                    mp.copy_(mt.tensor(a))
                    tp.copy_(torch.tensor(a))
            ma.update_parameters(mm)
            ta.update_parameters(tm)
        assert_tensors_match(ma.parameters(), ta.parameters(), rtol=1e-14, atol=1e-15)


def test_update_bn_matches_torch():
    mm, tm = make_models(seed=4)
    rng = np.random.default_rng(5)
    data = [rng.standard_normal((8, 3)).astype(np.float32) * (i + 1) for i in range(5)]
    ma, ta = swa_utils.AveragedModel(mm), torch.optim.swa_utils.AveragedModel(tm)
    ma.update_parameters(mm)
    ta.update_parameters(tm)
    ma.eval()
    ta.eval()
    # loaders of (input, target) pairs and of bare inputs
    mloader = [(mt.tensor(d), mt.zeros(8)) for d in data[:3]] + [mt.tensor(d) for d in data[3:]]
    tloader = [(torch.tensor(d), torch.zeros(8)) for d in data[:3]] + [torch.tensor(d) for d in data[3:]]
    swa_utils.update_bn(mloader, ma)
    torch.optim.swa_utils.update_bn(tloader, ta)
    assert ma.training is ta.training is False
    assert_tensors_match(ma.buffers(), ta.buffers(), rtol=1e-5, atol=1e-6)
    for m_bn, t_bn in zip(ma.module.modules(), ta.module.modules()):
        if isinstance(t_bn, torch.nn.BatchNorm1d):
            assert m_bn.momentum == t_bn.momentum == 0.1
            assert int(m_bn.num_batches_tracked) == int(t_bn.num_batches_tracked) == 5
    # through a minitorch DataLoader, on the plain model, in train mode
    from minitorch.utils.data import DataLoader, TensorDataset
    mm.train()
    tm.train()
    allx = np.concatenate(data)
    swa_utils.update_bn(DataLoader(TensorDataset(mt.tensor(allx)), batch_size=10), mm)
    torch.optim.swa_utils.update_bn(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(
        torch.tensor(allx)), batch_size=10), tm)
    assert mm.training and tm.training
    assert_tensors_match(mm.buffers(), tm.buffers(), rtol=1e-5, atol=1e-6)


def test_update_bn_without_batchnorm_is_a_no_op():
    m = mt.nn.Linear(2, 2)
    swa_utils.update_bn([mt.ones(1, 2)], m)  # no BatchNorm: the loader is not even read
    swa_utils.update_bn(iter(()), m)


def test_exports():
    for name in ("OneCycleLR", "CyclicLR", "CosineAnnealingWarmRestarts", "LinearLR", "ConstantLR",
                 "PolynomialLR", "SequentialLR", "ChainedScheduler"):
        assert name in optim.lr_scheduler.__all__
        assert hasattr(optim.lr_scheduler, name)
    assert set(swa_utils.__all__) == set(torch.optim.swa_utils.__all__)
    assert optim.swa_utils is swa_utils

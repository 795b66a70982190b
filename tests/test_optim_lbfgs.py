"""optim.LBFGS (with and without the strong-Wolfe line search) and optim.SparseAdam against torch.optim,
and the optimizer step pre/post hooks (per optimizer and global) of minitorch.optim.Optimizer."""
import copy

import numpy as np
import pytest

import minitorch as mt
import minitorch.optim as optim

torch = pytest.importorskip("torch")


def _rosen(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def _closure(opt, f, *args):
    def closure():
        opt.zero_grad()
        loss = f(*args)
        loss.backward()
        return loss

    return closure


def _lbfgs_pair(mparams, tparams, **kw):
    return optim.LBFGS(mparams, **kw), torch.optim.LBFGS(tparams, **kw)


# -------------------------------------------------------------------------------------------------- LBFGS
# Rosenbrock's valley amplifies rounding differences between the kernels (torch's add with alpha uses
# an FMA, its dot is BLAS's), so the runs are kept to the iterations over which they stay within 1e-6.
@pytest.mark.parametrize("history_size", [1, 3, 100])
@pytest.mark.parametrize("line_search_fn,lr,max_iter,steps", [(None, 0.1, 4, 6), ("strong_wolfe", 1, 5, 4)])
def test_lbfgs_rosenbrock(history_size, line_search_fn, lr, max_iter, steps):
    mx = mt.tensor([-1.5, 2.0], dtype=mt.float64, requires_grad=True)
    tx = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    mo, to = _lbfgs_pair([mx], [tx], lr=lr, max_iter=max_iter, history_size=history_size,
                         line_search_fn=line_search_fn)
    for _ in range(steps):
        ml = mo.step(_closure(mo, _rosen, mx))
        tl = to.step(_closure(to, _rosen, tx))
        assert isinstance(ml, mt.Tensor)
        np.testing.assert_allclose(ml.item(), tl.item(), rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(mx.detach().numpy(), tx.detach().numpy(), rtol=1e-6, atol=1e-9)
        ms, ts = mo.state[mx], to.state[tx]
        assert ms["func_evals"] == ts["func_evals"] and ms["n_iter"] == ts["n_iter"]
        assert len(ms["old_dirs"]) == len(ts["old_dirs"]) <= history_size
        np.testing.assert_allclose(float(ms["t"]), float(ts["t"]), rtol=1e-6)
    if line_search_fn is not None:  # (a fixed step may diverge, as torch's does with history_size=3)
        assert float(_rosen(mx)) < float(_rosen(mt.tensor([-1.5, 2.0], dtype=mt.float64)))


def test_lbfgs_rosenbrock_converges_like_torch():
    """strong_wolfe on Rosenbrock from torch's classic start reaches the minimum as torch does"""
    mx = mt.tensor([-1.5, 2.0], dtype=mt.float64, requires_grad=True)
    tx = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    mo, to = _lbfgs_pair([mx], [tx], max_iter=100, line_search_fn="strong_wolfe")
    mo.step(_closure(mo, _rosen, mx))
    to.step(_closure(to, _rosen, tx))
    np.testing.assert_allclose(mx.detach().numpy(), [1.0, 1.0], atol=1e-5)
    np.testing.assert_allclose(mx.detach().numpy(), tx.detach().numpy(), atol=1e-6)


def _regression_models(line_search_fn, dtype_m, dtype_t):
    torch.manual_seed(0)
    tx = torch.randn(32, 3, dtype=dtype_t)
    ty = tx @ torch.tensor([[1.5], [-2.0], [0.5]], dtype=dtype_t) + 0.3 + 0.1 * torch.randn(32, 1, dtype=dtype_t)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).to(dtype_t)
    mm = mt.nn.Sequential(mt.nn.Linear(3, 4), mt.nn.Tanh(), mt.nn.Linear(4, 1)).to(dtype_m)
    with torch.no_grad():
        for mp, tp in zip(mm.parameters(), tm.parameters()):
            mp.data.copy_(mt.tensor(tp.detach().numpy()))
    mx, my = mt.tensor(tx.numpy()), mt.tensor(ty.numpy())
    return (mm, mx, my), (tm, tx, ty)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_regression_float32(line_search_fn):
    (mm, mx, my), (tm, tx, ty) = _regression_models(line_search_fn, mt.float32, torch.float32)
    kw = dict(lr=0.5 if line_search_fn is None else 1, max_iter=5, history_size=4, line_search_fn=line_search_fn)
    mo, to = _lbfgs_pair(list(mm.parameters()), list(tm.parameters()), **kw)
    mloss = lambda: mt.nn.functional.mse_loss(mm(mx), my)  # noqa: E731
    tloss = lambda: torch.nn.functional.mse_loss(tm(tx), ty)  # noqa: E731
    first = None
    for _ in range(3):
        ml = mo.step(_closure(mo, mloss))
        tl = to.step(_closure(to, tloss))
        first = ml.item() if first is None else first
        np.testing.assert_allclose(ml.item(), tl.item(), rtol=1e-4, atol=1e-5)
        for mp, tp in zip(mm.parameters(), tm.parameters()):
            np.testing.assert_allclose(mp.detach().numpy(), tp.detach().numpy(), rtol=1e-3, atol=1e-4)
        assert mo.state[mm[0].weight]["func_evals"] == to.state[tm[0].weight]["func_evals"]
    assert mloss().item() < first


def test_lbfgs_closure_runs_with_grad_enabled_and_state_dict_round_trip():
    mx = mt.tensor([-1.0, 1.5], dtype=mt.float64, requires_grad=True)
    mo = optim.LBFGS([mx], lr=0.5, max_iter=3, history_size=5)
    seen = []

    def closure():
        seen.append(mt.is_grad_enabled())
        mo.zero_grad()
        loss = _rosen(mx)
        loss.backward()
        return loss

    with mt.no_grad():
        mo.step(closure)
    assert seen and all(seen)
    mo.step(closure)

    sd = copy.deepcopy(mo.state_dict())  # (state_dict holds the live state tensors, as torch's)
    tx = torch.tensor([-1.0, 1.5], dtype=torch.float64, requires_grad=True)
    to = torch.optim.LBFGS([tx], lr=0.5, max_iter=3, history_size=5)
    to.step(_closure(to, _rosen, tx))
    to.step(_closure(to, _rosen, tx))
    tsd = to.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    assert set(sd["state"][0]) == set(tsd["state"][0])

    mx2 = mx.detach().clone().requires_grad_(True)
    mo2 = optim.LBFGS([mx2], lr=0.5, max_iter=3, history_size=5)
    mo2.load_state_dict(sd)
    assert mo2.state[mx2]["n_iter"] == mo.state[mx]["n_iter"]
    for _ in range(2):
        mo.step(closure)
        mo2.step(_closure(mo2, _rosen, mx2))
    np.testing.assert_array_equal(mx.detach().numpy(), mx2.detach().numpy())
    assert mo2.state[mx2]["func_evals"] == mo.state[mx]["func_evals"]


def test_lbfgs_errors_and_defaults():
    a = mt.zeros(2, requires_grad=True)
    b = mt.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([{"params": [a]}, {"params": [b], "lr": 0.1}])
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.LBFGS([a], lr=-1)
    o = optim.LBFGS([a, b], max_iter=8)
    t = torch.optim.LBFGS([torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)], max_iter=8)
    assert o.defaults == t.defaults
    assert repr(o) == repr(t)
    o2 = optim.LBFGS([a], line_search_fn="backtracking")
    a.grad = None

    def closure():
        o2.zero_grad()
        loss = ((a - 1) ** 2).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        o2.step(closure)


def test_lbfgs_optimal_start_returns_first_loss():
    a = mt.ones(3, requires_grad=True)
    o = optim.LBFGS([a])
    loss = o.step(_closure(o, lambda: ((a - 1) ** 2).sum()))
    assert loss.item() == 0.0
    assert o.state[a]["func_evals"] == 1 and o.state[a]["n_iter"] == 0


# -------------------------------------------------------------------------------------------------- SparseAdam
@pytest.mark.parametrize("maximize", [False, True])
def test_sparse_adam_embedding_matches_torch(maximize):
    """torch: nn.Embedding(sparse=True) gives sparse gradients; minitorch's dense gradient of the same
    lookup is updated on its nonzero rows only, which gives torch's numbers"""
    torch.manual_seed(0)
    te = torch.nn.Embedding(10, 4, sparse=True, dtype=torch.float64)
    me = mt.nn.Embedding(10, 4, dtype=mt.float64)
    me.weight.data.copy_(mt.tensor(te.weight.detach().numpy()))
    to = torch.optim.SparseAdam(te.parameters(), lr=0.05, betas=(0.8, 0.99), maximize=maximize)
    mo = optim.SparseAdam(me.parameters(), lr=0.05, betas=(0.8, 0.99), maximize=maximize)
    g = torch.Generator().manual_seed(1)
    for _ in range(20):
        idx = torch.randint(0, 10, (6,), generator=g)
        tgt = torch.randn(6, 4, generator=g, dtype=torch.float64)
        to.zero_grad()
        (torch.relu(te(idx)) - tgt).pow(2).sum().backward()
        assert te.weight.grad.is_sparse
        to.step()
        mo.zero_grad()
        (mt.relu(me(mt.tensor(idx.numpy()))) - mt.tensor(tgt.numpy())).pow(2).sum().backward()
        mo.step()
        np.testing.assert_allclose(me.weight.detach().numpy(), te.weight.detach().numpy(), rtol=1e-12, atol=1e-12)
    ms, ts = mo.state[me.weight], to.state[te.weight]
    assert ms["step"] == ts["step"] == 20
    np.testing.assert_allclose(ms["exp_avg"].numpy(), ts["exp_avg"].numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ms["exp_avg_sq"].numpy(), ts["exp_avg_sq"].numpy(), rtol=1e-12, atol=1e-14)
    assert mo.state_dict()["param_groups"] == to.state_dict()["param_groups"]


def test_sparse_adam_leaves_absent_rows_and_errors():
    w = mt.ones(4, 2, requires_grad=True)
    o = optim.SparseAdam([w], lr=0.1)
    w.grad = mt.tensor([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [0.0, -2.0]])
    o.step()
    before = w.detach().numpy().copy()
    w.grad = mt.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    o.step()
    wn = w.detach().numpy()
    np.testing.assert_array_equal(wn[[0, 2]], 1.0)
    np.testing.assert_array_equal(wn[3], before[3])  # absent row: untouched
    assert wn[1, 1] != before[1, 1]  # a present row is updated whole (its moments decay), as torch's sparse rows
    np.testing.assert_array_equal(o.state[w]["exp_avg"].numpy()[[0, 2]], 0.0)
    for kw, msg in [({"lr": 0.0}, "Invalid learning rate"), ({"eps": 0.0}, "Invalid epsilon value"),
                    ({"betas": (1.0, 0.9)}, "Invalid beta parameter at index 0"),
                    ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1")]:
        with pytest.raises(ValueError, match=msg):
            optim.SparseAdam([w], **kw)


# -------------------------------------------------------------------------------------------------- step hooks
def test_step_hooks_order_args_and_removal():
    p = mt.tensor([1.0, 2.0], requires_grad=True)
    o = optim.SGD([p], lr=0.1)
    calls = []

    def pre(opt, args, kwargs):
        calls.append(("pre", opt, args, dict(kwargs)))

    def post(opt, args, kwargs):
        calls.append(("post", opt, args, dict(kwargs)))

    gpre = optim.optimizer.register_optimizer_step_pre_hook(lambda opt, a, k: calls.append(("gpre", opt)))
    gpost = optim.optimizer.register_optimizer_step_post_hook(lambda opt, a, k: calls.append(("gpost", opt)))
    h1 = o.register_step_pre_hook(pre)
    h2 = o.register_step_post_hook(post)
    try:
        p.grad = mt.ones(2)
        closure = lambda: mt.tensor(3.0)  # noqa: E731
        assert o.step(closure=closure).item() == 3.0
        assert [c[0] for c in calls] == ["gpre", "pre", "post", "gpost"]
        assert all(c[1] is o for c in calls)
        assert calls[1][2] == (o,) and calls[1][3] == {"closure": closure}
        calls.clear()
        o.step()
        assert calls[1][2] == (o,) and calls[1][3] == {}
        h1.remove()
        h2.remove()
        calls.clear()
        o.step()
        assert [c[0] for c in calls] == ["gpre", "gpost"]
    finally:
        gpre.remove()
        gpost.remove()
    calls.clear()
    o.step()
    assert calls == []
    np.testing.assert_allclose(p.detach().numpy(), [0.6, 1.6], rtol=1e-6)


def test_step_pre_hook_replaces_arguments():
    p = mt.tensor([1.0], requires_grad=True)
    o = optim.Adam([p], lr=0.1)
    p.grad = mt.ones(1)
    with o.register_step_pre_hook(lambda opt, args, kwargs: (args, {"closure": lambda: mt.tensor(7.0)})):
        assert o.step().item() == 7.0
    assert o.step() is None
    o.register_step_pre_hook(lambda opt, args, kwargs: 5)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        o.step()


def _builtin_optimizers(params):
    return [optim.SGD(params, lr=0.1), optim.Adam(params), optim.AdamW(params), optim.Adagrad(params),
            optim.Adadelta(params), optim.Adamax(params), optim.ASGD(params), optim.NAdam(params),
            optim.RAdam(params), optim.RMSprop(params), optim.Rprop(params), optim.SparseAdam(params),
            optim.LBFGS(params, max_iter=2)]


def test_step_hooks_fire_for_every_builtin_optimizer():
    p = mt.tensor([1.0, -1.0], requires_grad=True)
    fired = []
    gh = optim.optimizer.register_optimizer_step_post_hook(lambda opt, a, k: fired.append(type(opt).__name__))
    try:
        for o in _builtin_optimizers([p]):
            local = []
            o.register_step_pre_hook(lambda opt, a, k: local.append("pre"))
            o.register_step_post_hook(lambda opt, a, k: local.append("post"))
            o.step(_closure(o, lambda: ((p - 3) ** 2).sum()))
            assert local == ["pre", "post"], type(o).__name__
    finally:
        gh.remove()
    assert fired == [type(o).__name__ for o in _builtin_optimizers([p])]


def test_step_hooks_with_lr_scheduler():
    p = mt.tensor([1.0], requires_grad=True)
    o = optim.SGD([p], lr=0.1)
    n = []
    o.register_step_post_hook(lambda opt, a, k: n.append(1))
    s = optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.5)
    p.grad = mt.ones(1)
    o.step()
    s.step()
    assert n == [1] and o.param_groups[0]["lr"] == 0.05

"""minitorch.utils.checkpoint against torch.utils.checkpoint: checkpointed training of small MLPs gives the
plain run's parameters (and torch's), dropout recomputes the same mask with preserve_rng_state,
checkpoint_sequential, keyword and non-tensor arguments, nested inputs and outputs, both use_reentrant
variants, the use_reentrant warning, autograd.grad through a checkpoint, and the error cases."""
import contextlib
import inspect
import warnings

import numpy as np
import pytest

import minitorch as mt
import minitorch.utils.checkpoint as mcp
from minitorch.utils.checkpoint import checkpoint, checkpoint_sequential

torch = pytest.importorskip("torch")
import torch.utils.checkpoint as tcp  # noqa: E402

BOTH = pytest.mark.parametrize("use_reentrant", [True, False])


# ---------------------------------------------------------------- helpers

def mlp_pair(sizes=(6, 16, 16, 3), dropout=0.0, seed=0):
    """The same MLP in torch and minitorch (torch's initial weights copied over through numpy)."""
    torch.manual_seed(seed)

    def layers(nn):
        out = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            out.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                out.append(nn.Tanh())
                if dropout:
                    out.append(nn.Dropout(dropout))
        return out

    tnet = torch.nn.Sequential(*layers(torch.nn))
    mnet = mt.nn.Sequential(*layers(mt.nn))
    copy_params(tnet, mnet)
    return tnet, mnet


def copy_params(tnet, mnet):
    with mt.no_grad():
        for tp, mp in zip(tnet.parameters(), mnet.parameters()):
            mp.copy_(mt.tensor(tp.detach().numpy()))


def data(seed=1, n=8, d=6, k=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float32), rng.standard_normal((n, k)).astype(np.float32)


def params_np(net):
    return [p.detach().numpy().copy() for p in net.parameters()]


def grads_np(net):
    return [None if p.grad is None else p.grad.numpy().copy() for p in net.parameters()]


def assert_all_close(a, b, rtol=1e-5, atol=1e-6):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


def train(lib, net, forward, steps=4, lr=0.1, seed=1):
    """A few SGD steps of MSE regression; forward(net, x) gives the prediction."""
    opt = lib.optim.SGD(net.parameters(), lr=lr)
    xs, ys = data(seed)
    for _ in range(steps):
        x, y = lib.tensor(xs, requires_grad=True), lib.tensor(ys)  # the reentrant variant needs it
        opt.zero_grad()
        loss = ((forward(net, x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return params_np(net)


# ---------------------------------------------------------------- the module and its signatures

def test_importable_like_torch():
    import minitorch.utils
    assert minitorch.utils.checkpoint is mcp
    assert mcp.checkpoint is checkpoint and mcp.checkpoint_sequential is checkpoint_sequential
    for name in ("CheckpointError", "CheckpointFunction", "check_backward_validity", "detach_variable",
                 "noop_context_fn", "set_checkpoint_early_stop", "set_checkpoint_debug_enabled",
                 "DefaultDeviceType", "get_device_states", "set_device_states"):
        assert name in mcp.__all__ and hasattr(mcp, name)
    assert issubclass(mcp.CheckpointError, RuntimeError)


@pytest.mark.parametrize("name", ["checkpoint", "checkpoint_sequential"])
def test_signature_matches_torch(name):
    ts = inspect.signature(getattr(tcp, name)).parameters
    ms = inspect.signature(getattr(mcp, name)).parameters
    assert list(ts) == list(ms)
    for k in ts:
        assert ts[k].kind == ms[k].kind, k
        if not callable(ts[k].default):
            assert ts[k].default == ms[k].default, k


# ---------------------------------------------------------------- training equals the plain run and torch

@BOTH
def test_mlp_training_matches_plain_and_torch(use_reentrant):
    tnet, mnet = mlp_pair()
    _, plain = mlp_pair()
    want = train(mt, plain, lambda n, x: n(x))
    got = train(mt, mnet, lambda n, x: checkpoint(n, x, use_reentrant=use_reentrant))
    ref = train(torch, tnet, lambda n, x: tcp.checkpoint(n, x, use_reentrant=use_reentrant))
    assert_all_close(got, want)
    assert_all_close(got, ref, rtol=1e-4, atol=1e-5)
    assert got[0].shape == (16, 6) and not np.allclose(got[0], mlp_pair()[1][0].weight.detach().numpy())


@BOTH
def test_checkpoint_of_part_of_the_model(use_reentrant):
    # only the middle of the network is checkpointed; its input comes from a layer before it
    def fwd_for(ck):
        def fwd(n, x):
            h = n[0](x)
            h = ck(lambda a: n[3](n[2](n[1](a))), h)
            return n[4](h)
        return fwd

    tnet, mnet = mlp_pair()
    _, plain = mlp_pair()
    want = train(mt, plain, fwd_for(lambda f, a: f(a)))
    got = train(mt, mnet, fwd_for(lambda f, a: checkpoint(f, a, use_reentrant=use_reentrant)))
    ref = train(torch, tnet, fwd_for(lambda f, a: tcp.checkpoint(f, a, use_reentrant=use_reentrant)))
    assert_all_close(got, want)
    assert_all_close(got, ref, rtol=1e-4, atol=1e-5)


@BOTH
def test_input_gradient_and_outputs_match_torch(use_reentrant):
    tnet, mnet = mlp_pair()
    xs, _ = data()
    tx = torch.tensor(xs, requires_grad=True)
    mx = mt.tensor(xs, requires_grad=True)
    tout = tcp.checkpoint(tnet, tx, use_reentrant=use_reentrant)
    mout = checkpoint(mnet, mx, use_reentrant=use_reentrant)
    np.testing.assert_allclose(mout.detach().numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert mout.requires_grad and tout.requires_grad
    (tout.sin().sum()).backward()
    (mout.sin().sum()).backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert_all_close(grads_np(mnet), [p.grad.numpy() for p in tnet.parameters()], rtol=1e-4, atol=1e-6)


@BOTH
def test_activations_are_not_recorded_and_recomputed_once_per_backward(use_reentrant):
    _, net = mlp_pair()
    calls = []

    def fn(a):
        calls.append(mt.is_grad_enabled())
        return net(a)

    x = mt.tensor(data()[0], requires_grad=True)
    out = checkpoint(fn, x, use_reentrant=use_reentrant)
    assert calls == [False]  # the forward ran without recording a graph
    # the output's node leads straight to the inputs: no Linear/Tanh nodes were kept
    assert "Checkpoint" in out.grad_fn.name()
    out.sum().backward()
    assert calls == [False, True]  # one recomputation, with gradients on


@BOTH
def test_backward_twice_with_retain_graph(use_reentrant):
    _, net = mlp_pair()
    x = mt.tensor(data()[0], requires_grad=True)
    net(x).sum().backward()
    want = grads_np(net) + [x.grad.numpy().copy()]
    net.zero_grad()
    x.grad = None
    out = checkpoint(net, x, use_reentrant=use_reentrant).sum()
    out.backward(retain_graph=True)
    out.backward()
    assert_all_close(grads_np(net) + [x.grad.numpy()], [2 * g for g in want])


@BOTH
def test_same_module_in_two_checkpoints(use_reentrant):
    # the weights are shared by two checkpointed segments (and used nowhere else)
    tlin, mlin = torch.nn.Linear(5, 5), mt.nn.Linear(5, 5)
    copy_params(tlin, mlin)
    xs = data(d=5)[0]
    tx, mx = torch.tensor(xs, requires_grad=True), mt.tensor(xs, requires_grad=True)
    tcp.checkpoint(tlin, tcp.checkpoint(tlin, tx, use_reentrant=use_reentrant).tanh(),
                   use_reentrant=use_reentrant).sum().backward()
    checkpoint(mlin, checkpoint(mlin, mx, use_reentrant=use_reentrant).tanh(),
               use_reentrant=use_reentrant).sum().backward()
    assert_all_close(grads_np(mlin) + [mx.grad.numpy()],
                     [p.grad.numpy() for p in tlin.parameters()] + [tx.grad.numpy()], rtol=1e-4)


@BOTH
def test_nested_checkpoints(use_reentrant):
    tnet, mnet = mlp_pair()

    def fwd_for(ck):
        def fwd(n, x):
            def inner(a):
                return n[2](n[1](n[0](a)))

            def outer(a):
                return n[4](n[3](ck(inner, a)))
            return ck(outer, x)
        return fwd

    _, plain = mlp_pair()
    want = train(mt, plain, lambda n, x: n(x), steps=2)
    got = train(mt, mnet, fwd_for(lambda f, a: checkpoint(f, a, use_reentrant=use_reentrant)), steps=2)
    ref = train(torch, tnet, fwd_for(lambda f, a: tcp.checkpoint(f, a, use_reentrant=use_reentrant)), steps=2)
    assert_all_close(got, want)
    assert_all_close(got, ref, rtol=1e-4, atol=1e-5)


@BOTH
def test_parameter_used_inside_and_outside_the_checkpoint(use_reentrant):
    # the nested backward of the recomputation shares the weight's gradient accumulator with the outer
    # backward; until the engine keeps per-call scratch state, the outer use's gradient is lost
    tlin, mlin = torch.nn.Linear(4, 4), mt.nn.Linear(4, 4)
    copy_params(tlin, mlin)
    xs = data(d=4)[0]
    tcp.checkpoint(tlin, tlin(torch.tensor(xs)), use_reentrant=use_reentrant).sum().backward()
    checkpoint(mlin, mlin(mt.tensor(xs)), use_reentrant=use_reentrant).sum().backward()
    assert_all_close(grads_np(mlin), [p.grad.numpy() for p in tlin.parameters()], rtol=1e-4)


# ---------------------------------------------------------------- checkpoint_sequential

@pytest.mark.parametrize("segments", [1, 2, 3])
@BOTH
def test_checkpoint_sequential_training(segments, use_reentrant):
    sizes = (6, 12, 12, 12, 3)  # 7 modules
    tnet, mnet = mlp_pair(sizes)
    _, plain = mlp_pair(sizes)
    want = train(mt, plain, lambda n, x: n(x))
    got = train(mt, mnet, lambda n, x: checkpoint_sequential(n, segments, x, use_reentrant=use_reentrant))
    ref = train(torch, tnet, lambda n, x: tcp.checkpoint_sequential(n, segments, x, use_reentrant=use_reentrant))
    assert_all_close(got, want)
    assert_all_close(got, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("segments", [2, 3])
@BOTH
def test_checkpoint_sequential_list_of_modules(segments, use_reentrant):
    tnet, mnet = mlp_pair((6, 10, 10, 3))
    xs = data()[0]
    tx, mx = torch.tensor(xs, requires_grad=True), mt.tensor(xs, requires_grad=True)
    tout = tcp.checkpoint_sequential(list(tnet), segments, tx, use_reentrant=use_reentrant)
    mout = checkpoint_sequential(list(mnet), segments, mx, use_reentrant=use_reentrant)
    np.testing.assert_allclose(mout.detach().numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    tout.square().sum().backward()
    mout.square().sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert_all_close(grads_np(mnet), [p.grad.numpy() for p in tnet.parameters()], rtol=1e-4)


def test_checkpoint_sequential_last_segment_is_not_checkpointed():
    net = mt.nn.Sequential(mt.nn.Linear(3, 3), mt.nn.Tanh(), mt.nn.Linear(3, 3), mt.nn.Tanh())
    x = mt.randn(2, 3, requires_grad=True)
    out = checkpoint_sequential(net, 2, x, use_reentrant=False)
    assert out.grad_fn.name().startswith("Tanh")  # the last segment ran normally ...
    names, stack = [], [out.grad_fn]
    while stack:
        node = stack.pop()
        names.append(node.name())
        if "Checkpoint" not in node.name():
            stack.extend(f for f, _ in node.next_functions if f is not None)
    # ... one checkpoint node stands for the first segment: Linear, Tanh, Linear of the last one, no Tanh before
    assert sum("Checkpoint" in n for n in names) == 1
    assert sum(n.startswith("Tanh") for n in names) == 1


def test_checkpoint_sequential_errors_and_warning():
    net = mt.nn.Sequential(mt.nn.Linear(3, 3), mt.nn.Tanh())
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Tanh())
    with pytest.raises(ValueError) as te:
        tcp.checkpoint_sequential(tnet, 2, torch.randn(2, 3), use_reentrant=False, foo=1)
    with pytest.raises(ValueError) as me:
        checkpoint_sequential(net, 2, mt.randn(2, 3), use_reentrant=False, foo=1)
    assert str(me.value) == str(te.value)
    with pytest.warns(UserWarning) as tw:
        tcp.checkpoint_sequential(tnet, 2, torch.randn(2, 3, requires_grad=True))
    with pytest.warns(UserWarning) as mw:
        checkpoint_sequential(net, 2, mt.randn(2, 3, requires_grad=True))
    assert [str(w.message) for w in mw] == [str(w.message) for w in tw]
    assert "checkpoint_sequential: the use_reentrant parameter should be passed explicitly" in str(mw[0].message)


# ---------------------------------------------------------------- dropout and the RNG state

def dropout_run(net, x, mode, seed=123):
    net.zero_grad()
    x.grad = None
    mt.manual_seed(seed)
    if mode is None:
        out = net(x)
    else:
        out = checkpoint(net, x, use_reentrant=mode[0], preserve_rng_state=mode[1])
    out.square().sum().backward()
    after = mt.rand(4).numpy()
    return grads_np(net) + [x.grad.numpy().copy()], after


@BOTH
def test_dropout_same_mask_with_preserve_rng_state(use_reentrant):
    _, net = mlp_pair((8, 64, 64, 4), dropout=0.5)
    net.train()
    x = mt.tensor(np.random.default_rng(0).standard_normal((16, 8)).astype(np.float32), requires_grad=True)
    want, want_after = dropout_run(net, x, None)
    got, got_after = dropout_run(net, x, (use_reentrant, True))
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    # the recomputation puts the surrounding generator state back: the stream goes on as without checkpoint
    np.testing.assert_array_equal(got_after, want_after)
    # without preserving the state the recomputation draws other masks (and advances the stream)
    other, other_after = dropout_run(net, x, (use_reentrant, False))
    assert not all(np.array_equal(a, b) for a, b in zip(other, want))
    assert not np.array_equal(other_after, want_after)


@BOTH
def test_dropout_training_matches_plain(use_reentrant):
    _, a = mlp_pair((6, 32, 32, 3), dropout=0.3)
    _, b = mlp_pair((6, 32, 32, 3), dropout=0.3)
    mt.manual_seed(7)
    want = train(mt, a, lambda n, x: n(x))
    mt.manual_seed(7)
    got = train(mt, b, lambda n, x: checkpoint(n, x, use_reentrant=use_reentrant))
    assert_all_close(got, want)


# ---------------------------------------------------------------- arguments and outputs

def test_kwargs_and_non_tensor_args():
    def f(lib):
        def fn(x, scale, act, *, bias=None, power=2):
            h = getattr(lib, act)(x * scale)
            if bias is not None:
                h = h + bias
            return (h ** power).sum(1)
        return fn

    xs, bs = data()[0], np.linspace(-1, 1, 6).astype(np.float32)
    res = {}
    for lib, ck in ((torch, tcp.checkpoint), (mt, checkpoint), (mt, None)):
        x, b = lib.tensor(xs, requires_grad=True), lib.tensor(bs, requires_grad=True)
        if ck is None:
            out = f(lib)(x, 0.5, "tanh", bias=b, power=3)
        else:
            out = ck(f(lib), x, 0.5, "tanh", use_reentrant=False, bias=b, power=3)
        out.sum().backward()
        res[(lib.__name__, ck is None)] = [out.detach().numpy(), x.grad.numpy(), b.grad.numpy()]
    assert_all_close(res[("minitorch", False)], res[("minitorch", True)])
    assert_all_close(res[("minitorch", False)], res[("torch", False)], rtol=1e-5)


def test_reentrant_non_tensor_positional_args():
    x = mt.tensor(data()[0], requires_grad=True)
    out = checkpoint(lambda a, s, act: getattr(a * s, act)(), x, 2.0, "sigmoid", use_reentrant=True)
    out.sum().backward()
    g = x.grad.numpy().copy()
    x.grad = None
    (x * 2.0).sigmoid().sum().backward()
    np.testing.assert_allclose(g, x.grad.numpy(), rtol=1e-6)


def test_reentrant_kwargs_are_refused_like_torch():
    with pytest.raises(ValueError) as te:
        tcp.checkpoint(lambda a, **k: a, torch.randn(2), use_reentrant=True, foo=1, bar=2)
    with pytest.raises(ValueError) as me:
        checkpoint(lambda a, **k: a, mt.randn(2), use_reentrant=True, foo=1, bar=2)
    assert str(me.value) == str(te.value) == "Unexpected keyword arguments: foo,bar"


def test_non_reentrant_nested_inputs_and_outputs():
    def fn(lib):
        def f(d, pair):
            return {"a": d["x"] * 2 + pair[0], "b": [d["y"].exp(), pair[1]], "n": 7}
        return f

    rng = np.random.default_rng(3)
    xs, ys, zs = (rng.standard_normal(4).astype(np.float32) for _ in range(3))
    res = {}
    for lib, ck in ((torch, tcp.checkpoint), (mt, checkpoint)):
        x, y, z = (lib.tensor(v, requires_grad=True) for v in (xs, ys, zs))
        out = ck(fn(lib), {"x": x, "y": y}, (z, "tag"), use_reentrant=False)
        assert out["n"] == 7 and out["b"][1] == "tag" and isinstance(out["b"], list)
        (out["a"].sum() + (out["b"][0] * out["a"]).sum()).backward()
        res[lib.__name__] = [x.grad.numpy(), y.grad.numpy(), z.grad.numpy()]
    assert_all_close(res["minitorch"], res["torch"], rtol=1e-5)


@BOTH
def test_outputs_that_are_not_tensors_or_need_no_grad(use_reentrant):
    def fn(lib):
        def f(a):
            return a.tanh(), 3, lib.arange(3), a.detach() * 3, a * 2
        return f

    xs = data()[0][0]
    res = {}
    for lib, ck in ((torch, tcp.checkpoint), (mt, checkpoint)):
        x = lib.tensor(xs, requires_grad=True)
        out = ck(fn(lib), x, use_reentrant=use_reentrant)
        assert isinstance(out, tuple) and out[1] == 3
        assert out[0].requires_grad and out[4].requires_grad and not out[2].requires_grad
        assert out[2].dtype == lib.int64
        out[0].sum().backward()  # the other outputs get no gradient
        res[lib.__name__] = x.grad.numpy()
    np.testing.assert_allclose(res["minitorch"], res["torch"], rtol=1e-5)


def test_non_reentrant_params_get_grads_when_no_input_requires_grad():
    tnet, mnet = mlp_pair()
    xs = data()[0]
    tcp.checkpoint(tnet, torch.tensor(xs), use_reentrant=False).sum().backward()
    out = checkpoint(mnet, mt.tensor(xs), use_reentrant=False)
    assert out.requires_grad
    out.sum().backward()
    assert_all_close(grads_np(mnet), [p.grad.numpy() for p in tnet.parameters()], rtol=1e-4)


def test_reentrant_warns_when_no_input_requires_grad():
    _, mnet = mlp_pair()
    tnet, _ = mlp_pair()
    xs = data()[0]
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True. Gradients will be None"):
        tout = tcp.checkpoint(tnet, torch.tensor(xs), use_reentrant=True)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True. Gradients will be None"):
        mout = checkpoint(mnet, mt.tensor(xs), use_reentrant=True)
    assert not tout.requires_grad and not mout.requires_grad


@BOTH
def test_partial_use_of_outputs(use_reentrant):
    _, net = mlp_pair()
    x = mt.tensor(data()[0], requires_grad=True)

    def f(a):
        h = net(a)
        return h, h.exp()

    a, b = f(x)
    b.sum().backward()
    want = grads_np(net) + [x.grad.numpy().copy()]
    net.zero_grad()
    x.grad = None
    a, b = checkpoint(f, x, use_reentrant=use_reentrant)
    b.sum().backward()
    assert_all_close(grads_np(net) + [x.grad.numpy()], want)


@BOTH
def test_under_no_grad(use_reentrant):
    _, net = mlp_pair()
    x = mt.tensor(data()[0], requires_grad=True)
    with mt.no_grad():
        out = checkpoint(net, x, use_reentrant=use_reentrant)
    assert not out.requires_grad
    np.testing.assert_allclose(out.numpy(), net(x).detach().numpy(), rtol=1e-6)


def test_context_fn_and_determinism_check_none():
    log = []

    @contextlib.contextmanager
    def tag(name):
        log.append(name + ":enter")
        try:
            yield
        finally:  # torch stops its recomputation early by raising through this context
            log.append(name + ":exit")

    def context_fn():
        return tag("fwd"), tag("recompute")

    for lib, ck in ((torch, tcp.checkpoint), (mt, checkpoint)):
        log.clear()
        x = lib.ones(3, requires_grad=True)
        out = ck(lambda a: (a * 3).sin(), x, use_reentrant=False, context_fn=context_fn, determinism_check="none")
        out.sum().backward()
        assert log == ["fwd:enter", "fwd:exit", "recompute:enter", "recompute:exit"], lib.__name__


# ---------------------------------------------------------------- autograd.grad through a checkpoint

def test_non_reentrant_grad_wrt_inputs_matches_torch():
    tnet, mnet = mlp_pair()
    xs = data()[0]
    tx, mx = torch.tensor(xs, requires_grad=True), mt.tensor(xs, requires_grad=True)
    tg, = torch.autograd.grad(tcp.checkpoint(tnet, tx, use_reentrant=False).tanh().sum(), tx)
    mg, = mt.autograd.grad(checkpoint(mnet, mx, use_reentrant=False).tanh().sum(), mx)
    np.testing.assert_allclose(mg.numpy(), tg.numpy(), rtol=1e-4, atol=1e-6)
    # grad() accumulates nothing: neither the parameters' nor the input's .grad
    assert all(p.grad is None for p in mnet.parameters()) and mx.grad is None


def test_non_reentrant_grad_wrt_tensors_passed_as_arguments_matches_torch():
    tlin, mlin = torch.nn.Linear(6, 4), mt.nn.Linear(6, 4)
    copy_params(tlin, mlin)
    xs = data()[0]
    tx, mx = torch.tensor(xs, requires_grad=True), mt.tensor(xs, requires_grad=True)
    tg = torch.autograd.grad(tcp.checkpoint(torch.nn.functional.linear, tx, tlin.weight, tlin.bias,
                                            use_reentrant=False).tanh().sum(), [tx, tlin.weight])
    mg = mt.autograd.grad(checkpoint(mt.nn.functional.linear, mx, mlin.weight, mlin.bias,
                                     use_reentrant=False).tanh().sum(), [mx, mlin.weight])
    assert_all_close([g.numpy() for g in mg], [g.numpy() for g in tg], rtol=1e-4)


def test_non_reentrant_grad_wrt_parameters_used_inside_raises():
    _, net = mlp_pair()
    x = mt.tensor(data()[0], requires_grad=True)
    out = checkpoint(net, x, use_reentrant=False).sum()
    with pytest.raises(RuntimeError, match=r"Pass the tensor to checkpoint\(\) as an argument"):
        mt.autograd.grad(out, [x, net[0].weight])
    assert all(p.grad is None for p in net.parameters())  # nothing was accumulated on the way
    # a captured non-leaf tensor is refused too: autograd.grad runs only the nodes that lead to its
    # inputs, and h is no input of the checkpoint's node, so the engine's own error comes first
    h = x * 2
    out = checkpoint(lambda a: (a * h).sum(), x, use_reentrant=False)
    with pytest.raises(RuntimeError, match="use_reentrant=False|appears to not have been used in the graph"):
        mt.autograd.grad(out, [h])


def test_reentrant_grad_raises_like_torch():
    tnet, mnet = mlp_pair()
    xs = data()[0]
    tx, mx = torch.tensor(xs, requires_grad=True), mt.tensor(xs, requires_grad=True)
    with pytest.raises(RuntimeError) as te:
        torch.autograd.grad(tcp.checkpoint(tnet, tx, use_reentrant=True).sum(), tx)
    with pytest.raises(RuntimeError) as me:
        mt.autograd.grad(checkpoint(mnet, mx, use_reentrant=True).sum(), mx)
    assert str(me.value) == str(te.value)
    assert all(p.grad is None for p in mnet.parameters())


# ---------------------------------------------------------------- the use_reentrant warning and errors

def test_warning_when_use_reentrant_is_omitted():
    with pytest.warns(UserWarning) as tw:
        tcp.checkpoint(lambda a: a * 2, torch.ones(2, requires_grad=True))
    with pytest.warns(UserWarning) as mw:
        out = checkpoint(lambda a: a * 2, mt.ones(2, requires_grad=True))
    assert [str(w.message) for w in mw] == [str(w.message) for w in tw]
    assert str(mw[0].message).startswith("torch.utils.checkpoint: the use_reentrant parameter should be passed "
                                         "explicitly.")
    assert mw[0].filename == __file__  # points at the caller
    assert "Checkpoint" in out.grad_fn.name()  # the default is still the reentrant variant
    with pytest.raises(ValueError):  # ... which refuses keyword arguments
        with pytest.warns(UserWarning):
            checkpoint(lambda a, k=1: a, mt.ones(2), k=2)


@BOTH
def test_no_warning_when_use_reentrant_is_passed(use_reentrant):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = checkpoint(lambda a: a * 2, mt.ones(2, requires_grad=True), use_reentrant=use_reentrant)
        out.sum().backward()


def test_reentrant_refuses_context_fn_and_debug_like_torch():
    for kw in ({"context_fn": lambda: (contextlib.nullcontext(), contextlib.nullcontext())}, {"debug": True}):
        with pytest.raises(ValueError) as te:
            tcp.checkpoint(lambda a: a, torch.ones(2), use_reentrant=True, **kw)
        with pytest.raises(ValueError) as me:
            checkpoint(lambda a: a, mt.ones(2), use_reentrant=True, **kw)
        assert str(me.value) == str(te.value)


def test_bad_determinism_check_and_debug_with_context_fn_like_torch():
    with pytest.raises(ValueError) as te:
        tcp.checkpoint(lambda a: a, torch.ones(2), use_reentrant=False, determinism_check="bogus")
    with pytest.raises(ValueError) as me:
        checkpoint(lambda a: a, mt.ones(2), use_reentrant=False, determinism_check="bogus")
    assert str(me.value) == str(te.value)

    def cf():
        return contextlib.nullcontext(), contextlib.nullcontext()
    with pytest.raises(ValueError, match="debug=True is incompatible with non-default context_fn"):
        checkpoint(lambda a: a, mt.ones(2), use_reentrant=False, debug=True, context_fn=cf)


def test_reentrant_recomputation_without_grad_raises_like_torch():
    with pytest.raises(RuntimeError) as te:
        tcp.checkpoint(lambda a: a.detach() * 2, torch.ones(2, requires_grad=True), use_reentrant=True).sum().backward()
    with pytest.raises(RuntimeError) as me:
        checkpoint(lambda a: a.detach() * 2, mt.ones(2, requires_grad=True), use_reentrant=True).sum().backward()
    assert str(me.value) == str(te.value) == "none of output has requires_grad=True, this checkpoint() is not necessary"


def test_non_reentrant_recomputation_mismatch_is_a_checkpoint_error():
    for lib, ck, err in ((torch, tcp.checkpoint, tcp.CheckpointError), (mt, checkpoint, mcp.CheckpointError)):
        n = [0]

        def f(a):
            n[0] += 1
            return a.exp() if n[0] == 1 else a[:2].exp()  # the recomputation differs from the forward

        out = ck(f, lib.ones(3, requires_grad=True), use_reentrant=False)
        with pytest.raises(err, match="torch.utils.checkpoint: Recomputed values for the following tensors have "
                                      "different metadata than during the forward pass."):
            out.sum().backward()


@BOTH
def test_input_modified_in_place_after_forward_raises(use_reentrant):
    x = mt.ones(3, requires_grad=True)
    h = x * 1
    out = checkpoint(lambda a: a.exp(), h, use_reentrant=use_reentrant)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_helpers_like_torch():
    t = mt.ones(2, requires_grad=True)
    d = mcp.detach_variable((t, 3))
    assert d[1] == 3 and d[0].requires_grad and d[0].grad_fn is None and d[0] is not t
    with pytest.raises(RuntimeError, match="Only tuple of tensors is supported"):
        mcp.detach_variable([t])
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        mcp.check_backward_validity([mt.ones(2), 1])
    assert mcp.get_device_states(mt.ones(2)) == ([], [])
    assert mcp.DefaultDeviceType.get_device_type() in ("cpu", "cuda")
    with mcp.set_checkpoint_early_stop(False), mcp.set_checkpoint_debug_enabled(False):
        out = checkpoint(lambda a: a.exp(), t, use_reentrant=False)
    out.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), np.exp(np.ones(2)), rtol=1e-6)


# ---------------------------------------------------------------- CUDA (only where a device is present)

@pytest.mark.skipif(not mt.cuda.is_available(), reason="needs CUDA")
@BOTH
def test_cuda_mlp_matches_plain(use_reentrant):
    _, net = mlp_pair()
    net = net.to("cuda")
    x = mt.tensor(data()[0], requires_grad=True, device="cuda")
    net(x).square().sum().backward()
    want = [p.grad.cpu().numpy() for p in net.parameters()] + [x.grad.cpu().numpy()]
    net.zero_grad()
    x.grad = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the CUDA generator's state cannot be saved yet
        out = checkpoint(net, x, use_reentrant=use_reentrant)
    out.square().sum().backward()
    got = [p.grad.cpu().numpy() for p in net.parameters()] + [x.grad.cpu().numpy()]
    assert_all_close(got, want, rtol=1e-4, atol=1e-5)

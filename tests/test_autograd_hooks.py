"""Gradient hooks, anomaly mode, create_graph basics and nested backward, against PyTorch."""
import gc
import warnings

import numpy as np
import pytest

import minitorch as mt


def _record(lib):
    """The same hook program in either library; returns the log of what every hook saw."""
    log = []
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.register_hook(lambda g: log.append(("x", g.tolist())) or g * 2)
    y = x * x
    y.retain_grad()
    y.register_hook(lambda g: log.append(("y", g.tolist())))
    h_plus = y.register_hook(lambda g: g + 1)
    z = (y * lib.tensor([1.0, 2.0, 3.0])).sum()
    z.grad_fn.register_prehook(lambda go: log.append(("pre", [t.tolist() for t in go])))
    y.grad_fn.register_hook(lambda gi, go: log.append(("post", [None if t is None else t.tolist() for t in gi],
                                                          [t.tolist() for t in go])))
    x.register_post_accumulate_grad_hook(lambda t: log.append(("acc", t.grad.tolist())))
    z.backward(retain_graph=True)
    log.append(("grads", x.grad.tolist(), y.grad.tolist()))
    h_plus.remove()
    h_plus.remove()  # a second remove is harmless
    x.grad = None
    y.grad = None
    z.backward()
    log.append(("grads after remove", x.grad.tolist(), y.grad.tolist()))
    return log


def test_hook_order_values_modification_and_removal_match_torch():
    torch = pytest.importorskip("torch")
    assert _record(mt) == _record(torch)


def test_hook_values_without_torch():
    log = dict((e[0], e[1:]) for e in _record(mt))
    x = np.array([1.0, 2.0, 3.0])
    w = np.array([1.0, 2.0, 3.0])
    # y's grad w plus the hook's +1 (retain_grad sees the modified value), x's 2 * 2x * (w + 1)
    assert log["grads"] == (list(2 * 2 * x * (w + 1)), list(w + 1))
    assert log["grads after remove"] == (list(2 * 2 * x * w), list(w))


def test_hook_that_replaces_with_wrong_shape_or_type_raises():
    x = mt.ones(3, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: mt.ones(4))
    with pytest.raises(RuntimeError, match="changed the size"):
        y.sum().backward()
    x2 = mt.ones(3, requires_grad=True)
    y2 = x2 * 2
    y2.register_hook(lambda g: 3)
    with pytest.raises(TypeError):
        y2.sum().backward()


def test_hook_exception_propagates_and_graph_stays_usable():
    x = mt.ones(3, requires_grad=True)
    y = x * 2

    def bad(g):
        raise ValueError("boom")
    h = y.register_hook(bad)
    with pytest.raises(ValueError, match="boom"):
        y.sum().backward(retain_graph=True)
    h.remove()
    x.grad = None
    (y * 1).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_register_hook_errors_like_torch():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        mt.ones(2).register_hook(lambda g: g)
    x = mt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_post_accumulate_hook_can_step_an_optimizer_per_parameter():
    # the per-parameter optimizer pattern: the hook updates the leaf in place and clears .grad
    torch = pytest.importorskip("torch")
    res = []
    for lib in (torch, mt):
        w = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)

        def step(p):
            with lib.no_grad():
                p.sub_(0.1 * p.grad)
            p.grad = None
        w.register_post_accumulate_grad_hook(step)
        for _ in range(3):
            (w * w).sum().backward()
        res.append(w.detach().numpy().copy())
    np.testing.assert_allclose(res[1], res[0], rtol=1e-6)


def test_hooks_run_for_autograd_grad_captures():
    torch = pytest.importorskip("torch")
    out = []
    for lib in (torch, mt):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g * 10)
        y = x * 3
        y.register_hook(lambda g: g + 1)
        gx, gy = lib.autograd.grad((y * y).sum(), (x, y))
        out.append((gx.tolist(), gy.tolist()))
    assert out[0] == out[1]


def test_context_manager_handle():
    x = mt.ones(2, requires_grad=True)
    y = x * 2
    with y.register_hook(lambda g: g * 0):
        pass
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_hooks_are_freed_with_their_graph():
    # the hook's closure dies with the graph (no reference cycle through C)
    import weakref

    class Probe:
        def __call__(self, g):
            return g
    p = Probe()
    ref = weakref.ref(p)
    x = mt.ones(2, requires_grad=True)
    y = x * 2
    y.register_hook(p)
    del p, y
    gc.collect()
    assert ref() is None


def _rss_kb():
    with open("/proc/self/statm") as f:
        import os
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/statm"), reason="needs /proc")
def test_no_leak_over_many_hook_registrations_and_create_graph_steps():
    w = mt.randn(32, 32, requires_grad=True)
    x = mt.randn(8, 32, requires_grad=True)

    def step():
        h = w.register_hook(lambda g: g * 1.0)
        y = (x @ w).tanh()
        g, = mt.autograd.grad(y.sum(), x, create_graph=True)
        (g * g).sum().backward()
        h.remove()
        w.grad = None
        x.grad = None
    for _ in range(300):
        step()
    gc.collect()
    before = _rss_kb()
    for _ in range(5000):
        step()
    gc.collect()
    grown = _rss_kb() - before
    assert grown < 8 * 1024, f"RSS grew by {grown} kB over 5000 steps"


# ---------------------------------------------------------------- anomaly mode
def test_anomaly_mode_names_the_node_and_warns_with_the_forward_trace():
    torch = pytest.importorskip("torch")
    msgs = []
    for lib in (torch, mt):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with pytest.raises(RuntimeError) as e:
                with lib.autograd.detect_anomaly():
                    x = lib.tensor([0.0, 1.0], requires_grad=True)
                    (x.sqrt() * 0).sum().backward()
        texts = [str(m.message) for m in w]
        assert any("Error detected in SqrtBackward0" in t and "test_autograd_hooks.py" in t for t in texts)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1] == "Function 'SqrtBackward0' returned nan values in its 0th output."
    assert not mt.autograd.anomaly_mode.is_anomaly_enabled()


def test_set_detect_anomaly_and_no_cost_when_off():
    mt.autograd.set_detect_anomaly(True)
    try:
        x = mt.tensor([0.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="returned nan"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                (x.log() * 0).sum().backward()
    finally:
        mt.autograd.set_detect_anomaly(False)
    x = mt.tensor([0.0], requires_grad=True)
    (x.log() * 0).sum().backward()  # no anomaly mode: NaN gradients pass through, as torch
    assert np.isnan(x.grad.item())


# ---------------------------------------------------------------- create_graph and the engine
def test_create_graph_keeps_grad_history_and_retains_graph_by_default():
    torch = pytest.importorskip("torch")
    res = []
    for lib in (torch, mt):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = (x.exp() * x.sin()).sum()
        y.backward(create_graph=True)
        g = x.grad
        assert g.requires_grad and g.grad_fn is not None
        x.grad = None
        g.sum().backward(retain_graph=True)   # the second derivative, through .grad's history
        y.backward()         # retain_graph defaulted to create_graph
        res.append(x.grad.numpy().copy())
    np.testing.assert_allclose(res[1], res[0], rtol=1e-12)


def test_double_backward_through_fused_op_raises_naming_it():
    x = mt.randn(1, 2, 5, 5, requires_grad=True)
    y = x.cumprod(3).pow(2).sum()
    g, = mt.autograd.grad(y, x, create_graph=True)
    with pytest.raises(NotImplementedError, match="CumprodBackward0"):
        g.sum().backward()
    assert g.grad_fn.name() == "NotImplemented"  # torch's name for a derivative that is not implemented
    # the gradient itself is right
    g1, = mt.autograd.grad(x.cumprod(3).pow(2).sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), g1.numpy(), rtol=1e-6)


def test_backward_twice_through_freed_graph_raises():
    x = mt.ones(2, requires_grad=True)
    y = (x.exp()).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_nested_backward_inside_a_custom_function_keeps_outer_gradients():
    # a Function whose backward runs its own backward (as checkpointing does) on a graph that shares
    # a parameter's accumulator with the outer graph: both contributions must arrive
    w = mt.tensor([2.0, 3.0], requires_grad=True)

    class Recompute(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            with mt.no_grad():
                return x * w

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            xd = x.detach().requires_grad_()
            with mt.enable_grad():
                out = xd * w
            mt.autograd.backward(out, g)
            return xd.grad

    x = mt.tensor([1.0, 4.0], requires_grad=True)
    loss = (Recompute.apply(x) + w * 10).sum()
    loss.backward()
    # d/dw: x (inner, through the recomputation) + 10 (outer)
    assert w.grad.tolist() == [11.0, 14.0]
    assert x.grad.tolist() == [2.0, 3.0]

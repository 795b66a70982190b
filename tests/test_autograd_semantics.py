"""Autograd's rules as PyTorch states them: .grad assignment, inference tensors, backward(inputs=...),
once_differentiable, saved-tensor hooks. Each compares exception type and text (or values) with torch."""
import numpy as np
import pytest

import minitorch as mt


def _both(fn):
    torch = pytest.importorskip("torch")
    out = []
    for lib in (torch, mt):
        try:
            out.append(("ok", fn(lib)))
        except Exception as e:  # noqa: BLE001 - the exception is what is compared
            out.append((type(e).__name__, str(e)))
    return out


@pytest.mark.parametrize("case", ["size", "dtype", "type", "ok"])
def test_grad_assignment_checks_like_torch(case):
    def run(lib):
        y = lib.ones(3, requires_grad=True)
        y.grad = {"size": lambda: lib.ones(2, 3), "dtype": lambda: lib.ones(3, dtype=lib.float64),
                  "type": lambda: "a", "ok": lambda: lib.full((3,), 2.0)}[case]()
        return y.grad.tolist()
    t, m = _both(run)
    assert t == m


def test_inference_tensors_are_refused_by_autograd_like_torch():
    def saved(lib):
        with lib.inference_mode():
            a = lib.ones(3)
        x = lib.ones(3, requires_grad=True)
        return (a * x).sum().item()

    def requires(lib):
        with lib.inference_mode():
            a = lib.ones(3)
        a.requires_grad_()

    def inplace(lib):
        with lib.inference_mode():
            a = lib.ones(3)
        a.add_(1)

    def inside(lib):
        with lib.inference_mode():
            a = lib.ones(3)
            a.add_(1)  # allowed inside
            b = a.view(3)
        return (a.is_inference(), b.is_inference(), lib.ones(1).is_inference(), lib.is_inference_mode_enabled(),
                a.tolist())

    def view_of_normal(lib):
        x = lib.ones(3)
        with lib.inference_mode():
            v = x[:2]
            return v.is_inference(), lib.is_inference_mode_enabled()

    def no_grad_use(lib):
        with lib.inference_mode():
            a = lib.ones(3)
        with lib.no_grad():
            return (a * lib.ones(3, requires_grad=True)).tolist()

    for fn in (saved, requires, inplace, inside, view_of_normal, no_grad_use):
        t, m = _both(fn)
        assert t == m, fn.__name__


def test_inference_mode_false_and_decorator():
    with mt.inference_mode(False):
        assert not mt.ones(1).is_inference()

    @mt.inference_mode()
    def f():
        return mt.ones(2)
    assert f().is_inference() and not mt.is_inference_mode_enabled()


def test_backward_inputs_accumulates_only_into_those():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        h = a * b
        y = (h * h).sum()
        y.backward(inputs=[a], retain_graph=True)
        first = (a.grad.tolist(), b.grad)
        lib.autograd.backward(y, inputs=(a, h))  # a accumulates; the non-leaf h gets a .grad
        return first, a.grad.tolist(), h.grad.tolist(), b.grad
    t, m = _both(run)
    assert t == m
    t, m = _both(lambda lib: lib.ones(2, requires_grad=True).sum().backward(inputs=[]))
    assert t == m


def test_once_differentiable():
    class Cube(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @mt.autograd.function.once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 3 * x ** 2
    x = mt.tensor([1.0, 2.0], dtype=mt.float64, requires_grad=True)
    g, = mt.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [3.0, 12.0])
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()
    # first order as usual
    x.grad = None
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])


def test_saved_tensors_hooks_refuse_and_save_on_cpu_is_transparent():
    with pytest.raises(NotImplementedError, match="saved_tensors_hooks"):
        with mt.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            pass
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with mt.autograd.graph.save_on_cpu():
        y = (x.exp() * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])), rtol=1e-6)


def test_requires_grad_on_non_leaf_like_torch():
    def off(lib):
        return (lib.ones(2, requires_grad=True) * 2).requires_grad_(False)

    def on(lib):
        return (lib.ones(2, requires_grad=True) * 2).requires_grad_(True).requires_grad

    def integer(lib):
        return lib.ones(2, dtype=lib.long).requires_grad_()
    for fn in (off, on, integer):
        t, m = _both(fn)
        assert t[0] == m[0] and (t[0] != "ok" or t == m), fn.__name__
        if t[0] != "ok":
            assert t[1] == m[1]

"""minitorch.jit: script/trace refuse clearly; the eager no-ops behave as PyTorch's do in eager mode."""
import pytest

import minitorch


def f(x):
    return x * 2


def test_script_and_trace_raise_naming_the_call():
    for name, call in (("script", lambda: minitorch.jit.script(f)),
                       ("trace", lambda: minitorch.jit.trace(f, minitorch.ones(2))),
                       ("load", lambda: minitorch.jit.load("model.pt"))):
        with pytest.raises(RuntimeError, match=f"torch.jit.{name}: TorchScript is not supported by minitorch"):
            call()


def test_eager_noops_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (torch, minitorch):
        assert lib.jit.is_scripting() is False and lib.jit.is_tracing() is False
        assert lib.jit.ignore(f) is f and lib.jit.unused(f) is f and lib.jit.export(f) is f
        assert lib.jit.annotate(list, [1]) == [1]
    assert minitorch.jit.ignore(drop=True)(f) is f
    assert minitorch.jit.Final is torch.jit.Final

"""minitorch.jit: TorchScript is not supported. script, trace and load raise RuntimeError naming the call;
the pieces that are no-ops in eager PyTorch (is_scripting, ignore, unused, export, annotate, Attribute, Final)
behave as they do when PyTorch runs a model eagerly."""
from typing import Final  # noqa: F401  (torch.jit.Final is typing.Final)

__all__ = ["script", "trace", "trace_module", "load", "save", "freeze", "optimize_for_inference", "is_scripting",
           "is_tracing", "ignore", "unused", "export", "annotate", "Attribute", "Final", "ScriptModule",
           "ScriptFunction"]


def _unsupported(name):
    raise RuntimeError(f"torch.jit.{name}: TorchScript is not supported by minitorch; run the model eagerly "
                       "(torch.compile returns the model unchanged and runs it eagerly)")


def script(obj=None, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    _unsupported("script")


def trace(func=None, example_inputs=None, *args, **kwargs):
    _unsupported("trace")


def trace_module(mod=None, inputs=None, *args, **kwargs):
    _unsupported("trace_module")


def load(f=None, map_location=None, _extra_files=None):
    _unsupported("load")


def save(m=None, f=None, _extra_files=None):
    _unsupported("save")


def freeze(mod=None, preserved_attrs=None, optimize_numerics=True):
    _unsupported("freeze")


def optimize_for_inference(mod=None, other_methods=None):
    _unsupported("optimize_for_inference")


def is_scripting():
    return False


def is_tracing():
    return False


def ignore(drop=False, **kwargs):
    """@torch.jit.ignore (with or without arguments): the function itself, as in eager mode."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def annotate(the_type, the_value):
    return the_value


def Attribute(value, type=None):  # noqa: N802  (torch's name)
    return value


class ScriptModule:
    def __init__(self, *args, **kwargs):
        _unsupported("ScriptModule")


class ScriptFunction:
    def __init__(self, *args, **kwargs):
        _unsupported("ScriptFunction")

"""minitorch.compile: torch.compile's signature, without a compiler.

minitorch always runs eagerly: every op calls its C kernel at once. compile() therefore returns the model
or function it is given, unchanged (so its outputs, gradients and errors are the eager ones), and works as
a decorator with and without arguments, like torch.compile."""

__all__ = ["compile"]


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            disable=False):
    """Returns model unchanged (minitorch runs eagerly); with model=None, a decorator that does the same."""
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if model is None:
        def fn(model):
            if model is None:
                raise RuntimeError("Model can't be None")
            return compile(model, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                           options=options, disable=disable)
        return fn
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    return model

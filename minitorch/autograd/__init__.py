"""minitorch.autograd: backward, grad, Function, grad modes, gradcheck / gradgradcheck and functional."""
import threading

from .. import _C
from .function import Function, FunctionCtx
from .grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from .variable import Variable  # noqa: F401
from . import graph  # noqa: F401
from .anomaly_mode import detect_anomaly, set_detect_anomaly  # noqa: F401
from . import forward_ad  # noqa: F401


def _as_tuple(x):
    if x is None:
        return ()
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


class _EngineCall:
    """Marks one backward()/grad() call while the engine runs it, so that code running inside the
    backward pass (utils.checkpoint) can tell which kind of call reached it; a thread-local stack,
    as backward calls nest (a checkpoint's recomputation runs backward from inside a backward)."""
    _tls = threading.local()

    def __init__(self, kind, inputs=None):
        self.kind = kind      # "backward" or "grad"
        self.inputs = inputs  # grad()'s inputs

    def __enter__(self):
        stack = self._tls.__dict__.setdefault("stack", [])
        stack.append(self)
        return self

    def __exit__(self, *exc):
        self._tls.stack.pop()
        return False


def _current_engine_call():
    """The innermost backward()/grad() call running on this thread, or None (also for
    Tensor.backward(), which goes to the engine directly and counts as a backward call)."""
    stack = getattr(_EngineCall._tls, "stack", None)
    return stack[-1] if stack else None


def _make_grads(outputs, grads):
    from .._creation import ones_like
    res = []
    for i, (o, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if o.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = ones_like(o)
        elif tuple(g.shape) != tuple(o.shape):
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] has a "
                               f"shape of {o.shape}.")
        res.append(g)
    return res


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    tensors = _as_tuple(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    grads = _as_tuple(grad_tensors) or (None,) * len(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        return _backward_into(tensors, grads, retain_graph, create_graph, inputs)
    grads = _make_grads(tensors, grads)
    with _EngineCall("backward"):
        _C._run_backward(tensors, grads, bool(retain_graph), None, False, bool(create_graph))


def _backward_into(tensors, grads, retain_graph, create_graph, inputs):
    """backward(inputs=...): the gradients w.r.t. `inputs` only (through grad()), accumulated into
    their .grad as the engine accumulates a leaf's (a non-leaf input gets a .grad too, as torch)."""
    inputs = (inputs,) if isinstance(inputs, _C.TensorBase) else tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    res = grad(tensors, inputs, grads if any(g is not None for g in grads) else None, retain_graph=retain_graph,
               create_graph=create_graph, allow_unused=True)
    for t, g in zip(inputs, res):
        if g is None:
            continue
        if t.grad is None:
            t.grad = g if create_graph else g.detach().clone()
        elif create_graph:
            t.grad = t.grad + g
        else:
            with no_grad():
                t.grad.add_(g)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if allow_unused is False and materialize_grads:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    if retain_graph is None:
        retain_graph = create_graph
    grads = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"grad requires one grad_output per output: got {len(grads)} grad_outputs and "
                           f"{len(outputs)} outputs")
    if is_grads_batched:
        # one backward per row of the batched grad_outputs (torch vmaps this; same numbers)
        from .. import stack
        n = grads[0].shape[0]
        rows = [grad(outputs, inputs, tuple(g[i] for g in grads), retain_graph=True, create_graph=create_graph,
                     allow_unused=allow_unused, materialize_grads=materialize_grads) for i in range(n)]
        return tuple(None if rows[0][j] is None else stack([r[j] for r in rows]) for j in range(len(inputs)))
    grads = _make_grads(outputs, grads)
    with _EngineCall("grad", inputs):
        res = _C._run_backward(outputs, grads, bool(retain_graph), inputs, bool(allow_unused or materialize_grads),
                               bool(create_graph))
    if materialize_grads:
        from .._creation import zeros_like
        res = tuple(r if r is not None else zeros_like(i) for r, i in zip(res, inputs))
    return res


# the function shadows its module's name in the package, as torch.autograd.gradcheck does
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: E402
from . import functional  # noqa: E402,F401

"""minitorch.autograd: backward, grad, Function, grad modes and gradcheck."""
import threading

import numpy as np

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
        raise NotImplementedError("minitorch does not support backward(inputs=...)")
    grads = _make_grads(tensors, grads)
    with _EngineCall("backward"):
        _C._run_backward(tensors, grads, bool(retain_graph), None, False, bool(create_graph))


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


class GradcheckError(RuntimeError):
    pass


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **_ignored):
    """Compares analytical gradients with central finite differences (use float64 inputs)."""
    from .._creation import zeros_like

    inputs = _as_tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, _C.TensorBase) and x.requires_grad]
    outs = _as_tuple(func(*inputs))
    # analytical Jacobians first: perturbing the inputs below bumps their versions
    analytic = {}
    for oi, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for k in range(o.numel()):
            g = zeros_like(o)
            g.view(-1)[k] = 1.0
            rows = grad((o,), [inputs[i] for i in diff], (g,), retain_graph=True, allow_unused=True)
            for a, i in zip(rows, diff):
                analytic[(oi, k, i)] = (np.zeros(inputs[i].numel()) if a is None
                                        else a.detach().double().numpy().reshape(-1).copy())

    def run(oi):
        with no_grad():
            return _as_tuple(func(*inputs))[oi].detach().double().numpy().reshape(-1).copy()

    for (oi, k, i), ana in analytic.items():
        x = inputs[i]
        if not x.is_contiguous():
            raise ValueError("gradcheck needs contiguous inputs")
        flat = x.detach().view(-1)
        num = np.zeros(x.numel())
        for j in range(x.numel()):
            orig = flat[j].item()
            flat[j] = orig + eps
            plus = run(oi)[k]
            flat[j] = orig - eps
            minus = run(oi)[k]
            flat[j] = orig
            num[j] = (plus - minus) / (2 * eps)
        if not np.allclose(ana, num, atol=atol, rtol=rtol):
            if raise_exception:
                raise GradcheckError(f"Jacobian mismatch for output {oi} with respect to input {i},\n"
                                     f"numerical:{num}\nanalytical:{ana}\n")
            return False
    return True

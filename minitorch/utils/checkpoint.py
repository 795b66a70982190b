"""minitorch.utils.checkpoint: activation checkpointing, like torch.utils.checkpoint.

checkpoint(function, *args, ...) runs `function` without keeping its activations and runs it again, with
gradients enabled, when the backward pass reaches it. Both of torch's variants are here:

- use_reentrant=True (torch's CheckpointFunction, the default while use_reentrant is not passed): the
  forward runs under no_grad; the backward re-runs `function` on detached inputs and back-propagates
  through the recomputation with a nested autograd.backward call, which also accumulates the .grad of the
  parameters used inside. As in torch, only tensor arguments (not tensors inside lists or dicts) take part
  in autograd, keyword arguments are refused, autograd.grad() through it is an error, and when no input
  requires grad the output does not either (a warning says so).
- use_reentrant=False: minitorch has no saved-tensor hooks, so this variant is built the same way, with
  what torch's non-reentrant one adds: keyword arguments and tensors inside (nested) lists, tuples and dicts
  take part in autograd, the outputs may be nested containers too, parameters get gradients even when no
  input requires grad, outputs that do not need a gradient are fine, context_fn and the "default"
  determinism check (the recomputed outputs' shapes, dtypes and devices must match the forward's) work.
  autograd.grad() through it gives the gradients of the checkpoint's arguments; asking it for a tensor that
  is used inside the function without being passed to checkpoint() (a module's parameter) raises a
  RuntimeError rather than returning a wrong answer: pass that tensor as an argument instead.

With preserve_rng_state=True the CPU generator's state at the forward is restored for the recomputation (and
the surrounding state afterwards), so dropout draws the same mask. minitorch cannot read or set the CUDA
generator's state from Python yet: when CUDA tensors are checkpointed with preserve_rng_state=True, a
warning says that random ops on CUDA may draw differently in the recomputation.
"""
import collections
import contextlib
import warnings

from .. import _C
from ..autograd import Function, enable_grad

__all__ = [
    "checkpoint",
    "checkpoint_sequential",
    "CheckpointError",
    "CheckpointFunction",
    "check_backward_validity",
    "detach_variable",
    "get_device_states",
    "set_device_states",
    "noop_context_fn",
    "set_checkpoint_early_stop",
    "DefaultDeviceType",
    "set_checkpoint_debug_enabled",
]

_DEFAULT_DETERMINISM_MODE = "default"
_checkpoint_debug_enabled = None
_enable_checkpoint_early_stop = None


class CheckpointError(RuntimeError):
    pass


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """Overrides checkpoint's `debug` flag while active (None defers to the flag). minitorch's debug mode
    adds no operator trace to the errors."""
    global _checkpoint_debug_enabled
    prev = _checkpoint_debug_enabled
    _checkpoint_debug_enabled = enabled
    try:
        yield
    finally:
        _checkpoint_debug_enabled = prev


@contextlib.contextmanager
def set_checkpoint_early_stop(enable):
    """Accepted for torch's API; minitorch always recomputes the whole checkpointed function."""
    global _enable_checkpoint_early_stop
    prev = _enable_checkpoint_early_stop
    _enable_checkpoint_early_stop = enable
    try:
        yield
    finally:
        _enable_checkpoint_early_stop = prev


def _is_tensor(x):
    return isinstance(x, _C.TensorBase)


def detach_variable(inputs):
    if isinstance(inputs, tuple):
        out = []
        for inp in inputs:
            if not _is_tensor(inp):
                out.append(inp)
                continue
            x = inp.detach()
            x.requires_grad = inp.requires_grad
            out.append(x)
        return tuple(out)
    raise RuntimeError(
        f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")


def check_backward_validity(inputs):
    if not any(inp.requires_grad for inp in inputs if _is_tensor(inp)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


# ---------------------------------------------------------------- devices and RNG state

def _cuda_module():
    from .. import cuda
    return cuda


def _cuda_rng_api():
    """(get_rng_state, set_rng_state) of the CUDA generator, or None where minitorch has none."""
    cuda = _cuda_module()
    get, set_ = getattr(cuda, "get_rng_state", None), getattr(cuda, "set_rng_state", None)
    return (get, set_) if get is not None and set_ is not None else None


class DefaultDeviceType:
    """The device type whose RNG state checkpoint saves when no argument is on an accelerator."""
    _default_device_type = None

    @staticmethod
    def set_device_type(device="cuda"):
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type():
        if not DefaultDeviceType._default_device_type:
            DefaultDeviceType._default_device_type = "cuda" if _cuda_module().is_available() else "cpu"
        return DefaultDeviceType._default_device_type


def _leaves(obj, out):
    """Appends the tensors in obj (itself, or inside nested tuples, lists and dict values) to out."""
    if _is_tensor(obj):
        out.append(obj)
    elif isinstance(obj, (tuple, list)):
        for o in obj:
            _leaves(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _leaves(o, out)
    return out


def get_device_states(*args):
    """(device indices, RNG states) of the CUDA devices the tensors in args are on."""
    ids = sorted({t.device.index or 0 for t in _leaves(args, []) if t.device.type == "cuda"})
    api = _cuda_rng_api()
    if not ids or api is None:
        return [], []
    return ids, [api[0]() for _ in ids]


def set_device_states(devices, states, *, device_type=None):
    api = _cuda_rng_api()
    if api is None:
        return
    for _, state in zip(devices, states):
        api[1](state)


class _RngState:
    """The generator states at a checkpoint's forward, restored around its recomputation."""

    def __init__(self, tensors):
        from .. import get_rng_state
        self.cpu = get_rng_state()
        self.cuda = None
        if any(t.device.type == "cuda" for t in tensors):
            api = _cuda_rng_api()
            if api is None:
                warnings.warn(
                    "minitorch.utils.checkpoint: the CUDA generator's state cannot be saved in this version, so "
                    "random operations on CUDA (dropout) inside the checkpointed function may draw differently "
                    "in the recomputation than in the forward; only the CPU generator is restored",
                    stacklevel=4)
            else:
                self.cuda = api[0]()

    @contextlib.contextmanager
    def restored(self):
        """Runs the block with the forward's generator states, then puts back the surrounding ones."""
        from .. import get_rng_state, set_rng_state
        api = _cuda_rng_api() if self.cuda is not None else None
        cpu_now = get_rng_state()
        cuda_now = api[0]() if api else None
        set_rng_state(self.cpu)
        if api:
            api[1](self.cuda)
        try:
            yield
        finally:
            set_rng_state(cpu_now)
            if api:
                api[1](cuda_now)


def _preserving(rng):
    return rng.restored() if rng is not None else contextlib.nullcontext()


# ---------------------------------------------------------------- helpers of the backward pass

def _in_grad_call():
    from ..autograd import _current_engine_call
    call = _current_engine_call()
    return call if call is not None and call.kind == "grad" else None


def _graph_reaches(roots, targets, skip):
    """Whether the autograd graph behind roots reaches one of targets (tensors) other than through the
    leaves in skip (tensors): a target leaf by its accumulator, a non-leaf target by its grad_fn."""
    leaf_ids = {id(t) for t in targets if t.grad_fn is None}
    fn_targets = [t.grad_fn for t in targets if t.grad_fn is not None]
    skip_ids = {id(t) for t in skip}
    seen = set()
    stack = [r.grad_fn for r in roots if r.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if any(node == f for f in fn_targets):
            return True
        var = getattr(node, "variable", None)  # only accumulators have one
        if var is not None:
            if id(var) in leaf_ids and id(var) not in skip_ids:
                return True
            continue
        stack.extend(nf for nf, _ in node.next_functions if nf is not None)
    return False


def _meta(t):
    return {"shape": t.shape, "dtype": t.dtype, "device": t.device}


def _mark_outputs(ctx, outputs):
    """Aliases of the tensor outputs (the graph node must not rewrite the history of a tensor the function
    returned unchanged); those of a dtype that has no gradient are marked non-differentiable."""
    res, non_diff = [], []
    for o in outputs:
        if _is_tensor(o):
            o = o.detach()
            if not o.dtype.is_floating_point:
                non_diff.append(o)
        res.append(o)
    if non_diff:
        ctx.mark_non_differentiable(*non_diff)
    return res


def _input_grads(detached, outputs, grads, in_grad_call):
    """Back-propagates grads from the recomputed outputs; returns the grads of the detached inputs. Under
    backward() the nested backward also accumulates the .grad of the parameters used inside; under grad()
    only the inputs' gradients are computed (nothing is accumulated)."""
    from .. import autograd
    pairs = [(o, g) for o, g in zip(outputs, grads) if _is_tensor(o) and o.requires_grad and g is not None]
    if not pairs:
        return [None] * len(detached)
    outs, gs = [o for o, _ in pairs], [g for _, g in pairs]
    if in_grad_call is None:
        autograd.backward(outs, gs)
        return [d.grad if _is_tensor(d) and d.requires_grad else None for d in detached]
    need = [d for d in detached if _is_tensor(d) and d.requires_grad]
    if not need:
        return [None] * len(detached)
    res = dict(zip(map(id, need), autograd.grad(outs, need, gs, allow_unused=True)))
    return [res.get(id(d)) if _is_tensor(d) else None for d in detached]


# ---------------------------------------------------------------- use_reentrant=True

class CheckpointFunction(Function):
    """torch's reentrant checkpoint: apply(run_function, preserve_rng_state, *args)."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        ctx.set_materialize_grads(False)
        tensors = [a for a in args if _is_tensor(a)]
        ctx.rng = _RngState(tensors) if preserve_rng_state else None
        # non-tensor inputs stay in ctx; tensors are saved (their version is checked at backward)
        ctx.inputs = [None if _is_tensor(a) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if _is_tensor(a)]
        ctx.save_for_backward(*tensors)
        outputs = run_function(*args)  # Function.apply runs forward under no_grad
        if isinstance(outputs, tuple):
            return tuple(_mark_outputs(ctx, outputs))
        return _mark_outputs(ctx, (outputs,))[0]

    @staticmethod
    def backward(ctx, *grads):
        if _in_grad_call() is not None:
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible"
                " with .grad() or passing an `inputs` parameter to .backward()."
                " To resolve this error, you can either set use_reentrant=False,"
                " or call .backward() without passing the `inputs` argument.")
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        detached = detach_variable(tuple(inputs))
        with _preserving(ctx.rng), enable_grad():
            outputs = ctx.run_function(*detached)
        if _is_tensor(outputs):
            outputs = (outputs,)
        if not any(_is_tensor(o) and o.requires_grad for o in outputs):
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        return (None, None) + tuple(_input_grads(detached, outputs, grads, None))


# ---------------------------------------------------------------- use_reentrant=False

def _flatten(obj, leaves):
    """A spec of obj's structure, the tensors in it (nested tuples, lists, dicts) appended to leaves."""
    if _is_tensor(obj):
        leaves.append(obj)
        return None
    if type(obj) in (tuple, list) or (isinstance(obj, tuple) and hasattr(obj, "_fields")):
        return (type(obj), [_flatten(o, leaves) for o in obj])
    if type(obj) in (dict, collections.OrderedDict):
        return (type(obj), [(k, _flatten(v, leaves)) for k, v in obj.items()])
    return ("const", obj)


def _unflatten(spec, it):
    if spec is None:
        return next(it)
    kind, body = spec
    if kind == "const":
        return body
    if kind is dict or kind is collections.OrderedDict:
        return kind((k, _unflatten(v, it)) for k, v in body)
    items = [_unflatten(s, it) for s in body]
    if kind is tuple or kind is list:
        return kind(items)
    return kind(*items)  # a namedtuple


class _Frame:
    def __init__(self, fn, spec, rng, recompute_context, metadata_fn):
        self.fn = fn
        self.spec = spec
        self.rng = rng
        self.recompute_context = recompute_context
        self.metadata_fn = metadata_fn
        self.out_spec = None
        self.out_meta = None


class _NonReentrantCheckpoint(Function):
    """apply(frame, anchor, *tensors): the anchor, a 0-element tensor that requires grad, makes the outputs
    part of the graph even when no argument requires grad (parameters inside still need the backward)."""

    @staticmethod
    def forward(ctx, frame, anchor, *tensors):
        ctx.frame = frame
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(*tensors)
        args, kwargs = _unflatten(frame.spec, iter(tensors))
        out = frame.fn(*args, **kwargs)
        flat = []
        frame.out_spec = _flatten(out, flat)
        frame.out_meta = [frame.metadata_fn(t) for t in flat]
        return tuple(_mark_outputs(ctx, flat))

    @staticmethod
    def backward(ctx, *grads):
        frame = ctx.frame
        grad_call = _in_grad_call()
        saved = ctx.saved_tensors
        detached = detach_variable(tuple(saved))
        args, kwargs = _unflatten(frame.spec, iter(detached))
        with _preserving(frame.rng), enable_grad(), frame.recompute_context:
            out = frame.fn(*args, **kwargs)
        flat = []
        _flatten(out, flat)
        _check_recomputed(frame, flat)
        if grad_call is not None and grad_call.inputs:
            roots = [o for o in flat if o.requires_grad]
            if _graph_reaches(roots, grad_call.inputs, detached):
                raise RuntimeError(
                    "torch.utils.checkpoint: autograd.grad() was asked for the gradient of a tensor that the "
                    "function checkpointed with use_reentrant=False uses without receiving it as an argument (a "
                    "module parameter, a captured tensor); minitorch's checkpoint cannot return that gradient "
                    "to grad(). Pass the tensor to checkpoint() as an argument, or call .backward() and read "
                    ".grad.")
        return (None, None) + tuple(_input_grads(detached, flat, grads, grad_call))


def _check_recomputed(frame, flat):
    if frame.out_meta is None or frame.metadata_fn is _no_metadata:
        return
    if len(flat) != len(frame.out_meta):
        raise CheckpointError(
            "torch.utils.checkpoint: A different number of tensors was returned during the original forward "
            "and recomputation.\n"
            f"Number of tensors returned during forward: {len(frame.out_meta)}\n"
            f"Number of tensors returned during recomputation: {len(flat)}.\n")
    bad = [(i, m, frame.metadata_fn(t)) for i, (m, t) in enumerate(zip(frame.out_meta, flat))
           if m != frame.metadata_fn(t)]
    if bad:
        msg = "".join(f"tensor at position {i}:\nsaved metadata: {m}\nrecomputed metadata: {r}\n" for i, m, r in bad)
        raise CheckpointError(
            "torch.utils.checkpoint: Recomputed values for the following tensors have different metadata than "
            f"during the forward pass.\n{msg}.\n")


def _no_metadata(_):
    return None


_allowed_determinism_checks_to_fns = {_DEFAULT_DETERMINISM_MODE: _meta, "none": _no_metadata}


def _checkpoint_without_reentrant(function, preserve_rng_state, context_fn, determinism_check, debug, args,
                                  kwargs):
    if _checkpoint_debug_enabled if _checkpoint_debug_enabled is not None else debug:
        if context_fn is not noop_context_fn:
            raise ValueError("debug=True is incompatible with non-default context_fn")
    if determinism_check not in _allowed_determinism_checks_to_fns:
        raise ValueError(
            f"determinism_check should be one of {list(_allowed_determinism_checks_to_fns.keys())}, "
            f"but got {determinism_check}")
    metadata_fn = _allowed_determinism_checks_to_fns[determinism_check]
    forward_context, recompute_context = context_fn()
    if not _C.is_grad_enabled():
        return function(*args, **kwargs)
    tensors = []
    spec = _flatten((tuple(args), dict(kwargs)), tensors)
    rng = _RngState(tensors) if preserve_rng_state else None
    frame = _Frame(function, spec, rng, recompute_context, metadata_fn)
    from .._creation import empty
    anchor = empty((0,), requires_grad=True)
    with forward_context:
        flat = _NonReentrantCheckpoint.apply(frame, anchor, *tensors)
    return _unflatten(frame.out_spec, iter(flat))


# ---------------------------------------------------------------- the entry points

def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check=_DEFAULT_DETERMINISM_MODE, debug=False, early_stop=True, **kwargs):
    r"""Checkpoint a model or part of the model: `function(*args, **kwargs)` runs without keeping its
    activations, and is run again during the backward pass (see the module's docstring for the variants).
    Keyword-only: use_reentrant (pass it explicitly), preserve_rng_state=True, context_fn,
    determinism_check ("default" or "none"), debug, early_stop (accepted; minitorch always recomputes
    all of `function`); other keyword arguments go to `function` (use_reentrant=False only)."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be "
            "passed explicitly. Starting in PyTorch 2.9, calling checkpoint "
            "without use_reentrant will raise an exception. use_reentrant=False is "
            "recommended, but if you need to preserve the current default "
            "behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.",
            stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, debug, args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    r"""Checkpoint a sequential model: `functions` (an nn.Sequential or a list of modules or functions) is cut
    into `segments` chunks; every chunk but the last runs under checkpoint(), the last one normally."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant "
            "parameter should be passed explicitly. "
            "In version 2.9 we will raise an exception if use_reentrant "
            "is not passed. use_reentrant=False is "
            "recommended, but if you need to preserve the current default "
            "behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(input):
            for j in range(start, end + 1):
                input = functions[j](input)
            return input
        return forward

    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    # the last chunk has to be non-volatile
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)

"""minitorch.autograd.forward_ad: forward-mode automatic differentiation (dual tensors).

The public API is torch 2.13's ``torch.autograd.forward_ad``: ``dual_level`` (context manager and
decorator), ``enter_dual_level``, ``exit_dual_level``, ``make_dual``, ``unpack_dual`` and the
``UnpackedDualTensor(primal, tangent)`` namedtuple::

    import minitorch.autograd.forward_ad as fwAD
    with fwAD.dual_level():
        d = fwAD.make_dual(x, v)
        y = f(d)
        y_p, jvp = fwAD.unpack_dual(y)    # jvp = J_f(x) @ v

How it works
------------
minitorch has no forward-mode formulas. Tangents are computed from reverse mode by the
"double-backward trick" (what ``torch.autograd.functional.jvp`` does): ``vjp(y, u) = J^T u`` is
linear in ``u``, so ``J t = d/du <J^T u, t>``. ``make_dual`` returns an alias of the primal
(same storage) whose history reverse-mode autograd tracks, and records its tangent in the active
level. ``unpack_dual(y)`` finds the duals of the level that ``y`` depends on (by walking
``y.grad_fn``), takes ``u = zeros_like(y).requires_grad_()``, computes the vjps with
``autograd.grad(y, duals, u, create_graph=True)`` and differentiates ``sum_i <vjp_i, t_i>`` with
respect to ``u``. The tangents of all duals of the level that ``y`` depends on are summed, as in
forward mode.

What differs from torch
-----------------------
* A dual tensor, and everything computed from it, reports ``requires_grad=True`` and has a
  ``grad_fn`` (``_MakeDualBackward`` for the dual itself), also when the primal does not require
  grad: the tracking is reverse-mode history. ``dual.is_leaf`` is False and ``dual._base`` is None
  (it shares the primal's storage and version counter all the same). A ``backward()`` through a
  graph that only depends on duals of non-requires-grad primals runs (torch would raise that the
  tensor does not require grad) and leaves no ``.grad`` anywhere.
* Cost: each ``unpack_dual`` of a computed tensor runs two reverse passes over its graph (one of
  them building the double-backward graph), instead of forward formulas evaluated alongside the
  primal ops. ``unpack_dual`` of a dual as made by ``make_dual`` returns the tangent as given.
* The graph of ``y`` must still be there: ``unpack_dual(y)`` after a ``y.backward()`` without
  ``retain_graph=True`` raises the usual "backward through the graph a second time" error. The
  unpacks retain the graph, so ``y.backward()`` still works after them.
* Tangents exist only where reverse mode records history: a dual used under ``no_grad`` /
  ``inference_mode`` loses its tangent (torch's forward AD ignores grad mode). To keep this from
  giving a silently missing tangent, ``make_dual`` raises under disabled grad mode, and so does
  ``unpack_dual`` of a floating tensor without history while grad mode is disabled and the level
  holds duals.
* An op whose double backward minitorch does not implement (conv, pooling, batch norm, RNN
  layers, fused losses, cumsum, ...) has no tangent: ``unpack_dual`` of a result that depends on a
  dual through it raises that op's NotImplementedError rather than returning a wrong tangent.
* Tangents are computed in the dtype of the output (torch keeps a tangent of another floating
  dtype as given, and so does ``unpack_dual`` of the dual itself here). Complex tensors are not
  supported (minitorch has none).
* In-place ops on a dual are tracked (the tangent of the modified dual is updated as torch's),
  but the tangent tensor passed to ``make_dual`` is not modified in place as torch's is.
* The level holds its duals and tangents until it exits (torch frees a tangent with its dual).
* Only one level exists at a time, as in torch ("Nested forward mode AD is not supported");
  ``torch.func.jvp`` has no minitorch counterpart.
"""
import functools
import threading
from typing import NamedTuple, Optional

from .. import _C
from .function import Function
from .grad_mode import enable_grad

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "dual_level"]

_current_level = -1
_levels_created = 0   # levels entered so far (torch's level indices only reuse deleted ones)
_state = None         # the active level's _LevelState


class _LevelState:
    """The duals of the active level: each dual's grad_fn node -> _DualEntry."""

    def __init__(self, level):
        self.level = level
        self.duals = {}


class _DualEntry:
    __slots__ = ("leaf", "tangent", "node", "real")

    def __init__(self, leaf, tangent, node, real):
        self.leaf = leaf        # the hidden leaf under the dual: the gradient w.r.t. the dual arrives here
        self.tangent = tangent
        self.node = node        # the dual's grad_fn (_MakeDualBackward)
        self.real = real        # the primal requires grad (the dual's history goes on to it)


# Set while unpack_dual runs its reverse passes: the tracked paths that carry no tangent (a
# primal's own history under a dual, outputs of unpack_dual) then pass no gradient.
_tls = threading.local()


def _cutting():
    return getattr(_tls, "cut", 0) > 0


class _Cut:
    def __enter__(self):
        _tls.cut = getattr(_tls, "cut", 0) + 1

    def __exit__(self, *exc):
        _tls.cut -= 1
        return False


class _MakeDual(Function):
    """The dual: an alias of the primal (same storage) whose gradient goes to the hidden leaf
    (for unpack_dual) and, when the primal requires grad, on to the primal (for backward)."""

    @staticmethod
    def forward(ctx, leaf, primal):
        return leaf.detach()

    @staticmethod
    def backward(ctx, g):
        return g, (None if _cutting() or not ctx.needs_input_grad[1] else g)


class _MakeDualNoGrad(Function):
    @staticmethod
    def forward(ctx, leaf):
        return leaf.detach()

    @staticmethod
    def backward(ctx, g):
        return g


class _Unpacked(Function):
    """An output of unpack_dual that keeps its reverse-mode history: an alias through which
    backward() passes gradients, but which has no tangent at the level (as torch's)."""

    @staticmethod
    def forward(ctx, x):
        return x.detach()

    @staticmethod
    def backward(ctx, g):
        return None if _cutting() else g


_UNPACKED_NODE = _Unpacked._backward_name


def _drop_grad(leaf):
    leaf.grad = None


def _check_tensor(t, fn, arg):
    if not isinstance(t, _C.TensorBase):
        raise TypeError(f"{fn}(): argument '{arg}' must be Tensor, not {type(t).__name__}")


def _scan(t, state):
    """(entries of the level's duals that t depends on, whether t's history reaches a tensor
    that requires grad other than through those duals' hidden leaves)."""
    if not t.requires_grad:
        return [], False
    if t.grad_fn is None:
        return [], True
    found, real = {}, False
    seen = set()
    stack = [t.grad_fn]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        e = state.duals.get(n)
        if e is not None:
            found[n] = e
            real |= e.real
            continue
        name = n.name()
        if name == _UNPACKED_NODE:
            real = True
            continue
        if name == "AccumulateGrad":
            # a leaf that requires grad, unless it is the hidden leaf of a dual of an exited level
            real |= not getattr(n.variable, "_fwad_hidden", False)
            continue
        for nxt, _ in n.next_functions:
            if nxt is not None:
                stack.append(nxt)
    return list(found.values()), real


def enter_dual_level():
    """Enter a new forward grad level (the one used by default by make_dual / unpack_dual) and
    return its index. Only one level can exist at a time."""
    global _current_level, _state, _levels_created
    if _current_level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _current_level = 0
    _levels_created = max(_levels_created, 1)
    _state = _LevelState(_current_level)
    return _current_level


def exit_dual_level(*, level=None):
    """Exit the current forward grad level; the tangents of its duals are dropped."""
    global _current_level, _state
    if level is None:
        level = _current_level
    if level != _current_level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. "
                           "This is not supported.")
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    _state = None
    _current_level = level - 1


def make_dual(tensor, tangent, *, level=None):
    """A dual tensor: an alias of ``tensor`` (same storage) carrying ``tangent`` at the level.

    Backward differentiable: gradients through the dual reach ``tensor`` when it requires grad."""
    if level is None:
        level = _current_level
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    _check_tensor(tensor, "_make_dual", "primal")
    _check_tensor(tangent, "_make_dual", "tangent")
    if not tensor.is_floating_point():
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not tangent.is_floating_point():
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if level != _current_level:
        if level < _levels_created:
            raise RuntimeError("Trying to access a forward AD level with an invalid index. This index was either "
                               "not created or is already deleted.")
        raise RuntimeError("Invalid level given to _make_dual")
    if tuple(tensor.shape) != tuple(tangent.shape):
        raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while the given "
                           f"forward gradient is of size {list(tangent.shape)}.")
    if tensor.device != tangent.device:
        raise RuntimeError("Trying to set a forward gradient that has a different device than that of the original "
                           "Tensor, this is not supported.")
    if not _C.is_grad_enabled():
        raise RuntimeError("minitorch's forward AD is built on reverse-mode autograd: make_dual needs grad mode "
                           "enabled (it was called under no_grad / inference_mode / set_grad_enabled(False)), and "
                           "ops on duals must run with grad mode enabled to carry tangents.")
    if _scan(tensor, _state)[0]:
        raise RuntimeError(f"Making a dual Tensor based on a Tensor that already has a forward gradient at the same "
                           f"level {level} is not supported.")
    leaf = tensor.detach().requires_grad_()
    leaf._fwad_hidden = True
    leaf.register_post_accumulate_grad_hook(_drop_grad)
    real = tensor.requires_grad
    dual = _MakeDual.apply(leaf, tensor) if real else _MakeDualNoGrad.apply(leaf)
    node = dual.grad_fn
    _state.duals[node] = _DualEntry(leaf, tangent, node, real)
    return dual


class UnpackedDualTensor(NamedTuple):
    """What unpack_dual returns: the primal and the tangent (None when there is none)."""
    primal: _C.TensorBase
    tangent: Optional[_C.TensorBase]


def _primal_of(tensor, real):
    if real:
        with enable_grad():
            return _Unpacked.apply(tensor)
    return tensor.detach()


def _tangent_of(y, entries, need_graph):
    from . import grad
    from .._creation import zeros_like
    with enable_grad(), _Cut():
        u = zeros_like(y).requires_grad_()
        vjps = grad((y,), tuple(e.leaf for e in entries), (u,), create_graph=True, allow_unused=True)
        s = None
        for v, e in zip(vjps, entries):
            if v is None:
                continue
            term = (v * e.tangent).sum()
            s = term if s is None else s + term
        jt = None
        if s is not None and s.requires_grad:
            jt = grad((s,), (u,), retain_graph=True, create_graph=need_graph, allow_unused=True)[0]
    if jt is None:  # y depends on the duals only through ops with zero derivative (sign, round, ...)
        return zeros_like(y)
    if need_graph and jt.requires_grad:
        with enable_grad():
            return _Unpacked.apply(jt)
    return jt.detach()


def unpack_dual(tensor, *, level=None):
    """``UnpackedDualTensor(primal, tangent)`` of ``tensor`` at the level: the primal shares its
    storage, the tangent is J·t summed over the level's duals ``tensor`` depends on (None when it
    depends on none). Neither carries a tangent at the level. Backward differentiable."""
    if level is None:
        level = _current_level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    _check_tensor(tensor, "_unpack_dual", "dual")
    state = _state
    if state is None or level != state.level:
        if state is not None and _scan(tensor, state)[0]:
            raise RuntimeError("Invalid level given to _fw_primal")
        return UnpackedDualTensor(_primal_of(tensor, tensor.requires_grad), None)
    if (not tensor.requires_grad and tensor.is_floating_point() and not _C.is_grad_enabled()
            and state.duals):
        raise RuntimeError("minitorch's forward AD is built on reverse-mode autograd: ops under no_grad / "
                           "inference_mode do not carry tangents, so unpack_dual of a tensor without history under "
                           "disabled grad mode cannot tell whether it has one. Unpack with grad mode enabled.")
    if tensor.grad_fn is not None:
        e = state.duals.get(tensor.grad_fn)
        if e is not None:  # a dual as made by make_dual (not modified in place since)
            return UnpackedDualTensor(_primal_of(tensor, e.real), e.tangent)
    entries, real = _scan(tensor, state)
    primal = _primal_of(tensor, real)
    if not entries or not tensor.is_floating_point():
        return UnpackedDualTensor(primal, None)
    need_graph = real or any(e.tangent.requires_grad for e in entries)
    return UnpackedDualTensor(primal, _tangent_of(tensor, entries, need_graph))


class dual_level:
    """Context manager (and decorator) entering a forward AD level for its body and exiting it
    after, which drops the tangents. Nested levels are not supported, as in torch."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, exc_type, exc_value, traceback):
        exit_dual_level()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with dual_level():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return dual_level()

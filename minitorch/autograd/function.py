"""Custom autograd Functions: forward/backward staticmethods, ctx.save_for_backward."""
from .. import _C
from .grad_mode import no_grad


class FunctionCtx:
    def __init__(self):
        self._saved = ()
        self._freed = False
        self.needs_input_grad = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, _C.TensorBase):
                raise TypeError("save_for_backward can only save variables, but argument 0 is of type "
                                + type(t).__name__)
        self._saved = tuple(tensors)
        self._versions = tuple(t._version if t is not None else None for t in tensors)

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved tensors after they have "
                "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
                "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
                "if you need to access saved tensors after calling backward.")
        for t, v in zip(self._saved, self._versions):
            if t is not None and t._version != v:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an inplace operation: "
                    f"[torch.{t.type().split('.')[-1]} {list(t.shape)}] is at version {t._version}; expected version {v} "
                    "instead.")
        return self._saved

    def mark_non_differentiable(self, *args):
        self._non_diff = set(id(a) for a in args)

    def set_materialize_grads(self, value):
        self.materialize_grads = value


class _FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        # grad_fn.name() is "<Class>Backward" as in torch; a class may set `_node_name` (not inherited) to name
        # its node exactly, as minitorch's own Functions do to show torch's built-in names ("EmbeddingBackward0")
        cls._backward_name = ns.get("_node_name") or name + "Backward"


class Function(metaclass=_FunctionMeta):
    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, _C.TensorBase) and a.requires_grad for a in args)
        with no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        # saved outputs are kept detached (same storage and version): the output holds the node, the
        # node this ctx, and a ctx holding the output would close a cycle through C that Python's
        # collector cannot see
        ctx._saved = tuple(t.detach() if t is not None and any(t is o for o in outs) else t for t in ctx._saved)
        # outputs that are inputs returned as-is get a fresh alias so their history is not overwritten
        fixed = []
        for o in outs:
            if isinstance(o, _C.TensorBase) and any(o is a for a in args):
                o = o.view_as(o) if not _C.is_grad_enabled() else o.detach()
            fixed.append(o)
        outs = tuple(fixed)
        if _C.is_grad_enabled() and any(ctx.needs_input_grad):
            # the outputs' metadata, not the outputs, for the same reason: the node holds this closure
            metas = tuple((tuple(o.shape), o.dtype, o.device) if isinstance(o, _C.TensorBase) else None
                          for o in outs)

            def run_backward(ctx_, *grads):
                if ctx_.materialize_grads:
                    from .._creation import zeros
                    grads = tuple(g if g is not None or m is None else zeros(m[0], dtype=m[1], device=m[2])
                                  for g, m in zip(grads, metas))
                r = cls.backward(ctx_, *grads)
                return r if isinstance(r, tuple) else (r,)
            _C._function_record(ctx, cls._backward_name, run_backward, tuple(args), outs)
            non_diff = getattr(ctx, "_non_diff", ())
            for o in outs:
                if isinstance(o, _C.TensorBase) and id(o) in non_diff:
                    o.detach_()
        return outs[0] if single else outs


def once_differentiable(fn):
    """Decorator for a Function's backward that is not itself differentiable (torch's): it runs under
    no_grad, and under create_graph its gradients get a node that raises when differentiated. minitorch
    also counts the saved tensors, so a second derivative through them is never a silent zero."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not _C.is_grad_enabled():
            return outputs
        saved = getattr(ctx, "_saved", ())
        tracked = any(isinstance(a, _C.TensorBase) and a.requires_grad for a in (*args, *saved))
        if not tracked:
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        outs = tuple(_DelayedError.apply(o, *[a for a in (*args, *saved) if isinstance(a, _C.TensorBase)])
                     if isinstance(o, _C.TensorBase) else o for o in outs)
        return outs[0] if single else outs
    return wrapper


class _DelayedError(Function):
    """Identity on its first argument; its backward raises (what once_differentiable gives its gradients).
    The other arguments only make the node depend on what the gradient depends on."""

    @staticmethod
    def forward(ctx, x, *deps):
        return x.clone()

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")

"""minitorch.autograd.functional: vjp, jvp, jacobian, hessian, hvp and vhp, as torch.autograd.functional.

Everything is built on reverse mode (autograd.grad). jvp and hvp use the double-backward trick:
the backward of a function is linear in its grad_outputs, so differentiating the gradient with
respect to (dummy, zero) grad_outputs gives the forward-mode product. vectorize=True computes the
same numbers row by row (torch vmaps one batched grad); strategy="forward-mode" is not available.

Result nesting follows torch: a Tensor argument gives a Tensor back, a tuple gives a tuple, and a
Jacobian of a tuple of outputs with respect to a tuple of inputs is a tuple (per output) of tuples
(per input). Results are detached unless create_graph=True.
"""
from .. import _C
from .grad_mode import enable_grad, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ------------------------------------------------------------------------------------------ helpers
def _tupled(value, what, fn):
    """(was_a_tuple, tuple of tensors); a TypeError names `what` when something is not a tensor."""
    was_tuple = isinstance(value, tuple)
    items = value if was_tuple else (value,)
    for k, item in enumerate(items):
        if not isinstance(item, _C.TensorBase):
            where = f"value at index {k}" if was_tuple else f"given {what}"
            raise TypeError(f"The {what} given to {fn} must be either a Tensor or a tuple of Tensors but the "
                            f"{where} has type {type(item)}.")
    return was_tuple, items


def _untuple(res, was_tuple):
    """Undoes _tupled on a result: was_tuple is one flag, or (outer, inner) for a nested result."""
    if isinstance(was_tuple, tuple):
        outer, inner = was_tuple
        if not inner:
            res = tuple(row[0] for row in res)
        return res if outer else res[0]
    return res if was_tuple else res[0]


def _fresh(tensors, create_graph, need_graph):
    """New tensor objects for the user function: a differentiable alias when the caller wants the
    graph back to its own tensors (create_graph and the tensor requires grad), else a detached leaf.
    A new object always, so that inputs passed in can be told apart from the same tensors captured
    by the function."""
    out = []
    for t in tensors:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(need_graph))
    return tuple(out)


def _finish(res, create_graph):
    """Detaches the (possibly nested) results unless create_graph."""
    if isinstance(res[0], _C.TensorBase):
        return res if create_graph else tuple(t.detach() for t in res)
    return tuple(_finish(r, create_graph) for r in res)


def _check_v(v, ref, ref_is_tuple):
    if len(v) != len(ref):
        if ref_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(ref)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for k, (a, b) in enumerate(zip(v, ref)):
        if a.size() != b.size():
            where = f"Entry {k} in " if ref_is_tuple else ""
            raise RuntimeError(f"{where}v has invalid size: should be {b.size()} but got {a.size()}.")


_STRICT_MESSAGES = {
    "outputs": lambda k: (f"Output {k} of the user-provided function does not require gradients. The outputs "
                          "must be computed in a differentiable manner from the input when running in strict "
                          "mode."),
    "grad_inputs": lambda k: (f"The gradient with respect to input {k} is independent of the inputs of the "
                              "user-provided function. This is not allowed in strict mode."),
    "jacobian": lambda k: ("While computing the hessian, found that the jacobian of the user-provided function "
                           f"with respect to input {k} is independent of the input. This is not allowed in "
                           "strict mode. You should ensure that your function is twice differentiable and that "
                           "the jacobian depends on the inputs (this would be violated by a linear function for "
                           "example)."),
    "hessian": lambda k: (f"The hessian of the user-provided function with respect to input {k} is independent "
                          "of the input. This is not allowed in strict mode. You should ensure that your "
                          "function is thrice differentiable and that the hessian depends on the inputs."),
}


def _strict_requires_grad(tensors, kind, strict):
    """In strict mode every tensor must exist and require grad (kind picks torch's message)."""
    if not strict:
        return
    for k, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {k}. This is "
                               "not allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError(_STRICT_MESSAGES[kind](k))


def _grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad (the others contribute nothing); None for
    every input when there are none, and None for an input no output depends on."""
    from . import grad
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad(tuple(o for o, _ in pairs), inputs, tuple(g for _, g in pairs), retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True)


_MISSING = {
    "back": lambda k: (f"The output of the user-provided function is independent of input {k}. This is not "
                       "allowed in strict mode."),
    "back_trick": lambda k: (f"The gradient with respect to the input is independent of entry {k} in the "
                             "grad_outputs when using the double backward trick to compute forward mode "
                             "gradients. This is not allowed in strict mode."),
    "double_back": lambda k: (f"The jacobian of the user-provided function is independent of input {k}. This "
                              "is not allowed in strict mode."),
    "double_back_trick": lambda k: (f"The hessian of the user-provided function is independent of entry {k} in "
                                    "the grad_jacobian. This is not allowed in strict mode as it prevents from "
                                    "using the double backward trick to replace forward mode AD."),
}


def _zeros_for_missing(grads, refs, strict, create_graph, stage):
    """Replaces a None gradient by zeros shaped as its reference (strict: raises instead); in strict
    mode with create_graph a gradient without history is an error too."""
    from .._creation import zeros_like
    out = []
    for k, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_MISSING[stage](k))
            g = zeros_like(refs[k])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if stage.startswith("double") else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {k}. This is "
                               "not allowed in strict mode when create_graph=True.")
        out.append(g)
    return tuple(out)


def _prepare_v(v, ref, ref_is_tuple, create_graph, fn, v_none_message):
    """v as a tuple of fresh tensors matching ref; None only where ref is one one-element tensor."""
    if v is None:
        if len(ref) != 1 or ref[0].nelement() != 1:
            raise RuntimeError(v_none_message)
        return None
    _, v = _tupled(v, "v", fn)
    v = _fresh(v, create_graph, need_graph=False)
    _check_v(v, ref, ref_is_tuple)
    return v


def _single_element_output(outputs, outputs_tuple, fn):
    if outputs_tuple or not isinstance(outputs[0], _C.TensorBase):
        raise RuntimeError(f"The function given to {fn} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn} should contain a single element")


_V_NONE_INPUT = ("The vector v can only be None if the input to the user-provided function is a single Tensor "
                 "with a single element.")


# ------------------------------------------------------------------------------------------ public API
def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), v^T J): the vector-Jacobian product, shaped as the inputs."""
    with enable_grad():
        inputs_tuple, inputs = _tupled(inputs, "inputs", "vjp")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function", "vjp")
        _strict_requires_grad(outputs, "outputs", strict)
        v = _prepare_v(v, outputs, outputs_tuple, create_graph, "vjp",
                       "The vector v can only be None if the user-provided function returns a single Tensor "
                       "with a single element.")
    with set_grad_enabled(True if create_graph else _C.is_grad_enabled()):
        res = _zeros_for_missing(_grad(outputs, inputs, v, create_graph=create_graph), inputs, strict,
                                 create_graph, "back")
    return (_untuple(_finish(outputs, create_graph), outputs_tuple),
            _untuple(_finish(res, create_graph), inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), J v): the Jacobian-vector product, shaped as the outputs (double-backward trick)."""
    from .._creation import zeros_like
    with enable_grad():
        inputs_tuple, inputs = _tupled(inputs, "inputs", "jvp")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, inputs_tuple, create_graph, "jvp", _V_NONE_INPUT)
        outputs_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function", "jvp")
        _strict_requires_grad(outputs, "outputs", strict)
        # u -> J^T u is linear, so the value of u never reaches its derivative: zeros will do
        dummy = tuple(zeros_like(o, requires_grad=True) for o in outputs)
        vjp_of_dummy = _grad(outputs, inputs, dummy, create_graph=True)
        _strict_requires_grad(vjp_of_dummy, "grad_inputs", strict)
    with set_grad_enabled(True if create_graph else _C.is_grad_enabled()):
        res = _zeros_for_missing(_grad(vjp_of_dummy, dummy, v, create_graph=create_graph), outputs, strict,
                                 create_graph, "back_trick")
    return (_untuple(_finish(outputs, create_graph), outputs_tuple),
            _untuple(_finish(res, create_graph), outputs_tuple))


def _jacobian_rows(out, inputs, create_graph, strict, out_index):
    """One list per input of the gradients of each element of out (row by row)."""
    from .._creation import zeros_like
    rows = tuple([] for _ in inputs)
    flat = out.reshape(-1)
    for j in range(out.nelement()):
        grads = _grad((flat[j],), inputs, retain_graph=True, create_graph=create_graph)
        for k, (g, x) in enumerate(zip(grads, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {out_index} of the user-provided function is independent of "
                                       f"input {k}. This is not allowed in strict mode.")
                g = zeros_like(x)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent of input "
                                   f"{out_index}. This is not allowed in strict mode when create_graph=True.")
            rows[k].append(g)
    return rows


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of func at inputs: result[i][j] has shape outputs[i].shape + inputs[j].shape."""
    from .. import stack, zeros
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                             'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                             'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and '
                                      '`strategy="forward-mode"` are not supported together (yet). Please either '
                                      'set `create_graph=False` or `strategy="reverse-mode"`.')
        raise NotImplementedError('minitorch.autograd.functional.jacobian: strategy="forward-mode" is not '
                                  'implemented in minitorch (it has no forward-mode AD); use '
                                  'strategy="reverse-mode".')
    with enable_grad():
        inputs_tuple, inputs = _tupled(inputs, "inputs", "jacobian")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function", "jacobian")
        _strict_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                               "supported together. Please either set `strict=False` or `vectorize=False`.")
        # vectorize=True: torch vmaps a single batched grad; the rows computed one by one are the same
        jac = []
        for i, out in enumerate(outputs):
            rows = _jacobian_rows(out, inputs, create_graph, strict, i)
            per_input = []
            for x, r in zip(inputs, rows):
                shape = tuple(out.shape) + tuple(x.shape)
                if r:
                    per_input.append(stack(r, 0).view(shape))
                else:  # an empty output: an empty Jacobian
                    per_input.append(zeros(shape, dtype=x.dtype, device=x.device))
            jac.append(tuple(per_input))
        jac = _finish(tuple(jac), create_graph)
        return _untuple(jac, (outputs_tuple, inputs_tuple))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar func: result[i][j] has shape inputs[i].shape + inputs[j].shape (the
    Jacobian of the Jacobian)."""
    inputs_tuple, inputs = _tupled(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_func(*args):
        out = func(*args)
        out_tuple, outs = _tupled(out, "outputs of the user-provided function", "hessian")
        _strict_requires_grad(outs, "outputs", strict)
        _single_element_output(outs, out_tuple, "hessian")
        return out.squeeze()

    def gradient(*args):
        g = jacobian(scalar_func, args, create_graph=True)
        _strict_requires_grad(g, "jacobian", strict)
        return g

    res = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _untuple(res, (inputs_tuple, inputs_tuple))


def _scalar_setup(func, inputs, v, create_graph, strict, fn):
    """Shared by vhp and hvp: fresh inputs, v, the single-element output and its gradient (with graph)."""
    inputs_tuple, inputs = _tupled(inputs, "inputs", fn)
    inputs = _fresh(inputs, create_graph, need_graph=True)
    v = _prepare_v(v, inputs, inputs_tuple, create_graph, fn, _V_NONE_INPUT)
    outputs_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function", fn)
    _strict_requires_grad(outputs, "outputs", strict)
    _single_element_output(outputs, outputs_tuple, fn)
    g = _grad(outputs, inputs, create_graph=True)
    _strict_requires_grad(g, "jacobian", strict)
    return inputs_tuple, inputs, v, outputs_tuple, outputs, g


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), v^T H) for a scalar func."""
    with enable_grad():
        inputs_tuple, inputs, v, outputs_tuple, outputs, g = _scalar_setup(func, inputs, v, create_graph,
                                                                           strict, "vhp")
    with set_grad_enabled(True if create_graph else _C.is_grad_enabled()):
        res = _zeros_for_missing(_grad(g, inputs, v, create_graph=create_graph), inputs, strict, create_graph,
                                 "double_back")
    return (_untuple(_finish(outputs, create_graph), outputs_tuple),
            _untuple(_finish(res, create_graph), inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), H v) for a scalar func, by the double-backward trick on the gradient."""
    from .._creation import zeros_like
    with enable_grad():
        inputs_tuple, inputs, v, outputs_tuple, outputs, g = _scalar_setup(func, inputs, v, create_graph,
                                                                           strict, "hvp")
        dummy = tuple(zeros_like(x, requires_grad=True) for x in inputs)
        h_dummy = _grad(g, inputs, dummy, create_graph=True)  # H^T u, linear in u
        _strict_requires_grad(g, "hessian", strict)  # (torch checks the gradient here, not h_dummy)
    with set_grad_enabled(True if create_graph else _C.is_grad_enabled()):
        res = _zeros_for_missing(_grad(h_dummy, dummy, v, create_graph=create_graph), inputs, strict,
                                 create_graph, "double_back_trick")
    return (_untuple(_finish(outputs, create_graph), outputs_tuple),
            _untuple(_finish(res, create_graph), inputs_tuple))

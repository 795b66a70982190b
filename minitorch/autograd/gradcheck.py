"""gradcheck and gradgradcheck: analytical derivatives against central finite differences.

As in torch, minitorch.autograd.gradcheck is the function (this module's name is shadowed in the
package), while `from minitorch.autograd.gradcheck import gradcheck, gradgradcheck` reads this module.
Use float64 inputs: the default tolerances are meant for double precision.
"""
import warnings

import numpy as np

from .. import _C

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _is_tensor(x):
    return isinstance(x, _C.TensorBase)


def _differentiable_outputs(out):
    return tuple(o for o in _as_tuple(out) if _is_tensor(o) and o.requires_grad)


def _check_inputs(inputs):
    found = False
    for k, x in enumerate(inputs):
        if not (_is_tensor(x) and x.requires_grad):
            continue
        if str(x.dtype) != "torch.float64":
            warnings.warn(f"Input #{k} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating "
                          "point or complex. ", stacklevel=3)
        if not all(st > 0 or sz <= 1 for st, sz in zip(x.stride(), x.shape)):
            raise RuntimeError(f"The {k}th input has a dimension with stride 0. gradcheck only supports inputs that "
                               "are non-overlapping to be able to compute the numerical gradients correctly. You "
                               "should call .contiguous on the input before passing it to gradcheck.")
        found = True
    if not found:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")


def _flat_numpy(t):
    return t.detach().double().cpu().numpy().reshape(-1).copy()


def _analytical(inputs, diff, outputs):
    """ana[i][j]: d outputs[i] / d inputs[diff[j]] as an (input numel, output numel) matrix, one
    backward per output element."""
    from . import grad
    from .._creation import zeros_like
    ana = []
    for o in outputs:
        mats = [np.zeros((inputs[j].numel(), o.numel())) for j in diff]
        for k in range(o.numel()):
            g = zeros_like(o)
            g.view(-1)[k] = 1.0
            rows = grad((o,), [inputs[j] for j in diff], (g,), retain_graph=True, allow_unused=True)
            for m, r in zip(mats, rows):
                if r is not None:
                    m[:, k] = _flat_numpy(r)
        ana.append(mats)
    return ana


def _positions(x):
    """Writers/readers for each element of x, in row-major order (x may be non-contiguous)."""
    d = x.detach()
    if d.is_contiguous():
        flat = d.view(-1)
        return [(flat, j) for j in range(d.numel())]
    return [(d, idx) for idx in np.ndindex(*d.shape)]


def _numerical(func, inputs, diff, n_outputs, eps):
    """num[i][j]: the central-difference Jacobian of every tensor output i with respect to
    inputs[diff[j]], as an (input numel, output numel) matrix. The inputs are perturbed in place."""
    def evaluate():
        return [_flat_numpy(o) for o in _as_tuple(func(*inputs)) if _is_tensor(o)]

    num = [[None] * len(diff) for _ in range(n_outputs)]
    for jj, j in enumerate(diff):
        x = inputs[j]
        cols = []
        for holder, idx in _positions(x):
            orig = holder[idx].item()
            holder[idx] = orig + eps
            plus = evaluate()
            holder[idx] = orig - eps
            minus = evaluate()
            holder[idx] = orig
            cols.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
        for i in range(n_outputs):
            num[i][jj] = np.array([c[i] for c in cols]).reshape(x.numel(), -1)
    return num


def _gradcheck(func, inputs, eps, atol, rtol):
    inputs = _as_tuple(inputs)
    _check_inputs(inputs)
    diff = [j for j, x in enumerate(inputs) if _is_tensor(x) and x.requires_grad]
    func_out = tuple(o for o in _as_tuple(func(*inputs)) if _is_tensor(o))
    outputs = _differentiable_outputs(func_out)
    # analytical first: the finite differences perturb the inputs in place (bumping their versions)
    ana = _analytical(inputs, diff, outputs)
    num = _numerical(func, inputs, diff, len(func_out), eps)
    if not outputs:
        for per_input in num:
            for n in per_input:
                if np.count_nonzero(n):
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return True
    num = [n for o, n in zip(func_out, num) if o.requires_grad]
    for i in range(len(outputs)):
        for j, (a, n) in enumerate(zip(ana[i], num[i])):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                raise GradcheckError(f"Jacobian mismatch for output {i:d} with respect to input {j:d},\n"
                                     f"numerical:{n}\nanalytical:{a}\n")
    return True


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """Compares the analytical Jacobian (one backward per output element) of func at inputs with
    central finite differences, for every input tensor that requires grad; True, or a
    GradcheckError (False when raise_exception=False). Outputs that do not require grad must have
    a zero numerical derivative when no output does. The slow (full Jacobian) mode always runs."""
    if check_forward_ad or check_batched_forward_grad:
        raise NotImplementedError("minitorch has no forward-mode AD: gradcheck(check_forward_ad=True) is not "
                                  "supported")
    if not check_backward_ad:
        return True
    try:
        return _gradcheck(func, inputs, eps, atol, rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _random_like(t, noncontiguous):
    """Uniform in [-1, 1), float64 unless t is floating; non-contiguous (every other element of a
    wider buffer) when asked and t has more than one element; a leaf that requires grad."""
    from .. import float64, rand
    from .grad_mode import no_grad
    dtype = t.dtype if t.is_floating_point() else float64
    shape = tuple(t.shape)
    with no_grad():
        if noncontiguous and t.numel() > 1:
            wide = shape[:-1] + (2 * shape[-1],)
            r = (rand(wide, dtype=dtype, device=t.device) * 2 - 1)[..., ::2]
        else:
            r = rand(shape, dtype=dtype, device=t.device) * 2 - 1
    return r.requires_grad_()


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """Second derivatives against finite differences of the first: gradcheck of
    (inputs, grad_outputs) -> autograd.grad(func(inputs), inputs, grad_outputs, create_graph=True).
    grad_outputs default to random tensors in [-1, 1) that require grad (float64 for
    non-floating outputs; non-contiguous with gen_non_contig_grad_outputs)."""
    from . import grad
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_batched_grad=True requires check_rev_over_rev to be True")
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        grad_outputs = tuple(_random_like(o, gen_non_contig_grad_outputs)
                             for o in _differentiable_outputs(func(*inputs)))
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_out = len(grad_outputs)
    diff_inputs = {k for k, x in enumerate(inputs) if _is_tensor(x) and x.requires_grad}
    diff_grads = {k for k, g in enumerate(grad_outputs) if _is_tensor(g) and g.requires_grad}

    def first_derivative(*args):
        xs = tuple(x.requires_grad_() if k in diff_inputs else x for k, x in enumerate(args[:len(args) - n_out]))
        outs = _differentiable_outputs(func(*xs))
        gs = tuple(g.requires_grad_() if k in diff_grads else g for k, g in enumerate(args[len(args) - n_out:]))
        wrt = tuple(x for k, x in enumerate(xs) if k in diff_inputs)
        res = grad(outs, wrt, gs, create_graph=True, allow_unused=True)
        return tuple(r for r in res if r is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad, check_grad_dtypes=check_grad_dtypes,
                     check_batched_grad=check_batched_grad, fast_mode=fast_mode, check_forward_ad=check_fwd_over_rev,
                     check_backward_ad=check_rev_over_rev, masked=masked)

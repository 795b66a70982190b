"""SparseAdam (torch.optim.SparseAdam) over dense gradients, composed from minitorch ops.

minitorch has no sparse tensors: nn.Embedding(sparse=True) produces dense gradients. Where torch's
SparseAdam raises on a dense gradient ("SparseAdam does not support dense gradients"), this one accepts it
and applies torch's sparse update to the rows (slices along dim 0; elements of a 1-D parameter) whose
gradient has a nonzero entry, as if the gradient were the sparse tensor of those rows that torch's sparse
embedding backward produces. The moments and parameter entries of the other rows are left untouched, so
nn.Embedding(sparse=True) + SparseAdam programs give torch's numbers. (The one difference: torch also
updates a row that was looked up but whose gradient is exactly zero; here such a row counts as absent.)"""
import math

from .. import _creation
from .._tensor import Tensor
from ..autograd import no_grad
from .optimizer import Optimizer

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """SparseAdam, torch's masked Adam: on the rows present in the gradient g (the rows with a
    nonzero entry; -g when maximize), with step t counting the steps that had a gradient,

        m_row += (g - m_row) * (1 - beta1);  v_row += (g * g - v_row) * (1 - beta2)
        p_row += -(lr * sqrt(1 - beta2**t) / (1 - beta1**t)) * (m_row / (sqrt(v_row) + eps))

    the other rows of m, v and p keep their values."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)
        complex_params = []
        for index, param_group in enumerate(self.param_groups):
            for d_index, d_param in enumerate(param_group["params"]):
                if d_param.dtype.is_complex:
                    complex_params.append([index, d_index])
        if complex_params:
            raise ValueError(
                f"Complex params at indices {complex_params}: SparseAdam does not support complex parameters"
            )

    def step(self, closure=None):
        """Performs a single optimization step; returns closure()'s loss when a closure is given."""
        loss = None if closure is None else self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                beta1, beta2 = (float(b) for b in group["betas"])
                eps = float(group["eps"])
                lr = float(group["lr"])
                maximize = group.get("maximize", False)
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    st = self.state[p]
                    if len(st) == 0:
                        st["step"] = 0
                        st["exp_avg"] = _creation.zeros_like(p)
                        st["exp_avg_sq"] = _creation.zeros_like(p)
                    st["step"] += 1
                    _sparse_adam_update(p, p.grad, st["exp_avg"], st["exp_avg_sq"], st["step"],
                                        beta1, beta2, eps, lr, maximize)
        return loss


def _row_mask(grad):
    """bool mask broadcastable to grad: True on the rows (dim 0) holding a nonzero entry"""
    if grad.dim() == 0:
        return grad.ne(0)
    n = grad.shape[0]
    rows = grad.ne(0).reshape(n, -1).any(1)
    return rows.reshape((n,) + (1,) * (grad.dim() - 1))


def _sparse_adam_update(param, grad, exp_avg, exp_avg_sq, step, beta1, beta2, eps, lr, maximize):
    from .. import where

    grad = grad.neg() if maximize else grad
    mask = _row_mask(grad)
    if not bool(mask.any()):
        return  # no rows present: torch skips the update (the step count still advances)
    # the arithmetic order of torch._functional.sparse_adam
    old_exp_avg = exp_avg
    exp_avg_update = grad.sub(old_exp_avg).mul_(1 - beta1)
    old_exp_avg_sq = exp_avg_sq
    exp_avg_sq_update = grad.mul(grad).sub_(old_exp_avg_sq).mul_(1 - beta2)
    numer = exp_avg_update.add(old_exp_avg)
    new_sq = exp_avg_sq_update.add(old_exp_avg_sq)
    denom = new_sq.sqrt().add_(eps)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr * math.sqrt(bias_correction2) / bias_correction1
    update = numer.div(denom).mul_(-step_size)
    exp_avg.copy_(where(mask, numer, exp_avg))
    exp_avg_sq.copy_(where(mask, new_sq, exp_avg_sq))
    param.copy_(where(mask, param.add(update), param))

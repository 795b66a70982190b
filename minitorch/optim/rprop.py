"""Rprop (torch.optim.Rprop, resilient backpropagation), composed from minitorch ops."""
from ..autograd import no_grad
from .._creation import full_like, zeros_like
from ._composed import step_
from .optimizer import Optimizer, _as_float, _new_step, _require_nonneg

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop, PyTorch's single-tensor formulas:

        s = sign(g * prev) mapped to etaplus (> 0), etaminus (< 0), 1 (== 0)
        step_size = clamp(step_size * s, step_size_min, step_size_max)
        g = 0 where s == etaminus;  p -= sign(g) * step_size;  prev = g"""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        _require_nonneg(lr, "learning rate")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)
        self._check_options(differentiable, None, foreach)

    def __setstate__(self, state):
        self._restore_groups(state, foreach=None, maximize=False, differentiable=False, capturable=False)

    def step(self, closure=None):
        """Performs a single optimization step; returns closure()'s loss when a closure is given."""
        loss = None if closure is None else self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                etaminus, etaplus = (_as_float(e) for e in group["etas"])
                step_size_min, step_size_max = (_as_float(s) for s in group["step_sizes"])
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    st = self.state[p]
                    if len(st) == 0:
                        st["step"] = _new_step()
                        st["prev"] = zeros_like(p)
                        st["step_size"] = full_like(p.grad, _as_float(group["lr"]))
                    g = -p.grad if group["maximize"] else p.grad
                    step_(st)
                    prev, step_size = st["prev"], st["step_size"]
                    sign = g.mul(prev).sign()
                    pos, neg, zero = sign.gt(0), sign.lt(0), sign.eq(0)
                    sign = sign.masked_fill(pos, etaplus).masked_fill(neg, etaminus).masked_fill(zero, 1.0)
                    step_size.mul_(sign).clamp_(step_size_min, step_size_max)
                    g = g.masked_fill(sign.eq(etaminus), 0)
                    p.add_(g.sign() * step_size * -1.0)
                    prev.copy_(g)
        return loss

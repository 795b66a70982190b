"""Adamax (torch.optim.Adamax), composed from minitorch ops."""
from ..autograd import no_grad
from .._creation import zeros_like
from ._composed import addcdiv_, lerp_, step_
from .optimizer import Optimizer, _as_float, _new_step, _require_betas, _require_nonneg

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax, PyTorch's single-tensor formulas:

        g = -grad if maximize else grad;  g += weight_decay * p
        m = lerp(m, g, 1 - beta1);  u = max(beta2 * u, |g| + eps)
        p -= lr / (1 - beta1**t) * m / u"""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _require_nonneg(lr, "learning rate")
        _require_nonneg(eps, "epsilon value")
        _require_betas(betas)
        _require_nonneg(weight_decay, "weight_decay value")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
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
                lr, eps, wd = _as_float(group["lr"]), _as_float(group["eps"]), _as_float(group["weight_decay"])
                beta1, beta2 = (_as_float(b) for b in group["betas"])
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    st = self.state[p]
                    if len(st) == 0:
                        st["step"] = _new_step()
                        st["exp_avg"] = zeros_like(p)
                        st["exp_inf"] = zeros_like(p)
                    g = -p.grad if group["maximize"] else p.grad
                    t = step_(st)
                    if wd != 0:
                        g = g.add(p, alpha=wd)
                    exp_avg, exp_inf = st["exp_avg"], st["exp_inf"]
                    lerp_(exp_avg, g, 1 - beta1)
                    exp_inf.copy_(exp_inf.mul_(beta2).maximum(g.abs().add_(eps)))
                    clr = lr / (1 - beta1 ** t)
                    addcdiv_(p, exp_avg, exp_inf, -clr)
        return loss

"""RAdam (torch.optim.RAdam), composed from minitorch ops."""
from ..autograd import no_grad
from .._creation import zeros_like
from ._composed import addcmul_, lerp_, step_
from .optimizer import Optimizer, _as_float, _new_step, _require_betas, _require_nonneg

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam, PyTorch's single-tensor formulas (rho_inf = 2 / (1 - beta2) - 1,
    rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)):

        g += weight_decay * p  (or p *= 1 - lr * weight_decay when decoupled_weight_decay)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        p -= m / (1 - beta1**t) * lr * sqrt(1 - beta2**t) / (sqrt(v) + eps) * rect   if rho_t > 5
        p -= m / (1 - beta1**t) * lr                                                 otherwise"""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _require_nonneg(lr, "learning rate")
        _require_nonneg(eps, "epsilon value")
        _require_betas(betas)
        _require_nonneg(weight_decay, "weight_decay value")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)
        self._check_options(differentiable, None, foreach)

    def __setstate__(self, state):
        self._restore_groups(state, foreach=None, maximize=False, differentiable=False, decoupled_weight_decay=False,
                             capturable=False)

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
                        st["exp_avg_sq"] = zeros_like(p)
                    g = -p.grad if group["maximize"] else p.grad
                    t = step_(st)
                    if wd != 0:
                        if group["decoupled_weight_decay"]:
                            p.mul_(1 - lr * wd)
                        else:
                            g = g.add(p, alpha=wd)
                    exp_avg, exp_avg_sq = st["exp_avg"], st["exp_avg_sq"]
                    lerp_(exp_avg, g, 1 - beta1)
                    addcmul_(exp_avg_sq.mul_(beta2), g, g, 1 - beta2)
                    bias_correction1 = 1 - beta1 ** t
                    bias_correction2 = 1 - beta2 ** t
                    bias_corrected_exp_avg = exp_avg / bias_correction1
                    rho_inf = 2 / (1 - beta2) - 1
                    rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
                    if rho_t > 5.0:
                        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                        adaptive_lr = (bias_correction2 ** 0.5) / exp_avg_sq.sqrt().add_(eps)
                        p.sub_(bias_corrected_exp_avg * lr * adaptive_lr * rect)
                    else:
                        p.sub_(bias_corrected_exp_avg * lr)
        return loss

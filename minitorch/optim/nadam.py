"""NAdam (torch.optim.NAdam), composed from minitorch ops."""
from ..autograd import no_grad
from .._creation import tensor, zeros_like
from ._composed import addcdiv_, addcmul_, lerp_, step_
from .optimizer import Optimizer, _as_float, _new_step, _require_betas, _require_nonneg, _scalar_dtype

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam, PyTorch's single-tensor formulas (mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)),
    mu_product kept as a scalar-dtype tensor like torch's state):

        g += weight_decay * p  (or p *= 1 - lr * weight_decay when decoupled_weight_decay)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2**t)) + eps
        p -= lr * (1 - mu_t) / (1 - prod mu) * g / denom + lr * mu_{t+1} / (1 - prod mu * mu_{t+1}) * m / denom"""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _require_nonneg(lr, "learning rate")
        _require_nonneg(eps, "epsilon value")
        _require_betas(betas)
        _require_nonneg(weight_decay, "weight_decay value")
        _require_nonneg(momentum_decay, "momentum_decay value")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)
        self._check_options(differentiable, None, foreach)

    def __setstate__(self, state):
        self._restore_groups(state, maximize=False, foreach=None, capturable=False, differentiable=False,
                             decoupled_weight_decay=False)
        for s in self.state.values():
            if "mu_product" in s and not hasattr(s["mu_product"], "item"):
                s["mu_product"] = tensor(float(s["mu_product"]), dtype=_scalar_dtype())

    def step(self, closure=None):
        """Performs a single optimization step; returns closure()'s loss when a closure is given."""
        loss = None if closure is None else self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, eps, wd = _as_float(group["lr"]), _as_float(group["eps"]), _as_float(group["weight_decay"])
                beta1, beta2 = (_as_float(b) for b in group["betas"])
                md = _as_float(group["momentum_decay"])
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    st = self.state[p]
                    if len(st) == 0:
                        st["step"] = _new_step()
                        st["mu_product"] = tensor(1.0, dtype=_scalar_dtype())
                        st["exp_avg"] = zeros_like(p)
                        st["exp_avg_sq"] = zeros_like(p)
                    g = -p.grad if group["maximize"] else p.grad
                    t = step_(st)
                    bias_correction2 = 1 - beta2 ** t
                    if wd != 0:
                        if group["decoupled_weight_decay"]:
                            p.mul_(1 - lr * wd)
                        else:
                            g = g.add(p, alpha=wd)
                    mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * md)))
                    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * md)))
                    st["mu_product"].mul_(mu)
                    mu_product = float(st["mu_product"].item())
                    exp_avg, exp_avg_sq = st["exp_avg"], st["exp_avg_sq"]
                    lerp_(exp_avg, g, 1 - beta1)
                    addcmul_(exp_avg_sq.mul_(beta2), g, g, 1 - beta2)
                    denom = exp_avg_sq.div(bias_correction2).sqrt()
                    mu_product_next = mu_product * mu_next
                    denom.add_(eps)
                    addcdiv_(p, g, denom, -lr * (1.0 - mu) / (1.0 - mu_product))
                    addcdiv_(p, exp_avg, denom, (-lr * mu_next) / (1.0 - mu_product_next))
        return loss

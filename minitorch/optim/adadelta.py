"""Adadelta (torch.optim.Adadelta), composed from minitorch ops."""
from ..autograd import no_grad
from .._creation import zeros_like
from ._composed import addcmul_, step_
from .optimizer import Optimizer, _as_float, _new_step, _require_nonneg

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, PyTorch's single-tensor formulas:

        g = -grad if maximize else grad;  g += weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g;  u = rho * u + (1 - rho) * delta * delta
        p -= lr * delta"""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _require_nonneg(lr, "learning rate")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _require_nonneg(eps, "epsilon value")
        _require_nonneg(weight_decay, "weight_decay value")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)
        self._check_options(differentiable, None, foreach)

    def __setstate__(self, state):
        self._restore_groups(state, foreach=None, maximize=False, differentiable=False, capturable=False)

    def step(self, closure=None):
        """Performs a single optimization step; returns closure()'s loss when a closure is given."""
        loss = None if closure is None else self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, rho = _as_float(group["lr"]), _as_float(group["rho"])
                eps, wd = _as_float(group["eps"]), _as_float(group["weight_decay"])
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if p.grad.is_sparse if hasattr(p.grad, "is_sparse") else False:
                        raise RuntimeError("Adadelta does not support sparse gradients")
                    st = self.state[p]
                    if len(st) == 0:
                        st["step"] = _new_step()
                        st["square_avg"] = zeros_like(p)
                        st["acc_delta"] = zeros_like(p)
                    g = -p.grad if group["maximize"] else p.grad
                    step_(st)
                    if wd != 0:
                        g = g.add(p, alpha=wd)
                    square_avg, acc_delta = st["square_avg"], st["acc_delta"]
                    addcmul_(square_avg.mul_(rho), g, g, 1 - rho)
                    std = square_avg.add(eps).sqrt_()
                    delta = acc_delta.add(eps).sqrt_()
                    delta.div_(std).mul_(g)
                    addcmul_(acc_delta.mul_(rho), delta, delta, 1 - rho)
                    p.add_(delta, alpha=-lr)
        return loss

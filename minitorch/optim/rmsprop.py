"""RMSprop (torch.optim.RMSprop) with momentum, centered, weight decay and maximize."""
from .. import _C
from .._creation import zeros_like
from .optimizer import Optimizer, _as_float, _new_step, _require_nonneg, _steps_to_tensors

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, PyTorch's single-tensor formulas:

        g = -grad if maximize else grad;  g += weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - g_avg**2) with g_avg = lerp(g_avg, g, 1 - alpha) (centered), or sqrt(v);  avg += eps
        buf = momentum * buf + g / avg;  p -= lr * buf   (momentum > 0)   else  p -= lr * g / avg

    Each parameter is updated by one fused C kernel (minitorch._C._rmsprop_step)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _require_nonneg(lr, "learning rate")
        _require_nonneg(eps, "epsilon value")
        _require_nonneg(momentum, "momentum value")
        _require_nonneg(weight_decay, "weight_decay value")
        _require_nonneg(alpha, "alpha value")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)
        self._check_options(differentiable, None, foreach)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        _steps_to_tensors(self.state)

    def step(self, closure=None):
        """Performs a single optimization step; returns closure()'s loss when a closure is given."""
        loss = None if closure is None else self._closure_loss(closure)
        rmsprop_step = _C._rmsprop_step
        state = self.state
        for group in self.param_groups:
            lr = _as_float(group["lr"])
            alpha = _as_float(group["alpha"])
            eps = _as_float(group["eps"])
            weight_decay = _as_float(group["weight_decay"])
            momentum = _as_float(group["momentum"])
            centered = bool(group["centered"])
            maximize = bool(group["maximize"])
            use_mom = momentum > 0
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                st = state[p]
                if len(st) == 0:
                    st["step"] = _new_step()
                    st["square_avg"] = zeros_like(p)
                    if use_mom:
                        st["momentum_buffer"] = zeros_like(p)
                    if centered:
                        st["grad_avg"] = zeros_like(p)
                rmsprop_step(p, g, st["square_avg"], st["grad_avg"] if centered else None,
                             st["momentum_buffer"] if use_mom else None, st["step"], lr, alpha, eps, weight_decay,
                             momentum, centered, maximize)
        return loss

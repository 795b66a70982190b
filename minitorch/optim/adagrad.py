"""Adagrad (torch.optim.Adagrad) with lr decay, weight decay, initial accumulator value and maximize."""
from .. import _C
from .._creation import full_like
from .optimizer import Optimizer, _as_float, _new_step, _require_nonneg

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, PyTorch's single-tensor formulas (step t):

        g = -grad if maximize else grad;  g += weight_decay * p;  clr = lr / (1 + (t - 1) * lr_decay)
        sum += g * g;  p -= clr * g / (sqrt(sum) + eps)

    Each parameter is updated by one fused C kernel (minitorch._C._adagrad_step)."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _require_nonneg(lr, "learning rate")
        _require_nonneg(lr_decay, "lr_decay value")
        _require_nonneg(weight_decay, "weight_decay value")
        _require_nonneg(initial_accumulator_value, "initial_accumulator_value value")
        _require_nonneg(eps, "epsilon value")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        self._check_options(differentiable, fused, foreach)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _new_step()
                state["sum"] = full_like(p, initial_accumulator_value)

    def __setstate__(self, state):
        self._restore_groups(state, foreach=None, maximize=False, differentiable=False, fused=None)

    def share_memory(self):
        """No-op: minitorch tensors are not shared across processes."""

    def step(self, closure=None):
        """Performs a single optimization step; returns closure()'s loss when a closure is given."""
        loss = None if closure is None else self._closure_loss(closure)
        adagrad_step = _C._adagrad_step
        state = self.state
        for group in self.param_groups:
            lr = _as_float(group["lr"])
            lr_decay = _as_float(group["lr_decay"])
            weight_decay = _as_float(group["weight_decay"])
            eps = _as_float(group["eps"])
            maximize = bool(group["maximize"])
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                st = state[p]
                if len(st) == 0:
                    st["step"] = _new_step()
                    st["sum"] = full_like(p, self.defaults["initial_accumulator_value"])
                adagrad_step(p, g, st["sum"], st["step"], lr, lr_decay, weight_decay, eps, maximize)
        return loss

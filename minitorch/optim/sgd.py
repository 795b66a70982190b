"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize (torch.optim.SGD)."""
from .. import _C
from .._creation import empty_like
from .optimizer import Optimizer, _as_float

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), PyTorch's formulas:

        g = -grad if maximize else grad;  g += weight_decay * p
        buf = g (first step) or momentum * buf + (1 - dampening) * g
        g = g + momentum * buf (nesterov) or buf;  p -= lr * g

    Each parameter is updated by one fused C kernel (minitorch._C._sgd_step)."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None, differentiable=False, fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        self._check_options(differentiable, fused, foreach)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    def step(self, closure=None):
        """Performs a single optimization step; returns closure()'s loss when a closure is given."""
        loss = None if closure is None else self._closure_loss(closure)
        sgd_step = _C._sgd_step
        state = self.state
        for group in self.param_groups:
            lr = _as_float(group["lr"])
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            weight_decay = _as_float(group["weight_decay"])
            nesterov = bool(group["nesterov"])
            maximize = bool(group["maximize"])
            if momentum == 0:
                for p in group["params"]:
                    g = p.grad
                    if g is not None:
                        sgd_step(p, g, None, lr, 0.0, dampening, nesterov, weight_decay, maximize, False)
                continue
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                st = state[p]
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = empty_like(g)
                    sgd_step(p, g, buf, lr, momentum, dampening, nesterov, weight_decay, maximize, True)
                    st["momentum_buffer"] = buf
                else:
                    sgd_step(p, g, buf, lr, momentum, dampening, nesterov, weight_decay, maximize, False)
        return loss

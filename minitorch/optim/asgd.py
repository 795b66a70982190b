"""ASGD (torch.optim.ASGD, averaged SGD), composed from minitorch ops."""
from ..autograd import no_grad
from .._creation import tensor, zeros_like
from ._composed import step_
from .optimizer import Optimizer, _as_float, _new_step, _require_nonneg, _scalar_dtype

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """ASGD, PyTorch's single-tensor formulas (eta and mu are scalar-dtype tensors in the state, as torch):

        g = -grad if maximize else grad;  g += weight_decay * p
        p *= 1 - lambd * eta;  p -= eta * g
        ax += (p - ax) * mu   (ax = p while mu == 1)
        eta = lr / (1 + lambd * lr * t) ** alpha;  mu = 1 / max(1, t - t0)"""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None, maximize=False,
                 differentiable=False, capturable=False):
        _require_nonneg(lr, "learning rate")
        _require_nonneg(weight_decay, "weight_decay value")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)
        self._check_options(differentiable, None, foreach)

    def __setstate__(self, state):
        self._restore_groups(state, foreach=None, maximize=False, differentiable=False, capturable=False)
        for s in self.state.values():
            for k in ("eta", "mu"):
                if k in s and not hasattr(s[k], "item"):
                    s[k] = tensor(float(s[k]), dtype=_scalar_dtype())

    def step(self, closure=None):
        """Performs a single optimization step; returns closure()'s loss when a closure is given."""
        loss = None if closure is None else self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, wd = _as_float(group["lr"]), _as_float(group["weight_decay"])
                lambd, alpha, t0 = _as_float(group["lambd"]), _as_float(group["alpha"]), _as_float(group["t0"])
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    st = self.state[p]
                    if len(st) == 0:
                        st["step"] = _new_step()
                        st["eta"] = tensor(lr, dtype=_scalar_dtype())
                        st["mu"] = tensor(1.0, dtype=_scalar_dtype())
                        st["ax"] = zeros_like(p)
                    g = -p.grad if group["maximize"] else p.grad
                    t = step_(st)
                    if wd != 0:
                        g = g.add(p, alpha=wd)
                    eta = float(st["eta"].item())
                    p.mul_(1 - lambd * eta)
                    p.add_(g, alpha=-eta)
                    ax = st["ax"]
                    if float(st["mu"].item()) != 1:
                        ax.add_(p.sub(ax).mul_(st["mu"]))
                    else:
                        ax.copy_(p)
                    # torch.as_tensor(python float) is in the default dtype, then copied: torch rounds there too
                    st["eta"].copy_(tensor(lr / ((1 + lambd * lr * t) ** alpha)))
                    st["mu"].copy_(tensor(1 / max(1, t - t0)))
        return loss

"""Adam and AdamW (torch.optim.Adam / torch.optim.AdamW), with amsgrad, weight decay and maximize."""
from .. import _C
from .._creation import zeros_like
from .._tensor import Tensor
from .optimizer import Optimizer, _as_float, _new_step, _require_betas, _require_nonneg

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam, PyTorch's single-tensor formulas (step t, bias corrections bc1 = 1 - beta1**t,
    bc2 = 1 - beta2**t):

        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g;  vmax = max(vmax, v) (amsgrad)
        p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)

    with g += weight_decay * p (L2), or p *= 1 - lr * weight_decay first when decoupled (AdamW).
    Each parameter is updated by one fused C kernel (minitorch._C._adam_step)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False, fused=None, decoupled_weight_decay=False):
        _require_nonneg(lr, "learning rate")
        _require_nonneg(eps, "epsilon value")
        _require_betas(betas)
        _require_nonneg(weight_decay, "weight_decay value")
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i in (0, 1):
            if isinstance(betas[i], Tensor) and betas[i].numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(b if isinstance(b, float) else b.item() for b in betas)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)
        self._check_options(differentiable, fused, foreach)

    def __setstate__(self, state):
        self._restore_groups(state, amsgrad=False, maximize=False, foreach=None, capturable=False,
                             differentiable=False, decoupled_weight_decay=False, fused=None)

    def step(self, closure=None):
        """Performs a single optimization step; returns closure()'s loss when a closure is given."""
        loss = None if closure is None else self._closure_loss(closure)
        adam_step = _C._adam_step
        state = self.state
        for group in self.param_groups:
            lr = _as_float(group["lr"])
            beta1, beta2 = group["betas"]
            beta1, beta2 = _as_float(beta1), _as_float(beta2)
            eps = _as_float(group["eps"])
            weight_decay = _as_float(group["weight_decay"])
            amsgrad = bool(group["amsgrad"])
            maximize = bool(group["maximize"])
            decoupled = bool(group["decoupled_weight_decay"])
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                st = state[p]
                if len(st) == 0:
                    st["step"] = _new_step()
                    st["exp_avg"] = zeros_like(p)
                    st["exp_avg_sq"] = zeros_like(p)
                    if amsgrad:
                        st["max_exp_avg_sq"] = zeros_like(p)
                elif amsgrad and "max_exp_avg_sq" not in st:
                    st["max_exp_avg_sq"] = zeros_like(p)
                adam_step(p, g, st["exp_avg"], st["exp_avg_sq"], st["max_exp_avg_sq"] if amsgrad else None,
                          st["step"], lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled)
        return loss


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (p *= 1 - lr * weight_decay before the Adam update)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True

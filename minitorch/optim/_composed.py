"""In-place update helpers for the optimizers written in Python (Adadelta, Adamax, NAdam, RAdam,
ASGD, Rprop), composed from minitorch ops with the same arithmetic order as torch's kernels so
results agree to float rounding. Callers hold no_grad."""

__all__ = ["lerp_", "addcmul_", "addcdiv_", "step_"]


def lerp_(t, end, weight):
    """t.lerp_(end, weight) for a Python weight, torch's two-branch formula."""
    if abs(weight) < 0.5:
        return t.add_((end - t) * weight)
    return t.copy_(end - (end - t) * (1.0 - weight))


def addcmul_(t, a, b, value=1.0):
    """t += value * a * b  (in that order, as torch's CPU kernel)"""
    return t.add_(a * value * b) if value != 1.0 else t.add_(a * b)


def addcdiv_(t, a, b, value=1.0):
    """t += value * a / b  (in that order, as torch's CPU kernel)"""
    return t.add_(a * value / b) if value != 1.0 else t.add_(a / b)


def step_(st):
    """increments the 'step' state tensor and returns its value as a Python float"""
    st["step"].add_(1)
    return float(st["step"].item())

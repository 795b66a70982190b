"""torch.nn.modules.linear's names (the classes live in layers.py)."""
from .attention import NonDynamicallyQuantizableLinear  # noqa: F401
from .layers import Bilinear, Identity, Linear  # noqa: F401

__all__ = ["Bilinear", "Identity", "Linear", "NonDynamicallyQuantizableLinear"]

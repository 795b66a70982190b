"""torch.nn.modules.linear's names (the classes live in layers.py)."""
from .layers import Bilinear, Identity, Linear  # noqa: F401

__all__ = ["Bilinear", "Identity", "Linear"]

"""torch.nn.modules.fold's names (the classes live in pooling.py, beside the other im2col-shaped layers)."""
from .pooling import Fold, Unfold  # noqa: F401

__all__ = ["Fold", "Unfold"]

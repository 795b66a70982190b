"""minitorch.utils.data.dataloader: DataLoader and collation, at torch.utils.data.dataloader's path."""
from . import DataLoader, default_collate, default_convert, get_worker_info  # noqa: F401

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

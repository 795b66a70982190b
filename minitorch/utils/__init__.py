"""minitorch.utils: data loading (minitorch.utils.data), like torch.utils."""
from . import data  # noqa: F401

"""minitorch.utils: data loading (minitorch.utils.data) and hook handles (minitorch.utils.hooks), like torch.utils."""
from . import data  # noqa: F401
from . import hooks  # noqa: F401

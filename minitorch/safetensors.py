"""minitorch.safetensors: the safetensors file format for flat dicts of tensors, with the names of the
safetensors package (safetensors.torch): save_file, load_file, save (-> bytes), load (bytes ->)."""
from .serialization import load_file, save_file, safe_metadata  # noqa: F401
from .serialization import _st_load_bytes as load  # noqa: F401
from .serialization import _st_save_bytes as save  # noqa: F401

__all__ = ["save_file", "load_file", "save", "load", "safe_metadata"]

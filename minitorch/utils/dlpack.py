"""torch.utils.dlpack: to_dlpack(tensor) gives a DLPack capsule; from_dlpack(capsule or producer) a tensor
sharing its memory (see csrc/python/dlpack_py.c)."""
from .. import _C
from .._creation import from_dlpack

__all__ = ["to_dlpack", "from_dlpack"]


def to_dlpack(tensor):
    return _C._to_dlpack(tensor)

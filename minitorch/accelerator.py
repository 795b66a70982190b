"""minitorch.accelerator: the device-generic API of torch.accelerator; the one accelerator is CUDA."""
from . import cuda as _cuda
from ._types import device as _device

__all__ = ["current_accelerator", "is_available", "device_count", "current_device_index", "current_device_idx",
           "set_device_index", "set_device_idx", "synchronize", "empty_cache", "memory_allocated",
           "max_memory_allocated", "device_index"]


def is_available():
    return _cuda.is_available()


def current_accelerator(check_available=False):
    """device('cuda') when a CUDA device is usable, else None (as torch on a machine without one)."""
    return _device("cuda") if _cuda.is_available() else None


def device_count():
    return _cuda.device_count()


def current_device_index():
    return _cuda.current_device() if _cuda.is_available() else -1


current_device_idx = current_device_index


def set_device_index(device):
    _cuda.set_device(device)


set_device_idx = set_device_index


class device_index:
    """with accelerator.device_index(i): the current device index is i inside, the previous one after; None
    switches nothing (torch's context manager)."""

    def __init__(self, device, /):
        self.idx = device
        self.prev_idx = -1

    def __enter__(self):
        if self.idx is not None:
            self.prev_idx = current_device_index()
            set_device_index(self.idx)

    def __exit__(self, *exc_info):
        if self.idx is not None and self.prev_idx >= 0:
            set_device_index(self.prev_idx)


def synchronize(device=None):
    _cuda.synchronize(device)


def empty_cache():
    _cuda.empty_cache()


def memory_allocated(device_index=None):
    return _cuda.memory_allocated(device_index)


def max_memory_allocated(device_index=None):
    return _cuda.max_memory_allocated(device_index)

"""Tensors in shared memory: Tensor.share_memory_(), is_shared(), and how multiprocessing passes them.

share_memory_() moves a CPU tensor's storage (every view of it) into a memfd mapping. multiprocessing pickles
such a tensor as a duplicate of the memfd's descriptor plus its place in the mapping (torch's
"file_descriptor" strategy); the receiving process maps the same pages, so writes on either side are seen by
both (Hogwild training, tensors through a Queue without a copy). The descriptor is closed when the last
tensor over the mapping is freed. Plain pickle (minitorch.save, copy) still copies the data.
"""
import mmap
import os
import weakref

import numpy as np

from . import _C

# storage base address -> (memfd, bytes of the mapping, byte offset of that storage within the mapping)
_registry = {}


def _storage_base(t):
    return t.data_ptr() - t.storage_offset() * t.element_size()


def _map(fd, nbytes):
    mm = mmap.mmap(fd, max(nbytes, 1))  # MAP_SHARED, read and write
    return np.frombuffer(mm, dtype=np.uint8)


def _register(arr, fd, map_nbytes, offset):
    addr = arr.ctypes.data
    _registry[addr] = (fd, map_nbytes, offset)
    weakref.finalize(arr, _forget, addr, fd)


def _forget(addr, fd):
    _registry.pop(addr, None)
    try:
        os.close(fd)
    except OSError:
        pass


def is_shared(t):
    if t.device.type == "cuda":
        return True  # as torch: CUDA memory can always be shared
    return _storage_base(t) in _registry


def share_memory_(t):
    if t.device.type != "cpu" or is_shared(t):
        return t
    if not hasattr(os, "memfd_create"):
        raise RuntimeError("share_memory_: minitorch shares memory through memfd, which this system lacks")
    nbytes = _C._storage_nbytes(t)
    fd = os.memfd_create("minitorch_shared", os.MFD_CLOEXEC)
    try:
        os.ftruncate(fd, max(nbytes, 1))
        arr = _map(fd, nbytes)
        _C._move_storage(t, arr)
    except BaseException:
        os.close(fd)
        raise
    _register(arr, fd, nbytes, 0)
    _register_reductions()
    return t


# ---- multiprocessing ----

def _reduce(t):
    from multiprocessing.reduction import DupFd

    from ._tensor import Tensor

    if t.device.type != "cpu" or not hasattr(os, "memfd_create"):
        return Tensor.__reduce_ex__(t, 2)  # a copy through host memory
    share_memory_(t)
    fd, map_nbytes, offset = _registry[_storage_base(t)]
    es = t.element_size()
    return (_rebuild, (DupFd(fd), map_nbytes, offset + t.storage_offset() * es, tuple(t.shape), tuple(t.stride()),
                       str(t.dtype).split(".")[-1], t.requires_grad, type(t).__name__ == "Parameter"))


def _rebuild(dupfd, map_nbytes, offset, shape, strides, dtype, requires_grad, parameter):
    from . import from_numpy
    from .nn import Parameter

    fd = dupfd.detach()
    arr = _map(fd, map_nbytes)
    npdt = np.dtype("bool" if dtype == "bool" else dtype)
    extent = sum((n - 1) * s for n, s in zip(shape, strides)) + 1 if all(shape) else 0
    flat = arr[offset:offset + extent * npdt.itemsize].view(npdt)
    view = np.lib.stride_tricks.as_strided(flat, shape, [s * npdt.itemsize for s in strides])
    _register(view, fd, map_nbytes, offset)
    t = from_numpy(view)
    if parameter:
        return Parameter(t, requires_grad)
    return t.requires_grad_(requires_grad) if requires_grad else t


_registered = []


def _register_reductions():
    """ForkingPickler (what multiprocessing's queues, pipes and spawn use) sends tensors by shared memory."""
    if _registered:
        return
    from multiprocessing.reduction import ForkingPickler

    from ._tensor import Tensor
    from .nn import Parameter

    for cls in (Tensor, Parameter):
        ForkingPickler.register(cls, _reduce)
    _registered.append(True)

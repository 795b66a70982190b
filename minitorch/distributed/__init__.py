"""minitorch.distributed: torch.distributed's process groups and collectives.

CPU tensors go through MPI (the `mpich` wheel's libmpi, loaded at run time); the backend names 'gloo' and
'mpi' are both served by it, so code written for PyTorch's gloo runs unchanged. Rendezvous is torch's:
env:// (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, as minitorch.distributed.run / torchrun set them),
tcp://host:port, file://path, or mpiexec's own. See distributed_c10d.py and README.md.
"""
from ._store import (DistBackendError, DistError, DistNetworkError, DistStoreError, FileStore, HashStore,
                     PrefixStore, Store, TCPStore)
from .distributed_c10d import *  # noqa: F401,F403
from .distributed_c10d import __all__ as _c10d_all
from .distributed_c10d import is_available  # noqa: F401

__all__ = list(_c10d_all) + ["Store", "HashStore", "TCPStore", "FileStore", "PrefixStore", "DistError",
                             "DistStoreError", "DistBackendError", "DistNetworkError"]

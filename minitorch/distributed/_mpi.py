"""The MPI backend: finds libmpi, forms the MPI world, and runs each collective on the engine thread.

Collectives go through minitorch._C's MPI engine (csrc/dist/mpi.c): one thread that makes the blocking MPI
calls in submission order without the GIL, so an all-reduce started in a backward hook overlaps the rest of
the backward pass. Tensors are handed over by address; a Work keeps them (and any staging copy) alive
until it is waited on, and does the Python-side finish there (copy back into a non-contiguous tensor,
AVG's division, splitting a gathered buffer into a list).
"""
import atexit
import glob
import os
import socket
import sys
import time

from .. import _C
from ._store import FAILED_KEY, DistBackendError

# MPICH ABI handles (mpi.h of MPICH; Intel MPI and MVAPICH share them)
COMM_WORLD = 0x44000000
UNDEFINED = -32766
ANY_SOURCE = -2
BYTE = 0x4c00010d
_DTYPES = {"float32": 0x4c00040a, "float64": 0x4c00080b, "int32": 0x4c000439, "int64": 0x4c00083a,
           "bool": 0x4c00013f}
_OPS = {"SUM": 0x58000003, "PRODUCT": 0x58000004, "MAX": 0x58000001, "MIN": 0x58000002,
        "BAND": 0x58000006, "BOR": 0x58000008, "BXOR": 0x5800000a}
_BOOL_OPS = {"SUM": 0x58000007, "MAX": 0x58000007, "BOR": 0x58000007,      # logical or
             "PRODUCT": 0x58000005, "MIN": 0x58000005, "BAND": 0x58000005,  # logical and
             "BXOR": 0x58000009}
(ALLREDUCE, BCAST, REDUCE, ALLGATHER, GATHER, SCATTER, REDUCE_SCATTER, ALLTOALLV, BARRIER, SPLIT, FREE) = range(11)

_state = {"loaded": None, "world": None, "broken": None, "abnormal": False, "store": None,
          "rank": None}


def find_library():
    """libmpi: $MINITORCH_MPI_LIBRARY, the mpich wheel's, then the system's."""
    env = os.environ.get("MINITORCH_MPI_LIBRARY")
    if env:
        return env
    candidates = []
    for prefix in {sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(sys.executable))}:
        candidates += sorted(glob.glob(os.path.join(prefix, "lib", "libmpi.so.12*")))
    try:
        from importlib import metadata

        for f in metadata.files("mpich") or ():
            if os.path.basename(str(f)).startswith("libmpi.so"):
                candidates.append(str(f.locate()))
    except Exception:
        pass
    import ctypes.util

    system = ctypes.util.find_library("mpich") or ctypes.util.find_library("mpi")
    if system:
        candidates.append(system)
    for c in candidates:
        if os.path.exists(c) or "/" not in c:
            return c
    return None


def load():
    """Loads libmpi once; returns its version string. RuntimeError naming what to install if there is none."""
    if _state["loaded"] is None:
        path = find_library()
        if path is None:
            raise RuntimeError("minitorch.distributed's CPU backend needs an MPI library with the MPICH ABI: "
                               "`pip install mpich` (or set MINITORCH_MPI_LIBRARY to a libmpi.so)")
        _state["loaded"] = _C._mpi_load(path)
    return _state["loaded"]


def is_available():
    try:
        load()
        return True
    except RuntimeError:
        return False


def init_world(rank, world_size, store, node_id, timeout):
    """MPI_Init once per process: under mpiexec with its PMI; otherwise with the store's PMI server.
    Returns (rank, size) of MPI's world."""
    load()
    if _state["world"] is not None:
        return _state["world"]
    launched_by_mpiexec = "PMI_FD" in os.environ or "PMI_PORT" in os.environ or "PMIX_RANK" in os.environ
    if not launched_by_mpiexec:
        if store is None:
            raise RuntimeError("the MPI backend needs a store for rendezvous (init_method or MASTER_ADDR)")
        # a name of its own per world: MPICH names its shared-memory segments after it
        if rank == 0:
            store.set("pmi/kvs", f"kvs_{os.getpid()}_{int(time.time() * 1e6) % 10**9}")
        kvs = store.get("pmi/kvs").decode()
        store.set(f"pmi/{kvs}/node/{rank}", node_id)
        # MPI owns the descriptor from here on (its library destructor sends PMI's finalize after Python has
        # closed its sockets): detach it from the socket object
        fd = store.connect_pmi(rank, world_size, kvs).detach()
        os.set_inheritable(fd, False)
        local = [int(store.get(f"pmi/{kvs}/node/{r}") == node_id.encode()) for r in range(world_size)]
        os.environ.update({"PMI_FD": str(fd), "PMI_RANK": str(rank), "PMI_SIZE": str(world_size),
                           "MPI_LOCALNRANKS": str(sum(local)), "MPI_LOCALRANKID": str(sum(local[:rank]))})
    _state["world"] = _C._mpi_init()
    atexit.register(_finalize_at_exit)
    _install_excepthook()
    return _state["world"]


def node_name():
    """What makes two ranks one node for MPI's shared memory: torchrun's node rank when a launcher set it
    (so two launchers form two nodes even on one host), else the host name."""
    group_rank = os.environ.get("GROUP_RANK")
    return f"node{group_rank}" if group_rank is not None else socket.gethostname()


def _finalize_at_exit():
    store = _state["store"]
    server = getattr(store, "_server", None)
    if _state["broken"] or _state["abnormal"]:
        # a peer (or this rank) failed: MPI_Finalize would wait for it forever. The store's host stays a
        # moment so that the others read the failure from it rather than find it gone.
        if server is not None:
            server.wait_pmi_closed({_state["rank"]}, 5)
        return
    try:
        if store is not None:
            store.set(f"mt/exiting/{_state['rank']}", "1")  # its PMI connection closing is no failure
    except RuntimeError:
        pass
    try:
        _C._mpi_finalize()
    except RuntimeError:
        pass
    if server is not None:  # the host stays until the others' MPI has said goodbye to its PMI server
        server.wait_pmi_closed({_state["rank"]}, 10)
        server.preack_finalize(_state["rank"])


def _install_excepthook():
    """A rank that dies of an uncaught exception tells the others through the store (they then fail fast
    instead of waiting for its collective) and skips MPI_Finalize."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        _state["abnormal"] = True
        report_failure(f"rank {_state['rank']} raised {kind.__name__}: {value}")
        previous(kind, value, tb)

    sys.excepthook = hook


def report_failure(message):
    store = _state["store"]
    if store is not None:
        try:
            store.compare_set(FAILED_KEY, "", message)
        except Exception:
            pass


def peer_failure():
    """The failure another rank recorded in the store, or None."""
    store = _state["store"]
    if store is None:
        return None
    try:
        if store.check([FAILED_KEY]):
            return store.get(FAILED_KEY).decode()
    except Exception as e:  # the store itself is gone: its host (rank 0) died
        return f"the rendezvous store (hosted by rank 0) is unreachable: {e}"
    return None


class _Pending:
    """One queued collective (a job of the engine thread) or one nonblocking send/receive."""

    __slots__ = ("job", "request", "source", "what", "done")

    def __init__(self, what, job=None, request=None):
        self.what, self.job, self.request, self.source, self.done = what, job, request, -1, False

    def poll(self, seconds):
        if self.done:
            return True
        if self.job is not None:
            if not _C._mpi_job_wait(self.job, seconds):
                return False
            _C._mpi_job_result(self.job)  # RuntimeError with MPI's message if it failed
        else:
            done, self.request, source = _C._mpi_request_wait(self.request, seconds)
            if not done:
                return False
            self.source = source
        self.done = True
        return True


_inflight = []  # async Works not waited for yet


_reaping = [False]


def reap():
    """Finishes the async Works whose collectives are done although nobody waited for them: their staging
    buffers (a non-contiguous or CUDA tensor's) are written back, then freed. A dropped Work is kept here
    until then, so the engine never writes into freed memory."""
    if _reaping[0]:
        return
    _reaping[0] = True
    try:
        for w in list(_inflight):
            if w._error is None and w.is_completed():
                try:
                    w.wait()
                except RuntimeError:
                    pass
    finally:
        _reaping[0] = False


def wait_inflight():
    for w in list(_inflight):
        try:
            w.wait()
        except RuntimeError:
            pass


class Work:
    """torch.distributed.Work: wait(), is_completed(), is_success(), exception(), source_rank(), result()."""

    def __init__(self, group, pending, finish=None, keep=(), result=None, timeout=None):
        self._group, self._pending, self._finish, self._keep = group, pending, finish, keep
        self._result = result if result is not None else []
        self._timeout = timeout
        self._done = False
        self._error = None
        if keep or finish is not None:
            _inflight.append(self)  # owns the buffers until the engine is done with them (see reap)

    def wait(self, timeout=None):
        if self._error is not None:
            raise self._error
        if self._done:
            return True
        limit = timeout if timeout is not None else self._timeout
        limit = limit.total_seconds() if hasattr(limit, "total_seconds") else limit
        start = time.monotonic()
        try:
            for p in self._pending:
                while not p.poll(0.25):
                    failure = peer_failure()
                    if failure is not None:
                        raise DistBackendError(f"{p.what} on rank {_state['rank']} cannot finish: {failure}")
                    if limit is not None and time.monotonic() - start > limit:
                        raise DistBackendError(f"{p.what} on rank {_state['rank']} timed out after {limit:g} s "
                                               "(a peer rank did not join it: it may have died, hung, or called "
                                               "a different collective)")
        except RuntimeError as e:
            _state["broken"] = str(e)
            self._error = e if isinstance(e, DistBackendError) else DistBackendError(str(e))
            report_failure(f"rank {_state['rank']}: {e}")
            raise self._error from None
        self._done = True
        if self._finish is not None:
            self._finish()
        self._keep = ()
        if self in _inflight:
            _inflight.remove(self)
        if _inflight:
            # the engine runs collectives in order: every earlier one is done too, and a dropped Work's staging
            # copy must be written back before the caller reads its tensor (all_reduce(y, async_op=True) then
            # barrier(): y is reduced, as in torch)
            reap()
        return True

    def is_completed(self):
        if self._done:
            return True
        try:
            return all(p.poll(0) for p in self._pending)
        except RuntimeError:
            return True

    def is_success(self):
        return self._done and self._error is None

    def exception(self):
        return self._error

    def source_rank(self):
        src = self._pending[-1].source if self._pending else -1
        return self._group.global_rank(src) if src >= 0 else -1

    def result(self):
        self.wait()
        return self._result

    def synchronize(self):
        self.wait()

    def get_future(self):
        from ..futures import Future

        fut = Future()
        fut._work = self
        return fut

    def block_current_stream(self):
        self.wait()


_KIND_NAMES = ["ALLREDUCE", "BROADCAST", "REDUCE", "ALLGATHER", "GATHER", "SCATTER", "REDUCE_SCATTER",
               "ALLTOALL", "BARRIER", "SPLIT", "FREE"]
_DTYPE_NAMES = {v: k for k, v in _DTYPES.items()}


def _check_same_collective(group, kind, what, count, dtype, op, root):
    """TORCH_DISTRIBUTED_DEBUG=DETAIL: all ranks compare what they are about to run (an all-gather of a
    fixed-size description) and fail instead of running mismatched collectives."""
    import numpy as np

    desc = f"{what} {_KIND_NAMES[kind]} count={count if kind != ALLTOALLV else '-'} " \
           f"dtype={_DTYPE_NAMES.get(dtype, 'bytes')} op={op:#x} root={root}"
    mine = np.zeros(160, dtype=np.uint8)
    raw = desc.encode()[:160]
    mine[:len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    size = _C._mpi_comm_rank_size(group.comm)[1]
    every = np.zeros(160 * size, dtype=np.uint8)
    pending = _Pending("debug check", job=_C._mpi_submit(ALLGATHER, group.comm, mine.ctypes.data, every.ctypes.data,
                                                          160, BYTE, 0, 0, 0, 0, None))
    Work(group, [pending], keep=(mine, every), timeout=group.timeout.total_seconds()).wait()
    descs = [every[i * 160:(i + 1) * 160].tobytes().rstrip(b"\0").decode() for i in range(size)]
    for r, d in enumerate(descs):
        if d != desc:
            raise DistBackendError(f"Detected mismatch between collectives on ranks. Rank {group.rank()} is running "
                                   f"collective: {desc}, but Rank {r} is running collective: {d}.")


def submit(group, kind, what, send=0, recv=0, count=0, dtype=BYTE, op=0, root=0, color=0, key=0, v=None):
    if _inflight:
        reap()
    if _state["broken"]:
        raise DistBackendError(f"{what}: the process group is unusable after an earlier failure: {_state['broken']}")
    if os.environ.get("TORCH_DISTRIBUTED_DEBUG", "").upper() == "DETAIL":
        _check_same_collective(group, kind, what, count, dtype, op, root)
    return _Pending(what, job=_C._mpi_submit(kind, group.comm, send, recv, count, dtype, op, root, color, key, v))


def p2p(group, is_send, buf, count, dtype, peer, tag, what):
    if _state["broken"]:
        raise DistBackendError(f"{what}: the process group is unusable after an earlier failure: {_state['broken']}")
    return _Pending(what, request=_C._mpi_p2p(is_send, buf, count, dtype, peer, tag, group.comm))

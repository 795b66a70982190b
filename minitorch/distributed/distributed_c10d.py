"""torch.distributed's process-group API (torch/distributed/distributed_c10d.py), on MPI for CPU tensors.

Ranks given to broadcast/reduce/gather/scatter/send/recv are global ranks, as in torch (group_src /
group_dst take ranks within the group). A rank calling a collective on a group it is not in does nothing
and gets None, as in torch.
"""
import enum
import io
import os
import pickle
import warnings
from datetime import timedelta

import numpy as np

from . import _mpi
from ._mpi import Work
from ._store import DistBackendError, FileStore, PrefixStore, Store, TCPStore, _seconds

default_pg_timeout = timedelta(minutes=30)


class RedOpType(enum.Enum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8


class ReduceOp:
    """torch.distributed.ReduceOp: ReduceOp.SUM etc. are RedOpType members (printed <RedOpType.SUM: 0>)."""

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM

    def __init__(self, op=RedOpType.SUM):
        self.op = RedOpType(op)

    def __eq__(self, other):
        return self.op == (other.op if isinstance(other, ReduceOp) else other)

    def __hash__(self):
        return hash(self.op)


class reduce_op:  # the deprecated spelling
    SUM, PRODUCT, MIN, MAX = RedOpType.SUM, RedOpType.PRODUCT, RedOpType.MIN, RedOpType.MAX


class Backend(str):
    """A backend name, lower-cased: Backend('GLOO') == 'gloo'."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    XCCL = "xccl"
    backend_list = ["undefined", "gloo", "nccl", "ucc", "mpi", "xccl"]
    default_device_backend_map = {"cpu": "gloo", "cuda": "nccl", "xpu": "xccl", "mps": "gloo"}

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name)}")
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        if value == Backend.UNDEFINED:
            value = name.lower()
        return super().__new__(cls, value)


class ProcessGroup:
    """A group of ranks with its own MPI communicator. `ranks`: its members' global ranks, in group order."""

    def __init__(self, backend, comm, ranks, group_rank, timeout, name=""):
        self.backend_name, self.comm, self.ranks = backend, comm, list(ranks)
        self._rank, self.timeout, self.group_name = group_rank, timeout, name

    def rank(self):
        return self._rank

    def size(self):
        return len(self.ranks)

    def name(self):
        return self.backend_name

    def global_rank(self, group_rank):
        return self.ranks[group_rank]

    def _get_backend_name(self):
        return self.backend_name

    def __repr__(self):
        return f"<minitorch.distributed.ProcessGroup size={self.size()} backend={self.backend_name!r}>"


class _NonMember:
    def __repr__(self):
        return "GroupMember.NON_GROUP_MEMBER"


class GroupMember:
    WORLD = None
    NON_GROUP_MEMBER = _NonMember()


class _World:
    """What torch calls the world: the default group and the groups made from it."""

    def __init__(self):
        self.default = None
        self.store = None
        self.groups = []


_world = _World()


class group:
    WORLD = None  # set to the default group by init_process_group, as torch's dist.group.WORLD


def is_available():
    return True


def is_mpi_available():
    return _mpi.is_available()


def is_gloo_available():
    return _mpi.is_available()  # 'gloo' is served by MPI


def is_nccl_available():
    return False  # not built: CUDA tensors go through the MPI backend's host staging


def is_ucc_available():
    return False


def is_xccl_available():
    return False


def is_backend_available(backend):
    return Backend(backend) in (Backend.GLOO, Backend.MPI) and _mpi.is_available()


def is_torchelastic_launched():
    return os.getenv("TORCHELASTIC_RUN_ID") is not None


def is_initialized():
    return _world.default is not None


def get_default_backend_for_device(device):
    kind = device if isinstance(device, str) else device.type
    kind = kind.split(":")[0]
    if kind not in Backend.default_device_backend_map:
        raise ValueError(f"Default backend not registered for device : {device}")
    return Backend.default_device_backend_map[kind]


def _default():
    if _world.default is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return _world.default


def _group(g):
    return _default() if g is None else g


def _env_int(name, given):
    if given is not None and given >= 0:
        return given
    value = os.environ.get(name)
    if value is None:
        return None
    return int(value)


def _rendezvous(init_method, rank, world_size, timeout):
    """The store (TCPStore, FileStore) and rank/world size of a torch init_method."""
    if init_method.startswith("env://"):
        under_mpiexec = "PMI_RANK" in os.environ and "MASTER_ADDR" not in os.environ
        if under_mpiexec:  # mpiexec's PMI does the rendezvous
            return None, _env_int("RANK", rank) if _env_int("RANK", rank) is not None else int(os.environ["PMI_RANK"]), \
                _env_int("WORLD_SIZE", world_size) or int(os.environ["PMI_SIZE"])
        for name in ("MASTER_ADDR", "MASTER_PORT"):
            if name not in os.environ:
                raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: environment "
                                 f"variable {name} expected, but not set")
        rank, world_size = _env_int("RANK", rank), _env_int("WORLD_SIZE", world_size)
        for name, value in (("RANK", rank), ("WORLD_SIZE", world_size)):
            if value is None:
                raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: environment "
                                 f"variable {name} expected, but not set")
        host, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
    elif init_method.startswith("tcp://"):
        from urllib.parse import parse_qs, urlparse

        url = urlparse(init_method)
        query = parse_qs(url.query)
        if rank is None or rank < 0:
            rank = int(query["rank"][0]) if "rank" in query else _env_int("RANK", None)
        if world_size is None or world_size < 0:
            world_size = int(query["world_size"][0]) if "world_size" in query else _env_int("WORLD_SIZE", None)
        if rank is None or world_size is None:
            raise ValueError("Error initializing torch.distributed using tcp:// rendezvous: rank and world_size "
                             "must be given")
        host, port = url.hostname, url.port
    elif init_method.startswith("file://"):
        if rank is None or rank < 0 or world_size is None or world_size < 0:
            raise ValueError("Error initializing torch.distributed using file:// rendezvous: rank and world_size "
                             "must be given")
        files = FileStore(init_method[len("file://"):], world_size)
        files.set_timeout(timeout)
        if rank == 0:  # the PMI server needs a live host: rank 0 serves it and posts where
            store = TCPStore(_host_address(), 0, world_size, True, timeout, wait_for_workers=False)
            files.set("mt/server", f"{store.host}:{store.port}")
        else:
            host, port = files.get("mt/server").decode().rsplit(":", 1)
            store = TCPStore(host, int(port), world_size, False, timeout, wait_for_workers=False)
        return store, rank, world_size
    else:
        raise ValueError(f"Unsupported init_method {init_method!r}: use env://, tcp://host:port or file://path")
    if not 0 <= rank < world_size:
        raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {world_size - 1}]")
    store = _servers.get(port) if rank == 0 else None  # this process's server, from an earlier init
    store = store or TCPStore(host, port, world_size, rank == 0, timeout, wait_for_workers=False)
    return store, rank, world_size


def _host_address():
    import socket

    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


_servers = {}  # port -> this process's TCPStore that hosts the server (it outlives destroy_process_group:
               # MPI_Finalize at exit still talks to its PMI side)


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Joins this process to the default process group (torch's signature and rendezvous rules)."""
    if _world.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if store is not None and init_method is not None:
        raise AssertionError("Cannot specify both init_method and store.")
    if store is not None:
        if rank < 0 or world_size <= 0:
            raise AssertionError("rank and world_size must be given with store")
    name = _backend_name(backend)
    timeout = default_pg_timeout if timeout is None else timeout
    if not isinstance(timeout, timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {type(timeout)}")
    if store is None:
        store, rank, world_size = _rendezvous(init_method or "env://", rank, world_size, timeout)
        if isinstance(store, TCPStore) and store._server is not None:
            _servers[store.port] = store
    if store is not None and not isinstance(store, TCPStore):
        raise ValueError("the MPI backend's rendezvous needs a TCPStore (its server carries MPI's PMI)")
    _mpi._state["store"] = store
    _mpi._state["rank"] = rank
    mpi_rank, mpi_size = _mpi.init_world(rank, world_size, store, _mpi.node_name(), timeout)
    if (mpi_rank, mpi_size) != (rank, world_size):
        raise RuntimeError(f"init_process_group(rank={rank}, world_size={world_size}) in a process whose MPI "
                           f"world is rank {mpi_rank} of {mpi_size}: MPI forms one world per process (the first "
                           "init_process_group's); a later one must use the same rank and world size")
    world = ProcessGroup(name, _mpi.COMM_WORLD, range(world_size), rank, timeout, group_name)
    world.comm = _split(world, 0, rank, "init_process_group")  # the group's own communicator
    _world.default, _world.store = world, store
    GroupMember.WORLD = group.WORLD = world


def _backend_name(backend):
    if backend is None:
        return Backend.UNDEFINED
    name = Backend(backend) if isinstance(backend, str) else None
    if name is None:
        raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(backend)}")
    if ":" in name:  # "cpu:gloo,cuda:nccl": MPI serves both devices (CUDA tensors through host memory)
        for part in name.split(","):
            device, _, backend_part = part.partition(":")
            if Backend(backend_part) not in (Backend.GLOO, Backend.MPI, Backend.NCCL):
                raise ValueError(f"Invalid backend: '{backend_part}' for device {device}")
        return name
    if name == Backend.NCCL:
        raise RuntimeError("Distributed package doesn't have NCCL built in: minitorch's NCCL backend is not "
                           "available; use backend='gloo' or 'mpi' (CUDA tensors are staged through host memory)")
    if name not in (Backend.GLOO, Backend.MPI):
        raise ValueError(f"Invalid backend: '{backend}' (minitorch.distributed serves 'gloo' and 'mpi' with MPI)")
    return name


def _split(parent, color, key, what):
    pending = _mpi.submit(parent, _mpi.SPLIT, what, color=color, key=key)
    Work(parent, [pending], timeout=_seconds(parent.timeout)).wait()
    return _mpi._C._mpi_job_result(pending.job)


def destroy_process_group(group=None):
    """Frees the group's communicator (all groups with group=None) and forgets them; MPI itself stays up
    for a later init_process_group (it can only start once per process)."""
    if _world.default is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    _mpi.wait_inflight()  # async work nobody waited for finishes (and writes back) first
    targets = [group] if group is not None else _world.groups + [_world.default]
    for g in targets:
        if isinstance(g, ProcessGroup) and not _mpi._state["broken"]:
            Work(g, [_mpi.submit(g, _mpi.FREE, "destroy_process_group")], timeout=_seconds(g.timeout)).wait()
        if g in _world.groups:
            _world.groups.remove(g)
    if group is None or group is _world.default:
        # the store stays connected: the exit handler still reports this rank's clean exit through it
        _world.default = _world.store = None
        GroupMember.WORLD = globals()["group"].WORLD = None
        _world.groups = []


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None):
    """A group of `ranks` (all of them if None). Every rank of the world must call it, members or not."""
    world = _default()
    ranks = sorted(range(world.size()) if ranks is None else ranks)
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group: duplicate ranks in {ranks}")
    for r in ranks:
        if not 0 <= r < world.size():
            raise ValueError(f"The new group's rank should be within the world_size set by init_process_group "
                             f"({world.size()}), but got {r}")
    member = world.rank() in ranks
    comm = _split(world, 0 if member else _mpi.UNDEFINED, world.rank(), "new_group")
    if not member:
        return GroupMember.NON_GROUP_MEMBER
    g = ProcessGroup(world.backend_name if backend is None else _backend_name(backend), comm, ranks,
                     ranks.index(world.rank()), timeout or world.timeout, group_desc or "")
    _world.groups.append(g)
    return g


def get_backend(group=None):
    g = _group(group)
    if g is GroupMember.NON_GROUP_MEMBER:
        raise ValueError("Invalid process group specified")
    return g.backend_name


def get_rank(group=None):
    g = _group(group)
    return -1 if g is GroupMember.NON_GROUP_MEMBER else g.rank()


def get_world_size(group=None):
    g = _group(group)
    return -1 if g is GroupMember.NON_GROUP_MEMBER else g.size()


def get_global_rank(group, group_rank):
    if group is None or group is GroupMember.WORLD:
        return group_rank
    if not 0 <= group_rank < group.size():
        raise ValueError(f"Group rank {group_rank} is not part of group {group}")
    return group.ranks[group_rank]


def get_group_rank(group, global_rank):
    if group is None or group is GroupMember.WORLD:
        return global_rank
    if global_rank not in group.ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return group.ranks.index(global_rank)


def get_process_group_ranks(group):
    return list(_group(group).ranks)


def get_node_local_rank(fallback_rank=None):
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
                       "`get_node_local_rank` to work, assuming you are not running in a multi-device context and "
                       "want the code to run locally instead.")


# ---------------------------------------------------------------------------------------------------------
# tensors <-> MPI buffers


def _check_tensor(t, fn, name="tensor"):
    from .._tensor import Tensor

    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type torch.Tensor\n"
                        f"             but got {type(t)} instead.")


def _check_list(ts, fn, name):
    from .._tensor import Tensor

    if not isinstance(ts, (list, tuple)) or not all(isinstance(t, Tensor) for t in ts):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type List[torch.Tensor]\n"
                        f"             but got {type(ts)} instead.")


def _mpi_dtype(t, fn):
    key = str(t.dtype).split(".")[-1]
    if key not in _mpi._DTYPES:
        raise TypeError(f"{fn}: tensors of dtype {t.dtype} are not supported by the MPI backend")
    return _mpi._DTYPES[key]


def _mpi_op(op, t, fn):
    red = op.op if isinstance(op, ReduceOp) else op
    if not isinstance(red, RedOpType):
        raise TypeError(f"{fn}: op must be a ReduceOp, got {op!r}")
    if red == RedOpType.PREMUL_SUM:
        raise NotImplementedError(f"{fn}: ReduceOp.PREMUL_SUM is not supported by the MPI backend")
    name = "SUM" if red == RedOpType.AVG else red.name
    if t.dtype.is_floating_point and red in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR):
        raise RuntimeError(f"{fn}: ReduceOp.{red.name} is not defined for floating point tensors")
    return (_mpi._BOOL_OPS if str(t.dtype) == "torch.bool" else _mpi._OPS)[name], red == RedOpType.AVG


class _Buffer:
    """A contiguous host tensor with the contents of t (t itself when it already is one); write_back() puts
    results back into t."""

    def __init__(self, t, load=True):
        from .. import no_grad

        self.target = t
        with no_grad():
            if t.device.type == "cpu" and t.is_contiguous():
                self.data = t.detach()
            elif load:
                self.data = t.detach().to("cpu").contiguous()
            else:
                self.data = t.detach().new_empty(t.shape, device="cpu")
        self.ptr = self.data.data_ptr()

    def write_back(self):
        from .. import no_grad

        if self.data is not self.target and self.data.data_ptr() != self.target.data_ptr():
            with no_grad():
                self.target.copy_(self.data)


def _member(g):
    return g is not GroupMember.NON_GROUP_MEMBER


def _warn_non_member(fn):
    warnings.warn(f"Running {fn} on global rank {get_rank()} which does not belong to the given group.")


def _run(g, pending, finish, keep, async_op, result=None):
    work = _mpi.Work(g, pending, finish, keep, result, timeout=_seconds(g.timeout))
    if async_op:
        return work
    work.wait()
    return None


def _group_peer(g, global_rank, group_rank, fn, what):
    """The peer's rank within g from torch's (global rank, group rank) pair of arguments."""
    if group_rank is not None:
        if global_rank is not None and global_rank != g.ranks[group_rank]:
            raise ValueError(f"{fn}: {what} and group_{what} are both given and disagree")
        r = group_rank
    elif g is _world.default:
        r = global_rank
    else:
        if global_rank not in g.ranks:
            raise ValueError(f"Global rank {global_rank} is not part of group {g}")
        r = g.ranks.index(global_rank)
    if not 0 <= r < g.size():
        raise RuntimeError(f"{fn}: invalid root rank: {r}")
    return r


def _root(g, global_rank, group_rank, fn, what):
    """The root's rank within g; rank 0 when neither is given, as torch's defaults."""
    return _group_peer(g, 0 if global_rank is None and group_rank is None else global_rank, group_rank, fn, what)


def _avg_finish(buf, size):
    def finish():
        if buf.data.dtype.is_floating_point:
            buf.data.div_(size)
        else:
            buf.data.copy_(buf.data.div(size, rounding_mode="trunc"))
        buf.write_back()

    return finish


# ---------------------------------------------------------------------------------------------------------
# collectives


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces tensor across the group in place (every rank gets the result)."""
    _check_tensor(tensor, "all_reduce")
    g = _group(group)
    if not _member(g):
        return _warn_non_member("all_reduce")
    mop, avg = _mpi_op(op, tensor, "all_reduce")
    buf = _Buffer(tensor)
    p = _mpi.submit(g, _mpi.ALLREDUCE, "all_reduce", buf.ptr, buf.ptr, tensor.numel(), _mpi_dtype(tensor, "all_reduce"), mop)
    return _run(g, [p], _avg_finish(buf, g.size()) if avg else buf.write_back, (buf,), async_op, [tensor])


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    _check_tensor(tensor, "broadcast")
    g = _group(group)
    if not _member(g):
        return _warn_non_member("broadcast")
    root = _root(g, src, group_src, "broadcast", "src")
    buf = _Buffer(tensor, load=g.rank() == root)
    p = _mpi.submit(g, _mpi.BCAST, "broadcast", buf.ptr, buf.ptr, tensor.numel(), _mpi_dtype(tensor, "broadcast"),
                    root=root)
    return _run(g, [p], buf.write_back, (buf,), async_op, [tensor])


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    _check_tensor(tensor, "reduce")
    g = _group(group)
    if not _member(g):
        return _warn_non_member("reduce")
    root = _root(g, dst, group_dst, "reduce", "dst")
    mop, avg = _mpi_op(op, tensor, "reduce")
    buf = _Buffer(tensor)
    at_root = g.rank() == root
    p = _mpi.submit(g, _mpi.REDUCE, "reduce", buf.ptr, buf.ptr if at_root else 0, tensor.numel(),
                    _mpi_dtype(tensor, "reduce"), mop, root)
    finish = (_avg_finish(buf, g.size()) if avg else buf.write_back) if at_root else None
    return _run(g, [p], finish, (buf,), async_op, [tensor])


def _same_blocks(fn, tensors, like):
    for i, t in enumerate(tensors):
        if t.dtype != like.dtype:
            raise RuntimeError(f"{fn}: invalid tensor type at index {i} (expected {like.dtype}, got {t.dtype})")
        if t.numel() != like.numel():
            raise RuntimeError(f"{fn}: invalid tensor size at index {i} (expected ({', '.join(map(str, like.shape))}), "
                               f"got ({', '.join(map(str, t.shape))}))")


def _stacked(like, n):
    from .. import empty

    return empty((n,) + tuple(like.shape), dtype=like.dtype)


def _stacked_from(tensors, shape):
    """The tensors (each of shape's numel), stacked into one contiguous host buffer."""
    from .. import stack

    return stack([t.detach().reshape(shape).to("cpu") for t in tensors]).contiguous()


def _copy_out(stack, outputs):
    def finish():
        from .. import no_grad

        with no_grad():
            for i, t in enumerate(outputs):
                t.copy_(stack[i].view(t.shape).to(t.device))

    return finish


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[i] = rank i's tensor."""
    _check_list(tensor_list, "all_gather", "tensor_list")
    _check_tensor(tensor, "all_gather")
    g = _group(group)
    if not _member(g):
        return _warn_non_member("all_gather")
    if len(tensor_list) != g.size():
        raise RuntimeError(f"all_gather: tensor_list has {len(tensor_list)} tensors for a group of {g.size()} ranks")
    _same_blocks("ProcessGroupMPI::allgather", tensor_list, tensor)
    src, out = _Buffer(tensor), _stacked(tensor, g.size())
    p = _mpi.submit(g, _mpi.ALLGATHER, "all_gather", src.ptr, out.data_ptr(), tensor.numel(),
                    _mpi_dtype(tensor, "all_gather"))
    return _run(g, [p], _copy_out(out, tensor_list), (src, out), async_op, tensor_list)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """output_tensor: the inputs of all ranks concatenated (or stacked) along dim 0."""
    _check_tensor(output_tensor, "all_gather_into_tensor", "output_tensor")
    _check_tensor(input_tensor, "all_gather_into_tensor", "input_tensor")
    g = _group(group)
    if not _member(g):
        return _warn_non_member("all_gather_into_tensor")
    if output_tensor.numel() != input_tensor.numel() * g.size() or output_tensor.dtype != input_tensor.dtype:
        raise ValueError("all_gather_into_tensor: output tensor size must be equal to world_size times input "
                         f"tensor size ({output_tensor.numel()} != {g.size()} * {input_tensor.numel()}) with one dtype")
    src, out = _Buffer(input_tensor), _Buffer(output_tensor, load=False)
    p = _mpi.submit(g, _mpi.ALLGATHER, "all_gather_into_tensor", src.ptr, out.ptr, input_tensor.numel(),
                    _mpi_dtype(input_tensor, "all_gather_into_tensor"))
    return _run(g, [p], out.write_back, (src, out), async_op, [output_tensor])


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    _check_tensor(tensor, "gather")
    g = _group(group)
    if not _member(g):
        return _warn_non_member("gather")
    root = _root(g, dst, group_dst, "gather", "dst")
    at_root = g.rank() == root
    if at_root:
        if gather_list is None or len(gather_list) != g.size():
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        _check_list(gather_list, "gather", "gather_list")
        _same_blocks("ProcessGroupMPI::gather", gather_list, tensor)
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    src = _Buffer(tensor)
    out = _stacked(tensor, g.size()) if at_root else None
    p = _mpi.submit(g, _mpi.GATHER, "gather", src.ptr, out.data_ptr() if at_root else 0, tensor.numel(),
                    _mpi_dtype(tensor, "gather"), root=root)
    return _run(g, [p], _copy_out(out, gather_list) if at_root else None, (src, out), async_op, gather_list or [])


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    _check_tensor(tensor, "scatter")
    g = _group(group)
    if not _member(g):
        return _warn_non_member("scatter")
    root = _root(g, src, group_src, "scatter", "src")
    at_root = g.rank() == root
    stack = None
    if at_root:
        if scatter_list is None or len(scatter_list) != g.size():
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        _check_list(scatter_list, "scatter", "scatter_list")
        _same_blocks("ProcessGroupMPI::scatter", scatter_list, tensor)
        stack = _stacked_from(scatter_list, tensor.shape)
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    out = _Buffer(tensor, load=False)
    p = _mpi.submit(g, _mpi.SCATTER, "scatter", stack.data_ptr() if at_root else 0, out.ptr, tensor.numel(),
                    _mpi_dtype(tensor, "scatter"), root=root)
    return _run(g, [p], out.write_back, (stack, out), async_op, [tensor])


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """output = the reduction over ranks of their input_list[rank]."""
    _check_tensor(output, "reduce_scatter", "output")
    _check_list(input_list, "reduce_scatter", "input_list")
    g = _group(group)
    if not _member(g):
        return _warn_non_member("reduce_scatter")
    if len(input_list) != g.size():
        raise ValueError(f"reduce_scatter: input_list has {len(input_list)} tensors for a group of {g.size()} ranks")
    _same_blocks("ProcessGroupMPI::reduce_scatter", input_list, output)
    return _reduce_scatter(g, output, _stacked_from(input_list, output.shape), op, async_op, "reduce_scatter")


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """output = the reduction over ranks of their input's rank-th block along dim 0."""
    _check_tensor(output, "reduce_scatter_tensor", "output")
    _check_tensor(input, "reduce_scatter_tensor", "input")
    g = _group(group)
    if not _member(g):
        return _warn_non_member("reduce_scatter_tensor")
    if input.numel() != output.numel() * g.size() or input.dtype != output.dtype:
        raise ValueError("reduce_scatter_tensor: input tensor must be the same size as output size times world "
                         f"size ({input.numel()} != {g.size()} * {output.numel()}) with one dtype")
    return _reduce_scatter(g, output, _Buffer(input).data, op, async_op, "reduce_scatter_tensor")


def _reduce_scatter(g, output, inp, op, async_op, fn):
    mop, avg = _mpi_op(op, output, fn)
    out = _Buffer(output, load=False)
    p = _mpi.submit(g, _mpi.REDUCE_SCATTER, fn, inp.data_ptr(), out.ptr, output.numel(), _mpi_dtype(output, fn), mop)
    return _run(g, [p], _avg_finish(out, g.size()) if avg else out.write_back, (inp, out), async_op, [output])


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None,
                      async_op=False):
    """Splits input along dim 0 (evenly, or by input_split_sizes), sends block i to rank i, and concatenates
    what arrives into output (by output_split_sizes)."""
    _check_tensor(output, "all_to_all_single", "output")
    _check_tensor(input, "all_to_all_single", "input")
    g = _group(group)
    if not _member(g):
        return _warn_non_member("all_to_all_single")
    n = g.size()
    if output.dtype != input.dtype:
        raise RuntimeError("all_to_all_single: output and input must have one dtype")

    def counts(t, splits, name):
        row = t.numel() // t.shape[0] if t.dim() and t.shape[0] else (1 if t.dim() else t.numel())
        if not splits:
            if t.dim() == 0 or t.shape[0] % n:
                raise ValueError(f"all_to_all_single: {name}'s dim 0 ({t.shape[0] if t.dim() else 0}) must divide "
                                 f"evenly by the group size {n}")
            splits = [t.shape[0] // n] * n
        if len(splits) != n or sum(splits) != t.shape[0]:
            raise ValueError(f"all_to_all_single: {name} split sizes {list(splits)} do not cover dim 0 "
                             f"({t.shape[0]}) in {n} blocks")
        c = [s * row for s in splits]
        return c, [sum(c[:i]) for i in range(n)]

    sc, sd = counts(input, input_split_sizes, "input")
    rc, rd = counts(output, output_split_sizes, "output")
    src, out = _Buffer(input), _Buffer(output, load=False)
    p = _mpi.submit(g, _mpi.ALLTOALLV, "all_to_all_single", src.ptr, out.ptr, 0,
                    _mpi_dtype(input, "all_to_all_single"), v=(sc, sd, rc, rd))
    return _run(g, [p], out.write_back, (src, out), async_op, [output])


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """output_tensor_list[i] = rank i's input_tensor_list[this rank]."""
    _check_list(output_tensor_list, "all_to_all", "output_tensor_list")
    _check_list(input_tensor_list, "all_to_all", "input_tensor_list")
    g = _group(group)
    if not _member(g):
        return _warn_non_member("all_to_all")
    n = g.size()
    if len(output_tensor_list) != n or len(input_tensor_list) != n:
        raise ValueError(f"all_to_all: both lists need one tensor per rank ({n})")
    from .. import cat, empty

    like = input_tensor_list[0]
    if any(t.dtype != like.dtype for t in list(output_tensor_list) + list(input_tensor_list)):
        raise RuntimeError("all_to_all: all tensors must have one dtype")
    inp = cat([t.detach().reshape(-1).to("cpu") for t in input_tensor_list]).contiguous()
    sc = [t.numel() for t in input_tensor_list]
    rc = [t.numel() for t in output_tensor_list]
    out = empty(sum(rc), dtype=like.dtype)
    p = _mpi.submit(g, _mpi.ALLTOALLV, "all_to_all", inp.data_ptr(), out.data_ptr(), 0, _mpi_dtype(like, "all_to_all"),
                    v=(sc, [sum(sc[:i]) for i in range(n)], rc, [sum(rc[:i]) for i in range(n)]))

    def finish():
        from .. import no_grad

        with no_grad():
            for t, piece in zip(output_tensor_list, out.split(rc)):
                t.copy_(piece.view(t.shape).to(t.device))

    return _run(g, [p], finish, (inp, out), async_op, output_tensor_list)


def barrier(group=None, async_op=False, device_ids=None):
    g = _group(group)
    if not _member(g):
        return _warn_non_member("barrier")
    return _run(g, [_mpi.submit(g, _mpi.BARRIER, "barrier")], None, (), async_op)


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    g = _group(group)
    work = _mpi.Work(g, [_mpi.submit(g, _mpi.BARRIER, "monitored_barrier")], timeout=_seconds(timeout or g.timeout))
    work.wait()


# ---------------------------------------------------------------------------------------------------------
# point to point


def _p2p(fn, is_send, tensor, peer, group, tag, group_peer):
    _check_tensor(tensor, fn)
    g = _group(group)
    if not _member(g):
        _warn_non_member(fn)
        return None, None
    if peer is None and group_peer is None:
        r = _mpi.ANY_SOURCE
        if is_send:
            raise ValueError(f"{fn}: dst must be given")
    else:
        r = _group_peer(g, peer, group_peer, fn, "dst" if is_send else "src")
        if is_send and r == g.rank():
            raise ValueError("Invalid destination rank: destination rank should not be the same as the rank of the "
                             "current process.")
    buf = _Buffer(tensor, load=is_send)
    p = _mpi.p2p(g, is_send, buf.ptr, tensor.numel(), _mpi_dtype(tensor, fn), r, tag, fn)
    return _mpi.Work(g, [p], None if is_send else buf.write_back, (buf,), [tensor], _seconds(g.timeout)), g


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    return _p2p("isend", True, tensor, dst, group, tag, group_dst)[0]


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    return _p2p("irecv", False, tensor, src, group, tag, group_src)[0]


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    work, _ = _p2p("send", True, tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receives into tensor; returns the sender's global rank (-1 when not a member of the group)."""
    work, g = _p2p("recv", False, tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    return work.source_rank()


class P2POp:
    """One isend/irecv for batch_isend_irecv."""

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``torch.distributed.isend`` or "
                             "``torch.distributed.irecv``.")
        self.op, self.tensor, self.peer, self.group, self.tag, self.group_peer = op, tensor, peer, group, tag, group_peer


def batch_isend_irecv(p2p_op_list):
    return [op.op(op.tensor, op.peer, op.group, op.tag, op.group_peer) for op in p2p_op_list]


# ---------------------------------------------------------------------------------------------------------
# picklable objects (sizes first, then the bytes, as torch does)


def _bytes_of(obj):
    f = io.BytesIO()
    pickle.Pickler(f).dump(obj)
    return np.frombuffer(f.getvalue(), dtype=np.uint8)


def _raw(g, kind, what, send, recv, count, dtype=_mpi.BYTE, root=0):
    _mpi.Work(g, [_mpi.submit(g, kind, what, send, recv, count, dtype, root=root)], timeout=_seconds(g.timeout)).wait()


def _gathered_bytes(g, data, what):
    sizes = np.zeros(g.size(), dtype=np.int64)
    mine = np.array([data.size], dtype=np.int64)
    _raw(g, _mpi.ALLGATHER, what, mine.ctypes.data, sizes.ctypes.data, 1, _mpi._DTYPES["int64"])
    width = int(sizes.max()) if sizes.size else 0
    padded = np.zeros(width, dtype=np.uint8)
    padded[:data.size] = data
    out = np.zeros(width * g.size(), dtype=np.uint8)
    _raw(g, _mpi.ALLGATHER, what, padded.ctypes.data, out.ctypes.data, width)
    return [pickle.loads(out[i * width:i * width + int(sizes[i])].tobytes()) for i in range(g.size())]


def all_gather_object(object_list, obj, group=None):
    """object_list[i] = rank i's obj (object_list must have one slot per rank)."""
    g = _group(group)
    if not _member(g):
        return _warn_non_member("all_gather_object")
    if len(object_list) != g.size():
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} slots for {g.size()} ranks")
    object_list[:] = _gathered_bytes(g, _bytes_of(obj), "all_gather_object")


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    g = _group(group)
    if not _member(g):
        return _warn_non_member("gather_object")
    root = _root(g, dst, group_dst, "gather_object", "dst")
    objs = _gathered_bytes(g, _bytes_of(obj), "gather_object")
    if g.rank() == root:
        if object_gather_list is None or len(object_gather_list) != g.size():
            raise ValueError("Argument ``object_gather_list`` must be specified on destination rank.")
        object_gather_list[:] = objs


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replaces object_list's entries on every rank by src's."""
    g = _group(group)
    if not _member(g):
        return _warn_non_member("broadcast_object_list")
    root = _root(g, src, group_src, "broadcast_object_list", "src")
    data = _bytes_of(list(object_list)) if g.rank() == root else np.zeros(0, dtype=np.uint8)
    size = np.array([data.size], dtype=np.int64)
    _raw(g, _mpi.BCAST, "broadcast_object_list", size.ctypes.data, size.ctypes.data, 1, _mpi._DTYPES["int64"], root)
    buf = data.copy() if g.rank() == root else np.zeros(int(size[0]), dtype=np.uint8)
    _raw(g, _mpi.BCAST, "broadcast_object_list", buf.ctypes.data, buf.ctypes.data, buf.size, root=root)
    if g.rank() != root:
        received = pickle.loads(buf.tobytes())
        if len(received) != len(object_list):
            raise ValueError("broadcast_object_list: object_list must have the same length on every rank")
        object_list[:] = received


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None, group=None,
                        group_src=None):
    g = _group(group)
    if not _member(g):
        return _warn_non_member("scatter_object_list")
    root = _root(g, src, group_src, "scatter_object_list", "src")
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    holder = [list(scatter_object_input_list) if g.rank() == root else None]
    broadcast_object_list(holder, src=None, group=g, group_src=root)
    scatter_object_output_list[0] = holder[0][g.rank()]


def _object_p2p(fn, is_send, buf, count, dtype, peer, group, group_peer, tag):
    g = _group(group)
    r = _mpi.ANY_SOURCE if peer is None and group_peer is None else _group_peer(g, peer, group_peer, fn, "peer")
    work = _mpi.Work(g, [_mpi.p2p(g, is_send, buf.ctypes.data, count, dtype, r, tag, fn)], timeout=_seconds(g.timeout))
    work.wait()
    return work.source_rank()


def send_object_list(object_list, dst=None, group=None, device=None, group_dst=None):
    data = _bytes_of(list(object_list)).copy()
    size = np.array([data.size], dtype=np.int64)
    _object_p2p("send_object_list", True, size, 1, _mpi._DTYPES["int64"], dst, group, group_dst, 0)
    _object_p2p("send_object_list", True, data, data.size, _mpi.BYTE, dst, group, group_dst, 1)


def recv_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Receives src's object_list into object_list; returns the sender's global rank."""
    size = np.zeros(1, dtype=np.int64)
    sender = _object_p2p("recv_object_list", False, size, 1, _mpi._DTYPES["int64"], src, group, group_src, 0)
    data = np.zeros(int(size[0]), dtype=np.uint8)
    _object_p2p("recv_object_list", False, data, data.size, _mpi.BYTE, sender, group, None, 1)
    object_list[:] = pickle.loads(data.tobytes())
    return sender


__all__ = [name for name in dir() if not name.startswith("_") and name not in ("enum", "io", "os", "pickle", "warnings",
                                                                                "np", "timedelta")]

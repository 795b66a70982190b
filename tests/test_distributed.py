"""minitorch.distributed on MPI: every collective against NumPy on each rank (2 and 3 processes), groups,
objects, point to point, rendezvous methods, re-initialisation, and failures within a bounded time."""
import os
import sys
import time

import numpy as np
import pytest

from _dist_harness import requires_mpi, run_ranks

import minitorch.distributed as dist

pytestmark = requires_mpi

DTYPES = ["float32", "float64", "int32", "int64"]
OPS = ["SUM", "PRODUCT", "MIN", "MAX", "AVG", "BAND", "BOR", "BXOR"]


def rank_data(r, dtype, shape=(3, 4)):
    """What rank r contributes: small values so products stay exact in every dtype."""
    n = int(np.prod(shape))
    return ((np.arange(n) * (r + 2) + r) % 7 + 1).reshape(shape).astype(dtype)


NP_REDUCE = {"SUM": np.sum, "PRODUCT": np.prod, "MIN": np.min, "MAX": np.max,
             "BAND": np.bitwise_and.reduce, "BOR": np.bitwise_or.reduce, "BXOR": np.bitwise_xor.reduce}


def expected_reduce(op, dtype, n, shape=(3, 4)):
    stack = np.stack([rank_data(r, dtype, shape) for r in range(n)])
    if op == "AVG":
        s = stack.sum(0)
        return s / n if dtype.startswith("float") else np.trunc(s / n).astype(dtype)
    return NP_REDUCE[op](stack, axis=0).astype(dtype)


COLLECTIVES = """
import numpy as np
from test_distributed import rank_data, DTYPES, OPS

def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))

def main(rank, n):
    out = {}
    for dtype in DTYPES:
        for op in OPS:
            if dtype.startswith("float") and op in ("BAND", "BOR", "BXOR"):
                continue
            x = t(rank_data(rank, dtype))
            dist.all_reduce(x, op=getattr(dist.ReduceOp, op))
            out["all_reduce", dtype, op] = x.numpy()
            # non-contiguous: the transpose of a (4, 3) buffer
            y = t(rank_data(rank, dtype).T.copy()).t()
            assert not y.is_contiguous()
            dist.all_reduce(y, op=getattr(dist.ReduceOp, op))
            out["all_reduce_nc", dtype, op] = y.numpy()
            z = t(rank_data(rank, dtype))
            dist.reduce(z, dst=n - 1, op=getattr(dist.ReduceOp, op))
            out["reduce", dtype, op] = z.numpy()
        b = t(rank_data(rank, dtype))
        dist.broadcast(b, src=1)
        out["broadcast", dtype] = b.numpy()
        lst = [torch.zeros(3, 4, dtype=getattr(torch, dtype)) for _ in range(n)]
        dist.all_gather(lst, t(rank_data(rank, dtype)))
        out["all_gather", dtype] = np.stack([v.numpy() for v in lst])
        big = torch.zeros(n * 3, 4, dtype=getattr(torch, dtype))
        dist.all_gather_into_tensor(big, t(rank_data(rank, dtype)))
        out["all_gather_into_tensor", dtype] = big.numpy()
        gl = [torch.zeros(3, 4, dtype=getattr(torch, dtype)) for _ in range(n)] if rank == 0 else None
        dist.gather(t(rank_data(rank, dtype)), gl, dst=0)
        out["gather", dtype] = np.stack([v.numpy() for v in gl]) if gl else None
        sc = torch.zeros(3, 4, dtype=getattr(torch, dtype))
        dist.scatter(sc, [t(rank_data(10 + r, dtype)) for r in range(n)] if rank == n - 1 else None, src=n - 1)
        out["scatter", dtype] = sc.numpy()
        rs = torch.zeros(3, 4, dtype=getattr(torch, dtype))
        dist.reduce_scatter_tensor(rs, t(np.concatenate([rank_data(rank + 5 * k, dtype) for k in range(n)])))
        out["reduce_scatter_tensor", dtype] = rs.numpy()
        rl = torch.zeros(3, 4, dtype=getattr(torch, dtype))
        dist.reduce_scatter(rl, [t(rank_data(rank + 5 * k, dtype)) for k in range(n)], op=dist.ReduceOp.MAX)
        out["reduce_scatter", dtype] = rl.numpy()
    # all_to_all_single, even and uneven splits
    inp = torch.arange(n * 2, dtype=torch.float32) + 100 * rank
    o = torch.zeros(n * 2)
    dist.all_to_all_single(o, inp)
    out["a2a_even"] = o.numpy()
    in_splits = [r + 1 for r in range(n)]                 # rank sends r+1 rows to rank r
    rows = torch.arange(sum(in_splits) * 2, dtype=torch.float64).view(-1, 2) + 1000 * rank
    o = torch.zeros((rank + 1) * n, 2, dtype=torch.float64)
    dist.all_to_all_single(o, rows, output_split_sizes=[rank + 1] * n, input_split_sizes=in_splits)
    out["a2a_uneven"] = o.numpy()
    ol = [torch.zeros(2, dtype=torch.int64) for _ in range(n)]
    dist.all_to_all(ol, [torch.tensor([rank, k]) for k in range(n)])
    out["a2a_list"] = np.stack([v.numpy() for v in ol])
    # bool
    bl = torch.tensor([rank == 0, True, False])
    dist.all_reduce(bl, op=dist.ReduceOp.MAX)
    out["bool_max"] = bl.numpy()
    bl = torch.tensor([rank == 0, True, False])
    dist.all_reduce(bl, op=dist.ReduceOp.MIN)
    out["bool_min"] = bl.numpy()
    # async: several in flight, waited in reverse
    xs = [torch.full((5,), float(rank + k)) for k in range(4)]
    works = [dist.all_reduce(x, async_op=True) for x in xs]
    assert all(w is not None for w in works)
    for w in reversed(works):
        assert w.wait()
    out["async"] = np.stack([x.numpy() for x in xs])
    out["async_completed"] = all(w.is_completed() and w.is_success() for w in works)
    # empty and 0-d tensors
    e = torch.zeros(0)
    dist.all_reduce(e)
    s = torch.tensor(float(rank + 1))
    dist.all_reduce(s)
    out["scalar"] = s.item()
    dist.barrier()
    return out
"""


@pytest.mark.parametrize("n", [2, 3])
def test_collectives_match_numpy(tmp_path, n):
    results = run_ranks(n, COLLECTIVES, tmp_path, timeout=120).ok()
    for rank, out in enumerate(results):
        for dtype in DTYPES:
            for op in OPS:
                if dtype.startswith("float") and op in ("BAND", "BOR", "BXOR"):
                    continue
                want = expected_reduce(op, dtype, n)
                np.testing.assert_allclose(out["all_reduce", dtype, op], want, rtol=1e-6, err_msg=f"{dtype} {op}")
                assert out["all_reduce", dtype, op].dtype == np.dtype(dtype)
                np.testing.assert_allclose(out["all_reduce_nc", dtype, op], want, rtol=1e-6)
                if rank == n - 1:
                    np.testing.assert_allclose(out["reduce", dtype, op], want, rtol=1e-6)
                else:  # non-destination ranks keep their input
                    np.testing.assert_array_equal(out["reduce", dtype, op], rank_data(rank, dtype))
            np.testing.assert_array_equal(out["broadcast", dtype], rank_data(1, dtype))
            every = np.stack([rank_data(r, dtype) for r in range(n)])
            np.testing.assert_array_equal(out["all_gather", dtype], every)
            np.testing.assert_array_equal(out["all_gather_into_tensor", dtype], every.reshape(n * 3, 4))
            if rank == 0:
                np.testing.assert_array_equal(out["gather", dtype], every)
            np.testing.assert_array_equal(out["scatter", dtype], rank_data(10 + rank, dtype))
            rs = sum(rank_data(r + 5 * rank, dtype) for r in range(n)).astype(dtype)
            np.testing.assert_array_equal(out["reduce_scatter_tensor", dtype], rs)
            rm = np.max(np.stack([rank_data(r + 5 * rank, dtype) for r in range(n)]), 0)
            np.testing.assert_array_equal(out["reduce_scatter", dtype], rm)
        np.testing.assert_array_equal(out["a2a_even"],
                                      np.concatenate([np.arange(2 * rank, 2 * rank + 2) + 100 * s for s in range(n)]))
        want = []
        for s in range(n):  # sender s's rows for this rank: after the rows it sent to ranks < rank
            start = sum(r + 1 for r in range(rank))
            rows = np.arange(sum(r + 1 for r in range(n)) * 2, dtype=np.float64).reshape(-1, 2) + 1000 * s
            want.append(rows[start:start + rank + 1])
        np.testing.assert_array_equal(out["a2a_uneven"], np.concatenate(want))
        np.testing.assert_array_equal(out["a2a_list"], np.array([[s, rank] for s in range(n)]))
        np.testing.assert_array_equal(out["bool_max"], [True, True, False])
        np.testing.assert_array_equal(out["bool_min"], [False, True, False])
        np.testing.assert_array_equal(out["async"], np.stack([np.full(5, sum(r + k for r in range(n)), np.float32)
                                                              for k in range(4)]))
        assert out["async_completed"]
        assert out["scalar"] == sum(range(1, n + 1))


GROUPS_OBJECTS_P2P = """
import numpy as np

def main(rank, n):
    out = {"rank": dist.get_rank(), "size": dist.get_world_size(), "backend": dist.get_backend(),
           "initialized": dist.is_initialized()}
    g = dist.new_group([0, 2])
    out["group"] = (dist.get_rank(g), dist.get_world_size(g))
    x = torch.tensor([float(rank + 1)])
    r = dist.all_reduce(x, group=g)
    out["group_sum"] = x.item()
    if g is not dist.GroupMember.NON_GROUP_MEMBER:
        out["group_ranks"] = dist.get_process_group_ranks(g)
        b = torch.tensor([float(rank)])
        dist.broadcast(b, src=2, group=g)          # src is a global rank
        out["group_bcast"] = b.item()
        out["global_of_1"] = dist.get_global_rank(g, 1)
    objs = [None] * n
    dist.all_gather_object(objs, {"rank": rank, "text": "x" * (rank * 50)})
    out["objects"] = objs
    lst = [rank, "from"] if rank == 1 else [None, None]
    dist.broadcast_object_list(lst, src=1)
    out["bcast_objects"] = lst
    gathered = [None] * n if rank == 0 else None
    dist.gather_object(("r", rank), gathered, dst=0)
    out["gathered"] = gathered
    so = [None]
    dist.scatter_object_list(so, [f"to {r}" for r in range(n)] if rank == 0 else None, src=0)
    out["scattered"] = so[0]
    # point to point: a ring, with isend/irecv both posted before either is waited on
    right, left = (rank + 1) % n, (rank - 1) % n
    send = torch.arange(4, dtype=torch.float64) + 10 * rank
    recv = torch.zeros(4, dtype=torch.float64)
    reqs = [dist.isend(send, right), dist.irecv(recv, left)]
    for q in reqs:
        q.wait()
    out["ring"] = recv.numpy()
    if rank == 0:
        dist.send(torch.tensor([7, 8, 9]), dst=1, tag=3)
        dist.send_object_list([{"a": 1}], dst=1)
    elif rank == 1:
        got = torch.zeros(3, dtype=torch.int64)
        out["recv_from"] = dist.recv(got, tag=3)   # any source
        out["recv"] = got.tolist()
        ol = [None]
        dist.recv_object_list(ol, src=0)
        out["recv_obj"] = ol[0]
    ops = [dist.P2POp(dist.isend, torch.full((2,), float(rank)), right), dist.P2POp(dist.irecv, torch.zeros(2), left)]
    for w in dist.batch_isend_irecv(ops):
        w.wait()
    out["batch"] = ops[1].tensor.tolist()
    dist.destroy_process_group()
    out["after_destroy"] = dist.is_initialized()
    # a second world in the same process (MPI is started once; the new group is new)
    dist.init_process_group("gloo")
    y = torch.tensor([1.0])
    dist.all_reduce(y)
    out["second_world"] = y.item()
    return out
"""


def test_groups_objects_p2p_and_reinit(tmp_path):
    results = run_ranks(3, GROUPS_OBJECTS_P2P, tmp_path, timeout=90).ok()
    for rank, out in enumerate(results):
        assert (out["rank"], out["size"], out["backend"], out["initialized"]) == (rank, 3, "gloo", True)
        member = rank in (0, 2)
        assert out["group"] == ((rank // 2, 2) if member else (-1, -1))
        assert out["group_sum"] == (4.0 if member else rank + 1.0)  # non-members keep theirs
        if member:
            assert out["group_ranks"] == [0, 2] and out["group_bcast"] == 2.0 and out["global_of_1"] == 2
        assert out["objects"] == [{"rank": r, "text": "x" * (r * 50)} for r in range(3)]
        assert out["bcast_objects"] == [1, "from"]
        assert out["gathered"] == ([("r", r) for r in range(3)] if rank == 0 else None)
        assert out["scattered"] == f"to {rank}"
        np.testing.assert_array_equal(out["ring"], np.arange(4) + 10 * ((rank - 1) % 3))
        if rank == 1:
            assert out["recv_from"] == 0 and out["recv"] == [7, 8, 9] and out["recv_obj"] == {"a": 1}
        assert out["batch"] == [float((rank - 1) % 3)] * 2
        assert out["after_destroy"] is False
        assert out["second_world"] == 3.0


RENDEZVOUS = """
def main(rank, n):
    x = torch.tensor([rank + 1.0])
    dist.all_reduce(x)
    return x.item(), dist.get_rank(), dist.get_world_size()
"""


def test_tcp_and_file_init_methods(tmp_path):
    from _dist_harness import free_port

    (tmp_path / "tcp").mkdir()
    init = {"backend": "gloo", "init_method": f"tcp://127.0.0.1:{free_port()}", "world_size": 2}  # rank from RANK
    assert run_ranks(2, RENDEZVOUS, tmp_path / "tcp", init=init).ok() == [(3.0, 0, 2), (3.0, 1, 2)]
    (tmp_path / "file").mkdir()
    body = """
def main(rank, n):
    import os
    dist.init_process_group("gloo", init_method="file://" + os.environ["STORE_FILE"], rank=rank, world_size=n)
""" + RENDEZVOUS.split("def main(rank, n):")[1]
    res = run_ranks(2, body, tmp_path / "file", init=None, env={"STORE_FILE": str(tmp_path / "file" / "store")})
    assert res.ok() == [(3.0, 0, 2), (3.0, 1, 2)]


def test_errors_without_a_process_group():
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.all_reduce(__import__("minitorch").ones(2))
    assert dist.is_available() and not dist.is_initialized()
    assert dist.get_default_backend_for_device("cpu") == "gloo"
    assert dist.Backend("GLOO") == "gloo" and dist.Backend.MPI == "mpi"
    assert repr(dist.ReduceOp.SUM) == "<RedOpType.SUM: 0>"
    env = {k: os.environ.pop(k) for k in ("MASTER_ADDR",) if k in os.environ}
    try:
        with pytest.raises(ValueError, match="environment variable MASTER_ADDR expected, but not set"):
            dist.init_process_group("gloo", rank=0, world_size=1)
    finally:
        os.environ.update(env)
    with pytest.raises(ValueError, match="Invalid backend"):
        dist.init_process_group("nonsense", init_method="tcp://127.0.0.1:1", rank=0, world_size=1)


BAD_ARGS = """
def main(rank, n):
    errors = {}
    def catch(name, fn):
        try:
            fn()
        except Exception as e:
            errors[name] = (type(e).__name__, str(e))
    catch("twice", lambda: dist.init_process_group("gloo"))
    catch("list", lambda: dist.all_reduce([torch.ones(2)]))
    catch("src", lambda: dist.broadcast(torch.ones(2), src=5))
    catch("gather_size", lambda: dist.all_gather([torch.zeros(3), torch.zeros(3)], torch.ones(2)))
    catch("list_len", lambda: dist.all_gather([torch.zeros(2)], torch.ones(2)))
    catch("float_band", lambda: dist.all_reduce(torch.ones(2), op=dist.ReduceOp.BAND))
    catch("send_self", lambda: dist.send(torch.ones(2), dst=rank))
    catch("into_size", lambda: dist.all_gather_into_tensor(torch.zeros(3), torch.ones(2)))
    x = torch.ones(2)
    dist.all_reduce(x)  # the group still works after the rejected calls
    return errors, x.tolist()
"""


def test_bad_arguments_raise_like_torch(tmp_path):
    for errors, x in run_ranks(2, BAD_ARGS, tmp_path).ok():
        assert x == [2.0, 2.0]
        assert errors["twice"] == ("ValueError", "trying to initialize the default process group twice!")
        assert errors["list"][0] == "TypeError" and "Expected parameter `tensor` of type torch.Tensor" in errors["list"][1]
        assert errors["src"] == ("RuntimeError", "broadcast: invalid root rank: 5")
        assert errors["gather_size"][0] == "RuntimeError" and "invalid tensor size at index 0" in errors["gather_size"][1]
        assert errors["list_len"][0] == "RuntimeError"
        assert errors["float_band"][0] == "RuntimeError"
        assert errors["send_self"][0] == "ValueError"
        assert errors["into_size"][0] == "ValueError"


# ---- faults: a dead, failing or absent rank makes the others fail quickly, never hang ----

FAULT = """
import os, time
def main(rank, n):
    x = torch.ones(1000)
    dist.all_reduce(x)                       # everyone arrives once
    if rank == int(os.environ.get("FAULT_RANK", "1")):
        if os.environ["FAULT"] == "raise":
            raise ValueError(f"rank {rank} gives up")
        if os.environ["FAULT"] == "kill":
            os.kill(os.getpid(), 9)
        if os.environ["FAULT"] == "absent":
            time.sleep(6)
            return "slept"
    start = time.monotonic()
    try:
        dist.all_reduce(x)
    except RuntimeError as e:
        return ("failed", type(e).__name__, str(e), time.monotonic() - start)
    return ("no error", time.monotonic() - start)
"""


@pytest.mark.parametrize("fault,failing", [("raise", 1), ("kill", 1), ("raise", 0), ("kill", 0)])
def test_a_dead_rank_fails_the_others_quickly(tmp_path, fault, failing):
    """Rank 0 hosts the store: its death is seen as the store going away."""
    res = run_ranks(3, FAULT, tmp_path, timeout=40, env={"FAULT": fault, "FAULT_RANK": str(failing)})
    assert not res.timed_out, res.stderr
    assert res.codes[failing] != 0
    for r in {0, 1, 2} - {failing}:
        status = res.values[r][1]
        assert status[0] == "failed", (r, status, res.stderr[r][-2000:])
        assert status[1] == "DistBackendError" and isinstance(status[2], str)
        assert f"rank {failing}" in status[2], status[2]
        assert status[3] < 10, status


def test_an_absent_rank_times_out(tmp_path):
    body = FAULT
    res = run_ranks(2, body, tmp_path, timeout=60, env={"FAULT": "absent"},
                    init={"backend": "gloo", "timeout": __import__("datetime").timedelta(seconds=2)})
    status = res.values[0][1]
    assert status[0] == "failed" and "timed out after 2 s" in status[2], status
    assert 1.5 < status[3] < 8


MISMATCH = """
def main(rank, n):
    x = torch.ones(4 + rank)   # different sizes on the two ranks
    try:
        dist.all_reduce(x)
    except RuntimeError as e:
        return type(e).__name__, str(e)
    return "no error", x.tolist()
"""


def test_mismatched_shapes_are_detected_in_debug_mode(tmp_path):
    for name, msg in run_ranks(2, MISMATCH, tmp_path, env={"TORCH_DISTRIBUTED_DEBUG": "DETAIL"}, timeout=60).ok():
        assert name == "DistBackendError" and "mismatch" in msg.lower(), msg


def _mpiexec():
    import shutil

    for d in (os.path.dirname(sys.executable), os.path.join(sys.prefix, "bin")):
        if os.path.exists(os.path.join(d, "mpiexec")):
            return os.path.join(d, "mpiexec")
    return shutil.which("mpiexec")


@pytest.mark.skipif(_mpiexec() is None, reason="needs mpiexec (pip install mpich)")
def test_mpiexec_launch(tmp_path):
    """mpiexec -n 3 python script.py: rank and world size come from MPI's own launcher."""
    import subprocess

    script = tmp_path / "m.py"
    script.write_text("import minitorch as torch, minitorch.distributed as dist\n"
                      "dist.init_process_group('mpi')\n"
                      "x = torch.tensor([dist.get_rank() + 1.0]); dist.all_reduce(x)\n"
                      "import os; os.write(1, f'result {dist.get_rank()} {dist.get_world_size()} {x.item()}\\n'.encode())\n")
    env = {k: v for k, v in os.environ.items() if k not in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE")}
    out = subprocess.run([_mpiexec(), "-n", "3", sys.executable, str(script)], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    import re

    found = sorted(re.findall(r"result (\d) (\d) (\S+)", out.stdout))  # one write per process: whole lines
    assert found == [(str(r), "3", "6.0") for r in range(3)], out.stdout


def test_two_nodes_on_one_host(tmp_path):
    """Ranks on different (launcher) nodes talk through MPI's network module instead of shared memory."""
    res = run_ranks(2, COLLECTIVES, tmp_path, timeout=120, per_rank_env={0: {"GROUP_RANK": "0"}, 1: {"GROUP_RANK": "1"}})
    for rank, out in enumerate(res.ok()):
        np.testing.assert_allclose(out["all_reduce", "float32", "SUM"], expected_reduce("SUM", "float32", 2))
        np.testing.assert_array_equal(out["all_gather", "int64"], np.stack([rank_data(r, "int64") for r in range(2)]))


DROPPED_AND_FUTURES = """
import gc
def main(rank, n):
    out = {}
    y = (torch.arange(6.).view(2, 3) + rank).t()       # non-contiguous: reduced in a staging copy
    dist.all_reduce(y, async_op=True)                   # the Work is dropped at once
    gc.collect()
    dist.barrier()                                      # a later collective finishes the dropped one
    out["dropped"] = y.tolist()
    x = torch.ones(3) * (rank + 1)
    fut = dist.all_reduce(x, async_op=True).get_future()
    doubled = fut.then(lambda f: [t * 2 for t in f.value()])
    out["future"] = [t.tolist() for t in fut.wait()]
    out["then"] = [t.tolist() for t in doubled.wait()]
    out["done"] = fut.done() and doubled.done()
    return out
"""


def test_dropped_async_work_and_futures(tmp_path):
    for out in run_ranks(2, DROPPED_AND_FUTURES, tmp_path).ok():
        want = (np.arange(6.).reshape(2, 3) * 2 + 1).T.tolist()
        assert out["dropped"] == want
        assert out["future"] == [[3.0, 3.0, 3.0]] and out["then"] == [[6.0, 6.0, 6.0]] and out["done"]


def test_futures_without_distributed():
    from minitorch.futures import Future, collect_all, wait_all

    f = Future()
    seen = []
    g = f.then(lambda fut: fut.value() + 1)
    f.add_done_callback(lambda fut: seen.append(fut.value()))
    assert not f.done()
    f.set_result(41)
    assert f.done() and seen == [41] and g.wait() == 42
    with pytest.raises(RuntimeError, match="only be marked completed once"):
        f.set_result(1)
    e = Future()
    e.set_exception(ValueError("bad"))
    with pytest.raises(ValueError, match="bad"):
        e.wait()
    assert wait_all([f, g]) == [41, 42]
    assert collect_all([f, g]).wait() == [f, g]


def test_multiprocessing_spawn_forms_a_world(tmp_path):
    import _mp_workers
    from _dist_harness import free_port

    import minitorch.multiprocessing as mp

    mp.spawn(_mp_workers.distributed_all_reduce, args=(free_port(), 3, str(tmp_path)), nprocs=3, join=True)
    got = sorted((tmp_path / f"{i}.txt").read_text() for i in range(3))
    assert got == [f"{i} 3 6.0" for i in range(3)]

"""minitorch.multiprocessing: the standard multiprocessing names plus torch's spawn /
start_processes / ProcessContext and their exceptions. The children are in _mp_workers.py."""
import multiprocessing
import os
import time

import pytest

import minitorch.multiprocessing as mp

import _mp_workers as w
from _mp_workers import alive

TIMEOUT = 20  # seconds; the failure tests must end well within it


def pids(out, n):
    return [int(open(os.path.join(out, f"{i}.pid")).read()) for i in range(n)]


def test_names():
    for name in multiprocessing.__all__:
        assert getattr(mp, name) is getattr(multiprocessing, name), name
        assert name in mp.__all__
    assert mp.get_context is multiprocessing.get_context and mp.set_start_method is multiprocessing.set_start_method
    assert issubclass(mp.ProcessRaisedException, mp.ProcessException)
    assert issubclass(mp.ProcessExitedException, mp.ProcessException)
    e = mp.ProcessExitedException("m", error_index=1, error_pid=2, exit_code=-9, signal_name="SIGKILL")
    assert (e.error_index, e.error_pid, e.exit_code, e.signal_name, str(e)) == (1, 2, -9, "SIGKILL", "m")
    import pickle
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is mp.ProcessExitedException and (e2.exit_code, e2.signal_name) == (-9, "SIGKILL")


def test_sharing_strategies():
    strategies = mp.get_all_sharing_strategies()
    assert mp.get_sharing_strategy() in strategies
    old = mp.get_sharing_strategy()
    try:
        for s in strategies:
            mp.set_sharing_strategy(s)
            assert mp.get_sharing_strategy() == s
        with pytest.raises(AssertionError):
            mp.set_sharing_strategy("carrier_pigeon")
    finally:
        mp.set_sharing_strategy(old)


def test_matches_torch_names():
    tmp = pytest.importorskip("torch.multiprocessing")
    assert set(tmp.__all__) == set(mp.__all__)
    for name in ["spawn", "start_processes", "ProcessContext", "ProcessRaisedException",
                 "ProcessExitedException", "SpawnContext", "ENV_VAR_PARALLEL_START"]:
        assert hasattr(tmp, name) and hasattr(mp, name), name
    assert mp.get_all_sharing_strategies() == tmp.get_all_sharing_strategies()
    assert mp.ENV_VAR_PARALLEL_START == tmp.ENV_VAR_PARALLEL_START


def test_spawn_results_in_files(tmp_path):
    assert mp.spawn(w.write_result, args=(str(tmp_path), 10), nprocs=3) is None
    got = {}
    for i in range(3):
        value, pid = open(tmp_path / f"{i}.txt").read().split()
        got[i] = (int(value), int(pid))
    assert [got[i][0] for i in range(3)] == [0, 10, 20]
    assert len({pid for _, pid in got.values()} | {os.getpid()}) == 4  # three separate children


def test_spawn_results_in_queue():
    q = mp.get_context("spawn").SimpleQueue()
    mp.spawn(w.put_result, args=(q,), nprocs=3)
    assert sorted(q.get()[:2] for _ in range(3)) == [(0, 0), (1, 1), (2, 4)]


def test_child_exception(tmp_path):
    t0 = time.monotonic()
    with pytest.raises(mp.ProcessRaisedException) as info:
        mp.spawn(w.raise_in_one, args=(str(tmp_path), 3), nprocs=3)
    assert time.monotonic() - t0 < TIMEOUT
    e = info.value
    msg = str(e)
    assert "-- Process 1 terminated with the following error:" in msg
    assert "Traceback (most recent call last):" in msg
    assert "ValueError: bad value in child 1" in msg and "raise_in_one" in msg
    children = pids(tmp_path, 3)
    assert e.error_index == 1 and e.error_pid == children[1]
    assert not [p for p in children if alive(p)]  # the sleeping ones were terminated


def test_child_exit_code(tmp_path):
    t0 = time.monotonic()
    with pytest.raises(mp.ProcessExitedException) as info:
        mp.spawn(w.exit_in_one, args=(str(tmp_path), 2, 7), nprocs=2)
    assert time.monotonic() - t0 < TIMEOUT
    e = info.value
    assert (e.error_index, e.exit_code, e.signal_name) == (0, 7, None)
    assert str(e) == "process 0 terminated with exit code 7"
    children = pids(tmp_path, 2)
    assert e.error_pid == children[0] and not [p for p in children if alive(p)]


def test_child_killed_by_signal(tmp_path):
    with pytest.raises(mp.ProcessExitedException) as info:
        mp.spawn(w.kill_self, args=(str(tmp_path), 2), nprocs=2)
    e = info.value
    assert (e.error_index, e.exit_code, e.signal_name) == (1, -9, "SIGKILL")
    assert str(e) == "process 1 terminated with signal SIGKILL"
    assert not [p for p in pids(tmp_path, 2) if alive(p)]


def test_join_false():
    ctx = mp.spawn(w.sleep_then_exit, args=(0.5,), nprocs=2, join=False)
    assert isinstance(ctx, mp.ProcessContext)
    assert len(ctx.processes) == 2 and ctx.pids() == [p.pid for p in ctx.processes]
    assert ctx.join(timeout=0.01) is False  # still running
    t0 = time.monotonic()
    while not ctx.join(timeout=TIMEOUT):
        assert time.monotonic() - t0 < TIMEOUT
    assert all(p.exitcode == 0 for p in ctx.processes)
    assert ctx.join() is True  # joining again is fine


def test_join_false_failure(tmp_path):
    ctx = mp.start_processes(w.exit_in_one, args=(str(tmp_path), 2, 3), nprocs=2, join=False, start_method="spawn")
    with pytest.raises(mp.ProcessExitedException) as info:
        while not ctx.join(timeout=TIMEOUT):
            pass
    assert info.value.exit_code == 3
    assert all(not p.is_alive() for p in ctx.processes)


def test_start_processes_fork(tmp_path):
    mp.start_processes(w.write_result, args=(str(tmp_path), 2), nprocs=2, start_method="fork")
    assert sorted(open(tmp_path / f"{i}.txt").read().split()[0] for i in range(2)) == ["0", "2"]


def test_spawn_other_start_method_warns(tmp_path):
    with pytest.warns(FutureWarning, match="only supports start_method=spawn"):
        mp.spawn(w.write_result, args=(str(tmp_path), 1), nprocs=1, start_method="fork")
    assert open(tmp_path / "0.txt").read().split()[0] == "0"

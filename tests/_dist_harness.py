"""Runs a piece of code in N processes that form a minitorch.distributed world, for the distributed tests.

run_ranks(n, body) writes `body` (source defining main(rank, world_size) -> picklable result) to a file,
starts n python processes with torchrun's environment (MASTER_ADDR/PORT, RANK, WORLD_SIZE, LOCAL_RANK),
each calling init_process_group(init) unless init is None, then main; returns a Result with every rank's
return value (or exception text), exit code and stderr. Processes that outlive `timeout` are killed and
reported, so a hang fails the test instead of stalling the suite.
"""
import os
import pickle
import socket
import subprocess
import sys
import textwrap
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BOOT = """
import datetime, os, pickle, sys, traceback
sys.path.insert(0, {tests!r})
import minitorch as torch
import minitorch.distributed as dist
{body}
if __name__ == "__main__":
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    init = {init!r}
    if init is not None:
        dist.init_process_group(**init)
    out = os.path.join({tmp!r}, f"rank{{rank}}.pkl")
    try:
        value = ("ok", main(rank, world))
    except BaseException as e:
        value = ("error", f"{{type(e).__name__}}: {{e}}", traceback.format_exc())
        with open(out, "wb") as f:
            pickle.dump(value, f)
        raise
    with open(out, "wb") as f:
        pickle.dump(value, f)
"""


def mpi_available():
    try:
        from minitorch.distributed import _mpi

        return _mpi.is_available()
    except Exception:
        return False


requires_mpi = pytest.mark.skipif(not mpi_available(), reason="needs an MPI library (pip install mpich)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Result:
    def __init__(self, codes, values, stderr, elapsed, timed_out):
        self.codes, self.values, self.stderr, self.elapsed, self.timed_out = codes, values, stderr, elapsed, timed_out

    def ok(self):
        """Every rank's return value; fails the test with the ranks' stderr otherwise."""
        bad = [r for r, c in enumerate(self.codes) if c != 0 or self.values[r] is None or self.values[r][0] != "ok"]
        if bad or self.timed_out:
            details = "\n".join(f"--- rank {r} (exit {self.codes[r]}): {self.values[r]}\n{self.stderr[r][-3000:]}"
                                for r in range(len(self.codes)))
            pytest.fail(f"ranks {bad} failed (timed out: {self.timed_out}):\n{details}")
        return [v[1] for v in self.values]


def run_ranks(n, body, tmp_path, init={"backend": "gloo"}, timeout=60, env=None, per_rank_env=None):
    tmp = str(tmp_path)
    script = os.path.join(tmp, "worker.py")
    with open(script, "w") as f:
        f.write(BOOT.format(tests=os.path.dirname(os.path.abspath(__file__)), body=textwrap.dedent(body),
                            init=init, tmp=tmp))
    port = free_port()
    procs, logs = [], []
    for r in range(n):
        e = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(r), WORLD_SIZE=str(n),
                 LOCAL_RANK=str(r), LOCAL_WORLD_SIZE=str(n), OMP_NUM_THREADS="1")
        e["PYTHONPATH"] = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), ROOT if _source_tree() else None) if p)
        e.update(env or {})
        e.update((per_rank_env or {}).get(r, {}))
        log = open(os.path.join(tmp, f"stderr{r}.txt"), "w+")
        procs.append(subprocess.Popen([sys.executable, script], env=e, stdout=log, stderr=subprocess.STDOUT))
        logs.append(log)
    start = time.monotonic()
    timed_out = False
    for p in procs:
        left = timeout - (time.monotonic() - start)
        try:
            p.wait(max(left, 0.1))
        except subprocess.TimeoutExpired:
            timed_out = True
            break
    if timed_out:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    elapsed = time.monotonic() - start
    values, stderr = [], []
    for r, log in enumerate(logs):
        log.seek(0)
        stderr.append(log.read())
        log.close()
        path = os.path.join(tmp, f"rank{r}.pkl")
        values.append(pickle.load(open(path, "rb")) if os.path.exists(path) else None)
    return Result([p.returncode for p in procs], values, stderr, elapsed, timed_out)


def _source_tree():
    """True when minitorch is imported from this checkout (not an installed copy)."""
    import minitorch

    return os.path.dirname(os.path.dirname(os.path.abspath(minitorch.__file__))) == ROOT

"""minitorchrun (python -m minitorch.distributed.run) and python -m minitorch.distributed.launch.

Each test starts the launcher as a real subprocess on a worker script written to tmp_path; the
workers dump their environment and argv to JSON files that the test reads back. Failure cases
are bounded in time: the launcher must return (and take its workers with it) within TIMEOUT."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from _dist_harness import _source_tree, free_port
from _mp_workers import alive

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 20

TORCHRUN_VARS = ["RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK",
                 "GROUP_WORLD_SIZE", "ROLE_RANK", "ROLE_WORLD_SIZE", "ROLE_NAME", "MASTER_ADDR",
                 "MASTER_PORT", "TORCHELASTIC_RUN_ID", "TORCHELASTIC_RESTART_COUNT",
                 "TORCHELASTIC_MAX_RESTARTS"]

DUMP = """\
import json, os, sys
with open(os.path.join(os.environ["DUMP_DIR"], os.environ["RANK"] + ".json"), "w") as f:
    json.dump({"env": dict(os.environ), "argv": sys.argv}, f)
"""



def base_env(dump_dir):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PET_", "TORCHELASTIC_")) and k not in TORCHRUN_VARS + ["OMP_NUM_THREADS"]}
    # the minitorch under test: this checkout's only when the tests import it from here (not an installed copy)
    env["PYTHONPATH"] = os.pathsep.join(([REPO] if _source_tree() else []) + [p for p in [os.environ.get("PYTHONPATH")] if p])
    env["DUMP_DIR"] = str(dump_dir)
    return env


def launcher(module="minitorch.distributed.run"):
    return [sys.executable, "-m", module]


def launch(argv, env, cwd=None, module="minitorch.distributed.run", timeout=TIMEOUT):
    t0 = time.monotonic()
    r = subprocess.run(launcher(module) + argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return r, time.monotonic() - t0


def dumps(dump_dir):
    return {int(f[:-5]): json.load(open(os.path.join(dump_dir, f)))
            for f in os.listdir(dump_dir) if f.endswith(".json")}


def added(env, base):
    return {k: v for k, v in env.items() if k not in base}


def script_and_out(tmp_path, name, text):
    """The script written to tmp_path/name and an empty tmp_path/out for what its workers write."""
    p = tmp_path / name
    p.write_text(text)
    out = tmp_path / "out"
    out.mkdir()
    return p, out


@pytest.fixture
def dump_script(tmp_path):
    return script_and_out(tmp_path, "dump.py", DUMP)


def check_ranks(d, nnodes, nproc, node_ranks):
    assert sorted(d) == [n * nproc + lr for n in node_ranks for lr in range(nproc)]
    for rank, rec in d.items():
        e = rec["env"]
        assert e["RANK"] == str(rank)
        assert e["LOCAL_RANK"] == str(rank % nproc)
        assert e["WORLD_SIZE"] == str(nnodes * nproc)
        assert e["LOCAL_WORLD_SIZE"] == str(nproc)
        assert e["GROUP_RANK"] == str(rank // nproc)
        assert e["GROUP_WORLD_SIZE"] == str(nnodes)
        assert e["ROLE_RANK"] == str(rank)
        assert e["ROLE_WORLD_SIZE"] == str(nnodes * nproc)
        assert e["ROLE_NAME"] == "default"
        assert e["TORCHELASTIC_RESTART_COUNT"] == "0"
        assert e["TORCHELASTIC_MAX_RESTARTS"] == "0"
    for var in ("MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_RUN_ID"):
        assert len({rec["env"][var] for rec in d.values()}) == 1, var


def test_nproc_per_node_3_env_and_args(dump_script):
    script, out = dump_script
    env = base_env(out)
    port = free_port()
    r, _ = launch(["--nproc_per_node", "3", "--master_port", str(port), str(script), "a", "--lr", "0.1"], env)
    assert r.returncode == 0, r.stderr
    d = dumps(out)
    check_ranks(d, 1, 3, [0])
    for rec in d.values():
        e = rec["env"]
        assert e["MASTER_ADDR"] == "127.0.0.1" and e["MASTER_PORT"] == str(port)
        assert e["TORCHELASTIC_RUN_ID"] == "none"
        assert e["OMP_NUM_THREADS"] == "1"
        assert e["DUMP_DIR"] == str(out)  # the launcher's own environment is passed on
        assert rec["argv"] == [str(script), "a", "--lr", "0.1"]
    assert "Setting OMP_NUM_THREADS environment variable for each process to be 1" in r.stderr


def test_omp_num_threads_kept_and_single_worker(dump_script):
    script, out = dump_script
    env = base_env(out)
    env["OMP_NUM_THREADS"] = "4"
    r, _ = launch(["--nproc-per-node=2", str(script)], env)
    assert r.returncode == 0, r.stderr
    assert all(rec["env"]["OMP_NUM_THREADS"] == "4" for rec in dumps(out).values())
    assert "Setting OMP_NUM_THREADS" not in r.stderr
    del env["OMP_NUM_THREADS"]
    for f in os.listdir(out):
        os.unlink(out / f)
    r, _ = launch([str(script)], env)  # one worker: no OMP_NUM_THREADS, no warning
    assert r.returncode == 0, r.stderr
    d = dumps(out)
    check_ranks(d, 1, 1, [0])
    assert "OMP_NUM_THREADS" not in d[0]["env"] and "OMP_NUM_THREADS" not in r.stderr


def test_standalone(dump_script):
    script, out = dump_script
    r, _ = launch(["--standalone", "--nproc_per_node", "2", "--master_port", "1", str(script)], base_env(out))
    assert r.returncode == 0, r.stderr
    d = dumps(out)
    check_ranks(d, 1, 2, [0])
    e = d[0]["env"]
    assert e["MASTER_ADDR"] == "localhost"
    assert 0 < int(e["MASTER_PORT"]) < 65536 and e["MASTER_PORT"] != "1"
    assert len(e["TORCHELASTIC_RUN_ID"]) == 36  # a uuid4


def test_rdzv_endpoint_sets_master(dump_script):
    script, out = dump_script
    port = free_port()
    r, _ = launch(["--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{port}", "--rdzv_id", "job7",
                   "--rdzv_conf", "timeout=30", "--nproc_per_node", "2", str(script)], base_env(out))
    assert r.returncode == 0, r.stderr
    d = dumps(out)
    check_ranks(d, 1, 2, [0])
    assert (d[1]["env"]["MASTER_ADDR"], d[1]["env"]["MASTER_PORT"]) == ("127.0.0.1", str(port))
    assert d[1]["env"]["TORCHELASTIC_RUN_ID"] == "job7"


def test_two_nodes_on_localhost(dump_script):
    script, out = dump_script
    env = base_env(out)
    port = free_port()
    procs = [subprocess.Popen(launcher() + ["--nnodes", "2", "--node_rank", str(n), "--nproc_per_node", "2",
                                            "--master_addr", "127.0.0.1", "--master_port", str(port), str(script)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n in (0, 1)]
    for p in procs:
        _, err = p.communicate(timeout=TIMEOUT)
        assert p.returncode == 0, err
    d = dumps(out)
    check_ranks(d, 2, 2, [0, 1])
    assert {rec["env"]["MASTER_PORT"] for rec in d.values()} == {str(port)}


def test_module(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "dumpmod.py").write_text(DUMP)
    out = tmp_path / "out"
    out.mkdir()
    r, _ = launch(["--nproc_per_node", "2", "-m", "pkg.dumpmod", "x", "y"], base_env(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    d = dumps(out)
    check_ranks(d, 1, 2, [0])
    assert d[1]["argv"][1:] == ["x", "y"] and d[1]["argv"][0].endswith("dumpmod.py")


def test_no_python(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    sh = tmp_path / "job.sh"
    sh.write_text('#!/bin/sh\nenv > "$DUMP_DIR/$RANK.env"\necho "$@" > "$DUMP_DIR/$RANK.args"\n')
    sh.chmod(0o755)
    r, _ = launch(["--no_python", "--nproc_per_node", "2", str(sh), "p", "q"], base_env(out))
    assert r.returncode == 0, r.stderr
    for rank in (0, 1):
        env = dict(line.split("=", 1) for line in (out / f"{rank}.env").read_text().splitlines() if "=" in line)
        assert env["RANK"] == env["LOCAL_RANK"] == str(rank) and env["WORLD_SIZE"] == "2"
        assert (out / f"{rank}.args").read_text().strip() == "p q"
    r, _ = launch(["--no_python", "-m", "--nproc_per_node", "2", str(sh)], base_env(out))
    assert r.returncode == 1 and "--no-python" in r.stderr


def test_local_rank_macro(dump_script):
    script, out = dump_script
    r, _ = launch(["--nproc_per_node", "2", str(script), "--gpu=${local_rank}"], base_env(out))
    assert r.returncode == 0, r.stderr
    assert [dumps(out)[i]["argv"][1] for i in (0, 1)] == ["--gpu=0", "--gpu=1"]


def test_launch_passes_local_rank(dump_script):
    script, out = dump_script
    r, _ = launch(["--nproc_per_node", "2", str(script), "z"], base_env(out), module="minitorch.distributed.launch")
    assert r.returncode == 0, r.stderr
    d = dumps(out)
    check_ranks(d, 1, 2, [0])
    assert [d[i]["argv"][1:] for i in (0, 1)] == [["--local-rank=0", "z"], ["--local-rank=1", "z"]]
    assert "FutureWarning" in r.stderr and "minitorch.distributed.launch is deprecated" in r.stderr
    for f in os.listdir(out):
        os.unlink(out / f)
    r, _ = launch(["--use_env", "--nproc_per_node", "2", str(script), "z"], base_env(out),
                  module="minitorch.distributed.launch")
    assert r.returncode == 0, r.stderr
    assert dumps(out)[1]["argv"][1:] == ["z"]
    r, _ = launch(["--no_python", "echo"], base_env(out), module="minitorch.distributed.launch")
    assert r.returncode == 1 and "--use-env" in r.stderr


def test_help_and_bad_options(dump_script):
    script, out = dump_script
    env = base_env(out)
    r, _ = launch(["-h"], env)
    assert r.returncode == 0 and "--nproc-per-node" in r.stdout and "--nproc_per_node" in r.stdout
    r, _ = launch(["--nnodes", "1:2", str(script)], env)
    assert r.returncode == 1 and "elastic" in r.stderr and "1:2" in r.stderr
    r, _ = launch(["--max_restarts", "2", str(script)], env)
    assert r.returncode == 1 and "max-restarts" in r.stderr
    r, _ = launch(["--nproc_per_node", "several", str(script)], env)
    assert r.returncode == 1 and "Unsupported nproc_per_node value: several" in r.stderr
    r, _ = launch(["--nnodes", "2", "--node_rank", "2", str(script)], env)
    assert r.returncode == 1 and "node-rank" in r.stderr
    r, _ = launch(["--nnodes", "2:2", "--nproc_per_node", "cpu", "--master_port", "29999", str(script)], env)
    assert r.returncode == 0, r.stderr
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert len(dumps(out)) == ncpu and dumps(out)[0]["env"]["WORLD_SIZE"] == str(2 * ncpu)


def test_tee_and_redirects(tmp_path):
    script = tmp_path / "hello.py"
    script.write_text("import os, sys\nprint('out', os.environ['RANK'])\nprint('err', os.environ['RANK'], file=sys.stderr)\n")
    logs = tmp_path / "logs"
    r, _ = launch(["--nproc_per_node", "2", "--tee", "3", "--log_dir", str(logs), str(script)], base_env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "[default0]:out 0" in r.stdout and "[default1]:out 1" in r.stdout and "[default1]:err 1" in r.stderr
    (run_dir,) = os.listdir(logs)
    assert open(logs / run_dir / "attempt_0" / "1" / "stdout.log").read() == "out 1\n"
    assert open(logs / run_dir / "attempt_0" / "0" / "stderr.log").read() == "err 0\n"
    logs2 = tmp_path / "logs2"
    r, _ = launch(["--nproc_per_node", "2", "-r", "1", "--local_ranks_filter", "1", "--log_dir", str(logs2),
                   str(script)], base_env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "out" not in r.stdout and "err 1" in r.stderr and "err 0" not in r.stderr
    (run_dir,) = os.listdir(logs2)
    assert open(logs2 / run_dir / "attempt_0" / "0" / "stdout.log").read() == "out 0\n"


@pytest.mark.parametrize("flags", [["--nproc_per_node", "2", "--master_port", "free"],
                                   ["--standalone", "--nproc_per_node", "2"]])
def test_matches_torchrun(dump_script, tmp_path, flags):
    pytest.importorskip("torch")
    script, out = dump_script
    env = base_env(out)
    env["TMPDIR"] = str(tmp_path)  # torchrun leaves its log directory behind
    flags = [str(free_port()) if f == "free" else f for f in flags]
    got = {}
    for module in ("minitorch.distributed.run", "torch.distributed.run"):
        for f in os.listdir(out):
            os.unlink(out / f)
        r, _ = launch(flags + [str(script), "arg"], env, module=module, timeout=60)
        assert r.returncode == 0, r.stderr
        got[module] = dumps(out)
    mine, theirs = got["minitorch.distributed.run"], got["torch.distributed.run"]
    assert sorted(mine) == sorted(theirs) == [0, 1]
    # The error file is a temp path; minitorchrun hosts no store, so its
    # TORCHELASTIC_USE_AGENT_STORE is False; ports and run ids are random in standalone mode.
    skip = {"TORCHELASTIC_ERROR_FILE", "TORCHELASTIC_USE_AGENT_STORE"}
    if "--standalone" in flags:
        skip |= {"MASTER_PORT", "TORCHELASTIC_RUN_ID"}
    for rank in mine:
        a, b = added(mine[rank]["env"], env), added(theirs[rank]["env"], env)
        assert set(a) == set(b)
        assert {k: v for k, v in a.items() if k not in skip} == {k: v for k, v in b.items() if k not in skip}
        assert mine[rank]["argv"] == theirs[rank]["argv"]
    assert mine[0]["env"]["TORCHELASTIC_USE_AGENT_STORE"] == "False"


# ---------------------------------------------------------------- failures, signals



def wait_for(path_list, timeout=TIMEOUT):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if all(os.path.exists(p) for p in path_list):
            return
        time.sleep(0.05)
    raise AssertionError(f"workers did not start: {path_list}")


FAIL = """\
import os, signal, subprocess, sys, time
rank, out = int(os.environ["RANK"]), os.environ["DUMP_DIR"]
child = subprocess.Popen(["sleep", "600"])           # a grandchild: it must go with its worker
with open(os.path.join(out, f"{rank}.pids.tmp"), "w") as f:
    f.write(f"{os.getpid()} {child.pid}")
os.rename(os.path.join(out, f"{rank}.pids.tmp"), os.path.join(out, f"{rank}.pids"))
mode = sys.argv[1]
if mode == "ignore_term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if rank == 1 and mode != "sleep":
    while not os.path.exists(os.path.join(out, "0.pids")):
        time.sleep(0.02)
    if mode in ("exit3", "ignore_term"):
        sys.exit(3)
    if mode == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
time.sleep(600)
"""


def pids(out, n):
    wait_for([os.path.join(out, f"{r}.pids") for r in range(n)])
    return [int(x) for r in range(n) for x in open(os.path.join(out, f"{r}.pids")).read().split()]


@pytest.fixture
def fail_script(tmp_path):
    return script_and_out(tmp_path, "trainer.py", FAIL)


def test_worker_exit_code_stops_the_others(fail_script):
    script, out = fail_script
    r, took = launch(["--nproc_per_node", "3", str(script), "exit3"], base_env(out))
    assert took < TIMEOUT
    assert r.returncode == 1
    assert "trainer.py FAILED" in r.stderr
    root = r.stderr.split("Root Cause (first observed failure):")[1]
    assert "rank      : 1 (local_rank: 1)" in root and "exitcode  : 3 (pid:" in root
    all_pids = pids(out, 3)
    assert f"(pid: {all_pids[2]})" in root  # worker 1's pid
    assert "exitcode  : -15" in r.stderr  # the terminated ones are listed too, as torchrun does
    assert not [p for p in all_pids if alive(p)]


def test_worker_killed_by_signal(fail_script):
    script, out = fail_script
    r, took = launch(["--nproc_per_node", "2", str(script), "sigkill"], base_env(out))
    assert took < TIMEOUT and r.returncode == 1
    root = r.stderr.split("Root Cause (first observed failure):")[1]
    assert "exitcode  : -9" in root and "(SIGKILL)" in root and "Signal 9 (SIGKILL) received by PID" in root
    assert not [p for p in pids(out, 2) if alive(p)]


def test_sigkill_after_shutdown_timeout(fail_script):
    script, out = fail_script
    r, took = launch(["--nproc_per_node", "2", "--shutdown_timeout", "1", str(script), "ignore_term"],
                     base_env(out))  # worker 1 exits 3, worker 0 ignores SIGTERM: SIGKILL after 1 s
    assert r.returncode == 1 and took < TIMEOUT
    assert "forcefully exiting via SIGKILL" in r.stderr
    assert not [p for p in pids(out, 2) if alive(p)]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_to_launcher_is_forwarded(fail_script, sig):
    script, out = fail_script
    p = subprocess.Popen(launcher() + ["--nproc_per_node", "2", str(script), "sleep"], env=base_env(out),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        all_pids = pids(out, 2)
        t0 = time.monotonic()
        p.send_signal(sig)
        _, err = p.communicate(timeout=TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
    assert time.monotonic() - t0 < TIMEOUT
    assert p.returncode == 1
    assert f"got signal: {int(sig)}" in err and f"closing signal {sig.name}" in err
    assert not [q for q in all_pids if alive(q)]


def test_single_failing_worker_and_error_file(tmp_path):
    script = tmp_path / "boom.py"
    script.write_text(textwrap.dedent("""\
        import json, os, sys
        with open(os.environ["TORCHELASTIC_ERROR_FILE"], "w") as f:
            json.dump({"message": {"message": "RuntimeError: boom",
                                   "extraInfo": {"py_callstack": "Traceback: line 1\\nRuntimeError: boom",
                                                 "timestamp": "0"}}}, f)
        sys.exit(5)
        """))
    r, _ = launch([str(script)], base_env(tmp_path))
    assert r.returncode == 1
    assert "boom.py FAILED" in r.stderr and "<NO_OTHER_FAILURES>" in r.stderr
    assert "exitcode  : 5" in r.stderr and "traceback : Traceback: line 1\n  RuntimeError: boom" in r.stderr

"""``python -m minitorch.distributed.run`` (script ``minitorchrun``): torchrun without the elastic agent.

Starts ``--nproc-per-node`` copies of a training script on this node, each with torchrun's
environment (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, GROUP_WORLD_SIZE,
ROLE_RANK, ROLE_WORLD_SIZE, ROLE_NAME, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_*), watches them,
and when one exits non-zero stops the others (SIGTERM to each worker's process group, SIGKILL
after ``--shutdown-timeout`` seconds), prints torchrun's failure summary and exits 1. SIGTERM,
SIGINT, SIGHUP and SIGQUIT sent to the launcher are forwarded to the workers.

Options, their dash and underscore spellings and their ``PET_<NAME>`` environment defaults are
torchrun's. What differs, because there is no elastic agent or rendezvous store here:

* Rendezvous is static: every node is started by hand with its ``--node-rank``; nodes do not wait
  for each other, and ``--nnodes MIN:MAX`` works only with MIN == MAX. ``--rdzv-backend``,
  ``--rdzv-id`` and ``--rdzv-conf`` are checked and otherwise ignored; ``--rdzv-endpoint host[:port]``
  becomes MASTER_ADDR/MASTER_PORT (port 0, ``--standalone``, and a single node given no port or
  endpoint, pick a free local port as torchrun does). No store is hosted on MASTER_PORT, so
  TORCHELASTIC_USE_AGENT_STORE is "False" (rank 0 of the job creates its own).
* ``--max-restarts`` must be 0. ``--start-method``, ``--local-addr``, ``--event-log-handler``,
  ``--logs-specs``, ``--numa-binding`` and the ``--duplicate-*-filters`` are accepted and ignored.
* ``--log-dir``, ``--redirects``, ``--tee`` and ``--local-ranks-filter`` work as in torchrun (logs in
  ``<log_dir>/<run_id>_XXXX/attempt_0/<local_rank>/std{out,err}.log``); ``--run-path`` runs the
  script through ``runpy.run_path`` in a fresh interpreter.
"""

import argparse
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from string import Template

__all__ = [
    "ChildFailedError", "LaunchConfig", "SignalException", "config_from_args",
    "determine_local_world_size", "get_args_parser", "launch", "main", "parse_args",
    "parse_min_max_nnodes", "run",
]

logger = logging.getLogger("minitorch.distributed.run")  # not __main__ under python -m

_NA = "<N/A>"
_OMP_WARNING = (
    "\n*****************************************\n"
    "Setting OMP_NUM_THREADS environment variable for each process to be 1 in default, to avoid "
    "your system being overloaded, please further tune the variable for optimal performance in "
    "your application as needed. \n*****************************************\n")


class SignalException(Exception):
    """Raised in the launcher when it receives one of the handled death signals."""

    def __init__(self, msg, sigval):
        super().__init__(msg)
        self.sigval = sigval


class _Env(argparse.Action):
    """An option whose default comes from ``PET_<DEST>`` when that is set (torchrun's ``env``)."""

    def __init__(self, dest, default=None, required=False, **kwargs):
        default = os.environ.get(f"PET_{dest.upper()}", default)
        super().__init__(dest=dest, default=default, required=required and not default, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)


class _CheckEnv(argparse.Action):
    """A flag that is also on when ``PET_<DEST>`` is a non-zero integer (torchrun's ``check_env``)."""

    def __init__(self, dest, default=False, **kwargs):
        default = bool(int(os.environ.get(f"PET_{dest.upper()}", "1" if default else "0")))
        super().__init__(dest=dest, const=True, default=default, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, True)


def get_args_parser():
    """torchrun's command line (same options, spellings and defaults)."""
    p = argparse.ArgumentParser(description="minitorch distributed launcher (torchrun without the elastic agent)")

    def opt(*names, flag=False, **kw):
        names += tuple("--" + n[2:].replace("-", "_") for n in names if n.startswith("--") and "-" in n[2:])
        p.add_argument(*names, action=_CheckEnv if flag else _Env, **kw)

    opt("--nnodes", type=str, default="1:1", help="Number of nodes, or MIN:MAX with MIN == MAX.")
    opt("--nproc-per-node", type=str, default="1", help="Workers per node: an int, cpu, gpu, xpu or auto.")
    opt("--rdzv-backend", type=str, default="static", help="Rendezvous backend (only static rendezvous is done).")
    opt("--rdzv-endpoint", type=str, default="", help="<host>[:<port>]; becomes MASTER_ADDR/MASTER_PORT.")
    opt("--rdzv-id", type=str, default="none", help="User-defined job id (TORCHELASTIC_RUN_ID).")
    opt("--rdzv-conf", type=str, default="", help="<key1>=<value1>,... (checked, otherwise ignored).")
    opt("--standalone", flag=True, help="Single node on localhost with a free port and a random run id.")
    opt("--max-restarts", type=int, default=0, help="Worker group restarts; only 0 is supported.")
    opt("--monitor-interval", type=float, default=0.1, help="Seconds between checks of the workers.")
    opt("--start-method", type=str, default="spawn", choices=["spawn", "fork", "forkserver"],
        help="Accepted for compatibility; workers are always new processes.")
    opt("--event-log-handler", type=str, default="null", help="Accepted and ignored.")
    opt("--role", type=str, default="default", help="User-defined role for the workers (ROLE_NAME).")
    opt("-m", "--module", flag=True, help="Run the script as a module, as 'python -m'.")
    opt("--no-python", flag=True, help="Execute the script directly instead of with python.")
    opt("--run-path", flag=True, help="Run the script with runpy.run_path (give an absolute path).")
    opt("--log-dir", type=str, default=None, help="Base directory for the workers' log files.")
    opt("-r", "--redirects", type=str, default="0",
        help="Redirect std streams into log files: 0 none, 1 stdout, 2 stderr, 3 both, or e.g. 0:1,1:2 per local rank.")
    opt("-t", "--tee", type=str, default="0", help="Tee std streams into log files and the console (as --redirects).")
    opt("--local-ranks-filter", type=str, default="", help="Show only these local ranks' output on the console, e.g. 0,1.")
    opt("--duplicate-stdout-filters", type=str, default="", help="Accepted and ignored.")
    opt("--duplicate-stderr-filters", type=str, default="", help="Accepted and ignored.")
    opt("--node-rank", type=int, default=0, help="Rank of this node.")
    opt("--master-addr", type=str, default="127.0.0.1", help="Address of the rank 0 node.")
    opt("--master-port", type=int, default=None, help="Port on the rank 0 node. Defaults to 29500.")
    opt("--local-addr", type=str, default=None, help="Accepted and ignored.")
    opt("--logs-specs", type=str, default=None, help="Accepted and ignored.")
    opt("--numa-binding", type=str, default=None, help="Accepted and ignored.")
    opt("--signals-to-handle", type=str, default="SIGTERM,SIGINT,SIGHUP,SIGQUIT",
        help="Signals forwarded to the workers.")
    opt("--shutdown-timeout", type=int, default=None,
        help="Seconds between SIGTERM and SIGKILL when stopping workers "
             "(default: TORCH_ELASTIC_SHUTDOWN_TIMEOUT or 30).")
    opt("--virtual-local-rank", flag=True, help="LOCAL_RANK=0 and one CUDA_VISIBLE_DEVICES entry per worker.")
    p.add_argument("training_script", type=str, help="The training program, followed by its arguments.")
    p.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return p


def parse_args(args):
    return get_args_parser().parse_args(args)


def parse_min_max_nnodes(nnodes):
    parts = nnodes.split(":")
    if len(parts) == 1:
        return int(parts[0]), int(parts[0])
    if len(parts) == 2:
        return int(parts[0]), int(parts[1])
    raise RuntimeError(f'nnodes={nnodes} is not in "MIN:MAX" format')


def _cpu_count():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def determine_local_world_size(nproc_per_node):
    try:
        return int(nproc_per_node)
    except ValueError:
        pass
    if nproc_per_node == "cpu":
        return _cpu_count()
    if nproc_per_node == "gpu":
        from minitorch import cuda
        if not cuda.is_available():
            raise ValueError("Cuda is not available.")
        return cuda.device_count()
    if nproc_per_node == "xpu":
        raise ValueError("Xpu is not available.")
    if nproc_per_node == "auto":
        from minitorch import accelerator
        return accelerator.device_count() if accelerator.is_available() else _cpu_count()
    raise ValueError(f"Unsupported nproc_per_node value: {nproc_per_node}")


def _parse_rdzv_conf(text):
    conf = {}
    for kv in filter(None, text.strip() and text.strip().split(",")):
        key, *value = kv.split("=", 1)
        key = key.strip()
        if not key:
            raise ValueError("The rendezvous configuration string must be in format "
                             "<key1>=<value1>,...,<keyN>=<valueN>.")
        if not value or not value[0].strip():
            raise ValueError(f"The rendezvous configuration option '{key}' must have a value specified.")
        conf[key] = value[0].strip()
    return conf


def _parse_endpoint(endpoint, default_port):
    endpoint = endpoint.strip()
    if endpoint[0] == "[" and endpoint[-1] == "]":
        host, rest = endpoint, []
    else:
        host, *rest = endpoint.rsplit(":", 1)
    if len(host) > 1 and host[0] == "[" and host[-1] == "]":
        host = host[1:-1]
    port = default_port
    if rest:
        if not re.match(r"^[0-9]{1,5}$", rest[0]) or int(rest[0]) >= 2 ** 16:
            raise ValueError(f"The port number of the rendezvous endpoint '{endpoint}' must be an "
                             "integer between 0 and 65536.")
        port = int(rest[0])
    if not re.match(r"^[\w\.:-]+$", host):
        raise ValueError(f"The hostname of the rendezvous endpoint '{endpoint}' must be a dot-separated "
                         "list of labels, an IPv4 address, or an IPv6 address.")
    return host, port


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


_STD_VALUE, _STD_MAP = re.compile(r"^[0-3]$"), re.compile(r"^[0-9]+:[0-3](,[0-9]+:[0-3])*$")


def _parse_std(value):
    """0 none, 1 stdout, 2 stderr, 3 both; or a per-local-rank mapping such as "0:3,1:0"."""
    if _STD_VALUE.match(value):
        return int(value)
    if _STD_MAP.match(value):
        return {int(i): int(v) for i, v in (m.split(":") for m in value.split(","))}
    raise ValueError(f"{value} does not match: <{_STD_VALUE.pattern}> or <{_STD_MAP.pattern}>")


@dataclass
class LaunchConfig:
    nnodes: int = 1
    nproc_per_node: int = 1
    node_rank: int = 0
    master_addr: str = "127.0.0.1"
    master_port: int = 29500
    run_id: str = "none"
    role: str = "default"
    max_restarts: int = 0
    monitor_interval: float = 0.1
    shutdown_timeout: float = 30.0
    log_dir: object = None
    redirects: object = 0
    tee: object = 0
    local_ranks_filter: object = None
    signals_to_handle: str = "SIGTERM,SIGINT,SIGHUP,SIGQUIT"
    virtual_local_rank: bool = False
    omp_num_threads: object = None


def config_from_args(args):
    """Resolve the parsed options into ``(LaunchConfig, command, entrypoint name)``.

    The command is the worker's argv; ``${local_rank}`` in it is replaced per worker."""
    min_nodes, max_nodes = parse_min_max_nnodes(args.nnodes)
    if not 0 < min_nodes <= max_nodes:
        raise ValueError(f"min_nodes must be > 0 and <= max_nodes, got min_nodes={min_nodes}, max_nodes={max_nodes}")
    if min_nodes != max_nodes:
        raise ValueError(f"--nnodes={args.nnodes}: elastic node ranges are not supported by minitorchrun; "
                         "give a fixed number of nodes (N or N:N)")
    if args.max_restarts < 0:
        raise ValueError("max_restarts must be >= 0")
    if args.max_restarts > 0:
        raise ValueError(f"--max-restarts={args.max_restarts}: restarting workers is not supported by "
                         "minitorchrun (no elastic agent); use --max-restarts=0")
    if not 0 <= args.node_rank < max_nodes:
        raise ValueError(f"--node-rank={args.node_rank} must be in [0, {max_nodes}) for --nnodes={args.nnodes}")
    conf = _parse_rdzv_conf(args.rdzv_conf)
    if "rank" in conf and conf["rank"] != str(args.node_rank):
        raise ValueError(f"--rdzv-conf rank={conf['rank']} contradicts --node-rank={args.node_rank}")
    nproc = determine_local_world_size(args.nproc_per_node)
    if nproc < 1:
        raise ValueError(f"nproc_per_node must be >= 1, got {nproc}")

    run_id, addr, port = args.rdzv_id, args.master_addr, args.master_port
    if args.standalone or (args.rdzv_backend == "static" and not args.rdzv_endpoint
                           and port is None and max_nodes == 1):
        run_id, addr, port = str(uuid.uuid4()), "localhost", _free_port()
    elif args.rdzv_endpoint:
        addr, port = _parse_endpoint(args.rdzv_endpoint, -1 if args.rdzv_backend == "static" else 29400)
        if port == -1:
            raise ValueError(f"port is missing in endpoint: {args.rdzv_endpoint}. Try to specify --master-port")
        port = port or _free_port()
    elif port is None:
        port = 29500

    ranks = None
    if args.local_ranks_filter:
        try:
            ranks = set(map(int, args.local_ranks_filter.split(",")))
        except ValueError:
            raise ValueError("--local_ranks_filter must be a comma-separated list of integers "
                             "e.g. --local_ranks_filter=0,1,2") from None
    timeout = args.shutdown_timeout
    if timeout is None:
        timeout = float(os.environ.get("TORCH_ELASTIC_SHUTDOWN_TIMEOUT", 30))
    config = LaunchConfig(
        nnodes=max_nodes, nproc_per_node=nproc, node_rank=args.node_rank, master_addr=addr,
        master_port=port, run_id=run_id, role=args.role, max_restarts=args.max_restarts,
        monitor_interval=args.monitor_interval, shutdown_timeout=timeout, log_dir=args.log_dir,
        redirects=_parse_std(args.redirects), tee=_parse_std(args.tee), local_ranks_filter=ranks,
        signals_to_handle=args.signals_to_handle, virtual_local_rank=args.virtual_local_rank,
        omp_num_threads="1" if "OMP_NUM_THREADS" not in os.environ and nproc > 1 else None)

    use_env = getattr(args, "use_env", True)  # only minitorch.distributed.launch has --use-env
    if args.no_python and not use_env:
        raise ValueError("When using the '--no-python' flag, you must also set the '--use-env' flag.")
    python = os.getenv("PYTHON_EXEC", sys.executable)
    if args.run_path:
        cmd, name = [python, "-u", "-c", "import runpy, sys; sys.argv = sys.argv[1:]; "
                     "runpy.run_path(sys.argv[0], run_name='__main__')", args.training_script], "run_script_path"
    elif not args.no_python:
        cmd = [python, "-u"] + (["-m"] if args.module else []) + [args.training_script]
        name = args.training_script
    elif args.module:
        raise ValueError("Don't use both the '--no-python' flag and the '--module' flag at the same time.")
    else:
        cmd, name = [args.training_script], args.training_script
    if not use_env:
        cmd.append("--local-rank=${local_rank}")
    return config, cmd + list(args.training_script_args), name


class _Failure:
    def __init__(self, local_rank, rank, pid, exitcode, error_file, timestamp):
        self.local_rank, self.rank, self.pid, self.exitcode = local_rank, rank, pid, exitcode
        self.error_file, self.timestamp, self.message = _NA, timestamp, ""
        if error_file and os.path.isfile(error_file):
            try:
                with open(error_file) as f:
                    self.message = json.load(f)["message"]
                self.error_file = error_file
            except (OSError, ValueError, KeyError):
                pass
        if not self.message:
            self.message = (f"Signal {-exitcode} ({self.signal_name()}) received by PID {pid}" if exitcode < 0
                            else "To enable traceback see: https://pytorch.org/docs/stable/elastic/errors.html")

    def signal_name(self):
        try:
            return signal.Signals(-self.exitcode).name if self.exitcode < 0 else _NA
        except ValueError:
            return _NA


_FAILURE_TEMPLATE = """[${idx}]:
  time      : ${time}
  host      : ${hostname}
  rank      : ${rank} (local_rank: ${local_rank})
  exitcode  : ${exitcode} (pid: ${pid}) ${signal_name}
  error_file: ${error_file}
  traceback : ${message}"""


class ChildFailedError(Exception):
    """Some workers exited non-zero; the message is torchrun's failure summary."""

    def __init__(self, name, failures):
        self.name, self.failures = name, failures  # {global rank: failure}
        super().__init__(self.format_msg())

    def get_first_failure(self):
        rank = min(self.failures, key=lambda r: self.failures[r].timestamp)
        return rank, self.failures[rank]

    def format_msg(self, boarder_delim="=", section_delim="-"):
        title = f"{self.name} FAILED"
        root_rank, _ = self.get_first_failure()
        root, others, width = "", [], len(title)
        for idx, (rank, f) in enumerate(self.failures.items()):
            msg = f.message
            if isinstance(msg, dict):
                msg = msg.get("extraInfo", {}).get("py_callstack", msg.get("message", _NA)).replace("\n", "\n  ")
            sig = f.signal_name()
            text = Template(_FAILURE_TEMPLATE).substitute(
                idx=idx, time=datetime.fromtimestamp(f.timestamp).isoformat(sep="_", timespec="seconds"),
                hostname=socket.getfqdn(), rank=rank, local_rank=f.local_rank, exitcode=f.exitcode,
                pid=f.pid, signal_name=f" ({sig})" if sig != _NA else "", error_file=f.error_file, message=msg)
            width = max([width] + [len(line) for line in text.split("\n")])
            if rank == root_rank:
                root = text
            else:
                others.append(text)
        width = min(width, 60)
        return "\n".join(["", boarder_delim * width, title, section_delim * width, "Failures:",
                          "\n".join(others or ["  <NO_OTHER_FAILURES>"]), section_delim * width,
                          "Root Cause (first observed failure):", root, boarder_delim * width])


def _launcher_env():
    """The launcher's environment for the workers, less OPENBLAS_THREAD_TIMEOUT when only the
    launcher's own ``import minitorch`` set it (the process's initial environment lacks it)."""
    env = dict(os.environ)
    if "OPENBLAS_THREAD_TIMEOUT" in env:
        try:
            with open("/proc/self/environ", "rb") as f:
                if b"OPENBLAS_THREAD_TIMEOUT=" not in f.read():
                    del env["OPENBLAS_THREAD_TIMEOUT"]
        except OSError:
            pass
    return env


def _worker_env(c, local_rank):
    rank, world = c.node_rank * c.nproc_per_node + local_rank, c.nnodes * c.nproc_per_node
    env = _launcher_env()
    env.update(
        RANK=str(rank), GROUP_RANK=str(c.node_rank), ROLE_RANK=str(rank), ROLE_NAME=c.role,
        LOCAL_WORLD_SIZE=str(c.nproc_per_node), WORLD_SIZE=str(world), GROUP_WORLD_SIZE=str(c.nnodes),
        ROLE_WORLD_SIZE=str(world), MASTER_ADDR=c.master_addr, MASTER_PORT=str(c.master_port),
        TORCHELASTIC_RESTART_COUNT="0", TORCHELASTIC_MAX_RESTARTS=str(c.max_restarts),
        TORCHELASTIC_RUN_ID=c.run_id, TORCHELASTIC_USE_AGENT_STORE="False",
        TORCH_NCCL_ASYNC_ERROR_HANDLING=os.getenv("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1"),
        TORCHELASTIC_SIGNALS_TO_HANDLE=c.signals_to_handle, LOCAL_RANK=str(local_rank))
    if c.omp_num_threads is not None:
        env["OMP_NUM_THREADS"] = c.omp_num_threads
    if c.virtual_local_rank:
        env["LOCAL_RANK"] = "0"
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        gpus = visible.split(",") if visible is not None else None
        if gpus is not None and local_rank >= len(gpus):
            raise ValueError(f"local_rank {local_rank} exceeds available GPUs in CUDA_VISIBLE_DEVICES={visible}")
        env["CUDA_VISIBLE_DEVICES"] = gpus[local_rank].strip() if gpus is not None else str(local_rank)
    return env


def _pump(src, path, console, prefix):
    """--tee: copy a worker's pipe line by line into its log file and, unless filtered, the console."""
    with src, open(path, "wb") as log:
        for line in iter(src.readline, b""):
            log.write(line)
            log.flush()
            if console is not None:
                console.write(prefix + line)
                console.flush()


def _signal_all(procs, sig):
    for p in procs:
        try:
            os.killpg(p.pid, sig) if hasattr(os, "killpg") else p.send_signal(sig)
        except (ProcessLookupError, PermissionError):
            pass


def _close(procs, death_sig, timeout, state):
    """Stop the workers: ``death_sig`` to each process group, SIGKILL to what is left after
    ``timeout`` seconds (or at once on a second launcher signal)."""
    for p in procs:
        if p.poll() is None:
            logger.warning("Sending process %s closing signal %s", p.pid, signal.Signals(death_sig).name)
    _signal_all(procs, death_sig)
    deadline = time.monotonic() + timeout
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline and not state["kill"]:
        time.sleep(0.05)
    for p in procs:
        if p.poll() is None:
            logger.warning("Unable to shutdown process %s via %s, forcefully exiting via SIGKILL",
                           p.pid, signal.Signals(death_sig).name)
    _signal_all(procs, getattr(signal, "SIGKILL", signal.SIGTERM))
    for p in procs:
        p.wait()


def _std_of(spec, local_rank):
    return spec.get(local_rank, 0) if isinstance(spec, dict) else spec


def _streams(c, local_rank, clogdir, files):
    """Popen's stdout and stderr for one worker, and {stream index: (log path, console)} to tee.

    As torchrun: redirected (or tee'd) streams go to ``clogdir/std{out,err}.log``; a rank left out
    by --local-ranks-filter shows nothing on the console."""
    redirect, tee = _std_of(c.redirects, local_rank) | _std_of(c.tee, local_rank), _std_of(c.tee, local_rank)
    hidden = c.local_ranks_filter is not None and local_rank not in c.local_ranks_filter
    popen, tees = [], {}
    for i, (bit, name, console) in enumerate(((1, "stdout", sys.stdout), (2, "stderr", sys.stderr))):
        if redirect & bit and clogdir:
            path = os.path.join(clogdir, f"{name}.log")
            if tee & bit:
                popen.append(subprocess.PIPE)
                tees[i] = (path, None if hidden else getattr(console, "buffer", console))
            else:
                files.append(open(path, "wb"))
                popen.append(files[-1])
        else:
            popen.append(subprocess.DEVNULL if hidden or redirect & bit else None)
    return popen, tees


def launch(config, cmd, name=None):
    """Run ``config.nproc_per_node`` workers of ``cmd``; return when all succeeded, raise
    ChildFailedError when one failed, SignalException when the launcher was signalled."""
    c, n, name = config, config.nproc_per_node, name or cmd[0]
    envs = [_worker_env(c, lr) for lr in range(n)]
    attempt_dir = temp_base = None
    if c.log_dir != os.devnull:
        base = c.log_dir or tempfile.mkdtemp(prefix="minitorchrun_")
        os.makedirs(base, exist_ok=True)
        if not c.log_dir and not any(_std_of(c.redirects, lr) | _std_of(c.tee, lr) for lr in range(n)):
            temp_base = base  # only error files in it: removed at the end
        attempt_dir = os.path.join(tempfile.mkdtemp(prefix=f"{c.run_id}_", dir=base), "attempt_0")
    if c.omp_num_threads is not None:
        sys.stderr.write(_OMP_WARNING)
        sys.stderr.flush()
    prefix = Template(os.environ.get("TORCHELASTIC_LOG_LINE_PREFIX_TEMPLATE", "[${role_name}${local_rank}]:"))

    state = {"closing": False, "kill": False}

    def on_signal(signum, frame):
        if state["closing"]:  # a second signal while stopping: SIGKILL at once
            state["kill"] = True
            return
        raise SignalException(f"Process {os.getpid()} got signal: {signum}", sigval=signal.Signals(signum))

    previous, procs, threads, files = {}, [], [], []
    try:
        for sname in filter(None, (s.strip() for s in c.signals_to_handle.split(","))):
            try:
                previous[getattr(signal, sname)] = signal.signal(getattr(signal, sname), on_signal)
            except (AttributeError, ValueError, OSError):  # unknown here, uncatchable, or not the main thread
                logger.warning("Cannot handle signal %s; it is not forwarded to the workers", sname)
        for lr in range(n):
            clogdir = attempt_dir and os.path.join(attempt_dir, str(lr))
            if clogdir:
                os.makedirs(clogdir)
            envs[lr]["TORCHELASTIC_ERROR_FILE"] = os.path.join(clogdir, "error.json") if clogdir else ""
            (stdout, stderr), tees = _streams(c, lr, clogdir, files)
            argv = [Template(a).safe_substitute(local_rank=str(lr)) for a in cmd]
            p = subprocess.Popen(argv, env=envs[lr], stdout=stdout, stderr=stderr,
                                 start_new_session=hasattr(os, "setsid"))  # own process group
            procs.append(p)
            line_prefix = prefix.safe_substitute(role_name=c.role, rank=envs[lr]["RANK"], local_rank=lr).encode()
            for i, (path, console) in tees.items():
                threads.append(threading.Thread(target=_pump, daemon=True,
                                                args=((p.stdout, p.stderr)[i], path, console, line_prefix)))
                threads[-1].start()
        failed = {}
        while not failed:
            codes = [p.poll() for p in procs]
            if all(code == 0 for code in codes):
                return None
            failed = dict.fromkeys((lr for lr, code in enumerate(codes) if code not in (None, 0)), time.time())
            if not failed:
                time.sleep(c.monitor_interval)
        first = min(failed)
        logger.error("failed (exitcode: %s) local_rank: %s (pid: %s) of binary: %s",
                     procs[first].returncode, first, procs[first].pid, cmd[0])
        state["closing"] = True
        _close(procs, signal.SIGTERM, c.shutdown_timeout, state)
        now, base_rank = time.time(), c.node_rank * n
        raise ChildFailedError(name, {
            base_rank + lr: _Failure(lr, base_rank + lr, p.pid, p.returncode, envs[lr]["TORCHELASTIC_ERROR_FILE"],
                                     failed.get(lr, now))
            for lr, p in enumerate(procs) if p.returncode != 0})
    except SignalException as e:
        state["closing"] = True
        logger.warning("Received %s death signal, shutting down workers", e.sigval)
        _close(procs, e.sigval, c.shutdown_timeout, state)
        raise
    finally:
        state["closing"] = True
        for t in threads:
            t.join(timeout=1.0)
        for f in files:
            f.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if temp_base:
            shutil.rmtree(temp_base, ignore_errors=True)


def _setup_logging():
    if not logger.handlers:
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(logging.Formatter("%(levelname).1s%(asctime)s %(process)d %(name)s] %(message)s",
                                         "%m%d %H:%M:%S"))
        logger.addHandler(h)
        logger.setLevel(os.environ.get("LOGLEVEL", "WARNING").upper())
        logger.propagate = False


def run(args):
    """Launch from parsed options (``parse_args``); raises ChildFailedError/SignalException."""
    config, cmd, name = config_from_args(args)
    return launch(config, cmd, name)


def main(args=None):
    _main(args, parse_args)


def _main(args, parse):
    _setup_logging()
    parsed = parse(args)
    try:
        config, cmd, name = config_from_args(parsed)
    except (ValueError, RuntimeError) as e:
        sys.stderr.write(f"minitorchrun: error: {e}\n")
        sys.exit(1)
    try:
        launch(config, cmd, name)
    except (ChildFailedError, SignalException) as e:
        sys.stderr.write(f"minitorch.distributed.run.{type(e).__name__}: {e}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()

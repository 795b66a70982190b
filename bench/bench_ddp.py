"""Distributed: all-reduce bandwidth and DDP training throughput, minitorch vs the engine and PyTorch.

    python3 bench/bench_ddp.py [--quick] [--part allreduce|ddp|all] [--nproc 2]

Starts its own worker processes (torchrun's environment, one thread each). Rank 0 prints the tables.

allreduce  float32 buffers of 4-256 MB, in place, between the processes: minitorch.distributed.all_reduce
           against MPICH's MPI_Allreduce called directly (ctypes into the same libmpi, the same process) and
           PyTorch's gloo all_reduce. Bus bandwidth = 2 (n-1)/n * bytes / seconds, median of the repeats.
ddp        the tutorial LSTM (LSTM(1, 256) over 100 steps, Linear to 45 classes, cross entropy, Adam; global
           batch 128): samples/s of DistributedDataParallel with --nproc processes x 1 thread against one
           process x --nproc threads on the whole batch (no DDP); DDP with its default buckets (all-reduce
           overlapped with backward) and with one bucket launched at the end of backward (no overlap).
           PyTorch's numbers for the same configurations beside.
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

import _bench  # noqa: E402,F401  (first: picks the built source tree or the installed minitorch)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(args, nproc, extra):
    port, torch_port = free_port(), free_port()
    procs = []
    for r in range(nproc):
        env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(r), WORLD_SIZE=str(nproc),
                   LOCAL_RANK=str(r), OMP_NUM_THREADS="1", TORCH_PORT=str(torch_port))
        procs.append(subprocess.Popen([sys.executable, __file__, "--worker"] + extra, env=env))
    codes = [p.wait() for p in procs]
    if any(codes):
        sys.exit(f"worker exit codes {codes}")


def timed(fn, repeat, barrier):
    times = []
    for _ in range(repeat):
        barrier()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ---- all-reduce bandwidth ------------------------------------------------------------------------------

def bench_allreduce(quick):
    import ctypes

    import numpy as np

    import minitorch
    import minitorch.distributed as dist
    from minitorch.distributed import _mpi

    dist.init_process_group("gloo")
    rank, n = dist.get_rank(), dist.get_world_size()
    lib = ctypes.CDLL(_mpi.find_library(), mode=ctypes.RTLD_GLOBAL)
    lib.MPI_Allreduce.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    try:
        import torch
        import torch.distributed as tdist

        tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{os.environ['TORCH_PORT']}", rank=rank,
                                 world_size=n)
    except ImportError:
        torch = None
    rows = []
    sizes = [4, 16, 64] if quick else [4, 16, 64, 256]
    for mb in sizes:
        count = mb * 2 ** 20 // 4
        repeat = 5 if mb >= 64 else 10
        t = minitorch.ones(count)
        a = np.ones(count, dtype=np.float32)
        # warm up (first touch of the buffers, MPI's shared-memory setup)
        dist.all_reduce(t)
        lib.MPI_Allreduce(ctypes.c_void_p(-1), a.ctypes.data, count, _mpi._DTYPES["float32"], _mpi._OPS["SUM"],
                          _mpi.COMM_WORLD)
        raw_call = lambda: lib.MPI_Allreduce(ctypes.c_void_p(-1), a.ctypes.data, count,  # noqa: E731
                                             _mpi._DTYPES["float32"], _mpi._OPS["SUM"], _mpi.COMM_WORLD)
        cases = [("mt", lambda: dist.all_reduce(t), dist.barrier), ("raw", raw_call, dist.barrier)]
        if torch is not None:
            tx = torch.ones(count)
            tdist.all_reduce(tx)
            cases.append(("torch", lambda: tdist.all_reduce(tx), tdist.barrier))
        times = {name: [] for name, _, _ in cases}
        for _ in range(repeat):  # interleaved, so that the machine's ups and downs hit all three alike
            for name, fn, barrier in cases:
                times[name].append(timed(fn, 1, barrier))
        mt, raw = statistics.median(times["mt"]), statistics.median(times["raw"])
        tt = statistics.median(times["torch"]) if torch is not None else None
        bus = lambda s: 2 * (n - 1) / n * count * 4 / s / 1e9  # noqa: E731
        rows.append([f"{mb} MB", f"{bus(mt):.2f}", f"{bus(raw):.2f}", f"{mt and raw / mt:.2f}",
                     f"{bus(tt):.2f}" if tt else "-", f"{tt / mt:.2f}" if tt else "-"])
    if rank == 0:
        from _bench import print_table

        print(f"\nall_reduce, {n} processes, bus bandwidth GB/s (median of repeats); "
              "ratio > 1: minitorch is faster")
        print_table(["size", "minitorch", "MPI_Allreduce", "minitorch/MPI", "torch gloo", "vs torch"], rows)
    dist.destroy_process_group()


# ---- DDP training step --------------------------------------------------------------------------------

SEQ, HIDDEN, CLASSES, BATCH = 100, 256, 45, 128


def lstm_model(nn, seed_fn):
    seed_fn(0)

    class Tutorial(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(1, HIDDEN, batch_first=True)
            self.drop = nn.Dropout(0.2)
            self.fc = nn.Linear(HIDDEN, CLASSES)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc(self.drop(out[:, -1, :]))

    return Tutorial()


MLP_WIDTH = 2048


def mlp_model(nn, seed_fn):
    """Wide layers: 50 MB of gradients, so communication is as long as the backward pass."""
    seed_fn(0)
    layers = [nn.Linear(SEQ, MLP_WIDTH), nn.ReLU()]
    for _ in range(3):
        layers += [nn.Linear(MLP_WIDTH, MLP_WIDTH), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(MLP_WIDTH, CLASSES))


MODELS = {"lstm": (lstm_model, (SEQ, 1)), "mlp": (mlp_model, (SEQ,))}  # builder, one sample's input shape


def step_time(lib, model, batch, steps, barrier=lambda: None):
    import numpy as np

    rng = np.random.default_rng(1)
    x = lib.tensor(rng.random((batch,) + MODELS[os.environ["BENCH_MODEL"]][1], dtype=np.float32))
    y = lib.tensor(rng.integers(0, CLASSES, batch))
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    step()
    return timed(step, steps, barrier)


def bench_ddp_worker(quick, libname):
    import minitorch

    lib = minitorch
    if libname == "torch":
        import torch as lib
    dist = lib.distributed
    if libname == "torch":
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{os.environ['TORCH_PORT']}",
                                rank=int(os.environ["RANK"]), world_size=int(os.environ["WORLD_SIZE"]))
    else:
        dist.init_process_group("gloo")
    rank, n = dist.get_rank(), dist.get_world_size()
    lib.set_num_threads(1)
    steps = 3 if quick else 8
    out = {}
    make = MODELS[os.environ["BENCH_MODEL"]][0]
    for name, cap in (("overlap", None), ("no_overlap", 1000)):
        model = lib.nn.parallel.DistributedDataParallel(make(lib.nn, lib.manual_seed), bucket_cap_mb=cap)
        out[name] = step_time(lib, model, BATCH // n, steps, dist.barrier)
    if rank == 0:
        with open(os.environ["RESULT_FILE"], "a") as f:
            f.write(f"{libname} {os.environ['BENCH_MODEL']} {out['overlap']} {out['no_overlap']}\n")
    dist.destroy_process_group()


def bench_single(quick, libname, threads):
    import minitorch

    lib = minitorch
    if libname == "torch":
        import torch as lib
    lib.set_num_threads(threads)
    make = MODELS[os.environ["BENCH_MODEL"]][0]
    return step_time(lib, make(lib.nn, lib.manual_seed), BATCH, 3 if quick else 8)


def bench_ddp(args):
    import tempfile

    from _bench import print_table

    result = tempfile.mktemp(suffix=".txt")
    libs = ["minitorch"]
    try:
        import torch  # noqa: F401

        libs.append("torch")
    except ImportError:
        pass
    rows = []
    for model in ("lstm", "mlp"):
        for libname in libs:
            os.environ["RESULT_FILE"], os.environ["BENCH_MODEL"] = result, model
            launch(args, args.nproc, ["--ddp-lib", libname] + (["--quick"] if args.quick else []))
            single = float(subprocess.check_output([sys.executable, __file__, "--single", libname, str(args.nproc)]
                                                   + (["--quick"] if args.quick else []), text=True).split()[-1])
            line = [ln for ln in open(result) if ln.startswith(f"{libname} {model}")][-1].split()
            overlap, no_overlap = float(line[2]), float(line[3])
            rows.append([model, libname, f"{BATCH / single:.0f}", f"{BATCH / overlap:.0f}", f"{BATCH / no_overlap:.0f}",
                         f"{single / overlap:.2f}", f"{no_overlap / overlap:.2f}"])
    print(f"\nDDP training step, global batch {BATCH}, samples/s (1 process x {args.nproc} threads vs {args.nproc} "
          f"processes x 1 thread); lstm: the tutorial LSTM (1 MB of gradients), mlp: {SEQ}-{MLP_WIDTH}x4-{CLASSES} "
          "(50 MB); overlap gain: DDP's buckets against one bucket all-reduced after backward")
    print_table(["model", "library", f"1 proc x {args.nproc} thr", "DDP overlap", "DDP one bucket at end",
                 "DDP/1 proc", "overlap gain"], rows)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--part", default="all", choices=["allreduce", "ddp", "all"])
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--worker", action="store_true")
    p.add_argument("--ddp-lib", default=None)
    p.add_argument("--single", nargs=2, default=None)
    args = p.parse_args()
    if args.single:
        print(bench_single(args.quick, args.single[0], int(args.single[1])))
        return
    if args.worker:
        if args.ddp_lib:
            bench_ddp_worker(args.quick, args.ddp_lib)
        else:
            bench_allreduce(args.quick)
        return
    import platform

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    if args.part in ("allreduce", "all"):
        launch(args, args.nproc, ["--quick"] if args.quick else [])
    if args.part in ("ddp", "all"):
        bench_ddp(args)


if __name__ == "__main__":
    main()

"""GPU micro-benchmarks: minitorch's CUDA backend vs PyTorch on CUDA, in one process.

    python3 bench/bench_gpu.py [--quick]

Workloads: per-op overhead of `x + 2` on a 3-element tensor (ops queued, one synchronise at the
end), elementwise add on 256M floats (GB/s counted as read a, read b, write out) next to a
device-to-device copy, a 4096^2 float32 GEMM (TF32 off on both sides), and the tutorial LSTM text
model's training step (batch 128, seq 100, hidden 256, 1 and 2 layers): both libraries' defaults
(PyTorch: cuDNN; the recurrent GEMMs may use TF32 on both sides, backends.cudnn.allow_tf32), both
in plain float32, and PyTorch without cuDNN; and 100 generated characters at batch 1
(bench/bench_lstm.py's model and loop). Best of a few runs.
ratio = PyTorch time / minitorch time (> 1: minitorch is faster).
"""
import argparse
import os
import sys

import numpy as np

from _bench import bench  # first: picks the built source tree or the installed minitorch
import minitorch as mt
import minitorch.cuda as mcuda

try:
    import torch

    HAVE_TORCH = torch.cuda.is_available()
except Exception:  # noqa: BLE001
    torch = None
    HAVE_TORCH = False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if not mcuda.is_available():
        print("minitorch.cuda is not available; nothing to benchmark")
        return
    print(f"device: {mcuda.get_device_name(0)}; torch.cuda: {HAVE_TORCH}")
    msync = mcuda.synchronize
    tsync = torch.cuda.synchronize if HAVE_TORCH else None
    rows = []

    # 1. per-op overhead
    n_small = 2000 if args.quick else 20000
    x = mt.tensor([1.0, 2.0, 3.0]).to("cuda")
    m = bench(lambda: x + 2, n_small, 5, msync)
    t = None
    if HAVE_TORCH:
        tx = torch.tensor([1.0, 2.0, 3.0], device="cuda")
        t = bench(lambda: tx + 2, n_small, 5, tsync)
    rows.append(("x + 2, 3 elements (us/op)", m * 1e6, t * 1e6 if t else None, (t / m) if t else None))

    # 2. bandwidth: 256M floats
    n = (1 << 26) if args.quick else (1 << 28)
    a = mt.rand(n, device="cuda")
    b = mt.rand(n, device="cuda")
    m = bench(lambda: a + b, 5, 3, msync)
    mc = bench(lambda: a.clone(), 5, 3, msync)
    gb_add = 3 * 4 * n / m / 1e9
    gb_cp = 2 * 4 * n / mc / 1e9
    t = tc = None
    if HAVE_TORCH:
        ta = torch.rand(n, device="cuda")
        tb = torch.rand(n, device="cuda")
        t = bench(lambda: ta + tb, 5, 3, tsync)
        tc = bench(lambda: ta.clone(), 5, 3, tsync)
        del ta, tb
        torch.cuda.empty_cache()
    rows.append((f"add {n >> 20}M floats (GB/s)", gb_add, 3 * 4 * n / t / 1e9 if t else None, (t / m) if t else None))
    rows.append((f"d2d copy {n >> 20}M floats (GB/s)", gb_cp, 2 * 4 * n / tc / 1e9 if tc else None,
                 (tc / mc) if tc else None))
    del a, b
    mcuda.empty_cache()

    # 3. sgemm 4096^2
    k = 2048 if args.quick else 4096
    A = mt.rand(k, k, device="cuda")
    B = mt.rand(k, k, device="cuda")
    m = bench(lambda: A @ B, 5, 3, msync)
    t = None
    if HAVE_TORCH:
        torch.backends.cuda.matmul.allow_tf32 = False
        TA = torch.rand(k, k, device="cuda")
        TB = torch.rand(k, k, device="cuda")
        t = bench(lambda: TA @ TB, 5, 3, tsync)
    fl = 2 * k ** 3
    rows.append((f"sgemm {k}^2 fp32 (TFLOP/s)", fl / m / 1e12, fl / t / 1e12 if t else None, (t / m) if t else None))

    # 4. the tutorial LSTM model: training step and generation
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import bench_lstm as bl

    def lstm_step(lib, layers, sync, tf32=True, cudnn=True):
        """tf32: the recurrent GEMMs may use TF32 (both libraries' default: backends.cudnn.allow_tf32)"""
        lib.backends.cudnn.allow_tf32 = tf32
        if lib is torch:
            torch.backends.cudnn.enabled = cudnn
        lib.manual_seed(0)
        model = bl.make_model(lib, layers).to("cuda")
        model.train()
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = lib.nn.CrossEntropyLoss(reduction="sum")
        rng = np.random.default_rng(0)
        x = lib.tensor(rng.random((bl.BATCH, bl.SEQ, 1), dtype=np.float32)).to("cuda")
        y = lib.tensor(rng.integers(0, bl.VOCAB, bl.BATCH).astype(np.int64)).to("cuda")

        def step():
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()

        t = bench(step, 3 if args.quick else 10, 3, sync)
        lib.backends.cudnn.allow_tf32 = True
        if lib is torch:
            torch.backends.cudnn.enabled = True
        return t

    def lstm_generate(lib, layers, sync, chars):
        lib.manual_seed(0)
        model = bl.make_model(lib, layers).to("cuda")
        model.eval()
        pattern = list(np.random.default_rng(0).integers(0, bl.VOCAB, bl.SEQ))

        def gen():
            p = list(pattern)
            with lib.no_grad():
                for _ in range(chars):
                    x = lib.tensor(np.array(p, dtype=np.float32).reshape(1, bl.SEQ, 1) / bl.VOCAB).to("cuda")
                    p.append(int(model(x).argmax()))
                    p = p[1:]

        return bench(gen, 1, 2, sync)

    for layers in (1, 2):
        m = lstm_step(mt, layers, msync)
        t = lstm_step(torch, layers, tsync) if HAVE_TORCH else None
        rows.append((f"LSTM x{layers} train step (ms)", m * 1e3, t * 1e3 if t else None, (t / m) if t else None))
        m32 = lstm_step(mt, layers, msync, tf32=False)
        t32 = lstm_step(torch, layers, tsync, tf32=False) if HAVE_TORCH else None
        rows.append(("  both float32, no TF32 (ms)", m32 * 1e3, t32 * 1e3 if t32 else None, (t32 / m32) if t32 else None))
        if HAVE_TORCH:
            t2 = lstm_step(torch, layers, tsync, tf32=False, cudnn=False)
            rows.append(("  float32 vs PyTorch without cuDNN", m32 * 1e3, t2 * 1e3, t2 / m32))
    chars = 20 if args.quick else 100
    m = lstm_generate(mt, 1, msync, chars)
    t = lstm_generate(torch, 1, tsync, chars) if HAVE_TORCH else None
    rows.append((f"generate {chars} chars x1 (ms)", m * 1e3, t * 1e3 if t else None, (t / m) if t else None))

    print(f"{'workload':34s} {'minitorch':>12s} {'PyTorch':>12s} {'ratio':>8s}")
    for name, mv, tv, r in rows:
        f = lambda v: f"{v:12.2f}" if v is not None else f"{'-':>12s}"  # noqa: E731
        print(f"{name:34s} {f(mv)} {f(tv)} {(f'{r:8.2f}' if r else '       -')}")
    print(f"memory: allocated {mcuda.memory_allocated() >> 20} MiB, max {mcuda.max_memory_allocated() >> 20} MiB, "
          f"reserved {mcuda.memory_reserved() >> 20} MiB")


if __name__ == "__main__":
    main()

"""GPU micro-benchmarks: minitorch's CUDA backend vs PyTorch on CUDA, in one process.

    python3 bench/bench_gpu.py [--quick]

Workloads: per-op overhead of `x + 2` on a 3-element tensor (ops queued, one synchronise at the
end), elementwise add on 256M floats (GB/s counted as read a, read b, write out) next to a
device-to-device copy, and a 4096^2 float32 GEMM (TF32 off on both sides). Best of a few runs.
ratio = PyTorch time / minitorch time (> 1: minitorch is faster).
"""
import argparse
import time

import minitorch as mt
import minitorch.cuda as mcuda

try:
    import torch

    HAVE_TORCH = torch.cuda.is_available()
except Exception:  # noqa: BLE001
    torch = None
    HAVE_TORCH = False


def timeit(fn, sync, number, repeat):
    fn()
    sync()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        sync()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


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
    m = timeit(lambda: x + 2, msync, n_small, 5)
    t = None
    if HAVE_TORCH:
        tx = torch.tensor([1.0, 2.0, 3.0], device="cuda")
        t = timeit(lambda: tx + 2, tsync, n_small, 5)
    rows.append(("x + 2, 3 elements (us/op)", m * 1e6, t * 1e6 if t else None, (t / m) if t else None))

    # 2. bandwidth: 256M floats
    n = (1 << 26) if args.quick else (1 << 28)
    a = mt.rand(n, device="cuda")
    b = mt.rand(n, device="cuda")
    m = timeit(lambda: a + b, msync, 5, 3)
    mc = timeit(lambda: a.clone(), msync, 5, 3)
    gb_add = 3 * 4 * n / m / 1e9
    gb_cp = 2 * 4 * n / mc / 1e9
    t = tc = None
    if HAVE_TORCH:
        ta = torch.rand(n, device="cuda")
        tb = torch.rand(n, device="cuda")
        t = timeit(lambda: ta + tb, tsync, 5, 3)
        tc = timeit(lambda: ta.clone(), tsync, 5, 3)
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
    m = timeit(lambda: A @ B, msync, 5, 3)
    t = None
    if HAVE_TORCH:
        torch.backends.cuda.matmul.allow_tf32 = False
        TA = torch.rand(k, k, device="cuda")
        TB = torch.rand(k, k, device="cuda")
        t = timeit(lambda: TA @ TB, tsync, 5, 3)
    fl = 2 * k ** 3
    rows.append((f"sgemm {k}^2 fp32 (TFLOP/s)", fl / m / 1e12, fl / t / 1e12 if t else None, (t / m) if t else None))

    print(f"{'workload':34s} {'minitorch':>12s} {'PyTorch':>12s} {'ratio':>8s}")
    for name, mv, tv, r in rows:
        f = lambda v: f"{v:12.2f}" if v is not None else f"{'-':>12s}"  # noqa: E731
        print(f"{name:34s} {f(mv)} {f(tv)} {(f'{r:8.2f}' if r else '       -')}")
    print(f"memory: allocated {mcuda.memory_allocated() >> 20} MiB, max {mcuda.max_memory_allocated() >> 20} MiB, "
          f"reserved {mcuda.memory_reserved() >> 20} MiB")


if __name__ == "__main__":
    main()

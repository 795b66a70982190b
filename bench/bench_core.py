"""Core micro-benchmarks: minitorch vs PyTorch vs NumPy, in one process.

    python3 bench/bench_core.py [--quick]

Each cell is the best-of-N time per call; ratio > 1 means minitorch is faster.
"""
import argparse
import os
import platform
import sys
import time

import _bench  # noqa: E402,F401  (first: picks the built source tree or the installed minitorch)
import minitorch  # noqa: E402
from _bench import bench, print_table  # noqa: E402  (bench/ is on sys.path when run as a script)

try:
    import torch
except ImportError:
    torch = None
try:
    import numpy as np
except ImportError:
    np = None

N = 1 << 24  # 16M elements, 64 MB in float32
M = 1024




# Each maker takes the module (minitorch / torch / numpy) and returns a zero-arg callable.
def small_add(m):
    x = np.array([1.0, 2.0, 3.0], dtype=np.float32) if m is np else m.tensor([1.0, 2.0, 3.0])
    return lambda: x + 2


def autograd(m):
    if m is np:
        return None

    def step():
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x ** 2
        z = y.sum()
        z.backward()
    return step


def big(m, nargs):
    if m is np:
        rng = np.random.default_rng(0)
        return [rng.random(N, dtype=np.float32) for _ in range(nargs)]
    return [m.rand(N) for _ in range(nargs)]


def big_add(m):
    a, b = big(m, 2)
    return lambda: a + b


def big_sum(m):
    (a,) = big(m, 1)
    return lambda: a.sum()


def matmul(m):
    if m is np:
        rng = np.random.default_rng(0)
        a, b = (rng.random((M, M), dtype=np.float32) for _ in range(2))
    else:
        a, b = m.rand(M, M), m.rand(M, M)
    return lambda: a @ b


def square(m):
    if m is np:
        return np.random.default_rng(0).random((M, M), dtype=np.float32)
    return m.rand(M, M)


def cumsum_rows(m):
    a = square(m)
    return (lambda: np.cumsum(a, axis=1)) if m is np else (lambda: a.cumsum(1))


def cumsum_cols(m):
    a = square(m)
    return (lambda: np.cumsum(a, axis=0)) if m is np else (lambda: a.cumsum(0))


def causal_mask(m):
    T = 256
    return (lambda: np.tril(np.ones((T, T), np.float32))) if m is np else (lambda: m.tril(m.ones(T, T)))


# (name, maker, unit scale, unit, number, repeat, quick number, extra-metric fn(seconds) -> str)
WORKLOADS = [
    ("x + 2 (3 elem)", small_add, 1e6, "us", 100_000, 5, 10_000, None),
    ("autograd seed snippet", autograd, 1e6, "us", 20_000, 5, 2_000, None),
    ("add 16M f32", big_add, 1e3, "ms", 10, 5, 2, lambda s: f"{3 * 4 * N / s / 1e9:.1f} GB/s"),
    ("sum 16M f32", big_sum, 1e3, "ms", 10, 5, 2, lambda s: f"{4 * N / s / 1e9:.1f} GB/s"),
    ("matmul 1024 f32", matmul, 1e3, "ms", 10, 5, 2, lambda s: f"{2 * M ** 3 / s / 1e9:.1f} GFLOP/s"),
    ("cumsum 1024x1024 dim 1", cumsum_rows, 1e3, "ms", 20, 5, 3, None),
    ("cumsum 1024x1024 dim 0", cumsum_cols, 1e3, "ms", 20, 5, 3, None),
    ("tril(ones(256, 256))", causal_mask, 1e6, "us", 2_000, 5, 200, None),
]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer iterations and repeats")
    args = p.parse_args()

    libs = [("minitorch", minitorch), ("PyTorch", torch), ("NumPy", np)]
    print(f"machine: {platform.platform()} | {platform.processor() or platform.machine()} | "
          f"os.cpu_count()={os.cpu_count()} | python {platform.python_version()}")
    mt_threads = minitorch.get_num_threads() if hasattr(minitorch, "get_num_threads") else "n/a"
    print(f"minitorch {getattr(minitorch, '__version__', '?')} threads={mt_threads} | "
          f"torch {torch.__version__ + ' threads=' + str(torch.get_num_threads()) if torch else 'n/a'} | "
          f"numpy {np.__version__ if np else 'n/a'}")
    print("mode:", "quick" if args.quick else "full", "(best-of-N per-call time; ratio > 1 => minitorch faster)\n")

    header = ["workload", "minitorch", "PyTorch", "NumPy", "torch/minitorch", "numpy/minitorch"]
    rows = []
    for name, maker, scale, unit, number, repeat, qnumber, extra in WORKLOADS:
        if args.quick:
            number, repeat = qnumber, 3
        times, cells = {}, [name]
        for lib, mod in libs:
            fn = maker(mod) if mod is not None else None
            if fn is None:
                cells.append("n/a")
                continue
            s = times[lib] = bench(fn, number, repeat)
            cells.append(f"{s * scale:.3f} {unit}" + (f" ({extra(s)})" if extra else ""))
            del fn
        base = times["minitorch"]
        for lib in ("PyTorch", "NumPy"):
            cells.append(f"{times[lib] / base:.2f}x" if lib in times else "n/a")
        rows.append(cells)
        print(" | ".join(cells), file=sys.stderr, flush=True)  # progress

    print_table(header, rows)


if __name__ == "__main__":
    main()

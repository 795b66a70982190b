"""Linear-algebra benchmarks: minitorch.linalg vs torch.linalg vs numpy.linalg, in one process.

    python3 bench/bench_linalg.py [--quick] [--n 512]

solve (n x n, n right-hand sides), inv, cholesky and svd (reduced) on n x n matrices in float32 and
float64. minitorch runs LAPACK through NumPy, so minitorch/NumPy shows its per-call overhead (the copy
of the result into a tensor); PyTorch uses its own LAPACK (MKL or OpenBLAS). Each cell is the
best-of-N time per call; ratio > 1 means minitorch is faster.
"""
import argparse
import os
import platform
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minitorch  # noqa: E402
from _bench import bench, print_table  # noqa: E402  (bench/ is on sys.path when run as a script)

import numpy as np  # noqa: E402

try:
    import torch
except ImportError:
    torch = None


def _inputs(m, n, dtype, spd=False):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    a = (a @ a.T + n * np.eye(n) if spd else a + np.sqrt(n) * np.eye(n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    if m is np:
        return a, b
    return m.tensor(a), m.tensor(b)


def solve(m, n, dtype):
    a, b = _inputs(m, n, dtype)
    return (lambda: np.linalg.solve(a, b)) if m is np else (lambda: m.linalg.solve(a, b))


def inv(m, n, dtype):
    a, _ = _inputs(m, n, dtype)
    return (lambda: np.linalg.inv(a)) if m is np else (lambda: m.linalg.inv(a))


def cholesky(m, n, dtype):
    a, _ = _inputs(m, n, dtype, spd=True)
    return (lambda: np.linalg.cholesky(a)) if m is np else (lambda: m.linalg.cholesky(a))


def svd(m, n, dtype):
    a, _ = _inputs(m, n, dtype)
    return (lambda: np.linalg.svd(a, full_matrices=False)) if m is np else \
        (lambda: m.linalg.svd(a, full_matrices=False))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer iterations and repeats")
    p.add_argument("--n", type=int, default=512, help="matrix size (default 512)")
    args = p.parse_args()
    n = args.n
    libs = [("minitorch", minitorch), ("PyTorch", torch), ("NumPy", np)]
    print(f"machine: {platform.platform()} | {platform.processor() or platform.machine()} | "
          f"os.cpu_count()={os.cpu_count()} | python {platform.python_version()}")
    print(f"minitorch {minitorch.__version__} | torch {torch.__version__ + ' threads=' + str(torch.get_num_threads()) if torch else 'n/a'}"
          f" | numpy {np.__version__}")
    print("mode:", "quick" if args.quick else "full", "(best-of-N per-call time; ratio > 1 => minitorch faster)\n")
    header = ["workload", "minitorch", "PyTorch", "NumPy", "torch/minitorch", "numpy/minitorch"]
    rows = []
    for name, maker, number in (("solve", solve, 10), ("inv", inv, 10), ("cholesky", cholesky, 20),
                                ("svd", svd, 3)):
        for dtype in (np.float32, np.float64):
            number_, repeat = (max(1, number // 5), 2) if args.quick else (number, 5)
            cells, times = [f"{name} {n}x{n} {np.dtype(dtype).name}"], {}
            for lib, mod in libs:
                if mod is None:
                    cells.append("n/a")
                    continue
                s = times[lib] = bench(maker(mod, n, dtype), number_, repeat)
                cells.append(f"{s * 1e3:.2f} ms")
            for lib in ("PyTorch", "NumPy"):
                cells.append(f"{times[lib] / times['minitorch']:.2f}x" if lib in times else "n/a")
            rows.append(cells)
            print(" | ".join(cells), file=sys.stderr, flush=True)  # progress
    print_table(header, rows)


if __name__ == "__main__":
    main()

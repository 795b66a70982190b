"""DataLoader throughput with a CPU-bound per-item transform, 0 vs 2 workers, minitorch vs PyTorch in one run.

    python3 bench/bench_data.py [--quick]

Each item is a 3x64x64 float32 image built from its index by a few NumPy passes (about 1 ms of work); batches of
32; samples/s over one epoch of 512 items (best of 3; worker start-up included, as a user's first epoch).
"""
import argparse
import os
import time

import _bench  # noqa: E402,F401  (first: picks the built source tree or the installed minitorch)
import numpy as np  # noqa: E402

from _bench import print_table  # noqa: E402


class Images:
    def __init__(self, lib, n):
        self.lib, self.n = lib, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        rng = np.random.default_rng(i)
        img = rng.random((3, 64, 64), dtype=np.float32)
        for _ in range(40):  # the transform: blur-like passes
            img = (img + np.roll(img, 1, axis=1) + np.roll(img, 1, axis=2)) / 3
        return self.lib.from_numpy(img), i % 10


def epoch_rate(lib, workers, n):
    loader = lib.utils.data.DataLoader(Images(lib, n), batch_size=32, shuffle=True, num_workers=workers)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        seen = sum(x.shape[0] for x, _ in loader)
        best = min(best, time.perf_counter() - t0)
        assert seen == n
    return n / best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    n = 256 if args.quick else 512
    import minitorch

    libs = [("minitorch", minitorch)]
    try:
        import torch

        torch.set_num_threads(1)
        libs.append(("torch", torch))
    except ImportError:
        pass
    minitorch.set_num_threads(1)
    rows = []
    for workers in (0, 2):
        rates = {name: epoch_rate(lib, workers, n) for name, lib in libs}
        rows.append([str(workers), f"{rates['minitorch']:.0f}"] + ([f"{rates['torch']:.0f}",
                                                                  f"{rates['minitorch'] / rates['torch']:.2f}"]
                                                                 if "torch" in rates else []))
    print(f"DataLoader, {n} items of 3x64x64 with a NumPy transform, batch 32, samples/s ({os.cpu_count()} cores)")
    print_table(["workers", "minitorch", "torch", "ratio"][:len(rows[0])], rows)


if __name__ == "__main__":
    main()

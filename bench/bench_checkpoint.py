"""Checkpoint save/load of a ~100M-parameter state_dict (25 float32 tensors of 4M values, 400 MB): minitorch vs
PyTorch (weights_only=True) in one run, plus load with mmap=True (maps the file: no copy, no read).

    python3 bench/bench_checkpoint.py [--quick]

Both libraries write the same format (torch.save's zip); each loads its own file and the other's. Best of 3 wall
seconds, on a warm page cache (the file was just written), so the numbers measure the library, not the disk.
minitorch's save includes an fsync (the write is atomic) and its load checks every record's CRC-32 (torch checks
none; mmap=True skips it too).
"""
import argparse
import collections
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import numpy as np  # noqa: E402

from _bench import print_table  # noqa: E402


def best_of(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        del out
    return best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="5 tensors of 1M values instead of 25 of 4M")
    args = p.parse_args()
    n, size = (5, 1 << 20) if args.quick else (25, 4 << 20)
    import minitorch

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(size, dtype=np.float32) for _ in range(n)]
    msd = collections.OrderedDict((f"layer{i}.weight", minitorch.from_numpy(a)) for i, a in enumerate(arrays))
    try:
        import torch
    except ImportError:
        torch = None
    tmp = tempfile.mkdtemp(prefix="bench_ckpt_")
    mpath, tpath = os.path.join(tmp, "minitorch.pt"), os.path.join(tmp, "torch.pt")
    mb = n * size * 4 / 1e6
    rows = []

    def row(what, m, t):
        ratio = f"{m / t:.2f}x" if t else "-"
        rows.append([what, f"{m * 1e3:.0f} ms ({mb / m:.0f} MB/s)", f"{t * 1e3:.0f} ms" if t else "-", ratio])

    m_save = best_of(lambda: minitorch.save(msd, mpath))
    t_save = t_load = t_mmap = None
    if torch is not None:
        tsd = collections.OrderedDict((k, torch.from_numpy(a)) for k, a in zip(msd, arrays))
        t_save = best_of(lambda: torch.save(tsd, tpath))
        t_load = best_of(lambda: torch.load(tpath, weights_only=True))
        t_mmap = best_of(lambda: torch.load(tpath, weights_only=True, mmap=True))
    row("save", m_save, t_save)
    row("load, each its own file", best_of(lambda: minitorch.load(mpath)), t_load)
    if torch is not None:
        row("load, the other's file", best_of(lambda: minitorch.load(tpath)),
            best_of(lambda: torch.load(mpath, weights_only=True)))
    row("load mmap=True", best_of(lambda: minitorch.load(mpath, mmap=True)), t_mmap)
    first = minitorch.load(mpath, mmap=True)
    t0 = time.perf_counter()
    total = sum(float(t.sum()) for t in first.values())  # touching every page of the map
    row("  + first full read of the mmap", time.perf_counter() - t0, None)
    assert np.isfinite(total)
    print(f"state_dict: {n} float32 tensors of {size} values ({n * size / 1e6:.0f}M parameters, {mb:.0f} MB)")
    print_table(["workload", "minitorch", "PyTorch", "ratio (minitorch/PyTorch)"], rows)
    for f in (mpath, tpath):
        if os.path.exists(f):
            os.unlink(f)
    os.rmdir(tmp)


if __name__ == "__main__":
    main()

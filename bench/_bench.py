"""Helpers shared by the benchmark scripts: best-of-N timing and the printed table.

Imported before minitorch (bench/ is sys.path[0] when a script runs): it chooses which minitorch the
benchmarks measure. The source tree above bench/ when its extension is built in place
(`python setup.py build_ext --inplace`, `pip install -e .`), else the installed one (`pip install .`).
Putting an unbuilt source tree first on sys.path would shadow the installed package and fail with
"cannot import name '_C' from partially initialized module 'minitorch' (most likely due to a circular
import)": the package's `from . import _C` finds no extension in the tree."""
import glob
import importlib.machinery
import importlib.util
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _built_in_place(root):
    return any(glob.glob(os.path.join(root, "minitorch", "_C" + suffix))
               for suffix in importlib.machinery.EXTENSION_SUFFIXES)


# the source tree when it can run, else whatever `import minitorch` finds; SOURCE_TREE says which
SOURCE_TREE = ROOT if _built_in_place(ROOT) else None
if SOURCE_TREE and SOURCE_TREE not in sys.path:
    sys.path.insert(0, SOURCE_TREE)
elif not SOURCE_TREE and importlib.util.find_spec("minitorch") is None:
    raise SystemExit(f"minitorch is not installed and its source tree ({ROOT}) has no built extension: "
                     "run `pip install .` or `python setup.py build_ext --inplace` there")


def bench(fn, number, repeat, sync=None):
    """Best-of-`repeat` seconds per call over loops of `number` calls (after a warmup); sync, when
    given, waits for queued work (a GPU's) at the end of the warmup and of each loop."""
    for _ in range(max(1, number // 10)):
        fn()
    if sync:
        sync()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        if sync:
            sync()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def print_table(header, rows):
    """A Markdown table with padded columns."""
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]

    def fmt(r):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"

    print(fmt(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(fmt(r))


def time_pair(make, steps, use_torch, warm=2):
    """min time of minitorch's and PyTorch's step, the two run alternately so that a busy spell of
    the (shared) machine slows both rather than skewing the ratio"""
    import minitorch
    fm, ft = make(minitorch), None
    if use_torch:
        import torch
        ft = make(torch)
    for _ in range(warm):
        fm()
        if ft:
            ft()
    tm, tt = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        fm()
        tm.append(time.perf_counter() - t0)
        if ft:
            t0 = time.perf_counter()
            ft()
            tt.append(time.perf_counter() - t0)
    return min(tm), (min(tt) if tt else float("nan"))

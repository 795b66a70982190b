"""nn training-loop benchmarks: minitorch vs PyTorch, in one process.

    python3 bench/bench_nn.py [--quick]

Workloads:
  linreg-100-epochs   the seed's linear regression: nn.Linear(1, 1), MSELoss, SGD(lr=0.01),
                      100 full-batch epochs on 100 points (time for the whole loop)
  mlp-train-step      784-128-10 MLP (Linear, ReLU, Linear), batch 64, CrossEntropyLoss + SGD(lr=0.01):
                      zero_grad, forward, loss, backward, step
  mlp-forward         the same MLP, forward only under no_grad
  sgd-step / adam-step  optimizer.step() alone over the MLP's parameters (gradients already set)

Each cell is the best-of-N time per call; ratio = PyTorch / minitorch (> 1 means minitorch is faster).
A workload whose minitorch pieces (losses, optimizers) are not available prints n/a.
"""
import argparse
import os
import platform
import sys
import time

import _bench  # noqa: E402,F401  (first: picks the built source tree or the installed minitorch)
import minitorch  # noqa: E402
from _bench import bench, print_table  # noqa: E402  (bench/ is on sys.path when run as a script)
import minitorch.nn  # noqa: E402,F401

try:
    import torch
except ImportError:
    torch = None




def _pieces(m, *names):
    """Returns the requested attributes of m.nn / m.optim, or None when one is missing (not built yet)."""
    out = []
    for name in names:
        ns, attr = name.split(".")
        try:
            if ns == "optim":
                import importlib
                mod = importlib.import_module(m.__name__ + ".optim")
            else:
                mod = m.nn
            out.append(getattr(mod, attr))
        except (ImportError, AttributeError):
            return None
    return out


def _seed_data(m):
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.random((100, 1), dtype=np.float32) * 10
    y = 2 * x + 1 + rng.standard_normal((100, 1)).astype(np.float32)
    return m.from_numpy(x), m.from_numpy(y)


def linreg(m):
    p = _pieces(m, "nn.MSELoss", "optim.SGD")
    if p is None:
        return None
    MSELoss, SGD = p
    X, Y = _seed_data(m)

    def run():
        m.manual_seed(42)
        model = m.nn.Linear(1, 1)
        criterion = MSELoss()
        optimizer = SGD(model.parameters(), lr=0.01)
        for _ in range(100):
            pred = model(X)
            loss = criterion(pred, Y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss
    return run


def _mlp(m):
    m.manual_seed(0)
    nn = m.nn
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def _mlp_batch(m):
    import numpy as np
    rng = np.random.default_rng(1)
    x = m.from_numpy(rng.standard_normal((64, 784), dtype=np.float32))
    y = m.from_numpy(rng.integers(0, 10, size=64).astype(np.int64))
    return x, y


def mlp_step(m):
    p = _pieces(m, "nn.CrossEntropyLoss", "optim.SGD")
    if p is None:
        return None
    CrossEntropyLoss, SGD = p
    model = _mlp(m)
    criterion = CrossEntropyLoss()
    optimizer = SGD(model.parameters(), lr=0.01)
    x, y = _mlp_batch(m)

    def step():
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    return step


def mlp_forward(m):
    model = _mlp(m)
    x, _ = _mlp_batch(m)

    def fwd():
        with m.no_grad():
            model(x)
    return fwd


def _opt_step(m, name, **kw):
    p = _pieces(m, "optim." + name)
    if p is None:
        return None
    model = _mlp(m)
    for q in model.parameters():
        q.grad = m.ones_like(q) * 1e-3
    opt = p[0](model.parameters(), **kw)
    return opt.step


def sgd_step(m):
    return _opt_step(m, "SGD", lr=0.01, momentum=0.9)


def adam_step(m):
    return _opt_step(m, "Adam", lr=1e-3)


# name, maker, scale, unit, number, repeat, quick number
WORKLOADS = [
    ("linreg-100-epochs", linreg, 1e3, "ms", 20, 5, 3),
    ("mlp-train-step b64 784-128-10", mlp_step, 1e6, "us", 200, 5, 20),
    ("mlp-forward b64 784-128-10", mlp_forward, 1e6, "us", 500, 5, 50),
    ("sgd-step (momentum) mlp params", sgd_step, 1e6, "us", 500, 5, 50),
    ("adam-step mlp params", adam_step, 1e6, "us", 500, 5, 50),
]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer iterations and repeats")
    args = p.parse_args()

    libs = [("minitorch", minitorch), ("PyTorch", torch)]
    print(f"machine: {platform.platform()} | {platform.processor() or platform.machine()} | "
          f"os.cpu_count()={os.cpu_count()} | python {platform.python_version()}")
    mt_threads = minitorch.get_num_threads() if hasattr(minitorch, "get_num_threads") else "n/a"
    print(f"minitorch {getattr(minitorch, '__version__', '?')} threads={mt_threads} | "
          f"torch {torch.__version__ + ' threads=' + str(torch.get_num_threads()) if torch else 'n/a'}")
    print("mode:", "quick" if args.quick else "full", "(best-of-N per-call time; ratio > 1 => minitorch faster)\n")

    header = ["workload", "minitorch", "PyTorch", "torch/minitorch"]
    rows = []
    for name, maker, scale, unit, number, repeat, qnumber in WORKLOADS:
        if args.quick:
            number, repeat = qnumber, 3
        times, cells = {}, [name]
        for lib, mod in libs:
            fn = maker(mod) if mod is not None else None
            if fn is None:
                cells.append("n/a")
                continue
            s = times[lib] = bench(fn, number, repeat)
            cells.append(f"{s * scale:.3f} {unit}")
            del fn
        if "minitorch" in times and "PyTorch" in times:
            cells.append(f"{times['PyTorch'] / times['minitorch']:.2f}x")
        else:
            cells.append("n/a")
        rows.append(cells)
        print(" | ".join(cells), file=sys.stderr, flush=True)  # progress

    print_table(header, rows)


if __name__ == "__main__":
    main()

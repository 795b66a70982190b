"""Optimizer step benchmark: minitorch vs PyTorch in one process.

One optimizer step over the parameters of a 784-128-10 MLP (weights 128x784, bias 128, weights
10x128, bias 10; float32) for SGD with momentum and Adam. PyTorch runs its default implementation
(on CPU tensors that is the single-tensor for-loop, foreach=False), and also foreach=True for
reference. Prints a table: workload, minitorch µs/step, PyTorch µs/step, ratio (PyTorch / minitorch).

    python3 bench/bench_optim.py [--steps N]
"""
import argparse
import time

import _bench  # noqa: E402,F401  (first: picks the built source tree or the installed minitorch)

import numpy as np  # noqa: E402

import minitorch as mt  # noqa: E402
import minitorch.optim as mt_optim  # noqa: E402

SHAPES = [(128, 784), (128,), (10, 128), (10,)]


def make_params(lib, rng):
    params = []
    for shape in SHAPES:
        p = lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
        p.grad = lib.tensor(rng.standard_normal(shape).astype(np.float32) * 1e-2)
        params.append(p)
    return params


def time_steps(opt, steps, repeats=5):
    for _ in range(max(10, steps // 10)):  # warm-up (creates the state)
        opt.step()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            opt.step()
        best = min(best, (time.perf_counter() - t0) / steps)
    return best * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch not installed: minitorch numbers only")

    configs = [
        ("SGD(momentum=0.9)", lambda o, ps, **kw: o.SGD(ps, lr=0.01, momentum=0.9, **kw)),
        ("Adam", lambda o, ps, **kw: o.Adam(ps, lr=1e-3, **kw)),
        ("AdamW(amsgrad)", lambda o, ps, **kw: o.AdamW(ps, lr=1e-3, amsgrad=True, **kw)),
    ]
    rows = []
    for name, make in configs:
        rng = np.random.default_rng(0)
        m_us = time_steps(make(mt_optim, make_params(mt, rng)), args.steps)
        t_us = tf_us = None
        if torch is not None:
            rng = np.random.default_rng(0)
            t_us = time_steps(make(torch.optim, make_params(torch, rng)), args.steps)
            rng = np.random.default_rng(0)
            tf_us = time_steps(make(torch.optim, make_params(torch, rng), foreach=True), args.steps)
        rows.append((name, m_us, t_us, tf_us))

    threads = mt.get_num_threads() if hasattr(mt, "get_num_threads") else "?"
    print(f"optimizer step over a 784-128-10 MLP's parameters (101,770 floats), threads: minitorch {threads}"
          + (f", torch {torch.get_num_threads()}" if torch is not None else ""))
    print(f"{'workload':<20} {'minitorch us':>13} {'torch us':>10} {'ratio':>7} {'torch foreach us':>17} {'ratio':>7}")
    for name, m_us, t_us, tf_us in rows:
        if t_us is None:
            print(f"{name:<20} {m_us:>13.1f}")
        else:
            print(f"{name:<20} {m_us:>13.1f} {t_us:>10.1f} {t_us / m_us:>6.2f}x {tf_us:>17.1f} {tf_us / m_us:>6.2f}x")
    print("ratio = PyTorch time / minitorch time (> 1: minitorch faster); torch's default on CPU is foreach=False")


if __name__ == "__main__":
    main()

"""Higher-order autograd: minitorch vs PyTorch in one process.

    python3 bench/bench_autograd.py [--quick]

Cases: a WGAN-GP gradient-penalty critic step (MLP 784-256-256-1, batch 64: the critic loss, the
gradient of the critic w.r.t. interpolated inputs with create_graph=True, the penalty, backward and
an Adam step), a Hessian-vector product of the same MLP's loss w.r.t. its parameters, a small
Hessian via autograd.functional.hessian, and the tiny-op backward with and without a tensor hook
registered elsewhere (hooks must cost nothing when none are registered). Best-of-N seconds per
call; ratio > 1 means minitorch is faster.
"""
import argparse
import os
import platform

import _bench  # noqa: E402,F401  (first: picks the built source tree or the installed minitorch)
import numpy as np  # noqa: E402

import minitorch  # noqa: E402
from _bench import bench, print_table  # noqa: E402

try:
    import torch
except ImportError:
    torch = None


def _critic(m, seed=0):
    rng = np.random.default_rng(seed)
    net = m.nn.Sequential(m.nn.Linear(784, 256), m.nn.LeakyReLU(0.2), m.nn.Linear(256, 256), m.nn.LeakyReLU(0.2),
                          m.nn.Linear(256, 1))
    with m.no_grad():
        for p in net.parameters():
            p.copy_(m.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.05))
    return net


def gp_step(m):
    net = _critic(m)
    opt = m.optim.Adam(net.parameters(), lr=1e-4, betas=(0.5, 0.9))
    rng = np.random.default_rng(1)
    real = m.tensor(rng.standard_normal((64, 784)).astype(np.float32))
    fake = m.tensor(rng.standard_normal((64, 784)).astype(np.float32))
    eps = m.tensor(rng.random((64, 1)).astype(np.float32))

    def step():
        opt.zero_grad()
        xi = (eps * real + (1 - eps) * fake).requires_grad_(True)
        d = net(xi)
        g, = m.autograd.grad(d.sum(), xi, create_graph=True)
        gp = ((g.norm(2, dim=1) - 1) ** 2).mean()
        loss = net(fake).mean() - net(real).mean() + 10 * gp
        loss.backward()
        opt.step()
    return step


def hvp(m):
    net = _critic(m, 2)
    params = list(net.parameters())
    rng = np.random.default_rng(3)
    x = m.tensor(rng.standard_normal((64, 784)).astype(np.float32))
    y = m.tensor(rng.standard_normal((64, 1)).astype(np.float32))
    v = [m.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)) for p in params]

    def step():
        loss = ((net(x).tanh() - y) ** 2).mean()
        gs = m.autograd.grad(loss, params, create_graph=True)
        dot = sum((g * vi).sum() for g, vi in zip(gs, v))
        m.autograd.grad(dot, params)
    return step


def small_hessian(m):
    rng = np.random.default_rng(4)
    w = m.tensor(rng.standard_normal((8, 8)))
    x = m.tensor(rng.standard_normal(8))

    def f(z):
        return (w @ z).tanh().pow(2).sum()
    return lambda: m.autograd.functional.hessian(f, x)


def tiny_backward(m, hooked):
    other = m.ones(3, requires_grad=True)
    if hooked:
        other.register_hook(lambda g: g)

    def step():
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x * x).sum().backward()
    return step


CASES = [
    ("WGAN-GP critic step (MLP 784-256-256-1, b64)", gp_step, 20, 5),
    ("Hessian-vector product (same MLP)", hvp, 20, 5),
    ("autograd.functional.hessian (8x8 tanh)", small_hessian, 50, 5),
    ("tiny backward, no hooks", lambda m: tiny_backward(m, False), 2000, 5),
    ("tiny backward, a hook on another tensor", lambda m: tiny_backward(m, True), 2000, 5),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if torch is not None:
        torch.set_num_threads(minitorch.get_num_threads())
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"threads minitorch {minitorch.get_num_threads()} / torch {torch.get_num_threads() if torch else '-'}")
    rows = []
    for name, make, number, repeat in CASES:
        if args.quick:
            number, repeat = max(1, number // 4), 2
        t_mt = bench(make(minitorch), number, repeat)
        t_pt = bench(make(torch), number, repeat) if torch is not None else None
        rows.append([name, f"{t_mt * 1e3:.3f}", f"{t_pt * 1e3:.3f}" if t_pt else "-",
                     f"{t_pt / t_mt:.2f}x" if t_pt else "-"])
    print_table(["case", "minitorch ms", "torch ms", "ratio"], rows)


if __name__ == "__main__":
    main()

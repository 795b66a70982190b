"""CNN benchmarks: minitorch vs PyTorch (oneDNN on CPU) in one process.

    python3 bench/bench_cnn.py [--quick]

Each cell is the best-of-N time per call; ratio > 1 means minitorch is faster. GFLOP/s counts
2 * multiply-adds of the convolution (forward: 1x, forward+backward: 3x).
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


def conv_case(n, c, hw, k, groups=1, stride=1):
    """(maker, flops of one forward) for a k x k 'same' convolution of [n, c, hw, hw] to c channels."""
    def make(m, backward):
        rng = np.random.default_rng(0)
        x = m.tensor(rng.standard_normal((n, c, hw, hw)).astype(np.float32), requires_grad=backward)
        w = m.tensor((rng.standard_normal((c, c // groups, k, k)) * 0.1).astype(np.float32), requires_grad=backward)
        b = m.tensor(np.zeros(c, np.float32), requires_grad=backward)
        F = m.nn.functional
        if not backward:
            def fwd():
                with m.no_grad():
                    F.conv2d(x, w, b, stride=stride, padding=k // 2, groups=groups)
            return fwd

        def step():
            F.conv2d(x, w, b, stride=stride, padding=k // 2, groups=groups).sum().backward()
        return step
    out_hw = (hw + 2 * (k // 2) - k) // stride + 1
    return make, 2.0 * n * c * (c // groups) * k * k * out_hw * out_hw


def pool_case(m, backward):
    rng = np.random.default_rng(0)
    x = m.tensor(rng.standard_normal((64, 64, 32, 32)).astype(np.float32), requires_grad=backward)
    F = m.nn.functional
    if not backward:
        def fwd():
            with m.no_grad():
                F.max_pool2d(x, 2)
        return fwd
    return lambda: F.max_pool2d(x, 2).sum().backward()


def cnn_step(m):
    """One SGD step of an 8-conv ResNet-style net (conv-BN-ReLU, residual blocks) on 32x32 images, batch 64."""
    nn = m.nn
    m.manual_seed(0)

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c1, self.b1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
            self.c2, self.b2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)

        def forward(self, x):
            return (x + self.b2(self.c2(self.b1(self.c1(x)).relu()))).relu()

    def down(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())
    net = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), Block(32),
                        down(32, 64), Block(64), down(64, 128), nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))
    opt = m.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = m.tensor(rng.standard_normal((64, 3, 32, 32)).astype(np.float32))
    y = m.tensor(rng.integers(0, 10, 64))

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return step


def bn_case(m, backward):
    rng = np.random.default_rng(0)
    x = m.tensor(rng.standard_normal((64, 64, 32, 32)).astype(np.float32), requires_grad=backward)
    bn = m.nn.BatchNorm2d(64)
    if not backward:
        def fwd():
            with m.no_grad():
                bn(x)
        return fwd
    return lambda: bn(x).sum().backward()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rep = 3 if args.quick else 5
    cases = [
        ("conv3x3 64x64ch 32x32", conv_case(64, 64, 32, 3)),
        ("conv3x3 1x64ch 224x224", conv_case(1, 64, 224, 3)),
        ("depthwise3x3 64x64ch 32x32", conv_case(64, 64, 32, 3, groups=64)),
        ("conv1x1 64x64ch 32x32", conv_case(64, 64, 32, 1)),
    ]
    libs = [("minitorch", minitorch)] + ([("torch", torch)] if torch else [])
    if torch:
        torch.set_num_threads(os.cpu_count() or 1)
    header = ["case", "minitorch ms", "torch ms", "ratio", "minitorch GFLOP/s"]
    rows = []
    for name, (make, flops) in cases:
        for backward in (False, True):
            times = {}
            for lib, m in libs:
                times[lib] = bench(make(m, backward), 1 if args.quick else 2, rep)
            f = flops * (3 if backward else 1)
            rows.append([name + (" fwd+bwd" if backward else " fwd"), f"{times['minitorch'] * 1e3:.2f}",
                         f"{times['torch'] * 1e3:.2f}" if torch else "-",
                         f"{times['torch'] / times['minitorch']:.2f}" if torch else "-",
                         f"{f / times['minitorch'] / 1e9:.1f}"])
    for backward in (False, True):
        times = {lib: bench(pool_case(m, backward), 3, rep) for lib, m in libs}
        rows.append(["maxpool2 64x64ch 32x32" + (" fwd+bwd" if backward else " fwd"),
                     f"{times['minitorch'] * 1e3:.2f}", f"{times['torch'] * 1e3:.2f}" if torch else "-",
                     f"{times['torch'] / times['minitorch']:.2f}" if torch else "-", "-"])
    for backward in (False, True):
        times = {lib: bench(bn_case(m, backward), 3, rep) for lib, m in libs}
        rows.append(["batchnorm2d 64x64ch 32x32 train" + (" fwd+bwd" if backward else " fwd"),
                     f"{times['minitorch'] * 1e3:.2f}", f"{times['torch'] * 1e3:.2f}" if torch else "-",
                     f"{times['torch'] / times['minitorch']:.2f}" if torch else "-", "-"])
    times = {lib: bench(cnn_step(m), 1, rep) for lib, m in libs}
    rows.append(["ResNet-style 8-conv SGD step, 64x3x32x32", f"{times['minitorch'] * 1e3:.2f}",
                 f"{times['torch'] * 1e3:.2f}" if torch else "-",
                 f"{times['torch'] / times['minitorch']:.2f}" if torch else "-", "-"])
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
          f"{torch.__version__ if torch else '-'}")
    print_table(header, rows)


if __name__ == "__main__":
    main()

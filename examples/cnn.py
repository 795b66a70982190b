"""A small CIFAR-style CNN, written as a PyTorch user would (`import minitorch as torch`).

    python3 examples/cnn.py                 # 3 epochs on 4000 generated 3x32x32 images, prints test accuracy
    python3 examples/cnn.py --epochs 5 --device cuda --batch-size 128

No download: the data are generated here. Each of the 10 classes is an oriented colour grating (its angle and
tint set by the class) with a random phase, frequency jitter, offset and noise, so a linear model does poorly
and a convolutional one learns it in a few epochs. The network is conv-BN-ReLU blocks with max-pooling,
dropout and a linear classifier, trained with SGD + momentum and a cosine learning-rate schedule.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minitorch as torch  # noqa: E402
import minitorch.nn as nn  # noqa: E402
import minitorch.nn.functional as F  # noqa: E402
from minitorch.utils.data import DataLoader, TensorDataset  # noqa: E402
from text_generation import Progress, resolve_device  # noqa: E402  (the shared progress bar and --device)

CLASSES = 10


def make_images(n, rng):
    """n images [n, 3, 32, 32] float32 and labels [n]: class c is a grating at angle c * 18 degrees."""
    labels = rng.integers(0, CLASSES, n)
    yy, xx = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
    angle = labels * np.pi / CLASSES
    freq = 0.35 + 0.1 * rng.random(n)
    phase = rng.random(n) * 2 * np.pi
    proj = np.cos(angle)[:, None, None] * xx + np.sin(angle)[:, None, None] * yy
    wave = np.sin(freq[:, None, None] * proj + phase[:, None, None])
    tint = np.stack([np.cos(labels * 0.6), np.sin(labels * 0.6), np.ones(n)], 1) * 0.5 + 0.5
    img = wave[:, None] * tint[:, :, None, None] + 0.9 * rng.standard_normal((n, 3, 32, 32))
    img += rng.uniform(-0.3, 0.3, (n, 1, 1, 1))
    return img.astype(np.float32), labels.astype(np.int64)


class Net(nn.Module):
    def __init__(self, width=32, dropout=0.25):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))
        self.features = nn.Sequential(
            block(3, width), block(width, width), nn.MaxPool2d(2),            # 16x16
            block(width, 2 * width), block(2 * width, 2 * width), nn.MaxPool2d(2),  # 8x8
            block(2 * width, 4 * width), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(4 * width, CLASSES)

    def forward(self, x):
        return self.fc(self.dropout(self.features(x)))


def evaluate(model, loader, device):
    model.eval()
    correct = total = 0
    loss = 0.0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            out = model(x)
            loss += F.cross_entropy(out, y, reduction="sum").item()
            correct += (out.argmax(1) == y).sum().item()
            total += y.numel()
    model.train()
    return loss / total, correct / total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--train-size", type=int, default=4000)
    ap.add_argument("--test-size", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--device", choices=["cpu", "cuda", "auto"], default="auto")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    device = resolve_device(args.device)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    xtr, ytr = make_images(args.train_size, rng)
    xte, yte = make_images(args.test_size, rng)
    train = DataLoader(TensorDataset(torch.tensor(xtr), torch.tensor(ytr)), batch_size=args.batch_size, shuffle=True)
    test = DataLoader(TensorDataset(torch.tensor(xte), torch.tensor(yte)), batch_size=256)

    model = Net(args.width).to(device)
    print(model)
    print(f"parameters: {sum(p.numel() for p in model.parameters())}, device: {device}")
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * len(train))
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        bar = Progress(len(train), desc=f"epoch {epoch + 1}/{args.epochs}", enabled=not args.no_progress)
        for x, y in train:
            x, y = x.to(device), y.to(device)
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            bar.update(loss.item())
        bar.close()
        test_loss, acc = evaluate(model, test, device)
        print(f"epoch {epoch + 1}: train loss {bar.loss:.4f}, test loss {test_loss:.4f}, test accuracy {acc:.3f}")
    print(f"trained in {time.perf_counter() - t0:.1f}s")
    return acc


if __name__ == "__main__":
    main()

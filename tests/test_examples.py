"""The examples run and print what the seed (PyTorch) prints."""
import os
import subprocess
import sys

import pytest

import minitorch

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def run(name):
    # the example imports the same minitorch as this test process
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(minitorch.__file__))))
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, name)], capture_output=True, text=True, timeout=120,
                       env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_basics_prints_what_pytorch_prints():
    torch = pytest.importorskip("torch")
    out = run("basics.py")
    x = torch.tensor([1.0, 2.0, 3.0])
    want = [repr(x), repr(x + 2), repr(x * 3)]
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x ** 2).sum().backward()
    want.append(repr(x.grad))
    assert out.splitlines() == want


def test_seed_training_learns_the_line():
    out = run("seed_training.py").splitlines()
    assert out[0] == "SimpleNet(" and out[1] == "  (fc): Linear(in_features=2, out_features=1, bias=True)"
    losses = [float(line.rsplit(" ", 1)[1]) for line in out if line.startswith("Epoch [")]
    assert len(losses) == 5 and all(b < a for a, b in zip(losses, losses[1:]))
    assert out[-1] in ("Training step completed on: cpu", "Training step completed on: cuda")

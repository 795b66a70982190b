"""The examples run and print what the seed (PyTorch) prints."""
import json
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
    """examples/basics.py prints what the same file prints with `import torch` on PyTorch (the seed's snippets:
    tensor([4., 5., 6.]), tensor([ 6.,  9., 12.]), then the gradient)"""
    pytest.importorskip("torch")
    from test_run_shim import as_pytorch_source

    out = run("basics.py")
    with open(os.path.join(EXAMPLES, "basics.py")) as f:
        real = subprocess.run([sys.executable, "-"], input=as_pytorch_source(f.read()), capture_output=True,
                              text=True, timeout=120)
    assert real.returncode == 0, real.stderr
    assert out == real.stdout and len(out.splitlines()) == 3


def test_seed_training_learns_the_line():
    out = run("seed_training.py").splitlines()
    assert out[0] == "SimpleNet(" and out[1] == "  (fc): Linear(in_features=2, out_features=1, bias=True)"
    losses = [float(line.rsplit(" ", 1)[1]) for line in out if line.startswith("Epoch [")]
    assert len(losses) == 5 and all(b < a for a, b in zip(losses, losses[1:]))
    assert out[-1] in ("Training step completed on: cpu", "Training step completed on: cuda")


def test_cnn_example_learns_the_generated_images():
    """examples/cnn.py (conv-BN-ReLU, max-pool, dropout, SGD + cosine schedule) on a small run: chance is 0.1."""
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, "cnn.py"), "--no-progress", "--train-size", "1024",
                        "--test-size", "256", "--epochs", "3", "--width", "8", "--lr", "0.1"], capture_output=True,
                       text=True, timeout=300,
                       env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(
                           minitorch.__file__)))))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Net(" and "(0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)" \
        in r.stdout and "BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)" in r.stdout
    accs = [float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith("epoch ")]
    assert len(accs) == 3 and accs[-1] > 0.8, r.stdout


# Runs notebook cells as a script on PyTorch: each cell's prints, then the repr of its last expression (as a
# notebook shows it), then a separator line.
_CELLS_ON_PYTORCH = r'''
import ast, json, sys
namespace = {"__name__": "__main__"}
for src in json.load(sys.stdin):
    tree = ast.parse(src)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<cell>", "exec"), namespace)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
        if value is not None:
            print(repr(value))
    print("\x00cell", flush=True)
'''


def test_basics_notebook_shows_what_pytorch_shows(tmp_path, monkeypatch):
    """examples/basics.ipynb executed headless (nbclient) on minitorch: every cell's printed output and shown
    value is what the same cell prints on PyTorch (with `import torch` for `import minitorch as torch`)"""
    pytest.importorskip("torch")
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from test_run_shim import as_pytorch_source

    nb = nbformat.read(os.path.join(EXAMPLES, "basics.ipynb"), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs for c in code)  # stored without outputs: nothing there to go stale
    monkeypatch.setenv("PYTHONPATH", os.path.dirname(os.path.dirname(os.path.abspath(minitorch.__file__))))
    nbclient.NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()

    def shown(cell):
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.outputs
        text = "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
        text += "".join(o.data["text/plain"] + "\n" for o in cell.outputs if o.output_type == "execute_result")
        return text

    on_minitorch = [shown(c) for c in code]
    real = subprocess.run([sys.executable, "-c", _CELLS_ON_PYTORCH], capture_output=True, text=True, timeout=120,
                          input=json.dumps([as_pytorch_source(c.source) for c in code]), cwd=str(tmp_path))
    assert real.returncode == 0, real.stderr
    on_pytorch = real.stdout.split("\x00cell\n")[:-1]
    assert on_minitorch == on_pytorch
    assert "tensor([ 6.,  9., 12.])" in on_minitorch[1] and "grad_fn=<AddmmBackward0>" in on_minitorch[-1]

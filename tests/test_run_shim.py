"""`python -m minitorch.run script.py` and `minitorch.as_torch()`: PyTorch programs (`import torch`, `import
torch.nn as nn`, `from torch.utils.data import DataLoader`, ...) run unchanged on minitorch. Every program runs
in a subprocess: the finder is per process, and this one may have imported the real torch."""
import os
import re
import subprocess
import sys
import textwrap

import pytest

import minitorch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(minitorch.__file__)))
EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")

# Appended to the programs run through the shim: says on stderr which library `torch` was, and whether any
# module of a real torch got loaded beside it.
REPORT = """
import atexit as _atexit, sys as _sys
_atexit.register(lambda: print("RAN-ON", _sys.modules["torch"].__name__, sorted(
    n for n, m in list(_sys.modules.items()) if n.split(".")[0] == "torch" and m is not None
    and not getattr(m, "__name__", "minitorch").startswith("minitorch")), file=_sys.stderr))
"""


def as_pytorch_source(src):
    """A minitorch program (`import minitorch as torch`, `from minitorch.utils.data import ...`) as the PyTorch
    program it stands for."""
    return re.sub(r"^(\s*(?:import|from)\s+)minitorch\b", r"\1torch", src, flags=re.M)


def python(args, cwd=None, timeout=300, input=None):
    env = dict(os.environ, PYTHONPATH=ROOT)  # the minitorch this test imported
    return subprocess.run([sys.executable] + args, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd,
                          input=input)


def shim(args, cwd=None, timeout=300):
    return python(["-m", "minitorch.run"] + args, cwd=cwd, timeout=timeout)


def ran_on_minitorch(r):
    assert r.returncode == 0, r.stderr[-3000:]
    assert "RAN-ON minitorch []" in r.stderr.splitlines(), r.stderr[-3000:]


def torch_program(tmp_path, name, src):
    """src (a PyTorch program) written to tmp_path/name with REPORT before its first import; its path"""
    path = tmp_path / name
    path.write_text(re.sub(r"^(?=import |from )", REPORT.lstrip(), src, count=1, flags=re.M))
    return str(path)


def example_as_pytorch(tmp_path, name):
    with open(os.path.join(EXAMPLES, name)) as f:
        return torch_program(tmp_path, name, as_pytorch_source(f.read()))


@pytest.mark.parametrize("name", ["basics.py", "seed_training.py"])
def test_examples_as_pytorch_programs_print_what_they_print_on_minitorch(name, tmp_path):
    """the example with `import torch` under the shim prints exactly what the example prints (same library)"""
    r = shim([example_as_pytorch(tmp_path, name)], cwd=str(tmp_path))
    ran_on_minitorch(r)
    native = python([os.path.join(EXAMPLES, name)])
    assert native.returncode == 0, native.stderr
    assert r.stdout == native.stdout


def test_cnn_and_text_generation_examples_run_as_pytorch_programs(tmp_path):
    example_as_pytorch(tmp_path, "text_generation.py")  # cnn.py imports its Progress bar
    args = ["--no-progress", "--train-size", "128", "--test-size", "64", "--epochs", "1", "--width", "4",
            "--device", "cpu"]
    r = shim([example_as_pytorch(tmp_path, "cnn.py")] + args, cwd=str(tmp_path))
    ran_on_minitorch(r)
    native = python([os.path.join(EXAMPLES, "cnn.py")] + args)
    assert native.returncode == 0, native.stderr

    def untimed(out):
        return [line for line in out.splitlines() if not line.startswith("trained in")]

    assert "epoch 1: train loss" in r.stdout and untimed(r.stdout) == untimed(native.stdout)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("alice was beginning to get very tired of sitting by her sister on the bank. " * 40)
    r = shim([str(tmp_path / "text_generation.py"), "train", "--model", "tutorial", "--data", str(corpus),
              "--epochs", "1", "--max-batches", "2", "--hidden", "16", "--seed", "0", "--device", "cpu",
              "--no-progress", "--checkpoint", str(tmp_path / "m.pth")], cwd=str(tmp_path))
    ran_on_minitorch(r)
    assert "Epoch 0: Cross-entropy:" in r.stdout
    state, _ = minitorch.load(str(tmp_path / "m.pth"))
    assert state["lstm.weight_hh_l0"].shape == (64, 16)


# A PyTorch program touching the usual submodules, deterministic (no RNG: the two libraries' generators
# differ), so that its output on minitorch can be compared with its output on PyTorch.
PYTORCH_SCRIPT = textwrap.dedent("""
    import sys
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim
    import torch.autograd
    import torch.optim.lr_scheduler
    from torch import nn as nn_again
    from torch.optim.lr_scheduler import StepLR
    from torch.utils.data import DataLoader, TensorDataset

    assert nn_again is nn and sys.modules["torch.nn"] is nn and torch.optim.lr_scheduler.StepLR is StepLR

    X = torch.linspace(-1, 1, 16).reshape(8, 2)
    Y = X @ torch.tensor([[2.0], [-1.0]]) + 0.5
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.linspace(-0.5, 0.5, p.numel()).reshape(p.shape) * (i + 1) / 4)
    print(model)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    loader = DataLoader(TensorDataset(X, Y), batch_size=4)
    for epoch in range(4):
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.mse_loss(model(xb), yb)
            loss.backward()
            opt.step()
        sched.step()
        print(epoch, f"{loss.item():.4f}", sched.get_last_lr())
    print(loss)
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (g,) = torch.autograd.grad((x ** 3).sum(), x)
    print(g, torch.softmax(torch.tensor([[1.0, 2.0, 3.0]]), dim=1))
    print(F.relu(torch.tensor([-1.0, 0.5])), torch.arange(6).view(2, 3).sum(0), torch.zeros(2, dtype=torch.int32))
    print(sys.argv[1:], __name__)
""")


def test_pytorch_script_prints_what_it_prints_on_pytorch(tmp_path):
    path = torch_program(tmp_path, "train.py", PYTORCH_SCRIPT)
    r = shim([path, "a", "--b=1"], cwd=str(tmp_path))
    ran_on_minitorch(r)
    assert r.stdout.splitlines()[-1] == "['a', '--b=1'] __main__"
    pytest.importorskip("torch")
    real = python([path, "a", "--b=1"], cwd=str(tmp_path))  # plain python: the real torch
    assert real.returncode == 0, real.stderr
    assert "RAN-ON torch ['torch', " in real.stderr  # PyTorch's own modules: the comparison is with PyTorch
    assert r.stdout == real.stdout


def test_dash_m_runs_a_module_as_main(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    torch_program(pkg, "prog.py", "import sys, torch.nn\nprint(__name__, sys.argv[0].endswith('prog.py'), "
                                  "sys.argv[1:], torch.nn.Linear(2, 3))\n")
    r = shim(["-m", "pkg.prog", "x", "-y"], cwd=str(tmp_path))
    ran_on_minitorch(r)
    assert r.stdout == "__main__ True ['x', '-y'] Linear(in_features=2, out_features=3, bias=True)\n"


def test_script_sees_its_folder_first_on_sys_path(tmp_path):
    (tmp_path / "helper.py").write_text("import torch\nVALUE = torch.ones(2).sum().item()\n")
    path = torch_program(tmp_path, "main.py", "import sys, helper\nprint(helper.VALUE, sys.path[0])\n")
    r = shim([path], cwd=ROOT)
    ran_on_minitorch(r)
    assert r.stdout == f"2.0 {tmp_path}\n"


def test_missing_torch_module_is_one_line_naming_it(tmp_path):
    path = tmp_path / "uses_missing.py"
    path.write_text("import torch.nn\nimport torch.nn.functional as F\nfrom torch.utils.data import DataLoader\n"
                    "import torch.no_such_module_here\n")
    r = shim([str(path)])
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        f"{path}:4: minitorch does not provide torch.no_such_module_here (there is no module "
        "minitorch.no_such_module_here)"]
    # a torch.X.Y under a module that is not a package
    path.write_text("from torch.utils.data import DataLoader\nfrom torch.utils.nope import thing\n")
    r = shim([str(path)])
    assert r.returncode == 1 and r.stderr.splitlines() == [
        f"{path}:2: minitorch does not provide torch.utils.nope (there is no module minitorch.utils.nope)"]


def test_as_torch_in_a_notebook_style_process():
    code = textwrap.dedent("""
        import sys
        import minitorch
        minitorch.as_torch()
        minitorch.as_torch()  # twice is harmless
        import torch, torch.nn.functional as F
        from torch.optim.lr_scheduler import CosineAnnealingLR
        assert torch is minitorch and F is minitorch.nn.functional
        assert sys.modules["torch.nn.functional"] is sys.modules["minitorch.nn.functional"]
        assert CosineAnnealingLR is minitorch.optim.lr_scheduler.CosineAnnealingLR
        import torch.backends.cudnn as cudnn
        assert cudnn is minitorch.backends.cudnn
        try:
            import torch.no_such_module_here
        except ModuleNotFoundError as e:
            print(e.name, "|", e)
        try:  # optional parts probed with `except ImportError` still work
            from torch import no_such_module_here
        except ImportError as e:
            print(type(e).__name__)
    """)
    r = python(["-c", code])
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "torch.no_such_module_here | minitorch does not provide torch.no_such_module_here (there is no module "
        "minitorch.no_such_module_here)", "ImportError"]


def test_as_torch_after_the_real_torch_is_an_error():
    pytest.importorskip("torch")
    r = python(["-c", "import torch, minitorch\ntry:\n    minitorch.as_torch()\nexcept RuntimeError as e:\n"
                      "    print(e)\nprint(torch.__name__, torch is minitorch)"])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("minitorch.as_torch(): PyTorch is already imported (") and "import torch" in lines[0]
    assert lines[1] == "torch False"


def test_spawned_children_get_minitorch_too(tmp_path):
    """torch.multiprocessing.spawn starts fresh interpreters that re-run the script: their `import torch` is
    minitorch as well (with the real torch installed, they would otherwise get it)"""
    path = torch_program(tmp_path, "spawn.py", textwrap.dedent("""
        import torch
        import torch.multiprocessing as mp

        def work(rank, q):
            import sys
            q.put((rank, sys.modules["torch"].__name__, float(torch.ones(3).sum())))

        if __name__ == "__main__":
            q = mp.get_context("spawn").SimpleQueue()
            mp.spawn(work, args=(q,), nprocs=2)
            print(sorted([q.get(), q.get()]))
    """))
    r = shim([path], cwd=str(tmp_path), timeout=120)
    ran_on_minitorch(r)
    assert r.stdout == "[(0, 'minitorch', 3.0), (1, 'minitorch', 3.0)]\n"


def test_usage(tmp_path):
    r = shim([str(tmp_path / "missing.py")])
    plain = python([str(tmp_path / "missing.py")])
    assert r.returncode == plain.returncode == 2 and r.stderr == plain.stderr
    r = shim([])
    assert r.returncode == 2 and r.stderr.startswith("usage: python -m minitorch.run script.py")
    r = shim(["--help"])
    assert r.returncode == 0 and r.stdout.startswith("usage: python -m minitorch.run script.py")

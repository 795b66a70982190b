"""Public PyTorch programs (tests/programs/, trimmed to random data and a few steps) run unchanged with `torch`
served by minitorch: each runs in a subprocess whose `import torch` finds a directory where torch is minitorch."""
import os
import subprocess
import sys

import pytest

import minitorch

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = sorted(f for f in os.listdir(os.path.join(HERE, "programs")) if f.endswith(".py"))


@pytest.fixture(scope="module")
def torch_shim(tmp_path_factory):
    d = tmp_path_factory.mktemp("shim")
    os.symlink(os.path.dirname(os.path.abspath(minitorch.__file__)), d / "torch")
    return str(d)


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_runs_with_minitorch_as_torch(name, torch_shim):
    env = dict(os.environ, PYTHONPATH=torch_shim)
    r = subprocess.run([sys.executable, os.path.join(HERE, "programs", name)], capture_output=True, text=True,
                       timeout=600, env=env, cwd=torch_shim)
    assert r.returncode == 0, r.stderr[-3000:]
    where = subprocess.run([sys.executable, "-c", "import os, torch; print(os.path.realpath(torch.__file__))"],
                           capture_output=True, text=True, env=env, cwd=torch_shim).stdout.strip()
    assert where == os.path.realpath(minitorch.__file__)  # the program ran on minitorch, not on PyTorch

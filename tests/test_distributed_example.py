"""examples/text_generation.py --distributed under the launcher: two ranks train the charrnn to the same
weights as one process on the whole batches (dropout off, same seed)."""
import os
import subprocess
import sys

import numpy as np
import pytest

from _dist_harness import ROOT, _source_tree, requires_mpi

import minitorch

pytestmark = requires_mpi
SCRIPT = os.path.join(ROOT, "examples", "text_generation.py")


def _env():
    env = dict(os.environ, MINITORCH_OFFLINE="1")
    # the minitorch under test: this checkout's only when the tests import it from here (not an installed copy)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT if _source_tree() else None, os.environ.get("PYTHONPATH"))
                                        if p)
    return env


def test_charrnn_distributed_matches_one_process(tmp_path):
    corpus = tmp_path / "text.txt"
    rng = np.random.default_rng(0)
    words = ["alice", "rabbit", "queen", "hatter", "tea", "down", "the", "hole", "said", "curious"]
    corpus.write_text(" ".join(rng.choice(words, 3000)))
    args = ["train", "--model", "charrnn", "--data", str(corpus), "--epochs", "1", "--max-batches", "3",
            "--batch-size", "8", "--seq-len", "20", "--hidden", "32", "--embed", "8", "--layers", "1",
            "--dropout", "0", "--seed", "3", "--no-progress"]
    one = subprocess.run([sys.executable, SCRIPT] + args + ["--checkpoint", str(tmp_path / "one.pth")], env=_env(),
                         capture_output=True, text=True, timeout=120)
    assert one.returncode == 0, one.stderr
    two = subprocess.run([sys.executable, "-m", "minitorch.distributed.run", "--nproc_per_node", "2", SCRIPT] + args
                         + ["--distributed", "--checkpoint", str(tmp_path / "two.pth")], env=_env(),
                         capture_output=True, text=True, timeout=120)
    assert two.returncode == 0, two.stdout + two.stderr
    assert "rank 0 of 2" in two.stdout and two.stdout.count("Epoch 0:") == 1  # rank 0 alone logs
    a, vocab_a = minitorch.load(str(tmp_path / "one.pth"))
    b, vocab_b = minitorch.load(str(tmp_path / "two.pth"))
    assert vocab_a == vocab_b and list(a) == list(b)  # no "module." prefix: the plain model is saved
    for k in a:
        np.testing.assert_allclose(b[k].numpy(), a[k].numpy(), rtol=1e-4, atol=1e-5, err_msg=k)

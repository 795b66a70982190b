"""The character-level GPT of examples/text_generation.py (nanoGPT's model.py): one training step (forward,
backward, gradient clipping, AdamW step) at the example's default size and at a larger one, and
F.scaled_dot_product_attention (causal) forward + backward alone; minitorch vs PyTorch in one process, the two
run alternately (a busy spell of a shared machine slows both rather than skewing the ratio), best of --steps.
Both run the example's own model code: its source with `import torch` is the PyTorch program.

    python bench/bench_transformer.py [--steps N] [--threads N] [--no-torch]

ratio = PyTorch time / minitorch time (> 1: minitorch faster).
"""
import argparse
import os
import re
import types

import numpy as np

import _bench  # noqa: F401  (first: picks the built source tree or the installed minitorch)
from _bench import time_pair  # noqa: E402
import minitorch

try:
    import torch
except ImportError:
    torch = None

EXAMPLE = os.path.join(_bench.ROOT, "examples", "text_generation.py")
VOCAB = 47  # Alice, lower-cased
CONFIGS = [  # (label, GPTConfig fields, batch)
    ("GPT L4 H4 E128 T64 (default)", dict(n_layer=4, n_head=4, n_embd=128, block_size=64), 32),
    ("GPT L4 H4 E256 T128", dict(n_layer=4, n_head=4, n_embd=256, block_size=128), 32),
]
ATTENTION = [(32, 4, 64, 32), (32, 4, 256, 32)]  # B, H, T, D


def example_on(lib):
    """examples/text_generation.py as a module on `lib` (for torch its imports of minitorch become torch's)."""
    with open(EXAMPLE, encoding="utf-8") as f:
        src = f.read()
    if lib is not minitorch:
        src = re.sub(r"^(\s*(?:import|from)\s+)minitorch\b", r"\1torch", src, flags=re.M)
    mod = types.ModuleType(f"text_generation_on_{lib.__name__}")
    exec(compile(src, EXAMPLE, "exec"), mod.__dict__)
    return mod


def gpt_step(lib, fields, batch):
    """train_gpt's step on a fixed random batch"""
    tg = example_on(lib)
    lib.manual_seed(0)
    model = tg.GPT(tg.GPTConfig(vocab_size=VOCAB, **fields))
    model.train()
    opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.99))
    rng = np.random.default_rng(0)
    x, y = (lib.tensor(rng.integers(0, VOCAB, (batch, fields["block_size"]))) for _ in range(2))

    def step():
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    return step


def attention_step(lib, shape):
    rng = np.random.default_rng(0)
    q, k, v = (lib.tensor(rng.standard_normal(shape, dtype=np.float32), requires_grad=True) for _ in range(3))
    g = lib.tensor(rng.standard_normal(shape, dtype=np.float32))

    def step():
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        out.backward(g)
        q.grad = k.grad = v.grad = None

    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=None, help="set_num_threads for both (default: theirs)")
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args()
    use_torch = torch is not None and not args.no_torch
    if args.threads:
        minitorch.set_num_threads(args.threads)
        if use_torch:
            torch.set_num_threads(args.threads)
    print(f"threads: minitorch {minitorch.get_num_threads()}"
          + (f", PyTorch {torch.get_num_threads()} ({torch.__version__})" if use_torch else "") + "; best of "
          f"{args.steps}")
    rows = []
    for label, fields, batch in CONFIGS:
        tm, tt = time_pair(lambda lib: gpt_step(lib, fields, batch), args.steps, use_torch)
        rows.append((f"{label} B{batch} train step", tm, tt))
    for shape in ATTENTION:
        tm, tt = time_pair(lambda lib: attention_step(lib, shape), args.steps, use_torch)
        b, h, t, d = shape
        rows.append((f"SDPA causal fwd+bwd B{b} H{h} T{t} D{d}", tm, tt))
    _bench.print_table(["workload (float32)", "minitorch", "PyTorch", "ratio"],
                       [[w, f"{tm * 1e3:.1f} ms", f"{tt * 1e3:.1f} ms", f"{tt / tm:.2f}x"] for w, tm, tt in rows])


if __name__ == "__main__":
    main()

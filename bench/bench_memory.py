"""Peak memory (max RSS) of the tutorial model's training run, minitorch against PyTorch: the
text generator itself (examples/text_generation.py train --model tutorial), each library in a fresh
child process; PyTorch runs the same file through a shim that maps the minitorch modules it imports
onto torch's. By default one epoch cut to 30 training batches (the step's buffers are the same for
every batch) plus the epoch-end evaluation over 30 batches.

    python bench/bench_memory.py [--max-batches N] [--layers L] [--data PATH]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import _bench  # picks the built source tree or the installed minitorch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "text_generation.py")

# the example's own imports (minitorch, minitorch.nn, minitorch.optim, minitorch.utils.data) as torch's
TORCH_SHIM = """
import runpy, sys
import torch, torch.nn, torch.optim, torch.utils.data
for name, mod in [("minitorch", torch), ("minitorch.nn", torch.nn), ("minitorch.optim", torch.optim),
                  ("minitorch.utils", torch.utils), ("minitorch.utils.data", torch.utils.data)]:
    sys.modules[name] = mod
sys.argv = [%r] + sys.argv[1:]
runpy.run_path(%r, run_name="__main__")
""" % (EXAMPLE, EXAMPLE)


def peak_rss_mib(cmd, cwd, env):
    """run cmd to the end; its peak resident set size in MiB (ru_maxrss is in KiB on Linux)"""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed:\n{out[-3000:]}")
    return usage.ru_maxrss / 1024, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-batches", type=int, default=30)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--data", default=None, help="text file (default: the example's: $MINITORCH_DATA, else its cache)")
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args()
    env = dict(os.environ)
    if _bench.SOURCE_TREE:  # the children import the minitorch this script would
        env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with tempfile.TemporaryDirectory() as tmp:
        train = ["train", "--model", "tutorial", "--epochs", "1", "--max-batches", str(args.max_batches),
                 "--layers", str(args.layers), "--no-progress", "--seed", "0",
                 "--checkpoint", os.path.join(tmp, "model.pth")]
        if args.data:
            train += ["--data", os.path.abspath(args.data)]
        runs = [("minitorch", [sys.executable, EXAMPLE] + train)]
        if not args.no_torch:
            runs.append(("torch", [sys.executable, "-c", TORCH_SHIM] + train))
        print(f"tutorial model, {args.layers} layer(s), {args.max_batches} training batches + evaluation")
        for name, cmd in runs:
            rss, out = peak_rss_mib(cmd, tmp, env)
            last = [line for line in out.splitlines() if line.startswith("Epoch")]
            print(f"{name:10s} peak RSS {rss:7.1f} MiB   {last[-1] if last else ''}")


if __name__ == "__main__":
    main()

"""Run a PyTorch program unchanged on minitorch:

    python -m minitorch.run script.py [args...]
    python -m minitorch.run -m package.module [args...]

Every `import torch`, `import torch.nn as nn`, `from torch.utils.data import DataLoader`, ... in that
process (and in the processes it spawns) gets minitorch's module of the same name; the program runs as
`python script.py args...` would (`__name__ == "__main__"`, sys.argv and sys.path[0] as it expects).
A torch module that minitorch lacks stops the program with one line naming it.
(Not torchrun: that is `python -m minitorch.distributed.run`.)"""
import os
import runpy
import sys

from ._as_torch import MissingTorchModule, as_torch

USAGE = "usage: python -m minitorch.run script.py [args...]\n       python -m minitorch.run -m module [args...]"


def _import_site(exc):
    """'file:line' of the innermost frame outside the import machinery: the program's import statement."""
    site, tb = None, exc.__traceback__
    skip = (os.path.abspath(__file__), os.path.join(os.path.dirname(os.path.abspath(__file__)), "_as_torch.py"),
            runpy.__file__)
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if not name.startswith("<frozen") and os.path.abspath(name) not in skip:
            site = f"{name}:{tb.tb_lineno}"
        tb = tb.tb_next
    return site


def main(argv=None):
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args == ["-m"]:
        print(USAGE, file=sys.stderr)
        return 2
    if args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    as_torch()
    try:
        if args[0] == "-m":
            sys.argv = args[1:]  # run_module puts the module's file in sys.argv[0], as `python -m` does
            runpy.run_module(args[1], run_name="__main__", alter_sys=True)
        else:
            if not os.path.exists(args[0]):  # as python says it, not a traceback from runpy
                print(f"{sys.executable}: can't open file {os.path.abspath(args[0])!r}: [Errno 2] No such file "
                      "or directory", file=sys.stderr)
                return 2
            sys.argv = args
            sys.path[0] = os.path.dirname(os.path.abspath(args[0]))  # the script's folder, as `python script.py`
            runpy.run_path(args[0], run_name="__main__")
    except MissingTorchModule as e:  # one line naming what is missing, not a traceback into importlib
        site = _import_site(e)
        print(f"{site}: {e}" if site else str(e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

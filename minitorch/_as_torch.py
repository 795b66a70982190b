"""`import torch` served by minitorch: a sys.meta_path finder that aliases `torch` to `minitorch` and
`torch.X` to `minitorch.X`, so that one module object answers to both names (`torch.nn is minitorch.nn`,
`sys.modules['torch.nn'] is sys.modules['minitorch.nn']`): a class defined once, one set of globals
(default dtype, RNG, grad mode), whichever name the code used.

Used by `python -m minitorch.run script.py` and `minitorch.as_torch()` (notebooks)."""
import importlib
import importlib.abc
import importlib.util
import sys


class MissingTorchModule(ModuleNotFoundError):
    """A `torch.X` that minitorch does not have (a ModuleNotFoundError, so that `except ImportError` probes
    for optional torch parts still work)."""


class _AliasLoader(importlib.abc.Loader):
    """Loads `torch.X` by putting the already imported `minitorch.X` under that name: the import system reads
    the module back from sys.modules after exec_module, so the placeholder it created is dropped."""

    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        return None  # a throwaway placeholder (see exec_module)

    def exec_module(self, module):
        sys.modules[module.__name__] = self.module


class _TorchFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        real = "minitorch" + fullname[len("torch"):]
        try:
            module = importlib.import_module(real)
        except ModuleNotFoundError as e:
            # only a missing minitorch.X itself is "minitorch lacks torch.X"; a module that minitorch.X
            # needs and cannot find is that module's own error
            if e.name is None or e.name == "minitorch" or not (real == e.name or real.startswith(e.name + ".")):
                raise
            raise MissingTorchModule(f"minitorch does not provide {fullname} (there is no module {real})",
                                     name=fullname) from None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(module))


_FINDER = _TorchFinder()


def _is_alias(name, module):
    return sys.modules.get("minitorch" + name[len("torch"):]) is module


class _AsTorchInChild:
    """Unpickled in a child started with the "spawn" method (torch.multiprocessing.spawn) before the child
    re-runs the parent's main script, so that the script's `import torch` gets minitorch there too."""

    def __reduce__(self):
        return as_torch, ()


def _serve_spawned_children():
    import multiprocessing.spawn as spawn

    original = spawn.get_preparation_data
    if getattr(original, "_minitorch_as_torch", False):
        return

    def get_preparation_data(name):
        data = original(name)
        data["minitorch_as_torch"] = _AsTorchInChild()  # prepare() ignores keys it does not know
        return data

    get_preparation_data._minitorch_as_torch = True
    spawn.get_preparation_data = get_preparation_data


def as_torch():
    """Make every later `import torch` / `import torch.X` / `from torch.X import Y` in this process (and in
    processes it spawns) resolve to minitorch's module of the same name. Call it before the first
    `import torch`; a torch module minitorch lacks raises ModuleNotFoundError naming it.

    Raises RuntimeError if the real torch is already imported: mixing its tensors with minitorch's
    would fail far from the cause."""
    real = sorted(n for n, m in list(sys.modules.items())
                  if (n == "torch" or n.startswith("torch.")) and m is not None and not _is_alias(n, m))
    if real:
        where = getattr(sys.modules.get(real[0]), "__file__", None) or real[0]
        raise RuntimeError(f"minitorch.as_torch(): PyTorch is already imported ({where}); call it before the "
                           "first `import torch` (in a notebook: restart the kernel)")
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)  # first: ahead of the path finder that would find a real torch
    _serve_spawned_children()

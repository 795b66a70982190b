"""minitorch.autograd.graph: graph nodes (grad_fn objects) and gradient-hook handles."""
from .. import _C

Node = _C.Node


class _HookHandle:
    """What register_hook / register_prehook / register_post_accumulate_grad_hook return:
    remove() unregisters the hook (a second remove() does nothing), usable as a context manager."""

    __slots__ = ("id",)

    def __init__(self, hook_id):
        self.id = hook_id

    def remove(self):
        _C._hook_remove(self.id)

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.remove()


def _add_hook(target, kind, hook):
    return _C._hook_add(target, kind, hook)

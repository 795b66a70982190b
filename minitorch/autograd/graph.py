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


class saved_tensors_hooks:
    """torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook). minitorch's nodes keep their saved
    tensors in C and cannot hand them to Python hooks: entering the context raises, rather than
    running the graph without the hooks the program relies on."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        raise NotImplementedError("minitorch does not support torch.autograd.graph.saved_tensors_hooks "
                                  "(pack/unpack hooks on saved tensors)")

    def __exit__(self, *args):
        return False


class save_on_cpu:
    """torch.autograd.graph.save_on_cpu(pin_memory=False, device_type="cuda"): saved tensors would wait on
    the CPU between forward and backward. minitorch keeps them where they are, which gives the same
    gradients (only device memory use differs); CPU tensors are unaffected either way."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        self.pin_memory = pin_memory
        self.device_type = device_type

    def __enter__(self):
        return self

    def __exit__(self, *args):
        return False


class disable_saved_tensors_hooks:
    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        return self

    def __exit__(self, *args):
        return False

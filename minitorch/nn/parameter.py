"""nn.Parameter: a Tensor subclass that Modules register as a learnable parameter (PyTorch's semantics)."""
from .._C import TensorBase
from .._tensor import Tensor

__all__ = ["Parameter", "Buffer"]


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class Parameter(Tensor):
    """A Tensor that is a module parameter: assigning one as a Module attribute registers it.

    `Parameter(data)` shares data's storage (a detached alias) and requires grad by default.
    Results of operations on a Parameter are plain Tensors.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from .._creation import empty
            data = empty(0)
        elif not isinstance(data, TensorBase):
            raise TypeError(f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}")
        if requires_grad and not data.dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        return cls._make_subclass(data, bool(requires_grad))

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (self.detach(), self.requires_grad))



class _BufferMeta(type):
    """isinstance(t, Buffer) is true for the tensors Buffer(...) made (as torch's)."""

    def __instancecheck__(cls, instance):
        return isinstance(instance, TensorBase) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """nn.Buffer(data, persistent=True): a tensor marked so that assigning it as a Module attribute registers it as a
    buffer (in state_dict unless persistent=False). It is a plain Tensor sharing data's storage."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            from .._creation import empty
            data = empty(0)
        if not isinstance(data, TensorBase):
            raise TypeError(f"Buffer(): argument 'data' must be Tensor, not {type(data).__name__}")
        t = data.detach().requires_grad_(data.requires_grad)
        t._is_buffer = True
        t.persistent = persistent
        return t

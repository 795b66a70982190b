"""nn.Parameter: a Tensor subclass that Modules register as a learnable parameter (PyTorch's semantics)."""
from .._C import TensorBase
from .._tensor import Tensor

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "UninitializedTensorMixin",
           "is_lazy"]


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


# ------------------------------------------------------------------------------------------------- lazy tensors
# The methods an uninitialised parameter / buffer still answers (torch's _allowed_methods); attribute reads of the
# tensor's properties (dtype, device, requires_grad, grad, data, ...) are allowed too, as in torch, but not shape.
_LAZY_ALLOWED = frozenset(("size", "copy_", "is_complex", "is_floating_point", "half", "float", "double", "char",
                           "short", "int", "long", "cuda", "cpu", "to", "get_device", "materialize", "cls_to_become",
                           "share_memory_", "requires_grad_", "detach"))


def _lazy_use_error(cls, func):
    return ValueError(
        f"Attempted to use an uninitialized parameter in {func}. This error happens when you are using a "
        f"`LazyModule` or explicitly manipulating `torch.nn.parameter.{cls.__name__}` objects. When using "
        "LazyModules Call `forward` with a dummy batch to initialize the parameters before calling torch functions")


def _is_data_descriptor(attr):
    return hasattr(type(attr), "__set__") or isinstance(attr, property)


class UninitializedTensorMixin:
    """An empty placeholder whose shape a lazy module infers at its first forward: materialize(shape) gives it
    storage and turns it into cls_to_become (Parameter / Tensor), the same object.

    torch refuses every op on it through __torch_function__; minitorch refuses its methods and operators here
    (ValueError, torch's message), but a free function handed one directly (minitorch.sum(p)) sees an empty
    tensor."""

    def materialize(self, shape, device=None, dtype=None):
        """Allocates (uninitialised) storage of the given shape and makes this object a cls_to_become."""
        from .._creation import empty
        data = object.__getattribute__(self, "data")
        if device is None:
            device = data.device
        if dtype is None:
            dtype = data.dtype
        self.data = empty(shape, device=device, dtype=dtype)
        self.__class__ = self.cls_to_become

    def __getattribute__(self, name):
        if name.startswith("_") or name in _LAZY_ALLOWED:
            return object.__getattribute__(self, name)
        cls = type(self)
        for klass in cls.__mro__:
            if name in klass.__dict__:
                attr = klass.__dict__[name]
                if _is_data_descriptor(attr):  # a property (shape raises below; the others are allowed)
                    return object.__getattribute__(self, name)
                raise _lazy_use_error(cls, f"<method '{name}' of 'torch._C.TensorBase' objects>")
        return object.__getattribute__(self, name)

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
            "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call "
            "`forward` to initialize the parameters before accessing their attributes.")

    def share_memory_(self):
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. Call `forward` to initialize the parameters "
            "before calling `module.share_memory()`.")

    def __repr__(self):
        return f"<{self.__class__.__name__}>"

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        return (self.__class__, (self.requires_grad,))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.requires_grad, self.data.device, self.data.dtype)
        memo[id(self)] = result
        return result


def _refuse(op):
    def method(self, *args, **kwargs):
        raise _lazy_use_error(type(self), f"<method '{op}' of 'torch._C.TensorBase' objects>")
    return method


# the operators (looked up on the type, so __getattribute__ does not see them)
for _dunder, _op in (("add", "add"), ("radd", "add"), ("iadd", "add_"), ("sub", "sub"), ("rsub", "sub"),
                     ("isub", "sub_"), ("mul", "mul"), ("rmul", "mul"), ("imul", "mul_"), ("truediv", "div"),
                     ("rtruediv", "div"), ("itruediv", "div_"), ("floordiv", "floor_divide"),
                     ("matmul", "matmul"), ("rmatmul", "matmul"), ("pow", "pow"), ("rpow", "pow"), ("neg", "neg"),
                     ("abs", "abs"), ("getitem", "__getitem__"), ("setitem", "__setitem__"), ("len", "__len__"),
                     ("iter", "__iter__"), ("bool", "__bool__"), ("float", "__float__"), ("int", "__int__"),
                     ("lt", "lt"), ("le", "le"), ("gt", "gt"), ("ge", "ge"), ("mod", "remainder")):
    setattr(UninitializedTensorMixin, f"__{_dunder}__", _refuse(_op))
del _dunder, _op


def is_lazy(param):
    """Whether param is an UninitializedParameter or UninitializedBuffer."""
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is not known yet (LazyLinear's weight, ...): see UninitializedTensorMixin."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        from .._creation import empty
        data = empty(0, **{k: v for k, v in (("device", device), ("dtype", dtype)) if v is not None})
        return cls._make_subclass(data, bool(requires_grad))

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (LazyBatchNorm's running_mean, ...): see UninitializedTensorMixin."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        from .._creation import empty
        data = empty(0, **{k: v for k, v in (("device", device), ("dtype", dtype)) if v is not None})
        t = cls._make_subclass(data, bool(requires_grad))
        t.persistent = persistent
        t._is_buffer = True
        return t

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass

"""dtype, device and Size: the small value types of the PyTorch API."""
import builtins


class dtype:
    """A tensor element type (minitorch.float32, ...). Compared by identity, like torch.dtype."""

    __slots__ = ("name", "itemsize", "is_floating_point", "is_signed", "_np")

    def __init__(self, name, itemsize, is_floating_point, is_signed, np_name):
        self.name = name
        self.itemsize = itemsize
        self.is_floating_point = is_floating_point
        self.is_signed = is_signed
        self._np = np_name

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    @property
    def is_complex(self):
        return False


bool_ = dtype("bool", 1, False, False, "bool")
int32 = dtype("int32", 4, False, True, "int32")
int64 = dtype("int64", 8, False, True, "int64")
float32 = dtype("float32", 4, True, True, "float32")
float64 = dtype("float64", 8, True, True, "float64")
ALL_DTYPES = (bool_, int32, int64, float32, float64)  # the order of mt_dtype in csrc/core/mt.h
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME["bool"] = bool_
# PyTorch's scalar-type names, as its error messages print them ("has dtype Long")
SCALAR_TYPE_NAMES = {bool_: "Bool", int32: "Int", int64: "Long", float32: "Float", float64: "Double"}


def _dtype_by_name(name):
    return _BY_NAME[name]


class device:
    """minitorch.device("cuda:0"), device("cpu"), device("cuda", 1)."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({builtins.type(type).__name__})")
        if ":" in type:
            if index is not None:
                raise ValueError("type (string) must not include an index because index was passed explicitly: " + type)
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, xla, lazy, "
                f"vulkan, mps, meta, hpu, mtia, privateuseone device type at start of device string: {type}")
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type = type
        self.index = index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


class Size(tuple):
    """The shape of a tensor: a tuple that prints as torch.Size([2, 3])."""

    def __repr__(self):
        return "torch.Size([" + ", ".join(str(int(s)) for s in self) + "])"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, other))

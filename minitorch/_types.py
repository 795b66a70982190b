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
# storage dtypes: the CPU computes them in float32 / int32 and rounds once per op (csrc/ops/narrow.c)
uint8 = dtype("uint8", 1, False, False, "uint8")
int8 = dtype("int8", 1, False, True, "int8")
int16 = dtype("int16", 2, False, True, "int16")
float16 = dtype("float16", 2, True, True, "float16")
bfloat16 = dtype("bfloat16", 2, True, True, None)  # NumPy has no bfloat16
ALL_DTYPES = (bool_, int32, int64, float32, float64, uint8, int8, int16, float16, bfloat16)  # mt_dtype's order (csrc/core/mt.h)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME["bool"] = bool_
# PyTorch's scalar-type names, as its error messages print them ("has dtype Long")
SCALAR_TYPE_NAMES = {bool_: "Bool", int32: "Int", int64: "Long", float32: "Float", float64: "Double", uint8: "Byte",
                     int8: "Char", int16: "Short", float16: "Half", bfloat16: "BFloat16"}


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


# (bits, eps, max, smallest normal, resolution) of each floating dtype, as torch.finfo reports them
_FINFO = {"float16": (16, 2.0 ** -10, 65504.0, 2.0 ** -14, 0.001),
          "bfloat16": (16, 2.0 ** -7, 3.3895313892515355e38, 2.0 ** -126, 0.01),
          "float32": (32, 2.0 ** -23, 3.4028234663852886e38, 2.0 ** -126, 1e-06),
          "float64": (64, 2.0 ** -52, 1.7976931348623157e308, 2.0 ** -1022, 1e-15)}
_IINFO = {"uint8": (8, 0, 255), "int8": (8, -128, 127), "int16": (16, -(1 << 15), (1 << 15) - 1),
          "int32": (32, -(1 << 31), (1 << 31) - 1), "int64": (64, -(1 << 63), (1 << 63) - 1)}


class finfo:
    """torch.finfo(dtype=None): the limits of a floating dtype (the default dtype when omitted)."""

    def __init__(self, type=None):
        if type is None:
            from ._creation import get_default_dtype
            type = get_default_dtype()
        if not isinstance(type, dtype) or type.name not in _FINFO:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle 'torch.finfo'")
        self.bits, self.eps, self.max, self.smallest_normal, self.resolution = _FINFO[type.name]
        self.min = -self.max
        self.tiny = self.smallest_normal
        self.dtype = type.name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """torch.iinfo(dtype): the limits of an integer dtype."""

    def __init__(self, type):
        if type is bool_:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if not isinstance(type, dtype) or type.name not in _IINFO:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        self.bits, self.min, self.max = _IINFO[type.name]
        self.dtype = type.name

    def __repr__(self):
        return f"iinfo(min={float(self.min):g}, max={float(self.max):g}, dtype={self.dtype})"

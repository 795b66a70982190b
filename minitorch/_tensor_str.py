"""Tensor printing, a NumPy port of PyTorch 2.x's ``torch/_tensor_str.py``.

The core hands us a NumPy copy of a tensor's values plus its metadata; we return
exactly the string ``repr(torch_tensor)`` would give for the equivalent torch tensor.
The structure (``_Formatter``, ``_vector_str``, ``_tensor_str_with_formatter``,
``get_summarized_data``, ``_add_suffixes``) mirrors torch's so the two can be
compared side by side; quirks of torch's code are kept on purpose and marked.
Only dense strided tensors of real dtypes are handled (no complex, sparse,
quantized or nested tensors).
"""

import contextlib
import dataclasses
import math
from typing import Any

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "printoptions", "format_tensor"]


@dataclasses.dataclass
class _PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrinterOptions()


def set_printoptions(
    precision=None,
    threshold=None,
    edgeitems=None,
    linewidth=None,
    profile=None,
    sci_mode=None,
):
    """Set options for printing; same semantics as ``torch.set_printoptions``.

    ``profile`` ("default", "short" or "full") is applied first, then any explicit
    option overrides it. Like torch, ``sci_mode`` is always assigned, so a call that
    omits it resets it to None (automatic).
    """
    if profile is not None:
        if profile == "default":
            PRINT_OPTS.precision = 4
            PRINT_OPTS.threshold = 1000
            PRINT_OPTS.edgeitems = 3
            PRINT_OPTS.linewidth = 80
        elif profile == "short":
            PRINT_OPTS.precision = 2
            PRINT_OPTS.threshold = 1000
            PRINT_OPTS.edgeitems = 2
            PRINT_OPTS.linewidth = 80
        elif profile == "full":
            PRINT_OPTS.precision = 4
            PRINT_OPTS.threshold = math.inf
            PRINT_OPTS.edgeitems = 3
            PRINT_OPTS.linewidth = 80

    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current options, as a dict that can be passed back to set_printoptions()."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Context manager that temporarily changes the print options."""
    old_kwargs = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old_kwargs)


# dtype name -> NumPy dtype used to hold the values (None: keep what we were given,
# e.g. bfloat16, which NumPy lacks; the core then hands us float32 values).
_FLOAT_DTYPES = {"float16": np.float16, "bfloat16": None, "float32": np.float32, "float64": np.float64}
_OTHER_DTYPES = {
    "bool": np.bool_,
    "uint8": np.uint8,
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
}
_DTYPE_ALIASES = {
    "float": "float32",
    "double": "float64",
    "half": "float16",
    "short": "int16",
    "int": "int32",
    "long": "int64",
}


def _normalize_dtype(dtype) -> str:
    name = str(dtype)
    if name.startswith("torch."):
        name = name[len("torch."):]
    return _DTYPE_ALIASES.get(name, name)


def _fmt_width(values, spec):
    """Longest ``format(v, spec)`` over the given Python floats."""
    return max(len(format(v, spec)) for v in values)


class _Formatter:
    """Decides how every element of a tensor is printed (torch's _Formatter).

    ``values`` are the (possibly summarised) values that will be printed.
    """

    def __init__(self, values, floating_dtype):
        self.floating_dtype = floating_dtype
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1

        flat = values.reshape(-1)
        if flat.size == 0:
            return

        if not self.floating_dtype:
            # torch takes the longest f"{value}" over all values. For ints (and bools:
            # "False" is longer than "True") the longest string belongs to the minimum
            # or the maximum, so only those two need formatting.
            for value in (flat.min().item(), flat.max().item()):
                self.max_width = max(self.max_width, len(f"{value}"))
            return

        nonzero_finite_vals = flat[np.isfinite(flat) & (flat != 0)]
        if nonzero_finite_vals.size == 0:
            # no valid number, do nothing
            return

        # torch does the magnitude arithmetic in double.
        nonzero_finite_abs = np.abs(nonzero_finite_vals).astype(np.float64)
        nonzero_finite_min = float(nonzero_finite_abs.min())
        nonzero_finite_max = float(nonzero_finite_abs.max())

        if np.any(nonzero_finite_vals != np.ceil(nonzero_finite_vals)):
            self.int_mode = False

        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = (
                nonzero_finite_max / nonzero_finite_min > 1000.0
                or nonzero_finite_max > 1.0e8
                or nonzero_finite_min < 1.0e-4
            )
        else:
            self.sci_mode = PRINT_OPTS.sci_mode

        # torch formats every value to find the widest. Within one sign, the length of
        # "{:.Nf}" never decreases as |v| grows, and the length of "{:.Ne}" depends only
        # on the exponent's digit count, which is largest at the smallest or largest
        # |v|. So the widest string is always among the smallest/largest positive and
        # negative values, which keeps this O(n) in NumPy instead of a Python loop.
        pos = nonzero_finite_vals[nonzero_finite_vals > 0]
        neg = nonzero_finite_vals[nonzero_finite_vals < 0]
        candidates = [float(v) for part in (pos, neg) if part.size for v in (part.min(), part.max())]

        if self.sci_mode:
            self.max_width = max(self.max_width, _fmt_width(candidates, f".{PRINT_OPTS.precision}e"))
        elif self.int_mode:
            # In int_mode all numbers are integers and a "." is appended to show the
            # tensor is floating point; add 1 to the length to account for it.
            self.max_width = max(self.max_width, _fmt_width(candidates, ".0f") + 1)
        else:
            self.max_width = max(self.max_width, _fmt_width(candidates, f".{PRINT_OPTS.precision}f"))

    def width(self):
        return self.max_width

    def format(self, value):
        if self.floating_dtype:
            if self.sci_mode:
                ret = f"{{:{self.max_width}.{PRINT_OPTS.precision}e}}".format(value)
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{{:.{PRINT_OPTS.precision}f}}".format(value)
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _scalar_str(values, formatter):
    return formatter.format(values.item())


def _vector_str(values, indent, summarize, formatter):
    # length includes spaces and comma between elements
    element_length = formatter.width() + 2
    elements_per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))

    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        data = ["..."]
    elif summarize and values.shape[0] > 2 * edge:
        data = (
            [formatter.format(v) for v in values[:edge].tolist()]
            + [" ..."]
            + [formatter.format(v) for v in values[-edge:].tolist()]
        )
    else:
        data = [formatter.format(v) for v in values.tolist()]

    data_lines = [data[i : i + elements_per_line] for i in range(0, len(data), elements_per_line)]
    lines = [", ".join(line) for line in data_lines]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(values, indent, summarize, formatter):
    dim = values.ndim

    if dim == 0:
        return _scalar_str(values, formatter)

    if dim == 1:
        return _vector_str(values, indent, summarize, formatter)

    edge = PRINT_OPTS.edgeitems
    n = values.shape[0]
    if summarize and n > 2 * edge:
        slices = (
            [_tensor_str_with_formatter(values[i], indent + 1, summarize, formatter) for i in range(edge)]
            + ["..."]
            + [_tensor_str_with_formatter(values[i], indent + 1, summarize, formatter) for i in range(n - edge, n)]
        )
    else:
        slices = [_tensor_str_with_formatter(values[i], indent + 1, summarize, formatter) for i in range(n)]

    # One blank line between 2-D blocks of a 3-D tensor, two between 3-D blocks, ...
    tensor_str = ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(slices)
    return "[" + tensor_str + "]"


def get_summarized_data(values):
    """The values a summarised print actually shows (edge items of every dim)."""
    dim = values.ndim
    edge = PRINT_OPTS.edgeitems
    if dim == 0:
        return values
    if dim == 1:
        if values.shape[0] > 2 * edge:
            # Quirk kept from torch: with edgeitems == 0, values[-0:] is the whole
            # vector, so the formatter still sees every value.
            return np.concatenate((values[:edge], values[-edge:]))
        return values
    if not edge:
        return np.empty((0,) * dim, dtype=values.dtype)
    n = values.shape[0]
    if n > 2 * edge:
        rows = list(range(edge)) + list(range(n - edge, n))
    else:
        rows = range(n)
    return np.stack([get_summarized_data(values[i]) for i in rows])


def _tensor_str(values, indent, floating_dtype):
    if values.size == 0:
        return "[]"

    summarize = values.size > PRINT_OPTS.threshold
    formatter = _Formatter(get_summarized_data(values) if summarize else values, floating_dtype)
    return _tensor_str_with_formatter(values, indent, summarize, formatter)


def _add_suffixes(tensor_str, suffixes, indent, force_newline):
    tensor_strs = [tensor_str]
    # (sic) torch's "+ 1" overestimates the last line's length by 2; kept for parity.
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        suffix_len = len(suffix)
        if force_newline or last_line_len + suffix_len + 2 > PRINT_OPTS.linewidth:
            tensor_strs.append(",\n" + " " * indent + suffix)
            last_line_len = indent + suffix_len
            force_newline = False
        else:
            tensor_strs.append(", " + suffix)
            last_line_len += suffix_len + 2
    tensor_strs.append(")")
    return "".join(tensor_strs)


def format_tensor(
    values,
    *,
    dtype,
    device=None,
    requires_grad=False,
    grad_fn=None,
    prefix="tensor(",
    default_dtype="float32",
):
    """Return ``repr()`` of a tensor, exactly as PyTorch prints it.

    values: NumPy array holding the tensor's values (any shape, incl. 0-d and empty).
    dtype: torch dtype name without "torch." ("float32", "float64", "int64", "int32",
        "bool", ...).
    device: None (or "cpu") for CPU, else e.g. "cuda:0", printed as device='cuda:0'.
    requires_grad / grad_fn: grad_fn is a node name such as "SumBackward0"; when given
        it is printed as grad_fn=<SumBackward0> instead of requires_grad=True.
    prefix: opening text; continuation lines are indented by its length.
    default_dtype: torch.get_default_dtype()'s name; its dtype is never printed.
    """
    dtype = _normalize_dtype(dtype)
    default_dtype = _normalize_dtype(default_dtype)
    floating_dtype = dtype in _FLOAT_DTYPES
    np_dtype = _FLOAT_DTYPES.get(dtype) if floating_dtype else _OTHER_DTYPES.get(dtype)
    values = np.asarray(values)
    if np_dtype is not None:
        # Values must be rounded to the tensor's dtype for the formatting decisions
        # (int_mode, sci_mode, widths) to match torch.
        values = values.astype(np_dtype, copy=False)
    elif floating_dtype and values.dtype.kind != "f":
        values = values.astype(np.float32)

    indent = len(prefix)
    suffixes = []

    # torch prints the device whenever it is not the default (CPU) device.
    if device is not None and str(device) != "cpu":
        suffixes.append(f"device='{device}'")

    dtype_str = "torch." + dtype
    if values.size == 0:
        # Explicitly print the shape if it is not (0,), to match NumPy behavior.
        if values.ndim != 1:
            suffixes.append("size=" + str(tuple(int(s) for s in values.shape)))
        # In an empty tensor there are no elements to infer whether the dtype is
        # int64 from, so anything but the default dtype is shown explicitly.
        if dtype != default_dtype:
            suffixes.append("dtype=" + dtype_str)
        tensor_str = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(int(s) for s in values.shape)))
        # int64 and bool are recognisable from the printed values, so not shown.
        if dtype not in (default_dtype, "int64", "bool"):
            suffixes.append("dtype=" + dtype_str)
        tensor_str = _tensor_str(values, indent, floating_dtype)

    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")

    return _add_suffixes(prefix + tensor_str, suffixes, indent, force_newline=False)

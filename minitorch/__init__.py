"""minitorch: a PyTorch-like deep-learning library with a C core.

    import minitorch as torch
"""
from . import _blas

_blas.load()

from . import _C  # noqa: E402
from ._C import Generator, cat, tril_indices, triu_indices, default_generator, get_num_threads, set_num_threads, get_rng_state, initial_seed, is_grad_enabled, manual_seed, set_rng_state, stack, where  # noqa: E402,F401
from ._C import is_inference_mode_enabled, promote_types  # noqa: E402,F401
from ._types import Size, device, dtype, finfo, iinfo  # noqa: E402,F401
from ._types import bool_ as bool  # noqa: E402,F401  (shadows the builtin inside this module only, like torch.bool)
from ._types import bfloat16, float16, float32, float64, int8, int16, int32, int64, uint8  # noqa: E402,F401
from ._tensor import Tensor  # noqa: E402
from ._tensor_str import set_printoptions, get_printoptions  # noqa: E402,F401
from ._creation import (  # noqa: E402,F401
    BFloat16Tensor, BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor, ShortTensor, arange, as_tensor, empty, empty_like, eye, from_dlpack, from_numpy, full, full_like, get_default_dtype, linspace, multinomial,
    normal, ones, ones_like, rand, rand_like, randint, randn, randn_like, randperm, set_default_dtype, tensor, zeros,
    zeros_like,
)
from . import autograd, cuda, return_types  # noqa: E402,F401  (importing cuda registers its kernels)
from . import accelerator  # noqa: E402,F401
from . import amp  # noqa: E402,F401
from .amp import autocast, get_autocast_dtype, is_autocast_enabled  # noqa: E402,F401
from .autograd import enable_grad, inference_mode, no_grad, set_grad_enabled  # noqa: E402,F401

float = float32
double = float64
long = int64
int = int32
half = float16
short = int16

# Functions that are the Tensor methods of the same name: minitorch.exp(x) is x.exp(). The
# elementwise ops come from their declarations (csrc/ops/elementwise_ops.h, as _C._ops); the
# rest are listed here.
_METHOD_FUNCTIONS = [op["name"] for op in _C._ops if "F" in op["variants"]] + """
clip true_divide numel clone detach reshape flatten unsqueeze squeeze permute transpose t narrow select
sum mean prod max min amax amin argmax argmin var std logsumexp all any norm softmax log_softmax matmul mm bmm dot outer addmm
index_select gather scatter scatter_add masked_fill split chunk unbind flip sort argsort topk nonzero float_power
cumsum cumprod cummax cummin logcumsumexp tril triu unflatten
subtract multiply divide greater less greater_equal less_equal not_equal swapaxes swapdims is_floating_point
""".split()
# PyTorch's other names for the same ops (functions and methods, with their in-place forms)
_ALIASES = {
    "absolute": "abs", "negative": "neg", "arccos": "acos", "arcsin": "asin", "arctan": "atan", "arctan2": "atan2",
    "arccosh": "acosh", "arcsinh": "asinh", "arctanh": "atanh", "fix": "trunc",
}
_g = globals()
for _name, _target in _ALIASES.items():
    setattr(Tensor, _name, getattr(Tensor, _target))
    if hasattr(Tensor, _target + "_"):
        setattr(Tensor, _name + "_", getattr(Tensor, _target + "_"))
    _METHOD_FUNCTIONS.append(_name)
for _name in _METHOD_FUNCTIONS:
    if hasattr(Tensor, _name):
        _g[_name] = getattr(Tensor, _name)
del _g, _name, _target


def is_tensor(obj):
    return isinstance(obj, _C.TensorBase)


def numel(input):
    return input.numel()


def rsub(input, other, alpha=1):
    if alpha == 1:
        return input.rsub(other)
    if not isinstance(other, Tensor):
        if not input.is_floating_point():  # (an integer result wraps the number into its dtype)
            return other - input * alpha
        other = full((), other, dtype=input.dtype, device=input.device)  # the number in the result dtype, as torch
    return other.sub(input, alpha=alpha)  # other - alpha * input rounded once (sub's alpha)


def seed():
    import random
    s = random.getrandbits(63)
    manual_seed(s)
    return s


def is_floating_point(input):
    return input.dtype.is_floating_point


def broadcast_shapes(*shapes):
    import numpy as _np
    try:
        return Size(_np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape: {shapes}") from None


from .serialization import load, save  # noqa: E402,F401
from ._composites import *  # noqa: E402,F401,F403  (diagonal, kron, roll, meshgrid, cdist, searchsorted, ...)
from ._breadth_math import *  # noqa: E402,F401,F403  (addcmul, lerp, median, quantile, tensordot, torch.conv2d, ...)
from ._breadth_shape import *  # noqa: E402,F401,F403  (hstack, tensor_split, unique, scatter_reduce, windows, ...)
from ._index_ops import *  # noqa: E402,F401,F403  (index_add index_copy index_fill masked_scatter take)
from ._index_ops import put  # noqa: E402,F401
from ._einsum import einsum  # noqa: E402,F401
from ._indexing import index_put  # noqa: E402,F401
from ._compile import compile  # noqa: E402,F401
from . import _random_fills  # noqa: E402,F401  (Tensor.random_, exponential_, geometric_, ...)
from .autograd import profiler as _autograd_profiler  # noqa: E402,F401  (torch.autograd.profiler)
from . import backends, nn, optim, safetensors, utils  # noqa: E402,F401
from . import distributions  # noqa: E402,F401
from .nn._torch_forms import *  # noqa: E402,F401,F403  (torch.selu, torch.kl_div, torch.dropout, ...)
from .nn import _torch_forms  # noqa: E402

Tensor.hardshrink = _torch_forms._tensor_hardshrink
Tensor.prelu = _torch_forms._tensor_prelu

__version__ = "0.1.0"


_MATMUL_PRECISIONS = ("highest", "high", "medium")


def set_float32_matmul_precision(precision):
    """'highest' (float32 products in float32), 'high' or 'medium' (TF32 tensor cores allowed, as torch: it sets
    backends.cuda.matmul.allow_tf32). CPU products are always float32."""
    if precision not in _MATMUL_PRECISIONS:
        import warnings

        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.")
        return
    backends.cuda.matmul.allow_tf32 = precision != "highest"
    _matmul_precision[0] = precision


def get_float32_matmul_precision():
    if _matmul_precision[0] != "highest" and not backends.cuda.matmul.allow_tf32:
        return "highest"  # allow_tf32 was switched off since
    if _matmul_precision[0] == "highest" and backends.cuda.matmul.allow_tf32:
        return "high"
    return _matmul_precision[0]


_matmul_precision = ["highest"]
_interop_threads = [1]


def get_num_interop_threads():
    """minitorch runs no inter-op thread pool: the number set (1 by default) is only remembered."""
    return _interop_threads[0]


def set_num_interop_threads(n):
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise RuntimeError("Expected positive number of threads")
    _interop_threads[0] = n


def is_inference(input):
    """Whether `input` is an inference tensor (made under inference_mode)."""
    return input.is_inference()


from ._shared_memory import _register_reductions  # noqa: E402

_register_reductions()  # multiprocessing sends CPU tensors in shared memory, as after `import torch`


def as_torch():
    """Serve every later `import torch...` in this process from minitorch (call it before the first
    `import torch`, e.g. at the top of a notebook): see minitorch/_as_torch.py."""
    from ._as_torch import as_torch as _as_torch

    _as_torch()


_LAZY_SUBMODULES = ("distributed", "multiprocessing", "futures", "jit", "linalg", "testing", "onnx", "fx", "profiler",
                    "random", "version", "func")
# top-level functions that live in a lazy submodule (its _TOP table): torch.det(A) is torch.linalg.det(A), ...
_LAZY_FUNCTIONS = dict.fromkeys(("inverse", "det", "logdet", "slogdet", "pinverse", "svd", "qr", "cholesky",
                                 "cholesky_solve", "cholesky_inverse", "matrix_power", "matrix_exp", "lu", "lu_unpack",
                                 "lu_solve"), "linalg")
_LAZY_FUNCTIONS.update(allclose="testing", isclose="testing")


def __getattr__(name):
    """torch.distributed, torch.multiprocessing and torch.futures without an import of their own (as after
    `import torch`), loaded on first use so that `import minitorch` stays quick."""
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY_FUNCTIONS:
        import importlib

        return importlib.import_module(f"{__name__}.{_LAZY_FUNCTIONS[name]}")._TOP[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

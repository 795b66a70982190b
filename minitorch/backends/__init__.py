"""minitorch.backends: the switches of torch.backends that minitorch has.

    minitorch.backends.cuda.matmul.allow_tf32   float32 matrix products on TF32 tensor cores (False)
    minitorch.backends.cudnn.allow_tf32         the recurrent layers' float32 GEMMs on TF32 (True)

As in PyTorch, where cuDNN's RNNs follow torch.backends.cudnn.allow_tf32 (default True) while
matmul follows torch.backends.cuda.matmul.allow_tf32 (default False). Without the CUDA backend
the values are kept and have no effect.
"""
import sys
import types

from .. import cuda as _cuda_mod


class _CudnnModule(types.ModuleType):
    """minitorch.backends.cudnn: allow_tf32 is a property, like torch's ContextProp."""

    _allow_tf32 = True

    @property
    def allow_tf32(self):
        be = _cuda_mod._cuda
        return bool(be.get_allow_tf32_rnn()) if be is not None else _CudnnModule._allow_tf32

    @allow_tf32.setter
    def allow_tf32(self, value):
        _CudnnModule._allow_tf32 = bool(value)
        if _cuda_mod._cuda is not None:
            _cuda_mod._cuda.set_allow_tf32_rnn(bool(value))


    # torch's cuDNN switches: minitorch has no cuDNN (its kernels are its own), so they are kept and have no
    # effect; minitorch's CPU and CUDA kernels give the same results run to run whatever they say
    enabled = True
    benchmark = False
    deterministic = False

    @staticmethod
    def is_available():
        return False

    @staticmethod
    def version():
        return None


class _CudaModule(types.ModuleType):
    """minitorch.backends.cuda: matmul.allow_tf32 is minitorch.cuda.matmul.allow_tf32."""

    matmul = _cuda_mod.matmul


class _MpsModule(types.ModuleType):
    """minitorch.backends.mps: Apple's Metal backend, which minitorch does not have."""

    @staticmethod
    def is_available():
        return False

    @staticmethod
    def is_built():
        return False


cudnn = _CudnnModule(__name__ + ".cudnn", _CudnnModule.__doc__)
cuda = _CudaModule(__name__ + ".cuda", _CudaModule.__doc__)
mps = _MpsModule(__name__ + ".mps", _MpsModule.__doc__)
for _m in (cudnn, cuda, mps):
    sys.modules[_m.__name__] = _m

__all__ = ["cuda", "cudnn", "mps"]

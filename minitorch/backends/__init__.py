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


class _CudaModule(types.ModuleType):
    """minitorch.backends.cuda: matmul.allow_tf32 is minitorch.cuda.matmul.allow_tf32."""

    matmul = _cuda_mod.matmul


cudnn = _CudnnModule(__name__ + ".cudnn", _CudnnModule.__doc__)
cuda = _CudaModule(__name__ + ".cuda", _CudaModule.__doc__)
sys.modules[cudnn.__name__] = cudnn
sys.modules[cuda.__name__] = cuda

__all__ = ["cuda", "cudnn"]

"""Deprecated or legacy modules kept for older code: nn.Container, nn.NLLLoss2d (FutureWarning on construction, as
torch's) and nn.CrossMapLRN2d (Lua-torch's cross-channel LRN, with its own forward and backward)."""
import warnings

from ...autograd.function import Function
from .loss import NLLLoss
from .module import Module

__all__ = ["Container", "NLLLoss2d", "CrossMapLRN2d"]


class Container(Module):
    def __init__(self, **kwargs):
        warnings.warn("`nn.Container` is deprecated. All of its functionality is now implemented in `nn.Module`. "
                      "Subclass that instead.", FutureWarning, stacklevel=2)
        super().__init__()
        for key, value in kwargs.items():
            self.add_module(key, value)


class NLLLoss2d(NLLLoss):
    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        warnings.warn("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a drop-in replacement and see "
                      "https://pytorch.org/docs/main/nn.html#torch.nn.NLLLoss for more details.", FutureWarning,
                      stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class _CrossMapLRN2d(Function):
    """torch.nn._functions.CrossMapLRN2d: the forward's running window (which, as torch's, drops channel 0 one step
    late) and the hand-written backward, so that values and gradients match torch's."""

    @staticmethod
    def forward(ctx, input, size, alpha=1e-4, beta=0.75, k=1):
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
        channels = input.size(1)
        input_square = input * input
        pre_pad = int((size - 1) / 2 + 1)
        pre_pad_crop = min(pre_pad, channels)
        scale = [input_square[:, :pre_pad_crop].sum(1)]
        for c in range(1, channels):
            cur = scale[-1]
            if c < channels - pre_pad + 1:
                cur = cur + input_square[:, c + pre_pad - 1]
            if c > pre_pad:
                cur = cur - input_square[:, c - pre_pad]
            scale.append(cur)
        from ..._C import stack
        scale = stack(scale, 1) * (alpha / size) + k
        output = scale.pow(-beta) * input
        ctx.size, ctx.alpha, ctx.beta, ctx.k = size, alpha, beta, k
        ctx.save_for_backward(input, output, scale)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        from ..._C import cat
        input, output, scale = ctx.saved_tensors
        size = ctx.size
        channels = input.size(1)
        cache_ratio_value = 2 * ctx.alpha * ctx.beta / size
        inverse_pre_pad = int(size - (size - 1) / 2)
        grad_input = scale.pow(-ctx.beta) * grad_output
        # paddded_ratio: grad*output/scale at channels inverse_pre_pad.., zeros around (channels + size - 1 of them)
        ratio = grad_output * output / scale
        if inverse_pre_pad > size - 1:  # size 1: torch's narrow fails here too
            raise RuntimeError(f"start ({inverse_pre_pad}) + length ({channels}) exceeds dimension size "
                               f"({channels + size - 1}).")
        n, _, h, w = input.shape
        before = input.new_zeros((n, inverse_pre_pad, h, w))
        after = input.new_zeros((n, size - 1 - inverse_pre_pad, h, w))
        padded = cat([before, ratio, after], 1)
        accum = padded[:, :size - 1].sum(1)
        corrections = []
        for c in range(channels):
            accum = accum + padded[:, c + size - 1]
            corrections.append(accum)
            accum = accum - padded[:, c]
        from ..._C import stack
        grad_input = grad_input - cache_ratio_value * input * stack(corrections, 1)
        return grad_input, None, None, None, None


class CrossMapLRN2d(Module):
    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return _CrossMapLRN2d.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return "{size}, alpha={alpha}, beta={beta}, k={k}".format(**self.__dict__)


def _place_in_torch_layout():
    """torch defines these in container.py, loss.py and normalization.py: reachable there too (set from here so that
    those modules need not import this one)."""
    from . import container, loss, normalization
    container.Container = Container
    loss.NLLLoss2d = NLLLoss2d
    normalization.CrossMapLRN2d = CrossMapLRN2d


_place_in_torch_layout()

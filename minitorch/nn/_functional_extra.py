"""F.gumbel_softmax, F.pdist, F.channel_shuffle / F.native_channel_shuffle (and, re-exported,
F.fractional_max_pool2d / 3d): composites of existing ops (torch's
formulas, signatures and errors)."""
import warnings

from .._C import TensorBase, triu_indices
from ._functional_fractional import *  # noqa: F401,F403  (fractional_max_pool2d/3d, in a file of their own)
from ._functional_fractional import __all__ as _fractional_all

__all__ = ["gumbel_softmax", "pdist", "channel_shuffle", "native_channel_shuffle"] + _fractional_all


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + g) / tau) with g ~ Gumbel(0, 1) drawn as -log(Exponential(1)), as torch draws it; hard=True
    returns the one-hot of the argmax whose gradient is the soft sample's (straight-through)."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -logits.new_empty(tuple(logits.shape)).exponential_().log()  # ~Gumbel(0,1)
    gumbels = (logits + gumbels) / tau  # ~Gumbel(logits,tau)
    y_soft = gumbels.softmax(dim)
    if hard:
        index = y_soft.max(dim, keepdim=True)[1]
        y_hard = logits.new_zeros(tuple(logits.shape)).scatter_(dim, index, 1.0)
        return y_hard - y_soft.detach() + y_soft
    return y_soft


def pdist(input, p=2):
    """The p-norm distances between every pair of rows i < j of the 2-d input, in row-major (i, j) order: the upper
    triangle of cdist(input, input) without its diagonal."""
    if not isinstance(input, TensorBase):
        raise TypeError(f"pdist(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if not p >= 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    if n <= 1:
        return input.new_zeros((0,))
    i, j = triu_indices(n, n, 1, device=input.device)
    d = input.index_select(0, i) - input.index_select(0, j)
    if d.shape[-1] == 0:
        return d.sum(-1)
    return d.norm(p=float(p), dim=-1)


def channel_shuffle(input, groups):
    """(N, C, *) viewed as (N, groups, C / groups, *), the two channel dims swapped, viewed back."""
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                           f"{list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    c = input.shape[1]
    if c % groups != 0:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    n, rest = input.shape[0], tuple(input.shape[2:])
    return (input.reshape((n, groups, c // groups) + rest).transpose(1, 2).contiguous()
            .view((n, c) + rest))


native_channel_shuffle = channel_shuffle

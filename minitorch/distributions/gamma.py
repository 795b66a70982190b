"""Gamma(concentration, rate) (torch.distributions.Gamma), reparameterized: the sample's gradient w.r.t.
the concentration is the implicit one, -(dF/dalpha) / (dF/dx) of the gamma CDF F, as torch's
_standard_gamma_grad (minitorch sums the CDF series exactly instead of torch's approximations)."""
from numbers import Number

from .._types import Size
from ..autograd import Function
from . import constraints
from ._sampling import _gammainc_series, _standard_gamma, _standard_gamma_grad_np
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .utils import broadcast_all, finfo_tiny

__all__ = ["Gamma"]


class _StandardGamma(Function):
    """standard Gamma(concentration) samples with the implicit reparameterization gradient"""

    @staticmethod
    def forward(ctx, concentration):
        x = _standard_gamma(concentration).clamp(min=finfo_tiny(concentration))
        ctx.save_for_backward(x, concentration)
        return x

    @staticmethod
    def backward(ctx, grad_output):
        from .. import tensor
        x, concentration = ctx.saved_tensors
        g = _standard_gamma_grad_np(concentration.detach().cpu().numpy(), x.detach().cpu().numpy())
        g = tensor(g.reshape(tuple(x.shape)), dtype=x.dtype, device=x.device)
        return grad_output * g


class _GammaInc(Function):
    """P(concentration, x); differentiable in x only (torch's igamma has no derivative in its first
    argument either, and says so)"""

    @staticmethod
    def forward(ctx, concentration, x):
        from .. import broadcast_shapes, tensor
        shape = broadcast_shapes(tuple(concentration.shape), tuple(x.shape))
        a = concentration.detach().expand(shape).cpu().numpy()
        xv = x.detach().expand(shape).cpu().numpy()
        P = _gammainc_series(a, xv).reshape(shape)
        ctx.save_for_backward(concentration, x)
        return tensor(P, dtype=x.dtype, device=x.device)

    @staticmethod
    def backward(ctx, grad_output):
        concentration, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative of Gamma.cdf (the regularized incomplete gamma function) "
                                      "w.r.t. the concentration is not implemented (nor is torch's igamma's)")
        pdf = ((concentration - 1) * x.log() - x - concentration.lgamma()).exp()
        return None, _sum_to(grad_output * pdf, tuple(x.shape))


def _sum_to(t, shape):
    """t summed over the dims it was broadcast along from shape"""
    lead = t.dim() - len(shape)
    if lead:
        t = t.sum(tuple(range(lead)))
    dims = tuple(i for i, s in enumerate(shape) if s == 1 and t.shape[i] != 1)
    return t.sum(dims, keepdim=True) if dims else t


def _gammainc(a, x):
    return _GammaInc.apply(a, x)


class Gamma(ExponentialFamily):
    """Gamma distribution with shape concentration and rate rate (mean concentration / rate)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, Number) and isinstance(rate, Number):
            batch_shape = Size()
        else:
            batch_shape = self.concentration.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        value = _StandardGamma.apply(self.concentration.expand(shape)) / self.rate.expand(shape)
        value.detach().clamp_(min=finfo_tiny(value))  # as torch: not recorded in the graph
        return value

    def log_prob(self, value):
        from .. import as_tensor
        value = as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (self.concentration.xlogy(self.rate) + (self.concentration - 1).xlogy(value)
                - self.rate * value - self.concentration.lgamma())

    def entropy(self):
        return (self.concentration - self.rate.log() + self.concentration.lgamma()
                + (1.0 - self.concentration) * self.concentration.digamma())

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return (x + 1).lgamma() + (x + 1) * (-y.reciprocal()).log()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return _gammainc(self.concentration, self.rate * value)

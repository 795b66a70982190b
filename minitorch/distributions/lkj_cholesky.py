"""LKJCholesky(dim, concentration=1.) (torch.distributions.LKJCholesky): Cholesky factors of LKJ-distributed
correlation matrices, sampled by the onion method."""
import math

from .._types import Size
from . import constraints
from .beta import Beta
from .distribution import Distribution
from .utils import broadcast_all, finfo_tiny

__all__ = ["LKJCholesky"]


def _mvlgamma(a, p):
    """the multivariate log-gamma log Gamma_p(a) = p (p - 1) / 4 log pi + sum_i lgamma(a - i / 2), i < p"""
    result = p * (p - 1) / 4 * math.log(math.pi)
    for i in range(p):
        result = result + (a - i / 2).lgamma()
    return result


class LKJCholesky(Distribution):
    """LKJ distribution for lower Cholesky factors of dim x dim correlation matrices."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        from .. import arange, cat
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = self.concentration.shape
        event_shape = Size((dim, dim))
        # the squared norm of row k's off-diagonal part is Beta(k / 2, eta + (dim - 1 - k) / 2) (onion method,
        # Lewandowski et al. 2009, section 3.2). torch 2.13 uses offset + 0.5 for the first parameter, which is
        # k / 2 only for k = 1: its samples for dim >= 3 are not LKJ (rows 2.. have too wide marginals; the
        # marginal correlation variance must be 1 / (2 eta + dim - 1) for every pair). minitorch samples the
        # LKJ distribution; log_prob is torch's (which is right).
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = arange(self.dim - 1, dtype=self.concentration.dtype, device=self.concentration.device)
        offset = cat([offset.new_zeros((1,)), offset])
        beta_conc1 = 0.5 * offset + 0.5
        beta_conc0 = marginal_conc.unsqueeze(-1) - 0.5 * offset
        self._beta = Beta(beta_conc1, beta_conc0)
        super().__init__(batch_shape, event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=Size()):
        from .. import arange, randn
        from ..autograd import no_grad
        with no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u_normal = randn(tuple(self._extended_shape(sample_shape)), dtype=y.dtype, device=y.device).tril(-1)
            first_row = (arange(self.dim, device=y.device) == 0).unsqueeze(-1)
            norm = u_normal.pow(2).sum(-1, keepdim=True).sqrt()
            # row 0 has no off-diagonal part: 0 / 0 there becomes 0
            u_hypersphere = (u_normal / norm.masked_fill(first_row, 1.0)).masked_fill(first_row, 0.0)
            w = y.sqrt() * u_hypersphere
            diag_elems = (1 - (w ** 2).sum(-1)).clamp(min=finfo_tiny(w)).sqrt()
            return w + diag_elems.diag_embed()

    def log_prob(self, value):
        from .. import arange
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = arange(2, self.dim + 1, device=self.concentration.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = (order * diag_elems.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = alpha.lgamma() * dm1
        numerator = _mvlgamma(alpha - 0.5, dm1)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        normalize_term = pi_constant + numerator - denominator
        return unnormalized_log_pdf - normalize_term

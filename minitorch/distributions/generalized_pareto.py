"""GeneralizedPareto(loc, scale, concentration) (torch.distributions.GeneralizedPareto), reparameterized
through its inverse CDF; concentration 0 is the exponential limit."""
import math
from numbers import Number, Real

from .._types import Size
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """Generalized Pareto distribution with location loc, scale scale and shape concentration."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive, "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        if isinstance(loc, Number) and isinstance(scale, Number) and isinstance(concentration, Number):
            batch_shape = Size()
        else:
            batch_shape = self.loc.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=Size()):
        from .. import rand
        shape = self._extended_shape(sample_shape)
        u = rand(tuple(shape), dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def _safe(self):
        from .. import isclose, ones_like, zeros_like
        eq_zero = isclose(self.concentration, zeros_like(self.concentration))
        return eq_zero, self.concentration.where(~eq_zero, ones_like(self.concentration))

    def log_prob(self, value):
        from .. import ones_like
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe()
        y = 1 / safe_conc + ones_like(z)
        where_nonzero = y.where(y == 0, y * (safe_conc * z).log1p())
        log_scale = math.log(self.scale) if isinstance(self.scale, Real) else self.scale.log()
        return -log_scale - z.where(eq_zero, where_nonzero)

    def log_survival_function(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe()
        where_nonzero = -(safe_conc * z).log1p() / safe_conc
        return (-z).where(eq_zero, where_nonzero)

    def log_cdf(self, value):
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value):
        return self.log_cdf(value).exp()

    def icdf(self, value):
        eq_zero, safe_conc = self._safe()
        logu = (-value).log1p()
        where_nonzero = self.loc + self.scale / safe_conc * (-safe_conc * logu).expm1()
        where_zero = self.loc - self.scale * logu
        return where_zero.where(eq_zero, where_nonzero)

    def _z(self, x):
        return (x - self.loc) / self.scale

    @property
    def mean(self):
        valid = self.concentration < 1
        safe_conc = self.concentration.masked_fill(~valid, 0.5)
        return (self.loc + self.scale / (1 - safe_conc)).masked_fill(~valid, float("nan"))

    @property
    def variance(self):
        valid = self.concentration < 0.5
        safe_conc = self.concentration.masked_fill(~valid, 0.25)
        return (self.scale ** 2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))).masked_fill(~valid, float("nan"))

    def entropy(self):
        ans = self.scale.log() + self.concentration + 1
        return ans.expand(tuple(self._batch_shape))

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        from .. import full_like
        lower = self.loc
        upper = (lower - self.scale / self.concentration).where(self.concentration < 0, full_like(lower, float("inf")))
        return constraints.interval(lower, upper)

"""MultivariateNormal(loc, covariance_matrix=None, precision_matrix=None, scale_tril=None)
(torch.distributions.MultivariateNormal), reparameterized.

minitorch has no LAPACK binding yet, so the Cholesky factor and the triangular solves are composed from
ops (a column-by-column Cholesky and forward substitution): differentiable, exact to rounding, and meant
for the small event sizes distributions usually have (O(n^2) op calls)."""
import math

from .._types import Size
from . import constraints
from .distribution import Distribution
from .utils import lazy_property

__all__ = ["MultivariateNormal"]


def _cholesky(a):
    """lower Cholesky factor of the symmetric positive-definite a (..., n, n)"""
    from .. import arange, stack
    a = (a + a.transpose(-2, -1)) * 0.5  # reads both triangles, so gradients come out symmetric (as torch's)
    n = a.shape[-1]
    idx = arange(n, device=a.device)
    cols = []
    for j in range(n):
        s = a[..., :, j]
        for k in range(j):
            s = s - cols[k] * cols[k][..., j : j + 1]
        d = s[..., j : j + 1].sqrt()
        cols.append((s / d) * (idx >= j).to(a.dtype))
    return stack(cols, -1)


def _solve_lower(L, b):
    """x with L x = b for lower-triangular L (..., n, n) and b (..., n), by forward substitution"""
    from .. import broadcast_shapes, stack
    n = L.shape[-1]
    batch = broadcast_shapes(tuple(L.shape[:-2]), tuple(b.shape[:-1]))
    L = L.expand(list(batch) + [n, n])
    b = b.expand(list(batch) + [n])
    ys = []
    for i in range(n):
        r = b[..., i]
        for k in range(i):
            r = r - L[..., i, k] * ys[k]
        ys.append(r / L[..., i, i])
    return stack(ys, -1)


def _batch_mv(bmat, bvec):
    return (bmat @ bvec.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(bL, bx):
    """x^T (L L^T)^{-1} x for each batch element"""
    y = _solve_lower(bL, bx)
    return y.pow(2).sum(-1)


def _precision_to_scale_tril(P):
    from .. import eye
    Lf = _cholesky(P.flip([-2, -1]))
    L_inv = Lf.flip([-2, -1]).transpose(-2, -1)
    n = P.shape[-1]
    Id = eye(n, dtype=P.dtype, device=P.device)
    cols = [_solve_lower(L_inv, Id[:, j].expand(list(L_inv.shape[:-1]))) for j in range(n)]
    from .. import stack
    return stack(cols, -1)


class MultivariateNormal(Distribution):
    """Multivariate normal distribution parameterized by a mean vector and one of a covariance matrix, a
    precision matrix or a lower-triangular scale_tril with positive diagonal (covariance = L L^T)."""

    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        from .. import broadcast_shapes
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if (covariance_matrix is not None) + (scale_tril is not None) + (precision_matrix is not None) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        if scale_tril is not None:
            if scale_tril.dim() < 2:
                raise ValueError("scale_tril matrix must be at least two-dimensional, with optional leading batch "
                                 "dimensions")
            batch_shape = broadcast_shapes(tuple(scale_tril.shape[:-2]), tuple(loc.shape[:-1]))
            self.scale_tril = scale_tril.expand(list(batch_shape) + [-1, -1])
        elif covariance_matrix is not None:
            if covariance_matrix.dim() < 2:
                raise ValueError("covariance_matrix must be at least two-dimensional, with optional leading batch "
                                 "dimensions")
            batch_shape = broadcast_shapes(tuple(covariance_matrix.shape[:-2]), tuple(loc.shape[:-1]))
            self.covariance_matrix = covariance_matrix.expand(list(batch_shape) + [-1, -1])
        else:
            if precision_matrix.dim() < 2:
                raise ValueError("precision_matrix must be at least two-dimensional, with optional leading batch "
                                 "dimensions")
            batch_shape = broadcast_shapes(tuple(precision_matrix.shape[:-2]), tuple(loc.shape[:-1]))
            self.precision_matrix = precision_matrix.expand(list(batch_shape) + [-1, -1])
        self.loc = loc.expand(list(batch_shape) + [-1])
        event_shape = self.loc.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = _cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = Size(batch_shape)
        loc_shape = list(batch_shape) + list(self.event_shape)
        cov_shape = loc_shape + list(self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for k in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if k in self.__dict__:
                setattr(new, k, self.__dict__[k].expand(cov_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _full(self):
        return list(self._batch_shape) + list(self._event_shape) + list(self._event_shape)

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._full())

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return (L @ L.transpose(-2, -1)).expand(self._full())

    @lazy_property
    def precision_matrix(self):
        from .. import eye, stack
        L = self._unbroadcasted_scale_tril
        n = L.shape[-1]
        Id = eye(n, dtype=L.dtype, device=L.device)
        Linv = stack([_solve_lower(L, Id[:, j].expand(list(L.shape[:-1]))) for j in range(n)], -1)
        return (Linv.transpose(-2, -1) @ Linv).expand(self._full())

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(list(self._batch_shape) + list(self._event_shape))

    def rsample(self, sample_shape=Size()):
        from .normal import _standard_normal
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, self.loc)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def log_prob(self, value):
        from .._composites import diagonal
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        half_log_det = diagonal(self._unbroadcasted_scale_tril, 0, -2, -1).log().sum(-1)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - half_log_det

    def entropy(self):
        from .._composites import diagonal
        half_log_det = diagonal(self._unbroadcasted_scale_tril, 0, -2, -1).log().sum(-1)
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        if len(self._batch_shape) == 0:
            return H
        return H.expand(list(self._batch_shape))

"""ExponentialFamily (torch.distributions.ExponentialFamily): the entropy from the log normalizer by the
Bregman divergence (autograd of _log_normalizer w.r.t. the natural parameters)."""
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base of exponential-family distributions p(x; theta) = exp(<t(x), theta> - F(theta) + k(x)):
    subclasses give _natural_params, _log_normalizer and _mean_carrier_measure."""

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        from ..autograd import enable_grad, grad
        result = -self._mean_carrier_measure
        with enable_grad():
            nparams = [p.detach().requires_grad_() for p in self._natural_params]
            lg_normal = self._log_normalizer(*nparams)
            gradients = grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for np_, g in zip(nparams, gradients):
            result = result - (np_ * g).reshape(list(self._batch_shape) + [-1]).sum(-1)
        return result

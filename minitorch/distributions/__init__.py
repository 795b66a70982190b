"""minitorch.distributions: probability distributions as torch.distributions, composed from minitorch ops
(sampling uses minitorch's generator: minitorch.manual_seed), with batch/event shapes, rsample where
torch has it (gradients flow), log_prob, entropy and argument validation.

Distributions: Bernoulli, Categorical, MultivariateNormal, Normal, Uniform; kl_divergence for pairs of them."""
from . import constraints  # noqa: F401
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "MultivariateNormal", "Normal", "Uniform", "constraints",
           "kl_divergence", "register_kl"]

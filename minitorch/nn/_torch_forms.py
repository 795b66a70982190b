"""The torch.* forms of nn functions that PyTorch also exposes at the top level (torch.selu, torch.kl_div,
torch.dropout, ...), with torch's signatures: the losses take the reduction as its enum int (0 none, 1 mean,
2 sum; 0 by default, as in torch), the dropouts a required `train` and raise RuntimeError for a bad p.
minitorch/__init__.py re-exports them; Tensor.hardshrink and Tensor.prelu are attached there too."""
from . import _functional_activation as FA
from . import _functional_layers as FL
from . import _functional_loss as FLoss
from ._functional_activation import celu, celu_, hardshrink, prelu, selu, selu_, threshold, threshold_  # noqa: F401
from ._functional_layers import relu_  # noqa: F401
from ._functional_loss import cosine_similarity, pairwise_distance  # noqa: F401

__all__ = ["selu", "selu_", "celu", "celu_", "prelu", "rrelu", "rrelu_", "hardshrink", "threshold", "threshold_",
           "relu_", "cosine_similarity", "pairwise_distance", "kl_div", "poisson_nll_loss", "hinge_embedding_loss",
           "margin_ranking_loss", "cosine_embedding_loss", "triplet_margin_loss", "dropout", "dropout_",
           "alpha_dropout", "alpha_dropout_", "feature_dropout", "feature_dropout_", "feature_alpha_dropout",
           "feature_alpha_dropout_"]

_RED = {0: "none", 1: "mean", 2: "sum"}


def _red(reduction):
    if reduction not in _RED:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _RED[reduction]


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    if generator is not None:
        raise NotImplementedError("rrelu: a generator argument is not supported")
    return FA.rrelu(input, lower, upper, training)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    if generator is not None:
        raise NotImplementedError("rrelu_: a generator argument is not supported")
    return FA.rrelu_(input, lower, upper, training)


def kl_div(input, target, reduction=0, *, log_target=False):
    r = _red(reduction)
    if r == "mean":   # torch.kl_div does not warn about 'mean' (only F.kl_div does)
        return FLoss._reduce(FLoss.kl_div(input, target, reduction="none", log_target=log_target), FLoss._MEAN)
    return FLoss.kl_div(input, target, reduction=r, log_target=log_target)


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return FLoss.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_red(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    return FLoss.hinge_embedding_loss(input, target, margin, reduction=_red(reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    return FLoss.margin_ranking_loss(input1, input2, target, margin, reduction=_red(reduction))


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    return FLoss.cosine_embedding_loss(input1, input2, target, margin, reduction=_red(reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, reduction=0):
    return FLoss.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction=_red(reduction))


def _check_p(p):
    if p < 0 or p > 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p, train):
    _check_p(p)
    return FL.dropout(input, p, train)


def dropout_(input, p, train):
    _check_p(p)
    return FL.dropout(input, p, train, inplace=True)


def alpha_dropout(input, p, train):
    _check_p(p)
    return FA._dropout_impl(input, p, train, False, False, True)


def alpha_dropout_(input, p, train):
    _check_p(p)
    return FA._dropout_impl(input, p, train, True, False, True)


def feature_dropout(input, p, train):
    _check_p(p)
    return FA._dropout_impl(input, p, train, False, True, False)


def feature_dropout_(input, p, train):
    _check_p(p)
    return FA._dropout_impl(input, p, train, True, True, False)


def feature_alpha_dropout(input, p, train):
    _check_p(p)
    return FA._dropout_impl(input, p, train, False, True, True)


def feature_alpha_dropout_(input, p, train):
    _check_p(p)
    return FA._dropout_impl(input, p, train, True, True, True)


def _tensor_hardshrink(self, lambd=0.5):
    return FA.hardshrink(self, lambd)


def _tensor_prelu(self, weight):
    return FA.prelu(self, weight)

"""kl_divergence(p, q) with torch's registry (register_kl) and its formulas for the pairs implemented here."""

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY = {}


def register_kl(type_p, type_q):
    """Decorator registering a pairwise KL(p || q) function for the given distribution types."""
    def decorator(fun):
        _KL_REGISTRY[type_p, type_q] = fun
        return fun
    return decorator


def _dispatch(type_p, type_q):
    matches = [(sp, sq) for sp, sq in _KL_REGISTRY if issubclass(type_p, sp) and issubclass(type_q, sq)]
    if not matches:
        return NotImplemented
    best = min(matches, key=lambda m: (type_p.__mro__.index(m[0]), type_q.__mro__.index(m[1])))
    return _KL_REGISTRY[best]


def kl_divergence(p, q):
    """KL(p || q) = E_p[log p(x) - log q(x)], batched over the distributions' batch shape."""
    fun = _dispatch(type(p), type(q))
    if fun is NotImplemented:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {p.__class__.__name__} and q type "
                                  f"{q.__class__.__name__}")
    return fun(p, q)


def _softplus(x):
    from ..nn.functional import softplus
    return softplus(x)


def _register():
    from .bernoulli import Bernoulli
    from .categorical import Categorical
    from .multivariate_normal import MultivariateNormal, _solve_lower
    from .normal import Normal
    from .uniform import Uniform

    @register_kl(Normal, Normal)
    def _kl_normal_normal(p, q):
        var_ratio = (p.scale / q.scale).pow(2)
        t1 = ((p.loc - q.loc) / q.scale).pow(2)
        return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())

    @register_kl(Categorical, Categorical)
    def _kl_categorical_categorical(p, q):
        t = p.probs * (p.logits - q.logits)
        t = t.masked_fill((q.probs == 0).expand_as(t), float("inf"))
        t = t.masked_fill((p.probs == 0).expand_as(t), 0)
        return t.sum(-1)

    @register_kl(Bernoulli, Bernoulli)
    def _kl_bernoulli_bernoulli(p, q):
        t1 = p.probs * (_softplus(-q.logits) - _softplus(-p.logits))
        t1 = t1.masked_fill(q.probs == 0, float("inf")).masked_fill(p.probs == 0, 0)
        t2 = (1 - p.probs) * (_softplus(q.logits) - _softplus(p.logits))
        t2 = t2.masked_fill(q.probs == 1, float("inf")).masked_fill(p.probs == 1, 0)
        return t1 + t2

    @register_kl(Uniform, Uniform)
    def _kl_uniform_uniform(p, q):
        result = ((q.high - q.low) / (p.high - p.low)).log()
        return result.masked_fill((q.low > p.low) | (q.high < p.high), float("inf"))

    @register_kl(MultivariateNormal, MultivariateNormal)
    def _kl_mvn_mvn(p, q):
        from .._composites import diagonal
        if p.event_shape != q.event_shape:
            raise ValueError("KL-divergence between two Multivariate Normals with different event shapes cannot "
                             "be computed")
        Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
        half_term1 = diagonal(Lq, 0, -2, -1).log().sum(-1) - diagonal(Lp, 0, -2, -1).log().sum(-1)
        n = p.event_shape[0]
        from .. import broadcast_shapes, stack
        batch = broadcast_shapes(tuple(Lq.shape[:-2]), tuple(Lp.shape[:-2]))
        Lp_e = Lp.expand(list(batch) + [n, n])
        # tr(Sq^-1 Sp) = || Lq^-1 Lp ||_F^2
        term2 = stack([_solve_lower(Lq, Lp_e[..., :, j]) for j in range(n)], -1).pow(2).sum((-2, -1))
        y = _solve_lower(Lq, q.loc - p.loc)
        term3 = y.pow(2).sum(-1)
        return half_term1 + 0.5 * (term2 + term3 - n)


_register()

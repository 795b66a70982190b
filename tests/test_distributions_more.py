"""The distributions added after the first five (Independent, TransformedDistribution and transforms, LogNormal,
Exponential, Laplace, Gamma, Beta, Dirichlet, Chi2, StudentT, OneHotCategorical, Multinomial, Poisson, Binomial,
Geometric, Gumbel, Cauchy, HalfNormal, HalfCauchy, Relaxed*, Weibull, Pareto, VonMises, ContinuousBernoulli,
GeneralizedPareto, NegativeBinomial, InverseGamma, LogisticNormal, FisherSnedecor, Kumaraswamy,
LowRankMultivariateNormal, MixtureSameFamily) and their KL pairs, against torch.distributions on the same
parameters: log_prob, entropy, moments, cdf/icdf, shapes, repr, validation errors and gradients of log_prob w.r.t.
the parameters; samples from minitorch's generator are checked statistically (moments of many draws, support), and
the reparameterised gamma gradient against torch._standard_gamma_grad."""
import math

import numpy as np
import pytest

import minitorch as mt
import minitorch.distributions as D

torch = pytest.importorskip("torch")
TD = torch.distributions


@pytest.fixture(autouse=True)
def _torch_validation_on():
    """importing torch._dynamo (torch.compile, in other tests) turns torch's default validation off"""
    old = TD.Distribution._validate_args
    TD.Distribution.set_default_validate_args(True)
    yield
    TD.Distribution.set_default_validate_args(old)


def T(lib, a, grad=False, dtype="float64"):
    t = lib.tensor(np.asarray(a, dtype=dtype))
    return t.requires_grad_(True) if grad else t


def close(m, t, tol=1e-9):
    assert tuple(m.shape) == tuple(t.shape), (m.shape, t.shape)
    np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


rng = np.random.default_rng(0)
POS = rng.uniform(0.5, 3.0, (3, 2))
POS2 = rng.uniform(0.5, 3.0, (3, 2))
REAL = rng.standard_normal((3, 2))
UNIT = rng.uniform(0.1, 0.9, (3, 2))
SIMPLEX = rng.dirichlet(np.ones(4), 3)
LOGITS = rng.standard_normal((3, 4))


def _onehot(idx, k):
    return np.eye(k)[idx]


# name -> (constructor(Dm, lib, params), params (numpy, differentiable ones marked), value sampler (numpy),
#          has cdf/icdf)
CASES = {
    "Exponential": (lambda Dm, p: Dm.Exponential(p[0]), [POS], rng.uniform(0.1, 4, (5, 3, 2)), True),
    "Laplace": (lambda Dm, p: Dm.Laplace(p[0], p[1]), [REAL, POS], rng.standard_normal((5, 3, 2)), True),
    "LogNormal": (lambda Dm, p: Dm.LogNormal(p[0], p[1]), [REAL, POS], rng.uniform(0.1, 4, (5, 3, 2)), True),
    "Gamma": (lambda Dm, p: Dm.Gamma(p[0], p[1]), [POS, POS2], rng.uniform(0.1, 4, (5, 3, 2)), False),
    "Chi2": (lambda Dm, p: Dm.Chi2(p[0]), [POS], rng.uniform(0.1, 4, (5, 3, 2)), False),
    "Beta": (lambda Dm, p: Dm.Beta(p[0], p[1]), [POS, POS2], rng.uniform(0.05, 0.95, (5, 3, 2)), False),
    "Dirichlet": (lambda Dm, p: Dm.Dirichlet(p[0]), [rng.uniform(0.5, 3, (3, 4))], rng.dirichlet(np.ones(4), (5, 3)),
                  False),
    "StudentT": (lambda Dm, p: Dm.StudentT(p[0], p[1], p[2]), [np.array([[0.7, 1.5], [2.5, 4.0], [10.0, 1.0]]), REAL,
                 POS], rng.standard_normal((5, 3, 2)), False),
    "Cauchy": (lambda Dm, p: Dm.Cauchy(p[0], p[1]), [REAL, POS], rng.standard_normal((5, 3, 2)), True),
    "HalfNormal": (lambda Dm, p: Dm.HalfNormal(p[0]), [POS], rng.uniform(0, 3, (5, 3, 2)), True),
    "HalfCauchy": (lambda Dm, p: Dm.HalfCauchy(p[0]), [POS], rng.uniform(0, 3, (5, 3, 2)), True),
    "Gumbel": (lambda Dm, p: Dm.Gumbel(p[0], p[1]), [REAL, POS], rng.standard_normal((5, 3, 2)), True),
    "Weibull": (lambda Dm, p: Dm.Weibull(p[0], p[1]), [POS, POS2], rng.uniform(0.1, 4, (5, 3, 2)), True),
    "Pareto": (lambda Dm, p: Dm.Pareto(p[0], p[1]), [POS * 0.2, POS2 + 1.5], rng.uniform(0.7, 4, (5, 3, 2)), True),
    "Poisson": (lambda Dm, p: Dm.Poisson(p[0]), [POS], rng.integers(0, 6, (5, 3, 2)).astype(float), False),
    "Geometric": (lambda Dm, p: Dm.Geometric(p[0]), [UNIT], rng.integers(0, 6, (5, 3, 2)).astype(float), False),
    "GeometricLogits": (lambda Dm, p: Dm.Geometric(logits=p[0]), [REAL], rng.integers(0, 6, (5, 3, 2)).astype(float),
                        False),
    "Binomial": (lambda Dm, p: Dm.Binomial(7, p[0]), [UNIT], rng.integers(0, 8, (5, 3, 2)).astype(float), False),
    "BinomialLogits": (lambda Dm, p: Dm.Binomial(5, logits=p[0]), [REAL], rng.integers(0, 6, (5, 3, 2)).astype(float),
                       False),
    "OneHotCategorical": (lambda Dm, p: Dm.OneHotCategorical(p[0]), [SIMPLEX], _onehot(rng.integers(0, 4, (5, 3)), 4),
                          False),
    "OneHotCategoricalLogits": (lambda Dm, p: Dm.OneHotCategorical(logits=p[0]), [LOGITS],
                                _onehot(rng.integers(0, 4, (5, 3)), 4), False),
    "Multinomial": (lambda Dm, p: Dm.Multinomial(6, p[0]), [SIMPLEX],
                    rng.multinomial(6, [0.25] * 4, (5, 3)).astype(float), False),
    "RelaxedBernoulli": (lambda Dm, p: Dm.RelaxedBernoulli(p[1], logits=p[0]), [REAL, POS],
                         rng.uniform(0.05, 0.95, (5, 3, 2)), False),
    "RelaxedOneHotCategorical": (lambda Dm, p: Dm.RelaxedOneHotCategorical(p[1], logits=p[0]),
                                 [LOGITS, np.array(0.7)], rng.dirichlet(np.ones(4), (5, 3)), False),
    "VonMises": (lambda Dm, p: Dm.VonMises(p[0], p[1]), [REAL, np.array([[0.1, 1.0], [3.0, 3.9], [8.0, 30.0]])],
                 rng.uniform(-3, 3, (5, 3, 2)), False),
    "NegativeBinomial": (lambda Dm, p: Dm.NegativeBinomial(p[0], p[1]), [POS, UNIT * 0.5],
                         rng.integers(0, 6, (5, 3, 2)).astype(float), False),
    "NegativeBinomialLogits": (lambda Dm, p: Dm.NegativeBinomial(p[0], logits=p[1]), [POS, REAL - 1],
                               rng.integers(0, 6, (5, 3, 2)).astype(float), False),
    "InverseGamma": (lambda Dm, p: Dm.InverseGamma(p[0] + 5, p[1]), [POS, POS2], rng.uniform(0.1, 4, (5, 3, 2)),
                     False),
    "LogisticNormal": (lambda Dm, p: Dm.LogisticNormal(p[0], p[1]), [REAL, POS * 0.5],
                       rng.dirichlet(np.ones(3), (5, 3)), False),
    "FisherSnedecor": (lambda Dm, p: Dm.FisherSnedecor(p[0] * 4, p[1] * 5 + 4), [POS, POS2],
                       rng.uniform(0.1, 4, (5, 3, 2)), False),
    "Kumaraswamy": (lambda Dm, p: Dm.Kumaraswamy(p[0], p[1]), [POS, POS2], rng.uniform(0.05, 0.95, (5, 3, 2)), True),
    "ContinuousBernoulli": (lambda Dm, p: Dm.ContinuousBernoulli(p[0]), [np.array([[0.1, 0.4995], [0.5, 0.7],
                                                                                 [0.95, 0.3]])],
                            rng.uniform(0.01, 0.99, (5, 3, 2)), True),
    "ContinuousBernoulliLogits": (lambda Dm, p: Dm.ContinuousBernoulli(logits=p[0]), [REAL],
                                  rng.uniform(0.01, 0.99, (5, 3, 2)), True),
    "GeneralizedPareto": (lambda Dm, p: Dm.GeneralizedPareto(p[0], p[1], p[2]),
                          [REAL, POS, np.array([[0.0, 0.2], [-0.3, 0.1], [0.05, -0.1]])],
                          rng.uniform(0, 1, (5, 3, 2)) + REAL, True, "float32"),  # torch's fails in float64
    "IndependentNormal": (lambda Dm, p: Dm.Independent(Dm.Normal(p[0], p[1]), 1), [REAL, POS],
                          rng.standard_normal((5, 3, 2)), False),
    "LowRankMVN": (lambda Dm, p: Dm.LowRankMultivariateNormal(p[0], p[1], p[2]),
                   [rng.standard_normal((2, 3)), rng.standard_normal((2, 3, 2)), rng.uniform(0.5, 2, (2, 3))],
                   rng.standard_normal((5, 2, 3)), False),
    "MixtureSameFamily": (lambda Dm, p: Dm.MixtureSameFamily(Dm.Categorical(logits=p[0]), Dm.Normal(p[1], p[2])),
                          [LOGITS, rng.standard_normal((3, 4)), rng.uniform(0.5, 2, (3, 4))],
                          rng.standard_normal((5, 3)), True),
    "TanhAffineNormal": (lambda Dm, p: Dm.TransformedDistribution(
        Dm.Normal(p[0], p[1]), [Dm.transforms.TanhTransform(), Dm.transforms.AffineTransform(0.5, 2.0)]),
        [REAL, POS], rng.uniform(-1.4, 2.4, (5, 3, 2)), True),
    "SigmoidPowerNormal": (lambda Dm, p: Dm.TransformedDistribution(
        Dm.Normal(p[0], p[1]), Dm.transforms.ComposeTransform([Dm.transforms.SigmoidTransform(),
                                                              Dm.transforms.PowerTransform(2.0)])),
        [REAL, POS], rng.uniform(0.05, 0.95, (5, 3, 2)), True),
    "StickBreakingNormal": (lambda Dm, p: Dm.TransformedDistribution(
        Dm.Normal(p[0], p[1]), [Dm.transforms.StickBreakingTransform()]),
        [REAL, POS], rng.dirichlet(np.ones(3), (5, 3)), False),
}


def _dtype(name):
    return CASES[name][4] if len(CASES[name]) > 4 else "float64"


def _build(name, lib, Dm, grad=True):
    ctor, params = CASES[name][:2]
    ps = [T(lib, p, grad, _dtype(name)) for p in params]
    return ctor(Dm, ps), ps


def _attr(d, name):
    try:
        v = getattr(d, name)
        return v() if callable(v) else v
    except NotImplementedError:
        return NotImplementedError


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_grads_vs_torch(name):
    value = CASES[name][2]
    has_cdf = CASES[name][3]
    dtype = _dtype(name)
    tol = 1e-9 if dtype == "float64" else 2e-5
    out = []
    for lib, Dm in ((mt, D), (torch, TD)):
        d, ps = _build(name, lib, Dm)
        v = T(lib, value, dtype=dtype)
        lp = d.log_prob(v)
        r = {"batch": tuple(d.batch_shape), "event": tuple(d.event_shape), "log_prob": lp,
             "support": repr(d.support) if name != "MixtureSameFamily" else None,
             "arg_constraints": {k: repr(c) for k, c in d.arg_constraints.items()},
             "flags": (d.has_rsample, d.has_enumerate_support, type(d).__name__)}
        for a in ("mean", "mode", "variance", "stddev", "entropy"):
            r[a] = _attr(d, a)
        if has_cdf:
            r["cdf"] = d.cdf(v)
            try:
                r["icdf"] = d.icdf(T(lib, np.full(tuple(d.batch_shape), 0.3), dtype=dtype))
            except NotImplementedError:
                r["icdf"] = NotImplementedError
        e = d.expand((2,) + tuple(d.batch_shape))
        r["expand"] = (type(e).__name__, tuple(e.batch_shape), tuple(e.event_shape))
        r["expand_log_prob"] = e.log_prob(v.unsqueeze(1))
        r["expand_sample"] = tuple(e.sample((3,)).shape)
        loss = lp.sum()
        if r["entropy"] is not NotImplementedError:
            loss = loss + r["entropy"].sum()
        grads = lib.autograd.grad(loss, ps, allow_unused=True)
        r["grads"] = [g for g in grads]
        out.append(r)
    m, t = out
    for k in t:
        if t[k] is NotImplementedError or m[k] is NotImplementedError:
            assert m[k] is t[k], (name, k)
        elif k == "grads":
            for gm, gt in zip(m[k], t[k]):
                assert (gm is None) == (gt is None)
                if gt is not None:
                    close(gm, gt, max(tol, 1e-8))
        elif isinstance(t[k], torch.Tensor):
            close(m[k], t[k], tol)
        else:
            assert m[k] == t[k], (name, k, m[k], t[k])


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_shapes_support_and_moments(name):
    mt.manual_seed(0)
    d, ps = _build(name, mt, D, grad=False)
    n = 4000
    s = d.sample((n,))
    assert tuple(s.shape) == (n,) + tuple(d.batch_shape) + tuple(d.event_shape)
    assert not s.requires_grad
    assert bool(d.support.check(s).all()) if name != "MixtureSameFamily" else True
    a = s.numpy().astype(np.float64)
    if name == "VonMises":  # circular moments: mean direction loc, 1 - mean resultant length = variance
        z = np.exp(1j * a).mean(0)
        np.testing.assert_allclose(1 - np.abs(z), d.variance.numpy(), atol=0.03)
        good = d.concentration.numpy() > 0.5
        np.testing.assert_allclose(np.angle(z * np.exp(-1j * d.loc.numpy()))[good], 0, atol=0.1)
        assert a.min() >= -math.pi and a.max() < math.pi
        return
    try:
        mean, var = d.mean.numpy(), d.variance.numpy()
    except NotImplementedError:
        return
    ok = np.isfinite(mean) & np.isfinite(var) & (var < 50)
    if name == "StudentT":
        ok &= np.broadcast_to(CASES[name][1][0] > 4.5, ok.shape)  # sample variance needs finite 4th moments
    err = np.abs(a.mean(0) - mean)
    assert np.all(err[ok] < 5 * np.sqrt(var[ok] / n) + 1e-3), (name, a.mean(0), mean)
    tol = 0.15 if name not in ("Pareto", "LogNormal", "Weibull") else 0.3
    ok &= var < 5  # heavier tails: too noisy a sample variance at this n
    np.testing.assert_allclose(a.var(0)[ok], var[ok], rtol=tol, atol=1e-3)
    if d.has_rsample:
        _, ps = _build(name, mt, D)
        d = CASES[name][0](D, ps)
        mt.manual_seed(1)
        r = d.rsample((3,))
        assert tuple(r.shape) == (3,) + tuple(d.batch_shape) + tuple(d.event_shape)
        r.sum().backward()
        assert all(p.grad is not None for p in ps)


def test_sampling_reproducible_with_manual_seed():
    for make in (lambda: D.Gamma(mt.tensor([0.5, 2.0]), 1.0), lambda: D.Poisson(mt.tensor([0.5, 30.0])),
                 lambda: D.Binomial(10, mt.tensor([0.3, 0.7])), lambda: D.Laplace(0.0, 1.0)):
        mt.manual_seed(5)
        a = make().sample((20,))
        mt.manual_seed(5)
        b = make().sample((20,))
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("conc", [0.05, 0.4, 1.0, 3.0, 40.0, 800.0])
def test_gamma_rsample_gradient_is_torchs_implicit_gradient(conc):
    mt.manual_seed(3)
    a = mt.tensor([conc] * 6, dtype=mt.float64, requires_grad=True)
    rate = mt.tensor(2.0, dtype=mt.float64, requires_grad=True)
    x = D.Gamma(a, rate).rsample()
    x.sum().backward()
    xs = torch.tensor(x.detach().numpy() * 2.0)
    expected = torch._standard_gamma_grad(torch.tensor(a.detach().numpy()), xs) / 2.0
    np.testing.assert_allclose(a.grad.numpy(), expected.numpy(), rtol=2e-4, atol=1e-10)
    np.testing.assert_allclose(rate.grad.numpy(), -(x.detach() / 2.0).sum().item(), rtol=1e-10)


def test_gamma_cdf_vs_torch_and_its_gradient():
    conc, rate = np.array([0.3, 1.0, 4.0, 60.0]), np.array([1.0, 2.0, 0.5, 1.0])
    value = np.array([[0.1, 0.4, 7.0, 55.0], [2.0, 0.01, 1.0, 70.0]])
    out = []
    for lib, Dm in ((mt, D), (torch, TD)):
        v = T(lib, value, True)
        c = Dm.Gamma(T(lib, conc), T(lib, rate)).cdf(v)
        c.sum().backward()
        out.append((c, v.grad))
    for m, t in zip(*out):
        close(m, t, 1e-8)
    with pytest.raises(NotImplementedError, match="concentration"):
        D.Gamma(T(mt, conc, True), 1.0).cdf(T(mt, value)).sum().backward()


def test_beta_dirichlet_student_rsample_gradients_are_pathwise():
    """E[x] of the reparameterised sample has d/dparam equal to the derivative of the exact mean"""
    mt.manual_seed(4)
    n = 8000
    a = mt.tensor([0.7, 2.5], dtype=mt.float64, requires_grad=True)
    b = mt.tensor([1.5, 0.8], dtype=mt.float64, requires_grad=True)
    D.Beta(a, b).rsample((n,)).mean(0).sum().backward()
    av, bv = a.detach().numpy(), b.detach().numpy()
    np.testing.assert_allclose(a.grad.numpy(), bv / (av + bv) ** 2, rtol=0.05)
    np.testing.assert_allclose(b.grad.numpy(), -av / (av + bv) ** 2, rtol=0.05)
    c = mt.tensor([0.5, 1.0, 3.0], dtype=mt.float64, requires_grad=True)
    (D.Dirichlet(c).rsample((n,))[:, 0].mean()).backward()
    cv = c.detach().numpy()
    exp = -cv[0] / cv.sum() ** 2 * np.ones(3)
    exp[0] += 1 / cv.sum()
    np.testing.assert_allclose(c.grad.numpy(), exp, rtol=0.06, atol=2e-3)
    df = mt.tensor([6.0], dtype=mt.float64, requires_grad=True)
    scale = mt.tensor([2.0], dtype=mt.float64, requires_grad=True)
    D.StudentT(df, 0.0, scale).rsample((n,)).pow(2).mean().backward()  # E = scale^2 df / (df - 2)
    np.testing.assert_allclose(scale.grad.numpy(), [2 * 2.0 * 6 / 4], rtol=0.08)
    np.testing.assert_allclose(df.grad.numpy(), [-4.0 * 2 / 16], rtol=0.25)


def test_repr_and_shapes():
    c, r = mt.ones(2), mt.ones(2)
    pairs = [(D.Gamma(c, r), TD.Gamma(torch.ones(2), torch.ones(2))),
             (D.Exponential(0.5), TD.Exponential(0.5)),
             (D.Independent(D.Normal(mt.zeros(3, 2), 1.0), 1), TD.Independent(TD.Normal(torch.zeros(3, 2), 1.0), 1)),
             (D.Beta(c, r), TD.Beta(torch.ones(2), torch.ones(2))),
             (D.Binomial(3, mt.full((2,), 0.5)), TD.Binomial(3, torch.full((2,), 0.5))),
             (D.StudentT(c), TD.StudentT(torch.ones(2))),
             (D.Weibull(c, r), TD.Weibull(torch.ones(2), torch.ones(2)))]
    for m, t in pairs:
        assert repr(m) == repr(t)
    for m, t in ((D.transforms.ExpTransform().inv, TD.transforms.ExpTransform().inv),
                 (D.transforms.ComposeTransform([D.transforms.TanhTransform(), D.transforms.AbsTransform()]),
                  TD.transforms.ComposeTransform([TD.transforms.TanhTransform(), TD.transforms.AbsTransform()])),
                 (D.transforms.IndependentTransform(D.transforms.SigmoidTransform(), 2),
                  TD.transforms.IndependentTransform(TD.transforms.SigmoidTransform(), 2))):
        assert repr(m) == repr(t)
    d = D.Gamma(mt.ones(3, 1), mt.ones(1, 2)).expand((4, 3, 2))
    assert tuple(d.batch_shape) == (4, 3, 2) and tuple(d.sample((5,)).shape) == (5, 4, 3, 2)
    d = D.Dirichlet(mt.ones(3, 4)).expand((2, 3))
    assert tuple(d.batch_shape) == (2, 3) and tuple(d.event_shape) == (4,)
    d = D.LogNormal(mt.zeros(3), 1.0).expand((2, 3))
    assert type(d) is D.LogNormal and tuple(d.batch_shape) == (2, 3)
    assert tuple(D.Chi2(mt.ones(2)).expand((3, 2)).df.shape) == (3, 2)


@pytest.mark.parametrize("make, match", [
    (lambda Dm, lib: Dm.Gamma(lib.tensor([1.0, -1.0]), 1.0), "concentration"),
    (lambda Dm, lib: Dm.Exponential(lib.tensor([0.0])), "rate"),
    (lambda Dm, lib: Dm.Beta(lib.tensor([1.0]), lib.tensor([0.0])), "concentration"),
    (lambda Dm, lib: Dm.Dirichlet(lib.tensor([1.0, -2.0])), "concentration"),
    (lambda Dm, lib: Dm.Laplace(0.0, lib.tensor([-1.0])), "scale"),
    (lambda Dm, lib: Dm.Poisson(lib.tensor([-1.0])), "rate"),
    (lambda Dm, lib: Dm.Geometric(lib.tensor([0.0])), "probs"),
    (lambda Dm, lib: Dm.Binomial(lib.tensor([2.5]), lib.tensor([0.5])), "total_count"),
    (lambda Dm, lib: Dm.Independent(Dm.Normal(lib.zeros(2), 1.0), 2), "reinterpreted_batch_ndims"),
    (lambda Dm, lib: Dm.Dirichlet(lib.tensor(1.0)), "one-dimensional"),
])
def test_bad_parameters_raise_value_error_as_torch(make, match):
    with pytest.raises(ValueError, match=match) as em:
        make(D, mt)
    with pytest.raises(ValueError, match=match) as et:
        make(TD, torch)
    assert str(em.value).split("(")[0] == str(et.value).split("(")[0]


def test_bad_values_raise_value_error_as_torch():
    for make, v in ((lambda Dm, lib: Dm.Gamma(lib.ones(2), 1.0), [1.0, -1.0]),
                    (lambda Dm, lib: Dm.Poisson(lib.ones(2)), [1.0, 0.5]),
                    (lambda Dm, lib: Dm.Beta(lib.ones(2), 1.0), [0.5, 1.5]),
                    (lambda Dm, lib: Dm.Dirichlet(lib.ones(3)), [0.5, 0.2, 0.2]),
                    (lambda Dm, lib: Dm.OneHotCategorical(lib.ones(3) / 3), [1.0, 1.0, 0.0])):
        for Dm, lib in ((D, mt), (TD, torch)):
            with pytest.raises(ValueError, match="to be within the support"):
                make(Dm, lib).log_prob(lib.tensor(v))
    with pytest.raises(NotImplementedError, match="inhomogeneous"):
        D.Multinomial(mt.tensor(3), mt.ones(3))


def test_transforms_against_torch():
    x = rng.standard_normal((4, 3))
    tr = lambda M, lib: [M.ExpTransform(), M.SigmoidTransform(), M.TanhTransform(), M.SoftplusTransform(),
                         M.AffineTransform(lib.tensor(0.5, dtype=lib.float64), lib.tensor([1.0, -2.0, 3.0],
                                                                                            dtype=lib.float64)),
                         M.PowerTransform(lib.tensor(3.0, dtype=lib.float64)).inv.inv, M.AbsTransform(),
                         M.SoftmaxTransform(), M.StickBreakingTransform(), M.ExpTransform().inv,
                         M.ComposeTransform([M.ExpTransform(), M.AffineTransform(1.0, 2.0)]),
                         M.IndependentTransform(M.SigmoidTransform(), 1), M.ReshapeTransform((3,), (3, 1))]
    for tm, tt in zip(tr(D.transforms, mt), tr(TD.transforms, torch)):
        xin = np.abs(x) + 0.1 if isinstance(tm, D.transforms.PowerTransform) or isinstance(
            tm, D.transforms._InverseTransform) and isinstance(tm._inv, D.transforms.ExpTransform) else x
        xm, xt = T(mt, xin, True), T(torch, xin, True)
        ym, yt = tm(xm), tt(xt)
        close(ym, yt)
        close(tm.inv(ym), tt.inv(yt))
        assert tm.bijective == tt.bijective and repr(tm.domain) == repr(tt.domain)
        assert repr(tm.codomain) == repr(tt.codomain)
        assert tuple(tm.forward_shape(mt.Size((4, 3)))) == tuple(tt.forward_shape(torch.Size((4, 3))))
        if tt.bijective:
            lm, lt = tm.log_abs_det_jacobian(xm, ym), tt.log_abs_det_jacobian(xt, yt)
            close(lm, lt)
            if lt.requires_grad:
                close(mt.autograd.grad(lm.sum(), [xm])[0], torch.autograd.grad(lt.sum(), [xt])[0])
    t = D.transforms.ExpTransform(cache_size=1)
    xm = mt.ones(2)
    assert t.inv(t(xm)) is xm
    assert D.transforms.ExpTransform() == D.transforms.ExpTransform() and D.transforms.identity_transform.parts == []
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        D.transforms.ExpTransform(cache_size=2)


def _kl_pairs(Dm, lib):
    a, b = T(lib, POS), T(lib, POS2)
    loc, loc2 = T(lib, REAL), T(lib, REAL[::-1].copy())
    u = T(lib, UNIT)
    lo, hi = T(lib, POS * 0.1), T(lib, POS * 0.1 + POS2)
    W = T(lib, np.random.default_rng(2).standard_normal((3, 2)))
    W2 = T(lib, np.random.default_rng(1).standard_normal((3, 2)))
    diag = T(lib, np.array([0.5, 1.0, 2.0]))
    mvn = Dm.MultivariateNormal(T(lib, [0.1, 0.2, 0.3]), T(lib, np.eye(3) * 1.5 + 0.2))
    return [
        (Dm.Gamma(a, b), Dm.Gamma(b, a)), (Dm.Beta(a, b), Dm.Beta(b, a)), (Dm.Exponential(a), Dm.Exponential(b)),
        (Dm.Dirichlet(T(lib, SIMPLEX * 3)), Dm.Dirichlet(T(lib, SIMPLEX[::-1] * 2 + 0.5))),
        (Dm.Laplace(loc, a), Dm.Laplace(loc2, b)), (Dm.Gumbel(loc, a), Dm.Gumbel(loc2, b)),
        (Dm.Cauchy(loc, a), Dm.Cauchy(loc2, b)), (Dm.HalfNormal(a), Dm.HalfNormal(b)),
        (Dm.Poisson(a), Dm.Poisson(b)), (Dm.Geometric(u), Dm.Geometric(u.flip(0))),
        (Dm.Binomial(5, u), Dm.Binomial(5, u.flip(0))), (Dm.Binomial(6, u), Dm.Binomial(5, u.flip(0))),
        (Dm.Pareto(a, b), Dm.Pareto(b, a)), (Dm.LogNormal(loc, a), Dm.LogNormal(loc2, b)),
        (Dm.OneHotCategorical(T(lib, SIMPLEX)), Dm.OneHotCategorical(logits=T(lib, LOGITS))),
        (Dm.Independent(Dm.Normal(loc, a), 1), Dm.Independent(Dm.Normal(loc2, b), 1)),
        (Dm.Chi2(a), Dm.Chi2(b)), (Dm.Chi2(a), Dm.Exponential(b)),
        (Dm.Bernoulli(u), Dm.Poisson(a)), (Dm.Poisson(a), Dm.Bernoulli(u)),
        (Dm.Beta(a, b), Dm.Exponential(a)), (Dm.Beta(a, b), Dm.Gamma(b, a)), (Dm.Beta(a, b), Dm.Normal(loc, a)),
        (Dm.Beta(a, b), Dm.Uniform(lib.zeros_like(a) - 0.5, lib.ones_like(a))), (Dm.Beta(a, b), Dm.Pareto(a, b)),
        (Dm.Exponential(a), Dm.Gamma(b, a)), (Dm.Exponential(a), Dm.Gumbel(loc, b)),
        (Dm.Exponential(a), Dm.Normal(loc, b)), (Dm.Exponential(a), Dm.Uniform(lo, hi)),
        (Dm.Gamma(a, b), Dm.Exponential(a)), (Dm.Gamma(a, b), Dm.Gumbel(loc, a)), (Dm.Gamma(a, b), Dm.Normal(loc, a)),
        (Dm.Gumbel(loc, a), Dm.Normal(loc2, b)), (Dm.Gumbel(loc, a), Dm.Gamma(a, b)),
        (Dm.Laplace(loc, a), Dm.Normal(loc2, b)), (Dm.Normal(loc, a), Dm.Gumbel(loc2, b)),
        (Dm.Normal(loc, a), Dm.Laplace(loc2, b)), (Dm.Normal(loc, a), Dm.Exponential(b)),
        (Dm.Pareto(a, b + 2), Dm.Exponential(a)), (Dm.Pareto(a, b), Dm.Gamma(b, a)),
        (Dm.Pareto(a, b + 1.5), Dm.Normal(loc, a)), (Dm.Pareto(a, b), Dm.Uniform(lo, hi)),
        (Dm.Uniform(u * 0.5, u), Dm.Beta(a, b)), (Dm.Uniform(lo, hi), Dm.Exponential(a)),
        (Dm.Uniform(lo, hi), Dm.Gamma(a, b)), (Dm.Uniform(lo, hi), Dm.Gumbel(loc, a)),
        (Dm.Uniform(lo, hi), Dm.Normal(loc, a)), (Dm.Uniform(lo + 1, hi + 1), Dm.Pareto(b * 0.5, a)),
        (Dm.ContinuousBernoulli(u), Dm.ContinuousBernoulli(logits=loc)),
        (Dm.Beta(a, b), Dm.ContinuousBernoulli(u)), (Dm.ContinuousBernoulli(u), Dm.Exponential(a)),
        (Dm.ContinuousBernoulli(u), Dm.Normal(loc, a)), (Dm.ContinuousBernoulli(u), Dm.Pareto(a, b)),
        (Dm.ContinuousBernoulli(u), Dm.Uniform(lo - 1, hi + 1)), (Dm.ContinuousBernoulli(u), Dm.Uniform(lo, hi)),
        (Dm.Uniform(u * 0.5, u), Dm.ContinuousBernoulli(u.flip(0))), (Dm.Gamma(a, b), Dm.ContinuousBernoulli(u)),
        (Dm.LowRankMultivariateNormal(T(lib, [0.0, 1.0, -1.0]), W, diag),
         Dm.LowRankMultivariateNormal(T(lib, [0.5, 0.0, 1.0]), W2, diag.flip(0))),
        (mvn, Dm.LowRankMultivariateNormal(T(lib, [0.5, 0.0, 1.0]), W2, diag)),
        (Dm.LowRankMultivariateNormal(T(lib, [0.5, 0.0, 1.0]), W2, diag), mvn),
    ]


def test_kl_divergence_vs_torch():
    for (pm, qm), (pt, qt) in zip(_kl_pairs(D, mt), _kl_pairs(TD, torch)):
        close(D.kl_divergence(pm, qm), TD.kl_divergence(pt, qt), 1e-8)
    for Dm in (D, TD):
        with pytest.raises(NotImplementedError, match="exponential families"):
            Dm.kl_divergence(Dm.Exponential(1.0), Dm.Poisson(0.5))
        with pytest.raises(NotImplementedError, match="No KL"):
            Dm.kl_divergence(Dm.Exponential(1.0), Dm.Geometric(0.5))


def test_kl_gradient_and_expfamily_fallback():
    out = []
    for lib, Dm in ((mt, D), (torch, TD)):
        a, b = T(lib, POS, True), T(lib, POS2, True)
        kl = Dm.kl_divergence(Dm.Gamma(a, b), Dm.Chi2(b))
        out.append((kl,) + lib.autograd.grad(kl.sum(), [a, b]))
        # the Bregman fallback, through ExponentialFamily
        kl2 = Dm.kl.kl_divergence(Dm.Dirichlet(T(lib, SIMPLEX + 0.5)), Dm.Dirichlet(T(lib, SIMPLEX * 2 + 0.1)))
        out[-1] += (kl2, Dm.Exponential(a).entropy(), super(Dm.Exponential, Dm.Exponential(a)).entropy())
    for m, t in zip(*out):
        close(m, t, 1e-8)
    assert issubclass(D.Normal, D.ExponentialFamily) and issubclass(D.Bernoulli, D.ExponentialFamily)


def test_mixture_and_onehot_extras():
    for lib, Dm in ((mt, D), (torch, TD)):
        mix = Dm.MixtureSameFamily(Dm.Categorical(lib.ones(2, 3)), Dm.Independent(Dm.Normal(lib.zeros(2, 3, 4),
                                                                                          1.0), 1))
        assert tuple(mix.batch_shape) == (2,) and tuple(mix.event_shape) == (4,)
        assert tuple(mix.sample((5,)).shape) == (5, 2, 4) and tuple(mix.log_prob(lib.zeros(5, 2, 4)).shape) == (5, 2)
        oh = Dm.OneHotCategorical(lib.ones(2, 3) / 3)
        assert tuple(oh.enumerate_support().shape) == (3, 2, 3)
    close(D.OneHotCategorical(T(mt, SIMPLEX)).mode, TD.OneHotCategorical(T(torch, SIMPLEX)).mode)
    p = T(mt, SIMPLEX, True)
    st = D.OneHotCategoricalStraightThrough(p).rsample((2,))
    assert set(np.unique(st.detach().numpy()).tolist()) <= {0.0, 1.0}
    (st * mt.arange(4.0, dtype=mt.float64)).sum().backward()
    assert p.grad is not None
    mt.manual_seed(0)
    counts = D.Multinomial(50, T(mt, SIMPLEX)).sample((300,)).numpy()
    assert np.all(counts.sum(-1) == 50)
    np.testing.assert_allclose(counts.mean(0) / 50, SIMPLEX, atol=0.02)
    with pytest.raises(ValueError, match="The Mixture distribution needs to be an"):
        D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(mt.zeros(3), 1.0))


def test_biject_to_and_transform_to():
    x = rng.standard_normal((4, 3))
    cons = lambda M: [M.real, M.positive, M.greater_than(2.0), M.less_than(1.0), M.unit_interval, M.interval(-1.0, 3.0),
                      M.simplex, M.independent(M.positive, 1), M.nonnegative]
    for cm, ct in zip(cons(D.constraints), cons(TD.constraints)):
        for reg in ("biject_to", "transform_to"):
            tm, tt = getattr(D, reg)(cm), getattr(TD, reg)(ct)
            assert repr(tm) == repr(tt)
            ym, yt = tm(T(mt, x)), tt(T(torch, x))
            close(ym, yt)
            assert bool(cm.check(ym).all())
    with pytest.raises(NotImplementedError, match="Cannot transform _LowerCholesky constraints"):
        D.biject_to(D.constraints.lower_cholesky)
    with pytest.raises(TypeError, match="Expected constraint"):
        D.biject_to.register(int, lambda c: None)


def test_discrete_samplers_at_large_counts():
    mt.manual_seed(6)
    n = 20000
    count, p = np.array([1000.0, 50.0, 12.0, 3e5]), np.array([0.3, 0.97, 0.5, 0.01])
    s = D.Binomial(T(mt, count), T(mt, p)).sample((n,)).numpy()
    assert np.all(s == np.round(s)) and np.all((s >= 0) & (s <= count))
    var = count * p * (1 - p)
    assert np.all(np.abs(s.mean(0) - count * p) < 5 * np.sqrt(var / n))
    np.testing.assert_allclose(s.var(0), var, rtol=0.05)
    rate = np.array([0.01, 4.0, 12.0, 5000.0])
    s = D.Poisson(T(mt, rate)).sample((n,)).numpy()
    assert np.all(s == np.round(s)) and np.all(s >= 0)
    assert np.all(np.abs(s.mean(0) - rate) < 5 * np.sqrt(rate / n))
    np.testing.assert_allclose(s.var(0), rate, rtol=0.05)
    s = D.Gamma(T(mt, [0.01, 0.3, 1e4]), 1.0).sample((n,)).numpy()
    assert np.all(s > 0)
    np.testing.assert_allclose(s.mean(0), [0.01, 0.3, 1e4], rtol=0.1)


def test_matrix_constraints_and_transforms_against_torch():
    x = np.random.default_rng(0).standard_normal((4, 3, 3))
    x[1] = np.tril(x[1])
    x[2] = x[2] @ x[2].T
    x[3] = np.linalg.cholesky(np.corrcoef(np.random.default_rng(1).standard_normal((3, 10))))
    cons = lambda M: [M.lower_triangular, M.corr_cholesky, M.square, M.symmetric, M.positive_semidefinite,
                      M.positive_definite, M.lower_cholesky, M.cat([M.positive, M.real], 1, [1, 2]),
                      M.stack([M.positive, M.real, M.unit_interval], -1), M.MixtureSameFamilyConstraint(M.real)]
    for cm, ct in zip(cons(D.constraints), cons(TD.constraints)):
        assert repr(cm) == repr(ct) and cm.event_dim == ct.event_dim
        np.testing.assert_array_equal(cm.check(T(mt, x)).numpy(), ct.check(T(torch, x)).numpy())
    v = rng.standard_normal((4, 6))
    m = rng.standard_normal((4, 3, 3))
    trs = lambda M: [(M.CorrCholeskyTransform(), v), (M.PositiveDefiniteTransform(), m),
                     (M.LowerCholeskyTransform(), m),
                     (M.CatTransform([M.ExpTransform(), M.IndependentTransform(M.SigmoidTransform(), 1)], 1,
                                     [2, 4]), v),
                     (M.CatTransform([M.ExpTransform(), M.SigmoidTransform()], -1, [2, 4]), v),
                     (M.StackTransform([M.ExpTransform(), M.TanhTransform(), M.AffineTransform(1.0, 3.0)], 0), v[:3])]
    for (tm, xv), (tt, _) in zip(trs(D.transforms), trs(TD.transforms)):
        xm, xt = T(mt, xv, True), T(torch, xv, True)
        ym, yt = tm(xm), tt(xt)
        close(ym, yt)
        close(tm.inv(ym), tt.inv(yt), 1e-8)
        assert repr(tm.domain) == repr(tt.domain) and repr(tm.codomain) == repr(tt.codomain)
        if tt.bijective:
            lm, lt = tm.log_abs_det_jacobian(xm, ym), tt.log_abs_det_jacobian(xt, yt)
            close(lm, lt)
            close(mt.autograd.grad(lm.sum(), [xm])[0], torch.autograd.grad(lt.sum(), [xt])[0], 1e-8)
    assert tuple(D.transforms.CorrCholeskyTransform().forward_shape((2, 6))) == (2, 4, 4)
    for reg in ("biject_to", "transform_to"):
        for c in ("corr_cholesky",):
            mine, theirs = getattr(D, reg)(getattr(D.constraints, c)), getattr(TD, reg)(getattr(TD.constraints, c))
            assert repr(mine) == repr(theirs)
    assert repr(D.transform_to(D.constraints.positive_definite)) == "PositiveDefiniteTransform()"
    with pytest.raises(ValueError, match="cannot be expressed"):
        D.transforms.vec_to_tril_matrix(mt.ones(5))


@pytest.mark.parametrize("conc", [0.5, 1.0, 3.0])
def test_lkj_cholesky_vs_torch_and_samples(conc):
    torch.manual_seed(0)
    v = TD.LKJCholesky(4, torch.tensor([conc, 2.0], dtype=torch.float64)).sample((3,)).numpy()
    out = []
    for lib, Dm in ((mt, D), (torch, TD)):
        c = T(lib, [conc, 2.0], True)
        d = Dm.LKJCholesky(4, c)
        lp = d.log_prob(T(lib, v))
        out.append((lp, lib.autograd.grad(lp.sum(), [c])[0], repr(d), tuple(d.batch_shape), tuple(d.event_shape),
                    tuple(d.expand((2, 2)).batch_shape)))
    close(out[0][0], out[1][0])
    close(out[0][1], out[1][1])
    assert out[0][2:] == out[1][2:]
    mt.manual_seed(0)
    d = D.LKJCholesky(3, T(mt, conc))
    L = d.sample((4000,))
    assert tuple(L.shape) == (4000, 3, 3) and bool(d.support.check(L).all())
    C = (L @ L.mT).numpy()
    # LKJ(eta) in dimension 3: each off-diagonal correlation is 2 Beta(eta + 1/2, eta + 1/2) - 1, variance
    # 1 / (2 eta + 2), for every pair (torch 2.13's sampler gets this only for the first pair)
    for i, j in ((1, 0), (2, 0), (2, 1)):
        np.testing.assert_allclose(C[:, i, j].var(), 1 / (2 * conc + 2), rtol=0.1)
        assert abs(C[:, i, j].mean()) < 0.05
    # sampler and log_prob agree: on its own samples the density scores higher on average than another
    # concentration's (Gibbs' inequality, KL > 0)
    other = D.LKJCholesky(3, T(mt, conc + 1.5))
    assert float(d.log_prob(L).mean()) > float(other.log_prob(L).mean())
    with pytest.raises(ValueError, match="greater than or equal to 2"):
        D.LKJCholesky(1)


@pytest.mark.parametrize("kw", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_wishart_vs_torch_and_samples(kw):
    g = np.random.default_rng(0)
    A = g.standard_normal((2, 3, 3))
    cov = A @ A.transpose(0, 2, 1) + np.eye(3)
    df = np.array([4.5, 7.0])
    pm = {"covariance_matrix": cov, "precision_matrix": np.linalg.inv(cov), "scale_tril": np.linalg.cholesky(cov)}[kw]
    torch.manual_seed(0)
    with pytest.warns(UserWarning):  # torch 2.13 warns "Singular sample detected." for regular samples too
        v = TD.Wishart(torch.tensor(df), covariance_matrix=torch.tensor(cov)).sample((4,)).numpy()
    out = []
    for lib, Dm in ((mt, D), (torch, TD)):
        d_, p_ = T(lib, df, True), T(lib, pm, True)
        d = Dm.Wishart(d_, **{kw: p_})
        fresh_repr = repr(d)
        lp, e = d.log_prob(T(lib, v)), d.entropy()
        grads = lib.autograd.grad(lp.sum() + e.sum(), [d_, p_])
        if kw == "scale_tril":
            # torch's cholesky_solve backward also fills the (unread) upper triangle; minitorch's gives it the
            # true derivative 0, so only the lower triangle is compared
            grads = (grads[0], grads[1].tril())
        out.append((lp, e, d.mean, d.variance, d.mode, super(Dm.Wishart, d).entropy()) + tuple(grads))
        assert fresh_repr == repr(TD.Wishart(torch.tensor(df), **{kw: torch.tensor(pm)}))
        assert tuple(d.expand((3, 2)).batch_shape) == (3, 2)
    for m, t in zip(*out):
        close(m, t, 1e-8)
    mt.manual_seed(0)
    d = D.Wishart(T(mt, df), **{kw: T(mt, pm)})
    s = d.sample((4000,)).numpy()
    assert bool(d.support.check(mt.tensor(s)).all())
    np.testing.assert_allclose(s.mean(0), d.mean.numpy(), rtol=0.06, atol=0.3)
    np.testing.assert_allclose(s.var(0), d.variance.numpy(), rtol=0.2)
    with pytest.raises(ValueError, match="expected to be greater than ndim - 1"):
        D.Wishart(2.0, covariance_matrix=T(mt, cov))

"""minitorch.distributions against torch.distributions: log_prob / entropy / cdf / moments equal to
torch's for the same parameters (and their gradients), shapes (batch/event/sample, sample_n), rsample
gradients, validation errors (ValueError with torch's messages), and sample statistics over many draws
from minitorch's generator."""
import math
import warnings

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


def close(m, t, tol=1e-10):
    assert tuple(m.shape) == tuple(t.shape), (m.shape, t.shape)
    assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


rng = np.random.default_rng(0)
LOC = rng.standard_normal((3, 2))
SCALE = rng.uniform(0.5, 2.0, (3, 2))
VAL = rng.standard_normal((4, 3, 2))
PROBS = rng.uniform(0.1, 1.0, (3, 4))
LOGITS = rng.standard_normal((3, 4))


# ------------------------------------------------------------------------------------------ Normal
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal_values_and_grads(dtype):
    tol = 1e-5 if dtype == "float32" else 1e-10
    out = []
    for lib, Dm in ((mt, D), (torch, TD)):
        loc, scale = T(lib, LOC, True, dtype), T(lib, SCALE, True, dtype)
        d = Dm.Normal(loc, scale)
        v = T(lib, VAL, dtype=dtype)
        lp, ent, cdf = d.log_prob(v), d.entropy(), d.cdf(v)
        icdf = d.icdf(T(lib, np.full((3, 2), 0.3), dtype=dtype))
        (lp.sum() + ent.sum() + cdf.sum() + icdf.sum()).backward()
        out.append((lp, ent, cdf, icdf, d.mean, d.stddev, d.variance, d.mode, loc.grad, scale.grad))
        assert tuple(d.batch_shape) == (3, 2) and tuple(d.event_shape) == ()
    for m, t in zip(*out):
        close(m, t, tol)


def test_normal_scalars_shapes_and_rsample_gradients():
    d = D.Normal(0.0, 1.0)
    assert tuple(d.batch_shape) == () and d.loc.dtype == mt.float32
    assert tuple(d.sample().shape) == () and tuple(d.sample((5, 2)).shape) == (5, 2)
    d = D.Normal(mt.zeros(3), 1.0)
    assert tuple(d.batch_shape) == (3,) and tuple(d.rsample((4,)).shape) == (4, 3)
    loc, scale = mt.tensor([1.0, -1.0], requires_grad=True), mt.tensor([2.0, 0.5], requires_grad=True)
    mt.manual_seed(0)
    s = D.Normal(loc, scale).rsample((1000,))
    s.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [1000.0, 1000.0])
    eps = (s.detach() - loc.detach()) / scale.detach()
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0).numpy(), rtol=1e-4, atol=1e-3)
    assert D.Normal(loc, scale).sample((3,)).requires_grad is False
    assert D.Normal.has_rsample and not D.Categorical.has_rsample and not D.Bernoulli.has_rsample


def test_normal_statistics():
    mt.manual_seed(1)
    n = 200_000
    d = D.Normal(mt.tensor([1.0, -2.0]), mt.tensor([0.5, 3.0]))
    for s in (d.sample((n,)), d.rsample((n,))):
        a = s.numpy().astype(np.float64)
        np.testing.assert_allclose(a.mean(0), [1.0, -2.0], atol=5 * 3.0 / np.sqrt(n))
        np.testing.assert_allclose(a.std(0), [0.5, 3.0], rtol=0.01)


# ------------------------------------------------------------------------------------------ Bernoulli
@pytest.mark.parametrize("param", ["probs", "logits"])
def test_bernoulli_values_and_grads(param):
    raw = rng.uniform(0.05, 0.95, (3, 2)) if param == "probs" else rng.standard_normal((3, 2))
    value = (rng.uniform(size=(5, 3, 2)) < 0.5).astype(np.float64)
    out = []
    for lib, Dm in ((mt, D), (torch, TD)):
        p = T(lib, raw, True)
        d = Dm.Bernoulli(**{param: p})
        lp, ent = d.log_prob(T(lib, value)), d.entropy()
        (lp.sum() + ent.sum()).backward()
        out.append((lp, ent, d.probs, d.logits, d.mean, d.variance, d.mode, p.grad, d.enumerate_support(),
                    d.enumerate_support(expand=False)))
        assert tuple(d.batch_shape) == (3, 2)
    for m, t in zip(*out):
        close(m, t)


def test_bernoulli_scalar_mode_and_statistics():
    for lib, Dm in ((mt, D), (torch, TD)):
        d = Dm.Bernoulli(0.3)
        assert tuple(d.batch_shape) == () and tuple(d.sample((4,)).shape) == (4,)
    close(D.Bernoulli(mt.tensor([0.2, 0.5, 0.7])).mode, TD.Bernoulli(torch.tensor([0.2, 0.5, 0.7])).mode)
    mt.manual_seed(2)
    s = D.Bernoulli(mt.tensor([0.1, 0.5, 0.85])).sample((100_000,)).numpy()
    assert set(np.unique(s).tolist()) == {0.0, 1.0}
    np.testing.assert_allclose(s.mean(0), [0.1, 0.5, 0.85], atol=0.006)


# ------------------------------------------------------------------------------------------ Categorical
@pytest.mark.parametrize("param", ["probs", "logits"])
def test_categorical_values_and_grads(param):
    raw = PROBS if param == "probs" else LOGITS
    value = rng.integers(0, 4, (5, 3))
    out = []
    for lib, Dm in ((mt, D), (torch, TD)):
        p = T(lib, raw, True)
        d = Dm.Categorical(**{param: p})
        lp, ent = d.log_prob(lib.tensor(value)), d.entropy()
        (lp.sum() + ent.sum()).backward()
        out.append((lp, ent, d.probs, d.logits, d.mode, d.mean, d.variance, p.grad, d.enumerate_support(),
                    d.enumerate_support(False), d.perplexity()))
        assert tuple(d.batch_shape) == (3,) and tuple(d.event_shape) == () and d._num_events == 4
    for m, t in zip(*out):
        close(m, t)


def test_categorical_normalisation_and_broadcast_log_prob():
    p = np.array([1.0, 2.0, 7.0])
    close(D.Categorical(probs=T(mt, p)).probs, TD.Categorical(probs=T(torch, p)).probs)
    close(D.Categorical(logits=T(mt, p)).logits, TD.Categorical(logits=T(torch, p)).logits)
    close(D.Categorical(logits=T(mt, [0.0, -math.inf, 1.0])).entropy(),
          TD.Categorical(logits=T(torch, [0.0, -math.inf, 1.0])).entropy())
    v = np.array([[0], [2]])
    close(D.Categorical(probs=T(mt, PROBS)).log_prob(mt.tensor(v)), TD.Categorical(probs=T(torch, PROBS)).log_prob(
        torch.tensor(v)))


@pytest.mark.parametrize("batch", [(), (3,), (2, 3)])
@pytest.mark.parametrize("sample_shape", [(), (5,), (4, 2)])
def test_categorical_sample_shapes(batch, sample_shape):
    raw = np.ones(batch + (4,))
    md, td = D.Categorical(probs=T(mt, raw)), TD.Categorical(probs=T(torch, raw))
    ms, ts = md.sample(sample_shape), td.sample(sample_shape)
    assert tuple(ms.shape) == tuple(ts.shape) and ms.dtype == mt.int64
    with pytest.warns(UserWarning, match="sample_n will be deprecated"):
        mn = md.sample_n(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tn = td.sample_n(3)
    assert tuple(mn.shape) == tuple(tn.shape)


def test_categorical_statistics():
    mt.manual_seed(3)
    p = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])
    s = D.Categorical(probs=T(mt, p)).sample((100_000,)).numpy()
    for b in range(2):
        np.testing.assert_allclose(np.bincount(s[:, b], minlength=3) / 1e5, p[b], atol=0.006)


# ------------------------------------------------------------------------------------------ Uniform
def test_uniform_values_grads_and_rsample():
    lo, hi = rng.standard_normal(3), None
    hi = lo + rng.uniform(0.5, 2, 3)
    v = np.stack([lo + 0.1, hi - 0.1, lo - 1.0])
    out = []
    for lib, Dm in ((mt, D), (torch, TD)):
        low, high = T(lib, lo, True), T(lib, hi, True)
        d = Dm.Uniform(low, high)
        lp, ent, cdf = d.log_prob(T(lib, v[:2])), d.entropy(), d.cdf(T(lib, v[:2]))
        (lp.sum() + ent.sum() + cdf.sum()).backward()
        out.append((lp, ent, cdf, d.icdf(T(lib, [0.2, 0.5, 0.9])), d.mean, d.stddev, d.variance, low.grad, high.grad))
    for m, t in zip(*out):
        close(m, t)
    close(D.Uniform(T(mt, lo), T(mt, hi), validate_args=False).log_prob(T(mt, v[2])),
          TD.Uniform(T(torch, lo), T(torch, hi), validate_args=False).log_prob(T(torch, v[2])))
    low, high = mt.tensor([0.0, 1.0], requires_grad=True), mt.tensor([1.0, 5.0], requires_grad=True)
    mt.manual_seed(4)
    s = D.Uniform(low, high).rsample((100_000,))
    a = s.detach().numpy().astype(np.float64)
    assert (a >= [0, 1]).all() and (a < [1, 5]).all()
    np.testing.assert_allclose(a.mean(0), [0.5, 3.0], atol=0.01)
    np.testing.assert_allclose(a.var(0), [1 / 12, 16 / 12], rtol=0.02)
    s.sum().backward()
    u = (a - [0, 1]) / [1, 4]
    np.testing.assert_allclose(high.grad.numpy(), u.sum(0), rtol=1e-3)
    np.testing.assert_allclose(low.grad.numpy(), (1 - u).sum(0), rtol=1e-3)


# ------------------------------------------------------------------------------------------ MultivariateNormal
def _spd(n, batch=()):
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


@pytest.mark.parametrize("kind", ["covariance_matrix", "scale_tril", "precision_matrix"])
@pytest.mark.parametrize("batch", [(), (2,)])
def test_mvn_values_and_grads(kind, batch):
    n = 3
    cov = _spd(n, batch)
    mat = np.linalg.cholesky(cov) if kind == "scale_tril" else cov
    loc = rng.standard_normal(batch + (n,))
    v = rng.standard_normal((4,) + batch + (n,))
    out = []
    for lib, Dm in ((mt, D), (torch, TD)):
        lt, mt_ = T(lib, loc, True), T(lib, mat, True)
        d = Dm.MultivariateNormal(lt, **{kind: mt_})
        lp, ent = d.log_prob(T(lib, v)), d.entropy()
        (lp.sum() + ent.sum()).backward()
        out.append((lp, ent, d.mean, d.variance, d.scale_tril, d.covariance_matrix, d.precision_matrix, lt.grad,
                    mt_.grad))
        assert tuple(d.batch_shape) == batch and tuple(d.event_shape) == (n,)
        assert tuple(d.rsample((5,)).shape) == (5,) + batch + (n,)
    for m, t in zip(*out):
        close(m, t, 1e-8)


def test_mvn_statistics_and_rsample_grad():
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    loc = mt.tensor([1.0, -1.0], requires_grad=True)
    mt.manual_seed(5)
    s = D.MultivariateNormal(loc, covariance_matrix=mt.tensor(cov, dtype=mt.float32)).rsample((200_000,))
    a = s.detach().numpy().astype(np.float64)
    np.testing.assert_allclose(a.mean(0), [1.0, -1.0], atol=0.015)
    np.testing.assert_allclose(np.cov(a.T), cov, atol=0.03)
    s.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [200_000.0, 200_000.0])


# ------------------------------------------------------------------------------------------ KL
def test_kl_divergence():
    cov, tril = _spd(2), np.linalg.cholesky(_spd(2))
    pairs = [
        (lambda L: L.Normal(T(L is D and mt or torch, LOC), T(L is D and mt or torch, SCALE)),
         lambda L: L.Normal(T(L is D and mt or torch, LOC[::-1].copy()), T(L is D and mt or torch, SCALE[::-1].copy()))),
        (lambda L: L.Categorical(probs=T(L is D and mt or torch, PROBS)),
         lambda L: L.Categorical(logits=T(L is D and mt or torch, LOGITS))),
        (lambda L: L.Bernoulli(probs=T(L is D and mt or torch, [0.2, 0.0, 1.0])),
         lambda L: L.Bernoulli(probs=T(L is D and mt or torch, [0.5, 0.3, 0.6]))),
        (lambda L: L.Uniform(T(L is D and mt or torch, [0.0, 0.0]), T(L is D and mt or torch, [1.0, 2.0])),
         lambda L: L.Uniform(T(L is D and mt or torch, [-1.0, 0.5]), T(L is D and mt or torch, [2.0, 3.0]))),
        (lambda L: L.MultivariateNormal(T(L is D and mt or torch, [0.0, 1.0]), covariance_matrix=T(L is D and mt or torch, cov)),
         lambda L: L.MultivariateNormal(T(L is D and mt or torch, [1.0, 0.0]), scale_tril=T(L is D and mt or torch, tril))),
    ]
    for fp, fq in pairs:
        close(D.kl_divergence(fp(D), fq(D)), TD.kl_divergence(fp(TD), fq(TD)), 1e-8)
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(0.5))


# ------------------------------------------------------------------------------------------ validation
BAD = [
    lambda L, t: L.Normal(t([0.0, 1.0]), t([1.0, -2.0])),
    lambda L, t: L.Normal(t([math.nan]), t([1.0])),
    lambda L, t: L.Bernoulli(probs=t([0.5, 1.5])),
    lambda L, t: L.Bernoulli(),
    lambda L, t: L.Bernoulli(probs=t([0.5]), logits=t([0.0])),
    lambda L, t: L.Categorical(probs=t([0.5, -0.1, 0.6])),
    lambda L, t: L.Categorical(probs=t(0.5)),
    lambda L, t: L.Categorical(logits=t(0.5)),
    lambda L, t: L.Categorical(),
    lambda L, t: L.Uniform(t([0.0, 2.0]), t([1.0, 1.0])),
    lambda L, t: L.Normal(t([0.0]), t([1.0])).log_prob([0.0]),
    lambda L, t: L.Normal(t([0.0, 1.0]), t([1.0, 1.0])).log_prob(t([0.0, 1.0, 2.0])),
    lambda L, t: L.Bernoulli(t([0.5])).log_prob(t([0.5])),
    lambda L, t: L.Categorical(t([0.5, 0.5])).log_prob(t([2])),
    lambda L, t: L.Uniform(t([0.0]), t([1.0])).log_prob(t([1.5])),
    lambda L, t: L.MultivariateNormal(t([0.0, 0.0]), covariance_matrix=t([[1.0, 2.0], [2.0, 1.0]])),
    lambda L, t: L.MultivariateNormal(t([0.0, 0.0]), scale_tril=t([[1.0, 1.0], [0.0, 1.0]])),
    lambda L, t: L.MultivariateNormal(t([0.0, 0.0])),
    lambda L, t: L.MultivariateNormal(t(0.0), covariance_matrix=t([[1.0]])),
    lambda L, t: L.MultivariateNormal(t([0.0]), covariance_matrix=t([1.0])),
]


@pytest.mark.parametrize("i", range(len(BAD)))
def test_validation_errors(i):
    with pytest.raises(Exception) as te:
        BAD[i](TD, torch.tensor)
    with pytest.raises(type(te.value)) as me:
        BAD[i](D, mt.tensor)
    assert str(me.value) == str(te.value)


def test_validate_args_false_and_default():
    d = D.Normal(mt.tensor([0.0]), mt.tensor([-1.0]), validate_args=False)
    t = TD.Normal(torch.tensor([0.0]), torch.tensor([-1.0]), validate_args=False)
    close(d.log_prob(mt.tensor([0.5])), t.log_prob(torch.tensor([0.5])), 1e-6)
    assert D.Distribution._validate_args is __debug__  # torch's default
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(mt.tensor([0.0]), mt.tensor([-1.0]))
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(mt.tensor([0.0]), mt.tensor([-1.0]))


def test_expand_and_repr():
    for build in (lambda L, t: L.Normal(t([0.0, 1.0]), t([1.0, 2.0])), lambda L, t: L.Bernoulli(logits=t([0.0, 1.0])),
                  lambda L, t: L.Uniform(t([0.0, 0.5]), t([2.0, 2.0]))):
        md, td = build(D, mt.tensor), build(TD, torch.tensor)
        assert repr(md) == repr(td)
        me, te = md.expand((3, 2)), td.expand((3, 2))
        assert tuple(me.batch_shape) == tuple(te.batch_shape) == (3, 2)
        v = np.full((3, 2), 1.0)
        close(me.log_prob(T(mt, v, dtype="float32")), te.log_prob(T(torch, v, dtype="float32")), 1e-6)
    md, td = D.Categorical(logits=mt.tensor([0.0, 1.0])), TD.Categorical(logits=torch.tensor([0.0, 1.0]))
    assert repr(md) == repr(td)
    assert tuple(md.expand((5,)).sample().shape) == tuple(td.expand((5,)).sample().shape)
    assert repr(D.constraints.positive) == repr(TD.constraints.positive)
    assert repr(D.constraints.unit_interval) == repr(TD.constraints.unit_interval)
    assert repr(D.constraints.simplex) == repr(TD.constraints.simplex)

"""The parts of torch.nn added for breadth: nn.init's deprecated aliases, dirac_ and sparse_; F.gumbel_softmax,
F.pdist, F.channel_shuffle; nn.utils.parametrize / parametrizations / fusion / stateless / clip_grad;
minitorch.func.functional_call; the lazy modules; AdaptiveLogSoftmaxWithLoss; Container, NLLLoss2d, CrossMapLRN2d.
Checked against torch (values, gradients, state_dict keys, reprs, warnings, errors)."""
import math
import warnings

import numpy as np
import pytest

import minitorch
import minitorch.nn as mnn
import minitorch.nn.functional as MF

torch = pytest.importorskip("torch")


def M(t):
    """a minitorch copy of a torch tensor"""
    return minitorch.tensor(t.detach().numpy())


def N(t):
    return t.detach().numpy()


def close(a, b, atol=1e-5):
    a = N(a) if not isinstance(a, np.ndarray) else a
    b = N(b) if not isinstance(b, np.ndarray) else b
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=atol)


def load_from_torch(mmod, tmod):
    mmod.load_state_dict({k: M(v) for k, v in tmod.state_dict().items()})


def grads_close(tmod, mmod, atol=1e-5):
    tp = dict(tmod.named_parameters())
    mp = dict(mmod.named_parameters())
    assert list(tp) == list(mp)
    for k in tp:
        close(tp[k].grad, mp[k].grad, atol)


def warning_of(fn):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fn()
    assert rec, "no warning"
    return rec[0].category, str(rec[0].message)


# ------------------------------------------------------------------------------------------------ nn.init
@pytest.mark.parametrize("name,args", [("uniform", ()), ("normal", ()), ("constant", (0.5,)), ("eye", ()),
                                       ("xavier_uniform", ()), ("xavier_normal", ()), ("kaiming_uniform", ()),
                                       ("kaiming_normal", ()), ("orthogonal", ()), ("sparse", (0.5,))])
def test_init_deprecated_aliases_warn_like_torch(name, args):
    t_cat, t_msg = warning_of(lambda: getattr(torch.nn.init, name)(torch.empty(4, 3), *args))
    m_cat, m_msg = warning_of(lambda: getattr(mnn.init, name)(minitorch.empty(4, 3), *args))
    assert (m_cat, m_msg) == (t_cat, t_msg)
    assert getattr(mnn.init, name).__name__ == name


def test_init_dirac_alias_and_constant_value():
    w = minitorch.empty(2, 3)
    with pytest.warns(FutureWarning, match="nn.init.constant_"):
        out = mnn.init.constant(w, 0.25)
    assert out is w and np.all(N(w) == 0.25)
    with pytest.warns(FutureWarning, match="`nn.init.dirac` is now deprecated in favor of `nn.init.dirac_`"):
        mnn.init.dirac(minitorch.empty(2, 2, 3))


@pytest.mark.parametrize("shape,groups", [((4, 4, 3), 1), ((6, 3, 3, 3), 3), ((3, 5, 2, 4), 1), ((4, 2, 3, 3, 3), 2),
                                          ((2, 6, 1, 1), 1), ((8, 3, 5), 2)])
def test_dirac_matches_torch(shape, groups):
    t = torch.nn.init.dirac_(torch.empty(shape), groups)
    m = mnn.init.dirac_(minitorch.empty(shape), groups)
    close(m, t, 0)


def test_dirac_errors_and_conv_identity():
    for lib, mk in ((torch, torch.empty), (minitorch, minitorch.empty)):
        with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions are supported"):
            lib.nn.init.dirac_(mk(3, 3))
        with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
            lib.nn.init.dirac_(mk(3, 3, 3), 2)
    conv = mnn.Conv2d(3, 3, 3, padding=1, bias=False)
    mnn.init.dirac_(conv.weight)
    x = minitorch.randn(1, 3, 5, 5)
    close(conv(x), x, 1e-6)


def test_sparse_zeros_per_column_and_std():
    minitorch.manual_seed(0)
    w = mnn.init.sparse_(minitorch.empty(200, 40), sparsity=0.3, std=0.05)
    a = N(w)
    assert np.all((a == 0).sum(0) >= math.ceil(0.3 * 200))
    assert np.all((a == 0).sum(0) <= math.ceil(0.3 * 200) + 2)  # a normal draw is exactly 0 almost never
    assert abs(a[a != 0].std() - 0.05) < 0.005
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        mnn.init.sparse_(minitorch.empty(3), 0.1)


def test_init_generator_is_used():
    g1 = minitorch.Generator().manual_seed(3)
    g2 = minitorch.Generator().manual_seed(3)
    a = mnn.init.uniform_(minitorch.empty(5), generator=g1)
    b = mnn.init.uniform_(minitorch.empty(5), generator=g2)
    close(a, b, 0)
    c = mnn.init.normal_(minitorch.empty(5), generator=minitorch.Generator().manual_seed(4))
    assert not np.allclose(N(a), N(c))


# ------------------------------------------------------------------------------------------------ functional
def _fixed_exponential(monkeypatch, values):
    """both libraries' exponential_ fill with the given values (so gumbel_softmax's noise is fixed)"""
    def t_exp(self, *a, **k):
        with torch.no_grad():
            self.copy_(torch.tensor(values, dtype=self.dtype).view(self.shape))
        return self

    def m_exp(self, *a, **k):
        with minitorch.no_grad():
            self.copy_(minitorch.tensor(values, dtype=self.dtype).view(tuple(self.shape)))
        return self
    monkeypatch.setattr(torch.Tensor, "exponential_", t_exp)
    monkeypatch.setattr(minitorch.Tensor, "exponential_", m_exp)


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("dim", [-1, 0])
def test_gumbel_softmax_matches_torch_with_fixed_noise(monkeypatch, hard, dim):
    rng = np.random.default_rng(0)
    noise = rng.exponential(size=(3, 5)).astype(np.float32)
    _fixed_exponential(monkeypatch, noise)
    lt = torch.randn(3, 5, requires_grad=True)
    lm = M(lt).requires_grad_()
    w = torch.randn(3, 5)
    yt = torch.nn.functional.gumbel_softmax(lt, tau=0.7, hard=hard, dim=dim)
    ym = MF.gumbel_softmax(lm, tau=0.7, hard=hard, dim=dim)
    close(ym, yt, 1e-6)
    (yt * w).sum().backward()
    (ym * M(w)).sum().backward()
    close(lm.grad, lt.grad, 1e-5)
    if hard:
        a = N(ym)
        assert set(np.unique(a)) <= {0.0, 1.0} and np.all(a.sum(dim) == 1)
        assert lm.grad.abs().sum().item() > 0  # straight-through: the soft sample's gradient flows


def test_gumbel_softmax_statistics():
    minitorch.manual_seed(0)
    logits = minitorch.tensor([1.0, 0.0, -1.0, 2.0])
    samples = MF.gumbel_softmax(logits.expand(20000, 4), tau=1.0, hard=True)
    freq = N(samples.mean(0))
    p = np.exp([1.0, 0.0, -1.0, 2.0])
    p /= p.sum()
    np.testing.assert_allclose(freq, p, atol=0.015)  # argmax(logits + Gumbel) ~ Categorical(softmax(logits))
    soft = MF.gumbel_softmax(logits.expand(3, 4), tau=0.5)
    np.testing.assert_allclose(N(soft.sum(-1)), 1.0, rtol=1e-6)
    assert soft.shape == (3, 4) and np.all(N(soft) > 0)
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated and has no effect."):
        MF.gumbel_softmax(logits, eps=1e-5)


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0, 0.5, float("inf")])
def test_pdist_matches_torch(p):
    x = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    xm = M(x).requires_grad_()
    yt = torch.nn.functional.pdist(x, p)
    ym = MF.pdist(xm, p)
    close(ym, yt, 1e-10)
    w = torch.randn(yt.shape, dtype=torch.float64)
    (yt * w).sum().backward()
    (ym * M(w)).sum().backward()
    close(xm.grad, x.grad, 1e-8)


def test_pdist_edge_cases_and_errors():
    assert MF.pdist(minitorch.randn(1, 3)).shape == (0,)
    assert MF.pdist(minitorch.randn(0, 3)).shape == (0,)
    x = minitorch.tensor([[1.0, 2.0], [1.0, 2.0], [4.0, 6.0]], requires_grad=True)
    y = MF.pdist(x)
    close(y, np.array([0.0, 5.0, 5.0], dtype=np.float32), 1e-6)
    y.sum().backward()
    assert np.all(np.isfinite(N(x.grad)))  # equal rows: zero gradient, as torch, not nan
    for lib, fn in ((torch, torch.nn.functional.pdist), (minitorch, MF.pdist)):
        with pytest.raises(RuntimeError, match="pdist only supports 2D tensors, got: 3D"):
            fn(lib.randn(2, 3, 4))
        with pytest.raises(RuntimeError, match="pdist only supports non-negative p values"):
            fn(lib.randn(4, 3), -1.0)
        with pytest.raises(RuntimeError, match="pdist only supports floating-point dtypes"):
            fn(lib.arange(6).view(2, 3))


@pytest.mark.parametrize("shape,groups", [((1, 4, 2, 2), 2), ((2, 6, 3), 3), ((2, 6, 2, 1, 2), 2), ((3, 5, 2), 1)])
def test_channel_shuffle_matches_torch(shape, groups):
    x = torch.randn(shape)
    close(MF.channel_shuffle(M(x), groups), torch.nn.functional.channel_shuffle(x, groups), 0)
    close(MF.native_channel_shuffle(M(x), groups), torch.nn.functional.native_channel_shuffle(x, groups), 0)
    close(mnn.ChannelShuffle(groups)(M(x)), torch.nn.ChannelShuffle(groups)(x), 0)


def test_channel_shuffle_errors_repr_grad():
    assert repr(mnn.ChannelShuffle(3)) == repr(torch.nn.ChannelShuffle(3)) == "ChannelShuffle(groups=3)"
    for lib, fn in ((torch, torch.nn.functional.channel_shuffle), (minitorch, MF.channel_shuffle)):
        with pytest.raises(RuntimeError, match="Number of channels must be divisible by groups. Got 6 channels and 4"):
            fn(lib.randn(2, 6, 3), 4)
        with pytest.raises(RuntimeError, match=r"channel_shuffle expects input with > 2 dims, but got input with "
                                               r"sizes \[2, 6\]"):
            fn(lib.randn(2, 6), 2)
        with pytest.raises(RuntimeError, match="Number of groups to divide channels in must be positive. Value of "
                                               "groups:0"):
            fn(lib.randn(2, 6, 3), 0)
    x = minitorch.randn(2, 4, 3, requires_grad=True)
    w = minitorch.randn(2, 4, 3)
    (MF.channel_shuffle(x, 2) * w).sum().backward()
    close(x.grad, MF.channel_shuffle(w, 2), 0)  # the shuffle is its own inverse for 2 groups of 2


# ------------------------------------------------------------------------------------------------ parametrize
class _Symmetric:
    """a parametrization class in both libraries"""

    @staticmethod
    def make(lib):
        class Symmetric(lib.nn.Module):
            def forward(self, X):
                return X.triu() + X.triu(1).transpose(-1, -2)

        class Scale(lib.nn.Module):
            def forward(self, X):
                return 2 * X

            def right_inverse(self, X):
                return X / 2
        return Symmetric, Scale


def test_register_parametrization_like_torch():
    mods = {}
    for lib in (torch, minitorch):
        P = lib.nn.utils.parametrize
        Symmetric, Scale = _Symmetric.make(lib)
        lin = lib.nn.Linear(3, 3)
        orig = lin.weight
        P.register_parametrization(lin, "weight", Symmetric())
        P.register_parametrization(lin, "weight", Scale())
        assert type(lin).__name__ == "ParametrizedLinear" and isinstance(lin, lib.nn.Linear)
        assert P.type_before_parametrizations(lin) is lib.nn.Linear
        assert P.is_parametrized(lin) and P.is_parametrized(lin, "weight") and not P.is_parametrized(lin, "bias")
        assert lin.parametrizations.weight.original is orig
        mods[lib] = lin
    tl, ml = mods[torch], mods[minitorch]
    assert list(ml.state_dict()) == list(tl.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert [n for n, _ in ml.named_parameters()] == [n for n, _ in tl.named_parameters()]
    assert repr(ml) == repr(tl)
    load_from_torch(ml, tl)
    close(ml.weight, tl.weight, 1e-6)
    w = ml.weight.detach().numpy()
    np.testing.assert_allclose(w, w.T)
    x = torch.randn(2, 3)
    tl(x).sum().backward()
    ml(M(x)).sum().backward()
    grads_close(tl, ml)
    # assignment goes through right_inverse (Scale's; Symmetric has none -> error, as torch)
    for lib, lin in ((torch, tl), (minitorch, ml)):
        with pytest.raises(RuntimeError, match="parametrization Symmetric does not implement right_inverse."):
            lin.weight = lib.ones(3, 3)


def test_right_inverse_assignment_and_remove():
    for lib in (torch, minitorch):
        P = lib.nn.utils.parametrize
        _, Scale = _Symmetric.make(lib)
        lin = lib.nn.Linear(2, 2)
        P.register_parametrization(lin, "weight", Scale())
        lin.weight = lib.ones(2, 2)
        np.testing.assert_allclose(N(lin.parametrizations.weight.original), 0.5)
        np.testing.assert_allclose(N(lin.weight), 1.0)
        P.remove_parametrizations(lin, "weight", leave_parametrized=True)
        assert type(lin) is lib.nn.Linear and not hasattr(lin, "parametrizations")
        assert isinstance(lin.weight, lib.nn.Parameter)
        np.testing.assert_allclose(N(lin.weight), 1.0)
        P.register_parametrization(lin, "weight", Scale())
        P.remove_parametrizations(lin, "weight", leave_parametrized=False)
        np.testing.assert_allclose(N(lin.weight), 0.5)  # the original
        assert list(lin.state_dict()) == ["bias", "weight"]  # re-registered last, as torch
        with pytest.raises(ValueError, match="does not have a parametrization on weight"):
            P.remove_parametrizations(lin, "weight")
        with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element with "
                                             "name 'nope'"):
            P.register_parametrization(lin, "nope", Scale())


def test_parametrization_shape_check_and_cached():
    class Bad(mnn.Module):
        def forward(self, X):
            return X[:1]
    with pytest.raises(ValueError, match="Registering a parametrization may not change the shape of the tensor"):
        mnn.utils.parametrize.register_parametrization(mnn.Linear(3, 3), "weight", Bad())
    calls = []

    class Count(mnn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 1
    lin = mnn.Linear(3, 3)
    mnn.utils.parametrize.register_parametrization(lin, "weight", Count())
    calls.clear()
    lin.weight, lin.weight
    assert len(calls) == 2
    calls.clear()
    with mnn.utils.parametrize.cached():
        a, b = lin.weight, lin.weight
        assert a is b
    assert len(calls) == 1
    with pytest.raises(RuntimeError, match="Serialization of parametrized modules is only supported through"):
        import pickle
        pickle.dumps(lin)
    import copy
    lin2 = copy.deepcopy(lin)
    assert type(lin2).__name__ == "ParametrizedLinear" and lin2.parametrizations.weight.original is not \
        lin.parametrizations.weight.original


@pytest.mark.parametrize("make", [lambda L: L.Linear(5, 3), lambda L: L.Conv2d(2, 4, 3),
                                  lambda L: L.ConvTranspose2d(4, 2, 3)])
@pytest.mark.parametrize("dim", [0, 1, None])
def test_parametrizations_weight_norm_matches_torch(make, dim):
    tm, mm = make(torch.nn), make(mnn)
    torch.nn.utils.parametrizations.weight_norm(tm, dim=dim)
    mnn.utils.parametrizations.weight_norm(mm, dim=dim)
    assert list(mm.state_dict()) == list(tm.state_dict())
    assert [tuple(v.shape) for v in mm.state_dict().values()] == [tuple(v.shape) for v in tm.state_dict().values()]
    assert repr(mm) == repr(tm)
    load_from_torch(mm, tm)
    x = torch.randn((2, 5) if isinstance(tm, torch.nn.Linear) else (1, tm.in_channels, 5, 5))
    yt, ym = tm(x), mm(M(x))
    close(ym, yt)
    yt.sum().backward()
    ym.sum().backward()
    grads_close(tm, mm, 1e-4)


def test_weight_norm_loads_old_style_checkpoint():
    old = torch.nn.Linear(4, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.nn.utils.weight_norm(old)
    sd = {k: M(v) for k, v in old.state_dict().items()}
    assert set(sd) == {"bias", "weight_g", "weight_v"}
    new = mnn.utils.parametrizations.weight_norm(mnn.Linear(4, 3))
    new.load_state_dict(sd)
    x = torch.randn(2, 4)
    close(new(M(x)), old(x))


def test_old_weight_norm_and_spectral_norm_keys():
    for lib in (torch, minitorch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = lib.nn.utils.weight_norm(lib.nn.Linear(4, 3))
        assert list(a.state_dict()) == ["bias", "weight_g", "weight_v"]
        b = lib.nn.utils.spectral_norm(lib.nn.Linear(4, 3))
        assert list(b.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]


@pytest.mark.parametrize("make,xshape", [(lambda L: L.Linear(5, 3), (2, 5)), (lambda L: L.Linear(3, 6), (2, 3)),
                                         (lambda L: L.Conv2d(2, 4, 3), (1, 2, 5, 5)),
                                         (lambda L: L.ConvTranspose2d(4, 2, 3), (1, 4, 4, 4))])
@pytest.mark.parametrize("n_iter", [1, 3])
def test_parametrizations_spectral_norm_matches_torch(make, xshape, n_iter):
    tm, mm = make(torch.nn), make(mnn)
    torch.nn.utils.parametrizations.spectral_norm(tm, n_power_iterations=n_iter)
    mnn.utils.parametrizations.spectral_norm(mm, n_power_iterations=n_iter)
    assert list(mm.state_dict()) == list(tm.state_dict()) == [
        "bias", "parametrizations.weight.original", "parametrizations.weight.0._u", "parametrizations.weight.0._v"]
    assert repr(mm) == repr(tm)
    load_from_torch(mm, tm)
    x = torch.randn(xshape)
    for step in range(2):  # training mode: one power iteration per forward, updating _u and _v
        yt, ym = tm(x), mm(M(x))
        close(ym, yt, 1e-4)
        close(mm.parametrizations.weight[0]._u, tm.parametrizations.weight[0]._u, 1e-4)
        close(mm.parametrizations.weight[0]._v, tm.parametrizations.weight[0]._v, 1e-4)
    yt.sum().backward()
    ym.sum().backward()
    grads_close(tm, mm, 1e-4)
    tm.eval()
    mm.eval()
    u = N(mm.parametrizations.weight[0]._u).copy()
    close(mm(M(x)), tm(x), 1e-4)
    np.testing.assert_array_equal(N(mm.parametrizations.weight[0]._u), u)  # eval: no iteration


def test_spectral_norm_sigma_and_errors():
    minitorch.manual_seed(0)
    lin = mnn.utils.parametrizations.spectral_norm(mnn.Linear(6, 4))
    for _ in range(30):
        lin(minitorch.randn(1, 6))
    s = np.linalg.svd(N(lin.weight), compute_uv=False)
    assert abs(s[0] - 1.0) < 1e-3
    for lib in (torch, minitorch):
        with pytest.raises(ValueError, match="Expected n_power_iterations to be positive, but got "
                                             "n_power_iterations=0"):
            lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0)
        with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\] but "
                                             r"got 2\)"):
            lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2), dim=2)
        with pytest.raises(ValueError, match="has no parameter or buffer with name 'nope'"):
            lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2), name="nope")


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
@pytest.mark.parametrize("omap", [None, "matrix_exp", "cayley", "householder"])
def test_parametrizations_orthogonal_matches_torch(shape, omap):
    tm, mm = torch.nn.Linear(shape[1], shape[0]), mnn.Linear(shape[1], shape[0])
    torch.nn.utils.parametrizations.orthogonal(tm, orthogonal_map=omap)
    mnn.utils.parametrizations.orthogonal(mm, orthogonal_map=omap)
    assert list(mm.state_dict()) == list(tm.state_dict()) == [
        "bias", "parametrizations.weight.original", "parametrizations.weight.0.base"]
    w = N(mm.weight).astype(np.float64)
    g = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(g, np.eye(min(shape)), atol=1e-5)
    load_from_torch(mm, tm)
    x = torch.randn(2, shape[1])
    yt, ym = tm(x), mm(M(x))
    close(ym, yt, 1e-5)
    yt.sum().backward()
    ym.sum().backward()
    grads_close(tm, mm, 1e-4)


def test_orthogonal_errors():
    for lib in (torch, minitorch):
        with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", "cayley", '
                                             '"householder". Got: foo'):
            lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), orthogonal_map="foo")
        with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor of 1 dimensions."):
            lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), name="bias")


# ------------------------------------------------------------------------------------------------ fusion
@pytest.mark.parametrize("kind", ["conv", "convT", "linear", "conv_nobias"])
def test_fusion_matches_torch(kind):
    if kind == "conv":
        mk, bn, x = (lambda L: L.Conv2d(3, 4, 3)), "BatchNorm2d", torch.randn(2, 3, 5, 5)
    elif kind == "conv_nobias":
        mk, bn, x = (lambda L: L.Conv1d(3, 4, 3, bias=False)), "BatchNorm1d", torch.randn(2, 3, 7)
    elif kind == "convT":
        mk, bn, x = (lambda L: L.ConvTranspose2d(3, 4, 3)), "BatchNorm2d", torch.randn(2, 3, 4, 4)
    else:
        mk, bn, x = (lambda L: L.Linear(5, 4)), "BatchNorm1d", torch.randn(3, 5)
    tc, tb = mk(torch.nn), getattr(torch.nn, bn)(4)
    with torch.no_grad():
        tb.running_mean.uniform_(-1, 1)
        tb.running_var.uniform_(0.5, 2)
        tb.weight.uniform_(0.5, 1.5)
        tb.bias.uniform_(-1, 1)
    mc, mb = mk(mnn), getattr(mnn, bn)(4)
    load_from_torch(mc, tc)
    load_from_torch(mb, tb)
    for m in (tc, tb, mc, mb):
        m.eval()
    if kind == "linear":
        tf, mf = torch.nn.utils.fuse_linear_bn_eval(tc, tb), mnn.utils.fuse_linear_bn_eval(mc, mb)
    else:
        tr = kind == "convT"
        tf = torch.nn.utils.fuse_conv_bn_eval(tc, tb, transpose=tr)
        mf = mnn.utils.fuse_conv_bn_eval(mc, mb, transpose=tr)
    assert type(mf.weight) is mnn.Parameter and mf.weight.requires_grad and mf.bias is not None
    close(mf.weight, tf.weight)
    close(mf.bias, tf.bias)
    close(mf(M(x)), tf(x), 1e-4)
    close(mf(M(x)), mb(mc(M(x))), 1e-4)
    assert mc.weight is not mf.weight  # a copy


def test_fusion_errors():
    for lib in (torch, minitorch):
        with pytest.raises(AssertionError, match="Fusion only for eval!"):
            lib.nn.utils.fuse_conv_bn_eval(lib.nn.Conv2d(1, 2, 1), lib.nn.BatchNorm2d(2))
        with pytest.raises(AssertionError, match="To fuse, linear.out_features == bn.num_features or "
                                                 "bn.num_features == 1, got linear.out_features=3 and "
                                                 "bn.num_features=2"):
            lib.nn.utils.fuse_linear_bn_eval(lib.nn.Linear(2, 3).eval(), lib.nn.BatchNorm1d(2).eval())
    w, b = mnn.utils.fuse_linear_bn_weights(minitorch.ones(2, 2), None, minitorch.zeros(2), minitorch.ones(2), 0.0,
                                            minitorch.tensor([2.0, 3.0]), minitorch.tensor([1.0, -1.0]))
    close(w, np.array([[2, 2], [3, 3]], dtype=np.float32), 0)
    close(b, np.array([1, -1], dtype=np.float32), 0)


# ------------------------------------------------------------------------------------------------ functional_call
def test_functional_call_like_torch():
    tl, ml = torch.nn.Linear(3, 2), mnn.Linear(3, 2)
    load_from_torch(ml, tl)
    w = torch.randn(2, 3, requires_grad=True)
    wm = M(w).requires_grad_()
    x = torch.randn(4, 3)
    yt = torch.func.functional_call(tl, {"weight": w}, (x,))
    ym = minitorch.func.functional_call(ml, {"weight": wm}, (M(x),))
    close(ym, yt)
    yt.sum().backward()
    ym.sum().backward()
    close(wm.grad, w.grad)
    assert ml.weight.grad is None and isinstance(ml.weight, mnn.Parameter)  # restored, untouched
    close(ml.weight, tl.weight)
    # a single non-tuple arg, kwargs, a sequence of dicts
    close(minitorch.func.functional_call(ml, ({"weight": wm}, {"bias": M(tl.bias)}), M(x)), yt)
    with pytest.raises(ValueError, match=r"\['weight'\] appeared in multiple dictionaries"):
        minitorch.func.functional_call(ml, ({"weight": wm}, {"weight": wm}), M(x))
    cat, msg = warning_of(lambda: mnn.utils.stateless.functional_call(ml, {"weight": wm}, M(x)))
    tcat, tmsg = warning_of(lambda: torch.nn.utils.stateless.functional_call(tl, {"weight": w}, x))
    assert (cat, msg) == (tcat, tmsg)
    for lib, lin, t in ((torch, tl, w), (minitorch, ml, wm)):
        with pytest.raises(RuntimeError, match="Error\\(s\\) in reparametrizing for Linear:\n\tUnexpected key\\(s\\): "
                                               "'foo'.\n\tMissing key\\(s\\): 'bias'."):
            lib.func.functional_call(lin, {"weight": t, "foo": t}, (lib.ones(1, 3),), strict=True)


def test_functional_call_buffers_and_tied_weights():
    class Tied(mnn.Module):
        def __init__(self):
            super().__init__()
            self.a = mnn.Linear(2, 2, bias=False)
            self.b = mnn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight
            self.register_buffer("scale", minitorch.ones(1))

        def forward(self, x):
            return self.b(self.a(x)) * self.scale
    m = Tied()
    w = minitorch.eye(2) * 2
    x = minitorch.tensor([[1.0, 2.0]])
    out = minitorch.func.functional_call(m, {"a.weight": w, "scale": minitorch.tensor([0.5])}, (x,))
    close(out, np.array([[2.0, 4.0]], dtype=np.float32), 1e-6)  # b.weight follows a.weight (tie_weights=True)
    assert m.b.weight is m.a.weight and float(m.scale) == 1.0
    out = minitorch.func.functional_call(m, {"a.weight": w}, (x,), tie_weights=False)
    close(out, m.b(x * 2), 1e-6)
    with pytest.raises(ValueError, match="which are tied. Consider using tie_weights=False"):
        minitorch.func.functional_call(m, {"a.weight": w, "b.weight": w * 2}, (x,))


# ------------------------------------------------------------------------------------------------ clip_grad
def test_get_total_norm_and_clip_grads_with_norm():
    for norm_type in (2.0, 1.0, float("inf"), 3):
        tps = [torch.nn.Parameter(torch.randn(3, 2)) for _ in range(3)]
        for p in tps:
            p.grad = torch.randn_like(p) * 3
        mps = [mnn.Parameter(M(p)) for p in tps]
        for p, q in zip(mps, tps):
            p.grad = M(q.grad)
        tn = torch.nn.utils.get_total_norm([p.grad for p in tps], norm_type)
        mn = mnn.utils.get_total_norm([p.grad for p in mps], norm_type)
        close(mn, tn)
        assert mn.shape == ()
        torch.nn.utils.clip_grads_with_norm_(tps, 1.5, tn)
        assert mnn.utils.clip_grads_with_norm_(mps, 1.5, mn) is None
        for p, q in zip(mps, tps):
            close(p.grad, q.grad)
    assert float(mnn.utils.get_total_norm([])) == 0.0
    p = mnn.Parameter(minitorch.ones(2))
    p.grad = minitorch.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is "
                                           "non-finite"):
        mnn.utils.get_total_norm([p.grad], error_if_nonfinite=True)
    p.grad = minitorch.tensor([3.0, 4.0])
    cat, msg = warning_of(lambda: mnn.utils.clip_grad_norm([p], 1.0))
    tp = torch.nn.Parameter(torch.ones(2))
    tp.grad = torch.tensor([3.0, 4.0])
    assert (cat, msg) == warning_of(lambda: torch.nn.utils.clip_grad_norm([tp], 1.0))
    close(p.grad, tp.grad)
    with pytest.warns(UserWarning, match="`parameters` is an empty generator, no gradient clipping will occur."):
        mnn.utils.clip_grad_norm_((q for q in []), 1.0)


def test_convert_parameters_and_skip_init():
    ps = [mnn.Parameter(minitorch.randn(2, 3)), mnn.Parameter(minitorch.randn(4))]
    v = mnn.utils.convert_parameters.parameters_to_vector(ps)
    assert v.shape == (10,)
    mnn.utils.vector_to_parameters(v * 2, ps)
    close(mnn.utils.parameters_to_vector(ps), v * 2, 0)
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        mnn.utils.vector_to_parameters([1.0], ps)
    m = mnn.utils.skip_init(mnn.Linear, 3, 4, bias=False)
    assert type(m) is mnn.Linear and m.weight.shape == (4, 3) and m.bias is None
    for lib in (torch, minitorch):
        with pytest.raises(RuntimeError, match="Expected a Module; got"):
            lib.nn.utils.skip_init(int)
        with pytest.raises(RuntimeError, match="Module must support a 'device' arg to skip initialization"):
            lib.nn.utils.skip_init(lib.nn.ReLU)


# ------------------------------------------------------------------------------------------------ lazy modules
LAZY_CASES = [
    ("LazyLinear", (4,), {}, (3, 5)), ("LazyLinear", (4,), {"bias": False}, (2, 3, 5)),
    ("LazyConv1d", (4, 3), {"stride": 2}, (2, 3, 9)), ("LazyConv2d", (4, 3), {"padding": 1, "groups": 2}, (2, 6, 5, 5)),
    ("LazyConv3d", (2, 2), {}, (1, 3, 4, 4, 4)), ("LazyConv2d", (4, 3), {}, (3, 5, 5)),
    ("LazyConvTranspose1d", (4, 3), {}, (2, 3, 5)), ("LazyConvTranspose2d", (4, 3), {"stride": 2}, (1, 2, 3, 3)),
    ("LazyConvTranspose3d", (2, 2), {}, (1, 3, 2, 2, 2)),
    ("LazyBatchNorm1d", (), {}, (4, 3)), ("LazyBatchNorm2d", (), {"momentum": None}, (2, 3, 4, 4)),
    ("LazyBatchNorm3d", (), {"affine": False}, (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 6)), ("LazyInstanceNorm2d", (), {"affine": False,
                                                                          "track_running_stats": False}, (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", (), {}, (2, 3, 2, 2, 3)),
]


@pytest.mark.parametrize("name,args,kwargs,xshape", LAZY_CASES)
def test_lazy_modules_like_torch(name, args, kwargs, xshape):
    tm = getattr(torch.nn, name)(*args, **kwargs)
    mm = getattr(mnn, name)(*args, **kwargs)
    assert repr(mm) == repr(tm)
    tsd, msd = tm.state_dict(), mm.state_dict()
    assert list(msd) == list(tsd)
    assert [repr(v) for v in msd.values()] == [repr(v) for v in tsd.values()]
    assert mm.has_uninitialized_params() == tm.has_uninitialized_params()
    x = torch.randn(xshape)
    tm(x)
    mm(M(x))
    assert type(mm).__name__ == type(tm).__name__ == getattr(torch.nn, name).cls_to_become.__name__
    assert type(mm) is getattr(mnn, name).cls_to_become
    assert repr(mm) == repr(tm)
    assert not hasattr(mm, "_initialize_hook") and not mm._forward_pre_hooks
    for (k, v), (k2, v2) in zip(mm.state_dict().items(), tm.state_dict().items()):
        assert k == k2 and tuple(v.shape) == tuple(v2.shape) and type(v).__name__ == type(v2).__name__
    for p in mm.parameters():
        assert type(p) is mnn.Parameter
    load_from_torch(mm, tm)
    x = torch.randn(xshape)
    close(mm(M(x)), tm(x), 1e-4)


def test_lazy_linear_default_init_bounds():
    m = mnn.LazyLinear(50)
    m(minitorch.randn(2, 16))
    bound = 1 / math.sqrt(16)
    w, b = N(m.weight), N(m.bias)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(b).max() <= bound and np.abs(b).std() > 0


def test_uninitialized_parameter_errors_like_torch():
    for lib in (torch, minitorch):
        m = lib.nn.LazyLinear(3)
        p = m.weight
        assert repr(p) == "<UninitializedParameter>" and isinstance(p, lib.nn.Parameter)
        assert isinstance(p, lib.nn.UninitializedParameter) and lib.nn.parameter.is_lazy(p)
        assert p.requires_grad and p.dtype == lib.float32 and tuple(p.size()) == (0,)
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter in <method 'sum' of "
                                             "'torch._C.TensorBase' objects>. This error happens when you are using "
                                             "a `LazyModule`"):
            p.sum()
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter in"):
            p + 1
        with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter or buffer."):
            p.shape
        b = lib.nn.LazyBatchNorm1d().running_mean
        assert repr(b) == "<UninitializedBuffer>" and lib.nn.parameter.is_lazy(b)
        assert not lib.nn.parameter.is_lazy(lib.ones(1))
        with pytest.raises(RuntimeError, match="Can't share memory on an uninitialized parameter"):
            p.share_memory_()
        with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d, "
                                               r"but got input of size: torch.Size\(\[2, 3\]\)"):
            lib.nn.LazyConv2d(2, 3)(lib.ones(2, 3))
        with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
            lib.nn.LazyConv2d(2, 1, groups=2)(lib.ones(1, 3, 2, 2))


def test_uninitialized_materialize_and_dtype():
    p = mnn.UninitializedParameter(dtype=minitorch.float64)
    p.materialize((2, 3))
    assert type(p) is mnn.Parameter and p.shape == (2, 3) and p.dtype == minitorch.float64 and p.requires_grad
    b = mnn.UninitializedBuffer()
    b.materialize((4,))
    assert type(b) is minitorch.Tensor and b.shape == (4,) and not b.requires_grad
    m = mnn.LazyLinear(2).double()  # the dtype carries over to the first forward, as torch
    m(minitorch.randn(1, 3, dtype=minitorch.float64))
    assert m.weight.dtype == minitorch.float64
    import copy
    c = copy.deepcopy(mnn.LazyLinear(2))
    assert repr(c.weight) == "<UninitializedParameter>"
    c(minitorch.randn(1, 5))
    assert c.in_features == 5


def test_lazy_load_state_dict_materializes():
    t = torch.nn.Linear(6, 2)
    for lib, sd in ((torch, t.state_dict()), (minitorch, {k: M(v) for k, v in t.state_dict().items()})):
        m = lib.nn.LazyLinear(2)
        m.load_state_dict(sd)
        assert type(m).__name__ == "LazyLinear" and tuple(m.weight.shape) == (2, 6)
        assert m.in_features == 0  # set at the first forward
        m(lib.ones(1, 6))
        assert type(m).__name__ == "Linear" and m.in_features == 6
        with pytest.raises(AssertionError, match="The in_features inferred from input: 4 is not equal to "
                                                 "in_features from self.weight: 6"):
            mm = lib.nn.LazyLinear(2)
            mm.load_state_dict(sd)
            mm(lib.ones(1, 4))
    bn = mnn.LazyBatchNorm1d()
    tb = torch.nn.BatchNorm1d(3)
    tb(torch.randn(5, 3))
    load_from_torch(bn, tb)
    close(bn.running_mean, tb.running_mean, 1e-6)
    assert int(bn.num_batches_tracked) == 1


# ------------------------------------------------------------------------------------------------ legacy modules
def test_container_and_nllloss2d_warn_like_torch():
    for lib in (torch, minitorch):
        cat, msg = warning_of(lambda: lib.nn.Container(a=lib.nn.ReLU()))
        assert cat is FutureWarning and msg == ("`nn.Container` is deprecated. All of its functionality is now "
                                                "implemented in `nn.Module`. Subclass that instead.")
        cat, msg = warning_of(lambda: lib.nn.NLLLoss2d())
        assert cat is FutureWarning and msg.startswith("`NLLLoss2d` has been deprecated. Please use `NLLLoss` "
                                                       "instead as a drop-in replacement")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = mnn.Container(a=mnn.ReLU(), b=mnn.Linear(2, 2))
        tc = torch.nn.Container(a=torch.nn.ReLU(), b=torch.nn.Linear(2, 2))
        assert repr(c) == repr(tc) and list(c.state_dict()) == ["b.weight", "b.bias"]
        lt, lm = torch.nn.NLLLoss2d(ignore_index=1), mnn.NLLLoss2d(ignore_index=1)
    x = torch.randn(2, 3, 4, 4).log_softmax(1)
    y = torch.randint(0, 3, (2, 4, 4))
    close(lm(M(x), M(y)), lt(x, y))
    assert isinstance(lm, mnn.NLLLoss)


@pytest.mark.parametrize("size", [2, 3, 5, 8])
@pytest.mark.parametrize("channels", [1, 4, 7])
def test_cross_map_lrn2d_matches_torch(size, channels):
    x = torch.randn(2, channels, 3, 4, dtype=torch.float64, requires_grad=True)
    xm = M(x).requires_grad_()
    tmod, mmod = torch.nn.CrossMapLRN2d(size, alpha=0.3, beta=0.6, k=2), mnn.CrossMapLRN2d(size, 0.3, 0.6, 2)
    assert repr(mmod) == repr(tmod)
    yt, ym = tmod(x), mmod(xm)
    close(ym, yt, 1e-10)
    g = torch.randn_like(yt)
    yt.backward(g)
    ym.backward(M(g))
    close(xm.grad, x.grad, 1e-10)


def test_cross_map_lrn2d_errors():
    with pytest.raises(ValueError, match="CrossMapLRN2d: Expected input to be 4D, got 3D instead."):
        mnn.CrossMapLRN2d(3)(minitorch.randn(2, 3, 4))


def _asm_pair(**kw):
    tmod = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 10, 15], **kw)
    mmod = mnn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 10, 15], **kw)
    load_from_torch(mmod, tmod)
    return tmod, mmod


@pytest.mark.parametrize("kw", [{}, {"div_value": 2.0, "head_bias": True}])
def test_adaptive_log_softmax_matches_torch(kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about the zero-width tail Linear for div_value 4
        tmod, mmod = _asm_pair(**kw)
    assert repr(mmod) == repr(tmod)
    assert list(mmod.state_dict()) == list(tmod.state_dict())
    x = torch.randn(9, 16)
    t = torch.tensor([0, 3, 4, 9, 10, 19, 5, 2, 15])
    ot, om = tmod(x, t), mmod(M(x), M(t))
    assert type(om).__name__ == "_ASMoutput" and om._fields == ("output", "loss")
    close(om.output, ot.output)
    close(om.loss, ot.loss)
    ot.loss.backward()
    om.loss.backward()
    grads_close(tmod, mmod)
    close(mmod.log_prob(M(x)), tmod.log_prob(x))
    np.testing.assert_allclose(np.exp(N(mmod.log_prob(M(x)))).sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(N(mmod.predict(M(x))), N(tmod.predict(x)))
    x1 = torch.randn(16)
    o1t, o1m = tmod(x1, torch.tensor(12)), mmod(M(x1), minitorch.tensor(12))
    assert o1m.output.shape == ()
    close(o1m.output, o1t.output)
    o1t, o1m = tmod(x[:1], t[4:5]), mmod(M(x[:1]), M(t[4:5]))
    close(o1m.output, o1t.output)


def test_adaptive_log_softmax_predict_mixed_rows():
    tmod, mmod = _asm_pair(head_bias=True)
    with torch.no_grad():  # push the head's argmax into the tail clusters for some rows
        tmod.head.bias.copy_(torch.tensor([0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0]))
    load_from_torch(mmod, tmod)
    x = torch.randn(40, 16)
    pt, pm = tmod.predict(x), mmod.predict(M(x))
    assert (pt >= 4).any() and (pt < 4).any()
    np.testing.assert_array_equal(N(pm), N(pt))
    np.testing.assert_array_equal(N(pm), N(mmod.log_prob(M(x)).argmax(1)))


def test_adaptive_log_softmax_errors():
    for lib in (torch, minitorch):
        m = lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6])
        with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 9\], but values in range \[0, 12\] "
                                               r"were found."):
            m(lib.randn(2, 8), lib.tensor([0, 12]))
        with pytest.raises(RuntimeError, match="Input and target should have the same size in the batch dimension."):
            m(lib.randn(3, 8), lib.tensor([0, 1]))
        with pytest.raises(RuntimeError, match="0D target tensor expects 1D input tensors"):
            m(lib.randn(3, 8), lib.tensor(1))
        with pytest.raises(RuntimeError, match="0D or 1D target tensor expected, multi-target not supported"):
            m(lib.randn(3, 8), lib.zeros(3, 2, dtype=lib.int64))
        for cutoffs in ([], [3, 3], [0, 4], [4, 10], [5, 2]):
            with pytest.raises(ValueError, match="cutoffs should be a sequence"):
                lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs)


def test_torch_module_layout():
    import minitorch.nn.modules.batchnorm as bn
    import minitorch.nn.modules.container as ct
    import minitorch.nn.modules.conv as cv
    import minitorch.nn.modules.instancenorm as inn
    import minitorch.nn.modules.linear as lin
    import minitorch.nn.modules.loss as ls
    import minitorch.nn.modules.normalization as nz
    assert lin.LazyLinear is mnn.LazyLinear and cv.LazyConvTranspose3d is mnn.LazyConvTranspose3d
    assert bn.LazyBatchNorm2d is mnn.LazyBatchNorm2d and inn.LazyInstanceNorm1d is mnn.LazyInstanceNorm1d
    assert ct.Container is mnn.Container and ls.NLLLoss2d is mnn.NLLLoss2d and nz.CrossMapLRN2d is mnn.CrossMapLRN2d
    from minitorch.nn.modules.lazy import LazyModuleMixin
    assert issubclass(mnn.LazyConv2d, LazyModuleMixin) and issubclass(mnn.LazyConv2d, mnn.Conv2d)


# ------------------------------------------------------------------------------------------------ fractional pooling
FRACTIONAL_CASES = [(2, (2, 3, 9, 11), 3, (4, 5), None), (2, (3, 10, 10), 2, None, (0.5, 0.5)),
                    (2, (1, 2, 7, 7), (2, 3), (6, 5), None), (2, (1, 1, 6, 6), 3, (1, 1), None),
                    (3, (2, 2, 7, 8, 9), 2, (3, 4, 5), None), (3, (2, 6, 6, 6), (2, 3, 2), None, (0.6, 0.5, 0.7))]


@pytest.mark.parametrize("n,shape,k,osz,ratio", FRACTIONAL_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fractional_max_pool_matches_torch(n, shape, k, osz, ratio, dtype):
    dt = getattr(torch, dtype)
    x = torch.randn(shape, dtype=dt, requires_grad=True)
    nb = shape[0] if len(shape) == n + 2 else 1
    s = torch.rand(nb, shape[-n - 1], n, dtype=dt)
    tf = getattr(torch.nn.functional, f"fractional_max_pool{n}d")
    mf = getattr(MF, f"fractional_max_pool{n}d")
    yt, it = tf(x, k, output_size=osz, output_ratio=ratio, return_indices=True, _random_samples=s)
    xm = M(x).requires_grad_()
    ym, im = mf(xm, k, output_size=osz, output_ratio=ratio, return_indices=True, _random_samples=M(s))
    close(ym, yt, 0)
    np.testing.assert_array_equal(N(im), N(it))
    assert im.dtype == minitorch.int64
    g = torch.randn_like(yt)
    yt.backward(g)
    ym.backward(M(g))
    close(xm.grad, x.grad, 1e-6)
    close(mf(M(x), k, output_size=osz, output_ratio=ratio, _random_samples=M(s)), yt, 0)
    tm = getattr(torch.nn, f"FractionalMaxPool{n}d")(k, osz, ratio, _random_samples=s)
    mm = getattr(mnn, f"FractionalMaxPool{n}d")(k, osz, ratio, _random_samples=M(s))
    assert repr(mm) == repr(tm) and list(mm.state_dict()) == list(tm.state_dict()) == ["_random_samples"]
    close(mm(M(x)), tm(x), 0)


def test_fractional_max_pool_random_and_errors():
    m = mnn.FractionalMaxPool2d(2, output_ratio=0.5)
    x = minitorch.randn(2, 3, 10, 10)
    y = m(x)
    assert y.shape == (2, 3, 5, 5) and list(m.state_dict()) == []
    # every output is the max of some 2x2 window of its plane
    a, b = N(x), N(y)
    for p in range(3):
        assert set(np.round(b[0, p].ravel(), 6)) <= set(np.round(a[0, p].ravel(), 6))
    for lib in (torch, minitorch):
        F = lib.nn.functional
        with pytest.raises(RuntimeError, match="fractional_max_pool2d\\(\\): pool height 3 too large relative to "
                                               "input height 4"):
            F.fractional_max_pool2d(lib.randn(1, 1, 4, 4), 3, output_size=3)
        with pytest.raises(RuntimeError, match="fractional_max_pool3d_out\\(\\): pool time 3 too large relative to "
                                               "input time 4"):
            F.fractional_max_pool3d(lib.randn(1, 1, 4, 4, 4), 3, output_size=3)
        with pytest.raises(ValueError, match="fractional_max_pool2d requires specifying either an output_size or an "
                                             "output_ratio"):
            F.fractional_max_pool2d(lib.randn(1, 1, 4, 4), 2)
        with pytest.raises(ValueError, match=r"output_ratio must be between 0 and 1 \(got 1.5\)"):
            lib.nn.FractionalMaxPool2d(2, output_ratio=1.5)
        with pytest.raises(ValueError, match="FractionalMaxPool2d requires specifying either an output size, or a "
                                             "pooling ratio"):
            lib.nn.FractionalMaxPool2d(2)
        with pytest.raises(ValueError, match="only one of output_size and output_ratio may be specified"):
            lib.nn.FractionalMaxPool2d(2, 2, 0.5)
        with pytest.raises(ValueError, match="kernel_size must be greater than 0, but got 0"):
            lib.nn.FractionalMaxPool3d(0, 2)


def test_lazy_state_dict_into_lazy_and_into_initialised():
    for lib in (torch, minitorch):
        a = lib.nn.LazyLinear(3)
        assert not a.load_state_dict(lib.nn.LazyLinear(3).state_dict()).missing_keys
        assert a.has_uninitialized_params()
        b = lib.nn.LazyBatchNorm1d()
        b.load_state_dict(lib.nn.LazyBatchNorm1d().state_dict())
        with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "weight", "bias".'):
            lib.nn.LazyLinear(3).load_state_dict({})
        with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter or buffer"):
            lib.nn.Linear(2, 3).load_state_dict(lib.nn.LazyLinear(3).state_dict())


def test_trunc_normal_and_eye_exist_and_match_torch_statistics():
    minitorch.manual_seed(0)
    torch.manual_seed(0)
    m = N(mnn.init.trunc_normal_(minitorch.empty(200000), mean=0.5, std=1.0, a=-1.0, b=2.0))
    t = N(torch.nn.init.trunc_normal_(torch.empty(200000), mean=0.5, std=1.0, a=-1.0, b=2.0))
    assert m.min() >= -1.0 and m.max() <= 2.0
    assert abs(m.mean() - t.mean()) < 0.01 and abs(m.std() - t.std()) < 0.01
    close(mnn.init.eye_(minitorch.empty(3, 5)), torch.nn.init.eye_(torch.empty(3, 5)), 0)
    w = minitorch.empty(6, 4)
    mnn.init.orthogonal_(w, gain=2.0)
    np.testing.assert_allclose(N(w).T @ N(w), 4 * np.eye(4), atol=1e-4)

"""nn.Module, containers, layers, functional layers, init and grad clipping, against PyTorch."""
import copy
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn as nn
import minitorch.nn.functional as F

torch = pytest.importorskip("torch")
tnn = torch.nn

RTOL, ATOL = 1e-5, 1e-6


def to_mt(t, **kw):
    return mt.tensor(t.detach().numpy(), **kw)


def npy(x):
    return x.detach().numpy()


def close(a, b, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(npy(a), b.detach().numpy() if isinstance(b, torch.Tensor) else b, rtol=rtol, atol=atol)


def copy_weights(m, tm):
    """Loads the torch module's parameters and buffers into the minitorch module (same keys)."""
    sd = {k: to_mt(v) for k, v in tm.state_dict().items()}
    m.load_state_dict(sd)


def simplenet_class(lib):
    """The seed's SimpleNet, built on minitorch.nn or torch.nn."""
    class SimpleNet(lib.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.Linear(2, 1)

        def forward(self, x):
            return self.fc(x)
    return SimpleNet


SimpleNet = simplenet_class(nn)
TSimpleNet = simplenet_class(tnn)


def make_nested(lib):
    """The same nested model built from minitorch.nn or torch.nn."""
    class Block(lib.Module):
        def __init__(self):
            super().__init__()
            self.proj = lib.Linear(4, 4)
            self.norm = lib.LayerNorm(4)
            self.register_buffer("scale", (mt if lib is nn else torch).ones(4))
            self.register_buffer("tmp", (mt if lib is nn else torch).zeros(2), persistent=False)

        def forward(self, x):
            return self.norm(self.proj(x)) * self.scale

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.Embedding(10, 3, padding_idx=0)
            self.features = lib.Sequential(lib.Linear(3, 4), lib.ReLU(), lib.Dropout(0.2))
            self.blocks = lib.ModuleList([Block() for _ in range(2)])
            self.heads = lib.ModuleDict({"cls": lib.Linear(4, 5), "act": lib.GELU(approximate="tanh")})
            self.out = lib.Sequential(OrderedDict([("flat", lib.Flatten()), ("soft", lib.LogSoftmax(dim=1))]))

        def forward(self, idx):
            x = self.features(self.embed(idx))
            for b in self.blocks:
                x = b(x)
            return self.out(self.heads["act"](self.heads["cls"](x)))

    return Net()


# ---------------------------------------------------------------- layers vs torch
def _layer_cases():
    return [
        ("linear2d", lambda L: L.Linear(5, 3), (4, 5)),
        ("linear3d", lambda L: L.Linear(5, 3), (2, 4, 5)),
        ("linear1d", lambda L: L.Linear(5, 3), (5,)),
        ("linear_nobias", lambda L: L.Linear(5, 3, bias=False), (4, 5)),
        ("identity", lambda L: L.Identity(3, foo=1), (3, 4)),
        ("relu", lambda L: L.ReLU(), (3, 4)),
        ("leaky_relu", lambda L: L.LeakyReLU(0.2), (3, 4)),
        ("sigmoid", lambda L: L.Sigmoid(), (3, 4)),
        ("tanh", lambda L: L.Tanh(), (3, 4)),
        ("gelu", lambda L: L.GELU(), (3, 7)),
        ("gelu_tanh", lambda L: L.GELU(approximate="tanh"), (3, 7)),
        ("silu", lambda L: L.SiLU(), (3, 4)),
        ("softmax", lambda L: L.Softmax(dim=1), (3, 4)),
        ("softmax0", lambda L: L.Softmax(dim=0), (3, 4)),
        ("log_softmax", lambda L: L.LogSoftmax(dim=-1), (2, 3, 4)),
        ("flatten", lambda L: L.Flatten(), (2, 3, 4)),
        ("flatten02", lambda L: L.Flatten(0, 1), (2, 3, 4)),
        ("unflatten", lambda L: L.Unflatten(1, (2, 3)), (4, 6)),
        ("unflatten_neg", lambda L: L.Unflatten(-1, (3, -1)), (4, 6)),
        ("layernorm", lambda L: L.LayerNorm(6), (4, 6)),
        ("layernorm2", lambda L: L.LayerNorm((3, 4), eps=1e-3), (2, 3, 4)),
        ("layernorm_noaffine", lambda L: L.LayerNorm(6, elementwise_affine=False), (4, 6)),
        ("layernorm_nobias", lambda L: L.LayerNorm(6, bias=False), (4, 6)),
        ("sequential", lambda L: L.Sequential(L.Linear(6, 8), L.Tanh(), L.Linear(8, 2)), (5, 6)),
    ]


@pytest.mark.parametrize("name,build,shape", _layer_cases(), ids=[c[0] for c in _layer_cases()])
def test_layer_matches_torch(name, build, shape):
    torch.manual_seed(0)
    tm = build(tnn)
    m = build(nn)
    assert [k for k, _ in m.named_parameters()] == [k for k, _ in tm.named_parameters()]
    copy_weights(m, tm)
    if name.startswith("layernorm") and tm.weight is not None:  # non-trivial affine parameters
        with torch.no_grad():
            tm.weight.normal_()
            if tm.bias is not None:
                tm.bias.normal_()
        copy_weights(m, tm)
    tx = torch.randn(*shape, requires_grad=True)
    x = to_mt(tx, requires_grad=True)
    ty = tm(tx)
    y = m(x)
    assert tuple(y.shape) == tuple(ty.shape)
    close(y, ty)
    tg = torch.randn(*ty.shape)
    ty.backward(tg)
    y.backward(to_mt(tg))
    close(x.grad, tx.grad)
    tparams = dict(tm.named_parameters())
    for k, p in m.named_parameters():
        assert p.grad is not None, k
        close(p.grad, tparams[k].grad)
    assert repr(m) == repr(tm)


def test_linear_grad_fn_and_default_init_bounds():
    mt.manual_seed(0)
    m = nn.Linear(50, 20)
    assert m.weight.shape == (20, 50) and m.bias.shape == (20,)
    bound = 1 / math.sqrt(50)
    assert float(m.weight.abs().max()) <= bound and float(m.bias.abs().max()) <= bound
    assert float(m.weight.abs().max()) > 0.8 * bound
    w = npy(m.weight)
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    assert m(mt.randn(3, 50)).grad_fn.name() == "AddmmBackward0"
    m64 = nn.Linear(3, 2, dtype=mt.float64)
    assert m64.weight.dtype == mt.float64 and m64.bias.dtype == mt.float64


def test_embedding_matches_torch_and_padding_grad_zero():
    torch.manual_seed(0)
    tm = tnn.Embedding(10, 4, padding_idx=2)
    m = nn.Embedding(10, 4, padding_idx=2)
    assert np.all(npy(m.weight)[2] == 0)
    copy_weights(m, tm)
    tidx = torch.tensor([[1, 2, 3], [2, 2, 9]])
    idx = to_mt(tidx)
    ty, y = tm(tidx), m(idx)
    close(y, ty)
    tg = torch.randn(2, 3, 4)
    ty.backward(tg)
    y.backward(to_mt(tg))
    close(m.weight.grad, tm.weight.grad)
    assert np.all(npy(m.weight.grad)[2] == 0)
    assert repr(m) == repr(tm) == "Embedding(10, 4, padding_idx=2)"
    # negative padding_idx normalises like torch
    assert nn.Embedding(10, 4, padding_idx=-1).padding_idx == tnn.Embedding(10, 4, padding_idx=-1).padding_idx
    # without padding: plain gradient accumulation over repeated indices
    tm2, m2 = tnn.Embedding(6, 3), nn.Embedding(6, 3)
    copy_weights(m2, tm2)
    tm2(torch.tensor([0, 0, 5])).sum().backward()
    m2(mt.tensor([0, 0, 5])).sum().backward()
    close(m2.weight.grad, tm2.weight.grad)
    with pytest.raises(RuntimeError):
        m2(mt.tensor([0.0, 1.0]))
    # from_pretrained
    w = mt.randn(4, 2)
    e = nn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad
    close(e(mt.tensor([3])), npy(w)[3:4])


def test_embedding_max_norm():
    torch.manual_seed(0)
    tm = tnn.Embedding(5, 3, max_norm=1.0)
    m = nn.Embedding(5, 3, max_norm=1.0)
    copy_weights(m, tm)
    close(m(mt.tensor([0, 3, 3])), tm(torch.tensor([0, 3, 3])))
    close(m.weight, tm.weight)


def test_dropout_statistics_and_eval_identity():
    mt.manual_seed(1)
    d = nn.Dropout(p=0.3)
    x = mt.ones(200, 500, requires_grad=True)
    y = d(x)
    v = npy(y)
    zero_frac = (v == 0).mean()
    assert abs(zero_frac - 0.3) < 0.01
    kept = v[v != 0]
    np.testing.assert_allclose(kept, 1 / 0.7, rtol=1e-6)
    assert abs(v.mean() - 1.0) < 0.02
    y.sum().backward()
    np.testing.assert_array_equal(npy(x.grad) == 0, v == 0)  # gradient flows through the kept elements only
    d.eval()
    z = mt.randn(4, 5)
    assert d(z) is z or np.array_equal(npy(d(z)), npy(z))
    assert nn.Dropout(0.0)(z) is z or np.array_equal(npy(nn.Dropout(0.0)(z)), npy(z))
    assert float(nn.Dropout(1.0)(z).abs().sum()) == 0
    assert np.array_equal(npy(F.dropout(z, 0.5, training=False)), npy(z))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError):
        F.dropout(z, -0.1)
    assert repr(nn.Dropout(0.25)) == repr(tnn.Dropout(0.25))


def test_activation_reprs_match_torch():
    pairs = [
        (nn.ReLU(), tnn.ReLU()), (nn.ReLU(inplace=True), tnn.ReLU(inplace=True)),
        (nn.LeakyReLU(), tnn.LeakyReLU()), (nn.LeakyReLU(0.2, True), tnn.LeakyReLU(0.2, True)),
        (nn.GELU(), tnn.GELU()), (nn.GELU("tanh"), tnn.GELU("tanh")), (nn.Sigmoid(), tnn.Sigmoid()),
        (nn.Tanh(), tnn.Tanh()), (nn.Softmax(dim=-1), tnn.Softmax(dim=-1)), (nn.LogSoftmax(1), tnn.LogSoftmax(1)),
        (nn.Softmax(), tnn.Softmax()), (nn.Identity(), tnn.Identity()), (nn.Flatten(), tnn.Flatten()),
        (nn.Unflatten(1, (2, 5)), tnn.Unflatten(1, (2, 5))), (nn.LayerNorm([2, 3]), tnn.LayerNorm([2, 3])),
        (nn.LayerNorm(4, elementwise_affine=False), tnn.LayerNorm(4, elementwise_affine=False)),
        (nn.Linear(3, 2, bias=False), tnn.Linear(3, 2, bias=False)), (nn.SiLU(), tnn.SiLU()),
    ]
    for a, b in pairs:
        assert repr(a) == repr(b)


def test_inplace_activations():
    x = mt.randn(3, 4)
    tx = torch.tensor(npy(x))
    y = nn.ReLU(inplace=True)(x)
    close(y, torch.relu(tx))
    close(x, torch.relu(tx))
    x2 = mt.randn(3, 4)
    tx2 = torch.tensor(npy(x2))
    nn.LeakyReLU(0.1, inplace=True)(x2)
    close(x2, tnn.functional.leaky_relu(tx2, 0.1))


# ---------------------------------------------------------------- functional
def test_functional_matches_torch():
    torch.manual_seed(0)
    tx = torch.randn(3, 5, requires_grad=True)
    x = to_mt(tx, requires_grad=True)
    tw, tb = torch.randn(4, 5, requires_grad=True), torch.randn(4, requires_grad=True)
    w, b = to_mt(tw, requires_grad=True), to_mt(tb, requires_grad=True)
    for f, tf in [
        (lambda: F.linear(x, w, b), lambda: tnn.functional.linear(tx, tw, tb)),
        (lambda: F.linear(x, w), lambda: tnn.functional.linear(tx, tw)),
        (lambda: F.relu(x), lambda: tnn.functional.relu(tx)),
        (lambda: F.leaky_relu(x, 0.3), lambda: tnn.functional.leaky_relu(tx, 0.3)),
        (lambda: F.gelu(x), lambda: tnn.functional.gelu(tx)),
        (lambda: F.gelu(x, approximate="tanh"), lambda: tnn.functional.gelu(tx, approximate="tanh")),
        (lambda: F.sigmoid(x), lambda: torch.sigmoid(tx)),
        (lambda: F.tanh(x), lambda: torch.tanh(tx)),
        (lambda: F.softmax(x, dim=0), lambda: tnn.functional.softmax(tx, dim=0)),
        (lambda: F.log_softmax(x, dim=1), lambda: tnn.functional.log_softmax(tx, dim=1)),
        (lambda: F.layer_norm(x, (5,)), lambda: tnn.functional.layer_norm(tx, (5,))),
        (lambda: F.layer_norm(x, [5], w[0], w[1]), lambda: tnn.functional.layer_norm(tx, [5], tw[0], tw[1])),
        (lambda: F.pad(x, (1, 2)), lambda: tnn.functional.pad(tx, (1, 2))),
        (lambda: F.pad(x, (1, 0, 2, 3), value=-1.5), lambda: tnn.functional.pad(tx, (1, 0, 2, 3), value=-1.5)),
        (lambda: F.pad(x, (-1, 2, 0, -1)), lambda: tnn.functional.pad(tx, (-1, 2, 0, -1))),
        (lambda: F.flatten(x), lambda: torch.flatten(tx)),
        (lambda: x.erf(), lambda: tx.erf()),
    ]:
        if x.grad is not None:
            x.grad = None
            tx.grad = None
        y, ty = f(), tf()
        close(y, ty)
        tg = torch.randn(*ty.shape)
        ty.backward(tg)
        y.backward(to_mt(tg))
        close(x.grad, tx.grad)
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(x, approximate="foo")
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(x, (4,))


def test_erf_values_and_function():
    tx = torch.linspace(-4, 4, 101, dtype=torch.float64)
    x = to_mt(tx)
    close(mt.erf(x), torch.erf(tx), rtol=1e-12, atol=1e-15)
    assert mt.tensor([0, 1]).erf().dtype == mt.float32
    x32 = to_mt(tx.float(), requires_grad=True)
    y = x32.erf()
    assert y.grad_fn.name() == "ErfBackward0"


def test_softmax_implicit_dim_warns():
    x = mt.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = F.softmax(x)
    close(y, torch.softmax(torch.tensor(npy(x)), dim=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        close(nn.LogSoftmax()(mt.tensor(npy(x)[0])), torch.log_softmax(torch.tensor(npy(x)[0]), 0))


def test_one_hot():
    t = torch.tensor([[0, 2], [1, 3]])
    close(F.one_hot(to_mt(t)), tnn.functional.one_hot(t))
    close(F.one_hot(to_mt(t), num_classes=6), tnn.functional.one_hot(t, num_classes=6))
    assert F.one_hot(to_mt(t)).dtype == mt.int64
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(to_mt(t), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(mt.tensor([-1, 0]))
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(mt.tensor([0.0]))


def test_pad_errors_and_3d():
    tx = torch.randn(2, 3, 4)
    x = to_mt(tx)
    close(F.pad(x, (1, 1, 0, 2, 3, 0)), tnn.functional.pad(tx, (1, 1, 0, 2, 3, 0)))
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(RuntimeError):
        F.pad(x, (1,) * 8)
    close(F.pad(x, (1, 1), mode="reflect"), tnn.functional.pad(tx, (1, 1), mode="reflect"))  # more in test_nn_resample
    with pytest.raises(NotImplementedError):  # as torch: non-constant modes pad 1-3 trailing dims of 2-5D input
        F.pad(x[0, 0], (1, 1), mode="reflect")


# ---------------------------------------------------------------- Module API
def test_simplenet_repr_and_params():
    m = SimpleNet()
    assert repr(m) == "SimpleNet(\n  (fc): Linear(in_features=2, out_features=1, bias=True)\n)"
    assert repr(m) == repr(TSimpleNet())
    assert [k for k, _ in m.named_parameters()] == ["fc.weight", "fc.bias"]
    assert all(isinstance(p, nn.Parameter) for p in m.parameters())
    y = m(mt.randn(4, 2))
    assert tuple(y.shape) == (4, 1)


def test_nested_repr_and_state_dict_match_torch():
    m, tm = make_nested(nn), make_nested(tnn)
    assert repr(m) == repr(tm)
    sd, tsd = m.state_dict(), tm.state_dict()
    assert list(sd.keys()) == list(tsd.keys())
    for k in sd:
        assert tuple(sd[k].shape) == tuple(tsd[k].shape), k
    assert [k for k, _ in m.named_parameters()] == [k for k, _ in tm.named_parameters()]
    assert [k for k, _ in m.named_buffers()] == [k for k, _ in tm.named_buffers()]
    assert [k for k, _ in m.named_modules()] == [k for k, _ in tm.named_modules()]
    assert [k for k, _ in m.named_children()] == [k for k, _ in tm.named_children()]
    assert len(list(m.modules())) == len(list(tm.modules()))
    assert len(list(m.children())) == len(list(tm.children()))
    assert [k for k, _ in m.named_parameters(prefix="model", recurse=True)] == \
        [k for k, _ in tm.named_parameters(prefix="model")]
    assert [k for k, _ in m.named_parameters(recurse=False)] == []
    assert [k for k, _ in m.blocks[0].named_buffers()] == ["scale", "tmp"]
    # same outputs and gradients after copying the weights
    copy_weights(m, tm)
    m.eval()
    tm.eval()
    tidx = torch.tensor([[1, 0, 4], [7, 8, 0]]).reshape(6)
    out, tout = m(to_mt(tidx)), tm(tidx)
    close(out, tout, rtol=1e-4, atol=1e-5)
    out.sum().backward()
    tout.sum().backward()
    tparams = dict(tm.named_parameters())
    for k, p in m.named_parameters():
        close(p.grad, tparams[k].grad, rtol=1e-4, atol=1e-5)


def test_state_dict_aliases_live_tensors():
    m = SimpleNet()
    sd = m.state_dict()
    assert not isinstance(sd["fc.weight"], nn.Parameter)
    assert not sd["fc.weight"].requires_grad
    with mt.no_grad():
        m.fc.weight.fill_(3.0)
    assert float(sd["fc.weight"].sum()) == 6.0
    sd["fc.bias"].fill_(-1.0)
    assert float(m.fc.bias) == -1.0
    kv = m.state_dict(keep_vars=True)
    assert kv["fc.weight"] is m.fc.weight
    assert list(m.state_dict(prefix="p.").keys()) == ["p.fc.weight", "p.fc.bias"]


def test_load_state_dict_roundtrip_and_errors():
    m1, m2 = make_nested(nn), make_nested(nn)
    r = m2.load_state_dict(m1.state_dict())
    assert repr(r) == "<All keys matched successfully>"
    assert r.missing_keys == [] and r.unexpected_keys == []
    for (k, a), (_, b) in zip(m1.state_dict().items(), m2.state_dict().items()):
        assert np.array_equal(npy(a), npy(b)), k
    # load copies values, the parameters stay the same objects
    w = m2.features[0].weight
    m2.load_state_dict(make_nested(nn).state_dict())
    assert m2.features[0].weight is w

    m, tm = SimpleNet(), TSimpleNet()
    sd = {"fc.weight": mt.zeros(1, 2), "fc.extra": mt.zeros(1), "other.x": mt.zeros(1)}
    tsd = {"fc.weight": torch.zeros(1, 2), "fc.extra": torch.zeros(1), "other.x": torch.zeros(1)}
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(sd)
    with pytest.raises(RuntimeError) as te:
        tm.load_state_dict(tsd)
    assert str(e.value) == str(te.value)
    assert str(e.value).startswith("Error(s) in loading state_dict for SimpleNet:\n\tMissing key(s) in state_dict: "
                                   '"fc.bias". \n\tUnexpected key(s) in state_dict: "other.x", "fc.extra". ')
    # strict=False reports instead of raising, and loads what matches
    r = m.load_state_dict(sd, strict=False)
    rt = tm.load_state_dict(tsd, strict=False)
    assert r.missing_keys == rt.missing_keys and r.unexpected_keys == rt.unexpected_keys
    assert float(m.fc.weight.abs().sum()) == 0
    # size mismatch raises even when strict=False
    bad = {"fc.weight": mt.zeros(2, 2), "fc.bias": mt.zeros(1)}
    tbad = {"fc.weight": torch.zeros(2, 2), "fc.bias": torch.zeros(1)}
    for strict in (True, False):
        with pytest.raises(RuntimeError) as e:
            m.load_state_dict(bad, strict=strict)
        with pytest.raises(RuntimeError) as te:
            tm.load_state_dict(tbad, strict=strict)
        assert str(e.value) == str(te.value)
        assert "size mismatch for fc.weight: copying a param with shape torch.Size([2, 2]) from checkpoint, " \
               "the shape in current model is torch.Size([1, 2])." in str(e.value)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        m.load_state_dict([1, 2])


def test_load_state_dict_assign():
    m = SimpleNet()
    w = mt.ones(1, 2)
    m.load_state_dict({"fc.weight": w, "fc.bias": mt.zeros(1)}, assign=True)
    assert isinstance(m.fc.weight, nn.Parameter) and m.fc.weight.requires_grad
    assert float(m.fc.weight.sum()) == 2.0


def test_train_eval_apply_requires_grad():
    m, tm = make_nested(nn), make_nested(tnn)
    assert m.training and all(x.training for x in m.modules())
    assert m.eval() is m
    assert not m.training and all(not x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    m.blocks.eval()
    assert [x.training for x in m.modules()] == [x.training for x in tm.blocks.eval() and tm.modules()]
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        m.train("yes")
    seen, tseen = [], []
    assert m.apply(lambda x: seen.append(type(x).__name__)) is m
    tm.apply(lambda x: tseen.append(type(x).__name__))
    assert seen == tseen
    assert m.requires_grad_(False) is m
    assert all(not p.requires_grad for p in m.parameters())
    m.requires_grad_()
    assert all(p.requires_grad for p in m.parameters())

    def init_weights(mod):
        if isinstance(mod, nn.Linear):
            nn.init.constant_(mod.weight, 0.5)
    m.apply(init_weights)
    assert float(m.heads["cls"].weight.mean()) == 0.5


def test_zero_grad():
    m = SimpleNet()
    m(mt.randn(3, 2)).sum().backward()
    assert m.fc.weight.grad is not None
    m.zero_grad()
    assert m.fc.weight.grad is None and m.fc.bias.grad is None
    m(mt.randn(3, 2)).sum().backward()
    g = m.fc.weight.grad
    m.zero_grad(set_to_none=False)
    assert m.fc.weight.grad is g and float(g.abs().sum()) == 0


def test_to_dtype_and_parameter_identity():
    m = make_nested(nn)
    w = m.features[0].weight
    m(mt.tensor([1, 2])).sum().backward()
    assert m.to(mt.float64) is m
    assert m.features[0].weight is w  # same Parameter object, converted data
    for k, p in m.named_parameters():
        assert p.dtype == mt.float64 and isinstance(p, nn.Parameter) and p.requires_grad, k
        assert p.grad is None or p.grad.dtype == mt.float64
    assert m.blocks[0].scale.dtype == mt.float64
    out = m(mt.tensor([3, 1]))
    assert out.dtype == mt.float64
    m.float()
    assert all(p.dtype == mt.float32 for p in m.parameters())
    m.to(dtype=mt.float64)
    assert all(p.dtype == mt.float64 for p in m.parameters())
    m.to("cpu")
    m.cpu()
    # integer buffers are not converted by a dtype move
    b = nn.Module()
    b.register_buffer("idx", mt.tensor([1, 2]))
    b.to(mt.float64)
    assert b.idx.dtype == mt.int64
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point"):
        b.to(mt.int64)


def test_parameter_semantics():
    t = mt.randn(2, 3)
    p = nn.Parameter(t)
    tp = tnn.Parameter(torch.tensor(npy(t)))
    assert repr(p) == repr(tp)
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert p.requires_grad and p.is_leaf and isinstance(p, mt.Tensor)
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert repr(nn.Parameter(t, requires_grad=False)) == repr(tnn.Parameter(torch.tensor(npy(t)), requires_grad=False))
    with mt.no_grad():
        p.add_(1.0)
    assert np.allclose(npy(t), npy(p))  # shares storage with the data it was made from
    assert type(p * 2) is mt.Tensor
    assert type(p.data) is mt.Tensor
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q.requires_grad and q is not p
    assert np.array_equal(npy(q), npy(p))
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(mt.tensor([1, 2]))
    assert tuple(nn.Parameter().shape) == (0,)


def test_setattr_registration_rules():
    m = nn.Module()
    m.w = nn.Parameter(mt.zeros(2))
    m.sub = nn.Linear(2, 2)
    m.register_buffer("buf", mt.zeros(3))
    m.plain = mt.zeros(1)  # a plain tensor attribute is not registered
    assert [k for k, _ in m.named_parameters()] == ["w", "sub.weight", "sub.bias"]
    assert list(m.state_dict().keys()) == ["w", "buf", "sub.weight", "sub.bias"]
    tm = tnn.Module()
    tm.w = tnn.Parameter(torch.zeros(2))
    tm.sub = tnn.Linear(2, 2)
    tm.register_buffer("buf", torch.zeros(3))
    assert list(tm.state_dict().keys()) == ["w", "buf", "sub.weight", "sub.bias"]
    for mod, lib in ((m, mt), (tm, torch)):
        with pytest.raises(TypeError) as e:
            mod.w = lib.zeros(2)
        msgs = [str(e.value)]
        with pytest.raises(TypeError) as e:
            mod.sub = 3
        msgs.append(str(e.value))
        with pytest.raises(KeyError) as e:
            mod.register_buffer("a.b", lib.zeros(1))
        msgs.append(str(e.value))
        with pytest.raises(KeyError) as e:
            mod.register_parameter("sub", None)
        msgs.append(str(e.value))
        if lib is mt:
            mine = msgs
        else:
            assert mine == msgs
    m.w = None
    assert "w" not in dict(m.named_parameters())
    del m.sub
    assert not hasattr(m, "sub")
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nothing'"):
        m.nothing
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(1)


def test_shared_parameters_deduplicated():
    lin = nn.Linear(2, 2)
    m = nn.Sequential(lin, nn.ReLU(), lin)
    tlin = tnn.Linear(2, 2)
    tm = tnn.Sequential(tlin, tnn.ReLU(), tlin)
    assert [k for k, _ in m.named_parameters()] == [k for k, _ in tm.named_parameters()]
    assert list(m.state_dict().keys()) == list(tm.state_dict().keys())
    assert len(list(m.named_parameters(remove_duplicate=False))) == 4
    assert [k for k, _ in m.named_modules()] == [k for k, _ in tm.named_modules()]


def test_forward_hooks():
    m = nn.Linear(2, 2)
    calls = []
    h = m.register_forward_hook(lambda mod, inp, out: calls.append(tuple(out.shape)))
    h2 = m.register_forward_pre_hook(lambda mod, inp: (inp[0] * 0,))
    out = m(mt.ones(3, 2))
    assert calls == [(3, 2)]
    assert np.allclose(npy(out), npy(m.bias)[None].repeat(3, 0))
    h.remove()
    h2.remove()
    m(mt.ones(3, 2))
    assert calls == [(3, 2)]


# ---------------------------------------------------------------- containers
def test_sequential_indexing():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    s = nn.Sequential(*layers)
    assert len(s) == 3 and s[0] is layers[0] and s[-1] is layers[2]
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[0] is layers[1]
    assert [k for k, _ in sub.named_children()] == ["1", "2"]  # slices keep names like torch
    assert list(iter(s)) == layers
    with pytest.raises(IndexError, match="index 3 is out of range"):
        s[3]
    s[1] = nn.Tanh()
    assert isinstance(s[1], nn.Tanh)
    del s[1]
    assert [k for k, _ in s.named_children()] == ["0", "1"]
    s.append(nn.Sigmoid())
    assert len(s) == 3
    named = nn.Sequential(OrderedDict([("a", nn.Linear(2, 2)), ("b", nn.ReLU())]))
    assert [k for k, _ in named.named_children()] == ["a", "b"]
    tnamed = tnn.Sequential(OrderedDict([("a", tnn.Linear(2, 2)), ("b", tnn.ReLU())]))
    assert repr(named) == repr(tnamed)
    assert repr(nn.Sequential()) == repr(tnn.Sequential())


def test_modulelist_and_moduledict():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    ml.append(nn.Linear(2, 3))
    ml.extend([nn.Tanh()])
    ml.insert(1, nn.Sigmoid())
    assert [type(x).__name__ for x in ml] == ["Linear", "Sigmoid", "ReLU", "Linear", "Tanh"]
    assert len(ml) == 5 and isinstance(ml[-1], nn.Tanh) and isinstance(ml[1:3], nn.ModuleList)
    tml = tnn.ModuleList([tnn.Linear(2, 2), tnn.ReLU()])
    tml.append(tnn.Linear(2, 3))
    tml.extend([tnn.Tanh()])
    tml.insert(1, tnn.Sigmoid())
    assert repr(ml) == repr(tml)
    assert list(ml.state_dict().keys()) == list(tml.state_dict().keys())
    del ml[0]
    assert [k for k, _ in ml.named_children()] == ["0", "1", "2", "3"]
    with pytest.raises(IndexError, match="index 10 is out of range"):
        ml[10]
    with pytest.raises(TypeError):
        ml.extend(nn.Linear(1, 1))
    assert repr(nn.ModuleList()) == repr(tnn.ModuleList()) == "ModuleList()"

    md = nn.ModuleDict({"x": nn.Linear(1, 2)})
    md["y"] = nn.ReLU()
    md.update([("z", nn.Tanh())])
    assert list(md.keys()) == ["x", "y", "z"] and "y" in md and len(md) == 3
    assert list(md) == ["x", "y", "z"]
    assert isinstance(md.pop("y"), nn.ReLU) and list(md.keys()) == ["x", "z"]
    tmd = tnn.ModuleDict({"x": tnn.Linear(1, 2)})
    tmd["z"] = tnn.Tanh()
    assert repr(md) == repr(tmd)
    assert list(md.state_dict().keys()) == list(tmd.state_dict().keys())


def test_get_submodule_parameter_and_deepcopy():
    m = make_nested(nn)
    assert m.get_submodule("blocks.1.proj") is m.blocks[1].proj
    assert m.get_parameter("blocks.1.proj.weight") is m.blocks[1].proj.weight
    assert m.get_buffer("blocks.0.scale") is m.blocks[0].scale
    with pytest.raises(AttributeError):
        m.get_submodule("blocks.7")
    m2 = copy.deepcopy(m)
    assert list(m2.state_dict().keys()) == list(m.state_dict().keys())
    assert m2.features[0].weight is not m.features[0].weight
    assert isinstance(m2.features[0].weight, nn.Parameter)
    assert np.array_equal(npy(m2.features[0].weight), npy(m.features[0].weight))


# ---------------------------------------------------------------- init
def test_init_statistics():
    mt.manual_seed(0)
    w = mt.empty(400, 300)
    fan_in, fan_out = 300, 400
    nn.init.uniform_(w, -2, 3)
    assert float(w.min()) >= -2 and float(w.max()) <= 3 and abs(float(w.mean()) - 0.5) < 0.05
    nn.init.normal_(w, 1.0, 2.0)
    assert abs(float(w.mean()) - 1.0) < 0.03 and abs(float(w.std()) - 2.0) < 0.03
    nn.init.constant_(w, 0.3)
    assert np.allclose(npy(w), 0.3)
    nn.init.ones_(w)
    assert np.all(npy(w) == 1)
    nn.init.zeros_(w)
    assert np.all(npy(w) == 0)
    nn.init.xavier_uniform_(w, gain=2.0)
    a = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
    assert float(w.abs().max()) <= a and float(w.abs().max()) > 0.95 * a
    nn.init.xavier_normal_(w)
    assert abs(float(w.std()) - math.sqrt(2.0 / (fan_in + fan_out))) < 0.002
    nn.init.kaiming_uniform_(w, a=0, nonlinearity="relu")
    bound = math.sqrt(2.0) * math.sqrt(3.0 / fan_in)
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.95 * bound
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(float(w.std()) - math.sqrt(2.0 / fan_out)) < 0.002
    nn.init.trunc_normal_(w, std=1.0, a=-1.0, b=1.5)
    assert float(w.min()) >= -1.0 and float(w.max()) <= 1.5
    e = mt.empty(3, 3)
    nn.init.eye_(e)
    assert np.array_equal(npy(e), np.eye(3, dtype=np.float32))
    for nl, p in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
                  ("leaky_relu", 0.2), ("selu", None)]:
        assert nn.init.calculate_gain(nl, p) == tnn.init.calculate_gain(nl, p)
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        nn.init.calculate_gain("foo")
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed"):
        nn.init.xavier_uniform_(mt.empty(5))
    with pytest.raises(ValueError, match="Mode fan_x not supported"):
        nn.init.kaiming_uniform_(w, mode="fan_x")
    # parameters that require grad are initialised in place without autograd errors
    p = nn.Parameter(mt.empty(4, 4))
    nn.init.kaiming_uniform_(p)
    assert p.requires_grad and p.grad_fn is None


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (3, 2, 5)])
def test_orthogonal(shape):
    w = mt.empty(*shape)
    nn.init.orthogonal_(w, gain=1.5)
    a = npy(w).reshape(shape[0], -1).astype(np.float64)
    if a.shape[0] <= a.shape[1]:
        np.testing.assert_allclose(a @ a.T, 2.25 * np.eye(a.shape[0]), atol=1e-5)
    else:
        np.testing.assert_allclose(a.T @ a, 2.25 * np.eye(a.shape[1]), atol=1e-5)
    with pytest.raises(ValueError):
        nn.init.orthogonal_(mt.empty(3))


# ---------------------------------------------------------------- grad clipping
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch.manual_seed(0)
    tm = tnn.Sequential(tnn.Linear(4, 5), tnn.Tanh(), tnn.Linear(5, 2))
    m = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))
    copy_weights(m, tm)
    tx = torch.randn(8, 4)
    tm(tx).pow(2).sum().backward()
    m(to_mt(tx)).pow(2).sum().backward()
    tn = tnn.utils.clip_grad_norm_(tm.parameters(), max_norm, norm_type)
    n = nn.utils.clip_grad_norm_(m.parameters(), max_norm, norm_type)
    close(n, tn, rtol=1e-5)
    tparams = dict(tm.named_parameters())
    for k, p in m.named_parameters():
        close(p.grad, tparams[k].grad, rtol=1e-5)
    if max_norm < float(tn):
        total = nn.utils.clip_grad_norm_(m.parameters(), 1e9, norm_type)
        assert abs(float(total) - max_norm) < 1e-4 * max(1.0, max_norm)


def test_clip_grad_value_and_vector():
    p = nn.Parameter(mt.tensor([1.0, 2.0, 3.0]))
    p.grad = mt.tensor([-5.0, 0.5, 7.0])
    nn.utils.clip_grad_value_([p], 1.0)
    assert npy(p.grad).tolist() == [-1.0, 0.5, 1.0]
    assert float(nn.utils.clip_grad_norm_([], 1.0)) == 0.0
    q = nn.Parameter(mt.tensor([float("nan")]))
    q.grad = mt.tensor([float("nan")])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(q, 1.0, error_if_nonfinite=True)
    m = nn.Linear(3, 2)
    v = nn.utils.parameters_to_vector(m.parameters())
    assert tuple(v.shape) == (8,)
    nn.utils.vector_to_parameters(mt.arange(8.0), m.parameters())
    assert npy(m.bias).tolist() == [6.0, 7.0]


# ---------------------------------------------------------------- CUDA (skipped without a device)
def _cuda_available():
    try:
        import minitorch.cuda as mcuda
        return mcuda.is_available()
    except Exception:
        return False


@pytest.mark.skipif(not _cuda_available(), reason="CUDA is not available to minitorch")
def test_module_on_cuda_matches_cpu():
    mt.manual_seed(0)
    cpu = nn.Sequential(nn.Linear(6, 8), nn.GELU(), nn.LayerNorm(8), nn.Linear(8, 3), nn.LogSoftmax(dim=1))
    gpu = copy.deepcopy(cpu)
    w = gpu[0].weight
    assert gpu.cuda() is gpu and gpu[0].weight is w
    assert all(p.device.type == "cuda" for p in gpu.parameters())
    x = mt.randn(5, 6)
    y_cpu = cpu(x)
    y_gpu = gpu(x.cuda())
    assert y_gpu.device.type == "cuda"
    np.testing.assert_allclose(npy(y_gpu.cpu()), npy(y_cpu), rtol=1e-4, atol=1e-5)
    y_cpu.sum().backward()
    y_gpu.sum().backward()
    for (k, p), q in zip(cpu.named_parameters(), gpu.parameters()):
        assert q.grad.device.type == "cuda"
        np.testing.assert_allclose(npy(q.grad.cpu()), npy(p.grad), rtol=1e-4, atol=1e-5, err_msg=k)
    t = mt.linspace(-3, 3, 13)
    np.testing.assert_allclose(npy(t.cuda().erf().cpu()), npy(t.erf()), rtol=1e-6, atol=1e-7)
    gpu.to("cpu")
    assert all(p.device.type == "cpu" for p in gpu.parameters())


# ---- Embedding(scale_grad_by_freq) and EmbeddingBag against torch ----
minitorch = mt

def _emb_pair(cls_m, cls_t, *args, **kw):
    import numpy as _np
    mm, tm = cls_m(*args, **kw), cls_t(*args, **kw)
    w = _np.random.default_rng(1).standard_normal(tuple(tm.weight.shape)).astype(_np.float32)
    mm.weight.data = minitorch.tensor(w)
    with torch_mod().no_grad():
        tm.weight.copy_(torch_mod().tensor(w))
    return mm, tm


def torch_mod():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("padding_idx", [None, 0])
def test_embedding_scale_grad_by_freq_matches_torch(padding_idx):
    torch = torch_mod()
    mm, tm = _emb_pair(minitorch.nn.Embedding, torch.nn.Embedding, 6, 3, padding_idx=padding_idx,
                       scale_grad_by_freq=True)
    idx = [[0, 1, 1, 5], [4, 1, 0, 1]]
    g = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    ym, yt = mm(minitorch.tensor(idx)), tm(torch.tensor(idx))
    np.testing.assert_array_equal(ym.detach().numpy(), yt.detach().numpy())
    ym.backward(minitorch.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(mm.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-6)


BAG_CASES = [
    dict(mode="mean", input=[[1, 2, 4], [4, 3, 2]]),
    dict(mode="sum", input=[1, 2, 4, 5, 4, 3, 2, 9], offsets=[0, 4]),
    dict(mode="max", input=[1, 2, 4, 5, 4, 3, 2, 9], offsets=[0, 3, 3]),            # an empty bag
    dict(mode="mean", input=[1, 2, 4, 5, 4, 3, 2, 9], offsets=[0, 2, 5, 8], include_last_offset=True),
    dict(mode="sum", input=[1, 2, 4, 5, 4, 3], offsets=[0, 2], per_sample_weights=[0.5, 1, 2, -1, 3, 0.25]),
    dict(mode="mean", input=[1, 2, 0, 5, 0, 0], offsets=[0, 3, 4], padding_idx=0),
    dict(mode="mean", input=[1, 2, 4, 5], offsets=[0, 2], max_norm=1.0),
]


@pytest.mark.parametrize("case", BAG_CASES, ids=[str(i) for i in range(len(BAG_CASES))])
def test_embedding_bag_matches_torch(case):
    torch = torch_mod()
    kw = {k: case[k] for k in ("mode", "include_last_offset", "padding_idx", "scale_grad_by_freq", "max_norm")
          if k in case}
    mm, tm = _emb_pair(minitorch.nn.EmbeddingBag, torch.nn.EmbeddingBag, 10, 3, **kw)
    assert repr(mm) == repr(tm)
    args_m, args_t = [minitorch.tensor(case["input"])], [torch.tensor(case["input"])]
    if "offsets" in case:
        args_m.append(minitorch.tensor(case["offsets"]))
        args_t.append(torch.tensor(case["offsets"]))
    kw_m, kw_t = {}, {}
    if "per_sample_weights" in case:
        kw_m["per_sample_weights"] = minitorch.tensor(case["per_sample_weights"], requires_grad=True)
        kw_t["per_sample_weights"] = torch.tensor(case["per_sample_weights"], requires_grad=True)
    ym, yt = mm(*args_m, **kw_m), tm(*args_t, **kw_t)
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-6)
    g = np.random.default_rng(2).standard_normal(tuple(yt.shape)).astype(np.float32)
    ym.backward(minitorch.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(mm.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    if kw_m:
        np.testing.assert_allclose(kw_m["per_sample_weights"].grad.numpy(), kw_t["per_sample_weights"].grad.numpy(),
                                   rtol=1e-5, atol=1e-6)
    if "max_norm" in case:
        np.testing.assert_allclose(mm.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("call", [
    lambda L, e: e(L.tensor([[1, 2]]), L.tensor([0])),
    lambda L, e: e(L.tensor([1, 2])),
    lambda L, e: e(L.tensor([1, 2]), L.tensor([0]), per_sample_weights=L.ones(2)),
    lambda L, e: e(L.tensor([1, 2]), L.tensor([1, 0])),
    lambda L, e: e(L.tensor([1, 7]), L.tensor([0])),
    lambda L, e: e(L.tensor([1, 2, 3]), L.tensor([0, 5])),
])
def test_embedding_bag_errors_match_torch(call):
    torch = torch_mod()
    with pytest.raises(Exception) as et:
        call(torch, torch.nn.EmbeddingBag(5, 3))
    with pytest.raises(type(et.value)):
        call(minitorch, minitorch.nn.EmbeddingBag(5, 3))


def test_embedding_bag_unsupported_options_raise():
    with pytest.raises(NotImplementedError, match="scale_grad_by_freq"):
        minitorch.nn.EmbeddingBag(5, 3, scale_grad_by_freq=True)(minitorch.tensor([[1, 2]]))
    with pytest.raises(NotImplementedError, match="sparse"):
        minitorch.nn.EmbeddingBag(5, 3, sparse=True)(minitorch.tensor([[1, 2]]))


def test_nn_buffer_registers_like_torch():
    torch = torch_mod()
    for lib in (minitorch, torch):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.x = lib.nn.Buffer(lib.ones(2))
                self.y = lib.nn.Buffer(lib.zeros(1), persistent=False)
        m = M()
        assert list(m.state_dict()) == ["x"] and [n for n, _ in m.named_buffers()] == ["x", "y"]
        assert isinstance(m.x, lib.nn.Buffer) and not isinstance(lib.ones(1), lib.nn.Buffer)
        assert type(m.x) is lib.Tensor and not m.y.persistent


def test_module_paths_of_torch_nn_modules():
    """torch.nn.modules.<file>.<Class> resolves for every class both libraries have (torch's layout)."""
    import importlib
    torch = torch_mod()
    for name in dir(torch.nn.modules):
        obj = getattr(torch.nn.modules, name)
        if isinstance(obj, type) and hasattr(minitorch.nn, name):
            mod = importlib.import_module(obj.__module__.replace("torch.", "minitorch.", 1))
            assert getattr(mod, name) is getattr(minitorch.nn, name), name

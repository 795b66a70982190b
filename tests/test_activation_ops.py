"""The nn.functional activations as declared elementwise ops (csrc/ops/elementwise_ops.h, MT_ACTIVATION_OPS),
against PyTorch: what tests/test_op_table.py (default parameters, every dtype and layout) does not cover —
their parameters, the boundaries (x == 0, the kinks, NaN, -0.0) in torch's vectorised loops, the in-place forms
and their nodes, double backward, the narrow dtypes, and a small GAN step with a gradient penalty."""
import io

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn as mnn
import minitorch.nn.functional as MF
from minitorch.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# (name, args): each functional with torch's defaults and with other parameters
CASES = [
    ("leaky_relu", ()), ("leaky_relu", (0.2,)), ("leaky_relu", (-0.3,)), ("elu", ()), ("elu", (0.7,)),
    ("elu", (-0.5,)), ("selu", ()), ("celu", ()), ("celu", (1.3,)), ("celu", (0.3,)), ("silu", ()), ("mish", ()),
    ("softplus", ()), ("softplus", (2.0, 3.0)), ("softplus", (0.5, 1.0)), ("hardtanh", ()), ("hardtanh", (-0.5, 2.0)),
    ("relu6", ()), ("hardswish", ()), ("hardsigmoid", ()), ("logsigmoid", ()), ("softshrink", ()),
    ("softshrink", (0.3,)), ("hardshrink", ()), ("hardshrink", (0.3,)), ("threshold", (0.1, -2.0)),
    ("threshold", (0.0, 0.0)), ("threshold", (-1.0, 5.0)),
]
IDS = [f"{n}{a}" for n, a in CASES]
# the boundaries first: they land in torch's vectorised loop, whose choices (NaN's gradient, the sign of a zero)
# its scalar tail does not always share
SPECIALS = [0.0, -0.0, 3.0, -3.0, 0.3, -0.3, 0.1, 6.0, -1.0, 1.0, 2.0, -0.5, 0.5, 1.5, np.nan, np.inf, -np.inf, 100.0,
            -100.0, 20.0, 10.0, -20.0, 1e-30, -1e-30]


def _values(dtype):
    rest = np.random.default_rng(0).uniform(-8, 8, 200)
    return np.concatenate([SPECIALS, rest]).astype(dtype)


def _run(lib, F, name, args, x, g):
    t = lib.tensor(x, requires_grad=True)
    y = getattr(F, name)(t, *args)
    y.backward(lib.tensor(g))
    return y, t.grad


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,args", CASES, ids=IDS)
def test_values_gradients_and_node_match_torch(name, args, dtype):
    x = _values(dtype)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    ty, tg = _run(torch, TF, name, args, x, g)
    my, mg = _run(mt, MF, name, args, x, g)
    assert my.grad_fn.name() == type(ty.grad_fn).__name__
    assert my.dtype == mt.float32 if dtype == "float32" else my.dtype == mt.float64
    tol = dict(rtol=2e-6, atol=1e-7) if dtype == "float32" else dict(rtol=1e-13, atol=1e-15)
    e, v = ty.detach().numpy(), my.detach().numpy()
    np.testing.assert_allclose(v, e, equal_nan=True, **tol)
    zeros = e == 0
    np.testing.assert_array_equal(np.signbit(v[zeros]), np.signbit(e[zeros]), err_msg="the sign of a zero")
    gtol = dict(rtol=2e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(mg.numpy(), tg.numpy(), equal_nan=True, **gtol)


@pytest.mark.parametrize("name,args", CASES, ids=IDS)
def test_gradcheck_and_gradgradcheck(name, args):
    # points away from the kinks (0, +-1, +-3, +-0.3, +-0.5, 0.1, 6, ...): a finite difference across one is no derivative
    r = np.random.default_rng(2)
    x = np.concatenate([r.uniform(-7.9, -6.1, 3), r.uniform(-2.9, -2.1, 3), r.uniform(-0.95, -0.55, 3),
                        r.uniform(-0.25, -0.12, 3), r.uniform(0.12, 0.25, 3), r.uniform(0.55, 0.95, 3),
                        r.uniform(2.1, 2.9, 3), r.uniform(3.1, 5.9, 3), r.uniform(6.1, 7.9, 3)])
    f = lambda t: getattr(MF, name)(t, *args)  # noqa: E731
    t = mt.tensor(x, requires_grad=True)
    assert gradcheck(f, (t,))
    assert gradgradcheck(f, (mt.tensor(x, requires_grad=True),))
    # the double-backward values against torch's (hardsigmoid's double backward is not implemented in torch)
    if name == "hardsigmoid":
        return
    w = r.standard_normal(x.shape)
    out = []
    for lib, F in ((torch, TF), (mt, MF)):
        t = lib.tensor(x, requires_grad=True)
        (gx,) = lib.autograd.grad(getattr(F, name)(t, *args), t, lib.tensor(w), create_graph=True)
        if not gx.requires_grad:  # piecewise linear: the second derivative is zero (torch records a node for it)
            out.append(np.zeros_like(x))
            continue
        (ggx,) = lib.autograd.grad((gx * gx).sum(), t, allow_unused=True)
        out.append(np.zeros_like(x) if ggx is None else ggx.numpy())
    np.testing.assert_allclose(out[1], out[0], rtol=1e-10, atol=1e-12)


# in-place forms: (call, torch's node for the result)
INPLACE = [
    (lambda F, t: F.leaky_relu_(t, 0.2), "LeakyReluBackward1"),
    (lambda F, t: F.leaky_relu(t, 0.2, inplace=True), "LeakyReluBackward1"),
    (lambda F, t: F.elu_(t, 0.7), "EluBackward1"), (lambda F, t: F.elu(t, 0.7, inplace=True), "EluBackward1"),
    (lambda F, t: F.selu_(t), "EluBackward1"), (lambda F, t: F.selu(t, inplace=True), "EluBackward1"),
    (lambda F, t: F.celu_(t, 1.3), "CeluBackward1"), (lambda F, t: F.celu(t, 0.3, inplace=True), "CeluBackward1"),
    (lambda F, t: F.hardtanh_(t, -0.4, 1.1), "HardtanhBackward0"),
    (lambda F, t: F.hardtanh(t, inplace=True), "HardtanhBackward0"),
    (lambda F, t: F.relu6(t, inplace=True), "HardtanhBackward0"),
    (lambda F, t: F.threshold_(t, 0.1, 3.0), "ThresholdBackward1"),
    (lambda F, t: F.threshold(t, 0.1, -3.0, inplace=True), "ThresholdBackward1"),
    (lambda F, t: F.silu(t, inplace=True), "SiluBackward0"), (lambda F, t: F.mish(t, inplace=True), "MishBackward0"),
    (lambda F, t: F.hardswish(t, inplace=True), "HardswishBackward0"),
    (lambda F, t: F.hardsigmoid(t, inplace=True), "HardsigmoidBackward0"),
]


@pytest.mark.parametrize("k", range(len(INPLACE)))
def test_inplace_forms_match_torch(k):
    call, node = INPLACE[k]
    x = np.array([-4.0, -2.0, -0.5, 0.0, 0.05, 0.5, 2.0, 4.0, 7.0])
    g = np.arange(9.0) - 3.5
    res = []
    for lib, F in ((torch, TF), (mt, MF)):
        leaf = lib.tensor(x, requires_grad=True)
        y = leaf * 1.5
        assert call(F, y) is y
        name = type(y.grad_fn).__name__ if lib is torch else y.grad_fn.name()
        assert name == node
        y.backward(lib.tensor(g))
        res.append((y.detach().numpy(), leaf.grad.numpy()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-14)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-14)
    # without autograd the kernel runs in place
    x32 = mt.tensor(x, dtype=mt.float32)
    t32 = torch.tensor(x, dtype=torch.float32)
    call(MF, x32)
    call(TF, t32)
    np.testing.assert_allclose(x32.numpy(), t32.numpy(), rtol=1e-6)


def test_inplace_double_backward_reads_the_result():
    x = np.array([-2.0, -0.5, 0.3, 1.5])
    out = []
    for lib, F in ((torch, TF), (mt, MF)):
        leaf = lib.tensor(x, requires_grad=True)
        y = F.elu_(leaf * 1.0, 0.8)
        (gx,) = lib.autograd.grad(y.sum(), leaf, create_graph=True)
        (ggx,) = lib.autograd.grad(gx.sum(), leaf)
        out.append((gx.detach().numpy(), ggx.numpy()))
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=1e-14)
    np.testing.assert_allclose(out[1][1], out[0][1], rtol=1e-14)


@pytest.mark.parametrize("call", [lambda F, t: F.leaky_relu_(t, -0.2), lambda F, t: F.elu_(t, -0.5),
                                  lambda F, t: F.celu_(t, -0.5)])
def test_inplace_backward_with_a_negative_slope_raises_like_torch(call):
    for lib, F in ((torch, TF), (mt, MF)):
        leaf = lib.tensor([-1.0, 2.0], requires_grad=True)
        y = leaf * 1.0
        call(F, y)
        with pytest.raises(RuntimeError, match="In-place .* backward calculation is triggered with a negative slope"):
            y.sum().backward()
    # out of place, a negative slope is fine
    t = mt.tensor([-1.0, 2.0], requires_grad=True)
    MF.leaky_relu(t, -0.2).sum().backward()
    assert t.grad.tolist() == pytest.approx([-0.2, 1.0])


FUNCS = {"leaky_relu": (), "elu": (), "selu": (), "celu": (), "silu": (), "mish": (), "softplus": (),
         "hardtanh": (), "relu6": (), "hardswish": (), "hardsigmoid": (), "logsigmoid": (), "softshrink": (),
         "hardshrink": (), "threshold": (0.5, 9.0)}


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "uint8", "int16"])
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_integer_and_bool_inputs_like_torch(name, dtype):
    v = np.array([-3, -1, 0, 1, 2, 7]) if dtype != "bool" else np.array([True, False, True])
    if dtype == "uint8":
        v = np.abs(v)
    args = FUNCS[name]
    try:
        want = getattr(TF, name)(torch.tensor(v.astype(dtype)), *args)
    except Exception as e:  # noqa: BLE001 - torch's exception type and message are the expectation
        with pytest.raises(type(e), match=str(e).split(" for ")[0].replace('"', '.').replace("'", ".")):
            getattr(MF, name)(mt.tensor(v.astype(dtype)), *args)
        return
    got = getattr(MF, name)(mt.tensor(v.astype(dtype)), *args)
    assert str(got.dtype) == str(want.dtype)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_integer_parameters_truncate_like_torch():
    v = np.array([-3, -1, 0, 1, 2, 7])
    for call in (lambda F, t: F.threshold(t, -0.5, 2.7), lambda F, t: F.threshold(t, 1.9, -4.2),
                 lambda F, t: F.hardtanh(t, -0.5, 1.5), lambda F, t: F.hardtanh(t, -2.9, 6.9),
                 lambda F, t: F.threshold_(t, 0.5, 5.0), lambda F, t: F.hardtanh_(t, -1.5, 1.5)):
        want = call(TF, torch.tensor(v))
        got = call(MF, mt.tensor(v))
        assert got.dtype == mt.int64
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    with pytest.raises(RuntimeError, match="without overflow"):
        TF.threshold(torch.tensor([1], dtype=torch.int32), 1e10, 0.0)
    with pytest.raises(RuntimeError, match="without overflow"):
        MF.threshold(mt.tensor([1], dtype=mt.int32), 1e10, 0.0)


def test_argument_errors_like_torch():
    x = [0.5, -1.0]
    for call, exc in ((lambda F, lib: F.hardtanh(lib.tensor(x), 2.0, 1.0), ValueError),
                      (lambda F, lib: F.celu(lib.tensor(x), 0.0), RuntimeError),
                      (lambda F, lib: F.softshrink(lib.tensor(x), -0.5), RuntimeError)):
        with pytest.raises(exc):
            call(TF, torch)
        with pytest.raises(exc):
            call(MF, mt)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name,args", [c for c in CASES if c[0] != "threshold"] + [("threshold", (0.1, -2.0))],
                         ids=[i for c, i in zip(CASES, IDS) if c[0] != "threshold"] + ["threshold"])
def test_narrow_float_dtypes_match_torch(name, args, dtype):
    x = np.random.default_rng(3).uniform(-5, 5, 64).astype(np.float32)
    x[:4] = [0.0, -0.0, 3.0, -3.0]
    want = getattr(TF, name)(torch.tensor(x).to(getattr(torch, dtype)), *args)
    got = getattr(MF, name)(mt.tensor(x).to(getattr(mt, dtype)), *args)
    assert str(got.dtype) == str(want.dtype)
    # computed in float32, rounded once, as torch's CPU kernels for the narrow dtypes
    np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=1e-2, atol=1e-3)


MODULES = [("LeakyReLU", (0.2,)), ("LeakyReLU", (0.1, True)), ("ELU", (0.5,)), ("ELU", (1.0, True)), ("SELU", ()),
           ("SELU", (True,)), ("CELU", (1.5,)), ("SiLU", ()), ("SiLU", (True,)), ("Mish", ()), ("Softplus", (2.0, 5.0)),
           ("Hardtanh", (-2.0, 2.0)), ("ReLU6", (True,)), ("Hardswish", ()), ("Hardsigmoid", ()), ("LogSigmoid", ()),
           ("Softshrink", (0.2,)), ("Hardshrink", (0.2,)), ("Threshold", (0.1, 20.0)), ("Threshold", (0.1, 20.0, True))]


@pytest.mark.parametrize("name,args", MODULES, ids=[f"{n}{a}" for n, a in MODULES])
def test_modules_match_torch(name, args):
    tm, mm = getattr(torch.nn, name)(*args), getattr(mnn, name)(*args)
    assert repr(mm) == repr(tm)
    x = np.random.default_rng(4).uniform(-4, 4, (3, 5))
    res = []
    for lib, m in ((torch, tm), (mt, mm)):
        leaf = lib.tensor(x, requires_grad=True)
        y = m(leaf * 1.0)
        y.backward(lib.tensor(np.cos(x)))
        res.append((y.detach().numpy(), leaf.grad.numpy(),
                    type(y.grad_fn).__name__ if lib is torch else y.grad_fn.name()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-13)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-12, atol=1e-14)
    assert res[1][2] == res[0][2]


def _copy_params(tm, mm):
    for (tn, tp), (mn, mp) in zip(tm.named_parameters(), mm.named_parameters()):
        assert tn == mn
        mp.data.copy_(mt.tensor(tp.detach().numpy()))


def test_wgan_gp_step_matches_torch():
    """A generator and a critic with LeakyReLU / ELU / Softplus / Hardtanh, the critic's gradient penalty taken
    through leaky_relu with create_graph=True (double backward), one Adam step each, against torch."""
    def nets(lib, nn):
        G = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2, inplace=True), nn.Linear(16, 16), nn.ELU(),
                          nn.Linear(16, 3), nn.Hardtanh())
        D = nn.Sequential(nn.Linear(3, 16), nn.LeakyReLU(0.2), nn.Linear(16, 16), nn.Softplus(), nn.Linear(16, 16),
                          nn.SiLU(), nn.Linear(16, 1))
        return G, D
    torch.manual_seed(0)
    tG, tD = nets(torch, torch.nn)
    mG, mD = nets(mt, mnn)
    _copy_params(tG, mG)
    _copy_params(tD, mD)
    r = np.random.default_rng(5)
    real, z, eps = r.standard_normal((8, 3)), r.standard_normal((8, 4)), r.uniform(size=(8, 1))
    results = []
    for lib, G, D in ((torch, tG, tD), (mt, mG, mD)):
        G.double()
        D.double()
        optD = lib.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.9))
        optG = lib.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.9))
        xr, xz, e = lib.tensor(real), lib.tensor(z), lib.tensor(eps)
        fake = G(xz)
        mix = (e * xr + (1 - e) * fake.detach()).requires_grad_(True)
        (gm,) = lib.autograd.grad(D(mix).sum(), mix, create_graph=True)
        gp = ((gm.norm(2, dim=1) - 1) ** 2).mean()
        lossD = D(fake.detach()).mean() - D(xr).mean() + 10 * gp
        optD.zero_grad()
        lossD.backward()
        gradsD = [p.grad.numpy().copy() for p in D.parameters()]
        optD.step()
        lossG = -D(G(xz)).mean()
        optG.zero_grad()
        lossG.backward()
        gradsG = [p.grad.numpy().copy() for p in G.parameters()]
        optG.step()
        results.append((lossD.item(), gp.item(), lossG.item(), gradsD, gradsG,
                        [p.detach().numpy().copy() for p in list(D.parameters()) + list(G.parameters())]))
    t, m = results
    np.testing.assert_allclose(m[:3], t[:3], rtol=1e-10)
    for a, b in zip(m[3] + m[4] + m[5], t[3] + t[4] + t[5]):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)


def test_gradient_penalty_through_leaky_relu_matches_torch_float32():
    r = np.random.default_rng(6)
    w1, w2, x = r.standard_normal((5, 7)), r.standard_normal((7, 1)), r.standard_normal((6, 5))
    out = []
    for lib, F in ((torch, TF), (mt, MF)):
        W1 = lib.tensor(w1, dtype=lib.float32, requires_grad=True)
        W2 = lib.tensor(w2, dtype=lib.float32, requires_grad=True)
        xi = lib.tensor(x, dtype=lib.float32, requires_grad=True)
        score = F.leaky_relu(xi @ W1, 0.2) @ W2
        (g,) = lib.autograd.grad(score.sum(), xi, create_graph=True)
        gp = ((g.norm(2, dim=1) - 1) ** 2).mean()
        gp.backward()
        out.append([gp.item(), W1.grad.numpy(), W2.grad.numpy()])
    assert out[1][0] == pytest.approx(out[0][0], rel=1e-5)
    np.testing.assert_allclose(out[1][1], out[0][1], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out[1][2], out[0][2], rtol=1e-4, atol=1e-6)


def test_each_activation_is_one_node():
    """No where / mul composite behind the functional: its result's node reads the input directly."""
    t = mt.tensor([0.5, -1.0], requires_grad=True)
    for name, args in CASES:
        y = getattr(MF, name)(t, *args)
        fn = y.grad_fn
        assert fn.next_functions[0][0].name() == "AccumulateGrad", name


def test_onnx_export_of_threshold_and_shrinks():
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")

    class M(mnn.Module):
        def forward(self, x):
            return MF.threshold(x, 0.1, -2.0), MF.hardshrink(x, 0.3), MF.softshrink(x, 0.4)
    x = mt.tensor(np.random.default_rng(7).uniform(-1, 1, (3, 8)).astype(np.float32))
    buf = io.BytesIO()
    mt.onnx.export(M(), (x,), buf, input_names=["x"], opset_version=17)
    onnx.checker.check_model(onnx.load_from_string(buf.getvalue()))
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"x": x.numpy()})
    for g, w in zip(got, M()(x)):
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-6)

"""Activations and channel-wise / alpha dropout of minitorch.nn against PyTorch: values and input (and
parameter) gradients on float32 / float64, odd shapes, 0-d, batch 1, non-contiguous inputs, the kink points
(x == 0, x == threshold, ...), extreme inputs, in-place variants, reprs, the torch.* forms and the exception
types PyTorch raises for bad input; RReLU and the dropouts by their distributions and exact structure."""
import math
import warnings

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn as nn
import minitorch.nn.functional as MF

torch = pytest.importorskip("torch")
TF = torch.nn.functional
tnn = torch.nn

DTYPES = [torch.float32, torch.float64]


def M(t, requires_grad=False):
    """minitorch copy of a torch tensor (a new leaf)."""
    r = mt.tensor(t.detach().numpy())
    return r.requires_grad_() if requires_grad else r


def tol(dt):
    return dict(rtol=1e-5, atol=1e-6) if dt == torch.float32 else dict(rtol=1e-10, atol=1e-12)


def close(a, b, dt=torch.float64, equal_nan=False):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy()
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, equal_nan=equal_nan, **tol(dt))


def both(tfn, mfn, x, params=(), transform=None, equal_nan=False):
    """Runs tfn(x, *params) in torch and mfn on minitorch copies; compares the values and the gradients of x and
    of every floating params[i] for a random upstream gradient. transform maps a leaf to the tensor passed in
    (e.g. a non-contiguous view); it is applied in both libraries."""
    dt = x.dtype
    tx = x.detach().clone().requires_grad_()
    tp = [p.detach().clone().requires_grad_() for p in params]
    mx = M(x, True)
    mp = [M(p, True) for p in params]
    tr = transform or (lambda v: v)
    ref = tfn(tr(tx), *tp)
    out = mfn(tr(mx), *mp)
    close(out, ref, dt, equal_nan)
    g = torch.randn(ref.shape, dtype=ref.dtype)
    ref.backward(g)
    out.backward(M(g))
    close(mx.grad, tx.grad, dt, equal_nan)
    for a, b in zip(mp, tp):
        close(a.grad, b.grad, dt, equal_nan)
    return out, ref


# name -> (torch function, minitorch function): elementwise, each also applied at its kinks below
ELEMENTWISE = {
    "elu": (TF.elu, MF.elu),
    "elu_a2": (lambda x: TF.elu(x, 2.0), lambda x: MF.elu(x, 2.0)),
    "elu_a-0.5": (lambda x: TF.elu(x, alpha=-0.5), lambda x: MF.elu(x, alpha=-0.5)),
    "selu": (TF.selu, MF.selu),
    "celu": (TF.celu, MF.celu),
    "celu_a2": (lambda x: TF.celu(x, 2.0), lambda x: MF.celu(x, 2.0)),
    "celu_a0.3": (lambda x: TF.celu(x, alpha=0.3), lambda x: MF.celu(x, alpha=0.3)),
    "softplus": (TF.softplus, MF.softplus),
    "softplus_b2_t3": (lambda x: TF.softplus(x, 2.0, 3.0), lambda x: MF.softplus(x, 2.0, 3.0)),
    "softplus_b0.5": (lambda x: TF.softplus(x, beta=0.5), lambda x: MF.softplus(x, beta=0.5)),
    "softplus_bneg": (lambda x: TF.softplus(x, beta=-1.5, threshold=2.0),
                      lambda x: MF.softplus(x, beta=-1.5, threshold=2.0)),
    "softsign": (TF.softsign, MF.softsign),
    "hardtanh": (TF.hardtanh, MF.hardtanh),
    "hardtanh_-2_0.5": (lambda x: TF.hardtanh(x, -2.0, 0.5), lambda x: MF.hardtanh(x, -2.0, 0.5)),
    "relu6": (TF.relu6, MF.relu6),
    "hardsigmoid": (TF.hardsigmoid, MF.hardsigmoid),
    "hardswish": (TF.hardswish, MF.hardswish),
    "hardshrink": (TF.hardshrink, MF.hardshrink),
    "hardshrink_1.5": (lambda x: TF.hardshrink(x, 1.5), lambda x: MF.hardshrink(x, 1.5)),
    "softshrink": (TF.softshrink, MF.softshrink),
    "softshrink_1": (lambda x: TF.softshrink(x, 1.0), lambda x: MF.softshrink(x, 1.0)),
    "softshrink_0": (lambda x: TF.softshrink(x, 0.0), lambda x: MF.softshrink(x, 0.0)),
    "tanhshrink": (TF.tanhshrink, MF.tanhshrink),
    "mish": (TF.mish, MF.mish),
    "logsigmoid": (TF.logsigmoid, MF.logsigmoid),
    "threshold": (lambda x: TF.threshold(x, 0.5, -3.0), lambda x: MF.threshold(x, 0.5, -3.0)),
    "threshold_0": (lambda x: TF.threshold(x, 0.0, 0.0), lambda x: MF.threshold(x, 0.0, 0.0)),
    "rrelu_eval": (TF.rrelu, MF.rrelu),
    "rrelu_eval_bounds": (lambda x: TF.rrelu(x, 0.1, 0.6, training=False),
                          lambda x: MF.rrelu(x, 0.1, 0.6, training=False)),
    "prelu_scalar": (lambda x: TF.prelu(x, torch.tensor([0.3], dtype=x.dtype)),
                     lambda x: MF.prelu(x, mt.tensor([0.3], dtype=x.dtype))),
}

# the points where each function changes branch (or its derivative convention matters)
KINKS = {
    "elu": [0.0], "elu_a2": [0.0], "elu_a-0.5": [0.0], "selu": [0.0], "celu": [0.0], "celu_a2": [0.0],
    "celu_a0.3": [0.0], "softplus": [20.0, 0.0], "softplus_b2_t3": [1.5, 0.0], "softplus_b0.5": [40.0],
    "softplus_bneg": [-2.0 / 1.5, 0.0], "softsign": [0.0], "hardtanh": [-1.0, 1.0], "hardtanh_-2_0.5": [-2.0, 0.5],
    "relu6": [0.0, 6.0], "hardsigmoid": [-3.0, 3.0, 0.0], "hardswish": [-3.0, 3.0, 0.0],
    "hardshrink": [-0.5, 0.5, 0.0], "hardshrink_1.5": [-1.5, 1.5], "softshrink": [-0.5, 0.5, 0.0],
    "softshrink_1": [-1.0, 1.0], "softshrink_0": [0.0], "tanhshrink": [0.0], "mish": [0.0], "logsigmoid": [0.0],
    "threshold": [0.5], "threshold_0": [0.0], "rrelu_eval": [0.0], "rrelu_eval_bounds": [0.0],
    "prelu_scalar": [0.0],
}


def _shape_input(kind, dt, gen):
    if kind == "0d":
        return torch.randn((), dtype=dt, generator=gen) * 3
    if kind == "batch1":
        return torch.randn(1, 6, dtype=dt, generator=gen) * 3
    if kind == "empty":
        return torch.randn(0, 3, dtype=dt, generator=gen)
    return torch.randn(3, 5, 7, dtype=dt, generator=gen) * 4


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("kind", ["odd", "0d", "batch1", "empty", "noncontig"])
def test_elementwise_values_and_grads(name, dt, kind):
    tfn, mfn = ELEMENTWISE[name]
    gen = torch.Generator().manual_seed(hash((name, kind)) % 10000)
    x = _shape_input("odd" if kind == "noncontig" else kind, dt, gen)
    transform = (lambda v: v.transpose(0, 2)) if kind == "noncontig" else None
    if kind == "noncontig":
        assert not M(x).transpose(0, 2).is_contiguous()
    both(tfn, mfn, x, transform=transform)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
def test_elementwise_at_kinks(name, dt):
    """Values and gradients exactly at (and one ulp either side of) the branch points."""
    tfn, mfn = ELEMENTWISE[name]
    pts = []
    for k in KINKS[name]:
        k = torch.tensor(k, dtype=dt)
        pts += [k, torch.nextafter(k, k - 1), torch.nextafter(k, k + 1)]
    x = torch.stack(pts)
    both(tfn, mfn, x)


EXTREME = ["elu", "selu", "celu", "softplus", "softplus_b2_t3", "softplus_b0.5", "softsign", "hardswish",
           "hardsigmoid", "tanhshrink", "mish", "logsigmoid", "hardtanh", "softshrink", "hardshrink", "rrelu_eval"]


@pytest.mark.parametrize("name", EXTREME)
@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
def test_elementwise_extreme_inputs(name, dt):
    tfn, mfn = ELEMENTWISE[name]
    x = torch.tensor([-1e30, -1e4, -100.0, -50.0, -30.0, 30.0, 50.0, 100.0, 1e4, 1e30], dtype=dt)
    out, ref = both(tfn, mfn, x, equal_nan=True)
    assert np.array_equal(np.isfinite(out.detach().numpy()), np.isfinite(ref.detach().numpy()))


@pytest.mark.parametrize("name", ["softplus", "logsigmoid", "mish"])
def test_stable_at_pm100_no_inf_nan(name):
    tfn, mfn = ELEMENTWISE[name]
    for dt in DTYPES:
        x = torch.tensor([-100.0, 100.0], dtype=dt)
        tx = x.clone().requires_grad_()
        ref = tfn(tx)
        ref.sum().backward()
        assert torch.isfinite(ref).all() and torch.isfinite(tx.grad).all()
        mx = M(x, True)
        out = mfn(mx)
        out.sum().backward()
        assert np.isfinite(out.detach().numpy()).all() and np.isfinite(mx.grad.numpy()).all()
        close(out, ref, dt)
        close(mx.grad, tx.grad, dt)


@pytest.mark.parametrize("name", ["elu", "selu", "celu", "softplus", "hardtanh", "relu6", "hardsigmoid", "hardswish",
                                  "hardshrink", "softshrink", "mish", "logsigmoid", "threshold", "prelu_scalar"])
def test_nan_propagates_like_torch(name):
    tfn, mfn = ELEMENTWISE[name]
    x = torch.tensor([float("nan"), 1.0, -1.0])
    close(mfn(M(x)), tfn(x), torch.float32, equal_nan=True)


# ---------------------------------------------------------------- integer inputs and bad arguments
INT_FNS = {
    "elu": (TF.elu, MF.elu), "selu": (TF.selu, MF.selu), "celu": (TF.celu, MF.celu),
    "hardtanh": (TF.hardtanh, MF.hardtanh), "relu6": (TF.relu6, MF.relu6),
    "hardsigmoid": (TF.hardsigmoid, MF.hardsigmoid), "hardswish": (TF.hardswish, MF.hardswish),
    "hardshrink": (TF.hardshrink, MF.hardshrink), "softshrink": (TF.softshrink, MF.softshrink),
    "softplus": (TF.softplus, MF.softplus), "logsigmoid": (TF.logsigmoid, MF.logsigmoid), "mish": (TF.mish, MF.mish),
    "rrelu": (TF.rrelu, MF.rrelu), "rrelu_train": (lambda x: TF.rrelu(x, training=True),
                                                   lambda x: MF.rrelu(x, training=True)),
    "softsign": (TF.softsign, MF.softsign), "tanhshrink": (TF.tanhshrink, MF.tanhshrink),
    "glu": (TF.glu, MF.glu), "threshold": (lambda x: TF.threshold(x, 1, 5), lambda x: MF.threshold(x, 1, 5)),
    "threshold_float_value": (lambda x: TF.threshold(x, 0.5, 7.5), lambda x: MF.threshold(x, 0.5, 7.5)),
    "prelu": (lambda x: TF.prelu(x, torch.tensor([1])), lambda x: MF.prelu(x, mt.tensor([1]))),
    "softmin": (lambda x: TF.softmin(x, 0), lambda x: MF.softmin(x, 0)),
}


@pytest.mark.parametrize("name", sorted(INT_FNS))
def test_integer_input_like_torch(name):
    tfn, mfn = INT_FNS[name]
    x = torch.tensor([1, -2, 3, 0])
    try:
        ref = tfn(x)
    except Exception as e:  # noqa: BLE001  (the type torch raises is the one to match)
        with pytest.raises(type(e)):
            mfn(M(x))
        return
    out = mfn(M(x))
    assert str(out.dtype) == str(ref.dtype)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)


def _w(*shape):
    return torch.full(shape, 0.25)


BAD_CALLS = {
    "celu_alpha0": lambda F, lib: F.celu(lib.ones(3), 0.0),
    "celu__alpha0": lambda F, lib: F.celu_(lib.ones(3), 0.0),
    "rrelu_lower_gt_upper_train": lambda F, lib: F.rrelu(lib.ones(3), 0.5, 0.1, True),
    "rrelu_lower_gt_upper_eval": lambda F, lib: F.rrelu(lib.ones(3), 0.5, 0.1, False),
    "hardtanh_min_gt_max": lambda F, lib: F.hardtanh(lib.ones(3), 1.0, 0.0),
    "softshrink_neg_lambda": lambda F, lib: F.softshrink(lib.ones(3), -1.0),
    "glu_odd": lambda F, lib: F.glu(lib.ones(2, 3), dim=1),
    "glu_odd_last": lambda F, lib: F.glu(lib.ones(2, 3)),
    "glu_0d": lambda F, lib: F.glu(lib.ones(())),
    "glu_dim_out_of_range": lambda F, lib: F.glu(lib.ones(2, 4), dim=5),
    "prelu_channel_mismatch": lambda F, lib: F.prelu(lib.ones(2, 4), lib.ones(3)),
    "prelu_1d_input_many_weights": lambda F, lib: F.prelu(lib.ones(4), lib.ones(4)),
    "prelu_0d_input_many_weights": lambda F, lib: F.prelu(lib.ones(()), lib.ones(2)),
    "prelu_2d_weight": lambda F, lib: F.prelu(lib.ones(2, 3), lib.ones(3, 1)),
    "prelu_dtype_mismatch": lambda F, lib: F.prelu(lib.ones(2, 3), lib.ones(1, dtype=lib.float64)),
    "elu_inplace_leaf": lambda F, lib: F.elu_(lib.ones(3, requires_grad=True)),
    "hardtanh_inplace_leaf": lambda F, lib: F.hardtanh(lib.ones(3, requires_grad=True), inplace=True),
    "threshold_inplace_leaf": lambda F, lib: F.threshold_(lib.ones(3, requires_grad=True), 0.0, 1.0),
    "softmin_dim_oor": lambda F, lib: F.softmin(lib.ones(2, 3), 2),
}


@pytest.mark.parametrize("name", sorted(BAD_CALLS))
def test_bad_arguments_raise_like_torch(name):
    call = BAD_CALLS[name]
    with pytest.raises(Exception) as te:
        call(TF, torch)
    with pytest.raises(type(te.value)):
        call(MF, mt)


def test_bad_module_arguments_raise_like_torch():
    for make in [lambda n: n.Hardtanh(1.0, 1.0), lambda n: n.Hardtanh(2.0, 1.0)]:
        with pytest.raises(Exception) as te:
            make(tnn)
        with pytest.raises(type(te.value)):
            make(nn)
    for shape in [(3,), (2, 3), (1, 2, 3, 4, 5)]:
        with pytest.raises(Exception) as te:
            tnn.Softmax2d()(torch.ones(shape))
        with pytest.raises(type(te.value)):
            nn.Softmax2d()(mt.ones(shape))


def test_hardtanh_deprecated_keywords_warn_like_torch():
    with pytest.warns(FutureWarning):
        t = tnn.Hardtanh(min_value=-2.0, max_value=3.0)
    with pytest.warns(FutureWarning):
        m = nn.Hardtanh(min_value=-2.0, max_value=3.0)
    assert repr(m) == repr(t)


# ---------------------------------------------------------------- in-place forms
INPLACE = {
    "elu_": (lambda x: TF.elu_(x, 0.7), lambda x: MF.elu_(x, 0.7)),
    "elu_inplace": (lambda x: TF.elu(x, inplace=True), lambda x: MF.elu(x, inplace=True)),
    "selu_": (TF.selu_, MF.selu_),
    "selu_inplace": (lambda x: TF.selu(x, True), lambda x: MF.selu(x, True)),
    "celu_": (lambda x: TF.celu_(x, 1.5), lambda x: MF.celu_(x, 1.5)),
    "celu_inplace": (lambda x: TF.celu(x, 1.5, True), lambda x: MF.celu(x, 1.5, True)),
    "hardtanh_": (lambda x: TF.hardtanh_(x, -0.5, 0.5), lambda x: MF.hardtanh_(x, -0.5, 0.5)),
    "hardtanh_inplace": (lambda x: TF.hardtanh(x, inplace=True), lambda x: MF.hardtanh(x, inplace=True)),
    "relu6_inplace": (lambda x: TF.relu6(x, inplace=True), lambda x: MF.relu6(x, inplace=True)),
    "threshold_": (lambda x: TF.threshold_(x, 0.2, 9.0), lambda x: MF.threshold_(x, 0.2, 9.0)),
    "threshold_inplace": (lambda x: TF.threshold(x, 0.2, 9.0, True), lambda x: MF.threshold(x, 0.2, 9.0, True)),
    "hardsigmoid_inplace": (lambda x: TF.hardsigmoid(x, True), lambda x: MF.hardsigmoid(x, True)),
    "hardswish_inplace": (lambda x: TF.hardswish(x, True), lambda x: MF.hardswish(x, True)),
    "mish_inplace": (lambda x: TF.mish(x, True), lambda x: MF.mish(x, True)),
    "rrelu_eval_": (TF.rrelu_, MF.rrelu_),
    "rrelu_eval_inplace": (lambda x: TF.rrelu(x, inplace=True), lambda x: MF.rrelu(x, inplace=True)),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
def test_inplace_forms(name, dt):
    tfn, mfn = INPLACE[name]
    x = torch.randn(4, 5, dtype=dt) * 4
    x[0, :3] = torch.tensor([0.0, -3.0, 3.0])
    # no autograd: the result is the input object, holding torch's values
    tx, mx = x.clone(), M(x)
    tr, mr = tfn(tx), mfn(mx)
    assert (tr is tx) and (mr is mx)
    close(mx, tx, dt)
    # on a non-leaf that requires grad: same values and gradients as torch
    both(lambda a: tfn(a * 1.0), lambda a: mfn(a * 1.0), x)


def test_inplace_then_backward_through_view():
    x = torch.randn(3, 4, dtype=torch.float64)
    both(lambda a: TF.elu_(a * 2.0)[1:].exp(), lambda a: MF.elu_(a * 2.0)[1:].exp(), x)


# ---------------------------------------------------------------- GLU, Softmin, Softmax2d, PReLU
@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape,dim", [((4,), -1), ((3, 6), 1), ((3, 6), -1), ((4, 3), 0), ((2, 4, 6, 3), 2),
                                       ((1, 2), -1), ((2, 0, 4), -1)])
def test_glu(dt, shape, dim):
    x = torch.randn(*shape, dtype=dt)
    both(lambda v: TF.glu(v, dim), lambda v: MF.glu(v, dim), x)
    both(lambda v: tnn.GLU(dim)(v), lambda v: nn.GLU(dim)(v), x)


def test_glu_noncontiguous_default_dim():
    x = torch.randn(6, 5, dtype=torch.float64)
    both(lambda v: TF.glu(v.t()), lambda v: MF.glu(v.t()), x)


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 7), 1), ((3, 7), 0), ((2, 3, 4), -1), ((), 0)])
def test_softmin(dt, shape, dim):
    x = torch.randn(shape, dtype=dt) * 5
    both(lambda v: TF.softmin(v, dim), lambda v: MF.softmin(v, dim), x)
    both(lambda v: tnn.Softmin(dim)(v), lambda v: nn.Softmin(dim)(v), x)


def test_softmin_dtype_and_implicit_dim_warning():
    x = torch.randn(3, 4)
    both(lambda v: TF.softmin(v, 1, dtype=torch.float64), lambda v: MF.softmin(v, 1, dtype=mt.float64), x)
    for shape in [(5,), (3, 4), (2, 3, 4), (2, 3, 4, 5)]:
        x = torch.randn(*shape, dtype=torch.float64)
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
            ref = TF.softmin(x)
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
            out = MF.softmin(M(x))
        close(out, ref)
        with pytest.warns(UserWarning):
            close(nn.Softmin()(M(x)), ref)


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 5), (1, 1, 2, 2)])
def test_softmax2d(dt, shape):
    x = torch.randn(*shape, dtype=dt)
    both(lambda v: tnn.Softmax2d()(v), lambda v: nn.Softmax2d()(v), x)


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape,nw", [((4, 3), 1), ((4, 3), 3), ((2, 3, 5), 3), ((2, 3, 4, 5), 3), ((7,), 1),
                                      ((), 1), ((1, 1), 1), ((5, 2, 3), 1)])
def test_prelu_functional_input_and_weight_grads(dt, shape, nw):
    x = torch.randn(shape, dtype=dt)
    w = torch.rand(nw, dtype=dt) - 0.3
    both(TF.prelu, MF.prelu, x, (w,))
    if nw == 1:
        both(TF.prelu, MF.prelu, x, (w.reshape(()),))  # a 0-d weight


def test_prelu_kink_and_noncontiguous():
    x = torch.tensor([[0.0, -1.0, 2.0], [3.0, 0.0, -4.0]], dtype=torch.float64)
    w = torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64)
    both(lambda v, ww: TF.prelu(v.t(), ww), lambda v, ww: MF.prelu(v.t(), ww), x.t().contiguous(), (w,))


@pytest.mark.parametrize("num_parameters,init", [(1, 0.25), (3, 0.25), (3, -0.1)])
def test_prelu_module_params_init_repr_and_grads(num_parameters, init):
    tm = tnn.PReLU(num_parameters, init)
    m = nn.PReLU(num_parameters, init)
    assert repr(m) == repr(tm)
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in tm.named_parameters()]
    close(m.weight, tm.weight, torch.float32)
    assert m.weight.requires_grad and m.init == tm.init and m.num_parameters == tm.num_parameters
    x = torch.randn(2, 3, 4)
    tx, mx = x.clone().requires_grad_(), M(x, True)
    ref, out = tm(tx), m(mx)
    close(out, ref, torch.float32)
    g = torch.randn(ref.shape)
    ref.backward(g)
    out.backward(M(g))
    close(mx.grad, tx.grad, torch.float32)
    close(m.weight.grad, tm.weight.grad, torch.float32)
    assert set(m.state_dict()) == set(tm.state_dict())


def test_prelu_module_dtype_and_reset():
    m = nn.PReLU(2, init=0.5, dtype=mt.float64)
    assert m.weight.dtype == mt.float64 and m.weight.shape == tnn.PReLU(2, dtype=torch.float64).weight.shape
    with mt.no_grad():
        m.weight.fill_(3.0)
    m.reset_parameters()
    assert m.weight.tolist() == tnn.PReLU(2, init=0.5, dtype=torch.float64).weight.tolist()


# ---------------------------------------------------------------- RReLU
@pytest.mark.parametrize("dt", [mt.float32, mt.float64])
@pytest.mark.parametrize("lower,upper", [(1.0 / 8, 1.0 / 3), (0.1, 0.9), (0.3, 0.3)])
def test_rrelu_training_slopes_in_bounds_and_distributed(dt, lower, upper):
    mt.manual_seed(3)
    x = (mt.rand(200000, dtype=dt) - 0.5).requires_grad_()
    out = MF.rrelu(x, lower, upper, training=True)
    xv, ov = x.detach().numpy(), out.detach().numpy()
    pos = xv > 0
    np.testing.assert_array_equal(ov[pos], xv[pos])
    slope = ov[~pos] / xv[~pos]
    assert slope.min() >= lower - 1e-6 and slope.max() <= upper + 1e-6
    if upper > lower:
        n = slope.size
        assert abs(slope.mean() - (lower + upper) / 2) < 5 * (upper - lower) / math.sqrt(12 * n)
        assert abs(slope.var() - (upper - lower) ** 2 / 12) < 0.05 * (upper - lower) ** 2 / 12
        assert len(np.unique(slope.round(5))) > 100   # one slope per element, not one per tensor
    # the gradient is the slope that was drawn
    out.backward(mt.ones_like(out))
    g = x.grad.numpy()
    np.testing.assert_array_equal(g[pos], 1.0)
    np.testing.assert_allclose(g[~pos], slope, rtol=1e-5)


def test_rrelu_training_matches_torch_distribution():
    """The same summary statistics as torch's own rrelu on the same input."""
    x = torch.linspace(-3, 3, 100001, dtype=torch.float64)
    torch.manual_seed(0)
    ref = TF.rrelu(x, 0.1, 0.5, training=True)
    out = MF.rrelu(M(x), 0.1, 0.5, training=True)
    neg = x < 0
    rs = (ref[neg] / x[neg]).numpy()
    ms = out.numpy()[neg.numpy()] / x.numpy()[neg.numpy()]
    assert abs(rs.mean() - ms.mean()) < 0.005 and abs(rs.std() - ms.std()) < 0.005
    np.testing.assert_array_equal(out.numpy()[~neg.numpy()], ref.numpy()[~neg.numpy()])


def test_rrelu_uses_minitorch_rng():
    x = mt.randn(50, dtype=mt.float64) - 1.0
    mt.manual_seed(7)
    a = MF.rrelu(x, training=True)
    mt.manual_seed(7)
    b = MF.rrelu(x, training=True)
    c = MF.rrelu(x, training=True)
    assert a.tolist() == b.tolist() and a.tolist() != c.tolist()


def test_rrelu_module_train_eval_and_inplace():
    x = torch.randn(4, 6, dtype=torch.float64)
    tm, m = tnn.RReLU(0.2, 0.4), nn.RReLU(0.2, 0.4)
    assert repr(m) == repr(tm)
    tm.eval()
    m.eval()
    both(lambda v: tm(v), lambda v: m(v), x)    # eval: exactly leaky_relu with slope (lower + upper) / 2
    m.train()
    out = m(M(x)).numpy()
    xv = x.numpy()
    s = out[xv < 0] / xv[xv < 0]
    assert ((s >= 0.2 - 1e-12) & (s <= 0.4 + 1e-12)).all() and not np.allclose(s, s[0])
    mi = nn.RReLU(inplace=True)
    y = M(x)
    assert mi(y) is y and (y.numpy()[xv < 0] != xv[xv < 0]).all()
    mt.manual_seed(1)
    y = M(x)
    r = MF.rrelu_(y, training=True)
    assert r is y
    s = y.numpy()[xv < 0] / xv[xv < 0]
    assert ((s >= 1 / 8 - 1e-12) & (s <= 1 / 3 + 1e-12)).all()


# ---------------------------------------------------------------- modules
MODULES = [
    ("ELU", (), {}), ("ELU", (0.5,), {}), ("ELU", (), {"alpha": 2.0, "inplace": True}),
    ("SELU", (), {}), ("SELU", (True,), {}),
    ("CELU", (), {}), ("CELU", (0.7, True), {}),
    ("Softplus", (), {}), ("Softplus", (2.0, 10.0), {}), ("Softplus", (), {"beta": 3, "threshold": 5}),
    ("Softsign", (), {}), ("Tanhshrink", (), {}), ("LogSigmoid", (), {}),
    ("Softmin", (), {"dim": 1}), ("Softmin", (0,), {}), ("Softmax2d", (), {}),
    ("Hardtanh", (), {}), ("Hardtanh", (-2.0, 3.0), {}), ("Hardtanh", (-2, 3, True), {}),
    ("ReLU6", (), {}), ("ReLU6", (True,), {}),
    ("Hardsigmoid", (), {}), ("Hardsigmoid", (True,), {}),
    ("Hardswish", (), {}), ("Hardswish", (True,), {}),
    ("Hardshrink", (), {}), ("Hardshrink", (1.25,), {}),
    ("Softshrink", (), {}), ("Softshrink", (0.1,), {}),
    ("Mish", (), {}), ("Mish", (True,), {}),
    ("GLU", (), {}), ("GLU", (1,), {}),
    ("Threshold", (0.1, 20.0), {}), ("Threshold", (0.1, 20, True), {}),
    ("RReLU", (), {}), ("RReLU", (0.1, 0.3, True), {}),
    ("PReLU", (), {}), ("PReLU", (4, 0.1), {}),
]


def _mid(i):
    return f"{MODULES[i][0]}{MODULES[i][1]}{MODULES[i][2]}"


@pytest.mark.parametrize("i", range(len(MODULES)), ids=_mid)
def test_module_repr_and_forward_match_torch(i):
    name, args, kw = MODULES[i]
    tm, m = getattr(tnn, name)(*args, **kw), getattr(nn, name)(*args, **kw)
    assert repr(m) == repr(tm)
    assert str(m) == str(tm)
    assert type(m).__name__ == type(tm).__name__
    tm.eval()          # RReLU: the deterministic form
    m.eval()
    x = torch.randn(2, 4, 3, 6, dtype=torch.float64) * 4
    if kw.get("inplace") or (len(args) > 0 and args[-1] is True):
        tx, mx = x.clone(), M(x)
        tr, mr = tm(tx), m(mx)
        assert (tr is tx) and (mr is mx)
        close(mx, tx)
        both(lambda v: tm(v * 1.0), lambda v: m(v * 1.0), x)
    elif name == "PReLU":
        x = x.float()
        both(lambda v: tm(v), lambda v: m(v), x)
    else:
        both(lambda v: tm(v), lambda v: m(v), x)


def test_import_paths_like_torch():
    from minitorch.nn.modules import activation, dropout
    from minitorch.nn.modules.activation import ELU, Hardswish, LeakyReLU, ReLU, Softmax  # noqa: F401
    from minitorch.nn.modules.distance import CosineSimilarity, PairwiseDistance  # noqa: F401
    from minitorch.nn.modules.dropout import AlphaDropout, Dropout, Dropout2d  # noqa: F401
    from torch.nn.modules import activation as tact
    from torch.nn.modules import dropout as tdrop
    for n in tact.__all__:
        if n != "MultiheadAttention":
            assert getattr(activation, n) is getattr(nn, n), n
    for n in tdrop.__all__:
        assert getattr(dropout, n) is getattr(nn, n), n
    assert activation.ReLU is nn.ReLU and dropout.Dropout is nn.Dropout


def test_functional_names_present():
    names = ["elu", "elu_", "selu", "selu_", "celu", "celu_", "prelu", "rrelu", "rrelu_", "softplus", "softsign",
             "softmin", "hardtanh", "hardtanh_", "relu6", "hardsigmoid", "hardswish", "hardshrink", "softshrink",
             "tanhshrink", "mish", "glu", "logsigmoid", "threshold", "threshold_", "dropout1d", "dropout2d",
             "dropout3d", "alpha_dropout", "feature_alpha_dropout"]
    for n in names:
        assert hasattr(TF, n) and callable(getattr(MF, n)), n


# ---------------------------------------------------------------- torch.* forms
TORCH_FORMS = {
    "selu": lambda lib, x: lib.selu(x),
    "celu": lambda lib, x: lib.celu(x, 0.8),
    "prelu": lambda lib, x: lib.prelu(x, lib.tensor([0.2], dtype=x.dtype)),
    "rrelu_eval": lambda lib, x: lib.rrelu(x, 0.1, 0.2),
    "hardshrink": lambda lib, x: lib.hardshrink(x, 0.3),
    "threshold": lambda lib, x: lib.threshold(x, 0.1, 2.0),
    "tensor_hardshrink": lambda lib, x: x.hardshrink(0.7),
    "tensor_prelu": lambda lib, x: x.prelu(lib.tensor([0.2], dtype=x.dtype)),
}


@pytest.mark.parametrize("name", sorted(TORCH_FORMS))
def test_torch_namespace_forms(name):
    f = TORCH_FORMS[name]
    x = torch.randn(3, 4, dtype=torch.float64)
    both(lambda v: f(torch, v), lambda v: f(mt, v), x)


TORCH_INPLACE_FORMS = {
    "selu_": lambda lib, x: lib.selu_(x), "celu_": lambda lib, x: lib.celu_(x, 1.3),
    "threshold_": lambda lib, x: lib.threshold_(x, 0.0, -1.0), "relu_": lambda lib, x: lib.relu_(x),
    "rrelu_eval_": lambda lib, x: lib.rrelu_(x),
}


@pytest.mark.parametrize("name", sorted(TORCH_INPLACE_FORMS))
def test_torch_namespace_inplace_forms(name):
    f = TORCH_INPLACE_FORMS[name]
    x = torch.randn(3, 4, dtype=torch.float64)
    tx, mx = x.clone(), M(x)
    assert f(torch, tx) is tx and f(mt, mx) is mx
    close(mx, tx)


# ---------------------------------------------------------------- channel-wise and alpha dropout
FEATURE_DROPOUTS = [  # (functional, module, shapes it takes as batched / unbatched)
    ("dropout1d", "Dropout1d", [(8, 16, 5), (16, 5)]),
    ("dropout2d", "Dropout2d", [(8, 16, 3, 4)]),
    ("dropout3d", "Dropout3d", [(4, 16, 2, 3, 2), (16, 2, 3, 2)]),
]


def _channels(a, shape, batched):
    """(samples * channels, rest) view of an array of the given input shape."""
    lead = 2 if batched else 1
    return a.reshape(int(np.prod(shape[:lead])), -1)


@pytest.mark.parametrize("fname,mname,shapes", FEATURE_DROPOUTS, ids=[f[0] for f in FEATURE_DROPOUTS])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("dt", [mt.float32, mt.float64])
def test_feature_dropout_zeroes_whole_channels(fname, mname, shapes, p, dt):
    mt.manual_seed(11)
    for shape in shapes:
        batched = len(shape) == len(shapes[0])
        x = (mt.rand(*shape, dtype=dt) + 0.5).requires_grad_()
        out = getattr(MF, fname)(x, p, training=True)
        assert out.shape == x.shape and out.dtype == dt
        xv, ov = _channels(x.detach().numpy(), shape, batched), _channels(out.detach().numpy(), shape, batched)
        dropped = (ov == 0).all(1)
        kept = ~dropped
        assert ((ov == 0).any(1) == dropped).all()          # a channel is all zero or not zero at all
        np.testing.assert_allclose(ov[kept], xv[kept] / (1 - p), rtol=1e-6)
        assert 0 < dropped.sum() < len(dropped)
        out.backward(mt.ones_like(out))
        gv = _channels(x.grad.numpy(), shape, batched)
        np.testing.assert_allclose(gv[kept], 1 / (1 - p), rtol=1e-6)
        np.testing.assert_array_equal(gv[dropped], 0.0)


@pytest.mark.parametrize("fname", ["dropout1d", "dropout2d", "dropout3d"])
def test_feature_dropout_rate(fname):
    shape = {"dropout1d": (200, 50, 2), "dropout2d": (200, 50, 2, 1), "dropout3d": (200, 50, 1, 2, 1)}[fname]
    mt.manual_seed(5)
    out = getattr(MF, fname)(mt.ones(*shape), 0.3)
    frac = (out.reshape(200 * 50, -1) == 0).all(1).float().mean().item()
    assert abs(frac - 0.3) < 4 * math.sqrt(0.3 * 0.7 / 10000)


@pytest.mark.parametrize("fname,mname,shapes", FEATURE_DROPOUTS, ids=[f[0] for f in FEATURE_DROPOUTS])
def test_feature_dropout_eval_p0_p1_and_module(fname, mname, shapes):
    shape = shapes[0]
    x = torch.randn(*shape)
    for kw in [dict(training=False), dict(p=0.0), dict(p=1.0)]:
        ref = getattr(TF, fname)(x, **kw)
        out = getattr(MF, fname)(M(x), **kw)
        close(out, ref, torch.float32)
    tm, m = getattr(tnn, mname)(0.3), getattr(nn, mname)(0.3)
    assert repr(m) == repr(tm) == f"{mname}(p=0.3, inplace=False)"
    assert repr(getattr(nn, mname)(0.1, True)) == repr(getattr(tnn, mname)(0.1, True))
    m.eval()
    tm.eval()
    close(m(M(x)), tm(x), torch.float32)
    m.train()
    out = m(M(x)).numpy()
    assert (out == 0).any() and ((out == 0) | np.isclose(out, x.numpy() / 0.7, rtol=1e-6)).all()


@pytest.mark.parametrize("fname,mname,shapes", FEATURE_DROPOUTS, ids=[f[0] for f in FEATURE_DROPOUTS])
def test_feature_dropout_inplace(fname, mname, shapes):
    mt.manual_seed(2)
    for shape in shapes:
        x = mt.rand(*shape) + 1.0
        before = x.clone()
        out = getattr(MF, fname)(x, 0.5, inplace=True)
        np.testing.assert_array_equal(out.numpy(), x.numpy())           # the input holds the result
        xv, bv = x.numpy(), before.numpy()
        assert ((xv == 0) | np.isclose(xv, bv * 2, rtol=1e-6)).all() and (xv == 0).any()


@pytest.mark.parametrize("call", [
    lambda F, lib: F.dropout1d(lib.ones(2, 3), -0.1),
    lambda F, lib: F.dropout2d(lib.ones(2, 3, 4), 1.5),
    lambda F, lib: F.dropout3d(lib.ones(2, 3, 4, 5), -1),
    lambda F, lib: F.alpha_dropout(lib.ones(3), 1.1, True),
    lambda F, lib: F.feature_alpha_dropout(lib.ones(2, 3), -0.5, True),
    lambda F, lib: F.dropout1d(lib.ones(2), 0.5),                # 1-D input
    lambda F, lib: F.dropout1d(lib.ones(2, 3, 4, 5), 0.5),       # 4-D input
    lambda F, lib: F.feature_alpha_dropout(lib.ones(5), 0.5, True),
    lambda F, lib: F.dropout2d(lib.ones(5), 0.5),
    lambda F, lib: lib.nn.Dropout2d(1.5),
    lambda F, lib: lib.nn.Dropout1d(-0.5),
    lambda F, lib: lib.nn.AlphaDropout(2),
    lambda F, lib: lib.nn.FeatureAlphaDropout(-1e-3),
    lambda F, lib: lib.nn.Dropout3d(p=7),
], ids=lambda f: "call")
def test_dropout_bad_input_raises_like_torch(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as te:
            call(TF, torch)
        with pytest.raises(type(te.value)):
            call(MF, mt)


def test_dropout2d_warnings_like_torch():
    for shape in [(2, 3, 4), (2, 3), (1, 2, 3, 4, 5)]:
        with warnings.catch_warnings(record=True) as tw:
            warnings.simplefilter("always")
            TF.dropout2d(torch.ones(*shape), 0.5)
        with warnings.catch_warnings(record=True) as mw:
            warnings.simplefilter("always")
            MF.dropout2d(mt.ones(*shape), 0.5)
        assert [str(w.message) for w in mw] == [str(w.message) for w in tw]
    with warnings.catch_warnings(record=True) as mw:
        warnings.simplefilter("always")
        MF.dropout3d(mt.ones(2, 3, 4), 0.5)
    assert len(mw) == 1 and "dropout3d" in str(mw[0].message)


def _alpha_constants(p):
    """(kept slope a, kept offset, dropped value) of torch's alpha dropout, read off torch's own output."""
    torch.manual_seed(0)
    z = TF.alpha_dropout(torch.zeros(4000, dtype=torch.float64), p, True)
    o = TF.alpha_dropout(torch.ones(4000, dtype=torch.float64), p, True)
    zv = np.unique(z.numpy().round(12))
    ov = np.unique(o.numpy().round(12))
    assert len(zv) == 2 and len(ov) == 2
    dropped = float(np.intersect1d(zv, ov)[0])
    offset = float(zv[zv != dropped][0])
    slope = float(ov[ov != dropped][0]) - offset
    return slope, offset, dropped


@pytest.mark.parametrize("p", [0.1, 0.5, 0.75])
@pytest.mark.parametrize("dt", [mt.float32, mt.float64])
def test_alpha_dropout_values_grads_and_stats(p, dt):
    slope, offset, dropped = _alpha_constants(p)
    mt.manual_seed(4)
    x = mt.randn(100000, dtype=dt).requires_grad_()
    out = MF.alpha_dropout(x, p, training=True)
    xv, ov = x.detach().numpy(), out.detach().numpy()
    r = 1e-5 if dt == mt.float32 else 1e-12
    is_drop = np.isclose(ov, dropped, rtol=r, atol=r)
    is_kept = np.isclose(ov, slope * xv + offset, rtol=r, atol=r)
    assert (is_drop | is_kept).all()
    assert abs(is_drop.mean() - p) < 4 * math.sqrt(p * (1 - p) / xv.size)
    # SELU's fixed point: mean 0 and variance 1 are kept
    assert abs(ov.mean()) < 0.03 and abs(ov.std() - 1) < 0.03
    out.backward(mt.ones_like(out))
    g = x.grad.numpy()
    np.testing.assert_allclose(g[is_kept & ~is_drop], slope, rtol=1e-6)
    np.testing.assert_array_equal(g[is_drop & ~is_kept], 0.0)


def test_feature_alpha_dropout_whole_channels():
    p = 0.4
    slope, offset, dropped = _alpha_constants(p)
    mt.manual_seed(9)
    x = mt.randn(10, 20, 3, 4, dtype=mt.float64)
    out = MF.feature_alpha_dropout(x, p, training=True).numpy().reshape(200, -1)
    xv = x.numpy().reshape(200, -1)
    is_drop = np.isclose(out, dropped, rtol=1e-12, atol=1e-12).all(1)
    is_kept = np.isclose(out, slope * xv + offset, rtol=1e-12, atol=1e-12).all(1)
    assert (is_drop | is_kept).all() and is_drop.any() and is_kept.any()


@pytest.mark.parametrize("fname,mname", [("alpha_dropout", "AlphaDropout"),
                                         ("feature_alpha_dropout", "FeatureAlphaDropout")])
def test_alpha_dropouts_defaults_eval_p1_and_modules(fname, mname):
    x = torch.randn(3, 4, 5)
    # training defaults to False in the functional form: identity
    close(getattr(MF, fname)(M(x)), getattr(TF, fname)(x), torch.float32)
    for kw in [dict(p=1.0, training=True), dict(p=0.0, training=True), dict(p=0.3, training=False)]:
        close(getattr(MF, fname)(M(x), **kw), getattr(TF, fname)(x, **kw), torch.float32)
    tm, m = getattr(tnn, mname)(0.2), getattr(nn, mname)(0.2)
    assert repr(m) == repr(tm)
    m.eval()
    tm.eval()
    close(m(M(x)), tm(x), torch.float32)
    m.train()
    assert not np.allclose(m(M(x)).numpy(), x.numpy())
    y = M(x)
    mt.manual_seed(0)
    r = getattr(MF, fname)(y, 0.5, True, inplace=True)
    assert r is y and not np.allclose(y.numpy(), x.numpy())

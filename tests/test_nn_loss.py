"""Losses of minitorch.nn against PyTorch: values, input (and target) gradients, reductions, dtypes,
shapes, weights, ignore_index, label smoothing, probability targets, extreme logits, errors, grad_fn
names, modules; finite-difference gradchecks of the fused C kernels."""
import warnings

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn as nn
import minitorch.nn.functional as MF
from minitorch.nn import _functional_loss as FL

torch = pytest.importorskip("torch")
TF = torch.nn.functional

REDUCTIONS = ["none", "mean", "sum"]
DTYPES = [(torch.float32, mt.float32), (torch.float64, mt.float64)]


def M(t, requires_grad=False):
    """minitorch copy of a torch tensor (a new leaf)."""
    r = mt.tensor(t.detach().numpy())
    return r.requires_grad_() if requires_grad else r


def tol(dt):
    return dict(rtol=1e-5, atol=1e-5) if dt == torch.float32 else dict(rtol=1e-10, atol=1e-12)


def close(a, b, dt, equal_nan=False):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy()
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, equal_nan=equal_nan, **tol(dt))


def run_both(tfn, mfn, inputs, dt, grad_idx=(0,), equal_nan=False, check_name=True):
    """Runs tfn on torch tensors and mfn on minitorch copies; compares value, grad_fn name and the
    gradients of inputs[grad_idx] for a random upstream gradient."""
    tin = [t.detach().clone().requires_grad_(i in grad_idx) if t is not None and t.is_floating_point() else t
           for i, t in enumerate(inputs)]
    min_ = [None if t is None else M(t, i in grad_idx and t.is_floating_point()) for i, t in enumerate(inputs)]
    ref = tfn(*tin)
    out = mfn(*min_)
    close(out, ref, dt, equal_nan)
    assert out.dtype == getattr(mt, str(ref.dtype).split(".")[-1])
    if check_name and ref.grad_fn is not None:
        assert out.grad_fn is not None and out.grad_fn.name() == ref.grad_fn.name()
    g = torch.randn(ref.shape, dtype=ref.dtype)
    ref.backward(g)
    out.backward(M(g))
    for i in grad_idx:
        if tin[i] is not None and tin[i].requires_grad:
            close(min_[i].grad, tin[i].grad, dt, equal_nan)
    return out, ref


# ------------------------------------------------------------------------------------------ cross-entropy
CE_SHAPES = [((6, 7), (6,)), ((5, 100), (5,)), ((2, 5, 3, 4), (2, 3, 4)), ((2, 5, 3), (2, 3)), ((2, 4, 2, 3, 2), (2, 2, 3, 2)),
             ((5,), ())]


@pytest.mark.parametrize("shapes", CE_SHAPES, ids=lambda s: "x".join(map(str, s[0])))
@pytest.mark.parametrize("dts", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("use_weight", [False, True])
def test_cross_entropy_class_indices(shapes, dts, reduction, smoothing, use_weight):
    dt, _ = dts
    xs, ts = shapes
    C = xs[1] if len(xs) > 1 else xs[0]
    g = torch.Generator().manual_seed(hash((xs, reduction, smoothing, use_weight)) % 1000)
    x = torch.randn(*xs, dtype=dt, generator=g) * 3
    t = torch.randint(0, C, ts, generator=g)
    if t.dim() and t.numel() > 2:
        t.view(-1)[1] = -100                      # one ignored position
    w = torch.rand(C, dtype=dt, generator=g) + 0.1 if use_weight else None
    run_both(lambda x, t, w: TF.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=smoothing),
             lambda x, t, w: MF.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=smoothing),
             [x, t, w], dt)


@pytest.mark.parametrize("dts", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_custom_ignore_index_and_noncontiguous(dts, reduction):
    dt, _ = dts
    x = torch.randn(7, 9, dtype=dt).t()           # (9, 7), non-contiguous
    t = torch.tensor([0, 3, 3, 6, 2, 3, 1, 5, 4])
    run_both(lambda x, t: TF.cross_entropy(x, t, ignore_index=3, reduction=reduction),
             lambda x, t: MF.cross_entropy(x.t().contiguous().t(), t, ignore_index=3, reduction=reduction),
             [x, t], dt)


def test_cross_entropy_non_contiguous_input_grad():
    x = torch.randn(5, 4, 3, dtype=torch.float64, requires_grad=True)
    t = torch.randint(0, 4, (3, 5))
    ref = TF.cross_entropy(x.permute(2, 1, 0), t)
    ref.backward()
    xm = M(x, True)
    out = MF.cross_entropy(xm.permute(2, 1, 0), M(t))
    out.backward()
    close(out, ref, torch.float64)
    close(xm.grad, x.grad, torch.float64)


@pytest.mark.parametrize("dts", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("xs", [(4, 6), (2, 3, 4, 5), (6,)], ids=lambda s: "x".join(map(str, s)))
def test_cross_entropy_probability_targets(dts, reduction, smoothing, use_weight, xs):
    dt, _ = dts
    C = xs[1] if len(xs) > 1 else xs[0]
    x = torch.randn(*xs, dtype=dt)
    p = torch.rand(*xs, dtype=dt).softmax(1 if len(xs) > 1 else 0)
    w = torch.rand(C, dtype=dt) if use_weight else None
    run_both(lambda x, p, w: TF.cross_entropy(x, p, weight=w, reduction=reduction, label_smoothing=smoothing),
             lambda x, p, w: MF.cross_entropy(x, p, weight=w, reduction=reduction, label_smoothing=smoothing),
             [x, p, w], dt, grad_idx=(0, 1), check_name=False)   # torch's mean divides by a Scalar: DivBackward1


@pytest.mark.parametrize("dts", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_extreme_logits(dts, reduction, smoothing):
    dt, _ = dts
    x = torch.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4], [5e3, 5e3, -5e3], [0.0, 1e4, 1e4]], dtype=dt)
    t = torch.tensor([0, 0, 1, 2])
    out, ref = run_both(lambda x, t: TF.cross_entropy(x, t, reduction=reduction, label_smoothing=smoothing),
                        lambda x, t: MF.cross_entropy(x, t, reduction=reduction, label_smoothing=smoothing),
                        [x, t], dt)
    assert np.isfinite(out.detach().numpy()).all()


def test_cross_entropy_spatial_extreme_and_large_rows():
    # (N, C, H, W) with blocks wider than the kernel's column block, and many classes (OpenMP path)
    x = torch.randn(3, 4, 17, 31, dtype=torch.float64) * 50
    t = torch.randint(0, 4, (3, 17, 31))
    run_both(lambda x, t: TF.cross_entropy(x, t), lambda x, t: MF.cross_entropy(x, t), [x, t], torch.float64)
    x = torch.randn(64, 3000)
    t = torch.randint(0, 3000, (64,))
    run_both(lambda x, t: TF.cross_entropy(x, t, label_smoothing=0.05),
             lambda x, t: MF.cross_entropy(x, t, label_smoothing=0.05), [x, t], torch.float32)


def test_cross_entropy_all_ignored_and_empty():
    x = torch.randn(3, 5, requires_grad=True)
    t = torch.full((3,), -100)
    for red in REDUCTIONS:
        for eps in (0.0, 0.1):
            ref = TF.cross_entropy(x, t, reduction=red, label_smoothing=eps)
            out = MF.cross_entropy(M(x), M(t), reduction=red, label_smoothing=eps)
            close(out, ref, torch.float32, equal_nan=True)
    for red in REDUCTIONS:
        ref = TF.cross_entropy(torch.randn(0, 5), torch.zeros(0, dtype=torch.long), reduction=red)
        out = MF.cross_entropy(mt.randn(0, 5), mt.zeros(0, dtype=mt.int64), reduction=red)
        close(out, ref, torch.float32, equal_nan=True)


def test_cross_entropy_grad_fn_names():
    x = mt.randn(3, 5, requires_grad=True)
    t = mt.tensor([1, 2, 3])
    assert MF.cross_entropy(x, t).grad_fn.name() == "NllLossBackward0"
    assert MF.cross_entropy(x, t, label_smoothing=0.1).grad_fn.name() == "AddBackward0"
    assert MF.nll_loss(x.log_softmax(1), t).grad_fn.name() == "NllLossBackward0"
    x4 = mt.randn(2, 5, 3, 4, requires_grad=True)
    assert MF.cross_entropy(x4, mt.randint(0, 5, (2, 3, 4))).grad_fn.name() == "NllLoss2DBackward0"
    x3 = mt.randn(2, 5, 3, requires_grad=True)
    assert MF.cross_entropy(x3, mt.randint(0, 5, (2, 3)), reduction="none").grad_fn.name() == "ViewBackward0"
    with mt.no_grad():
        assert MF.cross_entropy(x, t).grad_fn is None
    assert MF.cross_entropy(x.detach(), t).requires_grad is False


def test_cross_entropy_saved_input_modified_inplace():
    x = mt.randn(3, 5, requires_grad=True)
    y = x * 1.0
    loss = MF.cross_entropy(y, mt.tensor([1, 2, 3]))
    with mt.no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_cross_entropy_backward_twice():
    x = mt.randn(3, 5, requires_grad=True)
    loss = MF.cross_entropy(x, mt.tensor([1, 2, 3]))
    loss.backward(retain_graph=True)
    g1 = x.grad.clone()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def _errs(tfn, mfn):
    with pytest.raises(Exception) as te:
        tfn()
    with pytest.raises(type(te.value)) as me:
        mfn()
    assert str(me.value) == str(te.value), (str(me.value), str(te.value))


def test_cross_entropy_errors():
    x = torch.randn(3, 5)
    xm = M(x)
    cases = [
        ((x, torch.tensor([1, 2, 5])), {}),                 # IndexError Target 5 is out of bounds.
        ((x, torch.tensor([1, -3, 2])), {}),
        ((x, torch.tensor([1.0, 2.0, 3.0])), {}),            # wrong target dtype
        ((x, torch.tensor([1, 2, 3], dtype=torch.int32)), {}),
        ((x, torch.tensor([1, 2, 3, 4])), {}),               # batch size: ValueError
        ((x, torch.rand(3, 4)), {}),                         # float target of wrong shape
        ((x, torch.randint(0, 5, (3, 5))), {}),              # long target of the input's shape
        ((x, torch.tensor([1, 2, 3])), {"weight": torch.ones(4)}),
        ((x, torch.tensor([1, 2, 3])), {"weight": torch.ones(5, dtype=torch.float64)}),
        ((x, torch.tensor([1, 2, 3])), {"reduction": "foo"}),
        ((x, torch.tensor([1, 2, 3])), {"label_smoothing": 1.5}),
        ((torch.randn(2, 5, 3, 4), torch.randint(0, 5, (2, 3, 5))), {}),
        ((torch.randn(2, 5, 3, 4), torch.randint(0, 5, (2, 3))), {}),
        ((torch.randn(2, 5, 3), torch.randint(0, 5, (2, 4))), {}),
        ((torch.randn(5), torch.tensor([1, 2])), {}),
        ((torch.tensor(1.0), torch.tensor(1)), {}),
        ((torch.randn(3, 5), torch.rand(3, 5)), {"ignore_index": 1}),
    ]
    for (a, b), kw in cases:
        mkw = {k: (M(v) if isinstance(v, torch.Tensor) else v) for k, v in kw.items()}
        _errs(lambda: TF.cross_entropy(a, b, **kw), lambda: MF.cross_entropy(M(a), M(b), **mkw))
    _errs(lambda: TF.nll_loss(x, torch.tensor([1, 2, 5])), lambda: MF.nll_loss(xm, mt.tensor([1, 2, 5])))
    _errs(lambda: TF.nll_loss(x, torch.tensor([0, 1])), lambda: MF.nll_loss(xm, mt.tensor([0, 1])))
    with pytest.raises(NotImplementedError):
        MF.cross_entropy(mt.tensor([[1, 2]]), mt.tensor([0]))
    with pytest.raises(TypeError):
        MF.cross_entropy(xm, [1, 2, 3])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_label_smoothing_negative_is_ignored(reduction):
    x = torch.randn(4, 3)
    t = torch.tensor([0, 1, 2, 1])
    run_both(lambda x, t: TF.cross_entropy(x, t, reduction=reduction, label_smoothing=-0.5),
             lambda x, t: MF.cross_entropy(x, t, reduction=reduction, label_smoothing=-0.5), [x, t], torch.float32)


# ------------------------------------------------------------------------------------------ nll_loss
@pytest.mark.parametrize("shapes", CE_SHAPES, ids=lambda s: "x".join(map(str, s[0])))
@pytest.mark.parametrize("dts", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
def test_nll_loss(shapes, dts, reduction, use_weight):
    dt, _ = dts
    xs, ts = shapes
    C = xs[1] if len(xs) > 1 else xs[0]
    x = torch.randn(*xs, dtype=dt).log_softmax(1 if len(xs) > 1 else 0)
    t = torch.randint(0, C, ts)
    if t.dim() and t.numel() > 2:
        t.view(-1)[0] = 2
        t.view(-1)[1] = 2
    w = torch.rand(C, dtype=dt) if use_weight else None
    run_both(lambda x, t, w: TF.nll_loss(x, t, weight=w, ignore_index=2, reduction=reduction),
             lambda x, t, w: MF.nll_loss(x, t, weight=w, ignore_index=2, reduction=reduction), [x, t, w], dt,
             equal_nan=True)   # a 0-d target equal to ignore_index: mean is 0/0 = nan in both


# composed paths (used on devices without the fused kernel), checked on CPU
@pytest.mark.parametrize("shapes", CE_SHAPES[:3], ids=lambda s: "x".join(map(str, s[0])))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
def test_nll_composed_path(shapes, reduction, use_weight):
    xs, ts = shapes
    C = xs[1]
    x = torch.randn(*xs, dtype=torch.float64).log_softmax(1)
    t = torch.randint(0, C, ts)
    t.view(-1)[0] = -100
    w = torch.rand(C, dtype=torch.float64) if use_weight else None
    red = FL._get_enum(reduction)
    run_both(lambda x, t, w: TF.nll_loss(x, t, weight=w, reduction=reduction),
             lambda x, t, w: FL._nll_composed(x, t, w, -100, red), [x, t, w], torch.float64, check_name=False)
    with pytest.raises(IndexError, match=f"Target {C + 5} is out of bounds."):
        FL._nll_composed(M(x), M(torch.full(ts, C + 5)), None, -100, red)


# ------------------------------------------------------------------------------------------ gradcheck
def test_gradcheck_fused_kernels():
    mt.manual_seed(0)
    t3 = mt.randint(0, 3, (2, 4, 2))
    w3, w5, y34, pw4 = (mt.rand(3, dtype=mt.float64) + 0.5, mt.rand(5, dtype=mt.float64),
                        mt.rand(3, 4, dtype=mt.float64), mt.rand(4, dtype=mt.float64) * 3)
    cases = [
        (lambda x: MF.cross_entropy(x, mt.tensor([1, 0, 3, -100]), reduction="sum"), (4, 5)),
        (lambda x: MF.cross_entropy(x, mt.tensor([1, 0, 3, 2]), weight=mt.tensor([0.5, 1.0, 2.0, 0.3, 1.5],
                                    dtype=mt.float64), label_smoothing=0.2), (4, 5)),
        (lambda x: MF.cross_entropy(x, t3, reduction="none", label_smoothing=0.1), (2, 3, 4, 2)),
        (lambda x: MF.cross_entropy(x, t3, weight=w3), (2, 3, 4, 2)),
        (lambda x: MF.nll_loss(x, mt.tensor([1, 0, 3]), weight=w5), (3, 5)),
        (lambda x: MF.mse_loss(x, mt.ones(3, 4, dtype=mt.float64)), (3, 4)),
        (lambda x: MF.binary_cross_entropy_with_logits(x, y34, pos_weight=pw4), (3, 4)),
        (lambda x: MF.binary_cross_entropy(x.sigmoid(), y34, reduction="sum"), (3, 4)),
    ]
    for fn, shape in cases:
        x = mt.randn(*shape, dtype=mt.float64, requires_grad=True)
        assert mt.autograd.gradcheck(fn, (x,), eps=1e-6, atol=1e-5)


# ------------------------------------------------------------------------------------------ regression losses
@pytest.mark.parametrize("dts", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression_losses(dts, reduction, name):
    dt, _ = dts
    x = torch.randn(4, 5, dtype=dt)
    y = torch.randn(4, 5, dtype=dt)
    run_both(lambda x, y: getattr(TF, name)(x, y, reduction=reduction),
             lambda x, y: getattr(MF, name)(x, y, reduction=reduction), [x, y], dt, grad_idx=(0, 1))


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression_losses_broadcast_weight_and_dtypes(name):
    x = torch.randn(4, 5)
    y = torch.randn(5)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        run_both(lambda x, y: getattr(TF, name)(x, y), lambda x, y: getattr(MF, name)(x, y), [x, y],
                 torch.float32, grad_idx=(0, 1))
    assert any("different to the input size" in str(r.message) for r in rec)
    w = torch.rand(4, 5)
    for red in REDUCTIONS:
        run_both(lambda x, y, w: getattr(TF, name)(x, y, reduction=red, weight=w),
                 lambda x, y, w: getattr(MF, name)(x, y, reduction=red, weight=w), [x, torch.randn(4, 5), w],
                 torch.float32, grad_idx=(0, 1), check_name=False)
    # float32 input, float64 target -> float64 result
    y64 = torch.randn(4, 5, dtype=torch.float64)
    run_both(lambda x, y: getattr(TF, name)(x, y), lambda x, y: getattr(MF, name)(x, y), [x, y64],
             torch.float32, grad_idx=(0, 1))
    _errs(lambda: getattr(TF, name)(x, torch.randn(3)), lambda: getattr(MF, name)(M(x), mt.randn(3)))
    _errs(lambda: getattr(TF, name)(x, x, weight=torch.rand(5)), lambda: getattr(MF, name)(M(x), M(x), weight=mt.rand(5)))
    _errs(lambda: getattr(TF, name)(x, x, reduction="avg"), lambda: getattr(MF, name)(M(x), M(x), reduction="avg"))


def test_mse_integer_inputs():
    _errs(lambda: TF.mse_loss(torch.tensor([1, 2]), torch.tensor([1, 3])),
          lambda: MF.mse_loss(mt.tensor([1, 2]), mt.tensor([1, 3])))


def test_legacy_size_average_reduce():
    x, y = torch.randn(3, 4), torch.randn(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sa, rd in [(False, None), (None, False), (True, True)]:
            ref = TF.mse_loss(x, y, size_average=sa, reduce=rd)
            out = MF.mse_loss(M(x), M(y), size_average=sa, reduce=rd)
            close(out, ref, torch.float32)
            assert nn.MSELoss(size_average=sa, reduce=rd).reduction == torch.nn.MSELoss(size_average=sa,
                                                                                        reduce=rd).reduction


# ------------------------------------------------------------------------------------------ BCE
@pytest.mark.parametrize("dts", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (3, 4), (4,)])
def test_binary_cross_entropy(dts, reduction, weight_shape):
    dt, _ = dts
    p = torch.rand(3, 4, dtype=dt) * 0.98 + 0.01
    y = torch.rand(3, 4, dtype=dt)
    w = torch.rand(*weight_shape, dtype=dt) if weight_shape else None
    run_both(lambda p, y, w: TF.binary_cross_entropy(p, y, weight=w, reduction=reduction),
             lambda p, y, w: MF.binary_cross_entropy(p, y, weight=w, reduction=reduction), [p, y, w], dt,
             grad_idx=(0, 1))


def test_binary_cross_entropy_edges_and_errors():
    # exact 0 and 1: logs clamped at -100, gradient clamped by 1e-12 like torch
    p = torch.tensor([0.0, 1.0, 0.5, 0.0, 1.0], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    for red in REDUCTIONS:
        run_both(lambda p, y: TF.binary_cross_entropy(p, y, reduction=red),
                 lambda p, y: MF.binary_cross_entropy(p, y, reduction=red), [p, y], torch.float64)
    x = torch.tensor([0.5, 0.2])
    _errs(lambda: TF.binary_cross_entropy(torch.tensor([1.5, 0.2]), torch.tensor([1.0, 0.0])),
          lambda: MF.binary_cross_entropy(mt.tensor([1.5, 0.2]), mt.tensor([1.0, 0.0])))
    _errs(lambda: TF.binary_cross_entropy(torch.tensor([float("nan"), 0.2]), torch.tensor([1.0, 0.0])),
          lambda: MF.binary_cross_entropy(mt.tensor([float("nan"), 0.2]), mt.tensor([1.0, 0.0])))
    _errs(lambda: TF.binary_cross_entropy(x, torch.tensor([1.5, 0.0])),
          lambda: MF.binary_cross_entropy(M(x), mt.tensor([1.5, 0.0])))
    _errs(lambda: TF.binary_cross_entropy(x, torch.tensor([1.0])), lambda: MF.binary_cross_entropy(M(x), mt.tensor([1.0])))
    _errs(lambda: TF.binary_cross_entropy(x, torch.tensor([1.0, 0.0], dtype=torch.float64)),
          lambda: MF.binary_cross_entropy(M(x), mt.tensor([1.0, 0.0], dtype=mt.float64)))
    _errs(lambda: TF.binary_cross_entropy(x, x, weight=torch.rand(2, 2)),
          lambda: MF.binary_cross_entropy(M(x), M(x), weight=mt.rand(2, 2)))


@pytest.mark.parametrize("dts", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("use_pos_weight", [False, True])
def test_binary_cross_entropy_with_logits(dts, reduction, use_weight, use_pos_weight):
    dt, _ = dts
    x = torch.randn(3, 4, dtype=dt) * 4
    x[0, 0], x[0, 1], x[1, 0], x[1, 1] = 1e4, -1e4, 80.0, -80.0       # extreme logits stay finite
    y = torch.rand(3, 4, dtype=dt)
    w = torch.rand(3, 4, dtype=dt) if use_weight else None
    pw = torch.rand(4, dtype=dt) * 3 if use_pos_weight else None
    out, _ = run_both(
        lambda x, y, w, pw: TF.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw, reduction=reduction),
        lambda x, y, w, pw: MF.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw, reduction=reduction),
        [x, y, w, pw], dt, grad_idx=(0, 1))
    assert np.isfinite(out.detach().numpy()).all()


def test_binary_cross_entropy_with_logits_errors():
    x = torch.randn(3)
    _errs(lambda: TF.binary_cross_entropy_with_logits(x, torch.rand(2)),
          lambda: MF.binary_cross_entropy_with_logits(M(x), mt.rand(2)))
    _errs(lambda: TF.binary_cross_entropy_with_logits(x, torch.tensor([1, 0, 1])),
          lambda: MF.binary_cross_entropy_with_logits(M(x), mt.tensor([1, 0, 1])))
    _errs(lambda: TF.binary_cross_entropy_with_logits(x, x, pos_weight=torch.rand(2, 3)),
          lambda: MF.binary_cross_entropy_with_logits(M(x), M(x), pos_weight=mt.rand(2, 3)))
    _errs(lambda: TF.binary_cross_entropy_with_logits(x, x, pos_weight=torch.rand(3, requires_grad=True)),
          lambda: MF.binary_cross_entropy_with_logits(M(x), M(x), pos_weight=mt.rand(3, requires_grad=True)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_composed_paths(reduction, monkeypatch):
    """The composed formulas (used off-CPU) agree with torch too."""
    monkeypatch.setattr(FL, "_on_cpu", lambda *ts: False)
    x = torch.randn(3, 4, dtype=torch.float64)
    y = torch.rand(3, 4, dtype=torch.float64)
    pw = torch.rand(4, dtype=torch.float64)
    run_both(lambda x, y: TF.binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction=reduction),
             lambda x, y: MF.binary_cross_entropy_with_logits(x, y, pos_weight=M(pw), reduction=reduction),
             [x, y], torch.float64, grad_idx=(0, 1), check_name=False)
    run_both(lambda x, y: TF.binary_cross_entropy(x.sigmoid(), y, reduction=reduction),
             lambda x, y: MF.binary_cross_entropy(x.sigmoid(), y, reduction=reduction),
             [x, y], torch.float64, grad_idx=(0, 1), check_name=False)
    run_both(lambda x, y: TF.mse_loss(x, y, reduction=reduction), lambda x, y: MF.mse_loss(x, y, reduction=reduction),
             [x, y], torch.float64, grad_idx=(0, 1), check_name=False)
    xc = torch.randn(3, 5, dtype=torch.float64)
    t = torch.tensor([1, -100, 4])
    w = torch.rand(5, dtype=torch.float64)
    run_both(lambda x: TF.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=0.2),
             lambda x: MF.cross_entropy(x, M(t), weight=M(w), reduction=reduction, label_smoothing=0.2),
             [xc], torch.float64, check_name=False)


# ------------------------------------------------------------------------------------------ modules
MODULE_CASES = [
    ("MSELoss", {}, lambda: (torch.randn(4, 3), torch.randn(4, 3))),
    ("L1Loss", {"reduction": "sum"}, lambda: (torch.randn(4, 3), torch.randn(4, 3))),
    ("CrossEntropyLoss", {"weight": torch.rand(3), "ignore_index": 1, "label_smoothing": 0.1},
     lambda: (torch.randn(4, 3), torch.tensor([0, 1, 2, 2]))),
    ("CrossEntropyLoss", {"reduction": "none"}, lambda: (torch.randn(2, 3, 4, 4), torch.randint(0, 3, (2, 4, 4)))),
    ("NLLLoss", {"weight": torch.rand(3)}, lambda: (torch.randn(4, 3).log_softmax(1), torch.tensor([0, 1, 2, 2]))),
    ("BCELoss", {"weight": torch.rand(3)}, lambda: (torch.rand(4, 3), torch.rand(4, 3))),
    ("BCEWithLogitsLoss", {"pos_weight": torch.rand(3), "weight": torch.rand(4, 3)},
     lambda: (torch.randn(4, 3), torch.rand(4, 3))),
]


@pytest.mark.parametrize("name,kw,make", MODULE_CASES, ids=[c[0] for c in MODULE_CASES])
def test_loss_modules(name, kw, make):
    tm = getattr(torch.nn, name)(**kw)
    mm = getattr(nn, name)(**{k: (M(v) if isinstance(v, torch.Tensor) else v) for k, v in kw.items()})
    assert isinstance(mm, nn.Module)
    assert repr(mm) == repr(tm)
    assert list(mm.state_dict().keys()) == list(tm.state_dict().keys())
    assert [n for n, _ in mm.named_buffers()] == [n for n, _ in tm.named_buffers()]
    assert list(mm.parameters()) == []
    assert mm.reduction == tm.reduction
    x, y = make()
    run_both(lambda x, y: tm(x, y), lambda x, y: mm(x, y), [x, y], torch.float32)


def test_loss_module_attributes():
    ce = nn.CrossEntropyLoss()
    assert ce.weight is None and ce.ignore_index == -100 and ce.label_smoothing == 0.0 and ce.reduction == "mean"
    b = nn.BCEWithLogitsLoss()
    assert b.weight is None and b.pos_weight is None
    assert nn.NLLLoss(ignore_index=3).ignore_index == 3
    w = mt.rand(3)
    assert nn.BCELoss(weight=w).weight is w

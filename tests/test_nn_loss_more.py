"""The losses beyond MSE/L1/CE/NLL/BCE, and cosine_similarity / pairwise_distance, against PyTorch: values and
the gradients of every floating input (input, target, var, ...) on float32 / float64, every reduction, odd
shapes, 0-d / 1-D forms, non-contiguous inputs, the kink points, weights, modules (repr, legacy
size_average/reduce) and the exception types for bad input."""
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

REDUCTIONS = ["none", "mean", "sum"]
DTYPES = [torch.float32, torch.float64]


def M(t, requires_grad=False):
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


def both(tfn, mfn, inputs, grad=None, equal_nan=False, transform=None, rtol=None):
    """tfn(*torch inputs) vs mfn(*minitorch copies): value and the gradients of every floating input (or of the
    indices in grad) for a random upstream gradient."""
    grad = [i for i, t in enumerate(inputs) if isinstance(t, torch.Tensor) and t.is_floating_point()] \
        if grad is None else grad
    tin = [t.detach().clone().requires_grad_(i in grad) if isinstance(t, torch.Tensor) else t
           for i, t in enumerate(inputs)]
    min_ = [M(t, i in grad) if isinstance(t, torch.Tensor) else t for i, t in enumerate(inputs)]
    tr = transform or (lambda *v: v)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = tfn(*tr(*tin))
        out = mfn(*tr(*min_))
    dt = ref.dtype
    close(out, ref, dt, equal_nan)
    g = torch.randn(ref.shape, dtype=dt)
    ref.backward(g)
    out.backward(M(g))
    for i in grad:
        if rtol is None:
            close(min_[i].grad, tin[i].grad, dt, equal_nan)
        else:
            # entries far below the largest (or below float64 rounding of O(1) values) are rounding noise
            want = tin[i].grad.numpy()
            np.testing.assert_allclose(min_[i].grad.numpy(), want, rtol=rtol,
                                       atol=max(rtol * np.abs(want).max(), 1e-12))
    return out, ref


def gen(seed):
    return torch.Generator().manual_seed(seed)


def pm1(shape, g):
    return torch.randint(0, 2, shape, generator=g) * 2 - 1


# ---------------------------------------------------------------- smooth_l1 / huber
@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [1.0, 0.5, 0.0, 3.0])
@pytest.mark.parametrize("shape", [(3, 5, 7), (), (1, 4)], ids=["odd", "0d", "batch1"])
def test_smooth_l1(dt, reduction, beta, shape):
    g = gen(1)
    x, y = torch.randn(shape, dtype=dt, generator=g) * 2, torch.randn(shape, dtype=dt, generator=g) * 2
    both(lambda a, b: TF.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
         lambda a, b: MF.smooth_l1_loss(a, b, reduction=reduction, beta=beta), [x, y])
    both(lambda a, b: tnn.SmoothL1Loss(reduction=reduction, beta=beta)(a, b),
         lambda a, b: nn.SmoothL1Loss(reduction=reduction, beta=beta)(a, b), [x, y])


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [1.0, 0.3, 2.5])
@pytest.mark.parametrize("weighted", [False, True])
def test_huber(dt, reduction, delta, weighted):
    g = gen(2)
    x, y = torch.randn(4, 7, dtype=dt, generator=g) * 2, torch.randn(4, 7, dtype=dt, generator=g) * 2
    w = torch.rand(4, 7, dtype=dt, generator=g) if weighted else None
    both(lambda a, b, w: TF.huber_loss(a, b, reduction=reduction, delta=delta, weight=w),
         lambda a, b, w: MF.huber_loss(a, b, reduction=reduction, delta=delta, weight=w), [x, y, w], grad=[0, 1])
    if not weighted:
        both(lambda a, b: tnn.HuberLoss(reduction, delta)(a, b), lambda a, b: nn.HuberLoss(reduction, delta)(a, b),
             [x, y])


@pytest.mark.parametrize("fn", ["smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
def test_smooth_l1_huber_kinks_noncontig_and_broadcast(fn, dt):
    k = 0.75
    kw = {"beta": k} if fn == "smooth_l1_loss" else {"delta": k}
    y = torch.zeros(7, dtype=dt)
    x = torch.tensor([0.0, k, -k, 2 * k, -0.1, 0.1, 5.0], dtype=dt)
    both(lambda a, b: getattr(TF, fn)(a, b, reduction="sum", **kw),
         lambda a, b: getattr(MF, fn)(a, b, reduction="sum", **kw), [x, y])
    a, b = torch.randn(5, 6, dtype=dt), torch.randn(6, 5, dtype=dt)
    both(lambda a, b: getattr(TF, fn)(a.t(), b, **kw), lambda a, b: getattr(MF, fn)(a.t(), b, **kw), [a, b])
    # broadcast target (with torch's size warning)
    a, b = torch.randn(3, 4, dtype=dt), torch.randn(4, dtype=dt)
    with pytest.warns(UserWarning, match="different to the input size"):
        getattr(MF, fn)(M(a), M(b), **kw)
    both(lambda a, b: getattr(TF, fn)(a, b, reduction="none", **kw),
         lambda a, b: getattr(MF, fn)(a, b, reduction="none", **kw), [a, b])


# ---------------------------------------------------------------- kl_div
@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (6,), ()], ids=["2d", "3d", "1d", "0d"])
def test_kl_div(dt, reduction, log_target, shape):
    g = gen(3)
    x = torch.randn(shape, dtype=dt, generator=g).log_softmax(-1) if shape else torch.tensor(-0.7, dtype=dt)
    t = torch.rand(shape, dtype=dt, generator=g) + 0.05
    if log_target:
        t = t.log()
    both(lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target),
         lambda a, b: MF.kl_div(a, b, reduction=reduction, log_target=log_target), [x, t])
    both(lambda a, b: tnn.KLDivLoss(reduction=reduction, log_target=log_target)(a, b),
         lambda a, b: nn.KLDivLoss(reduction=reduction, log_target=log_target)(a, b), [x, t])


def test_kl_div_zero_targets_and_mean_warning():
    x = torch.randn(3, 4, dtype=torch.float64).log_softmax(1)
    t = torch.tensor([[0.0, 0.5, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0], [0.25] * 4], dtype=torch.float64)
    # the xlogy term is 0 where target == 0; target's gradient there is NaN in torch as well
    both(lambda a, b: TF.kl_div(a, b, reduction="sum"), lambda a, b: MF.kl_div(a, b, reduction="sum"), [x, t],
         equal_nan=True)
    with pytest.warns(UserWarning, match="batchmean"):
        MF.kl_div(M(x), M(t))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MF.kl_div(M(x), M(t), reduction="batchmean")


# ---------------------------------------------------------------- poisson / gaussian NLL
@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll(dt, reduction, log_input, full):
    g = gen(4)
    x = torch.randn(5, 6, dtype=dt, generator=g) if log_input else torch.rand(5, 6, dtype=dt, generator=g) + 0.1
    t = torch.poisson(torch.full((5, 6), 2.0, dtype=dt), generator=g)
    t[0, :3] = torch.tensor([0.0, 1.0, 2.0])
    both(lambda a, b: TF.poisson_nll_loss(a, b, log_input, full, reduction=reduction),
         lambda a, b: MF.poisson_nll_loss(a, b, log_input, full, reduction=reduction), [x, t], equal_nan=True)
    both(lambda a, b: tnn.PoissonNLLLoss(log_input, full, eps=1e-3, reduction=reduction)(a, b),
         lambda a, b: nn.PoissonNLLLoss(log_input, full, eps=1e-3, reduction=reduction)(a, b), [x, t],
         equal_nan=True)
    # target gradient where it is finite (target > 0)
    t = t + 0.5
    both(lambda a, b: TF.poisson_nll_loss(a, b, log_input, full, reduction=reduction),
         lambda a, b: MF.poisson_nll_loss(a, b, log_input, full, reduction=reduction), [x, t])


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_kind", ["same", "per_sample", "per_sample_kept", "float", "tiny"])
def test_gaussian_nll(dt, reduction, full, var_kind):
    g = gen(5)
    x, t = torch.randn(4, 3, dtype=dt, generator=g), torch.randn(4, 3, dtype=dt, generator=g)
    var = {"same": torch.rand(4, 3, dtype=dt, generator=g) + 0.1,
           "per_sample": torch.rand(4, dtype=dt, generator=g) + 0.1,
           "per_sample_kept": torch.rand(4, 1, dtype=dt, generator=g) + 0.1,
           "float": 0.7,
           "tiny": torch.tensor([[1e-9, 0.5, 0.0]] * 4, dtype=dt)}[var_kind]
    both(lambda a, b, v: TF.gaussian_nll_loss(a, b, v, full=full, reduction=reduction),
         lambda a, b, v: MF.gaussian_nll_loss(a, b, v, full=full, reduction=reduction), [x, t, var])
    both(lambda a, b, v: tnn.GaussianNLLLoss(full=full, eps=1e-3, reduction=reduction)(a, b, v),
         lambda a, b, v: nn.GaussianNLLLoss(full=full, eps=1e-3, reduction=reduction)(a, b, v), [x, t, var])


# ---------------------------------------------------------------- margin / embedding losses
@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 0.5, -0.2])
@pytest.mark.parametrize("shape", [(4, 5), (7,), ()], ids=["2d", "1d", "0d"])
def test_hinge_embedding(dt, reduction, margin, shape):
    g = gen(6)
    x = torch.randn(shape, dtype=dt, generator=g)
    y = pm1(shape, g).to(dt)
    both(lambda a, b: TF.hinge_embedding_loss(a, b, margin, reduction=reduction),
         lambda a, b: MF.hinge_embedding_loss(a, b, margin, reduction=reduction), [x, y], grad=[0])
    both(lambda a, b: tnn.HingeEmbeddingLoss(margin, reduction=reduction)(a, b),
         lambda a, b: nn.HingeEmbeddingLoss(margin, reduction=reduction)(a, b), [x, y], grad=[0])


def test_hinge_embedding_kink_and_other_targets():
    x = torch.tensor([1.0, 0.0, 2.0, -1.0, 1.0, 0.3], dtype=torch.float64)
    y = torch.tensor([-1.0, -1.0, 1.0, 1.0, 0.0, 0.5], dtype=torch.float64)   # x == margin; targets not +-1
    both(lambda a, b: TF.hinge_embedding_loss(a, b, reduction="none"),
         lambda a, b: MF.hinge_embedding_loss(a, b, reduction="none"), [x, y], grad=[0])


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.5])
@pytest.mark.parametrize("shape", [(9,), (), (3, 4)], ids=["1d", "0d", "2d"])
def test_margin_ranking(dt, reduction, margin, shape):
    g = gen(7)
    a, b = torch.randn(shape, dtype=dt, generator=g), torch.randn(shape, dtype=dt, generator=g)
    y = pm1(shape, g).to(dt)
    both(lambda a, b, y: TF.margin_ranking_loss(a, b, y, margin, reduction=reduction),
         lambda a, b, y: MF.margin_ranking_loss(a, b, y, margin, reduction=reduction), [a, b, y])
    both(lambda a, b, y: tnn.MarginRankingLoss(margin, reduction=reduction)(a, b, y),
         lambda a, b, y: nn.MarginRankingLoss(margin, reduction=reduction)(a, b, y), [a, b, y])


def test_margin_ranking_kink():
    a = torch.tensor([1.0, 2.0, 0.0], dtype=torch.float64)
    b = torch.tensor([1.0, 1.5, 0.5], dtype=torch.float64)
    y = torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64)
    both(lambda a, b, y: TF.margin_ranking_loss(a, b, y, 0.5, reduction="none"),
         lambda a, b, y: MF.margin_ranking_loss(a, b, y, 0.5, reduction="none"), [a, b, y])


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3, -0.2])
def test_cosine_embedding(dt, reduction, margin):
    g = gen(8)
    a, b = torch.randn(6, 5, dtype=dt, generator=g), torch.randn(6, 5, dtype=dt, generator=g)
    y = pm1((6,), g).to(dt)
    both(lambda a, b, y: TF.cosine_embedding_loss(a, b, y, margin, reduction=reduction),
         lambda a, b, y: MF.cosine_embedding_loss(a, b, y, margin, reduction=reduction), [a, b, y], grad=[0, 1])
    both(lambda a, b, y: tnn.CosineEmbeddingLoss(margin, reduction=reduction)(a, b, y),
         lambda a, b, y: nn.CosineEmbeddingLoss(margin, reduction=reduction)(a, b, y), [a, b, y], grad=[0, 1])
    # 1-D inputs with a 0-d target; non-contiguous 2-D inputs
    for yy in (1.0, -1.0):
        both(lambda a, b, y: TF.cosine_embedding_loss(a, b, y, margin, reduction=reduction),
             lambda a, b, y: MF.cosine_embedding_loss(a, b, y, margin, reduction=reduction),
             [a[0], b[0], torch.tensor(yy, dtype=dt)], grad=[0, 1])
    both(lambda a, b, y: TF.cosine_embedding_loss(a.t(), b.t(), y, margin, reduction=reduction),
         lambda a, b, y: MF.cosine_embedding_loss(a.t(), b.t(), y, margin, reduction=reduction),
         [a.t().contiguous(), b.t().contiguous(), y], grad=[0, 1])


def test_cosine_embedding_zero_vector_and_int_target():
    a = torch.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]], dtype=torch.float64)
    b = torch.tensor([[1.0, 0.0, 0.0], [1.0, 2.0, 3.0]], dtype=torch.float64)
    y = torch.tensor([1, -1])
    # the zero row's gradient is ~1/sqrt(1e-12): rounding is amplified as much, so a looser rtol
    both(lambda a, b, y: TF.cosine_embedding_loss(a, b, y, reduction="none"),
         lambda a, b, y: MF.cosine_embedding_loss(a, b, y, reduction="none"), [a, b, y], grad=[0, 1], rtol=1e-7)


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("shape", [(5, 4), (4,)], ids=["2d", "1d"])
def test_triplet_margin(dt, reduction, p, swap, shape):
    g = gen(9)
    a, pos, neg = (torch.randn(shape, dtype=dt, generator=g) for _ in range(3))
    both(lambda a, b, c: TF.triplet_margin_loss(a, b, c, margin=2.0, p=p, swap=swap, reduction=reduction),
         lambda a, b, c: MF.triplet_margin_loss(a, b, c, margin=2.0, p=p, swap=swap, reduction=reduction),
         [a, pos, neg])
    both(lambda a, b, c: tnn.TripletMarginLoss(1.5, p, 1e-3, swap, reduction=reduction)(a, b, c),
         lambda a, b, c: nn.TripletMarginLoss(1.5, p, 1e-3, swap, reduction=reduction)(a, b, c), [a, pos, neg])


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("dist", ["default", "cosine", "l1"])
def test_triplet_margin_with_distance(dt, reduction, swap, dist):
    g = gen(10)
    a, pos, neg = (torch.randn(5, 4, dtype=dt, generator=g) for _ in range(3))
    tdist = {"default": None, "cosine": lambda x, y: 1.0 - TF.cosine_similarity(x, y),
             "l1": tnn.PairwiseDistance(p=1)}[dist]
    mdist = {"default": None, "cosine": lambda x, y: 1.0 - MF.cosine_similarity(x, y),
             "l1": nn.PairwiseDistance(p=1)}[dist]
    both(lambda a, b, c: TF.triplet_margin_with_distance_loss(a, b, c, distance_function=tdist, margin=0.8,
                                                              swap=swap, reduction=reduction),
         lambda a, b, c: MF.triplet_margin_with_distance_loss(a, b, c, distance_function=mdist, margin=0.8,
                                                              swap=swap, reduction=reduction), [a, pos, neg])
    tm = tnn.TripletMarginWithDistanceLoss(distance_function=tdist, margin=0.8, swap=swap, reduction=reduction)
    m = nn.TripletMarginWithDistanceLoss(distance_function=mdist, margin=0.8, swap=swap, reduction=reduction)
    assert repr(m) == repr(tm)
    both(lambda a, b, c: tm(a, b, c), lambda a, b, c: m(a, b, c), [a, pos, neg])


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("margin", [1.0, 0.4])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_margin(dt, reduction, p, margin, weighted):
    g = gen(11)
    x = torch.randn(6, 5, dtype=dt, generator=g)
    t = torch.randint(0, 5, (6,), generator=g)
    w = torch.rand(5, dtype=dt, generator=g) + 0.2 if weighted else None
    both(lambda x, t, w: TF.multi_margin_loss(x, t, p, margin, w, reduction=reduction),
         lambda x, t, w: MF.multi_margin_loss(x, t, p, margin, w, reduction=reduction), [x, t, w], grad=[0])
    both(lambda x, t: tnn.MultiMarginLoss(p, margin, w, reduction=reduction)(x, t),
         lambda x, t: nn.MultiMarginLoss(p, margin, None if w is None else M(w), reduction=reduction)(x, t),
         [x, t], grad=[0])
    # 1-D input with a 0-d or one-element target; non-contiguous input
    for tt in (t[0], t[:1]):
        both(lambda x, t: TF.multi_margin_loss(x, t, p, margin, reduction=reduction),
             lambda x, t: MF.multi_margin_loss(x, t, p, margin, reduction=reduction), [x[0], tt], grad=[0])
    both(lambda x, t: TF.multi_margin_loss(x.t(), t, p, margin, reduction=reduction),
         lambda x, t: MF.multi_margin_loss(x.t(), t, p, margin, reduction=reduction),
         [x.t().contiguous(), t], grad=[0])


def test_multi_margin_kink():
    x = torch.tensor([[1.0, 0.0, 2.0], [0.5, 0.5, -0.5]], dtype=torch.float64)   # z == 0 at x[0, 1], x[1, ...]
    t = torch.tensor([0, 1])
    both(lambda x, t: TF.multi_margin_loss(x, t, reduction="none"),
         lambda x, t: MF.multi_margin_loss(x, t, reduction="none"), [x, t])
    both(lambda x, t: TF.multi_margin_loss(x, t, p=2, margin=1.0, reduction="sum"),
         lambda x, t: MF.multi_margin_loss(x, t, p=2, margin=1.0, reduction="sum"), [x, t])


MLM_TARGETS = [
    [[3, 0, -1, 1], [0, 1, 2, 3], [1, -1, 0, 0], [-1, 2, 1, 0], [2, 2, -1, 0]],   # stops at the first -1; duplicates
]


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin(dt, reduction):
    g = gen(12)
    x = torch.randn(5, 4, dtype=dt, generator=g)
    t = torch.tensor(MLM_TARGETS[0])
    both(lambda x, t: TF.multilabel_margin_loss(x, t, reduction=reduction),
         lambda x, t: MF.multilabel_margin_loss(x, t, reduction=reduction), [x, t])
    both(lambda x, t: tnn.MultiLabelMarginLoss(reduction=reduction)(x, t),
         lambda x, t: nn.MultiLabelMarginLoss(reduction=reduction)(x, t), [x, t])
    both(lambda x, t: TF.multilabel_margin_loss(x, t, reduction=reduction),
         lambda x, t: MF.multilabel_margin_loss(x, t, reduction=reduction), [x[0], t[0]])
    both(lambda x, t: TF.multilabel_margin_loss(x.t(), t, reduction=reduction),
         lambda x, t: MF.multilabel_margin_loss(x.t(), t, reduction=reduction), [x.t().contiguous(), t])
    # the kink: 1 - (x[j] - x[k]) == 0
    xk = torch.tensor([[2.0, 1.0, 0.0, 5.0]], dtype=dt)
    both(lambda x, t: TF.multilabel_margin_loss(x, t, reduction=reduction),
         lambda x, t: MF.multilabel_margin_loss(x, t, reduction=reduction), [xk, torch.tensor([[0, -1, 0, 0]])])


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin(dt, reduction, weighted):
    g = gen(13)
    x = torch.randn(5, 4, dtype=dt, generator=g) * 3
    y = torch.randint(0, 2, (5, 4), generator=g).to(dt)
    w = torch.rand(4, dtype=dt, generator=g) if weighted else None
    both(lambda x, y, w: TF.multilabel_soft_margin_loss(x, y, w, reduction=reduction),
         lambda x, y, w: MF.multilabel_soft_margin_loss(x, y, w, reduction=reduction), [x, y, w], grad=[0, 1])
    both(lambda x, y: tnn.MultiLabelSoftMarginLoss(w, reduction=reduction)(x, y),
         lambda x, y: nn.MultiLabelSoftMarginLoss(None if w is None else M(w), reduction=reduction)(x, y),
         [x, y])
    # large logits stay finite, as in torch
    xl = torch.tensor([[100.0, -100.0, 1e4, -1e4]], dtype=dt)
    out, _ = both(lambda x, y: TF.multilabel_soft_margin_loss(x, y, reduction=reduction),
                  lambda x, y: MF.multilabel_soft_margin_loss(x, y, reduction=reduction),
                  [xl, torch.tensor([[0.0, 1.0, 0.0, 1.0]], dtype=dt)])
    assert np.isfinite(out.detach().numpy()).all()


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 5), (7,), ()], ids=["2d", "1d", "0d"])
def test_soft_margin(dt, reduction, shape):
    g = gen(14)
    x = torch.randn(shape, dtype=dt, generator=g) * 2
    y = pm1(shape, g).to(dt)
    both(lambda x, y: TF.soft_margin_loss(x, y, reduction=reduction),
         lambda x, y: MF.soft_margin_loss(x, y, reduction=reduction), [x, y], grad=[0])
    both(lambda x, y: tnn.SoftMarginLoss(reduction=reduction)(x, y),
         lambda x, y: nn.SoftMarginLoss(reduction=reduction)(x, y), [x, y], grad=[0])


# ---------------------------------------------------------------- cosine_similarity / pairwise_distance
@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shapes,dim", [(((4, 5), (4, 5)), 1), (((4, 5), (5,)), 1), (((4, 5), (4, 5)), 0),
                                        (((2, 3, 4), (2, 3, 4)), -1), (((3,), (3,)), 0), (((1, 6), (3, 6)), 1),
                                        (((2, 1, 4), (3, 4)), 2)])
def test_cosine_similarity(dt, shapes, dim):
    g = gen(15)
    a, b = (torch.randn(s, dtype=dt, generator=g) for s in shapes)
    both(lambda a, b: TF.cosine_similarity(a, b, dim), lambda a, b: MF.cosine_similarity(a, b, dim), [a, b])
    both(lambda a, b: tnn.CosineSimilarity(dim, 1e-3)(a, b), lambda a, b: nn.CosineSimilarity(dim, 1e-3)(a, b),
         [a, b])
    both(lambda a, b: torch.cosine_similarity(a, b, dim), lambda a, b: mt.cosine_similarity(a, b, dim), [a, b])


def test_cosine_similarity_small_norms_and_noncontig():
    a = torch.tensor([[0.0, 0.0, 0.0], [1e-9, 0.0, 0.0], [1.0, 2.0, 3.0]], dtype=torch.float64)
    b = torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [-1.0, 2.0, 0.5]], dtype=torch.float64)
    both(TF.cosine_similarity, MF.cosine_similarity, [a, b])
    both(lambda a, b: TF.cosine_similarity(a, b, eps=0.5), lambda a, b: MF.cosine_similarity(a, b, eps=0.5),
         [a, b])
    x, y = torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64)
    both(lambda a, b: TF.cosine_similarity(a.t(), b.t()), lambda a, b: MF.cosine_similarity(a.t(), b.t()), [x, y])


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shapes", [((4, 5), (4, 5)), ((4, 5), (5,)), ((5,), (5,)), ((2, 3, 4), (2, 3, 4)),
                                    ((), ())], ids=["2d", "bcast", "1d", "3d", "0d"])
def test_pairwise_distance(dt, p, keepdim, shapes):
    g = gen(16)
    a, b = (torch.randn(s, dtype=dt, generator=g) for s in shapes)
    both(lambda a, b: TF.pairwise_distance(a, b, p, 1e-6, keepdim),
         lambda a, b: MF.pairwise_distance(a, b, p, 1e-6, keepdim), [a, b])
    both(lambda a, b: tnn.PairwiseDistance(p, 1e-2, keepdim)(a, b),
         lambda a, b: nn.PairwiseDistance(p, 1e-2, keepdim)(a, b), [a, b])
    both(lambda a, b: torch.pairwise_distance(a, b, p), lambda a, b: mt.pairwise_distance(a, b, p), [a, b])


# ---------------------------------------------------------------- modules: repr, legacy arguments
LOSS_MODULES = [
    ("SmoothL1Loss", (), {}), ("SmoothL1Loss", (), {"beta": 0.5, "reduction": "sum"}),
    ("HuberLoss", (), {}), ("HuberLoss", ("none", 2.0), {}),
    ("KLDivLoss", (), {}), ("KLDivLoss", (), {"reduction": "batchmean", "log_target": True}),
    ("PoissonNLLLoss", (), {}), ("PoissonNLLLoss", (False, True), {"eps": 1e-4}),
    ("GaussianNLLLoss", (), {}), ("GaussianNLLLoss", (), {"full": True, "eps": 1e-3}),
    ("HingeEmbeddingLoss", (), {}), ("HingeEmbeddingLoss", (0.5,), {}),
    ("MarginRankingLoss", (), {}), ("MarginRankingLoss", (0.2,), {}),
    ("CosineEmbeddingLoss", (), {}), ("CosineEmbeddingLoss", (0.1,), {}),
    ("TripletMarginLoss", (), {}), ("TripletMarginLoss", (2.0, 1.0, 1e-3, True), {}),
    ("TripletMarginWithDistanceLoss", (), {}), ("TripletMarginWithDistanceLoss", (), {"margin": 3.0}),
    ("MultiMarginLoss", (), {}), ("MultiMarginLoss", (2, 0.5), {}),
    ("MultiLabelMarginLoss", (), {}), ("MultiLabelSoftMarginLoss", (), {}), ("SoftMarginLoss", (), {}),
    ("CosineSimilarity", (), {}), ("CosineSimilarity", (0, 1e-3), {}),
    ("PairwiseDistance", (), {}), ("PairwiseDistance", (1.0, 1e-3, True), {}),
]


@pytest.mark.parametrize("i", range(len(LOSS_MODULES)), ids=lambda i: f"{LOSS_MODULES[i][0]}{i}")
def test_loss_module_repr_and_attributes(i):
    name, args, kw = LOSS_MODULES[i]
    tm, m = getattr(tnn, name)(*args, **kw), getattr(nn, name)(*args, **kw)
    assert repr(m) == repr(tm)
    for attr in ("reduction", "margin", "p", "eps", "swap", "full", "log_input", "log_target", "beta", "delta",
                 "dim", "norm", "keepdim"):
        if hasattr(tm, attr):
            assert getattr(m, attr) == getattr(tm, attr), attr
    assert (m.weight is None) == (tm.weight is None) if hasattr(tm, "weight") else not hasattr(m, "weight")


LEGACY = ["SmoothL1Loss", "KLDivLoss", "PoissonNLLLoss", "HingeEmbeddingLoss", "MarginRankingLoss",
          "CosineEmbeddingLoss", "TripletMarginLoss", "MultiMarginLoss", "MultiLabelMarginLoss",
          "MultiLabelSoftMarginLoss", "SoftMarginLoss"]


@pytest.mark.parametrize("name", LEGACY)
@pytest.mark.parametrize("size_average,reduce", [(False, None), (None, False), (True, True), (False, True)])
def test_legacy_size_average_reduce(name, size_average, reduce):
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        m = getattr(nn, name)(size_average=size_average, reduce=reduce)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = getattr(tnn, name)(size_average=size_average, reduce=reduce)
    assert m.reduction == tm.reduction


LEGACY_F = {
    "smooth_l1_loss": lambda F, lib, kw: F.smooth_l1_loss(lib.ones(3) * 2, lib.zeros(3), **kw),
    "kl_div": lambda F, lib, kw: F.kl_div(lib.zeros(2, 3), lib.ones(2, 3) / 3, **kw),
    "poisson_nll_loss": lambda F, lib, kw: F.poisson_nll_loss(lib.ones(3), lib.ones(3) * 2, **kw),
    "hinge_embedding_loss": lambda F, lib, kw: F.hinge_embedding_loss(lib.ones(3) * 0.5, -lib.ones(3), **kw),
    "margin_ranking_loss": lambda F, lib, kw: F.margin_ranking_loss(lib.ones(3), lib.ones(3) * 2, lib.ones(3),
                                                                    **kw),
    "soft_margin_loss": lambda F, lib, kw: F.soft_margin_loss(lib.ones(3), lib.ones(3), **kw),
    "multilabel_soft_margin_loss": lambda F, lib, kw: F.multilabel_soft_margin_loss(lib.ones(2, 3),
                                                                                    lib.ones(2, 3), **kw),
}


@pytest.mark.parametrize("name", sorted(LEGACY_F))
@pytest.mark.parametrize("size_average,reduce", [(False, None), (None, False)])
def test_legacy_functional_args(name, size_average, reduce):
    kw = dict(size_average=size_average, reduce=reduce)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = LEGACY_F[name](TF, torch, kw)
        out = LEGACY_F[name](MF, mt, kw)
    close(out, ref, torch.float32)


# ---------------------------------------------------------------- bad input
def _t(lib, *shape, **kw):
    return lib.ones(shape, **kw)


BAD = {
    "smooth_l1_neg_beta": lambda F, lib: F.smooth_l1_loss(_t(lib, 3), _t(lib, 3), beta=-1.0),
    "smooth_l1_bad_reduction": lambda F, lib: F.smooth_l1_loss(_t(lib, 3), _t(lib, 3), reduction="bad"),
    "smooth_l1_bcast_mismatch": lambda F, lib: F.smooth_l1_loss(_t(lib, 3), _t(lib, 4)),
    "huber_delta0": lambda F, lib: F.huber_loss(_t(lib, 3), _t(lib, 3), delta=0.0),
    "huber_neg_delta": lambda F, lib: F.huber_loss(_t(lib, 3), _t(lib, 3), delta=-1.0),
    "huber_weight_size": lambda F, lib: F.huber_loss(_t(lib, 3), _t(lib, 3), weight=_t(lib, 2)),
    "huber_module_delta_type": lambda F, lib: lib.nn.HuberLoss(delta="1"),
    "kl_bad_reduction": lambda F, lib: F.kl_div(_t(lib, 3), _t(lib, 3), reduction="bad"),
    "kl_bcast_mismatch": lambda F, lib: F.kl_div(_t(lib, 3), _t(lib, 4), reduction="sum"),
    "poisson_bad_reduction": lambda F, lib: F.poisson_nll_loss(_t(lib, 3), _t(lib, 3), reduction="bad"),
    "gaussian_neg_var": lambda F, lib: F.gaussian_nll_loss(_t(lib, 3), _t(lib, 3), -_t(lib, 3)),
    "gaussian_neg_float_var": lambda F, lib: F.gaussian_nll_loss(_t(lib, 3), _t(lib, 3), -1.0),
    "gaussian_var_size": lambda F, lib: F.gaussian_nll_loss(_t(lib, 3, 4), _t(lib, 3, 4), _t(lib, 4)),
    "gaussian_var_size2": lambda F, lib: F.gaussian_nll_loss(_t(lib, 3, 4), _t(lib, 3, 4), _t(lib, 2, 2)),
    "gaussian_bad_reduction": lambda F, lib: F.gaussian_nll_loss(_t(lib, 3), _t(lib, 3), _t(lib, 3),
                                                                 reduction="bad"),
    "gaussian_int_var": lambda F, lib: F.gaussian_nll_loss(_t(lib, 3), _t(lib, 3), 1),
    "hinge_bad_reduction": lambda F, lib: F.hinge_embedding_loss(_t(lib, 3), _t(lib, 3), reduction="x"),
    "ranking_dims": lambda F, lib: F.margin_ranking_loss(_t(lib, 3, 4), _t(lib, 3, 4), _t(lib, 4)),
    "ranking_shape": lambda F, lib: F.margin_ranking_loss(_t(lib, 3, 4), _t(lib, 3, 4), _t(lib, 2, 4)),
    "cos_emb_target_2d": lambda F, lib: F.cosine_embedding_loss(_t(lib, 3, 4), _t(lib, 3, 4), _t(lib, 3, 1)),
    "cos_emb_1d_target_1d_inputs": lambda F, lib: F.cosine_embedding_loss(_t(lib, 4), _t(lib, 4), _t(lib, 4)),
    "cos_emb_0d_target_2d_inputs": lambda F, lib: F.cosine_embedding_loss(_t(lib, 3, 4), _t(lib, 3, 4),
                                                                          _t(lib)),
    "cos_emb_mixed": lambda F, lib: F.cosine_embedding_loss(_t(lib, 3, 4), _t(lib, 4), _t(lib, 3)),
    "triplet_margin0": lambda F, lib: F.triplet_margin_loss(_t(lib, 3), _t(lib, 3), _t(lib, 3), margin=0),
    "triplet_dims": lambda F, lib: F.triplet_margin_loss(_t(lib, 2, 3), _t(lib, 2, 3), _t(lib, 3)),
    "triplet_module_margin": lambda F, lib: lib.nn.TripletMarginLoss(margin=-1.0),
    "triplet_dist_reduction": lambda F, lib: F.triplet_margin_with_distance_loss(_t(lib, 3), _t(lib, 3),
                                                                                 _t(lib, 3), reduction="x"),
    "triplet_dist_margin": lambda F, lib: F.triplet_margin_with_distance_loss(_t(lib, 3), _t(lib, 3), _t(lib, 3),
                                                                              margin=0.0),
    "triplet_dist_dims": lambda F, lib: F.triplet_margin_with_distance_loss(_t(lib, 2, 3), _t(lib, 3),
                                                                            _t(lib, 3)),
    "triplet_dist_module_margin": lambda F, lib: lib.nn.TripletMarginWithDistanceLoss(margin=0),
    "mm_p3": lambda F, lib: F.multi_margin_loss(_t(lib, 2, 3), lib.tensor([0, 1]), p=3),
    "mm_weight_2d": lambda F, lib: F.multi_margin_loss(_t(lib, 2, 3), lib.tensor([0, 1]), weight=_t(lib, 1, 3)),
    "mm_weight_size": lambda F, lib: F.multi_margin_loss(_t(lib, 2, 3), lib.tensor([0, 1]), weight=_t(lib, 2)),
    "mm_target_range": lambda F, lib: F.multi_margin_loss(_t(lib, 2, 3), lib.tensor([0, 3])),
    "mm_target_neg": lambda F, lib: F.multi_margin_loss(_t(lib, 2, 3), lib.tensor([0, -1])),
    "mm_target_size": lambda F, lib: F.multi_margin_loss(_t(lib, 2, 3), lib.tensor([0])),
    "mm_target_float": lambda F, lib: F.multi_margin_loss(_t(lib, 2, 3), _t(lib, 2)),
    "mm_3d_input": lambda F, lib: F.multi_margin_loss(_t(lib, 2, 3, 4), lib.tensor([0, 1])),
    "mm_module_p": lambda F, lib: lib.nn.MultiMarginLoss(p=3),
    "mm_module_weight": lambda F, lib: lib.nn.MultiMarginLoss(weight=_t(lib, 2, 2)),
    "mlm_shape": lambda F, lib: F.multilabel_margin_loss(_t(lib, 3, 4), lib.tensor([[1, 2, -1, 0]] * 2)),
    "mlm_range": lambda F, lib: F.multilabel_margin_loss(_t(lib, 3, 4), lib.tensor([[1, 5, -1, 0]] * 3)),
    "mlm_range_after_stop": lambda F, lib: F.multilabel_margin_loss(_t(lib, 3, 4), lib.tensor([[1, -1, 7, 0]] * 3)),
    "mlm_range_neg": lambda F, lib: F.multilabel_margin_loss(_t(lib, 3, 4), lib.tensor([[1, -2, -1, 0]] * 3)),
    "mlm_float_target": lambda F, lib: F.multilabel_margin_loss(_t(lib, 3, 4), _t(lib, 3, 4)),
    "mlm_3d": lambda F, lib: F.multilabel_margin_loss(_t(lib, 2, 3, 4), lib.zeros(2, 3, 4, dtype=lib.int64)),
    "mlsm_bad_reduction": lambda F, lib: F.multilabel_soft_margin_loss(_t(lib, 2, 3), _t(lib, 2, 3),
                                                                       reduction="bad"),
    "mlsm_0d": lambda F, lib: F.multilabel_soft_margin_loss(_t(lib), _t(lib)),
    "soft_margin_target_grad": lambda F, lib: F.soft_margin_loss(_t(lib, 3), _t(lib, 3, requires_grad=True)),
    "mm_weight_grad": lambda F, lib: F.multi_margin_loss(_t(lib, 2, 3), lib.tensor([0, 1]),
                                                         weight=_t(lib, 3, requires_grad=True)),
    "soft_margin_bad_reduction": lambda F, lib: F.soft_margin_loss(_t(lib, 3), _t(lib, 3), reduction="bad"),
    "cos_sim_int": lambda F, lib: F.cosine_similarity(_t(lib, 2, 3, dtype=lib.int64), _t(lib, 2, 3, dtype=lib.int64)),
    "cos_sim_dim": lambda F, lib: F.cosine_similarity(_t(lib, 3), _t(lib, 3)),
    "cos_sim_bcast": lambda F, lib: F.cosine_similarity(_t(lib, 3, 4), _t(lib, 2, 4)),
    "pdist_bcast": lambda F, lib: F.pairwise_distance(_t(lib, 3, 4), _t(lib, 3, 5)),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises_like_torch(name):
    call = BAD[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as te:
            call(TF, torch)
        with pytest.raises(type(te.value)):
            call(MF, mt)


# ---------------------------------------------------------------- torch.* forms (reduction as an enum int)
TORCH_LOSS_FORMS = {
    "kl_div": (lambda lib, a, b: lib.kl_div(a, b), lambda lib, a, b: lib.kl_div(a, b, 2, log_target=True)),
    "poisson_nll_loss": (lambda lib, a, b: lib.poisson_nll_loss(a, b, True, False, 1e-8, 1),
                         lambda lib, a, b: lib.poisson_nll_loss(a, b.abs(), True, True, 1e-8, 0)),
    "hinge_embedding_loss": (lambda lib, a, b: lib.hinge_embedding_loss(a, b.sign()),
                             lambda lib, a, b: lib.hinge_embedding_loss(a, b.sign(), 0.5, 0)),
    "margin_ranking_loss": (lambda lib, a, b: lib.margin_ranking_loss(a, b, (a * b).sign()),
                            lambda lib, a, b: lib.margin_ranking_loss(a, b, (a * b).sign(), 0.5, 2)),
    "cosine_embedding_loss": (lambda lib, a, b: lib.cosine_embedding_loss(a, b, b[:, 0].sign()),
                              lambda lib, a, b: lib.cosine_embedding_loss(a, b, b[:, 0].sign(), 0.2, 0)),
    "triplet_margin_loss": (lambda lib, a, b: lib.triplet_margin_loss(a, b, a * b),
                            lambda lib, a, b: lib.triplet_margin_loss(a, b, a * b, 2.0, 1, 1e-6, True, 2)),
}


@pytest.mark.parametrize("name", sorted(TORCH_LOSS_FORMS))
def test_torch_namespace_loss_forms(name):
    a, b = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    b = b.abs() + 0.1 if name == "kl_div" else b
    for f in TORCH_LOSS_FORMS[name]:
        both(lambda x, y: f(torch, x, y), lambda x, y: f(mt, x, y), [a, b], grad=[0])


@pytest.mark.parametrize("name", ["dropout", "feature_dropout", "alpha_dropout", "feature_alpha_dropout"])
def test_torch_namespace_dropout_forms(name):
    x = torch.randn(4, 3, 2)
    for train in (False, True):
        for p in (0.0, 1.0):
            close(getattr(mt, name)(M(x), p, train), getattr(torch, name)(x, p, train), torch.float32)
    y = M(x)
    assert getattr(mt, name + "_")(y, 0.5, True) is y
    with pytest.raises(type(pytest.raises(Exception, getattr(torch, name), x, 1.5, True).value)):
        getattr(mt, name)(M(x), 1.5, True)
    assert math.isfinite(getattr(mt, name)(M(x), 0.5, True).sum().item())

"""Convolution and pooling against PyTorch: values, every gradient, options, modules and errors."""
import numpy as np
import pytest

import minitorch
import minitorch.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

rng = np.random.default_rng(0)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")


def _pair(a, dtype=np.float64, requires_grad=True):
    """The same data as a minitorch and a torch tensor."""
    a = np.asarray(a, dtype=dtype)
    m = minitorch.tensor(a, requires_grad=requires_grad and np.issubdtype(dtype, np.floating))
    t = torch.tensor(a, requires_grad=requires_grad and np.issubdtype(dtype, np.floating))
    return m, t


def _close(m, t, tol):
    assert tuple(m.shape) == tuple(t.shape)
    np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def _check(fn_m, fn_t, shapes, dtype=np.float64, kw=None, tol=None, noncontig=False):
    """Forward values, and the gradient of every float input for a random upstream gradient."""
    kw = kw or {}
    tol = tol or (1e-10 if dtype == np.float64 else 2e-4)
    ms, ts = [], []
    for s in shapes:
        if s is None:
            ms.append(None)
            ts.append(None)
            continue
        a = rng.standard_normal(s)
        if noncontig:  # a transposed copy viewed back: same values, non-contiguous strides
            a2 = np.ascontiguousarray(np.swapaxes(a, -1, -2))
            m = minitorch.tensor(a2.astype(dtype)).transpose(-1, -2).detach().requires_grad_()
            t = torch.tensor(a2.astype(dtype)).transpose(-1, -2).detach().requires_grad_()
            assert not m.is_contiguous()
        else:
            m, t = _pair(a, dtype)
        ms.append(m)
        ts.append(t)
    ym, yt = fn_m(*ms, **kw), fn_t(*ts, **kw)
    _close(ym, yt, tol)
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    ym.backward(minitorch.tensor(g))
    yt.backward(torch.tensor(g))
    for m, t in zip(ms, ts):
        if m is not None:
            _close(m.grad, t.grad, tol)
    return ym, yt


CONV_CASES = [
    # (nsp, input shape, weight shape, kwargs)
    (2, (2, 3, 9, 8), (4, 3, 3, 2), {}),
    (2, (1, 3, 7, 7), (5, 3, 3, 3), {"stride": 2, "padding": 1}),
    (2, (2, 4, 10, 9), (6, 2, 3, 3), {"groups": 2, "dilation": (2, 1), "padding": (2, 0)}),
    (2, (2, 4, 8, 8), (4, 1, 3, 3), {"groups": 4, "padding": 1}),          # depthwise
    (2, (2, 4, 8, 8), (8, 1, 3, 3), {"groups": 4, "stride": (2, 1)}),      # depth multiplier 2
    (2, (2, 3, 6, 5), (4, 3, 1, 1), {}),                                   # 1x1: no im2col
    (2, (2, 3, 6, 5), (4, 3, 1, 1), {"stride": 2}),
    (2, (1, 2, 5, 7), (3, 2, 4, 2), {"padding": "same"}),                  # even kernel: asymmetric
    (2, (1, 2, 5, 7), (3, 2, 3, 3), {"padding": "same", "dilation": 2}),
    (2, (1, 2, 5, 7), (3, 2, 3, 3), {"padding": "valid"}),
    (2, (3, 2, 3, 3), (2, 2, 5, 5), {"padding": 1}),                       # kernel larger than the image
    (1, (2, 3, 11), (4, 3, 3), {"stride": 2, "padding": 1}),
    (1, (2, 4, 11), (4, 2, 2), {"groups": 2, "dilation": 3}),
    (1, (3, 9), (4, 3, 3), {}),                                             # unbatched
    # >= 8 channels per group: the implicit GEMM paths (forward, input and weight gradients)
    (2, (2, 8, 9, 11), (8, 8, 3, 3), {"padding": 1}),
    (2, (1, 8, 40, 37), (9, 8, 3, 3), {"padding": 1}),                      # a plane of several tile blocks
    (2, (2, 16, 8, 8), (16, 8, 3, 3), {"groups": 2, "dilation": 2, "padding": 2}),
    (2, (2, 8, 7, 9), (12, 8, 2, 4), {"padding": "same"}),
    (2, (1, 9, 6, 6), (10, 9, 3, 3), {}),                                   # no padding: the source as is
    (2, (10, 8, 8, 8), (20, 8, 3, 3), {"padding": 1}),  # weight grad: samples in chunks of 7 (7 + 3); 20 rows: 2.5 blocks
    (1, (2, 8, 700), (9, 8, 5), {"padding": 2}),
    (2, (3, 8, 20, 70), (8, 8, 3, 3), {"stride": (2, 1), "padding": 1}),     # stride across lines only
    (3, (1, 8, 5, 6, 7), (8, 8, 3, 3, 3), {"padding": 1}),
    (2, (2, 3, 5, 6), (4, 3, 1, 3), {"padding": (2, 1)}),                    # padding wider than the kernel
    (3, (2, 2, 5, 6, 4), (3, 2, 3, 2, 2), {"padding": (1, 0, 1)}),
    (3, (1, 4, 5, 5, 5), (4, 2, 2, 3, 3), {"groups": 2, "stride": (1, 2, 2), "dilation": (2, 1, 1)}),
]


@pytest.mark.parametrize("nsp,xs,ws,kw", CONV_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
def test_conv_matches_torch(nsp, xs, ws, kw, dtype, bias):
    fm = (F.conv1d, F.conv2d, F.conv3d)[nsp - 1]
    ft = (TF.conv1d, TF.conv2d, TF.conv3d)[nsp - 1]
    shapes = [xs, ws, (ws[0],) if bias else None]
    ym, _ = _check(lambda x, w, b, **k: fm(x, w, b, **k), lambda x, w, b, **k: ft(x, w, b, **k), shapes, dtype, kw)
    assert ym.grad_fn.name() == ("SqueezeBackward1" if len(xs) == nsp + 1 else "ConvolutionBackward0")


def test_conv_noncontiguous_input():
    _check(lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1),
           [(2, 3, 6, 7), (4, 3, 3, 3)], noncontig=True)


TRANSPOSED_CASES = [
    (2, (2, 3, 5, 4), (3, 4, 3, 3), {}),
    (2, (1, 4, 5, 5), (4, 2, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    (2, (2, 4, 4, 3), (4, 3, 3, 2), {"groups": 2, "stride": (2, 3), "dilation": (1, 2)}),
    (2, (2, 3, 4, 4), (3, 5, 1, 1), {}),
    (2, (2, 3, 4, 4), (3, 5, 2, 2), {"stride": 2}),                        # DCGAN-style upsampling
    (1, (2, 3, 7), (3, 2, 4), {"stride": 2, "padding": 1}),
    (1, (3, 7), (3, 2, 3), {}),                                             # unbatched
    (3, (1, 2, 3, 4, 3), (2, 3, 2, 3, 2), {"stride": (2, 1, 2), "output_padding": (1, 0, 0)}),
]


@pytest.mark.parametrize("nsp,xs,ws,kw", TRANSPOSED_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_transpose_matches_torch(nsp, xs, ws, kw, dtype):
    fm = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[nsp - 1]
    ft = (TF.conv_transpose1d, TF.conv_transpose2d, TF.conv_transpose3d)[nsp - 1]
    groups = kw.get("groups", 1)
    _check(lambda x, w, b, **k: fm(x, w, b, **k), lambda x, w, b, **k: ft(x, w, b, **k),
           [xs, ws, (ws[1] * groups,)], dtype, kw)


def test_conv_gradcheck_float64():
    """Finite differences in float64, independent of torch."""
    x = minitorch.tensor(rng.standard_normal((1, 2, 5, 4)), requires_grad=True)
    w = minitorch.tensor(rng.standard_normal((3, 2, 2, 3)), requires_grad=True)
    b = minitorch.tensor(rng.standard_normal(3), requires_grad=True)
    assert minitorch.autograd.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1), (x, w, b))
    wt = minitorch.tensor(rng.standard_normal((2, 3, 2, 2)), requires_grad=True)
    assert minitorch.autograd.gradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2, dilation=(1, 2)), (x, wt))
    assert minitorch.autograd.gradcheck(lambda x: F.avg_pool2d(x, 2, stride=1, padding=1), (x,))
    assert minitorch.autograd.gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 3)), (x,))


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_conv_integer_dtypes(dtype):
    x = rng.integers(-5, 5, (2, 3, 6, 6))
    w = rng.integers(-3, 3, (4, 3, 3, 3))
    b = rng.integers(-3, 3, (4,))
    ym = F.conv2d(minitorch.tensor(x.astype(dtype)), minitorch.tensor(w.astype(dtype)),
                  minitorch.tensor(b.astype(dtype)), padding=1)
    yt = TF.conv2d(torch.tensor(x.astype(dtype)), torch.tensor(w.astype(dtype)), torch.tensor(b.astype(dtype)),
                   padding=1)
    assert str(ym.dtype) == str(yt.dtype)
    np.testing.assert_array_equal(ym.numpy(), yt.numpy())


def test_conv_empty_batch():
    w = np.ones((4, 3, 3, 3))
    ym = F.conv2d(minitorch.zeros(0, 3, 8, 8, dtype=minitorch.float64), minitorch.tensor(w))
    assert tuple(ym.shape) == tuple(TF.conv2d(torch.zeros(0, 3, 8, 8, dtype=torch.float64), torch.tensor(w)).shape)


def test_conv_nonfinite_values_propagate():
    x = rng.standard_normal((1, 1, 5, 5))
    x[0, 0, 2, 2] = np.inf
    x[0, 0, 0, 4] = np.nan
    w = rng.standard_normal((2, 1, 3, 3))
    _close(F.conv2d(minitorch.tensor(x), minitorch.tensor(w), padding=1),
           TF.conv2d(torch.tensor(x), torch.tensor(w), padding=1), 1e-12)


def _raises_like(fm, ft):
    with pytest.raises(Exception) as et:
        ft()
    with pytest.raises(type(et.value)) as em:
        fm()
    return str(em.value), str(et.value)


CONV_ERRORS = [
    ("dtype mismatch", lambda L, x, w: L.conv2d(x, w.double())),
    ("bias dtype", lambda L, x, w: L.conv2d(x, w, w.new_zeros(4).double())),
    ("bool", lambda L, x, w: L.conv2d(x.bool(), w.bool())),
    ("input dims", lambda L, x, w: L.conv2d(x[0, 0], w)),
    ("channels", lambda L, x, w: L.conv2d(x, w[:, :2])),
    ("groups channels", lambda L, x, w: L.conv2d(x, w, groups=2)),
    ("groups divisible", lambda L, x, w: L.conv2d(x, w[:, :1], groups=3)),
    ("bias size", lambda L, x, w: L.conv2d(x, w, w.new_zeros(5))),
    ("stride 0", lambda L, x, w: L.conv2d(x, w, stride=0)),
    ("negative padding", lambda L, x, w: L.conv2d(x, w, padding=-1)),
    ("dilation 0", lambda L, x, w: L.conv2d(x, w, dilation=0)),
    ("groups 0", lambda L, x, w: L.conv2d(x, w, groups=0)),
    ("kernel too big", lambda L, x, w: L.conv2d(x[:, :, :2, :2], w)),
    ("same strided", lambda L, x, w: L.conv2d(x, w, padding="same", stride=2)),
    ("bad padding string", lambda L, x, w: L.conv2d(x, w, padding="full")),
    ("stride length", lambda L, x, w: L.conv2d(x, w, stride=(1, 2, 3))),
    ("transposed channels", lambda L, x, w: L.conv_transpose2d(x, w)),
    ("output_padding", lambda L, x, w: L.conv_transpose2d(x, w.transpose(0, 1), output_padding=1)),
]


@pytest.mark.parametrize("name,call", CONV_ERRORS, ids=[c[0] for c in CONV_ERRORS])
def test_conv_errors_match_torch(name, call):
    xa, wa = rng.standard_normal((1, 3, 8, 8)).astype(np.float32), rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    msg_m, msg_t = _raises_like(lambda: call(F, minitorch.tensor(xa), minitorch.tensor(wa)),
                                lambda: call(TF, torch.tensor(xa), torch.tensor(wa)))
    if name not in ("input dims", "stride length"):  # torch's own wording where the check is ours
        assert msg_m == msg_t


# ---- pooling ----

POOL_CASES = [
    ("max_pool2d", (2, 3, 9, 8), (3,), {"stride": 2, "padding": 1}),
    ("max_pool2d", (2, 3, 9, 8), (2,), {}),
    ("max_pool2d", (1, 2, 10, 9), ((3, 2),), {"stride": (2, 1), "dilation": (2, 3), "ceil_mode": True}),
    ("max_pool2d", (3, 7, 7), (3,), {"stride": 2, "ceil_mode": True, "padding": 1}),
    ("max_pool1d", (2, 3, 11), (3,), {"stride": 2, "padding": 1}),
    ("max_pool1d", (3, 11), (2,), {"ceil_mode": True}),
    ("max_pool3d", (1, 2, 5, 6, 7), (2,), {"stride": (1, 2, 2), "padding": 1}),
    ("avg_pool2d", (2, 3, 9, 8), (3,), {"stride": 2, "padding": 1}),
    ("avg_pool2d", (2, 3, 9, 8), (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
    ("avg_pool2d", (2, 3, 9, 8), (3,), {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}),
    ("avg_pool2d", (2, 3, 9, 8), (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
    ("avg_pool2d", (1, 2, 6, 6), (2,), {"divisor_override": 3}),
    ("avg_pool1d", (2, 3, 10), (4,), {"stride": 3, "padding": 2}),
    ("avg_pool3d", (1, 2, 5, 6, 7), (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
    ("adaptive_avg_pool2d", (2, 3, 9, 7), ((4, 3),), {}),
    ("adaptive_avg_pool2d", (2, 3, 9, 7), (1,), {}),
    ("adaptive_avg_pool2d", (2, 3, 4, 5), ((7, None),), {}),
    ("adaptive_avg_pool1d", (2, 3, 10), (4,), {}),
    ("adaptive_avg_pool3d", (1, 2, 5, 6, 7), ((2, 3, 4),), {}),
    ("adaptive_max_pool2d", (2, 3, 9, 7), ((4, 3),), {}),
    ("adaptive_max_pool1d", (2, 3, 10), (3,), {}),
    ("adaptive_max_pool3d", (1, 2, 5, 6, 7), ((2, 3, 4),), {}),
    ("lp_pool2d", (2, 3, 8, 8), (2.0, 2), {}),
    ("lp_pool1d", (2, 3, 9), (3.0, 3), {"stride": 2}),
]


@pytest.mark.parametrize("name,xs,args,kw", POOL_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pool_matches_torch(name, xs, args, kw, dtype):
    fm, ft = getattr(F, name), getattr(TF, name)
    ym, yt = _check(lambda x: fm(x, *args, **kw), lambda x: ft(x, *args, **kw), [xs], dtype)
    assert ym.grad_fn.name() == yt.grad_fn.name()


@pytest.mark.parametrize("name,xs,args,kw", [c for c in POOL_CASES if c[0].startswith(("max", "adaptive_max"))])
def test_max_pool_indices_match_torch(name, xs, args, kw):
    a = rng.standard_normal(xs)
    a[(0,) * len(xs)] = np.nan  # the first NaN of a window wins, as torch's CPU kernel
    rm = getattr(F, name)(minitorch.tensor(a), *args, return_indices=True, **kw)
    rt = getattr(TF, name)(torch.tensor(a), *args, return_indices=True, **kw)
    np.testing.assert_array_equal(rm[1].numpy(), rt[1].numpy())
    np.testing.assert_array_equal(rm[0].numpy(), rt[0].numpy())
    assert str(rm[1].dtype) == str(rt[1].dtype)


def test_max_pool_ties_take_the_first_maximum():
    a = np.zeros((1, 1, 4, 4))
    m = minitorch.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    F.max_pool2d(m, 2, stride=1).sum().backward()
    TF.max_pool2d(t, 2, stride=1).sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("name,dtype", [("max_pool2d", np.int64), ("max_pool2d", np.int32), ("avg_pool2d", np.int64)])
def test_pool_integer_dtypes(name, dtype):
    a = rng.integers(-20, 20, (2, 2, 7, 6)).astype(dtype)
    ym = getattr(F, name)(minitorch.tensor(a), 3, stride=2, padding=1)
    yt = getattr(TF, name)(torch.tensor(a), 3, stride=2, padding=1)
    assert str(ym.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
    np.testing.assert_array_equal(ym.numpy(), yt.numpy())


POOL_ERRORS = [
    ("pad too big", lambda L, x: L.max_pool2d(x, 3, padding=2)),
    ("avg pad too big", lambda L, x: L.avg_pool2d(x, 3, padding=2)),
    ("output too small", lambda L, x: L.max_pool2d(x[:, :, :2, :2], 3)),
    ("avg output too small", lambda L, x: L.avg_pool2d(x[:, :, :2, :2], 3)),
    ("dims", lambda L, x: L.max_pool2d(x[0, 0], 2)),
    ("stride 0", lambda L, x: L.max_pool2d(x, 2, stride=0)),
    ("kernel 0", lambda L, x: L.max_pool2d(x, 0, stride=1)),
    ("negative stride", lambda L, x: L.max_pool2d(x, 2, stride=-1)),
    ("negative padding", lambda L, x: L.max_pool2d(x, 2, padding=-1)),
    ("dilation 0", lambda L, x: L.max_pool2d(x, 2, dilation=0)),
    ("divisor 0", lambda L, x: L.avg_pool2d(x, 2, divisor_override=0)),
    ("bool max", lambda L, x: L.max_pool2d(x.bool(), 2)),
    ("long adaptive", lambda L, x: L.adaptive_avg_pool2d(x.long(), 2)),
    ("int avg", lambda L, x: L.avg_pool2d(x.int(), 2)),
    ("adaptive negative", lambda L, x: L.adaptive_avg_pool2d(x, -1)),
    ("adaptive dims", lambda L, x: L.adaptive_avg_pool2d(x.unsqueeze(0), 2)),
    ("adaptive empty", lambda L, x: L.adaptive_max_pool2d(x[:, :0], 2)),
    ("empty channels", lambda L, x: L.max_pool2d(x[:, :0], 2)),
]


@pytest.mark.parametrize("name,call", POOL_ERRORS, ids=[c[0] for c in POOL_ERRORS])
def test_pool_errors_match_torch(name, call):
    xa = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    msg_m, msg_t = _raises_like(lambda: call(F, minitorch.tensor(xa)), lambda: call(TF, torch.tensor(xa)))
    assert msg_m == msg_t


def test_pool_empty_batch():
    for name in ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"]:
        ym = getattr(F, name)(minitorch.zeros(0, 2, 6, 6), 2)
        yt = getattr(TF, name)(torch.zeros(0, 2, 6, 6), 2)
        assert tuple(ym.shape) == tuple(yt.shape)


# ---- unfold / fold ----

@pytest.mark.parametrize("kw", [dict(kernel_size=3), dict(kernel_size=(2, 3), stride=2, padding=1),
                                dict(kernel_size=2, dilation=2, padding=(0, 1))])
def test_unfold_fold_match_torch(kw):
    ym, yt = _check(lambda x: F.unfold(x, **kw), lambda x: TF.unfold(x, **kw), [(2, 3, 7, 6)])
    L = yt.shape[-1]
    _check(lambda c: F.fold(c, (7, 6), **kw), lambda c: TF.fold(c, (7, 6), **kw), [(2, yt.shape[1], L)])


def test_unfold_is_exact_with_infinities():
    a = rng.standard_normal((1, 1, 4, 4))
    a[0, 0, 1, 1] = np.inf
    np.testing.assert_array_equal(F.unfold(minitorch.tensor(a), 2).numpy(), TF.unfold(torch.tensor(a), 2).numpy())


# ---- modules ----

def _copy_params(mm, tm):
    for (nm, pm), (nt, pt) in zip(mm.named_parameters(), tm.named_parameters()):
        assert nm == nt and tuple(pm.shape) == tuple(pt.shape)
        pm.data = minitorch.tensor(pt.detach().numpy())


MODULES = [
    ("Conv2d", (3, 8, 3), {"padding": 1}),
    ("Conv2d", (4, 8, (3, 2)), {"stride": 2, "groups": 2, "bias": False}),
    ("Conv2d", (3, 4, 3), {"padding": "same", "dilation": 2}),
    ("Conv1d", (3, 5, 3), {"stride": 2}),
    ("Conv3d", (2, 3, 2), {"padding": 1}),
    ("ConvTranspose2d", (3, 4, 4), {"stride": 2, "padding": 1}),
    ("ConvTranspose1d", (3, 4, 3), {"stride": 3, "output_padding": 2}),
    ("ConvTranspose3d", (2, 3, 2), {"stride": 2}),
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
    ("MaxPool1d", (3,), {"stride": 1}),
    ("MaxPool3d", (2,), {}),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
    ("AvgPool1d", (2,), {}),
    ("AvgPool3d", (2,), {}),
    ("AdaptiveAvgPool2d", ((1, 1),), {}),
    ("AdaptiveAvgPool2d", (3,), {}),
    ("AdaptiveAvgPool1d", (2,), {}),
    ("AdaptiveAvgPool3d", (2,), {}),
    ("AdaptiveMaxPool2d", ((2, 3),), {}),
    ("AdaptiveMaxPool1d", (2,), {}),
    ("LPPool2d", (2, 2), {}),
]
INPUTS = {"1d": (2, 3, 12), "2d": (2, 3, 10, 9), "3d": (1, 2, 6, 5, 6)}


@pytest.mark.parametrize("name,args,kw", MODULES)
def test_modules_match_torch(name, args, kw):
    mm, tm = getattr(minitorch.nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(mm) == repr(tm)
    assert list(mm.state_dict().keys()) == list(tm.state_dict().keys())
    _copy_params(mm, tm)
    xs = INPUTS[name[-2:]]
    if name.startswith(("Conv", "ConvTranspose")):
        xs = (xs[0], args[0]) + xs[2:]
    x = rng.standard_normal(xs).astype(np.float32)
    xm, xt = _pair(x, np.float32)
    ym, yt = mm(xm), tm(xt)
    _close(ym, yt, 2e-4)
    g = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    ym.backward(minitorch.tensor(g))
    yt.backward(torch.tensor(g))
    _close(xm.grad, xt.grad, 2e-4)
    for (_, pm), (_, pt) in zip(mm.named_parameters(), tm.named_parameters()):
        _close(pm.grad, pt.grad, 2e-4)


def test_conv_default_init_bounds():
    """kaiming_uniform(a=sqrt(5)) gives |w| <= 1/sqrt(fan_in), and so does the bias."""
    m = minitorch.nn.Conv2d(16, 8, 3)
    bound = 1 / np.sqrt(16 * 9)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound + 1e-7 and np.abs(w).max() > 0.8 * bound
    assert np.abs(b).max() <= bound + 1e-7
    mt = minitorch.nn.ConvTranspose2d(4, 6, 3)
    assert tuple(mt.weight.shape) == (4, 6, 3, 3)
    assert np.abs(mt.weight.detach().numpy()).max() <= 1 / np.sqrt(6 * 9) + 1e-7


def test_conv_transpose_output_size():
    mm, tm = minitorch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), torch.nn.ConvTranspose2d(3, 2, 3, stride=2,
                                                                                                  padding=1)
    _copy_params(mm, tm)
    x = rng.standard_normal((1, 3, 5, 5)).astype(np.float32)
    _close(mm(minitorch.tensor(x), output_size=[10, 10]), tm(torch.tensor(x), output_size=[10, 10]), 2e-5)
    with pytest.raises(ValueError):
        tm(torch.tensor(x), output_size=[12, 12])
    with pytest.raises(ValueError):
        mm(minitorch.tensor(x), output_size=[12, 12])


@pytest.mark.parametrize("kw", [dict(groups=0), dict(groups=2), dict(padding="full"), dict(padding="same", stride=2),
                                dict(padding_mode="mirror")])
def test_conv_module_errors(kw):
    with pytest.raises(ValueError):
        torch.nn.Conv2d(3, 4, 3, **kw)
    with pytest.raises(ValueError):
        minitorch.nn.Conv2d(3, 4, 3, **kw)


def test_small_cnn_trains_like_torch():
    """Two SGD steps of conv-relu-pool-linear with copied weights: same losses and weights."""
    def build(nn):
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3),
                             nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))
    mm, tm = build(minitorch.nn), build(torch.nn)
    _copy_params(mm, tm)
    om, ot = minitorch.optim.SGD(mm.parameters(), lr=0.1, momentum=0.9), torch.optim.SGD(tm.parameters(), lr=0.1,
                                                                                          momentum=0.9)
    x = rng.standard_normal((4, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, 4)
    for _ in range(3):
        lm = minitorch.nn.functional.cross_entropy(mm(minitorch.tensor(x)), minitorch.tensor(y))
        lt = TF.cross_entropy(tm(torch.tensor(x)), torch.tensor(y))
        np.testing.assert_allclose(lm.item(), lt.item(), rtol=1e-5)
        om.zero_grad()
        ot.zero_grad()
        lm.backward()
        lt.backward()
        om.step()
        ot.step()
    for pm, pt in zip(mm.parameters(), tm.parameters()):
        _close(pm, pt, 1e-5)


# ---- the other layers of this family ----

def test_max_unpool_matches_torch():
    a = rng.standard_normal((2, 3, 8, 7))
    for kw in [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)]:
        om, im = F.max_pool2d(minitorch.tensor(a), return_indices=True, **kw)
        ot, it = TF.max_pool2d(torch.tensor(a), return_indices=True, **kw)
        om.requires_grad_()
        ot.requires_grad_()
        um = F.max_unpool2d(om, im, output_size=(8, 7), **kw)
        ut = TF.max_unpool2d(ot, it, output_size=(8, 7), **kw)
        _close(um, ut, 0)
        g = rng.standard_normal(ut.shape)
        um.backward(minitorch.tensor(g))
        ut.backward(torch.tensor(g))
        _close(om.grad, ot.grad, 0)
    mm, tm = minitorch.nn.MaxUnpool2d(2), torch.nn.MaxUnpool2d(2)
    assert repr(mm) == repr(tm)
    a1 = rng.standard_normal((2, 3, 10))
    o, i = F.max_pool1d(minitorch.tensor(a1), 2, return_indices=True)
    ot, it = TF.max_pool1d(torch.tensor(a1), 2, return_indices=True)
    _close(minitorch.nn.MaxUnpool1d(2)(o, i), torch.nn.MaxUnpool1d(2)(ot, it), 0)
    with pytest.raises(RuntimeError):
        TF.max_unpool2d(ot.unsqueeze(-1), it.unsqueeze(-1) + 100, 2)
    with pytest.raises(RuntimeError):
        F.max_unpool2d(o.unsqueeze(-1), i.unsqueeze(-1) + 100, 2)


def test_fold_unfold_modules():
    for mm, tm in [(minitorch.nn.Unfold(3, padding=1), torch.nn.Unfold(3, padding=1)),
                   (minitorch.nn.Fold((4, 5), 2), torch.nn.Fold((4, 5), 2))]:
        assert repr(mm) == repr(tm)
    a = rng.standard_normal((2, 3, 4, 5))
    _close(minitorch.nn.Unfold(3, padding=1)(minitorch.tensor(a)), torch.nn.Unfold(3, padding=1)(torch.tensor(a)), 0)


def test_bilinear_matches_torch():
    mm, tm = minitorch.nn.Bilinear(3, 4, 5), torch.nn.Bilinear(3, 4, 5)
    assert repr(mm) == repr(tm)
    _copy_params(mm, tm)
    for lead in [(6,), (2, 3), ()]:
        x1, x2 = rng.standard_normal(lead + (3,)).astype(np.float32), rng.standard_normal(lead + (4,)).astype(np.float32)
        (m1, t1), (m2, t2) = _pair(x1, np.float32), _pair(x2, np.float32)
        ym, yt = mm(m1, m2), tm(t1, t2)
        _close(ym, yt, 1e-5)
        ym.sum().backward()
        yt.sum().backward()
        _close(m1.grad, t1.grad, 1e-5)
        _close(m2.grad, t2.grad, 1e-5)
    _close(mm.weight.grad, tm.weight.grad, 1e-4)
    with pytest.raises(RuntimeError):
        tm(torch.zeros(2, 3), torch.zeros(3, 4))
    with pytest.raises(RuntimeError):
        mm(minitorch.zeros(2, 3), minitorch.zeros(3, 4))


def test_parameter_containers_match_torch():
    def build(lib):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.pl = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.zeros(4)])
                self.pd = lib.nn.ParameterDict({"a": lib.nn.Parameter(lib.ones(2)), "b": lib.zeros(1, 2)})
                self.pl.append(lib.ones(1))
                self.pd["c"] = lib.ones(3)
        return M()
    mm, tm = build(minitorch), build(torch)
    assert repr(mm) == repr(tm)
    assert [n for n, _ in mm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert list(mm.state_dict()) == list(tm.state_dict())
    assert type(mm.pl[1]).__name__ == "Parameter" and len(mm.pl) == 3 and list(mm.pd.keys()) == ["a", "b", "c"]
    assert [tuple(p.shape) for p in mm.pl[1:]] == [tuple(p.shape) for p in tm.pl[1:]]


def test_data_parallel_wraps_one_device():
    for lib in (minitorch, torch):
        net = lib.nn.DataParallel(lib.nn.Linear(3, 2))
        assert list(net.state_dict()) == ["module.weight", "module.bias"]
        x = lib.ones(4, 3)
        assert tuple(net(x).shape) == (4, 2)
    assert repr(minitorch.nn.DataParallel(minitorch.nn.Linear(3, 2))) == repr(
        torch.nn.DataParallel(torch.nn.Linear(3, 2)))


# ---- the composed forms (unfold / fold / matmul) that CUDA tensors use, checked on the CPU ----

@pytest.fixture
def composed(monkeypatch):
    import minitorch.nn._functional_conv as fc
    monkeypatch.setattr(fc, "_COMPOSE_ON_CPU", True)


COMPOSED_CONV = [c for c in CONV_CASES if c[0] in (1, 2)]


@pytest.mark.parametrize("nsp,xs,ws,kw", COMPOSED_CONV)
def test_composed_conv_matches_torch(composed, nsp, xs, ws, kw):
    fm = (F.conv1d, F.conv2d)[nsp - 1]
    ft = (TF.conv1d, TF.conv2d)[nsp - 1]
    _check(lambda x, w, b, **k: fm(x, w, b, **k), lambda x, w, b, **k: ft(x, w, b, **k), [xs, ws, (ws[0],)],
           np.float64, kw)


@pytest.mark.parametrize("nsp,xs,ws,kw", [c for c in TRANSPOSED_CASES if c[0] in (1, 2)])
def test_composed_conv_transpose_matches_torch(composed, nsp, xs, ws, kw):
    fm = (F.conv_transpose1d, F.conv_transpose2d)[nsp - 1]
    ft = (TF.conv_transpose1d, TF.conv_transpose2d)[nsp - 1]
    groups = kw.get("groups", 1)
    _check(lambda x, w, b, **k: fm(x, w, b, **k), lambda x, w, b, **k: ft(x, w, b, **k),
           [xs, ws, (ws[1] * groups,)], np.float64, kw)


@pytest.mark.parametrize("name,xs,args,kw", [c for c in POOL_CASES if not c[0].endswith("3d")
                                             and not c[0].startswith("adaptive_max")])
def test_composed_pool_matches_torch(composed, name, xs, args, kw):
    fm, ft = getattr(F, name), getattr(TF, name)
    _check(lambda x: fm(x, *args, **kw), lambda x: ft(x, *args, **kw), [xs], np.float64)
    if name.startswith("max"):
        a = rng.standard_normal(xs)
        np.testing.assert_array_equal(fm(minitorch.tensor(a), *args, return_indices=True, **kw)[1].numpy(),
                                      ft(torch.tensor(a), *args, return_indices=True, **kw)[1].numpy())


def test_composed_forms_check_arguments_like_the_kernels(composed):
    with pytest.raises(RuntimeError, match="expected input.* to have 3 channels"):
        F.conv2d(minitorch.zeros(1, 4, 5, 5), minitorch.zeros(2, 3, 3, 3))
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.max_pool2d(minitorch.zeros(1, 1, 2, 2), 3)
    with pytest.raises(NotImplementedError, match="3-d pooling"):
        F.max_pool3d(minitorch.zeros(1, 1, 4, 4, 4), 2)

"""Normalization layers and functions (batch/instance/group/local-response/RMS norm, F.normalize) against PyTorch:
forward values and gradients (input, weight, bias) in float32 and float64, running statistics, eval mode,
state_dict, repr and errors."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.nn as nn
import minitorch.nn.functional as F

torch = pytest.importorskip("torch")
tnn = torch.nn
TF = torch.nn.functional

DTYPES = [(mt.float32, torch.float32, np.float32), (mt.float64, torch.float64, np.float64)]
DTYPE_IDS = ["float32", "float64"]


def tol(np_dt):
    return dict(rtol=2e-4, atol=2e-5) if np_dt == np.float32 else dict(rtol=1e-9, atol=1e-11)


def npy(x):
    return x.detach().numpy()


def close(a, b, np_dt=np.float64):
    assert tuple(a.shape) == tuple(b.shape), (tuple(a.shape), tuple(b.shape))
    np.testing.assert_allclose(npy(a), b.detach().numpy(), **tol(np_dt))


def pair(shape, np_dt, noncontig=False, seed=0, scale=1.0, offset=0.0):
    """The same random data as a minitorch and a torch leaf (requires_grad); noncontig gives transposed views."""
    rng = np.random.default_rng(seed)
    if noncontig and len(shape) >= 2:
        base = (rng.standard_normal(tuple(shape[:-2]) + (shape[-1], shape[-2])) * scale + offset).astype(np_dt)
        mb = mt.tensor(base, requires_grad=True)
        tb = torch.tensor(base, requires_grad=True)
        m, t = mb.transpose(-1, -2), tb.transpose(-1, -2)
        assert not m.is_contiguous()
        return m, t, mb, tb  # the views, and the leaves that receive the gradients
    data = (rng.standard_normal(shape) * scale + offset).astype(np_dt)
    mb = mt.tensor(data, requires_grad=True)
    tb = torch.tensor(data, requires_grad=True)
    return mb, tb, mb, tb


def upstream(shape, np_dt, seed=99):
    g = np.random.default_rng(seed).standard_normal(tuple(shape)).astype(np_dt)
    return mt.tensor(g), torch.tensor(g)


def backward_both(mo, to, np_dt):
    gm, gt = upstream(to.shape, np_dt)
    mo.backward(gm)
    to.backward(gt)


def copy_state(m, tm):
    m.load_state_dict({k: mt.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


def assert_same_error(fn_mt, fn_torch, match_message=True):
    with pytest.raises(Exception) as te:
        fn_torch()
    with pytest.raises(Exception) as me:
        fn_mt()
    assert type(me.value) is type(te.value), (type(me.value), me.value, type(te.value), te.value)
    if match_message:
        assert str(me.value) == str(te.value)


def compare_modules(m, tm, np_dt):
    """Parameters and buffers of m equal torch's tm (same names, same values, same dtypes)."""
    msd, tsd = m.state_dict(), tm.state_dict()
    assert list(msd.keys()) == list(tsd.keys())
    for k in tsd:
        assert str(msd[k].dtype) == str(tsd[k].dtype), k
        np.testing.assert_allclose(npy(msd[k]), tsd[k].numpy(), **tol(np_dt), err_msg=k)


# ------------------------------------------------------------------------------------------------ batch norm
BN_CASES = [
    (nn.BatchNorm1d, tnn.BatchNorm1d, (5, 3)),
    (nn.BatchNorm1d, tnn.BatchNorm1d, (4, 3, 7)),
    (nn.BatchNorm1d, tnn.BatchNorm1d, (1, 3, 5)),
    (nn.BatchNorm2d, tnn.BatchNorm2d, (3, 4, 5, 3)),
    (nn.BatchNorm2d, tnn.BatchNorm2d, (1, 2, 3, 3)),
    (nn.BatchNorm3d, tnn.BatchNorm3d, (2, 3, 3, 2, 5)),
]


@pytest.mark.parametrize("dt", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("cls,tcls,shape", BN_CASES, ids=lambda v: str(v) if isinstance(v, tuple) else None)
@pytest.mark.parametrize("momentum", [0.1, 0.7, None])
@pytest.mark.parametrize("noncontig", [False, True])
def test_batchnorm_train_steps_then_eval(dt, cls, tcls, shape, momentum, noncontig):
    mdt, tdt, np_dt = dt
    c = shape[1]
    m, tm = cls(c, momentum=momentum, dtype=mdt), tcls(c, momentum=momentum, dtype=tdt)
    with torch.no_grad():  # a non-trivial affine transform
        tm.weight.copy_(torch.linspace(0.5, 2.0, c, dtype=tdt))
        tm.bias.copy_(torch.linspace(-1.0, 1.0, c, dtype=tdt))
    copy_state(m, tm)
    for step in range(3):
        x, tx, xl, txl = pair(shape, np_dt, noncontig, seed=step, scale=1.0 + step, offset=0.5 * step)
        mo, to = m(x), tm(tx)
        close(mo, to, np_dt)
        backward_both(mo, to, np_dt)
        close(xl.grad, txl.grad, np_dt)
        close(m.weight.grad, tm.weight.grad, np_dt)
        close(m.bias.grad, tm.bias.grad, np_dt)
        compare_modules(m, tm, np_dt)
    assert int(m.num_batches_tracked) == 3 and m.num_batches_tracked.dtype == mt.int64
    for buf in (m.running_mean, m.running_var):
        assert buf.grad_fn is None and not buf.requires_grad
    m.eval()
    tm.eval()
    x, tx, xl, txl = pair(shape, np_dt, noncontig, seed=7)
    mo, to = m(x), tm(tx)
    close(mo, to, np_dt)
    backward_both(mo, to, np_dt)
    close(xl.grad, txl.grad, np_dt)
    compare_modules(m, tm, np_dt)  # eval leaves the buffers alone
    assert int(m.num_batches_tracked) == 3


@pytest.mark.parametrize("dt", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track", [True, False])
def test_batchnorm_options(dt, affine, track):
    mdt, tdt, np_dt = dt
    m = nn.BatchNorm2d(3, eps=1e-3, affine=affine, track_running_stats=track, dtype=mdt)
    tm = tnn.BatchNorm2d(3, eps=1e-3, affine=affine, track_running_stats=track, dtype=tdt)
    assert repr(m) == repr(tm)
    assert list(m.state_dict().keys()) == list(tm.state_dict().keys())
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in tm.named_buffers()]
    for mode in ("train", "eval"):
        getattr(m, mode)()
        getattr(tm, mode)()
        x, tx, xl, txl = pair((2, 3, 4, 5), np_dt, seed=3, offset=1.0)
        mo, to = m(x), tm(tx)
        close(mo, to, np_dt)
        backward_both(mo, to, np_dt)
        close(xl.grad, txl.grad, np_dt)
        if affine:
            close(m.weight.grad, tm.weight.grad, np_dt)
            close(m.bias.grad, tm.bias.grad, np_dt)
        compare_modules(m, tm, np_dt)


def test_batchnorm_no_bias_kwarg():
    m, tm = nn.BatchNorm1d(4, bias=False), tnn.BatchNorm1d(4, bias=False)
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    x, tx, _, _ = pair((6, 4), np.float32)
    close(m(x), tm(tx), np.float32)


def test_batchnorm_running_var_is_unbiased():
    """The running variance moves towards the unbiased batch variance while the output uses the biased one."""
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float64)
    m = nn.BatchNorm1d(2, momentum=1.0, dtype=mt.float64)
    out = m(mt.tensor(x))
    np.testing.assert_allclose(npy(m.running_var), x.var(0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(npy(m.running_mean), x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(npy(out), (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-10)


def test_batchnorm_cumulative_average_momentum_none():
    m, tm = nn.BatchNorm1d(3, momentum=None), tnn.BatchNorm1d(3, momentum=None)
    for step in range(5):
        x, tx, _, _ = pair((4, 3), np.float32, seed=step, offset=step)
        m(x)
        tm(tx)
    compare_modules(m, tm, np.float32)


def test_batchnorm_eval_without_running_stats_uses_batch_stats():
    m, tm = nn.BatchNorm1d(3, track_running_stats=False).eval(), tnn.BatchNorm1d(3, track_running_stats=False).eval()
    x, tx, _, _ = pair((5, 3), np.float32, offset=2.0)
    close(m(x), tm(tx), np.float32)


def test_batchnorm_load_torch_state_dict_and_train():
    tm = tnn.BatchNorm2d(4)
    tm.train()
    for s in range(2):
        tm(torch.tensor(np.random.default_rng(s).standard_normal((3, 4, 2, 2)).astype(np.float32)))
    m = nn.BatchNorm2d(4)
    res = m.load_state_dict({k: mt.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    assert list(res.missing_keys) == [] and list(res.unexpected_keys) == []
    assert m.num_batches_tracked.dtype == mt.int64 and int(m.num_batches_tracked) == 2
    compare_modules(m, tm, np.float32)
    x, tx, _, _ = pair((2, 4, 3, 3), np.float32, seed=5)
    close(m(x), tm(tx), np.float32)
    compare_modules(m, tm, np.float32)
    m.eval()
    tm.eval()
    close(m(x), tm(tx), np.float32)


def test_batchnorm_old_checkpoint_without_num_batches_tracked():
    """Version-1 checkpoints have no num_batches_tracked: PyTorch keeps the module's own counter."""
    from collections import OrderedDict
    sd = OrderedDict((k, v) for k, v in nn.BatchNorm1d(3).state_dict().items() if k != "num_batches_tracked")
    sd._metadata = OrderedDict({"": {"version": 1}})
    m = nn.BatchNorm1d(3)
    m.load_state_dict(sd)  # strict, must not complain
    tsd = OrderedDict((k, torch.tensor(npy(v))) for k, v in sd.items())
    tsd._metadata = OrderedDict({"": {"version": 1}})
    tnn.BatchNorm1d(3).load_state_dict(tsd)
    m.num_batches_tracked.fill_(4)
    m.load_state_dict(OrderedDict(sd))  # no metadata at all: also treated as an old checkpoint, like PyTorch
    assert int(m.num_batches_tracked) == 4
    tnn.BatchNorm1d(3).load_state_dict(OrderedDict(tsd))
    sd["num_batches_tracked"] = mt.tensor(2)
    sd._metadata = OrderedDict({"": {"version": 2}})
    m.load_state_dict(sd)
    assert int(m.num_batches_tracked) == 2
    del sd["num_batches_tracked"]
    tsd._metadata = OrderedDict({"": {"version": 2}})
    assert_same_error(lambda: m.load_state_dict(sd), lambda: tnn.BatchNorm1d(3).load_state_dict(tsd))


def test_batchnorm_reset_running_stats():
    m = nn.BatchNorm1d(3)
    m(mt.randn(4, 3) * 3 + 1)
    m.reset_running_stats()
    tm = tnn.BatchNorm1d(3)
    compare_modules(m, tm, np.float32)


@pytest.mark.parametrize("cls,tcls,shape", [
    (nn.BatchNorm1d, tnn.BatchNorm1d, (3,)), (nn.BatchNorm1d, tnn.BatchNorm1d, (2, 3, 4, 5)),
    (nn.BatchNorm2d, tnn.BatchNorm2d, (2, 3, 4)), (nn.BatchNorm2d, tnn.BatchNorm2d, (2, 3, 4, 5, 6)),
    (nn.BatchNorm3d, tnn.BatchNorm3d, (2, 3, 4, 5)), (nn.SyncBatchNorm, tnn.SyncBatchNorm, (3,)),
])
def test_batchnorm_bad_dims(cls, tcls, shape):
    x = np.zeros(shape, np.float32)
    assert_same_error(lambda: cls(3)(mt.tensor(x)), lambda: tcls(3)(torch.tensor(x)))


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1), (1, 3, 1, 1)])
def test_batchnorm_one_value_per_channel(shape):
    cls = {2: (nn.BatchNorm1d, tnn.BatchNorm1d), 3: (nn.BatchNorm1d, tnn.BatchNorm1d),
           4: (nn.BatchNorm2d, tnn.BatchNorm2d)}[len(shape)]
    x = np.ones(shape, np.float32)
    assert_same_error(lambda: cls[0](3)(mt.tensor(x)), lambda: cls[1](3)(torch.tensor(x)))
    # eval mode accepts it
    m, tm = cls[0](3).eval(), cls[1](3).eval()
    close(m(mt.tensor(x)), tm(torch.tensor(x)), np.float32)


def test_batchnorm_wrong_channel_count():
    x = np.zeros((4, 5), np.float32)
    assert_same_error(lambda: nn.BatchNorm1d(3)(mt.tensor(x)), lambda: tnn.BatchNorm1d(3)(torch.tensor(x)))


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.BatchNorm1d(3)(lib.randn(4, 3, dtype=lib.float64)),
    lambda lib: lib.nn.BatchNorm1d(3).eval()(lib.randn(4, 3, dtype=lib.float64)),
    lambda lib: lib.nn.BatchNorm1d(3, affine=False)(lib.randn(4, 3, dtype=lib.float64)),
    lambda lib: lib.nn.GroupNorm(1, 3)(lib.randn(4, 3, dtype=lib.float64)),
    lambda lib: lib.nn.InstanceNorm1d(3, affine=True)(lib.randn(4, 3, 5, dtype=lib.float64)),
    lambda lib: lib.nn.functional.batch_norm(lib.randn(4, 3, 5, dtype=lib.float64), lib.zeros(3), lib.ones(3),
                                             training=True),
])
def test_norm_mixed_dtypes(make):
    assert_same_error(lambda: make(mt), lambda: make(torch))


def test_rmsnorm_float32_weight_float64_input_promotes():
    x = np.random.default_rng(0).standard_normal((2, 5))
    with pytest.warns(UserWarning):  # torch warns that it cannot use its fused kernel
        to = tnn.RMSNorm(5)(torch.tensor(x))
    mo = nn.RMSNorm(5)(mt.tensor(x))
    assert mo.dtype == mt.float64 and to.dtype == torch.float64
    close(mo, to, np.float64)


def test_batchnorm_buffers_follow_dtype_and_double():
    m, tm = nn.BatchNorm1d(3).double(), tnn.BatchNorm1d(3).double()
    compare_modules(m, tm, np.float64)
    x, tx, _, _ = pair((4, 3), np.float64)
    close(m(x), tm(tx), np.float64)
    compare_modules(m, tm, np.float64)
    assert m.num_batches_tracked.dtype == mt.int64


def test_syncbatchnorm_is_batchnorm_without_distributed():
    m, tm = nn.SyncBatchNorm(3, momentum=0.3), tnn.SyncBatchNorm(3, momentum=0.3)
    assert repr(m) == repr(tm)
    for s in range(2):
        x, tx, xl, txl = pair((2, 3, 4, 2), np.float32, seed=s)
        mo, to = m(x), tm(tx)
        close(mo, to, np.float32)
        backward_both(mo, to, np.float32)
        close(xl.grad, txl.grad, np.float32)
    compare_modules(m, tm, np.float32)
    net = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    conv = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert type(conv[1]) is nn.SyncBatchNorm and conv[1].running_mean is net[1].running_mean
    x = np.zeros((2, 0, 3), np.float32)
    assert_same_error(lambda: nn.SyncBatchNorm(0)(mt.tensor(x)), lambda: tnn.SyncBatchNorm(0)(torch.tensor(x)))


# ------------------------------------------------------------------------------------------------ F.batch_norm
@pytest.mark.parametrize("dt", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("training,with_stats", [(True, True), (True, False), (False, True)])  # eval needs stats
@pytest.mark.parametrize("affine", [True, False])
def test_functional_batch_norm(dt, training, with_stats, affine):
    mdt, tdt, np_dt = dt
    x, tx, xl, txl = pair((3, 4, 5), np_dt, noncontig=True, offset=0.3)
    rng = np.random.default_rng(1)
    rm, rv = rng.standard_normal(4).astype(np_dt), rng.uniform(0.5, 2, 4).astype(np_dt)
    mrm, mrv = (mt.tensor(rm), mt.tensor(rv)) if with_stats else (None, None)
    trm, trv = (torch.tensor(rm), torch.tensor(rv)) if with_stats else (None, None)
    w, b = rng.standard_normal(4).astype(np_dt), rng.standard_normal(4).astype(np_dt)
    mw, mb = (mt.tensor(w, requires_grad=True), mt.tensor(b, requires_grad=True)) if affine else (None, None)
    tw, tb = (torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)) if affine else (None, None)
    mo = F.batch_norm(x, mrm, mrv, mw, mb, training, 0.2, 1e-4)
    to = TF.batch_norm(tx, trm, trv, tw, tb, training, 0.2, 1e-4)
    close(mo, to, np_dt)
    backward_both(mo, to, np_dt)
    close(xl.grad, txl.grad, np_dt)
    if affine:
        close(mw.grad, tw.grad, np_dt)
        close(mb.grad, tb.grad, np_dt)
    if with_stats:
        close(mrm, trm, np_dt)
        close(mrv, trv, np_dt)


def test_functional_batch_norm_signature_defaults():
    import inspect
    assert list(inspect.signature(F.batch_norm).parameters) == list(inspect.signature(TF.batch_norm).parameters)
    for fn in ("batch_norm", "instance_norm", "group_norm", "local_response_norm", "rms_norm", "normalize"):
        ms, ts = inspect.signature(getattr(F, fn)), inspect.signature(getattr(TF, fn))
        assert [(p.name, p.default) for p in ms.parameters.values()] == \
            [(p.name, p.default) for p in ts.parameters.values()], fn


BN_ERRORS = [
    lambda L, x: L.batch_norm(x, None, None, training=False),
    lambda L, x: L.batch_norm(x, None, None, L_ones(L, 4), training=True),
    lambda L, x: L.batch_norm(x, None, None, None, L_ones(L, 2), training=True),
    lambda L, x: L.batch_norm(x, L_ones(L, 4), L_ones(L, 4), training=True),
    lambda L, x: L.batch_norm(x, L_ones(L, 3), L_ones(L, 2), training=True),
    lambda L, x: L.batch_norm(x, L_ones(L, 3), None, training=True),
    lambda L, x: L.batch_norm(x, None, None, training=True, eps=0.0),
    lambda L, x: L.batch_norm(x, L_ones(L, 3), L_ones(L, 3), training=False, eps=-1.0),
    lambda L, x: L.batch_norm(x[0, 0], None, None, training=True),
    lambda L, x: L.batch_norm(x[:1, :, :1], None, None, training=True),
]


def L_ones(L, n):
    return (mt if L is F else torch).ones(n)


@pytest.mark.parametrize("i", range(len(BN_ERRORS)))
def test_functional_batch_norm_errors(i):
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    assert_same_error(lambda: BN_ERRORS[i](F, mt.tensor(x)), lambda: BN_ERRORS[i](TF, torch.tensor(x)))


def test_functional_batch_norm_integer_input():
    x = np.ones((2, 3), np.int64)
    assert_same_error(lambda: F.batch_norm(mt.tensor(x), None, None, training=True),
                      lambda: TF.batch_norm(torch.tensor(x), None, None, training=True))


def test_functional_batch_norm_empty_batch():
    for training in (True, False):
        mo = F.batch_norm(mt.zeros(0, 3), mt.zeros(3), mt.ones(3), training=training)
        to = TF.batch_norm(torch.zeros(0, 3), torch.zeros(3), torch.ones(3), training=training)
        assert tuple(mo.shape) == tuple(to.shape)


# ------------------------------------------------------------------------------------------------ instance norm
IN_CASES = [
    (nn.InstanceNorm1d, tnn.InstanceNorm1d, (3, 4, 6)), (nn.InstanceNorm1d, tnn.InstanceNorm1d, (4, 5)),
    (nn.InstanceNorm1d, tnn.InstanceNorm1d, (1, 4, 3)),
    (nn.InstanceNorm2d, tnn.InstanceNorm2d, (2, 4, 3, 5)), (nn.InstanceNorm2d, tnn.InstanceNorm2d, (4, 3, 3)),
    (nn.InstanceNorm3d, tnn.InstanceNorm3d, (2, 4, 2, 3, 3)), (nn.InstanceNorm3d, tnn.InstanceNorm3d, (4, 2, 2, 3)),
]


@pytest.mark.parametrize("dt", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("cls,tcls,shape", IN_CASES, ids=lambda v: str(v) if isinstance(v, tuple) else None)
@pytest.mark.parametrize("affine,track", [(False, False), (True, False), (False, True), (True, True)])
def test_instancenorm(dt, cls, tcls, shape, affine, track):
    mdt, tdt, np_dt = dt
    m = cls(4, affine=affine, track_running_stats=track, momentum=0.3, dtype=mdt)
    tm = tcls(4, affine=affine, track_running_stats=track, momentum=0.3, dtype=tdt)
    assert repr(m) == repr(tm)
    if affine:
        with torch.no_grad():
            tm.weight.copy_(torch.linspace(0.5, 2.0, 4, dtype=tdt))
            tm.bias.copy_(torch.linspace(-1.0, 1.0, 4, dtype=tdt))
    copy_state(m, tm)
    for step in range(2):
        x, tx, xl, txl = pair(shape, np_dt, noncontig=step == 1, seed=step, offset=step)
        mo, to = m(x), tm(tx)
        close(mo, to, np_dt)
        backward_both(mo, to, np_dt)
        close(xl.grad, txl.grad, np_dt)
        if affine:
            close(m.weight.grad, tm.weight.grad, np_dt)
            close(m.bias.grad, tm.bias.grad, np_dt)
        compare_modules(m, tm, np_dt)
    m.eval()
    tm.eval()
    x, tx, xl, txl = pair(shape, np_dt, seed=9)
    mo, to = m(x), tm(tx)
    close(mo, to, np_dt)
    backward_both(mo, to, np_dt)
    close(xl.grad, txl.grad, np_dt)
    compare_modules(m, tm, np_dt)


@pytest.mark.parametrize("dt", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("use_input_stats", [True, False])
def test_functional_instance_norm(dt, use_input_stats):
    mdt, tdt, np_dt = dt
    x, tx, xl, txl = pair((2, 3, 5), np_dt, noncontig=True, offset=0.5)
    rng = np.random.default_rng(2)
    rm, rv = rng.standard_normal(3).astype(np_dt), rng.uniform(0.5, 2, 3).astype(np_dt)
    w, b = rng.standard_normal(3).astype(np_dt), rng.standard_normal(3).astype(np_dt)
    mrm, mrv, trm, trv = mt.tensor(rm), mt.tensor(rv), torch.tensor(rm), torch.tensor(rv)
    mw, mb = mt.tensor(w, requires_grad=True), mt.tensor(b, requires_grad=True)
    tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    mo = F.instance_norm(x, mrm, mrv, mw, mb, use_input_stats, 0.25, 1e-3)
    to = TF.instance_norm(tx, trm, trv, tw, tb, use_input_stats, 0.25, 1e-3)
    close(mo, to, np_dt)
    backward_both(mo, to, np_dt)
    close(xl.grad, txl.grad, np_dt)
    close(mw.grad, tw.grad, np_dt)
    close(mb.grad, tb.grad, np_dt)
    close(mrm, trm, np_dt)
    close(mrv, trv, np_dt)


IN_ERRORS = [
    lambda L, x: L.instance_norm(x[..., :1]),
    lambda L, x: L.instance_norm(x[:, :, 0]),
    lambda L, x: L.instance_norm(x, L_ones(L, 4), L_ones(L, 4)),
    lambda L, x: L.instance_norm(x, None, None, L_ones(L, 4)),
    lambda L, x: L.instance_norm(x, None, None, use_input_stats=False),
]


@pytest.mark.parametrize("i", range(len(IN_ERRORS)))
def test_functional_instance_norm_errors(i):
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    assert_same_error(lambda: IN_ERRORS[i](F, mt.tensor(x)), lambda: IN_ERRORS[i](TF, torch.tensor(x)))


def test_instancenorm_module_errors_and_warning():
    x = np.zeros((4, 5, 6), np.float32)
    assert_same_error(lambda: nn.InstanceNorm1d(3, affine=True)(mt.tensor(x)),
                      lambda: tnn.InstanceNorm1d(3, affine=True)(torch.tensor(x)))
    assert_same_error(lambda: nn.InstanceNorm2d(3)(mt.tensor(x[0])), lambda: tnn.InstanceNorm2d(3)(torch.tensor(x[0])))
    assert_same_error(lambda: nn.InstanceNorm3d(3)(mt.tensor(x)), lambda: tnn.InstanceNorm3d(3)(torch.tensor(x)))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(mt.randn(4, 5, 6))


def test_instancenorm_rejects_running_stats_from_old_checkpoints():
    """PyTorch drops running stats found in a version-less checkpoint of an untracked InstanceNorm, with an error."""
    sd = {"running_mean": mt.zeros(3), "running_var": mt.ones(3)}
    tsd = {"running_mean": torch.zeros(3), "running_var": torch.ones(3)}
    assert_same_error(lambda: nn.InstanceNorm1d(3).load_state_dict(sd),
                      lambda: tnn.InstanceNorm1d(3).load_state_dict(tsd))


# ------------------------------------------------------------------------------------------------ group norm
@pytest.mark.parametrize("dt", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("groups,shape", [(1, (3, 6, 5)), (2, (3, 6, 5)), (3, (2, 6, 2, 3)), (6, (1, 6, 3)),
                                          (2, (4, 6)), (3, (2, 6, 2, 2, 3))])
@pytest.mark.parametrize("affine", [True, False])
def test_groupnorm(dt, groups, shape, affine):
    mdt, tdt, np_dt = dt
    m = nn.GroupNorm(groups, 6, eps=1e-4, affine=affine, dtype=mdt)
    tm = tnn.GroupNorm(groups, 6, eps=1e-4, affine=affine, dtype=tdt)
    assert repr(m) == repr(tm)
    if affine:
        with torch.no_grad():
            tm.weight.copy_(torch.linspace(0.5, 2.0, 6, dtype=tdt))
            tm.bias.copy_(torch.linspace(-1.0, 1.0, 6, dtype=tdt))
    copy_state(m, tm)
    x, tx, xl, txl = pair(shape, np_dt, noncontig=len(shape) > 2, offset=1.0, scale=2.0)
    mo, to = m(x), tm(tx)
    close(mo, to, np_dt)
    backward_both(mo, to, np_dt)
    close(xl.grad, txl.grad, np_dt)
    if affine:
        close(m.weight.grad, tm.weight.grad, np_dt)
        close(m.bias.grad, tm.bias.grad, np_dt)
    compare_modules(m, tm, np_dt)


def test_groupnorm_no_bias():
    m, tm = nn.GroupNorm(2, 4, bias=False), tnn.GroupNorm(2, 4, bias=False)
    assert repr(m) == repr(tm) and list(m.state_dict()) == list(tm.state_dict())


GN_ERRORS = [
    lambda L, lib: L.group_norm(lib.randn(2, 6, 4), 4),
    lambda L, lib: L.group_norm(lib.randn(2, 6, 4), 3, lib.ones(5)),
    lambda L, lib: L.group_norm(lib.randn(2, 6, 4), 3, None, lib.ones(5)),
    lambda L, lib: L.group_norm(lib.randn(6), 3),
    lambda L, lib: L.group_norm(lib.randn(1, 3), 3),
    lambda L, lib: L.group_norm(lib.randn(2, 6), 0),
    lambda L, lib: lib.nn.GroupNorm(4, 6),
    lambda L, lib: lib.nn.GroupNorm(2, 6)(lib.randn(2, 4, 3)),
]


@pytest.mark.parametrize("i", range(len(GN_ERRORS)))
def test_groupnorm_errors(i):
    # case 2: PyTorch's message prints the (absent) weight's shape [0] for the bad bias; only the type is compared
    assert_same_error(lambda: GN_ERRORS[i](F, mt), lambda: GN_ERRORS[i](TF, torch), match_message=i != 2)


# ------------------------------------------------------------------------------------------------ local response norm
@pytest.mark.parametrize("dt", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("size", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("shape", [(2, 5, 4), (1, 5, 3, 4), (2, 5, 2, 3, 2)])
def test_local_response_norm(dt, size, shape):
    mdt, tdt, np_dt = dt
    m, tm = nn.LocalResponseNorm(size, alpha=0.3, beta=0.6, k=1.5), tnn.LocalResponseNorm(size, 0.3, 0.6, 1.5)
    assert repr(m) == repr(tm)
    x, tx, xl, txl = pair(shape, np_dt, noncontig=True, scale=2.0)
    # PyTorch's 4D+ path .view()s its input, which fails for a non-contiguous 5-D input: torch gets a copy there
    mo, to = m(x), tm(tx.contiguous() if len(shape) > 4 else tx)
    close(mo, to, np_dt)
    backward_both(mo, to, np_dt)
    close(xl.grad, txl.grad, np_dt)


def test_local_response_norm_defaults_and_errors():
    assert repr(nn.LocalResponseNorm(2)) == repr(tnn.LocalResponseNorm(2))
    x, tx, _, _ = pair((2, 4, 3), np.float32)
    close(F.local_response_norm(x, 3), TF.local_response_norm(tx, 3), np.float32)
    x2 = np.zeros((2, 6), np.float32)
    assert_same_error(lambda: F.local_response_norm(mt.tensor(x2), 2),
                      lambda: TF.local_response_norm(torch.tensor(x2), 2))
    assert tuple(F.local_response_norm(mt.zeros(0, 3, 4), 2).shape) == (0, 3, 4)


# ------------------------------------------------------------------------------------------------ RMS norm
@pytest.mark.parametrize("dt", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("nshape,shape", [(5, (3, 5)), ((5,), (2, 3, 5)), ((3, 5), (2, 3, 5)), ([4], (4,)),
                                          ((2, 2, 3), (1, 2, 2, 3))])
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("affine", [True, False])
def test_rmsnorm(dt, nshape, shape, eps, affine):
    mdt, tdt, np_dt = dt
    m = nn.RMSNorm(nshape, eps=eps, elementwise_affine=affine, dtype=mdt)
    tm = tnn.RMSNorm(nshape, eps=eps, elementwise_affine=affine, dtype=tdt)
    assert repr(m) == repr(tm)
    if affine:
        with torch.no_grad():
            tm.weight.copy_(torch.linspace(0.5, 2.0, tm.weight.numel(), dtype=tdt).reshape(tm.weight.shape))
    copy_state(m, tm)
    x, tx, xl, txl = pair(shape, np_dt, noncontig=len(shape) > 1, scale=0.5)
    mo, to = m(x), tm(tx)
    close(mo, to, np_dt)
    backward_both(mo, to, np_dt)
    close(xl.grad, txl.grad, np_dt)
    if affine:
        close(m.weight.grad, tm.weight.grad, np_dt)
    compare_modules(m, tm, np_dt)


def test_rms_norm_tiny_input_uses_dtype_eps():
    for mdt, tdt, np_dt in DTYPES:
        x = np.full((2, 3), 1e-9, np_dt)
        close(F.rms_norm(mt.tensor(x), (3,)), TF.rms_norm(torch.tensor(x), (3,)), np_dt)


RMS_ERRORS = [
    lambda L, lib: L.rms_norm(lib.randn(2, 6), (5,)),
    lambda L, lib: L.rms_norm(lib.randn(2, 6), (6,), lib.ones(5)),
    lambda L, lib: L.rms_norm(lib.ones(2, 6, dtype=lib.long), (6,)),
    lambda L, lib: L.rms_norm(lib.randn(3), (2, 3)),
]


@pytest.mark.parametrize("i", range(len(RMS_ERRORS)))
def test_rms_norm_errors(i):
    assert_same_error(lambda: RMS_ERRORS[i](F, mt), lambda: RMS_ERRORS[i](TF, torch))


# ------------------------------------------------------------------------------------------------ F.normalize
@pytest.mark.parametrize("dt", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 0), (3, -1), (2, 2), (0.5, 1)])
def test_normalize(dt, p, dim):
    mdt, tdt, np_dt = dt
    x, tx, xl, txl = pair((3, 4, 5), np_dt, noncontig=True)
    mo, to = F.normalize(x, p, dim), TF.normalize(tx, p, dim)
    close(mo, to, np_dt)
    backward_both(mo, to, np_dt)
    close(xl.grad, txl.grad, np_dt)


def test_normalize_eps_and_zero_rows():
    x = np.zeros((2, 3), np.float64)
    x[1] = [1e-14, 0, 0]
    close(F.normalize(mt.tensor(x)), TF.normalize(torch.tensor(x)), np.float64)
    close(F.normalize(mt.tensor(x), eps=0.5), TF.normalize(torch.tensor(x), eps=0.5), np.float64)
    v, tv, _, _ = pair((5,), np.float32)
    close(F.normalize(v, dim=0), TF.normalize(tv, dim=0), np.float32)
    assert_same_error(lambda: F.normalize(mt.ones(3)), lambda: TF.normalize(torch.ones(3)))
    assert_same_error(lambda: F.normalize(mt.ones(2, 3, dtype=mt.long)),
                      lambda: TF.normalize(torch.ones(2, 3, dtype=torch.long)))


# ------------------------------------------------------------------------------------------------ module plumbing
def test_norm_modules_in_a_network_train_and_state_dict_roundtrip():
    def build(lib):
        return lib.Sequential(lib.Linear(4, 6), lib.BatchNorm1d(6), lib.ReLU(), lib.Unflatten(1, (6, 1)),
                              lib.GroupNorm(3, 6), lib.InstanceNorm1d(6, affine=True, track_running_stats=True),
                              lib.Flatten(), lib.RMSNorm(6))
    m, tm = build(nn), build(tnn)
    assert repr(m) == repr(tm)
    copy_state(m, tm)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    # InstanceNorm1d over a length-1 spatial dim raises in training: run it in eval
    m[5].eval()
    tm[5].eval()
    mo, to = m(mt.tensor(x)), tm(torch.tensor(x))
    close(mo, to, np.float32)
    compare_modules(m, tm, np.float32)
    m2 = build(nn)
    m2.load_state_dict(m.state_dict())
    compare_modules(m2, tm, np.float32)


def test_factory_kwargs():
    for m in (nn.BatchNorm1d(3, dtype=mt.float64), nn.InstanceNorm2d(3, affine=True, dtype=mt.float64),
              nn.GroupNorm(1, 3, dtype=mt.float64), nn.RMSNorm(3, dtype=mt.float64)):
        for name, t in list(m.named_parameters()) + list(m.named_buffers()):
            assert t.dtype == (mt.int64 if name == "num_batches_tracked" else mt.float64), name
    m = nn.BatchNorm1d(3, device="cpu")
    assert m.running_mean.device.type == "cpu" and m.num_batches_tracked.device.type == "cpu"


def test_fused_batch_norm_node_and_gradcheck():
    """F.batch_norm runs the fused C kernel on CPU: torch's node name, and finite differences in float64 for the
    training (batch statistics) and evaluation forms."""
    import minitorch as mt
    rng = np.random.default_rng(5)
    x = mt.tensor(rng.standard_normal((3, 4, 5)), requires_grad=True)
    w = mt.tensor(rng.standard_normal(4), requires_grad=True)
    b = mt.tensor(rng.standard_normal(4), requires_grad=True)
    rm, rv = mt.tensor(rng.standard_normal(4)), mt.tensor(rng.random(4) + 0.5)
    y = mt.nn.functional.batch_norm(x, rm.clone(), rv.clone(), w, b, training=True)
    assert y.grad_fn.name() == "NativeBatchNormBackward0"
    assert mt.autograd.gradcheck(lambda x, w, b: mt.nn.functional.batch_norm(x, None, None, w, b, training=True),
                                 (x, w, b))
    assert mt.autograd.gradcheck(lambda x, w, b: mt.nn.functional.batch_norm(x, rm, rv, w, b, training=False),
                                 (x, w, b))

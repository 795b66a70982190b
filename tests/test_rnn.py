"""nn.LSTM / GRU / RNN and their cells against torch (values, every gradient, errors, state_dict)."""
import math

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn as mnn

torch = pytest.importorskip("torch")

TOL = {torch.float32: dict(rtol=2e-4, atol=2e-5), torch.float64: dict(rtol=1e-9, atol=1e-11)}
MDT = {torch.float32: mt.float32, torch.float64: mt.float64}


def M(t, rg=False):
    m = mt.tensor(t.detach().numpy())
    if rg:
        m.requires_grad_(True)
    return m


def close(a, b, dt, what=""):
    assert a is not None and b is not None, what
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), err_msg=what, **TOL[dt])


def copy_params(tm, mm):
    sd = {k: M(v) for k, v in tm.state_dict().items()}
    mm.load_state_dict(sd)


def build(cls_t, cls_m, args, kw, dt):
    torch.manual_seed(0)
    tm = cls_t(*args, **kw, dtype=dt)
    mm = cls_m(*args, **kw, dtype=MDT[dt])
    copy_params(tm, mm)
    return tm, mm


def run_pair(tm, mm, x, hx, dt):
    """forward both, backward a random weighting of every output, compare all values and grads."""
    xt = x.clone().requires_grad_(True)
    xm = M(x, True)
    if hx is None:
        hxt = hxm = None
    elif isinstance(hx, tuple):
        hxt = tuple(h.clone().requires_grad_(True) for h in hx)
        hxm = tuple(M(h, True) for h in hx)
    else:
        hxt = hx.clone().requires_grad_(True)
        hxm = M(hx, True)
    ot = tm(xt) if hxt is None else tm(xt, hxt)
    om = mm(xm) if hxm is None else mm(xm, hxm)
    flat_t = [ot[0]] + (list(ot[1]) if isinstance(ot[1], tuple) else [ot[1]]) if isinstance(ot, tuple) else [ot]
    flat_m = [om[0]] + (list(om[1]) if isinstance(om[1], tuple) else [om[1]]) if isinstance(om, tuple) else [om]
    g = torch.Generator().manual_seed(1)
    lt, lm = 0, 0
    for a, b in zip(flat_t, flat_m):
        assert tuple(a.shape) == tuple(b.shape)
        close(b, a, dt, "forward")
        w = torch.randn(a.shape, generator=g, dtype=dt)
        lt = lt + (a * w).sum()
        lm = lm + (b * M(w)).sum()
    lt.backward()
    lm.backward()
    close(xm.grad, xt.grad, dt, "input grad")
    if hxt is not None:
        for a, b in zip(hxt if isinstance(hxt, tuple) else (hxt,), hxm if isinstance(hxm, tuple) else (hxm,)):
            close(b.grad, a.grad, dt, "hx grad")
    pm = dict(mm.named_parameters())
    for n, p in tm.named_parameters():
        close(pm[n].grad, p.grad, dt, n)


CONFIGS = [
    dict(num_layers=1),
    dict(num_layers=2),
    dict(num_layers=1, batch_first=True),
    dict(num_layers=2, batch_first=True),
    dict(num_layers=1, bidirectional=True),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(num_layers=1, bias=False),
]


@pytest.mark.parametrize("dt", [torch.float32, torch.float64])
@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN_tanh", "RNN_relu"])
def test_parity(kind, dt, cfg, with_state):
    name = kind.split("_")[0]
    kw = dict(cfg)
    if kind.startswith("RNN"):
        kw["nonlinearity"] = kind.split("_")[1]
    tm, mm = build(getattr(torch.nn, name), getattr(mnn, name), (5, 7), kw, dt)
    T, B = 6, 3
    torch.manual_seed(2)
    x = torch.randn((B, T, 5) if cfg.get("batch_first") else (T, B, 5), dtype=dt)
    nd = 2 if cfg.get("bidirectional") else 1
    hx = None
    if with_state:
        shp = (cfg["num_layers"] * nd, B, 7)
        hx = (torch.randn(shp, dtype=dt), torch.randn(shp, dtype=dt)) if name == "LSTM" else torch.randn(shp, dtype=dt)
    run_pair(tm, mm, x, hx, dt)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("with_state", [False, True])
def test_unbatched(kind, with_state):
    dt = torch.float64
    tm, mm = build(getattr(torch.nn, kind), getattr(mnn, kind), (4, 5), dict(num_layers=2, bidirectional=True), dt)
    x = torch.randn(7, 4, dtype=dt)
    hx = None
    if with_state:
        hx = (torch.randn(4, 5, dtype=dt), torch.randn(4, 5, dtype=dt)) if kind == "LSTM" else torch.randn(4, 5, dtype=dt)
    run_pair(tm, mm, x, hx, dt)


def test_lstm_grad_fn_names():
    m = mnn.LSTM(1, 2)
    out, (h, c) = m(mt.randn(3, 1, 1))
    assert type(out.grad_fn).__name__ == "MkldnnRnnLayerBackward0" or out.grad_fn.name() == "MkldnnRnnLayerBackward0"
    assert "Stack" in out.grad_fn.name() or "Stack" in h.grad_fn.name()


def test_lstm_long_sequence_and_tutorial_shape():
    """the tutorial's shapes (batch_first, I=1) with a larger hidden size: threads split the batch"""
    dt = torch.float32
    tm, mm = build(torch.nn.LSTM, mnn.LSTM, (1, 64), dict(batch_first=True, num_layers=2), dt)
    x = torch.rand(32, 40, 1, dtype=dt)
    run_pair(tm, mm, x, None, dt)


def test_dropout_between_layers_and_eval():
    m = mnn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = mt.randn(5, 2, 3)
    m.eval()
    a, _ = m(x)
    b, _ = m(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m.train()
    mt.manual_seed(0)
    c, _ = m(x)
    mt.manual_seed(1)
    d, _ = m(x)
    assert not np.allclose(c.detach().numpy(), d.detach().numpy())
    with pytest.warns(UserWarning):
        mnn.LSTM(3, 4, num_layers=1, dropout=0.5)


def test_eval_no_grad_matches_train_path():
    dt = torch.float32
    tm, mm = build(torch.nn.LSTM, mnn.LSTM, (3, 16), dict(num_layers=2), dt)
    x = torch.randn(9, 20, 3)
    with mt.no_grad():
        om, (hm, cm) = mm(M(x))
    ot, (ht, ct) = tm(x)
    close(om, ot, dt)
    close(hm, ht, dt)
    close(cm, ct, dt)


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell"])
@pytest.mark.parametrize("dt", [torch.float32, torch.float64])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("batched", [True, False])
def test_cells(kind, dt, with_state, batched):
    tm, mm = build(getattr(torch.nn, kind), getattr(mnn, kind), (4, 6), {}, dt)
    shp = (3,) if batched else ()
    x = torch.randn(shp + (4,), dtype=dt)
    hx = None
    if with_state:
        hx = (torch.randn(shp + (6,), dtype=dt), torch.randn(shp + (6,), dtype=dt)) if kind == "LSTMCell" \
            else torch.randn(shp + (6,), dtype=dt)
    xt, xm = x.clone().requires_grad_(True), M(x, True)
    if hx is None:
        ot, om = tm(xt), mm(xm)
    elif isinstance(hx, tuple):
        ot, om = tm(xt, hx), mm(xm, tuple(M(h) for h in hx))
    else:
        ot, om = tm(xt, hx), mm(xm, M(hx))
    ot = ot if isinstance(ot, tuple) else (ot,)
    om = om if isinstance(om, tuple) else (om,)
    lt = sum((a * (k + 1.5)).sum() for k, a in enumerate(ot))
    lm = sum((a * (k + 1.5)).sum() for k, a in enumerate(om))
    for a, b in zip(ot, om):
        close(b, a, dt)
    lt.backward()
    lm.backward()
    close(xm.grad, xt.grad, dt)
    pm = dict(mm.named_parameters())
    for n, p in tm.named_parameters():
        close(pm[n].grad, p.grad, dt, n)


def test_rnn_cell_relu():
    tm, mm = build(torch.nn.RNNCell, mnn.RNNCell, (4, 6), dict(nonlinearity="relu"), torch.float64)
    x = torch.randn(3, 4, dtype=torch.float64)
    close(mm(M(x)), tm(x), torch.float64)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell"])
def test_state_dict_keys_and_shapes(kind):
    kw = dict(num_layers=2, bidirectional=True) if not kind.endswith("Cell") else {}
    tm = getattr(torch.nn, kind)(3, 5, **kw)
    mm = getattr(mnn, kind)(3, 5, **kw)
    ts, ms = tm.state_dict(), mm.state_dict()
    assert list(ts.keys()) == list(ms.keys())
    for k in ts:
        assert tuple(ts[k].shape) == tuple(ms[k].shape), k
    mm.load_state_dict({k: M(v) for k, v in ts.items()})
    for k in ts:
        np.testing.assert_array_equal(mm.state_dict()[k].numpy(), ts[k].numpy())


def test_init_range():
    m = mnn.LSTM(10, 100, num_layers=2)
    bound = 1 / math.sqrt(100)
    for n, p in m.named_parameters():
        a = p.detach().numpy()
        assert a.min() >= -bound and a.max() <= bound, n
        assert a.std() > bound / 3, n


def test_gru_cell_op_values_gradcheck_and_errors():
    """the fused GRU step (_C._gru_cell, after the GEMMs): values against the formulas in float64
    NumPy, gradients of all three inputs by central differences, float32 close to float64, errors"""
    from minitorch import _C
    from minitorch.autograd import gradcheck
    rng = np.random.default_rng(3)
    B, H = 3, 5
    xp, hh, h = (rng.standard_normal(s) * 2 for s in [(B, 3 * H), (B, 3 * H), (B, H)])
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    r, z = sig(xp[:, :H] + hh[:, :H]), sig(xp[:, H:2 * H] + hh[:, H:2 * H])
    n = np.tanh(xp[:, 2 * H:] + r * hh[:, 2 * H:])
    want = n + z * (h - n)
    np.testing.assert_allclose(_C._gru_cell(mt.tensor(xp), mt.tensor(hh), mt.tensor(h)).numpy(), want, rtol=1e-12)
    got32 = _C._gru_cell(*(mt.tensor(a.astype(np.float32)) for a in (xp, hh, h))).numpy()
    np.testing.assert_allclose(got32, want, rtol=0, atol=2e-6)
    ts = [mt.tensor(a, requires_grad=True) for a in (xp, hh, h)]
    assert _C._gru_cell(*ts).grad_fn.name() == "GruCellBackward0"
    assert gradcheck(lambda a, b, c: _C._gru_cell(a, b, c), ts)
    with pytest.raises(RuntimeError, match="gru_cell"):
        _C._gru_cell(mt.tensor(xp), mt.tensor(hh), mt.tensor(h[:, :4]))
    with pytest.raises(RuntimeError, match="gru_cell"):
        _C._gru_cell(mt.tensor(xp), mt.tensor(hh.astype(np.float32)), mt.tensor(h))


@pytest.mark.parametrize("kind", ["GRU", "RNN_tanh", "RNN_relu"])
def test_gru_rnn_layer_own_backward_float64_and_saved_state(kind):
    """the CPU GRU / RNN layers' own backward through time (_GRULayer, _RNNLayer): every gradient by
    central differences in float64 (two layers, both directions, with h0); an in-place change of the
    output before backward is reported; outputs used without backward are freed; a second backward
    without retain_graph is refused"""
    from minitorch.autograd import gradcheck
    mt.manual_seed(0)
    make = {"GRU": mnn.GRU, "RNN_tanh": mnn.RNN,
            "RNN_relu": lambda *a, **k: mnn.RNN(*a, nonlinearity="relu", **k)}[kind]
    gru = make(3, 4, num_layers=2, bidirectional=True).double()
    x = mt.randn(5, 2, 3, dtype=mt.float64, requires_grad=True)
    h0 = mt.randn(4, 2, 4, dtype=mt.float64, requires_grad=True)

    def f(x, h0):
        out, hn = gru(x, h0)
        return out.sum() + (hn * hn).sum()

    assert gradcheck(f, [x, h0])
    f(x, h0).backward()
    eps = 1e-6
    for name in ("weight_hh_l0", "bias_hh_l1_reverse", "weight_ih_l1"):  # a few entries of each
        p = getattr(gru, name)
        flat = p.detach().reshape(-1)
        for i in (0, flat.shape[0] // 2, flat.shape[0] - 1):
            with mt.no_grad():
                v = float(flat[i])
                flat[i] = v + eps
                up = float(f(x, h0))
                flat[i] = v - eps
                down = float(f(x, h0))
                flat[i] = v
            assert abs((up - down) / (2 * eps) - float(p.grad.reshape(-1)[i])) < 1e-6, (name, i)
    out, hn = make(3, 4)(mt.randn(5, 2, 3, requires_grad=True))
    out.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
    import gc
    import weakref
    out, hn = make(3, 4)(mt.randn(5, 2, 3, requires_grad=True))  # used without backward: freed
    refs = [weakref.ref(out), weakref.ref(hn)]
    del out, hn
    gc.collect()
    assert all(r() is None for r in refs)
    out, hn = make(3, 4)(mt.randn(5, 2, 3, requires_grad=True))
    hn.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        hn.sum().backward()


def test_gradcheck_fused_layer_float64():
    from minitorch import _C
    rng = np.random.default_rng(0)
    T, B, I, H = 3, 2, 2, 3
    args = [rng.standard_normal(s) for s in [(T, B, I), (B, H), (B, H), (4 * H, I), (4 * H, H), (4 * H,), (4 * H,)]]
    ws = [rng.standard_normal(s) for s in [(T, B, H), (B, H), (B, H)]]

    def f(arrs, reverse):
        ts = [mt.tensor(a) for a in arrs]
        o, h, c = _C._lstm_layer(*ts, reverse)
        return float((o * mt.tensor(ws[0])).sum() + (h * mt.tensor(ws[1])).sum() + (c * mt.tensor(ws[2])).sum())

    for reverse in (False, True):
        ts = [mt.tensor(a, requires_grad=True) for a in args]
        o, h, c = _C._lstm_layer(*ts, reverse)
        ((o * mt.tensor(ws[0])).sum() + (h * mt.tensor(ws[1])).sum() + (c * mt.tensor(ws[2])).sum()).backward()
        eps = 1e-6
        for k, a in enumerate(args):
            num = np.zeros_like(a)
            for idx in np.ndindex(a.shape):
                ap, am = [x.copy() for x in args], [x.copy() for x in args]
                ap[k][idx] += eps
                am[k][idx] -= eps
                num[idx] = (f(ap, reverse) - f(am, reverse)) / (2 * eps)
            np.testing.assert_allclose(ts[k].grad.numpy(), num, rtol=1e-6, atol=1e-8, err_msg=f"arg {k} rev {reverse}")


def test_backward_twice_and_inplace_errors():
    m = mnn.LSTM(2, 3)
    out, _ = m(mt.randn(4, 2, 2))
    out.sum().backward(retain_graph=True)
    g1 = m.weight_hh_l0.grad.numpy().copy()
    out.sum().backward()
    np.testing.assert_allclose(m.weight_hh_l0.grad.numpy(), 2 * g1, rtol=1e-6)
    with pytest.raises(RuntimeError, match="second time"):
        out.sum().backward()
    out, _ = m(mt.randn(4, 2, 2))
    out.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_errors_match_torch():
    def both(fn_t, fn_m):
        with pytest.raises(Exception) as et:
            fn_t()
        with pytest.raises(Exception) as em:
            fn_m()
        assert type(em.value) is type(et.value), (em.value, et.value)
        assert str(em.value) == str(et.value)

    tl, ml = torch.nn.LSTM(3, 4), mnn.LSTM(3, 4)
    both(lambda: tl(torch.randn(2, 3, 5)), lambda: ml(mt.randn(2, 3, 5)))
    both(lambda: tl(torch.randn(2, 3, 3, 1)), lambda: ml(mt.randn(2, 3, 3, 1)))
    both(lambda: tl(torch.randn(2, 3, 3, dtype=torch.float64)), lambda: ml(mt.randn(2, 3, 3, dtype=mt.float64)))
    both(lambda: tl(torch.randn(2, 3, 3), (torch.zeros(1, 2, 4), torch.zeros(1, 3, 4))),
         lambda: ml(mt.randn(2, 3, 3), (mt.zeros(1, 2, 4), mt.zeros(1, 3, 4))))
    both(lambda: tl(torch.randn(2, 3, 3), (torch.zeros(1, 3, 4), torch.zeros(2, 3, 4))),
         lambda: ml(mt.randn(2, 3, 3), (mt.zeros(1, 3, 4), mt.zeros(2, 3, 4))))
    both(lambda: tl(torch.randn(2, 3, 3), (torch.zeros(3, 4), torch.zeros(3, 4))),
         lambda: ml(mt.randn(2, 3, 3), (mt.zeros(3, 4), mt.zeros(3, 4))))
    both(lambda: tl(torch.randn(2, 3), (torch.zeros(1, 3, 4), torch.zeros(1, 3, 4))),
         lambda: ml(mt.randn(2, 3), (mt.zeros(1, 3, 4), mt.zeros(1, 3, 4))))
    tg, mg = torch.nn.GRU(3, 4), mnn.GRU(3, 4)
    both(lambda: tg(torch.randn(2, 3, 3), torch.zeros(1, 2, 4)), lambda: mg(mt.randn(2, 3, 3), mt.zeros(1, 2, 4)))
    both(lambda: tg(torch.randn(2, 3, 3), torch.zeros(2, 4)), lambda: mg(mt.randn(2, 3, 3), mt.zeros(2, 4)))
    both(lambda: tg(torch.randn(2, 3), torch.zeros(1, 1, 4)), lambda: mg(mt.randn(2, 3), mt.zeros(1, 1, 4)))
    tr, mr = torch.nn.RNN(3, 4), mnn.RNN(3, 4)
    both(lambda: tr(torch.randn(3)), lambda: mr(mt.randn(3)))
    both(lambda: torch.nn.RNN(3, 4, nonlinearity="sigmoid"), lambda: mnn.RNN(3, 4, nonlinearity="sigmoid"))
    both(lambda: torch.nn.LSTM(3, 4, dropout=2), lambda: mnn.LSTM(3, 4, dropout=2))
    both(lambda: torch.nn.LSTM(3, 0), lambda: mnn.LSTM(3, 0))
    both(lambda: torch.nn.LSTM(3, 4, num_layers=0), lambda: mnn.LSTM(3, 4, num_layers=0))
    for name, h in (("LSTMCell", (torch.zeros(2, 5), torch.zeros(2, 4))), ("GRUCell", torch.zeros(2, 5)),
                    ("RNNCell", torch.zeros(3, 4))):
        tc, mc = getattr(torch.nn, name)(3, 4), getattr(mnn, name)(3, 4)
        both(lambda: tc(torch.randn(2, 5)), lambda: mc(mt.randn(2, 5)))
        hm = tuple(M(a) for a in h) if isinstance(h, tuple) else M(h)
        both(lambda: tc(torch.randn(2, 3), h), lambda: mc(mt.randn(2, 3), hm))
        both(lambda: tc(torch.randn(2, 3, 3)), lambda: mc(mt.randn(2, 3, 3)))


def test_repr():
    for args, kw in (((3, 4), {}), ((3, 4), dict(num_layers=2, batch_first=True, dropout=0.1, bidirectional=True)),
                     ((3, 4), dict(bias=False))):
        assert repr(mnn.LSTM(*args, **kw)) == repr(torch.nn.LSTM(*args, **kw))
        assert repr(mnn.GRU(*args, **kw)) == repr(torch.nn.GRU(*args, **kw))
    assert repr(mnn.RNN(3, 4, nonlinearity="relu")) == repr(torch.nn.RNN(3, 4, nonlinearity="relu"))
    assert repr(mnn.LSTMCell(3, 4)) == repr(torch.nn.LSTMCell(3, 4))
    assert repr(mnn.RNNCell(3, 4, bias=False, nonlinearity="relu")) == repr(torch.nn.RNNCell(3, 4, bias=False, nonlinearity="relu"))

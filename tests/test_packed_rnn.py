"""nn.utils.rnn (pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence, PackedSequence, ...)
and LSTM / GRU / RNN on PackedSequence input, against PyTorch: values, lengths, indices, errors, and the
RNNs' packed outputs, final states and every gradient (inputs, initial states, parameters)."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.nn as nn
from minitorch.nn.utils import rnn as R

torch = pytest.importorskip("torch")
TR = torch.nn.utils.rnn

DTYPES = [(mt.float32, torch.float32, 2e-5, 2e-6), (mt.float64, torch.float64, 1e-10, 1e-12)]


def to_mt(t, requires_grad=False):
    return mt.tensor(t.detach().numpy(), requires_grad=requires_grad)


def close(a, b, rtol=1e-6, atol=1e-7):
    assert a is not None and b is not None
    b = b.detach().numpy()
    scale = max(1.0, float(np.abs(b).max())) if b.size else 1.0
    np.testing.assert_allclose(a.detach().numpy(), b, rtol=rtol, atol=atol * scale)


def same_ints(a, b):
    if a is None or b is None:
        assert a is None and b is None
        return
    assert a.dtype == mt.int64
    assert a.tolist() == b.tolist()


def same_packed(mp, tp, rtol=1e-6, atol=1e-7):
    assert isinstance(mp, R.PackedSequence)
    close(mp.data, tp.data, rtol, atol)
    same_ints(mp.batch_sizes, tp.batch_sizes)
    same_ints(mp.sorted_indices, tp.sorted_indices)
    same_ints(mp.unsorted_indices, tp.unsorted_indices)


# ------------------------------------------------------------------------------------------------ utils
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("trailing", [(), (3,), (2, 2)])
def test_pad_sequence(batch_first, padding_side, trailing):
    torch.manual_seed(0)
    seqs = [torch.randn(n, *trailing) for n in (3, 5, 1, 5)]
    t_in = [s.clone().requires_grad_() for s in seqs]
    m_in = [to_mt(s, True) for s in seqs]
    to = TR.pad_sequence(t_in, batch_first=batch_first, padding_value=-2.5, padding_side=padding_side)
    mo = R.pad_sequence(m_in, batch_first=batch_first, padding_value=-2.5, padding_side=padding_side)
    assert tuple(mo.shape) == tuple(to.shape)
    close(mo, to)
    g = torch.randn(to.shape)
    (to * g).sum().backward()
    (mo * to_mt(g)).sum().backward()
    for a, b in zip(m_in, t_in):
        close(a.grad, b.grad)


def test_pad_sequence_tensor_input_and_errors():
    x = torch.randn(3, 4, 2)
    close(R.pad_sequence(to_mt(x)), TR.pad_sequence(x))
    for lib, mod in ((torch, TR), (mt, R)):
        with pytest.raises(RuntimeError, match="received an empty list of sequences"):
            mod.pad_sequence([])
        with pytest.raises(RuntimeError, match="Expected padding_side to be one of left or right, but got middle."):
            mod.pad_sequence([lib.ones(2), lib.ones(3)], padding_side="middle")
        with pytest.raises(RuntimeError):
            mod.pad_sequence([lib.ones(2, 3), lib.ones(3, 4)])


PACK_CASES = [
    dict(lengths=[5, 3, 3, 1]),
    dict(lengths=[2, 5, 3, 5], enforce_sorted=False),
    dict(lengths="tensor", enforce_sorted=False),
    dict(lengths=[5, 5, 5, 5]),
    dict(lengths=[1, 1, 1, 1]),
]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("case", range(len(PACK_CASES)))
@pytest.mark.parametrize("total_length", [None, 7])
def test_pack_and_pad_roundtrip(batch_first, case, total_length):
    torch.manual_seed(1)
    kw = dict(PACK_CASES[case])
    tlen = kw["lengths"]
    mlen = tlen
    if tlen == "tensor":
        tlen = torch.tensor([4, 2, 5, 3])
        mlen = to_mt(tlen)
    x = torch.randn(4, 5, 3) if batch_first else torch.randn(5, 4, 3)
    tx = x.clone().requires_grad_()
    mx = to_mt(x, True)
    tp = TR.pack_padded_sequence(tx, tlen, batch_first=batch_first, enforce_sorted=kw.get("enforce_sorted", True))
    mp = R.pack_padded_sequence(mx, mlen, batch_first=batch_first, enforce_sorted=kw.get("enforce_sorted", True))
    same_packed(mp, tp)
    ta, tl = TR.pad_packed_sequence(tp, batch_first=batch_first, padding_value=9.0, total_length=total_length)
    ma, ml = R.pad_packed_sequence(mp, batch_first=batch_first, padding_value=9.0, total_length=total_length)
    assert tuple(ma.shape) == tuple(ta.shape)
    close(ma, ta)
    same_ints(ml, tl)
    g = torch.randn(ta.shape)
    (ta * g).sum().backward()
    (ma * to_mt(g)).sum().backward()
    close(mx.grad, tx.grad)   # zero at the padding


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_unpack_sequence(enforce_sorted):
    lens = (4, 3, 1) if enforce_sorted else (2, 4, 1)
    seqs = [torch.randn(n, 2) for n in lens]
    tp = TR.pack_sequence(seqs, enforce_sorted=enforce_sorted)
    mp = R.pack_sequence([to_mt(s) for s in seqs], enforce_sorted=enforce_sorted)
    same_packed(mp, tp)
    for a, b in zip(R.unpack_sequence(mp), TR.unpack_sequence(tp)):
        close(a, b)
    padded = TR.pad_sequence(seqs, batch_first=True)
    for a, b in zip(R.unpad_sequence(to_mt(padded), mt.tensor(list(lens)), batch_first=True), seqs):
        close(a, b)
    for a, b in zip(R.unpad_sequence(to_mt(padded.transpose(0, 1)), mt.tensor(list(lens))), seqs):
        close(a, b)


def test_packed_sequence_type():
    tp = TR.pack_sequence([torch.randn(3, 2), torch.randn(1, 2)], enforce_sorted=False)
    mp = R.pack_sequence([mt.randn(3, 2), mt.randn(1, 2)], enforce_sorted=False)
    assert isinstance(mp, tuple) and mp._fields == tp._fields
    data, bs, si, ui = mp
    assert data is mp.data and bs is mp.batch_sizes
    d = mp.to(mt.float64)
    assert isinstance(d, R.PackedSequence) and d.data.dtype == mt.float64
    assert d.batch_sizes is mp.batch_sizes and d.sorted_indices.tolist() == si.tolist()
    assert mp.to(mt.float32) is mp
    assert mp.double().data.dtype == mt.float64 and mp.double().float().data.dtype == mt.float32
    assert mp.is_cuda is False
    assert repr(mp).startswith("PackedSequence(data=tensor(")
    same_ints(R.invert_permutation(mt.tensor([2, 0, 1])), TR.invert_permutation(torch.tensor([2, 0, 1])))
    assert R.invert_permutation(None) is None
    p = R.PackedSequence(mt.ones(3, 2), mt.tensor([2, 1]))
    assert p.sorted_indices is None and p.unsorted_indices is None
    p2 = R.PackedSequence((mt.ones(3, 2), mt.tensor([2, 1])))
    assert p2.batch_sizes.tolist() == [2, 1]
    with pytest.raises(AssertionError):
        R.PackedSequence(mt.ones(3, 2))
    assert nn.utils.rnn.PackedSequence is R.PackedSequence


@pytest.mark.parametrize("case", ["unsorted", "zero_length", "len_mismatch", "total_length"])
def test_pack_errors_like_torch(case):
    x = torch.randn(4, 3, 2)
    if case == "total_length":
        tp = TR.pack_padded_sequence(x, [4, 2, 1])
        mp = R.pack_padded_sequence(to_mt(x), [4, 2, 1])
        with pytest.raises(ValueError) as et:
            TR.pad_packed_sequence(tp, total_length=3)
        with pytest.raises(ValueError) as em:
            R.pad_packed_sequence(mp, total_length=3)
    else:
        lengths, kw = {"unsorted": ([2, 4, 1], {}), "zero_length": ([4, 0, 3], dict(enforce_sorted=False)),
                       "len_mismatch": ([4, 2], {})}[case]
        with pytest.raises(RuntimeError) as et:
            TR.pack_padded_sequence(x, lengths, **kw)
        with pytest.raises(RuntimeError) as em:
            R.pack_padded_sequence(to_mt(x), lengths, **kw)
    assert str(et.value) == str(em.value)


def test_pack_longer_than_input_raises():
    """torch reads past the end of the input for a length > T; minitorch raises"""
    with pytest.raises(RuntimeError, match="at most the padded sequence length"):
        R.pack_padded_sequence(mt.randn(4, 3, 2), [5, 2, 1])


# ------------------------------------------------------------------------------------------------ packed RNNs
@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN", "RNN_relu"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("sorted_", [True, False], ids=["sorted", "unsorted"])
@pytest.mark.parametrize("with_hx", [False, True], ids=["nohx", "hx"])
def test_packed_rnn_matches_torch(dt, mode, bidirectional, num_layers, sorted_, with_hx):
    mdt, tdt, rtol, atol = dt
    torch.manual_seed(2)
    kw = dict(input_size=3, hidden_size=4, num_layers=num_layers, bidirectional=bidirectional)
    if mode == "RNN_relu":
        kw["nonlinearity"] = "relu"
    cls = mode.split("_")[0]
    tm = getattr(torch.nn, cls)(**kw, dtype=tdt)
    m = getattr(nn, cls)(**kw, dtype=mdt)
    m.load_state_dict({k: to_mt(v) for k, v in tm.state_dict().items()})
    lengths = [6, 4, 4, 2, 1] if sorted_ else [4, 6, 1, 4, 2]
    B, nd = len(lengths), 2 if bidirectional else 1
    x = torch.randn(6, B, 3, dtype=tdt)
    tx, mx = x.clone().requires_grad_(), to_mt(x, True)
    tp = TR.pack_padded_sequence(tx, lengths, enforce_sorted=sorted_)
    mp = R.pack_padded_sequence(mx, lengths, enforce_sorted=sorted_)
    t_h = [torch.randn(num_layers * nd, B, 4, dtype=tdt, requires_grad=True) for _ in range(2 if cls == "LSTM" else 1)]
    m_h = [to_mt(h, True) for h in t_h]
    if cls == "LSTM":
        to, (th, tc) = tm(tp, tuple(t_h) if with_hx else None)
        mo, (mh, mc) = m(mp, tuple(m_h) if with_hx else None)
        close(mc, tc, rtol, atol)
    else:
        to, th = tm(tp, t_h[0] if with_hx else None)
        mo, mh = m(mp, m_h[0] if with_hx else None)
        tc, mc = th, mh
    same_packed(mo, to, rtol, atol)
    close(mh, th, rtol, atol)
    g = torch.randn(to.data.shape, dtype=tdt)
    gh = torch.randn(th.shape, dtype=tdt)
    ((to.data * g).sum() + (th * gh).sum() + (tc * tc).sum()).backward()
    ((mo.data * to_mt(g)).sum() + (mh * to_mt(gh)).sum() + (mc * mc).sum()).backward()
    close(mx.grad, tx.grad, rtol, atol)
    if with_hx:
        for a, b in zip(m_h, t_h):
            close(a.grad, b.grad, rtol, atol)
    tparams = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        close(p.grad, tparams[name].grad, rtol, atol)


def test_packed_rnn_equals_per_sequence_runs():
    """h_n of a packed batch is each sequence's state at its own last step: the same as running each
    sequence alone (a check independent of torch)."""
    mt.manual_seed(3)
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    seqs = [mt.randn(n, 3) for n in (2, 5, 3)]
    out, (h, c) = lstm(R.pack_sequence(seqs, enforce_sorted=False))
    padded, lens = R.pad_packed_sequence(out)
    for b, s in enumerate(seqs):
        o1, (h1, c1) = lstm(s.unsqueeze(1))
        close(padded[:lens[b], b], o1[:, 0], 1e-5, 1e-6)
        close(h[:, b], h1[:, 0], 1e-5, 1e-6)
        close(c[:, b], c1[:, 0], 1e-5, 1e-6)
        if lens[b] < padded.shape[0]:
            assert float(padded[lens[b]:, b].abs().sum()) == 0


def test_packed_rnn_batch_first_is_ignored_for_packed_input():
    torch.manual_seed(4)
    tm = torch.nn.GRU(3, 4, batch_first=True)
    m = nn.GRU(3, 4, batch_first=True)
    m.load_state_dict({k: to_mt(v) for k, v in tm.state_dict().items()})
    x = torch.randn(3, 5, 3)
    tp = TR.pack_padded_sequence(x, [5, 2, 4], batch_first=True, enforce_sorted=False)
    mp = R.pack_padded_sequence(to_mt(x), [5, 2, 4], batch_first=True, enforce_sorted=False)
    to, th = tm(tp)
    mo, mh = m(mp)
    same_packed(mo, to, 2e-5, 2e-6)
    close(mh, th, 2e-5, 2e-6)
    ta, _ = TR.pad_packed_sequence(to, batch_first=True)
    ma, _ = R.pad_packed_sequence(mo, batch_first=True)
    close(ma, ta, 2e-5, 2e-6)


def test_packed_rnn_errors_like_torch():
    tm, m = torch.nn.LSTM(3, 4), nn.LSTM(3, 4)
    x = torch.randn(5, 2, 3)
    tp = TR.pack_padded_sequence(x, [5, 3])
    mp = R.pack_padded_sequence(to_mt(x), [5, 3])
    h = torch.zeros(1, 3, 4)
    with pytest.raises(RuntimeError) as et:
        tm(tp, (h, h))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(1, 2, 4\), got \[1, 3, 4\]"):
        m(mp, (to_mt(h), to_mt(h)))   # torch 2.13 says "The size of tensor a (3) must match ..." here
    assert "must match" in str(et.value)
    tg, g = torch.nn.GRU(2, 4), nn.GRU(2, 4)
    with pytest.raises(RuntimeError) as et:
        tg(tp)
    with pytest.raises(RuntimeError) as em:
        g(mp)
    assert str(et.value) == str(em.value)

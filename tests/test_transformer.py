"""nn.TransformerEncoderLayer / DecoderLayer / Encoder / Decoder / Transformer against PyTorch: outputs and
every gradient with copied weights (dropout 0), float32 and float64, batch_first and norm_first both ways,
each kind of mask and padding mask, is_causal, activations; repr, state_dict keys, torch state_dict loading,
the word_language_model subclass, warnings and errors."""
import math
import warnings

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn as nn
import minitorch.nn.functional as F

torch = pytest.importorskip("torch")
tnn = torch.nn
TF = torch.nn.functional

DTYPES = [(mt.float32, torch.float32, 5e-5, 5e-6), (mt.float64, torch.float64, 1e-10, 1e-12)]


def to_mt(t, requires_grad=False):
    return mt.tensor(t.detach().numpy(), requires_grad=requires_grad)


def close(a, b, rtol, atol):
    assert a is not None and b is not None
    b = b.detach().numpy()
    scale = max(1.0, float(np.abs(b).max())) if b.size else 1.0
    np.testing.assert_allclose(a.detach().numpy(), b, rtol=rtol, atol=atol * scale)


def conv(v):
    return to_mt(v) if isinstance(v, torch.Tensor) else v


def load_from(m, tm, randomize=True):
    if randomize:   # LayerNorm weights/biases away from 1/0 so that their gradients are exercised
        with torch.no_grad():
            for p in tm.parameters():
                if p.dim() == 1:
                    p.copy_(torch.randn_like(p) * 0.3 + (1.0 if float(p.detach().mean()) > 0.5 else 0.0))
    m.load_state_dict({k: to_mt(v) for k, v in tm.state_dict().items()})


def check_param_grads(m, tm, rtol, atol):
    tp = dict(tm.named_parameters())
    names = [n for n, _ in m.named_parameters()]
    assert names == list(tp)
    for name, p in m.named_parameters():
        if tp[name].grad is None:
            assert p.grad is None or float(p.grad.abs().sum()) == 0, name
            continue
        close(p.grad, tp[name].grad, rtol, atol)


def seq(T, N, E, batch_first, dtype, unbatched=False):
    if unbatched:
        return torch.randn(T, E, dtype=dtype)
    return torch.randn(N, T, E, dtype=dtype) if batch_first else torch.randn(T, N, E, dtype=dtype)


def padding_mask(N, T, kind, dtype, unbatched=False):
    p = torch.zeros(N, T, dtype=torch.bool)
    p[0, -1] = True
    if N > 1:
        p[1, -2:] = True
    if unbatched:
        p = p[0]
    return p if kind == "bool" else torch.zeros(p.shape, dtype=dtype).masked_fill(p, float("-inf"))


def attn_mask(L, S, kind, dtype):
    if kind == "causal":
        return tnn.Transformer.generate_square_subsequent_mask(L, dtype=dtype)
    if kind == "bool":
        m = torch.rand(L, S) > 0.7
        m[:, 0] = False
        return m
    return torch.randn(L, S, dtype=dtype)


def run_both(m, tm, t_inputs, kw, dt):
    _, tdt, rtol, atol = dt
    t_in = [x.clone().requires_grad_() for x in t_inputs]
    m_in = [to_mt(x, True) for x in t_in]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        to = tm(*t_in, **kw)
        mo = m(*m_in, **{a: conv(b) for a, b in kw.items()})
    close(mo, to, rtol, atol)
    g = torch.randn(to.shape, dtype=tdt)
    (to * g).sum().backward()
    (mo * to_mt(g)).sum().backward()
    for a, b in zip(m_in, t_in):
        close(a.grad, b.grad, rtol, atol)
    check_param_grads(m, tm, rtol, atol)


ENC_CASES = {
    "plain": dict(),
    "float_mask": dict(mask="float"),
    "bool_mask": dict(mask="bool"),
    "causal_mask": dict(mask="causal"),
    "causal_flag": dict(mask="causal", is_causal=True),
    "kpm_bool": dict(kpm="bool"),
    "kpm_float_and_mask": dict(kpm="float", mask="float"),
    "gelu_str": dict(activation="gelu"),
    "callable_act": dict(activation=torch.tanh),
    "no_bias": dict(bias=False),
    "unbatched": dict(unbatched=True, kpm="bool", mask="causal"),
}


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seqfirst", "batchfirst"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post", "pre"])
@pytest.mark.parametrize("case", list(ENC_CASES))
def test_encoder_layer(dt, batch_first, norm_first, case):
    c = dict(ENC_CASES[case])
    torch.manual_seed(10)
    mdt, tdt = dt[0], dt[1]
    E, H, T, N = 8, 2, 5, 3
    act = c.pop("activation", "relu")
    m_act = mt.tanh if act is torch.tanh else act
    kw_mod = dict(dim_feedforward=16, dropout=0.0, batch_first=batch_first, norm_first=norm_first,
                  bias=c.pop("bias", True), layer_norm_eps=1e-6)
    tm = tnn.TransformerEncoderLayer(E, H, activation=act, dtype=tdt, **kw_mod)
    m = nn.TransformerEncoderLayer(E, H, activation=m_act, dtype=mdt, **kw_mod)
    load_from(m, tm)
    unb = c.pop("unbatched", False)
    x = seq(T, N, E, batch_first, tdt, unb)
    kw = {}
    if "mask" in c:
        kw["src_mask"] = attn_mask(T, T, c["mask"], tdt)
    if "kpm" in c:
        kw["src_key_padding_mask"] = padding_mask(N, T, c["kpm"], tdt, unb)
    if c.get("is_causal"):
        kw["is_causal"] = True
    run_both(m, tm, [x], kw, dt)


DEC_CASES = {
    "plain": dict(),
    "tgt_causal": dict(tgt_mask="causal", tgt_is_causal=True),
    "all_masks": dict(tgt_mask="causal", memory_mask="float", tgt_kpm="bool", memory_kpm="bool"),
    "bool_masks": dict(tgt_mask="bool", memory_mask="bool", memory_kpm="float"),
    "gelu": dict(activation="gelu"),
    "unbatched": dict(unbatched=True, tgt_mask="causal", memory_kpm="bool"),
}


def _decoder_kw(c, L, S, N, tdt, unb):
    kw = {}
    if "tgt_mask" in c:
        kw["tgt_mask"] = attn_mask(L, L, c["tgt_mask"], tdt)
    if "memory_mask" in c:
        kw["memory_mask"] = attn_mask(L, S, c["memory_mask"], tdt)
    if "tgt_kpm" in c:
        kw["tgt_key_padding_mask"] = padding_mask(N, L, c["tgt_kpm"], tdt, unb)
    if "memory_kpm" in c:
        kw["memory_key_padding_mask"] = padding_mask(N, S, c["memory_kpm"], tdt, unb)
    if c.get("tgt_is_causal"):
        kw["tgt_is_causal"] = True
    return kw


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seqfirst", "batchfirst"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post", "pre"])
@pytest.mark.parametrize("case", list(DEC_CASES))
def test_decoder_layer(dt, batch_first, norm_first, case):
    c = dict(DEC_CASES[case])
    torch.manual_seed(11)
    mdt, tdt = dt[0], dt[1]
    E, H, L, S, N = 8, 2, 4, 6, 3
    act = c.pop("activation", "relu")
    kw_mod = dict(dim_feedforward=16, dropout=0.0, batch_first=batch_first, norm_first=norm_first, activation=act)
    tm = tnn.TransformerDecoderLayer(E, H, dtype=tdt, **kw_mod)
    m = nn.TransformerDecoderLayer(E, H, dtype=mdt, **kw_mod)
    load_from(m, tm)
    unb = c.pop("unbatched", False)
    tgt, mem = seq(L, N, E, batch_first, tdt, unb), seq(S, N, E, batch_first, tdt, unb)
    run_both(m, tm, [tgt, mem], _decoder_kw(c, L, S, N, tdt, unb), dt)


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seqfirst", "batchfirst"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post", "pre"])
def test_encoder_stack_with_norm(dt, batch_first, norm_first):
    torch.manual_seed(12)
    mdt, tdt = dt[0], dt[1]
    E, H, T, N = 8, 4, 5, 2
    kw_mod = dict(dim_feedforward=12, dropout=0.0, batch_first=batch_first, norm_first=norm_first)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = tnn.TransformerEncoder(tnn.TransformerEncoderLayer(E, H, dtype=tdt, **kw_mod), 3,
                                    norm=tnn.LayerNorm(E, dtype=tdt))
        m = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, dtype=mdt, **kw_mod), 3,
                                  norm=nn.LayerNorm(E, dtype=mdt))
    load_from(m, tm)
    x = seq(T, N, E, batch_first, tdt)
    kw = dict(mask=attn_mask(T, T, "causal", tdt), src_key_padding_mask=padding_mask(N, T, "bool", tdt))
    run_both(m, tm, [x], kw, dt)
    assert m.num_layers == 3 and isinstance(m.norm, nn.LayerNorm)
    ps = [id(layer.linear1.weight) for layer in m.layers]
    assert len(set(ps)) == 3   # deep copies, not shared


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seqfirst", "batchfirst"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post", "pre"])
def test_transformer_full(dt, batch_first, norm_first):
    torch.manual_seed(13)
    mdt, tdt = dt[0], dt[1]
    E, H, S, L, N = 8, 2, 6, 4, 3
    kw_mod = dict(d_model=E, nhead=H, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16, dropout=0.0,
                  batch_first=batch_first, norm_first=norm_first)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = tnn.Transformer(dtype=tdt, **kw_mod)
        m = nn.Transformer(dtype=mdt, **kw_mod)
    load_from(m, tm)
    src, tgt = seq(S, N, E, batch_first, tdt), seq(L, N, E, batch_first, tdt)
    kw = dict(tgt_mask=tnn.Transformer.generate_square_subsequent_mask(L, dtype=tdt),
              src_key_padding_mask=padding_mask(N, S, "bool", tdt),
              memory_key_padding_mask=padding_mask(N, S, "bool", tdt),
              tgt_key_padding_mask=padding_mask(N, L, "bool", tdt), tgt_is_causal=True)
    run_both(m, tm, [src, tgt], kw, dt)


def test_transformer_eval_matches_torch_fast_path():
    """In eval mode under no_grad torch takes its fused / nested-tensor fast path; the regular path gives
    the same numbers (padding at the end, no fully masked rows)."""
    torch.manual_seed(14)
    layer_t = tnn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    enc_t = tnn.TransformerEncoder(layer_t, 2)
    m = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2)
    m.load_state_dict({k: to_mt(v) for k, v in enc_t.state_dict().items()})
    enc_t.eval()
    m.eval()
    x = torch.randn(3, 5, 8)
    kpm = torch.zeros(3, 5, dtype=torch.bool)
    kpm[1, 3:] = True
    with torch.no_grad():
        to = enc_t(x, src_key_padding_mask=kpm)
    with mt.no_grad():
        mo = m(to_mt(x), src_key_padding_mask=to_mt(kpm))
    keep = ~kpm.numpy()   # torch's nested path writes 0 at padded positions
    np.testing.assert_allclose(mo.numpy()[keep], to.numpy()[keep], rtol=1e-4, atol=1e-5)


def test_generate_square_subsequent_mask():
    for sz in (1, 4):
        np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(sz).numpy(),
                                      tnn.Transformer.generate_square_subsequent_mask(sz).numpy())
    m = nn.Transformer.generate_square_subsequent_mask(3, dtype=mt.float64)
    assert m.dtype == mt.float64
    assert isinstance(nn.Transformer.__dict__["generate_square_subsequent_mask"], staticmethod)
    t = nn.Transformer(d_model=4, nhead=1, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=4)
    np.testing.assert_array_equal(t.generate_square_subsequent_mask(2).numpy(),
                                  tnn.Transformer.generate_square_subsequent_mask(2).numpy())


@pytest.mark.parametrize("ctor", [
    lambda lib: lib.TransformerEncoderLayer(8, 2, 16),
    lambda lib: lib.TransformerDecoderLayer(8, 2, 16, norm_first=True, bias=False),
    lambda lib: lib.TransformerEncoder(lib.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2,
                                       lib.LayerNorm(8)),
    lambda lib: lib.TransformerDecoder(lib.TransformerDecoderLayer(8, 2, 16), 2),
    lambda lib: lib.Transformer(8, 2, 2, 1, 16),
])
def test_repr_and_state_dict_keys(ctor):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm, m = ctor(tnn), ctor(nn)
    assert repr(m) == repr(tm)
    tsd, msd = tm.state_dict(), m.state_dict()
    assert list(msd) == list(tsd)
    for k in tsd:
        assert tuple(msd[k].shape) == tuple(tsd[k].shape), k
    m.load_state_dict({k: to_mt(v) for k, v in tsd.items()})   # a torch state_dict loads


def test_transformer_init_is_xavier():
    t = nn.Transformer(16, 2, 1, 1, 32)
    for name, p in t.named_parameters():
        if p.dim() > 1:
            bound = math.sqrt(6 / (p.shape[0] + p.shape[1]))
            assert float(p.abs().max()) <= bound + 1e-7, name
            assert float(p.abs().max()) > 0.7 * bound, name
    assert t.d_model == 16 and t.nhead == 2 and t.batch_first is False


def test_enable_nested_tensor_warning_like_torch():
    def warns(lib, **kw):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.TransformerEncoder(lib.TransformerEncoderLayer(8, 2, 16, **kw), 1)
        return [str(x.message) for x in w if "enable_nested_tensor" in str(x.message)]
    for kw in (dict(), dict(batch_first=True), dict(batch_first=True, norm_first=True),
               dict(batch_first=True, activation="gelu"), dict(batch_first=True, bias=False)):
        assert warns(nn, **kw) == warns(tnn, **kw), kw
    assert warns(nn) and not warns(nn, batch_first=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 1, enable_nested_tensor=False)


def test_activation_attributes():
    for act, code in (("relu", 1), ("gelu", 2), (F.relu, 1), (F.gelu, 2), (nn.ReLU(), 1), (nn.GELU(), 2),
                      (mt.tanh, 0)):
        assert nn.TransformerEncoderLayer(8, 2, 16, activation=act).activation_relu_or_gelu == code
    assert nn.TransformerEncoderLayer(8, 2, 16).activation is F.relu
    assert nn.TransformerDecoderLayer(8, 2, 16, activation="gelu").activation is F.gelu


def test_errors_like_torch():
    for lib in (tnn, nn):
        with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
            lib.TransformerEncoderLayer(8, 2, 16, activation="tanh")
        with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
            lib.TransformerDecoderLayer(8, 2, 16, activation="tanh")
    tm, m = tnn.Transformer(8, 2, 1, 1, 16), nn.Transformer(8, 2, 1, 1, 16)
    for shapes, msg in ((((5, 2, 8), (4, 3, 8)), "the batch number of src and tgt must be equal"),
                        (((5, 2, 8), (4, 2, 6)), "the feature number of src and tgt must be equal to d_model")):
        a, b = torch.randn(*shapes[0]), torch.randn(*shapes[1])
        with pytest.raises(RuntimeError, match=msg):
            tm(a, b)
        with pytest.raises(RuntimeError, match=msg):
            m(to_mt(a), to_mt(b))
    # bad mask dtype
    layer_t, layer_m = tnn.TransformerEncoderLayer(8, 2, 16), nn.TransformerEncoderLayer(8, 2, 16)
    x = torch.randn(3, 2, 8)
    with pytest.raises(AssertionError, match="only bool and floating types of src_mask are supported"):
        layer_t(x, src_mask=torch.zeros(3, 3, dtype=torch.long))
    with pytest.raises(AssertionError, match="only bool and floating types of src_mask are supported"):
        layer_m(to_mt(x), src_mask=mt.zeros(3, 3, dtype=mt.int64))


# ---------------------------------------------------------------- PyTorch's word_language_model example
def _word_lm_classes(lib, torch_mod):
    class PositionalEncoding(lib.Module):
        def __init__(self, d_model, dropout=0.1, max_len=5000):
            super(PositionalEncoding, self).__init__()
            self.dropout = lib.Dropout(p=dropout)
            pe = torch_mod.zeros(max_len, d_model)
            position = torch_mod.arange(0, max_len, dtype=torch_mod.float).unsqueeze(1)
            div_term = torch_mod.exp(torch_mod.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
            pe[:, 0::2] = torch_mod.sin(position * div_term)
            pe[:, 1::2] = torch_mod.cos(position * div_term)
            pe = pe.unsqueeze(0).transpose(0, 1)
            self.register_buffer('pe', pe)

        def forward(self, x):
            x = x + self.pe[:x.size(0), :]
            return self.dropout(x)

    class TransformerModel(lib.Transformer):
        def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
            super(TransformerModel, self).__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid,
                                                   num_encoder_layers=nlayers)
            self.model_type = 'Transformer'
            self.src_mask = None
            self.pos_encoder = PositionalEncoding(ninp, dropout)
            self.input_emb = lib.Embedding(ntoken, ninp)
            self.ninp = ninp
            self.decoder = lib.Linear(ninp, ntoken)
            self.init_weights()

        def _generate_square_subsequent_mask(self, sz):
            # the example uses torch.log(torch.tril(torch.ones(sz, sz))): the same -inf/0 mask
            return lib.Transformer.generate_square_subsequent_mask(sz)

        def init_weights(self):
            initrange = 0.1
            lib.init.uniform_(self.input_emb.weight, -initrange, initrange)
            lib.init.zeros_(self.decoder.bias)
            lib.init.uniform_(self.decoder.weight, -initrange, initrange)

        def forward(self, src, has_mask=True):
            if has_mask:
                device = src.device
                if self.src_mask is None or self.src_mask.size(0) != len(src):
                    mask = self._generate_square_subsequent_mask(len(src)).to(device)
                    self.src_mask = mask
            else:
                self.src_mask = None
            src = self.input_emb(src) * math.sqrt(self.ninp)
            src = self.pos_encoder(src)
            output = self.encoder(src, mask=self.src_mask)
            output = self.decoder(output)
            return lib.functional.log_softmax(output, dim=-1)
    return TransformerModel


def test_word_language_model_subclass():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(15)
        tm = _word_lm_classes(tnn, torch)(30, 8, 2, 16, 2, dropout=0.0)
        m = _word_lm_classes(nn, mt)(30, 8, 2, 16, 2, dropout=0.0)
    assert list(m.state_dict()) == list(tm.state_dict())
    assert repr(m) == repr(tm)
    m.load_state_dict({k: to_mt(v) for k, v in tm.state_dict().items()})
    tm.eval()   # nn.Transformer's own dropout (0.1) is on in the example; grads stay on, so no torch fast path
    m.eval()
    data = torch.randint(0, 30, (7, 3))
    to = tm(data)
    mo = m(mt.tensor(data.numpy()))
    close(mo, to, 5e-5, 5e-6)
    target = torch.randint(0, 30, (7 * 3,))
    TF.nll_loss(to.view(-1, 30), target).backward()
    F.nll_loss(mo.view(-1, 30), mt.tensor(target.numpy())).backward()
    check_param_grads(m, tm, 5e-5, 5e-6)
    # one optimizer step changes the weights the same way
    opt_t = torch.optim.SGD(tm.parameters(), lr=0.5)
    opt_m = mt.optim.SGD(m.parameters(), lr=0.5)
    opt_t.step()
    opt_m.step()
    close(m(mt.tensor(data.numpy()), has_mask=False), tm(data, has_mask=False), 1e-4, 1e-5)


def test_custom_encoder_decoder():
    torch.manual_seed(16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc_t = tnn.TransformerEncoder(tnn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 1)
        dec_t = tnn.TransformerDecoder(tnn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 1)
        tm = tnn.Transformer(8, 2, custom_encoder=enc_t, custom_decoder=dec_t)
        enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 1)
        dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 1)
        m = nn.Transformer(8, 2, custom_encoder=enc, custom_decoder=dec)
    assert list(m.state_dict()) == list(tm.state_dict())
    assert m.encoder.norm is None and m.decoder.norm is None
    load_from(m, tm)
    run_both(m, tm, [torch.randn(5, 2, 8), torch.randn(3, 2, 8)], {}, DTYPES[0])

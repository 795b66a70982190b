"""F.scaled_dot_product_attention, F.multi_head_attention_forward and nn.MultiheadAttention against PyTorch:
outputs and every gradient (inputs and parameters) with copied weights, float32 and float64, each kind of
mask, padding masks, unbatched inputs, repr / state_dict keys and the errors torch raises."""
import warnings

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn as nn
import minitorch.nn.functional as F

torch = pytest.importorskip("torch")
tnn = torch.nn
TF = torch.nn.functional

DTYPES = [(mt.float32, torch.float32, 2e-5, 2e-6), (mt.float64, torch.float64, 1e-10, 1e-12)]


def to_mt(t, requires_grad=False):
    return mt.tensor(t.detach().numpy(), requires_grad=requires_grad)


def close(a, b, rtol, atol):
    """allclose with atol scaled by the reference's magnitude (gradients that are 0 in exact arithmetic, such
    as the key bias's, are rounding noise of the size of the other entries)"""
    assert a is not None and b is not None
    b = b.detach().numpy()
    scale = max(1.0, float(np.nanmax(np.abs(b)))) if b.size else 1.0
    np.testing.assert_allclose(a.detach().numpy(), b, rtol=rtol, atol=atol * scale)


def copy_weights(m, tm):
    m.load_state_dict({k: to_mt(v) for k, v in tm.state_dict().items()})


def mk(*shape, dtype=torch.float32):
    return torch.randn(*shape, dtype=dtype)


def conv(v):
    if isinstance(v, torch.Tensor):
        return to_mt(v)
    return v


# ------------------------------------------------------------------------------------------------ SDPA
def _sdpa_case(q, k, v, dt, **kw):
    _, tdt, rtol, atol = dt
    q, k, v = (x.to(tdt) for x in (q, k, v))
    tq, tk, tv = (x.clone().requires_grad_() for x in (q, k, v))
    mq, mk_, mv = (to_mt(x, True) for x in (q, k, v))
    to = TF.scaled_dot_product_attention(tq, tk, tv, **kw)
    mo = F.scaled_dot_product_attention(mq, mk_, mv, **{a: conv(b) for a, b in kw.items()})
    close(mo, to, rtol, atol)
    g = torch.randn(to.shape, dtype=tdt)
    to.backward(g)
    mo.backward(to_mt(g))
    for a, b in ((mq, tq), (mk_, tk), (mv, tv)):
        close(a.grad, b.grad, rtol, atol)
    return mo, to


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", ["plain", "causal", "causal_rect", "bool2d", "bool4d", "float_bcast", "scale",
                                  "3d", "2d", "gqa", "value_dim"])
def test_sdpa_values_and_grads(dt, case):
    torch.manual_seed(0)
    q, k, v = mk(2, 3, 4, 5), mk(2, 3, 6, 5), mk(2, 3, 6, 5)
    kw = {}
    if case == "causal":
        k, v = mk(2, 3, 4, 5), mk(2, 3, 4, 5)
        kw = dict(is_causal=True)
    elif case == "causal_rect":
        kw = dict(is_causal=True)
    elif case == "bool2d":
        m = torch.rand(4, 6) > 0.4
        m[:, 0] = True
        kw = dict(attn_mask=m)
    elif case == "bool4d":
        m = torch.rand(2, 3, 4, 6) > 0.4
        m[..., 2] = True
        kw = dict(attn_mask=m)
    elif case == "float_bcast":
        kw = dict(attn_mask=torch.randn(2, 1, 4, 6, dtype=dt[1]))
    elif case == "scale":
        kw = dict(scale=0.37)
    elif case == "3d":
        q, k, v = q[0], k[0], v[0]
    elif case == "2d":
        q, k, v = q[0, 0], k[0, 0], v[0, 0]
        kw = dict(attn_mask=torch.rand(4, 6) > 0.3)
        kw["attn_mask"][:, 1] = True
    elif case == "gqa":
        q = mk(2, 6, 4, 5)
        kw = dict(enable_gqa=True, attn_mask=torch.randn(4, 6, dtype=dt[1]))
    elif case == "value_dim":
        v = mk(2, 3, 6, 7)
    _sdpa_case(q, k, v, dt, **kw)


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_fully_masked_rows_are_zero(dt, kind):
    """torch 2.13 CPU: a query row with every key masked out gives 0 (and 0 gradients), not NaN."""
    torch.manual_seed(1)
    q, k, v = mk(1, 2, 3, 4), mk(1, 2, 5, 4), mk(1, 2, 5, 4)
    m = torch.ones(3, 5, dtype=torch.bool)
    m[1] = False
    m[2, 3:] = False
    if kind == "float":
        m = torch.zeros(3, 5, dtype=dt[1]).masked_fill(~m, float("-inf"))
    mo, to = _sdpa_case(q, k, v, dt, attn_mask=m)
    assert float(to[0, 0, 1].detach().abs().sum()) == 0.0
    assert not np.isnan(mo.detach().numpy()).any()


def test_sdpa_large_scores_stable():
    q = torch.full((1, 2, 3), 100.0)
    k = torch.tensor([[[100.0, 0, 0], [0, 100.0, 0]]])
    v = torch.randn(1, 2, 3)
    mo = F.scaled_dot_product_attention(to_mt(q), to_mt(k), to_mt(v))
    assert np.isfinite(mo.numpy()).all()
    close(mo, TF.scaled_dot_product_attention(q, k, v), 1e-5, 1e-6)


def test_sdpa_dropout_statistics():
    """dropout on the attention weights: with v = ones, each output is the sum of the kept weights / (1-p),
    whose mean is 1; kept fraction about 1-p; reproducible under manual_seed."""
    p = 0.3
    q = mt.zeros(4, 64, 8)
    k = mt.zeros(4, 32, 8)
    v = mt.eye(32).expand(4, 32, 32)
    mt.manual_seed(123)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=p).numpy()   # entries are the dropped weights
    kept = (out > 0).mean()
    assert abs(kept - (1 - p)) < 0.02
    np.testing.assert_allclose(out[out > 0], 1 / 32 / (1 - p), rtol=1e-5)
    assert abs(out.sum(-1).mean() - 1.0) < 0.02
    mt.manual_seed(123)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=p).numpy(), out)
    assert (F.scaled_dot_product_attention(q, k, v, dropout_p=0.0).numpy() > 0).all()


def _both_raise(fn_t, fn_m, exc=RuntimeError):
    with pytest.raises(exc) as et:
        fn_t()
    with pytest.raises(exc) as em:
        fn_m()
    return str(et.value), str(em.value)


@pytest.mark.parametrize("case", ["dtype_mismatch", "mask_dtype", "mask_and_causal", "gqa_indivisible", "dim1",
                                  "mask_shape", "kv_len"])
def test_sdpa_errors(case):
    q, k, v = mk(1, 4, 3, 4), mk(1, 4, 3, 4), mk(1, 4, 3, 4)
    kw = {}
    if case == "dtype_mismatch":
        v = v.double()
    elif case == "mask_dtype":
        kw = dict(attn_mask=torch.ones(3, 3, dtype=torch.long))
    elif case == "mask_and_causal":   # torch raises this on its math path (dropout > 0); minitorch always
        kw = dict(attn_mask=torch.ones(3, 3, dtype=torch.bool), is_causal=True, dropout_p=0.5)
    elif case == "gqa_indivisible":
        k, v = mk(1, 3, 3, 4), mk(1, 3, 3, 4)
        kw = dict(enable_gqa=True)
    elif case == "dim1":
        q, k, v = mk(4), mk(4), mk(4)
    elif case == "mask_shape":
        kw = dict(attn_mask=torch.ones(2, 3, dtype=torch.bool))
    elif case == "kv_len":   # 3-D: torch's 4-D CPU flash kernel does not check value's length
        q, k, v = q[0], k[0], mk(4, 5, 4)
    mkw = {a: conv(b) for a, b in kw.items()}
    st, sm = _both_raise(lambda: TF.scaled_dot_product_attention(q, k, v, **kw),
                         lambda: F.scaled_dot_product_attention(to_mt(q), to_mt(k), to_mt(v), **mkw))
    if case in ("dtype_mismatch", "mask_dtype", "mask_and_causal", "gqa_indivisible", "dim1"):
        assert st == sm


# ------------------------------------------------------------------------------------------------ MHA
def _mha_pair(dtype, **kw):
    tm = tnn.MultiheadAttention(**kw, dtype=dtype[1])
    m = nn.MultiheadAttention(**kw, dtype=dtype[0])
    with torch.no_grad():
        for p in tm.parameters():   # non-zero biases so that their gradients are exercised
            p.copy_(torch.randn_like(p) * 0.5)
    copy_weights(m, tm)
    return m, tm


def _check_param_grads(m, tm, rtol, atol):
    tp = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        assert tp[name].grad is not None, name
        close(p.grad, tp[name].grad, rtol, atol)


MHA_CASES = {
    "self": dict(),
    "self_batch_first": dict(batch_first=True),
    "cross": dict(cross=True),
    "kdim_vdim": dict(kdim=3, vdim=5, cross=True),
    "bias_kv_zero_attn": dict(add_bias_kv=True, add_zero_attn=True),
    "no_bias": dict(bias=False),
    "bool_attn_mask": dict(attn_mask="bool"),
    "float_attn_mask_3d": dict(attn_mask="float3d"),
    "key_padding_bool": dict(kpm="bool"),
    "key_padding_float": dict(kpm="float", attn_mask="float"),
    "both_masks_bias_kv": dict(kpm="bool", attn_mask="bool", add_bias_kv=True, add_zero_attn=True),
    "causal": dict(attn_mask="causal", is_causal=True),
    "per_head_weights": dict(average_attn_weights=False),
    "unbatched": dict(unbatched=True, kpm="bool", attn_mask="bool"),
    "unbatched_3d_mask": dict(unbatched=True, attn_mask="float3d"),
}


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("need_weights", [True, False], ids=["weights", "noweights"])
@pytest.mark.parametrize("case", list(MHA_CASES))
def test_mha_values_and_grads(dt, need_weights, case):
    c = dict(MHA_CASES[case])
    torch.manual_seed(2)
    E, H, L, S, N = 8, 2, 4, 5, 3
    cross = c.pop("cross", False) or "kdim" in c
    unbatched = c.pop("unbatched", False)
    am, kpm = c.pop("attn_mask", None), c.pop("kpm", None)
    is_causal = c.pop("is_causal", False)
    avg = c.pop("average_attn_weights", True)
    bf = c.get("batch_first", False)
    m, tm = _mha_pair(dt, embed_dim=E, num_heads=H, **c)
    tdt, rtol, atol = dt[1], dt[2], dt[3]
    if not cross:
        S = L
    kd, vd = c.get("kdim", E), c.get("vdim", E)

    def shape(T, D):
        if unbatched:
            return (T, D)
        return (N, T, D) if bf else (T, N, D)

    q = mk(*shape(L, E), dtype=tdt)
    k = mk(*shape(S, kd), dtype=tdt) if cross else q
    v = (mk(*shape(S, vd), dtype=tdt) if "kdim" in c else k) if cross else q
    kw = dict(need_weights=need_weights, average_attn_weights=avg, is_causal=is_causal)
    if am == "bool":
        a = torch.rand(L, S) > 0.7
        a[:, 0] = False
        kw["attn_mask"] = a
    elif am == "float":
        kw["attn_mask"] = torch.randn(L, S, dtype=tdt)
    elif am == "float3d":
        kw["attn_mask"] = torch.randn((1 if unbatched else N) * H, L, S, dtype=tdt)
    elif am == "causal":
        kw["attn_mask"] = tnn.Transformer.generate_square_subsequent_mask(L, dtype=tdt)
    if kpm is not None:
        p = torch.zeros((S,) if unbatched else (N, S), dtype=torch.bool)
        p[..., -1] = True
        if not unbatched:
            p[0, -2] = True
        kw["key_padding_mask"] = p if kpm == "bool" else torch.zeros(p.shape, dtype=tdt).masked_fill(p, -1e9)

    tq = q.clone().requires_grad_()
    tk = tq if k is q else k.clone().requires_grad_()
    tv = tq if v is q else (tk if v is k else v.clone().requires_grad_())
    mq = to_mt(q, True)
    mk_ = mq if k is q else to_mt(k, True)
    mv = mq if v is q else (mk_ if v is k else to_mt(v, True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        to, tw = tm(tq, tk, tv, **kw)
        mo, mw = m(mq, mk_, mv, **{a: conv(b) for a, b in kw.items()})
    close(mo, to, rtol, atol)
    if need_weights:
        close(mw, tw, rtol, atol)
        assert tuple(mw.shape) == tuple(tw.shape)
    else:
        assert mw is None and tw is None
    g = torch.randn(to.shape, dtype=tdt)
    loss_t = (to * g).sum() + ((tw * tw).sum() if need_weights else 0)
    loss_m = (mo * to_mt(g)).sum() + ((mw * mw).sum() if need_weights else 0)
    loss_t.backward()
    loss_m.backward()
    close(mq.grad, tq.grad, rtol, atol)
    if mk_ is not mq:
        close(mk_.grad, tk.grad, rtol, atol)
    if mv is not mq and mv is not mk_:
        close(mv.grad, tv.grad, rtol, atol)
    _check_param_grads(m, tm, rtol, atol)


def test_mha_need_weights_fully_masked_is_nan_like_torch():
    """need_weights=True uses a plain softmax in torch: a fully masked row is NaN there; need_weights=False
    goes through scaled_dot_product_attention: zeros."""
    torch.manual_seed(3)
    m, tm = _mha_pair(DTYPES[0], embed_dim=4, num_heads=1)
    x = torch.randn(3, 1, 4)
    a = torch.zeros(3, 3, dtype=torch.bool)
    a[1] = True
    for nw in (True, False):
        to, _ = tm(x, x, x, attn_mask=a, need_weights=nw)
        mo, _ = m(to_mt(x), to_mt(x), to_mt(x), attn_mask=to_mt(a), need_weights=nw)
        np.testing.assert_array_equal(np.isnan(mo.detach().numpy()), np.isnan(to.detach().numpy()))
        assert np.isnan(to.detach().numpy()).any() == nw
        ok = ~np.isnan(to.detach().numpy())
        np.testing.assert_allclose(mo.detach().numpy()[ok], to.detach().numpy()[ok], rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("kw", [dict(), dict(kdim=3, vdim=5), dict(add_bias_kv=True, bias=False),
                                dict(batch_first=True, dropout=0.1)])
def test_mha_repr_state_dict_and_init(kw):
    tm = tnn.MultiheadAttention(8, 2, **kw)
    m = nn.MultiheadAttention(8, 2, **kw)
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in tm.named_parameters()]
    for (n, p), (_, tp) in zip(m.state_dict().items(), tm.state_dict().items()):
        assert tuple(p.shape) == tuple(tp.shape), n
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(m.out_proj, nn.Linear)
    if m.in_proj_bias is not None:
        assert float(m.in_proj_bias.abs().sum()) == 0 and float(m.out_proj.bias.abs().sum()) == 0
    w = m.in_proj_weight if m.in_proj_weight is not None else m.q_proj_weight
    bound = (6 / (w.shape[0] + w.shape[1])) ** 0.5    # xavier_uniform_
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.5 * bound
    for name in ("embed_dim", "kdim", "vdim", "_qkv_same_embed_dim", "num_heads", "dropout", "batch_first",
                 "head_dim", "add_zero_attn"):
        assert getattr(m, name) == getattr(tm, name), name
    assert (m.bias_k is None) == (tm.bias_k is None)
    from minitorch.nn.modules.activation import MultiheadAttention
    assert MultiheadAttention is nn.MultiheadAttention


def test_mha_dropout_training_vs_eval():
    mt.manual_seed(0)
    m = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = mt.randn(5, 2, 8)
    a = m(x, x, x)[1]
    b = m(x, x, x)[1]
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    m.eval()
    np.testing.assert_array_equal(m(x, x, x)[1].detach().numpy(), m(x, x, x)[1].detach().numpy())
    np.testing.assert_allclose(m(x, x, x)[1].detach().numpy().sum(-1), 1.0, rtol=1e-5)


def test_multi_head_attention_forward_functional():
    torch.manual_seed(4)
    tm = tnn.MultiheadAttention(6, 3, kdim=4, vdim=5)
    with torch.no_grad():
        tm.in_proj_bias.normal_()
    q, k, v = mk(3, 2, 6), mk(4, 2, 4), mk(4, 2, 5)
    args_t = (q, k, v, 6, 3, None, tm.in_proj_bias, None, None, False, 0.0, tm.out_proj.weight, tm.out_proj.bias)
    kw_t = dict(use_separate_proj_weight=True, q_proj_weight=tm.q_proj_weight, k_proj_weight=tm.k_proj_weight,
                v_proj_weight=tm.v_proj_weight, training=False)
    to, tw = TF.multi_head_attention_forward(*args_t, **kw_t)
    mo, mw = F.multi_head_attention_forward(*(conv(a) for a in args_t), **{a: conv(b) for a, b in kw_t.items()})
    close(mo, to, 2e-5, 2e-6)
    close(mw, tw, 2e-5, 2e-6)
    # static_k / static_v
    sk, sv = mk(6, 4, 2), mk(6, 4, 2)
    tw_ = tnn.MultiheadAttention(6, 3)
    a_t = (q, q, q, 6, 3, tw_.in_proj_weight, tw_.in_proj_bias, None, None, False, 0.0, tw_.out_proj.weight,
           tw_.out_proj.bias)
    to, _ = TF.multi_head_attention_forward(*a_t, static_k=sk, static_v=sv)
    mo, _ = F.multi_head_attention_forward(*(conv(a) for a in a_t), static_k=to_mt(sk), static_v=to_mt(sv))
    close(mo, to, 2e-5, 2e-6)


@pytest.mark.parametrize("case", ["query_4d", "key_2d_for_3d", "kpm_3d", "attn_mask_4d", "attn_mask_2d_shape",
                                  "attn_mask_3d_shape", "kpm_shape", "int_mask", "causal_without_mask",
                                  "embed_dim", "kv_shape", "heads_divide"])
def test_mha_errors(case):
    torch.manual_seed(5)
    tm = tnn.MultiheadAttention(8, 2)
    m = nn.MultiheadAttention(8, 2)
    x = mk(4, 2, 8)
    q = k = v = x
    kw = {}
    exc = AssertionError
    if case == "query_4d":
        q = k = v = mk(1, 4, 2, 8)
    elif case == "key_2d_for_3d":
        k = v = mk(4, 8)
    elif case == "kpm_3d":
        kw = dict(key_padding_mask=torch.zeros(2, 4, 1, dtype=torch.bool))
    elif case == "attn_mask_4d":
        kw = dict(attn_mask=torch.zeros(1, 1, 4, 4, dtype=torch.bool))
    elif case == "attn_mask_2d_shape":
        kw = dict(attn_mask=torch.zeros(3, 4, dtype=torch.bool))
        exc = RuntimeError
    elif case == "attn_mask_3d_shape":
        kw = dict(attn_mask=torch.zeros(2, 4, 4, dtype=torch.bool))
        exc = RuntimeError
    elif case == "kpm_shape":
        kw = dict(key_padding_mask=torch.zeros(2, 3, dtype=torch.bool))
    elif case == "int_mask":
        kw = dict(attn_mask=torch.zeros(4, 4, dtype=torch.long))
    elif case == "causal_without_mask":
        kw = dict(is_causal=True)
        exc = RuntimeError
    elif case == "embed_dim":
        q = k = v = mk(4, 2, 6)
    elif case == "kv_shape":
        k, v = mk(5, 2, 8), mk(4, 2, 8)
    elif case == "heads_divide":
        with pytest.raises(AssertionError):
            tnn.MultiheadAttention(8, 3)
        with pytest.raises(AssertionError):
            nn.MultiheadAttention(8, 3)
        with pytest.raises(ValueError):
            tnn.MultiheadAttention(0, 3)
        with pytest.raises(ValueError):
            nn.MultiheadAttention(0, 3)
        return
    mq, mk_, mv = (to_mt(t) for t in (q, k, v))
    st, sm = _both_raise(lambda: tm(q, k, v, **kw), lambda: m(mq, mk_, mv, **{a: conv(b) for a, b in kw.items()}),
                         exc)
    assert st == sm


def test_mha_mismatched_mask_types_warns():
    m = nn.MultiheadAttention(4, 1)
    x = mt.randn(3, 2, 4)
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        m(x, x, x, key_padding_mask=mt.zeros(2, 3, dtype=mt.bool), attn_mask=mt.zeros(3, 3))


def test_sdpa_non_contiguous_inputs_and_no_grad():
    torch.manual_seed(6)
    q, k, v = mk(2, 5, 3, 4), mk(2, 6, 3, 4), mk(2, 6, 3, 4)   # (N, L, H, E) -> transposed to (N, H, L, E)
    m = torch.rand(5, 6) > 0.5
    m[:, 0] = True
    to = TF.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=m)
    with mt.no_grad():
        mo = F.scaled_dot_product_attention(to_mt(q).transpose(1, 2), to_mt(k).transpose(1, 2),
                                            to_mt(v).transpose(1, 2), attn_mask=to_mt(m))
    assert not mo.requires_grad
    close(mo, to, 2e-5, 2e-6)

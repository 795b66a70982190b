"""The fused CPU kernel of F.scaled_dot_product_attention (csrc/ops/attention.c) against PyTorch: values and
gradients for every mask form, causal with L != S, broadcast batch dims, non-contiguous inputs (the
(B, T, H, D) -> (B, H, T, D) transpose of a GPT block), fully masked rows, float64 gradcheck and double
backward under create_graph."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def pair(a, dtype="float64", grad=True):
    return (mt.tensor(a, dtype=getattr(mt, dtype), requires_grad=grad),
            torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=grad))


def run(shapes, mask=None, is_causal=False, scale=None, dtype="float64", seed=0, transpose=False):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    ms, ts = zip(*(pair(a, dtype) for a in arrays))
    mq, mk, mv = ms
    tq, tk, tv = ts
    if transpose:  # (B, T, H, D) leaves attended as (B, H, T, D): non-contiguous views
        mq, mk, mv = (x.transpose(1, 2) for x in (mq, mk, mv))
        tq, tk, tv = (x.transpose(1, 2) for x in (tq, tk, tv))
    mm = tm = None
    if mask is not None:
        mm, tm = mt.tensor(mask), torch.tensor(mask)
        if mask.dtype != np.bool_ and dtype == "float32":
            mm, tm = mm.float(), tm.float()
    mo = F.scaled_dot_product_attention(mq, mk, mv, attn_mask=mm, is_causal=is_causal, scale=scale)
    to = TF.scaled_dot_product_attention(tq, tk, tv, attn_mask=tm, is_causal=is_causal, scale=scale)
    g = rng.standard_normal(tuple(to.shape))
    mo.backward(mt.tensor(g, dtype=mo.dtype))
    to.backward(torch.tensor(g, dtype=to.dtype))
    tol = 1e-12 if dtype == "float64" else 2e-5
    np.testing.assert_allclose(mo.detach().numpy(), to.detach().numpy(), rtol=tol, atol=tol)
    for a, b in zip(ms, ts):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol * 10, atol=tol * 10)
    return mo, to


def test_plain_and_grad_fn_name():
    mo, to = run([(2, 3, 7, 4)] * 3)
    assert mo.grad_fn.name() == to.grad_fn.name() == "ScaledDotProductFlashAttentionForCpuBackward0"


@pytest.mark.parametrize("L,S", [(5, 5), (3, 6), (6, 3)])
def test_causal_top_left(L, S):
    run([(2, 2, L, 4), (2, 2, S, 4), (2, 2, S, 3)], is_causal=True)


def test_bool_masks_broadcast_and_fully_masked_rows():
    rng = np.random.default_rng(1)
    m = rng.random((5, 6)) > 0.4
    m[1] = False  # a query that may attend nothing: zeros, as torch
    mo, _ = run([(2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4)], mask=m)
    assert np.all(mo.detach().numpy()[:, :, 1] == 0)
    per = rng.random((2, 3, 5, 6)) > 0.5
    run([(2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4)], mask=per)
    run([(2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4)], mask=rng.random((3, 1, 6)) > 0.3)


def test_float_masks():
    rng = np.random.default_rng(2)
    run([(2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 2)], mask=rng.standard_normal((5, 6)))
    run([(2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 2)], mask=rng.standard_normal((2, 3, 5, 6)), scale=0.3)


def test_ranks_broadcast_and_float32():
    run([(5, 4), (6, 4), (6, 3)])
    run([(3, 5, 4), (3, 6, 4), (3, 6, 3)])
    run([(2, 3, 5, 4), (1, 3, 6, 4), (2, 1, 6, 3)])
    run([(4, 3, 16, 8)] * 3, is_causal=True, dtype="float32")
    run([(2, 9, 3, 8)] * 3, is_causal=True, transpose=True)


def test_gradcheck_and_double_backward():
    rng = np.random.default_rng(3)
    q, k, v = (mt.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True) for _ in range(3))
    mask = mt.tensor(rng.random((4, 4)) > 0.3)
    assert mt.autograd.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), (q, k, v))
    assert mt.autograd.gradgradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask), (q, k, v))
    # a gradient penalty: d/dq of |d out / d k|^2, as torch
    tq, tk, tv = (torch.tensor(x.detach().numpy(), requires_grad=True) for x in (q, k, v))
    outs = []
    for lib, fn, (a, b, c) in ((mt, F, (q, k, v)), (torch, TF, (tq, tk, tv))):
        o = fn.scaled_dot_product_attention(a, b, c, is_causal=True)
        (gk,) = lib.autograd.grad(o.sin().sum(), b, create_graph=True)
        (gq,) = lib.autograd.grad((gk ** 2).sum(), a)
        outs.append(gq.detach().numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-10, atol=1e-12)


def test_paths_the_kernel_leaves_to_the_composed_form():
    rng = np.random.default_rng(4)
    # a mask that requires grad gets its gradient (composed), as torch's math path gives it
    mq, tq = pair(rng.standard_normal((2, 5, 4)))
    mm, tm = pair(rng.standard_normal((5, 5)))
    F.scaled_dot_product_attention(mq, mq, mq, attn_mask=mm).sum().backward()
    TF.scaled_dot_product_attention(tq, tq, tq, attn_mask=tm).sum().backward()
    np.testing.assert_allclose(mm.grad.numpy(), tm.grad.numpy(), rtol=1e-10, atol=1e-12)
    # dropout and the 16-bit floats run composed
    assert F.scaled_dot_product_attention(mq, mq, mq, dropout_p=0.5).shape == (2, 5, 4)
    h = mt.randn(2, 5, 4).half()
    assert F.scaled_dot_product_attention(h, h, h).dtype is mt.float16

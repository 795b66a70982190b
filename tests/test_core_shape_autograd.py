"""Views and shape ops (values vs NumPy, storage sharing, gradients vs torch), indexing and
setitem, and the autograd engine's semantics."""
import numpy as np
import pytest

import minitorch as mt
from minitorch.autograd import gradcheck


def N(t):
    return t.detach().numpy()


def close(got, want):
    want = np.asarray(want)
    assert tuple(got.shape) == want.shape, (tuple(got.shape), want.shape)
    np.testing.assert_allclose(N(got).astype(np.float64), want.astype(np.float64), rtol=1e-6, atol=1e-9)


def arr(*shape, dtype=np.float64):
    return np.arange(np.prod(shape), dtype=dtype).reshape(shape)


# ---------------------------------------------------------------- views
def test_view_reshape():
    a = arr(2, 3, 4)
    x = mt.tensor(a)
    close(x.view(6, 4), a.reshape(6, 4))
    close(x.view(-1), a.reshape(-1))
    close(x.view(2, -1), a.reshape(2, -1))
    close(x.reshape(4, -1, 2), a.reshape(4, -1, 2))
    close(x.view((3, 8)), a.reshape(3, 8))
    with pytest.raises(RuntimeError):
        x.view(5, -1)
    with pytest.raises(RuntimeError):
        x.view(-1, -1)
    t = x.transpose(0, 2)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        t.view(-1)
    r = t.reshape(-1)  # copies
    close(r, a.transpose(2, 1, 0).reshape(-1))
    # a view shares storage, reshape of a contiguous tensor too
    v = x.view(-1)
    v[0] = 100.0
    assert x[0, 0, 0].item() == 100.0
    x.reshape(24)[1] = 200.0
    assert x[0, 0, 1].item() == 200.0
    # reshape of a non-viewable tensor does not alias
    r[0] = -5.0
    assert x[0, 0, 0].item() == 100.0


def test_flatten_unsqueeze_squeeze():
    a = arr(2, 1, 3, 1)
    x = mt.tensor(a)
    close(x.flatten(), a.reshape(-1))
    close(x.flatten(1), a.reshape(2, -1))
    close(x.flatten(1, 2), a.reshape(2, 3, 1))
    close(x.squeeze(), a.squeeze())
    close(x.squeeze(1), a.squeeze(1))
    close(x.squeeze(0), a)  # size != 1: no-op
    close(x.squeeze(-1), a.squeeze(-1))
    close(x.unsqueeze(0), a[None])
    close(x.unsqueeze(-1), a[..., None])
    close(x.unsqueeze(2), np.expand_dims(a, 2))
    s = mt.tensor(3.0)
    assert tuple(s.flatten().shape) == (1,)
    assert tuple(s.unsqueeze(0).shape) == (1,)


def test_permute_transpose_t_T():
    a = arr(2, 3, 4)
    x = mt.tensor(a)
    close(x.permute(2, 0, 1), a.transpose(2, 0, 1))
    close(x.permute((1, 2, 0)), a.transpose(1, 2, 0))
    close(x.permute(-1, 0, 1), a.transpose(2, 0, 1))
    close(x.transpose(0, 2), a.swapaxes(0, 2))
    close(x.transpose(-1, -2), a.swapaxes(-1, -2))
    m = mt.tensor(arr(3, 5))
    close(m.t(), arr(3, 5).T)
    close(m.T, arr(3, 5).T)
    close(mt.tensor(np.arange(4.0)).t(), np.arange(4.0))
    with pytest.raises(RuntimeError):
        x.t()
    with pytest.raises(RuntimeError):
        x.permute(0, 0, 1)
    p = x.permute(2, 0, 1)
    assert not p.is_contiguous()
    p[0, 0, 0] = -1.0
    assert x[0, 0, 0].item() == -1.0
    close(p.contiguous(), a.transpose(2, 0, 1) * (a.transpose(2, 0, 1) != 0) - (a.transpose(2, 0, 1) == 0))


def test_expand_repeat():
    a = arr(3, 1)
    x = mt.tensor(a)
    close(x.expand(3, 4), np.broadcast_to(a, (3, 4)))
    close(x.expand(2, -1, 4), np.broadcast_to(a, (2, 3, 4)))
    close(x.expand_as(mt.zeros(2, 3, 5)), np.broadcast_to(a, (2, 3, 5)))
    with pytest.raises(RuntimeError):
        x.expand(4, 4)
    e = x.expand(3, 4)
    assert e.stride()[1] == 0
    close(x.repeat(2, 3), np.tile(a, (2, 3)))
    close(x.repeat(2, 1, 2), np.tile(a, (2, 1, 2)))
    close(mt.tensor(arr(2, 3)).t().repeat(1, 2), np.tile(arr(2, 3).T, (1, 2)))


def test_cat_stack():
    a, b = arr(2, 3), arr(1, 3) + 100
    close(mt.cat([mt.tensor(a), mt.tensor(b)]), np.concatenate([a, b]))
    close(mt.cat((mt.tensor(a).t(), mt.tensor(b).t()), dim=1), np.concatenate([a.T, b.T], 1))
    close(mt.cat([mt.tensor(a), mt.tensor(a)], dim=-1), np.concatenate([a, a], -1))
    close(mt.stack([mt.tensor(a), mt.tensor(a + 1)]), np.stack([a, a + 1]))
    close(mt.stack([mt.tensor(a), mt.tensor(a + 1)], dim=2), np.stack([a, a + 1], 2))
    close(mt.stack([mt.tensor(a), mt.tensor(a + 1)], dim=-1), np.stack([a, a + 1], -1))
    with pytest.raises(RuntimeError):
        mt.cat([mt.tensor(a), mt.tensor(arr(2, 2))])
    with pytest.raises(RuntimeError):
        mt.stack([mt.tensor(a), mt.tensor(b)])
    torch = pytest.importorskip("torch")
    # dtype promotion like torch
    got = mt.cat([mt.tensor([1, 2]), mt.tensor([1.5])])
    want = torch.cat([torch.tensor([1, 2]), torch.tensor([1.5])])
    assert str(got.dtype) == str(want.dtype)
    close(got, want.numpy())


def test_split_chunk_narrow_unbind():
    a = arr(7, 2)
    x = mt.tensor(a)
    for got, want in zip(x.split(3), np.split(a, [3, 6])):
        close(got, want)
    assert len(x.split(3)) == 3
    for got, want in zip(x.split([2, 5]), np.split(a, [2])):
        close(got, want)
    for got, want in zip(x.chunk(3), np.split(a, [3, 6])):
        close(got, want)
    assert [tuple(c.shape) for c in mt.tensor(arr(6)).chunk(4)] == [(2,), (2,), (2,)]
    close(x.narrow(0, 2, 3), a[2:5])
    close(x.narrow(1, 1, 1), a[:, 1:2])
    us = x.unbind(1)
    assert len(us) == 2
    close(us[1], a[:, 1])
    us[0][0] = -9.0  # unbind returns views
    assert x[0, 0].item() == -9.0
    with pytest.raises(RuntimeError):
        x.split([2, 2])


def test_shape_grads_vs_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    fns = [
        lambda t: t.view(6, 4), lambda t: t.reshape(-1, 2), lambda t: t.transpose(0, 2).reshape(-1),
        lambda t: t.permute(2, 0, 1), lambda t: t.flatten(1), lambda t: t.unsqueeze(1).squeeze(1),
        lambda t: t[:, :1].expand(2, 5, 4), lambda t: t.repeat(2, 1, 1), lambda t: t.narrow(2, 1, 2),
        lambda t: t.split(2, dim=2)[1], lambda t: t.chunk(2, dim=1)[0], lambda t: t.unbind(1)[2],
        lambda t: t[1], lambda t: t[:, 1:3], lambda t: t[::2, ::-1] if False else t[::2], lambda t: t[None],
        lambda t: t[..., 0], lambda t: t[[0, 1, 1]], lambda t: t[t > 0], lambda t: t[:, [2, 0]],
        lambda t: t.transpose(1, 2), lambda t: t[0].t(), lambda t: t[0].T,
    ]
    for i, f in enumerate(fns):
        x = mt.tensor(a, requires_grad=True)
        tx = torch.tensor(a, requires_grad=True)
        y, ty = f(x), f(tx)
        close(y, ty.detach().numpy())
        if i not in (17, 18, 19):  # advanced indexing: names checked in the xfail test below
            assert y.grad_fn.name() == type(ty.grad_fn).__name__, (i, y.grad_fn.name(), type(ty.grad_fn).__name__)
        g = np.random.default_rng(i).standard_normal(tuple(ty.shape))
        y.backward(mt.tensor(g))
        ty.backward(torch.tensor(g))
        close(x.grad, tx.grad.numpy())


def test_split_family_grad_fn_names():
    torch = pytest.importorskip("torch")
    a = np.arange(6.0).reshape(3, 2)
    x, tx = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for f in (lambda t: t.split(2)[0], lambda t: t.chunk(2)[1], lambda t: t.unbind(0)[1], lambda t: t.split([1, 2])[1]):
        assert f(x).grad_fn.name() == type(f(tx).grad_fn).__name__


def test_split_pieces_share_one_node_and_unused_pieces_get_zeros():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(5).standard_normal((5, 3))
    for pick in ((0,), (1,), (0, 2), (0, 1, 2)):
        x, tx = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        for lib_x, parts in ((x, x.split([2, 1, 2])), (tx, tx.split([2, 1, 2]))):
            loss = sum((parts[k] * (k + 1)).exp().sum() for k in pick)
            loss.backward()
        close(x.grad, tx.grad.numpy())
        x, tx = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        for lib_x, parts in ((x, x.unbind(1)), (tx, tx.unbind(1))):
            sum((parts[k] ** 2).sum() for k in pick).backward()
        close(x.grad, tx.grad.numpy())


@pytest.mark.xfail(strict=True, reason="advanced indexing is composed from index_select/reshape in _indexing.py, "
                                        "so x[[0, 2]] / x[mask] carry ViewBackward0 etc. instead of IndexBackward0")
def test_advanced_index_grad_fn_name():
    torch = pytest.importorskip("torch")
    a = np.arange(6.0).reshape(3, 2)
    x, tx = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    assert x[[0, 2]].grad_fn.name() == type(tx[[0, 2]].grad_fn).__name__


def test_cat_stack_grads():
    torch = pytest.importorskip("torch")
    a, b = np.random.default_rng(1).standard_normal((2, 3)), np.random.default_rng(2).standard_normal((2, 3))
    x, y = mt.tensor(a, requires_grad=True), mt.tensor(b, requires_grad=True)
    assert gradcheck(lambda p, q: mt.cat([p, q * 2], dim=1), (x, y))
    assert gradcheck(lambda p, q: mt.stack([p, q], dim=1), (x, y))
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, tout = mt.cat([x, y]), torch.cat([tx, ty])
    assert out.grad_fn.name() == type(tout.grad_fn).__name__
    out2, tout2 = mt.stack([x, y]), torch.stack([tx, ty])
    assert out2.grad_fn.name() == type(tout2.grad_fn).__name__


# ---------------------------------------------------------------- indexing
def test_getitem_values():
    a = arr(4, 5)
    x = mt.tensor(a)
    close(x[1], a[1])
    close(x[-1], a[-1])
    close(x[:, 1:3], a[:, 1:3])
    close(x[::2], a[::2])
    close(x[1::2, ::3], a[1::2, ::3])
    close(x[None], a[None])
    close(x[:, None, 2], a[:, None, 2])
    close(x[..., 0], a[..., 0])
    close(x[[0, 2]], a[[0, 2]])
    close(x[[0, 2], [1, 3]], a[[0, 2], [1, 3]])
    close(x[:, [4, 0, 0]], a[:, [4, 0, 0]])
    mask = a % 3 == 0
    close(x[mt.tensor(mask)], a[mask])
    close(x[mt.tensor(mask[:, 0])], a[mask[:, 0]])
    idx = np.array([[0, 3], [2, 2]])
    close(x[mt.tensor(idx)], a[idx])
    close(x[mt.tensor([-1, 0])], a[[-1, 0]])
    assert x[1, 2].item() == a[1, 2]
    assert x[1, 2].dim() == 0
    with pytest.raises(IndexError):
        x[4]
    with pytest.raises(IndexError):
        x[mt.tensor([5])]
    with pytest.raises(IndexError):
        x[0, 0, 0]
    # basic indexing gives views, advanced indexing copies
    v = x[1:3, ::2]
    v[0, 0] = -1.0
    assert x[1, 0].item() == -1.0
    c = x[[0]]
    c[0, 0] = 55.0
    assert x[0, 0].item() == 0.0


def test_setitem():
    a = arr(4, 5)
    x = mt.tensor(a)
    want = a.copy()
    x[0] = 7.0
    want[0] = 7.0
    x[:, 1] = mt.tensor(np.arange(4.0) * -1)
    want[:, 1] = np.arange(4.0) * -1
    x[1:3, 2:4] = mt.tensor([[1.0, 2.0], [3.0, 4.0]])
    want[1:3, 2:4] = [[1.0, 2.0], [3.0, 4.0]]
    x[::2, 4] = 9
    want[::2, 4] = 9
    m = want > 10
    x[mt.tensor(m)] = 0.0
    want[m] = 0.0
    x[[3, 0], [0, 0]] = mt.tensor([-3.0, -4.0], dtype=mt.float64)
    want[[3, 0], [0, 0]] = [-3.0, -4.0]
    x[mt.tensor([2])] = mt.tensor([5.0], dtype=mt.float64)  # broadcast
    want[[2]] = 5.0
    x[..., 3] = 1
    want[..., 3] = 1
    close(x, want)
    v0 = x._version
    x[0, 0] = 1.0
    assert x._version > v0
    # setitem through a transposed view writes the base
    y = mt.tensor(arr(3, 4))
    y.t()[1] = 0.0
    w = arr(3, 4)
    w[:, 1] = 0
    close(y, w)


def test_setitem_autograd():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(3).standard_normal((3, 4))
    x = mt.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    y, ty = x * 2, tx * 2
    y[1] = 0.0
    ty[1] = 0.0
    y[:, 0] = x[:, 1]
    ty[:, 0] = tx[:, 1]
    close(y, ty.detach().numpy())
    assert y.grad_fn.name() == type(ty.grad_fn).__name__ == "CopySlices"
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    close(x.grad, tx.grad.numpy())
    with pytest.raises(RuntimeError):
        x[0] = 1.0  # leaf requiring grad
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0].mul_(2)


def test_inplace_on_view_chain_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(4).standard_normal((4, 3))
    w = mt.tensor(a, requires_grad=True)
    tw = torch.tensor(a, requires_grad=True)
    for lib, x in ((mt, w), (torch, tw)):
        y = x * 2  # (exp would save its output, which the writes below modify: an error in both)
        v = y[1:3]
        v.mul_(x[:2] * 3)
        v.add_(1.0)
        y[0].clamp_(max=0.5)
        (y.sin() * y).sum().backward()
    close(w.grad, tw.grad.numpy())


# ---------------------------------------------------------------- autograd engine
def test_setitem_on_leaf_requiring_grad_raises():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        x[0] = 1.0
    with mt.no_grad():
        x[0] = 5.0
    close(x, [5.0, 2.0])


def test_requires_grad_propagation_and_leaf():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    c = mt.tensor([3.0, 4.0])
    y = x * c
    assert y.requires_grad and not y.is_leaf and x.is_leaf and c.is_leaf and not c.requires_grad
    assert y.grad_fn is not None and x.grad_fn is None
    z = c * 2
    assert not z.requires_grad and z.is_leaf and z.grad_fn is None
    with pytest.raises(RuntimeError):
        mt.tensor([1, 2]).requires_grad_()  # only float tensors
    d = y.detach()
    assert not d.requires_grad and d.is_leaf
    d[0] = 100.0  # detach shares storage
    assert y[0].item() == 100.0


def test_retain_grad_and_accumulation():
    x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.retain_grad()
    z = (y * 3).sum()
    z.backward(retain_graph=True)
    close(y.grad, [3.0, 3.0, 3.0])
    close(x.grad, 6 * np.array([1.0, 2.0, 3.0]))
    z.backward()
    close(x.grad, 12 * np.array([1.0, 2.0, 3.0]))
    close(y.grad, [6.0, 6.0, 6.0])
    with pytest.raises(RuntimeError, match="^Trying to backward through the graph a second time"):
        z.backward()
    w = (x * 2).sum()
    w.backward()
    close(x.grad, 12 * np.array([1.0, 2.0, 3.0]) + 2)
    x.grad = None
    (x ** 3).sum().backward()
    close(x.grad, 3 * np.array([1.0, 4.0, 9.0]))


def test_second_backward_raises():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="^Trying to backward through the graph a second time"):
        y.backward()


def test_backward_gradient_arg_and_nonscalar():
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, -2.0], [0.5, 3.0]])
    x, tx = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = x.sin() * x, tx.sin() * tx
    with pytest.raises(RuntimeError):
        y.backward()
    with pytest.raises(RuntimeError):
        ty.backward()
    g = np.array([[1.0, 2.0], [3.0, 4.0]])
    y.backward(gradient=mt.tensor(g))
    ty.backward(gradient=torch.tensor(g))
    close(x.grad, tx.grad.numpy())
    with pytest.raises(RuntimeError):
        (x * 2).backward(mt.ones(3))
    with pytest.raises(RuntimeError):
        mt.tensor([1.0]).sum().backward()  # does not require grad


def test_inplace_on_saved_tensor_raises():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y  # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    a = mt.tensor([0.5, 1.0], requires_grad=True)
    e = a.exp()
    out = e.sum()  # exp saves its output; sum does not need it
    e2 = e * 1
    e.mul_(2)
    with pytest.raises(RuntimeError):
        (out + e2.sum()).backward()  # ExpBackward needs the modified output


def test_inplace_on_leaf_raises_and_nograd_allows():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with pytest.raises(RuntimeError):
        x.mul_(2)
    with mt.no_grad():
        x.add_(1)
    close(x, [2.0, 3.0])
    assert x.requires_grad and x.is_leaf


def test_inplace_autograd_vs_torch():
    torch = pytest.importorskip("torch")
    a = np.array([0.3, -1.2, 2.0])
    x, tx = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = x * 1.5, tx * 1.5
    y.mul_(x)
    ty.mul_(tx)
    y.add_(2)
    ty.add_(2)
    y.clamp_(-1, 2)
    ty.clamp_(-1, 2)
    assert y.grad_fn.name() == type(ty.grad_fn).__name__
    y.sum().backward()
    ty.sum().backward()
    close(x.grad, tx.grad.numpy())


def test_grad_modes():
    x = mt.tensor([1.0], requires_grad=True)
    with mt.no_grad():
        assert not mt.is_grad_enabled()
        y = x * 2
        with mt.enable_grad():
            assert (x * 2).requires_grad
        assert not mt.is_grad_enabled()
    assert not y.requires_grad and mt.is_grad_enabled()

    @mt.no_grad()
    def f(t):
        return t * 2

    @mt.enable_grad()
    def g(t):
        return t * 2

    assert not f(x).requires_grad
    with mt.no_grad():
        assert g(x).requires_grad
    with mt.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert mt.is_grad_enabled()
    mt.set_grad_enabled(False)
    assert not mt.is_grad_enabled()
    mt.set_grad_enabled(True)
    assert mt.is_grad_enabled()

    @mt.set_grad_enabled(False)
    def h(t):
        return t * 2

    assert mt.is_grad_enabled()
    assert not h(x).requires_grad
    assert mt.is_grad_enabled()
    # exceptions restore the mode
    with pytest.raises(ValueError):
        with mt.no_grad():
            raise ValueError
    assert mt.is_grad_enabled()


def test_autograd_grad():
    torch = pytest.importorskip("torch")
    a, b = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    x, y = mt.tensor(a, requires_grad=True), mt.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    gx, gy = mt.autograd.grad((x * y).exp().sum(), (x, y))
    tgx, tgy = torch.autograd.grad((tx * ty).exp().sum(), (tx, ty))
    close(gx, tgx.numpy())
    close(gy, tgy.numpy())
    assert x.grad is None and y.grad is None
    (g,) = mt.autograd.grad(x * y, x, grad_outputs=mt.tensor([1.0, 0.0, 2.0]))
    close(g, b * [1.0, 0.0, 2.0])
    z = mt.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        mt.autograd.grad((x * 2).sum(), (x, z))
    r = mt.autograd.grad((x * 2).sum(), (x, z), allow_unused=True)
    assert r[1] is None
    close(r[0], [2.0, 2.0, 2.0])


def test_shared_subgraph_and_diamond():
    torch = pytest.importorskip("torch")
    a = np.array([0.5, 1.5])
    x, tx = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)

    def f(t):
        u = t.exp()
        v = u * t
        w = u.sin() + v * u
        return (w * w).sum() + (u / v).sum()

    f(x).backward()
    f(tx).backward()
    close(x.grad, tx.grad.numpy())
    assert gradcheck(f, (mt.tensor(a, requires_grad=True),))


def test_deep_chain_no_recursion_error():
    x = mt.tensor([1.0], dtype=mt.float64, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    close(x.grad, [1.0001 ** 5000])


class _MyExp(mt.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        y = (x * k).exp()
        ctx.save_for_backward(y)
        ctx.k = k
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * ctx.k, None


class _BadSquare(mt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x  # wrong: missing factor 2


def test_custom_function_output_freed_without_backward():
    """a Function's node keeps no reference to its outputs, not even one the Function saved (a cycle
    through the C node that Python's collector cannot break): an output used without backward is
    freed with its last reference"""
    import gc
    import weakref
    x = mt.randn(4, requires_grad=True)
    for apply in (_BadSquare.apply, lambda x: _MyExp.apply(x, 2.0)):  # _MyExp saves its output
        y = apply(x)
        ref = weakref.ref(y)
        del y
        gc.collect()
        assert ref() is None
    y = _BadSquare.apply(x)  # and gradients for unused outputs still come as zeros
    y.sum().backward()
    close(x.grad, x.detach().numpy())


def test_custom_function_vs_torch():
    torch = pytest.importorskip("torch")

    class TExp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            y = (x * k).exp()
            ctx.save_for_backward(y)
            ctx.k = k
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y * ctx.k, None

    a = np.array([[0.1, -0.5], [1.0, 0.3]])
    x, tx = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = _MyExp.apply(x, 1.5), TExp.apply(tx, 1.5)
    close(y, ty.detach().numpy())
    assert y.grad_fn.name() == "_MyExpBackward" and type(ty.grad_fn).__name__ == "TExpBackward"
    (y * y.sin()).sum().backward()
    (ty * ty.sin()).sum().backward()
    close(x.grad, tx.grad.numpy())
    assert gradcheck(lambda t: _MyExp.apply(t, 1.5), (mt.tensor(a, requires_grad=True),))
    # saved tensors freed after backward
    y2 = _MyExp.apply(x, 2.0)
    s = y2.sum()
    s.backward()
    with pytest.raises(RuntimeError, match="^Trying to backward through the graph a second time"):
        s.backward()


def test_gradcheck_detects_wrong_backward():
    x = mt.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    with pytest.raises(RuntimeError):
        gradcheck(_BadSquare.apply, (x,))
    assert gradcheck(_BadSquare.apply, (x,), raise_exception=False) is False
    assert gradcheck(lambda t: t * t, (x,))

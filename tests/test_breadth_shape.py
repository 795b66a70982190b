"""minitorch/_breadth_shape.py against torch: values, dtypes, shapes, gradients and error types."""
import warnings

import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")


def T(x, **kw):
    """The same values as a torch and a minitorch tensor."""
    a = np.asarray(x)
    return torch.tensor(a, **{k: getattr(torch, v) for k, v in kw.items()}), \
        mt.tensor(a, **{k: getattr(mt, v) for k, v in kw.items()})


def same(m, t, exact=True):
    if isinstance(t, (tuple, list)):
        assert isinstance(m, tuple) == isinstance(t, tuple) and len(m) == len(t), (m, t)
        for a, b in zip(m, t):
            same(a, b, exact)
        return
    if isinstance(t, torch.Tensor):
        assert str(m.dtype) == str(t.dtype), (m.dtype, t.dtype)
        assert tuple(m.shape) == tuple(t.shape), (m.shape, t.shape)
        a, b = m.detach().numpy(), t.detach().numpy()
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        return
    assert m == t, (m, t)


def errs(fm, ft):
    """Both raise, with the same exception type and message."""
    with pytest.raises(Exception) as et:
        ft()
    with pytest.raises(Exception) as em:
        fm()
    assert type(em.value).__name__ == type(et.value).__name__, (em.value, et.value)
    assert str(em.value) == str(et.value), (str(em.value), str(et.value))


def grads(fn_m, fn_t, *arrays, dtype="float64"):
    """fn's value and the gradient of (fn * weights).sum() w.r.t. each input, in both."""
    tin = [torch.tensor(np.asarray(a), dtype=getattr(torch, dtype), requires_grad=True) for a in arrays]
    min_ = [mt.tensor(np.asarray(a), dtype=getattr(mt, dtype), requires_grad=True) for a in arrays]
    yt, ym = fn_t(*tin), fn_m(*min_)
    same(ym, yt.detach(), exact=False)
    w = np.random.RandomState(0).randn(*yt.shape)
    (yt * torch.tensor(w)).sum().backward()
    (ym * mt.tensor(w)).sum().backward()
    for a, b in zip(min_, tin):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-9)


X = np.arange(24.).reshape(2, 3, 4)


def test_equal_same_size_nonzero_signed():
    for a, b in [([1, 2], [1., 2.]), ([1, 2], [[1, 2]]), ([1, 2], [1, 3]), ([], []), ([True], [1])]:
        (ta, ma), (tb, mb) = T(a), T(b)
        assert mt.equal(ma, mb) == torch.equal(ta, tb)
        assert ma.equal(mb) == ta.equal(tb)
        assert mt.is_same_size(ma, mb) == torch.is_same_size(ta, tb) == ma.is_same_size(mb)
    for v in ([0.], [3], [True], 2.5):
        t, m = T(v)
        assert mt.is_nonzero(m) == torch.is_nonzero(t) == m.is_nonzero()
    for v in ([], [1, 2]):
        t, m = T(v)
        errs(lambda: mt.is_nonzero(m), lambda: torch.is_nonzero(t))
    for dt in ("bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"):
        assert mt.is_signed(mt.zeros(1, dtype=getattr(mt, dt))) == torch.is_signed(torch.zeros(1, dtype=getattr(torch, dt)))
        assert mt.zeros(1, dtype=getattr(mt, dt)).is_signed() == torch.zeros(1, dtype=getattr(torch, dt)).is_signed()


def test_broadcast():
    t, m = T([[1.], [2.]])
    same(mt.broadcast_to(m, (3, 2, 4)), torch.broadcast_to(t, (3, 2, 4)))
    same(m.broadcast_to((-1, 3)), t.broadcast_to((-1, 3)))
    (ta, ma), (tb, mb) = T([1, 2, 3]), T([[1.], [2.]])
    same(mt.broadcast_tensors(ma, mb), torch.broadcast_tensors(ta, tb))
    same(mt.broadcast_tensors(ma), torch.broadcast_tensors(ta))
    with pytest.raises(RuntimeError):
        mt.broadcast_tensors(ma, mt.ones(2))
    grads(lambda a: mt.broadcast_to(a, (3, 2)), lambda a: torch.broadcast_to(a, (3, 2)), [1., 2.])


@pytest.mark.parametrize("name", ["hstack", "vstack", "dstack", "column_stack", "row_stack"])
def test_stacks(name):
    cases = [[[1, 2], [3, 4]], [[[1, 2]], [[3, 4]]], [np.arange(6.).reshape(2, 3), np.ones((2, 3))],
             [np.arange(3.), np.arange(3.)], [np.float64(1.0), np.float64(2.0)]]
    if name == "column_stack":
        cases.append([np.arange(2.), np.ones((2, 3))])
    for case in cases:
        t = [torch.tensor(np.asarray(c)) for c in case]
        m = [mt.tensor(np.asarray(c)) for c in case]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            same(getattr(mt, name)(m), getattr(torch, name)(t))
            same(getattr(mt, name)(tuple(m)), getattr(torch, name)(tuple(t)))
    grads(lambda a, b: getattr(mt, name)([a, b]), lambda a, b: getattr(torch, name)([a, b]), [1., 2.], [3., 4.])


def test_concat_concatenate():
    (ta, ma), (tb, mb) = T(np.ones((2, 3))), T(np.zeros((2, 1)))
    same(mt.concat([ma, mb], 1), torch.concat([ta, tb], 1))
    same(mt.concat([ma, mb], dim=-1), torch.concat([ta, tb], dim=-1))
    same(mt.concatenate([ma, mb], axis=1), torch.concatenate([ta, tb], axis=1))
    same(mt.concatenate((ma, ma)), torch.concatenate((ta, ta)))
    with pytest.raises(RuntimeError):
        mt.concat([ma, mb], 0)


def test_tensor_split():
    t, m = T(np.arange(14.).reshape(7, 2))
    for ios in (1, 2, 3, 7, 9, [1, 5], [3], [0, 0, 9], [-2, 1], (2, 4), []):
        for dim in (0, -2):
            same(mt.tensor_split(m, ios, dim), torch.tensor_split(t, ios, dim))
        same(m.tensor_split(ios), t.tensor_split(ios))
    same(mt.tensor_split(m, mt.tensor(3), 0), torch.tensor_split(t, torch.tensor(3), 0))
    same(mt.tensor_split(m, mt.tensor([1, 4]), 0), torch.tensor_split(t, torch.tensor([1, 4]), 0))
    same(mt.tensor_split(m, 2, 1), torch.tensor_split(t, 2, 1))
    errs(lambda: mt.tensor_split(m, 0), lambda: torch.tensor_split(t, 0))
    errs(lambda: mt.tensor_split(m, mt.tensor([1.])), lambda: torch.tensor_split(t, torch.tensor([1.])))
    errs(lambda: mt.tensor_split(mt.tensor(1.), 2), lambda: torch.tensor_split(torch.tensor(1.), 2))
    with pytest.raises(IndexError):
        mt.tensor_split(m, 2, 2)
    # views: writes reach the input
    mm = m.clone()
    mm.tensor_split(2)[0].fill_(-1)
    assert float(mm[0, 0]) == -1
    grads(lambda a: mt.cat([p * (i + 1) for i, p in enumerate(mt.tensor_split(a, 3))]),
          lambda a: torch.cat([p * (i + 1) for i, p in enumerate(torch.tensor_split(a, 3))]), np.arange(7.))


def test_hvd_split():
    t, m = T(np.arange(48.).reshape(2, 4, 6))
    for name in ("hsplit", "vsplit", "dsplit"):
        for ios in (1, 2, [1], [1, 2]):
            same(getattr(mt, name)(m, ios), getattr(torch, name)(t, ios))
            same(getattr(m, name)(ios), getattr(t, name)(ios))
        errs(lambda: getattr(mt, name)(m, 5), lambda: getattr(torch, name)(t, 5))
    t1, m1 = T(np.arange(6.))
    same(mt.hsplit(m1, 3), torch.hsplit(t1, 3))
    for name, (tt, mm) in (("hsplit", T(1.)), ("vsplit", T([1.])), ("dsplit", T([[1.]]))):
        errs(lambda: getattr(mt, name)(mm, 1), lambda: getattr(torch, name)(tt, 1))


def test_split_with_sizes():
    t, m = T(X)
    same(m.split_with_sizes([1, 2], 1), t.split_with_sizes([1, 2], 1))
    same(mt.split_with_sizes(m, [4, 0], -1), torch.split_with_sizes(t, [4, 0], -1))
    errs(lambda: m.split_with_sizes([1, 1], 1), lambda: t.split_with_sizes([1, 1], 1))
    errs(lambda: m.split_with_sizes([-1, 4], 1), lambda: t.split_with_sizes([-1, 4], 1))


def test_tile():
    t, m = T(np.arange(6).reshape(2, 3))
    for dims in ((2,), (2, 1), (1, 2, 2), (0, 1), (), (3, 1, 1, 1)):
        same(mt.tile(m, dims), torch.tile(t, dims))
        same(m.tile(dims), t.tile(dims))
    same(mt.tile(mt.tensor(5), (3,)), torch.tile(torch.tensor(5), (3,)))
    grads(lambda a: mt.tile(a, (2, 2)), lambda a: torch.tile(a, (2, 2)), [[1., 2.]])


def test_repeat_interleave():
    t, m = T(np.arange(6.).reshape(2, 3))
    same(mt.repeat_interleave(m, 2), torch.repeat_interleave(t, 2))
    same(m.repeat_interleave(2, dim=1), t.repeat_interleave(2, dim=1))
    same(mt.repeat_interleave(m, mt.tensor([1, 2]), dim=0), torch.repeat_interleave(t, torch.tensor([1, 2]), dim=0))
    same(mt.repeat_interleave(m, mt.tensor([0, 1, 2]), dim=-1), torch.repeat_interleave(t, torch.tensor([0, 1, 2]), dim=-1))
    same(mt.repeat_interleave(m, mt.tensor([3]), dim=0), torch.repeat_interleave(t, torch.tensor([3]), dim=0))
    same(mt.repeat_interleave(m, 2, 0, output_size=4), torch.repeat_interleave(t, 2, 0, output_size=4))
    same(mt.repeat_interleave(mt.tensor(7), 3), torch.repeat_interleave(torch.tensor(7), 3))
    same(mt.repeat_interleave(mt.tensor([1, 2, 0, 3])), torch.repeat_interleave(torch.tensor([1, 2, 0, 3])))
    same(mt.repeat_interleave(mt.tensor([], dtype=mt.int64)), torch.repeat_interleave(torch.tensor([], dtype=torch.int64)))
    same(mt.repeat_interleave(mt.tensor([True, False]), 2), torch.repeat_interleave(torch.tensor([True, False]), 2))
    errs(lambda: mt.repeat_interleave(m, mt.tensor([1, 2])), lambda: torch.repeat_interleave(t, torch.tensor([1, 2])))
    errs(lambda: mt.repeat_interleave(m, mt.tensor([-1, 2]), 0), lambda: torch.repeat_interleave(t, torch.tensor([-1, 2]), 0))
    errs(lambda: mt.repeat_interleave(m, 2, 0, output_size=3), lambda: torch.repeat_interleave(t, 2, 0, output_size=3))
    errs(lambda: mt.repeat_interleave(m, -1), lambda: torch.repeat_interleave(t, -1))
    errs(lambda: mt.repeat_interleave(mt.tensor([1., 2])), lambda: torch.repeat_interleave(torch.tensor([1., 2])))
    errs(lambda: mt.repeat_interleave(mt.tensor([[1, 2]])), lambda: torch.repeat_interleave(torch.tensor([[1, 2]])))
    grads(lambda a: mt.repeat_interleave(a, mt.tensor([2, 1]), dim=1),
          lambda a: torch.repeat_interleave(a, torch.tensor([2, 1]), dim=1), [[1., 2.], [3., 4.]])


def test_movedim_ravel_flips():
    t, m = T(X)
    for s, d in ((0, 2), (-1, 0), ((0, 1), (2, 0)), ([2], [0]), ((), ())):
        same(mt.movedim(m, s, d), torch.movedim(t, s, d))
        same(m.moveaxis(s, d), t.moveaxis(s, d))
    errs(lambda: mt.movedim(m, (0, 0), (1, 2)), lambda: torch.movedim(t, (0, 0), (1, 2)))
    errs(lambda: mt.movedim(m, (0, 1), (2, 2)), lambda: torch.movedim(t, (0, 1), (2, 2)))
    errs(lambda: mt.movedim(m, (0, 1), (1,)), lambda: torch.movedim(t, (0, 1), (1,)))
    with pytest.raises(IndexError):
        mt.movedim(m, 3, 0)
    nc_t, nc_m = t.transpose(0, 2), m.transpose(0, 2)  # non-contiguous
    same(mt.ravel(nc_m), torch.ravel(nc_t))
    same(m.ravel(), t.ravel())
    same(mt.ravel(mt.tensor(3.)), torch.ravel(torch.tensor(3.)))
    same(mt.fliplr(m), torch.fliplr(t))
    same(m.flipud(), t.flipud())
    same(mt.flipud(mt.arange(3)), torch.flipud(torch.arange(3)))
    errs(lambda: mt.fliplr(mt.arange(3)), lambda: torch.fliplr(torch.arange(3)))
    errs(lambda: mt.flipud(mt.tensor(3)), lambda: torch.flipud(torch.tensor(3)))
    grads(lambda a: mt.movedim(a, 0, 1) * mt.tensor([1., 2.]), lambda a: torch.movedim(a, 0, 1) * torch.tensor([1., 2.]),
          [[1., 2., 3.], [4., 5., 6.]])


def test_take_along_dim_masked_select_argwhere():
    t, m = T(np.arange(6.).reshape(2, 3))
    (ti, mi) = T([[0], [2]])
    same(mt.take_along_dim(m, mi, 1), torch.take_along_dim(t, ti, 1))
    same(m.take_along_dim(mi), t.take_along_dim(ti))
    same(mt.take_along_dim(m, mt.tensor([[0, 1, 1]]), 0), torch.take_along_dim(t, torch.tensor([[0, 1, 1]]), 0))
    same(mt.take_along_dim(m, mt.tensor([[2]]), 1), torch.take_along_dim(t, torch.tensor([[2]]), 1))  # broadcasts
    same(mt.take_along_dim(m, mt.argsort(m, 1), 1), torch.take_along_dim(t, torch.argsort(t, 1), 1))
    errs(lambda: mt.take_along_dim(m, mt.tensor([[0.]]), 1), lambda: torch.take_along_dim(t, torch.tensor([[0.]]), 1))
    grads(lambda a: mt.take_along_dim(a, mt.tensor([[0, 0], [1, 2]]), 1),
          lambda a: torch.take_along_dim(a, torch.tensor([[0, 0], [1, 2]]), 1), [[1., 2., 3.], [4., 5., 6.]])

    tm, mm = T([True, False, True])
    same(mt.masked_select(m, mm), torch.masked_select(t, tm))
    same(m.masked_select(mt.tensor([[True], [False]])), t.masked_select(torch.tensor([[True], [False]])))
    same(mt.masked_select(mt.tensor(2.), mm), torch.masked_select(torch.tensor(2.), tm))  # input broadcasts too
    same(mt.masked_select(m, m > 9), torch.masked_select(t, t > 9))
    errs(lambda: mt.masked_select(m, mt.tensor([1, 0, 1])), lambda: torch.masked_select(t, torch.tensor([1, 0, 1])))
    grads(lambda a: mt.masked_select(a, mt.tensor([True, False, True])),
          lambda a: torch.masked_select(a, torch.tensor([True, False, True])), [[1., 2., 3.], [4., 5., 6.]])
    grads(lambda a: mt.masked_select(a, mt.tensor([[True, False], [False, True]])),
          lambda a: torch.masked_select(a, torch.tensor([[True, False], [False, True]])), [1., 2.])

    for v in ([[0, 1], [2, 0]], [0., 1., 0.], 3, [], [[True, False]]):
        tv, mv = T(v)
        same(mt.argwhere(mv), torch.argwhere(tv))
        same(mv.argwhere(), tv.argwhere())


def test_unique():
    nan = float("nan")
    cases = [[3, 1, 3, 2, 1], [[1., 2.], [1., 2.], [0., 1.]], [], [True, False, True], 5, [nan, 1., nan, 1.]]
    for v in cases:
        t, m = T(v)
        for ri in (False, True):
            for rc in (False, True):
                same(mt.unique(m, return_inverse=ri, return_counts=rc), torch.unique(t, return_inverse=ri, return_counts=rc))
                same(m.unique(sorted=False, return_inverse=ri, return_counts=rc),
                     t.unique(sorted=False, return_inverse=ri, return_counts=rc))
    t, m = T([[1, 2], [1, 2], [0, 1]])
    for dim in (0, 1, -1):
        same(mt.unique(m, dim=dim, return_inverse=True, return_counts=True),
             torch.unique(t, dim=dim, return_inverse=True, return_counts=True))


def test_unravel_index():
    for idx, shape in (([4, 1], (2, 3)), (4, (2, 3)), (7, (2, 3)), (-1, (2, 3)), ([[5, 0]], (3, 2)), ([], (2,)),
                       (3, 6)):
        t, m = T(idx, dtype="int64")
        same(mt.unravel_index(m, shape), torch.unravel_index(t, shape))
    same(mt.unravel_index(mt.tensor([7, -1, -7]), (2, 3)), torch.unravel_index(torch.tensor([7, -1, -7]), (2, 3)))
    errs(lambda: mt.unravel_index(mt.tensor([1]), (2, 0)), lambda: torch.unravel_index(torch.tensor([1]), (2, 0)))
    errs(lambda: mt.unravel_index(mt.tensor(1.), (2, 3)), lambda: torch.unravel_index(torch.tensor(1.), (2, 3)))
    errs(lambda: mt.unravel_index(mt.tensor(0), (2, -3)), lambda: torch.unravel_index(torch.tensor(0), (2, -3)))


def test_combinations():
    t, m = T([1., 2., 3., 4.])
    for r in (0, 1, 2, 3, 4, 5):
        for wr in (False, True):
            same(mt.combinations(m, r, wr), torch.combinations(t, r, wr))
    same(mt.combinations(mt.tensor([], dtype=mt.int64)), torch.combinations(torch.tensor([], dtype=torch.int64)))
    errs(lambda: mt.combinations(mt.zeros(2, 3)), lambda: torch.combinations(torch.zeros(2, 3)))
    grads(lambda a: mt.combinations(a), lambda a: torch.combinations(a), [1., 2., 3.])


def test_diagflat():
    for v in ([1, 2, 3], [[1., 2.], [3., 4.]], 5.):
        t, m = T(v)
        for off in (0, 1, -2):
            same(mt.diagflat(m, off), torch.diagflat(t, off))
            same(m.diagflat(off), t.diagflat(off))
    grads(lambda a: mt.diagflat(a, 1), lambda a: torch.diagflat(a, 1), [[1., 2.], [3., 4.]])


def test_scatters():
    t, m = T(X)
    same(mt.select_scatter(m, mt.ones(2, 4), 1, -1), torch.select_scatter(t, torch.ones(2, 4, dtype=t.dtype), 1, -1))
    same(m.select_scatter(mt.ones(3, 4), 0, 1), t.select_scatter(torch.ones(3, 4, dtype=t.dtype), 0, 1))
    errs(lambda: mt.select_scatter(m, mt.ones(2), 0, 0), lambda: torch.select_scatter(t, torch.ones(2, dtype=t.dtype), 0, 0))
    for dim, start, end, step, shape in ((1, 0, None, 2, (2, 2, 4)), (2, 1, 3, 1, (2, 3, 2)), (-1, None, None, 3, (2, 3, 2)),
                                         (0, 5, None, 1, (0, 3, 4))):
        same(mt.slice_scatter(m, mt.ones(*shape, dtype=mt.float64), dim, start, end, step),
             torch.slice_scatter(t, torch.ones(*shape, dtype=t.dtype), dim, start, end, step))
    same(m.slice_scatter(mt.zeros(2, 3, 4, dtype=mt.float64)), t.slice_scatter(torch.zeros(2, 3, 4, dtype=t.dtype)))
    for step in (0, -2):
        errs(lambda: mt.slice_scatter(m, m, 1, None, None, step), lambda: torch.slice_scatter(t, t, 1, None, None, step))
    errs(lambda: mt.select_scatter(m, mt.ones(3, 4, dtype=mt.float64), 0, 5),
         lambda: torch.select_scatter(t, torch.ones(3, 4, dtype=t.dtype), 0, 5))
    errs(lambda: mt.slice_scatter(m, mt.ones(2, 1, 4, dtype=mt.float64), 1, 0, None, 2),
         lambda: torch.slice_scatter(t, torch.ones(2, 1, 4, dtype=t.dtype), 1, 0, None, 2))
    for off, d1, d2 in ((0, 0, 1), (1, 1, 2), (-1, 2, 0), (2, -1, -2), (5, 1, 2)):
        shape = torch.diagonal(t, off, d1, d2).shape
        src = np.arange(float(np.prod(shape))).reshape(shape) + 100
        same(mt.diagonal_scatter(m, mt.tensor(src), off, d1, d2), torch.diagonal_scatter(t, torch.tensor(src), off, d1, d2))
    same(m.diagonal_scatter(mt.zeros(3, 2, dtype=mt.float64), 0, 0, 2),
         t.diagonal_scatter(torch.zeros(3, 2, dtype=t.dtype), 0, 0, 2))
    errs(lambda: mt.diagonal_scatter(m[0], mt.ones(4, dtype=mt.float64), 1),
         lambda: torch.diagonal_scatter(t[0], torch.ones(4, dtype=t.dtype), 1))
    x = np.arange(6.).reshape(2, 3)
    grads(lambda a, s: mt.select_scatter(a, s, 0, 1), lambda a, s: torch.select_scatter(a, s, 0, 1), x, [7., 8., 9.])
    grads(lambda a, s: mt.slice_scatter(a, s, 1, 0, None, 2), lambda a, s: torch.slice_scatter(a, s, 1, 0, None, 2),
          x, [[7., 8.], [9., 10.]])
    grads(lambda a, s: mt.diagonal_scatter(a, s, 1), lambda a, s: torch.diagonal_scatter(a, s, 1), x, [7., 8.])


def test_unfold():
    t, m = T(X)
    for d, size, step in ((0, 1, 1), (1, 2, 1), (2, 2, 2), (-1, 3, 1), (2, 4, 3), (1, 0, 1), (2, 1, 5)):
        same(m.unfold(d, size, step), t.unfold(d, size, step))
    nt, nm = t.transpose(1, 2), m.transpose(1, 2)  # non-contiguous
    same(nm.unfold(1, 2, 2), nt.unfold(1, 2, 2))
    same(mt.tensor(3.).unfold(0, 1, 1), torch.tensor(3.).unfold(0, 1, 1))
    errs(lambda: m.unfold(1, 4, 1), lambda: t.unfold(1, 4, 1))
    errs(lambda: m.unfold(1, 2, 0), lambda: t.unfold(1, 2, 0))
    errs(lambda: mt.tensor(3.).unfold(0, 2, 1), lambda: torch.tensor(3.).unfold(0, 2, 1))
    for d, size, step in ((1, 2, 2), (2, 2, 2), (2, 1, 2), (0, 1, 1), (1, 2, 3)):  # non-overlapping windows: views
        mm = m.clone()
        u = mm.unfold(d, size, step)
        same(u, t.unfold(d, size, step))
        u.fill_(-1.)
        tt = t.clone()
        tt.unfold(d, size, step).fill_(-1.)
        same(mm, tt)
    grads(lambda a: a.unfold(1, 3, 1), lambda a: a.unfold(1, 3, 1), np.arange(10.).reshape(2, 5))
    grads(lambda a: a.unfold(1, 2, 2), lambda a: a.unfold(1, 2, 2), np.arange(10.).reshape(2, 5))
    grads(lambda a: a.unfold(0, 2, 2), lambda a: a.unfold(0, 2, 2), np.arange(10.).reshape(5, 2))


def test_in_place_shape_ops():
    cases = [("squeeze_", (2, 1, 3), ()), ("squeeze_", (2, 1, 1), (1,)), ("unsqueeze_", (2, 3), (-1,)),
             ("t_", (2, 3), ()), ("t_", (3,), ()), ("transpose_", (2, 3, 4), (0, 2)), ("swapaxes_", (2, 3, 4), (1, 2)),
             ("swapdims_", (2, 3, 4), (0, 1))]
    for name, shape, args in cases:
        a = np.arange(float(np.prod(shape))).reshape(shape)
        t, m = torch.tensor(a), mt.tensor(a)
        rt, rm = getattr(t, name)(*args), getattr(m, name)(*args)
        assert rm is m and rt is t
        same(m, t)
        assert m.stride() == t.stride()
    errs(lambda: mt.zeros(2, 3, 4).t_(), lambda: torch.zeros(2, 3, 4).t_())
    leaf_m, leaf_t = mt.zeros(2, 1, requires_grad=True), torch.zeros(2, 1, requires_grad=True)
    errs(lambda: leaf_m.squeeze_(), lambda: leaf_t.squeeze_())
    with pytest.raises(NotImplementedError, match="squeeze_"):
        (leaf_m * 2).squeeze_()
    with mt.no_grad():
        leaf_m.squeeze_()
    assert leaf_m.shape == (2,)


def test_resize():
    m, t = mt.arange(6.), torch.arange(6.)
    m.resize_(2, 2)
    t.resize_(2, 2)
    same(m, t)
    with pytest.raises(NotImplementedError, match="resize_"):
        m.resize_(2, 3)  # torch grows into the storage it shrank from: minitorch cannot view it
    with pytest.raises(NotImplementedError, match="resize_"):
        mt.arange(6)[:2].resize_(3)
    m, t = mt.arange(4), torch.arange(4)
    m.resize_(3, 2)
    t.resize_(3, 2)
    np.testing.assert_array_equal(m.numpy().reshape(-1)[:4], t.numpy().reshape(-1)[:4])
    assert m.shape == t.shape and m.dtype is mt.int64
    m.resize_(0)
    assert m.shape == (0,)
    m2 = mt.zeros(4)
    m2.resize_as_(mt.zeros(2, 2))
    assert m2.shape == (2, 2)
    with pytest.raises(NotImplementedError, match="resize_"):
        mt.zeros(2, 3).t().resize_(6)
    with pytest.raises(RuntimeError):
        mt.zeros(2, requires_grad=True).resize_(3)


def test_new_positive_adjoint():
    t, m = T(X, dtype="float32")
    assert m.new(2, 3).shape == t.new(2, 3).shape and m.new(2, 3).dtype is mt.float32
    same(mt.tensor([1]).new([1.5, 2]), torch.tensor([1]).new([1.5, 2]))
    same(m.new(), t.new())
    same(m.new((2,)).shape, t.new((2,)).shape)
    with pytest.raises(TypeError):
        m.new(mt.tensor([1, 2]))
    same(mt.positive(m), torch.positive(t))
    assert m.positive() is m
    errs(lambda: mt.positive(mt.tensor([True])), lambda: torch.positive(torch.tensor([True])))
    same(mt.adjoint(m), torch.adjoint(t))
    same(m.adjoint(), t.adjoint())
    same(m.mH, t.mH)
    same(m[0].H, t[0].H)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same(mt.tensor(2.).H, torch.tensor(2.).H)
    for tt, mm in ((torch.tensor([2.]), mt.tensor([2.])), (t, m)):
        errs(lambda: mm.H, lambda: tt.H)
    errs(lambda: mt.tensor([2.]).mH, lambda: torch.tensor([2.]).mH)
    errs(lambda: mt.tensor([2.]).adjoint(), lambda: torch.tensor([2.]).adjoint())


SCATTER_REDUCES = ["sum", "prod", "mean", "amax", "amin"]


@pytest.mark.parametrize("reduce", SCATTER_REDUCES)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce, include_self):
    rs = np.random.RandomState(1)
    base = rs.randn(3, 4)
    src = rs.randn(3, 4)
    src[1, 1] = src[0, 1]  # ties for amax / amin
    src[2, 2] = 0.0  # a zero for prod
    idx = np.array([[0, 1, 2, 0], [1, 1, 0, 2], [2, 0, 0, 0]])  # smaller than src in dim 0
    ti, mi = T(idx)
    grads(lambda a, s: a.scatter_reduce(0, mi, s, reduce, include_self=include_self),
          lambda a, s: a.scatter_reduce(0, ti, s, reduce, include_self=include_self), base, src)
    grads(lambda a, s: mt.scatter_reduce(a, 1, mi[:, :2], s, reduce, include_self=include_self),
          lambda a, s: torch.scatter_reduce(a, 1, ti[:, :2], s, reduce, include_self=include_self), base,
          src[:, :2].copy())
    # ints (mean: floor division), in place
    bi, si = np.full((3,), 5), np.array([1, 2, 4, -3])
    ii = np.array([0, 0, 1, 1])
    rt = torch.tensor(bi).scatter_reduce_(0, torch.tensor(ii), torch.tensor(si), reduce, include_self=include_self)
    mm = mt.tensor(bi)
    rm = mm.scatter_reduce_(0, mt.tensor(ii), mt.tensor(si), reduce, include_self=include_self)
    assert rm is mm
    same(rm, rt)


def test_scatter_reduce_errors_and_empty():
    t, m = T(np.zeros(3))
    errs(lambda: m.scatter_reduce(0, mt.tensor([0]), mt.ones(1, dtype=mt.float64), "add"),
         lambda: t.scatter_reduce(0, torch.tensor([0]), torch.ones(1, dtype=t.dtype), "add"))
    for red in ("max", "min"):  # torch's other spellings of amax / amin
        same(m.scatter_reduce(0, mt.tensor([0, 0]), mt.tensor([2., -5.], dtype=mt.float64), red),
             t.scatter_reduce(0, torch.tensor([0, 0]), torch.tensor([2., -5.], dtype=t.dtype), red))
    # src larger than index: only the part index covers is read
    same(m.scatter_reduce(0, mt.tensor([1]), mt.tensor([2., 7.], dtype=mt.float64), "sum"),
         t.scatter_reduce(0, torch.tensor([1]), torch.tensor([2., 7.], dtype=t.dtype), "sum"))
    with pytest.raises(RuntimeError):
        m.scatter_reduce(0, mt.tensor([3]), mt.ones(1, dtype=mt.float64), "sum")
    with pytest.raises(RuntimeError):
        m.scatter_reduce(0, mt.tensor([0]), mt.ones(1), "sum")  # dtype mismatch
    same(m.scatter_reduce(0, mt.tensor([], dtype=mt.int64), mt.ones(0, dtype=mt.float64), "amax"),
         t.scatter_reduce(0, torch.tensor([], dtype=torch.int64), torch.ones(0, dtype=t.dtype), "amax"))


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce(reduce, include_self):
    rs = np.random.RandomState(2)
    base, src = rs.randn(3, 4), rs.randn(5, 4)
    idx = [0, 2, 0, 0, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grads(lambda a, s: a.index_reduce(0, mt.tensor(idx), s, reduce, include_self=include_self),
              lambda a, s: a.index_reduce(0, torch.tensor(idx), s, reduce, include_self=include_self), base, src)
        grads(lambda a, s: mt.index_reduce(a, 1, mt.tensor([1, 1, 3]), s, reduce, include_self=include_self),
              lambda a, s: torch.index_reduce(a, 1, torch.tensor([1, 1, 3]), s, reduce, include_self=include_self),
              base, src[:3, :3].T.copy())
        mm = mt.tensor(base)
        assert mm.index_reduce_(0, mt.tensor(idx), mt.tensor(src), reduce, include_self=include_self) is mm
        same(mm, torch.tensor(base).index_reduce_(0, torch.tensor(idx), torch.tensor(src), reduce,
                                                  include_self=include_self), exact=False)


def test_index_reduce_errors():
    t, m = T(np.zeros((2, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        errs(lambda: m.index_reduce(0, mt.tensor([0, 0]), m, "sum"), lambda: t.index_reduce(0, torch.tensor([0, 0]), t, "sum"))
        errs(lambda: m.index_reduce(1, mt.tensor([1, 1]), m, "mean"), lambda: t.index_reduce(1, torch.tensor([1, 1]), t, "mean"))
        errs(lambda: m.index_reduce(0, mt.tensor([2, 1]), m, "amax"), lambda: t.index_reduce(0, torch.tensor([2, 1]), t, "amax"))
        t4, m4 = T(np.zeros((3, 4)), dtype="float32")
        for idx, src in (([0, 1], (2, 3)), ([0, 1], (2,)), ([[0, 1]], (2, 4))):
            errs(lambda: m4.index_reduce(0, mt.tensor(idx), mt.ones(*src), "prod"),
                 lambda: t4.index_reduce(0, torch.tensor(idx), torch.ones(*src), "prod"))
        errs(lambda: m4.index_reduce(0, mt.tensor([0., 1.]), mt.ones(2, 4), "prod"),
             lambda: t4.index_reduce(0, torch.tensor([0., 1.]), torch.ones(2, 4), "prod"))
        errs(lambda: m4.index_reduce(0, mt.tensor([0, 1]), mt.ones(2, 4, dtype=mt.float64), "prod"),
             lambda: t4.index_reduce(0, torch.tensor([0, 1]), torch.ones(2, 4, dtype=torch.float64), "prod"))
        same(m4.index_reduce(0, mt.tensor([0, 0], dtype=mt.int32), mt.full((2, 4), 3.), "mean"),
             t4.index_reduce(0, torch.tensor([0, 0], dtype=torch.int32), torch.full((2, 4), 3.), "mean"))
    with pytest.warns(UserWarning, match="beta"):
        m.index_reduce(0, mt.tensor([0, 0]), m, "prod")


def test_empty_strided_scalar_tensor():
    for size, stride in (((2, 3), (3, 1)), ((2, 3), (1, 2)), ((2, 3, 4, 5), (60, 1, 15, 3)), ((), ()), ((0, 3), (3, 1)),
                         ((3, 1), (1, 1)), ((2, 3), (4, 1)), ((2, 3), (1, 4)), ((2, 3), (6, 2)), ((2, 3), (0, 1)),
                         ((4,), (3,)), ((2, 1, 3), (3, 7, 1))):
        m, t = mt.empty_strided(size, stride), torch.empty_strided(size, stride)
        assert m.shape == t.shape and m.dtype == mt.float32
        if 0 not in size:
            assert [st for st, sz in zip(m.stride(), size) if sz != 1] == \
                [st for st, sz in zip(t.stride(), size) if sz != 1], (size, stride)
        m.fill_(3.)  # writable (not an expanded input's view, except where the strides ask for 0)
    assert mt.empty_strided((2, 2), (2, 1), dtype=mt.int64).dtype is mt.int64
    assert mt.empty_strided((2, 2), (2, 1), requires_grad=True).requires_grad
    with pytest.raises(NotImplementedError, match="empty_strided"):
        mt.empty_strided((2, 3), (1, 1))  # overlapping
    errs(lambda: mt.empty_strided((2, 3), (1,)), lambda: torch.empty_strided((2, 3), (1,)))
    for s, kw in ((3, {}), (True, {}), (2.5, {"dtype": "float64"}), (7, {"dtype": "int32"})):
        same(mt.scalar_tensor(s, **{k: getattr(mt, v) for k, v in kw.items()}),
             torch.scalar_tensor(s, **{k: getattr(torch, v) for k, v in kw.items()}))
    assert mt.scalar_tensor(1., requires_grad=True).requires_grad


def test_range_logspace():
    for args, kw in (((1, 4), {}), ((0, 1, 0.25), {}), ((4,), {}) if False else ((0, 4), {}), ((5, 1, -1.5), {}),
                     ((0, 3), {"dtype": "int64"}), ((0, 1, 0.1), {"dtype": "float64"})):
        with pytest.warns(UserWarning, match="torch.range is deprecated"):
            r = mt.range(*args, **{k: getattr(mt, v) for k, v in kw.items()})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            same(r, torch.range(*args, **{k: getattr(torch, v) for k, v in kw.items()}), exact=False)
    for args, kw in (((0, 2, 3), {}), ((0, 2, 3), {"base": 2}), ((-1, 1, 5), {"dtype": "float64"}), ((0, 3, 1), {}),
                     ((0, 1, 0), {}), ((0, 2, 3), {"base": 2, "dtype": "int64"}), ((1, 3, 4), {"dtype": "int32"})):
        same(mt.logspace(*args, **{k: (getattr(mt, v) if k == "dtype" else v) for k, v in kw.items()}),
             torch.logspace(*args, **{k: (getattr(torch, v) if k == "dtype" else v) for k, v in kw.items()}), exact=False)
    errs(lambda: mt.logspace(0, 1, -1), lambda: torch.logspace(0, 1, -1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for args, kw in (((4,), {}), ((0, 1, -1), {}), ((0, 1, 0), {}), ((0, float("inf")), {}),
                         ((0, 2), {"dtype": "bool"})):
            errs(lambda: mt.range(*args, **{k: getattr(mt, v) for k, v in kw.items()}),
                 lambda: torch.range(*args, **{k: getattr(torch, v) for k, v in kw.items()}))
    errs(lambda: mt.scalar_tensor("a"), lambda: torch.scalar_tensor("a"))


@pytest.mark.parametrize("name,extra", [("hann_window", ()), ("hamming_window", ()), ("hamming_window", (0.5, 0.4)),
                                        ("blackman_window", ()), ("bartlett_window", ()), ("kaiser_window", ()),
                                        ("kaiser_window", (5.0,))])
def test_windows(name, extra):
    for n in (0, 1, 2, 5, 8):
        for periodic in (True, False):
            for dt in ("float32", "float64"):
                m = getattr(mt, name)(n, periodic, *extra, dtype=getattr(mt, dt))
                t = getattr(torch, name)(n, periodic, *extra, dtype=getattr(torch, dt))
                same(m, t, exact=False)
    same(getattr(mt, name)(6), getattr(torch, name)(6), exact=False)
    with pytest.raises(RuntimeError, match=f"{name} expects floating point dtypes"):
        getattr(torch, name)(4, dtype=torch.int64)
    with pytest.raises(RuntimeError, match=f"{name} expects floating point dtypes"):
        getattr(mt, name)(4, dtype=mt.int64)
    errs(lambda: getattr(mt, name)(-1), lambda: getattr(torch, name)(-1))


def test_result_type_can_cast():
    vals = [(mt.tensor([1]), torch.tensor([1])), (mt.tensor(1.), torch.tensor(1.)), (mt.tensor([True]), torch.tensor([True])),
            (mt.tensor(1, dtype=mt.int8), torch.tensor(1, dtype=torch.int8)),
            (mt.tensor([1], dtype=mt.uint8), torch.tensor([1], dtype=torch.uint8)),
            (mt.tensor([1.], dtype=mt.float16), torch.tensor([1.], dtype=torch.float16)),
            (mt.tensor(1., dtype=mt.float64), torch.tensor(1., dtype=torch.float64)), (1, 1), (2.5, 2.5), (True, True)]
    for ma, ta in vals:
        for mb, tb in vals:
            if not isinstance(ta, torch.Tensor) and not isinstance(tb, torch.Tensor):
                continue
            assert str(mt.result_type(ma, mb)) == str(torch.result_type(ta, tb)), (ta, tb)
    dts = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
    for a in dts:
        for b in dts:
            assert mt.can_cast(getattr(mt, a), getattr(mt, b)) == torch.can_cast(getattr(torch, a), getattr(torch, b))
    with pytest.raises(TypeError):
        mt.can_cast(mt.float32, "int")


def test_complex_stubs():
    t, m = T([[1., -2.]])
    for name in ("is_complex", "is_conj", "is_neg"):
        assert getattr(mt, name)(m) == getattr(torch, name)(t) == getattr(m, name)()
    for name in ("conj", "resolve_conj", "resolve_neg", "conj_physical"):
        same(getattr(mt, name)(m), getattr(torch, name)(t))
        same(getattr(m, name)(), getattr(t, name)())
        assert (getattr(mt, name)(m) is m) == (getattr(torch, name)(t) is t)
    same(mt.real(m), torch.real(t))
    same(m.real, t.real)
    assert m.real is m
    errs(lambda: mt.imag(m), lambda: torch.imag(t))
    errs(lambda: m.imag, lambda: t.imag)
    for fn in (lambda: mt.view_as_real(m), lambda: mt.view_as_complex(m), lambda: mt.complex(m, m),
               lambda: mt.polar(m, m)):
        with pytest.raises(TypeError, match="complex"):
            fn()
    grads(lambda a: mt.conj_physical(a) * 2, lambda a: torch.conj_physical(a) * 2, [1., 2.])


def test_typename_flags():
    assert mt.typename(mt.zeros(1)) == torch.typename(torch.zeros(1)) == "torch.FloatTensor"
    assert mt.typename(mt.zeros(1, dtype=mt.int64)) == torch.typename(torch.zeros(1, dtype=torch.int64))
    for obj in (1, "a", int, np.float64, test_typename_flags):
        assert mt.typename(obj) == torch.typename(obj)
    assert not mt.are_deterministic_algorithms_enabled()
    mt.use_deterministic_algorithms(True, warn_only=True)
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        assert mt.are_deterministic_algorithms_enabled() and mt.is_deterministic_algorithms_warn_only_enabled()
        assert mt.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode() == 1
        for mode in ("error", 0, "warn", 2, "default"):
            mt.set_deterministic_debug_mode(mode)
            torch.set_deterministic_debug_mode(mode)
            assert mt.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()
            assert mt.are_deterministic_algorithms_enabled() == torch.are_deterministic_algorithms_enabled()
            assert mt.is_deterministic_algorithms_warn_only_enabled() == \
                torch.is_deterministic_algorithms_warn_only_enabled()
        errs(lambda: mt.set_deterministic_debug_mode("x"), lambda: torch.set_deterministic_debug_mode("x"))
        errs(lambda: mt.set_deterministic_debug_mode(3), lambda: torch.set_deterministic_debug_mode(3))
    finally:
        mt.use_deterministic_algorithms(False)
        torch.use_deterministic_algorithms(False)
    assert mt.is_warn_always_enabled() == torch.is_warn_always_enabled() is False
    mt.set_warn_always(True)
    assert mt.is_warn_always_enabled()
    mt.set_warn_always(False)
    assert mt.set_flush_denormal(False) is False


def test_default_device():
    assert str(mt.get_default_device()) == str(torch.get_default_device()) == "cpu"
    mt.set_default_device("cpu")
    try:
        assert mt.zeros(2).device.type == "cpu" and mt.tensor([1]).device.type == "cpu"
        assert str(mt.get_default_device()) == "cpu"
    finally:
        mt.set_default_device(None)
    assert str(mt.get_default_device()) == "cpu"
    factories = [lambda: mt.zeros(2), lambda: mt.ones(2), lambda: mt.empty(2), lambda: mt.full((2,), 1.),
                 lambda: mt.tensor([1., 2.]), lambda: mt.arange(3), lambda: mt.linspace(0, 1, 3), lambda: mt.eye(2),
                 lambda: mt.rand(2), lambda: mt.randn(2), lambda: mt.randint(0, 3, (2,)), lambda: mt.randperm(3),
                 lambda: mt.as_tensor(np.ones(2)), lambda: mt.hann_window(4), lambda: mt.scalar_tensor(1.)]
    mt.set_default_device("cuda")
    try:
        assert repr(mt.get_default_device()) == "device(type='cuda', index=0)"
        for make in factories:
            if mt.cuda.is_available():
                assert make().device.type == "cuda"
            else:  # routed to the CUDA default: torch's error for a build without CUDA
                with pytest.raises(AssertionError, match="not compiled with CUDA"):
                    make()
        assert mt.zeros_like(mt.zeros(1, device="cpu")).device.type == "cpu"  # *_like keep their input's device
    finally:
        mt.set_default_device(None)
    assert mt.zeros(1).device.type == "cpu"


def test_asarray_frombuffer():
    a = np.arange(6.)
    t = mt.asarray(a)
    a[0] = 42
    assert float(t[0]) == 42 and t.dtype is mt.float64  # shares the array's memory
    c = mt.asarray(a, copy=True)
    a[0] = 0
    assert float(c[0]) == 42
    m = mt.ones(3)
    assert mt.asarray(m) is m or mt.asarray(m).data_ptr() == m.data_ptr()
    same(mt.asarray(m, dtype=mt.float64), torch.asarray(torch.ones(3), dtype=torch.float64))
    same(mt.asarray([1, 2]), torch.asarray([1, 2]))
    same(mt.asarray([[1., 2.]], dtype=mt.float64), torch.asarray([[1., 2.]], dtype=torch.float64))
    assert mt.asarray([1., 2.], requires_grad=True).requires_grad
    with pytest.raises(ValueError):
        mt.asarray(m, dtype=mt.float64, copy=False)

    buf = bytearray(np.arange(4, dtype=np.int32).tobytes())
    tb = mt.frombuffer(buf, dtype=mt.int32)
    same(tb, torch.frombuffer(bytearray(buf), dtype=torch.int32))
    tb[0] = 9
    assert np.frombuffer(buf, dtype=np.int32)[0] == 9  # shares the buffer
    same(mt.frombuffer(buf, dtype=mt.int32, count=2, offset=4), torch.frombuffer(buf, dtype=torch.int32, count=2, offset=4))
    same(mt.frombuffer(buf, dtype=mt.uint8, offset=3), torch.frombuffer(buf, dtype=torch.uint8, offset=3))
    errs(lambda: mt.frombuffer(buf, dtype=mt.int32, offset=2), lambda: torch.frombuffer(buf, dtype=torch.int32, offset=2))
    errs(lambda: mt.frombuffer(buf, dtype=mt.int32, count=5), lambda: torch.frombuffer(buf, dtype=torch.int32, count=5))
    errs(lambda: mt.frombuffer(buf, dtype=mt.int32, offset=16), lambda: torch.frombuffer(buf, dtype=torch.int32, offset=16))
    for kw in ({"count": 0}, {"offset": -1}):
        errs(lambda: mt.frombuffer(buf, dtype=mt.int32, **kw), lambda: torch.frombuffer(buf, dtype=torch.int32, **kw))
    errs(lambda: mt.frombuffer(bytearray(), dtype=mt.int32), lambda: torch.frombuffer(bytearray(), dtype=torch.int32))
    errs(lambda: mt.frombuffer([1, 2], dtype=mt.int32), lambda: torch.frombuffer([1, 2], dtype=torch.int32))
    with pytest.warns(UserWarning, match="not writable"):
        ro = mt.frombuffer(b"\x01\x00\x00\x00", dtype=mt.int32)
    assert ro.tolist() == [1]


def test_namespace():
    import minitorch._breadth_shape as bs
    for name in bs.__all__:
        assert hasattr(mt, name) and hasattr(torch, name), name
    for name in ("unfold", "squeeze_", "unsqueeze_", "t_", "transpose_", "swapaxes_", "swapdims_", "resize_",
                 "resize_as_", "scatter_reduce_", "index_reduce_", "new", "mH", "H", "real", "imag", "adjoint"):
        assert hasattr(mt.Tensor, name) and hasattr(torch.Tensor, name), name


def test_error_parity_more():
    a_t, a_m = torch.ones(2), mt.ones(2)
    same(mt.concat([a_m, a_m], axis=0), torch.concat([a_t, a_t], axis=0))
    same(mt.concatenate([a_m, a_m], dim=0), torch.concatenate([a_t, a_t], dim=0))
    errs(lambda: mt.hstack([]), lambda: torch.hstack([]))
    errs(lambda: mt.hstack(a_m), lambda: torch.hstack(a_t))
    errs(lambda: mt.broadcast_tensors(a_m, mt.ones(3)), lambda: torch.broadcast_tensors(a_t, torch.ones(3)))
    errs(lambda: mt.broadcast_tensors(mt.ones(2, 1), mt.ones(3), mt.ones(4, 1)),
         lambda: torch.broadcast_tensors(torch.ones(2, 1), torch.ones(3), torch.ones(4, 1)))
    errs(lambda: mt.broadcast_to(a_m, (3,)), lambda: torch.broadcast_to(a_t, (3,)))
    errs(lambda: mt.tile(a_m, 2), lambda: torch.tile(a_t, 2))
    errs(lambda: mt.combinations(mt.arange(3), -1), lambda: torch.combinations(torch.arange(3), -1))
    errs(lambda: mt.take_along_dim(mt.ones(2, 3), mt.tensor([0]), 1),
         lambda: torch.take_along_dim(torch.ones(2, 3), torch.tensor([0]), 1))
    z_t, z_m = torch.zeros(3), mt.zeros(3)
    for idx, src in (([3], [1.]), ([-1], [1.]), ([0.], [1.])):
        errs(lambda: mt.scatter_reduce(z_m, 0, mt.tensor(idx), mt.tensor(src), "sum"),
             lambda: torch.scatter_reduce(z_t, 0, torch.tensor(idx), torch.tensor(src), "sum"))
    errs(lambda: mt.scatter_reduce(z_m, 0, mt.tensor([0]), mt.ones(1, dtype=mt.float64), "sum"),
         lambda: torch.scatter_reduce(z_t, 0, torch.tensor([0]), torch.ones(1, dtype=torch.float64), "sum"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        errs(lambda: mt.index_reduce(z_m, 0, mt.tensor([-1]), mt.ones(1), "prod"),
             lambda: torch.index_reduce(z_t, 0, torch.tensor([-1]), torch.ones(1), "prod"))
    for shape, dim in (((0, 3), 0), ((3, 0), 1), ((0,), 0)):
        same(mt.unique(mt.zeros(*shape), dim=dim, return_inverse=True, return_counts=True),
             torch.unique(torch.zeros(*shape), dim=dim, return_inverse=True, return_counts=True))
    for shape, dim in (((0, 0), 0), ((3, 0), 0)):
        errs(lambda: mt.unique(mt.zeros(*shape), dim=dim), lambda: torch.unique(torch.zeros(*shape), dim=dim))
    errs(lambda: mt.unique(mt.tensor(2.), dim=0), lambda: torch.unique(torch.tensor(2.), dim=0))
    errs(lambda: mt.asarray(mt.ones(2), dtype=mt.float64, copy=False),
         lambda: torch.asarray(torch.ones(2), dtype=torch.float64, copy=False))
    buf = bytearray(np.arange(2, dtype=np.float32).tobytes())
    same(mt.asarray(buf), torch.asarray(buf))
    same(mt.asarray(buf, dtype=mt.int32), torch.asarray(buf, dtype=torch.int32))


def test_new_device_and_values():
    m = mt.zeros(2, dtype=mt.int64)
    n = m.new([1, 2, 3])
    assert n.dtype is mt.int64 and n.device == m.device and n.tolist() == [1, 2, 3]
    assert m.new(3, device="cpu").shape == (3,)
    assert m.new(mt.Size([2, 2])).shape == (2, 2)
    al = m.new(m)
    al[0] = 5
    assert int(m[0]) == 5  # new(tensor of the same dtype) aliases it, as torch


def test_out_arguments():
    for name, args_m, args_t in (("hstack", ([mt.ones(2), mt.zeros(1)],), ([torch.ones(2), torch.zeros(1)],)),
                                 ("concat", ([mt.ones(2)],), ([torch.ones(2)],)),
                                 ("masked_select", (mt.arange(3.), mt.tensor([True, False, True])),
                                  (torch.arange(3.), torch.tensor([True, False, True]))),
                                 ("logspace", (0, 1, 3), (0, 1, 3))):
        om, ot = mt.zeros(0), torch.zeros(0)
        rm, rt = getattr(mt, name)(*args_m, out=om), getattr(torch, name)(*args_t, out=ot)
        assert rm is om and rt is ot
        same(om, ot, exact=False)
    om = mt.zeros(3)
    assert mt.concatenate([mt.ones(3)], 0, om) is om and om.tolist() == [1., 1., 1.]
    for lib in (torch, mt):  # (torch names the op it calls inside: cat)
        with pytest.raises(RuntimeError, match="functions with out=... arguments don't support automatic"):
            lib.hstack([lib.ones(2, requires_grad=True)], out=lib.zeros(2))
    with pytest.raises(RuntimeError):
        mt.hstack([mt.ones(2)], out=mt.zeros(2, dtype=mt.int64))
    # integer mean rounds down, as torch
    same(mt.zeros(2, dtype=mt.int64).scatter_reduce(0, mt.tensor([0, 0]), mt.tensor([-1, -2]), "mean", include_self=False),
         torch.zeros(2, dtype=torch.int64).scatter_reduce(0, torch.tensor([0, 0]), torch.tensor([-1, -2]), "mean",
                                                          include_self=False))


@pytest.mark.parametrize("reduce", SCATTER_REDUCES)
def test_scatter_reduce_in_place_gradient(reduce):
    """scatter_reduce_ on a non-leaf: the gradient uses self's values from before the write."""
    rs = np.random.RandomState(3)
    base, src = rs.rand(3, 2) + 0.5, rs.rand(4, 2) + 0.5
    idx = np.array([[0, 1], [2, 2], [0, 0], [1, 2]])
    res = []
    for lib in (torch, mt):
        b = lib.tensor(base, requires_grad=True)
        s_ = lib.tensor(src, requires_grad=True)
        y = b * 2
        y.scatter_reduce_(0, lib.tensor(idx), s_, reduce)
        (y * lib.tensor(np.arange(6.).reshape(3, 2))).sum().backward()
        res.append((y.detach().numpy(), b.grad.numpy(), s_.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-10)


def test_scatter_reduce_second_derivative_is_loud():
    a = mt.tensor([1., 2., 3.], requires_grad=True)
    s_ = mt.tensor([4., 5.], requires_grad=True)
    y = a.scatter_reduce(0, mt.tensor([0, 0]), s_, "amax")
    (g,) = mt.autograd.grad(y.sum(), a, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()
    # sum / mean are composed of differentiable ops: their second derivative is torch's (zero here)
    y = a.scatter_reduce(0, mt.tensor([0, 0]), s_, "mean")
    (g,) = mt.autograd.grad((y * y).sum(), a, create_graph=True)
    g.sum().backward()
    at = torch.tensor([1., 2., 3.], requires_grad=True)
    st = torch.tensor([4., 5.], requires_grad=True)
    yt = at.scatter_reduce(0, torch.tensor([0, 0]), st, "mean")
    (gt,) = torch.autograd.grad((yt * yt).sum(), at, create_graph=True)
    gt.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy())
    np.testing.assert_allclose(s_.grad.numpy(), st.grad.numpy())


def test_warnings_point_at_the_caller():
    with pytest.warns(UserWarning) as rec:
        mt.range(0, 1)
        mt.zeros(2).index_reduce(0, mt.tensor([0]), mt.ones(1), "prod")
    assert [w.filename for w in rec] == [__file__, __file__]

"""Tensor functions composed in Python (minitorch/_composites.py, _einsum.py, _compile.py, the random
fills) and small API names, against torch: values and gradients (float32/float64, non-contiguous inputs,
broadcasting), dtypes, and error types/messages."""
import warnings

import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")


def pair(shape, dtype="float64", seed=0, noncontig=False, grad=True, low=None):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape[::-1] if noncontig else shape).astype(dtype)
    if noncontig:
        a = a.T.copy()
    m = mt.tensor(a.T.copy()).t() if noncontig and len(shape) == 2 else mt.tensor(a)
    t = torch.tensor(a)
    if noncontig and len(shape) == 2:
        assert not m.is_contiguous()
    if grad:
        m.requires_grad_(True)
        t.requires_grad_(True)
    return m, t


def close(m, t, tol=None):
    tol = tol or (1e-5 if t.dtype == torch.float32 else 1e-10)
    assert tuple(m.shape) == tuple(t.shape)
    assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (m.dtype, t.dtype)
    np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def check(mfn, tfn, shapes, dtype="float64", noncontig=False, tol=None, seed=0):
    """values and input gradients of mfn(*inputs) vs tfn(*inputs), with a random upstream gradient"""
    ms, ts = zip(*[pair(s, dtype, seed + i, noncontig) for i, s in enumerate(shapes)])
    mo, to = mfn(*ms), tfn(*ts)
    close(mo, to, tol)
    up = np.random.default_rng(99).standard_normal(tuple(to.shape)).astype(dtype)
    (mo * mt.tensor(up)).sum().backward()
    (to * torch.tensor(up)).sum().backward()
    for m, t in zip(ms, ts):
        close(m.grad, t.grad, tol)


def same_error(mfn, tfn, match_message=True):
    with pytest.raises(Exception) as te:
        tfn()
    with pytest.raises(type(te.value)) as me:
        mfn()
    if match_message:
        assert str(me.value).split("\n")[0] == str(te.value).split("\n")[0]


# ------------------------------------------------------------------------------------------ einsum
EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("iji->j", [(3, 2, 3)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("...ij,...jk", [(2, 1, 3, 4), (3, 4, 2)]),
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("...->...", [(2, 3)]),
    ("i...->...", [(2, 3, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("ijk,jil->kl", [(2, 3, 4), (3, 2, 5)]),
    ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 5)]),
    ("ab,cd,bd->ac", [(2, 3), (4, 5), (3, 5)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,kj->ikj", [(3, 4), (2, 4)]),
    ("ij,j->i", [(3, 1), (4,)]),
    ("Ab,bC->AC", [(2, 3), (3, 4)]),
    ("ba", [(2, 3)]),
    ("i j , j k -> i k", [(3, 4), (4, 2)]),
    ("ijj,jk->ik", [(2, 3, 3), (3, 4)]),
    ("ij,ijk->", [(2, 3), (2, 3, 4)]),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("eq,shapes", EINSUM)
def test_einsum(eq, shapes, dtype):
    check(lambda *a: mt.einsum(eq, *a), lambda *a: torch.einsum(eq, *a), shapes, dtype)


def test_einsum_forms_and_noncontig():
    check(lambda a, b: mt.einsum("ij,jk->ik", [a, b]), lambda a, b: torch.einsum("ij,jk->ik", [a, b]),
          [(3, 4), (4, 5)])
    check(lambda a, b: mt.einsum("ij,jk->ik", a, b), lambda a, b: torch.einsum("ij,jk->ik", a, b),
          [(3, 4), (4, 5)], noncontig=True)
    check(lambda a, b: mt.einsum(a, [0, 1], b, [1, 2], [0, 2]), lambda a, b: torch.einsum(a, [0, 1], b, [1, 2], [0, 2]),
          [(3, 4), (4, 5)])
    check(lambda a, b: mt.einsum(a, [Ellipsis, 0], b, [Ellipsis, 0]),
          lambda a, b: torch.einsum(a, [Ellipsis, 0], b, [Ellipsis, 0]), [(2, 3), (2, 3)])
    a = np.arange(12).reshape(3, 4)
    close(mt.einsum("ij->j", mt.tensor(a)), torch.einsum("ij->j", torch.tensor(a)))
    close(mt.einsum("ij,jk", mt.tensor(a), mt.tensor(a.T.copy())), torch.einsum("ij,jk", torch.tensor(a),
                                                                             torch.tensor(a.T.copy())))


@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk->ik", [(3, 4)]), ("ij->ik", [(3, 4)]), ("ij->ii", [(3, 4)]), ("ijk->ij", [(3, 4)]),
    ("ij", [(3, 4), (4,)]), ("i,i->i", [(3,), (4,)]), ("ii->i", [(3, 4)]), ("i.j", [(3, 4)]), ("i1->i", [(3, 4)]),
])
def test_einsum_errors(eq, shapes):
    ms = [mt.zeros(*s) for s in shapes]
    ts = [torch.zeros(*s) for s in shapes]
    same_error(lambda: mt.einsum(eq, *ms), lambda: torch.einsum(eq, *ts), match_message=False)


# ------------------------------------------------------------------------------------------ diagonals
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,args", [((4, 4), ()), ((3, 5), (1,)), ((3, 5), (-2,)), ((3, 5), (7,)),
                                        ((2, 3, 4), (0, 0, 2)), ((2, 3, 4), (1, -1, 0)), ((2, 3, 4), (-1, 2, 1))])
def test_diagonal(shape, args, dtype):
    check(lambda a: mt.diagonal(a, *args), lambda a: torch.diagonal(a, *args), [shape], dtype)
    check(lambda a: a.diagonal(*args), lambda a: a.diagonal(*args), [shape], dtype, seed=3)


def test_diagonal_noncontig_and_kwargs():
    check(lambda a: a.diagonal(offset=1), lambda a: a.diagonal(offset=1), [(4, 5)], noncontig=True)
    check(lambda a: mt.diagonal(a, dim1=-1, dim2=0), lambda a: torch.diagonal(a, dim1=-1, dim2=0), [(3, 4)])


@pytest.mark.parametrize("shape,k", [((4,), 0), ((4,), 2), ((3,), -1), ((3, 4), 0), ((3, 4), 1), ((3, 4), -2)])
def test_diag(shape, k):
    check(lambda a: mt.diag(a, k), lambda a: torch.diag(a, k), [shape])


@pytest.mark.parametrize("shape,args", [((3,), ()), ((2, 3), ()), ((2, 3), (1,)), ((2, 3), (-1, 0, 2)),
                                        ((2, 3), (0, 0, 1)), ((2, 3, 4), (2, 1, 3))])
def test_diag_embed(shape, args):
    check(lambda a: mt.diag_embed(a, *args), lambda a: torch.diag_embed(a, *args), [shape])


def test_trace():
    check(mt.trace, torch.trace, [(3, 4)])
    check(lambda a: a.trace(), lambda a: a.trace(), [(4, 3)], noncontig=True)
    a = np.arange(9, dtype=np.int32).reshape(3, 3)
    close(mt.trace(mt.tensor(a)), torch.trace(torch.tensor(a)))


def test_diag_errors():
    same_error(lambda: mt.trace(mt.ones(2, 2, 2)), lambda: torch.trace(torch.ones(2, 2, 2)))
    same_error(lambda: mt.diag(mt.ones(2, 2, 2)), lambda: torch.diag(torch.ones(2, 2, 2)))
    same_error(lambda: mt.diagonal(mt.ones(2, 2), 0, 0, 0), lambda: torch.diagonal(torch.ones(2, 2), 0, 0, 0))
    same_error(lambda: mt.diagonal(mt.ones(2, 2), 0, 0, 2), lambda: torch.diagonal(torch.ones(2, 2), 0, 0, 2))


# ------------------------------------------------------------------------------------------ shapes
@pytest.mark.parametrize("sa,sb", [((2, 3), (4, 5)), ((3,), (2,)), ((2, 3), (4,)), ((2,), (2, 3, 2)), ((1, 2), (3, 1))])
def test_kron(sa, sb):
    check(mt.kron, torch.kron, [sa, sb])
    check(mt.kron, torch.kron, [sa, sb], dtype="float32")


def test_kron_dtype():
    a, b = np.arange(4).reshape(2, 2), np.arange(3.0, dtype=np.float32)
    close(mt.kron(mt.tensor(a), mt.tensor(b)), torch.kron(torch.tensor(a), torch.tensor(b)))
    close(mt.kron(mt.tensor(a), mt.tensor(a)), torch.kron(torch.tensor(a), torch.tensor(a)))


@pytest.mark.parametrize("shape,shifts,dims", [((5,), 2, None), ((3, 4), 1, None), ((3, 4), -1, 0), ((3, 4), 5, 1),
                                               ((3, 4), (1, 2), (0, 1)), ((2, 3, 4), (1, -2), (-1, 0)),
                                               ((3, 4), 0, 1), ((3, 4), (1, 1), (1, 1))])
def test_roll(shape, shifts, dims):
    check(lambda a: mt.roll(a, shifts, dims), lambda a: torch.roll(a, shifts, dims), [shape])
    if len(shape) == 2:
        check(lambda a: a.roll(shifts, dims), lambda a: a.roll(shifts, dims), [shape], noncontig=True)


def test_roll_errors():
    same_error(lambda: mt.roll(mt.ones(2, 2), [1, 2], [0]), lambda: torch.roll(torch.ones(2, 2), [1, 2], [0]))
    same_error(lambda: mt.roll(mt.ones(2, 2), 1, 5), lambda: torch.roll(torch.ones(2, 2), 1, 5))


@pytest.mark.parametrize("k", [-3, -1, 0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (-1, 0), (0, 2)])
def test_rot90(k, dims):
    check(lambda a: mt.rot90(a, k, dims), lambda a: torch.rot90(a, k, dims), [(2, 3, 4)])


def test_rot90_errors_and_noncontig():
    check(lambda a: a.rot90(), lambda a: a.rot90(), [(3, 4)], noncontig=True)
    for args in [(1, [0, 0]), (1, [0, 1, 2])]:
        same_error(lambda: mt.rot90(mt.ones(2, 2), *args), lambda: torch.rot90(torch.ones(2, 2), *args))
    same_error(lambda: mt.rot90(mt.ones(2), 1), lambda: torch.rot90(torch.ones(2), 1))


@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("sizes", [(3,), (3, 4), (2, 3, 4), (0, 2)])
def test_meshgrid(sizes, indexing):
    def f(lib, xs):
        return lib.meshgrid(*xs, indexing=indexing)
    ms, ts = zip(*[pair((n,), seed=n) for n in sizes])
    mo, to = f(mt, ms), f(torch, ts)
    assert isinstance(mo, tuple) and len(mo) == len(to)
    for m, t in zip(mo, to):
        close(m, t)
    if all(sizes):
        sum((m * (i + 1)).sum() for i, m in enumerate(mo)).backward()
        sum((t * (i + 1)).sum() for i, t in enumerate(to)).backward()
        for m, t in zip(ms, ts):
            close(m.grad, t.grad)
    mo = mt.meshgrid(list(ms), indexing=indexing)
    for m, t in zip(mo, to):
        close(m, t)


def test_meshgrid_warning_and_errors():
    with pytest.warns(UserWarning, match="indexing argument"):
        mo = mt.meshgrid(mt.arange(2), mt.arange(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        to = torch.meshgrid(torch.arange(2), torch.arange(3))
    for m, t in zip(mo, to):
        close(m, t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mt.meshgrid(mt.arange(2), indexing="ij")
    same_error(lambda: mt.meshgrid(mt.ones(2), mt.ones(2).long(), indexing="ij"),
               lambda: torch.meshgrid(torch.ones(2), torch.ones(2).long(), indexing="ij"))
    same_error(lambda: mt.meshgrid(mt.ones(2), indexing="foo"), lambda: torch.meshgrid(torch.ones(2), indexing="foo"))
    same_error(lambda: mt.meshgrid(mt.ones(2, 2), indexing="ij"), lambda: torch.meshgrid(torch.ones(2, 2), indexing="ij"),
               match_message=False)  # torch prints the tensor in its legacy format


def test_cartesian_prod():
    check(lambda a, b: mt.cartesian_prod(a, b), lambda a, b: torch.cartesian_prod(a, b), [(3,), (2,)])
    check(lambda a, b, c: mt.cartesian_prod(a, b, c), lambda a, b, c: torch.cartesian_prod(a, b, c), [(3,), (2,), (2,)])
    check(lambda a: mt.cartesian_prod(a), lambda a: torch.cartesian_prod(a), [(3,)])
    close(mt.cartesian_prod(mt.arange(3), mt.arange(2)), torch.cartesian_prod(torch.arange(3), torch.arange(2)))
    same_error(lambda: mt.cartesian_prod(mt.ones(2, 2)), lambda: torch.cartesian_prod(torch.ones(2, 2)))


@pytest.mark.parametrize("p", [2.0, 1.0, 0.5, 3.0, float("inf"), 0.0])
@pytest.mark.parametrize("sa,sb", [((4, 3), (5, 3)), ((2, 4, 3), (2, 5, 3)), ((2, 1, 4, 3), (3, 5, 3)), ((30, 2), (27, 2))])
def test_cdist(sa, sb, p):
    if p == 0.0:
        ma, ta = pair(sa, grad=False)
        mb, tb = pair(sb, seed=1, grad=False)
        close(mt.cdist(ma, mb, p=p), torch.cdist(ta, tb, p=p))
        return
    check(lambda a, b: mt.cdist(a, b, p=p), lambda a, b: torch.cdist(a, b, p=p), [sa, sb], tol=1e-7)
    check(lambda a, b: mt.cdist(a, b, p=p), lambda a, b: torch.cdist(a, b, p=p), [sa, sb], dtype="float32", tol=1e-4)


def test_cdist_zero_distance_gradient():
    a = np.array([[0.0, 1.0], [2.0, 3.0]])
    ma, ta = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    mt.cdist(ma, ma).sum().backward()
    torch.cdist(ta, ta).sum().backward()
    close(ma.grad, ta.grad)


def test_cdist_errors():
    same_error(lambda: mt.cdist(mt.ones(2, 3).long(), mt.ones(2, 3).long()),
               lambda: torch.cdist(torch.ones(2, 3).long(), torch.ones(2, 3).long()))
    same_error(lambda: mt.cdist(mt.ones(2, 3), mt.ones(2, 4)), lambda: torch.cdist(torch.ones(2, 3), torch.ones(2, 4)))
    same_error(lambda: mt.cdist(mt.ones(2, 3), mt.ones(2, 3), p=-1),
               lambda: torch.cdist(torch.ones(2, 3), torch.ones(2, 3), p=-1))
    same_error(lambda: mt.cdist(mt.ones(3), mt.ones(2, 3)), lambda: torch.cdist(torch.ones(3), torch.ones(2, 3)))


def test_block_diag():
    check(lambda a, b, c: mt.block_diag(a, b, c), lambda a, b, c: torch.block_diag(a, b, c), [(2, 3), (1, 2), (3, 1)])
    check(lambda a, b, c: mt.block_diag(a, b, c), lambda a, b, c: torch.block_diag(a, b, c), [(), (3,), (2, 2)])
    close(mt.block_diag(mt.tensor([[1, 2]]), mt.tensor([3.0])), torch.block_diag(torch.tensor([[1, 2]]),
                                                                            torch.tensor([3.0])))
    close(mt.block_diag(), torch.block_diag())
    same_error(lambda: mt.block_diag(mt.ones(2, 2, 2)), lambda: torch.block_diag(torch.ones(2, 2, 2)))


@pytest.mark.parametrize("fn", ["atleast_1d", "atleast_2d", "atleast_3d"])
def test_atleast(fn):
    shapes = [(), (3,), (2, 3), (2, 3, 4), (1, 2, 3, 4)]
    ms = [mt.zeros(s) for s in shapes]
    ts = [torch.zeros(s) for s in shapes]
    for m, t in zip(ms, ts):
        assert tuple(getattr(mt, fn)(m).shape) == tuple(getattr(torch, fn)(t).shape)
    mo, to = getattr(mt, fn)(*ms), getattr(torch, fn)(*ts)
    assert isinstance(mo, tuple) and [tuple(x.shape) for x in mo] == [tuple(x.shape) for x in to]
    mo, to = getattr(mt, fn)(ms), getattr(torch, fn)(ts)
    assert isinstance(mo, tuple) and [tuple(x.shape) for x in mo] == [tuple(x.shape) for x in to]
    check(getattr(mt, fn), getattr(torch, fn), [(3,)])


@pytest.mark.parametrize("N,inc", [(None, False), (None, True), (2, False), (5, True), (0, False)])
def test_vander(N, inc):
    if N != 0:
        # torch.vander's own backward fails (in-place cumprod); its gradient is that of the powers
        def tv(a):
            n = a.shape[0] if N is None else N
            out = torch.stack([a ** k for k in range(n)], 1)
            return out if inc else out.flip(1)
        check(lambda a: mt.vander(a, N, inc), tv, [(4,)])
        m, t = pair((4,), grad=False)
        close(mt.vander(m, N, inc), torch.vander(t, N, inc))
    else:
        close(mt.vander(mt.ones(3), N, inc), torch.vander(torch.ones(3), N, inc))
    x = np.array([1, 2, 3], dtype=np.int32)
    close(mt.vander(mt.tensor(x), N, inc), torch.vander(torch.tensor(x), N, inc))
    same_error(lambda: mt.vander(mt.ones(2, 2)), lambda: torch.vander(torch.ones(2, 2)))
    same_error(lambda: mt.vander(mt.ones(2), N=-1), lambda: torch.vander(torch.ones(2), N=-1))


def test_count_nonzero():
    a = np.array([[0, 1.5, 0], [2, 0, -1], [0, 0, 0]])
    for dim in [None, 0, 1, -1, (0, 1), ()]:
        close(mt.count_nonzero(mt.tensor(a), dim=dim), torch.count_nonzero(torch.tensor(a), dim=dim))
    close(mt.tensor(a).t().count_nonzero(0), torch.tensor(a).t().count_nonzero(0))
    close(mt.count_nonzero(mt.tensor([True, False, True])), torch.count_nonzero(torch.tensor([True, False, True])))
    same_error(lambda: mt.count_nonzero(mt.ones(2, 2), dim=(0, 0)),
               lambda: torch.count_nonzero(torch.ones(2, 2), dim=(0, 0)))
    same_error(lambda: mt.count_nonzero(mt.ones(2, 2), dim=2), lambda: torch.count_nonzero(torch.ones(2, 2), dim=2))


# ------------------------------------------------------------------------------------------ integer valued
SEQ = np.array([1.0, 2.0, 2.0, 3.0, 5.0, 8.0])
VALS = np.array([[0.0, 2.0, 2.5], [8.0, 9.0, 3.0]])


@pytest.mark.parametrize("kw", [{}, {"right": True}, {"side": "right"}, {"side": "left"}, {"out_int32": True}])
def test_searchsorted(kw):
    close(mt.searchsorted(mt.tensor(SEQ), mt.tensor(VALS), **kw), torch.searchsorted(torch.tensor(SEQ),
                                                                                      torch.tensor(VALS), **kw))
    seq2 = np.sort(np.random.default_rng(0).standard_normal((2, 5)), -1)
    close(mt.searchsorted(mt.tensor(seq2), mt.tensor(VALS), **kw),
          torch.searchsorted(torch.tensor(seq2), torch.tensor(VALS), **kw))
    close(mt.searchsorted(mt.tensor(SEQ), 2.0, **kw), torch.searchsorted(torch.tensor(SEQ), 2.0, **kw))
    ints = np.array([1, 3, 3, 7])
    close(mt.searchsorted(mt.tensor(ints), mt.tensor([3, 0, 9]), **kw),
          torch.searchsorted(torch.tensor(ints), torch.tensor([3, 0, 9]), **kw))


def test_searchsorted_sorter_and_errors():
    unsorted = np.array([3.0, 1.0, 8.0, 2.0])
    ms, ts = mt.tensor(unsorted), torch.tensor(unsorted)
    close(mt.searchsorted(ms, mt.tensor(VALS[0]), sorter=ms.argsort()),
          torch.searchsorted(ts, torch.tensor(VALS[0]), sorter=ts.argsort()))
    same_error(lambda: mt.searchsorted(mt.ones(3), mt.ones(2), side="left", right=True),
               lambda: torch.searchsorted(torch.ones(3), torch.ones(2), side="left", right=True))
    same_error(lambda: mt.searchsorted(mt.ones(3), mt.ones(2), side="foo"),
               lambda: torch.searchsorted(torch.ones(3), torch.ones(2), side="foo"))
    same_error(lambda: mt.searchsorted(mt.ones(2, 3), mt.ones(3, 3)),
               lambda: torch.searchsorted(torch.ones(2, 3), torch.ones(3, 3)))
    same_error(lambda: mt.searchsorted(mt.ones(3), mt.ones(2), sorter=mt.ones(3)),
               lambda: torch.searchsorted(torch.ones(3), torch.ones(2), sorter=torch.ones(3)))


@pytest.mark.parametrize("kw", [{}, {"right": True}, {"out_int32": True}])
def test_bucketize(kw):
    b = np.array([1.0, 3.0, 5.0, 7.0])
    x = np.array([[0.0, 1.0, 3.0], [4.0, 7.0, 9.0]])
    close(mt.bucketize(mt.tensor(x), mt.tensor(b), **kw), torch.bucketize(torch.tensor(x), torch.tensor(b), **kw))
    close(mt.bucketize(mt.tensor(x).t(), mt.tensor(b), **kw), torch.bucketize(torch.tensor(x).t(), torch.tensor(b), **kw))
    same_error(lambda: mt.bucketize(mt.ones(2), mt.ones(2, 2)), lambda: torch.bucketize(torch.ones(2), torch.ones(2, 2)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", [{}, {"bins": 5}, {"bins": 4, "min": -1, "max": 1}, {"bins": 3, "min": 0, "max": 0}])
def test_histc(kw, dtype):
    x = np.random.default_rng(0).standard_normal(200).astype(dtype)
    x[:3] = [1.0, -1.0, 0.0]
    close(mt.histc(mt.tensor(x), **kw), torch.histc(torch.tensor(x), **kw))
    close(mt.tensor(x).reshape(10, 20).t().histc(**kw), torch.tensor(x).reshape(10, 20).t().histc(**kw))


def test_histc_edge_and_errors():
    close(mt.histc(mt.tensor([2.0, 2.0]), bins=4), torch.histc(torch.tensor([2.0, 2.0]), bins=4))
    close(mt.histc(mt.tensor([]), bins=3), torch.histc(torch.tensor([]), bins=3))
    same_error(lambda: mt.histc(mt.tensor([1, 2])), lambda: torch.histc(torch.tensor([1, 2])))
    same_error(lambda: mt.histc(mt.tensor([1.0]), bins=0), lambda: torch.histc(torch.tensor([1.0]), bins=0))
    same_error(lambda: mt.histc(mt.tensor([1.0]), min=3, max=1), lambda: torch.histc(torch.tensor([1.0]), min=3, max=1))


def test_bincount():
    x = np.array([1, 4, 1, 0, 7, 4, 4])
    close(mt.bincount(mt.tensor(x)), torch.bincount(torch.tensor(x)))
    close(mt.bincount(mt.tensor(x), minlength=12), torch.bincount(torch.tensor(x), minlength=12))
    close(mt.bincount(mt.tensor(x[:0])), torch.bincount(torch.tensor(x[:0])))
    for w in [np.arange(7, dtype=np.float32), np.arange(7.0), np.arange(7)]:
        close(mt.bincount(mt.tensor(x), mt.tensor(w)), torch.bincount(torch.tensor(x), torch.tensor(w)))
    # torch has no derivative for bincount; minitorch's (scatter_add) is d/dw_i sum(out**2) = 2 out[x_i]
    mw, tw = pair((7,))
    out = mt.bincount(mt.tensor(x), mw)
    out.pow(2).sum().backward()
    tout = torch.bincount(torch.tensor(x), tw.detach())
    close(out, tout)
    close(mw.grad, 2 * tout[torch.tensor(x)])
    same_error(lambda: mt.bincount(mt.tensor([-1, 2])), lambda: torch.bincount(torch.tensor([-1, 2])))
    same_error(lambda: mt.bincount(mt.tensor([1.0, 2])), lambda: torch.bincount(torch.tensor([1.0, 2])))
    same_error(lambda: mt.bincount(mt.tensor([1, 2]), minlength=-1), lambda: torch.bincount(torch.tensor([1, 2]), minlength=-1))
    same_error(lambda: mt.bincount(mt.tensor([1, 2]), weights=mt.ones(3)),
               lambda: torch.bincount(torch.tensor([1, 2]), weights=torch.ones(3)))
    same_error(lambda: mt.bincount(mt.ones(2, 2).long()), lambda: torch.bincount(torch.ones(2, 2).long()))


@pytest.mark.parametrize("ri,rc", [(False, False), (True, False), (False, True), (True, True)])
def test_unique_consecutive(ri, rc):
    x = np.array([[1, 1, 2], [2, 2, 3], [2, 2, 3], [1, 1, 2]])
    for dim in [None, 0, 1, -1]:
        mo = mt.unique_consecutive(mt.tensor(x), return_inverse=ri, return_counts=rc, dim=dim)
        to = torch.unique_consecutive(torch.tensor(x), return_inverse=ri, return_counts=rc, dim=dim)
        if isinstance(to, tuple):
            assert isinstance(mo, tuple) and len(mo) == len(to)
            for m, t in zip(mo, to):
                close(m, t)
        else:
            close(mo, to)
    f = np.array([1.0, 1.0, np.nan, np.nan, 2.0])
    for m, t in zip(mt.unique_consecutive(mt.tensor(f), return_counts=True),
                    torch.unique_consecutive(torch.tensor(f), return_counts=True)):
        close(m, t)
    same_error(lambda: mt.unique_consecutive(mt.ones(2, 2), dim=3), lambda: torch.unique_consecutive(torch.ones(2, 2), dim=3))


# ------------------------------------------------------------------------------------------ compile and small names
def test_compile_returns_the_same_callable():
    def f(x):
        return x * 2

    assert mt.compile(f) is f
    net = mt.nn.Linear(2, 2)
    assert mt.compile(net) is net
    assert mt.compile(mode="max-autotune")(f) is f
    assert mt.compile(f, fullgraph=True, dynamic=False, backend="eager", disable=True) is f

    @mt.compile
    def g(x):
        return x + 1

    @mt.compile(fullgraph=True)
    def h(x):
        return x + 2

    assert g(1) == 2 and h(1) == 3
    same_error(lambda: mt.compile(f, mode="default", options={}), lambda: torch.compile(f, mode="default", options={}))
    same_error(lambda: mt.compile(3), lambda: torch.compile(3))


def test_small_names():
    assert mt.cuda.is_bf16_supported() is (mt.cuda.is_available() and hasattr(mt, "bfloat16"))
    assert mt.cuda.is_bf16_supported(including_emulation=False) in (False, True)
    import minitorch.serialization as ser

    class Foo:
        pass

    ser.clear_safe_globals()
    ser.add_safe_globals([Foo])
    assert ser.get_safe_globals() == [Foo]
    with ser.safe_globals([(int, "builtins.int")]):
        assert ser.get_safe_globals() == [Foo, (int, "builtins.int")]
    assert ser.get_safe_globals() == [Foo]
    ser.clear_safe_globals()
    assert ser.get_safe_globals() == []


def test_safe_globals_around_load(tmp_path):
    p = tmp_path / "x.pt"
    mt.save({"w": mt.ones(2)}, p)
    with mt.serialization.safe_globals([dict]):
        out = mt.load(p, weights_only=True)
    close(out["w"], torch.ones(2))


def test_data_module_paths():
    from minitorch.utils.data.dataloader import DataLoader, default_collate
    from minitorch.utils.data.dataset import Dataset, Subset, TensorDataset
    from minitorch.utils.data.distributed import DistributedSampler
    from minitorch.utils.data.sampler import BatchSampler, RandomSampler
    import minitorch.utils.data as d
    assert DataLoader is d.DataLoader and TensorDataset is d.TensorDataset and Dataset is d.Dataset
    assert default_collate is d.default_collate and Subset is d.Subset and BatchSampler is d.BatchSampler
    assert RandomSampler is d.RandomSampler and DistributedSampler is d.DistributedSampler


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (9, 3, False), (2, 4, False),
                                                  (7, 2, True), (1, 5, False)])
def test_distributed_sampler_unshuffled_matches_torch(n, replicas, drop_last):
    from minitorch.utils.data.distributed import DistributedSampler
    from torch.utils.data.distributed import DistributedSampler as TDS
    for rank in range(replicas):
        ms = DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        ts = TDS(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        assert list(ms) == list(ts) and len(ms) == len(ts)


def test_distributed_sampler_shuffled():
    from minitorch.utils.data.distributed import DistributedSampler
    n, R = 11, 3
    samplers = [DistributedSampler(range(n), num_replicas=R, rank=r, seed=5) for r in range(R)]
    parts = [list(s) for s in samplers]
    flat = sum(parts, [])
    assert set(flat) == set(range(n)) and len(flat) == 12
    g = mt.Generator()
    g.manual_seed(5)
    perm = mt.randperm(n, generator=g).tolist()
    perm += perm[:1]
    assert parts == [perm[r::R] for r in range(R)]
    assert [list(s) for s in samplers] == parts  # the same epoch gives the same order
    for s in samplers:
        s.set_epoch(1)
    assert [list(s) for s in samplers] != parts
    loader = mt.utils.data.DataLoader(mt.utils.data.TensorDataset(mt.arange(n)), batch_size=2, sampler=samplers[0])
    assert sum((b[0].tolist() for b in loader), []) == list(samplers[0])


def test_distributed_sampler_errors():
    from minitorch.utils.data.distributed import DistributedSampler
    from torch.utils.data.distributed import DistributedSampler as TDS
    same_error(lambda: DistributedSampler(range(3), num_replicas=2, rank=2), lambda: TDS(range(3), num_replicas=2, rank=2))
    same_error(lambda: DistributedSampler(range(3), num_replicas=2, rank=-1),
               lambda: TDS(range(3), num_replicas=2, rank=-1))
    same_error(lambda: DistributedSampler(range(3)), lambda: TDS(range(3)))


# ------------------------------------------------------------------------------------------ random fills
N = 200_000


def test_random_float_range_is_the_mantissa():
    mt.manual_seed(0)
    for dt, top in ((mt.float32, 2 ** 24), (mt.float64, 2 ** 53)):
        x = mt.zeros(N, dtype=dt).random_()
        a = x.numpy()
        assert x.dtype == dt and (a == np.floor(a)).all() and a.min() >= 0 and a.max() <= top
        assert abs(a.mean() / top - 0.5) < 0.01
    t = torch.zeros(N).random_()
    assert t.max() <= 2 ** 24 and t.max() > 2 ** 23


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32"])
@pytest.mark.parametrize("args", [(7,), (-3, 4), (2, 3)])
def test_random_ranges(dtype, args):
    mt.manual_seed(1)
    x = mt.zeros(20_000, dtype=getattr(mt, dtype)).random_(*args)
    lo, hi = (0, args[0]) if len(args) == 1 else args
    vals = np.unique(x.numpy())
    assert vals.tolist() == list(range(lo, hi))
    counts = np.bincount((x.numpy() - lo).astype(np.int64))
    assert np.abs(counts / 20_000 - 1 / (hi - lo)).max() < 0.02
    assert str(x.dtype) == "torch." + dtype


def test_random_int_defaults_and_from_none():
    mt.manual_seed(2)
    x = mt.zeros(N, dtype=mt.int64).random_().numpy()
    assert x.min() >= 0 and abs(x.mean() / 2.0 ** 63 - 0.5) < 0.01 and (x > 2 ** 62).any()
    x = mt.zeros(N, dtype=mt.int32).random_().numpy()
    assert x.min() >= 0 and abs(x.mean() / 2.0 ** 31 - 0.5) < 0.01
    x = mt.zeros(N, dtype=mt.int32).random_(-3, None).numpy()
    assert x.min() >= -3 and abs(x.mean() / 2.0 ** 30 - 1) < 0.02
    b = mt.zeros(N, dtype=mt.bool).random_().numpy()
    assert abs(b.mean() - 0.5) < 0.01
    f = mt.zeros(N).random_(10, None).numpy()
    assert f.min() >= 10 and f.max() <= 2 ** 24


def test_random_generator_reproducible():
    g = mt.Generator()
    g.manual_seed(7)
    a = mt.zeros(10).random_(100, generator=g)
    g.manual_seed(7)
    b = mt.zeros(10).random_(100, generator=g)
    assert a.tolist() == b.tolist()
    mt.manual_seed(3)
    a = mt.zeros(10).exponential_()
    mt.manual_seed(3)
    assert mt.zeros(10).exponential_().tolist() == a.tolist()


@pytest.mark.parametrize("call", [
    lambda L, dt: L.zeros(3, dtype=dt).random_(5, 3), lambda L, dt: L.zeros(3, dtype=dt).random_(-5),
    lambda L, dt: L.zeros(3, dtype=L.int32).random_(0, 2 ** 40), lambda L, dt: L.zeros(3, dtype=L.int32).random_(-2 ** 40, 0),
    lambda L, dt: L.zeros(3, dtype=L.bool).random_(0, 3), lambda L, dt: L.zeros(3, dtype=dt).exponential_(-1),
    lambda L, dt: L.zeros(3, dtype=dt).exponential_(0), lambda L, dt: L.zeros(3).long().exponential_(),
    lambda L, dt: L.zeros(3, dtype=dt).geometric_(0), lambda L, dt: L.zeros(3, dtype=dt).geometric_(1),
    lambda L, dt: L.zeros(3, dtype=dt).cauchy_(0, -1), lambda L, dt: L.zeros(3).long().cauchy_(),
    lambda L, dt: L.zeros(3, dtype=dt).log_normal_(1, 0), lambda L, dt: L.zeros(3).long().log_normal_(),
    lambda L, dt: L.zeros(3, dtype=dt).bernoulli_(1.5), lambda L, dt: L.zeros(3, requires_grad=True).random_(),
    lambda L, dt: L.zeros(3, requires_grad=True).exponential_(),
])
def test_random_fill_errors(call):
    same_error(lambda: call(mt, mt.float32), lambda: call(torch, torch.float32))


def test_random_float_range_warning():
    with pytest.warns(UserWarning, match=r"to - 1 is out of bounds \[-\(2\^24\), 2\^24\]"):
        mt.zeros(3).random_(2 ** 25)
    with pytest.warns(UserWarning, match=r"from is out of bounds"):
        mt.zeros(3).random_(-(2 ** 25), 0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_continuous_fills_distribution(dtype):
    dt = getattr(mt, dtype)
    mt.manual_seed(4)
    lam = 2.5
    x = mt.zeros(N, dtype=dt).exponential_(lam).numpy().astype(np.float64)
    assert x.min() >= 0 and abs(x.mean() - 1 / lam) < 5 * (1 / lam) / np.sqrt(N) and abs(x.var() - 1 / lam ** 2) < 0.02
    p = 0.3
    g = mt.zeros(N, dtype=dt).geometric_(p).numpy()
    assert g.min() == 1 and (g == np.floor(g)).all()
    assert abs(g.mean() - 1 / p) < 0.03 and abs(g.var() - (1 - p) / p ** 2) < 0.2
    assert abs((g == 1).mean() - p) < 0.005
    c = mt.zeros(N, dtype=dt).cauchy_(1.5, 2.0).numpy().astype(np.float64)
    assert abs(np.median(c) - 1.5) < 0.03
    q1, q3 = np.percentile(c, [25, 75])
    assert abs((q3 - q1) / 2 - 2.0) < 0.05       # Cauchy's quartiles are median -/+ sigma
    ln = mt.zeros(N, dtype=dt).log_normal_(0.5, 0.25).numpy().astype(np.float64)
    assert ln.min() > 0 and abs(np.log(ln).mean() - 0.5) < 0.005 and abs(np.log(ln).std() - 0.25) < 0.005
    assert abs(ln.mean() - np.exp(0.5 + 0.25 ** 2 / 2)) < 0.01
    b = mt.zeros(N, dtype=dt).bernoulli_(0.2).numpy()
    assert set(np.unique(b).tolist()) <= {0.0, 1.0} and abs(b.mean() - 0.2) < 0.005
    assert str(mt.zeros(3, dtype=dt).exponential_().dtype) == "torch." + dtype


def test_fills_integer_dtypes_and_return_self():
    mt.manual_seed(5)
    g = mt.zeros(1000, dtype=mt.int64)
    assert g.geometric_(0.5) is g and g.dtype == mt.int64 and g.numpy().min() >= 1
    x = mt.zeros(2, 3)
    for f in (lambda: x.random_(), lambda: x.exponential_(), lambda: x.cauchy_(), lambda: x.log_normal_(),
              lambda: x.geometric_(0.5), lambda: x.bernoulli_()):
        assert f() is x and tuple(x.shape) == (2, 3)
    nc = mt.zeros(4, 3).t()
    nc.exponential_()
    assert (nc.numpy() > 0).all()


def test_random_keyword_forms():
    mt.manual_seed(6)
    x = mt.zeros(2000).random_(**{"from": 2, "to": 5}).numpy()
    assert set(np.unique(x).tolist()) == {2.0, 3.0, 4.0}
    x = mt.zeros(2000).random_(1, to=3).numpy()
    assert set(np.unique(x).tolist()) == {1.0, 2.0}
    same_error(lambda: mt.zeros(3).random_(**{"from": 2}), lambda: torch.zeros(3).random_(**{"from": 2}),
               match_message=False)


def test_unflatten_method_and_function_as_torch():
    minitorch = mt
    a = np.arange(24.0).reshape(2, 12)
    for dim, sizes in [(1, (3, 4)), (-1, (2, -1, 3)), (0, (1, 2))]:
        want = torch.tensor(a).unflatten(dim, sizes)
        for got in (minitorch.tensor(a).unflatten(dim, sizes), minitorch.unflatten(minitorch.tensor(a), dim, sizes)):
            assert tuple(got.shape) == tuple(want.shape)
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    with pytest.raises(RuntimeError):
        torch.tensor(a).unflatten(1, (5, 3))
    with pytest.raises(RuntimeError):
        minitorch.tensor(a).unflatten(1, (5, 3))

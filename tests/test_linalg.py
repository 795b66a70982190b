"""minitorch.linalg and the torch.* / Tensor linear-algebra forms (minitorch/linalg.py).

Values against PyTorch (float64 and float32, batched, non-contiguous input), gradients by float64
finite differences (gradcheck, gradgradcheck) and against torch's, grad_fn names, errors (singular,
not positive-definite, shapes, dtypes) and the printed named tuples."""
import math
import warnings

import numpy as np
import pytest

import minitorch as mt
from minitorch.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")


def pair(a, requires_grad=False):
    """The same values as a torch and a minitorch tensor."""
    t = torch.tensor(a)
    m = mt.tensor(a)
    if requires_grad:
        t.requires_grad_()
        m.requires_grad_()
    return t, m


def noncontig(m):
    """The same values as m, through a transposed view of a copy (non-contiguous)."""
    return m.transpose(-2, -1).contiguous().transpose(-2, -1) if m.dim() >= 2 else m


def assert_same(t, m, tol):
    ts = t if isinstance(t, (tuple, list)) else (t,)
    ms = m if isinstance(m, (tuple, list)) else (m,)
    assert len(ts) == len(ms)
    for x, y in zip(ts, ms):
        assert tuple(x.shape) == tuple(y.shape), (x.shape, y.shape)
        assert str(x.dtype) == str(y.dtype), (x.dtype, y.dtype)
        np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy(), rtol=tol, atol=tol, equal_nan=True)


def rng_matrix(shape, seed=0, kind="general", dtype=np.float64):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if kind == "spd":
        a = a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])
    elif kind == "sym":
        a = a + np.swapaxes(a, -1, -2)
    elif kind == "wellcond":
        a = a + 3 * np.eye(shape[-1])
    return a.astype(dtype)


L = lambda lib: lib.linalg  # noqa: E731

# name -> (function of (lib, *inputs), input kinds and shapes)
CASES = {
    "inv": (lambda lib, a: lib.linalg.inv(a), [("wellcond", (2, 4, 4))]),
    "inv_ex": (lambda lib, a: lib.linalg.inv_ex(a).inverse, [("wellcond", (3, 3))]),
    "det": (lambda lib, a: lib.linalg.det(a), [("general", (2, 3, 4, 4))]),
    "slogdet": (lambda lib, a: lib.linalg.slogdet(a).logabsdet, [("general", (2, 4, 4))]),
    "solve": (lambda lib, a, b: lib.linalg.solve(a, b), [("wellcond", (2, 4, 4)), ("general", (2, 4, 3))]),
    "solve_bcast": (lambda lib, a, b: lib.linalg.solve(a, b), [("wellcond", (4, 4)), ("general", (3, 4, 2))]),
    "solve_vec": (lambda lib, a, b: lib.linalg.solve(a, b), [("wellcond", (2, 4, 4)), ("general", (2, 4))]),
    "solve_right": (lambda lib, a, b: lib.linalg.solve(a, b, left=False),
                    [("wellcond", (4, 4)), ("general", (2, 3, 4))]),
    # the factorizations of symmetric input read one triangle: finite differences need symmetric perturbations
    "cholesky": (lambda lib, a: lib.linalg.cholesky((a + a.mT) / 2), [("spd", (2, 4, 4))]),
    "cholesky_upper": (lambda lib, a: lib.linalg.cholesky((a + a.mT) / 2, upper=True), [("spd", (4, 4))]),
    "qr_tall": (lambda lib, a: lib.linalg.qr(a), [("general", (2, 5, 3))]),
    "qr_wide": (lambda lib, a: lib.linalg.qr(a), [("general", (3, 5))]),
    "qr_square_r": (lambda lib, a: lib.linalg.qr(a).R, [("general", (4, 4))]),
    # gauge-invariant functions of the singular vectors (their signs are not unique)
    "svd_tall": (lambda lib, a: (lambda u, s, vh: (u @ vh, s, (u[..., :1] * u[..., :1])))(
        *lib.linalg.svd(a, full_matrices=False)), [("general", (2, 5, 3))]),
    "svd_wide": (lambda lib, a: (lambda u, s, vh: (u @ vh, s))(*lib.linalg.svd(a, full_matrices=False)),
                 [("general", (3, 5))]),
    "svd_full": (lambda lib, a: (lambda u, s, vh: (u[..., :, :2] @ vh[..., :2, :], s))(*lib.linalg.svd(a)),
                 [("general", (4, 2))]),
    "svdvals": (lambda lib, a: lib.linalg.svdvals(a), [("general", (2, 3, 5))]),
    "eigh": (lambda lib, a: (lambda w, v: (w, v * v, v[..., :1] @ v[..., :1].mT))(
        *lib.linalg.eigh(a + a.mT)), [("general", (2, 4, 4))]),
    "eigvalsh": (lambda lib, a: lib.linalg.eigvalsh(a + a.mT, UPLO="U"), [("general", (4, 4))]),
    "pinv_tall": (lambda lib, a: lib.linalg.pinv(a), [("general", (2, 5, 3))]),
    "pinv_wide": (lambda lib, a: lib.linalg.pinv(a), [("general", (3, 5))]),
    "pinv_herm": (lambda lib, a: lib.linalg.pinv(a + a.mT, hermitian=True), [("general", (4, 4))]),
    "matrix_power": (lambda lib, a: lib.linalg.matrix_power(a, 5), [("general", (2, 3, 3))]),
    "matrix_power_neg": (lambda lib, a: lib.linalg.matrix_power(a, -2), [("wellcond", (3, 3))]),
    "solve_triangular": (lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True),
                         [("wellcond", (2, 4, 4)), ("general", (2, 4, 3))]),
    "solve_triangular_right_unit": (lambda lib, a, b: lib.linalg.solve_triangular(
        a, b, upper=False, left=False, unitriangular=True), [("wellcond", (4, 4)), ("general", (2, 3, 4))]),
    "lstsq": (lambda lib, a, b: lib.linalg.lstsq(a, b).solution, [("general", (2, 5, 3)), ("general", (2, 5, 2))]),
    "lstsq_vec": (lambda lib, a, b: lib.linalg.lstsq(a, b).solution, [("general", (5, 3)), ("general", (5,))]),
    "cross": (lambda lib, a, b: lib.linalg.cross(a, b), [("general", (2, 4, 3)), ("general", (1, 4, 3))]),
    "multi_dot": (lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]),
                  [("general", (3,)), ("general", (3, 4)), ("general", (4, 2))]),
    "vecdot": (lambda lib, a, b: lib.linalg.vecdot(a, b, dim=0), [("general", (3, 4)), ("general", (3, 1))]),
    "norm_fro": (lambda lib, a: lib.linalg.norm(a), [("general", (3, 4))]),
    "norm_nuc": (lambda lib, a: lib.linalg.norm(a, "nuc"), [("general", (3, 4))]),
    "norm_2": (lambda lib, a: lib.linalg.matrix_norm(a, 2), [("general", (2, 3, 4))]),
    "norm_inf": (lambda lib, a: lib.linalg.matrix_norm(a, math.inf, dim=(0, 2), keepdim=True),
                 [("general", (3, 2, 4))]),
    "norm_1": (lambda lib, a: lib.linalg.matrix_norm(a, -1), [("general", (3, 4))]),
    "vector_norm_3": (lambda lib, a: lib.linalg.vector_norm(a, 3, dim=(0, 2)), [("general", (3, 2, 4))]),
    "vector_norm_inf": (lambda lib, a: lib.linalg.vector_norm(a, -math.inf, dim=1), [("general", (3, 4))]),
    "torch_inverse": (lambda lib, a: lib.inverse(a), [("wellcond", (3, 3))]),
    "torch_logdet": (lambda lib, a: lib.logdet(a), [("spd", (2, 3, 3))]),
    "torch_svd": (lambda lib, a: (lambda u, s, v: (u @ v.mT, s))(*lib.svd(a)), [("general", (4, 3))]),
    "torch_pinverse": (lambda lib, a: lib.pinverse(a), [("general", (4, 3))]),
    "cholesky_solve": (lambda lib, b, a: lib.cholesky_solve(b, lib.linalg.cholesky((a + a.mT) / 2)),
                       [("general", (3, 2)), ("spd", (3, 3))]),
    "cholesky_inverse": (lambda lib, a: lib.cholesky_inverse(lib.linalg.cholesky((a + a.mT) / 2, upper=True),
                                                             upper=True),
                         [("spd", (3, 3))]),
    "matrix_exp": (lambda lib, a: lib.matrix_exp(a), [("general", (2, 3, 3))]),
    "lu_square": (lambda lib, a: lib.linalg.lu(a)[1:], [("general", (2, 4, 4))]),
    "lu_wide": (lambda lib, a: lib.linalg.lu(a)[1:], [("general", (3, 5))]),
    "lu_tall": (lambda lib, a: lib.linalg.lu(a)[1:], [("general", (2, 5, 3))]),
    "lu_factor": (lambda lib, a: lib.linalg.lu_factor(a).LU, [("general", (2, 4, 4))]),
    "lu_factor_tall": (lambda lib, a: lib.linalg.lu_factor_ex(a).LU, [("general", (5, 3))]),
    "lu_solve": (lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b), [("wellcond", (2, 4, 4)),
                                                                                       ("general", (2, 4, 3))]),
    "lu_solve_adjoint_right": (lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b, left=False,
                                                                     adjoint=True),
                               [("wellcond", (4, 4)), ("general", (3, 4))]),
    "torch_lu_solve": (lambda lib, a, b: lib.lu_solve(b, *lib.linalg.lu_factor(a)), [("wellcond", (4, 4)),
                                                                                     ("general", (4, 2))]),
    "lu_unpack": (lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a)), [("general", (3, 5))]),
    "cond": (lambda lib, a: lib.linalg.cond(a), [("general", (2, 3, 4))]),
    "cond_1": (lambda lib, a: lib.linalg.cond(a, 1), [("wellcond", (3, 3))]),
    "tensorinv": (lambda lib, a: lib.linalg.tensorinv(a.reshape(6, 2, 3), ind=1), [("wellcond", (6, 6))]),
    "tensorsolve": (lambda lib, a, b: lib.linalg.tensorsolve(a.reshape(2, 3, 6), b), [("wellcond", (6, 6)),
                                                                                      ("general", (2, 3))]),
    "vander": (lambda lib, a: lib.linalg.vander(a, N=4), [("general", (2, 3))]),
    "method_det": (lambda lib, a: a.det() + a.inverse().sum() + a.slogdet()[1] + a.matrix_power(2).sum(),
                   [("wellcond", (3, 3))]),
}


def _inputs(kinds, dtype, requires_grad):
    return [pair(rng_matrix(shape, seed=i + 1, kind=kind, dtype=dtype), requires_grad)
            for i, (kind, shape) in enumerate(kinds)]


def _outs(x):
    return x if isinstance(x, tuple) else (x,)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_against_torch(name, dtype):
    fn, kinds = CASES[name]
    ins = _inputs(kinds, dtype, False)
    tol = 1e-8 if dtype == np.float64 else 2e-4
    assert_same(_outs(fn(torch, *[t for t, _ in ins])), _outs(fn(mt, *[m for _, m in ins])), tol)
    # non-contiguous operands give the same values
    assert_same(_outs(fn(torch, *[t for t, _ in ins])), _outs(fn(mt, *[noncontig(m) for _, m in ins])), tol)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gradients_against_torch(name, dtype):
    if name == "cond_1":
        pytest.skip("torch's own backward of linalg.cond(A, 1) fails (an in-place write on a saved inverse)")
    fn, kinds = CASES[name]
    ins = _inputs(kinds, dtype, True)
    tout, mout = _outs(fn(torch, *[t for t, _ in ins])), _outs(fn(mt, *[m for _, m in ins]))
    rng = np.random.default_rng(7)
    ws = [rng.standard_normal(tuple(o.shape)).astype(dtype) for o in tout]
    (sum((o * torch.tensor(w)).sum() for o, w in zip(tout, ws))).backward()
    (sum((o * mt.tensor(w)).sum() for o, w in zip(mout, ws))).backward()
    tol = (1e-7, 1e-8) if dtype == np.float64 else (2e-3, 2e-4)
    for t, m in ins:
        assert m.grad.dtype == m.dtype
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=tol[0], atol=tol[1])


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    fn, kinds = CASES[name]
    ins = [m for _, m in _inputs(kinds, np.float64, True)]
    assert gradcheck(lambda *xs: fn(mt, *xs), ins)


SECOND_ORDER = ["inv", "det", "slogdet", "solve", "solve_vec", "cholesky", "qr_tall", "svdvals", "svd_tall",
                "eigh", "pinv_tall", "solve_triangular", "lstsq", "cross", "norm_2", "matrix_power_neg", "lu_wide",
                "lu_tall", "lu_solve"]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_gradgradcheck(name):
    fn, kinds = CASES[name]
    ins = [m for _, m in _inputs(kinds, np.float64, True)]
    assert gradgradcheck(lambda *xs: fn(mt, *xs), ins)


def cofactors(a):
    """the cofactor matrix of a square float64 matrix from its minors (the gradient of det, exact for any rank)"""
    n = a.shape[0]
    return np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1)) for j in range(n)]
                     for i in range(n)])


def test_det_gradient_of_singular_matrices():
    # the cofactor matrix where det = 0 (rank n-1: nonzero; rank n-2: zero). The reference is the cofactors
    # themselves: torch's own LU-based gradient is 0 for the rank n-1 matrix on some CPUs (AVX512-BF16 EPYC)
    for a in ([[1., 2., 3.], [2., 4., 6.], [1., 0., 1.]], [[1., 2., 3.], [2., 4., 6.], [3., 6., 9.]]):
        m = mt.tensor(a, dtype=mt.float64, requires_grad=True)
        mt.linalg.det(m).backward()
        np.testing.assert_allclose(m.grad.numpy(), cofactors(np.array(a)), atol=1e-10)
    # a batch mixing singular and regular matrices
    a = np.stack([rng_matrix((3, 3)), np.array([[1., 2., 3.], [2., 4., 6.], [1., 0., 1.]])])
    m = mt.tensor(a, requires_grad=True)
    mt.linalg.det(m).sum().backward()
    np.testing.assert_allclose(m.grad.numpy(), np.stack([cofactors(x) for x in a]), atol=1e-10)


GRAD_FN = [
    (lambda lib, a: lib.linalg.inv(a), "LinalgInvExBackward0"),
    (lambda lib, a: lib.linalg.inv_ex(a)[0], "LinalgInvExBackward0"),
    (lambda lib, a: lib.linalg.det(a), "LinalgDetBackward0"),
    (lambda lib, a: lib.linalg.slogdet(a)[1], "LinalgSlogdetBackward0"),
    (lambda lib, a: lib.linalg.solve(a, a), "LinalgSolveExBackward0"),
    (lambda lib, a: lib.linalg.cholesky(a @ a.mT), "LinalgCholeskyExBackward0"),
    (lambda lib, a: lib.linalg.qr(a)[0], "LinalgQrBackward0"),
    (lambda lib, a: lib.linalg.svd(a)[1], "LinalgSvdBackward0"),
    (lambda lib, a: lib.linalg.svdvals(a), "LinalgSvdBackward0"),
    (lambda lib, a: lib.linalg.eigh(a)[1], "LinalgEighBackward0"),
    (lambda lib, a: lib.linalg.pinv(a), "LinalgPinvBackward0"),
    (lambda lib, a: lib.linalg.lstsq(a, a)[0], "LinalgLstsqBackward0"),
    (lambda lib, a: lib.linalg.solve_triangular(a, a, upper=True), "LinalgSolveTriangularBackward0"),
    (lambda lib, a: lib.linalg.cross(a, a), "LinalgCrossBackward0"),
    (lambda lib, a: lib.linalg.vector_norm(a), "LinalgVectorNormBackward0"),
    (lambda lib, a: lib.inverse(a), "LinalgInvExBackward0"),
    (lambda lib, a: lib.pinverse(a), "LinalgPinvBackward0"),
    (lambda lib, a: lib.linalg.lu(a).L, "LinalgLuBackward0"),
    (lambda lib, a: lib.linalg.lu_factor(a).LU, "LinalgLuFactorExBackward0"),
]


@pytest.mark.parametrize("k", range(len(GRAD_FN)))
def test_grad_fn_names(k):
    fn, name = GRAD_FN[k]
    t, m = pair(rng_matrix((3, 3), kind="wellcond"), True)
    assert fn(torch, t).grad_fn.name() == name
    assert fn(mt, m).grad_fn.name() == name


def test_torch_cholesky_node_and_warning():
    t, m = pair(rng_matrix((3, 3), kind="spd"), True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert torch.cholesky(t).grad_fn.name() == mt.cholesky(m).grad_fn.name() == "CholeskyBackward0"
    with pytest.warns(UserWarning, match="torch.cholesky is deprecated"):
        mt.cholesky(m)


def test_info_outputs_and_no_grad_through_them():
    S = np.array([[1., 2.], [2., 4.]])
    a = np.stack([np.eye(2), S])
    t, m = pair(a)
    for f in (lambda lib, x: lib.linalg.inv_ex(x), lambda lib, x: lib.linalg.cholesky_ex(x),
              lambda lib, x: lib.linalg.solve_ex(x, x)):
        ti, mi = f(torch, t).info, f(mt, m).info
        assert mi.dtype == mt.int32
        assert mi.tolist() == ti.tolist()
    # the regular matrices of the batch are still solved
    np.testing.assert_allclose(mt.linalg.inv_ex(m).inverse[0].numpy(), np.eye(2))
    assert not mt.linalg.inv_ex(mt.tensor(a, requires_grad=True)).info.requires_grad


def _err(f, lib):
    with pytest.raises(Exception) as e:
        f(lib)
    return e.value


ERRORS = [
    lambda lib: lib.linalg.inv(lib.tensor([[1., 2., 3.], [2., 4., 6.], [1., 0., 1.]])),
    lambda lib: lib.linalg.inv(lib.stack([lib.eye(3), lib.tensor([[1., 2., 3.], [2., 4., 6.], [1., 0., 1.]])])),
    lambda lib: lib.linalg.inv(lib.ones(3, 4)),
    lambda lib: lib.linalg.inv(lib.ones(3)),
    lambda lib: lib.linalg.inv(lib.ones(3, 3, dtype=lib.int64)),
    lambda lib: lib.linalg.inv(lib.ones(3, 3, dtype=lib.int32)),
    lambda lib: lib.linalg.det(lib.ones(3, 3, dtype=lib.int64)),
    lambda lib: lib.linalg.det(lib.ones(2, 3)),
    lambda lib: lib.linalg.slogdet(lib.ones(2, 3)),
    lambda lib: lib.logdet(lib.ones(2, 3)),
    lambda lib: lib.linalg.cholesky(lib.tensor([[1., 2.], [2., 1.]])),
    lambda lib: lib.linalg.cholesky(lib.stack([lib.eye(2), lib.tensor([[1., 2.], [2., 1.]])])),
    lambda lib: lib.linalg.cholesky(lib.ones(3, 4)),
    lambda lib: lib.linalg.solve(lib.tensor([[1., 2.], [2., 4.]]), lib.ones(2)),
    lambda lib: lib.linalg.solve(lib.stack([lib.eye(2), lib.tensor([[1., 2.], [2., 4.]])]), lib.ones(2, 2)),
    lambda lib: lib.linalg.solve(lib.eye(3), lib.ones(4)),
    lambda lib: lib.linalg.solve(lib.eye(3), lib.ones(3, dtype=lib.float64)),
    lambda lib: lib.linalg.solve(lib.eye(3), lib.ones(3, 4), left=False),
    lambda lib: lib.linalg.solve_triangular(lib.eye(3), lib.ones(3), upper=True),
    lambda lib: lib.linalg.solve_triangular(lib.eye(3), lib.ones(4, 3), upper=True),
    lambda lib: lib.linalg.eigh(lib.ones(3, 4)),
    lambda lib: lib.linalg.eigh(lib.eye(3), UPLO="X"),
    lambda lib: lib.linalg.svd(lib.ones(3, 3, dtype=lib.int64)),
    lambda lib: lib.linalg.svd(lib.ones(3)),
    lambda lib: lib.linalg.qr(lib.ones(3, 3), mode="x"),
    lambda lib: lib.linalg.qr(lib.ones(3)),
    lambda lib: lib.linalg.matrix_power(lib.ones(3, 4), 2),
    lambda lib: lib.linalg.matrix_power(lib.tensor([[1., 2.], [2., 4.]]), -1),
    lambda lib: lib.linalg.matrix_power(lib.ones(3, 3, dtype=lib.int64), -1),
    lambda lib: lib.linalg.cross(lib.ones(3, 4), lib.ones(3, 4)),
    lambda lib: lib.linalg.multi_dot([lib.ones(3)]),
    lambda lib: lib.linalg.multi_dot([lib.ones(3, 3), lib.ones(4, 3)]),
    lambda lib: lib.linalg.multi_dot([lib.ones(3, 3, 3), lib.ones(3, 3)]),
    lambda lib: lib.linalg.lstsq(lib.ones(4, 3), lib.ones(5, 2)),
    lambda lib: lib.linalg.lstsq(lib.ones(4, 3), lib.ones(4, 2), driver="foo"),
    lambda lib: lib.linalg.lstsq(lib.ones(3, 3), lib.ones(3, dtype=lib.float64)),
    lambda lib: lib.linalg.norm(lib.ones(3, 3), ord="foo"),
    lambda lib: lib.linalg.norm(lib.ones(3, 3, 3), ord=2),
    lambda lib: lib.linalg.norm(lib.ones(3), ord="fro"),
    lambda lib: lib.linalg.vector_norm(lib.ones(3, dtype=lib.int64)),
    lambda lib: lib.linalg.vector_norm(lib.ones(0), math.inf),
    lambda lib: lib.linalg.matrix_norm(lib.ones(3)),
    lambda lib: lib.linalg.matrix_norm(lib.ones(3, 3), ord=3),
    lambda lib: lib.linalg.matrix_norm(lib.ones(3, 3, dtype=lib.int64)),
    lambda lib: lib.linalg.pinv(lib.ones(3)),
    lambda lib: lib.linalg.matrix_rank(lib.ones(3)),
    lambda lib: lib.linalg.vecdot(lib.ones(3, dtype=lib.int64), lib.ones(3, dtype=lib.int64)),
    lambda lib: lib.cholesky_inverse(lib.ones(3, 2)),
    lambda lib: lib.linalg.lu_factor(lib.stack([lib.eye(3), lib.tensor([[1., 2., 3.], [2., 4., 6.], [1., 0., 1.]])])),
    lambda lib: lib.linalg.lu_factor(lib.eye(3), pivot=False),
    lambda lib: lib.linalg.lu_factor(lib.ones(3)),
    lambda lib: lib.linalg.lu_solve(*lib.linalg.lu_factor(lib.eye(3)), lib.ones(3)),
    lambda lib: lib.linalg.lu_solve(*lib.linalg.lu_factor(lib.eye(3)), lib.ones(3, 2), left=False),
    lambda lib: lib.linalg.cond(lib.ones(3, 4), 1),
    lambda lib: lib.linalg.tensorinv(lib.ones(6, 5), ind=1),
    lambda lib: lib.linalg.solve(lib.randn(2, 3, 3), lib.randn(4, 3, 2)),
    lambda lib: lib.linalg.solve(lib.randn(5, 2, 3, 3), lib.randn(4, 3, 2)),
    lambda lib: lib.linalg.solve(lib.randn(2, 3, 3), lib.randn(3, 3, 2)),
    lambda lib: lib.linalg.solve_triangular(lib.randn(2, 3, 3), lib.randn(4, 3, 2), upper=True),
    lambda lib: lib.linalg.lstsq(lib.randn(2, 3, 3), lib.randn(4, 3, 2)),
    lambda lib: lib.linalg.cross(lib.randn(2, 3), lib.randn(4, 3)),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_as_torch(k):
    te, me = _err(ERRORS[k], torch), _err(ERRORS[k], mt)
    assert type(me).__name__ == type(te).__name__
    assert isinstance(me, RuntimeError) == isinstance(te, RuntimeError)
    assert str(me) == str(te)


def test_linalg_error_type():
    assert issubclass(mt.linalg.LinAlgError, RuntimeError)
    with pytest.raises(mt.linalg.LinAlgError):
        mt.linalg.inv(mt.zeros(2, 2))
    with pytest.raises(RuntimeError, match="leading minor of order 1"):
        mt.linalg.cholesky(-mt.eye(2, dtype=mt.float64))


def test_cond_of_singular_matrix_is_inf():
    s = np.array([[1., 2.], [2., 4.]])
    for p in ("fro", 1, math.inf):
        assert math.isinf(mt.linalg.cond(mt.tensor(s), p).item()) and math.isinf(torch.linalg.cond(
            torch.tensor(s), p).item())


def test_eig_raises_clearly():
    with pytest.raises(NotImplementedError, match="complex"):
        mt.linalg.eig(mt.eye(2))
    with pytest.raises(NotImplementedError, match="complex"):
        mt.linalg.eigvals(mt.eye(2))


def test_qr_backward_errors():
    m = mt.tensor(rng_matrix((4, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        mt.linalg.qr(m, mode="complete").Q.sum().backward()
    with pytest.raises(RuntimeError, match="not computed when mode='r'"):
        mt.linalg.qr(m, mode="r").R.sum().backward()


PRINTED = [
    lambda lib, a: lib.linalg.slogdet(a),
    lambda lib, a: lib.linalg.inv_ex(a),
    lambda lib, a: lib.linalg.qr(a),
    lambda lib, a: lib.linalg.eigh(a),
    lambda lib, a: lib.linalg.cholesky_ex(a),
    lambda lib, a: lib.linalg.solve_ex(a, a),
    # (a solution without zeros: which sign torch's gelsy gives a zero depends on its BLAS's code path)
    lambda lib, a: lib.linalg.lstsq(a, a + 1),
    lambda lib, a: lib.linalg.lstsq(a, a + 1, driver="gelsd"),
    lambda lib, a: lib.svd(a),
    lambda lib, a: lib.slogdet(a),
    lambda lib, a: lib.linalg.lu(a),
    lambda lib, a: lib.linalg.lu_factor_ex(a),
    lambda lib, a: lib.lu(a, get_infos=True),
    lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a)),
]


@pytest.mark.parametrize("k", range(len(PRINTED)))
def test_named_tuples_print_as_torch(k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, m = pair(np.array([[2., 0.], [0., 3.]]))
        tr, mr = PRINTED[k](torch, t), PRINTED[k](mt, m)
    assert repr(mr) == repr(tr)
    assert type(mr).__name__ == type(tr).__name__


def test_svd_shapes_and_lstsq_outputs():
    a = rng_matrix((2, 5, 3))
    t, m = pair(a)
    for full in (True, False):
        for x, y in zip(torch.linalg.svd(t, full_matrices=full), mt.linalg.svd(m, full_matrices=full)):
            assert tuple(x.shape) == tuple(y.shape)
    tu, ts, tv = torch.svd(t, some=False, compute_uv=False)
    mu, ms, mv = mt.svd(m, some=False, compute_uv=False)
    assert_same((tu, ts, tv), (mu, ms, mv), 1e-10)
    b = rng_matrix((2, 5, 2), seed=3)
    tb, mb = pair(b)
    for driver in (None, "gels", "gelsy", "gelsd", "gelss"):
        assert_same(torch.linalg.lstsq(t, tb, driver=driver), mt.linalg.lstsq(m, mb, driver=driver), 1e-9)
    # rank-deficient: the minimum-norm solution and the rank
    r = rng_matrix((5, 2))
    a = np.concatenate([r, r[:, :1]], 1)
    t, m = pair(a)
    assert_same(torch.linalg.lstsq(t, tb[0], driver="gelsd"), mt.linalg.lstsq(m, mb[0], driver="gelsd"), 1e-9)


def test_rank_pinv_tolerances():
    a = np.diag([1.0, 1e-3, 1e-9])
    t, m = pair(a)
    for kw in ({}, {"atol": 1e-4}, {"rtol": 1e-2}, {"atol": 1e-12, "rtol": 1e-2}, {"hermitian": True}):
        assert torch.linalg.matrix_rank(t, **kw).item() == mt.linalg.matrix_rank(m, **kw).item()
        assert_same(torch.linalg.pinv(t, **kw), mt.linalg.pinv(m, **kw), 1e-6)
    assert_same(torch.pinverse(t, 1e-2), mt.pinverse(m, 1e-2), 1e-12)
    assert mt.linalg.matrix_rank(m).dtype == mt.int64


def test_vector_norms_against_torch():
    a = rng_matrix((3, 4, 5))
    t, m = pair(a)
    for o in (0, 1, 2, 3, 0.5, -1, math.inf, -math.inf):
        for dim in (None, 1, (0, 2), -1):
            for keep in (False, True):
                assert_same(torch.linalg.vector_norm(t, o, dim, keep), mt.linalg.vector_norm(m, o, dim, keep), 1e-10)
    assert_same(torch.linalg.norm(t, dim=1), mt.linalg.norm(m, dim=1), 1e-12)
    assert_same(torch.linalg.norm(t, 3, dim=2), mt.linalg.norm(m, 3, dim=2), 1e-12)
    assert_same(torch.linalg.norm(t, "nuc", dim=(0, 2)), mt.linalg.norm(m, "nuc", dim=(0, 2)), 1e-10)
    assert_same(torch.linalg.norm(t), mt.linalg.norm(m), 1e-12)
    assert_same(torch.linalg.vector_norm(t.float(), dtype=torch.float64),
                mt.linalg.vector_norm(m.float(), dtype=mt.float64), 1e-6)


def test_empty_matrices():
    for shape in ((0, 0), (2, 0, 0)):
        t, m = pair(np.zeros(shape))
        assert_same(torch.linalg.det(t), mt.linalg.det(m), 0)
        assert_same(torch.linalg.inv(t), mt.linalg.inv(m), 0)


def test_integer_matrix_power_and_cross():
    a = np.arange(9).reshape(3, 3)
    t, m = pair(a)
    assert_same(torch.linalg.matrix_power(t, 3), mt.linalg.matrix_power(m, 3), 0)
    assert_same(torch.linalg.matrix_power(t, 0), mt.linalg.matrix_power(m, 0), 0)
    assert_same(torch.linalg.cross(t, t.flip(0)), mt.linalg.cross(m, m.flip(0)), 0)


def test_diagonal():
    a = rng_matrix((2, 3, 4))
    t, m = pair(a)
    assert_same(torch.linalg.diagonal(t, offset=1), mt.linalg.diagonal(m, offset=1), 0)
    assert_same(torch.linalg.diagonal(t, dim1=0, dim2=2), mt.linalg.diagonal(m, dim1=0, dim2=2), 0)


def test_tensor_methods():
    a = rng_matrix((3, 3), kind="spd")
    t, m = pair(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, args in (("inverse", ()), ("det", ()), ("logdet", ()), ("slogdet", ()), ("pinverse", ()),
                           ("cholesky", ()), ("qr", ()), ("svd", ()), ("matrix_power", (3,)), ("matrix_exp", ()),
                           ("cholesky_inverse", ())):
            tr, mr = getattr(t, name)(*args), getattr(m, name)(*args)
            if name == "svd":
                tr, mr = tr.S, mr.S
            assert_same(_outs(tr), _outs(mr), 1e-9)


def test_lazy_top_level_names():
    import minitorch
    assert minitorch.linalg.det is mt.det
    from minitorch import inverse, slogdet  # noqa: F401  (module __getattr__ serves from-imports too)
    with pytest.raises(AttributeError):
        minitorch.not_a_linalg_function


@pytest.mark.skipif(not mt.cuda.is_available(), reason="no CUDA device")
def test_cuda_host_round_trip():
    a = rng_matrix((2, 4, 4), kind="spd")
    m = mt.tensor(a, device="cuda", requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    for f in (lambda lib, x: lib.linalg.inv(x), lambda lib, x: lib.linalg.cholesky(x),
              lambda lib, x: lib.linalg.svdvals(x), lambda lib, x: lib.linalg.det(x)):
        mr, tr = f(mt, m), f(torch, t)
        assert mr.device.type == "cuda"
        np.testing.assert_allclose(mr.detach().cpu().numpy(), tr.detach().numpy(), rtol=1e-8)
        mr.sum().backward()
        tr.sum().backward()
        np.testing.assert_allclose(m.grad.cpu().numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-8)
        m.grad = None
        t.grad = None


@pytest.mark.parametrize("name", ["inv", "det", "solve_bcast", "cholesky", "qr_tall", "svd_tall", "eigh", "lu_wide",
                                  "lstsq", "solve_triangular", "pinv_wide"])
def test_gradients_through_non_contiguous_views(name):
    fn, kinds = CASES[name]
    ins = [m for _, m in _inputs(kinds, np.float64, True)]
    outs = _outs(fn(mt, *ins))
    ref = mt.autograd.grad(sum(o.sum() for o in outs), ins)
    outs = _outs(fn(mt, *[noncontig(m) for m in ins]))
    got = mt.autograd.grad(sum(o.sum() for o in outs), ins)
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=1e-10, atol=1e-12)

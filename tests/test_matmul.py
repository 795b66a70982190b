"""Matrix products: matmul / @, mm, bmm, addmm, dot, outer.

Values against NumPy (contiguous, transposed, sliced, expanded and broadcast operands,
every supported dtype), gradients by float64 central differences, and values, gradients,
grad_fn names and errors against PyTorch where it is installed."""
import numpy as np
import pytest

import minitorch as mt
from minitorch.autograd import gradcheck

DTYPES = {"float32": np.float32, "float64": np.float64, "int32": np.int32, "int64": np.int64}

SHAPE_PAIRS = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((5, 2, 3), (3,)),
    ((2, 3), (5, 3, 4)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((1, 2, 3), (5, 3, 4)),
    ((7, 1, 2, 3), (5, 3, 4)),
    ((2, 1, 4, 3), (1, 6, 3, 2)),
    ((4, 1, 3), (1, 3, 1)),
    ((1, 3), (3, 1)),
    ((2, 0), (0, 3)),
    ((0, 3), (3, 2)),
    ((4, 0, 3), (3, 2)),
]


def rand(shape, dtype, rng):
    if np.issubdtype(dtype, np.integer):
        return rng.integers(-9, 10, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def close(got, want, dtype):
    got = np.asarray(got)
    assert got.shape == np.shape(want)
    assert got.dtype == np.asarray(want).dtype
    if np.issubdtype(dtype, np.integer):
        np.testing.assert_array_equal(got, want)
    elif dtype == np.float32:
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- values vs NumPy
@pytest.mark.parametrize("dt", list(DTYPES))
@pytest.mark.parametrize("sa,sb", SHAPE_PAIRS)
def test_matmul_values(sa, sb, dt):
    rng = np.random.default_rng(0)
    dtype = DTYPES[dt]
    a, b = rand(sa, dtype, rng), rand(sb, dtype, rng)
    want = np.matmul(a, b)
    close((mt.tensor(a) @ mt.tensor(b)).numpy(), want, dtype)
    close(mt.matmul(mt.tensor(a), mt.tensor(b)).numpy(), want, dtype)
    close(mt.tensor(a).matmul(mt.tensor(b)).numpy(), want, dtype)


@pytest.mark.parametrize("dt", list(DTYPES))
def test_matmul_transposed_and_strided(dt):
    rng = np.random.default_rng(1)
    dtype = DTYPES[dt]
    a, b = rand((6, 5), dtype, rng), rand((7, 6), dtype, rng)
    ta, tb = mt.tensor(a), mt.tensor(b)
    # transposed operands go to GEMM through its trans flags
    close((ta.t() @ tb.t()).numpy(), a.T @ b.T, dtype)
    close((ta.t() @ ta).numpy(), a.T @ a, dtype)
    close((tb @ ta).numpy(), b @ a, dtype)
    # strided rows / columns: copied to contiguous where BLAS cannot describe them
    close((ta[::2, :] @ tb[:5, :]).numpy(), a[::2, :] @ b[:5, :], dtype)
    close((ta[:, ::2] @ tb[:3, ::2]).numpy(), a[:, ::2] @ b[:3, ::2], dtype)
    close((ta[1:4, 1:] @ tb.t()[2:6, 2:5]).numpy(), a[1:4, 1:] @ b.T[2:6, 2:5], dtype)
    # batched transposes and permutes
    x, y = rand((3, 4, 5), dtype, rng), rand((3, 4, 2), dtype, rng)
    tx, ty = mt.tensor(x), mt.tensor(y)
    close((tx.transpose(1, 2) @ ty).numpy(), np.swapaxes(x, 1, 2) @ y, dtype)
    close((tx.permute(2, 0, 1)[:, :, :3] @ ty.permute(1, 0, 2)[0]).numpy(),
          np.transpose(x, (2, 0, 1))[:, :, :3] @ np.transpose(y, (1, 0, 2))[0], dtype)
    close((tx.permute(1, 2, 0) @ tx.permute(1, 0, 2)).numpy(), np.transpose(x, (1, 2, 0)) @ np.transpose(x, (1, 0, 2)),
          dtype)


@pytest.mark.parametrize("dt", ["float32", "float64", "int64"])
def test_matmul_expanded_operands(dt):
    rng = np.random.default_rng(2)
    dtype = DTYPES[dt]
    v = rand((4,), dtype, rng)
    m = rand((3, 4), dtype, rng)
    tv = mt.tensor(v)
    # stride-0 rows / columns / batches
    close((tv.expand(3, 4) @ mt.tensor(m).t()).numpy(), np.broadcast_to(v, (3, 4)) @ m.T, dtype)
    close((mt.tensor(m) @ tv.reshape(4, 1).expand(4, 5)).numpy(), m @ np.broadcast_to(v.reshape(4, 1), (4, 5)), dtype)
    close((mt.tensor(m).expand(6, 3, 4) @ tv).numpy(), np.broadcast_to(m, (6, 3, 4)) @ v, dtype)
    w = rand((2, 4, 5), dtype, rng)
    close((mt.tensor(m).expand(2, 3, 4) @ mt.tensor(w)).numpy(), np.broadcast_to(m, (2, 3, 4)) @ w, dtype)


def test_matmul_batch_fold_and_broadcast_large():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 16, 32)).astype(np.float32)
    w = rng.standard_normal((32, 24)).astype(np.float32)
    close((mt.tensor(x) @ mt.tensor(w)).numpy(), x @ w, np.float32)
    # sliced batch: the fold into one GEMM must not apply
    close((mt.tensor(x)[:, :10] @ mt.tensor(w)).numpy(), x[:, :10] @ w, np.float32)
    close((mt.tensor(x)[::2] @ mt.tensor(w)).numpy(), x[::2] @ w, np.float32)
    y = rng.standard_normal((3, 1, 32, 5)).astype(np.float64)
    z = rng.standard_normal((4, 5, 7)).astype(np.float64)
    close((mt.tensor(y) @ mt.tensor(z)).numpy(), y @ z, np.float64)


@pytest.mark.parametrize("dt", ["int32", "int64"])
def test_integer_matmul_larger_and_transposed(dt):
    rng = np.random.default_rng(4)
    dtype = DTYPES[dt]
    a, b = rand((70, 50), dtype, rng), rand((60, 50), dtype, rng)
    ta, tb = mt.tensor(a), mt.tensor(b)
    close((ta @ tb.t()).numpy(), a @ b.T, dtype)
    close((ta.t() @ ta).numpy(), a.T @ a, dtype)
    close((tb.t().t() @ ta.t()).numpy(), b @ a.T, dtype)


def test_integer_overflow_wraps():
    x = mt.tensor([[2 ** 40]])
    assert (x @ x).tolist() == [[0]]
    y = mt.tensor([[2 ** 20]], dtype=mt.int32)
    assert (y @ y).tolist() == [[0]]
    z = mt.tensor([[2 ** 31 - 1, 1]], dtype=mt.int32)
    assert (z @ mt.tensor([[1], [1]], dtype=mt.int32)).tolist() == [[-(2 ** 31)]]


def test_zero_inner_dim_gives_zeros():
    r = mt.ones(2, 0) @ mt.ones(0, 3)
    assert r.shape == (2, 3) and r.tolist() == [[0.0] * 3] * 2
    r = mt.addmm(mt.full((2, 3), 2.0), mt.ones(2, 0), mt.ones(0, 3), beta=1.5)
    assert r.tolist() == [[3.0] * 3] * 2
    r = mt.addmm(mt.full((2, 3), 2, dtype=mt.int64), mt.ones(2, 0, dtype=mt.int64), mt.ones(0, 3, dtype=mt.int64),
                 beta=3)
    assert r.tolist() == [[6] * 3] * 2
    assert mt.dot(mt.ones(0), mt.ones(0)).item() == 0.0


# ---------------------------------------------------------------- mm / bmm / dot / outer / addmm
@pytest.mark.parametrize("dt", list(DTYPES))
def test_mm_bmm_dot_values(dt):
    rng = np.random.default_rng(5)
    dtype = DTYPES[dt]
    a, b = rand((4, 3), dtype, rng), rand((3, 5), dtype, rng)
    close(mt.mm(mt.tensor(a), mt.tensor(b)).numpy(), a @ b, dtype)
    close(mt.tensor(a).mm(mt.tensor(b)).numpy(), a @ b, dtype)
    x, y = rand((2, 4, 3), dtype, rng), rand((2, 3, 5), dtype, rng)
    close(mt.bmm(mt.tensor(x), mt.tensor(y)).numpy(), x @ y, dtype)
    close(mt.tensor(x).bmm(mt.tensor(y)).numpy(), x @ y, dtype)
    close(mt.bmm(mt.tensor(y).transpose(1, 2), mt.tensor(x).transpose(1, 2)).numpy(),
          np.swapaxes(y, 1, 2) @ np.swapaxes(x, 1, 2), dtype)
    u, v = rand((7,), dtype, rng), rand((14,), dtype, rng)
    d = mt.dot(mt.tensor(u), mt.tensor(v)[::2])
    assert d.shape == ()
    close(d.numpy(), np.dot(u, v[::2]), dtype)
    close(mt.tensor(u).dot(mt.tensor(u)).numpy(), np.dot(u, u), dtype)
    close(mt.outer(mt.tensor(u), mt.tensor(v)).numpy(), np.outer(u, v).astype(dtype), dtype)
    close(mt.tensor(u).outer(mt.tensor(v)[::3]).numpy(), np.outer(u, v[::3]).astype(dtype), dtype)


def test_outer_promotes():
    r = mt.outer(mt.arange(3), mt.tensor([0.5, 1.0]))
    assert r.dtype == mt.float32
    assert r.tolist() == [[0.0, 0.0], [0.5, 1.0], [1.0, 2.0]]
    r = mt.outer(mt.ones(2), mt.ones(2, dtype=mt.float64))
    assert r.dtype == mt.float64


@pytest.mark.parametrize("dt", list(DTYPES))
@pytest.mark.parametrize("cshape", [(2, 4), (4,), (1, 4), (2, 1), (1,), ()])
def test_addmm_values(cshape, dt):
    rng = np.random.default_rng(6)
    dtype = DTYPES[dt]
    c, a, b = rand(cshape, dtype, rng), rand((2, 3), dtype, rng), rand((3, 4), dtype, rng)
    beta, alpha = (2, 3) if np.issubdtype(dtype, np.integer) else (0.5, -1.5)
    want = (beta * c + alpha * (a @ b)).astype(dtype)
    close(mt.addmm(mt.tensor(c), mt.tensor(a), mt.tensor(b), beta=beta, alpha=alpha).numpy(), want, dtype)
    close(mt.tensor(c).addmm(mt.tensor(a), mt.tensor(b), beta=beta, alpha=alpha).numpy(), want, dtype)
    close(mt.addmm(mt.tensor(c), mt.tensor(a), mt.tensor(b)).numpy(), (c + a @ b).astype(dtype), dtype)


def test_addmm_beta_zero_ignores_nan():
    r = mt.addmm(mt.full((2, 2), float("nan")), mt.ones(2, 2), mt.ones(2, 2), beta=0)
    assert r.tolist() == [[2.0, 2.0], [2.0, 2.0]]


def test_addmm_transposed_operands():
    rng = np.random.default_rng(7)
    c, a, b = rand((5,), np.float64, rng), rand((3, 4), np.float64, rng), rand((5, 3), np.float64, rng)
    r = mt.addmm(mt.tensor(c), mt.tensor(a).t(), mt.tensor(b).t(), beta=2.0, alpha=0.25)
    close(r.numpy(), 2.0 * c + 0.25 * (a.T @ b.T), np.float64)


# ---------------------------------------------------------------- errors
def err(fn):
    with pytest.raises(Exception) as ei:
        fn()
    return ei.type, str(ei.value)


ERROR_CASES = {
    "mm_shape": lambda L: L.randn(2, 3) @ L.randn(4, 5),
    "mm_fn_shape": lambda L: L.mm(L.randn(2, 3), L.randn(4, 5)),
    "mm_not_matrix2": lambda L: L.mm(L.randn(2, 3), L.randn(3)),
    "mm_not_matrix1": lambda L: L.mm(L.randn(3), L.randn(3, 4)),
    "mm_3d": lambda L: L.mm(L.randn(2, 3, 4), L.randn(4, 5)),
    "dot_size": lambda L: L.randn(3) @ L.randn(4),
    "mv_size": lambda L: L.randn(2, 3) @ L.randn(4),
    "vm_size": lambda L: L.randn(3) @ L.randn(4, 5),
    "bmm_k": lambda L: L.randn(5, 2, 3) @ L.randn(5, 4, 5),
    "batch_broadcast": lambda L: L.randn(5, 2, 3) @ L.randn(6, 3, 5),
    "batch_broadcast4": lambda L: L.randn(7, 5, 2, 3) @ L.randn(6, 3, 2),
    "batch_k4": lambda L: L.randn(7, 5, 2, 3) @ L.randn(5, 4, 2),
    "fold_mv_size": lambda L: L.randn(5, 2, 3) @ L.randn(4),
    "fold_mm_size": lambda L: L.randn(5, 2, 3) @ L.randn(4, 2),
    "vec_batch_size": lambda L: L.randn(3) @ L.randn(5, 4, 5),
    "mat_batch_size": lambda L: L.randn(2, 3) @ L.randn(5, 4, 2),
    "0d_left": lambda L: L.randn(()) @ L.randn(3),
    "0d_right": lambda L: L.randn(3) @ L.randn(()),
    "dot_2d": lambda L: L.dot(L.randn(2, 3), L.randn(2, 3)),
    "dot_dtype": lambda L: L.dot(L.randn(3), L.randn(3, dtype=L.float64)),
    "dot_dtype_long": lambda L: L.dot(L.randn(3), L.arange(3)),
    "dot_dtype_first": lambda L: L.dot(L.randn(3), L.randn(4, dtype=L.float64)),
    "bmm_first": lambda L: L.bmm(L.randn(2, 2, 3), L.randn(3, 3, 4)),
    "bmm_k_only": lambda L: L.bmm(L.randn(2, 2, 3), L.randn(2, 4, 4)),
    "bmm_1_not3d": lambda L: L.bmm(L.randn(2, 3), L.randn(2, 3, 4)),
    "bmm_2_not3d": lambda L: L.bmm(L.randn(2, 2, 3), L.randn(3, 4)),
    "bmm_dtype": lambda L: L.bmm(L.randn(2, 2, 3), L.randn(2, 3, 4, dtype=L.float64)),
    "bmm_shape_before_dtype": lambda L: L.bmm(L.randn(2, 2, 3), L.randn(3, 4, 5, dtype=L.float64)),
    "mm_dtype": lambda L: L.mm(L.randn(2, 3), L.randn(3, 4, dtype=L.float64)),
    "mm_shape_before_dtype": lambda L: L.mm(L.randn(2, 3), L.randn(4, 5, dtype=L.float64)),
    "matmul_dtype": lambda L: L.randn(2, 3) @ L.randn(3, 4, dtype=L.float64),
    "matmul_dtype_long": lambda L: L.randn(2, 3) @ L.arange(12).view(3, 4),
    "matmul_dtype_int": lambda L: L.ones(2, 3, dtype=L.int64) @ L.ones(3, 4, dtype=L.int32),
    "matmul_dtype_bool": lambda L: L.randn(2, 3) @ L.ones(3, 4, dtype=L.bool),
    "dot_dtype_via_matmul": lambda L: L.randn(3) @ L.randn(3, dtype=L.float64),
    "mv_dtype": lambda L: L.randn(2, 3) @ L.randn(3, dtype=L.float64),
    "mv_dtype2": lambda L: L.randn(2, 3, dtype=L.float64) @ L.randn(3),
    "vm_dtype": lambda L: L.randn(3) @ L.randn(3, 4, dtype=L.float64),
    "fold_dtype": lambda L: L.randn(5, 2, 3) @ L.randn(3, 4, dtype=L.float64),
    "fold_mv_dtype": lambda L: L.randn(5, 2, 3, dtype=L.float64) @ L.randn(3),
    "batch_dtype": lambda L: L.randn(5, 2, 3) @ L.randn(5, 3, 4, dtype=L.float64),
    "vec_batch_dtype": lambda L: L.randn(3, dtype=L.float64) @ L.randn(5, 3, 2),
    "mat_batch_dtype": lambda L: L.randn(2, 3) @ L.randn(5, 3, 2, dtype=L.float64),
    "bool_mm": lambda L: L.mm(L.ones(2, 3, dtype=L.bool), L.ones(3, 4, dtype=L.bool)),
    "bool_bmm": lambda L: L.bmm(L.ones(2, 2, 3, dtype=L.bool), L.ones(2, 3, 4, dtype=L.bool)),
    "bool_dot": lambda L: L.dot(L.ones(3, dtype=L.bool), L.ones(3, dtype=L.bool)),
    "bool_mv": lambda L: L.ones(2, 3, dtype=L.bool) @ L.ones(3, dtype=L.bool),
    "bool_batch": lambda L: L.ones(5, 2, 3, dtype=L.bool) @ L.ones(5, 3, 4, dtype=L.bool),
    "bool_fold": lambda L: L.ones(5, 2, 3, dtype=L.bool) @ L.ones(3, 2, dtype=L.bool),
    "bool_addmm": lambda L: L.addmm(L.ones(2, 4, dtype=L.bool), L.ones(2, 3, dtype=L.bool), L.ones(3, 4, dtype=L.bool)),
    "bool_dot_size_first": lambda L: L.dot(L.ones(3, dtype=L.bool), L.ones(4, dtype=L.bool)),
    "addmm_expand": lambda L: L.addmm(L.randn(3), L.randn(2, 3), L.randn(3, 4)),
    "addmm_expand0": lambda L: L.addmm(L.randn(5, 4), L.randn(2, 3), L.randn(3, 4)),
    "addmm_expand_ndim": lambda L: L.addmm(L.randn(1, 2, 4), L.randn(2, 3), L.randn(3, 4)),
    "addmm_shape": lambda L: L.addmm(L.randn(2, 4), L.randn(2, 3), L.randn(4, 4)),
    "addmm_self_dtype": lambda L: L.addmm(L.randn(2, 4, dtype=L.float64), L.randn(2, 3), L.randn(3, 4)),
    "addmm_mat2_dtype": lambda L: L.addmm(L.randn(2, 4), L.randn(2, 3), L.randn(3, 4, dtype=L.float64)),
    "addmm_mat1_dtype": lambda L: L.addmm(L.randn(2, 4), L.randn(2, 3, dtype=L.float64), L.randn(3, 4)),
    "addmm_1d": lambda L: L.addmm(L.randn(2, 4), L.randn(3), L.randn(3, 4)),
    "addmm_3d": lambda L: L.addmm(L.randn(2, 4), L.randn(2, 3, 3), L.randn(3, 4)),
    "addmm_mat2_1d": lambda L: L.addmm(L.randn(2, 4), L.randn(2, 3), L.randn(3)),
    "outer_2d_self": lambda L: L.outer(L.randn(3, 1), L.randn(4)),
    "outer_2d_vec2": lambda L: L.outer(L.randn(3), L.randn(4, 2)),
}

EXPECTED = {  # what torch 2.13 raises (checked by test_errors_match_torch when torch is installed)
    "mm_shape": (RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    "dot_2d": (RuntimeError, "1D tensors expected, but got 2D and 2D tensors"),
    "bmm_k": (RuntimeError, "Expected size for first two dimensions of batch2 tensor to be: [5, 3] but got: [5, 4]."),
    "mm_dtype": (RuntimeError, "expected m1 and m2 to have the same dtype, but got: float != double"),
    "bool_mm": (NotImplementedError, "\"addmm_impl_cpu_\" not implemented for 'Bool'"),
    "batch_broadcast": (RuntimeError,
                        "The size of tensor a (5) must match the size of tensor b (6) at non-singleton dimension 0"),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_errors(name):
    typ, msg = err(lambda: ERROR_CASES[name](mt))
    assert typ is EXPECTED[name][0]
    assert msg == EXPECTED[name][1]


@pytest.mark.parametrize("name", list(ERROR_CASES))
def test_errors_match_torch(name):
    torch = pytest.importorskip("torch")
    want = err(lambda: ERROR_CASES[name](torch))
    got = err(lambda: ERROR_CASES[name](mt))
    assert got[0] is want[0], (got, want)
    assert got[1] == want[1].split("\n")[0]


# ---------------------------------------------------------------- gradients
def dbl(shape, rng, rg=True):
    return mt.tensor(rng.standard_normal(shape), dtype=mt.float64, requires_grad=rg)


@pytest.mark.parametrize("sa,sb", [p for p in SHAPE_PAIRS if 0 not in p[0] + p[1]])
def test_matmul_gradcheck(sa, sb):
    rng = np.random.default_rng(8)
    assert gradcheck(lambda a, b: a @ b, (dbl(sa, rng), dbl(sb, rng)))


@pytest.mark.parametrize("which", [0, 1])
def test_matmul_grad_one_side(which):
    rng = np.random.default_rng(9)
    a, b = dbl((4, 2, 3), rng, which == 0), dbl((3, 5), rng, which == 1)
    assert gradcheck(lambda a, b: a @ b, (a, b))
    a, b = dbl((2, 3), rng, which == 0), dbl((4, 3, 5), rng, which == 1)
    assert gradcheck(lambda a, b: a @ b, (a, b))


def test_gradcheck_transposed_inputs():
    rng = np.random.default_rng(10)
    a, b = dbl((3, 4), rng), dbl((5, 3), rng)
    assert gradcheck(lambda a, b: a.t() @ b.t(), (a, b))
    x, y = dbl((2, 3, 4), rng), dbl((2, 5, 3), rng)
    assert gradcheck(lambda x, y: x.transpose(1, 2) @ y.transpose(1, 2), (x, y))
    assert gradcheck(lambda x, y: x.permute(2, 0, 1) @ y.permute(0, 2, 1)[:1], (x, y))
    v = dbl((3,), rng)
    assert gradcheck(lambda v, a: v.expand(2, 3) @ a, (v, a))


def test_mm_bmm_dot_outer_addmm_gradcheck():
    rng = np.random.default_rng(11)
    assert gradcheck(mt.mm, (dbl((2, 3), rng), dbl((3, 4), rng)))
    assert gradcheck(mt.bmm, (dbl((2, 2, 3), rng), dbl((2, 3, 4), rng)))
    assert gradcheck(mt.dot, (dbl((4,), rng), dbl((4,), rng)))
    assert gradcheck(mt.outer, (dbl((3,), rng), dbl((4,), rng)))
    for cshape in [(2, 4), (4,), (2, 1), ()]:
        assert gradcheck(lambda c, a, b: mt.addmm(c, a, b, beta=0.5, alpha=2.0),
                         (dbl(cshape, rng), dbl((2, 3), rng), dbl((3, 4), rng)))
    assert gradcheck(lambda c, a, b: mt.addmm(c, a.t(), b, beta=0.0),
                     (dbl((2, 4), rng), dbl((3, 2), rng), dbl((3, 4), rng)))


def test_backward_through_chain_and_accumulation():
    rng = np.random.default_rng(12)
    a = dbl((3, 3), rng)
    y = (a @ a @ a).sum()
    y.backward()
    an = a.detach().numpy()
    want = (np.ones((3, 3)) @ (an @ an).T + an.T @ np.ones((3, 3)) @ an.T + (an @ an).T @ np.ones((3, 3)))
    np.testing.assert_allclose(a.grad.numpy(), want, rtol=1e-10)


def test_saved_tensor_modified_inplace_is_detected():
    a = mt.randn(2, 3, requires_grad=True)
    b = mt.randn(3, 2)
    c = a @ b
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


def test_no_grad_records_nothing():
    a = mt.randn(2, 3, requires_grad=True)
    with mt.no_grad():
        assert (a @ mt.randn(3, 4)).grad_fn is None
        assert (a @ mt.randn(5, 3, 4)).grad_fn is None
    assert (mt.randn(2, 3) @ mt.randn(3)).grad_fn is None


# ---------------------------------------------------------------- against PyTorch
@pytest.mark.parametrize("sa,sb", SHAPE_PAIRS)
def test_against_torch_values_grads_names(sa, sb):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    ma, mb = mt.tensor(a, requires_grad=True), mt.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    mr, tr = ma @ mb, ta @ tb
    assert tuple(mr.shape) == tuple(tr.shape)
    np.testing.assert_allclose(mr.detach().numpy(), tr.detach().numpy(), rtol=1e-12, atol=1e-12)
    if (sa, sb) != ((1, 2, 3), (5, 3, 4)):  # PyTorch folds this one through a transpose + clone
        assert mr.grad_fn.name() == tr.grad_fn.name()
    g = np.asarray(rng.standard_normal(tr.shape))
    mr.backward(mt.tensor(g))
    tr.backward(torch.tensor(g))
    np.testing.assert_allclose(ma.grad.numpy(), ta.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mb.grad.numpy(), tb.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_against_torch_grad_fn_names_of_named_ops():
    torch = pytest.importorskip("torch")
    for L in (mt, torch):
        r = lambda *s: L.randn(*s, requires_grad=True)  # noqa: E731
        names = [L.mm(r(2, 3), r(3, 4)).grad_fn.name(), L.bmm(r(2, 2, 3), r(2, 3, 4)).grad_fn.name(),
                 L.addmm(r(4), r(2, 3), r(3, 4)).grad_fn.name(), L.dot(r(3), r(3)).grad_fn.name(),
                 L.outer(r(3), r(4)).grad_fn.name(), (r(2, 3) @ r(3)).grad_fn.name(),
                 (r(3) @ r(3, 4)).grad_fn.next_functions[0][0].name(),
                 (r(5, 2, 3) @ r(5, 3, 4)).grad_fn.next_functions[0][0].name(),
                 (r(5, 2, 3) @ r(3, 4)).grad_fn.next_functions[0][0].name(),
                 (r(5, 2, 3) @ r(3)).grad_fn.next_functions[0][0].name()]
        if L is mt:
            got = names
        else:
            want = names
    assert got == want


def test_against_torch_addmm_grads():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(14)
    c, a, b = rng.standard_normal((1, 4)), rng.standard_normal((2, 3)), rng.standard_normal((4, 3))
    res = []
    for L in (mt, torch):
        tc, ta, tb = (L.tensor(x, requires_grad=True) for x in (c, a, b))
        out = L.addmm(tc, ta, tb.t(), beta=0.7, alpha=-1.3)
        out.backward(L.ones(2, 4, dtype=L.float64) * 0.5)
        res.append([out.detach().numpy(), tc.grad.numpy(), ta.grad.numpy(), tb.grad.numpy()])
    for x, y in zip(*res):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)


def test_against_torch_integer_and_float32():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(15)
    for dt in (np.int32, np.int64, np.float32):
        a, b = rand((3, 5, 4), dt, rng), rand((4, 2), dt, rng)
        got = (mt.tensor(a) @ mt.tensor(b)).numpy()
        want = (torch.tensor(a) @ torch.tensor(b)).numpy()
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_large_sgemm_matches_numpy():
    rng = np.random.default_rng(16)
    a = rng.standard_normal((300, 257)).astype(np.float32)
    b = rng.standard_normal((257, 129)).astype(np.float32)
    got = (mt.tensor(a) @ mt.tensor(b)).numpy()
    np.testing.assert_allclose(got, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("m,k,n", [(1, 1, 16), (7, 17, 31), (9, 257, 33), (65, 600, 100), (64, 256, 768), (130, 70, 65),
                                   (16, 5000, 16), (3, 40, 5)])
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_float32_tile_gemm_edges(m, k, n, ta, tb):
    """float32 products up to 2^25 multiply-adds with 16 or more columns run on the AVX-512 tiles
    (mt_sgemm_tiles; fewer columns go to BLAS): rows not a multiple of 8, columns not a multiple of
    32, k over the 256-chunk (packed a chunk at a time), both operands transposed or not and with
    padded rows; addmm with beta 1 (accumulating on the tiles) and 0.5 (BLAS); NaN propagates"""
    rng = np.random.default_rng(m * 7 + k * 3 + n + 2 * ta + tb)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    pad_a = np.zeros((a.shape[0], a.shape[1] + 5), np.float32)  # rows longer than the matrix
    pad_a[:, :a.shape[1]] = a
    ta_ = mt.tensor(pad_a)[:, :a.shape[1]]
    tb_ = mt.tensor(b)
    A = ta_.t() if ta else ta_
    B = tb_.t() if tb else tb_
    a64 = (a.T if ta else a).astype(np.float64)
    b64 = (b.T if tb else b).astype(np.float64)
    want = a64 @ b64
    tol = 2e-6 * np.sqrt(k) * max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose((A @ B).numpy(), want, rtol=0, atol=tol)
    c = rng.standard_normal((m, n)).astype(np.float32)
    np.testing.assert_allclose(mt.addmm(mt.tensor(c), A, B).numpy(), c + want, rtol=0, atol=tol)
    np.testing.assert_allclose(mt.addmm(mt.tensor(c), A, B, beta=0.5).numpy(), 0.5 * c + want, rtol=0, atol=tol)
    a_nan = a.copy()
    a_nan[0, 0] = np.nan
    ta_n = mt.tensor(a_nan)
    got = ((ta_n.t() if ta else ta_n) @ B).numpy()
    bad = np.isnan(got)  # op(A) row 0 holds the NaN either way
    assert bad[0].all() and not bad[1:].any()


@pytest.mark.parametrize("dt", [mt.float32, mt.float64])
@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("n", [1024, 1000, 4099])
def test_vector_times_large_matrix(dt, transposed, n):
    """a 1-row product with >= 2^18 matrix elements is split into column blocks across the threads
    (mt_cpu_gemm): every block, including the ragged last one, against NumPy in float64"""
    rng = np.random.default_rng(n)
    k = 300
    npdt = np.float32 if dt == mt.float32 else np.float64
    x = rng.standard_normal((1, k)).astype(npdt)
    w = rng.standard_normal((n, k) if transposed else (k, n)).astype(npdt)
    b = mt.tensor(w).t() if transposed else mt.tensor(w)  # (k, n), strided when transposed
    got = (mt.tensor(x) @ b).numpy()
    want = x.astype(np.float64) @ (w.T if transposed else w).astype(np.float64)
    assert got.shape == (1, n)
    np.testing.assert_allclose(got, want, rtol=1e-4 if dt == mt.float32 else 1e-12, atol=1e-4)
    y = rng.standard_normal((n,)).astype(npdt)
    got_acc = mt.addmm(mt.tensor(y)[None], mt.tensor(x), b, beta=0.5, alpha=2.0).numpy()
    np.testing.assert_allclose(got_acc, 0.5 * y[None] + 2.0 * want, rtol=1e-4 if dt == mt.float32 else 1e-12,
                               atol=1e-3)

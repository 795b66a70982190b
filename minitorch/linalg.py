"""minitorch.linalg: PyTorch's torch.linalg, batched over leading dims, float32 and float64.

The factorizations run in LAPACK: NumPy's numpy.linalg (its bundled OpenBLAS) on the tensor's data,
read through a zero-copy NumPy view and computed in the tensor's dtype. Where NumPy does not expose
what torch reports (getrf's / potrf's `info`, triangular solves), the LAPACK and CBLAS of the
OpenBLAS that minitorch._C links (scipy-openblas32) are called through ctypes.

Derivatives are torch's (tools/autograd/derivatives.yaml, FunctionsManual.cpp), written with
differentiable minitorch ops inside autograd.Function backwards named as torch's nodes
(LinalgInvExBackward0, ...). Saved outputs are detached by Function, so when a backward itself runs
under grad mode (create_graph=True) it recomputes them from the inputs: second derivatives then flow.

Where a batch holds singular / non-positive-definite matrices and check_errors=False (inv_ex, solve_ex,
cholesky_ex), those matrices' results are NaN (torch leaves whatever LAPACK stopped at), info says which.
lstsq computes every driver's solution from the SVD (gelsd's method: the same answer for full-rank input);
its residuals are non-differentiable (torch ignores their gradient). Not here: eig / eigvals (complex
results: they raise), householder_product, ldl_factor / ldl_solve, solve_ex's out=, the out= keywords.

CUDA tensors take a host round trip (the data is copied to the CPU, factorized there, the result
copied back; backwards run in minitorch ops on the tensor's device): correct, not fast.
"""
import ctypes
import ctypes.util
import math
import os

import numpy as np

from . import _C
from ._creation import _broadcast_shape
from ._types import SCALAR_TYPE_NAMES, float32, float64, int32, int64
from .autograd.function import Function

__all__ = ["norm", "vector_norm", "matrix_norm", "inv", "inv_ex", "det", "slogdet", "solve", "solve_ex", "lstsq",
           "cholesky", "cholesky_ex", "qr", "svd", "svdvals", "eigh", "eigvalsh", "pinv", "matrix_rank",
           "matrix_power", "matrix_exp", "cross", "solve_triangular", "multi_dot", "vecdot", "diagonal", "lu",
           "lu_factor", "lu_factor_ex", "lu_solve", "cond", "tensorinv", "tensorsolve", "vander", "eig", "eigvals",
           "LinAlgError"]


class LinAlgError(RuntimeError):
    """A linear-algebra failure on valid input (singular, not positive-definite): torch._C._LinAlgError."""


LinAlgError.__module__ = "torch._C"
LinAlgError.__qualname__ = LinAlgError.__name__ = "_LinAlgError"


# ------------------------------------------------------------------------------------------ named tuples
def _return_type(name, fields):
    from collections import namedtuple
    from . import return_types
    cls = namedtuple(name, fields)
    cls.__module__ = "torch.return_types"
    cls.__repr__ = lambda self: (f"torch.return_types.{name}(\n"
                                 + ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self)) + ")")
    setattr(return_types, name, cls)  # minitorch.return_types.linalg_svd, as torch.return_types
    return cls


_inv_ex_t = _return_type("linalg_inv_ex", ["inverse", "info"])
_slogdet_t = _return_type("linalg_slogdet", ["sign", "logabsdet"])
_top_slogdet_t = _return_type("slogdet", ["sign", "logabsdet"])
_solve_ex_t = _return_type("linalg_solve_ex", ["result", "info"])
_lstsq_t = _return_type("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
_cholesky_ex_t = _return_type("linalg_cholesky_ex", ["L", "info"])
_qr_t = _return_type("linalg_qr", ["Q", "R"])
_top_qr_t = _return_type("qr", ["Q", "R"])
_svd_t = _return_type("linalg_svd", ["U", "S", "Vh"])
_top_svd_t = _return_type("svd", ["U", "S", "V"])
_eigh_t = _return_type("linalg_eigh", ["eigenvalues", "eigenvectors"])
_lu_factor_t = _return_type("linalg_lu_factor", ["LU", "pivots"])
_lu_factor_ex_t = _return_type("linalg_lu_factor_ex", ["LU", "pivots", "info"])
_lu_t = _return_type("linalg_lu", ["P", "L", "U"])
_lu_unpack_t = _return_type("lu_unpack", ["P", "L", "U"])
_lu_with_info_t = _return_type("_lu_with_info", ["LU", "pivots", "info"])


# ------------------------------------------------------------------------------------------ helpers
def _np(t):
    """The tensor's values as NumPy (a zero-copy view for CPU tensors, strides kept)."""
    t = t.detach()
    return t.numpy() if t.device.type == "cpu" else t.cpu().numpy()


def _t(a, like, dtype=None):
    """A NumPy result as a tensor of like's dtype (or dtype) on like's device."""
    from ._creation import from_numpy
    dt = dtype or like.dtype
    npdt = np.float64 if dt == float64 else np.float32 if dt == float32 else np.int32 if dt == int32 else np.int64
    r = from_numpy(np.asarray(a, dtype=npdt, order="C"))  # (ascontiguousarray would make 0-d results 1-d)
    return r if like.device.type == "cpu" else r.to(like.device)


def _eye(n, like):
    from ._creation import eye
    return eye(n, dtype=like.dtype, device=like.device)


def _needs_grad(*ts):
    return _C.is_grad_enabled() and any(isinstance(t, _C.TensorBase) and t.requires_grad for t in ts)


def _check_tensor(x, fn, arg="A"):
    if not isinstance(x, _C.TensorBase):
        raise TypeError(f"{fn}(): argument '{arg}' (position 1) must be Tensor, not {type(x).__name__}")


def _check(A, fn, square=True, name="A", floating=True):
    """torch's checks, in torch's order: at least 2-D, a floating dtype, square."""
    _check_tensor(A, fn.replace("torch.", ""), name)
    if A.dim() < 2:
        raise RuntimeError(f"{fn}: The input tensor {name} must have at least 2 dimensions.")
    if floating:
        _check_float(A, fn)
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{fn}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")


def _check_float(A, fn):
    if A.dtype not in (float32, float64):
        if A.dtype.is_floating_point:  # float16 / bfloat16: LAPACK has no half-precision routines
            raise RuntimeError(f"{fn}: minitorch supports float32 and float64 only, got {A.dtype}")
        raise RuntimeError(f"{fn}: Expected a floating point or complex tensor as input. "
                           f"Got {SCALAR_TYPE_NAMES[A.dtype]}")


def _same_dtype(A, B, fn):
    if A.dtype != B.dtype:
        raise RuntimeError(f"{fn}: Expected A and B to have the same dtype, but found A of type "
                           f"{SCALAR_TYPE_NAMES[A.dtype]} and B of type {SCALAR_TYPE_NAMES[B.dtype]} instead")


def _mH(x):
    return x.transpose(-2, -1)  # real dtypes only: the conjugate transpose is the transpose


def _sum_to(g, shape):
    """Sums a gradient over the dims that broadcasting added or expanded, back to `shape`."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.dim() - len(shape)
    if lead:
        g = g.sum(tuple(range(lead)))
    dims = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(dims, keepdim=True) if dims else g


def _batch_error(info, message, fn, error=None):
    """Raises LinAlgError (or `error`) for the first failed matrix (info > 0), torch's wording."""
    bad = np.flatnonzero(info)
    if bad.size:
        k = int(bad[0])
        prefix = f"(Batch element {k}): " if info.ndim else ""
        raise (error or LinAlgError)(f"{fn}: {prefix}{message(int(info.reshape(-1)[k]))}")


# ------------------------------------------------------------------------------------------ LAPACK via ctypes
_LIB = []


def _lapack(name, dtype):
    """The C function scipy_LAPACKE_dgetrf / cblas_strsm ... of the OpenBLAS that _C links."""
    if not _LIB:
        libs = [ctypes.CDLL(None)]
        try:
            import scipy_openblas32
            libs.append(ctypes.CDLL(os.path.join(scipy_openblas32.get_lib_dir(),
                                                 "lib" + scipy_openblas32.get_library() + ".so")))
        except (ImportError, OSError):
            path = ctypes.util.find_library("openblas")
            if path:
                libs.append(ctypes.CDLL(path))
        _LIB.extend(libs)
    sym = name.replace("?", "d" if dtype == np.float64 else "s")
    for lib in _LIB:
        for prefix in ("scipy_", ""):
            f = getattr(lib, prefix + sym, None)
            if f is not None:
                return f
    raise RuntimeError(f"minitorch.linalg: {sym} was not found in the loaded BLAS/LAPACK library")


def _ptr(a):
    return a.ctypes.data_as(ctypes.c_void_p)


def _factor_info(a, routine):
    """LAPACK's `info` of getrf (first zero diagonal element of U, 1-based) or potrf (order of the first
    leading minor that is not positive-definite), per matrix of the batch, as torch reports it."""
    f = _lapack(routine, a.dtype)
    f.restype = ctypes.c_int
    n = a.shape[-1]
    batch = a.shape[:-2]
    flat = a.reshape(-1, n, n)
    info = np.zeros(flat.shape[0], dtype=np.int32)
    ipiv = np.zeros(max(n, 1), dtype=np.int32)
    for k in range(flat.shape[0]):
        m = np.array(flat[k], order="F", copy=True)  # column-major, as torch hands matrices to LAPACK
        if routine.endswith("getrf"):
            info[k] = f(102, n, n, _ptr(m), max(n, 1), _ptr(ipiv))
        else:
            info[k] = f(102, ord("L"), n, _ptr(m), max(n, 1))
    return info.reshape(batch)


def _trsm(a, b, upper, left, unit):
    """op(A) X = B (left) or X A = B solved with BLAS trsm for each matrix of the (broadcast) batch:
    reads only A's triangle, like torch; a zero diagonal gives inf/nan, not an error, like torch."""
    f = _lapack("cblas_?trsm", a.dtype)
    f.restype = None
    scalar = ctypes.c_double if a.dtype == np.float64 else ctypes.c_float
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    A = np.broadcast_to(a, batch + a.shape[-2:]).reshape(-1, *a.shape[-2:])
    X = np.array(np.broadcast_to(b, batch + b.shape[-2:]).reshape(-1, *b.shape[-2:]), order="C", copy=True)
    m, n = X.shape[-2:]
    for k in range(X.shape[0]):
        ak = np.ascontiguousarray(A[k])
        # row-major 101; side left 141 / right 142; uplo upper 121 / lower 122; no-trans 111; diag 131 / unit 132
        f(101, 141 if left else 142, 121 if upper else 122, 111, 132 if unit else 131, m, n, scalar(1.0),
          _ptr(ak), max(ak.shape[-1], 1), _ptr(X[k]), max(n, 1))
    return X.reshape(batch + (m, n))


def _sym(x):
    return x - _mH(x)


# ------------------------------------------------------------------------------------------ inverse
class _InvEx(Function):
    _node_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, A, check_errors, fn):
        a = _np(A)
        info = np.zeros(a.shape[:-2], dtype=np.int32)
        try:
            inv_ = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            info = _factor_info(a, "LAPACKE_?getrf")
            if check_errors:
                _batch_error(info, lambda i: f"The diagonal element {i} is zero, the inversion could not be "
                             "completed because the input matrix is singular.", fn)
            inv_ = _each(np.linalg.solve, info, a, np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape))
        out = _t(inv_, A)
        ctx.save_for_backward(A, out)
        info_t = _t(info, A, int32)
        ctx.mark_non_differentiable(info_t)
        return out, info_t

    @staticmethod
    def backward(ctx, g, _ginfo):
        A, Ainv = ctx.saved_tensors
        if _needs_grad(A, g):
            Ainv = inv(A)
        AinvH = _mH(Ainv)
        return -(AinvH @ g @ AinvH), None, None


def _each(fn, info, *arrays):
    """fn matrix by matrix where a batch holds failed matrices (info > 0): those get NaN (torch leaves
    whatever LAPACK stopped at), the others their result."""
    batch = info.shape
    flat = [x.reshape(-1, *x.shape[-2:]) for x in arrays]
    out = np.full(flat[-1].shape, np.nan, dtype=arrays[0].dtype)
    for k, bad in enumerate(info.reshape(-1)):
        if not bad:
            out[k] = fn(*(x[k] for x in flat))
    return out.reshape(batch + arrays[-1].shape[-2:])


def inv_ex(A, *, check_errors=False):
    _check(A, "linalg.inv_ex")
    return _inv_ex_t(*_InvEx.apply(A, check_errors, "linalg.inv_ex"))


def inv(A):
    _check(A, "linalg.inv")
    return _InvEx.apply(A, True, "linalg.inv")[0]


# ------------------------------------------------------------------------------------------ determinants
class _Det(Function):
    _node_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, A):
        d = _t(np.linalg.det(_np(A)), A)
        ctx.save_for_backward(A, d)
        return d

    @staticmethod
    def backward(ctx, g):
        A, d = ctx.saved_tensors
        if _needs_grad(A, g):
            d = det(A)
        # d det(A) / dA is the cofactor matrix det(A) A^{-T}; torch takes it from the SVD where A is
        # singular: det(U) det(Vh) U diag(prod_{j != i} s_j) Vh, which stays finite
        if not bool((d == 0).any()):
            return (g * d).unsqueeze(-1).unsqueeze(-2) * _mH(inv(A))
        U, S, Vh = svd(A, full_matrices=False)
        n = S.shape[-1]
        if n == 0:
            return A * 0
        # prod_{j != i} s_j without dividing by zero: products of the prefixes and suffixes
        one = S[..., :1] * 0 + 1
        pre = [one]
        for i in range(1, n):
            pre.append(pre[-1] * S[..., i - 1:i])
        suf = [one]
        for i in range(n - 2, -1, -1):
            suf.insert(0, suf[0] * S[..., i + 1:i + 2])
        from . import cat
        others = cat([p * s for p, s in zip(pre, suf)], -1)
        sign = det(U) * det(Vh)
        c = (g * sign).unsqueeze(-1).unsqueeze(-2)
        return c * ((U * others.unsqueeze(-2)) @ Vh)


def det(A):
    _check(A, "linalg.det")
    return _Det.apply(A)


class _Slogdet(Function):
    _node_name = "LinalgSlogdetBackward0"

    @staticmethod
    def forward(ctx, A):
        sign, lad = np.linalg.slogdet(_np(A))
        s, lad = _t(sign, A), _t(lad, A)
        ctx.mark_non_differentiable(s)
        ctx.save_for_backward(A)
        return s, lad

    @staticmethod
    def backward(ctx, _gsign, glad):
        A, = ctx.saved_tensors
        # d log|det A| / dA = A^{-T}; the sign is locally constant (real input)
        return glad.unsqueeze(-1).unsqueeze(-2) * _mH(inv_ex(A).inverse)


def slogdet(A):
    _check(A, "linalg.slogdet")
    return _slogdet_t(*_Slogdet.apply(A))


# ------------------------------------------------------------------------------------------ solve
def _solve_shapes(A, B, left, fn):
    """torch's vector-or-matrix reading of B, and its shape errors; returns B as matrices, is_vector."""
    vector = B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    Bm = B.unsqueeze(-1) if vector else B
    n = A.shape[-1]
    ok = Bm.shape[-2] == n if left else Bm.shape[-1] == n
    if not ok:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{fn}: Incompatible shapes of A and B for the equation {eq} "
                           f"({A.shape[-2]}x{A.shape[-1]} and {Bm.shape[-2]}x{Bm.shape[-1]})")
    _broadcast_shape(Bm.shape[:-2], A.shape[:-2])  # torch names B's batch "tensor a" here
    return Bm, vector


class _SolveEx(Function):
    _node_name = "LinalgSolveExBackward0"

    @staticmethod
    def forward(ctx, A, B, left, check_errors, vector):
        a, b = _np(A), _np(B)
        if vector:
            b = b[..., None]
        if not left:  # X A = B  <=>  A^T X^T = B^T
            a, b = np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a = np.broadcast_to(a, batch + a.shape[-2:])
        b = np.broadcast_to(b, batch + b.shape[-2:])
        info = np.zeros(batch, dtype=np.int32)
        try:
            x = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            info = _factor_info(np.swapaxes(a, -1, -2) if not left else a, "LAPACKE_?getrf")
            if check_errors:
                _batch_error(info, lambda i: "The solver failed because the input matrix is singular.",
                             "torch.linalg.solve")
            x = _each(np.linalg.solve, info, a, b)
        if not left:
            x = np.swapaxes(x, -1, -2)
        if vector:
            x = x[..., 0]
        X = _t(x, A)
        info_t = _t(info, A, int32)
        ctx.mark_non_differentiable(info_t)
        ctx.save_for_backward(A, B, X)
        ctx.flags = (left, vector)
        return X, info_t

    @staticmethod
    def backward(ctx, g, _ginfo):
        A, B, X = ctx.saved_tensors
        left, vector = ctx.flags
        if _needs_grad(A, B, g):
            X = solve(A, B, left=left)
        if vector:
            g, X = g.unsqueeze(-1), X.unsqueeze(-1)
        # AX = B: gB = A^{-H} g, gA = -gB X^H;  XA = B: gB = g A^{-H}, gA = -X^H gB
        gB = solve(_mH(A), g, left=left)
        gA = -(gB @ _mH(X)) if left else -(_mH(X) @ gB)
        if vector:
            gB = gB.squeeze(-1)
        return _sum_to(gA, A.shape), _sum_to(gB, B.shape), None, None, None


def solve_ex(A, B, *, left=True, check_errors=False):
    _check(A, "linalg.solve")
    _check_tensor(B, "linalg.solve", "B")
    _check_float(B, "linalg.solve")
    _same_dtype(A, B, "linalg.solve")
    _, vector = _solve_shapes(A, B, left, "linalg.solve")
    return _solve_ex_t(*_SolveEx.apply(A, B, left, check_errors, vector))


def solve(A, B, *, left=True):
    _check(A, "linalg.solve")
    _check_tensor(B, "linalg.solve", "B")
    _check_float(B, "linalg.solve")
    _same_dtype(A, B, "linalg.solve")
    _, vector = _solve_shapes(A, B, left, "linalg.solve")
    return _SolveEx.apply(A, B, left, True, vector)[0]


class _SolveTriangular(Function):
    _node_name = "LinalgSolveTriangularBackward0"

    @staticmethod
    def forward(ctx, A, B, upper, left, unitriangular):
        X = _t(_trsm(_np(A), _np(B), upper, left, unitriangular), A)
        ctx.save_for_backward(A, B, X)
        ctx.flags = (upper, left, unitriangular)
        return X

    @staticmethod
    def backward(ctx, g):
        A, B, X = ctx.saved_tensors
        upper, left, unit = ctx.flags
        if _needs_grad(A, B, g):
            X = solve_triangular(A, B, upper=upper, left=left, unitriangular=unit)
        gB = solve_triangular(_mH(A), g, upper=not upper, left=left, unitriangular=unit)
        gA = -(gB @ _mH(X)) if left else -(_mH(X) @ gB)
        gA = gA.triu(int(unit)) if upper else gA.tril(-int(unit))  # only the triangle that was read
        return _sum_to(gA, A.shape), _sum_to(gB, B.shape), None, None, None


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    fn = "linalg.solve_triangular"
    _check(A, fn)
    _check_tensor(B, fn, "B")
    if B.dim() < 2:
        raise RuntimeError(f"{fn}: The input tensor B must have at least 2 dimensions.")
    _check_float(B, fn)
    _same_dtype(A, B, fn)
    _solve_shapes(A, B, left, fn)
    return _SolveTriangular.apply(A, B, bool(upper), bool(left), bool(unitriangular))


# ------------------------------------------------------------------------------------------ cholesky
class _CholeskyEx(Function):
    _node_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, A, upper, check_errors, fn):
        a = _np(A)
        if upper:  # reads the upper triangle, as torch: U = chol(A^H)^H
            a = np.swapaxes(a, -1, -2)
        info = np.zeros(a.shape[:-2], dtype=np.int32)
        try:
            L = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            info = _factor_info(a, "LAPACKE_?potrf")
            if check_errors:
                _batch_error(info, lambda i: "The factorization could not be completed because the input is not "
                             f"positive-definite (the leading minor of order {i} is not positive-definite).", fn)
            L = _each(np.linalg.cholesky, info, a)
        if upper:
            L = np.swapaxes(L, -1, -2)
        out = _t(L, A)
        info_t = _t(info, A, int32)
        ctx.mark_non_differentiable(info_t)
        ctx.save_for_backward(A, out)
        ctx.upper = upper
        return out, info_t

    @staticmethod
    def backward(ctx, gL, _ginfo):
        A, L = ctx.saved_tensors
        upper = ctx.upper
        if _needs_grad(A, gL):
            L = cholesky(A, upper=upper)
        if upper:
            L, gL = _mH(L), _mH(gL)
        # Murray (2016), as torch: gA = L^{-H} Phi(L^H gL) L^{-1}, Phi = symmetrised lower triangle
        gA = (_mH(L) @ gL).tril()
        gA = 0.5 * (gA + _mH(gA.tril(-1)))
        gA = solve_triangular(_mH(L), gA, upper=True, left=True)
        gA = solve_triangular(L, gA, upper=False, left=False)
        return gA, None, None, None


class _Cholesky(_CholeskyEx):
    _node_name = "CholeskyBackward0"


def cholesky_ex(A, *, upper=False, check_errors=False):
    _check(A, "linalg.cholesky")
    return _cholesky_ex_t(*_CholeskyEx.apply(A, bool(upper), check_errors, "linalg.cholesky"))


def cholesky(A, *, upper=False):
    _check(A, "linalg.cholesky")
    return _CholeskyEx.apply(A, bool(upper), True, "linalg.cholesky")[0]


# ------------------------------------------------------------------------------------------ qr
def _qr_square_backward(gQ, gR, Q, R):
    """m >= n: gA = [gQ + Q copyltu(M)] R^{-H}, M = R gR^H - gQ^H Q."""
    M = (R @ _mH(gR)) - (_mH(gQ) @ Q)
    M = M.tril() + _mH(M.tril(-1))  # copy the lower triangle to the upper one
    return solve_triangular(_mH(R), gQ + Q @ M, upper=False, left=False)  # X R^H = ...


class _Qr(Function):
    _node_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, A, mode):
        a = _np(A)
        if mode == "r":
            Q, R = _t(np.zeros((0,), a.dtype), A), _t(np.linalg.qr(a, mode="r"), A)
        else:
            q, r = np.linalg.qr(a, mode=mode)
            Q, R = _t(q, A), _t(r, A)
        ctx.save_for_backward(A, Q, R)
        ctx.mode = mode
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        A, Q, R = ctx.saved_tensors
        m, n = A.shape[-2:]
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if _needs_grad(A, gQ, gR):
            Q, R = qr(A, mode=ctx.mode)
        gQ = gQ if gQ is not None else Q * 0
        gR = gR if gR is not None else R * 0
        if m >= n:
            return _qr_square_backward(gQ, gR, Q, R), None
        # m < n: A = [X | Y] with X = Q U (square QR) and Y = Q V; V's gradient moves onto Q through Y
        from . import cat
        U, gU, gV = R[..., :, :m], gR[..., :, :m], gR[..., :, m:]
        Y = A[..., :, m:]
        gX = _qr_square_backward(gQ + Y @ _mH(gV), gU, Q, U)
        return cat([gX, Q @ gV], -1), None


def qr(A, mode="reduced"):
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    _check(A, "linalg.qr", square=False)
    Q, R = (_Qr.apply(A, mode) if _needs_grad(A) else _Qr.forward(_Ctx(), A, mode))
    return _qr_t(Q, R)


class _Ctx:
    """A throwaway ctx for running a Function's forward without recording (no input needs a gradient)."""

    def save_for_backward(self, *t):
        pass

    def mark_non_differentiable(self, *t):
        pass

    def set_materialize_grads(self, v):
        pass


# ------------------------------------------------------------------------------------------ svd
class _Svd(Function):
    _node_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, A, full_matrices):
        ctx.set_materialize_grads(False)  # an unused U / Vh must read as absent, not as zeros (0/0 below)
        u, s, vh = np.linalg.svd(_np(A), full_matrices=full_matrices)
        U, S, Vh = _t(u, A), _t(s, A), _t(vh, A)
        ctx.save_for_backward(A, U, S, Vh)
        ctx.full = full_matrices
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        A, U, S, Vh = ctx.saved_tensors
        if _needs_grad(A, gU, gS, gVh):
            U, S, Vh = svd(A, full_matrices=ctx.full)
        k = S.shape[-1]
        if ctx.full:  # as torch: only the first k singular vectors enter (the others are not unique)
            U, Vh = U[..., :, :k], Vh[..., :k, :]
            gU = gU[..., :, :k] if gU is not None else None
            gVh = gVh[..., :k, :] if gVh is not None else None
        return _svd_backward(gU, gS, gVh, U, S, Vh), None


def _svd_backward(gU, gS, gVh, U, S, Vh):
    """torch's svd_backward for the reduced SVD of a real matrix."""
    m, n = U.shape[-2], Vh.shape[-1]
    if gU is None and gVh is None:
        if gS is None:
            return None
        return U @ (gS.unsqueeze(-1) * Vh) if m >= n else (U * gS.unsqueeze(-2)) @ Vh
    k = S.shape[-1]
    S2 = S * S
    eye = _eye(k, S)
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + eye  # E_jk = S_k^2 - S_j^2, 1 on the diagonal
    UhgU = _sym(_mH(U) @ gU) if gU is not None else None
    VhgV = _sym(Vh @ _mH(gVh)) if gVh is not None else None
    if UhgU is not None and VhgV is not None:
        gA = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E
    elif UhgU is not None:
        gA = (UhgU / E) * S.unsqueeze(-2)
    else:
        gA = S.unsqueeze(-1) * (VhgV / E)
    if gS is not None:
        gA = gA + gS.diag_embed()
    if m > k and gU is not None:
        gA = U @ gA
        gUSinv = gU / S.unsqueeze(-2)
        gA = gA + gUSinv - U @ (_mH(U) @ gUSinv)
        return gA @ Vh
    if n > k and gVh is not None:
        gA = gA @ Vh
        SinvgVh = gVh / S.unsqueeze(-1)
        gA = gA + SinvgVh - (SinvgVh @ _mH(Vh)) @ Vh
        return U @ gA
    return U @ (gA @ Vh) if m >= n else (U @ gA) @ Vh


def svd(A, full_matrices=True, *, driver=None):
    _check(A, "linalg.svd", square=False)
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs with "
                           "cuSOLVER backend.")
    if _needs_grad(A):
        return _svd_t(*_Svd.apply(A, bool(full_matrices)))
    return _svd_t(*_Svd.forward(_Ctx(), A, bool(full_matrices)))


def svdvals(A, *, driver=None):
    _check(A, "linalg.svdvals", square=False)
    if _needs_grad(A):
        return _Svd.apply(A, False)[1]
    return _t(np.linalg.svd(_np(A), compute_uv=False), A)


# ------------------------------------------------------------------------------------------ eigh
class _Eigh(Function):
    _node_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, A, UPLO):
        ctx.set_materialize_grads(False)
        w, v = np.linalg.eigh(_np(A), UPLO=UPLO)
        L, V = _t(w, A), _t(v, A)
        ctx.save_for_backward(A, L, V)
        ctx.uplo = UPLO
        return L, V

    @staticmethod
    def backward(ctx, gL, gV):
        A, L, V = ctx.saved_tensors
        if _needs_grad(A, gL, gV):
            L, V = eigh(A, UPLO=ctx.uplo)
        # torch's linalg_eig_backward, Hermitian case: gA = V (diag(gL) + (V^H gV) / E) V^H,
        # E_ij = L_j - L_i, the diagonal of the second term replaced by gL
        if gV is None:
            return (V * gL.unsqueeze(-2)) @ _mH(V), None
        n = L.shape[-1]
        eye = _eye(n, L)
        E = L.unsqueeze(-2) - L.unsqueeze(-1) + eye
        gA = ((_mH(V) @ gV) / E) * (1 - eye)
        if gL is not None:
            gA = gA + gL.diag_embed()
        return V @ (gA @ _mH(V)), None


def _check_uplo(UPLO):
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO.upper()


def eigh(A, UPLO="L"):
    _check(A, "linalg.eigh")
    UPLO = _check_uplo(UPLO)
    if _needs_grad(A):
        return _eigh_t(*_Eigh.apply(A, UPLO))
    return _eigh_t(*_Eigh.forward(_Ctx(), A, UPLO))


def eigvalsh(A, UPLO="L"):
    _check(A, "linalg.eigvalsh")
    UPLO = _check_uplo(UPLO)
    if _needs_grad(A):
        return _Eigh.apply(A, UPLO)[0]
    return _t(np.linalg.eigvalsh(_np(A), UPLO=UPLO), A)


# ------------------------------------------------------------------------------------------ pinv, rank, lstsq
def _tolerances(S, m, n, atol, rtol, dtype):
    """torch's cut-off for singular values: max(atol, rtol * sigma_max), rtol = eps * max(m, n) when neither
    tolerance is given (0 when only atol is)."""
    atol_ = 0.0 if atol is None else (_np(atol) if isinstance(atol, _C.TensorBase) else atol)
    if rtol is None:
        rtol = np.finfo(dtype).eps * max(m, n) if atol is None else 0.0
    rtol_ = _np(rtol) if isinstance(rtol, _C.TensorBase) else rtol
    smax = S[..., :1] if S.shape[-1] else np.zeros(S.shape[:-1] + (1,), S.dtype)
    return np.maximum(np.expand_dims(atol_, -1) if np.ndim(atol_) else atol_,
                      (np.expand_dims(rtol_, -1) if np.ndim(rtol_) else rtol_) * smax)


def _pinv_np(a, atol, rtol, hermitian):
    m, n = a.shape[-2:]
    if hermitian:
        w, v = np.linalg.eigh(a)
        s = np.abs(w)
        order = np.argsort(-s, axis=-1)
        tol = _tolerances(np.take_along_axis(s, order, -1), m, n, atol, rtol, a.dtype)
        winv = np.where(s > tol, 1 / np.where(w == 0, 1, w), 0).astype(a.dtype)
        return (v * winv[..., None, :]) @ np.swapaxes(v, -1, -2)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    tol = _tolerances(s, m, n, atol, rtol, a.dtype)
    sinv = np.where(s > tol, 1 / np.where(s == 0, 1, s), 0).astype(a.dtype)
    return np.swapaxes(vh, -1, -2) @ (sinv[..., :, None] * np.swapaxes(u, -1, -2))


class _Pinv(Function):
    _node_name = "LinalgPinvBackward0"

    @staticmethod
    def forward(ctx, A, atol, rtol, hermitian):
        P = _t(_pinv_np(_np(A), atol, rtol, hermitian), A)
        ctx.save_for_backward(A, P)
        ctx.args = (atol, rtol, hermitian)
        return P

    @staticmethod
    def backward(ctx, g):
        A, P = ctx.saved_tensors
        if _needs_grad(A, g):
            P = _Pinv.apply(A, *ctx.args)
        return _pinv_backward(g, P, A), None, None, None


def _pinv_backward(grad, pinvA, A):
    """torch's pinv_backward."""
    m, n = A.shape[-2:]
    pinvAh, gradh = _mH(pinvA), _mH(grad)
    if m <= n:
        K = gradh @ pinvA
        KpinvAh = K @ pinvAh
        return -_mH(pinvA @ K) + KpinvAh - (A @ pinvA) @ KpinvAh + (pinvAh @ pinvA) @ (gradh - K @ A)
    K = pinvA @ gradh
    pinvAhK = pinvAh @ K
    return -_mH(K @ pinvA) + ((gradh - A @ K) @ pinvA) @ pinvAh + pinvAhK - (pinvAhK @ pinvA) @ A


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None):
    _check_tensor(A, "linalg.pinv", "input")
    if A.dim() < 2 or A.dtype not in (float32, float64):
        raise RuntimeError(f"linalg.pinv({SCALAR_TYPE_NAMES.get(A.dtype, A.dtype)}{{{list(A.shape)}}}): expected a "
                           "tensor with 2 or more dimensions of float, double, cfloat or cdouble types")
    if rcond is not None:  # the legacy positional tolerance is rtol
        if rtol is not None:
            raise RuntimeError("linalg.pinv: rcond and rtol cannot both be given")
        rtol, atol = rcond, (0.0 if atol is None else atol)
    if hermitian and A.shape[-1] != A.shape[-2]:
        _check(A, "linalg.pinv")
    return _Pinv.apply(A, atol, rtol, bool(hermitian))


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    _check_tensor(A, "linalg.matrix_rank", "input")
    if A.dim() < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 dimensions.")
    _check_float(A, "torch.linalg.matrix_rank")
    if tol is not None:
        atol, rtol = tol, (0.0 if rtol is None else rtol)
    a = _np(A)
    s = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
    s = -np.sort(-s, axis=-1)
    tol_ = _tolerances(s, a.shape[-2], a.shape[-1], atol, rtol, a.dtype)
    return _t((s > tol_).sum(-1), A, int64)


class _Lstsq(Function):
    _node_name = "LinalgLstsqBackward0"

    @staticmethod
    def forward(ctx, A, B, rcond, driver, vector):
        a, b = _np(A), _np(B)
        if vector:
            b = b[..., None]
        m, n = a.shape[-2:]
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a = np.broadcast_to(a, batch + a.shape[-2:])
        b = np.broadcast_to(b, batch + b.shape[-2:])
        # the minimum-norm solution from the SVD (LAPACK gelsd's method); gelsy / gels agree on full-rank input
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        rc = np.finfo(a.dtype).eps * max(m, n) if rcond is None else rcond
        keep = s > rc * (s[..., :1] if s.shape[-1] else 0)
        sinv = np.where(keep, 1 / np.where(s == 0, 1, s), 0).astype(a.dtype)
        x = np.swapaxes(vh, -1, -2) @ (sinv[..., :, None] * (np.swapaxes(u, -1, -2) @ b))
        rank = keep.sum(-1)
        empty = np.zeros((0,), a.dtype)
        res = empty
        if driver != "gelsy" and m > n and bool(np.all(rank == n)):
            res = ((a @ x - b) ** 2).sum(-2)
            if vector:
                res = res[..., 0]
        X = _t(x[..., 0] if vector else x, A)
        outs = (X, _t(res, A), _t(rank, A, int64) if driver != "gels" else _t(np.zeros((0,), np.int64), A, int64),
                _t(s, A) if driver in ("gelsd", "gelss") else _t(empty, A))
        # the residuals' gradient is not computed by torch either: made non-differentiable here, so that a
        # loss on them raises instead of getting a silent zero
        ctx.mark_non_differentiable(*outs[1:])
        ctx.save_for_backward(A, B)
        ctx.vector = vector
        return outs

    @staticmethod
    def backward(ctx, gX, *_):
        A, B = ctx.saved_tensors
        vector = ctx.vector
        # torch's linalg_lstsq_backward: X = pinv(A) B
        P = pinv(A)
        if vector:
            gX, B = gX.unsqueeze(-1), B.unsqueeze(-1)
        gA = _pinv_backward(gX @ _mH(B), P, A)
        gB = _mH(P) @ gX
        if vector:
            gB = gB.squeeze(-1)
        return _sum_to(gA, A.shape), _sum_to(gB, B.shape if not vector else B.shape[:-1]), None, None, None


def lstsq(A, B, rcond=None, *, driver=None):
    fn = "torch.linalg.lstsq"
    _check_tensor(A, "linalg.lstsq", "self")
    _check_tensor(B, "linalg.lstsq", "b")
    if A.dim() < 2:
        raise RuntimeError(f"{fn}: input must have at least 2 dimensions.")
    _check_float(A, fn)
    if A.dtype != B.dtype:
        raise RuntimeError(f"{fn}: Expected input and other to have the same dtype, but got input's dtype "
                           f"{SCALAR_TYPE_NAMES[A.dtype]} and other's dtype {SCALAR_TYPE_NAMES[B.dtype]}")
    if not (A.dim() >= B.dim() and A.dim() - B.dim() <= 1):
        raise RuntimeError(f"{fn}: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    vector = B.dim() == A.dim() - 1
    if (B.shape[-1] if vector else B.shape[-2]) != A.shape[-2]:
        raise RuntimeError(f"{fn}: input.size(-2) should match other.size({-1 if vector else -2})")
    _broadcast_shape(A.shape[:-2], B.shape[:-1 if vector else -2])
    if driver is None:
        driver = "gelsy"
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"{fn}: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    return _lstsq_t(*_Lstsq.apply(A, B, rcond, driver, vector))


# ------------------------------------------------------------------------------------------ lu
def _getrf(a):
    """LAPACK getrf on each matrix of the batch (column-major, as torch): LU packed (m, n), the 1-based
    int32 pivots (min(m, n)) and info, all as NumPy."""
    f = _lapack("LAPACKE_?getrf", a.dtype)
    f.restype = ctypes.c_int
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    flat = a.reshape(-1, m, n)
    LU = np.empty(flat.shape, a.dtype)
    piv = np.zeros((flat.shape[0], k), np.int32)
    info = np.zeros(flat.shape[0], np.int32)
    for i in range(flat.shape[0]):
        x = np.array(flat[i], order="F", copy=True)
        p = np.zeros(max(k, 1), np.int32)
        info[i] = f(102, m, n, _ptr(x), max(m, 1), _ptr(p))
        LU[i], piv[i] = x, p[:k]
    return LU.reshape(batch + (m, n)), piv.reshape(batch + (k,)), info.reshape(batch)


def _perm_matrix(piv, m, dtype):
    """P with A = P L U from getrf's row interchanges (row i swapped with row piv[i] - 1, in order)."""
    batch, k = piv.shape[:-1], piv.shape[-1]
    pf = piv.reshape(-1, k)
    P = np.zeros((pf.shape[0], m, m), dtype)
    for b in range(pf.shape[0]):
        perm = np.arange(m)
        for i, j in enumerate(pf[b] - 1):
            perm[i], perm[j] = perm[j], perm[i]
        P[b, perm, np.arange(m)] = 1
    return P.reshape(batch + (m, m))


def _unpack(LU, k):
    """L (m x k, unit lower) and U (k x n, upper) from the packed factor, in differentiable ops."""
    m = LU.shape[-2]
    L = LU[..., :, :k].tril(-1) + _eye(m, LU)[:, :k]
    return L, LU[..., :k, :].triu()


def _lu_backward(gL, gU, P, L, U):
    """torch's linalg_lu_backward for A = P L U (square, wide and tall A)."""
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    gL = gL if gL is not None else L * 0
    gU = gU if gU is not None else U * 0
    if m == n:
        phi = (_mH(L) @ gL).tril(-1) + (gU @ _mH(U)).triu()
        gA = solve_triangular(_mH(L), phi, upper=True, unitriangular=True)
        return P @ solve_triangular(_mH(U), gA, upper=False, left=False)
    from . import cat
    if m < n:  # A = P L [U1 | U2]: U2 = L^{-1} P^T A2 moves gU2 onto L
        U1, gU1, U2, gU2 = U[..., :, :k], gU[..., :, :k], U[..., :, k:], gU[..., :, k:]
        phi = (_mH(L) @ gL - gU2 @ _mH(U2)).tril(-1) + (gU1 @ _mH(U1)).triu()
        g1 = solve_triangular(_mH(L), phi, upper=True, unitriangular=True)
        g1 = solve_triangular(_mH(U1), g1, upper=False, left=False)
        g2 = solve_triangular(_mH(L), gU2, upper=True, unitriangular=True)
        return P @ cat([g1, g2], -1)
    # m > n: P^T A = [L1; L2] U: L2 = (P^T A)_2 U^{-1} moves gL2 onto U
    L1, gL1, L2, gL2 = L[..., :k, :], gL[..., :k, :], L[..., k:, :], gL[..., k:, :]
    phi = (_mH(L1) @ gL1).tril(-1) + (gU @ _mH(U) - _mH(L2) @ gL2).triu()
    g1 = solve_triangular(_mH(L1), phi, upper=True, unitriangular=True)
    g1 = solve_triangular(_mH(U), g1, upper=False, left=False)
    g2 = solve_triangular(_mH(U), gL2, upper=False, left=False)
    return P @ cat([g1, g2], -2)


class _LuFactorEx(Function):
    _node_name = "LinalgLuFactorExBackward0"

    @staticmethod
    def forward(ctx, A, check_errors, fn):
        LU, piv, info = _getrf(_np(A))
        if check_errors:
            _batch_error(info, lambda i: f"U[{i},{i}] is zero and using it on lu_solve would result in a division "
                         "by zero. If you still want to perform the factorization, consider calling "
                         "linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)", fn, RuntimeError)  # as torch
        LU_t, piv_t, info_t = _t(LU, A), _t(piv, A, int32), _t(info, A, int32)
        ctx.mark_non_differentiable(piv_t, info_t)
        ctx.save_for_backward(A, LU_t, piv_t)
        return LU_t, piv_t, info_t

    @staticmethod
    def backward(ctx, gLU, _gp, _gi):
        A, LU, piv = ctx.saved_tensors
        if _needs_grad(A, gLU):
            LU = lu_factor_ex(A).LU
        k = min(A.shape[-2:])
        L, U = _unpack(LU, k)
        P = _t(_perm_matrix(_np(piv), A.shape[-2], _np(A).dtype), A)
        return _lu_backward(gLU[..., :, :k].tril(-1), gLU[..., :k, :].triu(), P, L, U), None, None


class _Lu(Function):
    _node_name = "LinalgLuBackward0"

    @staticmethod
    def forward(ctx, A):
        LU, piv, _ = _getrf(_np(A))
        m, n = A.shape[-2:]
        k = min(m, n)
        P = _perm_matrix(piv, m, LU.dtype)
        L = np.tril(LU[..., :, :k], -1) + np.eye(m, k, dtype=LU.dtype)
        P_t, L_t, U_t = _t(P, A), _t(L, A), _t(np.triu(LU[..., :k, :]), A)
        ctx.mark_non_differentiable(P_t)
        ctx.save_for_backward(A, P_t, L_t, U_t)
        return P_t, L_t, U_t

    @staticmethod
    def backward(ctx, _gP, gL, gU):
        A, P, L, U = ctx.saved_tensors
        if _needs_grad(A, gL, gU):
            P, L, U = lu(A)
        return _lu_backward(gL, gU, P, L, U)


def _check_lu(A, pivot, fn):
    _check_tensor(A, fn)
    if A.dim() < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} "
                           "instead")
    _check_float(A, fn)
    if not pivot:
        raise RuntimeError(f"{fn}: LU without pivoting is not implemented on the CPU")


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    _check_lu(A, pivot, "linalg.lu_factor")
    return _lu_factor_ex_t(*_LuFactorEx.apply(A, check_errors, "torch.linalg.lu_factor_ex"))


def lu_factor(A, *, pivot=True):
    _check_lu(A, pivot, "linalg.lu_factor")
    return _lu_factor_t(*_LuFactorEx.apply(A, True, "torch.linalg.lu_factor")[:2])


def lu(A, *, pivot=True):
    _check_lu(A, pivot, "linalg.lu")
    return _lu_t(*_Lu.apply(A))


def _torch_lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    empty = _t(np.zeros((0,), _np(LU_data).dtype), LU_data)
    L, U = _unpack(LU_data, k) if unpack_data else (empty, empty)
    P = _t(_perm_matrix(_np(LU_pivots), m, _np(LU_data).dtype), LU_data) if unpack_pivots else empty
    return _lu_unpack_t(P, L, U)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """A X = B (or X A = B, with A^H for adjoint) from A's lu_factor, as triangular solves in
    differentiable ops (gradients reach LU and B)."""
    fn = "linalg.lu_solve"
    _check(LU, fn)
    _check_tensor(B, fn, "B")
    if B.dim() < 2:
        raise RuntimeError(f"{fn}: The input tensor B must have at least 2 dimensions.")
    _same_dtype(LU, B, fn)
    _solve_shapes(LU, B, left, fn)
    P, L, U = _torch_lu_unpack(LU, pivots)
    if not adjoint and left:  # X = U^{-1} L^{-1} P^T B
        return solve_triangular(U, solve_triangular(L, _mH(P) @ B, upper=False, unitriangular=True), upper=True)
    if not adjoint:  # X P L U = B
        X = solve_triangular(L, solve_triangular(U, B, upper=True, left=False), upper=False, left=False,
                             unitriangular=True)
        return X @ _mH(P)
    if left:  # U^H L^H P^T X = B
        Y = solve_triangular(_mH(L), solve_triangular(_mH(U), B, upper=False), upper=True, unitriangular=True)
        return P @ Y
    # X U^H L^H P^T = B
    return solve_triangular(_mH(U), solve_triangular(_mH(L), B @ P, upper=True, left=False, unitriangular=True),
                            upper=False, left=False)


def _torch_lu(A, pivot=True, get_infos=False, out=None):
    LU, piv, info = (lu_factor_ex if get_infos else _lu_checked)(A, pivot=pivot)
    return _lu_with_info_t(LU, piv, info) if get_infos else (LU, piv)


def _lu_checked(A, pivot=True):
    _check_lu(A, pivot, "linalg.lu_factor")
    return _LuFactorEx.apply(A, True, "torch.linalg.lu_factor")


# ------------------------------------------------------------------------------------------ composites
def cond(A, p=None):
    """The condition number: sigma_max / sigma_min for p in (None, 2, -2) (inverted for -2), else
    norm(A, p) * norm(A^{-1}, p) (inf for singular A, as torch)."""
    _check(A, "linalg.cond", square=False)
    if p in (None, 2, -2):
        s = svdvals(A)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.cond(ord={p}): A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    Ainv, info = inv_ex(A)
    from . import where
    c = matrix_norm(A, p) * matrix_norm(Ainv, p)
    return where(info > 0, float("inf"), c)


def tensorinv(A, ind=2):
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    out_shape, in_shape = tuple(A.shape[ind:]), tuple(A.shape[:ind])
    p, q = math.prod(in_shape), math.prod(out_shape)
    if p != q:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {q} != {p}")
    return inv(A.reshape(p, q)).reshape(out_shape + in_shape)


def tensorsolve(A, B, dims=None):
    if dims is not None:
        nd = A.dim()
        dims = [d % nd for d in dims]
        A = A.permute(*[d for d in range(nd) if d not in dims], *dims)
    rest = tuple(A.shape[B.dim():])
    return solve(A.reshape(B.numel(), math.prod(rest)), B.reshape(-1)).reshape(rest)


def vander(x, N=None):
    """Columns x^0, x^1, ..., x^(N-1) (increasing powers, as torch.linalg.vander)."""
    if x.dim() < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension")
    n = x.shape[-1] if N is None else N
    if n < 0:
        raise RuntimeError("N must be greater than 1.")
    from . import cat
    one = (x * 0 + 1).unsqueeze(-1)
    if n <= 1:
        return one[..., :n]
    return cat([one, x.unsqueeze(-1).expand(*x.shape, n - 1).cumprod(-1)], -1)


def _complex_only(name):
    def fn(*args, **kwargs):
        raise NotImplementedError(f"minitorch: linalg.{name} returns complex tensors, and minitorch has no complex "
                                  "dtypes; for symmetric input use linalg.eigh / linalg.eigvalsh")
    fn.__name__ = name
    return fn


eig, eigvals = _complex_only("eig"), _complex_only("eigvals")


# ------------------------------------------------------------------------------------------ norms
def _norm_dtype(x, fn, dtype):
    _check_tensor(x, fn, "x")
    if dtype is not None:
        x = x.to(dtype)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{fn}: Expected a floating point or complex tensor as input. "
                           f"Got {SCALAR_TYPE_NAMES[x.dtype]}")
    return x


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    x = _norm_dtype(x, "linalg.vector_norm", dtype)
    if isinstance(dim, int):
        dim = (dim,)
    ord = float(ord)
    if x.numel() == 0 and (ord < 0 or ord == math.inf):
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord:g} norm on an empty tensor because the "
                           "operation does not have an identity")
    if dim is None or len(dim) == 0:
        dim = tuple(range(x.dim()))
        if not dim:
            return x.abs() if ord != 0 else (x != 0).to(x.dtype)
    return x.norm(p=ord, dim=tuple(dim), keepdim=keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    fn = "linalg.matrix_norm"
    _check_tensor(A, fn)
    if A.dim() < 2:
        raise RuntimeError(f"{fn}: The input tensor A must have at least 2 dimensions.")
    A = _norm_dtype(A, fn, dtype)
    if len(dim) != 2:
        raise RuntimeError(f"{fn}: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
    nd = A.dim()
    d0, d1 = (d % nd for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{fn}: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord == "nuc" or ord in (2, -2):
        rest = [d for d in range(nd) if d not in (d0, d1)]
        s = svdvals(A.permute(*rest, d0, d1))
        r = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        if keepdim:
            r = r.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
        return r
    if ord in (1, -1, math.inf, -math.inf):
        # 1: max column sum (sum over rows d0, max over d1); inf: max row sum
        s_dim, m_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
        r = A.abs().sum(s_dim, keepdim=True)
        r = r.amax(m_dim, keepdim=True) if ord > 0 else r.amin(m_dim, keepdim=True)
        return r if keepdim else r.squeeze(max(d0, d1)).squeeze(min(d0, d1))
    raise RuntimeError(f"{fn}: Order {ord} not supported.")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    _check_tensor(A, "linalg.norm")
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2 or (dim is None and ord is not None and A.dim() == 2) or \
            isinstance(ord, str):  # 'fro' / 'nuc' are matrix norms (a 1-D input raises as in torch)
        if dim is None:
            dim = (-2, -1)
        A = _norm_dtype(A, "linalg.matrix_norm", dtype)
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim)
    if dim is None and ord is not None and A.dim() != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                           f"Got {A.dim()}D.")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


# ------------------------------------------------------------------------------------------ products
def matrix_power(A, n):
    _check_tensor(A, "linalg.matrix_power")
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if n == 0:
        return _eye(A.shape[-1], A).expand(A.shape).clone()
    if n < 0:
        A = inv(A)
        n = -n
    # repeated squaring, as torch (the same products in the same order)
    z = result = None
    while n > 0:
        bit, n = n % 2, n // 2
        z = A if z is None else z @ z
        if bit:
            result = z.clone() if result is None else result @ z
    return result


def multi_dot(tensors):
    n = len(tensors)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    first, last = tensors[0], tensors[-1]
    for i, t in ((0, first), (n - 1, last)):
        if t.dim() not in (1, 2):
            which = "first" if i == 0 else "last"
            raise RuntimeError(f"multi_dot(): the {which} tensor must be 1D or 2D but got {t.dim()}D")
    for i in range(1, n - 1):
        if tensors[i].dim() != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {tensors[i].dim()}D")
    ms = [first.unsqueeze(0) if first.dim() == 1 else first] + list(tensors[1:-1]) + \
        [last.unsqueeze(-1) if last.dim() == 1 else last]
    for i in range(n - 1):
        if ms[i].shape[1] != ms[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(tensors[i].shape)} and "
                               f"{list(tensors[i + 1].shape)} cannot be multiplied")
    r = ms[0]
    for m in ms[1:]:
        r = r @ m
    if first.dim() == 1:
        r = r.squeeze(0)
    if last.dim() == 1:
        r = r.squeeze(-1)
    return r


def vecdot(x, y, *, dim=-1):
    for t in (x, y):
        _check_tensor(t, "linalg.vecdot", "x")
        if not t.dtype.is_floating_point:
            raise RuntimeError(f"linalg.vecdot: Expected a floating point or complex tensor as input. "
                               f"Got {SCALAR_TYPE_NAMES[t.dtype]}")
    return (x * y).sum(dim)


class _Cross(Function):
    _node_name = "LinalgCrossBackward0"

    @staticmethod
    def forward(ctx, a, b, dim):
        ctx.save_for_backward(a, b)
        ctx.dim = dim
        return _t(np.cross(_np(a), _np(b), axis=dim), a)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        d = ctx.dim
        return _sum_to(cross(b, g, dim=d), a.shape), _sum_to(cross(g, a, dim=d), b.shape), None


def cross(input, other, *, dim=-1):
    _check_tensor(input, "linalg.cross", "input")
    _check_tensor(other, "linalg.cross", "other")
    if input.dim() != other.dim():
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    nd = input.dim()
    if not -nd <= dim < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dim})")
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[dim]} and "
                           f"{other.shape[dim]}")
    if input.dtype != other.dtype:
        raise RuntimeError(f"expected scalar type {SCALAR_TYPE_NAMES[input.dtype]} but found "
                           f"{SCALAR_TYPE_NAMES[other.dtype]}")
    shape = _broadcast_shape(input.shape, other.shape)
    if input.dtype.is_floating_point:
        return _Cross.apply(input.expand(shape), other.expand(shape), dim % nd)
    return _t(np.cross(_np(input), _np(other), axis=dim), input)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    from ._composites import diagonal as _diagonal
    return _diagonal(A, offset, dim1, dim2)


# ------------------------------------------------------------------------------------------ torch.* forms
def _torch_logdet(input):
    _check(input, "logdet")
    sign, lad = slogdet(input)
    from . import where
    return where(sign == -1, float("nan"), lad)  # torch: log of a negative determinant is NaN


def _torch_slogdet(input):
    _check(input, "linalg.slogdet")
    return _top_slogdet_t(*_Slogdet.apply(input))


def _torch_pinverse(input, rcond=1e-15):
    return pinv(input, rtol=rcond)


def _torch_svd(input, some=True, compute_uv=True):
    _check(input, "linalg.svd", square=False)
    if not compute_uv:  # torch: zero-filled U (m x m) and V (n x n)
        m, n = input.shape[-2:]
        from ._creation import zeros
        z = lambda k: zeros(*input.shape[:-2], k, k, dtype=input.dtype, device=input.device)  # noqa: E731
        return _top_svd_t(z(m), svdvals(input), z(n))
    U, S, Vh = svd(input, full_matrices=not some)
    return _top_svd_t(U, S, _mH(Vh))


def _torch_qr(input, some=True):
    return _top_qr_t(*qr(input, "reduced" if some else "complete"))


def _torch_cholesky(input, upper=False):
    import warnings
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                  "PyTorch release.", UserWarning)
    _check(input, "cholesky")
    return _Cholesky.apply(input, bool(upper), True, "cholesky")[0]


def _torch_cholesky_solve(B, L, upper=False):
    """A^{-1} B from the Cholesky factor of A = L L^H (or U^H U): two triangular solves."""
    _check(L, "cholesky_solve")
    if upper:
        L = _mH(L)
    Y = solve_triangular(L, B, upper=False)
    return solve_triangular(_mH(L), Y, upper=True)


def _torch_cholesky_inverse(L, upper=False):
    _check(L, "cholesky_inverse")
    return _torch_cholesky_solve(_eye(L.shape[-1], L).expand(L.shape), L, upper)


def _torch_matrix_exp(A):
    """exp(A) by scaling and squaring with a degree-18 Taylor sum, in differentiable ops."""
    _check(A, "linalg.matrix_exp")
    a = _np(A)
    nrm = float(np.abs(a).sum(-2).max()) if a.size else 0.0
    s = max(0, int(math.ceil(math.log2(nrm))) + 1) if nrm > 0.5 else 0
    X = A / (2 ** s)
    term = _eye(A.shape[-1], A).expand(A.shape)
    result = term
    for k in range(1, 19):
        term = (term @ X) / k
        result = result + term
    for _ in range(s):
        result = result @ result
    return result


_TOP = {
    "inverse": inv, "det": det, "logdet": _torch_logdet, "slogdet": _torch_slogdet, "pinverse": _torch_pinverse,
    "svd": _torch_svd, "qr": _torch_qr, "cholesky": _torch_cholesky, "cholesky_solve": _torch_cholesky_solve,
    "cholesky_inverse": _torch_cholesky_inverse, "matrix_power": matrix_power, "matrix_exp": _torch_matrix_exp,
    "lu": _torch_lu, "lu_unpack": _torch_lu_unpack, "lu_solve": lambda b, LU_data, LU_pivots: lu_solve(
        LU_data, LU_pivots, b),
}
matrix_exp = _torch_matrix_exp

/* Matrix products: mm, bmm, matmul (PyTorch's full semantics), addmm, dot, outer.
 *
 * The CPU GEMM kernel (mt_cpu_gemm) calls OpenBLAS (cblas_sgemm / cblas_dgemm) for
 * float32/float64 and runs a plain loop for int32/int64. The ops are device-neutral:
 * they hand strided (e.g. transposed) operands to the device's gemm through its trans
 * flags and leading dimensions, iterate broadcast batch dimensions without
 * materialising them, and copy an operand to contiguous only when its last two
 * strides cannot be described to BLAS.
 *
 * Autograd: one derivative (mm_backward) serves MmBackward0, MvBackward0, BmmBackward0
 * and DotBackward0: ga = g @ b^T, gb = a^T @ g, summed over broadcast batch dims.
 * matmul's reshapes of the product get their own cheap nodes (UnsafeViewBackward0,
 * SqueezeBackward4) so grad_fn names follow PyTorch's.
 *
 * Ownership: every op returns a new reference or NULL (error set); tensor arguments
 * are borrowed and may be NULL. */
#include "ops.h"
#include "cpu_kernels.h"
#include "../core/iter.h"
#include "../autograd/autograd.h"
#include "tiles_avx512.h"
#include "../core/cpu_features.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#ifndef MT_NO_BLAS
#include <cblas.h>
/* The scipy-openblas32 wheel prefixes its symbols (build with -DMT_BLAS_PREFIX=scipy_);
 * a system OpenBLAS exports plain cblas_* names. */
#define MT_CBLAS_CAT2(p, n) p##n
#define MT_CBLAS_CAT(p, n) MT_CBLAS_CAT2(p, n)
#ifdef MT_BLAS_PREFIX
#define MT_CBLAS(name) MT_CBLAS_CAT(MT_BLAS_PREFIX, cblas_##name)
#else
#define MT_CBLAS(name) cblas_##name
#endif
#ifdef OPENBLAS_CONST /* OpenBLAS's cblas.h: blasint is int (or int64_t in an ILP64 build) */
typedef blasint mt_blasint;
#else
typedef int mt_blasint;
#endif
#define MT_BLASINT_MAX (sizeof(mt_blasint) == 4 ? (int64_t)INT32_MAX : INT64_MAX)
#endif

/* OpenBLAS runs on the thread that calls it: mt_cpu_gemm splits a large product over minitorch's OpenMP
 * threads itself. Two thread pools on the same cores (OpenBLAS's pthreads and OpenMP's) spin against each
 * other after each parallel region: the GPT training step of bench_transformer took 127 ms on 2 threads with
 * both pools, 78 ms with one. Called once, at import. */
void mt_blas_single_threaded(void) {
#if defined(MT_NO_BLAS)
#elif defined(MT_BLAS_PREFIX)
    extern void MT_CBLAS_CAT(MT_BLAS_PREFIX, openblas_set_num_threads)(int);
    MT_CBLAS_CAT(MT_BLAS_PREFIX, openblas_set_num_threads)(1);
#else
    extern void openblas_set_num_threads(int);
    openblas_set_num_threads(1);
#endif
}

#define P mt_pool

/* ======================================================================
 * CPU kernel
 * ====================================================================== */

/* Saturating double -> int64 for integer alpha/beta (no UB on NaN or huge values). */
static int64_t d2i(double v) {
    if (!(v == v)) return 0;
    if (v >= 9.2233720368547758e18) return INT64_MAX;
    if (v <= -9.2233720368547758e18) return INT64_MIN;
    return (int64_t)v;
}

/* C[m x n] = alpha * op(A) @ op(B) + beta * C (C not read when beta0). Rows of C are split across
 * threads; each thread accumulates one row in its own buffer. Integer types accumulate in uint64
 * (wrap-around, no signed overflow). */
#define DEFINE_GEMM_LOOP(NAME, T, ACC)                                                                     \
    static int NAME(bool ta, bool tb, int64_t m, int64_t n, int64_t k, ACC alpha, const T *A, int64_t lda, \
                    const T *B, int64_t ldb, ACC beta, bool beta0, T *C, int64_t ldc) {                    \
        bool par = m > 1 && (double)m * (double)n * (double)(k > 0 ? k : 1) > 32768.0;                     \
        int nt = par ? mt_num_threads() : 1;                                                               \
        ACC *buf = tb ? NULL : malloc(sizeof(ACC) * (size_t)(n > 0 ? n : 1) * (size_t)nt);                 \
        if (!tb && !buf) { mt_error(MT_ERR_MEMORY, "out of memory"); return -1; }                          \
        _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(static)")                           \
        for (int64_t i = 0; i < m; i++) {                                                                  \
            T *crow = C + i * ldc;                                                                         \
            if (!tb) {                                                                                     \
                int tid = 0;                                                                               \
                GEMM_TID(tid);                                                                             \
                ACC *acc = buf + (size_t)tid * (size_t)n;                                                  \
                for (int64_t j = 0; j < n; j++) acc[j] = 0;                                                \
                for (int64_t p = 0; p < k; p++) {                                                          \
                    ACC av = (ACC)(ta ? A[p * lda + i] : A[i * lda + p]);                                  \
                    const T *brow = B + p * ldb;                                                           \
                    for (int64_t j = 0; j < n; j++) acc[j] += av * (ACC)brow[j];                           \
                }                                                                                          \
                for (int64_t j = 0; j < n; j++)                                                            \
                    crow[j] = beta0 ? (T)(alpha * acc[j]) : (T)(alpha * acc[j] + beta * (ACC)crow[j]);     \
            } else {                                                                                       \
                for (int64_t j = 0; j < n; j++) {                                                          \
                    const T *bcol = B + j * ldb;                                                           \
                    ACC s = 0;                                                                             \
                    if (!ta)                                                                               \
                        for (int64_t p = 0; p < k; p++) s += (ACC)A[i * lda + p] * (ACC)bcol[p];           \
                    else                                                                                   \
                        for (int64_t p = 0; p < k; p++) s += (ACC)A[p * lda + i] * (ACC)bcol[p];           \
                    crow[j] = beta0 ? (T)(alpha * s) : (T)(alpha * s + beta * (ACC)crow[j]);               \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
        free(buf);                                                                                         \
        return 0;                                                                                          \
    }
#ifdef _OPENMP
#define GEMM_TID(t) ((t) = omp_get_thread_num())
#else
#define GEMM_TID(t) ((void)(t))
#endif
DEFINE_GEMM_LOOP(gemm_loop_i32, int32_t, uint64_t)
DEFINE_GEMM_LOOP(gemm_loop_i64, int64_t, uint64_t)
DEFINE_GEMM_LOOP(gemm_loop_f32, float, double)
DEFINE_GEMM_LOOP(gemm_loop_f64, double, double)

#ifndef MT_NO_BLAS
/* One float32/float64 product on the calling thread (OpenBLAS is single-threaded here). */
static void blas_gemm(mt_dtype dtype, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const void *a,
                      int64_t lda, const void *b, int64_t ldb, double beta, void *c, int64_t ldc) {
    enum CBLAS_TRANSPOSE opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
    if (dtype == MT_FLOAT32)
        MT_CBLAS(sgemm)(CblasRowMajor, opa, opb, (mt_blasint)m, (mt_blasint)n, (mt_blasint)k, (float)alpha,
                        (const float *)a, (mt_blasint)lda, (const float *)b, (mt_blasint)ldb, (float)beta, (float *)c,
                        (mt_blasint)ldc);
    else
        MT_CBLAS(dgemm)(CblasRowMajor, opa, opb, (mt_blasint)m, (mt_blasint)n, (mt_blasint)k, alpha,
                        (const double *)a, (mt_blasint)lda, (const double *)b, (mt_blasint)ldb, beta, (double *)c,
                        (mt_blasint)ldc);
}
#endif

int mt_cpu_gemm(mt_dtype dtype, int64_t batch, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
                const void *a, int64_t lda, int64_t stride_a, const void *b, int64_t ldb, int64_t stride_b,
                double beta, void *c, int64_t ldc, int64_t stride_c) {
    if (batch <= 0 || m <= 0 || n <= 0) return 0;
    if (k < 0 || lda < (ta ? (m > 1 ? m : 1) : (k > 1 ? k : 1)) || ldb < (tb ? (k > 1 ? k : 1) : (n > 1 ? n : 1)) ||
        ldc < n) {
        mt_error(MT_ERR_RUNTIME, "gemm: invalid leading dimension (m=%lld n=%lld k=%lld lda=%lld ldb=%lld ldc=%lld)",
                 (long long)m, (long long)n, (long long)k, (long long)lda, (long long)ldb, (long long)ldc);
        return -1;
    }
    size_t es = mt_dtype_sizes[dtype];
    bool beta0 = beta == 0.0;
    /* float32 products of up to 2^25 multiply-adds run on the AVX-512 tiles of the LSTM loops:
     * OpenBLAS takes them at half its large-matrix rate (64 x 256 @ 256 x 768: 126 GFLOP/s here, the
     * tiles ~270); a vector times a large matrix keeps its split over the cores below, and fewer
     * than 16 columns (a matrix times a vector) go to BLAS: a tile would compute 32 */
    if (dtype == MT_FLOAT32 && k > 0 && n >= 16 && alpha == 1.0 && (beta0 || beta == 1.0) &&
        (double)m * (double)n * (double)k <= (double)((int64_t)1 << 25) && !(m == 1 && n * k >= ((int64_t)1 << 18)) &&
        mt_have_avx512()) {
        int nt = (double)m * (double)n * (double)k >= 131072.0 ? mt_num_threads() : 1;
        if (batch >= mt_num_threads() && mt_num_threads() > 1) {
            /* a batch of small products (attention's heads): one per thread; a thread team for each product
               cost more than the product (128 x 64 x 64 x 32 took 0.41 ms on 2 threads, 0.33 on 1) */
            int failed = 0;
#pragma omp parallel for num_threads(mt_num_threads()) schedule(static) reduction(| : failed)
            for (int64_t i = 0; i < batch; i++)
                failed |= mt_sgemm_tiles(ta, tb, m, n, k, (const float *)a + i * stride_a, lda,
                                         (const float *)b + i * stride_b, ldb, !beta0, (float *)c + i * stride_c, ldc,
                                         1) < 0;
            if (failed) mt_error(MT_ERR_MEMORY, "gemm: out of memory");
            return failed ? -1 : 0;
        }
        for (int64_t i = 0; i < batch; i++)
            if (mt_sgemm_tiles(ta, tb, m, n, k, (const float *)a + i * stride_a, lda, (const float *)b + i * stride_b,
                               ldb, !beta0, (float *)c + i * stride_c, ldc, nt) < 0)
                return -1;
        return 0;
    }
#ifndef MT_NO_BLAS
    bool blas = (dtype == MT_FLOAT32 || dtype == MT_FLOAT64) && k > 0 && m <= MT_BLASINT_MAX &&
                n <= MT_BLASINT_MAX && k <= MT_BLASINT_MAX && lda <= MT_BLASINT_MAX && ldb <= MT_BLASINT_MAX &&
                ldc <= MT_BLASINT_MAX;
    if (blas) {
        int nt = mt_num_threads();
        if ((double)m * (double)n * (double)k * (double)batch < (double)(1 << 18)) nt = 1;
        if (nt > 1 && batch >= nt) { /* whole products per thread */
#pragma omp parallel for num_threads(nt) schedule(static)
            for (int64_t i = 0; i < batch; i++)
                blas_gemm(dtype, ta, tb, m, n, k, alpha, (const char *)a + (size_t)(i * stride_a) * es, lda,
                          (const char *)b + (size_t)(i * stride_b) * es, ldb, beta, (char *)c + (size_t)(i * stride_c) * es,
                          ldc);
            return 0;
        }
        /* one product at a time, its larger side of C split into nt blocks (columns in multiples of 16:
           a vector times a large matrix, an RNN step at batch 1, streams the matrix from every core) */
        bool by_rows = m >= n;
        int64_t len = by_rows ? m : n, align = by_rows ? 1 : 16;
        if (nt > 1 && len < 2 * align * nt) nt = (int)(len / (2 * align)) > 1 ? (int)(len / (2 * align)) : 1;
        for (int64_t i = 0; i < batch; i++) {
            const char *pa = (const char *)a + (size_t)(i * stride_a) * es;
            const char *pb = (const char *)b + (size_t)(i * stride_b) * es;
            char *pc = (char *)c + (size_t)(i * stride_c) * es;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
            for (int ti = 0; ti < nt; ti++) {
                int64_t s0 = len * ti / nt / align * align, s1 = ti == nt - 1 ? len : len * (ti + 1) / nt / align * align;
                if (s1 <= s0) continue;
                if (by_rows)
                    blas_gemm(dtype, ta, tb, s1 - s0, n, k, alpha, pa + (size_t)(ta ? s0 : s0 * lda) * es, lda, pb, ldb,
                              beta, pc + (size_t)(s0 * ldc) * es, ldc);
                else
                    blas_gemm(dtype, ta, tb, m, s1 - s0, k, alpha, pa, lda, pb + (size_t)(tb ? s0 * ldb : s0) * es, ldb,
                              beta, pc + (size_t)s0 * es, ldc);
            }
        }
        return 0;
    }
#endif
    uint64_t ai = (uint64_t)d2i(alpha), bi = (uint64_t)d2i(beta);
    for (int64_t i = 0; i < batch; i++) {
        const char *pa = (const char *)a + (size_t)(i * stride_a) * es;
        const char *pb = (const char *)b + (size_t)(i * stride_b) * es;
        char *pc = (char *)c + (size_t)(i * stride_c) * es;
        int rc;
        switch (dtype) {
        case MT_INT32:
            rc = gemm_loop_i32(ta, tb, m, n, k, ai, (const int32_t *)pa, lda, (const int32_t *)pb, ldb, bi, beta0,
                               (int32_t *)pc, ldc);
            break;
        case MT_INT64:
            rc = gemm_loop_i64(ta, tb, m, n, k, ai, (const int64_t *)pa, lda, (const int64_t *)pb, ldb, bi, beta0,
                               (int64_t *)pc, ldc);
            break;
        case MT_FLOAT32:
            rc = gemm_loop_f32(ta, tb, m, n, k, alpha, (const float *)pa, lda, (const float *)pb, ldb, beta, beta0,
                               (float *)pc, ldc);
            break;
        case MT_FLOAT64:
            rc = gemm_loop_f64(ta, tb, m, n, k, alpha, (const double *)pa, lda, (const double *)pb, ldb, beta, beta0,
                               (double *)pc, ldc);
            break;
        default:
            mt_error(MT_ERR_NOTIMPL, "\"addmm_impl_cpu_\" not implemented for 'Bool'");
            return -1;
        }
        if (rc < 0) return -1;
    }
    return 0;
}

/* ======================================================================
 * shared helpers
 * ====================================================================== */

static const char *cpp_name(mt_dtype d) { return mt_cpp_type_name(d); }

static int not_for_bool(mt_dtype d, const char *kernel) {
    if (d != MT_BOOL) return 0;
    mt_error(MT_ERR_NOTIMPL, "\"%s\" not implemented for 'Bool'", kernel);
    return -1;
}

/* How a [rows x cols] matrix with strides (sr, sc) can be handed to GEMM without a copy:
 * row-major (trans = false, ld = row stride) or column-major (trans = true, ld = column stride). */
static bool blas_layout(int64_t rows, int64_t cols, int64_t sr, int64_t sc, bool *trans, int64_t *ld) {
    int64_t r1 = rows > 1 ? rows : 1, c1 = cols > 1 ? cols : 1;
    if (cols <= 1 || sc == 1) {
        int64_t l = rows <= 1 ? c1 : sr;
        if (l >= c1) { *trans = false; *ld = l; return true; }
    }
    if (rows <= 1 || sr == 1) {
        int64_t l = cols <= 1 ? r1 : sc;
        if (l >= r1) { *trans = true; *ld = l; return true; }
    }
    return false;
}

/* out[batch..., m, n] = alpha * a @ b + beta * out, for a [..., m, k] and b [..., k, n] (ndim >= 2 each,
 * batch dims broadcast to out's). out is contiguous; its contents are read only when beta != 0. */
static int gemm_into(mt_tensor *out, mt_tensor *a, mt_tensor *b, double alpha, double beta) {
    int nd = out->ndim, nb = nd - 2;
    int64_t m = out->shape[nd - 2], n = out->shape[nd - 1], k = a->shape[a->ndim - 1];
    if (mt_numel(out) == 0) return 0;
    mt_tensor *ac = NULL, *bc = NULL;
    bool ta = false, tb = false;
    int64_t lda = 1, ldb = 1;
    int rc = -1;
    if (!blas_layout(m, k, a->strides[a->ndim - 2], a->strides[a->ndim - 1], &ta, &lda)) {
        if (!(ac = mt_contiguous(a))) return -1;
        a = ac;
        blas_layout(m, k, a->strides[a->ndim - 2], a->strides[a->ndim - 1], &ta, &lda);
    }
    if (!blas_layout(k, n, b->strides[b->ndim - 2], b->strides[b->ndim - 1], &tb, &ldb)) {
        if (!(bc = mt_contiguous(b))) { mt_decref(ac); return -1; }
        b = bc;
        blas_layout(k, n, b->strides[b->ndim - 2], b->strides[b->ndim - 1], &tb, &ldb);
    }
    /* batch dims: broadcast strides, then drop size-1 dims and merge dims that are uniformly strided */
    int64_t sh[MT_MAX_DIMS], sa[MT_MAX_DIMS], sb[MT_MAX_DIMS], so[MT_MAX_DIMS];
    int c = 0;
    for (int i = 0; i < nb; i++) {
        int64_t size = out->shape[i];
        if (size == 1) continue;
        int ia = i - (nb - (a->ndim - 2)), ib = i - (nb - (b->ndim - 2));
        int64_t xa = ia >= 0 && a->shape[ia] != 1 ? a->strides[ia] : 0;
        int64_t xb = ib >= 0 && b->shape[ib] != 1 ? b->strides[ib] : 0;
        int64_t xo = out->strides[i];
        if (c > 0 && sa[c - 1] == xa * size && sb[c - 1] == xb * size && so[c - 1] == xo * size) {
            sh[c - 1] *= size;
            sa[c - 1] = xa;
            sb[c - 1] = xb;
            so[c - 1] = xo;
        } else {
            sh[c] = size;
            sa[c] = xa;
            sb[c] = xb;
            so[c] = xo;
            c++;
        }
    }
    mt_backend *be = mt_backend_of(out);
    size_t es = mt_dtype_sizes[out->dtype];
    char *pa = mt_data(a), *pb = mt_data(b), *pc = mt_data(out);
    /* b shared by every batch and a's batches stacked row after row: one GEMM with m' = batch * m */
    if (c == 1 && sb[0] == 0 && !ta && so[0] == m * n && (m == 1 ? sa[0] >= (k > 1 ? k : 1) : sa[0] == m * lda)) {
        rc = be->gemm(out->dtype, 1, false, tb, sh[0] * m, n, k, alpha, pa, m == 1 ? sa[0] : lda, 0, pb, ldb, 0, beta,
                      pc, n, 0);
        goto done;
    }
    int64_t batch = c ? sh[c - 1] : 1, bsa = c ? sa[c - 1] : 0, bsb = c ? sb[c - 1] : 0, bso = c ? so[c - 1] : 0;
    int64_t outer = 1, idx[MT_MAX_DIMS] = {0};
    for (int i = 0; i < c - 1; i++) outer *= sh[i];
    for (int64_t o = 0; o < outer; o++) {
        int64_t oa = 0, ob = 0, oo = 0;
        for (int i = 0; i < c - 1; i++) {
            oa += idx[i] * sa[i];
            ob += idx[i] * sb[i];
            oo += idx[i] * so[i];
        }
        if (be->gemm(out->dtype, batch, ta, tb, m, n, k, alpha, pa + (size_t)oa * es, lda, bsa, pb + (size_t)ob * es,
                     ldb, bsb, beta, pc + (size_t)oo * es, n, bso) < 0)
            goto done;
        for (int i = c - 2; i >= 0; i--) {
            if (++idx[i] < sh[i]) break;
            idx[i] = 0;
        }
    }
    rc = 0;
done:
    mt_decref(ac);
    mt_decref(bc);
    return rc;
}

/* a as a matrix: [k] -> [1, k]; b as a matrix: [k] -> [k, 1]; others unchanged. */
static void as_matrix_shape(const int64_t *shape, int nd, bool is_left, int64_t *out, int *nout) {
    if (nd == 1) {
        out[0] = is_left ? 1 : shape[0];
        out[1] = is_left ? shape[0] : 1;
        *nout = 2;
    } else {
        memcpy(out, shape, sizeof(int64_t) * nd);
        *nout = nd;
    }
}
static mt_tensor *as_matrix(mt_tensor *t, bool is_left) {
    if (t->ndim != 1) return mt_incref(t);
    int64_t shape[2], strides[2];
    int nd;
    as_matrix_shape(t->shape, 1, is_left, shape, &nd);
    strides[0] = is_left ? t->strides[0] * t->shape[0] : t->strides[0];
    strides[1] = is_left ? t->strides[0] : 1;
    return mt_alias(t, shape, strides, 2, t->offset);
}

/* Broadcast batch shape of two matrix shapes (ndim >= 2). */
static int batch_shape(const int64_t *as, int an, const int64_t *bs, int bn, int64_t *out, int *nout) {
    return mt_broadcast_shapes(as, an - 2, bs, bn - 2, out, nout);
}

/* x @ y for x [..., m, k], y [..., k, n] (ndim >= 2, broadcast batch); no autograd. New ref. */
static mt_tensor *bmm_raw(mt_tensor *x, mt_tensor *y, double alpha) {
    if (!x || !y) return NULL;
    if (mt_create_graph_active && (x->requires_grad || y->requires_grad)) { /* a backward under create_graph */
        mt_tensor *yc = mt_cast(y, x->dtype);
        mt_tensor *r = yc ? mt_matmul(x, yc) : NULL;
        mt_decref(yc);
        if (!r || alpha == 1.0) return r;
        mt_tensor *s = mt_muls(r, alpha);
        mt_decref(r);
        return s;
    }
    int64_t shape[MT_MAX_DIMS];
    int nb;
    if (batch_shape(x->shape, x->ndim, y->shape, y->ndim, shape, &nb) < 0) return NULL;
    shape[nb] = x->shape[x->ndim - 2];
    shape[nb + 1] = y->shape[y->ndim - 1];
    mt_tensor *yc = mt_cast(y, x->dtype);
    mt_tensor *out = yc ? mt_empty(shape, nb + 2, x->dtype, x->storage->device) : NULL;
    if (out && gemm_into(out, x, yc, alpha, 0.0) < 0) { mt_decref(out); out = NULL; }
    mt_decref(yc);
    return out;
}

/* ======================================================================
 * autograd
 * ====================================================================== */

/* Inputs: 0 = a, 1 = b (any ndim >= 1; 1-D a is a row, 1-D b a column); meta 0/1 hold their shapes;
 * saved slot 0 = a (when b needs a gradient), slot 1 = b (when a does). The incoming gradient has the
 * product's numel in any shape: it is reshaped to [batch..., m, n] first. */
static int mm_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    bool need_a = mt_node_needs(n, 0), need_b = mt_node_needs(n, 1);
    mt_tensor *a = need_b ? mt_node_saved(n, 0) : NULL, *b = need_a ? mt_node_saved(n, 1) : NULL;
    if ((need_b && !a) || (need_a && !b)) return -1;
    int64_t a2[MT_MAX_DIMS], b2[MT_MAX_DIMS], gs[MT_MAX_DIMS];
    int a2n, b2n, nb;
    as_matrix_shape(n->meta_shape[0], n->meta_ndim[0], true, a2, &a2n);
    as_matrix_shape(n->meta_shape[1], n->meta_ndim[1], false, b2, &b2n);
    if (batch_shape(a2, a2n, b2, b2n, gs, &nb) < 0) return -1;
    int64_t m = a2[a2n - 2], k = a2[a2n - 1], nn = b2[b2n - 1];
    gs[nb] = m;
    gs[nb + 1] = nn;
    mt_tensor *g = P(mt_reshape(go[0], gs, nb + 2));
    if (!g) return -1;
    if (need_a) {
        mt_tensor *bt = P(mt_transpose(P(mt_reshape(b, b2, b2n)), -2, -1));
        mt_tensor *r = P(mt_sum_to(P(bmm_raw(g, bt, 1.0)), a2, a2n));
        gi[0] = r ? mt_reshape(r, n->meta_shape[0], n->meta_ndim[0]) : NULL;
        if (!gi[0]) return -1;
    }
    if (need_b) {
        mt_tensor *av = P(mt_reshape(a, a2, a2n)), *r;
        if (b2n == 2 && nb > 0) {
            /* b is shared by every batch: fold the batch into the rows, one GEMM */
            int64_t rows = mt_shape_numel(gs, nb + 1);
            int64_t fa[2] = {rows, k}, fg[2] = {rows, nn};
            r = P(bmm_raw(P(mt_transpose(P(mt_reshape(av, fa, 2)), 0, 1)), P(mt_reshape(g, fg, 2)), 1.0));
        } else {
            r = P(mt_sum_to(P(bmm_raw(P(mt_transpose(av, -2, -1)), g, 1.0)), b2, b2n));
        }
        gi[1] = r ? mt_reshape(r, n->meta_shape[1], n->meta_ndim[1]) : NULL;
        if (!gi[1]) return -1;
    }
    return 0;
}
static const mt_node_vt mm_vt = {"MmBackward0", mm_backward, NULL, true};
static const mt_node_vt mv_vt = {"MvBackward0", mm_backward, NULL, true};
static const mt_node_vt bmm_vt = {"BmmBackward0", mm_backward, NULL, true};
static const mt_node_vt dot_vt = {"DotBackward0", mm_backward, NULL, true};

/* The reshapes matmul applies to a fresh product (named as PyTorch names them). */
static int reshape_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    gi[0] = mt_reshape(go[0], n->meta_shape[0], n->meta_ndim[0]);
    return gi[0] ? 0 : -1;
}
static const mt_node_vt unsafe_view_vt = {"UnsafeViewBackward0", reshape_backward, NULL, true};
static const mt_node_vt squeeze_vt = {"SqueezeBackward4", reshape_backward, NULL, true};
static const mt_node_vt clone_vt = {"CloneBackward0", reshape_backward, NULL, true};

/* x (consumed; contiguous) reshaped to shape with a node of type vt. */
static mt_tensor *reshape_node(mt_tensor *x, const int64_t *shape, int nd, const mt_node_vt *vt) {
    if (!x) return NULL;
    int64_t st[MT_MAX_DIMS];
    mt_contiguous_strides(shape, nd, st);
    mt_tensor *out = mt_alias(x, shape, st, nd, x->offset);
    if (out) {
        mt_node *node = mt_autograd_record(vt, out, 1, &x);
        if (node) mt_node_set_meta(node, 0, x);
    }
    mt_decref(x);
    return out;
}

/* The product of a (ndim >= 1, a row when 1-D) and b (ndim >= 1, a column when 1-D), shapes already
 * checked. Computed as [batch..., m, n], returned viewed as cshape with a vt node. */
static mt_tensor *mm_core(mt_tensor *a, mt_tensor *b, const mt_node_vt *vt, const int64_t *cshape, int cnd) {
    mt_tensor *a2 = as_matrix(a, true), *b2 = as_matrix(b, false), *out = NULL, *res = NULL;
    int64_t shape[MT_MAX_DIMS];
    int nb;
    if (!a2 || !b2 || batch_shape(a2->shape, a2->ndim, b2->shape, b2->ndim, shape, &nb) < 0) goto done;
    shape[nb] = a2->shape[a2->ndim - 2];
    shape[nb + 1] = b2->shape[b2->ndim - 1];
    out = mt_empty(shape, nb + 2, a->dtype, a->storage->device);
    if (!out || gemm_into(out, a2, b2, 1.0, 0.0) < 0) goto done;
    if (cnd == nb + 2 && !memcmp(cshape, shape, sizeof(int64_t) * cnd)) {
        res = mt_incref(out);
    } else {
        int64_t st[MT_MAX_DIMS];
        mt_contiguous_strides(cshape, cnd, st);
        res = mt_alias(out, cshape, st, cnd, 0);
    }
    if (res) {
        mt_tensor *ins[2] = {a, b};
        mt_node *node = mt_autograd_record(vt, res, 2, ins);
        if (node) {
            mt_node_set_meta(node, 0, a);
            mt_node_set_meta(node, 1, b);
            if (b->requires_grad) mt_node_save(node, 0, a, false);
            if (a->requires_grad) mt_node_save(node, 1, b, false);
        }
    }
done:
    mt_decref(a2);
    mt_decref(b2);
    mt_decref(out);
    return res;
}

/* ======================================================================
 * ops
 * ====================================================================== */

static int check_mm_dtype(const mt_tensor *a, const mt_tensor *b) {
    if (a->dtype != b->dtype) {
        mt_error(MT_ERR_RUNTIME, "expected m1 and m2 to have the same dtype, but got: %s != %s", cpp_name(a->dtype),
                 cpp_name(b->dtype));
        return -1;
    }
    return not_for_bool(a->dtype, "addmm_impl_cpu_");
}
static int check_mm_shape(int64_t m, int64_t k, int64_t k2, int64_t n) {
    if (k != k2) {
        mt_error(MT_ERR_RUNTIME, "mat1 and mat2 shapes cannot be multiplied (%lldx%lld and %lldx%lld)", (long long)m,
                 (long long)k, (long long)k2, (long long)n);
        return -1;
    }
    return 0;
}
static int check_bmm_dtype(const mt_tensor *a, const mt_tensor *b) {
    if (a->dtype != b->dtype) {
        mt_error(MT_ERR_RUNTIME, "expected scalar type %s but found %s", mt_type_name(a->dtype), mt_type_name(b->dtype));
        return -1;
    }
    return not_for_bool(a->dtype, "bmm");
}
static int check_bmm_shape(int64_t batch, int64_t k, int64_t batch2, int64_t k2) {
    if (batch != batch2 || k != k2) {
        mt_error(MT_ERR_RUNTIME,
                 "Expected size for first two dimensions of batch2 tensor to be: [%lld, %lld] but got: [%lld, %lld].",
                 (long long)batch, (long long)k, (long long)batch2, (long long)k2);
        return -1;
    }
    return 0;
}
/* mat [rows, k] @ vec [kv] */
static int check_mv(const mt_tensor *mat, const mt_tensor *vec, int64_t rows, int64_t k) {
    int64_t kv = vec->shape[0];
    if (k != kv) {
        mt_error(MT_ERR_RUNTIME, "size mismatch, got input (%lld), mat (%lldx%lld), vec (%lld)", (long long)rows,
                 (long long)rows, (long long)k, (long long)kv);
        return -1;
    }
    if (mat->dtype != vec->dtype) {
        mt_error(MT_ERR_RUNTIME, "addmv input tensors must have the same dtype, but got %s, %s, and %s",
                 mt_type_name(vec->dtype), mt_type_name(mat->dtype), mt_type_name(vec->dtype));
        return -1;
    }
    return not_for_bool(mat->dtype, "addmv_impl_cpu");
}

mt_tensor *mt_mm(mt_tensor *a, mt_tensor *b) {
    if (!a || !b) return NULL;
    if (mt_check_same_device(a, b) < 0) return NULL;
    if (a->ndim != 2) return mt_error(MT_ERR_RUNTIME, "self must be a matrix");
    if (b->ndim != 2) return mt_error(MT_ERR_RUNTIME, "mat2 must be a matrix");
    if (check_mm_shape(a->shape[0], a->shape[1], b->shape[0], b->shape[1]) < 0 || check_mm_dtype(a, b) < 0)
        return NULL;
    int64_t shape[2] = {a->shape[0], b->shape[1]};
    return mm_core(a, b, &mm_vt, shape, 2);
}

mt_tensor *mt_bmm(mt_tensor *a, mt_tensor *b) {
    if (!a || !b) return NULL;
    if (mt_check_same_device(a, b) < 0) return NULL;
    if (a->ndim != 3) return mt_error(MT_ERR_RUNTIME, "batch1 must be a 3D tensor");
    if (b->ndim != 3) return mt_error(MT_ERR_RUNTIME, "batch2 must be a 3D tensor");
    if (check_bmm_shape(a->shape[0], a->shape[2], b->shape[0], b->shape[1]) < 0 || check_bmm_dtype(a, b) < 0)
        return NULL;
    int64_t shape[3] = {a->shape[0], a->shape[1], b->shape[2]};
    return mm_core(a, b, &bmm_vt, shape, 3);
}

mt_tensor *mt_dot(mt_tensor *a, mt_tensor *b) {
    if (!a || !b) return NULL;
    if (mt_check_same_device(a, b) < 0) return NULL;
    if (a->ndim != 1 || b->ndim != 1)
        return mt_error(MT_ERR_RUNTIME, "1D tensors expected, but got %dD and %dD tensors", a->ndim, b->ndim);
    if (a->dtype != b->dtype)
        return mt_error(MT_ERR_RUNTIME, "dot : expected both vectors to have same dtype, but found %s and %s",
                        mt_type_name(a->dtype), mt_type_name(b->dtype));
    if (a->shape[0] != b->shape[0])
        return mt_error(MT_ERR_RUNTIME,
                        "inconsistent tensor size, expected tensor [%lld] and src [%lld] to have the same number of "
                        "elements, but got %lld and %lld elements respectively",
                        (long long)a->shape[0], (long long)b->shape[0], (long long)a->shape[0], (long long)b->shape[0]);
    if (not_for_bool(a->dtype, "dot") < 0) return NULL;
    int64_t none[1] = {0};
    return mm_core(a, b, &dot_vt, none, 0);
}

static mt_tensor *mv(mt_tensor *a, mt_tensor *b) {
    if (check_mv(a, b, a->shape[0], a->shape[1]) < 0) return NULL;
    return mm_core(a, b, &mv_vt, a->shape, 1);
}

mt_tensor *mt_matmul(mt_tensor *a, mt_tensor *b) {
    if (!a || !b) return NULL;
    int da = a->ndim, db = b->ndim;
    if (da == 0 || db == 0)
        return mt_error(MT_ERR_RUNTIME, "both arguments to matmul need to be at least 1D, but they are %dD and %dD", da,
                        db);
    if (mt_check_same_device(a, b) < 0) return NULL;
    if (da == 1 && db == 1) return mt_dot(a, b);
    if (da == 2 && db == 1) return mv(a, b);
    if (da == 2 && db == 2) return mt_mm(a, b);
    if (da == 1 && db == 2) {
        if (check_mm_shape(1, a->shape[0], b->shape[0], b->shape[1]) < 0 || check_mm_dtype(a, b) < 0) return NULL;
        int64_t cs[2] = {1, b->shape[1]}, fs[1] = {b->shape[1]};
        return reshape_node(mm_core(a, b, &mm_vt, cs, 2), fs, 1, &squeeze_vt);
    }
    int64_t fs[MT_MAX_DIMS];
    if (db <= 2) {
        /* [batch..., m, k] @ [k, n] or [k]: fold the batch into the rows of one mm / mv */
        int64_t rows = 1;
        for (int i = 0; i < da - 1; i++) rows *= a->shape[i];
        int64_t k = a->shape[da - 1];
        memcpy(fs, a->shape, sizeof(int64_t) * (da - 1));
        if (db == 1) {
            if (check_mv(a, b, rows, k) < 0) return NULL;
            return reshape_node(mm_core(a, b, &mv_vt, &rows, 1), fs, da - 1, &unsafe_view_vt);
        }
        if (check_mm_shape(rows, k, b->shape[0], b->shape[1]) < 0 || check_mm_dtype(a, b) < 0) return NULL;
        int64_t cs[2] = {rows, b->shape[1]};
        fs[da - 1] = b->shape[1];
        return reshape_node(mm_core(a, b, &mm_vt, cs, 2), fs, da, &unsafe_view_vt);
    }
    /* batched: b has >= 3 dims, a any; batch dims broadcast */
    int64_t bs[MT_MAX_DIMS];
    int nb;
    if (mt_broadcast_shapes(a->shape, da >= 2 ? da - 2 : 0, b->shape, db - 2, bs, &nb) < 0) return NULL;
    int64_t batch = mt_shape_numel(bs, nb);
    int64_t k = a->shape[da - 1], m = da >= 2 ? a->shape[da - 2] : 1, n = b->shape[db - 1];
    if (check_bmm_shape(batch, k, batch, b->shape[db - 2]) < 0 || check_bmm_dtype(a, b) < 0) return NULL;
    int fn = nb;
    memcpy(fs, bs, sizeof(int64_t) * nb);
    if (da >= 2) fs[fn++] = m;
    fs[fn++] = n;
    if (da == 1) {
        int64_t cs[1] = {batch * n};
        return reshape_node(mm_core(a, b, &mv_vt, cs, 1), fs, fn, &unsafe_view_vt);
    }
    if (da == 2) {
        int64_t cs[2] = {batch * m, n};
        return reshape_node(mm_core(a, b, &mm_vt, cs, 2), fs, fn,
                            mt_grad_enabled && a->requires_grad ? &clone_vt : &unsafe_view_vt);
    }
    int64_t cs[3] = {batch, m, n};
    return reshape_node(mm_core(a, b, &bmm_vt, cs, 3), fs, fn, &unsafe_view_vt);
}

/* ---------------- addmm ---------------- */
static int addmm_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    double alpha, beta;
    memcpy(&alpha, &n->iargs[0], sizeof alpha);
    memcpy(&beta, &n->iargs[1], sizeof beta);
    mt_tensor *g = go[0];
    if (mt_node_needs(n, 0)) {
        gi[0] = mt_node_grad_for(n, 0, beta == 1.0 ? mt_incref(g) : mt_muls(g, beta));
        if (!gi[0]) return -1;
    }
    if (mt_node_needs(n, 1)) {
        mt_tensor *b = mt_node_saved(n, 1);
        if (!b) return -1;
        gi[1] = bmm_raw(g, P(mt_t(b)), alpha);
        if (!gi[1]) return -1;
    }
    if (mt_node_needs(n, 2)) {
        mt_tensor *a = mt_node_saved(n, 0);
        if (!a) return -1;
        gi[2] = bmm_raw(P(mt_t(a)), g, alpha);
        if (!gi[2]) return -1;
    }
    return 0;
}
static const mt_node_vt addmm_vt = {"AddmmBackward0", addmm_backward, NULL, true};

mt_tensor *mt_addmm(mt_tensor *c, mt_tensor *a, mt_tensor *b, double beta, double alpha) {
    if (!c || !a || !b) return NULL;
    if (mt_check_same_device(c, a) < 0 || mt_check_same_device(a, b) < 0) return NULL;
    if (a->ndim != 2) return mt_error(MT_ERR_RUNTIME, "mat1 must be a matrix, got %d-D tensor", a->ndim);
    if (b->ndim != 2) return mt_error(MT_ERR_RUNTIME, "mat2 must be a matrix, got %d-D tensor", b->ndim);
    if (c->dtype != b->dtype)
        return mt_error(MT_ERR_RUNTIME, "self and mat2 must have the same dtype, but got %s and %s",
                        mt_type_name(c->dtype), mt_type_name(b->dtype));
    if (a->dtype != b->dtype)
        return mt_error(MT_ERR_RUNTIME, "mat1 and mat2 must have the same dtype, but got %s and %s",
                        mt_type_name(a->dtype), mt_type_name(b->dtype));
    if (check_mm_shape(a->shape[0], a->shape[1], b->shape[0], b->shape[1]) < 0) return NULL;
    int64_t shape[2] = {a->shape[0], b->shape[1]};
    if (c->ndim > 2)
        return mt_error(MT_ERR_RUNTIME,
                        "expand(torch.%sTensor{%s}, size=%s): the number of sizes provided (2) must be greater or "
                        "equal to the number of dimensions in the tensor (%d)",
                        mt_type_name(c->dtype), mt_shape_str(c->shape, c->ndim), mt_shape_str(shape, 2), c->ndim);
    for (int i = 0; i < c->ndim; i++) {
        int j = 2 - c->ndim + i;
        if (c->shape[i] != 1 && c->shape[i] != shape[j])
            return mt_error(MT_ERR_RUNTIME,
                            "The expanded size of the tensor (%lld) must match the existing size (%lld) at "
                            "non-singleton dimension %d.  Target sizes: %s.  Tensor sizes: %s",
                            (long long)shape[j], (long long)c->shape[i], j, mt_shape_str(shape, 2),
                            mt_shape_str(c->shape, c->ndim));
    }
    if (not_for_bool(a->dtype, "addmm_impl_cpu_") < 0) return NULL;
    mt_tensor *out = mt_empty(shape, 2, a->dtype, a->storage->device);
    if (!out) return NULL;
    if (beta != 0.0 && mt_numel(out) > 0 && mt_copy_into(out, c) < 0) { mt_decref(out); return NULL; }
    if (gemm_into(out, a, b, alpha, beta) < 0) { mt_decref(out); return NULL; }
    mt_tensor *ins[3] = {c, a, b};
    mt_node *n = mt_autograd_record(&addmm_vt, out, 3, ins);
    if (n) {
        memcpy(&n->iargs[0], &alpha, sizeof alpha);
        memcpy(&n->iargs[1], &beta, sizeof beta);
        mt_node_set_meta(n, 0, c);
        if (b->requires_grad) mt_node_save(n, 0, a, false);
        if (a->requires_grad) mt_node_save(n, 1, b, false);
    }
    return out;
}

/* ---------------- outer: a.reshape(-1, 1) * b, as PyTorch computes it ---------------- */
mt_tensor *mt_outer(mt_tensor *a, mt_tensor *b) {
    if (!a || !b) return NULL;
    if (a->ndim != 1) return mt_error(MT_ERR_RUNTIME, "outer: Expected 1-D argument self, but got %d-D", a->ndim);
    if (b->ndim != 1) return mt_error(MT_ERR_RUNTIME, "outer: Expected 1-D argument vec2, but got %d-D", b->ndim);
    if (mt_check_same_device(a, b) < 0) return NULL;
    int64_t shape[2] = {a->shape[0], 1};
    mt_tensor *col = mt_reshape(a, shape, 2);
    mt_tensor *r = mt_mul(col, b);
    mt_decref(col);
    return r;
}

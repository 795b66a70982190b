/* The narrow dtypes (uint8, int8, int16, float16, bfloat16) on the CPU: storage dtypes whose kernels are
 * the wide ones. Each kernel of the CPU table is wrapped: when a tensor argument has a narrow dtype, it
 * runs on widened copies (mt_wide_dtype: float32, int32) and the result is narrowed once into the
 * output. That is PyTorch's CPU arithmetic for Half and BFloat16 (computed in float, rounded once per
 * op) and, for the small integers, exact: int32 holds every intermediate of one op on them, and the
 * narrowing copy wraps as their own arithmetic does. Ops whose dtypes are all wide pay one test.
 *
 * Copy and fill need no wrapping: copy.c converts between every pair of dtypes. */
#include "cpu_kernels.h"
#include "ops.h"
#include "elementwise_ops.h"
#include "../core/half.h"

#include <stdlib.h>
#include <string.h>

static const mt_backend *wide_be; /* the CPU kernels proper */

static bool narrow(const mt_tensor *t) { return t && mt_is_narrow(t->dtype); }

/* t as a new contiguous tensor of its wide dtype (its values converted), or t itself (a new reference) */
static mt_tensor *widen(const mt_tensor *t) {
    if (!narrow(t)) return mt_incref((mt_tensor *)t);
    mt_tensor *w = mt_empty(t->shape, t->ndim, mt_wide_dtype(t->dtype), t->storage->device);
    if (w && wide_be->copy(w, t) < 0) { mt_decref(w); return NULL; }
    return w;
}

/* an output for the wide kernel: out itself, or (narrow) an uninitialised wide tensor of its shape */
static mt_tensor *wide_out(mt_tensor *out) {
    if (!narrow(out)) return mt_incref(out);
    return mt_empty(out->shape, out->ndim, mt_wide_dtype(out->dtype), out->storage->device);
}

/* after the wide kernel (rc its result): rounds w into out when they differ; drops w */
static int narrow_into(mt_tensor *out, mt_tensor *w, int rc) {
    if (rc == 0 && w != out) rc = wide_be->copy(out, w);
    mt_decref(w);
    return rc;
}

/* The wide kernel CALL on widened copies wa (of a) and wb (of b; b NULL when there is none), writing wo: out
 * itself when it is wide, else a wide tensor rounded into out afterwards. acc: the kernel also reads out's values
 * (index_add and scatter accumulate into it), so wo starts as out's widened copy. */
#define RUN_WIDE(a, b, out, acc, CALL)                                                                 \
    do {                                                                                               \
        mt_tensor *wa = widen(a), *wb = (b) ? widen(b) : NULL;                                         \
        mt_tensor *wo = wa && (!(b) || wb) ? ((acc) ? widen(out) : wide_out(out)) : NULL;              \
        int rc_ = wo ? narrow_into(out, wo, (CALL)) : -1;                                              \
        mt_decref(wa);                                                                                 \
        mt_decref(wb);                                                                                 \
        return rc_;                                                                                    \
    } while (0)

static int n_unary(int op, mt_tensor *out, const mt_tensor *a, const double *params) {
    if (!narrow(out) && !narrow(a)) return wide_be->unary(op, out, a, params);
    /* logit(x, eps) clamps x to [eps, 1 - eps] in x's own dtype (float16's 1 - 1e-6 is 1, so logit(0.9999) is
       inf): the widened x is clamped to those bounds (exactly: both are float16 values; clamp's x < lo ? lo :
       x > hi ? hi : x is torch's logit clamp, lo > hi and a NaN eps included), then logit runs unclamped */
    if (op == MT_U_LOGIT && narrow(a) && mt_is_floating(a->dtype) && params && params[0] != 0) {
        double b[4] = {1, 0, 1, 0}, none[2] = {0, 0};
        mt_logit_bounds(a->dtype, params[1], &b[1], &b[3]);
        RUN_WIDE(a, NULL, out, false,
                 wide_be->unary(MT_U_CLAMP, wa, wa, b) < 0 ? -1 : wide_be->unary(MT_U_LOGIT, wo, wa, none));
    }
    RUN_WIDE(a, NULL, out, false, wide_be->unary(op, wo, wa, params));
}

/* A Python number next to a narrow tensor is first converted to the tensor's dtype, as PyTorch's
 * iterator does (uint8 `x < 300` compares with 44; float16 `x - 0.1` subtracts 0.1 rounded to float16);
 * PyTorch's multiplication and divisions alone read it in float ("opmath"), so they keep it. */
static bool opmath_scalar(int op) { return op == MT_B_MUL || op == MT_B_DIV || op == MT_B_FLOOR_DIVIDE; }

static mt_scalar scalar_in(int op, mt_dtype d, mt_scalar s) {
    switch (d) {
    case MT_UINT8: s.i = (uint8_t)s.i; break;
    case MT_INT8: s.i = (int8_t)s.i; break;
    case MT_INT16: s.i = (int16_t)s.i; break;
    case MT_FLOAT16:
        if (!opmath_scalar(op)) s.f = mt_f16_to_f32(mt_f32_to_f16((float)s.f));
        break;
    case MT_BFLOAT16:
        if (!opmath_scalar(op)) s.f = mt_bf16_to_f32(mt_f32_to_bf16((float)s.f));
        break;
    default: break;
    }
    s.f = s.dtype == MT_INT64 ? (double)s.i : s.f;
    return s;
}

static int n_binary(int op, mt_tensor *out, const mt_tensor *a, const mt_tensor *b, const mt_scalar *s,
                    bool scalar_first) {
    if (!narrow(out) && !narrow(a) && !narrow(b)) return wide_be->binary(op, out, a, b, s, scalar_first);
    mt_scalar sv;
    if (s) sv = scalar_in(op, a->dtype, *s);
    if (op == MT_B_POW && s && !b && !scalar_first && a->dtype == MT_FLOAT16) {
        /* torch's float16 x ** number is std::pow (its bfloat16, float and double kernels take +-0.5 as sqrt /
           rsqrt, as the wide kernel does for a number: (-0.0) ** 0.5 is -0.0 there, 0.0 here): the exponent
           goes in as a 0-d tensor */
        mt_tensor *e = mt_scalar_tensor(sv, mt_wide_dtype(a->dtype), a->storage->device);
        if (!e) return -1;
        int rc = n_binary(op, out, a, e, NULL, false);
        mt_decref(e);
        return rc;
    }
    RUN_WIDE(a, b, out, false, wide_be->binary(op, wo, wa, wb, s ? &sv : NULL, scalar_first));
}

static int n_where(mt_tensor *out, const mt_tensor *cond, const mt_tensor *a, const mt_tensor *b) {
    if (!narrow(out) && !narrow(a) && !narrow(b)) return wide_be->where(out, cond, a, b);
    RUN_WIDE(a, b, out, false, wide_be->where(wo, cond, wa, wb));
}

static int n_reduce(const mt_reduce_args *r, mt_tensor *out, mt_tensor *idx, const mt_tensor *in) {
    if (!narrow(out) && !narrow(in)) return wide_be->reduce(r, out, idx, in);
    RUN_WIDE(in, NULL, out, false, wide_be->reduce(r, wo, idx, wa));
}

/* GEMM on raw pointers: each operand's span (first to last element, with the gaps its leading
 * dimensions leave) converted to float32 keeps the same lda and batch stride */
static int64_t span(int64_t batch, int64_t stride, int64_t rows, int64_t cols, int64_t ld) {
    if (batch <= 0 || rows <= 0 || cols <= 0) return 0;
    return (batch - 1) * stride + (rows - 1) * ld + cols;
}

static void borrowed(void *ctx, void *data) { (void)ctx; (void)data; } /* the caller owns the memory */

static int convert_span(mt_dtype to, void *dst, mt_dtype from, const void *src, int64_t n) {
    if (n == 0) return 0;
    int64_t shape[1] = {n}, stride[1] = {1};
    mt_tensor *d = mt_from_blob(dst, shape, stride, 1, to, borrowed, NULL);
    mt_tensor *s = mt_from_blob((void *)src, shape, stride, 1, from, borrowed, NULL);
    int rc = d && s ? wide_be->copy(d, s) : -1;
    mt_decref(d);
    mt_decref(s);
    return rc;
}

static int n_gemm(mt_dtype dtype, int64_t batch, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
                  const void *a, int64_t lda, int64_t stride_a, const void *b, int64_t ldb, int64_t stride_b,
                  double beta, void *c, int64_t ldc, int64_t stride_c) {
    if (!mt_is_narrow(dtype))
        return wide_be->gemm(dtype, batch, ta, tb, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c, ldc,
                             stride_c);
    mt_dtype w = mt_wide_dtype(dtype);
    size_t es = mt_dtype_sizes[w];
    int64_t na = span(batch, stride_a, ta ? k : m, ta ? m : k, lda), nb = span(batch, stride_b, tb ? n : k, tb ? k : n, ldb);
    int64_t nc = span(batch, stride_c, m, n, ldc);
    char *buf = malloc((size_t)(na + nb + nc + 1) * es);
    if (!buf) return mt_error(MT_ERR_MEMORY, "out of memory"), -1;
    char *wa = buf, *wb = buf + na * es, *wc = wb + nb * es;
    int rc = -1;
    /* C's old values matter when beta != 0, and its gaps are written back: convert all of its span */
    if (convert_span(w, wa, dtype, a, na) < 0 || convert_span(w, wb, dtype, b, nb) < 0 ||
        convert_span(w, wc, dtype, c, nc) < 0)
        goto done;
    rc = wide_be->gemm(w, batch, ta, tb, m, n, k, alpha, wa, lda, stride_a, wb, ldb, stride_b, beta, wc, ldc, stride_c);
    if (rc == 0) rc = convert_span(dtype, c, w, wc, nc);
done:
    free(buf);
    return rc;
}

/* index kernels: the written tensor widened with its values (index_add and scatter accumulate into it) */
static int n_index_select(mt_tensor *out, const mt_tensor *in, const mt_tensor *index, int64_t outer, int64_t in_dim,
                          int64_t inner) {
    if (!narrow(out) && !narrow(in)) return wide_be->index_select(out, in, index, outer, in_dim, inner);
    RUN_WIDE(in, NULL, out, false, wide_be->index_select(wo, wa, index, outer, in_dim, inner));
}

static int n_index_add(mt_tensor *out, const mt_tensor *src, const mt_tensor *index, int64_t outer, int64_t out_dim,
                       int64_t inner) {
    if (!narrow(out) && !narrow(src)) return wide_be->index_add(out, src, index, outer, out_dim, inner);
    RUN_WIDE(src, NULL, out, true, wide_be->index_add(wo, wa, index, outer, out_dim, inner));
}

static int n_gather(mt_tensor *out, const mt_tensor *in, const mt_tensor *index, int dim) {
    if (!narrow(out) && !narrow(in)) return wide_be->gather(out, in, index, dim);
    RUN_WIDE(in, NULL, out, false, wide_be->gather(wo, wa, index, dim));
}

static int n_scatter(mt_tensor *out, const mt_tensor *index, const mt_tensor *src, int dim, bool add) {
    if (!narrow(out) && !narrow(src)) return wide_be->scatter(out, index, src, dim, add);
    RUN_WIDE(src, NULL, out, true, wide_be->scatter(wo, index, wa, dim, add));
}

static int n_softmax(mt_tensor *out, const mt_tensor *in, int64_t outer, int64_t inner, bool log) {
    if (!narrow(out) && !narrow(in)) return wide_be->softmax(out, in, outer, inner, log);
    RUN_WIDE(in, NULL, out, false, wide_be->softmax(wo, wa, outer, inner, log));
}

static int n_softmax_backward(mt_tensor *gin, const mt_tensor *gout, const mt_tensor *y, int64_t outer, int64_t inner,
                              bool log) {
    if (!narrow(gin) && !narrow(gout) && !narrow(y)) return wide_be->softmax_backward(gin, gout, y, outer, inner, log);
    RUN_WIDE(gout, y, gin, false, wide_be->softmax_backward(wo, wa, wb, outer, inner, log));
}

static int n_random(mt_tensor *out, int kind, double a, double b, uint64_t seed, uint64_t offset) {
    if (!narrow(out)) return wide_be->random(out, kind, a, b, seed, offset);
    mt_tensor *wo = wide_out(out);
    if (!wo) return -1;
    return narrow_into(out, wo, wide_be->random(wo, kind, a, b, seed, offset));
}

static int n_scan(int op, mt_tensor *out, mt_tensor *idx, const mt_tensor *in, int64_t outer, int64_t n, int64_t inner,
                  bool reverse) {
    if (!narrow(out) && !narrow(in)) return wide_be->scan(op, out, idx, in, outer, n, inner, reverse);
    RUN_WIDE(in, NULL, out, false, wide_be->scan(op, wo, idx, wa, outer, n, inner, reverse));
}

static int n_tri(mt_tensor *out, const mt_tensor *in, int64_t batch, int64_t rows, int64_t cols, int64_t k, bool upper) {
    if (!narrow(out) && !narrow(in)) return wide_be->tri(out, in, batch, rows, cols, k, upper);
    RUN_WIDE(in, NULL, out, false, wide_be->tri(wo, wa, batch, rows, cols, k, upper)); /* (in is widened first: out may be in) */
}

static mt_backend narrow_be;

mt_backend *mt_narrow_backend(const mt_backend *wide) {
    wide_be = wide;
    narrow_be = *wide;
    narrow_be.unary = n_unary;
    narrow_be.binary = n_binary;
    narrow_be.where = n_where;
    narrow_be.reduce = n_reduce;
    narrow_be.gemm = n_gemm;
    narrow_be.index_select = n_index_select;
    narrow_be.index_add = n_index_add;
    narrow_be.gather = n_gather;
    narrow_be.scatter = n_scatter;
    narrow_be.softmax = n_softmax;
    narrow_be.softmax_backward = n_softmax_backward;
    narrow_be.random = n_random;
    narrow_be.scan = n_scan;
    narrow_be.tri = n_tri;
    return &narrow_be;
}

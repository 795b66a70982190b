/* CPU kernels of the scans (cumsum, cumprod, cummax, cummin, logcumsumexp) and of tril / triu.
 *
 * A scan reads a contiguous tensor viewed as [outer, n, inner] and scans along n. The work is cut
 * into tiles of (one outer index, up to SCAN_BLOCK consecutive inner indices); each tile walks n
 * once, keeping SCAN_BLOCK running accumulators, so every step reads and writes contiguous memory
 * whatever the dim. Tiles run in parallel (OpenMP) when the tensor is large. Accumulation follows
 * PyTorch's CPU kernels: float32 sums, products and log-sum-exps accumulate in double, int32 in
 * int64 (integers wrap as two's complement, without C's signed-overflow UB); cummax/cummin compare
 * in the element type, and NaN wins and stays (the latest NaN's index), ties take the later index. */
#include "cpu_kernels.h"
#include "ops.h" /* MT_SCAN_* */

#include <math.h>
#include <string.h>

#define SCAN_BLOCK 64
#define SCAN_GRAIN ((int64_t)1 << 15) /* elements before tiles go parallel */

static inline double log_add_exp(double x, double acc) {
    /* PyTorch's _log_add_exp_helper(x, acc): NaN propagates, equal infinities stay */
    double mn = isnan(acc) ? acc : (acc < x ? acc : x);
    double mx = isnan(acc) ? acc : (x < acc ? acc : x);
    if (mn != mx || isfinite(mn)) return log1p(exp(mn - mx)) + mx;
    return x;
}

/* running scans: ACC acc = INIT; acc = STEP(acc, (ACC)x); y = (T)acc */
#define SCAN_FN(NAME, T, ACC, INIT, STEP)                                                                     \
    static void NAME(const T *in, T *out, int64_t outer, int64_t n, int64_t inner, bool rev) {                \
        int64_t nb = (inner + SCAN_BLOCK - 1) / SCAN_BLOCK, tiles = outer * nb;                               \
        _Pragma("omp parallel for schedule(static) if (tiles > 1 && outer * n * inner >= 2 * SCAN_GRAIN)")    \
        for (int64_t t = 0; t < tiles; t++) {                                                                 \
            int64_t o = t / nb, i0 = (t % nb) * SCAN_BLOCK;                                                   \
            int w = (int)(inner - i0 < SCAN_BLOCK ? inner - i0 : SCAN_BLOCK);                                 \
            ACC acc[SCAN_BLOCK];                                                                              \
            for (int k = 0; k < w; k++) acc[k] = INIT;                                                        \
            const T *ip = in + o * n * inner + i0;                                                            \
            T *op = out + o * n * inner + i0;                                                                 \
            if (inner == 1) { /* a contiguous row: one accumulator */                                         \
                ACC a1 = INIT;                                                                                \
                if (rev)                                                                                      \
                    for (int64_t j = n - 1; j >= 0; j--) { a1 = STEP(a1, (ACC)ip[j]); op[j] = (T)a1; }        \
                else                                                                                          \
                    for (int64_t j = 0; j < n; j++) { a1 = STEP(a1, (ACC)ip[j]); op[j] = (T)a1; }             \
                continue;                                                                                     \
            }                                                                                                 \
            for (int64_t jj = 0; jj < n; jj++) {                                                              \
                int64_t j = rev ? n - 1 - jj : jj;                                                            \
                const T *x = ip + j * inner;                                                                  \
                T *y = op + j * inner;                                                                        \
                for (int k = 0; k < w; k++) {                                                                 \
                    acc[k] = STEP(acc[k], (ACC)x[k]);                                                         \
                    y[k] = (T)acc[k];                                                                         \
                }                                                                                             \
            }                                                                                                 \
        }                                                                                                     \
    }

#define ADD(a, x) ((a) + (x))
#define MULT(a, x) ((a) * (x))
#define LAE(a, x) log_add_exp((x), (a))
SCAN_FN(cumsum_f32, float, double, 0.0, ADD)
SCAN_FN(cumsum_f64, double, double, 0.0, ADD)
SCAN_FN(cumsum_i32, int32_t, uint64_t, 0, ADD)
SCAN_FN(cumsum_i64, int64_t, uint64_t, 0, ADD)
SCAN_FN(cumprod_f32, float, double, 1.0, MULT)
SCAN_FN(cumprod_f64, double, double, 1.0, MULT)
SCAN_FN(cumprod_i32, int32_t, uint64_t, 1, MULT)
SCAN_FN(cumprod_i64, int64_t, uint64_t, 1, MULT)
SCAN_FN(lcse_f32, float, double, -INFINITY, LAE)
SCAN_FN(lcse_f64, double, double, -INFINITY, LAE)

/* cummax / cummin with indices: take x when it is NaN, or when the running value is not NaN and
   x >= it (max) / x <= it (min) */
#define ARG_FN(NAME, T, ISNAN, CMP)                                                                           \
    static void NAME(const T *in, T *out, int64_t *idx, int64_t outer, int64_t n, int64_t inner, bool rev) {  \
        int64_t nb = (inner + SCAN_BLOCK - 1) / SCAN_BLOCK, tiles = outer * nb;                               \
        _Pragma("omp parallel for schedule(static) if (tiles > 1 && outer * n * inner >= 2 * SCAN_GRAIN)")    \
        for (int64_t t = 0; t < tiles; t++) {                                                                 \
            int64_t o = t / nb, i0 = (t % nb) * SCAN_BLOCK;                                                   \
            int w = (int)(inner - i0 < SCAN_BLOCK ? inner - i0 : SCAN_BLOCK);                                 \
            T best[SCAN_BLOCK];                                                                               \
            int64_t bi[SCAN_BLOCK];                                                                           \
            const T *ip = in + o * n * inner + i0;                                                            \
            T *op = out + o * n * inner + i0;                                                                 \
            int64_t *xp = idx + o * n * inner + i0;                                                           \
            for (int64_t jj = 0; jj < n; jj++) {                                                              \
                int64_t j = rev ? n - 1 - jj : jj;                                                            \
                const T *x = ip + j * inner;                                                                  \
                for (int k = 0; k < w; k++) {                                                                 \
                    T v = x[k];                                                                               \
                    if (jj == 0 || ISNAN(v) || (!ISNAN(best[k]) && v CMP best[k])) {                          \
                        best[k] = v;                                                                          \
                        bi[k] = j;                                                                            \
                    }                                                                                         \
                    op[j * inner + k] = best[k];                                                              \
                    xp[j * inner + k] = bi[k];                                                                \
                }                                                                                             \
            }                                                                                                 \
        }                                                                                                     \
    }
#define NO_NAN(v) ((void)(v), 0)
ARG_FN(cummax_f32, float, isnan, >=)
ARG_FN(cummax_f64, double, isnan, >=)
ARG_FN(cummax_i32, int32_t, NO_NAN, >=)
ARG_FN(cummax_i64, int64_t, NO_NAN, >=)
ARG_FN(cummax_b, uint8_t, NO_NAN, >=)
ARG_FN(cummin_f32, float, isnan, <=)
ARG_FN(cummin_f64, double, isnan, <=)
ARG_FN(cummin_i32, int32_t, NO_NAN, <=)
ARG_FN(cummin_i64, int64_t, NO_NAN, <=)
ARG_FN(cummin_b, uint8_t, NO_NAN, <=)

static int not_impl(const char *what, mt_dtype d) {
    mt_error(MT_ERR_NOTIMPL, "\"%s\" not implemented for '%s'", what, mt_type_name(d));
    return -1;
}

int mt_cpu_scan(int op, mt_tensor *out, mt_tensor *idx, const mt_tensor *in, int64_t outer, int64_t n, int64_t inner,
                bool reverse) {
    static const char *const names[] = {"cumsum_out_cpu", "cumprod_out_cpu", "cummax_cpu", "cummin_cpu",
                                        "logcumsumexp_out_cpu"};
    if (op < MT_SCAN_SUM || op > MT_SCAN_LOGSUMEXP) {
        mt_error(MT_ERR_VALUE, "scan: unknown op %d", op);
        return -1;
    }
    mt_dtype d = in->dtype;
    if (out->dtype != d || ((op == MT_SCAN_MAX || op == MT_SCAN_MIN) != (idx != NULL)) ||
        (idx && idx->dtype != MT_INT64)) {
        mt_error(MT_ERR_RUNTIME, "scan: kernel called with mismatched tensors");
        return -1;
    }
    if (outer <= 0 || n <= 0 || inner <= 0) return 0;
    const void *x = mt_data(in);
    void *y = mt_data(out);
    int64_t *ix = idx ? (int64_t *)mt_data(idx) : NULL;
#define CASE(OPID, DT, FN, T)                                                                                  \
    if (op == OPID && d == DT) return FN((const T *)x, (T *)y, outer, n, inner, reverse), 0;
#define ACASE(OPID, DT, FN, T)                                                                                 \
    if (op == OPID && d == DT) return FN((const T *)x, (T *)y, ix, outer, n, inner, reverse), 0;
    CASE(MT_SCAN_SUM, MT_FLOAT32, cumsum_f32, float)
    CASE(MT_SCAN_SUM, MT_FLOAT64, cumsum_f64, double)
    CASE(MT_SCAN_SUM, MT_INT32, cumsum_i32, int32_t)
    CASE(MT_SCAN_SUM, MT_INT64, cumsum_i64, int64_t)
    CASE(MT_SCAN_PROD, MT_FLOAT32, cumprod_f32, float)
    CASE(MT_SCAN_PROD, MT_FLOAT64, cumprod_f64, double)
    CASE(MT_SCAN_PROD, MT_INT32, cumprod_i32, int32_t)
    CASE(MT_SCAN_PROD, MT_INT64, cumprod_i64, int64_t)
    CASE(MT_SCAN_LOGSUMEXP, MT_FLOAT32, lcse_f32, float)
    CASE(MT_SCAN_LOGSUMEXP, MT_FLOAT64, lcse_f64, double)
    ACASE(MT_SCAN_MAX, MT_FLOAT32, cummax_f32, float)
    ACASE(MT_SCAN_MAX, MT_FLOAT64, cummax_f64, double)
    ACASE(MT_SCAN_MAX, MT_INT32, cummax_i32, int32_t)
    ACASE(MT_SCAN_MAX, MT_INT64, cummax_i64, int64_t)
    ACASE(MT_SCAN_MAX, MT_BOOL, cummax_b, uint8_t)
    ACASE(MT_SCAN_MIN, MT_FLOAT32, cummin_f32, float)
    ACASE(MT_SCAN_MIN, MT_FLOAT64, cummin_f64, double)
    ACASE(MT_SCAN_MIN, MT_INT32, cummin_i32, int32_t)
    ACASE(MT_SCAN_MIN, MT_INT64, cummin_i64, int64_t)
    ACASE(MT_SCAN_MIN, MT_BOOL, cummin_b, uint8_t)
#undef CASE
#undef ACASE
    return not_impl(names[op], d);
}

int mt_cpu_tri(mt_tensor *out, const mt_tensor *in, int64_t batch, int64_t rows, int64_t cols, int64_t k, bool upper) {
    if (out->dtype != in->dtype) {
        mt_error(MT_ERR_RUNTIME, "tri: kernel called with mismatched tensors");
        return -1;
    }
    if (batch <= 0 || rows <= 0 || cols <= 0) return 0;
    size_t es = mt_dtype_sizes[in->dtype];
    const char *x = mt_data(in);
    char *y = mt_data(out);
    bool same = x == y;
    int64_t nrows = batch * rows;
#pragma omp parallel for schedule(static) if (nrows > 1 && nrows * cols >= 2 * SCAN_GRAIN)
    for (int64_t r = 0; r < nrows; r++) {
        int64_t i = r % rows;
        /* tril keeps columns [0, i + k], triu keeps [i + k, cols) */
        int64_t lim = upper ? i + k : i + k + 1;
        int64_t split = lim < 0 ? 0 : lim > cols ? cols : lim;
        const char *xr = x + (size_t)(r * cols) * es;
        char *yr = y + (size_t)(r * cols) * es;
        size_t lo = (size_t)split * es, hi = (size_t)(cols - split) * es;
        if (upper) {
            memset(yr, 0, lo); /* zero bits are 0, 0.0 and false in every dtype */
            if (!same) memcpy(yr + lo, xr + lo, hi);
        } else {
            if (!same) memcpy(yr, xr, lo);
            memset(yr + lo, 0, hi);
        }
    }
    return 0;
}

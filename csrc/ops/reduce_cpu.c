/* CPU kernels for reductions and softmax (contracts in core/backend.h).
 *
 * Every reduction sees its input as contiguous rows [outer, inner] and writes one value
 * per row. An op is built from a few primitive passes over a range of a row (sum, product,
 * max/min with first index, all/any, squared deviations, sum of exps, norms), each returning
 * a partial that combines associatively. Many rows: rows are split across threads. Few long
 * rows (the full sum of a big tensor): each row is cut into chunks whose partials are
 * combined in order, so the result does not depend on timing.
 *
 * Float sums accumulate in double over 16 independent lanes (float32: runs of 8 per lane in
 * float first), vectorised, and as accurate as NumPy's pairwise sum or better. Integer sums
 * and products wrap like int64. */
#include "cpu_kernels.h"
#include "ops.h"
#include "../core/iter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* value in d (float dtypes) or i (integer/bool dtypes); k: arg index, -1 for an empty range */
typedef struct { double d; int64_t i; int64_t k; } part;

enum { P_SUM, P_SUMD, P_PROD, P_MAX, P_MIN, P_ALL, P_ANY, P_SQDEV, P_SUMEXP, P_ABSSUM, P_SQSUM, P_POWSUM, P_NNZ,
       P_MAXABS, P_MINABS };

#define SPLIT_GRAIN ((int64_t)1 << 15) /* elements per chunk when one row is split across threads */
#define ROW_GRAIN ((int64_t)1 << 15)   /* total elements before rows go parallel */
#define LANES 16
#include "vecmath.h" /* MT_CLONES, exp_neg_f32 */
#define VBYTES 32 /* vector width of the max/min loops (two SSE registers, one AVX one) */
typedef uint64_t u64vec __attribute__((vector_size(VBYTES)));


static bool pass_is_float(int pass) { return pass >= P_SQDEV && pass <= P_MINABS; }

/* ---------------- primitive passes, one set per dtype ---------------- */
#define DEF_PASSES(T, SFX, ISF, VT)                                                                                 \
    /* exact_double: every element goes straight into a double lane (var's mean) */                                 \
    MT_CLONES static part sum_##SFX(const T *x, int64_t n, bool exact_double) {                                     \
        part r = {0, 0, 0};                                                                                         \
        int64_t i = 0;                                                                                              \
        if (ISF) {                                                                                                  \
            double acc[LANES] = {0};                                                                                \
            if (sizeof(T) == 4 && !exact_double) /* float32: 8 per lane in float, then into double */               \
                for (; i + 8 * LANES <= n; i += 8 * LANES) {                                                        \
                    T f[LANES];                                                                                     \
                    for (int j = 0; j < LANES; j++) f[j] = x[i + j];                                                \
                    for (int k = 1; k < 8; k++)                                                                     \
                        for (int j = 0; j < LANES; j++) f[j] += x[i + k * LANES + j];                               \
                    for (int j = 0; j < LANES; j++) acc[j] += (double)f[j];                                         \
                }                                                                                                   \
            for (; i + LANES <= n; i += LANES)                                                                      \
                for (int j = 0; j < LANES; j++) acc[j] += (double)x[i + j];                                         \
            double s = 0;                                                                                           \
            for (; i < n; i++) s += (double)x[i];                                                                   \
            for (int j = 0; j < LANES; j++) s += acc[j];                                                            \
            r.d = s;                                                                                                \
        } else {                                                                                                    \
            uint64_t acc[LANES] = {0};                                                                              \
            for (; i + LANES <= n; i += LANES)                                                                      \
                for (int j = 0; j < LANES; j++) acc[j] += (uint64_t)(int64_t)x[i + j];                              \
            uint64_t s = 0;                                                                                         \
            for (; i < n; i++) s += (uint64_t)(int64_t)x[i];                                                        \
            for (int j = 0; j < LANES; j++) s += acc[j];                                                            \
            r.i = (int64_t)s;                                                                                       \
        }                                                                                                           \
        return r;                                                                                                   \
    }                                                                                                               \
    static part prod_##SFX(const T *x, int64_t n) {                                                                 \
        part r = {1, 1, 0};                                                                                         \
        if (ISF) { /* in the element type, as PyTorch: float32 overflows to inf (and inf * 0 is NaN) */            \
            __typeof__(x[0] + 0.0f) p = 1; /* float for float32, double for float64 */                              \
            for (int64_t i = 0; i < n; i++) p *= x[i];                                                              \
            r.d = (double)p;                                                                                        \
        } else {                                                                                                    \
            uint64_t p = 1;                                                                                         \
            for (int64_t i = 0; i < n; i++) p *= (uint64_t)(int64_t)x[i];                                           \
            r.i = (int64_t)p;                                                                                       \
        }                                                                                                           \
        return r;                                                                                                   \
    }                                                                                                               \
    /* first index of the max (min); a NaN wins at its first occurrence */                                          \
    static part arg_##SFX(const T *x, int64_t n, bool is_min) {                                                     \
        part r = {0, 0, -1};                                                                                        \
        if (n <= 0) return r;                                                                                       \
        T best = x[0];                                                                                              \
        int64_t bi = 0;                                                                                             \
        if (best == best) {                                                                                         \
            for (int64_t i = 1; i < n; i++) {                                                                       \
                T v = x[i];                                                                                         \
                if (v != v) { best = v; bi = i; break; }                                                            \
                if (is_min ? v < best : v > best) { best = v; bi = i; }                                             \
            }                                                                                                       \
        }                                                                                                           \
        if (ISF) r.d = (double)best;                                                                                \
        else r.i = (int64_t)best;                                                                                   \
        r.k = bi;                                                                                                   \
        return r;                                                                                                   \
    }                                                                                                               \
    /* max/min with GCC vector extensions (portable SIMD: SSE, NEON; the autovectoriser does not                    \
       if-convert float selects under -ftrapping-math), NaN found separately (then the scalar                       \
       path gives the first NaN); when the index is wanted, a vector search for its first match */                  \
    typedef VT vec_##SFX __attribute__((vector_size(VBYTES)));                                                      \
    MT_CLONES static part ext_##SFX(const T *x, int64_t n, bool is_min, bool want_idx) {                            \
        enum { W = VBYTES / sizeof(VT) };                                                                           \
        part r = {0, 0, -1};                                                                                        \
        if (n < 8 * W) return arg_##SFX(x, n, is_min);                                                              \
        const VT *xv = (const VT *)(const void *)x;                                                                 \
        vec_##SFX m0, m1, m2, m3, v0, v1, v2, v3, m[4];                                                             \
        memcpy(&m0, xv, VBYTES);                                                                                    \
        memcpy(&m1, xv + W, VBYTES);                                                                                \
        memcpy(&m2, xv + 2 * W, VBYTES);                                                                            \
        memcpy(&m3, xv + 3 * W, VBYTES);                                                                            \
        __typeof__(m0 != m0) nn = (m0 != m0) | (m1 != m1) | (m2 != m2) | (m3 != m3), g0, g1, g2, g3;                \
        typedef __typeof__(nn) msk;                                                                                 \
        int64_t i = 4 * W;                                                                                          \
        for (; i + 4 * W <= n; i += 4 * W) {                                                                        \
            memcpy(&v0, xv + i, VBYTES);                                                                            \
            memcpy(&v1, xv + i + W, VBYTES);                                                                        \
            memcpy(&v2, xv + i + 2 * W, VBYTES);                                                                    \
            memcpy(&v3, xv + i + 3 * W, VBYTES);                                                                    \
            if (is_min) { g0 = v0 < m0; g1 = v1 < m1; g2 = v2 < m2; g3 = v3 < m3; }                                 \
            else { g0 = v0 > m0; g1 = v1 > m1; g2 = v2 > m2; g3 = v3 > m3; }                                        \
            m0 = (vec_##SFX)((g0 & (msk)v0) | (~g0 & (msk)m0));                                                     \
            m1 = (vec_##SFX)((g1 & (msk)v1) | (~g1 & (msk)m1));                                                     \
            m2 = (vec_##SFX)((g2 & (msk)v2) | (~g2 & (msk)m2));                                                     \
            m3 = (vec_##SFX)((g3 & (msk)v3) | (~g3 & (msk)m3));                                                     \
            nn |= (v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3);                                                \
        }                                                                                                           \
        m[0] = m0;                                                                                                  \
        m[1] = m1;                                                                                                  \
        m[2] = m2;                                                                                                  \
        m[3] = m3;                                                                                                  \
        int anynan = 0;                                                                                             \
        T best = (T)m[0][0];                                                                                        \
        for (int q = 0; q < 4; q++)                                                                                 \
            for (int k = 0; k < W; k++) {                                                                           \
                T e = (T)m[q][k];                                                                                   \
                anynan |= nn[k] != 0;                                                                               \
                if (is_min ? e < best : e > best) best = e;                                                         \
            }                                                                                                       \
        for (int64_t t = i; t < n; t++) {                                                                           \
            T e = x[t];                                                                                             \
            anynan |= e != e;                                                                                       \
            if (is_min ? e < best : e > best) best = e;                                                             \
        }                                                                                                           \
        if (anynan) return arg_##SFX(x, n, is_min);                                                                 \
        if (ISF) r.d = (double)best;                                                                                \
        else r.i = (int64_t)best;                                                                                   \
        r.k = 0; /* without want_idx not an index: only "non-empty" */                                              \
        if (want_idx) {                                                                                             \
            vec_##SFX bv;                                                                                           \
            for (int k = 0; k < W; k++) bv[k] = (VT)best;                                                           \
            for (i = 0; i + 4 * W <= n; i += 4 * W) {                                                               \
                memcpy(&v0, xv + i, VBYTES);                                                                        \
                memcpy(&v1, xv + i + W, VBYTES);                                                                    \
                memcpy(&v2, xv + i + 2 * W, VBYTES);                                                                \
                memcpy(&v3, xv + i + 3 * W, VBYTES);                                                                \
                msk g = (v0 == bv) | (v1 == bv) | (v2 == bv) | (v3 == bv);                                          \
                u64vec h = (u64vec)g;                                                                               \
                uint64_t hit = 0;                                                                                   \
                for (int k = 0; k < VBYTES / 8; k++) hit |= h[k];                                                   \
                if (hit) break;                                                                                     \
            }                                                                                                       \
            while (i < n && x[i] != best) i++;                                                                      \
            r.k = i;                                                                                                \
        }                                                                                                           \
        return r;                                                                                                   \
    }                                                                                                               \
    static part all_##SFX(const T *x, int64_t n, bool any) {                                                        \
        part r = {0, any ? 0 : 1, 0};                                                                               \
        for (int64_t i = 0; i < n; i++)                                                                             \
            if ((x[i] != 0) == any) { r.i = any; break; }                                                           \
        return r;                                                                                                   \
    }

DEF_PASSES(bool, b, 0, uint8_t)
DEF_PASSES(int32_t, i32, 0, int32_t)
DEF_PASSES(int64_t, i64, 0, int64_t)
DEF_PASSES(float, f32, 1, float)
DEF_PASSES(double, f64, 1, double)

/* passes of the float-only ops (var, logsumexp, norm) */
#define DEF_FPASSES(T, SFX, EXP, POW)                                                                               \
    MT_CLONES static part fpass_##SFX(int pass, const T *x, int64_t n, double c) {                                  \
        part r = {0, 0, 0};                                                                                         \
        double acc[LANES] = {0};                                                                                    \
        double s = 0;                                                                                               \
        int64_t i = 0;                                                                                              \
        switch (pass) {                                                                                             \
        case P_SQDEV:                                                                                               \
            for (; i + LANES <= n; i += LANES)                                                                      \
                for (int j = 0; j < LANES; j++) { double d = (double)x[i + j] - c; acc[j] += d * d; }               \
            for (; i < n; i++) { double d = (double)x[i] - c; s += d * d; }                                         \
            break;                                                                                                  \
        case P_SQSUM:                                                                                               \
            for (; i + LANES <= n; i += LANES)                                                                      \
                for (int j = 0; j < LANES; j++) { double d = (double)x[i + j]; acc[j] += d * d; }                   \
            for (; i < n; i++) { double d = (double)x[i]; s += d * d; }                                             \
            break;                                                                                                  \
        case P_ABSSUM:                                                                                              \
            for (; i + LANES <= n; i += LANES)                                                                      \
                for (int j = 0; j < LANES; j++) acc[j] += fabs((double)x[i + j]);                                   \
            for (; i < n; i++) s += fabs((double)x[i]);                                                             \
            break;                                                                                                  \
        case P_SUMEXP: { /* c is the row max: every x - c <= 0 */                                                   \
            T cc = (T)c, buf[256];                                                                                  \
            for (; i < n; i += 256) {                                                                               \
                int64_t m = n - i < 256 ? n - i : 256;                                                              \
                for (int64_t j = 0; j < m; j++) buf[j] = EXP(x[i + j] - cc);                                        \
                int64_t j = 0;                                                                                      \
                for (; j + LANES <= m; j += LANES)                                                                  \
                    for (int q = 0; q < LANES; q++) acc[q] += (double)buf[j + q];                                   \
                for (; j < m; j++) s += (double)buf[j];                                                             \
            }                                                                                                       \
            break;                                                                                                  \
        }                                                                                                           \
        case P_POWSUM:                                                                                              \
            for (; i < n; i++) s += pow(fabs((double)x[i]), c);                                                     \
            break;                                                                                                  \
        case P_NNZ:                                                                                                 \
            for (; i < n; i++) s += x[i] != 0;                                                                      \
            break;                                                                                                  \
        case P_MAXABS: case P_MINABS: {                                                                             \
            r.k = -1;                                                                                               \
            if (n == 0) return r;                                                                                   \
            double best = fabs((double)x[0]);                                                                       \
            for (i = 1; i < n && best == best; i++) {                                                               \
                double v = fabs((double)x[i]);                                                                      \
                if (v != v || (pass == P_MAXABS ? v > best : v < best)) best = v;                                   \
            }                                                                                                       \
            r.d = best;                                                                                             \
            r.k = 0;                                                                                                \
            return r;                                                                                               \
        }                                                                                                           \
        default: break;                                                                                             \
        }                                                                                                           \
        for (int j = 0; j < LANES; j++) s += acc[j];                                                                \
        r.d = s;                                                                                                    \
        return r;                                                                                                   \
    }
DEF_FPASSES(float, f32, exp_neg_f32, powf)
DEF_FPASSES(double, f64, exp, pow)

/* one pass over x[lo, hi) of a row of dtype dt; c: the pass's parameter */
static part range_pass(int pass, mt_dtype dt, const char *row, int64_t lo, int64_t hi, double c) {
    int64_t n = hi - lo;
    size_t es = mt_dtype_sizes[dt];
    const void *x = row + (size_t)lo * es;
    if (pass_is_float(pass)) return dt == MT_FLOAT32 ? fpass_f32(pass, x, n, c) : fpass_f64(pass, x, n, c);
    bool flag = pass == P_MIN || pass == P_ANY;
    part r;
#define DISPATCH(FN)                                                                                                \
    switch (dt) {                                                                                                   \
    case MT_BOOL: r = FN##_b(x ARGS); break;                                                                        \
    case MT_INT32: r = FN##_i32(x ARGS); break;                                                                     \
    case MT_INT64: r = FN##_i64(x ARGS); break;                                                                     \
    case MT_FLOAT32: r = FN##_f32(x ARGS); break;                                                                   \
    default: r = FN##_f64(x ARGS); break;                                                                           \
    }
    switch (pass) {
#define ARGS , n, pass == P_SUMD
    case P_SUM: case P_SUMD: DISPATCH(sum) break;
#undef ARGS
#define ARGS , n
    case P_PROD: DISPATCH(prod) break;
#undef ARGS
#define ARGS , n, flag, c != 0
    case P_MAX: case P_MIN: DISPATCH(ext) break; /* c != 0: the index is wanted */
#undef ARGS
#define ARGS , n, flag
    default: DISPATCH(all) break;
#undef ARGS
    }
#undef DISPATCH
    if ((pass == P_MAX || pass == P_MIN) && r.k >= 0) r.k += lo;
    return r;
}

/* combine partials of consecutive ranges a (earlier) and b (later) */
static part combine(int pass, mt_dtype dt, part a, part b) {
    bool isf = mt_is_floating(dt);
    switch (pass) {
    case P_SUM: case P_SUMD: a.d += b.d; a.i = (int64_t)((uint64_t)a.i + (uint64_t)b.i); return a;
    case P_PROD:
        a.d = dt == MT_FLOAT32 ? (double)((float)a.d * (float)b.d) : a.d * b.d;
        a.i = (int64_t)((uint64_t)a.i * (uint64_t)b.i);
        return a;
    case P_MAX: case P_MIN:
        if (b.k < 0) return a;
        if (a.k < 0) return b;
        if (isf) {
            if (a.d != a.d) return a;
            if (b.d != b.d) return b;
            return (pass == P_MAX ? b.d > a.d : b.d < a.d) ? b : a;
        }
        return (pass == P_MAX ? b.i > a.i : b.i < a.i) ? b : a;
    case P_ALL: a.i = a.i && b.i; return a;
    case P_ANY: a.i = a.i || b.i; return a;
    case P_MAXABS: case P_MINABS:
        if (b.k < 0) return a;
        if (a.k < 0) return b;
        if (a.d != a.d) return a;
        if (b.d != b.d) return b;
        return (pass == P_MAXABS ? b.d > a.d : b.d < a.d) ? b : a;
    default: a.d += b.d; return a;
    }
}

/* A whole pass over a row of n elements; split across threads when `split`. */
static part row_pass(int pass, mt_dtype dt, const char *row, int64_t n, double c, bool split) {
    int nt = mt_num_threads();
    int64_t chunks = n / SPLIT_GRAIN;
    if (chunks > nt) chunks = nt;
    if (!split || chunks < 2) return range_pass(pass, dt, row, 0, n, c);
#ifdef _OPENMP
    part parts[256];
    if (chunks > 256) chunks = 256;
#pragma omp parallel for num_threads((int)chunks) schedule(static)
    for (int64_t ch = 0; ch < chunks; ch++) {
        int64_t lo = (n * ch / chunks) & ~(int64_t)15;
        int64_t hi = ch == chunks - 1 ? n : (n * (ch + 1) / chunks) & ~(int64_t)15;
        parts[ch] = range_pass(pass, dt, row, lo, hi, c);
    }
    part r = parts[0];
    for (int64_t ch = 1; ch < chunks; ch++) r = combine(pass, dt, r, parts[ch]);
    return r;
#else
    return range_pass(pass, dt, row, 0, n, c);
#endif
}

static void store(mt_dtype dt, void *out, int64_t o, double d, int64_t i) {
    switch (dt) {
    case MT_BOOL: ((bool *)out)[o] = i != 0; break;
    case MT_INT32: ((int32_t *)out)[o] = (int32_t)i; break;
    case MT_INT64: ((int64_t *)out)[o] = i; break;
    case MT_FLOAT32: ((float *)out)[o] = (float)d; break;
    default: ((double *)out)[o] = d; break;
    }
}

static void reduce_row(const mt_reduce_args *r, mt_dtype dt, const char *row, int64_t n, bool split, void *out,
                       int64_t *idx, int64_t o) {
    bool isf = mt_is_floating(dt);
    part p;
    switch (r->op) {
    case MT_RED_SUM: case MT_RED_MEAN:
        p = row_pass(P_SUM, dt, row, n, 0, split);
        if (r->op == MT_RED_MEAN) p.d /= (double)n;
        store(dt, out, o, p.d, p.i);
        break;
    case MT_RED_PROD:
        p = row_pass(P_PROD, dt, row, n, 0, split);
        store(dt, out, o, p.d, p.i);
        break;
    case MT_RED_MAX: case MT_RED_MIN: case MT_RED_ARGMAX: case MT_RED_ARGMIN: {
        bool is_max = r->op == MT_RED_MAX || r->op == MT_RED_ARGMAX;
        bool want_idx = idx || r->op == MT_RED_ARGMAX || r->op == MT_RED_ARGMIN;
        p = row_pass(is_max ? P_MAX : P_MIN, dt, row, n, want_idx ? 1 : 0, split);
        if (r->op == MT_RED_MAX || r->op == MT_RED_MIN) store(dt, out, o, p.d, p.i);
        else ((int64_t *)out)[o] = p.k;
        if (idx) idx[o] = p.k;
        break;
    }
    case MT_RED_ALL: case MT_RED_ANY:
        p = row_pass(r->op == MT_RED_ALL ? P_ALL : P_ANY, dt, row, n, 0, split);
        ((bool *)out)[o] = p.i != 0;
        break;
    case MT_RED_VAR: {
        double mean = row_pass(P_SUMD, dt, row, n, 0, split).d / (double)n;
        double ss = row_pass(P_SQDEV, dt, row, n, mean, split).d;
        double dof = (double)n - r->p;
        store(dt, out, o, ss / (dof > 0 ? dof : 0), 0);
        break;
    }
    case MT_RED_LOGSUMEXP: {
        p = row_pass(P_MAX, dt, row, n, 0, split);
        double m = p.k < 0 ? -INFINITY : p.d;
        if (isinf(m) || isnan(m)) { /* all -inf or empty: -inf; a +inf: +inf; a NaN: NaN */
            store(dt, out, o, m, 0);
            break;
        }
        double s = row_pass(P_SUMEXP, dt, row, n, m, split).d;
        store(dt, out, o, log(s) + m, 0);
        break;
    }
    case MT_RED_NORM: {
        double pn = r->p, v;
        if (pn == 2) v = sqrt(row_pass(P_SQSUM, dt, row, n, 0, split).d);
        else if (pn == 1) v = row_pass(P_ABSSUM, dt, row, n, 0, split).d;
        else if (pn == 0) v = row_pass(P_NNZ, dt, row, n, 0, split).d;
        else if (isinf(pn)) v = row_pass(pn > 0 ? P_MAXABS : P_MINABS, dt, row, n, 0, split).d;
        else v = pow(row_pass(P_POWSUM, dt, row, n, pn, split).d, 1.0 / pn);
        store(dt, out, o, v, 0);
        break;
    }
    default: break;
    }
    (void)isf;
}

int mt_cpu_reduce(const mt_reduce_args *r, mt_tensor *out, mt_tensor *idx, const mt_tensor *in) {
    mt_dtype dt = in->dtype;
    bool fonly = r->op == MT_RED_MEAN || r->op == MT_RED_VAR || r->op == MT_RED_LOGSUMEXP || r->op == MT_RED_NORM;
    if (r->op < MT_RED_SUM || r->op > MT_RED_ARGMIN || (fonly && !mt_is_floating(dt))) {
        mt_error(MT_ERR_RUNTIME, "reduce kernel: op %d not implemented for dtype %s", r->op, mt_dtype_names[dt]);
        return -1;
    }
    mt_dtype want = r->op == MT_RED_ALL || r->op == MT_RED_ANY ? MT_BOOL
                    : r->op == MT_RED_ARGMAX || r->op == MT_RED_ARGMIN ? MT_INT64 : dt;
    if (out->dtype != want || (idx && idx->dtype != MT_INT64)) {
        mt_error(MT_ERR_RUNTIME, "reduce kernel: unexpected output dtype %s", mt_dtype_names[out->dtype]);
        return -1;
    }
    int64_t outer = r->outer, inner = r->inner;
    if (outer <= 0) return 0;
    const char *base = (const char *)mt_data(in);
    void *o = mt_data(out);
    int64_t *ip = idx ? (int64_t *)mt_data(idx) : NULL;
    size_t rowbytes = (size_t)inner * mt_dtype_sizes[dt];
    int nt = mt_num_threads();
    if (outer < nt && inner >= 2 * SPLIT_GRAIN) {
        /* few long rows: split each row across the threads */
        for (int64_t k = 0; k < outer; k++) reduce_row(r, dt, base + k * rowbytes, inner, true, o, ip, k);
        return 0;
    }
#pragma omp parallel for schedule(static) if (outer > 1 && outer * (inner + 1) >= 2 * ROW_GRAIN)
    for (int64_t k = 0; k < outer; k++) reduce_row(r, dt, base + k * rowbytes, inner, false, o, ip, k);
    return 0;
}

/* ---------------- softmax ---------------- */
/* row max (NaN if any), the exps of the shifted row into y, their sum; all loops vectorise */
MT_CLONES static double dot_f32(const float *a, const float *b, int64_t n) {
    double acc[LANES] = {0}, s = 0;
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) acc[j] += (double)a[i + j] * (double)b[i + j];
    for (; i < n; i++) s += (double)a[i] * (double)b[i];
    for (int j = 0; j < LANES; j++) s += acc[j];
    return s;
}
MT_CLONES static double dot_f64(const double *a, const double *b, int64_t n) {
    double acc[LANES] = {0}, s = 0;
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) acc[j] += a[i + j] * b[i + j];
    for (; i < n; i++) s += a[i] * b[i];
    for (int j = 0; j < LANES; j++) s += acc[j];
    return s;
}
#define DEF_SOFTMAX(T, SFX, EXP, EXPANY)                                                                            \
    MT_CLONES static void softmax_row_##SFX(T *y, const T *x, int64_t n, bool lg) {                                 \
        T m = (T)ext_##SFX(x, n, false, false).d; /* NaN if the row has one */                                      \
        for (int64_t i = 0; i < n; i++) y[i] = EXP(x[i] - m);                                                       \
        double s = sum_##SFX(y, n, false).d;                                                                        \
        if (lg) {                                                                                                   \
            T ls = (T)log(s);                                                                                       \
            for (int64_t i = 0; i < n; i++) y[i] = x[i] - m - ls;                                                   \
        } else {                                                                                                    \
            T inv = (T)(1.0 / s);                                                                                   \
            for (int64_t i = 0; i < n; i++) y[i] *= inv;                                                            \
        }                                                                                                           \
    }                                                                                                               \
    MT_CLONES static void softmax_bw_row_##SFX(T *gi, const T *go, const T *y, int64_t n, bool lg) {                \
        if (lg) {                                                                                                   \
            T ts = (T)sum_##SFX(go, n, false).d;                                                                    \
            for (int64_t i = 0; i < n; i++) gi[i] = go[i] - EXPANY(y[i]) * ts;                                      \
        } else {                                                                                                    \
            T ts = (T)dot_##SFX(go, y, n);                                                                          \
            for (int64_t i = 0; i < n; i++) gi[i] = y[i] * (go[i] - ts);                                            \
        }                                                                                                           \
    }
/* log-probabilities are <= 0, so the fast exp serves log_softmax's backward too */
DEF_SOFTMAX(float, f32, exp_neg_f32, exp_neg_f32)
DEF_SOFTMAX(double, f64, exp, exp)

static int check_float(const mt_tensor *t, const char *what) {
    if (!mt_is_floating(t->dtype)) {
        mt_error(MT_ERR_NOTIMPL, "\"%s\" not implemented for '%s'", what, mt_type_name(t->dtype));
        return -1;
    }
    return 0;
}

int mt_cpu_softmax(mt_tensor *out, const mt_tensor *in, int64_t outer, int64_t inner, bool log) {
    if (check_float(in, log ? "log_softmax_cpu" : "softmax_cpu") < 0) return -1;
    if (outer <= 0 || inner <= 0) return 0;
    char *yb = mt_data(out);
    const char *xb = mt_data(in);
    size_t rb = (size_t)inner * mt_dtype_sizes[in->dtype];
    bool f32 = in->dtype == MT_FLOAT32;
#pragma omp parallel for schedule(static) if (outer > 1 && outer * inner >= 2 * ROW_GRAIN)
    for (int64_t k = 0; k < outer; k++) {
        if (f32) softmax_row_f32((float *)(yb + k * rb), (const float *)(xb + k * rb), inner, log);
        else softmax_row_f64((double *)(yb + k * rb), (const double *)(xb + k * rb), inner, log);
    }
    return 0;
}

int mt_cpu_softmax_backward(mt_tensor *gin, const mt_tensor *gout, const mt_tensor *y, int64_t outer, int64_t inner,
                            bool log) {
    if (check_float(y, log ? "log_softmax_backward_cpu" : "softmax_backward_cpu") < 0) return -1;
    if (outer <= 0 || inner <= 0) return 0;
    char *gib = mt_data(gin);
    const char *gob = mt_data(gout), *yb = mt_data(y);
    size_t rb = (size_t)inner * mt_dtype_sizes[y->dtype];
    bool f32 = y->dtype == MT_FLOAT32;
#pragma omp parallel for schedule(static) if (outer > 1 && outer * inner >= 2 * ROW_GRAIN)
    for (int64_t k = 0; k < outer; k++) {
        if (f32)
            softmax_bw_row_f32((float *)(gib + k * rb), (const float *)(gob + k * rb), (const float *)(yb + k * rb),
                               inner, log);
        else
            softmax_bw_row_f64((double *)(gib + k * rb), (const double *)(gob + k * rb), (const double *)(yb + k * rb),
                               inner, log);
    }
    return 0;
}

/* CPU kernels for the unary and binary elementwise ops (tables in ops.h).
 * One inner loop per (op, compute dtype); the loop has a contiguous fast path
 * the compiler vectorises and a generic strided path. */
#include "ops.h"
#include "../core/iter.h"
#include "vecmath.h" /* MT_CLONES, exp_neg_f32 */

#include <math.h>

/* bool operands go through the same templates: x * y on bools is meant */
#pragma GCC diagnostic ignored "-Wint-in-bool-context"
#include <string.h>

typedef struct { const double *params; volatile int err; } ew_ctx;
enum { EW_ERR_ZERODIV = 1, EW_ERR_NEGPOW = 2 };

/* ---------------- scalar helpers (type-generic via _Generic) ---------------- */
static inline float fdiv_f32(float a, float b) {
    if (b == 0) return a / b;
    float mod = fmodf(a, b), div = (a - mod) / b;
    if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;
    float fl;
    if (div != 0) { fl = floorf(div); if (div - fl > 0.5f) fl += 1; }
    else fl = copysignf(0, a / b);
    return fl;
}
static inline double fdiv_f64(double a, double b) {
    if (b == 0) return a / b;
    double mod = fmod(a, b), div = (a - mod) / b;
    if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;
    double fl;
    if (div != 0) { fl = floor(div); if (div - fl > 0.5) fl += 1; }
    else fl = copysign(0, a / b);
    return fl;
}
#define IFDIV(T, NAME)                                                          \
    static inline T NAME(T a, T b, ew_ctx *c) {                                 \
        if (b == 0) { c->err = EW_ERR_ZERODIV; return 0; }                      \
        if (b == -1) return (T)(0 - (uint64_t)a); /* INT_MIN / -1 would trap */  \
        T q = a / b;                                                            \
        if ((a % b != 0) && ((a < 0) != (b < 0))) q--;                          \
        return q;                                                               \
    }                                                                           \
    static inline T NAME##_mod(T a, T b, ew_ctx *c) {                           \
        if (b == 0) { c->err = EW_ERR_ZERODIV; return 0; }                      \
        if (b == -1) return 0;                                                  \
        T r = a % b;                                                            \
        if (r != 0 && ((r < 0) != (b < 0))) r += b;                             \
        return r;                                                               \
    }
IFDIV(int32_t, fdiv_i32)
IFDIV(int64_t, fdiv_i64)
static inline bool fdiv_b(bool a, bool b, ew_ctx *c) { if (!b) c->err = EW_ERR_ZERODIV; return a; }
static inline bool fdiv_b_mod(bool a, bool b, ew_ctx *c) { if (!b) c->err = EW_ERR_ZERODIV; (void)a; return 0; }
static inline float fmod_f32(float a, float b, ew_ctx *c) {
    (void)c; float r = fmodf(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}
static inline double fmod_f64(double a, double b, ew_ctx *c) {
    (void)c; double r = fmod(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}
#define IPOW(T, NAME)                                                      \
    static inline T NAME(T b, T e, ew_ctx *c) {                            \
        if (e < 0) {                                                       \
            if (b == 1) return 1;                                          \
            if (b == -1) return (e & 1) ? -1 : 1;                          \
            c->err = EW_ERR_NEGPOW;                                        \
            return 0;                                                      \
        }                                                                  \
        uint64_t r = 1, bb = (uint64_t)b;                                  \
        while (e) { if (e & 1) r *= bb; bb *= bb; e >>= 1; }               \
        return (T)r;                                                       \
    }
IPOW(int32_t, ipow_i32)
IPOW(int64_t, ipow_i64)
static inline bool ipow_b(bool b, bool e, ew_ctx *c) { (void)c; return e ? b : 1; }

#define FLOORDIV(x, y) _Generic((x), float: fdiv_f32(x, y), double: fdiv_f64(x, y), \
    int32_t: fdiv_i32(x, y, c), int64_t: fdiv_i64(x, y, c), bool: fdiv_b(x, y, c))
#define REMAINDER(x, y) _Generic((x), float: fmod_f32(x, y, c), double: fmod_f64(x, y, c), \
    int32_t: fdiv_i32_mod(x, y, c), int64_t: fdiv_i64_mod(x, y, c), bool: fdiv_b_mod(x, y, c))
#define POWER(x, y) _Generic((x), float: powf(x, y), double: pow(x, y), \
    int32_t: ipow_i32(x, y, c), int64_t: ipow_i64(x, y, c), bool: ipow_b(x, y, c))
#define ISNAN(x) ((x) != (x))

/* ---------------- binary loops ---------------- */
#define BINARY_LOOP(NAME, T, OT, EXPR)                                                             \
    static void NAME(char **d, const int64_t *s, int64_t n, void *ctx_) {                          \
        ew_ctx *c = ctx_; (void)c;                                                                 \
        if (s[0] == sizeof(OT) && s[1] == sizeof(T) && s[2] == sizeof(T)) {                        \
            OT *o = (OT *)d[0]; const T *pa = (const T *)d[1], *pb = (const T *)d[2];              \
            for (int64_t i = 0; i < n; i++) { T x = pa[i], y = pb[i]; o[i] = (OT)(EXPR); }         \
        } else if (s[0] == sizeof(OT) && s[1] == sizeof(T) && s[2] == 0) {                         \
            OT *o = (OT *)d[0]; const T *pa = (const T *)d[1]; const T y = *(const T *)d[2];       \
            for (int64_t i = 0; i < n; i++) { T x = pa[i]; o[i] = (OT)(EXPR); }                    \
        } else if (s[0] == sizeof(OT) && s[1] == 0 && s[2] == sizeof(T)) {                         \
            OT *o = (OT *)d[0]; const T x = *(const T *)d[1]; const T *pb = (const T *)d[2];       \
            for (int64_t i = 0; i < n; i++) { T y = pb[i]; o[i] = (OT)(EXPR); }                    \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T x = *(const T *)(d[1] + i * s[1]), y = *(const T *)(d[2] + i * s[2]);            \
                *(OT *)(d[0] + i * s[0]) = (OT)(EXPR);                                             \
            }                                                                                      \
        }                                                                                          \
    }

/* arithmetic: output has the compute dtype */
#define ARITH(OPNAME, EXPR)                                   \
    BINARY_LOOP(OPNAME##_b, bool, bool, EXPR)                 \
    BINARY_LOOP(OPNAME##_i32, int32_t, int32_t, EXPR)         \
    BINARY_LOOP(OPNAME##_i64, int64_t, int64_t, EXPR)         \
    BINARY_LOOP(OPNAME##_f32, float, float, EXPR)             \
    BINARY_LOOP(OPNAME##_f64, double, double, EXPR)
/* predicates: bool output */
#define PRED(OPNAME, EXPR)                                    \
    BINARY_LOOP(OPNAME##_b, bool, bool, EXPR)                 \
    BINARY_LOOP(OPNAME##_i32, int32_t, bool, EXPR)            \
    BINARY_LOOP(OPNAME##_i64, int64_t, bool, EXPR)            \
    BINARY_LOOP(OPNAME##_f32, float, bool, EXPR)              \
    BINARY_LOOP(OPNAME##_f64, double, bool, EXPR)

ARITH(add, x + y)
ARITH(sub, x - y)
ARITH(mul, x * y)
ARITH(div, x / (y))
ARITH(floor_divide, FLOORDIV(x, y))
ARITH(remainder, REMAINDER(x, y))
ARITH(pow, POWER(x, y))
ARITH(maximum, (ISNAN(x) || x > y) ? x : y)
ARITH(minimum, (ISNAN(x) || x < y) ? x : y)
PRED(eq, x == y)
PRED(ne, x != y)
PRED(lt, x < y)
PRED(le, x <= y)
PRED(gt, x > y)
PRED(ge, x >= y)
PRED(logical_and, (x != 0) && (y != 0))
PRED(logical_or, (x != 0) || (y != 0))
PRED(logical_xor, (x != 0) != (y != 0))

/* bool division is never dispatched (it promotes to float), but the table wants an entry */
#define BROW(name) {name##_b, name##_i32, name##_i64, name##_f32, name##_f64},
static const mt_loop_fn binary_loops[MT_NUM_BINARY][MT_NUM_DTYPES] = {
#define X(ID, name, node) BROW(name)
    MT_BINARY_OPS(X)
#undef X
};

static int report(ew_ctx *c) {
    if (c->err == EW_ERR_ZERODIV) { mt_error(MT_ERR_ZERODIV, "ZeroDivisionError"); return -1; }
    if (c->err == EW_ERR_NEGPOW) { mt_error(MT_ERR_RUNTIME, "Integers to negative integer powers are not allowed."); return -1; }
    return 0;
}

int mt_cpu_binary(int op, mt_tensor *out, const mt_tensor *a, const mt_tensor *b, const mt_scalar *s, bool scalar_first) {
    mt_dtype ct = a->dtype;
    union { bool b; int32_t i32; int64_t i64; float f32; double f64; } u;
    switch (ct) {
    case MT_BOOL: u.b = s ? s->i != 0 : 0; break;
    case MT_INT32: u.i32 = s ? (int32_t)s->i : 0; break;
    case MT_INT64: u.i64 = s ? s->i : 0; break;
    case MT_FLOAT32: u.f32 = s ? (float)s->f : 0; break;
    default: u.f64 = s ? s->f : 0; break;
    }
    mt_iter it;
    mt_tensor *ops[3] = {out, (mt_tensor *)a, (mt_tensor *)b};
    void *ptrs[3] = {NULL, NULL, &u};
    if (!b && scalar_first) { ops[1] = NULL; ops[2] = (mt_tensor *)a; ptrs[1] = &u; ptrs[2] = NULL; }
    if (mt_iter_init(&it, 3, ops, ptrs) < 0) return -1;
    ew_ctx c = {NULL, 0};
    mt_iter_run(&it, binary_loops[op][ct], &c, 1 << 15);
    return report(&c);
}

/* ---------------- unary loops ---------------- */
#define UNARY_LOOP(NAME, T, OT, EXPR)                                                    \
    static void NAME(char **d, const int64_t *s, int64_t n, void *ctx_) {                \
        const double *prm = ((ew_ctx *)ctx_)->params; (void)prm;                         \
        if (s[0] == sizeof(OT) && s[1] == sizeof(T)) {                                   \
            OT *o = (OT *)d[0]; const T *in = (const T *)d[1];                           \
            for (int64_t i = 0; i < n; i++) { T x = in[i]; o[i] = (OT)(EXPR); }          \
        } else {                                                                         \
            for (int64_t i = 0; i < n; i++) {                                            \
                T x = *(const T *)(d[1] + i * s[1]);                                     \
                *(OT *)(d[0] + i * s[0]) = (OT)(EXPR);                                   \
            }                                                                            \
        }                                                                                \
    }
#define UFLOAT(NAME, EF, ED) UNARY_LOOP(NAME##_f32, float, float, EF) UNARY_LOOP(NAME##_f64, double, double, ED)
#define UINT(NAME, E) UNARY_LOOP(NAME##_i32, int32_t, int32_t, E) UNARY_LOOP(NAME##_i64, int64_t, int64_t, E)
#define UALL(NAME, E) UFLOAT(NAME, E, E) UINT(NAME, E)
#define UPRED(NAME, E)                                                                      \
    UNARY_LOOP(NAME##_b, bool, bool, E) UNARY_LOOP(NAME##_i32, int32_t, bool, E)            \
    UNARY_LOOP(NAME##_i64, int64_t, bool, E) UNARY_LOOP(NAME##_f32, float, bool, E)         \
    UNARY_LOOP(NAME##_f64, double, bool, E)

UALL(neg, -x)
UFLOAT(abs, fabsf(x), fabs(x))
UINT(abs, x < 0 ? -x : x)
UFLOAT(exp, expf(x), exp(x))
UFLOAT(log, logf(x), log(x))
UFLOAT(log1p, log1pf(x), log1p(x))
UFLOAT(expm1, expm1f(x), expm1(x))
UFLOAT(sqrt, sqrtf(x), sqrt(x))
UFLOAT(rsqrt, 1.0f / sqrtf(x), 1.0 / sqrt(x))
UFLOAT(sin, sinf(x), sin(x))
UFLOAT(cos, cosf(x), cos(x))
#define UNARY_LOOP_VEC(NAME, T, EXPR)                                                    \
    MT_CLONES static void NAME(char **d, const int64_t *s, int64_t n, void *ctx_) {      \
        (void)ctx_;                                                                      \
        if (s[0] == sizeof(T) && s[1] == sizeof(T)) {                                    \
            T *restrict o = (T *)d[0];                                                   \
            const T *restrict in = (const T *)d[1];                                      \
            _Pragma("omp simd")                                                          \
            for (int64_t i = 0; i < n; i++) { T x = in[i]; o[i] = (EXPR); }              \
        } else {                                                                         \
            for (int64_t i = 0; i < n; i++) {                                            \
                T x = *(const T *)(d[1] + i * s[1]);                                     \
                *(T *)(d[0] + i * s[0]) = (EXPR);                                        \
            }                                                                            \
        }                                                                                \
    }
UNARY_LOOP_VEC(tanh_f32, float, tanh_vec_f32(x))
UNARY_LOOP(tanh_f64, double, double, tanh(x))
UNARY_LOOP_VEC(sigmoid_f32, float, sigmoid_vec_f32(x))
UNARY_LOOP(sigmoid_f64, double, double, 1.0 / (1.0 + exp(-x)))
UALL(relu, (ISNAN(x) || x > 0) ? x : 0)
UALL(sign, ISNAN(x) ? 0 : (x > 0) - (x < 0))
UFLOAT(floor, floorf(x), floor(x))
UFLOAT(ceil, ceilf(x), ceil(x))
UFLOAT(round, nearbyintf(x), nearbyint(x))
UFLOAT(trunc, truncf(x), trunc(x))
UFLOAT(reciprocal, 1.0f / x, 1.0 / x)
UFLOAT(erf, erff(x), erf(x))
UPRED(logical_not, !(x != 0))
UPRED(isnan, ISNAN(x))
UPRED(isinf, (x == INFINITY || x == -INFINITY))
UPRED(isfinite, !(ISNAN(x) || x == INFINITY || x == -INFINITY))
/* params: {has_lo, lo, has_hi, hi}; NaN stays NaN because both comparisons are false */
#define CLAMP_E(T) (prm[0] != 0 && x < (T)prm[1]) ? (T)prm[1] : ((prm[2] != 0 && x > (T)prm[3]) ? (T)prm[3] : x)
UNARY_LOOP(clamp_f32, float, float, CLAMP_E(float))
UNARY_LOOP(clamp_f64, double, double, CLAMP_E(double))
UNARY_LOOP(clamp_i32, int32_t, int32_t, CLAMP_E(int32_t))
UNARY_LOOP(clamp_i64, int64_t, int64_t, CLAMP_E(int64_t))

/* unary_loops[op][dtype]; NULL = not defined for that dtype (the op layer promotes first) */
#define UF(name) {NULL, NULL, NULL, name##_f32, name##_f64},
#define UA(name) {NULL, name##_i32, name##_i64, name##_f32, name##_f64},
#define UP(name) {name##_b, name##_i32, name##_i64, name##_f32, name##_f64},
static const mt_loop_fn unary_loops[MT_NUM_UNARY][MT_NUM_DTYPES] = {
    UA(neg) UA(abs) UF(exp) UF(log) UF(log1p) UF(expm1) UF(sqrt) UF(rsqrt) UF(sin) UF(cos) UF(tanh) UF(sigmoid)
    UA(relu) UA(sign) UF(floor) UF(ceil) UF(round) UF(trunc) UF(reciprocal) UP(logical_not) UP(isnan) UP(isinf)
    UP(isfinite) UA(clamp) UF(erf)
};

int mt_cpu_unary(int op, mt_tensor *out, const mt_tensor *a, const double *params) {
    mt_loop_fn fn = unary_loops[op][a->dtype];
    if (!fn) {
        mt_error(MT_ERR_RUNTIME, "\"%s_cpu\" not implemented for '%s'", mt_unary_names[op], mt_type_name(a->dtype));
        return -1;
    }
    mt_iter it;
    mt_tensor *ops[2] = {out, (mt_tensor *)a};
    if (mt_iter_init(&it, 2, ops, NULL) < 0) return -1;
    ew_ctx c = {params, 0};
    mt_iter_run(&it, fn, &c, 1 << 14);
    return 0;
}

/* ---------------- where ---------------- */
#define WHERE_LOOP(NAME, T)                                                                        \
    static void NAME(char **d, const int64_t *s, int64_t n, void *ctx) {                           \
        (void)ctx;                                                                                 \
        for (int64_t i = 0; i < n; i++)                                                            \
            *(T *)(d[0] + i * s[0]) = *(const bool *)(d[1] + i * s[1]) ? *(const T *)(d[2] + i * s[2]) \
                                                                       : *(const T *)(d[3] + i * s[3]); \
    }
WHERE_LOOP(where_b, bool)
WHERE_LOOP(where_i32, int32_t)
WHERE_LOOP(where_i64, int64_t)
WHERE_LOOP(where_f32, float)
WHERE_LOOP(where_f64, double)
static const mt_loop_fn where_loops[MT_NUM_DTYPES] = {where_b, where_i32, where_i64, where_f32, where_f64};

int mt_cpu_where(mt_tensor *out, const mt_tensor *cond, const mt_tensor *a, const mt_tensor *b) {
    mt_iter it;
    mt_tensor *ops[4] = {out, (mt_tensor *)cond, (mt_tensor *)a, (mt_tensor *)b};
    if (mt_iter_init(&it, 4, ops, NULL) < 0) return -1;
    mt_iter_run(&it, where_loops[out->dtype], NULL, 1 << 15);
    return 0;
}

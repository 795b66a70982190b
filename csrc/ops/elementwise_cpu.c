/* CPU kernels for the unary and binary elementwise ops (declared in elementwise_ops.h).
 * One inner loop per (op, compute dtype); the loop has a contiguous fast path
 * the compiler vectorises and a generic strided path. The kernel tables are built from the
 * declarations, so an op without its loops here does not compile. */
#define _GNU_SOURCE /* lgamma_r: glibc's lgamma writes the global signgam from every thread */
#include "ops.h"
#include "../core/iter.h"
#include "vecmath.h" /* MT_CLONES, exp_neg_f32 */
#include "special_math.h"

#include <math.h>

/* bool operands go through the same templates: x * y on bools is meant */
#pragma GCC diagnostic ignored "-Wint-in-bool-context"
#include <string.h>

/* scalar_exponent: the second operand is a Python number (pow's scalar form, whose +-0.5 torch computes as
 * sqrt / rsqrt: (-0.0) ** 0.5 is -0.0 and (-inf) ** 0.5 nan there, where C's pow gives +0.0 and inf) */
typedef struct { const double *params; volatile int err; bool scalar_exponent; } ew_ctx;
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
static inline float pyrem_f32(float a, float b, ew_ctx *c) {
    (void)c; float r = fmodf(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}
static inline double pyrem_f64(double a, double b, ew_ctx *c) {
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
#define REMAINDER(x, y) _Generic((x), float: pyrem_f32(x, y, c), double: pyrem_f64(x, y, c), \
    int32_t: fdiv_i32_mod(x, y, c), int64_t: fdiv_i64_mod(x, y, c), bool: fdiv_b_mod(x, y, c))
static inline float fpow_f32(float x, float y, ew_ctx *c) {
    if (c->scalar_exponent && (y == 0.5f || y == -0.5f)) return y > 0 ? sqrtf(x) : 1.0f / sqrtf(x);
    return powf(x, y);
}
static inline double fpow_f64(double x, double y, ew_ctx *c) {
    if (c->scalar_exponent && (y == 0.5 || y == -0.5)) return y > 0 ? sqrt(x) : 1.0 / sqrt(x);
    return pow(x, y);
}
#define POWER(x, y) _Generic((x), float: fpow_f32(x, y, c), double: fpow_f64(x, y, c), \
    int32_t: ipow_i32(x, y, c), int64_t: ipow_i64(x, y, c), bool: ipow_b(x, y, c))
#define ISNAN(x) ((x) != (x))
/* fmod: C's remainder with the sign of the dividend; integer division by zero raises */
#define IFMOD(T, NAME) \
    static inline T NAME(T a, T b, ew_ctx *c) { if (b == 0) { c->err = EW_ERR_ZERODIV; return 0; } return b == -1 ? 0 : a % b; }
IFMOD(int32_t, ifmod_i32)
IFMOD(int64_t, ifmod_i64)
#define FMOD(x, y) _Generic((x), float: fmodf(x, y), double: fmod(x, y), int32_t: ifmod_i32(x, y, c), \
    int64_t: ifmod_i64(x, y, c), bool: fdiv_b_mod(x, y, c))
/* log(exp(a) + exp(b)) without overflow; equal infinities stay themselves */
static inline float lae_f32(float a, float b) {
    if (isinf(a) && a == b) return a;
    float m = a > b ? a : b;
    return m + log1pf(expf(-fabsf(a - b)));
}
static inline double lae_f64(double a, double b) {
    if (isinf(a) && a == b) return a;
    double m = a > b ? a : b;
    return m + log1p(exp(-fabs(a - b)));
}
static inline float lae2_f32(float a, float b) {
    if (isinf(a) && a == b) return a;
    float m = a > b ? a : b;
    return m + log1pf(exp2f(-fabsf(a - b))) / 0.6931471805599453f;
}
static inline double lae2_f64(double a, double b) {
    if (isinf(a) && a == b) return a;
    double m = a > b ? a : b;
    return m + log1p(exp2(-fabs(a - b))) / 0.6931471805599453;
}
/* shifts as torch: a count outside [0, bits) gives 0 (left) or the sign fill (right) */
#define SHL(x, y) (((y) < 0 || (y) >= (int64_t)(8 * sizeof(x))) ? 0 : (__typeof__(x))((uint64_t)(x) << (y)))
#define SHR(x, y) (((y) < 0 || (y) >= (int64_t)(8 * sizeof(x))) ? ((x) < 0 ? -1 : 0) : (x) >> (y))

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
/* float-only (the op layer promotes integers, or rejects them) */
#define BFLOAT(OPNAME, EF, ED)                                \
    BINARY_LOOP(OPNAME##_f32, float, float, EF)               \
    BINARY_LOOP(OPNAME##_f64, double, double, ED)
/* integer and bool / integer only */
#define BINTEGER(OPNAME, EXPR)                                \
    BINARY_LOOP(OPNAME##_b, bool, bool, EXPR)                 \
    BINARY_LOOP(OPNAME##_i32, int32_t, int32_t, EXPR)         \
    BINARY_LOOP(OPNAME##_i64, int64_t, int64_t, EXPR)
#define BINTONLY(OPNAME, EXPR)                                \
    BINARY_LOOP(OPNAME##_i32, int32_t, int32_t, EXPR)         \
    BINARY_LOOP(OPNAME##_i64, int64_t, int64_t, EXPR)
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
BFLOAT(div, x / y, x / y)
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
ARITH(fmod, FMOD(x, y))
ARITH(heaviside, x == 0 ? y : (x > 0))
BFLOAT(atan2, atan2f(x, y), atan2(x, y))
BFLOAT(hypot, hypotf(x, y), hypot(x, y))
BFLOAT(copysign, copysignf(x, y), copysign(x, y))
BFLOAT(nextafter, nextafterf(x, y), nextafter(x, y))
BFLOAT(logaddexp, lae_f32(x, y), lae_f64(x, y))
BFLOAT(logaddexp2, lae2_f32(x, y), lae2_f64(x, y))
BFLOAT(xlogy, ISNAN(y) ? y : x == 0 ? 0 : x * logf(y), ISNAN(y) ? y : x == 0 ? 0 : x * log(y))
BINTEGER(bitwise_and, x & y)
BINTEGER(bitwise_or, x | y)
BINTEGER(bitwise_xor, x ^ y)
BINTONLY(bitwise_left_shift, SHL(x, y))
BINTONLY(bitwise_right_shift, SHR(x, y))

/* binary_loops[op][dtype], by the op's kind; NULL = the op layer never dispatches that dtype */
#define BROW_ALL(name) {name##_b, name##_i32, name##_i64, name##_f32, name##_f64}
#define BROW_ARITH BROW_ALL
#define BROW_PRED BROW_ALL
#define BROW_SAMEDT BROW_ALL
#define BROW_FLOAT(name) {NULL, NULL, NULL, name##_f32, name##_f64}
#define BROW_FLOATONLY BROW_FLOAT
#define BROW_INTEGER(name) {name##_b, name##_i32, name##_i64, NULL, NULL}
#define BROW_INTONLY(name) {NULL, name##_i32, name##_i64, NULL, NULL}
/* bool division is never dispatched (it promotes to float): div has float loops only */
#define BLOOPS(ID, name, kind, ...) [MT_B_##ID] = BROW_##kind(name),
static const mt_loop_fn binary_loops[MT_NUM_BINARY][MT_NUM_DTYPES] = {MT_BINARY_OPS(BLOOPS)};
#undef BLOOPS
_Static_assert(sizeof binary_loops / sizeof binary_loops[0] == MT_NUM_BINARY, "one loop row per binary op");

static int report(ew_ctx *c) {
    /* PyTorch raises RuntimeError("ZeroDivisionError"), not Python's ZeroDivisionError */
    if (c->err == EW_ERR_ZERODIV) { mt_error(MT_ERR_RUNTIME, "ZeroDivisionError"); return -1; }
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
    mt_loop_fn fn = binary_loops[op][ct];
    if (!fn) { /* the op layer checks dtypes first; this is the backstop, never a fall-through */
        mt_error(MT_ERR_NOTIMPL, "\"%s_cpu\" not implemented for '%s'", mt_binary_decls[op].name, mt_type_name(ct));
        return -1;
    }
    ew_ctx c = {NULL, 0, s && !b && !scalar_first};
    mt_iter_run(&it, fn, &c, 1 << 15);
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
/* out = EXPR(x) elementwise: a contiguous loop the compiler vectorises, else the strided one */
#define UNARY_BODY(T, EXPR)                                                              \
    if (s[0] == sizeof(T) && s[1] == sizeof(T)) {                                        \
        T *restrict o = (T *)d[0];                                                       \
        const T *restrict in = (const T *)d[1];                                          \
        _Pragma("omp simd")                                                              \
        for (int64_t i = 0; i < n; i++) { T x = in[i]; o[i] = (EXPR); }                  \
    } else {                                                                             \
        for (int64_t i = 0; i < n; i++) {                                                \
            T x = *(const T *)(d[1] + i * s[1]);                                         \
            *(T *)(d[0] + i * s[0]) = (EXPR);                                            \
        }                                                                                \
    }
#define UNARY_LOOP_VEC(NAME, T, EXPR)                                                    \
    MT_CLONES static void NAME(char **d, const int64_t *s, int64_t n, void *ctx_) {      \
        (void)ctx_;                                                                      \
        UNARY_BODY(T, EXPR)                                                              \
    }
UNARY_LOOP_VEC(tanh_f32, float, tanh_vec_f32(x))
UNARY_LOOP(tanh_f64, double, double, tanh(x))
UNARY_LOOP_VEC(sigmoid_f32, float, sigmoid_vec_f32(x))
UNARY_LOOP(sigmoid_f64, double, double, 1.0 / (1.0 + exp(-x)))
UALL(relu, (ISNAN(x) || x > 0) ? x : 0)
#define SIGN_E(x) (ISNAN(x) ? 0 : ((x) > 0) - ((x) < 0))
UALL(sign, SIGN_E(x))
UFLOAT(floor, floorf(x), floor(x))
UFLOAT(ceil, ceilf(x), ceil(x))
UFLOAT(round, nearbyintf(x), nearbyint(x))
UFLOAT(trunc, truncf(x), trunc(x))
UFLOAT(reciprocal, 1.0f / x, 1.0 / x)
UFLOAT(erf, erff(x), erf(x))
UFLOAT(tan, tanf(x), tan(x))
UFLOAT(atan, atanf(x), atan(x))
UFLOAT(asin, asinf(x), asin(x))
UFLOAT(acos, acosf(x), acos(x))
UFLOAT(sinh, sinhf(x), sinh(x))
UFLOAT(cosh, coshf(x), cosh(x))
UFLOAT(asinh, asinhf(x), asinh(x))
UFLOAT(acosh, acoshf(x), acosh(x))
UFLOAT(atanh, atanhf(x), atanh(x))
UFLOAT(log2, log2f(x), log2(x))
UFLOAT(log10, log10f(x), log10(x))
UFLOAT(exp2, exp2f(x), exp2(x))
UALL(sgn, SIGN_E(x)) /* sgn is sign on real dtypes */
UFLOAT(frac, x - truncf(x), x - trunc(x))
UALL(square, x * x)
UFLOAT(erfinv, (float)mt_erfinv(x), mt_erfinv(x))
UFLOAT(erfc, erfcf(x), erfc(x))
static inline float lgamma_r_f32(float x) { int s; return lgammaf_r(x, &s); }
static inline double lgamma_r_f64(double x) { int s; return lgamma_r(x, &s); }
UFLOAT(lgamma, lgamma_r_f32(x), lgamma_r_f64(x))
UFLOAT(digamma, (float)mt_digamma(x), mt_digamma(x))
UFLOAT(_trigamma, (float)mt_trigamma(x), mt_trigamma(x))
/* x Phi(x) as torch's kernel writes it, and its derivative Phi(x) + x phi(x); float32 with torch's vectorised erf */
UNARY_LOOP_VEC(_gelu_f32, float, 0.5f * x * (1.0f + erf_vec_f32(x * 0.70710678118654752f)))
UNARY_LOOP(_gelu_f64, double, double, 0.5 * x * (1.0 + erf(x * 0.70710678118654752)))
UNARY_LOOP_VEC(_gelu_grad_f32, float,
               0.5f * (1.0f + erf_vec_f32(x * 0.70710678118654752f)) + x * exp_neg_f32(-0.5f * x * x) * 0.39894228040143268f)
UNARY_LOOP(_gelu_grad_f64, double, double,
           0.5 * (1.0 + erf(x * 0.70710678118654752)) + x * exp(-0.5 * x * x) * 0.39894228040143268)
/* sin(pi x) / (pi x), 1 at 0 */
UFLOAT(sinc, x == 0 ? 1.0f : sinf(3.14159265358979323846f * x) / (3.14159265358979323846f * x),
       x == 0 ? 1.0 : sin(3.14159265358979323846 * x) / (3.14159265358979323846 * x))
/* params {has_eps, eps}: log(z / (1 - z)), z = x clamped to [eps, 1 - eps], 1 - eps computed in T as torch's */
#define LOGIT_Z(T, x) (prm && prm[0] != 0 ? ((x) < (T)prm[1] ? (T)prm[1] : (x) > (T)1 - (T)prm[1] ? (T)1 - (T)prm[1] : (x)) : (x))
UFLOAT(logit, logf(LOGIT_Z(float, x) / (1 - LOGIT_Z(float, x))), log(LOGIT_Z(double, x) / (1 - LOGIT_Z(double, x))))
/* params {nan, posinf, neginf} */
#define NAN_TO_NUM(T, x) (!prm ? (x) : ISNAN(x) ? (T)prm[0] : (x) == (T)INFINITY ? (T)prm[1] : (x) == -(T)INFINITY ? (T)prm[2] : (x))
UFLOAT(nan_to_num, NAN_TO_NUM(float, x), NAN_TO_NUM(double, x))
UNARY_LOOP(bitwise_not_b, bool, bool, !x)
UINT(bitwise_not, ~x)
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

/* ---------------- the nn.functional activations (MT_ACTIVATION_OPS) ----------------
 * ATen's CPU formulas (native/cpu/Activation.cpp), in the tensor's dtype with the parameters cast to it as
 * ATen's kernels cast their Scalars; comparisons are written so that NaN propagates as in ATen. P0..P3: the
 * op's parameters in T (zeros when the op was reached without them). */
static const double no_params[4] = {0, 0, 0, 0};
#define ACT_LOOP(NAME, T, CLONES, EXPR)                                                  \
    CLONES static void NAME(char **d, const int64_t *s, int64_t n, void *ctx_) {         \
        const double *prm = ((ew_ctx *)ctx_)->params;                                    \
        if (!prm) prm = no_params;                                                       \
        const T P0 = (T)prm[0], P1 = (T)prm[1], P2 = (T)prm[2], P3 = (T)prm[3];          \
        (void)P0; (void)P1; (void)P2; (void)P3;                                          \
        UNARY_BODY(T, EXPR)                                                              \
    }
/* vectorised (arithmetic and vecmath.h only) / scalar libm calls, for both float dtypes */
#define ACT_VEC(NAME, E) ACT_LOOP(NAME##_f32, float, MT_CLONES, E) ACT_LOOP(NAME##_f64, double, , E)
#define ACT_F(NAME, EF, ED) ACT_LOOP(NAME##_f32, float, , EF) ACT_LOOP(NAME##_f64, double, , ED)
ACT_VEC(_leaky_relu, x > 0 ? x : x * P0)
/* x < 0 ? expm1(x * input_scale) * alpha * scale : x * scale: +-0 keep their sign with any alpha, as torch's
   (its backward takes the negative side at 0) */
#define ELU_E(EXPM1) (x < 0 ? EXPM1(x * P2) * (P0 * P1) : x * P1)
ACT_F(_elu, ELU_E(expm1f), ELU_E(expm1))
ACT_F(_celu, ELU_E(expm1f), ELU_E(expm1))
ACT_LOOP(_silu_f32, float, MT_CLONES, x * sigmoid_vec_f32(x))
ACT_LOOP(_silu_f64, double, , x / (1.0 + exp(-x)))
ACT_F(_mish, x * tanhf(log1pf(expf(x))), x * tanh(log1p(exp(x))))
/* beta x > threshold ? x : log1p(exp(beta x)) / beta */
ACT_F(_softplus, x * P0 > P1 ? x : log1pf(expf(x * P0)) / P0, x * P0 > P1 ? x : log1p(exp(x * P0)) / P0)
/* clamp to [min_val, max_val]; NaN stays NaN */
ACT_VEC(_hardtanh, x < P0 ? P0 : (x > P1 ? P1 : x))
ACT_LOOP(_hardtanh_i32, int32_t, MT_CLONES, x < P0 ? P0 : (x > P1 ? P1 : x))
ACT_LOOP(_hardtanh_i64, int64_t, MT_CLONES, x < P0 ? P0 : (x > P1 ? P1 : x))
/* x min(max(x + 3, 0), 6) / 6 and min(max(x + 3, 0), 6) / 6, NaN propagating through the max and min */
#define RELU6_OF(t) ((t) < 0 ? 0 : ((t) > 6 ? 6 : (t)))
ACT_VEC(_hardswish, x * RELU6_OF(x + 3) / 6)
ACT_VEC(_hardsigmoid, RELU6_OF(x + 3) / 6)
/* min(x, 0) - log1p(exp(-|x|)) */
ACT_F(_log_sigmoid, (x > 0 ? 0 : x) - log1pf(expf(-fabsf(x))), (x > 0 ? 0 : x) - log1p(exp(-fabs(x))))
/* +0 on [-lambd, lambd] (torch's vectorised kernel; its scalar tail gives x * 0), NaN stays NaN */
ACT_VEC(_softshrink, (x >= -P0 && x <= P0) ? 0 : (x > P0 ? x - P0 : x + P0))
ACT_VEC(_hardshrink, (x >= -P0 && x <= P0) ? 0 : x)
ACT_VEC(_threshold, x <= P0 ? P1 : x)
ACT_LOOP(_threshold_i32, int32_t, MT_CLONES, x <= P0 ? P1 : x)
ACT_LOOP(_threshold_i64, int64_t, MT_CLONES, x <= P0 ? P1 : x)

/* unary_loops[op][dtype], by the op's kind; NULL = not defined for that dtype (the op layer
   promotes first, or takes the identity) */
#define UROW_FLOAT(name) {NULL, NULL, NULL, name##_f32, name##_f64}
#define UROW_FLOATONLY UROW_FLOAT
#define UROW_ROUND UROW_FLOAT
#define UROW_IDINT UROW_FLOAT
#define UROW_SAME(name) {NULL, name##_i32, name##_i64, name##_f32, name##_f64}
#define UROW_SAMEB UROW_SAME
#define UROW_SIGN UROW_SAME
#define UROW_PRED(name) {name##_b, name##_i32, name##_i64, name##_f32, name##_f64}
#define UROW_INTEGER(name) {name##_b, name##_i32, name##_i64, NULL, NULL}
#define ULOOPS(ID, name, kind, ...) [MT_U_##ID] = UROW_##kind(name),
static const mt_loop_fn unary_loops[MT_NUM_UNARY][MT_NUM_DTYPES] = {MT_UNARY_OPS(ULOOPS)};
#undef ULOOPS
_Static_assert(sizeof unary_loops / sizeof unary_loops[0] == MT_NUM_UNARY, "one loop row per unary op");

int mt_cpu_unary(int op, mt_tensor *out, const mt_tensor *a, const double *params) {
    mt_loop_fn fn = unary_loops[op][a->dtype];
    if (!fn) {
        mt_error(MT_ERR_NOTIMPL, "\"%s_cpu\" not implemented for '%s'", mt_unary_decls[op].name, mt_type_name(a->dtype));
        return -1;
    }
    mt_iter it;
    mt_tensor *ops[2] = {out, (mt_tensor *)a};
    if (mt_iter_init(&it, 2, ops, NULL) < 0) return -1;
    ew_ctx c = {params, 0, false};
    mt_iter_run(&it, fn, &c, 1 << 14);
    return 0;
}

/* ---------------- where ---------------- */
/* both sides loaded before the select, so that the loop vectorises (a conditional load does not); the condition
 * read as bytes */
#define WHERE_SELECT(A, B)                                                                                 \
    do {                                                                                                   \
        _Pragma("omp simd") for (int64_t i = 0; i < n; i++) {                                              \
            __typeof__(o[0]) av = (A), bv = (B);                                                           \
            o[i] = cb[i] != 0 ? av : bv; /* as bytes: GCC finds no vector type for a bool condition */     \
        }                                                                                                  \
    } while (0)
/* contiguous operands, and a broadcast (stride 0) branch, get loops the compiler vectorises: the strided
 * loop alone was 15% of a gradient-penalty step (leaky_relu and its gradients are wheres) */
#define WHERE_LOOP(NAME, T)                                                                                \
    MT_CLONES static void NAME(char **d, const int64_t *s, int64_t n, void *ctx) {                         \
        (void)ctx;                                                                                         \
        T *restrict o = (T *)d[0];                                                                         \
        const uint8_t *restrict cb = (const uint8_t *)d[1];                                                \
        const T *restrict a = (const T *)d[2], *restrict b = (const T *)d[3];                              \
        if (n <= 0) return;                                                                                \
        const T a0 = a[0], b0 = b[0];                                                                      \
        if (s[0] == sizeof(T) && s[1] == 1 && (s[2] == sizeof(T) || s[2] == 0) &&                          \
            (s[3] == sizeof(T) || s[3] == 0)) {                                                            \
            if (s[2] && s[3])                                                                              \
                WHERE_SELECT(a[i], b[i]);                                                                  \
            else if (s[2])                                                                                 \
                WHERE_SELECT(a[i], b0);                                                                    \
            else if (s[3])                                                                                 \
                WHERE_SELECT(a0, b[i]);                                                                    \
            else                                                                                           \
                WHERE_SELECT(a0, b0);                                                                      \
            return;                                                                                        \
        }                                                                                                  \
        for (int64_t i = 0; i < n; i++)                                                                    \
            *(T *)(d[0] + i * s[0]) = *(const bool *)(d[1] + i * s[1]) ? *(const T *)(d[2] + i * s[2])     \
                                                                       : *(const T *)(d[3] + i * s[3]);    \
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

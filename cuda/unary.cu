/* Unary elementwise kernels (declared in ops/elementwise_ops.h), semantics of ops/elementwise_cpu.c.
 * The dtypes each op runs on come from its declared kind (MT_K_*); an op without a branch in
 * UnF does not compile (the static_assert at the end of the chain). Other dtype combinations
 * raise like the CPU ("..._cuda" not implemented). */
#include "ew.cuh"
#include "ops/special_math.h"

#include <math.h>

namespace {

#define HD __host__ __device__ __forceinline__

template <typename T>
HD bool isnan_(T x) {
    if constexpr (std::is_floating_point<T>::value) return x != x;
    else return false;
}
template <typename T>
HD bool isinf_(T x) {
    if constexpr (std::is_floating_point<T>::value) return x == (T)INFINITY || x == -(T)INFINITY;
    else return false;
}

struct op_prm {
    double p[4]; /* the op's parameters: clamp {has_lo, lo, has_hi, hi}, logit {has_eps, eps}, nan_to_num */
};

template <int OP, typename T>
struct UnF {
    op_prm c;
    HD auto operator()(T x) const {
        constexpr double PI = 3.14159265358979323846;
        if constexpr (OP == MT_U_NEG) return (T)(-x);
        else if constexpr (OP == MT_U_ABS) return (T)(x < 0 ? -x : x);
        else if constexpr (OP == MT_U_EXP) return (T)exp(x);
        else if constexpr (OP == MT_U_LOG) return (T)log(x);
        else if constexpr (OP == MT_U_LOG1P) return (T)log1p(x);
        else if constexpr (OP == MT_U_EXPM1) return (T)expm1(x);
        else if constexpr (OP == MT_U_SQRT) return (T)sqrt(x);
        else if constexpr (OP == MT_U_RSQRT) return (T)((T)1 / sqrt(x));
        else if constexpr (OP == MT_U_SIN) return (T)sin(x);
        else if constexpr (OP == MT_U_COS) return (T)cos(x);
        else if constexpr (OP == MT_U_TANH) return (T)tanh(x);
        else if constexpr (OP == MT_U_SIGMOID) return (T)((T)1 / ((T)1 + exp(-x)));
        else if constexpr (OP == MT_U_RELU) return (T)((isnan_(x) || x > 0) ? x : (T)0);
        else if constexpr (OP == MT_U_SIGN || OP == MT_U_SGN) return (T)(isnan_(x) ? (T)0 : (T)((x > 0) - (x < 0)));
        else if constexpr (OP == MT_U_FLOOR) return (T)floor(x);
        else if constexpr (OP == MT_U_CEIL) return (T)ceil(x);
        else if constexpr (OP == MT_U_ROUND) return (T)rint(x);
        else if constexpr (OP == MT_U_TRUNC) return (T)trunc(x);
        else if constexpr (OP == MT_U_RECIPROCAL) return (T)((T)1 / x);
        else if constexpr (OP == MT_U_ERF) return (T)erf(x);
        else if constexpr (OP == MT_U_LOGICAL_NOT) return (bool)!(x != 0);
        else if constexpr (OP == MT_U_ISNAN) return (bool)isnan_(x);
        else if constexpr (OP == MT_U_ISINF) return (bool)isinf_(x);
        else if constexpr (OP == MT_U_ISFINITE) return (bool)!(isnan_(x) || isinf_(x));
        else if constexpr (OP == MT_U_CLAMP) /* NaN stays NaN: both comparisons are false */
            return (T)((c.p[0] != 0 && x < (T)c.p[1]) ? (T)c.p[1] : ((c.p[2] != 0 && x > (T)c.p[3]) ? (T)c.p[3] : x));
        else if constexpr (OP == MT_U_TAN) return (T)tan(x);
        else if constexpr (OP == MT_U_ATAN) return (T)atan(x);
        else if constexpr (OP == MT_U_ASIN) return (T)asin(x);
        else if constexpr (OP == MT_U_ACOS) return (T)acos(x);
        else if constexpr (OP == MT_U_SINH) return (T)sinh(x);
        else if constexpr (OP == MT_U_COSH) return (T)cosh(x);
        else if constexpr (OP == MT_U_ASINH) return (T)asinh(x);
        else if constexpr (OP == MT_U_ACOSH) return (T)acosh(x);
        else if constexpr (OP == MT_U_ATANH) return (T)atanh(x);
        else if constexpr (OP == MT_U_LOG2) return (T)log2(x);
        else if constexpr (OP == MT_U_LOG10) return (T)log10(x);
        else if constexpr (OP == MT_U_EXP2) return (T)exp2(x);
        else if constexpr (OP == MT_U_FRAC) return (T)(x - trunc(x));
        else if constexpr (OP == MT_U_SQUARE) return (T)(x * x);
        else if constexpr (OP == MT_U_ERFINV) return (T)erfinv(x);
        else if constexpr (OP == MT_U_ERFC) return (T)erfc(x);
        else if constexpr (OP == MT_U_LGAMMA) return (T)lgamma(x);
        else if constexpr (OP == MT_U_DIGAMMA) return (T)mt_digamma((double)x);
        else if constexpr (OP == MT_U_TRIGAMMA) return (T)mt_trigamma((double)x);
        else if constexpr (OP == MT_U_SINC) return (T)(x == 0 ? (T)1 : (T)(sin((T)PI * x) / ((T)PI * x)));
        else if constexpr (OP == MT_U_LOGIT) {
            T z = x;
            if (c.p[0] != 0) z = x < (T)c.p[1] ? (T)c.p[1] : x > (T)(1 - c.p[1]) ? (T)(1 - c.p[1]) : x;
            return (T)log(z / ((T)1 - z));
        } else if constexpr (OP == MT_U_NAN_TO_NUM)
            return (T)(isnan_(x) ? (T)c.p[0] : x == (T)INFINITY ? (T)c.p[1] : x == -(T)INFINITY ? (T)c.p[2] : x);
        else if constexpr (OP == MT_U_GELU) return (T)((T)0.5 * x * ((T)1 + erf(x * (T)0.70710678118654752)));
        else if constexpr (OP == MT_U_GELU_GRAD)
            return (T)((T)0.5 * ((T)1 + erf(x * (T)0.70710678118654752)) + x * exp((T)-0.5 * x * x) * (T)0.39894228040143268);
        /* the activations (MT_ACTIVATION_OPS), as elementwise_cpu.c: parameters cast to T, NaN propagating */
        else if constexpr (OP == MT_U_LEAKY_RELU) return (T)(x > 0 ? x : x * (T)c.p[0]);
        else if constexpr (OP == MT_U_ELU || OP == MT_U_CELU)
            return (T)(x < 0 ? (T)expm1(x * (T)c.p[2]) * ((T)c.p[0] * (T)c.p[1]) : x * (T)c.p[1]);
        else if constexpr (OP == MT_U_SILU) return (T)(x / ((T)1 + (T)exp(-x)));
        else if constexpr (OP == MT_U_MISH) return (T)(x * (T)tanh((T)log1p((T)exp(x))));
        else if constexpr (OP == MT_U_SOFTPLUS) {
            T b = (T)c.p[0];
            return (T)(x * b > (T)c.p[1] ? x : (T)log1p((T)exp(x * b)) / b);
        } else if constexpr (OP == MT_U_HARDTANH)
            return (T)(x < (T)c.p[0] ? (T)c.p[0] : (x > (T)c.p[1] ? (T)c.p[1] : x));
        else if constexpr (OP == MT_U_HARDSWISH || OP == MT_U_HARDSIGMOID) {
            T t = x + (T)3;
            t = t < (T)0 ? (T)0 : (t > (T)6 ? (T)6 : t);
            if constexpr (OP == MT_U_HARDSWISH) return (T)(x * t / (T)6);
            else return (T)(t / (T)6);
        } else if constexpr (OP == MT_U_LOG_SIGMOID)
            return (T)((x > 0 ? (T)0 : x) - (T)log1p((T)exp(x < 0 ? x : -x)));
        else if constexpr (OP == MT_U_SOFTSHRINK) {
            T l = (T)c.p[0];
            return (T)((x >= -l && x <= l) ? (T)0 : (x > l ? x - l : x + l));
        } else if constexpr (OP == MT_U_HARDSHRINK) {
            T l = (T)c.p[0];
            return (T)((x >= -l && x <= l) ? (T)0 : x);
        } else if constexpr (OP == MT_U_THRESHOLD) return (T)(x <= (T)c.p[0] ? (T)c.p[1] : x);
        else if constexpr (OP == MT_U_BITWISE_NOT) {
            if constexpr (std::is_same<T, bool>::value) return (bool)!x;
            else return (T)~x;
        } else static_assert(cu_always_false<OP>::value, "a declared unary op has no CUDA expression in UnF");
    }
};

#define KIND_OF(ID, name, kind, ...) MT_K_##kind,
constexpr int unary_kinds[MT_NUM_UNARY] = {MT_UNARY_OPS(KIND_OF)};
#undef KIND_OF

template <int OP, typename T>
int launch(mt_tensor *out, const mt_tensor *a, const op_prm &c) {
    UnF<OP, T> f;
    f.c = c;
    return cu_launch_unary<T>(f, out, a);
}

template <int OP>
int run(mt_tensor *out, const mt_tensor *a, const op_prm &c, const char *name) {
    constexpr int K = unary_kinds[OP];
    switch (a->dtype) {
    case MT_FLOAT32: if constexpr (cu_kind_runs_on(K, MT_FLOAT32)) return launch<OP, float>(out, a, c); break;
    case MT_FLOAT64: if constexpr (cu_kind_runs_on(K, MT_FLOAT64)) return launch<OP, double>(out, a, c); break;
    case MT_INT32: if constexpr (cu_kind_runs_on(K, MT_INT32)) return launch<OP, int32_t>(out, a, c); break;
    case MT_INT64: if constexpr (cu_kind_runs_on(K, MT_INT64)) return launch<OP, int64_t>(out, a, c); break;
    case MT_BOOL: if constexpr (cu_kind_runs_on(K, MT_BOOL)) return launch<OP, bool>(out, a, c); break;
    default: break;
    }
    cu_api->error(MT_ERR_NOTIMPL, "\"%s_cuda\" not implemented for '%s'", name, cu_api->dtype_names[a->dtype]);
    return -1;
}

} // namespace

int cu_unary(int op, mt_tensor *out, const mt_tensor *a, const double *params) {
    op_prm c = {{0, 0, 0, 0}};
    if (params) /* clamp, logit and nan_to_num carry parameters; the others pass NULL */
        for (int i = 0; i < (op == MT_U_LOGIT ? 2 : op == MT_U_NAN_TO_NUM ? 3 : 4); i++) c.p[i] = params[i];
    switch (op) {
#define CASE_U(ID, name, ...) \
    case MT_U_##ID: return run<MT_U_##ID>(out, a, c, #name);
        MT_UNARY_OPS(CASE_U)
#undef CASE_U
    default: cu_api->error(MT_ERR_RUNTIME, "cuda unary: unknown op %d", op); return -1;
    }
}

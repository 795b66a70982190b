/* Unary elementwise kernels (MT_UNARY_OPS of ops/ops.h), semantics of ops/elementwise_cpu.c:
 * float-only ops (exp, log, ...) for float32/float64, "arith" ops (neg, abs, relu, sign, clamp)
 * also for int32/int64, predicates (logical_not, isnan, isinf, isfinite) for every dtype with a
 * bool output. Other combinations raise like the CPU ("..._cuda" not implemented). */
#include "ew.cuh"

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

struct clamp_prm {
    double p[4]; /* has_lo, lo, has_hi, hi */
};

template <int OP, typename T>
struct UnF {
    clamp_prm c;
    HD auto operator()(T x) const {
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
        else if constexpr (OP == MT_U_SIGN) return (T)(isnan_(x) ? (T)0 : (T)((x > 0) - (x < 0)));
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
        else /* CLAMP; NaN stays NaN: both comparisons are false */
            return (T)((c.p[0] != 0 && x < (T)c.p[1]) ? (T)c.p[1] : ((c.p[2] != 0 && x > (T)c.p[3]) ? (T)c.p[3] : x));
    }
};

enum { K_FLOAT, K_ARITH, K_PRED };
constexpr int kind_of(int op) {
    return (op == MT_U_NEG || op == MT_U_ABS || op == MT_U_RELU || op == MT_U_SIGN || op == MT_U_CLAMP) ? K_ARITH
           : (op == MT_U_LOGICAL_NOT || op == MT_U_ISNAN || op == MT_U_ISINF || op == MT_U_ISFINITE) ? K_PRED
                                                                                                     : K_FLOAT;
}

template <int OP, typename T>
int launch(mt_tensor *out, const mt_tensor *a, const clamp_prm &c) {
    UnF<OP, T> f;
    f.c = c;
    return cu_launch_unary<T>(f, out, a);
}

template <int OP>
int run(mt_tensor *out, const mt_tensor *a, const clamp_prm &c, const char *name) {
    constexpr int K = kind_of(OP);
    switch (a->dtype) {
    case MT_FLOAT32: return launch<OP, float>(out, a, c);
    case MT_FLOAT64: return launch<OP, double>(out, a, c);
    case MT_INT32: if constexpr (K != K_FLOAT) return launch<OP, int32_t>(out, a, c); break;
    case MT_INT64: if constexpr (K != K_FLOAT) return launch<OP, int64_t>(out, a, c); break;
    case MT_BOOL: if constexpr (K == K_PRED) return launch<OP, bool>(out, a, c); break;
    default: break;
    }
    cu_api->error(MT_ERR_RUNTIME, "\"%s_cuda\" not implemented for '%s'", name, cu_api->dtype_names[a->dtype]);
    return -1;
}

} // namespace

int cu_unary(int op, mt_tensor *out, const mt_tensor *a, const double *params) {
    clamp_prm c = {{0, 0, 0, 0}};
    if (op == MT_U_CLAMP && params)
        for (int i = 0; i < 4; i++) c.p[i] = params[i];
    switch (op) {
#define X(ID, name, node) \
    case MT_U_##ID: return run<MT_U_##ID>(out, a, c, #name);
        MT_UNARY_OPS(X)
#undef X
    default: cu_api->error(MT_ERR_RUNTIME, "cuda unary: unknown op %d", op); return -1;
    }
}

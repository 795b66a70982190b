/* Binary elementwise kernels (declared in ops/elementwise_ops.h) with the CPU kernels' semantics
 * (ops/elementwise_cpu.c): the op layer has already cast both operands to the compute dtype;
 * arithmetic ops write that dtype, comparisons and logical ops write bool. The dtypes each op is
 * compiled for come from its declared kind; an op without a branch in BinF does not compile.
 *
 * Differences from the CPU that cannot be reported without a device sync (as in PyTorch's CUDA
 * kernels): integer floor_divide / remainder by zero give -1 / 0 instead of raising
 * RuntimeError("ZeroDivisionError"), integer fmod by zero gives 0, and integers to negative powers give 0 instead
 * of raising. */
#include "ew.cuh"

#include <math.h>

namespace {

template <typename T>
__host__ __device__ __forceinline__ T floordiv(T a, T b) {
    if constexpr (std::is_same<T, bool>::value) {
        return a;
    } else if constexpr (std::is_floating_point<T>::value) {
        if (b == 0) return a / b;
        T mod = fmod(a, b), div = (a - mod) / b;
        if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;
        T fl;
        if (div != 0) {
            fl = floor(div);
            if (div - fl > (T)0.5) fl += 1;
        } else {
            fl = copysign((T)0, a / b);
        }
        return fl;
    } else {
        if (b == 0) return (T)-1;
        if (b == -1) return (T)(0 - (uint64_t)a);
        T q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
        return q;
    }
}

template <typename T>
__host__ __device__ __forceinline__ T remainder_(T a, T b) {
    if constexpr (std::is_same<T, bool>::value) {
        return false;
    } else if constexpr (std::is_floating_point<T>::value) {
        T r = fmod(a, b);
        if (r != 0 && ((r < 0) != (b < 0))) r += b;
        return r;
    } else {
        if (b == 0 || b == -1) return 0;
        T r = a % b;
        if (r != 0 && ((r < 0) != (b < 0))) r += b;
        return r;
    }
}

template <typename T>
__host__ __device__ __forceinline__ T power(T b, T e) {
    if constexpr (std::is_same<T, bool>::value) {
        return e ? b : true;
    } else if constexpr (std::is_floating_point<T>::value) {
        return pow(b, e);
    } else {
        if (e < 0) {
            if (b == 1) return 1;
            if (b == -1) return (e & 1) ? -1 : 1;
            return 0;
        }
        uint64_t r = 1, bb = (uint64_t)(int64_t)b;
        while (e) {
            if (e & 1) r *= bb;
            bb *= bb;
            e >>= 1;
        }
        return (T)r;
    }
}

template <typename T>
__host__ __device__ __forceinline__ bool isnan_(T x) {
    if constexpr (std::is_floating_point<T>::value) return x != x;
    else return false;
}

template <typename T>
__host__ __device__ __forceinline__ T logaddexp_(T a, T b, bool base2) {
    if (isinf(a) && a == b) return a;
    T m = a > b ? a : b, d = a > b ? b - a : a - b; /* -|a - b| */
    return base2 ? m + log1p(exp2(d)) / (T)0.6931471805599453 : m + log1p(exp(d));
}

/* shifts as torch: a count outside [0, bits) gives 0 (left) or the sign fill (right) */
template <typename T>
__host__ __device__ __forceinline__ T shift_(T x, T y, bool left) {
    constexpr int64_t bits = 8 * sizeof(T);
    if (y < 0 || (int64_t)y >= bits) return left ? (T)0 : (T)(x < 0 ? -1 : 0);
    return left ? (T)((uint64_t)(int64_t)x << y) : (T)(x >> y);
}

template <int OP, typename T>
struct BinF {
    __host__ __device__ __forceinline__ auto operator()(T x, T y) const {
        if constexpr (OP == MT_B_ADD) return (T)(x + y);
        else if constexpr (OP == MT_B_SUB) return (T)(x - y);
        else if constexpr (OP == MT_B_MUL) return (T)(x * y);
        else if constexpr (OP == MT_B_DIV) return (T)(x / y);
        else if constexpr (OP == MT_B_FLOOR_DIVIDE) return floordiv<T>(x, y);
        else if constexpr (OP == MT_B_REMAINDER) return remainder_<T>(x, y);
        else if constexpr (OP == MT_B_POW) return power<T>(x, y);
        else if constexpr (OP == MT_B_MAXIMUM) return (T)((isnan_(x) || x > y) ? x : y);
        else if constexpr (OP == MT_B_MINIMUM) return (T)((isnan_(x) || x < y) ? x : y);
        else if constexpr (OP == MT_B_EQ) return (bool)(x == y);
        else if constexpr (OP == MT_B_NE) return (bool)(x != y);
        else if constexpr (OP == MT_B_LT) return (bool)(x < y);
        else if constexpr (OP == MT_B_LE) return (bool)(x <= y);
        else if constexpr (OP == MT_B_GT) return (bool)(x > y);
        else if constexpr (OP == MT_B_GE) return (bool)(x >= y);
        else if constexpr (OP == MT_B_LOGICAL_AND) return (bool)((x != 0) && (y != 0));
        else if constexpr (OP == MT_B_LOGICAL_OR) return (bool)((x != 0) || (y != 0));
        else if constexpr (OP == MT_B_LOGICAL_XOR) return (bool)((x != 0) != (y != 0));
        else if constexpr (OP == MT_B_ATAN2) return (T)atan2(x, y);
        else if constexpr (OP == MT_B_HYPOT) return (T)hypot(x, y);
        else if constexpr (OP == MT_B_FMOD) {
            if constexpr (std::is_floating_point<T>::value) return (T)fmod(x, y);
            else if constexpr (std::is_same<T, bool>::value) return (bool)false;
            else return (T)((y == 0 || y == -1) ? 0 : x % y);
        } else if constexpr (OP == MT_B_COPYSIGN) return (T)copysign(x, y);
        else if constexpr (OP == MT_B_LOGADDEXP) return logaddexp_<T>(x, y, false);
        else if constexpr (OP == MT_B_LOGADDEXP2) return logaddexp_<T>(x, y, true);
        else if constexpr (OP == MT_B_NEXTAFTER) return (T)nextafter(x, y);
        else if constexpr (OP == MT_B_XLOGY) return (T)(y != y ? y : x == 0 ? (T)0 : (T)(x * log(y)));
        else if constexpr (OP == MT_B_HEAVISIDE) return (T)(x == 0 ? y : (T)(x > 0));
        else if constexpr (OP == MT_B_BITWISE_AND) return (T)(x & y);
        else if constexpr (OP == MT_B_BITWISE_OR) return (T)(x | y);
        else if constexpr (OP == MT_B_BITWISE_XOR) return (T)(x ^ y);
        else if constexpr (OP == MT_B_LSHIFT) return shift_<T>(x, y, true);
        else if constexpr (OP == MT_B_RSHIFT) return shift_<T>(x, y, false);
        else static_assert(cu_always_false<OP>::value, "a declared binary op has no CUDA expression in BinF");
    }
};

#define KIND_OF(ID, name, kind, ...) MT_K_##kind,
constexpr int binary_kinds[MT_NUM_BINARY] = {MT_BINARY_OPS(KIND_OF)};
#undef KIND_OF

template <typename T>
T scalar_as(const mt_scalar *s) {
    if (!s) return T();
    if constexpr (std::is_same<T, bool>::value) return s->i != 0;
    else if constexpr (std::is_same<T, float>::value) return (float)s->f;
    else if constexpr (std::is_same<T, double>::value) return s->f;
    else return (T)s->i;
}

template <int OP, typename T>
int launch(mt_tensor *out, const mt_tensor *a, const mt_tensor *b, const mt_scalar *s, bool scalar_first) {
    T v = scalar_as<T>(s);
    BinF<OP, T> f;
    if (b) return cu_launch_binary(f, out, a, b, v, v);
    if (scalar_first) return cu_launch_binary(f, out, (const mt_tensor *)nullptr, a, v, v);
    return cu_launch_binary(f, out, a, (const mt_tensor *)nullptr, v, v);
}

template <int OP>
int run(mt_tensor *out, const mt_tensor *a, const mt_tensor *b, const mt_scalar *s, bool scalar_first, const char *name) {
    constexpr int K = binary_kinds[OP];
    switch (a->dtype) {
    case MT_BOOL: if constexpr (cu_kind_runs_on(K, MT_BOOL)) return launch<OP, bool>(out, a, b, s, scalar_first); break;
    case MT_INT32: if constexpr (cu_kind_runs_on(K, MT_INT32)) return launch<OP, int32_t>(out, a, b, s, scalar_first); break;
    case MT_INT64: if constexpr (cu_kind_runs_on(K, MT_INT64)) return launch<OP, int64_t>(out, a, b, s, scalar_first); break;
    case MT_FLOAT32: if constexpr (cu_kind_runs_on(K, MT_FLOAT32)) return launch<OP, float>(out, a, b, s, scalar_first); break;
    case MT_FLOAT64: if constexpr (cu_kind_runs_on(K, MT_FLOAT64)) return launch<OP, double>(out, a, b, s, scalar_first); break;
    default: break;
    }
    cu_api->error(MT_ERR_NOTIMPL, "\"%s_cuda\" not implemented for '%s'", name, cu_api->dtype_names[a->dtype]);
    return -1;
}

} // namespace

int cu_binary(int op, mt_tensor *out, const mt_tensor *a, const mt_tensor *b, const mt_scalar *s, bool scalar_first) {
    switch (op) {
#define CASE_B(ID, name, ...) \
    case MT_B_##ID: return run<MT_B_##ID>(out, a, b, s, scalar_first, #name);
        MT_BINARY_OPS(CASE_B)
#undef CASE_B
    default: cu_api->error(MT_ERR_RUNTIME, "cuda binary: unknown op %d", op); return -1;
    }
}

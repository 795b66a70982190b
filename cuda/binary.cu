/* Binary elementwise kernels (MT_BINARY_OPS of ops/ops.h) with the CPU kernels' semantics
 * (ops/elementwise_cpu.c): the op layer has already cast both operands to the compute dtype;
 * arithmetic ops write that dtype, comparisons and logical ops write bool.
 *
 * Differences from the CPU that cannot be reported without a device sync (as in PyTorch's CUDA
 * kernels): integer floor_divide / remainder by zero give -1 / 0 instead of raising
 * ZeroDivisionError, and integers to negative powers give 0 instead of raising. */
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

template <int OP, typename T>
struct BinF {
    __host__ __device__ __forceinline__ auto operator()(T x, T y) const {
        if constexpr (OP == MT_B_ADD) return (T)(x + y);
        else if constexpr (OP == MT_B_SUB) return (T)(x - y);
        else if constexpr (OP == MT_B_MUL) return (T)(x * y);
        else if constexpr (OP == MT_B_DIV) {
            if constexpr (std::is_floating_point<T>::value) return (T)(x / y);
            else return (T)(y == 0 ? (T)-1 : (T)(x / y));
        } else if constexpr (OP == MT_B_FLOOR_DIVIDE) return floordiv<T>(x, y);
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
        else return (bool)((x != 0) != (y != 0)); /* LOGICAL_XOR */
    }
};

template <typename T>
T scalar_as(const mt_scalar *s) {
    if (!s) return T();
    if constexpr (std::is_same<T, bool>::value) return s->i != 0;
    else if constexpr (std::is_same<T, float>::value) return (float)s->f;
    else if constexpr (std::is_same<T, double>::value) return s->f;
    else return (T)s->i;
}

template <int OP>
int run(mt_tensor *out, const mt_tensor *a, const mt_tensor *b, const mt_scalar *s, bool scalar_first) {
    CU_DISPATCH_ALL(a->dtype, {
        scalar_t v = scalar_as<scalar_t>(s);
        BinF<OP, scalar_t> f;
        if (b) return cu_launch_binary(f, out, a, b, v, v);
        if (scalar_first) return cu_launch_binary(f, out, (const mt_tensor *)nullptr, a, v, v);
        return cu_launch_binary(f, out, a, (const mt_tensor *)nullptr, v, v);
    })
    return 0;
}

} // namespace

int cu_binary(int op, mt_tensor *out, const mt_tensor *a, const mt_tensor *b, const mt_scalar *s, bool scalar_first) {
    switch (op) {
#define X(ID, name, node) \
    case MT_B_##ID: return run<MT_B_##ID>(out, a, b, s, scalar_first);
        MT_BINARY_OPS(X)
#undef X
    default: cu_api->error(MT_ERR_RUNTIME, "cuda binary: unknown op %d", op); return -1;
    }
}

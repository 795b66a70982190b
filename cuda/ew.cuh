/* Elementwise machinery shared by unary.cu, binary.cu and copy.cu: a contiguous kernel with
 * 16-byte vector loads/stores (every operand contiguous or a broadcast single value) and a
 * generic strided kernel driven by cu_geom. F is a functor with `OT operator()(T x, T y)` (binary)
 * or `OT operator()(T x)` (unary). */
#ifndef MT_CUDA_EW_CUH
#define MT_CUDA_EW_CUH

#include "common.cuh"

#include <type_traits>

template <typename T, int N>
struct alignas(sizeof(T) * N) cu_vec {
    T v[N];
};

template <typename T>
struct cu_vec_width {
    static constexpr int value = 16 / sizeof(T) > 8 ? 8 : 16 / sizeof(T); /* bool: 8 */
};

static inline bool cu_aligned(const void *p, size_t a) { return ((uintptr_t)p % a) == 0; }

/* ---------------- binary ---------------- */
/* a / b: device pointers, or NULL for the host scalar va / vb; sa / sb: 1 = contiguous, 0 = one value */
template <typename F, typename T, typename OT>
__global__ void cu_bin_contig_k(F f, OT *__restrict__ o, const T *__restrict__ a, const T *__restrict__ b, int sa,
                                int sb, T va, T vb, int64_t n, bool vec) {
    constexpr int N = cu_vec_width<T>::value;
    int64_t tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, step = (int64_t)gridDim.x * blockDim.x;
    if (a && !sa) va = a[0];
    if (b && !sb) vb = b[0];
    bool la = a && sa, lb = b && sb;
    int64_t start = 0;
    if (vec) {
        int64_t nv = n / N;
        for (int64_t v = tid; v < nv; v += step) {
            cu_vec<T, N> xa, xb;
            cu_vec<OT, N> r;
            if (la) xa = reinterpret_cast<const cu_vec<T, N> *>(a)[v];
            if (lb) xb = reinterpret_cast<const cu_vec<T, N> *>(b)[v];
#pragma unroll
            for (int j = 0; j < N; j++) r.v[j] = f(la ? xa.v[j] : va, lb ? xb.v[j] : vb);
            reinterpret_cast<cu_vec<OT, N> *>(o)[v] = r;
        }
        start = nv * N;
    }
    for (int64_t i = start + tid; i < n; i += step) o[i] = f(la ? a[i] : va, lb ? b[i] : vb);
}

template <typename F, typename T, typename OT>
__global__ void cu_bin_strided_k(F f, cu_geom g, OT *o, const T *a, const T *b, T va, T vb, int64_t n) {
    int64_t tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = tid; i < n; i += step) {
        int64_t off[3];
        cu_offsets<3>(g, i, off);
        o[off[0]] = f(a ? a[off[1]] : va, b ? b[off[2]] : vb);
    }
}

/* out = f(a, b); a or b may be NULL (then va / vb). out's shape is the iteration shape. */
template <typename F, typename T>
int cu_launch_binary(F f, mt_tensor *out, const mt_tensor *a, const mt_tensor *b, T va, T vb) {
    typedef decltype(f(T(), T())) OT;
    int64_t n = cu_numel(out);
    if (n == 0) return 0;
    cu_geom g;
    const mt_tensor *ops[3] = {out, a, b};
    if (cu_geom_init(&g, 3, ops) < 0) return -1;
    OT *po = (OT *)cu_data(out);
    const T *pa = a ? (const T *)cu_data(a) : nullptr, *pb = b ? (const T *)cu_data(b) : nullptr;
    bool flat = g.ndim <= 1 && (g.ndim == 0 || g.strides[0][0] == 1) &&
                (g.ndim == 0 || (g.strides[1][0] <= 1 && g.strides[2][0] <= 1 && g.strides[1][0] >= 0 &&
                                 g.strides[2][0] >= 0));
    if (flat) {
        int sa = g.ndim ? (int)g.strides[1][0] : 0, sb = g.ndim ? (int)g.strides[2][0] : 0;
        constexpr int N = cu_vec_width<T>::value;
        bool vec = n >= N && cu_aligned(po, sizeof(OT) * N) && (!pa || !sa || cu_aligned(pa, sizeof(T) * N)) &&
                   (!pb || !sb || cu_aligned(pb, sizeof(T) * N));
        cu_bin_contig_k<F, T, OT><<<cu_blocks(n, vec ? N : 1), CU_THREADS, 0, cu_stream>>>(f, po, pa, pb, sa, sb, va,
                                                                                           vb, n, vec);
    } else {
        cu_bin_strided_k<F, T, OT><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(f, g, po, pa, pb, va, vb, n);
    }
    CU_CHECK_LAUNCH();
    return 0;
}

/* ---------------- unary ---------------- */
template <typename F, typename T, typename OT>
__global__ void cu_un_contig_k(F f, OT *__restrict__ o, const T *__restrict__ a, int64_t n, bool vec) {
    constexpr int N = cu_vec_width<T>::value;
    int64_t tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, step = (int64_t)gridDim.x * blockDim.x;
    int64_t start = 0;
    if (vec) {
        int64_t nv = n / N;
        for (int64_t v = tid; v < nv; v += step) {
            cu_vec<T, N> x = reinterpret_cast<const cu_vec<T, N> *>(a)[v];
            cu_vec<OT, N> r;
#pragma unroll
            for (int j = 0; j < N; j++) r.v[j] = f(x.v[j]);
            reinterpret_cast<cu_vec<OT, N> *>(o)[v] = r;
        }
        start = nv * N;
    }
    for (int64_t i = start + tid; i < n; i += step) o[i] = f(a[i]);
}

template <typename F, typename T, typename OT>
__global__ void cu_un_strided_k(F f, cu_geom g, OT *o, const T *a, int64_t n) {
    int64_t tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = tid; i < n; i += step) {
        int64_t off[2];
        cu_offsets<2>(g, i, off);
        o[off[0]] = f(a[off[1]]);
    }
}

template <typename T, typename F>
int cu_launch_unary(F f, mt_tensor *out, const mt_tensor *a) {
    typedef decltype(f(T())) OT;
    int64_t n = cu_numel(out);
    if (n == 0) return 0;
    cu_geom g;
    const mt_tensor *ops[2] = {out, a};
    if (cu_geom_init(&g, 2, ops) < 0) return -1;
    OT *po = (OT *)cu_data(out);
    const T *pa = (const T *)cu_data(a);
    if (g.ndim == 0 || (g.ndim == 1 && g.strides[0][0] == 1 && g.strides[1][0] == 1)) {
        constexpr int N = cu_vec_width<T>::value;
        bool vec = n >= N && cu_aligned(po, sizeof(OT) * N) && cu_aligned(pa, sizeof(T) * N);
        cu_un_contig_k<F, T, OT><<<cu_blocks(n, vec ? N : 1), CU_THREADS, 0, cu_stream>>>(f, po, pa, n, vec);
    } else {
        cu_un_strided_k<F, T, OT><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(f, g, po, pa, n);
    }
    CU_CHECK_LAUNCH();
    return 0;
}

/* ---------------- the declarations' dtype kinds (ops/elementwise_ops.h) ----------------
 * Which dtypes the kernel of an op of kind k is compiled for, as the CPU loop tables
 * (ops/elementwise_cpu.c): the op layer has promoted or rejected the others already. */
constexpr bool cu_kind_runs_on(int k, mt_dtype d) {
    switch (d) {
    case MT_FLOAT32: case MT_FLOAT64: return k != MT_K_INTEGER && k != MT_K_INTONLY;
    case MT_INT32: case MT_INT64: return k != MT_K_FLOAT && k != MT_K_FLOATONLY && k != MT_K_ROUND && k != MT_K_IDINT;
    case MT_BOOL: return k == MT_K_PRED || k == MT_K_INTEGER || k == MT_K_ARITH || k == MT_K_SAMEDT;
    default: return false;
    }
}

/* the last branch of a functor's if-constexpr chain: a declared op without a CUDA expression */
template <int OP>
struct cu_always_false {
    static constexpr bool value = false;
};

#endif

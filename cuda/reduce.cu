/* Reductions over contiguous rows [outer, inner] (the mt_reduce_args contract) and softmax.
 *
 * Each op is an accumulator (cu_acc) with an element update and an associative combine; ties of
 * max/min are broken by index, so argmax/argmin return the first occurrence (a NaN wins at its
 * first occurrence) whatever the thread schedule. Float sums accumulate in double, var uses
 * Welford/Chan (one pass), logsumexp an online (max, sum-of-exp) pair. Launch shapes:
 *   inner <= 32:             one thread per row
 *   otherwise:               one block per row (warp shuffles + shared memory)
 *   few very long rows:      each row split over several blocks into partials, then a second
 *                            kernel combines each row's partials in a fixed tree (deterministic). */
#include "common.cuh"

#include <math.h>
#include <type_traits>

namespace {

#define HD __host__ __device__ __forceinline__

struct cu_acc {
    double d, e; /* float value / mean / max; M2 / sum of exps */
    int64_t i;   /* integer value; count for var */
    int64_t k;   /* arg index, -1 = empty (max/min) */
};

enum { P_SUM, P_PROD, P_MAX, P_MIN, P_ALL, P_ANY, P_VAR, P_LSE, P_N2, P_N1, P_N0, P_NINF, P_NNINF, P_NP };

template <int P>
HD cu_acc acc_init() {
    cu_acc a;
    a.d = 0;
    a.e = 0;
    a.i = 0;
    a.k = -1;
    if constexpr (P == P_PROD) { a.d = 1; a.i = 1; }
    if constexpr (P == P_ALL) a.i = 1;
    if constexpr (P == P_LSE) a.d = -INFINITY;
    return a;
}

template <typename T>
HD bool isnan_(T x) {
    if constexpr (std::is_floating_point<T>::value) return x != x;
    else return false;
}

/* for max/min: is b better than a (b has a larger index when both valid and equal) */
template <int P, bool ISF>
HD bool better(const cu_acc &a, const cu_acc &b) {
    if (b.k < 0) return false;
    if (a.k < 0) return true;
    if constexpr (ISF) {
        bool an = a.d != a.d, bn = b.d != b.d;
        if (an || bn) return bn && (!an || b.k < a.k);
        if (b.d == a.d) return b.k < a.k;
        return P == P_MAX ? b.d > a.d : b.d < a.d;
    } else {
        if (b.i == a.i) return b.k < a.k;
        return P == P_MAX ? b.i > a.i : b.i < a.i;
    }
}

template <int P, typename T>
HD void acc_add(cu_acc &a, T x, int64_t idx, double p) {
    constexpr bool ISF = std::is_floating_point<T>::value;
    if constexpr (P == P_SUM) {
        if constexpr (ISF) a.d += (double)x;
        else a.i = (int64_t)((uint64_t)a.i + (uint64_t)(int64_t)x);
    } else if constexpr (P == P_PROD) {
        if constexpr (ISF) a.d *= (double)x;
        else a.i = (int64_t)((uint64_t)a.i * (uint64_t)(int64_t)x);
    } else if constexpr (P == P_MAX || P == P_MIN) {
        cu_acc b;
        b.k = idx;
        b.d = (double)x;
        b.i = (int64_t)x;
        if (better<P, ISF>(a, b)) a = b;
    } else if constexpr (P == P_ALL) {
        a.i = a.i && (x != 0);
    } else if constexpr (P == P_ANY) {
        a.i = a.i || (x != 0);
    } else if constexpr (P == P_VAR) {
        a.i++;
        double v = (double)x, delta = v - a.d;
        a.d += delta / (double)a.i;
        a.e += delta * (v - a.d);
    } else if constexpr (P == P_LSE) {
        double v = (double)x;
        if (a.d != a.d) return;                       /* NaN is sticky */
        if (v != v || v == INFINITY) { if (!(a.d == INFINITY && v == INFINITY)) { a.d = v; a.e = 0; } return; }
        if (a.d == INFINITY || v == -INFINITY) return;
        if (v > a.d) { a.e = a.e * exp(a.d - v) + 1.0; a.d = v; }
        else a.e += exp(v - a.d);
    } else if constexpr (P == P_N2) {
        double v = (double)x; a.d += v * v;
    } else if constexpr (P == P_N1) {
        a.d += fabs((double)x);
    } else if constexpr (P == P_N0) {
        a.d += x != 0 ? 1.0 : 0.0;
    } else if constexpr (P == P_NINF || P == P_NNINF) {
        double v = fabs((double)x);
        if (a.k < 0) { a.d = v; a.k = 0; return; }
        if (a.d != a.d) return;
        if (v != v || (P == P_NINF ? v > a.d : v < a.d)) a.d = v;
    } else { /* P_NP */
        a.d += pow(fabs((double)x), p);
    }
}

template <int P, typename T>
HD cu_acc acc_combine(cu_acc a, const cu_acc &b) {
    constexpr bool ISF = std::is_floating_point<T>::value;
    if constexpr (P == P_SUM || P == P_N2 || P == P_N1 || P == P_N0 || P == P_NP) {
        a.d += b.d;
        a.i = (int64_t)((uint64_t)a.i + (uint64_t)b.i);
    } else if constexpr (P == P_PROD) {
        a.d *= b.d;
        a.i = (int64_t)((uint64_t)a.i * (uint64_t)b.i);
    } else if constexpr (P == P_MAX || P == P_MIN) {
        if (better<P, ISF>(a, b)) a = b;
    } else if constexpr (P == P_ALL) {
        a.i = a.i && b.i;
    } else if constexpr (P == P_ANY) {
        a.i = a.i || b.i;
    } else if constexpr (P == P_VAR) {
        if (b.i == 0) return a;
        if (a.i == 0) return b;
        double n = (double)(a.i + b.i), delta = b.d - a.d;
        a.d = a.d + delta * ((double)b.i / n);
        a.e = a.e + b.e + delta * delta * ((double)a.i * (double)b.i / n);
        a.i += b.i;
    } else if constexpr (P == P_LSE) {
        if (a.d != a.d) return a;
        if (b.d != b.d) return b;
        if (a.d == INFINITY || b.d == -INFINITY) return a;
        if (b.d == INFINITY || a.d == -INFINITY) return b;
        if (b.d > a.d) { a.e = a.e * exp(a.d - b.d) + b.e; a.d = b.d; }
        else a.e += b.e * exp(b.d - a.d);
    } else { /* inf norms */
        if (b.k < 0) return a;
        if (a.k < 0) return b;
        if (a.d != a.d) return a;
        if (b.d != b.d || (P == P_NINF ? b.d > a.d : b.d < a.d)) a.d = b.d;
    }
    return a;
}

__device__ __forceinline__ cu_acc shfl_down(const cu_acc &a, int off) {
    cu_acc r;
    r.d = __shfl_down_sync(0xffffffffu, a.d, off);
    r.e = __shfl_down_sync(0xffffffffu, a.e, off);
    r.i = (int64_t)__shfl_down_sync(0xffffffffu, (long long)a.i, off);
    r.k = (int64_t)__shfl_down_sync(0xffffffffu, (long long)a.k, off);
    return r;
}

/* Block-wide combine (blockDim.x a multiple of 32, <= 1024); the result is valid in thread 0.
 * The tree is fixed, so the result does not depend on timing. */
template <int P, typename T>
__device__ cu_acc block_combine(cu_acc a) {
    __shared__ cu_acc sm[32];
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    for (int off = 16; off > 0; off >>= 1) a = acc_combine<P, T>(a, shfl_down(a, off));
    if (nw == 1) return a;
    __syncthreads();
    if (lane == 0) sm[w] = a;
    __syncthreads();
    if (w == 0) {
        a = lane < nw ? sm[lane] : acc_init<P>();
        for (int off = 16; off > 0; off >>= 1) a = acc_combine<P, T>(a, shfl_down(a, off));
    }
    return a;
}

struct red_out {
    int op;
    int64_t inner;
    double p;
    void *out;
    int64_t *idx;
};

template <int P, typename T>
__device__ void finalize(const red_out &o, int64_t row, const cu_acc &a) {
    constexpr bool ISF = std::is_floating_point<T>::value;
    switch (o.op) {
    case MT_RED_ARGMAX: case MT_RED_ARGMIN: ((int64_t *)o.out)[row] = a.k; break;
    case MT_RED_ALL: case MT_RED_ANY: ((bool *)o.out)[row] = a.i != 0; break;
    case MT_RED_MEAN: ((T *)o.out)[row] = (T)(a.d / (double)o.inner); break;
    case MT_RED_VAR: {
        double dof = (double)o.inner - o.p;
        ((T *)o.out)[row] = (T)(a.e / (dof > 0 ? dof : 0));
        break;
    }
    case MT_RED_LOGSUMEXP: {
        double m = a.d;
        ((T *)o.out)[row] = (T)((isinf(m) || isnan(m)) ? m : log(a.e) + m);
        break;
    }
    case MT_RED_NORM: {
        double v = a.d;
        if constexpr (P == P_N2) v = sqrt(v);
        else if constexpr (P == P_NP) v = pow(v, 1.0 / o.p);
        ((T *)o.out)[row] = (T)v;
        break;
    }
    default: /* sum, prod, max, min */
        if constexpr (ISF) ((T *)o.out)[row] = (T)a.d;
        else ((T *)o.out)[row] = (T)a.i;
        break;
    }
    if (o.idx) o.idx[row] = a.k;
}

template <int P, typename T>
__global__ void red_thread_k(const T *__restrict__ in, int64_t outer, int64_t inner, red_out o) {
    int64_t tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t r = tid; r < outer; r += step) {
        cu_acc a = acc_init<P>();
        const T *x = in + r * inner;
        for (int64_t j = 0; j < inner; j++) acc_add<P, T>(a, x[j], j, o.p);
        finalize<P, T>(o, r, a);
    }
}

/* grid (chunks, rows): block (c, r) reduces row r over its chunk; chunks == 1 finalises */
template <int P, typename T>
__global__ void red_block_k(const T *__restrict__ in, int64_t inner, int64_t chunk, red_out o, cu_acc *partials) {
    int64_t r = blockIdx.y, c = blockIdx.x;
    int64_t lo = c * chunk, hi = lo + chunk < inner ? lo + chunk : inner;
    const T *x = in + r * inner;
    cu_acc a = acc_init<P>();
    for (int64_t j = lo + threadIdx.x; j < hi; j += blockDim.x) acc_add<P, T>(a, x[j], j, o.p);
    a = block_combine<P, T>(a);
    if (threadIdx.x == 0) {
        if (partials) partials[r * gridDim.x + c] = a;
        else finalize<P, T>(o, r, a);
    }
}

template <int P, typename T>
__global__ void red_partials_k(const cu_acc *__restrict__ parts, int nchunks, red_out o) {
    int64_t r = blockIdx.x;
    cu_acc a = threadIdx.x < nchunks ? parts[r * nchunks + threadIdx.x] : acc_init<P>();
    a = block_combine<P, T>(a);
    if (threadIdx.x == 0) finalize<P, T>(o, r, a);
}

unsigned pow2_threads(int64_t n, unsigned maxt) {
    unsigned t = 32;
    while (t < maxt && (int64_t)t < n) t <<= 1;
    return t;
}

template <int P, typename T>
int launch(const mt_reduce_args *r, red_out o, const T *in) {
    int64_t outer = r->outer, inner = r->inner;
    if (inner <= 32) {
        red_thread_k<P, T><<<cu_blocks(outer), CU_THREADS, 0, cu_stream>>>(in, outer, inner, o);
        CU_CHECK_LAUNCH();
        return 0;
    }
    int64_t chunks = 1;
    int sms = cu_num_sms > 0 ? cu_num_sms : 80;
    if (outer < 2 * sms && inner >= 65536) {
        chunks = (inner + 16383) / 16384;
        int64_t want = (4 * (int64_t)sms + outer - 1) / outer;
        if (chunks > want) chunks = want;
        if (chunks > 1024) chunks = 1024;
    }
    if (outer > 65535 && chunks == 1) {
        /* grid.y is limited to 65535 rows per launch */
        for (int64_t r0 = 0; r0 < outer; r0 += 65535) {
            int64_t rows = outer - r0 < 65535 ? outer - r0 : 65535;
            red_out o2 = o;
            size_t es = r->op == MT_RED_ARGMAX || r->op == MT_RED_ARGMIN ? 8
                        : (r->op == MT_RED_ALL || r->op == MT_RED_ANY) ? 1 : sizeof(T);
            o2.out = (char *)o.out + r0 * es;
            o2.idx = o.idx ? o.idx + r0 : nullptr;
            dim3 grid(1, (unsigned)rows);
            red_block_k<P, T><<<grid, pow2_threads(inner, 256), 0, cu_stream>>>(in + r0 * inner, inner, inner, o2,
                                                                                nullptr);
            CU_CHECK_LAUNCH();
        }
        return 0;
    }
    int64_t chunk = (inner + chunks - 1) / chunks;
    dim3 grid((unsigned)chunks, (unsigned)outer);
    if (chunks == 1) {
        red_block_k<P, T><<<grid, pow2_threads(inner, 256), 0, cu_stream>>>(in, inner, chunk, o, nullptr);
        CU_CHECK_LAUNCH();
        return 0;
    }
    cu_scratch s;
    cu_acc *parts = (cu_acc *)s.get(outer * chunks * (int64_t)sizeof(cu_acc));
    if (!parts) return -1;
    red_block_k<P, T><<<grid, 256, 0, cu_stream>>>(in, inner, chunk, o, parts);
    CU_CHECK_LAUNCH();
    red_partials_k<P, T><<<(unsigned)outer, pow2_threads(chunks, 1024), 0, cu_stream>>>(parts, (int)chunks, o);
    CU_CHECK_LAUNCH();
    return 0;
}

template <typename T>
int run_t(const mt_reduce_args *r, red_out o, const T *in) {
    constexpr bool ISF = std::is_floating_point<T>::value;
    switch (r->op) {
    case MT_RED_SUM: return launch<P_SUM, T>(r, o, in);
    case MT_RED_PROD: return launch<P_PROD, T>(r, o, in);
    case MT_RED_MAX: case MT_RED_ARGMAX: return launch<P_MAX, T>(r, o, in);
    case MT_RED_MIN: case MT_RED_ARGMIN: return launch<P_MIN, T>(r, o, in);
    case MT_RED_ALL: return launch<P_ALL, T>(r, o, in);
    case MT_RED_ANY: return launch<P_ANY, T>(r, o, in);
    default: break;
    }
    if constexpr (ISF) {
        switch (r->op) {
        case MT_RED_MEAN: return launch<P_SUM, T>(r, o, in);
        case MT_RED_VAR: return launch<P_VAR, T>(r, o, in);
        case MT_RED_LOGSUMEXP: return launch<P_LSE, T>(r, o, in);
        case MT_RED_NORM: {
            double p = r->p;
            if (p == 2) return launch<P_N2, T>(r, o, in);
            if (p == 1) return launch<P_N1, T>(r, o, in);
            if (p == 0) return launch<P_N0, T>(r, o, in);
            if (isinf(p)) return p > 0 ? launch<P_NINF, T>(r, o, in) : launch<P_NNINF, T>(r, o, in);
            return launch<P_NP, T>(r, o, in);
        }
        default: break;
        }
    }
    return -2;
}

/* ---------------- softmax ---------------- */
__device__ __forceinline__ double block_sum(double v, double *sm) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    __syncthreads();
    if (lane == 0) sm[w] = v;
    __syncthreads();
    if (w == 0) {
        v = lane < nw ? sm[lane] : 0.0;
        for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
        if (lane == 0) sm[32] = v;
    }
    __syncthreads();
    return sm[32];
}
__device__ __forceinline__ double nanmax(double a, double b) { return (a != a || b != b) ? NAN : (a > b ? a : b); }
__device__ __forceinline__ double block_max(double v, double *sm) {
    for (int off = 16; off > 0; off >>= 1) v = nanmax(v, __shfl_down_sync(0xffffffffu, v, off));
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    __syncthreads();
    if (lane == 0) sm[w] = v;
    __syncthreads();
    if (w == 0) {
        v = lane < nw ? sm[lane] : -INFINITY;
        for (int off = 16; off > 0; off >>= 1) v = nanmax(v, __shfl_down_sync(0xffffffffu, v, off));
        if (lane == 0) sm[32] = v;
    }
    __syncthreads();
    return sm[32];
}

/* one block per row (grid-stride over rows) */
template <typename T, bool LOG>
__global__ void softmax_k(T *__restrict__ y, const T *__restrict__ x, int64_t outer, int64_t inner) {
    __shared__ double sm[33];
    for (int64_t r = blockIdx.x; r < outer; r += gridDim.x) {
        const T *xr = x + r * inner;
        T *yr = y + r * inner;
        double m = -INFINITY;
        for (int64_t j = threadIdx.x; j < inner; j += blockDim.x) m = nanmax(m, (double)xr[j]);
        m = block_max(m, sm);
        T mt = (T)m;
        double s = 0;
        for (int64_t j = threadIdx.x; j < inner; j += blockDim.x) s += (double)exp(xr[j] - mt);
        s = block_sum(s, sm);
        if (LOG) {
            T ls = (T)log(s);
            for (int64_t j = threadIdx.x; j < inner; j += blockDim.x) yr[j] = xr[j] - mt - ls;
        } else {
            T inv = (T)(1.0 / s);
            for (int64_t j = threadIdx.x; j < inner; j += blockDim.x) yr[j] = (T)exp(xr[j] - mt) * inv;
        }
    }
}

template <typename T, bool LOG>
__global__ void softmax_bw_k(T *__restrict__ gi, const T *__restrict__ go, const T *__restrict__ y, int64_t outer,
                             int64_t inner) {
    __shared__ double sm[33];
    for (int64_t r = blockIdx.x; r < outer; r += gridDim.x) {
        const T *gor = go + r * inner, *yr = y + r * inner;
        T *gir = gi + r * inner;
        double s = 0;
        for (int64_t j = threadIdx.x; j < inner; j += blockDim.x)
            s += LOG ? (double)gor[j] : (double)gor[j] * (double)yr[j];
        T ts = (T)block_sum(s, sm);
        for (int64_t j = threadIdx.x; j < inner; j += blockDim.x)
            gir[j] = LOG ? gor[j] - (T)exp(yr[j]) * ts : yr[j] * (gor[j] - ts);
    }
}

unsigned softmax_grid(int64_t outer) {
    int64_t cap = (int64_t)(cu_num_sms > 0 ? cu_num_sms : 80) * 16;
    return (unsigned)(outer < cap ? outer : cap);
}

} // namespace

int cu_reduce(const mt_reduce_args *r, mt_tensor *out, mt_tensor *idx, const mt_tensor *in) {
    mt_dtype dt = in->dtype;
    mt_dtype want = r->op == MT_RED_ALL || r->op == MT_RED_ANY ? MT_BOOL
                    : r->op == MT_RED_ARGMAX || r->op == MT_RED_ARGMIN ? MT_INT64 : dt;
    if (out->dtype != want || (idx && idx->dtype != MT_INT64)) {
        cu_api->error(MT_ERR_RUNTIME, "reduce kernel: unexpected output dtype %s", cu_api->dtype_names[out->dtype]);
        return -1;
    }
    if (r->outer <= 0) return 0;
    red_out o = {r->op, r->inner, r->p, cu_data(out), idx ? (int64_t *)cu_data(idx) : nullptr};
    int rc;
    const void *x = cu_data(in);
    switch (dt) {
    case MT_BOOL: rc = run_t<bool>(r, o, (const bool *)x); break;
    case MT_INT32: rc = run_t<int32_t>(r, o, (const int32_t *)x); break;
    case MT_INT64: rc = run_t<int64_t>(r, o, (const int64_t *)x); break;
    case MT_FLOAT32: rc = run_t<float>(r, o, (const float *)x); break;
    default: rc = run_t<double>(r, o, (const double *)x); break;
    }
    if (rc == -2) {
        cu_api->error(MT_ERR_RUNTIME, "reduce kernel: op %d not implemented for dtype %s", r->op,
                      cu_api->dtype_names[dt]);
        return -1;
    }
    return rc;
}

int cu_softmax(mt_tensor *out, const mt_tensor *in, int64_t outer, int64_t inner, bool log) {
    if (!(in->dtype == MT_FLOAT32 || in->dtype == MT_FLOAT64)) {
        cu_api->error(MT_ERR_NOTIMPL, "\"%s\" not implemented for '%s'", log ? "log_softmax_cuda" : "softmax_cuda",
                      cu_api->dtype_names[in->dtype]);
        return -1;
    }
    if (outer <= 0 || inner <= 0) return 0;
    unsigned th = pow2_threads(inner, 256), gr = softmax_grid(outer);
    if (in->dtype == MT_FLOAT32) {
        if (log) softmax_k<float, true><<<gr, th, 0, cu_stream>>>((float *)cu_data(out), (const float *)cu_data(in), outer, inner);
        else softmax_k<float, false><<<gr, th, 0, cu_stream>>>((float *)cu_data(out), (const float *)cu_data(in), outer, inner);
    } else {
        if (log) softmax_k<double, true><<<gr, th, 0, cu_stream>>>((double *)cu_data(out), (const double *)cu_data(in), outer, inner);
        else softmax_k<double, false><<<gr, th, 0, cu_stream>>>((double *)cu_data(out), (const double *)cu_data(in), outer, inner);
    }
    CU_CHECK_LAUNCH();
    return 0;
}

int cu_softmax_backward(mt_tensor *gin, const mt_tensor *gout, const mt_tensor *y, int64_t outer, int64_t inner,
                        bool log) {
    if (!(y->dtype == MT_FLOAT32 || y->dtype == MT_FLOAT64)) {
        cu_api->error(MT_ERR_NOTIMPL, "\"%s\" not implemented for '%s'",
                      log ? "log_softmax_backward_cuda" : "softmax_backward_cuda", cu_api->dtype_names[y->dtype]);
        return -1;
    }
    if (outer <= 0 || inner <= 0) return 0;
    unsigned th = pow2_threads(inner, 256), gr = softmax_grid(outer);
#define SBW(T, L)                                                                                                    \
    softmax_bw_k<T, L><<<gr, th, 0, cu_stream>>>((T *)cu_data(gin), (const T *)cu_data(gout), (const T *)cu_data(y), \
                                                 outer, inner)
    if (y->dtype == MT_FLOAT32) {
        if (log) SBW(float, true); else SBW(float, false);
    } else {
        if (log) SBW(double, true); else SBW(double, false);
    }
#undef SBW
    CU_CHECK_LAUNCH();
    return 0;
}

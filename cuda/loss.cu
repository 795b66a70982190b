/* Fused losses on CUDA: the kernels of the mt_loss_backends[MT_CUDA] entry (csrc/ops/loss.h).
 *
 * cross_entropy / nll_loss over class indices, the input seen as [N, C, inner] (a "position" is one
 * (n, i) pair with one target):
 *   forward   inner == 1: one warp per row (max, then the sum of exps in double, then the loss; a second
 *             pass over the row for the label-smoothing term); inner > 1: one thread per position, walking
 *             the classes with stride inner (neighbouring threads read neighbouring addresses). The row max
 *             and the log of the sum of exps are saved (stats) for the backward, as on the CPU.
 *   reduce    one block: the per-position losses summed in double in a fixed order (deterministic), the
 *             summed target weight ('mean' divides by it) and the summed class weights, into stats' tail.
 *   backward  one thread per input element: g * (p_c * (a + b * W) - b * w_c - a * [c == t]) with
 *             p = exp((x - max) - logsum), a = (1 - eps) * w_t, b = eps / C, W = sum_c w_c (loss.c's formula).
 * Targets outside [0, C) (other than ignore_index) do not stop the kernels (their loss is NaN, their gradient
 * 0); the kernel records the first one it sees in a mapped host flag, and the error is raised, without any
 * extra synchronisation, at the next device synchronisation (torch.cuda.synchronize, a device-to-host copy
 * such as .item()) or the next loss call: RuntimeError "CUDA error: device-side assert triggered (Target k is
 * out of bounds.)", as PyTorch reports its device-side assert. BCE's [0, 1] range checks report the same way.
 *
 * Pointwise losses (mse, bce, bce with logits): one elementwise kernel writing per-element losses, or per-block
 * double partial sums followed by a one-block sum (fixed grid, so deterministic); the backward is one
 * elementwise kernel for both gradients. Formulas as loss.c's CPU kernels. */
#include "common.cuh"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------- asynchronous error reports (mapped pinned host memory) ---------------- */
struct cu_loss_err {
    int kind;           /* 1 target out of bounds, 2 BCE input, 3 BCE target */
    long long value;    /* the bad target */
    volatile int ready; /* set last (after a system fence): the host may read kind/value */
};
static cu_loss_err *err_host, *err_dev;
/* in device memory (atomics on mapped host memory are not portable): the first reporter wins */
__device__ int cu_loss_err_claim;
static int *claim_dev;

static int err_init(void) {
    if (err_host) return 0;
    void *h = NULL;
    CU_CHECK(cudaHostAlloc(&h, sizeof(cu_loss_err), cudaHostAllocMapped));
    memset(h, 0, sizeof(cu_loss_err));
    void *d = NULL;
    cudaError_t e = cudaHostGetDevicePointer(&d, h, 0);
    if (e != cudaSuccess) {
        cudaFreeHost(h);
        return cu_fail(e, "cudaHostGetDevicePointer", __FILE__, __LINE__);
    }
    void *c = NULL;
    e = cudaGetSymbolAddress(&c, cu_loss_err_claim);
    if (e != cudaSuccess) {
        cudaFreeHost(h);
        return cu_fail(e, "cudaGetSymbolAddress", __FILE__, __LINE__);
    }
    claim_dev = (int *)c;
    CU_CHECK(cudaMemsetAsync(claim_dev, 0, sizeof(int), cu_stream));
    err_host = (cu_loss_err *)h;
    err_dev = (cu_loss_err *)d;
    return 0;
}

__device__ void report(cu_loss_err *e, int kind, long long value) {
    if (atomicCAS(&cu_loss_err_claim, 0, 1) == 0) {
        e->kind = kind;
        e->value = value;
        __threadfence_system();
        e->ready = 1;
    }
}

/* Raises (and clears) a recorded device-side error: 0, or -1 with the error set. Never synchronises: a report
 * of a kernel still running is seen by a later call. */
extern "C" int cu_loss_take_error(void) {
    if (!err_host || !err_host->ready) return 0;
    int kind = err_host->kind;
    long long v = err_host->value;
    err_host->ready = 0;
    err_host->kind = 0;
    __sync_synchronize();
    /* re-arm, ordered after the kernels already queued (a later report of those is then seen next time) */
    cudaError_t ce = cudaMemsetAsync(claim_dev, 0, sizeof(int), cu_stream);
    if (ce != cudaSuccess) return cu_fail(ce, "cudaMemsetAsync", __FILE__, __LINE__);
    if (kind == 1)
        cu_api->error(MT_ERR_RUNTIME, "CUDA error: device-side assert triggered (Target %lld is out of bounds.)", v);
    else
        cu_api->error(MT_ERR_RUNTIME, "CUDA error: device-side assert triggered (all elements of %s should be "
                      "between 0 and 1)", kind == 2 ? "input" : "target");
    return -1;
}

/* The backend's copy with the report check after device-to-host copies (which synchronise the stream). */
extern "C" int cu_copy_checked(mt_tensor *dst, const mt_tensor *src) {
    if (cu_copy(dst, src) < 0) return -1;
    if (dst->storage->device.type == MT_CPU) return cu_loss_take_error();
    return 0;
}

namespace {

template <typename T> __device__ __forceinline__ T dexp(T x);
template <> __device__ __forceinline__ float dexp<float>(float x) { return expf(x); }
template <> __device__ __forceinline__ double dexp<double>(double x) { return exp(x); }
template <typename T> __device__ __forceinline__ T dlog(T x);
template <> __device__ __forceinline__ float dlog<float>(float x) { return logf(x); }
template <> __device__ __forceinline__ double dlog<double>(double x) { return log(x); }
template <typename T> __device__ __forceinline__ T dlog1p(T x);
template <> __device__ __forceinline__ float dlog1p<float>(float x) { return log1pf(x); }
template <> __device__ __forceinline__ double dlog1p<double>(double x) { return log1p(x); }

__device__ __forceinline__ double warp_sum(double v) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
    return v;
}
template <typename T> __device__ __forceinline__ T warp_max(T v) {
    for (int off = 16; off > 0; off >>= 1) {
        T o = __shfl_down_sync(0xffffffffu, v, off);
        v = o > v ? o : v;
    }
    return v;
}

struct ce_k {
    int64_t N, C, inner, np, ignore_index;
    double eps;
    bool logits, none;
};

/* loss of one position given its logsumexp (logits) or directly (log-probabilities); -1 lane-summed parts
 * are passed in by the caller (smooth: sum_c w_c * (x_c - lse)) */
template <typename T>
__device__ __forceinline__ double pos_loss(const ce_k &k, const T *x, int64_t stride, const T *w, int64_t t,
                                           double lse, double smooth) {
    double wt = w ? (double)w[t] : 1.0;
    if (!k.logits) return -wt * (double)x[t * stride];
    double l = -(1.0 - k.eps) * wt * ((double)x[t * stride] - lse);
    if (k.eps > 0) l -= k.eps / (double)k.C * smooth;
    return l;
}

/* inner == 1: one warp per row */
template <typename T>
__global__ void ce_fwd_rows(ce_k k, const T *__restrict__ x, const int64_t *__restrict__ tg, const T *__restrict__ w,
                            double *__restrict__ stats, T *__restrict__ out, double *__restrict__ lossbuf,
                            cu_loss_err *err) {
    const int lane = threadIdx.x & 31;
    const int64_t warps = (int64_t)gridDim.x * (blockDim.x >> 5);
    for (int64_t n = (int64_t)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5); n < k.N; n += warps) {
        const T *xr = x + n * k.C;
        int64_t t = tg[n];
        bool ign = t == k.ignore_index, bad = !ign && (t < 0 || t >= k.C);
        double mo = 0, lso = 0, lse = 0;
        if (k.logits && k.C > 0) {
            T m = -(T)INFINITY;
            for (int64_t c = lane; c < k.C; c += 32) m = xr[c] > m ? xr[c] : m;
            m = warp_max(m);
            m = __shfl_sync(0xffffffffu, m, 0);
            if (isinf(m)) {
                mo = m > 0 ? (double)NAN : (double)m;
                lso = 0;
            } else {
                double s = 0;
                for (int64_t c = lane; c < k.C; c += 32) s += (double)dexp<T>(xr[c] - m);
                s = warp_sum(s);
                s = __shfl_sync(0xffffffffu, s, 0);
                mo = (double)m;
                lso = log(s);
            }
            lse = mo + lso;
        }
        double smooth = 0;
        if (k.logits && k.eps > 0 && !ign && !bad) {
            for (int64_t c = lane; c < k.C; c += 32) smooth += (w ? (double)w[c] : 1.0) * ((double)xr[c] - lse);
            smooth = warp_sum(smooth);
        }
        if (lane == 0) {
            double l = 0;
            if (bad) {
                report(err, 1, (long long)t);
                l = NAN;
            } else if (!ign) {
                l = pos_loss<T>(k, xr, 1, w, t, lse, smooth);
            }
            if (k.logits) { stats[2 * n] = mo; stats[2 * n + 1] = lso; }
            if (k.none) out[n] = (T)l;
            else lossbuf[n] = l;
        }
    }
}

/* inner > 1: one thread per position */
template <typename T>
__global__ void ce_fwd_spatial(ce_k k, const T *__restrict__ x, const int64_t *__restrict__ tg,
                               const T *__restrict__ w, double *__restrict__ stats, T *__restrict__ out,
                               double *__restrict__ lossbuf, cu_loss_err *err) {
    for (int64_t p = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; p < k.np; p += (int64_t)gridDim.x * blockDim.x) {
        int64_t n = p / k.inner, i = p % k.inner;
        const T *xb = x + n * k.C * k.inner + i;
        int64_t t = tg[p];
        bool ign = t == k.ignore_index, bad = !ign && (t < 0 || t >= k.C);
        double mo = 0, lso = 0, lse = 0;
        if (k.logits && k.C > 0) {
            T m = -(T)INFINITY;
            for (int64_t c = 0; c < k.C; c++) { T v = xb[c * k.inner]; m = v > m ? v : m; }
            if (isinf(m)) {
                mo = m > 0 ? (double)NAN : (double)m;
            } else {
                double s = 0;
                for (int64_t c = 0; c < k.C; c++) s += (double)dexp<T>(xb[c * k.inner] - m);
                mo = (double)m;
                lso = log(s);
            }
            lse = mo + lso;
        }
        double l = 0;
        if (bad) {
            report(err, 1, (long long)t);
            l = NAN;
        } else if (!ign) {
            double smooth = 0;
            if (k.logits && k.eps > 0)
                for (int64_t c = 0; c < k.C; c++) smooth += (w ? (double)w[c] : 1.0) * ((double)xb[c * k.inner] - lse);
            l = pos_loss<T>(k, xb, k.inner, w, t, lse, smooth);
        }
        if (k.logits) { stats[2 * p] = mo; stats[2 * p + 1] = lso; }
        if (k.none) out[p] = (T)l;
        else lossbuf[p] = l;
    }
}

#define RED_THREADS 1024
/* one block: stats[2np] = summed weight of the valid non-ignored targets, stats[2np + 1] = summed class weights
 * (C without weight); out[0] = the summed losses (/ total weight for mean) unless reduction none */
template <typename T>
__global__ void ce_reduce(ce_k k, const int64_t *__restrict__ tg, const T *__restrict__ w,
                          const double *__restrict__ lossbuf, double *__restrict__ stats, T *__restrict__ out,
                          bool mean) {
    __shared__ double sh[3][RED_THREADS / 32];
    double s = 0, tw = 0, ws = 0;
    for (int64_t p = threadIdx.x; p < k.np; p += blockDim.x) {
        int64_t t = tg[p];
        if (t != k.ignore_index && t >= 0 && t < k.C) tw += w ? (double)w[t] : 1.0;
        if (!k.none) s += lossbuf[p];
    }
    if (w)
        for (int64_t c = threadIdx.x; c < k.C; c += blockDim.x) ws += (double)w[c];
    s = warp_sum(s);
    tw = warp_sum(tw);
    ws = warp_sum(ws);
    int lane = threadIdx.x & 31, wid = threadIdx.x >> 5;
    if (lane == 0) { sh[0][wid] = s; sh[1][wid] = tw; sh[2][wid] = ws; }
    __syncthreads();
    if (threadIdx.x == 0) {
        s = tw = ws = 0;
        for (int j = 0; j < (int)(blockDim.x >> 5); j++) { s += sh[0][j]; tw += sh[1][j]; ws += sh[2][j]; }
        stats[2 * k.np] = tw;
        stats[2 * k.np + 1] = w ? ws : (double)k.C;
        if (!k.none) out[0] = (T)(mean ? s / tw : s);
    }
}

/* one thread per element of the input gradient */
template <typename T>
__global__ void ce_bwd(ce_k k, T *__restrict__ gi, const T *__restrict__ x, const int64_t *__restrict__ tg,
                       const T *__restrict__ w, const double *__restrict__ stats, const T *__restrict__ go, bool mean,
                       int64_t total) {
    const double b = k.C ? k.eps / (double)k.C : 0.0;
    const double wsum = stats[2 * k.np + 1];
    double gsc = 0;
    if (!k.none) {
        gsc = (double)go[0];
        if (mean) gsc /= stats[2 * k.np];
    }
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (int64_t)gridDim.x * blockDim.x) {
        int64_t i = e % k.inner, q = e / k.inner, c = q % k.C, n = q / k.C;
        int64_t p = n * k.inner + i, t = tg[p];
        if (t == k.ignore_index || t < 0 || t >= k.C) { gi[e] = (T)0; continue; }
        double gs = k.none ? (double)go[p] : gsc;
        double wt = w ? (double)w[t] : 1.0;
        if (!k.logits) {
            gi[e] = c == t ? (T)(-gs * wt) : (T)0;
            continue;
        }
        double a = (1.0 - k.eps) * wt;
        T k1 = (T)(gs * (a + b * wsum)), kb = (T)(gs * b);
        T m = (T)stats[2 * p], ls = (T)stats[2 * p + 1];
        T v = k1 * dexp<T>((x[e] - m) - ls) - kb * (w ? w[c] : (T)1);
        if (c == t) v -= (T)(gs * a);
        gi[e] = v;
    }
}

template <typename T>
int ce_forward_t(const mt_ce_args *a, const mt_tensor *x, const mt_tensor *tg, const mt_tensor *w, mt_tensor *stats,
                 mt_tensor *out) {
    ce_k k = {a->N, a->C, a->inner, a->N * a->inner, a->ignore_index, a->eps, a->logits,
              a->reduction == MT_REDUCTION_NONE};
    const T *xp = (const T *)cu_data(x), *wp = w ? (const T *)cu_data(w) : nullptr;
    const int64_t *tp = (const int64_t *)cu_data(tg);
    double *sp = (double *)cu_data(stats);
    T *op = (T *)cu_data(out);
    cu_scratch scratch;
    double *lossbuf = nullptr;
    if (!k.none && k.np > 0) {
        lossbuf = (double *)scratch.get(k.np * (int64_t)sizeof(double));
        if (!lossbuf) return -1;
    }
    if (k.np > 0) {
        if (k.inner == 1) {
            int64_t blocks = (k.N + 7) / 8;
            unsigned cap = (unsigned)(cu_num_sms > 0 ? cu_num_sms : 80) * 32;
            ce_fwd_rows<T><<<(unsigned)(blocks < cap ? blocks : cap), 256, 0, cu_stream>>>(k, xp, tp, wp, sp, op,
                                                                                         lossbuf, err_dev);
        } else {
            ce_fwd_spatial<T><<<cu_blocks(k.np), CU_THREADS, 0, cu_stream>>>(k, xp, tp, wp, sp, op, lossbuf, err_dev);
        }
        CU_CHECK_LAUNCH();
    }
    ce_reduce<T><<<1, RED_THREADS, 0, cu_stream>>>(k, tp, wp, lossbuf, sp, op, a->reduction == MT_REDUCTION_MEAN);
    CU_CHECK_LAUNCH();
    return 0;
}

template <typename T>
int ce_backward_t(const mt_ce_args *a, mt_tensor *gi, const mt_tensor *x, const mt_tensor *tg, const mt_tensor *w,
                  const mt_tensor *stats, const mt_tensor *go) {
    ce_k k = {a->N, a->C, a->inner, a->N * a->inner, a->ignore_index, a->eps, a->logits,
              a->reduction == MT_REDUCTION_NONE};
    int64_t total = k.np * k.C;
    if (total <= 0) return 0;
    ce_bwd<T><<<cu_blocks(total), CU_THREADS, 0, cu_stream>>>(
        k, (T *)cu_data(gi), x ? (const T *)cu_data(x) : nullptr, (const int64_t *)cu_data(tg),
        w ? (const T *)cu_data(w) : nullptr, (const double *)cu_data(stats), (const T *)cu_data(go),
        a->reduction == MT_REDUCTION_MEAN, total);
    CU_CHECK_LAUNCH();
    return 0;
}

int cu_ce_forward(const mt_ce_args *a, const mt_tensor *x, const mt_tensor *tg, const mt_tensor *w, mt_tensor *stats,
                  mt_tensor *out) {
    if (cu_loss_take_error() < 0 || err_init() < 0) return -1;
    return x->dtype == MT_FLOAT32 ? ce_forward_t<float>(a, x, tg, w, stats, out)
                                  : ce_forward_t<double>(a, x, tg, w, stats, out);
}
int cu_ce_backward(const mt_ce_args *a, mt_tensor *gi, const mt_tensor *x, const mt_tensor *tg, const mt_tensor *w,
                   const mt_tensor *stats, const mt_tensor *go) {
    if (cu_loss_take_error() < 0) return -1;
    return gi->dtype == MT_FLOAT32 ? ce_backward_t<float>(a, gi, x, tg, w, stats, go)
                                   : ce_backward_t<double>(a, gi, x, tg, w, stats, go);
}

/* ---------------- pointwise losses ---------------- */
template <typename T> __device__ __forceinline__ T softplus_neg(T x) { /* log(1 + exp(-x)), stable */
    T ax = x < 0 ? -x : x;
    return (x < 0 ? -x : (T)0) + dlog1p<T>(dexp<T>(-ax));
}

template <typename T>
__device__ __forceinline__ T pw_loss(int kind, T x, T y, const T *w, const T *pw, int64_t i) {
    T l;
    if (kind == MT_LOSS_MSE) {
        T d = x - y;
        l = d * d;
    } else if (kind == MT_LOSS_BCE) {
        T lx = dlog<T>(x), l1x = dlog1p<T>(-x);
        lx = lx > (T)-100 ? lx : (T)-100;
        l1x = l1x > (T)-100 ? l1x : (T)-100;
        l = (y - (T)1) * l1x - y * lx;
    } else {
        T lw = pw ? (pw[i] - (T)1) * y + (T)1 : (T)1;
        l = ((T)1 - y) * x + lw * softplus_neg<T>(x);
    }
    return w ? l * w[i] : l;
}

#define PW_BLOCKS 512
/* out != NULL: per-element losses; else per-block double partial sums into part[blockIdx.x] */
template <typename T>
__global__ void pw_fwd(int kind, int64_t n, const T *__restrict__ x, const T *__restrict__ y, const T *__restrict__ w,
                       const T *__restrict__ pw, T *__restrict__ out, double *__restrict__ part, cu_loss_err *err) {
    double s = 0;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        T xi = x[i], yi = y[i];
        if (kind == MT_LOSS_BCE) {
            if (!(xi >= (T)0 && xi <= (T)1)) report(err, 2, 0);
            if (!(yi >= (T)0 && yi <= (T)1)) report(err, 3, 0);
        }
        if (out) {
            out[i] = pw_loss<T>(kind, xi, yi, w, pw, i);
        } else if (kind == MT_LOSS_MSE && !w) {
            double d = (double)xi - (double)yi;
            s += d * d;
        } else {
            s += (double)pw_loss<T>(kind, xi, yi, w, pw, i);
        }
    }
    if (out) return;
    __shared__ double sh[CU_THREADS / 32];
    s = warp_sum(s);
    if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = s;
    __syncthreads();
    if (threadIdx.x == 0) {
        double b = 0;
        for (int j = 0; j < (int)(blockDim.x >> 5); j++) b += sh[j];
        part[blockIdx.x] = b;
    }
}

template <typename T>
__global__ void pw_sum(const double *__restrict__ part, int nparts, int64_t n, bool mean, T *__restrict__ out) {
    __shared__ double sh[RED_THREADS / 32];
    double s = 0;
    for (int j = threadIdx.x; j < nparts; j += blockDim.x) s += part[j];
    s = warp_sum(s);
    if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = s;
    __syncthreads();
    if (threadIdx.x == 0) {
        double b = 0;
        for (int j = 0; j < (int)(blockDim.x >> 5); j++) b += sh[j];
        if (mean) b /= (double)n;
        out[0] = (T)b;
    }
}

template <typename T>
__global__ void pw_bwd(int kind, int64_t n, bool none, bool mean, const T *__restrict__ x, const T *__restrict__ y,
                       const T *__restrict__ w, const T *__restrict__ pw, const T *__restrict__ go, T *__restrict__ gx,
                       T *__restrict__ gy) {
    T gs = 0;
    if (!none) {
        double g = (double)go[0];
        if (mean) g /= (double)n;
        gs = (T)g;
    }
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        T g = none ? go[i] : gs, xi = x[i], yi = y[i];
        if (w) g *= w[i];
        T dx, dy;
        if (kind == MT_LOSS_MSE) {
            dx = (T)2 * (xi - yi);
            dy = -dx;
        } else if (kind == MT_LOSS_BCE) {
            T den = ((T)1 - xi) * xi;
            dx = (xi - yi) / (den > (T)1e-12f ? den : (T)1e-12f); /* torch's float EPSILON */
            dy = gy ? dlog1p<T>(-xi) - dlog<T>(xi) : (T)0;
        } else {
            T sg = (T)1 / ((T)1 + dexp<T>(-xi));
            if (pw) {
                T t = pw[i] * yi;
                dx = (t + (T)1 - yi) * sg - t;
                dy = gy ? -xi - (pw[i] - (T)1) * -softplus_neg<T>(xi) : (T)0;
            } else {
                dx = sg - yi;
                dy = -xi;
            }
        }
        if (gx) gx[i] = g * dx;
        if (gy) gy[i] = g * dy;
    }
}

template <typename T> inline const T *cp(const mt_tensor *t) { return t ? (const T *)cu_data(t) : nullptr; }

template <typename T>
int pw_forward_t(int kind, int reduction, int64_t n, const mt_tensor *x, const mt_tensor *y, const mt_tensor *w,
                 const mt_tensor *pw, mt_tensor *out) {
    T *op = (T *)cu_data(out);
    if (reduction == MT_REDUCTION_NONE) {
        if (n <= 0) return 0;
        pw_fwd<T><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(kind, n, cp<T>(x), cp<T>(y), cp<T>(w), cp<T>(pw), op,
                                                              nullptr, err_dev);
        CU_CHECK_LAUNCH();
        return 0;
    }
    unsigned nb = cu_blocks(n);
    if (nb > PW_BLOCKS) nb = PW_BLOCKS;
    cu_scratch scratch;
    double *part = (double *)scratch.get((int64_t)nb * (int64_t)sizeof(double));
    if (!part) return -1;
    if (n > 0) {
        pw_fwd<T><<<nb, CU_THREADS, 0, cu_stream>>>(kind, n, cp<T>(x), cp<T>(y), cp<T>(w), cp<T>(pw), nullptr, part,
                                                    err_dev);
        CU_CHECK_LAUNCH();
    } else {
        nb = 0;
    }
    pw_sum<T><<<1, RED_THREADS, 0, cu_stream>>>(part, (int)nb, n, reduction == MT_REDUCTION_MEAN, op);
    CU_CHECK_LAUNCH();
    return 0;
}

int cu_pw_forward(int kind, int reduction, int64_t n, const mt_tensor *x, const mt_tensor *y, const mt_tensor *w,
                  const mt_tensor *pw, mt_tensor *out) {
    if (cu_loss_take_error() < 0 || err_init() < 0) return -1;
    return x->dtype == MT_FLOAT32 ? pw_forward_t<float>(kind, reduction, n, x, y, w, pw, out)
                                  : pw_forward_t<double>(kind, reduction, n, x, y, w, pw, out);
}

int cu_pw_backward(int kind, int reduction, int64_t n, const mt_tensor *x, const mt_tensor *y, const mt_tensor *w,
                   const mt_tensor *pw, const mt_tensor *go, mt_tensor *gx, mt_tensor *gy) {
    if (cu_loss_take_error() < 0) return -1;
    if (n <= 0) return 0;
    bool none = reduction == MT_REDUCTION_NONE, mean = reduction == MT_REDUCTION_MEAN;
#define PW_BWD(T)                                                                                                  \
    pw_bwd<T><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(kind, n, none, mean, cp<T>(x), cp<T>(y), cp<T>(w),      \
                                                          cp<T>(pw), cp<T>(go), gx ? (T *)cu_data(gx) : nullptr,   \
                                                          gy ? (T *)cu_data(gy) : nullptr)
    if (x->dtype == MT_FLOAT32) PW_BWD(float);
    else PW_BWD(double);
#undef PW_BWD
    CU_CHECK_LAUNCH();
    return 0;
}

const mt_loss_backend cu_loss_table = {cu_ce_forward, cu_ce_backward, cu_pw_forward, cu_pw_backward};

} // namespace

/* The table registered as mt_loss_backends[MT_CUDA] by mt_cuda_init (runtime.cu). */
const mt_loss_backend *cu_loss_backend(void) { return &cu_loss_table; }

/* Fused LSTM layer on CUDA: the kernels of the mt_rnn_backends[MT_CUDA] entry (csrc/ops/rnn.h).
 *
 * The op layer (csrc/ops/rnn.c) is device-neutral: it allocates the buffers on the GPU, runs the
 * input-projection GEMM and the per-step recurrent GEMMs through the backend's gemm (cuBLAS, or the
 * plain GEMM kernel under MT_NO_CUBLAS), and calls these kernels for the elementwise parts, all on
 * cu_stream, so no synchronisation is needed between them.
 *
 *   lstm_fwd  one thread per hidden unit (b, j) of one step: reads the 4 gate pre-activations of
 *             row b (i, f, g, o at j, H + j, 2H + j, 3H + j) plus the bias, writes the activations
 *             back in place (backward reads them), c = f * c_prev + i * g and h = o * tanh(c).
 *   lstm_bwd  one thread per (b, j): the gate gradients of row b from dh = dout + dh_recurrent and
 *             dc_t, and dc_{t-1} = dc * f in place.
 *   colsum    one thread per gate column: the bias gradient summed over all (t, b) rows in double
 *             (neighbouring threads read neighbouring addresses).
 *   lstm_fwd_step / lstm_bwd_step  a whole step: the recurrent GEMM in shared-memory tiles and the
 *             cell update / gate gradients in its epilogue (see below); the op layer uses them
 *             instead of a cuBLAS call plus lstm_fwd / lstm_bwd per step.
 * Float32 uses expf / tanhf (accurate libdevice functions; the build has no --use_fast_math), float64
 * exp / tanh; the CPU's float32 kernels use few-ulp approximations, so float32 results agree with the
 * CPU to float rounding, float64 ones to the last bits or so. Formulas as rnn.c's DEF_KERNELS. */
#include "common.cuh"

#include <math.h>

namespace {

__device__ __forceinline__ float d_sig(float x) {
    float e = expf(-fabsf(x)), r = 1.0f / (1.0f + e);
    return x >= 0.0f ? r : e * r;
}
__device__ __forceinline__ double d_sig(double x) { return 1.0 / (1.0 + exp(-x)); }
__device__ __forceinline__ float d_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double d_tanh(double x) { return tanh(x); }

#define GRID_LOOP(i, n) \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

template <typename T>
__global__ void lstm_fwd_kernel(int64_t b0, int64_t n, int64_t H, T *__restrict__ g, const T *__restrict__ bias,
                                const T *__restrict__ cp, T *__restrict__ c, T *__restrict__ h) {
    GRID_LOOP(k, n) {
        int64_t b = b0 + k / H, j = k % H;
        T *gr = g + b * 4 * H;
        int64_t o = b * H + j;
        T ig = d_sig(gr[j] + bias[j]);
        T fg = d_sig(gr[H + j] + bias[H + j]);
        T gg = d_tanh(gr[2 * H + j] + bias[2 * H + j]);
        T og = d_sig(gr[3 * H + j] + bias[3 * H + j]);
        T cv = fg * cp[o] + ig * gg;
        gr[j] = ig;
        gr[H + j] = fg;
        gr[2 * H + j] = gg;
        gr[3 * H + j] = og;
        c[o] = cv;
        h[o] = og * d_tanh(cv);
    }
}

template <typename T>
__global__ void lstm_bwd_kernel(int64_t b0, int64_t n, int64_t H, const T *__restrict__ a, const T *__restrict__ c,
                                const T *__restrict__ cp, const T *__restrict__ dout, const T *__restrict__ dhr,
                                T *__restrict__ dc, T *__restrict__ dg) {
    GRID_LOOP(k, n) {
        int64_t b = b0 + k / H, j = k % H;
        const T *ar = a + b * 4 * H;
        T *dgr = dg + b * 4 * H;
        int64_t o = b * H + j;
        T ig = ar[j], fg = ar[H + j], gg = ar[2 * H + j], og = ar[3 * H + j];
        T tc = d_tanh(c[o]);
        T dh = dout[o] + dhr[o];
        T dcv = dc[o] + dh * og * ((T)1 - tc * tc);
        dgr[j] = dcv * gg * ig * ((T)1 - ig);
        dgr[H + j] = dcv * cp[o] * fg * ((T)1 - fg);
        dgr[2 * H + j] = dcv * ig * ((T)1 - gg * gg);
        dgr[3 * H + j] = dh * tc * og * ((T)1 - og);
        dc[o] = dcv * fg;
    }
}

template <typename T>
__global__ void colsum_kernel(int64_t rows, int64_t G, const T *__restrict__ dg, T *__restrict__ db) {
    GRID_LOOP(j, G) {
        double acc = 0;
        for (int64_t r = 0; r < rows; r++) acc += (double)dg[r * G + j];
        db[j] = (T)acc;
    }
}

/* ---- whole steps: the recurrent GEMM and the elementwise part in one kernel ----
 * One block per (16 batch rows) x (16 hidden units), thread (ty, tx) = (row b0 + ty, unit u0 + tx),
 * k in tiles of 32 through shared memory. For the tutorial's B = 128, H = 256 that is 128 blocks
 * (cuBLAS's tiles left most of the H100's SMs idle on these small GEMMs), and one launch per step
 * instead of a GEMM and a kernel. The sums run in another order than cuBLAS's: equal to rounding. */
constexpr int STS = 16, SKT = 32;

/* forward: acc[q] = sum_k hp[b, k] * w_hh[q * H + u, k], then the cell update of (b, u) */
template <typename T>
__global__ void lstm_fwd_step_kernel(int64_t B, int64_t H, const T *__restrict__ hp, const T *__restrict__ w,
                                     T *__restrict__ g, const T *__restrict__ bias, const T *__restrict__ cp,
                                     T *__restrict__ c, T *__restrict__ h) {
    __shared__ T hs[STS][SKT + 1];
    __shared__ T ws[4][SKT][STS + 1];
    const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * STS + tx;
    const int64_t u0 = (int64_t)blockIdx.x * STS, b0 = (int64_t)blockIdx.y * STS, u = u0 + tx, b = b0 + ty;
    T acc[4] = {(T)0, (T)0, (T)0, (T)0};
    if (hp) {
        for (int64_t k0 = 0; k0 < H; k0 += SKT) {
            for (int e = tid; e < STS * SKT; e += STS * STS) {
                int r = e / SKT, kk = e % SKT;
                int64_t bb = b0 + r, k = k0 + kk;
                hs[r][kk] = bb < B && k < H ? hp[bb * H + k] : (T)0;
            }
            for (int e = tid; e < 4 * STS * SKT; e += STS * STS) {
                int q = e / (STS * SKT), uu = e % (STS * SKT) / SKT, kk = e % SKT;
                int64_t uj = u0 + uu, k = k0 + kk;
                ws[q][kk][uu] = uj < H && k < H ? w[(q * H + uj) * H + k] : (T)0;
            }
            __syncthreads();
#pragma unroll 8
            for (int kk = 0; kk < SKT; kk++) {
                T a = hs[ty][kk];
                acc[0] += a * ws[0][kk][tx];
                acc[1] += a * ws[1][kk][tx];
                acc[2] += a * ws[2][kk][tx];
                acc[3] += a * ws[3][kk][tx];
            }
            __syncthreads();
        }
    }
    if (b >= B || u >= H) return;
    T *gr = g + b * 4 * H;
    int64_t o = b * H + u;
    T ig = d_sig(gr[u] + acc[0] + bias[u]);
    T fg = d_sig(gr[H + u] + acc[1] + bias[H + u]);
    T gg = d_tanh(gr[2 * H + u] + acc[2] + bias[2 * H + u]);
    T og = d_sig(gr[3 * H + u] + acc[3] + bias[3 * H + u]);
    T cv = fg * cp[o] + ig * gg;
    gr[u] = ig;
    gr[H + u] = fg;
    gr[2 * H + u] = gg;
    gr[3 * H + u] = og;
    c[o] = cv;
    h[o] = og * d_tanh(cv);
}

/* backward: dhr(b, u) = sum_k dgn[b, k] * w_hh[k, u] (k < 4H; dhr[b, u] itself when dgn is NULL),
 * then the gate gradients of (b, u) as lstm_bwd_kernel */
template <typename T>
__global__ void lstm_bwd_step_kernel(int64_t B, int64_t H, const T *__restrict__ dgn, const T *__restrict__ w,
                                     const T *__restrict__ dhr, const T *__restrict__ a, const T *__restrict__ c,
                                     const T *__restrict__ cp, const T *__restrict__ dout, T *__restrict__ dc,
                                     T *__restrict__ dg) {
    __shared__ T as[STS][SKT + 1];
    __shared__ T ws[SKT][STS + 1];
    const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * STS + tx;
    const int64_t u0 = (int64_t)blockIdx.x * STS, b0 = (int64_t)blockIdx.y * STS, u = u0 + tx, b = b0 + ty;
    const int64_t G = 4 * H;
    T acc = (T)0;
    if (dgn) {
        for (int64_t k0 = 0; k0 < G; k0 += SKT) {
            for (int e = tid; e < STS * SKT; e += STS * STS) {
                int r = e / SKT, kk = e % SKT;
                int64_t bb = b0 + r, k = k0 + kk;
                as[r][kk] = bb < B && k < G ? dgn[bb * G + k] : (T)0;
            }
            for (int e = tid; e < SKT * STS; e += STS * STS) {
                int kk = e / STS, uu = e % STS;
                int64_t uj = u0 + uu, k = k0 + kk;
                ws[kk][uu] = uj < H && k < G ? w[k * H + uj] : (T)0;
            }
            __syncthreads();
#pragma unroll 8
            for (int kk = 0; kk < SKT; kk++) acc += as[ty][kk] * ws[kk][tx];
            __syncthreads();
        }
    }
    if (b >= B || u >= H) return;
    int64_t o = b * H + u;
    if (!dgn) acc = dhr[o];
    const T *ar = a + b * G;
    T *dgr = dg + b * G;
    T ig = ar[u], fg = ar[H + u], gg = ar[2 * H + u], og = ar[3 * H + u];
    T tc = d_tanh(c[o]);
    T dh = dout[o] + acc;
    T dcv = dc[o] + dh * og * ((T)1 - tc * tc);
    dgr[u] = dcv * gg * ig * ((T)1 - ig);
    dgr[H + u] = dcv * cp[o] * fg * ((T)1 - fg);
    dgr[2 * H + u] = dcv * ig * ((T)1 - gg * gg);
    dgr[3 * H + u] = dh * tc * og * ((T)1 - og);
    dc[o] = dcv * fg;
}

int cu_lstm_fwd_step(mt_dtype dt, int64_t B, int64_t H, const void *hp, const void *w_hh, void *g, const void *bias,
                     const void *cp, void *c, void *h) {
    if (B <= 0 || H <= 0) return 0;
    dim3 grid((unsigned)((H + STS - 1) / STS), (unsigned)((B + STS - 1) / STS)), block(STS, STS);
    if (dt == MT_FLOAT32)
        lstm_fwd_step_kernel<float><<<grid, block, 0, cu_stream>>>(B, H, (const float *)hp, (const float *)w_hh,
                                                                     (float *)g, (const float *)bias,
                                                                     (const float *)cp, (float *)c, (float *)h);
    else
        lstm_fwd_step_kernel<double><<<grid, block, 0, cu_stream>>>(B, H, (const double *)hp, (const double *)w_hh,
                                                                      (double *)g, (const double *)bias,
                                                                      (const double *)cp, (double *)c, (double *)h);
    CU_CHECK_LAUNCH();
    return 0;
}

int cu_lstm_bwd_step(mt_dtype dt, int64_t B, int64_t H, const void *dgn, const void *w_hh, const void *dhr,
                     const void *a, const void *c, const void *cp, const void *dout, void *dc, void *dg) {
    if (B <= 0 || H <= 0) return 0;
    dim3 grid((unsigned)((H + STS - 1) / STS), (unsigned)((B + STS - 1) / STS)), block(STS, STS);
    if (dt == MT_FLOAT32)
        lstm_bwd_step_kernel<float><<<grid, block, 0, cu_stream>>>(
            B, H, (const float *)dgn, (const float *)w_hh, (const float *)dhr, (const float *)a, (const float *)c,
            (const float *)cp, (const float *)dout, (float *)dc, (float *)dg);
    else
        lstm_bwd_step_kernel<double><<<grid, block, 0, cu_stream>>>(
            B, H, (const double *)dgn, (const double *)w_hh, (const double *)dhr, (const double *)a,
            (const double *)c, (const double *)cp, (const double *)dout, (double *)dc, (double *)dg);
    CU_CHECK_LAUNCH();
    return 0;
}

int cu_lstm_fwd(mt_dtype dt, int64_t b0, int64_t b1, int64_t H, void *g, const void *bias, const void *cp, void *c,
                void *h) {
    int64_t n = (b1 - b0) * H;
    if (n <= 0) return 0;
    if (dt == MT_FLOAT32)
        lstm_fwd_kernel<float><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(
            b0, n, H, (float *)g, (const float *)bias, (const float *)cp, (float *)c, (float *)h);
    else
        lstm_fwd_kernel<double><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(
            b0, n, H, (double *)g, (const double *)bias, (const double *)cp, (double *)c, (double *)h);
    CU_CHECK_LAUNCH();
    return 0;
}

int cu_lstm_bwd(mt_dtype dt, int64_t b0, int64_t b1, int64_t H, const void *a, const void *c, const void *cp,
                const void *dout, const void *dhr, void *dc, void *dg) {
    int64_t n = (b1 - b0) * H;
    if (n <= 0) return 0;
    if (dt == MT_FLOAT32)
        lstm_bwd_kernel<float><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(
            b0, n, H, (const float *)a, (const float *)c, (const float *)cp, (const float *)dout, (const float *)dhr,
            (float *)dc, (float *)dg);
    else
        lstm_bwd_kernel<double><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(
            b0, n, H, (const double *)a, (const double *)c, (const double *)cp, (const double *)dout,
            (const double *)dhr, (double *)dc, (double *)dg);
    CU_CHECK_LAUNCH();
    return 0;
}

int cu_colsum(mt_dtype dt, int64_t rows, int64_t G, const void *dg, void *db) {
    if (G <= 0) return 0;
    if (dt == MT_FLOAT32)
        colsum_kernel<float><<<cu_blocks(G), CU_THREADS, 0, cu_stream>>>(rows, G, (const float *)dg, (float *)db);
    else
        colsum_kernel<double><<<cu_blocks(G), CU_THREADS, 0, cu_stream>>>(rows, G, (const double *)dg, (double *)db);
    CU_CHECK_LAUNCH();
    return 0;
}

const mt_rnn_backend cu_rnn_table = {cu_lstm_fwd, cu_lstm_bwd, cu_colsum, cu_lstm_fwd_step, cu_lstm_bwd_step};

} // namespace

/* The table registered as mt_rnn_backends[MT_CUDA] by mt_cuda_init (runtime.cu). */
const mt_rnn_backend *cu_rnn_backend(void) { return &cu_rnn_table; }

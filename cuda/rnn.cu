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

extern "C" int mt_cuda_rnn_gemm_scope(int enter); /* gemm.cu */

const mt_rnn_backend cu_rnn_table = {cu_lstm_fwd, cu_lstm_bwd, cu_colsum, mt_cuda_rnn_gemm_scope};

} // namespace

/* The table registered as mt_rnn_backends[MT_CUDA] by mt_cuda_init (runtime.cu). */
const mt_rnn_backend *cu_rnn_backend(void) { return &cu_rnn_table; }

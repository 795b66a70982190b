/* GEMM: cuBLAS for float32/float64 (strided batched; row-major through the usual swap:
 * C^T = B^T A^T in column-major), a plain kernel for int32/int64 (wrap-around like the CPU).
 * TF32 is off by default (CUBLAS_DEFAULT_MATH computes true fp32); set_allow_tf32(True) switches
 * the handle to CUBLAS_TF32_TENSOR_OP_MATH. The recurrent layers' GEMMs follow their own switch,
 * on by default like PyTorch's cuDNN RNNs (mt_cuda_rnn_gemm_scope). The handle is created on first use.
 *
 * Built with -DMT_NO_CUBLAS (setup.py does so when cublas_v2.h is missing, e.g. a CI machine
 * with a partial toolkit) float GEMMs use the plain kernel instead: correct, slow. */
#include "common.cuh"

#include <limits.h>
#ifndef MT_NO_CUBLAS
#include <cublas_v2.h>
#endif

static bool allow_tf32;
static bool allow_tf32_rnn = true; /* the recurrent layers' GEMMs: torch.backends.cudnn.allow_tf32's default */
#ifndef MT_NO_CUBLAS
static cublasHandle_t handle;

static const char *cublas_msg(cublasStatus_t s) {
    switch (s) {
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "CUBLAS_STATUS_UNKNOWN";
    }
}
#define CUBLAS_CHECK(call)                                                                             \
    do {                                                                                               \
        cublasStatus_t st_ = (call);                                                                   \
        if (st_ != CUBLAS_STATUS_SUCCESS) {                                                            \
            cu_api->error(MT_ERR_RUNTIME, "CUDA error: %s when calling `%s`", cublas_msg(st_), #call); \
            return -1;                                                                                 \
        }                                                                                              \
    } while (0)

static int ensure_handle(void) {
    if (handle) return 0;
    CUBLAS_CHECK(cublasCreate(&handle));
    CUBLAS_CHECK(cublasSetStream(handle, cu_stream));
    CUBLAS_CHECK(cublasSetMathMode(handle, allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    return 0;
}


extern "C" int mt_cuda_set_allow_tf32(int on) {
    allow_tf32 = on != 0;
    if (handle) CUBLAS_CHECK(cublasSetMathMode(handle, allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    return 0;
}

/* the recurrent layers' GEMMs (enter = 1) use their own TF32 setting; enter = 0 restores matmul's */
extern "C" int mt_cuda_rnn_gemm_scope(int enter) {
    if (ensure_handle() < 0) return -1;
    bool tf32 = enter ? allow_tf32_rnn : allow_tf32;
    CUBLAS_CHECK(cublasSetMathMode(handle, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    return 0;
}

void cu_gemm_shutdown(void) {
    if (handle) cublasDestroy(handle);
    handle = nullptr;
}
#else
extern "C" int mt_cuda_rnn_gemm_scope(int enter) {
    (void)enter;
    return 0;
}
extern "C" int mt_cuda_set_allow_tf32(int on) {
    allow_tf32 = on != 0;
    return 0;
}
void cu_gemm_shutdown(void) {}
#endif
extern "C" int mt_cuda_get_allow_tf32(void) { return allow_tf32; }
extern "C" void mt_cuda_set_allow_tf32_rnn(int on) { allow_tf32_rnn = on != 0; }
extern "C" int mt_cuda_get_allow_tf32_rnn(void) { return allow_tf32_rnn; }
extern "C" int mt_cuda_has_cublas(void) {
#ifdef MT_NO_CUBLAS
    return 0;
#else
    return 1;
#endif
}

/* float fallback (no cuBLAS): accumulate in double */
template <typename T>
__global__ void fgemm_k(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const T *A, int64_t lda,
                        int64_t sa, const T *B, int64_t ldb, int64_t sb, double beta, T *C, int64_t ldc, int64_t sc) {
    int64_t bi = blockIdx.z;
    int64_t i = (int64_t)blockIdx.y * blockDim.y + threadIdx.y, j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= m || j >= n) return;
    A += bi * sa;
    B += bi * sb;
    C += bi * sc;
    double acc = 0;
    for (int64_t p = 0; p < k; p++)
        acc += (double)(ta ? A[p * lda + i] : A[i * lda + p]) * (double)(tb ? B[j * ldb + p] : B[p * ldb + j]);
    double r = alpha * acc;
    if (beta != 0) r += beta * (double)C[i * ldc + j];
    C[i * ldc + j] = (T)r;
}

template <typename T>
__global__ void igemm_k(bool ta, bool tb, int64_t m, int64_t n, int64_t k, uint64_t alpha, const T *A, int64_t lda,
                        int64_t sa, const T *B, int64_t ldb, int64_t sb, uint64_t beta, bool beta0, T *C, int64_t ldc,
                        int64_t sc) {
    int64_t bi = blockIdx.z;
    int64_t i = (int64_t)blockIdx.y * blockDim.y + threadIdx.y, j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= m || j >= n) return;
    A += bi * sa;
    B += bi * sb;
    C += bi * sc;
    uint64_t acc = 0;
    for (int64_t p = 0; p < k; p++) {
        uint64_t av = (uint64_t)(int64_t)(ta ? A[p * lda + i] : A[i * lda + p]);
        uint64_t bv = (uint64_t)(int64_t)(tb ? B[j * ldb + p] : B[p * ldb + j]);
        acc += av * bv;
    }
    uint64_t r = alpha * acc;
    if (!beta0) r += beta * (uint64_t)(int64_t)C[i * ldc + j];
    C[i * ldc + j] = (T)r;
}

/* C = beta * C for k == 0 (beta == 0: zeros, C not read) */
template <typename T>
__global__ void scale_k(T *C, int64_t m, int64_t n, int64_t ldc, int64_t sc, double beta) {
    int64_t bi = blockIdx.z;
    int64_t i = (int64_t)blockIdx.y * blockDim.y + threadIdx.y, j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= m || j >= n) return;
    T *c = C + bi * sc + i * ldc + j;
    *c = beta == 0 ? (T)0 : (T)(beta * (double)*c);
}

static int64_t d2i(double v) {
    if (!(v == v)) return 0;
    if (v >= 9.2233720368547758e18) return INT64_MAX;
    if (v <= -9.2233720368547758e18) return INT64_MIN;
    return (int64_t)v;
}

int cu_gemm(mt_dtype dtype, int64_t batch, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
            const void *a, int64_t lda, int64_t stride_a, const void *b, int64_t ldb, int64_t stride_b, double beta,
            void *c, int64_t ldc, int64_t stride_c) {
    if (batch <= 0 || m <= 0 || n <= 0) return 0;
    if (k < 0 || lda < (ta ? (m > 1 ? m : 1) : (k > 1 ? k : 1)) || ldb < (tb ? (k > 1 ? k : 1) : (n > 1 ? n : 1)) ||
        ldc < n) {
        cu_api->error(MT_ERR_RUNTIME, "gemm: invalid leading dimension (m=%lld n=%lld k=%lld lda=%lld ldb=%lld ldc=%lld)",
                      (long long)m, (long long)n, (long long)k, (long long)lda, (long long)ldb, (long long)ldc);
        return -1;
    }
    dim3 blk(16, 16);
    if (batch > 65535) {
        /* grid.z limit: split the batch */
        size_t es = cu_esize(dtype);
        for (int64_t b0 = 0; b0 < batch; b0 += 65535) {
            int64_t nb = batch - b0 < 65535 ? batch - b0 : 65535;
            if (cu_gemm(dtype, nb, ta, tb, m, n, k, alpha, (const char *)a + b0 * stride_a * es, lda, stride_a,
                        (const char *)b + b0 * stride_b * es, ldb, stride_b, beta, (char *)c + b0 * stride_c * es, ldc,
                        stride_c) < 0)
                return -1;
        }
        return 0;
    }
    dim3 grid((unsigned)((n + 15) / 16), (unsigned)((m + 15) / 16), (unsigned)batch);
    if (grid.y > 65535) {
        cu_api->error(MT_ERR_RUNTIME, "gemm: m=%lld too large for the CUDA kernel", (long long)m);
        return -1;
    }
    if (k == 0) {
        switch (dtype) {
        case MT_FLOAT32: scale_k<float><<<grid, blk, 0, cu_stream>>>((float *)c, m, n, ldc, stride_c, beta); break;
        case MT_FLOAT64: scale_k<double><<<grid, blk, 0, cu_stream>>>((double *)c, m, n, ldc, stride_c, beta); break;
        case MT_INT32: scale_k<int32_t><<<grid, blk, 0, cu_stream>>>((int32_t *)c, m, n, ldc, stride_c, (double)d2i(beta)); break;
        case MT_INT64: scale_k<int64_t><<<grid, blk, 0, cu_stream>>>((int64_t *)c, m, n, ldc, stride_c, (double)d2i(beta)); break;
        default: break;
        }
        CU_CHECK_LAUNCH();
        return 0;
    }
    if (dtype == MT_INT32 || dtype == MT_INT64) {
        uint64_t ai = (uint64_t)d2i(alpha), bi = (uint64_t)d2i(beta);
        if (dtype == MT_INT32)
            igemm_k<int32_t><<<grid, blk, 0, cu_stream>>>(ta, tb, m, n, k, ai, (const int32_t *)a, lda, stride_a,
                                                          (const int32_t *)b, ldb, stride_b, bi, beta == 0.0,
                                                          (int32_t *)c, ldc, stride_c);
        else
            igemm_k<int64_t><<<grid, blk, 0, cu_stream>>>(ta, tb, m, n, k, ai, (const int64_t *)a, lda, stride_a,
                                                          (const int64_t *)b, ldb, stride_b, bi, beta == 0.0,
                                                          (int64_t *)c, ldc, stride_c);
        CU_CHECK_LAUNCH();
        return 0;
    }
    if (dtype != MT_FLOAT32 && dtype != MT_FLOAT64) {
        cu_api->error(MT_ERR_RUNTIME, "\"addmm_cuda\" not implemented for '%s'", cu_api->dtype_names[dtype]);
        return -1;
    }
#ifdef MT_NO_CUBLAS
    if (dtype == MT_FLOAT32)
        fgemm_k<float><<<grid, blk, 0, cu_stream>>>(ta, tb, m, n, k, alpha, (const float *)a, lda, stride_a,
                                                    (const float *)b, ldb, stride_b, beta, (float *)c, ldc, stride_c);
    else
        fgemm_k<double><<<grid, blk, 0, cu_stream>>>(ta, tb, m, n, k, alpha, (const double *)a, lda, stride_a,
                                                     (const double *)b, ldb, stride_b, beta, (double *)c, ldc, stride_c);
    CU_CHECK_LAUNCH();
    return 0;
#else
    if (m > INT_MAX || n > INT_MAX || k > INT_MAX || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX) {
        cu_api->error(MT_ERR_RUNTIME, "gemm: dimensions exceed cuBLAS's 32-bit limits");
        return -1;
    }
    if (ensure_handle() < 0) return -1;
    /* row-major C[m,n] = op(A) op(B)  <=>  column-major C^T[n,m] = op(B)^T-view op(A)^T-view */
    cublasOperation_t opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N, opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
    if (dtype == MT_FLOAT32) {
        float al = (float)alpha, be = (float)beta;
        if (batch == 1)
            CUBLAS_CHECK(cublasSgemm(handle, opb, opa, (int)n, (int)m, (int)k, &al, (const float *)b, (int)ldb,
                                     (const float *)a, (int)lda, &be, (float *)c, (int)ldc));
        else
            CUBLAS_CHECK(cublasSgemmStridedBatched(handle, opb, opa, (int)n, (int)m, (int)k, &al, (const float *)b,
                                                   (int)ldb, stride_b, (const float *)a, (int)lda, stride_a, &be,
                                                   (float *)c, (int)ldc, stride_c, (int)batch));
    } else {
        if (batch == 1)
            CUBLAS_CHECK(cublasDgemm(handle, opb, opa, (int)n, (int)m, (int)k, &alpha, (const double *)b, (int)ldb,
                                     (const double *)a, (int)lda, &beta, (double *)c, (int)ldc));
        else
            CUBLAS_CHECK(cublasDgemmStridedBatched(handle, opb, opa, (int)n, (int)m, (int)k, &alpha,
                                                   (const double *)b, (int)ldb, stride_b, (const double *)a, (int)lda,
                                                   stride_a, &beta, (double *)c, (int)ldc, stride_c, (int)batch));
    }
    return 0;
#endif
}

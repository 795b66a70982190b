/* Shared pieces of the CUDA backend (minitorch._C_cuda).
 *
 * The backend lives in its own extension module, loaded with RTLD_LOCAL, so it never links
 * against the core's symbols: everything it needs from the core goes through the table
 * `cu_api` read from the capsule minitorch._C._core_api (csrc/core/core_api.h). The inline
 * helpers of mt.h that touch core globals (mt_data, mt_backend_of) are NOT used here; use the
 * cu_* equivalents below.
 *
 * Conventions: every CUDA call and every launch is checked; a failure records a RuntimeError
 * through cu_api->error and the kernel entry returns -1. All work goes to one stream
 * (cu_stream); host-visible results (device->host copies, index validation) synchronise it. */
#ifndef MT_CUDA_COMMON_CUH
#define MT_CUDA_COMMON_CUH

#include <cuda_runtime.h>
#include <stdint.h>
#include <stddef.h>

extern "C" {
#include "core/mt.h"
#include "core/backend.h"
#include "core/core_api.h"
#include "ops/ops.h"
}

extern const mt_core_api *cu_api;
extern cudaStream_t cu_stream;
extern int cu_num_sms;

/* Records "CUDA error: ..." and returns -1. */
int cu_fail(cudaError_t e, const char *what, const char *file, int line);
#define CU_CHECK(call)                                                            \
    do {                                                                          \
        cudaError_t cu_e_ = (call);                                               \
        if (cu_e_ != cudaSuccess) return cu_fail(cu_e_, #call, __FILE__, __LINE__); \
    } while (0)
/* after a <<<...>>> launch */
#define CU_CHECK_LAUNCH() CU_CHECK(cudaGetLastError())

/* caching allocator (runtime.cu): stream-ordered on cu_stream */
void *cu_alloc(int64_t nbytes, mt_device dev);
void cu_free(void *p, mt_device dev);

static const size_t cu_dtype_size_tab[MT_NUM_DTYPES] = {1, 4, 8, 4, 8};
static inline size_t cu_esize(mt_dtype d) { return cu_dtype_size_tab[d]; }
static inline int64_t cu_numel(const mt_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}
static inline char *cu_data(const mt_tensor *t) {
    return (char *)t->storage->data + t->offset * (int64_t)cu_esize(t->dtype);
}
static inline bool cu_is_contig(const mt_tensor *t) {
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] == 1) continue;
        if (t->shape[i] == 0) return true;
        if (t->strides[i] != s) return false;
        s *= t->shape[i];
    }
    return true;
}
static inline bool cu_on_cuda(const mt_tensor *t) { return t->storage->device.type == MT_CUDA; }
static inline mt_device cu_cpu_dev(void) { mt_device d = {MT_CPU, 0}; return d; }

/* ---- launch geometry ---- */
#define CU_THREADS 256
static inline unsigned cu_blocks(int64_t n, int per_thread = 1) {
    int64_t b = (n + (int64_t)CU_THREADS * per_thread - 1) / ((int64_t)CU_THREADS * per_thread);
    int64_t cap = (int64_t)(cu_num_sms > 0 ? cu_num_sms : 80) * 32; /* grid-stride beyond this */
    if (b > cap) b = cap;
    return (unsigned)(b < 1 ? 1 : b);
}

/* ---- strided geometry of up to CU_MAX_OPS operands broadcast to one shape ----
 * Passed to kernels by value. Size-1 dims are dropped and dims contiguous across all
 * operands are merged (so most ops end up 1-d). Strides are in elements. */
#define CU_MAX_OPS 4
struct cu_geom {
    int ndim;
    int64_t shape[MT_MAX_DIMS];
    int64_t strides[CU_MAX_OPS][MT_MAX_DIMS];
};
/* ops[0] is the output (its shape is the iteration shape); a NULL input is a scalar (stride 0).
 * Returns -1 (error set) if an input does not broadcast to ops[0]'s shape. */
int cu_geom_init(cu_geom *g, int nops, const mt_tensor *const *ops);

/* element offset of linear index i for operand K */
template <int NOPS>
__device__ __forceinline__ void cu_offsets(const cu_geom &g, int64_t i, int64_t *off) {
#pragma unroll
    for (int k = 0; k < NOPS; k++) off[k] = 0;
    for (int d = g.ndim - 1; d >= 0; d--) {
        int64_t sz = g.shape[d];
        int64_t q = i % sz;
        i /= sz;
#pragma unroll
        for (int k = 0; k < NOPS; k++) off[k] += q * g.strides[k][d];
    }
}

/* A dtype switch calling F.template operator()<T>(): */
#define CU_DISPATCH_ALL(dt, ...)                                  \
    switch (dt) {                                                 \
    case MT_BOOL: { typedef bool scalar_t; __VA_ARGS__; break; }  \
    case MT_INT32: { typedef int32_t scalar_t; __VA_ARGS__; break; } \
    case MT_INT64: { typedef int64_t scalar_t; __VA_ARGS__; break; } \
    case MT_FLOAT32: { typedef float scalar_t; __VA_ARGS__; break; } \
    default: { typedef double scalar_t; __VA_ARGS__; break; }     \
    }

/* scratch device buffer through the caching allocator; RAII so error paths free it */
struct cu_scratch {
    void *p = nullptr;
    int64_t n = 0;
    void *get(int64_t nbytes) {
        mt_device d = {MT_CUDA, 0};
        p = cu_alloc(nbytes, d);
        n = nbytes;
        return p;
    }
    ~cu_scratch() {
        mt_device d = {MT_CUDA, 0};
        if (p) cu_free(p, d);
    }
};

/* kernel entries (one file per family) */
int cu_unary(int op, mt_tensor *out, const mt_tensor *a, const double *params);
int cu_binary(int op, mt_tensor *out, const mt_tensor *a, const mt_tensor *b, const mt_scalar *s, bool scalar_first);
int cu_where(mt_tensor *out, const mt_tensor *cond, const mt_tensor *a, const mt_tensor *b);
int cu_copy(mt_tensor *dst, const mt_tensor *src);
int cu_fill(mt_tensor *dst, mt_scalar v);
int cu_reduce(const mt_reduce_args *r, mt_tensor *out, mt_tensor *idx, const mt_tensor *in);
int cu_gemm(mt_dtype dtype, int64_t batch, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
            const void *a, int64_t lda, int64_t stride_a, const void *b, int64_t ldb, int64_t stride_b, double beta,
            void *c, int64_t ldc, int64_t stride_c);
int cu_index_select(mt_tensor *out, const mt_tensor *in, const mt_tensor *index, int64_t outer, int64_t in_dim,
                    int64_t inner);
int cu_index_add(mt_tensor *out, const mt_tensor *src, const mt_tensor *index, int64_t outer, int64_t out_dim,
                 int64_t inner);
int cu_gather(mt_tensor *out, const mt_tensor *in, const mt_tensor *index, int dim);
int cu_scatter(mt_tensor *out, const mt_tensor *index, const mt_tensor *src, int dim, bool add);
int cu_softmax(mt_tensor *out, const mt_tensor *in, int64_t outer, int64_t inner, bool log);
int cu_softmax_backward(mt_tensor *gin, const mt_tensor *gout, const mt_tensor *y, int64_t outer, int64_t inner,
                        bool log);
int cu_random(mt_tensor *out, int kind, double a, double b, uint64_t seed, uint64_t offset);
void cu_gemm_shutdown(void);

#endif

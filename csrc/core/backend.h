/* The per-device kernel table. Ops do shape/dtype/autograd work once, in
 * device-neutral code, then call the kernels of the tensor's device through
 * mt_backends[device.type]. The CPU table is filled in by the files of csrc/ops; the CUDA
 * extension fills mt_backends[MT_CUDA] when it is imported.
 *
 * Kernel contract: all tensors are valid, on this device, and already checked;
 * tensor inputs of elementwise kernels have the compute dtype and are broadcast
 * (by strides) to the output's shape. Kernels return 0, or -1 with mt_error set. */
#ifndef MT_BACKEND_H
#define MT_BACKEND_H

#include "mt.h"

/* reduce kernels: the rows of the input (op ids are MT_RED_* of ops/ops.h) */
typedef struct mt_reduce_args {
    int op;                 /* MT_RED_* */
    int64_t outer, inner;   /* the input viewed as [outer, inner], reducing over inner, contiguous */
    double p;               /* extra parameter: correction for var, p for norm */
} mt_reduce_args;

struct mt_backend {
    const char *name;
    void *(*alloc)(int64_t nbytes, mt_device dev);
    void (*free)(void *data, mt_device dev);
    int (*unary)(int op, mt_tensor *out, const mt_tensor *a, const double *params);
    /* b == NULL: the second operand is the scalar *s (already exact in the compute dtype);
       scalar_first swaps it to the left (for `2 - x`). */
    int (*binary)(int op, mt_tensor *out, const mt_tensor *a, const mt_tensor *b, const mt_scalar *s, bool scalar_first);
    int (*where)(mt_tensor *out, const mt_tensor *cond, const mt_tensor *a, const mt_tensor *b);
    /* dst[...] = src[...] with dtype conversion; src is broadcast to dst's shape; same device */
    int (*copy)(mt_tensor *dst, const mt_tensor *src);
    int (*fill)(mt_tensor *dst, mt_scalar v);
    /* out (contiguous, [outer]) = reduce over contiguous rows of `in` ([outer, inner]);
       idx (may be NULL) receives arg-indices for max/min. */
    int (*reduce)(const mt_reduce_args *r, mt_tensor *out, mt_tensor *idx, const mt_tensor *in);
    /* C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b] for b < batch; row-major with leading dims. */
    int (*gemm)(mt_dtype dtype, int64_t batch, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
                const void *a, int64_t lda, int64_t stride_a, const void *b, int64_t ldb, int64_t stride_b,
                double beta, void *c, int64_t ldc, int64_t stride_c);
    /* indexing along one dim of contiguous tensors viewed as [outer, dim, inner] */
    int (*index_select)(mt_tensor *out, const mt_tensor *in, const mt_tensor *index, int64_t outer, int64_t in_dim,
                        int64_t inner);
    int (*index_add)(mt_tensor *out, const mt_tensor *src, const mt_tensor *index, int64_t outer, int64_t out_dim,
                     int64_t inner);
    int (*gather)(mt_tensor *out, const mt_tensor *in, const mt_tensor *index, int dim);
    int (*scatter)(mt_tensor *out, const mt_tensor *index, const mt_tensor *src, int dim, bool add);
    /* softmax / log_softmax over contiguous rows [outer, inner]; backward: gin = f(gout, y) */
    int (*softmax)(mt_tensor *out, const mt_tensor *in, int64_t outer, int64_t inner, bool log);
    int (*softmax_backward)(mt_tensor *gin, const mt_tensor *gout, const mt_tensor *y, int64_t outer, int64_t inner,
                            bool log);
    int (*random)(mt_tensor *out, int kind, double a, double b, uint64_t seed, uint64_t offset);
    /* scans (op: MT_SCAN_* of ops/ops.h) along the middle dim of contiguous tensors viewed as [outer, n, inner];
       out has in's dtype (already the result dtype); idx (int64, contiguous like out) receives the arg-indices of
       cummax/cummin and is NULL otherwise; reverse scans from the last element to the first. NULL on a device
       without scan kernels (the op raises NotImplementedError). */
    int (*scan)(int op, mt_tensor *out, mt_tensor *idx, const mt_tensor *in, int64_t outer, int64_t n, int64_t inner,
                bool reverse);
    /* tril (upper false) / triu of contiguous [batch, rows, cols]: out[b, i, j] = in[b, i, j] where j - i <= k
       (tril) or j - i >= k (triu), else 0; out and in have the same dtype and may be the same tensor. NULL as scan. */
    int (*tri)(mt_tensor *out, const mt_tensor *in, int64_t batch, int64_t rows, int64_t cols, int64_t k, bool upper);
};

static inline mt_backend *mt_backend_of(const mt_tensor *t) { return mt_backends[t->storage->device.type]; }

/* ---- core entry points shared by the ops (ops/copy.c) ---- */
int mt_fill_(mt_tensor *t, mt_scalar v);
int mt_copy_into(mt_tensor *dst, const mt_tensor *src); /* no autograd, no version bump */
mt_tensor *mt_cast(const mt_tensor *t, mt_dtype dtype); /* new ref; t itself (incref) if same dtype */
mt_tensor *mt_contiguous(const mt_tensor *t);           /* new ref; t itself if already contiguous */

#endif

/* The core API capsule: what a separately built extension (the CUDA backend, minitorch._C_cuda)
 * may use of the core living in minitorch._C. Extension modules are loaded with RTLD_LOCAL, so
 * they cannot link against the core's symbols; minitorch._C exports this table as the PyCapsule
 * minitorch._C._core_api (named MT_CORE_API_CAPSULE) instead.
 *
 * Plain C, no Python.h. Bump MT_CORE_API_VERSION whenever the struct changes; the consumer
 * refuses a table with another version. Ownership rules are those of the functions pointed to
 * (mt.h): tensors returned are new references, tensor arguments are borrowed. */
#ifndef MT_CORE_API_H
#define MT_CORE_API_H

#include "mt.h"
#include "backend.h"
#include "random.h"
#include "../ops/optim.h"
#include "../ops/loss.h"
#include "../ops/rnn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MT_CORE_API_VERSION 4
#define MT_CORE_API_CAPSULE "minitorch._C._core_api"

typedef struct mt_core_api {
    int version;                 /* MT_CORE_API_VERSION */
    int max_dims;                /* MT_MAX_DIMS the core was built with */
    size_t tensor_size;          /* sizeof(mt_tensor), to catch a mismatched build */
    mt_backend **backends;       /* the mt_backends array: the CUDA extension fills [MT_CUDA] */
    const size_t *dtype_sizes;   /* mt_dtype_sizes */
    const char *const *dtype_names;
    /* errors */
    void *(*error)(mt_errkind kind, const char *fmt, ...);
    mt_errkind (*err_kind)(void);
    const char *(*err_msg)(void);
    void (*err_clear)(void);
    /* tensors */
    int64_t (*numel)(const mt_tensor *t);
    bool (*is_contiguous)(const mt_tensor *t);
    mt_tensor *(*empty)(const int64_t *shape, int ndim, mt_dtype dtype, mt_device device);
    mt_tensor *(*alias)(const mt_tensor *t, const int64_t *shape, const int64_t *strides, int ndim, int64_t offset);
    void (*decref)(mt_tensor *t);
    mt_tensor *(*contiguous)(const mt_tensor *t);
    int (*copy_into)(mt_tensor *dst, const mt_tensor *src);
    /* random */
    mt_generator *(*default_generator)(int device_type);
    void (*manual_seed)(mt_generator *g, uint64_t seed);
    /* version 2: fused-kernel tables (ops/optim.h, ops/loss.h); the CUDA extension fills [MT_CUDA] */
    const mt_optim_backend **optim_backends; /* the mt_optim_backends array */
    const mt_loss_backend **loss_backends;   /* the mt_loss_backends array */
    /* version 3: the fused LSTM layer's kernels (ops/rnn.h); the CUDA extension fills [MT_CUDA];
     * version 4: mt_rnn_backend.gemm_scope */
    const mt_rnn_backend **rnn_backends;     /* the mt_rnn_backends array */
} mt_core_api;

/* The table (static storage, lives as long as the process). Defined in csrc/python/core_api.c. */
const mt_core_api *mt_core_api_table(void);

#ifdef __cplusplus
}
#endif

#endif

/* minitorch core: dtypes, devices, storage, tensors, errors.
 *
 * Ownership: every function returning `mt_tensor *` returns a NEW reference
 * (the caller owns it and must mt_decref it) unless documented otherwise.
 * Tensor arguments are BORROWED. A NULL return means an error was recorded
 * with mt_error(); callers propagate NULL. Every op accepts NULL inputs and
 * returns NULL, so expressions can be nested inside backward formulas.
 *
 * No Python.h here: the core is plain C11. */
#ifndef MT_H
#define MT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MT_MAX_DIMS 16

/* The first five have kernels of their own. The narrow ones after them are storage dtypes: on the CPU each
 * kernel runs on widened copies in mt_wide_dtype() (float32, int32) and the result is rounded once into
 * the narrow output (ops/narrow.c), as PyTorch's CPU kernels compute Half and BFloat16 in float. New
 * dtypes go at the end: tables indexed by dtype list them in this order. */
typedef enum {
    MT_BOOL = 0, MT_INT32, MT_INT64, MT_FLOAT32, MT_FLOAT64,
    MT_UINT8, MT_INT8, MT_INT16, MT_FLOAT16, MT_BFLOAT16,
    MT_NUM_DTYPES
} mt_dtype;
#define MT_NUM_WIDE_DTYPES 5 /* the dtypes with kernels of their own: MT_BOOL .. MT_FLOAT64 */
typedef enum { MT_CPU = 0, MT_CUDA = 1, MT_NUM_DEVICE_TYPES } mt_device_type;

typedef struct { int8_t type; int8_t index; } mt_device;

extern const char *const mt_dtype_names[MT_NUM_DTYPES];
extern const size_t mt_dtype_sizes[MT_NUM_DTYPES];
static inline bool mt_is_floating(mt_dtype d) {
    return d == MT_FLOAT32 || d == MT_FLOAT64 || d == MT_FLOAT16 || d == MT_BFLOAT16;
}
static inline bool mt_is_integral(mt_dtype d) {
    return d == MT_INT32 || d == MT_INT64 || d == MT_UINT8 || d == MT_INT8 || d == MT_INT16;
}
/* a storage dtype without kernels of its own (see mt_dtype) */
static inline bool mt_is_narrow(mt_dtype d) { return d >= MT_NUM_WIDE_DTYPES; }
/* the dtype a narrow dtype's kernels run in; d itself otherwise */
static inline mt_dtype mt_wide_dtype(mt_dtype d) {
    return d == MT_FLOAT16 || d == MT_BFLOAT16 ? MT_FLOAT32 : mt_is_narrow(d) ? MT_INT32 : d;
}
/* 0, or -1 with NotImplementedError naming op and the dtype when d is narrow: for the fused kernels
 * (convolution, pooling, norms, losses, recurrent layers, optimizer steps) that have float32/float64
 * code only */
int mt_check_wide(const char *op, mt_dtype d);
static inline bool mt_same_device(mt_device a, mt_device b) { return a.type == b.type && a.index == b.index; }

/* ---- errors: the binding turns these into Python exceptions ---- */
typedef enum {
    MT_ERR_NONE = 0, MT_ERR_RUNTIME, MT_ERR_INDEX, MT_ERR_TYPE, MT_ERR_VALUE,
    MT_ERR_NOTIMPL, MT_ERR_MEMORY
} mt_errkind;
/* Records an error and returns NULL so `return mt_error(...)` works in pointer functions. */
void *mt_error(mt_errkind kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
mt_errkind mt_err_kind(void);
const char *mt_err_msg(void);
void mt_err_clear(void);

/* ---- Python-style scalars (a wrapped number never upcasts a tensor's category) ---- */
typedef struct { mt_dtype dtype; /* MT_BOOL, MT_INT64 or MT_FLOAT64 */ double f; int64_t i; } mt_scalar;
/* .i of a float scalar is its truncation where that fits, else INT64_MIN (never C's undefined cast) */
static inline mt_scalar mt_sf(double v) {
    mt_scalar s = {MT_FLOAT64, v, v >= -9223372036854775808.0 && v < 9223372036854775808.0 ? (int64_t)v : INT64_MIN};
    return s;
}
static inline mt_scalar mt_si(int64_t v) { mt_scalar s = {MT_INT64, (double)v, v}; return s; }
static inline mt_scalar mt_sb(bool v) { mt_scalar s = {MT_BOOL, v ? 1.0 : 0.0, (int64_t)v}; return s; }
/* v as a value of dtype d (PyTorch's checked scalar conversion): -1 with "value cannot be
 * converted to type int without overflow" when it does not fit (NaN and inf never fit an integer). */
int mt_scalar_to(mt_scalar v, mt_dtype d, mt_scalar *out);

/* ---- storage: a refcounted buffer on one device ---- */
typedef struct mt_storage {
    int64_t refcount;
    void *data;
    int64_t nbytes;
    mt_device device;
    uint64_t version;              /* bumped by in-place ops; shared by all views */
    bool inference;                /* made under inference_mode: its tensors are inference tensors */
    bool cpu_block;                /* this header came from the CPU block allocator (data inline, or moved by
                                      mt_storage_move: then deleter releases the new data) */
    void (*deleter)(void *ctx, void *data); /* NULL: data lives inside this block */
    void *deleter_ctx;
} mt_storage;

struct mt_node;

typedef struct mt_tensor {
    int64_t refcount;
    mt_storage *storage;
    int64_t offset;                /* in elements */
    int ndim;
    mt_dtype dtype;
    int64_t shape[MT_MAX_DIMS];
    int64_t strides[MT_MAX_DIMS];  /* in elements */
    /* autograd */
    bool requires_grad;
    bool retains_grad;
    struct mt_tensor *grad;        /* owned */
    struct mt_node *grad_fn;       /* owned */
    uint32_t output_nr;
    struct mt_node *grad_acc;      /* weak: AccumulateGrad node of a leaf */
    struct mt_hook *hooks;         /* owned: a leaf's gradient hooks */
    struct mt_tensor *base;        /* owned: the tensor this one is a view of */
    void *pyobj;                   /* weak back-pointer to the Python wrapper */
} mt_tensor;

/* ---- lifetime ---- */
static inline mt_tensor *mt_incref(mt_tensor *t) { if (t) t->refcount++; return t; }
void mt_decref(mt_tensor *t);
static inline void mt_xsetref(mt_tensor **slot, mt_tensor *v) { mt_tensor *old = *slot; *slot = v; mt_decref(old); }

/* Hook the binding installs so a tensor dying while still owned by Python is impossible
 * and so CUDA storage can be freed by the CUDA backend. */
typedef struct mt_backend mt_backend;
extern mt_backend *mt_backends[MT_NUM_DEVICE_TYPES];

/* Frees the large CPU blocks kept for reuse. */
void mt_cpu_cache_clear(void);

/* ---- construction ---- */
int64_t mt_numel(const mt_tensor *t);
int64_t mt_shape_numel(const int64_t *shape, int ndim);
/* New contiguous tensor with uninitialised data. */
mt_tensor *mt_empty(const int64_t *shape, int ndim, mt_dtype dtype, mt_device device);
mt_tensor *mt_empty_like(const mt_tensor *t);
mt_tensor *mt_zeros(const int64_t *shape, int ndim, mt_dtype dtype, mt_device device);
mt_tensor *mt_full(const int64_t *shape, int ndim, mt_scalar v, mt_dtype dtype, mt_device device);
mt_tensor *mt_full_like(const mt_tensor *t, double v);
mt_tensor *mt_scalar_tensor(mt_scalar v, mt_dtype dtype, mt_device device);
/* Tensor over memory someone else owns (NumPy): deleter(ctx, data) runs when the storage dies. */
/* Moves t's storage (all its views) to `data` (capacity bytes, >= the storage's): copies the contents, releases
 * the old data; deleter(ctx, data) later releases the new. share_memory_() uses it. 0, or -1 with the error set. */
int mt_storage_move(mt_tensor *t, void *data, int64_t capacity, void (*deleter)(void *, void *), void *ctx);
mt_tensor *mt_from_blob(void *data, const int64_t *shape, const int64_t *strides, int ndim,
                        mt_dtype dtype, void (*deleter)(void *, void *), void *ctx);
/* A new tensor header sharing t's storage (used for views); no autograd info. */
mt_tensor *mt_alias(const mt_tensor *t, const int64_t *shape, const int64_t *strides, int ndim, int64_t offset);
mt_tensor *mt_detach(const mt_tensor *t);
/* t takes src's storage and geometry, keeping its own autograd identity (Tensor.data = src). */
void mt_set_data(mt_tensor *t, const mt_tensor *src);

static inline mt_device mt_cpu(void) { mt_device d = {MT_CPU, 0}; return d; }
static inline void *mt_data(const mt_tensor *t) {
    return (char *)t->storage->data + t->offset * (int64_t)mt_dtype_sizes[t->dtype];
}
bool mt_is_contiguous(const mt_tensor *t);
/* Some permutation of t's dims is contiguous (PyTorch's is_non_overlapping_and_dense). */
bool mt_is_non_overlapping_and_dense(const mt_tensor *t);
/* A dim of stride 0 and size > 1: a write would hit one element more than once. */
bool mt_has_internal_overlap(const mt_tensor *t);
/* How the memory of a and b relates (PyTorch's get_overlap_status). TOO_HARD: same storage,
 * intersecting byte ranges, and one of them is not dense, so the exact answer is not cheap. */
typedef enum { MT_OVERLAP_NO, MT_OVERLAP_FULL, MT_OVERLAP_PARTIAL, MT_OVERLAP_TOO_HARD } mt_overlap;
mt_overlap mt_overlap_status(const mt_tensor *a, const mt_tensor *b);
void mt_contiguous_strides(const int64_t *shape, int ndim, int64_t *strides);
void mt_device_str(mt_device d, char *buf, size_t n); /* "cpu", "cuda:0" */
/* 0, or -1 with PyTorch's "Expected all tensors to be on the same device" error; b may be NULL */
int mt_check_same_device(const mt_tensor *a, const mt_tensor *b);
const char *mt_type_name(mt_dtype d); /* PyTorch's scalar type names: "Float", "Long", ... */
const char *mt_cpp_type_name(mt_dtype d); /* the C++ element type as torch's messages print it: "float", "long int", ... */
double mt_float_max(mt_dtype d); /* the largest finite value of a floating dtype (finfo(d).max) */
int mt_wrap_dim(int64_t dim, int ndim);   /* -1 and an IndexError on failure */
const char *mt_shape_str(const int64_t *shape, int ndim); /* "[2, 3]" in a rotating static buffer */

/* ---- type promotion ---- */
mt_dtype mt_promote_types(mt_dtype a, mt_dtype b);
/* PyTorch's result_type for (tensor|scalar) pairs: dimensioned tensors outrank 0-d tensors,
 * which outrank Python numbers, unless the lower-ranked operand is of a higher category. */
mt_dtype mt_result_type2(const mt_tensor *a, const mt_scalar *sa, const mt_tensor *b, const mt_scalar *sb);

/* ---- autorelease pool for temporaries inside backward formulas ---- */
mt_tensor *mt_pool(mt_tensor *t);        /* registers t; returns it */
int mt_pool_mark(void);
void mt_pool_drain(int mark);

/* ---- per-thread state ----
 * Every core call runs with the GIL held, so two Python threads never run core code at
 * once; but a thread can lose the GIL between core calls (or inside backward, when a
 * Python hook or autograd.Function runs). State that must survive such a switch is
 * per thread: grad mode, the error slot and the autorelease pool, as in PyTorch. */
#ifdef __cplusplus
#define MT_THREAD_LOCAL thread_local
#else
#define MT_THREAD_LOCAL _Thread_local
#endif
extern MT_THREAD_LOCAL bool mt_grad_enabled;
/* true while a backward formula runs under create_graph=True: the helpers that otherwise keep no
   history (mt_cast, mt_contiguous, the raw GEMM of matmul's backward) record it then, so that a
   formula using them stays differentiable */
extern MT_THREAD_LOCAL bool mt_create_graph_active;
/* torch.inference_mode: storage made while it is on belongs to inference tensors, which autograd
   refuses to save and which only inference mode may update in place */
extern MT_THREAD_LOCAL bool mt_inference_mode;

#endif

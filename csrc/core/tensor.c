/* Tensor and storage lifetime, construction, errors, type promotion, pool. */
#define _DEFAULT_SOURCE /* madvise */
#include "mt.h"
#include "backend.h"
#include "../autograd/autograd.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const char *const mt_dtype_names[MT_NUM_DTYPES] = {"bool", "int32", "int64", "float32", "float64",
                                                    "uint8", "int8", "int16", "float16", "bfloat16"};
const size_t mt_dtype_sizes[MT_NUM_DTYPES] = {1, 4, 8, 4, 8, 1, 1, 2, 2, 2};

MT_THREAD_LOCAL bool mt_grad_enabled = true;
MT_THREAD_LOCAL bool mt_create_graph_active;
MT_THREAD_LOCAL bool mt_inference_mode;
mt_backend *mt_backends[MT_NUM_DEVICE_TYPES];

/* ---------------- errors ---------------- */
static MT_THREAD_LOCAL mt_errkind err_kind;
static MT_THREAD_LOCAL char err_msg[1024];

void *mt_error(mt_errkind kind, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_msg, sizeof err_msg, fmt, ap);
    va_end(ap);
    err_kind = kind;
    return NULL;
}
mt_errkind mt_err_kind(void) { return err_kind; }
const char *mt_err_msg(void) { return err_msg; }
void mt_err_clear(void) { err_kind = MT_ERR_NONE; err_msg[0] = 0; }

/* ---------------- storage ---------------- */
/* CPU storage is one block: the header, padding to 64 bytes, then the data. */
#define MT_HEADER_BYTES 64
_Static_assert(sizeof(mt_storage) <= MT_HEADER_BYTES, "a CPU block's header must hold its mt_storage");
#define MT_HUGE_BYTES ((size_t)1 << 21)

/* ---- CPU blocks ----
 * Large blocks are 2 MiB aligned and backed by transparent huge pages, and a few freed ones
 * are kept for reuse: a fresh 64 MiB output otherwise costs more in page faults and kernel
 * zeroing than the op itself (x + y on 16M floats: 21 ms fresh, 3 ms reused). */
#define MT_CACHE_SLOTS 32 /* an LSTM training step frees ~10 large blocks at once */
#define MT_CACHE_LIMIT ((size_t)256 << 20)
static struct { void *p; size_t size; } cpu_cache[MT_CACHE_SLOTS];
static size_t cpu_cache_bytes;

static size_t cpu_block_bytes(int64_t nbytes) {
    size_t total = (size_t)((MT_HEADER_BYTES + nbytes + 63) / 64 * 64);
    if (total >= MT_HUGE_BYTES) total = (total + MT_HUGE_BYTES - 1) / MT_HUGE_BYTES * MT_HUGE_BYTES;
    return total;
}

static void *cpu_block_alloc(size_t total) {
    if (total < MT_HUGE_BYTES) return aligned_alloc(64, total);
    for (int i = 0; i < MT_CACHE_SLOTS; i++)
        if (cpu_cache[i].p && cpu_cache[i].size == total) {
            void *p = cpu_cache[i].p;
            cpu_cache[i].p = NULL;
            cpu_cache_bytes -= total;
            return p;
        }
    void *p = aligned_alloc(MT_HUGE_BYTES, total);
#ifdef MADV_HUGEPAGE
    if (p) madvise(p, total, MADV_HUGEPAGE);
#endif
    return p;
}

static void cpu_block_free(void *p, size_t total) {
    if (total >= MT_HUGE_BYTES && cpu_cache_bytes + total <= MT_CACHE_LIMIT)
        for (int i = 0; i < MT_CACHE_SLOTS; i++)
            if (!cpu_cache[i].p) {
                cpu_cache[i].p = p;
                cpu_cache[i].size = total;
                cpu_cache_bytes += total;
                return;
            }
    free(p);
}

void mt_cpu_cache_clear(void) {
    for (int i = 0; i < MT_CACHE_SLOTS; i++) {
        free(cpu_cache[i].p);
        cpu_cache[i].p = NULL;
    }
    cpu_cache_bytes = 0;
}

static void storage_init(mt_storage *s, void *data, int64_t nbytes, mt_device dev) {
    s->refcount = 1;
    s->data = data;
    s->nbytes = nbytes;
    s->device = dev;
    s->version = 0;
    s->inference = mt_inference_mode;
    s->deleter = NULL;
    s->deleter_ctx = NULL;
    s->cpu_block = false;
}

static mt_storage *storage_new(int64_t nbytes, mt_device dev) {
    if (nbytes < 0 || nbytes > ((int64_t)1 << 46))
        return mt_error(MT_ERR_MEMORY, "[enforce fail] Trying to allocate %lld bytes: out of memory", (long long)nbytes);
    if (dev.type == MT_CPU) {
        mt_storage *s = cpu_block_alloc(cpu_block_bytes(nbytes));
        if (!s)
            return mt_error(MT_ERR_MEMORY,
                            "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: "
                            "you tried to allocate %lld bytes.", (long long)nbytes);
        storage_init(s, (char *)s + MT_HEADER_BYTES, nbytes, dev);
        s->cpu_block = true;
        return s;
    }
    mt_backend *be = mt_backends[dev.type];
    if (!be) return mt_error(MT_ERR_RUNTIME, "Device type %s is not available: minitorch was built without it",
                             dev.type == MT_CUDA ? "CUDA" : "?");
    void *data = be->alloc(nbytes, dev);
    if (!data) return NULL;
    mt_storage *s = malloc(sizeof *s);
    if (!s) { be->free(data, dev); return mt_error(MT_ERR_MEMORY, "out of memory"); }
    storage_init(s, data, nbytes, dev);
    return s;
}

static void storage_decref(mt_storage *s) {
    if (!s || --s->refcount > 0) return;
    if (s->deleter) {
        s->deleter(s->deleter_ctx, s->data);
        if (s->cpu_block)
            cpu_block_free(s, cpu_block_bytes(s->nbytes));
        else
            free(s);
    } else if (s->device.type == MT_CPU) {
        cpu_block_free(s, cpu_block_bytes(s->nbytes));
    } else {
        mt_backends[s->device.type]->free(s->data, s->device);
        free(s);
    }
}

int mt_storage_move(mt_tensor *t, void *data, int64_t capacity, void (*deleter)(void *, void *), void *ctx) {
    mt_storage *s = t->storage;
    if (s->device.type != MT_CPU)
        return mt_error(MT_ERR_RUNTIME, "share_memory_: only CPU tensors can be moved to shared memory here"), -1;
    if (capacity < s->nbytes) return mt_error(MT_ERR_RUNTIME, "mt_storage_move: the new buffer is too small"), -1;
    if (s->nbytes) memcpy(data, s->data, (size_t)s->nbytes);
    if (s->deleter) s->deleter(s->deleter_ctx, s->data); /* inline data just stays unused in its block */
    s->data = data;
    s->deleter = deleter;
    s->deleter_ctx = ctx;
    return 0;
}

/* ---------------- tensors ---------------- */
static mt_tensor *tensor_header(void) {
    mt_tensor *t = malloc(sizeof *t);
    if (!t) return mt_error(MT_ERR_MEMORY, "out of memory");
    memset(t, 0, offsetof(mt_tensor, shape)); /* shape/strides are filled by callers */
    t->refcount = 1;
    t->grad = NULL;
    t->grad_fn = NULL;
    t->grad_acc = NULL;
    t->hooks = NULL;
    t->base = NULL;
    t->pyobj = NULL;
    t->requires_grad = t->retains_grad = false;
    t->output_nr = 0;
    return t;
}

void mt_decref(mt_tensor *t) {
    if (!t || --t->refcount > 0) return;
    if (t->retains_grad && t->grad_fn) mt_node_forget_retained(t->grad_fn, t);
    if (t->grad_acc) t->grad_acc->variable_weak = NULL;
    if (t->hooks) mt_hooks_free(&t->hooks);
    mt_decref(t->grad);
    mt_node_decref(t->grad_fn);
    mt_decref(t->base);
    storage_decref(t->storage);
    free(t);
}

int64_t mt_shape_numel(const int64_t *shape, int ndim) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    return n;
}
int64_t mt_numel(const mt_tensor *t) { return mt_shape_numel(t->shape, t->ndim); }

void mt_contiguous_strides(const int64_t *shape, int ndim, int64_t *strides) {
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= shape[i] > 1 ? shape[i] : 1;
    }
}

bool mt_is_contiguous(const mt_tensor *t) {
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] == 1) continue;
        if (t->shape[i] == 0) return true;
        if (t->strides[i] != s) return false;
        s *= t->shape[i];
    }
    return true;
}

bool mt_is_non_overlapping_and_dense(const mt_tensor *t) {
    if (t->ndim == 1) return t->shape[0] < 2 || t->strides[0] == 1;
    int perm[MT_MAX_DIMS], n = 0;
    for (int i = t->ndim - 1; i >= 0; i--) /* dims of size < 2 constrain nothing */
        if (t->shape[i] >= 2) perm[n++] = i;
    for (int i = 1; i < n; i++) /* insertion sort by stride; stable, so ties keep the later dim inner */
        for (int j = i; j > 0 && t->strides[perm[j]] < t->strides[perm[j - 1]]; j--) {
            int tmp = perm[j]; perm[j] = perm[j - 1]; perm[j - 1] = tmp;
        }
    int64_t want = 1;
    for (int i = 0; i < n; i++) {
        if (t->strides[perm[i]] != want) return false;
        want *= t->shape[perm[i]];
    }
    return true;
}

bool mt_has_internal_overlap(const mt_tensor *t) {
    for (int i = 0; i < t->ndim; i++)
        if (t->strides[i] == 0 && t->shape[i] > 1) return mt_numel(t) > 0;
    return false;
}

mt_overlap mt_overlap_status(const mt_tensor *a, const mt_tensor *b) {
    if (a == b) return MT_OVERLAP_FULL;
    if (a->storage != b->storage) return MT_OVERLAP_NO;
    int64_t na = mt_numel(a), nb = mt_numel(b);
    if (na == 0 || nb == 0) return MT_OVERLAP_NO;
    /* the byte range each one touches: [lo, hi) */
    int64_t ra[2] = {a->offset, a->offset + 1}, rb[2] = {b->offset, b->offset + 1};
    for (int i = 0; i < a->ndim; i++) ra[a->strides[i] < 0 ? 0 : 1] += (a->shape[i] - 1) * a->strides[i];
    for (int i = 0; i < b->ndim; i++) rb[b->strides[i] < 0 ? 0 : 1] += (b->shape[i] - 1) * b->strides[i];
    int64_t isz = (int64_t)mt_dtype_sizes[a->dtype], jsz = (int64_t)mt_dtype_sizes[b->dtype];
    int64_t alo = ra[0] * isz, ahi = ra[1] * isz, blo = rb[0] * jsz, bhi = rb[1] * jsz;
    if (alo >= bhi || blo >= ahi) return MT_OVERLAP_NO;
    if (!mt_is_non_overlapping_and_dense(a) || !mt_is_non_overlapping_and_dense(b)) return MT_OVERLAP_TOO_HARD;
    if (alo == blo && ahi == bhi) {
        bool same = a->ndim == b->ndim && a->dtype == b->dtype;
        for (int i = 0; same && i < a->ndim; i++) same = a->strides[i] == b->strides[i] || a->shape[i] < 2;
        return same ? MT_OVERLAP_FULL : MT_OVERLAP_PARTIAL;
    }
    return MT_OVERLAP_PARTIAL;
}

/* The element count of shape, or -1 when it does not fit int64. A product that wraps can be 0,
 * so emptiness is read from the sizes, not from the product. */
static int64_t numel_checked(const int64_t *shape, int ndim) {
    int64_t n = 1;
    bool overflow = false, empty = false;
    for (int i = 0; i < ndim; i++) {
        overflow |= __builtin_mul_overflow(n, shape[i], &n);
        empty |= shape[i] == 0;
    }
    return empty ? 0 : overflow ? -1 : n;
}

/* PyTorch's checks on a new contiguous shape: sizes >= 0, the contiguous strides (sizes
 * counted as at least 1) fit int64, and so does the byte size of a non-empty tensor. */
static int check_shape(const int64_t *shape, int ndim, mt_dtype dtype, int64_t *numel) {
    if (ndim > MT_MAX_DIMS) {
        mt_error(MT_ERR_RUNTIME, "minitorch supports at most %d dimensions, got %d", MT_MAX_DIMS, ndim);
        return -1;
    }
    int64_t stride = 1, nbytes;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            mt_error(MT_ERR_RUNTIME, "Trying to create tensor with negative dimension %lld: %s",
                     (long long)shape[i], mt_shape_str(shape, ndim));
            return -1;
        }
        /* the outermost stride is the product of the other dims' sizes */
        if (i > 0 && __builtin_mul_overflow(stride, shape[i] > 1 ? shape[i] : 1, &stride)) {
            mt_error(MT_ERR_RUNTIME, "Stride calculation overflowed");
            return -1;
        }
    }
    /* torch's computeStorageNbytesContiguous: the product of the sizes left to right, an overflow anywhere
     * sticks (even when a later size is 0), then times the element size, within int64 */
    uint64_t prod = 1;
    bool overflow = false;
    for (int i = 0; i < ndim; i++) overflow |= __builtin_mul_overflow(prod, (uint64_t)shape[i], &prod);
    overflow |= __builtin_mul_overflow(prod, (uint64_t)mt_dtype_sizes[dtype], &prod) || prod > (uint64_t)INT64_MAX;
    int64_t n = numel_checked(shape, ndim);
    if (overflow || n < 0 || __builtin_mul_overflow(n, (int64_t)mt_dtype_sizes[dtype], &nbytes)) {
        mt_error(MT_ERR_RUNTIME, "Storage size calculation overflowed with sizes=%s", mt_shape_str(shape, ndim));
        return -1;
    }
    *numel = n;
    return 0;
}

mt_tensor *mt_empty(const int64_t *shape, int ndim, mt_dtype dtype, mt_device device) {
    int64_t n;
    if (check_shape(shape, ndim, dtype, &n)) return NULL;
    /* every tensor is made here, views aside: the one place that keeps the narrow dtypes off the GPU,
       whose kernels do not know them */
    if (mt_is_narrow(dtype) && device.type != MT_CPU)
        return mt_error(MT_ERR_NOTIMPL, "minitorch: %s tensors are supported on the CPU only (not on %s yet)",
                        mt_dtype_names[dtype], device.type == MT_CUDA ? "CUDA" : "this device");
    mt_storage *s = storage_new(n * (int64_t)mt_dtype_sizes[dtype], device);
    if (!s) return NULL;
    mt_tensor *t = tensor_header();
    if (!t) { storage_decref(s); return NULL; }
    t->storage = s;
    t->offset = 0;
    t->ndim = ndim;
    t->dtype = dtype;
    if (ndim) memcpy(t->shape, shape, sizeof(int64_t) * ndim); /* shape may be NULL for 0-d */
    mt_contiguous_strides(shape, ndim, t->strides);
    return t;
}

mt_tensor *mt_empty_like(const mt_tensor *t) {
    if (!t) return NULL;
    return mt_empty(t->shape, t->ndim, t->dtype, t->storage->device);
}

/* ---------------- scalars ---------------- */
int mt_scalar_to(mt_scalar v, mt_dtype dt, mt_scalar *out) {
    static const char *const names[] = {"bool", "int", "int64_t", "float", "double",
                                        "uint8_t", "int8_t", "int16_t", "c10::Half", "c10::BFloat16"};
    double f = v.dtype == MT_FLOAT64 ? v.f : (double)v.i;
    switch (dt) {
    case MT_UINT8:
    case MT_INT8:
    case MT_INT16: { /* c10's checked_convert: an unsigned type also takes integers down to -max (they wrap) */
        double lo = dt == MT_UINT8 ? -255.0 : dt == MT_INT8 ? -128.0 : -32768.0;
        double hi = dt == MT_UINT8 ? 255.0 : dt == MT_INT8 ? 127.0 : 32767.0;
        /* (a float must lie within the type itself: -2.7 does not fit uint8) */
        if (v.dtype == MT_FLOAT64 ? !(f >= (dt == MT_UINT8 ? 0.0 : lo) && f <= hi) : (v.i < (int64_t)lo || v.i > (int64_t)hi))
            goto overflow;
        int64_t i = v.dtype == MT_FLOAT64 ? (int64_t)f : v.i;
        *out = mt_si(dt == MT_UINT8 ? (int64_t)(uint8_t)i : i); /* -1 is 255: clamp(x, -3) bounds by 253, as torch */
        return 0;
    }
    case MT_FLOAT16:
    case MT_BFLOAT16: /* infinities and NaN convert; finite values beyond the largest finite one do not */
        if (isfinite(f) && fabs(f) > mt_float_max(dt)) goto overflow;
        *out = mt_sf(f);
        return 0;
    case MT_BOOL: *out = mt_sb(v.dtype == MT_FLOAT64 ? v.f != 0.0 : v.i != 0); return 0;
    case MT_INT32:
    case MT_INT64: {
        int64_t i;
        if (v.dtype == MT_FLOAT64) {
            /* the value truncated toward zero must fit (NaN and inf never do) */
            bool ok = dt == MT_INT32 ? (f > -2147483649.0 && f < 2147483648.0)
                                     : (f >= -9223372036854775808.0 && f < 9223372036854775808.0);
            if (!ok) goto overflow;
            i = (int64_t)f;
        } else {
            i = v.i;
            if (dt == MT_INT32 && (i < INT32_MIN || i > INT32_MAX)) goto overflow;
        }
        *out = mt_si(i);
        return 0;
    }
    case MT_FLOAT32:
        if (isfinite(f) && fabs(f) > mt_float_max(dt)) goto overflow;
        *out = mt_sf(f);
        return 0;
    default: *out = mt_sf(f); return 0;
    }
overflow:
    mt_error(MT_ERR_RUNTIME, "value cannot be converted to type %s without overflow", names[dt]);
    return -1;
}

mt_tensor *mt_full(const int64_t *shape, int ndim, mt_scalar v, mt_dtype dtype, mt_device device) {
    if (mt_scalar_to(v, dtype, &v) < 0) return NULL;
    mt_tensor *t = mt_empty(shape, ndim, dtype, device);
    if (t && mt_fill_(t, v) < 0) { mt_decref(t); return NULL; }
    return t;
}
mt_tensor *mt_zeros(const int64_t *shape, int ndim, mt_dtype dtype, mt_device device) {
    return mt_full(shape, ndim, mt_si(0), dtype, device);
}
mt_tensor *mt_full_like(const mt_tensor *t, double v) {
    if (!t) return NULL;
    return mt_full(t->shape, t->ndim, mt_sf(v), t->dtype, t->storage->device);
}
mt_tensor *mt_scalar_tensor(mt_scalar v, mt_dtype dtype, mt_device device) {
    return mt_full(NULL, 0, v, dtype, device);
}

mt_tensor *mt_from_blob(void *data, const int64_t *shape, const int64_t *strides, int ndim,
                        mt_dtype dtype, void (*deleter)(void *, void *), void *ctx) {
    int64_t n;
    if (check_shape(shape, ndim, dtype, &n)) return NULL;
    mt_storage *s = malloc(sizeof *s);
    mt_tensor *t = tensor_header();
    if (!s || !t) { free(s); free(t); return mt_error(MT_ERR_MEMORY, "out of memory"); }
    storage_init(s, data, n * (int64_t)mt_dtype_sizes[dtype], mt_cpu());
    s->deleter = deleter;
    s->deleter_ctx = ctx;
    t->storage = s;
    t->offset = 0;
    t->ndim = ndim;
    t->dtype = dtype;
    memcpy(t->shape, shape, sizeof(int64_t) * ndim);
    memcpy(t->strides, strides, sizeof(int64_t) * ndim);
    return t;
}

mt_tensor *mt_alias(const mt_tensor *src, const int64_t *shape, const int64_t *strides, int ndim, int64_t offset) {
    if (!src) return NULL;
    if (ndim > MT_MAX_DIMS)
        return mt_error(MT_ERR_RUNTIME, "minitorch supports at most %d dimensions, got %d", MT_MAX_DIMS, ndim);
    if (numel_checked(shape, ndim) < 0) /* an expanded view can name more elements than int64 holds */
        return mt_error(MT_ERR_RUNTIME, "numel: integer multiplication overflow");
    mt_tensor *t = tensor_header();
    if (!t) return NULL;
    t->storage = src->storage;
    src->storage->refcount++;
    t->offset = offset;
    t->ndim = ndim;
    t->dtype = src->dtype;
    memcpy(t->shape, shape, sizeof(int64_t) * ndim);
    memcpy(t->strides, strides, sizeof(int64_t) * ndim);
    return t;
}

mt_tensor *mt_detach(const mt_tensor *t) {
    if (!t) return NULL;
    return mt_alias(t, t->shape, t->strides, t->ndim, t->offset);
}

void mt_set_data(mt_tensor *t, const mt_tensor *src) {
    src->storage->refcount++;
    storage_decref(t->storage);
    t->storage = src->storage;
    t->offset = src->offset;
    t->ndim = src->ndim;
    t->dtype = src->dtype;
    memcpy(t->shape, src->shape, sizeof(int64_t) * src->ndim);
    memcpy(t->strides, src->strides, sizeof(int64_t) * src->ndim);
}

void mt_device_str(mt_device d, char *buf, size_t n) {
    if (d.type == MT_CPU) snprintf(buf, n, "cpu");
    else snprintf(buf, n, "cuda:%d", d.index);
}

int mt_check_same_device(const mt_tensor *a, const mt_tensor *b) {
    if (!b || mt_same_device(a->storage->device, b->storage->device)) return 0;
    char da[16], db[16];
    mt_device_str(a->storage->device, da, sizeof da);
    mt_device_str(b->storage->device, db, sizeof db);
    mt_error(MT_ERR_RUNTIME, "Expected all tensors to be on the same device, but found at least two devices, %s and %s!",
             da, db);
    return -1;
}

const char *mt_type_name(mt_dtype d) {
    static const char *const n[MT_NUM_DTYPES] = {"Bool", "Int", "Long", "Float", "Double",
                                                 "Byte", "Char", "Short", "Half", "BFloat16"};
    return n[d];
}

double mt_float_max(mt_dtype d) {
    return d == MT_FLOAT32 ? (double)FLT_MAX : d == MT_FLOAT16 ? 65504.0 : d == MT_BFLOAT16 ? 3.3895313892515355e38 : DBL_MAX;
}

const char *mt_cpp_type_name(mt_dtype d) {
    static const char *const n[MT_NUM_DTYPES] = {"bool", "int", "long int", "float", "double",
                                                 "unsigned char", "signed char", "short int", "c10::Half",
                                                 "c10::BFloat16"};
    return n[d];
}

int mt_check_wide(const char *op, mt_dtype d) {
    if (!mt_is_narrow(d)) return 0;
    mt_error(MT_ERR_NOTIMPL, "\"%s\" not implemented for '%s' (minitorch: its fused kernel has float32 and float64 "
             "code only; convert with .float())", op, mt_type_name(d));
    return -1;
}

int mt_wrap_dim(int64_t dim, int ndim) {
    int n = ndim > 0 ? ndim : 1; /* a 0-d tensor accepts dim 0 and -1 */
    if (dim < -n || dim >= n) {
        mt_error(MT_ERR_INDEX, "Dimension out of range (expected to be in range of [%d, %d], but got %lld)",
                 -n, n - 1, (long long)dim);
        return -1;
    }
    return (int)(dim < 0 ? dim + n : dim);
}

const char *mt_shape_str(const int64_t *shape, int ndim) {
    static char bufs[4][256];
    static int which;
    char *b = bufs[which++ & 3];
    int p = snprintf(b, 256, "[");
    for (int i = 0; i < ndim && p < 230; i++)
        p += snprintf(b + p, 256 - p, i ? ", %lld" : "%lld", (long long)shape[i]);
    snprintf(b + p, 256 - p, "]");
    return b;
}

/* ---------------- type promotion ---------------- */
static int category(mt_dtype d) { return d == MT_BOOL ? 0 : mt_is_integral(d) ? 1 : 2; }

mt_dtype mt_promote_types(mt_dtype a, mt_dtype b) {
    /* PyTorch's lattice: bool < the integers < the floats; within a category the wider type wins, except
       that uint8 with int8 gives int16 and float16 with bfloat16 gives float32 (neither holds the other) */
    static const int rank[MT_NUM_DTYPES] = {
        [MT_BOOL] = 0, [MT_UINT8] = 1, [MT_INT8] = 1, [MT_INT16] = 2, [MT_INT32] = 3, [MT_INT64] = 4,
        [MT_FLOAT16] = 5, [MT_BFLOAT16] = 5, [MT_FLOAT32] = 6, [MT_FLOAT64] = 7};
    if (a == b) return a;
    if (rank[a] == rank[b]) return rank[a] == 1 ? MT_INT16 : MT_FLOAT32;
    return rank[a] > rank[b] ? a : b;
}

mt_dtype mt_result_type2(const mt_tensor *a, const mt_scalar *sa, const mt_tensor *b, const mt_scalar *sb) {
    /* rank 2: tensor with dims, 1: 0-d tensor, 0: Python number (float counts as the default float32) */
    int have[3] = {0, 0, 0};
    mt_dtype res[3] = {MT_BOOL, MT_BOOL, MT_BOOL};
    const mt_tensor *ts[2] = {a, b};
    const mt_scalar *ss[2] = {sa, sb};
    for (int k = 0; k < 2; k++) {
        int rank;
        mt_dtype d;
        if (ts[k]) { rank = ts[k]->ndim ? 2 : 1; d = ts[k]->dtype; }
        else { rank = 0; d = ss[k]->dtype == MT_FLOAT64 ? MT_FLOAT32 : ss[k]->dtype; }
        res[rank] = have[rank] ? mt_promote_types(res[rank], d) : d;
        have[rank] = 1;
    }
    mt_dtype r = MT_BOOL;
    int got = 0;
    for (int rank = 2; rank >= 0; rank--) {
        if (!have[rank]) continue;
        if (!got) { r = res[rank]; got = 1; }
        else if (category(res[rank]) > category(r)) {
            /* a lower-ranked float only lifts an int result to the default float dtype (or its own, for 0-d) */
            r = rank == 0 ? (category(res[rank]) == 2 ? MT_FLOAT32 : res[rank]) : res[rank];
        }
    }
    return r;
}

/* ---------------- autorelease pool ---------------- */
/* Per thread; the buffer is freed when the pool empties, so an exiting thread leaks nothing. */
static MT_THREAD_LOCAL mt_tensor **pool;
static MT_THREAD_LOCAL int pool_len, pool_cap;

mt_tensor *mt_pool(mt_tensor *t) {
    if (!t) return NULL;
    if (pool_len == pool_cap) {
        int cap = pool_cap ? pool_cap * 2 : 64;
        mt_tensor **p = realloc(pool, sizeof(*p) * cap);
        if (!p) { mt_decref(t); return mt_error(MT_ERR_MEMORY, "out of memory"); }
        pool = p;
        pool_cap = cap;
    }
    pool[pool_len++] = t;
    return t;
}
int mt_pool_mark(void) { return pool_len; }
void mt_pool_drain(int mark) {
    while (pool_len > mark) mt_decref(pool[--pool_len]);
    if (pool_len == 0) { free(pool); pool = NULL; pool_cap = 0; }
}

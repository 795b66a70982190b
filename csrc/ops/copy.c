/* Copies with dtype conversion, fill, clone, casts and copy_ (CPU kernels + ops). */
#include "ops.h"
#include "../core/iter.h"
#include "../core/half.h"
#include "../autograd/autograd.h"

#include <string.h>

/* ---------------- CPU kernels ---------------- */
/* Every (source, destination) dtype pair has its loop. An element loads as a C value (the 16-bit floats as
 * float) and stores into the destination: to bool as "!= 0" (C's cast, NaN included); to the narrow
 * integers through int64, so that out-of-range values wrap as PyTorch's conversions do (-1.5 -> 255 in
 * uint8); to the 16-bit floats through float, rounding as c10's double -> Half does. */
#define MT_FOR_DTYPES(X) X(b8, bool) X(int32, int32_t) X(int64, int64_t) X(float32, float) X(float64, double) \
    X(uint8, uint8_t) X(int8, int8_t) X(int16, int16_t) X(float16, uint16_t) X(bfloat16, uint16_t)
#define DST_DTYPES(X, IT, ST) X(b8, bool, IT, ST) X(int32, int32_t, IT, ST) X(int64, int64_t, IT, ST) \
    X(float32, float, IT, ST) X(float64, double, IT, ST) X(uint8, uint8_t, IT, ST) X(int8, int8_t, IT, ST) \
    X(int16, int16_t, IT, ST) X(float16, uint16_t, IT, ST) X(bfloat16, uint16_t, IT, ST)

#define LD_b8(x) (x)
#define LD_int32(x) (x)
#define LD_int64(x) (x)
#define LD_float32(x) (x)
#define LD_float64(x) (x)
#define LD_uint8(x) (x)
#define LD_int8(x) (x)
#define LD_int16(x) (x)
#define LD_float16(x) mt_f16_to_f32(x)
#define LD_bfloat16(x) mt_bf16_to_f32(x)
#define ST_b8(v) ((bool)(v))
#define ST_int32(v) ((int32_t)(v))
#define ST_int64(v) ((int64_t)(v))
#define ST_float32(v) ((float)(v))
#define ST_float64(v) ((double)(v))
#define ST_uint8(v) ((uint8_t)(int64_t)(v))
#define ST_int8(v) ((int8_t)(int64_t)(v))
#define ST_int16(v) ((int16_t)(int64_t)(v))
#define ST_float16(v) mt_f32_to_f16((float)(v))
#define ST_bfloat16(v) mt_f32_to_bf16((float)(v))

#define COPY_LOOP(OT, DT, IT, ST)                                                                   \
    static void copy_##OT##_##IT(char **d, const int64_t *s, int64_t n, void *ctx) {                 \
        (void)ctx;                                                                                   \
        if (s[0] == sizeof(DT) && s[1] == sizeof(ST)) {                                              \
            DT *o = (DT *)d[0];                                                                      \
            const ST *in = (const ST *)d[1];                                                         \
            for (int64_t i = 0; i < n; i++) o[i] = ST_##OT(LD_##IT(in[i]));                          \
        } else {                                                                                     \
            for (int64_t i = 0; i < n; i++)                                                          \
                *(DT *)(d[0] + i * s[0]) = ST_##OT(LD_##IT(*(const ST *)(d[1] + i * s[1])));         \
        }                                                                                            \
    }
#define COPY_FROM(IT, ST) DST_DTYPES(COPY_LOOP, IT, ST)
MT_FOR_DTYPES(COPY_FROM)

#define LOOP_NAME(OT, DT, IT, ST) copy_##OT##_##IT,
#define ROW(IT, ST) {DST_DTYPES(LOOP_NAME, IT, ST)},
/* copy_loops[src][dst] */
static const mt_loop_fn copy_loops[MT_NUM_DTYPES][MT_NUM_DTYPES] = {MT_FOR_DTYPES(ROW)};

int mt_cpu_copy(mt_tensor *dst, const mt_tensor *src) {
    if (mt_numel(dst) == 0) return 0;
    /* same dtype, both contiguous, same size: memcpy (memmove: dst may alias src) */
    if (dst->dtype == src->dtype && mt_is_contiguous(dst) && mt_is_contiguous(src) && mt_numel(src) == mt_numel(dst)) {
        memmove(mt_data(dst), mt_data(src), (size_t)mt_numel(dst) * mt_dtype_sizes[dst->dtype]);
        return 0;
    }
    mt_iter it;
    mt_tensor *ops[2] = {dst, (mt_tensor *)src};
    if (mt_iter_init(&it, 2, ops, NULL) < 0) return -1;
    mt_iter_run(&it, copy_loops[src->dtype][dst->dtype], NULL, 1 << 16);
    return 0;
}

int mt_cpu_fill(mt_tensor *dst, mt_scalar v) {
    /* one element of the right dtype, broadcast by a stride-0 copy */
    union { bool b; int32_t i32; int64_t i64; float f32; double f64; } u;
    mt_dtype sd;
    if (v.dtype == MT_FLOAT64) { u.f64 = v.f; sd = MT_FLOAT64; }
    else if (v.dtype == MT_INT64) { u.i64 = v.i; sd = MT_INT64; }
    else { u.b = v.i != 0; sd = MT_BOOL; }
    if (mt_numel(dst) == 0) return 0;
    if (mt_is_contiguous(dst)) {
        /* the value in dst's dtype; all-zero bytes (zeros, the common case) are one memset */
        union { bool b; int32_t i32; int64_t i64; float f32; double f64; uint16_t u16; char bytes[8]; } o = {0};
        char *dp[2] = {(char *)&o, (char *)&u};
        int64_t st[2] = {0, 0};
        copy_loops[sd][dst->dtype](dp, st, 1, NULL);
        size_t es = mt_dtype_sizes[dst->dtype], n = (size_t)mt_numel(dst);
        bool zero = true;
        for (size_t i = 0; i < es; i++) zero = zero && o.bytes[i] == 0;
        if (zero) {
            memset(mt_data(dst), 0, n * es);
            return 0;
        }
        /* other values: the converted element's bytes stored n times (ones(256, 256) took 43 us through the
         * iterator's per-element conversion, torch 5) */
        char *d = (char *)mt_data(dst);
        if (es == 1) {
            memset(d, o.bytes[0], n);
        } else if (es == 2) {
            uint16_t *p = (uint16_t *)d;
#pragma omp parallel for schedule(static) if (n >= (1 << 20))
            for (size_t i = 0; i < n; i++) p[i] = o.u16;
        } else if (es == 4) {
            uint32_t w;
            memcpy(&w, o.bytes, 4);
            uint32_t *p = (uint32_t *)d;
#pragma omp parallel for schedule(static) if (n >= (1 << 20))
            for (size_t i = 0; i < n; i++) p[i] = w;
        } else {
            uint64_t w;
            memcpy(&w, o.bytes, 8);
            uint64_t *p = (uint64_t *)d;
#pragma omp parallel for schedule(static) if (n >= (1 << 20))
            for (size_t i = 0; i < n; i++) p[i] = w;
        }
        return 0;
    }
    mt_iter it;
    mt_tensor *ops[2] = {dst, NULL};
    void *ptrs[2] = {NULL, &u};
    if (mt_iter_init(&it, 2, ops, ptrs) < 0) return -1;
    mt_iter_run(&it, copy_loops[sd][dst->dtype], NULL, 1 << 16);
    return 0;
}

/* ---------------- core helpers ---------------- */
int mt_fill_(mt_tensor *t, mt_scalar v) { return mt_backend_of(t)->fill(t, v); }

int mt_copy_into(mt_tensor *dst, const mt_tensor *src) {
    if (!mt_same_device(dst->storage->device, src->storage->device)) {
        /* cross-device copies are owned by the non-CPU backend */
        mt_backend *be = mt_backends[dst->storage->device.type != MT_CPU ? dst->storage->device.type
                                                                         : src->storage->device.type];
        if (mt_is_narrow(dst->dtype)) { /* (only CPU tensors are narrow) the GPU's copy kernels do not know it */
            mt_tensor *tmp = mt_empty(dst->shape, dst->ndim, src->dtype, dst->storage->device);
            int rc = tmp ? be->copy(tmp, src) : -1;
            if (rc == 0) rc = mt_backend_of(dst)->copy(dst, tmp);
            mt_decref(tmp);
            return rc;
        }
        if (mt_is_narrow(src->dtype)) {
            mt_tensor *tmp = mt_empty(src->shape, src->ndim, dst->dtype, src->storage->device);
            int rc = tmp ? mt_backend_of(src)->copy(tmp, src) : -1;
            if (rc == 0) rc = be->copy(dst, tmp);
            mt_decref(tmp);
            return rc;
        }
        return be->copy(dst, src);
    }
    return mt_backend_of(dst)->copy(dst, src);
}

mt_tensor *mt_cast(const mt_tensor *t, mt_dtype dtype) {
    if (!t) return NULL;
    if (t->dtype == dtype) return mt_incref((mt_tensor *)t);
    if (mt_create_graph_active && t->requires_grad) return mt_to_device((mt_tensor *)t, t->storage->device, dtype);
    mt_tensor *out = mt_empty(t->shape, t->ndim, dtype, t->storage->device);
    if (out && mt_copy_into(out, t) < 0) { mt_decref(out); return NULL; }
    return out;
}

mt_tensor *mt_contiguous(const mt_tensor *t) {
    if (!t) return NULL;
    if (mt_is_contiguous(t)) return mt_incref((mt_tensor *)t);
    if (mt_create_graph_active && t->requires_grad) return mt_clone((mt_tensor *)t);
    mt_tensor *out = mt_empty_like(t);
    if (out && mt_copy_into(out, t) < 0) { mt_decref(out); return NULL; }
    return out;
}

/* ---------------- ops with autograd ---------------- */
static int clone_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    (void)n;
    gi[0] = mt_incref(go[0]);
    return 0;
}
static const mt_node_vt clone_vt = {"CloneBackward0", clone_backward, NULL, true};

mt_tensor *mt_clone(mt_tensor *a) {
    if (!a) return NULL;
    mt_tensor *out = mt_empty_like(a);
    if (!out) return NULL;
    if (mt_copy_into(out, a) < 0) { mt_decref(out); return NULL; }
    mt_autograd_record(&clone_vt, out, 1, &a);
    return out;
}

mt_tensor *mt_contiguous_ag(mt_tensor *a) {
    if (!a) return NULL;
    if (mt_is_contiguous(a)) return mt_incref(a);
    return mt_clone(a);
}

static int tocopy_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    mt_tensor *g = go[0];
    mt_device dev = {(int8_t)n->iargs[0], (int8_t)n->iargs[1]};
    gi[0] = mt_to_device(g, dev, n->in_dtype);
    return gi[0] ? 0 : -1;
}
static const mt_node_vt tocopy_vt = {"ToCopyBackward0", tocopy_backward, NULL, true};

mt_tensor *mt_to_device_raw(mt_tensor *a, mt_device dev, mt_dtype dtype) {
    if (!a) return NULL;
    mt_tensor *out = mt_empty(a->shape, a->ndim, dtype, dev);
    if (!out) return NULL;
    if (mt_copy_into(out, a) < 0) { mt_decref(out); return NULL; }
    return out;
}

mt_tensor *mt_to_device(mt_tensor *a, mt_device dev, mt_dtype dtype) {
    if (!a) return NULL;
    if (a->dtype == dtype && mt_same_device(a->storage->device, dev)) return mt_incref(a);
    mt_tensor *out = mt_to_device_raw(a, dev, dtype);
    if (!out) return NULL;
    if (mt_is_floating(dtype)) {
        mt_node *n = mt_autograd_record(&tocopy_vt, out, 1, &a);
        if (n) {
            n->iargs[0] = a->storage->device.type;
            n->iargs[1] = a->storage->device.index;
            n->in_dtype = a->dtype;
        }
    }
    return out;
}

mt_tensor *mt_to_dtype(mt_tensor *a, mt_dtype dtype) {
    if (!a) return NULL;
    return mt_to_device(a, a->storage->device, dtype);
}

void mt_bump_version(mt_tensor *t) { t->storage->version++; }

mt_tensor *mt_fill_inplace(mt_tensor *t, mt_scalar v) {
    if (!t) return NULL;
    if (mt_check_inplace_leaf(t) < 0 || mt_scalar_to(v, t->dtype, &v) < 0) return NULL;
    if (mt_inplace_needs_history(t, NULL))
        return mt_commit_inplace(t, mt_full(t->shape, t->ndim, v, t->dtype, t->storage->device));
    if (mt_fill_(t, v) < 0) return NULL;
    mt_bump_version(t);
    return mt_incref(t);
}

mt_tensor *mt_copy_(mt_tensor *dst, mt_tensor *src) {
    if (!dst || !src) return NULL;
    if (mt_check_inplace(dst) < 0) return NULL;
    int64_t st[MT_MAX_DIMS];
    if (mt_broadcast_strides(src, dst->shape, dst->ndim, st) < 0)
        return mt_error(MT_ERR_RUNTIME, "The size of tensor a (%lld) must match the size of tensor b (%lld) at non-singleton dimension %d",
                        (long long)(dst->ndim ? dst->shape[dst->ndim - 1] : 1),
                        (long long)(src->ndim ? src->shape[src->ndim - 1] : 1), dst->ndim ? dst->ndim - 1 : 0);
    if (mt_check_no_partial_overlap(dst, src) < 0) return NULL;
    if (mt_overlap_status(dst, src) == MT_OVERLAP_TOO_HARD) {
        /* read all of src before writing any of dst, as a copy means */
        mt_tensor *tmp = mt_clone(src), *r = tmp ? mt_copy_(dst, tmp) : NULL;
        mt_decref(tmp);
        return r;
    }
    if (mt_inplace_needs_history(dst, src)) {
        /* src broadcast and converted to dst's dtype and device, with history (Expand/ToCopy nodes) */
        mt_tensor *e = mt_expand(src, dst->shape, dst->ndim);
        mt_tensor *res = mt_to_device(e, dst->storage->device, dst->dtype);
        mt_decref(e);
        return mt_commit_inplace(dst, res);
    }
    if (mt_copy_into(dst, src) < 0) return NULL;
    mt_bump_version(dst);
    return mt_incref(dst);
}

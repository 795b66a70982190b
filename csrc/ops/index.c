/* Indexing along one dimension: index_select, gather, scatter / scatter_ / scatter_add,
 * masked_fill, and index_add into zeros (index_select's derivative).
 *
 * CPU kernels first (contracts in core/backend.h). Every kernel checks every index
 * value against the indexed dimension before it writes anything, so no input can make
 * it read or write out of bounds, and an in-place op that fails leaves its tensor as
 * it was. The ops then do PyTorch's argument checks (with its messages), allocate the
 * output and record the derivative, written with ops:
 *   IndexSelectBackward0: index_add of g into zeros       GatherBackward0: scatter-add of g into zeros
 *   ScatterBackward0/1:   g with the scattered places zeroed; src gets g gathered
 *   ScatterAddBackward0:  g; src gets g gathered           MaskedFillBackward0: g with the mask zeroed
 *
 * Ownership: ops return a new reference or NULL (error set); tensor arguments are borrowed
 * and may be NULL. Index tensors may be int64 or int32 (as in PyTorch). */
#include "ops.h"
#include "cpu_kernels.h"
#include "../core/iter.h"
#include "../autograd/autograd.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P mt_pool

/* ======================================================================
 * CPU kernels
 * ====================================================================== */

/* size / stride of dim d, treating a 0-d tensor as one element of stride 0 in every dim */
#define SZ(t, d) ((t)->ndim ? (t)->shape[d] : 1)
#define ST(t, d) ((t)->ndim ? (t)->strides[d] : 0)

/* Element offsets of the start of row r (all dims but the last) for up to three tensors. */
static inline void row_offsets(int64_t r, int nd, const int64_t *shape, const int64_t *s0, const int64_t *s1,
                               const int64_t *s2, int64_t *o0, int64_t *o1, int64_t *o2) {
    int64_t a = 0, b = 0, c = 0;
    for (int d = nd - 2; d >= 0; d--) {
        int64_t q = r % shape[d];
        r /= shape[d];
        a += q * s0[d];
        b += q * s1[d];
        c += q * s2[d];
    }
    *o0 = a;
    *o1 = b;
    *o2 = c;
}

/* Checks every value of an int64 index laid out as (shape, strides) against [0, size). */
static int check_index_values(const int64_t *ix, int nd, const int64_t *shape, const int64_t *st, int64_t size,
                              int dim) {
    int64_t L = shape[nd - 1], sl = st[nd - 1], rows = L ? mt_shape_numel(shape, nd) / L : 0;
    for (int64_t r = 0; r < rows; r++) {
        int64_t off, u1, u2;
        row_offsets(r, nd, shape, st, st, st, &off, &u1, &u2);
        for (int64_t j = 0; j < L; j++) {
            int64_t v = ix[off + j * sl];
            if (v < 0 || v >= size) {
                mt_error(MT_ERR_RUNTIME, "index %lld is out of bounds for dimension %d with size %lld", (long long)v,
                         dim, (long long)size);
                return -1;
            }
        }
    }
    return 0;
}

int mt_cpu_index_select(mt_tensor *out, const mt_tensor *in, const mt_tensor *index, int64_t outer, int64_t in_dim,
                        int64_t inner) {
    int64_t ni = mt_numel(index), is = index->ndim ? index->strides[index->ndim - 1] : 1;
    const int64_t *ix = mt_data(index);
    for (int64_t i = 0; i < ni; i++)
        if (ix[i * is] < 0 || ix[i * is] >= in_dim) {
            mt_error(MT_ERR_INDEX, "index out of range in self");
            return -1;
        }
    size_t es = mt_dtype_sizes[in->dtype], row = (size_t)inner * es;
    const char *src = mt_data(in);
    char *dst = mt_data(out);
    int64_t total = outer * ni;
    if (total == 0 || inner == 0) return 0;
#pragma omp parallel for if ((double)total * (double)inner > 32768.0) schedule(static)
    for (int64_t t = 0; t < total; t++) {
        int64_t o = t / ni, i = t % ni;
        const char *s = src + (size_t)((o * in_dim + ix[i * is]) * inner) * es;
        char *d = dst + (size_t)t * row;
        switch (row) {
        case 1: *d = *s; break;
        case 4: memcpy(d, s, 4); break;
        case 8: memcpy(d, s, 8); break;
        default: memcpy(d, s, row); break;
        }
    }
    return 0;
}

/* out[o, index[i], :] += src[o, i, :]; integer adds wrap (unsigned arithmetic), bool adds are "or". */
#define INDEX_ADD_LOOP(NAME, T, ADD)                                                                           \
    static void NAME(char *out, const char *src, const int64_t *ix, int64_t is, int64_t ni, int64_t outer,      \
                     int64_t out_dim, int64_t inner) {                                                          \
        _Pragma("omp parallel for if (outer > 1 && (double)outer * (double)ni * (double)inner > 32768.0)")       \
        for (int64_t o = 0; o < outer; o++)                                                                    \
            for (int64_t i = 0; i < ni; i++) {                                                                 \
                T *d = (T *)out + (o * out_dim + ix[i * is]) * inner;                                          \
                const T *s = (const T *)src + (o * ni + i) * inner;                                            \
                for (int64_t j = 0; j < inner; j++) d[j] = ADD(d[j], s[j]);                                    \
            }                                                                                                  \
    }
#define ADD_B(x, y) ((x) || (y))
#define ADD_I32(x, y) ((int32_t)((uint32_t)(x) + (uint32_t)(y)))
#define ADD_I64(x, y) ((int64_t)((uint64_t)(x) + (uint64_t)(y)))
#define ADD_F(x, y) ((x) + (y))
INDEX_ADD_LOOP(index_add_b, bool, ADD_B)
INDEX_ADD_LOOP(index_add_i32, int32_t, ADD_I32)
INDEX_ADD_LOOP(index_add_i64, int64_t, ADD_I64)
INDEX_ADD_LOOP(index_add_f32, float, ADD_F)
INDEX_ADD_LOOP(index_add_f64, double, ADD_F)

int mt_cpu_index_add(mt_tensor *out, const mt_tensor *src, const mt_tensor *index, int64_t outer, int64_t out_dim,
                     int64_t inner) {
    int64_t ni = mt_numel(index), is = index->ndim ? index->strides[index->ndim - 1] : 1;
    const int64_t *ix = mt_data(index);
    for (int64_t i = 0; i < ni; i++)
        if (ix[i * is] < 0 || ix[i * is] >= out_dim) {
            mt_error(MT_ERR_INDEX, "index_add(): index %lld is out of bounds for a dimension of size %lld",
                     (long long)ix[i * is], (long long)out_dim);
            return -1;
        }
    if (outer == 0 || ni == 0 || inner == 0) return 0;
    char *o = mt_data(out);
    const char *s = mt_data(src);
    switch (out->dtype) {
    case MT_BOOL: index_add_b(o, s, ix, is, ni, outer, out_dim, inner); break;
    case MT_INT32: index_add_i32(o, s, ix, is, ni, outer, out_dim, inner); break;
    case MT_INT64: index_add_i64(o, s, ix, is, ni, outer, out_dim, inner); break;
    case MT_FLOAT32: index_add_f32(o, s, ix, is, ni, outer, out_dim, inner); break;
    case MT_FLOAT64: index_add_f64(o, s, ix, is, ni, outer, out_dim, inner); break;
    default: break;
    }
    return 0;
}

/* The walk shared by gather and scatter: positions of the index (shape `shape`, nd >= 1), with
 * element strides for the index (sx), the tensor read/written at the same position (sp) and the
 * tensor indexed along `dim` (sd, whose stride along dim is zeroed; `dstride` is the real one). */
typedef struct {
    int nd;
    int64_t shape[MT_MAX_DIMS], sx[MT_MAX_DIMS], sp[MT_MAX_DIMS], sd[MT_MAX_DIMS];
    int64_t dsize, dstride, rows, L;
} walk;

static void walk_init(walk *w, const mt_tensor *index, const mt_tensor *same, const mt_tensor *indexed, int dim) {
    w->nd = index->ndim ? index->ndim : 1;
    for (int d = 0; d < w->nd; d++) {
        w->shape[d] = SZ(index, d);
        w->sx[d] = ST(index, d);
        w->sp[d] = ST(same, d);
        w->sd[d] = d == dim ? 0 : ST(indexed, d);
    }
    w->dsize = SZ(indexed, dim);
    w->dstride = ST(indexed, dim);
    w->L = w->shape[w->nd - 1];
    w->rows = w->L ? mt_shape_numel(w->shape, w->nd) / w->L : 0;
}

#define GATHER_LOOP(NAME, T)                                                                                   \
    static void NAME(const walk *w, char *outp, const char *inp, const int64_t *ix) {                         \
        T *out = (T *)outp;                                                                                    \
        const T *in = (const T *)inp;                                                                          \
        int nd = w->nd;                                                                                        \
        int64_t L = w->L, lx = w->sx[nd - 1], lp = w->sp[nd - 1], ld = w->sd[nd - 1], ds = w->dstride;         \
        _Pragma("omp parallel for if ((double)w->rows * (double)L > 32768.0) schedule(static)")                 \
        for (int64_t r = 0; r < w->rows; r++) {                                                                \
            int64_t ox, op, od;                                                                                \
            row_offsets(r, nd, w->shape, w->sx, w->sp, w->sd, &ox, &op, &od);                                  \
            for (int64_t j = 0; j < L; j++) out[op + j * lp] = in[od + j * ld + ix[ox + j * lx] * ds];        \
        }                                                                                                      \
    }
GATHER_LOOP(gather_1, uint8_t)
GATHER_LOOP(gather_4, uint32_t)
GATHER_LOOP(gather_8, uint64_t)

int mt_cpu_gather(mt_tensor *out, const mt_tensor *in, const mt_tensor *index, int dim) {
    if (mt_numel(index) == 0) return 0;
    walk w;
    walk_init(&w, index, out, in, dim);
    const int64_t *ix = mt_data(index);
    if (check_index_values(ix, w.nd, w.shape, w.sx, w.dsize, dim) < 0) return -1;
    switch (mt_dtype_sizes[in->dtype]) {
    case 1: gather_1(&w, mt_data(out), mt_data(in), ix); break;
    case 4: gather_4(&w, mt_data(out), mt_data(in), ix); break;
    default: gather_8(&w, mt_data(out), mt_data(in), ix); break;
    }
    return 0;
}

/* Serial: with repeated indices the last write wins (and adds never race). */
#define SCATTER_LOOP(NAME, T, OP)                                                                              \
    static void NAME(const walk *w, char *outp, const char *srcp, const int64_t *ix) {                        \
        T *out = (T *)outp;                                                                                    \
        const T *src = (const T *)srcp;                                                                        \
        int nd = w->nd;                                                                                        \
        int64_t L = w->L, lx = w->sx[nd - 1], lp = w->sp[nd - 1], ld = w->sd[nd - 1], ds = w->dstride;         \
        for (int64_t r = 0; r < w->rows; r++) {                                                                \
            int64_t ox, op, od;                                                                                \
            row_offsets(r, nd, w->shape, w->sx, w->sp, w->sd, &ox, &op, &od);                                  \
            for (int64_t j = 0; j < L; j++) {                                                                  \
                T *d = out + od + j * ld + ix[ox + j * lx] * ds;                                               \
                *d = OP(*d, src[op + j * lp]);                                                                 \
            }                                                                                                  \
        }                                                                                                      \
    }
#define SET(x, y) (y)
SCATTER_LOOP(scatter_1, uint8_t, SET)
SCATTER_LOOP(scatter_4, uint32_t, SET)
SCATTER_LOOP(scatter_8, uint64_t, SET)
SCATTER_LOOP(scatter_add_b, bool, ADD_B)
SCATTER_LOOP(scatter_add_i32, int32_t, ADD_I32)
SCATTER_LOOP(scatter_add_i64, int64_t, ADD_I64)
SCATTER_LOOP(scatter_add_f32, float, ADD_F)
SCATTER_LOOP(scatter_add_f64, double, ADD_F)

int mt_cpu_scatter(mt_tensor *out, const mt_tensor *index, const mt_tensor *src, int dim, bool add) {
    if (mt_numel(index) == 0) return 0;
    walk w;
    walk_init(&w, index, src, out, dim);
    const int64_t *ix = mt_data(index);
    if (check_index_values(ix, w.nd, w.shape, w.sx, w.dsize, dim) < 0) return -1;
    char *o = mt_data(out);
    const char *s = mt_data(src);
    if (!add) {
        switch (mt_dtype_sizes[out->dtype]) {
        case 1: scatter_1(&w, o, s, ix); break;
        case 4: scatter_4(&w, o, s, ix); break;
        default: scatter_8(&w, o, s, ix); break;
        }
        return 0;
    }
    switch (out->dtype) {
    case MT_BOOL: scatter_add_b(&w, o, s, ix); break;
    case MT_INT32: scatter_add_i32(&w, o, s, ix); break;
    case MT_INT64: scatter_add_i64(&w, o, s, ix); break;
    case MT_FLOAT32: scatter_add_f32(&w, o, s, ix); break;
    case MT_FLOAT64: scatter_add_f64(&w, o, s, ix); break;
    default: break;
    }
    return 0;
}

/* ======================================================================
 * helpers shared by the ops
 * ====================================================================== */

static bool is_index_dtype(mt_dtype d) { return d == MT_INT32 || d == MT_INT64; }

/* The index as a contiguous int64 tensor (a new ref; the index itself when it already is one). */
static mt_tensor *index_i64(mt_tensor *index) {
    mt_tensor *c = mt_cast(index, MT_INT64), *r = mt_contiguous(c);
    mt_decref(c);
    return r;
}

/* v converted to dtype as PyTorch's checked scalar conversion does (-1 + error on overflow). */
/* A contiguous copy of t (no autograd). */
static mt_tensor *fresh_copy(const mt_tensor *t) {
    mt_tensor *out = mt_empty_like(t);
    if (out && mt_numel(out) > 0 && mt_copy_into(out, t) < 0) { mt_decref(out); return NULL; }
    return out;
}

/* [outer, dim, inner] view sizes of a contiguous tensor around dim (0-d: all 1). */
static void split_dims(const mt_tensor *t, int dim, int64_t *outer, int64_t *inner) {
    int64_t o = 1, i = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (d < dim) o *= t->shape[d];
        else if (d > dim) i *= t->shape[d];
    }
    *outer = o;
    *inner = i;
}

/* ======================================================================
 * index_select and its derivative
 * ====================================================================== */

static int index_add_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    mt_tensor *index = mt_node_saved(n, 0);
    if (!index) return -1;
    gi[0] = mt_index_select(go[0], n->iargs[0], index);
    return gi[0] ? 0 : -1;
}
static const mt_node_vt index_add_vt = {"IndexAddBackward0", index_add_backward, NULL, true};

mt_tensor *mt_index_add_zeros(mt_tensor *g, int64_t dim, mt_tensor *index, int64_t size) {
    if (!g || !index) return NULL;
    int d = mt_wrap_dim(dim, g->ndim);
    if (d < 0 || mt_check_same_device(g, index) < 0) return NULL;
    if (!is_index_dtype(index->dtype))
        return mt_error(MT_ERR_RUNTIME, "index_add_(): Expected dtype int32/int64 for index");
    if (index->ndim > 1) return mt_error(MT_ERR_INDEX, "index_add_(): Index is supposed to be a vector");
    int64_t ni = mt_numel(index), gd = SZ(g, d);
    if (ni != gd)
        return mt_error(MT_ERR_RUNTIME, "index_add_(): Number of indices (%lld) should be equal to source.size(dim) (%lld)",
                        (long long)ni, (long long)gd);
    if (size < 0 || (g->ndim == 0 && size != 1))
        return mt_error(MT_ERR_RUNTIME, "index_add_(): invalid size %lld for dimension %d", (long long)size, d);
    int64_t shape[MT_MAX_DIMS];
    memcpy(shape, g->shape, sizeof(int64_t) * g->ndim);
    if (g->ndim) shape[d] = size;
    mt_tensor *out = mt_zeros(shape, g->ndim, g->dtype, g->storage->device);
    mt_tensor *gc = mt_contiguous(g), *ix = index_i64(index);
    int64_t outer, inner;
    split_dims(g, d, &outer, &inner);
    if (out && gc && ix && ni > 0 && mt_backend_of(out)->index_add(out, gc, ix, outer, size, inner) < 0) {
        mt_decref(out);
        out = NULL;
    }
    if (!gc || !ix) { mt_decref(out); out = NULL; }
    mt_decref(gc);
    mt_decref(ix);
    if (!out) return NULL;
    mt_node *n = mt_autograd_record(&index_add_vt, out, 1, &g);
    if (n) {
        n->iargs[0] = d;
        mt_node_save(n, 0, index, false);
    }
    return out;
}

static int index_select_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    mt_tensor *index = mt_node_saved(n, 0);
    if (!index) return -1;
    gi[0] = mt_index_add_zeros(go[0], n->iargs[0], index, n->iargs[1]);
    return gi[0] ? 0 : -1;
}
static const mt_node_vt index_select_vt = {"IndexSelectBackward0", index_select_backward, NULL, true};

mt_tensor *mt_index_select(mt_tensor *a, int64_t dim, mt_tensor *index) {
    if (!a || !index) return NULL;
    int d = mt_wrap_dim(dim, a->ndim);
    if (d < 0 || mt_check_same_device(a, index) < 0) return NULL;
    if (!is_index_dtype(index->dtype))
        return mt_error(MT_ERR_RUNTIME, "index_select(): Expected dtype int32 or int64 for index");
    if (index->ndim > 1) return mt_error(MT_ERR_INDEX, "index_select(): Index is supposed to be a vector");
    int64_t ni = mt_numel(index), dsize = SZ(a, d);
    if (a->ndim == 0 && ni != 1)
        return mt_error(MT_ERR_RUNTIME, "index_select(): Index to scalar can have only 1 value, got %lld value(s)",
                        (long long)ni);
    if (dsize == 0 && ni > 0)
        return mt_error(MT_ERR_RUNTIME, "index_select(): self indexing axis dim should be positive");
    int64_t shape[MT_MAX_DIMS];
    memcpy(shape, a->shape, sizeof(int64_t) * a->ndim);
    if (a->ndim) shape[d] = ni;
    mt_tensor *out = mt_empty(shape, a->ndim, a->dtype, a->storage->device);
    mt_tensor *ac = mt_contiguous(a), *ix = index_i64(index);
    int64_t outer, inner;
    split_dims(a, d, &outer, &inner);
    if (!ac || !ix || (out && ni > 0 && mt_backend_of(out)->index_select(out, ac, ix, outer, dsize, inner) < 0)) {
        mt_decref(out);
        out = NULL;
    }
    mt_decref(ac);
    mt_decref(ix);
    if (!out) return NULL;
    mt_node *n = mt_autograd_record(&index_select_vt, out, 1, &a);
    if (n) {
        n->iargs[0] = d;
        n->iargs[1] = dsize;
        mt_node_save(n, 0, index, false);
    }
    return out;
}

/* ======================================================================
 * gather
 * ====================================================================== */

static int gather_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    mt_tensor *index = mt_node_saved(n, 0);
    if (!index) return -1;
    mt_tensor *z = P(mt_zeros(n->meta_shape[0], n->meta_ndim[0], go[0]->dtype, go[0]->storage->device));
    gi[0] = mt_scatter(z, n->iargs[0], index, go[0], NULL, true, true);
    return gi[0] ? 0 : -1;
}
static const mt_node_vt gather_vt = {"GatherBackward0", gather_backward, NULL, true};

mt_tensor *mt_gather(mt_tensor *a, int64_t dim, mt_tensor *index) {
    if (!a || !index) return NULL;
    int d = mt_wrap_dim(dim, a->ndim);
    if (d < 0 || mt_check_same_device(a, index) < 0) return NULL;
    if (!is_index_dtype(index->dtype)) return mt_error(MT_ERR_RUNTIME, "gather(): Expected dtype int32/int64 for index");
    mt_tensor *out = NULL;
    if (mt_numel(index) == 0) {
        out = mt_empty(index->shape, index->ndim, a->dtype, a->storage->device);
    } else {
        int nd = a->ndim ? a->ndim : 1;
        if (nd != (index->ndim ? index->ndim : 1))
            return mt_error(MT_ERR_RUNTIME, "Index tensor must have the same number of dimensions as input tensor");
        for (int i = 0; i < nd; i++)
            if (i != d && SZ(index, i) > SZ(a, i))
                return mt_error(MT_ERR_RUNTIME,
                                "Size does not match at dimension %d expected index %s to be no larger than self %s "
                                "apart from dimension %d",
                                i, mt_shape_str(index->shape, index->ndim), mt_shape_str(a->shape, a->ndim), d);
        mt_tensor *ix = index_i64(index);
        out = ix ? mt_empty(index->shape, index->ndim, a->dtype, a->storage->device) : NULL;
        if (out && mt_backend_of(out)->gather(out, a, ix, d) < 0) { mt_decref(out); out = NULL; }
        mt_decref(ix);
    }
    if (!out) return NULL;
    mt_node *n = mt_autograd_record(&gather_vt, out, 1, &a);
    if (n) {
        n->iargs[0] = d;
        mt_node_set_meta(n, 0, a);
        mt_node_save(n, 0, index, false);
    }
    return out;
}

/* ======================================================================
 * scatter / scatter_ / scatter_add / scatter_add_
 * ====================================================================== */

/* g gathered at index, laid into a zero tensor of src's shape (src may be larger than index). */
static mt_tensor *src_grad(mt_node *n, mt_tensor *g, mt_tensor *index) {
    const int64_t *sshape = n->meta_shape[1];
    int snd = n->meta_ndim[1];
    if (mt_numel(index) == 0) return mt_zeros(sshape, snd, g->dtype, g->storage->device);
    mt_tensor *r = mt_gather(g, n->iargs[0], index);
    if (!r) return NULL;
    if (r->ndim == snd && !memcmp(r->shape, sshape, sizeof(int64_t) * snd)) return r;
    if (r->ndim != snd) { /* a 0-d / 1-element mix */
        mt_tensor *v = mt_reshape(r, sshape, snd);
        mt_decref(r);
        return v;
    }
    mt_tensor *z = mt_zeros(sshape, snd, g->dtype, g->storage->device);
    mt_tensor *win = z ? mt_alias(z, r->shape, z->strides, snd, 0) : NULL;
    int rc = win ? mt_copy_into(win, r) : -1;
    mt_decref(win);
    mt_decref(r);
    if (rc < 0) { mt_decref(z); return NULL; }
    return z;
}

/* iargs[0] = dim, iargs[1] = add; saved 0 = index; input 1 (src) when there is one */
static int scatter_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    mt_tensor *index = mt_node_saved(n, 0);
    if (!index) return -1;
    mt_tensor *g = go[0];
    bool add = n->iargs[1];
    if (mt_node_needs(n, 0)) {
        if (add) gi[0] = mt_incref(g);
        else {
            mt_scalar zero = mt_si(0);
            gi[0] = mt_scatter(g, n->iargs[0], index, NULL, &zero, false, false);
        }
        if (!gi[0]) return -1;
    }
    if (mt_node_needs(n, 1)) {
        gi[1] = src_grad(n, g, index);
        if (!gi[1]) return -1;
    }
    return 0;
}
static const mt_node_vt scatter_vt = {"ScatterBackward0", scatter_backward, NULL, true};
static const mt_node_vt scatter_value_vt = {"ScatterBackward1", scatter_backward, NULL, true};
static const mt_node_vt scatter_add_vt = {"ScatterAddBackward0", scatter_backward, NULL, true};

mt_tensor *mt_scatter(mt_tensor *a, int64_t dim, mt_tensor *index, mt_tensor *src, const mt_scalar *value,
                      bool inplace, bool add) {
    if (!a || !index || (!src && !value)) return NULL;
    int d = mt_wrap_dim(dim, a->ndim);
    if (d < 0 || mt_check_same_device(a, index) < 0 || mt_check_same_device(a, src) < 0) return NULL;
    if (!is_index_dtype(index->dtype)) return mt_error(MT_ERR_RUNTIME, "scatter(): Expected dtype int32/int64 for index");
    if (src && src->dtype != a->dtype)
        return mt_error(MT_ERR_RUNTIME, "scatter(): Expected self.dtype to be equal to src.dtype");
    if (inplace && (mt_check_inplace(a) < 0 || mt_check_no_overlap(a, index) < 0 || mt_check_no_overlap(a, src) < 0))
        return NULL;
    int64_t ni = mt_numel(index);
    if (ni > 0) {
        int nd = a->ndim ? a->ndim : 1, ind = index->ndim ? index->ndim : 1;
        if (nd != ind)
            return mt_error(MT_ERR_RUNTIME, "Index tensor must have the same number of dimensions as self tensor");
        bool wrong = false;
        for (int i = 0; i < nd && !wrong; i++)
            if (i != d && SZ(index, i) > SZ(a, i)) wrong = true;
        if (!wrong && src) {
            if ((src->ndim ? src->ndim : 1) != ind)
                return mt_error(MT_ERR_RUNTIME, "Index tensor must have the same number of dimensions as src tensor");
            for (int i = 0; i < nd && !wrong; i++)
                if (SZ(index, i) > SZ(src, i)) wrong = true;
        }
        if (wrong) {
            if (src)
                return mt_error(MT_ERR_RUNTIME,
                                "Expected index %s to be no larger than self %s apart from dimension %d and to be no "
                                "larger size than src %s",
                                mt_shape_str(index->shape, index->ndim), mt_shape_str(a->shape, a->ndim), d,
                                mt_shape_str(src->shape, src->ndim));
            return mt_error(MT_ERR_RUNTIME, "Expected index %s to be no larger than self %s apart from dimension %d",
                            mt_shape_str(index->shape, index->ndim), mt_shape_str(a->shape, a->ndim), d);
        }
    }
    /* a scalar value becomes a stride-0 tensor of a's dtype shaped like the index */
    mt_tensor *srck = NULL;
    if (src) {
        srck = mt_incref(src);
    } else {
        mt_scalar sv;
        if (mt_scalar_to(*value, a->dtype, &sv) < 0) return NULL;
        mt_tensor *s0 = mt_full(NULL, 0, sv, a->dtype, a->storage->device);
        int64_t zs[MT_MAX_DIMS] = {0};
        srck = s0 ? mt_alias(s0, index->shape, zs, index->ndim, s0->offset) : NULL;
        mt_decref(s0);
        if (!srck) return NULL;
    }
    mt_tensor *ix = ni > 0 ? index_i64(index) : NULL;
    if (ni > 0 && !ix) { mt_decref(srck); return NULL; }
    mt_tensor *ins[2] = {a, src};
    bool grad = mt_any_requires_grad(src ? 2 : 1, ins);
    mt_tensor *out;
    if (inplace && !grad && mt_is_contiguous(a)) {
        int rc = ni > 0 ? mt_backend_of(a)->scatter(a, ix, srck, d, add) : 0;
        mt_decref(ix);
        mt_decref(srck);
        if (rc < 0) return NULL;
        mt_bump_version(a);
        return mt_incref(a);
    }
    out = fresh_copy(a);
    if (out && ni > 0 && mt_backend_of(out)->scatter(out, ix, srck, d, add) < 0) { mt_decref(out); out = NULL; }
    mt_decref(ix);
    mt_decref(srck);
    if (!out) return NULL;
    const mt_node_vt *vt = add ? &scatter_add_vt : src ? &scatter_vt : &scatter_value_vt;
    mt_node *n = mt_autograd_record(vt, out, src ? 2 : 1, ins);
    if (n) {
        n->iargs[0] = d;
        n->iargs[1] = add;
        mt_node_set_meta(n, 0, a);
        if (src) mt_node_set_meta(n, 1, src);
        mt_node_save(n, 0, index, false);
    }
    return inplace ? mt_commit_inplace(a, out) : out;
}

/* ======================================================================
 * masked_fill / masked_fill_
 * ====================================================================== */

static int masked_fill_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    mt_tensor *mask = mt_node_saved(n, 0);
    if (!mask) return -1;
    gi[0] = mt_node_grad_for(n, 0, mt_masked_fill(go[0], mask, mt_si(0), false));
    return gi[0] ? 0 : -1;
}
static const mt_node_vt masked_fill_vt = {"MaskedFillBackward0", masked_fill_backward, NULL, true};

mt_tensor *mt_masked_fill(mt_tensor *a, mt_tensor *mask, mt_scalar v, bool inplace) {
    if (!a || !mask) return NULL;
    if (mt_check_same_device(a, mask) < 0) return NULL;
    if (mask->dtype != MT_BOOL)
        return mt_error(MT_ERR_RUNTIME, "masked_fill_ only supports boolean masks, but got mask with dtype %s",
                        mt_cpp_type_name(mask->dtype));
    int64_t shape[MT_MAX_DIMS];
    int nd;
    /* PyTorch names the operands (a, b) = (self, mask) in place and (mask, self) out of place */
    if (inplace ? mt_broadcast_shapes(a->shape, a->ndim, mask->shape, mask->ndim, shape, &nd) < 0
                : mt_broadcast_shapes(mask->shape, mask->ndim, a->shape, a->ndim, shape, &nd) < 0)
        return NULL;
    if (inplace) {
        /* PyTorch allows masked_fill_ into an expanded tensor (deprecated, not an error) */
        if (mt_check_inplace_leaf(a) < 0) return NULL;
        if (nd != a->ndim || memcmp(shape, a->shape, sizeof(int64_t) * nd))
            return mt_error(MT_ERR_RUNTIME, "output with shape %s doesn't match the broadcast shape %s",
                            mt_shape_str(a->shape, a->ndim), mt_shape_str(shape, nd));
    }
    mt_scalar sv;
    if (mt_scalar_to(v, a->dtype, &sv) < 0) return NULL;
    mt_tensor *fill = mt_full(NULL, 0, sv, a->dtype, a->storage->device);
    if (!fill) return NULL;
    bool grad = mt_any_requires_grad(1, &a);
    mt_tensor *out;
    if (inplace && !grad) {
        int rc = mt_numel(a) > 0 ? mt_backend_of(a)->where(a, mask, fill, a) : 0;
        mt_decref(fill);
        if (rc < 0) return NULL;
        mt_bump_version(a);
        return mt_incref(a);
    }
    out = mt_empty(shape, nd, a->dtype, a->storage->device);
    if (out && mt_numel(out) > 0 && mt_backend_of(out)->where(out, mask, fill, a) < 0) { mt_decref(out); out = NULL; }
    mt_decref(fill);
    if (!out) return NULL;
    mt_node *n = mt_autograd_record(&masked_fill_vt, out, 1, &a);
    if (n) {
        mt_node_set_meta(n, 0, a);
        mt_node_save(n, 0, mask, false);
    }
    return inplace ? mt_commit_inplace(a, out) : out;
}

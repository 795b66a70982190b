/* Reductions (sum, mean, prod, max/min, all/any, var/std, logsumexp, norm, argmax/argmin),
 * max/min along a dim with indices, and softmax / log_softmax: dtype rules, shapes, and
 * derivatives written with ops. The kernels live in the device backends (reduce_cpu.c).
 *
 * Every reduction moves the reduced dims to the end (a strided alias, no autograd), makes
 * that contiguous (free when they already are trailing), and hands the kernel contiguous rows
 * [outer, inner]. The kernel's [outer] output is already laid out as the result's shape, with
 * or without keepdim. Two cases avoid work: sums over leading dims of a contiguous tensor
 * ("column sums", e.g. a bias gradient) add whole rows with the elementwise add instead of
 * transposing, and broadcast (stride-0) reduced dims are not read repeatedly. A transposing
 * copy, when needed, goes in cache-friendly slabs.
 *
 * Ownership: every function returns a new reference (or NULL with the error set); tensor
 * arguments are borrowed and may be NULL. */
#include "ops.h"
#include "../autograd/autograd.h"

#include <math.h>
#include <string.h>

#define P mt_pool

static const char *type_name(mt_dtype d) { return mt_type_name(d); }

/* ====================== planning ====================== */
typedef struct {
    uint32_t mask;   /* bit i: dim i is reduced */
    bool all;        /* no dims were given */
    int64_t count;   /* elements per output (product of the reduced sizes) */
} red_plan;

static int make_plan(const mt_tensor *a, const int64_t *dims, int ndims, red_plan *pl) {
    pl->mask = 0;
    pl->all = dims == NULL || ndims <= 0;
    if (pl->all) {
        pl->mask = a->ndim ? (uint32_t)((1u << a->ndim) - 1) : 0;
    } else {
        uint32_t seen = 0;
        for (int i = 0; i < ndims; i++) {
            int d = mt_wrap_dim(dims[i], a->ndim);
            if (d < 0) return -1;
            if (seen & (1u << d)) {
                mt_error(MT_ERR_RUNTIME, "dim %d appears multiple times in the list of dims", d);
                return -1;
            }
            seen |= 1u << d;
        }
        pl->mask = a->ndim ? seen & (uint32_t)((1u << a->ndim) - 1) : 0;
    }
    pl->count = 1;
    for (int i = 0; i < a->ndim; i++)
        if (pl->mask & (1u << i)) pl->count *= a->shape[i];
    return 0;
}

/* shape of the result */
static int out_shape(const int64_t *shape, int ndim, uint32_t mask, bool keepdim, int64_t *os) {
    int k = 0;
    for (int i = 0; i < ndim; i++) {
        if (mask & (1u << i)) {
            if (keepdim) os[k++] = 1;
        } else {
            os[k++] = shape[i];
        }
    }
    return k;
}

/* A contiguous copy of a strided view for the row kernels. When the view's last dim is not the
 * source's unit-stride dim (a transposition), a plain copy reads one element per cache line and
 * thrashes the cache (power-of-two strides alias to the same sets); copying slabs of 16 along
 * the last dim reuses each source line across 16 consecutive rows instead. */
static mt_tensor *contiguous_tiled(const mt_tensor *v) {
    if (mt_is_contiguous(v)) return mt_incref((mt_tensor *)v);
    int nd = v->ndim;
    const int64_t tile = 16;
    /* a CPU cache strategy: elsewhere one copy (one kernel launch) is the better deal */
    if (v->storage->device.type != MT_CPU || nd < 2 || v->strides[nd - 1] == 1 || v->shape[nd - 1] <= 2 * tile ||
        mt_numel(v) < ((int64_t)1 << 16))
        return mt_contiguous(v);
    mt_tensor *out = mt_empty(v->shape, nd, v->dtype, v->storage->device);
    if (!out) return NULL;
    int64_t s[MT_MAX_DIMS];
    memcpy(s, v->shape, sizeof(int64_t) * nd);
    int64_t len = v->shape[nd - 1];
    for (int64_t t0 = 0; t0 < len; t0 += tile) {
        s[nd - 1] = len - t0 < tile ? len - t0 : tile;
        mt_tensor *dst = mt_alias(out, s, out->strides, nd, out->offset + t0);
        mt_tensor *src = mt_alias(v, s, v->strides, nd, v->offset + t0 * v->strides[nd - 1]);
        int rc = dst && src ? mt_copy_into(dst, src) : -1;
        mt_decref(dst);
        mt_decref(src);
        if (rc < 0) { mt_decref(out); return NULL; }
    }
    return out;
}

/* sum (times `scale`) of a contiguous tensor whose innermost dim is kept ("column sums"): the
 * rows are added into an accumulator one at a time with the backend's elementwise add, so the
 * input is read once, in memory order, with no transposing copy (NumPy's order for axis-0 sums).
 * Non-adjacent reduced dims are reduced one block at a time, innermost first. */
static mt_tensor *sum_by_rows(const mt_tensor *in, uint32_t mask, double scale) {
    int nd = in->ndim;
    int64_t sh[MT_MAX_DIMS];
    memcpy(sh, in->shape, sizeof(int64_t) * nd);
    for (int i = 0; i < nd; i++)
        if (sh[i] == 1) mask &= ~(1u << i);
    mt_tensor *cur = mt_incref((mt_tensor *)in);
    mt_backend *be = mt_backend_of(in);
    while (mask) {
        int hi = 31 - __builtin_clz(mask) + 1, lo = hi - 1;
        while (lo > 0 && ((mask >> (lo - 1)) & 1u)) lo--;
        int64_t A = mt_shape_numel(sh, lo), R = mt_shape_numel(sh + lo, hi - lo), C = mt_shape_numel(sh + hi, nd - hi);
        for (int i = lo; i < hi; i++) { sh[i] = 1; mask &= ~(1u << i); }
        mt_tensor *out = mt_empty(sh, nd, in->dtype, in->storage->device);
        /* cur as [A, R, C], out as [A, C]; row r of every A-slab is cur[:, r, :]. Rows go into a
           block accumulator, blocks of 64 rows into the total (error ~ (64 + R/64) ulp, not R) */
        int64_t s2[2] = {A, C}, acc_st[2] = {C, 1}, row_st[2] = {R * C, 1};
        mt_tensor *acc = out ? mt_alias(out, s2, acc_st, 2, out->offset) : NULL;
        mt_tensor *blk = R > 64 ? mt_empty(s2, 2, in->dtype, in->storage->device) : NULL;
        int rc = acc && (R <= 64 || blk) ? 0 : -1;
        for (int64_t r = 0; r < R && rc == 0; r++) {
            mt_tensor *row = mt_alias(cur, s2, row_st, 2, cur->offset + r * C);
            mt_tensor *dst = r < 64 ? acc : blk;
            if (!row) rc = -1;
            else if (r % 64 == 0) rc = mt_copy_into(dst, row);
            else rc = be->binary(MT_B_ADD, dst, dst, row, NULL, false);
            if (rc == 0 && r >= 64 && (r % 64 == 63 || r == R - 1))
                rc = be->binary(MT_B_ADD, acc, acc, blk, NULL, false);
            mt_decref(row);
        }
        mt_decref(blk);
        if (rc == 0 && !mask && scale != 1.0) {
            mt_scalar sc = mt_sf(scale);
            rc = be->binary(MT_B_MUL, acc, acc, NULL, &sc, false);
        }
        mt_decref(acc);
        mt_decref(cur);
        cur = out;
        if (rc < 0) { mt_decref(cur); return NULL; }
    }
    return cur;
}

/* The reduction itself, without autograd. `in` already has the kernel's input dtype.
 * idx (may be NULL) receives int64 arg-indices for max/min. */
static mt_tensor *reduce_strided(int op, const mt_tensor *in, uint32_t mask, bool keepdim, double p, mt_dtype od,
                                 mt_tensor **idx) {
    int nd = in->ndim;
    int64_t ps[MT_MAX_DIMS], pst[MT_MAX_DIMS], os[MT_MAX_DIMS], cs[MT_MAX_DIMS];
    int64_t outer = 1, inner = 1;
    int k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < nd; i++) {
            bool red = (mask >> i) & 1u;
            if (red != (pass == 1)) continue;
            ps[k] = in->shape[i];
            pst[k] = in->strides[i];
            if (red) inner *= in->shape[i];
            else outer *= in->shape[i];
            k++;
        }
    int ond = out_shape(in->shape, nd, mask, keepdim, os);
    mt_device dev = in->storage->device;
    mt_tensor *view = mt_alias(in, ps, pst, nd, in->offset);
    if (!view) return NULL;
    /* (not for float16/bfloat16: the row adds would round every partial sum into the dtype; their reduce kernel
       accumulates in float32) */
    if (!mt_is_contiguous(view) && (op == MT_RED_SUM || op == MT_RED_MEAN) && in->dtype != MT_BOOL &&
        !mt_is_narrow(in->dtype) && mt_is_contiguous(in) && outer * inner > 0) {
        /* the innermost non-trivial dim is kept (else the view would be contiguous): a column sum */
        int last = nd - 1;
        while (last > 0 && in->shape[last] == 1) last--;
        int64_t c = 1;
        for (int i = nd - 1; i >= 0 && !((mask >> i) & 1u && in->shape[i] > 1); i--) c *= in->shape[i];
        /* one elementwise add per reduced row beats a transposing copy on the CPU from ~128 elements
           per add (on a GPU the launches would cost more than the copy) */
        if (c >= 16 && outer >= 128 && !((mask >> last) & 1u) && in->storage->device.type == MT_CPU) {
            mt_decref(view);
            mt_tensor *r = sum_by_rows(in, mask, op == MT_RED_MEAN ? 1.0 / (double)inner : 1.0);
            if (!r) return NULL;
            mt_contiguous_strides(os, ond, cs);
            mt_tensor *out = mt_alias(r, os, cs, ond, r->offset);
            mt_decref(r);
            return out;
        }
    }
    mt_tensor *src = contiguous_tiled(view);
    mt_decref(view);
    if (!src) return NULL;
    mt_tensor *out = mt_empty(os, ond, od, dev);
    mt_tensor *ix = idx ? mt_empty(os, ond, MT_INT64, dev) : NULL;
    if (!out || (idx && !ix)) goto fail;
    if (outer > 0) {
        mt_reduce_args r = {op, outer, inner, p};
        if (mt_backend_of(src)->reduce(&r, out, ix, src) < 0) goto fail;
    }
    mt_decref(src);
    if (idx) *idx = ix;
    return out;
fail:
    mt_decref(src);
    mt_decref(out);
    mt_decref(ix);
    return NULL;
}

/* Reduced dims that are broadcast (stride 0, e.g. an expanded gradient) are never read more
 * than once: max/min/all/any/mean over them are the value itself, a sum is the value times
 * their size. */
static mt_tensor *reduce_raw(int op, const mt_tensor *in, uint32_t mask, bool keepdim, double p, mt_dtype od,
                             mt_tensor **idx) {
    bool idem = op == MT_RED_MEAN || op == MT_RED_MAX || op == MT_RED_MIN || op == MT_RED_ALL || op == MT_RED_ANY;
    if (idx || (op != MT_RED_SUM && !idem) || mt_numel(in) == 0)
        return reduce_strided(op, in, mask, keepdim, p, od, idx);
    int64_t sh[MT_MAX_DIMS], factor = 1;
    bool any = false;
    for (int i = 0; i < in->ndim; i++) {
        sh[i] = in->shape[i];
        if (((mask >> i) & 1u) && in->strides[i] == 0 && in->shape[i] > 1) {
            factor *= in->shape[i];
            sh[i] = 1;
            any = true;
        }
    }
    if (!any) return reduce_strided(op, in, mask, keepdim, p, od, idx);
    mt_tensor *v = mt_alias(in, sh, in->strides, in->ndim, in->offset);
    mt_tensor *r = v ? reduce_strided(op, v, mask, keepdim, p, od, NULL) : NULL;
    mt_decref(v);
    if (!r || op != MT_RED_SUM) return r;
    mt_tensor *out = mt_binary_s(MT_B_MUL, r, mt_is_floating(r->dtype) ? mt_sf((double)factor) : mt_si(factor), false);
    mt_decref(r);
    return out;
}

static const char *red_name(int op, bool all) {
    switch (op) {
    case MT_RED_MAX: return all ? "max" : "amax";
    case MT_RED_MIN: return all ? "min" : "amin";
    case MT_RED_ARGMAX: return "argmax";
    case MT_RED_ARGMIN: return "argmin";
    default: return "reduce";
    }
}

/* Dtype rules, empty-input checks and the forward; no autograd. */
static mt_tensor *reduce_forward(int op, mt_tensor *a, const red_plan *pl, bool keepdim, double p, int dtype_or_neg) {
    mt_dtype in_dt = a->dtype, ct = in_dt, od = in_dt, pre = in_dt;
    bool has_dtype = dtype_or_neg >= 0 && dtype_or_neg < MT_NUM_DTYPES;
    mt_dtype want = has_dtype ? (mt_dtype)dtype_or_neg : in_dt;
    switch (op) {
    case MT_RED_SUM: case MT_RED_PROD:
        od = has_dtype ? want : (mt_is_floating(in_dt) ? in_dt : MT_INT64);
        pre = od;                              /* sum(dtype=...) converts the input first */
        ct = od == MT_BOOL ? MT_INT64 : od;    /* a bool result is computed as int64, then converted */
        break;
    case MT_RED_MEAN:
        if (has_dtype && !mt_is_floating(want))
            return mt_error(MT_ERR_RUNTIME, "mean(): could not infer output dtype. Optional dtype must be either a "
                                            "floating point or complex dtype. Got: %s", type_name(want));
        if (!has_dtype && !mt_is_floating(in_dt))
            return mt_error(MT_ERR_RUNTIME, "mean(): could not infer output dtype. Input dtype must be either a "
                                            "floating point or complex dtype. Got: %s", type_name(in_dt));
        pre = ct = od = want;
        break;
    case MT_RED_MAX: case MT_RED_MIN: case MT_RED_ARGMAX: case MT_RED_ARGMIN: {
        bool arg = op == MT_RED_ARGMAX || op == MT_RED_ARGMIN;
        const char *nm = red_name(op, pl->all);
        if (arg && in_dt == MT_BOOL) return mt_error(MT_ERR_RUNTIME, "%s(): does not support bool input", nm);
        if (mt_numel(a) == 0) {
            if (pl->all) {
                if (arg)
                    return mt_error(MT_ERR_INDEX,
                                    "%s(): Expected reduction dim to be specified for input.numel() == 0.", nm);
                return mt_error(MT_ERR_RUNTIME, "%s(): Expected reduction dim to be specified for input.numel() == 0. "
                                                "Specify the reduction dim with the 'dim' argument.", nm);
            }
            for (int i = 0; i < a->ndim; i++)
                if ((pl->mask & (1u << i)) && a->shape[i] == 0)
                    return mt_error(MT_ERR_INDEX, "%s(): Expected reduction dim %d to have non-zero size.", nm, i);
        }
        od = arg ? MT_INT64 : in_dt;
        break;
    }
    case MT_RED_ALL: case MT_RED_ANY:
        od = in_dt == MT_UINT8 ? MT_UINT8 : MT_BOOL; /* torch keeps uint8 (a legacy of uint8 masks) */
        break;
    case MT_RED_VAR:
        if (!mt_is_floating(in_dt))
            return mt_error(MT_ERR_RUNTIME, "std and var only support floating point and complex dtypes");
        break;
    case MT_RED_LOGSUMEXP:
        if (!mt_is_floating(in_dt)) pre = ct = od = MT_FLOAT32;
        break;
    case MT_RED_NORM:
        if (!mt_is_floating(in_dt))
            return mt_error(MT_ERR_RUNTIME, "linalg.vector_norm: Expected a floating point or complex tensor as input. "
                                            "Got %s", type_name(in_dt));
        if (has_dtype) {
            if (!mt_is_floating(want))
                return mt_error(MT_ERR_RUNTIME, "linalg.vector_norm: dtype should be floating point or complex, but "
                                                "got %s", type_name(want));
            pre = ct = od = want;
        }
        if (isinf(p) && pl->count == 0) {
            for (int i = 0; i < a->ndim && !pl->all; i++)
                if ((pl->mask & (1u << i)) && a->shape[i] == 0)
                    return mt_error(MT_ERR_RUNTIME, "linalg.vector_norm cannot compute the %s norm on the dimension %d "
                                                    "because this dimension is empty and the operation does not have "
                                                    "an identity", p > 0 ? "inf" : "-inf", i);
            return mt_error(MT_ERR_RUNTIME, "linalg.vector_norm cannot compute the %s norm on an empty tensor because "
                                            "the operation does not have an identity", p > 0 ? "inf" : "-inf");
        }
        break;
    default:
        return mt_error(MT_ERR_RUNTIME, "unknown reduction %d", op);
    }
    mt_tensor *t0 = mt_cast(a, pre);
    mt_tensor *in = t0 ? mt_cast(t0, ct) : NULL;
    mt_decref(t0);
    if (!in) return NULL;
    /* the kernel writes bool for all/any, int64 for argmax/argmin, else its input dtype */
    bool own_out = op == MT_RED_ALL || op == MT_RED_ANY || op == MT_RED_ARGMAX || op == MT_RED_ARGMIN;
    mt_tensor *out = reduce_raw(op, in, pl->mask, keepdim, p, own_out ? (od == MT_UINT8 ? MT_BOOL : od) : ct, NULL);
    mt_decref(in);
    if (out && out->dtype != od) {
        mt_tensor *c = mt_cast(out, od);
        mt_decref(out);
        out = c;
    }
    return out;
}

/* ====================== derivatives ====================== */
/* iargs: [0] op, [1] keepdim, [2] mask, [3] all dims; scalar.f: p / correction; meta 0: the input */
static mt_tensor *keep_shape(mt_node *n, mt_tensor *g) {
    if (n->iargs[1]) return mt_incref(g);
    int64_t s[MT_MAX_DIMS];
    int nd = n->meta_ndim[0];
    for (int i = 0; i < nd; i++) s[i] = (n->iargs[2] >> i) & 1 ? 1 : n->meta_shape[0][i];
    return mt_reshape(g, s, nd);
}
static mt_tensor *expand_in(mt_node *n, mt_tensor *gk) { return mt_expand(gk, n->meta_shape[0], n->meta_ndim[0]); }
static int64_t red_count(mt_node *n) {
    int64_t c = 1;
    for (int i = 0; i < n->meta_ndim[0]; i++)
        if ((n->iargs[2] >> i) & 1) c *= n->meta_shape[0][i];
    return c;
}
/* the same reduction over the node's dims, keepdim (no autograd: runs in backward) */
static mt_tensor *red_keep(mt_node *n, int op, mt_tensor *t, double p) {
    int64_t dims[MT_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < n->meta_ndim[0]; i++)
        if ((n->iargs[2] >> i) & 1) dims[nd++] = i;
    return mt_reduce(op, t, dims, nd, true, p, -1);
}
static mt_tensor *scalar_like(mt_tensor *t, double v) {
    return mt_scalar_tensor(mt_sf(v), t->dtype, t->storage->device);
}
/* where(cond, 0, t) */
static mt_tensor *zero_where(mt_tensor *cond, mt_tensor *t) {
    if (!cond || !t) return NULL;
    return mt_where(cond, P(scalar_like(t, 0.0)), t);
}
/* the gradient of max/min/amax/amin and of the inf-norm: split evenly among the positions in `mask` */
static mt_tensor *evenly(mt_node *n, mt_tensor *gk, mt_tensor *mask) {
    if (!gk || !mask) return NULL;
    mt_tensor *mf = P(mt_to_dtype(mask, gk->dtype));
    mt_tensor *cnt = P(red_keep(n, MT_RED_SUM, mf, 0));
    return mt_mul(P(mt_div(gk, cnt)), mf);
}

static int reduce_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    int op = (int)n->iargs[0];
    double p = n->scalar.f;
    mt_tensor *g = go[0], *r = NULL, *x = NULL, *y = NULL;
    for (int k = 0; k < n->n_saved; k++)
        if (!mt_node_saved(n, k)) return -1;
    if (n->n_saved > 0) x = n->saved[0];
    if (n->n_saved > 1) y = P(keep_shape(n, n->saved[1]));
    mt_tensor *gk = P(keep_shape(n, g));
    if (!gk || (n->n_saved > 1 && !y)) return -1;
    switch (op) {
    case MT_RED_SUM: r = expand_in(n, gk); break;
    case MT_RED_MEAN: r = expand_in(n, P(mt_muls(gk, 1.0 / (double)red_count(n)))); break;
    case MT_RED_PROD: {
        /* exact with zeros: d/dx_i = prod of the others */
        mt_tensor *zero = P(mt_binary_s(MT_B_EQ, x, mt_sf(0), false));
        if (mt_create_graph_active && zero) {
            /* the zero case's gradient below has no history of the other entries: compute it without
               history and let the engine guard it (differentiating it raises; never a wrong Hessian) */
            int anyz = mt_any_true(zero);
            if (anyz < 0) return -1;
            if (anyz) {
                mt_backward_not_differentiable();
                if (!(x = P(mt_detach(x))) || !(gk = P(mt_detach(gk)))) return -1;
                zero = P(mt_binary_s(MT_B_EQ, x, mt_sf(0), false));
            }
        }
        mt_tensor *xnz = P(mt_where(zero, P(scalar_like(x, 1.0)), x));
        mt_tensor *pnz = P(red_keep(n, MT_RED_PROD, xnz, 0));
        mt_tensor *nz = P(red_keep(n, MT_RED_SUM, zero, 0));
        mt_tensor *r_nonzero = P(zero_where(P(mt_binary_s(MT_B_NE, nz, mt_si(0), false)), P(mt_div(pnz, xnz))));
        mt_tensor *r_zero = P(zero_where(P(mt_binary_s(MT_B_NE, nz, mt_si(1), false)), pnz));
        mt_tensor *f = P(mt_where(zero, r_zero, r_nonzero));
        r = mt_mul(gk, f);
        break;
    }
    case MT_RED_MAX: case MT_RED_MIN: {
        mt_tensor *eq = P(mt_binary(MT_B_EQ, x, y));
        mt_tensor *nan = P(mt_binary(MT_B_LOGICAL_AND, P(mt_unary(MT_U_ISNAN, x)), P(mt_unary(MT_U_ISNAN, y))));
        r = evenly(n, gk, P(mt_binary(MT_B_LOGICAL_OR, eq, nan)));
        break;
    }
    case MT_RED_VAR: case -MT_RED_VAR: {
        /* -VAR: std, whose output is saved in slot 1 */
        if (op < 0) gk = P(zero_where(P(mt_binary_s(MT_B_EQ, y, mt_sf(0), false)), P(mt_div(gk, P(mt_muls(y, 2.0))))));
        mt_tensor *mean = P(red_keep(n, MT_RED_MEAN, x, 0));
        double f = 2.0 / ((double)red_count(n) - p);
        r = mt_mul(P(mt_muls(gk, f)), P(mt_sub(x, mean)));
        break;
    }
    case MT_RED_LOGSUMEXP: r = mt_mul(gk, P(mt_unary(MT_U_EXP, P(mt_sub(x, y))))); break;
    case MT_RED_NORM: {
        if (p == 0) r = mt_mul(P(mt_full_like(x, 0.0)), gk);
        else if (p == 1) r = mt_mul(gk, P(mt_unary(MT_U_SIGN, x)));
        else if (p == 2) r = mt_mul(gk, P(zero_where(P(mt_binary_s(MT_B_EQ, y, mt_sf(0), false)), P(mt_div(x, y)))));
        else if (isinf(p)) {
            mt_tensor *ax = P(mt_unary(MT_U_ABS, x));
            mt_tensor *m = P(mt_binary(MT_B_LOGICAL_OR, P(mt_binary(MT_B_EQ, ax, y)), P(mt_unary(MT_U_ISNAN, ax))));
            r = mt_mul(P(mt_unary(MT_U_SIGN, x)), P(evenly(n, gk, m)));
        } else {
            mt_tensor *ax = P(mt_unary(MT_U_ABS, x));
            mt_tensor *sgn = P(mt_unary(MT_U_SIGN, x));
            if (p < 1) {
                mt_tensor *ss = P(mt_mul(sgn, P(zero_where(P(mt_binary_s(MT_B_EQ, x, mt_sf(0), false)),
                                                            P(mt_binary_s(MT_B_POW, ax, mt_sf(p - 1), false))))));
                r = mt_mul(P(mt_mul(ss, gk)), P(mt_binary_s(MT_B_POW, y, mt_sf(1 - p), false)));
            } else {
                mt_tensor *ss = p < 2 ? P(mt_mul(sgn, P(mt_binary_s(MT_B_POW, ax, mt_sf(p - 1), false))))
                                      : P(mt_mul(x, P(mt_binary_s(MT_B_POW, ax, mt_sf(p - 2), false))));
                mt_tensor *scale = P(zero_where(P(mt_binary_s(MT_B_EQ, y, mt_sf(0), false)),
                                                P(mt_div(gk, P(mt_binary_s(MT_B_POW, y, mt_sf(p - 1), false))))));
                r = mt_mul(ss, scale);
            }
        }
        break;
    }
    default: mt_error(MT_ERR_RUNTIME, "reduce backward: unexpected op %d", op); return -1;
    }
    if (!r) return -1;
    gi[0] = mt_node_grad_for(n, 0, r);
    return gi[0] ? 0 : -1;
}

static const mt_node_vt sum0_vt = {"SumBackward0", reduce_backward, NULL, true};
static const mt_node_vt sum1_vt = {"SumBackward1", reduce_backward, NULL, true};
static const mt_node_vt mean0_vt = {"MeanBackward0", reduce_backward, NULL, true};
static const mt_node_vt mean1_vt = {"MeanBackward1", reduce_backward, NULL, true};
static const mt_node_vt prod0_vt = {"ProdBackward0", reduce_backward, NULL, true};
static const mt_node_vt prod1_vt = {"ProdBackward1", reduce_backward, NULL, true};
static const mt_node_vt max1_vt = {"MaxBackward1", reduce_backward, NULL, true};
static const mt_node_vt min1_vt = {"MinBackward1", reduce_backward, NULL, true};
static const mt_node_vt amax_vt = {"AmaxBackward0", reduce_backward, NULL, true};
static const mt_node_vt amin_vt = {"AminBackward0", reduce_backward, NULL, true};
static const mt_node_vt var_vt = {"VarBackward0", reduce_backward, NULL, true};
static const mt_node_vt std_vt = {"StdBackward0", reduce_backward, NULL, true};
static const mt_node_vt lse_vt = {"LogsumexpBackward0", reduce_backward, NULL, true};
static const mt_node_vt norm_vt = {"LinalgVectorNormBackward0", reduce_backward, NULL, true};

static const mt_node_vt *reduce_vt(int op, bool all) {
    switch (op) {
    case MT_RED_SUM: return all ? &sum0_vt : &sum1_vt;
    case MT_RED_MEAN: return all ? &mean0_vt : &mean1_vt;
    case MT_RED_PROD: return all ? &prod0_vt : &prod1_vt;
    case MT_RED_MAX: return all ? &max1_vt : &amax_vt;
    case MT_RED_MIN: return all ? &min1_vt : &amin_vt;
    case MT_RED_VAR: return &var_vt;
    case -MT_RED_VAR: return &std_vt;
    case MT_RED_LOGSUMEXP: return &lse_vt;
    case MT_RED_NORM: return &norm_vt;
    default: return NULL;
    }
}

/* op < 0: -MT_RED_VAR stands for std */
static void reduce_record(int op, mt_tensor *a, mt_tensor *out, const red_plan *pl, bool keepdim, double p) {
    const mt_node_vt *vt = reduce_vt(op, pl->all);
    if (!vt || !mt_is_floating(out->dtype)) return;
    mt_node *n = mt_autograd_record(vt, out, 1, &a);
    if (!n) return;
    n->iargs[0] = op;
    n->iargs[1] = keepdim;
    n->iargs[2] = pl->mask;
    n->iargs[3] = pl->all;
    n->n_iargs = 4;
    n->scalar = mt_sf(p);
    mt_node_set_meta(n, 0, a);
    switch (op) {
    case MT_RED_PROD: case MT_RED_VAR: case -MT_RED_VAR:
        mt_node_save(n, 0, a, false);
        if (op < 0) mt_node_save(n, 1, out, true);
        break;
    case MT_RED_MAX: case MT_RED_MIN: case MT_RED_LOGSUMEXP: case MT_RED_NORM:
        mt_node_save(n, 0, a, false);
        mt_node_save(n, 1, out, true);
        break;
    default: break;
    }
}

/* ====================== public reductions ====================== */
mt_tensor *mt_reduce(int op, mt_tensor *a, const int64_t *dims, int ndims, bool keepdim, double p, int dtype_or_neg) {
    if (!a) return NULL;
    red_plan pl;
    if (make_plan(a, dims, ndims, &pl) < 0) return NULL;
    mt_tensor *out = reduce_forward(op, a, &pl, keepdim, p, dtype_or_neg);
    if (!out) return NULL;
    reduce_record(op, a, out, &pl, keepdim, p);
    return out;
}

int mt_any_true(mt_tensor *t) {
    mt_tensor *a = mt_reduce(MT_RED_ANY, t, NULL, 0, false, 0, -1);
    mt_tensor *c = a ? mt_to_device_raw(a, mt_cpu(), MT_BOOL) : NULL;
    mt_decref(a);
    if (!c) return -1;
    int r = *(const bool *)mt_data(c) ? 1 : 0;
    mt_decref(c);
    return r;
}

mt_tensor *mt_sum(mt_tensor *a) { return mt_reduce(MT_RED_SUM, a, NULL, 0, false, 0, -1); }

mt_tensor *mt_var(mt_tensor *a, const int64_t *dims, int ndims, bool keepdim, double correction) {
    return mt_reduce(MT_RED_VAR, a, dims, ndims, keepdim, correction, -1);
}

mt_tensor *mt_std(mt_tensor *a, const int64_t *dims, int ndims, bool keepdim, double correction) {
    if (!a) return NULL;
    red_plan pl;
    if (make_plan(a, dims, ndims, &pl) < 0) return NULL;
    mt_tensor *v = reduce_forward(MT_RED_VAR, a, &pl, keepdim, correction, -1);
    if (!v) return NULL;
    mt_tensor *out = mt_empty_like(v);
    if (out && mt_backend_of(v)->unary(MT_U_SQRT, out, v, NULL) < 0) { mt_decref(out); out = NULL; }
    mt_decref(v);
    if (!out) return NULL;
    reduce_record(-MT_RED_VAR, a, out, &pl, keepdim, correction);
    return out;
}

/* ====================== max / min along a dim ====================== */
static int max_dim_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    mt_tensor *idx = mt_node_saved(n, 0);
    if (!idx) return -1;
    mt_tensor *g = go[0];
    int nd = n->meta_ndim[0];
    if (nd == 0) { gi[0] = mt_node_grad_for(n, 0, mt_incref(g)); return gi[0] ? 0 : -1; }
    int64_t dim = n->iargs[0];
    mt_tensor *gk = g, *ik = idx;
    if (!n->iargs[1]) {
        gk = P(mt_unsqueeze(g, dim));
        ik = P(mt_unsqueeze(idx, dim));
        if (!gk || !ik) return -1;
    }
    mt_tensor *z = P(mt_zeros(n->meta_shape[0], nd, g->dtype, g->storage->device));
    gi[0] = mt_node_grad_for(n, 0, mt_scatter(z, dim, ik, gk, NULL, false, false));
    return gi[0] ? 0 : -1;
}
static const mt_node_vt max0_vt = {"MaxBackward0", max_dim_backward, NULL, true};
static const mt_node_vt min0_vt = {"MinBackward0", max_dim_backward, NULL, true};

int mt_max_dim(mt_tensor *a, int64_t dim, bool keepdim, bool is_min, mt_tensor **values, mt_tensor **indices) {
    *values = *indices = NULL;
    if (!a) return -1;
    int d = mt_wrap_dim(dim, a->ndim);
    if (d < 0) return -1;
    if (a->ndim > 0 && a->shape[d] == 0) {
        mt_error(MT_ERR_INDEX, "%s(): Expected reduction dim %d to have non-zero size.", is_min ? "min" : "max", d);
        return -1;
    }
    uint32_t mask = a->ndim ? 1u << d : 0;
    mt_tensor *idx = NULL;
    mt_tensor *v = reduce_raw(is_min ? MT_RED_MIN : MT_RED_MAX, a, mask, keepdim, 0, a->dtype, &idx);
    if (!v) return -1;
    if (mt_is_floating(v->dtype)) {
        mt_node *n = mt_autograd_record(is_min ? &min0_vt : &max0_vt, v, 1, &a);
        if (n) {
            n->iargs[0] = d;
            n->iargs[1] = keepdim;
            n->n_iargs = 2;
            mt_node_set_meta(n, 0, a);
            mt_node_save(n, 0, idx, false);
        }
    }
    *values = v;
    *indices = idx;
    return 0;
}

/* ====================== softmax ====================== */
/* t with dim d moved last, contiguous (new ref); back = true undoes it */
static mt_tensor *move_dim(const mt_tensor *t, int d, bool back) {
    int nd = t->ndim;
    if (nd <= 1 || d == nd - 1) return mt_contiguous(t);
    int64_t s[MT_MAX_DIMS], st[MT_MAX_DIMS];
    int k = 0;
    if (!back) {
        for (int i = 0; i < nd; i++)
            if (i != d) { s[k] = t->shape[i]; st[k] = t->strides[i]; k++; }
        s[k] = t->shape[d];
        st[k] = t->strides[d];
    } else {
        /* t is laid out [..., d moved last]: put its last dim back at position d */
        for (int i = 0; i < nd; i++) {
            int src = i < d ? i : i == d ? nd - 1 : i - 1;
            s[i] = t->shape[src];
            st[i] = t->strides[src];
        }
    }
    mt_tensor *v = mt_alias(t, s, st, nd, t->offset);
    mt_tensor *c = contiguous_tiled(v);
    mt_decref(v);
    return c;
}

/* y = softmax(x) or gin = softmax_backward(g, y) along d; x/g and y already float */
static mt_tensor *softmax_apply(const mt_tensor *x, const mt_tensor *y, int d, bool log, bool backward) {
    int64_t n = mt_numel(x);
    int64_t inner = x->ndim ? x->shape[d] : 1;
    mt_tensor *xs = move_dim(x, d, false);
    mt_tensor *ys = backward ? move_dim(y, d, false) : NULL;
    mt_tensor *o = xs ? mt_empty(xs->shape, xs->ndim, xs->dtype, xs->storage->device) : NULL;
    int rc = -1;
    if (o && (!backward || ys)) {
        if (n == 0) rc = 0;
        else if (backward) rc = mt_backend_of(xs)->softmax_backward(o, xs, ys, n / inner, inner, log);
        else rc = mt_backend_of(xs)->softmax(o, xs, n / inner, inner, log);
    }
    mt_decref(xs);
    mt_decref(ys);
    if (rc < 0) { mt_decref(o); return NULL; }
    mt_tensor *r = move_dim(o, d, true);
    mt_decref(o);
    return r;
}

static int softmax_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    mt_tensor *y = mt_node_saved(n, 0);
    if (!y) return -1;
    mt_tensor *g = P(mt_cast(go[0], y->dtype));
    if (!g) return -1;
    int64_t d = n->iargs[0];
    if (mt_create_graph_active && y->ndim > 0) {
        /* the same formulas as recorded ops, so that they are differentiated in turn:
           softmax: y (g - sum(g y)); log_softmax: g - exp(y) sum(g) */
        if (n->iargs[1]) gi[0] = mt_sub(g, P(mt_mul(P(mt_unary(MT_U_EXP, y)), P(mt_reduce(MT_RED_SUM, g, &d, 1, true, 0, -1)))));
        else gi[0] = mt_mul(y, P(mt_sub(g, P(mt_reduce(MT_RED_SUM, P(mt_mul(g, y)), &d, 1, true, 0, -1)))));
        return gi[0] ? 0 : -1;
    }
    gi[0] = softmax_apply(g, y, (int)d, n->iargs[1] != 0, true);
    return gi[0] ? 0 : -1;
}
static const mt_node_vt softmax_vt = {"SoftmaxBackward0", softmax_backward, NULL, true};
static const mt_node_vt log_softmax_vt = {"LogSoftmaxBackward0", softmax_backward, NULL, true};

mt_tensor *mt_softmax(mt_tensor *a, int64_t dim, bool log) {
    if (!a) return NULL;
    int d = mt_wrap_dim(dim, a->ndim);
    if (d < 0) return NULL;
    if (!mt_is_floating(a->dtype))
        return mt_error(MT_ERR_NOTIMPL, "\"%s%s_kernel_impl\" not implemented for '%s'",
                        log ? "log_softmax" : "softmax", a->ndim == 0 || d == a->ndim - 1 ? "_lastdim" : "",
                        type_name(a->dtype));
    mt_tensor *out = softmax_apply(a, NULL, d, log, false);
    if (!out) return NULL;
    mt_node *n = mt_autograd_record(log ? &log_softmax_vt : &softmax_vt, out, 1, &a);
    if (n) {
        n->iargs[0] = d;
        n->iargs[1] = log;
        n->n_iargs = 2;
        mt_node_save(n, 0, out, true);
    }
    return out;
}

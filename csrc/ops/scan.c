/* Scans along a dim (cumsum, cumprod, cummax, cummin, logcumsumexp) and the triangles (tril, triu,
 * tril_indices, triu_indices): PyTorch's dtype rules and errors, and derivatives written with ops.
 * The kernels live in the device backends (scan_cpu.c); a device without them raises
 * NotImplementedError naming the op.
 *
 * A scan hands its kernel the input made contiguous (and cast to the result dtype) as
 * [outer, n, inner]. Derivatives (PyTorch's formulas, FunctionsManual.cpp):
 *   cumsum:       reversed cumsum of the gradient (the kernel's reverse scan)
 *   cumprod:      reversed_cumsum(y * g) / x without zeros in x; with zeros, the O(n) masked form:
 *                 before the first zero of a slice the same formula, at the first zero
 *                 prod(x before it) * sum_{j in [z1, z2)} g_j prod_{z1 < i <= j} x_i, after it 0
 *   cummax/min:   the gradient scatter-added to the indices
 *   logcumsumexp: exp(reversed_logcumsumexp(log|g| - y) + x), split by the sign of g
 *
 * Ownership: every function returns a new reference (or NULL with the error set); tensor
 * arguments are borrowed and may be NULL. */
#include "ops.h"
#include "../autograd/autograd.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define P mt_pool

static const char *const scan_names[] = {"cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"};

/* torch's lower-case dtype names of its "Bad in-place call" message */
static const char *c_name(mt_dtype d) { return mt_cpp_type_name(d); }

static int no_kernel(const mt_tensor *a, const char *op) {
    char dev[32];
    mt_device_str(a->storage->device, dev, sizeof dev);
    mt_error(MT_ERR_NOTIMPL, "%s: %s tensors are not supported yet (minitorch has no %s kernel for %s)", op,
             a->storage->device.type == MT_CUDA ? "CUDA" : dev, a->storage->device.type == MT_CUDA ? "CUDA" : dev, op);
    return -1;
}

/* [outer, n, inner] of t around dim d (a 0-d tensor is one element) */
static void split_at(const mt_tensor *t, int d, int64_t *outer, int64_t *n, int64_t *inner) {
    *outer = *inner = *n = 1;
    if (t->ndim == 0) return;
    for (int i = 0; i < d; i++) *outer *= t->shape[i];
    *n = t->shape[d];
    for (int i = d + 1; i < t->ndim; i++) *inner *= t->shape[i];
}

/* op along d of x (any layout, already the result dtype), no autograd. idx: int64 indices (max/min). */
static mt_tensor *scan_raw(int op, const mt_tensor *x, int d, bool reverse, mt_tensor **idx) {
    if (!x) return NULL;
    mt_backend *be = mt_backend_of(x);
    if (!be->scan) return no_kernel(x, scan_names[op]), NULL;
    mt_tensor *xc = mt_contiguous(x);
    if (!xc) return NULL;
    mt_tensor *out = mt_empty(x->shape, x->ndim, x->dtype, x->storage->device);
    mt_tensor *ix = idx ? mt_empty(x->shape, x->ndim, MT_INT64, x->storage->device) : NULL;
    int rc = -1;
    if (out && (!idx || ix)) {
        int64_t outer, n, inner;
        split_at(x, d, &outer, &n, &inner);
        if (mt_numel(x) == 0) rc = 0;
        else if (x->ndim == 0 && (op == MT_SCAN_SUM || op == MT_SCAN_PROD)) rc = mt_copy_into(out, xc); /* any dtype */
        else rc = be->scan(op, out, ix, xc, outer, n, inner, reverse);
    }
    mt_decref(xc);
    if (rc < 0) {
        mt_decref(out);
        mt_decref(ix);
        return NULL;
    }
    if (idx) *idx = ix;
    return out;
}

/* ---------------- derivatives ---------------- */
/* saved: none (cumsum); 0 input in the result dtype, 1 result (cumprod, logcumsumexp). iargs[0]: dim */
/* cumsum's gradient (a reversed cumsum) is linear in g: its own derivative is the cumsum of gg */
static int cumsum_grad_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    gi[0] = mt_cumulative(MT_SCAN_SUM, go[0], n->iargs[0], -1, false);
    return gi[0] ? 0 : -1;
}
static const mt_node_vt cumsum_grad_vt = {"CumsumBackwardBackward0", cumsum_grad_backward, NULL, true};

static int cumsum_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    if (!go[0]) return 0;
    mt_tensor *r = scan_raw(MT_SCAN_SUM, go[0], (int)n->iargs[0], true, NULL);
    if (r && mt_create_graph_active && go[0]->requires_grad) {
        mt_node *q = mt_autograd_record(&cumsum_grad_vt, r, 1, &go[0]);
        if (q) q->iargs[0] = n->iargs[0];
    }
    gi[0] = mt_node_grad_for(n, 0, r);
    return gi[0] ? 0 : -1;
}

static mt_tensor *scalar_like(const mt_tensor *t, double v) {
    return P(mt_scalar_tensor(mt_sf(v), t->dtype, t->storage->device));
}

static mt_tensor *cumprod_grad(mt_tensor *g, mt_tensor *x, mt_tensor *y, int d) {
    int64_t outer, len, inner;
    split_at(x, d, &outer, &len, &inner);
    if (mt_numel(x) <= 1 || len == 1) return mt_incref(g);
    mt_tensor *w = P(mt_mul(y, g));
    mt_tensor *zero = scalar_like(x, 0), *one = scalar_like(x, 1);
    mt_tensor *is_zero = P(mt_binary_s(MT_B_EQ, x, mt_sf(0), false));
    int any = is_zero ? mt_any_true(is_zero) : -1;
    if (any < 0 || !w || !zero || !one) return NULL;
    if (!any) return mt_div(P(scan_raw(MT_SCAN_SUM, w, d, true, NULL)), x);
    /* cz: zeros seen so far; [0, z1) is cz == 0, [z1, z2) is cz == 1, z1 is where that meets is_zero */
    mt_tensor *zi = P(mt_cast(is_zero, MT_INT64));
    mt_tensor *cz = P(scan_raw(MT_SCAN_SUM, zi, d, false, NULL));
    mt_tensor *mask0 = P(mt_binary_s(MT_B_EQ, cz, mt_si(0), false));
    mt_tensor *mask1 = P(mt_binary_s(MT_B_EQ, cz, mt_si(1), false));
    mt_tensor *first = P(mt_binary(MT_B_LOGICAL_AND, mask1, is_zero));
    /* before the first zero */
    mt_tensor *before = P(mt_div(P(scan_raw(MT_SCAN_SUM, P(mt_where(mask0, w, zero)), d, true, NULL)),
                                 P(mt_where(mask0, x, one))));
    /* at the first zero: cumprod of x with that zero set to one, summed over [z1, z2) against g */
    mt_tensor *pk = P(scan_raw(MT_SCAN_PROD, P(mt_where(first, one, x)), d, false, NULL));
    int64_t dd = d;
    mt_tensor *at = P(mt_reduce(MT_RED_SUM, P(mt_where(mask1, P(mt_mul(g, pk)), zero)), &dd, 1, true, 0, -1));
    return mt_where(first, at, P(mt_where(mask0, before, zero)));
}

static int cumprod_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    if (!go[0]) return 0;
    mt_tensor *x = mt_node_saved(n, 0), *y = mt_node_saved(n, 1);
    if (!x || !y) return -1;
    mt_tensor *g = P(mt_cast(go[0], y->dtype));
    gi[0] = mt_node_grad_for(n, 0, cumprod_grad(g, x, y, (int)n->iargs[0]));
    return gi[0] ? 0 : -1;
}

static int lcse_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    if (!go[0]) return 0;
    mt_tensor *x = mt_node_saved(n, 0), *y = mt_node_saved(n, 1);
    if (!x || !y) return -1;
    mt_tensor *g = P(mt_cast(go[0], y->dtype));
    if (!g) return -1;
    if (g->ndim == 0 || mt_numel(g) == 0) {
        gi[0] = mt_node_grad_for(n, 0, mt_incref(g));
        return gi[0] ? 0 : -1;
    }
    int d = (int)n->iargs[0];
    mt_tensor *lowest = scalar_like(g, -mt_float_max(g->dtype));
    mt_tensor *log_abs = P(mt_unary(MT_U_LOG, P(mt_unary(MT_U_ABS, g))));
    mt_tensor *lpos = P(mt_where(P(mt_binary_s(MT_B_GT, g, mt_sf(0), false)), log_abs, lowest));
    mt_tensor *lneg = P(mt_where(P(mt_binary_s(MT_B_LT, g, mt_sf(0), false)), log_abs, lowest));
    mt_tensor *opos = P(mt_unary(MT_U_EXP, P(mt_add(P(scan_raw(MT_SCAN_LOGSUMEXP, P(mt_sub(lpos, y)), d, true, NULL)), x))));
    mt_tensor *oneg = P(mt_unary(MT_U_EXP, P(mt_add(P(scan_raw(MT_SCAN_LOGSUMEXP, P(mt_sub(lneg, y)), d, true, NULL)), x))));
    gi[0] = mt_node_grad_for(n, 0, mt_sub(opos, oneg));
    return gi[0] ? 0 : -1;
}

/* saved: 0 indices; iargs[0]: dim */
static int cummaxmin_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    if (!go[0]) return 0;
    mt_tensor *idx = mt_node_saved(n, 0);
    if (!idx) return -1;
    mt_tensor *g = go[0];
    if (n->meta_ndim[0] == 0) {
        gi[0] = mt_node_grad_for(n, 0, mt_incref(g));
        return gi[0] ? 0 : -1;
    }
    mt_tensor *z = P(mt_zeros(n->meta_shape[0], n->meta_ndim[0], g->dtype, g->storage->device));
    gi[0] = mt_node_grad_for(n, 0, mt_scatter(z, n->iargs[0], idx, g, NULL, false, true));
    return gi[0] ? 0 : -1;
}

static const mt_node_vt cumsum_vt = {"CumsumBackward0", cumsum_backward, NULL, true};
static const mt_node_vt cumprod_vt = {"CumprodBackward0", cumprod_backward, NULL};
static const mt_node_vt lcse_vt = {"LogcumsumexpBackward0", lcse_backward, NULL};
static const mt_node_vt cummax_vt = {"CummaxBackward0", cummaxmin_backward, NULL};
static const mt_node_vt cummin_vt = {"CumminBackward0", cummaxmin_backward, NULL};

/* ---------------- forward ---------------- */
mt_tensor *mt_cumulative(int op, mt_tensor *a, int64_t dim, int dtype_or_neg, bool inplace) {
    if (!a) return NULL;
    if (op != MT_SCAN_SUM && op != MT_SCAN_PROD && op != MT_SCAN_LOGSUMEXP)
        return mt_error(MT_ERR_VALUE, "mt_cumulative: op %d is not cumsum, cumprod or logcumsumexp", op);
    const char *name = scan_names[op];
    int d = mt_wrap_dim(dim, a->ndim);
    if (d < 0) return NULL;
    if (dtype_or_neg >= MT_NUM_DTYPES) return mt_error(MT_ERR_VALUE, "%s: invalid dtype", name);
    mt_dtype rd = dtype_or_neg >= 0 ? (mt_dtype)dtype_or_neg
                  : op != MT_SCAN_LOGSUMEXP && !inplace && !mt_is_floating(a->dtype) ? MT_INT64
                                                                                     : a->dtype;
    if (inplace && rd != a->dtype)
        return mt_error(MT_ERR_RUNTIME, "Bad in-place call: input tensor dtype %s and output tensor dtype %s should match",
                        c_name(a->dtype), c_name(rd));
    if (!mt_backend_of(a)->scan) return no_kernel(a, name), NULL;
    static const char *const kernels[] = {"cumsum_out_cpu", "cumprod_out_cpu", "", "", "logcumsumexp_out_cpu"};
    /* torch copies a 0-d or empty input without asking the bool kernel (logcumsumexp checks first) */
    if ((op == MT_SCAN_LOGSUMEXP && !mt_is_floating(rd)) ||
        (rd == MT_BOOL && a->ndim > 0 && mt_numel(a) > 0))
        return mt_error(MT_ERR_NOTIMPL, "\"%s\" not implemented for '%s'", kernels[op], mt_type_name(rd));
    if (!mt_is_floating(rd) && mt_grad_enabled && a->requires_grad)
        return mt_error(MT_ERR_RUNTIME, "Autograd not support dtype: %s", mt_type_name(rd));
    if (inplace && mt_check_inplace(a) < 0) return NULL;

    mt_tensor *x = mt_cast(a, rd);
    mt_tensor *out = scan_raw(op, x, d, false, NULL);
    if (!out) { mt_decref(x); return NULL; }
    if (mt_is_floating(rd)) {
        mt_node *n = mt_autograd_record(op == MT_SCAN_SUM ? &cumsum_vt : op == MT_SCAN_PROD ? &cumprod_vt : &lcse_vt,
                                        out, 1, &a);
        if (n) {
            n->iargs[0] = d;
            n->n_iargs = 1;
            mt_node_set_meta(n, 0, a);
            if (op != MT_SCAN_SUM) {
                mt_node_save(n, 0, x, false);
                mt_node_save(n, 1, out, true);
            }
        }
    }
    mt_decref(x);
    return inplace ? mt_commit_inplace(a, out) : out;
}

int mt_cummaxmin(mt_tensor *a, int64_t dim, bool is_min, mt_tensor **values, mt_tensor **indices) {
    *values = *indices = NULL;
    if (!a) return -1;
    /* torch wraps the dim only for a non-empty input: an empty one accepts any dim */
    int d = mt_numel(a) == 0 ? 0 : mt_wrap_dim(dim, a->ndim);
    if (d < 0) return -1;
    mt_tensor *idx = NULL;
    mt_tensor *v = scan_raw(is_min ? MT_SCAN_MIN : MT_SCAN_MAX, a, d, false, &idx);
    if (!v) return -1;
    if (mt_is_floating(v->dtype)) {
        mt_node *n = mt_autograd_record(is_min ? &cummin_vt : &cummax_vt, v, 1, &a);
        if (n) {
            n->iargs[0] = d;
            n->n_iargs = 1;
            mt_node_set_meta(n, 0, a);
            mt_node_save(n, 0, idx, false);
        }
    }
    *values = v;
    *indices = idx;
    return 0;
}

/* ---------------- tril / triu ---------------- */
/* out = tri(x) of x's last two dims, no autograd; into: write into x itself (contiguous) */
static mt_tensor *tri_raw(mt_tensor *x, int64_t k, bool upper, bool into) {
    mt_backend *be = mt_backend_of(x);
    if (!be->tri) return no_kernel(x, upper ? "triu" : "tril"), NULL;
    int nd = x->ndim;
    int64_t rows = x->shape[nd - 2], cols = x->shape[nd - 1], batch = mt_shape_numel(x->shape, nd - 2);
    k = k < -rows ? -rows : k > cols ? cols : k; /* the same triangle, and i + k cannot overflow in the kernel */
    mt_tensor *xc = into ? mt_incref(x) : mt_contiguous(x);
    mt_tensor *out = into ? mt_incref(x) : xc ? mt_empty(x->shape, nd, x->dtype, x->storage->device) : NULL;
    int rc = out ? be->tri(out, xc, batch, rows, cols, k, upper) : -1;
    mt_decref(xc);
    if (rc < 0) { mt_decref(out); return NULL; }
    return out;
}

static int tri_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    if (!go[0]) return 0;
    gi[0] = mt_create_graph_active ? mt_tri(go[0], n->iargs[0], n->iargs[1] != 0, false)
                                   : tri_raw(go[0], n->iargs[0], n->iargs[1] != 0, false);
    return gi[0] ? 0 : -1;
}
static const mt_node_vt tril_vt = {"TrilBackward0", tri_backward, NULL, true};
static const mt_node_vt triu_vt = {"TriuBackward0", tri_backward, NULL, true};

/* torch's checkTrilTriuBatchContiguous(t, allow_zero_stride=true): whether tril_/triu_ write t directly */
static bool tri_batch_in_place(const mt_tensor *t) {
    int nd = t->ndim;
    if (mt_is_contiguous(t) || nd <= 3) return true;
    int64_t expected = t->shape[nd - 1] * t->shape[nd - 2];
    for (int i = nd - 3; i >= 0; i--) {
        if (i == 0 && (t->strides[0] == 0 || t->shape[0] == 1)) continue;
        if (expected != t->strides[i]) return false;
        expected *= t->shape[i];
    }
    return true;
}

mt_tensor *mt_tri(mt_tensor *a, int64_t diagonal, bool upper, bool inplace) {
    if (!a) return NULL;
    const char *name = upper ? "triu" : "tril";
    if (a->ndim < 2) return mt_error(MT_ERR_RUNTIME, "%s: input tensor must have at least 2 dimensions", name);
    if (!mt_backend_of(a)->tri) return no_kernel(a, name), NULL;
    /* An expanded row or column dim would get different values in one location: minitorch refuses (torch's
       result there depends on its write order). Expanded batch dims get the same matrix in each alias: torch
       writes those in place when its batch-layout rule holds, else copies back and raises the overlap error. */
    if (inplace) {
        if (mt_has_internal_overlap(a)) {
            for (int i = a->ndim - 2; i < a->ndim; i++)
                if (a->strides[i] == 0 && a->shape[i] > 1) return mt_check_inplace(a), NULL;
            if (!tri_batch_in_place(a)) return mt_check_inplace(a), NULL;
        }
        if (mt_check_inplace_leaf(a) < 0) return NULL;
    }
    if (inplace && !mt_inplace_needs_history(a, NULL) && mt_is_contiguous(a)) {
        mt_tensor *r = tri_raw(a, diagonal, upper, true);
        if (r) mt_bump_version(a);
        return r;
    }
    mt_tensor *out = tri_raw(a, diagonal, upper, false);
    if (!out) return NULL;
    mt_node *n = mt_autograd_record(upper ? &triu_vt : &tril_vt, out, 1, &a);
    if (n) {
        n->iargs[0] = diagonal;
        n->iargs[1] = upper;
        n->n_iargs = 2;
    }
    return inplace ? mt_commit_inplace(a, out) : out;
}

/* sum over i in [0, row) of clamp(i + b, 0, col), exact (128-bit) */
static __int128 sum_clamped(int64_t row, __int128 b, int64_t col) {
    __int128 lo = -b < 0 ? 0 : -b > row ? row : -b;             /* first i with i + b > 0 */
    __int128 hi = col - b < 0 ? 0 : col - b > row ? row : col - b; /* first i with i + b >= col */
    if (hi < lo) hi = lo;
    __int128 ramp = (hi - lo) * (lo + b + hi - 1 + b) / 2;
    return ramp + (row - hi) * col;
}

mt_tensor *mt_tri_indices(int64_t row, int64_t col, int64_t offset, bool upper, mt_dtype dtype) {
    const char *name = upper ? "triu_indices" : "tril_indices";
    if (dtype != MT_INT32 && dtype != MT_INT64)
        return mt_error(MT_ERR_NOTIMPL, "\"%s\" not implemented for '%s'", name, mt_type_name(dtype));
    if (row < 0) return mt_error(MT_ERR_RUNTIME, "row must be non-negative, got%lld", (long long)row);
    if (col < 0) return mt_error(MT_ERR_RUNTIME, "col must be non-negative, got%lld", (long long)col);
    /* row i keeps the columns [0, i + offset] (tril) or [i + offset, col) (triu) */
    __int128 cnt = upper ? (__int128)row * col - sum_clamped(row, offset, col) : sum_clamped(row, (__int128)offset + 1, col);
    if (cnt > ((__int128)1 << 40))
        return mt_error(MT_ERR_MEMORY, "%s: %lld x %lld with offset %lld has too many indices to allocate", name,
                        (long long)row, (long long)col, (long long)offset);
    int64_t count = (int64_t)cnt;
    int64_t shape[2] = {2, count};
    mt_tensor *out = mt_empty(shape, 2, dtype, mt_cpu());
    if (!out || count == 0) return out;
    /* only the rows that keep something: tril from i = -offset on, triu up to i < col - offset */
    int64_t i0 = 0, i1 = row;
    if (!upper && offset < 0) i0 = -(__int128)offset > row ? row : (int64_t)-offset;
    if (upper && (__int128)col - offset < row) i1 = (__int128)col - offset < 0 ? 0 : (int64_t)(col - offset);
    int64_t m = 0;
    for (int64_t i = i0; i < i1; i++) {
        __int128 lim = upper ? (__int128)i + offset : (__int128)i + offset + 1;
        int64_t s = lim < 0 ? 0 : lim > col ? col : (int64_t)lim;
        int64_t j0 = upper ? s : 0, j1 = upper ? col : s;
        for (int64_t j = j0; j < j1; j++, m++) {
            if (dtype == MT_INT64) {
                ((int64_t *)mt_data(out))[m] = i;
                ((int64_t *)mt_data(out))[count + m] = j;
            } else {
                ((int32_t *)mt_data(out))[m] = (int32_t)i;
                ((int32_t *)mt_data(out))[count + m] = (int32_t)j;
            }
        }
    }
    return out;
}

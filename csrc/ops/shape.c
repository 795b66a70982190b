/* Shape ops. Views share storage and change only shape, strides and offset;
 * cat/stack/repeat copy. Each records its derivative. */
#include "ops.h"
#include "../core/iter.h"
#include "../autograd/autograd.h"

#include <stdlib.h>
#include <string.h>

#define P mt_pool

/* A view of a with autograd: records vt with a's meta as input 0. */
static mt_tensor *make_view(mt_tensor *a, const int64_t *shape, const int64_t *strides, int ndim, int64_t offset) {
    mt_tensor *v = mt_alias(a, shape, strides, ndim, offset);
    if (!v) return NULL;
    v->base = mt_incref(a->base ? a->base : a);
    return v;
}
static mt_node *record_view(const mt_node_vt *vt, mt_tensor *out, mt_tensor *a) {
    mt_node *n = mt_autograd_record(vt, out, 1, &a);
    if (n) mt_node_set_meta(n, 0, a);
    return n;
}

/* ---------------- view / reshape ---------------- */
static int infer_shape(const int64_t *shape, int ndim, int64_t numel, int64_t *out) {
    int infer = -1;
    int64_t prod = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == -1) {
            if (infer >= 0) { mt_error(MT_ERR_RUNTIME, "only one dimension can be inferred"); return -1; }
            infer = i;
        } else if (shape[i] < 0) {
            mt_error(MT_ERR_RUNTIME, "invalid shape dimension %lld", (long long)shape[i]);
            return -1;
        } else prod *= shape[i];
        out[i] = shape[i];
    }
    if (infer >= 0) {
        if (prod == 0 || numel % prod != 0) {
            mt_error(MT_ERR_RUNTIME, "shape '%s' is invalid for input of size %lld", mt_shape_str(shape, ndim), (long long)numel);
            return -1;
        }
        out[infer] = numel / prod;
    } else if (prod != numel) {
        mt_error(MT_ERR_RUNTIME, "shape '%s' is invalid for input of size %lld", mt_shape_str(shape, ndim), (long long)numel);
        return -1;
    }
    return 0;
}

/* PyTorch's computeStride: strides for viewing (shape, stride) as newshape without a copy, or -1. */
static int compute_stride(const int64_t *os, const int64_t *ost, int od, const int64_t *ns, int nd, int64_t *nst) {
    if (od == 0) { for (int i = 0; i < nd; i++) nst[i] = 1; return 0; }
    int64_t numel = mt_shape_numel(os, od);
    if (numel == 0) {
        if (od == nd && !memcmp(os, ns, sizeof(int64_t) * od)) { memcpy(nst, ost, sizeof(int64_t) * od); return 0; }
        mt_contiguous_strides(ns, nd, nst);
        return 0;
    }
    int view_d = nd - 1;
    int64_t chunk_base_stride = ost[od - 1], tensor_numel = 1, view_numel = 1;
    for (int td = od - 1; td >= 0; td--) {
        tensor_numel *= os[td];
        if (td == 0 || (os[td - 1] != 1 && ost[td - 1] != tensor_numel * chunk_base_stride)) {
            while (view_d >= 0 && (view_numel < tensor_numel || ns[view_d] == 1)) {
                nst[view_d] = view_numel * chunk_base_stride;
                view_numel *= ns[view_d];
                view_d--;
            }
            if (view_numel != tensor_numel) return -1;
            if (td > 0) { chunk_base_stride = ost[td - 1]; tensor_numel = 1; view_numel = 1; }
        }
    }
    return view_d == -1 ? 0 : -1;
}

static int view_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    gi[0] = mt_reshape(go[0], n->meta_shape[0], n->meta_ndim[0]);
    return gi[0] ? 0 : -1;
}
static const mt_node_vt view_vt = {"ViewBackward0", view_backward, NULL, true};
static const mt_node_vt unsafe_view_vt = {"UnsafeViewBackward0", view_backward, NULL, true};

mt_tensor *mt_view(mt_tensor *a, const int64_t *shape, int ndim) {
    if (!a) return NULL;
    int64_t ns[MT_MAX_DIMS], nst[MT_MAX_DIMS];
    if (ndim > MT_MAX_DIMS) return mt_error(MT_ERR_RUNTIME, "too many dimensions");
    if (infer_shape(shape, ndim, mt_numel(a), ns) < 0) return NULL;
    if (compute_stride(a->shape, a->strides, a->ndim, ns, ndim, nst) < 0)
        return mt_error(MT_ERR_RUNTIME, "view size is not compatible with input tensor's size and stride (at least one "
                                        "dimension spans across two contiguous subspaces). Use .reshape(...) instead.");
    mt_tensor *v = make_view(a, ns, nst, ndim, a->offset);
    if (v) record_view(&view_vt, v, a);
    return v;
}

mt_tensor *mt_reshape(mt_tensor *a, const int64_t *shape, int ndim) {
    if (!a) return NULL;
    int64_t ns[MT_MAX_DIMS], nst[MT_MAX_DIMS];
    if (ndim > MT_MAX_DIMS) return mt_error(MT_ERR_RUNTIME, "too many dimensions");
    if (infer_shape(shape, ndim, mt_numel(a), ns) < 0) return NULL;
    if (compute_stride(a->shape, a->strides, a->ndim, ns, ndim, nst) == 0) return mt_view(a, ns, ndim);
    /* needs a copy: clone to contiguous (no history of its own), then a fresh tensor of the new shape */
    bool prev = mt_grad_enabled;
    mt_grad_enabled = false;
    mt_tensor *c = mt_contiguous(a);
    mt_grad_enabled = prev;
    if (!c) return NULL;
    mt_contiguous_strides(ns, ndim, nst);
    mt_tensor *v = mt_alias(c, ns, nst, ndim, c->offset);
    mt_decref(c);
    if (!v) return NULL;
    record_view(&unsafe_view_vt, v, a);
    return v;
}

/* ---------------- as_strided ---------------- */
static int as_strided_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    /* scatter-add the gradient into a zero tensor laid out like the input's storage window */
    (void)n; (void)go; (void)gi;
    mt_error(MT_ERR_NOTIMPL, "as_strided backward is not supported");
    return -1;
}
static const mt_node_vt as_strided_vt = {"AsStridedBackward0", as_strided_backward, NULL};

mt_tensor *mt_as_strided(mt_tensor *a, const int64_t *shape, const int64_t *strides, int ndim, int64_t offset) {
    if (!a) return NULL;
    int64_t hi = offset;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || strides[i] < 0) return mt_error(MT_ERR_RUNTIME, "as_strided: negative size or stride");
        if (shape[i] == 0) { hi = offset - 1; break; }
        hi += (shape[i] - 1) * strides[i];
    }
    if (offset < 0 || (hi + 1) * (int64_t)mt_dtype_sizes[a->dtype] > a->storage->nbytes)
        return mt_error(MT_ERR_RUNTIME, "setStorage: sizes %s, strides %s, storage offset %lld out of bounds for storage of size %lld",
                        mt_shape_str(shape, ndim), mt_shape_str(strides, ndim), (long long)offset,
                        (long long)(a->storage->nbytes / (int64_t)mt_dtype_sizes[a->dtype]));
    mt_tensor *v = make_view(a, shape, strides, ndim, offset);
    if (v) record_view(&as_strided_vt, v, a);
    return v;
}

/* ---------------- permute / transpose ---------------- */
static int permute_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    int64_t inv[MT_MAX_DIMS];
    for (int i = 0; i < n->meta_ndim[0]; i++) inv[n->iargs[i]] = i;
    gi[0] = mt_permute(go[0], inv, n->meta_ndim[0]);
    return gi[0] ? 0 : -1;
}
static const mt_node_vt permute_vt = {"PermuteBackward0", permute_backward, NULL, true};
static const mt_node_vt transpose_vt = {"TransposeBackward0", permute_backward, NULL, true};
static const mt_node_vt t_vt = {"TBackward0", permute_backward, NULL, true};

static mt_tensor *permute_impl(mt_tensor *a, const int64_t *dims, int ndim, const mt_node_vt *vt) {
    if (!a) return NULL;
    if (ndim != a->ndim)
        return mt_error(MT_ERR_RUNTIME, "permute(sparse_coo): number of dimensions in the tensor input does not match "
                                        "the length of the desired ordering of dimensions i.e. input.dim() = %d is not "
                                        "equal to len(dims) = %d", a->ndim, ndim);
    int64_t shape[MT_MAX_DIMS], strides[MT_MAX_DIMS], wd[MT_MAX_DIMS];
    bool seen[MT_MAX_DIMS] = {0};
    for (int i = 0; i < ndim; i++) {
        int d = mt_wrap_dim(dims[i], a->ndim);
        if (d < 0) return NULL;
        if (seen[d]) return mt_error(MT_ERR_RUNTIME, "permute(): duplicate dims are not allowed.");
        seen[d] = true;
        wd[i] = d;
        shape[i] = a->shape[d];
        strides[i] = a->strides[d];
    }
    mt_tensor *v = make_view(a, shape, strides, ndim, a->offset);
    if (!v) return NULL;
    mt_node *n = record_view(vt, v, a);
    if (n) memcpy(n->iargs, wd, sizeof(int64_t) * ndim);
    return v;
}

mt_tensor *mt_permute(mt_tensor *a, const int64_t *dims, int ndim) { return permute_impl(a, dims, ndim, &permute_vt); }

mt_tensor *mt_transpose(mt_tensor *a, int64_t d0, int64_t d1) {
    if (!a) return NULL;
    int x = mt_wrap_dim(d0, a->ndim), y = x < 0 ? -1 : mt_wrap_dim(d1, a->ndim);
    if (x < 0 || y < 0) return NULL;
    if (a->ndim == 0) return mt_incref(a);
    int64_t dims[MT_MAX_DIMS];
    for (int i = 0; i < a->ndim; i++) dims[i] = i;
    dims[x] = y;
    dims[y] = x;
    return permute_impl(a, dims, a->ndim, &transpose_vt);
}

mt_tensor *mt_t(mt_tensor *a) {
    if (!a) return NULL;
    if (a->ndim > 2)
        return mt_error(MT_ERR_RUNTIME, "t() expects a tensor with <= 2 dimensions, but self is %dD", a->ndim);
    if (a->ndim < 2) return permute_impl(a, (int64_t[]){0}, a->ndim, &t_vt);
    return permute_impl(a, (int64_t[]){1, 0}, 2, &t_vt);
}

/* ---------------- unsqueeze / squeeze / flatten ---------------- */
static const mt_node_vt unsqueeze_vt = {"UnsqueezeBackward0", view_backward, NULL, true};
static const mt_node_vt squeeze_vt = {"SqueezeBackward0", view_backward, NULL, true};
static const mt_node_vt squeeze1_vt = {"SqueezeBackward1", view_backward, NULL, true};

mt_tensor *mt_unsqueeze(mt_tensor *a, int64_t dim) {
    if (!a) return NULL;
    int d = mt_wrap_dim(dim, a->ndim + 1);
    if (d < 0) return NULL;
    if (a->ndim + 1 > MT_MAX_DIMS) return mt_error(MT_ERR_RUNTIME, "too many dimensions");
    int64_t shape[MT_MAX_DIMS], strides[MT_MAX_DIMS];
    for (int i = 0, j = 0; i <= a->ndim; i++) {
        if (i == d) {
            shape[i] = 1;
            strides[i] = d < a->ndim ? a->shape[d] * a->strides[d] : 1;
        } else {
            shape[i] = a->shape[j];
            strides[i] = a->strides[j];
            j++;
        }
    }
    mt_tensor *v = make_view(a, shape, strides, a->ndim + 1, a->offset);
    if (v) record_view(&unsqueeze_vt, v, a);
    return v;
}

mt_tensor *mt_squeeze(mt_tensor *a, const int64_t *dims, int ndims) {
    if (!a) return NULL;
    bool drop[MT_MAX_DIMS] = {0};
    if (ndims < 0) {
        for (int i = 0; i < a->ndim; i++) drop[i] = a->shape[i] == 1;
    } else {
        bool seen[MT_MAX_DIMS] = {0};
        for (int k = 0; k < ndims; k++) {
            int d = mt_wrap_dim(dims[k], a->ndim);
            if (d < 0) return NULL;
            if (seen[d]) return mt_error(MT_ERR_RUNTIME, "dim %d appears multiple times in the list of dims", d);
            seen[d] = true;
            if (a->ndim && a->shape[d] == 1) drop[d] = true;
        }
    }
    int64_t shape[MT_MAX_DIMS], strides[MT_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < a->ndim; i++)
        if (!drop[i]) { shape[nd] = a->shape[i]; strides[nd] = a->strides[i]; nd++; }
    mt_tensor *v = make_view(a, shape, strides, nd, a->offset);
    if (v) record_view(ndims < 0 ? &squeeze_vt : &squeeze1_vt, v, a);
    return v;
}

mt_tensor *mt_flatten(mt_tensor *a, int64_t start, int64_t end) {
    if (!a) return NULL;
    int s = mt_wrap_dim(start, a->ndim), e = s < 0 ? -1 : mt_wrap_dim(end, a->ndim);
    if (s < 0 || e < 0) return NULL;
    if (a->ndim == 0) return mt_reshape(a, (int64_t[]){1}, 1);
    if (s > e) return mt_error(MT_ERR_RUNTIME, "flatten() has invalid args: start_dim cannot come after end_dim");
    if (s == e) return mt_incref(a);
    int64_t shape[MT_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < s; i++) shape[nd++] = a->shape[i];
    int64_t m = 1;
    for (int i = s; i <= e; i++) m *= a->shape[i];
    shape[nd++] = m;
    for (int i = e + 1; i < a->ndim; i++) shape[nd++] = a->shape[i];
    return mt_reshape(a, shape, nd);
}

/* ---------------- expand ---------------- */
static int expand_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    gi[0] = mt_sum_to(go[0], n->meta_shape[0], n->meta_ndim[0]);
    return gi[0] ? 0 : -1;
}
static const mt_node_vt expand_vt = {"ExpandBackward0", expand_backward, NULL, true};

mt_tensor *mt_expand(mt_tensor *a, const int64_t *shape, int ndim) {
    if (!a) return NULL;
    if (ndim < a->ndim)
        return mt_error(MT_ERR_RUNTIME, "expand(torch.FloatTensor{%s}, size=%s): the number of sizes provided (%d) must "
                                        "be greater or equal to the number of dimensions in the tensor (%d)",
                        mt_shape_str(a->shape, a->ndim), mt_shape_str(shape, ndim), ndim, a->ndim);
    if (ndim > MT_MAX_DIMS) return mt_error(MT_ERR_RUNTIME, "too many dimensions");
    int64_t ns[MT_MAX_DIMS], st[MT_MAX_DIMS];
    for (int i = ndim - 1; i >= 0; i--) {
        int j = i - (ndim - a->ndim);
        int64_t want = shape[i];
        if (j < 0) {
            if (want < 0)
                return mt_error(MT_ERR_RUNTIME, "The expanded size of the tensor (%lld) isn't allowed in a leading, "
                                                "non-existing dimension %d", (long long)want, i);
            ns[i] = want;
            st[i] = 0;
        } else {
            if (want == -1) want = a->shape[j];
            if (a->shape[j] != want) {
                if (a->shape[j] != 1)
                    return mt_error(MT_ERR_RUNTIME, "The expanded size of the tensor (%lld) must match the existing size "
                                                    "(%lld) at non-singleton dimension %d.  Target sizes: %s.  Tensor sizes: %s",
                                    (long long)want, (long long)a->shape[j], i, mt_shape_str(shape, ndim),
                                    mt_shape_str(a->shape, a->ndim));
                st[i] = 0;
            } else st[i] = a->strides[j];
            ns[i] = want;
        }
        if (ns[i] < 0) return mt_error(MT_ERR_RUNTIME, "invalid expanded size %lld", (long long)ns[i]);
    }
    /* as c10's safe multiply: a product that overflows on the way is an error even if a later size is 0 */
    int64_t count = 1;
    bool overflow = false;
    for (int i = 0; i < ndim; i++) overflow |= __builtin_mul_overflow(count, ns[i], &count);
    if (overflow) return mt_error(MT_ERR_RUNTIME, "numel: integer multiplication overflow");
    mt_tensor *v = make_view(a, ns, st, ndim, a->offset);
    if (v) record_view(&expand_vt, v, a);
    return v;
}

/* ---------------- window scatter: the derivative of strided views ---------------- */
/* window_scatter(g) is zeros of `shape` with g written into a window (ws, wst, woff) of their
 * contiguous layout: the gradient of a slice, select or narrow. Its derivative takes the same
 * window of a contiguous gradient (window_view), whose derivative is window_scatter again, so both
 * are recorded and differentiable to any order.
 * iargs: [0] window ndim, [1] window offset, [2..] window sizes, [2 + MT_MAX_DIMS..] strides. */
static void set_window(mt_node *n, const int64_t *ws, const int64_t *wst, int wnd, int64_t woff) {
    n->iargs[0] = wnd;
    n->iargs[1] = woff;
    memcpy(n->iargs + 2, ws, sizeof(int64_t) * (size_t)wnd);
    memcpy(n->iargs + 2 + MT_MAX_DIMS, wst, sizeof(int64_t) * (size_t)wnd);
    n->n_iargs = 2 + MT_MAX_DIMS + wnd;
}
static mt_tensor *window_scatter(mt_tensor *g, const int64_t *shape, int ndim, const int64_t *ws, const int64_t *wst,
                                 int wnd, int64_t woff);
static mt_tensor *window_view(mt_tensor *x, const int64_t *ws, const int64_t *wst, int wnd, int64_t woff);

static int window_scatter_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    gi[0] = window_view(go[0], n->iargs + 2, n->iargs + 2 + MT_MAX_DIMS, (int)n->iargs[0], n->iargs[1]);
    return gi[0] ? 0 : -1;
}
static int window_view_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    gi[0] = window_scatter(go[0], n->meta_shape[0], n->meta_ndim[0], n->iargs + 2, n->iargs + 2 + MT_MAX_DIMS,
                           (int)n->iargs[0], n->iargs[1]);
    return gi[0] ? 0 : -1;
}
static const mt_node_vt window_scatter_vt = {"AsStridedScatterBackward0", window_scatter_backward, NULL, true};
static const mt_node_vt window_view_vt = {"AsStridedBackward0", window_view_backward, NULL, true};

static mt_tensor *window_scatter(mt_tensor *g, const int64_t *shape, int ndim, const int64_t *ws, const int64_t *wst,
                                 int wnd, int64_t woff) {
    mt_tensor *z = mt_zeros(shape, ndim, g->dtype, g->storage->device);
    mt_tensor *w = z ? mt_alias(z, ws, wst, wnd, woff) : NULL;
    int rc = w ? mt_copy_into(w, g) : -1;
    mt_decref(w);
    if (rc < 0) { mt_decref(z); return NULL; }
    mt_node *n = mt_autograd_record(&window_scatter_vt, z, 1, &g);
    if (n) set_window(n, ws, wst, wnd, woff);
    return z;
}
static mt_tensor *window_view(mt_tensor *x, const int64_t *ws, const int64_t *wst, int wnd, int64_t woff) {
    bool prev = mt_create_graph_active;
    mt_create_graph_active = false; /* the copy needs no node of its own: the view's node covers it */
    mt_tensor *c = mt_contiguous(x);
    mt_create_graph_active = prev;
    mt_tensor *v = c ? mt_alias(c, ws, wst, wnd, c->offset + woff) : NULL;
    mt_decref(c);
    if (!v) return NULL;
    mt_node *n = record_view(&window_view_vt, v, x);
    if (n) set_window(n, ws, wst, wnd, woff);
    return v;
}

/* ---------------- slice / select / narrow ---------------- */
/* Gradient of a strided window: zeros of the input's shape with g copied into the same window. */
static int window_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    int dim = (int)n->iargs[0];
    int64_t start = n->iargs[1], step = n->iargs[2], len = n->iargs[3];
    bool is_select = n->iargs[4];
    int64_t cs[MT_MAX_DIMS], shape[MT_MAX_DIMS], strides[MT_MAX_DIMS];
    mt_contiguous_strides(n->meta_shape[0], n->meta_ndim[0], cs);
    int nd = 0;
    for (int i = 0; i < n->meta_ndim[0]; i++) {
        if (i == dim) {
            if (is_select) continue;
            shape[nd] = len;
            strides[nd] = cs[i] * step;
        } else {
            shape[nd] = n->meta_shape[0][i];
            strides[nd] = cs[i];
        }
        nd++;
    }
    gi[0] = window_scatter(go[0], n->meta_shape[0], n->meta_ndim[0], shape, strides, nd, start * cs[dim]);
    return gi[0] ? 0 : -1;
}
static const mt_node_vt slice_vt = {"SliceBackward0", window_backward, NULL, true};
static const mt_node_vt select_vt = {"SelectBackward0", window_backward, NULL, true};

mt_tensor *mt_slice(mt_tensor *a, int64_t dim, int64_t start, int64_t stop, int64_t step) {
    if (!a) return NULL;
    if (a->ndim == 0) return mt_error(MT_ERR_INDEX, "slice() cannot be applied to a 0-dim tensor.");
    int d = mt_wrap_dim(dim, a->ndim);
    if (d < 0) return NULL;
    if (step <= 0) return mt_error(MT_ERR_VALUE, "step must be greater than zero");
    int64_t size = a->shape[d];
    if (start < 0) start += size;
    if (stop < 0) stop += size;
    if (start < 0) start = 0;
    if (start > size) start = size;
    if (stop > size) stop = size;
    if (stop < start) stop = start;
    int64_t len = (stop - start + step - 1) / step;
    int64_t shape[MT_MAX_DIMS], strides[MT_MAX_DIMS];
    memcpy(shape, a->shape, sizeof(int64_t) * a->ndim);
    memcpy(strides, a->strides, sizeof(int64_t) * a->ndim);
    shape[d] = len;
    strides[d] = a->strides[d] * step;
    mt_tensor *v = make_view(a, shape, strides, a->ndim, a->offset + (len ? start * a->strides[d] : 0));
    if (!v) return NULL;
    mt_node *n = record_view(&slice_vt, v, a);
    if (n) { n->iargs[0] = d; n->iargs[1] = start; n->iargs[2] = step; n->iargs[3] = len; n->iargs[4] = 0; }
    return v;
}

mt_tensor *mt_narrow(mt_tensor *a, int64_t dim, int64_t start, int64_t length) {
    if (!a) return NULL;
    if (a->ndim == 0) return mt_error(MT_ERR_RUNTIME, "narrow() cannot be applied to a 0-dim tensor.");
    int d = mt_wrap_dim(dim, a->ndim);
    if (d < 0) return NULL;
    int64_t size = a->shape[d];
    if (start < -size || start > size)
        return mt_error(MT_ERR_INDEX, "start out of range (expected to be in range of [%lld, %lld], but got %lld)",
                        (long long)-size, (long long)size, (long long)start);
    if (start < 0) start += size;
    if (length < 0 || start + length > size)
        return mt_error(MT_ERR_RUNTIME, "start (%lld) + length (%lld) exceeds dimension size (%lld).", (long long)start,
                        (long long)length, (long long)size);
    return mt_slice(a, d, start, start + length, 1);
}

mt_tensor *mt_select(mt_tensor *a, int64_t dim, int64_t index) {
    if (!a) return NULL;
    if (a->ndim == 0) return mt_error(MT_ERR_INDEX, "select() cannot be applied to a 0-dim tensor.");
    int d = mt_wrap_dim(dim, a->ndim);
    if (d < 0) return NULL;
    int64_t size = a->shape[d];
    if (index < -size || index >= size)
        return mt_error(MT_ERR_INDEX, "index %lld is out of bounds for dimension %d with size %lld", (long long)index, d,
                        (long long)size);
    if (index < 0) index += size;
    int64_t shape[MT_MAX_DIMS], strides[MT_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < a->ndim; i++)
        if (i != d) { shape[nd] = a->shape[i]; strides[nd] = a->strides[i]; nd++; }
    mt_tensor *v = make_view(a, shape, strides, nd, a->offset + index * a->strides[d]);
    if (!v) return NULL;
    mt_node *n = record_view(&select_vt, v, a);
    if (n) { n->iargs[0] = d; n->iargs[1] = index; n->iargs[2] = 1; n->iargs[3] = 1; n->iargs[4] = 1; }
    return v;
}

/* ---------------- cat / stack ---------------- */
/* iargs[0] = dim, iargs[1..n] = sizes along dim; extra = nothing */
static int cat_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    int dim = (int)n->iargs[0];
    int64_t off = 0;
    int64_t *sizes = (int64_t *)n->extra;
    for (int k = 0; k < n->n_next; k++) {
        if (mt_node_needs(n, k)) {
            mt_tensor *s = mt_narrow(go[0], dim, off, sizes[k]);
            gi[k] = s ? mt_contiguous(s) : NULL;
            mt_decref(s);
            if (!gi[k]) return -1;
        }
        off += sizes[k];
    }
    return 0;
}
static void free_extra(mt_node *n) { free(n->extra); }
static const mt_node_vt cat_vt = {"CatBackward0", cat_backward, free_extra, true};

mt_tensor *mt_cat(int n, mt_tensor *const *ts, int64_t dim) {
    if (n == 0) return mt_error(MT_ERR_VALUE, "torch.cat(): expected a non-empty list of Tensors"); /* ValueError in PyTorch */
    for (int k = 0; k < n; k++)
        if (!ts[k]) return NULL;
    /* legacy rule: 1-D empty tensors are skipped */
    const mt_tensor *ref = NULL;
    for (int k = 0; k < n; k++)
        if (!(ts[k]->ndim == 1 && ts[k]->shape[0] == 0)) { ref = ts[k]; break; }
    if (!ref) ref = ts[0];
    if (ref->ndim == 0) return mt_error(MT_ERR_RUNTIME, "zero-dimensional tensor (at position 0) cannot be concatenated");
    int d = mt_wrap_dim(dim, ref->ndim);
    if (d < 0) return NULL;
    mt_dtype dt = ts[0]->dtype;
    for (int k = 1; k < n; k++) dt = mt_promote_types(dt, ts[k]->dtype);
    int64_t shape[MT_MAX_DIMS];
    memcpy(shape, ref->shape, sizeof(int64_t) * ref->ndim);
    shape[d] = 0;
    for (int k = 0; k < n; k++) {
        const mt_tensor *t = ts[k];
        if (t->ndim == 1 && t->shape[0] == 0 && ref->ndim != 1) continue;
        if (mt_check_same_device(ref, t) < 0) return NULL;
        if (t->ndim != ref->ndim)
            return mt_error(MT_ERR_RUNTIME, "Tensors must have same number of dimensions: got %d and %d", ref->ndim, t->ndim);
        for (int i = 0; i < t->ndim; i++)
            if (i != d && t->shape[i] != ref->shape[i])
                return mt_error(MT_ERR_RUNTIME, "Sizes of tensors must match except in dimension %d. Expected size %lld "
                                                "but got size %lld for tensor number %d in the list.",
                                d, (long long)ref->shape[i], (long long)t->shape[i], k);
        shape[d] += t->shape[d];
    }
    mt_tensor *out = mt_empty(shape, ref->ndim, dt, ref->storage->device);
    if (!out) return NULL;
    int64_t *sizes = malloc(sizeof(int64_t) * (size_t)n);
    if (!sizes) { mt_decref(out); return mt_error(MT_ERR_MEMORY, "out of memory"); }
    int64_t off = 0;
    for (int k = 0; k < n; k++) {
        const mt_tensor *t = ts[k];
        sizes[k] = (t->ndim == 1 && t->shape[0] == 0 && ref->ndim != 1) ? 0 : t->shape[d];
        if (!sizes[k]) continue;
        int64_t ws[MT_MAX_DIMS];
        memcpy(ws, out->shape, sizeof(int64_t) * out->ndim);
        ws[d] = sizes[k];
        mt_tensor *w = mt_alias(out, ws, out->strides, out->ndim, off * out->strides[d]);
        int rc = w ? mt_copy_into(w, t) : -1;
        mt_decref(w);
        if (rc < 0) { mt_decref(out); free(sizes); return NULL; }
        off += sizes[k];
    }
    mt_node *node = mt_autograd_record(&cat_vt, out, n, ts);
    if (node) {
        node->iargs[0] = d;
        node->extra = sizes;
    } else free(sizes);
    return out;
}

static int stack_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    int dim = (int)n->iargs[0];
    for (int k = 0; k < n->n_next; k++) {
        if (mt_node_needs(n, k)) {
            mt_tensor *s = mt_select(go[0], dim, k);
            gi[k] = s ? mt_contiguous(s) : NULL;
            mt_decref(s);
            if (!gi[k]) return -1;
        }
    }
    return 0;
}
static const mt_node_vt stack_vt = {"StackBackward0", stack_backward, NULL, true};

mt_tensor *mt_stack(int n, mt_tensor *const *ts, int64_t dim) {
    if (n == 0) return mt_error(MT_ERR_RUNTIME, "stack expects a non-empty TensorList");
    for (int k = 0; k < n; k++) {
        if (!ts[k]) return NULL;
        if (ts[k]->ndim != ts[0]->ndim || memcmp(ts[k]->shape, ts[0]->shape, sizeof(int64_t) * ts[0]->ndim))
            return mt_error(MT_ERR_RUNTIME, "stack expects each tensor to be equal size, but got %s at entry 0 and %s at entry %d",
                            mt_shape_str(ts[0]->shape, ts[0]->ndim), mt_shape_str(ts[k]->shape, ts[k]->ndim), k);
    }
    int d = mt_wrap_dim(dim, ts[0]->ndim + 1);
    if (d < 0) return NULL;
    mt_tensor **us = malloc(sizeof(*us) * (size_t)n);
    if (!us) return mt_error(MT_ERR_MEMORY, "out of memory");
    int k;
    for (k = 0; k < n; k++)
        if (!(us[k] = mt_unsqueeze(ts[k], d))) break;
    /* the copy records no history of its own: one StackBackward0 node links straight to the inputs, as in PyTorch */
    bool prev = mt_grad_enabled;
    mt_grad_enabled = false;
    mt_tensor *out = k == n ? mt_cat(n, us, d) : NULL;
    mt_grad_enabled = prev;
    for (int j = 0; j < k; j++) mt_decref(us[j]);
    free(us);
    if (out) {
        mt_node *node = mt_autograd_record(&stack_vt, out, n, ts);
        if (node) node->iargs[0] = d;
    }
    return out;
}

/* ---------------- repeat ---------------- */
static int repeat_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    /* view g as [r0, s0, r1, s1, ...] and sum over the r's */
    int nr = (int)n->iargs[0];
    const int64_t *reps = n->iargs + 1;
    int lead = nr - n->meta_ndim[0];
    int64_t shape[2 * MT_MAX_DIMS], dims[MT_MAX_DIMS];
    int nd = 0, ndims = 0;
    if (2 * nr > MT_MAX_DIMS) {
        mt_error(MT_ERR_NOTIMPL, "repeat backward supports at most %d dims", MT_MAX_DIMS / 2);
        return -1;
    }
    for (int i = 0; i < nr; i++) {
        int64_t s = i < lead ? 1 : n->meta_shape[0][i - lead];
        dims[ndims++] = nd;
        shape[nd++] = reps[i];
        shape[nd++] = s;
    }
    mt_tensor *g = P(mt_reshape(go[0], shape, nd));
    mt_tensor *s = P(mt_reduce(MT_RED_SUM, g, dims, ndims, false, 0, -1));
    gi[0] = mt_reshape(s, n->meta_shape[0], n->meta_ndim[0]);
    return gi[0] ? 0 : -1;
}
static const mt_node_vt repeat_vt = {"RepeatBackward0", repeat_backward, NULL, true};

mt_tensor *mt_repeat(mt_tensor *a, const int64_t *reps, int nr) {
    if (!a) return NULL;
    if (nr < a->ndim)
        return mt_error(MT_ERR_RUNTIME, "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor");
    if (nr > MT_MAX_DIMS) return mt_error(MT_ERR_RUNTIME, "too many dimensions");
    int lead = nr - a->ndim;
    int64_t shape[MT_MAX_DIMS];
    for (int i = 0; i < nr; i++) {
        if (reps[i] < 0)
            return mt_error(MT_ERR_RUNTIME, "Trying to create tensor with negative dimension %lld: %s", (long long)reps[i],
                            mt_shape_str(reps, nr));
        if (__builtin_mul_overflow(reps[i], i < lead ? 1 : a->shape[i - lead], &shape[i]))
            return mt_error(MT_ERR_RUNTIME, "repeat: the size of dim %d (%lld repeats) overflows int64", i,
                            (long long)reps[i]);
    }
    mt_tensor *out = mt_empty(shape, nr, a->dtype, a->storage->device);
    if (!out) return NULL;
    /* view out as [r0, s0, r1, s1, ...]: the source broadcasts along the r's */
    if (mt_numel(out) && 2 * nr <= MT_MAX_DIMS) {
        int64_t vs[MT_MAX_DIMS], vst[MT_MAX_DIMS], ss[MT_MAX_DIMS], sst[MT_MAX_DIMS];
        for (int i = 0; i < nr; i++) {
            int64_t s = i < lead ? 1 : a->shape[i - lead];
            vs[2 * i] = reps[i];
            vs[2 * i + 1] = s;
            vst[2 * i] = s * out->strides[i];
            vst[2 * i + 1] = out->strides[i];
            ss[2 * i] = reps[i];
            ss[2 * i + 1] = s;
            sst[2 * i] = 0;
            sst[2 * i + 1] = i < lead ? 0 : a->strides[i - lead];
        }
        mt_tensor *dv = mt_alias(out, vs, vst, 2 * nr, 0), *sv = mt_alias(a, ss, sst, 2 * nr, a->offset);
        int rc = dv && sv ? mt_copy_into(dv, sv) : -1;
        mt_decref(dv);
        mt_decref(sv);
        if (rc < 0) { mt_decref(out); return NULL; }
    } else if (mt_numel(out)) {
        mt_decref(out);
        return mt_error(MT_ERR_NOTIMPL, "repeat supports at most %d dims", MT_MAX_DIMS / 2);
    }
    mt_node *n = mt_autograd_record(&repeat_vt, out, 1, &a);
    if (n) {
        mt_node_set_meta(n, 0, a);
        n->iargs[0] = nr;
        memcpy(n->iargs + 1, reps, sizeof(int64_t) * nr);
    }
    return out;
}

/* ---------------- split / unbind: several views, one node ---------------- */
/* iargs[0] = dim, iargs[1] = 1 for unbind; extra = sizes along dim (n_outputs of them) */
static int split_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    int dim = (int)n->iargs[0];
    bool unbind = n->iargs[1];
    const int64_t *sizes = n->extra;
    mt_tensor **parts = calloc((size_t)n->n_outputs, sizeof(mt_tensor *));
    if (!parts) { mt_error(MT_ERR_MEMORY, "out of memory"); return -1; }
    const mt_tensor *ref = NULL;
    for (int k = 0; k < n->n_outputs && !ref; k++) ref = go[k];
    int ok = 0;
    for (int k = 0; k < n->n_outputs; k++) {
        mt_tensor *g = go[k];
        if (g) parts[k] = unbind ? mt_unsqueeze(g, dim) : mt_incref(g);
        else { /* an output no gradient reached: zeros of its shape */
            int64_t shape[MT_MAX_DIMS];
            memcpy(shape, n->meta_shape[0], sizeof(int64_t) * n->meta_ndim[0]);
            shape[dim] = sizes[k];
            parts[k] = mt_zeros(shape, n->meta_ndim[0], ref->dtype, ref->storage->device);
        }
        if (!parts[k]) ok = -1;
    }
    if (ok == 0 && !(gi[0] = mt_cat(n->n_outputs, parts, dim))) ok = -1;
    for (int k = 0; k < n->n_outputs; k++) mt_decref(parts[k]);
    free(parts);
    return ok;
}
static const mt_node_vt split_vt = {"SplitBackward0", split_backward, free_extra, true};
static const mt_node_vt split_sizes_vt = {"SplitWithSizesBackward0", split_backward, free_extra, true};
static const mt_node_vt unbind_vt = {"UnbindBackward0", split_backward, free_extra, true};

int mt_split(mt_tensor *a, const int64_t *sizes, int n, int64_t dim, int kind, mt_tensor **outs) {
    if (!a) return -1;
    if (n <= 0) { mt_error(MT_ERR_RUNTIME, "split expects at least one piece"); return -1; }
    if (a->ndim == 0) {
        if (kind == MT_SPLIT_UNBIND) mt_error(MT_ERR_INDEX, "Dimension specified as %lld but tensor has no dimensions", (long long)dim);
        else mt_error(MT_ERR_RUNTIME, "split expects at least a 1-dimensional tensor");
        return -1;
    }
    int d = mt_wrap_dim(dim, a->ndim);
    if (d < 0) return -1;
    int64_t total = 0;
    for (int k = 0; k < n; k++) total += sizes[k];
    if (total != a->shape[d]) {
        mt_error(MT_ERR_RUNTIME, "split_with_sizes expects split_sizes to sum exactly to %lld (input tensor's size at "
                                 "dimension %d), but got split_sizes=%s", (long long)a->shape[d], d, mt_shape_str(sizes, n));
        return -1;
    }
    bool unbind = kind == MT_SPLIT_UNBIND;
    bool prev = mt_grad_enabled;
    mt_grad_enabled = false; /* the pieces are plain views; one node below covers them all */
    int64_t off = 0;
    int k;
    for (k = 0; k < n; k++) {
        outs[k] = unbind ? mt_select(a, d, off) : mt_slice(a, d, off, off + sizes[k], 1);
        if (!outs[k]) break;
        off += sizes[k];
    }
    mt_grad_enabled = prev;
    if (k < n) {
        for (int j = 0; j < k; j++) mt_decref(outs[j]);
        return -1;
    }
    if (mt_any_requires_grad(1, &a)) {
        int64_t *sz = malloc(sizeof(int64_t) * (size_t)n);
        if (!sz) { for (int j = 0; j < n; j++) mt_decref(outs[j]); mt_error(MT_ERR_MEMORY, "out of memory"); return -1; }
        memcpy(sz, sizes, sizeof(int64_t) * (size_t)n);
        const mt_node_vt *vt = unbind ? &unbind_vt : kind == MT_SPLIT_SIZES ? &split_sizes_vt : &split_vt;
        mt_node *node = mt_autograd_record_n(vt, n, outs, 1, &a);
        if (node) {
            node->iargs[0] = d;
            node->iargs[1] = unbind;
            node->extra = sz;
            mt_node_set_meta(node, 0, a);
        } else free(sz);
    }
    return 0;
}

/* In-place ops and autograd.
 *
 * Every in-place op is computed out of place into `res` (with its own history),
 * then committed: the values are copied into self and res's history moves onto
 * self. When self is a view of a base that takes part in autograd, the base's
 * history is rebased instead (PyTorch's CopySlices): the base's new grad_fn
 * routes the gradient of the view's region to res and the rest to the base's
 * old history, and the view becomes a strided window of the new base. */
#include "ops.h"
#include "../autograd/autograd.h"

#include <string.h>

int mt_check_inplace(mt_tensor *t) {
    if (mt_has_internal_overlap(t)) {
        mt_error(MT_ERR_RUNTIME, "unsupported operation: more than one element of the written-to tensor refers to a "
                                 "single memory location. Please clone() the tensor before performing the operation.");
        return -1;
    }
    return mt_check_inplace_leaf(t);
}

static int overlap_error(void) {
    mt_error(MT_ERR_RUNTIME, "unsupported operation: some elements of the input tensor and the written-to tensor refer "
                             "to a single memory location. Please clone() the tensor before performing the operation.");
    return -1;
}
int mt_check_no_partial_overlap(const mt_tensor *dst, const mt_tensor *src) {
    return src && mt_overlap_status(dst, src) == MT_OVERLAP_PARTIAL ? overlap_error() : 0;
}
int mt_check_no_overlap(const mt_tensor *dst, const mt_tensor *src) {
    if (!src) return 0;
    mt_overlap o = mt_overlap_status(dst, src);
    return o == MT_OVERLAP_PARTIAL || o == MT_OVERLAP_FULL ? overlap_error() : 0;
}

int mt_check_inplace_leaf(mt_tensor *t) {
    if (t->storage->inference && !mt_inference_mode) {
        mt_error(MT_ERR_RUNTIME, "Inplace update to inference tensor outside InferenceMode is not allowed.You can make "
                                 "a clone to get a normal tensor before doing inplace update.See "
                                 "https://github.com/pytorch/rfcs/pull/17 for more details.");
        return -1;
    }
    if (!mt_grad_enabled) return 0;
    if (t->requires_grad && !t->grad_fn && !t->base) {
        mt_error(MT_ERR_RUNTIME, "a leaf Variable that requires grad is being used in an in-place operation.");
        return -1;
    }
    if (t->base && t->base->requires_grad && !t->base->grad_fn) {
        mt_error(MT_ERR_RUNTIME, "a view of a leaf Variable that requires grad is being used in an in-place operation.");
        return -1;
    }
    return 0;
}

/* iargs: [0] ndim, [1..ndim] shape, [ndim+1..2ndim] strides, [2ndim+1] offset in the base (elements) */
static void set_region(mt_node *n, const mt_tensor *v, const mt_tensor *base) {
    n->iargs[0] = v->ndim;
    memcpy(n->iargs + 1, v->shape, sizeof(int64_t) * v->ndim);
    memcpy(n->iargs + 1 + v->ndim, v->strides, sizeof(int64_t) * v->ndim);
    n->iargs[1 + 2 * v->ndim] = v->offset - base->offset;
}

/* The region of a contiguous tensor laid out like the base (new ref, a view). */
static mt_tensor *region_of(mt_node *n, mt_tensor *g_contig) {
    int nd = (int)n->iargs[0];
    return mt_alias(g_contig, n->iargs + 1, n->iargs + 1 + nd, nd, g_contig->offset + n->iargs[1 + 2 * nd]);
}

static int copy_slices_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    mt_tensor *g = mt_pool(mt_contiguous(go[0]));
    if (!g) return -1;
    if (mt_node_needs(n, 1)) {
        mt_tensor *r = mt_pool(region_of(n, g));
        mt_tensor *c = r ? mt_empty_like(r) : NULL;
        if (!c || mt_copy_into(c, r) < 0) { mt_decref(c); return -1; }
        gi[1] = mt_node_grad_for(n, 1, c);
        if (!gi[1]) return -1;
    }
    if (mt_node_needs(n, 0)) {
        mt_tensor *rest = mt_empty_like(g);
        if (!rest || mt_copy_into(rest, g) < 0) { mt_decref(rest); return -1; }
        mt_tensor *r = region_of(n, rest);
        int rc = r ? mt_fill_(r, mt_si(0)) : -1;
        mt_decref(r);
        if (rc < 0) { mt_decref(rest); return -1; }
        gi[0] = rest;
    }
    return 0;
}
static const mt_node_vt copy_slices_vt = {"CopySlices", copy_slices_backward, NULL};

/* the view after the rebase: a strided window of the base */
static int window_of_base_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    mt_tensor *z = mt_zeros(n->meta_shape[0], n->meta_ndim[0], go[0]->dtype, go[0]->storage->device);
    mt_tensor *r = z ? region_of(n, z) : NULL;
    int rc = r ? mt_copy_into(r, go[0]) : -1;
    mt_decref(r);
    if (rc < 0) { mt_decref(z); return -1; }
    gi[0] = z;
    return 0;
}
static const mt_node_vt window_vt = {"AsStridedBackward0", window_of_base_backward, NULL};

static int rebase_view(mt_tensor *v, mt_tensor *res) {
    mt_tensor *b = v->base;
    if (!mt_is_contiguous(b)) {
        mt_error(MT_ERR_NOTIMPL, "minitorch: in-place ops on a view need a contiguous base when autograd is recording");
        return -1;
    }
    mt_tensor *ins[2] = {b, res};
    mt_node *c = mt_node_new(&copy_slices_vt, 2, 1);
    if (!c) return -1;
    mt_node_set_edges(c, 2, ins);
    set_region(c, v, b);
    mt_node_set_meta(c, 0, b);
    mt_node_set_meta(c, 1, res);
    mt_node_decref(b->grad_fn);
    b->grad_fn = c; /* owns the new reference */
    b->output_nr = 0;
    b->requires_grad = true;
    mt_node *w = mt_node_new(&window_vt, 1, 1);
    if (!w) return -1;
    mt_node_set_edges(w, 1, &b);
    set_region(w, v, b);
    mt_node_set_meta(w, 0, b);
    mt_node_decref(v->grad_fn);
    v->grad_fn = w;
    v->output_nr = 0;
    v->requires_grad = true;
    return 0;
}

mt_tensor *mt_commit_inplace(mt_tensor *self, mt_tensor *res) {
    if (!res) return NULL;
    if (res->grad_fn) {
        mt_node *n = res->grad_fn;
        /* the node may have saved self's old value, which the copy below overwrites: save a private copy of
         * it instead (PyTorch's original_self), which also keeps self -> node -> self from being a cycle */
        for (int k = 0; k < n->n_saved; k++)
            if (n->saved[k] && n->saved[k]->storage == self->storage) {
                mt_tensor *cp = mt_empty_like(n->saved[k]);
                if (!cp || mt_copy_into(cp, n->saved[k]) < 0) { mt_decref(cp); mt_decref(res); return NULL; }
                /* with self's old history, for a backward under create_graph (as torch's clone) */
                mt_tensor *h = mt_with_history_of(cp, n->saved[k]);
                mt_decref(cp);
                if (!h) { mt_decref(res); return NULL; }
                mt_decref(n->saved[k]);
                n->saved[k] = h;
                n->saved_version[k] = h->storage->version;
            }
    }
    if (mt_copy_into(self, res) < 0) { mt_decref(res); return NULL; }
    mt_bump_version(self);
    int rc = 0;
    if (mt_grad_enabled && self->base && (self->base->requires_grad || res->requires_grad)) {
        rc = rebase_view(self, res);
    } else if (res->grad_fn) {
        mt_node *n = res->grad_fn;
        mt_node_incref(n);
        mt_node_decref(self->grad_fn);
        self->grad_fn = n;
        self->output_nr = res->output_nr;
        self->requires_grad = true;
    } else if (mt_grad_enabled && self->grad_fn) {
        /* overwritten by values without history: no gradient flows to the old value */
        mt_node_decref(self->grad_fn);
        self->grad_fn = NULL;
        self->requires_grad = false;
    }
    mt_decref(res);
    return rc < 0 ? NULL : mt_incref(self);
}

/* Does an in-place write into t need the out-of-place + commit path? */
bool mt_inplace_needs_history(const mt_tensor *t, const mt_tensor *other) {
    return mt_grad_enabled && (t->requires_grad || (t->base && t->base->requires_grad) || (other && other->requires_grad));
}

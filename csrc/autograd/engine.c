/* Graph nodes and the backward engine: a dependency count over the reachable
 * graph, then one walk in reverse creation order (a max-heap on sequence
 * number, as PyTorch orders ready nodes). */
#include "autograd.h"
#include "../ops/ops.h"

#include <stdlib.h>
#include <string.h>

static uint64_t next_seq;
static uint64_t epoch;

int mt_debug_fail_node_allocs;
bool mt_autograd_record_failed;

mt_node *mt_node_new(const mt_node_vt *vt, int n_next, int n_outputs) {
    if (mt_debug_fail_node_allocs > 0) { /* test hook: minitorch._C._fail_node_allocs(k) */
        mt_debug_fail_node_allocs--;
        return mt_error(MT_ERR_MEMORY, "out of memory (allocating the autograd node %s)", vt->name);
    }
    mt_node *n = calloc(1, sizeof *n);
    if (!n) return mt_error(MT_ERR_MEMORY, "out of memory");
    n->refcount = 1;
    n->vt = vt;
    n->seq = next_seq++;
    n->n_next = n_next;
    n->n_outputs = n_outputs;
    n->next = n_next <= MT_NODE_INLINE_EDGES ? n->inline_next : calloc((size_t)n_next, sizeof(mt_edge));
    if (!n->next) { free(n); return mt_error(MT_ERR_MEMORY, "out of memory"); }
    return n;
}

static void node_release(mt_node *n) {
    for (int k = 0; k < n->n_saved; k++) {
        mt_decref(n->saved[k]);
        n->saved[k] = NULL;
    }
    n->n_saved = 0;
    if (n->vt->release) n->vt->release(n);
    n->extra = NULL;
}

void mt_node_decref(mt_node *n) {
    /* iterative over long chains to keep the C stack flat */
    while (n && --n->refcount == 0) {
        node_release(n);
        mt_decref(n->variable);
        if (n->variable_weak && n->variable_weak->grad_acc == n) n->variable_weak->grad_acc = NULL;
        for (int k = 0; k < n->n_retained; k++)
            if (n->retained[k]) n->retained[k]->retains_grad = false;
        free(n->retained);
        mt_node *tail = NULL;
        for (int k = 0; k < n->n_next; k++) {
            mt_node *c = n->next[k].node;
            if (!c) continue;
            if (!tail) tail = c;
            else mt_node_decref(c);
        }
        if (n->next != n->inline_next) free(n->next);
        free(n->buf);
        free(n);
        n = tail;
    }
}

void mt_node_save(mt_node *n, int slot, const mt_tensor *t, bool is_output) {
    mt_tensor *s = is_output ? mt_detach(t) : mt_incref((mt_tensor *)t);
    if (!s) return;
    mt_decref(n->saved[slot]);
    n->saved[slot] = s;
    n->saved_version[slot] = t->storage->version;
    if (slot + 1 > n->n_saved) n->n_saved = slot + 1;
    n->had_saved = true;
}

static const char *type_str(const mt_tensor *t) {
    static const char *const n[] = {"BoolTensor", "IntTensor", "LongTensor", "FloatTensor", "DoubleTensor"};
    return n[t->dtype];
}

mt_tensor *mt_node_saved(mt_node *n, int slot) {
    mt_tensor *t = slot < n->n_saved ? n->saved[slot] : NULL;
    if (n->released || !t)
        return mt_error(MT_ERR_RUNTIME,
                        "Trying to backward through the graph a second time (or directly access saved tensors after "
                        "they have already been freed). Saved intermediate values of the graph are freed when you "
                        "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
                        "through the graph a second time or if you need to access saved tensors after calling backward.");
    return mt_saved_check(n, t, n->saved_version[slot]);
}

mt_tensor *mt_saved_check(const mt_node *n, mt_tensor *t, uint64_t version) {
    if (t->storage->version != version)
        return mt_error(MT_ERR_RUNTIME,
                        "one of the variables needed for gradient computation has been modified by an inplace "
                        "operation: [torch.%s %s], which is output 0 of %s, is at version %llu; expected version %llu "
                        "instead. Hint: the backtrace further above can point at the operation that failed to compute "
                        "its gradient. The variable in question was changed in there or anywhere later. Good luck!",
                        type_str(t), mt_shape_str(t->shape, t->ndim), n->vt->name,
                        (unsigned long long)t->storage->version, (unsigned long long)version);
    return t;
}

void mt_node_set_meta(mt_node *n, int k, const mt_tensor *t) {
    n->meta_ndim[k] = t->ndim;
    n->meta_dtype[k] = t->dtype;
    memcpy(n->meta_shape[k], t->shape, sizeof(int64_t) * t->ndim);
}

mt_tensor *mt_node_grad_for(mt_node *n, int k, mt_tensor *raw) {
    if (!raw) return NULL;
    mt_tensor *g = raw;
    if (g->ndim != n->meta_ndim[k] || memcmp(g->shape, n->meta_shape[k], sizeof(int64_t) * g->ndim)) {
        g = mt_sum_to(raw, n->meta_shape[k], n->meta_ndim[k]);
        mt_decref(raw);
        if (!g) return NULL;
    }
    if (g->dtype != n->meta_dtype[k] && mt_is_floating(n->meta_dtype[k])) {
        mt_tensor *c = mt_cast(g, n->meta_dtype[k]);
        mt_decref(g);
        g = c;
    }
    return g;
}

/* ---------------- leaves ---------------- */
static int accumulate_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    (void)gi;
    mt_tensor *v = n->variable, *g = go[0];
    if (!v || !g) return 0;
    if (!v->grad) {
        /* steal the buffer when nobody else holds it or its storage (views!); else keep a private copy */
        if (g->refcount == 1 && g->storage->refcount == 1 && mt_is_contiguous(g) && !g->grad_fn && g->dtype == v->dtype)
            v->grad = mt_incref(g);
        else {
            mt_tensor *c = mt_empty(v->shape, v->ndim, v->dtype, v->storage->device);
            if (!c || mt_copy_into(c, g) < 0) { mt_decref(c); return -1; }
            v->grad = c;
        }
    } else {
        mt_tensor *r = mt_binary_(MT_B_ADD, v->grad, g, NULL);
        if (!r) return -1;
        mt_decref(r);
    }
    return 0;
}
static const mt_node_vt accumulate_vt = {"AccumulateGrad", accumulate_backward, NULL};

static mt_node *grad_accumulator(mt_tensor *t) {
    if (t->grad_acc) {
        mt_node_incref(t->grad_acc);
        return t->grad_acc;
    }
    mt_node *n = mt_node_new(&accumulate_vt, 0, 1);
    if (!n) return NULL;
    n->variable = mt_incref(t);
    n->variable_weak = t;
    t->grad_acc = n;
    return n;
}

bool mt_any_requires_grad(int n, mt_tensor *const *ts) {
    if (!mt_grad_enabled) return false;
    for (int i = 0; i < n; i++)
        if (ts[i] && ts[i]->requires_grad) return true;
    return false;
}

void mt_node_set_edges(mt_node *n, int n_in, mt_tensor *const *inputs) {
    for (int i = 0; i < n_in; i++) {
        mt_tensor *t = inputs[i];
        n->next[i].node = NULL;
        n->next[i].input_nr = 0;
        if (!t || !t->requires_grad) continue;
        if (t->grad_fn) {
            mt_node_incref(t->grad_fn);
            n->next[i].node = t->grad_fn;
            n->next[i].input_nr = t->output_nr;
        } else {
            n->next[i].node = grad_accumulator(t);
        }
    }
}

mt_node *mt_autograd_record_n(const mt_node_vt *vt, int n_out, mt_tensor **outs, int n_in, mt_tensor *const *inputs) {
    if (!mt_any_requires_grad(n_in, inputs)) return NULL;
    mt_node *n = mt_node_new(vt, n_in, n_out);
    if (!n) {
        /* the op's output exists but has no history: the error stays set and the Python boundary
           (mt_py_wrap) raises it instead of returning a tensor that silently has no gradient */
        mt_autograd_record_failed = true;
        return NULL;
    }
    mt_node_set_edges(n, n_in, inputs);
    for (int k = 0; k < n_out; k++) {
        if (!outs[k]) continue;
        mt_node_incref(n);
        mt_node_decref(outs[k]->grad_fn);
        outs[k]->grad_fn = n;
        outs[k]->output_nr = (uint32_t)k;
        outs[k]->requires_grad = true;
    }
    mt_node_decref(n); /* the outputs own it */
    return n;
}

mt_node *mt_autograd_record(const mt_node_vt *vt, mt_tensor *out, int n_in, mt_tensor *const *inputs) {
    return mt_autograd_record_n(vt, 1, &out, n_in, inputs);
}

/* ---------------- retain_grad ---------------- */
int mt_retain_grad(mt_tensor *t) {
    if (!t->requires_grad) {
        mt_error(MT_ERR_RUNTIME, "can't retain_grad on Tensor that has requires_grad=False");
        return -1;
    }
    if (!t->grad_fn || t->retains_grad) return 0; /* leaves always keep .grad */
    mt_node *n = t->grad_fn;
    mt_tensor **r = realloc(n->retained, sizeof(*r) * (size_t)(n->n_retained + 1));
    if (!r) { mt_error(MT_ERR_MEMORY, "out of memory"); return -1; }
    n->retained = r;
    r[n->n_retained++] = t;
    t->retains_grad = true;
    return 0;
}

void mt_node_forget_retained(mt_node *n, mt_tensor *t) {
    for (int k = 0; k < n->n_retained; k++)
        if (n->retained[k] == t) n->retained[k] = NULL;
}

/* ---------------- sum_to ---------------- */
mt_tensor *mt_sum_to(mt_tensor *g, const int64_t *shape, int ndim) {
    if (!g) return NULL;
    int lead = g->ndim - ndim;
    int64_t dims[MT_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < g->ndim; i++) {
        if (i < lead) dims[nd++] = i;
        else if (shape[i - lead] == 1 && g->shape[i] != 1) dims[nd++] = i;
    }
    if (nd == 0) return mt_incref(g);
    mt_tensor *r = mt_reduce(MT_RED_SUM, g, dims, nd, true, 0, -1);
    if (!r) return NULL;
    mt_tensor *v = mt_view(r, shape, ndim);
    mt_decref(r);
    return v;
}

/* ---------------- the engine ---------------- */
typedef struct { mt_node **a; int n, cap; } heap;

static int heap_push(heap *h, mt_node *x) {
    if (h->n == h->cap) {
        int cap = h->cap ? h->cap * 2 : 64;
        mt_node **a = realloc(h->a, sizeof(*a) * (size_t)cap);
        if (!a) { mt_error(MT_ERR_MEMORY, "out of memory"); return -1; }
        h->a = a;
        h->cap = cap;
    }
    int i = h->n++;
    while (i > 0 && h->a[(i - 1) / 2]->seq < x->seq) { h->a[i] = h->a[(i - 1) / 2]; i = (i - 1) / 2; }
    h->a[i] = x;
    return 0;
}
static mt_node *heap_pop(heap *h) {
    mt_node *top = h->a[0], *x = h->a[--h->n];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && h->a[c + 1]->seq > h->a[c]->seq) c++;
        if (h->a[c]->seq <= x->seq) break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n) h->a[i] = x;
    return top;
}

static int buf_add(mt_node *n, int slot, mt_tensor *g /* consumed */) {
    if (!n->buf) {
        n->buf = calloc((size_t)(n->n_outputs ? n->n_outputs : 1), sizeof(mt_tensor *));
        if (!n->buf) { mt_decref(g); mt_error(MT_ERR_MEMORY, "out of memory"); return -1; }
    }
    if (!n->buf[slot]) { n->buf[slot] = g; return 0; }
    mt_tensor *s = mt_add(n->buf[slot], g);
    mt_decref(g);
    if (!s) return -1;
    mt_decref(n->buf[slot]);
    n->buf[slot] = s;
    return 0;
}

static void buf_clear(mt_node *n) {
    if (!n->buf) return;
    for (int k = 0; k < (n->n_outputs ? n->n_outputs : 1); k++) mt_decref(n->buf[k]);
    free(n->buf);
    n->buf = NULL;
}

int mt_backward(int n_roots, mt_tensor **roots, mt_tensor **grad_roots, bool retain_graph,
                int n_inputs, mt_tensor **inputs, mt_tensor **results, bool allow_unused) {
    uint64_t ep = ++epoch;
    mt_node **all = NULL;
    int n_all = 0, cap_all = 0, rc = -1;
    mt_node **stack = NULL;
    int sp = 0, cap_sp = 0;
    heap h = {NULL, 0, 0};
    bool prev_mode = mt_grad_enabled;
    /* capture targets for autograd.grad: (node, slot) of each input */
    mt_node **cap_node = NULL;
    int *cap_slot = NULL;
    mt_node **owned = NULL; /* accumulators created for this call (new refs) */
    int n_owned = 0, cap_owned = 0;

#define PUSH(arr, n_, cap_, x)                                                                     \
    do {                                                                                           \
        if (n_ == cap_) {                                                                          \
            cap_ = cap_ ? cap_ * 2 : 64;                                                           \
            void *p_ = realloc(arr, sizeof(*arr) * (size_t)cap_);                                  \
            if (!p_) { mt_error(MT_ERR_MEMORY, "out of memory"); goto done; }                      \
            arr = p_;                                                                              \
        }                                                                                          \
        arr[n_++] = x;                                                                             \
    } while (0)

    for (int r = 0; r < n_roots; r++) {
        if (!roots[r]->requires_grad) {
            mt_error(MT_ERR_RUNTIME, "element %d of tensors does not require grad and does not have a grad_fn", r);
            goto done;
        }
    }
    if (n_inputs) {
        cap_node = calloc((size_t)n_inputs, sizeof(*cap_node));
        cap_slot = calloc((size_t)n_inputs, sizeof(*cap_slot));
        if (!cap_node || !cap_slot) { mt_error(MT_ERR_MEMORY, "out of memory"); goto done; }
        for (int i = 0; i < n_inputs; i++) {
            mt_tensor *t = inputs[i];
            results[i] = NULL;
            if (!t->requires_grad) {
                mt_error(MT_ERR_RUNTIME, "One of the differentiated Tensors does not require grad");
                goto done;
            }
            if (t->grad_fn) { cap_node[i] = t->grad_fn; cap_slot[i] = (int)t->output_nr; }
            else {
                cap_node[i] = grad_accumulator(t);
                if (!cap_node[i]) goto done;
                PUSH(owned, n_owned, cap_owned, cap_node[i]);
                cap_slot[i] = 0;
            }
        }
    }

    /* 1. discover the graph and count dependencies */
    for (int r = 0; r < n_roots; r++) {
        mt_node *root = roots[r]->grad_fn;
        if (!root) {
            root = grad_accumulator(roots[r]);
            if (!root) goto done;
            PUSH(owned, n_owned, cap_owned, root);
        }
        if (root->epoch != ep) {
            root->epoch = ep;
            root->deps = 0;
            PUSH(all, n_all, cap_all, root);
            PUSH(stack, sp, cap_sp, root);
        }
    }
    while (sp) {
        mt_node *n = stack[--sp];
        for (int k = 0; k < n->n_next; k++) {
            mt_node *c = n->next[k].node;
            if (!c) continue;
            if (c->epoch != ep) {
                c->epoch = ep;
                c->deps = 0;
                PUSH(all, n_all, cap_all, c);
                PUSH(stack, sp, cap_sp, c);
            }
            c->deps++;
        }
    }
    /* 2. seed the roots' buffers */
    for (int r = 0; r < n_roots; r++) {
        mt_node *root = roots[r]->grad_fn ? roots[r]->grad_fn : roots[r]->grad_acc;
        if (buf_add(root, roots[r]->grad_fn ? (int)roots[r]->output_nr : 0, mt_incref(grad_roots[r])) < 0) goto done;
    }
    for (int i = 0; i < n_all; i++)
        if (all[i]->deps == 0 && heap_push(&h, all[i]) < 0) goto done;

    /* 3. run */
    mt_grad_enabled = false;
    while (h.n) {
        mt_node *n = heap_pop(&h);
        /* .grad of non-leaf tensors that asked for it */
        for (int k = 0; k < n->n_retained; k++) {
            mt_tensor *t = n->retained[k];
            if (!t || !n->buf || !n->buf[t->output_nr]) continue;
            mt_tensor *g = n->buf[t->output_nr];
            if (!t->grad) { t->grad = mt_clone(g); if (!t->grad) goto done; }
            else { mt_tensor *s = mt_add(t->grad, g); if (!s) goto done; mt_xsetref(&t->grad, s); }
        }
        for (int i = 0; i < n_inputs; i++)
            if (cap_node[i] == n && n->buf && n->buf[cap_slot[i]]) results[i] = mt_incref(n->buf[cap_slot[i]]);
        /* a node that no gradient reached only passes the dependency count on */
        bool run = n->buf && !(n_inputs && n->vt == &accumulate_vt);
        if (run && n->released && n->had_saved) {
            mt_node_saved(n, 0); /* sets the "backward through the graph a second time" error */
            goto done;
        }
        mt_tensor *inline_gi[8] = {0};
        mt_tensor **gi = n->n_next <= 8 ? inline_gi : calloc((size_t)n->n_next, sizeof(mt_tensor *));
        if (!gi) { mt_error(MT_ERR_MEMORY, "out of memory"); goto done; }
        if (run) {
            mt_tensor *inline_go[8] = {0};
            mt_tensor **go = n->buf ? n->buf : inline_go;
            int mark = mt_pool_mark();
            int ok = n->vt->backward(n, go, gi);
            mt_pool_drain(mark);
            if (ok < 0) {
                for (int k = 0; k < n->n_next; k++) mt_decref(gi[k]);
                if (gi != inline_gi) free(gi);
                goto done;
            }
        }
        buf_clear(n);
        if (!retain_graph && run) { node_release(n); n->released = true; }
        for (int k = 0; k < n->n_next; k++) {
            mt_node *c = n->next[k].node;
            if (!c) { mt_decref(gi[k]); continue; }
            if (gi[k] && buf_add(c, (int)n->next[k].input_nr, gi[k]) < 0) {
                for (int j = k + 1; j < n->n_next; j++) mt_decref(gi[j]);
                if (gi != inline_gi) free(gi);
                goto done;
            }
            if (--c->deps == 0 && heap_push(&h, c) < 0) {
                for (int j = k + 1; j < n->n_next; j++) mt_decref(gi[j]);
                if (gi != inline_gi) free(gi);
                goto done;
            }
        }
        if (gi != inline_gi) free(gi);
    }
    if (n_inputs && !allow_unused) {
        for (int i = 0; i < n_inputs; i++)
            if (!results[i]) {
                mt_error(MT_ERR_RUNTIME, "One of the differentiated Tensors appears to not have been used in the graph. "
                                         "Set allow_unused=True if this is the desired behavior.");
                goto done;
            }
    }
    rc = 0;
done:
    mt_grad_enabled = prev_mode;
    for (int i = 0; i < n_all; i++) buf_clear(all[i]);
    if (rc < 0 && n_inputs && results)
        for (int i = 0; i < n_inputs; i++) { mt_decref(results[i]); results[i] = NULL; }
    /* accumulators created only for this call die here unless the graph holds them */
    for (int i = 0; i < n_owned; i++) mt_node_decref(owned[i]);
    free(owned);
    free(all);
    free(stack);
    free(h.a);
    free(cap_node);
    free(cap_slot);
    return rc;
#undef PUSH
}

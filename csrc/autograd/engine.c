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
bool mt_anomaly_enabled;
char *(*mt_anomaly_capture)(void);
void (*mt_anomaly_report)(const mt_node *n);
static int engine_depth; /* > 0 while a backward runs: a nested one saves the scratch it reuses */
static MT_THREAD_LOCAL bool guard_request;
void mt_backward_not_differentiable(void) { guard_request = true; }

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
    if (mt_anomaly_enabled && mt_anomaly_capture) n->anomaly_trace = mt_anomaly_capture();
    return n;
}

const char *mt_node_name(const mt_node *n) { return n->name ? n->name : n->vt->name ? n->vt->name : "Node"; }

/* ---------------- hooks ---------------- */
static mt_hook *all_hooks;
static int64_t next_hook_id;

int64_t mt_hook_add(mt_hook **owner, mt_hook *h) {
    h->owner = owner;
    h->next = NULL;
    mt_hook **p = owner;
    while (*p) p = &(*p)->next;
    *p = h;
    h->all_prev = NULL;
    h->all_next = all_hooks;
    if (all_hooks) all_hooks->all_prev = h;
    all_hooks = h;
    return h->id = next_hook_id++;
}

static void hook_free(mt_hook *h) {
    if (h->all_prev) h->all_prev->all_next = h->all_next;
    else all_hooks = h->all_next;
    if (h->all_next) h->all_next->all_prev = h->all_prev;
    if (h->free) h->free(h);
    free(h);
}

bool mt_hook_remove(int64_t id) {
    for (mt_hook *h = all_hooks; h; h = h->all_next) {
        if (h->id != id) continue;
        mt_hook **p = h->owner;
        while (*p != h) p = &(*p)->next;
        *p = h->next;
        hook_free(h);
        return true;
    }
    return false;
}

void mt_hooks_free(mt_hook **owner) {
    while (*owner) {
        mt_hook *h = *owner;
        *owner = h->next;
        hook_free(h);
    }
}

/* runs the hooks of `kind` in list order; stops at the first failure */
static int run_hooks(mt_hook *list, int kind, int output_nr, mt_node *n, mt_tensor *t, int n_a, mt_tensor **a,
                     int n_b, mt_tensor **b) {
    for (mt_hook *h = list, *nx; h; h = nx) {
        nx = h->next; /* a hook may remove itself */
        if (h->kind != kind || (kind == MT_HOOK_TENSOR_PRE && h->output_nr != output_nr)) continue;
        if (kind == MT_HOOK_TENSOR_PRE && !a[0]) continue;
        if (h->fn(h, n, t, n_a, a, n_b, b) < 0) return -1;
    }
    return 0;
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
        if (n->hooks) mt_hooks_free(&n->hooks);
        free(n->anomaly_trace);
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
    if (t->storage->inference && !mt_inference_mode) {
        /* the op's output exists: the Python boundary raises instead of returning it */
        mt_error(MT_ERR_RUNTIME, "Inference tensors cannot be saved for backward. Please do not use Tensors created "
                                 "in inference mode in computation tracked by autograd. To work around this, you can make "
                                 "a clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` "
                                 "instead of `torch.inference_mode()`.");
        mt_autograd_record_failed = true;
        return;
    }
    mt_tensor *s = is_output ? mt_detach(t) : mt_incref((mt_tensor *)t);
    if (!s) return;
    mt_decref(n->saved[slot]);
    n->saved[slot] = s;
    n->saved_version[slot] = t->storage->version;
    n->saved_output[slot] = is_output && t->grad_fn == n ? (int8_t)(1 + t->output_nr) : 0;
    if (slot + 1 > n->n_saved) n->n_saved = slot + 1;
    n->had_saved = true;
}

static const char *type_str(const mt_tensor *t) {
    static const char *const n[MT_NUM_DTYPES] = {"BoolTensor", "IntTensor", "LongTensor", "FloatTensor",
                                                 "DoubleTensor", "ByteTensor", "CharTensor", "ShortTensor",
                                                 "HalfTensor", "BFloat16Tensor"};
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
    if (mt_grad_enabled) {
        /* create_graph: .grad keeps the gradient's history (out of place, as torch) */
        mt_tensor *r = v->grad ? mt_add(v->grad, g) : mt_clone(g);
        if (!r) return -1;
        mt_xsetref(&v->grad, r);
    } else if (!v->grad) {
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
    return run_hooks(v->hooks, MT_HOOK_POST_ACC, 0, n, v, 0, NULL, 0, NULL);
}
static const mt_node_vt accumulate_vt = {"AccumulateGrad", accumulate_backward, NULL, true};

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

static void set_edges_at(mt_node *n, int first, int n_in, mt_tensor *const *inputs) {
    for (int i = first; i < first + n_in; i++) {
        mt_tensor *t = inputs[i - first];
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

void mt_node_set_edges(mt_node *n, int n_in, mt_tensor *const *inputs) { set_edges_at(n, 0, n_in, inputs); }

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

/* ---------------- create_graph helpers ---------------- */
/* Under create_graph a saved output must lead back to its node, so that the backward formula's use
 * of it is differentiated too (exp's backward is g * exp(x): its own derivative needs exp's node).
 * The node keeps outputs detached (an output holding its node holding it would be a cycle); for the
 * call, the slot holds an alias whose grad_fn is the node. */
/* values' alias whose history is output `output_nr` of fn (the reference to fn is consumed) */
static mt_tensor *alias_with_history(mt_tensor *values, mt_node *fn, uint32_t output_nr) {
    mt_tensor *a = mt_detach(values);
    if (!a) { mt_node_decref(fn); return NULL; }
    a->grad_fn = fn;
    a->output_nr = output_nr;
    a->requires_grad = true;
    return a;
}

static int relink_saved_outputs(mt_node *n, mt_tensor **orig) {
    for (int k = 0; k < n->n_saved; k++) {
        orig[k] = NULL;
        if (!n->saved_output[k] || !n->saved[k]) continue;
        mt_node_incref(n);
        mt_tensor *a = alias_with_history(n->saved[k], n, (uint32_t)(n->saved_output[k] - 1));
        if (!a) return -1;
        orig[k] = n->saved[k];
        n->saved[k] = a;
    }
    return 0;
}
static void restore_saved_outputs(mt_node *n, mt_tensor **orig) {
    for (int k = 0; k < n->n_saved; k++)
        if (orig[k]) { mt_decref(n->saved[k]); n->saved[k] = orig[k]; orig[k] = NULL; }
}

static int no_double_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    (void)go; (void)gi;
    mt_error(MT_ERR_NOTIMPL, "the derivative of %s's gradient (double backward, create_graph=True) is not "
                             "implemented in minitorch", (const char *)n->extra);
    return -1;
}
static const mt_node_vt no_double_vt = {"NotImplemented", no_double_backward, NULL};

/* A gradient computed by a backward that is not itself differentiable gets a node that raises when
 * a later backward reaches it; its edges are everything the gradient depends on (the node's inputs
 * and the incoming gradients). The gradient is left alone when nothing there requires grad. */
static int guard_gradients(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    int n_out = n->n_outputs ? n->n_outputs : 1;
    bool any = false;
    for (int j = 0; j < n->n_next; j++) any |= n->next[j].node != NULL;
    for (int k = 0; k < n_out; k++) any |= go[k] && go[k]->requires_grad;
    if (!any) return 0;
    for (int i = 0; i < n->n_next; i++) {
        if (!gi[i]) continue;
        mt_node *e = mt_node_new(&no_double_vt, n->n_next + n_out, 1);
        if (!e) return -1;
        e->extra = (void *)mt_node_name(n);
        memcpy(e->next, n->next, sizeof(mt_edge) * (size_t)n->n_next);
        for (int j = 0; j < n->n_next; j++) mt_node_incref(e->next[j].node);
        set_edges_at(e, n->n_next, n_out, go);
        mt_tensor *a = alias_with_history(gi[i], e, 0);
        if (!a) return -1;
        mt_xsetref(&gi[i], a);
    }
    return 0;
}

/* Fused ops keep contiguous or cast copies of their inputs, which have no history. A backward that
 * runs under create_graph uses this alias instead: the saved values, with an identity node whose edge
 * is the node's input k, so that what the formula does with them is differentiated w.r.t. that input. */
static int identity_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    gi[0] = mt_node_grad_for(n, 0, mt_incref(go[0]));
    return gi[0] ? 0 : -1;
}
static const mt_node_vt identity_vt = {"AliasBackward0", identity_backward, NULL, true};

/* values' alias behind an identity node: inputs[0]'s history, or the edge given when inputs is NULL */
static mt_tensor *identity_alias(mt_tensor *values, mt_tensor *input, const mt_edge *edge) {
    mt_node *e = mt_node_new(&identity_vt, 1, 1);
    if (!e) return NULL;
    if (input) set_edges_at(e, 0, 1, &input);
    else {
        e->next[0] = *edge;
        mt_node_incref(edge->node);
    }
    mt_node_set_meta(e, 0, values);
    return alias_with_history(values, e, 0);
}

mt_tensor *mt_node_input_alias(mt_node *n, int k, mt_tensor *values) {
    if (!values) return NULL;
    if (!mt_create_graph_active || !n->next[k].node) return mt_incref(values);
    return identity_alias(values, NULL, &n->next[k]);
}

mt_tensor *mt_with_history_of(mt_tensor *copy, mt_tensor *src) {
    if (!copy) return NULL;
    return src->requires_grad ? identity_alias(copy, src, NULL) : mt_incref(copy);
}

/* any NaN in t (anomaly mode) */
static int has_nan(mt_tensor *t) {
    if (!mt_is_floating(t->dtype)) return 0;
    mt_tensor *m = mt_unary(MT_U_ISNAN, t);
    int v = m ? mt_any_true(m) : -1;
    mt_decref(m);
    return v;
}

/* the scratch a nested backward reuses on a node an outer backward is also walking */
typedef struct { mt_node *n; uint64_t epoch; int64_t deps; mt_tensor **buf; bool needed; } saved_scratch;

static int by_seq(const void *a, const void *b) {
    uint64_t x = (*(mt_node *const *)a)->seq, y = (*(mt_node *const *)b)->seq;
    return x < y ? -1 : x > y;
}

int mt_backward(int n_roots, mt_tensor **roots, mt_tensor **grad_roots, bool retain_graph, bool create_graph,
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
    saved_scratch *outer = NULL; /* nested call: the outer walk's scratch on the nodes this one visits */
    int n_outer = 0, cap_outer = 0;
    bool nested = engine_depth > 0;
    engine_depth++;

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
    /* first visit of node x in this call */
#define VISIT(x)                                                                                   \
    do {                                                                                           \
        if (nested) {                                                                              \
            saved_scratch s_ = {x, x->epoch, x->deps, x->buf, x->needed};                                     \
            PUSH(outer, n_outer, cap_outer, s_);                                                   \
            x->buf = NULL;                                                                         \
        }                                                                                          \
        x->epoch = ep;                                                                             \
        x->deps = 0;                                                                               \
        PUSH(all, n_all, cap_all, x);                                                              \
        PUSH(stack, sp, cap_sp, x);                                                                \
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
        if (root->epoch != ep) VISIT(root);
    }
    while (sp) {
        mt_node *n = stack[--sp];
        for (int k = 0; k < n->n_next; k++) {
            mt_node *c = n->next[k].node;
            if (!c) continue;
            if (c->epoch != ep) VISIT(c);
            c->deps++;
        }
    }
    /* autograd.grad computes only what leads to its inputs (as torch's exec_info): a node is needed when
       it is captured or has a needed child; inputs come before their users in creation order */
    if (n_inputs) {
        mt_node **order = malloc(sizeof(*order) * (size_t)(n_all ? n_all : 1));
        if (!order) { mt_error(MT_ERR_MEMORY, "out of memory"); goto done; }
        memcpy(order, all, sizeof(*order) * (size_t)n_all);
        qsort(order, (size_t)n_all, sizeof(*order), by_seq);
        /* captured first: a leaf's accumulator may be newer than its users (it is made on demand) */
        for (int i = 0; i < n_all; i++) all[i]->needed = false;
        for (int j = 0; j < n_inputs; j++) cap_node[j]->needed = true;
        for (int i = 0; i < n_all; i++) {
            mt_node *n = order[i];
            for (int k = 0; k < n->n_next && !n->needed; k++) n->needed = n->next[k].node && n->next[k].node->needed;
        }
        free(order);
    }
    /* 2. seed the roots' buffers */
    for (int r = 0; r < n_roots; r++) {
        mt_node *root = roots[r]->grad_fn ? roots[r]->grad_fn : roots[r]->grad_acc;
        if (buf_add(root, roots[r]->grad_fn ? (int)roots[r]->output_nr : 0, mt_incref(grad_roots[r])) < 0) goto done;
    }
    for (int i = 0; i < n_all; i++)
        if (all[i]->deps == 0 && heap_push(&h, all[i]) < 0) goto done;

    /* 3. run */
    mt_grad_enabled = create_graph;
    while (h.n) {
        mt_node *n = heap_pop(&h);
        int n_out = n->n_outputs ? n->n_outputs : 1;
        /* a node that no gradient reached, or (autograd.grad) that leads to no input, only passes the
           dependency count on */
        bool run = n->buf && !(n_inputs && (n->vt == &accumulate_vt || !n->needed));
        /* autograd.grad takes a node's gradient before its tensor hooks when the node runs on (torch's
           order), after them when the walk stops there (a leaf) */
        for (int i = 0; run && i < n_inputs; i++)
            if (cap_node[i] == n && n->buf[cap_slot[i]]) results[i] = mt_incref(n->buf[cap_slot[i]]);
        if (n->buf) {
            /* tensor hooks (a leaf's live on the leaf), then node pre-hooks, see the incoming gradients */
            mt_hook *th = n->vt == &accumulate_vt ? (n->variable ? n->variable->hooks : NULL) : n->hooks;
            for (int k = 0; th && k < n_out; k++)
                if (run_hooks(th, MT_HOOK_TENSOR_PRE, k, n, NULL, 1, &n->buf[k], 0, NULL) < 0) goto fail_node;
            if (n->hooks && run && run_hooks(n->hooks, MT_HOOK_NODE_PRE, 0, n, NULL, n_out, n->buf, 0, NULL) < 0)
                goto fail_node;
        }
        /* .grad of non-leaf tensors that asked for it (after their hooks, as torch) */
        for (int k = 0; k < n->n_retained; k++) {
            mt_tensor *t = n->retained[k];
            if (!t || !n->buf || !n->buf[t->output_nr]) continue;
            mt_tensor *g = n->buf[t->output_nr];
            if (!t->grad) { t->grad = mt_clone(g); if (!t->grad) goto done; }
            else { mt_tensor *s = mt_add(t->grad, g); if (!s) goto done; mt_xsetref(&t->grad, s); }
        }
        for (int i = 0; !run && i < n_inputs; i++)
            if (cap_node[i] == n && n->buf && n->buf[cap_slot[i]]) results[i] = mt_incref(n->buf[cap_slot[i]]);
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
            mt_tensor *orig[MT_NODE_MAX_SAVED] = {0};
            bool diff = create_graph && n->vt->differentiable;
            int mark = mt_pool_mark();
            int ok = diff ? relink_saved_outputs(n, orig) : 0;
            if (ok == 0) {
                bool prev_active = mt_create_graph_active;
                mt_grad_enabled = mt_create_graph_active = diff;
                guard_request = false;
                /* autograd.grad: hide the edges that lead to no input, so the formula skips those gradients */
                mt_edge hidden_inline[8], *hidden = NULL;
                int n_hidden = 0;
                if (n_inputs) {
                    for (int k = 0; k < n->n_next; k++) n_hidden += n->next[k].node && !n->next[k].node->needed;
                    if (n_hidden) {
                        hidden = n->n_next <= 8 ? hidden_inline : malloc(sizeof(mt_edge) * (size_t)n->n_next);
                        if (!hidden) { mt_error(MT_ERR_MEMORY, "out of memory"); goto done; }
                        memcpy(hidden, n->next, sizeof(mt_edge) * (size_t)n->n_next);
                        for (int k = 0; k < n->n_next; k++)
                            if (n->next[k].node && !n->next[k].node->needed) n->next[k].node = NULL;
                    }
                }
                ok = n->vt->backward(n, go, gi);
                if (n_hidden) {
                    for (int k = 0; k < n->n_next; k++) {
                        if (!n->next[k].node && hidden[k].node) { mt_decref(gi[k]); gi[k] = NULL; }
                        n->next[k] = hidden[k];
                    }
                    if (hidden != hidden_inline) free(hidden);
                }
                if (guard_request) diff = false;
                mt_grad_enabled = create_graph;
                mt_create_graph_active = prev_active;
            }
            restore_saved_outputs(n, orig);
            mt_pool_drain(mark);
            if (ok == 0 && create_graph && !diff) ok = guard_gradients(n, go, gi);
            if (ok == 0 && n->hooks) ok = run_hooks(n->hooks, MT_HOOK_NODE_POST, 0, n, NULL, n->n_next, gi, n_out, go);
            for (int k = 0; ok == 0 && mt_anomaly_enabled && k < n->n_next; k++) {
                int bad = gi[k] ? has_nan(gi[k]) : 0;
                if (bad > 0) mt_error(MT_ERR_RUNTIME, "Function '%s' returned nan values in its %dth output.", mt_node_name(n), k);
                if (bad) ok = -1;
            }
            if (ok < 0) {
                if (mt_anomaly_enabled && mt_anomaly_report) mt_anomaly_report(n);
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
        continue;
    fail_node:
        if (mt_anomaly_enabled && mt_anomaly_report) mt_anomaly_report(n);
        goto done;
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
    for (int i = n_outer - 1; i >= 0; i--) { /* give the outer walk its scratch back */
        outer[i].n->epoch = outer[i].epoch;
        outer[i].n->deps = outer[i].deps;
        outer[i].n->buf = outer[i].buf;
        outer[i].n->needed = outer[i].needed;
    }
    free(outer);
    engine_depth--;
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
#undef VISIT
}

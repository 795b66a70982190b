/* Reverse-mode autograd: graph nodes and the backward engine.
 *
 * A node is created by a differentiable op when grad mode is on and an input
 * requires grad. Its edges point at the nodes that produced its inputs (or at
 * a leaf's AccumulateGrad node). Backward formulas are written with ops, so a
 * new device needs only forward kernels. Saved tensors are stored with their
 * storage version; an in-place change before backward is reported. */
#ifndef MT_AUTOGRAD_H
#define MT_AUTOGRAD_H

#include "../core/mt.h"

#define MT_NODE_MAX_SAVED 4
#define MT_NODE_INLINE_EDGES 3

typedef struct mt_edge { struct mt_node *node; uint32_t input_nr; } mt_edge;

typedef struct mt_node mt_node;
typedef struct mt_node_vt {
    const char *name;
    /* grads_out[k]: gradient w.r.t. output k (borrowed, NULL when no gradient reached it).
       Fill grads_in[j] (new refs, or NULL) for each next edge j. Runs with grad mode off, or on
       under create_graph=True. */
    int (*backward)(mt_node *n, mt_tensor **grads_out, mt_tensor **grads_in);
    /* frees op-specific payload (n->extra); may be NULL */
    void (*release)(mt_node *n);
    /* true when backward is written with recorded ops only, so that under create_graph=True its
       gradients carry their own history. A node without it runs its backward with grad mode off
       and its gradients get a node that raises when differentiated (never a silent zero). */
    bool differentiable;
} mt_node_vt;

/* Hooks (Tensor.register_hook, Node.register_hook/register_prehook,
 * register_post_accumulate_grad_hook). The binding supplies fn; the engine calls it:
 *   TENSOR_PRE  a[0]: the gradient of output `output_nr` (of a leaf when on a tensor), may be replaced
 *   NODE_PRE    a: the node's output gradients, may be replaced
 *   NODE_POST   a: the node's input gradients (may be replaced), b: its output gradients
 *   POST_ACC    t: the leaf whose .grad was just accumulated
 * A replaced entry's old reference is released by fn. */
enum { MT_HOOK_TENSOR_PRE, MT_HOOK_NODE_PRE, MT_HOOK_NODE_POST, MT_HOOK_POST_ACC };
typedef struct mt_hook mt_hook;
struct mt_hook {
    mt_hook *next;        /* in the owner's list, in registration order */
    mt_hook **owner;      /* head of that list (a node's or a leaf tensor's) */
    mt_hook *all_prev, *all_next; /* every live hook, for removal by id */
    int kind, output_nr;
    int64_t id;
    int (*fn)(mt_hook *h, mt_node *n, mt_tensor *t, int n_a, mt_tensor **a, int n_b, mt_tensor **b);
    void (*free)(mt_hook *h);
    void *ctx;
};
/* Appends h to *owner; returns its id. */
int64_t mt_hook_add(mt_hook **owner, mt_hook *h);
/* Unlinks and frees the hook with this id; false when it is gone already. */
bool mt_hook_remove(int64_t id);
/* Frees a whole list (its owner is dying). */
void mt_hooks_free(mt_hook **owner);

/* Anomaly mode (torch.autograd.detect_anomaly): nodes record where they were created (through the
 * binding's capture), and a backward that fails or returns NaN reports it. */
extern bool mt_anomaly_enabled;
extern char *(*mt_anomaly_capture)(void);          /* malloc'd text, or NULL */
extern void (*mt_anomaly_report)(const mt_node *n); /* called with the error set */

struct mt_node {
    int64_t refcount;
    const mt_node_vt *vt;
    uint64_t seq;
    int n_next, n_outputs;
    mt_edge *next;
    mt_edge inline_next[MT_NODE_INLINE_EDGES];
    /* saved state */
    int n_saved;
    bool released;          /* saved state was freed by a backward without retain_graph */
    bool had_saved;
    mt_tensor *saved[MT_NODE_MAX_SAVED];
    uint64_t saved_version[MT_NODE_MAX_SAVED];
    int8_t saved_output[MT_NODE_MAX_SAVED]; /* 1 + output_nr for a saved output of this node, else 0 */
    mt_scalar scalar;
    double fargs[4];        /* float parameters of the op (clamp bounds, logit's eps, ...) */
    int64_t iargs[2 * MT_MAX_DIMS + 4];
    int n_iargs;
    mt_dtype in_dtype;      /* dtype of input 0, to cast gradients back */
    /* shape and dtype of up to two inputs, to sum broadcast gradients back down */
    int meta_ndim[2];
    mt_dtype meta_dtype[2];
    int64_t meta_shape[2][MT_MAX_DIMS];
    void *extra;
    /* AccumulateGrad */
    mt_tensor *variable_weak;   /* leaf; weak: the tensor clears it when it dies */
    mt_tensor *variable;        /* strong ref while the graph lives */
    /* retain_grad: outputs whose .grad should be kept (weak) */
    mt_tensor **retained;
    int n_retained;
    const char *name;       /* overrides vt->name (a custom Function's class name); not owned */
    mt_hook *hooks;
    char *anomaly_trace;    /* where the forward created this node (anomaly mode) */
    /* engine scratch */
    bool needed;            /* autograd.grad: some captured input lies below this node */
    int64_t deps;
    mt_tensor **buf;
    uint64_t epoch;
};

mt_node *mt_node_new(const mt_node_vt *vt, int n_next, int n_outputs);
/* PyTorch's name of the node (grad_fn.name()) */
const char *mt_node_name(const mt_node *n);
static inline void mt_node_incref(mt_node *n) { if (n) n->refcount++; }
void mt_node_decref(mt_node *n);

/* Saves t (or an alias of it when it is an output of the node, to avoid a cycle). */
void mt_node_save(mt_node *n, int slot, const mt_tensor *t, bool is_output);
/* Returns a borrowed saved tensor or NULL + error if freed / modified in place. */
mt_tensor *mt_node_saved(mt_node *n, int slot);
/* t itself when its storage is still at `version` (saved by a node with its own saved-tensor
 * bookkeeping, e.g. the fused LSTM), else NULL with PyTorch's "modified by an inplace operation"
 * error naming node n */
mt_tensor *mt_saved_check(const mt_node *n, mt_tensor *t, uint64_t version);

/* Under create_graph: `values` (a saved copy of the node's input k) with history leading to that input
 * (new ref; values itself, incref'd, when not under create_graph or the input needs no gradient). */
mt_tensor *mt_node_input_alias(mt_node *n, int k, mt_tensor *values);
/* `copy` (a private copy of src's values) with src's history through an identity node, so that a
 * derivative formula using the copy under create_graph is differentiated w.r.t. src (new ref). */
mt_tensor *mt_with_history_of(mt_tensor *copy, mt_tensor *src);

void mt_node_forget_retained(mt_node *n, mt_tensor *t);
int mt_retain_grad(mt_tensor *t);

/* True when an op on these inputs must record a node (grad mode on and one requires grad). */
bool mt_any_requires_grad(int n, mt_tensor *const *ts);
/* Creates the node for `out` = op(inputs...) if needed: sets edges, out->grad_fn, requires_grad.
   Returns the node (borrowed; owned by out) or NULL if no grad is needed. When the node cannot be
   allocated it returns NULL too, with the error set and mt_autograd_record_failed raised: the
   Python boundary turns that into the exception (ops need not check). */
extern bool mt_autograd_record_failed;
extern int mt_debug_fail_node_allocs; /* test hook: fail the next k node allocations */
mt_node *mt_autograd_record(const mt_node_vt *vt, mt_tensor *out, int n_in, mt_tensor *const *inputs);
/* Multi-output version: outs[k] gets output_nr k. */
mt_node *mt_autograd_record_n(const mt_node_vt *vt, int n_out, mt_tensor **outs, int n_in, mt_tensor *const *inputs);

/* Sets the edges of node from inputs (used by custom nodes). */
void mt_node_set_edges(mt_node *n, int n_in, mt_tensor *const *inputs);

/* backward(): roots with their gradients (new refs are not taken). If `inputs` is given
   (autograd.grad), their gradients are returned in `results` (new refs) and .grad is not touched.
   create_graph runs the backward formulas with grad mode on, so the gradients have a history.
   Safe to call from inside a backward (a custom Function's backward, checkpointing). */
int mt_backward(int n_roots, mt_tensor **roots, mt_tensor **grad_roots, bool retain_graph, bool create_graph,
                int n_inputs, mt_tensor **inputs, mt_tensor **results, bool allow_unused);

/* Called by a backward formula under create_graph that cannot keep its gradients' history for this
 * call (a special case of its input): the engine then guards them as for a non-differentiable node. */
void mt_backward_not_differentiable(void);

/* Records input k's shape and dtype; mt_node_grad_for then turns a raw gradient (consumed) into
   one of that shape and dtype (new ref). */
void mt_node_set_meta(mt_node *n, int k, const mt_tensor *t);
mt_tensor *mt_node_grad_for(mt_node *n, int k, mt_tensor *raw);
static inline bool mt_node_needs(const mt_node *n, int k) { return k < n->n_next && n->next[k].node != NULL; }

/* Sum `g` down to shape (undoing broadcasting). New ref. */
mt_tensor *mt_sum_to(mt_tensor *g, const int64_t *shape, int ndim);

#endif

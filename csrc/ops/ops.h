/* Every op of the core, device-neutral, with autograd.
 * Returns a new reference or NULL (error set). Tensor arguments are borrowed
 * and may be NULL (then NULL is returned: errors propagate through nesting). */
#ifndef MT_OPS_H
#define MT_OPS_H

#include "../core/mt.h"
#include "../core/backend.h"

/* ---- elementwise op ids, from the declarations in elementwise_ops.h ---- */
#include "elementwise_ops.h"
#define MT_ENUM_U(ID, name, ...) MT_U_##ID,
#define MT_ENUM_B(ID, name, ...) MT_B_##ID,
enum { MT_UNARY_OPS(MT_ENUM_U) MT_NUM_UNARY };
enum { MT_BINARY_OPS(MT_ENUM_B) MT_NUM_BINARY };
#undef MT_ENUM_U
#undef MT_ENUM_B

/* per-op facts of the declarations (elementwise.c), for the bindings and the manifest */
typedef struct mt_ew_decl {
    const char *name, *node, *node_scalar, *node_scalar_first;
    const char *derivative;    /* the derivative column, as written */
    int kind, variants, saves; /* saves: MT_S_* (unary) or (DA_USES | DB_USES << 4) (binary) */
} mt_ew_decl;
/* false: not differentiable, or backward raises "derivative for aten::<op> is not implemented" */
bool mt_ew_has_derivative(const mt_ew_decl *d);
extern const mt_ew_decl mt_unary_decls[MT_NUM_UNARY];
extern const mt_ew_decl mt_binary_decls[MT_NUM_BINARY];

/* ---- elementwise ---- */
mt_tensor *mt_unary(int op, mt_tensor *a);
mt_tensor *mt_unary_(int op, mt_tensor *a);                 /* in place; returns new ref to a */
mt_tensor *mt_clamp(mt_tensor *a, const mt_scalar *lo, const mt_scalar *hi, bool inplace);
/* clamp with tensor bounds (either may be NULL): broadcast and type-promoted, ClampBackward0 */
mt_tensor *mt_clamp_t(mt_tensor *a, mt_tensor *lo, mt_tensor *hi, bool inplace);
/* unary ops with parameters (logit, nan_to_num): prm as the declaration describes */
mt_tensor *mt_unary_p(int op, mt_tensor *a, const double *prm, int nprm, bool inplace);
/* logit's clamp bounds [eps, 1 - eps] as torch's kernel makes them in the float dtype d: eps converted to d,
   then 1 - eps computed in d (float16: 1 - 1e-6 is 1) */
void mt_logit_bounds(mt_dtype d, double eps, double *lo, double *hi);
mt_tensor *mt_binary(int op, mt_tensor *a, mt_tensor *b);
mt_tensor *mt_binary_s(int op, mt_tensor *a, mt_scalar s, bool scalar_first);
/* In place: self op= other (other tensor or scalar when other == NULL). Returns new ref to self. */
mt_tensor *mt_binary_(int op, mt_tensor *self, mt_tensor *other, const mt_scalar *s);
/* add/sub(a, other, alpha=alpha): other the tensor b or (b NULL) the number s; inplace: a +-= alpha * other */
mt_tensor *mt_add_alpha(int op, mt_tensor *a, mt_tensor *b, const mt_scalar *s, mt_scalar alpha, bool inplace);
mt_tensor *mt_where(mt_tensor *cond, mt_tensor *a, mt_tensor *b);
/* a Python-number operand of where: s as a 0-d tensor of the result dtype rt, checked to fit when rt is an integer
 * dtype (torch's "value cannot be converted to type int without overflow"), rounded (inf included) when a float */
mt_tensor *mt_where_scalar(const mt_scalar *s, mt_dtype rt, mt_device dev);

#define mt_add(a, b) mt_binary(MT_B_ADD, a, b)
#define mt_sub(a, b) mt_binary(MT_B_SUB, a, b)
#define mt_mul(a, b) mt_binary(MT_B_MUL, a, b)
#define mt_div(a, b) mt_binary(MT_B_DIV, a, b)
#define mt_muls(a, v) mt_binary_s(MT_B_MUL, a, mt_sf(v), false)
#define mt_adds(a, v) mt_binary_s(MT_B_ADD, a, mt_sf(v), false)
#define mt_neg(a) mt_unary(MT_U_NEG, a)

/* ---- copies, dtype, fill (ops/copy.c) ---- */
mt_tensor *mt_clone(mt_tensor *a);                          /* autograd: CloneBackward0 */
mt_tensor *mt_to_dtype(mt_tensor *a, mt_dtype dtype);       /* autograd: ToCopyBackward0; a itself if same */
mt_tensor *mt_to_device(mt_tensor *a, mt_device dev, mt_dtype dtype);
mt_tensor *mt_to_device_raw(mt_tensor *a, mt_device dev, mt_dtype dtype); /* no autograd */
mt_tensor *mt_contiguous_ag(mt_tensor *a);                  /* with autograd (CloneBackward0 when copied) */
mt_tensor *mt_copy_(mt_tensor *dst, mt_tensor *src);        /* in place, broadcasting, autograd */
mt_tensor *mt_fill_inplace(mt_tensor *t, mt_scalar v);      /* fill_/zero_ with version bump + checks */
/* Checks before an in-place write into t (ops/inplace.c): no internal overlap, and the
 * leaf-requires-grad rules. mt_check_inplace_leaf is the second half alone (fill_ allows
 * writing into an expanded tensor, as PyTorch's does). */
int mt_check_inplace(mt_tensor *t);
int mt_check_inplace_leaf(mt_tensor *t);
/* PyTorch's checks that src may be read while dst is written: _partial allows src to be dst
 * itself (an elementwise op reads each element before writing it); the other raises then too. */
int mt_check_no_partial_overlap(const mt_tensor *dst, const mt_tensor *src);
int mt_check_no_overlap(const mt_tensor *dst, const mt_tensor *src);
/* Commits an in-place op computed out of place into res (consumed): copies into self and moves the
   history onto self, or rebases self's base (CopySlices) when self is a view. New ref to self. */
mt_tensor *mt_commit_inplace(mt_tensor *self, mt_tensor *res);
bool mt_inplace_needs_history(const mt_tensor *t, const mt_tensor *other);
void mt_bump_version(mt_tensor *t);

/* ---- shape and views (ops/shape.c) ---- */
mt_tensor *mt_view(mt_tensor *a, const int64_t *shape, int ndim);  /* shape may contain one -1 */
mt_tensor *mt_reshape(mt_tensor *a, const int64_t *shape, int ndim);
mt_tensor *mt_as_strided(mt_tensor *a, const int64_t *shape, const int64_t *strides, int ndim, int64_t offset);
mt_tensor *mt_permute(mt_tensor *a, const int64_t *dims, int ndim);
mt_tensor *mt_transpose(mt_tensor *a, int64_t d0, int64_t d1);
mt_tensor *mt_t(mt_tensor *a);
mt_tensor *mt_unsqueeze(mt_tensor *a, int64_t dim);
mt_tensor *mt_squeeze(mt_tensor *a, const int64_t *dims, int ndims); /* ndims < 0: all size-1 dims */
mt_tensor *mt_expand(mt_tensor *a, const int64_t *shape, int ndim);
mt_tensor *mt_flatten(mt_tensor *a, int64_t start, int64_t end);
mt_tensor *mt_narrow(mt_tensor *a, int64_t dim, int64_t start, int64_t length);
mt_tensor *mt_slice(mt_tensor *a, int64_t dim, int64_t start, int64_t stop, int64_t step); /* normalised */
mt_tensor *mt_select(mt_tensor *a, int64_t dim, int64_t index);
mt_tensor *mt_cat(int n, mt_tensor *const *ts, int64_t dim);
mt_tensor *mt_stack(int n, mt_tensor *const *ts, int64_t dim);
mt_tensor *mt_repeat(mt_tensor *a, const int64_t *reps, int n);
/* n views along dim with the given sizes (unbind: size 1 each, dim removed), sharing one node. */
enum { MT_SPLIT_EQUAL, MT_SPLIT_SIZES, MT_SPLIT_UNBIND };
int mt_split(mt_tensor *a, const int64_t *sizes, int n, int64_t dim, int kind, mt_tensor **outs);

/* ---- reductions (ops/reduce.c) ---- */
enum { MT_RED_SUM, MT_RED_MEAN, MT_RED_PROD, MT_RED_MAX, MT_RED_MIN, MT_RED_ALL, MT_RED_ANY, MT_RED_VAR,
       MT_RED_LOGSUMEXP, MT_RED_NORM, MT_RED_ARGMAX, MT_RED_ARGMIN };
/* dims == NULL / ndims == 0 with all_dims: reduce everything. */
mt_tensor *mt_reduce(int op, mt_tensor *a, const int64_t *dims, int ndims, bool keepdim, double p, int dtype_or_neg);
/* 1 when any element of t is nonzero (true), 0 when none, -1 with the error set; reads one value back
   from t's device */
int mt_any_true(mt_tensor *t);
mt_tensor *mt_sum(mt_tensor *a);
/* max/min along one dim: values and int64 indices */
int mt_max_dim(mt_tensor *a, int64_t dim, bool keepdim, bool is_min, mt_tensor **values, mt_tensor **indices);
mt_tensor *mt_softmax(mt_tensor *a, int64_t dim, bool log);
/* ---- reductions: extra entry points (ops/reduce.c) ---- */
/* var / std over dims (NULL / 0: all) with Bessel-style correction (1: unbiased). std records
   StdBackward0 (not SqrtBackward0 over VarBackward0). */
mt_tensor *mt_var(mt_tensor *a, const int64_t *dims, int ndims, bool keepdim, double correction);
mt_tensor *mt_std(mt_tensor *a, const int64_t *dims, int ndims, bool keepdim, double correction);
/* ---- end of reductions block ---- */

/* ---- scans and triangles (ops/scan.c) ---- */
enum { MT_SCAN_SUM, MT_SCAN_PROD, MT_SCAN_MAX, MT_SCAN_MIN, MT_SCAN_LOGSUMEXP };
/* cumsum / cumprod / logcumsumexp along dim, torch's dtype rules: dtype_or_neg >= 0 casts the input first,
   else integer and bool inputs give int64 (cumsum, cumprod). Nodes CumsumBackward0, CumprodBackward0,
   LogcumsumexpBackward0. inplace: the result is written into a (dtype must then match a's: torch's error). */
mt_tensor *mt_cumulative(int op, mt_tensor *a, int64_t dim, int dtype_or_neg, bool inplace);
/* cummax / cummin along dim: values (a's dtype) and int64 indices; node CummaxBackward0 / CumminBackward0 */
int mt_cummaxmin(mt_tensor *a, int64_t dim, bool is_min, mt_tensor **values, mt_tensor **indices);
/* tril / triu of the last two dims (batched); TrilBackward0 / TriuBackward0 */
mt_tensor *mt_tri(mt_tensor *a, int64_t diagonal, bool upper, bool inplace);
/* tril_indices / triu_indices: [2, n] of dtype (int32 or int64) on CPU */
mt_tensor *mt_tri_indices(int64_t row, int64_t col, int64_t offset, bool upper, mt_dtype dtype);

/* ---- fused attention (ops/attention.c): softmax(scale * q k^T + mask, causal) v of float CPU tensors
 * q [B..., L, E], k [B..., S, E], v [B..., S, Ev] (the same batch dims B, N elements in all); mask NULL or
 * additive [1 or N, L, S] of q's dtype (not differentiated); out [B..., L, Ev]; node
 * ScaledDotProductFlashAttentionForCpuBackward0 differentiating q, k and v ---- */
mt_tensor *mt_sdpa(mt_tensor *q, mt_tensor *k, mt_tensor *v, mt_tensor *mask, bool causal, double scale);

/* ---- matmul (ops/matmul.c) ---- */
mt_tensor *mt_matmul(mt_tensor *a, mt_tensor *b);
mt_tensor *mt_mm(mt_tensor *a, mt_tensor *b);
mt_tensor *mt_bmm(mt_tensor *a, mt_tensor *b);
mt_tensor *mt_addmm(mt_tensor *c, mt_tensor *a, mt_tensor *b, double beta, double alpha);
mt_tensor *mt_dot(mt_tensor *a, mt_tensor *b);
mt_tensor *mt_outer(mt_tensor *a, mt_tensor *b);

/* ---- indexing (ops/index.c) ---- */
mt_tensor *mt_index_select(mt_tensor *a, int64_t dim, mt_tensor *index);
mt_tensor *mt_gather(mt_tensor *a, int64_t dim, mt_tensor *index);
mt_tensor *mt_scatter(mt_tensor *a, int64_t dim, mt_tensor *index, mt_tensor *src, const mt_scalar *value, bool inplace, bool add);
mt_tensor *mt_masked_fill(mt_tensor *a, mt_tensor *mask, mt_scalar v, bool inplace);
mt_tensor *mt_index_add_zeros(mt_tensor *g, int64_t dim, mt_tensor *index, int64_t size); /* backward of index_select */

/* ---- random (ops/random.c) ---- */
enum { MT_RAND_UNIFORM, MT_RAND_NORMAL, MT_RAND_INT };
/* gen: the generator to draw from, NULL for the device's default one */
struct mt_generator;
int mt_random_(mt_tensor *t, int kind, double a, double b, struct mt_generator *gen);

#endif

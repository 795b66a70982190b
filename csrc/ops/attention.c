/* Fused scaled dot-product attention on the CPU: out = softmax(scale * q k^T + mask) v over [N, L, E] x
 * [N, S, E] x [N, S, Ev], with one pass between the two batched GEMMs (scale, the causal or additive mask,
 * the row softmax) instead of the half-dozen ops and T x T temporaries of the composed form, and a backward
 * of four GEMMs around one pass (dS = P * (dP - rowsum(P * dP)) * scale).
 *
 * The probabilities P [N, L, S] are kept for the backward, as PyTorch's math path keeps them: memory is
 * N L S values, the same as the composed form's, not the O(L) of a flash (tiled, online-softmax) kernel.
 * A row whose every key is masked gives zeros (the composed form's safe softmax; PyTorch's CPU flash kernel
 * does the same). Under create_graph the backward is recorded as ops of q, k and v. */
#include "ops.h"
#include "vecmath.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../autograd/autograd.h"
#include "../core/backend.h"

typedef struct attn_info {
    int64_t N, L, S, E, Ev;
    double scale;
    bool causal;
    mt_tensor *mask; /* owned: the additive mask [1 or N, L, S] (contiguous, q's dtype), or NULL */
} attn_info;

/* keys visible to query row i: all, or (causal, top-left aligned as torch's is_causal) j <= i */
static inline int64_t visible(const attn_info *I, int64_t i) { return I->causal ? (i + 1 < I->S ? i + 1 : I->S) : I->S; }

#define LANES 16 /* independent accumulators, so that the row loops vectorise (no reassociation needed) */

#define DEFINE_ATTN(T, SFX, EXP)                                                                                      \
    MT_CLONES static double row_dot_##SFX(const T *a, const T *b, int64_t n) {                                        \
        double acc[LANES] = {0}, s = 0;                                                                               \
        int64_t j = 0;                                                                                                \
        for (; j + LANES <= n; j += LANES)                                                                            \
            for (int l = 0; l < LANES; l++) acc[l] += (double)a[j + l] * (double)(b ? b[j + l] : (T)1);               \
        for (; j < n; j++) s += (double)a[j] * (double)(b ? b[j] : (T)1);                                             \
        for (int l = 0; l < LANES; l++) s += acc[l];                                                                  \
        return s;                                                                                                     \
    }                                                                                                                 \
    /* the row's max, NaN if it holds one */                                                                          \
    MT_CLONES static T row_max_##SFX(const T *p, int64_t n) {                                                         \
        T m[LANES];                                                                                                   \
        int nan[LANES] = {0};                                                                                         \
        for (int l = 0; l < LANES; l++) m[l] = -INFINITY;                                                             \
        int64_t j = 0;                                                                                                \
        for (; j + LANES <= n; j += LANES)                                                                            \
            for (int l = 0; l < LANES; l++) {                                                                         \
                T x = p[j + l];                                                                                       \
                m[l] = x > m[l] ? x : m[l];                                                                           \
                nan[l] |= x != x;                                                                                     \
            }                                                                                                         \
        T r = -INFINITY;                                                                                              \
        int any = 0;                                                                                                  \
        for (; j < n; j++) { r = p[j] > r ? p[j] : r; any |= p[j] != p[j]; }                                         \
        for (int l = 0; l < LANES; l++) { r = m[l] > r ? m[l] : r; any |= nan[l]; }                                  \
        return any ? (T)NAN : r;                                                                                      \
    }                                                                                                                 \
    /* P holds q k^T; each row becomes softmax(scale * row + mask), zeros past the visible keys */                     \
    MT_CLONES static void attn_softmax_##SFX(const attn_info *I, T *P, const T *mask, int64_t mask_n) {               \
        const int64_t rows = I->N * I->L, S = I->S;                                                                   \
        const T scale = (T)I->scale;                                                                                  \
        _Pragma("omp parallel for schedule(static) if (rows * S >= 32768)") for (int64_t r = 0; r < rows; r++) {      \
            int64_t i = r % I->L, n = r / I->L, jn = visible(I, i);                                                   \
            T *p = P + r * S;                                                                                         \
            const T *mk = mask ? mask + ((mask_n == 1 ? 0 : n) * I->L + i) * S : NULL;                                \
            if (mk)                                                                                                   \
                for (int64_t j = 0; j < jn; j++) p[j] = p[j] * scale + mk[j];                                         \
            else                                                                                                      \
                for (int64_t j = 0; j < jn; j++) p[j] *= scale;                                                       \
            T mx = row_max_##SFX(p, jn); /* a NaN makes the row NaN, as softmax's */                                  \
            if (mx == -INFINITY) { /* every key masked */                                                             \
                memset(p, 0, sizeof(T) * (size_t)S);                                                                  \
                continue;                                                                                             \
            }                                                                                                         \
            for (int64_t j = 0; j < jn; j++) p[j] = EXP(p[j] - mx);                                                   \
            T inv = (T)(1.0 / row_dot_##SFX(p, NULL, jn));                                                            \
            for (int64_t j = 0; j < jn; j++) p[j] *= inv;                                                             \
            for (int64_t j = jn; j < S; j++) p[j] = 0;                                                                \
        }                                                                                                             \
    }                                                                                                                 \
    /* dP (holding g v^T) becomes dS = P * (dP - rowsum(P * dP)) * scale */                                           \
    MT_CLONES static void attn_softmax_bw_##SFX(const attn_info *I, const T *P, T *dP) {                              \
        const int64_t rows = I->N * I->L, S = I->S;                                                                   \
        _Pragma("omp parallel for schedule(static) if (rows * S >= 32768)") for (int64_t r = 0; r < rows; r++) {      \
            const T *p = P + r * S;                                                                                   \
            T *d = dP + r * S;                                                                                        \
            int64_t jn = visible(I, r % I->L);                                                                        \
            T t = (T)row_dot_##SFX(p, d, jn), sc = (T)I->scale;                                                       \
            for (int64_t j = 0; j < jn; j++) d[j] = p[j] * (d[j] - t) * sc;                                           \
            for (int64_t j = jn; j < S; j++) d[j] = 0;                                                                \
        }                                                                                                             \
    }
DEFINE_ATTN(float, f32, exp_neg_f32)
DEFINE_ATTN(double, f64, exp)

/* C[n] = A[n] op B[n] for the N heads, row-major, every operand contiguous [..., rows, cols] */
static int bgemm(const attn_info *I, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const mt_tensor *a,
                 const mt_tensor *b, mt_tensor *c) {
    int64_t lda = ta ? m : k, ldb = tb ? k : n;
    return mt_backend_of(c)->gemm(c->dtype, I->N, ta, tb, m, n, k, 1.0, mt_data(a), lda, m * k, mt_data(b), ldb,
                                  k * n, 0.0, mt_data(c), n, m * n);
}

/* a new tensor of like's batch dims and then (rows, cols) */
static mt_tensor *empty_like_batch(const mt_tensor *like, int64_t rows, int64_t cols) {
    int64_t shape[MT_MAX_DIMS];
    int nd = like->ndim;
    memcpy(shape, like->shape, sizeof(int64_t) * (size_t)(nd - 2));
    shape[nd - 2] = rows;
    shape[nd - 1] = cols;
    return mt_empty(shape, nd, like->dtype, mt_cpu());
}

/* ---- backward under create_graph: the same gradients, as recorded ops of q, k and v ---- */
#define P mt_pool
static int attn_backward_composed(mt_node *n, const attn_info *I, mt_tensor **sv, mt_tensor *go, mt_tensor **gi) {
    mt_tensor *q = P(mt_node_input_alias(n, 0, sv[0])), *k = P(mt_node_input_alias(n, 1, sv[1]));
    mt_tensor *v = P(mt_node_input_alias(n, 2, sv[2]));
    if (!q || !k || !v) return -1;
    int nd = q->ndim;
    mt_tensor *s = P(mt_muls(P(mt_matmul(q, P(mt_transpose(k, nd - 2, nd - 1)))), I->scale));
    if (s && I->mask) { /* [1, L, S] broadcasts; [N, L, S] takes the batch dims back */
        mt_tensor *m = I->mask->shape[0] == 1 ? I->mask : P(mt_reshape(I->mask, s->shape, nd));
        s = m ? P(mt_add(s, m)) : NULL;
    }
    if (s && I->causal) {
        int64_t shape[2] = {I->L, I->S};
        mt_tensor *hide = P(mt_empty(shape, 2, MT_BOOL, mt_cpu()));
        if (!hide) return -1;
        bool *h = (bool *)mt_data(hide);
        for (int64_t i = 0; i < I->L; i++)
            for (int64_t j = 0; j < I->S; j++) h[i * I->S + j] = j >= visible(I, i);
        s = P(mt_masked_fill(s, hide, mt_sf(-INFINITY), false));
    }
    /* rows with every key masked are zeros in the forward (their softmax here is NaN, its gradient discarded) */
    int64_t last = -1;
    mt_tensor *alive = P(mt_reduce(MT_RED_ANY, P(mt_binary_s(MT_B_NE, sv[3], mt_sf(0), false)), &last, 1, true, 0, -1));
    mt_tensor *p = s && alive ? P(mt_softmax(s, -1, false)) : NULL;
    mt_tensor *zero = p ? P(mt_zeros(NULL, 0, p->dtype, mt_cpu())) : NULL;
    if (!zero || !(p = P(mt_where(alive, p, zero)))) return -1;
    mt_tensor *g = go;
    if (mt_node_needs(n, 2) && !(gi[2] = mt_matmul(P(mt_transpose(p, nd - 2, nd - 1)), g))) return -1;
    if (!mt_node_needs(n, 0) && !mt_node_needs(n, 1)) return 0;
    mt_tensor *dp = P(mt_matmul(g, P(mt_transpose(v, nd - 2, nd - 1))));
    mt_tensor *rs = dp ? P(mt_reduce(MT_RED_SUM, P(mt_mul(p, dp)), &last, 1, true, 0, -1)) : NULL;
    mt_tensor *ds = rs ? P(mt_muls(P(mt_mul(p, P(mt_sub(dp, rs)))), I->scale)) : NULL;
    if (!ds) return -1;
    if (mt_node_needs(n, 0) && !(gi[0] = mt_matmul(ds, k))) return -1;
    if (mt_node_needs(n, 1) && !(gi[1] = mt_matmul(P(mt_transpose(ds, nd - 2, nd - 1)), q))) return -1;
    return 0;
}
#undef P

/* saved: 0 q, 1 k, 2 v, 3 P (all contiguous) */
static int attn_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    const attn_info *I = (const attn_info *)n->extra;
    gi[0] = gi[1] = gi[2] = NULL;
    if (!go[0]) return 0;
    mt_tensor *sv[4];
    for (int s = 0; s < 4; s++)
        if (!(sv[s] = mt_node_saved(n, s))) return -1;
    if (mt_create_graph_active) {
        int r = attn_backward_composed(n, I, sv, go[0], gi);
        if (r < 0) for (int k = 0; k < 3; k++) { mt_decref(gi[k]); gi[k] = NULL; }
        return r;
    }
    mt_dtype dt = sv[0]->dtype;
    mt_tensor *g = mt_contiguous(go[0]), *dq = NULL, *dk = NULL, *dv = NULL, *ds = NULL;
    int rc = -1;
    if (!g) return -1;
    if (mt_node_needs(n, 2) && (!(dv = empty_like_batch(sv[0], I->S, I->Ev)) || bgemm(I, true, false, I->S, I->Ev, I->L, sv[3], g, dv) < 0))
        goto done;
    if (mt_node_needs(n, 0) || mt_node_needs(n, 1)) {
        if (!(ds = empty_like_batch(sv[0], I->L, I->S)) || bgemm(I, false, true, I->L, I->S, I->Ev, g, sv[2], ds) < 0) goto done;
        if (dt == MT_FLOAT32) attn_softmax_bw_f32(I, (const float *)mt_data(sv[3]), (float *)mt_data(ds));
        else attn_softmax_bw_f64(I, (const double *)mt_data(sv[3]), (double *)mt_data(ds));
        if (mt_node_needs(n, 0) &&
            (!(dq = empty_like_batch(sv[0], I->L, I->E)) || bgemm(I, false, false, I->L, I->E, I->S, ds, sv[1], dq) < 0))
            goto done;
        if (mt_node_needs(n, 1) &&
            (!(dk = empty_like_batch(sv[0], I->S, I->E)) || bgemm(I, true, false, I->S, I->E, I->L, ds, sv[0], dk) < 0))
            goto done;
    }
    gi[0] = dq;
    gi[1] = dk;
    gi[2] = dv;
    dq = dk = dv = NULL;
    rc = 0;
done:
    mt_decref(g);
    mt_decref(ds);
    mt_decref(dq);
    mt_decref(dk);
    mt_decref(dv);
    return rc;
}

static void attn_release(mt_node *n) {
    attn_info *I = (attn_info *)n->extra;
    if (I) mt_decref(I->mask);
    free(I);
    n->extra = NULL;
}
static const mt_node_vt attn_vt = {"ScaledDotProductFlashAttentionForCpuBackward0", attn_backward, attn_release, true};

mt_tensor *mt_sdpa(mt_tensor *q, mt_tensor *k, mt_tensor *v, mt_tensor *mask, bool causal, double scale) {
    if (!q || !k || !v) return NULL;
    mt_dtype dt = q->dtype;
    mt_tensor *ts[4] = {q, k, v, mask};
    int nd = q->ndim;
    for (int i = 0; i < 4; i++)
        if (ts[i] && (ts[i]->storage->device.type != MT_CPU || ts[i]->dtype != dt || ts[i]->ndim != (i == 3 ? 3 : nd)))
            return mt_error(MT_ERR_RUNTIME, "_sdpa: expected CPU tensors of one dtype, q k v of one rank, a 3-D mask");
    if (dt != MT_FLOAT32 && dt != MT_FLOAT64) return mt_error(MT_ERR_RUNTIME, "_sdpa: expected float32 or float64");
    if (nd < 3) return mt_error(MT_ERR_RUNTIME, "_sdpa: expected batch dims");
    int64_t L = q->shape[nd - 2], E = q->shape[nd - 1], S = k->shape[nd - 2], Ev = v->shape[nd - 1], N = 1;
    bool ok = k->shape[nd - 1] == E && v->shape[nd - 2] == S;
    for (int d = 0; d < nd - 2; d++) {
        N *= q->shape[d];
        ok = ok && k->shape[d] == q->shape[d] && v->shape[d] == q->shape[d];
    }
    if (!ok || (mask && ((mask->shape[0] != 1 && mask->shape[0] != N) || mask->shape[1] != L || mask->shape[2] != S)))
        return mt_error(MT_ERR_RUNTIME, "_sdpa: shapes do not match");
    attn_info *I = calloc(1, sizeof *I);
    if (!I) return mt_error(MT_ERR_MEMORY, "out of memory");
    *I = (attn_info){N, L, S, E, Ev, scale, causal, NULL};
    mt_tensor *cs[3] = {NULL, NULL, NULL}, *p = NULL, *out = NULL;
    for (int i = 0; i < 3; i++)
        if (!(cs[i] = mt_contiguous(ts[i]))) goto fail;
    if (mask && !(I->mask = mt_contiguous(mask))) goto fail;
    if (!(p = empty_like_batch(q, L, S)) || !(out = empty_like_batch(q, L, Ev))) goto fail;
    if (bgemm(I, false, true, L, S, E, cs[0], cs[1], p) < 0) goto fail;
    if (dt == MT_FLOAT32)
        attn_softmax_f32(I, (float *)mt_data(p), I->mask ? (const float *)mt_data(I->mask) : NULL,
                         I->mask ? I->mask->shape[0] : 0);
    else
        attn_softmax_f64(I, (double *)mt_data(p), I->mask ? (const double *)mt_data(I->mask) : NULL,
                         I->mask ? I->mask->shape[0] : 0);
    if (bgemm(I, false, false, L, Ev, S, p, cs[2], out) < 0) goto fail;
    mt_tensor *ins[3] = {q, k, v};
    mt_node *node = mt_autograd_record(&attn_vt, out, 3, ins);
    if (node) {
        node->extra = I;
        I = NULL;
        for (int i = 0; i < 3; i++) mt_node_save(node, i, cs[i], false);
        mt_node_save(node, 3, p, false);
    }
    if (I) mt_decref(I->mask);
    free(I);
    for (int i = 0; i < 3; i++) mt_decref(cs[i]);
    mt_decref(p);
    return out;
fail:
    if (I) mt_decref(I->mask);
    free(I);
    for (int i = 0; i < 3; i++) mt_decref(cs[i]);
    mt_decref(p);
    mt_decref(out);
    return NULL;
}

/* Fused LSTM layer: forward and backward through time (contract in ops/rnn.h). The op layer here is
 * device-neutral: buffers live on the input's device, GEMMs go through mt_backend_of(x)->gemm, copies and
 * fills through the backend, and the elementwise kernels (fused gates, gate gradients, bias column sums)
 * through mt_rnn_backends[device].
 *
 * Layout: gates (T, B, 4H) contiguous, one row of 4H per (t, b) in PyTorch's gate order
 * (i, f, g, o); c (T, B, H); out (T, B, H). Weights are used as stored ((4H, I), (4H, H)) through
 * the GEMM transpose flags, never copied.
 *
 * Forward: gates = x @ w_ih^T (one GEMM for all steps); per step gates_t += h_{t-1} @ w_hh^T (one
 * GEMM) and one fused kernel: bias add, sigmoid / tanh, c_t and h_t; the activations overwrite
 * the pre-activations and are what backward reads.
 * Backward (steps in reverse order): one fused kernel turns dh_t (= dout_t + the recurrent
 * gradient) and dc_t into dgates_t and dc_{t-1}; one GEMM dh_{t-1} = dgates_t @ w_hh. After the
 * loop: dw_hh = dgates^T @ h_prev as one GEMM over steps 1..T-1 (h_prev is out shifted by one
 * step, a plain strided matrix) plus one for h0, dw_ih = dgates^T @ x, dx = dgates @ w_ih, db the
 * column sums of dgates.
 *
 * The CPU kernels, and float32 time loops with their own blocked GEMMs for CPUs with AVX-512, are
 * in ops/rnn_cpu.c. */
#include "rnn_loop.h"
#include "ops.h"
#include "../autograd/autograd.h"
#include "../core/iter.h"

#include <stdlib.h>
#include <string.h>

/* ---------------- the generic time loops ----------------
 * The input projection of all steps as one backend GEMM, then per step one GEMM and one fused
 * kernel over all batch rows (BLAS's own threads run the GEMMs); backward likewise, then the
 * weight and input gradients as one GEMM each over all steps. Float32 CPU tensors on CPUs with
 * AVX-512 take the blocked loops of ops/rnn_cpu.c instead (mt_lstm_cpu_loops_apply). */
#define ROWP(base, t, w) ((base) + (size_t)(t) * (size_t)R->B * (size_t)(w) * R->es)

static int forward_loop(const mt_lstm_loop *R) {
    int64_t T = R->T, B = R->B, I = R->I, H = R->H, G = 4 * H;
    /* (I == 0: the caller zeroed the gates) */
    if (I > 0 &&
        R->be->gemm(R->dtype, 1, false, true, T * B, G, I, 1.0, R->x, I, 0, R->w_ih, I, 0, 0.0, R->gates, G, 0) < 0)
        return -1;
    for (int64_t s = 0; s < T; s++) {
        int64_t t = R->reverse ? T - 1 - s : s, tp = R->reverse ? t + 1 : t - 1;
        char *g = ROWP(R->gates, t, G);
        const char *hp = s == 0 ? R->h0 : ROWP(R->out, tp, H);
        if (hp && R->be->gemm(R->dtype, 1, false, true, B, G, H, 1.0, hp, H, 0, R->w_hh, H, 0, 1.0, g, G, 0) < 0)
            return -1;
        const char *cp;
        char *c;
        if (R->keep_c) {
            cp = s == 0 ? R->c0 : ROWP(R->cbuf, tp, H);
            c = ROWP(R->cbuf, t, H);
        } else {
            cp = s == 0 ? R->c0 : ROWP(R->cbuf, (s - 1) & 1, H);
            c = ROWP(R->cbuf, s & 1, H);
        }
        if (R->rb->lstm_fwd(R->dtype, 0, B, H, g, R->bias, cp, c, ROWP(R->out, t, H)) < 0) return -1;
    }
    return 0;
}

/* dw_ih = dgates^T @ x and dw_hh = dgates^T @ h_prev, one GEMM each over all steps (NULL: not needed) */
static int weight_grads(const mt_lstm_loop *R, mt_tensor *dw_ih, mt_tensor *dw_hh) {
    int64_t T = R->T, B = R->B, I = R->I, H = R->H, G = 4 * H;
    mt_dtype dt = R->dtype;
    mt_backend *be = R->be;
    if (dw_ih && be->gemm(dt, 1, true, false, G, I, T * B, 1.0, R->dg, G, 0, R->x, I, 0, 0.0, mt_data(dw_ih), I, 0) < 0)
        return -1;
    if (dw_hh) {
        /* steps with h_prev = out[t -/+ 1]: forward t = 1..T-1 (h_prev rows 0..T-2), reverse t = 0..T-2 */
        if (T > 1) {
            const char *a = R->reverse ? R->dg : ROWP(R->dg, 1, G);
            const char *b = R->reverse ? ROWP(R->out, 1, H) : R->out;
            if (be->gemm(dt, 1, true, false, G, H, (T - 1) * B, 1.0, a, G, 0, b, H, 0, 0.0, mt_data(dw_hh), H, 0) < 0)
                return -1;
        }
        if (R->h0 && be->gemm(dt, 1, true, false, G, H, B, 1.0, ROWP(R->dg, R->reverse ? T - 1 : 0, G), G, 0,
                              R->h0, H, 0, 1.0, mt_data(dw_hh), H, 0) < 0)
            return -1;
    }
    return 0;
}

/* dgates for all steps into R->dg (T, B, 4H), dh0 / dc0 into R->dh / R->dc; then dx (T, B, I),
 * the weight gradients and the bias column sums into db (each NULL when not needed) */
static int backward_loop(const mt_lstm_loop *R, mt_tensor *dx, mt_tensor *dw_ih, mt_tensor *dw_hh, mt_tensor *db) {
    int64_t T = R->T, B = R->B, I = R->I, H = R->H, G = 4 * H;
    mt_dtype dt = R->dtype;
    for (int64_t s = T - 1; s >= 0; s--) {
        int64_t t = R->reverse ? T - 1 - s : s, tp = R->reverse ? t + 1 : t - 1;
        const char *a = ROWP(R->gates, t, G), *c = ROWP(R->cbuf, t, H);
        const char *cp = s == 0 ? R->c0 : ROWP(R->cbuf, tp, H);
        const char *dout = R->dout ? ROWP(R->dout, t, H) : R->zeros;
        char *dg = ROWP(R->dg, t, G);
        if (R->rb->lstm_bwd(dt, 0, B, H, a, c, cp, dout, R->dh, R->dc, dg) < 0) return -1;
        /* dh_{t-1} = dgates_t @ w_hh */
        if ((s > 0 || R->need_dh0) &&
            R->be->gemm(dt, 1, false, false, B, H, G, 1.0, dg, G, 0, R->w_hh, H, 0, 0.0, R->dh, H, 0) < 0)
            return -1;
    }
    if (dx && R->be->gemm(dt, 1, false, false, T * B, I, G, 1.0, R->dg, G, 0, R->w_ih, I, 0, 0.0, mt_data(dx), I, 0) < 0)
        return -1;
    if (weight_grads(R, dw_ih, dw_hh) < 0) return -1;
    return db ? R->rb->colsum(dt, T * B, G, R->dg, mt_data(db)) : 0;
}

/* backward_loop between the device's gemm_scope(1) and (0) */
static int scoped_backward(const mt_lstm_loop *R, mt_tensor *dx, mt_tensor *dw_ih, mt_tensor *dw_hh, mt_tensor *db) {
    if (R->rb->gemm_scope && R->rb->gemm_scope(1) < 0) return -1;
    int rc = backward_loop(R, dx, dw_ih, dw_hh, db);
    if (R->rb->gemm_scope) R->rb->gemm_scope(0);
    return rc;
}

/* The fields forward and backward share: shapes from x (T, B, I) and w_hh (4H, H), the device's
 * tables, and the data of the tensors both loops read (h0 may be NULL, c0 not: zeros then) */
static mt_lstm_loop loop_of(mt_tensor *x, mt_tensor *w_ih, mt_tensor *w_hh, mt_tensor *h0, mt_tensor *c0,
                            mt_tensor *gates, mt_tensor *cbuf, mt_tensor *out, bool reverse, bool keep_c) {
    mt_lstm_loop R = {0};
    R.be = mt_backend_of(x);
    R.rb = mt_rnn_backends[x->storage->device.type];
    R.dtype = x->dtype;
    R.es = mt_dtype_sizes[x->dtype];
    R.T = x->shape[0]; R.B = x->shape[1]; R.I = x->shape[2]; R.H = w_hh->shape[1];
    R.reverse = reverse;
    R.x = (const char *)mt_data(x);
    R.w_ih = (const char *)mt_data(w_ih);
    R.w_hh = (const char *)mt_data(w_hh);
    R.h0 = h0 ? (const char *)mt_data(h0) : NULL;
    R.c0 = (const char *)mt_data(c0);
    R.gates = (char *)mt_data(gates);
    R.cbuf = (char *)mt_data(cbuf);
    R.keep_c = keep_c;
    R.out = (char *)mt_data(out);
    return R;
}

/* ---------------- autograd node ---------------- */
enum { SV_X, SV_H0, SV_C0, SV_WIH, SV_WHH, SV_OUT, SV_GATES, SV_C, SV_N };
typedef struct {
    mt_tensor *t[SV_N];
    uint64_t ver[SV_N];
    int64_t T, B, I, H;
    bool reverse, has_bias;
    mt_dtype dtype;
} lstm_saved;

static mt_tensor *lstm_get(mt_node *n, lstm_saved *S, int k) {
    return S->t[k] ? mt_saved_check(n, S->t[k], S->ver[k]) : NULL;
}

static void lstm_release(mt_node *n) {
    lstm_saved *S = (lstm_saved *)n->extra;
    if (!S) return;
    for (int k = 0; k < SV_N; k++) mt_decref(S->t[k]);
    free(S);
    n->extra = NULL;
}

/* a gradient as a contiguous tensor of dtype dt (new ref), NULL stays NULL (no error) */
static mt_tensor *grad_in(mt_tensor *g, mt_dtype dt, bool *err) {
    if (!g) return NULL;
    mt_tensor *c = mt_cast(g, dt);
    mt_tensor *r = c ? mt_contiguous(c) : NULL;
    mt_decref(c);
    if (!r) *err = true;
    return r;
}

static int lstm_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    lstm_saved *S = (lstm_saved *)n->extra;
    for (int k = 0; k < 7; k++) gi[k] = NULL;
    if (!S)
        return mt_error(MT_ERR_RUNTIME, "Trying to backward through the graph a second time (or directly access saved "
                                        "tensors after they have already been freed)."),
               -1;
    if (!go[0] && !go[1] && !go[2]) return 0;
    int64_t T = S->T, B = S->B, I = S->I, H = S->H, G = 4 * H;
    mt_dtype dt = S->dtype;
    mt_tensor *x = lstm_get(n, S, SV_X), *h0 = lstm_get(n, S, SV_H0), *c0 = lstm_get(n, S, SV_C0);
    mt_tensor *w_ih = lstm_get(n, S, SV_WIH), *w_hh = lstm_get(n, S, SV_WHH), *out = lstm_get(n, S, SV_OUT);
    mt_tensor *gates = S->t[SV_GATES], *cb = S->t[SV_C];
    if (!x || !w_ih || !w_hh || !out || (S->t[SV_H0] && !h0) || (S->t[SV_C0] && !c0)) return -1;
    bool err = false;
    mt_tensor *dhn = grad_in(go[1], dt, &err), *dcn = grad_in(go[2], dt, &err), *dout = NULL;
    mt_device dev = x->storage->device;
    bool cpu_loops = mt_lstm_cpu_loops_apply(dev.type, dt, T, B);
    if (cpu_loops && go[0] && go[0]->dtype == dt && go[0]->ndim == 3 && go[0]->strides[2] == 1)
        dout = mt_incref(go[0]); /* the CPU loops take its strides */
    else
        dout = grad_in(go[0], dt, &err);
    int64_t bh[2] = {B, H}, dg_sh[3] = {T, B, G};
    int64_t x_sh[3] = {T, B, I}, wih_sh[2] = {G, I}, whh_sh[2] = {G, H}, g_sh[1] = {G};
    mt_tensor *dg = NULL, *dh = NULL, *dc = NULL, *zeros_c = NULL, *db = NULL;
    mt_tensor *gx = NULL, *gh0 = NULL, *gc0 = NULL, *gwih = NULL, *gwhh = NULL, *gbih = NULL, *gbhh = NULL;
    bool need_db = S->has_bias && (mt_node_needs(n, 5) || mt_node_needs(n, 6));
    double *dbsum = NULL;
    int rc = -1;
    if (err) goto done;
    if (!cpu_loops && !(dg = mt_empty(dg_sh, 3, dt, dev))) goto done; /* the CPU loops keep two steps of their own */
    dh = dhn ? mt_clone(dhn) : mt_zeros(bh, 2, dt, dev);
    dc = dcn ? mt_clone(dcn) : mt_zeros(bh, 2, dt, dev);
    zeros_c = mt_zeros(bh, 2, dt, dev);
    if (!dh || !dc || !zeros_c) goto done;
    /* the CPU loops accumulate into the weight gradients */
    if (mt_node_needs(n, 0) && !(gx = mt_empty(x_sh, 3, dt, dev))) goto done;
    if (mt_node_needs(n, 3) && !(gwih = (cpu_loops ? mt_zeros : mt_empty)(wih_sh, 2, dt, dev))) goto done;
    if (mt_node_needs(n, 4) && !(gwhh = mt_zeros(whh_sh, 2, dt, dev))) goto done;
    if (need_db && !(db = mt_empty(g_sh, 1, dt, dev))) goto done;
    if (cpu_loops && need_db && !(dbsum = (double *)calloc((size_t)G, sizeof(double)))) {
        mt_error(MT_ERR_MEMORY, "lstm: out of memory");
        goto done;
    }
    mt_lstm_loop R = loop_of(x, w_ih, w_hh, h0, c0 ? c0 : zeros_c, gates, cb, out, S->reverse, true);
    R.dout = dout ? (const char *)mt_data(dout) : NULL;
    R.dout_st[0] = dout ? dout->strides[0] : 0;
    R.dout_st[1] = dout ? dout->strides[1] : 0;
    R.zeros = (const char *)mt_data(zeros_c);
    R.dg = dg ? (char *)mt_data(dg) : NULL;
    R.dh = (char *)mt_data(dh);
    R.dc = (char *)mt_data(dc);
    R.need_dh0 = mt_node_needs(n, 1);
    if (cpu_loops) {
        R.dx = gx ? (char *)mt_data(gx) : NULL;
        R.dw_ih = gwih ? (char *)mt_data(gwih) : NULL;
        R.dw_hh = gwhh ? (char *)mt_data(gwhh) : NULL;
        R.db = dbsum;
        if (mt_lstm_cpu_backward_loop(&R) < 0) goto done;
        if (db) {
            float *d = (float *)mt_data(db);
            for (int64_t j = 0; j < G; j++) d[j] = (float)dbsum[j];
        }
    } else if (scoped_backward(&R, gx, gwih, gwhh, db) < 0) {
        goto done;
    }
    if (mt_node_needs(n, 1)) { gh0 = dh; dh = NULL; }
    if (mt_node_needs(n, 2)) { gc0 = dc; dc = NULL; }
    if (db) {
        if (mt_node_needs(n, 5)) gbih = mt_incref(db);
        if (mt_node_needs(n, 6) && !(gbhh = mt_node_needs(n, 5) ? mt_clone(db) : mt_incref(db))) goto done;
    }
    rc = 0;
done:
    free(dbsum);
    mt_decref(db);
    mt_decref(dout); mt_decref(dhn); mt_decref(dcn);
    mt_decref(dg); mt_decref(dh); mt_decref(dc); mt_decref(zeros_c);
    mt_tensor *res[7] = {gx, gh0, gc0, gwih, gwhh, gbih, gbhh};
    for (int k = 0; k < 7; k++) {
        if (rc == 0) gi[k] = res[k];
        else mt_decref(res[k]);
    }
    return rc;
}

static const mt_node_vt lstm_vt = {"MkldnnRnnLayerBackward0", lstm_backward, lstm_release};

/* ---------------- entry ---------------- */
static int check_2d(const mt_tensor *t, const char *name, int64_t r, int64_t c) {
    if (t->ndim != 2 || t->shape[0] != r || t->shape[1] != c) {
        int64_t want[2] = {r, c};
        mt_error(MT_ERR_RUNTIME, "lstm: expected %s of size %s, got %s", name, mt_shape_str(want, 2),
                 mt_shape_str(t->shape, t->ndim));
        return -1;
    }
    return 0;
}

/* dst (B, H) = the (B, H) block of contiguous src starting at element off */
static int copy_rows(mt_tensor *dst, mt_tensor *src, int64_t off, const int64_t *shape, const int64_t *strides) {
    mt_tensor *v = mt_alias(src, shape, strides, 2, src->offset + off);
    if (!v) return -1;
    int rc = mt_copy_into(dst, v);
    mt_decref(v);
    return rc;
}

int mt_lstm_layer(mt_tensor *x, mt_tensor *h0, mt_tensor *c0, mt_tensor *w_ih, mt_tensor *w_hh, mt_tensor *b_ih,
                  mt_tensor *b_hh, bool reverse, mt_tensor **out_p, mt_tensor **hn_p, mt_tensor **cn_p) {
    *out_p = *hn_p = *cn_p = NULL;
    if (!x || !w_ih || !w_hh) { if (!mt_err_kind()) mt_error(MT_ERR_RUNTIME, "lstm: missing tensor"); return -1; }
    if (x->ndim != 3) {
        mt_error(MT_ERR_RUNTIME, "lstm: input must have 3 dimensions (T, B, I), got %d", x->ndim);
        return -1;
    }
    if (w_hh->ndim != 2 || w_hh->shape[0] % 4 != 0 || w_hh->shape[0] != 4 * w_hh->shape[1]) {
        mt_error(MT_ERR_RUNTIME, "lstm: weight_hh must have size (4*hidden_size, hidden_size), got %s",
                 mt_shape_str(w_hh->shape, w_hh->ndim));
        return -1;
    }
    int64_t T = x->shape[0], B = x->shape[1], I = x->shape[2], H = w_hh->shape[1], G = 4 * H;
    if (check_2d(w_ih, "weight_ih", G, I) < 0) return -1;
    if (h0 && check_2d(h0, "h0", B, H) < 0) return -1;
    if (c0 && check_2d(c0, "c0", B, H) < 0) return -1;
    mt_tensor *all[7] = {x, h0, c0, w_ih, w_hh, b_ih, b_hh};
    static const char *const names[7] = {"input", "h0", "c0", "weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    for (int k = 5; k < 7; k++)
        if (all[k] && (all[k]->ndim != 1 || all[k]->shape[0] != G)) {
            mt_error(MT_ERR_RUNTIME, "lstm: expected %s of size [%lld], got %s", names[k], (long long)G,
                     mt_shape_str(all[k]->shape, all[k]->ndim));
            return -1;
        }
    if (mt_check_wide("lstm", x->dtype) < 0) return -1;
    if (!mt_is_floating(x->dtype)) {
        mt_error(MT_ERR_RUNTIME, "lstm: expected a floating point input, got %s", mt_type_name(x->dtype));
        return -1;
    }
    for (int k = 1; k < 7; k++) {
        if (!all[k]) continue;
        if (all[k]->dtype != x->dtype) {
            mt_error(MT_ERR_RUNTIME, "expected scalar type %s but found %s (%s)", mt_type_name(x->dtype),
                     mt_type_name(all[k]->dtype), names[k]);
            return -1;
        }
        if (mt_check_same_device(x, all[k]) < 0) return -1;
    }
    mt_device dev = x->storage->device;
    const mt_rnn_backend *rb = mt_rnn_backends[dev.type];
    if (!rb || !rb->lstm_fwd || !rb->lstm_bwd || !rb->colsum) {
        mt_error(MT_ERR_NOTIMPL, "lstm: the fused layer has no kernels for %s tensors", mt_backend_of(x)->name);
        return -1;
    }
    if ((b_ih == NULL) != (b_hh == NULL)) {
        mt_error(MT_ERR_RUNTIME, "lstm: give both biases or neither");
        return -1;
    }
    mt_dtype dt = x->dtype;
    bool need_grad = mt_any_requires_grad(7, all);
    int64_t tbg[3] = {T, B, G}, tbh[3] = {T, B, H}, bh[2] = {B, H}, cb_sh[3] = {need_grad ? T : 2, B, H};
    int64_t g1[1] = {G};
    mt_tensor *xc = mt_contiguous(x), *h0c = h0 ? mt_contiguous(h0) : NULL, *c0c = c0 ? mt_contiguous(c0) : NULL;
    mt_tensor *wih = mt_contiguous(w_ih), *whh = mt_contiguous(w_hh);
    mt_tensor *gates = mt_empty(tbg, 3, dt, dev), *cb = mt_empty(cb_sh, 3, dt, dev);
    mt_tensor *out = mt_empty(tbh, 3, dt, dev), *hn = mt_empty(bh, 2, dt, dev);
    mt_tensor *cn = mt_empty(bh, 2, dt, dev), *bias = mt_zeros(g1, 1, dt, dev);
    mt_tensor *zc = c0 ? NULL : mt_zeros(bh, 2, dt, dev);
    int rc = -1;
    if (!xc || (h0 && !h0c) || (c0 && !c0c) || !wih || !whh || !gates || !cb || !out || !hn || !cn || !bias ||
        (!c0 && !zc))
        goto done;
    if (b_ih) {
        mt_tensor *bi = mt_contiguous(b_ih), *bhh = mt_contiguous(b_hh);
        if (!bi || !bhh) { mt_decref(bi); mt_decref(bhh); goto done; }
        /* bias = b_ih + b_hh on the device (no autograd: the node differentiates both biases itself) */
        int brc = mt_backend_of(x)->binary(MT_B_ADD, bias, bi, bhh, NULL, false);
        mt_decref(bi);
        mt_decref(bhh);
        if (brc < 0) goto done;
    }
    if (T > 0 && B > 0) {
        mt_lstm_loop R = loop_of(xc, wih, whh, h0c, c0c ? c0c : zc, gates, cb, out, reverse, need_grad);
        R.bias = (const char *)mt_data(bias);
        if (mt_lstm_cpu_loops_apply(dev.type, dt, T, B)) {
            if (mt_lstm_cpu_forward_loop(&R) < 0) goto done;
        } else {
            if (I == 0 && mt_fill_(gates, mt_sf(0)) < 0) goto done;
            if (R.rb->gemm_scope && R.rb->gemm_scope(1) < 0) goto done;
            int frc = forward_loop(&R);
            if (R.rb->gemm_scope) R.rb->gemm_scope(0);
            if (frc < 0) goto done;
        }
        /* hn / cn: the last step's rows of out / cb, copied through the backend (device memory) */
        int64_t tl = reverse ? 0 : T - 1, st[2] = {H, 1};
        if (copy_rows(hn, out, tl * B * H, bh, st) < 0) goto done;
        if (copy_rows(cn, cb, (need_grad ? tl : ((T - 1) & 1)) * B * H, bh, st) < 0) goto done;
    } else {
        /* no steps: the states pass through */
        if (h0c ? mt_copy_into(hn, h0c) < 0 : mt_fill_(hn, mt_sf(0)) < 0) goto done;
        if (mt_copy_into(cn, c0c ? c0c : zc) < 0) goto done;
    }
    if (need_grad) {
        mt_tensor *outs[3] = {out, hn, cn};
        mt_node *node = mt_autograd_record_n(&lstm_vt, 3, outs, 7, all);
        if (node) {
            lstm_saved *S = (lstm_saved *)calloc(1, sizeof *S);
            if (!S) { mt_error(MT_ERR_MEMORY, "lstm: out of memory"); goto done; }
            S->t[SV_X] = mt_incref(xc);
            S->t[SV_H0] = mt_incref(h0c);
            S->t[SV_C0] = mt_incref(c0c);
            S->t[SV_WIH] = mt_incref(wih);
            S->t[SV_WHH] = mt_incref(whh);
            S->t[SV_OUT] = mt_detach(out);
            S->t[SV_GATES] = mt_incref(gates);
            S->t[SV_C] = mt_incref(cb);
            for (int k = 0; k < SV_N; k++)
                if (S->t[k]) S->ver[k] = S->t[k]->storage->version;
            S->T = T; S->B = B; S->I = I; S->H = H;
            S->reverse = reverse;
            S->has_bias = b_ih != NULL;
            S->dtype = dt;
            node->extra = S;
            node->had_saved = true;
        }
    }
    *out_p = mt_incref(out);
    *hn_p = mt_incref(hn);
    *cn_p = mt_incref(cn);
    rc = 0;
done:
    mt_decref(xc); mt_decref(h0c); mt_decref(c0c); mt_decref(wih); mt_decref(whh);
    mt_decref(gates); mt_decref(cb); mt_decref(out); mt_decref(hn); mt_decref(cn); mt_decref(bias); mt_decref(zc);
    return rc;
}

/* Fused LSTM layer: forward and backward through time (contract in ops/rnn.h). The op layer here is
 * device-neutral: buffers live on the input's device, GEMMs go through mt_backend_of(x)->gemm, copies and
 * fills through the backend, and the elementwise kernels (fused gates, gate gradients, bias column sums)
 * through mt_rnn_backends[device]; the CPU entry is defined below.
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
 * Threads: the GEMMs use BLAS's own threads (see run_rows); the bias column sums use OpenMP.
 *
 * Float32 uses branch-free exp / tanh approximations (a few ulp, vectorisable); float64 libm. */
#include "rnn.h"
#include "ops.h"
#include "../autograd/autograd.h"
#include "../core/iter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "vecmath.h" /* MT_CLONES, exp_neg_f32 */

/* ---------------- float32 math ---------------- */
static inline float sig_f32(float x) {
    float e = exp_neg_f32(-fabsf(x)), r = 1.0f / (1.0f + e);
    return x >= 0.0f ? r : e * r;
}
/* tanh as a 13/6 rational function on [-7.905, 7.905] (Eigen's; <= 4e-7 relative error) */
static inline float tanh_f32(float x) {
    float xc = x < -7.90531110763549805f ? -7.90531110763549805f : (x > 7.90531110763549805f ? 7.90531110763549805f : x);
    float x2 = xc * xc;
    float p = -2.76076847742355e-16f;
    p = p * x2 + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    p = p * xc;
    float q = 1.19825839466702e-06f;
    q = q * x2 + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return p / q; /* NaN propagates through the clamp's comparisons */
}
static inline double sig_f64(double x) { return 1.0 / (1.0 + exp(-x)); }
static inline double tanh_f64(double x) { return tanh(x); }

/* ---------------- fused kernels (rows [b0, b1) of one step) ----------------
 * fwd: g (rows of 4H, pre-activations without bias) -> activations in place; c = f*cp + i*gg;
 *      h = o * tanh(c). h rows have stride ldh.
 * bwd: a (activations), c, cp (c_{t-1}), dh = dout (may be NULL) + dhr (recurrent); dc in/out
 *      (dc_t in, dc_{t-1} out); dg (rows of 4H) out. */
#define DEF_KERNELS(T, SFX)                                                                                          \
    MT_CLONES static void lstm_fwd_rows_##SFX(int64_t b0, int64_t b1, int64_t H, T *g, const T *bias, const T *cp,  \
                                               T *c, T *h) {                                                         \
        int64_t G = 4 * H;                                                                                            \
        for (int64_t b = b0; b < b1; b++) {                                                                           \
            T *restrict gr = g + b * G;                                                                               \
            const T *restrict cpr = cp + b * H;                                                                       \
            T *restrict cr = c + b * H, *restrict hr = h + b * H;                                                     \
            const T *restrict bs = bias;                                                                              \
            _Pragma("omp simd")                                                                                       \
            for (int64_t j = 0; j < H; j++) {                                                                         \
                T ig = sig_##SFX(gr[j] + bs[j]);                                                                      \
                T fg = sig_##SFX(gr[H + j] + bs[H + j]);                                                              \
                T gg = tanh_##SFX(gr[2 * H + j] + bs[2 * H + j]);                                                     \
                T og = sig_##SFX(gr[3 * H + j] + bs[3 * H + j]);                                                      \
                T cv = fg * cpr[j] + ig * gg;                                                                         \
                gr[j] = ig;                                                                                           \
                gr[H + j] = fg;                                                                                       \
                gr[2 * H + j] = gg;                                                                                   \
                gr[3 * H + j] = og;                                                                                   \
                cr[j] = cv;                                                                                           \
                hr[j] = og * tanh_##SFX(cv);                                                                          \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    MT_CLONES static void lstm_bwd_rows_##SFX(int64_t b0, int64_t b1, int64_t H, const T *a, const T *c,            \
                                               const T *cp, const T *dout, const T *dhr, T *dc, T *dg) {              \
        int64_t G = 4 * H;                                                                                            \
        for (int64_t b = b0; b < b1; b++) {                                                                           \
            const T *restrict ar = a + b * G, *restrict cr = c + b * H, *restrict cpr = cp + b * H;                   \
            const T *restrict dhrr = dhr + b * H, *restrict dor = dout + b * H;                                       \
            T *restrict dcr = dc + b * H, *restrict dgr = dg + b * G;                                                 \
            _Pragma("omp simd")                                                                                       \
            for (int64_t j = 0; j < H; j++) {                                                                         \
                T ig = ar[j], fg = ar[H + j], gg = ar[2 * H + j], og = ar[3 * H + j];                                 \
                T tc = tanh_##SFX(cr[j]);                                                                             \
                T dh = dor[j] + dhrr[j];                                                                            \
                T dcv = dcr[j] + dh * og * ((T)1 - tc * tc);                                                          \
                dgr[j] = dcv * gg * ig * ((T)1 - ig);                                                                 \
                dgr[H + j] = dcv * cpr[j] * fg * ((T)1 - fg);                                                         \
                dgr[2 * H + j] = dcv * ig * ((T)1 - gg * gg);                                                         \
                dgr[3 * H + j] = dh * tc * og * ((T)1 - og);                                                          \
                dcr[j] = dcv * fg;                                                                                    \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    /* db[j] = sum over rows of dg[:, j] (double accumulation), columns split across threads */                       \
    static void colsum_##SFX(const T *dg, int64_t rows, int64_t G, T *db) {                                           \
        int64_t nblk = (G + 255) / 256;                                                                               \
        _Pragma("omp parallel for schedule(static) if (rows * G >= (1 << 16) && nblk > 1)")                          \
        for (int64_t blk = 0; blk < nblk; blk++) {                                                                    \
            int64_t j0 = blk * 256, j1 = j0 + 256 < G ? j0 + 256 : G;                                                 \
            double acc[256];                                                                                          \
            for (int64_t j = j0; j < j1; j++) acc[j - j0] = 0;                                                        \
            for (int64_t r = 0; r < rows; r++) {                                                                      \
                const T *row = dg + r * G;                                                                            \
                for (int64_t j = j0; j < j1; j++) acc[j - j0] += (double)row[j];                                      \
            }                                                                                                         \
            for (int64_t j = j0; j < j1; j++) db[j] = (T)acc[j - j0];                                                 \
        }                                                                                                             \
    }

DEF_KERNELS(float, f32)
DEF_KERNELS(double, f64)

/* ---------------- the CPU entry of mt_rnn_backends ---------------- */
static int cpu_lstm_fwd(mt_dtype dt, int64_t b0, int64_t b1, int64_t H, void *g, const void *bias, const void *cp,
                        void *c, void *h) {
    if (dt == MT_FLOAT32)
        lstm_fwd_rows_f32(b0, b1, H, (float *)g, (const float *)bias, (const float *)cp, (float *)c, (float *)h);
    else
        lstm_fwd_rows_f64(b0, b1, H, (double *)g, (const double *)bias, (const double *)cp, (double *)c, (double *)h);
    return 0;
}
static int cpu_lstm_bwd(mt_dtype dt, int64_t b0, int64_t b1, int64_t H, const void *a, const void *c, const void *cp,
                        const void *dout, const void *dhr, void *dc, void *dg) {
    if (dt == MT_FLOAT32)
        lstm_bwd_rows_f32(b0, b1, H, (const float *)a, (const float *)c, (const float *)cp, (const float *)dout,
                          (const float *)dhr, (float *)dc, (float *)dg);
    else
        lstm_bwd_rows_f64(b0, b1, H, (const double *)a, (const double *)c, (const double *)cp, (const double *)dout,
                          (const double *)dhr, (double *)dc, (double *)dg);
    return 0;
}
static int cpu_colsum(mt_dtype dt, int64_t rows, int64_t G, const void *dg, void *db) {
    if (dt == MT_FLOAT32) colsum_f32((const float *)dg, rows, G, (float *)db);
    else colsum_f64((const double *)dg, rows, G, (double *)db);
    return 0;
}
static const mt_rnn_backend cpu_rnn = {cpu_lstm_fwd, cpu_lstm_bwd, cpu_colsum};
const mt_rnn_backend *mt_rnn_backends[MT_NUM_DEVICE_TYPES] = {[MT_CPU] = &cpu_rnn};

/* ---------------- the time loops ---------------- */
typedef struct {
    mt_backend *be;
    const mt_rnn_backend *rb;
    mt_dtype dtype;
    size_t es;
    int64_t T, B, I, H;
    bool reverse;
    /* forward */
    char *gates;      /* (T, B, 4H) */
    char *cbuf;       /* (T, B, H) with grad, else (2, B, H) ping-pong */
    bool keep_c;
    char *out;        /* (T, B, H) */
    const char *h0;   /* (B, H) or NULL */
    const char *c0;   /* (B, H): c0 or zeros */
    const char *bias; /* (4H) */
    const char *w_hh; /* (4H, H) */
    /* backward */
    const char *dout; /* (T, B, H) or NULL */
    const char *zeros; /* (B, H) zeros, for dout == NULL */
    char *dg;         /* (T, B, 4H) */
    char *dh;         /* (B, H): dh_n in, recurrent gradient; dh0 out */
    char *dc;         /* (B, H): dc_n in, dc0 out */
    bool need_dh0;
} lstm_run;

#define ROWP(base, t, b, w) ((base) + ((size_t)(t) * (size_t)R->B + (size_t)(b)) * (size_t)(w) * R->es)

static int fwd_rows(const lstm_run *R, int64_t b0, int64_t b1) {
    int64_t T = R->T, H = R->H, G = 4 * H, nb = b1 - b0;
    if (nb <= 0) return 0;
    for (int64_t s = 0; s < T; s++) {
        int64_t t = R->reverse ? T - 1 - s : s, tp = R->reverse ? t + 1 : t - 1;
        char *g = ROWP(R->gates, t, 0, G);
        const char *hp = s == 0 ? R->h0 : ROWP(R->out, tp, 0, H);
        if (hp) {
            if (R->be->gemm(R->dtype, 1, false, true, nb, G, H, 1.0, hp + (size_t)(b0 * H) * R->es, H, 0, R->w_hh, H,
                            0, 1.0, g + (size_t)(b0 * G) * R->es, G, 0) < 0)
                return -1;
        }
        const char *cp;
        char *c;
        if (R->keep_c) {
            cp = s == 0 ? R->c0 : ROWP(R->cbuf, tp, 0, H);
            c = ROWP(R->cbuf, t, 0, H);
        } else {
            cp = s == 0 ? R->c0 : ROWP(R->cbuf, (s - 1) & 1, 0, H);
            c = ROWP(R->cbuf, s & 1, 0, H);
        }
        char *h = ROWP(R->out, t, 0, H);
        if (R->rb->lstm_fwd(R->dtype, b0, b1, H, g, R->bias, cp, c, h) < 0) return -1;
    }
    return 0;
}

static int bwd_rows(const lstm_run *R, int64_t b0, int64_t b1) {
    int64_t T = R->T, H = R->H, G = 4 * H, nb = b1 - b0;
    if (nb <= 0) return 0;
    for (int64_t s = T - 1; s >= 0; s--) {
        int64_t t = R->reverse ? T - 1 - s : s, tp = R->reverse ? t + 1 : t - 1;
        const char *a = ROWP(R->gates, t, 0, G), *c = ROWP(R->cbuf, t, 0, H);
        const char *cp = s == 0 ? R->c0 : ROWP(R->cbuf, tp, 0, H);
        const char *dout = R->dout ? ROWP(R->dout, t, 0, H) : R->zeros;
        char *dg = ROWP(R->dg, t, 0, G);
        if (R->rb->lstm_bwd(R->dtype, b0, b1, H, a, c, cp, dout, R->dh, R->dc, dg) < 0) return -1;
        if (s > 0 || R->need_dh0) {
            /* dh_{t-1} = dgates_t @ w_hh */
            if (R->be->gemm(R->dtype, 1, false, false, nb, H, G, 1.0, dg + (size_t)(b0 * G) * R->es, G, 0, R->w_hh, H,
                            0, 0.0, R->dh + (size_t)(b0 * H) * R->es, H, 0) < 0)
                return -1;
        }
    }
    return 0;
}

/* Runs fn over all batch rows. Splitting the rows across OpenMP threads (single-threaded BLAS per
 * block, no per-step barrier) was measured slower here than one caller with BLAS's own threads for
 * the per-step GEMM (OpenMP threads spinning while OpenBLAS's pthreads run); the fused kernels are
 * a few percent of the step, so they stay on the calling thread. */
static int run_rows(const lstm_run *R, int (*fn)(const lstm_run *, int64_t, int64_t)) { return fn(R, 0, R->B); }

/* ---------------- autograd node ---------------- */
enum { SV_X, SV_H0, SV_C0, SV_WIH, SV_WHH, SV_OUT, SV_GATES, SV_C, SV_N };
typedef struct {
    mt_tensor *t[SV_N];
    uint64_t ver[SV_N];
    int64_t T, B, I, H;
    bool reverse, has_bias;
    mt_dtype dtype;
} lstm_saved;

static const char *lstm_type_str(const mt_tensor *t) {
    return t->dtype == MT_FLOAT32 ? "FloatTensor" : "DoubleTensor";
}

static mt_tensor *lstm_get(mt_node *n, lstm_saved *S, int k) {
    mt_tensor *t = S->t[k];
    if (!t) return NULL;
    if (t->storage->version != S->ver[k])
        return mt_error(MT_ERR_RUNTIME,
                        "one of the variables needed for gradient computation has been modified by an inplace "
                        "operation: [torch.%s %s], which is output 0 of %s, is at version %llu; expected version %llu "
                        "instead. Hint: the backtrace further above can point at the operation that failed to compute "
                        "its gradient. The variable in question was changed in there or anywhere later. Good luck!",
                        lstm_type_str(t), mt_shape_str(t->shape, t->ndim), n->vt->name,
                        (unsigned long long)t->storage->version, (unsigned long long)S->ver[k]);
    return t;
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
    size_t es = mt_dtype_sizes[dt];
    mt_tensor *x = lstm_get(n, S, SV_X), *h0 = lstm_get(n, S, SV_H0), *c0 = lstm_get(n, S, SV_C0);
    mt_tensor *w_ih = lstm_get(n, S, SV_WIH), *w_hh = lstm_get(n, S, SV_WHH), *out = lstm_get(n, S, SV_OUT);
    mt_tensor *gates = S->t[SV_GATES], *cb = S->t[SV_C];
    if (!x || !w_ih || !w_hh || !out || (S->t[SV_H0] && !h0) || (S->t[SV_C0] && !c0)) return -1;
    bool err = false;
    mt_tensor *dout = grad_in(go[0], dt, &err), *dhn = grad_in(go[1], dt, &err), *dcn = grad_in(go[2], dt, &err);
    int64_t bh[2] = {B, H}, tbg[3] = {T, B, G};
    mt_tensor *dg = NULL, *dh = NULL, *dc = NULL, *zeros_c = NULL;
    mt_tensor *gx = NULL, *gh0 = NULL, *gc0 = NULL, *gwih = NULL, *gwhh = NULL, *gbih = NULL, *gbhh = NULL;
    int rc = -1;
    mt_device dev = x->storage->device;
    if (err) goto done;
    dg = mt_empty(tbg, 3, dt, dev);
    dh = dhn ? mt_clone(dhn) : mt_zeros(bh, 2, dt, dev);
    dc = dcn ? mt_clone(dcn) : mt_zeros(bh, 2, dt, dev);
    zeros_c = mt_zeros(bh, 2, dt, dev);
    if (!dg || !dh || !dc || !zeros_c) goto done;
    {
        lstm_run R = {0};
        R.be = mt_backend_of(x);
        R.rb = mt_rnn_backends[dev.type];
        R.dtype = dt;
        R.es = es;
        R.T = T; R.B = B; R.I = I; R.H = H;
        R.reverse = S->reverse;
        R.gates = (char *)mt_data(gates);
        R.cbuf = (char *)mt_data(cb);
        R.keep_c = true;
        R.out = (char *)mt_data(out);
        R.h0 = h0 ? (const char *)mt_data(h0) : NULL;
        R.c0 = (const char *)mt_data(c0 ? c0 : zeros_c);
        R.w_hh = (const char *)mt_data(w_hh);
        R.dout = dout ? (const char *)mt_data(dout) : NULL;
        R.zeros = (const char *)mt_data(zeros_c);
        R.dg = (char *)mt_data(dg);
        R.dh = (char *)mt_data(dh);
        R.dc = (char *)mt_data(dc);
        R.need_dh0 = mt_node_needs(n, 1);
        if (run_rows(&R, bwd_rows) < 0) goto done;
    }
    if (mt_node_needs(n, 1)) { gh0 = dh; dh = NULL; }
    if (mt_node_needs(n, 2)) { gc0 = dc; dc = NULL; }
    mt_backend *be = mt_backend_of(x);
    const char *dgp = (const char *)mt_data(dg), *outp = (const char *)mt_data(out);
    if (mt_node_needs(n, 0)) {
        int64_t sh[3] = {T, B, I};
        if (!(gx = mt_empty(sh, 3, dt, dev))) goto done;
        if (be->gemm(dt, 1, false, false, T * B, I, G, 1.0, dgp, G, 0, mt_data(w_ih), I, 0, 0.0, mt_data(gx), I, 0) < 0)
            goto done;
    }
    if (mt_node_needs(n, 3)) {
        int64_t sh[2] = {G, I};
        if (!(gwih = mt_empty(sh, 2, dt, dev))) goto done;
        if (be->gemm(dt, 1, true, false, G, I, T * B, 1.0, dgp, G, 0, mt_data(x), I, 0, 0.0, mt_data(gwih), I, 0) < 0)
            goto done;
    }
    if (mt_node_needs(n, 4)) {
        int64_t sh[2] = {G, H};
        if (!(gwhh = mt_zeros(sh, 2, dt, dev))) goto done;
        /* steps with h_prev = out[t -/+ 1]: forward t = 1..T-1 (h_prev rows 0..T-2), reverse t = 0..T-2 */
        if (T > 1) {
            const char *a = S->reverse ? dgp : dgp + (size_t)(B * G) * es;
            const char *b = S->reverse ? outp + (size_t)(B * H) * es : outp;
            if (be->gemm(dt, 1, true, false, G, H, (T - 1) * B, 1.0, a, G, 0, b, H, 0, 0.0, mt_data(gwhh), H, 0) < 0)
                goto done;
        }
        if (h0) {
            const char *a = dgp + (size_t)((S->reverse ? T - 1 : 0) * B * G) * es;
            if (be->gemm(dt, 1, true, false, G, H, B, 1.0, a, G, 0, mt_data(h0), H, 0, 1.0, mt_data(gwhh), H, 0) < 0)
                goto done;
        }
    }
    if (S->has_bias && (mt_node_needs(n, 5) || mt_node_needs(n, 6))) {
        int64_t sh[1] = {G};
        mt_tensor *db = mt_empty(sh, 1, dt, dev);
        if (!db) goto done;
        if (mt_rnn_backends[dev.type]->colsum(dt, T * B, G, dgp, mt_data(db)) < 0) { mt_decref(db); goto done; }
        if (mt_node_needs(n, 5)) gbih = mt_incref(db);
        if (mt_node_needs(n, 6)) gbhh = mt_node_needs(n, 5) ? mt_clone(db) : mt_incref(db);
        mt_decref(db);
        if (mt_node_needs(n, 6) && !gbhh) goto done;
    }
    rc = 0;
done:
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
    size_t es = mt_dtype_sizes[dt];
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
        mt_backend *be = mt_backend_of(x);
        if (I > 0) {
            if (be->gemm(dt, 1, false, true, T * B, G, I, 1.0, mt_data(xc), I, 0, mt_data(wih), I, 0, 0.0,
                         mt_data(gates), G, 0) < 0)
                goto done;
        } else if (mt_fill_(gates, mt_sf(0)) < 0) {
            goto done;
        }
        lstm_run R = {0};
        R.be = be;
        R.rb = rb;
        R.dtype = dt;
        R.es = es;
        R.T = T; R.B = B; R.I = I; R.H = H;
        R.reverse = reverse;
        R.gates = (char *)mt_data(gates);
        R.cbuf = (char *)mt_data(cb);
        R.keep_c = need_grad;
        R.out = (char *)mt_data(out);
        R.h0 = h0c ? (const char *)mt_data(h0c) : NULL;
        R.c0 = (const char *)mt_data(c0c ? c0c : zc);
        R.bias = (const char *)mt_data(bias);
        R.w_hh = (const char *)mt_data(whh);
        if (run_rows(&R, fwd_rows) < 0) goto done;
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

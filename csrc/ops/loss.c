/* Fused losses: cross-entropy over class indices (log-softmax + gather in one pass per row, its
 * backward softmax - one-hot in one pass) and nll_loss over log-probabilities. Contracts in
 * ops/loss.h.
 *
 * The input is seen as [N, C, inner] (inner = d1 * d2 * ..., 1 for (N, C)); a "position" is one
 * (n, i) pair, with one target. Rows (inner == 1) are contiguous; for inner > 1 a block of up to
 * COLS positions of one n is processed column-wise so every loop runs over contiguous memory.
 * A serial pre-pass over the targets checks their range (IndexError like torch) and sums the
 * weights of the non-ignored ones ('mean' divides by that sum). Per-position losses are summed in
 * double in position order, so results do not depend on the thread count.
 *
 * Backward of cross-entropy with target t, class weights w (1 without), smoothing eps, C classes,
 * a = (1 - eps) * w_t, b = eps / C, W = sum_c w_c, and the position's incoming gradient g:
 *     dL/dx_c = g * (p_c * (a + b * W) - b * w_c - a * [c == t]),   p = softmax(x)
 * (0 for ignored positions), computed from the saved input and per-position logsumexp. */
#include "loss.h"
#include "ops.h"
#include "../autograd/autograd.h"
#include "../core/iter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GRAIN ((int64_t)1 << 15) /* elements before rows go parallel */
#define COLS 256                 /* positions per block on the spatial path */
#define LANES 16
#define SMALL_C 64     /* rows shorter than this take the chunked path */
#define SMALL_BUF 4096 /* elements per chunk of short rows */

#include "vecmath.h" /* MT_CLONES, exp_neg_f32 */

typedef struct {
    int64_t N, C, inner;
    int64_t ignore_index;
    double eps;     /* label smoothing */
    double total_w; /* summed weight of the non-ignored targets */
    double wsum;    /* summed class weights (C without weight) */
    int reduction;
    bool logits, has_weight;
    mt_dtype dtype;
    int in_ndim;
    int64_t in_shape[MT_MAX_DIMS];
} loss_info;

/* ---------------- kernels, one set per dtype ---------------- */
#define DEF_LOSS(T, SFX, EXPN)                                                                                 \
    /* logsumexp of a contiguous row as max + log(sum of exps) (NaN propagates through the sum); the two     \
       parts are kept apart so the backward's (x - max) - logsum is as exact as torch's log_softmax */              \
    MT_CLONES static double lse_row_##SFX(const T *x, int64_t C, double *mo, double *lso) {                           \
        T mm[LANES], m = -(T)INFINITY;                                                                                \
        int64_t c = 0;                                                                                                \
        for (int j = 0; j < LANES; j++) mm[j] = -(T)INFINITY;                                                         \
        for (; c + LANES <= C; c += LANES) /* lanes, so the max vectorises */                                         \
            for (int j = 0; j < LANES; j++) mm[j] = x[c + j] > mm[j] ? x[c + j] : mm[j];                              \
        for (; c < C; c++) m = x[c] > m ? x[c] : m;                                                                   \
        for (int j = 0; j < LANES; j++) m = mm[j] > m ? mm[j] : m;                                                    \
        *lso = 0;                                                                                                     \
        if (isinf(m)) { *mo = m > 0 ? (double)NAN : (double)m; return *mo; } /* +inf: NaN like torch */           \
        /* sum of exps: T lanes over blocks of 1024 (exps are <= 1), blocks summed in double */                       \
        double s = 0;                                                                                                 \
        c = 0;                                                                                                        \
        while (c + LANES <= C) {                                                                                      \
            T acc[LANES] = {0};                                                                                       \
            int64_t e = c + 1024 <= C ? c + 1024 : C - (C - c) % LANES;                                               \
            for (; c < e; c += LANES)                                                                                 \
                for (int j = 0; j < LANES; j++) acc[j] += EXPN(x[c + j] - m);                                         \
            for (int j = 0; j < LANES; j++) s += (double)acc[j];                                                      \
        }                                                                                                             \
        for (; c < C; c++) s += (double)EXPN(x[c] - m);                                                               \
        *mo = (double)m;                                                                                              \
        *lso = log(s);                                                                                                \
        return (double)m + *lso;                                                                                      \
    }                                                                                                                 \
    /* sum_c w_c * (x_c - lse) (w NULL: weights 1) */                                                                 \
    MT_CLONES static double wlogp_row_##SFX(const T *x, const T *w, int64_t C, int64_t stride, double lse) {         \
        double s = 0;                                                                                                 \
        if (w)                                                                                                        \
            for (int64_t c = 0; c < C; c++) s += (double)w[c] * ((double)x[c * stride] - lse);                        \
        else                                                                                                          \
            for (int64_t c = 0; c < C; c++) s += (double)x[c * stride] - lse;                                         \
        return s;                                                                                                     \
    }                                                                                                                 \
    /* loss of one position from its logsumexp (logits) or directly (log-probabilities) */                            \
    static inline double pos_loss_##SFX(const loss_info *L, const T *x, int64_t stride, const T *w, int64_t t,       \
                                        double lse) {                                                                 \
        double wt = w ? (double)w[t] : 1.0;                                                                           \
        if (!L->logits) return -wt * (double)x[t * stride];                                                           \
        double l = -(1.0 - L->eps) * wt * ((double)x[t * stride] - lse);                                              \
        if (L->eps > 0) l -= L->eps / (double)L->C * wlogp_row_##SFX(x, w, L->C, stride, lse);                        \
        return l;                                                                                                     \
    }                                                                                                                 \
    /* short rows (C < SMALL_C, logits): rows in chunks of SMALL_BUF elements; the shifted values of a      \
       chunk go through one vectorised exp pass instead of many short scalar loops */                              \
    MT_CLONES static void exp_pass_##SFX(T *b, int64_t n) { for (int64_t i = 0; i < n; i++) b[i] = EXPN(b[i]); }    \
    static void fwd_small_##SFX(const loss_info *L, const T *x, const int64_t *tg, const T *w, double *lse,          \
                                double *loss, int64_t n0, int64_t n1) {                                               \
        int64_t C = L->C, per = SMALL_BUF / C;                                                                        \
        T buf[SMALL_BUF];                                                                                             \
        for (int64_t r0 = n0; r0 < n1; r0 += per) {                                                                   \
            int64_t r1 = r0 + per < n1 ? r0 + per : n1;                                                               \
            for (int64_t n = r0; n < r1; n++) {                                                                       \
                const T *xr = x + n * C;                                                                              \
                T m = xr[0];                                                                                          \
                for (int64_t c = 1; c < C; c++) m = xr[c] > m ? xr[c] : m;                                            \
                if (isinf(m) && m > 0) m = (T)NAN;                                                                    \
                lse[2 * n] = (double)m;                                                                               \
                for (int64_t c = 0; c < C; c++) buf[(n - r0) * C + c] = xr[c] - m;                                    \
            }                                                                                                         \
            exp_pass_##SFX(buf, (r1 - r0) * C);                                                                       \
            for (int64_t n = r0; n < r1; n++) {                                                                       \
                double sm = 0, m = lse[2 * n];                                                                        \
                for (int64_t c = 0; c < C; c++) sm += (double)buf[(n - r0) * C + c];                                  \
                double lso = isinf(m) ? 0.0 : log(sm);                                                                \
                lse[2 * n + 1] = lso;                                                                                 \
                int64_t t = tg[n];                                                                                    \
                loss[n] = t != L->ignore_index ? pos_loss_##SFX(L, x + n * C, 1, w, t, m + lso) : 0.0;                \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    static void bwd_small_##SFX(const loss_info *L, T *gi, const T *x, const int64_t *tg, const T *w,                 \
                                const double *lse, const T *go, double gscale, int64_t n0, int64_t n1) {              \
        int64_t C = L->C, per = SMALL_BUF / C;                                                                        \
        double b = L->eps / (double)C;                                                                                \
        for (int64_t r0 = n0; r0 < n1; r0 += per) {                                                                   \
            int64_t r1 = r0 + per < n1 ? r0 + per : n1;                                                               \
            T *gb = gi + r0 * C;                                                                                      \
            for (int64_t n = r0; n < r1; n++) {                                                                       \
                T m = (T)lse[2 * n], ls = (T)lse[2 * n + 1];                                                          \
                for (int64_t c = 0; c < C; c++) gi[n * C + c] = (x[n * C + c] - m) - ls;                              \
            }                                                                                                         \
            exp_pass_##SFX(gb, (r1 - r0) * C);                                                                        \
            for (int64_t n = r0; n < r1; n++) {                                                                       \
                T *g = gi + n * C;                                                                                    \
                int64_t t = tg[n];                                                                                    \
                if (t == L->ignore_index) { for (int64_t c = 0; c < C; c++) g[c] = 0; continue; }                     \
                double gs = go ? (double)go[n] : gscale, wt = w ? (double)w[t] : 1.0, a = (1.0 - L->eps) * wt;        \
                T k1 = (T)(gs * (a + b * L->wsum)), kb = (T)(gs * b);                                                 \
                if (w && L->eps > 0)                                                                                  \
                    for (int64_t c = 0; c < C; c++) g[c] = k1 * g[c] - kb * w[c];                                     \
                else                                                                                                  \
                    for (int64_t c = 0; c < C; c++) g[c] = k1 * g[c] - kb;                                            \
                g[t] -= (T)(gs * a);                                                                                  \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    /* forward over rows [n0, n1) of the inner == 1 layout */                                                         \
    static void fwd_rows_##SFX(const loss_info *L, const T *x, const int64_t *tg, const T *w, double *lse,           \
                               double *loss) {                                                                        \
        int64_t N = L->N, C = L->C;                                                                                   \
        if (L->logits && C > 0 && C < SMALL_C) {                                                                      \
            int64_t nch = (N + 255) / 256;                                                                            \
            _Pragma("omp parallel for schedule(static) if (nch > 1 && N * C >= GRAIN)")                               \
            for (int64_t k = 0; k < nch; k++) fwd_small_##SFX(L, x, tg, w, lse, loss, k * 256, k * 256 + 256 < N ? k * 256 + 256 : N); \
            return;                                                                                                   \
        }                                                                                                             \
        _Pragma("omp parallel for schedule(static) if (N > 1 && N * C >= GRAIN)")                                     \
        for (int64_t n = 0; n < N; n++) {                                                                             \
            const T *xr = x + n * C;                                                                                  \
            int64_t t = tg[n];                                                                                        \
            double l = 0, ls = 0, mo = 0, lso = 0;                                                                    \
            if (L->logits && C > 0) ls = lse_row_##SFX(xr, C, &mo, &lso);                                             \
            if (t != L->ignore_index) l = pos_loss_##SFX(L, xr, 1, w, t, ls);                                         \
            if (lse) { lse[2 * n] = mo; lse[2 * n + 1] = lso; }                                                       \
            loss[n] = l;                                                                                              \
        }                                                                                                             \
    }                                                                                                                 \
    /* forward over blocks of COLS positions (inner > 1): column-wise max and sum of exps */                          \
    MT_CLONES static void fwd_block_##SFX(const loss_info *L, const T *x, const int64_t *tg, const T *w, double *lse, \
                                          double *loss, int64_t n, int64_t i0, int64_t cnt) {                         \
        int64_t C = L->C, inner = L->inner;                                                                           \
        const T *xb = x + n * C * inner + i0;                                                                         \
        T m[COLS];                                                                                                    \
        double s[COLS], ls[COLS], lso[COLS];                                                                          \
        if (L->logits && C > 0) {                                                                                     \
            for (int64_t i = 0; i < cnt; i++) { m[i] = -(T)INFINITY; s[i] = 0; }                                      \
            for (int64_t c = 0; c < C; c++) {                                                                         \
                const T *xc = xb + c * inner;                                                                         \
                for (int64_t i = 0; i < cnt; i++) m[i] = xc[i] > m[i] ? xc[i] : m[i];                                 \
            }                                                                                                         \
            for (int64_t i = 0; i < cnt; i++) if (isinf(m[i])) m[i] = m[i] > 0 ? (T)NAN : m[i];                       \
            for (int64_t c = 0; c < C; c++) {                                                                         \
                const T *xc = xb + c * inner;                                                                         \
                for (int64_t i = 0; i < cnt; i++) s[i] += (double)EXPN(xc[i] - m[i]);                                 \
            }                                                                                                         \
            for (int64_t i = 0; i < cnt; i++) {                                                                       \
                lso[i] = isinf(m[i]) ? 0.0 : log(s[i]);                                                               \
                ls[i] = (double)m[i] + lso[i];                                                                        \
            }                                                                                                         \
        } else {                                                                                                      \
            for (int64_t i = 0; i < cnt; i++) { ls[i] = lso[i] = 0; m[i] = 0; }                                       \
        }                                                                                                             \
        for (int64_t i = 0; i < cnt; i++) {                                                                           \
            int64_t p = n * inner + i0 + i, t = tg[p];                                                                \
            loss[p] = t != L->ignore_index ? pos_loss_##SFX(L, xb + i, inner, w, t, ls[i]) : 0.0;                     \
            if (lse) { lse[2 * p] = (double)m[i]; lse[2 * p + 1] = lso[i]; }                                          \
        }                                                                                                             \
    }                                                                                                                 \
    /* backward of one row (inner == 1); gs: the position's incoming gradient (already scaled) */                     \
    MT_CLONES static void bwd_row_##SFX(const loss_info *L, T *gi, const T *x, const T *w, int64_t t,                 \
                                        const double *lse, double gs) {                                               \
        int64_t C = L->C;                                                                                             \
        if (t == L->ignore_index) { memset(gi, 0, sizeof(T) * (size_t)C); return; }                                   \
        double wt = w ? (double)w[t] : 1.0;                                                                           \
        if (!L->logits) { memset(gi, 0, sizeof(T) * (size_t)C); gi[t] = (T)(-gs * wt); return; }                     \
        double a = (1.0 - L->eps) * wt, b = C ? L->eps / (double)C : 0.0;                                             \
        T k1 = (T)(gs * (a + b * L->wsum)), kb = (T)(gs * b), m = (T)lse[0], ls = (T)lse[1];                         \
        if (w && L->eps > 0)                                                                                          \
            for (int64_t c = 0; c < C; c++) gi[c] = k1 * EXPN((x[c] - m) - ls) - kb * w[c];                           \
        else                                                                                                          \
            for (int64_t c = 0; c < C; c++) gi[c] = k1 * EXPN((x[c] - m) - ls) - kb;                                  \
        gi[t] -= (T)(gs * a);                                                                                         \
    }                                                                                                                 \
    MT_CLONES static void bwd_block_##SFX(const loss_info *L, T *gi, const T *x, const int64_t *tg, const T *w,       \
                                          const double *lse, const T *go, double gscale, int64_t n, int64_t i0,       \
                                          int64_t cnt) {                                                              \
        int64_t C = L->C, inner = L->inner, base = n * C * inner + i0;                                                \
        T k1[COLS], kb[COLS], mx[COLS], ls[COLS];                                                                     \
        bool any_ignored = false;                                                                                     \
        for (int64_t i = 0; i < cnt; i++) {                                                                           \
            int64_t p = n * inner + i0 + i, t = tg[p];                                                                \
            double gs = go ? (double)go[p] : gscale;                                                                  \
            if (t == L->ignore_index) { any_ignored = true; k1[i] = kb[i] = mx[i] = ls[i] = 0; continue; }            \
            double wt = w ? (double)w[t] : 1.0;                                                                       \
            double a = (1.0 - L->eps) * wt, b = C ? L->eps / (double)C : 0.0;                                         \
            k1[i] = (T)(gs * (a + b * L->wsum));                                                                      \
            kb[i] = (T)(gs * b);                                                                                      \
            mx[i] = lse ? (T)lse[2 * p] : (T)0;                                                                       \
            ls[i] = lse ? (T)lse[2 * p + 1] : (T)0;                                                                             \
        }                                                                                                             \
        if (!L->logits) {                                                                                             \
            for (int64_t c = 0; c < C; c++) memset(gi + base + c * inner, 0, sizeof(T) * (size_t)cnt);               \
        } else {                                                                                                      \
            for (int64_t c = 0; c < C; c++) {                                                                         \
                const T *xc = x + base + c * inner;                                                                   \
                T *gc = gi + base + c * inner, wc = w ? w[c] : (T)1;                                                  \
                for (int64_t i = 0; i < cnt; i++) gc[i] = k1[i] * EXPN((xc[i] - mx[i]) - ls[i]) - kb[i] * wc;         \
            }                                                                                                         \
        }                                                                                                             \
        for (int64_t i = 0; i < cnt; i++) {                                                                           \
            int64_t p = n * inner + i0 + i, t = tg[p];                                                                \
            if (t == L->ignore_index) {                                                                               \
                if (L->logits && any_ignored)                                                                         \
                    for (int64_t c = 0; c < C; c++) gi[base + c * inner + i] = 0;                                     \
                continue;                                                                                             \
            }                                                                                                         \
            double gs = go ? (double)go[p] : gscale;                                                                  \
            double wt = w ? (double)w[t] : 1.0;                                                                       \
            gi[base + t * inner + i] -= (T)(gs * (L->logits ? 1.0 - L->eps : 1.0) * wt);                              \
        }                                                                                                             \
    }                                                                                                                 \
    static void forward_##SFX(const loss_info *L, const T *x, const int64_t *tg, const T *w, double *lse,            \
                              double *loss) {                                                                         \
        if (L->inner == 1) { fwd_rows_##SFX(L, x, tg, w, lse, loss); return; }                                        \
        int64_t nb = (L->inner + COLS - 1) / COLS, total = L->N * nb;                                                 \
        _Pragma("omp parallel for schedule(static) if (total > 1 && L->N * L->C * L->inner >= GRAIN)")                \
        for (int64_t k = 0; k < total; k++) {                                                                         \
            int64_t n = k / nb, i0 = (k % nb) * COLS;                                                                 \
            int64_t cnt = L->inner - i0 < COLS ? L->inner - i0 : COLS;                                                \
            fwd_block_##SFX(L, x, tg, w, lse, loss, n, i0, cnt);                                                      \
        }                                                                                                             \
    }                                                                                                                 \
    static void backward_##SFX(const loss_info *L, T *gi, const T *x, const int64_t *tg, const T *w,                  \
                               const double *lse, const T *go, double gscale) {                                       \
        int64_t N = L->N, C = L->C;                                                                                   \
        if (L->inner == 1 && L->logits && C > 0 && C < SMALL_C) {                                                     \
            int64_t nch = (N + 255) / 256;                                                                            \
            _Pragma("omp parallel for schedule(static) if (nch > 1 && N * C >= GRAIN)")                               \
            for (int64_t k = 0; k < nch; k++)                                                                         \
                bwd_small_##SFX(L, gi, x, tg, w, lse, go, gscale, k * 256, k * 256 + 256 < N ? k * 256 + 256 : N);    \
            return;                                                                                                   \
        }                                                                                                             \
        if (L->inner == 1) {                                                                                          \
            _Pragma("omp parallel for schedule(static) if (N > 1 && N * C >= GRAIN)")                                 \
            for (int64_t n = 0; n < N; n++)                                                                           \
                bwd_row_##SFX(L, gi + n * C, x ? x + n * C : NULL, w, tg[n], lse ? lse + 2 * n : NULL,                \
                              go ? (double)go[n] : gscale);                                                           \
            return;                                                                                                   \
        }                                                                                                             \
        int64_t nb = (L->inner + COLS - 1) / COLS, total = N * nb;                                                    \
        _Pragma("omp parallel for schedule(static) if (total > 1 && N * C * L->inner >= GRAIN)")                      \
        for (int64_t k = 0; k < total; k++) {                                                                         \
            int64_t n = k / nb, i0 = (k % nb) * COLS;                                                                 \
            int64_t cnt = L->inner - i0 < COLS ? L->inner - i0 : COLS;                                                \
            bwd_block_##SFX(L, gi, x, tg, w, lse, go, gscale, n, i0, cnt);                                            \
        }                                                                                                             \
    }

DEF_LOSS(float, f32, exp_neg_f32)
DEF_LOSS(double, f64, exp)

const mt_loss_backend *mt_loss_backends[MT_NUM_DEVICE_TYPES];

/* ---------------- checks (torch's order and messages) ---------------- */
static int check_args(mt_tensor *input, mt_tensor *target, mt_tensor *weight, bool logits, loss_info *L) {
    int nd = input->ndim;
    if (nd < 1) { mt_error(MT_ERR_VALUE, "Expected 1 or more dimensions (got %d)", nd); return -1; }
    if (nd != 1 && input->shape[0] != (target->ndim ? target->shape[0] : 0)) {
        mt_error(MT_ERR_VALUE, "Expected input batch_size (%lld) to match target batch_size (%lld).",
                 (long long)input->shape[0], (long long)(target->ndim ? target->shape[0] : 0));
        return -1;
    }
    if (nd <= 2) {
        if (target->ndim > 1) {
            mt_error(MT_ERR_RUNTIME, "0D or 1D target tensor expected, multi-target not supported");
            return -1;
        }
        if (nd == 1 && target->ndim == 1 && target->shape[0] != 1) {
            mt_error(MT_ERR_VALUE, "For 1D input, 1D target must have size 1, but got target size: %lld",
                     (long long)target->shape[0]);
            return -1;
        }
    } else if (nd == 4) {
        if (target->ndim != 3) {
            mt_error(MT_ERR_RUNTIME,
                     "only batches of spatial targets supported (3D tensors) but got targets of dimension: %d",
                     target->ndim);
            return -1;
        }
        if (input->shape[2] != target->shape[1] || input->shape[3] != target->shape[2]) {
            mt_error(MT_ERR_RUNTIME, "size mismatch (got input: %s , target: %s", mt_shape_str(input->shape, nd),
                     mt_shape_str(target->shape, target->ndim));
            return -1;
        }
    } else {
        bool ok = target->ndim == nd - 1;
        for (int k = 1; ok && k < nd - 1; k++) ok = target->shape[k] == input->shape[k + 1];
        if (!ok) {
            int64_t want[MT_MAX_DIMS];
            want[0] = input->shape[0];
            for (int k = 2; k < nd; k++) want[k - 1] = input->shape[k];
            mt_error(MT_ERR_RUNTIME, "Expected target size %s, got %s", mt_shape_str(want, nd - 1),
                     mt_shape_str(target->shape, target->ndim));
            return -1;
        }
    }
    if (mt_check_wide(logits ? "cross_entropy" : "nll_loss", input->dtype) < 0) return -1;
    if (!mt_is_floating(input->dtype)) {
        if (logits)
            mt_error(MT_ERR_NOTIMPL, "\"%s\" not implemented for '%s'",
                     nd <= 2 ? "log_softmax_lastdim_kernel_impl" : "log_softmax_kernel_impl", mt_type_name(input->dtype));
        else
            mt_error(MT_ERR_NOTIMPL, "\"%s\" not implemented for '%s'",
                     nd <= 2 ? "nll_loss_out_frame" : "nll_loss2d_forward_out_frame", mt_type_name(input->dtype));
        return -1;
    }
    if (target->dtype != MT_INT64) {
        mt_error(MT_ERR_RUNTIME, "expected target dtype to be Long or Byte, but got %s", mt_type_name(target->dtype));
        return -1;
    }
    if (mt_check_same_device(input, target) < 0) return -1;
    int64_t C = nd == 1 ? input->shape[0] : input->shape[1];
    if (weight) {
        if (weight->ndim != 1 || weight->shape[0] != C) {
            mt_error(MT_ERR_RUNTIME,
                     "weight tensor should be defined either for all %lld classes or no classes but got weight tensor "
                     "of shape: %s", (long long)C, mt_shape_str(weight->shape, weight->ndim));
            return -1;
        }
        if (weight->dtype != input->dtype) {
            mt_error(MT_ERR_RUNTIME, "expected scalar type %s but found %s", mt_type_name(input->dtype),
                     mt_type_name(weight->dtype));
            return -1;
        }
        if (mt_check_same_device(input, weight) < 0) return -1;
    }
    if (input->storage->device.type != MT_CPU && !(mt_loss_backends[input->storage->device.type] &&
                                                    mt_loss_backends[input->storage->device.type]->ce_forward)) {
        mt_error(MT_ERR_NOTIMPL, "%s: the fused kernel runs on CPU tensors only",
                 logits ? "cross_entropy" : "nll_loss");
        return -1;
    }
    L->N = nd == 1 ? 1 : input->shape[0];
    L->C = C;
    L->inner = 1;
    for (int k = 2; k < nd; k++) L->inner *= input->shape[k];
    L->in_ndim = nd;
    memcpy(L->in_shape, input->shape, sizeof(int64_t) * (size_t)nd);
    L->dtype = input->dtype;
    L->logits = logits;
    L->has_weight = weight != NULL;
    return 0;
}

/* range check of the targets (the first bad one in position order, like torch's CPU kernel) and
 * the summed weights; serial and cheap next to the N * C pass */
static int scan_targets(loss_info *L, const int64_t *tg, const mt_tensor *w) {
    int64_t np = L->N * L->inner;
    double tw = 0, ws = 0;
    const float *wf = w && w->dtype == MT_FLOAT32 ? (const float *)mt_data(w) : NULL;
    const double *wd = w && w->dtype == MT_FLOAT64 ? (const double *)mt_data(w) : NULL;
    for (int64_t p = 0; p < np; p++) {
        int64_t t = tg[p];
        if (t == L->ignore_index) continue;
        if (t < 0 || t >= L->C) {
            mt_error(MT_ERR_INDEX, "Target %lld is out of bounds.", (long long)t);
            return -1;
        }
        tw += wf ? (double)wf[t] : wd ? wd[t] : 1.0;
    }
    if (w)
        for (int64_t c = 0; c < L->C; c++) ws += wf ? (double)wf[c] : wd[c];
    else
        ws = (double)L->C;
    L->total_w = tw;
    L->wsum = ws;
    return 0;
}

/* ---------------- autograd ---------------- */
/* saved: 0 input (contiguous; logits only), 1 target (contiguous), 2 weight (contiguous, optional),
 * 3 per-position (row max, log of the sum of exps) pairs (float64; logits only); extra: loss_info */
static int loss_backward_dev(mt_node *n, mt_tensor **go, mt_tensor **gi);

/* Under create_graph: the gradient of nll_loss / cross_entropy as recorded ops, on any device.
 * With p = softmax(x), wt = w[t] (0 where t is ignored), m = (t is not ignored), s the incoming
 * gradient (over total_w for 'mean'):
 *   nll:            -s wt onehot(t)
 *   cross_entropy:   s ((1 - eps) wt (p - onehot(t)) + eps / C m (sum(w) p - w))
 * saved: 0 input (logits only), 1 target, 2 weight */
#define P mt_pool
static int loss_backward_composed(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    const loss_info *L = (const loss_info *)n->extra;
    mt_tensor *tg = mt_node_saved(n, 1), *w = NULL, *x = NULL;
    if (!tg) return -1;
    if (L->has_weight && !(w = mt_node_saved(n, 2))) return -1;
    if (L->logits && !(x = mt_node_saved(n, 0))) return -1;
    mt_device dev = tg->storage->device;
    mt_dtype dt = L->dtype;
    int cd = L->in_ndim == 1 ? 0 : 1; /* the class dim */
    mt_tensor *t = P(mt_unsqueeze(P(mt_reshape(tg, tg->shape, tg->ndim)), cd));
    mt_tensor *keep = t ? P(mt_binary_s(MT_B_NE, t, mt_si(L->ignore_index), false)) : NULL;
    mt_tensor *ts = keep ? P(mt_where(keep, t, P(mt_scalar_tensor(mt_si(0), MT_INT64, dev)))) : NULL;
    mt_tensor *m = keep ? P(mt_to_dtype(keep, dt)) : NULL;
    if (!ts || !m) return -1;
    mt_tensor *wt = m;
    if (w) {
        mt_tensor *flat = P(mt_reshape(ts, (int64_t[]){-1}, 1));
        mt_tensor *wg = flat ? P(mt_index_select(w, 0, flat)) : NULL;
        wt = wg ? P(mt_mul(P(mt_reshape(wg, ts->shape, ts->ndim)), m)) : NULL;
        if (!wt) return -1;
    }
    /* the incoming gradient per position, shaped like t */
    mt_tensor *g = P(mt_cast(go[0], dt));
    if (!g) return -1;
    if (L->reduction == MT_REDUCTION_NONE) g = P(mt_reshape(g, t->shape, t->ndim));
    else if (L->reduction == MT_REDUCTION_MEAN) g = P(mt_muls(g, 1.0 / L->total_w));
    mt_scalar one = mt_sf(1.0);
    mt_tensor *onehot = P(mt_scatter(P(mt_zeros(L->in_shape, L->in_ndim, dt, dev)), cd, ts, NULL, &one, false, false));
    if (!g || !onehot) return -1;
    mt_tensor *r;
    if (!L->logits) {
        r = mt_neg(P(mt_mul(P(mt_mul(onehot, wt)), g)));
    } else {
        mt_tensor *xh = P(mt_node_input_alias(n, 0, x));
        mt_tensor *p = xh ? P(mt_softmax(xh, cd, false)) : NULL;
        if (!p) return -1;
        mt_tensor *inner = P(mt_muls(P(mt_mul(wt, P(mt_sub(p, onehot)))), 1.0 - L->eps));
        if (L->eps > 0) {
            mt_tensor *wv = NULL;
            if (w) {
                int64_t s[MT_MAX_DIMS];
                for (int i = 0; i < L->in_ndim; i++) s[i] = i == cd ? L->C : 1;
                wv = P(mt_reshape(w, s, L->in_ndim));
            } else wv = P(mt_scalar_tensor(mt_sf(1.0), dt, dev));
            mt_tensor *sm = P(mt_mul(m, P(mt_sub(P(mt_muls(p, L->wsum)), wv))));
            inner = P(mt_add(inner, P(mt_muls(sm, L->eps / (double)L->C))));
        }
        r = mt_mul(inner, g);
    }
    gi[0] = r;
    return r ? 0 : -1;
}
#undef P

static int loss_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    const loss_info *L = (const loss_info *)n->extra;
    if (!go[0]) { gi[0] = NULL; return 0; }
    if (mt_create_graph_active) return loss_backward_composed(n, go, gi);
    mt_tensor *x = NULL, *w = NULL, *lse = NULL, *tg = mt_node_saved(n, 1);
    if (!tg) return -1;
    if (tg->storage->device.type != MT_CPU) return loss_backward_dev(n, go, gi);
    if (L->logits && (!(x = mt_node_saved(n, 0)) || !(lse = mt_node_saved(n, 3)))) return -1;
    if (L->has_weight && !(w = mt_node_saved(n, 2))) return -1;
    mt_tensor *g0 = mt_cast(go[0], L->dtype);
    mt_tensor *g = g0 ? mt_contiguous(g0) : NULL;
    mt_decref(g0);
    if (!g) return -1;
    if (g->storage->device.type != MT_CPU) {
        mt_decref(g);
        mt_error(MT_ERR_RUNTIME, "cross_entropy backward: expected a CPU gradient");
        return -1;
    }
    mt_tensor *res = mt_empty(L->in_shape, L->in_ndim, L->dtype, mt_cpu());
    if (!res) { mt_decref(g); return -1; }
    bool per_pos = L->reduction == MT_REDUCTION_NONE;
    double gscale = 0;
    if (!per_pos) {
        gscale = L->dtype == MT_FLOAT32 ? (double)*(const float *)mt_data(g) : *(const double *)mt_data(g);
        if (L->reduction == MT_REDUCTION_MEAN) gscale /= L->total_w;
    }
    const int64_t *t = (const int64_t *)mt_data(tg);
    const double *ls = lse ? (const double *)mt_data(lse) : NULL;
    if (L->dtype == MT_FLOAT32)
        backward_f32(L, (float *)mt_data(res), x ? (const float *)mt_data(x) : NULL, t,
                     w ? (const float *)mt_data(w) : NULL, ls, per_pos ? (const float *)mt_data(g) : NULL, gscale);
    else
        backward_f64(L, (double *)mt_data(res), x ? (const double *)mt_data(x) : NULL, t,
                     w ? (const double *)mt_data(w) : NULL, ls, per_pos ? (const double *)mt_data(g) : NULL, gscale);
    mt_decref(g);
    gi[0] = res;
    return 0;
}
static void loss_release(mt_node *n) {
    free(n->extra);
    n->extra = NULL;
}
/* device path: saved 0 input (logits only), 1 target, 2 weight (optional), 3 stats (ce_forward's) */
static int loss_backward_dev(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    const loss_info *L = (const loss_info *)n->extra;
    mt_tensor *x = NULL, *w = NULL, *stats = NULL, *tg = mt_node_saved(n, 1);
    if (!tg || !(stats = mt_node_saved(n, 3))) return -1;
    if (L->logits && !(x = mt_node_saved(n, 0))) return -1;
    if (L->has_weight && !(w = mt_node_saved(n, 2))) return -1;
    const mt_loss_backend *be = mt_loss_backends[tg->storage->device.type];
    if (!be || !be->ce_backward) {
        mt_error(MT_ERR_NOTIMPL, "cross_entropy backward: no kernel for this device");
        return -1;
    }
    mt_tensor *g0 = mt_cast(go[0], L->dtype);
    mt_tensor *g = g0 ? mt_contiguous(g0) : NULL;
    mt_decref(g0);
    if (!g) return -1;
    if (mt_check_same_device(tg, g) < 0) { mt_decref(g); return -1; }
    mt_tensor *res = mt_empty(L->in_shape, L->in_ndim, L->dtype, tg->storage->device);
    if (!res) { mt_decref(g); return -1; }
    mt_ce_args a = {L->N, L->C, L->inner, L->ignore_index, L->eps, L->reduction, L->logits};
    int rc = be->ce_backward(&a, res, x, tg, w, stats, g);
    mt_decref(g);
    if (rc < 0) { mt_decref(res); return -1; }
    gi[0] = res;
    return 0;
}

static const mt_node_vt nll_vt = {"NllLossBackward0", loss_backward, loss_release, true};
static const mt_node_vt nll2d_vt = {"NllLoss2DBackward0", loss_backward, loss_release, true};
static const mt_node_vt smooth_vt = {"AddBackward0", loss_backward, loss_release, true};

/* ---------------- the op ---------------- */
/* A device with a mt_loss_backends entry: the kernels do the target scan, the per-position losses and the
 * reduction on the device (no host sync); the node saves the kernels' stats tensor in slot 3. */
static mt_tensor *loss_op_dev(const loss_info *L, mt_tensor *input, mt_tensor *target, mt_tensor *weight) {
    const mt_loss_backend *be = mt_loss_backends[input->storage->device.type];
    mt_device dev = input->storage->device;
    int64_t np = L->N * L->inner, ns = 2 * np + 2;
    mt_tensor *x = mt_contiguous(input), *tg = mt_contiguous(target), *w = weight ? mt_contiguous(weight) : NULL;
    mt_tensor *stats = NULL, *out = NULL, *res = NULL;
    bool none = L->reduction == MT_REDUCTION_NONE;
    bool view_after = none && L->in_ndim >= 3 && L->in_ndim != 4 && !(L->logits && L->eps > 0);
    if (!x || !tg || (weight && !w)) goto done;
    if (!(stats = mt_empty(&ns, 1, MT_FLOAT64, dev))) goto done;
    out = !none ? mt_empty(&np, 0, L->dtype, dev)
                : view_after ? mt_empty(&np, 1, L->dtype, dev) : mt_empty(target->shape, target->ndim, L->dtype, dev);
    if (!out) goto done;
    {
        mt_ce_args a = {L->N, L->C, L->inner, L->ignore_index, L->eps, L->reduction, L->logits};
        if (be->ce_forward(&a, x, tg, w, stats, out) < 0) goto done;
    }
    {
        const mt_node_vt *vt = L->logits && L->eps > 0 ? &smooth_vt : L->in_ndim >= 3 ? &nll2d_vt : &nll_vt;
        mt_node *n = mt_autograd_record(vt, out, 1, &input);
        if (n) {
            loss_info *info = (loss_info *)malloc(sizeof *info);
            if (!info) { mt_error(MT_ERR_MEMORY, "cross_entropy: out of memory"); goto done; }
            *info = *L;
            n->extra = info;
            if (L->logits) mt_node_save(n, 0, x, false);
            mt_node_save(n, 1, tg, false);
            if (w) mt_node_save(n, 2, w, false);
            mt_node_save(n, 3, stats, false);
        }
    }
    res = view_after ? mt_view(out, target->shape, target->ndim) : mt_incref(out);
done:
    mt_decref(out);
    mt_decref(stats);
    mt_decref(x);
    mt_decref(tg);
    mt_decref(w);
    return res;
}

static mt_tensor *loss_op(mt_tensor *input, mt_tensor *target, mt_tensor *weight, int64_t ignore_index, double eps,
                          int reduction, bool logits) {
    if (!input || !target) return NULL;
    if (reduction < MT_REDUCTION_NONE || reduction > MT_REDUCTION_SUM)
        return mt_error(MT_ERR_VALUE, "%d is not a valid value for reduction", reduction);
    if (logits && !(eps >= 0.0 && eps <= 1.0))
        return mt_error(MT_ERR_RUNTIME, "label_smoothing must be between 0.0 and 1.0. Got: %g", eps);
    loss_info L;
    memset(&L, 0, sizeof L);
    L.ignore_index = ignore_index;
    L.eps = logits ? eps : 0.0;
    L.reduction = reduction;
    if (check_args(input, target, weight, logits, &L) < 0) return NULL;
    if (input->storage->device.type != MT_CPU) return loss_op_dev(&L, input, target, weight);

    mt_tensor *x = mt_contiguous(input), *tg = mt_contiguous(target), *w = weight ? mt_contiguous(weight) : NULL;
    int64_t np = L.N * L.inner;
    mt_tensor *lse = NULL, *out = NULL, *res = NULL;
    double *loss = NULL;
    if (!x || !tg || (weight && !w)) goto done;
    if (scan_targets(&L, (const int64_t *)mt_data(tg), w) < 0) goto done;
    if (logits) {
        int64_t n2 = 2 * np;
        lse = mt_empty(&n2, 1, MT_FLOAT64, mt_cpu());
        if (!lse) goto done;
    }
    loss = (double *)malloc(sizeof(double) * (size_t)(np ? np : 1));
    if (!loss) { mt_error(MT_ERR_MEMORY, "cross_entropy: out of memory"); goto done; }
    {
        const int64_t *t = (const int64_t *)mt_data(tg);
        double *ls = lse ? (double *)mt_data(lse) : NULL;
        if (L.dtype == MT_FLOAT32)
            forward_f32(&L, (const float *)mt_data(x), t, w ? (const float *)mt_data(w) : NULL, ls, loss);
        else
            forward_f64(&L, (const double *)mt_data(x), t, w ? (const double *)mt_data(w) : NULL, ls, loss);
    }
    /* the output: per position (target's shape; flat for a later view when torch views), or a scalar */
    bool view_after = reduction == MT_REDUCTION_NONE && L.in_ndim >= 3 && L.in_ndim != 4 && !(logits && L.eps > 0);
    if (reduction == MT_REDUCTION_NONE)
        out = view_after ? mt_empty(&np, 1, L.dtype, mt_cpu()) : mt_empty(target->shape, target->ndim, L.dtype, mt_cpu());
    else
        out = mt_empty(&np, 0, L.dtype, mt_cpu());
    if (!out) goto done;
    if (reduction == MT_REDUCTION_NONE) {
        if (L.dtype == MT_FLOAT32) {
            float *o = (float *)mt_data(out);
            for (int64_t p = 0; p < np; p++) o[p] = (float)loss[p];
        } else {
            memcpy(mt_data(out), loss, sizeof(double) * (size_t)np);
        }
    } else {
        double s = 0;
        for (int64_t p = 0; p < np; p++) s += loss[p];
        if (reduction == MT_REDUCTION_MEAN) s /= L.total_w;
        if (L.dtype == MT_FLOAT32) *(float *)mt_data(out) = (float)s;
        else *(double *)mt_data(out) = s;
    }
    {
        const mt_node_vt *vt = logits && L.eps > 0 ? &smooth_vt : L.in_ndim >= 3 ? &nll2d_vt : &nll_vt;
        mt_node *n = mt_autograd_record(vt, out, 1, &input);
        if (n) {
            loss_info *info = (loss_info *)malloc(sizeof *info);
            if (!info) { mt_error(MT_ERR_MEMORY, "cross_entropy: out of memory"); goto done; }
            *info = L;
            n->extra = info;
            if (logits) {
                mt_node_save(n, 0, x, false);
                mt_node_save(n, 3, lse, false);
            }
            mt_node_save(n, 1, tg, false);
            if (w) mt_node_save(n, 2, w, false);
        }
    }
    res = view_after ? mt_view(out, target->shape, target->ndim) : mt_incref(out);
done:
    free(loss);
    mt_decref(out);
    mt_decref(lse);
    mt_decref(x);
    mt_decref(tg);
    mt_decref(w);
    return res;
}

mt_tensor *mt_cross_entropy(mt_tensor *input, mt_tensor *target, mt_tensor *weight, int64_t ignore_index,
                            double label_smoothing, int reduction) {
    return loss_op(input, target, weight, ignore_index, label_smoothing, reduction, true);
}

mt_tensor *mt_nll_loss(mt_tensor *input, mt_tensor *target, mt_tensor *weight, int64_t ignore_index, int reduction) {
    return loss_op(input, target, weight, ignore_index, 0.0, reduction, false);
}

/* ====================== elementwise losses: MSE, BCE, BCE with logits ====================== */
#define PW_CHUNK ((int64_t)1 << 14) /* elements per partial sum (fixed, so sums do not depend on threads) */

typedef struct { int kind, reduction; int64_t numel; mt_dtype dtype; bool has_w, has_pw; } pw_info;

#define DEF_PW(T, SFX, LOG, LOG1P, EXP)                                                                              \
    static inline T pw_softplus_neg_##SFX(T x) { /* log(1 + exp(-x)), stable */                                      \
        T ax = x < 0 ? -x : x;                                                                                        \
        return (x < 0 ? -x : (T)0) + LOG1P(EXP(-ax));                                                                 \
    }                                                                                                                 \
    static inline T pw_loss_##SFX(int kind, T x, T y, const T *w, const T *pw, int64_t i) {                          \
        T l;                                                                                                          \
        if (kind == MT_LOSS_MSE) { T d = x - y; return d * d; }                                                       \
        if (kind == MT_LOSS_BCE) {                                                                                    \
            T lx = LOG(x), l1x = LOG1P(-x);                                                                           \
            lx = lx > (T)-100 ? lx : (T)-100;                                                                         \
            l1x = l1x > (T)-100 ? l1x : (T)-100;                                                                      \
            l = (y - (T)1) * l1x - y * lx;                                                                            \
        } else {                                                                                                      \
            T lw = pw ? (pw[i] - (T)1) * y + (T)1 : (T)1;                                                             \
            l = ((T)1 - y) * x + lw * pw_softplus_neg_##SFX(x);                                                       \
        }                                                                                                             \
        return w ? l * w[i] : l;                                                                                      \
    }                                                                                                                 \
    /* the plain MSE chunk: vectorised, double lanes for the sum */                                                  \
    MT_CLONES static double pw_mse_chunk_##SFX(const T *x, const T *y, T *out, int64_t n) {                           \
        if (out) {                                                                                                    \
            for (int64_t i = 0; i < n; i++) { T d = x[i] - y[i]; out[i] = d * d; }                                    \
            return 0;                                                                                                 \
        }                                                                                                             \
        double acc[LANES] = {0}, s = 0;                                                                               \
        int64_t i = 0;                                                                                                \
        for (; i + LANES <= n; i += LANES)                                                                            \
            for (int j = 0; j < LANES; j++) { double d = (double)x[i + j] - (double)y[i + j]; acc[j] += d * d; }      \
        for (; i < n; i++) { double d = (double)x[i] - (double)y[i]; s += d * d; }                                    \
        for (int j = 0; j < LANES; j++) s += acc[j];                                                                  \
        return s;                                                                                                     \
    }                                                                                                                 \
    static double pw_chunk_##SFX(int kind, const T *x, const T *y, const T *w, const T *pw, T *out, int64_t i0,      \
                                 int64_t i1) {                                                                        \
        double s = 0;                                                                                                 \
        if (out)                                                                                                      \
            for (int64_t i = i0; i < i1; i++) out[i] = pw_loss_##SFX(kind, x[i], y[i], w, pw, i);                     \
        else                                                                                                          \
            for (int64_t i = i0; i < i1; i++) s += (double)pw_loss_##SFX(kind, x[i], y[i], w, pw, i);                 \
        return s;                                                                                                     \
    }                                                                                                                 \
    static double pw_forward_##SFX(int kind, const T *x, const T *y, const T *w, const T *pw, T *out, int64_t n) {    \
        int64_t nc = (n + PW_CHUNK - 1) / PW_CHUNK;                                                                   \
        double part_local[64], *part = nc <= 64 ? part_local : (double *)malloc(sizeof(double) * (size_t)nc);        \
        if (!part) return NAN;                                                                                        \
        _Pragma("omp parallel for schedule(static) if (nc > 1)")                                                      \
        for (int64_t c = 0; c < nc; c++) {                                                                            \
            int64_t i0 = c * PW_CHUNK, i1 = i0 + PW_CHUNK < n ? i0 + PW_CHUNK : n;                                    \
            part[c] = kind == MT_LOSS_MSE && !w ? pw_mse_chunk_##SFX(x + i0, y + i0, out ? out + i0 : NULL, i1 - i0)  \
                                                : pw_chunk_##SFX(kind, x, y, w, pw, out, i0, i1);                     \
        }                                                                                                             \
        double s = 0;                                                                                                 \
        for (int64_t c = 0; c < nc; c++) s += part[c];                                                                \
        if (part != part_local) free(part);                                                                           \
        return s;                                                                                                     \
    }                                                                                                                 \
    MT_CLONES static void pw_mse_bw_##SFX(const T *x, const T *y, const T *go, T gs, T *gx, T *gy, int64_t n) {      \
        _Pragma("omp parallel for schedule(static) if (n >= GRAIN)")                                                  \
        for (int64_t i = 0; i < n; i++) {                                                                             \
            T d = (T)2 * (x[i] - y[i]) * (go ? go[i] : gs);                                                           \
            if (gx) gx[i] = d;                                                                                        \
            if (gy) gy[i] = -d;                                                                                       \
        }                                                                                                             \
    }                                                                                                                 \
    /* gx / gy (either may be NULL) from the incoming gradient (per element go, or the scalar gs) */                  \
    static void pw_backward_##SFX(int kind, const T *x, const T *y, const T *w, const T *pw, const T *go, T gs,      \
                                  T *gx, T *gy, int64_t n) {                                                          \
        if (kind == MT_LOSS_MSE && !w) { pw_mse_bw_##SFX(x, y, go, gs, gx, gy, n); return; }                        \
        _Pragma("omp parallel for schedule(static) if (n >= GRAIN)")                                                  \
        for (int64_t i = 0; i < n; i++) {                                                                             \
            T g = go ? go[i] : gs, xi = x[i], yi = y[i];                                                              \
            if (w) g *= w[i];                                                                                         \
            T dx, dy;                                                                                                 \
            if (kind == MT_LOSS_MSE) {                                                                                \
                dx = (T)2 * (xi - yi);                                                                                \
                dy = -dx;                                                                                             \
            } else if (kind == MT_LOSS_BCE) {                                                                         \
                T den = ((T)1 - xi) * xi;                                                                             \
                dx = (xi - yi) / (den > (T)1e-12f ? den : (T)1e-12f); /* torch's float EPSILON */                     \
                dy = gy ? LOG1P(-xi) - LOG(xi) : (T)0;                                                                \
            } else {                                                                                                  \
                T sg = (T)1 / ((T)1 + EXP(-xi));                                                                      \
                if (pw) {                                                                                             \
                    T t = pw[i] * yi;                                                                                 \
                    dx = (t + (T)1 - yi) * sg - t;                                                                    \
                    dy = gy ? -xi - (pw[i] - (T)1) * -pw_softplus_neg_##SFX(xi) : (T)0;                               \
                } else {                                                                                              \
                    dx = sg - yi;                                                                                     \
                    dy = -xi;                                                                                         \
                }                                                                                                     \
            }                                                                                                         \
            if (gx) gx[i] = g * dx;                                                                                   \
            if (gy) gy[i] = g * dy;                                                                                   \
        }                                                                                                             \
    }

DEF_PW(float, f32, logf, log1pf, expf)
DEF_PW(double, f64, log, log1p, exp)

/* Under create_graph: the pointwise losses' gradients as recorded ops (g is the incoming gradient,
 * over numel for 'mean'; w the weight, pw the pos_weight, s = sigmoid(x)):
 *   mse:     dx = 2 (x - y) g,                         dy = -dx
 *   bce:     dx = (x - y) / max((1 - x) x, 1e-12) w g,  dy = (log1p(-x) - log(x)) w g
 *   bce with logits: dx = ((pw y + 1 - y) s - pw y) w g, dy = ((pw - 1) softplus(-x) - x) w g
 * saved as pw_backward's; the saved input and target get their inputs' history. */
#define P mt_pool
static int pw_backward_composed(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    const pw_info *I = (const pw_info *)n->extra;
    mt_tensor *x0 = mt_node_saved(n, 0), *y0 = mt_node_saved(n, 1), *w = NULL, *pw = NULL;
    if (!x0 || !y0) return -1;
    if (I->has_w && !(w = mt_node_saved(n, 2))) return -1;
    if (I->has_pw && !(pw = mt_node_saved(n, 3))) return -1;
    mt_tensor *x = P(mt_node_input_alias(n, 0, x0)), *y = P(mt_node_input_alias(n, 1, y0));
    mt_tensor *g = P(mt_cast(go[0], I->dtype));
    if (!x || !y || !g) return -1;
    if (I->reduction == MT_REDUCTION_MEAN) g = P(mt_muls(g, 1.0 / (double)I->numel));
    if (w) g = P(mt_mul(g, w));
    if (!g) return -1;
    mt_tensor *dx = NULL, *dy = NULL;
    bool need_x = mt_node_needs(n, 0), need_y = mt_node_needs(n, 1);
    if (I->kind == MT_LOSS_MSE) {
        mt_tensor *d = P(mt_mul(P(mt_muls(P(mt_sub(x, y)), 2.0)), g));
        dx = d;
        dy = need_y && d ? P(mt_neg(d)) : NULL;
    } else if (I->kind == MT_LOSS_BCE) {
        mt_tensor *den = P(mt_binary_s(MT_B_MAXIMUM, P(mt_mul(P(mt_binary_s(MT_B_SUB, x, mt_sf(1.0), true)), x)),
                                       mt_sf(1e-12), false));
        dx = need_x ? P(mt_mul(P(mt_div(P(mt_sub(x, y)), den)), g)) : NULL;
        dy = need_y ? P(mt_mul(P(mt_sub(P(mt_unary(MT_U_LOG1P, P(mt_neg(x)))), P(mt_unary(MT_U_LOG, x)))), g)) : NULL;
    } else {
        mt_tensor *sg = P(mt_unary(MT_U_SIGMOID, x));
        if (need_x) {
            if (pw) {
                mt_tensor *t = P(mt_mul(pw, y));
                dx = P(mt_mul(P(mt_sub(P(mt_mul(P(mt_add(t, P(mt_binary_s(MT_B_SUB, y, mt_sf(1.0), true)))), sg)), t)), g));
            } else dx = P(mt_mul(P(mt_sub(sg, y)), g));
        }
        if (need_y) {
            mt_tensor *r = P(mt_neg(x));
            if (pw) { /* softplus(-x) = relu(-x) + log1p(exp(-|x|)), stable for any x */
                mt_tensor *sp = P(mt_add(P(mt_unary(MT_U_RELU, P(mt_neg(x)))),
                                         P(mt_unary(MT_U_LOG1P, P(mt_unary(MT_U_EXP, P(mt_neg(P(mt_unary(MT_U_ABS, x))))))))));
                r = P(mt_add(r, P(mt_mul(P(mt_binary_s(MT_B_SUB, pw, mt_sf(1.0), false)), sp))));
            }
            dy = P(mt_mul(r, g));
        }
    }
    if ((need_x && !dx) || (need_y && !dy)) return -1;
    gi[0] = need_x ? mt_node_grad_for(n, 0, mt_incref(dx)) : NULL;
    gi[1] = need_y ? mt_node_grad_for(n, 1, mt_incref(dy)) : NULL;
    if ((need_x && !gi[0]) || (need_y && !gi[1])) { mt_decref(gi[0]); mt_decref(gi[1]); gi[0] = gi[1] = NULL; return -1; }
    return 0;
}
#undef P

/* saved: 0 input, 1 target, 2 weight, 3 pos_weight (contiguous, compute dtype); extra: pw_info */
static int pw_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    const pw_info *P = (const pw_info *)n->extra;
    gi[0] = gi[1] = NULL;
    if (!go[0]) return 0;
    if (mt_create_graph_active) return pw_backward_composed(n, go, gi);
    bool need_x = mt_node_needs(n, 0), need_y = mt_node_needs(n, 1);
    mt_tensor *x = mt_node_saved(n, 0), *y = mt_node_saved(n, 1), *w = NULL, *pw = NULL;
    if (!x || !y) return -1;
    if (P->has_w && !(w = mt_node_saved(n, 2))) return -1;
    if (P->has_pw && !(pw = mt_node_saved(n, 3))) return -1;
    mt_tensor *g0 = mt_cast(go[0], P->dtype);
    mt_tensor *g = g0 ? mt_contiguous(g0) : NULL;
    mt_decref(g0);
    if (!g) return -1;
    mt_device dev = x->storage->device;
    if (dev.type != MT_CPU && mt_check_same_device(x, g) < 0) { mt_decref(g); return -1; }
    mt_tensor *gx = need_x ? mt_empty(x->shape, x->ndim, P->dtype, dev) : NULL;
    mt_tensor *gy = need_y ? mt_empty(x->shape, x->ndim, P->dtype, dev) : NULL;
    if ((need_x && !gx) || (need_y && !gy)) { mt_decref(g); mt_decref(gx); mt_decref(gy); return -1; }
    if (dev.type != MT_CPU) {
        const mt_loss_backend *be = mt_loss_backends[dev.type];
        int rc = be && be->pointwise_backward
                     ? be->pointwise_backward(P->kind, P->reduction, P->numel, x, y, w, pw, g, gx, gy)
                     : (mt_error(MT_ERR_NOTIMPL, "pointwise loss backward: no kernel for this device"), -1);
        mt_decref(g);
        if (rc < 0) { mt_decref(gx); mt_decref(gy); return -1; }
        goto grads;
    }
    bool per = P->reduction == MT_REDUCTION_NONE;
    double gs = 0;
    if (!per) {
        gs = P->dtype == MT_FLOAT32 ? (double)*(const float *)mt_data(g) : *(const double *)mt_data(g);
        if (P->reduction == MT_REDUCTION_MEAN) gs /= (double)P->numel;
    }
#define PW_BW(T, SFX)                                                                                                 \
    pw_backward_##SFX(P->kind, (const T *)mt_data(x), (const T *)mt_data(y), w ? (const T *)mt_data(w) : NULL,       \
                      pw ? (const T *)mt_data(pw) : NULL, per ? (const T *)mt_data(g) : NULL, (T)gs,                  \
                      gx ? (T *)mt_data(gx) : NULL, gy ? (T *)mt_data(gy) : NULL, P->numel)
    if (P->dtype == MT_FLOAT32) PW_BW(float, f32);
    else PW_BW(double, f64);
#undef PW_BW
    mt_decref(g);
grads:
    gi[0] = gx ? mt_node_grad_for(n, 0, gx) : NULL;
    gi[1] = gy ? mt_node_grad_for(n, 1, gy) : NULL;
    if ((gx && !gi[0]) || (gy && !gi[1])) { mt_decref(gi[0]); mt_decref(gi[1]); gi[0] = gi[1] = NULL; return -1; }
    return 0;
}
static void pw_release(mt_node *n) {
    free(n->extra);
    n->extra = NULL;
}
static const mt_node_vt pw_vts[3] = {
    {"MseLossBackward0", pw_backward, pw_release, true},
    {"BinaryCrossEntropyBackward0", pw_backward, pw_release, true},
    {"BinaryCrossEntropyWithLogitsBackward0", pw_backward, pw_release, true},
};

static bool same_shape(const mt_tensor *a, const mt_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int k = 0; k < a->ndim; k++)
        if (a->shape[k] != b->shape[k]) return false;
    return true;
}

/* all elements of t in [0, 1] (NaN fails, like torch's check) */
static bool in_unit_range(const mt_tensor *t) {
    int64_t n = mt_numel(t);
    if (t->dtype == MT_FLOAT32) {
        const float *d = (const float *)mt_data(t);
        for (int64_t i = 0; i < n; i++)
            if (!(d[i] >= 0.0f && d[i] <= 1.0f)) return false;
    } else {
        const double *d = (const double *)mt_data(t);
        for (int64_t i = 0; i < n; i++)
            if (!(d[i] >= 0.0 && d[i] <= 1.0)) return false;
    }
    return true;
}

mt_tensor *mt_pointwise_loss(int kind, mt_tensor *input, mt_tensor *target, mt_tensor *weight, mt_tensor *pos_weight,
                             int reduction) {
    if (!input || !target) return NULL;
    if (kind < MT_LOSS_MSE || kind > MT_LOSS_BCE_LOGITS) return mt_error(MT_ERR_VALUE, "unknown loss kind %d", kind);
    if (reduction < MT_REDUCTION_NONE || reduction > MT_REDUCTION_SUM)
        return mt_error(MT_ERR_VALUE, "%d is not a valid value for reduction", reduction);
    if (!same_shape(input, target))
        return mt_error(MT_ERR_RUNTIME, "The size of tensor a (%s) must match the size of tensor b (%s)",
                        mt_shape_str(input->shape, input->ndim), mt_shape_str(target->shape, target->ndim));
    mt_tensor *extra_in[2] = {weight, pos_weight};
    for (int k = 0; k < 2; k++)
        if (extra_in[k] && !same_shape(input, extra_in[k]))
            return mt_error(MT_ERR_RUNTIME, "output with shape %s doesn't match the broadcast shape %s",
                            mt_shape_str(input->shape, input->ndim),
                            mt_shape_str(extra_in[k]->shape, extra_in[k]->ndim));
    mt_dtype dt;
    if (mt_check_wide("pointwise loss", input->dtype) < 0 || mt_check_wide("pointwise loss", target->dtype) < 0)
        return NULL;
    if (kind == MT_LOSS_BCE) {
        if (!mt_is_floating(input->dtype))
            return mt_error(MT_ERR_NOTIMPL, "\"binary_cross_entropy\" not implemented for '%s'", mt_type_name(input->dtype));
        if (target->dtype != input->dtype)
            return mt_error(MT_ERR_RUNTIME, "Found dtype %s but expected %s", mt_type_name(target->dtype),
                            mt_type_name(input->dtype));
        dt = input->dtype;
    } else {
        dt = mt_promote_types(input->dtype, target->dtype);
        if (kind == MT_LOSS_BCE_LOGITS && !mt_is_floating(target->dtype))
            return mt_error(MT_ERR_RUNTIME, "result type %s can't be cast to the desired output type %s",
                            mt_type_name(dt), mt_type_name(target->dtype));
        if (!mt_is_floating(dt))
            return mt_error(MT_ERR_NOTIMPL, "\"%s\" not implemented for '%s'",
                            kind == MT_LOSS_MSE ? "mse_cpu" : "binary_cross_entropy_with_logits", mt_type_name(dt));
    }
    if (mt_check_same_device(input, target) < 0 || (weight && mt_check_same_device(input, weight) < 0) ||
        (pos_weight && mt_check_same_device(input, pos_weight) < 0))
        return NULL;
    const mt_loss_backend *be = NULL;
    if (input->storage->device.type != MT_CPU) {
        be = mt_loss_backends[input->storage->device.type];
        if (!be || !be->pointwise_forward)
            return mt_error(MT_ERR_NOTIMPL, "pointwise loss: the fused kernel runs on CPU tensors only");
    }
    mt_device dev = input->storage->device;

    mt_tensor *ts[4] = {input, target, weight, pos_weight}, *cs[4] = {NULL, NULL, NULL, NULL};
    mt_tensor *out = NULL, *res = NULL;
    for (int k = 0; k < 4; k++) {
        if (!ts[k]) continue;
        mt_tensor *c = mt_cast(ts[k], dt);
        cs[k] = c ? mt_contiguous(c) : NULL;
        mt_decref(c);
        if (!cs[k]) goto done;
    }
    int64_t n = mt_numel(input);
    if (be) { /* a device: its kernel checks the BCE ranges */
        out = reduction == MT_REDUCTION_NONE ? mt_empty(input->shape, input->ndim, dt, dev)
                                             : mt_empty(input->shape, 0, dt, dev);
        if (!out || be->pointwise_forward(kind, reduction, n, cs[0], cs[1], cs[2], cs[3], out) < 0) goto done;
        goto record;
    }
    if (kind == MT_LOSS_BCE) {
        if (!in_unit_range(cs[0])) { mt_error(MT_ERR_RUNTIME, "all elements of input should be between 0 and 1"); goto done; }
        if (!in_unit_range(cs[1])) { mt_error(MT_ERR_RUNTIME, "all elements of target should be between 0 and 1"); goto done; }
    }
    out = reduction == MT_REDUCTION_NONE ? mt_empty(input->shape, input->ndim, dt, mt_cpu())
                                         : mt_empty(input->shape, 0, dt, mt_cpu());
    if (!out) goto done;
#define PW_FW(T, SFX)                                                                                                 \
    do {                                                                                                              \
        double s = pw_forward_##SFX(kind, (const T *)mt_data(cs[0]), (const T *)mt_data(cs[1]),                      \
                                    cs[2] ? (const T *)mt_data(cs[2]) : NULL, cs[3] ? (const T *)mt_data(cs[3]) : NULL, \
                                    reduction == MT_REDUCTION_NONE ? (T *)mt_data(out) : NULL, n);                    \
        if (reduction == MT_REDUCTION_MEAN) s /= (double)n;                                                           \
        if (reduction != MT_REDUCTION_NONE) *(T *)mt_data(out) = (T)s;                                                \
    } while (0)
    if (dt == MT_FLOAT32) PW_FW(float, f32);
    else PW_FW(double, f64);
#undef PW_FW
record: {
        mt_tensor *ins[2] = {input, target};
        mt_node *node = mt_autograd_record(&pw_vts[kind], out, 2, ins);
        if (node) {
            pw_info *info = (pw_info *)malloc(sizeof *info);
            if (!info) { mt_error(MT_ERR_MEMORY, "loss: out of memory"); goto done; }
            info->kind = kind;
            info->reduction = reduction;
            info->numel = n;
            info->dtype = dt;
            info->has_w = weight != NULL;
            info->has_pw = pos_weight != NULL;
            node->extra = info;
            mt_node_set_meta(node, 0, input);
            mt_node_set_meta(node, 1, target);
            for (int k = 0; k < 4; k++)
                if (cs[k]) mt_node_save(node, k, cs[k], false);
        }
    }
    res = mt_incref(out);
done:
    mt_decref(out);
    for (int k = 0; k < 4; k++) mt_decref(cs[k]);
    return res;
}

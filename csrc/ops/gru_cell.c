/* The GRU cell's pointwise part as one op with one autograd node (CPU): the GRU layer and
 * nn.GRUCell run it once per step after their two GEMMs, instead of eleven small ops and nodes.
 *
 *   xp = x @ w_ih^T + b_ih = [xr xz xn],  hh = h @ w_hh^T + b_hh = [hr hz hn]   (B, 3H) each
 *   r = sigmoid(xr + hr),  z = sigmoid(xz + hz),  n = tanh(xn + r * hn),  h' = n + z * (h - n)
 *
 * Saved for backward: act = [r z n hn] (B, 4H) and h. Backward, with g = dL/dh':
 *   dn = g (1 - z),  dz = g (h - n),  dh = g z,  dpn = dn (1 - n^2),  dr = dpn hn
 *   dxp = [dr r (1 - r), dz z (1 - z), dpn],  dhh = [same, same, dpn r]
 * Float32 uses the vectorisable sigmoid / tanh of vecmath.h, float64 libm. */
#include "ops.h"
#include "rnn.h"
#include "../autograd/autograd.h"

#include <math.h>

#include "vecmath.h"

static inline float sig_f(float x) { return sigmoid_vec_f32(x); }
static inline float tanh_f(float x) { return tanh_vec_f32(x); }
static inline double sig_d(double x) { return 1.0 / (1.0 + exp(-x)); }
static inline double tanh_d(double x) { return tanh(x); }

#define DEF_GRU_KERNELS(T, SFX)                                                                                      \
    MT_CLONES static void gru_fwd_##SFX(int64_t B, int64_t H, const T *xp, const T *hh, const T *h, T *act, T *out) { \
        for (int64_t b = 0; b < B; b++) {                                                                             \
            const T *restrict x = xp + b * 3 * H, *restrict y = hh + b * 3 * H, *restrict hp = h + b * H;            \
            T *restrict a = act + b * 4 * H, *restrict o = out + b * H;                                               \
            _Pragma("omp simd")                                                                                       \
            for (int64_t j = 0; j < H; j++) {                                                                         \
                T r = sig_##SFX(x[j] + y[j]), z = sig_##SFX(x[H + j] + y[H + j]);                                     \
                T n = tanh_##SFX(x[2 * H + j] + r * y[2 * H + j]);                                                    \
                a[j] = r;                                                                                             \
                a[H + j] = z;                                                                                         \
                a[2 * H + j] = n;                                                                                     \
                a[3 * H + j] = y[2 * H + j];                                                                          \
                o[j] = n + z * (hp[j] - n);                                                                           \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    /* dxp / dhh / dh: NULL where not needed */                                                                       \
    MT_CLONES static void gru_bwd_##SFX(int64_t B, int64_t H, const T *g, const T *act, const T *h, T *dxp, T *dhh,  \
                                        T *dh) {                                                                      \
        for (int64_t b = 0; b < B; b++) {                                                                             \
            const T *restrict gr = g + b * H, *restrict a = act + b * 4 * H, *restrict hp = h + b * H;               \
            T *restrict dx = dxp ? dxp + b * 3 * H : NULL, *restrict dy = dhh ? dhh + b * 3 * H : NULL;               \
            T *restrict dhr = dh ? dh + b * H : NULL;                                                                 \
            _Pragma("omp simd")                                                                                       \
            for (int64_t j = 0; j < H; j++) {                                                                         \
                T r = a[j], z = a[H + j], n = a[2 * H + j], hn = a[3 * H + j], gv = gr[j];                            \
                T dpn = gv * ((T)1 - z) * ((T)1 - n * n);                                                             \
                T dpr = dpn * hn * r * ((T)1 - r), dpz = gv * (hp[j] - n) * z * ((T)1 - z);                           \
                if (dx) {                                                                                             \
                    dx[j] = dpr;                                                                                      \
                    dx[H + j] = dpz;                                                                                  \
                    dx[2 * H + j] = dpn;                                                                              \
                }                                                                                                     \
                if (dy) {                                                                                             \
                    dy[j] = dpr;                                                                                      \
                    dy[H + j] = dpz;                                                                                  \
                    dy[2 * H + j] = dpn * r;                                                                          \
                }                                                                                                     \
                if (dhr) dhr[j] = gv * z;                                                                             \
            }                                                                                                         \
        }                                                                                                             \
    }

DEF_GRU_KERNELS(float, f)
DEF_GRU_KERNELS(double, d)

/* checks and contiguous copies: 0, or -1 with the error set */
static int gru_args(mt_tensor *xp, mt_tensor *hh, mt_tensor *h) {
    if (!xp || !hh || !h) { mt_error(MT_ERR_RUNTIME, "gru_cell: missing tensor"); return -1; }
    if (h->ndim != 2 || xp->ndim != 2 || hh->ndim != 2 || xp->shape[0] != h->shape[0] ||
        hh->shape[0] != h->shape[0] || xp->shape[1] != 3 * h->shape[1] || hh->shape[1] != 3 * h->shape[1]) {
        mt_error(MT_ERR_RUNTIME, "gru_cell: expected input projections of size (B, 3H) and a state of size (B, H), "
                                 "got %s, %s and %s", mt_shape_str(xp->shape, xp->ndim),
                 mt_shape_str(hh->shape, hh->ndim), mt_shape_str(h->shape, h->ndim));
        return -1;
    }
    mt_tensor *all[3] = {xp, hh, h};
    for (int k = 0; k < 3; k++) {
        if (all[k]->dtype != h->dtype || (h->dtype != MT_FLOAT32 && h->dtype != MT_FLOAT64)) {
            mt_error(MT_ERR_RUNTIME, "gru_cell: expected float32 or float64 tensors of one dtype");
            return -1;
        }
        if (all[k]->storage->device.type != MT_CPU) {
            mt_error(MT_ERR_NOTIMPL, "gru_cell: CPU tensors only");
            return -1;
        }
    }
    return 0;
}

int mt_gru_cell_forward(mt_tensor *xp, mt_tensor *hh, mt_tensor *h, mt_tensor **out_p, mt_tensor **act_p) {
    *out_p = *act_p = NULL;
    if (gru_args(xp, hh, h) < 0) return -1;
    int64_t B = h->shape[0], H = h->shape[1], a_sh[2] = {B, 4 * H};
    mt_device dev = h->storage->device;
    mt_tensor *xc = mt_contiguous(xp), *yc = mt_contiguous(hh), *hc = mt_contiguous(h);
    mt_tensor *act = mt_empty(a_sh, 2, h->dtype, dev), *out = mt_empty(h->shape, 2, h->dtype, dev);
    int rc = -1;
    if (xc && yc && hc && act && out) {
        if (h->dtype == MT_FLOAT32)
            gru_fwd_f(B, H, mt_data(xc), mt_data(yc), mt_data(hc), mt_data(act), mt_data(out));
        else
            gru_fwd_d(B, H, mt_data(xc), mt_data(yc), mt_data(hc), mt_data(act), mt_data(out));
        *out_p = mt_incref(out);
        *act_p = mt_incref(act);
        rc = 0;
    }
    mt_decref(xc); mt_decref(yc); mt_decref(hc); mt_decref(act); mt_decref(out);
    return rc;
}

int mt_gru_cell_backward(mt_tensor *g, mt_tensor *act, mt_tensor *h, bool need_dxp, bool need_dhh, bool need_dh,
                         mt_tensor **dxp_p, mt_tensor **dhh_p, mt_tensor **dh_p) {
    *dxp_p = *dhh_p = *dh_p = NULL;
    if (!g || !act || !h || h->ndim != 2 || act->ndim != 2 || act->shape[0] != h->shape[0] ||
        act->shape[1] != 4 * h->shape[1] || act->dtype != h->dtype || g->ndim != 2 || g->shape[0] != h->shape[0] ||
        g->shape[1] != h->shape[1] || h->storage->device.type != MT_CPU || act->storage->device.type != MT_CPU ||
        (h->dtype != MT_FLOAT32 && h->dtype != MT_FLOAT64)) {
        mt_error(MT_ERR_RUNTIME, "gru_cell_backward: expected a gradient and a state of size (B, H) and activations of "
                                 "size (B, 4H), CPU float tensors of one dtype");
        return -1;
    }
    int64_t B = h->shape[0], H = h->shape[1], g3[2] = {B, 3 * H};
    mt_device dev = h->storage->device;
    mt_tensor *gc = mt_cast(g, h->dtype), *gg = gc ? mt_contiguous(gc) : NULL, *ac = mt_contiguous(act);
    mt_tensor *hc = mt_contiguous(h);
    mt_decref(gc);
    mt_tensor *dxp = need_dxp ? mt_empty(g3, 2, h->dtype, dev) : NULL;
    mt_tensor *dhh = need_dhh ? mt_empty(g3, 2, h->dtype, dev) : NULL;
    mt_tensor *dh = need_dh ? mt_empty(h->shape, 2, h->dtype, dev) : NULL;
    int rc = -1;
    if (gg && ac && hc && (!need_dxp || dxp) && (!need_dhh || dhh) && (!need_dh || dh)) {
        if (h->dtype == MT_FLOAT32)
            gru_bwd_f(B, H, mt_data(gg), mt_data(ac), mt_data(hc), dxp ? mt_data(dxp) : NULL,
                      dhh ? mt_data(dhh) : NULL, dh ? mt_data(dh) : NULL);
        else
            gru_bwd_d(B, H, mt_data(gg), mt_data(ac), mt_data(hc), dxp ? mt_data(dxp) : NULL,
                      dhh ? mt_data(dhh) : NULL, dh ? mt_data(dh) : NULL);
        *dxp_p = dxp; *dhh_p = dhh; *dh_p = dh;
        dxp = dhh = dh = NULL;
        rc = 0;
    }
    mt_decref(gg); mt_decref(ac); mt_decref(hc); mt_decref(dxp); mt_decref(dhh); mt_decref(dh);
    return rc;
}

enum { GS_ACT, GS_H };

static int gru_cell_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    gi[0] = gi[1] = gi[2] = NULL;
    mt_tensor *act = mt_node_saved(n, GS_ACT), *h = mt_node_saved(n, GS_H);
    if (!act || !h) return -1;
    if (!go[0]) return 0;
    return mt_gru_cell_backward(go[0], act, h, mt_node_needs(n, 0), mt_node_needs(n, 1), mt_node_needs(n, 2), &gi[0],
                                &gi[1], &gi[2]);
}

static const mt_node_vt gru_cell_vt = {"GruCellBackward0", gru_cell_backward, NULL};

mt_tensor *mt_gru_cell(mt_tensor *xp, mt_tensor *hh, mt_tensor *h) {
    mt_tensor *out, *act;
    if (mt_gru_cell_forward(xp, hh, h, &out, &act) < 0) return NULL;
    mt_tensor *all[3] = {xp, hh, h};
    mt_node *node = mt_autograd_record(&gru_cell_vt, out, 3, all);
    if (node) {
        mt_tensor *hc = mt_contiguous(h);
        if (!hc) { mt_decref(out); mt_decref(act); return NULL; }
        mt_node_save(node, GS_ACT, act, false);
        mt_node_save(node, GS_H, hc, false);
        mt_decref(hc);
    }
    mt_decref(act);
    return out;
}

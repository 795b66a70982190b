/* Fused batch normalisation: per channel statistics in double (two passes: the mean, then the squared
 * deviations), one pass to normalise, and a backward of two passes (the two channel sums, then the input
 * gradient) instead of the dozen elementwise ops and reductions of the composed form. Channels are independent
 * and split over the OpenMP threads. */
#include "norm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../autograd/autograd.h"
#include "../core/backend.h"
#include "ops.h"

typedef struct bn_info {
    bool training, has_w, has_b;
    mt_dtype dtype;
    int64_t N, C, inner; /* input viewed as [N, C, inner] */
    double eps;
} bn_info;

#define DEFINE_BN(T, SFX)                                                                                             \
    static void bn_forward_##SFX(const bn_info *I, const T *x, const T *w, const T *b, const T *rm, const T *rv,     \
                                 double eps, T *y, T *mean_out, T *var_out, double *save) {                          \
        const int64_t N = I->N, C = I->C, S = I->inner;                                                              \
        _Pragma("omp parallel for schedule(static) if (N * C * S >= 32768)") for (int64_t c = 0; c < C; c++) {      \
            double mean, var;                                                                                        \
            if (I->training) {                                                                                       \
                double s = 0;                                                                                        \
                for (int64_t n = 0; n < N; n++) {                                                                    \
                    const T *p = x + (n * C + c) * S;                                                                \
                    for (int64_t i = 0; i < S; i++) s += p[i];                                                       \
                }                                                                                                    \
                mean = s / (double)(N * S);                                                                          \
                double q = 0;                                                                                        \
                for (int64_t n = 0; n < N; n++) {                                                                    \
                    const T *p = x + (n * C + c) * S;                                                                \
                    for (int64_t i = 0; i < S; i++) {                                                                \
                        double d = p[i] - mean;                                                                      \
                        q += d * d;                                                                                  \
                    }                                                                                                \
                }                                                                                                    \
                var = q / (double)(N * S);                                                                           \
                mean_out[c] = (T)mean;                                                                               \
                var_out[c] = (T)var;                                                                                 \
            } else {                                                                                                 \
                mean = rm[c];                                                                                        \
                var = rv[c];                                                                                         \
            }                                                                                                        \
            double invstd = 1.0 / sqrt(var + eps);                                                                   \
            save[2 * c] = mean;                                                                                      \
            save[2 * c + 1] = invstd;                                                                                \
            T scale = (T)(invstd * (w ? (double)w[c] : 1.0));                                                        \
            T shift = (T)((b ? (double)b[c] : 0.0) - mean * invstd * (w ? (double)w[c] : 1.0));                      \
            for (int64_t n = 0; n < N; n++) {                                                                        \
                const T *p = x + (n * C + c) * S;                                                                    \
                T *q = y + (n * C + c) * S;                                                                          \
                for (int64_t i = 0; i < S; i++) q[i] = p[i] * scale + shift;                                         \
            }                                                                                                        \
        }                                                                                                            \
    }                                                                                                                \
    static void bn_backward_##SFX(const bn_info *I, const T *x, const T *w, const double *save, const T *gy, T *gx,  \
                                  T *gw, T *gb) {                                                                    \
        const int64_t N = I->N, C = I->C, S = I->inner;                                                              \
        const double M = (double)(N * S);                                                                            \
        _Pragma("omp parallel for schedule(static) if (N * C * S >= 32768)") for (int64_t c = 0; c < C; c++) {      \
            const double mean = save[2 * c], invstd = save[2 * c + 1];                                               \
            double sdy = 0, sdyx = 0; /* sum of dy, sum of dy * (x - mean) */                                        \
            for (int64_t n = 0; n < N; n++) {                                                                        \
                const T *p = x + (n * C + c) * S, *g = gy + (n * C + c) * S;                                         \
                for (int64_t i = 0; i < S; i++) {                                                                    \
                    sdy += g[i];                                                                                     \
                    sdyx += (double)g[i] * (p[i] - mean);                                                            \
                }                                                                                                    \
            }                                                                                                        \
            if (gw) gw[c] = (T)(sdyx * invstd);                                                                      \
            if (gb) gb[c] = (T)sdy;                                                                                  \
            if (!gx) continue;                                                                                       \
            const double wc = w ? (double)w[c] : 1.0;                                                                \
            /* training: gx = w invstd (dy - mean(dy) - xhat mean(dy xhat)); eval: gx = w invstd dy */               \
            const T a = (T)(wc * invstd);                                                                            \
            const T k = I->training ? (T)(wc * invstd * invstd * invstd * sdyx / M) : (T)0;                          \
            const T m0 = I->training ? (T)(wc * invstd * sdy / M) : (T)0;                                            \
            const T mk = (T)mean;                                                                                    \
            for (int64_t n = 0; n < N; n++) {                                                                        \
                const T *p = x + (n * C + c) * S, *g = gy + (n * C + c) * S;                                         \
                T *q = gx + (n * C + c) * S;                                                                         \
                for (int64_t i = 0; i < S; i++) q[i] = a * g[i] - k * (p[i] - mk) - m0;                              \
            }                                                                                                        \
        }                                                                                                            \
    }

DEFINE_BN(float, f32)
DEFINE_BN(double, f64)

/* Under create_graph: the same gradients as recorded ops of the input and weight (with their history),
 * the statistics recomputed from the input in training (they depend on it), the saved running ones in eval:
 *   training: gx = w invstd (g - mean(g) - xhat mean(g xhat)), eval: gx = w invstd g;
 *   gw = sum(g xhat), gb = sum(g), sums and means over every dim but the channels */
#define P mt_pool
static int bn_backward_composed(mt_node *n, const bn_info *I, mt_tensor *x0, mt_tensor *w0, mt_tensor *go,
                                mt_tensor **gi) {
    const double *save = (const double *)(I + 1);
    mt_tensor *x = P(mt_node_input_alias(n, 0, x0));
    mt_tensor *g = P(mt_cast(go, I->dtype));
    if (!x || !g) return -1;
    int nd = x->ndim;
    int64_t dims[MT_MAX_DIMS], cshape[MT_MAX_DIMS];
    int ndims = 0;
    for (int i = 0; i < nd; i++) {
        if (i != 1) dims[ndims++] = i;
        cshape[i] = i == 1 ? I->C : 1;
    }
    mt_tensor *wv = NULL;
    if (w0) {
        mt_tensor *w = P(mt_node_input_alias(n, 1, w0));
        if (!w || !(wv = P(mt_reshape(w, cshape, nd)))) return -1;
    }
    mt_tensor *mean, *inv;
    if (I->training) {
        mean = P(mt_reduce(MT_RED_MEAN, x, dims, ndims, true, 0, -1));
        mt_tensor *xc = mean ? P(mt_sub(x, mean)) : NULL;
        mt_tensor *var = xc ? P(mt_reduce(MT_RED_MEAN, P(mt_mul(xc, xc)), dims, ndims, true, 0, -1)) : NULL;
        inv = var ? P(mt_unary(MT_U_RSQRT, P(mt_binary_s(MT_B_ADD, var, mt_sf(I->eps), false)))) : NULL;
    } else { /* the running statistics: constants */
        mt_tensor *m = P(mt_empty(cshape, nd, MT_FLOAT64, mt_cpu())), *v = P(mt_empty(cshape, nd, MT_FLOAT64, mt_cpu()));
        if (!m || !v) return -1;
        for (int64_t c = 0; c < I->C; c++) {
            ((double *)mt_data(m))[c] = save[2 * c];
            ((double *)mt_data(v))[c] = save[2 * c + 1];
        }
        mean = P(mt_cast(m, I->dtype));
        inv = P(mt_cast(v, I->dtype));
    }
    if (!mean || !inv) return -1;
    mt_tensor *xhat = P(mt_mul(P(mt_sub(x, mean)), inv));
    if (!xhat) return -1;
    if (mt_node_needs(n, 0)) {
        mt_tensor *scale = wv ? P(mt_mul(wv, inv)) : inv;
        mt_tensor *inner = g;
        if (I->training) {
            mt_tensor *mg = P(mt_reduce(MT_RED_MEAN, g, dims, ndims, true, 0, -1));
            mt_tensor *mgx = P(mt_reduce(MT_RED_MEAN, P(mt_mul(g, xhat)), dims, ndims, true, 0, -1));
            inner = mg && mgx ? P(mt_sub(P(mt_sub(g, mg)), P(mt_mul(xhat, mgx)))) : NULL;
        }
        if (!scale || !inner || !(gi[0] = mt_mul(scale, inner))) return -1;
    }
    if (mt_node_needs(n, 1) && !(gi[1] = mt_reduce(MT_RED_SUM, P(mt_mul(g, xhat)), dims, ndims, false, 0, -1))) return -1;
    if (mt_node_needs(n, 2) && !(gi[2] = mt_reduce(MT_RED_SUM, g, dims, ndims, false, 0, -1))) return -1;
    return 0;
}
#undef P

/* a normalisation node's gradient buffers (input; weight and bias of shape pshape), each only where the node
 * needs it: 0, or -1 (out of memory) with none allocated */
static int grad_buffers(mt_node *n, const mt_tensor *x, const int64_t *pshape, int pnd, mt_dtype dt, mt_tensor **g3) {
    const int64_t *shapes[3] = {x->shape, pshape, pshape};
    const int nds[3] = {x->ndim, pnd, pnd};
    for (int k = 0; k < 3; k++) {
        g3[k] = mt_node_needs(n, k) ? mt_empty(shapes[k], nds[k], dt, mt_cpu()) : NULL;
        if (mt_node_needs(n, k) && !g3[k]) {
            for (int j = 0; j < k; j++) { mt_decref(g3[j]); g3[j] = NULL; }
            return -1;
        }
    }
    return 0;
}

/* saved: 0 input, 1 weight (contiguous); extra: bn_info followed by the per-channel (mean, invstd) doubles */
static int bn_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    const bn_info *I = (const bn_info *)n->extra;
    const double *save = (const double *)(I + 1);
    gi[0] = gi[1] = gi[2] = NULL;
    if (!go[0]) return 0;
    mt_tensor *x = mt_node_saved(n, 0), *w = I->has_w ? mt_node_saved(n, 1) : NULL;
    if (!x || (I->has_w && !w)) return -1;
    if (mt_create_graph_active) {
        int r = bn_backward_composed(n, I, x, w, go[0], gi);
        if (r < 0) for (int k = 0; k < 3; k++) { mt_decref(gi[k]); gi[k] = NULL; }
        return r;
    }
    mt_tensor *g = mt_contiguous(go[0]);
    if (!g) return -1;
    int64_t cs[1] = {I->C};
    mt_tensor *g3[3];
    if (grad_buffers(n, x, cs, 1, I->dtype, g3) < 0) { mt_decref(g); return -1; }
    mt_tensor *gx = g3[0], *gw = g3[1], *gb = g3[2];
#define BN_BW(T, SFX)                                                                                                 \
    bn_backward_##SFX(I, (const T *)mt_data(x), w ? (const T *)mt_data(w) : NULL, save, (const T *)mt_data(g),       \
                      gx ? (T *)mt_data(gx) : NULL, gw ? (T *)mt_data(gw) : NULL, gb ? (T *)mt_data(gb) : NULL)
    if (I->dtype == MT_FLOAT32) BN_BW(float, f32);
    else BN_BW(double, f64);
#undef BN_BW
    mt_decref(g);
    gi[0] = gx;
    gi[1] = gw;
    gi[2] = gb;
    return 0;
}
static void bn_release(mt_node *n) {
    free(n->extra);
    n->extra = NULL;
}
static const mt_node_vt bn_vt = {"NativeBatchNormBackward0", bn_backward, bn_release, true};

int mt_batch_norm(mt_tensor *input, mt_tensor *weight, mt_tensor *bias, mt_tensor *running_mean,
                  mt_tensor *running_var, bool training, double eps, mt_tensor **out, mt_tensor **mean,
                  mt_tensor **var) {
    *out = *mean = *var = NULL;
    if (!input) return -1;
    mt_dtype dt = input->dtype;
    if (input->storage->device.type != MT_CPU)
        return mt_error(MT_ERR_NOTIMPL, "batch_norm: the fused kernel runs on CPU tensors only"), -1;
    if (mt_check_wide("batch_norm", dt) < 0) return -1;
    if (!mt_is_floating(dt) || input->ndim < 2)
        return mt_error(MT_ERR_RUNTIME, "batch_norm: expected a floating input of at least 2 dims"), -1;
    int64_t C = input->shape[1];
    mt_tensor *params[4] = {weight, bias, running_mean, running_var};
    for (int k = 0; k < 4; k++)
        if (params[k] && (params[k]->dtype != dt || mt_numel(params[k]) != C ||
                          params[k]->storage->device.type != MT_CPU))
            return mt_error(MT_ERR_RUNTIME, "batch_norm: weight, bias and running stats must be %lld %s values",
                            (long long)C, mt_type_name(dt)), -1;
    if (!training && (!running_mean || !running_var))
        return mt_error(MT_ERR_RUNTIME, "running_mean must be defined in evaluation mode"), -1;
    bn_info *I = (bn_info *)malloc(sizeof(bn_info) + sizeof(double) * (size_t)(2 * (C > 0 ? C : 1)));
    if (!I) return mt_error(MT_ERR_MEMORY, "batch_norm: out of memory"), -1;
    I->training = training;
    I->eps = eps;
    I->has_w = weight != NULL;
    I->has_b = bias != NULL;
    I->dtype = dt;
    I->N = input->shape[0];
    I->C = C;
    I->inner = 1;
    for (int d = 2; d < input->ndim; d++) I->inner *= input->shape[d];
    mt_tensor *ts[5] = {input, weight, bias, running_mean, running_var}, *cs[5] = {NULL};
    mt_tensor *y = NULL, *m = NULL, *v = NULL;
    int rc = -1;
    for (int k = 0; k < 5; k++)
        if (ts[k] && !(cs[k] = mt_contiguous(ts[k]))) goto done;
    int64_t cshape[1] = {C};
    if (!(y = mt_empty(input->shape, input->ndim, dt, mt_cpu()))) goto done;
    if (training && (!(m = mt_empty(cshape, 1, dt, mt_cpu())) || !(v = mt_empty(cshape, 1, dt, mt_cpu())))) goto done;
#define BN_FW(T, SFX)                                                                                                 \
    bn_forward_##SFX(I, (const T *)mt_data(cs[0]), cs[1] ? (const T *)mt_data(cs[1]) : NULL,                         \
                     cs[2] ? (const T *)mt_data(cs[2]) : NULL, cs[3] ? (const T *)mt_data(cs[3]) : NULL,             \
                     cs[4] ? (const T *)mt_data(cs[4]) : NULL, eps, (T *)mt_data(y), m ? (T *)mt_data(m) : NULL,    \
                     v ? (T *)mt_data(v) : NULL, (double *)(I + 1))
    if (dt == MT_FLOAT32) BN_FW(float, f32);
    else BN_FW(double, f64);
#undef BN_FW
    {
        mt_tensor *ins[3] = {input, weight, bias};
        mt_node *node = mt_autograd_record(&bn_vt, y, 3, ins);
        if (node) {
            node->extra = I;
            I = NULL;
            mt_node_save(node, 0, cs[0], false);
            if (cs[1]) mt_node_save(node, 1, cs[1], false);
        }
    }
    *out = y;
    *mean = m;
    *var = v;
    y = m = v = NULL;
    rc = 0;
done:
    free(I);
    for (int k = 0; k < 5; k++) mt_decref(cs[k]);
    mt_decref(y);
    mt_decref(m);
    mt_decref(v);
    return rc;
}

/* ====================== layer normalisation ======================
 * Over the last dims of [rows, N]: per row the mean and the biased variance in double, y = (x - mean) rstd w + b;
 * the backward in one pass per row, gx = rstd (gw_x - mean(gw_x) - xhat mean(gw_x xhat)) with gw_x = g w, and the
 * weight and bias gradients summed over the rows. Rows are split over the OpenMP threads. */
typedef struct ln_info {
    int64_t rows, N;
    int k;          /* normalised dims */
    double eps;
    bool has_w, has_b;
    mt_dtype dtype;
} ln_info; /* followed by rows (mean, rstd) doubles */

#define DEFINE_LN(T, SFX)                                                                                             \
    static void ln_forward_##SFX(const ln_info *I, const T *x, const T *w, const T *b, T *y, double *save) {          \
        const int64_t R = I->rows, N = I->N;                                                                          \
        _Pragma("omp parallel for schedule(static) if (R * N >= 32768)") for (int64_t r = 0; r < R; r++) {            \
            const T *p = x + r * N;                                                                                   \
            T *q = y + r * N;                                                                                         \
            double s = 0, ss = 0;                                                                                     \
            for (int64_t i = 0; i < N; i++) s += p[i];                                                                \
            double mean = s / (double)N;                                                                              \
            for (int64_t i = 0; i < N; i++) { double d = p[i] - mean; ss += d * d; }                                  \
            double rstd = 1.0 / sqrt(ss / (double)N + I->eps);                                                        \
            save[2 * r] = mean;                                                                                       \
            save[2 * r + 1] = rstd;                                                                                   \
            T m = (T)mean, rs = (T)rstd;                                                                              \
            for (int64_t i = 0; i < N; i++) {                                                                         \
                T v = (p[i] - m) * rs;                                                                                \
                if (w) v *= w[i];                                                                                     \
                if (b) v += b[i];                                                                                     \
                q[i] = v;                                                                                             \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    static void ln_backward_##SFX(const ln_info *I, const T *x, const T *w, const double *save, const T *g, T *gx,    \
                                  T *gw, T *gb) {                                                                     \
        const int64_t R = I->rows, N = I->N;                                                                          \
        if (gx) {                                                                                                     \
            _Pragma("omp parallel for schedule(static) if (R * N >= 32768)") for (int64_t r = 0; r < R; r++) {        \
                const T *p = x + r * N, *gr = g + r * N;                                                              \
                T *o = gx + r * N;                                                                                    \
                double mean = save[2 * r], rstd = save[2 * r + 1], s1 = 0, s2 = 0;                                    \
                for (int64_t i = 0; i < N; i++) {                                                                     \
                    double gg = (double)gr[i] * (w ? (double)w[i] : 1.0), xh = (p[i] - mean) * rstd;                  \
                    s1 += gg;                                                                                         \
                    s2 += gg * xh;                                                                                    \
                }                                                                                                     \
                T a = (T)(s1 / (double)N), c = (T)(s2 / (double)N), m = (T)mean, rs = (T)rstd;                        \
                for (int64_t i = 0; i < N; i++) {                                                                     \
                    T xh = (p[i] - m) * rs, gg = gr[i] * (w ? w[i] : (T)1);                                           \
                    o[i] = rs * (gg - a - xh * c);                                                                    \
                }                                                                                                     \
            }                                                                                                         \
        }                                                                                                             \
        if (gw || gb) { /* column sums over the rows, in double */                                                    \
            double *acc = calloc((size_t)(2 * N), sizeof(double));                                                    \
            if (!acc) return;                                                                                         \
            for (int64_t r = 0; r < R; r++) {                                                                         \
                const T *p = x + r * N, *gr = g + r * N;                                                              \
                double mean = save[2 * r], rstd = save[2 * r + 1];                                                    \
                for (int64_t i = 0; i < N; i++) {                                                                     \
                    acc[i] += (double)gr[i] * ((p[i] - mean) * rstd);                                                 \
                    acc[N + i] += gr[i];                                                                              \
                }                                                                                                     \
            }                                                                                                         \
            for (int64_t i = 0; i < N; i++) {                                                                         \
                if (gw) gw[i] = (T)acc[i];                                                                            \
                if (gb) gb[i] = (T)acc[N + i];                                                                        \
            }                                                                                                         \
            free(acc);                                                                                                \
        }                                                                                                             \
    }
DEFINE_LN(float, f32)
DEFINE_LN(double, f64)

/* under create_graph: the same gradients as recorded ops of the input and weight */
#define P mt_pool
static int ln_backward_composed(mt_node *n, const ln_info *I, mt_tensor *x0, mt_tensor *w0, mt_tensor *go,
                                mt_tensor **gi) {
    mt_tensor *x = P(mt_node_input_alias(n, 0, x0)), *g = P(mt_cast(go, I->dtype));
    if (!x || !g) return -1;
    int nd = x->ndim;
    int64_t dims[MT_MAX_DIMS], rdims[MT_MAX_DIMS];
    for (int i = 0; i < I->k; i++) dims[i] = nd - I->k + i;
    for (int i = 0; i < nd - I->k; i++) rdims[i] = i;
    mt_tensor *mean = P(mt_reduce(MT_RED_MEAN, x, dims, I->k, true, 0, -1));
    mt_tensor *xc = mean ? P(mt_sub(x, mean)) : NULL;
    mt_tensor *var = xc ? P(mt_reduce(MT_RED_MEAN, P(mt_mul(xc, xc)), dims, I->k, true, 0, -1)) : NULL;
    mt_tensor *rstd = var ? P(mt_unary(MT_U_RSQRT, P(mt_binary_s(MT_B_ADD, var, mt_sf(I->eps), false)))) : NULL;
    mt_tensor *xhat = rstd ? P(mt_mul(xc, rstd)) : NULL;
    mt_tensor *w = w0 ? P(mt_node_input_alias(n, 1, w0)) : NULL;
    if (!xhat || (w0 && !w)) return -1;
    if (mt_node_needs(n, 0)) {
        mt_tensor *gg = w ? P(mt_mul(g, w)) : g;
        mt_tensor *a = P(mt_reduce(MT_RED_MEAN, gg, dims, I->k, true, 0, -1));
        mt_tensor *c = P(mt_reduce(MT_RED_MEAN, P(mt_mul(gg, xhat)), dims, I->k, true, 0, -1));
        if (!a || !c || !(gi[0] = mt_mul(rstd, P(mt_sub(P(mt_sub(gg, a)), P(mt_mul(xhat, c))))))) return -1;
    }
    if (mt_node_needs(n, 1) && !(gi[1] = mt_reduce(MT_RED_SUM, P(mt_mul(g, xhat)), rdims, nd - I->k, false, 0, -1)))
        return -1;
    if (mt_node_needs(n, 2) && !(gi[2] = mt_reduce(MT_RED_SUM, g, rdims, nd - I->k, false, 0, -1))) return -1;
    return 0;
}
#undef P

/* saved: 0 input, 1 weight (contiguous); extra: ln_info and the per-row (mean, rstd) */
static int ln_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    const ln_info *I = (const ln_info *)n->extra;
    const double *save = (const double *)(I + 1);
    gi[0] = gi[1] = gi[2] = NULL;
    if (!go[0]) return 0;
    mt_tensor *x = mt_node_saved(n, 0), *w = I->has_w ? mt_node_saved(n, 1) : NULL;
    if (!x || (I->has_w && !w)) return -1;
    if (mt_create_graph_active) {
        int r = ln_backward_composed(n, I, x, w, go[0], gi);
        if (r < 0) for (int k = 0; k < 3; k++) { mt_decref(gi[k]); gi[k] = NULL; }
        return r;
    }
    mt_tensor *g = mt_contiguous(go[0]);
    if (!g) return -1;
    mt_tensor *g3[3];
    if (grad_buffers(n, x, x->shape + x->ndim - I->k, I->k, I->dtype, g3) < 0) { mt_decref(g); return -1; }
    mt_tensor *gx = g3[0], *gw = g3[1], *gb = g3[2];
#define LN_BW(T, SFX)                                                                                                 \
    ln_backward_##SFX(I, (const T *)mt_data(x), w ? (const T *)mt_data(w) : NULL, save, (const T *)mt_data(g),       \
                      gx ? (T *)mt_data(gx) : NULL, gw ? (T *)mt_data(gw) : NULL, gb ? (T *)mt_data(gb) : NULL)
    if (I->dtype == MT_FLOAT32) LN_BW(float, f32);
    else LN_BW(double, f64);
#undef LN_BW
    mt_decref(g);
    gi[0] = gx;
    gi[1] = gw;
    gi[2] = gb;
    return 0;
}
static const mt_node_vt ln_vt = {"NativeLayerNormBackward0", ln_backward, bn_release, true};

mt_tensor *mt_layer_norm(mt_tensor *input, mt_tensor *weight, mt_tensor *bias, int k, double eps) {
    if (!input) return NULL;
    mt_dtype dt = input->dtype;
    if (input->storage->device.type != MT_CPU || (dt != MT_FLOAT32 && dt != MT_FLOAT64) || k < 1 || k > input->ndim)
        return mt_error(MT_ERR_RUNTIME, "_layer_norm: expected a float32/float64 CPU input of at least %d dims", k);
    int64_t N = 1;
    for (int i = input->ndim - k; i < input->ndim; i++) N *= input->shape[i];
    mt_tensor *params[2] = {weight, bias};
    for (int j = 0; j < 2; j++)
        if (params[j] && (params[j]->dtype != dt || mt_numel(params[j]) != N || params[j]->storage->device.type != MT_CPU))
            return mt_error(MT_ERR_RUNTIME, "_layer_norm: weight and bias must be %lld %s values", (long long)N,
                            mt_type_name(dt));
    int64_t rows = N ? mt_numel(input) / N : 0;
    ln_info *I = malloc(sizeof(ln_info) + sizeof(double) * (size_t)(2 * (rows > 0 ? rows : 1)));
    if (!I) return mt_error(MT_ERR_MEMORY, "layer_norm: out of memory");
    *I = (ln_info){rows, N, k, eps, weight != NULL, bias != NULL, dt};
    mt_tensor *cs[3] = {mt_contiguous(input), weight ? mt_contiguous(weight) : NULL, bias ? mt_contiguous(bias) : NULL};
    mt_tensor *y = NULL;
    if (!cs[0] || (weight && !cs[1]) || (bias && !cs[2]) || !(y = mt_empty(input->shape, input->ndim, dt, mt_cpu())))
        goto done;
    if (dt == MT_FLOAT32)
        ln_forward_f32(I, mt_data(cs[0]), cs[1] ? mt_data(cs[1]) : NULL, cs[2] ? mt_data(cs[2]) : NULL, mt_data(y),
                       (double *)(I + 1));
    else
        ln_forward_f64(I, mt_data(cs[0]), cs[1] ? mt_data(cs[1]) : NULL, cs[2] ? mt_data(cs[2]) : NULL, mt_data(y),
                       (double *)(I + 1));
    mt_tensor *ins[3] = {input, weight, bias};
    mt_node *node = mt_autograd_record(&ln_vt, y, 3, ins);
    if (node) {
        node->extra = I;
        I = NULL;
        mt_node_save(node, 0, cs[0], false);
        if (cs[1]) mt_node_save(node, 1, cs[1], false);
    }
done:
    free(I);
    for (int j = 0; j < 3; j++) mt_decref(cs[j]);
    return y;
}

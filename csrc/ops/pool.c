/* Max and average pooling, plain and adaptive, over 2 or 3 spatial dims, forward and backward.
 *
 * Each output position o of a spatial dim reads a window of the input: [o*s - p, o*s - p + (k-1)*d] with
 * step d for the plain kinds (taps outside the input are skipped: -inf for max, excluded or counted as zero
 * for avg per count_include_pad), [floor(o*in/out), ceil((o+1)*in/out)) for the adaptive ones. A 2-d problem is
 * a 3-d one with a unit dim in front. Planes (n, c) are independent and split over the OpenMP threads. Max
 * keeps the flat index (within its plane) of the first maximum, or of the first NaN, as PyTorch's CPU kernel. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../autograd/autograd.h"
#include "../core/backend.h"
#include "conv.h"
#include "ops.h"

typedef struct pool_info {
    int kind, nsp;
    mt_dtype dtype;
    int64_t planes;                 /* N * C */
    int64_t in[3], out[3];          /* spatial sizes, unit dims in front */
    int64_t k[3], s[3], p[3], d[3]; /* plain kinds */
    bool count_include_pad;
    int64_t divisor_override;
    int in_ndim;
    int64_t in_shape[MT_MAX_DIMS];
    mt_pool_params params;          /* as called: the double backward pools again */
} pool_info;

static bool is_max(int kind) { return kind == MT_POOL_MAX || kind == MT_POOL_ADAPTIVE_MAX; }
static bool is_adaptive(int kind) { return kind == MT_POOL_ADAPTIVE_MAX || kind == MT_POOL_ADAPTIVE_AVG; }

/* The window of output index o along dim i: taps lo, lo + step, ... < hi, all inside the input; *padded is
 * the window's extent counting padding (count_include_pad's divisor factor). */
static inline void window(const pool_info *P, int i, int64_t o, int64_t *lo, int64_t *hi, int64_t *step,
                          int64_t *padded) {
    if (is_adaptive(P->kind)) {
        *lo = o * P->in[i] / P->out[i];
        *hi = ((o + 1) * P->in[i] + P->out[i] - 1) / P->out[i];
        *step = 1;
        *padded = *hi - *lo;
        return;
    }
    int64_t start = o * P->s[i] - P->p[i], end = start + (P->k[i] - 1) * P->d[i] + 1;
    int64_t pend = end < P->in[i] + P->p[i] ? end : P->in[i] + P->p[i];
    *padded = pend - start;
    while (start < 0) start += P->d[i];
    *lo = start;
    *hi = end < P->in[i] ? end : P->in[i];
    *step = P->d[i];
}

static int64_t divisor(const pool_info *P, const int64_t lo[3], const int64_t hi[3], const int64_t padded[3]) {
    if (P->divisor_override) return P->divisor_override;
    int64_t n = 1;
    for (int i = 0; i < 3; i++) n *= P->count_include_pad && !is_adaptive(P->kind) ? padded[i] : hi[i] - lo[i];
    return n;
}

/* a plain 2-d pooling whose windows all lie inside the input (no padding, no dilation, no partial ceil_mode
 * window): the common max_pool2d(x, 2) runs a direct loop (64 x 64 x 32 x 32 on one thread: 15 ms, 24 ms in the
 * general loop, which computes every position's window) */
static bool full_windows_2d(const pool_info *P) {
    if (is_adaptive(P->kind) || P->in[0] != 1 || P->out[0] != 1) return false;
    for (int i = 1; i < 3; i++)
        if (P->p[i] != 0 || P->d[i] != 1 || P->out[i] < 1 || (P->out[i] - 1) * P->s[i] + P->k[i] > P->in[i])
            return false;
    return true;
}

#define POOL_LOOP_BEGIN                                                                                              \
    for (int64_t o0 = 0; o0 < P->out[0]; o0++)                                                                       \
        for (int64_t o1 = 0; o1 < P->out[1]; o1++)                                                                   \
            for (int64_t o2 = 0; o2 < P->out[2]; o2++) {                                                             \
                int64_t lo[3], hi[3], st[3], pd[3], oo[3] = {o0, o1, o2};                                            \
                for (int i = 0; i < 3; i++) window(P, i, oo[i], &lo[i], &hi[i], &st[i], &pd[i]);                     \
                int64_t oi = (o0 * P->out[1] + o1) * P->out[2] + o2;
#define POOL_LOOP_END }

/* ACC: the accumulator type of avg (double for the floating types, int64 for the integer ones) */
#define DEFINE_POOL(T, SFX, ACC, LOWEST)                                                                             \
    static void pool_forward_##SFX(const pool_info *P, const T *x, T *y, int64_t *ind) {                             \
        int64_t ilen = P->in[0] * P->in[1] * P->in[2], olen = P->out[0] * P->out[1] * P->out[2];                     \
        _Pragma("omp parallel for schedule(static) if (P->planes * olen >= 4096)") for (int64_t pl = 0;              \
                                                                                         pl < P->planes; pl++) {      \
            const T *xp = x + pl * ilen;                                                                             \
            T *yp = y + pl * olen;                                                                                   \
            int64_t *ip = ind ? ind + pl * olen : NULL;                                                              \
            if (full_windows_2d(P)) { /* the same taps in the same order, without the per-position window() */       \
                const int64_t W = P->in[2], k1 = P->k[1], k2 = P->k[2], ow = P->out[2];                              \
                const ACC div = (ACC)(P->divisor_override ? P->divisor_override : k1 * k2);                          \
                for (int64_t o1 = 0; o1 < P->out[1]; o1++)                                                           \
                    for (int64_t o2 = 0; o2 < ow; o2++) {                                                            \
                        int64_t base = o1 * P->s[1] * W + o2 * P->s[2], oi = o1 * ow + o2;                           \
                        if (is_max(P->kind)) {                                                                       \
                            T best = LOWEST;                                                                         \
                            int64_t bi = base;                                                                       \
                            for (int64_t i1 = 0; i1 < k1; i1++)                                                      \
                                for (int64_t i2 = 0; i2 < k2; i2++) {                                                \
                                    T v = xp[base + i1 * W + i2];                                                    \
                                    if (v > best || v != v) {                                                        \
                                        best = v;                                                                    \
                                        bi = base + i1 * W + i2;                                                     \
                                        if (v != v) goto found2d_##SFX;                                              \
                                    }                                                                                \
                                }                                                                                    \
                        found2d_##SFX:                                                                               \
                            yp[oi] = best;                                                                           \
                            if (ip) ip[oi] = bi;                                                                     \
                        } else {                                                                                     \
                            ACC acc = 0;                                                                             \
                            for (int64_t i1 = 0; i1 < k1; i1++)                                                      \
                                for (int64_t i2 = 0; i2 < k2; i2++) acc += xp[base + i1 * W + i2];                   \
                            yp[oi] = (T)(acc / div);                                                                 \
                        }                                                                                            \
                    }                                                                                                \
                continue;                                                                                            \
            }                                                                                                        \
            POOL_LOOP_BEGIN                                                                                          \
            if (is_max(P->kind)) {                                                                                   \
                T best = LOWEST;                                                                                     \
                int64_t bi = (lo[0] * P->in[1] + lo[1]) * P->in[2] + lo[2];                                          \
                for (int64_t i0 = lo[0]; i0 < hi[0]; i0 += st[0])                                                    \
                    for (int64_t i1 = lo[1]; i1 < hi[1]; i1 += st[1])                                                \
                        for (int64_t i2 = lo[2]; i2 < hi[2]; i2 += st[2]) {                                          \
                            int64_t idx = (i0 * P->in[1] + i1) * P->in[2] + i2;                                      \
                            T v = xp[idx];                                                                           \
                            if (v > best || v != v) {                                                                \
                                best = v;                                                                            \
                                bi = idx;                                                                            \
                                if (v != v) goto found_##SFX;                                                        \
                            }                                                                                        \
                        }                                                                                            \
            found_##SFX:                                                                                             \
                yp[oi] = best;                                                                                       \
                if (ip) ip[oi] = bi;                                                                                 \
            } else {                                                                                                 \
                ACC acc = 0;                                                                                         \
                for (int64_t i0 = lo[0]; i0 < hi[0]; i0++)                                                           \
                    for (int64_t i1 = lo[1]; i1 < hi[1]; i1++)                                                       \
                        for (int64_t i2 = lo[2]; i2 < hi[2]; i2++) acc += xp[(i0 * P->in[1] + i1) * P->in[2] + i2];  \
                yp[oi] = (T)(acc / (ACC)divisor(P, lo, hi, pd));                                                     \
            }                                                                                                        \
            POOL_LOOP_END                                                                                            \
        }                                                                                                            \
    }

DEFINE_POOL(float, f32, double, -INFINITY)
DEFINE_POOL(double, f64, double, -INFINITY)
DEFINE_POOL(int32_t, i32, int64_t, INT32_MIN)
DEFINE_POOL(int64_t, i64, int64_t, INT64_MIN)

#define DEFINE_POOL_BACKWARD(T, SFX)                                                                                 \
    static void pool_backward_##SFX(const pool_info *P, const T *gy, const int64_t *ind, T *gx) {                    \
        int64_t ilen = P->in[0] * P->in[1] * P->in[2], olen = P->out[0] * P->out[1] * P->out[2];                     \
        memset(gx, 0, sizeof(T) * (size_t)(P->planes * ilen));                                                       \
        _Pragma("omp parallel for schedule(static) if (P->planes * olen >= 4096)") for (int64_t pl = 0;              \
                                                                                         pl < P->planes; pl++) {      \
            const T *gp = gy + pl * olen;                                                                            \
            T *xp = gx + pl * ilen;                                                                                  \
            if (is_max(P->kind)) {                                                                                   \
                const int64_t *ip = ind + pl * olen;                                                                 \
                for (int64_t oi = 0; oi < olen; oi++) xp[ip[oi]] += gp[oi];                                          \
                continue;                                                                                            \
            }                                                                                                        \
            POOL_LOOP_BEGIN                                                                                          \
            T g = gp[oi] / (T)divisor(P, lo, hi, pd);                                                                \
            for (int64_t i0 = lo[0]; i0 < hi[0]; i0++)                                                               \
                for (int64_t i1 = lo[1]; i1 < hi[1]; i1++)                                                           \
                    for (int64_t i2 = lo[2]; i2 < hi[2]; i2++) xp[(i0 * P->in[1] + i1) * P->in[2] + i2] += g;        \
            POOL_LOOP_END                                                                                            \
        }                                                                                                            \
    }

DEFINE_POOL_BACKWARD(float, f32)
DEFINE_POOL_BACKWARD(double, f64)

/* The gradient of a pooling is linear in g and does not depend on the input (the argmax positions are
 * fixed), so its own derivative w.r.t. g is the transposed map: the pooling again for the avg kinds,
 * g taken at the saved argmax positions for the max kinds; both recorded, so differentiable again.
 * saved: 0 indices (max kinds); extra: a copy of the pooling's pool_info */
static int pool_grad_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    const pool_info *P = (const pool_info *)n->extra;
    mt_tensor *gg = go[0];
    if (!is_max(P->kind)) {
        mt_tensor *out = NULL;
        if (mt_pooling(P->kind, gg, &P->params, &out, NULL) < 0) return -1;
        gi[0] = out;
        return 0;
    }
    mt_tensor *ind = mt_node_saved(n, 0);
    if (!ind) return -1;
    int64_t ilen = P->in[0] * P->in[1] * P->in[2], olen = P->out[0] * P->out[1] * P->out[2];
    int64_t gs[2] = {P->planes, ilen}, is[2] = {P->planes, olen};
    mt_tensor *g2 = mt_pool(mt_reshape(gg, gs, 2)), *i2 = mt_pool(mt_reshape(ind, is, 2));
    mt_tensor *r = g2 && i2 ? mt_pool(mt_gather(g2, 1, i2)) : NULL;
    gi[0] = r ? mt_reshape(r, ind->shape, ind->ndim) : NULL;
    return gi[0] ? 0 : -1;
}
static void pool_release(mt_node *n);
static const mt_node_vt pool_grad_vts[4] = {
    {"MaxPool2DWithIndicesBackwardBackward0", pool_grad_backward, pool_release, true},
    {"AvgPool2DBackwardBackward0", pool_grad_backward, pool_release, true},
    {"AdaptiveMaxPool2DBackwardBackward0", pool_grad_backward, pool_release, true},
    {"AdaptiveAvgPool2DBackwardBackward0", pool_grad_backward, pool_release, true},
};

static int pool_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    const pool_info *P = (const pool_info *)n->extra;
    gi[0] = NULL;
    if (!go[0]) return 0;
    mt_tensor *ind = NULL;
    if (is_max(P->kind) && !(ind = mt_node_saved(n, 0))) return -1;
    mt_tensor *g = mt_contiguous(go[0]);
    mt_tensor *gx = g ? mt_empty(P->in_shape, P->in_ndim, P->dtype, mt_cpu()) : NULL;
    if (!gx) {
        mt_decref(g);
        return -1;
    }
    const int64_t *ip = ind ? (const int64_t *)mt_data(ind) : NULL;
    if (P->dtype == MT_FLOAT32) pool_backward_f32(P, (const float *)mt_data(g), ip, (float *)mt_data(gx));
    else pool_backward_f64(P, (const double *)mt_data(g), ip, (double *)mt_data(gx));
    /* under create_graph the gradient's history is the transposed map of g */
    if (mt_create_graph_active && go[0]->requires_grad) {
        mt_node *q = mt_autograd_record(&pool_grad_vts[P->kind], gx, 1, &go[0]);
        if (q) {
            pool_info *c = malloc(sizeof *c);
            if (!c) { mt_decref(g); mt_decref(gx); mt_error(MT_ERR_MEMORY, "out of memory"); return -1; }
            *c = *P;
            q->extra = c;
            if (ind) mt_node_save(q, 0, ind, false);
        }
    }
    mt_decref(g);
    gi[0] = gx;
    return 0;
}
static void pool_release(mt_node *n) {
    free(n->extra);
    n->extra = NULL;
}
static const mt_node_vt pool_vts[2][4] = {
    {{"MaxPool2DWithIndicesBackward0", pool_backward, pool_release, true},
     {"AvgPool2DBackward0", pool_backward, pool_release, true},
     {"AdaptiveMaxPool2DBackward0", pool_backward, pool_release, true},
     {"AdaptiveAvgPool2DBackward0", pool_backward, pool_release, true}},
    {{"MaxPool3DWithIndicesBackward0", pool_backward, pool_release, true},
     {"AvgPool3DBackward0", pool_backward, pool_release, true},
     {"AdaptiveMaxPool3DBackward0", pool_backward, pool_release, true},
     {"AdaptiveAvgPool3DBackward0", pool_backward, pool_release, true}},
};
static const char *const pool_names[2][4] = {
    {"max_pool2d", "avg_pool2d", "adaptive_max_pool2d", "adaptive_avg_pool2d"},
    {"max_pool3d", "avg_pool3d", "adaptive_max_pool3d", "adaptive_avg_pool3d"},
};

/* "kH: 2 kW: 3" style lists of PyTorch's pooling errors */
static const char *hw_list(const char *prefix, const int64_t *v, int nsp) {
    static MT_THREAD_LOCAL char buf[128];
    static const char *const suffix[2][3] = {{"H", "W", ""}, {"T", "H", "W"}};
    buf[0] = 0;
    for (int i = 0; i < nsp; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, sizeof buf - l, "%s%s%s: %lld", i ? " " : "", prefix, suffix[nsp - 2][i], (long long)v[i]);
    }
    return buf;
}

static const char *x_list(const int64_t *v, int n) {
    static MT_THREAD_LOCAL char buf[160];
    buf[0] = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, sizeof buf - l, "%s%lld", i ? "x" : "", (long long)v[i]);
    }
    return buf;
}

static int check_plain(int kind, const mt_pool_params *p, const char *name) {
    int nsp = p->nsp;
    for (int i = 0; i < nsp; i++)
        if (p->stride[i] == 0) return mt_error(MT_ERR_RUNTIME, "stride should not be zero"), -1;
    for (int i = 0; i < nsp; i++)
        if (p->kernel[i] <= 0)
            return mt_error(MT_ERR_RUNTIME, "kernel size should be greater than zero, but got %s",
                            hw_list("k", p->kernel, nsp)), -1;
    for (int i = 0; i < nsp; i++)
        if (p->stride[i] < 0)
            return mt_error(MT_ERR_RUNTIME, "stride should be greater than zero, but got %s",
                            hw_list("d", p->stride, nsp)), -1;
    if (kind == MT_POOL_MAX)
        for (int i = 0; i < nsp; i++)
            if (p->dilation[i] <= 0)
                return mt_error(MT_ERR_RUNTIME, "dilation should be greater than zero, but got %s",
                                hw_list("dilation", p->dilation, nsp)), -1;
    for (int i = 0; i < nsp; i++)
        if (p->padding[i] < 0)
            return mt_error(MT_ERR_RUNTIME, "pad must be non-negative, but got pad: %lld", (long long)p->padding[i]), -1;
    for (int i = 0; i < nsp; i++) {
        int64_t d = kind == MT_POOL_MAX ? p->dilation[i] : 1;
        if (p->padding[i] > ((p->kernel[i] - 1) * d + 1) / 2)
            return mt_error(MT_ERR_RUNTIME,
                            "pad should be at most half of effective kernel size, but got pad=%lld, kernel_size=%lld "
                            "and dilation=%lld",
                            (long long)p->padding[i], (long long)p->kernel[i], (long long)d), -1;
    }
    (void)name;
    return 0;
}

/* PyTorch's pooling_output_shape */
static int64_t plain_out_size(int64_t in, int64_t k, int64_t pad, int64_t s, int64_t d, bool ceil_mode) {
    int64_t num = in + 2 * pad - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
    int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
    if (ceil_mode && (out - 1) * s >= in + pad) out--;
    return out;
}

int mt_pooling(int kind, mt_tensor *input, const mt_pool_params *p, mt_tensor **out, mt_tensor **indices) {
    if (out) *out = NULL;
    if (indices) *indices = NULL;
    if (!input) return -1;
    if (kind < MT_POOL_MAX || kind > MT_POOL_ADAPTIVE_AVG || p->nsp < 2 || p->nsp > 3)
        return mt_error(MT_ERR_VALUE, "pool: bad kind or nsp"), -1;
    int nsp = p->nsp, sp0 = input->ndim - nsp;
    const char *name = pool_names[nsp - 2][kind];
    if (input->ndim != nsp + 1 && input->ndim != nsp + 2) {
        if (is_adaptive(kind))
            return mt_error(MT_ERR_RUNTIME, "%s(): Expected %dD or %dD tensor, but got %s", name, nsp + 1, nsp + 2,
                            mt_shape_str(input->shape, input->ndim)), -1;
        return mt_error(MT_ERR_RUNTIME, "non-empty %dD or %dD (batch mode) tensor expected for input", nsp + 1,
                        nsp + 2), -1;
    }
    for (int i = 1; i < input->ndim; i++) /* dims after the (optional) batch dim must be non-empty */
        if (input->shape[i] == 0 && (i >= sp0 || input->ndim == nsp + 2)) {
            if (i < sp0 && kind == MT_POOL_ADAPTIVE_AVG) continue; /* torch allows empty channels there */
            if (is_adaptive(kind))
                return mt_error(MT_ERR_RUNTIME,
                                "%s(): Expected input to have non-zero size for non-batch dimensions, but input has "
                                "sizes %s with dimension %d being empty",
                                name, mt_shape_str(input->shape, input->ndim), i), -1;
            return mt_error(MT_ERR_RUNTIME,
                            "Expected %dD or %dD (batch mode) tensor with optional 0 dim batch size for input, but "
                            "got:%s",
                            nsp + 1, nsp + 2, mt_shape_str(input->shape, input->ndim)), -1;
        }
    if (input->ndim == nsp + 1 && input->shape[0] == 0 && !is_adaptive(kind))
        return mt_error(MT_ERR_RUNTIME, "non-empty %dD or %dD (batch mode) tensor expected for input", nsp + 1,
                        nsp + 2), -1;
    mt_dtype dt = input->dtype;
    if (mt_check_wide(name, dt) < 0) return -1;
    if (dt == MT_BOOL || (is_adaptive(kind) && !mt_is_floating(dt)) || (kind == MT_POOL_AVG && dt == MT_INT32))
        return mt_error(MT_ERR_NOTIMPL, "\"%s\" not implemented for '%s'", name, mt_type_name(dt)), -1;
    if (is_adaptive(kind)) {
        for (int i = 0; i < nsp; i++)
            if (p->output_size[i] < 0) {
                char b[96] = "";
                for (int j = 0; j < nsp; j++) {
                    size_t l = strlen(b);
                    snprintf(b + l, sizeof b - l, "%s%lld", j ? ", " : "", (long long)p->output_size[j]);
                }
                return mt_error(MT_ERR_RUNTIME,
                                "%s: elements of output_size must be greater than or equal to 0 but received {%s}",
                                name, b), -1;
            }
    } else if (check_plain(kind, p, name) < 0) {
        return -1;
    }

    pool_info *P = (pool_info *)calloc(1, sizeof *P);
    if (P) P->params = *p;
    if (!P) return mt_error(MT_ERR_MEMORY, "%s: out of memory", name), -1;
    P->kind = kind;
    P->nsp = nsp;
    P->dtype = dt;
    P->count_include_pad = p->count_include_pad;
    P->divisor_override = kind == MT_POOL_AVG ? p->divisor_override : 0;
    P->in_ndim = input->ndim;
    memcpy(P->in_shape, input->shape, sizeof(int64_t) * (size_t)input->ndim);
    P->planes = 1;
    for (int i = 0; i < sp0; i++) P->planes *= input->shape[i];
    int64_t out_shape[MT_MAX_DIMS];
    memcpy(out_shape, input->shape, sizeof(int64_t) * (size_t)sp0);
    bool too_small = false;
    for (int i = 0; i < 3; i++) {
        int j = i - (3 - nsp);
        P->k[i] = j >= 0 ? p->kernel[j] : 1;
        P->s[i] = j >= 0 ? p->stride[j] : 1;
        P->p[i] = j >= 0 ? p->padding[j] : 0;
        P->d[i] = j >= 0 && kind == MT_POOL_MAX ? p->dilation[j] : 1;
        P->in[i] = j >= 0 ? input->shape[sp0 + j] : 1;
        if (j < 0) P->out[i] = 1;
        else if (is_adaptive(kind)) P->out[i] = p->output_size[j];
        else P->out[i] = plain_out_size(P->in[i], P->k[i], P->p[i], P->s[i], P->d[i], p->ceil_mode);
        if (j >= 0) {
            out_shape[sp0 + j] = P->out[i];
            if (P->out[i] < 1 && !is_adaptive(kind)) too_small = true;
        }
    }
    if (too_small) {
        int64_t a[4], b[4];
        a[0] = b[0] = input->shape[sp0 - 1];
        for (int j = 0; j < nsp; j++) {
            a[1 + j] = input->shape[sp0 + j];
            b[1 + j] = out_shape[sp0 + j];
        }
        char as[160];
        snprintf(as, sizeof as, "%s", x_list(a, nsp + 1));
        mt_error(MT_ERR_RUNTIME, "Given input size: (%s). Calculated output size: (%s). Output size is too small", as,
                 x_list(b, nsp + 1));
        free(P);
        return -1;
    }

    if (!out) { /* the checks alone */
        free(P);
        return 0;
    }
    if (input->storage->device.type != MT_CPU) {
        free(P);
        return mt_error(MT_ERR_NOTIMPL, "%s: the C kernels run on CPU tensors (the Python layer composes the CUDA "
                                        "form)", name), -1;
    }
    mt_tensor *xc = mt_contiguous(input);
    mt_tensor *y = xc ? mt_empty(out_shape, input->ndim, dt, mt_cpu()) : NULL;
    mt_tensor *ind = y && is_max(kind) ? mt_empty(out_shape, input->ndim, MT_INT64, mt_cpu()) : NULL;
    if (!y || (is_max(kind) && !ind)) {
        mt_decref(xc);
        mt_decref(y);
        free(P);
        return -1;
    }
    int64_t *ip = ind ? (int64_t *)mt_data(ind) : NULL;
    switch (dt) {
    case MT_FLOAT32: pool_forward_f32(P, (const float *)mt_data(xc), (float *)mt_data(y), ip); break;
    case MT_FLOAT64: pool_forward_f64(P, (const double *)mt_data(xc), (double *)mt_data(y), ip); break;
    case MT_INT32: pool_forward_i32(P, (const int32_t *)mt_data(xc), (int32_t *)mt_data(y), ip); break;
    default: pool_forward_i64(P, (const int64_t *)mt_data(xc), (int64_t *)mt_data(y), ip); break;
    }
    mt_decref(xc);
    mt_node *node = mt_autograd_record(&pool_vts[nsp - 2][kind], y, 1, &input);
    if (node) {
        node->extra = P;
        P = NULL;
        if (ind) mt_node_save(node, 0, ind, false);
    }
    free(P);
    *out = y;
    if (indices) *indices = ind;
    else mt_decref(ind);
    return 0;
}

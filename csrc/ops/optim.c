/* Fused optimizer steps: the device-neutral op layer and the CPU kernels (see optim.h).
 *
 * The CPU kernels compute in the tensor's dtype with the scalar coefficients rounded to it first,
 * in the order PyTorch's single-tensor code applies its in-place ops (e.g. Adam's
 * exp_avg.lerp_(grad, 1 - beta1); exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2);
 * denom = exp_avg_sq.sqrt() / bias_correction2_sqrt + eps; param.addcdiv_(exp_avg, denom,
 * value=-step_size)), so each intermediate is rounded where PyTorch rounds it.
 *
 * Speed: each option combination gets its own branch-free loop (the flags are compile-time
 * constants of a switch), so every loop vectorises; each loop is built twice, for baseline x86-64
 * (SSE2) and for AVX2 (picked at run time; no FMA, so no extra rounding differences); tensors of
 * at least MT_OPTIM_PAR_MIN elements are split over the OpenMP threads. */
#include "optim.h"
#include "ops.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

/* elements below which a step runs on one thread (a parallel region costs a few microseconds) */
#define MT_OPTIM_PAR_MIN (1 << 15)

/* ======================= CPU kernels ======================= */

/* sqrt of a block in place. Written with intrinsics: GCC only vectorises sqrt under
 * -fno-math-errno, which the build does not use (and which no attribute/pragma can turn on). */
#define MT_OPTIM_BLOCK 512
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>
#define MT_OPTIM_X86 1
static inline void sqb_f32_base(float *t, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(t + i, _mm_sqrt_ps(_mm_loadu_ps(t + i)));
    for (; i < n; i++) t[i] = _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(t[i])));
}
static inline void sqb_f64_base(double *t, int64_t n) {
    int64_t i = 0;
    for (; i + 2 <= n; i += 2) _mm_storeu_pd(t + i, _mm_sqrt_pd(_mm_loadu_pd(t + i)));
    for (; i < n; i++) t[i] = _mm_cvtsd_f64(_mm_sqrt_sd(_mm_setzero_pd(), _mm_set_sd(t[i])));
}
__attribute__((target("avx2"))) static inline void sqb_f32_avx2(float *t, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(t + i, _mm256_sqrt_ps(_mm256_loadu_ps(t + i)));
    sqb_f32_base(t + i, n - i);
}
__attribute__((target("avx2"))) static inline void sqb_f64_avx2(double *t, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) _mm256_storeu_pd(t + i, _mm256_sqrt_pd(_mm256_loadu_pd(t + i)));
    sqb_f64_base(t + i, n - i);
}
#else
static inline void sqb_f32_base(float *t, int64_t n) { for (int64_t i = 0; i < n; i++) t[i] = sqrtf(t[i]); }
static inline void sqb_f64_base(double *t, int64_t n) { for (int64_t i = 0; i < n; i++) t[i] = sqrt(t[i]); }
#endif

/* Kernel contexts: resolved scalars (as double; rounded to the dtype inside) and data pointers. */
typedef struct { const mt_sgd_args *a; void *p, *g, *buf; } sgd_ctx;
typedef struct { const mt_adam_args *a; void *p, *g, *m, *v, *vmax; } adam_ctx;
typedef struct { const mt_rmsprop_args *a; void *p, *g, *sa, *ga, *buf; } rmsprop_ctx;
typedef struct { const mt_adagrad_args *a; void *p, *g, *ss; } adagrad_ctx;

typedef void (*range_fn)(const void *ctx, int64_t lo, int64_t hi);

/* ---- SGD: flags L2 (weight decay), MOM (momentum), FIRST (buffer = g), NEST (nesterov) ---- */
#define SGD_LOOP(L2, MOM, FIRST, NEST)                                                                   \
    for (int64_t i = lo; i < hi; i++) {                                                                  \
        real g = sgn * g0[i];                                                                            \
        if (L2) g = g + wd * p[i];                                                                       \
        if (MOM) {                                                                                       \
            real b = (FIRST) ? g : (real)(buf[i] * mom) + damp1 * g;                                     \
            buf[i] = b;                                                                                  \
            g = (NEST) ? g + mom * b : b;                                                                \
        }                                                                                                \
        p[i] = p[i] + neg_lr * g;                                                                        \
    }

#define DEFINE_SGD(T, NAME, SQB, ATTR)                                                                   \
    ATTR static void NAME(const void *vc, int64_t lo, int64_t hi) {                                      \
        typedef T real;                                                                                  \
        const sgd_ctx *c = vc;                                                                           \
        const mt_sgd_args *a = c->a;                                                                     \
        real *restrict p = c->p, *restrict buf = c->buf;                                                 \
        const real *restrict g0 = c->g;                                                                  \
        const real sgn = a->maximize ? -1 : 1, wd = (real)a->weight_decay, mom = (real)a->momentum;     \
        const real damp1 = (real)(1.0 - a->dampening), neg_lr = (real)(-a->lr);                          \
        int key = (a->weight_decay != 0) | (a->momentum != 0) << 1 | a->first_step << 2 | a->nesterov << 3; \
        if (!(key & 2)) key &= 1;                                                                        \
        switch (key) {                                                                                   \
        case 0: SGD_LOOP(0, 0, 0, 0) break;                                                              \
        case 1: SGD_LOOP(1, 0, 0, 0) break;                                                              \
        case 2: SGD_LOOP(0, 1, 0, 0) break;                                                              \
        case 3: SGD_LOOP(1, 1, 0, 0) break;                                                              \
        case 6: SGD_LOOP(0, 1, 1, 0) break;                                                              \
        case 7: SGD_LOOP(1, 1, 1, 0) break;                                                              \
        case 10: SGD_LOOP(0, 1, 0, 1) break;                                                             \
        case 11: SGD_LOOP(1, 1, 0, 1) break;                                                             \
        case 14: SGD_LOOP(0, 1, 1, 1) break;                                                             \
        default: SGD_LOOP(1, 1, 1, 1) break;                                                             \
        }                                                                                                \
    }

/* The sqrt-using steps run in blocks of MT_OPTIM_BLOCK elements: a vectorised loop updates the
 * state and leaves the sqrt argument in tmp, tmp is square-rooted, and a second vectorised loop
 * updates the parameter (re-deriving g from grad and the unchanged param where needed). The block
 * stays in L1, so memory is still streamed once. */
#define BLOCKS(BODY_A, BODY_C)                                                                           \
    for (int64_t b0 = lo; b0 < hi; b0 += MT_OPTIM_BLOCK) {                                               \
        const int64_t bn = hi - b0 < MT_OPTIM_BLOCK ? hi - b0 : MT_OPTIM_BLOCK;                          \
        for (int64_t j = 0; j < bn; j++) { const int64_t i = b0 + j; BODY_A }                            \
        sqb(tmp, bn);                                                                                    \
        for (int64_t j = 0; j < bn; j++) { const int64_t i = b0 + j; BODY_C }                            \
    }

/* ---- Adam: flags L2 (coupled weight decay), AMS, SMALL (lerp weight < 0.5: m + w * (g - m), else
 * g - (1 - w) * (g - m), as PyTorch's lerp). maximize is a sign; decoupled decay a factor (1 when
 * off: exact). ---- */
#define ADAM_LOOP(L2, AMS, SMALL)                                                                        \
    BLOCKS(                                                                                              \
        real g = sgn * g0[i];                                                                            \
        if (L2) g = g + wd * p[i];                                                                       \
        real mi = m[i];                                                                                  \
        mi = (SMALL) ? mi + w * (g - mi) : g - w1 * (g - mi);                                            \
        m[i] = mi;                                                                                       \
        real vi = (real)(v[i] * b2) + (real)(c2 * g) * g;                                                \
        v[i] = vi;                                                                                       \
        if (AMS) {                                                                                       \
            real mx = vmax[i];                                                                           \
            mx = (vi > mx || vi != vi) ? vi : mx; /* torch.maximum propagates NaN */                     \
            vmax[i] = mx;                                                                                \
            vi = mx;                                                                                     \
        }                                                                                                \
        tmp[j] = vi;,                                                                                    \
        real denom = (real)(tmp[j] / bc2) + eps;                                                         \
        p[i] = (real)(p[i] * decay) + (real)(neg_step * m[i]) / denom;)

#define DEFINE_ADAM(T, NAME, SQB, ATTR)                                                                  \
    ATTR static void NAME(const void *vc, int64_t lo, int64_t hi) {                                      \
        typedef T real;                                                                                  \
        real tmp[MT_OPTIM_BLOCK];                                                                        \
        void (*const sqb)(real *, int64_t) = SQB;                                                        \
        const adam_ctx *c = vc;                                                                          \
        const mt_adam_args *a = c->a;                                                                    \
        real *restrict p = c->p, *restrict m = c->m, *restrict v = c->v, *restrict vmax = c->vmax;       \
        const real *restrict g0 = c->g;                                                                  \
        const bool l2 = a->weight_decay != 0 && !a->decoupled;                                          \
        const real sgn = a->maximize ? -1 : 1, wd = (real)a->weight_decay;                               \
        const real decay = (a->decoupled && a->weight_decay != 0) ? (real)(1.0 - a->lr * a->weight_decay) : 1; \
        const real w = (real)(1.0 - a->beta1), w1 = (real)1 - w;                                         \
        const bool small_w = fabs((double)w) < 0.5;                                                      \
        const real b2 = (real)a->beta2, c2 = (real)(1.0 - a->beta2);                                     \
        const real bc2 = (real)a->bc2_sqrt, eps = (real)a->eps, neg_step = (real)(-a->step_size);       \
        switch (l2 | a->amsgrad << 1 | small_w << 2) {                                                   \
        case 0: ADAM_LOOP(0, 0, 0) break;                                                                \
        case 1: ADAM_LOOP(1, 0, 0) break;                                                                \
        case 2: ADAM_LOOP(0, 1, 0) break;                                                                \
        case 3: ADAM_LOOP(1, 1, 0) break;                                                                \
        case 4: ADAM_LOOP(0, 0, 1) break;                                                                \
        case 5: ADAM_LOOP(1, 0, 1) break;                                                                \
        case 6: ADAM_LOOP(0, 1, 1) break;                                                                \
        default: ADAM_LOOP(1, 1, 1) break;                                                               \
        }                                                                                                \
    }

/* ---- RMSprop: flags L2, CEN (centered), MOM; the lerp of grad_avg picks its form at run time
 * (weight 1 - alpha is almost always small). ---- */
#define RMSPROP_LOOP(L2, CEN, MOM)                                                                       \
    BLOCKS(                                                                                              \
        real g = sgn * g0[i];                                                                            \
        if (L2) g = g + wd * p[i];                                                                       \
        real s = (real)(sa[i] * al) + (real)(cw * g) * g;                                                \
        sa[i] = s;                                                                                       \
        if (CEN) {                                                                                       \
            real gi = ga[i];                                                                             \
            gi = small_w ? gi + cw * (g - gi) : g - cw1 * (g - gi);                                      \
            ga[i] = gi;                                                                                  \
            s = s + (real)(-gi) * gi;                                                                    \
        }                                                                                                \
        tmp[j] = s;,                                                                                     \
        real g = sgn * g0[i];                                                                            \
        if (L2) g = g + wd * p[i];                                                                       \
        real avg = tmp[j] + eps;                                                                         \
        if (MOM) {                                                                                       \
            real b = (real)(buf[i] * mom) + g / avg;                                                     \
            buf[i] = b;                                                                                  \
            p[i] = p[i] + neg_lr * b;                                                                    \
        } else {                                                                                         \
            p[i] = p[i] + (real)(neg_lr * g) / avg;                                                      \
        })

#define DEFINE_RMSPROP(T, NAME, SQB, ATTR)                                                               \
    ATTR static void NAME(const void *vc, int64_t lo, int64_t hi) {                                      \
        typedef T real;                                                                                  \
        real tmp[MT_OPTIM_BLOCK];                                                                        \
        void (*const sqb)(real *, int64_t) = SQB;                                                        \
        const rmsprop_ctx *c = vc;                                                                       \
        const mt_rmsprop_args *a = c->a;                                                                 \
        real *restrict p = c->p, *restrict sa = c->sa, *restrict ga = c->ga, *restrict buf = c->buf;     \
        const real *restrict g0 = c->g;                                                                  \
        const real sgn = a->maximize ? -1 : 1, wd = (real)a->weight_decay, al = (real)a->alpha;          \
        const real cw = (real)(1.0 - a->alpha), cw1 = (real)1 - cw;                                      \
        const bool small_w = fabs((double)cw) < 0.5;                                                     \
        const real eps = (real)a->eps, mom = (real)a->momentum, neg_lr = (real)(-a->lr);                 \
        switch ((a->weight_decay != 0) | a->centered << 1 | (a->momentum > 0) << 2) {                    \
        case 0: RMSPROP_LOOP(0, 0, 0) break;                                                             \
        case 1: RMSPROP_LOOP(1, 0, 0) break;                                                             \
        case 2: RMSPROP_LOOP(0, 1, 0) break;                                                             \
        case 3: RMSPROP_LOOP(1, 1, 0) break;                                                             \
        case 4: RMSPROP_LOOP(0, 0, 1) break;                                                             \
        case 5: RMSPROP_LOOP(1, 0, 1) break;                                                             \
        case 6: RMSPROP_LOOP(0, 1, 1) break;                                                             \
        default: RMSPROP_LOOP(1, 1, 1) break;                                                            \
        }                                                                                                \
    }

/* ---- Adagrad: flag L2 ---- */
#define ADAGRAD_LOOP(L2)                                                                                 \
    BLOCKS(                                                                                              \
        real g = sgn * g0[i];                                                                            \
        if (L2) g = g + wd * p[i];                                                                       \
        real s = ss[i] + g * g;                                                                          \
        ss[i] = s;                                                                                       \
        tmp[j] = s;,                                                                                     \
        real g = sgn * g0[i];                                                                            \
        if (L2) g = g + wd * p[i];                                                                       \
        real std = tmp[j] + eps;                                                                         \
        p[i] = p[i] + (real)(neg_clr * g) / std;)

#define DEFINE_ADAGRAD(T, NAME, SQB, ATTR)                                                               \
    ATTR static void NAME(const void *vc, int64_t lo, int64_t hi) {                                      \
        typedef T real;                                                                                  \
        real tmp[MT_OPTIM_BLOCK];                                                                        \
        void (*const sqb)(real *, int64_t) = SQB;                                                        \
        const adagrad_ctx *c = vc;                                                                       \
        const mt_adagrad_args *a = c->a;                                                                 \
        real *restrict p = c->p, *restrict ss = c->ss;                                                   \
        const real *restrict g0 = c->g;                                                                  \
        const real sgn = a->maximize ? -1 : 1, wd = (real)a->weight_decay, eps = (real)a->eps;           \
        const real neg_clr = (real)(-a->clr);                                                            \
        if (a->weight_decay != 0) { ADAGRAD_LOOP(1) } else { ADAGRAD_LOOP(0) }                           \
    }

#define DEFINE_ALL(T, SFX, ISA, ATTR)                                                                    \
    DEFINE_SGD(T, sgd_##SFX##_##ISA, sqb_##SFX##_##ISA, ATTR)                                            \
    DEFINE_ADAM(T, adam_##SFX##_##ISA, sqb_##SFX##_##ISA, ATTR)                                          \
    DEFINE_RMSPROP(T, rmsprop_##SFX##_##ISA, sqb_##SFX##_##ISA, ATTR)                                    \
    DEFINE_ADAGRAD(T, adagrad_##SFX##_##ISA, sqb_##SFX##_##ISA, ATTR)

DEFINE_ALL(float, f32, base, )
DEFINE_ALL(double, f64, base, )
#ifdef MT_OPTIM_X86
#define MT_OPTIM_AVX2 1
DEFINE_ALL(float, f32, avx2, __attribute__((target("avx2"))))
DEFINE_ALL(double, f64, avx2, __attribute__((target("avx2"))))
#endif

/* [optimizer][dtype: 0 float32, 1 float64] for the machine we run on */
enum { K_SGD, K_ADAM, K_RMSPROP, K_ADAGRAD };
static range_fn kernels[4][2];

static void pick_kernels(void) {
    range_fn base[4][2] = {{sgd_f32_base, sgd_f64_base}, {adam_f32_base, adam_f64_base},
                           {rmsprop_f32_base, rmsprop_f64_base}, {adagrad_f32_base, adagrad_f64_base}};
#ifdef MT_OPTIM_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) {
        range_fn avx2[4][2] = {{sgd_f32_avx2, sgd_f64_avx2}, {adam_f32_avx2, adam_f64_avx2},
                               {rmsprop_f32_avx2, rmsprop_f64_avx2}, {adagrad_f32_avx2, adagrad_f64_avx2}};
        memcpy(base, avx2, sizeof base);
    }
#endif
    memcpy(kernels, base, sizeof kernels);
}

/* Runs f over [0, n): on one thread below MT_OPTIM_PAR_MIN, else in 64-byte aligned chunks. */
static void run(int which, mt_dtype dtype, const void *ctx, int64_t n) {
    if (!kernels[0][0]) pick_kernels();
    range_fn f = kernels[which][dtype == MT_FLOAT64];
    if (n < MT_OPTIM_PAR_MIN || omp_get_max_threads() == 1) {
        f(ctx, 0, n);
        return;
    }
#pragma omp parallel
    {
        int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
        int64_t chunk = ((n + nt - 1) / nt + 15) & ~(int64_t)15;
        int64_t lo = t * chunk, hi = lo + chunk < n ? lo + chunk : n;
        if (lo < hi) f(ctx, lo, hi);
    }
}

#define D(t) ((t) ? mt_data(t) : NULL)

static int cpu_sgd(const mt_sgd_args *a, int64_t n, mt_tensor *p, const mt_tensor *g, mt_tensor *buf) {
    sgd_ctx c = {a, D(p), D(g), D(buf)};
    run(K_SGD, p->dtype, &c, n);
    return 0;
}
static int cpu_adam(const mt_adam_args *a, int64_t n, mt_tensor *p, const mt_tensor *g, mt_tensor *m, mt_tensor *v,
                    mt_tensor *vmax) {
    adam_ctx c = {a, D(p), D(g), D(m), D(v), D(vmax)};
    run(K_ADAM, p->dtype, &c, n);
    return 0;
}
static int cpu_rmsprop(const mt_rmsprop_args *a, int64_t n, mt_tensor *p, const mt_tensor *g, mt_tensor *sa,
                       mt_tensor *ga, mt_tensor *buf) {
    rmsprop_ctx c = {a, D(p), D(g), D(sa), D(ga), D(buf)};
    run(K_RMSPROP, p->dtype, &c, n);
    return 0;
}
static int cpu_adagrad(const mt_adagrad_args *a, int64_t n, mt_tensor *p, const mt_tensor *g, mt_tensor *ss) {
    adagrad_ctx c = {a, D(p), D(g), D(ss)};
    run(K_ADAGRAD, p->dtype, &c, n);
    return 0;
}

static const mt_optim_backend cpu_optim = {cpu_sgd, cpu_adam, cpu_rmsprop, cpu_adagrad};
const mt_optim_backend *mt_optim_backends[MT_NUM_DEVICE_TYPES] = {[MT_CPU] = &cpu_optim};

/* ======================= op layer ======================= */

#define MAX_ARGS 5

/* The tensors of one step: [0] param, [1] grad, then the state buffers (NULL when unused). */
typedef struct {
    const char *op;
    int n;
    const char *names[MAX_ARGS];
    mt_tensor *orig[MAX_ARGS];
    mt_tensor *work[MAX_ARGS]; /* contiguous (orig itself, or a copy) */
    bool written[MAX_ARGS];
} step_args;

static void release(step_args *s) {
    for (int i = 0; i < s->n; i++) mt_decref(s->work[i]), s->work[i] = NULL;
}

/* Checks the tensors and fills work[]; returns the backend or NULL. */
static const mt_optim_backend *prepare(step_args *s) {
    mt_tensor *p = s->orig[0];
    for (int i = 0; i < s->n; i++) s->work[i] = NULL;
    if (!p || !s->orig[1]) {
        mt_error(MT_ERR_RUNTIME, "%s: the parameter and its gradient must be defined", s->op);
        return NULL;
    }
    if (mt_check_wide(s->op, p->dtype) < 0) return NULL;
    if (!mt_is_floating(p->dtype)) {
        mt_error(MT_ERR_RUNTIME, "%s: expected a floating point parameter (Float or Double), got %s", s->op,
                 mt_type_name(p->dtype));
        return NULL;
    }
    char dev[32];
    mt_device_str(p->storage->device, dev, sizeof dev);
    const mt_optim_backend *be = mt_optim_backends[p->storage->device.type];
    if (!be) {
        mt_error(MT_ERR_NOTIMPL, "%s: fused optimizer steps are implemented for CPU tensors only for now "
                 "(the parameter is on %s)", s->op, dev);
        return NULL;
    }
    for (int i = 1; i < s->n; i++) {
        mt_tensor *t = s->orig[i];
        if (!t) continue;
        if (!mt_same_device(t->storage->device, p->storage->device)) {
            char tdev[32];
            mt_device_str(t->storage->device, tdev, sizeof tdev);
            mt_error(MT_ERR_RUNTIME, "%s: %s is on %s but the parameter is on %s", s->op, s->names[i], tdev, dev);
            return NULL;
        }
        if (t->dtype != p->dtype) {
            mt_error(MT_ERR_RUNTIME, "%s: %s has dtype %s but the parameter has dtype %s", s->op, s->names[i],
                     mt_type_name(t->dtype), mt_type_name(p->dtype));
            return NULL;
        }
        bool same = t->ndim == p->ndim;
        for (int d = 0; same && d < p->ndim; d++) same = t->shape[d] == p->shape[d];
        if (!same) {
            mt_error(MT_ERR_RUNTIME, "%s: %s has shape %s but the parameter has shape %s", s->op, s->names[i],
                     mt_shape_str(t->shape, t->ndim), mt_shape_str(p->shape, p->ndim));
            return NULL;
        }
    }
    for (int i = 0; i < s->n; i++) {
        if (!s->orig[i]) continue;
        s->work[i] = mt_contiguous(s->orig[i]);
        if (!s->work[i]) { release(s); return NULL; }
    }
    return be;
}

/* Copies results computed in contiguous copies back, bumps versions, releases the work tensors. */
static int finish(step_args *s, int rc) {
    for (int i = 0; i < s->n && rc == 0; i++) {
        if (!s->orig[i] || !s->written[i]) continue;
        if (s->work[i] != s->orig[i] && mt_copy_into(s->orig[i], s->work[i]) < 0) rc = -1;
    }
    if (rc == 0)
        for (int i = 0; i < s->n; i++)
            if (s->orig[i] && s->written[i]) mt_bump_version(s->orig[i]);
    release(s);
    return rc;
}

int mt_sgd_step(mt_tensor *param, mt_tensor *grad, mt_tensor *momentum_buf, double lr, double momentum,
                double dampening, bool nesterov, double weight_decay, bool maximize, bool first_step) {
    if (momentum != 0 && !momentum_buf) {
        mt_error(MT_ERR_RUNTIME, "sgd_step: momentum != 0 needs a momentum buffer");
        return -1;
    }
    step_args s = {"sgd_step", 3, {"param", "grad", "momentum_buffer"},
                   {param, grad, momentum != 0 ? momentum_buf : NULL}, {0}, {true, false, true}};
    const mt_optim_backend *be = prepare(&s);
    if (!be) return -1;
    mt_sgd_args a = {lr, momentum, dampening, weight_decay, nesterov, maximize, first_step};
    return finish(&s, be->sgd(&a, mt_numel(param), s.work[0], s.work[1], s.work[2]));
}

int mt_adam_step(mt_tensor *param, mt_tensor *grad, mt_tensor *exp_avg, mt_tensor *exp_avg_sq,
                 mt_tensor *max_exp_avg_sq, double step, double lr, double beta1, double beta2, double eps,
                 double weight_decay, bool amsgrad, bool maximize, bool decoupled) {
    if (!exp_avg || !exp_avg_sq || (amsgrad && !max_exp_avg_sq)) {
        mt_error(MT_ERR_RUNTIME, "adam_step: missing state buffer (exp_avg, exp_avg_sq%s)",
                 amsgrad ? ", max_exp_avg_sq" : "");
        return -1;
    }
    step_args s = {"adam_step", 5, {"param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
                   {param, grad, exp_avg, exp_avg_sq, amsgrad ? max_exp_avg_sq : NULL}, {0},
                   {true, false, true, true, true}};
    const mt_optim_backend *be = prepare(&s);
    if (!be) return -1;
    mt_adam_args a = {lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled, 0, 0};
    /* as torch/optim/adam.py: step_size = lr / (1 - beta1**step); bias_correction2**0.5 */
    double bc1 = 1.0 - pow(beta1, step), bc2 = 1.0 - pow(beta2, step);
    a.step_size = lr / bc1;
    a.bc2_sqrt = pow(bc2, 0.5);
    return finish(&s, be->adam(&a, mt_numel(param), s.work[0], s.work[1], s.work[2], s.work[3], s.work[4]));
}

int mt_rmsprop_step(mt_tensor *param, mt_tensor *grad, mt_tensor *square_avg, mt_tensor *grad_avg,
                    mt_tensor *momentum_buf, double lr, double alpha, double eps, double weight_decay,
                    double momentum, bool centered, bool maximize) {
    if (!square_avg || (centered && !grad_avg) || (momentum > 0 && !momentum_buf)) {
        mt_error(MT_ERR_RUNTIME, "rmsprop_step: missing state buffer (square_avg%s%s)",
                 centered ? ", grad_avg" : "", momentum > 0 ? ", momentum_buffer" : "");
        return -1;
    }
    step_args s = {"rmsprop_step", 5, {"param", "grad", "square_avg", "grad_avg", "momentum_buffer"},
                   {param, grad, square_avg, centered ? grad_avg : NULL, momentum > 0 ? momentum_buf : NULL}, {0},
                   {true, false, true, true, true}};
    const mt_optim_backend *be = prepare(&s);
    if (!be) return -1;
    mt_rmsprop_args a = {lr, alpha, eps, weight_decay, momentum, centered, maximize};
    return finish(&s, be->rmsprop(&a, mt_numel(param), s.work[0], s.work[1], s.work[2], s.work[3], s.work[4]));
}

int mt_adagrad_step(mt_tensor *param, mt_tensor *grad, mt_tensor *state_sum, double step, double lr,
                    double lr_decay, double weight_decay, double eps, bool maximize) {
    if (!state_sum) {
        mt_error(MT_ERR_RUNTIME, "adagrad_step: missing state buffer (sum)");
        return -1;
    }
    step_args s = {"adagrad_step", 3, {"param", "grad", "sum"}, {param, grad, state_sum}, {0}, {true, false, true}};
    const mt_optim_backend *be = prepare(&s);
    if (!be) return -1;
    mt_adagrad_args a = {lr, lr_decay, weight_decay, eps, maximize, 0};
    a.clr = lr / (1 + (step - 1) * lr_decay); /* as torch/optim/adagrad.py */
    return finish(&s, be->adagrad(&a, mt_numel(param), s.work[0], s.work[1], s.work[2]));
}

int mt_optim_step_inc(mt_tensor *t, double *out) {
    if (t && mt_numel(t) == 1 && t->storage->device.type != MT_CPU && mt_optim_backends[t->storage->device.type]) {
        /* a step tensor on a device (capturable / fused state, or moved there): incremented through a host copy,
           as the per-step scalars are computed on the host anyway */
        mt_tensor *h = mt_empty(t->shape, t->ndim, t->dtype, mt_cpu());
        if (!h) return -1;
        int rc = (mt_copy_into(h, t) < 0 || mt_optim_step_inc(h, out) < 0 || mt_copy_into(t, h) < 0) ? -1 : 0;
        mt_decref(h);
        if (rc == 0) mt_bump_version(t);
        return rc;
    }
    if (!t || mt_numel(t) != 1 || t->storage->device.type != MT_CPU) {
        mt_error(MT_ERR_RUNTIME, "optimizer step: the 'step' state must be a one-element tensor");
        return -1;
    }
    void *d = mt_data(t);
    switch (t->dtype) {
    case MT_FLOAT32: *out = (double)(*(float *)d += 1.0f); break;
    case MT_FLOAT64: *out = (*(double *)d += 1.0); break;
    case MT_INT64: *out = (double)(*(int64_t *)d += 1); break;
    case MT_INT32: *out = (double)(*(int32_t *)d += 1); break;
    default:
        mt_error(MT_ERR_RUNTIME, "optimizer step: the 'step' state must be a number, got a %s tensor",
                 mt_type_name(t->dtype));
        return -1;
    }
    mt_bump_version(t);
    return 0;
}

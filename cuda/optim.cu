/* Fused optimizer steps on CUDA: the kernels of the mt_optim_backends[MT_CUDA] entry (csrc/ops/optim.h).
 *
 * One kernel launch per parameter and step; each thread reads the parameter, its gradient and the state
 * buffers once and writes the new values (grid-stride loop). The formulas, their operation order and the
 * rounding of the scalar coefficients to the tensor's dtype are those of the CPU kernels in
 * csrc/ops/optim.c (PyTorch's single-tensor code). Every arithmetic step goes through the explicitly
 * rounded intrinsics (__fadd_rn, __dmul_rn, ...), which nvcc never contracts into FMAs, and sqrt / division
 * are IEEE correctly rounded, so the results are those of the CPU kernels bit for bit.
 *
 * The op layer (optim.c) has checked the tensors: contiguous, on the GPU, one floating dtype, n elements;
 * optional ones NULL when the option is off. The per-step scalars come resolved in the args struct. */
#include "common.cuh"

#include <math.h>

namespace {

/* rounded arithmetic, no contraction */
__device__ __forceinline__ float r_add(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ float r_sub(float a, float b) { return __fsub_rn(a, b); }
__device__ __forceinline__ float r_mul(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ float r_div(float a, float b) { return __fdiv_rn(a, b); }
__device__ __forceinline__ float r_sqrt(float a) { return __fsqrt_rn(a); }
__device__ __forceinline__ double r_add(double a, double b) { return __dadd_rn(a, b); }
__device__ __forceinline__ double r_sub(double a, double b) { return __dsub_rn(a, b); }
__device__ __forceinline__ double r_mul(double a, double b) { return __dmul_rn(a, b); }
__device__ __forceinline__ double r_div(double a, double b) { return __ddiv_rn(a, b); }
__device__ __forceinline__ double r_sqrt(double a) { return __dsqrt_rn(a); }

#define GRID_LOOP(i, n) for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

/* ---- SGD ---- */
template <typename T> struct sgd_k {
    T sgn, wd, mom, damp1, neg_lr;
    bool l2, use_mom, first, nesterov;
};
template <typename T>
__global__ void sgd_kernel(sgd_k<T> k, int64_t n, T *__restrict__ p, const T *__restrict__ g0, T *__restrict__ buf) {
    GRID_LOOP(i, n) {
        T pi = p[i];
        T g = r_mul(k.sgn, g0[i]);
        if (k.l2) g = r_add(g, r_mul(k.wd, pi));
        if (k.use_mom) {
            T b = k.first ? g : r_add(r_mul(buf[i], k.mom), r_mul(k.damp1, g));
            buf[i] = b;
            g = k.nesterov ? r_add(g, r_mul(k.mom, b)) : b;
        }
        p[i] = r_add(pi, r_mul(k.neg_lr, g));
    }
}

/* ---- Adam / AdamW ---- */
template <typename T> struct adam_k {
    T sgn, wd, decay, w, w1, b2, c2, bc2, eps, neg_step;
    bool l2, ams, small_w;
};
template <typename T>
__global__ void adam_kernel(adam_k<T> k, int64_t n, T *__restrict__ p, const T *__restrict__ g0, T *__restrict__ m,
                            T *__restrict__ v, T *__restrict__ vmax) {
    GRID_LOOP(i, n) {
        T pi = p[i];
        T g = r_mul(k.sgn, g0[i]);
        if (k.l2) g = r_add(g, r_mul(k.wd, pi));
        T mi = m[i];
        mi = k.small_w ? r_add(mi, r_mul(k.w, r_sub(g, mi))) : r_sub(g, r_mul(k.w1, r_sub(g, mi)));
        m[i] = mi;
        T vi = r_add(r_mul(v[i], k.b2), r_mul(r_mul(k.c2, g), g));
        v[i] = vi;
        if (k.ams) {
            T mx = vmax[i];
            mx = (vi > mx || vi != vi) ? vi : mx; /* torch.maximum propagates NaN */
            vmax[i] = mx;
            vi = mx;
        }
        T denom = r_add(r_div(r_sqrt(vi), k.bc2), k.eps);
        p[i] = r_add(r_mul(pi, k.decay), r_div(r_mul(k.neg_step, mi), denom));
    }
}

/* ---- RMSprop ---- */
template <typename T> struct rmsprop_k {
    T sgn, wd, al, cw, cw1, eps, mom, neg_lr;
    bool l2, centered, use_mom, small_w;
};
template <typename T>
__global__ void rmsprop_kernel(rmsprop_k<T> k, int64_t n, T *__restrict__ p, const T *__restrict__ g0,
                               T *__restrict__ sa, T *__restrict__ ga, T *__restrict__ buf) {
    GRID_LOOP(i, n) {
        T pi = p[i];
        T g = r_mul(k.sgn, g0[i]);
        if (k.l2) g = r_add(g, r_mul(k.wd, pi));
        T s = r_add(r_mul(sa[i], k.al), r_mul(r_mul(k.cw, g), g));
        sa[i] = s;
        if (k.centered) {
            T gi = ga[i];
            gi = k.small_w ? r_add(gi, r_mul(k.cw, r_sub(g, gi))) : r_sub(g, r_mul(k.cw1, r_sub(g, gi)));
            ga[i] = gi;
            s = r_add(s, r_mul(-gi, gi));
        }
        T avg = r_add(r_sqrt(s), k.eps);
        if (k.use_mom) {
            T b = r_add(r_mul(buf[i], k.mom), r_div(g, avg));
            buf[i] = b;
            p[i] = r_add(pi, r_mul(k.neg_lr, b));
        } else {
            p[i] = r_add(pi, r_div(r_mul(k.neg_lr, g), avg));
        }
    }
}

/* ---- Adagrad ---- */
template <typename T> struct adagrad_k {
    T sgn, wd, eps, neg_clr;
    bool l2;
};
template <typename T>
__global__ void adagrad_kernel(adagrad_k<T> k, int64_t n, T *__restrict__ p, const T *__restrict__ g0,
                               T *__restrict__ ss) {
    GRID_LOOP(i, n) {
        T pi = p[i];
        T g = r_mul(k.sgn, g0[i]);
        if (k.l2) g = r_add(g, r_mul(k.wd, pi));
        T s = r_add(ss[i], r_mul(g, g));
        ss[i] = s;
        T std_ = r_add(r_sqrt(s), k.eps);
        p[i] = r_add(pi, r_div(r_mul(k.neg_clr, g), std_));
    }
}

template <typename T> inline T *P(const mt_tensor *t) { return t ? (T *)cu_data(t) : nullptr; }

template <typename T>
int sgd_launch(const mt_sgd_args *a, int64_t n, mt_tensor *p, const mt_tensor *g, mt_tensor *buf) {
    sgd_k<T> k;
    k.sgn = a->maximize ? (T)-1 : (T)1;
    k.wd = (T)a->weight_decay;
    k.mom = (T)a->momentum;
    k.damp1 = (T)(1.0 - a->dampening);
    k.neg_lr = (T)(-a->lr);
    k.l2 = a->weight_decay != 0;
    k.use_mom = a->momentum != 0;
    k.first = k.use_mom && a->first_step;
    k.nesterov = k.use_mom && a->nesterov;
    sgd_kernel<T><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(k, n, P<T>(p), P<T>(g), P<T>(buf));
    CU_CHECK_LAUNCH();
    return 0;
}

template <typename T>
int adam_launch(const mt_adam_args *a, int64_t n, mt_tensor *p, const mt_tensor *g, mt_tensor *m, mt_tensor *v,
                mt_tensor *vmax) {
    adam_k<T> k;
    k.l2 = a->weight_decay != 0 && !a->decoupled;
    k.sgn = a->maximize ? (T)-1 : (T)1;
    k.wd = (T)a->weight_decay;
    k.decay = (a->decoupled && a->weight_decay != 0) ? (T)(1.0 - a->lr * a->weight_decay) : (T)1;
    k.w = (T)(1.0 - a->beta1);
    k.w1 = (T)1 - k.w;
    k.small_w = fabs((double)k.w) < 0.5;
    k.b2 = (T)a->beta2;
    k.c2 = (T)(1.0 - a->beta2);
    k.bc2 = (T)a->bc2_sqrt;
    k.eps = (T)a->eps;
    k.neg_step = (T)(-a->step_size);
    k.ams = a->amsgrad;
    adam_kernel<T><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(k, n, P<T>(p), P<T>(g), P<T>(m), P<T>(v),
                                                                P<T>(a->amsgrad ? vmax : nullptr));
    CU_CHECK_LAUNCH();
    return 0;
}

template <typename T>
int rmsprop_launch(const mt_rmsprop_args *a, int64_t n, mt_tensor *p, const mt_tensor *g, mt_tensor *sa,
                   mt_tensor *ga, mt_tensor *buf) {
    rmsprop_k<T> k;
    k.sgn = a->maximize ? (T)-1 : (T)1;
    k.wd = (T)a->weight_decay;
    k.al = (T)a->alpha;
    k.cw = (T)(1.0 - a->alpha);
    k.cw1 = (T)1 - k.cw;
    k.small_w = fabs((double)k.cw) < 0.5;
    k.eps = (T)a->eps;
    k.mom = (T)a->momentum;
    k.neg_lr = (T)(-a->lr);
    k.l2 = a->weight_decay != 0;
    k.centered = a->centered;
    k.use_mom = a->momentum > 0;
    rmsprop_kernel<T><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(k, n, P<T>(p), P<T>(g), P<T>(sa), P<T>(ga),
                                                                   P<T>(buf));
    CU_CHECK_LAUNCH();
    return 0;
}

template <typename T>
int adagrad_launch(const mt_adagrad_args *a, int64_t n, mt_tensor *p, const mt_tensor *g, mt_tensor *ss) {
    adagrad_k<T> k;
    k.sgn = a->maximize ? (T)-1 : (T)1;
    k.wd = (T)a->weight_decay;
    k.eps = (T)a->eps;
    k.neg_clr = (T)(-a->clr);
    k.l2 = a->weight_decay != 0;
    adagrad_kernel<T><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(k, n, P<T>(p), P<T>(g), P<T>(ss));
    CU_CHECK_LAUNCH();
    return 0;
}

int cu_sgd(const mt_sgd_args *a, int64_t n, mt_tensor *p, const mt_tensor *g, mt_tensor *buf) {
    if (n <= 0) return 0;
    return p->dtype == MT_FLOAT32 ? sgd_launch<float>(a, n, p, g, buf) : sgd_launch<double>(a, n, p, g, buf);
}
int cu_adam(const mt_adam_args *a, int64_t n, mt_tensor *p, const mt_tensor *g, mt_tensor *m, mt_tensor *v,
            mt_tensor *vmax) {
    if (n <= 0) return 0;
    return p->dtype == MT_FLOAT32 ? adam_launch<float>(a, n, p, g, m, v, vmax)
                                  : adam_launch<double>(a, n, p, g, m, v, vmax);
}
int cu_rmsprop(const mt_rmsprop_args *a, int64_t n, mt_tensor *p, const mt_tensor *g, mt_tensor *sa, mt_tensor *ga,
               mt_tensor *buf) {
    if (n <= 0) return 0;
    return p->dtype == MT_FLOAT32 ? rmsprop_launch<float>(a, n, p, g, sa, ga, buf)
                                  : rmsprop_launch<double>(a, n, p, g, sa, ga, buf);
}
int cu_adagrad(const mt_adagrad_args *a, int64_t n, mt_tensor *p, const mt_tensor *g, mt_tensor *ss) {
    if (n <= 0) return 0;
    return p->dtype == MT_FLOAT32 ? adagrad_launch<float>(a, n, p, g, ss) : adagrad_launch<double>(a, n, p, g, ss);
}

const mt_optim_backend cu_optim_table = {cu_sgd, cu_adam, cu_rmsprop, cu_adagrad};

} // namespace

/* The table registered as mt_optim_backends[MT_CUDA] by mt_cuda_init (runtime.cu). */
const mt_optim_backend *cu_optim_backend(void) { return &cu_optim_table; }

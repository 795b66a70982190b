/* Vectorisable float32 math shared by the CPU kernels (reductions, losses, the LSTM). */
#ifndef MT_VECMATH_H
#define MT_VECMATH_H

#include <math.h>
#include <stdint.h>

/* hot loops are compiled for several ISAs and picked at load time (GCC on x86-64 Linux) */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define MT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MT_CLONES
#endif

/* exp(x) for x <= 0 (the max-shifted inputs of softmax and logsumexp): Cephes' polynomial after a
 * Cody-Waite reduction, within 1.5 ulp of expf; x < -87.33 (and -inf) gives 0 (libm would give a
 * subnormal), NaN stays NaN. Its selects are integer masks, so loops over it vectorise without
 * -fno-trapping-math. */
typedef union { float f; int32_t i; } mt_fi;
static inline float exp_neg_f32(float x) {
    mt_fi ux = {x}, lim = {87.33f}, lo = {-87.33f}, magic = {12582912.f};
    int32_t ax = ux.i & 0x7fffffff;
    int32_t nan_m = -(int32_t)(ax > 0x7f800000);
    int32_t under_m = -(int32_t)(ax > lim.i) & ~nan_m; /* x < -87.33, -inf */
    int32_t clamp_m = under_m | nan_m;
    mt_fi xs, t, sc, res;
    xs.i = (clamp_m & lo.i) | (~clamp_m & ux.i);
    t.f = xs.f * 1.44269504088896341f + 12582912.f; /* round(x / ln 2) in the low mantissa bits */
    int32_t ni = t.i - magic.i;
    float n = t.f - 12582912.f;
    float r = xs.f - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    p = p * r * r + r + 1.0f;
    sc.i = (int32_t)((uint32_t)(ni + 127) << 23);
    res.f = p * sc.f;
    res.i = ~under_m & ((nan_m & ux.i) | (~nan_m & res.i));
    return res.f;
}

/* float32 tanh and sigmoid without libm calls, so that their loops vectorise (glibc's tanhf took
 * ~25 ns an element); Tensor.tanh / sigmoid and the GRU cell use them. tanh: Cephes' tanhf, an odd
 * polynomial below 0.625, above it (1 - e) / (1 + e) with e = exp(-2|x|); sigmoid from
 * e = exp(-|x|). Both within 3 ulp (tests/test_core_elementwise.py); below -87.3 sigmoid gives 0
 * where libm would give a subnormal. */
static inline float tanh_vec_f32(float x) {
    float ax = fabsf(x), z = x * x;
    float p = (((-5.70498872745E-3f * z + 2.06390887954E-2f) * z - 5.37397155531E-2f) * z + 1.33314422036E-1f) * z -
              3.33332819422E-1f;
    float e = exp_neg_f32(-2.0f * ax);
    /* on |x|, the sign put back last: tanh(-0) is -0; NaN takes the second branch and stays NaN */
    return copysignf(ax < 0.625f ? p * z * ax + ax : (1.0f - e) / (1.0f + e), x);
}
static inline float sigmoid_vec_f32(float x) {
    float e = exp_neg_f32(-fabsf(x)), r = 1.0f / (1.0f + e);
    return x >= 0.0f ? r : e * r;
}

/* erf for GELU: Abramowitz & Stegun 7.1.26, sign(x) (1 - t p(t) exp(-x^2)), t = 1 / (1 + 0.3275911 |x|), within
 * 1.5e-7 absolute; the formula of PyTorch's vectorised float erf, so GELU's values and gradients follow torch's
 * (glibc's erff does not vectorise: GELU forward + backward took 10x torch's time). NaN stays NaN. */
static inline float erf_vec_f32(float x) {
    float ax = fabsf(x), t = 1.0f / (1.0f + 0.3275911f * ax);
    float r = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
    return copysignf(1.0f - r * exp_neg_f32(-ax * ax), x);
}

#endif

/* Special functions that C99 and CUDA's libdevice lack (erfinv in C, digamma and trigamma in
 * both), written once for the CPU kernels (elementwise_cpu.c) and the CUDA ones (cuda/unary.cu).
 * The algorithms are the ones PyTorch uses (aten/src/ATen/native/Math.h): digamma by the
 * reflection formula and the asymptotic series, trigamma by recurrence then its series, erfinv by
 * Giles' rational approximation refined with two Newton steps. Each is computed in double;
 * the float kernels round the result. */
#ifndef MT_SPECIAL_MATH_H
#define MT_SPECIAL_MATH_H

#include <math.h>

#ifdef __CUDACC__
#define MT_HD static __host__ __device__ __forceinline__
#else
#define MT_HD static inline
#endif

MT_HD double mt_digamma(double x) {
    const double PI = 3.14159265358979323846;
    if (x == 0) return copysign(INFINITY, -x); /* as torch: -inf at +0, +inf at -0 */
    if (x < 0) {
        if (x == trunc(x)) return NAN; /* poles at the negative integers */
        /* reflection: digamma(1 - x) - pi / tan(pi x); the remainder keeps tan accurate */
        double r = fmod(x, 1.0);
        return mt_digamma(1 - x) - PI / tan(PI * r);
    }
    double result = 0;
    while (x < 10) { result -= 1 / x; x += 1; }
    if (x == 10) return result + 2.25175258906672110764;
    const double A[] = {8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
                        -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
                        8.33333333333333333333E-2};
    double y = 0;
    if (x < 1.0e17) {
        double z = 1.0 / (x * x), p = 0;
        for (int i = 0; i < 7; i++) p = p * z + A[i];
        y = z * p;
    }
    return result + log(x) - 0.5 / x - y;
}

MT_HD double mt_trigamma(double x) {
    const double PI = 3.14159265358979323846;
    double sign = 1, result = 0;
    if (x < 0.5) {
        sign = -1;
        double s = sin(PI * x);
        result -= (PI * PI) / (s * s);
        x = 1 - x;
    }
    for (int i = 0; i < 6; i++) { result += 1 / (x * x); x += 1; }
    const double ixx = 1 / (x * x);
    result += (1 + 1 / (2 * x) + ixx * (1.0 / 6 - ixx * (1.0 / 30 - ixx * (1.0 / 42)))) / x;
    return sign * result;
}

MT_HD double mt_erfinv(double y) {
    if (y <= -1 || y >= 1) return y == -1 ? -INFINITY : y == 1 ? INFINITY : NAN;
    if (y != y) return y;
    const double a[4] = {0.886226899, -1.645349621, 0.914624893, -0.140543331};
    const double b[4] = {-2.118377725, 1.442710462, -0.329097515, 0.012229801};
    const double c[4] = {-1.970840454, -1.624906493, 3.429567803, 1.641345311};
    const double d[2] = {3.543889200, 1.637067800};
    double x, z, num, dem, ay = fabs(y);
    if (ay <= 0.7) {
        z = y * y;
        num = ((a[3] * z + a[2]) * z + a[1]) * z + a[0];
        dem = (((b[3] * z + b[2]) * z + b[1]) * z + b[0]) * z + 1.0;
        x = y * num / dem;
    } else {
        z = sqrt(-log((1.0 - ay) / 2.0));
        num = ((c[3] * z + c[2]) * z + c[1]) * z + c[0];
        dem = (d[1] * z + d[0]) * z + 1.0;
        x = copysign(num, y) / dem;
    }
    const double two_sqrtpi = 1.12837916709551257390; /* 2 / sqrt(pi) */
    x = x - (erf(x) - y) / (two_sqrtpi * exp(-x * x));
    x = x - (erf(x) - y) / (two_sqrtpi * exp(-x * x));
    return x;
}

#endif

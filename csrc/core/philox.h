/*
 * philox.h - Philox4x32-10 counter-based RNG shared by the CPU (C11) and CUDA
 * code paths.  Every function here is a pure function of its arguments, so a
 * GPU thread computing element i gets exactly what the CPU fill writes at i.
 *
 * Counter layout (the CUDA port must reuse it unchanged):
 *   key    = { lo32(seed), hi32(seed) }
 *   ctr    = { lo32(block), hi32(block), 0, 0 }   block = offset + i / K
 *   offset = number of 128-bit Philox blocks the generator already consumed.
 *
 *   kind                      K (elements/block)  words used by element i
 *   uniform_f32               4                   w[i%4]
 *   normal_f32                4                   pair p=(i%4)/2: w[2p], w[2p+1]
 *   uniform_f64, normal_f64   2                   see the functions
 *   u64 (randint, randperm)   2                   w[2(i%2)] lo, w[2(i%2)+1] hi
 *
 * After drawing n elements the generator must advance by
 * mt_philox_blocks_f32(n) = ceil(n/4) or mt_philox_blocks_f64(n) =
 * mt_philox_blocks_u64(n) = ceil(n/2) blocks, so later draws never reuse a
 * counter.
 *
 * Reproducibility across devices: the integer paths and the uniform paths are
 * bit-exact on CPU and GPU (only integer ops, exact scalings, correctly rounded
 * fma and conversions).  The normal paths call log/sin/cos, whose last-ulp
 * results differ between glibc and CUDA's libdevice, so normals agree to a few
 * double ulp (float normals are computed in double and then rounded, so they are
 * almost always bit-identical).  Checked on an H100 (nvcc 13, sm_90) against
 * glibc, 4M elements each: uniform f32/f64, randint and normal f32 identical;
 * normal f64 differs in ~11% of elements by <= 2e-15.  Do not build this with
 * -ffast-math, and call the mt_philox_elem_* helpers from kernels rather than
 * re-deriving the formulas.
 */
#ifndef MT_PHILOX_H
#define MT_PHILOX_H

#include <stdint.h>
#include <math.h>

#if defined(__CUDACC__)
#define MT_HOST_DEVICE __host__ __device__
#else
#define MT_HOST_DEVICE
#endif

#define MT_PHILOX_M0 0xD2511F53u
#define MT_PHILOX_M1 0xCD9E8D57u
#define MT_PHILOX_W0 0x9E3779B9u /* golden ratio */
#define MT_PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

/* Exact powers of two written in decimal (hex float literals are not valid in
 * every C++ dialect nvcc may use). */
#define MT_TWO_M24 5.9604644775390625e-08f                       /* 2^-24 */
#define MT_TWO_M32 2.3283064365386962890625e-10                  /* 2^-32 */
#define MT_TWO_M53 1.1102230246251565404236316680908203125e-16   /* 2^-53 */
#define MT_TWO_PI 6.283185307179586476925286766559

/* ---------------------------------------------------------------------------
 * Core block function
 * ------------------------------------------------------------------------- */

/* Philox4x32-10 as in Random123: 10 rounds, key bumped between rounds. */
static inline MT_HOST_DEVICE void mt_philox4x32_10(const uint32_t ctr[4],
                                                   const uint32_t key[2],
                                                   uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; ++r) {
        if (r > 0) {
            k0 += MT_PHILOX_W0;
            k1 += MT_PHILOX_W1;
        }
        uint64_t p0 = (uint64_t)MT_PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)MT_PHILOX_M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* The four words of 128-bit block number `block` of stream `seed`. */
static inline MT_HOST_DEVICE void mt_philox_block(uint64_t seed, uint64_t block,
                                                  uint32_t out[4]) {
    const uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), 0u, 0u};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    mt_philox4x32_10(ctr, key, out);
}

/* ---------------------------------------------------------------------------
 * Offset bookkeeping: blocks consumed by a draw of n elements
 * ------------------------------------------------------------------------- */

static inline MT_HOST_DEVICE uint64_t mt_philox_blocks_f32(int64_t n) {
    return n <= 0 ? 0u : ((uint64_t)n + 3u) / 4u; /* 4 elements per block */
}
static inline MT_HOST_DEVICE uint64_t mt_philox_blocks_f64(int64_t n) {
    return n <= 0 ? 0u : ((uint64_t)n + 1u) / 2u; /* 2 elements per block */
}
static inline MT_HOST_DEVICE uint64_t mt_philox_blocks_u64(int64_t n) {
    return mt_philox_blocks_f64(n);
}

/* ---------------------------------------------------------------------------
 * Word -> value conversions (shared by per-element and bulk paths so both are
 * bit-identical)
 * ------------------------------------------------------------------------- */

/* Top 24 bits -> float in [0,1); exact, every value representable. */
static inline MT_HOST_DEVICE float mt_philox_w2f(uint32_t w) {
    return (float)(w >> 8) * MT_TWO_M24;
}

/* 64 bits (lo, hi) -> top 53 bits -> double in [0,1); exact. */
static inline MT_HOST_DEVICE double mt_philox_w2d(uint32_t lo, uint32_t hi) {
    uint64_t x = ((uint64_t)hi << 32) | lo;
    return (double)(x >> 11) * MT_TWO_M53;
}

/* Same but in (0,1], for the log() in Box-Muller. */
static inline MT_HOST_DEVICE double mt_philox_w2d_open0(uint32_t lo, uint32_t hi) {
    uint64_t x = ((uint64_t)hi << 32) | lo;
    return (double)((x >> 11) + 1u) * MT_TWO_M53;
}

/* Box-Muller on one pair (u1 in (0,1], u2 in [0,1)); `use_sin` picks the
 * second output of the pair.  Done in double for both f32 and f64 so results
 * match the CUDA port as closely as libm differences allow. */
static inline MT_HOST_DEVICE double mt_philox_bm_radius(double u1) {
    return sqrt(-2.0 * log(u1));
}
static inline MT_HOST_DEVICE double mt_philox_bm_angle(double u2) {
    return MT_TWO_PI * u2;
}
static inline MT_HOST_DEVICE double mt_philox_box_muller(double u1, double u2, int use_sin) {
    double r = mt_philox_bm_radius(u1);
    double theta = mt_philox_bm_angle(u2);
    return use_sin ? r * sin(theta) : r * cos(theta);
}

/* f32 normal pair from two 32-bit words: all 32 bits are used (exact in
 * double), u1 = (w0 + 1) * 2^-32 in (0,1] so |z| <= ~6.66. */
static inline MT_HOST_DEVICE double mt_philox_w2d32_open0(uint32_t w) {
    return ((double)w + 1.0) * MT_TWO_M32; /* (0,1] */
}
static inline MT_HOST_DEVICE double mt_philox_w2d32(uint32_t w) {
    return (double)w * MT_TWO_M32; /* [0,1) */
}
static inline MT_HOST_DEVICE double mt_philox_normal_pair_f32(uint32_t w0, uint32_t w1,
                                                              int use_sin) {
    return mt_philox_box_muller(mt_philox_w2d32_open0(w0), mt_philox_w2d32(w1), use_sin);
}

/* f64 normal from a whole block: u1 from words 0,1 (53 bits, (0,1]), u2 from
 * words 2,3 (53 bits, [0,1)). */
static inline MT_HOST_DEVICE double mt_philox_normal_block_f64(const uint32_t w[4],
                                                               int use_sin) {
    double u1 = mt_philox_w2d_open0(w[0], w[1]);
    double u2 = mt_philox_w2d(w[2], w[3]);
    return mt_philox_box_muller(u1, u2, use_sin);
}

/* ---------------------------------------------------------------------------
 * Per-element helpers: element i of the stream (seed, offset)
 * ------------------------------------------------------------------------- */

static inline MT_HOST_DEVICE float mt_philox_uniform_f32(uint64_t seed, uint64_t offset,
                                                         uint64_t i) {
    uint32_t w[4];
    mt_philox_block(seed, offset + i / 4u, w);
    return mt_philox_w2f(w[i % 4u]);
}

static inline MT_HOST_DEVICE double mt_philox_uniform_f64(uint64_t seed, uint64_t offset,
                                                          uint64_t i) {
    uint32_t w[4];
    unsigned k = (unsigned)(i % 2u) * 2u;
    mt_philox_block(seed, offset + i / 2u, w);
    return mt_philox_w2d(w[k], w[k + 1]);
}

/* Standard normal for the f32 layout (4 per block).  Returned unrounded, in
 * double: the f32 fill computes (float)fma(std, z, mean) from it, see
 * mt_philox_elem_normal_f32. */
static inline MT_HOST_DEVICE double mt_philox_normal_f32(uint64_t seed, uint64_t offset,
                                                         uint64_t i) {
    uint32_t w[4];
    unsigned p = (unsigned)(i % 4u) / 2u;
    mt_philox_block(seed, offset + i / 4u, w);
    return mt_philox_normal_pair_f32(w[2 * p], w[2 * p + 1], (int)(i & 1u));
}

static inline MT_HOST_DEVICE double mt_philox_normal_f64(uint64_t seed, uint64_t offset,
                                                         uint64_t i) {
    uint32_t w[4];
    mt_philox_block(seed, offset + i / 2u, w);
    return mt_philox_normal_block_f64(w, (int)(i & 1u));
}

static inline MT_HOST_DEVICE uint64_t mt_philox_u64(uint64_t seed, uint64_t offset,
                                                    uint64_t i) {
    uint32_t w[4];
    unsigned k = (unsigned)(i % 2u) * 2u;
    mt_philox_block(seed, offset + i / 2u, w);
    return ((uint64_t)w[k + 1] << 32) | w[k];
}

/* ---------------------------------------------------------------------------
 * Affine maps to the requested distribution parameters.  fma() is used
 * explicitly: it is correctly rounded on both sides, whereas a plain a*b+c may
 * or may not be contracted depending on compiler flags (nvcc contracts by
 * default), which would break CPU/GPU bit-equality.
 * ------------------------------------------------------------------------- */

/* low + (high-low)*u rounded to float, kept in [low, high) like PyTorch.
 * Requires high > low; rounding can land exactly on high, which is mapped to
 * the largest float below high. */
static inline MT_HOST_DEVICE float mt_philox_scale_uniform_f32(float u, double low,
                                                               double high) {
    float v = (float)fma(high - low, (double)u, low);
    if ((double)v >= high) {
        float h = (float)high;
        if ((double)h >= high) h = nextafterf(h, -HUGE_VALF);
        v = h;
    }
    return v;
}

static inline MT_HOST_DEVICE double mt_philox_scale_uniform_f64(double u, double low,
                                                                double high) {
    double v = fma(high - low, u, low);
    if (v >= high) v = nextafter(high, -HUGE_VAL); /* double overload in C++ too */
    return v;
}

static inline MT_HOST_DEVICE float mt_philox_scale_normal_f32(double z, double mean,
                                                              double std) {
    return (float)fma(std, z, mean);
}

static inline MT_HOST_DEVICE double mt_philox_scale_normal_f64(double z, double mean,
                                                               double std) {
    return fma(std, z, mean);
}

/* Integer in [low, low + range) with range = (uint64_t)high - (uint64_t)low > 0.
 * Uses u64 % range: bias is at most range / 2^64 (< 1e-9 for ranges below 2^34),
 * and unlike rejection it keeps each element a pure function of i. */
static inline MT_HOST_DEVICE int64_t mt_philox_map_randint(uint64_t x, int64_t low,
                                                           uint64_t range) {
    /* Unsigned wrap-around then conversion back: two's complement on every
     * target we build for, and correct even when range > INT64_MAX. */
    return (int64_t)((uint64_t)low + x % range);
}



/* ---------------------------------------------------------------------------
 * Complete per-element values: exactly what the CPU fills write at index i of
 * a draw that started at `offset`.  A CUDA kernel should call these (one
 * thread per element, or one per block) with the offset the CPU fill returned
 * / would have returned.
 * ------------------------------------------------------------------------- */

static inline MT_HOST_DEVICE float mt_philox_elem_uniform_f32(uint64_t seed, uint64_t offset,
                                                              uint64_t i, double low,
                                                              double high) {
    return mt_philox_scale_uniform_f32(mt_philox_uniform_f32(seed, offset, i), low, high);
}

static inline MT_HOST_DEVICE double mt_philox_elem_uniform_f64(uint64_t seed, uint64_t offset,
                                                               uint64_t i, double low,
                                                               double high) {
    return mt_philox_scale_uniform_f64(mt_philox_uniform_f64(seed, offset, i), low, high);
}

static inline MT_HOST_DEVICE float mt_philox_elem_normal_f32(uint64_t seed, uint64_t offset,
                                                             uint64_t i, double mean,
                                                             double std) {
    return mt_philox_scale_normal_f32(mt_philox_normal_f32(seed, offset, i), mean, std);
}

static inline MT_HOST_DEVICE double mt_philox_elem_normal_f64(uint64_t seed, uint64_t offset,
                                                              uint64_t i, double mean,
                                                              double std) {
    return mt_philox_scale_normal_f64(mt_philox_normal_f64(seed, offset, i), mean, std);
}

/* Element i of a randint draw over [low, high), high > low. */
static inline MT_HOST_DEVICE int64_t mt_philox_elem_randint_i64(uint64_t seed, uint64_t offset,
                                                                uint64_t i, int64_t low,
                                                                int64_t high) {
    return mt_philox_map_randint(mt_philox_u64(seed, offset, i), low,
                                 (uint64_t)high - (uint64_t)low);
}

#endif /* MT_PHILOX_H */

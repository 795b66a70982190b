/*
 * random.c - CPU generator state and bulk random fills (Philox4x32-10).
 *
 * The fills walk the stream block by block (one Philox call per 128 bits),
 * but convert words with the same helpers as the per-element functions in
 * philox.h, so out[i] is bit-identical to mt_philox_elem_*(seed, start, i).
 */
#include "random.h"
#include "cpu_features.h"

#include <stddef.h>

/* OpenMP only for large fills; thread start-up dominates below ~64K elements.
 * Results do not depend on the thread count since every block is independent.
 * The pragma refers to the local `n` of each fill. */
#ifdef _OPENMP
#define MT_OMP_FOR _Pragma("omp parallel for if (n > (1 << 16)) schedule(static)")
#else
#define MT_OMP_FOR
#endif

static mt_generator mt_default_gens[2] = {
    {MT_DEFAULT_SEED, 0},
    {MT_DEFAULT_SEED, 0},
};

mt_generator *mt_default_generator(int device_type) {
    if (device_type < 0 || device_type >= 2) return NULL;
    return &mt_default_gens[device_type];
}

void mt_manual_seed(mt_generator *g, uint64_t seed) {
    g->seed = seed;
    g->offset = 0;
}

/* Claim `blocks` counters before filling, so the stream position is final even
 * if the caller inspects g while/after the fill runs. */
static uint64_t mt_reserve(mt_generator *g, uint64_t blocks) {
    uint64_t start = g->offset;
    g->offset += blocks;
    return start;
}

static inline int64_t mt_min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

/* blocks [b0, b1) of a float32 uniform fill, one at a time */
static void uniform_f32_blocks(uint64_t seed, uint64_t start, float *out, int64_t n, int64_t b0, int64_t b1,
                               double low, double high) {
    for (int64_t b = b0; b < b1; ++b) {
        uint32_t w[4];
        mt_philox_block(seed, start + (uint64_t)b, w);
        const int64_t base = b * 4, m = mt_min_i64(4, n - base);
        for (int64_t k = 0; k < m; ++k)
            out[base + k] = mt_philox_scale_uniform_f32(mt_philox_w2f(w[k]), low, high);
    }
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define MT_AVX512 __attribute__((target("avx512f")))
#define MT_PHILOX_LANES 16

/* the low and high words of the 32 x 32-bit products a[i] * m, 16 lanes (mul_epu32 multiplies the
 * even lanes; the odd ones are shifted down for a second one) */
MT_AVX512 static inline void mulhilo16(__m512i a, __m512i m, __m512i *lo, __m512i *hi) {
    __m512i pe = _mm512_mul_epu32(a, m), po = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    *lo = _mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32));
    *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(pe, 32), po);
}

/* mt_philox4x32_10 of blocks blk .. blk + 15 (whose low counter words do not wrap): w[k] lane i is
 * word k of block blk + i */
MT_AVX512 static inline void philox16(uint64_t seed, uint64_t blk, __m512i w[4]) {
    const __m512i m0 = _mm512_set1_epi32((int)MT_PHILOX_M0), m1 = _mm512_set1_epi32((int)MT_PHILOX_M1);
    __m512i c0 = _mm512_add_epi32(_mm512_set1_epi32((int)(uint32_t)blk),
                                  _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    __m512i c1 = _mm512_set1_epi32((int)(uint32_t)(blk >> 32)), c2 = _mm512_setzero_si512(), c3 = c2;
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; ++r) {
        if (r > 0) {
            k0 += MT_PHILOX_W0;
            k1 += MT_PHILOX_W1;
        }
        __m512i lo0, hi0, lo1, hi1;
        mulhilo16(c0, m0, &lo0, &hi0);
        mulhilo16(c2, m1, &lo1, &hi1);
        c0 = _mm512_xor_si512(_mm512_xor_si512(hi1, c1), _mm512_set1_epi32((int)k0));
        c1 = lo1;
        c2 = _mm512_xor_si512(_mm512_xor_si512(hi0, c3), _mm512_set1_epi32((int)k1));
        c3 = lo0;
    }
    w[0] = c0, w[1] = c1, w[2] = c2, w[3] = c3;
}

/* w[k] lane i (word k of block i) -> o[j] lane l = word l % 4 of block 4 j + l / 4: the stream order */
MT_AVX512 static inline void interleave16(const __m512i w[4], __m512i o[4]) {
    __m512i a = _mm512_unpacklo_epi32(w[0], w[1]), b = _mm512_unpackhi_epi32(w[0], w[1]);
    __m512i c = _mm512_unpacklo_epi32(w[2], w[3]), d = _mm512_unpackhi_epi32(w[2], w[3]);
    /* p_r: in 128-bit chunk j the four words of block 4 j + r */
    __m512i p0 = _mm512_unpacklo_epi64(a, c), p1 = _mm512_unpackhi_epi64(a, c);
    __m512i p2 = _mm512_unpacklo_epi64(b, d), p3 = _mm512_unpackhi_epi64(b, d);
    __m512i q0 = _mm512_shuffle_i32x4(p0, p1, _MM_SHUFFLE(2, 0, 2, 0)); /* blocks 0 8 1 9 */
    __m512i q1 = _mm512_shuffle_i32x4(p2, p3, _MM_SHUFFLE(2, 0, 2, 0)); /* 2 10 3 11 */
    __m512i q2 = _mm512_shuffle_i32x4(p0, p1, _MM_SHUFFLE(3, 1, 3, 1)); /* 4 12 5 13 */
    __m512i q3 = _mm512_shuffle_i32x4(p2, p3, _MM_SHUFFLE(3, 1, 3, 1)); /* 6 14 7 15 */
    o[0] = _mm512_shuffle_i32x4(q0, q1, _MM_SHUFFLE(2, 0, 2, 0));
    o[1] = _mm512_shuffle_i32x4(q2, q3, _MM_SHUFFLE(2, 0, 2, 0));
    o[2] = _mm512_shuffle_i32x4(q0, q1, _MM_SHUFFLE(3, 1, 3, 1));
    o[3] = _mm512_shuffle_i32x4(q2, q3, _MM_SHUFFLE(3, 1, 3, 1));
}

/* 8 floats u -> mt_philox_scale_uniform_f32(u, low, high), the same arithmetic in double */
MT_AVX512 static inline __m256 scale8(__m256 u, __m512d range, __m512d lo, __m512d hi, __m256 top) {
    __m256 v = _mm512_cvtpd_ps(_mm512_fmadd_pd(range, _mm512_cvtps_pd(u), lo));
    __mmask8 over = _mm512_cmp_pd_mask(_mm512_cvtps_pd(v), hi, _CMP_GE_OQ);
    return _mm512_castps512_ps256(_mm512_mask_blend_ps((__mmask16)over, _mm512_castps256_ps512(v),
                                                       _mm512_castps256_ps512(top)));
}

/* groups [g0, g1) of 16 whole blocks (64 floats) of a float32 uniform fill */
MT_AVX512 static void uniform_f32_groups(uint64_t seed, uint64_t start, float *out, int64_t g0, int64_t g1,
                                         double low, double high) {
    const int unit = low == 0.0 && high == 1.0; /* then the scaling is the identity */
    float h = (float)high;
    if ((double)h >= high) h = nextafterf(h, -HUGE_VALF);
    const __m512d range = _mm512_set1_pd(high - low), lo = _mm512_set1_pd(low), hi = _mm512_set1_pd(high);
    const __m256 top = _mm256_set1_ps(h);
    const __m512 two_m24 = _mm512_set1_ps(MT_TWO_M24);
    for (int64_t gi = g0; gi < g1; ++gi) {
        __m512i w[4], o[4];
        philox16(seed, start + (uint64_t)gi * MT_PHILOX_LANES, w);
        interleave16(w, o);
        float *dst = out + gi * 4 * MT_PHILOX_LANES;
        for (int j = 0; j < 4; ++j) {
            __m512 u = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(o[j], 8)), two_m24); /* mt_philox_w2f */
            if (!unit) {
                __m256 a = scale8(_mm512_castps512_ps256(u), range, lo, hi, top);
                __m256 b = scale8(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(u), 1)), range, lo, hi,
                                  top);
                u = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(a)), _mm256_castps_pd(b), 1));
            }
            _mm512_storeu_ps(dst + 16 * j, u);
        }
    }
}
#endif

uint64_t mt_fill_uniform_f32(mt_generator *g, float *out, int64_t n, double low, double high) {
    const uint64_t seed = g->seed;
    const uint64_t start = mt_reserve(g, mt_philox_blocks_f32(n));
    const int64_t nb = (int64_t)mt_philox_blocks_f32(n);
    int64_t done = 0; /* blocks written by the 16-lane path */
#if defined(__GNUC__) && defined(__x86_64__)
    /* 16 blocks at a time where the low counter words of a group do not wrap */
    if (mt_have_avx512() && (uint64_t)(uint32_t)start + (uint64_t)nb <= ((uint64_t)1 << 32)) {
        const int64_t ng = (n / 4) / MT_PHILOX_LANES; /* groups of whole blocks */
        MT_OMP_FOR
        for (int64_t c = 0; c < (ng + 63) / 64; ++c)
            uniform_f32_groups(seed, start, out, c * 64, mt_min_i64(ng, c * 64 + 64), low, high);
        done = ng * MT_PHILOX_LANES;
    }
#endif
    uniform_f32_blocks(seed, start, out, n, done, nb, low, high);
    return start;
}

uint64_t mt_fill_uniform_f64(mt_generator *g, double *out, int64_t n, double low, double high) {
    const uint64_t seed = g->seed;
    const uint64_t start = mt_reserve(g, mt_philox_blocks_f64(n));
    const int64_t nb = (int64_t)mt_philox_blocks_f64(n);
    MT_OMP_FOR
    for (int64_t b = 0; b < nb; ++b) {
        uint32_t w[4];
        mt_philox_block(seed, start + (uint64_t)b, w);
        const int64_t base = b * 2;
        out[base] = mt_philox_scale_uniform_f64(mt_philox_w2d(w[0], w[1]), low, high);
        if (base + 1 < n)
            out[base + 1] = mt_philox_scale_uniform_f64(mt_philox_w2d(w[2], w[3]), low, high);
    }
    return start;
}

uint64_t mt_fill_normal_f32(mt_generator *g, float *out, int64_t n, double mean, double std) {
    const uint64_t seed = g->seed;
    const uint64_t start = mt_reserve(g, mt_philox_blocks_f32(n));
    const int64_t nb = (int64_t)mt_philox_blocks_f32(n);
    MT_OMP_FOR
    for (int64_t b = 0; b < nb; ++b) {
        uint32_t w[4];
        mt_philox_block(seed, start + (uint64_t)b, w);
        const int64_t base = b * 4, m = mt_min_i64(4, n - base);
        /* One log per pair instead of one per element; same operations as
         * mt_philox_box_muller, hence the same values. */
        for (int64_t k = 0; k < m; k += 2) {
            const double r = mt_philox_bm_radius(mt_philox_w2d32_open0(w[k]));
            const double t = mt_philox_bm_angle(mt_philox_w2d32(w[k + 1]));
            out[base + k] = mt_philox_scale_normal_f32(r * cos(t), mean, std);
            if (k + 1 < m) out[base + k + 1] = mt_philox_scale_normal_f32(r * sin(t), mean, std);
        }
    }
    return start;
}

uint64_t mt_fill_normal_f64(mt_generator *g, double *out, int64_t n, double mean, double std) {
    const uint64_t seed = g->seed;
    const uint64_t start = mt_reserve(g, mt_philox_blocks_f64(n));
    const int64_t nb = (int64_t)mt_philox_blocks_f64(n);
    MT_OMP_FOR
    for (int64_t b = 0; b < nb; ++b) {
        uint32_t w[4];
        mt_philox_block(seed, start + (uint64_t)b, w);
        const int64_t base = b * 2;
        const double r = mt_philox_bm_radius(mt_philox_w2d_open0(w[0], w[1]));
        const double t = mt_philox_bm_angle(mt_philox_w2d(w[2], w[3]));
        out[base] = mt_philox_scale_normal_f64(r * cos(t), mean, std);
        if (base + 1 < n) out[base + 1] = mt_philox_scale_normal_f64(r * sin(t), mean, std);
    }
    return start;
}

uint64_t mt_fill_randint_i64(mt_generator *g, int64_t *out, int64_t n, int64_t low, int64_t high) {
    if (high <= low) return g->offset; /* empty range: caller should have rejected it */
    const uint64_t range = (uint64_t)high - (uint64_t)low;
    const uint64_t seed = g->seed;
    const uint64_t start = mt_reserve(g, mt_philox_blocks_u64(n));
    const int64_t nb = (int64_t)mt_philox_blocks_u64(n);
    MT_OMP_FOR
    for (int64_t b = 0; b < nb; ++b) {
        uint32_t w[4];
        mt_philox_block(seed, start + (uint64_t)b, w);
        const int64_t base = b * 2;
        out[base] = mt_philox_map_randint(((uint64_t)w[1] << 32) | w[0], low, range);
        if (base + 1 < n)
            out[base + 1] = mt_philox_map_randint(((uint64_t)w[3] << 32) | w[2], low, range);
    }
    return start;
}

void mt_randperm_i64(mt_generator *g, int64_t *out, int64_t n) {
    MT_OMP_FOR
    for (int64_t i = 0; i < n; ++i) out[i] = i;
    if (n < 2) return; /* nothing to shuffle, stream untouched */
    const uint64_t seed = g->seed;
    const uint64_t start = mt_reserve(g, mt_philox_blocks_u64(n - 1));
    /* Step k uses draw k = mt_philox_u64(seed, start, k); two draws per block. */
    uint32_t w[4];
    for (int64_t k = 0; k < n - 1; ++k) {
        if ((k & 1) == 0) mt_philox_block(seed, start + (uint64_t)k / 2u, w);
        const uint32_t *p = (k & 1) ? w + 2 : w;
        const uint64_t x = ((uint64_t)p[1] << 32) | p[0];
        const int64_t i = n - 1 - k;
        const int64_t j = (int64_t)(x % (uint64_t)(i + 1));
        const int64_t tmp = out[i];
        out[i] = out[j];
        out[j] = tmp;
    }
}

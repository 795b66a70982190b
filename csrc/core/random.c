/*
 * random.c - CPU generator state and bulk random fills (Philox4x32-10).
 *
 * The fills walk the stream block by block (one Philox call per 128 bits),
 * but convert words with the same helpers as the per-element functions in
 * philox.h, so out[i] is bit-identical to mt_philox_elem_*(seed, start, i).
 */
#include "random.h"

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

uint64_t mt_fill_uniform_f32(mt_generator *g, float *out, int64_t n, double low, double high) {
    const uint64_t seed = g->seed;
    const uint64_t start = mt_reserve(g, mt_philox_blocks_f32(n));
    const int64_t nb = (int64_t)mt_philox_blocks_f32(n);
    MT_OMP_FOR
    for (int64_t b = 0; b < nb; ++b) {
        uint32_t w[4];
        mt_philox_block(seed, start + (uint64_t)b, w);
        const int64_t base = b * 4, m = mt_min_i64(4, n - base);
        for (int64_t k = 0; k < m; ++k)
            out[base + k] = mt_philox_scale_uniform_f32(mt_philox_w2f(w[k]), low, high);
    }
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

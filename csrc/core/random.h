/*
 * random.h - generator state and CPU bulk fills built on Philox4x32-10.
 *
 * A generator is just (seed, offset): offset counts the 128-bit Philox blocks
 * already consumed.  Every fill reserves its blocks up front, advances offset
 * by them and returns the offset it started at; element i of the fill is the
 * matching mt_philox_elem_* / mt_philox_* function of (seed, start, i) in
 * philox.h, so a CUDA kernel launched with the same (seed, start) reproduces it.
 *
 * Blocks used by a draw of n elements (see philox.h):
 *   uniform_f32, normal_f32            ceil(n/4)
 *   uniform_f64, normal_f64, randint   ceil(n/2)
 *   randperm(n)                        ceil((n-1)/2)   (n-1 u64 draws)
 *
 * Not thread-safe: callers serialise use of one generator (the Python GIL).
 */
#ifndef MT_RANDOM_H
#define MT_RANDOM_H

#include <stdint.h>

#include "philox.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mt_generator {
    uint64_t seed;
    uint64_t offset; /* counts 128-bit Philox blocks consumed */
} mt_generator;

#define MT_DEFAULT_SEED UINT64_C(67280421310721) /* PyTorch's default seed */
#define MT_GEN_DEVICE_CPU 0
#define MT_GEN_DEVICE_CUDA 1

/* One generator per device type (0 = CPU, 1 = CUDA); NULL for anything else. */
mt_generator *mt_default_generator(int device_type);

/* Sets seed and restarts the stream (offset = 0). */
void mt_manual_seed(mt_generator *g, uint64_t seed);

/* Fills return the offset they started at and advance g->offset.  n <= 0 is a
 * no-op.  Uniform results lie in [low, high) (requires high > low; values that
 * round up to high are clamped below it, like PyTorch). */
uint64_t mt_fill_uniform_f32(mt_generator *g, float *out, int64_t n, double low, double high);
uint64_t mt_fill_uniform_f64(mt_generator *g, double *out, int64_t n, double low, double high);
uint64_t mt_fill_normal_f32(mt_generator *g, float *out, int64_t n, double mean, double std);
uint64_t mt_fill_normal_f64(mt_generator *g, double *out, int64_t n, double mean, double std);

/* Integers in [low, high), high > low (otherwise nothing is written and the
 * offset does not move).  Uses u64 % (high - low): bias <= range / 2^64. */
uint64_t mt_fill_randint_i64(mt_generator *g, int64_t *out, int64_t n, int64_t low, int64_t high);

/* Random permutation of 0..n-1: Fisher-Yates, step k (k = 0..n-2) swaps
 * position n-1-k with j = mt_philox_u64(seed, start, k) % (n-k).  Sequential,
 * so a CUDA randperm should run this on the host (or replay the same steps). */
void mt_randperm_i64(mt_generator *g, int64_t *out, int64_t n);

#ifdef __cplusplus
}
#endif

#endif /* MT_RANDOM_H */

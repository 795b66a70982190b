/* Float32 register tiles for x86-64 CPUs with AVX-512, and the packing of their vector operand:
 * shared by the CPU LSTM time loops (ops/rnn_cpu.c) and the small-matrix path of the CPU GEMM
 * (ops/matmul.c). Call them only where mt_have_avx512() (core/cpu_features.h) says so; on other compilers
 * they are stubs. */
#ifndef MT_TILES_AVX512_H
#define MT_TILES_AVX512_H

#include <stdbool.h>
#include <stdint.h>

enum { MT_TILE_MR = 8, MT_TILE_NR = 32, MT_TILE_KC = 256 }; /* tile rows, columns (two zmm); k chunk */

/* One stretch of a tile's k loop: C[i, n] += sum_{k < K} A[i * sa + k * sk] * Bm[k * ldb + n]. A tile
 * runs up to two (the LSTM forward's x_t @ w_ih^T and h_{t-1} @ w_hh^T into the same accumulators). */
typedef struct {
    int64_t K;
    const float *A;
    int64_t sa, sk;
    const float *Bm;
    int64_t ldb;
} mt_kseg;

/* C (mr <= 8 rows of stride ldc, w <= 32 columns) = (accumulate ? C : 0) + the segments' products;
 * Bm past column w is never read */
void mt_tile(int mr, int64_t w, const mt_kseg *sg, int nseg, float *C, int64_t ldc, int accumulate);
/* rows [0, m) of C (stride ldc, w <= 32 columns) = (accumulate ? C : 0) + A @ P in tiles of 8 rows:
 * A's row i, element k at A[i * sa + k * sk], P a k-major panel (K x 32) */
void mt_tile_rows(int64_t m, int64_t K, const float *A, int64_t sa, int64_t sk, const float *P, int64_t w, float *C,
                  int64_t ldc, int accumulate);
/* the lane masks of columns [0, w) (w <= 32) over a tile's two halves of 16 */
static inline void mt_tile_masks(int64_t w, uint16_t *m0, uint16_t *m1) {
    *m0 = (uint16_t)(w >= 16 ? 0xFFFF : (1u << w) - 1);
    *m1 = (uint16_t)(w >= 32 ? 0xFFFF : w > 16 ? (1u << (w - 16)) - 1 : 0);
}
/* P[k * 32 + n] = src[n * ld + k] for n < w (zero for w <= n < 32), k < K */
void mt_pack_transposed(const float *src, int64_t ld, int64_t w, int64_t K, float *P);
/* rows x cols of src (row stride ld) as ceil(cols / 32) panels of rows x 32, zero-padded */
void mt_pack_panels(const float *src, int64_t ld, int64_t rows, int64_t cols, float *dst);
/* C (m x n, row stride ldc) = op(A) @ op(B), plus C where accumulate: op(A)[i, p] =
 * A[ta ? p * lda + i : i * lda + p], op(B)[p, j] = B[tb ? j * ldb + p : p * ldb + j], k >= 1; on
 * nthreads threads. 0, or -1 (out of memory, error set). */
int mt_sgemm_tiles(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float *A, int64_t lda, const float *B,
                   int64_t ldb, bool accumulate, float *C, int64_t ldc, int nthreads);

#endif

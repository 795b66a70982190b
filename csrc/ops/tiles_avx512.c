/* Float32 AVX-512 register tiles, operand packing, and a GEMM built on them (contract in
 * tiles_avx512.h). A tile is 8 rows x 32 columns of C in 16 zmm accumulators; per k it loads two
 * vectors of the packed operand and broadcasts one element of each of the 8 rows of the other. */
#include "tiles_avx512.h"
#include "../core/mt.h" /* mt_error */

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define AVX512 __attribute__((target("avx512f,fma")))
enum { MR = MT_TILE_MR, NR = MT_TILE_NR, KC = MT_TILE_KC };
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* rows i < mr (2..8) of a tile of 32 columns (masks m0 / m1 keep columns < w of the two halves; Bm
 * past column w is never read). The 16 accumulators are named variables (GCC keeps an array of
 * them on the stack); rows past mr repeat row 0 and are not stored. */
AVX512 static inline __attribute__((always_inline)) void tile_rows_impl(const int full, int mr, const mt_kseg *sg,
                                                                       int nseg, float *C, int64_t ldc, __mmask16 m0,
                                                                       __mmask16 m1, int accumulate) {
#define ACC_INIT(i)                                                                                                  \
    __m512 x##i = accumulate && (i) < mr ? _mm512_maskz_loadu_ps(m0, C + (i) * ldc) : _mm512_setzero_ps();          \
    __m512 y##i = accumulate && (i) < mr ? _mm512_maskz_loadu_ps(m1, C + (i) * ldc + 16) : _mm512_setzero_ps();
    ACC_INIT(0) ACC_INIT(1) ACC_INIT(2) ACC_INIT(3) ACC_INIT(4) ACC_INIT(5) ACC_INIT(6) ACC_INIT(7)
    for (int q = 0; q < nseg; q++) {
        const int64_t K = sg[q].K, sk = sg[q].sk, ldb = sg[q].ldb;
        const float *Bm = sg[q].Bm;
#define ROW_PTR(i) const float *a##i = sg[q].A + ((i) < mr ? (i) * sg[q].sa : 0);
        ROW_PTR(0) ROW_PTR(1) ROW_PTR(2) ROW_PTR(3) ROW_PTR(4) ROW_PTR(5) ROW_PTR(6) ROW_PTR(7)
        for (int64_t k = 0; k < K; k++) {
            const int64_t ko = k * sk;
            __m512 b0 = full ? _mm512_loadu_ps(Bm + k * ldb) : _mm512_maskz_loadu_ps(m0, Bm + k * ldb);
            __m512 b1 = full ? _mm512_loadu_ps(Bm + k * ldb + 16) : _mm512_maskz_loadu_ps(m1, Bm + k * ldb + 16);
#define FMA_ROW(i)                                                                                                   \
    {                                                                                                                \
        __m512 av = _mm512_set1_ps(a##i[ko]);                                                                        \
        x##i = _mm512_fmadd_ps(av, b0, x##i);                                                                        \
        y##i = _mm512_fmadd_ps(av, b1, y##i);                                                                        \
    }
            FMA_ROW(0) FMA_ROW(1) FMA_ROW(2) FMA_ROW(3) FMA_ROW(4) FMA_ROW(5) FMA_ROW(6) FMA_ROW(7)
        }
    }
#define STORE_ROW(i)                                                                                                 \
    if ((i) < mr) {                                                                                                  \
        _mm512_mask_storeu_ps(C + (i) * ldc, m0, x##i);                                                              \
        _mm512_mask_storeu_ps(C + (i) * ldc + 16, m1, y##i);                                                         \
    }
    STORE_ROW(0) STORE_ROW(1) STORE_ROW(2) STORE_ROW(3) STORE_ROW(4) STORE_ROW(5) STORE_ROW(6) STORE_ROW(7)
#undef ROW_PTR
#undef ACC_INIT
#undef FMA_ROW
#undef STORE_ROW
}
/* two copies: whole 32-column tiles load without masks (with masks, GCC reloads the mask registers
 * from the stack at every k: a fifth slower) */
AVX512 static void tile_rows_full(int mr, const mt_kseg *sg, int nseg, float *C, int64_t ldc, int accumulate) {
    tile_rows_impl(1, mr, sg, nseg, C, ldc, 0xFFFF, 0xFFFF, accumulate);
}
AVX512 static void tile_rows_masked(int mr, const mt_kseg *sg, int nseg, float *C, int64_t ldc, __mmask16 m0,
                                    __mmask16 m1, int accumulate) {
    tile_rows_impl(0, mr, sg, nseg, C, ldc, m0, m1, accumulate);
}

/* one row: four partial sums over k (one FMA chain would wait on its latency at every k) */
AVX512 static inline __attribute__((always_inline)) void tile_row1_impl(const int full, const mt_kseg *sg, int nseg,
                                                                       float *C, __mmask16 m0, __mmask16 m1,
                                                                       int accumulate) {
#define LOAD0(p) (full ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m0, p))
#define LOAD1(p) (full ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m1, p))
    __m512 s0[4], s1[4];
    for (int u = 0; u < 4; u++) s0[u] = s1[u] = _mm512_setzero_ps();
    for (int q = 0; q < nseg; q++) {
        const int64_t K = sg[q].K, sk = sg[q].sk, ldb = sg[q].ldb;
        const float *A = sg[q].A, *Bm = sg[q].Bm;
        int64_t k = 0;
        for (; k + 4 <= K; k += 4)
            for (int u = 0; u < 4; u++) {
                __m512 a = _mm512_set1_ps(A[(k + u) * sk]);
                s0[u] = _mm512_fmadd_ps(a, LOAD0(Bm + (k + u) * ldb), s0[u]);
                s1[u] = _mm512_fmadd_ps(a, LOAD1(Bm + (k + u) * ldb + 16), s1[u]);
            }
        for (; k < K; k++) {
            __m512 a = _mm512_set1_ps(A[k * sk]);
            s0[0] = _mm512_fmadd_ps(a, LOAD0(Bm + k * ldb), s0[0]);
            s1[0] = _mm512_fmadd_ps(a, LOAD1(Bm + k * ldb + 16), s1[0]);
        }
    }
    __m512 r0 = _mm512_add_ps(_mm512_add_ps(s0[0], s0[1]), _mm512_add_ps(s0[2], s0[3]));
    __m512 r1 = _mm512_add_ps(_mm512_add_ps(s1[0], s1[1]), _mm512_add_ps(s1[2], s1[3]));
    if (accumulate) {
        r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(m0, C));
        r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(m1, C + 16));
    }
    _mm512_mask_storeu_ps(C, m0, r0);
    _mm512_mask_storeu_ps(C + 16, m1, r1);
#undef LOAD0
#undef LOAD1
}
AVX512 static void tile_row1_full(const mt_kseg *sg, int nseg, float *C, int accumulate) {
    tile_row1_impl(1, sg, nseg, C, 0xFFFF, 0xFFFF, accumulate);
}
AVX512 static void tile_row1_masked(const mt_kseg *sg, int nseg, float *C, __mmask16 m0, __mmask16 m1, int accumulate) {
    tile_row1_impl(0, sg, nseg, C, m0, m1, accumulate);
}

AVX512 void mt_tile(int mr, int64_t w, const mt_kseg *sg, int nseg, float *C, int64_t ldc, int accumulate) {
    uint16_t m0, m1;
    mt_tile_masks(w, &m0, &m1);
    if (mr == 1 && w == NR) tile_row1_full(sg, nseg, C, accumulate);
    else if (mr == 1) tile_row1_masked(sg, nseg, C, m0, m1, accumulate);
    else if (w == NR) tile_rows_full(mr, sg, nseg, C, ldc, accumulate);
    else tile_rows_masked(mr, sg, nseg, C, ldc, m0, m1, accumulate);
}

void mt_tile_rows(int64_t m, int64_t K, const float *A, int64_t sa, int64_t sk, const float *P, int64_t w, float *C,
                  int64_t ldc, int accumulate) {
    for (int64_t i = 0; i < m; i += MR) {
        mt_kseg sg = {K, A + i * sa, sa, sk, P, NR};
        mt_tile((int)MIN(MR, m - i), w, &sg, 1, C + i * ldc, ldc, accumulate);
    }
}

/* P[k * 32 + n] = src[n * ld + k] for n < w (zero for w <= n < 32), k < K: a panel of the transposed
 * rows, 16 x 16 blocks transposed in registers (the scalar transpose ran at ~5 GB/s and cost a
 * small GEMM as much as its products) */
AVX512 void mt_pack_transposed(const float *restrict src, int64_t ld, int64_t w, int64_t K, float *restrict P) {
    for (int64_t n0 = 0; n0 < NR; n0 += 16)
        for (int64_t k0 = 0; k0 < K; k0 += 16) {
            const int64_t kw = MIN(16, K - k0);
            const __mmask16 km = (__mmask16)(kw == 16 ? 0xFFFF : (1u << kw) - 1);
            __m512 r[16], t[16];
            for (int i = 0; i < 16; i++)
                r[i] = n0 + i < w ? _mm512_maskz_loadu_ps(km, src + (n0 + i) * ld + k0) : _mm512_setzero_ps();
            /* in each 128-bit lane: pairs, then quads of rows; then the lanes themselves */
            for (int i = 0; i < 16; i += 2) {
                t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
                t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
            }
            for (int i = 0; i < 16; i += 4) { /* r[i + c]: lane l holds column 4 l + c of rows i .. i + 3 */
                r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
                r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
                r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
                r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
            }
            for (int c = 0; c < 4; c++) { /* columns c, c + 4, c + 8, c + 12 of all 16 rows */
                __m512 v0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88), v1 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);
                __m512 w0 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
                __m512 w1 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
                t[c] = _mm512_shuffle_f32x4(v0, w0, 0x88);
                t[c + 8] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
                t[c + 4] = _mm512_shuffle_f32x4(v1, w1, 0x88);
                t[c + 12] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
            }
            for (int c = 0; c < kw; c++) _mm512_storeu_ps(P + (k0 + c) * NR + n0, t[c]);
        }
}

/* rows x cols of src (row stride ld) as ceil(cols / 32) panels of rows x 32, zero-padded */
void mt_pack_panels(const float *restrict src, int64_t ld, int64_t rows, int64_t cols, float *restrict dst) {
    for (int64_t ch = 0; ch * NR < cols; ch++) {
        int64_t w = MIN(NR, cols - ch * NR);
        for (int64_t r = 0; r < rows; r++) {
            float *restrict d = dst + (ch * rows + r) * NR;
            memcpy(d, src + r * ld + ch * NR, (size_t)w * sizeof(float));
            if (w < NR) memset(d + w, 0, (size_t)(NR - w) * sizeof(float));
        }
    }
}

/* The GEMM: work items are (32-column panel of C, share of its rows); for each chunk of KC k an item
 * packs its columns of op(B) k-major into its thread's scratch (KC x 32, 32 KB: it stays in L1) and
 * runs the row blocks over it, accumulating into C after the first chunk. */
int mt_sgemm_tiles(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float *A, int64_t lda, const float *B,
                   int64_t ldb, bool accumulate, float *C, int64_t ldc, int nthreads) {
    const int64_t npanels = (n + NR - 1) / NR, nblocks = (m + MR - 1) / MR;
    int64_t rparts = nthreads > npanels ? (nthreads + npanels - 1) / npanels : 1; /* items >= threads */
    if (rparts > nblocks) rparts = nblocks;
    const int64_t items = npanels * rparts;
    if (nthreads > items) nthreads = (int)items;
    const size_t panel = (size_t)MIN(k, KC) * NR;
    float *scratch = aligned_alloc(64, ((size_t)nthreads * panel * sizeof(float) + 63) / 64 * 64);
    if (!scratch) {
        mt_error(MT_ERR_MEMORY, "gemm: out of memory");
        return -1;
    }
#pragma omp parallel for num_threads(nthreads) if (nthreads > 1) schedule(static)
    for (int64_t it = 0; it < items; it++) {
#ifdef _OPENMP
        float *P = scratch + (size_t)omp_get_thread_num() * panel;
#else
        float *P = scratch;
#endif
        const int64_t j0 = it / rparts * NR, w = MIN(NR, n - j0), rp = it % rparts;
        const int64_t i0 = nblocks * rp / rparts * MR, i1 = MIN(m, nblocks * (rp + 1) / rparts * MR);
        for (int64_t k0 = 0; k0 < k; k0 += KC) {
            const int64_t kc = MIN(KC, k - k0);
            if (tb) mt_pack_transposed(B + j0 * ldb + k0, ldb, w, kc, P);
            else mt_pack_panels(B + k0 * ldb + j0, ldb, kc, w, P);
            mt_tile_rows(i1 - i0, kc, A + (ta ? k0 * lda + i0 : i0 * lda + k0), ta ? 1 : lda, ta ? lda : 1, P, w,
                         C + i0 * ldc + j0, ldc, accumulate || k0 > 0);
        }
    }
    free(scratch);
    return 0;
}
#else
void mt_tile(int mr, int64_t w, const mt_kseg *sg, int nseg, float *C, int64_t ldc, int accumulate) {
    (void)mr; (void)w; (void)sg; (void)nseg; (void)C; (void)ldc; (void)accumulate;
}
void mt_pack_transposed(const float *src, int64_t ld, int64_t w, int64_t K, float *P) {
    (void)src; (void)ld; (void)w; (void)K; (void)P;
}
void mt_pack_panels(const float *src, int64_t ld, int64_t rows, int64_t cols, float *dst) {
    (void)src; (void)ld; (void)rows; (void)cols; (void)dst;
}
void mt_tile_rows(int64_t m, int64_t K, const float *A, int64_t sa, int64_t sk, const float *P, int64_t w, float *C,
                  int64_t ldc, int accumulate) {
    (void)m; (void)K; (void)A; (void)sa; (void)sk; (void)P; (void)w; (void)C; (void)ldc; (void)accumulate;
}
int mt_sgemm_tiles(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float *A, int64_t lda, const float *B,
                   int64_t ldb, bool accumulate, float *C, int64_t ldc, int nthreads) {
    (void)ta; (void)tb; (void)m; (void)n; (void)k; (void)A; (void)lda; (void)B; (void)ldb; (void)accumulate;
    (void)C; (void)ldc; (void)nthreads;
    return 0;
}
#endif

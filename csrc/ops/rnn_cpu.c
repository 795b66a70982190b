/* CPU kernels of the fused LSTM layer (contract in ops/rnn.h; the op layer is ops/rnn.c):
 *
 * 1. the mt_rnn_backends[MT_CPU] entry: the fused gate kernel, the gate-gradient kernel and the bias
 *    column sums, float32 and float64;
 * 2. float32 time loops for x86-64 CPUs with AVX-512 that run the recurrent GEMMs themselves instead
 *    of calling BLAS once per step (100 sgemm calls re-pack the same weight matrix 100 times and
 *    wake BLAS's threads 100 times):
 *    - the hidden units are cut into groups of 32 and the groups shared among the threads; a thread
 *      computes all four gate columns (i, f, g, o) of its own units, so the cell update needs no
 *      other thread's results, and one barrier per step suffices (h_t, resp. dgates_t, is read by
 *      every thread in the next GEMM);
 *    - the weights are packed once per call into k-major panels of 32 columns (forward: the own
 *      rows of w_ih and w_hh; backward: the own columns of w_hh and of w_ih for dx), which stay in
 *      the core's L2 for all T steps; every tile's vector operand is such a contiguous panel (rows
 *      4 KB apart would share their L1 sets);
 *    - register tiles of 8 batch rows x 32 columns (16 zmm accumulators, ops/tiles_avx512.c); a
 *      single row (batch-1 generation) splits the k loop four ways to hide the FMA latency;
 *    - the cell update (forward) runs on each 8-row block right after its tiles, while they are in
 *      L1, in AVX-512 with reciprocal estimates instead of divisions.
 * Float32 uses branch-free exp / tanh approximations (a few ulp, vectorisable); float64 libm. */
#include "rnn_loop.h"
#include "../core/iter.h" /* mt_num_threads */

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "tiles_avx512.h"
#include "../core/cpu_features.h"
#include "vecmath.h" /* MT_CLONES, exp_neg_f32 */

/* ---------------- float32 math ---------------- */
static inline float sig_f32(float x) { return sigmoid_vec_f32(x); } /* vecmath.h */
/* tanh as a 13/6 rational function on [-7.905, 7.905] (Eigen's; <= 4e-7 relative error) */
static inline float tanh_f32(float x) {
    float xc = x < -7.90531110763549805f ? -7.90531110763549805f : (x > 7.90531110763549805f ? 7.90531110763549805f : x);
    float x2 = xc * xc;
    float p = -2.76076847742355e-16f;
    p = p * x2 + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    p = p * xc;
    float q = 1.19825839466702e-06f;
    q = q * x2 + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return p / q; /* NaN propagates through the clamp's comparisons */
}
static inline double sig_f64(double x) { return 1.0 / (1.0 + exp(-x)); }
static inline double tanh_f64(double x) { return tanh(x); }

/* ---------------- fused kernels (batch rows [b0, b1), hidden units [j0, j1) of one step) ----------------
 * fwd: g (rows of 4H, pre-activations without bias) -> activations in place; c = f*cp + i*gg;
 *      h = o * tanh(c).
 * bwd: a (activations), c, cp (c_{t-1}), dh = dout + dhr (recurrent); dc in/out (dc_t in, dc_{t-1}
 *      out); dg (rows of 4H) out. */
#define DEF_KERNELS(T, SFX)                                                                                          \
    MT_CLONES static void lstm_fwd_rows_##SFX(int64_t b0, int64_t b1, int64_t j0, int64_t j1, int64_t H, T *g,      \
                                               const T *bias, const T *cp, T *c, T *h) {                             \
        int64_t G = 4 * H;                                                                                            \
        for (int64_t b = b0; b < b1; b++) {                                                                           \
            T *restrict gr = g + b * G;                                                                               \
            const T *restrict cpr = cp + b * H;                                                                       \
            T *restrict cr = c + b * H, *restrict hr = h + b * H;                                                     \
            const T *restrict bs = bias;                                                                              \
            _Pragma("omp simd")                                                                                       \
            for (int64_t j = j0; j < j1; j++) {                                                                       \
                T ig = sig_##SFX(gr[j] + bs[j]);                                                                      \
                T fg = sig_##SFX(gr[H + j] + bs[H + j]);                                                              \
                T gg = tanh_##SFX(gr[2 * H + j] + bs[2 * H + j]);                                                     \
                T og = sig_##SFX(gr[3 * H + j] + bs[3 * H + j]);                                                      \
                T cv = fg * cpr[j] + ig * gg;                                                                         \
                gr[j] = ig;                                                                                           \
                gr[H + j] = fg;                                                                                       \
                gr[2 * H + j] = gg;                                                                                   \
                gr[3 * H + j] = og;                                                                                   \
                cr[j] = cv;                                                                                           \
                hr[j] = og * tanh_##SFX(cv);                                                                          \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    MT_CLONES static void lstm_bwd_rows_##SFX(int64_t b0, int64_t b1, int64_t j0, int64_t j1, int64_t H, const T *a, \
                                               const T *c, const T *cp, const T *dout, int64_t lddo, const T *dhr,    \
                                               T *dc, T *dg) {                                                        \
        int64_t G = 4 * H;                                                                                            \
        for (int64_t b = b0; b < b1; b++) {                                                                           \
            const T *restrict ar = a + b * G, *restrict cr = c + b * H, *restrict cpr = cp + b * H;                   \
            const T *restrict dhrr = dhr + b * H, *restrict dor = dout + b * lddo;                                    \
            T *restrict dcr = dc + b * H, *restrict dgr = dg + b * G;                                                 \
            _Pragma("omp simd")                                                                                       \
            for (int64_t j = j0; j < j1; j++) {                                                                       \
                T ig = ar[j], fg = ar[H + j], gg = ar[2 * H + j], og = ar[3 * H + j];                                 \
                T tc = tanh_##SFX(cr[j]);                                                                             \
                T dh = dor[j] + dhrr[j];                                                                              \
                T dcv = dcr[j] + dh * og * ((T)1 - tc * tc);                                                          \
                dgr[j] = dcv * gg * ig * ((T)1 - ig);                                                                 \
                dgr[H + j] = dcv * cpr[j] * fg * ((T)1 - fg);                                                         \
                dgr[2 * H + j] = dcv * ig * ((T)1 - gg * gg);                                                         \
                dgr[3 * H + j] = dh * tc * og * ((T)1 - og);                                                          \
                dcr[j] = dcv * fg;                                                                                    \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    /* db[j] = sum over rows of dg[:, j] (double accumulation), columns split across threads */                       \
    static void colsum_##SFX(const T *dg, int64_t rows, int64_t G, T *db) {                                           \
        int64_t nblk = (G + 255) / 256;                                                                               \
        _Pragma("omp parallel for schedule(static) if (rows * G >= (1 << 16) && nblk > 1)")                          \
        for (int64_t blk = 0; blk < nblk; blk++) {                                                                    \
            int64_t j0 = blk * 256, j1 = j0 + 256 < G ? j0 + 256 : G;                                                 \
            double acc[256];                                                                                          \
            for (int64_t j = j0; j < j1; j++) acc[j - j0] = 0;                                                        \
            for (int64_t r = 0; r < rows; r++) {                                                                      \
                const T *row = dg + r * G;                                                                            \
                for (int64_t j = j0; j < j1; j++) acc[j - j0] += (double)row[j];                                      \
            }                                                                                                         \
            for (int64_t j = j0; j < j1; j++) db[j] = (T)acc[j - j0];                                                 \
        }                                                                                                             \
    }

DEF_KERNELS(float, f32)
DEF_KERNELS(double, f64)

/* ---------------- the CPU entry of mt_rnn_backends ---------------- */
static int cpu_lstm_fwd(mt_dtype dt, int64_t b0, int64_t b1, int64_t H, void *g, const void *bias, const void *cp,
                        void *c, void *h) {
    if (dt == MT_FLOAT32)
        lstm_fwd_rows_f32(b0, b1, 0, H, H, (float *)g, (const float *)bias, (const float *)cp, (float *)c, (float *)h);
    else
        lstm_fwd_rows_f64(b0, b1, 0, H, H, (double *)g, (const double *)bias, (const double *)cp, (double *)c,
                          (double *)h);
    return 0;
}
static int cpu_lstm_bwd(mt_dtype dt, int64_t b0, int64_t b1, int64_t H, const void *a, const void *c, const void *cp,
                        const void *dout, const void *dhr, void *dc, void *dg) {
    if (dt == MT_FLOAT32)
        lstm_bwd_rows_f32(b0, b1, 0, H, H, (const float *)a, (const float *)c, (const float *)cp, (const float *)dout, H,
                          (const float *)dhr, (float *)dc, (float *)dg);
    else
        lstm_bwd_rows_f64(b0, b1, 0, H, H, (const double *)a, (const double *)c, (const double *)cp,
                          (const double *)dout, H, (const double *)dhr, (double *)dc, (double *)dg);
    return 0;
}
static int cpu_colsum(mt_dtype dt, int64_t rows, int64_t G, const void *dg, void *db) {
    if (dt == MT_FLOAT32) colsum_f32((const float *)dg, rows, G, (float *)db);
    else colsum_f64((const double *)dg, rows, G, (double *)db);
    return 0;
}
static const mt_rnn_backend cpu_rnn = {cpu_lstm_fwd, cpu_lstm_bwd, cpu_colsum};
const mt_rnn_backend *mt_rnn_backends[MT_NUM_DEVICE_TYPES] = {[MT_CPU] = &cpu_rnn};

/* ---------------- float32 time loops with AVX-512 tiles ---------------- */
int mt_lstm_cpu_loops_mode = 1;

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define AVX512 __attribute__((target("avx512f,fma")))

enum { MR = MT_TILE_MR, NR = MT_TILE_NR, KC = MT_TILE_KC };
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* ---- the cell update in AVX-512 (the time loops' forward): as lstm_fwd_rows_f32, with the
 * divisions as a reciprocal estimate and one Newton step (within 2 ulp): 5 divisions per cell cost
 * more than the rest of the cell; vdivps issues once per 10 cycles, vrcp14ps every 2 ---- */
AVX512 static inline __m512 rcp16(__m512 d) { /* 1 / d for normal d > 0 */
    __m512 r = _mm512_rcp14_ps(d);
    return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(1.0f)), r);
}
/* exp_neg_f32 (vecmath.h) on 16 lanes: x <= 0; below -87.33 gives 0, NaN stays NaN */
AVX512 static inline __m512 exp_neg16(__m512 x) {
    const __m512 magic = _mm512_set1_ps(12582912.f);
    __mmask16 under = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.33f), _CMP_LT_OQ);
    __m512 xs = _mm512_max_ps(_mm512_set1_ps(-87.33f), x); /* max_ps returns its second operand, x, for NaN */
    __m512 t = _mm512_fmadd_ps(xs, _mm512_set1_ps(1.44269504088896341f), magic);
    __m512i ni = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_castps_si512(magic));
    __m512 n = _mm512_sub_ps(t, magic);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), xs);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500E-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507E-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073E-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894E-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459E-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201E-1f));
    p = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
    __m512 sc = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(ni, _mm512_set1_epi32(127)), 23));
    return _mm512_maskz_mul_ps((__mmask16)~under, p, sc);
}
AVX512 static inline __m512 sig16(__m512 x) {
    __m512 e = exp_neg16(_mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN))));
    __m512 r = rcp16(_mm512_add_ps(_mm512_set1_ps(1.0f), e));
    return _mm512_mask_mul_ps(r, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), e, r);
}
AVX512 static inline __m512 tanh16(__m512 x) { /* tanh_f32's rational function */
    __m512 xc = _mm512_min_ps(_mm512_set1_ps(7.90531110763549805f), _mm512_max_ps(_mm512_set1_ps(-7.90531110763549805f), x));
    __m512 x2 = _mm512_mul_ps(xc, xc);
    __m512 p = _mm512_set1_ps(-2.76076847742355e-16f);
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(2.00018790482477e-13f));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(-8.60467152213735e-11f));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(5.12229709037114e-08f));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(1.48572235717979e-05f));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(6.37261928875436e-04f));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(4.89352455891786e-03f));
    p = _mm512_mul_ps(p, xc);
    __m512 q = _mm512_set1_ps(1.19825839466702e-06f);
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(1.18534705686654e-04f));
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(2.26843463243900e-03f));
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(4.89352518554385e-03f));
    return _mm512_mul_ps(p, rcp16(q));
}
AVX512 static inline void store16(float *p, __mmask16 m, __m512 v, int stream) {
    if (stream && m == 0xFFFF) _mm512_stream_ps(p, v);
    else _mm512_mask_storeu_ps(p, m, v);
}
/* the gate tiles of rows [b0, b1) and units [j0, j1) come in gs (rows of 4 x 32: one 32-column
 * block per gate), plus xp's (rows of 4H) where not NULL; the activations go to g where not NULL */
AVX512 static void lstm_fwd_rows_avx512(int64_t b0, int64_t b1, int64_t j0, int64_t j1, int64_t H, const float *gs,
                                        const float *xp, float *g, const float *bias, const float *cp, float *c,
                                        float *h, int stream) {
    const int64_t G = 4 * H;
    for (int64_t b = b0; b < b1; b++) {
        float *gr = g ? g + b * G : NULL, *cr = c + b * H, *hr = h + b * H;
        const float *cpr = cp + b * H, *gsr = gs + (b - b0) * 4 * NR - j0, *xpr = xp ? xp + b * G : NULL;
        for (int64_t j = j0; j < j1; j += 16) {
            __mmask16 m = (__mmask16)(j1 - j >= 16 ? 0xFFFF : (1u << (j1 - j)) - 1);
#define PRE(q)                                                                                                       \
    _mm512_add_ps(_mm512_add_ps(_mm512_maskz_loadu_ps(m, gsr + (q) * NR + j), _mm512_maskz_loadu_ps(m, bias + (q) * H + j)), \
                  xpr ? _mm512_maskz_loadu_ps(m, xpr + (q) * H + j) : _mm512_setzero_ps())
            __m512 ig = sig16(PRE(0)), fg = sig16(PRE(1)), gg = tanh16(PRE(2)), og = sig16(PRE(3));
#undef PRE
            __m512 cv = _mm512_fmadd_ps(fg, _mm512_maskz_loadu_ps(m, cpr + j), _mm512_mul_ps(ig, gg));
            if (g) {
                store16(gr + j, m, ig, stream);
                store16(gr + H + j, m, fg, stream);
                store16(gr + 2 * H + j, m, gg, stream);
                store16(gr + 3 * H + j, m, og, stream);
            }
            _mm512_mask_storeu_ps(cr + j, m, cv);
            _mm512_mask_storeu_ps(hr + j, m, _mm512_mul_ps(og, tanh16(cv)));
        }
    }
}

/* n floats of scratch, 64-byte aligned (C11 aligned_alloc wants a multiple of the alignment) */
static float *scratch(size_t n) {
    float *p = (float *)aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!p) mt_error(MT_ERR_MEMORY, "lstm: out of memory");
    return p;
}

int mt_lstm_cpu_loops_apply(mt_device_type dev, mt_dtype dt, int64_t T, int64_t B) {
    /* packing the weights costs about what 64 (step, batch row) pairs save over the generic loops
     * (measured: one step of a batch-1 charrnn layer 14 us generic, 96 us here) */
    if (mt_lstm_cpu_loops_mode == 0 || (mt_lstm_cpu_loops_mode == 1 && T * B < 64)) return 0;
    return dev == MT_CPU && dt == MT_FLOAT32 && mt_have_avx512();
}

/* threads for a loop doing `work` multiply-adds per step: one per unit group at most, and one
 * alone when a barrier per step (~1 us) would cost more than the share of the step it saves */
static int loop_threads(int64_t ngroups, int64_t work) {
    int nt = mt_num_threads();
    if (nt > ngroups) nt = (int)ngroups;
    if (work < ((int64_t)1 << 17)) nt = 1;
    return nt < 1 ? 1 : nt;
}

/* this thread's share [*p0, *p1) of n items */
static void my_share(int64_t n, int64_t *p0, int64_t *p1) {
#ifdef _OPENMP
    int tid = omp_get_thread_num(), nth = omp_get_num_threads();
#else
    int tid = 0, nth = 1;
#endif
    *p0 = n * tid / nth;
    *p1 = n * (tid + 1) / nth;
}

#define STEP(base, t, w) ((base) + (size_t)(t) * (size_t)R->B * (size_t)(w))

/* Forward: per step and 8-row block, the gate tiles of the own units are x_t @ w_ih^T + h_{t-1} @ w_hh^T
 * from zero (no separate input-projection pass over the (T, B, 4H) buffer) into a 4 KB scratch that
 * stays in L1, then the cell update writes the activations to the gates buffer with streaming
 * stores (they are read only by the backward, long after: a cached store would first read each
 * line of the 52 MB buffer from memory), and not at all without a backward to come. */
int mt_lstm_cpu_forward_loop(const mt_lstm_loop *R) {
    const int64_t T = R->T, B = R->B, I = R->I, H = R->H, G = 4 * H, ngroups = (H + NR - 1) / NR;
    const int64_t KP = I + H; /* rows of a packed panel: w_ih^T then w_hh^T */
    const float *w_ih = (const float *)R->w_ih, *w_hh = (const float *)R->w_hh, *bias = (const float *)R->bias;
    const float *x = (const float *)R->x;
    float *gates = (float *)R->gates, *cbuf = (float *)R->cbuf, *out = (float *)R->out;
    float *packed = scratch((size_t)(ngroups * 4 * KP * NR)); /* per unit group and gate a panel of KP x 32 */
    const int xpre = B < MR && I > MR;
    if (!packed) return -1;
#pragma omp parallel num_threads(loop_threads(ngroups, B * G * KP))
    {
        int64_t g0, g1;
        my_share(ngroups, &g0, &g1);
        for (int64_t u = g0; u < g1; u++)
            for (int64_t q = 0; q < 4; q++) {
                float *P = packed + (u * 4 + q) * KP * NR;
                int64_t j0 = u * NR, w = MIN(NR, H - j0);
                mt_pack_transposed(w_ih + (q * H + j0) * I, I, w, I, P);
                mt_pack_transposed(w_hh + (q * H + j0) * H, H, w, H, P + I * NR);
            }
        /* with fewer than 8 batch rows a step's tiles are bound by reading the weights from L2, so
         * the input projection of all steps goes first, as one pass over w_ih, into the gates buffer
         * (the own columns; the cell reads it there before it writes the activations over it) */
        if (xpre)
            for (int64_t u = g0; u < g1; u++)
                for (int64_t q = 0; q < 4; q++) {
                    mt_tile_rows(T * B, I, x, I, 1, packed + (u * 4 + q) * KP * NR, MIN(NR, H - u * NR),
                                 gates + q * H + u * NR, G, 0);
                }
        float gs[MR * 4 * NR] __attribute__((aligned(64)));
        const int stream = (uintptr_t)gates % 64 == 0 && H % 16 == 0;
        for (int64_t s = 0; s < T; s++) {
            int64_t t = R->reverse ? T - 1 - s : s, tp = R->reverse ? t + 1 : t - 1;
            float *g = STEP(gates, t, G), *h = STEP(out, t, H);
            const float *hp = s == 0 ? (const float *)R->h0 : STEP(out, tp, H), *xt = STEP(x, t, I);
            const float *cp;
            float *c;
            if (R->keep_c) {
                cp = s == 0 ? (const float *)R->c0 : STEP(cbuf, tp, H);
                c = STEP(cbuf, t, H);
            } else {
                cp = s == 0 ? (const float *)R->c0 : STEP(cbuf, (s - 1) & 1, H);
                c = STEP(cbuf, s & 1, H);
            }
            for (int64_t b0 = 0; b0 < B; b0 += MR) {
                int mr = (int)MIN(MR, B - b0);
                for (int64_t u = g0; u < g1; u++) {
                    int64_t j0 = u * NR, w = MIN(NR, H - j0);
                    for (int64_t q = 0; q < 4; q++) {
                        const float *P = packed + (u * 4 + q) * KP * NR;
                        mt_kseg sg[2] = {{I, xt + b0 * I, I, 1, P, NR}, {H, hp ? hp + b0 * H : NULL, H, 1, P + I * NR, NR}};
                        mt_tile(mr, w, xpre ? sg + 1 : sg, (hp ? 2 : 1) - xpre, gs + q * NR, 4 * NR, 0);
                    }
                    lstm_fwd_rows_avx512(b0, b0 + mr, j0, j0 + w, H, gs, xpre ? g : NULL, R->keep_c ? g : NULL, bias, cp,
                                         c, h, stream);
                }
            }
            _mm_sfence();
#pragma omp barrier
        }
    }
    free(packed);
    return 0;
}

/* D (B rows of 32) = the w <= 32 columns of dgates_t from column j0 (zero past w), and, if db is not
 * NULL, db[k] += the sum of column k over the rows (summed in float32 per step, across steps in
 * double) */
AVX512 static void pack_dgates_slice(const float *dg, int64_t G, int64_t B, int64_t j0, int64_t w, float *D,
                                     double *db) {
    uint16_t m0, m1;
    mt_tile_masks(w, &m0, &m1);
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    for (int64_t b = 0; b < B; b++) {
        __m512 v0 = _mm512_maskz_loadu_ps(m0, dg + b * G + j0), v1 = _mm512_maskz_loadu_ps(m1, dg + b * G + j0 + 16);
        _mm512_storeu_ps(D + b * NR, v0);
        _mm512_storeu_ps(D + b * NR + 16, v1);
        s0 = _mm512_add_ps(s0, v0);
        s1 = _mm512_add_ps(s1, v1);
    }
    if (db) {
        float sum[NR];
        _mm512_storeu_ps(sum, s0);
        _mm512_storeu_ps(sum + 16, s1);
        for (int64_t k = 0; k < w; k++) db[k] += (double)sum[k];
    }
}

/* C += X^T @ D for one panel C of N x 32 gate columns (the weight gradient's transpose, panel-major:
 * a tile's 8 x 32 accumulators are 1 KB in a row, where rows of the whole (N, 4H) matrix would be
 * 4 KB apart and share their L1 sets). D: B rows of 32 contiguous columns (a packed slice of
 * dgates_t, 16 KB, kept in L1 over all n). Row n of X^T at X(n) = xs + (n / 32) * pstride + n % 32,
 * its element k (batch row) at X(n) + k * sk: one routine for dw_hh and dw_ih, few inputs or many
 * (x_t then packed like h_{t-1}). */
static void wgrad_panel(int64_t N, const float *xs, int64_t pstride, int64_t sk, int64_t B, const float *D, int64_t w,
                        float *C) {
    for (int64_t n0 = 0; n0 < N; n0 += MR) {
        mt_kseg sg = {B, xs + n0 / NR * pstride + n0 % NR, 1, sk, D, NR};
        mt_tile((int)MIN(MR, N - n0), w, &sg, 1, C + n0 * NR, NR, 1);
    }
}

/* the weight gradient from its panels: dw[g * N + n] = panel (q * ngroups + u) row n, column
 * g - q * H - u * 32, for gate q = g / H and unit group u = (g % H) / 32 */
static void unpanel_wgrad(const float *P, int64_t H, int64_t N, float *dw) {
    const int64_t ngroups = (H + NR - 1) / NR;
    for (int64_t g = 0; g < 4 * H; g++) {
        int64_t q = g / H, u = g % H / NR;
        const float *src = P + (q * ngroups + u) * N * NR + g % H % NR;
        for (int64_t n = 0; n < N; n++) dw[g * N + n] = src[n * NR];
    }
}

/* out[:, panel columns] = dgates_t (B x 4H, rows of stride G) @ a k-major panel of 4H x 32 weight
 * columns (w of them real), k in chunks of KC so that the panel's chunk (32 KB) stays in L1 over
 * all row blocks: dh_{t-1}'s units from w_hh, dx_t's inputs from w_ih */
static void dgates_times_panel(int64_t B, int64_t G, const float *dg, const float *P, int64_t w, float *out,
                               int64_t ldo) {
    for (int64_t k0 = 0; k0 < G; k0 += KC)
        mt_tile_rows(B, MIN(KC, G - k0), dg + k0, G, 1, P + k0 * NR, w, out, ldo, k0 > 0);
}

/* Backward, per step: (1) the gate gradients of the own units into dgates_t (a (2, B, 4H) ping-pong
 * buffer), the bias sums, and the own gate columns of dw_hh^T += h_{t-1}^T @ dgates_t and dw_ih^T +=
 * x_t^T @ dgates_t (wgrad_panel, a packed 32-column slice of dgates_t at a time; into dw_hh / dw_ih
 * after the loop); barrier; (2) dh_{t-1}[:, own units] = dgates_t @ w_hh[:, own units] and
 * dx_t[:, own panels of 32 inputs] = dgates_t @ w_ih[:, those inputs] (dgates_times_panel, the
 * weight columns packed k-major once per call). Step (1)'s writes never meet another thread's
 * step-(2) reads: they go to the other half of the ping-pong buffer, or to the own columns of dh /
 * dc, and a thread reaches step (1) of s - 2 only after every thread has left step (2) of s. */
int mt_lstm_cpu_backward_loop(const mt_lstm_loop *R) {
    const int64_t T = R->T, B = R->B, I = R->I, H = R->H, G = 4 * H, ngroups = (H + NR - 1) / NR;
    const float *w_hh = (const float *)R->w_hh, *w_ih = (const float *)R->w_ih, *x = (const float *)R->x;
    const float *gates = (const float *)R->gates, *cbuf = (const float *)R->cbuf, *out = (const float *)R->out;
    float *dh = (float *)R->dh, *dc = (float *)R->dc;
    float *dx = (float *)R->dx, *dw_ih = (float *)R->dw_ih, *dw_hh = (float *)R->dw_hh;
    double *db = R->db;
    const bool few_inputs = I <= MR; /* x_t used as it is, else packed like h_{t-1} */
    int nt = loop_threads(ngroups, B * G * (2 * H + 2 * I));
    /* scratch: dgates (2, B, 4H); w_hh's columns per unit group, k-major (4H x 32 each); the panels
     * of dw_ih^T and dw_hh^T (wgrad_panel); per thread the panels of h_{t-1} and x_t and a slice of
     * dgates_t */
    const int64_t hch = (H + NR - 1) / NR, xch = few_inputs ? 0 : (I + NR - 1) / NR;
    const int64_t xgroups = (I + NR - 1) / NR;
    size_t n_dg = (size_t)(2 * B * G), n_w = (size_t)((ngroups + (dx ? xgroups : 0)) * G * NR);
    size_t n_dwt = dw_ih ? (size_t)(I * 4 * ngroups * NR) : 0, n_dwht = dw_hh ? (size_t)(H * 4 * ngroups * NR) : 0;
    size_t n_pk = (size_t)((hch + xch + 1) * B * NR);
    float *work = scratch(n_dg + n_w + n_dwt + n_dwht + (size_t)nt * n_pk);
    if (!work) return -1;
    /* dw_ih^T and dw_hh^T as 4 x ngroups panels of I (resp. H) x 32, into dw_ih / dw_hh at the end */
    float *dgbuf = work, *wpk = dgbuf + n_dg, *wxpk = wpk + ngroups * G * NR, *dwt = n_dwt ? wpk + n_w : NULL;
    float *dwht = n_dwht ? wpk + n_w + n_dwt : NULL, *pk0 = wpk + n_w + n_dwt + n_dwht;
    memset(wpk + n_w, 0, (n_dwt + n_dwht) * sizeof(float));
#pragma omp parallel num_threads(nt)
    {
        int64_t g0, g1, v0, v1;
        my_share(ngroups, &g0, &g1);
        my_share(xgroups, &v0, &v1); /* the own column panels of dx */
#ifdef _OPENMP
        float *hpk = pk0 + (size_t)omp_get_thread_num() * n_pk;
#else
        float *hpk = pk0;
#endif
        float *xpk = hpk + hch * B * NR, *dgp = xpk + xch * B * NR;
        const int64_t uj0 = g0 * NR, uj1 = MIN(g1 * NR, H), nrow = uj1 - uj0; /* the own units */
        for (int64_t u = g0; u < g1; u++) /* the unit group's columns of w_hh, k-major */
            mt_pack_panels(w_hh + u * NR, H, G, MIN(NR, H - u * NR), wpk + u * G * NR);
        for (int64_t v = v0; dx && v < v1; v++) /* and the dx panels' columns of w_ih */
            mt_pack_panels(w_ih + v * NR, I, G, MIN(NR, I - v * NR), wxpk + v * G * NR);
        for (int64_t s = T - 1; s >= 0; s--) {
            int64_t t = R->reverse ? T - 1 - s : s, tp = R->reverse ? t + 1 : t - 1;
            const float *a = STEP(gates, t, G), *c = STEP(cbuf, t, H), *xt = STEP(x, t, I);
            const float *cp = s == 0 ? (const float *)R->c0 : STEP(cbuf, tp, H);
            const float *hp = s == 0 ? (const float *)R->h0 : STEP(out, tp, H);
            /* dout: any strides over (T, B) (a batch_first output's gradient is not copied) */
            const float *dout = R->dout ? (const float *)R->dout + t * R->dout_st[0] : (const float *)R->zeros;
            const int64_t lddo = R->dout ? R->dout_st[1] : H;
            float *dg = dgbuf + (size_t)(s & 1) * (size_t)(B * G);
            if (nrow > 0) lstm_bwd_rows_f32(0, B, uj0, uj1, H, a, c, cp, dout, lddo, dh, dc, dg);
            if (nrow > 0 && dw_hh && hp) mt_pack_panels(hp, H, B, H, hpk);
            if (nrow > 0 && dw_ih && !few_inputs) mt_pack_panels(xt, I, B, I, xpk);
            for (int64_t q = 0; q < 4 && (dwht || dwt || db); q++)
                for (int64_t u = g0; u < g1; u++) { /* the own gate columns, 32 at a time */
                    int64_t j0 = q * H + u * NR, w = MIN(NR, H - u * NR), p = q * ngroups + u;
                    pack_dgates_slice(dg, G, B, j0, w, dgp, db ? db + j0 : NULL);
                    if (dwht && hp) wgrad_panel(H, hpk, B * NR, NR, B, dgp, w, dwht + p * H * NR);
                    if (dwt && few_inputs) wgrad_panel(I, xt, 0, I, B, dgp, w, dwt + p * I * NR);
                    else if (dwt) wgrad_panel(I, xpk, B * NR, NR, B, dgp, w, dwt + p * I * NR);
                }
#pragma omp barrier
            if (s > 0 || R->need_dh0)
                for (int64_t u = g0; u < g1; u++)
                    dgates_times_panel(B, G, dg, wpk + u * G * NR, MIN(NR, H - u * NR), dh + u * NR, H);
            for (int64_t v = v0; dx && v < v1; v++)
                dgates_times_panel(B, G, dg, wxpk + v * G * NR, MIN(NR, I - v * NR), STEP(dx, t, I) + v * NR, I);
        }
    }
    if (dwt) unpanel_wgrad(dwt, H, I, dw_ih);
    if (dwht) unpanel_wgrad(dwht, H, H, dw_hh);
    free(work);
    return 0;
}
#else
int mt_lstm_cpu_loops_apply(mt_device_type dev, mt_dtype dt, int64_t T, int64_t B) {
    (void)dev; (void)dt; (void)T; (void)B;
    return 0;
}
int mt_lstm_cpu_forward_loop(const mt_lstm_loop *R) { (void)R; return 0; }
int mt_lstm_cpu_backward_loop(const mt_lstm_loop *R) { (void)R; return 0; }
#endif

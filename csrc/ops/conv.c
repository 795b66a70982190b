/* Convolution (conv1d/2d/3d and the transposed forms) as im2col + GEMM, forward and backward.
 *
 * Every convolution here is seen through one geometry: an "image" side (the convolution's input, which is
 * the transposed convolution's output) of `img` spatial size and a "column" side of `col` spatial size,
 * related by kernel k, stride s, padding p and dilation d (1-d and 2-d problems are 3-d ones with unit
 * dims in front). im2col turns the image of one group into a [C*K, L] matrix (K kernel taps, L column
 * positions); col2im adds such a matrix back into an image. Then, per sample n and group g:
 *
 *   conv forward        out_ng   = W_g [O, C*K] @ im2col(x_ng)
 *   conv grad weight    gW_g    += gO_ng @ im2col(x_ng)^T
 *   conv grad input     gx_ng    = col2im(W_g^T @ gO_ng)
 *   transposed forward  out_ng   = col2im(W_g^T @ x_ng)          (W_g [C_in/g, C_out/g * K])
 *   transposed grad in  gx_ng    = W_g @ im2col(gO_ng)
 *   transposed grad W   gW_g    += x_ng @ im2col(gO_ng)^T
 *
 * The GEMMs are mt_cpu_gemm (AVX-512 tiles or OpenBLAS); the im2col rows and col2im channels are split
 * over the OpenMP threads. A 1x1 stride-1 unpadded convolution uses the image as its column matrix. */
#include "conv.h"
#include "ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../autograd/autograd.h"
#include "../core/backend.h"
#include "../core/cpu_features.h"
#include "../core/iter.h"
#include "cpu_kernels.h"
#include "tiles_avx512.h"

#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct geom {
    int64_t C; /* image-side channels of one group */
    int64_t img[3], col[3], k[3], s[3], p[3], d[3];
} geom;

static int64_t taps(const geom *g) { return g->k[0] * g->k[1] * g->k[2]; }
static int64_t col_len(const geom *g) { return g->col[0] * g->col[1] * g->col[2]; }
static int64_t img_len(const geom *g) { return g->img[0] * g->img[1] * g->img[2]; }
static bool is_pointwise(const geom *g) {
    for (int i = 0; i < 3; i++)
        if (g->k[i] != 1 || g->s[i] != 1 || g->p[i] != 0) return false;
    return true;
}

/* The column positions o in [*lo, *hi) whose tap `kk` of dim i lands inside the image. */
static void valid_range(const geom *g, int i, int64_t kk, int64_t *lo, int64_t *hi) {
    int64_t off = kk * g->d[i] - g->p[i]; /* image index = o * s + off */
    int64_t a = off >= 0 ? 0 : (-off + g->s[i] - 1) / g->s[i];
    int64_t last = g->img[i] - 1 - off; /* o * s <= last */
    int64_t b = last < 0 ? 0 : last / g->s[i] + 1;
    if (b > g->col[i]) b = g->col[i];
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

/* Tap t of the kernel (taps in row-major order over the 3 dims): per dim the column positions [lo, hi) it reads
 * inside the image, and its image offset off (image index = o * s + off). */
static void tap_window(const geom *g, int64_t t, int64_t lo[3], int64_t hi[3], int64_t off[3]) {
    int64_t kt[3] = {t / (g->k[1] * g->k[2]), t / g->k[2] % g->k[1], t % g->k[2]};
    for (int i = 0; i < 3; i++) {
        valid_range(g, i, kt[i], &lo[i], &hi[i]);
        off[i] = kt[i] * g->d[i] - g->p[i];
    }
}

/* The kernels work on a range [q0, q1) of column "lines" q = o0 * col[1] + o1 (each line col[2] positions): the
 * whole problem, or one chunk of it whose column matrix stays in the L2 cache. Its matrix has (q1 - q0) * col[2]
 * columns. im2col splits its rows over the threads when `par`; col2im its channels. */
#define DEFINE_COL_KERNELS(T, SFX)                                                                                    \
    static void im2col_##SFX(const geom *g, const T *img, T *col, int64_t q0, int64_t q1, bool par) {                \
        const int64_t K = taps(g), L = (q1 - q0) * g->col[2], rows = g->C * K;                                       \
        _Pragma("omp parallel for schedule(static) if (par && rows * L >= 32768)") for (int64_t r = 0; r < rows;     \
                                                                                           r++) {                     \
            int64_t c = r / K, kk = r % K;                                                                           \
            int64_t lo[3], hi[3], off[3];                                                                            \
            tap_window(g, kk, lo, hi, off);                                                                          \
            const T *plane = img + c * img_len(g);                                                                   \
            for (int64_t q = q0; q < q1; q++) {                                                                      \
                int64_t o0 = q / g->col[1], o1 = q % g->col[1];                                                      \
                T *d1 = col + r * L + (q - q0) * g->col[2];                                                          \
                if (o0 < lo[0] || o0 >= hi[0] || o1 < lo[1] || o1 >= hi[1]) {                                        \
                    memset(d1, 0, sizeof(T) * (size_t)g->col[2]);                                                    \
                    continue;                                                                                        \
                }                                                                                                    \
                const T *src = plane + ((o0 * g->s[0] + off[0]) * g->img[1] + o1 * g->s[1] + off[1]) * g->img[2];    \
                for (int64_t o2 = 0; o2 < lo[2]; o2++) d1[o2] = 0;                                                   \
                if (g->s[2] == 1)                                                                                    \
                    for (int64_t o2 = lo[2]; o2 < hi[2]; o2++) d1[o2] = src[o2 + off[2]];                            \
                else                                                                                                 \
                    for (int64_t o2 = lo[2]; o2 < hi[2]; o2++) d1[o2] = src[o2 * g->s[2] + off[2]];                 \
                for (int64_t o2 = hi[2]; o2 < g->col[2]; o2++) d1[o2] = 0;                                           \
            }                                                                                                        \
        }                                                                                                            \
    }                                                                                                                \
    /* img += col2im(col) over lines [q0, q1); with par, each thread owns whole channels of img */                   \
    static void col2im_##SFX(const geom *g, const T *col, T *img, int64_t q0, int64_t q1, bool par) {                \
        const int64_t K = taps(g), L = (q1 - q0) * g->col[2];                                                        \
        _Pragma("omp parallel for schedule(static) if (par && g->C * K * L >= 32768)") for (int64_t c = 0; c < g->C; \
                                                                                            c++) {                    \
            T *plane = img + c * img_len(g);                                                                         \
            for (int64_t kk = 0; kk < K; kk++) {                                                                     \
                int64_t lo[3], hi[3], off[3];                                                                        \
                tap_window(g, kk, lo, hi, off);                                                                      \
                const T *src = col + (c * K + kk) * L;                                                               \
                for (int64_t q = q0; q < q1; q++) {                                                                  \
                    int64_t o0 = q / g->col[1], o1 = q % g->col[1];                                                  \
                    if (o0 < lo[0] || o0 >= hi[0] || o1 < lo[1] || o1 >= hi[1]) continue;                            \
                    T *dst = plane + ((o0 * g->s[0] + off[0]) * g->img[1] + o1 * g->s[1] + off[1]) * g->img[2] +     \
                             off[2];                                                                                 \
                    const T *s1 = src + (q - q0) * g->col[2];                                                        \
                    for (int64_t o2 = lo[2]; o2 < hi[2]; o2++) dst[o2 * g->s[2]] += s1[o2];                         \
                }                                                                                                    \
            }                                                                                                        \
        }                                                                                                            \
    }                                                                                                                \
    /* out[n, o, :] += bias[o] */                                                                                    \
    static void add_bias_##SFX(T *out, const T *bias, int64_t N, int64_t O, int64_t L) {                             \
        for (int64_t n = 0; n < N; n++)                                                                              \
            for (int64_t o = 0; o < O; o++) {                                                                        \
                T *row = out + (n * O + o) * L, b = bias[o];                                                         \
                for (int64_t l = 0; l < L; l++) row[l] += b;                                                         \
            }                                                                                                        \
    }                                                                                                                \
    /* gb[o] = sum over n and l of go[n, o, l], accumulated in double (used for the floating types) */               \
    static inline void bias_grad_##SFX(const T *go, T *gb, int64_t N, int64_t O, int64_t L) {                               \
        for (int64_t o = 0; o < O; o++) {                                                                            \
            double acc = 0;                                                                                          \
            for (int64_t n = 0; n < N; n++) {                                                                        \
                const T *row = go + (n * O + o) * L;                                                                 \
                for (int64_t l = 0; l < L; l++) acc += (double)row[l];                                               \
            }                                                                                                        \
            gb[o] = (T)acc;                                                                                          \
        }                                                                                                            \
    }

DEFINE_COL_KERNELS(float, f32)
DEFINE_COL_KERNELS(double, f64)
DEFINE_COL_KERNELS(int32_t, i32)
DEFINE_COL_KERNELS(int64_t, i64)

/* the whole problem's column matrix, on all threads */
static void im2col(mt_dtype dt, const geom *g, const void *img, void *col) {
    int64_t q = g->col[0] * g->col[1];
    switch (dt) {
    case MT_FLOAT32: im2col_f32(g, (const float *)img, (float *)col, 0, q, true); break;
    case MT_FLOAT64: im2col_f64(g, (const double *)img, (double *)col, 0, q, true); break;
    case MT_INT32: im2col_i32(g, (const int32_t *)img, (int32_t *)col, 0, q, true); break;
    default: im2col_i64(g, (const int64_t *)img, (int64_t *)col, 0, q, true); break;
    }
}
static void col2im(mt_dtype dt, const geom *g, const void *col, void *img) {
    int64_t q = g->col[0] * g->col[1];
    switch (dt) {
    case MT_FLOAT32: col2im_f32(g, (const float *)col, (float *)img, 0, q, true); break;
    case MT_FLOAT64: col2im_f64(g, (const double *)col, (double *)img, 0, q, true); break;
    case MT_INT32: col2im_i32(g, (const int32_t *)col, (int32_t *)img, 0, q, true); break;
    default: col2im_i64(g, (const int64_t *)col, (int64_t *)img, 0, q, true); break;
    }
}
static void add_bias(mt_dtype dt, void *out, const void *bias, int64_t N, int64_t O, int64_t L) {
    switch (dt) {
    case MT_FLOAT32: add_bias_f32((float *)out, (const float *)bias, N, O, L); break;
    case MT_FLOAT64: add_bias_f64((double *)out, (const double *)bias, N, O, L); break;
    case MT_INT32: add_bias_i32((int32_t *)out, (const int32_t *)bias, N, O, L); break;
    default: add_bias_i64((int64_t *)out, (const int64_t *)bias, N, O, L); break;
    }
}
static void bias_grad(mt_dtype dt, const void *go, void *gb, int64_t N, int64_t O, int64_t L) {
    if (dt == MT_FLOAT32) bias_grad_f32((const float *)go, (float *)gb, N, O, L);
    else bias_grad_f64((const double *)go, (double *)gb, N, O, L);
}

/* The problem of one convolution call, fixed at forward time and kept by its node. */
typedef struct conv_info {
    mt_conv_params p;
    mt_dtype dtype;
    int64_t N, c_in, c_out;          /* channels of input and output (all groups) */
    int64_t in_sp[3], out_sp[3];     /* spatial sizes (3-d, unit dims in front) */
    int in_ndim;                     /* 2 + nsp */
    int64_t in_shape[MT_MAX_DIMS], w_shape[MT_MAX_DIMS];
    geom g;                          /* image = input (conv) or output (transposed), per group */
    bool has_bias;
} conv_info;

static const char *c_type_name(mt_dtype d) { return mt_cpp_type_name(d); }

static char *byte_ptr(const mt_tensor *t) { return (char *)mt_data(t); }

/* One scratch column matrix [rows, L] of dtype dt, or NULL with the error set. */
static void *col_buffer(mt_dtype dt, int64_t rows, int64_t L) {
    size_t n = (size_t)(rows * L) * mt_dtype_sizes[dt];
    void *b = malloc(n ? n : 1);
    if (!b) mt_error(MT_ERR_MEMORY, "convolution: out of memory for a %lld x %lld column buffer", (long long)rows,
                     (long long)L);
    return b;
}

static int gemm(mt_dtype dt, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const void *a, int64_t lda,
                const void *b, int64_t ldb, double beta, void *c, int64_t ldc) {
    if (k == 0 && beta == 0.0) { /* an empty sum: zeros (the GEMM may leave c untouched) */
        for (int64_t i = 0; i < m; i++) memset((char *)c + (size_t)(i * ldc) * mt_dtype_sizes[dt], 0,
                                               (size_t)n * mt_dtype_sizes[dt]);
        return 0;
    }
    return mt_cpu_gemm(dt, 1, ta, tb, m, n, k, 1.0, a, lda, 0, b, ldb, 0, beta, c, ldc, 0);
}

/* ---- float32 on AVX-512: chunked column matrices that stay in L2, one thread per chunk ----
 *
 * The column matrix of one (sample, group) is cut into chunks of whole lines of about CHUNK_FLOATS floats; a
 * thread builds a chunk's matrix in its own buffer and multiplies it on the register tiles (one thread per
 * GEMM), so the 2.4 MB matrix of a 64-channel 32x32 3x3 layer never leaves the core's cache. The forward writes
 * disjoint output columns per chunk; the backward gives each thread whole samples (its input gradient is its
 * own) and its own weight-gradient accumulator, summed at the end. */
enum { CHUNK_FLOATS = 1 << 17 };

static bool use_tiles(const conv_info *I) {
    return I->dtype == MT_FLOAT32 && !I->p.transposed && mt_have_avx512() && I->g.C * taps(&I->g) > 0 &&
           I->c_out / I->p.groups > 0;
}

/* lines per chunk: about CHUNK_FLOATS / (rows of the column matrix) columns, at least one line and 64 columns */
static int64_t chunk_lines(const geom *g) {
    int64_t rows = g->C * taps(g), cols = CHUNK_FLOATS / (rows > 0 ? rows : 1);
    if (cols < 64) cols = 64;
    int64_t lines = cols / g->col[2];
    return lines < 1 ? 1 : lines;
}

/* Implicit GEMM for convolutions that are unit-stride along their last dim: no column matrix at all. The
 * source is zero-padded once; an output tile (8 output channels x up to 32 positions of one output line) is
 * then a sum over the kernel taps of W[:, :, tap] @ (a shifted window of the padded source), each tap one
 * segment of the register tile whose k runs over the group's channels (row stride: the channel stride). */
typedef struct implicit_conv {
    int64_t N, G, Cg, Og;      /* samples, groups, source channels and output channels per group */
    int64_t src[3], pad[3];    /* source spatial size and its zero padding */
    int64_t k[3], d[3], s[2];  /* kernel, dilation, stride of the first two dims (the last is 1) */
    int64_t out[3];            /* output spatial size */
} implicit_conv;

/* Few channels per group make each tap's segment of the register tile a few k steps long, and the tile's
 * per-segment setup dominates (a 3-channel first layer ran at half the column-matrix path's speed). */
enum { MAX_IMPLICIT_TAPS = 64, MIN_IMPLICIT_CHANNELS = 8 };

/* With a stride along the second dim a tile covers up to 32 positions of one output line: lines of width w fill
 * w / (32 ceil(w / 32)) of it. Below 3/4 (a 16-wide line fills half) the column-matrix path is faster. */
static bool fills_tiles(int64_t width) {
    int64_t tiles = (width + MT_TILE_NR - 1) / MT_TILE_NR;
    return 4 * width >= 3 * tiles * MT_TILE_NR;
}

/* *xp = src zero-padded by P->pad ([N * G * Cg] planes of P0 x P1 x P2; NULL when there is no padding) */
static int pad_source(const implicit_conv *P, const float *src, float **xp) {
    int64_t P1 = P->src[1] + 2 * P->pad[1], P2 = P->src[2] + 2 * P->pad[2];
    int64_t CS = (P->src[0] + 2 * P->pad[0]) * P1 * P2, SL = P->src[0] * P->src[1] * P->src[2];
    int64_t C = P->N * P->G * P->Cg;
    *xp = NULL;
    if (!(P->pad[0] || P->pad[1] || P->pad[2])) return 0;
    float *dst0 = (float *)malloc(sizeof(float) * (size_t)(C * CS > 0 ? C * CS : 1));
    if (!dst0) {
        mt_error(MT_ERR_MEMORY, "convolution: out of memory");
        return -1;
    }
#pragma omp parallel for schedule(static) if (C * CS >= 65536)
    for (int64_t c = 0; c < C; c++) {
        float *dst = dst0 + c * CS;
        const float *sp = src + c * SL;
        memset(dst, 0, sizeof(float) * (size_t)CS);
        for (int64_t i0 = 0; i0 < P->src[0]; i0++)
            for (int64_t i1 = 0; i1 < P->src[1]; i1++)
                memcpy(dst + ((i0 + P->pad[0]) * P1 + i1 + P->pad[1]) * P2 + P->pad[2],
                       sp + (i0 * P->src[1] + i1) * P->src[2], sizeof(float) * (size_t)P->src[2]);
    }
    *xp = dst0;
    return 0;
}

/* out [N, G*Og, out] = conv(src [N, G*Cg, src], w [G*Og, Cg, taps]) (+ bias) */
static int implicit_conv_f32(const implicit_conv *P, const float *src, const float *w, const float *bias,
                             float *out) {
    int64_t P0 = P->src[0] + 2 * P->pad[0], P1 = P->src[1] + 2 * P->pad[1], P2 = P->src[2] + 2 * P->pad[2];
    int64_t CS = P0 * P1 * P2;
    int64_t K = P->k[0] * P->k[1] * P->k[2], L = P->out[0] * P->out[1] * P->out[2];
    /* the weights packed per block of 8 output channels as [tap][channel][8]: the tile's 8 broadcasts of a k
     * step are then one 32-byte run (strided by taps * channels they touched 8 cache lines per k step, and a
     * 128-channel 8x8 layer ran at 40% of the 32x32 one's rate) */
    int64_t nb = (P->Og + MT_TILE_MR - 1) / MT_TILE_MR, bs = K * P->Cg * MT_TILE_MR;
    float *wp = (float *)malloc(sizeof(float) * (size_t)(P->G * nb * bs > 0 ? P->G * nb * bs : 1));
    if (!wp) {
        mt_error(MT_ERR_MEMORY, "convolution: out of memory");
        return -1;
    }
    for (int64_t g = 0; g < P->G; g++)
        for (int64_t ib = 0; ib < nb; ib++)
            for (int64_t t = 0; t < K; t++)
                for (int64_t c = 0; c < P->Cg; c++)
                    for (int64_t r = 0; r < MT_TILE_MR; r++) {
                        int64_t i = ib * MT_TILE_MR + r;
                        wp[(g * nb + ib) * bs + (t * P->Cg + c) * MT_TILE_MR + r] =
                            i < P->Og ? w[((g * P->Og + i) * P->Cg + c) * K + t] : 0.0f;
                    }
    float *xp = NULL;
    if (pad_source(P, src, &xp) < 0) {
        free(wp);
        return -1;
    }
    const float *x = xp ? xp : src;
    /* Unit stride along the second dim too: a tile runs over 32 consecutive positions of the padded plane,
     * across output lines; the columns that fall in the padding (o2 >= out[2]) are computed and dropped. Else
     * a tile stays within one output line. */
    bool plane = P->s[1] == 1;
    int64_t span = plane ? (P->out[1] - 1) * P2 + P->out[2] : P->out[2]; /* positions per item */
    int64_t rows = plane ? P->out[0] : P->out[0] * P->out[1];
    int64_t blk = plane ? 8 * MT_TILE_NR : span, nblk = (span + blk - 1) / blk; /* items of at most 8 tiles */
    int64_t items = P->N * P->G * rows * nblk;
#pragma omp parallel for schedule(dynamic) if (items > 1)
    for (int64_t it = 0; it < items; it++) {
        int64_t n = it / (P->G * rows * nblk), g = it / (rows * nblk) % P->G, q = it / nblk % rows;
        int64_t jb = it % nblk * blk, je = jb + blk < span ? jb + blk : span;
        int64_t o0 = plane ? q : q / P->out[1], o1 = plane ? 0 : q % P->out[1];
        const float *xg = x + (n * P->G + g) * P->Cg * CS + (o0 * P->s[0] * P1 + o1 * P->s[1]) * P2;
        const float *wg = wp + g * nb * bs;
        float *og = out + ((n * P->G + g) * P->Og) * L + (plane ? o0 * P->out[1] : q) * P->out[2];
        mt_kseg sg[MAX_IMPLICIT_TAPS];
        float tmp[MT_TILE_MR * MT_TILE_NR];
        for (int64_t t = 0; t < K; t++) {
            sg[t].K = P->Cg;
            sg[t].sa = 1;
            sg[t].sk = MT_TILE_MR;
            sg[t].ldb = CS;
        }
        /* a block of weights (8 x channels x taps) stays in L1 while the item's tiles pass under it */
        for (int64_t i0 = 0; i0 < P->Og; i0 += MT_TILE_MR) {
            int mr = (int)(P->Og - i0 < MT_TILE_MR ? P->Og - i0 : MT_TILE_MR);
            for (int64_t t = 0; t < K; t++) sg[t].A = wg + i0 / MT_TILE_MR * bs + t * P->Cg * MT_TILE_MR;
            for (int64_t j0 = jb; j0 < je; j0 += MT_TILE_NR) {
                int64_t wd = je - j0 < MT_TILE_NR ? je - j0 : MT_TILE_NR;
                for (int64_t t = 0; t < K; t++) {
                    int64_t t0 = t / (P->k[1] * P->k[2]), t1 = t / P->k[2] % P->k[1], t2 = t % P->k[2];
                    sg[t].Bm = xg + (t0 * P->d[0] * P1 + t1 * P->d[1]) * P2 + t2 * P->d[2] + j0;
                }
                if (!plane) {
                    float *c = og + i0 * L + j0;
                    mt_tile(mr, wd, sg, (int)K, c, L, 0);
                    if (bias)
                        for (int i = 0; i < mr; i++) {
                            float b = bias[g * P->Og + i0 + i];
                            for (int64_t j = 0; j < wd; j++) c[i * L + j] += b;
                        }
                    continue;
                }
                mt_tile(mr, wd, sg, (int)K, tmp, MT_TILE_NR, 0);
                for (int i = 0; i < mr; i++) {
                    float b = bias ? bias[g * P->Og + i0 + i] : 0.0f, *orow = og + (i0 + i) * L;
                    int64_t r = j0 / P2, c2 = j0 % P2; /* position j0 + j of the padded plane */
                    for (int64_t j = 0; j < wd; j++, c2++) {
                        if (c2 == P2) c2 = 0, r++;
                        if (c2 < P->out[2]) orow[r * P->out[2] + c2] = tmp[i * MT_TILE_NR + j] + b;
                    }
                }
            }
        }
    }
    free(xp);
    free(wp);
    return 0;
}

enum { WGRAD_MIN_K = 512, MAX_WGRAD_SAMPLES = 64 };

/* The weight gradient of a stride-1 convolution without a column matrix: for each tap t,
 * gW[:, :, t]^T [Cg, Og] = sum over samples of xpad_shifted_t [Cg, positions] @ gO^T [positions, Og], with the
 * positions those of the padded grid (gO is zero at the ones in the padding). */
static int weight_grad_implicit_f32(const implicit_conv *P, const float *src, const float *go, float *gw) {
    int64_t P1 = P->src[1] + 2 * P->pad[1], P2 = P->src[2] + 2 * P->pad[2], P0 = P->src[0] + 2 * P->pad[0];
    int64_t CS = P0 * P1 * P2, K = P->k[0] * P->k[1] * P->k[2], L = P->out[0] * P->out[1] * P->out[2];
    int64_t span = (P->out[0] - 1) * P1 * P2 + (P->out[1] - 1) * P2 + P->out[2], G = P->G, Og = P->Og, Cg = P->Cg;
    float *xp = NULL;
    if (pad_source(P, src, &xp) < 0) return -1;
    const float *x = xp ? xp : src;
    float *goT = (float *)calloc((size_t)(P->N * G * span * Og > 0 ? P->N * G * span * Og : 1), sizeof(float));
    if (!goT) {
        free(xp);
        mt_error(MT_ERR_MEMORY, "convolution: out of memory");
        return -1;
    }
#pragma omp parallel for schedule(static) if (P->N * G > 1)
    for (int64_t ng = 0; ng < P->N * G; ng++)
        for (int64_t o = 0; o < Og; o++) {
            const float *row = go + (ng * Og + o) * L;
            float *dst = goT + ng * span * Og + o;
            for (int64_t o0 = 0; o0 < P->out[0]; o0++)
                for (int64_t o1 = 0; o1 < P->out[1]; o1++)
                    for (int64_t o2 = 0; o2 < P->out[2]; o2++)
                        dst[((o0 * P1 + o1) * P2 + o2) * Og] = row[(o0 * P->out[1] + o1) * P->out[2] + o2];
        }
    int64_t cb = (Cg + MT_TILE_MR - 1) / MT_TILE_MR, ob = (Og + MT_TILE_NR - 1) / MT_TILE_NR, wlen = G * Og * Cg * K;
    /* S samples per item, one tile segment each: a tile's k then runs over S * span positions, enough to amortise
     * its setup and the scatter of its result into gW (an 8x8 plane alone is 78 positions, and the tile's fixed
     * costs were as large as its products) */
    int64_t S = (WGRAD_MIN_K + span - 1) / span;
    if (S > MAX_WGRAD_SAMPLES) S = MAX_WGRAD_SAMPLES;
    if (S > P->N) S = P->N > 0 ? P->N : 1;
    int64_t nchunks = (P->N + S - 1) / S, items = nchunks * G * K;
    int nt = mt_num_threads();
    if (nt > items) nt = (int)(items > 0 ? items : 1);
    float *partial = (float *)calloc((size_t)(nt * wlen > 0 ? nt * wlen : 1), sizeof(float));
    if (!partial) {
        free(goT);
        free(xp);
        mt_error(MT_ERR_MEMORY, "convolution: out of memory");
        return -1;
    }
    /* items (samples, group, tap) in order, so a thread's consecutive items share samples whose padded source and
     * gO^T (a few hundred KB) stay in L2; each thread sums into its own copy of gW */
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        float *acc = partial + tid * wlen, tmp[MT_TILE_MR * MT_TILE_NR];
        mt_kseg sg[MAX_WGRAD_SAMPLES];
#pragma omp for schedule(dynamic)
        for (int64_t it = 0; it < items; it++) {
            int64_t n0 = it / (G * K) * S, g = it / K % G, t = it % K, ns = P->N - n0 < S ? P->N - n0 : S;
            int64_t t0 = t / (P->k[1] * P->k[2]), t1 = t / P->k[2] % P->k[1], t2 = t % P->k[2];
            int64_t off = (t0 * P->d[0] * P1 + t1 * P->d[1]) * P2 + t2 * P->d[2];
            for (int64_t c0 = 0; c0 < cb * MT_TILE_MR; c0 += MT_TILE_MR)
                for (int64_t j0 = 0; j0 < ob * MT_TILE_NR; j0 += MT_TILE_NR) {
                    int mr = (int)(Cg - c0 < MT_TILE_MR ? Cg - c0 : MT_TILE_MR);
                    int64_t wd = Og - j0 < MT_TILE_NR ? Og - j0 : MT_TILE_NR;
                    for (int64_t q = 0; q < ns; q++) {
                        int64_t ng = (n0 + q) * G + g;
                        sg[q] = (mt_kseg){span, x + (ng * Cg + c0) * CS + off, CS, 1, goT + ng * span * Og + j0, Og};
                    }
                    mt_tile(mr, wd, sg, (int)ns, tmp, MT_TILE_NR, 0);
                    for (int i = 0; i < mr; i++)
                        for (int64_t j = 0; j < wd; j++)
                            acc[((g * Og + j0 + j) * Cg + c0 + i) * K + t] += tmp[i * MT_TILE_NR + j];
                }
        }
    }
    memcpy(gw, partial, sizeof(float) * (size_t)wlen);
    for (int th = 1; th < nt; th++)
        for (int64_t i = 0; i < wlen; i++) gw[i] += partial[th * wlen + i];
    free(partial);
    free(goT);
    free(xp);
    return 0;
}

/* The forward as an implicit GEMM where it applies (unit stride along the last dim, few enough taps). */
static bool forward_implicit(const conv_info *I, implicit_conv *P) {
    const geom *g = &I->g;
    if (g->s[2] != 1 || taps(g) > MAX_IMPLICIT_TAPS || is_pointwise(g) || g->C < MIN_IMPLICIT_CHANNELS ||
        (g->s[1] != 1 && !fills_tiles(g->col[2])))
        return false;
    P->N = I->N;
    P->G = I->p.groups;
    P->Cg = g->C;
    P->Og = I->c_out / I->p.groups;
    for (int i = 0; i < 3; i++) {
        P->src[i] = g->img[i];
        P->pad[i] = g->p[i];
        P->k[i] = g->k[i];
        P->d[i] = g->d[i];
        P->out[i] = g->col[i];
    }
    P->s[0] = g->s[0];
    P->s[1] = g->s[1];
    return true;
}

/* The input gradient of a stride-1 convolution is a stride-1 convolution of the output gradient, padded by
 * d (k - 1) - p, with the kernel flipped and its channel dims swapped. */
static bool input_grad_implicit(const conv_info *I, implicit_conv *P) {
    const geom *g = &I->g;
    if (taps(g) > MAX_IMPLICIT_TAPS || is_pointwise(g) || g->C == 0 || I->c_out / I->p.groups < MIN_IMPLICIT_CHANNELS)
        return false;
    for (int i = 0; i < 3; i++)
        if (g->s[i] != 1 || g->d[i] * (g->k[i] - 1) - g->p[i] < 0) return false;
    P->N = I->N;
    P->G = I->p.groups;
    P->Cg = I->c_out / I->p.groups;
    P->Og = g->C;
    for (int i = 0; i < 3; i++) {
        P->src[i] = g->col[i];
        P->pad[i] = g->d[i] * (g->k[i] - 1) - g->p[i];
        P->k[i] = g->k[i];
        P->d[i] = g->d[i];
        P->out[i] = g->img[i];
    }
    P->s[0] = P->s[1] = 1;
    return true;
}

/* w [G*Og, C, K] -> wt [G*C, Og, K] with the taps reversed */
static float *flip_swap_weight(const conv_info *I, const float *w) {
    int64_t G = I->p.groups, Og = I->c_out / G, C = I->g.C, K = taps(&I->g);
    float *wt = (float *)malloc(sizeof(float) * (size_t)(G * Og * C * K > 0 ? G * Og * C * K : 1));
    if (!wt) {
        mt_error(MT_ERR_MEMORY, "convolution: out of memory");
        return NULL;
    }
    for (int64_t g = 0; g < G; g++)
        for (int64_t o = 0; o < Og; o++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t t = 0; t < K; t++)
                    wt[((g * C + c) * Og + o) * K + (K - 1 - t)] = w[((g * Og + o) * C + c) * K + t];
    return wt;
}

static int conv_forward_tiles(const conv_info *I, const float *x, const float *w, const float *b, float *out) {
    implicit_conv P;
    if (forward_implicit(I, &P)) return implicit_conv_f32(&P, x, w, b, out);
    const geom *g = &I->g;
    int64_t G = I->p.groups, K = taps(g), L = col_len(g), CK = g->C * K, cout_g = I->c_out / G;
    int64_t nq = g->col[0] * g->col[1], per = chunk_lines(g), nchunks = (nq + per - 1) / per;
    int64_t items = I->N * G * nchunks;
    bool direct = is_pointwise(g);
    int failed = 0;
#pragma omp parallel if (items > 1)
    {
        float *col = direct ? NULL : (float *)malloc(sizeof(float) * (size_t)(CK * per * g->col[2]));
        if (!direct && !col) failed = 1;
#pragma omp for schedule(dynamic)
        for (int64_t it = 0; it < items; it++) {
            if (failed) continue;
            int64_t n = it / (G * nchunks), gi = it / nchunks % G, q0 = it % nchunks * per;
            int64_t q1 = q0 + per < nq ? q0 + per : nq, l0 = q0 * g->col[2], cols = (q1 - q0) * g->col[2];
            const float *xg = x + (n * I->c_in + gi * g->C) * img_len(g);
            float *og = out + (n * I->c_out + gi * cout_g) * L + l0;
            const float *B = xg + l0;
            int64_t ldb = L;
            if (!direct) {
                im2col_f32(g, xg, col, q0, q1, false);
                B = col;
                ldb = cols;
            }
            if (mt_sgemm_tiles(false, false, cout_g, cols, CK, w + gi * cout_g * CK, CK, B, ldb, false, og, L, 1) < 0)
                failed = 1;
            else if (b)
                for (int64_t o = 0; o < cout_g; o++) {
                    float bo = b[gi * cout_g + o], *row = og + o * L;
                    for (int64_t l = 0; l < cols; l++) row[l] += bo;
                }
        }
        free(col);
    }
    if (failed) {
        if (mt_err_kind() == MT_ERR_NONE) mt_error(MT_ERR_MEMORY, "convolution: out of memory");
        return -1;
    }
    return 0;
}

static int conv_backward_tiles(const conv_info *I, const float *x, const float *w, const float *go, float *gx,
                               float *gw) {
    const geom *g = &I->g;
    int64_t G = I->p.groups, K = taps(g), L = col_len(g), CK = g->C * K, cout_g = I->c_out / G, IMG = img_len(g);
    int64_t nq = g->col[0] * g->col[1], per = chunk_lines(g), chunk = per * g->col[2];
    int64_t wlen = G * cout_g * CK;
    bool direct = is_pointwise(g);
    int nt = mt_num_threads();
    if (nt > I->N) nt = (int)(I->N > 0 ? I->N : 1);
    float *partial = gw ? (float *)calloc((size_t)(nt * wlen), sizeof(float)) : NULL;
    if (gw && !partial) {
        mt_error(MT_ERR_MEMORY, "convolution: out of memory");
        return -1;
    }
    int failed = 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        float *col = direct ? NULL : (float *)malloc(sizeof(float) * (size_t)(CK * chunk));
        float *gcol = direct || !gx ? NULL : (float *)malloc(sizeof(float) * (size_t)(CK * chunk));
        float *gwp = gw ? partial + tid * wlen : NULL;
        if (!direct && (!col || (gx && !gcol))) failed = 1;
#pragma omp for schedule(dynamic)
        for (int64_t n = 0; n < I->N; n++) {
            if (failed) continue;
            if (gx) memset(gx + n * I->c_in * IMG, 0, sizeof(float) * (size_t)(I->c_in * IMG));
            for (int64_t gi = 0; gi < G && !failed; gi++) {
                const float *xg = x + (n * I->c_in + gi * g->C) * IMG, *wg = w + gi * cout_g * CK;
                const float *gog = go + (n * I->c_out + gi * cout_g) * L;
                float *gxg = gx ? gx + (n * I->c_in + gi * g->C) * IMG : NULL;
                for (int64_t q0 = 0; q0 < nq && !failed; q0 += per) {
                    int64_t q1 = q0 + per < nq ? q0 + per : nq, l0 = q0 * g->col[2], cols = (q1 - q0) * g->col[2];
                    if (gwp) { /* gW_g [cout_g, CK] += gO[:, chunk] @ cols^T */
                        const float *B = xg + l0;
                        int64_t ldb = L;
                        if (!direct) {
                            im2col_f32(g, xg, col, q0, q1, false);
                            B = col;
                            ldb = cols;
                        }
                        if (mt_sgemm_tiles(false, true, cout_g, CK, cols, gog + l0, L, B, ldb, true,
                                           gwp + gi * cout_g * CK, CK, 1) < 0)
                            failed = 1;
                    }
                    if (gxg && !failed) { /* gcols [CK, chunk] = W_g^T @ gO[:, chunk], added back into gx */
                        if (direct) {
                            if (mt_sgemm_tiles(true, false, CK, cols, cout_g, wg, CK, gog + l0, L, false, gxg + l0, L,
                                               1) < 0)
                                failed = 1;
                        } else if (mt_sgemm_tiles(true, false, CK, cols, cout_g, wg, CK, gog + l0, L, false, gcol,
                                                  cols, 1) < 0) {
                            failed = 1;
                        } else {
                            col2im_f32(g, gcol, gxg, q0, q1, false);
                        }
                    }
                }
            }
        }
        free(col);
        free(gcol);
    }
    if (gw && !failed) {
        memcpy(gw, partial, sizeof(float) * (size_t)wlen);
        for (int t = 1; t < nt; t++)
            for (int64_t i = 0; i < wlen; i++) gw[i] += partial[t * wlen + i];
    }
    free(partial);
    if (failed) {
        if (mt_err_kind() == MT_ERR_NONE) mt_error(MT_ERR_MEMORY, "convolution: out of memory");
        return -1;
    }
    return 0;
}

/* ---- one input channel per group (depthwise convolutions, and a first layer on 1-channel images) ----
 * Each output plane is a sum of K shifted, scaled copies of its input plane: direct loops over the taps, the
 * innermost one along the last dim (vectorised at unit stride), no GEMM of inner dimension 1. The planes are
 * independent and split over the threads; the weight gradient is one dot product per tap and output channel. */
enum { MAX_DEPTHWISE_TAPS = 64 };
#define DEFINE_DEPTHWISE(T, SFX)                                                                                      \
    static void dw_forward_##SFX(const conv_info *I, const T *x, const T *w, const T *b, T *y) {                     \
        const geom *g = &I->g;                                                                                       \
        const int64_t K = taps(g), L = col_len(g), IMG = img_len(g), Og = I->c_out / I->p.groups;                  \
        const int64_t planes = I->N * I->c_out;                                                                      \
        _Pragma("omp parallel for schedule(static) if (planes * L * K >= 32768)") for (int64_t pl = 0;               \
                                                                                     pl < planes; pl++) {             \
            int64_t n = pl / I->c_out, oc = pl % I->c_out, ic = oc / Og;                                             \
            const T *xp = x + (n * I->c_in + ic) * IMG, *wp = w + oc * K;                                            \
            T *yp = y + pl * L, bv = b ? b[oc] : (T)0;                                                               \
            for (int64_t l = 0; l < L; l++) yp[l] = bv;                                                              \
            for (int64_t t = 0; t < K; t++) {                                                                        \
                int64_t lo[3], hi[3], off[3];                                                                        \
                tap_window(g, t, lo, hi, off);                                                                       \
                const T wt = wp[t];                                                                                  \
                for (int64_t o0 = lo[0]; o0 < hi[0]; o0++)                                                           \
                    for (int64_t o1 = lo[1]; o1 < hi[1]; o1++) {                                                     \
                        T *yr = yp + (o0 * g->col[1] + o1) * g->col[2];                                              \
                        const T *xr = xp + ((o0 * g->s[0] + off[0]) * g->img[1] + o1 * g->s[1] + off[1]) * g->img[2] + \
                                      off[2];                                                                        \
                        if (g->s[2] == 1)                                                                            \
                            for (int64_t o2 = lo[2]; o2 < hi[2]; o2++) yr[o2] += wt * xr[o2];                        \
                        else                                                                                         \
                            for (int64_t o2 = lo[2]; o2 < hi[2]; o2++) yr[o2] += wt * xr[o2 * g->s[2]];              \
                    }                                                                                                \
            }                                                                                                        \
        }                                                                                                            \
    }                                                                                                                \
    static int dw_backward_##SFX(const conv_info *I, const T *x, const T *w, const T *gy, T *gx, T *gw) {            \
        const geom *g = &I->g;                                                                                       \
        const int64_t K = taps(g), L = col_len(g), IMG = img_len(g), Og = I->c_out / I->p.groups;                  \
        if (gx) {                                                                                                    \
            const int64_t planes = I->N * I->c_in;                                                                   \
            _Pragma("omp parallel for schedule(static) if (planes * L * K >= 32768)") for (int64_t pl = 0;           \
                                                                                         pl < planes; pl++) {         \
                int64_t n = pl / I->c_in, ic = pl % I->c_in;                                                         \
                T *xp = gx + pl * IMG;                                                                               \
                memset(xp, 0, sizeof(T) * (size_t)IMG);                                                              \
                for (int64_t o = 0; o < Og; o++) {                                                                   \
                    int64_t oc = ic * Og + o;                                                                        \
                    const T *yp = gy + (n * I->c_out + oc) * L, *wp = w + oc * K;                                    \
                    for (int64_t t = 0; t < K; t++) {                                                                \
                        int64_t lo[3], hi[3], off[3];                                                                \
                        tap_window(g, t, lo, hi, off);                                                               \
                        const T wt = wp[t];                                                                          \
                        for (int64_t o0 = lo[0]; o0 < hi[0]; o0++)                                                   \
                            for (int64_t o1 = lo[1]; o1 < hi[1]; o1++) {                                             \
                                const T *restrict yr = yp + (o0 * g->col[1] + o1) * g->col[2];                       \
                                T *restrict xr = xp + ((o0 * g->s[0] + off[0]) * g->img[1] + o1 * g->s[1] + off[1]) * g->img[2] + \
                                        off[2];                                                                      \
                                if (g->s[2] == 1)                                                                    \
                                    for (int64_t o2 = lo[2]; o2 < hi[2]; o2++) xr[o2] += wt * yr[o2];                \
                                else                                                                                 \
                                    for (int64_t o2 = lo[2]; o2 < hi[2]; o2++) xr[o2 * g->s[2]] += wt * yr[o2];      \
                            }                                                                                        \
                    }                                                                                                \
                }                                                                                                    \
            }                                                                                                        \
        }                                                                                                            \
        if (gw) { /* per output channel: sample by sample (its planes stay in L1), every tap; the products are     \
                     summed per column position first (a vectorised loop), the positions in double at the end */    \
            const int64_t W2 = g->col[2];                                                                            \
            int failed = 0;                                                                                          \
            _Pragma("omp parallel for schedule(static) if (I->c_out * I->N * L * K >= 32768)") for (int64_t oc = 0;  \
                                                                                                oc < I->c_out;        \
                                                                                                oc++) {               \
                int64_t ic = oc / Og;                                                                                \
                T *lanes = (T *)calloc((size_t)(K * W2 > 0 ? K * W2 : 1), sizeof(T));                                \
                if (!lanes) {                                                                                        \
                    failed = 1;                                                                                      \
                    continue;                                                                                        \
                }                                                                                                    \
                for (int64_t n = 0; n < I->N; n++) {                                                                 \
                    const T *yp = gy + (n * I->c_out + oc) * L, *xp = x + (n * I->c_in + ic) * IMG;                  \
                    for (int64_t t = 0; t < K; t++) {                                                                \
                        int64_t lo[3], hi[3], off[3];                                                                \
                        tap_window(g, t, lo, hi, off);                                                               \
                        T *restrict lane = lanes + t * W2;                                                           \
                        for (int64_t o0 = lo[0]; o0 < hi[0]; o0++)                                                   \
                            for (int64_t o1 = lo[1]; o1 < hi[1]; o1++) {                                             \
                                const T *restrict yr = yp + (o0 * g->col[1] + o1) * W2;                              \
                                const T *restrict xr = xp + ((o0 * g->s[0] + off[0]) * g->img[1] + o1 * g->s[1] +    \
                                                             off[1]) * g->img[2] + off[2];                           \
                                if (g->s[2] == 1)                                                                    \
                                    for (int64_t o2 = lo[2]; o2 < hi[2]; o2++) lane[o2] += yr[o2] * xr[o2];          \
                                else                                                                                 \
                                    for (int64_t o2 = lo[2]; o2 < hi[2]; o2++) lane[o2] += yr[o2] * xr[o2 * g->s[2]]; \
                            }                                                                                        \
                    }                                                                                                \
                }                                                                                                    \
                for (int64_t t = 0; t < K; t++) {                                                                    \
                    double acc = 0;                                                                                  \
                    for (int64_t o2 = 0; o2 < W2; o2++) acc += lanes[t * W2 + o2];                                   \
                    gw[oc * K + t] = (T)acc;                                                                         \
                }                                                                                                    \
                free(lanes);                                                                                         \
            }                                                                                                        \
            if (failed) return mt_error(MT_ERR_MEMORY, "convolution: out of memory"), -1;                            \
        }                                                                                                            \
        return 0;                                                                                                    \
    }

DEFINE_DEPTHWISE(float, f32)
DEFINE_DEPTHWISE(double, f64)

static bool use_depthwise(const conv_info *I) {
    return !I->p.transposed && I->g.C == 1 && mt_is_floating(I->dtype) && !is_pointwise(&I->g) &&
           taps(&I->g) <= MAX_DEPTHWISE_TAPS;
}

/* Forward into out (contiguous, zero-filled not required). x, w contiguous of dtype I->dtype. */
static int conv_forward(const conv_info *I, const mt_tensor *x, const mt_tensor *w, const mt_tensor *b,
                        mt_tensor *out) {
    mt_dtype dt = I->dtype;
    size_t es = mt_dtype_sizes[dt];
    const geom *g = &I->g;
    int64_t G = I->p.groups, K = taps(g), L = col_len(g), IMG = img_len(g);
    int64_t in_len = I->in_sp[0] * I->in_sp[1] * I->in_sp[2], out_len = I->out_sp[0] * I->out_sp[1] * I->out_sp[2];
    int64_t cin_g = I->c_in / G, cout_g = I->c_out / G;
    if (use_depthwise(I)) {
        if (dt == MT_FLOAT32)
            dw_forward_f32(I, (const float *)mt_data(x), (const float *)mt_data(w), b ? (const float *)mt_data(b) : NULL,
                           (float *)mt_data(out));
        else
            dw_forward_f64(I, (const double *)mt_data(x), (const double *)mt_data(w),
                           b ? (const double *)mt_data(b) : NULL, (double *)mt_data(out));
        return 0;
    }
    if (use_tiles(I))
        return conv_forward_tiles(I, (const float *)mt_data(x), (const float *)mt_data(w),
                                  b ? (const float *)mt_data(b) : NULL, (float *)mt_data(out));
    bool direct = is_pointwise(g);
    void *col = NULL;
    if (!direct && I->N > 0 && !(col = col_buffer(dt, g->C * K, L))) return -1;
    int rc = 0;
    for (int64_t n = 0; n < I->N && rc == 0; n++)
        for (int64_t gi = 0; gi < G && rc == 0; gi++) {
            const char *xg = byte_ptr(x) + (size_t)((n * I->c_in + gi * cin_g) * in_len) * es;
            char *og = byte_ptr(out) + (size_t)((n * I->c_out + gi * cout_g) * out_len) * es;
            if (!I->p.transposed) { /* out_ng [cout_g, L] = W_g [cout_g, cin_g*K] @ cols [cin_g*K, L] */
                const char *wg = byte_ptr(w) + (size_t)(gi * cout_g * cin_g * K) * es;
                const void *cols = xg;
                if (!direct) {
                    im2col(dt, g, xg, col);
                    cols = col;
                }
                rc = gemm(dt, false, false, cout_g, L, cin_g * K, wg, cin_g * K, cols, L, 0.0, og, L);
            } else { /* out_ng = col2im(W_g^T @ x_ng): W_g [cin_g, cout_g*K], x_ng [cin_g, L] */
                const char *wg = byte_ptr(w) + (size_t)(gi * cin_g * cout_g * K) * es;
                if (direct) {
                    rc = gemm(dt, true, false, cout_g * K, L, cin_g, wg, cout_g * K, xg, L, 0.0, og, L);
                } else {
                    rc = gemm(dt, true, false, cout_g * K, L, cin_g, wg, cout_g * K, xg, L, 0.0, col, L);
                    memset(og, 0, (size_t)(cout_g * IMG) * es);
                    if (rc == 0) col2im(dt, g, col, og);
                }
            }
        }
    free(col);
    if (rc == 0 && b) add_bias(dt, byte_ptr(out), byte_ptr(b), I->N, I->c_out, out_len);
    return rc;
}

/* gx (may be NULL), gw (may be NULL) from go; all contiguous of dtype I->dtype. */
static int conv_backward_kernels(const conv_info *I, const mt_tensor *x, const mt_tensor *w, const mt_tensor *go,
                                 mt_tensor *gx, mt_tensor *gw) {
    mt_dtype dt = I->dtype;
    size_t es = mt_dtype_sizes[dt];
    const geom *g = &I->g;
    int64_t G = I->p.groups, K = taps(g), L = col_len(g), IMG = img_len(g);
    int64_t in_len = I->in_sp[0] * I->in_sp[1] * I->in_sp[2], out_len = I->out_sp[0] * I->out_sp[1] * I->out_sp[2];
    int64_t cin_g = I->c_in / G, cout_g = I->c_out / G;
    if (use_depthwise(I)) {
        if (dt == MT_FLOAT32)
            return dw_backward_f32(I, (const float *)mt_data(x), (const float *)mt_data(w), (const float *)mt_data(go),
                                   gx ? (float *)mt_data(gx) : NULL, gw ? (float *)mt_data(gw) : NULL);
        return dw_backward_f64(I, (const double *)mt_data(x), (const double *)mt_data(w), (const double *)mt_data(go),
                               gx ? (double *)mt_data(gx) : NULL, gw ? (double *)mt_data(gw) : NULL);
    }
    implicit_conv P;
    if (use_tiles(I) && gx && input_grad_implicit(I, &P)) {
        float *wt = flip_swap_weight(I, (const float *)mt_data(w));
        int rc = wt ? implicit_conv_f32(&P, (const float *)mt_data(go), wt, NULL, (float *)mt_data(gx)) : -1;
        free(wt);
        if (rc < 0) return -1;
        gx = NULL;
    }
    bool unit_stride = g->s[0] == 1 && g->s[1] == 1 && g->s[2] == 1;
    if (use_tiles(I) && gw && unit_stride && forward_implicit(I, &P)) {
        if (weight_grad_implicit_f32(&P, (const float *)mt_data(x), (const float *)mt_data(go), (float *)mt_data(gw)) < 0)
            return -1;
        gw = NULL;
    }
    if (!gx && !gw) return 0;
    if (use_tiles(I) && I->N >= mt_num_threads()) /* whole samples per thread */
        return conv_backward_tiles(I, (const float *)mt_data(x), (const float *)mt_data(w),
                                   (const float *)mt_data(go), gx ? (float *)mt_data(gx) : NULL,
                                   gw ? (float *)mt_data(gw) : NULL);
    bool direct = is_pointwise(g);
    if (gw) memset(byte_ptr(gw), 0, (size_t)mt_numel(gw) * es);
    void *col = NULL;
    if (!direct && I->N > 0 && !(col = col_buffer(dt, g->C * K, L))) return -1;
    int rc = 0;
    for (int64_t n = 0; n < I->N && rc == 0; n++)
        for (int64_t gi = 0; gi < G && rc == 0; gi++) {
            size_t xoff = (size_t)((n * I->c_in + gi * cin_g) * in_len) * es;
            size_t ooff = (size_t)((n * I->c_out + gi * cout_g) * out_len) * es;
            const char *xg = byte_ptr(x) + xoff, *gog = byte_ptr(go) + ooff;
            if (!I->p.transposed) {
                size_t woff = (size_t)(gi * cout_g * cin_g * K) * es;
                if (gw) { /* gW_g [cout_g, cin_g*K] += gO_ng [cout_g, L] @ cols^T */
                    const void *cols = xg;
                    if (!direct) {
                        im2col(dt, g, xg, col);
                        cols = col;
                    }
                    rc = gemm(dt, false, true, cout_g, cin_g * K, L, gog, L, cols, L, 1.0, byte_ptr(gw) + woff,
                              cin_g * K);
                }
                if (gx && rc == 0) { /* gx_ng = col2im(W_g^T @ gO_ng) */
                    char *gxg = byte_ptr(gx) + xoff;
                    const char *wg = byte_ptr(w) + woff;
                    if (direct) {
                        rc = gemm(dt, true, false, cin_g * K, L, cout_g, wg, cin_g * K, gog, L, 0.0, gxg, L);
                    } else {
                        rc = gemm(dt, true, false, cin_g * K, L, cout_g, wg, cin_g * K, gog, L, 0.0, col, L);
                        memset(gxg, 0, (size_t)(cin_g * IMG) * es);
                        if (rc == 0) col2im(dt, g, col, gxg);
                    }
                }
            } else {
                size_t woff = (size_t)(gi * cin_g * cout_g * K) * es;
                const void *cols = gog; /* im2col(gO_ng) [cout_g*K, L] */
                if (!direct) {
                    im2col(dt, g, gog, col);
                    cols = col;
                }
                if (gx) /* gx_ng [cin_g, L] = W_g [cin_g, cout_g*K] @ cols */
                    rc = gemm(dt, false, false, cin_g, L, cout_g * K, byte_ptr(w) + woff, cout_g * K, cols, L, 0.0,
                              byte_ptr(gx) + xoff, L);
                if (gw && rc == 0) /* gW_g [cin_g, cout_g*K] += x_ng [cin_g, L] @ cols^T */
                    rc = gemm(dt, false, true, cin_g, cout_g * K, L, xg, L, cols, L, 1.0, byte_ptr(gw) + woff,
                              cout_g * K);
            }
        }
    free(col);
    return rc;
}

/* ---- double backward: the gradients as convolutions (recorded, so differentiable again) ---- */
#define PL mt_pool
/* weight gradient of one group: the correlation of the image-side tensor `img` [N, C, *sp] with the
 * gradient-side `grd` [N, O, *sp'] over the batch: conv(img^T, grd^T) with stride and dilation swapped,
 * cut to the kernel size; [C, O, *k] (img^T is the input, grd^T the weight) */
static mt_tensor *weight_grad_group(const conv_info *I, mt_tensor *img, mt_tensor *grd, const int64_t *k) {
    int nsp = I->p.nsp;
    mt_conv_params q = {.nsp = nsp, .groups = 1};
    for (int i = 0; i < nsp; i++) { q.stride[i] = I->p.dilation[i]; q.dilation[i] = I->p.stride[i]; q.padding[i] = I->p.padding[i]; }
    mt_tensor *r = PL(mt_convolution(PL(mt_transpose(img, 0, 1)), PL(mt_contiguous_ag(PL(mt_transpose(grd, 0, 1)))), NULL, &q));
    for (int i = 0; r && i < nsp; i++) r = PL(mt_narrow(r, 2 + i, 0, k[i]));
    return r;
}

/* conv: gx = conv_transpose(g, w), gw = corr(x, g); transposed conv: gx = conv(g, w), gw = corr(g, x)
 * (per group; cat over groups), gb = g summed over batch and space. New refs in gi. */
static int conv_backward_composed(mt_node *n, const conv_info *I, mt_tensor *x, mt_tensor *w, mt_tensor *g,
                                  mt_tensor **gi) {
    int nsp = I->p.nsp;
    int64_t G = I->p.groups;
    if (mt_node_needs(n, 0)) {
        mt_conv_params q = I->p;
        q.transposed = !I->p.transposed;
        for (int i = 0; i < nsp; i++) {
            /* the output padding that gives back the input's size */
            int64_t full = (g->shape[2 + i] - 1) * q.stride[i] - 2 * q.padding[i] + q.dilation[i] * (w->shape[2 + i] - 1) + 1;
            q.output_padding[i] = q.transposed ? x->shape[2 + i] - full : 0;
        }
        if (!(gi[0] = mt_convolution(g, w, NULL, &q))) return -1;
    }
    if (mt_node_needs(n, 1)) {
        int64_t k[MT_CONV_MAX_SPATIAL];
        for (int i = 0; i < nsp; i++) k[i] = w->shape[2 + i];
        /* the image side is what the kernel slides over: x for conv, g for transposed */
        mt_tensor *img = I->p.transposed ? g : x, *grd = I->p.transposed ? x : g;
        int64_t ci = img->shape[1] / G, co = grd->shape[1] / G;
        mt_tensor *parts[64];
        mt_tensor **pp = G <= 64 ? parts : calloc((size_t)G, sizeof *pp);
        if (!pp) { mt_error(MT_ERR_MEMORY, "out of memory"); return -1; }
        int ok = 0;
        for (int64_t j = 0; j < G && ok == 0; j++) {
            mt_tensor *r = weight_grad_group(I, PL(mt_narrow(img, 1, j * ci, ci)), PL(mt_narrow(grd, 1, j * co, co)), k);
            /* r is [ci, co, *k] of the group; the weight's layout is its transpose, for conv ([O, C/G, *k])
               and for transposed conv ([C_in, O/G, *k], its image side being the output) alike */
            pp[j] = r ? PL(mt_transpose(r, 0, 1)) : NULL;
            if (!pp[j]) ok = -1;
        }
        if (ok == 0 && !(gi[1] = G == 1 ? mt_contiguous_ag(pp[0]) : mt_cat((int)G, pp, 0))) ok = -1;
        if (pp != parts) free(pp);
        if (ok < 0) return -1;
    }
    if (mt_node_needs(n, 2)) {
        int64_t dims[1 + MT_CONV_MAX_SPATIAL] = {0};
        for (int i = 0; i < nsp; i++) dims[1 + i] = 2 + i;
        if (!(gi[2] = mt_reduce(MT_RED_SUM, g, dims, 1 + nsp, false, 0, -1))) return -1;
    }
    return 0;
}
#undef PL

/* saved: 0 input, 1 weight (contiguous, the op's dtype); extra: conv_info */
static int conv_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    const conv_info *I = (const conv_info *)n->extra;
    gi[0] = gi[1] = gi[2] = NULL;
    if (!go[0]) return 0;
    mt_tensor *x = mt_node_saved(n, 0), *w = mt_node_saved(n, 1);
    if (!x || !w) return -1;
    if (mt_create_graph_active) {
        /* the saved input and weight may be copies: give them their inputs' history */
        mt_tensor *gc = mt_cast(go[0], I->dtype);
        mt_tensor *xh = mt_pool(mt_node_input_alias(n, 0, x)), *wh = mt_pool(mt_node_input_alias(n, 1, w));
        int r = gc && xh && wh ? conv_backward_composed(n, I, xh, wh, gc, gi) : -1;
        mt_decref(gc);
        if (r < 0) for (int k = 0; k < 3; k++) { mt_decref(gi[k]); gi[k] = NULL; }
        return r;
    }
    mt_tensor *g = mt_contiguous(go[0]);
    if (!g) return -1;
    mt_tensor *gx = mt_node_needs(n, 0) ? mt_empty(I->in_shape, I->in_ndim, I->dtype, mt_cpu()) : NULL;
    mt_tensor *gw = mt_node_needs(n, 1) ? mt_empty(I->w_shape, I->in_ndim, I->dtype, mt_cpu()) : NULL;
    int64_t bshape[1] = {I->c_out};
    mt_tensor *gb = mt_node_needs(n, 2) ? mt_empty(bshape, 1, I->dtype, mt_cpu()) : NULL;
    int rc = -1;
    if ((mt_node_needs(n, 0) && !gx) || (mt_node_needs(n, 1) && !gw) || (mt_node_needs(n, 2) && !gb)) goto done;
    if ((gx || gw) && conv_backward_kernels(I, x, w, g, gx, gw) < 0) goto done;
    if (gb) bias_grad(I->dtype, byte_ptr(g), byte_ptr(gb), I->N, I->c_out, I->out_sp[0] * I->out_sp[1] * I->out_sp[2]);
    gi[0] = gx;
    gi[1] = gw;
    gi[2] = gb;
    gx = gw = gb = NULL;
    rc = 0;
done:
    mt_decref(g);
    mt_decref(gx);
    mt_decref(gw);
    mt_decref(gb);
    return rc;
}
static void conv_release(mt_node *n) {
    free(n->extra);
    n->extra = NULL;
}
static const mt_node_vt conv_vt = {"ConvolutionBackward0", conv_backward, conv_release, true};

/* "[a, b]" of a parameter list (the first nsp entries) */
static const char *param_str(const int64_t *v, int nsp) { return mt_shape_str(v, nsp); }

static void *check_params(const mt_tensor *input, const mt_tensor *weight, const mt_tensor *bias,
                          const mt_conv_params *p) {
    int nsp = p->nsp;
    for (int i = 0; i < nsp; i++)
        if (p->stride[i] <= 0) return mt_error(MT_ERR_RUNTIME, "non-positive stride is not supported");
    for (int i = 0; i < nsp; i++)
        if (p->padding[i] < 0) return mt_error(MT_ERR_RUNTIME, "negative padding is not supported");
    for (int i = 0; i < nsp; i++)
        if (p->dilation[i] <= 0)
            return mt_error(MT_ERR_RUNTIME, "dilation should be greater than zero, but got %s",
                            param_str(p->dilation, nsp));
    if (p->transposed)
        for (int i = 0; i < nsp; i++)
            if (p->output_padding[i] < 0) return mt_error(MT_ERR_RUNTIME, "negative output_padding is not supported");
    if (p->groups <= 0) return mt_error(MT_ERR_RUNTIME, "non-positive groups is not supported");
    if (input->ndim != nsp + 2 || weight->ndim != nsp + 2)
        return mt_error(MT_ERR_RUNTIME,
                        "Expected %d-dimensional input for %d-dimensional weight %s, but got %d-dimensional input of "
                        "size %s instead",
                        weight->ndim, weight->ndim, mt_shape_str(weight->shape, weight->ndim), input->ndim,
                        mt_shape_str(input->shape, input->ndim));
    const char *wsz = mt_shape_str(weight->shape, weight->ndim);
    if (weight->shape[0] % p->groups != 0)
        return mt_error(MT_ERR_RUNTIME,
                        "Given groups=%lld, expected weight to be divisible by %lld at dimension 0, but got weight of "
                        "size [%s] instead",
                        (long long)p->groups, (long long)p->groups, wsz);
    int64_t C = input->shape[1];
    if (!p->transposed) {
        if (C != weight->shape[1] * p->groups)
            return mt_error(MT_ERR_RUNTIME,
                            "Given groups=%lld, weight of size %s, expected input%s to have %lld channels, but got "
                            "%lld channels instead",
                            (long long)p->groups, wsz, mt_shape_str(input->shape, input->ndim),
                            (long long)(weight->shape[1] * p->groups), (long long)C);
    } else {
        if (C != weight->shape[0])
            return mt_error(MT_ERR_RUNTIME,
                            "Given transposed=1, weight of size %s, expected input%s to have %lld channels, but got "
                            "%lld channels instead",
                            wsz, mt_shape_str(input->shape, input->ndim), (long long)weight->shape[0], (long long)C);
    }
    int64_t c_out = p->transposed ? weight->shape[1] * p->groups : weight->shape[0];
    if (bias && (bias->ndim != 1 || bias->shape[0] != c_out))
        return mt_error(MT_ERR_RUNTIME,
                        "Given weight of size %s, expected bias to be 1-dimensional with %lld elements, but got bias "
                        "of size %s instead",
                        wsz, (long long)c_out, mt_shape_str(bias->shape, bias->ndim));
    if (!p->transposed) {
        bool too_big = false;
        int64_t padded[MT_CONV_MAX_SPATIAL], ks[MT_CONV_MAX_SPATIAL];
        for (int i = 0; i < nsp; i++) {
            padded[i] = input->shape[2 + i] + 2 * p->padding[i];
            ks[i] = p->dilation[i] * (weight->shape[2 + i] - 1) + 1;
            if (padded[i] < ks[i]) too_big = true;
        }
        if (too_big) {
            char a[96] = "", b[96] = "";
            for (int i = 0; i < nsp; i++) {
                size_t la = strlen(a), lb = strlen(b);
                snprintf(a + la, sizeof a - la, "%s%lld", i ? " x " : "", (long long)padded[i]);
                snprintf(b + lb, sizeof b - lb, "%s%lld", i ? " x " : "", (long long)ks[i]);
            }
            return mt_error(MT_ERR_RUNTIME,
                            "Calculated padded input size per channel: (%s). Kernel size: (%s). Kernel size can't be "
                            "greater than actual input size",
                            a, b);
        }
    } else {
        for (int i = 0; i < nsp; i++)
            if (p->output_padding[i] >= p->stride[i] && p->output_padding[i] >= p->dilation[i]) {
                static const char *const names[3][3] = {
                    {"width", "", ""}, {"height", "width", ""}, {"depth", "height", "width"}};
                char msg[512] = "output padding must be smaller than either stride or dilation, but got";
                const char *kinds[3] = {"output_padding", "stride", "dilation"};
                const int64_t *vals[3] = {p->output_padding, p->stride, p->dilation};
                for (int k = 0; k < 3; k++)
                    for (int j = 0; j < nsp; j++) {
                        size_t l = strlen(msg);
                        snprintf(msg + l, sizeof msg - l, " %s_%s: %lld", kinds[k], names[nsp - 1][j],
                                 (long long)vals[k][j]);
                    }
                return mt_error(MT_ERR_RUNTIME, "%s", msg);
            }
    }
    return (void *)1;
}

int mt_convolution_check(mt_tensor *input, mt_tensor *weight, mt_tensor *bias, const mt_conv_params *p) {
    if (!input || !weight) return -1;
    if (p->nsp < 1 || p->nsp > MT_CONV_MAX_SPATIAL) return mt_error(MT_ERR_VALUE, "convolution: nsp must be 1 to 3"), -1;
    if (mt_check_same_device(input, weight) < 0 || (bias && mt_check_same_device(input, bias) < 0)) return -1;
    if (!check_params(input, weight, bias, p)) return -1;
    mt_dtype dt = input->dtype;
    if (weight->dtype != dt)
        return mt_error(MT_ERR_RUNTIME, "expected scalar type %s but found %s", mt_type_name(dt),
                        mt_type_name(weight->dtype)), -1;
    if (bias && bias->dtype != dt)
        return mt_error(MT_ERR_RUNTIME, "Input type (%s) and bias type (%s) should be the same", c_type_name(dt),
                        c_type_name(bias->dtype)), -1;
    if (dt == MT_BOOL)
        return mt_error(MT_ERR_NOTIMPL, "\"slow_conv%s%dd_cpu\" not implemented for 'Bool'",
                        p->transposed ? "_transpose" : "", p->nsp == 1 ? 2 : p->nsp), -1;
    if (mt_check_wide(p->transposed ? "conv_transpose" : "convolution", dt) < 0) return -1;
    int64_t out_sp[MT_CONV_MAX_SPATIAL];
    bool small = false;
    for (int j = 0; j < p->nsp; j++) {
        int64_t in = input->shape[2 + j], k = weight->shape[2 + j], s = p->stride[j], pd = p->padding[j];
        int64_t d = p->dilation[j];
        out_sp[j] = p->transposed ? (in - 1) * s - 2 * pd + d * (k - 1) + p->output_padding[j] + 1
                                  : (in + 2 * pd - d * (k - 1) - 1) / s + 1;
        if (out_sp[j] <= 0) small = true;
    }
    if (small)
        return mt_error(MT_ERR_RUNTIME, "Given input size per channel %s, calculated output size %s is too small",
                        mt_shape_str(input->shape + 2, p->nsp), mt_shape_str(out_sp, p->nsp)), -1;
    return 0;
}

mt_tensor *mt_convolution(mt_tensor *input, mt_tensor *weight, mt_tensor *bias, const mt_conv_params *p) {
    if (mt_convolution_check(input, weight, bias, p) < 0) return NULL;
    if (input->storage->device.type != MT_CPU)
        return mt_error(MT_ERR_NOTIMPL, "convolution: the C kernels run on CPU tensors (the Python layer composes "
                                        "the CUDA form)");
    mt_dtype dt = input->dtype;

    conv_info *I = (conv_info *)calloc(1, sizeof *I);
    if (!I) return mt_error(MT_ERR_MEMORY, "convolution: out of memory");
    I->p = *p;
    I->dtype = dt;
    I->N = input->shape[0];
    I->c_in = input->shape[1];
    I->c_out = p->transposed ? weight->shape[1] * p->groups : weight->shape[0];
    I->in_ndim = input->ndim;
    memcpy(I->in_shape, input->shape, sizeof(int64_t) * (size_t)input->ndim);
    memcpy(I->w_shape, weight->shape, sizeof(int64_t) * (size_t)weight->ndim);
    I->has_bias = bias != NULL;
    int lead = 3 - p->nsp;
    int64_t out_shape[MT_MAX_DIMS] = {I->N, I->c_out};
    for (int i = 0; i < 3; i++) {
        int j = i - lead; /* index into the op's spatial dims, < 0 for a unit dim in front */
        int64_t in = j >= 0 ? input->shape[2 + j] : 1, k = j >= 0 ? weight->shape[2 + j] : 1;
        int64_t s = j >= 0 ? p->stride[j] : 1, pd = j >= 0 ? p->padding[j] : 0, d = j >= 0 ? p->dilation[j] : 1;
        int64_t out = p->transposed ? (in - 1) * s - 2 * pd + d * (k - 1) + (j >= 0 ? p->output_padding[j] : 0) + 1
                                    : (in + 2 * pd - d * (k - 1) - 1) / s + 1;
        I->in_sp[i] = in;
        I->out_sp[i] = out;
        I->g.k[i] = k;
        I->g.s[i] = s;
        I->g.p[i] = pd;
        I->g.d[i] = d;
        I->g.img[i] = p->transposed ? out : in;
        I->g.col[i] = p->transposed ? in : out;
        if (j >= 0) out_shape[2 + j] = out;
    }
    I->g.C = p->transposed ? I->c_out / p->groups : I->c_in / p->groups;

    mt_tensor *xc = mt_contiguous(input), *wc = mt_contiguous(weight), *bc = bias ? mt_contiguous(bias) : NULL;
    mt_tensor *out = NULL, *res = NULL;
    if (!xc || !wc || (bias && !bc)) goto done;
    if (!(out = mt_empty(out_shape, input->ndim, dt, mt_cpu()))) goto done;
    if (conv_forward(I, xc, wc, bc, out) < 0) goto done;
    {
        mt_tensor *ins[3] = {input, weight, bias};
        mt_node *node = mt_autograd_record(&conv_vt, out, 3, ins);
        if (node) {
            node->extra = I;
            I = NULL;
            mt_node_save(node, 0, xc, false);
            mt_node_save(node, 1, wc, false);
        }
    }
    res = mt_incref(out);
done:
    free(I);
    mt_decref(xc);
    mt_decref(wc);
    mt_decref(bc);
    mt_decref(out);
    return res;
}

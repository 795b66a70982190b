/*
 * test_philox.c - standalone checks for philox.h / random.c (not part of the
 * library build).  From the repository root:
 *
 *   gcc -O2 -std=c11 -Wall -Wextra -fopenmp -Icsrc/core csrc/core/test_philox.c \
 *       csrc/core/random.c -lm -o /tmp/test_philox && /tmp/test_philox
 *
 * Exits non-zero if any check fails.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "philox.h"
#include "random.h"

static int g_failures = 0;

#define CHECK(cond, ...)                                        \
    do {                                                        \
        if (!(cond)) {                                          \
            ++g_failures;                                       \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                       \
            fputc('\n', stderr);                                \
        }                                                       \
    } while (0)

/* Bitwise equality, so -0.0 vs 0.0 or any rounding difference is caught. */
static int same_f32(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }
static int same_f64(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Known-answer tests: Random123 examples/kat_vectors, "philox4x32 10" lines
 * (columns: ctr[4] key[2] -> out[4]). */
static void test_kat(void) {
    static const uint32_t kat[3][10] = {
        {0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
         0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
         0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
         0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
    };
    for (int t = 0; t < 3; ++t) {
        uint32_t out[4];
        mt_philox4x32_10(kat[t], kat[t] + 4, out);
        for (int k = 0; k < 4; ++k)
            CHECK(out[k] == kat[t][6 + k], "KAT %d word %d: got %08" PRIx32 " want %08" PRIx32, t,
                  k, out[k], kat[t][6 + k]);
    }
}

/* The counter layout promised in philox.h, checked against the raw block
 * function (seed and offset with non-zero high halves so the hi words matter). */
static void test_layout(void) {
    const uint64_t seed = UINT64_C(0x0123456789abcdef);
    const uint64_t off = UINT64_C(0x00000005fffffffe); /* crosses a 32-bit carry */
    for (uint64_t i = 0; i < 64; ++i) {
        uint32_t w[4];
        const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};

        uint64_t blk = off + i / 4;
        uint32_t ctr4[4] = {(uint32_t)blk, (uint32_t)(blk >> 32), 0, 0};
        mt_philox4x32_10(ctr4, key, w);
        float uf = (float)(w[i % 4] >> 8) / 16777216.0f;
        CHECK(same_f32(mt_philox_uniform_f32(seed, off, i), uf), "layout uniform_f32 i=%d", (int)i);
        unsigned p = (unsigned)(i % 4) / 2;
        double u1 = ((double)w[2 * p] + 1.0) / 4294967296.0, u2 = (double)w[2 * p + 1] / 4294967296.0;
        double r = sqrt(-2.0 * log(u1)), th = 6.283185307179586 * u2;
        double zf = (i & 1) ? r * sin(th) : r * cos(th);
        CHECK(same_f64(mt_philox_normal_f32(seed, off, i), zf), "layout normal_f32 i=%d", (int)i);

        blk = off + i / 2;
        uint32_t ctr2[4] = {(uint32_t)blk, (uint32_t)(blk >> 32), 0, 0};
        mt_philox4x32_10(ctr2, key, w);
        unsigned k = (unsigned)(i % 2) * 2;
        uint64_t x = ((uint64_t)w[k + 1] << 32) | w[k];
        CHECK(mt_philox_u64(seed, off, i) == x, "layout u64 i=%d", (int)i);
        CHECK(same_f64(mt_philox_uniform_f64(seed, off, i), (double)(x >> 11) / 9007199254740992.0),
              "layout uniform_f64 i=%d", (int)i);
        uint64_t a = ((uint64_t)w[1] << 32) | w[0], c = ((uint64_t)w[3] << 32) | w[2];
        double v1 = (double)((a >> 11) + 1) / 9007199254740992.0, v2 = (double)(c >> 11) / 9007199254740992.0;
        r = sqrt(-2.0 * log(v1));
        th = 6.283185307179586 * v2;
        double zd = (i & 1) ? r * sin(th) : r * cos(th);
        CHECK(same_f64(mt_philox_normal_f64(seed, off, i), zd), "layout normal_f64 i=%d", (int)i);
    }
    CHECK(mt_philox_blocks_f32(0) == 0 && mt_philox_blocks_f32(1) == 1 &&
              mt_philox_blocks_f32(4) == 1 && mt_philox_blocks_f32(5) == 2,
          "blocks_f32");
    CHECK(mt_philox_blocks_f64(0) == 0 && mt_philox_blocks_f64(1) == 1 &&
              mt_philox_blocks_f64(2) == 1 && mt_philox_blocks_f64(3) == 2 &&
              mt_philox_blocks_u64(3) == 2,
          "blocks_f64/u64");
}

/* Bulk fills must equal the per-element functions at every index, for odd
 * sizes, non-zero offsets and sizes large enough to take the OpenMP path. */
static void test_fill_matches_elementwise(void) {
    static const int64_t sizes[] = {0, 1, 2, 3, 4, 5, 6, 7, 13, 1000, 200003};
    mt_generator g;
    mt_manual_seed(&g, UINT64_C(0xdeadbeefcafef00d));
    g.offset = UINT64_C(0xfffffffffffffff0) - 3; /* also exercises 64-bit wrap */
    const int64_t maxn = 200003;
    float *f = malloc(sizeof(float) * (size_t)maxn);
    double *d = malloc(sizeof(double) * (size_t)maxn);
    int64_t *q = malloc(sizeof(int64_t) * (size_t)maxn);
    if (!f || !d || !q) { fprintf(stderr, "oom\n"); exit(2); }

    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s) {
        const int64_t n = sizes[s];
        int bad;
        uint64_t st, before;

        before = g.offset;
        st = mt_fill_uniform_f32(&g, f, n, -2.5, 7.0);
        CHECK(st == before && g.offset == before + mt_philox_blocks_f32(n), "uniform_f32 offset n=%d", (int)n);
        bad = 0;
        for (int64_t i = 0; i < n; ++i)
            bad += !same_f32(f[i], mt_philox_elem_uniform_f32(g.seed, st, (uint64_t)i, -2.5, 7.0));
        CHECK(bad == 0, "uniform_f32 fill != elementwise at %d of %d", bad, (int)n);

        before = g.offset;
        st = mt_fill_uniform_f64(&g, d, n, -1.0, 3.0);
        CHECK(st == before && g.offset == before + mt_philox_blocks_f64(n), "uniform_f64 offset n=%d", (int)n);
        bad = 0;
        for (int64_t i = 0; i < n; ++i)
            bad += !same_f64(d[i], mt_philox_elem_uniform_f64(g.seed, st, (uint64_t)i, -1.0, 3.0));
        CHECK(bad == 0, "uniform_f64 fill != elementwise at %d of %d", bad, (int)n);

        before = g.offset;
        st = mt_fill_normal_f32(&g, f, n, 1.5, 0.25);
        CHECK(st == before && g.offset == before + mt_philox_blocks_f32(n), "normal_f32 offset n=%d", (int)n);
        bad = 0;
        for (int64_t i = 0; i < n; ++i)
            bad += !same_f32(f[i], mt_philox_elem_normal_f32(g.seed, st, (uint64_t)i, 1.5, 0.25));
        CHECK(bad == 0, "normal_f32 fill != elementwise at %d of %d", bad, (int)n);

        before = g.offset;
        st = mt_fill_normal_f64(&g, d, n, -3.0, 2.0);
        CHECK(st == before && g.offset == before + mt_philox_blocks_f64(n), "normal_f64 offset n=%d", (int)n);
        bad = 0;
        for (int64_t i = 0; i < n; ++i)
            bad += !same_f64(d[i], mt_philox_elem_normal_f64(g.seed, st, (uint64_t)i, -3.0, 2.0));
        CHECK(bad == 0, "normal_f64 fill != elementwise at %d of %d", bad, (int)n);

        before = g.offset;
        st = mt_fill_randint_i64(&g, q, n, -1000, 123457);
        CHECK(st == before && g.offset == before + mt_philox_blocks_u64(n), "randint offset n=%d", (int)n);
        bad = 0;
        for (int64_t i = 0; i < n; ++i)
            bad += q[i] != mt_philox_elem_randint_i64(g.seed, st, (uint64_t)i, -1000, 123457);
        CHECK(bad == 0, "randint fill != elementwise at %d of %d", bad, (int)n);
    }
    free(f);
    free(d);
    free(q);
}

/* Consecutive fills use disjoint counter ranges and reseeding replays them. */
static void test_no_overlap(void) {
    mt_generator g;
    mt_manual_seed(&g, 42);
    CHECK(g.seed == 42 && g.offset == 0, "manual_seed");
    float a[5], b[4];
    uint64_t sa = mt_fill_uniform_f32(&g, a, 5, 0.0, 1.0); /* blocks [0,2) */
    uint64_t sb = mt_fill_uniform_f32(&g, b, 4, 0.0, 1.0); /* blocks [2,3) */
    CHECK(sa == 0 && sb == 2 && g.offset == 3, "offsets %d %d %d", (int)sa, (int)sb, (int)g.offset);
    CHECK(sa + mt_philox_blocks_f32(5) <= sb, "fills overlap");
    /* b must not reuse the unused tail words of a's last block. */
    for (int i = 0; i < 4; ++i)
        CHECK(!same_f32(b[i], mt_philox_uniform_f32(42, 0, 5 + (uint64_t)i)) || b[i] != b[i],
              "b[%d] reused a's block", i);
    int64_t r1[3], r2[3];
    uint64_t s1 = mt_fill_randint_i64(&g, r1, 3, INT64_MIN, INT64_MAX);
    uint64_t s2 = mt_fill_randint_i64(&g, r2, 3, INT64_MIN, INT64_MAX);
    CHECK(s1 == 3 && s2 == 5 && g.offset == 7, "randint offsets");
    int dup = 0;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) dup += r1[i] == r2[j];
    CHECK(dup == 0, "randint draws repeated across fills");
    double d1[3];
    uint64_t s3 = mt_fill_normal_f64(&g, d1, 3, 0.0, 1.0);
    CHECK(s3 == 7 && g.offset == 9, "normal_f64 offsets");

    /* Replay after reseed. */
    float a2[5];
    mt_manual_seed(&g, 42);
    mt_fill_uniform_f32(&g, a2, 5, 0.0, 1.0);
    CHECK(memcmp(a, a2, sizeof a) == 0, "reseed does not replay");
    mt_manual_seed(&g, 43);
    mt_fill_uniform_f32(&g, a2, 5, 0.0, 1.0);
    CHECK(memcmp(a, a2, sizeof a) != 0, "different seeds gave the same stream");

    /* Empty / invalid draws leave the stream alone. */
    uint64_t off = g.offset;
    mt_fill_normal_f32(&g, NULL, 0, 0.0, 1.0);
    mt_fill_randint_i64(&g, r1, 3, 5, 5);
    CHECK(g.offset == off, "empty draws advanced the offset");
}

static void test_default_generators(void) {
    mt_generator *cpu = mt_default_generator(0), *cuda = mt_default_generator(1);
    CHECK(cpu && cuda && cpu != cuda, "default generators");
    CHECK(cpu && cpu->seed == UINT64_C(67280421310721) && cpu->offset == 0, "cpu default seed");
    CHECK(cuda && cuda->seed == UINT64_C(67280421310721), "cuda default seed");
    CHECK(mt_default_generator(2) == NULL && mt_default_generator(-1) == NULL, "bad device type");
}

static void moments_f32(const float *x, int64_t n, double *mean, double *var) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; ++i) s += x[i];
    *mean = s / (double)n;
    for (int64_t i = 0; i < n; ++i) s2 += (x[i] - *mean) * (x[i] - *mean);
    *var = s2 / (double)(n - 1);
}
static void moments_f64(const double *x, int64_t n, double *mean, double *var) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; ++i) s += x[i];
    *mean = s / (double)n;
    for (int64_t i = 0; i < n; ++i) s2 += (x[i] - *mean) * (x[i] - *mean);
    *var = s2 / (double)(n - 1);
}

/* Tolerances are >= 6 standard errors of the estimates at n = 1e6. */
static void test_statistics(void) {
    const int64_t n = 1000000;
    float *f = malloc(sizeof(float) * (size_t)n);
    double *d = malloc(sizeof(double) * (size_t)n);
    int64_t *q = malloc(sizeof(int64_t) * (size_t)n);
    if (!f || !d || !q) { fprintf(stderr, "oom\n"); exit(2); }
    mt_generator g;
    mt_manual_seed(&g, 123);
    double m, v;

    mt_fill_uniform_f32(&g, f, n, 0.0, 1.0);
    moments_f32(f, n, &m, &v);
    CHECK(fabs(m - 0.5) < 2e-3 && fabs(v - 1.0 / 12) < 5e-4, "uniform_f32 mean %g var %g", m, v);
    int out_of_range = 0;
    for (int64_t i = 0; i < n; ++i) out_of_range += !(f[i] >= 0.0f && f[i] < 1.0f);
    CHECK(out_of_range == 0, "uniform_f32 outside [0,1): %d", out_of_range);

    mt_fill_uniform_f64(&g, d, n, 0.0, 1.0);
    moments_f64(d, n, &m, &v);
    CHECK(fabs(m - 0.5) < 2e-3 && fabs(v - 1.0 / 12) < 5e-4, "uniform_f64 mean %g var %g", m, v);

    mt_fill_uniform_f64(&g, d, n, -3.0, 5.0);
    out_of_range = 0;
    for (int64_t i = 0; i < n; ++i) out_of_range += !(d[i] >= -3.0 && d[i] < 5.0);
    CHECK(out_of_range == 0, "uniform_f64 outside [-3,5): %d", out_of_range);
    moments_f64(d, n, &m, &v);
    CHECK(fabs(m - 1.0) < 2e-2 && fabs(v - 64.0 / 12) < 3e-2, "uniform_f64(-3,5) mean %g var %g", m, v);

    /* Ranges so narrow that low + range*u rounds onto high: must be clamped. */
    const float hi32 = nextafterf(1.0f, 2.0f);
    mt_fill_uniform_f32(&g, f, n, 1.0, (double)hi32);
    out_of_range = 0;
    for (int64_t i = 0; i < n; ++i) out_of_range += !(f[i] >= 1.0f && f[i] < hi32);
    CHECK(out_of_range == 0, "uniform_f32 narrow range not clamped: %d", out_of_range);
    const double hi64 = nextafter(1.0, 2.0);
    mt_fill_uniform_f64(&g, d, n, 1.0, hi64);
    out_of_range = 0;
    for (int64_t i = 0; i < n; ++i) out_of_range += !(d[i] >= 1.0 && d[i] < hi64);
    CHECK(out_of_range == 0, "uniform_f64 narrow range not clamped: %d", out_of_range);

    mt_fill_normal_f32(&g, f, n, 0.0, 1.0);
    moments_f32(f, n, &m, &v);
    CHECK(fabs(m) < 6e-3 && fabs(sqrt(v) - 1.0) < 5e-3, "normal_f32 mean %g std %g", m, sqrt(v));
    int within1 = 0, finite = 0;
    for (int64_t i = 0; i < n; ++i) {
        within1 += fabsf(f[i]) < 1.0f;
        finite += isfinite(f[i]) != 0;
    }
    CHECK(finite == n, "normal_f32 non-finite values");
    CHECK(fabs(within1 / (double)n - 0.682689) < 3e-3, "normal_f32 P(|z|<1) = %g", within1 / (double)n);

    mt_fill_normal_f64(&g, d, n, 0.0, 1.0);
    moments_f64(d, n, &m, &v);
    CHECK(fabs(m) < 6e-3 && fabs(sqrt(v) - 1.0) < 5e-3, "normal_f64 mean %g std %g", m, sqrt(v));
    within1 = 0;
    for (int64_t i = 0; i < n; ++i) within1 += fabs(d[i]) < 1.0;
    CHECK(fabs(within1 / (double)n - 0.682689) < 3e-3, "normal_f64 P(|z|<1) = %g", within1 / (double)n);

    mt_fill_normal_f64(&g, d, n, 10.0, 3.0);
    moments_f64(d, n, &m, &v);
    CHECK(fabs(m - 10.0) < 2e-2 && fabs(sqrt(v) - 3.0) < 2e-2, "normal_f64(10,3) mean %g std %g", m, sqrt(v));

    /* randint: stays in [low, high), hits every value, roughly uniform. */
    long counts[7] = {0};
    mt_fill_randint_i64(&g, q, n, -3, 4);
    out_of_range = 0;
    for (int64_t i = 0; i < n; ++i) {
        if (q[i] < -3 || q[i] >= 4) ++out_of_range;
        else ++counts[q[i] + 3];
    }
    CHECK(out_of_range == 0, "randint outside [-3,4): %d", out_of_range);
    for (int k = 0; k < 7; ++k)
        CHECK(labs(counts[k] - n / 7) < 2500, "randint value %d count %ld", k - 3, counts[k]);
    mt_fill_randint_i64(&g, q, 1000, 5, 6);
    out_of_range = 0;
    for (int i = 0; i < 1000; ++i) out_of_range += q[i] != 5;
    CHECK(out_of_range == 0, "randint [5,6) not constant");
    mt_fill_randint_i64(&g, q, n, INT64_MIN, INT64_MAX);
    int neg = 0;
    out_of_range = 0;
    for (int64_t i = 0; i < n; ++i) {
        neg += q[i] < 0;
        out_of_range += q[i] == INT64_MAX;
    }
    CHECK(out_of_range == 0 && abs(neg - (int)(n / 2)) < 3000, "randint full range: neg %d", neg);

    free(f);
    free(d);
    free(q);
}

static int is_permutation(const int64_t *p, int64_t n) {
    char *seen = calloc((size_t)n + 1, 1);
    int ok = seen != NULL;
    for (int64_t i = 0; ok && i < n; ++i) {
        if (p[i] < 0 || p[i] >= n || seen[p[i]]) ok = 0;
        else seen[p[i]] = 1;
    }
    free(seen);
    return ok;
}

static void test_randperm(void) {
    mt_generator g;
    mt_manual_seed(&g, 7);
    int64_t small[2] = {-1, -1};
    mt_randperm_i64(&g, small, 0);
    mt_randperm_i64(&g, small, 1);
    CHECK(small[0] == 0 && g.offset == 0, "randperm n<=1");

    const int64_t n = 100001;
    int64_t *a = malloc(sizeof(int64_t) * (size_t)n), *b = malloc(sizeof(int64_t) * (size_t)n);
    if (!a || !b) { fprintf(stderr, "oom\n"); exit(2); }
    mt_randperm_i64(&g, a, n);
    CHECK(g.offset == mt_philox_blocks_u64(n - 1), "randperm offset %" PRIu64, g.offset);
    CHECK(is_permutation(a, n), "randperm not a permutation");
    int fixed = 0;
    for (int64_t i = 0; i < n; ++i) fixed += a[i] == i;
    CHECK(fixed < 20, "randperm has %d fixed points (expected ~1)", fixed);
    mt_randperm_i64(&g, b, n);
    CHECK(is_permutation(b, n) && memcmp(a, b, sizeof(int64_t) * (size_t)n) != 0,
          "second randperm equals the first");
    mt_manual_seed(&g, 7);
    mt_randperm_i64(&g, b, n);
    CHECK(memcmp(a, b, sizeof(int64_t) * (size_t)n) == 0, "randperm not reproducible");

    /* Reference Fisher-Yates from the per-element u64 draws. */
    for (int64_t i = 0; i < n; ++i) b[i] = i;
    for (int64_t k = 0; k < n - 1; ++k) {
        int64_t i = n - 1 - k, j = (int64_t)(mt_philox_u64(7, 0, (uint64_t)k) % (uint64_t)(i + 1));
        int64_t t = b[i];
        b[i] = b[j];
        b[j] = t;
    }
    CHECK(memcmp(a, b, sizeof(int64_t) * (size_t)n) == 0, "randperm != documented Fisher-Yates");

    /* All 6 permutations of 3 elements appear with ~equal frequency. */
    long counts[6] = {0};
    for (int t = 0; t < 60000; ++t) {
        int64_t p[3];
        mt_randperm_i64(&g, p, 3);
        CHECK(is_permutation(p, 3), "randperm(3)");
        counts[p[0] * 2 + (p[1] > p[2])]++;
    }
    for (int k = 0; k < 6; ++k) CHECK(labs(counts[k] - 10000) < 600, "randperm(3) bucket %d: %ld", k, counts[k]);
    free(a);
    free(b);
}

int main(void) {
    test_kat();
    test_layout();
    test_fill_matches_elementwise();
    test_no_overlap();
    test_default_generators();
    test_statistics();
    test_randperm();
    if (g_failures) {
        fprintf(stderr, "test_philox: %d check(s) failed\n", g_failures);
        return 1;
    }
    printf("test_philox: all checks passed\n");
    return 0;
}

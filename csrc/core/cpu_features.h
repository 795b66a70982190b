/* CPU features chosen at run time, header-only (the standalone Philox check links random.c alone). */
#ifndef MT_CPU_FEATURES_H
#define MT_CPU_FEATURES_H

/* whether the CPU has AVX-512F and FMA: the AVX-512 paths of the random fills, the register tiles
 * (ops/tiles_avx512.c) and the LSTM time loops (ops/rnn_cpu.c) */
static inline int mt_have_avx512(void) {
#if defined(__GNUC__) && defined(__x86_64__)
    static int have = -1;
    if (have < 0) {
        __builtin_cpu_init();
        have = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    }
    return have;
#else
    return 0;
#endif
}

#endif

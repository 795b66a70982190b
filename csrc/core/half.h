/* float16 and bfloat16 <-> float32, bit for bit as PyTorch's c10::Half and c10::BFloat16 convert
 * (round to nearest even; NaN stays NaN). Plain C on the bits, so no compiler or CPU feature
 * (_Float16, F16C) is needed; the float16 pair is the branch-free method of the FP16 library that
 * c10/util/Half.h uses too. */
#ifndef MT_HALF_H
#define MT_HALF_H

#include <stdint.h>
#include <string.h>

static inline uint32_t mt_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float mt_f32_from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static inline float mt_f16_to_f32(uint16_t h) {
    uint32_t w = (uint32_t)h << 16, sign = w & 0x80000000u, two_w = w + w;
    /* normal numbers: move the exponent and mantissa into place and rescale the exponent bias */
    float normalized = mt_f32_from_bits((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
    /* subnormals: the mantissa as the low bits of 0.5's mantissa, minus 0.5 */
    float denormalized = mt_f32_from_bits((two_w >> 17) | (126u << 23)) - 0.5f;
    uint32_t r = sign | (two_w < (1u << 27) ? mt_f32_bits(denormalized) : mt_f32_bits(normalized));
    return mt_f32_from_bits(r);
}

static inline uint16_t mt_f32_to_f16(float f) {
    /* scaling up then down rounds the mantissa to float16's width in float arithmetic (and
       overflows to infinity where float16 does) */
    float base = ((f < 0 ? -f : f) * 0x1.0p+112f) * 0x1.0p-110f;
    uint32_t w = mt_f32_bits(f), shl1_w = w + w, sign = w & 0x80000000u;
    uint32_t bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    base = mt_f32_from_bits((bias >> 1) + 0x07800000u) + base;
    uint32_t bits = mt_f32_bits(base);
    uint32_t nonsign = ((bits >> 13) & 0x00007C00u) + (bits & 0x00000FFFu);
    return (uint16_t)((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

static inline float mt_bf16_to_f32(uint16_t b) { return mt_f32_from_bits((uint32_t)b << 16); }

static inline uint16_t mt_f32_to_bf16(float f) {
    if (f != f) return 0x7FC0; /* NaN */
    uint32_t u = mt_f32_bits(f);
    u += 0x7FFFu + ((u >> 16) & 1u); /* round to nearest, ties to even */
    return (uint16_t)(u >> 16);
}

#endif

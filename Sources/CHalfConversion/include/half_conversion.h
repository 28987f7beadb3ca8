/* Row conversions between the 16-bit formats and float32 for the kernels of ResonanceRopeCore,
 * compiled for instruction sets that baseline x86-64 lacks and used only when the CPU and the OS
 * report them (checked at run time):
 *   IEEE half (binary16) with F16C (vcvtph2ps; vcvtps2ph rounding to nearest even);
 *   bfloat16 with AVX2 (integer widening; rounding to nearest even on the dropped 16 bits).
 * Otherwise the kernel converts in software with the same results (NaN payloads aside: NaN stays
 * a quiet NaN either way). Not exported from the library (hidden, and the version script keeps
 * only rr_*). */
#ifndef RESONANCE_ROPE_HALF_CONVERSION_H
#define RESONANCE_ROPE_HALF_CONVERSION_H

#include <stdint.h>

#define RESONANCE_ROPE_HIDDEN __attribute__((visibility("hidden")))

/* 1 when the CPU has F16C and AVX and the OS saves the AVX state, else 0 (also on non-x86). */
RESONANCE_ROPE_HIDDEN int resonance_rope_f16c_available(void);

/* dst[i] = (float)src[i] for i < n: exact. Only when resonance_rope_f16c_available(). */
RESONANCE_ROPE_HIDDEN void resonance_rope_f16c_widen(const uint16_t *src, float *dst, long n);

/* dst[i] = src[i] rounded to half, to nearest with ties to even (overflow to infinity, NaN to a
 * quiet NaN) for i < n. Only when resonance_rope_f16c_available(). */
RESONANCE_ROPE_HIDDEN void resonance_rope_f16c_narrow(const float *src, uint16_t *dst, long n);

/* 1 when the CPU has AVX2 and the OS saves the AVX state, else 0 (also on non-x86). */
RESONANCE_ROPE_HIDDEN int resonance_rope_avx2_available(void);

/* dst[i] = the float32 whose upper 16 bits are src[i], for i < n: exact. Only when
 * resonance_rope_avx2_available(). */
RESONANCE_ROPE_HIDDEN void resonance_rope_bf16_widen(const uint16_t *src, float *dst, long n);

/* dst[i] = src[i] rounded to bfloat16, to nearest with ties to even (a carry into the exponent
 * is the correct rounding, FLT_MAX becomes infinity), NaN kept quiet (bit 6 set), for i < n.
 * Only when resonance_rope_avx2_available(). */
RESONANCE_ROPE_HIDDEN void resonance_rope_bf16_narrow(const float *src, uint16_t *dst, long n);

#endif

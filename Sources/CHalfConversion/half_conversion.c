/* See include/half_conversion.h. */
#include "half_conversion.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>

/* CPUID.1:ECX has AVX, OSXSAVE and `extra`, and XCR0 says the OS saves SSE and AVX state. */
static int avx_with(unsigned extra) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned need = (1u << 27) | (1u << 28) | extra; /* OSXSAVE, AVX */
    if ((c & need) != need) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    return (lo & 6u) == 6u;
}

int resonance_rope_f16c_available(void) { return avx_with(1u << 29); }

/* The last n - i (< width) elements of a conversion `fn` of width-element blocks: through
 * zero-padded copies, so nothing past n is read or written. */
#define CONVERT_TAIL(fn, in_type, out_type, width)                              \
    if (i < n) {                                                                \
        in_type in[width] = {0};                                                \
        out_type out[width];                                                    \
        memcpy(in, src + i, (size_t)(n - i) * sizeof *in);                      \
        fn(in, out, width);                                                     \
        memcpy(dst + i, out, (size_t)(n - i) * sizeof *out);                    \
    }

int resonance_rope_avx2_available(void) {
    unsigned a, b, c, d;
    if (!avx_with(0) || __get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b >> 5) & 1u;
}

__attribute__((target("avx,f16c")))
void resonance_rope_f16c_widen(const uint16_t *src, float *dst, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(src + i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    }
    CONVERT_TAIL(resonance_rope_f16c_widen, uint16_t, float, 8)
}

__attribute__((target("avx,f16c")))
void resonance_rope_f16c_narrow(const float *src, uint16_t *dst, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(dst + i), h);
    }
    CONVERT_TAIL(resonance_rope_f16c_narrow, float, uint16_t, 8)
}

__attribute__((target("avx2")))
static inline __m256 bf16_widen8(__m128i h) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* Eight floats to bfloat16 in the low 16 bits of each 32-bit lane. */
__attribute__((target("avx2")))
static inline __m256i bf16_narrow8(__m256 v) {
    __m256i f = _mm256_castps_si256(v);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(f, 16), _mm256_set1_epi32(1));
    __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(f, _mm256_set1_epi32(0x7FFF)), lsb), 16);
    __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(f, 16), _mm256_set1_epi32(0x0040));
    __m256i abs = _mm256_and_si256(f, _mm256_set1_epi32(0x7FFFFFFF));
    __m256i nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7F800000)); /* abs < 2^31: signed compare is fine */
    return _mm256_blendv_epi8(rounded, quiet, nan);
}

__attribute__((target("avx2")))
void resonance_rope_bf16_widen(const uint16_t *src, float *dst, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, bf16_widen8(_mm_loadu_si128((const __m128i *)(src + i))));
    CONVERT_TAIL(resonance_rope_bf16_widen, uint16_t, float, 8)
}

__attribute__((target("avx2")))
void resonance_rope_bf16_narrow(const float *src, uint16_t *dst, long n) {
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i a = bf16_narrow8(_mm256_loadu_ps(src + i)), b = bf16_narrow8(_mm256_loadu_ps(src + i + 8));
        /* packus works per 128-bit lane: (a0 b0 a1 b1) -> reorder to (a0 a1 b0 b1). */
        __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8);
        _mm256_storeu_si256((__m256i *)(dst + i), packed);
    }
    CONVERT_TAIL(resonance_rope_bf16_narrow, float, uint16_t, 16)
}

#else

int resonance_rope_f16c_available(void) { return 0; }
int resonance_rope_avx2_available(void) { return 0; }
void resonance_rope_bf16_widen(const uint16_t *src, float *dst, long n) { (void)src; (void)dst; (void)n; }
void resonance_rope_bf16_narrow(const float *src, uint16_t *dst, long n) { (void)src; (void)dst; (void)n; }
void resonance_rope_f16c_widen(const uint16_t *src, float *dst, long n) { (void)src; (void)dst; (void)n; }
void resonance_rope_f16c_narrow(const float *src, uint16_t *dst, long n) { (void)src; (void)dst; (void)n; }

#endif

/* See include/cpu_features.h. */
#include "cpu_features.h"

#include <stdlib.h>
#include <string.h>

int resonance_rope_max_isa_from_env(void) {
    const char *s = getenv("RESONANCE_ROPE_MAX_ISA");
    if (s == NULL) return -1;
    if (strcmp(s, "baseline") == 0) return 0;
    if (strcmp(s, "x86-64-v3") == 0) return 1;
    if (strcmp(s, "x86-64-v4") == 0) return 2;
    return -1;
}

#if defined(__x86_64__)
#include <cpuid.h>

/* Every feature of x86-64-v3: CPUID.1:ECX FMA (12), MOVBE (22), OSXSAVE (27), AVX (28), F16C (29);
 * CPUID.7.0:EBX BMI1 (3), AVX2 (5), BMI2 (8); CPUID.80000001h:ECX LZCNT (5); and XCR0 saying
 * the OS saves the SSE and AVX register state (bits 1, 2). */
int resonance_rope_x86_64_v3_available(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned leaf1 = (1u << 12) | (1u << 22) | (1u << 27) | (1u << 28) | (1u << 29);
    if ((c & leaf1) != leaf1) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & 6u) != 6u || __get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    const unsigned leaf7 = (1u << 3) | (1u << 5) | (1u << 8);
    if ((b & leaf7) != leaf7) return 0;
    if (__get_cpuid_max(0x80000000u, 0) < 0x80000001u) return 0;
    __cpuid(0x80000001u, a, b, c, d);
    return (c >> 5) & 1u;
}

/* Every feature of x86-64-v4: x86-64-v3, CPUID.7.0:EBX AVX512F (16), AVX512DQ (17), AVX512CD
 * (28), AVX512BW (30), AVX512VL (31), and XCR0 saying the OS saves the opmask and ZMM state
 * (bits 5, 6, 7) besides SSE and AVX (1, 2). */
int resonance_rope_x86_64_v4_available(void) {
    if (!resonance_rope_x86_64_v3_available()) return 0;
    unsigned a, b, c, d, lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & 0xE6u) != 0xE6u) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    const unsigned leaf7 = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);
    return (b & leaf7) == leaf7;
}

/* x86-64-v4 and CPUID.7.1:EAX AVX512_BF16 (5); subleaf 1 exists when CPUID.7.0:EAX >= 1. */
int resonance_rope_avx512_bf16_available(void) {
    if (!resonance_rope_x86_64_v4_available()) return 0;
    unsigned a, b, c, d;
    __cpuid_count(7, 0, a, b, c, d);
    if (a < 1) return 0;
    __cpuid_count(7, 1, a, b, c, d);
    return (a >> 5) & 1u;
}

long resonance_rope_l2_cache_bytes(void) {
    unsigned a, b, c, d;
    if (__get_cpuid_max(0x80000000u, 0) < 0x80000006u) return 0;
    __cpuid(0x80000006u, a, b, c, d);
    return (long)(c >> 16) * 1024;
}
#else
int resonance_rope_x86_64_v3_available(void) { return 0; }
int resonance_rope_x86_64_v4_available(void) { return 0; }
int resonance_rope_avx512_bf16_available(void) { return 0; }
long resonance_rope_l2_cache_bytes(void) { return 0; }
#endif

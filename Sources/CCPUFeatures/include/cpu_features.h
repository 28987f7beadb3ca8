/* CPU feature checks for the kernel dispatch of ResonanceRopeCore (Dispatch.swift): CPUID and
 * XGETBV, asked once per process by the caller. Not exported from the library (hidden, and the
 * version script keeps only rr_*). */
#ifndef RESONANCE_ROPE_CPU_FEATURES_H
#define RESONANCE_ROPE_CPU_FEATURES_H

#define RESONANCE_ROPE_HIDDEN __attribute__((visibility("hidden")))

/* 1 when the CPU has every x86-64-v3 feature (AVX, AVX2, FMA, F16C, BMI1, BMI2, LZCNT, MOVBE)
 * and the OS saves the AVX state, else 0 (also on other architectures). */
RESONANCE_ROPE_HIDDEN int resonance_rope_x86_64_v3_available(void);

/* 1 when the CPU has every x86-64-v4 feature (x86-64-v3 and AVX-512 F, BW, CD, DQ, VL) and the
 * OS saves the opmask and ZMM state, else 0 (also on other architectures). */
RESONANCE_ROPE_HIDDEN int resonance_rope_x86_64_v4_available(void);

/* 1 when the CPU has every x86-64-v4 feature and AVX512-BF16 (CPUID.7.1:EAX bit 5), else 0. */
RESONANCE_ROPE_HIDDEN int resonance_rope_avx512_bf16_available(void);

/* The widest kernel copy the environment allows: RESONANCE_ROPE_MAX_ISA = "baseline" (0),
 * "x86-64-v3" (1) or "x86-64-v4" (2, which leaves out AVX512-BF16); -1 when it is unset or
 * anything else (no cap). */
RESONANCE_ROPE_HIDDEN int resonance_rope_max_isa_from_env(void);

/* The L2 cache of one core in bytes (CPUID 80000006h, ECX bits 31-16 in KiB, which AMD and
 * Intel both report), or 0 when the CPU does not say (and on other architectures). */
RESONANCE_ROPE_HIDDEN long resonance_rope_l2_cache_bytes(void);

#endif

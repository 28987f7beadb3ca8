/* Hints and instructions for the rotation kernels that Swift cannot spell: a software prefetch,
 * the F16C conversions of 8 halves and the AVX2 bfloat16 store. Static inline, so Swift inlines them and no symbol
 * reaches the library; a prefetch never faults, whatever the address. The F16C functions carry
 * their own target attribute: only the x86-64-v3 copy of the kernels (ResonanceRopeKernelsAVX2,
 * chosen at run time when the CPU has it) calls them, and LLVM inlines them there. */
#ifndef RESONANCE_ROPE_KERNEL_HINTS_H
#define RESONANCE_ROPE_KERNEL_HINTS_H

#include <stdint.h>

/* The calling thread's copy of the last anchor row the anchored polynomial computed
 * (KernelAngles.swift): the double cos and sin of the polynomial pairs at the anchor position
 * (the position with its low 4 bits cleared), before any scale. A decode call computes the
 * row of its anchor from scratch (the polynomial of every pair: about a third of a 1-token
 * plain-RoPE call), and the next 15 positions, and every layer at the same position, share it:
 * the calling thread keeps it here. `key` names the handle (rr_new_cache_key, never reused)
 * and whether the row holds the table pairs too; 0 = no entry. Used only by the thread that owns
 * it (thread-local: no sharing, no locks); the values are those the polynomial gives, so results
 * never depend on the cache. The same cache keeps the periodic table's cursor of the last
 * position the thread rotated (`residues`: per table pair the entry index of the first position
 * of its block of periodicBlock positions, `last`, `phase`; valid for the handle `table_key`,
 * 0 = none): a decode call at the next position, or at the same one (the other layers), advances
 * it instead of reducing the position mod every period (352 of the 874 instructions of a 64-pair
 * Resonance decode row). 2.5 KiB of thread-local storage per thread that rotates. Hidden: not part
 * of the library's interface. */
#define RR_ANCHOR_CACHE_PAIRS 128
typedef struct {
  uint64_t key;
  int64_t anchor;
  double rows[2 * RR_ANCHOR_CACHE_PAIRS]; /* cos of pairs 0 ..< RR_ANCHOR_CACHE_PAIRS, then sin */
  uint64_t table_key;
  int64_t last;
  int64_t phase;
  int32_t residues[RR_ANCHOR_CACHE_PAIRS];
} rr_anchor_cache;
__attribute__((visibility("hidden"))) rr_anchor_cache *rr_thread_anchor_cache(void);
static inline __attribute__((always_inline)) double *rr_anchor_cache_rows(rr_anchor_cache *c) { return c->rows; }
static inline __attribute__((always_inline)) int32_t *rr_anchor_cache_residues(rr_anchor_cache *c) { return c->residues; }
/* A key no other handle of this process had (1, 2, ...). */
__attribute__((visibility("hidden"))) uint64_t rr_new_cache_key(void);

/* The row prefetch of rotations whose rows stream from memory (KernelRotation.swift), learned on
 * the CPU at hand: whether it pays differs between CPUs of one kind (measured: on an AMD EPYC
 * Zen 3 it took a 4096-token float32 prefill from 0.83 to 0.96 of the memory pass; on a Zen 4 it
 * made the same calls 5-37 % slower), so no fixed rule can be right on both. The first streamed
 * calls of the process time their batches of tokens (angles and rotation of up to 16 tokens)
 * in turn without it and with it at two distances ("arms": none, near = rowPrefetchDistance,
 * far = twice that), RR_ROW_PREFETCH_SAMPLES of each; far is taken over near, and either over
 * none, only if its median is below RR_ROW_PREFETCH_GAIN times the other's (rr_row_prefetch_pick). The
 * distance too differs by case on one CPU: on an AMD EPYC Zen 5 VM (4096 tokens, 1 thread, one
 * process) 16 KiB instead of 8 made the 16-bit rotations (a 32 MiB buffer) 12-15 % faster and
 * f32 (64 MiB) 2-7 % slower. The later calls take that verdict, and every RR_ROW_PREFETCH_RECHECK batches it is learned again, so a verdict
 * taken while the host was disturbed does not last the process's lifetime. One verdict per slot
 * (element format x one thread or more, see `rowPrefetchSlot`); one thread at a time holds a slot's samples (a flag taken with an atomic
 * exchange); the other threads run their batches as the trial under way runs (so a multi-thread
 * call's trials time all its threads with or without it) until it is decided. A hint only: results are
 * the same bits either way. Hidden: not part of the library's interface. */
#define RR_ROW_PREFETCH_SLOTS 6
#define RR_ROW_PREFETCH_ARMS 3
/* 15 samples and a 5 % margin: with 9 and 2 % a noisy Zen 4 host learned the prefetch for float32
 * one thread in one of three benchmark runs, and that run's GPT-J prefill was 25 % slower. The
 * Zen 3 gain above (13 %) clears the margin. */
#define RR_ROW_PREFETCH_SAMPLES 15
#define RR_ROW_PREFETCH_GAIN 0.95
/* Batches between two learnings: 1024 (4 calls of 4096 tokens at 1 thread). Measured on an AMD
 * EPYC Zen 2 VM: one benchmark run in six learned "no prefetch" for bfloat16 at 1 thread, and
 * that run's bfloat16 prefill took 6.5 ms instead of 3.8-4.4 ms (the prefetch pays 1.3x there).
 * The cost of learning again: about 15 of 1024 batches in the worse mode. */
#define RR_ROW_PREFETCH_RECHECK 1024
/* The arm to run (0 none, 1 near, 2 far: decided, or as the trial another thread is timing);
 * -1: undecided and the caller now holds the slot: it runs the batch with arm *trial_arm and
 * reports the time with rr_row_prefetch_report, which releases the slot. */
__attribute__((visibility("hidden"))) int rr_row_prefetch_choose(int slot, int learn, int *trial_arm);
__attribute__((visibility("hidden"))) void rr_row_prefetch_report(int slot, int trial_arm, uint64_t nanoseconds, uint64_t bytes);
/* Whether n costs with the prefetch beat n without it by the margin (1: prefetch); pure, for
 * tests. */
__attribute__((visibility("hidden"))) int rr_row_prefetch_decide(const double *with_prefetch, const double *without, int n);
/* The arm from n costs of each: the far distance if it beats the near one as
 * rr_row_prefetch_decide decides, else the near one; that one if it beats none, else 0; pure,
 * for tests. */
__attribute__((visibility("hidden"))) int rr_row_prefetch_pick(const double *none, const double *near, const double *far, int n);
/* The slot's verdict: the arm, or -1 undecided; and forgetting every verdict (tests). */
__attribute__((visibility("hidden"))) int rr_row_prefetch_verdict(int slot);
__attribute__((visibility("hidden"))) void rr_row_prefetch_forget(void);
/* CLOCK_MONOTONIC in nanoseconds. */
__attribute__((visibility("hidden"))) uint64_t rr_monotonic_ns(void);

/* Ask for the cache line holding p, to be read soon. */
static inline __attribute__((always_inline)) void rr_prefetch(const void *p) {
  __builtin_prefetch(p, 0, 3);
}

#if defined(__x86_64__)
#include <immintrin.h>

/* Imported into Swift as SIMD8<Float>. */
typedef float rr_float8 __attribute__((ext_vector_type(8)));
typedef double rr_double8 __attribute__((ext_vector_type(8)));

/* 8 doubles rounded to float, to nearest with ties to even (cvtpd2ps), in line. Swift 6.3 calls
 * its SIMD8<Float>(SIMD8<Double>) out of line (cvtpd2ps inside, ~15 instructions a call; callgrind:
 * 62 of the 335 instructions per position of a cos/sin table fill). The same values. */
static inline __attribute__((always_inline)) rr_float8 rr_narrow8(rr_double8 d) {
  return __builtin_convertvector(d, rr_float8);
}

/* 8 doubles v, each within e of a value x (e far above half a double ulp of v): out[0 ..< 8] =
 * v - e rounded to float; returns a bit per lane (bit l for lane l) where v - e and v + e round
 * to different floats (compared as bits), 0 when none does. Rounding to nearest is monotonic, so
 * where they agree x rounds to out[l] exactly (KernelAngles.swift, `_storeComputed`, which
 * settles the other lanes). The lane bits are built only when some lane differs (a per-lane
 * build on every call cost a chain of mask shifts). */
static inline __attribute__((always_inline)) int rr_narrow8_undecided(rr_double8 v, double e, float *out) {
  typedef uint32_t rr_uint8 __attribute__((ext_vector_type(8)));
  const rr_float8 lo = __builtin_convertvector(v - e, rr_float8), hi = __builtin_convertvector(v + e, rr_float8);
  __builtin_memcpy(out, &lo, sizeof lo);
  const rr_uint8 differ = (rr_uint8)lo ^ (rr_uint8)hi;
  if (__builtin_reduce_or(differ) == 0) return 0;
  int mask = 0;
  for (int l = 0; l < 8; l++) mask |= (differ[l] != 0) << l;
  return mask;
}

/* 8 floats stored at p (32-byte aligned for AVX, 16 for SSE) with non-temporal stores: the lines
 * go to memory without being read first and without filling the caches. Weakly ordered: the
 * writer ends with rr_store_fence. */
static inline __attribute__((always_inline)) void rr_stream8(float *p, rr_float8 v) {
#if defined(__AVX__)
  __m256 x;
  __builtin_memcpy(&x, &v, sizeof x);
  _mm256_stream_ps(p, x);
#else
  __m128 lo, hi;
  __builtin_memcpy(&lo, &v, sizeof lo);
  __builtin_memcpy(&hi, (const char *)&v + 16, sizeof hi);
  _mm_stream_ps(p, lo);
  _mm_stream_ps(p + 4, hi);
#endif
}

/* (a0 - b0, a1 + b1, a2 - b2, ..) (vaddsubps): the GPT-J rotation of element-order pairs in one
 * instruction with rows that need no negated sines (KernelRotation.swift). a - b is the same
 * rounding as a + (-b). */
static inline __attribute__((always_inline, target("avx"))) rr_float8 rr_addsub8(rr_float8 a, rr_float8 b) {
  __m256 x, y;
  __builtin_memcpy(&x, &a, sizeof x);
  __builtin_memcpy(&y, &b, sizeof y);
  __m256 r = _mm256_addsub_ps(x, y);
  rr_float8 out;
  __builtin_memcpy(&out, &r, sizeof out);
  return out;
}

/* Orders the non-temporal stores before every later store (sfence). */
static inline __attribute__((always_inline)) void rr_store_fence(void) { _mm_sfence(); }


/* These take and give 8 floats in element order (no lane permutation of the rows is needed) and
 * compute exactly what the software elements of Elements.swift compute (tested bit for bit). */

/* 8 halves at p (any alignment) widened exactly to float32 (vcvtph2ps). */
static inline __attribute__((always_inline, target("avx,f16c"))) rr_float8 rr_f16c_load8(const uint16_t *p) {
  __m256 v = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p));
  rr_float8 r;
  __builtin_memcpy(&r, &v, sizeof r);
  return r;
}

/* 8 floats rounded to half, to nearest with ties to even (vcvtps2ph), stored at p. The empty asm
 * keeps the conversion in a register and the store separate: LLVM otherwise folds them into
 * vcvtps2ph's memory form, which issues at half the rate of the register form on AMD Zen 4
 * (measured here: 2 cycles against 1 per 8 values) and made the float16 prefill compute-bound. */
static inline __attribute__((always_inline, target("avx,f16c"))) void rr_f16c_store8(uint16_t *p, rr_float8 x) {
  __m256 v;
  __builtin_memcpy(&v, &x, sizeof v);
  __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __asm__("" : "+x"(h));
  _mm_storeu_si128((__m128i *)(void *)p, h);
}
/* 16 bfloat16 from floats of the even (a) and odd (b) elements, rounded exactly as the software
 * element (Elements.swift, BFloat16Element) and stored at p: a's results in the low, b's in the
 * high 16 bits of each 32-bit word, so no pack or lane permutation is needed. Rounding: add
 * 0x7FFF plus the lowest kept bit (ties to even; a carry into the exponent is the correct
 * rounding, FLT_MAX becomes infinity), keep the upper 16 bits. A NaN (unordered with itself) keeps
 * its upper bits with the quiet bit 6 set, so rounding cannot turn it into infinity or flip its
 * sign; that repair runs only in blocks that hold a NaN: one unordered compare of a with b and a
 * test per 16 values instead of two compares and two blends. */
static inline __attribute__((always_inline, target("avx2"))) void rr_bf16_store16i(uint16_t *p, rr_float8 a, rr_float8 b) {
  __m256 va, vb;
  __builtin_memcpy(&va, &a, sizeof va);
  __builtin_memcpy(&vb, &b, sizeof vb);
  const __m256i fa = _mm256_castps_si256(va), fb = _mm256_castps_si256(vb);
  const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7FFF);
  __m256i ra = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(fa, bias), _mm256_and_si256(_mm256_srli_epi32(fa, 16), one)), 16);
  __m256i rb = _mm256_add_epi32(_mm256_add_epi32(fb, bias), _mm256_and_si256(_mm256_srli_epi32(fb, 16), one));
  const __m256 unordered = _mm256_cmp_ps(va, vb, _CMP_UNORD_Q);
  if (__builtin_expect(!_mm256_testz_ps(unordered, unordered), 0)) {
    const __m256i qa = _mm256_or_si256(_mm256_srli_epi32(fa, 16), _mm256_set1_epi32(0x40));
    const __m256i qb = _mm256_or_si256(fb, _mm256_set1_epi32(0x00400000));
    ra = _mm256_blendv_epi8(ra, qa, _mm256_castps_si256(_mm256_cmp_ps(va, va, _CMP_UNORD_Q)));
    rb = _mm256_blendv_epi8(rb, qb, _mm256_castps_si256(_mm256_cmp_ps(vb, vb, _CMP_UNORD_Q)));
  }
  /* a's results from ra's low words (its high words are 0), b's from rb's high words: one
   * vpblendw instead of masking rb and or-ing (a constant fewer in the loop). */
  _mm256_storeu_si256((__m256i *)(void *)p, _mm256_blend_epi16(ra, rb, 0xAA));
}

/* Imported into Swift as SIMD16<Float>: one half of a rotation block in the x86-64-v4 copy of the
 * kernels (Elements.swift). The functions below are the 16-lane forms of the three above, with
 * the same results (tested bit for bit against the software elements). */
typedef float rr_floats16 __attribute__((ext_vector_type(16)));

/* 16 halves at p (any alignment) widened exactly to float32 (vcvtph2ps zmm). */
static inline __attribute__((always_inline, target("avx512f"))) rr_floats16 rr_f16c_load16(const uint16_t *p) {
  __m512 v = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)p));
  rr_floats16 r;
  __builtin_memcpy(&r, &v, sizeof r);
  return r;
}

/* 16 floats rounded to half, to nearest with ties to even, stored at p (register form of
 * vcvtps2ph, as rr_f16c_store8). */
static inline __attribute__((always_inline, target("avx512f"))) void rr_f16c_store16(uint16_t *p, rr_floats16 x) {
  __m512 v;
  __builtin_memcpy(&v, &x, sizeof v);
  __m256i h = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __asm__("" : "+x"(h));
  _mm256_storeu_si256((__m256i *)(void *)p, h);
}

/* The element-order GPT-J sine rows of the x86-64-v4 kernel from 16 sines s (KernelRotation.swift
 * `_gptjSines`): lo = (-s0 s0 -s1 s1 .. -s7 s7), hi = (-s8 s8 .. -s15 s15). One negation (exact)
 * and one two-source permutation (vpermt2ps) per half; the empty asm keeps the negation opaque,
 * so that LLVM does not fold it into the permutations (a lane build from -s and s in Swift
 * became scalar code; s times (-1 1 -1 1 ..) after the spread became about 20 shuffles). lo and
 * hi: 16 floats each. */
static inline __attribute__((always_inline, target("avx512f"))) void rr_gptj_sines16(rr_floats16 s, float *lo, float *hi) {
  __m512 v, n;
  __builtin_memcpy(&v, &s, sizeof v);
  n = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000u)));
  __asm__("" : "+v"(n));
  const __m512i il = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i ih = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  __m512 a = _mm512_permutex2var_ps(n, il, v), b = _mm512_permutex2var_ps(n, ih, v);
  __builtin_memcpy(lo, &a, sizeof a);
  __builtin_memcpy(hi, &b, sizeof b);
}

/* rr_bf16_store16i for 32 values: the same rounding and NaN repair, with mask registers (one
 * unordered compare of a with b per 32 values; the repair only in blocks holding a NaN). */
static inline __attribute__((always_inline, target("avx512f,avx512bw"))) void rr_bf16_store32i(uint16_t *p, rr_floats16 a, rr_floats16 b) {
  __m512 va, vb;
  __builtin_memcpy(&va, &a, sizeof va);
  __builtin_memcpy(&vb, &b, sizeof vb);
  const __m512i fa = _mm512_castps_si512(va), fb = _mm512_castps_si512(vb);
  const __m512i one = _mm512_set1_epi32(1), bias = _mm512_set1_epi32(0x7FFF);
  __m512i ra = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(fa, bias), _mm512_and_si512(_mm512_srli_epi32(fa, 16), one)), 16);
  __m512i rb = _mm512_add_epi32(_mm512_add_epi32(fb, bias), _mm512_and_si512(_mm512_srli_epi32(fb, 16), one));
  if (__builtin_expect(_mm512_cmp_ps_mask(va, vb, _CMP_UNORD_Q) != 0, 0)) {
    ra = _mm512_mask_mov_epi32(ra, _mm512_cmp_ps_mask(va, va, _CMP_UNORD_Q),
                               _mm512_or_si512(_mm512_srli_epi32(fa, 16), _mm512_set1_epi32(0x40)));
    rb = _mm512_mask_mov_epi32(rb, _mm512_cmp_ps_mask(vb, vb, _CMP_UNORD_Q),
                               _mm512_or_si512(fb, _mm512_set1_epi32(0x00400000)));
  }
  _mm512_storeu_si512((void *)p, _mm512_mask_blend_epi16(0xAAAAAAAAu, ra, rb));  /* as rr_bf16_store16i */
}

/* rr_bf16_store32i through AVX512-BF16, for CPUs that have it (Kernels.avx512bf16): one
 * vcvtne2ps2bf16 rounds a and b to nearest even (a in the low 16 lanes, b in the high) and one
 * vpermw interleaves them into the words' low and high halves. On every float32 bit pattern
 * (a C loop on an Intel Xeon, 2026-12-03) it gave the software element's bits, NaN and
 * infinities included, except for subnormal inputs, which it flushes to zero (16,711,678
 * patterns differ, all subnormal); so a block holding a subnormal (vfpclassps, class 0x20) goes
 * to rr_bf16_store32i instead. That check runs only in blocks whose result holds a zero word
 * (one vptestnmw per 32 values): a normal float never rounds to a zero bfloat16, so a flushed
 * subnormal leaves one, and a zero input does too (checked, then stored the fast way). Measured
 * on an AMD EPYC Zen 5 VM, where vfpclassps issues about 1.5 per cycle and vptestnmw 2: a head
 * row's instructions alone (tools/probes' row_mix style) 3.54-3.61 -> 3.12-3.17 ns; the bf16
 * rotation in cache (ab_rotation --bf16 --tokens 32, both load orders) 5.26-5.86 -> 5.10-5.65 ns
 * a head row. KernelTests (sixteenBitElementsOfEveryKernelCopyMatchScalar)
 * checks this copy's stores against the software rounding, every subnormal bfloat16 included. The
 * instruction is written in assembly: the copy is compiled for x86-64-v4, which does not include
 * AVX512-BF16, so the compiler would not emit it (and this function runs only where CPUID
 * reports it). */
static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512dq"))) void rr_bf16_store32ne(uint16_t *p, rr_floats16 a, rr_floats16 b) {
  __m512 va, vb;
  __builtin_memcpy(&va, &a, sizeof va);
  __builtin_memcpy(&vb, &b, sizeof vb);
  __m512i r;
  __asm__("vcvtne2ps2bf16 %2, %1, %0" : "=v"(r) : "v"(vb), "v"(va));
  if (__builtin_expect(_mm512_testn_epi16_mask(r, _mm512_set1_epi16(0x7FFF)) != 0, 0) &&
      (_mm512_fpclass_ps_mask(va, 0x20) | _mm512_fpclass_ps_mask(vb, 0x20)) != 0) {
    rr_bf16_store32i(p, a, b);
    return;
  }
  /* 16-bit lane 2k takes lane k (a_k), lane 2k + 1 lane 16 + k (b_k). */
  const __m512i order = _mm512_set_epi32(0x1F000F, 0x1E000E, 0x1D000D, 0x1C000C, 0x1B000B, 0x1A000A, 0x190009, 0x180008,
                                         0x170007, 0x160006, 0x150005, 0x140004, 0x130003, 0x120002, 0x110001, 0x100000);
  _mm512_storeu_si512((void *)p, _mm512_permutexvar_epi16(order, r));
}

/* 16 floats stored at p (64-byte aligned) with one non-temporal store: a whole line (the
 * x86-64-v4 copy's fill yardstick, as its table fill's rr_rows4x16_stream). */
static inline __attribute__((always_inline, target("avx512f"))) void rr_stream16(float *p, rr_floats16 v) {
  __m512 x;
  __builtin_memcpy(&x, &v, sizeof x);
  _mm512_stream_ps(p, x);
}

/* Two halves of 8 floats stored at p (64-byte aligned) as one line by one non-temporal store
 * (the v4 table fill's polynomial rows, KernelAngles.swift). */
static inline __attribute__((always_inline, target("avx512f"))) void rr_stream8x2(float *p, rr_float8 lo, rr_float8 hi) {
  __m256 a, b;
  __builtin_memcpy(&a, &lo, sizeof a);
  __builtin_memcpy(&b, &hi, sizeof b);
  _mm512_stream_ps(p, _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(a)), _mm256_castps_pd(b), 1)));
}

/* rr_rows4_avx for 16 pairs, written with 64-byte non-temporal stores (x86-64-v4 copy, table
 * fills: KernelTables.swift): entry idx[l] of src starts (cos, sin) of pair l at the 4
 * positions; the 16 cosines at position j go to cos_j, the 16 sines times `sign` to sin_j, for
 * j < n (n in 1 ... 4); every cos_j and sin_j 64-byte aligned. Pairs l and l + 8 share one zmm
 * (low and high 256 bits), so rr_rows4_avx's in-lane transpose does both at once, and one
 * two-source permutation per output puts the four 4-pair groups in order. A whole line per
 * store: the output is written without being read, and without a copy through L1 rows. Values
 * are moved, never changed. */
static inline __attribute__((always_inline, target("avx512f"))) void rr_rows4x16_stream(const char *src, const int32_t *idx, int n, float sign,
    float *cos0, float *sin0, float *cos1, float *sin1, float *cos2, float *sin2, float *cos3, float *sin3) {
  float *const co[4] = {cos0, cos1, cos2, cos3}, *const si[4] = {sin0, sin1, sin2, sin3};
  __m512 r[8], t[8], u[8];
  for (int l = 0; l < 8; l++) {
    const __m256 lo = _mm256_loadu_ps((const float *)(const void *)(src + 8 * (int64_t)idx[l]));
    const __m256 hi = _mm256_loadu_ps((const float *)(const void *)(src + 8 * (int64_t)idx[l + 8]));
    r[l] = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)), _mm256_castps_pd(hi), 1));
  }
  for (int l = 0; l < 8; l += 2) { t[l] = _mm512_unpacklo_ps(r[l], r[l + 1]); t[l + 1] = _mm512_unpackhi_ps(r[l], r[l + 1]); }
  for (int l = 0; l < 8; l += 4) {
    u[l] = _mm512_shuffle_ps(t[l], t[l + 2], 0x44); u[l + 1] = _mm512_shuffle_ps(t[l], t[l + 2], 0xEE);
    u[l + 2] = _mm512_shuffle_ps(t[l + 1], t[l + 3], 0x44); u[l + 3] = _mm512_shuffle_ps(t[l + 1], t[l + 3], 0xEE);
  }
  /* u[c] (pairs 0-3 and 8-11) and u[4 + c] (pairs 4-7 and 12-15), 128-bit blocks: column c of
   * the low pairs, column c + 4 of the low pairs, column c of the high pairs, column c + 4 of the
   * high pairs. Column 2j: cos at position j, 2j + 1: its sin; columns 4 ... 7 are positions
   * 2 and 3. */
  const __m512i lowColumn = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
  const __m512i highColumn = _mm512_setr_epi32(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
  const __m512 sg = _mm512_set1_ps(sign);
  for (int c = 0; c < 4; c++) {
    const __m512 lo = _mm512_permutex2var_ps(u[c], lowColumn, u[4 + c]), hi = _mm512_permutex2var_ps(u[c], highColumn, u[4 + c]);
    const int j = c >> 1; /* columns c and c + 4: position c / 2 and 2 + c / 2 */
    if (c & 1) {
      if (j < n) _mm512_stream_ps(si[j], _mm512_mul_ps(lo, sg));
      if (j + 2 < n) _mm512_stream_ps(si[j + 2], _mm512_mul_ps(hi, sg));
    } else {
      if (j < n) _mm512_stream_ps(co[j], lo);
      if (j + 2 < n) _mm512_stream_ps(co[j + 2], hi);
    }
  }
}

/* One position's periodic-table entries of 8 pairs (KernelAngles.swift, _gatherTable, x86-64-v3
 * and v4 copies): entry idx[l] + j of `entries` (8 bytes: cos, sin) for l < 8, by 8 loads of
 * two floats and two in-lane shuffles; the 8 cosines to cos, the 8 sines times `sign` (+1 or -1:
 * exact) to sin. The values are moved, never changed. Measured on an AMD EPYC Zen 5 VM (8
 * random entries of a 32 KiB table, a C loop): vpgatherdq (zmm) 5.2 ns per 8 pairs, these loads
 * 1.6 ns; the lane build Swift made of the same loads was 44 instructions per 8 pairs. */
static inline __attribute__((always_inline, target("avx"))) void rr_table_gather8(const void *entries, const int32_t *idx,
    int32_t j, float sign, float *cos, float *sin) {
  const char *e = (const char *)entries + 8 * (int64_t)j;
#define RR_ENTRY(l) (e + 8 * (int64_t)idx[l])
#define RR_TWO(l) _mm_loadh_pi(_mm_castpd_ps(_mm_load_sd((const double *)(const void *)RR_ENTRY(l))), \
                               (const __m64 *)(const void *)RR_ENTRY((l) + 1))
  const __m128 p01 = RR_TWO(0), p23 = RR_TWO(2), p45 = RR_TWO(4), p67 = RR_TWO(6);
#undef RR_TWO
#undef RR_ENTRY
  /* x = entries 0 1 | 4 5, y = 2 3 | 6 7, each entry (cos, sin): in each 128-bit lane the even
   * floats of x then of y are the cosines in pair order, the odd ones the sines. */
  const __m256 x = _mm256_insertf128_ps(_mm256_castps128_ps256(p01), p45, 1);
  const __m256 y = _mm256_insertf128_ps(_mm256_castps128_ps256(p23), p67, 1);
  _mm256_storeu_ps(cos, _mm256_shuffle_ps(x, y, 0x88));
  _mm256_storeu_ps(sin, _mm256_mul_ps(_mm256_shuffle_ps(x, y, 0xDD), _mm256_set1_ps(sign)));
}

/* The periodic-table rows of 4 consecutive positions for 8 pairs (KernelAngles.swift,
 * _tableRowsConsecutive): entry idx[l] of src (8 bytes each) starts (cos, sin) of pair l at the
 * 4 positions (8 floats, any alignment). Writes the 8 cosines at position j to cos_j and the 8 sines times `sign` (+1 or
 * -1: exact) to sin_j, for j < n (n in 1 ... 4). An 8 x 8 transpose: values are moved, never
 * changed. _sse: baseline x86-64 (4 x 4 transposes); _avx: the x86-64-v3 copy. */
static inline __attribute__((always_inline)) void rr_rows4_sse(const char *src, const int32_t *idx, int n, float sign,
    float *cos0, float *sin0, float *cos1, float *sin1, float *cos2, float *sin2, float *cos3, float *sin3) {
  float *const co[4] = {cos0, cos1, cos2, cos3}, *const si[4] = {sin0, sin1, sin2, sin3};
  const __m128 sg = _mm_set1_ps(sign);
  for (int g = 0; g < 2; g++) {      /* pairs 4g .. 4g + 3 */
    for (int h = 0; h < 2 && 2 * h < n; h++) { /* positions 2h, 2h + 1 */
      __m128 r0 = _mm_loadu_ps((const float *)(const void *)(src + 8 * (int64_t)idx[4 * g] + 16 * h));
      __m128 r1 = _mm_loadu_ps((const float *)(const void *)(src + 8 * (int64_t)idx[4 * g + 1] + 16 * h));
      __m128 r2 = _mm_loadu_ps((const float *)(const void *)(src + 8 * (int64_t)idx[4 * g + 2] + 16 * h));
      __m128 r3 = _mm_loadu_ps((const float *)(const void *)(src + 8 * (int64_t)idx[4 * g + 3] + 16 * h));
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3); /* r0 = cos at 2h, r1 = sin at 2h, r2, r3 at 2h + 1 */
      _mm_storeu_ps(co[2 * h] + 4 * g, r0);
      _mm_storeu_ps(si[2 * h] + 4 * g, _mm_mul_ps(r1, sg));
      if (2 * h + 1 < n) {
        _mm_storeu_ps(co[2 * h + 1] + 4 * g, r2);
        _mm_storeu_ps(si[2 * h + 1] + 4 * g, _mm_mul_ps(r3, sg));
      }
    }
  }
}

static inline __attribute__((always_inline, target("avx"))) void rr_rows4_avx(const char *src, const int32_t *idx, int n, float sign,
    float *cos0, float *sin0, float *cos1, float *sin1, float *cos2, float *sin2, float *cos3, float *sin3) {
  float *const co[4] = {cos0, cos1, cos2, cos3}, *const si[4] = {sin0, sin1, sin2, sin3};
  __m256 r[8], t[8], u[8];
  for (int l = 0; l < 8; l++) r[l] = _mm256_loadu_ps((const float *)(const void *)(src + 8 * (int64_t)idx[l]));
  for (int l = 0; l < 8; l += 2) { t[l] = _mm256_unpacklo_ps(r[l], r[l + 1]); t[l + 1] = _mm256_unpackhi_ps(r[l], r[l + 1]); }
  for (int l = 0; l < 8; l += 4) {
    u[l] = _mm256_shuffle_ps(t[l], t[l + 2], 0x44); u[l + 1] = _mm256_shuffle_ps(t[l], t[l + 2], 0xEE);
    u[l + 2] = _mm256_shuffle_ps(t[l + 1], t[l + 3], 0x44); u[l + 3] = _mm256_shuffle_ps(t[l + 1], t[l + 3], 0xEE);
  }
  /* column 2j: cos at position j, 2j + 1: its sin; u[c] (pairs 0-3) and u[4 + c] (pairs 4-7)
   * hold columns c (low halves) and c + 4 (high halves) */
  const __m256 sg = _mm256_set1_ps(sign);
  for (int c = 0; c < 4; c++) {
    __m256 lo = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20), hi = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    int j = c >> 1; /* columns c and c + 4: position c / 2 and 2 + c / 2 */
    if (c & 1) {
      if (j < n) _mm256_storeu_ps(si[j], _mm256_mul_ps(lo, sg));
      if (j + 2 < n) _mm256_storeu_ps(si[j + 2], _mm256_mul_ps(hi, sg));
    } else {
      if (j < n) _mm256_storeu_ps(co[j], lo);
      if (j + 2 < n) _mm256_storeu_ps(co[j + 2], hi);
    }
  }
}
#endif

#endif

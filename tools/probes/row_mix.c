/* The throughput floor of one 128-element head row of the x86-64-v4 rotation: the row's
 * instructions (NeoX, 16 lanes) in a loop without dependences between them and, for the loads
 * and stores, over one cache-resident line set, so neither memory nor latency bounds them.
 * ns per row for: the f32 rotation (8 loads, 16 vmulps, 8 vaddps, 8 stores), the f16 one (8
 * vcvtph2ps from memory, 16 vmulps, 8 vaddps, 8 vcvtps2ph, 8 stores), the 16 conversions alone,
 * and 16 vmulps alone (two per cycle on the CPUs we know: a clock reference). Needs AVX-512F;
 * `make probes`. A measurement tool, not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROWS 20000000L

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#define E8(m, a, b, c, d, e, f, g, h) m(a) m(b) m(c) m(d) m(e) m(f) m(g) m(h)
#define MUL(k) "vmulps %%zmm28, %%zmm29, %%zmm" #k "\n"
#define ADD(k) "vaddps %%zmm28, %%zmm29, %%zmm" #k "\n"
#define CVT_IN(k) "vcvtph2ps " #k "*32(%0), %%zmm" #k "\n"
#define CVT_IN_REG(k) "vcvtph2ps %%ymm30, %%zmm" #k "\n"
#define CVT_OUT(k) "vcvtps2ph $0, %%zmm28, %%ymm" #k "\n"
#define ST16(k) "vmovups %%ymm" #k ", " #k "*32(%0)\n"
#define LD32(k) "vmovups " #k "*64(%0), %%zmm" #k "\n"
#define ST32(k) "vmovups %%zmm" #k ", " #k "*64(%0)\n"
#define CLOBBER "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", \
  "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", \
  "xmm24", "xmm25", "xmm26", "xmm27", "memory"

#define RUN(name, body)                                                             \
  do {                                                                              \
    double t0 = now();                                                              \
    for (long i = 0; i < ROWS; i++) __asm__ volatile(body : : "r"(buf) : CLOBBER); \
    printf("%-58s %.2f ns a row\n", name, (now() - t0) / ROWS * 1e9);               \
  } while (0)

__attribute__((target("avx512f"))) static void run(float *buf) {
  RUN("16 vmulps (clock reference: 2 per cycle)", E8(MUL, 0, 1, 2, 3, 4, 5, 6, 7) E8(MUL, 8, 9, 10, 11, 12, 13, 14, 15));
  RUN("f32 row: 8 loads, 16 vmulps, 8 vaddps, 8 stores",
      E8(LD32, 0, 1, 2, 3, 4, 5, 6, 7) E8(MUL, 16, 17, 18, 19, 20, 21, 22, 23) E8(MUL, 24, 25, 26, 27, 16, 17, 18, 19)
      E8(ADD, 20, 21, 22, 23, 24, 25, 26, 27) E8(ST32, 8, 9, 10, 11, 12, 13, 14, 15));
  RUN("16 conversions (8 vcvtph2ps, 8 vcvtps2ph)", E8(CVT_IN_REG, 0, 1, 2, 3, 4, 5, 6, 7) E8(CVT_OUT, 8, 9, 10, 11, 12, 13, 14, 15));
  RUN("f16 row: 8 vcvtph2ps m, 16 vmulps, 8 vaddps, 8 vcvtps2ph, 8 st",
      E8(CVT_IN, 0, 1, 2, 3, 4, 5, 6, 7) E8(MUL, 16, 17, 18, 19, 20, 21, 22, 23) E8(MUL, 24, 25, 26, 27, 16, 17, 18, 19)
      E8(ADD, 20, 21, 22, 23, 24, 25, 26, 27) E8(CVT_OUT, 8, 9, 10, 11, 12, 13, 14, 15) E8(ST16, 8, 9, 10, 11, 12, 13, 14, 15));
}

int main(void) {
  if (!__builtin_cpu_supports("avx512f")) {
    printf("row_mix: this CPU has no AVX-512F\n");
    return 0;
  }
  float *buf = aligned_alloc(64, 1024);
  if (!buf) return 1;
  for (int i = 0; i < 256; i++) buf[i] = 1.0f;
  run(buf);
  free(buf);
  return 0;
}

/* A/B of builds of the library in one process: rr_rope_apply_*_inplace over N (4096) tokens x 32
 * heads x 128 (Resonance, 1 thread), each library in turn, then in-place passes over the same
 * bytes (plain, and read-prefetched 8 / 16 / 32 KiB ahead; a C loop of 8 lanes, not the bench's
 * yardstick, which is stricter); medians of the rounds, and each library's time against the
 * fastest pass. Also the cos/sin rows alone (rr_rope_cos_sin_f32,
 * half layout) of the same positions. `make probes`; usage:
 *   .build-probes/ab_rotation [--f16|--bf16] [--gptj] [--random] [--tokens N] [--rounds N] LIB.so ...
 * (--tokens 32: the buffer in L2, what bounds the kernel in cache)
 * (a LIB path needs a slash: ./lib.so). Run it with the libraries in both orders: on a shared
 * VM the one loaded second has run faster. Positions: consecutive from 1000, or --random
 * (0 .. 10^6, seed printed). A measurement tool, not a test. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "resonance_rope.h"

typedef void (*params_init_fn)(rr_rope_params *);
typedef rr_status (*create_fn)(const rr_rope_params *, rr_rope **);
typedef void (*rotation_init_fn)(rr_rotation *);
typedef rr_status (*apply_fn)(const rr_rope *, const rr_rotation *);
typedef rr_status (*cos_sin_fn)(const rr_rope *, int32_t, uint32_t, const int64_t *, int64_t, int64_t, float *, float *);

enum { HEADS = 32, DIM = 128, MAX_LIBS = 8, MAX_ROUNDS = 201 };

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, by_value);
  return v[n / 2];
}

/* x *= c over n floats (n a multiple of 16, x 64-byte aligned), a read prefetch `ahead` floats
 * on (0: none): 8 lanes with AVX2 where the CPU has it, else 4 (SSE2). */
typedef float v8sf __attribute__((vector_size(32)));
typedef float v4sf __attribute__((vector_size(16)));
__attribute__((noinline, target("avx2"))) static void pass_avx2(float *x, size_t n, size_t ahead) {
  v8sf *v = (v8sf *)(void *)x, c = {1.0000001f, 1.0000001f, 1.0000001f, 1.0000001f, 1.0000001f, 1.0000001f, 1.0000001f, 1.0000001f};
  for (size_t i = 0; i < n / 8; i += 2) {
    if (ahead) __builtin_prefetch(x + 8 * i + ahead);
    v[i] *= c;
    v[i + 1] *= c;
  }
}
__attribute__((noinline)) static void pass_sse2(float *x, size_t n, size_t ahead) {
  v4sf *v = (v4sf *)(void *)x, c = {1.0000001f, 1.0000001f, 1.0000001f, 1.0000001f};
  for (size_t i = 0; i < n / 4; i += 4) {
    if (ahead) __builtin_prefetch(x + 4 * i + ahead);
    v[i] *= c; v[i + 1] *= c; v[i + 2] *= c; v[i + 3] *= c;
  }
}
static void pass(float *x, size_t n, size_t ahead) {
  if (__builtin_cpu_supports("avx2")) pass_avx2(x, n, ahead); else pass_sse2(x, n, ahead);
}

int main(int argc, char **argv) {
  int dtype = 0, gptj = 0, random = 0, rounds = 21, libs = 0, tokens = 4096;
  const char *path[MAX_LIBS];
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--f16")) dtype = 1;
    else if (!strcmp(argv[i], "--bf16")) dtype = 2;
    else if (!strcmp(argv[i], "--gptj")) gptj = 1;
    else if (!strcmp(argv[i], "--random")) random = 1;
    else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--tokens") && i + 1 < argc) tokens = atoi(argv[++i]);
    else if (libs < MAX_LIBS) path[libs++] = argv[i];
  }
  if (libs == 0 || rounds < 1 || rounds > MAX_ROUNDS || tokens < 1 || tokens > 1 << 16) {
    fprintf(stderr, "usage: ab_rotation [--f16|--bf16] [--gptj] [--random] [--tokens N<=65536] [--rounds N<=%d] LIB.so ...\n",
            MAX_ROUNDS);
    return 2;
  }
  size_t n = (size_t)tokens * HEADS * DIM, bytes = n * (dtype ? 2 : 4);
  float *q = aligned_alloc(64, n * 4), *cs = aligned_alloc(64, (size_t)tokens * DIM * 4);
  int64_t *pos = malloc(tokens * sizeof *pos);
  if (!q || !cs || !pos) return 1;
  for (size_t i = 0; i < n; i++) q[i] = (float)(i % 101) * 0.01f;
  if (dtype) for (size_t i = 0; i < n; i++) ((uint16_t *)q)[i] = dtype == 1 ? 0x3c00 : 0x3f80;  /* 1.0 */
  uint64_t s = 0x5eed2026u;
  for (int t = 0; t < tokens; t++) {
    s = s * 6364136223846793005u + 1442695040888963407u;
    pos[t] = random ? (int64_t)((s >> 20) % 1000000) : 1000 + t;
  }
  printf("ab_rotation: %d x %d x %d %s, %s, %s positions%s, 1 thread, %d rounds, medians\n", tokens, HEADS, DIM,
         dtype == 0 ? "f32" : dtype == 1 ? "f16" : "bf16", gptj ? "gptj" : "neox", random ? "random" : "consecutive",
         random ? " (seed 0x5eed2026)" : "", rounds);
  apply_fn apply[MAX_LIBS];
  cos_sin_fn cos_sin[MAX_LIBS];
  rotation_init_fn rinit[MAX_LIBS];
  rr_rope *rope[MAX_LIBS];
  for (int l = 0; l < libs; l++) {
    void *h = dlopen(path[l], RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    params_init_fn pinit = (params_init_fn)dlsym(h, "rr_rope_params_init");
    create_fn create = (create_fn)dlsym(h, "rr_rope_create");
    rinit[l] = (rotation_init_fn)dlsym(h, "rr_rotation_init");
    apply[l] = (apply_fn)dlsym(h, dtype == 0 ? "rr_rope_apply_f32_inplace" : dtype == 1 ? "rr_rope_apply_f16_inplace"
                                                                                    : "rr_rope_apply_bf16_inplace");
    cos_sin[l] = (cos_sin_fn)dlsym(h, "rr_rope_cos_sin_f32");
    if (!pinit || !create || !rinit[l] || !apply[l] || !cos_sin[l]) { fprintf(stderr, "%s: symbols missing\n", path[l]); return 1; }
    rr_rope_params p;
    pinit(&p);
    p.rotary_dim = DIM;
    p.resonance = 1;
    if (gptj) p.layout = RR_LAYOUT_GPTJ;
    if (create(&p, &rope[l]) != RR_STATUS_OK) { fprintf(stderr, "%s: rr_rope_create failed\n", path[l]); return 1; }
  }
  static double t_rot[MAX_LIBS][MAX_ROUNDS], t_rows[MAX_LIBS][MAX_ROUNDS], t_pass[4][MAX_ROUNDS];
  size_t floats = bytes / 4, ahead[4] = {0, 2048, 4096, 8192};
  int reps = tokens >= 1024 ? 1 : 4096 / tokens;  /* short calls: several per timing */
  for (int r = -2; r < rounds; r++) {  /* two warm-up rounds */
    for (int l = 0; l < libs; l++) {
      rr_rotation x;
      rinit[l](&x);
      x.n_tokens = tokens; x.positions = pos; x.n_threads = 1;
      x.q = q; x.q_heads = HEADS; x.q_token_stride = HEADS * DIM; x.q_head_stride = DIM;
      double t0 = now();
      for (int j = 0; j < reps; j++)
        if (apply[l](rope[l], &x) != RR_STATUS_OK) return 1;
      double t1 = now();
      if (cos_sin[l](rope[l], RR_TABLE_LAYOUT_HALF, 0, pos, 0, tokens, cs, cs + (size_t)tokens * DIM / 2) != RR_STATUS_OK) return 1;
      double t2 = now();
      if (r >= 0) { t_rot[l][r] = (t1 - t0) / reps; t_rows[l][r] = t2 - t1; }
    }
    for (int k = 0; k < 4; k++) {
      double t0 = now();
      for (int j = 0; j < reps; j++) pass(q, floats, ahead[k]);
      if (r >= 0) t_pass[k][r] = (now() - t0) / reps;
    }
  }
  double best = 1e30, m[4];
  for (int k = 0; k < 4; k++) { m[k] = median(t_pass[k], rounds); if (m[k] < best) best = m[k]; }
  printf("C in-place pass %.1f us, prefetched 8 / 16 / 32 KiB ahead %.1f / %.1f / %.1f us (%.2f ns a head row at best)\n",
         m[0] * 1e6, m[1] * 1e6, m[2] * 1e6, m[3] * 1e6, best / ((double)tokens * HEADS) * 1e9);
  for (int l = 0; l < libs; l++) {
    double rot = median(t_rot[l], rounds), rows = median(t_rows[l], rounds);
    printf("%-40s rotation %8.1f us (%.2f ns a head row), ratio to the fastest pass %.2f; cos/sin rows %.1f ns a row\n",
           path[l], rot * 1e6, rot / ((double)tokens * HEADS) * 1e9, best / rot, rows / tokens * 1e9);
  }
  return 0;
}

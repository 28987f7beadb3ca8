/* bench_ggml: ggml's CPU rope (ggml_rope_ext, in place) and ours (rr_rope_apply_f32_inplace),
 * timed side by side in the same process, interleaved round by round, medians over rounds.
 *
 * Built by `make bench-ggml` (see docs/bench-ggml.md) against a ggml CPU backend compiled out
 * of tree from the llama.cpp sources vendored in PyPI's llama-cpp-python sdist. Nothing of
 * ggml enters the repository or the shipped library: this file only calls ggml's public API.
 *
 * Usage: bench_ggml [--json] [--rounds N] [--seed S] LIB[=LABEL] [LIB[=LABEL] ...]
 *   Each LIB is a libresonance_rope.so (dlopen'ed RTLD_LOCAL, so several builds of ours, e.g.
 *   portable / native / Embedded, run side by side against the same ggml in the same run).
 *
 * The same work on both sides: f32, rotary dim = head dim = 128, base 10000, no scaling.
 *   ggml: ggml_rope_ext_inplace(ctx, x, pos, NULL, 128, mode, n_ctx_orig 4096, freq_base 10000,
 *         freq_scale 1, ext_factor 0, attn_factor 1, beta_fast 32, beta_slow 1), x a tensor
 *         [128, heads, tokens] over the caller's buffer, pos an int32 tensor [tokens]; mode
 *         GGML_ROPE_TYPE_NEOX (2) = half-split pairs, GGML_ROPE_TYPE_NORMAL (0) = interleaved
 *         pairs (what llama.cpp runs for Llama models). One graph, planned once per case with a
 *         persistent ggml_threadpool and a preallocated work buffer, then ggml_graph_compute()
 *         per call: the cheapest way to drive ggml (llama.cpp's CPU backend also re-plans).
 *   ours: rr_rope_apply_f32_inplace with RR_LAYOUT_NEOX / RR_LAYOUT_GPTJ on the same buffer,
 *         rr_rotation.n_threads for the thread count. "rope" = plain RoPE (the fair comparison
 *         with ggml); "res" = Resonance RoPE (integer wavelengths), reported beside it.
 *   mem:  x *= c in place over the same bytes (OpenMP static split over the same thread count),
 *         the memory yardstick.
 * Decode cases call each side with one token at a fresh position every call (angles included);
 * "ggml/32" is ggml's time per node of one graph holding 32 such rope nodes (in place, chained),
 * which removes ggml's per-graph launch cost, as inside a real llama.cpp graph. Reported ratios
 * x/ggml = ggml's time / ours (> 1: we are faster), with ggml's faster of its two decode times.
 * Between timed blocks the harness sleeps 2 ms so that OpenMP's spinning workers go idle.
 *
 * Accuracy (same run, before timing): every output against a float64 reference written here
 * (cos/sin of m * 10000^(-2i/128) in double, rotation in double), for ggml and for each of ours;
 * and cos/sin themselves (unit input pairs) at positions from 0, 4096, 100000 and 1000000.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ggml.h"
#include "ggml-cpu.h"
#include "resonance_rope.h"

#ifndef GGML_VARIANT
#define GGML_VARIANT "unknown"
#endif

enum { D = 128, H = D / 2, PREFILL_TOKENS = 4096, PREFILL_HEADS = 32, DECODE_Q = 32, DECODE_K = 8,
       GRAPH_NODES = 32, MAX_LIBS = 8 };
static const double BASE = 10000.0;

/* ---- small helpers --------------------------------------------------------------------- */

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *xs, int n) {
    qsort(xs, (size_t)n, sizeof *xs, cmp_double);
    return n % 2 ? xs[n / 2] : 0.5 * (xs[n / 2 - 1] + xs[n / 2]);
}

static void *xalloc(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0) { fprintf(stderr, "bench_ggml: out of memory\n"); exit(1); }
    memset(p, 0, bytes);
    return p;
}

/* xorshift64*: seeded, printed, reproducible inputs in [-1, 1). */
static uint64_t rng_state;
static float rng_unit(void) {
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    uint64_t r = rng_state * 2685821657736338717ull;
    return (float)((double)(r >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}
static void fill_random(float *x, size_t n) { for (size_t i = 0; i < n; i++) x[i] = rng_unit(); }

/* A multiplier the compiler cannot fold (1 at run time). */
static volatile float one = 1.0f;

/* The memory yardstick: x *= c in place, OpenMP static split over `threads`. */
static void mem_pass(float *x, size_t n, int threads) {
    const float c = one;
    if (threads == 1) { for (size_t i = 0; i < n; i++) x[i] *= c; return; } /* no OpenMP region */
    #pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; i++) x[i] *= c;
}

/* The hand-written yardstick (issue 12): the 10-line loop an engine author would write, over a
 * cos/sin table precomputed before timing (plain RoPE, positions 0 .. tokens - 1, not timed), per
 * token one row, per head a = p[i], b = p[i + H]; p[i] = a c - b s; p[i + H] = b c + a s (NeoX) or
 * pairs (2i, 2i + 1) (GPT-J). Compiled here for AVX2 without FMA (the same roundings as ours), so
 * "x/loop" = loop time / our time says whether our kernel, its angles included, beats it. On a CPU
 * without AVX2 the same loop compiled for baseline x86-64 runs instead (the header line says
 * which). */
static float *loop_cos, *loop_sin; /* [PREFILL_TOKENS][H] */

static void loop_tables(void) {
    loop_cos = xalloc(sizeof(float) * PREFILL_TOKENS * H);
    loop_sin = xalloc(sizeof(float) * PREFILL_TOKENS * H);
    for (int t = 0; t < PREFILL_TOKENS; t++)
        for (int i = 0; i < H; i++) {
            double a = (double)t * pow(BASE, -2.0 * i / D);
            loop_cos[t * H + i] = (float)cos(a);
            loop_sin[t * H + i] = (float)sin(a);
        }
}

static inline __attribute__((always_inline)) void loop_body(float *x, int heads, int t, int gptj) {
    const float *c = loop_cos + (size_t)t * H, *s = loop_sin + (size_t)t * H;
    for (int h = 0; h < heads; h++) {
        float *p = x + ((size_t)t * heads + h) * D;
        if (gptj)
            for (int i = 0; i < H; i++) {
                float a = p[2 * i], b = p[2 * i + 1];
                p[2 * i] = a * c[i] - b * s[i];
                p[2 * i + 1] = b * c[i] + a * s[i];
            }
        else
            for (int i = 0; i < H; i++) {
                float a = p[i], b = p[i + H];
                p[i] = a * c[i] - b * s[i];
                p[i + H] = b * c[i] + a * s[i];
            }
    }
}

__attribute__((target("avx2"))) static void loop_token_avx2(float *x, int heads, int t, int gptj) { loop_body(x, heads, t, gptj); }
static void loop_token_base(float *x, int heads, int t, int gptj) { loop_body(x, heads, t, gptj); }
static void (*loop_token)(float *, int, int, int) = loop_token_base;
static const char *loop_isa = "baseline x86-64";
static void loop_select(void) {
    if (__builtin_cpu_supports("avx2")) { loop_token = loop_token_avx2; loop_isa = "AVX2"; }
}

static void loop_pass(float *x, int heads, int tokens, int gptj, int threads) {
    if (threads == 1) { for (int t = 0; t < tokens; t++) loop_token(x, heads, t, gptj); return; }
    #pragma omp parallel for num_threads(threads) schedule(static)
    for (int t = 0; t < tokens; t++) loop_token(x, heads, t, gptj);
}

/* ---- ours, through dlopen -------------------------------------------------------------- */

typedef struct {
    const char *path, *label, *version;
    void *dl;
    __typeof__(&rr_rope_params_init) params_init;
    __typeof__(&rr_rope_create) create;
    __typeof__(&rr_rope_free) free_;
    __typeof__(&rr_rotation_init) rotation_init;
    __typeof__(&rr_rope_apply_f32_inplace) apply;
    __typeof__(&rr_last_error_message) last_error;
    rr_rope *rope[2][2]; /* [layout: 0 neox, 1 gptj][resonance: 0 plain, 1 Resonance] */
} OurLib;

static OurLib libs[MAX_LIBS];
static int n_libs;

static void *sym(OurLib *l, const char *name) {
    void *p = dlsym(l->dl, name);
    if (!p) { fprintf(stderr, "bench_ggml: %s: no symbol %s\n", l->path, name); exit(1); }
    return p;
}

static void our_load(OurLib *l, const char *arg) {
    char *s = strdup(arg), *eq = strchr(s, '=');
    if (eq) { *eq = 0; l->label = eq + 1; } else { const char *b = strrchr(s, '/'); l->label = b ? b + 1 : s; }
    l->path = s;
    /* RTLD_LOCAL: each build of ours keeps its own symbols (and its own Swift runtime). */
    l->dl = dlopen(s, RTLD_NOW | RTLD_LOCAL);
    if (!l->dl) { fprintf(stderr, "bench_ggml: %s\n", dlerror()); exit(1); }
    l->params_init = (__typeof__(l->params_init))sym(l, "rr_rope_params_init");
    l->create = (__typeof__(l->create))sym(l, "rr_rope_create");
    l->free_ = (__typeof__(l->free_))sym(l, "rr_rope_free");
    l->rotation_init = (__typeof__(l->rotation_init))sym(l, "rr_rotation_init");
    l->apply = (__typeof__(l->apply))sym(l, "rr_rope_apply_f32_inplace");
    l->last_error = (__typeof__(l->last_error))sym(l, "rr_last_error_message");
    l->version = ((__typeof__(&rr_version_string))sym(l, "rr_version_string"))();
    if (!l->version) l->version = "?";
    for (OurLib *o = libs; o < l; o++)
        if (o->apply == l->apply) { fprintf(stderr, "bench_ggml: %s is %s, loaded once\n", l->path, o->path); exit(1); }
    for (int layout = 0; layout < 2; layout++)
        for (int res = 0; res < 2; res++) {
            rr_rope_params p;
            l->params_init(&p);
            p.rotary_dim = D;
            p.head_dim = D;
            p.layout = layout ? RR_LAYOUT_GPTJ : RR_LAYOUT_NEOX;
            p.resonance = res;
            p.base = BASE;
            if (l->create(&p, &l->rope[layout][res]) != RR_STATUS_OK) {
                fprintf(stderr, "bench_ggml: %s: rr_rope_create: %s\n", l->path, l->last_error());
                exit(1);
            }
        }
}

/* One call of ours: tokens x q_heads (+ k_heads) heads of D floats, token-major, positions
 * start .. start + tokens - 1. */
static void our_apply(const OurLib *l, int layout, int res, float *q, int q_heads, float *k, int k_heads,
                      int64_t tokens, int64_t start, int threads) {
    rr_rotation r;
    l->rotation_init(&r);
    r.n_tokens = tokens;
    r.start_position = start;
    r.q = q;
    r.q_heads = q_heads;
    r.q_token_stride = (int64_t)q_heads * D;
    r.q_head_stride = D;
    if (k) {
        r.k = k;
        r.k_heads = k_heads;
        r.k_token_stride = (int64_t)k_heads * D;
        r.k_head_stride = D;
    }
    r.n_threads = threads;
    rr_status st = l->apply(l->rope[layout][res], &r);
    if (st != RR_STATUS_OK) { fprintf(stderr, "bench_ggml: %s: %s\n", l->path, l->last_error()); exit(1); }
}

/* ---- ggml ------------------------------------------------------------------------------ */

typedef struct {
    struct ggml_context *ctx;
    struct ggml_cgraph *graph;
    struct ggml_cplan plan;
    int32_t *pos;
} GgmlRope;

static struct ggml_threadpool *ggml_pools[3];

/* A graph of `nodes` chained in-place rope nodes over q (and k), `tokens` tokens, positions in
 * the returned pos[] (int32, as ggml requires). The tensors are views of the caller's buffers. */
static void ggml_rope_setup(GgmlRope *g, int mode, float *q, int q_heads, float *k, int k_heads,
                            int tokens, int nodes, int threads) {
    struct ggml_init_params ip = {
        .mem_size = ggml_tensor_overhead() * (size_t)(4 + 2 * nodes) + ggml_graph_overhead() + 4096,
        .mem_buffer = NULL,
        .no_alloc = true,
    };
    g->ctx = ggml_init(ip);
    g->pos = xalloc(sizeof(int32_t) * (size_t)tokens);
    for (int t = 0; t < tokens; t++) g->pos[t] = t;
    struct ggml_tensor *pos = ggml_new_tensor_1d(g->ctx, GGML_TYPE_I32, tokens);
    pos->data = g->pos;
    g->graph = ggml_new_graph(g->ctx);
    float *bufs[2] = {q, k};
    int heads[2] = {q_heads, k_heads};
    for (int b = 0; b < 2; b++) {
        if (!bufs[b]) continue;
        struct ggml_tensor *x = ggml_new_tensor_3d(g->ctx, GGML_TYPE_F32, D, heads[b], tokens);
        x->data = bufs[b]; /* before the views: a view copies its source's data pointer */
        for (int n = 0; n < nodes; n++) {
            x = ggml_rope_ext_inplace(g->ctx, x, pos, NULL, D, mode, 4096, (float)BASE, 1.0f, 0.0f, 1.0f,
                                      32.0f, 1.0f);
            ggml_build_forward_expand(g->graph, x);
        }
    }
    g->plan = ggml_graph_plan(g->graph, threads, ggml_pools[threads]);
    g->plan.work_data = g->plan.work_size ? xalloc(g->plan.work_size) : NULL;
}

static void ggml_rope_run(GgmlRope *g) {
    if (ggml_graph_compute(g->graph, &g->plan) != GGML_STATUS_SUCCESS) {
        fprintf(stderr, "bench_ggml: ggml_graph_compute failed\n");
        exit(1);
    }
}

static void ggml_rope_free(GgmlRope *g) {
    free(g->plan.work_data);
    free(g->pos);
    ggml_free(g->ctx);
}

/* ---- the float64 reference ---------------------------------------------------------------- */

/* theta_i = base^(-2i/d); Resonance: lambda~_i = round(2 pi / theta_i) (ties to even, >= 1), angle
 * 2 pi (m mod lambda~_i) / lambda~_i (the paper's integer wavelengths, computed here, not asked of
 * the library). */
static void ref_cos_sin(int64_t m, int resonance, double *c, double *s) {
    for (int i = 0; i < H; i++) {
        double theta = pow(BASE, -2.0 * i / D), a;
        if (resonance) {
            double lam = nearbyint(2.0 * M_PI / theta);
            if (lam < 1) lam = 1;
            int64_t L = (int64_t)lam, r = m % L;
            if (r < 0) r += L;
            a = 2.0 * M_PI * (double)r / (double)L;
        } else {
            a = (double)m * theta;
        }
        c[i] = cos(a);
        s[i] = sin(a);
    }
}

/* max |out - reference(in)| over tokens x heads, gptj: interleaved pairs. */
static double ref_max_err(const float *in, const float *out, int64_t tokens, int heads, int64_t start,
                          int gptj, int resonance) {
    double c[H], s[H], worst = 0;
    for (int64_t t = 0; t < tokens; t++) {
        ref_cos_sin(start + t, resonance, c, s);
        for (int h = 0; h < heads; h++) {
            const float *x = in + (t * heads + h) * D;
            const float *y = out + (t * heads + h) * D;
            for (int i = 0; i < H; i++) {
                int a = gptj ? 2 * i : i, b = gptj ? 2 * i + 1 : i + H;
                double ra = (double)x[a] * c[i] - (double)x[b] * s[i];
                double rb = (double)x[b] * c[i] + (double)x[a] * s[i];
                double e = fmax(fabs(y[a] - ra), fabs(y[b] - rb));
                if (e > worst) worst = e;
            }
        }
    }
    return worst;
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double w = 0;
    for (size_t i = 0; i < n; i++) { double e = fabs((double)a[i] - (double)b[i]); if (e > w) w = e; }
    return w;
}

/* ---- cases ---------------------------------------------------------------------------------- */

typedef struct {
    char name[64];
    const char *mode;
    int threads, tokens, q_heads, k_heads;
    double ggml_ns, ggml_graph_ns, mem_ns, loop_ns; /* ggml_graph_ns: decode only (per node of 32); loop_ns: prefill only */
    double rope_ns[MAX_LIBS], res_ns[MAX_LIBS];
} Case;

/* ggml's time for the ratios: its faster way (per call, or per node of the 32-node graph), so no
 * ratio flatters us. */
static double ggml_best(const Case *c) { return isnan(c->ggml_graph_ns) ? c->ggml_ns : fmin(c->ggml_ns, c->ggml_graph_ns); }

static int rounds = 9;

/* Settles OpenMP's spinning workers between timed blocks: after a parallel region (ggml's, and
 * the 2-thread memory pass) libgomp's workers busy-wait GOMP_SPINCOUNT = 300,000 spins (its
 * default when OMP_WAIT_POLICY is unset) before they sleep, and a spinning worker takes the
 * second core from whatever runs next. 2 ms was not enough on an AMD EPYC Zen 3 VM: our 2-thread
 * case that follows the memory pass ran at 1-thread speed (7.4 ms vs 4.5 ms with
 * OMP_WAIT_POLICY=passive), so every timed call now follows 20 ms of idling, the same for all.
 * Even 20 ms was not enough on an AMD EPYC Zen 5 VM (2026-12-03): the 2-thread memory pass took
 * 5.2-6.9 ms against 2.1-2.4 ms at 1 thread, and 2.2-2.5 ms with OMP_WAIT_POLICY=passive, so
 * `make bench-ggml` runs the harness with OMP_WAIT_POLICY=passive unless the caller sets it
 * (libgomp reads it once, at load, so it cannot be set from main). */
static void settle(void) { usleep(20000); }

static void bench_prefill(Case *c, float *x, int gptj, int threads) {
    int mode = gptj ? GGML_ROPE_TYPE_NORMAL : GGML_ROPE_TYPE_NEOX;
    size_t n = (size_t)PREFILL_TOKENS * PREFILL_HEADS * D;
    GgmlRope g;
    ggml_rope_setup(&g, mode, x, PREFILL_HEADS, NULL, 0, PREFILL_TOKENS, 1, threads);
    int slots = 3 + 2 * n_libs;
    double *t = calloc((size_t)slots * (size_t)rounds, sizeof(double));
    for (int round = -1; round < rounds; round++) { /* round -1: warm-up, not recorded */
        for (int j = 0; j < slots; j++) {
            int k = (j + (round < 0 ? 0 : round)) % slots; /* rotate the order every round */
            settle();
            double t0 = now_ns();
            if (k == 0) ggml_rope_run(&g);
            else if (k == 1) mem_pass(x, n, threads);
            else if (k == 2) loop_pass(x, PREFILL_HEADS, PREFILL_TOKENS, gptj, threads);
            else {
                int l = (k - 3) / 2, res = (k - 3) % 2;
                our_apply(&libs[l], gptj, res, x, PREFILL_HEADS, NULL, 0, PREFILL_TOKENS, 0, threads);
            }
            double dt = now_ns() - t0;
            if (round >= 0) t[k * rounds + round] = dt;
        }
    }
    c->ggml_ns = median(t, rounds);
    c->mem_ns = median(t + rounds, rounds);
    c->loop_ns = median(t + 2 * rounds, rounds);
    for (int l = 0; l < n_libs; l++) {
        c->rope_ns[l] = median(t + (3 + 2 * l) * rounds, rounds);
        c->res_ns[l] = median(t + (4 + 2 * l) * rounds, rounds);
    }
    c->ggml_graph_ns = NAN;
    free(t);
    ggml_rope_free(&g);
}

static void bench_decode(Case *c, float *q, float *k, int k_heads, int gptj) {
    enum { INNER = 4000 }; /* calls per sample: long enough that the 20 ms settle before it (a cold core) is amortized */
    int mode = gptj ? GGML_ROPE_TYPE_NORMAL : GGML_ROPE_TYPE_NEOX;
    size_t n = (size_t)(DECODE_Q + k_heads) * D; /* q and k are adjacent in one allocation */
    GgmlRope g1, g32;
    ggml_rope_setup(&g1, mode, q, DECODE_Q, k, k_heads, 1, 1, 1);
    ggml_rope_setup(&g32, mode, q, DECODE_Q, k, k_heads, 1, GRAPH_NODES, 1);
    int slots = 3 + 2 * n_libs;
    double *t = calloc((size_t)slots * (size_t)rounds, sizeof(double));
    int64_t p = 100000;
    for (int round = -1; round < rounds; round++) {
        for (int j = 0; j < slots; j++) {
            int s = (j + (round < 0 ? 0 : round)) % slots;
            settle();
            double t0 = now_ns();
            int calls = INNER;
            if (s == 0) for (int i = 0; i < INNER; i++) { g1.pos[0] = (int32_t)p++; ggml_rope_run(&g1); }
            else if (s == 1) {
                calls = INNER / 8 * GRAPH_NODES;
                for (int i = 0; i < INNER / 8; i++) { g32.pos[0] = (int32_t)p++; ggml_rope_run(&g32); }
            } else if (s == 2) for (int i = 0; i < INNER; i++) mem_pass(q, n, 1);
            else {
                int l = (s - 3) / 2, res = (s - 3) % 2;
                for (int i = 0; i < INNER; i++)
                    our_apply(&libs[l], gptj, res, q, DECODE_Q, k, k_heads, 1, p++, 1);
            }
            double dt = (now_ns() - t0) / calls;
            if (round >= 0) t[s * rounds + round] = dt;
            if (p > 1000000) p = 100000;
        }
    }
    c->ggml_ns = median(t, rounds);
    c->ggml_graph_ns = median(t + rounds, rounds);
    c->mem_ns = median(t + 2 * rounds, rounds);
    c->loop_ns = NAN;
    for (int l = 0; l < n_libs; l++) {
        c->rope_ns[l] = median(t + (3 + 2 * l) * rounds, rounds);
        c->res_ns[l] = median(t + (4 + 2 * l) * rounds, rounds);
    }
    free(t);
    ggml_rope_free(&g1);
    ggml_rope_free(&g32);
}

/* ---- accuracy ------------------------------------------------------------------------------- */

/* The agreement check fails the run when the two sides do not do the same work (a pairing, sign
 * or frequency mismatch gives errors of order 1): ours within 1e-6 of the float64 reference
 * (measured 1.7e-7: float rounding of the rotation of |x| <= 1), ggml within 1e-2 (measured
 * 8.4e-4 at positions < 4096, from its float angles; see docs/bench-ggml.md). */
static const double AGREE_OURS = 1e-6, AGREE_GGML = 1e-2;

typedef struct {
    const char *mode;
    double ggml_err, loop_err, our_err[MAX_LIBS], our_res_err[MAX_LIBS], ggml_vs_ours[MAX_LIBS];
} Agreement;

/* The prefill buffer (4096 x 32 x 128, positions 0..4095, 1 thread), seeded random input. */
static void agreement(Agreement *a, float *x, int gptj, uint64_t seed) {
    size_t n = (size_t)PREFILL_TOKENS * PREFILL_HEADS * D;
    float *in = xalloc(n * sizeof(float)), *gout = xalloc(n * sizeof(float));
    rng_state = seed;
    fill_random(in, n);
    a->mode = gptj ? "normal/gptj" : "neox";
    GgmlRope g;
    memcpy(x, in, n * sizeof(float));
    ggml_rope_setup(&g, gptj ? GGML_ROPE_TYPE_NORMAL : GGML_ROPE_TYPE_NEOX, x, PREFILL_HEADS, NULL, 0,
                    PREFILL_TOKENS, 1, 1);
    ggml_rope_run(&g);
    ggml_rope_free(&g);
    memcpy(gout, x, n * sizeof(float));
    a->ggml_err = ref_max_err(in, gout, PREFILL_TOKENS, PREFILL_HEADS, 0, gptj, 0);
    memcpy(x, in, n * sizeof(float));
    loop_pass(x, PREFILL_HEADS, PREFILL_TOKENS, gptj, 1);
    a->loop_err = ref_max_err(in, x, PREFILL_TOKENS, PREFILL_HEADS, 0, gptj, 0);
    for (int l = 0; l < n_libs; l++) {
        memcpy(x, in, n * sizeof(float));
        our_apply(&libs[l], gptj, 0, x, PREFILL_HEADS, NULL, 0, PREFILL_TOKENS, 0, 1);
        a->our_err[l] = ref_max_err(in, x, PREFILL_TOKENS, PREFILL_HEADS, 0, gptj, 0);
        a->ggml_vs_ours[l] = max_abs_diff(gout, x, n);
        memcpy(x, in, n * sizeof(float));
        our_apply(&libs[l], gptj, 1, x, PREFILL_HEADS, NULL, 0, PREFILL_TOKENS, 0, 1);
        a->our_res_err[l] = ref_max_err(in, x, PREFILL_TOKENS, PREFILL_HEADS, 0, gptj, 1);
    }
    free(in);
    free(gout);
}

enum { ANGLE_TOKENS = 256, N_STARTS = 4 };
static const int64_t angle_starts[N_STARTS] = {0, 4096, 100000, 1000000};
typedef struct { int64_t start; double ggml_err, our_err[MAX_LIBS], our_res_err[MAX_LIBS]; } AngleErr;

/* cos/sin themselves: every pair (x, y) = (1, 0) rotates to (cos a, sin a); NeoX layout, one
 * head, ANGLE_TOKENS positions from `start` (int32 positions for ggml). */
static void angle_accuracy(AngleErr *e, int64_t start) {
    size_t n = (size_t)ANGLE_TOKENS * D;
    float *in = xalloc(n * sizeof(float)), *x = xalloc(n * sizeof(float));
    for (int t = 0; t < ANGLE_TOKENS; t++) for (int i = 0; i < H; i++) in[t * D + i] = 1.0f;
    e->start = start;
    GgmlRope g;
    memcpy(x, in, n * sizeof(float));
    ggml_rope_setup(&g, GGML_ROPE_TYPE_NEOX, x, 1, NULL, 0, ANGLE_TOKENS, 1, 1);
    for (int t = 0; t < ANGLE_TOKENS; t++) g.pos[t] = (int32_t)(start + t);
    ggml_rope_run(&g);
    ggml_rope_free(&g);
    e->ggml_err = ref_max_err(in, x, ANGLE_TOKENS, 1, start, 0, 0);
    for (int l = 0; l < n_libs; l++) {
        memcpy(x, in, n * sizeof(float));
        our_apply(&libs[l], 0, 0, x, 1, NULL, 0, ANGLE_TOKENS, start, 1);
        e->our_err[l] = ref_max_err(in, x, ANGLE_TOKENS, 1, start, 0, 0);
        memcpy(x, in, n * sizeof(float));
        our_apply(&libs[l], 0, 1, x, 1, NULL, 0, ANGLE_TOKENS, start, 1);
        e->our_res_err[l] = ref_max_err(in, x, ANGLE_TOKENS, 1, start, 0, 1);
    }
    free(in);
    free(x);
}

/* ---- report --------------------------------------------------------------------------------- */

static void cpu_name(char *out, size_t cap) {
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) { c += 2; c[strcspn(c, "\n")] = 0; snprintf(out, cap, "%s", c); }
            break;
        }
    }
    fclose(f);
}

static void json_num(double v) { if (isnan(v)) printf("null"); else printf("%.6g", v); }

static void print_time(double ns) {
    if (isnan(ns)) printf(" %9s", "-");
    else if (ns >= 1e6) printf(" %7.2fms", ns / 1e6);
    else printf(" %7.2fus", ns / 1e3);
}

int main(int argc, char **argv) {
    int json = 0;
    uint64_t seed = 20260412;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 0);
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [--json] [--rounds N] [--seed S] LIB[=LABEL] ...\n", argv[0]);
            return 2;
        } else if (n_libs < MAX_LIBS) our_load(&libs[n_libs++], argv[i]);
    }
    if (n_libs == 0 || rounds < 1) {
        fprintf(stderr, "usage: %s [--json] [--rounds N] [--seed S] LIB[=LABEL] ...\n", argv[0]);
        return 2;
    }
    for (int t = 1; t <= 2; t++) {
        struct ggml_threadpool_params tp = ggml_threadpool_params_default(t);
        ggml_pools[t] = ggml_threadpool_new(&tp);
    }
    loop_tables();
    loop_select();
    size_t n = (size_t)PREFILL_TOKENS * PREFILL_HEADS * D;
    float *x = xalloc(n * sizeof(float));
    float *qk = xalloc((size_t)(DECODE_Q + DECODE_K) * D * sizeof(float));

    Agreement agree[2];
    int agree_ok = 1;
    for (int gptj = 0; gptj < 2; gptj++) {
        agreement(&agree[gptj], x, gptj, seed);
        agree_ok &= agree[gptj].ggml_err <= AGREE_GGML && agree[gptj].loop_err <= AGREE_OURS;
        for (int l = 0; l < n_libs; l++)
            agree_ok &= agree[gptj].our_err[l] <= AGREE_OURS && agree[gptj].our_res_err[l] <= AGREE_OURS;
    }
    if (!agree_ok)
        fprintf(stderr, "bench_ggml: AGREEMENT FAILED (ggml > %g, or ours or the loop > %g, from the float64 reference): "
                        "the two sides do not do the same work; timings follow but mean nothing\n", AGREE_GGML, AGREE_OURS);
    AngleErr angles[N_STARTS];
    for (int s = 0; s < N_STARTS; s++) angle_accuracy(&angles[s], angle_starts[s]);

    Case cases[8];
    int nc = 0;
    rng_state = seed;
    fill_random(x, n);
    fill_random(qk, (size_t)(DECODE_Q + DECODE_K) * D);
    for (int gptj = 0; gptj < 2; gptj++)
        for (int threads = 1; threads <= 2; threads++) {
            Case *c = &cases[nc++];
            snprintf(c->name, sizeof c->name, "prefill %dx%dx%d", PREFILL_TOKENS, PREFILL_HEADS, D);
            c->mode = gptj ? "normal/gptj" : "neox";
            c->threads = threads; c->tokens = PREFILL_TOKENS; c->q_heads = PREFILL_HEADS; c->k_heads = 0;
            bench_prefill(c, x, gptj, threads);
            if (!json) fprintf(stderr, "done: %s %s %dt\n", c->name, c->mode, threads);
        }
    for (int gptj = 0; gptj < 2; gptj++)
        for (int withk = 0; withk < 2; withk++) {
            Case *c = &cases[nc++];
            snprintf(c->name, sizeof c->name, withk ? "decode q32+k8" : "decode q32");
            c->mode = gptj ? "normal/gptj" : "neox";
            c->threads = 1; c->tokens = 1; c->q_heads = DECODE_Q; c->k_heads = withk ? DECODE_K : 0;
            bench_decode(c, qk, withk ? qk + DECODE_Q * D : NULL, withk ? DECODE_K : 0, gptj);
            if (!json) fprintf(stderr, "done: %s %s\n", c->name, c->mode);
        }

    char cpu[256];
    cpu_name(cpu, sizeof cpu);
    if (json) {
        printf("{\n  \"cpu\": \"%s\",\n  \"rounds\": %d,\n  \"seed\": %llu,\n", cpu, rounds, (unsigned long long)seed);
        printf("  \"ggml\": {\"variant\": \"%s\", \"version\": \"%s\", \"commit\": \"%s\", \"avx2\": %d, \"avx512\": %d, \"fma\": %d},\n",
               GGML_VARIANT, ggml_version(), ggml_commit(), ggml_cpu_has_avx2(), ggml_cpu_has_avx512(), ggml_cpu_has_fma());
        printf("  \"libs\": [");
        for (int l = 0; l < n_libs; l++)
            printf("%s{\"label\": \"%s\", \"path\": \"%s\", \"version\": \"%s\"}", l ? ", " : "", libs[l].label, libs[l].path, libs[l].version);
        printf("],\n  \"cases\": [\n");
        for (int i = 0; i < nc; i++) {
            Case *c = &cases[i];
            printf("    {\"name\": \"%s\", \"mode\": \"%s\", \"threads\": %d, \"tokens\": %d, \"q_heads\": %d, \"k_heads\": %d, \"ggml_ns\": ",
                   c->name, c->mode, c->threads, c->tokens, c->q_heads, c->k_heads);
            json_num(c->ggml_ns); printf(", \"ggml_per_node_of_32_ns\": "); json_num(c->ggml_graph_ns);
            printf(", \"mem_ns\": "); json_num(c->mem_ns);
            printf(", \"loop_ns\": "); json_num(c->loop_ns); printf(", \"ours\": [");
            for (int l = 0; l < n_libs; l++) {
                printf("%s{\"lib\": \"%s\", \"rope_ns\": ", l ? ", " : "", libs[l].label); json_num(c->rope_ns[l]);
                printf(", \"resonance_ns\": "); json_num(c->res_ns[l]);
                printf(", \"ggml_over_rope\": "); json_num(ggml_best(c) / c->rope_ns[l]);
                printf(", \"ggml_over_resonance\": "); json_num(ggml_best(c) / c->res_ns[l]);
                printf(", \"loop_over_rope\": "); json_num(c->loop_ns / c->rope_ns[l]);
                printf(", \"loop_over_resonance\": "); json_num(c->loop_ns / c->res_ns[l]); printf("}");
            }
            printf("]}%s\n", i + 1 < nc ? "," : "");
        }
        printf("  ],\n  \"agreement\": [\n");
        for (int m = 0; m < 2; m++) {
            Agreement *a = &agree[m];
            printf("    {\"case\": \"prefill %dx%dx%d positions 0..%d\", \"mode\": \"%s\", \"ggml_max_err\": %.3g, \"loop_max_err\": %.3g, \"ours\": [",
                   PREFILL_TOKENS, PREFILL_HEADS, D, PREFILL_TOKENS - 1, a->mode, a->ggml_err, a->loop_err);
            for (int l = 0; l < n_libs; l++)
                printf("%s{\"lib\": \"%s\", \"rope_max_err\": %.3g, \"resonance_max_err\": %.3g, \"max_diff_vs_ggml\": %.3g}",
                       l ? ", " : "", libs[l].label, a->our_err[l], a->our_res_err[l], a->ggml_vs_ours[l]);
            printf("]}%s\n", m ? "" : ",");
        }
        printf("  ],\n  \"cos_sin_error\": [\n");
        for (int s = 0; s < N_STARTS; s++) {
            printf("    {\"positions\": \"%lld..%lld\", \"ggml_max_err\": %.3g, \"ours\": [", (long long)angles[s].start,
                   (long long)angles[s].start + ANGLE_TOKENS - 1, angles[s].ggml_err);
            for (int l = 0; l < n_libs; l++)
                printf("%s{\"lib\": \"%s\", \"rope_max_err\": %.3g, \"resonance_max_err\": %.3g}", l ? ", " : "",
                       libs[l].label, angles[s].our_err[l], angles[s].our_res_err[l]);
            printf("]}%s\n", s + 1 < N_STARTS ? "," : "");
        }
        printf("  ],\n  \"agreement_ok\": %s\n}\n", agree_ok ? "true" : "false");
        return agree_ok ? 0 : 1;
    }

    printf("bench_ggml: ggml_rope_ext (in place) vs rr_rope_apply_f32_inplace, same run, interleaved\n");
    printf("cpu: %s\n", cpu);
    const char *wait_policy = getenv("OMP_WAIT_POLICY");
    printf("ggml %s (commit %s), build %s, avx2 %d avx512 %d fma %d, OpenMP threads (OMP_WAIT_POLICY %s), persistent threadpool\n",
           ggml_version(), ggml_commit(), GGML_VARIANT, ggml_cpu_has_avx2(), ggml_cpu_has_avx512(), ggml_cpu_has_fma(),
           wait_policy ? wait_policy : "unset");
    for (int l = 0; l < n_libs; l++) printf("ours [%s]: %s (%s)\n", libs[l].label, libs[l].path, libs[l].version);
    printf("f32, d = 128, base 10000, no scaling; %d rounds, medians; seed %llu\n", rounds, (unsigned long long)seed);
    printf("rope = our plain RoPE (the fair comparison), res = our Resonance RoPE (same work, other frequencies)\n");
    printf("x/ggml = ggml time / our time (> 1: we are faster), ggml's faster of its two columns\n");
    printf("decode: per call, 1 token at a fresh position, angles included; ggml/32 = ggml per node of a 32-node graph\n");
    printf("mem = x *= c in place over the same buffer, same threads\n");
    printf("loop = the hand-written C loop (%s, no FMA) over a cos/sin table precomputed untimed; x/loop = its time / ours\n\n", loop_isa);
    printf("%-22s %-11s %2s %9s %9s %9s %9s", "case", "mode", "th", "ggml", "ggml/32", "mem", "loop");
    for (int l = 0; l < n_libs; l++) printf(" | %-9.9s %6s %6s %9s %6s %6s", libs[l].label, "x/ggml", "x/loop", "res", "x/ggml", "x/loop");
    printf("\n");
    for (int i = 0; i < nc; i++) {
        Case *c = &cases[i];
        printf("%-22s %-11s %2d", c->name, c->mode, c->threads);
        print_time(c->ggml_ns); print_time(c->ggml_graph_ns); print_time(c->mem_ns); print_time(c->loop_ns);
        for (int l = 0; l < n_libs; l++) {
            printf(" |"); print_time(c->rope_ns[l]); printf(" %6.2f", ggml_best(c) / c->rope_ns[l]);
            if (isnan(c->loop_ns)) printf(" %6s", "-"); else printf(" %6.2f", c->loop_ns / c->rope_ns[l]);
            print_time(c->res_ns[l]); printf(" %6.2f", ggml_best(c) / c->res_ns[l]);
            if (isnan(c->loop_ns)) printf(" %6s", "-"); else printf(" %6.2f", c->loop_ns / c->res_ns[l]);
        }
        printf("\n");
    }
    printf("\nagreement, prefill %dx%dx%d at positions 0..%d, 1 thread, max |out - float64 reference|:\n",
           PREFILL_TOKENS, PREFILL_HEADS, D, PREFILL_TOKENS - 1);
    for (int m = 0; m < 2; m++) {
        Agreement *a = &agree[m];
        printf("  %-11s ggml %.3g, loop %.3g", a->mode, a->ggml_err, a->loop_err);
        for (int l = 0; l < n_libs; l++)
            printf(" | %s rope %.3g (max |ours - ggml| %.3g), res %.3g vs its own reference", libs[l].label,
                   a->our_err[l], a->ggml_vs_ours[l], a->our_res_err[l]);
        printf("\n");
    }
    printf("  %s (bounds: ggml %g, ours and the loop %g)\n", agree_ok ? "agreement OK" : "AGREEMENT FAILED", AGREE_GGML, AGREE_OURS);
    printf("\ncos/sin error (unit input pairs, %d positions from each start), max |value - float64|:\n", ANGLE_TOKENS);
    for (int s = 0; s < N_STARTS; s++) {
        printf("  from %8lld: ggml %.3g", (long long)angles[s].start, angles[s].ggml_err);
        for (int l = 0; l < n_libs; l++)
            printf(" | %s rope %.3g, res %.3g", libs[l].label, angles[s].our_err[l], angles[s].our_res_err[l]);
        printf("\n");
    }
    return agree_ok ? 0 : 1;
}

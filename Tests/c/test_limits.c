/* The limits each entry point states in the header (issue 13, items 1-4 and 8):
 *   counts     rr_rope_params' factor-array counts: a wrong count is refused before the array is
 *              read (arrays end at a PROT_NONE page: a read past them faults);
 *   memory     out of memory gives RR_STATUS_OUT_OF_MEMORY, never an abort: each case runs in a
 *              forked child under RLIMIT_AS (the child's exit code is the status; a signal fails);
 *   values     one rule for the final attention factor (given or derived), float32 outputs never
 *              0 or infinite;
 *   gap        the feature gap's work is bounded: Resonance handles in closed form (checked against
 *              a float64 brute force written here), the scan capped at (d/2) L' <= 2^27;
 *   overlap    an output overlapping another argument gives RR_STATUS_OVERLAP, adjacent is fine.
 * Built with -std=c99 -Wall -Wextra -Werror -pedantic. Deterministic (no random inputs). */
#define _DEFAULT_SOURCE
#include <resonance_rope.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;

static void check(int ok, const char *what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("test_limits: FAILED: %s (last error: %s)\n", what, rr_last_error_message());
    }
}

static void expect(rr_status got, rr_status want, const char *what) {
    char text[320];
    snprintf(text, sizeof text, "%s: status %d (%s), want %d (%s)", what, got, rr_status_string(got), want,
             rr_status_string(want));
    check(got == want, text);
}

/* n bytes ending exactly at a PROT_NONE page. */
static void *guarded(size_t n) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = (n + page - 1) / page;
    unsigned char *m = (unsigned char *)mmap(NULL, (pages + 1) * page, PROT_READ | PROT_WRITE,
                                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m + pages * page, page, PROT_NONE) != 0) abort();
    return m + pages * page - n;
}

static rr_rope *make(int d, int resonance) {
    rr_rope_params p;
    rr_rope *r = NULL;
    rr_rope_params_init(&p);
    p.rotary_dim = d;
    p.resonance = resonance;
    if (rr_rope_create(&p, &r) != RR_STATUS_OK) abort();
    return r;
}

/* ---- item 1: factor-array counts ------------------------------------------------------------- */

static void test_counts(void) {
    enum { D = 64, H = D / 2 };
    rr_rope_params p;
    rr_rope *const canary = (rr_rope *)(void *)&passed, *r;
    double *one = (double *)guarded(sizeof(double)), *full = (double *)guarded(H * sizeof(double));
    double *full2 = (double *)guarded(H * sizeof(double)), inv[H];
    const int64_t bad[] = {1, H - 1, H + 1, -1, INT64_MAX, INT64_MIN};
    int i, k, ok;
    one[0] = 2.0;
    for (i = 0; i < H; i++) full[i] = full2[i] = 1.0 + i;
    for (k = 0; k < 3; k++) {
        for (i = 0; i < (int)(sizeof bad / sizeof bad[0]); i++) {
            char what[160];
            rr_rope_params_init(&p);
            p.rotary_dim = D;
            p.scaling = k == 2 ? RR_SCALING_FREQ_FACTORS : RR_SCALING_LONGROPE;
            p.original_max_position = 4096;
            p.max_position = 16384;
            /* the array with the wrong count holds 1 double before a guard page */
            p.short_factor = k == 0 ? one : full;
            p.long_factor = k == 1 ? one : full2;
            p.freq_factors = k == 2 ? one : NULL;
            if (k == 0) p.short_factor_count = bad[i];
            if (k == 1) p.long_factor_count = bad[i];
            if (k == 2) p.freq_factors_count = bad[i];
            r = canary;
            snprintf(what, sizeof what, "%s_count = %lld refused before the array is read",
                     k == 0 ? "short_factor" : k == 1 ? "long_factor" : "freq_factors", (long long)bad[i]);
            expect(rr_rope_create(&p, &r), RR_STATUS_INVALID_DIMENSION, what);
            check(r == canary, "out_rope unchanged on a wrong count");
        }
    }
    /* the true count, and 0 (rotary_dim / 2, the 0.1.0 meaning), are accepted and give the
     * float64 formula base^(-2i/d) / f_i */
    for (k = 0; k < 2; k++) {
        rr_rope_params_init(&p);
        p.rotary_dim = D;
        p.scaling = RR_SCALING_FREQ_FACTORS;
        p.freq_factors = full;
        p.freq_factors_count = k ? H : 0;
        r = NULL;
        expect(rr_rope_create(&p, &r), RR_STATUS_OK, k ? "freq_factors_count = rotary_dim / 2" : "freq_factors_count = 0");
        expect(rr_rope_inv_freq_f64(r, inv, H), RR_STATUS_OK, "inv_freq");
        for (i = 0, ok = 1; i < H; i++) ok = ok && fabs(inv[i] - pow(10000.0, -2.0 * i / D) / full[i]) <= 1e-15 * inv[i];
        check(ok, "freq_factors values with a count");
        rr_rope_free(r);
    }
    /* a count for an array the scaling does not read is still checked */
    rr_rope_params_init(&p);
    p.rotary_dim = D;
    p.short_factor_count = 5;
    r = canary;
    expect(rr_rope_create(&p, &r), RR_STATUS_INVALID_DIMENSION, "a wrong count with RR_SCALING_NONE");
}

/* ---- item 2: out of memory ------------------------------------------------------------------- */

/* Address space in use by this process now (bytes), from /proc/self/statm. */
static size_t address_space(void) {
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL || fscanf(f, "%lu", &pages) != 1) abort();
    fclose(f);
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

typedef int (*limited_call)(void *arg);

/* Runs call(arg) in a child limited to its current address space plus `headroom` bytes. The
 * child's exit code is the call's status; a signal (abort, trap) means the library crashed. */
static void under_limit(const char *what, size_t headroom, limited_call call, void *arg, rr_status want) {
    pid_t pid;
    int ws = 0;
    char text[320];
    fflush(stdout);
    pid = fork();
    if (pid < 0) abort();
    if (pid == 0) {
        struct rlimit lim;
        size_t now = address_space();
        lim.rlim_cur = lim.rlim_max = (rlim_t)(now + headroom);
        if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(100);
        _exit(call(arg));
    }
    if (waitpid(pid, &ws, 0) != pid) abort();
    if (WIFSIGNALED(ws)) {
        snprintf(text, sizeof text, "%s: the child died of signal %d (want status %d)", what, WTERMSIG(ws), want);
        check(0, text);
    } else {
        snprintf(text, sizeof text, "%s under RLIMIT_AS (+%zu MiB)", what, headroom >> 20);
        expect((rr_status)WEXITSTATUS(ws), want, text);
    }
}

static int call_gap_large_L(void *arg) {
    /* no Resonance, L = 2^24: the scan's scratch is 768 MiB */
    rr_rope *r = make(8, 0);
    double gaps[4];
    (void)arg;
    return rr_rope_feature_gap(r, (int64_t)1 << 24, ((int64_t)1 << 24) + 1, gaps, 4, NULL);
}

static int call_many_handles(void *arg) {
    /* d = 65536 Resonance handles until the memory runs out: the first failure must be a status */
    rr_rope *keep[1000];
    rr_status st = RR_STATUS_OK;
    int n = 0;
    (void)arg;
    while (n < 1000) {
        rr_rope_params p;
        rr_rope_params_init(&p);
        p.rotary_dim = 65536;
        p.resonance = 1;
        st = rr_rope_create(&p, &keep[n]);
        if (st != RR_STATUS_OK) break;
        n++;
    }
    if (n == 0 || n == 1000) return 99;  /* never ran out, or could not create even one */
    if (st != RR_STATUS_OUT_OF_MEMORY) return st;
    {
        /* Squeeze: map away all address space left (chunks of 16 MiB down to one page), then
         * give back 1 MiB: too little for a handle, but enough for the first of its per-pair
         * arrays, so an unchecked allocation after the first would be the one to fail. */
        static const size_t sizes[] = {(size_t)16 << 20, (size_t)1 << 20, (size_t)64 << 10, 4096};
        void *last_mib = NULL;
        rr_rope *extra = NULL;
        rr_rope_params p;
        for (int s = 0; s < 4; s++)
            for (;;) {
                void *m = mmap(NULL, sizes[s], PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (m == MAP_FAILED) break;
                if (s == 1) last_mib = m;
            }
        if (last_mib == NULL || munmap(last_mib, (size_t)1 << 20) != 0) return 98;
        rr_rope_params_init(&p);
        p.rotary_dim = 65536;
        p.resonance = 1;
        return rr_rope_create(&p, &extra);
    }
}

static int call_text(void *arg) {
    const char *text = (const char *)arg;
    rr_rope *r = NULL;
    int gguf = text[0] == 'g';
    return gguf ? rr_rope_create_from_gguf_metadata(text, -1, 0, 0, -1, &r)
                : rr_rope_create_from_hf_config(text, -1, 0, 0, &r);
}

/* A ~60 MB configuration text: the valid settings, then padding the parser must parse (GGUF:
 * distinct keys "general.pad<n>=1", JSON: one array of numbers). */
static char *big_text(int gguf, size_t bytes) {
    static const char gguf_head[] = "general.architecture=llama\nllama.rope.freq_base=10000\n"
                                    "llama.rope.dimension_count=128\nllama.context_length=4096\n";
    static const char hf_head[] = "{\"hidden_size\": 4096, \"num_attention_heads\": 32, \"max_position_embeddings\": 4096, "
                                  "\"rope_theta\": 10000.0, \"padding\": [1";
    char *t = (char *)malloc(bytes + 64);
    size_t h, n = 0;
    if (t == NULL) abort();
    if (gguf) {
        h = strlen(gguf_head);
        memcpy(t, gguf_head, h);
        while (h < bytes) h += (size_t)sprintf(t + h, "general.pad%zu=1\n", n++);
    } else {
        h = strlen(hf_head);
        memcpy(t, hf_head, h);
        while (h < bytes) {
            memcpy(t + h, ",1", 2);
            h += 2;
        }
        memcpy(t + h, "]}", 3);
    }
    t[bytes + 2] = '\0';
    return t;
}

static void test_memory(void) {
    char *gguf = big_text(1, 60u << 20), *hf = big_text(0, 60u << 20);
    under_limit("rr_rope_feature_gap, L = 2^24", (size_t)200 << 20, call_gap_large_L, NULL, RR_STATUS_OUT_OF_MEMORY);
    under_limit("repeated d = 65536 Resonance handles", (size_t)200 << 20, call_many_handles, NULL, RR_STATUS_OUT_OF_MEMORY);
    under_limit("a 60 MB GGUF text", (size_t)200 << 20, call_text, gguf, RR_STATUS_OUT_OF_MEMORY);
    under_limit("a 60 MB config.json", (size_t)200 << 20, call_text, hf, RR_STATUS_OUT_OF_MEMORY);
    free(gguf);
    free(hf);
}

/* ---- item 3: the final attention factor and float32 outputs ---------------------------------- */

static rr_status create_with(rr_rope_params *p, rr_rope **out) {
    *out = NULL;
    return rr_rope_create(p, out);
}

static void test_values(void) {
    rr_rope_params p;
    rr_rope *r = NULL;
    rr_rope_info info;
    float f[32];
    int i, ok;
    /* YaRN: 0.1 * 1e300 * ln 2 + 1 over 0.1 * ln 2 + 1: a derived factor far above FLT_MAX */
    rr_rope_params_init(&p);
    p.rotary_dim = 64;
    p.scaling = RR_SCALING_YARN;
    p.factor = 2;
    p.original_max_position = 4096;
    p.mscale = 1e300;
    p.mscale_all_dim = 1;
    expect(create_with(&p, &r), RR_STATUS_INVALID_VALUE, "YaRN mscale 1e300: derived attention factor > FLT_MAX");
    /* just below FLT_MAX is accepted: (0.1 m ln 2 + 1) / (0.1 ln 2 + 1) = 3e38 */
    p.mscale = (3e38 * (0.1 * log(2.0) + 1) - 1) / (0.1 * log(2.0));
    expect(create_with(&p, &r), RR_STATUS_OK, "YaRN derived attention factor 3e38 <= FLT_MAX");
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    check(rr_rope_get_info(r, &info) == RR_STATUS_OK && info.attention_factor <= FLT_MAX, "attention factor reported");
    rr_rope_free(r);
    /* the explicit factor: the same rule */
    rr_rope_params_init(&p);
    p.rotary_dim = 64;
    p.attention_factor = 1e300;
    expect(create_with(&p, &r), RR_STATUS_INVALID_VALUE, "explicit attention_factor 1e300");
    p.attention_factor = FLT_MAX;
    expect(create_with(&p, &r), RR_STATUS_OK, "explicit attention_factor FLT_MAX");
    rr_rope_free(r);
    /* from an HF config: mscale 1e300 */
    {
        static const char json[] = "{\"hidden_size\": 4096, \"num_attention_heads\": 32, \"max_position_embeddings\": 8192,"
                                   " \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 2.0, "
                                   "\"original_max_position_embeddings\": 4096, \"mscale\": 1e300, \"mscale_all_dim\": 1}}";
        r = NULL;
        expect(rr_rope_create_from_hf_config(json, -1, 0, 0, &r), RR_STATUS_INVALID_VALUE, "HF config yarn mscale 1e300");
    }
    /* float32 inverse frequencies that would be infinite (linear factor 1e-300: theta_0 = 1e300)
     * or 0 (base 1e300: theta_31 = 1e300^(-62/64)) */
    rr_rope_params_init(&p);
    p.rotary_dim = 64;
    p.scaling = RR_SCALING_LINEAR;
    p.factor = 1e-300;
    expect(create_with(&p, &r), RR_STATUS_INVALID_VALUE, "linear factor 1e-300: float32 inv_freq inf");
    p.resonance = 1;
    expect(create_with(&p, &r), RR_STATUS_INVALID_VALUE, "linear factor 1e-300 with Resonance");
    rr_rope_params_init(&p);
    p.rotary_dim = 64;
    p.base = 1e300;
    expect(create_with(&p, &r), RR_STATUS_INVALID_VALUE, "base 1e300: float32 inv_freq 0");
    /* the largest accepted theta under Resonance: every rope_freqs divisor finite and > 0 */
    rr_rope_params_init(&p);
    p.rotary_dim = 64;
    p.resonance = 1;
    p.scaling = RR_SCALING_LINEAR;
    p.factor = 1e-30;
    expect(create_with(&p, &r), RR_STATUS_OK, "linear factor 1e-30 with Resonance (theta_0 = 1e30)");
    expect(rr_rope_resonance_freq_factors(r, f, 32), RR_STATUS_OK, "resonance_freq_factors");
    for (i = 0, ok = 1; i < 32; i++) ok = ok && isfinite(f[i]) && f[i] > 0;
    check(ok, "every rope_freqs divisor finite and > 0");
    expect(rr_rope_inv_freq_f32(r, f, 32), RR_STATUS_OK, "inv_freq_f32");
    for (i = 0, ok = 1; i < 32; i++) ok = ok && isfinite(f[i]) && f[i] > 0;
    check(ok, "every float32 inv_freq finite and > 0");
    rr_rope_free(r);
}

/* ---- item 4: bounded feature-gap work -------------------------------------------------------- */

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* float64 brute force for periodic pairs: angles 2 pi (m mod P) / P, chord distances. */
static double brute_periodic_gap(int64_t P, int64_t L, int64_t Lp) {
    double worst = 0;
    int64_t n, m;
    for (n = L; n < Lp; n++) {
        double best = 4;
        for (m = 0; m < L; m++) {
            double a = 2 * M_PI * (double)(n % P) / (double)P, b = 2 * M_PI * (double)(m % P) / (double)P;
            double c = 2 * fabs(sin((a - b) / 2));
            if (c < best) best = c;
        }
        if (best > worst) worst = best;
    }
    return worst;
}

static void test_gap(void) {
    double gaps[64], t0;
    int64_t P[8];
    int i, ok;
    rr_rope *plain2 = make(2, 0), *res128 = make(128, 1), *res16 = make(16, 1);
    /* d = 2, L = 1, L' = 2^28 without Resonance took 13 s: now above the cap */
    expect(rr_rope_feature_gap(plain2, 1, (int64_t)1 << 28, gaps, 1, NULL), RR_STATUS_OVERFLOW,
           "no Resonance, (d/2) L' = 2^28 > 2^27");
    /* Resonance: closed form, any L' up to 2^40, no scratch */
    t0 = seconds();
    expect(rr_rope_feature_gap(res128, (int64_t)1 << 24, (int64_t)1 << 40, gaps, 64, NULL), RR_STATUS_OK,
           "Resonance d = 128, L = 2^24, L' = 2^40");
    check(seconds() - t0 < 1.0, "Resonance gap at L' = 2^40 in under a second");
    t0 = seconds();
    expect(rr_rope_feature_gap(res128, 1, (int64_t)1 << 40, gaps, 64, NULL), RR_STATUS_OK, "Resonance d = 128, L = 1, L' = 2^40");
    check(seconds() - t0 < 1.0, "Resonance gap at L = 1, L' = 2^40 in under a second");
    /* closed form vs the float64 brute force, short and long test ranges (L' below and above P) */
    expect(rr_rope_resonance_wavelengths(res16, P, 8), RR_STATUS_OK, "resonance wavelengths");
    {
        static const int64_t lengths[][2] = {{5, 40}, {20, 60}, {50, 400}, {7, 5000}, {100, 700}};
        for (int c = 0; c < 5; c++) {
            int64_t L = lengths[c][0], Lp = lengths[c][1];
            char what[120];
            expect(rr_rope_feature_gap(res16, L, Lp, gaps, 8, NULL), RR_STATUS_OK, "Resonance d = 16 gap");
            for (i = 0, ok = 1; i < 8; i++) {
                double want = brute_periodic_gap(P[i], L, Lp);
                if (fabs(gaps[i] - want) > 1e-12) {
                    ok = 0;
                    printf("  pair %d (P = %lld), L %lld, L' %lld: %.17g vs brute force %.17g\n", i, (long long)P[i],
                           (long long)L, (long long)Lp, gaps[i], want);
                }
            }
            snprintf(what, sizeof what, "closed form = float64 brute force (L = %lld, L' = %lld)", (long long)L, (long long)Lp);
            check(ok, what);
        }
    }
    rr_rope_free(plain2);
    rr_rope_free(res128);
    rr_rope_free(res16);
}

/* ---- item 8: overlapping outputs ------------------------------------------------------------- */

static void test_overlap(void) {
    rr_rope *r = make(8, 0);
    double store[32], qstore[20];          /* 8-byte aligned float storage */
    float *buf = (float *)(void *)store;
    int i;
    {
        /* positions inside q */
        float *q = (float *)(void *)qstore;
        rr_rotation rot;
        rr_rotation_init(&rot);
        rot.n_tokens = 4;
        rot.q = q;
        rot.q_heads = 1;
        rot.q_token_stride = 8;
        rot.q_head_stride = 8;
        rot.positions = (const int64_t *)(void *)(q + 8); /* 4 int64 = 8 floats, inside q's 32 */
        memset(qstore, 0, sizeof qstore);
        expect(rr_rope_apply_f32_inplace(r, &rot), RR_STATUS_OVERLAP, "positions inside q");
        rot.positions = (const int64_t *)(void *)(q + 32); /* right after q: accepted */
        memset(qstore, 0, sizeof qstore);
        expect(rr_rope_apply_f32_inplace(r, &rot), RR_STATUS_OK, "positions right after q");
        /* inside k */
        {
            double kstore[16];
            float *k = (float *)(void *)kstore;
            rot.k = k;
            rot.k_heads = 1;
            rot.k_token_stride = 8;
            rot.k_head_stride = 8;
            rot.positions = (const int64_t *)(void *)(k + 2);
            expect(rr_rope_apply_f32_inplace(r, &rot), RR_STATUS_OVERLAP, "positions inside k");
        }
    }
    {
        /* cos/sin tables over their positions: 4 positions x 4 floats (half layout) */
        int64_t *pos = (int64_t *)(void *)buf;  /* 4 int64 = buf[0 .. 8) */
        for (i = 0; i < 4; i++) pos[i] = i;
        expect(rr_rope_cos_sin_f32(r, RR_TABLE_LAYOUT_HALF, 0, pos, 0, 4, buf + 6, buf + 40), RR_STATUS_OVERLAP,
               "cos_out overlapping positions");
        expect(rr_rope_cos_sin_f32(r, RR_TABLE_LAYOUT_HALF, 0, pos, 0, 4, buf + 40, buf + 7), RR_STATUS_OVERLAP,
               "sin_out overlapping positions");
        expect(rr_rope_cos_sin_f32(r, RR_TABLE_LAYOUT_HALF, 0, pos, 0, 4, buf + 8, buf + 24), RR_STATUS_OK,
               "cos_out and sin_out right after the positions");
        expect(rr_rope_cos_sin_f32(r, RR_TABLE_LAYOUT_HALF, 0, pos, 0, 4, buf + 8, buf + 23), RR_STATUS_OVERLAP,
               "sin_out overlapping cos_out by one float");
    }
    {
        /* a gap summary overlapping its own gaps */
        double g[16];
        rr_gap_summary *s = (rr_gap_summary *)(void *)(g + 2);
        s->struct_size = sizeof *s;
        expect(rr_rope_feature_gap(r, 16, 64, g, 16, s), RR_STATUS_OVERLAP, "summary inside the gaps");
        s = (rr_gap_summary *)(void *)(g + 4);
        s->struct_size = sizeof *s;
        expect(rr_rope_feature_gap(r, 16, 64, g, 4, s), RR_STATUS_OK, "summary right after the 4 gaps");
    }
    {
        /* the two counts of rr_rope_count_pairs at one address */
        int64_t x;
        expect(rr_rope_count_pairs(r, 16, &x, &x), RR_STATUS_OVERLAP, "pre_critical and periodic at one address");
    }
    {
        /* out_rope inside the params it is created from */
        rr_rope_params p;
        rr_rope_params_init(&p);
        p.rotary_dim = 8;
        expect(rr_rope_create(&p, (rr_rope **)(void *)&p.reserved[4]), RR_STATUS_OVERLAP, "out_rope inside params");
    }
    {
        /* PosGen scoring: per_position overlapping predicted; result overlapping reference */
        rr_posgen_params p;
        rr_posgen_result res;
        int64_t pstore[16], rstore[16];   /* 8-byte aligned int32 storage */
        int32_t *pred = (int32_t *)(void *)pstore, *ref = (int32_t *)(void *)rstore;
        double per[16];
        rr_posgen_params_init(&p);
        p.length = 16;
        for (i = 0; i < 32; i++) pred[i] = ref[i] = i % 7;
        res.struct_size = sizeof res;
        expect(rr_posgen_score(&p, pred, ref, 2, 8, (double *)(void *)(pred + 2), &res), RR_STATUS_OVERLAP,
               "per_position overlapping predicted");
        ((rr_posgen_result *)(void *)(ref + 4))->struct_size = sizeof res;
        expect(rr_posgen_score(&p, pred, ref, 2, 8, per, (rr_posgen_result *)(void *)(ref + 4)), RR_STATUS_OVERLAP,
               "result overlapping reference");
        for (i = 0; i < 32; i++) ref[i] = pred[i];
        expect(rr_posgen_score(&p, pred, ref, 2, 8, per, &res), RR_STATUS_OK, "disjoint score arguments");
        check(res.id_correct == res.id_total && res.ood_correct == res.ood_total, "scores of identical sequences");
        /* a sequence written over its own seeds */
        {
            int32_t tok[16] = {1, 2, 3, 4};
            expect(rr_posgen_sequence(&p, tok, tok, 16), RR_STATUS_OVERLAP, "tokens overlapping the seeds");
        }
    }
    rr_rope_free(r);
}

/* test_limits [SECTION ...]: all sections, or the named ones (counts values gap overlap memory). */
int main(int argc, char **argv) {
    static const struct { const char *name; void (*run)(void); } sections[] = {
        {"counts", test_counts}, {"values", test_values}, {"gap", test_gap}, {"overlap", test_overlap}, {"memory", test_memory}};
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int s = 0; s < 5; s++) {
        int on = argc < 2;
        for (int a = 1; a < argc; a++) on = on || strcmp(argv[a], sections[s].name) == 0;
        if (on) sections[s].run();
    }
    printf("test_limits: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}

/* resonance-rope C example: Resonance RoPE tables for a Llama-2-7B-like setting
 * (head dim 128, base 10000, trained on L = 4096 tokens), an in-place q/k rotation, and a check
 * against a naive double-precision loop. Built against the installed header and library through
 * pkg-config (see Makefile). */
#include <resonance_rope.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define D 128            /* rotary dim = head dim */
#define HALF (D / 2)
#define TRAIN_LENGTH 4096
#define N_TOKENS 8
#define Q_HEADS 32
#define K_HEADS 8

static int check(rr_status s, const char *what) {
    if (s != RR_STATUS_OK) {
        fprintf(stderr, "%s failed: %s (%s)\n", what, rr_status_string(s), rr_last_error_message());
        return 0;
    }
    return 1;
}

int main(void) {
    rr_rope_params params;
    rr_rope_params_init(&params);
    params.rotary_dim = D;
    params.base = 10000.0;
    params.resonance = 1;

    rr_rope *plain = NULL, *resonance = NULL;
    if (!check(rr_rope_create(&params, &resonance), "rr_rope_create")) return 1;
    params.resonance = 0;
    if (!check(rr_rope_create(&params, &plain), "rr_rope_create")) return 1;

    printf("resonance-rope %s (header %s): d = %d, base = 10000, training length L = %d\n",
           rr_version_string(), RR_VERSION_STRING, D, TRAIN_LENGTH);

    double lambda[HALF], inv[HALF];
    int64_t rounded[HALF], pre_critical = 0, periodic = 0;
    if (!check(rr_rope_wavelengths(resonance, lambda, HALF), "wavelengths") ||
        !check(rr_rope_resonance_wavelengths(resonance, rounded, HALF), "resonance wavelengths") ||
        !check(rr_rope_inv_freq_f64(resonance, inv, HALF), "inv_freq") ||
        !check(rr_rope_count_pairs(resonance, TRAIN_LENGTH, &pre_critical, &periodic), "count"))
        return 1;
    printf("pre-critical pairs (lambda < L): %lld of %d; exactly periodic under Resonance: %lld\n",
           (long long)pre_critical, HALF, (long long)periodic);
    printf("  pair  wavelength      rounded  theta~\n");
    for (int i = 0; i < HALF; i += 9)
        printf("  %4d  %14.6f  %7lld  %.17g\n", i, lambda[i], (long long)rounded[i], inv[i]);

    /* Out-of-distribution feature gap (the paper's Section 4): per pair, how far the features at
     * new positions [L, 4L) can be from every feature seen in training [0, L); for L and 4L. */
    printf("feature gap (test length 4x the training length), largest over pre-critical pairs / all pairs:\n");
    for (int64_t train = TRAIN_LENGTH; train <= 4 * TRAIN_LENGTH; train *= 4) {
        double gap_plain[HALF], gap_res[HALF];
        rr_gap_summary sp, sr;
        sp.struct_size = sr.struct_size = sizeof(rr_gap_summary);
        if (!check(rr_rope_feature_gap(plain, train, 4 * train, gap_plain, HALF, &sp), "gap") ||
            !check(rr_rope_feature_gap(resonance, train, 4 * train, gap_res, HALF, &sr), "gap"))
            return 1;
        printf("  L = %5lld: RoPE %.6f / %.6f   Resonance RoPE %.6f / %.6f   (critical pair %d)\n",
               (long long)train, sp.max_pre_critical_gap, sp.max_gap, sr.max_pre_critical_gap, sr.max_gap,
               sp.critical_pair);
    }

    /* q: [N_TOKENS, Q_HEADS, D], k: [N_TOKENS, K_HEADS, D], token-major, at positions far past L. */
    size_t nq = (size_t)N_TOKENS * Q_HEADS * D, nk = (size_t)N_TOKENS * K_HEADS * D;
    float *q = malloc(nq * sizeof *q), *k = malloc(nk * sizeof *k);
    double *q_ref = malloc(nq * sizeof *q_ref), *k_ref = malloc(nk * sizeof *k_ref);
    int64_t positions[N_TOKENS];
    if (!q || !k || !q_ref || !k_ref) return 1;
    srand(7);
    for (size_t i = 0; i < nq; i++) q_ref[i] = q[i] = (float)rand() / RAND_MAX - 0.5f;
    for (size_t i = 0; i < nk; i++) k_ref[i] = k[i] = (float)rand() / RAND_MAX - 0.5f;
    for (int t = 0; t < N_TOKENS; t++) positions[t] = 4 * TRAIN_LENGTH + 1000 * t;

    rr_rotation rot;
    rr_rotation_init(&rot);
    rot.n_tokens = N_TOKENS;
    rot.positions = positions;
    rot.q = q; rot.q_heads = Q_HEADS; rot.q_token_stride = Q_HEADS * D; rot.q_head_stride = D;
    rot.k = k; rot.k_heads = K_HEADS; rot.k_token_stride = K_HEADS * D; rot.k_head_stride = D;
    if (!check(rr_rope_apply_f32_inplace(resonance, &rot), "rr_rope_apply_f32_inplace")) return 1;

    /* Naive reference in double: angle = (m mod lambda~) * theta~, NeoX pairs (i, i + D/2). */
    double max_err = 0.0;
    for (int t = 0; t < N_TOKENS; t++) {
        for (int h = 0; h < Q_HEADS + K_HEADS; h++) {
            double *x = h < Q_HEADS ? q_ref + ((size_t)t * Q_HEADS + h) * D
                                    : k_ref + ((size_t)t * K_HEADS + h - Q_HEADS) * D;
            float *y = h < Q_HEADS ? q + ((size_t)t * Q_HEADS + h) * D
                                   : k + ((size_t)t * K_HEADS + h - Q_HEADS) * D;
            for (int i = 0; i < HALF; i++) {
                double a = 2.0 * M_PI * (double)(positions[t] % rounded[i]) / (double)rounded[i];
                double x1 = x[i], x2 = x[i + HALF];
                double r1 = x1 * cos(a) - x2 * sin(a), r2 = x2 * cos(a) + x1 * sin(a);
                double e1 = fabs(r1 - y[i]), e2 = fabs(r2 - y[i + HALF]);
                if (e1 > max_err) max_err = e1;
                if (e2 > max_err) max_err = e2;
            }
        }
    }
    printf("rotated %d tokens x (%d q + %d k heads) at positions %lld..%lld; "
           "max |error| vs double reference: %.3g\n",
           N_TOKENS, Q_HEADS, K_HEADS, (long long)positions[0], (long long)positions[N_TOKENS - 1], max_err);
    int ok = max_err < 1e-6;
    printf("self-check: %s\n", ok ? "PASS" : "FAIL");

    rr_rope_free(plain);
    rr_rope_free(resonance);
    free(q); free(k); free(q_ref); free(k_ref);
    return ok ? 0 : 1;
}

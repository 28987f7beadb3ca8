/* A caller compiled against the 0.1.0 header (make test-abi-compat copies it from git history into
 * Tests/c/bin/abi-0.1.0) runs against the current library. In 0.1.0 the factor arrays of
 * rr_rope_params carry no count (reserved[] must be 0); the library must still read exactly
 * rotary_dim / 2 values from each, and the results must be the float64 formulas:
 *   freq_factors: theta_i = base^(-2i/d) / f_i
 *   longrope:     theta_i = 1 / (ext_i * base^(2i/d)), ext = short_factor while sequence_length
 *                 <= original_max_position, else long_factor; attention sqrt(1 + ln s / ln L)
 * Each array ends right before a PROT_NONE page, so a read past rotary_dim / 2 values faults. */
#define _DEFAULT_SOURCE
#include <resonance_rope.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "guarded_buffer.h"

#if RR_VERSION_NUMBER != 100
#error "test_abi_compat must be compiled against the 0.1.0 header"
#endif

static int passed, failed;

static void check(int ok, const char *what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("test_abi_compat: FAILED: %s (%s)\n", what, rr_last_error_message());
    }
}

/* n doubles ending exactly at a PROT_NONE page, from the tests' guard-page buffers
 * (guarded_buffer.h: header-only and independent of the ABI header, so a 0.1.0 caller can use
 * it). The library only reads these arrays: at exit, release_buffers() checks that the slack
 * before each one is untouched, and unmaps them. */
static gb buffers[4];
static int n_buffers;

static double *guarded_doubles(size_t n) {
    if (n_buffers == (int)(sizeof buffers / sizeof buffers[0])) return NULL;
    buffers[n_buffers] = gb_alloc(n * sizeof(double), 1);
    return (double *)(void *)buffers[n_buffers++].data;
}

static void release_buffers(void) {
    int k;
    for (k = 0; k < n_buffers; k++) {
        check(gb_slack_intact(&buffers[k]), "nothing written around a factor array");
        gb_free(&buffers[k]);
    }
}

static int close_rel(double a, double b) { return fabs(a - b) <= 1e-15 * fabs(b); }

int main(void) {
    enum { D = 64, H = D / 2 };
    const double base = 10000.0;
    double inv[H];
    int i;
    check(sizeof(rr_rope_params) == 216, "the 0.1.0 rr_rope_params is 216 bytes");
    {
        /* freq_factors */
        rr_rope_params p;
        rr_rope *r = NULL;
        double *f = guarded_doubles(H);
        int ok = 1;
        check(f != NULL, "mmap");
        if (f == NULL) return 1;
        for (i = 0; i < H; i++) f[i] = 1.0 + 0.25 * i;
        rr_rope_params_init(&p);
        p.rotary_dim = D;
        p.scaling = RR_SCALING_FREQ_FACTORS;
        p.freq_factors = f;
        for (i = 0; i < 8; i++) ok = ok && p.reserved[i] == 0;
        check(ok, "rr_rope_params_init leaves the 0.1.0 reserved fields 0");
        check(rr_rope_create(&p, &r) == RR_STATUS_OK, "freq_factors handle from a 0.1.0 caller");
        check(rr_rope_inv_freq_f64(r, inv, H) == RR_STATUS_OK, "inv_freq");
        for (i = 0, ok = 1; i < H; i++) ok = ok && close_rel(inv[i], pow(base, -2.0 * i / D) / f[i]);
        check(ok, "freq_factors: inv_freq = base^(-2i/d) / f_i");
        rr_rope_free(r);
    }
    {
        /* longrope, short and long factors */
        rr_rope_params p;
        rr_rope_info info;
        double *s = guarded_doubles(H), *l = guarded_doubles(H);
        int pass, ok;
        if (s == NULL || l == NULL) return 1;
        for (i = 0; i < H; i++) {
            s[i] = 1.0 + 0.01 * i;
            l[i] = 2.0 + 0.5 * i;
        }
        for (pass = 0; pass < 2; pass++) {
            rr_rope *r = NULL;
            const double *ext = pass ? l : s;
            rr_rope_params_init(&p);
            p.rotary_dim = D;
            p.scaling = RR_SCALING_LONGROPE;
            p.short_factor = s;
            p.long_factor = l;
            p.original_max_position = 4096;
            p.max_position = 131072;
            p.sequence_length = pass ? 8192 : 100;
            check(rr_rope_create(&p, &r) == RR_STATUS_OK, "longrope handle from a 0.1.0 caller");
            check(rr_rope_inv_freq_f64(r, inv, H) == RR_STATUS_OK, "inv_freq");
            for (i = 0, ok = 1; i < H; i++) ok = ok && close_rel(inv[i], 1.0 / (ext[i] * pow(base, 2.0 * i / D)));
            check(ok, pass ? "longrope long factors" : "longrope short factors");
            memset(&info, 0, sizeof info);
            info.struct_size = sizeof info;
            check(rr_rope_get_info(r, &info) == RR_STATUS_OK &&
                      close_rel(info.attention_factor, sqrt(1 + log(32.0) / log(4096.0))), "longrope attention factor");
            rr_rope_free(r);
        }
    }
    {
        /* a 0.1.0 caller's nonzero reserved word is still refused */
        rr_rope_params p;
        rr_rope *r = NULL;
        rr_rope_params_init(&p);
        p.rotary_dim = D;
        p.reserved[7] = 1;
        check(rr_rope_create(&p, &r) == RR_STATUS_STRUCT_SIZE && r == NULL, "reserved[7] != 0 refused");
    }
    release_buffers();
    printf("test_abi_compat: %d passed, %d failed (0.1.0 header, library %s)\n", passed, failed, rr_version_string());
    return failed != 0;
}

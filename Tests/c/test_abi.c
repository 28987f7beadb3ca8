/* C ABI tests: every status path of every function with canary-filled outputs, and rotations and
 * tables against an independent double-precision reference written here. Built with
 * -std=c99 -Wall -Wextra -Werror -pedantic against the installed header and library. */
#include <resonance_rope.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
        }                                                                  \
    } while (0)

#define TWO_PI 6.283185307179586476925286766559

static const unsigned char CANARY = 0xA5;

static int all_canary(const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != CANARY) return 0;
    return 1;
}

/* Expect `status`, a non-empty message and a non-NULL status string. */
static void expect_status(rr_status got, rr_status want, const char *what) {
    CHECK(got == want, "%s: got %d (%s), want %d; message: %s", what, got, rr_status_string(got), want,
          rr_last_error_message());
    CHECK(rr_status_string(got) != NULL, "%s: NULL status string", what);
    if (want != RR_STATUS_OK) CHECK(strlen(rr_last_error_message()) > 0, "%s: empty message", what);
}

static rr_rope *make(int d, int head_dim, double base, int resonance, int layout) {
    rr_rope_params p;
    rr_rope *r = NULL;
    rr_rope_params_init(&p);
    p.rotary_dim = d;
    p.head_dim = head_dim;
    p.base = base;
    p.resonance = resonance;
    p.layout = layout;
    if (rr_rope_create(&p, &r) != RR_STATUS_OK) {
        fprintf(stderr, "make: %s\n", rr_last_error_message());
        exit(2);
    }
    return r;
}

/* Reference angle of pair i at position m (double), from the library's reported frequencies:
 * integer reduction for Resonance (exact), else m * theta via fmod on long double. */
static double ref_angle(int resonance, const int64_t *periods, const double *theta, int i, int64_t m) {
    if (resonance) {
        int64_t r = m % periods[i];
        if (r < 0) r += periods[i];
        return TWO_PI * (double)r / (double)periods[i];
    }
    long double a = (long double)m * (long double)theta[i];
    return (double)fmodl(a, 2.0L * 3.14159265358979323846264338327950288L);
}

static void test_version(void) {
    CHECK(rr_version_number() == RR_VERSION_NUMBER, "version number %u vs %d", rr_version_number(), RR_VERSION_NUMBER);
    CHECK(strcmp(rr_version_string(), RR_VERSION_STRING) == 0, "version string %s", rr_version_string());
    CHECK(RR_VERSION_NUMBER == RR_VERSION_MAJOR * 10000 + RR_VERSION_MINOR * 100 + RR_VERSION_PATCH, "macro");
    CHECK(rr_max_dim() == RR_MAX_DIM, "max dim");
    for (int s = -3; s < 40; s++) CHECK(rr_status_string(s) != NULL && rr_status_string(s)[0], "status string %d", s);
    CHECK(strcmp(rr_status_string(999), "unknown status") == 0, "unknown status text");
}

static void test_create_errors(void) {
    rr_rope_params p;
    rr_rope *canary_handle = (rr_rope *)(uintptr_t)0x1234, *r = canary_handle;
    rr_rope_params_init(NULL); /* must not crash */
    expect_status(rr_rope_create(NULL, &r), RR_STATUS_NULL_POINTER, "create(NULL)");
    rr_rope_params_init(&p);
    p.rotary_dim = 8;
    expect_status(rr_rope_create(&p, NULL), RR_STATUS_NULL_POINTER, "create(out NULL)");
    struct { int d, head; double base; int layout, scaling; uint32_t size; rr_status want; const char *what; } cases[] = {
        {0, 0, 10000, 0, 0, sizeof(rr_rope_params), RR_STATUS_INVALID_DIMENSION, "d = 0"},
        {7, 0, 10000, 0, 0, sizeof(rr_rope_params), RR_STATUS_INVALID_DIMENSION, "odd d"},
        {-8, 0, 10000, 0, 0, sizeof(rr_rope_params), RR_STATUS_INVALID_DIMENSION, "negative d"},
        {RR_MAX_DIM + 2, 0, 10000, 0, 0, sizeof(rr_rope_params), RR_STATUS_INVALID_DIMENSION, "huge d"},
        {8, 6, 10000, 0, 0, sizeof(rr_rope_params), RR_STATUS_INVALID_DIMENSION, "d > head_dim"},
        {8, -1, 10000, 0, 0, sizeof(rr_rope_params), RR_STATUS_INVALID_DIMENSION, "negative head_dim"},
        {8, 0, 1.0, 0, 0, sizeof(rr_rope_params), RR_STATUS_INVALID_VALUE, "base 1"},
        {8, 0, 0.5, 0, 0, sizeof(rr_rope_params), RR_STATUS_INVALID_VALUE, "base < 1"},
        {8, 0, -10, 0, 0, sizeof(rr_rope_params), RR_STATUS_INVALID_VALUE, "negative base"},
        {8, 0, NAN, 0, 0, sizeof(rr_rope_params), RR_STATUS_INVALID_VALUE, "NaN base"},
        {8, 0, INFINITY, 0, 0, sizeof(rr_rope_params), RR_STATUS_INVALID_VALUE, "inf base"},
        {8, 0, 10000, 2, 0, sizeof(rr_rope_params), RR_STATUS_UNKNOWN_ENUM, "layout 2"},
        {8, 0, 10000, -1, 0, sizeof(rr_rope_params), RR_STATUS_UNKNOWN_ENUM, "layout -1"},
        {8, 0, 10000, 0, 99, sizeof(rr_rope_params), RR_STATUS_UNKNOWN_ENUM, "scaling 99"},
        {8, 0, 10000, 0, 0, 0, RR_STATUS_STRUCT_SIZE, "struct_size 0"},
        {8, 0, 10000, 0, 0, sizeof(rr_rope_params) - 8, RR_STATUS_STRUCT_SIZE, "struct_size short"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        rr_rope_params_init(&p);
        p.rotary_dim = cases[c].d;
        p.head_dim = cases[c].head;
        p.base = cases[c].base;
        p.layout = cases[c].layout;
        p.scaling = cases[c].scaling;
        p.struct_size = cases[c].size;
        r = canary_handle;
        expect_status(rr_rope_create(&p, &r), cases[c].want, cases[c].what);
        CHECK(r == canary_handle, "%s: out_rope changed", cases[c].what);
    }
    rr_rope_params_init(&p);
    p.rotary_dim = 8;
    p.reserved[3] = 1;
    expect_status(rr_rope_create(&p, &r), RR_STATUS_STRUCT_SIZE, "reserved != 0");
    rr_rope_params_init(&p);
    p.rotary_dim = 8;
    p.attention_factor = -1;
    expect_status(rr_rope_create(&p, &r), RR_STATUS_INVALID_VALUE, "negative attention factor");
    p.attention_factor = NAN;
    expect_status(rr_rope_create(&p, &r), RR_STATUS_INVALID_VALUE, "NaN attention factor");
    rr_rope_params_init(&p);
    p.rotary_dim = 8;
    p.scaling = RR_SCALING_FREQ_FACTORS;
    expect_status(rr_rope_create(&p, &r), RR_STATUS_NULL_POINTER, "freq_factors NULL");
    rr_rope_params_init(&p);
    p.rotary_dim = 4;
    p.base = 1e300; /* wavelength of pair 1 ~ 2*pi*1e150: too long for Resonance */
    p.resonance = 1;
    expect_status(rr_rope_create(&p, &r), RR_STATUS_INVALID_VALUE, "huge wavelength under Resonance");
    CHECK(r == canary_handle, "out_rope changed");
    rr_rope_free(NULL);
}

static void test_frequencies(void) {
    for (int res = 0; res < 2; res++) {
        rr_rope *r = make(128, 128, 10000, res, RR_LAYOUT_NEOX);
        double inv[64], lam[64];
        float inv32[64];
        int64_t per[64];
        CHECK(rr_rope_inv_freq_f64(r, inv, 64) == RR_STATUS_OK, "inv f64");
        CHECK(rr_rope_inv_freq_f32(r, inv32, 64) == RR_STATUS_OK, "inv f32");
        CHECK(rr_rope_wavelengths(r, lam, 64) == RR_STATUS_OK, "wavelengths");
        CHECK(rr_rope_resonance_wavelengths(r, per, 64) == RR_STATUS_OK, "periods");
        double max_rel = 0;
        for (int i = 0; i < 64; i++) {
            double theta = pow(10000.0, -2.0 * i / 128.0);
            double lambda = TWO_PI / theta;
            long long rounded = llround(lambda);
            double want = res ? TWO_PI / (double)rounded : theta;
            double rel = fabs(inv[i] - want) / want;
            if (rel > max_rel) max_rel = rel;
            CHECK(fabs(lam[i] - lambda) <= 1e-12 * lambda, "wavelength %d", i);
            CHECK(per[i] == rounded, "period %d: %lld vs %lld", i, (long long)per[i], rounded);
            CHECK(inv32[i] == (float)inv[i], "f32 rounding %d", i);
        }
        CHECK(max_rel < 4e-16, "max relative inv_freq error %g", max_rel);
        int64_t pre = -1, periodic = -1;
        CHECK(rr_rope_count_pairs(r, 4096, &pre, &periodic) == RR_STATUS_OK, "count");
        CHECK(pre == 46, "pre-critical %lld", (long long)pre);
        CHECK(periodic == (res ? 46 : 0), "periodic %lld", (long long)periodic);
        /* errors leave outputs untouched */
        double small[63];
        memset(small, CANARY, sizeof small);
        expect_status(rr_rope_inv_freq_f64(r, small, 63), RR_STATUS_BUFFER_TOO_SMALL, "capacity 63");
        CHECK(all_canary(small, sizeof small), "buffer written on error");
        expect_status(rr_rope_inv_freq_f64(r, small, -1), RR_STATUS_BUFFER_TOO_SMALL, "capacity -1");
        expect_status(rr_rope_inv_freq_f64(NULL, inv, 64), RR_STATUS_NULL_POINTER, "NULL rope");
        expect_status(rr_rope_inv_freq_f32(r, NULL, 64), RR_STATUS_NULL_POINTER, "NULL values");
        expect_status(rr_rope_wavelengths(r, NULL, 64), RR_STATUS_NULL_POINTER, "NULL values");
        expect_status(rr_rope_resonance_wavelengths(NULL, per, 64), RR_STATUS_NULL_POINTER, "NULL rope");
        int64_t c1 = 77;
        expect_status(rr_rope_count_pairs(r, 0, &c1, NULL), RR_STATUS_INVALID_VALUE, "train_length 0");
        CHECK(c1 == 77, "count written on error");
        expect_status(rr_rope_count_pairs(NULL, 10, &c1, NULL), RR_STATUS_NULL_POINTER, "NULL rope");
        rr_rope_info info;
        memset(&info, 0, sizeof info);
        expect_status(rr_rope_get_info(r, &info), RR_STATUS_STRUCT_SIZE, "info size 0");
        info.struct_size = sizeof info;
        CHECK(rr_rope_get_info(r, &info) == RR_STATUS_OK, "info");
        CHECK(info.rotary_dim == 128 && info.pair_count == 64 && info.resonance == res && info.base == 10000.0 &&
              info.attention_factor == 1.0 && isnan(info.correction_low), "info fields");
        expect_status(rr_rope_get_info(NULL, &info), RR_STATUS_NULL_POINTER, "info NULL rope");
        expect_status(rr_rope_get_info(r, NULL), RR_STATUS_NULL_POINTER, "info NULL");
        rr_rope_free(r);
    }
}

static void test_tables(void) {
    const int d = 16, h = 8;
    int64_t pos[5] = {0, 1, -7, 123456789, INT64_MIN};
    for (int res = 0; res < 2; res++) {
        rr_rope *r = make(d, d, 500.0, res, RR_LAYOUT_NEOX);
        double theta[8];
        int64_t per[8];
        CHECK(rr_rope_inv_freq_f64(r, theta, 8) == RR_STATUS_OK && rr_rope_resonance_wavelengths(r, per, 8) == RR_STATUS_OK, "freqs");
        for (int layout = 0; layout < 4; layout++) {
            int w = layout == RR_TABLE_LAYOUT_HALF ? h : d;
            float c[5 * 16], s[5 * 16];
            rr_status st = rr_rope_cos_sin_f32(r, layout, 0, pos, 0, 5, c, layout == RR_TABLE_LAYOUT_VLLM ? NULL : s);
            CHECK(st == RR_STATUS_OK, "table layout %d: %s", layout, rr_last_error_message());
            double max_err = 0;
            for (int t = 0; t < 5; t++) {
                if (!res && (pos[t] > (1LL << 40) || pos[t] < -(1LL << 40))) continue; /* long double ref too coarse */
                for (int i = 0; i < h; i++) {
                    double a = ref_angle(res, per, theta, i, pos[t]);
                    double wc = cos(a), ws = sin(a), gc, gs;
                    switch (layout) {
                    case RR_TABLE_LAYOUT_HALF: gc = c[t * w + i]; gs = s[t * w + i]; break;
                    case RR_TABLE_LAYOUT_HF:
                        gc = c[t * w + i]; gs = s[t * w + i];
                        CHECK(c[t * w + i + h] == c[t * w + i] && s[t * w + i + h] == s[t * w + i], "hf duplicate");
                        break;
                    case RR_TABLE_LAYOUT_VLLM: gc = c[t * w + i]; gs = c[t * w + h + i]; break;
                    default:
                        gc = c[t * w + 2 * i]; gs = s[t * w + 2 * i];
                        CHECK(c[t * w + 2 * i + 1] == c[t * w + 2 * i] && s[t * w + 2 * i + 1] == s[t * w + 2 * i], "gptj duplicate");
                    }
                    if (fabs(gc - wc) > max_err) max_err = fabs(gc - wc);
                    if (fabs(gs - ws) > max_err) max_err = fabs(gs - ws);
                }
            }
            CHECK(max_err < 1.2e-7, "table layout %d resonance %d: max error %g", layout, res, max_err);
        }
        /* start_position form equals the explicit list */
        int64_t seq[4] = {-2, -1, 0, 1};
        float a[4 * 8], b[4 * 8], sa[4 * 8], sb[4 * 8];
        CHECK(rr_rope_cos_sin_f32(r, RR_TABLE_LAYOUT_HALF, 0, NULL, -2, 4, a, sa) == RR_STATUS_OK &&
              rr_rope_cos_sin_f32(r, RR_TABLE_LAYOUT_HALF, 0, seq, 999, 4, b, sb) == RR_STATUS_OK &&
              memcmp(a, b, sizeof a) == 0 && memcmp(sa, sb, sizeof sa) == 0, "range == list");
        /* error paths leave both buffers untouched */
        float cc[64], ss[64];
        struct { int layout; uint32_t flags; const int64_t *p; int64_t start, n; float *c, *s; rr_status want; const char *what; } e[] = {
            {7, 0, NULL, 0, 2, cc, ss, RR_STATUS_UNKNOWN_ENUM, "layout 7"},
            {-1, 0, NULL, 0, 2, cc, ss, RR_STATUS_UNKNOWN_ENUM, "layout -1"},
            {0, 4, NULL, 0, 2, cc, ss, RR_STATUS_UNKNOWN_ENUM, "unknown flag"},
            {0, 0, NULL, 0, 2, NULL, ss, RR_STATUS_NULL_POINTER, "cos NULL"},
            {0, 0, NULL, 0, 2, cc, NULL, RR_STATUS_NULL_POINTER, "sin NULL"},
            {2, 0, NULL, 0, 2, cc, ss, RR_STATUS_INVALID_ARGUMENT, "vllm with sin"},
            {0, 0, NULL, 0, -1, cc, ss, RR_STATUS_OVERFLOW, "n < 0"},
            {0, 0, NULL, INT64_MAX, 2, cc, ss, RR_STATUS_OVERFLOW, "positions overflow"},
            {0, 0, NULL, 0, INT64_MAX / 4, cc, ss, RR_STATUS_OVERFLOW, "size overflow"},
            {0, 0, NULL, 0, 2, (float *)((char *)cc + 1), ss, RR_STATUS_MISALIGNED, "misaligned cos"},
            {0, 0, (const int64_t *)((const char *)seq + 4), 0, 2, cc, ss, RR_STATUS_MISALIGNED, "misaligned positions"},
        };
        for (size_t k = 0; k < sizeof e / sizeof e[0]; k++) {
            memset(cc, CANARY, sizeof cc);
            memset(ss, CANARY, sizeof ss);
            expect_status(rr_rope_cos_sin_f32(r, e[k].layout, e[k].flags, e[k].p, e[k].start, e[k].n, e[k].c, e[k].s), e[k].want, e[k].what);
            CHECK(all_canary(cc, sizeof cc) && all_canary(ss, sizeof ss), "%s: output written on error", e[k].what);
        }
        expect_status(rr_rope_cos_sin_f32(NULL, 0, 0, NULL, 0, 1, cc, ss), RR_STATUS_NULL_POINTER, "NULL rope");
        /* n = 0 is a valid no-op */
        memset(cc, CANARY, sizeof cc);
        CHECK(rr_rope_cos_sin_f32(r, 0, 0, NULL, 0, 0, cc, ss) == RR_STATUS_OK && all_canary(cc, sizeof cc), "n = 0");
        rr_rope_free(r);
    }
}

/* Reference rotation in double of one row (layout, partial rotary), angles from ref_angle. */
static void ref_rotate(double *x, int d, int layout, const double *angles, int inverse, double scale) {
    int h = d / 2;
    for (int i = 0; i < h; i++) {
        int a = layout == RR_LAYOUT_NEOX ? i : 2 * i, b = layout == RR_LAYOUT_NEOX ? i + h : 2 * i + 1;
        double c = cos(angles[i]) * scale, s = sin(angles[i]) * scale * (inverse ? -1 : 1);
        double x1 = x[a], x2 = x[b];
        x[a] = x1 * c - x2 * s;
        x[b] = x2 * c + x1 * s;
    }
}

static double f32_worst;

static void test_rotation(void) {
    /* Rotary dims 32 (head 40: a pass-through gap), 128 (head 128: the kernels' walk for 64
     * pairs, the blocks kept in registers) and 128 in a 136-element head. */
    const int dims[3][2] = {{32, 40}, {128, 128}, {128, 136}}, T = 6, QH = 4, KH = 2;
    int64_t pos[6] = {0, 5, 4096, -3, 1LL << 40, 17};
    for (int di = 0; di < 3; di++)
    for (int res = 0; res < 2; res++)
        for (int layout = 0; layout < 2; layout++)
            for (int mode = 0; mode < 4; mode++) { /* 0 token-major, 1 head-major, 2 padded, 3 fused qkv */
                const int d = dims[di][0], head_dim = dims[di][1];
                rr_rope *r = make(d, head_dim, 10000.0, res, layout);
                double theta[64];
                int64_t per[64];
                CHECK(rr_rope_inv_freq_f64(r, theta, d / 2) == RR_STATUS_OK && rr_rope_resonance_wavelengths(r, per, d / 2) == RR_STATUS_OK, "freqs");
                int64_t qts, qhs, kts, khs, size;
                float *buf, *q, *k;
                if (mode == 0) { qts = QH * head_dim; qhs = head_dim; kts = KH * head_dim; khs = head_dim; }
                else if (mode == 1) { qts = head_dim; qhs = T * head_dim; kts = head_dim; khs = T * head_dim; }
                else if (mode == 2) { qts = QH * (head_dim + 3) + 5; qhs = head_dim + 3; kts = KH * head_dim + 1; khs = head_dim; }
                else { qts = (QH + 2 * KH) * head_dim; qhs = head_dim; kts = qts; khs = head_dim; }
                if (mode == 3) {
                    size = T * qts;
                    buf = malloc((size_t)size * sizeof *buf);
                    q = buf;
                    k = buf + QH * head_dim;
                } else {
                    int64_t qspan = (T - 1) * qts + (QH - 1) * qhs + head_dim, kspan = (T - 1) * kts + (KH - 1) * khs + head_dim;
                    size = qspan + kspan + 64;
                    buf = malloc((size_t)size * sizeof *buf);
                    q = buf;
                    k = buf + qspan + 64;
                }
                double *ref = malloc((size_t)size * sizeof *ref);
                for (int64_t i = 0; i < size; i++) ref[i] = buf[i] = (float)(((i * 7919) % 1000) / 500.0 - 1.0);
                int flags = (mode & 1) ? RR_ROTATE_INVERSE : 0;
                rr_rotation rot;
                rr_rotation_init(&rot);
                rot.n_tokens = T;
                rot.positions = pos;
                rot.flags = (uint32_t)flags;
                rot.q = q; rot.q_heads = QH; rot.q_token_stride = qts; rot.q_head_stride = qhs;
                rot.k = k; rot.k_heads = KH; rot.k_token_stride = kts; rot.k_head_stride = khs;
                rr_status st = rr_rope_apply_f32_inplace(r, &rot);
                CHECK(st == RR_STATUS_OK, "apply mode %d: %s", mode, rr_last_error_message());
                double angles[64];
                for (int t = 0; t < T; t++) {
                    for (int i = 0; i < d / 2; i++) angles[i] = ref_angle(res, per, theta, i, pos[t]);
                    for (int hh = 0; hh < QH; hh++) ref_rotate(ref + (q - buf) + t * qts + hh * qhs, d, layout, angles, flags, 1.0);
                    for (int hh = 0; hh < KH; hh++) ref_rotate(ref + (k - buf) + t * kts + hh * khs, d, layout, angles, flags, 1.0);
                }
                double max_err = 0;
                for (int64_t i = 0; i < size; i++) {
                    double e = fabs(ref[i] - buf[i]);
                    if (e > max_err) max_err = e;
                }
                /* |x| <= 1: float rounding of cos/sin (6e-8) and of the products; pass-through
                 * and gap elements must be bit-identical (their error is exactly 0). */
                if (max_err > f32_worst) f32_worst = max_err;
                CHECK(max_err < 4e-7, "rotation d %d res %d layout %d mode %d: max error %g", d, res, layout, mode, max_err);
                free(ref);
                free(buf);
                rr_rope_free(r);
            }
    printf("test_abi: f32 rotation max |error| vs float64 (|x| <= 1): %.3g\n", f32_worst);
}

static void test_rotation_options(void) {
    /* inverse undoes forward; token ranges compose; attention factor scales. */
    const int d = 64, T = 9, H = 3;
    rr_rope *r = make(d, d, 10000.0, 1, RR_LAYOUT_GPTJ);
    float x[9 * 3 * 64], y[9 * 3 * 64], z[9 * 3 * 64];
    for (int i = 0; i < T * H * d; i++) x[i] = y[i] = z[i] = (float)((i % 17) - 8) / 8.0f;
    rr_rotation rot;
    rr_rotation_init(&rot);
    rot.n_tokens = T; rot.start_position = 1000000007;
    rot.q = y; rot.q_heads = H; rot.q_token_stride = H * d; rot.q_head_stride = d;
    CHECK(rr_rope_apply_f32_inplace(r, &rot) == RR_STATUS_OK, "forward");
    rot.q = z;
    rot.token_begin = 0; rot.token_end = 4;
    CHECK(rr_rope_apply_f32_inplace(r, &rot) == RR_STATUS_OK, "range 1");
    rot.token_begin = 4; rot.token_end = -1;
    CHECK(rr_rope_apply_f32_inplace(r, &rot) == RR_STATUS_OK, "range 2");
    CHECK(memcmp(y, z, sizeof y) == 0, "token ranges give bit-identical results");
    rot.q = y; rot.token_begin = 0; rot.flags = RR_ROTATE_INVERSE;
    CHECK(rr_rope_apply_f32_inplace(r, &rot) == RR_STATUS_OK, "inverse");
    double e = 0;
    for (int i = 0; i < T * H * d; i++) e = fmax(e, fabs(y[i] - x[i]));
    CHECK(e < 5e-7, "inverse(forward(x)) == x: %g", e);
    rr_rope_free(r);
    /* attention factor: YaRN-free way to set one */
    rr_rope_params p;
    rr_rope_params_init(&p);
    p.rotary_dim = 8; p.attention_factor = 1.5;
    CHECK(rr_rope_create(&p, &r) == RR_STATUS_OK, "create with attention factor");
    float a[8] = {1, 0, 0, 0, 0, 0, 0, 0}, b[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    rr_rotation_init(&rot);
    rot.n_tokens = 1; rot.q = a; rot.q_heads = 1; rot.q_token_stride = 8; rot.q_head_stride = 8;
    CHECK(rr_rope_apply_f32_inplace(r, &rot) == RR_STATUS_OK && a[0] == 1.0f, "no factor without the flag");
    rot.q = b; rot.flags = RR_ATTENTION_FACTOR;
    CHECK(rr_rope_apply_f32_inplace(r, &rot) == RR_STATUS_OK && b[0] == 1.5f, "factor with the flag: %g", b[0]);
    rr_rope_free(r);
}

static void test_rotation_errors(void) {
    rr_rope *r = make(8, 8, 10000.0, 0, RR_LAYOUT_NEOX);
    enum { N = 4 * 2 * 8 };
    float q[N], k[N];
    int64_t pos[4] = {0, 1, 2, 3};
    struct { const char *what; rr_status want; void (*edit)(rr_rotation *); } dummy;
    (void)dummy;
#define CASE(WHAT, WANT, EDIT)                                                        \
    do {                                                                              \
        rr_rotation rot;                                                              \
        rr_rotation_init(&rot);                                                       \
        rot.n_tokens = 4; rot.positions = pos;                                        \
        rot.q = q; rot.q_heads = 2; rot.q_token_stride = 16; rot.q_head_stride = 8;   \
        rot.k = k; rot.k_heads = 2; rot.k_token_stride = 16; rot.k_head_stride = 8;   \
        EDIT;                                                                         \
        memset(q, CANARY, sizeof q);                                                  \
        memset(k, CANARY, sizeof k);                                                  \
        expect_status(rr_rope_apply_f32_inplace(r, &rot), WANT, WHAT);                \
        CHECK(all_canary(q, sizeof q) && all_canary(k, sizeof k), "%s: written", WHAT); \
    } while (0)
    CASE("q NULL", RR_STATUS_NULL_POINTER, rot.q = NULL);
    CASE("struct size", RR_STATUS_STRUCT_SIZE, rot.struct_size = 8);
    CASE("reserved", RR_STATUS_STRUCT_SIZE, rot.reserved[0] = 1);
    CASE("flags", RR_STATUS_UNKNOWN_ENUM, rot.flags = 8);
    CASE("n_tokens < 0", RR_STATUS_OVERFLOW, rot.n_tokens = -1);
    CASE("q_heads 0", RR_STATUS_OVERFLOW, rot.q_heads = 0);
    CASE("k_heads -1", RR_STATUS_OVERFLOW, rot.k_heads = -1);
    CASE("negative stride", RR_STATUS_INVALID_STRIDE, rot.q_head_stride = -8);
    CASE("head stride < row", RR_STATUS_INVALID_STRIDE, rot.q_head_stride = 4);
    CASE("token stride < heads", RR_STATUS_INVALID_STRIDE, rot.k_token_stride = 8);
    CASE("zero token stride", RR_STATUS_INVALID_STRIDE, rot.q_token_stride = 0);
    CASE("span overflow", RR_STATUS_OVERFLOW, rot.q_token_stride = INT64_MAX / 2);
    CASE("byte overflow", RR_STATUS_OVERFLOW, rot.q_token_stride = INT64_MAX / 8);
    CASE("q and k overlap", RR_STATUS_OVERLAP, rot.k = q + 8);
    CASE("k == q", RR_STATUS_OVERLAP, rot.k = q);
    CASE("misaligned q", RR_STATUS_MISALIGNED, rot.q = (char *)q + 2);
    CASE("misaligned k", RR_STATUS_MISALIGNED, rot.k = (char *)k + 1);
    CASE("misaligned positions", RR_STATUS_MISALIGNED, rot.positions = (const int64_t *)((const char *)pos + 4));
    CASE("positions overflow", RR_STATUS_OVERFLOW, (rot.positions = NULL, rot.start_position = INT64_MAX - 2));
    CASE("token_begin > end", RR_STATUS_INVALID_ARGUMENT, (rot.token_begin = 3, rot.token_end = 2));
    CASE("token_end > n", RR_STATUS_INVALID_ARGUMENT, rot.token_end = 5);
    CASE("token_begin < 0", RR_STATUS_INVALID_ARGUMENT, rot.token_begin = -1);
    CASE("token_end -2", RR_STATUS_INVALID_ARGUMENT, rot.token_end = -2);
    CASE("n_threads < 0", RR_STATUS_INVALID_ARGUMENT, rot.n_threads = -1);
#undef CASE
    rr_rotation rot;
    rr_rotation_init(NULL);
    rr_rotation_init(&rot);
    expect_status(rr_rope_apply_f32_inplace(NULL, &rot), RR_STATUS_NULL_POINTER, "NULL rope");
    expect_status(rr_rope_apply_f32_inplace(r, NULL), RR_STATUS_NULL_POINTER, "NULL rotation");
    /* zero tokens: OK, nothing written */
    rot.q = q; rot.q_heads = 1; rot.n_tokens = 0;
    memset(q, CANARY, sizeof q);
    CHECK(rr_rope_apply_f32_inplace(r, &rot) == RR_STATUS_OK && all_canary(q, sizeof q), "n_tokens 0");
    rr_rope_free(r);
}

static void test_posgen(void) {
    /* The paper's worked example (Figure 2): m = 7, far 1, near 3, seeds 2 0 3 1. */
    static const int32_t want[3][12] = {{2, 0, 3, 1, 6, 3, 6, 2, 3, 0, 4, 2},
                                        {2, 0, 3, 1, 6, 5, 0, 6, 6, 0, 0, 1},
                                        {2, 0, 3, 1, 6, 5, 5, 2, 1, 4, 1, 0}};
    const int32_t seeds[4] = {2, 0, 3, 1};
    rr_posgen_params p;
    int32_t out[12];
    for (int task = 0; task < 3; task++) {
        rr_posgen_params_init(&p);
        p.task = task; p.modulus = 7; p.length = 12;
        CHECK(rr_posgen_sequence(&p, seeds, out, 12) == RR_STATUS_OK && memcmp(out, want[task], sizeof out) == 0,
              "worked example task %d", task);
    }
    /* Generated sequences follow the rule: recurrent x_l = sum of previous 4 mod 17; seeds are
     * combinations in lexicographic order: 0 1 2 3, 0 1 2 4, ... */
    rr_posgen_params_init(&p);
    int32_t tok[5 * 64];
    CHECK(rr_posgen_generate(&p, RR_POSGEN_SPLIT_TRAIN, 0, 5, tok, 5 * 64) == RR_STATUS_OK, "generate");
    int ok = 1;
    for (int r = 0; r < 5; r++) {
        for (int l = 4; l < 64; l++) {
            int32_t sum = tok[r * 64 + l - 1] + tok[r * 64 + l - 2] + tok[r * 64 + l - 3] + tok[r * 64 + l - 4];
            if (tok[r * 64 + l] != sum % 17) ok = 0;
        }
    }
    CHECK(ok && tok[0] == 0 && tok[3] == 3 && tok[64 + 3] == 4 && tok[4 * 64 + 3] == 7, "recurrence and seed order");
    /* paper split mode: validation sequence i == training sequence i (first 64 tokens) */
    int32_t val[64];
    CHECK(rr_posgen_generate(&p, RR_POSGEN_SPLIT_VALIDATION, 2, 1, val, 64) == RR_STATUS_OK &&
          memcmp(val, tok + 2 * 64, sizeof val) == 0, "paper split overlap");
    /* scoring: perfect prediction, then one wrong OOD token */
    rr_posgen_result res;
    double per[64];
    memset(&res, 0, sizeof res);
    res.struct_size = sizeof res;
    int32_t pred[5 * 64];
    memcpy(pred, tok, sizeof pred);
    pred[2 * 64 + 40] = (pred[2 * 64 + 40] + 1) % 17;
    CHECK(rr_posgen_score(&p, pred, tok, 5, 32, per, &res) == RR_STATUS_OK, "score");
    CHECK(res.id_total == 5 * 28 && res.ood_total == 5 * 32 && res.id_correct == 140 && res.ood_correct == 159, "score counts");
    CHECK(isnan(per[0]) && per[40] == 0.8 && per[41] == 1.0, "per position");
    /* bad inputs */
    int32_t canary[128];                 /* "past the split" claims 128 entries: really have them */
    memset(canary, CANARY, sizeof canary);
    rr_posgen_params bad = p;
    bad.modulus = 1;
    expect_status(rr_posgen_generate(&bad, 0, 0, 1, canary, 64), RR_STATUS_INVALID_VALUE, "modulus 1");
    bad = p; bad.task = 3;
    expect_status(rr_posgen_generate(&bad, 0, 0, 1, canary, 64), RR_STATUS_UNKNOWN_ENUM, "task 3");
    expect_status(rr_posgen_generate(&p, 5, 0, 1, canary, 64), RR_STATUS_UNKNOWN_ENUM, "split 5");
    expect_status(rr_posgen_generate(&p, 0, 0, 2, canary, 64), RR_STATUS_BUFFER_TOO_SMALL, "capacity");
    expect_status(rr_posgen_generate(&p, 0, 0, INT64_MAX, canary, 64), RR_STATUS_OVERFLOW, "count overflow");
    expect_status(rr_posgen_generate(&p, 0, 9999, 2, canary, 128), RR_STATUS_OVERFLOW, "past the split");
    bad = p; bad.length = 3;
    expect_status(rr_posgen_generate(&bad, 0, 0, 1, canary, 64), RR_STATUS_INVALID_VALUE, "length < seeds");
    bad = p; bad.struct_size = 4;
    expect_status(rr_posgen_generate(&bad, 0, 0, 1, canary, 64), RR_STATUS_STRUCT_SIZE, "struct size");
    expect_status(rr_posgen_generate(NULL, 0, 0, 1, canary, 64), RR_STATUS_NULL_POINTER, "NULL params");
    CHECK(all_canary(canary, sizeof canary), "posgen output written on error");
}

static void test_gap(void) {
    /* Brute force O(L * L') in double against the library for d = 16, L = 64, L' = 256. */
    for (int res = 0; res < 2; res++) {
        rr_rope *r = make(16, 16, 10000.0, res, RR_LAYOUT_NEOX);
        double theta[8], gaps[8];
        int64_t per[8];
        rr_gap_summary sum;
        sum.struct_size = sizeof sum;
        CHECK(rr_rope_inv_freq_f64(r, theta, 8) == RR_STATUS_OK && rr_rope_resonance_wavelengths(r, per, 8) == RR_STATUS_OK, "freqs");
        CHECK(rr_rope_feature_gap(r, 64, 256, gaps, 8, &sum) == RR_STATUS_OK, "gap: %s", rr_last_error_message());
        double worst = 0;
        for (int i = 0; i < 8; i++) {
            double g = 0;
            for (int64_t n = 64; n < 256; n++) {
                double best = 4;
                for (int64_t m = 0; m < 64; m++) {
                    double a = ref_angle(res, per, theta, i, n), b = ref_angle(res, per, theta, i, m);
                    double dist = hypot(cos(a) - cos(b), sin(a) - sin(b));
                    if (dist < best) best = dist;
                }
                if (best > g) g = best;
            }
            worst = fmax(worst, fabs(g - gaps[i]));
            if (res && per[i] <= 64) CHECK(gaps[i] == 0.0, "periodic pair %d gap %g", i, gaps[i]);
        }
        CHECK(worst < 1e-9, "gap vs brute force: %g", worst);
        CHECK(sum.critical_pair == 3 && sum.pre_critical_pairs == 3 && sum.periodic_pairs == (res ? 3 : 0),
              "summary %d %d %d", sum.critical_pair, sum.pre_critical_pairs, sum.periodic_pairs);
        double canary[8];
        memset(canary, CANARY, sizeof canary);
        expect_status(rr_rope_feature_gap(r, 64, 64, canary, 8, NULL), RR_STATUS_INVALID_VALUE, "L' == L");
        expect_status(rr_rope_feature_gap(r, 0, 64, canary, 8, NULL), RR_STATUS_INVALID_VALUE, "L == 0");
        expect_status(rr_rope_feature_gap(r, 64, 256, canary, 7, NULL), RR_STATUS_BUFFER_TOO_SMALL, "capacity");
        sum.struct_size = 3;
        expect_status(rr_rope_feature_gap(r, 64, 256, canary, 8, &sum), RR_STATUS_STRUCT_SIZE, "summary size");
        CHECK(all_canary(canary, sizeof canary), "gap written on error");
        rr_rope_free(r);
    }
}

static void test_config(void) {
    /* Llama 3.1's published rope settings; reference inv_freq written here from the formula. */
    const char *json = "{\"hidden_size\": 4096, \"num_attention_heads\": 32, \"max_position_embeddings\": 131072,"
                       " \"rope_theta\": 500000.0, \"rope_scaling\": {\"factor\": 8.0, \"low_freq_factor\": 1.0,"
                       " \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"}}";
    rr_rope *r = NULL;
    CHECK(rr_rope_create_from_hf_config(json, -1, 0, 0, &r) == RR_STATUS_OK, "hf config: %s", rr_last_error_message());
    double inv[64];
    CHECK(r && rr_rope_inv_freq_f64(r, inv, 64) == RR_STATUS_OK, "inv");
    double worst = 0;
    for (int i = 0; i < 64 && r; i++) {
        double t = pow(500000.0, -2.0 * i / 128.0), wl = TWO_PI / t, want;
        double low_wl = 8192 / 1.0, high_wl = 8192 / 4.0;
        if (wl < high_wl) want = t;
        else if (wl > low_wl) want = t / 8;
        else {
            double sm = (8192 / wl - 1.0) / (4.0 - 1.0);
            want = (1 - sm) * t / 8 + sm * t;
        }
        worst = fmax(worst, fabs(inv[i] - want) / want);
    }
    CHECK(worst < 1e-14, "llama3 inv_freq rel error %g", worst);
    rr_rope_free(r);
    /* Resonance on top of it, and the llama.cpp rope_freqs factors lambda~/lambda */
    CHECK(rr_rope_create_from_hf_config(json, (int64_t)strlen(json), 0, 1, &r) == RR_STATUS_OK, "resonance llama3");
    float ff[64];
    double lam[64];
    int64_t per[64];
    CHECK(rr_rope_resonance_freq_factors(r, ff, 64) == RR_STATUS_OK && rr_rope_wavelengths(r, lam, 64) == RR_STATUS_OK &&
          rr_rope_resonance_wavelengths(r, per, 64) == RR_STATUS_OK, "factors");
    worst = 0;
    for (int i = 0; i < 64; i++) worst = fmax(worst, fabs(ff[i] - (double)per[i] / lam[i]) / ((double)per[i] / lam[i]));
    CHECK(worst < 1e-7, "freq factors %g", worst);
    rr_rope_free(r);
    /* bad configs */
    rr_rope *canary = (rr_rope *)(uintptr_t)0x77, *out = canary;
    const char *bad[] = {"", "{", "[]", "{\"hidden_size\": 4096}", "{\"hidden_size\": 64, \"num_attention_heads\": 1, \"rope_scaling\": {\"rope_type\": \"warp\"}}",
                         "{\"hidden_size\": 64, \"num_attention_heads\": 1, \"rope_theta\": -3}", "{\"a\": 1, \"a\": 2}", "nul\x01l"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rr_status st = rr_rope_create_from_hf_config(bad[i], -1, 0, 0, &out);
        CHECK(st != RR_STATUS_OK && out == canary && strlen(rr_last_error_message()) > 0, "bad config %zu: %d", i, st);
    }
    expect_status(rr_rope_create_from_hf_config(NULL, -1, 0, 0, &out), RR_STATUS_NULL_POINTER, "NULL json");
    expect_status(rr_rope_create_from_hf_config("{}", -2, 0, 0, &out), RR_STATUS_OVERFLOW, "length -2");
    expect_status(rr_rope_create_from_hf_config("{}", 2, -1, 0, &out), RR_STATUS_INVALID_VALUE, "sequence length -1");
    const char *gguf = "general.architecture=llama\nllama.rope.freq_base=10000\nllama.rope.dimension_count=128\n";
    CHECK(rr_rope_create_from_gguf_metadata(gguf, -1, 0, 1, -1, &r) == RR_STATUS_OK, "gguf: %s", rr_last_error_message());
    rr_rope_free(r);
    expect_status(rr_rope_create_from_gguf_metadata(gguf, -1, 0, 1, 5, &out), RR_STATUS_UNKNOWN_ENUM, "gguf layout 5");
    CHECK(out == canary, "out changed");
}

/* Every scaling through rr_rope_params against an independent float64 transcription of the
 * published formulas (Hugging Face's modeling_rope_utils), Resonance off and on. */
static double yarn_corr(double beta, int d, double base, double orig) {
    return d * log(orig / (beta * TWO_PI)) / (2 * log(base));
}

static void test_scalings_via_params(void) {
    const int d = 128, h = 64;
    const double base = 1e6;
    double shortf[64], longf[64], ff[64];
    for (int i = 0; i < h; i++) { shortf[i] = 1 + i / 64.0; longf[i] = 1 + i; ff[i] = 1 + (i % 5); }
    for (int kind = 0; kind <= 7; kind++) {
        for (int res = 0; res < 2; res++) {
            rr_rope_params p;
            rr_rope_params_init(&p);
            p.rotary_dim = d; p.base = base; p.scaling = kind; p.resonance = res;
            p.factor = 4; p.original_max_position = 32768; p.max_position = 131072; p.sequence_length = 200000;
            p.low_freq_factor = 1; p.high_freq_factor = 4;
            p.short_factor = shortf; p.long_factor = longf; p.freq_factors = ff;
            rr_rope *r = NULL;
            CHECK(rr_rope_create(&p, &r) == RR_STATUS_OK, "scaling %d: %s", kind, rr_last_error_message());
            if (!r) continue;
            double inv[64], want_att = 1.0;
            rr_rope_info info;
            info.struct_size = sizeof info;
            CHECK(rr_rope_inv_freq_f64(r, inv, 64) == RR_STATUS_OK && rr_rope_get_info(r, &info) == RR_STATUS_OK, "read");
            double worst = 0;
            double low = floor(yarn_corr(32, d, base, 32768)), high = ceil(yarn_corr(1, d, base, 32768));
            if (low < 0) low = 0;
            if (high > d - 1) high = d - 1;
            for (int i = 0; i < h; i++) {
                double t = pow(base, -2.0 * i / d), w = t;
                switch (kind) {
                case RR_SCALING_LINEAR: w = t / 4; break;
                case RR_SCALING_NTK: w = pow(base * pow(4.0, d / (d - 2.0)), -2.0 * i / d); break;
                case RR_SCALING_DYNAMIC: {
                    double b = base * pow(4.0 * 200000 / 131072 - 3, d / (d - 2.0));
                    w = pow(b, -2.0 * i / d);
                    break;
                }
                case RR_SCALING_YARN: {
                    double ramp = (i - low) / (high - low);
                    ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
                    w = t / 4 * ramp + t * (1 - ramp);
                    want_att = 0.1 * log(4.0) + 1;
                    break;
                }
                case RR_SCALING_LLAMA3: {
                    double wl = TWO_PI / t, lo = 32768 / 1.0, hi = 32768 / 4.0;
                    if (wl < hi) w = t;
                    else if (wl > lo) w = t / 4;
                    else { double sm = (32768 / wl - 1) / 3; w = (1 - sm) * t / 4 + sm * t; }
                    break;
                }
                case RR_SCALING_LONGROPE:
                    w = 1.0 / (longf[i] * pow(base, 2.0 * i / d)); /* 200000 > 32768: long factors */
                    want_att = sqrt(1 + log(4.0) / log(32768.0));
                    break;
                case RR_SCALING_FREQ_FACTORS: w = t / ff[i]; break;
                default: break;
                }
                if (res) w = TWO_PI / (double)llround(TWO_PI / w);
                worst = fmax(worst, fabs(inv[i] - w) / w);
            }
            CHECK(worst < 1e-13, "scaling %d resonance %d: max rel error %g", kind, res, worst);
            CHECK(fabs(info.attention_factor - want_att) < 1e-12, "scaling %d attention factor %.17g vs %.17g", kind,
                  info.attention_factor, want_att);
            CHECK(info.scaling == kind, "info.scaling");
            if (kind == RR_SCALING_YARN) CHECK(info.correction_low == low && info.correction_high == high, "correction range");
            rr_rope_free(r);
        }
    }
    /* scaling parameters out of their domains */
    rr_rope_params p;
    rr_rope *canary = (rr_rope *)(uintptr_t)0x99, *r = canary;
    struct { int kind; double factor; double beta_fast; const char *what; } bad[] = {
        {RR_SCALING_LINEAR, -2, 32, "negative factor"}, {RR_SCALING_LINEAR, NAN, 32, "NaN factor"},
        {RR_SCALING_LINEAR, INFINITY, 32, "inf factor"}, {RR_SCALING_NTK, 0, 32, "missing factor"},
        {RR_SCALING_YARN, 4, NAN, "NaN beta"}, {RR_SCALING_YARN, 4, -1, "negative beta"},
        {RR_SCALING_LLAMA3, 0, 32, "llama3 without factor"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rr_rope_params_init(&p);
        p.rotary_dim = 16; p.scaling = bad[i].kind; p.factor = bad[i].factor; p.beta_fast = bad[i].beta_fast;
        p.original_max_position = 4096;
        rr_status st = rr_rope_create(&p, &r);
        CHECK(st == RR_STATUS_INVALID_VALUE && r == canary, "%s: status %d (%s)", bad[i].what, st, rr_last_error_message());
    }
}

/* ---- float16 / bfloat16 rotation and threads --------------------------------------------- */

/* Reference encoders in double, round to nearest even through nearbyint (default rounding mode). */
static uint16_t ref_half(double x) {
    uint16_t sign = signbit(x) ? 0x8000 : 0;
    int e;
    x = fabs(x);
    if (x >= 65520.0) return sign | 0x7c00;
    if (x < ldexp(1, -14)) return sign | (uint16_t)nearbyint(ldexp(x, 24)); /* 1024 = smallest normal */
    frexp(x, &e);                                                            /* x in [2^(e-1), 2^e) */
    double m = nearbyint(ldexp(x, 11 - e));                                  /* 1024 .. 2048 */
    int biased = e - 1 + 15;
    if (m == 2048) { m = 1024; biased++; }
    if (biased >= 31) return sign | 0x7c00;
    return (uint16_t)(sign | (biased << 10) | ((int)m - 1024));
}
static double half_value(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1024 + m, e - 25);
    return (h & 0x8000) ? -v : v;
}
static uint16_t ref_bf16(double x) { /* normal floats only (the test's values) */
    uint16_t sign = signbit(x) ? 0x8000 : 0;
    int e;
    x = fabs(x);
    if (x == 0) return sign;
    frexp(x, &e);
    double m = nearbyint(ldexp(x, 8 - e)); /* 128 .. 256 */
    int biased = e - 1 + 127;
    if (m == 256) { m = 128; biased++; }
    return (uint16_t)(sign | (biased << 7) | ((int)m - 128));
}
static double bf16_value(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static double half_worst[2]; /* max |error| / max(1, |ref|) per format, printed */

typedef rr_status (*apply_fn)(const rr_rope *, const rr_rotation *);

static void test_rotation_half(void) {
    /* Rotary dims 40 (head 48) and 128 (head 128: the kernels' walk for 64 pairs). */
    const int dims[2][2] = {{40, 48}, {128, 128}}, T = 7, QH = 3, KH = 2;
    int64_t pos[7] = {0, 9, 70000, -3, (1LL << 40) + 1, 17, -(1LL << 41)};
    for (int di = 0; di < 2; di++)
    for (int fmt = 0; fmt < 2; fmt++)
        for (int res = 0; res < 2; res++)
            for (int layout = 0; layout < 2; layout++)
                for (int inverse = 0; inverse < 2; inverse++) {
                    const int d = dims[di][0], head_dim = dims[di][1], ROW = (QH + KH + 1) * head_dim;
                    rr_rope *r = make(d, head_dim, 10000.0, res, layout);
                    double theta[64], angles[64];
                    int64_t per[64];
                    CHECK(rr_rope_inv_freq_f64(r, theta, d / 2) == RR_STATUS_OK && rr_rope_resonance_wavelengths(r, per, d / 2) == RR_STATUS_OK, "freqs");
                    uint16_t *buf = malloc((size_t)(T * ROW) * sizeof *buf);
                    double *ref = malloc((size_t)(T * ROW) * sizeof *ref);
                    CHECK(buf && ref, "allocation");
                    if (!buf || !ref) { free(buf); free(ref); rr_rope_free(r); continue; }
                    for (int i = 0; i < T * ROW; i++) {
                        double x = sin(i * 0.7) * 3.0 + (i % 5) * 0.001;
                        buf[i] = fmt ? ref_bf16(x) : ref_half(x);
                        ref[i] = fmt ? bf16_value(buf[i]) : half_value(buf[i]);
                    }
                    rr_rotation rot;
                    rr_rotation_init(&rot);
                    rot.n_tokens = T; rot.positions = pos; rot.flags = inverse ? RR_ROTATE_INVERSE : 0;
                    rot.q = buf; rot.q_heads = QH; rot.q_token_stride = ROW; rot.q_head_stride = head_dim;
                    rot.k = buf + QH * head_dim; rot.k_heads = KH; rot.k_token_stride = ROW; rot.k_head_stride = head_dim;
                    apply_fn fn = fmt ? rr_rope_apply_bf16_inplace : rr_rope_apply_f16_inplace;
                    CHECK(fn(r, &rot) == RR_STATUS_OK, "apply %s: %s", fmt ? "bf16" : "f16", rr_last_error_message());
                    for (int t = 0; t < T; t++) {
                        for (int i = 0; i < d / 2; i++) angles[i] = ref_angle(res, per, theta, i, pos[t]);
                        for (int hh = 0; hh < QH + KH; hh++) ref_rotate(ref + t * ROW + hh * head_dim, d, layout, angles, inverse, 1.0);
                    }
                    /* One rounding to the format (half an ulp: 2^-11 relative for half, 2^-8 for
                     * bfloat16) after float32 math (a few 1e-7 absolute here, |x| <= 3.1). */
                    double worst = 0, rel = fmt ? ldexp(1, -8) : ldexp(1, -11);
                    for (int i = 0; i < T * ROW; i++) {
                        double got = fmt ? bf16_value(buf[i]) : half_value(buf[i]);
                        if (fabs(got - ref[i]) / fmax(fabs(ref[i]), 1.0) > half_worst[fmt]) half_worst[fmt] = fabs(got - ref[i]) / fmax(fabs(ref[i]), 1.0);
                        double err = fabs(got - ref[i]) / (rel * fmax(fabs(ref[i]), ldexp(1, -14)) + 2e-6);
                        if (err > worst) worst = err;
                        if ((i % ROW) >= (QH + KH) * head_dim || (i % head_dim) >= d) /* untouched */
                            CHECK(got == ref[i], "pass-through element %d changed", i);
                    }
                    CHECK(worst <= 1.0, "%s d %d res %d layout %d inverse %d: error %.3g of the bound", fmt ? "bf16" : "f16", d, res, layout, inverse, worst);
                    free(buf);
                    free(ref);
                    rr_rope_free(r);
                }
    printf("test_abi: max |error| / max(1, |x|) vs float64: f16 %.3g (half ulp 2^-11 = %.3g), bf16 %.3g (2^-8 = %.3g)\n",
           half_worst[0], ldexp(1, -11), half_worst[1], ldexp(1, -8));
}

/* Results are bit-identical for 1, 2, 7 and 64 threads (more threads than tokens), per format. */
static void test_threads(void) {
    enum { T = 33, H = 5, D = 64, N = T * H * D };
    static float f32[4][N];
    static uint16_t f16[4][N], bf16[4][N];
    int threads[4] = {1, 2, 7, 64};
    for (int layout = 0; layout < 2; layout++) {
        rr_rope *r = make(D, D, 500000.0, 1, layout); /* Resonance: table pairs and polynomial pairs */
        for (int c = 0; c < 4; c++) {
            for (int i = 0; i < N; i++) {
                f32[c][i] = (float)sin(i * 0.37);
                f16[c][i] = ref_half(sin(i * 0.37));
                bf16[c][i] = ref_bf16(sin(i * 0.37));
            }
            rr_rotation rot;
            rr_rotation_init(&rot);
            rot.n_tokens = T; rot.start_position = (1LL << 40) - 5; rot.n_threads = threads[c];
            rot.q_heads = H; rot.q_token_stride = H * D; rot.q_head_stride = D;
            rot.q = f32[c];
            CHECK(rr_rope_apply_f32_inplace(r, &rot) == RR_STATUS_OK, "f32 threads %d", threads[c]);
            rot.q = f16[c];
            CHECK(rr_rope_apply_f16_inplace(r, &rot) == RR_STATUS_OK, "f16 threads %d", threads[c]);
            rot.q = bf16[c];
            rot.flags = RR_ATTENTION_FACTOR | RR_ROTATE_INVERSE;
            CHECK(rr_rope_apply_bf16_inplace(r, &rot) == RR_STATUS_OK, "bf16 threads %d", threads[c]);
        }
        for (int c = 1; c < 4; c++) {
            CHECK(memcmp(f32[0], f32[c], sizeof f32[0]) == 0, "f32: 1 vs %d threads differ", threads[c]);
            CHECK(memcmp(f16[0], f16[c], sizeof f16[0]) == 0, "f16: 1 vs %d threads differ", threads[c]);
            CHECK(memcmp(bf16[0], bf16[c], sizeof bf16[0]) == 0, "bf16: 1 vs %d threads differ", threads[c]);
        }
        rr_rope_free(r);
    }
}

static void test_half_errors(void) {
    rr_rope *r = make(8, 8, 10000.0, 0, RR_LAYOUT_NEOX);
    uint16_t q[2 * 8];
    rr_rotation rot;
    rr_rotation_init(&rot);
    rot.n_tokens = 2; rot.q_heads = 1; rot.q_token_stride = 8; rot.q_head_stride = 8;
    apply_fn fns[2] = {rr_rope_apply_f16_inplace, rr_rope_apply_bf16_inplace};
    for (int f = 0; f < 2; f++) {
        memset(q, CANARY, sizeof q);
        rot.q = (char *)q + 1;
        expect_status(fns[f](r, &rot), RR_STATUS_MISALIGNED, "2-byte alignment");
        rot.q = q;
        rot.n_tokens = 1; rot.q_heads = 2; rot.q_head_stride = 4;
        expect_status(fns[f](r, &rot), RR_STATUS_INVALID_STRIDE, "head stride < row");
        rot.n_tokens = 2; rot.q_heads = 1; rot.q_head_stride = 8;
        rot.q_token_stride = INT64_MAX / 2; /* elements fit int64, bytes do not */
        expect_status(fns[f](r, &rot), RR_STATUS_OVERFLOW, "2-byte span overflow");
        rot.q_token_stride = 8;
        expect_status(fns[f](NULL, &rot), RR_STATUS_NULL_POINTER, "NULL rope");
        expect_status(fns[f](r, NULL), RR_STATUS_NULL_POINTER, "NULL rotation");
        CHECK(all_canary(q, sizeof q), "nothing written on error");
        rot.q = (char *)q + 2; /* 2-byte aligned is enough */
        rot.n_tokens = 1;
        CHECK(fns[f](r, &rot) == RR_STATUS_OK, "2-byte aligned q: %s", rr_last_error_message());
        rot.n_tokens = 2;
    }
    rr_rope_free(r);
}

int main(void) {
    test_version();
    test_create_errors();
    test_frequencies();
    test_tables();
    test_rotation();
    test_rotation_options();
    test_rotation_errors();
    test_rotation_half();
    test_threads();
    test_half_errors();
    test_posgen();
    test_gap();
    test_config();
    test_scalings_via_params();
    printf("test_abi: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/* Hostile input, every entry point: each exported function is driven through its bad inputs
 * (NULL for each pointer, zero/negative/overflowing counts, bad dimensions, strides and overlaps,
 * non-finite and out-of-domain reals, unknown enum values and flag bits, wrong struct sizes,
 * non-zero reserved fields, misaligned data pointers). For every case:
 *   - the status is the one the header documents,
 *   - rr_status_string(status) is non-NULL static text that is not "unknown status",
 *   - rr_last_error_message() starts with "<function name>:",
 *   - every output buffer and every input is byte-for-byte unchanged (snapshots),
 *   - outputs sit right before a PROT_NONE guard page and inputs are mapped read-only, so a write
 *     past an output or into an input faults instead of passing silently.
 * Successful edge cases (capacity larger than needed, zero counts, fused qkv views) check that
 * the library writes exactly its result and nothing around it.
 *
 * Built with -std=c99 -Wall -Wextra -Werror -pedantic (and again under ASan/UBSan by
 * `make check-asan`). Complements Tests/c/test_abi.c (numerics and the basic status paths). */
#define _DEFAULT_SOURCE
#include <resonance_rope.h>

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guarded_buffer.h"

static int cases_passed, cases_failed;
static int n_refusals, n_accepted, n_checks; /* kinds of case, for the summary line */

/* ---- snapshots of every region a call must leave alone ---------------------------------------- */

#define MAX_WATCH 8
static struct { const unsigned char *p; size_t n; unsigned char *copy; } watch_list[MAX_WATCH];
static int watch_count;

static void watch(const void *p, size_t n) {
    if (p == NULL || n == 0) return;
    if (watch_count == MAX_WATCH) abort();
    watch_list[watch_count].p = (const unsigned char *)p;
    watch_list[watch_count].n = n;
    watch_list[watch_count].copy = (unsigned char *)malloc(n);
    if (watch_list[watch_count].copy == NULL) abort();
    memcpy(watch_list[watch_count].copy, p, n);
    watch_count++;
}

/* The verdict on one case: status, texts, and every watched region unchanged. On success (want
 * == RR_STATUS_OK) the watched regions are the ones that must not change (slack, inputs). */
static void verdict(const char *fn, const char *what, rr_status got, rr_status want) {
    char why[256] = "";
    const char *s = rr_status_string(got);
    const char *msg = rr_last_error_message();
    size_t fl = strlen(fn);
    if (got != want)
        snprintf(why, sizeof why, "status %d (%s), want %d", got, s ? s : "(null)", want);
    else if (s == NULL || s[0] == '\0' || strcmp(s, "unknown status") == 0)
        snprintf(why, sizeof why, "status string of %d is missing", got);
    else if (msg == NULL)
        snprintf(why, sizeof why, "rr_last_error_message() is NULL");
    else if (want != RR_STATUS_OK && (strncmp(msg, fn, fl) != 0 || msg[fl] != ':'))
        snprintf(why, sizeof why, "message does not name %s: \"%s\"", fn, msg);
    for (int i = 0; i < watch_count; i++) {
        if (why[0] == '\0' && memcmp(watch_list[i].p, watch_list[i].copy, watch_list[i].n) != 0)
            snprintf(why, sizeof why, "watched region %d (%zu bytes) changed", i, watch_list[i].n);
        free(watch_list[i].copy);
    }
    watch_count = 0;
    if (want != RR_STATUS_OK) n_refusals++;
    else n_accepted++;
    if (why[0] == '\0') {
        cases_passed++;
    } else {
        cases_failed++;
        fprintf(stderr, "FAIL %s: %s: %s [%s]\n", fn, what, why, msg ? msg : "");
    }
}

/* A plain check that is not a status case (counted like one). */
static void check(int ok, const char *what) {
    n_checks++;
    if (ok) {
        cases_passed++;
    } else {
        cases_failed++;
        fprintf(stderr, "FAIL %s\n", what);
    }
}

/* ---- helpers ----------------------------------------------------------------------------------- */

static rr_rope *make_rope(int d, int head_dim, int resonance, int layout, double attention) {
    rr_rope_params p;
    rr_rope *r = NULL;
    rr_rope_params_init(&p);
    p.rotary_dim = d;
    p.head_dim = head_dim;
    p.resonance = resonance;
    p.layout = layout;
    p.attention_factor = attention;
    if (rr_rope_create(&p, &r) != RR_STATUS_OK || r == NULL) {
        fprintf(stderr, "make_rope: %s\n", rr_last_error_message());
        exit(2);
    }
    return r;
}

static const double F_NAN_VALUES[] = {NAN, INFINITY, -INFINITY};
#define N_NONFINITE 3
static const uint32_t BAD_SIZES[] = {0, 1, 4, 7};  /* plus sizeof - 8, sizeof - 1, sizeof + 1, sizeof + 8, UINT32_MAX */

static uint32_t bad_size(uint32_t good, int i) {
    switch (i) {
    case 0: case 1: case 2: case 3: return BAD_SIZES[i];
    case 4: return good - 8;
    case 5: return good - 1;
    case 6: return good + 1;
    case 7: return good + 8;
    default: return UINT32_MAX;
    }
}
#define N_BAD_SIZES 9

/* ---- versions, texts, init and free ------------------------------------------------------------ */

static void test_trivial_entry_points(void) {
    static const int32_t statuses[] = {INT32_MIN, -1, 15, 16, 100, 255, 256, 65535, INT32_MAX};
    check(rr_version_number() == RR_VERSION_NUMBER, "rr_version_number() == RR_VERSION_NUMBER");
    check(rr_version_number() == (uint32_t)(RR_VERSION_MAJOR * 10000 + RR_VERSION_MINOR * 100 + RR_VERSION_PATCH),
          "rr_version_number() == MAJOR*10000 + MINOR*100 + PATCH");
    {
        char want[32];
        snprintf(want, sizeof want, "%d.%d.%d", RR_VERSION_MAJOR, RR_VERSION_MINOR, RR_VERSION_PATCH);
        check(strcmp(want, RR_VERSION_STRING) == 0 && strcmp(rr_version_string(), RR_VERSION_STRING) == 0,
              "RR_VERSION_STRING == rr_version_string() == MAJOR.MINOR.PATCH");
    }
    check(rr_max_dim() == RR_MAX_DIM, "rr_max_dim() == RR_MAX_DIM");
    for (int32_t s = RR_STATUS_OK; s <= RR_STATUS_INVALID_ARGUMENT; s++) {
        const char *t = rr_status_string(s);
        check(t != NULL && t[0] != '\0' && strcmp(t, "unknown status") != 0, "rr_status_string(documented status)");
    }
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        const char *t = rr_status_string(statuses[i]);
        check(t != NULL && strcmp(t, "unknown status") == 0, "rr_status_string(undefined status) == \"unknown status\"");
    }
    check(rr_last_error_message() != NULL, "rr_last_error_message() != NULL");
    /* NULL does nothing (a crash here ends the test). */
    rr_rope_params_init(NULL);
    rr_rotation_init(NULL);
    rr_rope_free(NULL);
    check(1, "init(NULL) and free(NULL) return");
    /* init writes exactly its struct: end-placed so a longer write faults. */
    {
        gb b = gb_alloc(sizeof(rr_rope_params), 1);
        rr_rope_params_init((rr_rope_params *)(void *)b.data);
        check(((rr_rope_params *)(void *)b.data)->struct_size == sizeof(rr_rope_params) && gb_slack_intact(&b),
              "rr_rope_params_init writes sizeof(rr_rope_params) bytes");
        gb_free(&b);
        b = gb_alloc(sizeof(rr_rotation), 1);
        rr_rotation_init((rr_rotation *)(void *)b.data);
        check(((rr_rotation *)(void *)b.data)->struct_size == sizeof(rr_rotation) && gb_slack_intact(&b),
              "rr_rotation_init writes sizeof(rr_rotation) bytes");
        gb_free(&b);
    }
}

/* ---- rr_rope_create ---------------------------------------------------------------------------- */

/* One create case: params placed read-only before a guard page, *out_rope a canary. */
static void create_case(const rr_rope_params *p, rr_status want, const char *what) {
    static rr_rope *const canary = (rr_rope *)(uintptr_t)0x5a5a5a5a5a5a5a50u;
    gb in = gb_readonly_copy(p, sizeof *p);
    gb out = gb_alloc(sizeof(rr_rope *), 1);
    memcpy(out.data, &canary, sizeof canary);
    if (want == RR_STATUS_OK) {
        rr_status st = rr_rope_create((const rr_rope_params *)(void *)in.data, (rr_rope **)(void *)out.data);
        rr_rope *r;
        memcpy(&r, out.data, sizeof r);
        verdict("rr_rope_create", what, st, want);
        check(st != RR_STATUS_OK || (r != NULL && r != canary), "create OK stores a handle");
        if (st == RR_STATUS_OK) rr_rope_free(r);
    } else {
        watch(out.data, out.n);
        verdict("rr_rope_create", what,
                rr_rope_create((const rr_rope_params *)(void *)in.data, (rr_rope **)(void *)out.data), want);
    }
    gb_free(&in);
    gb_free(&out);
}

#define CREATE(WANT, WHAT, EDIT)                 \
    do {                                         \
        rr_rope_params p_;                       \
        rr_rope_params_init(&p_);                \
        p_.rotary_dim = 8;                       \
        { rr_rope_params *p = &p_; EDIT; }       \
        create_case(&p_, WANT, WHAT);            \
    } while (0)

static void test_create(void) {
    static const double factors8[4] = {1, 1.5, 2, 4};
    static double bad_factors[4];
    char what[96];
    rr_rope_params p;
    rr_rope *r = (rr_rope *)(uintptr_t)0x1230;
    /* NULL pointers */
    rr_rope_params_init(&p);
    p.rotary_dim = 8;
    verdict("rr_rope_create", "params NULL", rr_rope_create(NULL, &r), RR_STATUS_NULL_POINTER);
    check(r == (rr_rope *)(uintptr_t)0x1230, "create(NULL params) leaves *out_rope");
    verdict("rr_rope_create", "out_rope NULL", rr_rope_create(&p, NULL), RR_STATUS_NULL_POINTER);
    verdict("rr_rope_create", "both NULL", rr_rope_create(NULL, NULL), RR_STATUS_NULL_POINTER);
    CREATE(RR_STATUS_NULL_POINTER, "longrope, short_factor NULL",
           (p->scaling = RR_SCALING_LONGROPE, p->original_max_position = 4096, p->long_factor = factors8));
    CREATE(RR_STATUS_NULL_POINTER, "longrope, long_factor NULL",
           (p->scaling = RR_SCALING_LONGROPE, p->original_max_position = 4096, p->short_factor = factors8));
    CREATE(RR_STATUS_NULL_POINTER, "freq_factors NULL", p->scaling = RR_SCALING_FREQ_FACTORS);
    /* struct size and reserved fields */
    for (int i = 0; i < N_BAD_SIZES; i++) {
        snprintf(what, sizeof what, "struct_size %u", bad_size(sizeof(rr_rope_params), i));
        CREATE(RR_STATUS_STRUCT_SIZE, what, p->struct_size = bad_size(sizeof(rr_rope_params), i));
    }
    CREATE(RR_STATUS_STRUCT_SIZE, "reserved0 1", p->reserved0 = 1);
    CREATE(RR_STATUS_STRUCT_SIZE, "reserved0 -1", p->reserved0 = -1);
    for (int i = 0; i < (int)(sizeof(((rr_rope_params *)0)->reserved) / sizeof(uint64_t)); i++) {
        snprintf(what, sizeof what, "reserved[%d] != 0", i);
        CREATE(RR_STATUS_STRUCT_SIZE, what, p->reserved[i] = (uint64_t)1 << (i * 8));
    }
    /* enums */
    {
        static const int32_t bad_layouts[] = {2, 3, -1, INT32_MAX, INT32_MIN};
        static const int32_t bad_scalings[] = {8, 9, -1, 100, INT32_MAX, INT32_MIN};
        for (size_t i = 0; i < sizeof bad_layouts / sizeof bad_layouts[0]; i++) {
            snprintf(what, sizeof what, "layout %d", bad_layouts[i]);
            CREATE(RR_STATUS_UNKNOWN_ENUM, what, p->layout = bad_layouts[i]);
        }
        for (size_t i = 0; i < sizeof bad_scalings / sizeof bad_scalings[0]; i++) {
            snprintf(what, sizeof what, "scaling %d", bad_scalings[i]);
            CREATE(RR_STATUS_UNKNOWN_ENUM, what, p->scaling = bad_scalings[i]);
        }
    }
    /* dimensions */
    {
        static const int32_t bad_dims[] = {0, -2, 1, 7, 63, RR_MAX_DIM + 1, RR_MAX_DIM + 2, INT32_MAX, INT32_MIN, -1};
        for (size_t i = 0; i < sizeof bad_dims / sizeof bad_dims[0]; i++) {
            snprintf(what, sizeof what, "rotary_dim %d", bad_dims[i]);
            CREATE(RR_STATUS_INVALID_DIMENSION, what, p->rotary_dim = bad_dims[i]);
        }
        CREATE(RR_STATUS_INVALID_DIMENSION, "head_dim 6 < rotary_dim 8", p->head_dim = 6);
        CREATE(RR_STATUS_INVALID_DIMENSION, "head_dim -8", p->head_dim = -8);
        CREATE(RR_STATUS_INVALID_DIMENSION, "head_dim INT32_MIN", p->head_dim = INT32_MIN);
        CREATE(RR_STATUS_INVALID_DIMENSION, "head_dim RR_MAX_DIM + 1", p->head_dim = RR_MAX_DIM + 1);
        CREATE(RR_STATUS_INVALID_DIMENSION, "head_dim INT32_MAX", p->head_dim = INT32_MAX);
        CREATE(RR_STATUS_INVALID_DIMENSION, "rotary_dim RR_MAX_DIM, head_dim + 2",
               (p->rotary_dim = RR_MAX_DIM, p->head_dim = RR_MAX_DIM + 2));
        CREATE(RR_STATUS_INVALID_DIMENSION, "ntk with rotary_dim 2",
               (p->rotary_dim = 2, p->scaling = RR_SCALING_NTK, p->factor = 2));
        CREATE(RR_STATUS_INVALID_DIMENSION, "dynamic with rotary_dim 2",
               (p->rotary_dim = 2, p->scaling = RR_SCALING_DYNAMIC, p->factor = 2, p->max_position = 2048));
    }
    /* base */
    {
        static const double bad_bases[] = {1.0, 0.5, 0.0, -0.0, -1.0, -10000.0, 1e-300, 4.9406564584124654e-324, NAN, INFINITY, -INFINITY};
        for (size_t i = 0; i < sizeof bad_bases / sizeof bad_bases[0]; i++) {
            snprintf(what, sizeof what, "base %g", bad_bases[i]);
            CREATE(RR_STATUS_INVALID_VALUE, what, p->base = bad_bases[i]);
        }
        CREATE(RR_STATUS_INVALID_VALUE, "base 1e300 under Resonance (wavelength >= 2^53)",
               (p->rotary_dim = 4, p->base = 1e300, p->resonance = 1));
        CREATE(RR_STATUS_INVALID_VALUE, "base DBL_MAX under Resonance", (p->base = DBL_MAX, p->resonance = 7));
    }
    /* attention factor and truncate */
    {
        static const double bad_attention[] = {-1.0, -DBL_MIN, NAN, INFINITY, -INFINITY, 3.5e38, DBL_MAX};
        for (size_t i = 0; i < sizeof bad_attention / sizeof bad_attention[0]; i++) {
            snprintf(what, sizeof what, "attention_factor %g", bad_attention[i]);
            CREATE(RR_STATUS_INVALID_VALUE, what, p->attention_factor = bad_attention[i]);
        }
        CREATE(RR_STATUS_INVALID_VALUE, "truncate 2", p->truncate = 2);
        CREATE(RR_STATUS_INVALID_VALUE, "truncate -1", p->truncate = -1);
    }
    /* factor of every scaling that reads it */
    {
        static const int32_t with_factor[] = {RR_SCALING_LINEAR, RR_SCALING_NTK, RR_SCALING_DYNAMIC, RR_SCALING_YARN,
                                              RR_SCALING_LLAMA3, RR_SCALING_LONGROPE};
        static const double bad_f[] = {-1.0, -0.0 - 1e-300, NAN, INFINITY, -INFINITY};
        for (size_t s = 0; s < sizeof with_factor / sizeof with_factor[0]; s++)
            for (size_t i = 0; i < sizeof bad_f / sizeof bad_f[0]; i++) {
                snprintf(what, sizeof what, "scaling %d, factor %g", with_factor[s], bad_f[i]);
                CREATE(RR_STATUS_INVALID_VALUE, what,
                       (p->scaling = with_factor[s], p->factor = bad_f[i], p->max_position = 8192,
                        p->original_max_position = 4096, p->low_freq_factor = 1, p->high_freq_factor = 4,
                        p->short_factor = factors8, p->long_factor = factors8));
            }
        /* required factor missing (0 = not set) */
        CREATE(RR_STATUS_INVALID_VALUE, "linear without factor", p->scaling = RR_SCALING_LINEAR);
        CREATE(RR_STATUS_INVALID_VALUE, "ntk without factor", p->scaling = RR_SCALING_NTK);
        CREATE(RR_STATUS_INVALID_VALUE, "dynamic without max_position", (p->scaling = RR_SCALING_DYNAMIC, p->factor = 2));
        CREATE(RR_STATUS_INVALID_VALUE, "yarn without factor or lengths", p->scaling = RR_SCALING_YARN);
        CREATE(RR_STATUS_INVALID_VALUE, "llama3 without low/high", (p->scaling = RR_SCALING_LLAMA3, p->factor = 8,
                                                                   p->original_max_position = 8192));
        CREATE(RR_STATUS_INVALID_VALUE, "ntk factor 1e300 (scaled base overflows)",
               (p->scaling = RR_SCALING_NTK, p->factor = 1e300));
    }
    /* counts of positions */
    {
        static const int64_t bad_counts[] = {-1, INT64_MIN};
        for (size_t i = 0; i < 2; i++) {
            snprintf(what, sizeof what, "max_position %lld", (long long)bad_counts[i]);
            CREATE(RR_STATUS_INVALID_VALUE, what, (p->scaling = RR_SCALING_YARN, p->factor = 4, p->max_position = bad_counts[i]));
            snprintf(what, sizeof what, "original_max_position %lld", (long long)bad_counts[i]);
            CREATE(RR_STATUS_INVALID_VALUE, what,
                   (p->scaling = RR_SCALING_YARN, p->factor = 4, p->original_max_position = bad_counts[i]));
            snprintf(what, sizeof what, "dynamic sequence_length %lld", (long long)bad_counts[i]);
            CREATE(RR_STATUS_INVALID_VALUE, what,
                   (p->scaling = RR_SCALING_DYNAMIC, p->factor = 2, p->max_position = 2048, p->sequence_length = bad_counts[i]));
            snprintf(what, sizeof what, "longrope sequence_length %lld", (long long)bad_counts[i]);
            CREATE(RR_STATUS_INVALID_VALUE, what,
                   (p->scaling = RR_SCALING_LONGROPE, p->original_max_position = 4096, p->short_factor = factors8,
                    p->long_factor = factors8, p->sequence_length = bad_counts[i]));
        }
        CREATE(RR_STATUS_INVALID_VALUE, "longrope factor > 1 with original_max_position 1",
               (p->scaling = RR_SCALING_LONGROPE, p->original_max_position = 1, p->max_position = 4096,
                p->short_factor = factors8, p->long_factor = factors8));
    }
    /* yarn and llama3 parameters */
    for (int i = 0; i < N_NONFINITE; i++) {
        double x = F_NAN_VALUES[i];
        snprintf(what, sizeof what, "yarn beta_fast %g", x);
        CREATE(RR_STATUS_INVALID_VALUE, what, (p->scaling = RR_SCALING_YARN, p->factor = 4, p->original_max_position = 4096, p->beta_fast = x));
        snprintf(what, sizeof what, "yarn beta_slow %g", x);
        CREATE(RR_STATUS_INVALID_VALUE, what, (p->scaling = RR_SCALING_YARN, p->factor = 4, p->original_max_position = 4096, p->beta_slow = x));
        snprintf(what, sizeof what, "yarn mscale %g", x);
        CREATE(RR_STATUS_INVALID_VALUE, what,
               (p->scaling = RR_SCALING_YARN, p->factor = 4, p->original_max_position = 4096, p->mscale = x, p->mscale_all_dim = 1));
        snprintf(what, sizeof what, "llama3 low_freq_factor %g", x);
        CREATE(RR_STATUS_INVALID_VALUE, what, (p->scaling = RR_SCALING_LLAMA3, p->factor = 8, p->original_max_position = 8192,
                                              p->low_freq_factor = x, p->high_freq_factor = 4));
        snprintf(what, sizeof what, "llama3 high_freq_factor %g", x);
        CREATE(RR_STATUS_INVALID_VALUE, what, (p->scaling = RR_SCALING_LLAMA3, p->factor = 8, p->original_max_position = 8192,
                                              p->low_freq_factor = 1, p->high_freq_factor = x));
    }
    CREATE(RR_STATUS_INVALID_VALUE, "yarn beta_fast <= beta_slow",
           (p->scaling = RR_SCALING_YARN, p->factor = 4, p->original_max_position = 4096, p->beta_fast = 1, p->beta_slow = 1));
    CREATE(RR_STATUS_INVALID_VALUE, "yarn beta_slow negative",
           (p->scaling = RR_SCALING_YARN, p->factor = 4, p->original_max_position = 4096, p->beta_slow = -1));
    CREATE(RR_STATUS_INVALID_VALUE, "yarn mscale_all_dim making the factor negative",
           (p->scaling = RR_SCALING_YARN, p->factor = 4, p->original_max_position = 4096, p->mscale = 1, p->mscale_all_dim = -100));
    CREATE(RR_STATUS_INVALID_VALUE, "llama3 high <= low",
           (p->scaling = RR_SCALING_LLAMA3, p->factor = 8, p->original_max_position = 8192, p->low_freq_factor = 4, p->high_freq_factor = 4));
    CREATE(RR_STATUS_INVALID_VALUE, "llama3 low negative",
           (p->scaling = RR_SCALING_LLAMA3, p->factor = 8, p->original_max_position = 8192, p->low_freq_factor = -1, p->high_freq_factor = 4));
    /* per-pair factor arrays: each bad value in each position of each array */
    {
        static const double bad_entries[] = {0.0, -1.0, NAN, INFINITY, -INFINITY};
        for (size_t v = 0; v < sizeof bad_entries / sizeof bad_entries[0]; v++)
            for (int at = 0; at < 4; at += 3) {
                memcpy(bad_factors, factors8, sizeof bad_factors);
                bad_factors[at] = bad_entries[v];
                snprintf(what, sizeof what, "freq_factors[%d] = %g", at, bad_entries[v]);
                CREATE(RR_STATUS_INVALID_VALUE, what, (p->scaling = RR_SCALING_FREQ_FACTORS, p->freq_factors = bad_factors));
                snprintf(what, sizeof what, "short_factor[%d] = %g", at, bad_entries[v]);
                CREATE(RR_STATUS_INVALID_VALUE, what, (p->scaling = RR_SCALING_LONGROPE, p->original_max_position = 4096,
                                                      p->short_factor = bad_factors, p->long_factor = factors8));
                snprintf(what, sizeof what, "long_factor[%d] = %g", at, bad_entries[v]);
                CREATE(RR_STATUS_INVALID_VALUE, what, (p->scaling = RR_SCALING_LONGROPE, p->original_max_position = 4096,
                                                      p->short_factor = factors8, p->long_factor = bad_factors));
            }
    }
    /* misaligned factor arrays (a double array must be 8-byte aligned) */
    {
        static double storage[8];
        const double *mis = (const double *)(const void *)((const char *)storage + 4);
        CREATE(RR_STATUS_MISALIGNED, "freq_factors misaligned", (p->scaling = RR_SCALING_FREQ_FACTORS, p->freq_factors = mis));
        CREATE(RR_STATUS_MISALIGNED, "short_factor misaligned", (p->scaling = RR_SCALING_LONGROPE, p->original_max_position = 4096,
                                                                p->short_factor = mis, p->long_factor = factors8));
        CREATE(RR_STATUS_MISALIGNED, "long_factor misaligned", (p->scaling = RR_SCALING_LONGROPE, p->original_max_position = 4096,
                                                               p->short_factor = factors8, p->long_factor = mis));
    }
    /* The library reads exactly rotary_dim / 2 factors: an array that ends at a guard page works. */
    {
        gb f = gb_readonly_copy(factors8, sizeof factors8);
        CREATE(RR_STATUS_OK, "freq_factors ending at a guard page",
               (p->scaling = RR_SCALING_FREQ_FACTORS, p->freq_factors = (const double *)(void *)f.data));
        gb_free(&f);
    }
    /* Accepted edge values (must not be refused): exercising the boundary of each check. */
    CREATE(RR_STATUS_OK, "rotary_dim 2", p->rotary_dim = 2);
    CREATE(RR_STATUS_OK, "rotary_dim RR_MAX_DIM", p->rotary_dim = RR_MAX_DIM);
    CREATE(RR_STATUS_OK, "head_dim RR_MAX_DIM", p->head_dim = RR_MAX_DIM);
    CREATE(RR_STATUS_OK, "base nextafter(1, 2)", p->base = nextafter(1.0, 2.0));
    CREATE(RR_STATUS_OK, "base 1e30 without Resonance", p->base = 1e30);
    /* base DBL_MAX gives inverse frequencies whose float32 values (rr_rope_inv_freq_f32) are 0 */
    CREATE(RR_STATUS_INVALID_VALUE, "base DBL_MAX without Resonance: float32 inv_freq 0", p->base = DBL_MAX);
    CREATE(RR_STATUS_OK, "attention_factor -0.0 (= unset)", p->attention_factor = -0.0);
    CREATE(RR_STATUS_OK, "resonance INT32_MIN (nonzero = on)", p->resonance = INT32_MIN);
}

/* ---- rr_rope_get_info -------------------------------------------------------------------------- */

static void test_get_info(rr_rope *r) {
    char what[64];
    gb out = gb_alloc(sizeof(rr_rope_info), 1);
    rr_rope_info *info = (rr_rope_info *)(void *)out.data;
    verdict("rr_rope_get_info", "rope NULL", (info->struct_size = sizeof *info, watch(info, sizeof *info), rr_rope_get_info(NULL, info)),
            RR_STATUS_NULL_POINTER);
    verdict("rr_rope_get_info", "info NULL", rr_rope_get_info(r, NULL), RR_STATUS_NULL_POINTER);
    verdict("rr_rope_get_info", "both NULL", rr_rope_get_info(NULL, NULL), RR_STATUS_NULL_POINTER);
    for (int i = 0; i < N_BAD_SIZES; i++) {
        memset(info, GB_CANARY, sizeof *info);
        info->struct_size = bad_size(sizeof(rr_rope_info), i);
        snprintf(what, sizeof what, "struct_size %u", info->struct_size);
        watch(info, sizeof *info);
        verdict("rr_rope_get_info", what, rr_rope_get_info(r, info), RR_STATUS_STRUCT_SIZE);
    }
    memset(info, GB_CANARY, sizeof *info);
    info->struct_size = sizeof *info;
    verdict("rr_rope_get_info", "valid", rr_rope_get_info(r, info), RR_STATUS_OK);
    check(info->rotary_dim == 8 && info->pair_count == 4 && gb_slack_intact(&out), "get_info fills exactly its struct");
    gb_free(&out);
}

/* ---- frequencies: inv_freq f64/f32, wavelengths, resonance wavelengths ----------------------- */

typedef rr_status (*freq_fn)(const rr_rope *, void *, int64_t);
static rr_status call_inv_f64(const rr_rope *r, void *v, int64_t c) { return rr_rope_inv_freq_f64(r, (double *)v, c); }
static rr_status call_inv_f32(const rr_rope *r, void *v, int64_t c) { return rr_rope_inv_freq_f32(r, (float *)v, c); }
static rr_status call_wave(const rr_rope *r, void *v, int64_t c) { return rr_rope_wavelengths(r, (double *)v, c); }
static rr_status call_res(const rr_rope *r, void *v, int64_t c) { return rr_rope_resonance_wavelengths(r, (int64_t *)v, c); }
static rr_status call_factors(const rr_rope *r, void *v, int64_t c) { return rr_rope_resonance_freq_factors(r, (float *)v, c); }

static void test_frequencies(rr_rope *r) {
    static const struct { const char *name; freq_fn fn; size_t elem; } fns[] = {
        {"rr_rope_inv_freq_f64", call_inv_f64, sizeof(double)},
        {"rr_rope_inv_freq_f32", call_inv_f32, sizeof(float)},
        {"rr_rope_wavelengths", call_wave, sizeof(double)},
        {"rr_rope_resonance_wavelengths", call_res, sizeof(int64_t)},
        {"rr_rope_resonance_freq_factors", call_factors, sizeof(float)},
    };
    const int64_t half = 4; /* r has rotary_dim 8 */
    static const int64_t bad_caps[] = {-1, 0, 1, 3, INT64_MIN, -4};
    char what[64];
    for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
        const char *fn = fns[f].name;
        size_t bytes = (size_t)half * fns[f].elem;
        gb out = gb_alloc(bytes, 1);
        watch(out.data, bytes);
        verdict(fn, "rope NULL", fns[f].fn(NULL, out.data, half), RR_STATUS_NULL_POINTER);
        verdict(fn, "values NULL", fns[f].fn(r, NULL, half), RR_STATUS_NULL_POINTER);
        verdict(fn, "values NULL, capacity 0", fns[f].fn(r, NULL, 0), RR_STATUS_NULL_POINTER);
        verdict(fn, "both NULL", fns[f].fn(NULL, NULL, -1), RR_STATUS_NULL_POINTER);
        for (size_t i = 0; i < sizeof bad_caps / sizeof bad_caps[0]; i++) {
            snprintf(what, sizeof what, "capacity %lld", (long long)bad_caps[i]);
            watch(out.data, bytes);
            verdict(fn, what, fns[f].fn(r, out.data, bad_caps[i]), RR_STATUS_BUFFER_TOO_SMALL);
        }
        /* misaligned by every byte offset below the element size */
        for (size_t off = 1; off < fns[f].elem; off++) {
            gb mis = gb_alloc(bytes + 8, 1);
            snprintf(what, sizeof what, "values misaligned by %zu", off);
            watch(mis.data, mis.n);
            verdict(fn, what, fns[f].fn(r, mis.data + 8 - off, half), RR_STATUS_MISALIGNED);
            gb_free(&mis);
        }
        /* a capacity far larger than the buffer: only rotary_dim / 2 elements are written, and the
         * buffer ends at a guard page */
        verdict(fn, "capacity INT64_MAX, buffer of exactly rotary_dim / 2", fns[f].fn(r, out.data, INT64_MAX), RR_STATUS_OK);
        check(gb_slack_intact(&out), "frequencies: nothing written before the buffer");
        gb_free(&out);
    }
}

/* ---- rr_rope_count_pairs ----------------------------------------------------------------------- */

static void test_count_pairs(rr_rope *r) {
    static const int64_t bad_lengths[] = {0, -1, INT64_MIN};
    char what[64];
    gb out = gb_alloc(2 * sizeof(int64_t), 1);
    int64_t *a = (int64_t *)(void *)out.data, *b = a + 1;
    verdict("rr_rope_count_pairs", "rope NULL", (watch(a, 16), rr_rope_count_pairs(NULL, 4096, a, b)), RR_STATUS_NULL_POINTER);
    verdict("rr_rope_count_pairs", "rope NULL, outputs NULL", rr_rope_count_pairs(NULL, 4096, NULL, NULL), RR_STATUS_NULL_POINTER);
    for (size_t i = 0; i < sizeof bad_lengths / sizeof bad_lengths[0]; i++) {
        snprintf(what, sizeof what, "train_length %lld", (long long)bad_lengths[i]);
        watch(a, 16);
        verdict("rr_rope_count_pairs", what, rr_rope_count_pairs(r, bad_lengths[i], a, b), RR_STATUS_INVALID_VALUE);
    }
    {
        gb mis = gb_alloc(32, 1);
        int64_t *m = (int64_t *)(void *)(mis.data + 4);
        watch(mis.data, 32);
        watch(a, 16);
        verdict("rr_rope_count_pairs", "pre_critical misaligned", rr_rope_count_pairs(r, 4096, m, b), RR_STATUS_MISALIGNED);
        watch(mis.data, 32);
        watch(a, 16);
        verdict("rr_rope_count_pairs", "periodic misaligned", rr_rope_count_pairs(r, 4096, a, m), RR_STATUS_MISALIGNED);
        gb_free(&mis);
    }
    verdict("rr_rope_count_pairs", "both outputs NULL", rr_rope_count_pairs(r, 4096, NULL, NULL), RR_STATUS_OK);
    verdict("rr_rope_count_pairs", "train_length INT64_MAX", rr_rope_count_pairs(r, INT64_MAX, a, b), RR_STATUS_OK);
    check(*a == 4 && *b == 0 && gb_slack_intact(&out), "count_pairs at INT64_MAX: all 4 pairs pre-critical, none periodic");
    gb_free(&out);
}

/* ---- rr_rope_cos_sin_f32 ----------------------------------------------------------------------- */

static void table_case(const rr_rope *r, int32_t layout, uint32_t flags, const int64_t *pos, int64_t start, int64_t n,
                       float *c, float *s, rr_status want, const char *what, const gb *cb, const gb *sb) {
    if (cb) watch(cb->data, cb->n);
    if (sb) watch(sb->data, sb->n);
    verdict("rr_rope_cos_sin_f32", what, rr_rope_cos_sin_f32(r, layout, flags, pos, start, n, c, s), want);
}

static void test_cos_sin(rr_rope *r) {
    enum { N = 3, W = 8 }; /* rotary_dim 8: width 4 (half) or 8 */
    gb cb = gb_alloc(N * W * sizeof(float), 1), sb = gb_alloc(N * W * sizeof(float), 1);
    float *c = (float *)(void *)cb.data, *s = (float *)(void *)sb.data;
    int64_t positions_storage[N + 1] = {0, 5, -9, 77};
    gb pb = gb_readonly_copy(positions_storage, sizeof positions_storage);
    const int64_t *pos = (const int64_t *)(void *)pb.data;
    char what[96];
    static const int32_t bad_layouts[] = {4, 5, -1, INT32_MAX, INT32_MIN};
    static const uint32_t bad_flags[] = {RR_ROTATE_INVERSE, 4, 8, 0x80000000u, UINT32_MAX, RR_ATTENTION_FACTOR | 1u};
    table_case(NULL, 0, 0, pos, 0, N, c, s, RR_STATUS_NULL_POINTER, "rope NULL", &cb, &sb);
    for (int32_t l = 0; l < 4; l++) {
        snprintf(what, sizeof what, "layout %d, cos_out NULL", l);
        table_case(r, l, 0, pos, 0, N, NULL, l == RR_TABLE_LAYOUT_VLLM ? NULL : s, RR_STATUS_NULL_POINTER, what, &cb, &sb);
        snprintf(what, sizeof what, "layout %d, cos_out NULL, n 0", l);
        table_case(r, l, 0, NULL, 0, 0, NULL, l == RR_TABLE_LAYOUT_VLLM ? NULL : s, RR_STATUS_NULL_POINTER, what, &cb, &sb);
        if (l != RR_TABLE_LAYOUT_VLLM) {
            snprintf(what, sizeof what, "layout %d, sin_out NULL", l);
            table_case(r, l, 0, pos, 0, N, c, NULL, RR_STATUS_NULL_POINTER, what, &cb, &sb);
        }
    }
    for (size_t i = 0; i < sizeof bad_layouts / sizeof bad_layouts[0]; i++) {
        snprintf(what, sizeof what, "layout %d", bad_layouts[i]);
        table_case(r, bad_layouts[i], 0, pos, 0, N, c, s, RR_STATUS_UNKNOWN_ENUM, what, &cb, &sb);
    }
    for (size_t i = 0; i < sizeof bad_flags / sizeof bad_flags[0]; i++) {
        snprintf(what, sizeof what, "flags 0x%x", bad_flags[i]);
        table_case(r, 0, bad_flags[i], pos, 0, N, c, s, RR_STATUS_UNKNOWN_ENUM, what, &cb, &sb);
    }
    table_case(r, RR_TABLE_LAYOUT_VLLM, 0, pos, 0, N, c, s, RR_STATUS_INVALID_ARGUMENT, "vllm with sin_out", &cb, &sb);
    {
        static const int64_t bad_n[] = {-1, -2, INT64_MIN};
        for (size_t i = 0; i < sizeof bad_n / sizeof bad_n[0]; i++) {
            snprintf(what, sizeof what, "n_positions %lld (list)", (long long)bad_n[i]);
            table_case(r, 0, 0, pos, 0, bad_n[i], c, s, RR_STATUS_OVERFLOW, what, &cb, &sb);
            snprintf(what, sizeof what, "n_positions %lld (range)", (long long)bad_n[i]);
            table_case(r, 0, 0, NULL, 0, bad_n[i], c, s, RR_STATUS_OVERFLOW, what, &cb, &sb);
        }
    }
    table_case(r, 0, 0, NULL, INT64_MAX, 2, c, s, RR_STATUS_OVERFLOW, "start INT64_MAX, n 2", &cb, &sb);
    table_case(r, 0, 0, NULL, INT64_MAX - 1, 3, c, s, RR_STATUS_OVERFLOW, "start INT64_MAX - 1, n 3", &cb, &sb);
    table_case(r, 0, 0, NULL, 1, INT64_MAX, c, s, RR_STATUS_OVERFLOW, "start 1, n INT64_MAX", &cb, &sb);
    for (int32_t l = 0; l < 4; l++) {
        int64_t w = l == RR_TABLE_LAYOUT_HALF ? 4 : 8;
        float *so = l == RR_TABLE_LAYOUT_VLLM ? NULL : s;
        snprintf(what, sizeof what, "layout %d, n * width * 4 overflows", l);
        table_case(r, l, 0, pos, 0, INT64_MAX / (w * 4) + 1, c, so, RR_STATUS_OVERFLOW, what, &cb, &sb);
        snprintf(what, sizeof what, "layout %d, n * width overflows", l);
        table_case(r, l, 0, pos, INT64_MIN, INT64_MAX / w + 1, c, so, RR_STATUS_OVERFLOW, what, &cb, &sb);
        snprintf(what, sizeof what, "layout %d, range n INT64_MAX", l);
        table_case(r, l, 0, NULL, INT64_MIN, INT64_MAX, c, so, RR_STATUS_OVERFLOW, what, &cb, &sb);
    }
    for (int off = 1; off < 4; off++) {
        snprintf(what, sizeof what, "cos_out misaligned by %d", off);
        table_case(r, 0, 0, pos, 0, N, (float *)(void *)((char *)c + off), s, RR_STATUS_MISALIGNED, what, &cb, &sb);
        snprintf(what, sizeof what, "sin_out misaligned by %d", off);
        table_case(r, 0, 0, pos, 0, N, c, (float *)(void *)((char *)s + off), RR_STATUS_MISALIGNED, what, &cb, &sb);
        snprintf(what, sizeof what, "vllm cos_out misaligned by %d", off);
        table_case(r, RR_TABLE_LAYOUT_VLLM, 0, pos, 0, N, (float *)(void *)((char *)c + off), NULL, RR_STATUS_MISALIGNED, what,
                   &cb, &sb);
    }
    for (int off = 1; off < 8; off++) {
        snprintf(what, sizeof what, "positions misaligned by %d", off);
        table_case(r, 0, 0, (const int64_t *)(const void *)((const char *)positions_storage + off), 0, N, c, s,
                   RR_STATUS_MISALIGNED, what, &cb, &sb);
    }
    /* cos_out and sin_out share floats */
    table_case(r, RR_TABLE_LAYOUT_HALF, 0, pos, 0, N, c, c, RR_STATUS_OVERLAP, "sin_out == cos_out", &cb, &sb);
    table_case(r, RR_TABLE_LAYOUT_HF, 0, pos, 0, N, c, c + 1, RR_STATUS_OVERLAP, "sin_out == cos_out + 1", &cb, &sb);
    table_case(r, RR_TABLE_LAYOUT_HALF, 0, pos, 0, N, c + 8, c, RR_STATUS_OVERLAP, "cos_out starts in sin_out's last row", &cb, &sb);
    /* edges that must succeed and write exactly n * width floats (each buffer ends at a guard page) */
    for (int32_t l = 0; l < 4; l++) {
        int64_t w = l == RR_TABLE_LAYOUT_HALF ? 4 : 8;
        gb c2 = gb_alloc((size_t)(N * w) * sizeof(float), 1), s2 = gb_alloc((size_t)(N * w) * sizeof(float), 1);
        float *so = l == RR_TABLE_LAYOUT_VLLM ? NULL : (float *)(void *)s2.data;
        snprintf(what, sizeof what, "layout %d, exact-size buffers at guard pages", l);
        watch(s2.data, l == RR_TABLE_LAYOUT_VLLM ? s2.n : 0);
        table_case(r, l, RR_ATTENTION_FACTOR, pos, 0, N, (float *)(void *)c2.data, so, RR_STATUS_OK, what, NULL, NULL);
        check(gb_slack_intact(&c2) && gb_slack_intact(&s2), "cos_sin: nothing written before the buffers");
        snprintf(what, sizeof what, "layout %d, n 0 writes nothing", l);
        table_case(r, l, 0, NULL, INT64_MAX, 0, (float *)(void *)c2.data, so, RR_STATUS_OK, what, &c2, &s2);
        table_case(r, l, 0, pos, INT64_MAX, 1, (float *)(void *)(c2.data + c2.n - (size_t)w * 4),
                   so ? (float *)(void *)(s2.data + s2.n - (size_t)w * 4) : NULL, RR_STATUS_OK, "one row, list", NULL, NULL);
        table_case(r, l, 0, NULL, INT64_MAX, 1, (float *)(void *)(c2.data + c2.n - (size_t)w * 4),
                   so ? (float *)(void *)(s2.data + s2.n - (size_t)w * 4) : NULL, RR_STATUS_OK, "one row at INT64_MAX", NULL, NULL);
        gb_free(&c2);
        gb_free(&s2);
    }
    gb_free(&cb);
    gb_free(&sb);
    gb_free(&pb);
}

/* ---- rr_rope_apply_{f32,f16,bf16}_inplace ------------------------------------------------------ */

/* q: T tokens x 2 heads x 8 elements, k the same, each in its own guarded buffer with some data.
 * The same cases run for each element format (ES bytes per element; strides in elements). */
enum { AT = 4, AH = 2, AD = 8, AQ = AT * AH * AD };
typedef rr_status (*apply_function)(const rr_rope *, const rr_rotation *);
static apply_function apply_fn;
static const char *apply_name;
static size_t ES;
static gb aq_buf, ak_buf, apos_buf;
static unsigned char *aq, *ak;
static const int64_t *apos;
#define EQ(n) ((void *)(aq + (size_t)(n) * ES)) /* element n of q's buffer */
#define EK(n) ((void *)(ak + (size_t)(n) * ES))

static void apply_fill(void) {
    for (size_t i = 0; i < AQ * ES; i++) {
        /* finite values in every format: small mantissa bytes, exponent bytes near 1.0 */
        aq[i] = (unsigned char)(i % ES == ES - 1 ? 0x3c : i * 37 + 11);
        ak[i] = (unsigned char)(i % ES == ES - 1 ? 0x3f : i * 53 + 7);
    }
}

static void apply_case(const rr_rope *r, const rr_rotation *rot, rr_status want, const char *what) {
    gb in = gb_readonly_copy(rot, sizeof *rot);
    apply_fill();
    watch(aq_buf.data, aq_buf.n);
    watch(ak_buf.data, ak_buf.n);
    verdict(apply_name, what, apply_fn(r, (const rr_rotation *)(void *)in.data), want);
    gb_free(&in);
}

static void apply_base(rr_rotation *rot) {
    rr_rotation_init(rot);
    rot->n_tokens = AT;
    rot->positions = apos;
    rot->q = aq;
    rot->q_heads = AH;
    rot->q_token_stride = AH * AD;
    rot->q_head_stride = AD;
    rot->k = ak;
    rot->k_heads = AH;
    rot->k_token_stride = AH * AD;
    rot->k_head_stride = AD;
}

#define APPLY(R, WANT, WHAT, EDIT)           \
    do {                                     \
        rr_rotation rot_;                    \
        apply_base(&rot_);                   \
        { rr_rotation *x = &rot_; EDIT; }    \
        apply_case(R, &rot_, WANT, WHAT);    \
    } while (0)

static void test_apply(rr_rope *r, apply_function fn, const char *name, size_t element_size) {
    static const int64_t positions_storage[AT] = {0, 1, INT64_MAX, INT64_MIN};
    char what[96];
    apply_fn = fn;
    apply_name = name;
    ES = element_size;
    aq_buf = gb_alloc(AQ * ES, 1);
    ak_buf = gb_alloc(AQ * ES, 0); /* start-placed: a write before k faults */
    apos_buf = gb_readonly_copy(positions_storage, sizeof positions_storage);
    aq = aq_buf.data;
    ak = ak_buf.data;
    apos = (const int64_t *)(void *)apos_buf.data;
    {
        rr_rotation rot;
        apply_base(&rot);
        apply_fill();
        watch(aq, AQ * ES);
        watch(ak, AQ * ES);
        verdict(apply_name, "rope NULL", apply_fn(NULL, &rot), RR_STATUS_NULL_POINTER);
        verdict(apply_name, "rotation NULL", apply_fn(r, NULL), RR_STATUS_NULL_POINTER);
        verdict(apply_name, "both NULL", apply_fn(NULL, NULL), RR_STATUS_NULL_POINTER);
    }
    APPLY(r, RR_STATUS_NULL_POINTER, "q NULL", x->q = NULL);
    APPLY(r, RR_STATUS_NULL_POINTER, "q NULL, n_tokens 0", (x->q = NULL, x->n_tokens = 0));
    APPLY(r, RR_STATUS_NULL_POINTER, "q NULL, k set", (x->q = NULL, x->k = aq));
    /* struct size, reserved */
    for (int i = 0; i < N_BAD_SIZES; i++) {
        snprintf(what, sizeof what, "struct_size %u", bad_size(sizeof(rr_rotation), i));
        APPLY(r, RR_STATUS_STRUCT_SIZE, what, x->struct_size = bad_size(sizeof(rr_rotation), i));
    }
    APPLY(r, RR_STATUS_STRUCT_SIZE, "reserved0 1", x->reserved0 = 1);
    APPLY(r, RR_STATUS_STRUCT_SIZE, "reserved0 INT32_MIN", x->reserved0 = INT32_MIN);
    for (int i = 0; i < 4; i++) {
        snprintf(what, sizeof what, "reserved[%d] != 0", i);
        APPLY(r, RR_STATUS_STRUCT_SIZE, what, x->reserved[i] = (uint64_t)1 << 63);
    }
    /* flags */
    {
        static const uint32_t bad_flags[] = {4, 8, 16, 0x80000000u, UINT32_MAX, RR_ROTATE_INVERSE | RR_ATTENTION_FACTOR | 4u};
        for (size_t i = 0; i < sizeof bad_flags / sizeof bad_flags[0]; i++) {
            snprintf(what, sizeof what, "flags 0x%x", bad_flags[i]);
            APPLY(r, RR_STATUS_UNKNOWN_ENUM, what, x->flags = bad_flags[i]);
        }
    }
    /* counts */
    APPLY(r, RR_STATUS_OVERFLOW, "n_tokens -1", x->n_tokens = -1);
    APPLY(r, RR_STATUS_OVERFLOW, "n_tokens INT64_MIN", x->n_tokens = INT64_MIN);
    APPLY(r, RR_STATUS_OVERFLOW, "q_heads 0", x->q_heads = 0);
    APPLY(r, RR_STATUS_OVERFLOW, "q_heads -1", x->q_heads = -1);
    APPLY(r, RR_STATUS_OVERFLOW, "q_heads INT64_MIN", x->q_heads = INT64_MIN);
    APPLY(r, RR_STATUS_OVERFLOW, "k_heads 0", x->k_heads = 0);
    APPLY(r, RR_STATUS_OVERFLOW, "k_heads INT64_MIN", x->k_heads = INT64_MIN);
    APPLY(r, RR_STATUS_OVERFLOW, "q_heads 0, n_tokens 0", (x->q_heads = 0, x->n_tokens = 0));
    /* strides */
    APPLY(r, RR_STATUS_INVALID_STRIDE, "q_token_stride -1", x->q_token_stride = -1);
    APPLY(r, RR_STATUS_INVALID_STRIDE, "q_head_stride INT64_MIN", x->q_head_stride = INT64_MIN);
    APPLY(r, RR_STATUS_INVALID_STRIDE, "k_token_stride -16", x->k_token_stride = -16);
    APPLY(r, RR_STATUS_INVALID_STRIDE, "k_head_stride -8", x->k_head_stride = -8);
    APPLY(r, RR_STATUS_INVALID_STRIDE, "q_head_stride 7 < head_dim", x->q_head_stride = 7);
    APPLY(r, RR_STATUS_INVALID_STRIDE, "q_head_stride 0, 2 heads", x->q_head_stride = 0);
    APPLY(r, RR_STATUS_INVALID_STRIDE, "q_token_stride 15 < 2 heads", x->q_token_stride = 15);
    APPLY(r, RR_STATUS_INVALID_STRIDE, "q_token_stride 0", x->q_token_stride = 0);
    APPLY(r, RR_STATUS_INVALID_STRIDE, "k_token_stride 8 < 2 heads", x->k_token_stride = 8);
    APPLY(r, RR_STATUS_INVALID_STRIDE, "head-major with token stride < head_dim", (x->q_head_stride = 32, x->q_token_stride = 4));
    APPLY(r, RR_STATUS_INVALID_STRIDE, "equal strides, 2 heads x 4 tokens", (x->q_head_stride = 8, x->q_token_stride = 8));
    APPLY(r, RR_STATUS_INVALID_STRIDE, "head-major, head stride < tokens * row", (x->q_head_stride = 24, x->q_token_stride = 8));
    /* sizes whose products overflow int64 */
    APPLY(r, RR_STATUS_OVERFLOW, "q_token_stride INT64_MAX", x->q_token_stride = INT64_MAX);
    APPLY(r, RR_STATUS_OVERFLOW, "q_token_stride INT64_MAX / 2", x->q_token_stride = INT64_MAX / 2);
    /* 3 * stride fits in int64 elements; 3 * stride * 2 (or 4) bytes does not */
    APPLY(r, RR_STATUS_OVERFLOW, "span fits in elements but not in bytes", x->q_token_stride = INT64_MAX / 4);
    APPLY(r, RR_STATUS_OVERFLOW, "k_head_stride INT64_MAX", x->k_head_stride = INT64_MAX);
    APPLY(r, RR_STATUS_OVERFLOW, "q_heads INT64_MAX", (x->q_heads = INT64_MAX, x->q_token_stride = INT64_MAX));
    APPLY(r, RR_STATUS_OVERFLOW, "q_heads 2^62, head stride 8", (x->q_heads = (int64_t)1 << 62, x->q_token_stride = INT64_MAX));
    APPLY(r, RR_STATUS_OVERFLOW, "n_tokens 2^62, token stride 16",
          (x->n_tokens = (int64_t)1 << 62, x->positions = NULL, x->token_end = 0));
    APPLY(r, RR_STATUS_OVERFLOW, "n_tokens INT64_MAX", (x->n_tokens = INT64_MAX, x->positions = NULL, x->token_end = 0));
    /* q and k overlap */
    APPLY(r, RR_STATUS_OVERLAP, "k == q", x->k = aq);
    APPLY(r, RR_STATUS_OVERLAP, "k == q + 1 float", x->k = EQ(1));
    APPLY(r, RR_STATUS_OVERLAP, "k starts in q's last head", x->k = EQ(AQ - 4));
    APPLY(r, RR_STATUS_OVERLAP, "q is k's second head", (x->q = EK(8), x->q_heads = 1, x->n_tokens = 1));
    APPLY(r, RR_STATUS_OVERLAP, "k interleaved in q with another token stride",
          (x->q_heads = 1, x->k_heads = 1, x->q_token_stride = 16, x->k_token_stride = 8, x->n_tokens = 2, x->k = EQ(8)));
    APPLY(r, RR_STATUS_OVERLAP, "fused row, k's heads spill into the next q",
          (x->q_heads = 1, x->k_heads = 1, x->q_token_stride = 16, x->k_token_stride = 16, x->q_head_stride = 8,
           x->k = EQ(12), x->n_tokens = 3));
    /* misaligned */
    for (int off = 1; off < (int)ES; off++) {
        snprintf(what, sizeof what, "q misaligned by %d", off);
        APPLY(r, RR_STATUS_MISALIGNED, what, x->q = (char *)aq + off);
        snprintf(what, sizeof what, "k misaligned by %d", off);
        APPLY(r, RR_STATUS_MISALIGNED, what, x->k = (char *)ak + off);
    }
    for (int off = 1; off < 8; off++) {
        snprintf(what, sizeof what, "positions misaligned by %d", off);
        APPLY(r, RR_STATUS_MISALIGNED, what, x->positions = (const int64_t *)(const void *)((const char *)positions_storage + off));
    }
    /* positions range */
    APPLY(r, RR_STATUS_OVERFLOW, "start INT64_MAX, 4 tokens", (x->positions = NULL, x->start_position = INT64_MAX));
    APPLY(r, RR_STATUS_OVERFLOW, "start INT64_MAX - 2, 4 tokens", (x->positions = NULL, x->start_position = INT64_MAX - 2));
    /* token range, threads */
    APPLY(r, RR_STATUS_INVALID_ARGUMENT, "token_begin -1", x->token_begin = -1);
    APPLY(r, RR_STATUS_INVALID_ARGUMENT, "token_begin INT64_MIN", x->token_begin = INT64_MIN);
    APPLY(r, RR_STATUS_INVALID_ARGUMENT, "token_begin 5 > n_tokens", x->token_begin = 5);
    APPLY(r, RR_STATUS_INVALID_ARGUMENT, "token_begin 3 > token_end 2", (x->token_begin = 3, x->token_end = 2));
    APPLY(r, RR_STATUS_INVALID_ARGUMENT, "token_end 5 > n_tokens", x->token_end = 5);
    APPLY(r, RR_STATUS_INVALID_ARGUMENT, "token_end -2", x->token_end = -2);
    APPLY(r, RR_STATUS_INVALID_ARGUMENT, "token_end INT64_MAX", x->token_end = INT64_MAX);
    APPLY(r, RR_STATUS_INVALID_ARGUMENT, "token_end INT64_MIN", x->token_end = INT64_MIN);
    APPLY(r, RR_STATUS_INVALID_ARGUMENT, "n_threads -1", x->n_threads = -1);
    APPLY(r, RR_STATUS_INVALID_ARGUMENT, "n_threads INT32_MIN", x->n_threads = INT32_MIN);
    /* Accepted: empty ranges leave everything as it was. */
    APPLY(r, RR_STATUS_OK, "n_tokens 0", x->n_tokens = 0);
    APPLY(r, RR_STATUS_OK, "token range [2, 2)", (x->token_begin = 2, x->token_end = 2));
    APPLY(r, RR_STATUS_OK, "token range [4, -1)", x->token_begin = 4);
    APPLY(r, RR_STATUS_OK, "k NULL with junk k fields",
          (x->k = NULL, x->k_heads = -5, x->k_token_stride = INT64_MIN, x->k_head_stride = -1, x->n_tokens = 0));
    /* Accepted: a fused qkv row (q then k in one row, same token stride) writes only q and k. */
    {
        enum { ROW = 3 * AD + 5 }; /* q head, k head, a v head and 5 padding elements */
        gb fused = gb_alloc(AT * ROW * ES, 1);
        unsigned char *f = fused.data;
        rr_rotation rot;
        for (size_t i = 0; i < AT * ROW * ES; i++) f[i] = (unsigned char)(i % ES == ES - 1 ? 0x3e : i);
        rr_rotation_init(&rot);
        rot.n_tokens = AT;
        rot.positions = apos;
        rot.q = f;
        rot.q_heads = 1;
        rot.q_token_stride = ROW;
        rot.k = f + AD * ES;
        rot.k_heads = 1;
        rot.k_token_stride = ROW;
        rot.n_threads = 64;
        {
            int untouched = 1;
            unsigned char v[AT][(ROW - 2 * AD) * 4];
            size_t vn = (ROW - 2 * AD) * ES;
            for (int t = 0; t < AT; t++) memcpy(v[t], f + (t * ROW + 2 * AD) * ES, vn);
            verdict(apply_name, "fused qkv row", apply_fn(r, &rot), RR_STATUS_OK);
            for (int t = 0; t < AT; t++) untouched &= memcmp(v[t], f + (t * ROW + 2 * AD) * ES, vn) == 0;
            check(untouched && gb_slack_intact(&fused), "fused row: v and padding untouched");
        }
        gb_free(&fused);
    }
    /* Accepted: n_threads INT32_MAX (capped inside) gives the bits of n_threads 0 */
    {
        unsigned char one[2][2 * AQ * 4];
        memset(one, 0, sizeof one);
        for (int pass = 0; pass < 2; pass++) {
            rr_rotation rot;
            apply_base(&rot);
            rot.n_threads = pass ? INT32_MAX : 0;
            apply_fill();
            verdict(apply_name, pass ? "n_threads INT32_MAX" : "n_threads 0", apply_fn(r, &rot), RR_STATUS_OK);
            memcpy(one[pass], aq, AQ * ES);
            memcpy(one[pass] + AQ * ES, ak, AQ * ES);
        }
        check(memcmp(one[0], one[1], sizeof one[0]) == 0 && gb_slack_intact(&aq_buf) && gb_slack_intact(&ak_buf),
              "n_threads does not change a single bit");
    }
    gb_free(&aq_buf);
    gb_free(&ak_buf);
    gb_free(&apos_buf);
}

/* Elements past rotary_dim are never written: head_dim 12, rotary_dim 8, the last 4 floats of
 * every head hold NaN payloads that must survive bit for bit. */
static void test_pass_through(void) {
    rr_rope *r = make_rope(8, 12, 1, RR_LAYOUT_GPTJ, 2.0);
    gb q = gb_alloc(3 * 12 * sizeof(float), 1);
    float *x = (float *)(void *)q.data;
    uint32_t payload = 0x7fc01234u;
    rr_rotation rot;
    int ok = 1;
    for (int i = 0; i < 36; i++) {
        if (i % 12 < 8) x[i] = 1.0f;
        else memcpy(&x[i], &payload, 4);
    }
    rr_rotation_init(&rot);
    rot.n_tokens = 3;
    rot.start_position = -1;
    rot.q = x;
    rot.q_heads = 1;
    rot.q_token_stride = 12;
    rot.flags = RR_ATTENTION_FACTOR | RR_ROTATE_INVERSE;
    verdict("rr_rope_apply_f32_inplace", "head_dim 12 > rotary_dim 8", rr_rope_apply_f32_inplace(r, &rot), RR_STATUS_OK);
    for (int i = 0; i < 36; i++)
        if (i % 12 >= 8) ok &= memcmp(&x[i], &payload, 4) == 0;
    check(ok && gb_slack_intact(&q), "pass-through elements keep their bits");
    gb_free(&q);
    rr_rope_free(r);
}

/* ---- rr_rope_feature_gap ----------------------------------------------------------------------- */

static void gap_case(const rr_rope *r, int64_t L, int64_t Lp, double *gaps, int64_t cap, rr_gap_summary *sum,
                     rr_status want, const char *what, const gb *gout, const gb *sout) {
    if (gout) watch(gout->data, gout->n);
    if (sout) watch(sout->data, sout->n);
    verdict("rr_rope_feature_gap", what, rr_rope_feature_gap(r, L, Lp, gaps, cap, sum), want);
}

static void test_feature_gap(rr_rope *r) {
    gb g = gb_alloc(4 * sizeof(double), 1), sb = gb_alloc(sizeof(rr_gap_summary), 1), mis = gb_alloc(5 * 8, 1);
    double *gaps = (double *)(void *)g.data;
    rr_gap_summary *sum = (rr_gap_summary *)(void *)sb.data;
    char what[96];
    static const int64_t bad_caps[] = {-1, 0, 3, INT64_MIN};
    static const int64_t bad_lengths[][2] = {{0, 10}, {-1, 10}, {INT64_MIN, 10}, {10, 10}, {10, 9}, {10, INT64_MIN},
                                             {INT64_MAX, INT64_MAX}};
    /* lengths past the caps on the work (L <= 2^24, L' <= 2^40): RR_STATUS_OVERFLOW */
    static const int64_t huge_lengths[][2] = {{((int64_t)1 << 24) + 1, ((int64_t)1 << 24) + 2}, {10, ((int64_t)1 << 40) + 1},
                                              {1, INT64_MAX}, {INT64_MAX - 1, INT64_MAX}};
    sum->struct_size = sizeof *sum;
    gap_case(NULL, 64, 128, gaps, 4, sum, RR_STATUS_NULL_POINTER, "rope NULL", &g, &sb);
    gap_case(r, 64, 128, NULL, 4, sum, RR_STATUS_NULL_POINTER, "gaps NULL", &g, &sb);
    for (int off = 1; off < 8; off++) {
        snprintf(what, sizeof what, "gaps misaligned by %d", off);
        gap_case(r, 64, 128, (double *)(void *)(mis.data + off), 4, sum, RR_STATUS_MISALIGNED, what, &mis, &sb);
    }
    for (size_t i = 0; i < sizeof bad_caps / sizeof bad_caps[0]; i++) {
        snprintf(what, sizeof what, "capacity %lld", (long long)bad_caps[i]);
        gap_case(r, 64, 128, gaps, bad_caps[i], sum, RR_STATUS_BUFFER_TOO_SMALL, what, &g, &sb);
    }
    for (int i = 0; i < N_BAD_SIZES; i++) {
        memset(sum, GB_CANARY, sizeof *sum);
        sum->struct_size = bad_size(sizeof(rr_gap_summary), i);
        snprintf(what, sizeof what, "summary struct_size %u", sum->struct_size);
        gap_case(r, 64, 128, gaps, 4, sum, RR_STATUS_STRUCT_SIZE, what, &g, &sb);
    }
    memset(sum, GB_CANARY, sizeof *sum);
    sum->struct_size = sizeof *sum;
    for (size_t i = 0; i < sizeof bad_lengths / sizeof bad_lengths[0]; i++) {
        snprintf(what, sizeof what, "train_length %lld, test_length %lld", (long long)bad_lengths[i][0],
                 (long long)bad_lengths[i][1]);
        gap_case(r, bad_lengths[i][0], bad_lengths[i][1], gaps, 4, sum, RR_STATUS_INVALID_VALUE, what, &g, &sb);
        gap_case(r, bad_lengths[i][0], bad_lengths[i][1], gaps, 4, NULL, RR_STATUS_INVALID_VALUE, "(no summary)", &g, NULL);
    }
    for (size_t i = 0; i < sizeof huge_lengths / sizeof huge_lengths[0]; i++) {
        snprintf(what, sizeof what, "train_length %lld, test_length %lld", (long long)huge_lengths[i][0],
                 (long long)huge_lengths[i][1]);
        gap_case(r, huge_lengths[i][0], huge_lengths[i][1], gaps, 4, sum, RR_STATUS_OVERFLOW, what, &g, &sb);
    }
    gap_case(r, 1, 2, gaps, INT64_MAX, NULL, RR_STATUS_OK, "L 1, L' 2, capacity INT64_MAX", NULL, NULL);
    gap_case(r, 100, 1000, gaps, 4, sum, RR_STATUS_OK, "valid with summary", NULL, NULL);
    {
        int ok = gb_slack_intact(&g) && gb_slack_intact(&sb) && sum->struct_size == sizeof *sum;
        for (int i = 0; i < 4; i++) ok &= gaps[i] >= 0 && gaps[i] <= 2;
        check(ok, "feature_gap writes 4 gaps in [0, 2] and its summary, nothing else");
    }
    gb_free(&g);
    gb_free(&sb);
    gb_free(&mis);
}

/* ---- configuration text: rr_rope_create_from_hf_config, rr_rope_create_from_gguf_metadata ------ */

static const char HF_OK[] = "{\"hidden_size\": 4096, \"num_attention_heads\": 32, \"max_position_embeddings\": 131072,"
                            " \"rope_theta\": 500000.0, \"rope_scaling\": {\"factor\": 8.0, \"low_freq_factor\": 1.0,"
                            " \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"}}";
static const char GGUF_OK[] = "general.architecture=llama\nllama.rope.freq_base=10000\nllama.rope.dimension_count=128\n"
                              "llama.context_length=4096\n";

/* The text is placed right before a guard page (read-only), so a read past `length` faults. */
static void config_case_n(int gguf, const char *text, size_t n, int64_t length, int64_t seq, int32_t layout,
                          rr_status want, const char *what) {
    static rr_rope *const canary = (rr_rope *)(uintptr_t)0x7e7e7e7e7e7e7e70u;
    gb in = gb_readonly_copy(text, n);
    gb out = gb_alloc(sizeof(rr_rope *), 1);
    const char *fn = gguf ? "rr_rope_create_from_gguf_metadata" : "rr_rope_create_from_hf_config";
    rr_status st;
    memcpy(out.data, &canary, sizeof canary);
    if (want != RR_STATUS_OK) watch(out.data, out.n);
    st = gguf ? rr_rope_create_from_gguf_metadata((const char *)in.data, length, seq, 1, layout, (rr_rope **)(void *)out.data)
              : rr_rope_create_from_hf_config((const char *)in.data, length, seq, 0, (rr_rope **)(void *)out.data);
    verdict(fn, what, st, want);
    if (st == RR_STATUS_OK) {
        rr_rope *r;
        memcpy(&r, out.data, sizeof r);
        rr_rope_free(r);
    }
    gb_free(&in);
    gb_free(&out);
}

static void config_case(int gguf, const char *text, int64_t length, int64_t seq, int32_t layout, rr_status want,
                        const char *what) {
    /* a length beyond the text (a lie the library must refuse before reading) maps only the text */
    size_t n = length >= 0 && (uint64_t)length <= strlen(text) ? (size_t)length : strlen(text) + 1;
    config_case_n(gguf, text, n, length, seq, layout, want, what);
}

static void test_configs(void) {
    char what[96];
    rr_rope *out = (rr_rope *)(uintptr_t)0x4440;
    /* NULL and lengths */
    verdict("rr_rope_create_from_hf_config", "json NULL", rr_rope_create_from_hf_config(NULL, -1, 0, 0, &out), RR_STATUS_NULL_POINTER);
    verdict("rr_rope_create_from_hf_config", "json NULL, length 0", rr_rope_create_from_hf_config(NULL, 0, 0, 0, &out), RR_STATUS_NULL_POINTER);
    verdict("rr_rope_create_from_hf_config", "out_rope NULL", rr_rope_create_from_hf_config(HF_OK, -1, 0, 0, NULL), RR_STATUS_NULL_POINTER);
    verdict("rr_rope_create_from_gguf_metadata", "text NULL", rr_rope_create_from_gguf_metadata(NULL, -1, 0, 0, -1, &out),
            RR_STATUS_NULL_POINTER);
    verdict("rr_rope_create_from_gguf_metadata", "out_rope NULL", rr_rope_create_from_gguf_metadata(GGUF_OK, -1, 0, 0, -1, NULL),
            RR_STATUS_NULL_POINTER);
    check(out == (rr_rope *)(uintptr_t)0x4440, "config NULL cases leave *out_rope");
    for (int gguf = 0; gguf < 2; gguf++) {
        const char *ok = gguf ? GGUF_OK : HF_OK;
        static const int64_t bad_len[] = {-2, -3, INT64_MIN};
        for (size_t i = 0; i < 3; i++) {
            snprintf(what, sizeof what, "length %lld", (long long)bad_len[i]);
            config_case(gguf, ok, bad_len[i] == -2 ? -2 : bad_len[i], 0, -1, RR_STATUS_OVERFLOW, what);
        }
        /* a length past 64 MiB must be refused before anything is read (the buffer is small) */
        config_case(gguf, ok, ((int64_t)1 << 26) + 1, 0, -1, RR_STATUS_BUFFER_TOO_SMALL, "length 64 MiB + 1");
        config_case(gguf, ok, INT64_MAX, 0, -1, RR_STATUS_BUFFER_TOO_SMALL, "length INT64_MAX");
        config_case(gguf, ok, (int64_t)strlen(ok), -1, -1, RR_STATUS_INVALID_VALUE, "sequence_length -1");
        config_case(gguf, ok, (int64_t)strlen(ok), INT64_MIN, -1, RR_STATUS_INVALID_VALUE, "sequence_length INT64_MIN");
        /* the valid text, with an explicit length (no NUL: a read past it faults) and NUL-terminated */
        config_case(gguf, ok, (int64_t)strlen(ok), 0, -1, RR_STATUS_OK, "valid, explicit length");
        config_case(gguf, ok, -1, 0, -1, RR_STATUS_OK, "valid, NUL-terminated");
        config_case(gguf, ok, (int64_t)strlen(ok), INT64_MAX, -1, RR_STATUS_OK, "valid, sequence_length INT64_MAX");
    }
    /* truncated HF JSON: every proper prefix is malformed */
    {
        size_t n = strlen(HF_OK), failures = 0;
        for (size_t len = 0; len < n; len++) {
            size_t before = (size_t)cases_failed;
            snprintf(what, sizeof what, "HF JSON truncated to %zu bytes", len);
            config_case(0, HF_OK, (int64_t)len, 0, -1, RR_STATUS_PARSE_ERROR, what);
            failures += (size_t)cases_failed - before;
        }
        check(failures == 0, "every truncation of a config is a parse error");
    }
    /* malformed and hostile JSON */
    {
        static const char *const parse_errors[] = {
            "", " ", "{", "}", "[", "[]", "null", "0", "\"a\"", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{\"a\":1 \"b\":2}",
            "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":1e}", "{\"a\":-}", "{\"a\":+1}", "{\"a\":NaN}", "{\"a\":Infinity}",
            "{\"a\":tru}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", "{\"a\":\"\xc3\"}",
            "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":1}x", "{\"a\":1}{}", "{'a':1}", "{\"a\":1", "{\"a\":\"unterminated}",
            "\xef\xbb\xbf{}", "{\"hidden_size\": 64, \"num_attention_heads\": 1, \"a\": 1, \"a\": 2}",
        };
        /* well-formed JSON, a field of the wrong type: RR_STATUS_INVALID_VALUE naming the field */
        static const char *const wrong_types[] = {
            "{\"hidden_size\": \"64\", \"num_attention_heads\": 1}",
            "{\"hidden_size\": 64, \"num_attention_heads\": 1, \"rope_theta\": \"big\"}",
            "{\"hidden_size\": 64, \"num_attention_heads\": 1, \"rope_scaling\": 5}",
            "{\"hidden_size\": 64.5, \"num_attention_heads\": 1}",
        };
        for (size_t i = 0; i < sizeof wrong_types / sizeof wrong_types[0]; i++) {
            snprintf(what, sizeof what, "wrong field type #%zu", i);
            config_case(0, wrong_types[i], -1, 0, -1, RR_STATUS_INVALID_VALUE, what);
        }
        for (size_t i = 0; i < sizeof parse_errors / sizeof parse_errors[0]; i++) {
            snprintf(what, sizeof what, "malformed JSON #%zu", i);
            config_case(0, parse_errors[i], (int64_t)strlen(parse_errors[i]), 0, -1, RR_STATUS_PARSE_ERROR, what);
        }
        /* deep nesting: refused by the depth limit, not by a stack overflow */
        {
            enum { DEPTH = 100000 };
            char *deep = (char *)malloc(2 * DEPTH + 16);
            size_t k = 0;
            deep[k++] = '{'; memcpy(deep + k, "\"a\":", 4); k += 4;
            for (int i = 0; i < DEPTH; i++) deep[k++] = '[';
            for (int i = 0; i < DEPTH; i++) deep[k++] = ']';
            deep[k++] = '}';
            deep[k] = '\0';
            config_case(0, deep, (int64_t)k, 0, -1, RR_STATUS_PARSE_ERROR, "JSON nested 100000 deep");
            config_case(0, deep, -1, 0, -1, RR_STATUS_PARSE_ERROR, "JSON nested 100000 deep, NUL-terminated");
            free(deep);
        }
        /* an embedded NUL inside the explicit length */
        config_case_n(0, "{\"a\":\"x\0y\"}", 11, 11, 0, -1, RR_STATUS_PARSE_ERROR, "JSON with a NUL byte");
    }
    /* well-formed but inconsistent or unsupported settings */
    config_case(0, "{\"hidden_size\": 64, \"num_attention_heads\": 1, \"rope_scaling\": {\"rope_type\": \"warp\"}}", -1, 0, -1,
                RR_STATUS_UNSUPPORTED, "unknown rope_type");
    config_case(0, "{\"hidden_size\": 64, \"num_attention_heads\": 1, \"rope_theta\": -3}", -1, 0, -1, RR_STATUS_INVALID_VALUE,
                "negative rope_theta");
    config_case(0, "{\"hidden_size\": 64, \"num_attention_heads\": 1, \"rope_theta\": 1}", -1, 0, -1, RR_STATUS_INVALID_VALUE,
                "rope_theta 1");
    config_case(0, "{\"hidden_size\": 64, \"num_attention_heads\": 1, \"rope_theta\": 1e999}", -1, 0, -1, RR_STATUS_PARSE_ERROR,
                "rope_theta 1e999");
    config_case(0, "{\"hidden_size\": 7, \"num_attention_heads\": 1}", -1, 0, -1, RR_STATUS_INVALID_DIMENSION, "odd head dim");
    config_case(0, "{\"hidden_size\": 64, \"num_attention_heads\": 0}", -1, 0, -1, RR_STATUS_INVALID_DIMENSION, "zero heads");
    config_case(0, "{\"hidden_size\": 99999999999999999999, \"num_attention_heads\": 1}", -1, 0, -1, RR_STATUS_INVALID_VALUE,
                "hidden_size past int64");
    config_case(0, "{\"head_dim\": 131072, \"hidden_size\": 64, \"num_attention_heads\": 1}", -1, 0, -1, RR_STATUS_INVALID_DIMENSION,
                "head_dim past RR_MAX_DIM");
    config_case(0, "{\"hidden_size\": 64, \"num_attention_heads\": 1, \"partial_rotary_factor\": 2.0}", -1, 0, -1,
                RR_STATUS_INVALID_VALUE, "partial_rotary_factor 2");
    /* GGUF text */
    {
        static const int32_t bad_layouts[] = {2, -2, INT32_MAX, INT32_MIN};
        for (size_t i = 0; i < sizeof bad_layouts / sizeof bad_layouts[0]; i++) {
            snprintf(what, sizeof what, "layout %d", bad_layouts[i]);
            config_case(1, GGUF_OK, -1, 0, bad_layouts[i], RR_STATUS_UNKNOWN_ENUM, what);
        }
        config_case(1, "general.architecture=warpdrive\nwarpdrive.rope.dimension_count=64\n", -1, 0, -1, RR_STATUS_UNSUPPORTED,
                    "unknown architecture, layout from it");
        config_case(1, "no equals sign\n", -1, 0, -1, RR_STATUS_PARSE_ERROR, "line without =");
        config_case(1, "=5\n", -1, 0, -1, RR_STATUS_PARSE_ERROR, "empty key");
        config_case(1, "general.architecture=llama\nllama.rope.freq_base=[1, 2\n", -1, 0, -1, RR_STATUS_PARSE_ERROR,
                    "unterminated array");
        config_case(1, "general.architecture=llama\nrope_freqs=[1, nan]\n", -1, 0, -1, RR_STATUS_PARSE_ERROR, "NaN in an array");
        config_case(1, "general.architecture=llama\nllama.rope.freq_base=0.5\nllama.rope.dimension_count=128\n", -1, 0, -1,
                    RR_STATUS_INVALID_VALUE, "freq_base 0.5");
        config_case(1, "general.architecture=llama\nllama.rope.dimension_count=127\n", -1, 0, -1, RR_STATUS_INVALID_DIMENSION,
                    "odd dimension_count");
        config_case(1, "general.architecture=llama\nllama.rope.dimension_count=-128\n", -1, 0, -1, RR_STATUS_INVALID_DIMENSION,
                    "negative dimension_count");
        config_case(1, "general.architecture=llama\nllama.rope.dimension_count=9223372036854775807\n", -1, 0, -1,
                    RR_STATUS_INVALID_DIMENSION, "dimension_count INT64_MAX");
        config_case(1, "", 0, 0, 0, RR_STATUS_INVALID_VALUE, "empty text, explicit layout");
        {
            /* every cut before the dimension is complete must be refused; any cut: status + message */
            size_t n = strlen(GGUF_OK), must_fail = (size_t)(strstr(GGUF_OK, "dimension_count=") - GGUF_OK) + 16, oks = 0;
            for (size_t len = 0; len < n; len++) {
                rr_rope *r = NULL;
                gb in = gb_readonly_copy(GGUF_OK, len);
                rr_status st = rr_rope_create_from_gguf_metadata((const char *)in.data, (int64_t)len, 0, 0, -1, &r);
                const char *m = rr_last_error_message();
                oks += st == RR_STATUS_OK && len < must_fail;
                if (st == RR_STATUS_OK) rr_rope_free(r);
                else check(rr_status_string(st) != NULL && strncmp(m, "rr_rope_create_from_gguf_metadata:", 34) == 0,
                           "truncated GGUF text: a status and a message");
                gb_free(&in);
            }
            check(oks == 0, "GGUF text cut before its dimension is refused");
        }
    }
}

/* ---- PosGen ------------------------------------------------------------------------------------ */

#define POSGEN(FN, WANT, WHAT, EDIT, CALL)                                  \
    do {                                                                   \
        rr_posgen_params p_;                                               \
        gb in_;                                                            \
        rr_posgen_params_init(&p_);                                        \
        p_.length = 16;                                                    \
        { rr_posgen_params *p = &p_; EDIT; }                               \
        in_ = gb_readonly_copy(&p_, sizeof p_);                               \
        {                                                                  \
            const rr_posgen_params *pp = (const rr_posgen_params *)(void *)in_.data; \
            watch(tok.data, tok.n);                                        \
            watch(res.data, res.n);                                        \
            watch(per.data, per.n);                                        \
            verdict(FN, WHAT, CALL, WANT);                                 \
        }                                                                  \
        gb_free(&in_);                                                     \
    } while (0)

static void test_posgen(void) {
    enum { LEN = 16, CAP = 4 * LEN };
    gb tok = gb_alloc(CAP * sizeof(int32_t), 1), res = gb_alloc(sizeof(rr_posgen_result), 1);
    gb per = gb_alloc(LEN * sizeof(double), 1), mis = gb_alloc(CAP * 4 + 8, 1);
    gb seeds_b = gb_alloc(4 * sizeof(int32_t), 1), pred_b = gb_alloc(CAP * 4, 1);
    int32_t *tokens = (int32_t *)(void *)tok.data, *seeds = (int32_t *)(void *)seeds_b.data, *pred = (int32_t *)(void *)pred_b.data;
    double *pp_out = (double *)(void *)per.data;
    rr_posgen_result *result = (rr_posgen_result *)(void *)res.data;
    char what[96];
    memset(seeds, 0, 16);
    seeds[0] = 1; seeds[1] = 2; seeds[2] = 3; seeds[3] = 4;
    memset(pred, 0, CAP * 4);
    result->struct_size = sizeof *result;
    rr_posgen_params_init(NULL);
    check(1, "rr_posgen_params_init(NULL) returns");
    /* Every params defect, through each of the three functions. */
    {
        static const char *const fns[] = {"rr_posgen_generate", "rr_posgen_sequence", "rr_posgen_score"};
        for (int f = 0; f < 3; f++) {
#define PCALL (f == 0 ? rr_posgen_generate(pp, RR_POSGEN_SPLIT_TRAIN, 0, 4, tokens, CAP)   \
               : f == 1 ? rr_posgen_sequence(pp, seeds, tokens, CAP)                     \
                        : rr_posgen_score(pp, pred, pred, 4, 8, pp_out, result))
            const char *fn = fns[f];
            POSGEN(fn, RR_STATUS_NULL_POINTER, "params NULL", (void)p, (pp = NULL, PCALL));
            for (int i = 0; i < N_BAD_SIZES; i++) {
                snprintf(what, sizeof what, "struct_size %u", bad_size(sizeof(rr_posgen_params), i));
                POSGEN(fn, RR_STATUS_STRUCT_SIZE, what, p->struct_size = bad_size(sizeof(rr_posgen_params), i), PCALL);
            }
            for (int i = 0; i < 4; i++) {
                snprintf(what, sizeof what, "reserved[%d] != 0", i);
                POSGEN(fn, RR_STATUS_STRUCT_SIZE, what, p->reserved[i] = 1, PCALL);
            }
            POSGEN(fn, RR_STATUS_UNKNOWN_ENUM, "task 3", p->task = 3, PCALL);
            POSGEN(fn, RR_STATUS_UNKNOWN_ENUM, "task -1", p->task = -1, PCALL);
            POSGEN(fn, RR_STATUS_UNKNOWN_ENUM, "arith 3", p->arith = 3, PCALL);
            POSGEN(fn, RR_STATUS_UNKNOWN_ENUM, "arith INT32_MIN", p->arith = INT32_MIN, PCALL);
            POSGEN(fn, RR_STATUS_UNKNOWN_ENUM, "split_mode 2", p->split_mode = 2, PCALL);
            POSGEN(fn, RR_STATUS_INVALID_VALUE, "modulus 0", p->modulus = 0, PCALL);
            POSGEN(fn, RR_STATUS_INVALID_VALUE, "modulus 1", p->modulus = 1, PCALL);
            POSGEN(fn, RR_STATUS_INVALID_VALUE, "modulus -17", p->modulus = -17, PCALL);
            POSGEN(fn, RR_STATUS_INVALID_VALUE, "modulus 2^31 + 1", p->modulus = ((int64_t)1 << 31) + 1, PCALL);
            POSGEN(fn, RR_STATUS_INVALID_VALUE, "modulus INT64_MAX", p->modulus = INT64_MAX, PCALL);
            POSGEN(fn, RR_STATUS_INVALID_VALUE, "near 0", p->near = 0, PCALL);
            POSGEN(fn, RR_STATUS_INVALID_VALUE, "near INT64_MIN", p->near = INT64_MIN, PCALL);
            POSGEN(fn, RR_STATUS_INVALID_VALUE, "far -1", p->far = -1, PCALL);
            POSGEN(fn, RR_STATUS_INVALID_VALUE, "length 3 < far + near", p->length = 3, PCALL);
            POSGEN(fn, RR_STATUS_INVALID_VALUE, "length 0", p->length = 0, PCALL);
            POSGEN(fn, RR_STATUS_INVALID_VALUE, "length -1", p->length = -1, PCALL);
            POSGEN(fn, RR_STATUS_INVALID_VALUE, "length INT64_MIN", p->length = INT64_MIN, PCALL);
            POSGEN(fn, RR_STATUS_OVERFLOW, "near + far overflows", (p->near = INT64_MAX, p->far = 1), PCALL);
            POSGEN(fn, RR_STATUS_INVALID_VALUE, "far INT64_MAX - 3 (length too short)", p->far = INT64_MAX - 3, PCALL);
#undef PCALL
        }
    }
    /* rr_posgen_generate: split, counts, buffer */
#define GEN(WANT, WHAT, EDIT, SPLIT, FIRST, COUNT, TOK, CAPACITY) \
    POSGEN("rr_posgen_generate", WANT, WHAT, EDIT, rr_posgen_generate(pp, SPLIT, FIRST, COUNT, TOK, CAPACITY))
    GEN(RR_STATUS_NULL_POINTER, "tokens NULL", (void)p, 0, 0, 4, NULL, CAP);
    GEN(RR_STATUS_UNKNOWN_ENUM, "split 3", (void)p, 3, 0, 4, tokens, CAP);
    GEN(RR_STATUS_UNKNOWN_ENUM, "split -1", (void)p, -1, 0, 4, tokens, CAP);
    GEN(RR_STATUS_OVERFLOW, "first -1", (void)p, 0, -1, 4, tokens, CAP);
    GEN(RR_STATUS_OVERFLOW, "count -1", (void)p, 0, 0, -1, tokens, CAP);
    GEN(RR_STATUS_OVERFLOW, "count INT64_MIN", (void)p, 0, 0, INT64_MIN, tokens, CAP);
    GEN(RR_STATUS_OVERFLOW, "count * length overflows", (void)p, 0, 0, INT64_MAX / 8, tokens, INT64_MAX);
    GEN(RR_STATUS_OVERFLOW, "first + count past the split", (void)p, RR_POSGEN_SPLIT_TEST, 999, 2, tokens, CAP);
    GEN(RR_STATUS_OVERFLOW, "first INT64_MAX", (void)p, 0, INT64_MAX, 1, tokens, CAP);
    GEN(RR_STATUS_OVERFLOW, "first + count overflows", (void)p, 0, INT64_MAX, INT64_MAX, tokens, INT64_MAX);
    GEN(RR_STATUS_OVERFLOW, "train_size -1", p->train_size = -1, 0, 0, 1, tokens, CAP);
    GEN(RR_STATUS_OVERFLOW, "validation_size INT64_MIN", p->validation_size = INT64_MIN, 1, 0, 1, tokens, CAP);
    GEN(RR_STATUS_OVERFLOW, "validation + test overflows", (p->validation_size = INT64_MAX, p->test_size = 2), 2, 0, 1, tokens, CAP);
    GEN(RR_STATUS_INVALID_VALUE, "disjoint split with too few combinations",
        (p->split_mode = RR_POSGEN_SPLIT_MODE_DISJOINT, p->modulus = 5, p->near = 3, p->far = 1), 1, 0, 1, tokens, CAP);
    GEN(RR_STATUS_INVALID_VALUE, "near + far > modulus (no seed combination)", (p->modulus = 3, p->near = 3, p->far = 1), 0, 0, 1,
        tokens, CAP);
    GEN(RR_STATUS_BUFFER_TOO_SMALL, "capacity count * length - 1", (void)p, 0, 0, 4, tokens, CAP - 1);
    GEN(RR_STATUS_BUFFER_TOO_SMALL, "capacity -1", (void)p, 0, 0, 1, tokens, -1);
    GEN(RR_STATUS_BUFFER_TOO_SMALL, "length INT64_MAX, capacity small", (p->length = INT64_MAX), 0, 0, 1, tokens, CAP);
    for (int off = 1; off < 4; off++) {
        snprintf(what, sizeof what, "tokens misaligned by %d", off);
        POSGEN("rr_posgen_generate", RR_STATUS_MISALIGNED, what, (void)p,
               (watch(mis.data, mis.n), rr_posgen_generate(pp, 0, 0, 4, (int32_t *)(void *)(mis.data + off), CAP)));
    }
    GEN(RR_STATUS_OK, "count 0 writes nothing", (void)p, 0, 0, 0, tokens, 0);
    GEN(RR_STATUS_OK, "count 0 at the end of the split", (void)p, RR_POSGEN_SPLIT_TEST, 1000, 0, tokens, 0);
    GEN(RR_STATUS_OK, "empty splits, count 0", (p->train_size = 0, p->validation_size = 0, p->test_size = 0), 0, 0, 0, tokens, 0);
    {
        rr_posgen_params p;
        rr_posgen_params_init(&p);
        p.length = LEN;
        p.modulus = (int64_t)1 << 31;
        p.train_size = INT64_MAX;
        verdict("rr_posgen_generate", "modulus 2^31, train_size INT64_MAX, last sequence",
                rr_posgen_generate(&p, RR_POSGEN_SPLIT_TRAIN, INT64_MAX - 1, 1, tokens + CAP - LEN, LEN), RR_STATUS_OK);
        check(gb_slack_intact(&tok), "generate writes exactly count * length tokens");
        p.length = p.near + p.far;
        verdict("rr_posgen_generate", "length = near + far (seeds only)", rr_posgen_generate(&p, 0, 0, 2, tokens + CAP - 8, 8),
                RR_STATUS_OK);
    }
#undef GEN
    /* rr_posgen_sequence: seeds */
    POSGEN("rr_posgen_sequence", RR_STATUS_NULL_POINTER, "seeds NULL", (void)p, rr_posgen_sequence(pp, NULL, tokens, CAP));
    POSGEN("rr_posgen_sequence", RR_STATUS_NULL_POINTER, "tokens NULL", (void)p, rr_posgen_sequence(pp, seeds, NULL, CAP));
    POSGEN("rr_posgen_sequence", RR_STATUS_BUFFER_TOO_SMALL, "capacity length - 1", (void)p, rr_posgen_sequence(pp, seeds, tokens, LEN - 1));
    POSGEN("rr_posgen_sequence", RR_STATUS_BUFFER_TOO_SMALL, "capacity INT64_MIN", (void)p, rr_posgen_sequence(pp, seeds, tokens, INT64_MIN));
    for (int off = 1; off < 4; off++) {
        snprintf(what, sizeof what, "seeds misaligned by %d", off);
        POSGEN("rr_posgen_sequence", RR_STATUS_MISALIGNED, what, (void)p,
               rr_posgen_sequence(pp, (const int32_t *)(const void *)((const char *)seeds_b.data + off - 4 + 4), tokens, CAP));
        snprintf(what, sizeof what, "tokens misaligned by %d", off);
        POSGEN("rr_posgen_sequence", RR_STATUS_MISALIGNED, what, (void)p,
               (watch(mis.data, mis.n), rr_posgen_sequence(pp, seeds, (int32_t *)(void *)(mis.data + off), CAP)));
    }
    {
        static const int32_t bad_seed[] = {-1, 17, INT32_MAX, INT32_MIN};
        for (size_t i = 0; i < 4; i++) {
            for (int at = 0; at < 4; at += 3) {
                int32_t saved = seeds[at];
                seeds[at] = bad_seed[i];
                snprintf(what, sizeof what, "seeds[%d] = %d", at, bad_seed[i]);
                POSGEN("rr_posgen_sequence", RR_STATUS_INVALID_VALUE, what, (void)p, rr_posgen_sequence(pp, seeds, tokens, CAP));
                seeds[at] = saved;
            }
        }
    }
    /* the seeds array holds exactly far + near values before a guard page */
    {
        gb s4 = gb_readonly_copy(seeds, 4 * sizeof(int32_t));
        rr_posgen_params p;
        rr_posgen_params_init(&p);
        p.length = LEN;
        verdict("rr_posgen_sequence", "seeds ending at a guard page",
                rr_posgen_sequence(&p, (const int32_t *)(void *)s4.data, tokens + CAP - LEN, LEN), RR_STATUS_OK);
        check(gb_slack_intact(&tok) && tokens[CAP - LEN] == seeds[0], "sequence writes length tokens, seeds first");
        gb_free(&s4);
    }
    /* rr_posgen_score */
#define SCORE(WANT, WHAT, EDIT, CALL) POSGEN("rr_posgen_score", WANT, WHAT, EDIT, CALL)
    SCORE(RR_STATUS_NULL_POINTER, "predicted NULL", (void)p, rr_posgen_score(pp, NULL, pred, 4, 8, pp_out, result));
    SCORE(RR_STATUS_NULL_POINTER, "reference NULL", (void)p, rr_posgen_score(pp, pred, NULL, 4, 8, pp_out, result));
    SCORE(RR_STATUS_NULL_POINTER, "result NULL", (void)p, rr_posgen_score(pp, pred, pred, 4, 8, pp_out, NULL));
    for (int i = 0; i < N_BAD_SIZES; i++) {
        snprintf(what, sizeof what, "result struct_size %u", bad_size(sizeof(rr_posgen_result), i));
        result->struct_size = bad_size(sizeof(rr_posgen_result), i);
        SCORE(RR_STATUS_STRUCT_SIZE, what, (void)p, rr_posgen_score(pp, pred, pred, 4, 8, pp_out, result));
    }
    result->struct_size = sizeof *result;
    for (int off = 1; off < 4; off++) {
        snprintf(what, sizeof what, "predicted misaligned by %d", off);
        SCORE(RR_STATUS_MISALIGNED, what, (void)p,
              rr_posgen_score(pp, (const int32_t *)(const void *)(mis.data + off), pred, 1, 8, pp_out, result));
        snprintf(what, sizeof what, "reference misaligned by %d", off);
        SCORE(RR_STATUS_MISALIGNED, what, (void)p,
              rr_posgen_score(pp, pred, (const int32_t *)(const void *)(mis.data + off), 1, 8, pp_out, result));
    }
    for (int off = 1; off < 8; off++) {
        snprintf(what, sizeof what, "per_position misaligned by %d", off);
        SCORE(RR_STATUS_MISALIGNED, what, (void)p,
              (watch(mis.data, mis.n), rr_posgen_score(pp, pred, pred, 4, 8, (double *)(void *)(mis.data + off), result)));
    }
    SCORE(RR_STATUS_OVERFLOW, "count -1", (void)p, rr_posgen_score(pp, pred, pred, -1, 8, pp_out, result));
    SCORE(RR_STATUS_OVERFLOW, "count INT64_MIN", (void)p, rr_posgen_score(pp, pred, pred, INT64_MIN, 8, pp_out, result));
    SCORE(RR_STATUS_OVERFLOW, "count * length overflows", (void)p, rr_posgen_score(pp, pred, pred, INT64_MAX / 8, 8, pp_out, result));
    SCORE(RR_STATUS_INVALID_VALUE, "train_length -1", (void)p, rr_posgen_score(pp, pred, pred, 4, -1, pp_out, result));
    SCORE(RR_STATUS_INVALID_VALUE, "train_length INT64_MIN", (void)p, rr_posgen_score(pp, pred, pred, 4, INT64_MIN, pp_out, result));
    {
        rr_posgen_params p;
        rr_posgen_params_init(&p);
        p.length = LEN;
        memset(result, GB_CANARY, sizeof *result);
        result->struct_size = sizeof *result;
        verdict("rr_posgen_score", "count 0", rr_posgen_score(&p, pred, pred, 0, 8, NULL, result), RR_STATUS_OK);
        check(result->id_total == 0 && result->ood_total == 0, "score of nothing: no positions counted");
        verdict("rr_posgen_score", "train_length INT64_MAX", rr_posgen_score(&p, pred, pred, 4, INT64_MAX, pp_out, result), RR_STATUS_OK);
        check(result->ood_total == 0 && result->id_total == 4 * (LEN - 4) && result->id_accuracy == 1.0 && gb_slack_intact(&per) &&
                  gb_slack_intact(&res),
              "score: all in-distribution, per_position and result written exactly");
    }
#undef SCORE
    gb_free(&tok);
    gb_free(&res);
    gb_free(&per);
    gb_free(&mis);
    gb_free(&seeds_b);
    gb_free(&pred_b);
}

/* Regression (found by the fuzzer): a finite but huge inverse frequency (linear factor 1e-300
 * gave theta_0 = 1e300) made m * theta / (2 pi) overflow to inf; the angle became NaN and the
 * library trapped converting it to an integer. Such a handle is now refused (its float32
 * inv_freq would be infinite); the largest accepted one (factor 1e-38: theta_0 = 1e38 <= FLT_MAX,
 * whole turns dropped from tau) must give finite values at every position, including INT64_MIN
 * and INT64_MAX. */
static void test_huge_frequency(void) {
    rr_rope_params p;
    rr_rope *r = NULL;
    int64_t pos[4] = {INT64_MIN, -1, 1, INT64_MAX};
    float c[4 * 4], s[4 * 4], q[4 * 8];
    int finite = 1;
    rr_rope_params_init(&p);
    p.rotary_dim = 8;
    p.scaling = RR_SCALING_LINEAR;
    p.factor = 1e-300;
    verdict("rr_rope_create", "linear factor 1e-300: float32 inv_freq infinite", rr_rope_create(&p, &r), RR_STATUS_INVALID_VALUE);
    p.factor = 1e-38;
    verdict("rr_rope_create", "linear factor 1e-38", rr_rope_create(&p, &r), RR_STATUS_OK);
    if (r == NULL) return;
    verdict("rr_rope_cos_sin_f32", "theta 1e38 at extreme positions",
            rr_rope_cos_sin_f32(r, RR_TABLE_LAYOUT_HALF, 0, pos, 0, 4, c, s), RR_STATUS_OK);
    for (int i = 0; i < 16; i++) finite &= isfinite(c[i]) && isfinite(s[i]) && fabsf(c[i] * c[i] + s[i] * s[i] - 1) < 1e-6f;
    check(finite, "theta 1e38: cos^2 + sin^2 = 1 at every position");
    {
        rr_rotation rot;
        for (int i = 0; i < 32; i++) q[i] = 1.0f;
        rr_rotation_init(&rot);
        rot.n_tokens = 4;
        rot.positions = pos;
        rot.q = q;
        rot.q_heads = 1;
        rot.q_token_stride = 8;
        verdict("rr_rope_apply_f32_inplace", "theta 1e38", rr_rope_apply_f32_inplace(r, &rot), RR_STATUS_OK);
        for (int i = 0; i < 32; i++) finite &= isfinite(q[i]);
        check(finite, "theta 1e38: rotated values finite");
    }
    rr_rope_free(r);
}

int main(void) {
    rr_rope *r;
    test_trivial_entry_points();
    test_create();
    r = make_rope(8, 8, 0, RR_LAYOUT_NEOX, 0);
    test_get_info(r);
    test_frequencies(r);
    test_count_pairs(r);
    test_cos_sin(r);
    test_apply(r, rr_rope_apply_f32_inplace, "rr_rope_apply_f32_inplace", 4);
    test_apply(r, rr_rope_apply_f16_inplace, "rr_rope_apply_f16_inplace", 2);
    test_apply(r, rr_rope_apply_bf16_inplace, "rr_rope_apply_bf16_inplace", 2);
    test_feature_gap(r);
    rr_rope_free(r);
    r = make_rope(8, 8, 1, RR_LAYOUT_GPTJ, 0);
    /* the same cases against a Resonance handle (integer-period kernels) */
    test_apply(r, rr_rope_apply_f32_inplace, "rr_rope_apply_f32_inplace", 4);
    test_apply(r, rr_rope_apply_f16_inplace, "rr_rope_apply_f16_inplace", 2);
    test_apply(r, rr_rope_apply_bf16_inplace, "rr_rope_apply_bf16_inplace", 2);
    rr_rope_free(r);
    test_pass_through();
    test_huge_frequency();
    test_configs();
    test_posgen();
    printf("test_hostile: %d bad-input cases (status, message, outputs unchanged), %d accepted edge cases, "
           "%d other checks\n", n_refusals, n_accepted, n_checks);
    printf("test_hostile: %d passed, %d failed\n", cases_passed, cases_failed);
    return cases_failed == 0 ? 0 : 1;
}

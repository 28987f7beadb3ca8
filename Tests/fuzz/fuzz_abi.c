/* libFuzzer harness for the C ABI: random bytes become a sequence of calls (handle creation from
 * fuzzed rr_rope_params, frequency queries, pair counts, cos/sin tables, in-place rotations with
 * fuzzed shapes, strides, q/k placement and positions). Every buffer sits between PROT_NONE guard
 * pages (Tests/c/guarded_buffer.h); inputs are mapped read-only. The harness never lies about a
 * buffer's size unless it predicts an error status, so any fault is a library bug.
 *
 * Checked on every call (abort() -> libFuzzer reports a crash and saves the input):
 *   - the status is one the call's inputs justify: an order-independent oracle collects the
 *     statuses that each violated documented condition allows; a call with no violation must
 *     succeed, a call with violations must fail with one of their statuses;
 *   - rr_status_string() is non-NULL; a failing call names its function in rr_last_error_message();
 *   - on error every output is byte-for-byte unchanged; on success nothing outside the documented
 *     output elements changes (pass-through dims, padding, v heads, slack before/after);
 *   - rotations are deterministic: the same call with another n_threads, and split into two token
 *     ranges, gives bit-identical buffers (chunks on threads, or on the caller when a thread start
 *     fails: see pthread_create below); tables hold finite values within the attention factor.
 *
 * Build: make fuzz (clang -fsanitize=fuzzer,address,undefined against the Embedded library built
 * with ASan and edge coverage: Makefile, FUZZ_SWIFT_SAN). */
#define _DEFAULT_SOURCE
#include <resonance_rope.h>

#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GB_POOL /* reuse guard-page mappings: most of the harness's time went to mmap/munmap */
#include "../c/guarded_buffer.h"

#define FUZZ_MAX_ELEMS (1 << 15) /* largest buffer the harness maps, in 4-byte elements */

/* ---- reading the input ------------------------------------------------------------------------ */

typedef struct { const uint8_t *p; size_t n; } reader;

static uint8_t u8(reader *r) {
    if (r->n == 0) return 0;
    r->n--;
    return *r->p++;
}
static uint64_t u64(reader *r) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | u8(r);
    return v;
}

static const int64_t I64_SPECIAL[] = {0, 1, -1, 2, 3, 4, 7, 8, 16, 64, 4096, INT64_MAX, INT64_MIN, INT64_MAX - 1,
                                      INT64_MIN + 1, INT64_MAX / 2, INT64_MAX / 4, INT64_MAX / 8, INT64_MAX / 16 + 1,
                                      (int64_t)1 << 31, (int64_t)1 << 32, (int64_t)1 << 53, (int64_t)1 << 62,
                                      INT32_MAX, INT32_MIN, -2, -8};
#define N_I64_SPECIAL (sizeof I64_SPECIAL / sizeof I64_SPECIAL[0])

/* Mostly small values, sometimes a boundary value, sometimes raw bits. */
static int64_t pick_i64(reader *r, int64_t small_max) {
    uint8_t sel = u8(r);
    if (sel < 160) return (int64_t)(u8(r) % (uint64_t)(small_max + 1));
    if (sel < 232) return I64_SPECIAL[u8(r) % N_I64_SPECIAL];
    return (int64_t)u64(r);
}
static int32_t pick_i32(reader *r, int32_t small_max) {
    int64_t v = pick_i64(r, small_max);
    return (int32_t)(uint32_t)(uint64_t)v;
}

static const double F64_SPECIAL[] = {0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 4.0, 8.0, 10000.0, 500000.0, 1e6, 32.0, 4096.0,
                                     1.0000000000000002, 0.9999999999999999, 1e300, 1e-300, 4.9406564584124654e-324,
                                     DBL_MAX, DBL_MIN, -DBL_MAX, NAN, INFINITY, -INFINITY, 3.0, 0.1, 1.5, 64.0};
#define N_F64_SPECIAL (sizeof F64_SPECIAL / sizeof F64_SPECIAL[0])

static double pick_f64(reader *r, double usual) {
    uint8_t sel = u8(r);
    double d;
    if (sel < 128) return usual;
    if (sel < 224) return F64_SPECIAL[u8(r) % N_F64_SPECIAL];
    uint64_t bits = u64(r);
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* ---- checks ------------------------------------------------------------------------------------ */

static void die(const char *fn, const char *why, rr_status st) {
    fprintf(stderr, "fuzz_abi: %s: %s (status %d: %s; message: %s)\n", fn, why, st, rr_status_string(st),
            rr_last_error_message());
    abort();
}

/* Sets of statuses, bit s for status s. `must`: conditions the inputs violate (the call has to
 * fail, with one of these statuses or a `may` one); `may`: documented conservative refusals
 * (e.g. byte extents of q and k intersect in a layout that shares no element). */
typedef uint32_t allowed;
#define ALLOW(set, s) ((set) |= (allowed)1 << (s))
#define ANY_FAILURE (~(allowed)1)

static void judge(const char *fn, rr_status st, allowed must, allowed may) {
    const char *s = rr_status_string(st);
    if (s == NULL) die(fn, "NULL status string", st);
    if (st < 0 || st > 31) die(fn, "status out of range", st);
    if (must != 0 && st == RR_STATUS_OK) die(fn, "accepted an invalid call", st);
    if (st != RR_STATUS_OK && !((must | may) >> st & 1))
        die(fn, must ? "returned a status no violated condition allows" : "refused a valid call", st);
    if (st != RR_STATUS_OK) {
        const char *m = rr_last_error_message();
        size_t l = strlen(fn);
        if (m == NULL || strncmp(m, fn, l) != 0 || m[l] != ':') die(fn, "message does not name the function", st);
    }
}

static int mul_ok(int64_t a, int64_t b, int64_t *out) { return !__builtin_mul_overflow(a, b, out); }
static int add_ok(int64_t a, int64_t b, int64_t *out) { return !__builtin_add_overflow(a, b, out); }
static int64_t wrap_mul(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }

/* ---- the handle -------------------------------------------------------------------------------- */

static rr_rope *default_rope; /* d = 8, created by the first input, never freed */
/* Costly work allowed in this input (from a hash of all its bytes, which mutations scramble, so
 * that a corpus grown for coverage cannot fill up with costly inputs): see op_create, rotate. */
static int big_allowed, threads_allowed;

typedef struct {
    rr_rope *rope;
    int half, head_dim, layout, resonance;
    double attention;
} handle;

static void op_create(reader *r, handle *h) {
    rr_rope_params p;
    allowed a = 0;
    gb arrays[3] = {{0}, {0}, {0}};
    rr_rope_params_init(&p);
    p.rotary_dim = u8(r) < 200 ? 2 * (1 + u8(r) % 32) : pick_i32(r, 64);
    /* A valid rotary_dim above 256 costs ~6 ms (4096) to ~30 ms (65536) of creation under ASan
     * (16 cos/sin per pair), 100-1000 times a small handle, and reaches no other code of the
     * later calls (their buffers would exceed FUZZ_MAX_ELEMS): it is kept only in the ~1 input
     * in 128 whose hash allows it (big_allowed; chosen by bytes, 1 create in 32, the 38 such
     * creates of the 4,184 seeds took 1.1 of the 3 s that the seeds ran). */
    if (p.rotary_dim > 256 && p.rotary_dim <= RR_MAX_DIM && !big_allowed) p.rotary_dim = 2 * (1 + (p.rotary_dim & 31));
    p.head_dim = u8(r) < 160 ? 0 : pick_i32(r, 80);
    p.layout = u8(r) < 240 ? u8(r) % 2 : pick_i32(r, 3);
    p.resonance = u8(r) % 2 ? (int32_t)u8(r) : 0;
    p.scaling = u8(r) < 240 ? u8(r) % 8 : pick_i32(r, 9);
    p.base = pick_f64(r, 10000.0);
    p.attention_factor = pick_f64(r, 0.0);
    p.factor = pick_f64(r, 2.0);
    p.original_max_position = u8(r) < 128 ? 4096 : pick_i64(r, 8192);
    p.max_position = u8(r) < 128 ? 16384 : pick_i64(r, 32768);
    p.sequence_length = u8(r) < 128 ? 0 : pick_i64(r, 32768);
    p.beta_fast = pick_f64(r, 32.0);
    p.beta_slow = pick_f64(r, 1.0);
    p.mscale = pick_f64(r, 0.0);
    p.mscale_all_dim = pick_f64(r, 0.0);
    p.low_freq_factor = pick_f64(r, 1.0);
    p.high_freq_factor = pick_f64(r, 4.0);
    p.truncate = u8(r) < 240 ? u8(r) % 2 : pick_i32(r, 3);
    if (u8(r) >= 248) p.reserved0 = pick_i32(r, 2);
    if (u8(r) >= 248) p.reserved[u8(r) % 5] = u64(r);
    if (u8(r) >= 248) p.struct_size = (uint32_t)pick_i64(r, 256);
    /* Factor arrays: exactly rotary_dim / 2 doubles ending at a guard page (1 double when the
     * dimension is invalid: the library must not read them then); sometimes NULL or misaligned. */
    {
        int valid_dim = p.rotary_dim >= 2 && p.rotary_dim <= RR_MAX_DIM && p.rotary_dim % 2 == 0;
        size_t count = valid_dim ? (size_t)p.rotary_dim / 2 : 1;
        const double **fields[3] = {&p.short_factor, &p.long_factor, &p.freq_factors};
        for (int i = 0; i < 3; i++) {
            uint8_t mode = u8(r);
            if (mode < 16) continue; /* NULL */
            {
                int misalign = mode >= 248;
                double *tmp = (double *)calloc(count, sizeof(double));
                for (size_t j = 0; j < count; j++) tmp[j] = j < 8 ? pick_f64(r, 1.0 + (double)j) : 1.0 + (double)j;
                arrays[i] = gb_readonly_copy_at(tmp, count * 8, misalign ? 4 : 0, count * 8 + (misalign ? 8 : 0));
                free(tmp);
                *fields[i] = (const double *)(const void *)(arrays[i].data + (misalign ? 4 : 0));
            }
        }
        {
            /* the counts: mostly 0 (rotary_dim / 2) or the true count, sometimes wrong */
            int64_t *counts[3] = {&p.short_factor_count, &p.long_factor_count, &p.freq_factors_count};
            for (int i = 0; i < 3; i++) {
                uint8_t c = u8(r);
                *counts[i] = c < 160 ? 0 : c < 240 ? (int64_t)count : pick_i64(r, 64);
            }
        }
    }
    {
        rr_rope *const canary = (rr_rope *)(uintptr_t)0xdead0000u;
        rr_rope *out = canary;
        gb in = gb_readonly_copy(&p, sizeof p);
        int null_params = u8(r) >= 252, null_out = u8(r) >= 252;
        rr_status st = rr_rope_create(null_params ? NULL : (const rr_rope_params *)(void *)in.data, null_out ? NULL : &out);
        gb_free(&in);
        for (int i = 0; i < 3; i++) gb_free(&arrays[i]);
        /* create's validity depends on the scaling maths; the oracle checks only the structural
         * conditions (the numeric ones are covered by test_hostile and the Swift tests). */
        if (null_params || null_out) ALLOW(a, RR_STATUS_NULL_POINTER);
        if (p.struct_size != sizeof p) ALLOW(a, RR_STATUS_STRUCT_SIZE);
        if (p.reserved0) ALLOW(a, RR_STATUS_STRUCT_SIZE);
        for (int i = 0; i < 5; i++)
            if (p.reserved[i]) ALLOW(a, RR_STATUS_STRUCT_SIZE);
        {
            int64_t half = (int64_t)p.rotary_dim / 2, c[3] = {p.short_factor_count, p.long_factor_count, p.freq_factors_count};
            for (int i = 0; i < 3; i++)
                if (c[i] != 0 && c[i] != half) ALLOW(a, RR_STATUS_INVALID_DIMENSION);
        }
        if (p.layout < 0 || p.layout > 1 || p.scaling < 0 || p.scaling > 7) ALLOW(a, RR_STATUS_UNKNOWN_ENUM);
        if (p.rotary_dim < 2 || p.rotary_dim > RR_MAX_DIM || p.rotary_dim % 2) ALLOW(a, RR_STATUS_INVALID_DIMENSION);
        if (p.head_dim != 0 && (p.head_dim < p.rotary_dim || p.head_dim > RR_MAX_DIM)) ALLOW(a, RR_STATUS_INVALID_DIMENSION);
        /* numeric validity (base, factors, scaling maths) is not modelled: any failure may happen */
        judge("rr_rope_create", st, a, ANY_FAILURE);
        if (st != RR_STATUS_OK) {
            if (out != canary) die("rr_rope_create", "*out_rope changed on error", st);
            return;
        }
        if (out == NULL || out == canary) die("rr_rope_create", "OK without a handle", st);
        if (h->rope != default_rope) rr_rope_free(h->rope);
        h->rope = out;
    }
    {
        rr_rope_info info;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        if (rr_rope_get_info(h->rope, &info) != RR_STATUS_OK) die("rr_rope_get_info", "failed on a valid handle", 0);
        if (info.rotary_dim != p.rotary_dim || info.pair_count != p.rotary_dim / 2 ||
            info.head_dim != (p.head_dim ? p.head_dim : p.rotary_dim) || info.layout != p.layout ||
            info.scaling != p.scaling || info.resonance != (p.resonance != 0) || info.base != p.base ||
            !(info.attention_factor > 0) || !isfinite(info.attention_factor))
            die("rr_rope_get_info", "info disagrees with the params", 0);
        h->half = info.pair_count;
        h->head_dim = info.head_dim;
        h->layout = info.layout;
        h->attention = info.attention_factor;
        h->resonance = info.resonance;
    }
}

/* ---- frequencies and counts -------------------------------------------------------------------- */

static void op_frequencies(reader *r, handle *h) {
    static const char *const names[] = {"rr_rope_inv_freq_f64", "rr_rope_inv_freq_f32", "rr_rope_wavelengths",
                                        "rr_rope_resonance_wavelengths", "rr_rope_resonance_freq_factors"};
    static const size_t elem[] = {8, 4, 8, 8, 4};
    int which = u8(r) % 5;
    int64_t cap = u8(r) < 200 ? h->half + (int64_t)(u8(r) % 5) - 2 : pick_i64(r, 256);
    int misalign = u8(r) >= 240, null_values = u8(r) >= 250, null_rope = u8(r) >= 250;
    size_t elems = cap > 0 && cap <= FUZZ_MAX_ELEMS ? (size_t)cap : 1;
    gb b = gb_alloc(elems * elem[which] + (misalign ? 8 : 0), 1);
    unsigned char *v = b.data + (misalign ? 8 - 1 - u8(r) % (elem[which] - 1) : 0);
    allowed a = 0;
    rr_status st;
    unsigned char *snap = (unsigned char *)malloc(b.n);
    if (cap > FUZZ_MAX_ELEMS && cap < h->half) abort(); /* cannot happen: half <= RR_MAX_DIM / 2 */
    if (cap > FUZZ_MAX_ELEMS) cap = (int64_t)elems; /* never lie about the size of a valid buffer */
    memcpy(snap, b.data, b.n);
    if (null_rope || null_values) ALLOW(a, RR_STATUS_NULL_POINTER);
    if (misalign) ALLOW(a, RR_STATUS_MISALIGNED);
    if (cap < h->half) ALLOW(a, RR_STATUS_BUFFER_TOO_SMALL);
    {
        const rr_rope *rp = null_rope ? NULL : h->rope;
        void *vp = null_values ? NULL : v;
        switch (which) {
        case 0: st = rr_rope_inv_freq_f64(rp, (double *)vp, cap); break;
        case 1: st = rr_rope_inv_freq_f32(rp, (float *)vp, cap); break;
        case 2: st = rr_rope_wavelengths(rp, (double *)vp, cap); break;
        case 3: st = rr_rope_resonance_wavelengths(rp, (int64_t *)vp, cap); break;
        default: st = rr_rope_resonance_freq_factors(rp, (float *)vp, cap); break;
        }
    }
    judge(names[which], st, a, 0);
    if (st != RR_STATUS_OK) {
        if (memcmp(snap, b.data, b.n) != 0 || !gb_slack_intact(&b)) die(names[which], "wrote on error", st);
    } else {
        size_t written = (size_t)h->half * elem[which];
        if (memcmp(snap + (v - b.data) + written, v + written, b.n - (size_t)(v - b.data) - written) != 0 ||
            !gb_slack_intact(&b))
            die(names[which], "wrote past rotary_dim / 2 elements", st);
        double *f64 = (double *)malloc((size_t)h->half * 8);
        if (rr_rope_inv_freq_f64(h->rope, f64, h->half) != RR_STATUS_OK) die("rr_rope_inv_freq_f64", "failed", 0);
        for (int i = 0; i < h->half; i++) {
            double x;
            if (which == 1) {
                /* the nearest float of the double value (0 or inf when out of float's range) */
                float f;
                memcpy(&f, v + 4 * i, 4);
                if (f != (float)f64[i]) die(names[which], "f32 value is not the f64 value rounded", st);
                continue;
            }
            if (which == 4) {
                /* lambda~ / lambda as float: positive (0 or inf only when out of float's range) */
                float f;
                memcpy(&f, v + 4 * i, 4);
                if (!(f >= 0) || isnan(f)) die(names[which], "a factor is negative or NaN", st);
                continue;
            }
            if (which == 3) { int64_t k; memcpy(&k, v + 8 * i, 8); x = (double)k; if (k < 1) die(names[which], "period < 1", st); }
            else memcpy(&x, v + 8 * i, 8);
            if (!(x > 0) || !isfinite(x)) die(names[which], "a frequency or wavelength is not finite and > 0", st);
        }
        free(f64);
    }
    free(snap);
    gb_free(&b);
}

static void op_count(reader *r, handle *h) {
    int64_t len = pick_i64(r, 1 << 14);
    gb b = gb_alloc(24, 1);
    uint8_t mode = u8(r);
    int64_t *pre = mode & 1 ? NULL : (int64_t *)(void *)(b.data + ((mode & 4) ? 4 : 8));
    int64_t *per = mode & 2 ? NULL : (int64_t *)(void *)(b.data + 16);
    unsigned char snap[24];
    allowed a = 0;
    rr_status st;
    memcpy(snap, b.data, 24);
    if (len <= 0) ALLOW(a, RR_STATUS_INVALID_VALUE);
    if (pre && (mode & 4)) ALLOW(a, RR_STATUS_MISALIGNED);
    st = rr_rope_count_pairs(h->rope, len, pre, per);
    judge("rr_rope_count_pairs", st, a, 0);
    if (st != RR_STATUS_OK && memcmp(snap, b.data, 24) != 0) die("rr_rope_count_pairs", "wrote on error", st);
    if (st == RR_STATUS_OK) {
        int64_t x;
        if (pre) { memcpy(&x, pre, 8); if (x < 0 || x > h->half) die("rr_rope_count_pairs", "pre_critical out of range", st); }
        if (per) { memcpy(&x, per, 8); if (x < 0 || x > h->half) die("rr_rope_count_pairs", "periodic out of range", st); }
    }
    gb_free(&b);
}

/* ---- cos/sin tables ---------------------------------------------------------------------------- */

/* |v| <= bound; v is a float rounded once, so +-inf is right when bound exceeds FLT_MAX (an
 * attention factor of 1e300 is finite and accepted). */
static int value_ok(float v, double bound) {
    return fabs(v) <= bound || (isinf(v) && bound > FLT_MAX);
}

static void op_table(reader *r, handle *h) {
    int32_t layout = u8(r) < 240 ? u8(r) % 4 : pick_i32(r, 5);
    uint32_t flags = u8(r) < 240 ? (u8(r) & 1) * RR_ATTENTION_FACTOR : (uint32_t)pick_i64(r, 8);
    int64_t n = u8(r) < 200 ? u8(r) % 9 : pick_i64(r, 64);
    int64_t start = u8(r) < 128 ? (int64_t)u8(r) - 128 : pick_i64(r, 1 << 20);
    int use_list = u8(r) & 1;
    uint8_t place = u8(r); /* bit 0-1: sin placement, bit 2: cos misaligned, bit 3: positions misaligned */
    int64_t width = layout == RR_TABLE_LAYOUT_HALF ? h->half : 2 * (int64_t)h->half;
    int valid_layout = layout >= 0 && layout <= 3;
    int vllm = layout == RR_TABLE_LAYOUT_VLLM;
    int64_t elems = 0, bytes = 0;
    int size_ok = n >= 0 && mul_ok(n, width, &elems) && mul_ok(elems, 4, &bytes);
    int range_ok = 1;
    int64_t last;
    allowed a = 0;
    if (!valid_layout) ALLOW(a, RR_STATUS_UNKNOWN_ENUM);
    if (flags & ~RR_ATTENTION_FACTOR) ALLOW(a, RR_STATUS_UNKNOWN_ENUM);
    if (n < 0) ALLOW(a, RR_STATUS_OVERFLOW);
    if (!use_list && n > 0 && !add_ok(start, n - 1, &last)) range_ok = 0, ALLOW(a, RR_STATUS_OVERFLOW);
    if (valid_layout && !size_ok) ALLOW(a, RR_STATUS_OVERFLOW);
    if (place & 4) ALLOW(a, RR_STATUS_MISALIGNED);
    if (use_list && (place & 8)) ALLOW(a, RR_STATUS_MISALIGNED);
    (void)range_ok;
    /* Map real buffers only when the call may succeed with them; otherwise small ones that the
     * library must not touch (it has to fail before writing). */
    {
        int64_t cap = valid_layout && size_ok && elems <= FUZZ_MAX_ELEMS ? elems : 1;
        int sin_mode = place & 3; /* 0 separate, 1 NULL, 2 same buffer after cos, 3 overlapping cos */
        gb cb = gb_alloc((size_t)cap * 4 * (sin_mode >= 2 ? 2 : 1) + ((place & 4) ? 4 : 0), 1);
        gb sb = gb_alloc((size_t)cap * 4, 1);
        gb pb = {0};
        float *c = (float *)(void *)(cb.data + ((place & 4) ? 2 : 0));
        float *s = NULL;
        const int64_t *pos = NULL;
        unsigned char *snap_c, *snap_s;
        rr_status st;
        if (vllm && sin_mode != 1) ALLOW(a, RR_STATUS_INVALID_ARGUMENT);
        if (!vllm && sin_mode == 1) ALLOW(a, RR_STATUS_NULL_POINTER);
        if (sin_mode == 0) s = (float *)(void *)sb.data;
        if (sin_mode == 2) s = c + cap;
        if (sin_mode == 3) {
            int64_t off = cap > 1 ? u8(r) % cap : 0;
            s = c + off;
            if (!vllm && bytes > 0) ALLOW(a, RR_STATUS_OVERLAP);
        }
        if (use_list) {
            int64_t count = n > 0 && n <= FUZZ_MAX_ELEMS ? n : 1;
            int64_t *tmp = (int64_t *)calloc((size_t)count, 8);
            for (int64_t i = 0; i < count; i++) tmp[i] = i < 16 ? pick_i64(r, 1 << 20) : (int64_t)((uint64_t)tmp[i - 16] + 1);
            pb = gb_readonly_copy_at(tmp, (size_t)count * 8, (place & 8) ? 4 : 0, (size_t)count * 8 + ((place & 8) ? 8 : 0));
            free(tmp);
            pos = (const int64_t *)(const void *)(pb.data + ((place & 8) ? 4 : 0));
        }
        if (a == 0 && elems > cap) goto out; /* a valid call larger than the harness maps */
        if (use_list && a == 0 && n > FUZZ_MAX_ELEMS) goto out;
        snap_c = (unsigned char *)malloc(cb.n);
        snap_s = (unsigned char *)malloc(sb.n);
        memcpy(snap_c, cb.data, cb.n);
        memcpy(snap_s, sb.data, sb.n);
        st = rr_rope_cos_sin_f32(h->rope, layout, flags, pos, start, n, c, s);
        judge("rr_rope_cos_sin_f32", st, a, 0);
        if (st != RR_STATUS_OK) {
            if (memcmp(snap_c, cb.data, cb.n) != 0 || memcmp(snap_s, sb.data, sb.n) != 0)
                die("rr_rope_cos_sin_f32", "wrote on error", st);
        } else {
            double bound = (flags & RR_ATTENTION_FACTOR ? h->attention : 1.0) * (1 + 1e-6);
            const unsigned char *cend = (const unsigned char *)(c + elems);
            for (int64_t i = 0; i < elems; i++)
                if (!value_ok(c[i], bound) || (s && sin_mode == 0 && !value_ok(s[i], bound)))
                    die("rr_rope_cos_sin_f32", "a value is NaN or exceeds the attention factor", st);
            /* nothing written after the table in cos_out's buffer (before: guarded by the slack) */
            if (sin_mode != 2 && memcmp(snap_c + (cend - cb.data), cend, cb.n - (size_t)(cend - cb.data)) != 0)
                die("rr_rope_cos_sin_f32", "wrote past n * width floats", st);
            if (sin_mode != 0 && memcmp(snap_s, sb.data, sb.n) != 0) die("rr_rope_cos_sin_f32", "wrote to an unused buffer", st);
        }
        if (!gb_slack_intact(&cb) || !gb_slack_intact(&sb)) die("rr_rope_cos_sin_f32", "wrote outside the buffers", st);
        free(snap_c);
        free(snap_s);
    out:
        gb_free(&cb);
        gb_free(&sb);
        gb_free(&pb);
    }
}

/* ---- rotations --------------------------------------------------------------------------------- */

/* Largest element offset + 1 touched by a view, or -1 when it overflows int64 (bytes included). */
static int64_t view_extent(int64_t tokens, int64_t heads, int64_t ts, int64_t hs, int64_t dim, int64_t es) {
    int64_t a, b, e;
    if (tokens == 0) return 0;
    if (!mul_ok(tokens - 1, ts, &a) || !mul_ok(heads - 1, hs, &b) || !add_ok(a, b, &e) || !add_ok(e, dim, &e) ||
        !mul_ok(e, es, &a))
        return -1;
    return e;
}

/* The documented nesting rule: with (stride, count) pairs sorted by stride, each stride whose
 * count exceeds 1 is at least the extent of everything inside it. */
static int nesting_ok(int64_t tokens, int64_t heads, int64_t ts, int64_t hs, int64_t dim) {
    int64_t s0 = hs, c0 = heads, s1 = ts, c1 = tokens, ext = dim, t;
    if (tokens == 0) return 1;
    if (s0 > s1) { t = s0; s0 = s1; s1 = t; t = c0; c0 = c1; c1 = t; }
    if (c0 > 1) { if (s0 < ext) return 0; if (!mul_ok(c0 - 1, s0, &t) || !add_ok(t, ext, &ext)) return 1; }
    if (c1 > 1 && s1 < ext) return 0;
    return 1;
}

typedef struct { int64_t heads, ts, hs, off; } view;

/* n * heads * dim elements are few enough to mark one by one. */
static int rows_small(int64_t n, int64_t heads, int64_t dim) {
    int64_t a;
    return n >= 0 && heads >= 1 && mul_ok(n, heads, &a) && mul_ok(a, dim, &a) && a <= 4 * FUZZ_MAX_ELEMS;
}


/* With `set`: marks the rows (dim elements each) of v's tokens [t0, t1) in m; without, only
 * looks. Returns 1 when a row meets an element already marked (by v itself: rows overlap; by
 * another view marked before: the views share an element). */
static int mark(unsigned char *m, const view *v, int64_t t0, int64_t t1, int dim, int set) {
    int clash = 0;
    for (int64_t t = t0; t < t1; t++)
        for (int64_t h = 0; h < v->heads; h++) {
            unsigned char *row = m + v->off + t * v->ts + h * v->hs;
            if (!gb_all_bytes(row, (size_t)dim, 0)) clash = 1;
            if (set) memset(row, 1, (size_t)dim);
        }
    return clash;
}

/* Copies the elements of tokens [t0, t1) of v (es bytes each) from src to dst. */
static void copy_view(unsigned char *dst, const unsigned char *src, const view *v, int64_t t0, int64_t t1, int dim, int64_t es) {
    for (int64_t t = t0; t < t1; t++)
        for (int64_t h = 0; h < v->heads; h++) {
            size_t at = (size_t)(es * (v->off + t * v->ts + h * v->hs));
            memcpy(dst + at, src + at, (size_t)(es * dim));
        }
}

typedef rr_status (*apply_function)(const rr_rope *, const rr_rotation *);
static const apply_function APPLY_FNS[3] = {rr_rope_apply_f32_inplace, rr_rope_apply_f16_inplace, rr_rope_apply_bf16_inplace};
static const char *const APPLY_NAMES[3] = {"rr_rope_apply_f32_inplace", "rr_rope_apply_f16_inplace", "rr_rope_apply_bf16_inplace"};

/* The initial contents of a rotation buffer, computed once: f32 values in [-1, 1]; for f16 and
 * bf16 any bits (normal, subnormal, inf and NaN halves and bfloat16s all occur). */
static const struct fill { float f32[FUZZ_MAX_ELEMS]; unsigned char bits[2 * FUZZ_MAX_ELEMS]; } *fill_pattern(void) {
    static struct fill p;
    static int done;
    if (!done) {
        for (int64_t i = 0; i < FUZZ_MAX_ELEMS; i++) p.f32[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
        for (int64_t i = 0; i < 2 * FUZZ_MAX_ELEMS; i++) p.bits[i] = (unsigned char)((i * 2654435761u) >> 7);
        done = 1;
    }
    return &p;
}

/* Thread starts. A thread costs ~100 us of CPU under ASan (pthread_create + join, any stack size;
 * ~25 us without), 10-50 times a rotation of the few tokens here. So only ~1 apply op in 16
 * (real_threads), at most the first such op of an input, and only in the ~1 input in 32 whose
 * hash allows it (threads_allowed), starts real threads; the reruns on 3 and 7 threads never do.
 * (Chosen by input bytes alone, a corpus grown for coverage held ever more thread-starting inputs:
 * with the 4,184 committed seeds the rate fell to ~600 inputs/s, 70 % of the CPU creating and
 * destroying threads, ASan's per-thread fake stacks and shadow included.) Otherwise this
 * definition, which replaces the sanitizer runtime's weak pthread_create, fails the library's
 * thread starts with EAGAIN, and the caller's thread takes every grain, as documented for a
 * failed start (Sources/ResonanceRopeKernelTypes/Threads.swift). Either way the same grain code
 * runs and the results are checked bit for bit. */
static int real_threads = 1, in_library, threads_started;
int __interceptor_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg);
int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg) {
    if (in_library && !real_threads) return EAGAIN;
    return __interceptor_pthread_create(thread, attr, start, arg);
}

static rr_status rotate(const handle *h, rr_rotation rot, int fmt) {
    gb in = gb_readonly_copy(&rot, sizeof rot);
    rr_status st;
    in_library = 1;
    st = APPLY_FNS[fmt](h->rope, (const rr_rotation *)(void *)in.data);
    in_library = 0;
    gb_free(&in);
    return st;
}

static void op_apply(reader *r, handle *h) {
    const int dim = h->head_dim;
    rr_rotation rot;
    view q, k;
    int64_t n, qext, kext, total, end, lastpos;
    int has_k = u8(r) % 3 != 0;
    int fmt = u8(r) % 3;                       /* f32, f16, bf16 */
    int64_t es = fmt == 0 ? 4 : 2;             /* bytes per element */
    const char *fn = APPLY_NAMES[fmt];
    allowed must = 0, may = 0;
    rr_rotation_init(&rot);
    n = u8(r) < 220 ? u8(r) % 6 : pick_i64(r, 16);
    q.heads = u8(r) < 230 ? 1 + u8(r) % 4 : pick_i64(r, 4);
    k.heads = u8(r) < 230 ? 1 + u8(r) % 3 : pick_i64(r, 4);
    {
        /* strides: natural token-major, head-major, a fused qkv row, or fuzzed */
        uint8_t style = u8(r);
        int64_t pad = u8(r) % 4;
        view *vs[2] = {&q, &k};
        for (int i = 0; i < 2; i++) {
            view *v = vs[i];
            switch (style >> (2 * i) & 3) {
            case 0: v->hs = dim + pad; v->ts = wrap_mul(v->heads, dim + pad); break;
            case 1: v->ts = dim + pad; v->hs = (n > 0 && n < 64 ? n : 1) * (dim + pad); break;
            case 2: v->hs = dim; v->ts = (q.heads > 0 && q.heads < 8 && k.heads > 0 && k.heads < 8 ? q.heads + k.heads + 1 : 3) * dim; break;
            default: v->hs = pick_i64(r, 3 * dim); v->ts = pick_i64(r, 8 * dim); break;
            }
        }
    }
    qext = q.heads >= 1 && q.ts >= 0 && q.hs >= 0 && n >= 0 ? view_extent(n, q.heads, q.ts, q.hs, dim, es) : -1;
    kext = k.heads >= 1 && k.ts >= 0 && k.hs >= 0 && n >= 0 ? view_extent(n, k.heads, k.ts, k.hs, dim, es) : -1;
    rot.n_tokens = n;
    rot.flags = u8(r) < 240 ? u8(r) % 4 : (uint32_t)pick_i64(r, 16);
    rot.start_position = u8(r) < 128 ? (int64_t)u8(r) : pick_i64(r, 1 << 20);
    {
        /* real_threads: see pthread_create above; from the same bytes (~1 apply in 16) */
        uint8_t sel = u8(r), v = sel < 240 ? u8(r) : 0;
        rot.n_threads = sel < 240 ? v % 5 : pick_i32(r, 8);
        real_threads = (sel < 240 ? v >= 240 : sel >= 254) && threads_allowed && !threads_started;
        threads_started |= real_threads;
    }
    {
        uint8_t tr = u8(r);
        rot.token_begin = tr < 200 ? 0 : pick_i64(r, 6);
        rot.token_end = tr < 160 ? -1 : pick_i64(r, 6);
    }
    if (u8(r) >= 250) rot.struct_size = (uint32_t)pick_i64(r, 200);
    if (u8(r) >= 250) rot.reserved0 = 1;
    if (u8(r) >= 250) rot.reserved[u8(r) % 4] = 1;
    rot.q_heads = q.heads; rot.q_token_stride = q.ts; rot.q_head_stride = q.hs;
    rot.k_heads = k.heads; rot.k_token_stride = k.ts; rot.k_head_stride = k.hs;
    /* placement: q at 0; k after q, or inside q's extent (fused row or overlapping) */
    q.off = 0;
    if (has_k && qext > 0 && u8(r) < 96) k.off = u8(r) % (qext + 1);
    else k.off = qext > 0 ? qext + u8(r) % 8 : 0;
    total = qext > 0 ? qext : 0;
    if (has_k && kext > 0) { /* k.off + kext can exceed int64 for accepted-looking extents */
        int64_t kend;
        if (!add_ok(k.off, kext, &kend)) total = INT64_MAX; /* larger than the harness maps */
        else if (kend > total) total = kend;
    }
    if (total < 1) total = 1;
    end = rot.token_end == -1 ? n : rot.token_end;
    /* the oracle: structural conditions */
    if (rot.struct_size != sizeof rot || rot.reserved0 || rot.reserved[0] || rot.reserved[1] || rot.reserved[2] ||
        rot.reserved[3])
        ALLOW(must, RR_STATUS_STRUCT_SIZE);
    if (rot.flags & ~(RR_ROTATE_INVERSE | RR_ATTENTION_FACTOR)) ALLOW(must, RR_STATUS_UNKNOWN_ENUM);
    if (rot.n_threads < 0) ALLOW(must, RR_STATUS_INVALID_ARGUMENT);
    if (n < 0) ALLOW(must, RR_STATUS_OVERFLOW);
    if (!(rot.token_begin >= 0 && rot.token_begin <= end && end <= n)) ALLOW(must, RR_STATUS_INVALID_ARGUMENT);
    {
        view *vs[2] = {&q, &k};
        int64_t ext[2] = {qext, kext};
        for (int i = 0; i < 1 + has_k; i++) {
            if (vs[i]->heads < 1) ALLOW(must, RR_STATUS_OVERFLOW);
            if (vs[i]->ts < 0 || vs[i]->hs < 0) ALLOW(must, RR_STATUS_INVALID_STRIDE);
            if (vs[i]->heads >= 1 && vs[i]->ts >= 0 && vs[i]->hs >= 0 && n >= 0) {
                if (!nesting_ok(n, vs[i]->heads, vs[i]->ts, vs[i]->hs, dim)) ALLOW(may, RR_STATUS_INVALID_STRIDE);
                if (ext[i] < 0) ALLOW(must, RR_STATUS_OVERFLOW);
            }
        }
        if (has_k && qext > 0 && kext > 0 && k.off < qext && q.off < k.off + kext) ALLOW(may, RR_STATUS_OVERLAP);
    }
    /* brute force on mappable views: an element in two rows of one view, or in q and k */
    if (total <= FUZZ_MAX_ELEMS && qext >= 0 && (!has_k || kext >= 0) && n >= 0 && rows_small(n, q.heads, dim) &&
        (!has_k || rows_small(n, k.heads, dim))) {
        /* m: q's elements, mk: k's; a row meeting its own view's marks is an invalid stride */
        unsigned char *m = (unsigned char *)calloc((size_t)total, 1);
        if (mark(m, &q, 0, n, dim, 1)) ALLOW(must, RR_STATUS_INVALID_STRIDE);
        if (has_k) {
            unsigned char *mk = (unsigned char *)calloc((size_t)total, 1);
            if (mark(mk, &k, 0, n, dim, 1)) ALLOW(must, RR_STATUS_INVALID_STRIDE);
            /* k's rows against q's marks */
            if (mark(m, &k, 0, n, dim, 0)) ALLOW(must, RR_STATUS_OVERLAP);
            free(mk);
        }
        free(m);
    } else if (must == 0) {
        return; /* possibly valid, but too large to map */
    }
    {
        int misalign_q = u8(r) >= 250, misalign_k = has_k && u8(r) >= 250;
        int use_list = u8(r) & 1, misalign_pos = use_list && u8(r) >= 250;
        int null_q = u8(r) >= 252;
        gb buf, pb = {0};
        unsigned char *snap;
        rr_status st;
        if (null_q) ALLOW(must, RR_STATUS_NULL_POINTER);
        if (misalign_q || misalign_k || misalign_pos) ALLOW(must, RR_STATUS_MISALIGNED);
        if (!use_list && n > 0 && !add_ok(rot.start_position, n - 1, &lastpos)) ALLOW(must, RR_STATUS_OVERFLOW);
        if (use_list && must == 0 && n > FUZZ_MAX_ELEMS) return;
        if (total > FUZZ_MAX_ELEMS) total = 1; /* the call must fail: a small buffer it must not touch */
        buf = gb_alloc((size_t)(total * es + es), u8(r) & 1);
        memcpy(buf.data, fmt == 0 ? (const void *)fill_pattern()->f32 : (const void *)fill_pattern()->bits, (size_t)(total * es));
        rot.q = null_q ? NULL : buf.data + (misalign_q ? 1 : 0);
        rot.k = has_k ? buf.data + (k.off <= total ? es * k.off : 0) + (misalign_k ? 1 : 0) : NULL;
        if (use_list) {
            int64_t count = n > 0 && n <= FUZZ_MAX_ELEMS ? n : 1;
            int64_t *tmp = (int64_t *)calloc((size_t)count, 8);
            for (int64_t i = 0; i < count; i++) tmp[i] = i < 8 ? pick_i64(r, 1 << 20) : (int64_t)((uint64_t)tmp[i - 8] - 3);
            pb = gb_readonly_copy_at(tmp, (size_t)count * 8, misalign_pos ? 4 : 0, (size_t)count * 8 + (misalign_pos ? 8 : 0));
            free(tmp);
            rot.positions = (const int64_t *)(const void *)(pb.data + (misalign_pos ? 4 : 0));
        }
        snap = (unsigned char *)malloc(buf.n);
        memcpy(snap, buf.data, buf.n);
        st = rotate(h, rot, fmt);
        judge(fn, st, must, may);
        if (st != RR_STATUS_OK) {
            if (memcmp(snap, buf.data, buf.n) != 0) die(fn, "wrote on error", st);
        } else {
            /* only the rotary pairs of the views' tokens [begin, end) changed: the buffer equals
             * its snapshot with those elements taken from the result */
            int64_t t0 = rot.token_begin, t1 = end;
            unsigned char *expect = (unsigned char *)malloc(buf.n);
            memcpy(expect, snap, buf.n);
            copy_view(expect, buf.data, &q, t0, t1, 2 * h->half, es);
            if (has_k) copy_view(expect, buf.data, &k, t0, t1, 2 * h->half, es);
            if (memcmp(expect, buf.data, (size_t)(es * total)) != 0) die(fn, "changed an element outside the rotated pairs", st);
            if (memcmp(snap + es * total, buf.data + es * total, buf.n - (size_t)(es * total)) != 0)
                die(fn, "wrote past the views", st);
            free(expect);
            /* determinism: other n_threads, and the token range split in two, give the same bits */
            {
                unsigned char *first = (unsigned char *)malloc(buf.n);
                rr_rotation again = rot;
                int64_t mid = t0 + (t1 - t0) / 2;
                memcpy(first, buf.data, buf.n);
                memcpy(buf.data, snap, buf.n);
                real_threads = 0;
                again.n_threads = rot.n_threads == 0 ? 3 : 0;
                again.token_begin = t0;
                again.token_end = mid;
                if (rotate(h, again, fmt) != RR_STATUS_OK) die(fn, "first half refused", 0);
                again.token_begin = mid;
                again.token_end = t1;
                again.n_threads = 7;
                if (rotate(h, again, fmt) != RR_STATUS_OK) die(fn, "second half refused", 0);
                if (memcmp(first, buf.data, buf.n) != 0)
                    die(fn, "results depend on n_threads or the token split", 0);
                free(first);
            }
        }
        if (!gb_slack_intact(&buf)) die(fn, "wrote outside the buffer", st);
        free(snap);
        gb_free(&buf);
        gb_free(&pb);
    }
}

/* ---- configuration text ------------------------------------------------------------------------ */

/* Real models' shapes with smaller heads (rotary_dim 32, 24 and 8: creation costs 16 cos/sin per
 * pair under ASan and 128 reached nothing 32 does not); each changed number kept its length, so
 * the committed corpus's splices land where they did. */
static const char *const HF_TEMPLATES[] = {
    ("{\"hidden_size\": 1024, \"num_attention_heads\": 32, \"max_position_embeddings\": 131072, \"rope_theta\": 500000.0,"
    " \"rope_scaling\": {\"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0,"
    " \"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"}}"),
    ("{\"hidden_size\": 1792, \"num_attention_heads\": 56, \"rope_theta\": 1000000.0, \"max_position_embeddings\": 32768,"
    " \"rope_scaling\": {\"factor\": 4.0, \"original_max_position_embeddings\": 32768, \"type\": \"yarn\"}}"),
    "{\"n_embd\": 256, \"n_head\": 16, \"rotary_dim\": 8, \"model_type\": \"gptj\"}",
    ("{\"hidden_size\": 1536, \"num_attention_heads\": 32, \"max_position_embeddings\": 131072,"
    " \"original_max_position_embeddings\": 4096, \"rope_scaling\": {\"type\": \"longrope\", \"short_factor\": [1, 1, 1],"
    " \"long_factor\": [2, 2, 2]}, \"partial_rotary_factor\": 0.5}"),
};
static const char *const GGUF_TEMPLATES[] = {
    "general.architecture=llama\nllama.rope.freq_base=10000\nllama.rope.dimension_count= 32\nllama.context_length=4096\n",
    ("general.architecture=qwen2\nqwen2.rope.freq_base=1000000\nqwen2.rope.dimension_count=32\n"
     "qwen2.rope.scaling.type=yarn\nqwen2.rope.scaling.factor=4\nqwen2.rope.scaling.original_context_length=32768\n"),
    "general.architecture=llama\nllama.rope.dimension_count=8\nrope_freqs=[1, 1.5, 2, 4]\n",
};

/* Text from the input: a template with a fuzzed splice, or raw bytes. */
static size_t make_text(reader *r, int gguf, char *out, size_t cap) {
    uint8_t mode = u8(r);
    size_t n = 0;
    if (mode < 96) {
        const char *t = gguf ? GGUF_TEMPLATES[u8(r) % 3] : HF_TEMPLATES[u8(r) % 4];
        size_t tl = strlen(t), at = tl ? u8(r) * 256u % (tl + 1) : 0, cut = u8(r) % 8, ins = u8(r) % 12;
        at = (at + u8(r)) % (tl + 1);
        memcpy(out, t, at);
        n = at;
        for (size_t i = 0; i < ins && n < cap; i++) out[n++] = (char)u8(r);
        if (at + cut > tl) cut = tl - at;
        if (n + tl - at - cut <= cap) {
            memcpy(out + n, t + at + cut, tl - at - cut);
            n += tl - at - cut;
        }
    } else {
        size_t want = u8(r) * 4u % (cap + 1);
        while (n < want && r->n > 0) out[n++] = (char)u8(r);
    }
    return n;
}

static void op_config(reader *r, handle *h) {
    enum { CAP = 2048 };
    char *text = (char *)malloc(CAP + 1);
    int gguf = u8(r) & 1;
    size_t n = make_text(r, gguf, text, CAP);
    int nul = u8(r) & 1;
    int64_t length = nul ? -1 : (int64_t)n, seq = u8(r) < 200 ? 0 : pick_i64(r, 1 << 16);
    int32_t layout = u8(r) < 200 ? -1 : pick_i32(r, 2);
    int32_t resonance = u8(r) & 1;
    allowed must = 0;
    rr_rope *const canary = (rr_rope *)(uintptr_t)0xbeef0000u;
    rr_rope *out = canary;
    gb in;
    rr_status st;
    const char *fn = gguf ? "rr_rope_create_from_gguf_metadata" : "rr_rope_create_from_hf_config";
    if (u8(r) >= 250) length = pick_i64(r, 4);
    if (length == -1) nul = 1;
    if (nul) {
        /* a NUL-terminated text stops at its first NUL */
        text[n] = '\0';
        n = strlen(text) + 1;
    }
    if (length < -1) ALLOW(must, RR_STATUS_OVERFLOW);
    if (length > (int64_t)1 << 26) ALLOW(must, RR_STATUS_BUFFER_TOO_SMALL);
    if (length >= 0 && length <= ((int64_t)1 << 26) && (uint64_t)length > n) {
        free(text);
        return; /* a lie about the text's size that the library may not detect */
    }
    if (seq < 0) ALLOW(must, RR_STATUS_INVALID_VALUE);
    if (gguf && layout != -1 && (layout < 0 || layout > 1)) ALLOW(must, RR_STATUS_UNKNOWN_ENUM);
    in = gb_readonly_copy(text, n);
    free(text);
    st = gguf ? rr_rope_create_from_gguf_metadata((const char *)in.data, length, seq, resonance, layout, &out)
              : rr_rope_create_from_hf_config((const char *)in.data, length, seq, resonance, &out);
    gb_free(&in);
    /* the text's content decides the rest: any documented failure may happen */
    judge(fn, st, must, ANY_FAILURE);
    if (st != RR_STATUS_OK) {
        if (out != canary) die(fn, "*out_rope changed on error", st);
        return;
    }
    {
        rr_rope_info info;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        if (out == NULL || out == canary || rr_rope_get_info(out, &info) != RR_STATUS_OK) die(fn, "OK without a usable handle", st);
        if (info.rotary_dim < 2 || info.rotary_dim % 2 || info.rotary_dim > RR_MAX_DIM || info.head_dim < info.rotary_dim ||
            info.pair_count != info.rotary_dim / 2 || !(info.base > 1) || !isfinite(info.base) || !(info.attention_factor > 0))
            die(fn, "the handle's info is out of its documented ranges", st);
        if (h->rope != default_rope) rr_rope_free(h->rope);
        h->rope = out;
        h->half = info.pair_count;
        h->head_dim = info.head_dim;
        h->layout = info.layout;
        h->attention = info.attention_factor;
        h->resonance = info.resonance;
    }
}

/* ---- feature gap ------------------------------------------------------------------------------- */

static void op_gap(reader *r, handle *h) {
    int64_t L = u8(r) < 220 ? 1 + u8(r) % 200 : pick_i64(r, 1 << 10);
    int64_t Lp = u8(r) < 220 ? (int64_t)((uint64_t)L + 1 + u8(r) * 8u) : pick_i64(r, 1 << 12);
    int64_t cap = u8(r) < 220 ? h->half : pick_i64(r, 64);
    uint8_t mode = u8(r);
    int misalign = mode >= 250, with_summary = mode & 1, bad_summary = with_summary && (mode & 64) && u8(r) >= 200;
    size_t elems = cap > 0 && cap <= FUZZ_MAX_ELEMS ? (size_t)cap : 1;
    gb g = gb_alloc(elems * 8 + (misalign ? 8 : 0), 1), sb = gb_alloc(sizeof(rr_gap_summary), 1);
    double *gaps = (double *)(void *)(g.data + (misalign ? 3 : 0));
    rr_gap_summary *sum = (rr_gap_summary *)(void *)sb.data;
    unsigned char *snap_g = (unsigned char *)malloc(g.n), snap_s[sizeof(rr_gap_summary)];
    allowed must = 0;
    rr_status st;
    if (cap > FUZZ_MAX_ELEMS) cap = (int64_t)elems;
    sum->struct_size = bad_summary ? (uint32_t)pick_i64(r, 64) : sizeof *sum;
    if (misalign) ALLOW(must, RR_STATUS_MISALIGNED);
    if (cap < h->half) ALLOW(must, RR_STATUS_BUFFER_TOO_SMALL);
    if (with_summary && sum->struct_size != sizeof *sum) ALLOW(must, RR_STATUS_STRUCT_SIZE);
    if (L < 1 || Lp <= L) ALLOW(must, RR_STATUS_INVALID_VALUE);
    if (L > (int64_t)1 << 24 || Lp > (int64_t)1 << 40) ALLOW(must, RR_STATUS_OVERFLOW);
    if (!h->resonance && Lp > 0 && Lp <= (int64_t)1 << 40 && (int64_t)h->half * Lp > (int64_t)1 << 27) ALLOW(must, RR_STATUS_OVERFLOW);
    if (with_summary && (uintptr_t)(void *)sum < (uintptr_t)(void *)(gaps + h->half) &&
        (uintptr_t)(void *)gaps < (uintptr_t)(void *)(sum + 1) && cap >= h->half)
        ALLOW(must, RR_STATUS_OVERLAP);
    /* valid but slow: without Resonance the work is (d/2) (L + L'); under Resonance it is O(d) */
    if (must == 0 && !h->resonance && (Lp > (int64_t)1 << 10 || (int64_t)h->half * (L + Lp) > (int64_t)1 << 10)) goto out;
    memcpy(snap_g, g.data, g.n);
    memcpy(snap_s, sb.data, sb.n);
    st = rr_rope_feature_gap(h->rope, L, Lp, gaps, cap, with_summary ? sum : NULL);
    /* the gap's own allocation may fail on huge inputs: OUT_OF_MEMORY is documented */
    judge("rr_rope_feature_gap", st, must, (allowed)1 << RR_STATUS_OUT_OF_MEMORY);
    if (st != RR_STATUS_OK) {
        if (memcmp(snap_g, g.data, g.n) != 0 || memcmp(snap_s, sb.data, sb.n) != 0) die("rr_rope_feature_gap", "wrote on error", st);
    } else {
        for (int i = 0; i < h->half; i++)
            if (!(gaps[i] >= 0 && gaps[i] <= 2)) die("rr_rope_feature_gap", "a gap outside [0, 2]", st);
        if (memcmp(snap_g + 8 * (size_t)h->half, g.data + 8 * (size_t)h->half, g.n - 8 * (size_t)h->half) != 0)
            die("rr_rope_feature_gap", "wrote past rotary_dim / 2 gaps", st);
        if (!with_summary && memcmp(snap_s, sb.data, sb.n) != 0) die("rr_rope_feature_gap", "wrote an absent summary", st);
    }
    if (!gb_slack_intact(&g) || !gb_slack_intact(&sb)) die("rr_rope_feature_gap", "wrote outside the buffers", 0);
out:
    free(snap_g);
    gb_free(&g);
    gb_free(&sb);
}

/* ---- PosGen ------------------------------------------------------------------------------------ */

static void op_posgen(reader *r) {
    rr_posgen_params p;
    allowed must = 0, may = ANY_FAILURE;
    int which = u8(r) % 3;
    int64_t seedc, need = -1;
    rr_posgen_params_init(&p);
    p.task = u8(r) < 240 ? u8(r) % 3 : pick_i32(r, 4);
    p.arith = u8(r) < 240 ? u8(r) % 3 : pick_i32(r, 4);
    p.split_mode = u8(r) < 240 ? u8(r) % 2 : pick_i32(r, 3);
    p.modulus = u8(r) < 200 ? 2 + u8(r) % 40 : pick_i64(r, 64);
    p.near = u8(r) < 200 ? 1 + u8(r) % 4 : pick_i64(r, 8);
    p.far = u8(r) < 200 ? u8(r) % 4 : pick_i64(r, 8);
    p.length = u8(r) < 200 ? (int64_t)((uint64_t)p.near + (uint64_t)p.far + u8(r) % 40) : pick_i64(r, 128);
    p.train_size = u8(r) < 200 ? 1 + u8(r) % 64 : pick_i64(r, 1 << 16);
    p.validation_size = u8(r) < 200 ? 1 + u8(r) % 16 : pick_i64(r, 64);
    p.test_size = u8(r) < 200 ? 1 + u8(r) % 16 : pick_i64(r, 64);
    if (u8(r) >= 250) p.struct_size = (uint32_t)pick_i64(r, 128);
    if (u8(r) >= 250) p.reserved[u8(r) % 4] = 1;
    if (p.struct_size != sizeof p || p.reserved[0] || p.reserved[1] || p.reserved[2] || p.reserved[3])
        ALLOW(must, RR_STATUS_STRUCT_SIZE);
    if (p.task < 0 || p.task > 2 || p.arith < 0 || p.arith > 2 || p.split_mode < 0 || p.split_mode > 1)
        ALLOW(must, RR_STATUS_UNKNOWN_ENUM);
    if (p.modulus < 2 || p.modulus > (int64_t)1 << 31 || p.near < 1 || p.far < 0) ALLOW(must, RR_STATUS_INVALID_VALUE);
    if (!add_ok(p.near, p.far, &seedc)) ALLOW(must, RR_STATUS_OVERFLOW), seedc = -1;
    else if (p.length < seedc) ALLOW(must, RR_STATUS_INVALID_VALUE);
    if (which == 0) {
        int32_t split = u8(r) < 240 ? u8(r) % 3 : pick_i32(r, 4);
        int64_t first = u8(r) < 200 ? u8(r) % 8 : pick_i64(r, 1 << 16), count = u8(r) < 220 ? u8(r) % 5 : pick_i64(r, 16);
        int64_t cap = u8(r) < 200 ? -2 : pick_i64(r, 256);
        int mis = u8(r) >= 250;
        gb t;
        unsigned char *snap;
        rr_status st;
        if (split < 0 || split > 2) ALLOW(must, RR_STATUS_UNKNOWN_ENUM);
        if (first < 0 || count < 0) ALLOW(must, RR_STATUS_OVERFLOW);
        if (count >= 0 && p.length >= 0 && !mul_ok(count, p.length, &need)) ALLOW(must, RR_STATUS_OVERFLOW), need = -1;
        if (cap == -2) cap = need >= 0 && need <= FUZZ_MAX_ELEMS ? need : 0;
        if (cap > FUZZ_MAX_ELEMS) cap = FUZZ_MAX_ELEMS;
        if (need >= 0 && cap < need) ALLOW(must, RR_STATUS_BUFFER_TOO_SMALL);
        if (mis) ALLOW(must, RR_STATUS_MISALIGNED);
        t = gb_alloc((size_t)(cap > 0 ? cap : 0) * 4 + (mis ? 4 : 0), 1);
        snap = (unsigned char *)malloc(t.n + 1);
        memcpy(snap, t.data, t.n);
        st = rr_posgen_generate(&p, split, first, count, (int32_t *)(void *)(t.data + (mis ? 2 : 0)), cap);
        judge("rr_posgen_generate", st, must, may);
        if (st != RR_STATUS_OK && memcmp(snap, t.data, t.n) != 0) die("rr_posgen_generate", "wrote on error", st);
        if (st == RR_STATUS_OK) {
            for (int64_t i = 0; i < need; i++) {
                int32_t v;
                memcpy(&v, t.data + 4 * i, 4);
                if (v < 0 || v >= p.modulus) die("rr_posgen_generate", "a token outside [0, modulus)", st);
            }
            if (memcmp(snap + 4 * need, t.data + 4 * need, t.n - 4 * (size_t)need) != 0)
                die("rr_posgen_generate", "wrote past count * length", st);
        }
        if (!gb_slack_intact(&t)) die("rr_posgen_generate", "wrote outside the buffer", st);
        free(snap);
        gb_free(&t);
    } else if (which == 1) {
        int64_t cap = u8(r) < 220 ? (p.length >= 0 && p.length <= FUZZ_MAX_ELEMS ? p.length : 0) : pick_i64(r, 128);
        int64_t ns = seedc >= 1 && seedc <= 64 ? seedc : 1;
        int32_t *seeds = (int32_t *)malloc((size_t)ns * 4);
        gb sb, t;
        unsigned char *snap;
        rr_status st;
        int any_bad_seed = 0;
        for (int64_t i = 0; i < ns; i++) {
            seeds[i] = u8(r) < 230 ? (int32_t)(u8(r) % (p.modulus > 1 && p.modulus < 256 ? p.modulus : 17)) : pick_i32(r, 64);
            if (seeds[i] < 0 || seeds[i] >= p.modulus) any_bad_seed = 1;
        }
        if (cap > FUZZ_MAX_ELEMS) cap = FUZZ_MAX_ELEMS;
        if (seedc != ns) {
            /* far + near seeds do not fit the harness's array: only call if the params are refused */
            if (must == 0) { free(seeds); return; }
        } else if (any_bad_seed && must == 0 && p.length >= 0 && cap >= p.length) {
            ALLOW(must, RR_STATUS_INVALID_VALUE);
        }
        if (p.length >= 0 && cap < p.length) ALLOW(must, RR_STATUS_BUFFER_TOO_SMALL);
        sb = gb_readonly_copy(seeds, (size_t)ns * 4);
        free(seeds);
        t = gb_alloc((size_t)(cap > 0 ? cap : 0) * 4, 1);
        snap = (unsigned char *)malloc(t.n + 1);
        memcpy(snap, t.data, t.n);
        st = rr_posgen_sequence(&p, (const int32_t *)(void *)sb.data, (int32_t *)(void *)t.data, cap);
        judge("rr_posgen_sequence", st, must, may);
        if (st != RR_STATUS_OK && memcmp(snap, t.data, t.n) != 0) die("rr_posgen_sequence", "wrote on error", st);
        if (st == RR_STATUS_OK && memcmp(snap + 4 * p.length, t.data + 4 * p.length, t.n - 4 * (size_t)p.length) != 0)
            die("rr_posgen_sequence", "wrote past length tokens", st);
        if (!gb_slack_intact(&t)) die("rr_posgen_sequence", "wrote outside the buffer", st);
        free(snap);
        gb_free(&sb);
        gb_free(&t);
    } else {
        int64_t count = u8(r) < 220 ? u8(r) % 4 : pick_i64(r, 8), train = pick_i64(r, 64);
        int per = u8(r) & 1, badres = u8(r) >= 250;
        int64_t total = 0;
        gb a, b, pp, res;
        unsigned char *snap_pp, snap_res[sizeof(rr_posgen_result)];
        rr_posgen_result *result;
        rr_status st;
        if (count < 0) ALLOW(must, RR_STATUS_OVERFLOW);
        if (train < 0) ALLOW(must, RR_STATUS_INVALID_VALUE);
        if (count >= 0 && p.length >= 0 && !mul_ok(count, p.length, &total)) ALLOW(must, RR_STATUS_OVERFLOW), total = -1;
        if (must == 0 && (total < 0 || total > FUZZ_MAX_ELEMS || p.length > FUZZ_MAX_ELEMS)) return;
        if (total < 0 || total > FUZZ_MAX_ELEMS) total = 1;
        a = gb_alloc((size_t)total * 4, 1);
        b = gb_alloc((size_t)total * 4, 0);
        for (int64_t i = 0; i < total; i++) {
            int32_t x = (int32_t)(u8(r) % 5), y = (int32_t)(u8(r) % 5);
            memcpy(a.data + 4 * i, &x, 4);
            memcpy(b.data + 4 * i, &y, 4);
        }
        pp = gb_alloc((size_t)(p.length > 0 && p.length <= FUZZ_MAX_ELEMS ? p.length : 1) * 8, 1);
        res = gb_alloc(sizeof(rr_posgen_result), 1);
        result = (rr_posgen_result *)(void *)res.data;
        result->struct_size = badres ? (uint32_t)pick_i64(r, 64) : sizeof *result;
        if (result->struct_size != sizeof *result) ALLOW(must, RR_STATUS_STRUCT_SIZE);
        snap_pp = (unsigned char *)malloc(pp.n);
        memcpy(snap_pp, pp.data, pp.n);
        memcpy(snap_res, res.data, res.n);
        st = rr_posgen_score(&p, (const int32_t *)(void *)a.data, (const int32_t *)(void *)b.data, count, train,
                             per ? (double *)(void *)pp.data : NULL, result);
        judge("rr_posgen_score", st, must, may);
        if (st != RR_STATUS_OK && (memcmp(snap_pp, pp.data, pp.n) != 0 || memcmp(snap_res, res.data, res.n) != 0))
            die("rr_posgen_score", "wrote on error", st);
        if (st == RR_STATUS_OK && (result->id_correct < 0 || result->id_correct > result->id_total || result->ood_correct < 0 ||
                                   result->ood_correct > result->ood_total ||
                                   result->id_total + result->ood_total != count * (p.length - seedc)))
            die("rr_posgen_score", "counts inconsistent", st);
        if (!gb_slack_intact(&pp) || !gb_slack_intact(&res) || !gb_slack_intact(&a) || !gb_slack_intact(&b))
            die("rr_posgen_score", "wrote outside the buffers", st);
        free(snap_pp);
        gb_free(&a);
        gb_free(&b);
        gb_free(&pp);
        gb_free(&res);
    }
}

/* ---- entry point ------------------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    reader r = {data, size};
    handle h = {NULL, 4, 8, 0, 0, 1.0};
    if (default_rope == NULL) {
        /* a default handle, so that every op has one even when the input never creates one;
         * handles are immutable, so one serves every input */
        rr_rope_params p;
        rr_rope_params_init(&p);
        p.rotary_dim = 8;
        if (rr_rope_create(&p, &default_rope) != RR_STATUS_OK) abort();
    }
    h.rope = default_rope;
    threads_started = 0;
    {
        uint32_t x = 2166136261u; /* FNV-1a */
        for (size_t i = 0; i < size; i++) x = (x ^ data[i]) * 16777619u;
        threads_allowed = (x >> 27) == 0;      /* 1 in 32 */
        big_allowed = ((x >> 8) & 127) == 0;   /* 1 in 128 */
    }
    for (int ops = 0; ops < 12 && r.n > 0; ops++) {
        switch (u8(&r) % 10) {
        case 0: op_create(&r, &h); break;
        case 1: op_frequencies(&r, &h); break;
        case 2: op_count(&r, &h); break;
        case 3: op_table(&r, &h); break;
        case 4: op_config(&r, &h); break;
        case 5: op_gap(&r, &h); break;
        case 6: op_posgen(&r); break;
        default: op_apply(&r, &h); break;
        }
    }
    if (h.rope != default_rope) rr_rope_free(h.rope);
    return 0;
}

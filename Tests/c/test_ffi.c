/* Calls the library the way a foreign runtime does: dlopen + dlsym + libffi's ffi_call, with
 * the argument types taken from the header's declarations (so a wrong-width parameter would show).
 * Usage: test_ffi path/to/libresonance_rope.so */
#include <resonance_rope.h>

#include <dlfcn.h>
#include <ffi.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;
#define CHECK(cond, ...)                                                          \
    do {                                                                          \
        if (cond) passed++;                                                       \
        else {                                                                    \
            failed++;                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                  \
            fprintf(stderr, __VA_ARGS__);                                         \
            fprintf(stderr, "\n");                                                \
        }                                                                         \
    } while (0)

static void *lib;

/* Calls `name` with n arguments of the given ffi types; the result is stored in *ret. */
static int call(const char *name, ffi_type *rtype, void *ret, unsigned n, ffi_type **types, void **values) {
    void *fn = dlsym(lib, name);
    ffi_cif cif;
    if (!fn) {
        fprintf(stderr, "dlsym %s: %s\n", name, dlerror());
        return 0;
    }
    if (ffi_prep_cif(&cif, FFI_DEFAULT_ABI, n, rtype, types) != FFI_OK) return 0;
    ffi_call(&cif, FFI_FN(fn), ret, values);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s LIB.so\n", argv[0]);
        return 2;
    }
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    ffi_arg r32 = 0; /* int32/uint32 results are widened to ffi_arg */

    CHECK(call("rr_version_number", &ffi_type_uint32, &r32, 0, NULL, NULL) && (uint32_t)r32 == RR_VERSION_NUMBER,
          "version %lu", (unsigned long)r32);

    const char *text = NULL;
    int32_t bad = 12345;
    ffi_type *t_i32[] = {&ffi_type_sint32};
    void *v_bad[] = {&bad};
    CHECK(call("rr_status_string", &ffi_type_pointer, &text, 1, t_i32, v_bad) && text && strcmp(text, "unknown status") == 0,
          "status string");

    rr_rope_params params;
    rr_rope_params *pp = &params;
    ffi_type *t_p[] = {&ffi_type_pointer, &ffi_type_pointer};
    void *v_init[] = {&pp};
    ffi_arg dummy;
    CHECK(call("rr_rope_params_init", &ffi_type_void, &dummy, 1, t_p, v_init), "params init");
    params.rotary_dim = 64;
    params.base = 10000;
    params.resonance = 1;
    rr_rope *rope = NULL;
    rr_rope **out = &rope;
    void *v_create[] = {&pp, &out};
    CHECK(call("rr_rope_create", &ffi_type_sint32, &r32, 2, t_p, v_create) && (int32_t)r32 == RR_STATUS_OK && rope,
          "create %d", (int)(int32_t)r32);

    double inv[32];
    double *invp = inv;
    int64_t cap = 32;
    ffi_type *t_inv[] = {&ffi_type_pointer, &ffi_type_pointer, &ffi_type_sint64};
    void *v_inv[] = {&rope, &invp, &cap};
    CHECK(call("rr_rope_inv_freq_f64", &ffi_type_sint32, &r32, 3, t_inv, v_inv) && (int32_t)r32 == RR_STATUS_OK, "inv");
    int ok = 1;
    for (int i = 0; i < 32; i++) {
        double lambda = 2 * M_PI / pow(10000.0, -2.0 * i / 64.0);
        double want = 2 * M_PI / (double)llround(lambda);
        if (fabs(inv[i] - want) > 1e-15 * want) ok = 0;
    }
    CHECK(ok, "inv_freq values through ffi");

    /* rr_rope_cos_sin_f32(rope, int32 layout, uint32 flags, const int64 *positions, int64 start,
     *                     int64 n, float *cos, float *sin): mixed widths in one call. */
    int32_t layout = RR_TABLE_LAYOUT_HALF;
    uint32_t flags = 0;
    void *nullp = NULL;
    int64_t start = -1000000000000LL, n = 3;
    float c[3 * 32], s[3 * 32];
    float *cp = c, *sp = s;
    ffi_type *t_cs[] = {&ffi_type_pointer, &ffi_type_sint32, &ffi_type_uint32, &ffi_type_pointer,
                        &ffi_type_sint64, &ffi_type_sint64, &ffi_type_pointer, &ffi_type_pointer};
    void *v_cs[] = {&rope, &layout, &flags, &nullp, &start, &n, &cp, &sp};
    CHECK(call("rr_rope_cos_sin_f32", &ffi_type_sint32, &r32, 8, t_cs, v_cs) && (int32_t)r32 == RR_STATUS_OK, "cos_sin");
    double max_err = 0;
    for (int t = 0; t < 3; t++)
        for (int i = 0; i < 32; i++) {
            long long period = llround(2 * M_PI / pow(10000.0, -2.0 * i / 64.0));
            long long r = (start + t) % period;
            if (r < 0) r += period;
            double a = 2 * M_PI * (double)r / (double)period;
            max_err = fmax(max_err, fmax(fabs(cos(a) - c[t * 32 + i]), fabs(sin(a) - s[t * 32 + i])));
        }
    CHECK(max_err < 1.2e-7, "cos/sin at negative positions through ffi: %g", max_err);

    /* A bad call returns its status and the message is readable through ffi too. */
    int64_t negative = -5;
    void *v_bad_cs[] = {&rope, &layout, &flags, &nullp, &start, &negative, &cp, &sp};
    CHECK(call("rr_rope_cos_sin_f32", &ffi_type_sint32, &r32, 8, t_cs, v_bad_cs) && (int32_t)r32 == RR_STATUS_OVERFLOW,
          "negative n: %d", (int)(int32_t)r32);
    const char *msg = NULL;
    CHECK(call("rr_last_error_message", &ffi_type_pointer, &msg, 0, NULL, NULL) && msg && strstr(msg, "rr_rope_cos_sin_f32"),
          "last error message: %s", msg ? msg : "(null)");

    void *v_free[] = {&rope};
    CHECK(call("rr_rope_free", &ffi_type_void, &dummy, 1, t_p, v_free), "free");
    dlclose(lib);
    printf("test_ffi: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

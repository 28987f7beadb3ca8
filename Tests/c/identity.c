/* Identity of two builds of the library: writes a fixed set of outputs computed through the C ABI
 * into a directory, one file per output (raw bytes), for `make test-identity` to hash with
 * sha256sum and compare between the shipped Embedded build and the SwiftPM build. The program is
 * linked against -lresonance_rope without an rpath; LD_LIBRARY_PATH picks the build, and the
 * path of the library actually loaded is printed (dladdr), so a comparison of one library with
 * itself shows.
 *
 *   identity OUTDIR [config.json ...]
 *
 * Outputs (inputs from one seeded generator, seed printed):
 *   rotations: f32, f16, bf16 x layouts NEOX, GPTJ x RoPE, Resonance x consecutive positions
 *     (start 1000), random int64 positions (full range and |m| < 2^20); q and k, 4 + 2 heads of
 *     128 (rotary 96 of head 128: pass-through dims too), 37 tokens; plus YaRN with
 *     RR_ATTENTION_FACTOR, RR_ROTATE_INVERSE and n_threads = 3;
 *   cos/sin tables: the four table layouts x RoPE, Resonance, YaRN (attention factor) x both
 *     kinds of positions;
 *   per handle: inv_freq f64/f32, wavelengths, integer wavelengths, freq factors, feature gap;
 *   handles from each config.json given and from GGUF metadata text (numbers parsed by the
 *     library: decimal, exponent and hex floats), each with a cos/sin table;
 *   PosGen tokens of the three tasks and three arithmetics.
 * Exit status 0 when every call returned RR_STATUS_OK, 1 otherwise. */
#define _GNU_SOURCE
#include <resonance_rope.h>

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED 0x5EEDC0DE2026ULL
#define TOKENS 37
#define QH 4
#define KH 2
#define HEAD 128
#define ROT 96

static const char *outdir;
static int n_outputs, n_failures;

static uint64_t rng_state = SEED;
static uint64_t next_u64(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void ok(rr_status s, const char *what) {
    if (s != RR_STATUS_OK) {
        fprintf(stderr, "identity: %s failed: %s (%s)\n", what, rr_status_string(s), rr_last_error_message());
        n_failures++;
    }
}

static void emit(const char *name, const void *bytes, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%03d_%s.bin", outdir, n_outputs, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(bytes, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "identity: cannot write %s\n", path);
        exit(2);
    }
    n_outputs++;
}

static rr_rope *make_rope(int32_t layout, int32_t resonance, int32_t scaling) {
    rr_rope_params p;
    rr_rope_params_init(&p);
    p.rotary_dim = ROT;
    p.head_dim = HEAD;
    p.layout = layout;
    p.resonance = resonance;
    p.base = 10000.0;
    if (scaling == RR_SCALING_YARN) {
        p.scaling = RR_SCALING_YARN;
        p.factor = 4.0;
        p.original_max_position = 4096;
    }
    rr_rope *rope = NULL;
    ok(rr_rope_create(&p, &rope), "rr_rope_create");
    return rope;
}

/* Half of the positions anywhere in int64, half with |m| < 2^20. */
static void random_positions(int64_t *pos, int n) {
    for (int i = 0; i < n; i++) {
        uint64_t r = next_u64();
        pos[i] = (i % 2 == 0) ? (int64_t)r : (int64_t)(r % (1u << 21)) - (1 << 20);
    }
}

/* Finite random 16-bit patterns (subnormals included): an all-ones exponent loses its top bit.
 * f16 exponent bits 0x7C00; bfloat16 0x7F80. */
static uint16_t random_16(uint16_t exponent_mask) {
    uint16_t b = (uint16_t)next_u64();
    if ((b & exponent_mask) == exponent_mask) b &= (uint16_t)~0x4000;
    return b;
}

enum { F32, F16, BF16 };
static const char *dtype_name[] = {"f32", "f16", "bf16"};

static void rotation(const rr_rope *rope, const char *name, int dtype, const int64_t *positions, uint32_t flags,
                     int32_t threads) {
    size_t nq = (size_t)TOKENS * QH * HEAD, nk = (size_t)TOKENS * KH * HEAD;
    size_t elem = dtype == F32 ? 4 : 2;
    unsigned char *buf = malloc((nq + nk) * elem);
    if (buf == NULL) exit(2);
    for (size_t i = 0; i < nq + nk; i++) {
        if (dtype == F32) {
            float v = (float)((double)(next_u64() >> 11) * 0x1p-53 * 8.0 - 4.0);
            memcpy(buf + 4 * i, &v, 4);
        } else {
            uint16_t v = random_16(dtype == F16 ? 0x7C00 : 0x7F80);
            memcpy(buf + 2 * i, &v, 2);
        }
    }
    rr_rotation r;
    rr_rotation_init(&r);
    r.flags = flags;
    r.n_tokens = TOKENS;
    r.positions = positions;
    r.start_position = 1000;
    r.q = buf;  /* token-major q [T, QH, HEAD] */
    r.q_heads = QH;
    r.q_token_stride = QH * HEAD;
    r.q_head_stride = HEAD;
    r.k = buf + nq * elem;  /* head-major k [KH, T, HEAD] */
    r.k_heads = KH;
    r.k_token_stride = HEAD;
    r.k_head_stride = TOKENS * HEAD;
    r.n_threads = threads;
    rr_status s = dtype == F32 ? rr_rope_apply_f32_inplace(rope, &r)
                : dtype == F16 ? rr_rope_apply_f16_inplace(rope, &r)
                               : rr_rope_apply_bf16_inplace(rope, &r);
    char full[256];
    snprintf(full, sizeof full, "rotate_%s_%s", dtype_name[dtype], name);
    ok(s, full);
    emit(full, buf, (nq + nk) * elem);
    free(buf);
}

static void tables(const rr_rope *rope, const char *name, const int64_t *positions, uint32_t flags) {
    static const char *layout_name[] = {"half", "hf", "vllm", "gptj"};
    for (int32_t layout = RR_TABLE_LAYOUT_HALF; layout <= RR_TABLE_LAYOUT_GPTJ; layout++) {
        size_t width = layout == RR_TABLE_LAYOUT_HALF ? ROT / 2 : ROT;
        float cs[2 * TOKENS * ROT];
        memset(cs, 0, sizeof cs);
        ok(rr_rope_cos_sin_f32(rope, layout, flags, positions, 1000, TOKENS, cs,
                               layout == RR_TABLE_LAYOUT_VLLM ? NULL : cs + TOKENS * width), "rr_rope_cos_sin_f32");
        char full[256];
        snprintf(full, sizeof full, "cos_sin_%s_%s", layout_name[layout], name);
        emit(full, cs, 2 * TOKENS * width * sizeof(float));
    }
}

static void handle_facts(const rr_rope *rope, const char *name) {
    double f64[ROT / 2], wl[ROT / 2], gaps[ROT / 2];
    float f32[ROT / 2], factors[ROT / 2];
    int64_t iwl[ROT / 2];
    rr_gap_summary summary;
    memset(&summary, 0, sizeof summary);
    summary.struct_size = sizeof summary;
    ok(rr_rope_inv_freq_f64(rope, f64, ROT / 2), "rr_rope_inv_freq_f64");
    ok(rr_rope_inv_freq_f32(rope, f32, ROT / 2), "rr_rope_inv_freq_f32");
    ok(rr_rope_wavelengths(rope, wl, ROT / 2), "rr_rope_wavelengths");
    ok(rr_rope_resonance_wavelengths(rope, iwl, ROT / 2), "rr_rope_resonance_wavelengths");
    ok(rr_rope_resonance_freq_factors(rope, factors, ROT / 2), "rr_rope_resonance_freq_factors");
    ok(rr_rope_feature_gap(rope, 256, 1024, gaps, ROT / 2, &summary), "rr_rope_feature_gap");
    char full[256];
    unsigned char all[sizeof f64 + sizeof f32 + sizeof wl + sizeof iwl + sizeof factors + sizeof gaps + sizeof summary];
    size_t at = 0;
#define PUT(x) (memcpy(all + at, &(x), sizeof(x)), at += sizeof(x))
    PUT(f64); PUT(f32); PUT(wl); PUT(iwl); PUT(factors); PUT(gaps); PUT(summary);
#undef PUT
    snprintf(full, sizeof full, "facts_%s", name);
    emit(full, all, at);
}

/* The first rotary_dim / 2 inverse frequencies and a 37-position table of a handle. */
static void parsed_handle(rr_rope *rope, const char *name) {
    rr_rope_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    ok(rr_rope_get_info(rope, &info), "rr_rope_get_info");
    size_t h = (size_t)info.pair_count;
    double *f = calloc(h, sizeof *f);
    float *cs = calloc(2 * TOKENS * h, sizeof *cs);
    if (f == NULL || cs == NULL) exit(2);
    ok(rr_rope_inv_freq_f64(rope, f, (int64_t)h), "rr_rope_inv_freq_f64");
    ok(rr_rope_cos_sin_f32(rope, RR_TABLE_LAYOUT_HALF, RR_ATTENTION_FACTOR, NULL, 4000, TOKENS, cs, cs + TOKENS * h),
       "rr_rope_cos_sin_f32");
    char full[256];
    snprintf(full, sizeof full, "parsed_%s_inv_freq", name);
    emit(full, f, h * sizeof *f);
    snprintf(full, sizeof full, "parsed_%s_cos_sin", name);
    emit(full, cs, 2 * TOKENS * h * sizeof *cs);
    free(f);
    free(cs);
}

static void from_config(const char *path) {
    FILE *fh = fopen(path, "rb");
    if (fh == NULL) { fprintf(stderr, "identity: cannot read %s\n", path); exit(2); }
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, fh);
    fclose(fh);
    text[n] = '\0';
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (int32_t resonance = 0; resonance <= 1; resonance++) {
        rr_rope *rope = NULL;
        ok(rr_rope_create_from_hf_config(text, -1, 0, resonance, &rope), base);
        if (rope == NULL) continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s_%s", (int)(strcspn(base, ".")), base, resonance ? "resonance" : "rope");
        parsed_handle(rope, name);
        rr_rope_free(rope);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: identity OUTDIR [config.json ...]\n");
        return 2;
    }
    outdir = argv[1];
    Dl_info where;
    uint32_t (*fn)(void) = rr_version_number;
    void *address;
    memcpy(&address, &fn, sizeof address);  /* ISO C has no cast from function to object pointer */
    const char *lib = dladdr(address, &where) && where.dli_fname ? where.dli_fname : "?";
    printf("identity: library %s (version %s), seed 0x%llx\n", lib, rr_version_string(), (unsigned long long)SEED);

    static const char *layout_name[] = {"neox", "gptj"};
    int64_t random_pos[TOKENS];
    random_positions(random_pos, TOKENS);
    for (int32_t layout = RR_LAYOUT_NEOX; layout <= RR_LAYOUT_GPTJ; layout++) {
        for (int32_t resonance = 0; resonance <= 1; resonance++) {
            rr_rope *rope = make_rope(layout, resonance, RR_SCALING_NONE);
            if (rope == NULL) continue;
            char name[128];
            for (int dtype = F32; dtype <= BF16; dtype++) {
                snprintf(name, sizeof name, "%s_%s_consecutive", layout_name[layout], resonance ? "resonance" : "rope");
                rotation(rope, name, dtype, NULL, 0, 1);
                snprintf(name, sizeof name, "%s_%s_random", layout_name[layout], resonance ? "resonance" : "rope");
                rotation(rope, name, dtype, random_pos, 0, 1);
            }
            snprintf(name, sizeof name, "%s_%s_random_inverse_3threads", layout_name[layout], resonance ? "resonance" : "rope");
            rotation(rope, name, F32, random_pos, RR_ROTATE_INVERSE, 3);
            snprintf(name, sizeof name, "%s_%s_consecutive", layout_name[layout], resonance ? "resonance" : "rope");
            tables(rope, name, NULL, 0);
            snprintf(name, sizeof name, "%s_%s_random", layout_name[layout], resonance ? "resonance" : "rope");
            tables(rope, name, random_pos, 0);
            snprintf(name, sizeof name, "%s_%s", layout_name[layout], resonance ? "resonance" : "rope");
            handle_facts(rope, name);
            rr_rope_free(rope);
        }
    }
    for (int32_t resonance = 0; resonance <= 1; resonance++) {  /* YaRN: attention factor != 1 */
        rr_rope *rope = make_rope(RR_LAYOUT_NEOX, resonance, RR_SCALING_YARN);
        if (rope == NULL) continue;
        const char *name = resonance ? "yarn_resonance_random_attention" : "yarn_rope_random_attention";
        for (int dtype = F32; dtype <= BF16; dtype++) rotation(rope, name, dtype, random_pos, RR_ATTENTION_FACTOR, 1);
        tables(rope, name, random_pos, RR_ATTENTION_FACTOR);
        handle_facts(rope, resonance ? "yarn_resonance" : "yarn_rope");
        rr_rope_free(rope);
    }
    for (int i = 2; i < argc; i++) from_config(argv[i]);
    {   /* GGUF metadata text: the library parses these numbers (hex float, exponent, array). */
        static const char gguf[] =
            "general.architecture = llama\n"
            "llama.rope.freq_base = 5e5\n"
            "llama.rope.dimension_count = 64\n"
            "llama.attention.key_length = 64\n"
            "llama.context_length = 32768\n"
            "llama.rope.scaling.type = yarn\n"
            "llama.rope.scaling.factor = 0x1.8p2\n"
            "llama.rope.scaling.original_context_length = 8192\n"
            "llama.rope.scaling.attn_factor = 1.0000001\n"
            "llama.rope.scaling.yarn_beta_fast = 3.2e1\n"
            "llama.rope.scaling.yarn_beta_slow = 0.99999999999999999\n";
        rr_rope *rope = NULL;
        ok(rr_rope_create_from_gguf_metadata(gguf, -1, 0, 1, -1, &rope), "rr_rope_create_from_gguf_metadata");
        if (rope != NULL) {
            parsed_handle(rope, "gguf_yarn_resonance");
            rr_rope_free(rope);
        }
    }
    for (int32_t task = RR_POSGEN_TASK_RECURRENT; task <= RR_POSGEN_TASK_SEMIRECURRENT; task++) {
        for (int32_t arith = RR_POSGEN_ARITH_MOD_ADDITION; arith <= RR_POSGEN_ARITH_POW_SIN2PI; arith++) {
            rr_posgen_params p;
            rr_posgen_params_init(&p);
            p.task = task;
            p.arith = arith;
            int32_t tokens[16 * 64];
            ok(rr_posgen_generate(&p, RR_POSGEN_SPLIT_TRAIN, 100, 16, tokens, 16 * 64), "rr_posgen_generate");
            char name[64];
            snprintf(name, sizeof name, "posgen_task%d_arith%d", (int)task, (int)arith);
            emit(name, tokens, sizeof tokens);
        }
    }
    printf("identity: %d outputs written to %s, %d failed calls\n", n_outputs, outdir, n_failures);
    return n_failures == 0 ? 0 : 1;
}

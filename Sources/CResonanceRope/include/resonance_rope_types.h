/* The public C types of resonance-rope: constants, flag bits and the parameter structs. Swift
 * cannot declare C structs, so these are the only hand-written declarations; tools/gen_header.py
 * copies this block verbatim into Include/resonance_rope.h (writing the version macros in from
 * the one place the version lives), followed by the enums of the core and the functions that
 * the Swift compiler emits from the `@c` sources. */
#ifndef RESONANCE_ROPE_TYPES_H
#define RESONANCE_ROPE_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* ---- Version ---------------------------------------------------------------------------- */
/* RR_VERSION_NUMBER = MAJOR * 10000 + MINOR * 100 + PATCH; rr_version_number() returns the
 * value the library was built with, so a program can compare header and library. */
/* RR_VERSION_* : written here by tools/gen_header.py from Sources/ResonanceRopeCore/Version.swift */

/* ---- Limits ----------------------------------------------------------------------------- */
/* Largest rotary or head dimension accepted (65536); also rr_max_dim(). */
#define RR_MAX_DIM 65536

/* ---- Flag bits -------------------------------------------------------------------------- */
/* rr_rotation.flags: rotate by minus the angle (undo a rotation). */
#define RR_ROTATE_INVERSE 1u
/* rr_rotation.flags and the flags of rr_rope_cos_sin_f32(): multiply cos and sin by the
 * handle's attention factor (YaRN's mscale, LongRoPE's factor). Without this bit the factor is
 * only reported (rr_rope_get_info), so it is applied once: by the caller or here, never twice. */
#define RR_ATTENTION_FACTOR 2u

/* ---- Handle ----------------------------------------------------------------------------- */
/* An immutable RoPE frequency table. Created by rr_rope_create(), released by rr_rope_free().
 * Every function taking `const rr_rope *` only reads it: one handle may be shared by any number
 * of threads at once. */
typedef struct rr_rope rr_rope;

/* ---- rr_rope_params: what rr_rope_create() builds ----------------------------------------- */
/* Always start from rr_rope_params_init(), which sets struct_size and every default; then set
 * the fields you need. Fields marked "scaling" are read only by the scalings that use them.
 * Added in 0.1.0. */
typedef struct rr_rope_params {
    uint32_t struct_size;          /* sizeof(rr_rope_params) as the caller compiled it */
    int32_t rotary_dim;            /* d: rotated dimensions per head, even, 2 .. RR_MAX_DIM */
    int32_t head_dim;              /* elements per head, >= rotary_dim; 0 means rotary_dim.
                                      Dimensions past rotary_dim pass through untouched. */
    int32_t layout;                /* rr_layout: RR_LAYOUT_NEOX (default) or RR_LAYOUT_GPTJ */
    int32_t resonance;             /* nonzero: Resonance RoPE, integer wavelengths */
    int32_t scaling;               /* rr_scaling, default RR_SCALING_NONE */
    double base;                   /* RoPE base ("rope_theta"), finite, > 1; default 10000 */
    double attention_factor;       /* magnitude factor for cos/sin; 0 (default) means the one the
                                      scaling prescribes (1 for none); else > 0, <= FLT_MAX */
    double factor;                 /* scaling: linear, ntk, dynamic, yarn, llama3, longrope s */
    int64_t original_max_position; /* scaling: original_max_position_embeddings; 0 = max_position */
    int64_t max_position;          /* scaling: max_position_embeddings; 0 = unknown */
    int64_t sequence_length;       /* scaling: current length (dynamic, longrope); 0 = none */
    double beta_fast;              /* scaling (yarn): default 32 */
    double beta_slow;              /* scaling (yarn): default 1 */
    double mscale;                 /* scaling (yarn): 0 (default) = not set */
    double mscale_all_dim;         /* scaling (yarn): 0 (default) = not set */
    double low_freq_factor;        /* scaling (llama3) */
    double high_freq_factor;       /* scaling (llama3) */
    int32_t truncate;              /* scaling (yarn): floor/ceil the correction range; default 1 */
    int32_t reserved0;             /* must be 0 */
    const double *short_factor;    /* scaling (longrope): rotary_dim / 2 values, copied at create */
    const double *long_factor;     /* scaling (longrope): rotary_dim / 2 values, copied at create */
    const double *freq_factors;    /* scaling (freq_factors): rotary_dim / 2 divisors, copied */
    /* The number of doubles each array above holds. 0 means rotary_dim / 2 (the meaning of
     * 0.1.0, whose callers have 0 here: these were reserved[0 .. 2]). Any other value must be
     * exactly rotary_dim / 2, else RR_STATUS_INVALID_DIMENSION before the array is read; the
     * library never reads more than the count. Give the count: it is the only way the library
     * can know an array is too short. Added after 0.1.0 (same size and offsets). */
    int64_t short_factor_count;
    int64_t long_factor_count;
    int64_t freq_factors_count;
    uint64_t reserved[5];          /* must be 0: room to grow without a _v2 */
} rr_rope_params;

/* ---- rr_rotation: one in-place rotation of q (and k) -------------------------------------- */
/* Buffers hold n_tokens tokens x n_heads heads x head_dim elements, last dimension contiguous,
 * with explicit strides in ELEMENTS (not bytes). Token t of q starts at
 *     q + t * q_token_stride + h * q_head_stride   for head h,
 * so token-major [T, H, D], head-major [H, T, D], padded rows and q/k views inside one fused qkv
 * row are all expressible. Always start from rr_rotation_init(). Added in 0.1.0. */
typedef struct rr_rotation {
    uint32_t struct_size;          /* sizeof(rr_rotation) as the caller compiled it */
    uint32_t flags;                /* RR_ROTATE_INVERSE | RR_ATTENTION_FACTOR; default 0 */
    int64_t n_tokens;              /* tokens in the buffers (and in positions), >= 0 */
    const int64_t *positions;      /* n_tokens positions (any int64: gaps, repeats, negative),
                                      or NULL: token t is at start_position + t */
    int64_t start_position;        /* used when positions == NULL */
    void *q;                       /* the query buffer (element type from the function name) */
    int64_t q_heads;               /* >= 1 */
    int64_t q_token_stride;        /* elements from token t to t + 1 */
    int64_t q_head_stride;         /* elements from head h to h + 1 */
    void *k;                       /* the key buffer, or NULL to rotate q only */
    int64_t k_heads;               /* >= 1 when k != NULL */
    int64_t k_token_stride;
    int64_t k_head_stride;
    int64_t token_begin;           /* rotate only tokens [token_begin, token_end): lets engines */
    int64_t token_end;             /* split one call over their own threads; -1 = n_tokens */
    int32_t n_threads;             /* threads used inside the call; 0 or 1 = the caller's only */
    int32_t reserved0;             /* must be 0 */
    uint64_t reserved[4];          /* must be 0 */
} rr_rotation;

/* ---- rr_rope_info: what a handle holds ----------------------------------------------------- */
typedef struct rr_rope_info {
    uint32_t struct_size;          /* set by the caller to sizeof(rr_rope_info) */
    int32_t rotary_dim;
    int32_t head_dim;
    int32_t pair_count;            /* rotary_dim / 2 */
    int32_t layout;                /* rr_layout */
    int32_t resonance;             /* 0 or 1 */
    int32_t scaling;               /* rr_scaling */
    int32_t reserved0;
    double base;
    double attention_factor;       /* the factor RR_ATTENTION_FACTOR applies */
    double correction_low;         /* YaRN correction range in pair indices; NaN when none */
    double correction_high;
    uint64_t reserved[4];
} rr_rope_info;

/* ---- rr_posgen_params: one PosGen task (Wang et al. 2024, Section 5) ----------------------- */
/* Tokens are integers mod `modulus`. A sequence starts with far + near seed tokens; each later
 * token is h(s), s = the sum of the `near` tokens just before it and `far` earlier tokens chosen
 * by the task (rr_posgen_task), h from rr_posgen_arith. Seeds are the (far + near)-element
 * combinations of {0 .. modulus - 1} in lexicographic order (Python's itertools.combinations),
 * cycled. Always start from rr_posgen_params_init() (the paper's setting). Added in 0.1.0. */
typedef struct rr_posgen_params {
    uint32_t struct_size;          /* sizeof(rr_posgen_params) as the caller compiled it */
    int32_t task;                  /* rr_posgen_task, default RR_POSGEN_TASK_RECURRENT */
    int32_t arith;                 /* rr_posgen_arith, default RR_POSGEN_ARITH_MOD_ADDITION */
    int32_t split_mode;            /* rr_posgen_split_mode, default RR_POSGEN_SPLIT_MODE_PAPER */
    int64_t modulus;               /* m, 2 .. 2^31; default 17 */
    int64_t near;                  /* k >= 1; default 3 */
    int64_t far;                   /* j >= 0; default 1 */
    int64_t length;                /* tokens per sequence, >= far + near; default 64 */
    int64_t train_size;            /* sequences per split; defaults 10000 / 1000 / 1000 */
    int64_t validation_size;
    int64_t test_size;
    uint64_t reserved[4];          /* must be 0 */
} rr_posgen_params;

/* ---- rr_posgen_result: teacher-forced token accuracy ---------------------------------------- */
typedef struct rr_posgen_result {
    uint32_t struct_size;          /* set by the caller to sizeof(rr_posgen_result) */
    int32_t reserved0;
    int64_t id_correct;            /* in-distribution: positions far + near .. train_length - 1 */
    int64_t id_total;
    int64_t ood_correct;           /* out-of-distribution: positions >= train_length */
    int64_t ood_total;
    double id_accuracy;            /* id_correct / id_total (NaN when id_total == 0) */
    double ood_accuracy;           /* ood_correct / ood_total (NaN when ood_total == 0) */
} rr_posgen_result;

/* ---- rr_gap_summary: what rr_rope_feature_gap() found --------------------------------------- */
typedef struct rr_gap_summary {
    uint32_t struct_size;          /* set by the caller to sizeof(rr_gap_summary) */
    int32_t critical_pair;         /* first pair whose wavelength (before rounding) is >= L */
    int32_t pre_critical_pairs;    /* pairs with wavelength < L */
    int32_t periodic_pairs;        /* Resonance on and lambda~_i <= L: gap exactly 0 */
    double max_gap;                /* largest gap over all pairs */
    double max_pre_critical_gap;   /* largest gap over the pre-critical pairs */
} rr_gap_summary;

#endif /* RESONANCE_ROPE_TYPES_H */

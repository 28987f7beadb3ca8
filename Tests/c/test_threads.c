/* Concurrency: many threads share one handle and rotate different buffers at once; every result
 * must be bit-identical to the single-thread run, whatever n_threads says, and the per-thread
 * last-error text must belong to the calling thread. Run plain by `make test` and under
 * ThreadSanitizer by `make check-tsan` (library built with swift build --sanitize=thread).
 *
 *   test_threads [ROUNDS]     default 200 rounds per thread
 *   test_threads race         a deliberate caller bug: two threads fill ONE cos/sin table at
 *                             once. Under ThreadSanitizer this must be reported (exit 66),
 *                             which shows that the library's own stores are instrumented.
 *
 * Limits of ThreadSanitizer here (measured with the race mode): it sees the library's scalar
 * loads and stores (the handle, its tables, the GPT-J table layout, the worker-thread
 * bookkeeping, the error text) but not the rotation kernels' 32-byte SIMD8<Float> loads and
 * stores (TSan ignores accesses wider than 16 bytes) nor row copies made by the Swift runtime
 * (UnsafeMutablePointer.update / copyMemory run in the uninstrumented libswiftCore). Two
 * threads rotating one buffer are therefore NOT reported; that is what the bit-identical checks
 * above are for.
 *
 * Built with -std=c99 -Wall -Wextra -Werror -pedantic -pthread. */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET (glibc) */
#include <resonance_rope.h>

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_THREADS 8
#define T 7   /* tokens per job */
#define QH 4  /* q heads */
#define KH 2  /* k heads */
#define D 64  /* head_dim = rotary_dim */
#define N_JOBS 6

static int rounds = 200;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static int passed, failed;

static void check(int ok, const char *what, int thread) {
    pthread_mutex_lock(&count_lock);
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL thread %d: %s\n", thread, what);
    }
    pthread_mutex_unlock(&count_lock);
}

/* One rotation job: its own positions, layout of q/k, flags; input and single-thread output. */
typedef struct {
    int64_t positions[T];
    uint32_t flags;
    int head_major;
    float input[T * (QH + KH) * D];
    float expected[T * (QH + KH) * D];
    float cos_expected[T * D], sin_expected[T * D];
} job;

static rr_rope *shared[2]; /* Resonance off and on */
static double gap_expected[2][D / 2];
static int32_t posgen_expected[4 * 32];
static double hf_expected[2][32];
/* 16-bit formats: the same job's input as half / bfloat16 bits, and the single-thread result */
static uint16_t h16_input[2][T * (QH + KH) * D], h16_expected[2][2][T * (QH + KH) * D];
static const char HF[] = "{\"hidden_size\": 512, \"num_attention_heads\": 8, \"rope_theta\": 500000.0}";
static pthread_barrier_t start_together;
static job jobs[2][N_JOBS];

static void setup_rotation(rr_rotation *rot, const job *j, float *buf, int n_threads) {
    rr_rotation_init(rot);
    rot->n_tokens = T;
    rot->positions = j->positions;
    rot->flags = j->flags;
    rot->q = buf;
    rot->q_heads = QH;
    rot->k = buf + T * QH * D;
    rot->k_heads = KH;
    if (j->head_major) { /* [H, T, D] */
        rot->q_token_stride = D;
        rot->q_head_stride = T * D;
        rot->k_token_stride = D;
        rot->k_head_stride = T * D;
    } else { /* [T, H, D] */
        rot->q_token_stride = QH * D;
        rot->q_head_stride = D;
        rot->k_token_stride = KH * D;
        rot->k_head_stride = D;
    }
    rot->n_threads = n_threads;
}

static rr_posgen_params posgen_params(void) {
    rr_posgen_params p;
    rr_posgen_params_init(&p);
    p.length = 32;
    p.task = RR_POSGEN_TASK_SEMIRECURRENT;
    return p;
}

/* The shared handles' parameters: YaRN x4 over 4096, Resonance on or off. */
static rr_rope_params yarn_params(int res) {
    rr_rope_params p;
    rr_rope_params_init(&p);
    p.rotary_dim = D;
    p.resonance = res;
    p.scaling = RR_SCALING_YARN;
    p.factor = 4;
    p.original_max_position = 4096;
    return p;
}

static void make_jobs(void) {
    {
        rr_posgen_params p = posgen_params();
        if (rr_posgen_generate(&p, RR_POSGEN_SPLIT_TEST, 10, 4, posgen_expected, 4 * 32) != RR_STATUS_OK) exit(2);
    }
    for (int res = 0; res < 2; res++) {
        rr_rope_params p = yarn_params(res);
        if (rr_rope_create(&p, &shared[res]) != RR_STATUS_OK) {
            fprintf(stderr, "create: %s\n", rr_last_error_message());
            exit(2);
        }
        if (rr_rope_feature_gap(shared[res], 64, 256, gap_expected[res], D / 2, NULL) != RR_STATUS_OK) exit(2);
        for (int e = 0; e < T * (QH + KH) * D; e++) h16_input[res][e] = (uint16_t)(0x3000 + (e * 7919) % 0x1000);
        for (int f = 0; f < 2; f++) {
            rr_rotation rot;
            memcpy(h16_expected[res][f], h16_input[res], sizeof h16_input[res]);
            rr_rotation_init(&rot);
            rot.n_tokens = T;
            rot.start_position = 1000 * res + 17;
            rot.q = h16_expected[res][f];
            rot.q_heads = QH + KH;
            rot.q_token_stride = (QH + KH) * D;
            rot.q_head_stride = D;
            if ((f ? rr_rope_apply_bf16_inplace : rr_rope_apply_f16_inplace)(shared[res], &rot) != RR_STATUS_OK) exit(2);
        }
        {
            rr_rope *h = NULL;
            if (rr_rope_create_from_hf_config(HF, -1, 0, res, &h) != RR_STATUS_OK ||
                rr_rope_inv_freq_f64(h, hf_expected[res], 32) != RR_STATUS_OK)
                exit(2);
            rr_rope_free(h);
        }
        for (int i = 0; i < N_JOBS; i++) {
            job *j = &jobs[res][i];
            rr_rotation rot;
            uint64_t x = 0x9E3779B97F4A7C15u * (uint64_t)(i + 1 + 100 * res);
            for (int t = 0; t < T; t++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                j->positions[t] = i == 0 ? (int64_t)t : (int64_t)(x >> (i * 9 % 40)) - (int64_t)(x >> 60) * 1000;
            }
            if (i == 5) j->positions[0] = INT64_MAX, j->positions[1] = INT64_MIN;
            j->flags = (uint32_t)(i % 4);
            j->head_major = i % 2;
            for (int e = 0; e < T * (QH + KH) * D; e++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                j->input[e] = (float)(int64_t)(x % 2001) / 1000.0f - 1.0f;
            }
            memcpy(j->expected, j->input, sizeof j->input);
            setup_rotation(&rot, j, j->expected, 0);
            if (rr_rope_apply_f32_inplace(shared[res], &rot) != RR_STATUS_OK ||
                rr_rope_cos_sin_f32(shared[res], RR_TABLE_LAYOUT_HF, j->flags & RR_ATTENTION_FACTOR, j->positions, 0, T,
                                    j->cos_expected, j->sin_expected) != RR_STATUS_OK) {
                fprintf(stderr, "reference: %s\n", rr_last_error_message());
                exit(2);
            }
        }
    }
}

typedef struct { int id; } worker_arg;

static void *worker(void *arg) {
    int id = ((worker_arg *)arg)->id;
    static const int thread_counts[] = {0, 1, 2, 3, 8, 64};
    float buf[T * (QH + KH) * D], c[T * D], s[T * D];
    double inv[2][D / 2];
    char want[64];
    int ok_rot = 1, ok_tab = 1, ok_msg = 1, ok_misc = 1;
    pthread_barrier_wait(&start_together); /* all workers call the library at the same time */
    /* a new thread has no error yet */
    check(rr_last_error_message() != NULL && rr_last_error_message()[0] == '\0', "fresh thread has an empty message", id);
    for (int res = 0; res < 2; res++)
        if (rr_rope_inv_freq_f64(shared[res], inv[res], D / 2) != RR_STATUS_OK) ok_misc = 0;
    for (int round = 0; round < rounds; round++) {
        int res = (round + id) % 2, ji = (round * 7 + id * 3) % N_JOBS;
        const job *j = &jobs[res][ji];
        rr_rotation rot;
        /* the rotation, with a thread-count hint that must not matter */
        memcpy(buf, j->input, sizeof buf);
        setup_rotation(&rot, j, buf, thread_counts[(round + id) % 6]);
        if (round % 3 == 2) { /* split into two token ranges, as an engine would */
            rot.token_end = 3;
            if (rr_rope_apply_f32_inplace(shared[res], &rot) != RR_STATUS_OK) ok_rot = 0;
            rot.token_begin = 3;
            rot.token_end = -1;
        }
        if (rr_rope_apply_f32_inplace(shared[res], &rot) != RR_STATUS_OK) ok_rot = 0;
        if (memcmp(buf, j->expected, sizeof buf) != 0) ok_rot = 0;
        /* tables */
        if (rr_rope_cos_sin_f32(shared[res], RR_TABLE_LAYOUT_HF, j->flags & RR_ATTENTION_FACTOR, j->positions, 0, T, c, s) !=
                RR_STATUS_OK ||
            memcmp(c, j->cos_expected, sizeof c) != 0 || memcmp(s, j->sin_expected, sizeof s) != 0)
            ok_tab = 0;
        /* per-thread error text: this thread's own failure, with its own capacity in it */
        {
            double small[1];
            int64_t cap = -(int64_t)(id * 1000 + round);
            rr_status st = rr_rope_inv_freq_f64(shared[res], small, cap);
            snprintf(want, sizeof want, "capacity = %lld:", (long long)cap);
            if (st != RR_STATUS_BUFFER_TOO_SMALL || strstr(rr_last_error_message(), want) == NULL) ok_msg = 0;
            /* a later successful call leaves the text alone */
            if (rr_rope_count_pairs(shared[res], 4096, NULL, NULL) != RR_STATUS_OK ||
                strstr(rr_last_error_message(), want) == NULL)
                ok_msg = 0;
        }
        /* handles created and freed by every thread while others use the shared ones */
        {
            rr_rope_params p = yarn_params(res);
            rr_rope *mine = NULL;
            double v[D / 2];
            rr_rope_info info;
            info.struct_size = sizeof info;
            if (rr_rope_create(&p, &mine) != RR_STATUS_OK || rr_rope_inv_freq_f64(mine, v, D / 2) != RR_STATUS_OK ||
                memcmp(v, inv[res], sizeof v) != 0 || rr_rope_get_info(shared[res], &info) != RR_STATUS_OK ||
                info.resonance != res)
                ok_misc = 0;
            rr_rope_free(mine);
        }
    }
    /* the other entry points, concurrently: feature gaps, PosGen, handles from config text */
    {
        int ok_other = 1;
        for (int round = 0; round < rounds / 20 + 1; round++) {
            int res = (round + id) % 2;
            double gaps[D / 2];
            int32_t tokens[4 * 32];
            rr_posgen_params p = posgen_params();
            rr_rope *mine = NULL;
            double v[32];
            if (rr_rope_feature_gap(shared[res], 64, 256, gaps, D / 2, NULL) != RR_STATUS_OK ||
                memcmp(gaps, gap_expected[res], sizeof gaps) != 0)
                ok_other = 0;
            if (rr_posgen_generate(&p, RR_POSGEN_SPLIT_TEST, 10, 4, tokens, 4 * 32) != RR_STATUS_OK ||
                memcmp(tokens, posgen_expected, sizeof tokens) != 0)
                ok_other = 0;
            if (rr_rope_create_from_hf_config(HF, -1, 0, res, &mine) != RR_STATUS_OK || rr_rope_inv_freq_f64(mine, v, 32) != RR_STATUS_OK ||
                memcmp(v, hf_expected[res], sizeof v) != 0)
                ok_other = 0;
            rr_rope_free(mine);
        }
        check(ok_other, "feature gaps, PosGen and config handles bit-identical across threads", id);
    }
    /* f16 and bf16 rotations, with internal threads (n_threads > 1) while other threads run */
    {
        int ok16 = 1;
        static const int counts16[] = {0, 2, 5, 300};
        for (int round = 0; round < rounds / 10 + 1; round++) {
            int res = (round + id) % 2, f = round % 2;
            uint16_t buf16[T * (QH + KH) * D];
            rr_rotation rot;
            memcpy(buf16, h16_input[res], sizeof buf16);
            rr_rotation_init(&rot);
            rot.n_tokens = T;
            rot.start_position = 1000 * res + 17;
            rot.q = buf16;
            rot.q_heads = QH + KH;
            rot.q_token_stride = (QH + KH) * D;
            rot.q_head_stride = D;
            rot.n_threads = counts16[(round + id) % 4];
            if ((f ? rr_rope_apply_bf16_inplace : rr_rope_apply_f16_inplace)(shared[res], &rot) != RR_STATUS_OK ||
                memcmp(buf16, h16_expected[res][f], sizeof buf16) != 0)
                ok16 = 0;
        }
        check(ok16, "f16 / bf16 rotations bit-identical whatever n_threads", id);
    }
    check(ok_rot, "rotations bit-identical to the single-thread run", id);
    check(ok_tab, "tables bit-identical to the single-thread run", id);
    check(ok_msg, "rr_last_error_message() is the calling thread's", id);
    check(ok_misc, "private handles equal the shared one", id);
    return NULL;
}

static float race_cos[32 * 8], race_sin[32 * 8];
static pthread_barrier_t race_start;
static rr_rope *race_rope;

static void *racer(void *arg) {
    (void)arg;
    pthread_barrier_wait(&race_start); /* both threads write the table at the same time */
    for (int i = 0; i < 300; i++)
        if (rr_rope_cos_sin_f32(race_rope, RR_TABLE_LAYOUT_GPTJ, 0, NULL, 0, 32, race_cos, race_sin) != RR_STATUS_OK) abort();
    return NULL;
}

/* Job 3 of the Resonance handle on the calling thread, n_threads as given: the expected bits? */
static int shared_job_matches(int n_threads) {
    float buf[T * (QH + KH) * D];
    rr_rotation rot;
    memcpy(buf, jobs[1][3].input, sizeof buf);
    setup_rotation(&rot, &jobs[1][3], buf, n_threads);
    return rr_rope_apply_f32_inplace(shared[1], &rot) == RR_STATUS_OK && memcmp(buf, jobs[1][3].expected, sizeof buf) == 0;
}

int main(int argc, char **argv) {
    pthread_t threads[N_THREADS];
    worker_arg args[N_THREADS];
    if (argc > 1 && strcmp(argv[1], "race") == 0) {
        rr_rope_params p;
        rr_rope_params_init(&p);
        p.rotary_dim = 8;
        if (rr_rope_create(&p, &race_rope) != RR_STATUS_OK) return 2;
        pthread_barrier_init(&race_start, NULL, 2);
        pthread_create(&threads[0], NULL, racer, NULL);
        pthread_create(&threads[1], NULL, racer, NULL);
        pthread_join(threads[0], NULL);
        pthread_join(threads[1], NULL);
        printf("test_threads race: finished without a report\n");
        return 0;
    }
    if (argc > 1) rounds = atoi(argv[1]);
    make_jobs();
    pthread_barrier_init(&start_together, NULL, N_THREADS);
    for (int i = 0; i < N_THREADS; i++) {
        args[i].id = i;
        if (pthread_create(&threads[i], NULL, worker, &args[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 2;
        }
    }
    for (int i = 0; i < N_THREADS; i++) pthread_join(threads[i], NULL);
    /* the main thread's handles were used by all: still intact, then freed once */
    check(shared_job_matches(0), "shared handle intact after the threads", -1);
    /* The library places its workers off the caller's CPU when the process may use others; with
     * the caller restricted to its own CPU that is impossible, and the workers must still be
     * created (plainly) and give the same bits. */
    {
        cpu_set_t before, one;
        int here = sched_getcpu();
        if (here >= 0 && sched_getaffinity(0, sizeof before, &before) == 0) {
            CPU_ZERO(&one);
            CPU_SET(here, &one);
            if (sched_setaffinity(0, sizeof one, &one) == 0) {
                check(shared_job_matches(3), "3 threads with the caller pinned to one CPU: bit-identical", -1);
                check(sched_setaffinity(0, sizeof before, &before) == 0, "affinity restored", -1);
            }
        }
    }
    rr_rope_free(shared[0]);
    rr_rope_free(shared[1]);
    printf("test_threads: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

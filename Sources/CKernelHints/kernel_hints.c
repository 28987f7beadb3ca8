/* The thread's anchor cache and the cache keys (include/kernel_hints.h); everything else of the
 * target is static inline in the header. */
#include "kernel_hints.h"

static _Thread_local rr_anchor_cache rr_anchor_cache_of_thread; /* zero: key 0, no entry */
static uint64_t rr_last_cache_key;

rr_anchor_cache *rr_thread_anchor_cache(void) { return &rr_anchor_cache_of_thread; }

uint64_t rr_new_cache_key(void) { return __atomic_add_fetch(&rr_last_cache_key, 1, __ATOMIC_RELAXED); }

/* The learned row prefetch (include/kernel_hints.h). verdict: 0 undecided, else 1 + the arm
 * (0 none, 1 near, 2 far); busy: a thread holds the samples. The samples are touched only by the
 * holder of busy (taken with acquire, released with release), so they need no atomics. */
#include <time.h>

typedef struct {
  int verdict;
  int busy;
  int trial;                                                    /* the arm of the trial under way (read by all) */
  int count[RR_ROW_PREFETCH_ARMS];                              /* samples per arm */
  unsigned long since;                                          /* batches run since the verdict (relaxed atomic) */
  double cost[RR_ROW_PREFETCH_ARMS][RR_ROW_PREFETCH_SAMPLES];  /* ns per byte */
} rr_row_prefetch_learner;

static rr_row_prefetch_learner rr_learners[RR_ROW_PREFETCH_SLOTS];

uint64_t rr_monotonic_ns(void) {
  struct timespec t;
  if (clock_gettime(CLOCK_MONOTONIC, &t) != 0) return 0;
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static double rr_median(const double *x, int n) { /* n <= RR_ROW_PREFETCH_SAMPLES: insertion sort of a copy */
  double v[RR_ROW_PREFETCH_SAMPLES];
  for (int i = 0; i < n; i++) {
    int j = i;
    while (j > 0 && v[j - 1] > x[i]) { v[j] = v[j - 1]; j--; }
    v[j] = x[i];
  }
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int rr_row_prefetch_decide(const double *with_prefetch, const double *without, int n) {
  if (n < 1 || n > RR_ROW_PREFETCH_SAMPLES) return 0;
  return rr_median(with_prefetch, n) < RR_ROW_PREFETCH_GAIN * rr_median(without, n);
}

int rr_row_prefetch_pick(const double *none, const double *near, const double *far, int n) {
  if (n < 1 || n > RR_ROW_PREFETCH_SAMPLES) return 0;
  /* The far distance only where it beats the near one by the same margin: where the two are
   * close (float32 here: far 2-7 % slower), noise would otherwise pick either. */
  const int best = rr_median(far, n) < RR_ROW_PREFETCH_GAIN * rr_median(near, n) ? 2 : 1;
  return rr_row_prefetch_decide(best == 2 ? far : near, none, n) ? best : 0;
}

static void rr_learner_reset(rr_row_prefetch_learner *l) { /* the holder of busy */
  for (int a = 0; a < RR_ROW_PREFETCH_ARMS; a++) l->count[a] = 0;
  __atomic_store_n(&l->trial, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&l->verdict, 0, __ATOMIC_RELEASE);
}

int rr_row_prefetch_choose(int slot, int learn, int *trial_arm) {
  if (slot < 0 || slot >= RR_ROW_PREFETCH_SLOTS) return 0;
  rr_row_prefetch_learner *l = &rr_learners[slot];
  int v = __atomic_load_n(&l->verdict, __ATOMIC_ACQUIRE);
  if (v != 0) {
    /* Every RR_ROW_PREFETCH_RECHECK batches the verdict is learned again: the batch that reaches
     * the count forgets it (when no other thread holds the slot) and runs as decided. */
    if (__atomic_add_fetch(&l->since, 1, __ATOMIC_RELAXED) % RR_ROW_PREFETCH_RECHECK == 0 &&
        !__atomic_exchange_n(&l->busy, 1, __ATOMIC_ACQUIRE)) {
      rr_learner_reset(l);
      __atomic_store_n(&l->busy, 0, __ATOMIC_RELEASE);
    }
    return v - 1;
  }
  /* Threads that do not time a batch run it as the trial under way runs, so that a multi-thread
   * call's trial measures all its threads with the same arm: timed with only the learner
   * prefetching, its share of the bandwidth grew while the call as a whole got slower. */
  if (!learn || __atomic_exchange_n(&l->busy, 1, __ATOMIC_ACQUIRE)) return __atomic_load_n(&l->trial, __ATOMIC_RELAXED);
  v = __atomic_load_n(&l->verdict, __ATOMIC_ACQUIRE);
  if (v != 0) { /* decided while we took the flag */
    __atomic_store_n(&l->busy, 0, __ATOMIC_RELEASE);
    return v - 1;
  }
  int arm = 0; /* the arm with the fewest samples, in turn: none, near, far, none, ... */
  for (int a = 1; a < RR_ROW_PREFETCH_ARMS; a++) if (l->count[a] < l->count[arm]) arm = a;
  *trial_arm = arm;
  __atomic_store_n(&l->trial, arm, __ATOMIC_RELAXED);
  return -1;
}

void rr_row_prefetch_report(int slot, int trial_arm, uint64_t nanoseconds, uint64_t bytes) {
  if (slot < 0 || slot >= RR_ROW_PREFETCH_SLOTS) return;
  rr_row_prefetch_learner *l = &rr_learners[slot];
  const int m = trial_arm >= 0 && trial_arm < RR_ROW_PREFETCH_ARMS ? trial_arm : 0;
  if (nanoseconds > 0 && bytes > 0 && l->count[m] < RR_ROW_PREFETCH_SAMPLES)
    l->cost[m][l->count[m]++] = (double)nanoseconds / (double)bytes;
  int full = 1;
  for (int a = 0; a < RR_ROW_PREFETCH_ARMS; a++) full &= l->count[a] == RR_ROW_PREFETCH_SAMPLES;
  if (full) {
    const int v = 1 + rr_row_prefetch_pick(l->cost[0], l->cost[1], l->cost[2], RR_ROW_PREFETCH_SAMPLES);
    __atomic_store_n(&l->since, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&l->verdict, v, __ATOMIC_RELEASE);
  }
  __atomic_store_n(&l->busy, 0, __ATOMIC_RELEASE);
}

int rr_row_prefetch_verdict(int slot) {
  if (slot < 0 || slot >= RR_ROW_PREFETCH_SLOTS) return -1;
  const int v = __atomic_load_n(&rr_learners[slot].verdict, __ATOMIC_ACQUIRE);
  return v - 1;
}

void rr_row_prefetch_forget(void) { /* tests only: no rotation may run meanwhile */
  for (int s = 0; s < RR_ROW_PREFETCH_SLOTS; s++) {
    rr_row_prefetch_learner *l = &rr_learners[s];
    while (__atomic_exchange_n(&l->busy, 1, __ATOMIC_ACQUIRE)) {}
    rr_learner_reset(l);
    __atomic_store_n(&l->busy, 0, __ATOMIC_RELEASE);
  }
}

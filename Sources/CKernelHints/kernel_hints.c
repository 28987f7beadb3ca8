/* The thread's anchor cache and the cache keys (include/kernel_hints.h); everything else of the
 * target is static inline in the header. */
#include "kernel_hints.h"

static _Thread_local rr_anchor_cache rr_anchor_cache_of_thread; /* zero: key 0, no entry */
static uint64_t rr_last_cache_key;

rr_anchor_cache *rr_thread_anchor_cache(void) { return &rr_anchor_cache_of_thread; }

uint64_t rr_new_cache_key(void) { return __atomic_add_fetch(&rr_last_cache_key, 1, __ATOMIC_RELAXED); }

/* The learned row prefetch (include/kernel_hints.h). verdict: 0 undecided, 1 prefetch, 2 not;
 * busy: a thread holds the samples. The samples are touched only by the holder of busy (taken
 * with acquire, released with release), so they need no atomics. */
#include <time.h>

typedef struct {
  int verdict;
  int busy;
  int trial;                               /* the mode of the trial under way (read by all) */
  int count[2];                            /* [0] without, [1] with the prefetch */
  unsigned long since;                     /* batches run since the verdict (relaxed atomic) */
  double cost[2][RR_ROW_PREFETCH_SAMPLES]; /* ns per byte */
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

int rr_row_prefetch_choose(int slot, int learn, int *trial_prefetch) {
  if (slot < 0 || slot >= RR_ROW_PREFETCH_SLOTS) return 0;
  rr_row_prefetch_learner *l = &rr_learners[slot];
  int v = __atomic_load_n(&l->verdict, __ATOMIC_ACQUIRE);
  if (v != 0) {
    /* Every RR_ROW_PREFETCH_RECHECK batches the verdict is learned again: the batch that reaches
     * the count forgets it (when no other thread holds the slot) and runs as decided. */
    if (__atomic_add_fetch(&l->since, 1, __ATOMIC_RELAXED) % RR_ROW_PREFETCH_RECHECK == 0 &&
        !__atomic_exchange_n(&l->busy, 1, __ATOMIC_ACQUIRE)) {
      l->count[0] = l->count[1] = 0;
      __atomic_store_n(&l->trial, 0, __ATOMIC_RELAXED);
      __atomic_store_n(&l->verdict, 0, __ATOMIC_RELEASE);
      __atomic_store_n(&l->busy, 0, __ATOMIC_RELEASE);
    }
    return v == 1;
  }
  /* Threads that do not time a batch run it as the trial under way runs, so that a multi-thread
   * call's trial measures all its threads with (or without) the prefetch: timed with only the
   * learner prefetching, its share of the bandwidth grew while the call as a whole got slower. */
  if (!learn || __atomic_exchange_n(&l->busy, 1, __ATOMIC_ACQUIRE)) return __atomic_load_n(&l->trial, __ATOMIC_RELAXED);
  if (__atomic_load_n(&l->verdict, __ATOMIC_ACQUIRE) != 0) { /* decided while we took the flag */
    __atomic_store_n(&l->busy, 0, __ATOMIC_RELEASE);
    return __atomic_load_n(&l->verdict, __ATOMIC_ACQUIRE) == 1;
  }
  *trial_prefetch = l->count[1] < l->count[0]; /* alternate, without first */
  __atomic_store_n(&l->trial, *trial_prefetch, __ATOMIC_RELAXED);
  return -1;
}

void rr_row_prefetch_report(int slot, int trial_prefetch, uint64_t nanoseconds, uint64_t bytes) {
  if (slot < 0 || slot >= RR_ROW_PREFETCH_SLOTS) return;
  rr_row_prefetch_learner *l = &rr_learners[slot];
  int m = trial_prefetch ? 1 : 0;
  if (nanoseconds > 0 && bytes > 0 && l->count[m] < RR_ROW_PREFETCH_SAMPLES)
    l->cost[m][l->count[m]++] = (double)nanoseconds / (double)bytes;
  if (l->count[0] == RR_ROW_PREFETCH_SAMPLES && l->count[1] == RR_ROW_PREFETCH_SAMPLES) {
    int v = rr_row_prefetch_decide(l->cost[1], l->cost[0], RR_ROW_PREFETCH_SAMPLES) ? 1 : 2;
    __atomic_store_n(&l->since, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&l->verdict, v, __ATOMIC_RELEASE);
  }
  __atomic_store_n(&l->busy, 0, __ATOMIC_RELEASE);
}

int rr_row_prefetch_verdict(int slot) {
  if (slot < 0 || slot >= RR_ROW_PREFETCH_SLOTS) return -1;
  int v = __atomic_load_n(&rr_learners[slot].verdict, __ATOMIC_ACQUIRE);
  return v == 0 ? -1 : v == 1;
}

void rr_row_prefetch_forget(void) { /* tests only: no rotation may run meanwhile */
  for (int s = 0; s < RR_ROW_PREFETCH_SLOTS; s++) {
    rr_row_prefetch_learner *l = &rr_learners[s];
    while (__atomic_exchange_n(&l->busy, 1, __ATOMIC_ACQUIRE)) {}
    l->count[0] = l->count[1] = 0;
    __atomic_store_n(&l->trial, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&l->verdict, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&l->busy, 0, __ATOMIC_RELEASE);
  }
}

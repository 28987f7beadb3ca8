/* The thread's anchor cache and the cache keys (include/kernel_hints.h); everything else of the
 * target is static inline in the header. */
#include "kernel_hints.h"

static _Thread_local rr_anchor_cache rr_anchor_cache_of_thread; /* zero: key 0, no entry */
static uint64_t rr_last_cache_key;

rr_anchor_cache *rr_thread_anchor_cache(void) { return &rr_anchor_cache_of_thread; }

uint64_t rr_new_cache_key(void) { return __atomic_add_fetch(&rr_last_cache_key, 1, __ATOMIC_RELAXED); }

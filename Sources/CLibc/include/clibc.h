/* The C library as ResonanceRopeCore sees it: libm (sin, cos, pow, log, ...), malloc/free,
 * memcpy, mmap, POSIX threads. One clang module over the system headers instead of `import Glibc`,
 * because Glibc is a Swift overlay that Embedded Swift does not have: the SwiftPM build and the
 * Embedded build (Makefile, `make embedded`) import the same declarations from here. */
#ifndef RESONANCE_ROPE_CLIBC_H
#define RESONANCE_ROPE_CLIBC_H

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h> /* mmap: Memory.swift's requireMemory */
#include <stdint.h>

/* Atomically adds v to *p and returns the value before (sequentially consistent): the shared
 * work counter of Threads.swift's parallelChunks. Static inline: no symbol reaches the library. */
static inline __attribute__((always_inline)) int64_t rr_fetch_add(int64_t *p, int64_t v) {
  return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}

/* pthread_create for parallelChunks' workers, placed off the calling thread's CPU where the C
 * library lets us say so (glibc: the new thread's affinity is the caller's allowed CPUs minus the
 * one the caller runs on, when there are others; the caller keeps its own share there). Measured
 * on an AMD EPYC VM with 2 vCPUs: created without it after 20 ms of idling, the worker often
 * started 1-5 ms late on the caller's own busy CPU, so a 2-thread prefill took 1-thread time.
 * Otherwise (other C libraries, one allowed CPU, a refused affinity) a plain pthread_create.
 * Returns pthread_create's result. Hidden: not part of the library's interface. */
__attribute__((visibility("hidden"))) int rr_thread_create(pthread_t *thread, void *(*start)(void *), void *arg);

/* Calls fn(context, scratch) with RR_STACK_SCRATCH_BYTES bytes of uninitialized, 64-byte aligned
 * memory on the calling thread's stack: the kernels' scratch for calls that need no more (a
 * decode call: 2.6 KiB at d = 128), instead of an aligned_alloc and free per call (measured on
 * an AMD EPYC Zen 3 VM, perf: malloc, free and glibc's malloc_consolidate were 9 % of a 1-token
 * GPT-J decode call). 8 KiB, so that a caller's thread with a small stack (64 KiB) keeps room.
 * Hidden: not part of the library's interface. */
#define RR_STACK_SCRATCH_BYTES 8192
__attribute__((visibility("hidden"))) void rr_with_stack_scratch(void (*fn)(void *context, void *scratch), void *context);

#endif

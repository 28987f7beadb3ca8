/* Hints for the rotation kernels of ResonanceRopeCore that Swift cannot spell: a software
 * prefetch. Static inline, so Swift inlines it and no symbol reaches the library; a prefetch
 * never faults, whatever the address. */
#ifndef RESONANCE_ROPE_KERNEL_HINTS_H
#define RESONANCE_ROPE_KERNEL_HINTS_H

/* Ask for the cache line holding p, to be written soon (prefetchw where the CPU has it,
 * prefetcht0 on baseline x86-64). */
static inline __attribute__((always_inline)) void rr_prefetch_for_write(const void *p) {
  __builtin_prefetch(p, 1, 3);
}

#endif

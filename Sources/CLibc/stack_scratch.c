/* See include/clibc.h (rr_with_stack_scratch). */
#include "clibc.h"

void rr_with_stack_scratch(void (*fn)(void *context, void *scratch), void *context) {
    /* Not initialized, like the aligned_alloc it replaces (the kernels never store a value
     * derived from a scratch byte they did not write). */
    _Alignas(64) unsigned char scratch[RR_STACK_SCRATCH_BYTES];
    fn(context, scratch);
    /* Keeps the buffer alive until fn has returned (no tail call into fn with a dead frame). */
    __asm__ volatile("" : : "r"(scratch) : "memory");
}

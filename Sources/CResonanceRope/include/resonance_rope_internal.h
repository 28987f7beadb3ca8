/* Internal helpers of the C ABI layer (not part of the public header; not exported). */
#ifndef RESONANCE_ROPE_INTERNAL_H
#define RESONANCE_ROPE_INTERNAL_H
#include <stddef.h>
/* Thread-local last-error message: copied (truncated to 511 bytes) into a per-thread buffer. */
void rrc_set_last_error(const char *message, size_t length);
const char *rrc_last_error(void);
#endif

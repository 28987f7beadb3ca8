/* Thread-local error text and compile-time checks of the public struct layouts. */
#include "resonance_rope_types.h"
#include "resonance_rope_internal.h"
#include <string.h>

static _Thread_local char last_error[512];

void rrc_set_last_error(const char *message, size_t length) {
    if (length > sizeof last_error - 1) length = sizeof last_error - 1;
    if (message != NULL && length > 0) memcpy(last_error, message, length);
    last_error[message != NULL ? length : 0] = '\0';
}

const char *rrc_last_error(void) { return last_error; }

/* The ABI promise: these sizes and offsets never change (fields are only appended). */
_Static_assert(sizeof(rr_rope_params) == 216, "rr_rope_params size");
_Static_assert(offsetof(rr_rope_params, base) == 24, "rr_rope_params.base");
_Static_assert(offsetof(rr_rope_params, short_factor) == 128, "rr_rope_params.short_factor");
_Static_assert(sizeof(rr_rotation) == 152, "rr_rotation size");
_Static_assert(offsetof(rr_rotation, token_begin) == 96, "rr_rotation.token_begin");
_Static_assert(sizeof(rr_rope_info) == 96, "rr_rope_info size");
_Static_assert(sizeof(rr_posgen_params) == 104, "rr_posgen_params size");
_Static_assert(sizeof(rr_posgen_result) == 56, "rr_posgen_result size");
_Static_assert(sizeof(rr_gap_summary) == 32, "rr_gap_summary size");

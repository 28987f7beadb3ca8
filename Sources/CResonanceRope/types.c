/* Thread-local error text. (The public structs' layouts are asserted by Tests/c/rr_layout_asserts.h,
 * which tools/gen_header.py generates.) */
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

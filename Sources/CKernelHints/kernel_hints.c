/* The target's only declarations are the static inline functions of include/kernel_hints.h;
 * SwiftPM needs one source file per C target. */
#include "kernel_hints.h"
typedef int rr_kernel_hints_translation_unit_is_not_empty;

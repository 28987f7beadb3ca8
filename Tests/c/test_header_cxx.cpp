// The header compiles as C++ (-std=c++11 -Wall -Wextra -Werror -pedantic), links, and its
// structs have the layout the ABI promises.
#include <resonance_rope.h>

#include <cstddef>
#include <cstdio>

// Every struct's size and every field's offset and size (generated, committed; see
// tools/gen_layout_asserts.py), the same file Tests/c/test_layout.c checks in C11.
#define RR_LAYOUT_ASSERT(cond, msg) static_assert(cond, msg)
#include "rr_layout_asserts.h"
static_assert(sizeof(rr_status) == 4 && sizeof(rr_layout) == 4, "enums are int32_t");

int main() {
    rr_rope_params p;
    rr_rope_params_init(&p);
    p.rotary_dim = 64;
    rr_rope *r = nullptr;
    if (rr_rope_create(&p, &r) != RR_STATUS_OK) return 1;
    float inv[32];
    rr_status s = rr_rope_inv_freq_f32(r, inv, 32);
    rr_rope_free(r);
    std::printf("test_header_cxx: %d passed, %d failed\n", s == RR_STATUS_OK ? 1 : 0, s == RR_STATUS_OK ? 0 : 1);
    return s == RR_STATUS_OK ? 0 : 1;
}

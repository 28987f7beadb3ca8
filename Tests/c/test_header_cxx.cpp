// The header compiles as C++ (-std=c++11 -Wall -Wextra -Werror -pedantic), links, and its
// structs have the layout the ABI promises.
#include <resonance_rope.h>

#include <cstddef>
#include <cstdio>

static_assert(sizeof(rr_rope_params) == 216, "rr_rope_params size is part of the ABI");
static_assert(offsetof(rr_rope_params, base) == 24, "rr_rope_params.base offset");
static_assert(offsetof(rr_rope_params, short_factor) == 128, "rr_rope_params.short_factor offset");
static_assert(offsetof(rr_rope_params, reserved) == 152, "rr_rope_params.reserved offset");
static_assert(sizeof(rr_rotation) == 152, "rr_rotation size is part of the ABI");
static_assert(offsetof(rr_rotation, q) == 32, "rr_rotation.q offset");
static_assert(offsetof(rr_rotation, k) == 64, "rr_rotation.k offset");
static_assert(offsetof(rr_rotation, token_begin) == 96, "rr_rotation.token_begin offset");
static_assert(offsetof(rr_rotation, n_threads) == 112, "rr_rotation.n_threads offset");
static_assert(sizeof(rr_rope_info) == 96, "rr_rope_info size is part of the ABI");
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

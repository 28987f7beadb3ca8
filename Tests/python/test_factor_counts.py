"""Factor arrays reach the library with their length (rr_rope_params.*_count): a wrong length is
refused by the library before it reads the array (issue 13, item 1; the Python-side checks of the
package are tested elsewhere). Deterministic inputs."""
import numpy as np
import pytest

D = 16


def test_freq_factors_length_is_checked(rr):
    good = 1.0 + 0.5 * np.arange(D // 2)
    rope = rr.Rope(rotary_dim=D, scaling="freq_factors", freq_factors=good)
    want = 10000.0 ** (-np.arange(0, D, 2) / D) / good          # float64 formula
    assert np.allclose(rope.inv_freq(), want, rtol=1e-15, atol=0)
    for bad in (good[:1], good[:-1], np.concatenate([good, good[:1]]), good[:0]):
        with pytest.raises((rr.ResonanceRopeError, ValueError)):
            rr.Rope(rotary_dim=D, scaling="freq_factors", freq_factors=bad)


@pytest.mark.parametrize("which", ["short_factor", "long_factor"])
def test_longrope_factor_lengths_are_checked(rr, which):
    ok = np.ones(D // 2)
    kwargs = dict(rotary_dim=D, scaling="longrope", short_factor=ok, long_factor=ok,
                  original_max_position=4096, max_position=16384)
    rr.Rope(**kwargs)
    for bad in (ok[:1], np.ones(D // 2 + 1)):
        with pytest.raises((rr.ResonanceRopeError, ValueError)):
            rr.Rope(**dict(kwargs, **{which: bad}))

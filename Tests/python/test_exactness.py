"""cos/sin tables against an independent high-precision reference (mpmath, 320-bit).

Non-Resonance pairs: the exact product of the integer position m and the double theta_i the
library reports (rr_rope_inv_freq_f64), reduced mod 2*pi. Resonance pairs: 2*pi*(m mod P)/P with
P the integer wavelength the library reports. Bound: every float32 value within 1.2e-7.
The per-range maxima are written to .build/exactness.txt for the release note."""
import os
import zlib

import mpmath
import numpy as np
import pytest

mpmath.mp.prec = 320
TWO_PI = 2 * mpmath.pi
BOUND = 1.2e-7

RANGES = {
    "0 .. 2^16": lambda rng: rng.integers(0, 1 << 16, 24),
    "2^16 .. 2^31": lambda rng: rng.integers(1 << 16, 1 << 31, 24),
    "2^31 .. 2^53": lambda rng: rng.integers(1 << 31, 1 << 53, 24),
    "negative > -2^53": lambda rng: -rng.integers(1, 1 << 53, 24),
    "|m| >= 2^53 (int64)": lambda rng: np.concatenate([
        rng.integers(1 << 53, (1 << 63) - 1, 10, dtype=np.int64), -rng.integers(1 << 53, (1 << 63) - 1, 10, dtype=np.int64),
        np.array([np.iinfo(np.int64).max, np.iinfo(np.int64).min, 1 << 62], dtype=np.int64)]),
}
CONFIGS = [(128, 10000.0), (128, 500000.0), (64, 1e6), (96, 10000.0)]
RESULTS = {}


def reference(theta, period, m):
    if period:
        return TWO_PI * mpmath.mpf(int(m) % int(period)) / int(period)
    return mpmath.fmod(mpmath.mpf(int(m)) * mpmath.mpf(float(theta)), TWO_PI)


@pytest.mark.parametrize("resonance", [False, True])
@pytest.mark.parametrize("rng_name", list(RANGES))
def test_cos_sin_exact(rr, resonance, rng_name):
    # A fixed seed per case (crc32 of its name: the same in every process, unlike hash() of a
    # str, which Python salts per process). RR_TEST_SEED overrides it.
    seed = int(os.environ.get("RR_TEST_SEED", zlib.crc32(("%s-%s" % (resonance, rng_name)).encode())))
    print("test_cos_sin_exact[%s-%s]: seed %d" % (resonance, rng_name, seed))
    rng = np.random.default_rng(seed)
    worst = 0.0
    for d, base in CONFIGS:
        rope = rr.Rope(rotary_dim=d, base=base, resonance=resonance)
        theta, periods = rope.inv_freq(), rope.resonance_wavelengths()
        pos = np.ascontiguousarray(RANGES[rng_name](rng), dtype=np.int64)
        c, s = rope.cos_sin(pos)
        for t, m in enumerate(pos):
            for i in range(d // 2):
                a = reference(theta[i], periods[i] if resonance else 0, m)
                worst = max(worst, abs(float(mpmath.cos(a)) - float(c[t, i])), abs(float(mpmath.sin(a)) - float(s[t, i])))
    RESULTS[(rng_name, resonance)] = worst
    assert worst <= BOUND, "%s resonance=%s: max error %.3g" % (rng_name, resonance, worst)


def test_float32_framework_baseline_is_worse(rr):
    """The comparison the README makes: m * theta in float32 at m = 128K is off by ~1e-2 rad."""
    rope = rr.Rope(rotary_dim=128, base=10000.0)
    theta = rope.inv_freq()
    m = 131071
    naive = np.float32(m) * theta.astype(np.float32)  # what frameworks compute
    exact = [float(mpmath.fmod(m * mpmath.mpf(float(t)), TWO_PI)) for t in theta]
    err = np.abs(np.angle(np.exp(1j * (naive.astype(np.float64) - np.array(exact))))).max()
    c, s = rope.cos_sin(np.array([m], dtype=np.int64))
    ours = max(abs(float(mpmath.cos(e)) - float(cc)) for e, cc in zip(exact, c[0]))
    RESULTS[("float32 m*theta angle error at m=131071 (rad)", None)] = float(err)
    assert err > 1e-3 and ours < BOUND


def teardown_module(module):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.makedirs(os.path.join(root, ".build"), exist_ok=True)
    with open(os.path.join(root, ".build", "exactness.txt"), "w") as fh:
        for (name, res), v in sorted(RESULTS.items(), key=lambda kv: str(kv[0])):
            fh.write("%-48s %-10s %.3g\n" % (name, "" if res is None else ("resonance" if res else "rope"), v))

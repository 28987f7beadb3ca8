"""The ctypes example over the C ABI: rotation against float64 numpy, refusals, errors."""
import numpy as np
import pytest


def numpy_rotate(x, angles, layout):
    x = x.astype(np.float64)
    d = angles.shape[-1] * 2
    c, s = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]
    out = x.copy()
    if layout == "neox":
        a, b = x[..., : d // 2], x[..., d // 2 : d]
        out[..., : d // 2], out[..., d // 2 : d] = a * c - b * s, b * c + a * s
    else:
        a, b = x[..., 0:d:2], x[..., 1:d:2]
        out[..., 0:d:2], out[..., 1:d:2] = a * c - b * s, b * c + a * s
    return out


@pytest.mark.parametrize("layout", ["neox", "gptj"])
@pytest.mark.parametrize("resonance", [False, True])
def test_rotation_matches_numpy(rr, layout, resonance):
    rng = np.random.default_rng(1)
    rope = rr.Rope(rotary_dim=64, head_dim=80, base=10000.0, resonance=resonance, layout=layout)
    buf = rng.standard_normal((10, 6, 96)).astype(np.float32)
    q = buf[:, ::2, :80]                           # strided heads, padded rows
    before = buf.copy()
    pos = rng.integers(-(1 << 20), 1 << 20, 10).astype(np.int64)
    per, theta = rope.resonance_wavelengths(), rope.inv_freq()
    ang = 2 * np.pi * (pos[:, None] % per) / per if resonance else np.mod(pos[:, None].astype(np.float64) * theta, 2 * np.pi)
    want = numpy_rotate(q, ang, layout)
    rope.apply_(q, positions=pos)
    assert np.abs(q - want).max() < 2e-6 * (1 + np.abs(pos).max() * 0 + 1)
    assert np.array_equal(buf[:, 1::2], before[:, 1::2]), "untouched heads changed"
    assert np.array_equal(buf[:, :, 80:], before[:, :, 80:]), "padding changed"
    assert np.array_equal(buf[:, ::2, 64:80], before[:, ::2, 64:80]), "pass-through dims changed"


def test_refusals(rr):
    rope = rr.Rope(rotary_dim=8)
    q = np.zeros((2, 1, 8), np.float64)
    with pytest.raises(ValueError, match="float32"):
        rope.apply_(q)
    q32 = np.zeros((2, 1, 16), np.float32)[:, :, ::2]
    with pytest.raises(ValueError, match="contiguous last axis"):
        rope.apply_(q32)
    ro = np.zeros((2, 1, 8), np.float32)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        rope.apply_(ro)
    with pytest.raises(ValueError, match="int64"):
        rope.cos_sin(np.arange(3, dtype=np.int32))


def test_library_errors_raise(rr):
    with pytest.raises(rr.RopeError) as e:
        rr.Rope(rotary_dim=7)
    assert e.value.status == 3 and "rotary_dim = 7" in str(e.value)
    with pytest.raises(rr.RopeError) as e:
        rr.Rope(rotary_dim=8, base=float("nan"))
    assert e.value.status == 4


def test_inv_freq_drop_in_for_hf(rr):
    """Resonance-off inv_freq equals Hugging Face's 1/base^(arange(0,d,2)/d) to float32."""
    rope = rr.Rope(rotary_dim=128, base=10000.0)
    hf = 1.0 / (10000.0 ** (np.arange(0, 128, 2, dtype=np.int64).astype(np.float32) / 128))
    ours = rope.inv_freq(np.float32)
    ulps = np.abs(ours.view(np.int32) - hf.astype(np.float32).view(np.int32))
    assert ulps.max() <= 1

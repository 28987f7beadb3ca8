"""Independent float64 numpy references for the Python tests (no library calls here)."""
import math

import numpy as np


def plain_theta(d, base):
    """theta_i = base^(-2i/d), float64."""
    return base ** (-np.arange(0, d, 2, dtype=np.float64) / d)


def llama3_theta(d, base, factor, low, high, original):
    """transformers' _compute_llama3_parameters, transcribed in float64."""
    theta = plain_theta(d, base)
    wavelen = 2 * math.pi / theta
    low_wavelen, high_wavelen = original / low, original / high
    out = np.where(wavelen > low_wavelen, theta / factor, theta)
    smooth = (original / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * out / factor + smooth * out
    medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen)
    return np.where(medium, smoothed, out)


def resonance_periods(theta):
    """round(2*pi / theta_i) to nearest, ties to even, at least 1."""
    return np.maximum(np.rint(2 * math.pi / theta), 1).astype(np.int64)


def angles(pos, theta=None, periods=None):
    """[n, pairs] angles in float64: exact integer reduction for periods, else m*theta mod 2pi
    (m*theta in float64: error ~|m| * 1e-16 rad, far below float32 resolution here)."""
    pos = np.asarray(pos, dtype=np.int64)
    if periods is not None:
        return 2 * math.pi * (pos[:, None] % periods[None, :]) / periods[None, :]
    return np.mod(pos[:, None].astype(np.float64) * theta[None, :], 2 * math.pi)


def rotate(x, ang, layout, d=None, scale=1.0):
    """x [tokens, heads, head_dim] (float64 copy) rotated by ang [tokens, d/2] in `layout`."""
    x = np.asarray(x, dtype=np.float64)
    d = d or ang.shape[-1] * 2
    c, s = np.cos(ang)[:, None, :] * scale, np.sin(ang)[:, None, :] * scale
    out = x.copy()
    if layout == "neox":
        a, b = x[..., : d // 2], x[..., d // 2: d]
        out[..., : d // 2], out[..., d // 2: d] = a * c - b * s, b * c + a * s
    else:
        a, b = x[..., 0:d:2], x[..., 1:d:2]
        out[..., 0:d:2], out[..., 1:d:2] = a * c - b * s, b * c + a * s
    return out


def bf16_round(x32):
    """float32 -> bfloat16 bits (uint16) rounded to nearest, ties to even (no NaN inputs)."""
    u = np.ascontiguousarray(x32, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def bf16_to_f32(bits):
    return (np.asarray(bits, dtype=np.uint32) << 16).view(np.float32)


def chord_gap(ang_train, ang_test):
    """Feature gap of one pair by brute force: max over test angles of the min chord distance."""
    diff = ang_test[:, None] - ang_train[None, :]
    chord = 2 * np.abs(np.sin(diff / 2))
    return chord.min(axis=1).max()

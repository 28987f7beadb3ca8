"""Python demo of the resonance_rope package: the same Llama-2-like setting as the C example.

Run with `make demo` (or: pip install ./python, then python3 Examples/python/demo.py)."""
import sys

import numpy as np

import resonance_rope as rr

D, BASE, L = 128, 10000.0, 4096
rope = rr.Rope(rotary_dim=D, base=BASE, resonance=True)
print("resonance_rope %s, library %s at %s" % (rr.__version__, rr.library_version(), rr.library_path()))
print("%r" % rope)
pre, periodic = rope.count_pairs(L)
print("L = %d: pre-critical pairs %d, exactly periodic under Resonance %d" % (L, pre, periodic))
lam, per = rope.wavelengths(), rope.resonance_wavelengths()
print("wavelengths of pairs 40..47 before -> after rounding:")
print("  " + ", ".join("%.2f->%d" % (a, b) for a, b in zip(lam[40:48], per[40:48])))

# Rotate q and k [tokens, heads, dim] in place at far positions; check against float64 numpy.
rng = np.random.default_rng(0)
q = rng.standard_normal((16, 32, D)).astype(np.float32)
k = rng.standard_normal((16, 8, D)).astype(np.float32)
pos = (4 * L + 977 * np.arange(16)).astype(np.int64)
q0, k0 = q.astype(np.float64), k.astype(np.float64)
rope.apply_(q, pos, k)
ang = 2 * np.pi * (pos[:, None] % per[None, :]) / per[None, :]      # exact integer reduction
c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]


def ref(x):
    x1, x2 = x[..., :D // 2], x[..., D // 2:]
    return np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], axis=-1)


err = max(np.abs(ref(q0) - q).max(), np.abs(ref(k0) - k).max())
print("rotated q %s and k %s in place; max |error| vs float64 numpy: %.3g" % (q.shape, k.shape, err))

try:
    wide = np.zeros((16, 32, 2 * D), np.float32)
    rope.apply_(wide[:, :, ::2], pos)                # every other element: last axis not contiguous
except ValueError as e:
    print("refused before any call: %s" % e)
try:
    rr.Rope(rotary_dim=7)
except rr.ResonanceRopeError as e:
    print("library error: %s" % e)
print("self-check: %s" % ("PASS" if err < 1e-5 else "FAIL"))
sys.exit(0 if err < 1e-5 else 1)

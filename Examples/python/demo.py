"""Python demo over the C ABI (ctypes): the same Llama-2-like setting as the C example."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import resonance_rope_ctypes as rr  # noqa: E402

D, BASE, L = 128, 10000.0, 4096
rope = rr.Rope(rotary_dim=D, base=BASE, resonance=True)
plain = rr.Rope(rotary_dim=D, base=BASE)
print("resonance-rope %s via ctypes: d = %d, base = %g, L = %d"
      % (rr.lib().rr_version_string().decode(), D, BASE, L))
pre, periodic = rope.count_pairs(L)
print("pre-critical pairs: %d, exactly periodic under Resonance: %d" % (pre, periodic))
lam, per = rope.wavelengths(), rope.resonance_wavelengths()
print("wavelengths of pairs 40..47 before -> after rounding:")
print("  " + ", ".join("%.2f->%d" % (a, b) for a, b in zip(lam[40:48], per[40:48])))

# Rotate q [tokens, heads, dim] in place at far positions and check against float64 numpy.
rng = np.random.default_rng(0)
q = rng.standard_normal((16, 32, D)).astype(np.float32)
k = rng.standard_normal((16, 8, D)).astype(np.float32)
pos = (4 * L + 977 * np.arange(16)).astype(np.int64)
q0, k0 = q.astype(np.float64), k.astype(np.float64)
rope.apply_(q, positions=pos, k=k)
ang = 2 * np.pi * (pos[:, None] % per[None, :]) / per[None, :]      # exact integer reduction
c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
def ref(x):
    x1, x2 = x[..., :D // 2], x[..., D // 2:]
    return np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], axis=-1)
err = max(np.abs(ref(q0) - q).max(), np.abs(ref(k0) - k).max())
print("rotated q %s and k %s in place; max |error| vs float64 numpy: %.3g" % (q.shape, k.shape, err))

try:
    rope.apply_(q[:, :, ::2].copy()[:, ::2, :].transpose(1, 0, 2), positions=pos)
except ValueError as e:
    print("a wrong-shape/strided array is refused: %s" % e)
print("self-check: %s" % ("PASS" if err < 1e-5 else "FAIL"))
sys.exit(0 if err < 1e-5 else 1)

"""The README's Hugging Face recipe, checked without torch: the README block runs, and its two
tables are compared with the same computation done here in numpy and with float64 angles."""
import os
import re
import shutil
import tempfile

import numpy as np

import reference as ref

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def recipe_namespace():
    readme = open(os.path.join(ROOT, "README.md")).read()
    code = [b for lang, b in re.findall(r"```(\w+)\n(.*?)```", readme, re.S) if lang == "python" and "hf_cos" in b]
    assert len(code) == 1
    ns = {}
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        # As the README runs it (Tests/python/test_readme.py): config.json is Llama 3.1 8B's.
        shutil.copy(os.path.join(ROOT, "Tests", "Fixtures", "hf_configs", "llama-3.1-8b.json"),
                    os.path.join(scratch, "config.json"))
        os.chdir(scratch)
        try:
            exec(compile(code[0], "README.md (HF recipe)", "exec"), ns)
        finally:
            os.chdir(cwd)
    return ns


def test_recipe_shapes_and_values(rr):
    ns = recipe_namespace()
    rope, pos, inv_freq, cos, sin, hf_cos = ns["rope"], ns["pos"], ns["inv_freq"], ns["cos"], ns["sin"], ns["hf_cos"]
    d = rope.rotary_dim
    assert inv_freq.dtype == np.float32 and inv_freq.shape == (d // 2,)
    assert cos.shape == sin.shape == hf_cos.shape == (pos.size, d) and cos.dtype == np.float32
    # HF's computation, written independently here: float32 product, cat, cos, scaling.
    f32 = pos[:, None].astype(np.float32) * inv_freq[None, :]
    assert np.array_equal(hf_cos, np.cos(np.concatenate([f32, f32], -1)) * np.float32(rope.attention_factor))
    # The exact table against float64 angles with the library's integer wavelengths.
    per = rope.resonance_wavelengths()
    exact = ref.angles(pos, periods=per)
    a = rope.attention_factor
    assert np.abs(cos - np.concatenate([np.cos(exact)] * 2, -1) * a).max() < 1.2e-7
    assert np.abs(sin - np.concatenate([np.sin(exact)] * 2, -1) * a).max() < 1.2e-7
    # HF's float32 path near 128K is off by far more; bound: |m theta| 2^-24 per angle, + ulps.
    hf_err = np.abs(hf_cos - np.concatenate([np.cos(exact)] * 2, -1) * a)
    assert 1e-3 < hf_err.max() < (pos.max() * inv_freq.max() * 2.0 ** -24) * 2 + 1e-6


def test_recipe_at_small_positions_and_periodicity(rr):
    ns = recipe_namespace()
    rope, inv_freq = ns["rope"], ns["inv_freq"]
    small = np.arange(0, 256)
    f = small[:, None].astype(np.float32) * inv_freq[None, :]
    hf = np.cos(np.concatenate([f, f], -1))
    cos, _ = rope.cos_sin(small, layout="hf")
    assert np.abs(cos - hf).max() < 2e-5                      # same frequencies: agree while m is small
    # Exact periodicity: one lambda~ later, the exact table repeats bit for bit; float32 HF does not.
    per = rope.resonance_wavelengths()
    i = int(np.argmax(per > 1000))                            # a slow pair
    m = np.array([5, 5 + int(per[i]) * 100], dtype=np.int64)
    c, _ = rope.cos_sin(m)
    assert c[0, i] == c[1, i]
    hf_m = np.cos(m.astype(np.float32) * inv_freq[i])
    assert hf_m[0] != hf_m[1]

"""llama.cpp drop-in: Examples/python/gguf_add_resonance.py on tiny GGUF files written here with
gguf's GGUFWriter and read back with GGUFReader, and a float32 simulation of ggml's angles."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import reference as ref

gguf = pytest.importorskip("gguf")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "Examples", "python", "gguf_add_resonance.py")
D, BASE = 128, 500000.0


def llama3_rope_freqs(cfg):
    """convert_hf_to_gguf's llama3 rope_freqs (per-pair divisors), transcribed: float32 freqs."""
    sc = cfg["rope_scaling"]
    freqs = 1.0 / (np.float32(cfg["rope_theta"]) ** (np.arange(0, D, 2, dtype=np.float32) / np.float32(D)))
    lo, hi, old = sc["low_freq_factor"], sc["high_freq_factor"], sc["original_max_position_embeddings"]
    out = []
    for f in freqs.astype(np.float64):
        w = 2 * math.pi / f
        if w < old / hi:
            out.append(1.0)
        elif w > old / lo:
            out.append(sc["factor"])
        else:
            smooth = (old / w - lo) / (hi - lo)
            out.append(1 / ((1 - smooth) / sc["factor"] + smooth))
    return np.array(out, np.float32)


def write_gguf(path, arch="llama", rope_freqs=None):
    w = gguf.GGUFWriter(path, arch)
    w.add_context_length(131072)
    w.add_embedding_length(2 * D)
    w.add_head_count(2)
    w.add_block_count(1)
    w.add_rope_dimension_count(D)
    w.add_rope_freq_base(BASE)
    w.add_string("general.name", "tiny test model")
    w.add_tensor("token_embd.weight", np.arange(4 * 2 * D, dtype=np.float32).reshape(4, 2 * D))
    if rope_freqs is not None:
        w.add_tensor("rope_freqs.weight", rope_freqs)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def run_script(src, dst, *extra):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    return subprocess.run([sys.executable, SCRIPT, src, dst, *extra], capture_output=True, text=True, env=env)


def fields(reader):
    return {f.name: f.contents() for f in reader.fields.values() if not f.name.startswith("GGUF.")}


def read_tensor(reader, name):
    t = [t for t in reader.tensors if t.name == name]
    assert len(t) == 1, name
    return t[0]


def test_llama31_rope_freqs_are_multiplied(rr, tmp_path, fixtures):
    cfg = json.load(open(os.path.join(fixtures, "llama-3.1-8b.json")))
    old = llama3_rope_freqs(cfg)
    src, dst = str(tmp_path / "in.gguf"), str(tmp_path / "out.gguf")
    write_gguf(src, rope_freqs=old)
    r = run_script(src, dst)
    assert r.returncode == 0, r.stderr
    assert "replaced rope_freqs.weight[64]" in r.stdout

    before, after = gguf.GGUFReader(src), gguf.GGUFReader(dst)
    t = read_tensor(after, "rope_freqs.weight")
    assert t.tensor_type == gguf.GGMLQuantizationType.F32 and list(t.shape) == [64]
    new = np.asarray(t.data, dtype=np.float32)
    # Independent: the model's frequencies are theta_i / old_i; round their wavelengths.
    theta = ref.plain_theta(D, BASE)
    periods = ref.resonance_periods(theta / old.astype(np.float64))
    want = (theta / (2 * np.pi / periods)).astype(np.float32)
    assert np.abs(new.view(np.int32) - want.view(np.int32)).max() <= 1
    # The same as multiplying the old factors by the Resonance factors computed from the llama3
    # config with resonance on vs off (float32 rounding of the old factors aside).
    res = rr.Rope.from_hf_config(cfg, resonance=True)
    assert np.array_equal(res.resonance_wavelengths(), periods)
    assert np.allclose(new, old * res.resonance_freq_factors(), rtol=5e-7, atol=0)
    assert not np.allclose(new, old, rtol=1e-4), "factors did not change"
    # Metadata and other tensors are kept; two keys are added.
    fb, fa = fields(before), fields(after)
    assert {k: v for k, v in fa.items() if not k.startswith("resonance_rope.")} == fb
    assert fa["resonance_rope.version"] == rr.__version__
    assert np.array_equal(read_tensor(after, "token_embd.weight").data, read_tensor(before, "token_embd.weight").data)
    # The package reads the new file back as Resonance frequencies (theta_i / new_i).
    back = rr.Rope.from_gguf(dst)
    assert back.scaling == "freq_factors" and back.layout == "gptj"
    assert np.allclose(back.inv_freq(), 2 * np.pi / periods, rtol=2e-7, atol=0)
    assert np.array_equal(rr.Rope.from_gguf(dst, resonance=True).resonance_wavelengths(), periods)


def test_plain_model_gets_a_new_tensor(rr, tmp_path):
    src, dst = str(tmp_path / "in.gguf"), str(tmp_path / "out.gguf")
    write_gguf(src)
    r = run_script(src, dst)
    assert r.returncode == 0 and "added rope_freqs.weight[64]" in r.stdout, r.stdout + r.stderr
    new = np.asarray(read_tensor(gguf.GGUFReader(dst), "rope_freqs.weight").data)
    theta = ref.plain_theta(D, BASE)
    want = (theta / (2 * np.pi / ref.resonance_periods(theta))).astype(np.float32)
    assert np.abs(new.view(np.int32) - want.view(np.int32)).max() <= 1
    rope = rr.Rope(rotary_dim=D, base=BASE, resonance=True)
    assert np.array_equal(new, rope.resonance_freq_factors())   # C ABI: the same f32 values


def test_unknown_architecture_is_refused(tmp_path):
    src = str(tmp_path / "in.gguf")
    write_gguf(src, arch="qwen2")
    r = run_script(src, str(tmp_path / "out.gguf"))
    assert r.returncode == 2 and "not known to read rope_freqs" in r.stderr
    assert not os.path.exists(tmp_path / "out.gguf")


def ggml_angles(pos, base, d, ff):
    """ggml's CPU rope cache in float32: theta = p, then per pair theta / ff[i] and
    theta *= base^(-2/d) by repeated float multiplication (no YaRN: freq_scale 1)."""
    theta_scale = np.power(np.float32(base), np.float32(-2.0 / d), dtype=np.float32)
    theta = np.asarray(pos, dtype=np.float32)
    out = np.empty((len(pos), d // 2), np.float32)
    for i in range(d // 2):
        out[:, i] = theta / np.float32(ff[i])
        theta = (theta * theta_scale).astype(np.float32)
    return out


@pytest.mark.parametrize("config,at,low,high", [
    ("llama-2-7b-hf.json", 32768, 2e-3, 1e-2), ("llama-2-7b-hf.json", 131072, 1e-2, 4e-2),
    ("llama-3.1-8b.json", 32768, 1.5e-3, 1e-2), ("llama-3.1-8b.json", 131072, 6e-3, 4e-2)])
def test_llama_cpp_float32_angles_vs_exact_tables(rr, fixtures, config, at, low, high):
    """The README's numbers: with Resonance rope_freqs, llama.cpp's float32 angles near position
    `at` are off by `low`..`high` rad from the exact Resonance angles; our tables stay < 1.2e-7."""
    rope = rr.Rope.from_hf_config(os.path.join(fixtures, config), resonance=True)
    ff = (ref.plain_theta(rope.rotary_dim, rope.base) / rope.inv_freq()).astype(np.float32)
    pos = np.arange(at - 64, at, dtype=np.int64)
    exact = ref.angles(pos, periods=rope.resonance_wavelengths())
    err = np.abs(np.angle(np.exp(1j * (ggml_angles(pos, rope.base, rope.rotary_dim, ff) - exact)))).max()
    c, s = rope.cos_sin(pos)
    ours = max(np.abs(c - np.cos(exact)).max(), np.abs(s - np.sin(exact)).max())
    assert low < err < high, err
    assert ours < 1.2e-7


def test_yarn_metadata_gets_factors_relative_to_yarn(rr, tmp_path):
    """llama.cpp applies YaRN to theta / rope_freqs: the factors must be YaRN theta / theta~."""
    src, dst = str(tmp_path / "in.gguf"), str(tmp_path / "out.gguf")
    w = gguf.GGUFWriter(src, "llama")
    for k, v in (("llama.rope.dimension_count", D), ("llama.attention.key_length", D)):
        w.add_uint32(k, v)
    w.add_float32("llama.rope.freq_base", 10000.0)
    w.add_uint32("llama.context_length", 32768)
    w.add_string("llama.rope.scaling.type", "yarn")
    w.add_float32("llama.rope.scaling.factor", 4.0)
    w.add_uint32("llama.rope.scaling.original_context_length", 8192)
    w.add_tensor("token_embd.weight", np.zeros((2, 8), np.float32))
    w.write_header_to_file(), w.write_kv_data_to_file(), w.write_tensors_to_file(), w.close()
    assert run_script(src, dst).returncode == 0
    new = np.asarray(read_tensor(gguf.GGUFReader(dst), "rope_freqs.weight").data)
    yarn = rr.Rope(rotary_dim=D, base=10000.0, scaling="yarn", factor=4.0, original_max_position=8192,
                   max_position=32768, resonance=True)
    assert np.array_equal(new, yarn.resonance_freq_factors())
    # what llama.cpp then computes: YaRN(theta) / new = 2 pi / integer wavelength
    yarn_theta = 2 * np.pi / yarn.wavelengths()
    assert np.allclose(yarn_theta / new, 2 * np.pi / yarn.resonance_wavelengths(), rtol=2e-7, atol=0)

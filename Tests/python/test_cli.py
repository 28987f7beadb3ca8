"""The command-line tool: JSON keys, exact round-trip of floats, .npy tables."""
import json
import os
import subprocess

import numpy as np


def run(cli, *args):
    return subprocess.run([cli, *args], check=True, capture_output=True, text=True).stdout


def test_freqs_json(rr, cli):
    out = json.loads(run(cli, "freqs", "--rotary-dim", "128", "--base", "10000", "--resonance", "--train-length", "4096", "--json"))
    for key in ("rotary_dim", "base", "resonance", "inv_freq", "wavelengths", "resonance_wavelengths",
                "attention_factor", "pre_critical_pairs", "periodic_pairs"):
        assert key in out, key
    rope = rr.Rope(rotary_dim=128, base=10000.0, resonance=True)
    assert out["inv_freq"] == list(rope.inv_freq())          # bit-exact round trip
    assert out["wavelengths"] == list(rope.wavelengths())
    assert out["resonance_wavelengths"] == list(rope.resonance_wavelengths())
    assert out["pre_critical_pairs"] == 46 and out["periodic_pairs"] == 46
    plain = json.loads(run(cli, "freqs", "--rotary-dim", "8", "--json"))
    assert plain["resonance_wavelengths"] is None and "pre_critical_pairs" not in plain


def test_freqs_text(cli):
    text = run(cli, "freqs", "--rotary-dim", "8", "--train-length", "64")
    assert "2 pre-critical pairs" in text and "6.283185307179586" in text


def test_table_npy(rr, cli, tmp_path):
    rope = rr.Rope(rotary_dim=16, base=10000.0, resonance=True)
    start = -(1 << 40)
    for layout in ("half", "hf", "vllm", "gptj"):
        path = os.path.join(tmp_path, layout + ".npy")
        run(cli, "table", "--rotary-dim", "16", "--resonance", "--start=%d" % start, "--count", "5", "--layout", layout, "--out", path)
        a = np.load(path)
        pos = np.arange(start, start + 5, dtype=np.int64)
        if layout == "vllm":
            assert a.shape == (5, 16) and np.array_equal(a, rope.cos_sin(pos, layout="vllm"))
        else:
            c, s = rope.cos_sin(pos, layout=layout)
            assert a.shape == (2, 5, c.shape[1]) and np.array_equal(a[0], c) and np.array_equal(a[1], s)


def test_bad_arguments_exit_nonzero(cli):
    r = subprocess.run([cli, "freqs", "--rotary-dim", "7"], capture_output=True, text=True)
    assert r.returncode != 0 and "rotary_dim = 7" in r.stderr


def test_freq_factors(rr, cli, fixtures, tmp_path):
    cfg = os.path.join(fixtures, "llama-3.1-8b.json")
    res = rr.Rope.from_hf_config(cfg, resonance=True)
    scaled = json.loads(run(cli, "freq-factors", "--hf-config", cfg, "--json"))
    assert scaled["relative_to"] == "scaled" and scaled["scaling"] == "llama3"
    assert np.array_equal(np.array(scaled["freq_factors"], np.float32), res.resonance_freq_factors())
    npy = os.path.join(tmp_path, "f.npy")
    run(cli, "freq-factors", "--hf-config", cfg, "--relative-to", "base", "--npy", npy)
    base = np.load(npy)
    assert base.dtype == np.float32 and base.shape == (64,)
    theta = 500000.0 ** (-np.arange(0, 128, 2) / 128.0)             # unscaled, float64
    assert np.abs(base.view(np.int32) - (theta / res.inv_freq()).astype(np.float32).view(np.int32)).max() <= 1
    text = run(cli, "freq-factors", "--rotary-dim", "8").split("\n")
    assert text[0].startswith("0 ") and len([l for l in text if l]) == 4
    r = subprocess.run([cli, "freq-factors", "--rotary-dim", "8", "--relative-to", "x"], capture_output=True, text=True)
    assert r.returncode != 0 and "--relative-to" in r.stderr

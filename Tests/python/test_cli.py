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


def test_posgen_worked_example(cli):
    want = {"recurrent": "2 0 3 1 6 3 6 2 3 0 4 2", "cot": "2 0 3 1 6 5 0 6 6 0 0 1",
            "semirecurrent": "2 0 3 1 6 5 5 2 1 4 1 0"}
    for task, seq in want.items():
        out = run(cli, "posgen", "generate", "--task", task, "--modulus", "7", "--near", "3", "--far", "1",
                  "--length", "12", "--seeds", "2 0 3 1")
        assert out.strip() == seq


def test_posgen_generate_and_score(cli, tmp_path):
    ref = os.path.join(tmp_path, "ref.npy")
    run(cli, "posgen", "generate", "--task", "cot", "--count", "20", "--length", "256", "--split", "test",
        "--split-mode", "disjoint", "--format", "npy", "--out", ref)
    a = np.load(ref)
    assert a.shape == (20, 256) and a.dtype == np.int32
    # cot: x_l = (x_0 + x_{l-3} + x_{l-2} + x_{l-1}) mod 17, checked independently here
    assert ((a[:, 4:] - (a[:, :1] + a[:, 1:-3] + a[:, 2:-2] + a[:, 3:-1]) % 17) == 0).all()
    pred = a.copy()
    pred[:, 100] = (pred[:, 100] + 1) % 17                 # one OOD position always wrong
    pred[:5, 10] = (pred[:5, 10] + 1) % 17                 # an ID position wrong in 5 of 20
    p = os.path.join(tmp_path, "pred.npy")
    np.save(p, pred)
    out = json.loads(run(cli, "posgen", "score", "--pred", p, "--ref", ref, "--train-length", "64", "--json"))
    assert out["id_total"] == 20 * 60 and out["ood_total"] == 20 * 192
    assert out["id_correct"] == 20 * 60 - 5 and out["ood_correct"] == 20 * 191
    assert out["per_position"][0] is None and out["per_position"][100] == 0.0 and out["per_position"][10] == 0.75


def test_gap_json_and_svg(cli, tmp_path):
    svg = os.path.join(tmp_path, "g.svg")
    out = json.loads(run(cli, "gap", "--rotary-dim", "64", "--base", "10000", "--train-length", "64",
                         "--test-length", "256", "--json", "--svg", svg))
    assert out["pre_critical_pairs"] == 9 and out["periodic_pairs"] == 9 and out["critical_pair"] == 9
    pairs = out["pairs"]
    assert len(pairs) == 32 and set(pairs[0]) == {"index", "wavelength", "resonance_wavelength", "gap_rope", "gap_resonance"}
    assert all(p["gap_resonance"] == 0.0 for p in pairs[:9]) and all(p["gap_rope"] > 1e-3 for p in pairs[:9])
    import xml.etree.ElementTree as ET
    root = ET.parse(svg).getroot()
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "critical pair 9" in texts and "RoPE" in texts and "log scale" in texts


def test_freqs_hf_config(cli):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    cfg = os.path.join(root, "Tests", "Fixtures", "hf_configs", "qwen2.5-7b-instruct-yarn.json")
    out = json.loads(run(cli, "freqs", "--hf-config", cfg, "--json"))
    assert out["scaling"] == "yarn" and abs(out["attention_factor"] - (0.1 * np.log(4) + 1)) < 1e-12
    assert out["correction_range"] is not None and len(out["inv_freq"]) == 64


def test_bench_json_shape(cli):
    """`resonance-rope bench --json` keeps the documented shape (timings are not checked: the
    benchmark reports ratios, it is not a timed test)."""
    out = json.loads(run(cli, "bench", "--json", "--reps", "1"))
    assert isinstance(out["machine"], str) and out["build"] in ("portable", "native")
    assert out["kernels"] in ("baseline", "x86-64-v3")
    names = {c["name"] for c in out["cases"]}
    assert {"prefill", "decode", "far_positions", "table_build", "prefill_plain_rope",
            "prefill_position_array", "in_cache", "in_cache_plain_rope", "create", "create_resonance", "gap"} <= names
    for c in out["cases"]:
        for key in ("name", "dtype", "layout", "threads", "tokens", "median_ns", "gbps",
                    "ratio_memory_pass", "ratio_scalar"):
            assert key in c, (c["name"], key)
        assert c["median_ns"] > 0
        timed_only = c["name"] in ("create", "create_resonance", "gap")
        if not timed_only:
            assert c["gbps"] > 0 and c["ratio_memory_pass"] > 0 and c["ratio_scalar"] > 0
            # the yardstick is the fastest pass, so it is at least as strict as either shown
            assert c["ratio_memory_pass"] >= c["ratio_memory_pass_plain"] * (1 - 1e-9)
            assert c["ratio_memory_pass"] >= c["ratio_memory_pass_prefetched"] * (1 - 1e-9)
        assert ("ratio_rotation_only" in c) == (c["name"] == "decode")
        assert ("ratio_near" in c) == (c["name"] == "far_positions")
        assert ("ratio_memory_pass_prefetched" in c) == (not timed_only)
    prefill = {(c["dtype"], c["layout"], c["threads"]) for c in out["cases"] if c["name"] == "prefill"}
    assert prefill == {(d, l, t) for d in ("f32", "f16", "bf16") for l in ("neox", "gptj") for t in (1, 2)}

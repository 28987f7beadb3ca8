"""The command-line tool: JSON keys, exact round-trip of floats, .npy tables."""
import json
import os
import re
import subprocess

import numpy as np
import pytest

# The kernel copies whose yardstick passes a run on each `kernels` level times (Kernels.available).
KERNEL_COPIES = {"baseline": ["baseline"], "x86-64-v3": ["baseline", "x86-64-v3"],
                 "x86-64-v4": ["baseline", "x86-64-v3", "x86-64-v4"],
                 "x86-64-v4+bf16": ["baseline", "x86-64-v3", "x86-64-v4", "x86-64-v4+bf16"]}


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
    assert out["kernels"] in ("baseline", "x86-64-v3", "x86-64-v4", "x86-64-v4+bf16")
    names = {c["name"] for c in out["cases"]}
    assert {"prefill", "prefill_dram", "decode", "far_positions", "table_build", "prefill_plain_rope",
            "prefill_position_array", "in_cache", "in_cache_plain_rope", "create", "create_resonance", "gap"} <= names
    for c in out["cases"]:
        for key in ("name", "dtype", "layout", "threads", "tokens", "median_ns", "gbps",
                    "ratio_memory_pass", "ratio_scalar"):
            assert key in c, (c["name"], key)
        assert c["median_ns"] > 0
        timed_only = c["name"] in ("create", "create_resonance", "gap")
        if not timed_only:
            assert c["gbps"] > 0 and c["ratio_memory_pass"] > 0 and c["ratio_scalar"] > 0
            # the yardstick is the fastest pass (the smallest pass time, so the smallest ratio):
            # at least as strict as either pass shown
            assert c["ratio_memory_pass"] <= c["ratio_memory_pass_plain"] * (1 + 1e-9)
            assert c["ratio_memory_pass"] <= c["ratio_memory_pass_prefetched"] * (1 + 1e-9)
            # every pass is listed: the yardstick is the smallest of them, named; the plain ratio
            # is the best copy's plain pass, the hinted one the faster of its hinted passes (the
            # row prefetch 8 and 16 KiB ahead; streaming stores for the table fill)
            passes = c["ratio_memory_passes"]
            hints = ("+stream",) if c["name"] == "table_build" else ("+prefetch", "+prefetch16")
            assert set(passes) == {k + h for k in KERNEL_COPIES[out["kernels"]] for h in ("",) + hints}, (c["name"], passes)
            assert c["fastest_memory_pass"] in passes and passes[c["fastest_memory_pass"]] == min(passes.values())
            assert c["ratio_memory_pass"] == pytest.approx(min(passes.values()), rel=1e-9)
            assert c["ratio_memory_pass_plain"] == pytest.approx(passes[out["kernels"]], rel=1e-9)
            # the faster hinted pass: the smaller ratio (a ratio is pass time / case time)
            assert c["ratio_memory_pass_prefetched"] == pytest.approx(min(passes[out["kernels"] + h] for h in hints), rel=1e-9)
        assert ("ratio_rotation_only" in c) == (c["name"] == "decode")
        assert ("ratio_near" in c) == (c["name"] == "far_positions")
        assert ("ratio_memory_pass_prefetched" in c) == (not timed_only)
        # the rotations past L2 say which row prefetch the library had learned by then
        streamed = c["name"] in ("prefill", "far_positions", "prefill_plain_rope", "prefill_position_array",
                                 "prefill_dram")
        if streamed and "row_prefetch_learned" in c:  # the distance in bytes, 0 for none
            assert c["row_prefetch_learned"] in (0, 8192, 16384), c["row_prefetch_learned"]
        assert streamed or "row_prefetch_learned" not in c, c["name"]
    # the verdict is read after each case (absent only while a slot relearns, ~3 % of batches)
    assert sum("row_prefetch_learned" in c for c in out["cases"] if c["name"] == "prefill") >= 6
    prefill = {(c["dtype"], c["layout"], c["threads"]) for c in out["cases"] if c["name"] == "prefill"}
    assert prefill == {(d, l, t) for d in ("f32", "f16", "bf16") for l in ("neox", "gptj") for t in (1, 2)}
    dram = {(c["dtype"], c["layout"], c["threads"], c["tokens"]) for c in out["cases"] if c["name"] == "prefill_dram"}
    assert dram == {(d, "neox", t, n) for d, n in (("f32", 32768), ("f16", 65536), ("bf16", 65536)) for t in (1, 2)}



def test_max_isa_caps_the_kernel_copy(cli):
    """RESONANCE_ROPE_MAX_ISA (documented in the header's conventions) caps the kernel copy: the
    bench names the copy it ran."""
    import os

    def kernels(cap):
        env = dict(os.environ, RESONANCE_ROPE_MAX_ISA=cap) if cap else dict(os.environ)
        env.pop("RESONANCE_ROPE_MAX_ISA", None) if cap is None else None
        out = subprocess.run([cli, "bench", "--json", "--reps", "1"], check=True, capture_output=True, text=True, env=env).stdout
        return json.loads(out)["kernels"]

    assert kernels("baseline") == "baseline"
    # x86-64-v4 leaves out the AVX512-BF16 stores (checked where the CPU has them).
    if kernels(None) == "x86-64-v4+bf16":
        assert kernels("x86-64-v4") == "x86-64-v4"

# ---- one vocabulary, conflicting flags, negative values, gap reporting (issue 16) ----------------

def fails(cli, *args):
    """stderr of a run that must fail (non-zero exit, nothing on stdout)."""
    r = subprocess.run([cli, *args], capture_output=True, text=True)
    assert r.returncode != 0 and r.stdout == "", (args, r.returncode, r.stdout)
    return r.stderr


def test_table_layout_names_and_negative_start(rr, cli, tmp_path):
    # --table-layout is the name; --layout (0.1) is an alias; both at once is an error. A negative
    # --start needs no "=". Reference: float64 numpy cos of the NeoX half table at -5 .. -2.
    a, b = os.path.join(tmp_path, "a.npy"), os.path.join(tmp_path, "b.npy")
    run(cli, "table", "--rotary-dim", "8", "--start", "-5", "--count", "4", "--table-layout", "half", "--out", a)
    run(cli, "table", "--rotary-dim", "8", "--start", "-5", "--count", "4", "--layout", "half", "--out", b)
    t = np.load(a)
    assert np.array_equal(t, np.load(b))
    ang = np.arange(-5, -1)[:, None] * 10000.0 ** (-np.arange(0, 8, 2) / 8.0)[None, :]
    assert np.abs(t[0] - np.cos(ang)).max() < 2e-7 and np.abs(t[1] - np.sin(ang)).max() < 2e-7
    err = fails(cli, "table", "--rotary-dim", "8", "--start", "0", "--count", "4", "--table-layout", "hf",
                "--layout", "hf", "--out", a)
    assert "--layout is the old name of --table-layout" in err
    assert "--table-layout must be half, hf, vllm or gptj" in fails(cli, "table", "--rotary-dim", "8", "--start", "0",
                                                                    "--count", "1", "--table-layout", "neox", "--out", a)


def test_negative_values_reach_validation(cli):
    # Without .unconditional parsing, "-3" is taken for a flag ("Missing value"); here the value
    # arrives and the validation names it.
    assert "base = -3.0" in fails(cli, "freqs", "--rotary-dim", "8", "--base", "-3")
    assert "train_length = -4" in fails(cli, "gap", "--rotary-dim", "8", "--train-length", "-4", "--test-length", "9")
    assert "Missing value" not in fails(cli, "posgen", "generate", "--first", "-1")


def test_hf_config_conflicts_are_errors(cli, fixtures):
    cfg = os.path.join(fixtures, "llama-3.1-8b.json")
    for extra in (["--base", "5"], ["--rotary-dim", "64"], ["--pair-layout", "gptj"], ["--scaling", "yarn"]):
        err = fails(cli, "freqs", "--hf-config", cfg, *extra)
        assert "--hf-config takes every rope setting from the file" in err and extra[0] in err, err
    err = fails(cli, "gap", "--hf-config", cfg, "--base", "5", "--rotary-dim", "8", "--train-length", "8",
                "--test-length", "16")
    assert "--rotary-dim, --base" in err
    out = json.loads(run(cli, "freqs", "--hf-config", cfg, "--seq-len", "1000", "--resonance", "--json"))
    assert out["scaling"] == "llama3" and out["pair_layout"] == "neox" and out["layout"] == "neox"


def test_posgen_paper_task_names_and_aliases(rr, cli):
    # The worked example of test_posgen_worked_example under the paper's names and the old ones.
    want = {("recursive", "recurrent"): "2 0 3 1 6 3 6 2 3 0 4 2",
            ("semi-recursive", "semirecurrent"): "2 0 3 1 6 5 5 2 1 4 1 0"}
    for names, seq in want.items():
        for task in names:
            out = run(cli, "posgen", "generate", "--task", task, "--modulus", "7", "--near", "3", "--far", "1",
                      "--length", "12", "--seeds", "2 0 3 1")
            assert out.strip() == seq, task
        a, b = (rr.PosGen(task=t, modulus=7, length=12).generate("train", 0, 3) for t in names)
        assert np.array_equal(a, b)
    assert "--task must be recursive, cot or semi-recursive" in fails(cli, "posgen", "generate", "--task", "recursve")
    assert "recursive" in run(cli, "posgen", "generate", "--help")


def test_scaling_help_and_freq_factors(rr, cli):
    helptext = run(cli, "freqs", "--help")
    scaling = " ".join(re.search(r"^  --scaling <scaling>(.*?)^  --", helptext, re.S | re.M).group(1).split())
    for name in rr.SCALINGS:                          # the --scaling option's own help names all
        assert name in scaling, (name, scaling)
    # freq_factors from the CLI: theta_i / f_i, in float64 here.
    ff = [1.0, 2.0, 4.0, 8.0]
    out = json.loads(run(cli, "freqs", "--rotary-dim", "8", "--scaling", "freq_factors", "--freq-factors",
                         "1, 2 4,8", "--json"))
    theta = 10000.0 ** (-np.arange(0, 8, 2) / 8.0) / np.array(ff)
    assert np.abs(np.array(out["inv_freq"]) / theta - 1).max() < 1e-15
    assert "freq_factors has 2 values" in fails(cli, "freqs", "--rotary-dim", "8", "--scaling", "freq_factors",
                                                "--freq-factors", "1,2")
    assert "--freq-factors must be numbers" in fails(cli, "freqs", "--rotary-dim", "8", "--scaling", "freq_factors",
                                                     "--freq-factors", "1,x,2,3")


def test_gap_without_critical_pair(cli):
    # d = 8, base 10000: the longest wavelength is 2 pi 10000^(6/8) = 6283 < L = 100000.
    assert 2 * np.pi * 10000.0 ** 0.75 < 100000
    args = ["gap", "--rotary-dim", "8", "--train-length", "100000", "--test-length", "100100"]
    assert "critical pair none: all 4 pairs are pre-critical" in run(cli, *args)
    out = json.loads(run(cli, *args, "--json"))
    assert out["critical_pair"] is None and out["pre_critical_pairs"] == 4


def test_gap_progress_on_stderr(cli):
    quick = subprocess.run([cli, "gap", "--rotary-dim", "8", "--train-length", "64", "--test-length", "256", "--json"],
                           capture_output=True, text=True, check=True)
    assert quick.stderr == ""
    # Estimated 64 scanned pairs x 2.1e6 positions x 25 ns = 3.4 s (64 L' = 2^27, the largest scan
    # allowed): progress lines on stderr only, one per tenth of the scanned pairs.
    slow = subprocess.run([cli, "gap", "--rotary-dim", "128", "--train-length", "32768", "--test-length", str(1 << 21),
                           "--json"], capture_output=True, text=True, check=True)
    lines = slow.stderr.strip().splitlines()
    assert lines[0].startswith("gap: 64 pairs to scan") and lines[-1].startswith("gap: done after"), lines
    assert sum("pairs scanned after" in l for l in lines) >= 5, lines
    assert json.loads(slow.stdout)["pre_critical_pairs"] == 60


def test_resonance_flag_only_where_it_means_something(cli):
    for cmd in (["gap", "--rotary-dim", "8", "--train-length", "8", "--test-length", "16"],
                ["freq-factors", "--rotary-dim", "8"]):
        assert "Unknown option '--resonance'" in fails(cli, *cmd, "--resonance")
        assert not re.search(r"^  --resonance  ", run(cli, cmd[0], "--help"), re.M)     # not an option here
    for cmd in ("freqs", "table"):
        assert re.search(r"^  --resonance  ", run(cli, cmd, "--help"), re.M)

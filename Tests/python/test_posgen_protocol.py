"""The PosGen experiment's protocol (Examples/posgen-experiment/protocol.py): its YaRN table against
the authors' formula restated here in float64, the one-cycle schedule at its defining points,
checkpoint selection, the splits against the library's generated data, the protocol record."""
import itertools
import math
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Examples", "posgen-experiment"))
import protocol as P  # noqa: E402


def run(cli, *args):
    return subprocess.run([cli, *args], check=True, capture_output=True, text=True).stdout


# ---------------------------------------------------------------- the tables

def reference_inv_freq(table, d=64, base=10000.0):
    """The authors' tables in float64, from the paper's definitions: theta_i = base^(-2i/d);
    YaRN at scale s = 257/65 with the correction range of length 257: the pair index where a
    wavelength makes r rotations over the length, dim(r) = d ln(257 / (2 pi r)) / (2 ln base),
    low = floor(dim(beta_fast = 2)), high = ceil(dim(beta_slow = 1)); pair i keeps theta_i with
    weight 1 - ramp_i and takes theta_i / s with weight ramp_i, ramp_i = clip((i - low) /
    (high - low), 0, 1). Resonance: the wavelength 2 pi / theta rounded to an integer."""
    i = np.arange(d // 2, dtype=np.float64)
    theta = base ** (-2.0 * i / d)
    if table.endswith("yarn"):
        s, length = 257.0 / 65.0, 257.0

        def dim(r):
            return d * math.log(length / (2 * math.pi * r)) / (2 * math.log(base))
        low, high = max(math.floor(dim(2.0)), 0), min(math.ceil(dim(1.0)), d - 1)
        ramp = np.clip((i - low) / (high - low), 0.0, 1.0)
        theta = theta * (1 - ramp) + theta / s * ramp
    wavelength = None
    if table.startswith("resonance"):
        wavelength = np.round(2 * math.pi / theta)
        theta = 2 * math.pi / wavelength
    return theta, wavelength


def reference_table(table, positions):
    theta, wavelength = reference_inv_freq(table)
    p = positions.astype(np.float64)[:, None]
    if wavelength is not None:          # exact angle of a whole-number period: 2 pi (p mod L) / L
        ang = 2 * math.pi * np.mod(p, wavelength[None, :]) / wavelength[None, :]
    else:
        ang = p * theta[None, :]
    mscale = 0.1 * math.log(257.0 / 65.0) + 1.0 if table.endswith("yarn") else 1.0
    return mscale * np.cos(ang), mscale * np.sin(ang)


def test_reference_correction_range_is_the_authors():
    # Pairs 0..10 unchanged, 11..12 ramped, 13..31 divided by s (the reading of their code).
    theta, _ = reference_inv_freq("rope")
    yarn, _ = reference_inv_freq("yarn")
    ratio = theta / yarn
    assert np.all(ratio[:11] == 1.0)
    assert np.all((ratio[11:13] > 1.0) & (ratio[11:13] < 257 / 65))
    assert np.allclose(ratio[13:], 257 / 65, rtol=1e-15)


@pytest.mark.parametrize("table", ["rope", "resonance", "yarn", "resonance_yarn"])
def test_library_table_matches_the_authors_formula(cli, tmp_path, table):
    path = os.path.join(tmp_path, table + ".npy")
    n = P.table_rows()
    run(cli, "table", "--rotary-dim", str(P.HEAD_DIM), "--base", repr(P.ROPE_BASE), "--start", "0",
        "--count", str(n), "--layout", "half", "--out", path, *P.table_flags(table))
    got = np.load(path)
    assert got.shape == (2, 257, 32) and got.dtype == np.float32
    c, s = reference_table(table, np.arange(n))
    err = max(np.abs(got[0] - c).max(), np.abs(got[1] - s).max())
    print(f"{table}: max |library - float64 reference| = {err:.3g}")
    # float32 holds values up to 1.1375 to 6e-8 (half an ulp in [1, 2)); the library promises
    # 1.2e-7 for every cos/sin.
    assert err <= 1.2e-7, err


def test_yarn_constants():
    assert P.YARN["factor"] == 257 / 65 and P.YARN["original_max_position"] == 257
    assert abs(P.YARN["mscale"] - (0.1 * math.log(257 / 65) + 1)) < 1e-15
    assert abs(P.YARN["mscale"] - 1.1375) < 1e-4                 # the figure
    f = P.table_flags("resonance_yarn")
    assert f[0] == "--resonance" and "--apply-attention-factor" in f
    assert float(f[f.index("--factor") + 1]) == 257 / 65     # the exact double reaches the library
    assert P.table_flags("rope") == [] and P.table_flags("resonance") == ["--resonance"]
    with pytest.raises(ValueError):
        P.table_flags("alibi")


# ---------------------------------------------------------------- one-cycle schedule

def test_one_cycle_defining_points():
    total, top = 1000, 2e-4
    lrs = [P.one_cycle(t, total, top) for t in range(total)]
    lr, b1 = zip(*lrs)
    assert math.isclose(lr[0], top / 25, rel_tol=1e-12) and math.isclose(b1[0], 0.95, rel_tol=1e-12)
    peak = int(0.1 * total) - 1                                 # 99: end of the warm-up phase
    assert math.isclose(lr[peak], top, rel_tol=1e-12) and math.isclose(b1[peak], 0.85, rel_tol=1e-12)
    assert math.isclose(lr[-1], top / 25 / 1e4, rel_tol=1e-9) and math.isclose(b1[-1], 0.95, rel_tol=1e-12)
    assert all(a < b for a, b in zip(lr[:peak], lr[1:peak + 1]))
    assert all(a > b for a, b in zip(lr[peak:-1], lr[peak + 1:]))
    # halfway through the decay the half cosine is at its midpoint
    mid = P.one_cycle(peak + (total - 1 - peak) // 2, total, top)[0] if (total - 1 - peak) % 2 == 0 else None
    if mid is not None:
        assert math.isclose(mid, (top + top / 25 / 1e4) / 2, rel_tol=1e-9)
    with pytest.raises(ValueError):
        P.one_cycle(total, total)


def test_one_cycle_against_torch():
    torch = pytest.importorskip("torch")
    w = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([w], lr=2e-4)
    sch = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-4, total_steps=300, pct_start=0.1,
                                              anneal_strategy="cos")
    for t in range(300):
        lr, b1 = P.one_cycle(t, 300, 2e-4)
        g = opt.param_groups[0]
        assert math.isclose(g["lr"], lr, rel_tol=1e-9) and math.isclose(g["betas"][0], b1, rel_tol=1e-9)
        opt.step()
        sch.step()


# ---------------------------------------------------------------- checkpoint selection

def test_select_checkpoints_per_table_earliest_on_ties():
    h = [{"step": 10, "val": {"rope": {"id_accuracy": 0.50}, "yarn": {"id_accuracy": 0.40}}},
         {"step": 20, "val": {"rope": {"id_accuracy": 0.90}, "yarn": {"id_accuracy": float("nan")}}},
         {"step": 30, "val": {"rope": {"id_accuracy": 0.90}, "yarn": {"id_accuracy": 0.70}}},
         {"step": 40, "val": {"rope": {"id_accuracy": 0.80}, "yarn": {"id_accuracy": 0.70}}}]
    sel = P.select_checkpoints(h, ["rope", "yarn"])
    assert sel == {"rope": {"step": 20, "val_id_accuracy": 0.90}, "yarn": {"step": 30, "val_id_accuracy": 0.70}}
    with pytest.raises(ValueError):
        P.select_checkpoints(h, ["resonance"])


# ---------------------------------------------------------------- splits

def lib_seed_ranks(cli, tmp_path, split, part, count):
    path = os.path.join(tmp_path, f"{split}-{part}.npy")
    run(cli, "posgen", "generate", "--task", "recurrent", "--modulus", "17", "--near", "3", "--far", "1",
        "--split-mode", P.SPLITS[split]["mode"], "--split-sizes", P.split_sizes_arg(split),
        "--split", part, "--length", "5", "--count", str(count), "--format", "npy", "--out", path)
    seeds = np.load(path)[:, :4]
    rank = {c: r for r, c in enumerate(itertools.combinations(range(17), 4))}   # lexicographic
    return [rank[tuple(int(x) for x in row)] for row in seeds]


@pytest.mark.parametrize("split", ["paper", "disjoint"])
def test_split_seed_ranks_match_the_library(cli, tmp_path, split):
    for part in ("train", "val", "test"):
        n = P.SPLITS[split][part]
        assert lib_seed_ranks(cli, tmp_path, split, part, n) == P.seed_ranks(split, part), part


def test_split_records():
    paper, disjoint = P.split_record("paper"), P.split_record("disjoint")
    # The authors' split: 1000 test sequences, every test seed a training seed, val and test apart.
    assert paper["sizes"] == {"train": 10000, "val": 1000, "test": 1000}
    assert paper["distinct_training_seeds"] == 2380 and paper["test_seeds_in_training"] == 1000
    assert paper["val_test_shared_seeds"] == 0
    assert disjoint["test_seeds_in_training"] == 0 and disjoint["val_seeds_in_training"] == 0
    assert disjoint["distinct_training_seeds"] == 2380 - 700 and disjoint["val_test_shared_seeds"] == 0


# ---------------------------------------------------------------- metrics and record

def test_parity_metric_separates_the_far_dependency(cli, tmp_path):
    # Semi-recursive: odd positions follow the local rule x_n = 2 x_{n-1} - x_{n-4} (mod 17),
    # even ones do not (they need x_{(n-4)/2}); that is what id_even / id_odd separate.
    path = os.path.join(tmp_path, "semi.npy")
    run(cli, "posgen", "generate", "--task", "semirecurrent", "--length", "64", "--count", "200",
        "--format", "npy", "--out", path)
    x = np.load(path).astype(np.int64)
    local = (2 * x[:, 3:63] - x[:, :60]) % 17            # the rule's prediction for n = 4..63
    hit = (local == x[:, 4:64]).mean(0)
    per = [None] * 4 + list(hit)
    par = P.id_parity_accuracy(per)
    assert par["id_odd"] == 1.0 and par["id_even"] < 0.2, par


def test_protocol_record():
    cfg = {"size": "xs", "dropout": 0.1, "lr": 2e-4, "batch": 128, "steps": {"recurrent": 100},
           "val_every": 158, "splits": ["paper", "disjoint"], "seeds": [0, 1], "semi_seeds": [0]}
    r = P.protocol_record(cfg)
    for k in ("model", "dropout", "optimizer", "schedule", "steps", "bos", "yarn", "checkpoint_selection",
              "split", "seeds"):
        assert k in r, k
    assert r["yarn"] == {"factor": 257 / 65, "original_max_position": 257, "beta_fast": 2.0, "beta_slow": 1.0,
                         "mscale": 0.1 * math.log(257 / 65) + 1, "mscale_applied_to": "cos and sin",
                         "applied": "eval"}
    assert r["authors_steps"] == 150 * math.ceil(10000 / 128) == 11850
    assert r["model"]["parameters"] == P.param_count("xs")
    # xs: 2 layers of 4*128^2 + 2*128*512 + 2*128, embedding and head 2*18*128, final norm 128
    assert P.param_count("xs") == 2 * (4 * 128 * 128 + 2 * 128 * 512 + 256) + 2 * 18 * 128 + 128
    assert r["headline_split"] == "paper" and r["split"]["paper"]["test_seeds_in_training"] == 1000


def test_adamw_step_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    print("seed 7")
    w0 = rng.standard_normal(5)
    w = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float64))
    opt = torch.optim.AdamW([w], lr=2e-4, weight_decay=0.01)
    sch = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-4, total_steps=50, pct_start=0.1)
    ours, m, v = w0.copy(), np.zeros(5), np.zeros(5)
    for t in range(50):
        g = rng.standard_normal(5)
        w.grad = torch.tensor(g)
        opt.step()
        sch.step()
        lr, b1 = P.one_cycle(t, 50, 2e-4)
        ours, m, v = P.adamw_step(ours, m, v, g, t + 1, lr, b1)
    assert np.allclose(ours, w.detach().numpy(), rtol=0, atol=1e-12)


def test_adamw_step_first_step():
    # Step 1 from zero moments: m/c1 = g, v/c2 = g^2, so the step is lr * g / (|g| + eps) after decay.
    w, g = np.array([1.0, -2.0]), np.array([0.5, -4.0])
    got, _, _ = P.adamw_step(w, np.zeros(2), np.zeros(2), g, 1, 1e-3, 0.9)
    want = w * (1 - 1e-3 * 0.01) - 1e-3 * g / (np.abs(g) + 1e-8)
    assert np.allclose(got, want, rtol=1e-12, atol=0)

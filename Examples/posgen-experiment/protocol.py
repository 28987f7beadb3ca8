"""The PosGen protocol of Wang et al. 2024 as this experiment runs it: constants and pure functions.

No jax here (Tests/python imports this module with numpy alone). Everything that decides what a
run is -- model sizes, the YaRN table flags, the one-cycle schedule, the splits, checkpoint
selection, the `protocol` record of results.json -- lives in this one file; posgen_experiment.py
trains and evaluates, analyze.py summarises.

Facts taken from the authors' public code (github sheryc/resonance_rope; read, not copied):
  - the decoder is built from the `t5-small` template: 6 layers, d_model 512, 8 heads of 64,
    FFN 2048 (ReLU), dropout 0.1;
  - AdamW lr 2e-4, weight decay 0.01, torch OneCycleLR (cosine, pct_start 0.1), batch 128,
    150 epochs of 10 000 sequences (79 batches an epoch: 11 850 steps);
  - every sequence is prefixed with an [EOS] token: training inputs are 65 tokens (positions
    0..64), test inputs 257;
  - the YaRN and Resonance YaRN models are *trained* with the RoPE / Resonance RoPE table and
    switched to the scaled table in evaluation mode only, the scaled table built for length
    257 with scale 257 / 65, beta_fast 2, beta_slow 1 and its magnitude factor on cos and sin;
  - validation every 2 epochs in evaluation mode (so with the scaled table for YaRN rows) on
    1000 validation sequences; the checkpoint with the best validation ID accuracy is tested;
  - split: one list of train + val + test sequences cycled through the C(17, 4) = 2380 seed
    combinations; val = the first 1000, test = the next 1000, so every evaluation seed is also
    a training seed.
"""
import math

MODULUS, NEAR, FAR = 17, 3, 1
N_SEED = NEAR + FAR                       # tokens given, not predicted
TRAIN_LEN, TEST_LEN = 64, 256             # tokens of a sequence, without the prefix
BOS = MODULUS                             # token id of the [EOS] prefix (vocabulary 0..16, 17)
VOCAB = MODULUS + 1
HEAD_DIM = 64                             # the paper's head (= rotary) dimension
ROPE_BASE = 10000.0
TRAIN_COUNT = 10000
BATCH = 128
STEPS_PER_EPOCH = -(-TRAIN_COUNT // BATCH)          # 79: the last batch of an epoch is partial
AUTHORS_EPOCHS = 150
AUTHORS_STEPS = AUTHORS_EPOCHS * STEPS_PER_EPOCH    # 11 850
VAL_EVERY = 2 * STEPS_PER_EPOCH                     # 158: validation every 2 epochs
ID_CEILING = (TRAIN_LEN - N_SEED - 1) / (TRAIN_LEN - N_SEED)   # 59/60: the local recurrence
CHANCE = 1.0 / MODULUS

TASKS = ("recurrent", "cot", "semirecurrent")
TRAINED = ("rope", "resonance")           # the models that are trained
# Evaluation tables of each trained model; the row label of (model, table) in the results.
EVAL_TABLES = {"rope": ("rope", "yarn"), "resonance": ("resonance", "resonance_yarn")}
ROW_LABEL = {"rope": "RoPE", "resonance": "Resonance RoPE", "yarn": "YaRN",
             "resonance_yarn": "Resonance YaRN"}
ROWS = ("rope", "resonance", "yarn", "resonance_yarn")

# ---------------------------------------------------------------- YaRN at evaluation

# The authors build the scaled table for the evaluation length plus the prefix, 257 positions,
# with scale (256 + 1) / (64 + 1); the correction range is computed at that length, which puts
# pairs 0..10 unchanged, 11..12 ramped and 13..31 divided by s (rotary dim 64, base 1e4).
YARN = {"factor": (TEST_LEN + 1) / (TRAIN_LEN + 1), "original_max_position": TEST_LEN + 1,
        "beta_fast": 2.0, "beta_slow": 1.0}
YARN["mscale"] = 0.1 * math.log(YARN["factor"]) + 1.0          # 1.13747, on cos and sin


def table_flags(table):
    """`resonance-rope table` flags of an evaluation table (rope, resonance, yarn, resonance_yarn)."""
    if table not in ROW_LABEL:
        raise ValueError(f"unknown table {table!r}: expected one of {sorted(ROW_LABEL)}")
    flags = ["--resonance"] if table.startswith("resonance") else []
    if table.endswith("yarn"):
        # repr(): the shortest decimal that reads back as the same double, so the library gets
        # exactly 257/65 and not a rounded 3.953846.
        flags += ["--scaling", "yarn", "--factor", repr(YARN["factor"]),
                  "--original-max-position", str(YARN["original_max_position"]),
                  "--beta-fast", repr(YARN["beta_fast"]), "--beta-slow", repr(YARN["beta_slow"]),
                  "--apply-attention-factor"]
    return flags


def table_rows():
    """Positions in a table: the test input is [EOS] + 256 tokens = 257 positions."""
    return TEST_LEN + 1


# ---------------------------------------------------------------- models

# Head dimension 64 throughout, so that the pre-critical pairs are the paper's.
SIZES = {
    "xs": dict(n_layers=2, d_model=128, n_heads=2, d_ff=512),
    "s": dict(n_layers=4, d_model=256, n_heads=4, d_ff=1024),
    "t5-small": dict(n_layers=6, d_model=512, n_heads=8, d_ff=2048),
    "smoke": dict(n_layers=1, d_model=64, n_heads=1, d_ff=128),
}


def param_count(size):
    s = SIZES[size] if isinstance(size, str) else size
    d, f, L = s["d_model"], s["d_ff"], s["n_layers"]
    per_layer = 4 * d * d + 2 * d * f + 2 * d          # q, k, v, o; FFN in and out; 2 RMSNorm gains
    return 2 * VOCAB * d + d + L * per_layer           # embedding, output head, final norm


# ---------------------------------------------------------------- optimizer schedule

ONE_CYCLE = {"max_lr": 2e-4, "pct_start": 0.1, "div_factor": 25.0, "final_div_factor": 1e4,
             "base_momentum": 0.85, "max_momentum": 0.95}
# Our default max lr: 5 x the authors'. Measured (README, "Learning curve"): size xs, recursive,
# a 400-step one-cycle schedule reaches the 59/60 ID ceiling by step 160 at 1e-3 and stays near
# 30 % ID at 2e-4; our default schedule (800 steps) is about 15 x shorter than the authors'.
DEFAULT_LR = 1e-3
ADAMW = {"beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01}


def one_cycle(step, total, max_lr=None, pct_start=None):
    """(lr, beta1) at `step` of `total`: torch OneCycleLR with cosine annealing, as documented.

    Phase 1, steps 0 .. pct_start*total - 1: lr rises from max_lr/div_factor to max_lr and beta1
    falls from max_momentum to base_momentum; phase 2, to step total - 1: lr falls to
    max_lr/div_factor/final_div_factor and beta1 rises back. Both by a half cosine.
    """
    c = ONE_CYCLE
    max_lr = c["max_lr"] if max_lr is None else max_lr
    pct_start = c["pct_start"] if pct_start is None else pct_start
    if total < 2 or not 0 <= step < total:
        raise ValueError(f"step {step} of {total}: need total >= 2 and 0 <= step < total")
    lr0 = max_lr / c["div_factor"]
    lr_end = lr0 / c["final_div_factor"]
    end1 = float(pct_start * total) - 1.0
    end2 = float(total - 1)

    def cos_anneal(a, b, frac):
        return b + (a - b) / 2.0 * (1.0 + math.cos(math.pi * frac))

    if step <= end1:
        frac = step / end1 if end1 > 0 else 1.0
        return (cos_anneal(lr0, max_lr, frac),
                cos_anneal(c["max_momentum"], c["base_momentum"], frac))
    frac = (step - end1) / (end2 - end1)
    return (cos_anneal(max_lr, lr_end, frac),
            cos_anneal(c["base_momentum"], c["max_momentum"], frac))


def adamw_step(w, m, v, g, step, lr, beta1):
    """One torch.optim.AdamW update of one parameter array (numpy or jax), step = 1, 2, ...:
    decoupled decay w (1 - lr wd), moments m, v, bias corrections with the *current* beta1
    (1 - beta1^step, as torch computes them when OneCycleLR cycles beta1), eps outside the
    corrected square root. Returns (w, m, v)."""
    b2, eps, wd = ADAMW["beta2"], ADAMW["eps"], ADAMW["weight_decay"]
    w = w * (1 - lr * wd)
    m = beta1 * m + (1 - beta1) * g
    v = b2 * v + (1 - b2) * g * g
    c1 = 1 - beta1 ** step
    c2 = 1 - b2 ** step
    return w - (lr / c1) * m / ((v ** 0.5) / c2 ** 0.5 + eps), m, v


# ---------------------------------------------------------------- splits

# paper: the public code's split, every validation and test seed a training seed.
# disjoint: validation and test seeds kept out of training (C(17, 4) - 700 = 1680 training seeds,
# cycled to 10 000 sequences); validation 200 sequences, test 500.
SPLITS = {
    "paper": {"mode": "paper", "train": TRAIN_COUNT, "val": 1000, "test": 1000},
    "disjoint": {"mode": "disjoint", "train": TRAIN_COUNT, "val": 200, "test": 500},
}


def n_combinations():
    return math.comb(MODULUS, N_SEED)


def split_sizes_arg(split):
    s = SPLITS[split]
    return f"{s['train']},{s['val']},{s['test']}"


def seed_ranks(split, part, sizes=None):
    """Seed ranks (index into the lexicographic list of C(17, 4) combinations) of the sequences
    of one part (train, val, test) of a split: the library's rule, restated for the protocol
    record and the tests. `sizes` overrides (train, val, test)."""
    s = dict(SPLITS[split])
    if sizes is not None:
        s["train"], s["val"], s["test"] = sizes
    n = n_combinations()
    if s["mode"] == "paper":
        start = {"train": 0, "val": 0, "test": s["val"]}[part]
        return [(start + i) % n for i in range(s[part])]
    e = s["val"] + s["test"]
    if not n > e:
        raise ValueError(f"disjoint split: val + test = {e} leaves no training seed of {n}")
    evals = [k * n // e for k in range(e)]
    if part == "val":
        return evals[:s["val"]]
    if part == "test":
        return evals[s["val"]:]
    held = set(evals)
    pool = [r for r in range(n) if r not in held]
    return [pool[i % len(pool)] for i in range(s["train"])]


def split_record(split, sizes=None):
    train = set(seed_ranks(split, "train", sizes))
    val, test = seed_ranks(split, "val", sizes), seed_ranks(split, "test", sizes)
    s = dict(SPLITS[split])
    if sizes is not None:
        s["train"], s["val"], s["test"] = sizes
    return {"name": split, "mode": s["mode"], "sizes": {k: s[k] for k in ("train", "val", "test")},
            "distinct_training_seeds": len(train),
            "test_seeds_in_training": sum(r in train for r in set(test)),
            "val_seeds_in_training": sum(r in train for r in set(val)),
            "val_test_shared_seeds": len(set(val) & set(test))}


# ---------------------------------------------------------------- checkpoint selection

def select_checkpoints(history, tables):
    """The checkpoint each evaluation table selects: the step of the best validation ID accuracy
    under that table, the earliest on ties (a later checkpoint must be strictly better, as
    Lightning's ModelCheckpoint with mode "max" keeps it).

    history: [{"step": int, "val": {table: {"id_accuracy": float, ...}}}, ...] in step order.
    Returns {table: {"step": int, "val_id_accuracy": float}}.
    """
    best = {}
    for h in history:
        for t in tables:
            acc = h["val"].get(t, {}).get("id_accuracy", float("nan"))
            if acc != acc:                       # NaN (or no result) never wins
                continue
            if t not in best or acc > best[t]["val_id_accuracy"]:
                best[t] = {"step": h["step"], "val_id_accuracy": acc}
    missing = [t for t in tables if t not in best]
    if missing:
        raise ValueError(f"no validation result for table(s) {missing}")
    return best


# ---------------------------------------------------------------- metrics

def id_parity_accuracy(per_position):
    """Mean accuracy over the even and over the odd ID positions (4..63) of a per-position list.
    Semi-recursive: x_n for odd n is 2 x_{n-1} - x_{n-4} (local), for even n it needs the far
    token x_{(n-4)/2}, so the even positions measure the far dependency."""
    even = [per_position[n] for n in range(N_SEED, TRAIN_LEN) if n % 2 == 0]
    odd = [per_position[n] for n in range(N_SEED, TRAIN_LEN) if n % 2 == 1]
    return {"id_even": sum(even) / len(even), "id_odd": sum(odd) / len(odd)}


# ---------------------------------------------------------------- the protocol record

def protocol_record(cfg):
    """The top-level `protocol` object of results.json from a run configuration."""
    size = cfg["size"]
    m = SIZES[size]
    return {
        "source": "Wang et al. 2024 (arXiv 2403.00071), public code github sheryc/resonance_rope",
        "model": dict(m, size=size, head_dim=HEAD_DIM, rotary_dim=HEAD_DIM, vocab=VOCAB,
                      parameters=param_count(size), norm="pre-RMSNorm", ffn="ReLU",
                      attention="causal, softmax(q k^T / sqrt(64)), rotary q and k only",
                      embeddings="untied", authors="t5-small template: 6 layers, d 512, 8 heads, FFN 2048"),
        "dropout": cfg["dropout"],
        "optimizer": {"name": "AdamW (decoupled weight decay on every parameter)",
                      "beta1": "one-cycle", **ADAMW},
        "schedule": {"name": "one-cycle, cosine (torch OneCycleLR)", **ONE_CYCLE,
                     "max_lr": cfg["lr"], "authors_max_lr": ONE_CYCLE["max_lr"]},
        "batch": cfg["batch"],
        "steps": cfg["steps"],
        "authors_steps": AUTHORS_STEPS,
        "bos": {"token": "[EOS]", "id": BOS, "train_positions": [0, TRAIN_LEN],
                "test_positions": [0, TEST_LEN]},
        "yarn": {"factor": YARN["factor"], "original_max_position": YARN["original_max_position"],
                 "beta_fast": YARN["beta_fast"], "beta_slow": YARN["beta_slow"],
                 "mscale": YARN["mscale"], "mscale_applied_to": "cos and sin",
                 "applied": "eval"},
        "tables": {t: table_flags(t) for t in ROWS},
        "checkpoint_selection": {"metric": "validation ID accuracy (positions 4..63)",
                                 "per": "evaluation table", "every_steps": cfg["val_every"],
                                 "ties": "earliest", "validation": "held out from test"},
        "split": {s: split_record(s, cfg.get("split_sizes", {}).get(s)) for s in cfg["splits"]},
        "headline_split": cfg["splits"][0],
        "seeds": cfg["seeds"],
        "semi_seeds": cfg.get("semi_seeds", cfg["seeds"]),
        "second_split_seeds": cfg.get("second_seeds", cfg["seeds"]),
        "tasks": cfg.get("tasks"),
    }

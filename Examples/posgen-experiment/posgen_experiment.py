#!/usr/bin/env python3
"""PosGen comparison of RoPE, Resonance RoPE, YaRN and Resonance YaRN (Wang et al. 2024, Table 1).

Everything positional comes from this library, through its command-line tool:
  data      `resonance-rope posgen generate --format npy`   (train / test splits, paper or disjoint)
  cos/sin   `resonance-rope table --layout half`            (one table per method, positions 0..255)
  scoring   `resonance-rope posgen score --json`            (teacher-forced accuracy, ID and OOD)
The model is a small pre-LN decoder-only transformer in JAX whose only position information is
the rotation by those tables.

Methods are trained in PAIRS: for one seed every method gets the same initial parameters (the
tables are not parameters) and the same batches in the same order, so that "Resonance minus
plain" is a paired difference.

    python3 posgen_experiment.py                      # the full run (resumable), then analysis
    python3 posgen_experiment.py --splits paper --tasks recurrent --methods rope,resonance --seeds 0,1,2
                                                      # the overlapping split, for comparison
    python3 posgen_experiment.py --tasks cot --methods rope,resonance --seeds 0,1
    python3 posgen_experiment.py --smoke              # tiny, for `make test`
    python3 posgen_experiment.py --analyze-only       # results.json and plots from run files

Per-run results go to <out>/runs/<split>/<task>/<method>/seed<k>.json; a run whose file exists
is skipped, so an interrupted run is resumed by running the same command again.
"""
import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

TASKS = ("recurrent", "cot", "semirecurrent")
METHODS = ("rope", "resonance", "yarn", "resonance_yarn")
SPLITS = ("disjoint", "paper")

# The paper's PosGen setting (Wang et al. 2024, Sec. 6.1 and appendix): modulus 17, 3 near and
# 1 far dependency, train on length 64, test on length 256.
MODULUS, NEAR, FAR = 17, 3, 1
TRAIN_LEN, TEST_LEN = 64, 256
# 2380 = C(17, 4) distinct seeds exist. With the library's default split sizes (10000,1000,1000)
# the disjoint split leaves only 380 distinct training seeds; 100 validation and 500 test seeds
# leave 1780 for training. The same sizes are used for the paper split so the two are comparable.
SPLIT_SIZES = "10000,100,500"

# YaRN as in the paper's PosGen runs: scale 4 over the training length, beta_fast 2, beta_slow 1.
YARN_FLAGS = ["--scaling", "yarn", "--factor", "4", "--original-max-position", str(TRAIN_LEN),
              "--beta-fast", "2", "--beta-slow", "1", "--apply-attention-factor"]
METHOD_FLAGS = {
    "rope": [],
    "resonance": ["--resonance"],
    "yarn": YARN_FLAGS,
    "resonance_yarn": ["--resonance"] + YARN_FLAGS,
}
# Extra evaluation of a trained model with another method's table (YaRN at evaluation only).
EVAL_ALSO = {"rope": ("yarn",), "resonance": ("resonance_yarn",)}
METHOD_LABEL = {"rope": "RoPE", "resonance": "Resonance RoPE", "yarn": "YaRN",
                "resonance_yarn": "Resonance YaRN"}

# The lead's reference setup (2 layers, d_model 128, 2 heads of 64, MLP 512, batch 128, 400 steps),
# which reaches the in-distribution ceiling on recursive and CoT. A smaller model
# (`--d-model 64 --n-heads 1 --d-mlp 256 --batch 64`) was tried to fit the shared CPU and did not:
# see README.md, "Sizing".
FULL = dict(d_model=128, n_heads=2, n_layers=2, d_mlp=512, batch=128, lr=3e-3, warmup=20,
            weight_decay=0.01, steps={"recurrent": 400, "cot": 400, "semirecurrent": 1200},
            train_count=10000, test_count=500, split_sizes=SPLIT_SIZES, test_len=TEST_LEN)
SMOKE = dict(d_model=32, n_heads=2, n_layers=1, d_mlp=64, batch=16, lr=3e-3, warmup=2,
             weight_decay=0.01, steps={"recurrent": 12, "cot": 12, "semirecurrent": 12},
             train_count=256, test_count=16, split_sizes="256,16,16", test_len=TEST_LEN)


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


def cli_path():
    path = os.environ.get("RESONANCE_ROPE_CLI") or os.path.join(ROOT, "stage", "bin", "resonance-rope")
    if not os.path.exists(path):
        sys.exit(f"posgen_experiment: {path} not found: run `make stage` at the top of the "
                 "repository, or set RESONANCE_ROPE_CLI")
    return path


def run_cli(args):
    r = subprocess.run([cli_path()] + args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"resonance-rope {' '.join(args)} failed: {r.stderr.strip()}")
    return r.stdout


# ---------------------------------------------------------------- data and tables (library CLI)

def data_files(cache, cfg, task, split):
    """Train ([train_count, 64]) and test ([test_count, 256]) .npy files from the library."""
    os.makedirs(cache, exist_ok=True)
    common = ["posgen", "generate", "--task", task, "--modulus", str(MODULUS), "--near", str(NEAR),
              "--far", str(FAR), "--split-mode", split, "--split-sizes", cfg["split_sizes"],
              "--format", "npy"]
    out = {}
    for part, length, count in (("train", TRAIN_LEN, cfg["train_count"]),
                                ("test", cfg["test_len"], cfg["test_count"])):
        path = os.path.join(cache, f"{task}-{split}-{part}-{cfg['split_sizes'].replace(',', '_')}"
                                   f"-{count}x{length}.npy")
        if not os.path.exists(path):
            tmp = path + f".tmp{os.getpid()}"
            run_cli(common + ["--split", part, "--length", str(length), "--count", str(count),
                              "--out", tmp])
            os.replace(tmp, path)
        out[part] = path
    return out


def table_file(cache, method, head_dim, count):
    """[2, count, head_dim/2] float32 cos, sin (NeoX half layout) for positions 0..count-1."""
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, f"table-{method}-d{head_dim}-n{count}.npy")
    if not os.path.exists(path):
        tmp = path + f".tmp{os.getpid()}.npy"
        run_cli(["table", "--rotary-dim", str(head_dim), "--base", "10000", "--start", "0",
                 "--count", str(count), "--layout", "half", "--out", tmp] + METHOD_FLAGS[method])
        os.replace(tmp, path)
    return path


# ---------------------------------------------------------------- one training run (worker)

def train_one(job, cfg, cache):
    import numpy as np
    import jax
    import jax.numpy as jnp

    task, method, seed, split = job["task"], job["method"], job["seed"], job["split"]
    steps = job["steps"]
    D, H, NL, DM = cfg["d_model"], cfg["n_heads"], cfg["n_layers"], cfg["d_mlp"]
    hd = D // H
    V = MODULUS
    t0 = time.time()

    files = data_files(cache, cfg, task, split)
    train = np.load(files["train"]).astype(np.int32)
    test = np.load(files["test"]).astype(np.int32)
    tab = np.load(table_file(cache, method, hd, cfg["test_len"]))
    cos_all, sin_all = jnp.asarray(tab[0]), jnp.asarray(tab[1])      # [256, hd/2]

    # ---- parameters: depend on the seed only (same for every method of a pair)
    key = jax.random.PRNGKey(seed)
    ks = iter(jax.random.split(key, 4 + 4 * NL))

    def dense(k, n_in, n_out, scale=1.0):
        return jax.random.normal(k, (n_in, n_out), jnp.float32) * (scale / np.sqrt(n_in))

    params = {"emb": jax.random.normal(next(ks), (V, D), jnp.float32) * 0.02,
              "lnf": jnp.ones((D,)), "head": dense(next(ks), D, V), "layers": []}
    for _ in range(NL):
        params["layers"].append({
            "ln1": jnp.ones((D,)), "wqkv": dense(next(ks), D, 3 * D),
            "wo": dense(next(ks), D, D, 1.0 / np.sqrt(2 * NL)),
            "ln2": jnp.ones((D,)), "w1": dense(next(ks), D, DM),
            "w2": dense(next(ks), DM, D, 1.0 / np.sqrt(2 * NL))})

    def layernorm(x, g):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) * jax.lax.rsqrt(var + 1e-5) * g

    def rotate(x, cos, sin):
        # NeoX half layout, as the library's `--layout half` table: pair i is (x[i], x[i + hd/2]),
        # rotated by the angle whose cos/sin the library computed for this position and pair.
        x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
        c, s = cos[None, :, None, :], sin[None, :, None, :]
        return jnp.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], axis=-1)

    def forward_with(p, tokens, cos_tab, sin_tab):
        B, T = tokens.shape
        cos, sin = cos_tab[:T], sin_tab[:T]
        x = p["emb"][tokens]
        mask = jnp.tril(jnp.ones((T, T), bool))
        for L in p["layers"]:
            h = layernorm(x, L["ln1"])
            q, k, v = jnp.split((h @ L["wqkv"]).reshape(B, T, 3 * H, hd), 3, axis=2)
            q, k = rotate(q, cos, sin), rotate(k, cos, sin)
            att = jnp.einsum("bthd,bshd->bhts", q, k) / np.sqrt(hd)
            att = jax.nn.softmax(jnp.where(mask, att, -1e30), axis=-1)
            x = x + jnp.einsum("bhts,bshd->bthd", att, v).reshape(B, T, D) @ L["wo"]
            h = layernorm(x, L["ln2"])
            x = x + jax.nn.gelu(h @ L["w1"]) @ L["w2"]
        return layernorm(x, p["lnf"]) @ p["head"]

    def forward(p, tokens):                   # training and evaluation use this method's table
        return forward_with(p, tokens, cos_all, sin_all)

    n_seed = NEAR + FAR
    # Loss only after the seed tokens: targets at positions >= j + k.
    loss_mask = (jnp.arange(1, TRAIN_LEN) >= n_seed).astype(jnp.float32)

    def loss_fn(p, tokens):
        logits = forward(p, tokens[:, :-1])
        logp = jax.nn.log_softmax(logits, -1)
        nll = -jnp.take_along_axis(logp, tokens[:, 1:, None], -1)[..., 0]
        return (nll * loss_mask).sum() / (loss_mask.sum() * tokens.shape[0])

    # ---- AdamW (decoupled weight decay on matrices), linear warmup then cosine to 10 %
    b1, b2, eps, lr0, wd = 0.9, 0.98, 1e-8, cfg["lr"], cfg["weight_decay"]
    warm = cfg["warmup"]

    def lr_at(t):
        t = t.astype(jnp.float32)
        cosdec = 0.1 + 0.9 * 0.5 * (1 + jnp.cos(jnp.pi * jnp.clip((t - warm) / max(steps - warm, 1), 0, 1)))
        return lr0 * jnp.where(t < warm, (t + 1) / warm, cosdec)

    @jax.jit
    def step(p, m, v, t, tokens):
        loss, g = jax.value_and_grad(loss_fn)(p, tokens)
        gn = jnp.sqrt(sum(jnp.sum(x * x) for x in jax.tree_util.tree_leaves(g)))
        g = jax.tree_util.tree_map(lambda x: x * jnp.minimum(1.0, 1.0 / (gn + 1e-6)), g)   # clip 1
        m = jax.tree_util.tree_map(lambda a, b: b1 * a + (1 - b1) * b, m, g)
        v = jax.tree_util.tree_map(lambda a, b: b2 * a + (1 - b2) * b * b, v, g)
        lr = lr_at(t)
        c1, c2 = 1 - b1 ** (t + 1.0), 1 - b2 ** (t + 1.0)
        p = jax.tree_util.tree_map(
            lambda w, a, b: w - lr * ((a / c1) / (jnp.sqrt(b / c2) + eps) + (wd * w if w.ndim == 2 else 0)),
            p, m, v)
        return p, m, v, loss

    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    v = jax.tree_util.tree_map(jnp.zeros_like, params)

    # ---- data order: depends on the seed only (same for every method of a pair)
    rng = np.random.default_rng(seed)
    B = cfg["batch"]
    order = np.concatenate([rng.permutation(len(train)) for _ in range(steps * B // len(train) + 1)])
    losses = []
    t_train = time.time()
    for t in range(steps):
        batch = jnp.asarray(train[order[t * B:(t + 1) * B]])
        params, m, v, loss = step(params, m, v, jnp.asarray(t), batch)
        if t % 20 == 0 or t == steps - 1:
            losses.append([t, float(loss)])
    train_s = time.time() - t_train

    # ---- teacher-forced prediction on length-256 test sequences, scored by the library
    def predict_and_score(fwd):
        preds = np.empty_like(test)
        preds[:, :1] = test[:, :1]
        eb = 50
        for i in range(0, len(test), eb):
            logits = fwd(params, jnp.asarray(test[i:i + eb, :-1]))
            preds[i:i + eb, 1:] = np.asarray(jnp.argmax(logits, -1))
        preds[:, :n_seed] = test[:, :n_seed]          # seed positions are given, not predicted
        with tempfile.TemporaryDirectory() as tmp:
            pp = os.path.join(tmp, "pred.npy")
            np.save(pp, preds)
            return json.loads(run_cli(["posgen", "score", "--pred", pp, "--ref", files["test"],
                                       "--train-length", str(TRAIN_LEN), "--near", str(NEAR),
                                       "--far", str(FAR), "--json"]))

    score = predict_and_score(jax.jit(forward))
    # The public code switches YaRN on at evaluation only: the same trained RoPE (Resonance RoPE)
    # model, evaluated with the YaRN (Resonance YaRN) table. Costs one extra evaluation.
    eval_with = {}
    for other in EVAL_ALSO.get(method, ()):
        t2 = np.load(table_file(cache, other, hd, cfg["test_len"]))
        c2, s2 = jnp.asarray(t2[0]), jnp.asarray(t2[1])
        sc = predict_and_score(jax.jit(lambda p, x: forward_with(p, x, c2, s2)))
        eval_with[other] = {"id_accuracy": sc["id_accuracy"], "ood_accuracy": sc["ood_accuracy"],
                            "per_position": sc["per_position"]}
    return {"task": task, "method": method, "seed": seed, "split": split, "steps": steps,
            "id_accuracy": score["id_accuracy"], "ood_accuracy": score["ood_accuracy"],
            "per_position": score["per_position"], "score": {k: v for k, v in score.items()
                                                              if k != "per_position"},
            "eval_with": eval_with,
            "loss_curve": losses, "final_loss": losses[-1][1],
            "train_seconds": round(train_s, 1), "wall_seconds": round(time.time() - t0, 1)}


# ---------------------------------------------------------------- orchestration

def run_path(out, job):
    return os.path.join(out, "runs", job["split"], job["task"], job["method"], f"seed{job['seed']}.json")


def worker_main(args):
    cfg = json.loads(args.cfg_json)
    job = json.loads(args.worker)
    started = utcnow()
    res = train_one(job, cfg, args.cache)
    res["started_utc"] = started.isoformat(timespec="seconds")
    res["finished_utc"] = utcnow().isoformat(timespec="seconds")
    res["config"] = {k: cfg[k] for k in cfg if k != "steps"}
    path = run_path(args.out, job)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(res, f)
    os.replace(path + ".tmp", path)


def build_queue(args, cfg):
    """Priority order: for each seed, every (split, task, method), so that whatever completes
    consists of whole pairs; headline (disjoint split) before the rest."""
    tasks = args.tasks.split(",")
    methods = args.methods.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    # semi-recursive runs 3x the steps: by default the first 3 seeds (the full run fits ~2.5 h)
    semi_seeds = [int(s) for s in args.semi_seeds.split(",")] if args.semi_seeds else seeds[:3]
    splits = args.splits.split(",")
    queue = []
    for split in splits:
        for group in (("recurrent", "cot"), ("semirecurrent",)):
            gt = [t for t in group if t in tasks]
            gm = methods if group[0] != "semirecurrent" else [m for m in methods if m in args.semi_methods.split(",")]
            for seed in (seeds if group[0] != "semirecurrent" else semi_seeds):
                for task in gt:
                    for method in gm:
                        queue.append({"split": split, "task": task, "method": method, "seed": seed,
                                      "steps": cfg["steps"][task]})
    return queue


def orchestrate(args, cfg):
    os.makedirs(args.out, exist_ok=True)
    queue = build_queue(args, cfg)
    todo = [j for j in queue if not os.path.exists(run_path(args.out, j))]
    print(f"posgen_experiment: {len(queue)} runs planned, {len(queue) - len(todo)} already done, "
          f"{len(todo)} to run with {args.jobs} parallel job(s)", flush=True)
    # Prepare data and tables once, serially, before the workers start.
    for j in todo:
        data_files(args.cache, cfg, j["task"], j["split"])
        table_file(args.cache, j["method"], cfg["d_model"] // cfg["n_heads"], cfg["test_len"])
    env = dict(os.environ)
    # One core per run: two runs in parallel use the machine better than one run on two threads.
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") +
                        " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
    env.setdefault("OMP_NUM_THREADS", "1")
    deadline = None
    if args.deadline:
        hh, mm = map(int, args.deadline.split(":"))
        now = utcnow()
        deadline = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
    log = open(os.path.join(args.out, "progress.log"), "a")
    running, done, t_start = [], 0, time.time()
    durations = []

    def say(msg):
        line = f"[{utcnow().strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    pending = list(todo)
    while pending or running:
        while pending and len(running) < args.jobs:
            if deadline and utcnow() >= deadline:
                say(f"deadline {args.deadline} UTC reached: {len(pending)} run(s) not started")
                pending = []
                break
            j = pending.pop(0)
            cmd = [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(j),
                   "--cfg-json", json.dumps(cfg), "--out", args.out, "--cache", args.cache]
            p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            running.append((p, j, time.time()))
            say(f"start  {j['split']:8s} {j['task']:13s} {j['method']:14s} seed {j['seed']} "
                f"({j['steps']} steps)")
        time.sleep(0.5 if args.smoke else 2)
        for p, j, ts in list(running):
            if p.poll() is None:
                continue
            running.remove((p, j, ts))
            outtxt = p.stdout.read()
            if p.returncode != 0:
                say(f"FAILED {j} (exit {p.returncode}):\n{outtxt}")
                if args.smoke:
                    sys.exit(1)
                continue
            done += 1
            durations.append(time.time() - ts)
            r = json.load(open(run_path(args.out, j)))
            left = len(pending) + len(running)
            eta = (sum(durations) / len(durations)) * left / args.jobs
            say(f"done   {j['split']:8s} {j['task']:13s} {j['method']:14s} seed {j['seed']}: "
                f"ID {100 * r['id_accuracy']:.2f}  OOD {100 * r['ood_accuracy']:.2f}  "
                f"loss {r['final_loss']:.4f}  {r['wall_seconds']:.0f}s   "
                f"[{done}/{len(todo)}, ~{eta / 60:.0f} min left]")
    say(f"all started runs finished; this invocation took {(time.time() - t_start) / 60:.1f} min")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default="recurrent,cot,semirecurrent")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--semi-methods", default="rope,resonance",
                    help="methods run on semirecurrent (longer schedule); default RoPE vs Resonance RoPE")
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--semi-seeds", help="seeds of the semirecurrent runs (default: the first 3 of --seeds)")
    ap.add_argument("--splits", default="disjoint",
                    help="disjoint (default): test seeds held out from training; paper: the public "
                         "code's overlap (add it with --splits disjoint,paper: it doubles the run)")
    ap.add_argument("--jobs", type=int, default=2, help="runs in parallel, one core each")
    ap.add_argument("--steps", type=int, help="override the steps of every task")
    ap.add_argument("--d-model", type=int, help="override the model width")
    ap.add_argument("--n-heads", type=int, help="override the number of heads (head dim = d_model / heads)")
    ap.add_argument("--d-mlp", type=int, help="override the MLP width")
    ap.add_argument("--batch", type=int, help="override the batch size")
    ap.add_argument("--semi-steps", type=int, help="override the semirecurrent steps")
    ap.add_argument("--deadline", help="HH:MM UTC: start no run after this time")
    ap.add_argument("--out", default=HERE, help="results directory (runs/, results.json, plots)")
    ap.add_argument("--cache", help="data and table cache (default <out>/.cache)")
    ap.add_argument("--smoke", action="store_true", help="tiny run into a temporary directory")
    ap.add_argument("--analyze-only", action="store_true")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--cfg-json", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker_main(args)

    cfg = json.loads(json.dumps(SMOKE if args.smoke else FULL))
    if args.steps:
        cfg["steps"] = {t: args.steps for t in TASKS}
    for k in ("d_model", "n_heads", "d_mlp", "batch"):
        if getattr(args, k) is not None:
            cfg[k] = getattr(args, k)
    if args.semi_steps:
        cfg["steps"]["semirecurrent"] = args.semi_steps
    tmpdir = None
    if args.smoke:
        tmpdir = tempfile.mkdtemp(prefix="posgen-smoke-")
        args.out = tmpdir
        if args.tasks == ap.get_default("tasks"):
            args.tasks = "recurrent"
        args.seeds = "0" if args.seeds == ap.get_default("seeds") else args.seeds
        args.splits = "disjoint"
        args.jobs = min(args.jobs, 2)
    args.cache = args.cache or os.path.join(args.out, ".cache")
    cli_path()
    t0 = time.time()
    if not args.analyze_only:
        orchestrate(args, cfg)
    sys.path.insert(0, HERE)
    import analyze
    results = analyze.analyze(args.out, cfg=cfg)
    if args.smoke:
        runs = results["runs"]
        ok = (len(runs) == len(args.methods.split(","))
              and all(0.0 <= r["ood_accuracy"] <= 1.0 and 0.0 <= r["id_accuracy"] <= 1.0 for r in runs)
              and all(os.path.exists(os.path.join(args.out, f)) for f in results["plots"]))
        print(f"posgen_experiment --smoke: {len(runs)} runs, results.json and "
              f"{len(results['plots'])} plots in {time.time() - t0:.0f}s: {'OK' if ok else 'FAILED'}")
        shutil.rmtree(tmpdir, ignore_errors=True)
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""PosGen in the authors' protocol: RoPE, Resonance RoPE, YaRN, Resonance YaRN (Wang et al. 2024).

Everything positional comes from this library, through its command-line tool:
  data      `resonance-rope posgen generate --format npy`   (train / val / test, paper or disjoint)
  cos/sin   `resonance-rope table --layout half`            (one table per evaluation table)
  scoring   `resonance-rope posgen score --json`            (teacher-forced accuracy, ID and OOD)
Only RoPE and Resonance RoPE models are trained; the YaRN (Resonance YaRN) row is the RoPE
(Resonance RoPE) model evaluated with the authors' YaRN table, each table with its own
checkpoint, selected by validation ID accuracy under that table (protocol.py has the facts).

    posgen_experiment.py run [--size xs --steps 2000 ...]   the full run (resumable), then analysis
    posgen_experiment.py curve --task recurrent --size xs --steps 600 --val-every 25
                                                            a learning curve and seconds per step
    posgen_experiment.py rescore --name NAME --table yarn [--factor ... table flags]
                                                            re-score saved parameters, no training
    posgen_experiment.py analyze                            results.json, results.md, plots
    posgen_experiment.py smoke                              tiny end-to-end run (`make test`)
(`--smoke` and `--analyze-only` are accepted for `smoke` and `analyze`.)

Per run: <out>/runs/<split>/<task>/<model>/seed<k>.json (selection, scores, validation history,
timings) and seed<k>.npz (the parameters of every selected checkpoint and of the last step).
A run whose .json exists is skipped, so an interrupted run resumes by the same command.
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
sys.path.insert(0, HERE)
import protocol as P  # noqa: E402

DEFAULT_OUT = os.path.join(HERE, "paper-protocol")
# One thread per training process: the machine has 2 cores shared with other work, and two
# single-threaded runs side by side use it better than one run on two threads.
ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


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
    """train [n, 64], val [n, 64] (ID accuracy needs only the first 64 tokens: the model is
    causal), test [n, 256], as .npy from the library."""
    os.makedirs(cache, exist_ok=True)
    sizes = cfg.get("split_sizes", {}).get(split)
    sizes_arg = ",".join(map(str, sizes)) if sizes else P.split_sizes_arg(split)
    common = ["posgen", "generate", "--task", task, "--modulus", str(P.MODULUS), "--near", str(P.NEAR),
              "--far", str(P.FAR), "--split-mode", P.SPLITS[split]["mode"], "--split-sizes", sizes_arg,
              "--format", "npy"]
    counts = dict(zip(("train", "val", "test"), map(int, sizes_arg.split(","))))
    out = {}
    for part, length in (("train", P.TRAIN_LEN), ("val", P.TRAIN_LEN), ("test", P.TEST_LEN)):
        path = os.path.join(cache, f"{task}-{split}-{sizes_arg.replace(',', '_')}-{part}x{length}.npy")
        if not os.path.exists(path):
            tmp = path + f".tmp{os.getpid()}.npy"
            run_cli(common + ["--split", part, "--length", str(length), "--count", str(counts[part]),
                              "--out", tmp])
            os.replace(tmp, path)
        out[part] = path
    return out


def table_file(cache, table, flags=None, name=None):
    """[2, 257, 32] float32 cos, sin (half layout) of an evaluation table."""
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, f"table-{name or table}-d{P.HEAD_DIM}-n{P.table_rows()}.npy")
    if not os.path.exists(path):
        tmp = path + f".tmp{os.getpid()}.npy"
        run_cli(["table", "--rotary-dim", str(P.HEAD_DIM), "--base", repr(P.ROPE_BASE), "--start", "0",
                 "--count", str(P.table_rows()), "--layout", "half", "--out", tmp]
                + (flags if flags is not None else P.table_flags(table)))
        os.replace(tmp, path)
    return path


def score_with_library(pred, ref_file):
    with tempfile.TemporaryDirectory() as tmp:
        pp = os.path.join(tmp, "pred.npy")
        import numpy as np
        np.save(pp, pred)
        sc = json.loads(run_cli(["posgen", "score", "--pred", pp, "--ref", ref_file, "--train-length",
                                 str(P.TRAIN_LEN), "--near", str(P.NEAR), "--far", str(P.FAR), "--json"]))
    sc.update(P.id_parity_accuracy(sc["per_position"]))
    return sc


# ---------------------------------------------------------------- the model (JAX)

class Model:
    """A decoder shaped like the authors' t5-small-template decoder: pre-RMSNorm blocks of causal
    self-attention and a ReLU FFN, no biases, dropout on the embedding output, the attention
    probabilities, each residual branch, the FFN hidden layer and the final norm output (where
    T5 puts it). The only position information is the rotation of q and k by a table."""

    def __init__(self, cfg, cache=None):
        import jax
        import jax.numpy as jnp
        import numpy as np
        if cache:
            # Runs of one size share their compiled steps (compiling is most of a short run).
            jax.config.update("jax_compilation_cache_dir", os.path.join(cache, "xla"))
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        self.jax, self.jnp, self.np = jax, jnp, np
        m = P.SIZES[cfg["size"]]
        self.L, self.D, self.H, self.F = m["n_layers"], m["d_model"], m["n_heads"], m["d_ff"]
        if self.D != self.H * P.HEAD_DIM:
            raise ValueError(f"size {cfg['size']}: d_model must be n_heads * {P.HEAD_DIM}")
        self.dropout = cfg["dropout"]
        self.cfg = cfg
        self.loss_and_grad = jax.jit(jax.value_and_grad(self._loss))
        self.eval_logits = jax.jit(lambda p, x, c, s: self._forward(p, x, c, s, None))
        self.adamw = jax.jit(self._adamw)

    def init(self, seed):
        """Parameters of a seed: the same for every model of a pair (the tables are not parameters)."""
        jax, jnp, np = self.jax, self.jnp, self.np
        ks = iter(jax.random.split(jax.random.PRNGKey(seed), 2 + 4 * self.L))

        def dense(k, n_in, n_out, scale=1.0):
            return jax.random.normal(k, (n_in, n_out), jnp.float32) * (scale / np.sqrt(n_in))

        p = {"emb": jax.random.normal(next(ks), (P.VOCAB, self.D), jnp.float32),
             "lnf": jnp.ones((self.D,)), "head": dense(next(ks), self.D, P.VOCAB)}
        for i in range(self.L):
            p[f"l{i}"] = {"ln1": jnp.ones((self.D,)), "wqkv": dense(next(ks), self.D, 3 * self.D),
                          "wo": dense(next(ks), self.D, self.D, 1.0 / np.sqrt(2 * self.L)),
                          "ln2": jnp.ones((self.D,)), "w1": dense(next(ks), self.D, self.F),
                          "w2": dense(next(ks), self.F, self.D, 1.0 / np.sqrt(2 * self.L))}
        return p

    def _hash(self, x):
        """lowbias32 (C. Wellons' 32-bit integer hash): a counter-based source of dropout bits.
        jax.random's threefry costs 0.51 CPU s for 16 M Bernoulli draws on this machine (one
        thread), which is most of a step at size xs; this hash takes 0.034 s for the same 16 M.
        Dropout needs decorrelated bits, not cryptographic ones."""
        u = self.jnp.uint32
        x = x ^ (x >> 16)
        x = x * u(0x7FEB352D)
        x = x ^ (x >> 15)
        x = x * u(0x846CA68B)
        return x ^ (x >> 16)

    def _drop(self, x, key, i):
        """Dropout at site i of the step whose uint32 seed is `key` (None: evaluation)."""
        if key is None or self.dropout == 0:
            return x
        jnp = self.jnp
        site = self._hash(key ^ self._hash(jnp.uint32(i + 1)))
        bits = self._hash(self.jax.lax.iota(jnp.uint32, x.size) + site).reshape(x.shape)
        keep = bits >= jnp.uint32(int(self.dropout * 2 ** 32))     # P(drop) = p to 2^-32
        return jnp.where(keep, x / (1.0 - self.dropout), 0.0)

    def _forward(self, p, tokens, cos_tab, sin_tab, key):
        jax, jnp = self.jax, self.jnp
        B, T = tokens.shape
        hd, h2 = P.HEAD_DIM, P.HEAD_DIM // 2
        c, s = cos_tab[None, :T, None, :], sin_tab[None, :T, None, :]

        def rms(x, g):                                     # T5 LayerNorm: no mean, no bias
            return x * jax.lax.rsqrt((x * x).mean(-1, keepdims=True) + 1e-6) * g

        def rotate(x):                                     # half layout: pair i = (x[i], x[i + 32])
            x1, x2 = x[..., :h2], x[..., h2:]
            return jnp.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], axis=-1)

        mask = jnp.tril(jnp.ones((T, T), bool))
        x = self._drop(p["emb"][tokens], key, 0)
        for i in range(self.L):
            Lp = p[f"l{i}"]
            q, k, v = jnp.split((rms(x, Lp["ln1"]) @ Lp["wqkv"]).reshape(B, T, 3 * self.H, hd), 3, axis=2)
            att = jnp.einsum("bthd,bshd->bhts", rotate(q), rotate(k)) / jnp.sqrt(float(hd))
            att = jax.nn.softmax(jnp.where(mask, att, -1e30), axis=-1)
            att = self._drop(att, key, 1 + 4 * i)
            a = jnp.einsum("bhts,bshd->bthd", att, v).reshape(B, T, self.D) @ Lp["wo"]
            x = x + self._drop(a, key, 2 + 4 * i)
            hdn = self._drop(jax.nn.relu(rms(x, Lp["ln2"]) @ Lp["w1"]), key, 3 + 4 * i)
            x = x + self._drop(hdn @ Lp["w2"], key, 4 + 4 * i)
        return self._drop(rms(x, p["lnf"]), key, 5 + 4 * self.L) @ p["head"]

    def _loss(self, p, tokens, cos_tab, sin_tab, key):
        """tokens: [B, 65] = [EOS] + 64; logits at positions 0..63 predict x_0..x_63; the loss
        covers x_4..x_63 (the 4 seed tokens are given), as the authors' label mask."""
        jax, jnp = self.jax, self.jnp
        logits = self._forward(p, tokens, cos_tab, sin_tab, key)[:, :-1]
        tgt = tokens[:, 1:]
        logp = jax.nn.log_softmax(logits, -1)
        nll = -jnp.take_along_axis(logp, tgt[..., None], -1)[..., 0]
        return nll[:, P.N_SEED:].mean()

    def _adamw(self, p, m, v, g, step, lr, beta1):
        """protocol.adamw_step (torch.optim.AdamW) on every parameter; step counts from 1."""
        tm = self.jax.tree_util.tree_map
        new = tm(lambda w, a, b, d: P.adamw_step(w, a, b, d, step, lr, beta1), p, m, v, g)
        first = lambda i: tm(lambda x: x[i], new, is_leaf=lambda x: isinstance(x, tuple))  # noqa: E731
        return first(0), first(1), first(2)


def load_table(path):
    import numpy as np
    t = np.load(path)
    return t[0], t[1]


def with_bos(x):
    import numpy as np
    return np.concatenate([np.full((len(x), 1), P.BOS, x.dtype), x], axis=1)


def validate(model, params, val_bos, cos, sin, eb=250):
    """Validation ID accuracy and loss under one table: teacher-forced on [EOS] + the first 64
    tokens (positions 4..63 are the ID targets; causal, so the 256-token sequence would give the
    same predictions there)."""
    np, jnp = model.np, model.jnp
    correct = np.zeros(P.TRAIN_LEN)
    nll = 0.0
    for i in range(0, len(val_bos), eb):
        xb = jnp.asarray(val_bos[i:i + eb])
        logits = np.asarray(model.eval_logits(params, xb, cos, sin))[:, :-1]
        tgt = val_bos[i:i + eb, 1:]
        correct += (logits.argmax(-1) == tgt).sum(0)
        lp = logits - logits.max(-1, keepdims=True)
        lp = lp - np.log(np.exp(lp).sum(-1, keepdims=True))
        nll += -np.take_along_axis(lp, tgt[..., None], -1)[..., 0][:, P.N_SEED:].sum()
    per = correct / len(val_bos)
    out = {"id_accuracy": float(per[P.N_SEED:].mean()),
           "id_loss": float(nll / (len(val_bos) * (P.TRAIN_LEN - P.N_SEED)))}
    out.update({k: float(v) for k, v in P.id_parity_accuracy(list(per)).items()})
    return out


def predict(model, params, test, cos, sin, eb=100):
    """Greedy teacher-forced predictions [n, 256] of the test sequences (input [EOS] + x_0..x_254)."""
    np, jnp = model.np, model.jnp
    xin = with_bos(test)[:, :-1]
    pred = np.empty_like(test)
    for i in range(0, len(test), eb):
        pred[i:i + eb] = np.asarray(model.eval_logits(params, jnp.asarray(xin[i:i + eb]), cos, sin)).argmax(-1)
    pred[:, :P.N_SEED] = test[:, :P.N_SEED]               # the seed tokens are given
    return pred


def flatten(params):
    out = {}
    for k, v in params.items():
        if isinstance(v, dict):
            for k2, v2 in v.items():
                out[f"{k}.{k2}"] = v2
        else:
            out[k] = v
    return out


def unflatten(flat):
    p = {}
    for k, v in flat.items():
        if "." in k:
            a, b = k.split(".", 1)
            p.setdefault(a, {})[b] = v
        else:
            p[k] = v
    return p


def to_numpy(params):
    import numpy as np
    return {k: np.asarray(v) for k, v in flatten(params).items()}


# ---------------------------------------------------------------- one training run

def train_one(job, cfg, cache, npz_path=None, log=None, test=True, val_count=None):
    """Train one model; validate every cfg["val_every"] steps under each of its evaluation tables;
    test each table's selected checkpoint (and the last) unless test=False (learning curves).
    val_count: validate on the first val_count validation sequences only (curves)."""
    import numpy as np
    import jax
    import jax.numpy as jnp

    task, trained, seed, split, steps = job["task"], job["model"], job["seed"], job["split"], job["steps"]
    val_every = cfg["val_every"]
    t0 = time.time()
    files = data_files(cache, cfg, task, split)
    train = with_bos(np.load(files["train"]).astype(np.int32))
    val = with_bos(np.load(files["val"]).astype(np.int32))[:val_count]
    do_test = test
    test = np.load(files["test"]).astype(np.int32)
    tables = {t: tuple(jnp.asarray(a) for a in load_table(table_file(cache, t))) for t in P.EVAL_TABLES[trained]}
    train_cos, train_sin = tables[trained]                # trained with the unscaled table

    model = Model(cfg, cache)
    params = model.init(seed)
    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    v = jax.tree_util.tree_map(jnp.zeros_like, params)
    # Dropout seeds: a function of (seed, step) only, so both models of a seed drop the same units.
    step_seeds = np.asarray(np.random.default_rng([seed, 10_000]).integers(0, 2 ** 32, size=steps), np.uint32)

    # Batches: a fresh permutation each epoch, the same order for both models of a seed.
    rng = np.random.default_rng(seed)
    B = cfg["batch"]
    order = np.concatenate([rng.permutation(len(train)) for _ in range(steps * B // len(train) + 1)])

    history, snapshots = [], {}
    loss_sum, loss_n, step_seconds, step_cpu = 0.0, 0, [], []
    val_seconds = 0.0

    def do_validate(step):
        nonlocal val_seconds
        tv = time.time()
        rec = {"step": step, "train_loss": loss_sum / max(loss_n, 1),
               "lr": P.one_cycle(min(step, steps - 1), steps, cfg["lr"])[0],
               "val": {t: validate(model, params, val, *tables[t]) for t in tables}}
        history.append(rec)
        snapshots[step] = to_numpy(params)
        # Keep only snapshots that are still a best (or the newest): memory stays small.
        best = P.select_checkpoints(history, list(tables))
        keep = {b["step"] for b in best.values()} | {step}
        for s in list(snapshots):
            if s not in keep:
                del snapshots[s]
        val_seconds += time.time() - tv
        if log:
            log(f"  step {step:6d}  loss {rec['train_loss']:.4f}  " + "  ".join(
                f"{t} ID {100 * r['id_accuracy']:.2f}" for t, r in rec["val"].items()))

    for t in range(steps):
        lr, beta1 = P.one_cycle(t, steps, cfg["lr"])
        batch = jnp.asarray(train[order[t * B:(t + 1) * B]])
        ts, tc = time.time(), time.process_time()
        loss, g = model.loss_and_grad(params, batch, train_cos, train_sin, jnp.uint32(step_seeds[t]))
        params, m, v = model.adamw(params, m, v, g, jnp.float32(t + 1), jnp.float32(lr), jnp.float32(beta1))
        loss = float(loss)                                  # waits for the step
        step_seconds.append(time.time() - ts)
        step_cpu.append(time.process_time() - tc)
        loss_sum += loss
        loss_n += 1
        if (t + 1) % val_every == 0 or t + 1 == steps:
            do_validate(t + 1)
            loss_sum, loss_n = 0.0, 0
    train_s = time.time() - t0

    selection = P.select_checkpoints(history, list(tables))
    last = history[-1]["step"]
    evals = {}
    for tname, (c, s) in (tables.items() if do_test else ()):
        res = {}
        for which, st in (("selected", selection[tname]["step"]), ("last", last)):
            if which == "last" and st == selection[tname]["step"]:
                res["last"] = dict(res["selected"])
                continue
            sc = score_with_library(predict(model, unflatten({k: jnp.asarray(a) for k, a in snapshots[st].items()}),
                                            test, c, s), files["test"])
            res[which] = {"step": st, **{k: sc[k] for k in ("id_accuracy", "ood_accuracy", "id_even", "id_odd",
                                                           "per_position")}}
        res["selected"]["val_id_accuracy"] = selection[tname]["val_id_accuracy"]
        evals[tname] = res
    if npz_path:
        os.makedirs(os.path.dirname(npz_path), exist_ok=True)
        np.savez_compressed(npz_path + ".tmp.npz", **{f"step{st}/{k}": a for st, snap in snapshots.items()
                                                      for k, a in snap.items()})
        os.replace(npz_path + ".tmp.npz", npz_path)
    # Medians over the steps after the first two (which compile): wall seconds, and CPU seconds
    # of this process (one XLA thread, so CPU time is the work, whatever else shares the core).
    steady = step_seconds[2:] or step_seconds
    steady_cpu = step_cpu[2:] or step_cpu
    return {"task": task, "model": trained, "seed": seed, "split": split, "steps": steps,
            "eval": evals, "selection": selection, "history": history,
            "saved_steps": sorted(snapshots), "final_train_loss": history[-1]["train_loss"],
            "seconds_per_step": round(sorted(steady)[len(steady) // 2], 4),
            "cpu_seconds_per_step": round(sorted(steady_cpu)[len(steady_cpu) // 2], 4),
            "cpu_seconds": round(time.process_time(), 1),
            "first_step_seconds": round(step_seconds[0], 2),
            "validation_seconds": round(val_seconds, 1),
            "train_seconds": round(train_s, 1), "wall_seconds": round(time.time() - t0, 1)}


# ---------------------------------------------------------------- orchestration

def run_path(out, job):
    return os.path.join(out, "runs", job["split"], job["task"], job["model"], f"seed{job['seed']}.json")


def worker_main(args):
    cfg = json.loads(args.cfg_json)
    job = json.loads(args.job)
    started = utcnow()
    path = run_path(args.out, job)
    res = train_one(job, cfg, args.cache, npz_path=path[:-5] + ".npz")
    res["started_utc"] = started.isoformat(timespec="seconds")
    res["finished_utc"] = utcnow().isoformat(timespec="seconds")
    res["config"] = cfg
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(res, f)
    os.replace(path + ".tmp", path)


def build_queue(cfg):
    """Whole pairs first: for each seed every (split, task, model); headline split first."""
    queue = []
    for si, split in enumerate(cfg["splits"]):
        for group in (("recurrent", "cot"), ("semirecurrent",)):
            tasks = [t for t in group if t in cfg["tasks"]]
            seeds = cfg["seeds"] if group[0] != "semirecurrent" else cfg["semi_seeds"]
            if si > 0:                              # the second table: its own (fewer) seeds
                seeds = [x for x in seeds if x in cfg["second_seeds"]]
            for seed in seeds:
                for task in tasks:
                    for model in P.TRAINED:
                        queue.append({"split": split, "task": task, "model": model, "seed": seed,
                                      "steps": cfg["steps"][task]})
    return queue


def worker_env():
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " " + ONE_THREAD).strip()
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def orchestrate(args, cfg):
    os.makedirs(args.out, exist_ok=True)
    queue = build_queue(cfg)
    todo = [j for j in queue if not os.path.exists(run_path(args.out, j))]
    print(f"posgen_experiment: {len(queue)} runs planned, {len(queue) - len(todo)} already done, "
          f"{len(todo)} to run with {args.jobs} parallel job(s)", flush=True)
    for j in todo:                              # data and tables once, before the workers
        data_files(args.cache, cfg, j["task"], j["split"])
        for t in P.EVAL_TABLES[j["model"]]:
            table_file(args.cache, t)
    deadline = None
    if args.deadline:
        hh, mm = map(int, args.deadline.split(":"))
        deadline = utcnow().replace(hour=hh, minute=mm, second=0, microsecond=0)
        if deadline <= utcnow():                # a time of day already past means tomorrow's
            deadline += dt.timedelta(days=1)
    log = open(os.path.join(args.out, "progress.log"), "a")
    running, done, t_start, durations = [], 0, time.time(), []

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
            cmd = [sys.executable, os.path.abspath(__file__), "worker", "--job", json.dumps(j),
                   "--cfg-json", json.dumps(cfg), "--out", args.out, "--cache", args.cache]
            p = subprocess.Popen(cmd, env=worker_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            running.append((p, j, time.time()))
            say(f"start  {j['split']:8s} {j['task']:13s} {j['model']:10s} seed {j['seed']} ({j['steps']} steps)")
        time.sleep(0.5)
        for p, j, ts in list(running):
            if p.poll() is None:
                continue
            running.remove((p, j, ts))
            outtxt = p.stdout.read()
            if p.returncode != 0:
                say(f"FAILED {j} (exit {p.returncode}):\n{outtxt}")
                if args.command == "smoke":
                    sys.exit(1)
                continue
            done += 1
            durations.append(time.time() - ts)
            r = json.load(open(run_path(args.out, j)))
            eta = (sum(durations) / len(durations)) * (len(pending) + len(running)) / args.jobs
            say(f"done   {j['split']:8s} {j['task']:13s} {j['model']:10s} seed {j['seed']}: " + "  ".join(
                f"{t} ID {100 * e['selected']['id_accuracy']:.2f} OOD {100 * e['selected']['ood_accuracy']:.2f}"
                f" (step {e['selected']['step']})" for t, e in r["eval"].items())
                + f"  {r['wall_seconds']:.0f}s, {r['seconds_per_step']:.3f} s/step  "
                f"[{done}/{len(todo)}, ~{eta / 60:.0f} min left]")
    say(f"all started runs finished; this invocation took {(time.time() - t_start) / 60:.1f} min")


# ---------------------------------------------------------------- learning curve

def curve_main(args, cfg):
    """One run with frequent validation: ID accuracy and loss against steps, seconds per step."""
    job = {"task": args.task, "model": args.model, "seed": args.seed, "split": cfg["splits"][0],
           "steps": cfg["steps"][args.task]}
    os.makedirs(os.path.join(args.out, "curves"), exist_ok=True)
    name = f"{args.task}-{args.model}-{cfg['size']}-{job['steps']}steps-lr{cfg['lr']:g}-seed{args.seed}"
    path = os.path.join(args.out, "curves", name + ".json")
    if os.environ.get("XLA_FLAGS", "").find("intra_op_parallelism_threads=1") < 0:
        print("posgen_experiment curve: set XLA_FLAGS='" + ONE_THREAD + "' for one-thread timings", file=sys.stderr)
    started = utcnow()
    res = train_one(job, cfg, args.cache, log=lambda s: print(s, flush=True), test=False,
                    val_count=args.val_count)
    res.update(started_utc=started.isoformat(timespec="seconds"),
               finished_utc=utcnow().isoformat(timespec="seconds"), config=cfg,
               xla_flags=os.environ.get("XLA_FLAGS", ""), parameters=P.param_count(cfg["size"]))
    with open(path, "w") as f:
        json.dump(res, f)
    import analyze
    made = analyze.plot_curves(os.path.join(args.out, "curves"))
    print(f"curve: {path}; {res['seconds_per_step']:.3f} s/step wall, {res['cpu_seconds_per_step']:.3f} CPU s/step "
          f"(medians; {P.param_count(cfg['size'])} parameters); validation {res['validation_seconds']} s; "
          f"plots {made}")


# ---------------------------------------------------------------- rescoring saved parameters

def rescore_main(args):
    """Score every saved run with another table, without training: the checkpoint is chosen among
    the saved ones (each table's selected step and the last) by validation ID accuracy under the
    new table; the result is stored as eval[NAME] of the run file."""
    import numpy as np
    import jax.numpy as jnp
    flags = P.table_flags(args.table) + (args.extra_flags or [])
    cos, sin = (jnp.asarray(a) for a in load_table(table_file(args.cache, args.table, flags, args.name)))
    n = 0
    for root, _, names in sorted(os.walk(os.path.join(args.out, "runs"))):
        for fn in sorted(names):
            if not fn.endswith(".json"):
                continue
            path = os.path.join(root, fn)
            r = json.load(open(path))
            if args.models and r["model"] not in args.models.split(","):
                continue
            z = np.load(path[:-5] + ".npz")
            cfg = r["config"]
            model = Model(cfg, args.cache)
            files = data_files(args.cache, cfg, r["task"], r["split"])
            val = with_bos(np.load(files["val"]).astype(np.int32))
            test = np.load(files["test"]).astype(np.int32)
            hist = []
            for st in r["saved_steps"]:
                params = unflatten({k.split("/", 1)[1]: jnp.asarray(z[k]) for k in z.files
                                    if k.startswith(f"step{st}/")})
                hist.append({"step": st, "params": params,
                             "val": {args.name: validate(model, params, val, cos, sin)}})
            sel = P.select_checkpoints(hist, [args.name])[args.name]
            best = next(h for h in hist if h["step"] == sel["step"])
            sc = score_with_library(predict(model, best["params"], test, cos, sin), files["test"])
            r["eval"][args.name] = {"table_flags": flags, "selection": "among saved steps " + str(r["saved_steps"]),
                                    "selected": {"step": sel["step"], "val_id_accuracy": sel["val_id_accuracy"],
                                                 **{k: sc[k] for k in ("id_accuracy", "ood_accuracy", "id_even",
                                                                        "id_odd", "per_position")}}}
            with open(path + ".tmp", "w") as f:
                json.dump(r, f)
            os.replace(path + ".tmp", path)
            n += 1
            print(f"rescore {args.name}: {os.path.relpath(path, args.out)}: step {sel['step']} "
                  f"ID {100 * sc['id_accuracy']:.2f} OOD {100 * sc['ood_accuracy']:.2f}", flush=True)
    print(f"rescore: {n} run(s) scored with table {args.name} ({' '.join(flags)})")


# ---------------------------------------------------------------- command line

def make_cfg(args, smoke=False):
    size = "smoke" if smoke else args.size
    steps = args.steps
    semi = args.semi_steps or steps
    cfg = {"size": size, "dropout": args.dropout, "lr": args.lr, "batch": args.batch,
           "steps": {"recurrent": steps, "cot": steps, "semirecurrent": semi},
           "val_every": args.val_every, "splits": args.splits.split(","),
           "tasks": args.tasks.split(","), "seeds": [int(s) for s in args.seeds.split(",")]}
    cfg["semi_seeds"] = [int(s) for s in args.semi_seeds.split(",")] if args.semi_seeds else cfg["seeds"]
    cfg["second_seeds"] = ([int(s) for s in args.second_seeds.split(",")] if args.second_seeds
                           else cfg["seeds"][:3])
    if smoke:
        # Tiny: 1 layer of d 64, 24 steps of 16, validation every 8 steps, 64 training, 32
        # validation and 32 test sequences, both splits, recursive only.
        cfg.update(batch=16, val_every=8, steps={t: 24 for t in P.TASKS}, tasks=["recurrent"],
                   seeds=[0], semi_seeds=[0], second_seeds=[0], splits=["paper", "disjoint"], lr=3e-3,
                   split_sizes={"paper": [64, 32, 32], "disjoint": [64, 32, 32]})
    return cfg


def main():
    argv = sys.argv[1:]
    argv = ["smoke" if a == "--smoke" else "analyze" if a == "--analyze-only" else a for a in argv]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command")

    def common(p, training=True):
        p.add_argument("--out", help="results directory (runs/, curves/, results.json, plots); default "
                       "Examples/posgen-experiment/paper-protocol (smoke: a temporary directory)")
        p.add_argument("--cache", help="data and table cache (default <out>/.cache)")
        if not training:
            return
        p.add_argument("--size", default="xs", choices=sorted(P.SIZES), help="model size (protocol.SIZES)")
        p.add_argument("--steps", type=int, default=800, help="training steps (authors: 11 850)")
        p.add_argument("--semi-steps", type=int, help="semi-recursive steps (default: --steps)")
        p.add_argument("--val-every", type=int, default=P.VAL_EVERY, help="validate every N steps (2 epochs: 158)")
        p.add_argument("--lr", type=float, default=P.DEFAULT_LR,
                       help="one-cycle max lr (default 1e-3; the authors' 2e-4 is for 11 850 steps: README, Learning curve)")
        p.add_argument("--dropout", type=float, default=0.1)
        p.add_argument("--batch", type=int, default=P.BATCH)
        p.add_argument("--splits", default="paper,disjoint", help="first = headline (paper: the authors' split)")
        p.add_argument("--tasks", default="recurrent,cot",
                       help="default recurrent,cot: semi-recursive needs a longer schedule (README)")
        p.add_argument("--seeds", default="0,1,2,3,4", help="seeds of the headline (first) split")
        p.add_argument("--second-seeds", help="seeds of the later splits (default: the first 3 of --seeds)")
        p.add_argument("--semi-seeds", help="semi-recursive seeds (default: --seeds)")

    r = sub.add_parser("run", help="train and evaluate (resumable), then analyze")
    common(r)
    r.add_argument("--jobs", type=int, default=2, help="runs in parallel, one thread each")
    r.add_argument("--deadline", help="HH:MM UTC: start no run after this time")
    s = sub.add_parser("smoke", help="tiny end-to-end run into a temporary directory")
    common(s)
    s.add_argument("--jobs", type=int, default=2)
    s.add_argument("--deadline")
    c = sub.add_parser("curve", help="learning curve of one run, seconds per step")
    common(c)
    c.add_argument("--task", default="recurrent", choices=P.TASKS)
    c.add_argument("--model", default="rope", choices=P.TRAINED)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--val-count", type=int, default=200, help="validation sequences used (default 200)")
    rs = sub.add_parser("rescore", help="score saved parameters with another table")
    common(rs, training=False)
    rs.add_argument("--name", required=True, help="name of the new evaluation (eval[NAME] in run files)")
    rs.add_argument("--table", required=True, choices=sorted(P.ROW_LABEL), help="base table")
    rs.add_argument("--models", help="only runs of these trained models (rope,resonance)")
    rs.add_argument("extra_flags", nargs=argparse.REMAINDER,
                    help="after --: more `resonance-rope table` flags (a later flag overrides)")
    a = sub.add_parser("analyze", help="results.json, results.md and plots from the run files")
    common(a, training=False)
    w = sub.add_parser("worker")
    w.add_argument("--job")
    w.add_argument("--cfg-json")
    w.add_argument("--out")
    w.add_argument("--cache")
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["run"] + argv
    args = ap.parse_args(argv)
    if args.command == "worker":
        return worker_main(args)
    if getattr(args, "extra_flags", None) and args.extra_flags[0] == "--":
        args.extra_flags = args.extra_flags[1:]
    t0 = time.time()
    tmpdir = None
    if args.command == "smoke" and not args.out:
        tmpdir = tempfile.mkdtemp(prefix="posgen-smoke-")
        args.out = tmpdir
    args.out = args.out or DEFAULT_OUT
    args.cache = args.cache or os.path.join(args.out, ".cache")
    cli_path()
    import analyze
    if args.command == "analyze":
        res = analyze.analyze(args.out)
        print(f"analyze: {len(res['runs'])} runs -> {args.out}/results.json, results.md, {res['plots']}")
        return
    if args.command == "rescore":
        return rescore_main(args)
    cfg = make_cfg(args, smoke=args.command == "smoke")
    if args.command == "curve":
        return curve_main(args, cfg)
    orchestrate(args, cfg)
    results = analyze.analyze(args.out, cfg=cfg)
    if args.command == "smoke":
        ok = check_smoke(args, cfg, results)
        print(f"posgen_experiment smoke: {len(results['runs'])} runs, rescore, results.json with protocol and "
              f"{len(results['plots'])} plots in {time.time() - t0:.0f}s: {'OK' if ok else 'FAILED'}")
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
        sys.exit(0 if ok else 1)


def check_smoke(args, cfg, results):
    """The smoke run's end-to-end checks: every run, both splits, every row, a rescore, the plots."""
    problems = []
    want = len(build_queue(cfg))
    if len(results["runs"]) != want:
        problems.append(f"{len(results['runs'])} runs, expected {want}")
    for split in cfg["splits"]:
        rows = results["table"].get(split, {}).get("recurrent", {})
        for row in P.ROWS:
            e = rows.get(row)
            if not e or not 0 <= e["ood"]["mean"] <= 100:
                problems.append(f"{split}: row {row} missing or out of range")
    proto = results.get("protocol", {})
    if proto.get("yarn", {}).get("applied") != "eval" or "checkpoint_selection" not in proto:
        problems.append("protocol record incomplete")
    # rescore: the same YaRN table under another name must reproduce the YaRN row's choice
    # among the saved checkpoints (the selected step is saved, so its score is reachable).
    ns = argparse.Namespace(out=args.out, cache=args.cache, name="yarn_again", table="yarn",
                            models="rope", extra_flags=[])
    rescore_main(ns)
    for r in analyze_runs(args.out):
        if r["model"] == "rope":
            a, b = r["eval"]["yarn"]["selected"], r["eval"]["yarn_again"]["selected"]
            if (a["step"], a["ood_accuracy"]) != (b["step"], b["ood_accuracy"]):
                problems.append(f"rescore differs: {a['step']} {a['ood_accuracy']} vs {b['step']} {b['ood_accuracy']}")
    for f in results["plots"]:
        if not os.path.exists(os.path.join(args.out, f)):
            problems.append(f"plot {f} missing")
    if len(results["plots"]) < 3:
        problems.append(f"only {len(results['plots'])} plots")
    for p in problems:
        print("smoke: " + p)
    return not problems


def analyze_runs(out):
    import analyze
    return analyze.load_runs(out)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""results.json, results.md and plots from the run files of posgen_experiment.py.

    python3 analyze.py [OUT_DIR]        (default: ./paper-protocol)

Statistics: accuracies in percent. For one (split, task, row) the mean over seeds and a 95 %
Student-t interval (mean +- t_{0.975, n-1} sd / sqrt(n)). A paired difference (e.g. Resonance
RoPE minus RoPE) is taken seed by seed over the seeds both rows have, with the same t interval
over its n differences: both models of a seed start from the same parameters and see the same
batches and dropout masks, so the pairing removes the seed-to-seed variation they share.
A row is one evaluation table of a trained model (protocol.EVAL_TABLES), each with its own
checkpoint (the best by validation ID accuracy under that table).
"""
import glob
import json
import math
import os
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import protocol as P  # noqa: E402

TASK_LABEL = {"recurrent": "Recursive", "cot": "CoT", "semirecurrent": "Semi-recursive"}
# Wang et al. 2024, Table 1: OOD accuracy (%), mean over 5 seeds.
PAPER = {"rope": {"recurrent": 65.29, "cot": 69.56, "semirecurrent": 17.96},
         "resonance": {"recurrent": 62.64, "cot": 75.25, "semirecurrent": 29.78},
         "yarn": {"recurrent": 95.93, "cot": 98.71, "semirecurrent": 33.70},
         "resonance_yarn": {"recurrent": 98.30, "cot": 99.58, "semirecurrent": 48.46}}
PAIRS = (("resonance", "rope"), ("resonance_yarn", "yarn"), ("yarn", "rope"))
COLORS = {"rope": "tab:blue", "resonance": "tab:orange", "yarn": "tab:green", "resonance_yarn": "tab:red"}
# t_{0.975, df} for df = 1..10 (two-sided 95 %), used when scipy is absent.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228}


def label(row):
    return P.ROW_LABEL.get(row, row)


def t975(df):
    try:
        from scipy.stats import t
        return float(t.ppf(0.975, df))
    except ImportError:
        return T975.get(df, 1.96)


def stats(xs):
    n = len(xs)
    mean = sum(xs) / n
    if n < 2:
        return {"n": n, "mean": mean, "sd": None, "ci95": None, "half_width": None}
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    h = t975(n - 1) * sd / math.sqrt(n)
    return {"n": n, "mean": mean, "sd": sd, "ci95": [mean - h, mean + h], "half_width": h}


def fmt(s, digits=2):
    if s is None:
        return "–"
    if s.get("half_width") is None:
        return f"{s['mean']:.{digits}f} (n={s['n']})"
    return f"{s['mean']:.{digits}f} ± {s['half_width']:.{digits}f} (n={s['n']})"


def load_runs(out):
    runs = []
    for path in sorted(glob.glob(os.path.join(out, "runs", "*", "*", "*", "seed*.json"))):
        with open(path) as f:
            runs.append(json.load(f))
    return runs


def rows_of(runs):
    """{(split, task, row): [(seed, selected-eval dict, run)]} over every evaluation of every run."""
    g = {}
    for r in runs:
        for row, e in r["eval"].items():
            g.setdefault((r["split"], r["task"], row), []).append((r["seed"], e["selected"], r))
    for v in g.values():
        v.sort(key=lambda x: x[0])
    return g


def analyze(out=None, cfg=None):
    out = out or os.path.join(HERE, "paper-protocol")
    runs = load_runs(out)
    groups = rows_of(runs)
    table = {}
    for (split, task, row), items in sorted(groups.items()):
        sel = [e for _, e, _ in items]
        L = len(sel[0]["per_position"])
        pp = [None if sel[0]["per_position"][i] is None else sum(e["per_position"][i] for e in sel) / len(sel)
              for i in range(L)]
        table.setdefault(split, {}).setdefault(task, {})[row] = {
            "seeds": [s for s, _, _ in items],
            "ood": stats([100 * e["ood_accuracy"] for e in sel]),
            "id": stats([100 * e["id_accuracy"] for e in sel]),
            "id_even": stats([100 * e["id_even"] for e in sel]),
            "id_odd": stats([100 * e["id_odd"] for e in sel]),
            "ood_per_seed": [round(100 * e["ood_accuracy"], 3) for e in sel],
            "id_per_seed": [round(100 * e["id_accuracy"], 3) for e in sel],
            "id_even_per_seed": [round(100 * e["id_even"], 3) for e in sel],
            "selected_steps": [e["step"] for e in sel],
            "steps": [r["steps"] for _, _, r in items],
            "final_train_loss_per_seed": [round(r["final_train_loss"], 5) for _, _, r in items],
            "per_position_mean": [None if x is None else round(x, 5) for x in pp],
            "paper_ood": PAPER.get(row, {}).get(task)}
    paired = []
    for split, tasks in table.items():
        for task, rows in tasks.items():
            for a, b in PAIRS:
                if a not in rows or b not in rows:
                    continue
                ea = {s: e for s, e, _ in groups[(split, task, a)]}
                eb = {s: e for s, e, _ in groups[(split, task, b)]}
                seeds = sorted(set(ea) & set(eb))
                for metric in ("ood", "id"):
                    d = [100 * (ea[s][metric + "_accuracy"] - eb[s][metric + "_accuracy"]) for s in seeds]
                    pd = None if metric == "id" else round(PAPER[a][task] - PAPER[b][task], 2)
                    paired.append({"split": split, "task": task, "a": a, "b": b, "metric": metric,
                                   "seeds": seeds, "diff_per_seed": [round(x, 3) for x in d],
                                   "wins": sum(x > 0 for x in d), "losses": sum(x < 0 for x in d),
                                   "paper_diff": pd, "stats": stats(d)})
    wall = {}
    if runs:
        import datetime as dt
        starts = sorted(r["started_utc"] for r in runs)
        ends = sorted(r["finished_utc"] for r in runs)
        by = {}
        for r in runs:
            by.setdefault(f"{r['task']} ({r['steps']} steps)", []).append(r)
        wall = {"first_run_started_utc": starts[0], "last_run_finished_utc": ends[-1], "runs": len(runs),
                "sum_of_run_seconds": round(sum(r["wall_seconds"] for r in runs)),
                "mean_run_seconds": {k: round(sum(r["wall_seconds"] for r in v) / len(v)) for k, v in by.items()},
                "median_seconds_per_step": {k: sorted(r["seconds_per_step"] for r in v)[len(v) // 2]
                                            for k, v in by.items()},
                "elapsed_minutes": round((dt.datetime.fromisoformat(ends[-1])
                                          - dt.datetime.fromisoformat(starts[0])).total_seconds() / 60, 1)}
    env = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    try:
        import jax
        import jaxlib
        env["jax"], env["jaxlib"] = jax.__version__, jaxlib.__version__
    except ImportError:
        pass
    cfg = cfg or (runs[0].get("config") if runs else None)
    results = {"description": "PosGen (Wang et al. 2024) in the authors' protocol on this CPU: teacher-forced "
                              "accuracy (%) scored by `resonance-rope posgen score`; see README.md",
               "protocol": P.protocol_record(cfg) if cfg else None,
               "config": cfg, "environment": env, "wall_time": wall, "paper_table1_ood": PAPER,
               "table": table, "paired_differences": paired,
               "runs": [{"split": r["split"], "task": r["task"], "model": r["model"], "seed": r["seed"],
                         "steps": r["steps"], "wall_seconds": r["wall_seconds"],
                         "seconds_per_step": r["seconds_per_step"], "started_utc": r["started_utc"],
                         "finished_utc": r["finished_utc"],
                         "eval": {t: {k: e["selected"][k] for k in ("step", "val_id_accuracy", "id_accuracy",
                                                                    "ood_accuracy", "id_even", "id_odd")}
                                  for t, e in r["eval"].items()}} for r in runs],
               "plots": []}
    results["plots"] = plots(out, table, paired)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(markdown(table, paired, wall))
    return results


def row_order(rows):
    return [r for r in P.ROWS if r in rows] + sorted(r for r in rows if r not in P.ROWS)


def paired_rows(paired, split):
    lines = ["| Task | Pair | metric | n | mean diff | 95 % CI | per seed | wins/losses | paper diff |",
             "|---|---|---|---|---|---|---|---|---|"]
    for p in paired:
        if p["split"] != split:
            continue
        s = p["stats"]
        ci = f"[{s['ci95'][0]:+.2f}, {s['ci95'][1]:+.2f}]" if s["ci95"] else "–"
        pd = f"{p['paper_diff']:+.2f}" if p["paper_diff"] is not None else ""
        lines.append(f"| {TASK_LABEL[p['task']]} | {label(p['a'])} − {label(p['b'])} | {p['metric'].upper()} "
                     f"| {s['n']} | {s['mean']:+.2f} | {ci} | "
                     f"{' '.join(f'{x:+.1f}' for x in p['diff_per_seed'])} | {p['wins']}/{p['losses']} | {pd} |")
    return lines


def markdown(table, paired, wall):
    lines = []
    order = [s for s in ("paper", "disjoint") if s in table] + sorted(s for s in table if s not in ("paper", "disjoint"))
    for split in order:
        tasks = [t for t in P.TASKS if t in table[split]]
        rows = row_order({r for t in tasks for r in table[split][t]})
        lines.append(f"### Split `{split}`\n")
        lines.append("OOD accuracy (%, positions 64..255), mean ± 95 % t-interval over seeds; paper = "
                     "Wang et al. 2024 Table 1. YaRN rows: the RoPE / Resonance RoPE model evaluated with "
                     "the YaRN table, its own checkpoint.\n")
        lines.append("| Method | " + " | ".join(f"{TASK_LABEL[t]} (ours) | {TASK_LABEL[t]} (paper)" for t in tasks) + " |")
        lines.append("|---|" + "---|---|" * len(tasks))
        for m in rows:
            cells = []
            for t in tasks:
                e = table[split][t].get(m)
                cells.append(fmt(e["ood"]) if e else "not run")
                pv = PAPER.get(m, {}).get(t)
                cells.append(f"{pv:.2f}" if pv is not None else "")
            lines.append(f"| {label(m)} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("In-distribution accuracy (%, positions 4..63; ceiling of the local recurrence 59/60 = "
                     f"{100 * P.ID_CEILING:.2f}); semi-recursive also on the even ID positions (the far "
                     f"dependency; chance {100 * P.CHANCE:.2f}); selected steps:\n")
        head = []
        for t in tasks:
            head += [f"{TASK_LABEL[t]} ID"] + (["even-position ID"] if t == "semirecurrent" else []) + ["steps selected"]
        lines.append("| Method | " + " | ".join(head) + " |")
        lines.append("|---|" + "---|" * len(head))
        for m in rows:
            cells = []
            for t in tasks:
                e = table[split][t].get(m)
                n = 3 if t == "semirecurrent" else 2
                if not e:
                    cells += ["not run"] + [""] * (n - 1)
                    continue
                cells.append(fmt(e["id"]))
                if t == "semirecurrent":
                    cells.append(fmt(e["id_even"]) + " per seed " + " ".join(f"{x:.1f}" for x in e["id_even_per_seed"]))
                cells.append(" ".join(map(str, e["selected_steps"])) + f" of {e['steps'][0]}")
            lines.append(f"| {label(m)} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("Paired differences (percentage points, same seeds):\n")
        lines += paired_rows(paired, split)
        lines.append("")
    if wall:
        lines.append(f"Wall time: {wall['runs']} runs, first started {wall['first_run_started_utc']}, last finished "
                     f"{wall['last_run_finished_utc']} ({wall['elapsed_minutes']} min elapsed, "
                     f"{wall['sum_of_run_seconds'] / 60:.0f} run-minutes); mean seconds per run: "
                     + ", ".join(f"{k}: {v}" for k, v in wall["mean_run_seconds"].items())
                     + "; median seconds per step: "
                     + ", ".join(f"{k}: {v}" for k, v in wall["median_seconds_per_step"].items()) + "\n")
    return "\n".join(lines)


# ---------------------------------------------------------------- plots

def _plt():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        print("analyze: matplotlib not installed, no plots", file=sys.stderr)
        return None


def plots(out, table, paired):
    plt = _plt()
    if plt is None or not table:
        return []
    made = []
    splits = [s for s in ("paper", "disjoint") if s in table] + sorted(s for s in table if s not in ("paper", "disjoint"))
    split_title = {"paper": "authors' split (test seeds also trained on)",
                   "disjoint": "disjoint split (test seeds held out)"}

    # 1. OOD accuracy: bars = mean, whiskers = 95 % interval (never clipped), dots = seeds,
    #    black dashes = paper Table 1. One panel per split, only tasks that ran.
    fig, axes = plt.subplots(len(splits), 1, figsize=(9, 4.2 * len(splits)), squeeze=False)
    for ax, s in zip(axes[:, 0], splits):
        tasks = [t for t in P.TASKS if t in table[s]]
        rows = row_order({r for t in tasks for r in table[s][t]})
        w = 0.8 / len(rows)
        lo, hi = 0.0, 100.0
        for gi, t in enumerate(tasks):
            for mi, m in enumerate(rows):
                e = table[s][t].get(m)
                x = gi + (mi - (len(rows) - 1) / 2) * w
                if not e:
                    continue
                st = e["ood"]
                err = None
                if st["ci95"]:
                    err = [[st["mean"] - st["ci95"][0]], [st["ci95"][1] - st["mean"]]]
                    lo, hi = min(lo, st["ci95"][0]), max(hi, st["ci95"][1])
                ax.bar(x, st["mean"], w, color=COLORS.get(m, "tab:gray"), yerr=err, capsize=3,
                       label=label(m) if gi == 0 else None)
                ax.scatter([x] * len(e["ood_per_seed"]), e["ood_per_seed"], s=7, color="k", zorder=3)
                if e["paper_ood"] is not None:
                    ax.scatter(x, e["paper_ood"], marker="_", s=250, color="k", zorder=4, linewidths=2,
                               label="paper Table 1" if gi == 0 and mi == 0 else None)
        ax.set_xticks(range(len(tasks)))
        ax.set_xticklabels([TASK_LABEL[t] for t in tasks])
        ax.set_ylabel("OOD accuracy, % (positions 64..255)")
        ax.set_ylim(lo - 3, hi + 3)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_title(f"PosGen OOD accuracy, {split_title.get(s, s)}:\nmean over seeds, 95 % t-interval, "
                     "dots = seeds", fontsize=10)
        ax.legend(fontsize=8, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    fig.tight_layout()
    fig.savefig(os.path.join(out, "ood_bars.png"), dpi=120)
    plt.close(fig)
    made.append("ood_bars.png")

    # 2. Paired differences (OOD), forest plot.
    pd = [p for p in paired if p["metric"] == "ood"]
    if pd:
        fig, ax = plt.subplots(figsize=(9, 0.42 * len(pd) + 1.8))
        for i, p in enumerate(pd):
            s = p["stats"]
            y = len(pd) - 1 - i
            ax.scatter(p["diff_per_seed"], [y] * len(p["diff_per_seed"]), s=12, color="gray")
            if s["ci95"]:
                ax.plot(s["ci95"], [y, y], color="k", lw=2)
            ax.scatter([s["mean"]], [y], color="k", zorder=3)
            if p["paper_diff"] is not None:
                ax.scatter([p["paper_diff"]], [y], marker="x", color="tab:red", zorder=4,
                           label="paper Table 1" if i == 0 else None)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(range(len(pd)))
        ax.set_yticklabels([f"{TASK_LABEL[p['task']]}, {p['split']}: {label(p['a'])} − {label(p['b'])}"
                            for p in reversed(pd)], fontsize=8)
        ax.set_xlabel("paired OOD difference, percentage points\n(gray: seeds; black: mean and 95 % t-interval)")
        ax.set_title("PosGen: paired OOD differences (same initialisation, batches and dropout)", fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        fig.savefig(os.path.join(out, "paired_differences.png"), dpi=120)
        plt.close(fig)
        made.append("paired_differences.png")

    # 3. Per-position accuracy. Semi-recursive alternates between local (odd) and far (even)
    #    targets, so its odd and even positions get a panel each instead of one zigzag.
    panels = []
    for s in splits:
        for t in P.TASKS:
            if t not in table[s]:
                continue
            if t == "semirecurrent":
                panels += [(s, t, 1, "odd positions (local: 2 x[n-1] − x[n-4])"),
                           (s, t, 0, "even positions (far token x[(n-4)/2])")]
            else:
                panels.append((s, t, None, "all positions"))
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 2.9 * len(panels)), squeeze=False)
    for ax, (s, t, parity, what) in zip(axes[:, 0], panels):
        for m in row_order(table[s][t]):
            e = table[s][t][m]
            xs = [i for i, v in enumerate(e["per_position_mean"]) if v is not None and (parity is None or i % 2 == parity)]
            ax.plot(xs, [100 * e["per_position_mean"][i] for i in xs], color=COLORS.get(m, "tab:gray"), lw=1.1,
                    ls="--" if m.endswith("yarn") else "-", label=f"{label(m)} (n={e['ood']['n']})")
        ax.axvline(P.TRAIN_LEN - 0.5, color="k", ls=":", lw=0.9)
        ax.axhline(100 * P.CHANCE, color="gray", ls=":", lw=0.8)
        ax.set_title(f"{TASK_LABEL[t]}, {split_title.get(s, s)}: {what}", fontsize=10)
        ax.set_ylabel("accuracy, %")
        ax.set_ylim(-3, 103)
        ax.set_xlim(0, P.TEST_LEN)
        ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0.06, 0.08), ncol=2)  # clear of the curves (all near 100 % before position 64)
    axes[-1, 0].set_xlabel("position n of the target token (dotted: training length 64; gray dotted: chance 1/17)")
    fig.suptitle("PosGen: teacher-forced accuracy per position, mean over seeds", fontsize=11)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "per_position.png"), dpi=110)
    plt.close(fig)
    made.append("per_position.png")
    return made


def plot_curves(curve_dir):
    """learning_curves.png from curves/*.json: validation ID accuracy (every table of the run, the
    59/60 ceiling drawn; semi-recursive: even and odd positions, chance drawn) and training loss
    against steps. One row per curve file."""
    plt = _plt()
    files = sorted(glob.glob(os.path.join(curve_dir, "*.json")))
    curves = [json.load(open(f)) for f in files]
    curves = [c for c in curves if len(c["history"]) >= 2]
    if plt is None or not curves:
        return []
    fig, axes = plt.subplots(len(curves), 2, figsize=(11, 3.3 * len(curves)), squeeze=False)
    for (a1, a2), c in zip(axes, curves):
        steps = [h["step"] for h in c["history"]]
        for t in c["history"][0]["val"]:
            col = COLORS.get(t, "tab:gray")
            if c["task"] == "semirecurrent":
                a1.plot(steps, [100 * h["val"][t]["id_odd"] for h in c["history"]], color=col, ls="-",
                        label=f"{label(t)} table, odd positions")
                a1.plot(steps, [100 * h["val"][t]["id_even"] for h in c["history"]], color=col, ls="--",
                        label=f"{label(t)} table, even positions (far)")
            else:
                a1.plot(steps, [100 * h["val"][t]["id_accuracy"] for h in c["history"]], color=col,
                        label=f"{label(t)} table")
        a1.axhline(100 * P.ID_CEILING, color="k", ls=":", lw=0.9, label="59/60 (local recurrence)")
        a1.axhline(100 * P.CHANCE, color="gray", ls=":", lw=0.9, label="chance 1/17")
        a1.set_ylim(-3, 103)
        a1.set_xlabel("training step")
        a1.set_ylabel("validation ID accuracy, %")
        a1.legend(fontsize=7, loc="center right")
        cfg = c["config"]
        m = P.SIZES[cfg["size"]]
        a1.set_title(f"{TASK_LABEL[c['task']]}, {label(c['model'])} model, size {cfg['size']} "
                     f"({m['n_layers']}L d{m['d_model']}, {c['parameters'] / 1e6:.2f} M)\n"
                     f"lr {cfg['lr']:g} one-cycle over {c['steps']} steps, {c.get('cpu_seconds_per_step', c['seconds_per_step']):.3f} CPU s/step "
                     "(one thread)", fontsize=9)
        a2.plot(steps, [h["train_loss"] for h in c["history"]], color="k", label="training loss (dropout on; mean since the last point)")
        a2.plot(steps, [h["val"][c["model"]]["id_loss"] for h in c["history"]], color="tab:blue", ls="--",
                label="validation ID loss")
        a2.set_yscale("log")
        a2.set_xlabel("training step")
        a2.set_ylabel("cross-entropy, nats")
        a2.set_title("loss", fontsize=9)
        a2.legend(fontsize=7)
    fig.suptitle("PosGen learning curves (validation every few steps)", fontsize=11)
    fig.tight_layout()
    path = os.path.join(os.path.dirname(curve_dir.rstrip("/")), "learning_curves.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [os.path.basename(path)]


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "paper-protocol")
    r = analyze(out)
    print(open(os.path.join(out, "results.md")).read())

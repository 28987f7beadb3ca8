#!/usr/bin/env python3
"""results.json, results.md and plots from the per-run files of posgen_experiment.py.

    python3 analyze.py [OUT_DIR]        (default: this directory)

Statistics: accuracies are in percent. For one (split, task, method) the mean over seeds and a
95 % Student-t interval (mean +- t_{0.975, n-1} * sd / sqrt(n)). A paired difference
(Resonance minus plain) is taken seed by seed, over the seeds both methods completed, and gets
the same t interval over its n differences: the pairing removes the seed-to-seed variation that
the two methods share (same initial parameters, same batches).
"""
import glob
import json
import math
import os
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
METHODS = ("rope", "resonance", "yarn", "resonance_yarn", "yarn_eval", "resonance_yarn_eval")
LABEL = {"rope": "RoPE", "resonance": "Resonance RoPE", "yarn": "YaRN", "resonance_yarn": "Resonance YaRN",
         "yarn_eval": "YaRN at eval only", "resonance_yarn_eval": "Resonance YaRN at eval only"}
# "<method>_eval": the RoPE (Resonance RoPE) model of the same run, evaluated with the YaRN
# (Resonance YaRN) table, as the public code does; taken from the run's "eval_with".
EVAL_ONLY = {"yarn": "yarn_eval", "resonance_yarn": "resonance_yarn_eval"}
TASKS = ("recurrent", "cot", "semirecurrent")
TASK_LABEL = {"recurrent": "Recursive", "cot": "CoT", "semirecurrent": "Semi-recursive"}
# Wang et al. 2024, Table 1: OOD accuracy (%), mean over 5 seeds.
PAPER = {"rope": {"recurrent": 65.29, "cot": 69.56, "semirecurrent": 17.96},
         "resonance": {"recurrent": 62.64, "cot": 75.25, "semirecurrent": 29.78},
         "yarn": {"recurrent": 95.93, "cot": 98.71, "semirecurrent": 33.70},
         "resonance_yarn": {"recurrent": 98.30, "cot": 99.58, "semirecurrent": 48.46}}
PAPER["yarn_eval"] = PAPER["yarn"]
PAPER["resonance_yarn_eval"] = PAPER["resonance_yarn"]
PAIRS = (("resonance", "rope"), ("resonance_yarn", "yarn"), ("resonance_yarn_eval", "yarn_eval"),
         ("yarn", "rope"), ("yarn_eval", "rope"))
# Pseudo-split of the paired differences "paper split minus disjoint split" (same method, seed).
SPLIT_EFFECT = "paper-disjoint"
# t_{0.975, df} for df = 1..10 (two-sided 95 %), used when scipy is absent.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228}


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
        return {"n": n, "mean": mean, "sd": None, "ci95": None}
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


def analyze(out=HERE, cfg=None):
    runs = load_runs(out)
    groups = {}
    for r in runs:
        groups.setdefault((r["split"], r["task"], r["method"]), []).append(r)
        for other, ev in (r.get("eval_with") or {}).items():
            groups.setdefault((r["split"], r["task"], EVAL_ONLY[other]), []).append(
                dict(r, method=EVAL_ONLY[other], id_accuracy=ev["id_accuracy"],
                     ood_accuracy=ev["ood_accuracy"], per_position=ev["per_position"]))
    table = {}
    for (split, task, method), rs in sorted(groups.items()):
        rs.sort(key=lambda r: r["seed"])
        L = len(rs[0]["per_position"])
        pp = [None if rs[0]["per_position"][i] is None else
              sum(r["per_position"][i] for r in rs) / len(rs) for i in range(L)]
        table.setdefault(split, {}).setdefault(task, {})[method] = {
            "seeds": [r["seed"] for r in rs], "steps": rs[0]["steps"],
            "ood": stats([100 * r["ood_accuracy"] for r in rs]),
            "id": stats([100 * r["id_accuracy"] for r in rs]),
            "ood_per_seed": [round(100 * r["ood_accuracy"], 3) for r in rs],
            "id_per_seed": [round(100 * r["id_accuracy"], 3) for r in rs],
            "final_loss_per_seed": [round(r["final_loss"], 5) for r in rs],
            "per_position_mean": [None if x is None else round(x, 5) for x in pp],
            "paper_ood": PAPER[method].get(task)}
    paired = []
    for split, tasks in table.items():
        for task, ms in tasks.items():
            for a, b in PAIRS:
                if a not in ms or b not in ms:
                    continue
                ra = {r["seed"]: r for r in groups[(split, task, a)]}
                rb = {r["seed"]: r for r in groups[(split, task, b)]}
                seeds = sorted(set(ra) & set(rb))
                if not seeds:
                    continue
                for metric in ("ood", "id"):
                    d = [100 * (ra[s][metric + "_accuracy"] - rb[s][metric + "_accuracy"]) for s in seeds]
                    paired.append({"split": split, "task": task, "a": a, "b": b, "metric": metric,
                                   "seeds": seeds, "diff_per_seed": [round(x, 3) for x in d],
                                   "wins": sum(x > 0 for x in d), "losses": sum(x < 0 for x in d),
                                   "paper_diff": (None if metric == "id" or PAPER[a].get(task) is None
                                                  else round(PAPER[a][task] - PAPER[b][task], 2)),
                                   **{"stats": stats(d)}})
    # The overlap effect: the same method and seed trained on the paper's overlapping split minus
    # the disjoint split (test seeds also in training vs held out).
    if "paper" in table and "disjoint" in table:
        for task, ms in table["paper"].items():
            for m in ms:
                if m not in table["disjoint"].get(task, {}):
                    continue
                ra = {r["seed"]: r for r in groups[("paper", task, m)]}
                rb = {r["seed"]: r for r in groups[("disjoint", task, m)]}
                seeds = sorted(set(ra) & set(rb))
                for metric in ("ood", "id") if seeds else ():
                    d = [100 * (ra[s][metric + "_accuracy"] - rb[s][metric + "_accuracy"]) for s in seeds]
                    paired.append({"split": SPLIT_EFFECT, "task": task, "a": m, "b": m, "metric": metric,
                                   "seeds": seeds, "diff_per_seed": [round(x, 3) for x in d],
                                   "wins": sum(x > 0 for x in d), "losses": sum(x < 0 for x in d),
                                   "paper_diff": None, "stats": stats(d)})
    # wall time: from the runs' own start/end stamps
    wall = {}
    if runs:
        starts = sorted(r["started_utc"] for r in runs)
        ends = sorted(r["finished_utc"] for r in runs)
        by = {}
        for r in runs:
            by.setdefault(f"{r['task']} ({r['steps']} steps)", []).append(r["wall_seconds"])
        wall = {"first_run_started_utc": starts[0], "last_run_finished_utc": ends[-1],
                "runs": len(runs), "sum_of_run_seconds": round(sum(r["wall_seconds"] for r in runs)),
                "mean_run_seconds": {k: round(sum(v) / len(v)) for k, v in by.items()}}
        import datetime as dt
        t0 = dt.datetime.fromisoformat(starts[0])
        t1 = dt.datetime.fromisoformat(ends[-1])
        wall["elapsed_minutes"] = round((t1 - t0).total_seconds() / 60, 1)
    env = {"python": platform.python_version(), "machine": platform.machine(),
           "cpus": os.cpu_count()}
    try:
        import jax
        import jaxlib
        env["jax"], env["jaxlib"] = jax.__version__, jaxlib.__version__
    except ImportError:
        pass
    cfg = cfg or (runs[0].get("config") if runs else None)
    results = {"description": "PosGen (Wang et al. 2024) on this CPU: OOD/ID teacher-forced accuracy (%)"
                              " scored by `resonance-rope posgen score`; see README.md",
               "config": cfg, "environment": env, "wall_time": wall, "paper_table1_ood": PAPER,
               "table": table, "paired_differences": paired,
               "runs": [{k: r[k] for k in ("split", "task", "method", "seed", "steps", "id_accuracy",
                                           "ood_accuracy", "final_loss", "wall_seconds",
                                           "started_utc", "finished_utc")} for r in runs],
               "plots": []}
    results["plots"] = plots(out, table, paired)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(markdown(table, paired, wall))
    return results


def pair_label(p):
    if p["split"] == SPLIT_EFFECT:
        return f"{LABEL[p['a']]}: paper split − disjoint split"
    return f"{LABEL[p['a']]} − {LABEL[p['b']]}"


def paired_rows(paired, split):
    lines = ["| Task | Pair | metric | n | mean diff | 95 % CI | per seed | wins/losses | paper diff |",
             "|---|---|---|---|---|---|---|---|---|"]
    for p in paired:
        if p["split"] != split:
            continue
        s = p["stats"]
        ci = f"[{s['ci95'][0]:+.2f}, {s['ci95'][1]:+.2f}]" if s["ci95"] else "–"
        pd = f"{p['paper_diff']:+.2f}" if p["paper_diff"] is not None else ""
        lines.append(f"| {TASK_LABEL[p['task']]} | {pair_label(p)} | {p['metric'].upper()} "
                     f"| {s['n']} | {s['mean']:+.2f} | {ci} | "
                     f"{' '.join(f'{x:+.1f}' for x in p['diff_per_seed'])} | {p['wins']}/{p['losses']} | {pd} |")
    return lines


def markdown(table, paired, wall):
    lines = []
    for split in sorted(table, key=lambda s: s != "disjoint"):
        lines.append(f"### Split `{split}`\n")
        lines.append("OOD accuracy (%, positions 64..255), mean ± 95 % t-interval over seeds; "
                     "paper = Wang et al. 2024 Table 1 (mean over 5 seeds).\n")
        tasks = [t for t in TASKS if t in table[split]]
        lines.append("| Method | " + " | ".join(f"{TASK_LABEL[t]} (ours) | {TASK_LABEL[t]} (paper)"
                                                for t in tasks) + " |")
        lines.append("|---|" + "---|---|" * len(tasks))
        for m in METHODS:
            cells = []
            for t in tasks:
                e = table[split][t].get(m)
                cells.append(fmt(e["ood"]) if e else "not run")
                cells.append(f"{PAPER[m][t]:.2f}")
            lines.append(f"| {LABEL[m]} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("In-distribution accuracy (%, positions 4..63) and final training loss:\n")
        lines.append("| Method | " + " | ".join(f"{TASK_LABEL[t]} ID | {TASK_LABEL[t]} loss" for t in tasks) + " |")
        lines.append("|---|" + "---|---|" * len(tasks))
        for m in METHODS:
            cells = []
            for t in tasks:
                e = table[split][t].get(m)
                if e:
                    fl = e["final_loss_per_seed"]
                    cells += [fmt(e["id"]), f"{sum(fl) / len(fl):.4f}"]
                else:
                    cells += ["not run", ""]
            lines.append(f"| {LABEL[m]} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("Paired differences (percentage points, same seeds):\n")
        lines += paired_rows(paired, split)
        lines.append("")
    if any(p["split"] == SPLIT_EFFECT for p in paired):
        lines.append("### The overlap effect: paper split minus disjoint split\n")
        lines.append("Same method, same seed (same initialisation and batch order), trained on the paper's "
                     "overlapping split (every test seed also in training) minus the disjoint split "
                     "(test seeds held out); percentage points.\n")
        lines += paired_rows(paired, SPLIT_EFFECT)
        lines.append("")
    if wall:
        lines.append(f"Wall time: {wall['runs']} runs, first started {wall['first_run_started_utc']}, "
                     f"last finished {wall['last_run_finished_utc']} ({wall['elapsed_minutes']} min elapsed, "
                     f"{wall['sum_of_run_seconds'] / 60:.0f} run-minutes); mean seconds per run: "
                     + ", ".join(f"{k}: {v}" for k, v in wall["mean_run_seconds"].items()) + "\n")
    return "\n".join(lines)


def plots(out, table, paired):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("analyze: matplotlib not installed, no plots", file=sys.stderr)
        return []
    colors = {"rope": "tab:blue", "resonance": "tab:orange", "yarn": "tab:green",
              "resonance_yarn": "tab:red", "yarn_eval": "tab:olive", "resonance_yarn_eval": "tab:purple"}
    made = []
    panels = [(s, t) for s in sorted(table, key=lambda s: s != "disjoint") for t in TASKS if t in table[s]]
    # 1. per-position accuracy
    if panels:
        fig, axes = plt.subplots(len(panels), 1, figsize=(10, 3.2 * len(panels)), squeeze=False)
        for ax, (s, t) in zip(axes[:, 0], panels):
            for m in METHODS:
                e = table[s][t].get(m)
                if not e:
                    continue
                xs = [i for i, v in enumerate(e["per_position_mean"]) if v is not None]
                ax.plot(xs, [100 * e["per_position_mean"][i] for i in xs], color=colors[m], lw=1,
                        ls="--" if m.endswith("_eval") else "-",
                        label=f"{LABEL[m]} (n={e['ood']['n']})")
            ax.axvline(64, color="k", ls="--", lw=0.8)
            ax.set_title(f"{TASK_LABEL[t]}, {s} split: teacher-forced accuracy per position (mean over seeds)")
            ax.set_ylabel("accuracy %")
            ax.set_ylim(-2, 102)
            ax.legend(fontsize=8, loc="lower left")
        axes[-1, 0].set_xlabel("position (train length 64: dashed line)")
        fig.tight_layout()
        fig.savefig(os.path.join(out, "per_position.png"), dpi=110)
        plt.close(fig)
        made.append("per_position.png")
    # 2. OOD bars with 95 % intervals, paper values as markers
    if panels:
        fig, ax = plt.subplots(figsize=(max(2.6 * len(panels) + 2, 7), 4.6))
        w = 0.13
        for gi, (s, t) in enumerate(panels):
            for mi, m in enumerate(METHODS):
                e = table[s][t].get(m)
                x = gi + (mi - (len(METHODS) - 1) / 2) * w
                if e:
                    st = e["ood"]
                    err = [[st["mean"] - st["ci95"][0]], [st["ci95"][1] - st["mean"]]] if st["ci95"] else None
                    ax.bar(x, st["mean"], w, color=colors[m], yerr=err, capsize=3,
                           label=LABEL[m] if gi == 0 else None)
                    ax.scatter([x] * len(e["ood_per_seed"]), e["ood_per_seed"], s=6, color="k", zorder=3)
                ax.scatter(x, PAPER[m][t], marker="_", s=200, color="k", zorder=4,
                           label="paper Table 1" if gi == 0 and mi == 0 else None)
        ax.set_xticks(range(len(panels)))
        ax.set_xticklabels([f"{TASK_LABEL[t]}\n({s})" for s, t in panels])
        ax.set_ylabel("OOD accuracy % (positions 64..255)")
        ax.set_ylim(0, 105)
        ax.set_title("PosGen OOD accuracy: mean over seeds with 95 % t-interval\n(dots: single seeds; black dashes: paper Table 1)", fontsize=10)
        ax.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.18))
        fig.tight_layout()
        fig.savefig(os.path.join(out, "ood_bars.png"), dpi=110)
        plt.close(fig)
        made.append("ood_bars.png")
    # 3. paired differences
    pd = [p for p in paired if p["metric"] == "ood"]
    if pd:
        fig, ax = plt.subplots(figsize=(9, 0.45 * len(pd) + 1.5))
        for i, p in enumerate(pd):
            s = p["stats"]
            y = len(pd) - 1 - i
            ax.scatter(p["diff_per_seed"], [y] * len(p["diff_per_seed"]), s=10, color="gray")
            if s["ci95"]:
                ax.plot(s["ci95"], [y, y], color="k", lw=2)
            ax.scatter([s["mean"]], [y], color="k", zorder=3)
            if p["paper_diff"] is not None:
                ax.scatter([p["paper_diff"]], [y], marker="x", color="tab:red", zorder=4,
                           label="paper" if i == 0 else None)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(range(len(pd)))
        ax.set_yticklabels([f"{TASK_LABEL[p['task']]} {p['split']}: {pair_label(p)}"
                            if p["split"] != SPLIT_EFFECT else f"{TASK_LABEL[p['task']]} {pair_label(p)}"
                            for p in reversed(pd)], fontsize=8)
        ax.set_xlabel("paired OOD difference, percentage points (gray: seeds; black: mean, 95 % CI)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "paired_differences.png"), dpi=110)
        plt.close(fig)
        made.append("paired_differences.png")
    return made


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    r = analyze(out)
    print(open(os.path.join(out, "results.md")).read())

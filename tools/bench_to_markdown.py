#!/usr/bin/env python3
"""Turns `resonance-rope bench --json` (stdin) into the Markdown table of the README's Speed section.

Ratios are to the fastest memory pass of the same run (the yardstick, named in brackets: the
kernel copy whose pass it was, +prefetch or +stream with the memory hint); the plain and prefetched
passes of the best kernel copy are shown beside it; no-hint = time as run / time with the kernels'
memory hint switched off (the row prefetch of rotations, the streaming stores of table fills;
below 1: the hint pays); pf 8K / 16K / off = the row prefetch distance the library had learned
right after the case (rotations past L2; "pf on" in reports of older builds). create and gap
cases are times only."""
import json
import sys


def prefetch_text(v):
    """The learned row prefetch: a distance in bytes (0: none), or a bool from older builds."""
    if isinstance(v, bool):
        return "pf on" if v else "pf off"
    return f"pf {v // 1024}K" if v > 0 else "pf off"


def main():
    r = json.load(sys.stdin)
    print(f"{r['machine']}; build: {r['build']}; kernels: {r.get('kernels', '?')}"
          + (f"; row prefetch learned: {r['row_prefetch']}" if 'row_prefetch' in r else "") + "\n")
    print("| case | dtype | layout | threads | tokens | median us | GB/s | mem (fastest) | plain | +prefetch | scalar | |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for c in r["cases"]:
        if c["gbps"] == 0:  # times only
            print(f"| {c['name']} | | {c['layout']} | | {c['tokens']} | {c['median_ns'] / 1000:.1f} | | | | | | |")
            continue
        extra = ""
        if "ratio_rotation_only" in c:
            extra = f"{1 / c['ratio_rotation_only']:.2f}x rotation only"
        if "ratio_near" in c:
            extra = f"near/far {c['ratio_near']:.2f}"
        if "ratio_without_memory_hint" in c:
            extra = (extra + "; " if extra else "") + f"no-hint {c['ratio_without_memory_hint']:.2f}"
        if "row_prefetch_learned" in c:
            extra = (extra + "; " if extra else "") + prefetch_text(c["row_prefetch_learned"])
        fastest = f" ({c['fastest_memory_pass']})" if "fastest_memory_pass" in c else ""
        def f(key):
            v = c.get(key)
            return "" if v is None else f"{v:.2f}"
        print(f"| {c['name']} | {c['dtype']} | {c['layout']} | {c['threads']} | {c['tokens']} | "
              f"{c['median_ns'] / 1000:.1f} | {c['gbps']:.1f} | {c['ratio_memory_pass']:.2f}{fastest} | "
              f"{f('ratio_memory_pass_plain')} | {f('ratio_memory_pass_prefetched')} | {c['ratio_scalar']:.1f} | {extra} |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Turns `resonance-rope bench --json` (stdin) into the Markdown table of the README's Speed section."""
import json
import sys


def main():
    r = json.load(sys.stdin)
    print(f"{r['machine']}; build: {r['build']}\n")
    print("| case | dtype | layout | threads | tokens | median us | GB/s | memory pass | prefetched pass | scalar | |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for c in r["cases"]:
        extra = ""
        if "ratio_rotation_only" in c:
            extra = f"rotation only {c['ratio_rotation_only']:.2f}"
        if "ratio_near" in c:
            extra = f"near/far {c['ratio_near']:.2f}"
        pf = c.get("ratio_memory_pass_prefetched")
        print(f"| {c['name']} | {c['dtype']} | {c['layout']} | {c['threads']} | {c['tokens']} | "
              f"{c['median_ns'] / 1000:.1f} | {c['gbps']:.1f} | {c['ratio_memory_pass']:.2f} | "
              f"{'' if pf is None else f'{pf:.2f}'} | {c['ratio_scalar']:.1f} | {extra} |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The ABI check: the .so exports exactly the committed symbol list, each declared in the header.

  python3 tools/check_symbols.py LIB.so            compare with tools/abi/symbols.txt (or LIB.a)
  python3 tools/check_symbols.py LIB.so --update   rewrite the list (an ABI change: review it)
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = os.path.join(ROOT, "tools", "abi", "symbols.txt")
HEADER = os.path.join(ROOT, "Include", "resonance_rope.h")


def exported(lib):
    """Defined dynamic symbols with GLOBAL or WEAK binding (nm -D: upper-case type letter); for a
    static archive (.a), its defined global symbols."""
    which = ["-g"] if lib.endswith(".a") else ["-D"]
    out = subprocess.run(["nm"] + which + ["--defined-only", lib], check=True, capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isupper():
            syms.append(parts[2])
    return sorted(syms)


def main():
    lib = sys.argv[1]
    syms = exported(lib)
    if "--update" in sys.argv:
        os.makedirs(os.path.dirname(LIST), exist_ok=True)
        with open(LIST, "w") as fh:
            fh.write("\n".join(syms) + "\n")
        print("check_symbols: wrote %d symbols" % len(syms))
        return 0
    with open(LIST) as fh:
        expected = sorted(l.strip() for l in fh if l.strip())
    header = open(HEADER).read()
    problems = []
    for s in sorted(set(syms) - set(expected)):
        problems.append("exported but not in tools/abi/symbols.txt: " + s)
    for s in sorted(set(expected) - set(syms)):
        problems.append("in tools/abi/symbols.txt but not exported: " + s)
    for s in syms:
        if not s.startswith("rr_"):
            problems.append("exported symbol without the rr_ prefix: " + s)
        elif not re.search(r"\b%s\(" % re.escape(s), header):
            problems.append("exported but not declared in the header: " + s)
    if problems:
        print("\n".join("check_symbols: " + p for p in problems))
        return 1
    print("check_symbols: %d exported symbols, all rr_*, all in the header and the committed list" % len(syms))
    return 0


if __name__ == "__main__":
    sys.exit(main())

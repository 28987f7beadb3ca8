#!/usr/bin/env python3
"""Generate Include/resonance_rope.h from what the Swift compiler emits.

Inputs:
  .build/resonance_rope-emitted.h   written by `swiftc -emit-clang-header-path` on every build of
                                    the ResonanceRope target (see Package.swift): the enums and the
                                    `@c` functions, with their `///` doc comments.
  Sources/CResonanceRope/include/resonance_rope_types.h
                                    the public structs and macros (Swift cannot declare C structs).
  Sources/ResonanceRope/*.swift     read only for the order of the `@c` declarations, so that the
                                    header reads as a manual (grouped by file) rather than A-Z.

Output: one self-contained C99/C++ header. The rewriting is mechanical and total: every emitted
declaration must match one of the patterns below, or the script fails (so a new kind of
declaration cannot slip through unconverted).

  python3 tools/gen_header.py            write Include/resonance_rope.h
  python3 tools/gen_header.py --check    exit 1 (with a diff) when the committed header is stale
  python3 tools/gen_header.py --check --header FILE   check FILE instead (used by the tests)
"""
import argparse
import difflib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMITTED = os.path.join(ROOT, ".build", "resonance_rope-emitted.h")
TYPES = os.path.join(ROOT, "Sources", "CResonanceRope", "include", "resonance_rope_types.h")
SWIFT_DIR = os.path.join(ROOT, "Sources", "ResonanceRope")
OUTPUT = os.path.join(ROOT, "Include", "resonance_rope.h")

# Files of the C ABI layer in manual order; files not listed follow alphabetically.
FILE_ORDER = ["Version.swift", "Status.swift", "Enums.swift", "Handle.swift", "Config.swift", "Frequencies.swift",
              "Tables.swift", "Apply.swift", "FeatureGap.swift", "PosGen.swift"]

# The handle is an OpaquePointer in Swift, so the compiler prints `void *`. Parameters named
# `rope` are the handle: const (read-only) everywhere except in rr_rope_free.
HANDLE_PARAMS = {"rope": "const rr_rope *", "out_rope": "rr_rope **"}
HANDLE_OWNERS = {"rr_rope_free": {"rope": "rr_rope *"}}


class GenError(Exception):
    pass


def swift_sources():
    """(names of @c declarations in manual order, {name: doc lines}, {emitted case: doc lines}).

    Doc comments are read from the Swift sources verbatim (the emitted header has them too, but
    after a Markdown pass that eats `*` and backticks)."""
    files = sorted(f for f in os.listdir(SWIFT_DIR) if f.endswith(".swift"))
    files.sort(key=lambda f: (FILE_ORDER.index(f) if f in FILE_ORDER else len(FILE_ORDER), f))
    names, docs, case_docs = [], {}, {}
    for f in files:
        with open(os.path.join(SWIFT_DIR, f), encoding="utf-8") as fh:
            lines = fh.read().splitlines()
        pending, enum = [], None
        for line in lines:
            st = line.strip()
            if st.startswith("///"):
                pending.append(st)
                continue
            m = re.match(r"@c\((rr_\w+)\)", st)
            if m:
                names.append(m.group(1))
                docs[m.group(1)] = pending
                enum = m.group(1) if re.search(r"\benum\b", st) else None
            elif enum:
                cm = re.match(r"case (\w+) = -?\d+$", st)
                if cm:
                    case_docs[enum + cm.group(1)[0].upper() + cm.group(1)[1:]] = pending
                elif st == "}":
                    enum = None
            pending = []
    return names, docs, case_docs


def enum_constant(enum_name, case):
    """rr_statusNullPointer -> RR_STATUS_NULL_POINTER."""
    suffix = case[len(enum_name):]
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", suffix)
    return (enum_name + "_" + snake).upper()


def convert_comment(lines):
    """Raw `///` lines from the Swift source -> a C block comment."""
    out = []
    for line in lines:
        text = line[3:]
        if text.startswith(" "):
            text = text[1:]
        out.append(text)
    while out and not out[-1].strip():
        out.pop()
    for t in out:
        if "*/" in t:
            raise GenError("doc comment contains */: " + t)
        if any(ord(c) > 127 for c in t):
            raise GenError("non-ASCII character in doc comment: " + t)
    return ["/*"] + [(" * " + t).rstrip() for t in out] + [" */"]


def convert_params(func, params):
    if params.strip() == "void":
        return "void"
    out = []
    for p in params.split(","):
        p = p.strip()
        p = p.replace(" _Nullable", "").replace(" _Nonnull", "")
        m = re.match(r"^(.*?)(\w+)$", p)
        if not m:
            raise GenError("cannot read parameter %r of %s" % (p, func))
        ctype, name = m.group(1).strip(), m.group(2)
        owners = HANDLE_OWNERS.get(func, {})
        if name in owners or name in HANDLE_PARAMS:
            expected = "void * *" if name == "out_rope" else "void *"
            if ctype != expected:
                raise GenError("handle parameter %s of %s has type %r" % (name, func, ctype))
            ctype = owners.get(name, HANDLE_PARAMS[name])
        else:
            # `T const *` -> `const T *`
            ctype = re.sub(r"^(\w+) const \*", r"const \1 *", ctype)
            ctype = ctype.replace("SWIFT_ENUM_TAG ", "")
        sep = "" if ctype.endswith("*") else " "
        out.append(ctype + sep + name)
    return ", ".join(out)


def parse_emitted(text):
    start = text.find('extern "C" {')
    end = text.find('} // extern "C"')
    if start < 0 or end < 0:
        raise GenError("emitted header has no extern \"C\" block")
    body = text[start:end].splitlines()[2:]  # skip `extern "C" {` and `#endif`
    while body and body[-1] in ("#if defined(__cplusplus)", ""):
        body.pop()
    decls, i = {}, 0
    enums = []
    while i < len(body):
        line = body[i]
        if line.startswith("///") or not line.strip():
            pass
        elif line.startswith("typedef SWIFT_ENUM_NAMED("):
            m = re.match(r'typedef SWIFT_ENUM_NAMED\(int32_t, (\w+), "\w+", closed\) \{$', line)
            if not m:
                raise GenError("unexpected enum form: " + line)
            name, cases = m.group(1), []
            i += 1
            while body[i] != "};":
                c = body[i]
                if not c.startswith("///"):
                    cm = re.match(r"^  (\w+) = (-?\d+),$", c)
                    if not cm:
                        raise GenError("unexpected enum case: " + c)
                    cases.append((cm.group(1), enum_constant(name, cm.group(1)), cm.group(2)))
                i += 1
            decls[name] = ("enum", cases)
            enums.append(name)
        elif line.startswith("SWIFT_EXTERN "):
            m = re.match(r"^SWIFT_EXTERN (.*?)\b(rr_\w+)\((.*)\) SWIFT_NOEXCEPT( SWIFT_WARN_UNUSED_RESULT)?;$", line)
            if not m:
                raise GenError("unexpected function form: " + line)
            ret = m.group(1).replace("SWIFT_ENUM_TAG ", "").replace(" _Nonnull", "").replace(" _Nullable", "").strip()
            ret = re.sub(r"^(\w+) const \*", r"const \1 *", ret)
            name = m.group(2)
            params = convert_params(name, m.group(3))
            decls[name] = ("func", (ret, params, bool(m.group(4))))
        else:
            raise GenError("unexpected line in emitted header: " + line)
        i += 1
    return decls, enums


def render(decls, enums, types_text, order, docs, case_docs):
    out = []
    out.append("/* resonance_rope.h: the C interface of libresonance_rope.")
    out.append(" *")
    out.append(" * GENERATED by tools/gen_header.py from the Swift sources (Sources/ResonanceRope, `@c`")
    out.append(" * declarations and their doc comments) and Sources/CResonanceRope/include/")
    out.append(" * resonance_rope_types.h. Do not edit: change the sources and run `make header`.")
    out.append(" * `make test` fails when this file is stale.")
    out.append(" *")
    out.append(" * Conventions for every function below:")
    out.append(" *  - Sizes, counts and strides are in ELEMENTS, never bytes, as int64_t. Positions are")
    out.append(" *    int64_t token indices; angles are radians; wavelengths are positions per turn.")
    out.append(" *  - The caller owns every buffer. Nothing is retained after a call returns; handles")
    out.append(" *    are created and freed in pairs, and free(NULL) does nothing.")
    out.append(" *  - Functions returning rr_status validate every argument (NULL pointers, counts,")
    out.append(" *    int64 overflow, finiteness, enum values, struct sizes) before doing any work. On")
    out.append(" *    any status other than RR_STATUS_OK nothing has been written, and")
    out.append(" *    rr_last_error_message() says which argument was wrong. The library never aborts,")
    out.append(" *    traps or prints on bad input.")
    out.append(" *  - A handle (rr_rope) is immutable: share it across threads freely.")
    out.append(" */")
    out.append("#ifndef RESONANCE_ROPE_H")
    out.append("#define RESONANCE_ROPE_H")
    out.append("")
    types_body = types_text
    # Drop the types header's own guard; keep everything inside it.
    types_body = re.sub(r"#ifndef RESONANCE_ROPE_TYPES_H\n#define RESONANCE_ROPE_TYPES_H\n", "", types_body)
    types_body = re.sub(r"#endif /\* RESONANCE_ROPE_TYPES_H \*/\n?$", "", types_body.rstrip() + "\n")
    out.append(types_body.rstrip())
    out.append("")
    out.append("#if defined(__GNUC__) || defined(__clang__)")
    out.append("#define RR_WARN_UNUSED_RESULT __attribute__((warn_unused_result))")
    out.append("#else")
    out.append("#define RR_WARN_UNUSED_RESULT")
    out.append("#endif")
    out.append("#if defined(__cplusplus) && __cplusplus >= 201103L")
    out.append("#define RR_NOEXCEPT noexcept")
    out.append("#else")
    out.append("#define RR_NOEXCEPT")
    out.append("#endif")
    out.append("")
    out.append("#ifdef __cplusplus")
    out.append('extern "C" {')
    out.append("#endif")
    out.append("")
    out.append("/* ---- Enumerations (int32_t; values never change) ------------------------------------ */")
    out.append("")
    for name in [n for n in order if n in enums]:
        _, cases = decls[name]
        out += convert_comment(docs[name])
        out.append("typedef int32_t %s;" % name)
        out.append("enum {")
        for emitted, const, value in cases:
            doc = " ".join(t[3:].strip() for t in case_docs.get(emitted, []))
            if "*/" in doc:
                raise GenError("doc comment contains */: " + doc)
            out.append("    %s = %s,%s" % (const, value, ("  /* " + doc + " */") if doc else ""))
        out.append("};")
        out.append("")
    out.append("/* ---- Functions ---------------------------------------------------------------------- */")
    out.append("")
    for name in order:
        if name in enums:
            continue
        kind, (ret, params, warn) = decls[name]
        out += convert_comment(docs[name])
        sep = "" if ret.endswith("*") else " "
        attrs = " RR_NOEXCEPT" + (" RR_WARN_UNUSED_RESULT" if warn else "")
        out.append("%s%s%s(%s)%s;" % (ret, sep, name, params, attrs))
        out.append("")
    out.append("#ifdef __cplusplus")
    out.append('} /* extern "C" */')
    out.append("#endif")
    out.append("")
    out.append("#endif /* RESONANCE_ROPE_H */")
    return "\n".join(out) + "\n"


def generate():
    if not os.path.exists(EMITTED):
        raise GenError("%s is missing: run `swift build` first" % EMITTED)
    with open(EMITTED, encoding="utf-8") as fh:
        decls, enums = parse_emitted(fh.read())
    with open(TYPES, encoding="utf-8") as fh:
        types_text = fh.read()
    order, docs, case_docs = swift_sources()
    missing = sorted(set(decls) - set(order))
    extra = sorted(set(order) - set(decls))
    if missing or extra:
        raise GenError("sources and emitted header disagree: only emitted %s, only in sources %s "
                       "(rebuild with `swift build`)" % (missing, extra))
    return render(decls, enums, types_text, order, docs, case_docs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    ap.add_argument("--header", default=OUTPUT, help="header to write or check")
    a = ap.parse_args()
    try:
        text = generate()
    except GenError as e:
        print("gen_header: " + str(e), file=sys.stderr)
        return 2
    if a.check:
        try:
            with open(a.header, encoding="utf-8") as fh:
                current = fh.read()
        except OSError:
            current = ""
        if current != text:
            sys.stdout.writelines(difflib.unified_diff(
                current.splitlines(True), text.splitlines(True), a.header, "generated"))
            print("gen_header: %s is stale: run `make header` and commit it" % a.header, file=sys.stderr)
            return 1
        print("gen_header: %s is current" % a.header)
        return 0
    with open(a.header, "w", encoding="utf-8") as fh:
        fh.write(text)
    print("gen_header: wrote %s" % a.header)
    return 0


if __name__ == "__main__":
    sys.exit(main())

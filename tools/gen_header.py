#!/usr/bin/env python3
"""Write every ABI fact from the Swift sources: the C header, the layout asserts, the Python ABI.

Outputs (each GENERATED, committed, and compared by --check; `make header` writes them all):
  Include/resonance_rope.h           the C interface
  Tests/c/rr_layout_asserts.h        every public struct's size and field offsets (via
                                     tools/gen_layout_asserts.py, which compiles a probe)
  python/resonance_rope/_abi.py      the same facts for ctypes: structs, enums, statuses, flags,
                                     limits, the version, and every function's restype, argtypes
                                     and "Added in" version (ctypes_of maps each C type); the
                                     Python package imports it and binds the library from it

Inputs:
  .build/resonance_rope-emitted.h   written by `swiftc -emit-clang-header-path` on every build of
                                    the ResonanceRope target (see Package.swift): the enums and the
                                    `@c` functions, with their `///` doc comments.
  Sources/CResonanceRope/include/resonance_rope_types.h
                                    the public structs and macros (Swift cannot declare C structs).
  Sources/ResonanceRopeCore/*.swift the enumerations the ABI shares with the core (CORE_ENUMS: one
                                    copy of each value, in the core) and the version
                                    (Version.swift: `static let text: StaticString = "X.Y.Z"`, the
                                    one place the version is written).
  Sources/ResonanceRope/*.swift     read only for the order of the `@c` declarations, so that the
                                    header reads as a manual (grouped by file) rather than A-Z.

Output: one self-contained C99/C++ header. The rewriting is mechanical and total: every emitted
declaration must match one of the patterns below, or the script fails (so a new kind of
declaration cannot slip through unconverted).

  python3 tools/gen_header.py            write all three
  python3 tools/gen_header.py --check    exit 1 (with a diff) when any committed output is stale
  python3 tools/gen_header.py --check --header FILE / --abi FILE   check FILE instead (tests)
  python3 tools/gen_header.py --version  print the version (the Makefile reads it so)
"""
import argparse
import difflib
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_layout_asserts  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMITTED = os.path.join(ROOT, ".build", "resonance_rope-emitted.h")
TYPES = os.path.join(ROOT, "Sources", "CResonanceRope", "include", "resonance_rope_types.h")
SWIFT_DIR = os.path.join(ROOT, "Sources", "ResonanceRope")
CORE_DIR = os.path.join(ROOT, "Sources", "ResonanceRopeCore")
VERSION_SWIFT = os.path.join(CORE_DIR, "Version.swift")
OUTPUT = os.path.join(ROOT, "Include", "resonance_rope.h")
ABI_PY = os.path.join(ROOT, "python", "resonance_rope", "_abi.py")
# The types header holds this line where the version macros go.
VERSION_MARKER = "/* RR_VERSION_* : written here by tools/gen_header.py from Sources/ResonanceRopeCore/Version.swift */"

# C enumerations whose values live in the core's Swift enums (C name, Swift enum, core file), in
# header order. Their `///` doc comments are the header's; constants are RR_<C NAME>_<CASE>.
CORE_ENUMS = [
    ("rr_layout", "PairLayout", "RopeConfig.swift"),
    ("rr_scaling", "ScalingKind", "ScalingFields.swift"),
    ("rr_table_layout", "TableLayout", "TableLayout.swift"),
    ("rr_posgen_task", "PosGenTask", "PosGen.swift"),
    ("rr_posgen_arith", "PosGenArithmetic", "PosGen.swift"),
    ("rr_posgen_split", "PosGenSplit", "PosGen.swift"),
    ("rr_posgen_split_mode", "PosGenSplitMode", "PosGen.swift"),
]

# Files of the C ABI layer in manual order; files not listed follow alphabetically.
FILE_ORDER = ["Version.swift", "Status.swift", "Handle.swift", "Config.swift", "Frequencies.swift",
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


def snake(name):
    """powSin2pi -> pow_sin2pi."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def core_enum(swift_name, file):
    """A core enum: (doc lines, [(case, value, doc lines)], {case: its `name` string})."""
    path = os.path.join(CORE_DIR, file)
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    starts = [i for i, l in enumerate(lines) if re.match(r"^(?:package|public) enum %s: Int32\b" % swift_name, l)]
    if len(starts) != 1:
        raise GenError("%s: expected one `public enum %s: Int32` (or `package enum`)" % (path, swift_name))
    start = starts[0]
    doc, j = [], start - 1
    while j >= 0 and lines[j].strip().startswith("///"):
        doc.insert(0, lines[j].strip())
        j -= 1
    cases, pending, names, name_indent = [], [], {}, None
    for line in lines[start + 1:]:
        st = line.strip()
        if line.startswith("}"):
            break
        m = re.match(r"^case (\w+) = (-?\d+)$", st)
        if m:
            cases.append((m.group(1), m.group(2), pending))
        elif re.match(r"^(?:package |public )?var name: String \{$", st):
            name_indent = len(line) - len(line.lstrip())
        elif name_indent is not None:
            nm = re.match(r'^case \.(\w+): "([^"]+)"$', st)
            if nm:
                names[nm.group(1)] = nm.group(2)
            elif st == "}" and len(line) - len(line.lstrip()) <= name_indent:
                name_indent = None
        pending = pending + [st] if st.startswith("///") else []
    if not cases:
        raise GenError("%s: enum %s has no `case x = N` lines" % (path, swift_name))
    if names and set(names) != {c for c, _, _ in cases}:
        raise GenError("%s: %s.name does not name every case" % (path, swift_name))
    return doc, cases, names


def core_enums():
    """[(C name, doc lines, [(C constant, value, doc lines, Python name)])] in CORE_ENUMS order."""
    out = []
    for c_name, swift_name, file in CORE_ENUMS:
        doc, cases, names = core_enum(swift_name, file)
        out.append((c_name, doc, [((c_name + "_" + snake(c)).upper(), v, d, names.get(c, snake(c)))
                                  for c, v, d in cases]))
    return out


def version():
    """(major, minor, patch) from the one place the version is written."""
    with open(VERSION_SWIFT, encoding="utf-8") as fh:
        found = re.findall(r'static let text: StaticString = "(\d+)\.(\d+)\.(\d+)"', fh.read())
    if len(found) != 1:
        raise GenError("%s: expected one `static let text: StaticString = \"X.Y.Z\"`" % VERSION_SWIFT)
    return tuple(int(x) for x in found[0])


def version_macros(v):
    return ["#define RR_VERSION_MAJOR %d" % v[0], "#define RR_VERSION_MINOR %d" % v[1],
            "#define RR_VERSION_PATCH %d" % v[2],
            "#define RR_VERSION_NUMBER (RR_VERSION_MAJOR * 10000 + RR_VERSION_MINOR * 100 + RR_VERSION_PATCH)",
            '#define RR_VERSION_STRING "%d.%d.%d"' % v]


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
    """The emitted parameter list -> [(C type as the header spells it, name)] ([] for `void`)."""
    if params.strip() == "void":
        return []
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
        out.append((ctype, name))
    return out


def c_params(params):
    """[(C type, name)] -> the header's parameter list."""
    if not params:
        return "void"
    return ", ".join(t + ("" if t.endswith("*") else " ") + n for t, n in params)


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


def render(decls, enums, types_text, order, docs, case_docs, core):
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
    out.append(" *  - The kernels are compiled for baseline x86-64, x86-64-v3 (AVX2, F16C) and x86-64-v4")
    out.append(" *    (AVX-512; bfloat16 through AVX512-BF16 where the CPU has it); the widest copy the")
    out.append(" *    CPU has runs, and every copy gives the same bytes.")
    out.append(" *    The environment variable RESONANCE_ROPE_MAX_ISA=baseline|x86-64-v3|x86-64-v4,")
    out.append(" *    read once, when the process first runs a kernel (creating a Resonance handle,")
    out.append(" *    rotating, filling a table), caps that choice (other values are ignored;")
    out.append(" *    x86-64-v4 leaves out AVX512-BF16).")
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
    all_enums = [(name, docs[name], [(const, value, case_docs.get(emitted, []))
                                     for emitted, const, value in decls[name][1]])
                 for name in order if name in enums]
    all_enums += [(name, doc, [(const, value, d) for const, value, d, _ in cases]) for name, doc, cases in core]
    for name, doc_lines, cases in all_enums:
        out += convert_comment(doc_lines)
        out.append("typedef int32_t %s;" % name)
        out.append("enum {")
        for const, value, case_doc in cases:
            doc = " ".join(t[3:].strip() for t in case_doc)
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
        out.append("%s%s%s(%s)%s;" % (ret, sep, name, c_params(params), attrs))
        out.append("")
    out.append("#ifdef __cplusplus")
    out.append('} /* extern "C" */')
    out.append("#endif")
    out.append("")
    out.append("#endif /* RESONANCE_ROPE_H */")
    return "\n".join(out) + "\n"


CTYPES = {"uint32_t": "ctypes.c_uint32", "int32_t": "ctypes.c_int32", "uint64_t": "ctypes.c_uint64",
          "int64_t": "ctypes.c_int64", "double": "ctypes.c_double", "float": "ctypes.c_float"}


# The handle's C types (HANDLE_PARAMS) for ctypes: an opaque address, and its out-parameter.
HANDLE_CTYPES = {"rr_rope *": "ctypes.c_void_p", "const rr_rope *": "ctypes.c_void_p",
                 "rr_rope **": "ctypes.POINTER(ctypes.c_void_p)"}


def ctypes_of(ctype, structs, enums, where):
    """A function's C result or parameter type (as the header spells it) -> its ctypes type in
    _abi.py. Every C type the ABI uses has one rule here; any other type stops the generator (a new
    kind of parameter needs a decision, never a guess):
      scalars (CTYPES)                 -> that ctypes type; an enum typedef (int32_t) -> c_int32;
                                          an integer parameter -> Integer(that type), range-checked
      void (a result)                  -> None
      const char *                     -> c_char_p (the package passes bytes, reads NUL-ended text)
      rr_rope * / const rr_rope *      -> c_void_p (the opaque handle); rr_rope ** -> POINTER(c_void_p)
      [const] S * for a public struct  -> POINTER(S class): byref() of another struct is refused
      [const] T * for a scalar or enum -> ScalarPointer(T[, const=True]): a numpy array of
                                          exactly T (C-contiguous; writable unless const), None,
                                          or byref()/a ctypes array/a pointer of exactly T
      void * / const void *            -> c_void_p"""
    if ctype == "void":
        if not where.endswith(" result"):
            raise GenError("%s: a parameter of type void" % where)
        return "None"
    if ctype in HANDLE_CTYPES:
        return HANDLE_CTYPES[ctype]
    if ctype == "const char *":
        return "ctypes.c_char_p"
    if ctype in ("void *", "const void *"):
        return "ctypes.c_void_p"
    result = where.endswith(" result")
    if ctype in CTYPES or ctype in enums:
        t = CTYPES.get(ctype) or "ctypes.c_int32"
        return t if result or ctype in ("double", "float") else "Integer(%s)" % t
    m = re.match(r"^(?:const )?(\w+) \*$", ctype)
    if m and m.group(1) in structs:
        return "ctypes.POINTER(%s)" % python_class(m.group(1))
    if m and (m.group(1) in CTYPES or m.group(1) in enums):
        return "ScalarPointer(%s%s)" % (CTYPES.get(m.group(1)) or "ctypes.c_int32",
                                        ", const=True" if ctype.startswith("const ") else "")
    raise GenError("%s: no ctypes mapping for C type %r (add a rule to ctypes_of in "
                   "tools/gen_header.py)" % (where, ctype))


def added_in(name, doc_lines):
    """(X, Y, Z) of the one "Added in X.Y.Z." in a function's doc comment."""
    text = " ".join(line[3:].strip() for line in doc_lines)
    found = re.findall(r"\bAdded in (\d+)\.(\d+)\.(\d+)\.", text)
    if len(found) != 1:
        raise GenError("%s: its doc comment must say \"Added in X.Y.Z.\" once (found %d)" % (name, len(found)))
    return tuple(int(x) for x in found[0])


def public_structs(types_text):
    """[(C name, [(field, ctypes type)], [(pointer field, its element's ctypes type or None for
    void)])] of every `typedef struct NAME {...} NAME;`. A pointer field is a c_void_p in ctypes;
    its element type goes into the class's _pointees_ (the package checks each array against it)."""
    text = re.sub(r"/\*.*?\*/", " ", types_text, flags=re.S)
    found = []
    for m in re.finditer(r"typedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", text, flags=re.S):
        fields, pointees = [], []
        for decl in (d.strip() for d in m.group(2).split(";")):
            if not decl:
                continue
            f = re.match(r"^(?:const\s+)?(\w+)\s*(\*?)\s*(\w+)\s*(?:\[(\d+)\])?$", decl)
            if not f or (f.group(1) not in CTYPES and not (f.group(2) and f.group(1) == "void")):
                raise GenError("cannot map field %r of %s to ctypes" % (decl, m.group(3)))
            t = "ctypes.c_void_p" if f.group(2) else CTYPES[f.group(1)]
            fields.append((f.group(3), "%s * %s" % (t, f.group(4)) if f.group(4) else t))
            if f.group(2):
                pointees.append((f.group(3), "None" if f.group(1) == "void" else CTYPES[f.group(1)]))
        found.append((m.group(3), fields, pointees))
    return found


def python_class(c_name):
    """rr_posgen_params -> PosGenParams (the project spells PosGen so)."""
    return "".join("PosGen" if p == "posgen" else p.capitalize() for p in c_name.split("_")[1:])


def render_abi_py(decls, enums, types_text, core, v, order, docs):
    out = ['"""The C ABI of libresonance_rope for ctypes: structs, enums, statuses, flags, limits, version,',
           "and every function's signature (restype, argtypes) with the version that added it.",
           "",
           "GENERATED by tools/gen_header.py from the Swift sources and",
           "Sources/CResonanceRope/include/resonance_rope_types.h, like Include/resonance_rope.h. Do not",
           "edit: change the sources and run `make header` (`make check-header` fails when this is stale).",
           '"""',
           "import ctypes",
           "",
           "VERSION = %r" % ("%d.%d.%d" % v),
           "VERSION_NUMBER = %d" % (v[0] * 10000 + v[1] * 100 + v[2]),
           ""]
    for name, value in re.findall(r"^#define RR_(\w+) (\d+)u?$", types_text, flags=re.M):
        if not name.startswith("VERSION_"):
            out.append("%s = %s" % (name, value))
    out += ["", "# rr_status: value -> C name.", "STATUS_NAMES = {"]
    for name in [n for n in enums]:
        if name != "rr_status":
            raise GenError("@c enum %s: only rr_status is declared in the C layer; add others to CORE_ENUMS" % name)
        for _, const, value in decls[name][1]:
            out.append("    %s: %r," % (value, const))
    out.append("}")
    for name, _, cases in core:
        out += ["", "# %s: name -> value (the core's names, as the CLI spells them)." % name,
                "%s = {" % name[3:].upper()]
        out += ["    %r: %s," % (py, value) for _, value, _, py in cases]
        out.append("}")
    for name, fields, pointees in public_structs(types_text):
        out += ["", "", "class %s(ctypes.Structure):" % python_class(name), '    """%s."""' % name,
                "    _fields_ = ["]
        out += ['        ("%s", %s),' % f for f in fields]
        out.append("    ]")
        if pointees:
            out.append("    # the element type of each pointer field (None: void *, any)")
            out.append("    _pointees_ = {%s}" % ", ".join('"%s": %s' % p for p in pointees))
    out += SCALAR_POINTER
    structs = {n for n, _, _ in public_structs(types_text)}
    enum_types = set(enums) | {n for n, _, _ in core}
    out += ["", "", "# Every exported function, in header order: name -> (restype, argtypes, the version that",
            "# added it), from its C declaration and the \"Added in X.Y.Z.\" of its doc comment.",
            "FUNCTIONS = {"]
    for name in order:
        if name in enums:
            continue
        _, (ret, params, _) = decls[name]
        added = added_in(name, docs[name])
        if added > v:
            raise GenError("%s: added in %d.%d.%d, after the current version" % ((name,) + added))
        res = ctypes_of(ret, structs, enum_types, "%s result" % name)
        args = [ctypes_of(t, structs, enum_types, "%s parameter %s" % (name, n)) for t, n in params]
        line = '    "%s": (%s, [%s], %r),' % (name, res, ", ".join(args), added)
        if len(line) > 110:   # one parameter a line, named as in the header
            width = max(len(a) for a in args) + 1
            line = "\n".join(['    "%s": (%s, [' % (name, res)]
                              + ["        %-*s  # %s" % (width, a + ",", n) for a, (_, n) in zip(args, params)]
                              + ["    ], %r)," % (added,)])
        out.append(line)
    out.append("}")
    return "\n".join(out) + "\n"


# The argtype of a C `T *` (T a scalar): a fixed part of _abi.py.
SCALAR_POINTER = ["", ""] + """
class ScalarPointer:
    \"\"\"The ctypes argtype of a C `T *` (T a scalar; `const T *` with const=True). It accepts a numpy
    array whose dtype is exactly T, C-contiguous and (unless const) writable, passing its first
    element's address; None (NULL); or byref() / a ctypes array / a pointer of exactly T. Anything
    else, a bare int address included, raises ctypes.ArgumentError: the element type of every
    buffer is checked against the C declaration, not copied by each caller.
    \"\"\"

    def __init__(self, ctype, const=False):
        self.ctype, self.const, self._pointer = ctype, const, ctypes.POINTER(ctype)

    def from_param(self, obj):
        if obj is None:
            return None
        if hasattr(obj, "__array_interface__"):
            import numpy as np
            want = np.dtype(self.ctype)
            if not isinstance(obj, np.ndarray) or obj.dtype != want:
                raise TypeError("expected a numpy array of %s, got %s" % (want, getattr(obj, "dtype", type(obj))))
            if not obj.flags.c_contiguous:
                raise TypeError("expected a C-contiguous array")
            if not (self.const or obj.flags.writeable):
                raise TypeError("expected a writable array (the library writes into it)")
            return ctypes.c_void_p(obj.ctypes.data)
        return self._pointer.from_param(obj)

    def __eq__(self, other):
        return isinstance(other, ScalarPointer) and (other.ctype, other.const) == (self.ctype, self.const)

    def __hash__(self):
        return hash((self.ctype, self.const))

    def __repr__(self):
        return "ScalarPointer(ctypes.%s%s)" % (self.ctype.__name__, ", const=True" if self.const else "")


class Integer:
    \"\"\"The ctypes argtype of a C integer parameter: an int outside the C type's range raises
    ctypes.ArgumentError (plain ctypes keeps its low bits: 2**32 would arrive as 0).
    \"\"\"

    def __init__(self, ctype):
        self.ctype, bits = ctype, 8 * ctypes.sizeof(ctype)
        signed = ctype(-1).value == -1
        self.low, self.high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)

    def from_param(self, obj):
        if isinstance(obj, int) and not self.low <= obj <= self.high:
            raise OverflowError("%d is outside %s [%d, %d]" % (obj, self.ctype.__name__, self.low, self.high))
        return self.ctype.from_param(obj)

    def __eq__(self, other):
        return isinstance(other, Integer) and other.ctype is self.ctype

    def __hash__(self):
        return hash(self.ctype)

    def __repr__(self):
        return "Integer(ctypes.%s)" % self.ctype.__name__
""".strip("\n").split("\n")


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
    if types_text.count(VERSION_MARKER) != 1:
        raise GenError("%s must hold the line %s once" % (TYPES, VERSION_MARKER))
    v = version()
    types_text = types_text.replace(VERSION_MARKER, "\n".join(version_macros(v)))
    core = core_enums()
    clash = sorted(set(n for n, _, _ in core) & set(decls))
    if clash:
        raise GenError("%s: declared both in the core (CORE_ENUMS) and with @c" % clash)
    header = render(decls, enums, types_text, order, docs, case_docs, core)
    return header, render_abi_py(decls, enums, types_text, core, v, order, docs)


def compare(path, text, what):
    """0 when `path` holds `text`, else 1 with a diff."""
    try:
        with open(path, encoding="utf-8") as fh:
            current = fh.read()
    except OSError:
        current = ""
    if current == text:
        print("gen_header: %s is current" % os.path.relpath(path, ROOT))
        return 0
    sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), text.splitlines(True), path, "generated"))
    print("gen_header: %s is stale (%s): run `make header` and commit it" % (path, what), file=sys.stderr)
    return 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    ap.add_argument("--header", default=OUTPUT, help="header to write or check")
    ap.add_argument("--abi", default=ABI_PY, help="Python ABI module to write or check")
    ap.add_argument("--version", action="store_true", help="print the version and exit")
    a = ap.parse_args()
    try:
        if a.version:
            print("%d.%d.%d" % version())
            return 0
        header, abi = generate()
        layout = gen_layout_asserts.render(*gen_layout_asserts.layout())
    except GenError as e:
        print("gen_header: " + str(e), file=sys.stderr)
        return 2
    outputs = [(a.header, header, "the C header"), (a.abi, abi, "the Python ABI"),
               (gen_layout_asserts.OUT, layout, "the struct layouts: a layout change is an ABI change, review it")]
    if a.check:
        return max(compare(path, text, what) for path, text, what in outputs)
    for path, text, _ in outputs:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        print("gen_header: wrote %s" % os.path.relpath(path, ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The committed header is what the generator makes from the sources, and the check can fail."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GEN = os.path.join(ROOT, "tools", "gen_header.py")
HEADER = os.path.join(ROOT, "Include", "resonance_rope.h")


def check(path):
    return subprocess.run([sys.executable, GEN, "--check", "--header", path], capture_output=True, text=True)


def test_committed_header_is_current():
    r = check(HEADER)
    assert r.returncode == 0, r.stdout + r.stderr


def test_stale_header_is_caught(tmp_path):
    stale = os.path.join(tmp_path, "resonance_rope.h")
    shutil.copy(HEADER, stale)
    text = open(stale).read()
    # A doc edit, a signature edit and a removed declaration must each be caught.
    for edit in (text.replace("Added in 0.1.0.", "Added in 0.0.9.", 1),
                 text.replace("int64_t capacity", "int32_t capacity", 1),
                 text.replace("void rr_rope_free(rr_rope *rope) RR_NOEXCEPT;", "", 1)):
        assert edit != text
        open(stale, "w").write(edit)
        r = check(stale)
        assert r.returncode == 1 and "stale" in r.stderr


def test_header_compiles_strictly(tmp_path):
    src = os.path.join(tmp_path, "h.c")
    open(src, "w").write('#include "resonance_rope.h"\nint main(void) { return 0; }\n')
    for cmd in (["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"],
                ["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"],
                ["g++", "-x", "c++", "-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic"],
                ["g++", "-x", "c++", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic"],
                ["clang", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]):
        if shutil.which(cmd[0]) is None:
            continue
        r = subprocess.run(cmd + ["-fsyntax-only", "-I", os.path.join(ROOT, "Include"), src], capture_output=True, text=True)
        assert r.returncode == 0, " ".join(cmd) + "\n" + r.stderr


ABI = os.path.join(ROOT, "python", "resonance_rope", "_abi.py")
LAYOUT = os.path.join(ROOT, "Tests", "c", "rr_layout_asserts.h")


def check_abi(path):
    return subprocess.run([sys.executable, GEN, "--check", "--abi", path], capture_output=True, text=True)


def test_committed_abi_is_current():
    r = check_abi(ABI)
    assert r.returncode == 0, r.stdout + r.stderr


def test_stale_abi_is_caught(tmp_path):
    """A stale python/resonance_rope/_abi.py fails `make check-header` as a stale header does."""
    stale = os.path.join(tmp_path, "_abi.py")
    text = open(ABI).read()
    for edit in (text.replace("VERSION = '", "VERSION = '9", 1),
                 text.replace("    7: 'RR_STATUS_OVERLAP',\n", "", 1),
                 text.replace("'pow_sin_2pi': 2", "'pow_sin2pi': 2", 1),
                 text.replace('("n_tokens", ctypes.c_int64)', '("n_tokens", ctypes.c_int32)', 1),
                 # function signatures: a parameter's type, a result type, a dropped parameter, the
                 # version that added a function (it decides what a library may lack)
                 text.replace("ScalarPointer(ctypes.c_int64),  # pre_critical",
                              "ctypes.c_void_p,  # pre_critical", 1),
                 text.replace('"rr_version_number": (ctypes.c_uint32,', '"rr_version_number": (ctypes.c_int32,', 1),
                 text.replace("[ctypes.c_void_p, ctypes.POINTER(RopeInfo)]", "[ctypes.POINTER(RopeInfo)]", 1),
                 text.replace('"rr_rope_apply_bf16_inplace": (ctypes.c_int32, [ctypes.c_void_p, '
                              'ctypes.POINTER(Rotation)], (0, 1, 0))',
                              '"rr_rope_apply_bf16_inplace": (ctypes.c_int32, [ctypes.c_void_p, '
                              'ctypes.POINTER(Rotation)], (0, 2, 0))', 1)):
        assert edit != text
        open(stale, "w").write(edit)
        r = check_abi(stale)
        assert r.returncode == 1 and "stale" in r.stderr, r.stdout + r.stderr


def test_abi_structs_have_the_c_layout():
    """ctypes' sizes and offsets of every generated struct equal what the C compiler computed
    (Tests/c/rr_layout_asserts.h, from a compiled probe): the reference is the compiler."""
    import ctypes
    import importlib.util
    import re
    spec = importlib.util.spec_from_file_location("_abi_under_test", ABI)
    abi = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(abi)
    classes = {c.__doc__.rstrip("."): c for c in vars(abi).values()
               if isinstance(c, type) and issubclass(c, ctypes.Structure) and c is not ctypes.Structure}
    layout = open(LAYOUT).read()
    sizes = re.findall(r"sizeof\((\w+)\) == (\d+), ", layout)
    fields = re.findall(r"offsetof\((\w+), (\w+)\) == (\d+) && sizeof\(\(\(\w+ \*\)0\)->\w+\) == (\d+)", layout)
    assert sizes and fields and set(classes) == {n for n, _ in sizes}
    for name, size in sizes:
        assert ctypes.sizeof(classes[name]) == int(size), name
    for name, field, offset, size in fields:
        f = getattr(classes[name], field)
        assert (f.offset, f.size) == (int(offset), int(size)), "%s.%s" % (name, field)


# ---- the function signatures of _abi.py ---------------------------------------------------------

def generator(monkeypatch, emitted=None, swift_dir=None):
    """tools/gen_header.py as a module, reading `emitted` / `swift_dir` instead of the real inputs."""
    sys.path.insert(0, os.path.dirname(GEN))
    try:
        import gen_header
    finally:
        sys.path.pop(0)
    if emitted is not None:
        monkeypatch.setattr(gen_header, "EMITTED", emitted)
    if swift_dir is not None:
        monkeypatch.setattr(gen_header, "SWIFT_DIR", swift_dir)
    return gen_header


def test_unknown_c_type_stops_the_generator(tmp_path, monkeypatch):
    """A parameter type without a ctypes rule fails the generator (exit 2, naming the function, the
    parameter and the type) instead of being guessed (e.g. as c_void_p)."""
    gen = generator(monkeypatch)
    real = open(gen.EMITTED).read()
    cases = [("int64_t capacity) SWIFT_NOEXCEPT", "size_t capacity) SWIFT_NOEXCEPT", "'size_t'"),
             ("char const * _Nullable json,", "char * _Nullable json,", "'char *'"),         # writable text
             ("double * _Nullable values,", "double * _Nullable * _Nullable values,", "'double * *'"),
             ("rr_gap_summary * _Nullable summary", "rr_gap_report * _Nullable summary", "'rr_gap_report *'")]
    for old, new, named in cases:
        assert old in real, old
        path = os.path.join(tmp_path, "emitted.h")
        open(path, "w").write(real.replace(old, new, 1))
        gen = generator(monkeypatch, emitted=path)
        with pytest.raises(gen.GenError, match=re.escape("no ctypes mapping for C type %s" % named)):
            gen.generate()


def test_every_function_says_when_it_was_added(tmp_path, monkeypatch):
    """The "Added in X.Y.Z." of each doc comment decides which functions a library may lack, so a
    missing one, two of them, or a version after the current one stop the generator."""
    src = os.path.join(ROOT, "Sources", "ResonanceRope", "Handle.swift")
    text = open(src).read()
    marker = "by another thread. Added in 0.1.0."                     # rr_rope_free's doc comment
    assert text.count(marker) == 1
    for edit, error in ((marker.replace(" Added in 0.1.0.", ""), "rr_rope_free: .* once \\(found 0\\)"),
                        (marker + " Added in 0.1.0.", "rr_rope_free: .* once \\(found 2\\)"),
                        (marker.replace("0.1.0", "9.0.0"), "rr_rope_free: added in 9.0.0, after the current")):
        folder = os.path.join(tmp_path, "ResonanceRope")
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(os.path.dirname(src), folder)
        open(os.path.join(folder, "Handle.swift"), "w").write(text.replace(marker, edit))
        gen = generator(monkeypatch, swift_dir=folder)
        with pytest.raises(gen.GenError, match=error):
            gen.generate()


def clang():
    for c in (shutil.which("clang"), os.path.join(os.path.dirname(shutil.which("swift") or "/"), "clang")):
        if c and os.path.isfile(c):
            return c
    pytest.skip("no clang (it ships with the Swift toolchain) to parse the header with")


def test_signatures_match_the_compilers_reading_of_the_header():
    """Each FUNCTIONS entry against clang's parse of Include/resonance_rope.h: clang resolves every
    typedef (int64_t -> long, rr_status -> int, rr_rope -> struct rr_rope) and this test maps the
    resulting C types to ctypes with its own small table, so a wrong rule in the generator's
    ctypes_of or CTYPES (a signedness, a pointer level, a pointee, a struct) or a parameter
    dropped or reordered in _abi.py fails here even though the struct layouts still agree."""
    import ctypes
    import importlib.util
    spec = importlib.util.spec_from_file_location("_abi_under_test", ABI)
    abi = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(abi)
    r = subprocess.run([clang(), "-x", "c", "-std=c99", "-fsyntax-only", "-Xclang", "-ast-dump=json", HEADER],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    nodes = json.loads(r.stdout)["inner"]
    typedefs = {n["name"]: n["type"].get("desugaredQualType", n["type"]["qualType"])
                for n in nodes if n.get("kind") == "TypedefDecl"}
    defined = {n["name"] for n in nodes if n.get("kind") == "RecordDecl" and n.get("completeDefinition") and "name" in n}
    builtin = {"int": ctypes.c_int, "unsigned int": ctypes.c_uint, "long": ctypes.c_long,
               "unsigned long": ctypes.c_ulong, "double": ctypes.c_double, "float": ctypes.c_float}
    classes = {c.__doc__.rstrip("."): c for c in vars(abi).values()
               if isinstance(c, type) and issubclass(c, ctypes.Structure) and c is not ctypes.Structure}

    def resolve(name):
        while name in typedefs and typedefs[name] != name:
            name = typedefs[name]
        return name

    def expected(qual, result=False):
        m = re.match(r"^(const )?([\w ]+?) ?(\**)$", qual)
        assert m, qual
        const, base, depth = bool(m.group(1)), resolve(m.group(2)), len(m.group(3))
        if depth == 0 and (result or base in ("double", "float")):
            return None if base == "void" else builtin[base]
        if depth == 0:                                             # an integer parameter
            return abi.Integer(builtin[base])
        if base == "char" and const and depth == 1:
            return ctypes.c_char_p
        if base.startswith("struct ") and base[7:] not in defined:          # the opaque handle
            return {1: ctypes.c_void_p, 2: ctypes.POINTER(ctypes.c_void_p)}[depth]
        if base.startswith("struct ") and depth == 1:
            return ctypes.POINTER(classes[base[7:]])
        if base in builtin and depth == 1:
            return abi.ScalarPointer(builtin[base], const=const)
        raise AssertionError("no rule in this test for the C type %r" % qual)

    declared = {}
    for n in nodes:
        if n.get("kind") == "FunctionDecl" and n["name"].startswith("rr_"):
            result = re.match(r"^(.*?) ?\(", n["type"]["qualType"]).group(1)
            params = [p["type"]["qualType"] for p in n.get("inner", []) if p["kind"] == "ParmVarDecl"]
            declared[n["name"]] = (expected(result, True), [expected(p) for p in params])
    assert declared and set(declared) == set(abi.FUNCTIONS)
    for name, (restype, argtypes, _) in abi.FUNCTIONS.items():
        assert (restype, list(argtypes)) == declared[name], name
    # the element type of each struct's pointer fields (_pointees_), from clang's FieldDecls
    records = {n["name"]: n for n in nodes if n.get("kind") == "RecordDecl" and n.get("completeDefinition")
               and "name" in n}
    assert set(records) == set(classes)
    for name, record in records.items():
        want = {}
        for f in record["inner"]:
            m = re.match(r"^(const )?(\w+) \*$", f["type"]["qualType"]) if f.get("kind") == "FieldDecl" else None
            if m:
                base = resolve(m.group(2))
                want[f["name"]] = None if base == "void" else builtin[base]
        assert want == getattr(classes[name], "_pointees_", {}), name

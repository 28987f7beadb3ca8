"""The committed header is what the generator makes from the sources, and the check can fail."""
import os
import shutil
import subprocess
import sys

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
                 text.replace('("n_tokens", ctypes.c_int64)', '("n_tokens", ctypes.c_int32)', 1)):
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

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

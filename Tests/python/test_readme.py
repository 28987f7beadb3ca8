"""Every code block of README.md runs as written, in order, as a newcomer would run them.

Each fenced block must be preceded by a directive line saying how it runs (a block without one
fails the test, so no example escapes it):

    <!-- readme-test: checkout -->      a shell block run in the checkout (make install, make python-wheel)
    <!-- readme-test: scratch -->       a shell or Python block run in a scratch directory outside the
                                        checkout, which holds a model's config.json (Llama 3.1 8B's)
    <!-- readme-test: file NAME -->     the block is saved as NAME in the scratch directory (the C example)
    <!-- readme-test: skip: REASON -->  not run; the test prints the reason

The blocks share one shell session: what one block exports or activates (PATH, PKG_CONFIG_PATH,
a virtual environment) holds for the next, exactly as in a terminal. The session starts from the
test's environment without anything the README does not state: HOME is a fresh directory (so
`make install PREFIX=$HOME/.local` and `~/rr-venv` stay inside the test's temporary directory),
the checkout's .venv is not on PATH, and PYTHONPATH, RESONANCE_ROPE_LIB, RESONANCE_ROPE_CLI,
VIRTUAL_ENV and make's variables are removed. Only pip's download cache is kept (PIP_CACHE_DIR),
so that installing the wheel's numpy needs no second download. Python blocks run with the
session's `python3`.
"""
import json
import os
import re
import shutil
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = open(os.path.join(ROOT, "README.md")).read()
FENCE = re.compile(r"^```(\w*)\n(.*?)^```[ \t]*$", re.S | re.M)
DIRECTIVE = re.compile(r"<!-- readme-test: (.*?) -->\n\Z")
DROP = ("PYTHONPATH", "RESONANCE_ROPE_LIB", "RESONANCE_ROPE_CLI", "VIRTUAL_ENV", "MAKEFLAGS", "MFLAGS",
        "MAKELEVEL", "MAKEOVERRIDES", "PYTHONHOME", "PWD", "OLDPWD", "SHLVL", "_")
# The one version (Sources/ResonanceRopeCore/Version.swift), as generated into _abi.py.
VERSION = re.search(r"^VERSION = '([^']+)'$", open(os.path.join(ROOT, "python", "resonance_rope", "_abi.py")).read(),
                    re.M).group(1)
# What some blocks must print (a marker in the block -> strings its output must contain).
EXPECT = {
    "./demo": ["success"],
    "rope.apply_(q, np.arange(1000, 1016))": ["(8, 128)", "llama3"],
    "hf_cos = np.cos(emb)": ["(64, 128) (64, 128)"],
    "resonance-rope --version": [VERSION],
}


def readme_blocks():
    """(line, language, code, directive or None) of every fenced block, in order."""
    out = []
    for m in FENCE.finditer(README):
        before = README[:m.start()]
        d = DIRECTIVE.search(before)
        out.append((before.count("\n") + 1, m.group(1), m.group(2), d.group(1).strip() if d else None))
    return out


BLOCKS = readme_blocks()


def test_first_block_is_the_two_commands():
    first = BLOCKS[0][2].strip().splitlines()
    assert first[0].startswith("make demo") and first[1].startswith("make test")
    ci = open(os.path.join(ROOT, ".ci", "run")).read()
    assert "make test" in ci


def test_every_block_says_how_it_runs():
    for line, lang, _, d in BLOCKS:
        assert d is not None, "README.md line %d: a ```%s block without a readme-test directive" % (line, lang)
        kind = d.split(":")[0].split()[0]
        assert kind in ("checkout", "scratch", "file", "skip"), "README.md line %d: unknown directive %r" % (line, d)
        if kind == "skip":
            assert d.split(":", 1)[1].strip(), "README.md line %d: a skip needs a reason" % line


def test_c_example_fits_twenty_lines():
    c = [code for _, lang, code, _ in BLOCKS if lang == "c"]
    assert len(c) == 1 and len(c[0].strip().splitlines()) <= 22


def session_env(home):
    env = {k: v for k, v in os.environ.items() if k not in DROP}
    venv_bin = os.path.join(ROOT, ".venv", "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and os.path.abspath(p) != venv_bin)
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "pip")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["HOME"] = home
    return env


def test_every_block_runs_as_written(tmp_path):
    home, work = str(tmp_path / "home"), str(tmp_path / "work")
    os.makedirs(home)
    os.makedirs(work)
    shutil.copy(os.path.join(ROOT, "Tests", "Fixtures", "hf_configs", "llama-3.1-8b.json"),
                os.path.join(work, "config.json"))
    env = session_env(home)
    env_file = str(tmp_path / "session.env")
    ran = 0
    for n, (line, lang, code, d) in enumerate(BLOCKS):
        kind = d.split(":")[0].split()[0]
        head = "README.md line %d (```%s, %s)" % (line, lang, kind if kind == "skip" else d)
        if kind == "skip":
            print("%s: %s" % (head, d.split(":", 1)[1].strip()))
            continue
        if kind == "file":
            name = d.split()[1]
            with open(os.path.join(work, name), "w") as fh:
                fh.write(code)
            print("%s: saved as %s in the scratch directory" % (head, name))
            continue
        if lang == "python":
            script_path = os.path.join(work, "readme_block_%d.py" % n)
            with open(script_path, "w") as fh:
                fh.write(code)
            body = "python3 %s" % script_path
        else:
            assert lang == "sh", "%s: only sh and python blocks can run" % head
            body = code
        script = "set -eo pipefail\n%s\nenv -0 > '%s'\n" % (body, env_file)
        r = subprocess.run(["bash", "-c", script], cwd=ROOT if kind == "checkout" else work, env=env,
                           capture_output=True, text=True, timeout=1800)
        out = r.stdout + r.stderr
        shown = out.strip().splitlines()
        print("%s: exit %d, %d output lines%s" % (head, r.returncode, len(shown), ":" if shown else ""))
        for l in shown[:4] + (["  ..."] if len(shown) > 4 else []):
            print("    " + l[:150])
        assert r.returncode == 0, "%s failed:\n%s\n%s" % (head, code, out[-4000:])
        for marker, wants in EXPECT.items():
            if marker in code:
                for w in wants:
                    assert w in r.stdout, "%s: output lacks %r:\n%s" % (head, w, out[-2000:])
        if "python -m resonance_rope" in code:
            # The package and its library come from the environment the README made, not the checkout.
            lib = [l for l in r.stdout.splitlines() if l.startswith("library ")]
            assert len(lib) == 1 and " at " + home in lib[0], r.stdout
        with open(env_file) as fh:
            env = dict(kv.split("=", 1) for kv in fh.read().split("\0") if "=" in kv)
        env = {k: v for k, v in env.items() if k not in ("PWD", "OLDPWD", "SHLVL", "_")}
        ran += 1
    assert ran >= 6


def test_gap_table_numbers(cli):
    rows = re.findall(r"^\| [^|]*?(\d+), (\d+), (\d+), (\d+)[^|]*\| (\d+) \| ([\d.]+) \| ([\d.]+) \|$", README, re.M)
    assert len(rows) == 3
    for d, base, L, L2, pre, g_rope, g_res in rows:
        out = json.loads(subprocess.run([cli, "gap", "--rotary-dim", d, "--base", base, "--train-length", L,
                                         "--test-length", L2, "--json"], check=True, capture_output=True, text=True).stdout)
        assert out["pre_critical_pairs"] == int(pre)
        assert "%.*f" % (len(g_rope.split(".")[1]) if "." in g_rope else 0, out["max_pre_critical_gap_rope"]) == g_rope
        assert float(g_res) == out["max_pre_critical_gap_resonance"] == 0.0

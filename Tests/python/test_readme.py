"""The README's examples run as written (the README and the code stay in step)."""
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = open(os.path.join(ROOT, "README.md")).read()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, re.S)


def block(lang, marker):
    found = [b for l, b in BLOCKS if l == lang and marker in b]
    assert found, "README has no %s block containing %r" % (lang, marker)
    return found[0]


def test_first_lines_are_the_two_commands():
    first = BLOCKS[0][1].strip().splitlines()
    assert first[0].startswith("make demo") and first[1].startswith("make test")
    ci = open(os.path.join(ROOT, ".ci", "run")).read()
    assert "make test" in ci


def test_c_example_compiles_and_runs(rr, tmp_path):
    src = os.path.join(tmp_path, "demo.c")
    open(src, "w").write(block("c", "int main"))
    lib = os.path.dirname(os.environ["RESONANCE_ROPE_LIB"])
    inc = os.path.join(os.path.dirname(lib), "include")
    exe = os.path.join(tmp_path, "demo")
    subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", inc, src, "-o", exe,
                    "-L", lib, "-lresonance_rope", "-Wl,-rpath," + lib], check=True)
    out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "success"
    assert len(block("c", "int main").strip().splitlines()) <= 22


def run_python_block(marker):
    code = block("python", marker)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python")))
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_python_example_runs(rr):
    out = run_python_block("rope.apply_(q, np.arange(1000, 1016))")
    assert "(8, 128)" in out and "llama3" in out


def test_hf_recipe_runs(rr):
    assert "(64, 128) (64, 128)" in run_python_block("hf_cos = np.cos(emb)")


def test_cli_examples_run(cli, tmp_path):
    fixture = os.path.join(ROOT, "Tests", "Fixtures", "hf_configs", "llama-3.1-8b.json")
    for name in ("pred.npy", "ref.npy"):
        subprocess.run([cli, "posgen", "generate", "--count", "3", "--length", "64", "--format", "npy", "--out",
                        os.path.join(tmp_path, name)], check=True)
    lines = [l for l in block("sh", "resonance-rope freqs").splitlines() if l.startswith("resonance-rope")]
    assert len(lines) >= 6
    for line in lines:
        args = shlex.split(line.replace("config.json", fixture))[1:]
        r = subprocess.run([cli] + args, cwd=tmp_path, capture_output=True, text=True)
        assert r.returncode == 0, line + "\n" + r.stderr


def test_gap_table_numbers(cli):
    rows = re.findall(r"^\| [^|]*?(\d+), (\d+), (\d+), (\d+)[^|]*\| (\d+) \| ([\d.]+) \| ([\d.]+) \|$", README, re.M)
    assert len(rows) == 3
    import json
    for d, base, L, L2, pre, g_rope, g_res in rows:
        out = json.loads(subprocess.run([cli, "gap", "--rotary-dim", d, "--base", base, "--train-length", L,
                                         "--test-length", L2, "--json"], check=True, capture_output=True, text=True).stdout)
        assert out["pre_critical_pairs"] == int(pre)
        assert "%.*f" % (len(g_rope.split(".")[1]) if "." in g_rope else 0, out["max_pre_critical_gap_rope"]) == g_rope
        assert float(g_res) == out["max_pre_critical_gap_resonance"] == 0.0

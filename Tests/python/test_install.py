"""`pip install ./python` gives a package that works anywhere: outside the checkout, with no
environment variable, it loads the library bundled inside it and runs the bundled tool through
the `resonance-rope` console script."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_pip_install_works_outside_the_checkout(rr, tmp_path):
    target, work = tmp_path / "site", tmp_path / "elsewhere"
    work.mkdir()
    stage = os.path.dirname(os.path.dirname(os.path.realpath(os.environ["RESONANCE_ROPE_LIB"])))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESONANCE_ROPE")}
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                        os.path.join(ROOT, "python")], capture_output=True, text=True,
                       env=dict(env, RESONANCE_ROPE_BUNDLE=stage))
    assert r.returncode == 0, r.stdout + r.stderr
    assert (target / "resonance_rope" / "libresonance_rope.so.0").is_file()
    code = ("import resonance_rope as rr, numpy as np; r = rr.Rope(rotary_dim=8, resonance=True); "
            "print(rr.library_path()); print(r.resonance_wavelengths().tolist())")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(work),
                       env=dict(env, PYTHONPATH=str(target)))
    assert r.returncode == 0, r.stderr
    path, periods = r.stdout.strip().splitlines()
    assert path.startswith(str(target)), path                  # the bundled copy, not the checkout's
    script = target / "bin" / "resonance-rope"
    r = subprocess.run([sys.executable, str(script), "freqs", "--rotary-dim", "8", "--resonance", "--json"],
                       capture_output=True, text=True, cwd=str(work), env=dict(env, PYTHONPATH=str(target)))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["resonance_wavelengths"] == json.loads(periods) == [6, 63, 628, 6283]

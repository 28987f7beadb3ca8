import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))              # the resonance_rope package


@pytest.fixture(scope="session")
def rr():
    if not os.environ.get("RESONANCE_ROPE_LIB"):
        pytest.fail("RESONANCE_ROPE_LIB is not set: run the Python tests through `make test`")
    import resonance_rope
    return resonance_rope


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("RESONANCE_ROPE_CLI")
    if not path:
        pytest.fail("RESONANCE_ROPE_CLI is not set: run the Python tests through `make test`")
    return path


@pytest.fixture(scope="session")
def fixtures():
    return os.path.join(ROOT, "Tests", "Fixtures", "hf_configs")


def pytest_terminal_summary(terminalreporter):
    """The per-architecture table of test_torch.py (when it ran)."""
    mod = sys.modules.get("test_torch")
    rows = getattr(mod, "TABLE", None)
    if not rows:
        return
    w = terminalreporter.write_line
    w("")
    w("resonance_rope.torch per architecture (tiny random models, float32; seed %d):" % mod.SEED)
    w("  patched-vs-ref: max |logits patched (exact, Resonance on and off) - reference (Rope.apply_ on the")
    w("                  captured pre-RoPE q/k)|; no-res-vs-HF: patched without Resonance vs unpatched;")
    w("  inv_freq-only: exact=False vs unpatched; round trip: save_pretrained/from_pretrained/patch_model;")
    w("  bf16: max |bf16 - f32 logits| / max |f32 logits|")
    w("  %-12s %-9s %15s %13s %14s %11s %9s %9s" % ("arch", "rope", "patched-vs-ref", "no-res-vs-HF",
                                                  "inv_freq-only", "round trip", "generate", "bf16"))
    for r in rows:
        w("  %-12s %-9s %15.3g %13.3g %14.3g %11.3g %9s %9.3g" % (
            r["arch"], r["rope_type"], r["ref"], r["nores"], r["inv_only"], r["roundtrip"], r["generate"], r["bf16"]))

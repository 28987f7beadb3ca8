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

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Examples", "python"))


@pytest.fixture(scope="session")
def rr():
    if not os.environ.get("RESONANCE_ROPE_LIB"):
        pytest.fail("RESONANCE_ROPE_LIB is not set: run the Python tests through `make test`")
    import resonance_rope_ctypes
    return resonance_rope_ctypes


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("RESONANCE_ROPE_CLI")
    if not path:
        pytest.fail("RESONANCE_ROPE_CLI is not set: run the Python tests through `make test`")
    return path

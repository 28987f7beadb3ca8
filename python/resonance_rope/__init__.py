"""resonance_rope: exact RoPE and Resonance RoPE tables and rotations for numpy.

A thin ctypes layer over libresonance_rope's C ABI (Include/resonance_rope.h); numpy is the
only dependency. Library lookup: $RESONANCE_ROPE_LIB, next to this package, a checkout's
stage/lib or .build-release/release, then the system loader (see :func:`library_path`).

Example:
    >>> import numpy as np, resonance_rope as rr
    >>> rope = rr.Rope.from_hf_config("Tests/Fixtures/hf_configs/llama-3.1-8b.json", resonance=True)
    >>> q = np.zeros((4, 32, 128), np.float16)               # [tokens, heads, head_dim]
    >>> _ = rope.apply_(q, np.arange(4))                     # rotated in place
"""
from ._errors import STATUS_NAMES, GGUFError, IntegerRangeError, ResonanceRopeError
from ._lib import LibraryNotFoundError, LibraryTooOldError, library_path
from ._posgen import PosGen, PosGenScore
from ._rope import LAYOUTS, SCALINGS, TABLE_LAYOUTS, FeatureGap, Rope

from ._abi import VERSION as __version__  # the one version (Sources/ResonanceRopeCore/Version.swift)

__all__ = ["Rope", "FeatureGap", "PosGen", "PosGenScore", "ResonanceRopeError", "IntegerRangeError", "GGUFError",
           "LibraryNotFoundError",
           "LibraryTooOldError", "library_path", "library_version", "has_half_precision", "STATUS_NAMES",
           "SCALINGS", "LAYOUTS", "TABLE_LAYOUTS", "__version__"]


def library_version() -> str:
    """The loaded library's version string (rr_version_string()), e.g. ``'0.1.0'``."""
    from ._lib import library
    return library().version


def has_half_precision() -> bool:
    """True when the loaded library rotates float16 and bfloat16 in place
    (rr_rope_apply_f16_inplace / rr_rope_apply_bf16_inplace)."""
    from ._lib import library
    lib = library()
    return lib.has("rr_rope_apply_f16_inplace") and lib.has("rr_rope_apply_bf16_inplace")

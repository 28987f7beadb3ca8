"""Finding, loading and declaring libresonance_rope (ctypes). Internal.

The library is looked for, in order:

1. the file named by the environment variable ``RESONANCE_ROPE_LIB`` (when set, it must load:
   an explicit choice is never silently replaced by another copy);
2. next to this package (a wheel built by ``make python-wheel`` bundles it there);
3. the build and install folders of a resonance-rope checkout (``stage/lib``,
   ``.build-release/release``, ``.build-native/release``), found by walking up from this
   package and from the current directory to a folder holding ``Package.swift`` and
   ``Include/resonance_rope.h``;
4. the system loader (``libresonance_rope.so.0``, then ``ctypes.util.find_library``).

When nothing loads, :class:`LibraryNotFoundError` lists every place tried and why it failed.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from typing import List, Optional, Tuple

# Every exported function's ctypes signature and the version that added it, generated with
# Include/resonance_rope.h from the same sources (_abi.py).
from ._abi import FUNCTIONS

__all__ = ["LibraryNotFoundError", "LibraryTooOldError", "library", "library_path", "find_candidates"]

ENV_VAR = "RESONANCE_ROPE_LIB"
SONAME = "libresonance_rope.so.0"
_HERE = os.path.dirname(os.path.abspath(__file__))


class LibraryNotFoundError(OSError):
    """libresonance_rope could not be loaded. ``tried`` lists ``(place, reason)`` pairs."""

    def __init__(self, tried: List[Tuple[str, str]]):
        self.tried = tried
        lines = ["libresonance_rope could not be loaded. Looked in, in order:"]
        lines += ["  %-60s %s" % (place, reason) for place, reason in tried]
        lines.append("Set %s to the library file, build it with `make stage` in the repository, or "
                     "install a wheel built with `make python-wheel`." % ENV_VAR)
        super().__init__("\n".join(lines))


class LibraryTooOldError(RuntimeError):
    """The loaded library lacks a function this call needs (it predates it)."""

    def __init__(self, symbol: str, path: str, version: str):
        self.symbol, self.path, self.version = symbol, path, version
        super().__init__("%s is not exported by %s (version %s): the library is older than this "
                         "feature; rebuild it from a newer checkout (`make stage`)" % (symbol, path, version))


# The oldest library this package works with: the package's support policy (not an ABI fact).
# Every function added after it (the "Added in X.Y.Z." of its doc comment, in _abi.FUNCTIONS) is
# optional: bound when the loaded library exports it, LibraryTooOldError when called on one that
# lacks it. The rest are required: a library without one of them is not loaded at all.
OLDEST_LIBRARY = (0, 1, 0)


def optional(name: str) -> bool:
    """True when a library this package supports may lack the function `name`."""
    return FUNCTIONS[name][2] > OLDEST_LIBRARY


class Library:
    """A loaded libresonance_rope with every function declared. ``path`` is the file loaded."""

    def __init__(self, cdll: ctypes.CDLL, path: str):
        self.cdll, self.path = cdll, path
        self.missing: List[str] = []
        for name, (restype, argtypes, _) in FUNCTIONS.items():
            try:
                fn = getattr(cdll, name)
            except AttributeError:
                if optional(name):
                    self.missing.append(name)
                    continue
                raise LibraryNotFoundError([(path, "loaded, but it does not export %s: not a "
                                             "libresonance_rope of version %d.%d.%d or later"
                                             % ((name,) + OLDEST_LIBRARY))])
            fn.restype, fn.argtypes = restype, argtypes
            setattr(self, name, fn)
        self.version = self.rr_version_string().decode()

    def require(self, name: str):
        """The C function `name`, or LibraryTooOldError when this library lacks it."""
        fn = getattr(self, name, None)
        if fn is None:
            raise LibraryTooOldError(name, self.path, self.version)
        return fn

    def has(self, name: str) -> bool:
        return getattr(self, name, None) is not None


def _checkout_roots() -> List[str]:
    """Folders that look like a resonance-rope checkout, above this package and the cwd."""
    roots: List[str] = []
    for start in (_HERE, os.getcwd()):
        d = os.path.abspath(start)
        while True:
            if (os.path.isfile(os.path.join(d, "Package.swift"))
                    and os.path.isfile(os.path.join(d, "Include", "resonance_rope.h")) and d not in roots):
                roots.append(d)
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent
    return roots


def find_candidates() -> List[Tuple[str, str]]:
    """The places searched after $RESONANCE_ROPE_LIB, in order, as (kind, path) pairs."""
    out: List[Tuple[str, str]] = []
    for name in (SONAME, "libresonance_rope.so"):
        out.append(("next to the package", os.path.join(_HERE, name)))
    for root in _checkout_roots():
        for rel in (("stage", "lib", SONAME), (".build-release", "release", "libresonance_rope.so"),
                    (".build-native", "release", "libresonance_rope.so")):
            out.append(("checkout", os.path.join(root, *rel)))
    return out


_lock = threading.Lock()
_library: Optional[Library] = None


def _load() -> Library:
    tried: List[Tuple[str, str]] = []

    def attempt(path: str) -> Optional[Library]:
        try:
            cdll = ctypes.CDLL(path)
        except OSError as e:
            tried.append((path, "failed: %s" % e))
            return None
        return Library(cdll, getattr(cdll, "_name", path))

    env = os.environ.get(ENV_VAR)
    if env:
        if not os.path.isfile(env):
            raise LibraryNotFoundError([("$%s = %s" % (ENV_VAR, env), "no such file (unset the "
                                         "variable to search the usual places)")])
        lib = attempt(os.path.abspath(env))
        if lib is None:
            raise LibraryNotFoundError([("$%s = %s" % (ENV_VAR, env), tried[-1][1])])
        return lib
    tried.append(("$%s" % ENV_VAR, "not set"))
    for _, path in find_candidates():
        if not os.path.exists(path):
            tried.append((path, "absent"))
            continue
        lib = attempt(os.path.abspath(path))
        if lib is not None:
            return lib
    if not _checkout_roots():
        tried.append(("(a resonance-rope checkout above %s or the cwd)" % _HERE, "none found"))
    lib = attempt(SONAME)
    if lib is not None:
        lib.path = _loaded_path(SONAME)
        return lib
    found = ctypes.util.find_library("resonance_rope")
    if found:
        lib = attempt(found)
        if lib is not None:
            lib.path = _loaded_path(found)
            return lib
    else:
        tried.append(("ctypes.util.find_library('resonance_rope')", "nothing found"))
    raise LibraryNotFoundError(tried)


def _loaded_path(name: str) -> str:
    """The file the dynamic loader chose for `name` (from /proc/self/maps), else `name`."""
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 6 and os.path.basename(parts[-1]).startswith("libresonance_rope.so"):
                    return parts[-1]
    except OSError:
        pass
    return name


def library() -> Library:
    """The process-wide library, loaded on first use (thread-safe)."""
    global _library
    if _library is None:
        with _lock:
            if _library is None:
                _library = _load()
    return _library


def library_path() -> str:
    """The path of the loaded library file."""
    return library().path

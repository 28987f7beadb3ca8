"""A small reader of GGUF metadata (no dependency on the `gguf` package). Internal.

Reads the key/value section and the f32 per-pair rope tensors (``rope_freqs.weight``,
``rope_factors_short.weight``, ``rope_factors_long.weight``) of a GGUF file (versions 2 and 3,
little-endian), and formats what RoPE needs as the ``key=value`` text that
rr_rope_create_from_gguf_metadata() parses.
"""
from __future__ import annotations

import math
import struct
from typing import Any, BinaryIO, Dict, Mapping, Tuple

import numpy as np

__all__ = ["read_gguf", "metadata_text"]

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
# Tensor name in the file -> array key the C parser reads.
ROPE_TENSORS = {"rope_freqs.weight": "rope_freqs", "rope_factors_short.weight": "rope_factors_short",
                "rope_factors_long.weight": "rope_factors_long"}


class _Reader:
    def __init__(self, fh: BinaryIO, path: str):
        self.fh, self.path = fh, path

    def take(self, n: int) -> bytes:
        b = self.fh.read(n)
        if len(b) != n:
            raise ValueError("%s: truncated GGUF file" % self.path)
        return b

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        return self.take(self.unpack("<Q")).decode("utf-8", errors="replace")

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            itype, n = self.unpack("<I"), self.unpack("<Q")
            if itype in _SCALARS:
                size = struct.calcsize(_SCALARS[itype])
                return np.frombuffer(self.take(size * n), dtype=np.dtype(_SCALARS[itype])).copy()
            return [self.value(itype) for _ in range(n)]
        raise ValueError("%s: unknown GGUF value type %d" % (self.path, vtype))


def read_gguf(path: str) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """(metadata, rope tensors) of a GGUF file; tensors are the f32 per-pair rope tensors found."""
    with open(path, "rb") as fh:
        r = _Reader(fh, path)
        if r.take(4) != b"GGUF":
            raise ValueError("%s: not a GGUF file (no GGUF magic)" % path)
        version = r.unpack("<I")
        if version not in (2, 3):
            raise ValueError("%s: GGUF version %d is not supported (2 or 3)" % (path, version))
        n_tensors, n_kv = r.unpack("<Q"), r.unpack("<Q")
        meta: Dict[str, Any] = {}
        for _ in range(n_kv):
            key = r.string()
            meta[key] = r.value(r.unpack("<I"))
        infos = []
        for _ in range(n_tensors):
            name = r.string()
            dims = [r.unpack("<Q") for _ in range(r.unpack("<I"))]
            ttype, offset = r.unpack("<I"), r.unpack("<Q")
            infos.append((name, dims, ttype, offset))
        align = int(meta.get("general.alignment", 32))
        data_start = -(-fh.tell() // align) * align
        tensors: Dict[str, np.ndarray] = {}
        for name, dims, ttype, offset in infos:
            if name in ROPE_TENSORS:
                if ttype != 0:
                    raise ValueError("%s: tensor %s has GGML type %d, expected 0 (F32)" % (path, name, ttype))
                n = int(np.prod(dims)) if dims else 1
                fh.seek(data_start + offset)
                tensors[name] = np.frombuffer(r.take(4 * n), dtype="<f4").astype(np.float32)
    return meta, tensors


def _format(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if not math.isfinite(x):
            raise ValueError("non-finite value %r" % x)
        return repr(x)
    if isinstance(value, str):
        if "\n" in value or "\r" in value:
            raise ValueError("string with a line break")
        return '"%s"' % value
    a = np.asarray(value)
    if a.ndim == 1 and a.dtype.kind in "iuf":
        return "[" + ", ".join(_format(float(x)) for x in a.astype(np.float64)) + "]"
    raise ValueError("unsupported value of type %s" % type(value).__name__)


def metadata_text(meta: Mapping[str, Any]) -> str:
    """The ``key=value`` lines the C parser reads: general.architecture, every ``<arch>.`` key
    with a number, string or numeric-array value, and the per-pair rope arrays. Other keys
    (tokenizer, ...) are left out."""
    arch = meta.get("general.architecture")
    lines = []
    for key, value in meta.items():
        keep = key == "general.architecture" or key in ROPE_TENSORS.values() or (
            isinstance(arch, str) and key.startswith(arch + "."))
        if not keep:
            continue
        if isinstance(value, list):
            continue                                     # arrays of strings: not RoPE settings
        try:
            lines.append("%s=%s" % (key, _format(value)))
        except ValueError as e:
            raise ValueError("GGUF metadata %s: %s" % (key, e)) from None
    return "\n".join(lines) + "\n"

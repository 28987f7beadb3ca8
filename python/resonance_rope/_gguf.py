"""A small reader of GGUF metadata (no dependency on the `gguf` package). Internal.

Reads the key/value section and the f32 per-pair rope tensors (``rope_freqs.weight``,
``rope_factors_short.weight``, ``rope_factors_long.weight``) of a GGUF file (versions 2 and 3,
little-endian), and formats what RoPE needs as the ``key=value`` text that
rr_rope_create_from_gguf_metadata() parses.

Every malformed file raises GGUFError naming the byte offset and the field; nothing is allocated
before its size is checked against the bytes left in the file, so a corrupt length costs no more
than the file's size (no MemoryError, OverflowError, RecursionError). Refused as llama.cpp's
gguf.cpp refuses them: duplicate keys and tensor names, general.alignment that is not a power of
two, more than 4 tensor dimensions, a tensor offset that is not a multiple of the alignment, a
rope tensor whose data lies past the end. Keys and tensor names must be valid UTF-8; a string
value that is not is kept as bytes (refused only if metadata_text needs it). Arrays nest at most
_MAX_DEPTH levels.
"""
from __future__ import annotations

import math
import os
import struct
from typing import Any, BinaryIO, Dict, Mapping, Optional, Tuple

import numpy as np

from ._errors import GGUFError

__all__ = ["read_gguf", "metadata_text", "file_text", "GGUFError"]

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
# Fewest bytes one value of each type takes: bounds an array's count by the bytes left.
_MIN_SIZE = {**{t: struct.calcsize(f) for t, f in _SCALARS.items()}, _STRING: 8, _ARRAY: 12}
_MAX_DEPTH = 16          # arrays of arrays: deeper nesting is refused, not recursed into
_MAX_DIMS = 4            # GGML_MAX_DIMS
_KV_MIN, _TENSOR_MIN = 8 + 4 + 1, 8 + 4 + 4 + 8       # fewest bytes of one key/value, one tensor info
# Tensor name in the file -> array key the C parser reads.
ROPE_TENSORS = {"rope_freqs.weight": "rope_freqs", "rope_factors_short.weight": "rope_factors_short",
                "rope_factors_long.weight": "rope_factors_long"}


class Metadata(dict):
    """The key/value section as a dict; ``key_offsets[key]`` and ``offsets[key]`` are the byte
    offsets of each key and of its value, and ``path`` the file, so that later refusals
    (metadata_text) can name them."""
    path: str = "GGUF metadata"
    key_offsets: Dict[str, int] = {}
    offsets: Dict[str, int] = {}


class _Reader:
    def __init__(self, fh: BinaryIO, path: str):
        self.fh, self.path = fh, path
        self.size = os.fstat(fh.fileno()).st_size
        self.pos = 0

    def fail(self, offset: Optional[int], field: str, problem: str) -> None:
        raise GGUFError(self.path, offset, field, problem)

    def take(self, n: int, field: str) -> bytes:
        left = self.size - self.pos
        if n > left:
            self.fail(self.pos, field, "needs %d bytes, only %d are left in the %d-byte file (truncated or "
                      "corrupt)" % (n, left, self.size))
        b = self.fh.read(n)
        if len(b) != n:
            self.fail(self.pos, field, "the file ended early (changed while read?)")
        self.pos += n
        return b

    def unpack(self, fmt: str, field: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), field))[0]

    def count(self, n: int, each: int, at: int, field: str) -> int:
        """`n` items of at least `each` bytes must fit in what is left of the file."""
        if n * each > self.size - self.pos:
            self.fail(at, field, "%d items of at least %d bytes do not fit in the %d bytes left"
                      % (n, each, self.size - self.pos))
        return n

    def raw_string(self, field: str) -> bytes:
        at = self.pos
        n = self.unpack("<Q", field + " length")
        if n > self.size - self.pos:
            self.fail(at, field + " length", "%d bytes, only %d are left in the %d-byte file"
                      % (n, self.size - self.pos, self.size))
        return self.take(n, field)

    def strings(self, n: int, field: str) -> list:
        """n string values (a tokenizer's vocabulary): value() inlined, names formatted only on
        failure (this loop is most of the time spent on a real model's metadata)."""
        out, read, unpack, size = [], self.fh.read, struct.unpack, self.size
        for i in range(n):
            if size - self.pos < 8:
                self.take(8, "%s[%d] length" % (field, i))       # raises
            length = unpack("<Q", read(8))[0]
            self.pos += 8
            if length > size - self.pos:
                self.fail(self.pos - 8, "%s[%d] length" % (field, i), "%d bytes, only %d are left in the %d-byte "
                          "file" % (length, size - self.pos, size))
            raw = read(length)
            if len(raw) != length:
                self.fail(self.pos, "%s[%d]" % (field, i), "the file ended early (changed while read?)")
            self.pos += length
            try:
                out.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                out.append(raw)                                   # kept as bytes, as in value()
        return out

    def name(self, field: str) -> str:
        at = self.pos
        raw = self.raw_string(field)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            self.fail(at + 8 + e.start, field, "not valid UTF-8")

    def value(self, vtype: int, field: str, depth: int = 0) -> Any:
        at = self.pos
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype], field)
        if vtype == _STRING:
            raw = self.raw_string(field)
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                return raw                                # kept as bytes: refused only if used
        if vtype == _ARRAY:
            if depth >= _MAX_DEPTH:
                self.fail(at, field, "arrays nested deeper than %d levels" % _MAX_DEPTH)
            itype = self.unpack("<I", field + " element type")
            n = self.unpack("<Q", field + " count")
            if itype not in _MIN_SIZE:
                self.fail(at, field + " element type", "unknown GGUF value type %d" % itype)
            self.count(n, _MIN_SIZE[itype], at + 4, field + " count")
            if itype in _SCALARS:
                dt = np.dtype(_SCALARS[itype])
                return np.frombuffer(self.take(dt.itemsize * n, field), dtype=dt).copy()
            if itype == _STRING:
                return self.strings(n, field)
            return [self.value(itype, "%s[%d]" % (field, i), depth + 1) for i in range(n)]
        self.fail(at - 4, field + " type", "unknown GGUF value type %d" % vtype)


def read_gguf(path: str) -> Tuple[Metadata, Dict[str, np.ndarray]]:
    """(metadata, rope tensors) of a GGUF file; tensors are the f32 per-pair rope tensors found.
    Raises GGUFError (a ValueError) for a malformed file."""
    with open(path, "rb") as fh:
        r = _Reader(fh, path)
        if r.take(4, "magic") != b"GGUF":
            r.fail(0, "magic", "not a GGUF file (no GGUF magic)")
        version = r.unpack("<I", "version")
        if version not in (2, 3):
            r.fail(4, "version", "version %d is not supported (2 or 3, little-endian)" % version)
        n_tensors = r.count(r.unpack("<Q", "tensor count"), _TENSOR_MIN, 8, "tensor count")
        n_kv = r.count(r.unpack("<Q", "key/value count"), _KV_MIN, 16, "key/value count")
        meta = Metadata()
        meta.path, meta.key_offsets, meta.offsets = path, {}, {}
        for i in range(n_kv):
            at = r.pos
            key = r.name("key %d" % i)
            if key in meta:
                r.fail(at, "key %r" % key, "duplicate key (first at byte %d)" % meta.key_offsets[key])
            vtype = r.unpack("<I", "key %r: type" % key)
            meta.key_offsets[key], meta.offsets[key] = at, r.pos
            meta[key] = r.value(vtype, "key %r: value" % key)
        align = 32
        if "general.alignment" in meta:
            a = meta["general.alignment"]
            if not isinstance(a, int) or isinstance(a, bool) or a < 1 or a & (a - 1):
                r.fail(meta.offsets["general.alignment"], "key 'general.alignment'",
                       "%r is not a power of two (an integer >= 1)" % (a,))
            align = a
        infos = []
        names: Dict[str, int] = {}
        for i in range(n_tensors):
            at = r.pos
            name = r.name("tensor %d name" % i)
            if name in names:
                r.fail(at, "tensor %r" % name, "duplicate tensor name (first at byte %d)" % names[name])
            names[name] = at
            n_dims = r.unpack("<I", "tensor %r: n_dims" % name)
            if n_dims > _MAX_DIMS:
                r.fail(r.pos - 4, "tensor %r: n_dims" % name, "%d dimensions (at most %d)" % (n_dims, _MAX_DIMS))
            dims = [r.unpack("<Q", "tensor %r: dimension %d" % (name, j)) for j in range(n_dims)]
            ttype = r.unpack("<I", "tensor %r: type" % name)
            offset_at = r.pos
            offset = r.unpack("<Q", "tensor %r: offset" % name)
            if offset % align:
                r.fail(offset_at, "tensor %r: offset" % name, "%d is not a multiple of the alignment %d"
                       % (offset, align))
            infos.append((name, dims, ttype, offset, at, offset_at))
        data_start = -(-r.pos // align) * align
        tensors: Dict[str, np.ndarray] = {}
        for name, dims, ttype, offset, at, offset_at in infos:
            if name not in ROPE_TENSORS:
                continue
            if ttype != 0:
                r.fail(at, "tensor %r: type" % name, "GGML type %d, expected 0 (F32)" % ttype)
            n = math.prod(dims)                          # Python ints: no overflow
            begin = data_start + offset
            if begin + 4 * n > r.size:
                r.fail(offset_at, "tensor %r: data" % name, "%d f32 values from byte %d end past the %d-byte file"
                       % (n, begin, r.size))
            fh.seek(begin)
            r.pos = begin
            tensors[name] = np.frombuffer(r.take(4 * n, "tensor %r: data" % name), dtype="<f4").astype(np.float32)
            meta.offsets[name] = begin
    return meta, tensors


def file_text(path: str) -> str:
    """The key=value text of a GGUF file: its metadata plus its rope tensors as arrays."""
    meta, tensors = read_gguf(path)
    for tname, key in ROPE_TENSORS.items():
        if tname in tensors:
            if key in meta:
                raise GGUFError(path, meta.offsets[tname], "tensor %r" % tname,
                                "the metadata also has a key %r (at byte %d)" % (key, meta.key_offsets[key]))
            meta[key] = tensors[tname]
            meta.key_offsets[key] = meta.offsets[key] = meta.offsets[tname]
    return metadata_text(meta)


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
    if isinstance(value, bytes):
        raise ValueError("string value that is not valid UTF-8")
    a = np.asarray(value)
    if a.ndim == 1 and a.dtype.kind in "iuf":
        return "[" + ", ".join(_format(float(x)) for x in a.astype(np.float64)) + "]"
    raise ValueError("unsupported value of type %s" % type(value).__name__)


def metadata_text(meta: Mapping[str, Any]) -> str:
    """The ``key=value`` lines the C parser reads: general.architecture, every ``<arch>.`` key
    with a number, string or numeric-array value, and the per-pair rope arrays. Other keys
    (tokenizer, ...) and arrays of strings or booleans (not RoPE settings) are left out.
    A kept key or value the text cannot carry raises GGUFError naming it (and, for a Metadata
    from read_gguf, its file and byte offset)."""
    arch = meta.get("general.architecture")
    path = getattr(meta, "path", "GGUF metadata")
    key_offsets, offsets = getattr(meta, "key_offsets", {}), getattr(meta, "offsets", {})
    lines = []
    for key, value in meta.items():
        keep = key == "general.architecture" or key in ROPE_TENSORS.values() or (
            isinstance(arch, str) and key.startswith(arch + "."))
        if not keep:
            continue
        if isinstance(value, list) or (isinstance(value, np.ndarray) and value.dtype == np.bool_):
            continue                                     # arrays of strings or booleans
        if any(c in key for c in "=\r\n"):
            raise GGUFError(path, key_offsets.get(key), "key %r" % key,
                            "a key with '=' or a line break cannot be written as key=value text")
        try:
            lines.append("%s=%s" % (key, _format(value)))
        except ValueError as e:
            raise GGUFError(path, offsets.get(key), "key %r: value" % key, str(e)) from None
    return "\n".join(lines) + "\n"

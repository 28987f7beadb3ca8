"""ResonanceRopeError: a non-OK rr_status turned into an exception. Internal."""
from __future__ import annotations

from ._abi import STATUS_NAMES  # rr_status value -> C name (generated with the header)

__all__ = ["ResonanceRopeError", "IntegerRangeError", "GGUFError", "STATUS_NAMES", "check"]


class ResonanceRopeError(RuntimeError):
    """A call into libresonance_rope returned a status other than RR_STATUS_OK.

    Attributes:
        status: the rr_status value (int), e.g. 3.
        status_name: its C name, e.g. ``"RR_STATUS_INVALID_DIMENSION"``.
        status_text: ``rr_status_string(status)``, the library's one-line meaning.
        message: ``rr_last_error_message()`` right after the call: names the argument at fault.
        function: the C function called.

    Example:
        >>> from resonance_rope import Rope
        >>> try:
        ...     Rope(rotary_dim=7)
        ... except ResonanceRopeError as e:
        ...     print(e.status_name)
        RR_STATUS_INVALID_DIMENSION
    """

    def __init__(self, function: str, status: int, status_text: str, message: str):
        self.function, self.status, self.status_text, self.message = function, status, status_text, message
        self.status_name = STATUS_NAMES.get(status, "unknown status %d" % status)
        super().__init__("%s (%s = %d: %s)" % (message or function, self.status_name, status, status_text))


class IntegerRangeError(OverflowError, ValueError):
    """A Python integer argument outside the range its C parameter holds (or the range the
    method documents), raised before any call: ctypes would otherwise keep only its low 32 or
    64 bits (``cos_sin(start=2**64 + 7)`` would start at position 7).

    Attributes: name (the argument), value, low, high (the allowed range, inclusive).
    An OverflowError and a ValueError, so either ``except`` catches it.
    """

    def __init__(self, name: str, value: int, low: int, high: int):
        self.name, self.value, self.low, self.high = name, value, low, high
        super().__init__("%s = %d is out of range: allowed %s .. %s" % (name, value, _pretty(low), _pretty(high)))

    def __reduce__(self):                                  # picklable (multiprocessing)
        return type(self), (self.name, self.value, self.low, self.high)


def _pretty(v: int) -> str:
    """-2^63, 2^63 - 1, 2^31 - 1 for the C type bounds; other values in decimal."""
    for bits in (31, 32, 63, 64):
        if v == 1 << bits:
            return "2^%d" % bits
        if v == (1 << bits) - 1:
            return "2^%d - 1" % bits
        if v == -(1 << bits):
            return "-2^%d" % bits
    return str(v)


class GGUFError(ValueError):
    """A .gguf file that cannot be read: truncated, corrupt, or outside what the reader accepts.

    Attributes: path, offset (byte offset of the field at fault, or None), field (what was
    being read, e.g. ``"key 'llama.context_length': value"``), problem (the reason).
    """

    def __init__(self, path: str, offset, field: str, problem: str):
        self.path, self.offset, self.field, self.problem = path, offset, field, problem
        where = "" if offset is None else " at byte %d" % offset
        super().__init__("%s: GGUF %s%s: %s" % (path, field, where, problem))

    def __reduce__(self):
        return type(self), (self.path, self.offset, self.field, self.problem)


def check(lib, function: str, status: int) -> None:
    """Raises ResonanceRopeError for a non-zero status (reads the thread's last message now)."""
    if status != 0:
        raise ResonanceRopeError(function, status, lib.rr_status_string(status).decode(),
                                 lib.rr_last_error_message().decode(errors="replace"))

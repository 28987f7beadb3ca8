"""ResonanceRopeError: a non-OK rr_status turned into an exception. Internal."""
from __future__ import annotations

from ._abi import STATUS_NAMES  # rr_status value -> C name (generated with the header)

__all__ = ["ResonanceRopeError", "STATUS_NAMES", "check"]


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


def check(lib, function: str, status: int) -> None:
    """Raises ResonanceRopeError for a non-zero status (reads the thread's last message now)."""
    if status != 0:
        raise ResonanceRopeError(function, status, lib.rr_status_string(status).decode(),
                                 lib.rr_last_error_message().decode(errors="replace"))

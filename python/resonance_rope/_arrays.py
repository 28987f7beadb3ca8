"""Argument checks done in Python before any C call. Internal.

Nothing here copies a caller's in-place array: an array that does not fit is refused with
TypeError (wrong type or dtype) or ValueError (shape, strides, read-only, misaligned). Every
integer that reaches a ctypes parameter goes through c_int(): ctypes keeps only the low 32 or 64
bits of a Python int, so 2**64 + 7 would silently become 7.
"""
from __future__ import annotations

import operator
from typing import Any, Optional, Tuple

import numpy as np

from ._errors import IntegerRangeError

__all__ = ["c_int", "field_bits", "address", "int_values", "positions_array", "pair_values", "element_kind",
           "head_geometry", "int32_array"]


def c_int(value: Any, name: str, bits: int = 64, low: Optional[int] = None, high: Optional[int] = None) -> int:
    """`value` as a Python int for a C int<bits>_t parameter.

    Integers of any kind (int, bool, numpy integers: anything with __index__) are accepted;
    floats and other types raise TypeError (4096.5 is never truncated). A value outside
    [low, high] (default: the whole int<bits>_t range) raises IntegerRangeError naming `name`
    and the range."""
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError("%s must be an integer, got %s %r" % (name, type(value).__name__, value)) from None
    lo = -(1 << (bits - 1)) if low is None else low
    hi = (1 << (bits - 1)) - 1 if high is None else high
    if not lo <= v <= hi:
        raise IntegerRangeError(name, v, lo, hi)
    return v


def field_bits(struct: Any, field: str) -> int:
    """The width in bits of integer field `field` of the generated ctypes struct `struct` (for c_int:
    a struct field keeps only its low bits too)."""
    return 8 * getattr(struct, field).size


def address(struct: Any, field: str, a: np.ndarray) -> int:
    """The address of `a` for pointer field `field` of the generated ctypes struct `struct`, after
    checking that `a` is a C-contiguous array of the field's C element type (_pointees_; any for
    a void * field)."""
    element = struct._pointees_[field]
    want = None if element is None else np.dtype(element)    # np.dtype(None) would be float64
    if not isinstance(a, np.ndarray) or (want is not None and a.dtype != want) or not a.flags.c_contiguous:
        raise TypeError("%s.%s takes a C-contiguous array of %s, got %s" % (
            struct.__doc__.rstrip("."), field, "any type" if want is None else want, getattr(a, "dtype", type(a))))
    return a.ctypes.data


def int_values(values: Any, name: str, bits: int = 64) -> np.ndarray:
    """A 1-D input sequence of integers (list, range, numpy integer array) as a C-contiguous
    int<bits> array; every value range-checked (IntegerRangeError names the index)."""
    a = np.asarray(values)
    dtype = np.dtype("int%d" % bits)
    if a.size == 0:
        return np.zeros(0, dtype)
    if a.ndim != 1 or a.dtype.kind not in "iufO":
        raise TypeError("%s must be a 1-D sequence of integers, got %s of shape %s" % (name, a.dtype, a.shape))
    if a.dtype.kind in "iu" and np.can_cast(a.dtype, dtype):
        return a.astype(dtype)                            # every value fits
    # Python ints beyond int64 make numpy choose object, uint64 or even float64 (2**63 next to a
    # negative): check each value exactly as the integer it was given as.
    given = values.tolist() if isinstance(values, np.ndarray) else list(values)
    return np.array([c_int(v, "%s[%d]" % (name, i), bits) for i, v in enumerate(given)], dtype)


def pair_values(values: Any, name: str, pair_count: Optional[int]) -> np.ndarray:
    """A per-pair input array (short_factor, long_factor, freq_factors) as a new C-contiguous
    float64 array of exactly `pair_count` finite values (any length when None), checked before
    the library reads it: the C struct of version 0.1.0 passes a bare pointer, and the library
    reads pair_count doubles from it whatever the caller's array holds."""
    try:
        a = np.asarray(values)
    except (ValueError, TypeError) as e:                  # ragged lists and the like
        raise ValueError("%s must be a 1-D array of rotary_dim / 2 numbers: %s" % (name, e)) from None
    if a.dtype.kind not in "iuf":
        raise TypeError("%s must hold real numbers (converted to float64), got dtype %s" % (name, a.dtype))
    if a.ndim != 1:
        raise ValueError("%s must be 1-D (rotary_dim / 2 values), got shape %s" % (name, a.shape))
    if pair_count is not None and a.size != pair_count:
        raise ValueError("%s has %d values; rotary_dim / 2 = %d are needed (one per pair)" % (name, a.size, pair_count))
    out = np.array(a, dtype=np.float64, order="C")       # an input: copying it is harmless
    bad = np.flatnonzero(~np.isfinite(out))
    if bad.size:
        raise ValueError("%s[%d] = %r is not finite" % (name, bad[0], float(out[bad[0]])))
    return out


_AXES = {"td": (0, None, 2), "thd": (0, 1, 3), "htd": (1, 0, 3), "bthd": (1, 2, 4), "bhtd": (2, 1, 4)}


def positions_array(positions: Any, name: str = "positions") -> np.ndarray:
    """int64 positions as a C-contiguous 1-D array.

    A numpy array must already be int64, 1-D, C-contiguous and aligned (it is passed by pointer,
    never copied); a Python int sequence or range is converted."""
    if isinstance(positions, np.ndarray):
        if positions.dtype != np.int64:
            raise TypeError("%s must be int64, got %s: convert it with .astype(np.int64) (arrays are never "
                            "converted silently)" % (name, positions.dtype))
        if positions.ndim != 1:
            raise ValueError("%s must be 1-D, got shape %s" % (name, positions.shape))
        if not positions.flags.c_contiguous or not positions.flags.aligned:
            raise ValueError("%s must be contiguous and aligned (strides %s); it is not copied: pass "
                             "np.ascontiguousarray(%s)" % (name, positions.strides, name))
        return positions
    if isinstance(positions, (int, np.integer)):
        raise TypeError("%s must be a sequence of positions; for one position pass [%d]" % (name, int(positions)))
    return int_values(positions, name, 64)


def int32_array(a: Any, name: str, ndim: Optional[int] = None) -> np.ndarray:
    """A C-contiguous aligned int32 numpy array, refused (not copied) otherwise."""
    if not isinstance(a, np.ndarray):
        raise TypeError("%s must be a numpy int32 array, got %s" % (name, type(a).__name__))
    if a.dtype != np.int32:
        raise TypeError("%s must be int32, got %s (arrays are never converted silently)" % (name, a.dtype))
    if ndim is not None and a.ndim != ndim:
        raise ValueError("%s must have %d dimensions, got shape %s" % (name, ndim, a.shape))
    if not a.flags.c_contiguous or not a.flags.aligned:
        raise ValueError("%s must be C-contiguous and aligned (strides %s); it is not copied" % (name, a.strides))
    return a


def element_kind(a: np.ndarray, element: Optional[str], name: str) -> str:
    """'f32', 'f16' or 'bf16' for the element type of `a` (uint16 storage needs `element`)."""
    dt = a.dtype
    if element is not None and element not in ("float32", "float16", "bfloat16"):
        raise ValueError("element must be None, 'float32', 'float16' or 'bfloat16', got %r" % (element,))
    if dt == np.float32:
        kind = "f32"
    elif dt == np.float16:
        kind = "f16"
    elif dt.name == "bfloat16" and dt.itemsize == 2 and dt.byteorder in "=|<":
        kind = "bf16"                                    # ml_dtypes.bfloat16
    elif dt == np.uint16:
        if element is None:
            raise TypeError("%s is uint16: say what it stores with element='bfloat16' (or 'float16')" % name)
        return {"float16": "f16", "bfloat16": "bf16"}.get(element) or _bad_element(name, dt, element)
    else:
        raise TypeError("%s must be float32, float16 or bfloat16 (ml_dtypes.bfloat16, or uint16 with "
                        "element='bfloat16'), got %s; it is rotated in place, so it is never converted"
                        % (name, dt))
    if element is not None and {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[kind] != element:
        _bad_element(name, dt, element)
    return kind


def _bad_element(name: str, dt: np.dtype, element: str) -> str:
    raise TypeError("%s has dtype %s, which does not hold %s" % (name, dt, element))


def head_geometry(a: Any, name: str, head_dim: int, axes: Optional[str]) -> Tuple[str, int, int, int, int, int]:
    """Checks an in-place q/k buffer and returns (axes, batch, tokens, heads, token_stride,
    head_stride) with strides in elements. `axes` names the dimensions: 'td' (one head),
    'thd' (default for 3-D), 'htd', 'bthd' or 'bhtd' (b = batch, h = heads, t = tokens,
    d = head_dim)."""
    if not isinstance(a, np.ndarray):
        raise TypeError("%s must be a numpy array, got %s" % (name, type(a).__name__))
    empty = a.size == 0                                   # nothing to rotate: a no-op, never refused
    if axes is None:
        axes = {2: "td", 3: "thd"}.get(a.ndim)
        if axes is None:
            raise ValueError("%s has shape %s: give axes= ('bthd' or 'bhtd' for 4-D arrays)" % (name, a.shape))
    if axes not in _AXES:
        raise ValueError("axes must be one of %s, got %r" % (", ".join(sorted(_AXES)), axes))
    t_axis, h_axis, ndim = _AXES[axes]
    if a.ndim != ndim:
        raise ValueError("%s must have %d dimensions for axes=%r, got shape %s" % (name, ndim, axes, a.shape))
    if a.shape[-1] != head_dim:
        raise ValueError("%s has head_dim %d (last axis), this Rope has head_dim %d" % (name, a.shape[-1], head_dim))
    if not a.flags.writeable and not empty:
        raise ValueError("%s is read-only; the rotation works in place" % name)
    if not a.flags.aligned and not empty:
        raise ValueError("%s is not aligned to its element size; it is not copied" % name)
    item = a.itemsize
    strides = [0] * (ndim - 1)                            # an empty array is never stepped over
    if not empty:                                         # (numpy 2 gives it zero strides)
        if a.strides[-1] != item:
            raise ValueError("%s must have a contiguous last axis (stride %d bytes, element size %d; strides %s); "
                             "it is not copied" % (name, a.strides[-1], item, a.strides))
        for axis in range(ndim - 1):
            s = a.strides[axis]
            if a.shape[axis] <= 1:
                s = 0                                     # never stepped over: any stride is fine
            if s < 0 or s % item:
                raise ValueError("%s: stride %d bytes along axis %d is %s; the library takes non-negative "
                                 "strides in whole elements" % (name, s, axis, "negative" if s < 0 else
                                                                "not a multiple of the element size"))
            strides[axis] = s // item
    batch = a.shape[0] if ndim == 4 else 1
    tokens = a.shape[t_axis]
    heads = a.shape[h_axis] if h_axis is not None else 1
    ts = strides[t_axis]
    hs = strides[h_axis] if h_axis is not None else 0
    return axes, batch, tokens, heads, ts, hs

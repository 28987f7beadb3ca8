"""A small ctypes binding of libresonance_rope for numpy float32 arrays.

Every function has declared argtypes/restype. Arrays are passed by pointer and never copied:
an array that is not float32 (or int64 for positions), not C-contiguous in its last axis, or
read-only is refused with a ValueError, because the rotation works in place.

    import numpy as np, resonance_rope_ctypes as rr
    rope = rr.Rope(rotary_dim=128, base=10000.0, resonance=True)
    q = np.random.rand(16, 32, 128).astype(np.float32)      # [tokens, heads, head_dim]
    rope.apply_(q, positions=np.arange(16, dtype=np.int64))  # rotates q in place

The library is found through $RESONANCE_ROPE_LIB, else the system loader ("libresonance_rope.so.0").
"""
import ctypes
import os

import numpy as np

_c_i32, _c_u32, _c_i64, _c_f64, _p = ctypes.c_int32, ctypes.c_uint32, ctypes.c_int64, ctypes.c_double, ctypes.c_void_p


class RopeParams(ctypes.Structure):
    _fields_ = [("struct_size", _c_u32), ("rotary_dim", _c_i32), ("head_dim", _c_i32), ("layout", _c_i32),
                ("resonance", _c_i32), ("scaling", _c_i32), ("base", _c_f64), ("attention_factor", _c_f64),
                ("factor", _c_f64), ("original_max_position", _c_i64), ("max_position", _c_i64),
                ("sequence_length", _c_i64), ("beta_fast", _c_f64), ("beta_slow", _c_f64), ("mscale", _c_f64),
                ("mscale_all_dim", _c_f64), ("low_freq_factor", _c_f64), ("high_freq_factor", _c_f64),
                ("truncate", _c_i32), ("reserved0", _c_i32), ("short_factor", _p), ("long_factor", _p),
                ("freq_factors", _p), ("reserved", ctypes.c_uint64 * 8)]


class Rotation(ctypes.Structure):
    _fields_ = [("struct_size", _c_u32), ("flags", _c_u32), ("n_tokens", _c_i64), ("positions", _p),
                ("start_position", _c_i64), ("q", _p), ("q_heads", _c_i64), ("q_token_stride", _c_i64),
                ("q_head_stride", _c_i64), ("k", _p), ("k_heads", _c_i64), ("k_token_stride", _c_i64),
                ("k_head_stride", _c_i64), ("token_begin", _c_i64), ("token_end", _c_i64),
                ("n_threads", _c_i32), ("reserved0", _c_i32), ("reserved", ctypes.c_uint64 * 4)]


LAYOUTS = {"neox": 0, "gptj": 1}
TABLE_LAYOUTS = {"half": 0, "hf": 1, "vllm": 2, "gptj": 3}
ROTATE_INVERSE, ATTENTION_FACTOR = 1, 2


class RopeError(RuntimeError):
    """A non-OK rr_status: .status is the code, the text is the library's message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def load(path=None):
    lib = ctypes.CDLL(path or os.environ.get("RESONANCE_ROPE_LIB") or "libresonance_rope.so.0")
    sig = {
        "rr_version_string": (ctypes.c_char_p, []),
        "rr_status_string": (ctypes.c_char_p, [_c_i32]),
        "rr_last_error_message": (ctypes.c_char_p, []),
        "rr_rope_params_init": (None, [ctypes.POINTER(RopeParams)]),
        "rr_rope_create": (_c_i32, [ctypes.POINTER(RopeParams), ctypes.POINTER(_p)]),
        "rr_rope_free": (None, [_p]),
        "rr_rope_inv_freq_f64": (_c_i32, [_p, _p, _c_i64]),
        "rr_rope_inv_freq_f32": (_c_i32, [_p, _p, _c_i64]),
        "rr_rope_wavelengths": (_c_i32, [_p, _p, _c_i64]),
        "rr_rope_resonance_wavelengths": (_c_i32, [_p, _p, _c_i64]),
        "rr_rope_count_pairs": (_c_i32, [_p, _c_i64, ctypes.POINTER(_c_i64), ctypes.POINTER(_c_i64)]),
        "rr_rope_cos_sin_f32": (_c_i32, [_p, _c_i32, _c_u32, _p, _c_i64, _c_i64, _p, _p]),
        "rr_rotation_init": (None, [ctypes.POINTER(Rotation)]),
        "rr_rope_apply_f32_inplace": (_c_i32, [_p, ctypes.POINTER(Rotation)]),
    }
    for name, (res, args) in sig.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


_lib = None


def lib():
    global _lib
    if _lib is None:
        _lib = load()
    return _lib


def _check(status):
    if status != 0:
        raise RopeError(status, "%s (status %d: %s)" % (lib().rr_last_error_message().decode(), status,
                                                        lib().rr_status_string(status).decode()))


def _require(a, dtype, name, writable=False):
    if not isinstance(a, np.ndarray):
        raise TypeError("%s must be a numpy array, got %s" % (name, type(a).__name__))
    if a.dtype != dtype:
        raise ValueError("%s must be %s, got %s (convert it yourself: nothing is copied here)" % (name, np.dtype(dtype), a.dtype))
    if writable and not a.flags.writeable:
        raise ValueError("%s is read-only; the rotation works in place" % name)


def _contiguous(a, name):
    if not a.flags.c_contiguous:
        raise ValueError("%s must be C-contiguous (got strides %s); it is not copied" % (name, a.strides))


class Rope:
    """An immutable frequency table (one rr_rope handle)."""

    def __init__(self, rotary_dim, base=10000.0, resonance=False, head_dim=0, layout="neox", attention_factor=0.0):
        p = RopeParams()
        lib().rr_rope_params_init(ctypes.byref(p))
        p.rotary_dim, p.head_dim, p.base, p.resonance = rotary_dim, head_dim, base, int(bool(resonance))
        p.layout, p.attention_factor = LAYOUTS[layout], attention_factor
        h = _p()
        _check(lib().rr_rope_create(ctypes.byref(p), ctypes.byref(h)))
        self._h, self.rotary_dim, self.head_dim = h, rotary_dim, head_dim or rotary_dim

    def __del__(self):
        if getattr(self, "_h", None):
            lib().rr_rope_free(self._h)
            self._h = None

    def _pairs(self, fn, dtype):
        out = np.empty(self.rotary_dim // 2, dtype=dtype)
        _check(fn(self._h, out.ctypes.data, out.size))
        return out

    def inv_freq(self, dtype=np.float64):
        fn = lib().rr_rope_inv_freq_f64 if np.dtype(dtype) == np.float64 else lib().rr_rope_inv_freq_f32
        return self._pairs(fn, dtype)

    def wavelengths(self):
        return self._pairs(lib().rr_rope_wavelengths, np.float64)

    def resonance_wavelengths(self):
        return self._pairs(lib().rr_rope_resonance_wavelengths, np.int64)

    def count_pairs(self, train_length):
        a, b = _c_i64(), _c_i64()
        _check(lib().rr_rope_count_pairs(self._h, train_length, ctypes.byref(a), ctypes.byref(b)))
        return a.value, b.value

    def cos_sin(self, positions, layout="half", attention_factor=False):
        """float32 (cos, sin) for int64 positions; vllm layout returns the one [n, d] cache."""
        positions = np.asarray(positions)
        _require(positions, np.int64, "positions")
        _contiguous(positions, "positions")
        n, tl = positions.size, TABLE_LAYOUTS[layout]
        w = self.rotary_dim // 2 if layout == "half" else self.rotary_dim
        c = np.empty((n, w), np.float32)
        s = None if layout == "vllm" else np.empty((n, w), np.float32)
        _check(lib().rr_rope_cos_sin_f32(self._h, tl, ATTENTION_FACTOR if attention_factor else 0,
                                         positions.ctypes.data, 0, n, c.ctypes.data,
                                         None if s is None else s.ctypes.data))
        return c if s is None else (c, s)

    def apply_(self, q, positions=None, start=0, k=None, inverse=False, attention_factor=False):
        """Rotates q ([tokens, heads, head_dim] float32, any token/head strides, contiguous last
        axis) and optionally k in place; positions: int64 array of length tokens, or start."""
        r = Rotation()
        lib().rr_rotation_init(ctypes.byref(r))
        _require(q, np.float32, "q", writable=True)
        if q.ndim != 3 or q.strides[2] != 4:
            raise ValueError("q must be [tokens, heads, head_dim] with a contiguous last axis")
        if q.shape[2] != self.head_dim:
            raise ValueError("q head_dim %d != %d" % (q.shape[2], self.head_dim))
        r.n_tokens, r.q, r.q_heads = q.shape[0], q.ctypes.data, q.shape[1]
        r.q_token_stride, r.q_head_stride = q.strides[0] // 4, q.strides[1] // 4
        if k is not None:
            _require(k, np.float32, "k", writable=True)
            if k.ndim != 3 or k.strides[2] != 4 or k.shape[0] != q.shape[0] or k.shape[2] != self.head_dim:
                raise ValueError("k must be [tokens, heads, head_dim] matching q with a contiguous last axis")
            r.k, r.k_heads = k.ctypes.data, k.shape[1]
            r.k_token_stride, r.k_head_stride = k.strides[0] // 4, k.strides[1] // 4
        if positions is not None:
            _require(positions, np.int64, "positions")
            _contiguous(positions, "positions")
            if positions.size != q.shape[0]:
                raise ValueError("positions has %d entries for %d tokens" % (positions.size, q.shape[0]))
            r.positions = positions.ctypes.data
        r.start_position = start
        r.flags = (ROTATE_INVERSE if inverse else 0) | (ATTENTION_FACTOR if attention_factor else 0)
        _check(lib().rr_rope_apply_f32_inplace(self._h, ctypes.byref(r)))
        return q

"""The Rope class: one immutable rr_rope handle with numpy in and out."""
from __future__ import annotations

import ctypes
import errno
import json
import os
import pathlib
from typing import Any, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from . import _abi, _gguf, _overlap
from ._abi import GapSummary, RopeInfo, RopeParams, Rotation
from ._arrays import address, c_int, element_kind, field_bits, head_geometry, pair_values, positions_array
from ._errors import check
from ._lib import Library, library

__all__ = ["Rope", "FeatureGap", "SCALINGS", "LAYOUTS", "TABLE_LAYOUTS"]

# Names -> C values, generated with the header from the core's enums (_abi.py).
# Vocabulary (as in C and the CLI): the *pair layout* (LAYOUTS; C rr_layout, CLI --pair-layout)
# says which elements form a rotated pair; the *table layout* (TABLE_LAYOUTS; C rr_table_layout,
# CLI --table-layout) is the row layout of a cos/sin cache. The keyword arguments are
# pair_layout= and table_layout=; the old `layout=` of each is still accepted.
SCALINGS, LAYOUTS, TABLE_LAYOUTS = _abi.SCALING, _abi.LAYOUT, _abi.TABLE_LAYOUT
ROTATE_INVERSE, ATTENTION_FACTOR = _abi.ROTATE_INVERSE, _abi.ATTENTION_FACTOR
_APPLY = {"f32": "rr_rope_apply_f32_inplace", "f16": "rr_rope_apply_f16_inplace",
          "bf16": "rr_rope_apply_bf16_inplace"}

PathOrText = Union[str, bytes, "os.PathLike[str]"]


class FeatureGap(NamedTuple):
    """What :meth:`Rope.feature_gap` returns.

    gaps: float64 [pair_count], the feature gap of each pair (chord length, in [0, 2]).
    critical_pair: first pair whose wavelength (before rounding) is >= the training length.
    pre_critical_pairs, periodic_pairs: counts (periodic = Resonance pairs with gap exactly 0).
    max_gap, max_pre_critical_gap: maxima over all pairs / the pre-critical pairs.
    """
    gaps: np.ndarray
    critical_pair: int
    pre_critical_pairs: int
    periodic_pairs: int
    max_gap: float
    max_pre_critical_gap: float


def _name(table: Mapping[str, int], value: int) -> str:
    return next((k for k, v in table.items() if v == value), str(value))


def _choice(table: Mapping[str, int], value: str, what: str) -> int:
    try:
        return table[value]
    except (KeyError, TypeError):
        raise ValueError("%s must be one of %s, got %r" % (what, ", ".join(table), value)) from None


def _renamed(value: Any, old: Any, name: str, old_name: str, default: Any) -> Any:
    """`value` of the keyword `name`, or of its old spelling `old_name`; both given is an error."""
    if value is not None and old is not None:
        raise TypeError("%s= is the old name of %s=: give one of them" % (old_name, name))
    return default if value is None and old is None else (value if value is not None else old)


def _read_source(source: Any, what: str) -> Tuple[bytes, Optional[str]]:
    """(bytes, path or None) of a text given as a path, a str/bytes text or an open file."""
    if isinstance(source, os.PathLike):
        path = os.fspath(source)
        with open(path, "rb") as fh:
            return fh.read(), path
    if isinstance(source, bytes):
        return source, None
    if isinstance(source, str):
        if os.path.isfile(source):
            with open(source, "rb") as fh:
                return fh.read(), source
        return source.encode("utf-8"), None
    if hasattr(source, "read"):
        data = source.read()
        return (data.encode("utf-8") if isinstance(data, str) else data), getattr(source, "name", None)
    raise TypeError("%s must be a path, a str/bytes text, a file or a dict, got %s" % (what, type(source).__name__))


class Rope:
    """An immutable RoPE / Resonance RoPE frequency table (one ``rr_rope`` handle).

    Build one from keyword arguments, from a model's ``config.json``
    (:meth:`from_hf_config`) or from GGUF metadata (:meth:`from_gguf`). A Rope is read-only
    and may be shared across threads; every method releases the GIL inside the C call.

    Args:
        rotary_dim: d, the rotated dimensions per head (even, 2 .. 65536).
        head_dim: elements per head (>= rotary_dim; default rotary_dim). Elements past
            rotary_dim pass through untouched.
        base: the RoPE base (``rope_theta``), > 1.
        resonance: round every wavelength to an integer (Resonance RoPE, arXiv 2403.00071).
        pair_layout: ``'neox'`` (pairs (i, i + d/2): Llama, Hugging Face; default) or
            ``'gptj'`` (pairs (2i, 2i + 1): GPT-J, ggml NORMAL). ``layout=`` is its old name.
        scaling: ``'none'``, ``'linear'``, ``'ntk'``, ``'dynamic'``, ``'yarn'``, ``'llama3'``,
            ``'longrope'`` or ``'freq_factors'``; its parameters: factor,
            original_max_position, max_position, sequence_length, beta_fast, beta_slow,
            truncate, mscale, mscale_all_dim (yarn), low_freq_factor, high_freq_factor
            (llama3), short_factor, long_factor (longrope, d/2 values each), freq_factors
            (d/2 divisors). ``None`` leaves the library's default.
        attention_factor: the magnitude factor for cos/sin; ``None`` = the scaling's own
            (YaRN's mscale, LongRoPE's), 1 without scaling.

    Integer arguments (here and in every method) must be integers within the C parameter's
    range, else TypeError / IntegerRangeError (never wrapped to 64 bits). short_factor,
    long_factor and freq_factors must be 1-D with exactly rotary_dim / 2 finite real values,
    else ValueError / TypeError naming the argument, before the library reads them.

    Example:
        >>> rope = Rope(rotary_dim=128, base=10000.0, resonance=True)
        >>> rope.inv_freq().shape
        (64,)
    """

    def __init__(self, rotary_dim: int, *, head_dim: Optional[int] = None, base: float = 10000.0,
                 resonance: bool = False, pair_layout: Optional[str] = None, scaling: str = "none",
                 factor: Optional[float] = None, original_max_position: Optional[int] = None,
                 max_position: Optional[int] = None, sequence_length: Optional[int] = None,
                 beta_fast: Optional[float] = None, beta_slow: Optional[float] = None,
                 truncate: bool = True, mscale: Optional[float] = None, mscale_all_dim: Optional[float] = None,
                 low_freq_factor: Optional[float] = None, high_freq_factor: Optional[float] = None,
                 short_factor: Optional[Sequence[float]] = None, long_factor: Optional[Sequence[float]] = None,
                 freq_factors: Optional[Sequence[float]] = None, attention_factor: Optional[float] = None,
                 layout: Optional[str] = None):
        pair_layout = _renamed(pair_layout, layout, "pair_layout", "layout", "neox")
        lib = library()
        p = RopeParams()
        lib.rr_rope_params_init(ctypes.byref(p))
        p.rotary_dim = c_int(rotary_dim, "rotary_dim", field_bits(RopeParams, "rotary_dim"))
        p.head_dim = 0 if head_dim is None else c_int(head_dim, "head_dim", field_bits(RopeParams, "head_dim"))
        p.base = float(base)
        p.resonance = 1 if resonance else 0
        p.layout = _choice(LAYOUTS, pair_layout, "pair_layout")
        p.scaling = _choice(SCALINGS, scaling, "scaling")
        p.truncate = 1 if truncate else 0
        for field, value in (("factor", factor), ("beta_fast", beta_fast), ("beta_slow", beta_slow),
                             ("mscale", mscale), ("mscale_all_dim", mscale_all_dim),
                             ("low_freq_factor", low_freq_factor), ("high_freq_factor", high_freq_factor),
                             ("attention_factor", attention_factor)):
            if value is not None:
                setattr(p, field, float(value))
        for field, value in (("original_max_position", original_max_position), ("max_position", max_position),
                             ("sequence_length", sequence_length)):
            if value is not None:
                setattr(p, field, c_int(value, field, field_bits(RopeParams, field)))
        keep = []                                         # arrays alive until create returns
        for field, value in (("short_factor", short_factor), ("long_factor", long_factor),
                             ("freq_factors", freq_factors)):
            if value is not None:
                # Exactly the rotary_dim / 2 values the library reads; an odd or negative rotary_dim
                # is refused by rr_rope_create before it reads any array.
                pairs = p.rotary_dim // 2 if p.rotary_dim > 0 and p.rotary_dim % 2 == 0 else None
                a = pair_values(value, field, pairs)
                keep.append(a)
                setattr(p, field, address(RopeParams, field, a))
                # the library refuses a wrong count; 0 would mean rotary_dim / 2, so empty gives -1
                setattr(p, field + "_count", a.size if a.size else -1)
        handle = ctypes.c_void_p()
        check(lib, "rr_rope_create", lib.rr_rope_create(ctypes.byref(p), ctypes.byref(handle)))
        self._adopt(lib, handle)

    # ---- other constructors ------------------------------------------------------------------

    @classmethod
    def _from_handle(cls, lib: Library, handle: ctypes.c_void_p) -> "Rope":
        self = cls.__new__(cls)
        self._adopt(lib, handle)
        return self

    def _adopt(self, lib: Library, handle: ctypes.c_void_p) -> None:
        self._lib, self._h = lib, handle
        info = RopeInfo()
        info.struct_size = ctypes.sizeof(RopeInfo)
        check(lib, "rr_rope_get_info", lib.rr_rope_get_info(handle, ctypes.byref(info)))
        self.rotary_dim: int = info.rotary_dim
        self.head_dim: int = info.head_dim
        self.pair_count: int = info.pair_count
        self.pair_layout: str = _name(LAYOUTS, info.layout)
        self.layout: str = self.pair_layout          # the old name of pair_layout
        self.resonance: bool = bool(info.resonance)
        self.scaling: str = _name(SCALINGS, info.scaling)
        self.base: float = info.base
        self.attention_factor: float = info.attention_factor
        self.correction_range: Optional[Tuple[float, float]] = (
            None if np.isnan(info.correction_low) else (info.correction_low, info.correction_high))

    @classmethod
    def from_hf_config(cls, config: Union[PathOrText, Mapping[str, Any]], sequence_length: Optional[int] = None,
                       resonance: bool = False) -> "Rope":
        """A Rope from a Hugging Face ``config.json``, read as transformers reads it.

        Args:
            config: a path (a ``config.json`` or a folder holding one, as written by
                ``save_pretrained``), the JSON text (str or bytes starting with ``{``), an open
                file, the parsed dict, or a transformers ``PretrainedConfig``. A str that is not
                JSON text is a path: one that does not exist raises FileNotFoundError.
            sequence_length: the current length that dynamic NTK and LongRoPE depend on.
            resonance: round the final wavelengths (e.g. Resonance YaRN, Resonance Llama 3).

        Example:
            >>> rope = Rope.from_hf_config("Tests/Fixtures/hf_configs/llama-3.1-8b.json", resonance=True)
            >>> rope.scaling, rope.rotary_dim
            ('llama3', 128)
        """
        if isinstance(config, Mapping):
            text = json.dumps(dict(config)).encode("utf-8")
        elif hasattr(config, "to_json_string"):            # a transformers PretrainedConfig
            text = config.to_json_string(use_diff=False).encode("utf-8")
        else:
            text, _ = _read_source(_config_path(config), "config")
        lib = library()
        handle = ctypes.c_void_p()
        check(lib, "rr_rope_create_from_hf_config", lib.rr_rope_create_from_hf_config(
            text, len(text), _seq(sequence_length), 1 if resonance else 0, ctypes.byref(handle)))
        return cls._from_handle(lib, handle)

    @classmethod
    def from_gguf(cls, source: Union[PathOrText, Mapping[str, Any]], sequence_length: Optional[int] = None,
                  resonance: bool = False, pair_layout: Optional[str] = None, *,
                  layout: Optional[str] = None) -> "Rope":
        """A Rope from GGUF metadata, as llama.cpp reads it.

        Args:
            source: a ``.gguf`` file (its metadata and its f32 ``rope_freqs.weight`` /
                ``rope_factors_*.weight`` tensors are read; nothing else is loaded), a dict of
                metadata (``{"general.architecture": "llama", "llama.rope.freq_base": 5e5,
                ..., "rope_freqs": array}``), or ``key=value`` text.
            sequence_length: current length (LongRoPE).
            resonance: round the final wavelengths.
            pair_layout: ``'neox'`` or ``'gptj'``; None takes it from the architecture as
                llama.cpp does (llama: gptj, because convert_hf_to_gguf permutes q/k).
                ``layout=`` is its old name.

        A malformed ``.gguf`` file (truncated, corrupt lengths, duplicate keys, ...) raises
        GGUFError naming the byte offset and the field; no length is trusted beyond the file's
        size.

        Example:
            >>> rope = Rope.from_gguf({"general.architecture": "llama", "llama.rope.freq_base": 500000.0,
            ...                        "llama.rope.dimension_count": 128, "llama.attention.key_length": 128})
            >>> rope.pair_layout, rope.base
            ('gptj', 500000.0)
        """
        if isinstance(source, Mapping):
            text = _gguf.metadata_text(source).encode("utf-8")
        else:
            path = os.fspath(source) if isinstance(source, os.PathLike) else source
            if isinstance(path, str) and os.path.isfile(path) and _is_gguf_file(path):
                text = _gguf.file_text(path).encode("utf-8")
            else:
                text, _ = _read_source(source, "source")
        lib = library()
        handle = ctypes.c_void_p()
        pair_layout = _renamed(pair_layout, layout, "pair_layout", "layout", None)
        lay = -1 if pair_layout is None else _choice(LAYOUTS, pair_layout, "pair_layout")
        check(lib, "rr_rope_create_from_gguf_metadata", lib.rr_rope_create_from_gguf_metadata(
            text, len(text), _seq(sequence_length), 1 if resonance else 0, lay, ctypes.byref(handle)))
        return cls._from_handle(lib, handle)

    # ---- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Frees the handle now (also done when the Rope is garbage-collected)."""
        h, self._h = getattr(self, "_h", None), None
        if h:
            self._lib.rr_rope_free(h)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self) -> "Rope":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _handle(self) -> ctypes.c_void_p:
        if not self._h:
            raise ValueError("this Rope has been closed")
        return self._h

    def __repr__(self) -> str:
        return ("Rope(rotary_dim=%d, head_dim=%d, base=%r, scaling=%r, resonance=%r, pair_layout=%r, "
                "attention_factor=%r)" % (self.rotary_dim, self.head_dim, self.base, self.scaling,
                                          self.resonance, self.pair_layout, self.attention_factor))

    # ---- frequencies ---------------------------------------------------------------------------

    def _pairs(self, fn_name: str, dtype: Any) -> np.ndarray:
        out = np.empty(self.pair_count, dtype=dtype)
        check(self._lib, fn_name, getattr(self._lib, fn_name)(self._handle(), out, out.size))
        return out

    def inv_freq(self, dtype: Any = np.float64) -> np.ndarray:
        """The inverse frequencies in use, radians per position: shape [pair_count].

        theta_i after the scaling, or 2*pi / lambda~_i under Resonance. ``dtype=np.float32``
        rounds each to nearest: a drop-in for Hugging Face's ``inv_freq`` buffer.

        Example:
            >>> Rope(rotary_dim=4).inv_freq()
            array([1.  , 0.01])
        """
        dt = np.dtype(dtype)
        if dt == np.float64:
            return self._pairs("rr_rope_inv_freq_f64", np.float64)
        if dt == np.float32:
            return self._pairs("rr_rope_inv_freq_f32", np.float32)
        raise TypeError("inv_freq dtype must be float64 or float32, got %s" % dt)

    def wavelengths(self) -> np.ndarray:
        """float64 [pair_count]: lambda_i = 2*pi / theta_i of the scaled frequencies, before
        Resonance rounding (positions per turn).

        Example:
            >>> float(Rope(rotary_dim=4).wavelengths()[0])
            6.283185307179586
        """
        return self._pairs("rr_rope_wavelengths", np.float64)

    def resonance_wavelengths(self) -> np.ndarray:
        """int64 [pair_count]: the integer wavelengths round(lambda_i) that Resonance uses
        (filled whether or not this Rope has Resonance on).

        Example:
            >>> Rope(rotary_dim=4).resonance_wavelengths()
            array([  6, 628])
        """
        return self._pairs("rr_rope_resonance_wavelengths", np.int64)

    def resonance_freq_factors(self) -> np.ndarray:
        """float32 [pair_count]: f_i = scaled theta_i / theta~_i, the per-pair divisors that turn
        this Rope's scaled frequencies into its Resonance ones (all 1 without Resonance). Written
        as llama.cpp's ``rope_freqs`` tensor, they make a model use Resonance RoPE.

        Example:
            >>> f = Rope(rotary_dim=128, base=10000.0, resonance=True).resonance_freq_factors()
            >>> f.dtype, f.shape
            (dtype('float32'), (64,))
        """
        return self._pairs("rr_rope_resonance_freq_factors", np.float32)

    def count_pairs(self, train_length: int) -> Tuple[int, int]:
        """(pre_critical, periodic) for training length `train_length`: pairs with wavelength
        < train_length, and Resonance pairs with lambda~_i <= train_length (gap exactly 0).

        Example:
            >>> Rope(rotary_dim=128, resonance=True).count_pairs(4096)
            (46, 46)
        """
        a, b = ctypes.c_int64(), ctypes.c_int64()
        check(self._lib, "rr_rope_count_pairs",
              self._lib.rr_rope_count_pairs(self._handle(), c_int(train_length, "train_length"), ctypes.byref(a),
                                            ctypes.byref(b)))
        return a.value, b.value

    # ---- tables ------------------------------------------------------------------------------

    def cos_sin(self, positions: Any = None, table_layout: Optional[str] = None, *, start: int = 0,
                count: Optional[int] = None, attention_factor: bool = False, layout: Optional[str] = None) -> Union[Tuple[np.ndarray, np.ndarray], np.ndarray]:
        """float32 cos/sin tables with exact angles, for `positions` or ``start .. start+count-1``.

        Args:
            positions: int64 positions, shape [n] (a numpy array must be int64 and contiguous;
                a list or range is converted); or None with `start` and `count`.
            table_layout: ``'half'`` (default) -> cos, sin [n, d/2]; ``'hf'`` -> [n, d] =
                cat(c, c) (Hugging Face); ``'gptj'`` -> [n, d] each value twice; ``'vllm'`` ->
                ONE array [n, d], cos then sin in each row. ``layout=`` is its old name.
            attention_factor: multiply by the Rope's attention factor (once, in double).

        Every value is within 1.2e-7 of the exact cos/sin for every int64 position.

        Example:
            >>> cos, sin = Rope(rotary_dim=8).cos_sin(range(3), table_layout="hf")
            >>> cos.shape
            (3, 8)
        """
        layout = _renamed(table_layout, layout, "table_layout", "layout", "half")
        tl = _choice(TABLE_LAYOUTS, layout, "table_layout")
        if positions is None:
            if count is None:
                raise TypeError("cos_sin needs positions, or start and count")
            pos, n, ptr = None, c_int(count, "count", low=0), None
        else:
            if count is not None or c_int(start, "start") != 0:
                raise TypeError("give positions, or start and count, not both")
            pos = positions_array(positions)
            n, ptr = pos.size, pos
        w = self.pair_count if layout == "half" else self.rotary_dim
        c = np.empty((n, w), np.float32)
        s = None if layout == "vllm" else np.empty((n, w), np.float32)
        check(self._lib, "rr_rope_cos_sin_f32", self._lib.rr_rope_cos_sin_f32(
            self._handle(), tl, ATTENTION_FACTOR if attention_factor else 0, ptr, c_int(start, "start"), n,
            c, s))
        return c if s is None else (c, s)

    # ---- rotation ----------------------------------------------------------------------------

    def apply_(self, q: np.ndarray, positions: Any = None, k: Optional[np.ndarray] = None, *, start: int = 0,
               inverse: bool = False, attention_factor: bool = False, axes: Optional[str] = None,
               element: Optional[str] = None, n_threads: int = 0) -> np.ndarray:
        """Rotates q (and k) IN PLACE by the exact angle m * theta_i of each token's position m.

        Args:
            q: float32, float16 or bfloat16 array (``ml_dtypes.bfloat16``, or ``uint16`` with
                ``element='bfloat16'``), last axis = head_dim and contiguous; any other strides
                numpy can express (views into a fused qkv buffer, padded rows, head-major).
                Shape by `axes`: 'td' [tokens, head_dim] (2-D default), 'thd' [tokens, heads,
                head_dim] (3-D default), 'htd' [heads, tokens, head_dim], 'bthd' or 'bhtd'
                (a leading batch axis; Hugging Face's q is 'bhtd'). CPU torch tensors are
                taken too, through numpy views of their memory (:func:`resonance_rope.torch.apply_`;
                4-D tensors default to 'bhtd').
            positions: int64 [tokens] (or [batch, tokens] or [1, tokens] for a batch), any values
                (gaps, repeats, negative); None means ``start, start + 1, ...``.
            k: optional second buffer with the same dtype, axes, tokens and head_dim (its
                head count may differ); rotated with the same cos/sin.
            inverse: rotate by minus the angle (undo a rotation).
            attention_factor: also multiply the rotated pairs by the Rope's attention factor.
            element: the element type, needed for uint16 storage.
            n_threads: threads inside the call (0 or 1: the calling thread only).

        Returns q. Wrong dtype, shape, read-only, misaligned or non-contiguous-last-axis arrays
        raise TypeError / ValueError before anything is written; nothing is ever copied. An
        empty q is a no-op. With a batch axis (one library call per batch row), batch rows of q
        or k that share memory with each other or across q and k, and a positions array that
        shares memory with q or k, raise ValueError before the first call (see _overlap.py).

        Example:
            >>> rope = Rope(rotary_dim=64, resonance=True)
            >>> q = np.ones((5, 8, 64), np.float32)                 # [tokens, heads, head_dim]
            >>> _ = rope.apply_(q, np.arange(100, 105))
        """
        if type(q).__module__.startswith("torch"):         # torch tensors: zero-copy numpy views
            from . import torch as _torch
            return _torch.apply_(self, q, k, positions, start=start, inverse=inverse,
                                 attention_factor=attention_factor, axes=axes, n_threads=n_threads)
        kind = element_kind(q, element, "q") if isinstance(q, np.ndarray) else None
        qa, batch, tokens, q_heads, q_ts, q_hs = head_geometry(q, "q", self.head_dim, axes)
        if k is not None:
            if not isinstance(k, np.ndarray) or k.dtype != q.dtype:
                raise TypeError("k must be a numpy array of q's dtype %s, got %s"
                                % (q.dtype, getattr(k, "dtype", type(k).__name__)))
            ka, kb, k_tokens, k_heads, k_ts, k_hs = head_geometry(k, "k", self.head_dim, qa)
            if kb != batch or k_tokens != tokens:
                raise ValueError("k has %d batch x %d tokens, q has %d x %d" % (kb, k_tokens, batch, tokens))
        if positions is not None:
            if isinstance(positions, np.ndarray) and positions.ndim == 2:
                if positions.dtype != np.int64:
                    raise TypeError("positions must be int64, got %s (arrays are never converted silently)"
                                    % positions.dtype)
                # [1, tokens] is broadcast over the batch (Hugging Face's position_ids often are).
                if positions.shape not in ((batch, tokens), (1, tokens)) or len(qa) != 4:
                    raise ValueError("positions has shape %s; q needs [%d] or, with a batch axis, [%d, %d] "
                                     "or [1, %d]" % (positions.shape, tokens, batch, tokens, tokens))
                rows = [positions_array(positions[b if positions.shape[0] > 1 else 0], "positions[%d]" % b)
                        for b in range(batch)]
            else:
                pos = positions_array(positions)
                if pos.size != tokens:
                    raise ValueError("positions has %d entries for %d tokens" % (pos.size, tokens))
                rows = [pos] * batch
        else:
            rows = [None] * batch
        start = c_int(start, "start", field_bits(Rotation, "start_position"))
        n_threads = c_int(n_threads, "n_threads", field_bits(Rotation, "n_threads"), low=0)
        fn = self._lib.require(_APPLY[kind])
        if q.size == 0:
            return q
        if batch > 1:                                     # one C call per batch row: check across them first
            _overlap.check_batch(q, k, positions if isinstance(positions, np.ndarray) else None)
        r = Rotation()
        self._lib.rr_rotation_init(ctypes.byref(r))
        r.flags = (ROTATE_INVERSE if inverse else 0) | (ATTENTION_FACTOR if attention_factor else 0)
        r.n_tokens, r.start_position, r.n_threads = tokens, start, n_threads
        r.q_heads, r.q_token_stride, r.q_head_stride = q_heads, q_ts, q_hs
        if k is not None:
            r.k_heads, r.k_token_stride, r.k_head_stride = k_heads, k_ts, k_hs
        q_step = q.strides[0] if len(qa) == 4 else 0
        k_step = k.strides[0] if (k is not None and len(qa) == 4) else 0
        for b in range(batch):
            r.q = q.ctypes.data + b * q_step
            if k is not None:
                r.k = k.ctypes.data + b * k_step
            r.positions = None if rows[b] is None else address(Rotation, "positions", rows[b])
            check(self._lib, _APPLY[kind], fn(self._handle(), ctypes.byref(r)))
        return q

    # ---- analysis ----------------------------------------------------------------------------

    def feature_gap(self, train_length: int, test_length: int) -> FeatureGap:
        """The per-pair out-of-distribution feature gap for training length L and test length
        L' > L (exact; O(L + L') per pair): for pair i, the largest distance from a feature at
        a position in [L, L') to its nearest training feature (positions [0, L)).

        Example:
            >>> g = Rope(rotary_dim=64, resonance=True).feature_gap(64, 256)
            >>> g.gaps.shape, g.max_pre_critical_gap
            ((32,), 0.0)
        """
        gaps = np.empty(self.pair_count, np.float64)
        s = GapSummary()
        s.struct_size = ctypes.sizeof(GapSummary)
        check(self._lib, "rr_rope_feature_gap", self._lib.rr_rope_feature_gap(
            self._handle(), c_int(train_length, "train_length"), c_int(test_length, "test_length"), gaps, gaps.size,
            ctypes.byref(s)))
        return FeatureGap(gaps, s.critical_pair, s.pre_critical_pairs, s.periodic_pairs, s.max_gap,
                          s.max_pre_critical_gap)


def _seq(sequence_length: Optional[int]) -> int:
    """sequence_length for the C call: None means 0 (none); else > 0."""
    return 0 if sequence_length is None else c_int(sequence_length, "sequence_length", low=1)


def _config_path(config: Any) -> Any:
    """A str / PathLike that is not JSON text is a path: a folder means its config.json, and a
    path that does not exist is an error (never parsed as JSON)."""
    if isinstance(config, str) and config.lstrip().startswith("{"):
        return config
    if isinstance(config, (str, os.PathLike)):
        path = os.fspath(config)
        if os.path.isdir(path):
            path = os.path.join(path, "config.json")
        if not os.path.isfile(path):
            # Not JSON text, so meant as a path: say so instead of parsing the path as JSON.
            raise FileNotFoundError(errno.ENOENT, "config file does not exist (JSON text starts with '{')",
                                    os.fspath(config))
        return pathlib.Path(path)
    return config


def _is_gguf_file(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == b"GGUF"

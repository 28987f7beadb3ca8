"""resonance_rope.torch: Resonance RoPE in PyTorch and Hugging Face transformers models.

Importing this module imports torch (the rest of the package needs numpy only).

- :func:`patch_model` swaps every rotary embedding module of a transformers model for a
  :class:`RotaryEmbedding` built by this library from the model's own config (its scaling,
  attention factor, partial rotary, DeepSeek's ``qk_rope_head_dim``), and records the choice in
  ``model.config.resonance_rope`` (:data:`CONFIG_KEY`) so that ``save_pretrained`` /
  ``from_pretrained`` + ``patch_model(model)`` reproduce it. :func:`unpatch_model` undoes it.
- :class:`RotaryEmbedding` is that module: ``forward(x, position_ids) -> (cos, sin)`` like the
  transformers module it replaces, with exact cos/sin tables (``exact=True``) or the library's
  frequencies in transformers' own float32 formula (``exact=False``).
- :func:`apply_` rotates CPU torch tensors in place, without copying them (``Rope.apply_``
  accepts torch tensors too and comes here).

Example:
    >>> import resonance_rope.torch as rrt
    >>> model = rrt.patch_model(model)                  # doctest: +SKIP
"""
from __future__ import annotations

import collections
import json
import os
from typing import Any, Dict, Optional, Tuple

import numpy as np
import torch

from ._rope import Rope

__all__ = ["patch_model", "unpatch_model", "RotaryEmbedding", "apply_", "rope_from_config", "CONFIG_KEY",
           "TABLE_BYTES"]

#: The model.config attribute patch_model writes: ``{"resonance": bool, "exact": bool,
#: "version": "0.1.0"}``. It is saved in config.json by save_pretrained and read back by
#: from_pretrained; ``patch_model(model)`` then applies the saved choice.
CONFIG_KEY = "resonance_rope"

#: Bytes one cached cos+sin table pair may take (float32 on the CPU before conversion, then
#: the target dtype on the model's device). Positions in 0 .. rows - 1 are served from the
#: cache, with rows = TABLE_BYTES / (2 * 4 * width); others get tables made for the positions
#: in use. At most _CACHE_ENTRIES tables (one per Rope, device and dtype) are kept, so a module
#: holds at most 4 * 32 MiB whatever the context length.
TABLE_BYTES = 32 << 20
_CACHE_ENTRIES = 4
_MIN_ROWS = 256


# ---- configs ---------------------------------------------------------------------------------

def _config_dict(config: Any) -> Dict[str, Any]:
    """A transformers config (PretrainedConfig, dict, path, JSON text) as a plain dict."""
    if isinstance(config, dict):
        return config
    if hasattr(config, "to_json_string"):
        return json.loads(config.to_json_string(use_diff=False))
    if hasattr(config, "to_dict"):
        return config.to_dict()
    raise TypeError("config must be a transformers PretrainedConfig or a dict, got %s" % type(config).__name__)


def _original_length(cfg: Dict[str, Any]) -> Optional[int]:
    """original_max_position_embeddings as transformers 5 resolves it for longrope (the top-level
    field first, as Phi-3 has it, then the rope dict's, then max_position_embeddings)."""
    rp = cfg.get("rope_parameters") or cfg.get("rope_scaling") or {}
    for v in (cfg.get("original_max_position_embeddings"), rp.get("original_max_position_embeddings"),
              cfg.get("max_position_embeddings")):
        if v:
            return int(v)
    return None


def rope_from_config(config: Any, resonance: bool = True, sequence_length: Optional[int] = None) -> Rope:
    """``Rope.from_hf_config`` for a transformers config object or dict (the library reads the
    RoPE fields exactly as transformers 5 does)."""
    return Rope.from_hf_config(_config_dict(config), sequence_length=sequence_length, resonance=resonance)


# ---- the module ------------------------------------------------------------------------------

class RotaryEmbedding(torch.nn.Module):
    """A rotary embedding module backed by libresonance_rope.

    ``forward(x, position_ids) -> (cos, sin)``, the call signature of transformers' modules:
    position_ids int [batch, tokens] (or [tokens]); cos and sin have shape
    ``position_ids.shape + (width,)``, x's dtype and device. The attention factor (YaRN's
    mscale, LongRoPE's) is already multiplied in, as transformers does.

    Args:
        config: a transformers config (object, dict) or a :class:`Rope`.
        resonance: round every wavelength to an integer (ignored when config is a Rope).
        exact: True: cos/sin from the library's exact tables (every value within 1.2e-7 of the
            exact cos/sin of m * theta_i, for every position); False: transformers' own float32
            formula ``cos(position * inv_freq)`` with the library's inv_freq (error up to
            m * theta * 2^-24 rad at position m).
        layout: ``'hf'``: width rotary_dim, ``cat(c, c)`` (Llama, and nearly every model);
            ``'half'``: width rotary_dim / 2 (gpt-oss).
        original: the module this one replaces (kept for :func:`unpatch_model`; not a submodule).

    A config whose RoPE depends on the sequence length (``longrope``, ``dynamic``) is followed
    as transformers follows it: LongRoPE takes the long factors while max(position_ids) + 1
    exceeds original_max_position_embeddings; dynamic NTK grows its base with the longest
    length seen and resets below the original length.
    """

    def __init__(self, config: Any, *, resonance: bool = True, exact: bool = True, layout: str = "hf",
                 original: Optional[torch.nn.Module] = None):
        super().__init__()
        if layout not in ("hf", "half"):
            raise ValueError("layout must be 'hf' or 'half', got %r" % (layout,))
        self.exact, self.layout = bool(exact), layout
        self.__dict__["_original"] = original          # a plain attribute: never patched or saved
        self._cache: "collections.OrderedDict[tuple, Tuple[int, torch.Tensor, torch.Tensor]]" = collections.OrderedDict()
        self._inv: Dict[tuple, torch.Tensor] = {}
        if isinstance(config, Rope):
            self.config, self.resonance = None, config.resonance
            self._fixed: Optional[Rope] = config
        else:
            self.config, self.resonance = config, bool(resonance)
            cfg = _config_dict(config)
            self._cfg_text = json.dumps(cfg)
            self._fixed = Rope.from_hf_config(self._cfg_text, resonance=self.resonance)
        self._ropes: Dict[int, Rope] = {}
        rope = self._fixed
        self.rope_type = rope.scaling
        self.rotary_dim, self.head_dim = rope.rotary_dim, rope.head_dim
        self.attention_scaling = rope.attention_factor
        if self.config is not None and rope.scaling in ("longrope", "dynamic"):
            cfg = json.loads(self._cfg_text)
            self._original_len = _original_length(cfg)
            self._max_len = int(cfg.get("max_position_embeddings") or self._original_len or 0)
            self._dyn_len = self._max_len              # transformers' max_seq_len_cached
        # Width of one cached row pair (float32 bytes): the row bound of the position cache.
        width = self.rotary_dim if layout == "hf" else rope.pair_count
        self.max_cached_positions = max(_MIN_ROWS, TABLE_BYTES // (2 * 4 * width))

    @property
    def original(self) -> Optional[torch.nn.Module]:
        """The transformers module this one replaced (None when built directly)."""
        return self.__dict__["_original"]

    @property
    def rope(self) -> Rope:
        """The Rope used at the model's configured length (max_position_embeddings)."""
        return self._fixed

    def extra_repr(self) -> str:
        return "rope_type=%s, rotary_dim=%d, resonance=%s, exact=%s, layout=%s" % (
            self.rope_type, self.rotary_dim, self.resonance, self.exact, self.layout)

    # Which Rope serves a call whose longest sequence is seq_len (transformers' dynamic_rope_update).
    def _rope_for(self, seq_len: int) -> Tuple[int, Rope]:
        """(key, Rope); key 0 is the fixed Rope, else the sequence length it was made for."""
        if self.config is None or self.rope_type not in ("longrope", "dynamic"):
            return 0, self._fixed
        if self.rope_type == "longrope":
            key = self._original_len + 1 if seq_len > self._original_len else self._original_len
        else:
            if seq_len > self._dyn_len:               # growth
                self._dyn_len = seq_len
            if seq_len < self._original_len and self._dyn_len > self._original_len:   # reset
                self._dyn_len = self._original_len
            key = self._dyn_len
        rope = self._ropes.get(key)
        if rope is None:
            if len(self._ropes) >= _CACHE_ENTRIES:
                self._ropes.clear()
            rope = self._ropes[key] = Rope.from_hf_config(self._cfg_text, sequence_length=key,
                                                          resonance=self.resonance)
        return key, rope

    def forward(self, x: torch.Tensor, position_ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(position_ids, torch.Tensor):
            position_ids = torch.as_tensor(position_ids)
        if position_ids.dtype.is_floating_point or position_ids.dtype == torch.bool:
            raise TypeError("position_ids must be integers, got %s" % position_ids.dtype)
        pos = position_ids.long()
        n = pos.numel()
        lo, hi = (int(pos.min()), int(pos.max())) if n else (0, -1)
        rkey, rope = self._rope_for(hi + 1)
        if self.exact:
            return self._exact(rkey, rope, pos, lo, hi, x.device, x.dtype)
        inv = self._inv_freq(rkey, rope, x.device)
        freqs = pos[..., None].float() * inv               # transformers' float32 formula
        emb = torch.cat((freqs, freqs), dim=-1) if self.layout == "hf" else freqs
        cos = emb.cos() * rope.attention_factor
        sin = emb.sin() * rope.attention_factor
        return cos.to(dtype=x.dtype), sin.to(dtype=x.dtype)

    def _inv_freq(self, rkey: int, rope: Rope, device: torch.device) -> torch.Tensor:
        key = (rkey, str(device))
        t = self._inv.get(key)
        if t is None:
            if len(self._inv) >= _CACHE_ENTRIES:
                self._inv.clear()
            t = self._inv[key] = torch.from_numpy(rope.inv_freq(np.float32)).to(device)
        return t

    def _tables_np(self, rope: Rope, positions: Optional[np.ndarray], count: int = 0):
        layout = "hf" if self.layout == "hf" else "half"
        if positions is None:
            return rope.cos_sin(start=0, count=count, layout=layout, attention_factor=True)
        return rope.cos_sin(positions, layout=layout, attention_factor=True)

    def _exact(self, rkey: int, rope: Rope, pos: torch.Tensor, lo: int, hi: int, device: torch.device,
               dtype: torch.dtype) -> Tuple[torch.Tensor, torch.Tensor]:
        if lo < 0 or hi >= self.max_cached_positions:
            # Outside the cached range: tables for exactly the positions in use.
            flat = np.ascontiguousarray(pos.reshape(-1).cpu().numpy(), dtype=np.int64)
            c, s = self._tables_np(rope, flat)
            shape = tuple(pos.shape) + (c.shape[-1],)
            return (torch.from_numpy(c).reshape(shape).to(device=device, dtype=dtype),
                    torch.from_numpy(s).reshape(shape).to(device=device, dtype=dtype))
        key = (rkey, str(device), dtype)
        entry = self._cache.get(key)
        if entry is None or entry[0] <= hi:
            rows = _MIN_ROWS
            while rows <= hi:
                rows *= 2
            rows = min(rows, self.max_cached_positions)
            c, s = self._tables_np(rope, None, rows)
            entry = (rows, torch.from_numpy(c).to(device=device, dtype=dtype),
                     torch.from_numpy(s).to(device=device, dtype=dtype))
            self._cache[key] = entry
            while len(self._cache) > _CACHE_ENTRIES:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        idx = pos.to(entry[1].device)
        return entry[1][idx], entry[2][idx]


# ---- patching a transformers model -------------------------------------------------------------

def _is_hf_rotary(module: torch.nn.Module) -> bool:
    return (type(module).__name__.endswith("RotaryEmbedding") and not isinstance(module, RotaryEmbedding)
            and isinstance(getattr(module, "inv_freq", None), torch.Tensor) and hasattr(module, "config"))


def _output_layout(module: torch.nn.Module) -> str:
    """'hf' or 'half': the width of the cos that `module` returns, found by calling it once."""
    if isinstance(getattr(module, "rope_type", None), dict):
        raise NotImplementedError("%s has one RoPE per layer type (%s): not supported"
                                  % (type(module).__name__, ", ".join(module.rope_type)))
    pairs = module.inv_freq.numel()
    with torch.no_grad():
        cos, _ = module(torch.zeros(1, dtype=torch.float32, device=module.inv_freq.device),
                        torch.zeros((1, 1), dtype=torch.long, device=module.inv_freq.device))
    width = cos.shape[-1]
    if width == 2 * pairs:
        return "hf"
    if width == pairs:
        return "half"
    raise NotImplementedError("%s returns cos of width %d for %d frequencies: an unknown layout"
                              % (type(module).__name__, width, pairs))


def _set_child(model: torch.nn.Module, name: str, new: torch.nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def patch_model(model: torch.nn.Module, resonance: Optional[bool] = None, exact: Optional[bool] = None):
    """Swaps every rotary embedding of a transformers model for a :class:`RotaryEmbedding`
    built from that module's config, and returns the model.

    Args:
        resonance: Resonance RoPE (integer wavelengths) on top of the model's own scaling.
        exact: exact cos/sin tables (True) or only the library's frequencies (False).
        None for either: the value saved in ``model.config.resonance_rope`` (see
        :data:`CONFIG_KEY`), else True. So after ``from_pretrained`` of a model saved patched,
        ``patch_model(model)`` restores the saved choice.

    Idempotent (patching a patched model re-patches from the original modules); raises
    ValueError when the model has no rotary embedding module, NotImplementedError for a kind
    this module does not handle (per-layer-type RoPE), and the library's ResonanceRopeError for
    a RoPE config it does not support, before changing anything.
    """
    saved = getattr(getattr(model, "config", None), CONFIG_KEY, None)
    saved = saved if isinstance(saved, dict) else {}
    resonance = bool(saved.get("resonance", True)) if resonance is None else bool(resonance)
    exact = bool(saved.get("exact", True)) if exact is None else bool(exact)
    plan = []
    for name, module in model.named_modules():
        if isinstance(module, RotaryEmbedding) and module.original is not None:
            original = module.original
        elif _is_hf_rotary(module):
            original = module
        else:
            continue
        new = RotaryEmbedding(original.config, resonance=resonance, exact=exact, layout=_output_layout(original),
                              original=original)
        if new.rope.pair_count != original.inv_freq.numel():
            raise ValueError("%s: the config gives %d frequency pairs, the module has %d"
                             % (name, new.rope.pair_count, original.inv_freq.numel()))
        plan.append((name, new.to(original.inv_freq.device)))
    if not plan:
        raise ValueError("no rotary embedding module (a transformers *RotaryEmbedding with inv_freq) in %s"
                         % type(model).__name__)
    for name, new in plan:
        _set_child(model, name, new)
    if getattr(model, "config", None) is not None:
        from . import __version__
        setattr(model.config, CONFIG_KEY, {"resonance": resonance, "exact": exact, "version": __version__})
    return model


def unpatch_model(model: torch.nn.Module):
    """Puts back the transformers modules that :func:`patch_model` replaced, removes
    ``model.config.resonance_rope``, and returns the model."""
    for name, module in list(model.named_modules()):
        if isinstance(module, RotaryEmbedding) and module.original is not None:
            _set_child(model, name, module.original)
    cfg = getattr(model, "config", None)
    if cfg is not None and hasattr(cfg, CONFIG_KEY):
        delattr(cfg, CONFIG_KEY)
    return model


# ---- in-place rotation of torch tensors -----------------------------------------------------------

def _numpy_view(t: Any, name: str) -> Tuple[np.ndarray, Optional[str]]:
    """A numpy array sharing t's memory (never a copy) and the element name to pass."""
    if not isinstance(t, torch.Tensor):
        raise TypeError("%s must be a torch tensor, got %s" % (name, type(t).__name__))
    if t.device.type != "cpu":
        raise ValueError("%s is on %s: apply_ rotates CPU tensors in place (the library runs on the CPU); on "
                         "a GPU use patch_model or RotaryEmbedding, whose exact cos/sin tables are moved to "
                         "the device" % (name, t.device))
    if t.requires_grad:
        raise ValueError("%s requires grad: apply_ writes in place outside autograd; pass %s.detach() (or "
                         "use RotaryEmbedding, which autograd follows)" % (name, name))
    if t.dtype in (torch.float32, torch.float16):
        a, element = t.numpy(), None
    elif t.dtype == torch.bfloat16:
        a, element = t.view(torch.int16).numpy().view(np.uint16), "bfloat16"
    else:
        raise TypeError("%s must be float32, float16 or bfloat16, got %s; it is rotated in place, so it is "
                        "never converted" % (name, t.dtype))
    if t.numel() and a.ctypes.data != t.data_ptr():
        raise AssertionError("%s: the numpy view does not share the tensor's memory" % name)
    return a, element


def _positions(positions: Any) -> Any:
    if isinstance(positions, torch.Tensor):
        if positions.device.type != "cpu":
            positions = positions.cpu()                   # an input: a copy is harmless
        if positions.dtype != torch.int64:
            raise TypeError("positions must be int64 (torch.long), got %s" % positions.dtype)
        return positions.contiguous().numpy()
    return positions


def apply_(rope: Rope, q: torch.Tensor, k: Optional[torch.Tensor] = None, positions: Any = None, *,
           start: int = 0, inverse: bool = False, attention_factor: bool = False, axes: Optional[str] = None,
           n_threads: int = 0) -> torch.Tensor:
    """Rotates CPU torch tensors q (and k) IN PLACE, without copying them: ``Rope.apply_`` on
    numpy views of their memory (float32, float16; bfloat16 through a uint16 view).

    4-D tensors default to Hugging Face's layout ``axes='bhtd'`` [batch, heads, tokens, dim];
    positions may be a [batch, tokens] int64 tensor (HF's position_ids), [tokens], a list or
    None (start, start + 1, ...). Other arguments as in :meth:`Rope.apply_`. Returns q.
    Tensors on another device, requiring grad, or of another dtype raise before anything is
    written.
    """
    qa, element = _numpy_view(q, "q")
    ka = None
    if k is not None:
        ka, k_element = _numpy_view(k, "k")
        if k.dtype != q.dtype:
            raise TypeError("k has dtype %s, q has %s" % (k.dtype, q.dtype))
    if axes is None and qa.ndim == 4:
        axes = "bhtd"
    rope.apply_(qa, _positions(positions), ka, start=start, inverse=inverse, attention_factor=attention_factor,
                axes=axes, element=element, n_threads=n_threads)
    return q

"""PosGen (Wang et al. 2024, Section 5): the synthetic benchmark's data and its scoring."""
from __future__ import annotations

import ctypes
from typing import Any, NamedTuple, Optional, Sequence

import numpy as np

from . import _abi
from ._abi import PosGenParams, PosGenResult
from ._arrays import c_int, field_bits, int32_array, int_values
from ._errors import check
from ._lib import library

__all__ = ["PosGen", "PosGenScore"]

# Names -> C values, generated with the header from the core's enums (_abi.py): the paper's task
# names; the public code's recurrent / semirecurrent and this package's old pow_sin2pi are
# accepted aliases, as in the CLI.
TASKS = {**_abi.POSGEN_TASK, "recurrent": _abi.POSGEN_TASK["recursive"],
         "semirecurrent": _abi.POSGEN_TASK["semi-recursive"]}
ARITHS = {**_abi.POSGEN_ARITH, "pow_sin2pi": _abi.POSGEN_ARITH["pow_sin_2pi"]}
SPLITS, SPLIT_MODES = _abi.POSGEN_SPLIT, _abi.POSGEN_SPLIT_MODE


class PosGenScore(NamedTuple):
    """Teacher-forced token accuracy. per_position: float64 [length], NaN at seed positions."""
    id_correct: int
    id_total: int
    ood_correct: int
    ood_total: int
    id_accuracy: float
    ood_accuracy: float
    per_position: np.ndarray


def _pick(table: dict, value: str, what: str) -> int:
    if value not in table:
        raise ValueError("%s must be one of %s, got %r" % (what, ", ".join(table), value))
    return table[value]


class PosGen:
    """One PosGen task. Defaults are the paper's: recursive, modular addition, m = 17, near 3,
    far 1, length 64, 10000 / 1000 / 1000 sequences, the paper's split mode.

    Args:
        task: ``'recursive'``, ``'cot'`` or ``'semi-recursive'`` (the paper's names; the public
            code's ``'recurrent'`` and ``'semirecurrent'`` are accepted too).
        arith: ``'mod_addition'``, ``'pow_sin'`` or ``'pow_sin_2pi'`` (or ``'pow_sin2pi'``).
        split_mode: ``'paper'`` (evaluation seeds are training seeds, as the paper's code does)
            or ``'disjoint'``.
        modulus, near, far, length, train_size, validation_size, test_size: ints; None keeps
            the default.

    Example:
        >>> PosGen(modulus=7, length=12).sequence([2, 0, 3, 1]).tolist()
        [2, 0, 3, 1, 6, 3, 6, 2, 3, 0, 4, 2]
    """

    def __init__(self, task: str = "recursive", arith: str = "mod_addition", split_mode: str = "paper", *,
                 modulus: Optional[int] = None, near: Optional[int] = None, far: Optional[int] = None,
                 length: Optional[int] = None, train_size: Optional[int] = None,
                 validation_size: Optional[int] = None, test_size: Optional[int] = None):
        self._lib = library()
        p = PosGenParams()
        self._lib.rr_posgen_params_init(ctypes.byref(p))
        p.task, p.arith = _pick(TASKS, task, "task"), _pick(ARITHS, arith, "arith")
        p.split_mode = _pick(SPLIT_MODES, split_mode, "split_mode")
        for field, value in (("modulus", modulus), ("near", near), ("far", far), ("length", length),
                             ("train_size", train_size), ("validation_size", validation_size),
                             ("test_size", test_size)):
            if value is not None:
                setattr(p, field, c_int(value, field, field_bits(PosGenParams, field)))
        self._p = p

    def __getattr__(self, name: str) -> Any:
        if name in ("modulus", "near", "far", "length", "train_size", "validation_size", "test_size"):
            return getattr(self._p, name)
        raise AttributeError(name)

    def split_size(self, split: str) -> int:
        """Sequences in `split` ('train', 'validation' or 'test')."""
        _pick(SPLITS, split, "split")
        return {"train": self._p.train_size, "validation": self._p.validation_size,
                "test": self._p.test_size}[split]

    def generate(self, split: str = "train", first: int = 0, count: Optional[int] = None) -> np.ndarray:
        """int32 [count, length]: sequences first .. first + count - 1 of `split` (default: to the
        end of the split). Sequence i of a split is always the same, so a split can be made in
        pieces.

        Example:
            >>> PosGen().generate("test", count=2).shape
            (2, 64)
        """
        s = _pick(SPLITS, split, "split")
        first = c_int(first, "first")
        n = c_int(self.split_size(split) - first if count is None else count, "count", low=0)
        out = np.empty((n, self._p.length), np.int32)
        check(self._lib, "rr_posgen_generate", self._lib.rr_posgen_generate(
            ctypes.byref(self._p), s, first, n, out, out.size))
        return out

    def sequence(self, seeds: Sequence[int]) -> np.ndarray:
        """int32 [length]: one sequence grown from far + near explicit seeds.

        Example:
            >>> PosGen(modulus=7, length=6).sequence([2, 0, 3, 1]).tolist()
            [2, 0, 3, 1, 6, 3]
        """
        s32 = int_values(seeds, "seeds", 32)             # an input: converting it is harmless
        if s32.size != self._p.far + self._p.near:
            raise ValueError("seeds has %d values; far + near = %d" % (s32.size, self._p.far + self._p.near))
        out = np.empty(self._p.length, np.int32)
        check(self._lib, "rr_posgen_sequence", self._lib.rr_posgen_sequence(
            ctypes.byref(self._p), s32, out, out.size))
        return out

    def score(self, predicted: np.ndarray, reference: np.ndarray, train_length: int) -> PosGenScore:
        """Teacher-forced accuracy of `predicted` against `reference` (int32 [count, length],
        C-contiguous): seed positions are never scored; positions < train_length are
        in-distribution, the rest out-of-distribution.

        Example:
            >>> ref = PosGen().generate("test", count=4)
            >>> PosGen().score(ref, ref, train_length=32).ood_accuracy
            1.0
        """
        predicted = int32_array(predicted, "predicted", 2)
        reference = int32_array(reference, "reference", 2)
        if predicted.shape != reference.shape or predicted.shape[1] != self._p.length:
            raise ValueError("predicted %s and reference %s must both be [count, %d]"
                             % (predicted.shape, reference.shape, self._p.length))
        per = np.empty(self._p.length, np.float64)
        r = PosGenResult()
        r.struct_size = ctypes.sizeof(PosGenResult)
        check(self._lib, "rr_posgen_score", self._lib.rr_posgen_score(
            ctypes.byref(self._p), predicted, reference, predicted.shape[0], c_int(train_length, "train_length"),
            per, ctypes.byref(r)))
        return PosGenScore(r.id_correct, r.id_total, r.ood_correct, r.ood_total, r.id_accuracy,
                           r.ood_accuracy, per)

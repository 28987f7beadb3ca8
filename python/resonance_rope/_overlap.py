"""Exact overlap checks across the batch axis of Rope.apply_. Internal.

The C ABI rotates one [tokens, heads, head_dim] view of q (and k) per call and checks that
view itself (rows that overlap, q against k). A 4-D batch is one C call per batch row, so what
no single call sees is checked here, before the first call, and nothing is written when a
check fails:

* the rows of q in different batch rows are disjoint (a batch stride of 0, or one smaller
  than what a batch row spans, would rotate the same memory twice); the same for k;
* q and k share no byte in any pair of batch rows (k[0] is q[1] would be rotated twice);
* positions given as a numpy array share no byte with q or k (a rotation would change the
  positions a later batch row reads);
* when q and k have different batch strides, q[b] and k[b] have disjoint byte extents for
  every b. The library's own q/k check (extents disjoint, or one fused qkv row) then accepts
  every batch row alike, so no row can be refused after an earlier one was rotated. (With equal
  batch strides every row has the same q/k geometry as row 0, and the library decides for all
  of them on row 0, before writing.)

A view is a set of rows: `row` contiguous bytes starting at base + sum_k i_k * s_k,
0 <= i_k < n_k. meet() decides exactly whether two views share a byte (not a bound from their
extents): it splits the view with the larger outer stride into its blocks and keeps only the
blocks whose extent meets the other view; two views with the same outer stride s are matched
block against block through the offset difference alone, which leaves at most two candidates
per level (each block spans at most s bytes when the view is nested, as every layout that
reshape, transpose and slicing make is). When meet() would visit more than _WORK blocks
(contrived as_strided views) it lists every row and sorts instead: exact too, about 16 bytes
of memory per row.
"""
from __future__ import annotations

from typing import List, NamedTuple, Optional, Tuple

import numpy as np

__all__ = ["View", "view_of", "meet", "check_batch"]

_WORK = 4096            # blocks meet() may visit before it lists rows instead


class View(NamedTuple):
    base: int                                  # byte address of the first row
    dims: Tuple[Tuple[int, int], ...]          # (count >= 2, stride in bytes > 0), ascending stride
    row: int                                   # bytes per row, > 0


def _extent(dims: Tuple[Tuple[int, int], ...], row: int) -> int:
    return row + sum((n - 1) * s for n, s in dims)


def view_of(a: np.ndarray, skip_axis0: bool = False) -> Optional[View]:
    """The bytes of `a` as rows (last axis contiguous: one row per index of the other axes), or
    None when it is empty. skip_axis0: the rows of a[0] (one batch row) instead. An axis of
    stride 0 repeats the same rows, so it adds no bytes and is left out."""
    if a.size == 0:
        return None
    base = a.ctypes.data
    dims: List[Tuple[int, int]] = []
    for n, s in list(zip(a.shape[:-1], a.strides[:-1]))[1 if skip_axis0 else 0:]:
        if n < 2 or s == 0:
            continue
        if s < 0:                                  # the same rows, walked from the other end
            base, s = base + (n - 1) * s, -s
        dims.append((n, s))
    return View(base, tuple(sorted(dims, key=lambda d: d[1])), a.shape[-1] * a.itemsize)


def _nested(v: View) -> bool:
    """Whether every stride of v (ascending) is at least the extent of the axes inside it: then
    no two rows of v share a byte (the library's own row check, rr_rotation strides)."""
    e = v.row
    for n, s in v.dims:
        if s < e:
            return False
        e += (n - 1) * s
    return True


def _shifted(v: View, by: int) -> View:
    return View(v.base + by, v.dims, v.row)


class _TooMuchWork(Exception):
    pass


def meet(x: Optional[View], y: Optional[View]) -> bool:
    """True when views x and y share at least one byte (exact)."""
    if x is None or y is None:
        return False
    try:
        return _meet(x.dims, x.row, y.dims, y.row, y.base - x.base, [_WORK])
    except _TooMuchWork:
        return _meet_by_rows(x, y)


def _meet(xd, xl: int, yd, yl: int, delta: int, work: List[int]) -> bool:
    """Do rows (xd, xl) at offset 0 and rows (yd, yl) at offset delta share a byte? Strides > 0.
    Python ints throughout: nothing overflows."""
    ex, ey = _extent(xd, xl), _extent(yd, yl)
    if delta >= ex or delta + ey <= 0:             # extents [0, ex) and [delta, delta + ey) disjoint
        return False
    if not xd and not yd:                          # two single rows whose extents meet
        return True
    work[0] -= 1
    if work[0] < 0:
        raise _TooMuchWork
    sx = xd[-1][1] if xd else 0
    sy = yd[-1][1] if yd else 0
    if sx == sy:
        # Same outer stride s: block i of x spans [i s, i s + ex1), block j of y spans
        # [delta + j s, delta + j s + ey1). With c = j - i they can meet only when
        # -ey1 < delta + c s < ex1, and whether they do is then the same for every valid i.
        (nx, s), (ny, _) = xd[-1], yd[-1]
        xi, yi = xd[:-1], yd[:-1]
        ex1, ey1 = _extent(xi, xl), _extent(yi, yl)
        for c in range((-ey1 - delta) // s + 1, -((delta - ex1) // s)):
            if max(0, -c) <= min(nx - 1, ny - 1 - c) and _meet(xi, xl, yi, yl, delta + c * s, work):
                return True
        return False
    if sx > sy:                                    # split x: block i spans [i s, i s + ex1)
        n, s = xd[-1]
        xi = xd[:-1]
        ex1 = _extent(xi, xl)
        for i in range(max(0, (delta - ex1) // s + 1), min(n, -((-delta - ey) // s))):
            if _meet(xi, xl, yd, yl, delta - i * s, work):
                return True
        return False
    n, s = yd[-1]                                  # split y: block j spans [delta + j s, ... + ey1)
    yi = yd[:-1]
    ey1 = _extent(yi, yl)
    for j in range(max(0, (-ey1 - delta) // s + 1), min(n, -((delta - ex) // s))):
        if _meet(xd, xl, yi, yl, delta + j * s, work):
            return True
    return False


def _starts(v: View) -> np.ndarray:
    """Every row's start, relative to v.base, sorted."""
    s = np.zeros(1, np.int64)
    for n, st in v.dims:
        s = (s[:, None] + np.arange(n, dtype=np.int64) * st).ravel()
    return np.sort(s)


def _meet_by_rows(x: View, y: View) -> bool:
    """meet() by listing rows: does some y row start inside (a - y.row, a + x.row) of an x row a?"""
    xs, ys = _starts(x), _starts(y) + (y.base - x.base)
    i = np.searchsorted(ys, xs - y.row, side="right")  # first y row starting after a - y.row
    hit = i < ys.size
    return bool(np.any(ys[i[hit]] < xs[hit] + x.row))


def _batch_views(a: np.ndarray) -> Tuple[View, View, int]:
    """(one batch row's rows, all rows, batch stride in bytes) of a non-empty 4-D q or k."""
    blk, step = view_of(a, skip_axis0=True), a.strides[0]
    dims = blk.dims if step == 0 else tuple(sorted(blk.dims + ((a.shape[0], step),), key=lambda d: d[1]))
    return blk, View(blk.base, dims, blk.row), step


def check_batch(q: np.ndarray, k: Optional[np.ndarray], positions: Optional[np.ndarray]) -> None:
    """Raises ValueError, before any C call, when batch rows of q or k (4-D, batch on axis 0,
    batch > 1, q non-empty, already checked by head_geometry) or the caller's positions array
    share memory. Each check is O(1) block comparisons for the layouts numpy makes (about 0.1 ms
    in all); only contrived strides fall back to listing rows."""
    batch = q.shape[0]
    views = {}
    for a, name in ((q, "q"), (k, "k")):
        if a is None or a.size == 0:
            continue
        blk, full, step = views[name] = _batch_views(a)
        span = _extent(blk.dims, blk.row)
        # Batch rows b and b + c share memory when blk does with blk shifted by c * step: only
        # c with c * step < span can (c = 1 does when step is 0). None can when the view is
        # nested (every stride, ascending, at least the extent of the axes inside it).
        for c in range(1, batch if step == 0 else 1 if _nested(full) else min(batch, -(-span // step))):
            if meet(blk, _shifted(blk, c * step)):
                raise ValueError("%s[0] and %s[%d] share memory (batch stride %d bytes, one batch row spans %d "
                                 "bytes): the same elements would be rotated twice" % (name, name, c, step, span))
    if "k" in views:
        (qb, qv, qs), (kb, kv, ks) = views["q"], views["k"]
        if meet(qv, kv):
            raise ValueError("%s share memory: the same elements would be rotated twice" % _qk_pair(q, k))
        eq, ek = _extent(qb.dims, qb.row), _extent(kb.dims, kb.row)
        for b in range(batch if qs != ks and meet(View(qv.base, (), _extent(qv.dims, qv.row)),
                                                    View(kv.base, (), _extent(kv.dims, kv.row))) else 0):
            q0, k0 = qb.base + b * qs, kb.base + b * ks
            if q0 < k0 + ek and k0 < q0 + eq:
                raise ValueError("q and k have different batch strides (%d and %d bytes) and the byte extents of "
                                 "q[%d] and k[%d] intersect: give them disjoint extents in every batch row, or one "
                                 "batch stride (as views of one fused qkv buffer have)" % (qs, ks, b, b))
    if positions is not None:
        pv = view_of(positions)
        for name, (_, full, _) in views.items():
            if meet(pv, full):
                raise ValueError("positions share memory with %s: rotating %s would change the positions that "
                                 "later batch rows read" % (name, name))


def _qk_pair(q: np.ndarray, k: np.ndarray) -> str:
    """'q[i] and k[j]' for a pair of batch rows that share memory (error path only)."""
    qb, kb = view_of(q, True), view_of(k, True)
    pairs = [(i, j) for i in range(q.shape[0]) for j in range(k.shape[0])][:4096]
    for i, j in sorted(pairs, key=lambda p: (abs(p[0] - p[1]), p)):   # the same row first
        if meet(_shifted(qb, i * q.strides[0]), _shifted(kb, j * k.strides[0])):
            return "q[%d] and k[%d]" % (i, j)
    return "q and k (in some pair of batch rows)"

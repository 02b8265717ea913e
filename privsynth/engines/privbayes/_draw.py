"""Drawing from a fitted PrivBayes network: ancestral sampling and fine codes within levels.

>>> rng = np.random.default_rng(0)
>>> draw_rows(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0, 1, 0]), rng).tolist()
[1, 0, 1]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from privsynth._types import FloatArray, IntArray
from privsynth.engines.privbayes._levels import Levels

#: Rows per block when drawing from large tables (bounds the (rows x levels) CDF copy).
_BLOCK = 200_000


def draw_rows(table: FloatArray, rows: IntArray, rng: np.random.Generator) -> IntArray:
    """For each i, a category drawn from the distribution ``table[rows[i]]``."""
    cdf = np.cumsum(table, axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(len(rows))
    out = np.empty(len(rows), dtype=np.int64)
    for s in range(0, len(rows), _BLOCK):
        c = cdf[rows[s:s + _BLOCK]]
        out[s:s + _BLOCK] = (u[s:s + _BLOCK, None] >= c).sum(axis=1)
    return np.minimum(out, table.shape[1] - 1)


def draw_within(lev: Levels, level: IntArray, rng: np.random.Generator) -> IntArray:
    """Fine codes drawn within each row's level by P(fine | level)."""
    if lev.is_identity:
        return level
    # order fine codes by level; inverse-CDF inside each level's block
    order = np.argsort(lev.fine_to_level, kind="stable")
    block_level = lev.fine_to_level[order]
    start = np.searchsorted(block_level, np.arange(lev.n_levels), side="left")
    cum = np.cumsum(lev.within[order])
    base = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
    end = np.searchsorted(block_level, np.arange(lev.n_levels), side="right") - 1
    u = rng.random(len(level))
    target = base[level] + u * (cum[end[level]] - base[level])
    pos = np.searchsorted(cum, target, side="right")
    pos = np.clip(pos, start[level], end[level])
    return order[pos].astype(np.int64)


def ancestral_levels(network: Sequence[tuple[int, tuple[int, ...]]],
                     tables: Sequence[FloatArray], levels: Sequence[Levels], n: int,
                     rng: np.random.Generator) -> IntArray:
    """Levels of ``n`` rows drawn ancestrally, shape (n, number of columns)."""
    d = len(levels)
    lvl = np.zeros((n, d), dtype=np.int64)
    par = np.zeros((n, d), dtype=np.int64)
    for (child, parents), table in zip(network, tables, strict=True):
        idx = np.zeros(n, dtype=np.int64)
        for p in parents:
            idx = idx * levels[p].n_parent_levels + par[:, p]
        lvl[:, child] = draw_rows(table, idx, rng)
        par[:, child] = levels[child].level_to_parent[lvl[:, child]]
    return lvl


__all__ = ["ancestral_levels", "draw_rows", "draw_within"]

"""Nearest reference row under several "all columns but one" Gower distances at once.

The inference attack (:mod:`privsynth.risk.inference_attack`) needs, for each
secret column ``s``, every target's closest synthetic row on the columns the
attacker knows, i.e. on the base columns without ``s``. Searching once per
secret repeats the same work: the distance without ``s`` is the distance on
the base columns minus the term of ``s``. This search computes the base
distance once per tile of the distance matrix and derives every secret's
distance from it, which is several times faster than one search per secret.

The per-column terms are those of :mod:`privsynth.risk.distance` (the Gower
distance on the public schema): 0 or 1 for categories (codes compared), and
``min(|x - y|, 1)`` for numbers scaled by their public range (a missing value
is the sentinel 3.0: two missing values differ by 0, one missing by 1). Ties
go to the lower reference position, as in
:func:`~privsynth.risk.distance.nearest_neighbors`. Sums are in float32,
which may order two rows whose distances differ by less than about 1e-6
differently from a float64 computation: immaterial for an attack.

>>> import numpy as np
>>> q = np.array([[0.0], [0.5]], np.float32)            # 2 columns, 1 query row
>>> r = np.array([[0.0, 1.0], [0.9, 0.5]], np.float32)  # 2 reference rows
>>> nearest_without(q, r, np.array([True, True]), [0, 1]).tolist()
[[1, 0]]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

_QUERY_BLOCK = 64
_REF_BLOCK = 2048


def _term(q: F32, r: F32, numeric: bool, out: F32) -> F32:
    """One column's term of the distance between query values q and reference values r."""
    if numeric:
        np.subtract(q[:, None], r[None, :], out=out)
        np.abs(out, out=out)
        np.minimum(out, np.float32(1.0), out=out)
    else:
        np.not_equal(q[:, None], r[None, :], out=out, casting="unsafe")
    return out


def _block(queries: F32, reference: F32, numeric: npt.NDArray[np.bool_], drop: Sequence[int],
           q0: int, q1: int) -> I64:
    n_cols = queries.shape[0]
    rows = q1 - q0
    best_d = np.full((rows, len(drop)), np.inf, np.float32)
    best_i = np.zeros((rows, len(drop)), np.int64)
    base = np.empty((rows, _REF_BLOCK), np.float32)
    term = np.empty((rows, _REF_BLOCK), np.float32)
    cand = np.empty((rows, _REF_BLOCK), np.float32)
    at = np.arange(rows)
    for r0 in range(0, reference.shape[1], _REF_BLOCK):
        r1 = min(r0 + _REF_BLOCK, reference.shape[1])
        w = r1 - r0
        b, t, c = base[:, :w], term[:, :w], cand[:, :w]
        b.fill(0.0)
        for j in range(n_cols):
            np.add(b, _term(queries[j, q0:q1], reference[j, r0:r1], bool(numeric[j]), t), out=b)
        for k, s in enumerate(drop):
            np.subtract(b, _term(queries[s, q0:q1], reference[s, r0:r1], bool(numeric[s]), t),
                        out=c)
            i = c.argmin(axis=1)
            d = c[at, i]
            better = d < best_d[:, k]  # strict: the earlier (lower) position wins ties
            best_d[better, k] = d[better]
            best_i[better, k] = i[better] + r0
    return best_i


def nearest_without(queries: F32, reference: F32, numeric: npt.NDArray[np.bool_],
                    drop: Sequence[int], n_jobs: int | None = None) -> I64:
    """For each query row and each column index in ``drop``, the nearest reference row.

    Parameters
    ----------
    queries, reference : ndarray of float32, shape (n_columns, n_rows)
        Value matrices on the same columns
        (:func:`~privsynth.risk._subset.value_matrix`).
    numeric : ndarray of bool, shape (n_columns,)
        Which columns are numbers (the others are category codes).
    drop : sequence of int
        For each entry ``s``, the distance is over every column but ``s``.
    n_jobs : int or None
        Threads (None: every CPU).

    Returns
    -------
    ndarray of int64, shape (n_queries, len(drop))
        Position of the nearest reference row for each query and each ``s``.
    """
    n_q = queries.shape[1]
    jobs = max(1, os.cpu_count() or 1) if n_jobs is None else max(1, int(n_jobs))
    bounds = [(a, min(a + _QUERY_BLOCK, n_q)) for a in range(0, n_q, _QUERY_BLOCK)]
    if jobs == 1 or len(bounds) <= 1:
        parts = [_block(queries, reference, numeric, drop, a, b) for a, b in bounds]
    else:
        with ThreadPoolExecutor(max_workers=min(jobs, len(bounds))) as pool:
            parts = list(pool.map(lambda ab: _block(queries, reference, numeric, drop, *ab),
                                  bounds))
    if not parts:
        return np.empty((0, len(drop)), np.int64)
    return np.concatenate(parts)


__all__ = ["nearest_without"]

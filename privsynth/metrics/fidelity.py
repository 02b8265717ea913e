"""Fidelity of a synthetic table: marginal TVDs, associations, coverage.

All three compare the real and the synthetic table after
:func:`~privsynth.metrics.discretize.discretize_pair` (numeric columns in 20
quantile bins of the real data, categories as they are, missing values a
category of their own):

- ``tvd1``, ``tvd2``, ``tvd3`` (:func:`marginal_tvd`): the mean total-variation
  distance ``0.5 * sum |p - q|`` between real and synthetic 1-, 2- and 3-way
  marginals over all columns, pairs or triples. 0 is perfect, 1 is disjoint.
- Association difference (:func:`association_difference`): ``|V_real - V_syn|``
  for every pair of columns, where ``V`` is Cramér's V of the discretized pair.
- Coverage (:func:`coverage`): the share of the real categories / range that
  the synthetic data reaches, and the gaps in missing-value rates.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from privsynth._checks import check_frame, check_int
from privsynth._types import FloatArray, IntArray
from privsynth.errors import ParameterError
from privsynth.metrics._inputs import (
    KIND_DATETIME,
    KIND_NUMERIC,
    as_float,
    check_pair,
    check_schema,
    column_kind,
    datetime_format,
    label_codes,
    subsample_rows,
)
from privsynth.metrics.discretize import discretize_pair
from privsynth.schema import Schema

#: Most column subsets averaged by :func:`marginal_tvd` for ``way=3``.
MAX_TRIPLES = 500
# Above this many cells a joint marginal is counted on compressed keys
# (np.unique) rather than a dense np.bincount, to bound memory.
_DENSE_CELLS = 1 << 22


def _joint_keys(codes: IntArray, dims: Sequence[int]) -> tuple[IntArray, int]:
    """One integer key per row for the joint value of ``codes``' columns, and the key count."""
    keys = codes[:, 0].copy()
    n_keys = int(dims[0])
    for j in range(1, codes.shape[1]):
        keys *= int(dims[j])
        keys += codes[:, j]
        n_keys *= int(dims[j])
        if n_keys > _DENSE_CELLS:
            # Sparse joint domain: compress the keys to the values that occur,
            # so the key space never exceeds the row count.
            uniq, inverse = np.unique(keys, return_inverse=True)
            keys, n_keys = inverse.astype(np.int64).ravel(), len(uniq)
    return keys, n_keys


def _tvd(codes_r: IntArray, codes_s: IntArray, cols: Sequence[int], sizes: Sequence[int]) -> float:
    dims = [sizes[c] for c in cols]
    n_r = codes_r.shape[0]
    if math.prod(dims) <= _DENSE_CELLS:
        # common case: real and synthetic keyed separately, no copy of both
        k_r, n_keys = _joint_keys(codes_r[:, cols], dims)
        k_s, _ = _joint_keys(codes_s[:, cols], dims)
    else:
        keys, n_keys = _joint_keys(np.concatenate([codes_r[:, cols], codes_s[:, cols]]), dims)
        k_r, k_s = keys[:n_r], keys[n_r:]
    p = np.bincount(k_r, minlength=n_keys) / n_r
    q = np.bincount(k_s, minlength=n_keys) / codes_s.shape[0]
    return float(0.5 * np.abs(p - q).sum())


def _check_way(way: object, d: int) -> int:
    if isinstance(way, bool) or way not in (1, 2, 3):
        raise ParameterError(f"way must be 1, 2 or 3, got {way!r}")
    assert isinstance(way, int)
    if way > d:
        raise ParameterError(
            f"way={way} needs at least {way} columns; the data has {d}"
        )
    return way


def _subsets(d: int, way: int) -> list[tuple[int, ...]]:
    """All column subsets of size ``way``; for triples at most MAX_TRIPLES, fixed seed."""
    subsets = list(itertools.combinations(range(d), way))
    if way >= 3 and len(subsets) > MAX_TRIPLES:
        # fixed generator: the same subset every run, so numbers compare across tools
        pick = np.random.default_rng(0).choice(len(subsets), size=MAX_TRIPLES, replace=False)
        subsets = [subsets[i] for i in np.sort(pick)]
    return subsets


def _tvds(
    codes_r: IntArray, codes_s: IntArray, sizes: Sequence[int], way: int
) -> tuple[list[tuple[int, ...]], FloatArray]:
    subsets = _subsets(codes_r.shape[1], way)
    values = np.array([_tvd(codes_r, codes_s, s, sizes) for s in subsets], dtype=np.float64)
    return subsets, values


def marginal_tvd(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    way: int = 1,
    schema: Schema | None = None,
    bins: int = 20,
) -> float:
    """Mean total-variation distance between real and synthetic ``way``-way marginals.

    The tables are discretized by :func:`discretize_pair`; the TVD of one
    marginal is ``0.5 * sum |p - q|`` over its cells, and the result is the mean
    over all columns (``way=1``), all pairs (``way=2``) or all triples
    (``way=3``). When a table has more than ``MAX_TRIPLES`` (500) triples, the
    mean for ``way=3`` is taken over a fixed random subset of 500 triples drawn
    with ``np.random.default_rng(0)``, the same for every call on tables with
    that many columns.

    Returns a float in ``[0, 1]``; 0 means identical marginals.

    Examples
    --------
    >>> real = pd.DataFrame({"a": ["x", "x", "y", "y"]})
    >>> marginal_tvd(real, pd.DataFrame({"a": ["x", "x", "x", "y"]}))
    0.25
    """
    codes_r, codes_s, sizes, _ = discretize_pair(real, synthetic, schema=schema, bins=bins)
    way = _check_way(way, codes_r.shape[1])
    return float(_tvds(codes_r, codes_s, sizes, way)[1].mean())


def tvd_table(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    way: int = 1,
    schema: Schema | None = None,
    bins: int = 20,
) -> pd.DataFrame:
    """The TVD of every marginal, worst first.

    Columns ``column`` and ``tvd`` for ``way=1``; ``column_1``, ``column_2``
    (and ``column_3``) and ``tvd`` otherwise (triples subsampled as in
    :func:`marginal_tvd`). Ties keep the table's column order.

    >>> real = pd.DataFrame({"a": ["x", "y"], "b": ["u", "v"]})
    >>> syn = pd.DataFrame({"a": ["x", "y"], "b": ["u", "u"]})
    >>> tvd_table(real, syn)
      column  tvd
    0      b  0.5
    1      a  0.0
    """
    codes_r, codes_s, sizes, names = discretize_pair(real, synthetic, schema=schema, bins=bins)
    way = _check_way(way, codes_r.shape[1])
    subsets, values = _tvds(codes_r, codes_s, sizes, way)
    if way == 1:
        data: dict[str, Any] = {"column": [names[s[0]] for s in subsets]}
    else:
        data = {f"column_{k + 1}": [names[s[k]] for s in subsets] for k in range(way)}
    data["tvd"] = values
    out = pd.DataFrame(data)
    return out.sort_values("tvd", ascending=False, kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------
# associations
# ---------------------------------------------------------------------------
def _cramers_v(a: IntArray, b: IntArray, size_a: int, size_b: int) -> float:
    """Cramér's V (no bias correction) of two code vectors; 0 if either is constant."""
    table = np.bincount(a * size_b + b, minlength=size_a * size_b).reshape(size_a, size_b)
    rows = table.sum(axis=1)
    cols = table.sum(axis=0)
    # empty codes (present only in the other frame) must not count as categories
    table = table[rows > 0][:, cols > 0].astype(np.float64)
    rows, cols = rows[rows > 0], cols[cols > 0]
    k = min(len(rows), len(cols)) - 1
    if k <= 0:
        return 0.0
    phi2 = float((table**2 / np.outer(rows, cols)).sum()) - 1.0
    return float(math.sqrt(min(max(phi2 / k, 0.0), 1.0)))


def association_matrix(
    codes: IntArray, sizes: Sequence[int], names: Sequence[str] | None = None
) -> pd.DataFrame:
    """Cramér's V between every pair of discretized columns (diagonal 1).

    ``codes``, ``sizes`` and ``names`` as returned by :func:`discretize_pair`.

    >>> codes = np.array([[0, 0, 0], [1, 1, 0], [0, 0, 1], [1, 1, 1]])
    >>> association_matrix(codes, [2, 2, 2], ["a", "b", "c"])
         a    b    c
    a  1.0  1.0  0.0
    b  1.0  1.0  0.0
    c  0.0  0.0  1.0
    """
    codes = np.asarray(codes, dtype=np.int64)
    d = codes.shape[1]
    if len(sizes) != d:
        raise ParameterError(f"sizes has {len(sizes)} entries for {d} code columns")
    labels = list(names) if names is not None else [str(j) for j in range(d)]
    m = np.eye(d, dtype=np.float64)
    for i, j in itertools.combinations(range(d), 2):
        m[i, j] = m[j, i] = _cramers_v(codes[:, i], codes[:, j], int(sizes[i]), int(sizes[j]))
    return pd.DataFrame(m, index=labels, columns=labels)


def _association_difference(
    codes_r: IntArray, codes_s: IntArray, sizes: Sequence[int], names: Sequence[str]
) -> pd.DataFrame:
    return (association_matrix(codes_r, sizes, names)
            - association_matrix(codes_s, sizes, names)).abs()


def association_difference(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    schema: Schema | None = None,
    bins: int = 20,
) -> pd.DataFrame:
    """``|V_real - V_syn|`` for every pair of columns (a columns x columns frame).

    ``V`` is Cramér's V of the pair after :func:`discretize_pair`; the diagonal
    is 0. Values lie in ``[0, 1]``; a synthesizer that keeps the relations
    between columns scores near 0 everywhere.

    >>> real = pd.DataFrame({"a": ["x", "y"] * 5, "b": ["u", "v"] * 5})
    >>> syn = pd.DataFrame({"a": ["x", "y"] * 5, "b": ["u", "u", "v", "v", "u"] * 2})
    >>> association_difference(real, syn).round(3)
         a    b
    a  0.0  1.0
    b  1.0  0.0
    """
    codes_r, codes_s, sizes, names = discretize_pair(real, synthetic, schema=schema, bins=bins)
    return _association_difference(codes_r, codes_s, sizes, names)


def _upper_mean(matrix: pd.DataFrame) -> float:
    m = matrix.to_numpy()
    iu = np.triu_indices(m.shape[0], k=1)
    return float(m[iu].mean()) if iu[0].size else 0.0


def mean_association_difference(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    schema: Schema | None = None,
    bins: int = 20,
) -> float:
    """Mean of :func:`association_difference` over the pairs of distinct columns.

    0 for a single-column table (there are no pairs).

    >>> real = pd.DataFrame({"a": ["x", "y"] * 5, "b": ["u", "v"] * 5})
    >>> mean_association_difference(real, real)
    0.0
    """
    return _upper_mean(association_difference(real, synthetic, schema=schema, bins=bins))


# ---------------------------------------------------------------------------
# coverage
# ---------------------------------------------------------------------------
def coverage(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema | None = None,
) -> pd.DataFrame:
    """How much of each real column the synthetic data covers, and missing-rate gaps.

    One row per column with:

    - ``kind``: ``categorical``, ``boolean``, ``numeric`` or ``datetime``;
    - ``coverage``: for categorical/boolean columns the share of the real
      categories that occur in the synthetic data; for numeric columns the
      share of the real range ``[min, max]`` that the synthetic range overlaps
      (a constant real column counts as covered when the synthetic range
      contains it); NaN when the real column has no values;
    - ``missing_real``, ``missing_synthetic``: the missing-value rates;
    - ``missing_difference``: ``|missing_synthetic - missing_real|``.

    >>> real = pd.DataFrame({"c": ["a", "b", "c", None], "x": [0.0, 5.0, 10.0, 1.0]})
    >>> syn = pd.DataFrame({"c": ["a", "a", "b", "b"], "x": [2.0, 4.0, 7.0, 3.0]})
    >>> coverage(real, syn)[["column", "coverage", "missing_difference"]].round(3)
      column  coverage  missing_difference
    0      c     0.667                0.25
    1      x     0.500                0.00
    """
    real, synthetic = check_pair(real, synthetic, "the synthetic data")
    check_schema(schema, real)
    rows: list[dict[str, Any]] = []
    for name in real.columns:
        kind = column_kind(name, real[name], schema)
        if kind in (KIND_NUMERIC, KIND_DATETIME):
            xr = as_float(real[name], kind, "the real data", datetime_format(name, schema))
            xs = as_float(synthetic[name], kind, "the synthetic data",
                           datetime_format(name, schema))
            miss_r, miss_s = np.isnan(xr), np.isnan(xs)
            cov = _range_coverage(xr[~miss_r], xs[~miss_s])
        else:
            (cr, cs), _ = label_codes([real[name], synthetic[name]], kind)
            miss_r, miss_s = cr < 0, cs < 0
            real_cats = set(np.unique(cr[~miss_r]).tolist())
            syn_cats = set(np.unique(cs[~miss_s]).tolist())
            cov = len(real_cats & syn_cats) / len(real_cats) if real_cats else math.nan
        mr, ms = float(miss_r.mean()), float(miss_s.mean())
        rows.append({
            "column": str(name), "kind": kind, "coverage": cov,
            "missing_real": mr, "missing_synthetic": ms, "missing_difference": abs(ms - mr),
        })
    return pd.DataFrame(rows)


def _range_coverage(xr: FloatArray, xs: FloatArray) -> float:
    if xr.size == 0:
        return math.nan
    if xs.size == 0:
        return 0.0
    lo, hi = float(xr.min()), float(xr.max())
    slo, shi = float(xs.min()), float(xs.max())
    if hi == lo:
        return 1.0 if slo <= lo <= shi else 0.0
    overlap = max(0.0, min(hi, shi) - max(lo, slo))
    return overlap / (hi - lo)


# ---------------------------------------------------------------------------
# summary
# ---------------------------------------------------------------------------
def fidelity_summary(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    schema: Schema | None = None,
    bins: int = 20,
    max_records: int | None = 200_000,
    random_state: int = 0,
) -> dict[str, float | None]:
    """``tvd1``, ``tvd2``, ``tvd3`` and ``mean_association_difference`` in one pass.

    The tables are discretized once. ``tvd2``/``tvd3`` are None when the table
    has fewer than 2/3 columns. A table with more than ``max_records`` rows is
    replaced by a random subsample of that size (seeded by ``random_state``;
    see :func:`subsample_rows`, which callers can use to tell whether it
    happened); None uses every row.

    >>> real = pd.DataFrame({"a": ["x", "y"] * 5, "b": ["u", "v"] * 5})
    >>> fidelity_summary(real, real)
    {'tvd1': 0.0, 'tvd2': 0.0, 'tvd3': None, 'mean_association_difference': 0.0}
    """
    random_state = check_int("random_state", random_state, lo=0)
    rng = np.random.default_rng(random_state)
    real = subsample_rows(check_frame(real, "the real data"), max_records, rng)[0]
    synthetic = subsample_rows(check_frame(synthetic, "the synthetic data"), max_records, rng)[0]
    codes_r, codes_s, sizes, names = discretize_pair(real, synthetic, schema=schema, bins=bins)
    d = codes_r.shape[1]
    out: dict[str, float | None] = {}
    for way in (1, 2, 3):
        out[f"tvd{way}"] = float(_tvds(codes_r, codes_s, sizes, way)[1].mean()) \
            if d >= way else None
    out["mean_association_difference"] = _upper_mean(
        _association_difference(codes_r, codes_s, sizes, names))
    return out


__all__ = [
    "MAX_TRIPLES",
    "association_difference",
    "association_matrix",
    "coverage",
    "fidelity_summary",
    "marginal_tvd",
    "mean_association_difference",
    "tvd_table",
]

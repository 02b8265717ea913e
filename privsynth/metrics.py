"""Fidelity and utility of a synthetic table measured against the real one.

These are *evaluation* metrics for the data steward, not releases: they read
the real data directly (its quantiles, its category lists, its labels) and
spend no privacy budget. The numbers they return are aggregates (mean
distances, AUCs), but per-column tables such as :func:`tvd_table` and
:func:`coverage` still describe the real data; whoever publishes them (the
audit report) is responsible for deciding what may leave the steward's hands.

Definitions (shared with ``benchmarks/`` so numbers compare with the peers):

- Discretization (:func:`discretize_pair`): numeric columns (integer, float,
  datetime) are cut into ``bins`` = 20 bins at the *real* data's quantiles;
  the same edges are used for the synthetic data, repeated edges are merged
  and values outside the real range fall into the end bins. Categorical and
  boolean columns keep their values (union of both frames). Missing values
  are a category of their own in every column.
- ``tvd1``, ``tvd2``, ``tvd3`` (:func:`marginal_tvd`): the mean total-variation
  distance ``0.5 * sum |p - q|`` between real and synthetic 1-, 2- and 3-way
  marginals of the discretized table over all columns, pairs or triples.
  0 is perfect, 1 is disjoint.
- Association difference (:func:`association_difference`): ``|V_real - V_syn|``
  for every pair of columns, where ``V`` is Cramér's V of the discretized pair.
- TSTR (:func:`ml_efficacy`): a scikit-learn ``HistGradientBoostingClassifier``
  (categorical columns as categories, ``random_state=0``) trained on the
  synthetic data, ROC AUC on a real test split; TRTR (trained on the real
  training data) is the reference.

Example
-------
>>> real = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": [1.0, 2.0, 3.0, None]})
>>> syn = pd.DataFrame({"a": ["x", "x", "x", "y"], "b": [1.0, 2.0, 3.0, None]})
>>> marginal_tvd(real, syn, way=1)
0.125
>>> marginal_tvd(real, real, way=2)
0.0
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth._types import FloatArray, IntArray
from privsynth.columns import BooleanColumn, CategoricalColumn, Column, DatetimeColumn
from privsynth.errors import DataValidationError, ParameterError
from privsynth.schema import Schema

#: Most column subsets averaged by :func:`marginal_tvd` for ``way=3``.
MAX_TRIPLES = 500
# Above this many cells a joint marginal is counted on compressed keys
# (np.unique) rather than a dense np.bincount, to bound memory.
_DENSE_CELLS = 1 << 22
# HistGradientBoosting accepts at most this many categories per feature.
_HGB_MAX_CATEGORIES = 255

_KIND_NUMERIC = "numeric"
_KIND_DATETIME = "datetime"
_KIND_CATEGORICAL = "categorical"
_KIND_BOOLEAN = "boolean"

_TRUE_TEXT = frozenset({"true", "t", "yes", "y", "1", "1.0"})
_FALSE_TEXT = frozenset({"false", "f", "no", "n", "0", "0.0"})


# ---------------------------------------------------------------------------
# input checks and column kinds
# ---------------------------------------------------------------------------
def _check_frame(df: object, what: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    if df.shape[1] == 0:
        raise DataValidationError(f"{what} has no columns")
    if len(df) == 0:
        raise DataValidationError(f"{what} has no rows; metrics need at least one row")
    if not df.columns.is_unique:
        dup = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise DataValidationError(f"{what} has duplicated column names {dup}")
    return df


def _check_max_records(max_records: object) -> int | None:
    if max_records is None:
        return None
    if isinstance(max_records, bool) or not isinstance(max_records, int) or max_records < 1:
        raise ParameterError(f"max_records must be None or a positive integer, "
                             f"got {max_records!r}")
    return max_records


def subsample_rows(
    df: pd.DataFrame, max_records: int | None, random_state: int | np.random.Generator = 0,
) -> tuple[pd.DataFrame, bool]:
    """At most ``max_records`` rows of ``df`` drawn at random, and whether it was cut.

    Large tables are evaluated on a uniform random subsample without
    replacement (rows keep their order); tables with at most ``max_records``
    rows, or ``max_records=None``, are returned whole.

    >>> df = pd.DataFrame({"a": range(10)})
    >>> small, cut = subsample_rows(df, 4, random_state=0)
    >>> len(small), cut, subsample_rows(df, 10)[1]
    (4, True, False)
    """
    max_records = _check_max_records(max_records)
    if max_records is None or len(df) <= max_records:
        return df, False
    rng = np.random.default_rng(random_state)
    rows = np.sort(rng.choice(len(df), size=max_records, replace=False))
    return df.iloc[rows], True


def _check_same_columns(
    real: pd.DataFrame, other: pd.DataFrame, what: str, reference: str = "the real data"
) -> pd.DataFrame:
    """``other`` with the columns of ``real`` in the same order, or a precise error."""
    missing = [c for c in real.columns if c not in other.columns]
    extra = [c for c in other.columns if c not in real.columns]
    if missing or extra:
        problems: list[dict[str, object]] = [
            {"column": c, "problem": f"missing from {what}"} for c in missing
        ] + [{"column": c, "problem": f"not in {reference}"} for c in extra]
        parts = []
        if missing:
            parts.append(f"missing from {what}: {[str(c) for c in missing]}")
        if extra:
            parts.append(f"not in {reference}: {[str(c) for c in extra]}")
        raise DataValidationError(
            f"{what} and {reference} must have the same columns; " + "; ".join(parts),
            problems,
        )
    return other[list(real.columns)]


def _check_schema(schema: Schema | None, real: pd.DataFrame) -> None:
    if schema is None:
        return
    if not isinstance(schema, Schema):
        raise ParameterError(f"schema must be a privsynth Schema or None, got "
                             f"{type(schema).__name__}")
    missing = [c for c in real.columns if c not in schema.names]
    if missing:
        raise DataValidationError(
            f"column(s) {[str(c) for c in missing]} are not described in the schema; "
            "add them to the schema or drop them from the data",
            [{"column": c, "problem": "not in the schema"} for c in missing],
        )


def _kind(name: Any, real: pd.Series, schema: Schema | None) -> str:
    """The metric kind of a column: from the schema if given, else from the real dtype."""
    if schema is not None:
        col: Column = schema[name]
        if isinstance(col, DatetimeColumn):
            return _KIND_DATETIME
        if col.is_numeric:
            return _KIND_NUMERIC
        if isinstance(col, BooleanColumn):
            return _KIND_BOOLEAN
        return _KIND_CATEGORICAL
    dtype = real.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return _KIND_BOOLEAN
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _KIND_DATETIME
    if pd.api.types.is_numeric_dtype(dtype):
        return _KIND_NUMERIC
    return _KIND_CATEGORICAL


def _datetime_format(name: Any, schema: Schema | None) -> str:
    col = schema[name] if schema is not None else None
    return col.format if isinstance(col, DatetimeColumn) and col.format else "ISO8601"


def _as_float(values: pd.Series, kind: str, what: str, fmt: str = "ISO8601") -> FloatArray:
    """Numeric or datetime values as float64 with NaN for missing.

    Datetimes become seconds since the epoch. Values that cannot be read as
    numbers raise (counted, never shown), rather than silently turning into
    missing values that would flatter or punish the synthetic data.
    """
    missing_before = values.isna().to_numpy()
    if kind == _KIND_DATETIME:
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            ts = values
        else:
            ts = pd.to_datetime(values, errors="coerce", format=fmt)
        if getattr(ts.dtype, "tz", None) is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = ts.astype("datetime64[ns]")
        bad = ns.isna().to_numpy()
        out = np.full(len(values), np.nan)
        out[~bad] = ns[~bad].astype("int64").to_numpy() / 1e9
    else:
        num = values if pd.api.types.is_numeric_dtype(values.dtype) and not \
            pd.api.types.is_bool_dtype(values.dtype) else pd.to_numeric(values, errors="coerce")
        out = pd.Series(num).to_numpy(dtype="float64", na_value=np.nan)
    unreadable = int((np.isnan(out) & ~missing_before).sum())
    if unreadable:
        raise DataValidationError(
            f"column {values.name!r} of {what}: {unreadable} value(s) cannot be read as "
            f"{'datetimes' if kind == _KIND_DATETIME else 'numbers'}",
            [{"column": values.name, "problem": f"not {kind}", "rows": unreadable}],
        )
    if not np.isfinite(out[~np.isnan(out)]).all():
        n_inf = int(np.isinf(out).sum())
        raise DataValidationError(
            f"column {values.name!r} of {what}: {n_inf} infinite value(s)",
            [{"column": values.name, "problem": "infinite", "rows": n_inf}],
        )
    return out


def _label_codes(
    parts: Sequence[pd.Series], kind: str, order: Sequence[str] = ()
) -> tuple[list[IntArray], list[str]]:
    """Codes of category labels on the union of all ``parts``; -1 for missing.

    Labels are compared as text (schema categories are strings), so 1 and "1"
    are one category. ``order`` (the schema's categories) comes first, other
    labels follow sorted. One factorization of the joined values does the
    per-row work; the text conversion touches only the distinct values.
    """
    if len({str(p.dtype) for p in parts}) == 1:
        joined = pd.concat(list(parts), ignore_index=True)
    else:
        joined = pd.Series(np.concatenate([p.to_numpy(dtype=object) for p in parts]),
                           dtype=object)
    raw, uniques = pd.factorize(joined)
    texts = [str(u) for u in uniques]
    if kind == _KIND_BOOLEAN:
        # CSV-read booleans arrive as text; spell them like real booleans so
        # "true" in one frame and True in the other are the same category.
        texts = ["True" if t.lower() in _TRUE_TEXT else "False" if t.lower() in _FALSE_TEXT
                 else t for t in texts]
    cats = list(order) + sorted(set(texts) - set(order))
    position = {c: i for i, c in enumerate(cats)}
    # the extra last entry maps factorize's missing sentinel -1 to -1
    remap = np.array([position[t] for t in texts] + [-1], dtype=np.int64)
    codes = remap[raw]
    bounds = np.cumsum([0] + [len(p) for p in parts])
    return [codes[a:b] for a, b in itertools.pairwise(bounds)], cats


# ---------------------------------------------------------------------------
# discretization
# ---------------------------------------------------------------------------
def quantile_edges(values: npt.ArrayLike, bins: int = 20) -> FloatArray:
    """Deduplicated quantile edges of ``values`` (NaN ignored), ``bins`` + 1 at most.

    >>> quantile_edges([0, 0, 0, 0, 0, 0, 1, 2], bins=4).tolist()
    [0.0, 0.25, 2.0]
    """
    x = np.asarray(values, dtype="float64")
    x = x[~np.isnan(x)]
    if x.size == 0:
        return np.empty(0, dtype="float64")
    return np.unique(np.quantile(x, np.linspace(0.0, 1.0, bins + 1)))


def _bin(values: FloatArray, edges: FloatArray) -> IntArray:
    """Bin index per value; bin ``i`` is ``[edges[i], edges[i+1])``, the last closed.

    Values below the first edge go to bin 0, above the last to the last bin.
    """
    interior = edges[1:-1]
    return np.searchsorted(interior, values, side="right").astype(np.int64)


def _check_bins(bins: object) -> int:
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise ParameterError(f"bins must be a positive integer, got {bins!r}")
    return int(bins)


def discretize_pair(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    schema: Schema | None = None,
    bins: int = 20,
) -> tuple[IntArray, IntArray, list[int], list[str]]:
    """Discretize real and synthetic data on the same codes, as the metrics do.

    Numeric columns (integer, float, datetime) are cut at the real data's
    quantiles into at most ``bins`` bins (repeated edges merged, values outside
    the real range in the end bins); categorical and boolean columns keep
    their values, on the union of both frames' categories; missing values get
    a code of their own (the last) in every column that has any.

    Parameters
    ----------
    real, synthetic : DataFrame
        Same column names; ``synthetic`` is reordered to ``real``'s order.
    schema : Schema, optional
        Decides each column's kind; without it kinds come from ``real``'s dtypes
        (bool -> boolean, numbers and datetimes -> numeric, anything else ->
        categorical).
    bins : int
        Number of quantile bins for numeric columns.

    Returns
    -------
    codes_real, codes_syn : ndarray of int64, shapes (n_real, d) and (n_syn, d)
    sizes : list of int
        Number of codes of each column (codes are ``0 .. size-1``).
    names : list of str
        Column names, in the order of the code columns.

    Examples
    --------
    >>> real = pd.DataFrame({"x": [1, 2, 3, 4], "c": ["a", "b", None, "a"]})
    >>> syn = pd.DataFrame({"x": [0, 9, 2, 2], "c": ["b", "b", "z", "a"]})
    >>> cr, cs, sizes, names = discretize_pair(real, syn, bins=2)
    >>> cr.tolist(), cs.tolist(), sizes, names
    ([[0, 0], [0, 1], [1, 3], [1, 0]], [[0, 1], [1, 1], [0, 2], [0, 0]], [2, 4], ['x', 'c'])
    """
    bins = _check_bins(bins)
    real = _check_frame(real, "the real data")
    synthetic = _check_same_columns(real, _check_frame(synthetic, "the synthetic data"),
                                    "the synthetic data")
    _check_schema(schema, real)
    n_r, n_s = len(real), len(synthetic)
    d = real.shape[1]
    codes_r = np.empty((n_r, d), dtype=np.int64)
    codes_s = np.empty((n_s, d), dtype=np.int64)
    sizes: list[int] = []
    for j, name in enumerate(real.columns):
        kind = _kind(name, real[name], schema)
        if kind in (_KIND_NUMERIC, _KIND_DATETIME):
            xr = _as_float(real[name], kind, "the real data", _datetime_format(name, schema))
            xs = _as_float(synthetic[name], kind, "the synthetic data",
                           _datetime_format(name, schema))
            edges = quantile_edges(xr, bins)
            n_values = max(len(edges) - 1, 1)
            miss_r, miss_s = np.isnan(xr), np.isnan(xs)
            cr = _bin(xr, edges)
            cs = _bin(xs, edges)
        else:
            declared = schema[name] if schema is not None else None
            order = declared.categories if isinstance(declared, CategoricalColumn) else ()
            (cr, cs), cats = _label_codes([real[name], synthetic[name]], kind, order)
            miss_r, miss_s = cr < 0, cs < 0
            n_values = max(len(cats), 1)
        if miss_r.any() or miss_s.any():
            cr[miss_r] = n_values
            cs[miss_s] = n_values
            sizes.append(n_values + 1)
        else:
            sizes.append(n_values)
        codes_r[:, j] = cr
        codes_s[:, j] = cs
    return codes_r, codes_s, sizes, [str(c) for c in real.columns]


# ---------------------------------------------------------------------------
# marginals and TVD
# ---------------------------------------------------------------------------
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
    real = _check_frame(real, "the real data")
    synthetic = _check_same_columns(real, _check_frame(synthetic, "the synthetic data"),
                                    "the synthetic data")
    _check_schema(schema, real)
    rows: list[dict[str, Any]] = []
    for name in real.columns:
        kind = _kind(name, real[name], schema)
        if kind in (_KIND_NUMERIC, _KIND_DATETIME):
            xr = _as_float(real[name], kind, "the real data", _datetime_format(name, schema))
            xs = _as_float(synthetic[name], kind, "the synthetic data",
                           _datetime_format(name, schema))
            miss_r, miss_s = np.isnan(xr), np.isnan(xs)
            cov = _range_coverage(xr[~miss_r], xs[~miss_s])
        else:
            (cr, cs), _ = _label_codes([real[name], synthetic[name]], kind)
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
# machine-learning efficacy
# ---------------------------------------------------------------------------
def _hgb_features(
    frames: Sequence[pd.DataFrame],
    features: Sequence[Any],
    kinds: dict[Any, str],
    schema: Schema | None,
) -> tuple[list[pd.DataFrame], list[str]]:
    """Feature frames for HistGradientBoosting with codes that agree across frames.

    Categorical columns become pandas categoricals on the union of the
    categories of all frames (so a category has the same code in training and
    test); above the 255 categories HistGradientBoosting accepts, they fall back
    to numeric codes, which the returned notes say.
    """
    out: list[dict[str, Any]] = [{} for _ in frames]
    notes: list[str] = []
    for name in features:
        kind = kinds[name]
        if kind in (_KIND_NUMERIC, _KIND_DATETIME):
            for k, f in enumerate(frames):
                out[k][name] = _as_float(f[name], kind, "the data",
                                         _datetime_format(name, schema))
            continue
        codes_list, cats = _label_codes([f[name] for f in frames], kind)
        too_many = len(cats) > _HGB_MAX_CATEGORIES
        if too_many:
            notes.append(f"column {name!r} has {len(cats)} categories, more than "
                         f"{_HGB_MAX_CATEGORIES}; it was used as ordinal codes")
        for k, codes in enumerate(codes_list):
            if too_many:
                out[k][name] = np.where(codes < 0, np.nan, codes.astype("float64"))
            else:
                out[k][name] = pd.Categorical.from_codes(codes, categories=cats)
    return [pd.DataFrame(o, index=f.index) for o, f in zip(out, frames, strict=True)], notes


def _auc(y_true: npt.NDArray[Any], scores: FloatArray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y_true, scores))


def _fit_score(
    x_train: pd.DataFrame,
    y_train: npt.NDArray[np.object_],
    x_test: pd.DataFrame,
    y_test: npt.NDArray[np.object_],
    classes: list[str],
    positive: str | None,
    random_state: int,
) -> float | None:
    """ROC AUC on the test set of a model trained on (x_train, y_train); None if one class."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    if positive is not None:
        y_fit = y_train == positive
    else:
        y_fit = y_train
    if len(np.unique(y_fit)) < 2:
        return None
    model = HistGradientBoostingClassifier(
        categorical_features="from_dtype", random_state=random_state
    ).fit(x_train, y_fit)
    proba = model.predict_proba(x_test)
    learned = list(model.classes_)
    if positive is not None:
        return _auc(y_test == positive, proba[:, learned.index(True)])
    # macro one-vs-rest over the test classes; a class the model never saw
    # scores 0 for every row, i.e. AUC 0.5
    aucs = []
    for c in classes:
        score = proba[:, learned.index(c)] if c in learned else np.zeros(len(y_test))
        aucs.append(_auc(y_test == c, score))
    return float(np.mean(aucs))


def ml_efficacy(
    train_real: pd.DataFrame,
    synthetic: pd.DataFrame,
    test_real: pd.DataFrame,
    *,
    target: str,
    schema: Schema | None = None,
    positive: object = None,
    random_state: int = 0,
    reference: bool = True,
    n_threads: int | None = None,
    max_records: int | None = 200_000,
) -> dict[str, Any]:
    """Train on synthetic, test on real (TSTR), with train-on-real (TRTR) as reference.

    A ``HistGradientBoostingClassifier(categorical_features="from_dtype",
    random_state=random_state)`` learns ``target`` from every other column
    (categorical and boolean columns as categories on the union of all
    frames' categories, numeric and datetime columns as numbers, missing values
    left to the model) and is scored by ROC AUC on ``test_real``. Rows with a
    missing target are dropped.

    The target is binary when ``positive`` is given (that class against the
    rest) or when ``test_real`` has exactly two classes; the positive class is
    then the rarer one in ``test_real`` (ties: the later in sorted order). With
    more classes the score is the macro average of one-vs-rest AUCs over the
    classes of ``test_real``. Target values are compared as text.

    Parameters
    ----------
    train_real, synthetic, test_real : DataFrame
        Same columns (``synthetic`` and ``test_real`` are reordered to
        ``train_real``'s order).
    target : str
        The column to predict.
    schema : Schema, optional
        Column kinds; inferred from ``train_real``'s dtypes when omitted.
    positive : object, optional
        The positive class of a binary task.
    random_state : int
        Seed of the classifier (its early-stopping split).
    reference : bool
        Also fit on ``train_real`` (TRTR); ``trtr_auc`` is None when False.
    n_threads : int, optional
        Cap on the classifier's OpenMP threads (via threadpoolctl) during this
        call; None leaves scikit-learn's default. On a small busy machine 1 is
        often several times faster than oversubscribed threads; the scores do
        not depend on it.
    max_records : int or None
        Each of the three frames with more rows is replaced by a random
        subsample of ``max_records`` rows (seeded by ``random_state``), so large
        data sets are evaluated in bounded time; None uses every row.

    Returns
    -------
    dict
        ``target``, ``positive`` (None for multi-class), ``tstr_auc``,
        ``trtr_auc``, ``n_train_synthetic``, ``n_test``, ``subsampled`` (True
        when some frame was cut to ``max_records`` rows); plus ``note`` when a
        training set had a single class (its AUC is then 0.5, chance), a
        column had too many categories, or the frames were subsampled.
    """
    train_real = _check_frame(train_real, "the real training data")
    synthetic = _check_same_columns(
        train_real, _check_frame(synthetic, "the synthetic data"),
        "the synthetic data", "the real training data")
    test_real = _check_same_columns(
        train_real, _check_frame(test_real, "the real test data"),
        "the real test data", "the real training data")
    _check_schema(schema, train_real)
    if target not in train_real.columns:
        raise DataValidationError(
            f"target column {target!r} is not in the data; columns are "
            f"{[str(c) for c in train_real.columns]}"
        )
    if isinstance(random_state, bool) or not isinstance(random_state, int) or random_state < 0:
        raise ParameterError(f"random_state must be a non-negative integer, got {random_state!r}")
    if n_threads is not None and (isinstance(n_threads, bool) or not isinstance(n_threads, int)
                                  or n_threads < 1):
        raise ParameterError(f"n_threads must be None or a positive integer, got {n_threads!r}")
    cut_rng = np.random.default_rng(random_state)
    cut = [subsample_rows(f, max_records, cut_rng) for f in (train_real, synthetic, test_real)]
    (train_real, _), (synthetic, _), (test_real, _) = cut
    subsampled = any(c for _, c in cut)
    kinds = {c: _kind(c, train_real[c], schema) for c in train_real.columns}
    target_kind = kinds[target] if kinds[target] == _KIND_BOOLEAN else _KIND_CATEGORICAL

    parts = (synthetic, test_real, train_real)
    target_codes, target_cats = _label_codes([f[target] for f in parts], target_kind)
    labels_all = np.array([*target_cats, ""], dtype=object)  # "" never used: -1 is dropped
    frames = [f.loc[c >= 0] for f, c in zip(parts, target_codes, strict=True)]
    y_syn, y_test, y_train = (labels_all[c[c >= 0]] for c in target_codes)
    if len(y_test) == 0 or len(y_syn) == 0:
        which = "the real test data" if len(y_test) == 0 else "the synthetic data"
        raise DataValidationError(f"{which} has no row with a value of target {target!r}")
    classes = sorted(set(y_test.tolist()))
    if len(classes) < 2:
        raise DataValidationError(
            f"the real test data has a single class of target {target!r}; "
            "ROC AUC needs at least two"
        )
    pos: str | None
    if positive is not None:
        pos = str(positive)
        if pos not in classes:
            raise ParameterError(
                f"positive class {pos!r} does not occur in the real test data's {target!r}"
            )
    elif len(classes) == 2:
        counts = {c: int((y_test == c).sum()) for c in classes}
        pos = min(reversed(classes), key=lambda c: counts[c])
    else:
        pos = None

    features = [c for c in train_real.columns if c != target]
    notes: list[str] = []
    if features:
        (x_syn, x_test, x_train), notes = _hgb_features(frames, features, kinds, schema)
    else:
        # no features: every model is constant, which the AUC of 0.5 reflects
        x_syn, x_test, x_train = (pd.DataFrame({"_const": np.zeros(len(f))}) for f in frames)

    # scikit-learn's OpenMP runtime must be loaded before threadpoolctl can cap it
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_threads, user_api="openmp"):
        tstr = _fit_score(x_syn, y_syn, x_test, y_test, classes, pos, random_state)
        trtr: float | None = None
        if reference:
            trtr = _fit_score(x_train, y_train, x_test, y_test, classes, pos, random_state)
    if tstr is None:
        notes.append("the synthetic data has a single class of the target; TSTR AUC set to 0.5")
        tstr = 0.5
    if reference and trtr is None:
        notes.append("the real training data has a single class of the target; "
                     "TRTR AUC set to 0.5")
        trtr = 0.5
    out: dict[str, Any] = {
        "target": target,
        "positive": pos,
        "tstr_auc": float(tstr),
        "trtr_auc": trtr,
        "n_train_synthetic": len(y_syn),
        "n_test": len(y_test),
        "subsampled": subsampled,
    }
    if subsampled:
        notes.append(f"evaluated on random subsamples of at most {max_records} rows per table")
    if notes:
        out["note"] = "; ".join(notes)
    return out


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
    if isinstance(random_state, bool) or not isinstance(random_state, int) or random_state < 0:
        raise ParameterError(f"random_state must be a non-negative integer, got {random_state!r}")
    rng = np.random.default_rng(random_state)
    real = subsample_rows(_check_frame(real, "the real data"), max_records, rng)[0]
    synthetic = subsample_rows(_check_frame(synthetic, "the synthetic data"), max_records, rng)[0]
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
    "discretize_pair",
    "fidelity_summary",
    "marginal_tvd",
    "mean_association_difference",
    "ml_efficacy",
    "quantile_edges",
    "subsample_rows",
    "tvd_table",
]

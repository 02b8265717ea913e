"""Real and synthetic tables on shared discrete codes, as every fidelity metric counts them.

Numeric columns (integer, float, datetime) are cut into ``bins`` = 20 bins at
the *real* data's quantiles; the same edges are used for the synthetic data,
repeated edges are merged and values outside the real range fall into the end
bins. Categorical and boolean columns keep their values (union of both
frames). Missing values are a category of their own in every column.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth._checks import check_int
from privsynth._types import FloatArray, IntArray
from privsynth.columns import CategoricalColumn
from privsynth.metrics._inputs import (
    KIND_DATETIME,
    KIND_NUMERIC,
    as_float,
    check_pair,
    check_schema,
    column_kind,
    datetime_format,
    label_codes,
)
from privsynth.schema import Schema


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
    bins = check_int("bins", bins, lo=1)
    real, synthetic = check_pair(real, synthetic, "the synthetic data")
    check_schema(schema, real)
    n_r, n_s = len(real), len(synthetic)
    d = real.shape[1]
    codes_r = np.empty((n_r, d), dtype=np.int64)
    codes_s = np.empty((n_s, d), dtype=np.int64)
    sizes: list[int] = []
    for j, name in enumerate(real.columns):
        kind = column_kind(name, real[name], schema)
        if kind in (KIND_NUMERIC, KIND_DATETIME):
            xr = as_float(real[name], kind, "the real data", datetime_format(name, schema))
            xs = as_float(synthetic[name], kind, "the synthetic data",
                           datetime_format(name, schema))
            edges = quantile_edges(xr, bins)
            n_values = max(len(edges) - 1, 1)
            miss_r, miss_s = np.isnan(xr), np.isnan(xs)
            cr = _bin(xr, edges)
            cs = _bin(xs, edges)
        else:
            declared = schema[name] if schema is not None else None
            order = declared.categories if isinstance(declared, CategoricalColumn) else ()
            (cr, cs), cats = label_codes([real[name], synthetic[name]], kind, order)
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


__all__ = ["discretize_pair", "quantile_edges"]

"""The marginal figures: real and synthetic shares on the schema's *public* bins only.

Bins come from the schema (its categories, equal-width bins between its
bounds), never from quantiles of the data; real shares are coarsened so that a
share times a (noisy) row count does not give back an exact cell count.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from privsynth.columns import (
    BooleanColumn,
    CategoricalColumn,
    Column,
    DatetimeColumn,
    FloatColumn,
    IntegerColumn,
)
from privsynth.errors import ParameterError
from privsynth.report._values import rounded

#: Most bins drawn for one marginal (more categories are merged into "other").
MAX_BARS = 24
#: Equal-width public bins of a numeric column in the marginal figures.
NUMERIC_BINS = 20
#: Decimals of the shares of real data shown in the marginal figures: coarse enough that
#: a share times a (noisy) row count does not give back an exact cell count.
REAL_SHARE_DECIMALS = 2


def public_bins(col: Column, values: pd.Series) -> tuple[list[str], np.ndarray]:
    """Labels of the column's public bins and each value's bin (-1 for missing).

    Bins come from the schema only: its categories, or equal-width bins between
    its bounds (one per integer when there are at most ``NUMERIC_BINS``).
    """
    miss = values.isna().to_numpy()
    codes = np.full(len(values), -1, dtype=np.int64)
    if isinstance(col, CategoricalColumn):
        labels = list(col.categories)
        cat = pd.Categorical(values.astype(object).where(~values.isna(), None),
                             categories=labels)
        codes = np.asarray(cat.codes, dtype=np.int64)
        return labels, codes
    if isinstance(col, BooleanColumn):
        present = values[~miss].astype(bool).to_numpy()
        codes[~miss] = present.astype(np.int64)
        return ["False", "True"], codes
    if isinstance(col, DatetimeColumn):
        x = col.to_units(values).to_numpy(dtype="float64")
        lo, hi = float(col.unit_lower), float(col.unit_upper) + 1.0
        k = int(min(NUMERIC_BINS, max(hi - lo, 1)))
        edges = np.linspace(lo, hi, k + 1)
        stamps = col.from_units(edges)
        fmt = "%Y-%m-%d" if col.resolution == "D" or (hi - lo) > k * 2 else "%Y-%m-%d %H:%M"
        labels = [f"{stamps.iloc[i].strftime(fmt)}" for i in range(k)]
    elif isinstance(col, IntegerColumn):
        x = values.to_numpy(dtype="float64", na_value=np.nan)
        lo, hi = float(col.lower), float(col.upper) + 1.0
        k = int(min(NUMERIC_BINS, hi - lo))
        edges = np.linspace(lo, hi, k + 1)
        starts = np.ceil(edges - 1e-9).astype(np.int64)
        labels = [str(starts[i]) if starts[i + 1] - starts[i] <= 1
                  else f"{starts[i]}–{starts[i + 1] - 1}" for i in range(k)]
    elif isinstance(col, FloatColumn):
        x = values.to_numpy(dtype="float64", na_value=np.nan)
        lo, hi = float(col.lower), float(col.upper)
        k = NUMERIC_BINS if hi > lo else 1
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, k + 1)
        labels = [f"{edges[i]:.3g}–{edges[i + 1]:.3g}" for i in range(k)]
    else:  # pragma: no cover - a new column kind must be added here
        raise ParameterError(f"column {col.name!r}: kind {col.kind!r} is not supported")
    inner = edges[1:-1]
    codes[~miss] = np.searchsorted(inner, x[~miss], side="right")
    return labels, codes


def marginal(col: Column, real: pd.Series, synthetic: pd.Series) -> dict[str, Any]:
    """Shares of real and synthetic values in the column's public bins (one figure)."""
    labels, cr = public_bins(col, real)
    _, cs = public_bins(col, synthetic)
    k = len(labels)
    has_missing = col.nullable
    size = k + 1 if has_missing else k
    pr = np.bincount(np.where(cr < 0, k, cr), minlength=size)[:size] / max(len(cr), 1)
    ps = np.bincount(np.where(cs < 0, k, cs), minlength=size)[:size] / max(len(cs), 1)
    if has_missing:
        labels = [*labels, "missing"]
    if len(labels) > MAX_BARS:
        # keep the bins that matter most, in schema order; merge the rest
        keep = np.sort(np.argsort(-np.maximum(pr, ps), kind="stable")[: MAX_BARS - 1])
        rest = np.setdiff1d(np.arange(len(labels)), keep)
        labels = [labels[i] for i in keep] + [f"other ({len(rest)} bins)"]
        pr = np.append(pr[keep], pr[rest].sum())
        ps = np.append(ps[keep], ps[rest].sum())
    return {"column": col.name, "kind": col.kind, "labels": labels,
            "real": [rounded(v, REAL_SHARE_DECIMALS) for v in pr],
            "synthetic": [rounded(v, 4) for v in ps]}

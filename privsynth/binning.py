"""Binning: table values to integer codes on public bins, and back (the Discretizer).

The bins depend only on the public schema (and a bin-count parameter), never
on the data, so encoding leaks nothing and a model file can rebuild its
discretizer from the schema alone.

Per column kind (``m`` = ``max_bins``):

- categorical: one code per category, in schema order;
- boolean: 0 = False, 1 = True;
- integer / datetime: one code per value when the range has at most ``m``
  values; otherwise a point bin for the lower bound (zero-inflated columns such
  as capital gains are common) and ``m - 1`` equal-width integer bins;
- float: a point bin for the lower bound and ``m - 1`` equal-width bins;
- nullable columns get one more code, the last, for missing;
- identifier columns (kind ``id``) are skipped: they are never modelled, and
  ``Discretizer.schema`` holds the modelled columns only.

Decoding spreads values uniformly within their bin (post-processing).

>>> from privsynth.schema import Schema
>>> s = Schema.from_dict({"columns": [
...     {"name": "n", "kind": "integer", "lower": 0, "upper": 9},
...     {"name": "c", "kind": "categorical", "categories": ["a", "b"], "nullable": True}]})
>>> d = Discretizer(s, max_bins=5)
>>> d.sizes
(5, 3)
>>> d.encode(pd.DataFrame({"n": [0, 1, 9], "c": ["b", None, "a"]})).tolist()
[[0, 1], [1, 2], [4, 0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from privsynth._checks import check_int
from privsynth._types import BoolArray, FloatArray, IntArray
from privsynth.columns import (
    BooleanColumn,
    CategoricalColumn,
    Column,
    DatetimeColumn,
    FloatColumn,
    IntegerColumn,
)
from privsynth.errors import DataValidationError, ParameterError
from privsynth.schema import Schema


@dataclass(frozen=True)
class ColumnBins:
    """The public bins of one column.

    For numeric columns ``edges`` has one entry more than the value bins:
    value bin ``i`` holds ``[edges[i], edges[i+1])`` (the last is closed);
    for integer-like columns the edges are whole numbers and bin ``i`` holds the
    integers ``edges[i] .. edges[i+1]-1``. A point bin has ``edges[i+1] = edges[i]``
    (+1 for integers).
    """

    column: Column
    edges: tuple[float, ...] = ()
    integral: bool = False

    @property
    def n_values(self) -> int:
        """Number of codes for values (excluding missing)."""
        c = self.column
        if isinstance(c, CategoricalColumn):
            return c.size
        if isinstance(c, BooleanColumn):
            return 2
        return len(self.edges) - 1

    @property
    def size(self) -> int:
        """Number of codes including the missing code."""
        return self.n_values + (1 if self.column.nullable else 0)

    @property
    def missing_code(self) -> int | None:
        return self.n_values if self.column.nullable else None


def _numeric_edges(lo: float, hi: float, max_bins: int, integral: bool) -> tuple[float, ...]:
    if integral:
        lo_i, hi_i = int(lo), int(hi)
        n_vals = hi_i - lo_i + 1
        if n_vals <= max_bins:
            return tuple(float(v) for v in range(lo_i, hi_i + 2))
        # point bin {lo}, then equal-width integer bins over [lo+1, hi]
        inner = np.unique(np.floor(np.linspace(lo_i + 1, hi_i + 1, max_bins)).astype(np.int64))
        return (float(lo_i), *(float(v) for v in inner))
    if hi == lo:
        return (lo, hi)
    edges = np.linspace(lo, hi, max_bins)
    # point bin [lo, lo] then (lo, hi] cut in equal widths
    return (lo, *(float(v) for v in edges))


def column_bins(column: Column, max_bins: int) -> ColumnBins:
    """The public bins of ``column``."""
    if isinstance(column, CategoricalColumn | BooleanColumn):
        return ColumnBins(column)
    if isinstance(column, IntegerColumn):
        return ColumnBins(column, _numeric_edges(column.lower, column.upper, max_bins, True), True)
    if isinstance(column, DatetimeColumn):
        edges = _numeric_edges(column.unit_lower, column.unit_upper, max_bins, True)
        return ColumnBins(column, edges, True)
    if isinstance(column, FloatColumn):
        return ColumnBins(column, _numeric_edges(column.lower, column.upper, max_bins, False))
    raise ParameterError(f"unsupported column kind {column.kind!r}")


def finish_numeric(c: Column, x: FloatArray, missing: BoolArray | None) -> pd.Series:
    """Decoded numeric values as the column's output dtype: rounded to the float
    column's decimals and kept in its bounds, missing where ``missing``."""
    if isinstance(c, FloatColumn):
        if c.decimals is not None:
            x = np.round(x, c.decimals)
        x = np.clip(x, c.lower, c.upper)
    if missing is not None:
        x = np.where(missing, np.nan, x)
    if isinstance(c, DatetimeColumn):
        return c.from_units(pd.Series(x)).rename(c.name)
    if isinstance(c, IntegerColumn):
        s = pd.Series(x, name=c.name)
        return s.astype("Int64") if c.nullable else s.astype(np.int64)
    return pd.Series(x, name=c.name, dtype=np.float64)


class Discretizer:
    """Encode a validated DataFrame to integer codes on public bins, and decode back.

    Parameters
    ----------
    schema : Schema
        The public schema; the bins are a function of it alone. Identifier
        columns are skipped (``self.schema`` is ``schema.without_ids()``).
    max_bins : int, default 128
        Most codes for one numeric column (excluding missing).
    """

    def __init__(self, schema: Schema, max_bins: int = 128) -> None:
        check_int("max_bins", max_bins, lo=2, where="Discretizer")
        self.schema = schema.without_ids()
        self.max_bins = max_bins
        self.bins = tuple(column_bins(c, max_bins) for c in schema.columns)

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(b.size for b in self.bins)

    def encode_column(self, bins: ColumnBins, values: pd.Series) -> IntArray:
        c = bins.column
        missing = values.isna().to_numpy()
        codes = np.zeros(len(values), dtype=np.int64)
        if isinstance(c, CategoricalColumn):
            # -1 for missing and for values not among the categories
            codes = pd.Index(c.categories, dtype=object).get_indexer(
                values.astype("object")).astype(np.int64)
            bad = (codes < 0) & ~missing
        elif isinstance(c, BooleanColumn):
            present = ~missing
            codes[present] = values[present].astype(bool).to_numpy().astype(np.int64)
            bad = np.zeros(len(values), dtype=bool)
        else:
            x = (c.to_units(values) if isinstance(c, DatetimeColumn) else values)
            xv = pd.to_numeric(x, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            edges = np.asarray(bins.edges, dtype=np.float64)
            if bins.integral:
                # bin i holds integers edges[i] .. edges[i+1]-1
                idx = np.searchsorted(edges, xv, side="right") - 1
            else:
                # point bin [lo, lo] is code 0; (e_i, e_{i+1}] afterwards
                idx = np.searchsorted(edges[1:], xv, side="left")
            n_val = bins.n_values
            top = edges[-1] - 1 if bins.integral else edges[-1]
            bad = ~missing & (~np.isfinite(xv) | (xv < edges[0]) | (xv > top))
            idx = np.clip(idx, 0, n_val - 1)
            codes = np.where(np.isfinite(xv), idx, 0).astype(np.int64)
        if bad.any():
            raise DataValidationError(
                f"column {c.name!r}: {int(bad.sum())} value(s) outside the schema's domain; "
                "validate the data against the schema first (privsynth.validate)",
                [{"column": c.name, "problem": "out of domain", "rows": int(bad.sum())}],
            )
        if missing.any():
            if bins.missing_code is None:
                raise DataValidationError(
                    f"column {c.name!r}: {int(missing.sum())} missing value(s) but the schema "
                    "says the column is not nullable",
                    [{"column": c.name, "problem": "missing values", "rows": int(missing.sum())}],
                )
            codes[missing] = bins.missing_code
        return codes

    def encode(self, df: pd.DataFrame) -> IntArray:
        """Codes of shape (n_rows, n_columns), column order of the schema."""
        missing = [n for n in self.schema.names if n not in df.columns]
        if missing:
            raise DataValidationError(f"the data lacks schema column(s) {missing}",
                                      [{"column": m, "problem": "missing column"} for m in missing])
        out = np.empty((len(df), len(self.bins)), dtype=np.int64)
        for j, b in enumerate(self.bins):
            out[:, j] = self.encode_column(b, df[b.column.name])
        return out

    def decode_column(self, bins: ColumnBins, codes: IntArray, rng: np.random.Generator
                      ) -> pd.Series:
        c = bins.column
        codes = np.asarray(codes, dtype=np.int64)
        missing = codes == bins.missing_code if bins.missing_code is not None else None
        if isinstance(c, CategoricalColumn):
            cats = np.asarray(c.categories, dtype=object)
            vals = cats[np.clip(codes, 0, c.size - 1)]
            if missing is not None:
                vals = vals.copy()
                vals[missing] = None
            return pd.Series(vals, name=c.name, dtype="object")
        if isinstance(c, BooleanColumn):
            s = pd.Series(codes == 1, name=c.name, dtype="boolean")
            if missing is not None:
                s[missing] = pd.NA
            return s
        edges = np.asarray(bins.edges, dtype=np.float64)
        k = np.clip(codes, 0, bins.n_values - 1)
        lo, hi = edges[k], edges[k + 1]
        if bins.integral:
            # uniform integer in [lo, hi - 1] (a point bin has hi = lo + 1)
            width = np.maximum(hi - lo, 1.0)
            x = lo + np.floor(rng.random(len(k)) * width)
        else:
            point = k == 0
            x = np.where(point, lo, lo + rng.random(len(k)) * (hi - lo))
            x = np.where(point | (x > lo), x, hi)  # (lo, hi]: avoid the excluded lower edge
        return finish_numeric(c, x, missing)

    def decode(self, codes: IntArray, rng: np.random.Generator) -> pd.DataFrame:
        """A DataFrame with the schema's columns from codes of shape (n_rows, n_columns)."""
        cols = {b.column.name: self.decode_column(b, codes[:, j], rng)
                for j, b in enumerate(self.bins)}
        return pd.DataFrame(cols)

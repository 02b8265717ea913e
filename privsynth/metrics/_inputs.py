"""Input checks, column kinds and value readers shared by the metrics (internal).

Every metric reads the real and the synthetic table the same way: both must be
non-empty DataFrames with the same column names; a column's *kind* (numeric,
datetime, categorical, boolean) comes from the schema when one is given, else
from the real data's dtype; numeric and datetime values become float64 with
NaN for missing, category labels become shared integer codes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from privsynth._checks import check_columns, check_frame, check_int, parse_bool
from privsynth._types import FloatArray, IntArray
from privsynth.columns import BooleanColumn, Column, DatetimeColumn
from privsynth.errors import DataValidationError, ParameterError
from privsynth.schema import Schema

KIND_NUMERIC = "numeric"
KIND_DATETIME = "datetime"
KIND_CATEGORICAL = "categorical"
KIND_BOOLEAN = "boolean"


def check_pair(real: object, other: object, what: str,
               reference: str = "the real data") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables checked, ``other`` reordered to ``real``'s columns.

    >>> a = pd.DataFrame({"x": [1], "y": [2]})
    >>> list(check_pair(a, a[["y", "x"]], "the synthetic data")[1].columns)
    ['x', 'y']
    """
    real_df = check_frame(real, reference)
    other_df = check_frame(other, what)
    check_columns(other_df.columns, list(real_df.columns), what=what, reference=reference)
    return real_df, other_df[list(real_df.columns)]


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
    max_records = check_int("max_records", max_records, lo=1, none_ok=True)
    if max_records is None or len(df) <= max_records:
        return df, False
    rng = np.random.default_rng(random_state)
    rows = np.sort(rng.choice(len(df), size=max_records, replace=False))
    return df.iloc[rows], True


def check_schema(schema: Schema | None, real: pd.DataFrame) -> None:
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


def column_kind(name: Any, real: pd.Series, schema: Schema | None) -> str:
    """The metric kind of a column: from the schema if given, else from the real dtype."""
    if schema is not None:
        col: Column = schema[name]
        if isinstance(col, DatetimeColumn):
            return KIND_DATETIME
        if col.is_numeric:
            return KIND_NUMERIC
        if isinstance(col, BooleanColumn):
            return KIND_BOOLEAN
        return KIND_CATEGORICAL
    dtype = real.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return KIND_BOOLEAN
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return KIND_DATETIME
    if pd.api.types.is_numeric_dtype(dtype):
        return KIND_NUMERIC
    return KIND_CATEGORICAL


def datetime_format(name: Any, schema: Schema | None) -> str:
    col = schema[name] if schema is not None else None
    return col.format if isinstance(col, DatetimeColumn) and col.format else "ISO8601"


def as_float(values: pd.Series, kind: str, what: str, fmt: str = "ISO8601") -> FloatArray:
    """Numeric or datetime values as float64 with NaN for missing.

    Datetimes become seconds since the epoch. Values that cannot be read as
    numbers raise (counted, never shown), rather than silently turning into
    missing values that would flatter or punish the synthetic data.
    """
    missing_before = values.isna().to_numpy()
    if kind == KIND_DATETIME:
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
            f"{'datetimes' if kind == KIND_DATETIME else 'numbers'}",
            [{"column": values.name, "problem": f"not {kind}", "rows": unreadable}],
        )
    if not np.isfinite(out[~np.isnan(out)]).all():
        n_inf = int(np.isinf(out).sum())
        raise DataValidationError(
            f"column {values.name!r} of {what}: {n_inf} infinite value(s)",
            [{"column": values.name, "problem": "infinite", "rows": n_inf}],
        )
    return out


def label_codes(
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
    if kind == KIND_BOOLEAN:
        # CSV-read booleans arrive as text; spell them like real booleans so
        # "true" in one frame and True in the other are the same category.
        texts = [_bool_text(t) for t in texts]
    cats = list(order) + sorted(set(texts) - set(order))
    position = {c: i for i, c in enumerate(cats)}
    # the extra last entry maps factorize's missing sentinel -1 to -1
    remap = np.array([position[t] for t in texts] + [-1], dtype=np.int64)
    codes = remap[raw]
    bounds = np.cumsum([0] + [len(p) for p in parts])
    return [codes[a:b] for a, b in itertools.pairwise(bounds)], cats


def _bool_text(text: str) -> str:
    """A boolean label read as text spelled like a real boolean; other labels unchanged.

    The true/false words are the package's one list (:func:`privsynth._checks.parse_bool`);
    numbers 1 and 0 in any spelling ("1.0" from a float column) count too.
    """
    value = parse_bool(text)
    if value is None:
        try:
            number = float(text)
        except ValueError:
            return text
        value = True if number == 1 else False if number == 0 else None
    return text if value is None else str(value)


__all__ = [
    "KIND_BOOLEAN",
    "KIND_CATEGORICAL",
    "KIND_DATETIME",
    "KIND_NUMERIC",
    "as_float",
    "check_pair",
    "check_schema",
    "column_kind",
    "datetime_format",
    "label_codes",
    "subsample_rows",
]

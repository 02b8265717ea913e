"""Schema inference: a schema's domains estimated from the data, with DP or without.

A schema's domains (numeric bounds, category lists) reach every output of
privsynth, so reading them from the private data would leak it: the maximum
age *is* somebody's age, and a category held by one person names that person.
This is the one module that reads domains from data:

- :func:`infer_dp` estimates them with DP mechanisms charged to an accountant:
  numeric bounds (integer, float, datetime) are DP quantiles (exponential
  mechanism) at 0.5 % and 99.5 % on a public grid over a *public coarse range*
  that the caller must supply, widened outward by one grid step; category
  lists come from a thresholded histogram with discrete Laplace noise (a value
  held by few records is released only with a tiny probability delta);
  boolean columns need nothing and cost nothing. Every column is declared
  nullable, because "this column has missing values" read from the data would
  itself be a release. The plan (which mechanism, which epsilon) is made from
  public information first (:mod:`privsynth._infer_plan`) and checked against
  the budget before any data is read.
- :func:`infer_unsafe` reads them *without* DP, for exploration only: the
  schema is marked ``source="data (not DP)"``, a
  :class:`~privsynth.errors.PrivacyWarning` is emitted and every report says
  the release is not end-to-end DP.

Both used to be ``Schema.infer_dp`` / ``Schema.infer_unsafe``; they are
functions here because they sit above the schema, the accountant and the
mechanisms in the stack of layers (the schema imports nothing above it).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from privsynth import mechanisms
from privsynth._checks import check_int
from privsynth._infer_plan import (
    DEFAULT_GRID_SIZE,
    DEFAULT_QUANTILES,
    ColumnPlan,
    check_parameters,
    plan_columns,
    public_grid,
)
from privsynth._types import FloatArray
from privsynth.accounting import Accountant
from privsynth.columns import (
    BooleanColumn,
    CategoricalColumn,
    Column,
    DatetimeColumn,
    FloatColumn,
    IntegerColumn,
)
from privsynth.errors import DataValidationError, ParameterError, PrivacyWarning, SchemaError
from privsynth.schema import SOURCE_DP, SOURCE_UNSAFE, Schema
from privsynth.validation import check_missing_values, is_text_like, parse_numbers, text_view


# --------------------------------------------------------------------------
# DP inference
# --------------------------------------------------------------------------
def infer_dp(
    df: pd.DataFrame,
    *,
    epsilon: float,
    accountant: Accountant,
    coarse: Mapping[str, object] | None = None,
    delta_categories: float | None = None,
    kinds: Mapping[str, str] | None = None,
    max_categories: int = 200,
    noise: mechanisms.Noise | None = None,
    quantiles: tuple[float, float] = DEFAULT_QUANTILES,
    grid_size: int = DEFAULT_GRID_SIZE,
) -> Schema:
    """Estimate a schema from private data with differential privacy.

    Parameters
    ----------
    df : pandas.DataFrame
        The private table, one record per row.
    epsilon : float
        Epsilon spent in total, split equally over the columns that need an
        estimate (numeric and categorical; boolean columns cost nothing). A
        numeric column's share is split equally over its two quantiles.
    accountant : Accountant
        Charged through the mechanisms. The whole plan is checked first, so a
        request that does not fit raises before any data is read.
    coarse : mapping, optional
        A public coarse range for every integer, float and datetime column:
        ``{"age": (0, 150), "when": ("2000-01-01", "2030-12-31")}``. Datetime
        ranges are ISO strings, optionally followed by a resolution
        (``"s"``, ``"min"``, ``"h"``, ``"D"``; default ``"D"`` when both
        bounds are dates, else ``"s"``). They must be known without looking
        at the data (legal, physical or documented limits).
    delta_categories : float, optional
        Total delta for category discovery, split equally over the
        categorical columns. Default: half of ``accountant.delta``.
    kinds : mapping, optional
        Column kinds (``categorical``, ``integer``, ``float``, ``datetime``,
        ``boolean``) for some or all columns; the others are inferred from
        the dtypes, which are treated as public.
    max_categories : int, default 200
        At most this many categories per column are kept (those with the
        largest noisy counts).
    noise : Noise, optional
        Source of privacy noise; fresh OS randomness by default.
    quantiles : (float, float), default (0.005, 0.995)
        Quantiles whose DP estimates become the lower and upper bounds.
    grid_size : int, default 1000
        Size of the public grid over each coarse range. When the range is
        non-negative and its upper end is at least 1000 times
        ``max(lower, 1)``, half of the points are spaced geometrically.

    Returns
    -------
    Schema
        With ``source="dp"``; every column nullable; categories sorted.

    Raises
    ------
    SchemaError
        A numeric column has no coarse range, or no category of a column
        was frequent enough to be released.
    BudgetExceededError
        The plan does not fit the budget, or categories must be discovered
        but the accountant's delta is 0. Nothing is drawn or recorded.

    Examples
    --------
    >>> import pandas as pd
    >>> from privsynth.accounting import Accountant
    >>> df = pd.DataFrame({"age": [20 + i % 50 for i in range(2000)],
    ...                    "sex": ["F", "M"] * 1000})
    >>> acct = Accountant(epsilon=1.0, delta=1e-6)
    >>> s = infer_dp(df, epsilon=1.0, accountant=acct, coarse={"age": (0, 150)})
    >>> s.source, s["sex"].categories, s["age"].kind
    ('dp', ('F', 'M'), 'integer')
    >>> 0 <= s["age"].lower <= 21 and 68 <= s["age"].upper <= 150
    True
    >>> round(sum(e.event.epsilon for e in acct.ledger), 12)
    1.0
    """
    kind_of = _kinds_of_frame(df, kinds or {})
    check_parameters(accountant=accountant, max_categories=max_categories,
                     grid_size=grid_size, quantiles=quantiles)
    plans = plan_columns(kind_of, epsilon=epsilon, accountant=accountant, coarse=coarse or {},
                         delta_categories=delta_categories)
    events = [e for p in plans for e in p.events()]
    if events:
        accountant.check(events, label="infer_dp")

    # Read and validate all the data before the first draw, so that a data
    # problem cannot leave the budget half spent.
    data = {p.name: _prepare(df[p.name], p) for p in plans if p.kind != "boolean"}

    columns: list[Column] = []
    empty: list[str] = []
    for p in plans:
        if p.kind == "boolean":
            columns.append(BooleanColumn(p.name, nullable=True))
        elif p.kind == "categorical":
            counts = data[p.name]
            assert isinstance(counts, dict)
            found = mechanisms.thresholded_histogram(
                counts, epsilon=p.epsilon, threshold=p.threshold, accountant=accountant,
                label=f"infer_dp/{p.name}/categories", noise=noise)
            if not found:
                empty.append(p.name)
                continue
            keep = sorted(found, key=lambda k: (-found[k], k))[:max_categories]
            columns.append(CategoricalColumn(p.name, nullable=True, categories=tuple(sorted(keep))))
        else:
            values = data[p.name]
            assert isinstance(values, np.ndarray)
            columns.append(_numeric_column(p, values, accountant, noise, quantiles, grid_size))
    if empty:
        raise SchemaError(
            f"no category of column(s) {empty} is held by enough records to be released "
            "at this epsilon and delta (the budget for it has been spent). Give their "
            "categories in a public schema, or use a larger epsilon or delta_categories."
        )
    return Schema(tuple(columns), source=SOURCE_DP)


def _kind_from_dtype(series: pd.Series) -> str:
    dt = series.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "boolean"
    if pd.api.types.is_integer_dtype(dt):
        return "integer"
    if pd.api.types.is_float_dtype(dt):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "datetime"
    return "categorical"


def _kinds_of_frame(df: object, kinds: Mapping[str, str]) -> dict[str, str]:
    """Column name -> kind: ``kinds`` where given, else from the dtype (public)."""
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"infer_dp: df must be a pandas DataFrame, got {type(df).__name__}")
    if df.shape[1] == 0:
        raise SchemaError("infer_dp: the table has no columns")
    bad_names = [c for c in df.columns if not isinstance(c, str) or not c]
    if bad_names:
        raise SchemaError(f"infer_dp: column names must be non-empty strings, got {bad_names}")
    if len(set(df.columns)) != df.shape[1]:
        raise SchemaError("infer_dp: the table has duplicated column names")
    unknown = sorted(set(kinds) - set(df.columns))
    if unknown:
        raise SchemaError(f"infer_dp: kinds names column(s) {unknown} not in the table")
    return {name: kinds.get(name) or _kind_from_dtype(df[name]) for name in df.columns}


def _prepare(series: pd.Series, plan: ColumnPlan) -> FloatArray | dict[str, int]:
    """The values each mechanism needs; errors name the column and counts only."""
    if plan.kind == "categorical":
        present = series[series.notna()]
        counts = present.astype(str).value_counts()
        return {str(k): int(v) for k, v in counts.items()}
    if plan.kind == "datetime":
        parsed = pd.to_datetime(series, errors="coerce")
        bad = int((parsed.isna() & series.notna()).sum())
        if bad:
            raise DataValidationError(
                f"column {plan.name!r}: {bad} value(s) are not dates or times",
                problems=[{"column": plan.name, "problem": "not a date", "rows": bad}])
        if getattr(parsed.dt, "tz", None) is not None:  # compare in UTC wall time
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        col = DatetimeColumn(plan.name, lower="1970-01-01", upper="1970-01-02",
                             resolution=plan.resolution)
        return col.to_units(parsed).to_numpy(dtype=np.float64)
    numbers = pd.to_numeric(series, errors="coerce")
    bad = int((numbers.isna() & series.notna()).sum())
    if bad:
        raise DataValidationError(
            f"column {plan.name!r}: {bad} value(s) are not numbers",
            problems=[{"column": plan.name, "problem": "not a number", "rows": bad}])
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def _numeric_column(plan: ColumnPlan, values: FloatArray, accountant: Accountant,
                    noise: mechanisms.Noise | None, quantiles: tuple[float, float],
                    grid_size: int) -> Column:
    integer = plan.kind in ("integer", "datetime")
    # datetimes are counted from an arbitrary epoch: no geometric spacing for them
    grid = public_grid(plan.lower, plan.upper, grid_size, integer=integer,
                       wide=plan.kind != "datetime")
    picks = [
        mechanisms.quantile(values, q, grid=grid, epsilon=plan.epsilon, accountant=accountant,
                            label=f"infer_dp/{plan.name}/{side}", noise=noise)
        for q, side in zip(quantiles, ("lower", "upper"), strict=True)
    ]
    # Post-processing: order the two picks, then widen each to its outer grid neighbour.
    i = int(np.searchsorted(grid, min(picks)))
    j = int(np.searchsorted(grid, max(picks)))
    lo, hi = float(grid[max(i - 1, 0)]), float(grid[min(j + 1, grid.size - 1)])
    if plan.kind == "float":
        return FloatColumn(plan.name, nullable=True, lower=lo, upper=hi)
    lo_i, hi_i = math.floor(lo), math.ceil(hi)
    if plan.kind == "integer":
        return IntegerColumn(plan.name, nullable=True, lower=lo_i, upper=hi_i)
    col = DatetimeColumn(plan.name, lower="1970-01-01", upper="1970-01-02",
                         resolution=plan.resolution)
    lo_t, hi_t = col.from_units([lo_i, hi_i])
    fmt = "%Y-%m-%d" if plan.resolution == "D" else "%Y-%m-%dT%H:%M:%S"
    return DatetimeColumn(plan.name, nullable=True, lower=lo_t.strftime(fmt),
                          upper=hi_t.strftime(fmt), resolution=plan.resolution)


# --------------------------------------------------------------------------
# Inference without DP (explicit opt-in)
# --------------------------------------------------------------------------


def _infer_numeric(name: str, values: np.ndarray, nullable: bool) -> Column:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise SchemaError(
            f"column {name!r} has no finite values, so its domain cannot be read from the "
            "data; describe it in the schema by hand or drop it"
        )
    lo, hi = float(finite.min()), float(finite.max())
    if np.all(np.floor(finite) == finite):
        return IntegerColumn(name, nullable=nullable, lower=int(lo), upper=int(hi))
    return FloatColumn(name, nullable=nullable, lower=lo, upper=hi)


def _infer_column(
    name: str, s: pd.Series, max_categories: int, missing_values: Sequence[str]
) -> Column:
    if ptypes.is_bool_dtype(s.dtype):
        return BooleanColumn(name, nullable=bool(s.isna().any()))
    if ptypes.is_datetime64_any_dtype(s.dtype):
        ts = s.dropna()
        if ts.empty:
            raise SchemaError(
                f"column {name!r} is entirely missing, so its domain cannot be read from the "
                "data; describe it in the schema by hand or drop it"
            )
        if isinstance(ts.dtype, pd.DatetimeTZDtype):
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        return DatetimeColumn(
            name,
            nullable=bool(s.isna().any()),
            lower=ts.min().isoformat(),
            upper=ts.max().isoformat(),
            resolution="s",
        )
    if ptypes.is_numeric_dtype(s.dtype) and not is_text_like(s):
        values = s.to_numpy(dtype="float64", na_value=np.nan)
        return _infer_numeric(name, values, bool(np.isnan(values).any()))
    tv = text_view(s, missing_values)
    if tv.too_long.any():
        raise SchemaError(f"column {name!r} holds values longer than 1 MB; drop the column")
    nullable = bool(tv.missing.any())
    present = tv.stripped[~tv.missing]
    if present.empty:
        raise SchemaError(
            f"column {name!r} is entirely missing, so its domain cannot be read from the "
            "data; describe it in the schema by hand or drop it"
        )
    numbers = parse_numbers(present)
    if not np.isnan(numbers).any():
        return _infer_numeric(name, numbers, nullable)
    categories = pd.unique(present.astype(object))
    if len(categories) > max_categories:
        raise SchemaError(
            f"column {name!r} has more than max_categories={max_categories} distinct values; "
            "bin it into public ranges, declare it by hand, or drop it (identifiers and free "
            "text should not be synthesized)"
        )
    return CategoricalColumn(
        name, nullable=nullable, categories=tuple(sorted(str(c) for c in categories))
    )


def infer_unsafe(
    df: pd.DataFrame,
    *,
    max_categories: int = 1000,
    warn: bool = True,
    missing_values: Sequence[str] = ("",),
) -> Schema:
    """Read a schema from the data itself, WITHOUT differential privacy.

    The category lists and bounds are the data's own values (its minimum,
    maximum, every distinct category), so publishing anything built on this
    schema reveals them. The schema is marked ``source="data (not DP)"`` and
    reports say the release is not end-to-end DP. Prefer a public schema, or
    :func:`infer_dp`.

    Parameters
    ----------
    df : pandas.DataFrame
        The data.
    max_categories : int
        A text column with more distinct values raises :class:`SchemaError`.
    warn : bool
        Emit a :class:`PrivacyWarning` (default). Turn off only in code that
        has already told its user.
    missing_values : sequence of str
        Text tokens that mean "missing" (see :func:`validate`).

    Returns
    -------
    Schema
        Integers where every value is whole, floats otherwise; ``bool`` ->
        boolean; datetimes -> datetime at resolution ``"s"``; text that all
        parses as numbers -> numeric; other text -> categorical. A column is
        nullable when any value is missing.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> df = pd.DataFrame({"n": ["3", "5"], "x": [0.5, 2.0], "c": ["b", "a"]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", PrivacyWarning)
    ...     s = infer_unsafe(df)
    >>> [c.kind for c in s], s["n"].upper, s["c"].categories, s.source
    (['integer', 'float', 'categorical'], 5, ('a', 'b'), 'data (not DP)')
    """
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"expected a pandas DataFrame, got {type(df).__name__}")
    tokens = check_missing_values(missing_values)
    check_int("max_categories", max_categories, lo=1, where="infer_unsafe")
    if df.shape[1] == 0:
        raise SchemaError("the table has no columns; there is nothing to infer")
    if len(df) == 0:
        raise SchemaError("the table has no rows; a domain cannot be read from it")
    if not df.columns.is_unique:
        dup = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise SchemaError(f"duplicated column names in the data: {dup}")
    if warn:
        warnings.warn(
            PrivacyWarning(
                "infer_unsafe reads category lists and numeric bounds from the private data "
                "without differential privacy: the schema reveals private values (minimums, "
                "maximums, rare categories), and a release that uses it is NOT end-to-end DP. "
                "Write a public schema (from documentation) or use privsynth.infer_dp instead."
            ),
            stacklevel=2,
        )
    columns = tuple(
        _infer_column(str(name), df[name], max_categories, tokens) for name in df.columns
    )
    return Schema(columns, source=SOURCE_UNSAFE)


__all__ = ["infer_dp", "infer_unsafe"]

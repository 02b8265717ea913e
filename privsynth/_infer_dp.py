"""Differentially private schema inference (``Schema.infer_dp``).

A schema's domains (numeric bounds, category lists) reach every output of
privsynth, so reading them from the private data would leak it: the maximum
age *is* somebody's age, and a category held by one person names that person.
:func:`infer_dp` estimates them with DP mechanisms charged to an accountant:

- numeric bounds (integer, float, datetime): DP quantiles (exponential
  mechanism) at 0.5 % and 99.5 % on a public grid over a *public coarse
  range* that the caller must supply, widened outward by one grid step;
- category lists: a thresholded histogram with discrete Laplace noise; a
  value held by few records is released only with a tiny probability delta;
- boolean columns: nothing to estimate (the domain is public) and no charge.

What is treated as public: the column names, the column kinds (taken from
``kinds`` or from the dtypes), the coarse ranges and all parameters. Every
column is declared nullable, because "this column has missing values" read
from the data would itself be a release.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from privsynth import mechanisms
from privsynth._types import FloatArray
from privsynth.accounting import Accountant, ApproxDPEvent, Event, ExponentialEvent
from privsynth.errors import BudgetExceededError, DataValidationError, ParameterError, SchemaError
from privsynth.schema import (
    KINDS,
    SOURCE_DP,
    BooleanColumn,
    CategoricalColumn,
    Column,
    DatetimeColumn,
    FloatColumn,
    IntegerColumn,
    Schema,
)

__all__ = ["infer_dp"]


#: Quantiles used as the lower and upper bound of numeric columns.
DEFAULT_QUANTILES = (0.005, 0.995)
#: Number of points of the public grid the DP quantiles are chosen from.
DEFAULT_GRID_SIZE = 1000
#: Share of the accountant's delta spent on category discovery by default; the
#: rest is left for later mechanisms (DP-SGD, ...) and composition slack.
DEFAULT_DELTA_SHARE = 0.5

_NUMERIC = ("integer", "float", "datetime")


@dataclass(frozen=True)
class _Plan:
    """What will be released for one column (everything here is public)."""

    name: str
    kind: str
    lower: float = 0.0  # coarse range, in units for datetimes
    upper: float = 0.0
    resolution: str = "s"
    epsilon: float = 0.0  # per mechanism call
    threshold: int = 0
    delta: float = 0.0


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
    plans = _plan(df, epsilon=epsilon, accountant=accountant, coarse=coarse or {},
                  delta_categories=delta_categories, kinds=kinds or {},
                  max_categories=max_categories, quantiles=quantiles, grid_size=grid_size)
    events: list[Event] = []
    for p in plans:
        if p.kind in _NUMERIC:
            events += [ExponentialEvent(p.epsilon)] * 2
        elif p.kind == "categorical":
            events.append(ApproxDPEvent(p.epsilon, p.delta, mechanism="thresholded_histogram"))
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


# --------------------------------------------------------------------------
# Planning: public information only
# --------------------------------------------------------------------------
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


def _positive(name: str, value: object) -> float:
    if not (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0):
        raise ParameterError(f"infer_dp: {name} must be a positive number, got {value!r}")
    return float(value)


def _threshold(epsilon: float, delta: float) -> int:
    """Smallest threshold >= 2 whose thresholded-histogram delta is at most ``delta``."""
    # delta(T) = exp(-eps (T - 1)) / (1 + exp(-eps)), decreasing in T
    guess = 1 + math.ceil(-(math.log(delta) + math.log1p(math.exp(-epsilon))) / epsilon)
    t = max(2, guess)
    while mechanisms.thresholded_histogram_delta(epsilon, t) > delta:
        t += 1
    while t > 2 and mechanisms.thresholded_histogram_delta(epsilon, t - 1) <= delta:
        t -= 1
    return t


def _coarse_numeric(name: str, kind: str, spec: object) -> tuple[float, float]:
    if (not isinstance(spec, Sequence) or isinstance(spec, str) or len(spec) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool)
                       and math.isfinite(v) for v in spec)):
        raise ParameterError(
            f"infer_dp: coarse range of {kind} column {name!r} must be a pair of finite "
            f"numbers (lower, upper), got {spec!r}")
    lo, hi = float(spec[0]), float(spec[1])
    if kind == "integer":
        lo, hi = float(math.floor(lo)), float(math.ceil(hi))
    if not lo < hi:
        raise ParameterError(
            f"infer_dp: coarse range of column {name!r} must have lower < upper, got {spec!r}")
    return lo, hi


def _coarse_datetime(name: str, spec: object) -> tuple[float, float, str]:
    if (not isinstance(spec, Sequence) or isinstance(spec, str) or len(spec) not in (2, 3)
            or not all(isinstance(v, str) for v in spec)):
        raise ParameterError(
            f"infer_dp: coarse range of datetime column {name!r} must be two ISO 8601 "
            f"strings, optionally followed by a resolution, got {spec!r}")
    lo_s, hi_s = spec[0], spec[1]
    if len(spec) == 3:
        res = spec[2]
    else:
        try:
            stamps = [pd.Timestamp(lo_s), pd.Timestamp(hi_s)]
        except (ValueError, TypeError) as exc:
            raise SchemaError(f"column {name!r}: coarse bounds must be ISO 8601 dates, "
                              f"got {lo_s!r} and {hi_s!r}") from exc
        res = "D" if all(t == t.normalize() for t in stamps) else "s"
    col = DatetimeColumn(name, lower=lo_s, upper=hi_s, resolution=res)  # validates
    lo, hi = col.unit_lower, col.unit_upper
    if not lo < hi:
        raise ParameterError(
            f"infer_dp: coarse range of column {name!r} must span more than one "
            f"{res!r} unit, got {spec!r}")
    return float(lo), float(hi), res


def _plan(
    df: pd.DataFrame,
    *,
    epsilon: float,
    accountant: Accountant,
    coarse: Mapping[str, object],
    delta_categories: float | None,
    kinds: Mapping[str, str],
    max_categories: int,
    quantiles: tuple[float, float],
    grid_size: int,
) -> list[_Plan]:
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"infer_dp: df must be a pandas DataFrame, got {type(df).__name__}")
    if df.shape[1] == 0:
        raise SchemaError("infer_dp: the table has no columns")
    bad_names = [c for c in df.columns if not isinstance(c, str) or not c]
    if bad_names:
        raise SchemaError(f"infer_dp: column names must be non-empty strings, got {bad_names}")
    if len(set(df.columns)) != df.shape[1]:
        raise SchemaError("infer_dp: the table has duplicated column names")
    eps = _positive("epsilon", epsilon)
    if not isinstance(accountant, Accountant):
        raise ParameterError("infer_dp: accountant must be a privsynth Accountant")
    if not isinstance(max_categories, int) or isinstance(max_categories, bool) \
            or max_categories < 1:
        raise ParameterError(
            f"infer_dp: max_categories must be a positive integer, got {max_categories!r}")
    if not isinstance(grid_size, int) or isinstance(grid_size, bool) or grid_size < 3:
        raise ParameterError(f"infer_dp: grid_size must be an integer >= 3, got {grid_size!r}")
    if (not isinstance(quantiles, tuple | list) or len(quantiles) != 2
            or not 0 <= quantiles[0] < quantiles[1] <= 1):
        raise ParameterError(
            f"infer_dp: quantiles must be (low, high) with 0 <= low < high <= 1, got "
            f"{quantiles!r}")
    for what, mapping in (("coarse", coarse), ("kinds", kinds)):
        unknown = sorted(set(mapping) - set(df.columns))
        if unknown:
            raise SchemaError(f"infer_dp: {what} names column(s) {unknown} not in the table")
    bad_kinds = {k: v for k, v in kinds.items() if v not in KINDS}
    if bad_kinds:
        raise SchemaError(f"infer_dp: unknown kind(s) {bad_kinds}; use one of {list(KINDS)}")

    kind_of = {name: kinds.get(name) or _kind_from_dtype(df[name]) for name in df.columns}
    missing = [f"{n!r} ({k})" for n, k in kind_of.items() if k in _NUMERIC and n not in coarse]
    if missing:
        raise SchemaError(
            f"infer_dp: numeric column(s) {', '.join(missing)} need a public coarse range, "
            "e.g. coarse={'age': (0, 150)}: DP bounds are chosen among points of a public "
            "range, and bounds read from the data would reveal its extreme values. Use "
            "limits known without looking at the data, or declare the column in a schema."
        )
    stray = sorted(n for n in coarse if kind_of[n] not in _NUMERIC)
    if stray:
        raise ParameterError(
            f"infer_dp: coarse ranges are for integer, float and datetime columns; "
            f"{stray} are not numeric")

    active = [n for n, k in kind_of.items() if k != "boolean"]
    n_cat = sum(kind_of[n] == "categorical" for n in active)
    eps_col = eps / len(active) if active else 0.0
    delta_col = 0.0
    if n_cat:
        if accountant.delta == 0:
            cats = [n for n in active if kind_of[n] == "categorical"]
            raise BudgetExceededError(
                f"infer_dp: discovering the categories of {cats} needs delta > 0 (a value "
                "held by few records is released with a small probability delta), but the "
                "accountant's delta is 0. Create the accountant with a delta much smaller "
                "than 1/n (e.g. 1e-6 for about 30,000 records), pass these columns as "
                "kinds='boolean' if they are, or give their categories in a public schema. "
                "Nothing was drawn or recorded.")
        total = (accountant.delta * DEFAULT_DELTA_SHARE if delta_categories is None
                 else delta_categories)
        if not (isinstance(total, int | float) and not isinstance(total, bool)
                and 0 < total < 1):
            raise ParameterError(
                f"infer_dp: delta_categories must be in (0, 1), got {delta_categories!r}")
        delta_col = float(total) / n_cat

    plans: list[_Plan] = []
    for name in df.columns:
        kind = kind_of[name]
        if kind == "boolean":
            plans.append(_Plan(name, kind))
        elif kind == "categorical":
            t = _threshold(eps_col, delta_col)
            plans.append(_Plan(name, kind, epsilon=eps_col, threshold=t,
                               delta=mechanisms.thresholded_histogram_delta(eps_col, t)))
        elif kind == "datetime":
            lo, hi, res = _coarse_datetime(name, coarse[name])
            plans.append(_Plan(name, kind, lo, hi, res, epsilon=eps_col / 2))
        else:
            lo, hi = _coarse_numeric(name, kind, coarse[name])
            plans.append(_Plan(name, kind, lo, hi, epsilon=eps_col / 2))
    return plans


# --------------------------------------------------------------------------
# Reading the data (private) and releasing through mechanisms
# --------------------------------------------------------------------------
def _prepare(series: pd.Series, plan: _Plan) -> FloatArray | dict[str, int]:
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


def _grid(lo: float, hi: float, size: int, *, integer: bool, wide: bool = True) -> FloatArray:
    """The public grid of candidate bounds over the coarse range [lo, hi]."""
    if wide and lo >= 0 and hi >= 1000 * max(lo, 1.0):
        # the range spans orders of magnitude: half linear, half geometric
        half = size // 2
        g = np.concatenate([np.linspace(lo, hi, size - half),
                            np.geomspace(max(lo, 1.0), hi, half)])
    else:
        g = np.linspace(lo, hi, size)
    if integer:
        g = np.round(g)
    return np.unique(np.clip(g, lo, hi))


def _numeric_column(plan: _Plan, values: FloatArray, accountant: Accountant,
                    noise: mechanisms.Noise | None, quantiles: tuple[float, float],
                    grid_size: int) -> Column:
    integer = plan.kind in ("integer", "datetime")
    # datetimes are counted from an arbitrary epoch: no geometric spacing for them
    grid = _grid(plan.lower, plan.upper, grid_size, integer=integer,
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

"""The plan of DP schema inference, made from public information only.

Before :func:`privsynth.infer_dp` reads one data row it decides, for every
column, which mechanism releases its domain, with which epsilon, delta and
threshold, and over which public grid. Everything here is a function of public
inputs (column names and kinds, coarse ranges, parameters, the accountant's
budget), so a plan can be shown, checked and charged before any data is read.

>>> category_threshold(1.0, 1e-6)
15
>>> public_grid(0.0, 10.0, 6, integer=True).tolist()
[0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from privsynth import mechanisms
from privsynth._checks import check_epsilon, check_int, is_number
from privsynth._types import FloatArray
from privsynth.accounting import Accountant, ApproxDPEvent, Event, ExponentialEvent
from privsynth.columns import KINDS, NUMERIC_KINDS, DatetimeColumn
from privsynth.errors import BudgetExceededError, ParameterError, SchemaError

#: Quantiles used as the lower and upper bound of numeric columns.
DEFAULT_QUANTILES = (0.005, 0.995)
#: Number of points of the public grid the DP quantiles are chosen from.
DEFAULT_GRID_SIZE = 1000
#: Share of the accountant's delta spent on category discovery by default; the
#: rest is left for later mechanisms (DP-SGD, ...) and composition slack.
DEFAULT_DELTA_SHARE = 0.5

_WHERE = "infer_dp"


@dataclass(frozen=True)
class ColumnPlan:
    """What will be released for one column (everything here is public)."""

    name: str
    kind: str
    lower: float = 0.0  # coarse range, in units for datetimes
    upper: float = 0.0
    resolution: str = "s"
    epsilon: float = 0.0  # per mechanism call
    threshold: int = 0
    delta: float = 0.0

    def events(self) -> list[Event]:
        """The privacy events this column's release charges (none for booleans)."""
        if self.kind in NUMERIC_KINDS:
            return [ExponentialEvent(self.epsilon)] * 2
        if self.kind == "categorical":
            return [ApproxDPEvent(self.epsilon, self.delta, mechanism="thresholded_histogram")]
        return []


def category_threshold(epsilon: float, delta: float) -> int:
    """Smallest threshold >= 2 whose thresholded-histogram delta is at most ``delta``."""
    # delta(T) = exp(-eps (T - 1)) / (1 + exp(-eps)), decreasing in T
    guess = 1 + math.ceil(-(math.log(delta) + math.log1p(math.exp(-epsilon))) / epsilon)
    t = max(2, guess)
    while mechanisms.thresholded_histogram_delta(epsilon, t) > delta:
        t += 1
    while t > 2 and mechanisms.thresholded_histogram_delta(epsilon, t - 1) <= delta:
        t -= 1
    return t


def public_grid(lo: float, hi: float, size: int, *, integer: bool,
                wide: bool = True) -> FloatArray:
    """The public grid of candidate bounds over the coarse range [lo, hi].

    When ``wide`` and the range is non-negative with its upper end at least
    1000 times ``max(lo, 1)``, half of the points are spaced geometrically.
    """
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


def coarse_numeric(name: str, kind: str, spec: object) -> tuple[float, float]:
    """A coarse range of an integer or float column as (lower, upper)."""
    if (not isinstance(spec, Sequence) or isinstance(spec, str) or len(spec) != 2
            or not all(is_number(v) and math.isfinite(v) for v in spec)):
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


def coarse_datetime(name: str, spec: object) -> tuple[float, float, str]:
    """A coarse range of a datetime column as (lower, upper) in units, and the resolution."""
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


def check_parameters(*, accountant: object, max_categories: object, grid_size: object,
                     quantiles: object) -> None:
    """ParameterError for a bad accountant, category cap, grid size or quantile pair."""
    if not isinstance(accountant, Accountant):
        raise ParameterError("infer_dp: accountant must be a privsynth Accountant")
    check_int("max_categories", max_categories, lo=1, where=_WHERE)
    check_int("grid_size", grid_size, lo=3, where=_WHERE)
    if (not isinstance(quantiles, tuple | list) or len(quantiles) != 2
            or not all(is_number(q) for q in quantiles)
            or not 0 <= quantiles[0] < quantiles[1] <= 1):
        raise ParameterError(
            f"infer_dp: quantiles must be (low, high) with 0 <= low < high <= 1, got "
            f"{quantiles!r}")


def plan_columns(
    kind_of: Mapping[str, str],
    *,
    epsilon: float,
    accountant: Accountant,
    coarse: Mapping[str, object],
    delta_categories: float | None,
) -> list[ColumnPlan]:
    """One :class:`ColumnPlan` per column of ``kind_of`` (name -> kind), in order.

    ``epsilon`` is split equally over the columns that need an estimate
    (numeric and categorical), a numeric column's share equally over its two
    quantiles; the categories' delta equally over the categorical columns.
    """
    eps = check_epsilon(epsilon, where=_WHERE)
    bad_kinds = {k: v for k, v in kind_of.items() if v not in KINDS}
    if bad_kinds:
        raise SchemaError(f"infer_dp: unknown kind(s) {bad_kinds}; use one of {list(KINDS)}")
    unknown = sorted(set(coarse) - set(kind_of))
    if unknown:
        raise SchemaError(f"infer_dp: coarse names column(s) {unknown} not in the table")
    missing = [f"{n!r} ({k})" for n, k in kind_of.items()
               if k in NUMERIC_KINDS and n not in coarse]
    if missing:
        raise SchemaError(
            f"infer_dp: numeric column(s) {', '.join(missing)} need a public coarse range, "
            "e.g. coarse={'age': (0, 150)}: DP bounds are chosen among points of a public "
            "range, and bounds read from the data would reveal its extreme values. Use "
            "limits known without looking at the data, or declare the column in a schema."
        )
    stray = sorted(n for n in coarse if kind_of[n] not in NUMERIC_KINDS)
    if stray:
        raise ParameterError(
            f"infer_dp: coarse ranges are for integer, float and datetime columns; "
            f"{stray} are not numeric")

    active = [n for n, k in kind_of.items() if k != "boolean"]
    cats = [n for n in active if kind_of[n] == "categorical"]
    eps_col = eps / len(active) if active else 0.0
    delta_col = 0.0
    if cats:
        if accountant.delta == 0:
            raise BudgetExceededError(
                f"infer_dp: discovering the categories of {cats} needs delta > 0 (a value "
                "held by few records is released with a small probability delta), but the "
                "accountant's delta is 0. Create the accountant with a delta much smaller "
                "than 1/n (e.g. 1e-6 for about 30,000 records), pass these columns as "
                "kinds='boolean' if they are, or give their categories in a public schema. "
                "Nothing was drawn or recorded.")
        total = (accountant.delta * DEFAULT_DELTA_SHARE if delta_categories is None
                 else delta_categories)
        if not (is_number(total) and 0 < total < 1):
            raise ParameterError(
                f"infer_dp: delta_categories must be in (0, 1), got {delta_categories!r}")
        delta_col = float(total) / len(cats)

    plans: list[ColumnPlan] = []
    for name, kind in kind_of.items():
        if kind == "boolean":
            plans.append(ColumnPlan(name, kind))
        elif kind == "categorical":
            t = category_threshold(eps_col, delta_col)
            plans.append(ColumnPlan(name, kind, epsilon=eps_col, threshold=t,
                                    delta=mechanisms.thresholded_histogram_delta(eps_col, t)))
        elif kind == "datetime":
            lo, hi, res = coarse_datetime(name, coarse[name])
            plans.append(ColumnPlan(name, kind, lo, hi, res, epsilon=eps_col / 2))
        else:
            lo, hi = coarse_numeric(name, kind, coarse[name])
            plans.append(ColumnPlan(name, kind, lo, hi, epsilon=eps_col / 2))
    return plans


__all__ = [
    "DEFAULT_DELTA_SHARE",
    "DEFAULT_GRID_SIZE",
    "DEFAULT_QUANTILES",
    "ColumnPlan",
    "category_threshold",
    "check_parameters",
    "coarse_datetime",
    "coarse_numeric",
    "plan_columns",
    "public_grid",
]

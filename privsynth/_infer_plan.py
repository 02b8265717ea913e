"""The plan of DP schema inference, made from public information only.

Before :func:`privsynth.infer_dp` reads one data row it decides, for every
column of the draft, whether its domain is declared (kept as it is) or must be
estimated, and with which mechanism, epsilon, delta, threshold and public grid.
Everything here is a function of public inputs (the draft: column names,
declared kinds and domains, coarse ranges; the parameters; the accountant's
budget and ledger), so a plan can be shown (a dry run), checked and charged
before any data is read. A column whose kind is not declared, or a numeric
column with neither public bounds nor a public coarse range, stops the plan
with one :class:`~privsynth.errors.SchemaError` naming every such column.

>>> category_threshold(1.0, 1e-6)
15
>>> public_grid(0.0, 10.0, 6, integer=True).tolist()
[0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from privsynth import mechanisms
from privsynth._checks import check_epsilon, check_int, is_number
from privsynth._types import FloatArray
from privsynth.accounting import Accountant, ApproxDPEvent, Event, ExponentialEvent
from privsynth.columns import NUMERIC_KINDS, DatetimeColumn
from privsynth.errors import (
    BudgetExceededError,
    IncompleteDraftError,
    LedgerError,
    ParameterError,
    SchemaError,
)

#: Quantiles used as the lower and upper bound of numeric columns.
DEFAULT_QUANTILES = (0.005, 0.995)
#: Number of points of the public grid the DP quantiles are chosen from.
DEFAULT_GRID_SIZE = 1000
#: Share of the accountant's delta spent on category discovery by default; the
#: rest is left for later mechanisms (DP-SGD, ...) and composition slack.
DEFAULT_DELTA_SHARE = 0.5

_WHERE = "infer_dp"
_SIDES = ("lower", "upper")


@dataclass(frozen=True)
class ColumnPlan:
    """What will be released for one column whose domain is estimated (all public).

    ``sides`` are the bounds a numeric column estimates (a bound the draft
    declares is kept); ``lower``/``upper`` are its coarse range, in
    resolution units for datetimes; ``epsilon`` is per mechanism call.
    """

    name: str
    kind: str
    lower: float = 0.0
    upper: float = 0.0
    resolution: str = "s"
    epsilon: float = 0.0
    threshold: int = 0
    delta: float = 0.0
    sides: tuple[str, ...] = _SIDES

    def events(self) -> list[tuple[str, Event]]:
        """``(ledger label, event)`` of every mechanism call of this column."""
        if self.kind in NUMERIC_KINDS:
            return [(f"infer_dp/{self.name}/{side}", ExponentialEvent(self.epsilon))
                    for side in self.sides]
        return [(f"infer_dp/{self.name}/categories",
                 ApproxDPEvent(self.epsilon, self.delta, mechanism="thresholded_histogram"))]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the column, what is estimated, by which mechanism, at what cost."""
        if self.kind in NUMERIC_KINDS:
            return {"column": self.name, "kind": self.kind, "estimates": list(self.sides),
                    "mechanism": "exponential (DP quantile on a public grid)",
                    "epsilon": self.epsilon * len(self.sides), "delta": 0.0}
        return {"column": self.name, "kind": self.kind, "estimates": ["categories"],
                "mechanism": "thresholded histogram (discrete Laplace)",
                "epsilon": self.epsilon, "delta": self.delta, "threshold": self.threshold}


@dataclass(frozen=True)
class InferencePlan:
    """What :func:`privsynth.infer_dp` would charge, and to which accountant (a dry run).

    Made from the draft and the accountant alone: no data row is read.

    Attributes
    ----------
    columns : tuple of ColumnPlan
        The columns whose domain is estimated, in table order.
    declared : tuple of str
        The columns kept exactly as the draft declares them (free).
    epsilon, delta : float
        This inference's own guarantee: its events composed alone (basic
        composition: the epsilons and the deltas add up).
    accountant : str
        Which accountant is charged (a ledger file's path, or in memory).
    budget : (float, float)
        The accountant's total (epsilon, delta).
    spent_before : float
        Epsilon the ledger records before this inference.
    total_after : float or None
        The ledger's composed epsilon after this inference, None when it
        would not fit.
    refusal : str
        Why the accountant would refuse ("" when it fits).
    """

    columns: tuple[ColumnPlan, ...]
    declared: tuple[str, ...]
    epsilon: float
    delta: float
    accountant: str
    budget: tuple[float, float]
    spent_before: float
    total_after: float | None
    refusal: str = ""
    labelled: tuple[tuple[str, Event], ...] = field(default=(), repr=False)

    @property
    def fits(self) -> bool:
        """Whether the accountant would accept the charge."""
        return self.total_after is not None

    @property
    def events(self) -> list[Event]:
        """The privacy events in the order they would be charged."""
        return [e for _, e in self.labelled]

    @property
    def remaining_after(self) -> float | None:
        """Epsilon left in the budget after this inference (None when it does not fit)."""
        if self.total_after is None:
            return None
        return max(0.0, self.budget[0] - self.total_after)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (what ``schema infer --dp --dry-run --json`` prints)."""
        return {
            "dry_run": True,
            "accountant": self.accountant,
            "budget": {"epsilon": self.budget[0], "delta": self.budget[1]},
            "charge": {"epsilon": self.epsilon, "delta": self.delta,
                       "events": len(self.labelled)},
            "ledger_before": {"epsilon": self.spent_before},
            "ledger_after": None if self.total_after is None else {
                "epsilon": self.total_after, "remaining_epsilon": self.remaining_after},
            "fits": self.fits,
            "refusal": self.refusal or None,
            "estimated": [c.to_dict() for c in self.columns],
            "declared": list(self.declared),
        }

    def __str__(self) -> str:
        lines = ["dry run: nothing is read from the data and nothing is charged.",
                 f"would charge {self.accountant}: epsilon {self.epsilon:.6g}, "
                 f"delta {self.delta:.3g} in {len(self.labelled)} event(s)"]
        for c in self.columns:
            d = c.to_dict()
            lines.append(f"  {c.name} ({c.kind}): {', '.join(d['estimates'])} by "
                         f"{d['mechanism']}, epsilon {d['epsilon']:.4g}"
                         + (f", delta {d['delta']:.3g}" if d["delta"] else ""))
        if self.declared:
            lines.append(f"  kept as declared (free): {', '.join(self.declared)}")
        if self.fits:
            lines.append(f"ledger epsilon {self.spent_before:.6g} -> {self.total_after:.6g} "
                         f"of {self.budget[0]:g} ({self.remaining_after:.6g} left after)")
        else:
            lines.append(f"the accountant would REFUSE it: {self.refusal}")
        return "\n".join(lines)


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


def coarse_datetime(name: str, spec: object,
                    resolution: str | None = None) -> tuple[float, float, str]:
    """A coarse range of a datetime column as (lower, upper) in units, and the resolution.

    The resolution is the third element of ``spec`` if given, else the
    column's declared ``resolution``, else ``"D"`` when both bounds are
    dates and ``"s"`` otherwise.
    """
    if (not isinstance(spec, Sequence) or isinstance(spec, str) or len(spec) not in (2, 3)
            or not all(isinstance(v, str) for v in spec)):
        raise ParameterError(
            f"infer_dp: coarse range of datetime column {name!r} must be two ISO 8601 "
            f"strings, optionally followed by a resolution, got {spec!r}")
    lo_s, hi_s = spec[0], spec[1]
    if len(spec) == 3:
        res = spec[2]
    elif resolution is not None:
        res = resolution
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


def _todo(col: Mapping[str, Any], coarse: Mapping[str, object]) -> tuple[str, bool] | None:
    """What ``col`` lacks that DP inference cannot fill (text), or what it will estimate."""
    name, kind = col["name"], col.get("kind")
    if kind is None:
        return ("needs a kind (categorical, integer, float, datetime or boolean) from the "
                "documentation of the data; kinds are never read from the data"), False
    if kind in NUMERIC_KINDS:
        missing = [s for s in _SIDES if col.get(s) is None]
        if missing and coarse.get(name, col.get("coarse")) is None:
            unit = "ISO 8601 dates" if kind == "datetime" else "numbers"
            return (f"needs public bounds {missing} ({unit}) or a public coarse range "
                    "[low, high] within which DP can estimate them (a legal or physical "
                    "range, never read from the data)"), False
        return ("estimate", True) if missing else None
    if kind == "categorical" and col.get("categories") is None:
        return "estimate", True
    return None


def plan_columns(
    columns: Sequence[Mapping[str, Any]],
    *,
    epsilon: float,
    accountant: Accountant,
    coarse: Mapping[str, object],
    delta_categories: float | None,
) -> list[ColumnPlan]:
    """One :class:`ColumnPlan` per draft column whose domain must be estimated.

    ``columns`` are draft columns (dicts with ``name``, ``kind`` and the
    domain keys, ``None`` or absent where missing; ``coarse`` where given).
    ``coarse`` (name -> range) adds or overrides coarse ranges. ``epsilon`` is
    split equally over the estimated columns, a numeric column's share
    equally over the bounds it estimates; the categories' delta equally over
    the estimated categorical columns.

    Raises
    ------
    IncompleteDraftError
        Some column's kind is missing, or a numeric column has neither public
        bounds nor a coarse range: every such column is named with what it
        needs. Raised before anything is read or charged.
    """
    eps = check_epsilon(epsilon, where=_WHERE)
    if accountant.unit is not None:
        # every estimate here counts rows (sensitivity 1): charged to a ledger whose unit
        # has several rows, it would be under-charged (docs/units.md)
        raise LedgerError(
            f"infer_dp: this ledger protects the privacy unit {accountant.unit!r} (all rows "
            "of one identifier), but DP schema inference protects one row only; declare the "
            "domains from public documentation instead. Nothing was read or charged.")
    names = [c["name"] for c in columns]
    unknown = sorted(set(coarse) - set(names))
    if unknown:
        raise SchemaError(f"infer_dp: coarse names column(s) {unknown} not in the table")
    problems: dict[str, str] = {}
    active = []
    for col in columns:
        todo = _todo(col, coarse)
        if todo is None:
            continue
        text, fillable = todo
        if fillable:
            active.append(col)
        else:
            problems[col["name"]] = text
    if problems:
        kind = {c["name"]: c.get("kind") for c in columns}
        groups: dict[str, list[str]] = {}
        for n, text in problems.items():
            groups.setdefault(text, []).append(f"{n!r}" + (f" ({kind[n]})" if kind[n] else ""))
        listed = "; ".join(f"{', '.join(cols)}: {text}" for text, cols in groups.items())
        raise IncompleteDraftError(
            f"infer_dp: {len(problems)} column(s) are not declared well enough to estimate "
            f"their domains with DP; nothing was read or charged. {listed}. Declare them in "
            "the draft (`privsynth schema check` lists what is missing), or drop these "
            "columns from the data.", needs=problems)
    stray = sorted(n for n in coarse
                   if next(c for c in columns if c["name"] == n).get("kind") not in NUMERIC_KINDS)
    if stray:
        raise ParameterError(
            f"infer_dp: coarse ranges are for integer, float and datetime columns; "
            f"{stray} are not numeric")

    cats = [c["name"] for c in active if c["kind"] == "categorical"]
    eps_col = eps / len(active) if active else 0.0
    delta_col = 0.0
    if cats:
        if accountant.delta == 0:
            raise BudgetExceededError(
                f"infer_dp: discovering the categories of {cats} needs delta > 0 (a value "
                "held by few records is released with a small probability delta), but the "
                "accountant's delta is 0. Create the accountant with a delta much smaller "
                "than 1/n (e.g. 1e-6 for about 30,000 records), declare these columns' "
                "categories from a public code list, or declare them boolean if they are. "
                "Nothing was drawn or recorded.")
        total = (accountant.delta * DEFAULT_DELTA_SHARE if delta_categories is None
                 else delta_categories)
        if not (is_number(total) and 0 < total < 1):
            raise ParameterError(
                f"infer_dp: delta_categories must be in (0, 1), got {delta_categories!r}")
        delta_col = float(total) / len(cats)

    plans: list[ColumnPlan] = []
    for col in active:
        name, kind = col["name"], col["kind"]
        if kind == "categorical":
            t = category_threshold(eps_col, delta_col)
            plans.append(ColumnPlan(name, kind, epsilon=eps_col, threshold=t,
                                    delta=mechanisms.thresholded_histogram_delta(eps_col, t)))
            continue
        sides = tuple(s for s in _SIDES if col.get(s) is None)
        spec = coarse.get(name, col.get("coarse"))
        if kind == "datetime":
            lo, hi, res = coarse_datetime(name, spec, col.get("resolution"))
            plans.append(ColumnPlan(name, kind, lo, hi, res, epsilon=eps_col / len(sides),
                                    sides=sides))
        else:
            lo, hi = coarse_numeric(name, kind, spec)
            plans.append(ColumnPlan(name, kind, lo, hi, epsilon=eps_col / len(sides),
                                    sides=sides))
    return plans


def describe_accountant(accountant: Accountant) -> str:
    """Which accountant is charged, in words (a ledger file's path, or in memory)."""
    path = getattr(accountant, "path", None)
    return f"the ledger file {path}" if path is not None else "the in-memory accountant"


def make_plan(columns: Sequence[Mapping[str, Any]], plans: Sequence[ColumnPlan],
              accountant: Accountant) -> InferencePlan:
    """The :class:`InferencePlan` of ``plans``, with the accountant's answer (nothing recorded)."""
    labelled = tuple(item for p in plans for item in p.events())
    events = [e for _, e in labelled]
    epsilon = math.fsum(p.to_dict()["epsilon"] for p in plans)
    delta = math.fsum(p.delta for p in plans)
    estimated = {p.name for p in plans}
    before = accountant.spent().epsilon
    after: float | None
    refusal = ""
    try:
        after = accountant.check(events, label="infer_dp").epsilon if events else before
    except BudgetExceededError as exc:
        after, refusal = None, str(exc)
    return InferencePlan(
        columns=tuple(plans),
        declared=tuple(c["name"] for c in columns if c["name"] not in estimated),
        epsilon=epsilon, delta=delta, accountant=describe_accountant(accountant),
        budget=(accountant.epsilon, accountant.delta), spent_before=before,
        total_after=after, refusal=refusal, labelled=labelled)


__all__ = [
    "DEFAULT_DELTA_SHARE",
    "DEFAULT_GRID_SIZE",
    "DEFAULT_QUANTILES",
    "ColumnPlan",
    "InferencePlan",
    "category_threshold",
    "check_parameters",
    "coarse_datetime",
    "coarse_numeric",
    "describe_accountant",
    "make_plan",
    "plan_columns",
    "public_grid",
]

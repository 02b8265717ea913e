"""Sampling under rules and conditions: rejection with a bound, and generated keys.

Constraints (:mod:`privsynth.constraints`) say *what* synthetic rows must obey;
this module is *how* an engine's raw sampler is made to obey them: a
:class:`SamplePlan` sets condition values and formulas on raw rows and tells
which rows to keep; :func:`rejection_sample` draws until enough are kept, or
stops with a :class:`~privsynth.errors.ConstraintError` when the acceptance
rate shows it is hopeless; :func:`apply_unique_keys` writes generated keys.
All of it is post-processing of a fitted DP model: it reads no private data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from privsynth._checks import is_integer
from privsynth._types import BoolArray
from privsynth.columns import IntegerColumn
from privsynth.constraints import (
    Constraint,
    Formula,
    UniqueKey,
    describe_conditions,
    domain_mask,
    formula_order,
    set_condition_values,
)
from privsynth.errors import ConstraintError
from privsynth.schema import Schema

#: Default bound on rejection sampling: at most ``max_tries`` raw rows per
#: requested row, and an error when fewer than ``1 / max_tries`` are accepted.
DEFAULT_MAX_TRIES = 200
#: Raw rows drawn before a low acceptance rate is judged (a pilot run).
_PILOT_ROWS = 1000
#: Largest batch handed to an engine's raw sampler in one call.
_MAX_BATCH = 200_000


@dataclass(frozen=True)
class SamplePlan:
    """Everything needed to turn an engine's raw rows into rows obeying the rules."""

    schema: Schema
    rules: tuple[Constraint, ...]
    conditions: Mapping[str, Any]
    folded: tuple[Constraint, ...] = ()  # enforced exactly by the engine's own sampler
    conditions_exact: bool = False  # the engine's raw rows already meet the conditions
    condition_mask: Callable[[pd.DataFrame], BoolArray] | None = None
    max_tries: int = DEFAULT_MAX_TRIES

    def process(self, raw: pd.DataFrame) -> tuple[pd.DataFrame, BoolArray,
                                                  dict[Constraint, int], dict[str, int]]:
        """Set condition values and formulas on ``raw``.

        Returns the rows, which are kept, the violations of each rule by the
        raw rows, and the number of rows rejected for each reason.
        """
        n = len(raw)
        rejected: dict[str, int] = {}

        def reject(reason: str, ok: BoolArray) -> BoolArray:
            rejected[reason] = rejected.get(reason, 0) + int(n - ok.sum())
            return ok

        keep = reject("schema domains", domain_mask(raw, self.schema))
        if self.conditions and not self.conditions_exact:
            assert self.condition_mask is not None
            keep &= reject("conditions", self.condition_mask(raw))
        # folded rules hold by construction; their raw violations are measured apart
        violations = {r: int(n - r.satisfied(raw, self.schema).sum()) for r in self.rules
                      if r not in self.folded}
        df = set_condition_values(raw, self.conditions, self.schema)
        for f in formula_order(self.rules):
            col = self.schema[f.column]
            value = f.compute(df, self.schema)
            missing = np.isnan(value)
            if isinstance(col, IntegerColumn):
                filled = np.where(missing, col.lower, value)
                s = pd.Series(filled, index=df.index).astype(np.int64)
                df[f.column] = s.astype("Int64").where(~missing) if col.nullable else s
            else:
                df[f.column] = value
            with np.errstate(invalid="ignore"):
                inside = (value >= col.lower) & (value <= col.upper)  # type: ignore[attr-defined]
            keep &= reject(f"{f.describe()} (result outside the bounds)",
                           inside | (missing & col.nullable))
        for r in self.rules:
            if not isinstance(r, Formula | UniqueKey):
                keep &= reject(r.describe(), r.satisfied(df, self.schema))
        return df, keep, violations, rejected


def rejection_sample(draw: Callable[[int, np.random.Generator], pd.DataFrame], n: int,
                     plan: SamplePlan, rng: np.random.Generator,
                     stats_draw: Callable[[int, np.random.Generator], pd.DataFrame] | None = None,
                     ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Draw raw rows until ``n`` obey every rule; stop with an error when that is hopeless.

    Parameters
    ----------
    draw : callable (m, rng) -> DataFrame
        The engine's raw sampler (post-processing of its DP model).
    n : int
        Rows wanted.
    plan : SamplePlan
        Rules, conditions and the bound on tries.
    rng : numpy Generator
        Sampling randomness (never privacy noise).
    stats_draw : callable, optional
        A raw sampler that does *not* enforce the ``plan.folded`` rules, used
        only to measure how often they would be violated without folding.

    Returns
    -------
    rows, stats
        ``stats`` has one dict per rule: ``constraint`` (its description),
        ``raw_violation_share`` (share of raw rows violating it) and
        ``acceptance_rate`` (share of raw rows kept by rejection; 1.0 for rules
        enforced exactly or by construction).

    Raises
    ------
    ConstraintError
        When fewer than ``1 / plan.max_tries`` of the raw rows are accepted
        (judged after a pilot of 1000 rows), or ``plan.max_tries * n`` raw rows
        were drawn without reaching ``n``. The message gives the rate.
    """
    max_tries = plan.max_tries
    if not is_integer(max_tries) or max_tries < 1:
        raise ConstraintError(f"max_tries must be an integer >= 1, got {max_tries!r}")
    min_rate = 1.0 / max_tries
    limit = max_tries * max(n, _PILOT_ROWS)
    kept: list[pd.DataFrame] = []
    n_kept = drawn = 0
    violations = dict.fromkeys(plan.rules, 0)
    rejected: dict[str, int] = {}
    batch = max(n, _PILOT_ROWS) if n > 0 else 0
    while True:
        raw = draw(min(batch, _MAX_BATCH), rng).reset_index(drop=True)
        df, keep, viol, rej = plan.process(raw)
        drawn += len(raw)
        for r, v in viol.items():
            violations[r] += v
        for reason, v in rej.items():
            rejected[reason] = rejected.get(reason, 0) + v
        if keep.any():
            kept.append(df[keep])
            n_kept += int(keep.sum())
        if n_kept >= n:
            break
        rate = n_kept / drawn
        if (drawn >= _PILOT_ROWS and rate < min_rate) or drawn >= limit:
            worst = sorted(((v / drawn, d) for d, v in rejected.items() if v), reverse=True)
            per_rule = "; ".join(f"'{d}' fails on {s:.1%}" for s, d in worst[:3]) or "none"
            raise ConstraintError(
                f"only {rate:.3%} of raw rows ({n_kept} of {drawn}) satisfy the rules and "
                f"conditions [{describe_conditions(plan.conditions)}]; the minimum is "
                f"{min_rate:.3%} (1/max_tries): they contradict each other or the model "
                f"gives them almost no probability. Raw rows rejected by: {per_rule}")
        need = n - n_kept
        batch = int(min(math.ceil(need / max(rate, min_rate) * 1.2) + 64, limit - drawn))
        batch = max(batch, 64)
    out = pd.concat(kept, ignore_index=True).iloc[:n].reset_index(drop=True) if kept \
        else plan.process(draw(0, rng))[0]
    rate = n_kept / drawn if drawn else 1.0
    stats_raw = drawn
    if plan.folded and stats_draw is not None and n > 0:
        raw = stats_draw(min(max(n, _PILOT_ROWS), 20_000), rng)
        stats_raw = len(raw)
        for r in plan.folded:
            violations[r] = int(len(raw) - r.satisfied(raw, plan.schema).sum())
    stats = []
    for r in plan.rules:
        by_construction = r in plan.folded or isinstance(r, UniqueKey)
        denom = stats_raw if r in plan.folded else drawn
        stats.append({"constraint": r.describe(),
                      "raw_violation_share": violations[r] / denom if denom else 0.0,
                      "acceptance_rate": 1.0 if by_construction else rate})
    return out, stats


def apply_unique_keys(df: pd.DataFrame, rules: Sequence[Constraint], schema: Schema,
                      rng: np.random.Generator) -> pd.DataFrame:
    """``df`` with every key column replaced by generated distinct values."""
    out = df
    for r in rules:
        if isinstance(r, UniqueKey):
            if out is df:
                out = df.copy()
            out[r.column] = r.generate(len(out), schema, rng).to_numpy()
            if isinstance(schema[r.column], IntegerColumn):
                out[r.column] = out[r.column].astype(df[r.column].dtype)
    return out


__all__ = ["DEFAULT_MAX_TRIES", "SamplePlan", "apply_unique_keys", "rejection_sample"]

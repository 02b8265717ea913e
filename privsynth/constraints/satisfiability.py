"""Satisfiability: refuse contradictory rules and conditions before any row is drawn.

Exact for rules on categorical/boolean columns and on ranges of numeric
columns: the columns are split into groups linked by rules, and each group's
cells are enumerated when there are at most a million. Also checks the
schema's bounds against inequalities and the capacity of unique keys.

>>> from privsynth.columns import IntegerColumn
>>> from privsynth.constraints.rules import Inequality
>>> cols = {"lo": IntegerColumn("lo", lower=5, upper=9),
...         "hi": IntegerColumn("hi", lower=0, upper=3)}
>>> check_satisfiable([Inequality("lo", "hi")], cols)
Traceback (most recent call last):
...
privsynth.errors.ConstraintError: rule 'lo <= hi' cannot hold: ...
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from privsynth._types import BoolArray
from privsynth.columns import (
    BooleanColumn,
    CategoricalColumn,
    Column,
    ColumnsLike,
    DatetimeColumn,
    IntegerColumn,
    column_map,
)
from privsynth.constraints.conditions import describe_conditions
from privsynth.constraints.predicates import Predicate, to_number
from privsynth.constraints.rules import (
    AllowedCombinations,
    Conditional,
    Constraint,
    ForbiddenCombinations,
    Inequality,
    UniqueKey,
)
from privsynth.errors import ConstraintError

#: Largest number of cells enumerated to prove rules contradictory.
MAX_ENUMERATION = 1_000_000


def check_satisfiable(rules: Sequence[Constraint], schema: ColumnsLike,
                      conditions: Mapping[str, Any] | None = None, n: int = 0) -> None:
    """Raise :class:`ConstraintError` when the rules (and conditions) cannot all hold.

    Exact for rules on categorical/boolean columns and on ranges of numeric
    columns: the columns are split into groups linked by rules, and each
    group's cells (categories, and the pieces the rules' bounds cut numeric
    domains into) are enumerated when there are at most a million. Other
    contradictions (chains of inequalities, formulas) surface as a zero
    acceptance rate while sampling, which also ends in a ConstraintError.
    """
    by_name = column_map(schema)
    conds = dict(conditions or {})
    for r in rules:
        if isinstance(r, Inequality) and not r.bounds_feasible(by_name):
            raise ConstraintError(f"rule '{r.describe()}' cannot hold: the schema's bounds "
                                  f"put every {r.low} above every {r.high}")
        if isinstance(r, UniqueKey) and n > r.capacity(by_name):
            raise ConstraintError(f"unique key {r.column!r}: {n} rows requested but the "
                                  f"schema allows only {r.capacity(by_name)} distinct values")
    checkable: list[Constraint] = [
        r for r in rules
        if isinstance(r, AllowedCombinations | ForbiddenCombinations | Conditional | _Fact)]
    checkable += [_Fact(Predicate(k, values=(v,))) for k, v in conds.items()]
    # union-find of columns linked by a rule
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for r in checkable:
        cols = r.columns
        for c in cols:
            find(c)
        for c in cols[1:]:
            parent[find(c)] = find(cols[0])
    groups: dict[str, list[str]] = {}
    for c in parent:
        groups.setdefault(find(c), []).append(c)
    for members in groups.values():
        group_rules = [r for r in checkable if find(r.columns[0]) == find(members[0])]
        cells = {c: _cells(by_name[c], group_rules) for c in members}
        if math.prod(len(v) for v in cells.values()) > MAX_ENUMERATION:
            continue
        grid = np.indices([len(cells[c]) for c in members]).reshape(len(members), -1)
        df = pd.DataFrame({c: _series(by_name[c], [cells[c][i] for i in grid[j]])
                           for j, c in enumerate(members)})
        ok = np.ones(len(df), dtype=bool)
        for r in group_rules:
            ok &= r.satisfied(df, by_name)
        if not ok.any():
            described = [r.describe() for r in group_rules if not isinstance(r, _Fact)]
            raise ConstraintError(
                f"the rules {described} and conditions [{describe_conditions(conds)}] "
                f"contradict each other or the schema's domains: no value of columns "
                f"{sorted(members)} satisfies them all")


@dataclass(frozen=True)
class _Fact(Constraint):
    """A predicate that must hold on every row (a condition, for the contradiction check)."""

    predicate: Predicate
    kind: ClassVar[str] = "fact"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.predicate.column,)

    def validate(self, schema: ColumnsLike) -> None:
        self.predicate.validate(schema, "condition")

    def satisfied(self, df: pd.DataFrame, schema: ColumnsLike) -> BoolArray:
        return self.predicate.mask(df, schema)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.predicate.to_dict()}

    def describe(self) -> str:
        return self.predicate.describe()


def _series(col: Column, values: list[Any]) -> pd.Series:
    if isinstance(col, DatetimeColumn):
        return pd.Series(values, dtype="datetime64[ns]")
    if isinstance(col, BooleanColumn):
        return pd.Series(values, dtype="boolean")
    if col.is_numeric:
        return pd.Series(values, dtype="float64")
    return pd.Series(values, dtype="object")


def _cells(col: Column, rules: Sequence[Constraint]) -> list[Any]:
    """One representative value per piece of the column's domain the rules can tell apart."""
    out: list[Any] = [None] if col.nullable else []
    if isinstance(col, CategoricalColumn):
        return out + list(col.categories)
    if isinstance(col, BooleanColumn):
        return [*out, False, True]
    integral = isinstance(col, IntegerColumn | DatetimeColumn)
    if isinstance(col, DatetimeColumn):
        lo, hi = float(col.unit_lower), float(col.unit_upper)
    else:
        lo, hi = float(col.lower), float(col.upper)  # type: ignore[attr-defined]
    points = {lo, hi}
    for r in rules:
        preds = [r.condition, r.then] if isinstance(r, Conditional) \
            else [r.predicate] if isinstance(r, _Fact) else []
        for p in preds:
            if p.column != col.name:
                continue
            if p.between is not None:
                bounds = [Predicate._bound(col, b, "") for b in p.between]
                for b in bounds:
                    if integral:  # integer pieces: [.., ceil(lo)-1] [ceil(lo) .. floor(hi)] ..
                        points.update({math.ceil(b), math.floor(b)})
                    else:
                        points.add(b)
            elif p.values is not None:
                for v in p.values:
                    if v is not None:
                        points.add(to_number(col, pd.Timestamp(v)
                                              if isinstance(col, DatetimeColumn) else v))
    pts = sorted(p for p in points if lo <= p <= hi)
    reps: list[float] = []
    for a, b in itertools.pairwise(pts):
        reps.append(a)
        if integral and b - a >= 2:
            reps.append(a + 1)
        elif not integral and b > a:
            reps.append((a + b) / 2)
    reps.append(pts[-1])
    if isinstance(col, DatetimeColumn):
        return out + list(col.from_units(reps))
    return out + reps


__all__ = ["MAX_ENUMERATION", "check_satisfiable"]

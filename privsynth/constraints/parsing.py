"""Parsing constraint specs: JSON objects to validated rule objects.

The JSON form is what a schema's ``constraints`` list holds (docs/constraints.md).
:func:`parse_rules` checks every rule against the columns it names;
:func:`parse_constraints` does it for a schema's declared rules.

>>> constraint_from_dict({"kind": "unique", "column": "id"})
[UniqueKey(column='id', method='sequential')]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from privsynth.columns import Column, ColumnsLike, column_map
from privsynth.constraints.predicates import Predicate
from privsynth.constraints.rules import (
    AllowedCombinations,
    Conditional,
    Constraint,
    ForbiddenCombinations,
    Formula,
    Inequality,
    UniqueKey,
)
from privsynth.errors import ConstraintError


class DeclaresRules(Protocol):
    """What :func:`parse_constraints` reads: columns and declared rules (a Schema)."""

    @property
    def columns(self) -> Sequence[Column]: ...

    @property
    def constraints(self) -> Sequence[Mapping[str, Any]]: ...


_KINDS = ("allowed_combinations", "conditional", "forbidden_combinations", "formula",
          "inequality", "order", "unique")


def constraint_from_dict(spec: Mapping[str, Any]) -> list[Constraint]:
    """Rule objects from one JSON constraint (``"order"`` chains give several).

    >>> constraint_from_dict({"kind": "order", "columns": ["a", "b", "c"]})
    [Inequality(low='a', high='b', strict=False), Inequality(low='b', high='c', strict=False)]
    """
    if not isinstance(spec, Mapping):
        raise ConstraintError("each constraint must be a JSON object with a 'kind'")
    kind = spec.get("kind")
    keys: dict[str, set[str]] = {
        "allowed_combinations": {"columns", "combinations"},
        "forbidden_combinations": {"columns", "combinations"},
        "inequality": {"low", "high", "strict"},
        "order": {"columns", "strict"},
        "conditional": {"if", "then"},
        "formula": {"column", "expression"},
        "unique": {"column", "method"},
    }
    if not isinstance(kind, str) or kind not in keys:
        raise ConstraintError(f"unknown constraint kind {kind!r}; use one of {list(_KINDS)}")
    unknown = sorted(set(spec) - keys[kind] - {"kind", "description"})
    if unknown:
        raise ConstraintError(f"{kind} constraint: unknown key(s) {unknown}; allowed: "
                              f"{sorted(keys[kind])}")

    def need(key: str, typ: type | tuple[type, ...], what: str) -> Any:
        if key not in spec or not isinstance(spec[key], typ):
            raise ConstraintError(f"{kind} constraint: '{key}' must be {what}")
        return spec[key]

    if kind in ("allowed_combinations", "forbidden_combinations"):
        cols = need("columns", (list, tuple), "a list of column names")
        combos = need("combinations", (list, tuple), "a list of value lists")
        cls = AllowedCombinations if kind == "allowed_combinations" else ForbiddenCombinations
        for c in combos:
            if not isinstance(c, list | tuple):
                raise ConstraintError(f"{kind} constraint: each combination is a list of values")
        return [cls(tuple(cols), tuple(tuple(c) for c in combos))]
    if kind == "inequality":
        return [Inequality(need("low", str, "a column name"), need("high", str, "a column name"),
                           spec.get("strict", False))]
    if kind == "order":
        cols = need("columns", (list, tuple), "a list of at least two column names")
        if len(cols) < 2:
            raise ConstraintError("order constraint: list at least two columns")
        return [Inequality(a, b, spec.get("strict", False)) for a, b in itertools.pairwise(cols)]
    if kind == "conditional":
        return [Conditional(Predicate.from_dict(spec.get("if"), "conditional 'if'"),
                            Predicate.from_dict(spec.get("then"), "conditional 'then'"))]
    if kind == "formula":
        return [Formula(need("column", str, "a column name"),
                        need("expression", str, "an arithmetic expression"))]
    return [UniqueKey(need("column", str, "a column name"), spec.get("method", "sequential"))]


def parse_constraints(schema: DeclaresRules,
                      extra: Sequence[Constraint | Mapping[str, Any]] = (),
                      ) -> tuple[Constraint, ...]:
    """The declared rules of ``schema`` (plus ``extra``) as validated objects.

    ``schema`` is anything with ``columns`` and ``constraints`` (a
    :class:`~privsynth.schema.Schema`); see :func:`parse_rules`.
    """
    return parse_rules((*schema.constraints, *extra), schema.columns)


def parse_rules(specs: Iterable[Constraint | Mapping[str, Any]], columns: ColumnsLike,
                ) -> tuple[Constraint, ...]:
    """Rules (objects or JSON objects) as validated objects, checked against ``columns``.

    Raises :class:`~privsynth.errors.ConstraintError` when a rule is malformed
    or does not fit the columns (unknown column, wrong kind, value outside the
    domain, a formula that is not plain arithmetic, ...).

    >>> from privsynth.columns import IntegerColumn
    >>> cols = {n: IntegerColumn(n, lower=0, upper=5) for n in ("a", "b")}
    >>> parse_rules([{"kind": "inequality", "low": "a", "high": "b"}], cols)
    (Inequality(low='a', high='b', strict=False),)
    >>> parse_rules([{"kind": "inequality", "low": "a", "high": "c"}], cols)
    Traceback (most recent call last):
    ...
    privsynth.errors.ConstraintError: inequality a <= c: no column 'c' in the schema; ...
    """
    cols = column_map(columns)
    rules: list[Constraint] = []
    for spec in specs:
        if isinstance(spec, Constraint):
            rules.append(spec)
        else:
            rules.extend(constraint_from_dict(spec))
    for r in rules:
        r.validate(cols)
    keys = [r.column for r in rules if isinstance(r, UniqueKey)]
    targets = [r.column for r in rules if isinstance(r, Formula)]
    for name in {*keys, *targets}:
        if keys.count(name) + targets.count(name) > 1:
            raise ConstraintError(f"column {name!r} is generated by more than one rule "
                                  "(formula or unique key)")
    formula_order(rules)
    return tuple(rules)


def formula_order(rules: Sequence[Constraint]) -> list[Formula]:
    """Formulas in an order where each one's inputs are computed first; refuses cycles."""
    formulas = {r.column: r for r in rules if isinstance(r, Formula)}
    done: dict[str, None] = {}
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise ConstraintError(f"formulas depend on each other in a cycle through {name!r}")
        visiting.add(name)
        for dep in formulas[name].parsed.names:
            if dep in formulas:
                visit(dep)
        visiting.discard(name)
        done[name] = None

    for name in formulas:
        visit(name)
    return [formulas[n] for n in done]


__all__ = [
    "DeclaresRules",
    "constraint_from_dict",
    "formula_order",
    "parse_constraints",
    "parse_rules",
]

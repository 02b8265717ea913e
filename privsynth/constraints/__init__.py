"""Public rules that synthetic rows must obey, and the conditions of conditional sampling.

A *constraint* is a public rule about the table ("a husband is male", "the end
date is not before the start date", "hours are 0 when unemployed"). It is
declared in the schema's ``constraints`` list (JSON) or built in Python, and
enforced when *sampling* a fitted model: this is post-processing of the DP
model's outputs, so it costs no privacy budget and reads no private data.

Kinds (JSON ``"kind"`` -> Python class, in :mod:`privsynth.constraints.rules`):

- ``"allowed_combinations"`` -> :class:`AllowedCombinations`: the values of some
  categorical/boolean columns must form one of the listed combinations;
- ``"forbidden_combinations"`` -> :class:`ForbiddenCombinations`: they must not
  form any of the listed combinations;
- ``"inequality"`` (or ``"order"``, a chain) -> :class:`Inequality`: ``low <= high``
  (``<`` when strict) between numeric or datetime columns;
- ``"conditional"`` -> :class:`Conditional`: if a predicate holds on one column,
  another predicate must hold (e.g. a range conditional on a category);
- ``"formula"`` -> :class:`Formula`: a column derived from others by arithmetic
  (a restricted expression language parsed with :mod:`ast`, never ``eval``);
- ``"unique"`` -> :class:`UniqueKey`: a key column generated (sequential or
  random distinct values), not learned.

The schema's own domains (category lists, bounds, nullability) are always
enforced, without being declared (:func:`domain_mask`).

One concept a module: :mod:`~privsynth.constraints.predicates` (values of one
column, predicates, the implied domain), :mod:`~privsynth.constraints.formula`
(the formula language), :mod:`~privsynth.constraints.rules` (the rule kinds),
:mod:`~privsynth.constraints.parsing` (JSON to rules),
:mod:`~privsynth.constraints.conditions` (conditional sampling's conditions) and
:mod:`~privsynth.constraints.satisfiability` (contradictions). Everything is
checked against columns by name (``{name: Column}``; a Schema works too, being
a sequence of columns), so this package sits below :mod:`privsynth.schema`. How
an engine's sampler is made to obey the rules (rejection, unique keys) lives in
:mod:`privsynth.engines._sampling`.

>>> import pandas as pd
>>> from privsynth.columns import IntegerColumn
>>> cols = {n: IntegerColumn(n, lower=0, upper=9) for n in ("start", "end")}
>>> (rule,) = parse_rules([{"kind": "inequality", "low": "start", "high": "end"}], cols)
>>> rule.describe()
'start <= end'
>>> rule.satisfied(pd.DataFrame({"start": [1, 5], "end": [3, 2]}), cols).tolist()
[True, False]
"""

from __future__ import annotations

from privsynth.constraints.conditions import (
    describe_conditions,
    normalize_conditions,
    set_condition_values,
)
from privsynth.constraints.formula import FormulaExpression, parse_formula
from privsynth.constraints.parsing import (
    DeclaresRules,
    constraint_from_dict,
    formula_order,
    parse_constraints,
    parse_rules,
)
from privsynth.constraints.predicates import (
    Predicate,
    column_domain_mask,
    domain_mask,
    numeric_values,
)
from privsynth.constraints.rules import (
    AllowedCombinations,
    Conditional,
    Constraint,
    ForbiddenCombinations,
    Formula,
    Inequality,
    UniqueKey,
)
from privsynth.constraints.satisfiability import check_satisfiable

__all__ = [
    "AllowedCombinations",
    "Conditional",
    "Constraint",
    "DeclaresRules",
    "ForbiddenCombinations",
    "Formula",
    "FormulaExpression",
    "Inequality",
    "Predicate",
    "UniqueKey",
    "check_satisfiable",
    "column_domain_mask",
    "constraint_from_dict",
    "describe_conditions",
    "domain_mask",
    "formula_order",
    "normalize_conditions",
    "numeric_values",
    "parse_constraints",
    "parse_formula",
    "parse_rules",
    "set_condition_values",
]

"""The rule kinds a schema can declare, each a row-wise test on the synthetic table.

- :class:`AllowedCombinations` / :class:`ForbiddenCombinations`: the values of
  categorical/boolean columns must (not) form one of the listed combinations;
- :class:`Inequality`: ``low <= high`` (``<`` when strict), numbers or datetimes;
- :class:`Conditional`: if a predicate holds on one column, another must hold;
- :class:`Formula`: a column derived from others by arithmetic
  (:mod:`privsynth.constraints.formula`);
- :class:`UniqueKey`: a key column generated, not learned.

Rules are checked against columns given by name (``{name: Column}``; a
Schema, being a sequence of columns, works too), never against the Schema
class.

>>> from privsynth.columns import IntegerColumn
>>> cols = {n: IntegerColumn(n, lower=0, upper=9) for n in ("start", "end")}
>>> rule = Inequality("start", "end")
>>> rule.validate(cols)
>>> rule.describe()
'start <= end'
>>> rule.satisfied(pd.DataFrame({"start": [1, 5], "end": [3, 2]}), cols).tolist()
[True, False]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from privsynth._types import BoolArray, FloatArray
from privsynth.columns import (
    BooleanColumn,
    CategoricalColumn,
    ColumnsLike,
    DatetimeColumn,
    FloatColumn,
    IntegerColumn,
    column_map,
)
from privsynth.constraints.formula import FormulaExpression, parse_formula
from privsynth.constraints.predicates import (
    Predicate,
    check_value,
    codes_of,
    column_of,
    fmt_value,
    numeric_values,
    value_code,
)
from privsynth.errors import ConstraintError


class Constraint(ABC):
    """Base of the rule kinds: which columns, a check per row, JSON form."""

    kind: ClassVar[str] = ""

    @property
    @abstractmethod
    def columns(self) -> tuple[str, ...]:
        """The columns the rule reads or writes."""

    @abstractmethod
    def validate(self, schema: ColumnsLike) -> None:
        """Raise :class:`ConstraintError` when the rule does not fit ``schema``."""

    @abstractmethod
    def satisfied(self, df: pd.DataFrame, schema: ColumnsLike) -> BoolArray:
        """Rows of ``df`` that obey the rule."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The JSON form (as written in a schema's ``constraints`` list)."""

    @abstractmethod
    def describe(self) -> str:
        """A short human-readable form, used in errors and reports."""

    def __str__(self) -> str:
        return self.describe()


def _check_combo_columns(rule: _Combinations, schema: ColumnsLike) -> None:
    where = f"{rule.kind} {list(rule.columns)}"
    if not rule.columns or len(set(rule.columns)) != len(rule.columns):
        raise ConstraintError(f"{where}: list at least one column, each once")
    for name in rule.columns:
        col = column_of(schema, name, where)
        if not isinstance(col, CategoricalColumn | BooleanColumn):
            raise ConstraintError(f"{where}: column {name!r} is {col.kind}; combinations "
                                  "are for categorical or boolean columns")
    if not rule.combinations:
        raise ConstraintError(f"{where}: the combination list is empty")
    for combo in rule.combinations:
        if len(combo) != len(rule.columns):
            raise ConstraintError(f"{where}: each combination needs {len(rule.columns)} "
                                  f"value(s), one per column")
        for name, v in zip(rule.columns, combo, strict=True):
            check_value(column_of(schema, name, where), v, where)


@dataclass(frozen=True)
class _Combinations(Constraint):
    columns_: tuple[str, ...]
    combinations: tuple[tuple[Any, ...], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns_", tuple(self.columns_))
        object.__setattr__(self, "combinations",
                           tuple(tuple(c) if isinstance(c, list | tuple) else (c,)
                                 for c in self.combinations))

    @property
    def columns(self) -> tuple[str, ...]:
        return self.columns_

    def validate(self, schema: ColumnsLike) -> None:
        _check_combo_columns(self, schema)

    def _in_list(self, df: pd.DataFrame, schema: ColumnsLike) -> BoolArray:
        cols = column_map(schema)
        key = np.zeros(len(df), dtype=np.int64)
        want = np.zeros(len(self.combinations), dtype=np.int64)
        for j, name in enumerate(self.columns):
            col = cols[name]
            radix = (col.size if isinstance(col, CategoricalColumn) else 2) + 1
            key = key * radix + codes_of(df[name], col) + 1
            want = want * radix + np.asarray(
                [value_code(col, c[j]) + 1 for c in self.combinations], dtype=np.int64)
        return np.isin(key, want)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "columns": list(self.columns),
                "combinations": [list(c) for c in self.combinations]}

    def _combo_text(self) -> str:
        one = len(self.columns) == 1
        shown = ", ".join(fmt_value(c[0]) if one
                          else "(" + ", ".join(fmt_value(v) for v in c) + ")"
                          for c in self.combinations[:4])
        more = f", ... {len(self.combinations)} in all" if len(self.combinations) > 4 else ""
        cols = self.columns[0] if one else f"({', '.join(self.columns)})"
        return f"{cols} in [{shown}{more}]"


class AllowedCombinations(_Combinations):
    """The values of ``columns`` must form one of ``combinations`` (fixed combinations).

    >>> s = {"a": CategoricalColumn("a", categories=("x", "y")), "b": BooleanColumn("b")}
    >>> r = AllowedCombinations(("a", "b"), (("x", True), ("y", False)))
    >>> r.satisfied(pd.DataFrame({"a": ["x", "x"], "b": [True, False]}), s).tolist()
    [True, False]
    """

    kind = "allowed_combinations"

    def satisfied(self, df: pd.DataFrame, schema: ColumnsLike) -> BoolArray:
        return self._in_list(df, schema)

    def describe(self) -> str:
        return self._combo_text()


class ForbiddenCombinations(_Combinations):
    """The values of ``columns`` must not form any of ``combinations``.

    >>> ForbiddenCombinations(("relationship", "sex"), (("Husband", "Female"),)).describe()
    "(relationship, sex) not in [('Husband', 'Female')]"
    """

    kind = "forbidden_combinations"

    def satisfied(self, df: pd.DataFrame, schema: ColumnsLike) -> BoolArray:
        return ~self._in_list(df, schema)

    def describe(self) -> str:
        return self._combo_text().replace(" in [", " not in [", 1)


@dataclass(frozen=True)
class Inequality(Constraint):
    """``low <= high`` (``low < high`` when ``strict``), numbers or datetimes.

    Rows where either value is missing are not checked (use a
    :class:`Conditional` with ``is_null`` to rule missing values out).
    """

    low: str
    high: str
    strict: bool = False
    kind: ClassVar[str] = "inequality"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.low, self.high)

    def validate(self, schema: ColumnsLike) -> None:
        where = f"inequality {self.describe()}"
        if not isinstance(self.strict, bool):
            raise ConstraintError(f"{where}: 'strict' is true or false")
        a, b = (column_of(schema, n, where) for n in (self.low, self.high))
        if self.low == self.high:
            raise ConstraintError(f"{where}: compare two different columns")
        for c in (a, b):
            if not c.is_numeric:
                raise ConstraintError(f"{where}: column {c.name!r} is {c.kind}; inequalities "
                                      "compare numeric or datetime columns")
        if isinstance(a, DatetimeColumn) != isinstance(b, DatetimeColumn):
            raise ConstraintError(f"{where}: compare a datetime with a datetime, not with "
                                  "a number")

    def satisfied(self, df: pd.DataFrame, schema: ColumnsLike) -> BoolArray:
        cols = column_map(schema)
        a, b = cols[self.low], cols[self.high]
        if isinstance(a, DatetimeColumn):
            # compare at nanosecond precision: the two columns may differ in resolution
            x = pd.to_datetime(df[self.low]).astype("datetime64[ns]").astype("int64")
            y = pd.to_datetime(df[self.high]).astype("datetime64[ns]").astype("int64")
            xv = x.to_numpy(dtype=np.float64)
            yv = y.to_numpy(dtype=np.float64)
            xv[df[self.low].isna().to_numpy()] = np.nan
            yv[df[self.high].isna().to_numpy()] = np.nan
        else:
            xv, yv = numeric_values(df[self.low], a), numeric_values(df[self.high], b)
        with np.errstate(invalid="ignore"):
            ok = xv < yv if self.strict else xv <= yv
        return ok | np.isnan(xv) | np.isnan(yv)

    def bounds_feasible(self, schema: ColumnsLike) -> bool:
        """Whether the public bounds leave any pair of values obeying the rule."""
        cols = column_map(schema)
        a, b = cols[self.low], cols[self.high]
        if a.nullable or b.nullable:
            return True
        if isinstance(a, DatetimeColumn) and isinstance(b, DatetimeColumn):
            lo, hi = pd.Timestamp(a.lower), pd.Timestamp(b.upper)
            return bool(lo < hi if self.strict else lo <= hi)
        lo_f, hi_f = float(a.lower), float(b.upper)  # type: ignore[attr-defined]
        return lo_f < hi_f if self.strict else lo_f <= hi_f

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "low": self.low, "high": self.high, "strict": self.strict}

    def describe(self) -> str:
        return f"{self.low} {'<' if self.strict else '<='} {self.high}"


@dataclass(frozen=True)
class Conditional(Constraint):
    """If ``condition`` holds, ``then`` must hold (e.g. a range conditional on a category).

    >>> r = Conditional(Predicate("employment", values=("unemployed",)),
    ...                 Predicate("hours", between=(0, 0)))
    >>> r.describe()
    "if employment == 'unemployed' then hours between 0 and 0"
    """

    condition: Predicate
    then: Predicate
    kind: ClassVar[str] = "conditional"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.condition.column, self.then.column)))

    def validate(self, schema: ColumnsLike) -> None:
        where = f"conditional rule '{self.describe()}'"
        self.condition.validate(schema, where)
        self.then.validate(schema, where)

    def satisfied(self, df: pd.DataFrame, schema: ColumnsLike) -> BoolArray:
        return ~self.condition.mask(df, schema) | self.then.mask(df, schema)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "if": self.condition.to_dict(), "then": self.then.to_dict()}

    def describe(self) -> str:
        return f"if {self.condition.describe()} then {self.then.describe()}"


@dataclass(frozen=True)
class Formula(Constraint):
    """``column`` is computed from other numeric columns by ``expression``.

    The model's own value of ``column`` is replaced by the formula's result,
    rounded to whole numbers for integer columns and to ``decimals`` for float
    columns; rows whose result falls outside the column's bounds (or is
    undefined, e.g. a division by zero) are rejected.

    >>> Formula("total", "a + b").describe()
    'total = a + b'
    """

    column: str
    expression: str
    kind: ClassVar[str] = "formula"

    def __post_init__(self) -> None:
        object.__setattr__(self, "_parsed", parse_formula(self.expression))

    @property
    def parsed(self) -> FormulaExpression:
        out: FormulaExpression = self.__dict__["_parsed"]
        return out

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column, *self.parsed.names)

    def validate(self, schema: ColumnsLike) -> None:
        where = f"formula '{self.describe()}'"
        target = column_of(schema, self.column, where)
        for c in (target, *(column_of(schema, n, where) for n in self.parsed.names)):
            if not isinstance(c, IntegerColumn | FloatColumn):
                raise ConstraintError(f"{where}: column {c.name!r} is {c.kind}; formulas "
                                      "use integer and float columns")
        if self.column in self.parsed.names:
            raise ConstraintError(f"{where}: the column cannot be computed from itself")

    def compute(self, df: pd.DataFrame, schema: ColumnsLike) -> FloatArray:
        """The formula's value per row, rounded as the target column is; NaN if undefined."""
        cols = column_map(schema)
        vals = {n: numeric_values(df[n], cols[n]) for n in self.parsed.names}
        if not vals:
            vals = {"": np.zeros(len(df))}
        out = self.parsed.evaluate(vals)
        col = cols[self.column]
        with np.errstate(invalid="ignore"):
            if isinstance(col, IntegerColumn):
                out = np.rint(out)
            elif isinstance(col, FloatColumn) and col.decimals is not None:
                out = np.round(out, col.decimals)
        return out

    def satisfied(self, df: pd.DataFrame, schema: ColumnsLike) -> BoolArray:
        want = self.compute(df, schema)
        have = numeric_values(df[self.column], column_map(schema)[self.column])
        tol = 1e-9 * np.maximum(1.0, np.abs(want))
        with np.errstate(invalid="ignore"):
            return (np.abs(have - want) <= tol) | (np.isnan(want) & np.isnan(have))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "column": self.column, "expression": self.expression}

    def describe(self) -> str:
        return f"{self.column} = {self.expression}"


@dataclass(frozen=True)
class UniqueKey(Constraint):
    """``column`` is a key: generated distinct values, not learned from the data.

    ``method="sequential"`` numbers rows from the column's lower bound (or
    lists categories in schema order); ``"random"`` draws distinct values
    uniformly from the column's domain.

    >>> UniqueKey("id").describe()
    'id is a unique key (sequential)'
    """

    column: str
    method: str = "sequential"
    kind: ClassVar[str] = "unique"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def validate(self, schema: ColumnsLike) -> None:
        where = f"unique key {self.column!r}"
        col = column_of(schema, self.column, where)
        if self.method not in ("sequential", "random"):
            raise ConstraintError(f"{where}: method must be 'sequential' or 'random', "
                                  f"got {self.method!r}")
        if not isinstance(col, IntegerColumn | CategoricalColumn):
            raise ConstraintError(f"{where}: keys are integer or categorical columns, "
                                  f"not {col.kind}")

    def capacity(self, schema: ColumnsLike) -> int:
        col = column_map(schema)[self.column]
        if isinstance(col, CategoricalColumn):
            return col.size
        assert isinstance(col, IntegerColumn)
        return col.upper - col.lower + 1

    def generate(self, n: int, schema: ColumnsLike, rng: np.random.Generator) -> pd.Series:
        """``n`` distinct keys (raises :class:`ConstraintError` if the domain is too small)."""
        cap = self.capacity(schema)
        if n > cap:
            raise ConstraintError(f"unique key {self.column!r}: {n} rows requested but the "
                                  f"schema allows only {cap} distinct values")
        col = column_map(schema)[self.column]
        pos = np.arange(n, dtype=np.int64) if self.method == "sequential" \
            else rng.choice(cap, size=n, replace=False).astype(np.int64)
        if isinstance(col, CategoricalColumn):
            return pd.Series(np.asarray(col.categories, dtype=object)[pos], dtype="object",
                             name=self.column)
        assert isinstance(col, IntegerColumn)
        vals = col.lower + pos
        return pd.Series(vals, name=self.column).astype("Int64" if col.nullable else np.int64)

    def satisfied(self, df: pd.DataFrame, schema: ColumnsLike) -> BoolArray:
        s = df[self.column]
        return np.asarray(~s.duplicated(keep="first") & s.notna(), dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "column": self.column, "method": self.method}

    def describe(self) -> str:
        return f"{self.column} is a unique key ({self.method})"


__all__ = [
    "AllowedCombinations",
    "Conditional",
    "Constraint",
    "ForbiddenCombinations",
    "Formula",
    "Inequality",
    "UniqueKey",
]

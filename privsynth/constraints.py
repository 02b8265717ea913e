"""Public rules that synthetic rows must obey, and conditional sampling.

A *constraint* is a public rule about the table ("a husband is male", "the end
date is not before the start date", "hours are 0 when unemployed"). It is
declared in the schema's ``constraints`` list (JSON) or built in Python, and
enforced when *sampling* a fitted model: this is post-processing of the DP
model's outputs, so it costs no privacy budget and reads no private data.

Kinds (JSON ``"kind"`` → Python class):

- ``"allowed_combinations"`` → :class:`AllowedCombinations`: the values of some
  categorical/boolean columns must form one of the listed combinations;
- ``"forbidden_combinations"`` → :class:`ForbiddenCombinations`: they must not
  form any of the listed combinations;
- ``"inequality"`` (or ``"order"``, a chain) → :class:`Inequality`: ``low <= high``
  (``<`` when strict) between numeric or datetime columns;
- ``"conditional"`` → :class:`Conditional`: if a predicate holds on one column,
  another predicate must hold (e.g. a range conditional on a category);
- ``"formula"`` → :class:`Formula`: a column derived from others by arithmetic
  (a restricted expression language parsed with :mod:`ast`, never ``eval``);
- ``"unique"`` → :class:`UniqueKey`: a key column generated (sequential or
  random distinct values), not learned.

The schema's own domains (category lists, bounds, nullability) are always
enforced, without being declared.

>>> from privsynth.schema import Schema
>>> s = Schema.from_dict({"columns": [
...     {"name": "start", "kind": "integer", "lower": 0, "upper": 9},
...     {"name": "end", "kind": "integer", "lower": 0, "upper": 9}]})
>>> rule = Inequality("start", "end")
>>> rule.describe()
'start <= end'
>>> rule.satisfied(pd.DataFrame({"start": [1, 5], "end": [3, 2]}), s).tolist()
[True, False]
"""

from __future__ import annotations

import ast
import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth._types import BoolArray, FloatArray
from privsynth.errors import ConstraintError
from privsynth.schema import (
    BooleanColumn,
    CategoricalColumn,
    Column,
    DatetimeColumn,
    FloatColumn,
    IntegerColumn,
    Schema,
)

#: Default bound on rejection sampling: at most ``max_tries`` raw rows per
#: requested row, and an error when fewer than ``1 / max_tries`` are accepted.
DEFAULT_MAX_TRIES = 200
#: Raw rows drawn before a low acceptance rate is judged (a pilot run).
_PILOT_ROWS = 1000
#: Largest batch handed to an engine's raw sampler in one call.
_MAX_BATCH = 200_000
#: Largest number of cells enumerated to prove rules contradictory.
_MAX_ENUMERATION = 1_000_000
_MAX_FORMULA_CHARS = 1000


# ----------------------------------------------------------------- helpers
def _column(schema: Schema, name: object, where: str) -> Column:
    if not isinstance(name, str) or name not in schema:
        raise ConstraintError(f"{where}: no column {name!r} in the schema; "
                              f"columns are {list(schema.names)}")
    return schema[name]


def _is_number(x: object) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)


def _check_value(col: Column, value: object, where: str) -> Any:
    """A user-given value of ``col`` normalized (categories str, bool, float, Timestamp)."""
    if value is None:
        if not col.nullable:
            raise ConstraintError(f"{where}: column {col.name!r} is not nullable, so it is "
                                  "never missing (null)")
        return None
    if isinstance(col, CategoricalColumn):
        if not isinstance(value, str) or value not in col.categories:
            raise ConstraintError(f"{where}: {value!r} is not a category of column "
                                  f"{col.name!r}; categories are {list(col.categories)[:20]}")
        return value
    if isinstance(col, BooleanColumn):
        if not isinstance(value, bool | np.bool_):
            raise ConstraintError(f"{where}: column {col.name!r} is boolean; use true or false")
        return bool(value)
    if isinstance(col, DatetimeColumn):
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError) as exc:
            raise ConstraintError(f"{where}: column {col.name!r} needs an ISO 8601 date, "
                                  f"got {value!r}") from exc
        if pd.isna(ts) or not pd.Timestamp(col.lower) <= ts <= pd.Timestamp(col.upper):
            raise ConstraintError(f"{where}: {value!r} is outside the bounds of column "
                                  f"{col.name!r} [{col.lower}, {col.upper}]")
        return ts
    if isinstance(col, IntegerColumn | FloatColumn):
        if not _is_number(value) or not math.isfinite(float(value)):  # type: ignore[arg-type]
            raise ConstraintError(f"{where}: column {col.name!r} is numeric; give a number, "
                                  f"got {value!r}")
        v = float(value)  # type: ignore[arg-type]
        if not col.lower <= v <= col.upper:
            raise ConstraintError(f"{where}: {value!r} is outside the bounds of column "
                                  f"{col.name!r} [{col.lower}, {col.upper}]")
        if isinstance(col, IntegerColumn) and v != int(v):
            raise ConstraintError(f"{where}: column {col.name!r} holds whole numbers, "
                                  f"got {value!r}")
        return v
    raise ConstraintError(f"{where}: unsupported column kind {col.kind!r}")


def numeric_values(series: pd.Series, col: Column) -> FloatArray:
    """A numeric or datetime column as float64 (datetimes in units), NaN for missing."""
    if isinstance(col, DatetimeColumn):
        return col.to_units(series).to_numpy(dtype=np.float64)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _to_number(col: Column, value: Any) -> float:
    """A normalized value of a numeric/datetime column as a float (datetimes in units)."""
    if isinstance(col, DatetimeColumn):
        return float(col.to_units(pd.Series([value])).iloc[0])
    return float(value)


def _codes(series: pd.Series, col: Column) -> npt.NDArray[np.int64]:
    """Categorical/boolean values as codes: category index (False=0, True=1), -1 missing."""
    if isinstance(col, CategoricalColumn):
        cat = pd.Categorical(series.astype("object"), categories=list(col.categories))
        return np.asarray(cat.codes, dtype=np.int64)
    s = series.astype("boolean")
    out = np.where(s.fillna(False).to_numpy(dtype=bool), 1, 0).astype(np.int64)
    out[s.isna().to_numpy()] = -1
    return out


def _value_code(col: Column, value: Any) -> int:
    if value is None:
        return -1
    if isinstance(col, CategoricalColumn):
        return col.categories.index(value)
    return int(bool(value))


def _fmt(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, pd.Timestamp):
        return repr(value.isoformat())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


# -------------------------------------------------------------- predicates
@dataclass(frozen=True)
class Predicate:
    """A test on one column: membership, a closed range, or (non-)missingness.

    Exactly one of ``values``, ``between`` and ``null`` is given. ``values``
    may include ``None`` (missing). JSON: ``{"column": c, "in": [...]}``,
    ``{"column": c, "equals": v}``, ``{"column": c, "between": [lo, hi]}``
    (inclusive; ISO dates for datetime columns) or ``{"column": c, "is_null": b}``.

    >>> Predicate("hours", between=(0, 0)).describe()
    'hours between 0 and 0'
    """

    column: str
    values: tuple[Any, ...] | None = None
    between: tuple[Any, Any] | None = None
    null: bool | None = None

    def __post_init__(self) -> None:
        given = sum(x is not None for x in (self.values, self.between, self.null))
        if given != 1:
            raise ConstraintError(f"condition on {self.column!r}: give exactly one of 'in', "
                                  "'equals', 'between' or 'is_null'")
        if self.values is not None:
            object.__setattr__(self, "values", tuple(self.values))
            if not self.values:
                raise ConstraintError(f"condition on {self.column!r}: the 'in' list is empty")
        if self.between is not None:
            if not isinstance(self.between, list | tuple) or len(self.between) != 2:
                raise ConstraintError(f"condition on {self.column!r}: 'between' needs "
                                      "[lower, upper]")
            object.__setattr__(self, "between", tuple(self.between))
        if self.null is not None and not isinstance(self.null, bool):
            raise ConstraintError(f"condition on {self.column!r}: 'is_null' is true or false")

    @classmethod
    def from_dict(cls, spec: object, where: str) -> Predicate:
        if not isinstance(spec, Mapping):
            raise ConstraintError(f"{where}: a condition must be a JSON object such as "
                                  '{"column": "x", "in": ["a"]}')
        unknown = sorted(set(spec) - {"column", "in", "equals", "between", "is_null"})
        if unknown:
            raise ConstraintError(f"{where}: unknown key(s) {unknown} in a condition")
        column = spec.get("column")
        if not isinstance(column, str):
            raise ConstraintError(f"{where}: a condition needs a 'column' name")
        values = spec.get("in")
        if "equals" in spec:
            if values is not None:
                raise ConstraintError(f"{where}: give 'in' or 'equals', not both")
            values = [spec["equals"]]
        if values is not None and not isinstance(values, list | tuple):
            raise ConstraintError(f"{where}: 'in' must be a list")
        return cls(column, tuple(values) if values is not None else None,
                   spec.get("between"), spec.get("is_null"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"column": self.column}
        if self.values is not None:
            out["in"] = list(self.values)
        elif self.between is not None:
            out["between"] = list(self.between)
        else:
            out["is_null"] = self.null
        return out

    def validate(self, schema: Schema, where: str) -> None:
        col = _column(schema, self.column, where)
        if self.values is not None:
            for v in self.values:
                _check_value(col, v, where)
        elif self.between is not None:
            if not col.is_numeric:
                raise ConstraintError(f"{where}: 'between' needs a numeric or datetime column; "
                                      f"{self.column!r} is {col.kind}")
            lo, hi = (self._bound(col, b, where) for b in self.between)
            if lo > hi:
                raise ConstraintError(f"{where}: range [{self.between[0]}, {self.between[1]}] "
                                      f"of {self.column!r} is empty (lower above upper)")
        elif self.null and not col.nullable:
            raise ConstraintError(f"{where}: column {self.column!r} is not nullable, so "
                                  "'is_null: true' never holds")

    @staticmethod
    def _bound(col: Column, b: object, where: str) -> float:
        if isinstance(col, DatetimeColumn):
            try:
                return _to_number(col, pd.Timestamp(b))
            except (ValueError, TypeError) as exc:
                raise ConstraintError(f"{where}: bound {b!r} of {col.name!r} is not an ISO "
                                      "date") from exc
        if not _is_number(b):
            raise ConstraintError(f"{where}: bound {b!r} of {col.name!r} is not a number")
        return float(b)  # type: ignore[arg-type]

    def mask(self, df: pd.DataFrame, schema: Schema) -> BoolArray:
        """Rows where the predicate holds."""
        col = schema[self.column]
        s = df[self.column]
        missing = s.isna().to_numpy()
        if self.null is not None:
            return missing if self.null else ~missing
        if self.between is not None:
            x = numeric_values(s, col)
            lo, hi = (self._bound(col, b, "") for b in self.between)
            with np.errstate(invalid="ignore"):
                return (x >= lo) & (x <= hi)
        assert self.values is not None
        want_null = any(v is None for v in self.values)
        vals = [v for v in self.values if v is not None]
        if col.is_numeric:
            x = numeric_values(s, col)
            nums = [_to_number(col, pd.Timestamp(v) if isinstance(col, DatetimeColumn) else v)
                    for v in vals]
            out = np.isin(x, np.asarray(nums, dtype=np.float64))
        elif isinstance(col, CategoricalColumn):
            out = np.asarray(s.isin(vals).to_numpy(), dtype=bool)
        else:
            out = np.isin(_codes(s, col), [_value_code(col, v) for v in vals])
        return out | missing if want_null else out & ~missing

    def describe(self) -> str:
        if self.null is not None:
            return f"{self.column} is {'null' if self.null else 'not null'}"
        if self.between is not None:
            return f"{self.column} between {_fmt(self.between[0])} and {_fmt(self.between[1])}"
        assert self.values is not None
        if len(self.values) == 1:
            return f"{self.column} == {_fmt(self.values[0])}"
        return f"{self.column} in [{', '.join(_fmt(v) for v in self.values)}]"


# ------------------------------------------------------------- constraints
class Constraint(ABC):
    """Base of the rule kinds: which columns, a check per row, JSON form."""

    kind: ClassVar[str] = ""

    @property
    @abstractmethod
    def columns(self) -> tuple[str, ...]:
        """The columns the rule reads or writes."""

    @abstractmethod
    def validate(self, schema: Schema) -> None:
        """Raise :class:`ConstraintError` when the rule does not fit ``schema``."""

    @abstractmethod
    def satisfied(self, df: pd.DataFrame, schema: Schema) -> BoolArray:
        """Rows of ``df`` that obey the rule."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The JSON form (as written in a schema's ``constraints`` list)."""

    @abstractmethod
    def describe(self) -> str:
        """A short human-readable form, used in errors and reports."""

    def __str__(self) -> str:
        return self.describe()


def _check_combo_columns(rule: _Combinations, schema: Schema) -> None:
    where = f"{rule.kind} {list(rule.columns)}"
    if not rule.columns or len(set(rule.columns)) != len(rule.columns):
        raise ConstraintError(f"{where}: list at least one column, each once")
    for name in rule.columns:
        col = _column(schema, name, where)
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
            _check_value(schema[name], v, where)


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

    def validate(self, schema: Schema) -> None:
        _check_combo_columns(self, schema)

    def _in_list(self, df: pd.DataFrame, schema: Schema) -> BoolArray:
        key = np.zeros(len(df), dtype=np.int64)
        want = np.zeros(len(self.combinations), dtype=np.int64)
        for j, name in enumerate(self.columns):
            col = schema[name]
            radix = (col.size if isinstance(col, CategoricalColumn) else 2) + 1
            key = key * radix + _codes(df[name], col) + 1
            want = want * radix + np.asarray(
                [_value_code(col, c[j]) + 1 for c in self.combinations], dtype=np.int64)
        return np.isin(key, want)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "columns": list(self.columns),
                "combinations": [list(c) for c in self.combinations]}

    def _combo_text(self) -> str:
        one = len(self.columns) == 1
        shown = ", ".join(_fmt(c[0]) if one else "(" + ", ".join(_fmt(v) for v in c) + ")"
                          for c in self.combinations[:4])
        more = f", ... {len(self.combinations)} in all" if len(self.combinations) > 4 else ""
        cols = self.columns[0] if one else f"({', '.join(self.columns)})"
        return f"{cols} in [{shown}{more}]"


class AllowedCombinations(_Combinations):
    """The values of ``columns`` must form one of ``combinations`` (fixed combinations).

    >>> from privsynth.schema import Schema
    >>> s = Schema.from_dict({"columns": [
    ...     {"name": "a", "kind": "categorical", "categories": ["x", "y"]},
    ...     {"name": "b", "kind": "boolean"}]})
    >>> r = AllowedCombinations(("a", "b"), (("x", True), ("y", False)))
    >>> r.satisfied(pd.DataFrame({"a": ["x", "x"], "b": [True, False]}), s).tolist()
    [True, False]
    """

    kind = "allowed_combinations"

    def satisfied(self, df: pd.DataFrame, schema: Schema) -> BoolArray:
        return self._in_list(df, schema)

    def describe(self) -> str:
        return self._combo_text()


class ForbiddenCombinations(_Combinations):
    """The values of ``columns`` must not form any of ``combinations``.

    >>> ForbiddenCombinations(("relationship", "sex"), (("Husband", "Female"),)).describe()
    "(relationship, sex) not in [('Husband', 'Female')]"
    """

    kind = "forbidden_combinations"

    def satisfied(self, df: pd.DataFrame, schema: Schema) -> BoolArray:
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

    def validate(self, schema: Schema) -> None:
        where = f"inequality {self.describe()}"
        if not isinstance(self.strict, bool):
            raise ConstraintError(f"{where}: 'strict' is true or false")
        a, b = (_column(schema, n, where) for n in (self.low, self.high))
        if self.low == self.high:
            raise ConstraintError(f"{where}: compare two different columns")
        for c in (a, b):
            if not c.is_numeric:
                raise ConstraintError(f"{where}: column {c.name!r} is {c.kind}; inequalities "
                                      "compare numeric or datetime columns")
        if isinstance(a, DatetimeColumn) != isinstance(b, DatetimeColumn):
            raise ConstraintError(f"{where}: compare a datetime with a datetime, not with "
                                  "a number")

    def satisfied(self, df: pd.DataFrame, schema: Schema) -> BoolArray:
        a, b = schema[self.low], schema[self.high]
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

    def bounds_feasible(self, schema: Schema) -> bool:
        """Whether the public bounds leave any pair of values obeying the rule."""
        a, b = schema[self.low], schema[self.high]
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

    def validate(self, schema: Schema) -> None:
        where = f"conditional rule '{self.describe()}'"
        self.condition.validate(schema, where)
        self.then.validate(schema, where)

    def satisfied(self, df: pd.DataFrame, schema: Schema) -> BoolArray:
        return ~self.condition.mask(df, schema) | self.then.mask(df, schema)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "if": self.condition.to_dict(), "then": self.then.to_dict()}

    def describe(self) -> str:
        return f"if {self.condition.describe()} then {self.then.describe()}"


# ----------------------------------------------------------------- formula
_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.true_divide,
    ast.FloorDiv: np.floor_divide, ast.Mod: np.mod, ast.Pow: np.power,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: np.positive, ast.USub: np.negative,
}


@dataclass(frozen=True)
class FormulaExpression:
    """A parsed arithmetic expression over column names (no calls, no attributes).

    Column names that are not Python identifiers are written in backticks.

    >>> e = parse_formula("`capital-gain` - 2 * loss")
    >>> e.names
    ('capital-gain', 'loss')
    >>> e.evaluate({"capital-gain": np.array([10.0]), "loss": np.array([3.0])}).tolist()
    [4.0]
    """

    text: str
    tree: ast.expr
    aliases: tuple[tuple[str, str], ...]  # (identifier in the tree, column name)

    @property
    def names(self) -> tuple[str, ...]:
        """Column names the expression reads, in order of first use."""
        alias = dict(self.aliases)
        seen: dict[str, None] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name):
                seen[alias.get(node.id, node.id)] = None
        return tuple(seen)

    def evaluate(self, values: Mapping[str, FloatArray]) -> FloatArray:
        """The expression on float arrays; NaN where undefined (x/0, overflow, missing)."""
        alias = dict(self.aliases)

        def ev(node: ast.expr) -> Any:
            if isinstance(node, ast.Constant):
                return np.float64(float(node.value))  # type: ignore[arg-type]
            if isinstance(node, ast.Name):
                return np.asarray(values[alias.get(node.id, node.id)], dtype=np.float64)
            if isinstance(node, ast.UnaryOp):
                return _UNARY[type(node.op)](ev(node.operand))
            assert isinstance(node, ast.BinOp)
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))

        with np.errstate(all="ignore"):
            out = np.asarray(ev(self.tree), dtype=np.float64)
            if out.ndim == 0:
                n = len(next(iter(values.values()))) if values else 1
                out = np.full(n, float(out))
            out = np.where(np.isfinite(out), out, np.nan)
        return out


def parse_formula(text: str) -> FormulaExpression:
    """Parse an arithmetic formula safely: numbers, column names, ``+ - * / // % **``.

    The text is parsed with :func:`ast.parse` and every node is checked
    against a short allow-list; nothing is ever evaluated by Python. Calls,
    attributes, subscripts, comparisons, lambdas, strings and imports are
    refused with a :class:`~privsynth.errors.ConstraintError`.

    >>> parse_formula("a + b * 2").names
    ('a', 'b')
    >>> parse_formula("abs(x)")
    Traceback (most recent call last):
    ...
    privsynth.errors.ConstraintError: formula 'abs(x)': a Call is not allowed; ...
    """
    if not isinstance(text, str) or not text.strip():
        raise ConstraintError("a formula must be a non-empty text such as 'a + b'")
    if len(text) > _MAX_FORMULA_CHARS:
        raise ConstraintError(f"a formula is limited to {_MAX_FORMULA_CHARS} characters")
    # `quoted names` become placeholders, so any column name can be used
    aliases: list[tuple[str, str]] = []
    parts = text.split("`")
    if len(parts) % 2 == 0:
        raise ConstraintError(f"formula {text!r}: unbalanced backtick")
    source = []
    for i, part in enumerate(parts):
        if i % 2:
            ident = f"_privsynth_col_{len(aliases)}"
            aliases.append((ident, part))
            source.append(f" {ident} ")
        else:
            source.append(part)
    try:
        tree = ast.parse("".join(source).strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ConstraintError(f"formula {text!r} is not a valid arithmetic expression") from exc
    for node in ast.walk(tree.body):
        ok = (isinstance(node, ast.BinOp) and type(node.op) in _BINOPS) \
            or (isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY) \
            or (isinstance(node, ast.Constant) and _is_number(node.value)) \
            or (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
                and not node.id.startswith("__")) \
            or isinstance(node, ast.operator | ast.unaryop | ast.expr_context)
        if not ok:
            what = type(node.op).__name__ if isinstance(node, ast.BinOp | ast.UnaryOp) \
                else type(node).__name__
            if isinstance(node, ast.Name):
                what = f"name {node.id!r}"
            raise ConstraintError(
                f"formula {text!r}: a {what} is not allowed; formulas use numbers, column "
                "names, parentheses and + - * / // % ** only")
    return FormulaExpression(text, tree.body, tuple(aliases))


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

    def validate(self, schema: Schema) -> None:
        where = f"formula '{self.describe()}'"
        target = _column(schema, self.column, where)
        for c in (target, *(_column(schema, n, where) for n in self.parsed.names)):
            if not isinstance(c, IntegerColumn | FloatColumn):
                raise ConstraintError(f"{where}: column {c.name!r} is {c.kind}; formulas "
                                      "use integer and float columns")
        if self.column in self.parsed.names:
            raise ConstraintError(f"{where}: the column cannot be computed from itself")

    def compute(self, df: pd.DataFrame, schema: Schema) -> FloatArray:
        """The formula's value per row, rounded as the target column is; NaN if undefined."""
        vals = {n: numeric_values(df[n], schema[n]) for n in self.parsed.names}
        if not vals:
            vals = {"": np.zeros(len(df))}
        out = self.parsed.evaluate(vals)
        col = schema[self.column]
        with np.errstate(invalid="ignore"):
            if isinstance(col, IntegerColumn):
                out = np.rint(out)
            elif isinstance(col, FloatColumn) and col.decimals is not None:
                out = np.round(out, col.decimals)
        return out

    def satisfied(self, df: pd.DataFrame, schema: Schema) -> BoolArray:
        want = self.compute(df, schema)
        have = numeric_values(df[self.column], schema[self.column])
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

    def validate(self, schema: Schema) -> None:
        where = f"unique key {self.column!r}"
        col = _column(schema, self.column, where)
        if self.method not in ("sequential", "random"):
            raise ConstraintError(f"{where}: method must be 'sequential' or 'random', "
                                  f"got {self.method!r}")
        if not isinstance(col, IntegerColumn | CategoricalColumn):
            raise ConstraintError(f"{where}: keys are integer or categorical columns, "
                                  f"not {col.kind}")

    def capacity(self, schema: Schema) -> int:
        col = schema[self.column]
        if isinstance(col, CategoricalColumn):
            return col.size
        assert isinstance(col, IntegerColumn)
        return col.upper - col.lower + 1

    def generate(self, n: int, schema: Schema, rng: np.random.Generator) -> pd.Series:
        """``n`` distinct keys (raises :class:`ConstraintError` if the domain is too small)."""
        cap = self.capacity(schema)
        if n > cap:
            raise ConstraintError(f"unique key {self.column!r}: {n} rows requested but the "
                                  f"schema allows only {cap} distinct values")
        col = schema[self.column]
        pos = np.arange(n, dtype=np.int64) if self.method == "sequential" \
            else rng.choice(cap, size=n, replace=False).astype(np.int64)
        if isinstance(col, CategoricalColumn):
            return pd.Series(np.asarray(col.categories, dtype=object)[pos], dtype="object",
                             name=self.column)
        assert isinstance(col, IntegerColumn)
        vals = col.lower + pos
        return pd.Series(vals, name=self.column).astype("Int64" if col.nullable else np.int64)

    def satisfied(self, df: pd.DataFrame, schema: Schema) -> BoolArray:
        s = df[self.column]
        return np.asarray(~s.duplicated(keep="first") & s.notna(), dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "column": self.column, "method": self.method}

    def describe(self) -> str:
        return f"{self.column} is a unique key ({self.method})"


# ------------------------------------------------------------------ parsing
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
    if kind not in keys:
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


def parse_constraints(schema: Schema, extra: Sequence[Constraint | Mapping[str, Any]] = (),
                      ) -> tuple[Constraint, ...]:
    """The schema's declared rules (plus ``extra``) as validated objects.

    Raises :class:`~privsynth.errors.ConstraintError` when a rule is malformed
    or does not fit the schema (unknown column, wrong kind, value outside the
    domain, a formula that is not plain arithmetic, ...).
    """
    rules: list[Constraint] = []
    for spec in (*schema.constraints, *extra):
        if isinstance(spec, Constraint):
            rules.append(spec)
        else:
            rules.extend(constraint_from_dict(spec))
    for r in rules:
        r.validate(schema)
    keys = [r.column for r in rules if isinstance(r, UniqueKey)]
    targets = [r.column for r in rules if isinstance(r, Formula)]
    for name in {*keys, *targets}:
        if keys.count(name) + targets.count(name) > 1:
            raise ConstraintError(f"column {name!r} is generated by more than one rule "
                                  "(formula or unique key)")
    _formula_order(rules)
    return tuple(rules)


def with_constraints(schema: Schema, *rules: Constraint | Mapping[str, Any]) -> Schema:
    """A copy of ``schema`` with ``rules`` added to its constraints (JSON form).

    >>> from privsynth.schema import Schema
    >>> s = Schema.from_dict({"columns": [
    ...     {"name": "a", "kind": "integer", "lower": 0, "upper": 5},
    ...     {"name": "b", "kind": "integer", "lower": 0, "upper": 5}]})
    >>> with_constraints(s, Inequality("a", "b")).constraints
    ({'kind': 'inequality', 'low': 'a', 'high': 'b', 'strict': False},)
    """
    dicts = [r.to_dict() if isinstance(r, Constraint) else dict(r) for r in rules]
    out = Schema(schema.columns, source=schema.source,
                 constraints=(*schema.constraints, *dicts))
    parse_constraints(out)
    return out


def _formula_order(rules: Sequence[Constraint]) -> list[Formula]:
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


# --------------------------------------------------------------- conditions
def normalize_conditions(conditions: Mapping[str, Any] | None, schema: Schema,
                         rules: Sequence[Constraint] = ()) -> dict[str, Any]:
    """Validated conditions ``{column: value}`` (values normalized to the column's kind).

    A category (text), a boolean, a number (numeric columns: the value's bin of
    the model, and the exact value in the output), an ISO date, or ``None``
    (missing, nullable columns only).
    """
    if conditions is None:
        return {}
    if not isinstance(conditions, Mapping):
        raise ConstraintError("conditions must be a dict {column: value}")
    generated = {r.column for r in rules if isinstance(r, UniqueKey | Formula)}
    out: dict[str, Any] = {}
    for name, value in conditions.items():
        col = _column(schema, name, "conditions")
        if name in generated:
            raise ConstraintError(f"conditions: column {name!r} is generated by a rule "
                                  "(formula or unique key) and cannot be conditioned on")
        if isinstance(value, np.generic):
            value = value.item()
        out[name] = _check_value(col, value, "conditions")
    return out


def describe_conditions(conditions: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} == {_fmt(v)}" for k, v in conditions.items()) or "none"


def set_condition_values(df: pd.DataFrame, conditions: Mapping[str, Any],
                         schema: Schema) -> pd.DataFrame:
    """``df`` with each conditioned column set to its exact value (keeps the dtypes)."""
    out = df.copy()
    for name, v in conditions.items():
        col = schema[name]
        if v is None:
            if out[name].dtype == object:
                out[name] = pd.Series([None] * len(out), index=out.index, dtype="object")
            else:
                out[name] = out[name].where(np.zeros(len(out), dtype=bool))
        elif isinstance(col, IntegerColumn):
            out[name] = pd.Series(np.full(len(out), int(v)), index=out.index).astype(
                out[name].dtype)
        elif isinstance(col, FloatColumn):
            out[name] = np.full(len(out), float(v))
        elif isinstance(col, DatetimeColumn):
            out[name] = pd.Series([v] * len(out), index=out.index,
                                  dtype="datetime64[ns]").astype(out[name].dtype)
        elif isinstance(col, BooleanColumn):
            out[name] = pd.Series([bool(v)] * len(out), index=out.index,
                                  dtype=out[name].dtype)
        else:
            out[name] = pd.Series([v] * len(out), index=out.index, dtype="object")
    return out


# ------------------------------------------------------------ schema domain
def domain_mask(df: pd.DataFrame, schema: Schema) -> BoolArray:
    """Rows whose every value lies in the schema's domain (implied, never declared)."""
    ok = np.ones(len(df), dtype=bool)
    for col in schema.columns:
        s = df[col.name]
        ok &= column_domain_mask(s, col) | (s.isna().to_numpy() & col.nullable)
    return ok


def column_domain_mask(s: pd.Series, col: Column) -> BoolArray:
    """Values of one column present and inside its public domain."""
    if isinstance(col, CategoricalColumn):
        return np.asarray(s.astype("object").isin(col.categories).to_numpy(), dtype=bool)
    if isinstance(col, BooleanColumn):
        return np.asarray(s.notna().to_numpy(), dtype=bool)
    x = numeric_values(s, col)
    if isinstance(col, DatetimeColumn):
        lo, hi = float(col.unit_lower), float(col.unit_upper)
    else:
        lo, hi = float(col.lower), float(col.upper)  # type: ignore[attr-defined]
    with np.errstate(invalid="ignore"):
        return (x >= lo) & (x <= hi)


# ----------------------------------------------------- contradiction check
def check_satisfiable(rules: Sequence[Constraint], schema: Schema,
                      conditions: Mapping[str, Any] | None = None, n: int = 0) -> None:
    """Raise :class:`ConstraintError` when the rules (and conditions) cannot all hold.

    Exact for rules on categorical/boolean columns and on ranges of numeric
    columns: the columns are split into groups linked by rules, and each
    group's cells (categories, and the pieces the rules' bounds cut numeric
    domains into) are enumerated when there are at most a million. Other
    contradictions (chains of inequalities, formulas) surface as a zero
    acceptance rate while sampling, which also ends in a ConstraintError.
    """
    conds = dict(conditions or {})
    for r in rules:
        if isinstance(r, Inequality) and not r.bounds_feasible(schema):
            raise ConstraintError(f"rule '{r.describe()}' cannot hold: the schema's bounds "
                                  f"put every {r.low} above every {r.high}")
        if isinstance(r, UniqueKey) and n > r.capacity(schema):
            raise ConstraintError(f"unique key {r.column!r}: {n} rows requested but the "
                                  f"schema allows only {r.capacity(schema)} distinct values")
    checkable: list[Constraint] = [r for r in rules
                                   if isinstance(r, _Combinations | Conditional | _Fact)]
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
        cells = {c: _cells(schema[c], group_rules) for c in members}
        if math.prod(len(v) for v in cells.values()) > _MAX_ENUMERATION:
            continue
        grid = np.indices([len(cells[c]) for c in members]).reshape(len(members), -1)
        df = pd.DataFrame({c: _series(schema[c], [cells[c][i] for i in grid[j]])
                           for j, c in enumerate(members)})
        ok = np.ones(len(df), dtype=bool)
        for r in group_rules:
            ok &= r.satisfied(df, schema)
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

    def validate(self, schema: Schema) -> None:
        self.predicate.validate(schema, "condition")

    def satisfied(self, df: pd.DataFrame, schema: Schema) -> BoolArray:
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
                        points.add(_to_number(col, pd.Timestamp(v)
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


# ---------------------------------------------------------------- sampling
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
        for f in _formula_order(self.rules):
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
    if isinstance(max_tries, bool) or not isinstance(max_tries, int) or max_tries < 1:
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


__all__ = [
    "DEFAULT_MAX_TRIES",
    "AllowedCombinations",
    "Conditional",
    "Constraint",
    "ForbiddenCombinations",
    "Formula",
    "FormulaExpression",
    "Inequality",
    "Predicate",
    "SamplePlan",
    "UniqueKey",
    "apply_unique_keys",
    "check_satisfiable",
    "constraint_from_dict",
    "domain_mask",
    "normalize_conditions",
    "parse_constraints",
    "parse_formula",
    "rejection_sample",
    "with_constraints",
]

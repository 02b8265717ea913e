"""Values of one column and tests on them: predicates and the schema's implied domain.

A :class:`Predicate` tests one column (membership, a closed range, or
missingness); rules (:mod:`privsynth.constraints.rules`) and conditions are
built from it. :func:`domain_mask` is the rule every schema implies without
declaring it: each value lies in its column's public domain. Everything here is
checked against columns given by name (``{name: Column}``, or a Schema), never
against the Schema class, so this layer sits below the schema.

>>> from privsynth.columns import IntegerColumn
>>> cols = {"hours": IntegerColumn("hours", lower=0, upper=99)}
>>> p = Predicate("hours", between=(0, 0))
>>> p.validate(cols, "example")
>>> p.mask(pd.DataFrame({"hours": [0, 40]}), cols).tolist()
[True, False]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth._checks import is_number
from privsynth._types import BoolArray, FloatArray
from privsynth.columns import (
    BooleanColumn,
    CategoricalColumn,
    Column,
    ColumnsLike,
    DatetimeColumn,
    FloatColumn,
    IntegerColumn,
    column_map,
)
from privsynth.errors import ConstraintError


# ----------------------------------------------------------------- helpers
def column_of(schema: ColumnsLike, name: object, where: str) -> Column:
    """The column called ``name``, or a ConstraintError naming the known columns."""
    cols = column_map(schema)
    if not isinstance(name, str) or name not in cols:
        raise ConstraintError(f"{where}: no column {name!r} in the schema; "
                              f"columns are {list(cols)}")
    return cols[name]


def check_value(col: Column, value: object, where: str) -> Any:
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
        if not is_number(value) or not math.isfinite(float(value)):  # type: ignore[arg-type]
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


def to_number(col: Column, value: Any) -> float:
    """A normalized value of a numeric/datetime column as a float (datetimes in units)."""
    if isinstance(col, DatetimeColumn):
        return float(col.to_units(pd.Series([value])).iloc[0])
    return float(value)


def codes_of(series: pd.Series, col: Column) -> npt.NDArray[np.int64]:
    """Categorical/boolean values as codes: category index (False=0, True=1), -1 missing."""
    if isinstance(col, CategoricalColumn):
        # -1 for missing and for values not among the categories
        return np.asarray(pd.Index(col.categories, dtype=object).get_indexer(
            series.astype("object")), dtype=np.int64)
    s = series.astype("boolean")
    out = np.where(s.fillna(False).to_numpy(dtype=bool), 1, 0).astype(np.int64)
    out[s.isna().to_numpy()] = -1
    return out


def value_code(col: Column, value: Any) -> int:
    """The code :func:`codes_of` gives a normalized categorical/boolean value."""
    if value is None:
        return -1
    if isinstance(col, CategoricalColumn):
        return col.categories.index(value)
    return int(bool(value))


def fmt_value(value: Any) -> str:
    """A value as written in rule descriptions and error messages."""
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

    def validate(self, schema: ColumnsLike, where: str) -> None:
        """Raise :class:`ConstraintError` when the predicate does not fit the columns."""
        col = column_of(schema, self.column, where)
        if self.values is not None:
            for v in self.values:
                check_value(col, v, where)
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
                return to_number(col, pd.Timestamp(b))
            except (ValueError, TypeError) as exc:
                raise ConstraintError(f"{where}: bound {b!r} of {col.name!r} is not an ISO "
                                      "date") from exc
        if not is_number(b):
            raise ConstraintError(f"{where}: bound {b!r} of {col.name!r} is not a number")
        return float(b)  # type: ignore[arg-type]

    def mask(self, df: pd.DataFrame, schema: ColumnsLike) -> BoolArray:
        """Rows where the predicate holds."""
        col = column_of(schema, self.column, "condition")
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
            nums = [to_number(col, pd.Timestamp(v) if isinstance(col, DatetimeColumn) else v)
                    for v in vals]
            out = np.isin(x, np.asarray(nums, dtype=np.float64))
        elif isinstance(col, CategoricalColumn):
            out = np.asarray(s.isin(vals).to_numpy(), dtype=bool)
        else:
            out = np.isin(codes_of(s, col), [value_code(col, v) for v in vals])
        return out | missing if want_null else out & ~missing

    def describe(self) -> str:
        if self.null is not None:
            return f"{self.column} is {'null' if self.null else 'not null'}"
        if self.between is not None:
            lo, hi = self.between
            return f"{self.column} between {fmt_value(lo)} and {fmt_value(hi)}"
        assert self.values is not None
        if len(self.values) == 1:
            return f"{self.column} == {fmt_value(self.values[0])}"
        return f"{self.column} in [{', '.join(fmt_value(v) for v in self.values)}]"


# ------------------------------------------------------------ schema domain
def domain_mask(df: pd.DataFrame, schema: ColumnsLike) -> BoolArray:
    """Rows whose every value lies in the schema's domain (implied, never declared)."""
    ok = np.ones(len(df), dtype=bool)
    for col in column_map(schema).values():
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


__all__ = [
    "Predicate",
    "check_value",
    "codes_of",
    "column_domain_mask",
    "column_of",
    "domain_mask",
    "fmt_value",
    "numeric_values",
    "to_number",
    "value_code",
]

"""Column kinds and their public domains: the leaf every other layer builds on.

A column is declared by the data steward, never read from the data: its
*kind* (categorical, boolean, integer, float, datetime) and its public domain
(a category list, or bounds), or the kind ``id``: an identifier that is never
modelled (:class:`IdColumn`). This module holds the six column classes,
:func:`column_from_dict` (one column from its JSON object) and
:func:`column_map` (name -> column, the form constraint rules are checked
against). It imports nothing of privsynth but errors and checks, so the schema,
the constraint rules and the binning can all build on it without a cycle.

>>> c = column_from_dict({"name": "age", "kind": "integer", "lower": 0, "upper": 120})
>>> c.kind, c.upper, c.is_numeric
('integer', 120, True)
>>> sorted(column_map([c, BooleanColumn("smoker")]))
['age', 'smoker']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal

import pandas as pd

from privsynth._checks import is_integer, is_number
from privsynth.errors import SchemaError

Kind = Literal["categorical", "integer", "float", "datetime", "boolean", "id"]
#: The column kinds, sorted.
KINDS: tuple[str, ...] = ("boolean", "categorical", "datetime", "float", "id", "integer")
#: Kinds with ordered, bounded values (bounds needed, DP quantiles estimate them).
NUMERIC_KINDS: tuple[str, ...] = ("datetime", "float", "integer")
#: Resolutions a datetime column may count in.
DATETIME_RESOLUTIONS: tuple[str, ...] = ("s", "min", "h", "D")
# keys left out of the JSON form when they hold their default value
_OPTIONAL_KEYS = frozenset({"nullable", "description", "decimals", "format", "missing_values",
                            "prefix"})
#: The prefix of synthetic identifiers when a schema does not choose one.
DEFAULT_ID_PREFIX = "syn-"


def _finite(x: object) -> bool:
    return is_number(x) and math.isfinite(x)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Column:
    """Base of every column kind: a name, whether missing values are allowed, and
    which text tokens mean "missing" in this column.

    ``missing_values`` is ``None`` (the default) when the table-wide tokens
    apply (``validate(..., missing_values=...)``, the CLI's ``--missing-value``);
    a tuple replaces them for this column (``()``: only NaN/None are missing).
    The ACS, for instance, writes ``N`` for "not applicable" in its numeric
    columns while ``N`` is a category elsewhere.

    >>> IntegerColumn("income", lower=0, upper=10**7, nullable=True,
    ...               missing_values=("N",)).to_dict()["missing_values"]
    ['N']
    """

    name: str
    nullable: bool = False
    description: str = ""
    missing_values: tuple[str, ...] | None = None

    kind: ClassVar[str] = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SchemaError(f"column name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.nullable, bool):
            raise SchemaError(f"column {self.name!r}: 'nullable' must be true or false")
        if self.missing_values is not None:
            tokens = self.missing_values
            if isinstance(tokens, str) or not isinstance(tokens, list | tuple) \
                    or not all(isinstance(t, str) for t in tokens):
                raise SchemaError(
                    f"column {self.name!r}: 'missing_values' must be a list of strings, "
                    f'e.g. ["N"], got {tokens!r}')
            tokens = tuple(t.strip() for t in tokens)
            if len(set(tokens)) != len(tokens):
                raise SchemaError(f"column {self.name!r}: 'missing_values' lists a token twice")
            object.__setattr__(self, "missing_values", tokens)

    def missing_tokens(self, default: Sequence[str] = ("",)) -> tuple[str, ...]:
        """The text tokens that mean missing here: the column's own, else ``default``."""
        return tuple(default) if self.missing_values is None else self.missing_values

    @property
    def is_numeric(self) -> bool:
        """True for integer, float and datetime columns (ordered, bounded)."""
        return False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary; ``kind`` first, defaults omitted."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        for f in fields(self):
            if f.name == "name":
                continue
            value = getattr(self, f.name)
            if f.name in _OPTIONAL_KEYS and value == f.default:
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass(frozen=True)
class CategoricalColumn(Column):
    """A column whose values come from a public, explicit list of categories.

    >>> CategoricalColumn("sex", categories=("F", "M")).size
    2
    """

    categories: tuple[str, ...] = ()
    kind: ClassVar[str] = "categorical"

    def __post_init__(self) -> None:
        super().__post_init__()
        cats = tuple(self.categories)
        object.__setattr__(self, "categories", cats)
        if not cats:
            raise SchemaError(
                f"column {self.name!r}: the category list is empty; list every allowed "
                "value in 'categories' (from public documentation, not from the data)"
            )
        if not all(isinstance(c, str) for c in cats):
            raise SchemaError(
                f"column {self.name!r}: categories must be strings; write numbers as text, "
                'e.g. "1", or use an integer column'
            )
        if len(set(cats)) != len(cats):
            dup = sorted({c for c in cats if cats.count(c) > 1})
            raise SchemaError(f"column {self.name!r}: duplicated categories {dup[:5]}")
        both = sorted(set(cats) & set(self.missing_values or ()))
        if both:
            raise SchemaError(
                f"column {self.name!r}: {both[0]!r} is both a category and a missing-value "
                "token; remove it from one of the lists")

    @property
    def size(self) -> int:
        """Number of categories (not counting missing)."""
        return len(self.categories)


@dataclass(frozen=True)
class BooleanColumn(Column):
    """A true/false column. CSV text true/false, yes/no, 1/0 and t/f are accepted."""

    kind: ClassVar[str] = "boolean"

    @property
    def size(self) -> int:
        return 2


@dataclass(frozen=True)
class _BoundedColumn(Column):
    lower: float = 0.0
    upper: float = 0.0

    @property
    def is_numeric(self) -> bool:
        return True

    def _check_bounds(self) -> None:
        if not (_finite(self.lower) and _finite(self.upper)):
            raise SchemaError(
                f"column {self.name!r}: 'lower' and 'upper' must be finite numbers, "
                f"got {self.lower!r} and {self.upper!r}"
            )
        if self.lower > self.upper:
            raise SchemaError(
                f"column {self.name!r}: lower bound {self.lower} is greater than upper "
                f"bound {self.upper}; swap them"
            )


@dataclass(frozen=True)
class IntegerColumn(_BoundedColumn):
    """Whole numbers within public bounds ``[lower, upper]``.

    >>> IntegerColumn("age", lower=17, upper=90).upper
    90
    """

    lower: int = 0
    upper: int = 0
    kind: ClassVar[str] = "integer"

    def __post_init__(self) -> None:
        super().__post_init__()
        self._check_bounds()
        for attr in ("lower", "upper"):
            v = getattr(self, attr)
            if float(v) != int(v):
                raise SchemaError(f"column {self.name!r}: {attr} must be a whole number, got {v}")
            object.__setattr__(self, attr, int(v))


@dataclass(frozen=True)
class FloatColumn(_BoundedColumn):
    """Real numbers within public bounds; ``decimals`` rounds generated values."""

    decimals: int | None = None
    kind: ClassVar[str] = "float"

    def __post_init__(self) -> None:
        super().__post_init__()
        self._check_bounds()
        object.__setattr__(self, "lower", float(self.lower))
        object.__setattr__(self, "upper", float(self.upper))
        if self.decimals is not None and not (
                is_integer(self.decimals) and 0 <= self.decimals <= 15):
            raise SchemaError(
                f"column {self.name!r}: 'decimals' must be an integer from 0 to 15 or null"
            )


@dataclass(frozen=True)
class DatetimeColumn(Column):
    """Timestamps within public bounds (ISO 8601 strings) at a resolution.

    Internally a datetime is handled as a number of ``resolution`` units since
    the epoch, so the engines treat it like an integer column.

    >>> c = DatetimeColumn("day", lower="2020-01-01", upper="2020-12-31", resolution="D")
    >>> c.to_units(pd.Series(pd.to_datetime(["2020-01-02"]))).tolist()
    [18263.0]
    """

    lower: str = ""
    upper: str = ""
    resolution: str = "s"
    format: str | None = None
    kind: ClassVar[str] = "datetime"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.resolution not in DATETIME_RESOLUTIONS:
            raise SchemaError(
                f"column {self.name!r}: resolution must be one of {list(DATETIME_RESOLUTIONS)}, "
                f"got {self.resolution!r}"
            )
        try:
            lo, hi = pd.Timestamp(self.lower), pd.Timestamp(self.upper)
        except (ValueError, TypeError) as exc:
            raise SchemaError(
                f"column {self.name!r}: bounds must be ISO 8601 dates such as '2020-01-31', "
                f"got {self.lower!r} and {self.upper!r}"
            ) from exc
        if pd.isna(lo) or pd.isna(hi):
            raise SchemaError(f"column {self.name!r}: datetime bounds are missing")
        if lo > hi:
            raise SchemaError(
                f"column {self.name!r}: lower bound {self.lower} is after upper bound {self.upper}"
            )

    @property
    def is_numeric(self) -> bool:
        return True

    @property
    def unit_lower(self) -> int:
        """Lower bound in resolution units since the epoch."""
        return int(self.to_units(pd.Series([pd.Timestamp(self.lower)])).iloc[0])

    @property
    def unit_upper(self) -> int:
        """Upper bound in resolution units since the epoch."""
        return int(self.to_units(pd.Series([pd.Timestamp(self.upper)])).iloc[0])

    def to_units(self, values: pd.Series) -> pd.Series:
        """Datetimes to float units since the epoch (floor), NaN for missing."""
        ts = pd.to_datetime(values)
        ns = ts.astype("datetime64[ns]").astype("int64").astype("float64")
        ns[ts.isna().to_numpy()] = float("nan")
        step = pd.Timedelta(1, unit=self.resolution).value
        return pd.Series(ns // step, index=values.index)

    def from_units(self, units: Sequence[float] | pd.Series) -> pd.Series:
        """Inverse of :meth:`to_units`."""
        step = pd.Timedelta(1, unit=self.resolution).value
        u = pd.Series(units, dtype="float64")
        return pd.to_datetime(u * step, unit="ns")


@dataclass(frozen=True)
class IdColumn(Column):
    """An identifier (a patient number, an aircraft registration): never modelled.

    An id column has no domain and engines learn nothing from its values. It
    names the *privacy unit* (``fit(..., privacy_unit="patient_id")``: all
    rows with one value form one unit; docs/units.md). A table may have id
    columns without declaring a unit: they are then dropped before fitting.

    Synthetic rows get **fresh identifiers**: ``prefix`` followed by a
    number, counting from 1 in each sample and zero-padded to the width of the
    largest number (``syn-001`` ... ``syn-450``; :meth:`fresh`). A fit
    refuses real identifiers that start with ``prefix``, so no synthetic
    identifier can equal a real one. Synthetic identifiers are text, whatever
    the type of the real ones.

    >>> c = column_from_dict({"name": "tailnum", "kind": "id", "prefix": "S"})
    >>> c.fresh(3)
    ['S1', 'S2', 'S3']
    >>> IdColumn("patient_id").fresh(12)[:2]
    ['syn-01', 'syn-02']
    """

    prefix: str = DEFAULT_ID_PREFIX
    kind: ClassVar[str] = "id"

    def __post_init__(self) -> None:
        super().__post_init__()
        p = self.prefix
        if not isinstance(p, str) or not p or p != p.strip() or len(p) > 32:
            raise SchemaError(
                f"column {self.name!r}: 'prefix' must be 1 to 32 characters without "
                f"surrounding spaces (synthetic identifiers start with it), got {p!r}")

    def fresh(self, n: int, start: int = 1) -> list[str]:
        """``n`` synthetic identifiers numbered from ``start`` (see the class docstring)."""
        last = start + n - 1
        width = len(str(max(last, 1)))
        return [f"{self.prefix}{i:0{width}d}" for i in range(start, last + 1)]


_KIND_CLASSES: dict[str, type[Column]] = {
    "categorical": CategoricalColumn,
    "boolean": BooleanColumn,
    "integer": IntegerColumn,
    "float": FloatColumn,
    "datetime": DatetimeColumn,
    "id": IdColumn,
}


def column_from_dict(spec: Mapping[str, Any]) -> Column:
    """Build one column from its JSON dictionary, with precise errors.

    >>> column_from_dict({"name": "x", "kind": "float", "lower": 0, "upper": 1}).kind
    'float'
    """
    if not isinstance(spec, Mapping):
        raise SchemaError(f"each column must be a JSON object, got {type(spec).__name__}")
    name = spec.get("name")
    kind = spec.get("kind")
    if not isinstance(kind, str) or kind not in _KIND_CLASSES:  # a list is not even hashable
        raise SchemaError(
            f"column {name!r}: unknown kind {kind!r}; use one of {sorted(_KIND_CLASSES)}"
        )
    cls = _KIND_CLASSES[kind]
    allowed = {f.name for f in fields(cls)}
    unknown = sorted(set(spec) - allowed - {"kind"})
    if unknown:
        raise SchemaError(
            f"column {name!r}: unknown key(s) {unknown} for kind {kind!r}; "
            f"allowed: {sorted(allowed)}"
        )
    kwargs = {k: v for k, v in spec.items() if k != "kind"}
    if "categories" in kwargs:
        if not isinstance(kwargs["categories"], list | tuple):
            raise SchemaError(f"column {name!r}: 'categories' must be a list of strings")
        kwargs["categories"] = tuple(kwargs["categories"])
    if kind in ("integer", "float", "datetime"):
        missing = [k for k in ("lower", "upper") if k not in spec]
        if missing:
            raise SchemaError(
                f"column {name!r}: {kind} columns need public bounds; missing {missing}"
            )
    try:
        return cls(**kwargs)
    except TypeError as exc:  # e.g. a missing 'name'
        raise SchemaError(f"column {name!r}: {exc}") from exc


#: Columns given by name (a mapping) or as a sequence of columns (a Schema is one).
ColumnsLike = Mapping[str, Column] | Iterable[Column]


def column_map(columns: ColumnsLike) -> Mapping[str, Column]:
    """``{name: column}`` from a mapping, or from an iterable of columns such as a Schema.

    >>> m = column_map([CategoricalColumn("sex", categories=("F", "M"))])
    >>> m["sex"].size
    2
    """
    if isinstance(columns, Mapping):
        return columns
    out: dict[str, Column] = {}
    for c in columns:
        if not isinstance(c, Column):
            raise SchemaError(f"expected Column objects, got {type(c).__name__}")
        out[c.name] = c
    return out


__all__ = [
    "DATETIME_RESOLUTIONS",
    "DEFAULT_ID_PREFIX",
    "KINDS",
    "NUMERIC_KINDS",
    "BooleanColumn",
    "CategoricalColumn",
    "Column",
    "ColumnsLike",
    "DatetimeColumn",
    "FloatColumn",
    "IdColumn",
    "IntegerColumn",
    "Kind",
    "column_from_dict",
    "column_map",
]

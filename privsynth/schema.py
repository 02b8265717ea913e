"""The public description of a table: column kinds and their public domains.

A :class:`Schema` is what the data steward declares *without looking at the
private data*: category lists, numeric bounds, datetime ranges. Everything
privsynth releases about the domain of a column comes from here, so the
schema must be public (published documentation, a data dictionary, a legal
definition) or estimated with DP (:meth:`Schema.infer_dp`, which charges an
accountant). :meth:`Schema.infer_unsafe` reads domains from the data without
DP; the schema then carries ``source="data (not DP)"`` and every report marks
the release as not end-to-end DP.

Example
-------
>>> s = Schema.from_dict({"columns": [
...     {"name": "age", "kind": "integer", "lower": 0, "upper": 120},
...     {"name": "sex", "kind": "categorical", "categories": ["F", "M"]},
... ]})
>>> s.names
('age', 'sex')
>>> s["age"].upper
120
>>> Schema.from_json(s.to_json()) == s
True
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal

import pandas as pd

from privsynth.errors import SchemaError

SCHEMA_FORMAT = "privsynth.schema"
SCHEMA_VERSION = 1

Kind = Literal["categorical", "integer", "float", "datetime", "boolean"]
KINDS: tuple[str, ...] = ("boolean", "categorical", "datetime", "float", "integer")

#: Where a schema came from. Only the first two make a release end-to-end DP.
SOURCE_PUBLIC = "public"
SOURCE_DP = "dp"
SOURCE_UNSAFE = "data (not DP)"
SOURCES = (SOURCE_PUBLIC, SOURCE_DP, SOURCE_UNSAFE)

_DATETIME_RESOLUTIONS = ("s", "min", "h", "D")
# keys left out of the JSON form when they hold their default value
_OPTIONAL_KEYS = frozenset({"nullable", "description", "decimals", "format"})


def _is_finite_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


@dataclass(frozen=True)
class Column:
    """Base of every column kind: a name and whether missing values are allowed."""

    name: str
    nullable: bool = False
    description: str = ""

    kind: ClassVar[str] = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SchemaError(f"column name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.nullable, bool):
            raise SchemaError(f"column {self.name!r}: 'nullable' must be true or false")

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
        if not (_is_finite_number(self.lower) and _is_finite_number(self.upper)):
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
        if self.decimals is not None and (
            not isinstance(self.decimals, int) or isinstance(self.decimals, bool)
            or not 0 <= self.decimals <= 15
        ):
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
        if self.resolution not in _DATETIME_RESOLUTIONS:
            raise SchemaError(
                f"column {self.name!r}: resolution must be one of {list(_DATETIME_RESOLUTIONS)}, "
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


_KIND_CLASSES: dict[str, type[Column]] = {
    "categorical": CategoricalColumn,
    "boolean": BooleanColumn,
    "integer": IntegerColumn,
    "float": FloatColumn,
    "datetime": DatetimeColumn,
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


@dataclass(frozen=True)
class Schema:
    """An ordered, immutable collection of columns with public domains.

    Parameters
    ----------
    columns : sequence of Column
        The columns, in table order. Names must be unique.
    source : {"public", "dp", "data (not DP)"}
        Where the domains came from; anything but public or DP makes every
        release from this schema not end-to-end DP, and reports say so.
    constraints : tuple of dict
        Public rules the synthetic rows must obey (see docs/schema.md).
    """

    columns: tuple[Column, ...]
    source: str = SOURCE_PUBLIC
    constraints: tuple[Mapping[str, Any], ...] = field(default=())

    def __post_init__(self) -> None:
        cols = tuple(self.columns)
        object.__setattr__(self, "columns", cols)
        # rule objects (privsynth.constraints) are stored in their JSON form
        object.__setattr__(self, "constraints", tuple(
            c.to_dict() if hasattr(c, "to_dict") and not isinstance(c, Mapping) else c
            for c in self.constraints))
        if not cols:
            raise SchemaError("the schema has no columns; describe at least one column")
        for c in cols:
            if not isinstance(c, Column):
                raise SchemaError(f"schema columns must be Column objects, got {type(c).__name__}")
        names = [c.name for c in cols]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise SchemaError(f"duplicated column names in the schema: {dup}")
        if self.source not in SOURCES:
            raise SchemaError(f"schema source must be one of {list(SOURCES)}, got {self.source!r}")
        if self.constraints:
            self._check_constraints()

    def _check_constraints(self) -> None:
        """Each declared rule must be well formed and fit the columns (SchemaError if not)."""
        from privsynth.constraints import parse_constraints
        from privsynth.errors import ConstraintError

        if not all(isinstance(c, Mapping) for c in self.constraints):
            raise SchemaError("'constraints' must be a list of JSON objects (or rule objects "
                              "from privsynth.constraints)")
        try:
            parse_constraints(self)
        except ConstraintError as exc:
            raise SchemaError(f"invalid constraint: {exc}") from exc

    # -- access -----------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Column names in order."""
        return tuple(c.name for c in self.columns)

    @property
    def is_public(self) -> bool:
        """True when the domains are public or DP (the release can be end-to-end DP)."""
        return self.source in (SOURCE_PUBLIC, SOURCE_DP)

    def __getitem__(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise SchemaError(f"no column {name!r} in the schema; columns are {list(self.names)}")

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def select(self, names: Sequence[str]) -> Schema:
        """A schema with only ``names``, in that order."""
        return Schema(tuple(self[n] for n in names), source=self.source)

    # -- data -------------------------------------------------------------
    def validate(self, df: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
        """Check ``df`` against this schema; see :func:`privsynth.validation.validate`."""
        from privsynth.validation import validate

        return validate(df, self, **kwargs)

    @classmethod
    def infer_unsafe(cls, df: pd.DataFrame, **kwargs: Any) -> Schema:
        """Read domains from the data WITHOUT DP; see :func:`privsynth.validation.infer_unsafe`.

        The schema is marked ``source="data (not DP)"``: releases built on it
        are not end-to-end DP and reports say so.
        """
        from privsynth.validation import infer_unsafe

        return infer_unsafe(df, **kwargs)

    @classmethod
    def infer_dp(cls, df: pd.DataFrame, *, epsilon: float, accountant: Any,
                 **kwargs: Any) -> Schema:
        """Estimate domains with DP, charged to ``accountant``; see :mod:`privsynth._infer_dp`."""
        from privsynth._infer_dp import infer_dp

        return infer_dp(df, epsilon=epsilon, accountant=accountant, **kwargs)

    # -- serialization ----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON-ready form (see docs/schema.md)."""
        out: dict[str, Any] = {
            "format": SCHEMA_FORMAT,
            "version": SCHEMA_VERSION,
            "source": self.source,
            "columns": [c.to_dict() for c in self.columns],
        }
        if self.constraints:
            out["constraints"] = [dict(c) for c in self.constraints]
        return out

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """Serialize to JSON text; also write it to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        """Build a schema from its dictionary form; ``format``/``version`` optional."""
        if not isinstance(data, Mapping):
            raise SchemaError(f"a schema must be a JSON object, got {type(data).__name__}")
        fmt = data.get("format", SCHEMA_FORMAT)
        if fmt != SCHEMA_FORMAT:
            raise SchemaError(
                f"not a privsynth schema (format {fmt!r}, expected {SCHEMA_FORMAT!r})"
            )
        version = data.get("version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise SchemaError(
                f"schema version {version!r} is not supported by this privsynth "
                f"(supports {SCHEMA_VERSION}); upgrade privsynth or rewrite the schema"
            )
        unknown = sorted(set(data) - {"format", "version", "source", "columns", "constraints"})
        if unknown:
            raise SchemaError(f"unknown top-level schema key(s) {unknown}")
        columns = data.get("columns")
        if not isinstance(columns, list | tuple):
            raise SchemaError("the schema needs a 'columns' list")
        constraints = data.get("constraints", ())
        if not isinstance(constraints, list | tuple) or not all(
            isinstance(c, Mapping) for c in constraints
        ):
            raise SchemaError("'constraints' must be a list of JSON objects")
        return cls(
            tuple(column_from_dict(c) for c in columns),
            source=data.get("source", SOURCE_PUBLIC),
            constraints=tuple(constraints),
        )

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> Schema:
        """Load a schema from JSON text or from a path to a JSON file."""
        text: str
        if isinstance(text_or_path, Path) or not str(text_or_path).lstrip().startswith("{"):
            path = Path(text_or_path)
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError as exc:
                raise SchemaError(f"schema file not found: {path}") from exc
            except (OSError, ValueError) as exc:  # ValueError: undecodable, or a NUL in the path
                raise SchemaError(f"cannot read schema file {path}: {exc}") from exc
        else:
            text = str(text_or_path)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaError(
                f"the schema is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
            ) from exc
        except RecursionError as exc:  # json recurses once per nesting level
            raise SchemaError("the schema is nested too deeply to be a privsynth schema") from exc
        return cls.from_dict(data)

"""The public description of a table: column kinds and their public domains.

A :class:`Schema` is what the data steward declares *without looking at the
private data*: category lists, numeric bounds, datetime ranges. Everything
privsynth releases about the domain of a column comes from here, so the
schema must be public (published documentation, a data dictionary, a legal
definition) or estimated with DP (:func:`privsynth.infer_dp`, which charges an
accountant). :func:`privsynth.infer_unsafe` reads domains from the data without
DP; the schema then carries ``source="data (not DP)"`` and every report marks
the release as not end-to-end DP.

The schema sits low in privsynth's stack of layers: it builds on the column
classes (:mod:`privsynth.columns`) and the constraint rules
(:mod:`privsynth.constraints`) and imports nothing above them. Checking data
against it (:func:`privsynth.validate`) and estimating it
(:mod:`privsynth.inference`) are functions of the layers above, not methods.

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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privsynth import schema_import
from privsynth.columns import Column, IdColumn, column_from_dict
from privsynth.constraints import Constraint, parse_constraints
from privsynth.errors import ConstraintError, SchemaError

SCHEMA_FORMAT = "privsynth.schema"
SCHEMA_VERSION = 1

#: Where a schema came from. Only the first two make a release end-to-end DP.
SOURCE_PUBLIC = "public"
SOURCE_DP = "dp"
SOURCE_UNSAFE = "data (not DP)"
SOURCES = (SOURCE_PUBLIC, SOURCE_DP, SOURCE_UNSAFE)


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
        if not all(isinstance(c, Mapping) for c in self.constraints):
            raise SchemaError("'constraints' must be a list of JSON objects (or rule objects "
                              "from privsynth.constraints)")
        try:
            rules = parse_constraints(self)
        except ConstraintError as exc:
            raise SchemaError(f"invalid constraint: {exc}") from exc
        ids = set(self.id_columns)
        for rule in rules:
            named = sorted(ids.intersection(rule.columns))
            if named:
                raise SchemaError(
                    f"constraint {rule.describe()!r} names the identifier column {named[0]!r}; "
                    "identifiers are never modelled (synthetic rows get fresh, unique ones), "
                    "so no rule can apply to them. Remove the rule.")

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

    @property
    def id_columns(self) -> tuple[str, ...]:
        """Names of the identifier columns (kind ``id``): never modelled."""
        return tuple(c.name for c in self.columns if isinstance(c, IdColumn))

    def without_ids(self) -> Schema:
        """The modelled columns: this schema without its identifier columns.

        Engines learn and sample these; identifier columns get fresh values
        (:meth:`privsynth.columns.IdColumn.fresh`). Returns ``self`` when there
        is no identifier column.

        >>> s = Schema.from_dict({"columns": [{"name": "id", "kind": "id"},
        ...                                   {"name": "ok", "kind": "boolean"}]})
        >>> s.without_ids().names, s.id_columns
        (('ok',), ('id',))
        """
        if not self.id_columns:
            return self
        kept = tuple(c for c in self.columns if not isinstance(c, IdColumn))
        if not kept:
            raise SchemaError("every column of the schema is an identifier (kind 'id'); there "
                              "is nothing to model. Describe at least one other column.")
        return Schema(kept, source=self.source, constraints=self.constraints)

    def select(self, names: Sequence[str]) -> Schema:
        """A schema with only ``names``, in that order."""
        return Schema(tuple(self[n] for n in names), source=self.source)

    def with_constraints(self, *rules: Constraint | Mapping[str, Any]) -> Schema:
        """A copy with ``rules`` added to the constraints (stored in their JSON form).

        Raises :class:`SchemaError` when a rule does not fit the columns.

        >>> s = Schema.from_dict({"columns": [
        ...     {"name": "a", "kind": "integer", "lower": 0, "upper": 5},
        ...     {"name": "b", "kind": "integer", "lower": 0, "upper": 5}]})
        >>> from privsynth.constraints import Inequality
        >>> s.with_constraints(Inequality("a", "b")).constraints
        ({'kind': 'inequality', 'low': 'a', 'high': 'b', 'strict': False},)
        """
        dicts = [r.to_dict() if isinstance(r, Constraint) else dict(r) for r in rules]
        return Schema(self.columns, source=self.source,
                      constraints=(*self.constraints, *dicts))

    def rules(self, extra: Sequence[Constraint | Mapping[str, Any]] = ()
              ) -> tuple[Constraint, ...]:
        """The declared constraints (plus ``extra``) as validated rule objects.

        Raises :class:`~privsynth.errors.ConstraintError` when an ``extra`` rule
        does not fit the columns.
        """
        return parse_constraints(self, extra)

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
        """Build a schema from its dictionary form; ``format``/``version`` optional.

        A draft (``"format": "privsynth.schema-draft"``, see
        :mod:`privsynth.schema_import`) is accepted once it is complete; while
        a kind or a domain is missing, :class:`SchemaError` names each one.
        """
        if not isinstance(data, Mapping):
            raise SchemaError(f"a schema must be a JSON object, got {type(data).__name__}")
        if data.get("format") == schema_import.DRAFT_FORMAT:
            data = schema_import.complete(data)
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

    # -- foreign descriptions (privsynth.schema_import) ---------------------
    @classmethod
    def import_(cls, source: str | Path | Mapping[str, Any], *, format: str | None = None,
                table: str | None = None,
                fill: Mapping[str, Mapping[str, Any]] | None = None) -> Schema:
        """A schema from a public description of the table.

        Reads a Frictionless Table Schema (or Data Package), SDV metadata, a
        data-dictionary CSV or a NIST data dictionary (see docs/schema.md and
        :func:`privsynth.schema_import.import_description`). What the
        description does not give is never read from the data: pass it in
        ``fill`` (public values), or write the draft with ``privsynth schema
        import`` and complete it, or let :func:`privsynth.infer_dp` estimate
        the domains.

        Parameters
        ----------
        source : path, JSON text or mapping
            The description (format detected from its content).
        format : str, optional
            One of :data:`privsynth.schema_import.FORMATS`.
        table : str, optional
            The table of multi-table SDV metadata, or the resource of a Data Package.
        fill : mapping, optional
            ``{column: {key: value}}`` added to the description, e.g.
            ``{"income": {"lower": 0, "upper": 10_000_000}}``.

        Raises
        ------
        SchemaError
            The description cannot be read, or something is still missing
            (the message names every column and what it needs).

        Examples
        --------
        >>> ts = {"fields": [{"name": "n", "type": "integer", "missingValues": ["N"]}]}
        >>> s = Schema.import_(ts, fill={"n": {"lower": 0, "upper": 9}})
        >>> s["n"].upper, s["n"].missing_values
        (9, ('N',))
        """
        data = schema_import.import_description(source, format=format, table=table)
        if fill:
            data = schema_import.fill(data, fill)
        return cls.from_dict(schema_import.complete(data))

    @classmethod
    def from_table_schema(cls, descriptor: str | Path | Mapping[str, Any], *,
                          resource: str | None = None,
                          fill: Mapping[str, Mapping[str, Any]] | None = None) -> Schema:
        """:meth:`import_` of a Frictionless Table Schema (or Data Package): a dict or a path.

        >>> Schema.from_table_schema({"fields": [{"name": "ok", "type": "boolean"}]})["ok"].kind
        'boolean'
        """
        return cls.import_(descriptor, format="table-schema", table=resource, fill=fill)

    @classmethod
    def from_sdv_metadata(cls, metadata: str | Path | Mapping[str, Any], *,
                          table: str | None = None,
                          fill: Mapping[str, Mapping[str, Any]] | None = None) -> Schema:
        """:meth:`import_` of SDV metadata (a dict or a path); SDV gives no domains: ``fill`` them.

        >>> meta = {"columns": {"room": {"sdtype": "categorical"}}}
        >>> Schema.from_sdv_metadata(meta, fill={"room": {"categories": ["A", "B"]}})["room"].size
        2
        """
        return cls.import_(metadata, format="sdv", table=table, fill=fill)

    def to_table_schema(self) -> dict[str, Any]:
        """This schema as a Frictionless Table Schema descriptor (v2 profile).

        What only privsynth reads (``decimals``, a datetime resolution, the
        ``source``, constraints) travels in a ``"privsynth"`` property, so
        :meth:`from_table_schema` gives the same schema back.

        >>> s = Schema.from_dict({"columns": [{"name": "b", "kind": "boolean"}]})
        >>> Schema.from_table_schema(s.to_table_schema()) == s
        True
        """
        return schema_import.to_table_schema(self.to_dict())

    def export(self, format: str) -> Any:
        """This schema in a foreign format: ``"table-schema"`` or ``"sdv"`` (dicts ready for
        JSON) or ``"dictionary-csv"`` (text); see
        :func:`privsynth.schema_import.export_description`.

        >>> s = Schema.from_dict({"columns": [{"name": "b", "kind": "boolean"}]})
        >>> s.export("sdv")["columns"]
        {'b': {'sdtype': 'boolean'}}
        """
        return schema_import.export_description(self.to_dict(), format)


__all__ = [
    "SCHEMA_FORMAT",
    "SCHEMA_VERSION",
    "SOURCES",
    "SOURCE_DP",
    "SOURCE_PUBLIC",
    "SOURCE_UNSAFE",
    "Schema",
]

"""Frictionless Table Schema (v1 and v2) to and from privsynth's schema dictionary.

Table Schema (https://datapackage.org/standard/table-schema/) is the open
standard for describing a CSV file. The mapping, field by field:

==================================  =========================================
Table Schema                        privsynth column
==================================  =========================================
``string`` with ``enum`` or         ``categorical`` with those categories
``categories``; ``integer`` or
``number`` with ``enum`` or
``categories`` (a code list)
``string`` without them             ``categorical``, categories to fill
``integer`` / ``year``              ``integer``, ``lower``/``upper`` from
                                    ``minimum``/``maximum`` (exclusive bounds
                                    moved inward by one)
``number``                          ``float`` (exclusive bounds kept as
                                    inclusive: a hair wider, never narrower)
``boolean``                         ``boolean``; with ``trueValues`` /
                                    ``falseValues`` privsynth cannot read,
                                    ``categorical`` with those tokens
``date`` / ``datetime`` /           ``datetime`` at resolution ``D`` / ``s``
``yearmonth``                       / ``D`` (format ``%Y-%m``)
no ``type``, ``any`` and types      kind to fill (a ``todo`` note says why)
privsynth cannot synthesize
``constraints.required: true``      ``nullable: false`` (else ``true``)
``unique: true``, ``primaryKey``    a ``unique`` constraint (keys are
                                    generated, not learned)
``missingValues`` (schema level,    ``missing_values`` of each column (a
field level in v2)                  field's own list replaces the schema's)
``description`` (else ``title``)    ``description``
==================================  =========================================

What privsynth needs and Table Schema cannot say (``decimals``, a datetime
``resolution``, the schema's ``source``, other constraints) travels in a
``"privsynth"`` property, which other tools ignore; so export then import
gives back the same schema.

>>> ts = {"fields": [
...     {"name": "age", "type": "integer", "constraints": {"minimum": 0, "maximum": 120}},
...     {"name": "sex", "type": "string", "constraints": {"enum": ["F", "M"], "required": True}},
...     {"name": "income", "type": "number"}],
...  "missingValues": ["", "NA"]}
>>> d = from_table_schema(ts)
>>> d["format"], d["columns"][0]
('privsynth.schema-draft', {'name': 'age', 'kind': 'integer', 'nullable': True, \
'missing_values': ['', 'NA'], 'lower': 0, 'upper': 120})
>>> d["columns"][2]["lower"] is None      # no public bounds given: to fill, never guessed
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from privsynth._checks import FALSE_TOKENS, TRUE_TOKENS
from privsynth.errors import SchemaError
from privsynth.schema_import._common import (
    SCHEMA_FORMAT,
    SOURCES,
    assemble,
    check_constraints,
    distinct,
    need_list,
    need_mapping,
    need_text,
    number,
    parse_json,
    read_text,
    text_of,
)

__all__ = ["PROFILE", "from_table_schema", "to_table_schema"]

#: The Table Schema profile an exported descriptor declares (v2: field-level missingValues).
PROFILE = "https://datapackage.org/profiles/2.0/tableschema.json"
#: The property holding what only privsynth reads.
EXTENSION = "privsynth"

_UNSUPPORTED = {
    "time": "a time of day without a date",
    "duration": "a duration",
    "object": "JSON objects",
    "array": "JSON arrays",
    "list": "lists of values",
    "geopoint": "geographic points",
    "geojson": "GeoJSON shapes",
}
_IDENTIFYING_FORMATS = {"email": "e-mail addresses", "uri": "web addresses",
                        "uuid": "unique identifiers", "binary": "binary data"}


def _tokens(value: object, where: str) -> list[str]:
    """``missingValues``: strings, or objects with a ``value`` (and a ``label``)."""
    if not isinstance(value, list):
        raise SchemaError(f"{where}: missingValues must be a list")
    out = []
    for v in value:
        if isinstance(v, Mapping):
            v = v.get("value")
        if not isinstance(v, str):
            raise SchemaError(f"{where}: missingValues must be strings (or objects with a "
                              "string 'value')")
        out.append(v)
    return distinct(out, f"{where}: missingValues")


def _code_list(field: Mapping[str, Any], constraints: Mapping[str, Any],
               where: str) -> list[str] | None:
    """``categories`` (v2; values or objects with ``value``) else ``constraints.enum``."""
    raw = constraints.get("enum")
    cats = field.get("categories")
    if cats is not None:  # enum, when both are given, is a subset: the narrower list wins
        raw = raw if raw is not None else cats
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise SchemaError(f"{where}: enum/categories must be a non-empty list")
    values = [v.get("value") if isinstance(v, Mapping) else v for v in raw]
    return distinct([text_of(v) for v in values], f"{where}: categories")


def _bound(constraints: Mapping[str, Any], side: str, integer: bool, where: str) -> Any:
    """``minimum``/``maximum`` (or the exclusive forms) as an inclusive bound.

    Integer bounds move inward to the nearest whole number inside the range;
    a real-valued exclusive bound is kept as an inclusive one (a hair wider).
    """
    inclusive, exclusive = ("minimum", "exclusiveMinimum") if side == "lower" else \
        ("maximum", "exclusiveMaximum")
    for key, strict in ((inclusive, False), (exclusive, True)):
        if constraints.get(key) is None:
            continue
        x = number(constraints[key], f"{where}: {key}")
        if not integer:
            return x
        if side == "lower":
            return math.floor(x) + 1 if strict else math.ceil(x)
        return math.ceil(x) - 1 if strict else math.floor(x)
    return None


def _date_bound(constraints: Mapping[str, Any], side: str, where: str) -> str | None:
    for key in (("minimum", "exclusiveMinimum") if side == "lower"
                else ("maximum", "exclusiveMaximum")):
        value = constraints.get(key)
        if value is not None:
            if not isinstance(value, str):
                raise SchemaError(f"{where}: {key} of a date must be an ISO 8601 string")
            return value
    return None


def _field(field: Mapping[str, Any], default_tokens: list[str] | None) -> dict[str, Any]:
    name = field.get("name")
    if not isinstance(name, str) or not name:
        raise SchemaError("every Table Schema field needs a non-empty 'name'")
    where = f"field {name!r}"
    constraints = need_mapping(field.get("constraints", {}), f"{where}: constraints")
    ext = need_mapping(field.get(EXTENSION, {}), f"{where}: {EXTENSION}")
    ftype = need_text(field.get("type", "any"), f"{where}: type")
    fmt = need_text(field.get("format", "default"), f"{where}: format")
    if isinstance(fmt, str) and fmt.startswith("fmt:"):  # v0 spelling, still to be accepted
        fmt = fmt[4:]
    col: dict[str, Any] = {"name": name, "kind": None}
    col["nullable"] = constraints.get("required") is not True
    desc = field.get("description") or field.get("title") or ""
    if desc:
        col["description"] = str(desc)
    if "missingValues" in field:
        col["missing_values"] = _tokens(field["missingValues"], where)
    elif default_tokens is not None:
        col["missing_values"] = list(default_tokens)
    codes = _code_list(field, constraints, where)

    if ftype in ("string", "integer", "number") and codes is not None:
        tokens = set(col.get("missing_values") or [])
        col.update(kind="categorical", categories=[c for c in codes if c not in tokens])
    elif ftype == "string":
        if fmt in _IDENTIFYING_FORMATS:
            col["todo"] = (f"a string field of format {fmt!r} ({_IDENTIFYING_FORMATS[fmt]}): "
                           "identifiers are not synthesized; remove the column from the data "
                           "and this file, or declare it categorical with a public list")
        else:
            col.update(kind="categorical", categories=None,
                       todo="a string field without an enum: list its public categories "
                            "(free text cannot be synthesized: remove such a column)")
    elif ftype in ("integer", "year"):
        col.update(kind="integer", lower=_bound(constraints, "lower", True, where),
                   upper=_bound(constraints, "upper", True, where))
    elif ftype == "number":
        col.update(kind="float", lower=_bound(constraints, "lower", False, where),
                   upper=_bound(constraints, "upper", False, where))
        if ext.get("decimals") is not None:
            col["decimals"] = ext["decimals"]
    elif ftype == "boolean":
        true_v = [str(v) for v in need_list(field.get("trueValues", ["true"]),
                                            f"{where}: trueValues")]
        false_v = [str(v) for v in need_list(field.get("falseValues", ["false"]),
                                             f"{where}: falseValues")]
        if all(v.lower() in TRUE_TOKENS for v in true_v) and all(
                v.lower() in FALSE_TOKENS for v in false_v):
            col["kind"] = "boolean"
        else:  # tokens privsynth does not read as true/false: keep them as a code list
            col.update(kind="categorical", categories=distinct(true_v + false_v,
                                                               f"{where}: true/false values"))
    elif ftype in ("date", "datetime", "yearmonth"):
        col.update(kind="datetime", lower=_date_bound(constraints, "lower", where),
                   upper=_date_bound(constraints, "upper", where))
        col["resolution"] = need_text(ext.get("resolution", "s" if ftype == "datetime" else "D"),
                                      f"{where}: resolution")
        if ftype == "yearmonth":
            col["format"] = "%Y-%m"
        elif fmt not in ("default", "any"):
            col["format"] = fmt
    elif ftype == "any":
        col["todo"] = "no type given: declare the kind from the documentation"
    elif ftype in _UNSUPPORTED:
        col["todo"] = (f"Table Schema type {ftype!r} ({_UNSUPPORTED[ftype]}) has no privsynth "
                       "kind: remove the column, or recode it (e.g. as categories)")
    else:
        raise SchemaError(f"{where}: unknown Table Schema type {ftype!r}")
    return col


def _keys(value: object) -> list[str]:
    """``primaryKey`` and ``uniqueKeys`` entries: a name (v1) or a list of names."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise SchemaError("primaryKey / uniqueKeys entries must be field names")


def _unwrap(descriptor: Mapping[str, Any], resource: str | None,
            base: Path | None) -> Mapping[str, Any]:
    """The Table Schema inside a Data Package or Data Resource descriptor.

    A resource's ``schema`` given as a relative path is read next to the
    descriptor's file (``base``); URLs are not fetched.
    """
    if "resources" in descriptor and "fields" not in descriptor:
        resources = [r for r in need_list(descriptor["resources"], "resources")
                     if isinstance(r, Mapping)
                     and isinstance(r.get("schema"), Mapping | str)]
        names = [str(r.get("name")) for r in resources]
        if resource is not None:
            if resource not in names:
                raise SchemaError(f"no resource {resource!r} with a schema in the data "
                                  f"package; resources: {names}")
            descriptor = resources[names.index(resource)]
        elif len(resources) == 1:
            descriptor = resources[0]
        else:
            raise SchemaError(f"the data package has {len(resources)} resources with a "
                              f"schema ({names}); choose one (--table / table=)")
    if "schema" in descriptor and "fields" not in descriptor:
        inner = descriptor["schema"]
        if isinstance(inner, str) and base is not None and "://" not in inner:
            inner = parse_json(read_text(base / inner, "Table Schema file"),
                               f"Table Schema file {base / inner}")
        if not isinstance(inner, Mapping):
            raise SchemaError("the resource's schema is a URL (or a path, and the package was "
                              "not read from a file); download the schema file and import it")
        descriptor = inner
    return descriptor


def from_table_schema(descriptor: Mapping[str, Any], *, resource: str | None = None,
                      base: str | Path | None = None) -> dict[str, Any]:
    """A privsynth schema (or draft) dictionary from a Table Schema descriptor.

    Parameters
    ----------
    descriptor : mapping
        A Table Schema (``{"fields": [...]}``), or a Data Resource or Data
        Package holding one.
    resource : str, optional
        Which resource of a Data Package with several.
    base : path, optional
        The folder of the descriptor's file: a resource's ``schema`` given as
        a relative path is read from there.

    Returns
    -------
    dict
        ``"format": "privsynth.schema"`` when every field has a kind and a
        public domain, else a draft listing what is missing (never filled
        from the data). Missing-value tokens become each column's
        ``missing_values``.

    Examples
    --------
    >>> from_table_schema({"fields": [{"name": "ok", "type": "boolean",
    ...                                "constraints": {"required": True}}]})["columns"]
    [{'name': 'ok', 'kind': 'boolean'}]
    """
    descriptor = _unwrap(need_mapping(descriptor, "a Table Schema"), resource,
                         None if base is None else Path(base))
    fields = descriptor.get("fields")
    if not isinstance(fields, list) or not fields:
        raise SchemaError("a Table Schema needs a non-empty 'fields' list")
    tokens = descriptor.get("missingValues")
    default = None if tokens is None else _tokens(tokens, "the schema")
    if default == [""]:
        default = None  # the standard's default, and privsynth's: no need to repeat it
    cols = [_field(need_mapping(f, "a Table Schema field"), default) for f in fields]
    ext = need_mapping(descriptor.get(EXTENSION, {}), EXTENSION)
    constraints = check_constraints(ext.get("constraints", []))
    source = ext.get("source", "public")
    if source not in SOURCES:
        raise SchemaError(f"{EXTENSION}: source must be one of {list(SOURCES)}")
    keyed = {c["column"] for c in constraints
             if c["kind"] == "unique" and isinstance(c.get("column"), str)}
    by_name = {c["name"]: c for c in cols}
    unique = [f["name"] for f in fields if isinstance(f.get("constraints"), Mapping)
              and f["constraints"].get("unique") is True]
    primary = _keys(descriptor["primaryKey"]) if "primaryKey" in descriptor else []
    if len(primary) == 1:
        unique.insert(0, primary[0])
    for name in primary:
        if name not in by_name:
            raise SchemaError(f"primaryKey names {name!r}, which is not a field")
        by_name[name]["nullable"] = False
    for name in dict.fromkeys(unique):
        if name not in keyed:
            constraints.append({"kind": "unique", "column": name, "method": "sequential"})
            keyed.add(name)
    notes = []
    if len(primary) > 1:
        notes.append(f"The primary key {primary} spans several columns; privsynth cannot "
                     "generate it: declare a constraint or drop the key columns.")
    return assemble(cols, source=source, constraints=constraints, instructions=notes)


def _export_field(col: Mapping[str, Any], tokens_here: bool) -> dict[str, Any]:
    kind = col.get("kind")
    out: dict[str, Any] = {"name": col["name"]}
    constraints: dict[str, Any] = {}
    ext: dict[str, Any] = {}
    if kind == "categorical":
        out["type"] = "string"
        if col.get("categories") is not None:
            constraints["enum"] = list(col["categories"])
    elif kind in ("integer", "float"):
        out["type"] = "integer" if kind == "integer" else "number"
        for key, std in (("lower", "minimum"), ("upper", "maximum")):
            if col.get(key) is not None:
                constraints[std] = col[key]
        if col.get("decimals") is not None:
            ext["decimals"] = col["decimals"]
    elif kind == "boolean":
        out["type"] = "boolean"
    elif kind == "datetime":
        lo, hi = col.get("lower"), col.get("upper")
        res = col.get("resolution", "s")
        dates = all(v is None or (isinstance(v, str) and len(v) == 10) for v in (lo, hi))
        out["type"] = "date" if res == "D" and dates else "datetime"
        if (out["type"], res) != ("date", "D") and res != "s":
            ext["resolution"] = res
        if col.get("format") is not None:
            out["format"] = col["format"]
        for key, std in (("lower", "minimum"), ("upper", "maximum")):
            if col.get(key) is not None:
                constraints[std] = col[key]
    if col.get("description"):
        out["description"] = col["description"]
    if not col.get("nullable", False):
        constraints["required"] = True
    if constraints:
        out["constraints"] = constraints
    if tokens_here and col.get("missing_values") is not None:
        out["missingValues"] = list(col["missing_values"])
    if ext:
        out[EXTENSION] = ext
    return out


def to_table_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A Table Schema descriptor (v2 profile) from a privsynth schema or draft dictionary.

    Columns whose kind is not declared yet are written without a type (the
    standard's ``any``); domains not declared yet are left out.

    Examples
    --------
    >>> ts = to_table_schema({"columns": [
    ...     {"name": "n", "kind": "integer", "lower": 0, "upper": 9, "missing_values": ["N"]}]})
    >>> ts["fields"], ts["missingValues"]
    ([{'name': 'n', 'type': 'integer', 'constraints': {'minimum': 0, 'maximum': 9, \
'required': True}}], ['N'])
    """
    schema = need_mapping(schema, "a schema")
    columns: Sequence[Mapping[str, Any]] = schema.get("columns", [])
    if not columns:
        raise SchemaError("the schema has no columns")
    token_lists = [c.get("missing_values") for c in columns]
    shared = token_lists[0] is not None and all(t == token_lists[0] for t in token_lists)
    out: dict[str, Any] = {"$schema": PROFILE,
                           "fields": [_export_field(c, not shared) for c in columns]}
    if shared:
        out["missingValues"] = list(token_lists[0])  # type: ignore[arg-type]
    unique = [c for c in schema.get("constraints", []) if c.get("kind") == "unique"]
    for rule in unique:
        for f in out["fields"]:
            if f["name"] == rule.get("column"):
                f.setdefault("constraints", {})["unique"] = True
    out[EXTENSION] = {"format": SCHEMA_FORMAT, "source": schema.get("source", "public")}
    if schema.get("constraints"):
        out[EXTENSION]["constraints"] = [dict(c) for c in schema["constraints"]]
    return out

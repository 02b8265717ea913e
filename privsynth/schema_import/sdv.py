"""SDV single-table metadata to and from privsynth's schema dictionary.

SDV metadata (``"METADATA_SPEC_VERSION": "SINGLE_TABLE_V1"``, or ``"V1"`` /
``"MULTI_TABLE_V1"`` with ``"tables"``) gives each column an *sdtype* and no
domain: SDV reads category lists and bounds from the data. privsynth takes the
kinds and lists every domain as still to fill ("needs a public domain"):

===============================  ===============================================
sdtype                           privsynth column
===============================  ===============================================
``categorical``                  ``categorical``, categories to fill
``numerical``                    ``integer`` when ``computer_representation`` is
                                 an ``Int``/``UInt`` type, else ``float``;
                                 bounds to fill
``datetime``                     ``datetime`` with ``datetime_format`` as its
                                 format; bounds to fill
``boolean``                      ``boolean`` (complete)
``id``                           ``id`` (never modelled; samples get fresh ids)
other primary and alternate      a ``unique`` constraint (keys are generated,
keys                             not learned)
anything else (``email``,        kind to fill, with a note: identifiers and
``address``, ``pii`` ...)        personal details are not synthesized
===============================  ===============================================

SDV metadata says nothing about missing values, so every column is nullable.
Note: metadata that SDV *detected from the data* (``detect_from_dataframe``)
took its sdtypes from the data; check them against the documentation.

>>> meta = {"METADATA_SPEC_VERSION": "SINGLE_TABLE_V1", "columns": {
...     "age": {"sdtype": "numerical", "computer_representation": "Int64"},
...     "smoker": {"sdtype": "boolean"}}}
>>> d = from_sdv_metadata(meta)
>>> [(c["name"], c["kind"]) for c in d["columns"]]
[('age', 'integer'), ('smoker', 'boolean')]
>>> to_sdv_metadata(d) == meta
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from privsynth.errors import SchemaError
from privsynth.schema_import._common import (
    assemble,
    need_list,
    need_mapping,
    need_text,
    resolution_of,
)

__all__ = ["from_sdv_metadata", "to_sdv_metadata"]

_SINGLE = "SINGLE_TABLE_V1"
_MULTI = ("V1", "MULTI_TABLE_V1")


def _table(metadata: Mapping[str, Any], table: str | None) -> Mapping[str, Any]:
    version = metadata.get("METADATA_SPEC_VERSION")
    if "tables" in metadata:
        if version is not None and version not in _MULTI:
            raise SchemaError(f"unknown SDV metadata version {version!r}")
        tables = need_mapping(metadata["tables"], "the SDV metadata's 'tables'")
        if table is not None:
            if table not in tables:
                raise SchemaError(f"no table {table!r} in the SDV metadata; tables: "
                                  f"{list(tables)}")
            return need_mapping(tables[table], f"table {table!r}")
        if len(tables) != 1:
            raise SchemaError(f"the SDV metadata describes {len(tables)} tables "
                              f"({list(tables)}); choose one (--table / table=)")
        return need_mapping(next(iter(tables.values())), "the SDV table")
    if version is not None and version != _SINGLE:
        raise SchemaError(f"unknown SDV metadata version {version!r}; expected {_SINGLE!r}")
    return metadata


def _column(name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    sdtype = spec.get("sdtype")
    if not isinstance(sdtype, str):
        raise SchemaError(f"SDV column {name!r} has no 'sdtype'")
    col: dict[str, Any] = {"name": name, "kind": None, "nullable": True}
    if sdtype == "categorical":
        col.update(kind="categorical", categories=None)
    elif sdtype == "numerical":
        rep = str(spec.get("computer_representation", "Float"))
        kind = "integer" if rep.lower().startswith(("int", "uint")) else "float"
        col.update(kind=kind, lower=None, upper=None)
    elif sdtype == "datetime":
        fmt = spec.get("datetime_format")
        if fmt is not None:
            fmt = need_text(fmt, f"SDV column {name!r}: datetime_format")
        col.update(kind="datetime", lower=None, upper=None, resolution=resolution_of(fmt))
        if fmt is not None:
            col["format"] = str(fmt)
    elif sdtype == "boolean":
        col["kind"] = "boolean"
    elif sdtype == "id":
        # a key: privsynth's id kind is never modelled, and samples get fresh ids
        col["kind"] = "id"
    else:
        what = "personal information" if spec.get("pii") else "a semantic type"
        col["todo"] = (f"SDV sdtype {sdtype!r} ({what}): privsynth does not generate "
                       "identifiers or personal details; remove the column from the data and "
                       "this file, or declare it categorical with a public list")
    return col


def from_sdv_metadata(metadata: Mapping[str, Any], *, table: str | None = None) -> dict[str, Any]:
    """A privsynth draft (or schema) dictionary from SDV single-table metadata.

    Parameters
    ----------
    metadata : mapping
        SDV metadata, single-table (``SINGLE_TABLE_V1``) or multi-table
        (``V1``) with one table or ``table`` chosen.
    table : str, optional
        The table to read from multi-table metadata.

    Returns
    -------
    dict
        Usually a draft: SDV metadata holds no domains, so every
        categorical, numerical and datetime column "needs a public domain".

    Examples
    --------
    >>> d = from_sdv_metadata({"columns": {"city": {"sdtype": "categorical"}}})
    >>> d["format"], d["columns"][0]["categories"] is None
    ('privsynth.schema-draft', True)
    """
    spec = _table(need_mapping(metadata, "SDV metadata"), table)
    columns = need_mapping(spec.get("columns"), "the SDV metadata's 'columns'")
    if not columns:
        raise SchemaError("the SDV metadata describes no columns")
    cols = [_column(str(name), need_mapping(c, f"SDV column {name!r}"))
            for name, c in columns.items()]
    by_name = {c["name"]: c for c in cols}
    keys: list[str] = []
    primary = spec.get("primary_key")
    if primary is not None:
        primary = need_text(primary, "the SDV metadata's primary_key")
        keys.append(primary)
        if primary in by_name:
            by_name[primary]["nullable"] = False
    alternate = need_list(spec.get("alternate_keys") or [], "the SDV metadata's alternate_keys")
    keys += [need_text(k, "an SDV alternate key") for k in alternate]
    missing = [k for k in keys if k not in by_name]
    if missing:
        raise SchemaError(f"the SDV metadata's keys {missing} are not among its columns")
    # a key of sdtype id becomes an id column (never modelled; samples get fresh, unique
    # ids); any other key keeps its values unique through a constraint
    constraints = [{"kind": "unique", "column": k, "method": "sequential"}
                   for k in dict.fromkeys(keys) if by_name[k].get("kind") != "id"]
    return assemble(cols, constraints=constraints)


def to_sdv_metadata(schema: Mapping[str, Any]) -> dict[str, Any]:
    """SDV single-table metadata (``SINGLE_TABLE_V1``) from a privsynth schema or draft.

    Domains have no place in SDV metadata and are left out; the first
    ``id`` column (or else the first ``unique`` constraint) becomes the primary
    key (sdtype ``id``), further ones alternate keys. A column whose kind is
    not declared yet is written with sdtype ``unknown``.

    Examples
    --------
    >>> to_sdv_metadata({"columns": [{"name": "t", "kind": "datetime", "lower": "2020-01-01",
    ...                  "upper": "2020-12-31", "format": "%Y-%m-%d"}]})["columns"]
    {'t': {'sdtype': 'datetime', 'datetime_format': '%Y-%m-%d'}}
    """
    schema = need_mapping(schema, "a schema")
    ids = [c["name"] for c in schema.get("columns", []) if c.get("kind") == "id"]
    unique = [c["column"] for c in schema.get("constraints", []) if c.get("kind") == "unique"]
    keys = list(dict.fromkeys([*ids, *unique]))
    columns: dict[str, Any] = {}
    for col in schema.get("columns", []):
        kind = col.get("kind")
        if col["name"] in keys:
            spec: dict[str, Any] = {"sdtype": "id"}
        elif kind == "categorical":
            spec = {"sdtype": "categorical"}
        elif kind in ("integer", "float"):
            spec = {"sdtype": "numerical",
                    "computer_representation": "Int64" if kind == "integer" else "Float"}
        elif kind == "datetime":
            spec = {"sdtype": "datetime"}
            if col.get("format") is not None:
                spec["datetime_format"] = col["format"]
        elif kind == "boolean":
            spec = {"sdtype": "boolean"}
        else:
            spec = {"sdtype": "unknown"}
        columns[col["name"]] = spec
    if not columns:
        raise SchemaError("the schema has no columns")
    out: dict[str, Any] = {"METADATA_SPEC_VERSION": _SINGLE, "columns": columns}
    if keys:
        out["primary_key"] = keys[0]
        if len(keys) > 1:
            out["alternate_keys"] = keys[1:]
    return out

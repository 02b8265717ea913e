"""Public descriptions of a table, in the formats stewards already have, to privsynth's schema.

A steward rarely starts from nothing: the data come with a Frictionless Table
Schema, SDV metadata, a data-dictionary CSV or a published dictionary such as
NIST's for the ACS excerpts. This package translates each into privsynth's
schema *dictionary* (see docs/schema.md) without looking at the data:

- what the description gives (kinds, category lists, bounds, missing-value
  tokens, keys) is carried over, column by column;
- what it does not give is **never guessed from the data**: the result is
  then a *draft* (``"format": "privsynth.schema-draft"``) whose missing kinds
  and domains are ``null``, and :func:`needs` lists each one ("needs a public
  domain"), for the steward to fill from documentation or for
  :func:`privsynth.infer_dp` to estimate with a charged DP mechanism.

It sits below :mod:`privsynth.schema` in the layer stack and returns plain
dictionaries; :meth:`privsynth.Schema.import_` turns a complete one into a
``Schema``.

>>> d = import_description({"fields": [
...     {"name": "age", "type": "integer", "constraints": {"minimum": 0, "maximum": 120}},
...     {"name": "region", "type": "string"}]})
>>> [n.summary for n in needs(d)]
['region (categorical): needs a public domain (categories)']
>>> d = fill(d, {"region": {"categories": ["North", "South"]}})
>>> d["format"]
'privsynth.schema'
>>> export_description(d, "sdv")["columns"]["age"]
{'sdtype': 'numerical', 'computer_representation': 'Int64'}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from privsynth.errors import SchemaError
from privsynth.schema_import._common import (
    DRAFT_FORMAT,
    SCHEMA_FORMAT,
    need_mapping,
    parse_json,
    read_text,
)
from privsynth.schema_import.dictionary import (
    from_dictionary_csv,
    from_nist_dictionary,
    to_dictionary_csv,
)
from privsynth.schema_import.draft import (
    Need,
    complete,
    draft,
    draft_from_header,
    fill,
    load_draft,
    needs,
    read_header,
)
from privsynth.schema_import.sdv import from_sdv_metadata, to_sdv_metadata
from privsynth.schema_import.table_schema import from_table_schema, to_table_schema

__all__ = [
    "DRAFT_FORMAT",
    "EXPORT_FORMATS",
    "FORMATS",
    "SCHEMA_FORMAT",
    "Need",
    "complete",
    "detect_format",
    "draft",
    "draft_from_header",
    "export_description",
    "fill",
    "from_dictionary_csv",
    "from_nist_dictionary",
    "from_sdv_metadata",
    "from_table_schema",
    "import_description",
    "load_draft",
    "needs",
    "read_header",
    "to_dictionary_csv",
    "to_sdv_metadata",
    "to_table_schema",
]

#: Description formats :func:`import_description` reads.
FORMATS: tuple[str, ...] = ("table-schema", "sdv", "dictionary-csv", "nist-dictionary",
                            "privsynth")
#: Formats :func:`export_description` writes.
EXPORT_FORMATS: tuple[str, ...] = ("table-schema", "sdv", "dictionary-csv")
_CSV_SUFFIXES = (".csv", ".txt")


def detect_format(description: Mapping[str, Any]) -> str:
    """Which of :data:`FORMATS` a parsed JSON description is in.

    Examples
    --------
    >>> detect_format({"fields": []}), detect_format({"METADATA_SPEC_VERSION": "V1"})
    ('table-schema', 'sdv')
    >>> detect_format({"AGEP": {"description": "age", "values": {"min": 0, "max": 99}}})
    'nist-dictionary'
    """
    d = need_mapping(description, "a table description")
    if d.get("format") in (SCHEMA_FORMAT, DRAFT_FORMAT):
        return "privsynth"
    if "fields" in d or "resources" in d or isinstance(d.get("schema"), Mapping):
        return "table-schema"
    columns = d.get("columns")
    if "METADATA_SPEC_VERSION" in d or "tables" in d or (
            isinstance(columns, Mapping) and columns
            and all(isinstance(c, Mapping) and "sdtype" in c for c in columns.values())):
        return "sdv"
    if d and all(isinstance(v, Mapping) and ("description" in v or "values" in v)
                 for v in d.values()):
        return "nist-dictionary"
    raise SchemaError(
        "could not recognise the description: expected a Table Schema ('fields'), SDV "
        "metadata ('METADATA_SPEC_VERSION' / 'columns' with 'sdtype'), a NIST data dictionary "
        "({column: {'description', 'values'}}) or a privsynth schema; say which with "
        f"format= (one of {list(FORMATS)})")


def import_description(source: str | Path | Mapping[str, Any], *, format: str | None = None,
                       table: str | None = None) -> dict[str, Any]:
    """Translate a public description of a table into a privsynth schema or draft dictionary.

    Parameters
    ----------
    source : path, text or mapping
        A ``.json`` file (Table Schema, Data Package, SDV metadata, NIST data
        dictionary, or a privsynth schema/draft), a dictionary ``.csv`` file,
        JSON text, the text of a dictionary CSV, or the parsed JSON.
    format : str, optional
        One of :data:`FORMATS`; detected from the content when omitted.
    table : str, optional
        The table (SDV multi-table metadata) or resource (Data Package) to
        read when the source describes several.

    Returns
    -------
    dict
        ``"format": "privsynth.schema"`` when the source gives every kind and
        public domain; otherwise a draft (``"privsynth.schema-draft"``) with
        the missing ones ``null`` -- see :func:`needs`.

    Raises
    ------
    SchemaError
        The file is missing or unreadable, the format is not recognised, or
        the description contradicts itself.

    Examples
    --------
    >>> import_description({"columns": {"x": {"sdtype": "boolean"}}})["format"]
    'privsynth.schema'
    """
    if format is not None and format not in FORMATS:
        raise SchemaError(f"unknown description format {format!r}; use one of {list(FORMATS)}")
    base: Path | None = None
    if isinstance(source, Mapping):
        data: Any = source
    elif isinstance(source, str) and source.lstrip().startswith("{"):
        data = parse_json(source, "the description")
    elif isinstance(source, str) and "\n" in source and format in (None, "dictionary-csv"):
        return from_dictionary_csv(source)  # CSV text: a path has no line break
    elif not isinstance(source, str | Path):
        raise SchemaError("a description is a file path, JSON text or a parsed JSON object, "
                          f"not {type(source).__name__}")
    else:
        path = Path(source)
        is_csv = path.name.lower().endswith(_CSV_SUFFIXES)
        if format == "dictionary-csv" or (format is None and is_csv):
            return from_dictionary_csv(path)
        data = parse_json(read_text(path, "description file"), f"description file {path}")
        base = path.parent
    if format == "dictionary-csv":
        raise SchemaError("format='dictionary-csv' needs the path of a CSV file")
    kind = format or detect_format(data)
    if kind == "table-schema":
        return from_table_schema(data, resource=table, base=base)
    if kind == "sdv":
        return from_sdv_metadata(data, table=table)
    if kind == "nist-dictionary":
        return from_nist_dictionary(data)
    loaded = load_draft(data)
    return loaded if loaded["format"] == DRAFT_FORMAT else complete(loaded)


def export_description(schema: Mapping[str, Any], format: str) -> Any:
    """A privsynth schema (or draft) dictionary in a foreign format.

    Parameters
    ----------
    schema : mapping
        The schema's dictionary form (``Schema.to_dict()``) or a draft.
    format : {"table-schema", "sdv", "dictionary-csv"}
        Table Schema and SDV give a JSON-ready dict; the dictionary CSV gives text.

    Examples
    --------
    >>> export_description({"columns": [{"name": "b", "kind": "boolean"}]},
    ...                    "table-schema")["fields"]
    [{'name': 'b', 'type': 'boolean', 'constraints': {'required': True}}]
    """
    if format == "table-schema":
        return to_table_schema(schema)
    if format == "sdv":
        return to_sdv_metadata(schema)
    if format == "dictionary-csv":
        return to_dictionary_csv(schema)
    raise SchemaError(f"cannot export to {format!r}; use one of {list(EXPORT_FORMATS)}")

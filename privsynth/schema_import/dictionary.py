"""Data dictionaries: the plain CSV form statistics offices keep, and NIST's JSON form.

**Dictionary CSV.** One row per column of the data. Header names (any case;
common synonyms accepted in brackets):

=================  ===========================================================
``name``           the column's name in the data (``variable``, ``column``,
                   ``field``)
``kind``           ``categorical``, ``integer``, ``float``, ``datetime``,
                   ``boolean`` (``type``; also ``string``/``text``/
                   ``category``, ``int``, ``number``/``numeric``/``real``,
                   ``date``, ``bool``); empty = still to declare
``categories``     allowed values separated by ``|``, or a JSON list
                   (``values``, ``codes``, ``enum``)
``lower``          lower bound (``min``, ``minimum``)
``upper``          upper bound (``max``, ``maximum``)
``description``    free text (``label``, ``title``)
``nullable``       true/false (empty: not declared, i.e. false once complete)
``missing_values`` tokens meaning missing in this column, ``|``-separated
                   (``missing``, ``na_values``)
``decimals``,      as in the schema format
``resolution``,
``format``
=================  ===========================================================

Only ``name`` and ``kind`` are required. An empty cell means "not given",
so a numeric column without bounds "needs a public domain". Fields are
separated by commas, or by semicolons or tabs when the header line is (as in
spreadsheet exports of many locales).

**NIST data dictionary JSON** (the one published with the NIST CRC "Diverse
Communities" ACS excerpts): ``{column: {"description": ..., "values": {code:
label, "min": x, "max": y}}}``. A column whose values give ``min``/``max`` is
numeric (integer when every bound and numeric code is whole); numeric codes
beside the range widen it (``"0": "no children"`` below ``min: 1``); other
codes (``"N": "N/A ..."``) are that column's missing-value tokens. A column
with only codes is categorical, every code a category (``N`` included). The
values listed are all there are, so each column's ``missing_values`` is
exactly its non-numeric codes (often none): a token given table-wide (the
CLI's ``--missing-value N``) then changes nothing. A column with no
``values`` needs a kind and a public domain. Code labels,
``details`` and ``link`` go into the description.

>>> d = from_dictionary_csv("name,kind,categories,lower,upper\\nage,integer,,0,120\\n"
...                         "sex,categorical,F|M,,\\nincome,float,,,\\n")
>>> d["columns"][1]["categories"], d["columns"][2]["lower"] is None
(['F', 'M'], True)
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from privsynth._checks import FALSE_TOKENS, TRUE_TOKENS
from privsynth.columns import KINDS
from privsynth.errors import SchemaError
from privsynth.schema_import._common import (
    DRAFT_FORMAT,
    assemble,
    distinct,
    is_numeric_text,
    need_mapping,
    number,
    read_text,
    resolution_of,
)

__all__ = ["from_dictionary_csv", "from_nist_dictionary", "to_dictionary_csv"]

_HEADER_ALIASES: dict[str, str] = {
    "name": "name", "variable": "name", "column": "name", "field": "name",
    "kind": "kind", "type": "kind",
    "categories": "categories", "values": "categories", "codes": "categories",
    "enum": "categories",
    "lower": "lower", "min": "lower", "minimum": "lower",
    "upper": "upper", "max": "upper", "maximum": "upper",
    "description": "description", "label": "description", "title": "description",
    "nullable": "nullable",
    "missing_values": "missing_values", "missing": "missing_values",
    "na_values": "missing_values", "missing_value": "missing_values",
    "decimals": "decimals", "resolution": "resolution", "format": "format",
}
_KIND_ALIASES: dict[str, str] = {
    **{k: k for k in KINDS},
    "string": "categorical", "text": "categorical", "category": "categorical",
    "nominal": "categorical", "ordinal": "categorical", "factor": "categorical",
    "int": "integer", "count": "integer",
    "number": "float", "numeric": "float", "real": "float", "double": "float",
    "continuous": "float",
    "date": "datetime", "timestamp": "datetime",
    "bool": "boolean", "logical": "boolean",
}
_EXPORT_HEADER = ("name", "kind", "nullable", "categories", "lower", "upper",
                  "missing_values", "description")
_OPTIONAL_EXPORT = ("decimals", "resolution", "format")


def _split(cell: str, where: str) -> list[str]:
    """``a|b|c`` or a JSON list of strings."""
    text = cell.strip()
    if text.startswith("["):
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaError(f"{where}: starts with '[' but is not a JSON list: {exc.msg}") \
                from exc
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise SchemaError(f"{where}: a JSON list of strings is expected")
        return distinct(values, where)
    return distinct([v.strip() for v in text.split("|")], where)


def _row(row: Mapping[str, str], line: int) -> dict[str, Any]:
    name = (row.get("name") or "").strip()
    if not name:
        raise SchemaError(f"dictionary line {line}: the name is empty")
    where = f"dictionary line {line} ({name!r})"
    raw_kind = (row.get("kind") or "").strip().lower()
    if raw_kind and raw_kind not in _KIND_ALIASES:
        raise SchemaError(f"{where}: unknown kind {raw_kind!r}; use one of {list(KINDS)} "
                          "(or leave it empty to declare later)")
    kind = _KIND_ALIASES.get(raw_kind) if raw_kind else None
    col: dict[str, Any] = {"name": name, "kind": kind}
    cell = {k: (v or "").strip() for k, v in row.items() if k is not None}
    if cell.get("nullable"):
        flag = cell["nullable"].lower()
        if flag not in TRUE_TOKENS + FALSE_TOKENS:
            raise SchemaError(f"{where}: nullable must be true or false, got {flag!r}")
        col["nullable"] = flag in TRUE_TOKENS
    if cell.get("description"):
        col["description"] = cell["description"]
    if cell.get("missing_values"):
        col["missing_values"] = _split(cell["missing_values"], f"{where}: missing_values")
    if kind == "categorical":
        col["categories"] = _split(cell["categories"], f"{where}: categories") \
            if cell.get("categories") else None
    elif kind in ("integer", "float"):
        for key in ("lower", "upper"):
            col[key] = number(cell[key], f"{where}: {key}") if cell.get(key) else None
            if kind == "float" and col[key] is not None:
                col[key] = float(col[key])
        if kind == "float" and cell.get("decimals"):
            col["decimals"] = int(number(cell["decimals"], f"{where}: decimals"))
    elif kind == "datetime":
        col["lower"] = cell.get("lower") or None
        col["upper"] = cell.get("upper") or None
        if cell.get("format"):
            col["format"] = cell["format"]
        col["resolution"] = cell.get("resolution") or (
            "D" if raw_kind == "date" else resolution_of(col.get("format")))
    stray = [k for k in ("categories", "lower", "upper") if cell.get(k)
             and k not in col]
    if stray:
        raise SchemaError(f"{where}: {stray} given for a {kind or 'column without a kind'}; "
                          "declare the kind that goes with them")
    return col


def from_dictionary_csv(source: str | Path) -> dict[str, Any]:
    """A privsynth schema (or draft) dictionary from a data-dictionary CSV.

    Parameters
    ----------
    source : str or Path
        A path to the CSV file, or its text (text holding a line break).

    Returns
    -------
    dict
        A schema dictionary when every row gives a kind and its domain, else
        a draft listing what is missing.

    Examples
    --------
    >>> from_dictionary_csv("variable,type,values\\nregion,category,North|South\\n")["columns"]
    [{'name': 'region', 'kind': 'categorical', 'categories': ['North', 'South']}]
    """
    if isinstance(source, str) and "\n" in source:
        text = source
    else:
        text = read_text(source, "data dictionary")
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    if not reader.fieldnames:
        raise SchemaError("the data dictionary is empty: expected a header line such as "
                          "name,kind,categories,lower,upper,description")
    mapping: dict[str, str] = {}
    for head in reader.fieldnames:
        key = _HEADER_ALIASES.get(head.strip().lower())
        if key is None:
            raise SchemaError(f"the data dictionary has an unknown column {head!r}; known: "
                              f"{sorted(set(_HEADER_ALIASES.values()))}")
        if key in mapping.values():
            raise SchemaError(f"the data dictionary has two columns for {key!r}")
        mapping[head] = key
    missing = [k for k in ("name", "kind") if k not in mapping.values()]
    if missing:
        raise SchemaError(f"the data dictionary needs the column(s) {missing}")
    cols = []
    for i, row in enumerate(reader, start=2):
        if None in row:
            raise SchemaError(f"dictionary line {i} has more fields than the header (quote "
                              "fields that contain commas)")
        if not any((v or "").strip() for v in row.values()):
            continue
        cols.append(_row({mapping[k]: v for k, v in row.items()}, i))
    if not cols:
        raise SchemaError("the data dictionary has a header but no rows")
    return assemble(cols)


def _delimiter(text: str) -> str:
    """``,``, or ``;`` / tab when the header is separated by those (spreadsheet exports in
    many locales use ``;``)."""
    header = text.split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


def _cell(values: Sequence[str]) -> str:
    if any("|" in v or v != v.strip() or v.startswith("[") or not v for v in values):
        return json.dumps(list(values), ensure_ascii=False)
    return "|".join(values)


def to_dictionary_csv(schema: Mapping[str, Any]) -> str:
    """A data-dictionary CSV (the form :func:`from_dictionary_csv` reads) of a schema.

    Raises
    ------
    SchemaError
        The schema has constraints, or its domains are not public (a CSV has
        no place to say so: export to Table Schema instead).

    Examples
    --------
    >>> print(to_dictionary_csv({"columns": [{"name": "sex", "kind": "categorical",
    ...                          "categories": ["F", "M"]}]}), end="")
    name,kind,nullable,categories,lower,upper,missing_values,description
    sex,categorical,false,F|M,,,,
    """
    schema = need_mapping(schema, "a schema")
    if schema.get("source", "public") != "public":
        raise SchemaError(f"this schema's domains come from {schema['source']!r}, not public "
                          "documentation, and a dictionary CSV cannot record that; export it "
                          "as a Table Schema, which keeps the mark")
    if schema.get("constraints"):
        raise SchemaError("a dictionary CSV cannot hold the schema's constraints; export it "
                          "as a Table Schema, which keeps them")
    columns = schema.get("columns", [])
    extra = [k for k in _OPTIONAL_EXPORT if any(c.get(k) is not None for c in columns)]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*_EXPORT_HEADER, *extra])
    in_draft = schema.get("format") == DRAFT_FORMAT
    for col in columns:
        declared = "nullable" in col or not in_draft  # a schema's default is false
        row = {
            "name": col["name"], "kind": col.get("kind") or "",
            "nullable": ("true" if col.get("nullable") else "false") if declared else "",
            "categories": _cell(col["categories"]) if col.get("categories") is not None
            else "",
            "lower": "" if col.get("lower") is None else str(col["lower"]),
            "upper": "" if col.get("upper") is None else str(col["upper"]),
            "missing_values": _cell(col["missing_values"])
            if col.get("missing_values") is not None else "",
            "description": col.get("description", ""),
            **{k: "" if col.get(k) is None else str(col[k]) for k in extra},
        }
        writer.writerow([row[k] for k in (*_EXPORT_HEADER, *extra)])
    return buf.getvalue()


# ------------------------------------------------------------------ NIST JSON
def _nist_column(name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    where = f"dictionary entry {name!r}"
    description = str(spec.get("description", "")).strip().rstrip(".")
    extras = [str(spec["details"]).strip()] if spec.get("details") else []
    if spec.get("link"):
        extras.append(f"See {str(spec['link']).strip()}")
    values = spec.get("values")
    col: dict[str, Any] = {"name": name, "kind": None, "nullable": False}
    if values is None:
        del col["nullable"]  # not said either
        col["todo"] = ("the dictionary gives no values for this column: declare its kind and "
                       "public domain from the documentation it cites")
        col["description"] = ". ".join([description, *extras]).strip()
        return col
    values = need_mapping(values, f"{where}: values")
    codes = {str(k): str(v) for k, v in values.items() if k not in ("min", "max")}
    ranged = "min" in values or "max" in values
    labels = "; ".join(f"{k} = {v}" for k, v in codes.items())
    if ranged:
        numeric = {k: number(k, where) for k in codes if is_numeric_text(k)}
        tokens = [k for k in codes if k not in numeric]
        lo = number(values["min"], f"{where}: min") if "min" in values else None
        hi = number(values["max"], f"{where}: max") if "max" in values else None
        points = [x for x in (lo, hi, *numeric.values()) if x is not None]
        whole = all(float(x).is_integer() for x in points)
        kind = "integer" if whole else "float"
        if lo is not None:
            lo = min([lo, *numeric.values()])
        if hi is not None:
            hi = max([hi, *numeric.values()])
        if kind == "integer":
            lo, hi = (None if x is None else int(x) for x in (lo, hi))
        else:
            lo, hi = (None if x is None else float(x) for x in (lo, hi))
        col.update(kind=kind, lower=lo, upper=hi)
        if tokens:
            col["nullable"] = True
        col["missing_values"] = tokens
    else:
        # every code is a category, N included; nothing else means missing here, even when
        # a token such as N is given table-wide for the other columns
        col.update(kind="categorical", categories=list(codes), missing_values=[])
    text = description + (f". Codes: {labels}" if labels else "")
    col["description"] = ". ".join([text, *extras]).strip()
    return col


def from_nist_dictionary(dictionary: Mapping[str, Any]) -> dict[str, Any]:
    """A privsynth schema (or draft) dictionary from a NIST CRC data dictionary.

    Examples
    --------
    >>> d = from_nist_dictionary({
    ...     "AGEP": {"description": "Age", "values": {"min": 0, "max": 99}},
    ...     "PINCP": {"description": "Income", "values": {"N": "N/A", "min": -9000,
    ...                                                    "max": 1341000}},
    ...     "MSP": {"description": "Marital status", "values": {"N": "N/A", "1": "Married"}}})
    >>> [(c["name"], c["kind"], c["missing_values"]) for c in d["columns"]]
    [('AGEP', 'integer', []), ('PINCP', 'integer', ['N']), ('MSP', 'categorical', [])]
    >>> d["columns"][2]["categories"]
    ['N', '1']
    """
    dictionary = need_mapping(dictionary, "a NIST data dictionary")
    if not dictionary:
        raise SchemaError("the data dictionary describes no columns")
    cols = [_nist_column(str(name), need_mapping(spec, f"dictionary entry {name!r}"))
            for name, spec in dictionary.items()]
    return assemble(cols)

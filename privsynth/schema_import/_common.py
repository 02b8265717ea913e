"""What every importer shares: the two output formats, column keys, file reading.

An importer turns a foreign description into a list of *column dictionaries*
in privsynth's schema format, where anything the source does not give is
``None`` (a kind, a category list, a bound). :func:`assemble` then writes a
complete schema dictionary (``"format": "privsynth.schema"``) when nothing is
missing, and a draft (``"format": "privsynth.schema-draft"``) otherwise.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from privsynth._checks import is_integer, is_number
from privsynth.columns import (
    BooleanColumn,
    CategoricalColumn,
    DatetimeColumn,
    FloatColumn,
    IdColumn,
    IntegerColumn,
    column_from_dict,
)
from privsynth.errors import SchemaError

SCHEMA_FORMAT = "privsynth.schema"
#: Where a schema's domains came from (see docs/schema.md); only the first two are DP.
SOURCES: tuple[str, ...] = ("public", "dp", "data (not DP)")
DRAFT_FORMAT = "privsynth.schema-draft"
VERSION = 1

#: The keys that hold a kind's public domain (what a draft may leave out).
DOMAIN_KEYS: dict[str, tuple[str, ...]] = {
    "boolean": (),
    "categorical": ("categories",),
    "datetime": ("lower", "upper"),
    "float": ("lower", "upper"),
    "id": (),
    "integer": ("lower", "upper"),
}
#: Every key a schema column may have, whatever its kind.
COLUMN_KEYS: frozenset[str] = frozenset(
    {"kind", "missing_values"} | {f.name for cls in (BooleanColumn, CategoricalColumn,
                                                     DatetimeColumn, FloatColumn, IdColumn,
                                                     IntegerColumn)
                                  for f in fields(cls)})
#: Keys only a draft column may have: a public coarse range for ``infer_dp`` and a note.
DRAFT_COLUMN_KEYS: frozenset[str] = frozenset({"coarse", "todo"})
TOP_KEYS: frozenset[str] = frozenset({"format", "version", "source", "columns", "constraints"})
DRAFT_TOP_KEYS: frozenset[str] = frozenset({"instructions"})

#: Largest description file read (a data dictionary is small; a 200 MB "dictionary" is a mistake).
MAX_DESCRIPTION_BYTES = 50 * 2**20

#: How to complete a draft: written at the top of every draft file.
INSTRUCTIONS: tuple[str, ...] = (
    "This is a DRAFT privsynth schema: a value of null is still to be filled. "
    "`privsynth schema check --schema THIS_FILE` lists what is missing.",
    'Every column needs a "kind": categorical, integer, float, datetime or boolean, taken '
    "from the documentation of the data (never from the data itself).",
    "Then its public domain: categorical -> \"categories\" (every allowed value, as text); "
    'integer and float -> "lower" and "upper" (a legal or physical range, a survey\'s '
    "top-code: generous round numbers, never the data's minimum and maximum); datetime -> "
    'ISO 8601 "lower" and "upper" and a "resolution" (s, min, h or D); boolean -> nothing.',
    "A domain no public document gives can be estimated with differential privacy, charged "
    "to the ledger: leave it null (for integer, float and datetime columns write a public "
    '"coarse" range [low, high] that surely contains every value) and run '
    "`privsynth schema infer --dp` with this draft.",
    '"nullable": true when a value may be missing; "missing_values": the text tokens that '
    'mean missing in that column (e.g. ["N"]), replacing the table-wide ones.',
    'A column that should not be released (a name, an e-mail address, a free-text comment) '
    "is removed from the data and from this file. \"todo\" notes are ignored when read.",
)

_TIME_DIRECTIVES = {"s": ("%S", "%T", "%X", "%c", "%f", "%s"), "min": ("%M", "%R"),
                    "h": ("%H", "%I", "%p")}


def read_text(path: str | Path, what: str) -> str:
    """The text of a description file, with a clear error when it cannot be read."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_DESCRIPTION_BYTES:
            raise SchemaError(f"{what} {p} is {size / 2**20:.0f} MB: too large to be a "
                              "description of a table; is this the data file?")
        data = p.read_bytes()
    except FileNotFoundError as exc:
        raise SchemaError(f"{what} not found: {p}") from exc
    except (OSError, ValueError) as exc:  # a directory, no permission, a NUL in the path
        raise SchemaError(f"cannot read {what} {p}: {exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SchemaError(f"{what} {p} is not UTF-8 text (byte {exc.start}); save it as "
                          "UTF-8") from exc


def parse_json(text: str, what: str) -> Any:
    """JSON text to Python, with the line and column of a syntax error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno}): "
                          f"{exc.msg}") from exc
    except RecursionError as exc:
        raise SchemaError(f"{what} is nested too deeply to be a table description") from exc


def need_mapping(value: object, what: str) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else SchemaError naming ``what``."""
    if not isinstance(value, Mapping):
        raise SchemaError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def need_text(value: object, what: str) -> str:
    """``value`` if it is a string, else SchemaError naming ``what``."""
    if not isinstance(value, str):
        raise SchemaError(f"{what} must be text, got {type(value).__name__}")
    return value


def need_list(value: object, what: str) -> list[Any]:
    """``value`` if it is a JSON array, else SchemaError naming ``what``."""
    if not isinstance(value, list | tuple):
        raise SchemaError(f"{what} must be a list, got {type(value).__name__}")
    return list(value)


def number(value: object, where: str) -> int | float:
    """A finite JSON number, or numeric text (``"12"``, ``"-1.5e3"``), as int or float."""
    if is_integer(value):
        return int(value)  # type: ignore[call-overload]
    if is_number(value):
        x = float(value)  # type: ignore[arg-type]
    elif isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        try:
            x = float(text)
        except ValueError as exc:
            raise SchemaError(f"{where}: {value!r} is not a number") from exc
    else:
        raise SchemaError(f"{where}: expected a number, got {type(value).__name__}")
    if not math.isfinite(x):
        raise SchemaError(f"{where}: bounds must be finite numbers, got {value!r}")
    return x


def is_numeric_text(text: str) -> bool:
    """True for text that reads as a finite number (``"0"``, ``"501"``, ``"-2.5"``)."""
    try:
        number(text, "")
    except SchemaError:
        return False
    return True


def text_of(value: object) -> str:
    """A category as text, written the way a CSV file shows it (``1`` -> ``"1"``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_integer(value) or (isinstance(value, float) and value.is_integer()
                             and abs(value) < 2**53):
        return str(int(value))  # type: ignore[call-overload]
    if is_number(value):
        return repr(float(value))  # type: ignore[arg-type]
    raise SchemaError(f"a category must be text or a number, got {type(value).__name__}")


def resolution_of(pattern: str | None) -> str:
    """The finest time unit a ``strftime`` pattern shows (``"%d/%m/%Y"`` -> ``"D"``).

    >>> resolution_of("%Y-%m-%d %H:%M"), resolution_of(None)
    ('min', 's')
    """
    if pattern is None:
        return "s"
    for unit in ("s", "min", "h"):
        if any(d in pattern for d in _TIME_DIRECTIVES[unit]):
            return unit
    return "D"


def distinct(values: Sequence[str], where: str) -> list[str]:
    """``values`` with a clear error on duplicates (categories, tokens)."""
    seen: set[str] = set()
    dup = sorted({v for v in values if v in seen or seen.add(v)})  # type: ignore[func-returns-value]
    if dup:
        raise SchemaError(f"{where}: duplicated values {dup[:5]}")
    return list(values)


def has_holes(col: Mapping[str, Any]) -> bool:
    """True when the column's kind or a key of its public domain is missing."""
    kind = col.get("kind")
    if kind is None:
        return True
    return any(col.get(k) is None for k in DOMAIN_KEYS.get(kind, ()))


_ORDER = ("name", "kind", "nullable", "missing_values", "categories", "lower", "upper",
          "coarse", "decimals", "resolution", "format", "description", "todo")


def clean_column(col: Mapping[str, Any], *, draft: bool = True) -> dict[str, Any]:
    """A column in its tidy JSON form: keys in a fixed order, empty optional keys left out.

    ``None`` domain keys of the declared kind stay (they are the holes a draft
    shows the steward). In a draft, ``nullable`` is kept exactly as declared
    (absent means *not declared*, which ``infer_dp`` treats as "may be
    missing"); in a complete schema ``nullable: false`` is the default and is
    left out. An empty ``description`` or ``todo`` and keys set to ``None``
    are dropped.

    >>> clean_column({"kind": "integer", "name": "n", "nullable": False, "upper": 3})
    {'name': 'n', 'kind': 'integer', 'nullable': False, 'lower': None, 'upper': 3}
    >>> clean_column({"kind": "boolean", "name": "b", "nullable": False}, draft=False)
    {'name': 'b', 'kind': 'boolean'}
    """
    kind = col.get("kind")
    domain = DOMAIN_KEYS.get(kind, ()) if isinstance(kind, str) else ()
    out: dict[str, Any] = {}
    for key in (*_ORDER, *sorted(set(col) - set(_ORDER))):
        if key not in col and key not in ("name", "kind", *domain):
            continue
        value = col.get(key)
        if key in ("name", "kind") or key in domain:
            out[key] = value
        elif key == "nullable" and value is False and not draft:
            continue
        elif key in ("description", "todo") and not value:
            continue
        elif value is not None:
            out[key] = value
    return out


def check_constraints(constraints: object) -> list[dict[str, Any]]:
    """A list of constraint objects, each with a text ``kind`` (the schema checks the rest)."""
    out = []
    for rule in need_list(constraints, "'constraints'"):
        rule = need_mapping(rule, "each constraint")
        if not isinstance(rule.get("kind"), str):
            raise SchemaError("each constraint needs a 'kind' naming its type, e.g. "
                              '{"kind": "unique", "column": "id"}')
        out.append(dict(rule))
    return out


def assemble(columns: Sequence[Mapping[str, Any]], *, source: str = "public",
             constraints: Sequence[Mapping[str, Any]] = (),
             instructions: Sequence[str] = ()) -> dict[str, Any]:
    """A schema dictionary when nothing is missing, else a draft listing the holes.

    >>> assemble([{"name": "x", "kind": "boolean"}])["format"]
    'privsynth.schema'
    >>> assemble([{"name": "x", "kind": None}])["format"]
    'privsynth.schema-draft'
    """
    if source not in SOURCES:
        raise SchemaError(f"schema source must be one of {list(SOURCES)}, got {source!r}")
    names = [c["name"] for c in columns]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise SchemaError(f"the description names column(s) {dup} more than once")
    draft = any(has_holes(c) for c in columns)
    cols = [clean_column(c, draft=draft) for c in columns]
    for col in cols:  # a column with nothing missing must already be right
        if not has_holes(col):
            column_from_dict({k: v for k, v in col.items() if k not in DRAFT_COLUMN_KEYS})
    out: dict[str, Any] = {"format": DRAFT_FORMAT if draft else SCHEMA_FORMAT,
                           "version": VERSION, "source": source}
    if draft:
        out["instructions"] = [*instructions, *INSTRUCTIONS]
    else:
        cols = [{k: v for k, v in c.items() if k not in DRAFT_COLUMN_KEYS} for c in cols]
    out["columns"] = cols
    out["constraints"] = check_constraints(constraints)
    return out

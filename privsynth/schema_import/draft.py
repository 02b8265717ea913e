"""Drafts: schemas with holes, for the steward to complete (and for ``infer_dp`` to fill).

A draft is a privsynth schema dictionary whose ``format`` is
``"privsynth.schema-draft"`` and in which a column's ``kind`` may be ``null``
and its domain keys (``categories``; ``lower`` / ``upper``) may be ``null``
or absent. Two keys exist only in drafts: ``coarse`` (a public coarse range
``[low, high]`` within which :func:`privsynth.infer_dp` may estimate a
numeric column's bounds) and ``todo`` (a note for the steward, ignored when
read). Nothing in a draft comes from the data: :func:`draft_from_header`
reads the header line and nothing else.

>>> d = draft(["age", "sex"])
>>> needs(d)[0].summary
'age: needs a kind and a public domain'
>>> d = fill(d, {"age": {"kind": "integer", "lower": 0, "upper": 120},
...              "sex": {"kind": "categorical", "categories": ["F", "M"]}})
>>> needs(d)
[]
>>> complete(d)["columns"][0]
{'name': 'age', 'kind': 'integer', 'lower': 0, 'upper': 120}
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from privsynth.columns import KINDS, NUMERIC_KINDS, column_from_dict
from privsynth.errors import DataValidationError, SchemaError
from privsynth.schema_import._common import (
    COLUMN_KEYS,
    DOMAIN_KEYS,
    DRAFT_COLUMN_KEYS,
    DRAFT_FORMAT,
    DRAFT_TOP_KEYS,
    SCHEMA_FORMAT,
    SOURCES,
    TOP_KEYS,
    VERSION,
    assemble,
    check_constraints,
    clean_column,
    has_holes,
    need_mapping,
    parse_json,
    read_text,
)

__all__ = ["Need", "complete", "draft", "draft_from_header", "fill", "load_draft", "needs",
           "read_header"]

#: The longest header line read (a CSV header of a few thousand columns is far below this).
MAX_HEADER_BYTES = 4 * 2**20
#: The note on every column of a draft made from a header.
HEADER_TODO = "declare the kind and its public domain"
_SHOWN = 8


@dataclass(frozen=True)
class Need:
    """One thing a draft still lacks: a column's kind, or its public domain.

    Attributes
    ----------
    column : str
        The column's name.
    what : {"kind", "domain"}
        ``"kind"``: the kind is not declared (nor, then, the domain).
        ``"domain"``: the kind is declared, its public domain is not.
    kind : str or None
        The declared kind.
    keys : tuple of str
        The missing keys (``("kind",)``, ``("categories",)``, ``("lower", "upper")``...).
    dp_fillable : bool
        Whether ``infer_dp`` can fill it from the draft as it stands: the
        kind is declared and, for integer, float and datetime columns, a
        public ``coarse`` range is given.
    hint : str
        How to fill it.
    note : str
        The draft's ``todo`` note on this column (from the importer), if any.

    Examples
    --------
    >>> print(needs(draft(["x"]))[0].what)
    kind
    """

    column: str
    what: str
    kind: str | None
    keys: tuple[str, ...]
    dp_fillable: bool
    hint: str
    note: str = ""

    @property
    def summary(self) -> str:
        """What is missing, without the hint (``"age (integer): needs a public domain ..."``)."""
        if self.what == "kind":
            return f"{self.column}: needs a kind and a public domain"
        return f"{self.column} ({self.kind}): needs a public domain ({', '.join(self.keys)})"

    def __str__(self) -> str:
        return f"{self.summary}: {self.hint}"


def _hint(col: Mapping[str, Any]) -> tuple[str, bool]:
    kind = col.get("kind")
    if kind is None:
        return ('declare "kind" (categorical, integer, float, datetime or boolean) from the '
                "documentation of the data, then its domain"), False
    if kind == "categorical":
        return ('list every allowed value in "categories" from a public code list, or leave it '
                "null for `privsynth schema infer --dp` to estimate (charged)"), True
    coarse = col.get("coarse")
    unit = "ISO 8601 dates" if kind == "datetime" else "numbers"
    if coarse is not None:
        return (f'write public "lower" and "upper" ({unit}), or leave them null for '
                f"`privsynth schema infer --dp` to estimate within the coarse range "
                f"{list(coarse)} (charged)"), True
    return (f'write public "lower" and "upper" ({unit}: a legal or physical range, never the '
            'data\'s minimum and maximum), or give a public "coarse" range [low, high] and '
            "let `privsynth schema infer --dp` estimate them (charged)"), False


def _check_value(col: Mapping[str, Any], key: str, where: str) -> None:
    value = col.get(key)
    if value is None:
        return
    kind = col.get("kind")
    if key in ("categories", "missing_values"):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise SchemaError(f"{where}: {key!r} must be a list of strings (write numbers as "
                              'text, e.g. "1")')
    elif key in ("lower", "upper") and kind in ("integer", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SchemaError(f"{where}: {key!r} must be a number or null, got {value!r}")
    elif key in ("lower", "upper") and kind == "datetime":
        if not isinstance(value, str):
            raise SchemaError(f"{where}: {key!r} must be an ISO 8601 date or null, got {value!r}")
    elif key == "coarse":
        if kind not in NUMERIC_KINDS:
            raise SchemaError(f"{where}: a 'coarse' range is for integer, float and datetime "
                              f"columns, not {kind or 'a column without a kind'}")
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise SchemaError(f"{where}: 'coarse' must be a pair [low, high]")
    elif key == "todo" and not isinstance(value, str):
        raise SchemaError(f"{where}: 'todo' must be text")


def load_draft(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """Read and check a draft (or a complete schema) dictionary, JSON text or file.

    Mistakes raise :class:`~privsynth.errors.SchemaError` at once (unknown
    keys, a kind that does not exist, duplicated names, a category list that
    is not text, and anything wrong in a column that lacks nothing, such as a
    lower bound above the upper one); missing kinds and domains are not
    mistakes, they are what :func:`needs` lists.

    Parameters
    ----------
    source : mapping, JSON text or path
        A draft (``"format": "privsynth.schema-draft"``) or a schema.

    Returns
    -------
    dict
        A normalized copy, in the draft's own format.

    Examples
    --------
    >>> load_draft('{"format": "privsynth.schema-draft", "columns": [{"name": "a"}]}')["columns"]
    [{'name': 'a', 'kind': None}]
    """
    if isinstance(source, Mapping):
        data: Any = source
    elif isinstance(source, str) and source.lstrip().startswith("{"):
        data = parse_json(source, "the draft")
    else:
        data = parse_json(read_text(source, "draft file"), f"draft file {source}")
    data = need_mapping(data, "a draft")
    fmt = data.get("format", SCHEMA_FORMAT)
    if fmt not in (SCHEMA_FORMAT, DRAFT_FORMAT):
        raise SchemaError(f"not a privsynth schema or draft (format {fmt!r}); to read a "
                          "foreign description use privsynth.schema_import.import_description")
    if data.get("version", VERSION) != VERSION:
        raise SchemaError(f"draft version {data.get('version')!r} is not supported "
                          f"(supports {VERSION})")
    unknown = sorted(set(data) - TOP_KEYS - DRAFT_TOP_KEYS)
    if unknown:
        raise SchemaError(f"unknown top-level key(s) {unknown} in the draft")
    source_ = data.get("source", "public")
    if source_ not in SOURCES:
        raise SchemaError(f"draft source must be one of {list(SOURCES)}, got {source_!r}")
    columns = data.get("columns")
    if not isinstance(columns, list | tuple) or not columns:
        raise SchemaError("the draft needs a non-empty 'columns' list")
    cols: list[dict[str, Any]] = []
    for i, spec in enumerate(columns):
        spec = need_mapping(spec, f"column {i + 1} of the draft")
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise SchemaError(f"column {i + 1} of the draft needs a non-empty 'name'")
        where = f"column {name!r}"
        kind = spec.get("kind")
        if kind is not None and (not isinstance(kind, str) or kind not in KINDS):
            raise SchemaError(f"{where}: unknown kind {kind!r}; use one of {list(KINDS)} "
                              "(or null in a draft)")
        bad = sorted(set(spec) - COLUMN_KEYS - DRAFT_COLUMN_KEYS)
        if bad:
            raise SchemaError(f"{where}: unknown key(s) {bad}; allowed: "
                              f"{sorted(COLUMN_KEYS | DRAFT_COLUMN_KEYS)}")
        for key in spec:
            _check_value(spec, key, where)
        col = {k: (list(v) if isinstance(v, tuple) else v) for k, v in spec.items()}
        col["kind"] = kind
        cols.append(col)
    constraints = check_constraints(data.get("constraints", []))
    instructions = data.get("instructions", [])
    out: dict[str, Any] = {"format": fmt, "version": VERSION, "source": source_}
    if fmt == DRAFT_FORMAT:
        out["instructions"] = list(instructions) if isinstance(instructions, list) else []
    names = [c["name"] for c in cols]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise SchemaError(f"duplicated column names in the draft: {dup}")
    out["columns"] = [clean_column(c, draft=fmt == DRAFT_FORMAT) for c in cols]
    for col in out["columns"]:  # a column with nothing missing must already be right
        if not has_holes(col):
            column_from_dict({k: v for k, v in col.items() if k not in DRAFT_COLUMN_KEYS})
    out["constraints"] = constraints
    return out


def needs(source: str | Path | Mapping[str, Any]) -> list[Need]:
    """What a draft still lacks, in column order (empty when it is complete).

    Examples
    --------
    >>> d = {"format": "privsynth.schema-draft", "columns": [
    ...     {"name": "age", "kind": "integer", "lower": None, "upper": None, "coarse": [0, 150]},
    ...     {"name": "ok", "kind": "boolean"}]}
    >>> [(n.column, n.keys, n.dp_fillable) for n in needs(d)]
    [('age', ('lower', 'upper'), True)]
    """
    data = load_draft(source)
    out: list[Need] = []
    for col in data["columns"]:
        kind = col.get("kind")
        hint, fillable = _hint(col)
        note = col.get("todo") or ""
        if kind is None:
            out.append(Need(col["name"], "kind", None, ("kind",), False, hint, note))
            continue
        missing = tuple(k for k in DOMAIN_KEYS[kind] if col.get(k) is None)
        if missing:
            out.append(Need(col["name"], "domain", kind, missing, fillable, hint, note))
    return out


def _needs_text(found: Sequence[Need]) -> str:
    shown = "; ".join(n.summary for n in found[:_SHOWN])
    more = f"; and {len(found) - _SHOWN} more" if len(found) > _SHOWN else ""
    return shown + more


def complete(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """The schema dictionary of a completed draft (draft-only keys dropped).

    Raises
    ------
    SchemaError
        Something is still missing; the message names every column and what
        it needs (``privsynth schema check`` prints the full list with hints).

    Examples
    --------
    >>> complete(draft(["x"]))
    Traceback (most recent call last):
    ...
    privsynth.errors.SchemaError: the draft is not complete: x: needs a kind and a public \
domain. Fill these in (`privsynth schema check --schema DRAFT` says how) or let `privsynth \
schema infer --dp` estimate the domains.
    """
    data = load_draft(source)
    found = needs(data)
    if found:
        raise SchemaError(
            f"the draft is not complete: {_needs_text(found)}. Fill these in (`privsynth schema "
            "check --schema DRAFT` says how) or let `privsynth schema infer --dp` estimate the "
            "domains.")
    return assemble(data["columns"], source=data["source"], constraints=data["constraints"])


def draft(names: Sequence[str], *, todo: str = "") -> dict[str, Any]:
    """A draft with the given column names, every kind and domain still to fill.

    Examples
    --------
    >>> draft(["a"])["columns"]
    [{'name': 'a', 'kind': None}]
    """
    if isinstance(names, str) or not names:
        raise SchemaError("a draft needs a non-empty list of column names")
    for n in names:
        if not isinstance(n, str) or not n.strip():
            raise SchemaError("every column needs a non-empty name; the header has an empty "
                              "or blank name")
    cols = [{"name": n, "kind": None, "todo": todo} for n in names]
    return assemble(cols)


def fill(source: str | Path | Mapping[str, Any],
         columns: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A copy of a draft with some columns' keys set (the ``todo`` note of each is dropped).

    Parameters
    ----------
    source : mapping, JSON text or path
        The draft.
    columns : mapping
        ``{name: {key: value}}``, e.g. ``{"INDP": {"kind": "categorical",
        "categories": [...]}}``. Names must be columns of the draft.

    Returns
    -------
    dict
        A schema dictionary when nothing is missing any more, else a draft.

    Examples
    --------
    >>> fill(draft(["on"]), {"on": {"kind": "boolean"}})["format"]
    'privsynth.schema'
    """
    data = load_draft(source)
    by_name = {c["name"]: c for c in data["columns"]}
    unknown = sorted(set(columns) - set(by_name))
    if unknown:
        raise SchemaError(f"fill: no column(s) {unknown} in the draft; its columns are "
                          f"{list(by_name)[:20]}")
    for name, keys in columns.items():
        keys = need_mapping(keys, f"fill[{name!r}]")
        if "name" in keys and keys["name"] != name:
            raise SchemaError(f"fill[{name!r}]: a column cannot be renamed here")
        col = by_name[name]
        col.pop("todo", None)
        col.update(keys)
        if col.get("kind") is not None:
            for stale in set(DOMAIN_KEYS) - {col["kind"]}:
                for k in DOMAIN_KEYS[stale]:
                    if k not in DOMAIN_KEYS[col["kind"]] and col.get(k) is None:
                        col.pop(k, None)
    checked = load_draft({**data, "format": DRAFT_FORMAT})
    return assemble(checked["columns"], source=checked["source"],
                    constraints=checked["constraints"])


# ---------------------------------------------------------------- the header only
def _header_bytes(fh: Any, where: str) -> bytes:
    """Bytes up to the end of the first CSV record (a quoted name may span lines)."""
    buf = b""
    while True:
        line = fh.readline(MAX_HEADER_BYTES + 1 - len(buf))
        buf += line
        if not line or (buf.count(b'"') % 2 == 0 and buf.endswith(b"\n")):
            return buf
        if len(buf) > MAX_HEADER_BYTES:
            raise DataValidationError(
                f"cannot read the header of {where}: no end of line within the first "
                f"{MAX_HEADER_BYTES // 2**20} MB; is it a CSV file?")


def read_header(source: str | Path | IO[bytes], *, encoding: str = "utf-8",
                sep: str | None = None) -> tuple[str, ...]:
    """The column names of a CSV file, reading its header line and nothing else.

    Parameters
    ----------
    source : path or binary file object
        ``.csv``, ``.tsv`` (tab-separated), ``.txt`` or their ``.gz`` forms,
        or ``.parquet`` (names from the file's footer; needs pyarrow). A
        binary file object is read with ``readline`` only.
    encoding : str
        Text encoding of the header (a byte-order mark is removed).
    sep : str, optional
        Field separator; by default a tab for ``.tsv`` files, else a comma.

    Returns
    -------
    tuple of str
        The names, stripped of surrounding whitespace.

    Raises
    ------
    DataValidationError
        The file is missing, empty, not text in ``encoding``, or its header
        has empty or duplicated names.

    Examples
    --------
    >>> read_header(io.BytesIO(b"age,sex\\n\\xff\\xfe not even text\\n"))
    ('age', 'sex')
    """
    if isinstance(source, str | Path):
        path = Path(source)
        where = str(path)
        name = path.name.lower()
        if name.endswith((".parquet", ".pq")):
            return _parquet_names(path)
        if sep is None:
            sep = "\t" if name.removesuffix(".gz").endswith(".tsv") else ","
        try:
            fh: IO[bytes] = gzip.open(path, "rb") if name.endswith(".gz") \
                else path.open("rb")  # type: ignore[assignment]
            with fh:
                raw = _header_bytes(fh, where)
        except FileNotFoundError as exc:
            raise DataValidationError(f"data file not found: {path}") from exc
        except (OSError, EOFError) as exc:
            raise DataValidationError(f"cannot read the header of {path}: {exc}") from exc
    else:
        where = "the data"
        raw = _header_bytes(source, where)
    sep = sep or ","
    if not raw.strip():
        raise DataValidationError(f"{where} is empty: expected a header line with the column "
                                  "names")
    try:
        text = codecs.decode(raw, encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise DataValidationError(f"the header of {where} is not {encoding} text; pass the "
                                  "file's encoding (e.g. encoding='latin-1')") from exc
    text = text.lstrip("\ufeff")
    if len(sep) != 1:
        raise DataValidationError(f"the field separator must be one character, got {sep!r}")
    try:
        row = next(csv.reader(io.StringIO(text, newline=""), delimiter=sep), [])
    except csv.Error as exc:
        raise DataValidationError(f"the header of {where} cannot be parsed as CSV ({exc}); "
                                  "check its quoting") from exc
    names = tuple(n.strip() for n in row)
    if not names or any(not n for n in names):
        raise DataValidationError(f"the header of {where} has an empty column name; every "
                                  "column needs a name")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise DataValidationError(f"the header of {where} names column(s) {dup} more than "
                                  "once; rename them")
    return names


def _parquet_names(path: Path) -> tuple[str, ...]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        from privsynth.errors import MissingExtraError

        raise MissingExtraError("reading Parquet needs pyarrow: pip install "
                                "'privsynth[parquet]'") from exc
    try:
        return tuple(pq.read_schema(path).names)
    except FileNotFoundError as exc:
        raise DataValidationError(f"data file not found: {path}") from exc
    except Exception as exc:  # pyarrow raises its own error types for damaged files
        raise DataValidationError(f"cannot read the column names of {path}: "
                                  f"{type(exc).__name__}") from exc


def draft_from_header(source: str | Path | IO[bytes], *, encoding: str = "utf-8",
                      sep: str | None = None) -> dict[str, Any]:
    """A draft schema from a data file's header alone (no data row is read).

    Every column gets ``"kind": null`` and a ``todo`` note; the draft's
    ``instructions`` say how to complete it. See :func:`read_header` for the
    parameters.

    Examples
    --------
    >>> d = draft_from_header(io.BytesIO(b"id,score\\n1,2\\n"))
    >>> [c["name"] for c in d["columns"]], d["format"]
    (['id', 'score'], 'privsynth.schema-draft')
    """
    names = read_header(source, encoding=encoding, sep=sep)
    return draft(names, todo=HEADER_TODO)

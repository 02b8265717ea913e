"""``privsynth schema import|export|draft|check``: public descriptions, drafts, what is missing.

None of these commands spends budget or reads a data row: ``import`` and
``export`` read and write descriptions, ``draft`` reads the header line of
the data file and nothing else, ``check`` lists what a draft still lacks
(and, for a complete schema with DATA, every way the data do not match it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from privsynth.cli._common import (
    EXIT_OK,
    Parser,
    Subparsers,
    UsageError,
    data_options,
    missing_tokens,
    need_file,
    output_path,
    plural,
    read_data,
)
from privsynth.errors import DataValidationError, SchemaError
from privsynth.schema_import.draft import HEADER_TODO

_SHOWN = 50


def register(ssub: Subparsers, common: Parser) -> None:
    """Add ``schema import``, ``schema export``, ``schema draft`` and ``schema check``."""
    from privsynth.schema_import import EXPORT_FORMATS, FORMATS

    q = ssub.add_parser(
        "import", parents=[common], help="a schema (or draft) from a public description",
        description="Translate a Table Schema, SDV metadata, a data-dictionary CSV or a NIST "
                    "data dictionary into a privsynth schema. What the description does not "
                    "give is listed, never read from the data; the result is then a draft.")
    q.add_argument("source", metavar="SOURCE", help="the description file (.json or .csv)")
    q.add_argument("--out", required=True, metavar="SCHEMA.json",
                   help="the schema (or draft) file to write")
    q.add_argument("--format", choices=FORMATS,
                   help="the description's format (default: detected from its content)")
    q.add_argument("--table", metavar="NAME",
                   help="the table (SDV) or resource (Data Package) to read when it has several")
    q.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    q.set_defaults(func=schema_import)

    q = ssub.add_parser("export", parents=[common], help="a schema in another format",
                        description="Write a privsynth schema (or draft) as a Table Schema, "
                                    "SDV metadata or a data-dictionary CSV.")
    q.add_argument("--schema", required=True, metavar="SCHEMA.json", help="the schema to export")
    q.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="the format to write")
    q.add_argument("--out", metavar="FILE", help="the file to write (default: standard output)")
    q.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    q.set_defaults(func=schema_export)

    q = ssub.add_parser(
        "draft", parents=[common], help="a draft schema from the data file's header only",
        description="Read the column names (the header line) of DATA and nothing else, and "
                    "write a draft schema whose kinds and domains you fill in.")
    q.add_argument("data", metavar="DATA", help="a CSV/TSV (optionally .gz) or Parquet file")
    q.add_argument("--out", required=True, metavar="DRAFT.json", help="the draft file to write")
    q.add_argument("--encoding", default="utf-8", help="text encoding of the header "
                                                       "(default utf-8)")
    q.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    q.set_defaults(func=schema_draft)

    q = ssub.add_parser(
        "check", parents=[common], help="what a schema or draft lacks; data against a schema",
        description="List what a draft still lacks (kinds, public domains). With DATA: for a "
                    "draft, compare the header's column names with it (no data row is read); "
                    "for a complete schema, list every way the data do not match it (counts "
                    "only). Exit 4 when something is missing or does not match.")
    q.add_argument("data", metavar="DATA", nargs="?", help="a CSV or Parquet file (optional)")
    q.add_argument("--schema", required=True, metavar="SCHEMA.json",
                   help="the schema or draft to check")
    data_options(q)
    q.set_defaults(func=schema_check)


def _new_output(path: str, what: str, overwrite: bool) -> Path:
    out = output_path(path, what)
    if out.exists() and not overwrite:
        raise UsageError(f"{what} {out} exists; give another name or --overwrite (a draft "
                         "you have started to fill in would be lost)")
    return out


def _write(out: Path, text: str) -> None:
    from privsynth._modelfile import atomic_write_text

    atomic_write_text(out, text)


def _print_needs(found: list[Any], *, hints: bool) -> None:
    """One line per column; then each distinct hint once, and the source's notes."""
    for need in found[:_SHOWN]:
        print(f"  - {need.summary}")
    if len(found) > _SHOWN:
        print(f"  ... and {len(found) - _SHOWN} more")
    if not hints:
        return
    print("How to fill them:")
    for hint in dict.fromkeys(need.hint for need in found):
        print(f"  - {hint}")
    notes = [need for need in found if need.note and need.note != HEADER_TODO]
    if notes:
        print("Notes from the description:")
        for need in notes[:_SHOWN]:
            print(f"  - {need.column}: {need.note}")


def schema_import(args: argparse.Namespace) -> int:
    """Write the schema, or the draft, translated from a public description."""
    from privsynth.schema import Schema
    from privsynth.schema_import import import_description, needs

    out = _new_output(args.out, "schema output", args.overwrite)
    source = need_file(args.source, "description file", SchemaError)
    result = import_description(source, format=args.format, table=args.table)
    found = needs(result)
    if not found:
        Schema.from_dict(result)  # every value checked before the file is written
    _write(out, json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    n = len(result["columns"])
    if not found:
        print(f"wrote {out}: a complete schema, {plural(n, 'column')} (source: "
              f"{result['source']})")
        return EXIT_OK
    print(f"wrote {out}: a DRAFT, {plural(n, 'column')}, {len(found)} to fill: the "
          "description does not give these (nothing is read from the data):")
    _print_needs(found, hints=False)
    print(f"Fill them in (`privsynth schema check --schema {out}` says how), or let "
          "`privsynth schema infer --dp` estimate the domains.")
    return EXIT_OK


def schema_export(args: argparse.Namespace) -> int:
    """Print or write a schema (or draft) as Table Schema, SDV metadata or a dictionary CSV."""
    from privsynth.schema import Schema
    from privsynth.schema_import import DRAFT_FORMAT, export_description, load_draft

    path = need_file(args.schema, "schema file", SchemaError)
    data = load_draft(path)
    if data["format"] != DRAFT_FORMAT:
        data = Schema.from_dict(data).to_dict()  # fully checked
    result = export_description(data, args.format)
    text = result if isinstance(result, str) else \
        json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        print(text, end="")
        return EXIT_OK
    out = _new_output(args.out, "export output", args.overwrite)
    _write(out, text)
    print(f"wrote {out}: {args.format} description of {plural(len(data['columns']), 'column')}")
    return EXIT_OK


def schema_draft(args: argparse.Namespace) -> int:
    """Write a draft schema from the header line of DATA (no data row is read)."""
    from privsynth.schema_import import draft_from_header

    out = _new_output(args.out, "draft output", args.overwrite)
    data = need_file(args.data, "data file", DataValidationError)
    result = draft_from_header(data, encoding=args.encoding)
    _write(out, json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    n = len(result["columns"])
    print(f"wrote {out}: a draft with {plural(n, 'column')} from the header of {data} (no data "
          "row was read). Declare each column's kind and public domain (the file's "
          f"'instructions' say how), then run `privsynth schema check --schema {out}`.")
    return EXIT_OK


def schema_check(args: argparse.Namespace) -> int:
    """List what a draft lacks; with DATA, compare names (draft) or validate (schema)."""
    from privsynth.schema import Schema
    from privsynth.schema_import import DRAFT_FORMAT, load_draft, needs, read_header
    from privsynth.validation import validate

    path = need_file(args.schema, "schema file", SchemaError)
    data = load_draft(path)
    found = needs(data)
    n = len(data["columns"])
    if found:
        print(f"{path}: a draft, {plural(n, 'column')}: {n - len(found)} complete, "
              f"{len(found)} to fill:")
        _print_needs(found, hints=True)
        fillable = sum(nd.dp_fillable for nd in found)
        if fillable:
            rest = ("" if fillable == len(found) else
                    "; the others need a kind or a coarse range first")
            these = "it" if len(found) == 1 else (
                "all of them" if fillable == len(found) else f"{fillable} of these")
            print(f"{these[0].upper()}{these[1:]} can be estimated by `privsynth schema infer "
                  f"--dp` (charged to the ledger){rest}; or declare what public documents "
                  "give, which costs nothing.")
    schema = None if found else Schema.from_dict(data)
    if schema is not None:
        kind = "draft, complete" if data["format"] == DRAFT_FORMAT else "schema"
        print(f"{path}: {kind}: {plural(n, 'column')}, source {schema.source!r}")
    if args.data is not None:
        if schema is None:
            names = read_header(need_file(args.data, "data file", DataValidationError))
            _compare_names(names, [c["name"] for c in data["columns"]], args.data)
        else:
            _validate(args, schema, validate)
    if found:
        raise SchemaError(f"{path} is not complete: {len(found)} of {plural(n, 'column')} "
                          "to fill (listed above)")
    return EXIT_OK


def _compare_names(names: tuple[str, ...], declared: list[str], data: str) -> None:
    extra = [n for n in names if n not in declared]
    absent = [n for n in declared if n not in names]
    if extra or absent:
        raise DataValidationError(
            f"the header of {data} does not match the draft: columns not in the draft "
            f"{extra[:10]}, draft columns not in the data {absent[:10]}")
    print(f"{data}: its header names the same {plural(len(names), 'column')} as the draft "
          "(no data row was read)")


def _validate(args: argparse.Namespace, schema: Any, validate: Any) -> None:
    try:
        raw = read_data(args.data, "data file", missing_values=())
        validate(raw, schema, missing_values=missing_tokens(args),
                 on_out_of_domain=args.out_of_domain or "error")
    except DataValidationError as exc:
        print(f"{args.data} does not match the schema ({len(exc.problems)} problems; counts "
              "only, values are never shown):")
        for p in exc.problems:
            col = p.get("column")
            print(f"  - {'column ' + repr(col) if col is not None else 'file'}: "
                  f"{p.get('problem')} ({p.get('rows')} rows)")
        raise
    print(f"{args.data} matches the schema")


__all__ = ["register"]

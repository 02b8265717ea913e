"""``privsynth schema infer``: write a schema from data (DP or unsafe).

The other ``schema`` actions (``import``, ``export``, ``draft``, ``check``) are in
:mod:`privsynth.cli.schema_describe`.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from privsynth.cli import schema_describe
from privsynth.cli._common import (
    EXIT_OK,
    Parser,
    Subparsers,
    UsageError,
    check_new_release,
    data_options,
    log,
    missing_tokens,
    need_file,
    output_path,
    paid_output,
    positive_float,
    positive_int,
    read_data,
    utc_now,
)
from privsynth.errors import DataValidationError, PrivsynthError, SchemaError


def register(sub: Subparsers, common: Parser) -> None:
    """Add ``schema infer``, and the actions of :mod:`~privsynth.cli.schema_describe`."""
    p = sub.add_parser("schema", parents=[common], help="infer or check a schema",
                       description="Schemas hold the public domains of the columns.")
    ssub = p.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    q = ssub.add_parser("infer", parents=[common], help="write a schema from data")
    q.add_argument("data", metavar="DATA")
    q.add_argument("--out", required=True, metavar="SCHEMA.json",
                   help="the schema file to write (with --dp it must not exist yet)")
    q.add_argument("--unsafe", action="store_true",
                   help="read domains from the data WITHOUT differential privacy")
    q.add_argument("--dp", action="store_true", help="estimate domains with DP (spends budget)")
    q.add_argument("--epsilon", type=positive_float, help="budget for --dp")
    q.add_argument("--ledger", help="ledger charged by --dp")
    q.add_argument("--coarse", metavar="COARSE.json",
                   help="public coarse ranges of numeric columns for --dp, e.g. "
                        '{"age": [0, 150]}')
    q.add_argument("--max-categories", type=positive_int, default=200, metavar="N",
                   help="most categories kept per column (default 200)")
    q.add_argument("--release", help="release id recorded in the ledger, new to it")
    q.add_argument("--lock-timeout", type=positive_float, default=300.0, metavar="SECONDS",
                   help="how long to wait for another process using the ledger (default 300)")
    data_options(q, out_of_domain=False)
    q.set_defaults(func=schema_infer)
    schema_describe.register(ssub, common)


def coarse_spec(path: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse a coarse-range file: ``{"age": [0, 150], "when": {"kind": "datetime", ...}}``."""
    p = need_file(path, "coarse-range file", SchemaError)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaError(f"coarse-range file {p} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SchemaError(f"coarse-range file {p} must hold a JSON object of column -> range")
    coarse: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    for name, spec in data.items():
        kind = None
        if isinstance(spec, dict):
            kind, spec = spec.get("kind"), spec.get("range")
            if not isinstance(kind, str):
                raise SchemaError(f"coarse-range file {p}: column {name!r} needs a 'kind'")
        if spec is not None:
            if not isinstance(spec, list) or len(spec) not in (2, 3):
                raise SchemaError(f"coarse-range file {p}: the range of {name!r} must be "
                                  "[lower, upper] (datetimes: [start, end, resolution?])")
            if kind is None:
                if all(isinstance(v, str) for v in spec):
                    kind = "datetime"
                elif all(isinstance(v, int) and not isinstance(v, bool) for v in spec):
                    kind = "integer"
                else:
                    kind = "float"
            coarse[name] = tuple(spec)
        if kind is not None:
            kinds[name] = kind
    return coarse, kinds


def schema_infer(args: argparse.Namespace) -> int:
    """Write a schema read from the data: with DP (charged) or, on request, without."""
    from privsynth._modelfile import atomic_write_text

    if args.unsafe == args.dp:
        raise UsageError("schema infer needs exactly one of --dp (differentially private, "
                         "spends budget) or --unsafe (reads domains from the data, NOT private)")
    # --dp spends budget: its output must be new (checked before anything is spent)
    out = paid_output(args.out, "schema output") if args.dp else output_path(args.out,
                                                                             "schema output")
    need_file(args.data, "data file", DataValidationError)
    missing = missing_tokens(args)
    if args.unsafe:
        from privsynth.inference import infer_unsafe

        log.warning("privsynth: warning: --unsafe reads category lists and bounds from the data "
                    "itself, WITHOUT differential privacy; anything released with this schema "
                    "reveals them. Prefer a public schema or --dp.")
        df = read_data(args.data, "data file", missing_values=missing)
        schema = infer_unsafe(df, warn=False, max_categories=args.max_categories)
        atomic_write_text(out, schema.to_json() + "\n")
        print(f"wrote {out}: {len(schema.columns)} columns (source: data, NOT DP)")
        return EXIT_OK

    if args.epsilon is None or args.ledger is None:
        raise UsageError("schema infer --dp needs --epsilon and --ledger")
    try:
        from privsynth.inference import infer_dp
    except ImportError as exc:
        raise PrivsynthError(
            "schema infer --dp is not available in this installation (privsynth._infer_dp "
            f"cannot be imported: {exc})") from exc
    from privsynth.accounting.persistent import FileAccountant, read_ledger

    coarse, kinds = coarse_spec(args.coarse) if args.coarse else ({}, {})
    release = args.release or f"schema:{out.name}@{utc_now()}"
    # fail closed on a bad ledger and a reused release id before reading the data
    check_new_release(read_ledger(args.ledger), release, args.ledger)
    df = read_data(args.data, "data file", missing_values=missing)
    with FileAccountant.locked(args.ledger, lock_timeout=args.lock_timeout,
                               release=release) as acct:
        check_new_release(acct, release, args.ledger)
        schema = infer_dp(df, epsilon=args.epsilon, accountant=acct, coarse=coarse,
                          kinds=kinds, max_categories=args.max_categories)
        left = acct.remaining().epsilon
    atomic_write_text(out, schema.to_json() + "\n")
    print(f"wrote {out}: {len(schema.columns)} columns (source: dp); spent epsilon "
          f"{args.epsilon:g}, remaining epsilon {left:.4g} in {args.ledger}")
    return EXIT_OK

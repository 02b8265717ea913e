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
    EXIT_BUDGET,
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
from privsynth.errors import DataValidationError, SchemaError


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
    q.add_argument("--schema", metavar="DRAFT.json",
                   help="for --dp: the draft (or schema) to fill: every column's kind "
                        "declared; only missing domains are estimated (default: a draft of "
                        "the data's header, whose kinds --coarse must then declare)")
    q.add_argument("--coarse", metavar="COARSE.json",
                   help="public coarse ranges (and kinds) of numeric columns for --dp, e.g. "
                        '{"age": [0, 150]}')
    q.add_argument("--dry-run", action="store_true",
                   help="for --dp: print what would be charged, to which ledger and what "
                        "remains after; read no data, charge nothing")
    q.add_argument("--json", action="store_true", help="with --dry-run: print the plan as JSON")
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
    return _infer_dp(args, out, missing)


def _infer_dp(args: argparse.Namespace, out: Any, missing: tuple[str, ...]) -> int:
    """``schema infer --dp``: plan from public information, refuse or charge, then fill.

    Order: the draft (or the data's header, never a row), the coarse file and
    the ledger are read and the plan made first; a column without a kind or a
    numeric column without a coarse range exits 2 naming each, with the ledger
    untouched. ``--dry-run`` stops there. Then the data is read and the ledger
    charged; columns that fail keep the domains already paid for: the draft is
    written to --out and the command exits 4 naming them.
    """
    from privsynth._modelfile import atomic_write_text
    from privsynth.accounting.persistent import FileAccountant
    from privsynth.errors import IncompleteDraftError, PartialInferenceError
    from privsynth.inference import infer_dp, plan_inference
    from privsynth.schema_import import draft_from_header, load_draft

    if args.schema is not None:
        draft = load_draft(need_file(args.schema, "draft file", SchemaError))
    else:
        draft = draft_from_header(need_file(args.data, "data file", DataValidationError))
    coarse, kinds = coarse_spec(args.coarse) if args.coarse else ({}, {})
    ledger = FileAccountant.open(args.ledger)  # verifies it; nothing is written
    try:
        plan = plan_inference(draft, epsilon=args.epsilon, accountant=ledger, coarse=coarse,
                              kinds=kinds)
    except IncompleteDraftError as exc:
        raise UsageError(
            f"schema infer --dp: {exc} (kinds and coarse ranges go in a draft passed with "
            "--schema; `privsynth schema draft DATA --out draft.json` writes one from the "
            "header; or in --coarse)") from exc
    if args.dry_run:
        print(json.dumps(plan.to_dict(), indent=2) if args.json else str(plan))
        return EXIT_OK if plan.fits else EXIT_BUDGET
    release = args.release or f"schema:{out.name}@{utc_now()}"
    # a reused release id is refused before reading the data
    check_new_release(ledger, release, args.ledger)
    # raw text: each column's own missing tokens (or --missing-value) apply in infer_dp
    df = read_data(args.data, "data file", missing_values=())
    with FileAccountant.locked(args.ledger, lock_timeout=args.lock_timeout,
                               release=release) as acct:
        check_new_release(acct, release, args.ledger)
        try:
            schema = infer_dp(df, draft, epsilon=args.epsilon, accountant=acct, coarse=coarse,
                              kinds=kinds, max_categories=args.max_categories,
                              missing_values=missing)
        except PartialInferenceError as exc:
            atomic_write_text(out, json.dumps(exc.draft, indent=2, ensure_ascii=False) + "\n")
            log.error("privsynth: the domains paid for are kept: wrote the draft %s (fill in "
                      "%s, or estimate them again)", out, ", ".join(exc.failed))
            raise
        left = acct.remaining().epsilon
    atomic_write_text(out, schema.to_json() + "\n")
    print(f"wrote {out}: {len(schema.columns)} columns (source: {schema.source}); spent "
          f"epsilon {plan.epsilon:.6g}, remaining epsilon {left:.4g} in {args.ledger}")
    return EXIT_OK

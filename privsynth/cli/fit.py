"""``privsynth fit``: fit a DP model on a private table, charging the data set's ledger."""

from __future__ import annotations

import argparse
from typing import Any

from privsynth.cli._common import (
    EXIT_OK,
    Parser,
    Progress,
    Subparsers,
    UsageError,
    check_new_release,
    claim_scope,
    data_options,
    delta,
    load_schema,
    make_engine,
    missing_tokens,
    need_file,
    note_unrefunded,
    paid_output,
    param,
    positive_float,
    positive_int,
    read_data,
    utc_now,
)
from privsynth.errors import DataValidationError
from privsynth.release.manifest import check_manifest_folder, write_manifest


def register(sub: Subparsers, common: Parser) -> None:
    """Add ``fit``."""
    p = sub.add_parser("fit", parents=[common], help="fit a DP model, charging the ledger",
                       description="Fit a synthesizer on DATA with differential privacy.")
    p.add_argument("data", metavar="DATA", help="the private table (CSV or Parquet)")
    p.add_argument("--schema", required=True, metavar="SCHEMA.json", help="the public schema")
    p.add_argument("--engine", default="privbayes", help="privbayes (default) or dpctgan")
    p.add_argument("--epsilon", type=positive_float, required=True, help="epsilon of this fit")
    p.add_argument("--delta", type=delta,
                   help="delta of this fit: DP-CTGAN needs one (default: the ledger's "
                   "unused delta); PrivBayes is pure epsilon-DP unless a delta is given, "
                   "which lets its tables take discrete Gaussian noise")
    p.add_argument("--ledger", required=True, metavar="LEDGER.json",
                   help="the data set's ledger (create it with `privsynth budget init`)")
    p.add_argument("--out", required=True, metavar="MODEL.json",
                   help="the model file to write (must not exist: a fit never overwrites)")
    p.add_argument("--param", type=param, action="append", metavar="NAME=VALUE",
                   help="engine parameter (repeatable), e.g. --param degree=2")
    p.add_argument("--release", help="release id recorded in the ledger, new to it (default: "
                   "model file name and time)")
    p.add_argument("--key-file", metavar="KEY",
                   help="the secret key of a ledger bound to its data set (default LEDGER.key)")
    p.add_argument("--lock-timeout", type=positive_float, default=300.0, metavar="SECONDS",
                   help="how long to wait for another process using the ledger (default 300)")
    p.add_argument("--privacy-unit", metavar="COLUMN",
                   help="protect every row of one identifier (an id column of the schema) "
                        "instead of one row; needs --max-rows-per-unit and a ledger created "
                        "with `budget init --unit COLUMN` (docs/units.md)")
    p.add_argument("--max-rows-per-unit", type=int, metavar="K",
                   help="the most rows of one unit the fit uses (a unit with more keeps a "
                        "random K); public, chosen by the steward")
    p.add_argument("--dry-run", action="store_true",
                   help="check everything and print what the fit would charge, to which ledger, "
                        "and what would remain; reads the data file's header only, spends "
                        "nothing, writes nothing")
    p.add_argument("--rows", type=positive_int, metavar="N",
                   help="with --dry-run: a row count known publicly (or a noisy count already "
                        "released); the dry run then predicts the release's accuracy with the "
                        "budget planner (`privsynth plan`). Never read from the data")
    data_options(p)
    p.set_defaults(func=fit)


def fit(args: argparse.Namespace) -> int:
    """Check everything declared, then read the data, charge the ledger and fit."""
    from privsynth.accounting.persistent import FileAccountant, read_ledger

    if args.rows is not None and not args.dry_run:
        raise UsageError("--rows only serves --dry-run (a fit counts its rows with noise)")
    progress = Progress(3)
    model = make_engine(args.engine, args.param or ())
    out = paid_output(args.out, "model output")  # absent and writable, before any spend
    check_manifest_folder(out.parent)  # release manifest (H10): updatable, before any spend
    schema = load_schema(args.schema)
    release = args.release or f"{out.name}@{utc_now()}"
    # Fail closed on a bad ledger, a reused release id and an overspend, before the data is
    # read. The engine checks again (and charges) under the lock: another process may spend
    # meanwhile.
    ledger = read_ledger(args.ledger)
    check_new_release(ledger, release, args.ledger)
    plan = model.plan_fit(schema=schema, epsilon=args.epsilon, delta=args.delta,
                          accountant=ledger, release=release,
                          on_out_of_domain=args.out_of_domain, **_unit(args))
    data_path = need_file(args.data, "data file", DataValidationError)
    if args.dry_run:
        return _dry_run(args, ledger, plan, schema, release, out)
    with progress.step(f"reading {data_path.name}"):
        # read as given (text); the engine checks the ledger's data-set fingerprint on it,
        # then validates it against the schema (H10: before clipping or coercion)
        data = read_data(args.data, "data file", missing_values=missing_tokens(args))
    with progress.step(f"fitting {args.engine} (epsilon {args.epsilon:g}); the ledger is "
                       "charged before any noise is drawn"), \
            FileAccountant.locked(args.ledger, lock_timeout=args.lock_timeout,
                                  key=args.key_file) as acct:
        check_new_release(acct, release, args.ledger)  # again, under the lock
        before = len(acct.ledger)
        try:
            model.fit(data, schema=schema, epsilon=args.epsilon, delta=args.delta,
                      accountant=acct, release=release, on_out_of_domain=plan.on_out_of_domain,
                      **_unit(args))
        except BaseException as exc:
            if isinstance(exc, DataValidationError) and len(acct.ledger) == before:
                # the data did not match the schema; nothing was spent (H10)
                raise DataValidationError(f"data file {data_path}: {exc}",
                                          problems=exc.problems) from exc
            note_unrefunded(exc, acct, before, args.ledger)
            raise
        total, left = acct.spent(), acct.remaining()
    with progress.step(f"writing {out.name}"):
        model.save(out)
        manifest = write_manifest(out.parent, model=model, model_file=out, accountant=acct)  # H10
    own = f"epsilon {model.epsilon_:.4g}" + (f", delta {model.delta_:.3g}" if model.delta_ else "")
    own += claim_scope(model.record_)
    print(f"fitted {args.engine}: release {release!r}, its own guarantee {own}; the data "
          f"set's ledger {args.ledger} now at epsilon {total.epsilon:.4g} of {acct.epsilon:g} "
          f"(remaining {left.epsilon:.4g}); model written to {out}, listed in {manifest}")
    return EXIT_OK


def _unit(args: argparse.Namespace) -> dict[str, Any]:
    """The declared privacy unit as fit keywords (none: each row is the unit)."""
    return {"privacy_unit": args.privacy_unit, "max_rows_per_unit": args.max_rows_per_unit}


def _dry_run(args: argparse.Namespace, ledger: Any, plan: Any, schema: Any, release: str,
             out: Any) -> int:
    """Print the plan of a fit whose every declared input was checked; read no data row."""
    from privsynth.schema_import import read_header

    names = read_header(args.data)  # the header line only, never a data row
    missing = [c for c in schema.names if c not in names]
    extra = [c for c in names if c not in schema.names]
    if missing or extra:
        raise DataValidationError(
            f"data file {args.data}: its header does not match the schema: missing {missing}, "
            f"not in the schema {extra}; the fit would be refused (nothing was spent)")
    after = plan.ledger_bound
    now = ledger.spent()
    delta = f", delta {plan.delta:g}" if plan.delta else ""
    for line in (
        f"dry run of fit {args.engine}: nothing spent, nothing written, no data row read",
        f"  {'would charge':<13} epsilon {args.epsilon:g}{delta} to {args.ledger} as release "
        f"{release!r}",
        f"  {'ledger now':<13} epsilon {now.epsilon:.4g} of {ledger.epsilon:g} spent "
        f"(remaining {max(0.0, ledger.epsilon - now.epsilon):.4g})",
        f"  {'after the fit':<13} epsilon at most {after:.4g} of {ledger.epsilon:g} spent "
        f"(remaining at least {max(0.0, ledger.epsilon - after):.4g})",
        f"  {'data':<13} {args.data}: the {len(names)} columns of the header match the schema "
        "(values are checked when the fit reads the rows)",
        f"  {'privacy unit':<13} {plan.unit.describe()}",
        f"  {'would write':<13} {out}",
    ):
        print(line)
    if args.rows is not None:
        from privsynth.planner import plan as predict

        expected = predict(schema, [args.epsilon], n=args.rows, delta=args.delta,
                           engine=args.engine, engine_options=dict(args.param or ()),
                           max_rows_per_unit=args.max_rows_per_unit).plans[0]
        print(f"  {'expected':<13} tvd1 {expected.tvd1:.3f}, tvd2 {expected.tvd2:.3f} "
              f"({expected.verdict}): {expected.message} (predicted from the schema and the "
              f"{args.rows:,} rows stated; see `privsynth plan`)")
    else:
        print(f"  {'expected':<13} give --rows N (a public row count) to predict the "
              "release's accuracy")
    return EXIT_OK

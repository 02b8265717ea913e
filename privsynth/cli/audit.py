"""``privsynth audit``: the audit report (utility, attacks, ledger) as HTML and JSON."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from privsynth.cli._common import (
    EXIT_OK,
    Parser,
    Progress,
    Subparsers,
    UsageError,
    data_options,
    import_report,
    load_schema,
    missing_tokens,
    need_file,
    output_path,
    positive_int,
    read_data,
    risk_options,
    seed,
)
from privsynth.cli.tables import named_path
from privsynth.errors import ModelFileError


def register(sub: Subparsers, common: Parser) -> None:
    """Add ``audit``."""
    p = sub.add_parser("audit", parents=[common], help="write the audit report",
                       description="Utility, privacy attacks and the ledger, as HTML (+ JSON).")
    p.add_argument("--real", required=True, action="append", metavar="PATH",
                   help="the private training data (CSV or Parquet); for a fit-tables model "
                        "NAME=PATH, once per table")
    p.add_argument("--synthetic", required=True, action="append", metavar="PATH",
                   help="the synthetic data (CSV or Parquet); for a fit-tables model "
                        "NAME=PATH, once per table")
    p.add_argument("--holdout", help="real rows NOT used in training (for TSTR and attacks)")
    p.add_argument("--model", help="the model file")
    p.add_argument("--ledger", help="the data set's ledger")
    p.add_argument("--schema", help="the public schema (default: the model's)")
    p.add_argument("--target", help="column predicted in train-on-synthetic tests")
    p.add_argument("--out", required=True, metavar="REPORT.html", help="the HTML report to write")
    p.add_argument("--json", metavar="REPORT.json", help="also write the JSON report")
    p.add_argument("--public", action="store_true",
                   help="write the public edition: no evaluation numbers (utility, attacks), "
                        "only the schema, DP outputs, the ledger and the checklist")
    p.add_argument("--release", help="release id shown in the report")
    p.add_argument("--no-attacks", action="store_true", help="skip the membership attacks")
    p.add_argument("--max-records", type=positive_int, metavar="N",
                   help="records per side used by the attacks (default 5000; smaller is faster)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the attacks (default 0)")
    so = p.add_argument_group("sign-off page (release metadata; public, shown in both editions)")
    so.add_argument("--purpose", type=_text, help="what the release is for")
    so.add_argument("--audience", type=_text, help="to whom the files are released")
    so.add_argument("--controller", type=_text,
                    help="the data controller (default: the ledger's data-set owner)")
    so.add_argument("--approver", type=_text,
                    help="who approves the release (default: the ledger's approved-by)")
    so.add_argument("--dataset", type=_text,
                    help="the data set's name (default: the ledger's; must agree with it)")
    data_options(p, out_of_domain=False)
    p.set_defaults(func=audit)


def _text(value: str) -> str:
    """A non-empty text (the sign-off page's fields)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty (leave the option out instead: "
                                         "the field is then printed blank, to fill in by hand)")
    return value.strip()


def audit(args: argparse.Namespace) -> int:
    """Read the three tables, evaluate, write the report."""
    from privsynth import engines
    from privsynth._modelfile import peek_engine
    from privsynth.engines.tables import ENGINE as TABLES_ENGINE

    if args.model is not None and peek_engine(
            need_file(args.model, "model file", ModelFileError)) == TABLES_ENGINE:
        return audit_tables(args)
    for option, given in (("--real", args.real), ("--synthetic", args.synthetic)):
        if len(given) != 1:
            raise UsageError(f"{option} is given {len(given)} times; give it once (several "
                             "tables are audited together only with the --model of a "
                             "fit-tables release)")
    args.real, args.synthetic = args.real[0], args.synthetic[0]
    if args.schema is None and args.model is None:
        raise UsageError("audit needs the public schema: give --schema or --model")
    out = output_path(args.out, "report output")
    json_out = output_path(args.json, "JSON report output") if args.json else None
    report_mod = import_report()
    model = engines.load_model(need_file(args.model, "model file", ModelFileError)) \
        if args.model else None
    schema = load_schema(args.schema) if args.schema else model.schema_  # type: ignore[union-attr]
    accountant = _ledger_of(args)
    missing = missing_tokens(args)

    def read(path: str, what: str) -> Any:
        # errors name the input ("synthetic data file s.csv: ...")
        return read_data(path, what, schema=schema, missing_values=missing)

    progress = Progress(3)
    with progress.step("reading the real, synthetic and holdout tables"):
        real = read(args.real, "real data file")
        synthetic = read(args.synthetic, "synthetic data file")
        holdout = read(args.holdout, "holdout data file") if args.holdout else None
    with progress.step("measuring utility" + ("" if args.no_attacks else
                                              " and running membership attacks")):
        rep = report_mod.audit(
            real, synthetic, schema=schema, holdout=holdout, model=model, accountant=accountant,
            target=args.target, synthetic_path=args.synthetic, model_path=args.model,
            release_id=args.release, attacks=not args.no_attacks, random_state=args.seed,
            risk_options=risk_options(args), purpose=args.purpose, audience=args.audience,
            controller=args.controller, approver=args.approver, dataset=args.dataset)
    return _write(rep, out, json_out, progress, public=args.public, what="the report")


def _tables_by_name(values: list[str], option: str, names: tuple[str, str]) -> dict[str, str]:
    """``NAME=PATH`` values of ``option``, exactly one per table of the relation."""
    out: dict[str, str] = {}
    for value in values:
        try:
            name, path = named_path(value)
        except argparse.ArgumentTypeError:
            raise UsageError(f"{option}: a fit-tables release has one file per table; give "
                             f"{option} {names[0]}=PATH and {option} {names[1]}=PATH, got "
                             f"{value!r}") from None
        if name in out:
            raise UsageError(f"{option}: the table {name!r} is given more than once")
        out[name] = path
    if set(out) != set(names):
        raise UsageError(f"{option}: give exactly the tables of the release, "
                         f"{names[0]}=PATH and {names[1]}=PATH; got {sorted(out)}")
    return out


def audit_tables(args: argparse.Namespace) -> int:
    """The audit of a fit-tables release: both tables and their relation, one report."""
    from privsynth.engines.tables import TablesModel

    refused = [o for o, v in (("--holdout", args.holdout), ("--target", args.target),
                              ("--schema", args.schema), ("--max-records", args.max_records))
               if v is not None]
    if refused:
        raise UsageError(f"{', '.join(refused)}: not used by the audit of a fit-tables release "
                         "(the schemas are the model's; no attack or classifier runs on "
                         "related tables); leave them out")
    out = output_path(args.out, "report output")
    json_out = output_path(args.json, "JSON report output") if args.json else None
    report_mod = import_report()
    model = TablesModel.load(args.model)
    names = (model.relation_.parent, model.relation_.child)
    real_paths = _tables_by_name(args.real, "--real", names)
    syn_paths = _tables_by_name(args.synthetic, "--synthetic", names)
    accountant = _ledger_of(args)
    missing = missing_tokens(args)
    schemas = model.schemas_
    progress = Progress(3)
    with progress.step(f"reading the real and synthetic {names[0]} and {names[1]} tables"):
        real = {t: read_data(real_paths[t], f"real {t} data file", schema=schemas[t],
                             missing_values=missing) for t in names}
        synthetic = {t: read_data(syn_paths[t], f"synthetic {t} data file", schema=schemas[t],
                                  missing_values=missing) for t in names}
    with progress.step("measuring the utility of each table and of the relation"):
        rep = report_mod.audit_tables(
            real, synthetic, model=model, accountant=accountant, synthetic_paths=syn_paths,
            model_path=args.model, release_id=args.release, random_state=args.seed,
            purpose=args.purpose, audience=args.audience, controller=args.controller,
            approver=args.approver, dataset=args.dataset)
    return _write(rep, out, json_out, progress, public=args.public,
                  what=f"the report of {names[0]} -> {names[1]}")


def _ledger_of(args: argparse.Namespace) -> Any:
    """The --ledger's accountant (or None), checked against --dataset before any table is read
    (the report would refuse a release of another data set anyway)."""
    from privsynth.accounting.persistent import read_ledger

    accountant = read_ledger(args.ledger) if args.ledger else None
    name = accountant.dataset.name if accountant is not None else ""
    if args.dataset is not None and name and args.dataset != name:
        raise UsageError(f"--dataset {args.dataset!r}, but the ledger {args.ledger} belongs to "
                         f"data set {name!r}; audit the release against its own data set's "
                         f"ledger, or leave --dataset out")
    return accountant


def _write(rep: Any, out: Path, json_out: Path | None, progress: Progress, *, public: bool,
           what: str) -> int:
    """Write the report's HTML (and JSON) edition and say which edition was written."""
    edition = "public" if public else "steward's"
    with progress.step(f"writing {out.name}" + (f" and {json_out.name}" if json_out else "")):
        rep.to_html(out, public=public)
        if json_out is not None:
            rep.to_json(json_out, public=public)
    print(f"wrote the {edition} edition of {what}: {out}"
          + (f" and {json_out}" if json_out else ""))
    return EXIT_OK

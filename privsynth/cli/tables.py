"""``privsynth fit-tables`` and ``sample-tables``: a parent table and its child table.

``fit-tables`` fits both tables as one release (``PrivBayes().fit_tables``:
the privacy unit is one parent row with up to ``--max-children`` children,
docs/units.md) and writes one model file; ``sample-tables`` draws linked
synthetic tables from it, one CSV (or Parquet) file per table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from privsynth.cli._common import (
    EXIT_OK,
    Parser,
    Progress,
    Subparsers,
    UsageError,
    check_new_release,
    claim_scope,
    data_options,
    load_schema,
    make_engine,
    missing_tokens,
    need_file,
    note_unrefunded,
    output_path,
    paid_output,
    param,
    positive_float,
    positive_int,
    read_data,
    seed,
    utc_now,
    write_output,
)
from privsynth.errors import DataValidationError, ModelFileError
from privsynth.release.manifest import check_manifest_folder, write_manifest


def named_path(text: str) -> tuple[str, str]:
    """``NAME=PATH`` of ``--table`` and ``--schema``.

    >>> named_path("planes=data/planes.csv")
    ('planes', 'data/planes.csv')
    """
    name, sep, path = text.partition("=")
    if not sep or not name.strip() or not path:
        raise argparse.ArgumentTypeError(f"must be NAME=PATH, got {text!r}")
    return name.strip(), path


def relation(text: str) -> tuple[str, str, str]:
    """``PARENT:CHILD:KEY`` of ``--relation``.

    >>> relation("planes:flights:tailnum")
    ('planes', 'flights', 'tailnum')
    """
    parts = text.split(":")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise argparse.ArgumentTypeError(f"must be PARENT:CHILD:KEY, got {text!r}")
    return parts[0].strip(), parts[1].strip(), parts[2].strip()


def link(text: str) -> tuple[str, tuple[str, ...]]:
    """``CHILD_COLUMN=PARENT_COLUMN[,PARENT_COLUMN...]`` of ``--link``.

    >>> link("distance=seats")
    ('distance', ('seats',))
    >>> link("arr_delay=year,engine")
    ('arr_delay', ('year', 'engine'))
    """
    column, sep, parents = text.partition("=")
    names = tuple(p.strip() for p in parents.split(","))
    if not sep or not column.strip() or not all(names):
        raise argparse.ArgumentTypeError(
            f"must be CHILD_COLUMN=PARENT_COLUMN[,PARENT_COLUMN...], got {text!r}")
    return column.strip(), names


def register(sub: Subparsers, common: Parser) -> None:
    """Add ``fit-tables`` and ``sample-tables``."""
    p = sub.add_parser(
        "fit-tables", parents=[common],
        help="fit a parent table and its child table as one release, charging the ledger",
        description="Fit a parent table and its child table (linked by an id column) with "
                    "PrivBayes as one release; the privacy unit is one parent row with up to "
                    "--max-children of its children (docs/units.md).")
    p.add_argument("--table", type=named_path, action="append", required=True,
                   metavar="NAME=PATH", help="a private table (twice: the parent and the child)")
    p.add_argument("--schema", type=named_path, action="append", required=True,
                   metavar="NAME=SCHEMA.json", help="the public schema of each table")
    p.add_argument("--relation", type=relation, required=True, metavar="PARENT:CHILD:KEY",
                   help="the parent, the child and their key (an id column of both schemas)")
    p.add_argument("--max-children", type=positive_int, required=True, metavar="K",
                   help="the most children of one parent the fit uses (a parent with more "
                        "keeps a random K); public, chosen by the steward")
    p.add_argument("--max-child-rows", type=positive_int, metavar="K2",
                   help="the child model learns from at most K2 <= K children per parent (less "
                        "noise; default 1)")
    p.add_argument("--link", type=link, action="append", metavar="CHILD_COL=PARENT_COL",
                   help="declare that a child column depends on parent column(s) (public "
                        "knowledge, repeatable): the child model keeps that link instead of "
                        "searching for it, e.g. --link distance=seats")
    p.add_argument("--epsilon", type=positive_float, required=True,
                   help="epsilon of this release (both tables)")
    p.add_argument("--ledger", required=True, metavar="LEDGER.json",
                   help="the data set's ledger, created with `privsynth budget init --unit KEY`")
    p.add_argument("--out", required=True, metavar="MODEL.json",
                   help="the model file to write (must not exist: a fit never overwrites)")
    p.add_argument("--param", type=param, action="append", metavar="NAME=VALUE",
                   help="PrivBayes parameter (repeatable), e.g. --param degree=2")
    p.add_argument("--parent-share", type=positive_float, metavar="SHARE",
                   help="the parent model's share of epsilon (default p / (2p + c) for p "
                        "parent and c child columns)")
    p.add_argument("--release", help="release id recorded in the ledger, new to it (default: "
                   "model file name and time)")
    p.add_argument("--key-file", metavar="KEY",
                   help="the secret key of a ledger bound to its data set (default LEDGER.key)")
    p.add_argument("--lock-timeout", type=positive_float, default=300.0, metavar="SECONDS",
                   help="how long to wait for another process using the ledger (default 300)")
    data_options(p)
    p.set_defaults(func=fit_tables)

    s = sub.add_parser(
        "sample-tables", parents=[common],
        help="draw linked synthetic tables from a fit-tables model",
        description="Draw N synthetic parents and their children from a model written by "
                    "fit-tables (post-processing: no privacy cost); one file per table.")
    s.add_argument("model", metavar="MODEL", help="a model file written by fit-tables")
    s.add_argument("-n", type=positive_int,
                   help="number of parent rows (default: the model's noisy parent count, a "
                        "DP output)")
    s.add_argument("--out", required=True, metavar="DIR",
                   help="an existing folder; writes DIR/<table>.csv for each table")
    s.add_argument("--format", choices=("csv", "parquet"), default="csv",
                   help="file type of the tables (default csv)")
    s.add_argument("--na-rep", default="", metavar="TOKEN",
                   help="how missing values are written (default: an empty field)")
    s.add_argument("--seed", type=seed, help="seed of the sampling (reproducible output)")
    s.set_defaults(func=sample_tables)


def _by_name(pairs: list[tuple[str, str]], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, path in pairs:
        if name in out:
            raise UsageError(f"{option}: the table {name!r} is given more than once")
        out[name] = path
    return out


def fit_tables(args: argparse.Namespace) -> int:
    """Check everything declared, then read the tables, charge the ledger and fit."""
    from privsynth.accounting.persistent import FileAccountant, read_ledger
    from privsynth.engines.record import PrivacyUnit
    from privsynth.engines.tables import Relation, check_public_tables
    from privsynth.engines.units import check_ledger_unit

    progress = Progress(3)
    engine = make_engine("privbayes", args.param or ())
    tables = _by_name(args.table, "--table")
    schema_files = _by_name(args.schema, "--schema")
    parent, child, key = args.relation
    rel = Relation(parent=parent, child=child, key=key)
    for option, given in (("--table", tables), ("--schema", schema_files)):
        if set(given) != {parent, child}:
            raise UsageError(f"{option}: give exactly the tables of the relation, {parent!r} "
                             f"and {child!r}; got {sorted(given)}")
    links = dict(args.link or ())
    if len(links) != len(args.link or ()):
        raise UsageError("--link: a child column is linked more than once; give its parent "
                         "columns in one --link, separated by commas")
    out = paid_output(args.out, "model output")  # absent and writable, before any spend
    check_manifest_folder(out.parent)  # the release manifest: updatable, before any spend
    schemas = {name: load_schema(path) for name, path in schema_files.items()}
    release = args.release or f"{out.name}@{utc_now()}"
    # every public check before a data row is read or anything is spent; the engine checks
    # again (and charges) under the ledger's lock
    check_public_tables(engine, schemas=schemas, relations=[rel], epsilon=args.epsilon,
                        max_children=args.max_children, parent_share=args.parent_share,
                        on_out_of_domain=args.out_of_domain or "error",
                        max_child_rows=args.max_child_rows, links=links)
    ledger = read_ledger(args.ledger)
    check_new_release(ledger, release, args.ledger)
    check_ledger_unit(ledger, PrivacyUnit(key, args.max_children))
    ledger.check_release(args.epsilon, 0.0, label="PrivBayes.fit_tables")
    paths = {name: need_file(path, f"data file of {name!r}", DataValidationError)
             for name, path in tables.items()}
    with progress.step(f"reading {paths[parent].name} and {paths[child].name}"):
        data = {name: read_data(str(path), f"data file of {name!r}",
                                missing_values=missing_tokens(args))
                for name, path in paths.items()}
    with progress.step(f"fitting {parent} -> {child} (epsilon {args.epsilon:g}); the ledger "
                       "is charged before any noise is drawn"), \
            FileAccountant.locked(args.ledger, lock_timeout=args.lock_timeout,
                                  key=args.key_file) as acct:
        check_new_release(acct, release, args.ledger)  # again, under the lock
        before = len(acct.ledger)
        try:
            model = engine.fit_tables(data, schemas=schemas, relations=[rel],
                                      epsilon=args.epsilon, max_children=args.max_children,
                                      accountant=acct, release=release,
                                      parent_share=args.parent_share,
                                      on_out_of_domain=args.out_of_domain or "error",
                                      max_child_rows=args.max_child_rows, links=links)
        except BaseException as exc:
            note_unrefunded(exc, acct, before, args.ledger)
            raise
        total, left = acct.spent(), acct.remaining()
    with progress.step(f"writing {out.name}"):
        model.save(out)
        manifest = write_manifest(out.parent, model=model, model_file=out, accountant=acct)
    print(f"fitted {parent} -> {child}: release {release!r}, its own guarantee epsilon "
          f"{model.epsilon_:.4g}{claim_scope(model.record_)} "
          f"(privacy unit: {model.record_.description['privacy_unit']}); "
          f"the data set's ledger {args.ledger} now at epsilon {total.epsilon:.4g} of "
          f"{acct.epsilon:g} (remaining {left.epsilon:.4g}); model written to {out}, listed "
          f"in {manifest}")
    return EXIT_OK


def sample_tables(args: argparse.Namespace) -> int:
    """Load the model, draw the tables, write one file per table."""
    from privsynth.engines.tables import TablesModel

    path = need_file(args.model, "model file", ModelFileError)
    folder = Path(args.out)
    if not folder.is_dir():
        raise UsageError(f"--out {folder}: not a folder; create it first")
    check_manifest_folder(folder)  # the release manifest: updatable, before sampling
    model = TablesModel.load(path)
    names = (model.relation_.parent, model.relation_.child)
    outs = {name: output_path(str(folder / f"{name}.{args.format}"), f"output of {name!r}")
            for name in names}
    out = model.sample_tables(args.n, random_state=args.seed)
    for name in names:
        write_output(out[name], outs[name], na_rep=args.na_rep)
    same = path.resolve().parent == folder.resolve()
    for name in names:  # each synthetic table listed with its rows and seed, as `sample` does
        manifest = write_manifest(folder, model=model, model_file=path if same else None,
                                  synthetic_file=outs[name], rows=len(out[name]),
                                  seed=args.seed)
    count = " (the model's noisy parent count)" if args.n is None else ""
    print(f"wrote {len(out[names[0]])} {names[0]} rows{count} to {outs[names[0]]} and "
          f"{len(out[names[1]])} {names[1]} rows (their children) to {outs[names[1]]} "
          f"(sampling is post-processing: no privacy cost); listed in {manifest}")
    return EXIT_OK

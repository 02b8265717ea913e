"""``privsynth sample``: draw synthetic rows from a fitted model (post-processing, no cost)."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Sequence
from typing import Any

from privsynth._checks import FALSE_TOKENS, TRUE_TOKENS, parse_bool
from privsynth.cli._common import (
    EXIT_OK,
    Parser,
    Subparsers,
    UsageError,
    need_file,
    one_line,
    positive_int,
    seed,
    table_output,
    write_output,
)
from privsynth.errors import ModelFileError
from privsynth.release.manifest import check_manifest_folder, write_manifest


def register(sub: Subparsers, common: Parser) -> None:
    """Add ``sample``."""
    p = sub.add_parser("sample", parents=[common], help="draw synthetic rows from a model")
    p.add_argument("model", metavar="MODEL", help="a model file written by fit or demo")
    p.add_argument("-n", type=positive_int,
                   help="number of rows (default: the model's noisy row count, a DP output; "
                        "never give the private table's exact row count)")
    p.add_argument("--out", required=True, metavar="SYNTH.csv",
                   help="the file to write (.csv, .tsv, optionally .gz, or .parquet)")
    p.add_argument("--na-rep", default="", metavar="TOKEN",
                   help="how missing values are written (default: an empty field), e.g. the "
                        "source's token: --na-rep NA")
    p.add_argument("--schema-tokens", action="store_true",
                   help="write the missing values of each column whose schema declares "
                        "missing-value tokens as its first token (e.g. N in the ACS); other "
                        "columns use --na-rep")
    p.add_argument("--seed", type=seed, help="seed of the sampling (reproducible output)")
    p.add_argument("--where", type=where_pair, action="append", metavar="COLUMN=VALUE",
                   help="sample only rows with this value (repeatable): a category, a number, "
                        "true/false, an ISO date; empty (COLUMN=) means missing")
    p.set_defaults(func=sample)


def where_pair(text: str) -> tuple[str, str]:
    """``COLUMN=VALUE`` of ``sample --where`` (the value is converted once the schema is known).

    >>> where_pair("workclass=a=b")
    ('workclass', 'a=b')
    """
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"must be COLUMN=VALUE, got {text!r}")
    return name.strip(), value


def condition_value(col: Any, text: str) -> Any:
    """Text of a ``--where`` value as the column's kind; an empty value means missing."""
    from privsynth.columns import BooleanColumn, FloatColumn, IntegerColumn

    if text == "":
        return None
    if isinstance(col, BooleanColumn):
        value = parse_bool(text)  # the package's one list of true/false tokens
        if value is None:
            raise UsageError(f"--where {col.name}=...: column {col.name!r} is boolean; use "
                             f"one of {', '.join(TRUE_TOKENS)} or {', '.join(FALSE_TOKENS)}")
        return value
    if isinstance(col, IntegerColumn | FloatColumn):
        try:
            number = float(text)
        except ValueError:
            raise UsageError(f"--where {col.name}=...: column {col.name!r} is numeric; give a "
                             f"number, got {text!r}") from None
        return int(number) if isinstance(col, IntegerColumn) and number.is_integer() else number
    return text  # categories are strings; datetimes are ISO 8601 text


def conditions(pairs: Sequence[tuple[str, str]], schema: Any) -> dict[str, Any]:
    """The ``--where`` options as ``{column: value}`` typed by the model's public schema."""
    cond: dict[str, Any] = {}
    for name, text in pairs:
        if name not in schema.names:
            raise UsageError(f"--where: the model has no column {name!r}; its columns are "
                             f"{list(schema.names)}")
        if name in cond:
            raise UsageError(f"--where: column {name!r} is given more than once")
        cond[name] = condition_value(schema[name], text)
    return cond


def schema_tokens(schema: Any) -> dict[str, str]:
    """{column: its first declared missing-value token} for columns that declare any."""
    return {c.name: c.missing_values[0] for c in schema.columns if c.missing_values}


def accepts_conditions(model: Any) -> bool:
    """True if ``model.sample`` takes ``conditions=``."""
    try:
        params = inspect.signature(model.sample).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False
    return "conditions" in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def sample(args: argparse.Namespace) -> int:
    """Load the model, draw the rows, write them as CSV."""
    from privsynth import engines
    from privsynth.errors import ConstraintError

    path = need_file(args.model, "model file", ModelFileError)
    out = table_output(args.out, "output")
    check_manifest_folder(out.parent)  # release manifest (H10): updatable, before sampling
    model = engines.load_model(path)
    kwargs: dict[str, Any] = {}
    if args.where:
        if not accepts_conditions(model):
            raise UsageError(f"--where: the {type(model).__name__} engine of this privsynth "
                             "version cannot sample with conditions; leave out --where")
        kwargs["conditions"] = conditions(args.where, model.schema_)
    # Without -n, the noisy row count the model released (a DP output): the private
    # table's exact count must never be a sample size (it would be published with it).
    noisy = args.n is None
    n = args.n
    if noisy:
        n_hat = getattr(model, "n_hat_", None)
        if n_hat is None:
            raise UsageError(f"the {type(model).__name__} model has no noisy row count; give "
                             "the number of rows with -n")
        n = max(1, round(float(n_hat)))
    try:
        df = model.sample(n, random_state=args.seed, **kwargs)
    except ConstraintError as exc:
        if not args.where:
            raise
        # the conditions asked for are impossible or invalid: a usage mistake
        raise UsageError(f"--where: {one_line(str(exc))}") from exc
    tokens = schema_tokens(model.schema_) if args.schema_tokens else {}
    write_output(df, out, na_rep=args.na_rep, column_na_rep=tokens)
    same = path.resolve().parent == out.resolve().parent  # release manifest (H10)
    manifest = write_manifest(out.parent, model=model, model_file=path if same else None,
                              synthetic_file=out, rows=len(df), seed=args.seed)
    where = f" where {', '.join(f'{k}={v}' for k, v in args.where)}" if args.where else ""
    count = " (the model's noisy row count)" if noisy else ""
    print(f"wrote {len(df)} synthetic rows{count}{where} to {out} (sampling is post-processing: "
          f"no privacy cost); listed in {manifest}")
    return EXIT_OK

"""``privsynth split``: a random holdout of one's own table, for the audit's attacks.

The membership attacks and the train-on-synthetic tests of ``privsynth
audit`` compare the people used to fit (``--real``) with real people who were
*not* (``--holdout``). Split the table before fitting, fit on the training
part only, and keep the holdout aside:

    privsynth split survey.csv --holdout 0.2 --seed 7 --out-train train.csv \\
        --out-holdout holdout.csv

Both outputs are private files (nothing is released, nothing is spent). Fields
are copied as text, so missing-value tokens and formatting stay as they were.
The command prints shares, not row counts.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
from pathlib import Path

import numpy as np

from privsynth.cli._common import (
    EXIT_OK,
    Parser,
    Subparsers,
    UsageError,
    read_data,
    seed,
    table_output,
    write_output,
)


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a fraction between 0 and 1, got {text!r}") from None
    if not math.isfinite(value) or not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction between 0 and 1, got {text!r}")
    return value


def register(sub: Subparsers, common: Parser) -> None:
    """Add ``split``."""
    p = sub.add_parser(
        "split", parents=[common], help="split a random holdout off a table (for the audit)",
        description="Split DATA into a training part and a random holdout of real rows that "
                    "are not used to fit, as the audit's attacks need.")
    p.add_argument("data", metavar="DATA", help="the private table (CSV or Parquet)")
    p.add_argument("--holdout", type=_fraction, required=True, metavar="FRACTION",
                   help="share of the rows put in the holdout, e.g. 0.2")
    p.add_argument("--seed", type=seed, help="seed of the random split (default: a fresh one, "
                   "printed so the split can be repeated)")
    p.add_argument("--out-train", required=True, metavar="TRAIN.csv",
                   help="the training part to write (fit on this)")
    p.add_argument("--out-holdout", required=True, metavar="HOLDOUT.csv",
                   help="the holdout to write (give it to audit --holdout)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace output files that exist (never the input)")
    p.add_argument("--encoding", default="utf-8",
                   help="text encoding of a CSV input (default utf-8; outputs are UTF-8)")
    p.set_defaults(func=split)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:  # pragma: no cover - a file vanished in between
        return False


def split(args: argparse.Namespace) -> int:
    """Write a seeded random partition of DATA's rows into two files."""
    data = Path(args.data)
    outs = [table_output(args.out_train, "training output"),
            table_output(args.out_holdout, "holdout output")]
    if outs[0].resolve() == outs[1].resolve():
        raise UsageError("--out-train and --out-holdout must be two different files")
    for out in outs:
        if out.resolve() == data.resolve() or _same(out, data):
            raise UsageError(f"refused: {out} is the input file; write the parts elsewhere")
        if out.exists() and not args.overwrite:
            raise UsageError(f"refused: {out} already exists; choose another name or give "
                             "--overwrite")
    # every field as text, nothing read as missing: the parts are copies of the rows
    options = {} if data.name.lower().endswith((".parquet", ".pq")) else {
        "encoding": args.encoding}
    df = read_data(args.data, "data file", missing_values=(), **options)
    n = len(df)
    k = round(args.holdout * n)
    if k < 1 or k > n - 1:
        raise UsageError(f"--holdout {args.holdout:g} leaves one part empty for this table; "
                         "use a fraction nearer 0.5 (or a larger table)")
    used = args.seed if args.seed is not None else secrets.randbelow(2**32)
    # the split is not a DP mechanism and releases nothing: an ordinary seeded generator
    order = np.random.default_rng(used).permutation(n)
    holdout = np.sort(order[:k])
    train = np.sort(order[k:])  # rows keep their order within each part
    write_output(df.iloc[train], outs[0])
    write_output(df.iloc[holdout], outs[1])
    share = k / n
    print(f"wrote {outs[0]} (about {1 - share:.0%} of the rows) and {outs[1]} (about "
          f"{share:.0%}); seed {used}. Both are private: fit on {outs[0].name}, give "
          f"{outs[1].name} to `privsynth audit --holdout`, release neither")
    return EXIT_OK

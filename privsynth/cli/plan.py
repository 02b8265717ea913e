"""``privsynth plan``: predicted release quality at each epsilon, before any budget is spent.

    privsynth plan --schema schema.json --rows 30000 --epsilon 0.3,1,3,10 \\
        [--json] [--html plan.html] [--target 0.1]

Reads the schema and nothing else: the row count is the steward's public figure
(or a noisy count already released), never read from a data file. Spends
nothing. Prints a table of epsilon against the predicted mean one-way and
two-way TVD and a verdict in plain words; ``--json`` prints
``{"plans": [{"epsilon": ..., "tvd1": ..., "tvd2": ..., ...}, ...]}`` instead;
``--html`` writes a self-contained page with the curve.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from privsynth.cli._common import (
    EXIT_OK,
    Parser,
    Subparsers,
    load_schema,
    output_path,
    param,
    positive_float,
    positive_int,
)
from privsynth.cli._common import delta as delta_type


def epsilon_list(text: str) -> list[float]:
    """``0.3,1,3`` -> [0.3, 1.0, 3.0] (each a positive number).

    >>> epsilon_list("0.3, 1,3")
    [0.3, 1.0, 3.0]
    """
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"must be a comma-separated list of positive numbers, "
                                         f"got {text!r}")
    return [positive_float(t) for t in items]


def register(sub: Subparsers, common: Parser) -> None:
    """Add ``plan``."""
    p = sub.add_parser(
        "plan", parents=[common], help="predict release quality per epsilon (spends nothing)",
        description="Predict, from the public schema and a row count you state, how close a "
                    "release's one-way and two-way marginals would be to the real ones at "
                    "each epsilon. Reads no data and spends no budget.")
    p.add_argument("--schema", required=True, metavar="SCHEMA.json", help="the public schema")
    p.add_argument("--rows", required=True, type=positive_int, metavar="N",
                   help="number of rows: a public figure or a noisy count already released "
                        "(never read from the data)")
    p.add_argument("--epsilon", type=epsilon_list, metavar="E1,E2,...",
                   help="budgets to plan, comma-separated (default 0.1,0.3,1,3,10)")
    p.add_argument("--delta", type=delta_type, help="the release's delta (needed for dpctgan; "
                   "PrivBayes does not use it)")
    p.add_argument("--engine", default="privbayes", choices=["privbayes", "dpctgan"],
                   help="engine whose budget rules are followed (default privbayes); for "
                        "dpctgan (needs --delta) the plan says whether DP-SGD can learn, next "
                        "to PrivBayes' predicted quality")
    p.add_argument("--param", type=param, action="append", default=[], metavar="NAME=VALUE",
                   help="an engine parameter, as for fit (e.g. theta=6); repeatable")
    p.add_argument("--synthetic-rows", type=positive_int, metavar="M",
                   help="rows that will be sampled (default: --rows)")
    p.add_argument("--max-rows-per-unit", type=positive_int, metavar="K",
                   help="for a fit with a privacy unit of at most K rows (fit "
                        "--privacy-unit ... --max-rows-per-unit K): noise K times larger; "
                        "--rows is then the row count after bounding")
    p.add_argument("--target", type=positive_float, metavar="TVD2",
                   help="a goal for the mean two-way TVD: also print the smallest epsilon "
                        "predicted to reach it")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.add_argument("--html", metavar="PLAN.html",
                   help="also write a self-contained HTML page with the curve")
    p.set_defaults(func=plan_command)


def plan_command(args: argparse.Namespace) -> int:
    """Print the plan (and write the page); nothing is read but the schema."""
    from privsynth.planner import plan, plan_html

    html_path: Path | None = output_path(args.html, "HTML page") if args.html else None
    schema = load_schema(args.schema)
    result = plan(schema, args.epsilon, n=args.rows, delta=args.delta, engine=args.engine,
                  target=args.target, synthetic_rows=args.synthetic_rows,
                  engine_options=dict(args.param), max_rows_per_unit=args.max_rows_per_unit)
    if html_path is not None:
        html_path.write_text(plan_html(result), encoding="utf-8")
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        out = sys.stdout
        print(f"Budget plan for {args.engine}: {result.columns} columns, {result.rows:,} rows "
              "(stated, not read); nothing spent.", file=out)
        print(result.table(), file=out)
        print(file=out)
        for e in result.plans:
            print(f"- {e.message}", file=out)
        if result.target is not None:
            reach = (f"epsilon {result.epsilon_for_target:g}"
                     if result.epsilon_for_target is not None else "no epsilon up to 100")
            print(f"Goal tvd2 <= {result.target:g}: {reach}.", file=out)
        for note in result.notes:
            print(f"Note: {note}", file=out)
        if html_path is not None:
            print(f"wrote {html_path}", file=out)
    return EXIT_OK


__all__ = ["epsilon_list", "plan_command", "register"]

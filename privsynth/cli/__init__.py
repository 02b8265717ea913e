"""The ``privsynth`` command line: a data steward's release workflow from the shell.

Commands (``privsynth COMMAND --help`` for each)::

    privsynth demo     [--epsilon 1.0] [--engine privbayes] [--out DIR] [--rows N]
                       [--train-rows N] [--max-records N] [--no-attacks] [--seed S]
    privsynth budget   init LEDGER --epsilon E [--delta D] | show LEDGER
    privsynth schema   infer DATA --out SCHEMA (--unsafe | --dp --epsilon E --ledger L)
                       | import SOURCE --out SCHEMA | export --schema SCHEMA --format F
                       | draft DATA --out DRAFT | check [DATA] --schema SCHEMA
    privsynth plan     --schema SCHEMA --rows N [--epsilon 0.3,1,3] [--json] [--html PAGE]
    privsynth split    DATA --holdout 0.2 [--seed S] --out-train TRAIN --out-holdout HOLDOUT
    privsynth fit      DATA --schema SCHEMA --engine NAME --epsilon E --ledger LEDGER --out MODEL
                       [--dry-run]
    privsynth sample   MODEL [-n N] --out SYNTH.csv [--seed S] [--where COLUMN=VALUE ...]
    privsynth fit-tables --table P=PATH --table C=PATH --schema P=S --schema C=S
                       --relation P:C:KEY --max-children K --epsilon E --ledger L --out MODEL
    privsynth sample-tables MODEL [-n N] --out DIR [--seed S]
    privsynth audit    --real R --synthetic S [--holdout H] [--model M] [--ledger L]
                       --out REPORT.html [--json REPORT.json] [--public]
    privsynth verify   DIR [--ledger LEDGER]

Exit codes: 0 success; 1 other error; 2 usage error (bad option or value);
3 budget refused; 4 invalid input (data, schema, ledger or model file missing,
unreadable, tampered with or not matching); ``verify`` alone also uses 5-8
(see :mod:`privsynth.release.verify`). Errors are one line on stderr
starting with ``privsynth: error:``; ``--debug`` adds the traceback. Progress,
warnings and the library's log lines (the ``privsynth.*`` loggers) go to
stderr too; ``-q`` leaves only errors.

The package holds one module per command group (:mod:`~privsynth.cli.budget`,
:mod:`~privsynth.cli.schema`, :mod:`~privsynth.cli.plan`, :mod:`~privsynth.cli.split`,
:mod:`~privsynth.cli.fit`, :mod:`~privsynth.cli.sample`, :mod:`~privsynth.cli.tables`,
:mod:`~privsynth.cli.audit`,
:mod:`~privsynth.cli.demo`, :mod:`~privsynth.cli.verify`), each with a
``register(sub, common)`` function adding its sub-parsers; shared helpers are
in :mod:`privsynth.cli._common`. A new command group is a new module listed in
:data:`COMMAND_GROUPS`.

>>> main(["--version"])  # doctest: +ELLIPSIS
privsynth ...
0
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from types import ModuleType

from privsynth.cli import audit, budget, demo, fit, plan, sample, schema, split, tables, verify
from privsynth.cli._common import (
    EXIT_BUDGET,
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    Parser,
    UsageError,
    cli_logging,
    common_options,
    exit_code,
    message,
    one_line,
)
from privsynth.errors import PrivsynthError

#: The command groups, in the order ``privsynth --help`` lists them.
COMMAND_GROUPS: tuple[ModuleType, ...] = (demo, budget, schema, plan, split, fit, sample,
                                          tables, audit, verify)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``privsynth`` command."""
    from privsynth._version import __version__

    common = common_options()
    parser = Parser(
        prog=PROG, parents=[common],
        description="Differentially private synthetic data with an auditable privacy ledger.",
        epilog="Exit codes: 0 success, 1 other error, 2 usage error, 3 budget refused, "
               "4 invalid data, schema, ledger or model file; verify also 5-8 (see "
               "`privsynth verify --help`).")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for group in COMMAND_GROUPS:
        group.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``privsynth`` command with ``argv``; returns the exit code."""
    parser = build_parser()
    if argv is not None and any("\x00" in str(a) for a in argv):
        # no path or value may hold one (a real command line cannot; in-process callers can)
        print(f"{PROG}: error: an argument holds a NUL character; no path, name or value "
              "may contain one", file=sys.stderr)
        return EXIT_USAGE
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(f"{PROG}: error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    # --debug and --quiet may come before or after the command; absent means False
    args.debug = getattr(args, "debug", False)
    args.quiet = getattr(args, "quiet", False)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        name = " ".join(x for x in (getattr(args, "command", None),) if x)
        print(f"{PROG}: error: missing {'action' if name else 'command'} (see "
              f"`{PROG} {name + ' ' if name else ''}--help`)", file=sys.stderr)
        return EXIT_USAGE
    with cli_logging(quiet=args.quiet, debug=args.debug):
        return _run(func, args)


def _run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return func(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except (PrivsynthError, UsageError, OSError) as exc:
        if args.debug:
            traceback.print_exc()
        msg = message(exc)
        if isinstance(exc, OSError) and not isinstance(exc, PrivsynthError):
            where = f" {exc.filename}" if exc.filename else ""
            msg = f"cannot access{where}: {exc.strerror or exc}"
        notes = " ".join(getattr(exc, "__notes__", []))
        print(f"{PROG}: error: {msg}{' (' + one_line(notes) + ')' if notes else ''}",
              file=sys.stderr)
        return exit_code(exc)
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        # Not one of ours: its message might quote data values, so it is not shown.
        print(f"{PROG}: error: internal error ({type(exc).__name__}); run again with --debug "
              "to see the traceback (it may show data values) and please report it",
              file=sys.stderr)
        return EXIT_ERROR


__all__ = ["COMMAND_GROUPS", "EXIT_BUDGET", "EXIT_ERROR", "EXIT_INVALID", "EXIT_OK",
           "EXIT_USAGE", "build_parser", "exit_code", "main"]

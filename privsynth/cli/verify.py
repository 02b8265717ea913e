"""``privsynth verify``: check a release folder's hashes and stated epsilons from its files."""

from __future__ import annotations

import argparse

from privsynth.cli._common import Parser, Subparsers, UsageError


def register(sub: Subparsers, common: Parser) -> None:
    """Add ``verify``."""
    p = sub.add_parser(
        "verify", parents=[common], help="verify a release folder (hashes, stated epsilons)",
        description="Recompute every file hash and every stated epsilon of a release folder "
                    "from its manifest.json, its model files and the data set's ledger, with "
                    "dp-accounting directly. Exit 0 only if everything holds.",
        epilog="Exit codes: 0 verified; 4 no readable manifest; 5 a file is missing or "
               "changed; 6 the ledger does not hold the release; 7 a stated epsilon is not "
               "proven; 8 nothing failed but something could not be checked.")
    p.add_argument("folder", metavar="DIR", help="the release folder (holds manifest.json)")
    p.add_argument("--ledger", metavar="LEDGER.json",
                   help="the data set's ledger (default: the one the manifest names in DIR)")
    p.set_defaults(func=verify)


def verify(args: argparse.Namespace) -> int:
    """Print one line per check and the verdict; the exit code says what failed."""
    from pathlib import Path

    from privsynth.release import verify_release

    if not Path(args.folder).is_dir():
        raise UsageError(f"{args.folder} is not a folder; give the release folder that holds "
                         "manifest.json")
    if args.ledger is not None and not Path(args.ledger).is_file():
        raise UsageError(f"--ledger {args.ledger}: no such file")
    result = verify_release(args.folder, ledger=args.ledger)
    print(f"privsynth verify {args.folder}")
    for line in result.lines():
        print(f"  {line}" if not line.startswith(("VERIFIED", "NOT VERIFIED")) else line)
    return result.exit_code

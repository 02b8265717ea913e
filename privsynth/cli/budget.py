"""``privsynth budget init|show``: the persistent privacy budget (ledger) of one data set."""

from __future__ import annotations

import argparse
import json
from typing import Any

from privsynth.cli._common import (
    EXIT_OK,
    Parser,
    Subparsers,
    delta,
    output_path,
    plural,
    positive_float,
)


def register(sub: Subparsers, common: Parser) -> None:
    """Add ``budget init`` and ``budget show``."""
    p = sub.add_parser("budget", parents=[common], help="create or show a ledger",
                       description="The persistent privacy budget of one data set.")
    bsub = p.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    q = bsub.add_parser("init", parents=[common], help="create a ledger with its total budget")
    q.add_argument("ledger", metavar="LEDGER")
    q.add_argument("--epsilon", type=positive_float, required=True,
                   help="total epsilon for everything ever released from this data set")
    q.add_argument("--delta", type=delta, default=0.0,
                   help="total delta (default 0; DP-CTGAN needs e.g. 1e-6)")
    q.add_argument("--overwrite", action="store_true",
                   help="replace an existing ledger that records no spends")
    q.set_defaults(func=budget_init)
    q = bsub.add_parser("show", parents=[common], help="total budget, spends and remaining")
    q.add_argument("ledger", metavar="LEDGER")
    q.add_argument("--entries", action="store_true", help="also list every ledger entry")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=budget_show)


def budget_init(args: argparse.Namespace) -> int:
    """Create a ledger (or replace one that records no spends)."""
    from privsynth.accounting.persistent import FileAccountant, LedgerExistsError, read_ledger

    path = output_path(args.ledger, "ledger")
    overwrite = False
    if path.exists() and args.overwrite:
        # Only an unused ledger may be replaced: forgetting spends would refund them.
        old = read_ledger(path)
        if len(old.ledger):
            raise LedgerExistsError(
                f"refused: the ledger {path} already records "
                f"{plural(len(old.ledger), 'spend')}; a data set has one budget forever, so it "
                "is never reset")
        overwrite = True
    acct = FileAccountant.init(path, args.epsilon, args.delta, overwrite=overwrite)
    print(f"created ledger {path}: total budget epsilon {acct.epsilon:g}, delta {acct.delta:g}")
    return EXIT_OK


def release_rows(acct: Any) -> list[dict[str, Any]]:
    """One row per release id of the ledger: events, composed epsilon and delta, first spend."""
    from privsynth.accounting import compose

    groups: dict[str, list[Any]] = {}
    for entry in acct.ledger:
        groups.setdefault(entry.release or "(no release id)", []).append(entry)
    rows = []
    for release, entries in groups.items():
        cost = compose([e.event for e in entries], acct.delta)
        rows.append({"release": release, "events": len(entries), "epsilon": cost.epsilon,
                     "delta": cost.delta, "first": entries[0].timestamp,
                     "insecure_noise": any(e.reproducible_noise for e in entries)})
    return rows


def budget_show(args: argparse.Namespace) -> int:
    """Print the budget, what was spent (per release) and what remains."""
    from privsynth.accounting.persistent import read_ledger

    acct = read_ledger(args.ledger)
    spent, left = acct.spent(), acct.remaining()
    rows = release_rows(acct)
    if args.json:
        print(json.dumps({
            "ledger": str(args.ledger),
            "budget": {"epsilon": acct.epsilon, "delta": acct.delta},
            "spent": {"epsilon": spent.epsilon, "delta": spent.delta, "method": spent.method},
            "remaining": {"epsilon": left.epsilon},
            "releases": rows,
            "entries": acct.ledger.to_dict() if args.entries else None,
        }, indent=2))
        return EXIT_OK
    print(f"ledger     {args.ledger}")
    print(f"budget     epsilon {acct.epsilon:g}, delta {acct.delta:g}")
    print(f"spent      epsilon {spent.epsilon:.6g}, delta {spent.delta:g} (composed by "
          f"{spent.method}) over {plural(len(acct.ledger), 'event')} in "
          f"{plural(len(rows), 'release')}")
    print(f"remaining  epsilon {left.epsilon:.6g}")
    if rows:
        width = max(len("release"), *(len(r["release"]) for r in rows))
        print()
        print(f"{'release':<{width}}  {'events':>6}  {'epsilon':>9}  first spend (UTC)")
        for r in rows:
            flag = "  INSECURE TEST NOISE" if r["insecure_noise"] else ""
            print(f"{r['release']:<{width}}  {r['events']:>6}  {r['epsilon']:>9.4g}  "
                  f"{r['first']}{flag}")
    if args.entries and len(acct.ledger):
        print()
        for e in acct.ledger:
            print(f"{e.timestamp}  {e.event.describe()}  {e.label}")
    return EXIT_OK

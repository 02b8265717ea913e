"""``privsynth budget init|show``: the persistent privacy budget (ledger) of one data set."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from privsynth.cli._common import (
    EXIT_OK,
    Parser,
    Subparsers,
    UsageError,
    data_options,
    delta,
    missing_tokens,
    need_file,
    output_path,
    plural,
    positive_float,
)
from privsynth.errors import DataValidationError


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
                   help="total delta, fixed for ever (default 0: pure DP, enough for "
                        "PrivBayes; DP-CTGAN needs delta > 0, e.g. 1e-9, which is below "
                        "1/n^1.5 for tables of up to a million rows)")
    q.add_argument("--unit", metavar="COLUMN",
                   help="the privacy unit the budget protects: an identifier column (all rows "
                        "of one value); default one row. Fixed for the ledger's life "
                        "(docs/units.md)")
    q.add_argument("--overwrite", action="store_true",
                   help="replace an existing ledger that records no spends")
    # the data set the budget belongs to (H10, issue 24)
    q.add_argument("--dataset", metavar="NAME", default="",
                   help="name of the data set the budget belongs to (in every report)")
    q.add_argument("--owner", default="", help="who is responsible for the data set")
    q.add_argument("--approved-by", default="", metavar="WHO", help="who approved the budget")
    q.add_argument("--data", metavar="DATA", action="append",
                   help="the source table: binds the ledger to it by a keyed fingerprint, "
                        "which every fit checks (refusing another table), and refuses a "
                        "second ledger for it on this machine. Repeat it for the parts "
                        "`privsynth split` made of the table (e.g. the training part), so "
                        "that fits on them are accepted as this data set")
    q.add_argument("--key-file", metavar="KEY",
                   help="where the fingerprint's secret key is written (default LEDGER.key); "
                        "keep it private, never hand it over")
    data_options(q, out_of_domain=False)
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
    key_path = None
    if args.data is None:
        if args.key_file is not None:
            raise UsageError("--key-file is the key of the fingerprint of --data; give --data "
                             "DATA too, or leave out --key-file")
        acct = FileAccountant.init(path, args.epsilon, args.delta, overwrite=overwrite,
                                   dataset=_dataset_info(args), unit=args.unit)
    else:
        acct, key_path = _init_bound(args, path, overwrite)
    unit = f"; privacy unit: all rows of one {acct.unit!r}" if acct.unit else ""
    print(f"created ledger {path}: total budget epsilon {acct.epsilon:g}, delta "
          f"{acct.delta:g}{unit}")
    if acct.delta == 0:
        print("delta 0 is permanent: every release from this ledger is pure DP (PrivBayes); "
              "DP-CTGAN (DP-SGD) needs a delta > 0 chosen now, e.g. --delta 1e-9")
    else:
        print(f"delta {acct.delta:g} is permanent: it is the most that all releases from this "
              "ledger together may state")
    if key_path is not None:
        print(f"bound to the data set in {', '.join(args.data)} by a keyed fingerprint; the "
              f"secret key is in {key_path}: keep it private (fits need it; never hand it "
              "over)")
    return EXIT_OK


def _dataset_info(args: argparse.Namespace) -> Any:
    from privsynth.accounting import DatasetInfo

    return DatasetInfo(name=args.dataset, owner=args.owner, approved_by=args.approved_by)


def _init_bound(args: argparse.Namespace, path: Path, overwrite: bool) -> tuple[Any, Path]:
    """``budget init --data``: the key, the table's keyed fingerprint, then the ledger.

    An existing ``--key-file`` is reused (one steward key for several ledgers:
    then a second ledger for the same table is refused on this machine, as the
    same table gives the same fingerprint); otherwise a new key is written.
    """
    from privsynth.accounting.fingerprint import new_key, read_key, write_key
    from privsynth.accounting.persistent import FileAccountant, default_key_path
    from privsynth.io.fingerprint import source_fingerprint

    for source in args.data:
        need_file(source, "data file", DataValidationError)
    key_path = Path(args.key_file) if args.key_file else default_key_path(path)
    reuse = key_path.exists()
    if not reuse:
        output_path(str(key_path), "key file")
    key = read_key(key_path) if reuse else new_key()
    fingerprint = tuple(source_fingerprint(source, key, missing_values=missing_tokens(args))
                        for source in dict.fromkeys(args.data))
    if not reuse:
        write_key(key_path, key)
    try:
        acct = FileAccountant.init(path, args.epsilon, args.delta, overwrite=overwrite,
                                   dataset=_dataset_info(args), fingerprint=fingerprint,
                                   key=key, unit=args.unit)
    except BaseException:
        if not reuse:
            key_path.unlink(missing_ok=True)  # no ledger, no new key
        raise
    return acct, key_path


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

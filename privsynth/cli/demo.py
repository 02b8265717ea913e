"""``privsynth demo``: the whole workflow (schema, ledger, fit, sample, audit) on Adult."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
from typing import Any

from privsynth.cli._common import (
    EXIT_OK,
    Parser,
    Progress,
    Subparsers,
    UsageError,
    import_report,
    make_engine,
    param,
    positive_float,
    positive_int,
    risk_options,
    seed,
    utc_now,
    write_output,
)
from privsynth.release.manifest import write_manifest


def register(sub: Subparsers, common: Parser) -> None:
    """Add ``demo``."""
    p = sub.add_parser("demo", parents=[common], help="the whole workflow on the bundled Adult",
                       description="Fit, sample and audit on the bundled UCI Adult data.")
    p.add_argument("--epsilon", type=positive_float, default=1.0,
                   help="total privacy budget of the demo (default 1.0)")
    p.add_argument("--engine", default="privbayes",
                   help="privbayes (default) or dpctgan (needs the gan extra)")
    p.add_argument("--out", default="privsynth-demo",
                   help="output folder (default ./privsynth-demo)")
    p.add_argument("--rows", type=positive_int, help="synthetic rows (default: the model's "
                   "noisy row count)")
    p.add_argument("--train-rows", type=positive_int, metavar="N",
                   help="fit on the first N rows of the training split only (quicker trials; "
                        "default: all 32,561)")
    p.add_argument("--seed", type=seed, help="seed of the sampling only (never of the "
                   "privacy noise)")
    p.add_argument("--no-attacks", action="store_true", help="skip the membership attacks")
    p.add_argument("--max-records", type=positive_int, metavar="N",
                   help="records per side used by the attacks (default 5000; smaller is faster)")
    p.add_argument("--param", type=param, action="append", metavar="NAME=VALUE",
                   help="engine parameter (repeatable), e.g. --param degree=2")
    p.set_defaults(func=demo)


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.4g}"
    return str(value)


def _flatten(summary: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(summary, dict):
        out: list[tuple[str, Any]] = []
        for k, v in summary.items():
            out += _flatten(v, f"{prefix}{k}." if isinstance(v, dict) else f"{prefix}{k}")
        return out
    return [(prefix.rstrip("."), summary)]


def summary_lines(summary: dict[str, Any], spent: Any, budget: float) -> list[str]:
    """Headline lines of a report summary; unknown keys are listed as they are."""
    def get(key: str) -> Any:
        return summary.pop(key, None)

    def num(value: Any) -> str:
        return "not measured" if value is None else _fmt(value)

    for key in ("release_id", "epsilon", "delta", "method"):
        get(key)
    tvd1, tvd2, tstr = get("tvd1"), get("tvd2"), get("tstr_auc")
    auc, lower = get("max_attack_auc"), get("max_epsilon_lower_bound")
    fail, warn = get("hazards_fail"), get("hazards_warn")
    lines = [
        f"{'privacy':<10} epsilon {spent.epsilon:.4g} of {budget:g} spent (delta "
        f"{spent.delta:g}, composed by {spent.method}); privacy unit: one person's row",
        f"{'fidelity':<10} tvd1 {num(tvd1)}, tvd2 {num(tvd2)} (mean total variation distance "
        "of 1- and 2-way marginals; 0 is identical)",
        f"{'utility':<10} TSTR AUC {num(tstr)} (trained on synthetic, tested on real rows)",
        f"{'attacks':<10} "
        + ("not run" if auc is None else
           f"best membership-attack AUC {num(auc)} (0.5 is guessing); empirical epsilon "
           f"lower bound {num(lower)}"),
    ]
    if fail is not None or warn is not None:
        lines.append(f"{'hazards':<10} {num(fail)} fail, {num(warn)} warn (see the report)")
    lines += [f"{key:<10} {_fmt(value)}" for key, value in _flatten(summary)]
    return lines


def demo(args: argparse.Namespace) -> int:
    """Fit, sample and audit on the bundled Adult, in the folder ``--out``."""
    from privsynth._modelfile import atomic_write_text
    from privsynth.accounting.persistent import FileAccountant
    from privsynth.datasets import adult_schema, load_adult

    out = Path(args.out)
    # the steward's edition of the report (evaluation numbers computed on the private data
    # without DP) stays out of the release folder: in a sibling folder next to it
    steward = steward_folder(out)
    for folder, what in ((out, "--out"), (steward, "the steward's folder")):
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"{what} {folder} exists and is not a folder")
    model = make_engine(args.engine, args.param or ())
    report_mod = import_report()
    out.mkdir(parents=True, exist_ok=True)
    steward.mkdir(exist_ok=True)
    files = {name: out / name for name in ("schema.json", "ledger.json", "synthetic.csv",
                                           f"model.{args.engine}.json", "audit-public.html",
                                           "audit-public.json")}
    steward_files = {name: steward / name for name in ("audit-steward.html",
                                                       "audit-steward.json")}
    progress = Progress(5)
    # DP-SGD is (epsilon, delta)-DP: delta far below 1/n for the 32,561 training rows.
    delta = 1e-6 if args.engine != "privbayes" else 0.0

    with progress.step("writing the public Adult schema and a new ledger with total epsilon "
                       f"{args.epsilon:g}"):
        schema = adult_schema()
        atomic_write_text(files["schema.json"], schema.to_json() + "\n")
        if files["ledger.json"].exists():
            # the demo's own sandbox on public data: a fresh ledger each run (a real data
            # set's ledger is never replaced once it records a spend)
            progress.note(f"      (replacing the demo ledger {files['ledger.json']})")
            files["ledger.json"].unlink()
        FileAccountant.init(files["ledger.json"], args.epsilon, delta)
    release = f"demo-{args.engine}@{utc_now()}"
    with progress.step(f"fitting {args.engine} on the bundled Adult training split "
                       f"(epsilon {args.epsilon:g})"):
        train = load_adult("train")
        if args.train_rows is not None:
            # a fixed, data-independent subset (the first rows): quicker trials, same DP unit
            train = train.iloc[:args.train_rows].reset_index(drop=True)
        with FileAccountant.locked(files["ledger.json"]) as acct:
            model.fit(train, schema=schema, epsilon=args.epsilon, accountant=acct,
                      release=release)
            spent = acct.spent()
        model.save(files[f"model.{args.engine}.json"])
    n_rows = args.rows if args.rows is not None else max(1, round(model.n_hat_))
    with progress.step(f"sampling {n_rows:,} synthetic rows"):
        synth = model.sample(n_rows, random_state=args.seed)
        write_output(synth, files["synthetic.csv"])
    attacks = "without" if args.no_attacks else "with"
    with progress.step(f"auditing against the bundled Adult test split ({attacks} membership "
                       "attacks)"):
        test = load_adult("test")
        rep = report_mod.audit(
            train, synth, schema=schema, holdout=test, model=model, accountant=acct,
            target="income", synthetic_path=files["synthetic.csv"],
            model_path=files[f"model.{args.engine}.json"], release_id=release,
            attacks=not args.no_attacks, risk_options=risk_options(args),
            random_state=args.seed if args.seed is not None else 0)
    with progress.step("writing the report's two editions and manifest.json"):
        rep.to_html(files["audit-public.html"], public=True)
        rep.to_json(files["audit-public.json"], public=True)
        rep.to_html(steward_files["audit-steward.html"])
        rep.to_json(steward_files["audit-steward.json"])
        # the release folder's manifest (H10): a new one, as the demo's ledger is new; it
        # lists the public edition of the report, never the steward's
        files["manifest.json"] = write_manifest(
            out, model=model, model_file=files[f"model.{args.engine}.json"],
            synthetic_file=files["synthetic.csv"], rows=len(synth), seed=args.seed,
            accountant=acct, files=[files[k] for k in ("schema.json", "audit-public.html",
                                                       "audit-public.json")], fresh=True)

    summary = dict(rep.summary()) if hasattr(rep, "summary") else {}
    print(f"privsynth demo: {args.engine} on UCI Adult, release {release}")
    for line in summary_lines(summary, spent, args.epsilon):
        print(f"  {line}")
    print(f"  {'files':<10} {out}{os.sep}: {', '.join(p.name for p in files.values())} "
          "(the release folder, with the public edition of the report)")
    print(f"  {'steward':<10} {steward}{os.sep}: "
          f"{', '.join(p.name for p in steward_files.values())} (the steward's edition: "
          "evaluation numbers computed on the private data without DP; keep it out of the "
          "release)")
    print(f"  {'next':<10} open {steward_files['audit-steward.html']} in a browser; "
          f"privsynth verify {out}; privsynth budget show {files['ledger.json']}")
    return EXIT_OK


def steward_folder(out: Path) -> Path:
    """Where the demo writes the steward's edition: ``<out>-steward``, next to ``out``."""
    full = out.resolve()
    return full.parent / f"{full.name or 'privsynth-demo'}-steward"

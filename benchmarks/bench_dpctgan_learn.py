"""Calibrating DP-CTGAN's learnability threshold: signal-to-noise against what it learned.

DP-CTGAN warns (``CannotLearnWarning``) when the public signal-to-noise figure
of its DP-SGD run (:func:`privsynth.engines.dpctgan._plan.learnability`, as
the budget planner reports it) is below ``MIN_LEARNABILITY``. This sweep fits
DP-CTGAN on random draws of UCI Adult of several sizes at several epsilons and
sets the figure beside the TSTR AUC and 2-way TVD it reached, with
independent marginals (PrivBayes ``degree=0``) on the same draw as the floor:
below the threshold DP-CTGAN should not beat that floor.

Run from the repository root (minutes on 2 cores)::

    python benchmarks/bench_dpctgan_learn.py [--sizes 1000 3000 10000 32561]
        [--epsilons 0.3 1 3] [--seeds 0 1]

Writes ``benchmarks/results/dpctgan_learnability.json`` and prints a table.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import privsynth
from privsynth.accounting import Accountant
from privsynth.datasets import adult_schema, load_adult
from privsynth.engines.dpctgan import DPCTGAN
from privsynth.engines.privbayes import PrivBayes
from privsynth.metrics import marginal_tvd, ml_efficacy

OUT = Path(__file__).resolve().parent / "results" / "dpctgan_learnability.json"
DELTA = 1e-7


def _score(train: Any, syn: Any, test: Any, schema: Any) -> dict[str, float]:
    ml = ml_efficacy(train, syn, test, target="income", schema=schema, n_threads=1)
    return {"tstr_auc": ml["tstr_auc"], "tvd2": marginal_tvd(train, syn, way=2, schema=schema)}


def run_one(n: int, epsilon: float, seed: int, n_syn: int,
            epochs: int | None = None) -> dict[str, Any]:
    full, test, schema = load_adult("train"), load_adult("test"), adult_schema()
    train = full.sample(n=min(n, len(full)), random_state=seed).reset_index(drop=True)
    plan = privsynth.plan(schema, [epsilon], n=n, engine="dpctgan", delta=DELTA,
                          engine_options={"epochs": epochs})
    learn = plan.plans[0].learnability
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gan = DPCTGAN(epochs=epochs).fit(train, schema=schema, epsilon=epsilon, delta=DELTA,
                            accountant=Accountant(epsilon, DELTA))
    seconds = time.perf_counter() - t0
    row: dict[str, Any] = {"rows": n, "epsilon": epsilon, "seed": seed, "epochs": epochs,
                           "steps": gan.steps_, "learnability": learn, "dpctgan_seconds": seconds}
    row.update({f"dpctgan_{k}": v for k, v in
                _score(train, gan.sample(n_syn, random_state=seed), test, schema).items()})
    ind = PrivBayes(degree=0).fit(train, schema=schema, epsilon=epsilon)
    row.update({f"independent_{k}": v for k, v in
                _score(train, ind.sample(n_syn, random_state=seed), test, schema).items()})
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000, 32561])
    ap.add_argument("--epsilons", type=float, nargs="+", default=[0.3, 1.0, 3.0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--rows", type=int, default=10_000, help="synthetic rows")
    ap.add_argument("--epochs", type=int, nargs="+", default=[None],
                    help="DPCTGAN epochs (default: its default, at least 300 steps)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    rows = []
    for epochs in args.epochs:
        for n in args.sizes:
            for eps in args.epsilons:
                for seed in args.seeds:
                    row = run_one(n, eps, seed, args.rows, epochs)
                    rows.append(row)
                    print(json.dumps(row), file=sys.stderr, flush=True)
    result = {"benchmark": "dpctgan_learnability",
              "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "privsynth": privsynth.__version__, "cpus": os.cpu_count(),
              "delta": DELTA, "synthetic_rows": args.rows, "runs": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'rows':>6} {'eps':>5} {'steps':>6} {'learn':>7} {'gan AUC':>8} {'ind AUC':>8} "
          f"{'gan tvd2':>9} {'ind tvd2':>9}")
    keys = sorted({(r["rows"], r["epsilon"], r["epochs"] or 0) for r in rows})
    for n, eps, epochs in keys:
        rs = [r for r in rows if (r["rows"], r["epsilon"], r["epochs"] or 0) == (n, eps, epochs)]

        def m(k: str, rs: list[dict[str, Any]] = rs) -> float:
            return statistics.fmean(float(r[k]) for r in rs)

        print(f"{n:>6} {eps:>5g} {m('steps'):>6.0f} {m('learnability'):>7.1f} "
              f"{m('dpctgan_tstr_auc'):>8.3f} "
              f"{m('independent_tstr_auc'):>8.3f} {m('dpctgan_tvd2'):>9.3f} "
              f"{m('independent_tvd2'):>9.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

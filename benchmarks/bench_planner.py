"""The budget planner against real PrivBayes releases: predicted and measured tvd1 / tvd2.

Usage::

    python -m benchmarks.bench_planner [--datasets adult,acs] [--epsilon 0.3,1,3]
                                       [--seeds 3] [--rows full,2000] [--json OUT.json]

For each data set (its train split, ``../shared/datasets``), each row count
(``full`` or a number of rows drawn at random, seed 0) and each epsilon, it
prints the planner's prediction (from the public schema and the row count
only) next to the mean over ``--seeds`` fits of the measured tvd1 and tvd2
(``privsynth.metrics.marginal_tvd``, as in ``../shared/anchors.md``;
synthetic rows = training rows), and their ratio. The planner's constants were
fitted on Adult; ACS is held out except for the resolution prior (see
docs/planner.md). The last full run is ``benchmarks/results/planner.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.harness import LOADERS
from privsynth import PrivBayes, plan
from privsynth.metrics import marginal_tvd


def measure(df: pd.DataFrame, schema: Any, eps: float, seeds: int) -> tuple[list[float], ...]:
    t1: list[float] = []
    t2: list[float] = []
    for seed in range(seeds):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = PrivBayes().fit(df, schema=schema, epsilon=eps)
        syn = model.sample(len(df), random_state=seed)
        t1.append(marginal_tvd(df, syn, way=1, schema=schema))
        t2.append(marginal_tvd(df, syn, way=2, schema=schema))
    return t1, t2


def run(datasets: list[str], epsilons: list[float], seeds: int, rows: list[str]
        ) -> list[dict[str, Any]]:
    out = []
    header = (f"{'data':<6} {'rows':>6} {'eps':>5}  {'tvd1 pred':>9} {'meas':>6} {'ratio':>5}"
              f"  {'tvd2 pred':>9} {'meas':>6} {'ratio':>5}")
    print(header)
    print("-" * len(header), flush=True)
    for name in datasets:
        data = LOADERS[name]()
        for r in rows:
            df = data.train
            if r != "full":
                idx = np.random.default_rng(0).choice(len(df), size=int(r), replace=False)
                df = df.iloc[np.sort(idx)].reset_index(drop=True)
            pred = plan(data.schema, epsilons, n=len(df))
            for p in pred.plans:
                t0 = time.perf_counter()
                t1, t2 = measure(df, data.schema, p.epsilon, seeds)
                rec: dict[str, Any] = {
                       "dataset": name, "rows": len(df), "epsilon": p.epsilon, "seeds": seeds,
                       "tvd1_pred": p.tvd1, "tvd1": float(np.mean(t1)),
                       "tvd1_sd": float(np.std(t1, ddof=1)) if seeds > 1 else 0.0,
                       "tvd2_pred": p.tvd2, "tvd2": float(np.mean(t2)),
                       "tvd2_sd": float(np.std(t2, ddof=1)) if seeds > 1 else 0.0,
                       "degree_pred": p.degree, "verdict": p.verdict,
                       "seconds": time.perf_counter() - t0}
                rec["tvd1_ratio"] = rec["tvd1_pred"] / rec["tvd1"]
                rec["tvd2_ratio"] = rec["tvd2_pred"] / rec["tvd2"]
                out.append(rec)
                print(f"{name:<6} {len(df):>6} {p.epsilon:>5g}  {p.tvd1:>9.3f} {rec['tvd1']:>6.3f}"
                      f" {rec['tvd1_ratio']:>5.2f}  {p.tvd2:>9.3f} {rec['tvd2']:>6.3f}"
                      f" {rec['tvd2_ratio']:>5.2f}", flush=True)
    return out


def section(path: Path) -> list[str]:
    """docs/benchmarks.md's section: the planner's prediction beside the measured fits."""
    if not path.exists():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    out = ["## Budget planner: predicted against measured", "",
           "`privsynth plan` predicts tvd1 and tvd2 from the public schema and a stated row "
           "count; here beside PrivBayes releases measured by `python -m "
           "benchmarks.bench_planner` (mean of the seeds; ratio = predicted / measured; the "
           "model and its validity range are in [planner.md](planner.md)).", "",
           "| data set | rows | epsilon | tvd1 predicted | tvd1 measured | ratio | "
           "tvd2 predicted | tvd2 measured | ratio |", "|---|---|---|---|---|---|---|---|---|"]
    for r in doc["records"]:
        out.append(f"| {r['dataset']} | {r['rows']:,} | {r['epsilon']:g} | {r['tvd1_pred']:.3f} "
                   f"| {r['tvd1']:.3f} | {r['tvd1_ratio']:.2f} | {r['tvd2_pred']:.3f} | "
                   f"{r['tvd2']:.3f} | {r['tvd2_ratio']:.2f} |")
    return [*out, ""]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_planner",
                                 description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--datasets", default="adult,acs")
    ap.add_argument("--epsilon", default="0.3,1,3")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rows", default="full,2000",
                    help="row counts: 'full' or numbers of rows drawn at random")
    ap.add_argument("--json", type=Path, help="also write the records to this file")
    args = ap.parse_args(argv)
    records = run(args.datasets.split(","), [float(e) for e in args.epsilon.split(",")],
                  args.seeds, args.rows.split(","))
    worst = max(max(r["tvd1_ratio"], 1 / r["tvd1_ratio"], r["tvd2_ratio"], 1 / r["tvd2_ratio"])
                for r in records)
    print(f"worst factor between prediction and measurement: {worst:.2f}")
    if args.json:
        doc = {"format": "privsynth.bench_planner", "command": " ".join(sys.argv),
               "records": records}
        args.json.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""PrivBayes on Adult at a given epsilon: time, tvd1, tvd2, TSTR AUC (anchors.md definitions).

Usage::

    python -m benchmarks.bench_privbayes --epsilon 1 --seeds 5 [--param theta=4 ...]
    python -m benchmarks.bench_privbayes --scale 1000000 --columns 30

The whole budget is spent honestly: domains come from the bundled public
schema, never from the data.
"""

from __future__ import annotations

import argparse
import ast
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from privsynth import PrivBayes, datasets
from privsynth.metrics import marginal_tvd, ml_efficacy


def run_adult(epsilon: float, seeds: int, params: dict[str, object], rows: int = 30_000
              ) -> dict[str, object]:
    train, test = datasets.load_adult("train"), datasets.load_adult("test")
    schema = datasets.adult_schema()
    out = []
    for seed in range(seeds):
        t0 = time.perf_counter()
        model = PrivBayes(**params).fit(train, schema=schema, epsilon=epsilon)
        t1 = time.perf_counter()
        syn = model.sample(rows, random_state=seed)
        t2 = time.perf_counter()
        tvd1 = marginal_tvd(train, syn, way=1, schema=schema)
        tvd2 = marginal_tvd(train, syn, way=2, schema=schema)
        auc = ml_efficacy(train, syn, test, target="income", schema=schema, reference=False,
                          n_threads=1)["tstr_auc"]
        row = {"seed": seed, "fit_s": t1 - t0, "sample_s": t2 - t1, "tvd1": tvd1, "tvd2": tvd2,
               "tstr_auc": auc, "degree": model.describe()["degree"],
               "spent": model.accountant_.spent().epsilon}
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}),
              flush=True)
        out.append(row)
    df = pd.DataFrame(out)
    summary = {"epsilon": epsilon, "params": params, "seeds": seeds, "rows": rows}
    for k in ("fit_s", "sample_s", "tvd1", "tvd2", "tstr_auc"):
        summary[k] = float(df[k].mean())
        summary[k + "_sd"] = float(df[k].std(ddof=1)) if seeds > 1 else 0.0
    summary["fit_sample_s"] = float((df["fit_s"] + df["sample_s"]).mean())
    return summary


def run_scale(rows: int, columns: int, epsilon: float) -> dict[str, object]:
    """Fit time and peak memory on ``rows`` x ``columns`` categorical/integer data."""
    from privsynth.schema import Schema

    rng = np.random.default_rng(0)
    specs, data = [], {}
    for j in range(columns):
        if j % 3 == 0:
            specs.append({"name": f"n{j}", "kind": "integer", "lower": 0, "upper": 999})
            base = rng.integers(0, 1000, rows)
            data[f"n{j}"] = base
        else:
            cats = [f"c{i}" for i in range(8)]
            specs.append({"name": f"c{j}", "kind": "categorical", "categories": cats})
            prev = data[list(data)[-1]] if data else rng.integers(0, 8, rows)
            codes = (np.asarray(pd.factorize(prev)[0]) + rng.integers(0, 3, rows)) % 8
            data[f"c{j}"] = np.asarray(cats, dtype=object)[codes]
    df = pd.DataFrame(data)
    schema = Schema.from_dict({"columns": specs})
    t0 = time.perf_counter()
    model = PrivBayes().fit(df, schema=schema, epsilon=epsilon)
    t1 = time.perf_counter()
    model.sample(min(rows, 100_000), random_state=0)
    t2 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": rows, "columns": columns, "fit_s": t1 - t0, "sample_100k_s": t2 - t1,
            "peak_rss_mb": peak_mb}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epsilon", type=float, default=1.0)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--param", action="append", default=[], help="PrivBayes parameter k=v")
    ap.add_argument("--scale", type=int, help="run the scaling test with this many rows")
    ap.add_argument("--columns", type=int, default=30)
    ap.add_argument("--json", type=Path, help="append the summary to this JSON-lines file")
    args = ap.parse_args(argv)
    if args.scale:
        summary = run_scale(args.scale, args.columns, args.epsilon)
    else:
        params = {k: ast.literal_eval(v) for k, v in (p.split("=", 1) for p in args.param)}
        summary = run_adult(args.epsilon, args.seeds, params)
    print("SUMMARY " + json.dumps(summary), flush=True)
    if args.json:
        with args.json.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

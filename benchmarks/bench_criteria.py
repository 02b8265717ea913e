"""The WP29 anonymisation criteria on UCI Adult: the yardstick table of issue 20, and speed.

Members: 5,000 random rows of Adult's training split; control: 5,000 random
rows of its test split. Synthetic tables (5,000 rows each):

- ``copy``: the members themselves;
- ``perturbed``: the members with age and hours-per-week jittered by an
  integer in [-2, 2] and 20 % of occupation and of workclass values swapped
  between rows (a naive "anonymisation");
- ``independent``: 5,000 other test rows (an ideal release: the same
  population, no member in it), evaluated against a separate control set;
- ``privbayes``: PrivBayes fitted on the members at epsilon 1;
- ``dpctgan``: DP-CTGAN fitted on the members at epsilon 1, delta 1e-6
  (with ``--dpctgan``; needs the gan extra, about a minute on 2 cores).

For each, the three criteria of :func:`privsynth.risk.assess_criteria` with
their intervals, the wall time and the process CPU time (the machine is
shared: CPU time is the steadier number). Target: all three criteria in under
60 s for one release. Also times the whole ``assess_risk`` (membership attacks,
distance diagnostics and the criteria, as the audit report runs it) on the
PrivBayes release, with and without ``criteria``. Writes
``benchmarks/results/criteria_adult.json``.

Usage::

    python benchmarks/bench_criteria.py [--dpctgan] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from privsynth.datasets import adult_schema, load_adult
from privsynth.engines.privbayes import PrivBayes
from privsynth.risk import assess_risk
from privsynth.risk.criteria import assess_criteria
from privsynth.schema import Schema

N = 5000
RESULTS = Path(__file__).parent / "results" / "criteria_adult.json"


def perturb(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Age and hours jittered by -2..2 (within the public bounds), 20 % of occupation
    and of workclass values swapped among randomly chosen rows."""
    out = df.copy()
    for col, lo, hi in (("age", 17, 90), ("hours-per-week", 1, 99)):
        out[col] = np.clip(out[col].to_numpy() + rng.integers(-2, 3, len(out)), lo, hi)
    for col in ("occupation", "workclass"):
        rows = rng.choice(len(out), len(out) // 5, replace=False)
        values = out[col].to_numpy(copy=True)
        values[rows] = values[rng.permutation(rows)]
        out[col] = values
    return out


def tables(seed: int = 0, n: int = N) -> dict[str, pd.DataFrame]:
    """Members, two disjoint control sets, and the perturbed copy (all of ``n`` rows)."""
    rng = np.random.default_rng(seed)
    train, test = load_adult("train"), load_adult("test")
    members = train.iloc[np.sort(rng.choice(len(train), n, replace=False))]
    order = rng.permutation(len(test))
    control = test.iloc[np.sort(order[:n])]
    control2 = test.iloc[np.sort(order[n:2 * n])]
    members, control, control2 = (t.reset_index(drop=True)
                                  for t in (members, control, control2))
    return {"members": members, "control": control, "control2": control2,
            "perturbed": perturb(members, np.random.default_rng(seed + 1))}


def releases(t: dict[str, pd.DataFrame], schema: Schema, seed: int,
             dpctgan: bool) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """``{name: (synthetic, control used for the evaluation)}``."""
    out = {"copy": (t["members"], t["control"]),
           "perturbed": (t["perturbed"], t["control"]),
           "independent": (t["control2"], t["control"])}
    pb = PrivBayes().fit(t["members"], schema=schema, epsilon=1.0)
    out["privbayes_eps1"] = (pb.sample(len(t["members"]), random_state=seed), t["control"])
    if dpctgan:
        from privsynth.engines.dpctgan import DPCTGAN

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gan = DPCTGAN().fit(t["members"], schema=schema, epsilon=1.0, delta=1e-6)
            out["dpctgan_eps1"] = (gan.sample(len(t["members"]), random_state=seed),
                                   t["control"])
    return out


def run(seed: int = 0, dpctgan: bool = False, whole: bool = False) -> dict[str, Any]:
    """The yardstick table; ``whole`` also times ``assess_risk`` (the slow test leaves it out)."""
    schema = adult_schema()
    t = tables(seed)
    rows = {}
    pairs = releases(t, schema, seed, dpctgan)
    for name, (synthetic, control) in pairs.items():
        wall, cpu = time.perf_counter(), time.process_time()
        result = assess_criteria(t["members"], control, synthetic, schema, random_state=seed)
        rows[name] = {
            "wall_s": round(time.perf_counter() - wall, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
            "load_avg": round(os.getloadavg()[0], 2),
            "income": result.inference.details["by_secret"]["income"],
            **result.to_dict(),
        }
        r = rows[name]
        print(f"{name:15s} singling out {r['singling_out']['risk']:.3f} "
              f"{_ci(r['singling_out'])}  linkability {r['linkability']['risk']:.3f} "
              f"{_ci(r['linkability'])}  inference(income) {r['income']['risk']:.3f} "
              f"worst {r['inference']['secret']} {r['inference']['risk']:.3f} "
              f"{_ci(r['inference'])}  {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, "
              f"load {r['load_avg']}", flush=True)
    synthetic, control = pairs["privbayes_eps1"]
    timed: dict[str, Any] = {}
    for criteria in (True, False) if whole else ():
        wall, cpu = time.perf_counter(), time.process_time()
        assess_risk(t["members"], control, synthetic, schema, epsilon=1.0, criteria=criteria,
                    random_state=seed)
        timed[f"criteria={criteria}"] = {"wall_s": round(time.perf_counter() - wall, 2),
                                         "cpu_s": round(time.process_time() - cpu, 2),
                                         "load_avg": round(os.getloadavg()[0], 2)}
        print(f"assess_risk(criteria={criteria}) on privbayes_eps1: "
              f"{timed[f'criteria={criteria}']}", flush=True)
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
            "seed": seed, "n": N, "releases": rows, "assess_risk_privbayes_eps1": timed}


def _ci(r: dict[str, Any]) -> str:
    lo, hi = r["risk_ci"]
    return f"[{lo:.2f}, {hi:.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dpctgan", action="store_true", help="also DP-CTGAN at epsilon 1")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    result = run(args.seed, args.dpctgan, whole=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

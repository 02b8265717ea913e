"""Parent/child tables on nycflights13 (issue 22): planes -> flights with ``fit_tables``.

Usage::

    python -m benchmarks.bench_tables [--flights 60000] [--epsilon 1] [--max-children 50]
                                      [--seeds 3] [--json OUT.json]

The parent table is every plane of ``planes.csv`` (3,322 aircraft), the child
table a random sample of ``--flights`` rows of ``flights.csv.gz`` (seed 0;
``../shared/datasets/nycflights13``, or ``PRIVSYNTH_SHARED_DATASETS``). The
schemas are written from public facts (FAA aircraft types and engine kinds,
the carriers of ``airlines.csv``, the three New York airports, clock times,
great-circle distances under 5,000 miles); columns whose category lists would
have to be read from the data (manufacturer, model, destination) are left
out. For each seed it fits ``PrivBayes().fit_tables`` (one release, privacy
unit = one plane with up to ``k`` of its flights) and samples the default
number of planes (the noisy count), then reports the issue's targets:

- key integrity: the share of synthetic flights whose tailnum is a synthetic
  plane's (target 100 %);
- mean flights per synthetic plane against the real capped mean (the mean of
  ``min(flights, k)`` over every plane; target within 20 %);
- the correlation of ``seats`` (parent) with ``distance`` (child) across the
  join (real 0.54 on the full table; target above 0.3);
- fit + sample seconds (target under 30 s).

The last run is ``benchmarks/results/tables.json``; docs/benchmarks.md shows
it (``python -m benchmarks report``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import privsynth as ps

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PRIVSYNTH_SHARED_DATASETS")
              or ROOT.parent / "shared" / "datasets") / "nycflights13"

CARRIERS = ["9E", "AA", "AS", "B6", "DL", "EV", "F9", "FL", "HA", "MQ", "OO", "UA", "US",
            "VX", "WN", "YV"]
PLANES = {"columns": [
    {"name": "tailnum", "kind": "id", "prefix": "SYN-"},
    {"name": "year", "kind": "integer", "lower": 1950, "upper": 2013, "nullable": True},
    {"name": "type", "kind": "categorical", "categories": [
        "Fixed wing multi engine", "Fixed wing single engine", "Rotorcraft"]},
    {"name": "engines", "kind": "integer", "lower": 1, "upper": 4},
    {"name": "seats", "kind": "integer", "lower": 1, "upper": 500},
    {"name": "speed", "kind": "integer", "lower": 0, "upper": 500, "nullable": True},
    {"name": "engine", "kind": "categorical", "categories": [
        "4 Cycle", "Reciprocating", "Turbo-fan", "Turbo-jet", "Turbo-prop", "Turbo-shaft"]},
]}
FLIGHTS = {"columns": [
    {"name": "tailnum", "kind": "id", "nullable": True},
    {"name": "month", "kind": "integer", "lower": 1, "upper": 12},
    {"name": "sched_dep_time", "kind": "integer", "lower": 0, "upper": 2400},
    {"name": "dep_delay", "kind": "integer", "lower": -1440, "upper": 1440,
     "nullable": True},
    {"name": "arr_delay", "kind": "integer", "lower": -1440, "upper": 1440,
     "nullable": True},
    {"name": "carrier", "kind": "categorical", "categories": CARRIERS},
    {"name": "origin", "kind": "categorical", "categories": ["EWR", "JFK", "LGA"]},
    {"name": "air_time", "kind": "integer", "lower": 0, "upper": 800, "nullable": True},
    {"name": "distance", "kind": "integer", "lower": 0, "upper": 5000},
]}
REL = ps.Relation(parent="planes", child="flights", key="tailnum")


def load(n_flights: int) -> tuple[dict[str, pd.DataFrame], dict[str, ps.Schema]]:
    """All planes and a random sample of ``n_flights`` flights (seed 0), with their schemas."""
    schemas = {"planes": ps.Schema.from_dict(PLANES), "flights": ps.Schema.from_dict(FLIGHTS)}
    planes = pd.read_csv(SHARED / "planes.csv")[list(schemas["planes"].names)]
    flights = pd.read_csv(SHARED / "flights.csv.gz")
    rows = np.sort(np.random.default_rng(0).choice(len(flights), n_flights, replace=False))
    flights = flights.iloc[rows][list(schemas["flights"].names)].reset_index(drop=True)
    return {"planes": planes, "flights": flights}, schemas


def join_corr(planes: pd.DataFrame, flights: pd.DataFrame) -> float:
    """Pearson correlation of seats (parent) and distance (child) over the joined flights."""
    j = flights[["tailnum", "distance"]].merge(planes[["tailnum", "seats"]], on="tailnum")
    return float(j["seats"].astype(float).corr(j["distance"].astype(float)))


def real_targets(tables: dict[str, pd.DataFrame], k: int) -> dict[str, float]:
    planes, flights = tables["planes"], tables["flights"]
    counts = flights["tailnum"].dropna().value_counts()
    per_plane = planes["tailnum"].map(counts).fillna(0).clip(upper=k)
    return {"capped_mean": float(per_plane.mean()),
            "corr_seats_distance": join_corr(planes, flights)}


#: The setups measured: the defaults, and one with a fixed degree of 1 (a child column always
#: takes one parent column), max_child_rows = 10 and a quarter of epsilon for the parent model
#: (chosen on this same sample: not held out).
SETUPS: dict[str, dict[str, Any]] = {
    "defaults": {"params": {}, "fit": {}},
    "degree 1, max_child_rows 10, parent_share 0.25": {
        "params": {"degree": 1}, "fit": {"max_child_rows": 10, "parent_share": 0.25}},
}


def run(n_flights: int, epsilon: float, k: int, seeds: int,
        setups: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    tables, schemas = load(n_flights)
    real = real_targets(tables, k)
    records = []
    for name, setup in (setups or SETUPS).items():
        for seed in range(seeds):
            t0 = time.perf_counter()
            model = ps.PrivBayes(**setup["params"]).fit_tables(
                tables, schemas=schemas, relations=[REL], epsilon=epsilon, max_children=k,
                **setup["fit"])
            t1 = time.perf_counter()
            out = model.sample_tables(random_state=seed)
            t2 = time.perf_counter()
            planes, flights = out["planes"], out["flights"]
            records.append({
                "setup": name, "seed": seed,
                "fit_s": t1 - t0, "sample_s": t2 - t1, "total_s": t2 - t0,
                "parents": len(planes), "children": len(flights),
                "key_integrity": float(flights["tailnum"].isin(set(planes["tailnum"])).mean())
                if len(flights) else 1.0,
                "mean_children": len(flights) / max(1, len(planes)),
                "corr_seats_distance": join_corr(planes, flights),
                "epsilon": model.record_.epsilon,
                "split": model.record_.description["epsilon_split"],
                "child_network": model.child_model_.describe()["network"],
            })
            r = records[-1]
            print(f"{name}, seed {seed}: {r['total_s']:.1f} s, key integrity "
                  f"{r['key_integrity']:.0%}, mean children {r['mean_children']:.2f} (real "
                  f"capped {real['capped_mean']:.2f}), corr seats-distance "
                  f"{r['corr_seats_distance']:.2f} (real {real['corr_seats_distance']:.2f})",
                  flush=True)
    return {"format": "privsynth.bench_tables", "flights": n_flights, "epsilon": epsilon,
            "max_children": k, "seeds": seeds, "real": real, "records": records}


def section(path: Path) -> list[str]:
    """docs/benchmarks.md's section on parent/child tables (empty without results)."""
    if not path.exists():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    real = doc["real"]
    out = [
        "## Parent/child tables: planes -> flights", "",
        f"`PrivBayes().fit_tables` on every plane of nycflights13 and a random sample of "
        f"{doc['flights']:,} flights, epsilon {doc['epsilon']:g}, `max_children` = "
        f"{doc['max_children']} (privacy unit: one plane with up to {doc['max_children']} of "
        "its flights; [units.md](units.md#related-tables-parent-and-child)); mean of "
        f"{doc['seeds']} seeds (min-max of the correlation), measured by `python -m "
        "benchmarks.bench_tables`. Targets of issue 22: key integrity 100 %, flights per "
        f"plane within 20 % of the real capped mean ({real['capped_mean']:.2f}), correlation "
        f"of seats (plane) and distance (flight) across the join above 0.3 (real "
        f"{real['corr_seats_distance']:.2f}), fit + sample under 30 s.", "",
        "| setup | key integrity | flights per plane (error) | corr seats x distance | "
        "fit + sample s |", "|---|---|---|---|---|"]
    for name in dict.fromkeys(r["setup"] for r in doc["records"]):
        rec = [r for r in doc["records"] if r["setup"] == name]
        corr = [r["corr_seats_distance"] for r in rec]
        per = float(np.mean([r["mean_children"] for r in rec]))
        err = abs(per - real["capped_mean"]) / real["capped_mean"]
        out.append(f"| {name} | {np.mean([r['key_integrity'] for r in rec]):.0%} | "
                   f"{per:.2f} ({err:.0%}) | {np.mean(corr):.2f} ({min(corr):.2f} to "
                   f"{max(corr):.2f}) | {np.mean([r['total_s'] for r in rec]):.1f} |")
    out += ["", "Key integrity, the number of flights per plane and the time meet their "
            "targets; the correlation does not. At epsilon 1 with k = 50 every count of the "
            "child model carries 50-fold noise (about 1,200 planes' worth of signal in 60,000 "
            "flights): with the defaults the budget rule finds no dependency above that noise "
            "and the child model measures independent marginals (correlation 0), and with a "
            "fixed degree of 1 the exponential mechanism's choice of each flight column's "
            "plane column is mostly noise (seats is picked as the parent of distance or of "
            "carrier in some seeds only). Measured on 2026-12-03; the second setup was chosen "
            "on this same sample (not held out)."]
    return [*out, ""]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_tables",
                                 description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--flights", type=int, default=60_000)
    ap.add_argument("--epsilon", type=float, default=1.0)
    ap.add_argument("--max-children", type=int, default=50)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the results to this file")
    args = ap.parse_args(argv)
    doc = run(args.flights, args.epsilon, args.max_children, args.seeds)
    doc["command"] = " ".join(["python -m benchmarks.bench_tables", *sys.argv[1:]])
    if args.json:
        args.json.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

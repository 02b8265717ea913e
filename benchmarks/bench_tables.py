"""Parent/child tables on nycflights13 (issue 22): planes -> flights with ``fit_tables``.

Usage::

    python -m benchmarks.bench_tables [--flights 60000] [--epsilon 1] [--max-children 50]
                                      [--seeds 3] [--json OUT.json] [--before OLD.json]

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

Held out (never used to choose a rule or a default): the same measures on
``--flights`` other flights (drawn from those not in the tuning sample), with
two more plane x flight pairs (Cramér's V of year with carrier, of seats with
origin), and a second relation built from those flights: scheduled services
(carrier and flight number, the parent table holding the carrier) -> flights,
measured by Cramér's V of carrier with distance.

``--before OLD.json`` copies the records of a run of older code (the same
script with another ``privsynth`` first on ``PYTHONPATH``) into the results,
labelled "before: ", to show both in one table.

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


def _sample_rows(n_rows: int, n: int, held_out: bool) -> np.ndarray:
    """The tuning sample (seed 0), or for ``held_out`` ``n`` rows drawn (seed 1) from the rest."""
    tuning = np.random.default_rng(0).choice(n_rows, n, replace=False)
    if not held_out:
        return np.sort(tuning)
    rest = np.setdiff1d(np.arange(n_rows), tuning)
    return np.sort(np.random.default_rng(1).choice(rest, n, replace=False))


def load(n_flights: int, held_out: bool = False
         ) -> tuple[dict[str, pd.DataFrame], dict[str, ps.Schema]]:
    """All planes and a random sample of ``n_flights`` flights, with their schemas.

    The tuning sample is drawn with seed 0; ``held_out`` draws as many flights (seed 1)
    from the flights not in it.
    """
    schemas = {"planes": ps.Schema.from_dict(PLANES), "flights": ps.Schema.from_dict(FLIGHTS)}
    planes = pd.read_csv(SHARED / "planes.csv")[list(schemas["planes"].names)]
    flights = pd.read_csv(SHARED / "flights.csv.gz")
    rows = _sample_rows(len(flights), n_flights, held_out)
    flights = flights.iloc[rows][list(schemas["flights"].names)].reset_index(drop=True)
    return {"planes": planes, "flights": flights}, schemas


#: The held-out relation: a scheduled service (carrier and flight number, ~3,800 of them)
#: and its flights; the parent table holds the service's carrier.
SERVICES = {"columns": [
    {"name": "service", "kind": "id", "prefix": "SYN-"},
    {"name": "carrier", "kind": "categorical", "categories": CARRIERS},
]}
SERVICE_FLIGHTS = {"columns": [
    {"name": "service", "kind": "id"},
    {"name": "month", "kind": "integer", "lower": 1, "upper": 12},
    {"name": "sched_dep_time", "kind": "integer", "lower": 0, "upper": 2400},
    {"name": "dep_delay", "kind": "integer", "lower": -1440, "upper": 1440, "nullable": True},
    {"name": "origin", "kind": "categorical", "categories": ["EWR", "JFK", "LGA"]},
    {"name": "distance", "kind": "integer", "lower": 0, "upper": 5000},
]}
SERVICE_REL = ps.Relation(parent="services", child="flights", key="service")


def load_services(n_flights: int) -> tuple[dict[str, pd.DataFrame], dict[str, ps.Schema]]:
    """The held-out relation on the held-out flights: services -> flights."""
    schemas = {"services": ps.Schema.from_dict(SERVICES),
               "flights": ps.Schema.from_dict(SERVICE_FLIGHTS)}
    flights = pd.read_csv(SHARED / "flights.csv.gz")
    flights = flights.iloc[_sample_rows(len(flights), n_flights, True)].reset_index(drop=True)
    flights["service"] = flights["carrier"] + "-" + flights["flight"].astype(str)
    services = flights[["service", "carrier"]].drop_duplicates("service").reset_index(drop=True)
    child = flights[list(schemas["flights"].names)].reset_index(drop=True)
    return {"services": services, "flights": child}, schemas


def join_corr(planes: pd.DataFrame, flights: pd.DataFrame) -> float:
    """Pearson correlation of seats (parent) and distance (child) over the joined flights."""
    j = flights[["tailnum", "distance"]].merge(planes[["tailnum", "seats"]], on="tailnum")
    return float(j["seats"].astype(float).corr(j["distance"].astype(float)))


def cramers_v(a: pd.Series, b: pd.Series) -> float:
    """Cramér's V of two discrete series (0: independent, 1: one determines the other)."""
    tab = pd.crosstab(a, b).to_numpy(dtype=np.float64)
    if tab.shape[0] < 2 or tab.shape[1] < 2:
        return 0.0
    n = tab.sum()
    expected = np.outer(tab.sum(axis=1), tab.sum(axis=0)) / n
    chi2 = float(((tab - expected) ** 2 / expected).sum())
    return float(np.sqrt(chi2 / n / (min(tab.shape) - 1)))


def _quartiles(real: pd.Series) -> np.ndarray:
    return np.unique(np.nanquantile(real.astype(float), [0.25, 0.5, 0.75]))


def _classes(values: pd.Series, edges: np.ndarray) -> pd.Series:
    v = values.astype(float)
    return pd.Series(np.where(v.isna(), -1, np.searchsorted(edges, v, side="right")),
                     index=values.index)


def pair_metrics(parents: pd.DataFrame, children: pd.DataFrame, rel: ps.Relation,
                 edges: dict[str, np.ndarray]) -> dict[str, float]:
    """The parent-column x child-column associations of one relation over the join.

    Numeric columns are cut at the real data's quartiles (``edges``).
    """
    j = children.merge(parents, on=rel.key, suffixes=("", "_parent"))
    cls = {c: _classes(j[c], e) for c, e in edges.items()}
    if rel.parent == "planes":
        return {"corr_seats_distance": float(j["seats"].astype(float).corr(
                    j["distance"].astype(float))),
                "v_year_carrier": cramers_v(cls["year"], j["carrier"]),
                "v_seats_origin": cramers_v(cls["seats"], j["origin"])}
    return {"v_carrier_distance": cramers_v(j["carrier"], cls["distance"])}


def real_targets(tables: dict[str, pd.DataFrame], k: int, rel: ps.Relation = REL
                 ) -> dict[str, Any]:
    parents, children = tables[rel.parent], tables[rel.child]
    counts = children[rel.key].dropna().value_counts()
    per_parent = parents[rel.key].map(counts).fillna(0).clip(upper=k)
    j = children.merge(parents, on=rel.key, suffixes=("", "_parent"))
    cols = ("year", "seats") if rel.parent == "planes" else ("distance",)
    edges = {c: _quartiles(j[c]) for c in cols}
    return {"capped_mean": float(per_parent.mean()), "edges": {c: e.tolist()
                                                               for c, e in edges.items()},
            **pair_metrics(parents, children, rel, edges)}


#: The setups measured on the tuning sample (planes -> flights, seed 0): the defaults, all
#: of each plane's kept flights in the child model (max_child_rows = k, the default before
#: 2026-12-04), and the defaults at epsilon 3.
SETUPS: dict[str, dict[str, Any]] = {
    "defaults": {"params": {}, "fit": {}},
    "max_child_rows = k": {"params": {}, "fit": {"max_child_rows": "k"}},
    "defaults, epsilon 3": {"params": {}, "fit": {}, "epsilon": 3.0},
    "link distance <- seats": {"params": {}, "fit": {"links": {"distance": "seats"}}},
}
#: The held-out runs: the defaults, and the link each relation's steward would declare
#: (chosen before looking at any result: the relation's headline pair).
HELD_OUT_SETUPS: dict[str, dict[str, dict[str, Any]]] = {
    "planes": {"defaults": SETUPS["defaults"],
               "link distance <- seats": SETUPS["link distance <- seats"]},
    "services": {"defaults": SETUPS["defaults"],
                 "link distance <- carrier": {"params": {},
                                              "fit": {"links": {"distance": "carrier"}}}},
}
#: The held-out checks (never used to choose anything): the defaults on flights outside
#: the tuning sample, for planes -> flights and for the services -> flights relation.
HELD_OUT = ("planes", "services")


def _fit_and_measure(tables: dict[str, pd.DataFrame], schemas: dict[str, ps.Schema],
                     rel: ps.Relation, setup: dict[str, Any], epsilon: float, k: int,
                     seed: int, real: dict[str, Any]) -> dict[str, Any]:
    fit_opts = {n: (k if v == "k" else v) for n, v in setup["fit"].items()}
    eps = float(setup.get("epsilon", epsilon))
    t0 = time.perf_counter()
    model = ps.PrivBayes(**setup["params"]).fit_tables(
        tables, schemas=schemas, relations=[rel], epsilon=eps, max_children=k, **fit_opts)
    t1 = time.perf_counter()
    out = model.sample_tables(random_state=seed)
    t2 = time.perf_counter()
    parents, children = out[rel.parent], out[rel.child]
    edges = {c: np.asarray(e) for c, e in real["edges"].items()}
    return {
        "seed": seed, "epsilon": model.record_.epsilon,
        "fit_s": t1 - t0, "sample_s": t2 - t1, "total_s": t2 - t0,
        "parents": len(parents), "children": len(children),
        "key_integrity": float(children[rel.key].isin(set(parents[rel.key])).mean())
        if len(children) else 1.0,
        "mean_children": len(children) / max(1, len(parents)),
        **pair_metrics(parents, children, rel, edges),
        "split": model.record_.description["epsilon_split"],
        "max_child_rows": model.record_.description.get("max_child_rows"),
        # the child model's columns with parents: {column: [parents]}
        "child_network": {e["child"]: e["parents"]
                          for e in model.child_model_.describe()["network"] if e["parents"]},
    }


def run(n_flights: int, epsilon: float, k: int, seeds: int,
        setups: dict[str, dict[str, Any]] | None = None,
        held_out: tuple[str, ...] = HELD_OUT, label: str = "") -> dict[str, Any]:
    tables, schemas = load(n_flights)
    real = real_targets(tables, k)
    records = []
    for name, setup in (setups or SETUPS).items():
        for seed in range(seeds):
            r = {"setup": label + name,
                 **_fit_and_measure(tables, schemas, REL, setup, epsilon, k, seed, real)}
            records.append(r)
            print(f"{r['setup']}, seed {seed}: {r['total_s']:.1f} s, key integrity "
                  f"{r['key_integrity']:.0%}, mean children {r['mean_children']:.2f} (real "
                  f"capped {real['capped_mean']:.2f}), corr seats-distance "
                  f"{r['corr_seats_distance']:.2f} (real {real['corr_seats_distance']:.2f})",
                  flush=True)
    held: dict[str, Any] = {}
    for case in held_out:
        if case == "planes":
            h_tables, h_schemas = load(n_flights, held_out=True)
            rel = REL
        else:
            h_tables, h_schemas = load_services(n_flights)
            rel = SERVICE_REL
        h_real = real_targets(h_tables, k, rel)
        h_records = []
        for name, setup in HELD_OUT_SETUPS[case].items():
            for seed in range(seeds):
                r = {"setup": label + name, **_fit_and_measure(
                    h_tables, h_schemas, rel, setup, epsilon, k, seed, h_real)}
                h_records.append(r)
                print(f"held out {case}, {r['setup']}, seed {seed}: {r['total_s']:.1f} s, "
                      f"key integrity {r['key_integrity']:.0%}, mean children "
                      f"{r['mean_children']:.2f} (real capped {h_real['capped_mean']:.2f}), "
                      + ", ".join(f"{m} {r[m]:.2f} (real {h_real[m]:.2f})" for m in h_real
                                  if m not in ("edges", "capped_mean")), flush=True)
        held[case] = {"relation": rel.to_dict(), "real": h_real, "records": h_records}
    return {"format": "privsynth.bench_tables", "flights": n_flights, "epsilon": epsilon,
            "max_children": k, "seeds": seeds, "real": real, "records": records,
            "held_out": held}


def _rows(records: list[dict[str, Any]], real: dict[str, Any], metrics: tuple[str, ...]
          ) -> list[str]:
    out = []
    for name in dict.fromkeys(r["setup"] for r in records):
        rec = [r for r in records if r["setup"] == name]
        per = float(np.mean([r["mean_children"] for r in rec]))
        err = abs(per - real["capped_mean"]) / real["capped_mean"]
        cells = [f"{np.mean([r[m] for r in rec]):.2f} ({min(r[m] for r in rec):.2f} to "
                 f"{max(r[m] for r in rec):.2f})" for m in metrics]
        out.append(f"| {name} | {np.mean([r['key_integrity'] for r in rec]):.0%} | "
                   f"{per:.2f} ({err:.0%}) | " + " | ".join(cells) +
                   f" | {np.mean([r['total_s'] for r in rec]):.1f} |")
    return out


def section(path: Path) -> list[str]:
    """docs/benchmarks.md's section on parent/child tables (empty without results)."""
    if not path.exists():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    real = doc["real"]
    before = doc.get("before", {"records": [], "held_out": {}})
    out = [
        "## Parent/child tables: planes -> flights", "",
        f"`PrivBayes().fit_tables` on every plane of nycflights13 and a random sample of "
        f"{doc['flights']:,} flights, epsilon {doc['epsilon']:g}, `max_children` = "
        f"{doc['max_children']} (privacy unit: one plane with up to {doc['max_children']} of "
        "its flights; [units.md](units.md#related-tables-parent-and-child)); mean of "
        f"{doc['seeds']} seeds (min to max), measured by `python -m benchmarks.bench_tables`. "
        "Targets of issue 22: key integrity 100 %, flights per plane within 20 % of the real "
        f"capped mean ({real['capped_mean']:.2f}), correlation of seats (plane) and distance "
        f"(flight) across the join above 0.3 (real {real['corr_seats_distance']:.2f}), fit + "
        "sample under 30 s. Rows marked *before* ran the same script on older code "
        f"({before.get('source', 'not run')}).", "",
        "**Tuning sample** (the child model's rule and defaults were chosen on it):", "",
        "| setup | key integrity | flights per plane (error) | corr seats x distance | "
        "fit + sample s |", "|---|---|---|---|---|",
        *_rows(before["records"] + doc["records"], real, ("corr_seats_distance",))]
    held = doc.get("held_out", {})
    if "planes" in held:
        h = held["planes"]
        hr = h["real"]
        out += ["", f"**Held out: other flights.** {doc['flights']:,} flights drawn from those "
                "not in the tuning sample, with two more parent x child pairs never looked at "
                "while tuning: Cramér's V of the plane's year (quartiles) with the flight's "
                f"carrier (real {hr['v_year_carrier']:.2f}) and of seats (quartiles) with the "
                f"origin airport (real {hr['v_seats_origin']:.2f}); real seats x distance "
                f"{hr['corr_seats_distance']:.2f}, real capped mean {hr['capped_mean']:.2f}.",
                "", "| setup | key integrity | flights per plane (error) | corr seats x "
                "distance | V year x carrier | V seats x origin | fit + sample s |",
                "|---|---|---|---|---|---|---|",
                *_rows(before["held_out"].get("planes", []) + h["records"], hr,
                       ("corr_seats_distance", "v_year_carrier", "v_seats_origin"))]
    if "services" in held:
        h = held["services"]
        hr = h["real"]
        out += ["", "**Held out: another relation.** Scheduled services (carrier and flight "
                "number; the parent table holds the carrier) and their flights, on the same "
                "held-out flights, key `service`, k = "
                f"{doc['max_children']}: Cramér's V of the service's carrier with the flight's "
                f"distance (quartiles; real {hr['v_carrier_distance']:.2f}), real capped mean "
                f"{hr['capped_mean']:.2f} flights per service.", "",
                "| setup | key integrity | flights per service (error) | V carrier x "
                "distance | fit + sample s |", "|---|---|---|---|---|",
                *_rows(before["held_out"].get("services", []) + h["records"], hr,
                       ("v_carrier_distance",))]
    out += ["", *_summary(doc)]
    return [*out, ""]


def _summary(doc: dict[str, Any]) -> list[str]:
    """What the tables show, with the numbers read from the results."""
    recs = {name: [r for r in doc["records"] if r["setup"] == name] for name in SETUPS}
    mean = {name: float(np.mean([r["corr_seats_distance"] for r in rec])) if rec else
            float("nan") for name, rec in recs.items()}
    sd = {name: float(np.std([r["corr_seats_distance"] for r in rec])) if rec else
          float("nan") for name, rec in recs.items()}
    fits = recs["defaults"]
    picked = [r for r in fits if "planes.seats" in r["child_network"].get("distance", [])]
    when = float(np.mean([r["corr_seats_distance"] for r in picked])) if picked else 0.0
    link = "link distance <- seats"
    met = "meets" if mean[link] > 0.3 else "does not meet"
    return [
        "Key integrity, the number of flights per plane and the time meet their targets. The "
        f"correlation with the defaults is {mean['defaults']:.2f} at epsilon 1 "
        f"({mean['defaults, epsilon 3']:.2f} at epsilon 3): the child model keeps the link "
        "only when the exponential mechanism gives the flight column the right plane column, "
        f"and distance took seats as its parent in {len(picked)} of {len(fits)} fits "
        f"(correlation {when:.2f} on average in those). With the link declared "
        f"(`links={{\"distance\": \"seats\"}}`, the steward's public statement that the "
        "release serves that pair) the child model fits it without a draw and gives its table "
        f"more of the budget: {mean[link]:.2f} (sd {sd[link]:.2f} per fit), which {met} the "
        "target of 0.3. In both, the plane columns' levels in the child model come from rows "
        "drawn from the parent model (rows *before*: from the child model's own histograms, "
        "fifteen of them sharing a tenth of its epsilon, whose noise cut seats at random). "
        "The held-out rows show the same on flights and a relation never used to tune "
        f"anything. Measured on 2026-12-04 ({doc['seeds']} seeds: the per-fit spread is "
        "large)."]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_tables",
                                 description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--flights", type=int, default=60_000)
    ap.add_argument("--epsilon", type=float, default=1.0)
    ap.add_argument("--max-children", type=int, default=50)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the results to this file")
    ap.add_argument("--before", type=Path, metavar="JSON",
                    help="a run of another source tree (PRIVSYNTH_SRC, e.g. the code before a "
                         "change) to show beside this one: its records are copied, labelled "
                         "'before: '")
    args = ap.parse_args(argv)
    doc = run(args.flights, args.epsilon, args.max_children, args.seeds)
    doc["command"] = " ".join(["python -m benchmarks.bench_tables", *sys.argv[1:]])
    if args.before:
        before = json.loads(args.before.read_text(encoding="utf-8"))
        doc["before"] = {"source": before.get("source", str(args.before)),
                         "records": [{**r, "setup": "before: " + r["setup"]}
                                     for r in before["records"]],
                         "held_out": {case: [{**r, "setup": "before: " + r["setup"]}
                                             for r in h["records"]]
                                      for case, h in before.get("held_out", {}).items()}}
    if args.json:
        args.json.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

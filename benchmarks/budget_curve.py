"""Quality against the budget: small and held-out data sets, and the independent floor.

Issue 21 asks that the curve of quality against epsilon be visible for every data set,
with independent marginals as the floor, on small tables too, and on data nobody tuned
for. This module adds to the harness:

* data sets (all with public schemas and a fixed TSTR target):

  - ``adult500`` / ``acs500``: 500 rows drawn (seed 7) from the Adult / ACS train
    splits, scored on the full test splits (the small-data end of the rule);
  - ``penguins``: Palmer penguins (344 rows), the public schema of ``tests/data``,
    a 70/30 split (seed 1), target species = Adelie. **Held out**;
  - ``flights``: nycflights13, 14 columns with the harness's public bounds, 30,000
    train / 10,000 test rows drawn with seed 1, target origin = JFK. **Held out**.

  The held-out sets (chosen, with their splits and targets, before any tuning) never
  served to choose a rule or a constant of PrivBayes's budget rule; Adult, ACS and
  their 500- and 2,000-row draws did.
* the engine ``independent``: PrivBayes with ``degree=0``, i.e. noisy, consistent
  independent marginals with the whole budget (the floor);
* :func:`section`, the "quality against the budget" table of docs/benchmarks.md.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from benchmarks.harness import Dataset

#: Synthetic rows per run on the small data sets (TSTR needs no more).
SMALL_ROWS = 2_000
SMALL = ("adult500", "acs500", "penguins")
HELD_OUT = ("penguins", "flights")
TITLES = {
    "adult": "Adult (32,561 rows)", "acs": "ACS (21,803 rows)",
    "adult500": "Adult, 500 rows", "acs500": "ACS, 500 rows",
    "penguins": "penguins (241 rows), held out", "flights": "flights (30,000 rows), held out",
}


def _draw(base: Dataset, name: str, rows: int) -> Dataset:
    from benchmarks.harness import Dataset

    rng = np.random.default_rng(7)
    idx = np.sort(rng.choice(len(base.train), rows, replace=False))
    return Dataset(name, base.train.iloc[idx].reset_index(drop=True), base.test, base.schema,
                   base.target, base.positive,
                   (f"{rows} rows drawn (seed 7) from the {base.name} train split",))


def load_adult500() -> Dataset:
    from benchmarks.harness import load_adult

    return _draw(load_adult(), "adult500", 500)


def load_acs500() -> Dataset:
    from benchmarks.harness import load_acs

    return _draw(load_acs(), "acs500", 500)


def load_penguins() -> Dataset:
    from benchmarks.harness import REPO, Dataset
    from privsynth.io import read_table
    from privsynth.schema import Schema

    data = REPO / "tests" / "data"
    schema = Schema.from_dict(json.loads((data / "penguins.schema.json").read_text("utf-8")))
    df = read_table(data / "penguins.csv", schema=schema, missing_values=("", "NA"))
    rng = np.random.default_rng(1)
    perm = rng.permutation(len(df))
    k = int(len(df) * 0.3)
    return Dataset("penguins", df.iloc[perm[k:]].reset_index(drop=True),
                   df.iloc[perm[:k]].reset_index(drop=True), schema, "species", "Adelie",
                   ("Palmer penguins, 344 rows; 70/30 split (seed 1); held out from tuning",))


def load_flights_tstr() -> Dataset:
    from benchmarks.harness import DATASETS, Dataset, flights_schema
    from privsynth.validation import validate

    schema = flights_schema()
    raw = pd.read_csv(DATASETS / "nycflights13" / "flights.csv.gz", usecols=list(schema.names))
    df = validate(raw[list(schema.names)], schema)
    rng = np.random.default_rng(1)
    df = df.iloc[rng.choice(len(df), 40_000, replace=False)].reset_index(drop=True)
    return Dataset("flights", df.iloc[:30_000].reset_index(drop=True),
                   df.iloc[30_000:].reset_index(drop=True), schema, "origin", "JFK",
                   ("nycflights13, 40,000 rows drawn (seed 1): 30,000 train / 10,000 test; "
                    "held out from tuning",))


LOADERS = {"adult500": load_adult500, "acs500": load_acs500, "penguins": load_penguins,
           "flights": load_flights_tstr}


def section(summary: list[dict[str, Any]]) -> list[str]:
    """Markdown lines: TSTR AUC and tvd2 of PrivBayes and the floor, per data set and epsilon."""
    tools = ("privsynth privbayes", "privsynth privbayes-target", "privsynth independent")
    rows = [r for r in summary if r["tool"] in tools and r.get("status") == "ok"]
    if not rows:
        return []
    eps = sorted({r["epsilon"] for r in rows})
    by = {(r["dataset"], r["tool"], r["epsilon"]): r for r in rows}
    out = ["## Quality against the budget", "",
           "PrivBayes (its budget rule chooses caps, shares, or independent marginals from "
           "the noisy row count, epsilon and the public domain sizes; see "
           "`privsynth/engines/privbayes/_budget.py`) against the floor, **independent** "
           "= PrivBayes with `degree=0`: noisy, consistent one-way marginals with the whole "
           "budget; **privbayes-target** = PrivBayes with `target=` the TSTR label (the "
           "release is declared to serve that prediction: the label is the network's root "
           "and a parent of every column). Each cell: TSTR AUC / tvd2, mean over the runs. "
           "Data sets marked *held "
           "out* never served to tune the rule (its constants were set on Adult, ACS and "
           "500- and 2,000-row draws of them). Small sets are sampled at "
           f"{SMALL_ROWS:,} synthetic rows.", "",
           "| data set | engine | " + " | ".join(f"eps {e:g}" for e in eps) + " |",
           "|---|---|" + "---|" * len(eps)]
    for ds in TITLES:
        for tool in tools:
            cells = []
            for e in eps:
                r = by.get((ds, tool, e))
                cells.append("-" if r is None or "tstr_auc" not in r else
                             f"{r['tstr_auc']:.3f} / {r['tvd2']:.3f}")
            if any(c != "-" for c in cells):
                out.append(f"| {TITLES[ds]} | {tool.split()[-1]} | " + " | ".join(cells) + " |")
    out.append("")
    return out


__all__ = ["HELD_OUT", "LOADERS", "SMALL", "SMALL_ROWS", "load_acs500", "load_adult500",
           "load_flights_tstr", "load_penguins", "section"]

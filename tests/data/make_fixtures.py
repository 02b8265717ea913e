"""Rebuild the small test fixtures of ``tests/data`` from ``../shared/datasets``.

Run from the repository root: ``python tests/data/make_fixtures.py``. The
output is deterministic (fixed seeds), so a rerun reproduces the committed
files byte for byte; ``tests/test_fixtures.py`` checks, when the shared data
sets are present, that every fixture row is a row of the original file.
See ``tests/data/SOURCE.md`` for origins and licences.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SEED = 18  # issue 18


def _integer(name: str, lo: int, hi: int, nullable: bool = False,
             description: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "kind": "integer", "lower": lo, "upper": hi,
                            "nullable": nullable}
    if description:
        spec["description"] = description
    return spec


def acs_schema(dictionary: dict[str, Any]) -> dict[str, Any]:
    """A schema dict from NIST's public data dictionary; "N" (not applicable) is missing."""
    columns: list[dict[str, Any]] = []
    for name, entry in dictionary.items():
        values = entry.get("values")
        spec: dict[str, Any] = {"name": name, "description": entry["description"]}
        if values is None:  # INDP: four-digit Census industry codes, or N
            spec.update(kind="integer", lower=0, upper=9999, nullable=True)
        elif "min" in values:
            codes = [int(k) for k in values if k not in ("min", "max", "N")]
            lower, upper = min([values["min"], *codes]), max([values["max"], *codes])
            kind = "integer" if isinstance(lower, int) and isinstance(upper, int) else "float"
            spec.update(kind=kind, lower=lower, upper=upper, nullable="N" in values)
        else:
            spec.update(kind="categorical", categories=[k for k in values if k != "N"],
                        nullable="N" in values)
        columns.append(spec)
    return {"source": "public", "columns": columns}


def planes_schema(planes: Any, flights: Any) -> dict[str, Any]:
    """Planes: FAA registry facts; model and manufacturer lists are the fixture's own."""
    keys = sorted(set(planes["tailnum"]) | set(flights.loc[flights["tailnum"] != "NA",
                                                           "tailnum"]))
    return {
        # the key, manufacturer and model lists are read from the rows (not DP)
        "source": "data (not DP)",
        "columns": [
            {"name": "tailnum", "kind": "categorical", "categories": keys,
             "description": "FAA registration (the key); every registration of the fixture"},
            _integer("year", 1950, 2013, True, "year manufactured"),
            {"name": "type", "kind": "categorical",
             "categories": ["Fixed wing multi engine", "Fixed wing single engine",
                            "Rotorcraft"]},
            {"name": "manufacturer", "kind": "categorical",
             "categories": sorted(set(planes["manufacturer"]))},
            {"name": "model", "kind": "categorical", "categories": sorted(set(planes["model"]))},
            _integer("engines", 1, 4),
            _integer("seats", 1, 500),
            _integer("speed", 0, 500, True, "average cruising speed in mph"),
            {"name": "engine", "kind": "categorical",
             "categories": ["4 Cycle", "Reciprocating", "Turbo-fan", "Turbo-jet", "Turbo-prop",
                            "Turbo-shaft"]},
        ],
    }


def flights_schema(flights: Any, carriers: list[str], keys: list[str]) -> dict[str, Any]:
    """Flights: clock times, a day either way of delay, carriers from airlines.csv."""
    return {
        # tailnum and dest lists are read from the rows (not DP)
        "source": "data (not DP)",
        "columns": [
            _integer("year", 2013, 2013), _integer("month", 1, 12), _integer("day", 1, 31),
            _integer("dep_time", 0, 2400, True), _integer("sched_dep_time", 0, 2400),
            _integer("dep_delay", -1440, 1440, True), _integer("arr_time", 0, 2400, True),
            _integer("sched_arr_time", 0, 2400), _integer("arr_delay", -1440, 1440, True),
            {"name": "carrier", "kind": "categorical", "categories": carriers},
            _integer("flight", 1, 9999),
            {"name": "tailnum", "kind": "categorical", "categories": keys, "nullable": True,
             "description": "FAA registration: the foreign key to planes (some are not there)"},
            {"name": "origin", "kind": "categorical", "categories": ["EWR", "JFK", "LGA"]},
            {"name": "dest", "kind": "categorical", "categories": sorted(set(flights["dest"]))},
            _integer("air_time", 0, 1440, True), _integer("distance", 0, 5000),
            _integer("hour", 0, 24), _integer("minute", 0, 59),
            {"name": "time_hour", "kind": "datetime", "lower": "2013-01-01",
             "upper": "2014-01-01T23:00:00", "resolution": "h"},
        ],
    }


def main(shared: Path) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(SEED)

    def pick(n_total: int, n: int) -> Any:
        return np.sort(rng.choice(n_total, size=n, replace=False))

    def write_json(name: str, data: Any) -> None:
        (HERE / name).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n",
                                 encoding="utf-8")

    # Adult: 400 rows of the bundled (cleaned) training split, in its format
    from privsynth.datasets import load_adult

    adult = load_adult("train")
    adult.iloc[pick(len(adult), 400)].to_csv(HERE / "adult_sample.csv", index=False)
    shutil.copyfile(shared / "adult" / "adult.names", HERE / "adult.names")

    # NIST ACS: 400 rows as text, the dictionary, the schema written from it
    acs = pd.read_csv(shared / "nist_acs" / "national2019.csv", dtype=str,
                      keep_default_na=False)
    acs.iloc[pick(len(acs), 400)].to_csv(HERE / "acs_sample.csv", index=False)
    shutil.copyfile(shared / "nist_acs" / "data_dictionary.json", HERE / "acs_dictionary.json")
    dictionary = json.loads((HERE / "acs_dictionary.json").read_text(encoding="utf-8"))
    write_json("acs.schema.json", acs_schema(dictionary))

    # penguins: the whole file (344 rows)
    shutil.copyfile(shared / "penguins" / "penguins.csv", HERE / "penguins.csv")

    # nycflights13: 60 planes, 400 of their flights (each plane at least once), 40 flights
    # whose plane is not in
    # planes.csv and 10 without a tailnum (the real parent/child tables' properties)
    folder = shared / "nycflights13"
    planes = pd.read_csv(folder / "planes.csv", dtype=str, keep_default_na=False)
    flights = pd.read_csv(folder / "flights.csv.gz", dtype=str, keep_default_na=False)
    flown = planes[planes["tailnum"].isin(set(flights["tailnum"]))].reset_index(drop=True)
    planes_fx = flown.iloc[pick(len(flown), 60)]
    known = flights["tailnum"].isin(set(planes_fx["tailnum"]))
    orphan = (flights["tailnum"] != "NA") & ~flights["tailnum"].isin(set(planes["tailnum"]))
    no_key = flights["tailnum"] == "NA"
    # one flight of every plane first, so that each plane is a parent of some flight
    tails = flights["tailnum"].to_numpy()
    rows = [np.array([rng.choice(np.flatnonzero(tails == t)) for t in planes_fx["tailnum"]])]
    rest = np.setdiff1d(np.flatnonzero(known.to_numpy()), rows[0])
    rows.append(rest[pick(len(rest), 400 - len(planes_fx))])
    for mask, n in ((orphan, 40), (no_key, 10)):
        idx = np.flatnonzero(mask.to_numpy())
        rows.append(idx[pick(len(idx), n)])
    flights_fx = flights.iloc[np.sort(np.concatenate(rows))]
    planes_fx.to_csv(HERE / "planes_sample.csv", index=False)
    flights_fx.to_csv(HERE / "flights_sample.csv", index=False)
    carriers = pd.read_csv(folder / "airlines.csv", dtype=str)["carrier"].tolist()
    keys = sorted(set(planes_fx["tailnum"])
                  | set(flights_fx.loc[flights_fx["tailnum"] != "NA", "tailnum"]))
    write_json("planes.schema.json", planes_schema(planes_fx, flights_fx))
    write_json("flights.schema.json", flights_schema(flights_fx, carriers, keys))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1
         else HERE.parents[2] / "shared" / "datasets")

"""PrivBayes counted on Dask: time per million rows and peak memory, against rows and workers.

The data is nycflights13 (``../shared/datasets/nycflights13``) replicated:
every partition is a fresh bootstrap sample of its 336,776 rows, generated on
the workers, so the table is never held in memory as a whole. 20 columns: the
19 of the file plus ``weekday``. Only the encoded codes (two bytes per cell
here, as ``tailnum`` has 4,044 codes) are kept on the workers between passes
(``persist=True``). Every configuration runs in a fresh child process, with a
``distributed.LocalCluster`` of one worker with N threads (``--processes``:
N worker processes).

The schema is written here from the data dictionary of nycflights13, except
the ``tailnum`` and ``dest`` category lists, which are read from the data:
this is a throughput benchmark, not a private release.

Usage::

    python -m benchmarks.bench_dask --rows 1e6 5e6 --workers 1 2
    python -m benchmarks.bench_dask --rows 1e6 5e6 10e6 50e6 --workers 1 2 \
        --files /tmp/flights_parquet --files-rows 10e6                     # full run

Results go to ``benchmarks/results/dask_scale.json`` (``--out``) and a table
to stdout. Peak memory is the largest sum of the resident sizes of the
child process and its worker processes, sampled every 0.2 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from privsynth.schema import Schema

ROOT = Path(__file__).resolve().parents[1]
FLIGHTS = ROOT.parent / "shared" / "datasets" / "nycflights13" / "flights.csv.gz"
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
CARRIERS = ["9E", "AA", "AS", "B6", "DL", "EV", "F9", "FL", "HA", "MQ", "OO", "UA", "US",
            "VX", "WN", "YV"]


@lru_cache(maxsize=1)
def base_frame() -> pd.DataFrame:
    """The validated flights table plus ``weekday`` (loaded once per process)."""
    from privsynth.io import read_table

    raw = read_table(FLIGHTS, missing_values=("", "NA"))
    raw["weekday"] = pd.to_datetime(raw["time_hour"]).dt.day_of_week.map(
        dict(enumerate(WEEKDAYS)))
    return read_table(raw, schema=flights_schema(), missing_values=("", "NA"))


@lru_cache(maxsize=1)
def flights_schema() -> Schema:
    raw = pd.read_csv(FLIGHTS, usecols=["tailnum", "dest"], dtype=str)
    cats = {c: sorted(raw[c].dropna().unique().tolist()) for c in ("tailnum", "dest")}

    def integer(name: str, lo: int, hi: int, nullable: bool = False) -> dict[str, Any]:
        return {"name": name, "kind": "integer", "lower": lo, "upper": hi, "nullable": nullable}

    cols = [
        integer("year", 2013, 2013), integer("month", 1, 12), integer("day", 1, 31),
        integer("dep_time", 1, 2400, True), integer("sched_dep_time", 0, 2359),
        integer("dep_delay", -100, 1500, True), integer("arr_time", 1, 2400, True),
        integer("sched_arr_time", 0, 2359), integer("arr_delay", -100, 1500, True),
        {"name": "carrier", "kind": "categorical", "categories": CARRIERS},
        integer("flight", 1, 9999),
        {"name": "tailnum", "kind": "categorical", "categories": cats["tailnum"],
         "nullable": True},
        {"name": "origin", "kind": "categorical", "categories": ["EWR", "JFK", "LGA"]},
        {"name": "dest", "kind": "categorical", "categories": cats["dest"]},
        integer("air_time", 0, 800, True), integer("distance", 0, 5000),
        integer("hour", 0, 23), integer("minute", 0, 59),
        {"name": "time_hour", "kind": "datetime", "lower": "2013-01-01T00:00:00",
         "upper": "2014-01-01T23:00:00", "resolution": "h"},
        {"name": "weekday", "kind": "categorical", "categories": WEEKDAYS},
    ]
    return Schema.from_dict({"columns": cols, "source": "data (not DP)"})


def partition(index: int, rows: int) -> pd.DataFrame:
    """Partition ``index``: a bootstrap sample of the flights (seeded by ``index``)."""
    base = base_frame()
    rng = np.random.default_rng(index)
    return base.iloc[rng.integers(0, len(base), rows)].reset_index(drop=True)


class PeakMemory:
    """Largest summed RSS of this process and its children, sampled in a thread."""

    def __init__(self, every: float = 0.2) -> None:
        import psutil

        self._proc = psutil.Process()
        self._every = every
        self.peak = 0
        self.driver_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        total = 0
        for p in [self._proc, *self._proc.children(recursive=True)]:
            try:
                rss = p.memory_info().rss
            except Exception:  # a worker may exit between listing and reading
                continue
            total += rss
            if p.pid == self._proc.pid:
                self.driver_peak = max(self.driver_peak, rss)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self._every)

    def __enter__(self) -> PeakMemory:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def run_one(rows: int, workers: int, part_rows: int, epsilon: float, processes: bool
            ) -> dict[str, Any]:
    """Fit on ``rows`` generated rows with a LocalCluster of ``workers`` threads (or processes)."""
    import dask
    import dask.dataframe as dd
    import distributed

    from benchmarks import bench_dask as mod  # pickled by reference on the workers
    from privsynth import PrivBayes
    from privsynth.mechanisms import InsecureNoiseWarning, Noise

    schema = mod.flights_schema()
    n_parts = max(1, -(-rows // part_rows))
    sizes = [part_rows] * (n_parts - 1) + [rows - part_rows * (n_parts - 1)]
    load0 = os.getloadavg()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with PeakMemory() as mem, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=workers if processes else 1, threads_per_worker=1 if processes else workers,
            processes=processes, dashboard_address=None,
            # an in-process worker would count the driver's memory as its own and
            # pause; the 8 GB target is checked on the measured peak instead
            memory_limit="3.5GB" if processes else 0)
        client = distributed.Client(cluster)
        try:
            # the column types, from one row made on a worker (the driver never loads the data)
            meta = client.submit(mod.partition, 0, 1).result().iloc[:0]
            ddf = dd.from_delayed([dask.delayed(mod.partition)(i, n) for i, n in enumerate(sizes)],
                                  meta=meta, verify_meta=False)
            warnings.simplefilter("ignore", InsecureNoiseWarning)
            model = PrivBayes()
            marks: dict[str, float] = {}

            def mark(msg: str) -> None:
                # phase times from the engine's progress messages (last of each first word)
                marks[msg.split()[0]] = time.perf_counter()

            model._log = mark  # type: ignore[method-assign]
            t0 = time.perf_counter()
            model.fit(ddf, schema=schema, epsilon=epsilon, noise=Noise.insecure_for_tests(0))
            fit_s = time.perf_counter() - t0
        finally:
            client.close()
            cluster.close()
    load1 = os.getloadavg()
    return {"rows": rows, "columns": len(schema.names), "workers": workers,
            "started_utc": started,
            "mode": "processes" if processes else "threads", "partitions": n_parts,
            "fit_s": fit_s, "s_per_million_rows": fit_s / (rows / 1e6),
            # generate + validate + encode (persisted) + one-way counts
            "encode_histograms_s": marks["encoded"] - t0,
            # subsample pass, then the driver's exponential-mechanism search on it
            "structure_s": marks["structure"] - marks["levels"],
            # one pass over the persisted codes for all joint tables, noise in the driver
            "tables_s": marks["conditional"] - marks["structure"],
            "peak_rss_gb": mem.peak / 1e9, "driver_peak_rss_gb": mem.driver_peak / 1e9,
            "degree": model.describe()["degree"],
            "loadavg_1min_before": load0[0], "loadavg_1min_after": load1[0],
            "noisy_rows": round(model.n_hat_)}


def write_files(rows: int, part_rows: int, folder: Path) -> int:
    """Write ``rows`` generated rows to Parquet files in ``folder``, one partition at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    n_parts = max(1, -(-rows // part_rows))
    for i in range(n_parts):
        n = min(part_rows, rows - i * part_rows)
        partition(i, n).to_parquet(folder / f"part{i:05d}.parquet", index=False)
    return n_parts


def run_files(rows: int, workers: int, epsilon: float, folder: Path, backend: str
              ) -> dict[str, Any]:
    """Fit on the Parquet files in ``folder`` with the dask or the chunked backend."""
    import distributed

    from privsynth import PrivBayes
    from privsynth.mechanisms import InsecureNoiseWarning, Noise

    schema = flights_schema()
    load0 = os.getloadavg()
    with PeakMemory() as mem, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = client = None
        if backend == "dask":
            cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=workers,
                                               processes=False, dashboard_address=None)
            client = distributed.Client(cluster)
        try:
            warnings.simplefilter("ignore", InsecureNoiseWarning)
            t0 = time.perf_counter()
            model = PrivBayes().fit(str(folder / "*.parquet"), schema=schema, epsilon=epsilon,
                                    backend=backend, noise=Noise.insecure_for_tests(0))
            fit_s = time.perf_counter() - t0
        finally:
            if client is not None and cluster is not None:
                client.close()
                cluster.close()
    digest = hashlib.sha256(b"".join(t.tobytes() for t in model.tables_)).hexdigest()[:16]
    return {"rows": rows, "columns": len(schema.names), "source": "parquet files",
            "backend": backend, "workers": workers if backend == "dask" else 1,
            "fit_s": fit_s, "s_per_million_rows": fit_s / (rows / 1e6),
            "peak_rss_gb": mem.peak / 1e9, "loadavg_1min_before": load0[0],
            "tables_digest": digest}


def _child(args: list[str]) -> dict[str, Any]:
    """Run one configuration in a fresh process, so that memory peaks do not carry over."""
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_dask", "--one", *args],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark child failed: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=float, nargs="+", default=[1e6, 5e6])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--partition-rows", type=int, default=500_000)
    ap.add_argument("--epsilon", type=float, default=1.0)
    ap.add_argument("--processes", action="store_true",
                    help="N worker processes instead of one worker with N threads")
    ap.add_argument("--files", type=Path,
                    help="also write --files-rows rows to Parquet files in this folder and "
                         "compare the dask and chunked backends on them")
    ap.add_argument("--files-rows", type=float, default=2e6)
    ap.add_argument("--one", nargs="+", help=argparse.SUPPRESS)  # internal: one child run
    ap.add_argument("--append", action="store_true",
                    help="keep the runs already in --out and add these")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" /
                    "dask_scale.json")
    args = ap.parse_args(argv)
    if not FLIGHTS.is_file():
        print(f"nycflights13 not found at {FLIGHTS}", file=sys.stderr)
        return 2
    if args.one:
        kind, rows_s, workers_s, *rest = args.one
        if kind == "generated":
            r = run_one(int(rows_s), int(workers_s), args.partition_rows, args.epsilon,
                        args.processes)
        else:
            r = run_files(int(rows_s), int(workers_s), args.epsilon, Path(rest[0]), kind)
        print(json.dumps(r))
        return 0
    results = []
    print(f"{'rows':>12} {'workers':>7} {'parts':>5} {'fit s':>8} {'s/M rows':>9} "
          f"{'encode s':>8} {'struct s':>8} {'tables s':>8} {'peak GB':>8} {'load':>5}",
          flush=True)
    for rows in args.rows:
        for w in args.workers:
            r = _child(["generated", str(int(rows)), str(w), "--partition-rows",
                        str(args.partition_rows), "--epsilon", str(args.epsilon)]
                       + (["--processes"] if args.processes else []))
            results.append(r)
            print(f"{r['rows']:>12,} {w:>7} {r['partitions']:>5} {r['fit_s']:>8.1f} "
                  f"{r['s_per_million_rows']:>9.2f} {r['encode_histograms_s']:>8.1f} "
                  f"{r['structure_s']:>8.1f} {r['tables_s']:>8.1f} {r['peak_rss_gb']:>8.2f} "
                  f"{r['loadavg_1min_before']:>5.1f}", flush=True)
    file_runs: list[dict[str, Any]] = []
    if args.files:
        n_files = int(args.files_rows)
        if not any(args.files.glob("*.parquet")):
            write_files(n_files, args.partition_rows, args.files)
        for backend in ("dask", "chunked"):
            r = _child([backend, str(n_files), str(max(args.workers)), str(args.files),
                        "--epsilon", str(args.epsilon)])
            file_runs.append(r)
            print(f"files {r['rows']:>12,} {r['backend']:>8} workers={r['workers']} "
                  f"fit {r['fit_s']:.1f} s, {r['s_per_million_rows']:.2f} s/M rows, "
                  f"peak {r['peak_rss_gb']:.2f} GB, tables {r['tables_digest']}", flush=True)
    summary = {"benchmark": "privbayes_dask_scale", "cpu_count": os.cpu_count(),
               "argv": sys.argv[1:] if argv is None else argv,
               "note": "machine shared with other jobs; see loadavg fields", "runs": results,
               "file_runs": file_runs}
    if args.append and args.out.is_file():
        old = json.loads(args.out.read_text(encoding="utf-8"))
        summary["runs"] = old.get("runs", []) + results
        summary["file_runs"] = old.get("file_runs", []) + file_runs
        prev = old.get("argv", [])
        prev = prev if prev and isinstance(prev[0], list) else [prev]
        summary["argv"] = [*prev, summary["argv"]]  # one argument list per session
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

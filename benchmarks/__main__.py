"""``python -m benchmarks``: run the benchmarks and write docs/benchmarks.md.

Commands::

    python -m benchmarks run --quick     # a few minutes: ours everywhere, the fast peers once
    python -m benchmarks run             # the full plan (hours on a 2-core machine)
    python -m benchmarks run --only peers --peers aim:binned --name adult_aim
    python -m benchmarks report          # re-render docs/benchmarks.md from results/*.json

Every ``run`` writes ``benchmarks/results/<name>.json`` (default ``quick`` or
``full``) and re-renders ``docs/benchmarks.md`` from all result files in that folder.
The peers need their own virtualenv: ``bash benchmarks/peers/setup_venv.sh``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

if os.environ.get("PRIVSYNTH_SRC"):
    # Benchmark another tree of privsynth (e.g. `git archive HEAD` while the working tree
    # holds unfinished edits): it must come before the editable install on the path.
    sys.path.insert(0, os.environ["PRIVSYNTH_SRC"])

from benchmarks import harness
from benchmarks.harness import render

FAST_PEERS = ["ds_independent:raw", "ds_independent:binned", "ds_correlated:raw",
              "ds_correlated:binned", "mst:raw", "mst:binned"]
SLOW_PEERS = ["aim:binned", "dpctgan:raw", "patectgan:raw"]

PLANS: dict[str, dict[str, Any]] = {
    "quick": {
        "datasets": ["adult", "acs"], "epsilons": [0.3, 1.0, 3.0, 10.0], "seeds": 3,
        "engines": ["privbayes"],
        "curve_datasets": ["adult", "acs", "adult500", "acs500", "penguins", "flights"],
        "peers": ["ds_independent:raw", "mst:binned"], "peer_datasets": ["adult"],
        "peer_epsilons": [1.0], "peer_seeds": 1,
        "slow_peers": [], "scale_rows": [10_000, 30_000, 100_000],
        "scale_columns": [4, 9, 14], "scale_columns_rows": 30_000, "risk_records": 1000,
    },
    "full": {
        "datasets": ["adult", "acs"], "epsilons": [0.3, 1.0, 3.0, 10.0], "seeds": 3,
        "engines": ["privbayes", "dpctgan"],
        "curve_datasets": ["adult", "acs", "adult500", "acs500", "penguins", "flights"],
        "peers": FAST_PEERS, "peer_datasets": ["adult", "acs"],
        "peer_epsilons": [0.3, 1.0, 3.0], "peer_seeds": 3,
        "slow_peers": SLOW_PEERS, "scale_rows": [10_000, 30_000, 100_000, 300_000, 1_000_000],
        "scale_columns": [2, 4, 7, 10, 14], "scale_columns_rows": 100_000, "risk_records": 2000,
    },
}


def _csv(text: str) -> list[str]:
    return [t for t in text.split(",") if t]


def cmd_run(args: argparse.Namespace) -> int:
    plan = dict(PLANS["quick" if args.quick else "full"])
    for key in ("datasets", "engines", "peers", "peer_datasets", "slow_peers",
                "curve_datasets", "curve_engines"):
        val = getattr(args, key)
        if val is not None:
            plan[key] = _csv(val)
    for key in ("epsilons", "peer_epsilons"):
        val = getattr(args, key)
        if val is not None:
            plan[key] = [float(x) for x in _csv(val)]
    for key in ("seeds", "peer_seeds"):
        if getattr(args, key) is not None:
            plan[key] = getattr(args, key)
    only = set(_csv(args.only)) if args.only else {"ours", "curve", "peers", "slow", "scale"}
    name = args.name or ("quick" if args.quick else "full")
    h = harness.Harness(rows=args.rows, risk_records=plan["risk_records"],
                        peer_timeout=args.timeout)
    info = harness.machine_info()
    print(f"machine: {info['host_cpu']} x{info['cpus']}, load {info['loadavg_start']}; "
          f"work dir {h.workdir}", flush=True)
    results: dict[str, Any] = {"format": harness.RESULT_FORMAT, "name": name, "plan": plan,
                               "only": sorted(only), "machine": info, "rows": args.rows,
                               "records": h.records, "scale": []}
    out = harness.RESULTS / f"{name}.json"
    t0 = time.perf_counter()

    def checkpoint() -> None:
        results["wall_s"] = time.perf_counter() - t0
        results["machine"]["loadavg_end"] = list(os.getloadavg())
        harness.save(results, out)

    results["reference"] = {}
    for ds in plan["datasets"] if "ours" in only else plan["peer_datasets"]:
        results["reference"][ds] = harness.reference(h.data(ds))
    if "curve" in only:
        for ds in plan["curve_datasets"]:
            results["reference"].setdefault(ds, harness.reference(h.data(ds)))
    if "ours" in only:
        for ds in plan["datasets"]:
            for engine in plan["engines"]:
                if engine == "dpctgan" and (args.quick or ds != "adult"):
                    # quick: the report reads bench_dpctgan.py's results/dpctgan_adult.json
                    continue
                for eps in plan["epsilons"]:
                    seeds = plan["seeds"] if engine == "privbayes" else 1
                    for seed in range(seeds):
                        h.run_ours(ds, engine, eps, seed)
                        checkpoint()
    if "curve" in only:
        # quality against the budget: PrivBayes on the small and held-out sets, and the
        # independent floor everywhere (budget_curve.py); no attacks (time)
        risk_records, h.risk_records = h.risk_records, 0
        for ds in plan["curve_datasets"]:
            for engine in plan.get("curve_engines", ("privbayes", "independent")):
                if engine == "privbayes" and ds in plan["datasets"]:
                    continue  # the "ours" part runs PrivBayes there
                for eps in plan["epsilons"]:
                    for seed in range(plan["seeds"]):
                        h.run_ours(ds, engine, eps, seed)
                        checkpoint()
        h.risk_records = risk_records
    if "peers" in only:
        for ds in plan["peer_datasets"]:
            for spec in plan["peers"]:
                tool, mode = spec.split(":")
                if ds != "adult" and mode == "raw":
                    continue  # raw ACS ("N" codes in numeric columns) is not a fair input
                for eps in plan["peer_epsilons"]:
                    for seed in range(plan["peer_seeds"] if eps == 1.0 else 1):
                        h.run_peer(ds, tool, mode, eps, seed)
                        checkpoint()
    if "slow" in only:
        for spec in plan["slow_peers"]:
            tool, mode = spec.split(":")
            h.run_peer("adult", tool, mode, 1.0, 0)
            checkpoint()
    if "scale" in only:
        scale = results["scale"]
        for rows in plan["scale_rows"]:
            scale.append({"axis": "rows", **h.run_scale(rows, 14, 1.0)})
            checkpoint()
        for cols in plan["scale_columns"]:
            scale.append({"axis": "columns", **h.run_scale(plan["scale_columns_rows"], cols,
                                                           1.0)})
            checkpoint()
    checkpoint()
    print(f"wrote {out}", flush=True)
    if not args.no_report:
        path = render()
        print(f"wrote {path}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "_worker-ours":
        ds, engine, eps, seed, rows, out, info = argv[1:8]
        harness.worker_ours(ds, engine, float(eps), int(seed), int(rows), Path(out), Path(info))
        return 0
    if argv and argv[0] == "_worker-scale":
        rows, cols, eps, info = argv[1:5]
        harness.worker_scale(int(rows), int(cols), float(eps), Path(info))
        return 0
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run benchmarks, save results JSON, render the docs")
    run.add_argument("--quick", action="store_true", help="the few-minute plan")
    run.add_argument("--name", help="results file name (default quick/full)")
    run.add_argument("--only", help="comma list of ours,curve,peers,slow,scale")
    run.add_argument("--curve-datasets", dest="curve_datasets",
                     help="comma list: adult,acs,adult500,acs500,penguins,flights")
    run.add_argument("--curve-engines", dest="curve_engines",
                     help="comma list: privbayes,independent,privbayes-target "
                          "(default: the first two)")
    run.add_argument("--datasets", help="comma list: adult,acs")
    run.add_argument("--engines", help="comma list: privbayes,dpctgan")
    run.add_argument("--epsilons", help="comma list of epsilons for our engines")
    run.add_argument("--seeds", type=int, help="seeds of our engines")
    run.add_argument("--peers", help="comma list tool:mode, e.g. mst:binned,ds_correlated:raw")
    run.add_argument("--peer-datasets", dest="peer_datasets")
    run.add_argument("--peer-epsilons", dest="peer_epsilons")
    run.add_argument("--peer-seeds", dest="peer_seeds", type=int)
    run.add_argument("--slow-peers", dest="slow_peers", help="comma list tool:mode (Adult, eps 1)")
    run.add_argument("--rows", type=int, default=30_000, help="synthetic rows per run")
    run.add_argument("--timeout", type=float, default=1800.0, help="seconds per subprocess")
    run.add_argument("--no-report", action="store_true")
    sub.add_parser("report", help="render docs/benchmarks.md from benchmarks/results/*.json")
    args = ap.parse_args(argv)
    if args.command == "run":
        return cmd_run(args)
    print(f"wrote {render()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""DP-CTGAN on UCI Adult at epsilon = 1, delta = 1e-6 (CPU): time, fidelity, utility.

Targets (issue 6): fit + sample <= 140 s on a 2-core CPU, and better than
SmartNoise DPCTGAN on all three: 2-way TVD < 0.415, 1-way TVD < 0.257,
TSTR AUC > 0.51 (stretch: >= 0.80). Metrics as in ``../shared/anchors.md``
(:mod:`privsynth.metrics`), 30,000 synthetic rows.

Run from the repository root::

    python benchmarks/bench_dpctgan.py [--seeds 0 1 2] [--param epochs=12 ...]

Each seed is one fit in the insecure reproducible mode (``Noise.insecure_for_tests``)
so runs can be repeated; ``--secure`` uses real noise instead. ``--param``
overrides a DPCTGAN constructor parameter (a Python literal). Writes
``benchmarks/results/dpctgan_adult.json`` (per-seed rows, mean and sd) and prints
a table. Wall time depends on the machine's load, so the process CPU time
(one torch thread by default) and the load average are recorded too.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
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
from privsynth.mechanisms import InsecureNoiseWarning, Noise
from privsynth.metrics import marginal_tvd, ml_efficacy

TARGETS = {"fit_sample_seconds": 140.0, "tvd1": 0.257, "tvd2": 0.415, "tstr_auc": 0.51}
OUT = Path(__file__).resolve().parent / "results" / "dpctgan_adult.json"
METRICS = ("fit_seconds", "fit_sample_seconds", "cpu_seconds", "tvd1", "tvd2", "tstr_auc")


def run_one(seed: int | None, *, epsilon: float, delta: float, n_syn: int,
            params: dict[str, Any]) -> dict[str, object]:
    train, test, schema = load_adult("train"), load_adult("test"), adult_schema()
    acct = Accountant(epsilon, delta)
    noise = None
    if seed is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureNoiseWarning)
            noise = Noise.insecure_for_tests(seed)
    load_before = os.getloadavg()[0]
    c0, t0 = time.process_time(), time.perf_counter()
    model = DPCTGAN(**params).fit(train, schema=schema, epsilon=epsilon, delta=delta,
                                  accountant=acct, noise=noise)
    t_fit = time.perf_counter() - t0
    syn = model.sample(n_syn, random_state=0 if seed is None else seed)
    t_total, cpu = time.perf_counter() - t0, time.process_time() - c0
    ml = ml_efficacy(train, syn, test, target="income", schema=schema, n_threads=1)
    spent = acct.spent()
    return {
        "seed": seed, "epsilon_spent": spent.epsilon, "method": spent.method,
        "steps": model.steps_, "noise_multiplier": model.noise_multiplier_,
        "sampling_rate": model.sampling_rate_,
        "fit_seconds": t_fit, "fit_sample_seconds": t_total, "cpu_seconds": cpu,
        "load_average": [load_before, os.getloadavg()[0]],
        "tvd1": marginal_tvd(train, syn, way=1, schema=schema),
        "tvd2": marginal_tvd(train, syn, way=2, schema=schema),
        "tstr_auc": ml["tstr_auc"], "trtr_auc": ml["trtr_auc"],
    }


def summarize(rows: list[dict[str, object]]) -> dict[str, dict[str, float]]:
    out = {}
    for key in METRICS:
        vals = [float(r[key]) for r in rows]  # type: ignore[arg-type]
        out[key] = {"mean": statistics.fmean(vals),
                    "sd": statistics.stdev(vals) if len(vals) > 1 else 0.0}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--epsilon", type=float, default=1.0)
    ap.add_argument("--delta", type=float, default=1e-6)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--secure", action="store_true", help="real noise (seeds then only count)")
    ap.add_argument("--rows", type=int, default=30_000, help="synthetic rows")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: the machine is shared; more threads than free "
                         "cores makes torch much slower)")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    params: dict[str, Any] = {}
    for item in args.param:
        key, _, value = item.partition("=")
        params[key] = ast.literal_eval(value)
    if args.verbose:
        params["verbose"] = True

    rows = []
    for seed in args.seeds:
        row = run_one(None if args.secure else seed, epsilon=args.epsilon, delta=args.delta,
                      n_syn=args.rows, params=params)
        rows.append(row)
        print(json.dumps(row, default=str), file=sys.stderr, flush=True)
    summary = summarize(rows)
    result = {
        "benchmark": "dpctgan_adult",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "privsynth": privsynth.__version__,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "torch": torch.__version__, "torch_threads": args.threads},
        "epsilon": args.epsilon, "delta": args.delta, "synthetic_rows": args.rows,
        "noise": "secure" if args.secure else "insecure_for_tests(seed)",
        "params": {k: (list(v) if isinstance(v, tuple) else v)
                   for k, v in DPCTGAN(**params).get_params().items()},
        "targets": TARGETS, "runs": rows, "summary": summary,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")

    print(f"DP-CTGAN on Adult, epsilon={args.epsilon:g}, delta={args.delta:g}, "
          f"{len(rows)} seed(s), {args.rows} rows")
    print(f"{'metric':<20}{'mean':>10}{'sd':>10}{'target':>10}")
    for key in METRICS:
        tgt = TARGETS.get(key)
        print(f"{key:<20}{summary[key]['mean']:>10.4g}{summary[key]['sd']:>10.3g}"
              f"{'' if tgt is None else format(tgt, 'g'):>10}")
    loads = [r["load_average"] for r in rows]
    print(f"load average (1 min) before/after each run: {loads} on {os.cpu_count()} CPUs")
    ok = (summary["tvd1"]["mean"] < TARGETS["tvd1"] and summary["tvd2"]["mean"] < TARGETS["tvd2"]
          and summary["tstr_auc"]["mean"] > TARGETS["tstr_auc"]
          and summary["fit_sample_seconds"]["mean"] <= TARGETS["fit_sample_seconds"])
    print("targets met" if ok else "targets NOT met (see the load average for time)")
    print(f"written to {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

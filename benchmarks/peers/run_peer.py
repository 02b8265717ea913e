"""Run one peer DP synthesizer on a CSV and write its synthetic CSV plus a timing JSON.

Executed with the *peers* virtualenv's python (see ``setup_venv.sh``), never with
the project's: the peers are not dependencies of privsynth, and this file must
not import privsynth.

Usage::

    $PEERS_VENV/bin/python benchmarks/peers/run_peer.py --tool mst --train train.csv \
        --config config.json --epsilon 1 --seed 0 --rows 30000 --out syn.csv --json run.json

``config.json`` holds ``{"categorical": [...], "continuous": {name: [lower, upper]},
"integer": [...]}``. With ``"prebinned": true`` every column is a public bin code
and ``"domains": {name: size}`` gives the public number of codes.

Tools: ``ds_independent``, ``ds_correlated`` (DataSynthesizer), ``mst``, ``aim``,
``dpctgan``, ``patectgan`` (SmartNoise Synth).

The JSON records wall time and peak resident memory (``ru_maxrss``) after the fit
and after sampling, measured inside this process, the tool version, and notes on
what the tool reads from the data outside its budget.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

MISSING_TOKEN = "__missing__"


def _rss_mb() -> float:
    # VmHWM, not ru_maxrss: after exec, ru_maxrss still counts the launching process's peak.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                own = int(line.split()[1])
    except OSError:
        pass
    # DataSynthesizer's correlated mode forks worker processes: count the largest of them.
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def _cpu_s() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _version(name: str) -> str:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return "not installed"


def _seed_all(seed: int) -> None:
    # The peers draw from the global generators; seeding them is the only handle.
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the peers read the legacy global state
    try:
        import torch

        torch.manual_seed(seed)
        torch.set_num_threads(int(os.environ.get("PEERS_THREADS", "1")))
    except ImportError:
        pass


def _read(path: Path, config: dict[str, Any]) -> pd.DataFrame:
    cats = set(config.get("categorical", []))
    if config.get("prebinned"):
        cats = set(config["domains"])
    dtype = {c: str for c in cats}
    df = pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""])
    for c in cats:
        # Missing is a category of its own: several peers crash on NaN in categoricals.
        df[c] = df[c].fillna(MISSING_TOKEN).astype(str)
    return df


def run_datasynthesizer(df: pd.DataFrame, config: dict[str, Any], mode: str, epsilon: float,
                        seed: int, rows: int, workdir: Path) -> tuple[pd.DataFrame, dict]:
    from DataSynthesizer.DataDescriber import DataDescriber
    from DataSynthesizer.DataGenerator import DataGenerator

    src = workdir / "train.csv"
    df.to_csv(src, index=False)
    cats = set(config["domains"]) if config.get("prebinned") else set(config["categorical"])
    is_cat = {c: c in cats for c in df.columns}
    desc = workdir / "description.json"
    t0 = time.perf_counter()
    describer = DataDescriber(category_threshold=1)
    if mode == "independent":
        describer.describe_dataset_in_independent_attribute_mode(
            dataset_file=str(src), epsilon=epsilon, attribute_to_is_categorical=is_cat,
            attribute_to_is_candidate_key={c: False for c in df.columns}, seed=seed)
    else:
        describer.describe_dataset_in_correlated_attribute_mode(
            dataset_file=str(src), epsilon=epsilon, k=2, attribute_to_is_categorical=is_cat,
            attribute_to_is_candidate_key={c: False for c in df.columns}, seed=seed)
    describer.save_dataset_description_to_file(str(desc))
    fit_s = time.perf_counter() - t0
    fit_rss = _rss_mb()
    t1 = time.perf_counter()
    gen = DataGenerator()
    if mode == "independent":
        gen.generate_dataset_in_independent_mode(rows, str(desc), seed=seed)
    else:
        gen.generate_dataset_in_correlated_attribute_mode(rows, str(desc), seed=seed)
    syn = gen.synthetic_dataset
    sample_s = time.perf_counter() - t1
    notes = ["reads category lists and numeric min/max from the private data without DP"]
    if mode == "correlated":
        notes.append("correlated mode: anchors.md measured about 2x the stated epsilon spent")
    return syn, {"fit_s": fit_s, "sample_s": sample_s, "fit_peak_rss_mb": fit_rss,
                 "version": _version("DataSynthesizer"), "notes": notes}


def run_smartnoise(df: pd.DataFrame, config: dict[str, Any], tool: str, epsilon: float,
                   rows: int) -> tuple[pd.DataFrame, dict]:
    from snsynth import Synthesizer

    notes: list[str] = ["category lists are read from the private data (no DP)"]
    kwargs: dict[str, Any] = {}
    if tool in ("dpctgan", "patectgan"):
        kwargs["epochs"] = int(config.get("epochs", 20))
    synth = Synthesizer.create(tool, epsilon=epsilon, verbose=False, **kwargs)
    if config.get("prebinned"):
        categorical = list(df.columns)
        continuous: list[str] = []
        pre_eps = 0.0
    else:
        categorical = list(config["categorical"])
        continuous = list(config["continuous"])
        # SmartNoise's own default usage: a share of the budget finds DP bounds for the
        # continuous columns (anchors.md: a tenth), the rest goes to the synthesizer.
        pre_eps = 0.1 * epsilon if continuous else 0.0
        if continuous:
            notes.append(f"spends epsilon {pre_eps:g} of the total on DP bounds of numeric columns")
    t0 = time.perf_counter()
    fit_kwargs: dict[str, Any] = {"categorical_columns": categorical,
                                  "continuous_columns": continuous,
                                  "preprocessor_eps": pre_eps}
    if tool in ("mst", "aim"):
        fit_kwargs.pop("continuous_columns")
        if continuous:
            fit_kwargs["continuous_columns"] = continuous
    synth.fit(df, **fit_kwargs)
    fit_s = time.perf_counter() - t0
    fit_rss = _rss_mb()
    t1 = time.perf_counter()
    syn = synth.sample(rows)
    sample_s = time.perf_counter() - t1
    return syn, {"fit_s": fit_s, "sample_s": sample_s, "fit_peak_rss_mb": fit_rss,
                 "version": _version("smartnoise-synth"), "notes": notes}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tool", required=True,
                    choices=["ds_independent", "ds_correlated", "mst", "aim", "dpctgan",
                             "patectgan"])
    ap.add_argument("--train", type=Path, required=True)
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--epsilon", type=float, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args(argv)

    config = json.loads(args.config.read_text(encoding="utf-8"))
    df = _read(args.train, config)
    _seed_all(args.seed)
    base_rss = _rss_mb()
    c0 = _cpu_s()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if args.tool.startswith("ds_"):
            syn, info = run_datasynthesizer(df, config, args.tool[3:], args.epsilon, args.seed,
                                            args.rows, Path(tmp))
        else:
            syn, info = run_smartnoise(df, config, args.tool, args.epsilon, args.rows)
    total = time.perf_counter() - t0
    syn = pd.DataFrame(syn)[list(df.columns)]
    syn = syn.replace(MISSING_TOKEN, np.nan)
    syn.to_csv(args.out, index=False)
    info.update({"tool": args.tool, "epsilon": args.epsilon, "seed": args.seed,
                 "rows": args.rows, "fit_sample_s": info["fit_s"] + info["sample_s"],
                 "with_imports_and_io_s": total,
                 "fit_sample_cpu_s": _cpu_s() - c0, "baseline_rss_mb": base_rss,
                 "peak_rss_mb": _rss_mb(), "python": sys.version.split()[0],
                 "numpy": np.__version__, "pandas": pd.__version__})
    args.json.write_text(json.dumps(info, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where PrivBayes(target=...) loses TSTR AUC at large epsilon: the caps' ceilings.

Issue 21 asks for TSTR AUC Adult eps 10 >= 0.915, ACS eps 10 >= 0.88, eps 3 >= 0.86.
This scratch diagnostic fits ``PrivBayes(target=label)`` at epsilon 10, 100 and 1e4
(at 1e4 the noise is negligible: the AUC there is the model class's ceiling under
the chosen caps) and then raises one cap at a time, through the engine's public
parameters or a patched constant of ``privsynth.engines.privbayes._budget``.

Scores are those of the harness (``benchmarks.harness.score``: tvd1, tvd2, TSTR AUC
with HistGradientBoosting on 30,000 synthetic rows). Noise is seeded
(``Noise.insecure_for_tests(seed)``) so configurations are compared on paired seeds;
nothing here is a release. Each run appends one JSON line to ``--out``.

Usage::

    python benchmarks/diag_caps.py --data adult --eps 10 1e4 --config default pl32 \
        --seeds 0 1 2 --out /tmp/diag.jsonl
    python benchmarks/diag_caps.py --summary /tmp/diag.jsonl
    python benchmarks/diag_caps.py --collect /tmp/diag.jsonl   # -> results/diag_caps.json

``section`` renders the "Where the AUC is lost" part of docs/benchmarks.md from
``benchmarks/results/diag_caps.json`` (not a harness-format file: ``load_results``
ignores it).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

#: The records rendered into docs/benchmarks.md.
OUT = Path(__file__).resolve().parent / "results" / "diag_caps.json"

#: name -> (engine keyword arguments, patched constants of _budget, patched of _structure)
CONFIGS: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "default": ({}, {}, {}),
    "notarget": ({"target": None}, {}, {}),
    # parents coarsened less (the rule's ceiling is 16)
    "pl32": ({}, {"MAX_PARENT_LEVELS": 32}, {}),
    "pl64": ({}, {"MAX_PARENT_LEVELS": 64}, {}),
    # child levels (the rule's ceiling is 64)
    "lv128": ({}, {"MAX_LEVELS": 128}, {}),
    "lv256": ({}, {"MAX_LEVELS": 256}, {}),
    # degree (the rule's ceiling is 5)
    "deg7": ({}, {"MAX_DEGREE": 7}, {}),
    "deg2": ({"max_degree": 2}, {}, {}),
    # public bins (the rule's ceiling is 1024)
    "bins2048": ({}, {"MAX_BINS": 2048}, {}),
    # structure share fixed at the old 0.3 / at 0.1
    "ss30": ({"structure_share": 0.3}, {}, {}),
    "ss05": ({"structure_share": 0.05}, {}, {}),
    "ss10": ({"structure_share": 0.1}, {}, {}),
    # the caps of epsilon 100 forced at a smaller budget
    "L64P16": ({"max_levels": 64, "max_parent_levels": 16}, {}, {}),
    # theta (usefulness threshold)
    "theta1": ({"theta": 1.0}, {}, {}),
    "theta16": ({"theta": 16.0}, {}, {}),
    # resource cap of one table
    "cells1e7": ({"max_clique_cells": 10_000_000}, {}, {}),
    # more candidates per structure step
    "cand20k": ({}, {}, {"MAX_CANDIDATES": 20_000}),
    # the fit states delta 1e-6: discrete Gaussian tables calibrated by PLD
    "delta6": ({"_delta": 1e-6}, {}, {}),
    "delta9": ({"_delta": 1e-9}, {}, {}),
    # ceilings, not DP: the label redrawn by a classifier trained on the real rows
    # (is the label's model the limit?), and the real rows through the levels (are
    # the levels the limit?)
    "label-hgb": ({"_ceiling": "label"}, {}, {}),
    "real-levels": ({"_ceiling": "levels"}, {}, {}),
}


def _patch(module: Any, values: dict[str, Any]) -> dict[str, Any]:
    old = {k: getattr(module, k) for k in values}
    for k, v in values.items():
        setattr(module, k, v)
    return old


def run_one(data: Any, config: str, eps: float, seed: int, rows: int,
            tvd: bool) -> dict[str, Any]:
    from benchmarks.harness import score
    from privsynth.engines.privbayes import PrivBayes, _budget, _structure
    from privsynth.mechanisms import Noise
    from privsynth.metrics import ml_efficacy

    kwargs, budget_patch, struct_patch = CONFIGS[config]
    kw = {"target": data.target, **kwargs}
    delta = kw.pop("_delta", 0.0)
    ceiling = kw.pop("_ceiling", None)
    if kw["target"] is None:
        del kw["target"]
    old_b = _patch(_budget, budget_patch)
    old_s = _patch(_structure, struct_patch)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            noise = Noise.insecure_for_tests(seed)
            t0 = time.perf_counter()
            model = PrivBayes(**kw).fit(data.train, schema=data.schema, epsilon=eps,
                                        delta=delta, noise=noise)
            fit_s = time.perf_counter() - t0
            syn = (model.sample(rows, random_state=seed) if ceiling is None
                   else _ceiling_rows(model, data, ceiling, rows, seed))
    finally:
        _patch(_budget, old_b)
        _patch(_structure, old_s)
    if tvd:
        out = score(data, syn, eps, 0)
    else:
        ml = ml_efficacy(data.train, syn, data.test, target=data.target, schema=data.schema,
                         positive=data.positive, reference=False, n_threads=1)
        out = {"tstr_auc": ml["tstr_auc"]}
    p = dict(getattr(model, "budget_", {}) or {})
    desc = {k: p.get(k) for k in ("mode", "structure_share", "cell_cap", "max_levels",
                                  "max_parent_levels", "max_degree", "max_bins")}
    net = getattr(model, "network_", None)
    degrees = [len(ps) for _, ps in net] if net is not None else []
    return {"dataset": data.name, "config": config, "epsilon": eps, "seed": seed,
            "fit_s": round(fit_s, 2), "plan": desc,
            "mean_parents": float(np.mean(degrees)) if degrees else None, **out}


def _ceiling_rows(model: Any, data: Any, kind: str, rows: int, seed: int) -> Any:
    """Rows of a ceiling (not DP): the network's feature rows with the label drawn by
    a HistGradientBoosting classifier trained on the real rows' levels (``label``), or
    the real training rows themselves through the levels and back (``levels``)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from privsynth.engines.privbayes._draw import ancestral_levels

    fine = model._discretizer.encode(data.train)
    real = np.stack([lev.fine_to_level[fine[:, j]] for j, lev in enumerate(model.levels_)],
                    axis=1)
    rng = np.random.default_rng(seed)
    if kind == "levels":
        return model._decode_levels(real.copy(), {}, rng)
    tcol = list(data.schema.names).index(data.target)
    feats = [j for j in range(real.shape[1]) if j != tcol]
    clf = HistGradientBoostingClassifier(random_state=0).fit(real[:, feats], real[:, tcol])
    lv = ancestral_levels(model.network_, model.tables_, model.levels_, rows, rng)
    cdf = np.cumsum(clf.predict_proba(lv[:, feats]), axis=1)
    pick = np.minimum((rng.random(rows)[:, None] > cdf).sum(axis=1), len(clf.classes_) - 1)
    lv[:, tcol] = clf.classes_[pick]
    return model._decode_levels(lv, {}, rng)


def _groups(records: list[dict[str, Any]]) -> dict[tuple[str, float, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, float, str], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[(r["dataset"], r["epsilon"], r["config"])].append(r)
    return groups


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


#: What each configuration changes (for the docs table).
LABELS = {
    "default": "the rule's caps (`target=` the label)",
    "notarget": "the rule's caps, no `target=`",
    "pl32": "parent levels ceiling 16 -> 32", "pl64": "parent levels ceiling 16 -> 64",
    "lv128": "child levels ceiling 64 -> 128", "lv256": "child levels ceiling 64 -> 256",
    "deg7": "degree ceiling 5 -> 7", "deg2": "degree fixed at most 2",
    "bins2048": "public bins ceiling 1024 -> 2048",
    "ss30": "structure share 0.3 (fixed)", "ss10": "structure share 0.1 (fixed)",
    "ss05": "structure share 0.05 (fixed)",
    "L64P16": "levels 64, parent levels 16 (fixed)",
    "theta1": "theta 4 -> 1", "theta16": "theta 4 -> 16",
    "cells1e7": "max_clique_cells 1e6 -> 1e7", "cand20k": "structure candidates 2,000 -> 20,000",
    "delta6": "delta 1e-6 (discrete Gaussian tables)",
    "delta9": "delta 1e-9 (discrete Gaussian tables)",
    "label-hgb": "ceiling, not DP: label drawn by a classifier of the real rows",
    "real-levels": "ceiling, not DP: the real rows through the levels",
}
TITLES = {"adult": "Adult", "acs": "ACS"}


def section(path: Path = OUT) -> list[str]:
    """docs/benchmarks.md's lines on the caps' ceilings (empty without results)."""
    if not path.exists():
        return []
    groups = _groups(json.loads(path.read_text(encoding="utf-8"))["records"])
    out = ["### Where the AUC is lost at large epsilon: the caps' ceilings", "",
           "`python benchmarks/diag_caps.py` fits `PrivBayes(target=label)` at epsilon 10, "
           "100 and 10,000 (where the noise is negligible, so the AUC is the ceiling of the "
           "model class under the rule's caps) and raises one cap at a time, through the "
           "engine's parameters or a patched constant of `_budget.py` / `_structure.py`; "
           "at epsilon 1 to 10 it also states a delta (discrete Gaussian tables). Two rows "
           "are ceilings, not DP, that locate the loss: the network's feature rows with "
           "the label drawn by a HistGradientBoosting classifier trained on the real rows' "
           "levels (is the label's model the limit?), and the real training rows through "
           "the levels and back (are the levels the limit?). "
           "Scores as in the tables above (30,000 synthetic rows); the noise is seeded "
           "(insecure test mode) so every configuration sees the same seeds 0, 1, 2. Caps "
           "chosen: L child levels / P parent levels / k degree / B public bins; parents = "
           "mean parents per column of the learned network (seed 0). Each cell: TSTR AUC "
           "mean ± sd over the seeds.", "",
           "| data set | epsilon | configuration | caps | parents | TSTR AUC | tvd2 |",
           "|---|---|---|---|---|---|---|"]
    for ds in TITLES:
        for eps in sorted({k[1] for k in groups if k[0] == ds}):
            for cfg in LABELS:
                rs = groups.get((ds, eps, cfg))
                if not rs:
                    continue
                auc = [r["tstr_auc"] for r in rs]
                sd = float(np.std(auc, ddof=1)) if len(auc) > 1 else 0.0
                t2 = [r["tvd2"] for r in rs if "tvd2" in r]
                p = rs[0]["plan"]
                caps = (f"L{p['max_levels']} P{p['max_parent_levels']} k{p['max_degree']} "
                        f"B{p['max_bins']}")
                out.append(f"| {TITLES[ds]} | {eps:g} | {LABELS[cfg]} | {caps} | "
                           f"{rs[0].get('mean_parents') or 0:.1f} | "
                           f"{np.mean(auc):.3f} ± {sd:.3f} | "
                           f"{f'{np.mean(t2):.3f}' if t2 else '-'} |")
    out += ["", CONCLUSION, ""]
    return out


CONCLUSION = (
    "Reading: with the rule's caps, the noise-free ceiling (epsilon 10,000) is 0.915 on "
    "Adult and 0.870 on ACS. Raising any one cap raises it by at most 0.004 (Adult: a ten "
    "times larger table cap 0.919, 2,048 bins 0.918; ACS: at most 0.872, and 2,048 bins "
    "lower it to 0.865); parents coarsened less change nothing at 32 levels and lower it "
    "at 64 (fewer parents fit a table). So ACS's target at epsilon 10 (0.88) is above what "
    "this model class reaches even without noise, whatever cap is raised, and its target "
    "at epsilon 3 (0.86) lies 0.010 below that ceiling: the AUC is lost in the model class "
    "(a greedy network whose columns have a few coarsened parents; about what a logistic "
    "regression on single columns of the real rows reaches, 0.866), not in the caps or "
    "the noise. On Adult the ceiling is at the target (0.915-0.919) and epsilon 10 loses "
    "0.006 of it to the noise and the smaller tables the noise allows. At epsilon 10 no "
    "structure share (0.05, 0.1, 0.3), theta (1, 16) or forced caps lift both data sets "
    "by more than a standard deviation (theta 1: ACS +0.002, Adult -0.004; at epsilon 3 theta 1 "
    "leaves the AUC where it is and raises Adult's tvd2 0.036 -> 0.052), so the budget "
    "rule is unchanged: a negative result.\n\n"
    "Where the rest is lost. The real rows through the levels score 0.920 (Adult) and "
    "0.894 (ACS): the levels cost little. On Adult, the network's feature rows with the "
    "label drawn by a classifier of the real rows score 0.916 at epsilon 10 (the "
    "target), against 0.909 with the network's own label tables: at epsilon 10 Adult "
    "loses its AUC in the label's model. On ACS the same classifier lifts epsilon 10 "
    "only to 0.866, and 0.870 without noise, against 0.894 for the real rows: ACS loses "
    "its AUC in the joint distribution of the features that the network draws, so no "
    "better label model (the log-linear head above, or this classifier) can reach "
    "0.88. Reaching the ACS targets needs another model class for the features "
    "(larger cliques, e.g. a junction tree of measured marginals), not other caps.\n\n"
    "Stating a delta. With `delta=1e-6` the tables take discrete Gaussian noise "
    "(docs/engines.md): Adult epsilon 1 0.889 -> 0.895 (tvd2 0.050 -> 0.044; "
    "`delta=1e-9`: 0.891), which meets issue 21's Adult epsilon-1 target (0.89) with "
    "`target=`; ACS +0.002 to +0.003 at epsilon 1, 3 and 10 (0.852 at 3, 0.855 at 10); "
    "Adult epsilon 10 unchanged (0.909). The default stays pure epsilon-DP: a delta "
    "changes the kind of guarantee and is the steward's choice.")


def summary(path: Path) -> None:
    groups = _groups(_read_jsonl(path))
    print(f"{'data':6} {'eps':>7} {'config':10} {'n':>2} {'AUC mean':>8} {'sd':>6} "
          f"{'tvd1':>6} {'tvd2':>6}  plan")
    for (ds, eps, cfg), rs in sorted(groups.items()):
        auc = [r["tstr_auc"] for r in rs]
        t1 = [r["tvd1"] for r in rs if "tvd1" in r]
        t2 = [r["tvd2"] for r in rs if "tvd2" in r]
        sd = float(np.std(auc, ddof=1)) if len(auc) > 1 else float("nan")
        p = rs[0]["plan"]
        plan = (f"L{p.get('max_levels')}/P{p.get('max_parent_levels')}/k{p.get('max_degree')}"
                f"/B{p.get('max_bins')}/s{p.get('structure_share', 0):.3f}"
                f" par{rs[0].get('mean_parents') or 0:.1f}") if p else ""
        print(f"{ds:6} {eps:>7g} {cfg:10} {len(rs):>2} {np.mean(auc):8.3f} {sd:6.3f} "
              f"{np.mean(t1) if t1 else float('nan'):6.3f} "
              f"{np.mean(t2) if t2 else float('nan'):6.3f}  {plan}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", nargs="+", default=["adult"])
    ap.add_argument("--eps", nargs="+", type=float, default=[10.0])
    ap.add_argument("--config", nargs="+", default=["default"], choices=sorted(CONFIGS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--rows", type=int, default=30_000)
    ap.add_argument("--tvd", action="store_true", help="also tvd1/tvd2 (slower)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/diag_caps.jsonl"))
    ap.add_argument("--summary", type=Path)
    ap.add_argument("--collect", nargs="+", type=Path,
                    help="JSON-lines files to write into benchmarks/results/diag_caps.json")
    args = ap.parse_args()
    if args.summary:
        summary(args.summary)
        return
    if args.collect:
        records = [r for p in args.collect for r in _read_jsonl(p)]
        OUT.write_text(json.dumps({"records": records}, indent=0) + "\n", encoding="utf-8")
        return
    from benchmarks.harness import LOADERS

    for name in args.data:
        data = LOADERS[name]()
        for eps in args.eps:
            for cfg in args.config:
                for seed in args.seeds:
                    r = run_one(data, cfg, eps, seed, args.rows, args.tvd)
                    with args.out.open("a", encoding="utf-8") as fh:
                        fh.write(json.dumps(r) + "\n")
                    print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()

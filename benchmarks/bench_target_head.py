"""Experiment (negative result): a log-linear head for PrivBayes' declared target.

Issue 21: with ``target=`` PrivBayes' TSTR AUC saturates below the targets (Adult
epsilon 10: 0.909, real 0.927; ACS OWN_RENT epsilon 10: 0.853, real 0.897). The
label's conditional given a few coarsened parents cannot hold the signal. This
experiment tried another model class for the label only:

* PrivBayes (``target=`` the label) is fitted with ``(1 - HEAD_SHARE) * epsilon``;
  the head spends ``HEAD_SHARE * epsilon`` on the same accountant;
* the head measures noisy tables of counts of (label, x_S) (exact discrete Laplace
  through :func:`privsynth.mechanisms.discrete_laplace`, sensitivity 1, equal shares)
  for every single column ``S = {j}`` at its child levels and, in the ``pairs``
  variant, for the pairs of columns (at parent levels) whose table is theta-useful
  (``n_hat * e / cells >= theta``, public numbers only: noisy n, epsilon, levels);
* the label is drawn from ``p(y | x) ~ exp(sum_S theta_S(y, x_S))``, theta fitted by
  iterative proportional fitting (conditional raking) on ``FIT_ROWS`` synthetic
  feature rows of the network, so that the synthetic ``P(y | x_S = s)`` matches
  the measured one; each measured row is shrunk toward the current model with a
  pseudo-count of 3 noise standard deviations (post-processing);
* sampling: the network draws every column, the head redraws the label.

Ceilings (``--ceilings``, not DP, labelled so in the results): the same head on
*exact* counts (singles; singles and all pairs), and a logistic regression on the
real training rows' one-hot levels, scored directly on the test rows (the best a
log-linear label model on these levels can do with the real feature distribution).

Measured (benchmarks/results/target_head.json, 3 seeds, TSTR AUC; docs/benchmarks.md):
the head never beat ``target=`` on Adult, ACS or the held-out flights. Adult epsilon
3 / 10: ``target=`` 0.898 / 0.909, head 0.887 / 0.906, head+pairs 0.876 / 0.899; ACS:
0.845 / 0.852 against 0.826 / 0.844 and 0.827 / 0.840; flights: 0.949 / 0.981 against
0.887 / 0.972. Even on *exact* counts it gains at most +0.005 (Adult) and +0.010
(ACS): it is fitted on the network's *synthetic* feature rows, whose joint
distribution limits the label (the same log-linear model fitted on the real rows
scores 0.925 on Adult and 0.866 on ACS). Its own share of the budget costs more than
it wins back. The one gain is on the held-out penguins (241 rows), where the budget
rule falls back to independent marginals and ``target=`` ignores the label's
relations: 0.43 / 0.74 -> 0.68 / 0.96. Not built into the engine.

Run from the repository root (about 20 minutes on 2 busy cores)::

    python benchmarks/bench_target_head.py [--datasets adult acs] [--epsilons 3 10]
        [--seeds 0 1 2] [--ceilings]

Writes ``benchmarks/results/target_head.json`` and prints one line per run.
Not part of the test suite; uses private attributes of a fitted PrivBayes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.harness import LOADERS, Dataset
from privsynth import mechanisms
from privsynth.accounting import Accountant
from privsynth.engines.privbayes import PrivBayes
from privsynth.engines.privbayes._draw import ancestral_levels
from privsynth.metrics import marginal_tvd, ml_efficacy

OUT = Path(__file__).resolve().parent / "results" / "target_head.json"
#: Share of the fit's epsilon for the head's tables (the network gets the rest).
HEAD_SHARE = 0.2
#: Synthetic feature rows the head is fitted on (drawn with a fixed seed).
FIT_ROWS = 30_000
#: IPF sweeps over the measured tables.
SWEEPS = 20
#: Usefulness threshold for a pair's table (as PrivBayes' theta).
THETA = 4.0
#: Pseudo-count of a measured row, in noise standard deviations per cell.
SHRINK = 3.0

Sets = list[tuple[tuple[int, ...], bool]]  # (columns, at parent levels)


def level_codes(model: PrivBayes, df: pd.DataFrame) -> np.ndarray:
    fine = model._discretizer.encode(df)
    return np.stack([lev.fine_to_level[fine[:, j]] for j, lev in enumerate(model.levels_)],
                    axis=1)


def cell_index(lv: np.ndarray, model: PrivBayes, cols: tuple[int, ...], parent: bool,
               ) -> tuple[np.ndarray, int]:
    idx = np.zeros(len(lv), np.int64)
    size = 1
    for j in cols:
        lev = model.levels_[j]
        code = lev.level_to_parent[lv[:, j]] if parent else lv[:, j]
        m = lev.n_parent_levels if parent else lev.n_levels
        idx = idx * m + code
        size *= m
    return idx, size


def choose_sets(model: PrivBayes, tcol: int, eps_head: float, n_hat: float, pairs: bool,
                ) -> Sets:
    """Singles at child levels; with ``pairs`` the theta-useful pairs (public numbers)."""
    d = len(model.levels_)
    k = model.levels_[tcol].n_levels
    feats = [j for j in range(d) if j != tcol]
    sets: Sets = [((j,), False) for j in feats]
    if pairs:
        cand = list(itertools.combinations(feats, 2))
        e = eps_head / (len(feats) + len(cand))
        for a, b in cand:
            cells = k * model.levels_[a].n_parent_levels * model.levels_[b].n_parent_levels
            if n_hat * e / cells >= THETA:
                sets.append(((a, b), True))
    return sets


def fit_head(syn: np.ndarray, k: int, idx: list[tuple[np.ndarray, int]],
             measured: list[np.ndarray], sd: list[float]) -> list[np.ndarray]:
    """theta per set by conditional IPF on the synthetic feature rows ``syn``."""
    logits = np.zeros((len(syn), k))
    thetas = [np.zeros((size, k)) for _, size in idx]
    for _ in range(SWEEPS):
        for s, ((cell, size), counts, sd_s) in enumerate(zip(idx, measured, sd, strict=True)):
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            model_counts = np.stack([np.bincount(cell, weights=p[:, y], minlength=size)
                                     for y in range(k)], axis=1)
            pm = model_counts / np.maximum(model_counts.sum(axis=1, keepdims=True), 1e-12)
            obs = np.clip(counts, 0.0, None)
            alpha = SHRINK * sd_s * math.sqrt(k)
            den = obs.sum(axis=1, keepdims=True) + alpha
            target = np.where(den > 0, (obs + alpha * pm) / np.maximum(den, 1e-12), pm)
            step = np.log(np.clip(target, 1e-6, None)) - np.log(np.clip(pm, 1e-6, None))
            step -= step.mean(axis=1, keepdims=True)
            thetas[s] += step
            logits += step[cell]
    return thetas


def head_release(model: PrivBayes, data: Dataset, tcol: int, sets: Sets,
                 measured: list[np.ndarray], sd: list[float], rows: int, seed: int,
                 ) -> pd.DataFrame:
    k = model.levels_[tcol].n_levels
    syn = ancestral_levels(model.network_, model.tables_, model.levels_, FIT_ROWS,
                           np.random.default_rng(0))
    idx = [cell_index(syn, model, c, p) for c, p in sets]
    thetas = fit_head(syn, k, idx, measured, sd)
    rng = np.random.default_rng(seed)
    lv = ancestral_levels(model.network_, model.tables_, model.levels_, rows, rng)
    logits = np.zeros((rows, k))
    for (c, p), th in zip(sets, thetas, strict=True):
        logits += th[cell_index(lv, model, c, p)[0]]
    prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    cdf = np.cumsum(prob / prob.sum(axis=1, keepdims=True), axis=1)
    lv[:, tcol] = np.minimum((rng.random(rows)[:, None] > cdf).sum(axis=1), k - 1)
    return model._decode_levels(lv, {}, rng)


def counts_of(model: PrivBayes, real: np.ndarray, tcol: int, cols: tuple[int, ...],
              parent: bool) -> np.ndarray:
    k = model.levels_[tcol].n_levels
    cell, size = cell_index(real, model, cols, parent)
    return np.stack([np.bincount(cell[real[:, tcol] == y], minlength=size)
                     for y in range(k)], axis=1)


def scores(data: Dataset, syn: pd.DataFrame) -> dict[str, float]:
    ml = ml_efficacy(data.train, syn, data.test, target=data.target, schema=data.schema,
                     positive=data.positive, reference=False, n_threads=1)
    return {"tstr_auc": ml["tstr_auc"],
            "tvd1": marginal_tvd(data.train, syn, way=1, schema=data.schema),
            "tvd2": marginal_tvd(data.train, syn, way=2, schema=data.schema)}


def run(data: Dataset, eps: float, seed: int, ceilings: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    rows = len(data.train)
    tcol = list(data.schema.names).index(data.target)
    t0 = time.perf_counter()
    base = PrivBayes(target=data.target).fit(data.train, schema=data.schema, epsilon=eps)
    syn = base.sample(rows, random_state=seed)
    out.append({"variant": "target=", "dp": True, **scores(data, syn),
                "fit_sample_s": time.perf_counter() - t0})
    for pairs in (False, True):
        t0 = time.perf_counter()
        acct = Accountant(epsilon=eps)
        model = PrivBayes(target=data.target).fit(
            data.train, schema=data.schema, epsilon=eps * (1 - HEAD_SHARE), accountant=acct)
        eps_head = eps * HEAD_SHARE
        sets = choose_sets(model, tcol, eps_head, model.n_hat_, pairs)
        e = eps_head / len(sets)
        real = level_codes(model, data.train)
        measured = [mechanisms.discrete_laplace(
            counts_of(model, real, tcol, c, p), epsilon=e, accountant=acct,
            label=f"head/{c}").astype(np.float64) for c, p in sets]
        spent = acct.spent().epsilon
        syn = head_release(model, data, tcol, sets, measured, [math.sqrt(2.0) / e] * len(sets),
                           rows, seed)
        out.append({"variant": "head+pairs" if pairs else "head", "dp": True,
                    "sets": len(sets), "epsilon_spent": spent, **scores(data, syn),
                    "fit_sample_s": time.perf_counter() - t0})
    if ceilings:
        real = level_codes(base, data.train)
        feats = [j for j in range(len(base.levels_)) if j != tcol]
        for name, sets in (
                ("ceiling: head on exact counts", [((j,), False) for j in feats]),
                ("ceiling: head+all pairs on exact counts",
                 [((j,), False) for j in feats]
                 + [((a, b), True) for a, b in itertools.combinations(feats, 2)])):
            measured = [counts_of(base, real, tcol, c, p).astype(np.float64) for c, p in sets]
            syn = head_release(base, data, tcol, sets, measured, [0.0] * len(sets), rows, seed)
            out.append({"variant": name, "dp": False, **scores(data, syn)})
        out.append({"variant": "ceiling: logistic regression on real rows (direct)",
                    "dp": False, "tstr_auc": _logistic_ceiling(base, data, tcol, feats)})
    for r in out:
        r.update(dataset=data.name, epsilon=eps, seed=seed)
    return out


def _logistic_ceiling(model: PrivBayes, data: Dataset, tcol: int, feats: list[int]) -> float:
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    def design(lv: np.ndarray) -> Any:
        mats = []
        for j in feats:
            cell, size = cell_index(lv, model, (j,), False)
            mats.append(sparse.csr_matrix((np.ones(len(lv)), (np.arange(len(lv)), cell)),
                                          shape=(len(lv), size)))
        return sparse.hstack(mats).tocsr()

    tr, te = level_codes(model, data.train), level_codes(model, data.test)
    lr = LogisticRegression(C=1.0, max_iter=2000).fit(design(tr), tr[:, tcol])
    prob = lr.predict_proba(design(te))
    positive = model._discretizer.encode(
        pd.DataFrame({c: [data.positive if c == data.target else data.test[c].iloc[0]]
                      for c in data.test.columns}))[0, tcol]
    pos_level = int(model.levels_[tcol].fine_to_level[positive])
    col = list(lr.classes_).index(pos_level)
    return float(roc_auc_score(te[:, tcol] == pos_level, prob[:, col]))


def summary(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = sorted({(r["dataset"], r["epsilon"], r["variant"]) for r in records},
                  key=lambda x: (x[0], x[1]))
    out = []
    for ds, eps, var in keys:
        rs = [r for r in records if (r["dataset"], r["epsilon"], r["variant"]) == (ds, eps, var)]
        row: dict[str, Any] = {"dataset": ds, "epsilon": eps, "variant": var, "runs": len(rs)}
        for m in ("tstr_auc", "tvd1", "tvd2", "fit_sample_s"):
            vals = [r[m] for r in rs if m in r]
            if vals:
                row[m] = statistics.fmean(vals)
                row[m + "_sd"] = statistics.stdev(vals) if len(vals) > 1 else 0.0
        out.append(row)
    return out


VARIANTS = ("target=", "head", "head+pairs", "ceiling: head on exact counts",
            "ceiling: head+all pairs on exact counts",
            "ceiling: logistic regression on real rows (direct)")
TITLES = {"adult": "Adult", "acs": "ACS", "flights": "flights, held out",
          "penguins": "penguins, held out"}


def section(path: Path = OUT) -> list[str]:
    """docs/benchmarks.md's lines on this experiment (empty without results)."""
    if not path.exists():
        return []
    rows = json.loads(path.read_text(encoding="utf-8"))["summary"]
    by = {(r["dataset"], r["epsilon"], r["variant"]): r for r in rows}
    out = ["### A log-linear head for the target (tried, not adopted)", "",
           "Issue 21's AUC targets (Adult epsilon 10 >= 0.915; ACS epsilon 3 >= 0.86, 10 >= "
           "0.88) are not met by `target=`. `python benchmarks/bench_target_head.py` tried "
           "another model class for the label: the network (fitted with "
           f"{1 - HEAD_SHARE:.0%} of epsilon) draws the other columns and the label is "
           "redrawn from a log-linear model p(y | x) ~ exp(sum_S theta_S(y, x_S)), theta "
           "fitted by conditional iterative proportional fitting on synthetic feature rows "
           "to noisy (label, x_S) tables measured with the other "
           f"{HEAD_SHARE:.0%} (discrete Laplace, charged to the same accountant): "
           "**head** = every single column; **head+pairs** = also the theta-useful pairs. "
           "Ceilings (not DP): the same head on exact counts, and a logistic regression on "
           "the real rows' levels scored directly. Each cell: TSTR AUC mean ± sd / tvd2, "
           "over the seeds.", "",
           "| data set | epsilon | " + " | ".join(v.removeprefix("ceiling: ")
                                                  for v in VARIANTS) + " |",
           "|---|---|" + "---|" * len(VARIANTS)]
    for ds in TITLES:
        for eps in sorted({r["epsilon"] for r in rows if r["dataset"] == ds}):
            cells = []
            for v in VARIANTS:
                r = by.get((ds, eps, v))
                if r is None or "tstr_auc" not in r:
                    cells.append("-")
                    continue
                cell = f"{r['tstr_auc']:.3f} ± {r['tstr_auc_sd']:.3f}"
                cells.append(cell + (f" / {r['tvd2']:.3f}" if "tvd2" in r else ""))
            out.append(f"| {TITLES[ds]} | {eps:g} | " + " | ".join(cells) + " |")
    out += ["", "Not adopted: on Adult, ACS and flights the head never beat `target=` by "
            "more than a standard deviation, and mostly lost. Even on exact counts it gains "
            "little, because it is fitted on the network's synthetic feature rows: the "
            "label model is limited by the synthetic joint distribution of the features, "
            "not by the label's table (the same log-linear model fitted on the real rows, last "
            "column, is what a better feature model could reach). Measuring the extra "
            "tables costs the network part of its budget, which the head does not win "
            "back. Reaching the targets needs a better model of the features themselves "
            "(e.g. larger cliques), not a separate label model. The one gain is on the "
            "held-out penguins, where the budget rule falls back to independent marginals, "
            "so `target=` measures no relation of the label at all; the head's (label, "
            "column) tables then carry all of it.", ""]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["adult", "acs"])
    ap.add_argument("--epsilons", nargs="+", type=float, default=[3.0, 10.0])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--ceilings", action="store_true")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    records: list[dict[str, Any]] = []
    if args.out.exists():  # several invocations add to one file
        records = json.loads(args.out.read_text("utf-8"))["records"]
    for ds in args.datasets:
        data = LOADERS[ds]()
        for eps in args.epsilons:
            for seed in args.seeds:
                for r in run(data, eps, seed, args.ceilings):
                    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v)
                                      for k, v in r.items()}), flush=True)
                    records.append(r)
                args.out.write_text(json.dumps({
                    "when": datetime.now(UTC).isoformat(timespec="seconds"),
                    "head_share": HEAD_SHARE, "fit_rows": FIT_ROWS, "sweeps": SWEEPS,
                    "theta": THETA, "records": records, "summary": summary(records)},
                    indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

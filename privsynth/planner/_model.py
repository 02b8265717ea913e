"""The planner's error model of PrivBayes, from public numbers only.

What a PrivBayes release's marginals get wrong, split into the parts that
public information determines:

* **noise**: every conditional table of ``C`` cells gets discrete Laplace noise
  of standard deviation ``sd`` (from its epsilon, decided by the engine's own
  rules in :mod:`privsynth.engines.privbayes._budget`). A marginal of ``K``
  cells read from that table sums ``C / K`` noisy cells each, so its expected
  total-variation error is ``sqrt(K * C) * sd / (sqrt(2 pi) * n)`` (Gaussian
  approximation of the summed noise). Columns coarsened into levels also carry
  the noise of their one-way histogram, which places values within levels.
* **sampling**: ``m`` synthetic rows drawn from the model miss a ``K``-cell
  marginal by about ``sampling * sqrt(K / m)``.
* **structure**: a pair of columns that no table holds together (not a
  child-parent edge of the network) is only approximated through the network;
  the loss depends on the data, so the planner uses a prior, ``bias``.
* **resolution**: a numeric column whose public bins are wide (more than
  ``COARSE_WIDTH`` units) loses whatever of its spread falls within one bin;
  how much depends on the data, so the planner uses a prior, ``resolution``,
  for each such column (and each pair holding one).
* **saturation**: an error cannot exceed what a noise-dominated release gets
  wrong: ``S * (1 - exp(-raw / S))`` with ``S`` = ``saturation_1`` (columns)
  or ``saturation_2`` (pairs).

The constants are the fields of :class:`Constants`.

The network itself depends on the data (the exponential mechanism picks it),
but the sizes of its tables do not: the engine only offers maximal parent sets
under its theta-usefulness cap. The planner draws ``NETWORKS`` networks with
the engine's own candidate rule, choosing uniformly among candidates, and
averages over them.

The constants were fitted on UCI Adult (bundled, 32,561 rows, its first 2,000
rows and a 400-row sample); the resolution prior sits between Adult and the
NIST ACS excerpt (see ``docs/planner.md`` for both, side by side).

>>> import numpy as np
>>> saturate(np.array([0.0, 0.01, 10.0]), 0.6).round(3).tolist()
[0.0, 0.01, 0.6]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from privsynth.binning import Discretizer
from privsynth.columns import BooleanColumn, CategoricalColumn
from privsynth.engines.privbayes._budget import (
    clique_cap,
    plan_budget,
    split_budget,
    table_budgets,
)
from privsynth.engines.privbayes._levels import level_counts
from privsynth.engines.privbayes._structure import MAX_CANDIDATES, candidate_parent_sets
from privsynth.schema import Schema

#: Bins of a numeric column in the tvd metric (``privsynth.metrics``, anchors.md).
METRIC_BINS = 20
#: A numeric column whose public bins are wider than this many units is "coarse".
COARSE_WIDTH = 10.0
#: Networks drawn per epsilon to average over the structure the data would choose.
NETWORKS = 4

Network = list[tuple[int, tuple[int, ...]]]


@dataclass(frozen=True)
class ColumnFacts:
    """Public facts about one column that the error model uses."""

    name: str
    codes: int  # the engine's fine codes (public bins or categories, + missing)
    has_missing: bool
    levels: int  # most levels as a child
    parent_levels: int  # most levels as a parent
    metric_cells: int  # cells of its marginal in the tvd metric
    coarse: bool  # numeric, public bins wider than COARSE_WIDTH units (resolution: data's spread)


@dataclass(frozen=True)
class TableNoise:
    """One conditional table of an expected network: its size and noise against its counts."""

    cells: int
    epsilon: float
    noise_sd: float
    mean_count: float

    @property
    def noise_to_count(self) -> float:
        """Noise standard deviation over the expected count of a cell (1 = drowned)."""
        return self.noise_sd / self.mean_count


@dataclass(frozen=True)
class Prediction:
    """The model's numbers for one epsilon (means over the drawn networks)."""

    tvd1: float
    tvd2: float
    noise_tvd2: float  # the noise part only (no sampling, no structure prior)
    degree: float
    clique_cap: int
    covered_pairs: float  # share of column pairs held together by some table
    drowned_pairs: float  # share of pairs whose noise part alone exceeds DROWNED
    tables: tuple[TableNoise, ...]  # of the first network drawn
    histogram_noise_to_count: float  # of each one-way histogram (0 when none)


#: A pair whose noise part alone is above this TVD is "drowned in noise".
DROWNED = 0.25


def laplace_sd(epsilon: float) -> float:
    """Standard deviation of the discrete Laplace noise of parameter exp(-epsilon).

    >>> round(laplace_sd(1.0), 3), round(laplace_sd(0.01) * 0.01, 3)
    (1.357, 1.414)
    """
    q = math.exp(-epsilon)
    return math.sqrt(2 * q) / (1 - q)


def saturate(raw: np.ndarray, ceiling: float) -> np.ndarray:
    """``ceiling * (1 - exp(-raw / ceiling))``: linear for small errors, at most ``ceiling``."""
    return ceiling * -np.expm1(-np.asarray(raw, dtype=np.float64) / ceiling)


def column_facts(schema: Schema, *, max_bins: int, max_levels: int = 16,
                 max_parent_levels: int = 8) -> list[ColumnFacts]:
    """The public facts of every column, from the schema and the engine's parameters.

    The levels are those of ``max_levels`` and ``max_parent_levels``; :func:`predict`
    sets them from the engine's rules at each epsilon.
    """
    disc = Discretizer(schema, max_bins=max_bins)
    out = []
    for bins in disc.bins:
        col = bins.column
        size = bins.size
        miss = col.nullable
        levels, parents = level_counts(size, has_missing=miss, max_levels=max_levels,
                                       max_parent_levels=max_parent_levels)
        if isinstance(col, CategoricalColumn | BooleanColumn):
            cells, coarse = bins.n_values + int(miss), False
        else:
            values = bins.n_values
            cells = min(METRIC_BINS, values) + int(miss)
            widths = np.diff(np.asarray(bins.edges, dtype=np.float64))
            coarse = bool(widths.size and widths.max() > COARSE_WIDTH)
        out.append(ColumnFacts(col.name, size, miss, levels, parents, cells, coarse))
    return out


def draw_networks(facts: Sequence[ColumnFacts], cap: int, k_max: int, *, reps: int,
                  seed: int, fixed_degree: bool = False) -> list[Network]:
    """Networks the engine could choose, candidates picked uniformly (public sizes only)."""
    d = len(facts)
    n_lv = [f.levels for f in facts]
    n_pv = [f.parent_levels for f in facts]
    rng = np.random.default_rng(seed)
    nets = []
    for _ in range(reps):
        first = int(rng.integers(d))
        net: Network = [(first, ())]
        chosen = [first]
        while len(chosen) < d:
            remaining = [x for x in range(d) if x not in chosen]
            per_child = max(20, MAX_CANDIDATES // len(remaining))
            # one candidate child at random, then one of its maximal parent sets
            x = remaining[int(rng.integers(len(remaining)))]
            cands = candidate_parent_sets(x, sorted(chosen), n_lv, n_pv, k_max=k_max,
                                          limit=cap, fixed_degree=fixed_degree,
                                          max_sets=per_child, rng=rng)
            ps = cands[int(rng.integers(len(cands)))]
            net.append((x, ps))
            chosen.append(x)
        nets.append(net)
    return nets


@dataclass(frozen=True)
class Constants:
    """The model's constants (module defaults; a field per constant for calibration)."""

    #: Multiplies the Gaussian-approximation noise error. Below 1 because norm-sub
    #: projection zeroes the cells that noise alone explains, and columns with
    #: concentrated mass get fewer levels than the caps allow.
    noise: float = 0.35
    #: Sampling error of a K-cell marginal from m rows is about sampling * sqrt(K / m)
    #: (0.56 for a uniform table; real tables are skewed, which lowers it).
    sampling: float = 0.35
    #: Prior TVD lost on a pair of columns that no table of the network holds together.
    bias: float = 0.02
    #: What a noise-dominated release gets wrong on one column / one pair.
    saturation_1: float = 0.6
    saturation_2: float = 0.75
    #: Prior TVD of a coarse numeric column whatever the noise: how much of its
    #: real spread its equal-width public bins cannot resolve is a property of the
    #: data (measured 0.005-0.02 on Adult's, 0.1-0.27 on ACS's); the prior sits
    #: between the two.
    resolution: float = 0.065


@dataclass(frozen=True)
class _Parts:
    """Error parts of one drawn network (before the constants are applied)."""

    noise1: np.ndarray  # per column
    noise2: np.ndarray  # per pair (upper triangle)
    covered: np.ndarray  # per pair: held together by a table
    coarse: np.ndarray  # per column: 1.0 for a coarse numeric column
    degree: int
    tables: tuple[TableNoise, ...]


def _with_levels(f: ColumnFacts, max_levels: int, max_parent_levels: int) -> ColumnFacts:
    lv, pv = level_counts(f.codes, has_missing=f.has_missing, max_levels=max_levels,
                          max_parent_levels=max_parent_levels)
    return replace(f, levels=lv, parent_levels=pv)


def _cells(facts: Sequence[ColumnFacts], child: int, parents: Sequence[int]) -> int:
    return facts[child].levels * math.prod(facts[p].parent_levels for p in parents)


def _parts(facts: Sequence[ColumnFacts], net: Network, eps_t: Sequence[float],
           hist: np.ndarray, n: float, k: int = 1) -> _Parts:
    d = len(facts)
    iu = np.triu_indices(d, 1)
    cells = [_cells(facts, c, ps) for c, ps in net]
    noise1 = np.zeros(d)
    pair = np.full((d, d), np.nan)
    for (c, ps), cl, e in zip(net, cells, eps_t, strict=True):
        sd = laplace_sd(e / k)
        noise1[c] = math.sqrt(facts[c].levels * cl) * sd / (math.sqrt(2 * math.pi) * n)
        for p in ps:
            kk = facts[c].levels * facts[p].parent_levels
            pair[c, p] = pair[p, c] = math.sqrt(kk * cl) * sd / (math.sqrt(2 * math.pi) * n)
    noise1 = np.hypot(noise1, hist)
    both = np.hypot(noise1[:, None], noise1[None, :])[iu]
    direct = pair[iu]
    covered = ~np.isnan(direct)
    noise2 = np.where(covered, np.hypot(np.nan_to_num(direct), both), both)
    tables = tuple(TableNoise(cl, e, laplace_sd(e / k), n / cl)
                   for cl, e in zip(cells, eps_t, strict=True))
    coarse = np.array([float(f.coarse) for f in facts])
    return _Parts(noise1, noise2, covered, coarse, max((len(ps) for _, ps in net), default=0),
                  tables)


def _combine(parts: _Parts, k1: np.ndarray, m: float, c: Constants
             ) -> tuple[float, float, float, float]:
    """tvd1, tvd2, the noise part of tvd2 and the share of drowned pairs of one network."""
    iu = np.triu_indices(len(k1), 1)
    samp1 = c.sampling * np.sqrt(k1 / m)
    samp2 = c.sampling * np.sqrt(np.outer(k1, k1)[iu] / m)
    noise1, noise2 = c.noise * parts.noise1, c.noise * parts.noise2
    res1 = c.resolution * parts.coarse
    res2 = (res1[:, None] + res1[None, :])[iu]
    tvd1 = saturate(np.hypot(noise1, samp1) + res1, c.saturation_1)
    bias = np.where(parts.covered, 0.0, c.bias)
    tvd2 = saturate(np.hypot(noise2, samp2) + bias + res2, c.saturation_2)
    noise_only = saturate(noise2, c.saturation_2)
    return (float(tvd1.mean()), float(tvd2.mean()), float(noise_only.mean()),
            float((noise_only > DROWNED).mean()))


@dataclass(frozen=True)
class Rules:
    """What the engine's public rules decide for one fit (the only engine-specific input)."""

    hist_eps: dict[int, float]  # column -> epsilon of its one-way histogram
    eps_tables: float  # epsilon of the conditional tables together
    cap: int  # most cells of one table in the structure search
    k_max: int  # most parents
    fixed_degree: bool
    max_levels: int
    max_parent_levels: int
    independent: bool = False  # independent marginals only (no structure, no tables)
    max_rows: int = 1  # sensitivity of every count: the most rows of one privacy unit
    max_bins: int = 128  # public bins of numeric columns (the fit's ``fine_bins``)
    star_root: int | None = None  # the target star (a declared target, small data)


def engine_rules(model: Any, facts: Sequence[ColumnFacts], epsilon: float, n: float,
                 max_rows: int = 1) -> Rules:
    """The engine's budget split, theta cap and caps for ``n`` rows at ``epsilon``.

    Calls the functions the fit calls (:mod:`privsynth.engines.privbayes._budget`):
    the budget rule (``plan_budget``: caps, shares, or independent marginals), the
    split and the theta cap; this is the one place the planner depends on how
    PrivBayes spends its budget. (The fit reads the rule with a noisy count; the
    planner with the stated ``n``.)
    """
    sizes = [f.codes for f in facts]
    d = len(sizes)
    names = [f.name for f in facts]
    # a declared target (public) may give the target star, as in the fit
    target = names.index(model.target) if getattr(model, "target", None) in names else None
    plan = plan_budget(n, epsilon, sizes, theta=model.theta, fixed=model._fixed_caps(),
                       max_rows=max_rows, target=target,
                       target_missing=target is not None and facts[target].has_missing,
                       max_cells=model.max_clique_cells)
    independent = plan.mode == "independent"
    split = split_budget(sizes, epsilon, marginal_share=plan.marginal_share,
                         structure_share=plan.structure_share,
                         max_parent_levels=plan.max_parent_levels,
                         count_share=plan.count_share, independent=independent)
    cap = clique_cap(n, split.eps_tables, d, theta=model.theta,
                     max_clique_cells=model.max_clique_cells, max_rows=max_rows)
    fixed = model.degree is not None  # as the fit: a fixed degree has the resource cap only
    return Rules(hist_eps={j: split.eps_per_histogram for j in split.hist_columns},
                 eps_tables=split.eps_tables, cap=model.max_clique_cells if fixed else cap,
                 k_max=model.degree if fixed else plan.max_degree, fixed_degree=fixed,
                 max_levels=plan.max_levels, max_parent_levels=plan.max_parent_levels,
                 independent=independent, max_rows=max_rows, max_bins=plan.max_bins,
                 star_root=target if plan.mode == "star" else None)


def predict(facts: Sequence[ColumnFacts], *, epsilon: float, n: float, m: float, model: Any,
            max_rows: int = 1, constants: Constants | None = None,
            seed: int = 0) -> Prediction:
    """Expected tvd1 and tvd2 of a PrivBayes release (``model``'s parameters) at ``epsilon``."""
    c = constants or Constants()
    d = len(facts)
    rules = engine_rules(model, facts, epsilon, n, max_rows)
    k = rules.max_rows  # discrete Laplace of sensitivity k: the noise of epsilon / k
    facts = [_with_levels(f, rules.max_levels, rules.max_parent_levels) for f in facts]
    k1 = np.array([f.metric_cells for f in facts], dtype=np.float64)
    hist = np.zeros(d)
    if rules.independent:
        # every column its own noisy histogram, sampled independently
        nets: list[Network] = [[(j, ()) for j in range(d)]]
        eps_of = [[rules.hist_eps[j] for j in range(d)]]
        facts = [replace(f, levels=f.codes, parent_levels=f.codes) for f in facts]
    else:
        t = rules.star_root
        nets = ([[(t, ())] + [(j, (t,)) for j in range(d) if j != t]] if t is not None else
                draw_networks(facts, rules.cap, rules.k_max, reps=NETWORKS, seed=seed,
                              fixed_degree=rules.fixed_degree))
        eps_of = [table_budgets([_cells(facts, ch, ps) for ch, ps in net], rules.eps_tables)
                  for net in nets]
        # within-level noise of coarsened columns (their one-way histogram)
        for j, e in rules.hist_eps.items():
            if facts[j].codes > facts[j].levels:
                hist[j] = (math.sqrt(k1[j] * facts[j].codes) * laplace_sd(e / k)
                           / (math.sqrt(2 * math.pi) * n))
    parts = [_parts(facts, net, eps, hist, n, k) for net, eps in zip(nets, eps_of, strict=True)]
    per_net = np.array([_combine(p, k1, m, c) for p in parts], dtype=np.float64)
    tvd1, tvd2, noise2, drowned = per_net.mean(axis=0)
    hist_ratio = 0.0
    if rules.hist_eps:
        hist_ratio = float(np.mean([laplace_sd(e / k) / (n / facts[j].codes)
                                    for j, e in rules.hist_eps.items()]))
    return Prediction(tvd1=float(tvd1), tvd2=float(tvd2), noise_tvd2=float(noise2),
                      degree=float(np.mean([p.degree for p in parts])),
                      clique_cap=0 if rules.independent else rules.cap,
                      covered_pairs=float(np.mean([p.covered.mean() if p.covered.size else 1.0
                                                   for p in parts])),
                      drowned_pairs=float(drowned), tables=parts[0].tables,
                      histogram_noise_to_count=hist_ratio)


__all__ = [
    "COARSE_WIDTH",
    "DROWNED",
    "METRIC_BINS",
    "NETWORKS",
    "ColumnFacts",
    "Constants",
    "Prediction",
    "Rules",
    "TableNoise",
    "column_facts",
    "draw_networks",
    "engine_rules",
    "laplace_sd",
    "predict",
    "saturate",
]

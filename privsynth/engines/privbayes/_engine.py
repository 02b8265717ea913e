"""PrivBayes: a differentially private Bayesian network (Zhang et al., ACM TODS 2017).

How the budget ``epsilon`` is spent (every draw is one ledger entry of the release):

0. 1 %: a noisy row count. From it, epsilon and the public domain sizes the
   budget rule (:mod:`._budget`) chooses the caps and shares below, or decides
   that no dependency can be seen above the noise: the fit then measures
   independent marginals only (every column's histogram, no structure spend).
   The rule also chooses the public bins of numeric columns (finer when the
   histograms can resolve them); the data are then encoded on those bins.
   The decision is in :meth:`PrivBayes.describe` (``"budget"``) and the report.
1. ``marginal_share``: noisy one-way histograms, on public fine bins, of the
   columns with more than ``max_parent_levels`` codes. They are post-processed
   into *levels* (:mod:`._levels`), the network's variables, and the
   distribution of fine bins within each level, used when sampling. Their sums
   and the count give the noisy row count; no exact count is ever used.
2. ``structure_share``: the network (:mod:`._structure`), one
   exponential-mechanism draw per column.
3. the rest: one noisy joint table per (child, parents), discrete Laplace,
   with budget proportional to the square root of the table size (minimizes
   the total expected L1 error); made consistent and normalized into
   conditionals (:mod:`._tables`).

With ``delta = 0`` (the default) every event is pure epsilon-DP and they add up
to exactly ``epsilon``. A fit that states ``delta > 0`` (``fit(...,
delta=1e-6)``) gives the tables discrete Gaussian noise instead when that is
the smaller at the accountant's composition (:mod:`._noise`): the release is
then (epsilon, delta)-DP, composed by privacy loss distributions.
With a privacy unit of at most ``k`` rows (``fit(..., privacy_unit=...,
max_rows_per_unit=k)``) every count moves by up to ``k`` in L1 and the
structure score by up to ``2k``: each mechanism is told that sensitivity
(its noise grows ``k``-fold) and the usefulness rule uses the larger noise.
Sampling is ancestral and vectorized (:mod:`._draw`), or exact conditional
(:mod:`._inference`); it is post-processing of DP outputs and costs no
budget. ``random_state`` seeds sampling only, never privacy noise.

>>> import pandas as pd
>>> from privsynth.schema import Schema
>>> schema = Schema.from_dict({"columns": [
...     {"name": "a", "kind": "categorical", "categories": ["x", "y"]},
...     {"name": "b", "kind": "integer", "lower": 0, "upper": 9}]})
>>> df = pd.DataFrame({"a": ["x", "y"] * 50, "b": list(range(10)) * 10})
>>> model = PrivBayes().fit(df, schema=schema, epsilon=1.0)
>>> model.sample(5, random_state=0).shape
(5, 2)
>>> model.epsilon_, model.record_.ledger.kind
(1.0, 'none')
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from privsynth import mechanisms
from privsynth._checks import check_delta, check_int, check_number
from privsynth._limits import check_allocation
from privsynth._types import FloatArray, IntArray
from privsynth.accounting import Release
from privsynth.backends import Clique, open_backend
from privsynth.binning import Discretizer
from privsynth.columns import CategoricalColumn
from privsynth.engines.base import FitDetails, Synthesizer
from privsynth.engines.privbayes._budget import (
    BINS,
    COUNT_SHARE,
    LEVEL_FLOORS,
    clique_cap,
    plan_budget,
    split_budget,
    table_budgets,
    within_total,
)
from privsynth.engines.privbayes._draw import ancestral_levels, draw_within
from privsynth.engines.privbayes._given import (
    LINK_WEIGHT,
    ParentDraws,
    given_mass,
    kept_links,
)
from privsynth.engines.privbayes._levels import Levels, make_levels
from privsynth.engines.privbayes._noise import gaussian_table_sigma
from privsynth.engines.privbayes._structure import Network, learn_structure, network_graph
from privsynth.engines.privbayes._tables import conditional, consistent_counts
from privsynth.engines.record import PrivacyUnit
from privsynth.errors import ModelFileError, ParameterError
from privsynth.mechanisms import Noise
from privsynth.schema import Schema

log = logging.getLogger("privsynth.engines.privbayes")

# int64 counts, int64 noisy counts, float64 projection and float64 table
_TABLE_BYTES_PER_CELL = 32

CONTENTS = ("the public schema, the engine's parameters, the learned network structure and "
            "the noisy conditional tables (all DP outputs)")
NOISE = ("exact discrete Laplace noise on every count (integer arithmetic, no floating-point "
         "sampling)", "the exponential mechanism sampled exactly by rejection")
NOISE_GAUSSIAN = ("exact discrete Laplace noise on the row count and histograms, exact "
                  "discrete Gaussian noise on the conditional tables (integer arithmetic, no "
                  "floating-point sampling)", "the exponential mechanism sampled exactly by "
                  "rejection")


#: What the model holds in place of a learned structure, by the budget rule's mode.
_STRUCTURE = {"star": "the network fixed by the declared target (the only parent of every "
                      "column; public, not learned)",
              "independent": "no network (independent marginals)"}


def _contents_text(mode: str) -> str:
    """The model's contents for the report: a learned, declared or no structure."""
    if mode not in _STRUCTURE:
        return CONTENTS
    return CONTENTS.replace("the learned network structure", _STRUCTURE[mode])


def _noise_text(mode: str, gaussian: bool) -> tuple[str, ...]:
    """The noise the fit drew: no exponential mechanism where no structure was searched."""
    noise = NOISE_GAUSSIAN if gaussian else NOISE
    return noise if mode not in _STRUCTURE else noise[:1]


class PrivBayes(Synthesizer):
    """Differentially private Bayesian network synthesizer.

    Parameters
    ----------
    degree : int or None, default None
        Most parents per attribute. ``None`` chooses it from the data size and
        budget by the paper's theta-usefulness rule (up to ``max_degree``).
        A fixed degree always builds a network (no independent fallback);
        ``degree=0`` asks for independent marginals (no structure spend).
    structure_share : float or None, default None
        Share of epsilon for learning the network structure. ``None``: the
        budget rule (:mod:`~privsynth.engines.privbayes._budget`) chooses it
        (0.3 at most, less once the structure search is sharp).
    marginal_share : float, default 0.1
        Share of epsilon for one-way histograms used to choose levels.
    theta : float, default 4.0
        Usefulness threshold: a table is allowed when its expected count per
        cell is at least ``theta`` times the noise scale.
    max_bins : int or None, default None
        Public bins of a numeric column (see :class:`~privsynth.binning.Discretizer`).
        ``None``: the budget rule chooses them from the noisy row count and the
        histograms' epsilon (128 at small budgets, up to 1,024; ``fine_bins``).
    max_levels : int or None, default None
        Most levels of an attribute as a child in the network. ``None``: the
        budget rule chooses it (16 to 64, growing with the signal per cell).
    max_parent_levels : int or None, default None
        Most levels of an attribute when it is a parent. ``None``: the budget
        rule chooses it (8 to 16).
    max_degree : int or None, default None
        Upper limit on the degree chosen when ``degree`` is None. ``None``: the
        budget rule chooses it (3 to 5).
    target : str or None, default None
        A column the release is meant to predict (a public choice, e.g. the
        label of a downstream model). It becomes the network's first column and
        a parent of every column whose table can hold it, so its relation to
        every other column is measured. ``None``: the first column is random.
    max_clique_cells : int, default 1_000_000
        Hard cap on the cells of one table (a resource limit).
    structure_rows : int, default 200_000
        Above this (noisy) row count, structure scores are computed on a
        Poisson subsample (which only strengthens privacy).
    verbose : bool, default False
        Log progress at INFO level (logger ``privsynth.engines.privbayes``).
    """

    name = "privbayes"
    contents = CONTENTS
    supports_units = True

    def __init__(
        self,
        degree: int | None = None,
        structure_share: float | None = None,
        marginal_share: float = 0.1,
        theta: float = 4.0,
        max_bins: int | None = None,
        max_levels: int | None = None,
        max_parent_levels: int | None = None,
        max_degree: int | None = None,
        target: str | None = None,
        max_clique_cells: int = 1_000_000,
        structure_rows: int = 200_000,
        verbose: bool = False,
    ) -> None:
        self.degree = degree
        self.structure_share = structure_share
        self.marginal_share = marginal_share
        self.theta = theta
        self.max_bins = max_bins
        self.max_levels = max_levels
        self.max_parent_levels = max_parent_levels
        self.max_degree = max_degree
        self.target = target
        self.max_clique_cells = max_clique_cells
        self.structure_rows = structure_rows
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _fit_delta(self, delta: float | None, accountant: Any) -> float:
        """0 (pure epsilon-DP, the default) unless the fit states a delta in (0, 1).

        A stated delta lets the conditional tables take discrete Gaussian noise
        where it beats Laplace (:mod:`._noise`); it is never taken from the
        accountant's unused delta unasked.
        """
        if delta is None or (not isinstance(delta, bool) and delta == 0):
            return 0.0
        return check_delta(delta, where="PrivBayes")

    def _check_params(self) -> None:
        where = "PrivBayes"
        check_int("degree", self.degree, lo=0, where=where, none_ok=True)
        if self.structure_share is not None:
            check_number("structure_share", self.structure_share, lo=0, hi=1, hi_open=True,
                          where=where)
        check_number("marginal_share", self.marginal_share, lo=0, hi=1, hi_open=True,
                     where=where)
        if (self.structure_share or 0.0) + self.marginal_share + COUNT_SHARE >= 1:
            raise ParameterError(f"PrivBayes: structure_share + marginal_share + {COUNT_SHARE} "
                                 "(the row count) must be below 1 (the rest pays for the "
                                 "conditional tables)")
        check_number("theta", self.theta, lo=0, lo_open=True, where=where)
        for name, lo in (("max_levels", 2), ("max_parent_levels", 2), ("max_degree", 0)):
            check_int(name, getattr(self, name), lo=lo, where=where, none_ok=True)
        check_int("max_bins", self.max_bins, lo=2, where=where, none_ok=True)
        for name, lo in (("max_clique_cells", 2), ("structure_rows", 1000)):
            check_int(name, getattr(self, name), lo=lo, where=where)
        if self.target is not None and not isinstance(self.target, str):
            raise ParameterError(f"PrivBayes: target={self.target!r}; allowed: None or a "
                                 "column name of the schema")
        if not isinstance(self.verbose, bool):
            raise ParameterError(f"PrivBayes: verbose={self.verbose!r}; allowed: True or False")

    def _check_public(self, schema: Schema, epsilon: float, delta: float,
                      options: Mapping[str, Any]) -> None:
        unknown = sorted(set(options) - {"backend", "backend_options"})
        if unknown:
            raise ParameterError(f"PrivBayes.fit got unknown option(s) {unknown}; allowed: "
                                 "backend, backend_options")
        if "on_out_of_domain" in (options.get("backend_options") or {}):
            # one policy per fit, the one the fit record states
            raise ParameterError("PrivBayes.fit: give on_out_of_domain to fit itself, not in "
                                 "backend_options")
        if self.target is not None and self.target not in schema.names:
            raise ParameterError(f"PrivBayes: target={self.target!r} is not a column of the "
                                 f"schema; allowed: one of {list(schema.names)}")
        # counts, noise and float copies of the largest table allowed (before any data)
        check_allocation(float(self.max_clique_cells) * _TABLE_BYTES_PER_CELL,
                         f"one table of up to {self.max_clique_cells:,} cells "
                         "(max_clique_cells)")

    # --------------------------------------------------------------------- fit
    def _fit(self, data: Any, *, schema: Schema, release: Release, noise: Noise,
             unit: PrivacyUnit | None = None, given: tuple[int, ...] = (),
             level_floors: tuple[int, int] = LEVEL_FLOORS,
             links: Mapping[int, tuple[int, ...]] | None = None,
             given_rows: ParentDraws | None = None,
             **options: Any) -> FitDetails:
        # Neighbours differ by one unit of at most k rows (the template bounded the units,
        # engines/units.py). Every row adds 1 to exactly one cell of each histogram and
        # joint table, so one unit moves a table by at most k in L1 (sensitivity k for
        # discrete Laplace), the row count by at most k, and the structure score by at
        # most 2k (_structure.score_sensitivity). k = 1: one row (docs/units.md).
        # ``given`` (public column indices; child models of privsynth.engines.tables) are
        # the network's first columns, parents of the rest but children of none;
        # ``level_floors`` (public constants) replace the budget rule's smallest levels.
        # ``given_rows`` (synthetic parents drawn from the parent model: post-processing)
        # give the given columns' levels; ``links`` (public: {column: its declared given
        # parents}) fix those columns' parents without a draw (_given.py).
        k = 1 if unit is None else unit.max_rows
        if given and given_rows is None:
            raise ValueError("a child model's fit needs given_rows (the parent model's draws)")
        backend: str | None = options.get("backend")
        # the fit's policy reaches the backend, which applies it to files chunk by chunk
        backend_options: dict[str, Any] = {
            **(options.get("backend_options") or {}),
            "on_out_of_domain": options.get("on_out_of_domain", "error")}
        if self.verbose:
            _verbose_logging()
        eps = release.epsilon
        disc = Discretizer(schema, max_bins=self.max_bins or BINS)
        # Every pass over the rows goes through the backend; it returns exact
        # counts only, and all noise below is drawn here, in the driver.
        counter = open_backend(data, disc, backend, **backend_options)
        d = len(disc.sizes)
        sizes = np.asarray(disc.sizes, dtype=np.int64)
        hists = counter.histograms()
        log.info("encoded %d columns (%s backend)", d, counter.name)

        # ---- 0. noisy row count -> the budget rule (public quantities only)
        eps_n = eps * COUNT_SHARE
        n_count = float(mechanisms.discrete_laplace(
            [int(hists[0].sum())], epsilon=eps_n, accountant=release, sensitivity=k,
            label="privbayes/row_count", noise=noise)[0])
        if release.delta * max(n_count, 1.0) >= 1.0:
            # a delta that would let a mechanism publish about delta * n whole records:
            # refused as DP-CTGAN refuses it (n is known only now, from the 1 % noisy count)
            raise ParameterError(
                f"PrivBayes: delta={release.delta:g} is not below 1/n (the noisy row count "
                f"is about {round(max(n_count, 1.0)):,}). Use delta=0 (pure epsilon-DP, the "
                f"default) or a delta well below 1/n, e.g. 1e-6 for 30,000 rows. Only the "
                f"noisy row count was charged (epsilon {eps_n:.3g}).")
        # given columns get no structure step and no table: the rule sees the others and
        # one given column (its d - 1 structure steps are then exactly the steps taken)
        modelled_sizes = [sz for j, sz in enumerate(disc.sizes) if j not in given]
        if given:
            modelled_sizes.append(max(disc.sizes[j] for j in given))
        # a declared target (public) lets the rule choose the target star over
        # independent marginals; not in a child model (its given columns come first)
        root = None if self.target is None else schema.names.index(self.target)
        plan = plan_budget(n_count, eps, modelled_sizes, theta=self.theta,
                           fixed=self._fixed_caps(), max_rows=k, level_floors=level_floors,
                           target=None if given else root,
                           target_missing=root is not None and schema.columns[root].nullable,
                           max_cells=self.max_clique_cells)
        log.info("budget rule: %s (%s)", plan.mode, plan.reason)
        if plan.max_bins != disc.max_bins:  # finer public bins (from public numbers only)
            counter.close()
            disc = Discretizer(schema, max_bins=plan.max_bins)
            counter = open_backend(data, disc, backend, **backend_options)
            sizes = np.asarray(disc.sizes, dtype=np.int64)
            hists = counter.histograms()
        independent = plan.mode == "independent"

        # ---- 1. one-way histograms -> levels (and noisy n)
        # the split is a function of public numbers (shared with privsynth.planner)
        split = split_budget(disc.sizes, eps, marginal_share=plan.marginal_share,
                             structure_share=plan.structure_share,
                             max_parent_levels=plan.max_parent_levels,
                             count_share=plan.count_share, independent=independent,
                             given=given)
        need_hist = split.hist_columns
        eps_struct, eps_tables = split.eps_structure, split.eps_tables

        levels: list[Levels] = []
        tables: list[FloatArray] = []
        noisy_hists: dict[int, IntArray] = {}  # for the tables' consistency (step 3)
        # n from the count and every noisy histogram's sum, weighted by inverse
        # variance (2 / e^2 per discrete Laplace count): post-processing, no budget.
        sum_num, sum_den = n_count * eps_n ** 2, eps_n ** 2
        per_hist = split.eps_per_histogram
        for j in range(d):
            col = schema.columns[j]
            if j in need_hist:
                last = independent and j == need_hist[-1]  # the last event: never an ulp above
                noisy = mechanisms.discrete_laplace(
                    hists[j], epsilon=within_total([per_hist], release.events, eps)[0] if last
                    else per_hist, accountant=release, sensitivity=k,
                    label=f"privbayes/marginal/{col.name}", noise=noise)
                noisy_hists[j] = noisy
                sum_num += float(noisy.sum()) * per_hist ** 2 / sizes[j]
                sum_den += per_hist ** 2 / sizes[j]
                levels.append(Levels.identity(int(sizes[j])) if independent else make_levels(
                    noisy.astype(np.float64), missing_code=disc.bins[j].missing_code,
                    categorical=isinstance(col, CategoricalColumn), max_levels=plan.max_levels,
                    max_parent_levels=plan.max_parent_levels))
                if independent:  # the column's table is its noisy histogram
                    tables.append(conditional(noisy, int(sizes[j]), [], 1.0 / per_hist))
            elif j in given and not independent and given_rows is not None:
                # a given column's levels: from the parent model's synthetic rows (_given.py)
                levels.append(make_levels(
                    given_mass(disc, j, given_rows), missing_code=disc.bins[j].missing_code,
                    categorical=isinstance(col, CategoricalColumn), max_levels=plan.max_levels,
                    max_parent_levels=plan.max_parent_levels))
            else:
                levels.append(Levels.identity(int(sizes[j])))
                if independent:  # a given column: fixed when sampling, never measured
                    tables.append(np.full((1, int(sizes[j])), 1.0 / int(sizes[j])))
        n_hat = n_count
        if sum_den > 0:
            n_hat = sum_num / sum_den
        n_hat = max(n_hat, 1.0)
        log.info("levels chosen; noisy row count %.0f", n_hat)

        # ---- 2. structure (none in independent mode)
        cap = clique_cap(n_hat, eps_tables, len(modelled_sizes), theta=self.theta,
                         max_clique_cells=self.max_clique_cells, max_rows=k)
        network: Network = [(j, ()) for j in range(d)]
        links_kept, links_text = kept_links(links or {}, given, levels, cap, independent,
                                             schema.names, max_cells=self.max_clique_cells)
        if not independent and given and len(given) + len(links_kept) == d:
            # every column's parents declared: no structure draw, its share goes to the tables
            eps_tables, eps_struct = eps_tables + eps_struct, 0.0
        if plan.mode == "star" and root is not None:  # public: no search, no structure spend
            network = [(root, ())] + [(j, (root,)) for j in range(d) if j != root]
        elif not independent:
            fixed = self.degree is not None
            network = learn_structure(
                counter, levels, epsilon=eps_struct, n_hat=n_hat,
                k_max=self.degree if fixed else plan.max_degree,  # type: ignore[arg-type]
                limit=self.max_clique_cells if fixed else cap, fixed_degree=fixed,
                structure_rows=self.structure_rows, budget=release, noise=noise,
                names=schema.names, max_rows=k, penalty=plan.penalty,
                root=root, given=given, links=links_kept)

        # ---- 3. conditional tables
        n_lv = [lev.n_levels for lev in levels]
        n_pv = [lev.n_parent_levels for lev in levels]
        # a given column's table is never used (sampling fixes it): not measured
        measured = [(c, ps) for c, ps in network if c not in given]
        cells = [n_lv[c] * int(np.prod([n_pv[p] for p in ps], dtype=np.int64))
                 for c, ps in measured]
        # After the structure was charged (its spending stays on the ledger); every
        # table is below max_clique_cells, checked before the data was touched.
        check_allocation(float(sum(cells)) * _TABLE_BYTES_PER_CELL,
                         f"the {len(cells)} conditional tables ({sum(cells):,} cells)")
        eps_each = [] if independent else table_budgets(
            cells, eps_tables, [LINK_WEIGHT if c in links_kept else 1.0 for c, _ in measured])
        eps_each = within_total(eps_each, release.events, eps)  # never one ulp above eps
        # delta > 0: one common discrete Gaussian sigma for the tables, calibrated so that
        # the events spent so far and the tables compose to (epsilon, delta), if it beats
        # Laplace (public numbers only; the release refuses any event beyond its guarantee)
        sigma = None if independent else gaussian_table_sigma(
            release.events, cells=cells, eps_each=eps_each, epsilon=eps, delta=release.delta,
            max_rows=k)
        # one pass over the rows for all tables: fine code -> child level / parent level
        fine_pv = [lev.level_to_parent[lev.fine_to_level] for lev in levels]
        exact = [] if independent else counter.joint_counts([
            Clique((child, *parents),
                   (levels[child].fine_to_level, *(fine_pv[p] for p in parents)),
                   (n_lv[child], *(n_pv[p] for p in parents)))
            for child, parents in measured])
        counter.close()
        names = schema.names
        noisy_tables: list[IntArray] = []
        variances: list[float] = []  # noise variance of one cell of each table (public)
        for (child, parents), e_i, counts in zip(measured, eps_each, exact, strict=False):
            label = f"privbayes/table/{names[child]}|{','.join(names[p] for p in parents)}"
            if sigma is None:
                noisy = mechanisms.discrete_laplace(
                    counts, epsilon=e_i, accountant=release, noise=noise, sensitivity=k,
                    label=label)
                variances.append(2.0 * (k / e_i) ** 2)
            else:
                noisy = mechanisms.discrete_gaussian(
                    counts, sigma=sigma, accountant=release, noise=noise, sensitivity=k,
                    label=label)
                variances.append(sigma ** 2)
            noisy_tables.append(noisy)
            # each table's sum estimates n too, far more precisely than the one-way
            # histograms of a wide table: post-processing (weights 2 k^2 / variance, as
            # e^2 for the count and histograms)
            sum_num += float(noisy.sum()) * 2.0 * k ** 2 / variances[-1] / noisy.size
            sum_den += 2.0 * k ** 2 / variances[-1] / noisy.size
        if not independent:  # post-processing: consistent marginals, then conditionals
            consistent = consistent_counts(
                measured, noisy_tables, variances, [lev.level_to_parent for lev in levels],
                {j: (h, levels[j].fine_to_level, 2.0 * (k / per_hist) ** 2)
                 for j, h in noisy_hists.items()})
            by_child: dict[int, FloatArray] = {}
            for (child, parents), t, var in zip(measured, consistent, variances, strict=True):
                # scale: that of a Laplace noise of the same variance
                by_child[child] = conditional(t, n_lv[child], [n_pv[p] for p in parents],
                                              math.sqrt(var / 2.0))
            # a given column (fixed when sampling, privsynth.engines.tables) has no table
            tables = [by_child[c] if c in by_child else np.full((1, n_lv[c]), 1.0 / n_lv[c])
                      for c, _ in network]
        log.info("conditional tables drawn")
        # the recorded noisy row count (the default sample size) uses every noisy sum
        n_rows = max(sum_num / sum_den, 1.0) if sum_den > 0 else n_hat

        self.levels_ = levels
        self.network_ = network
        self.tables_ = tables
        self.clique_cap_ = 0 if independent else cap
        # the noisy row count the caps were computed from (count and histograms; the
        # recorded count below also uses the tables, drawn after the caps were fixed)
        shares: dict[str, float | str] = {}
        if not independent and not split.hist_columns:  # no histogram: the tables get its share
            shares = {"marginal_share": 0.0,
                      "table_share": plan.table_share + plan.marginal_share}
        if not independent and eps_struct == 0.0 and plan.structure_share > 0:
            shares.update(structure_share=0.0, table_share=float(shares.get(
                "table_share", plan.table_share)) + plan.structure_share)
        if given and not independent:
            shares["given_levels"] = ("the given columns' levels from rows drawn from the "
                                      "parent model (post-processing, no histogram measured)")
        if links_text:
            shares["links"] = links_text
        self.budget_ = {**plan.as_dict(), **shares, "rows_for_caps": n_hat,
                        "table_noise": "discrete_laplace" if sigma is None else
                        "discrete_gaussian", "table_sigma": sigma}
        self._discretizer = disc
        return FitDetails(noisy_rows=n_rows, description=self.describe(n_rows),
                          noise=_noise_text(plan.mode, sigma is not None),
                          contents=_contents_text(plan.mode))

    def fit_tables(self, tables: Mapping[str, pd.DataFrame], *, schemas: Mapping[str, Schema],
                   relations: Any, epsilon: float, max_children: int,
                   accountant: Any = None, release: str | None = None,
                   noise: Noise | None = None, parent_share: float | None = None,
                   on_out_of_domain: str = "error", max_child_rows: int | None = None,
                   links: Mapping[str, Any] | None = None) -> Any:
        """Fit a parent table and its child table as one release; returns a ``TablesModel``.

        The privacy unit is one parent row with up to ``max_children`` of its
        child rows (the key's value): children beyond ``k`` are not used (a
        uniform random ``k`` is kept), and children whose key is missing or
        matches no parent are dropped. The parent model learns the parent's
        columns and each parent's number of children (``0..k``); the child
        model learns each child row with its parent's columns, which come first
        in its network. See :mod:`privsynth.engines.tables` and docs/units.md.

        Parameters
        ----------
        tables : mapping of str to DataFrame
            ``{parent: ..., child: ...}``, the names of the relation.
        schemas : mapping of str to Schema
            The public schema of each table; the key is an ``id`` column in both
            (not nullable in the parent).
        relations : list of Relation
            One :class:`~privsynth.engines.tables.Relation` (more are refused).
        epsilon : float
            The release's own guarantee for the whole set of tables.
        max_children : int
            ``k``, public: the most children of one parent the fit uses.
        accountant : Accountant, optional
            The data set's ledger; its unit must be the key.
        release : str, optional
            The release id (new); default ``privbayes-tables-<time>-<random>``.
        noise : Noise, optional
            Source of privacy noise (``Noise.insecure_for_tests`` for tests).
        parent_share : float, optional
            The parent model's share of epsilon; default ``p / (p + c + p)`` for
            ``p`` parent columns (with ``n_children``) and ``c`` child columns,
            whose tables are all conditioned on the ``p`` (the child model gets
            the rest).
        on_out_of_domain : {"error", "clip", "map_to_missing"}, default "error"
            What to do with values outside the schemas' domains.
        max_child_rows : int, optional
            ``k' <= k``: the child model learns from at most ``k'`` of each
            parent's children (a uniform random subset; its noise is ``k'``-fold,
            not ``k``-fold); default 1 (least noise per unit of signal at
            moderate epsilon). ``n_children`` still counts up to ``k``.
        links : mapping of str to str or list of str, optional
            Public declarations that a child column depends on parent columns,
            e.g. ``{"distance": "seats"}``: the child model gives that column
            those parents without a structure draw (the draw of one column among
            many can miss a link that a few thousand parents carry), and its
            table more of the budget. Kept when its table fits the cap of a
            link's table (the tables' cell cap scaled by that larger share, at
            most ``max_clique_cells``); ``describe()["budget"]["links"]`` of the
            child model says what was kept. Refused with ``degree=0`` and with
            more parents than a fixed ``degree``.
        """
        from privsynth.engines.tables import fit_tables

        return fit_tables(self, tables, schemas=schemas, relations=relations,
                          epsilon=epsilon, accountant=accountant, max_children=max_children,
                          release=release, noise=noise, parent_share=parent_share,
                          on_out_of_domain=on_out_of_domain, max_child_rows=max_child_rows,
                          links=links)

    def _fixed_caps(self) -> dict[str, Any]:
        """The caps the user set explicitly (they override the budget rule)."""
        names = ("degree", "structure_share", "max_levels", "max_parent_levels", "max_degree",
                 "max_bins")
        out: dict[str, Any] = {k: getattr(self, k) for k in names
                               if getattr(self, k) is not None}
        out["marginal_share"] = self.marginal_share
        return out

    # ------------------------------------------------------------------ sample
    def _draw_raw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """Plain ancestral sampling of the network (no conditions, no rules)."""
        lvl = ancestral_levels(self.network_, self.tables_, self.levels_, n, rng)
        return self._decode_levels(lvl, {}, rng)

    def _decode_levels(self, lvl: Any, fixed: Mapping[int, int],
                       rng: np.random.Generator) -> pd.DataFrame:
        """Rows from network levels; columns in ``fixed`` take that fine code."""
        fine = np.empty_like(lvl)
        for j, lev in enumerate(self.levels_):
            fine[:, j] = fixed[j] if j in fixed else draw_within(lev, lvl[:, j], rng)
        return self._discretizer.decode(fine, rng)

    def _exact_plan(self, rules: tuple[Any, ...], conditions: Mapping[str, Any]) -> Any:
        from privsynth.engines.privbayes._conditions import exact_plan

        return exact_plan(self, rules, conditions)

    # ------------------------------------------------------------------ files
    def _to_payload(self) -> dict[str, Any]:
        return {
            "network": [[c, list(ps)] for c, ps in self.network_],
            "tables": list(self.tables_),
            "levels": [{"fine_to_level": lev.fine_to_level, "level_to_parent": lev.level_to_parent,
                        "within": lev.within} for lev in self.levels_],
            "budget": dict(self.budget_),
        }

    def _from_payload(self, payload: Mapping[str, Any], schema: Schema) -> None:
        # the budget decision is checked first: a forged one is a ModelFileError
        bins = _budget_from_payload(payload.get("budget")).get("max_bins") or self.max_bins \
            or BINS
        if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= 1 << 20:
            raise ModelFileError("the model's number of public bins (budget.max_bins) is not "
                                 "an integer of at least 2")
        disc = Discretizer(schema, max_bins=bins)
        levels = [Levels(np.asarray(x["fine_to_level"], np.int64),
                         np.asarray(x["level_to_parent"], np.int64),
                         np.asarray(x["within"], np.float64)) for x in payload["levels"]]
        network = [(int(c), tuple(int(q) for q in ps)) for c, ps in payload["network"]]
        tables = [np.asarray(t, np.float64) for t in payload["tables"]]
        _validate_model(disc, levels, network, tables)
        self.levels_ = levels
        self.network_ = network
        self.tables_ = tables
        self.clique_cap_ = 0
        self.budget_ = _budget_from_payload(payload.get("budget"))
        self._discretizer = disc

    # ---------------------------------------------------------------- describe
    def network_graph(self) -> nx.DiGraph:
        """The learned network as a networkx DAG over column names (for reports)."""
        self._check_fitted()
        return network_graph(self.network_, self._discretizer.schema.names)

    def describe(self, n_hat: float | None = None) -> dict[str, Any]:
        """The learned network for reports: edges, degrees, coarsened columns and the
        budget rule's decision (``"budget"``: mode, reason, shares and caps)."""
        names = self._discretizer.schema.names  # the modelled columns
        coarsened = [names[j] for j, lev in enumerate(self.levels_)
                     if lev.n_levels < len(lev.fine_to_level)]
        rows = n_hat if n_hat is not None else self.record_.noisy_rows
        return {
            "network": [{"child": names[c], "parents": [names[p] for p in ps]}
                        for c, ps in self.network_],
            "degree": max((len(ps) for _, ps in self.network_), default=0),
            "coarsened_columns": coarsened,
            "noisy_row_count": rows,
            "budget": dict(getattr(self, "budget_", {})),
        }


def _verbose_logging() -> None:
    """``verbose=True``: show this engine's INFO logs on stderr (once)."""
    logger = logging.getLogger("privsynth")
    if not any(getattr(h, "_privsynth_verbose", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(name)s] %(message)s"))
        handler._privsynth_verbose = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)


def _budget_from_payload(raw: object) -> dict[str, Any]:
    """The budget decision of a model file (public numbers and words; {} if absent)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str | int | float))
            for k, v in raw.items()):
        raise ModelFileError("the model's budget decision is not a mapping of numbers and words")
    return dict(raw)


def _validate_model(disc: Discretizer, levels: list[Levels], network: Network,
                    tables: list[FloatArray]) -> None:
    d = len(disc.sizes)
    if len(levels) != d or len(tables) != len(network):
        raise ModelFileError("the model's levels or tables do not match its schema")
    if sorted(c for c, _ in network) != list(range(d)):
        raise ModelFileError("the model's network does not cover every column exactly once")
    seen: set[int] = set()
    for (child, parents), table in zip(network, tables, strict=True):
        if any(p not in seen for p in parents):
            raise ModelFileError("the model's network is not in ancestral order")
        seen.add(child)
        lev = levels[child]
        if len(lev.fine_to_level) != disc.sizes[child] or len(lev.within) != disc.sizes[child]:
            raise ModelFileError("the model's levels do not match the schema's bins")
        if lev.fine_to_level.min() < 0 or lev.level_to_parent.min() < 0 \
                or len(lev.level_to_parent) != lev.n_levels:
            raise ModelFileError("the model's level maps are invalid")
        rows = math.prod(levels[p].n_parent_levels for p in parents)
        if table.shape != (rows, lev.n_levels):
            raise ModelFileError("a conditional table has the wrong shape")
        if not np.all(np.isfinite(table)) or table.min() < 0 \
                or not np.allclose(table.sum(axis=1), 1.0, atol=1e-6):
            raise ModelFileError("a conditional table is not a probability table")
        if not np.all(np.isfinite(lev.within)) or lev.within.min() < 0:
            raise ModelFileError("a within-level distribution is invalid")
    if not nx.is_directed_acyclic_graph(network_graph(network)):  # implied; kept explicit
        raise ModelFileError("the model's network has a cycle")


__all__ = ["PrivBayes"]

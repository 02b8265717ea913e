"""PrivBayes: a differentially private Bayesian network (Zhang et al., ACM TODS 2017).

How the budget ``epsilon`` is spent (every draw is one ledger entry):

1. ``marginal_share``: noisy one-way histograms, on public fine bins, of the
   columns with more than ``max_parent_levels`` codes. They are post-processed
   (clipped, thresholded at the noise level) into (a) *levels*: groups of fine
   bins with about equal mass (numeric) or the most frequent categories plus
   "other" (categorical), used as the network's variables, and (b) the
   distribution of fine bins within each level, used when sampling. Their sum
   also gives a noisy row count; no exact count is ever used.
2. ``structure_share``: the network, built greedily; each (child, parents)
   choice is one exponential-mechanism draw. The score is
   G(X, P) = 1/2 * || C(X, P) - C(X) C(P) / n ||_1 on counts, the count form
   of the paper's R score, whose sensitivity under add/remove-one is at most 2
   whatever n (see ``_score_sensitivity``). Candidate parent sets are limited
   to cliques whose noisy table would be theta-useful (about ``theta`` expected
   count per unit of noise), which chooses the degree automatically.
3. the rest: one noisy joint table per (child, parents), discrete Laplace,
   with budget proportional to the square root of the table size (minimizes
   the total expected L1 error). Tables are clipped, shrunk toward the child's
   marginal where parents are rare, and normalized into conditionals.

Sampling is ancestral and vectorized; it is post-processing of DP outputs and
costs no budget. ``random_state`` seeds sampling only, never privacy noise.

>>> import pandas as pd
>>> from privsynth.schema import Schema
>>> schema = Schema.from_dict({"columns": [
...     {"name": "a", "kind": "categorical", "categories": ["x", "y"]},
...     {"name": "b", "kind": "integer", "lower": 0, "upper": 9}]})
>>> df = pd.DataFrame({"a": ["x", "y"] * 50, "b": list(range(10)) * 10})
>>> model = PrivBayes().fit(df, schema=schema, epsilon=1.0)
>>> model.sample(5, random_state=0).shape
(5, 2)
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from privsynth import mechanisms
from privsynth._limits import check_allocation
from privsynth._modelfile import read_model, write_model
from privsynth._types import FloatArray, IntArray
from privsynth.accounting import Accountant, PureDPEvent
from privsynth.backends import Clique, CountingBackend, open_backend
from privsynth.backends.base import check_columns
from privsynth.binning import Discretizer
from privsynth.columns import CategoricalColumn
from privsynth.engines.base import Synthesizer, check_epsilon, check_n, check_random_state
from privsynth.errors import DataValidationError, ModelFileError, ParameterError, SchemaError
from privsynth.mechanisms import Noise
from privsynth.schema import Schema

#: Sensitivity of G(X, P) = 1/2 ||C(X,P) - C(X)C(P)/n||_1 under add/remove-one.
#: Adding record (x0, p0): the joint table moves by 1 in L1; the product table
#: T = C(x)C(p)/n moves by [n p(x) d_p + n p(p) d_x + d_x d_p - n p(x) p(p)] / (n+1)
#: per cell (d_ = indicator of the new record), whose L1 norm is at most
#: (3n + 1)/(n + 1) < 3. So |dG| <= (1 + 3) / 2 = 2, for every n.
_SCORE_SENSITIVITY = 2.0
# int64 counts, int64 noisy counts, float64 projection and float64 table
_TABLE_BYTES_PER_CELL = 32
#: Relative probability floor of a value or level the noisy counts made empty.
_MASS_FLOOR = 1e-6

#: Candidate (child, parents) pairs scored per structure step at most; above
#: it, parent sets are a random (data-independent) selection. Bounds the work
#: on wide tables (d^(k+1) growth) without affecting privacy.
_MAX_CANDIDATES = 2_000


@dataclass(frozen=True)
class _Levels:
    """How one column's fine codes are grouped into network levels."""

    fine_to_level: IntArray  # fine code -> level
    level_to_parent: IntArray  # level -> parent level
    within: FloatArray  # P(fine | level), one entry per fine code

    @property
    def n_levels(self) -> int:
        return int(self.fine_to_level.max()) + 1

    @property
    def n_parent_levels(self) -> int:
        return int(self.level_to_parent.max()) + 1


def _ordered_groups(mass: FloatArray, k: int) -> IntArray:
    """Group consecutive cells into at most ``k`` groups of about equal mass.

    >>> _ordered_groups(np.array([0.1, 0.1, 0.6, 0.1, 0.1]), 3).tolist()
    [0, 0, 1, 2, 2]
    """
    m = len(mass)
    if m <= k:
        return np.arange(m, dtype=np.int64)
    total = float(mass.sum())
    if total <= 0:
        return (np.arange(m) * k // m).astype(np.int64)
    cum = np.cumsum(mass) / total
    groups = np.zeros(m, dtype=np.int64)
    g, start_cum = 0, 0.0
    for i in range(m):
        groups[i] = g
        # close the group when it holds its share of what is left, or the next
        # cell alone is a big point mass that deserves its own group
        left_groups = k - g
        share = (1.0 - start_cum) / left_groups
        nxt = mass[i + 1] / total if i + 1 < m else 0.0
        if g < k - 1 and i + 1 < m and (cum[i] - start_cum >= share * 0.999
                                         or (nxt >= share and cum[i] - start_cum > 0)):
            g += 1
            start_cum = cum[i]
    return groups


def _categorical_groups(mass: FloatArray, k: int) -> IntArray:
    """Top ``k - 1`` cells keep their own group, the rest share one "other" group."""
    m = len(mass)
    if m <= k:
        return np.arange(m, dtype=np.int64)
    order = np.argsort(-mass, kind="stable")
    groups = np.full(m, k - 1, dtype=np.int64)
    keep = np.sort(order[: k - 1])
    groups[keep] = np.arange(k - 1)
    return groups


def _g_score(table: FloatArray) -> float:
    """G = 1/2 ||T - row x col / n||_1 for a 2-d count table (child x parents)."""
    n = table.sum()
    if n <= 0:
        return 0.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    return 0.5 * float(np.abs(table - expected).sum())


class PrivBayes(Synthesizer):
    """Differentially private Bayesian network synthesizer.

    Parameters
    ----------
    degree : int or None, default None
        Most parents per attribute. ``None`` chooses it from the data size and
        budget by the paper's theta-usefulness rule (up to ``max_degree``).
    structure_share : float, default 0.3
        Share of epsilon for learning the network structure.
    marginal_share : float, default 0.1
        Share of epsilon for one-way histograms used to choose levels.
    theta : float, default 4.0
        Usefulness threshold: a table is allowed when its expected count per
        cell is at least ``theta`` times the noise scale.
    max_bins : int, default 128
        Public bins of a numeric column (see :class:`~privsynth.binning.Discretizer`).
    max_levels : int, default 16
        Most levels of an attribute as a child in the network.
    max_parent_levels : int, default 8
        Most levels of an attribute when it is a parent.
    max_degree : int, default 3
        Upper limit on the degree chosen when ``degree`` is None.
    max_clique_cells : int, default 1_000_000
        Hard cap on the cells of one table (a resource limit).
    structure_rows : int, default 200_000
        Above this (noisy) row count, structure scores are computed on a
        Poisson subsample (which only strengthens privacy).
    verbose : bool, default False
        Print progress to stderr.
    """

    name = "privbayes"

    def __init__(
        self,
        degree: int | None = None,
        structure_share: float = 0.3,
        marginal_share: float = 0.1,
        theta: float = 4.0,
        max_bins: int = 128,
        max_levels: int = 16,
        max_parent_levels: int = 8,
        max_degree: int = 3,
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
        self.max_clique_cells = max_clique_cells
        self.structure_rows = structure_rows
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        def bad(name: str, allowed: str) -> ParameterError:
            return ParameterError(f"PrivBayes: {name}={getattr(self, name)!r}; allowed: {allowed}")

        if self.degree is not None and (not isinstance(self.degree, int) or self.degree < 0):
            raise bad("degree", "None or an integer >= 0")
        for share in ("structure_share", "marginal_share"):
            v = getattr(self, share)
            if not isinstance(v, int | float) or not 0 <= v < 1:
                raise bad(share, "a number in [0, 1)")
        if self.structure_share + self.marginal_share >= 1:
            raise ParameterError("PrivBayes: structure_share + marginal_share must be below 1 "
                                 "(the rest pays for the conditional tables)")
        if not isinstance(self.theta, int | float) or self.theta <= 0:
            raise bad("theta", "a positive number")
        for name, lo in (("max_bins", 2), ("max_levels", 2), ("max_parent_levels", 2),
                         ("max_degree", 0), ("max_clique_cells", 2), ("structure_rows", 1000)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise bad(name, f"an integer >= {lo}")

    def _log(self, msg: str) -> None:
        if self.verbose:
            print(f"[privbayes] {msg}", file=sys.stderr, flush=True)

    # --------------------------------------------------------------------- fit
    def fit(
        self,
        data: pd.DataFrame | str | Path | Any,
        *,
        schema: Schema,
        epsilon: float,
        accountant: Accountant | None = None,
        noise: Noise | None = None,
        delta: float = 0.0,
        backend: str | None = None,
        backend_options: dict[str, Any] | None = None,
    ) -> PrivBayes:
        """Learn the network from ``data`` spending exactly ``epsilon`` (pure DP).

        Parameters
        ----------
        data : pandas DataFrame, dask DataFrame, str, Path or list of paths
            The private table; columns must match ``schema``. A dask
            DataFrame, or CSV/Parquet files given as a path, directory or glob,
            are counted partition by partition (see :mod:`privsynth.backends`).
        schema : Schema
            Public domains of the columns.
        epsilon : float
            Budget of this fit (pure epsilon-DP; ``delta`` is not used).
        accountant : Accountant, optional
            The data set's accountant; a fresh one of exactly ``epsilon`` otherwise.
        noise : Noise, optional
            Source of privacy noise; default is the OS CSPRNG. A seeded noise
            (``Noise.insecure_for_tests``) makes the fit reproducible and NOT private.
        delta : float
            Accepted for interface symmetry; PrivBayes uses delta = 0.
        backend : {"numpy", "dask", "chunked"} or None
            Where the exact counts are computed; ``None`` follows the type of
            ``data``. Every backend gives the same model for the same rows and noise.
        backend_options : dict, optional
            Passed to the backend (e.g. ``{"persist": False}`` for Dask).
        """
        self._check_params()
        eps = check_epsilon(epsilon)
        if not isinstance(schema, Schema):
            raise SchemaError("fit needs schema=Schema(...); use privsynth.Schema.from_json")
        # counts, noise and float copies of the largest table allowed (before any data)
        check_allocation(float(self.max_clique_cells) * _TABLE_BYTES_PER_CELL,
                         f"one table of up to {self.max_clique_cells:,} cells "
                         "(max_clique_cells)")
        acct = accountant if accountant is not None else Accountant(eps)
        # Preflight: refuse before touching the data.
        acct.check([PureDPEvent(eps, mechanism="privbayes")], label="PrivBayes.fit")
        noise = noise if noise is not None else Noise()

        disc = Discretizer(schema, max_bins=self.max_bins)
        # Every pass over the rows goes through the backend; it returns exact
        # counts only, and all noise below is drawn here, in the driver.
        counter = open_backend(data, disc, backend, **(backend_options or {}))
        d = len(disc.sizes)
        sizes = np.asarray(disc.sizes, dtype=np.int64)
        hists = counter.histograms()
        self._log(f"encoded {d} columns ({counter.name} backend)")

        # ---- 1. one-way histograms -> levels (and noisy n)
        need_hist = [j for j in range(d) if sizes[j] > self.max_parent_levels]
        eps_marg = eps * self.marginal_share if need_hist else 0.0
        eps_n = 0.0
        if not need_hist:
            eps_n = eps * 0.01
        eps_struct = eps * self.structure_share if d > 1 else 0.0
        eps_tables = eps - eps_marg - eps_n - eps_struct

        levels: list[_Levels] = []
        n_hat: float | None = None
        # Every noisy histogram's sum estimates n; its variance grows with its cell count
        # (same epsilon for all), so the inverse-variance weighted mean of the sums is the
        # best free estimate (post-processing, no extra budget).
        sum_num = sum_den = 0.0
        per_hist = eps_marg / len(need_hist) if need_hist else 0.0
        for j in range(d):
            col = schema.columns[j]
            counts = hists[j]
            if j in need_hist:
                noisy = mechanisms.discrete_laplace(
                    counts, epsilon=per_hist, accountant=acct,
                    label=f"privbayes/marginal/{col.name}", noise=noise)
                sum_num += float(noisy.sum()) / sizes[j]
                sum_den += 1.0 / sizes[j]
                levels.append(self._make_levels(col, disc.bins[j].missing_code,
                                                noisy.astype(np.float64)))
            else:
                levels.append(self._make_levels(col, None, None, size=int(sizes[j])))
        if sum_den > 0:
            n_hat = sum_num / sum_den
        if n_hat is None:
            n_hat = float(mechanisms.noisy_count(int(hists[0].sum()), epsilon=eps_n,
                                                 accountant=acct,
                                                 label="privbayes/row_count", noise=noise))
        n_hat = max(n_hat, 1.0)
        self._log(f"levels chosen; noisy row count {n_hat:.0f}")

        n_lv = [levels[j].n_levels for j in range(d)]
        n_pv = [levels[j].n_parent_levels for j in range(d)]

        # ---- 2. structure
        eps_table_each = eps_tables / d
        cap = n_hat * eps_table_each / self.theta
        cap = int(min(self.max_clique_cells, max(cap, 2)))
        network = self._learn_structure(counter, levels, n_lv, n_pv, cap, eps_struct, n_hat,
                                        acct, noise, schema)

        # ---- 3. conditional tables
        cells = [n_lv[c] * int(np.prod([n_pv[p] for p in ps], dtype=np.int64))
                 for c, ps in network]
        # After the structure was charged (its spending stays on the ledger); every
        # table is below max_clique_cells, checked before the data was touched.
        check_allocation(float(sum(cells)) * _TABLE_BYTES_PER_CELL,
                         f"the {len(cells)} conditional tables ({sum(cells):,} cells)")
        weights = np.sqrt(np.asarray(cells, dtype=np.float64))
        eps_each = list(eps_tables * weights / weights.sum())
        eps_each[-1] = eps_tables - math.fsum(eps_each[:-1])
        tables: list[FloatArray] = []
        # one pass over the rows for all tables: fine code -> child level / parent level
        fine_pv = [lev.level_to_parent[lev.fine_to_level] for lev in levels]
        exact = counter.joint_counts([
            Clique((child, *parents),
                   (levels[child].fine_to_level, *(fine_pv[p] for p in parents)),
                   (n_lv[child], *(n_pv[p] for p in parents)))
            for child, parents in network])
        counter.close()
        for (child, parents), e_i, counts in zip(network, eps_each, exact, strict=True):
            noisy = mechanisms.discrete_laplace(
                counts, epsilon=e_i, accountant=acct, noise=noise,
                label=f"privbayes/table/{schema.columns[child].name}"
                      f"|{','.join(schema.columns[p].name for p in parents)}")
            tables.append(self._conditional(noisy, n_lv[child], [n_pv[p] for p in parents],
                                            1.0 / e_i))
        self._log("conditional tables drawn")

        self.schema_ = schema
        self.accountant_ = acct
        self.epsilon_ = eps
        self.delta_ = 0.0
        self.levels_ = levels
        self.network_ = network
        self.tables_ = tables
        self.n_hat_ = n_hat
        self.clique_cap_ = cap
        self.reproducible_noise_ = noise.reproducible
        self._discretizer = disc
        return self

    def _make_levels(self, col: object, missing_code: int | None, noisy: FloatArray | None,
                     size: int = 0) -> _Levels:
        """Levels from a noisy histogram (or identity when no histogram was needed)."""
        if noisy is None:
            ident = np.arange(size, dtype=np.int64)
            return _Levels(ident, ident.copy(), np.ones(size, dtype=np.float64))
        m = len(noisy)
        # Norm-sub: the Euclidean projection of the noisy counts onto
        # {x >= 0, sum x = noisy total}. It zeroes the cells that noise alone
        # explains and keeps the rest. It replaced a threshold at ln(m) noise scales,
        # which erased real cells whenever the per-histogram epsilon was small
        # (e.g. ACS age lost its lower range): ACS eps 1, 3 seeds: tvd1
        # 0.122 -> 0.063, tvd2 0.242 -> 0.151; Adult eps 1, 4 seeds: tvd1 0.034 ->
        # 0.021, tvd2 0.078 -> 0.056; Adult eps 0.3: tvd2 0.225 -> 0.107.
        mass = _project_rows(np.asarray(noisy, dtype=np.float64)[None, :])[0]
        if mass.sum() <= 0:
            mass = np.ones(m)
        value_cells = np.arange(m) if missing_code is None else np.arange(m - 1)
        vm = mass[value_cells]
        if isinstance(col, CategoricalColumn):
            groups = _categorical_groups(vm, self.max_levels)
        else:
            groups = _ordered_groups(vm, self.max_levels)
        fine_to_level = np.empty(m, dtype=np.int64)
        fine_to_level[value_cells] = groups
        n_val_levels = int(groups.max()) + 1
        if missing_code is not None:
            fine_to_level[missing_code] = n_val_levels
        n_levels = int(fine_to_level.max()) + 1
        level_mass = np.bincount(fine_to_level, weights=mass, minlength=n_levels)
        vl = level_mass[:n_val_levels].astype(np.float64)
        if isinstance(col, CategoricalColumn):
            lp = _categorical_groups(vl, self.max_parent_levels - (missing_code is not None))
        else:
            lp = _ordered_groups(vl, self.max_parent_levels - (missing_code is not None))
        level_to_parent = np.empty(n_levels, dtype=np.int64)
        level_to_parent[:n_val_levels] = lp
        if missing_code is not None:
            level_to_parent[n_val_levels] = int(lp.max()) + 1
        # P(fine | level): the noisy mass within each level, uniform if none. A floor of
        # a millionth of the mean cell keeps every value of the domain possible (norm-sub
        # zeroes cells), so conditioning on a rare value (sample(conditions=...)) works.
        within = mass + _MASS_FLOOR * mass.sum() / m
        for g in range(n_levels):
            members = fine_to_level == g
            tot = within[members].sum()
            within[members] = within[members] / tot if tot > 0 else 1.0 / members.sum()
        return _Levels(fine_to_level, level_to_parent, within)

    def _candidate_parent_sets(self, child: int, chosen: Sequence[int], n_lv: Sequence[int],
                               n_pv: Sequence[int], cap: int, max_sets: int,
                               rng: np.random.Generator) -> list[tuple[int, ...]]:
        """Maximal feasible parent sets for ``child`` among ``chosen``.

        Feasible: the table has at most ``cap`` cells (theta-usefulness; with a
        fixed degree, the resource cap). Maximal: no chosen attribute can be
        added without breaking feasibility (G is monotone, so a superset always
        scores at least as high). When there are more than ``max_sets`` subsets
        of one size, a uniformly random (data-independent) selection is used.
        """
        k_max = self.degree if self.degree is not None else self.max_degree
        k_max = min(k_max, len(chosen))
        limit = cap if self.degree is None else self.max_clique_cells
        by_size = sorted(chosen, key=lambda p: n_pv[p])
        out: list[tuple[int, ...]] = []

        def extendable(ps: tuple[int, ...], cells: int) -> bool:
            if len(ps) >= k_max:
                return False
            for p in by_size:
                if p not in ps:
                    return cells * n_pv[p] <= limit
            return False

        for k in range(k_max, 0, -1):
            if n_lv[child] * math.prod(n_pv[p] for p in by_size[:k]) > limit:
                continue
            if math.comb(len(chosen), k) <= max_sets:
                pool: Iterable[tuple[int, ...]] = itertools.combinations(chosen, k)
            else:
                arr = np.asarray(chosen)
                pool = sorted({tuple(sorted(int(v) for v in rng.choice(arr, k, replace=False)))
                               for _ in range(max_sets)})
            for ps in pool:
                cells = n_lv[child] * math.prod(n_pv[p] for p in ps)
                if cells <= limit and (self.degree is not None or not extendable(ps, cells)):
                    out.append(ps)
            if self.degree is not None and out:
                break  # a fixed degree uses the largest feasible size only
        if not out or not extendable((), n_lv[child]):
            out.append(())
        return out

    def _learn_structure(self, counter: CountingBackend, levels: list[_Levels], n_lv: list[int],
                         n_pv: list[int], cap: int, eps_struct: float, n_hat: float,
                         acct: Accountant, noise: Noise, schema: Schema
                         ) -> list[tuple[int, tuple[int, ...]]]:
        d = len(levels)
        # Data-independent randomness (first attribute, Bernoulli subsample): it is
        # not privacy noise, but follows the noise seed in the insecure test mode.
        rng = noise.generator() if noise.reproducible else np.random.default_rng()
        # Rows are kept by a counter-based draw keyed by (key, global row position),
        # so every backend keeps the same rows whatever the partitioning.
        rate = self.structure_rows / n_hat if n_hat > self.structure_rows else 1.0
        row_key = int(rng.integers(0, 2**63)) if rate < 1.0 else 0
        first = int(rng.integers(d))
        network: list[tuple[int, tuple[int, ...]]] = [(first, ())]
        chosen = [first]
        if d == 1:
            return network
        codes_s = counter.bernoulli_subsample(rate, row_key)
        # column-major: every score reads whole columns (a row-major column read
        # strides over all d columns and was the main cost on wide tables)
        lv_s = np.empty(codes_s.shape, dtype=np.int64, order="F")
        pv_s = np.empty(codes_s.shape, dtype=np.int64, order="F")
        for j, lev in enumerate(levels):
            lv_s[:, j] = lev.fine_to_level[codes_s[:, j]]
            pv_s[:, j] = lev.level_to_parent[lv_s[:, j]]
        eps_step = eps_struct / (d - 1)
        parent_codes: dict[tuple[int, ...], tuple[IntArray, int]] = {(): (np.zeros(len(lv_s),
                                                                                   np.int64), 1)}
        scores: dict[tuple[int, tuple[int, ...]], float] = {}

        # The cache of parent-set codes is bounded (~256 MB): unbounded, it held one
        # int64 column per parent set ever scored (6 GB on 1M x 30).
        max_cached = max(64, (256 << 20) // max(1, 8 * len(lv_s)))

        def pcode(ps: tuple[int, ...]) -> tuple[IntArray, int]:
            hit = parent_codes.get(ps)
            if hit is not None:
                return hit
            base, mult = pcode(ps[:-1])
            out = (base * n_pv[ps[-1]] + pv_s[:, ps[-1]], mult * n_pv[ps[-1]])
            if len(parent_codes) < max_cached:
                parent_codes[ps] = out
            return out

        while len(chosen) < d:
            cands: list[tuple[int, tuple[int, ...]]] = []
            vals: list[float] = []
            remaining = [x for x in range(d) if x not in chosen]
            per_child = max(20, _MAX_CANDIDATES // len(remaining))
            for x in remaining:
                for ps in self._candidate_parent_sets(x, sorted(chosen), n_lv, n_pv, cap,
                                                      per_child, rng):
                    key = (x, ps)
                    if key not in scores:
                        pc, mult = pcode(ps)
                        t = np.bincount(lv_s[:, x] * mult + pc, minlength=n_lv[x] * mult)
                        scores[key] = _g_score(t.reshape(n_lv[x], mult).astype(np.float64))
                    cands.append(key)
                    vals.append(scores[key])
            i = mechanisms.exponential(
                vals, epsilon=eps_step, sensitivity=_SCORE_SENSITIVITY, accountant=acct,
                noise=noise, label=f"privbayes/structure/step{len(chosen)}")
            x, ps = cands[i]
            network.append((x, ps))
            chosen.append(x)
            self._log(f"structure {len(chosen)}/{d}: {schema.columns[x].name} <- "
                      f"{[schema.columns[p].name for p in ps]}")
        return network

    @staticmethod
    def _conditional(noisy: IntArray, n_child: int, parent_sizes: list[int],
                     scale: float) -> FloatArray:
        """P(child | parents) of shape (parent configs, child levels) from noisy counts."""
        n_par = int(np.prod(parent_sizes, dtype=np.int64)) if parent_sizes else 1
        # Norm-sub consistency: per parent configuration, the Euclidean projection of
        # the noisy counts onto {x >= 0, sum x = max(noisy total, 0)}. Plain clipping
        # at 0 adds about half a noise scale to every empty cell; on Adult at epsilon 1
        # norm-sub lowered tvd2 0.083 -> 0.076 and raised TSTR AUC 0.867 -> 0.877 (8 seeds).
        t = _project_rows(noisy.astype(np.float64).reshape(n_child, n_par).T)
        marg = t.sum(axis=0)
        marg = marg / marg.sum() if marg.sum() > 0 else np.full(n_child, 1.0 / n_child)
        marg = (marg + _MASS_FLOOR / n_child) / (1.0 + _MASS_FLOOR)  # no impossible level
        # shrink rare parent configurations toward the child's marginal: a
        # pseudo-count of one noise scale spread by the marginal
        t = t + scale * marg[None, :]
        return t / t.sum(axis=1, keepdims=True)

    # ------------------------------------------------------------------ sample
    def sample(self, n: int, *, random_state: int | None = None,
               conditions: Mapping[str, Any] | None = None,
               constraints: Sequence[Any] = (), max_tries: int | None = None) -> pd.DataFrame:
        """Draw ``n`` synthetic rows (post-processing; costs no privacy budget).

        ``random_state`` makes the *sampling* reproducible for a fitted model;
        it has nothing to do with the privacy noise drawn during ``fit``.

        ``conditions`` ({column: value}) samples from the network's exact
        conditional distribution: the evidence is clamped and its ancestors
        are drawn from their posterior (see :mod:`privsynth.engines._pb_inference`).
        The schema's constraints (plus ``constraints``, for this call only)
        always hold: rules on categorical columns are folded into the network
        exactly where possible, the others are enforced by rejection with at
        most ``max_tries`` raw rows per row (see :mod:`privsynth.constraints`).
        """
        from privsynth.engines._sampling import DEFAULT_MAX_TRIES

        self._check_fitted()
        n = check_n(n)
        return self._sample_constrained(
            n, random_state=check_random_state(random_state), draw=self._draw_raw,
            conditions=conditions, constraints=constraints,
            max_tries=DEFAULT_MAX_TRIES if max_tries is None else max_tries,
            exact=self._exact_plan)

    def _draw_raw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """Plain ancestral sampling of the network (no conditions, no rules)."""
        d = len(self.levels_)
        lvl = np.zeros((n, d), dtype=np.int64)
        par = np.zeros((n, d), dtype=np.int64)
        for (child, parents), table in zip(self.network_, self.tables_, strict=True):
            idx = np.zeros(n, dtype=np.int64)
            for p in parents:
                idx = idx * self.levels_[p].n_parent_levels + par[:, p]
            lvl[:, child] = _draw_rows(table, idx, rng)
            par[:, child] = self.levels_[child].level_to_parent[lvl[:, child]]
        fine = np.empty_like(lvl)
        for j, lev in enumerate(self.levels_):
            fine[:, j] = _draw_within(lev, lvl[:, j], rng)
        return self._discretizer.decode(fine, rng)

    def _decode_levels(self, lvl: IntArray, fixed: Mapping[int, int],
                       rng: np.random.Generator) -> pd.DataFrame:
        """Rows from network levels; columns in ``fixed`` take that fine code."""
        fine = np.empty_like(lvl)
        for j, lev in enumerate(self.levels_):
            fine[:, j] = fixed[j] if j in fixed else _draw_within(lev, lvl[:, j], rng)
        return self._discretizer.decode(fine, rng)

    def _foldable(self, rule: Any) -> bool:
        """Whether ``rule`` is a 0/1 function of network levels (so it folds in exactly).

        True for combination and conditional rules whose columns are all
        categorical, boolean, or integer-like with one value per bin, and are
        not grouped into coarser levels.
        """
        from privsynth.constraints import (
            AllowedCombinations,
            Conditional,
            ForbiddenCombinations,
        )

        if not isinstance(rule, AllowedCombinations | ForbiddenCombinations | Conditional):
            return False
        names = self.schema_.names
        cells = 1
        for name in rule.columns:
            j = names.index(name)
            bins, lev = self._discretizer.bins[j], self.levels_[j]
            exact_bins = not bins.column.is_numeric or (
                bins.integral and bool(np.all(np.diff(np.asarray(bins.edges)) == 1)))
            m = len(lev.fine_to_level)
            if not exact_bins or not np.array_equal(lev.fine_to_level, np.arange(m)):
                return False
            cells *= m
        return cells <= 1_000_000

    def _rule_factor(self, rule: Any) -> Any:
        """A foldable rule as a 0/1 factor over its columns' levels."""
        from privsynth.engines._pb_inference import Factor

        names = self.schema_.names
        js = [names.index(c) for c in rule.columns]
        sizes = [len(self.levels_[j].fine_to_level) for j in js]
        grid = np.indices(sizes).reshape(len(js), -1)
        unused = np.random.default_rng(0)  # decoding one-value bins draws nothing
        df = pd.DataFrame({names[j]: self._discretizer.decode_column(
            self._discretizer.bins[j], grid[k], unused) for k, j in enumerate(js)})
        ok = rule.satisfied(df, self.schema_).astype(np.float64).reshape(sizes)
        return Factor(tuple(js), ok)

    def _exact_plan(self, rules: tuple[Any, ...], conditions: Mapping[str, Any]) -> Any:
        """Exact raw samplers for ``conditions`` with the foldable ``rules`` folded in."""
        from privsynth.engines._pb_inference import ConditionalSampler

        names = self.schema_.names
        disc = self._discretizer
        fixed: dict[int, int] = {}
        for name, value in conditions.items():
            j = names.index(name)
            b = disc.bins[j]
            code = b.missing_code if value is None \
                else int(disc.encode_column(b, pd.Series([value]))[0])
            assert code is not None
            fixed[j] = code
        evidence = {j: int(self.levels_[j].fine_to_level[f]) for j, f in fixed.items()}
        # rules reading a generated column (formula, key) are checked after generation
        generated = {r.column for r in rules if r.kind in ("formula", "unique")}
        folded = tuple(r for r in rules
                       if self._foldable(r) and not generated.intersection(r.columns))
        n_lv = [lev.n_levels for lev in self.levels_]
        to_parent = [lev.level_to_parent for lev in self.levels_]
        sampler = ConditionalSampler(n_lv, to_parent, self.network_, self.tables_, evidence,
                                     [self._rule_factor(r) for r in folded])

        def draw(m: int, rng: np.random.Generator) -> pd.DataFrame:
            return self._decode_levels(sampler.sample(m, rng), fixed, rng)

        if not folded:
            return draw, folded, None
        plain = ConditionalSampler(n_lv, to_parent, self.network_, self.tables_, evidence)

        def draw_plain(m: int, rng: np.random.Generator) -> pd.DataFrame:
            return self._decode_levels(plain.sample(m, rng), fixed, rng)

        return draw, folded, draw_plain

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> None:
        """Write the model: schema, network and noisy tables only (no training rows)."""
        self._check_fitted()
        payload: dict[str, Any] = {
            "params": self.get_params(),
            "schema": self.schema_.to_dict(),
            "epsilon": self.epsilon_,
            "delta": self.delta_,
            "n_hat": self.n_hat_,
            "reproducible_noise": self.reproducible_noise_,
            "network": [[c, list(ps)] for c, ps in self.network_],
            "tables": list(self.tables_),
            "levels": [{"fine_to_level": lev.fine_to_level, "level_to_parent": lev.level_to_parent,
                        "within": lev.within} for lev in self.levels_],
        }
        write_model(path, self.name, payload)

    @classmethod
    def load(cls, path: str | Path) -> PrivBayes:
        """Read a model written by :meth:`save`, validating every part."""
        p = read_model(path, cls.name)
        try:
            model = cls(**p["params"])
            model._check_params()
            schema = Schema.from_dict(p["schema"])
            disc = Discretizer(schema, max_bins=model.max_bins)
            levels = [_Levels(np.asarray(x["fine_to_level"], np.int64),
                              np.asarray(x["level_to_parent"], np.int64),
                              np.asarray(x["within"], np.float64)) for x in p["levels"]]
            network = [(int(c), tuple(int(q) for q in ps)) for c, ps in p["network"]]
            tables = [np.asarray(t, np.float64) for t in p["tables"]]
            _validate_model(disc, levels, network, tables)
            model.schema_ = schema
            model.epsilon_ = float(p["epsilon"])
            model.delta_ = float(p["delta"])
            model.n_hat_ = float(p["n_hat"])
            model.reproducible_noise_ = bool(p["reproducible_noise"])
        except ModelFileError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, OverflowError, SchemaError,
                ParameterError) as exc:
            raise ModelFileError(f"{path}: the PrivBayes model is malformed: {exc}") from exc
        model.accountant_ = Accountant(max(model.epsilon_, 1e-12))
        model.levels_ = levels
        model.network_ = network
        model.tables_ = tables
        model.clique_cap_ = 0
        model._discretizer = disc
        return model

    def describe(self) -> dict[str, Any]:
        """The learned network for reports: edges, degrees and coarsened columns."""
        self._check_fitted()
        names = self.schema_.names
        coarsened = [names[j] for j, lev in enumerate(self.levels_)
                     if lev.n_levels < len(lev.fine_to_level)]
        return {
            "network": [{"child": names[c], "parents": [names[p] for p in ps]}
                        for c, ps in self.network_],
            "degree": max((len(ps) for _, ps in self.network_), default=0),
            "coarsened_columns": coarsened,
            "noisy_row_count": self.n_hat_,
        }


def _project_rows(t: FloatArray) -> FloatArray:
    """Each row of ``t`` projected onto {x >= 0, sum(x) = max(sum(row), 0)}.

    >>> _project_rows(np.array([[5.0, -3.0, 1.0], [-1.0, -2.0, 0.5]]))
    array([[3., 0., 0.],
           [0., 0., 0.]])
    """
    total = np.clip(t.sum(axis=1), 0.0, None)
    u = -np.sort(-t, axis=1)
    css = np.cumsum(u, axis=1)
    j = np.arange(1, t.shape[1] + 1)
    ok = u - (css - total[:, None]) / j > 0  # true on a prefix of each sorted row
    last = t.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1)
    shift = (css[np.arange(len(t)), last] - total) / (last + 1)
    out = np.clip(t - shift[:, None], 0.0, None)
    out[total <= 0] = 0.0
    return out


def _draw_rows(table: FloatArray, rows: IntArray, rng: np.random.Generator) -> IntArray:
    """For each i, a category drawn from the distribution ``table[rows[i]]``."""
    cdf = np.cumsum(table, axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(len(rows))
    out = np.empty(len(rows), dtype=np.int64)
    step = 200_000
    for s in range(0, len(rows), step):
        c = cdf[rows[s:s + step]]
        out[s:s + step] = (u[s:s + step, None] >= c).sum(axis=1)
    return np.minimum(out, table.shape[1] - 1)


def _draw_within(lev: _Levels, level: IntArray, rng: np.random.Generator) -> IntArray:
    """Fine codes drawn within each row's level by P(fine | level)."""
    m = len(lev.fine_to_level)
    if lev.n_levels == m and np.array_equal(lev.fine_to_level, np.arange(m)):
        return level
    # order fine codes by level; inverse-CDF inside each level's block
    order = np.argsort(lev.fine_to_level, kind="stable")
    block_level = lev.fine_to_level[order]
    start = np.searchsorted(block_level, np.arange(lev.n_levels), side="left")
    cum = np.cumsum(lev.within[order])
    base = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
    end = np.searchsorted(block_level, np.arange(lev.n_levels), side="right") - 1
    u = rng.random(len(level))
    target = base[level] + u * (cum[end[level]] - base[level])
    pos = np.searchsorted(cum, target, side="right")
    pos = np.clip(pos, start[level], end[level])
    return order[pos].astype(np.int64)


def _conform(data: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The data's schema columns, validated when the validation module is available."""
    check_columns(list(data.columns), schema)
    if len(data) == 0:
        raise DataValidationError("the data has no rows")
    from privsynth.validation import validate

    return validate(data[list(schema.names)], schema)


def _validate_model(disc: Discretizer, levels: list[_Levels],
                    network: list[tuple[int, tuple[int, ...]]], tables: list[FloatArray]) -> None:
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

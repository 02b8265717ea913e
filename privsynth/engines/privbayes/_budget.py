"""PrivBayes budget rules: caps and shares from public quantities, the split, the cap.

Everything here is a function of public numbers only (the schema's code counts,
epsilon, a noisy row count, the engine's parameters). The engine's fit calls
these functions, and so does the budget planner (:mod:`privsynth.planner`,
``engine_rules``), which therefore follows every change of the rules.

The fixed caps of the first PrivBayes (degree <= 3, 16 levels per column, parents
coarsened to 8 levels, 30 % of epsilon for the structure) were tuned for epsilon
near 1 on tables of tens of thousands of rows. Above that budget they bind and
quality stops rising; below it (a few hundred rows) the structure search cannot
see any dependency through the noise and the network does worse than
independent marginals. :func:`plan_budget` replaces them by a rule whose inputs
are public or DP outputs only:

* ``n_hat``, a noisy row count (its own small charge, ``COUNT_SHARE`` of epsilon),
* the fit's ``epsilon``,
* the number of columns ``d`` and their public domain sizes (schema bins).

It never reads the data, so two tables of the same public description (schema,
epsilon, noisy count) get the same plan.

The rule extends the theta-usefulness argument of PrivBayes (Zhang et al., TODS
2017, section 4.3). A noisy table of ``m`` cells measured with epsilon ``e``
(discrete Laplace, scale ``1/e`` per count) is *theta-useful* when its mean count
per cell is at least ``theta`` times the noise scale, ``n / m >= theta / e``, so a
table may have at most ``cap = n * e / theta`` cells, with ``e`` the tables' share
of epsilon over ``d`` tables. The paper uses ``cap`` to choose the degree; here it
also chooses how finely the table's variables are cut:

1. **Network or independent.** The structure is drawn by the exponential
   mechanism, one draw per column with ``e_step = e_structure / (d - 1)``, score
   sensitivity 2, among at most ``C`` candidates. A dependency of total-variation
   strength ``DEPENDENCY`` (the score gap is ``n * DEPENDENCY``) wins a draw with
   probability at least 1/2 when ``n * DEPENDENCY * e_step / (2 * 2) >= ln(2C)``
   (the utility bound of the exponential mechanism), and its 2 x 2 table is
   theta-useful when ``cap >= 4``. If either fails, no dependency can be estimated
   above the noise: the fit measures independent marginals only (every column's
   histogram with all of the budget but the count's, no structure spend).
2. **Structure share.** The exponential mechanism is sharp once candidates whose
   scores differ by ``SHARP * n`` are told apart with probability 1/2; budget
   beyond that buys nothing, so the structure share is the smaller of
   ``STRUCTURE_SHARE`` and what sharpness needs (never below ``STRUCTURE_FLOOR``).
   The rest goes to the tables: at large epsilon they get more.
3. **Levels.** A child of ``L`` levels with one parent of ``L`` levels fits the cap
   when ``L**2 <= cap``: ``max_levels`` is the power of two nearest (on a log
   scale) to ``sqrt(cap)``, between
   ``LEVELS`` (the old fixed cap) and ``MAX_LEVELS``.
4. **Parent levels.** The same with two parents (``Lp**3 <= cap``), between
   ``PARENT_LEVELS`` and ``MAX_PARENT_LEVELS``.
5. **Degree.** ``k`` parents are allowed when a child with ``k`` parents, every
   variable at 4 levels, fits the cap (``4**(k+1) <= cap``), between ``DEGREE``
   and ``MAX_DEGREE``. The structure search still limits every candidate table to
   ``cap`` cells, so the degree actually used adapts to the columns' sizes.
6. **Public bins** (:func:`fine_bins`). The same test on a one-way histogram:
   ``n * e_h / theta`` rows per numeric bin (``e_h`` one histogram's epsilon),
   between ``BINS`` (the old fixed 128) and ``MAX_BINS``. Measured (3 seeds, paired
   noise): ACS at epsilon 10, 512 bins: tvd1 0.050 -> 0.035, tvd2 0.117 -> 0.092,
   TSTR AUC 0.846 -> 0.843 (sd 0.013); Adult at 3, 256 bins: tvd2 0.041 -> 0.040, AUC
   0.891 -> 0.891. Finer still (``theta`` 2) helped ACS at 3 (tvd2 0.123 -> 0.107)
   but cost AUC on both data sets (-0.003 to -0.007); at epsilon 1, 512 bins made
   Adult worse (tvd2 0.056 -> 0.062), so small budgets keep 128.
7. **Score penalty** (off by default, see ``PENALTY``). A bigger table scores
   more (G never falls when a parent is added) but carries more noise: each
   candidate's score may lose ``PENALTY`` times the expected L1 noise its table
   adds (halved, as G is), ``cells_added / (2 e)``. A public constant per
   candidate: the score's sensitivity is unchanged.

The floors keep the fixed caps that were measured to be best at epsilon 1 on
Adult; only budgets with more signal per cell get finer tables. The constants
were calibrated on Adult and ACS (and 500- and 2,000-row draws of them);
penguins and nycflights13 were held out (see docs/benchmarks.md).

>>> p = plan_budget(n_hat=30_000, epsilon=1.0, sizes=[128] * 10 + [2] * 5)
>>> p.mode, p.max_levels, p.max_parent_levels, p.max_degree
('network', 16, 8, 3)
>>> plan_budget(n_hat=30_000, epsilon=10.0, sizes=[128] * 10 + [2] * 5).max_levels
64
>>> plan_budget(n_hat=300, epsilon=1.0, sizes=[128] * 10 + [2] * 5).mode
'independent'

The split, the theta cap and the table budgets:

>>> split = split_budget([2, 10, 200], 1.0, marginal_share=0.1, structure_share=0.3,
...                      max_parent_levels=8)
>>> split.hist_columns, round(split.eps_marginals, 3), round(split.eps_tables, 3)
((1, 2), 0.1, 0.6)
>>> clique_cap(10_000, split.eps_tables, 3, theta=4.0, max_clique_cells=1_000_000)
500
>>> [round(e, 3) for e in table_budgets([4, 16], 0.6)]
[0.2, 0.4]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

#: Share of epsilon for the noisy row count the rule reads.
COUNT_SHARE = 0.01
#: Share of epsilon for the one-way histograms (levels and within-level mass).
MARGINAL_SHARE = 0.1
#: Largest share of epsilon for the structure (the old fixed share).
STRUCTURE_SHARE = 0.3
#: Smallest share of epsilon for the structure in network mode.
STRUCTURE_FLOOR = 0.1
#: Usefulness threshold theta (expected count per cell / noise scale).
THETA = 4.0
#: Smallest dependency (total-variation distance between a pair's joint
#: distribution and the product of its marginals) worth a network.
DEPENDENCY = 0.35
#: Score difference (as a fraction of n) the structure search should resolve.
SHARP = 0.01
#: Sensitivity of the structure score (see ``_structure.SCORE_SENSITIVITY``).
SCORE_SENSITIVITY = 2.0
#: Public bins of a numeric column: the floor (the fixed ``max_bins`` of PrivBayes
#: 0.1) and the ceiling of :func:`fine_bins`.
BINS, MAX_BINS = 128, 1024
#: Floors (the fixed caps of PrivBayes 0.1) and ceilings of the caps.
LEVELS, MAX_LEVELS = 16, 64
PARENT_LEVELS, MAX_PARENT_LEVELS = 8, 16
#: The floors of (max_levels, max_parent_levels) a fit uses unless told otherwise.
LEVEL_FLOORS = (LEVELS, PARENT_LEVELS)
DEGREE, MAX_DEGREE = 3, 5
#: Weight of the structure score's size penalty: a candidate's score is G minus
#: PENALTY times the expected L1 noise (halved, as G is) its table adds, with the
#: tables' epsilon spread evenly (a public constant per candidate). Off: measured on
#: Adult (3 seeds, paired noise), PENALTY = 1 lowered tvd2 at epsilon 1 (0.054 ->
#: 0.050) but also TSTR AUC (0.876 -> 0.856, 0.3 gave 0.849): every feasible
#: parent set becomes a candidate, and the wider exponential mechanism errs more.
PENALTY = 0.0
#: Share of epsilon for the target star's tables (the histograms keep the rest but
#: the count's). Measured (6 seeds, secure noise): at 0.89 (the network's table share)
#: TSTR AUC rose most but tvd1 doubled (Adult 500 rows, eps 3: 0.077 -> 0.171); at
#: 0.2 tvd1 0.071 -> 0.073, tvd2 0.189 -> 0.185, AUC 0.49 -> 0.78.
STAR_SHARE = 0.19
#: Candidates per structure step at most (``_structure.MAX_CANDIDATES``).
MAX_CANDIDATES = 2_000


@dataclass(frozen=True)
class BudgetPlan:
    """The caps and shares of one PrivBayes fit (public: see the module docstring)."""

    mode: str  # "network" or "independent"
    reason: str
    noisy_rows: float
    count_share: float
    marginal_share: float
    structure_share: float
    table_share: float
    cell_cap: int
    max_levels: int
    max_parent_levels: int
    max_degree: int
    penalty: float
    max_bins: int = BINS

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (for the model description and the model file)."""
        return asdict(self)


def _pow2(x: float, lo: int, hi: int) -> int:
    """The power of two nearest to ``x`` on a log scale, clipped to [lo, hi]."""
    if not x >= 2:  # also NaN
        return lo
    return int(min(hi, max(lo, 2 ** round(math.log2(x)))))


def plan_budget(n_hat: float, epsilon: float, sizes: Sequence[int], *,
                theta: float = THETA, fixed: dict[str, Any] | None = None,
                max_rows: int = 1, level_floors: tuple[int, int] = LEVEL_FLOORS,
                target: int | None = None, target_missing: bool = False,
                max_cells: float = math.inf) -> BudgetPlan:
    """The plan of one fit from public quantities (no data is read).

    Parameters
    ----------
    n_hat : float
        Noisy row count (a DP output).
    epsilon : float
        The fit's whole budget.
    sizes : sequence of int
        Public domain size (fine bins or categories) of every column.
    theta : float, default THETA
        Usefulness threshold.
    fixed : dict, optional
        Caps the user set explicitly (``max_levels``, ``max_parent_levels``,
        ``max_degree``, ``structure_share``, ``marginal_share``, ``degree``); they
        replace the rule's choice. A fixed ``degree`` also forces network mode,
        except ``degree=0``, which asks for independent marginals.
    max_rows : int, default 1
        Most rows of one privacy unit: every count's noise is ``max_rows`` times
        larger, so the rule sees ``n_hat / max_rows`` units of signal.
    level_floors : (int, int), default ``(LEVELS, PARENT_LEVELS)``
        The smallest ``max_levels`` and ``max_parent_levels`` the rule may
        choose (public constants). The child model of a parent/child fit
        (:mod:`privsynth.engines.tables`) passes smaller ones: its tables must
        hold a child column and one of its parent's columns at a cap of a few
        dozen cells, below the single-table floors of 16 x 8.
    target : int, optional
        The declared target's column (public): where the rule would choose
        independent marginals it may choose the target star (:func:`star_plan`).
    target_missing : bool, default False
        Whether the target has a missing code (it then takes one parent level).
    max_cells : float, default inf
        The resource cap on one table (``max_clique_cells``); the star respects it.

    Returns
    -------
    BudgetPlan

    Examples
    --------
    >>> a = plan_budget(5_000, 1.0, [16, 16, 2])
    >>> b = plan_budget(5_000, 3.0, [16, 16, 2])
    >>> a.mode, b.cell_cap > a.cell_cap
    ('network', True)
    >>> c = plan_budget(3_000, 0.7, [16] * 9)
    >>> c.cell_cap, (c.max_levels, c.max_parent_levels)
    (34, (16, 8))
    >>> p = plan_budget(3_000, 0.7, [16] * 9, level_floors=(2, 2))
    >>> p.max_levels, p.max_parent_levels
    (8, 4)
    """
    fixed = dict(fixed or {})
    rows = max(float(n_hat), 1.0)
    n = rows / max(int(max_rows), 1)  # signal in units of the noise's sensitivity
    d = len(sizes)
    marginal = float(fixed.get("marginal_share", MARGINAL_SHARE))
    count = COUNT_SHARE
    # candidates per structure step: every pair at most, bounded by the search's limit
    cands = max(2, min(MAX_CANDIDATES, d * max(d - 1, 1)))
    log_c = math.log(2.0 * cands)
    step_need = 2.0 * SCORE_SENSITIVITY * log_c  # n * gap * e_step must reach this

    # structure share: the old share at most, what sharpness needs, at least the floor
    if "structure_share" in fixed:
        structure = float(fixed["structure_share"])
    elif d > 1:
        sharp_eps = (d - 1) * step_need / (n * SHARP)
        structure = min(STRUCTURE_SHARE, max(STRUCTURE_FLOOR, sharp_eps / epsilon))
    else:
        structure = 0.0
    table = 1.0 - count - marginal - structure
    cap = n * (epsilon * table / max(d, 1)) / theta
    cap_i = int(max(2.0, min(cap, 1e12)))
    e_step = epsilon * structure / max(d - 1, 1)
    detect = n * DEPENDENCY * e_step
    if d <= 1:  # no structure to spend on; its histogram's levels and one table
        mode, reason = "network", "one column: its levels and one table, no structure"
    elif fixed.get("degree") == 0:
        mode, reason = "independent", "degree fixed at 0 by the user: independent marginals"
    elif fixed.get("degree") is not None:
        mode, reason = "network", f"degree fixed at {fixed['degree']} by the user"
    elif detect < step_need:
        mode = "independent"
        reason = (f"no dependency can be found above the noise: a pair whose joint differs "
                  f"from independence by {DEPENDENCY} in total variation needs "
                  f"n_hat * {DEPENDENCY} * eps_step >= {step_need:.1f}, here "
                  f"{detect:.1f}; independent marginals, no structure spend")
    elif cap < 4:
        mode = "independent"
        reason = (f"a 2 x 2 table is not theta-useful (cell cap {cap:.1f} < 4); independent "
                  "marginals, no structure spend")
    else:
        mode = "network"
        reason = (f"dependencies detectable (n_hat * {DEPENDENCY} * eps_step = {detect:.1f} "
                  f">= {step_need:.1f}); tables of up to {cap_i} cells are theta-useful")
    if mode == "independent" and target is not None and "degree" not in fixed:
        star = star_plan(n, rows, epsilon, sizes, target, theta=theta, fixed=fixed,
                         why=reason.split("; independent")[0], target_missing=target_missing,
                         max_cells=max_cells)
        if star is not None:
            return star
        reason += "; the target star's tables are not theta-useful either"
    if mode == "independent":
        return BudgetPlan(mode=mode, reason=reason, noisy_rows=rows, count_share=count,
                          marginal_share=1.0 - count, structure_share=0.0, table_share=0.0,
                          cell_cap=cap_i, max_levels=max(sizes, default=1),
                          max_parent_levels=1, max_degree=0, penalty=0.0,
                          max_bins=fine_bins(n, epsilon * (1.0 - count) / max(d, 1), fixed,
                                             theta=theta))

    levels = fixed.get("max_levels") or _pow2(math.sqrt(cap), level_floors[0], MAX_LEVELS)
    parent = fixed.get("max_parent_levels") or _pow2(cap ** (1 / 3), level_floors[1],
                                                           MAX_PARENT_LEVELS)
    if fixed.get("max_degree") is not None:
        degree = int(fixed["max_degree"])
    else:
        k = math.floor(math.log(max(cap, 1.0), 4)) - 1
        degree = int(min(MAX_DEGREE, max(DEGREE, k)))
    n_hist = sum(1 for s in sizes if s > parent) or 1
    return BudgetPlan(mode=mode, reason=reason, noisy_rows=rows, count_share=count,
                      marginal_share=marginal, structure_share=structure, table_share=table,
                      cell_cap=cap_i, max_levels=int(levels), max_parent_levels=int(parent),
                      max_degree=degree, penalty=PENALTY / (2.0 * epsilon * table / d),
                      max_bins=fine_bins(n, epsilon * marginal / n_hist, fixed, theta=theta))


def _floor_pow2(x: float) -> int:
    """The largest power of two at most ``x`` (1 below 2)."""
    return 1 if not x >= 2 else 2 ** math.floor(math.log2(x))


def star_plan(n: float, rows: float, epsilon: float, sizes: Sequence[int], target: int, *,
              theta: float, fixed: dict[str, Any], why: str, target_missing: bool = False,
              max_cells: float = math.inf) -> BudgetPlan | None:
    """The target star: the target first, the only parent of every other column.

    When no dependency can be *found* above the noise (the structure search would
    fail) but a target is declared, the structure need not be searched: the star
    (target -> every other column) is a public declaration and costs no budget.
    Its tables hold a column at ``max_levels`` levels and the target at
    ``max_parent_levels``; they get ``STAR_SHARE`` of epsilon (the histograms of
    the columns larger than the target's levels the rest but the count's) and must
    be theta-useful by the tables' rule, ``cells <= cap = n * (epsilon *
    table_share / d) / theta``, and within ``max_cells``. The target keeps up to
    ``cap / 2`` parent levels, at least 2 for its values (a missing code takes one
    more); every other column up to ``cap / target levels`` levels, at least 2.
    User caps are kept: ``max_degree=0`` means no star, and fixed levels whose
    tables exceed the cap mean no star either. ``None``: independent marginals.

    >>> p = star_plan(500, 500, 10.0, [16] * 14 + [2], 14, theta=4.0, fixed={}, why="")
    >>> p.mode, p.max_levels, p.max_parent_levels, p.structure_share
    ('star', 4, 2, 0.0)
    >>> star_plan(500, 500, 1.0, [16] * 14 + [2], 14, theta=4.0, fixed={}, why="") is None
    True
    >>> star_plan(500, 500, 10.0, [16] * 14 + [3], 14, theta=4.0, fixed={}, why="",
    ...           target_missing=True).max_parent_levels  # two values and the missing code
    3
    """
    d = len(sizes)
    if d < 2 or fixed.get("max_degree") == 0:
        return None
    count = COUNT_SHARE
    table = STAR_SHARE
    marginal = 1.0 - count - table
    theta_cap = n * (epsilon * table / max(d, 1)) / theta
    cap = min(theta_cap, max_cells)
    miss = int(bool(target_missing))
    parent = fixed.get("max_parent_levels") or min(
        int(sizes[target]), max(_floor_pow2(cap / 2), 2 + miss))
    levels = fixed.get("max_levels") or min(MAX_LEVELS, _floor_pow2(cap / parent))
    if parent - miss < 2 or levels < 2 or levels * parent > cap:
        return None
    n_hist = sum(1 for s in sizes if s > parent) or 1
    reason = (f"{why}; a target is declared: the target star instead (the target the only "
              f"parent of every column, no structure search, no structure spend), its tables "
              f"of up to {int(levels) * int(parent)} cells within the cap {cap:.1f}")
    return BudgetPlan(mode="star", reason=reason, noisy_rows=rows, count_share=count,
                      marginal_share=marginal, structure_share=0.0, table_share=table,
                      cell_cap=int(max(2.0, min(cap, 1e12))), max_levels=int(levels),
                      max_parent_levels=int(parent), max_degree=1, penalty=0.0,
                      max_bins=fine_bins(n, epsilon * marginal / n_hist, fixed, theta=theta))


def fine_bins(n: float, eps_histogram: float, fixed: dict[str, Any] | None = None, *,
              theta: float = THETA) -> int:
    """Public bins of a numeric column, from the signal of its noisy histogram.

    The theta-usefulness rule of the tables applied to the one-way histograms: a
    histogram of ``B`` equal-width bins measured with ``eps_histogram`` (noise
    scale ``1 / eps_histogram`` per cell) holds on average ``n / B`` rows per
    cell; finer bins than ``n * eps_histogram / theta`` would hold less than
    ``theta`` noise scales each. The count is the power of two nearest to that
    (log scale), between ``BINS`` (the old fixed number, kept at small budgets)
    and ``MAX_BINS``. Finer bins matter for columns whose public range is much
    wider than where their values lie (ACS income: 128 bins of 10,500 dollars);
    the levels (:mod:`._levels`) are still groups of about equal noisy mass, so
    the network's variables keep their size. ``fixed["max_bins"]`` (the user's
    choice) wins. ``n`` is the noisy count in units of the sensitivity.

    >>> fine_bins(32_000, 0.01), fine_bins(32_000, 0.03), fine_bins(32_000, 0.1)
    (128, 256, 1024)
    >>> fine_bins(21_800, 0.077), fine_bins(32_000, 1.0, {"max_bins": 64})
    (512, 64)
    """
    if fixed and fixed.get("max_bins") is not None:
        return int(fixed["max_bins"])
    return _pow2(n * eps_histogram / theta, BINS, MAX_BINS)


@dataclass(frozen=True)
class BudgetSplit:
    """How a fit's epsilon is divided among the PrivBayes steps (all pure epsilon-DP).

    Attributes
    ----------
    hist_columns : tuple of int
        Columns whose noisy one-way histogram is drawn (more codes than
        ``max_parent_levels``); they are coarsened into levels.
    eps_marginals : float
        Epsilon of all those histograms together (equal shares).
    eps_count : float
        Epsilon of the separate noisy row count.
    eps_structure : float
        Epsilon of the network structure (exponential mechanism, one draw per column).
    eps_tables : float
        Epsilon of the noisy conditional tables (the rest).
    """

    hist_columns: tuple[int, ...]
    eps_marginals: float
    eps_count: float
    eps_structure: float
    eps_tables: float

    @property
    def eps_per_histogram(self) -> float:
        """Epsilon of each one-way histogram (0 when none is drawn)."""
        return self.eps_marginals / len(self.hist_columns) if self.hist_columns else 0.0


def split_budget(sizes: Sequence[int], epsilon: float, *, marginal_share: float,
                 structure_share: float, max_parent_levels: int, count_share: float = 0.0,
                 independent: bool = False, given: Sequence[int] = ()) -> BudgetSplit:
    """The split of ``epsilon`` for columns with ``sizes`` public codes each.

    ``count_share`` pays for the noisy row count the budget rule reads (0: a
    count only when no histogram is drawn). ``independent``: every column's
    histogram gets all of the budget but the count's; no structure, no tables.
    ``given`` columns (fixed when sampling: a child model's parent columns) are
    never measured: in independent mode nothing would use their histogram, in
    network mode their levels come from the parent model's draws (``_given.py``).

    >>> split_budget([4, 4, 4], 1.0, marginal_share=0.1, structure_share=0.3,
    ...              max_parent_levels=8, count_share=0.01, independent=True,
    ...              given=(2,)).hist_columns
    (0, 1)
    """
    d = len(sizes)
    if independent:
        eps_c = epsilon * count_share
        hist_cols = tuple(j for j in range(d) if j not in given)
        return BudgetSplit(hist_cols, epsilon - eps_c if hist_cols else 0.0, eps_c, 0.0, 0.0)
    hist = tuple(j for j in range(d) if sizes[j] > max_parent_levels and j not in given)
    eps_marg = epsilon * marginal_share if hist else 0.0
    eps_n = epsilon * count_share if count_share > 0 else (0.0 if hist else epsilon * 0.01)
    eps_struct = epsilon * structure_share if d > 1 else 0.0
    return BudgetSplit(hist, eps_marg, eps_n, eps_struct, epsilon - eps_marg - eps_n - eps_struct)


def clique_cap(n_hat: float, eps_tables: float, d: int, *, theta: float,
               max_clique_cells: int, max_rows: int = 1) -> int:
    """Most cells of one conditional table (the paper's theta-usefulness rule).

    A table is useful when its expected count per cell, ``n_hat / cells``, is at
    least ``theta`` times the noise scale ``max_rows * d / eps_tables`` (the
    tables' budget shared evenly; ``max_rows`` is the sensitivity, the most rows
    of one privacy unit), so ``cells <= n_hat * eps_tables / (d * theta *
    max_rows)``; never above ``max_clique_cells`` (a resource cap) nor below 2.
    """
    return int(min(max_clique_cells,
                   max(n_hat * (eps_tables / d) / (theta * max_rows), 2)))


def table_budgets(cells: Sequence[int], eps_tables: float,
                  weights: Sequence[float] | None = None) -> list[float]:
    """Epsilon of each conditional table: proportional to the square root of its cells.

    This minimizes the sum of the tables' expected L1 noise (Laplace scale
    ``1/eps_i`` on ``cells_i`` cells) for a fixed total; the shares add up to
    ``eps_tables`` exactly. ``weights`` (public, default 1) multiply a table's
    share: a declared link's table gets more (``_given.LINK_WEIGHT``).

    >>> [round(e, 3) for e in table_budgets([4, 16], 0.6, weights=[2.0, 1.0])]
    [0.3, 0.3]
    """
    w = np.sqrt(np.asarray(cells, dtype=np.float64))
    if weights is not None:
        w = w * np.asarray(weights, dtype=np.float64)
    eps_each = list(eps_tables * w / w.sum())
    eps_each[-1] = eps_tables - math.fsum(eps_each[:-1])
    return [float(e) for e in eps_each]


def within_total(eps_each: Sequence[float], spent: Sequence[Any], total: float
                 ) -> list[float]:
    """The last events' epsilons, the last lowered by float ulps so that all sum to ``total``.

    The shares of a fit's epsilon are float products; the pure events already
    spent (``spent``, accounting events) and these (pure, ``eps_each``) can sum
    (exactly rounded, as the accountant composes pure events) to one ulp above
    ``total``, and the fit would then state ``0.30000000000000004`` for 0.3.
    Lowering the last epsilon by that much adds noise no one can measure and
    keeps every claim at the requested number. Unchanged when an event spent is
    not pure (its composition is not a sum). More than float rounding above
    ``total`` is a bug of the split: RuntimeError, before anything is drawn.

    >>> from privsynth.accounting.events import LaplaceEvent
    >>> eps, n = 0.7, 2  # count, histograms, structure steps of 1 %, 10 %, 30 %
    >>> spent = [LaplaceEvent(e) for e in
    ...          [eps * 0.01, eps * 0.1 / n, eps * 0.1 / n, eps * 0.3 / (n - 1)]]
    >>> tables = table_budgets([16] * n, eps - eps * 0.01 - eps * 0.1 - eps * 0.3)
    >>> pure = [e.pure_epsilon for e in spent]
    >>> math.fsum(pure + tables), math.fsum(pure + within_total(tables, spent, eps))
    (0.7000000000000001, 0.7)
    """
    out = [float(e) for e in eps_each]
    pure = [e.pure_epsilon for e in spent]
    if not out or any(p is None for p in pure):
        return out
    excess = math.fsum([*pure, *out, -total])
    if excess > 1e-12 * total:  # more than float rounding: a split that overspends
        raise RuntimeError(f"PrivBayes budget split overspends epsilon {total!r} by {excess!r}")
    if excess > 0:
        out[-1] = max(0.0, out[-1] - excess)
    while out[-1] > 0 and math.fsum([*pure, *out]) > total:
        out[-1] = math.nextafter(out[-1], 0.0)
    return out


__all__ = ["LEVEL_FLOORS", "BudgetPlan", "BudgetSplit", "clique_cap", "fine_bins", "plan_budget",
           "split_budget", "star_plan", "table_budgets", "within_total"]

"""PrivBayes budget rules: how epsilon is split, the theta-usefulness cap, table budgets.

These are functions of public numbers only (the schema's code counts, epsilon,
a noisy row count, the engine's parameters). The engine's fit calls them, and
so does the budget planner (:mod:`privsynth.planner`), which therefore follows
every change of the rules without repeating them.

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
from dataclasses import dataclass

import numpy as np


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
        Epsilon of a separate noisy row count (only when no histogram is drawn).
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
                 structure_share: float, max_parent_levels: int) -> BudgetSplit:
    """The split of ``epsilon`` for columns with ``sizes`` public codes each."""
    d = len(sizes)
    hist = tuple(j for j in range(d) if sizes[j] > max_parent_levels)
    eps_marg = epsilon * marginal_share if hist else 0.0
    eps_n = 0.0 if hist else epsilon * 0.01
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


def table_budgets(cells: Sequence[int], eps_tables: float) -> list[float]:
    """Epsilon of each conditional table: proportional to the square root of its cells.

    This minimizes the sum of the tables' expected L1 noise (Laplace scale
    ``1/eps_i`` on ``cells_i`` cells) for a fixed total; the shares add up to
    ``eps_tables`` exactly.
    """
    weights = np.sqrt(np.asarray(cells, dtype=np.float64))
    eps_each = list(eps_tables * weights / weights.sum())
    eps_each[-1] = eps_tables - math.fsum(eps_each[:-1])
    return [float(e) for e in eps_each]


__all__ = ["BudgetSplit", "clique_cap", "split_budget", "table_budgets"]

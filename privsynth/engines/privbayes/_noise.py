"""Which noise PrivBayes' conditional tables get: discrete Laplace, or discrete Gaussian when
the release states a delta and Gaussian noise is the smaller at the accountant's composition.

A release with ``delta = 0`` (the default) is pure epsilon-DP: every table gets
discrete Laplace noise with its share of the tables' epsilon
(:func:`~privsynth.engines.privbayes._budget.table_budgets`), and the shares add up.

A release that states ``delta > 0`` is composed by the accountant's
privacy loss distributions (:func:`privsynth.accounting.compose.compose`),
which are far tighter than the sum for many small mechanisms: the count,
histograms and structure steps spent before the tables leave more room at
``delta`` than their epsilons add up to, and Gaussian noise composes better
than Laplace over many tables. :func:`gaussian_table_sigma` finds the smallest
common ``sigma`` of discrete Gaussian noise (Canonne, Kamath & Steinke 2020;
exact sampler) for which the events already spent *and* one discrete Gaussian
event per table compose to at most the release's (epsilon, delta), and uses it
only when its expected L1 error on all the tables' cells is below Laplace's.
The release itself checks every event against its (epsilon, delta) before its
noise is drawn, so a wrong calibration can only be refused, never overspend.

Measured (paired noise, 6 seeds, delta = 1e-6 against the pure release, same
epsilon): Adult tvd2 0.0546 -> 0.0465 and TSTR AUC 0.879 -> 0.885 at epsilon 1;
ACS tvd2 0.150 -> 0.136 at epsilon 1, 0.124 -> 0.118 at epsilon 3; at epsilon 0.3
tvd2 falls by 0.014 (Adult) and 0.018 (ACS).

>>> from privsynth.accounting.events import ExponentialEvent
>>> gaussian_table_sigma([ExponentialEvent(0.3)], cells=[400] * 15,
...                      eps_each=[0.04] * 15, epsilon=1.0, delta=0.0, max_rows=1) is None
True
>>> s = gaussian_table_sigma([ExponentialEvent(0.3)], cells=[400] * 15,
...                          eps_each=[0.6 / 15] * 15, epsilon=1.0, delta=1e-6, max_rows=1)
>>> 15 < s < 30  # Laplace at 0.04 per table: standard deviation 35
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from privsynth.accounting.calibrate import discrete_gaussian_sigma
from privsynth.accounting.events import Event
from privsynth.errors import ParameterError
from privsynth.mechanisms import MAX_GAUSSIAN_SIGMA


def gaussian_table_sigma(prior: Sequence[Event], *, cells: Sequence[int],
                         eps_each: Sequence[float], epsilon: float, delta: float,
                         max_rows: int) -> float | None:
    """Sigma of discrete Gaussian noise for every table, or None to keep Laplace.

    Parameters
    ----------
    prior : sequence of Event
        The events the release has spent before the tables.
    cells : sequence of int
        Public cell counts of the tables.
    eps_each : sequence of float
        Each table's epsilon under Laplace noise (they add up to the tables' share).
    epsilon, delta : float
        The release's stated guarantee; ``delta = 0`` always keeps Laplace.
    max_rows : int
        Most rows of one privacy unit: the L2 sensitivity of a table of counts
        (one row moves one cell by one; a unit of k rows moves cells by k in L1,
        hence at most k in L2).

    Returns
    -------
    float or None
        The common sigma when Gaussian noise has the smaller expected L1 error
        on all cells (``sigma * sqrt(2 / pi)`` per cell against Laplace's
        ``max_rows / eps_i``); None otherwise. Public numbers only.
    """
    if not delta > 0 or not cells:
        return None
    try:
        sigma = discrete_gaussian_sigma(epsilon, delta, sensitivity=max_rows,
                                        count=len(cells), prior=prior)
    except ParameterError:  # no sigma reaches the target: keep Laplace
        return None
    if sigma > MAX_GAUSSIAN_SIGMA:  # beyond the exact sampler: keep Laplace
        return None
    gauss_l1 = sigma * math.sqrt(2.0 / math.pi) * math.fsum(cells)
    laplace_l1 = math.fsum(c * max_rows / e for c, e in zip(cells, eps_each, strict=True))
    return float(sigma) if gauss_l1 < laplace_l1 else None


__all__ = ["gaussian_table_sigma"]

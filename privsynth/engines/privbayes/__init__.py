"""PrivBayes, the differentially private Bayesian network engine (see :mod:`._engine`).

Modules: ``_engine`` (the estimator and its budget plan), ``_levels`` (column
levels from noisy histograms), ``_structure`` (the network, by the exponential
mechanism), ``_tables`` (conditional tables from noisy counts), ``_draw``
(ancestral sampling), ``_inference`` and ``_conditions`` (exact conditional
sampling).
"""

from privsynth.engines.privbayes._engine import PrivBayes

__all__ = ["PrivBayes"]

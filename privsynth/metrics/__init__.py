"""Fidelity and utility of a synthetic table measured against the real one.

These are *evaluation* metrics for the data steward, not releases: they read
the real data directly (its quantiles, its category lists, its labels) and
spend no privacy budget. The numbers they return are aggregates (mean
distances, AUCs), but per-column tables such as :func:`tvd_table` and
:func:`coverage` still describe the real data; whoever publishes them (the
audit report) is responsible for deciding what may leave the steward's hands.

Definitions (shared with ``benchmarks/`` so numbers compare with the peers):

- Discretization (:func:`discretize_pair`, module
  :mod:`~privsynth.metrics.discretize`): numeric columns (integer, float,
  datetime) are cut into ``bins`` = 20 bins at the *real* data's quantiles;
  the same edges are used for the synthetic data, repeated edges are merged
  and values outside the real range fall into the end bins. Categorical and
  boolean columns keep their values (union of both frames). Missing values
  are a category of their own in every column.
- ``tvd1``, ``tvd2``, ``tvd3`` (:func:`marginal_tvd`, module
  :mod:`~privsynth.metrics.fidelity`): the mean total-variation distance
  ``0.5 * sum |p - q|`` between real and synthetic 1-, 2- and 3-way marginals
  of the discretized table over all columns, pairs or triples. 0 is perfect,
  1 is disjoint.
- Association difference (:func:`association_difference`): ``|V_real - V_syn|``
  for every pair of columns, where ``V`` is Cramér's V of the discretized pair.
- TSTR (:func:`ml_efficacy`, module :mod:`~privsynth.metrics.utility`): a
  scikit-learn ``HistGradientBoostingClassifier`` (categorical columns as
  categories, ``random_state=0``) trained on the synthetic data, ROC AUC on a
  real test split; TRTR (trained on the real training data) is the reference.

Example
-------
>>> import pandas as pd
>>> real = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": [1.0, 2.0, 3.0, None]})
>>> syn = pd.DataFrame({"a": ["x", "x", "x", "y"], "b": [1.0, 2.0, 3.0, None]})
>>> marginal_tvd(real, syn, way=1)
0.125
>>> marginal_tvd(real, real, way=2)
0.0
"""

from privsynth.metrics._inputs import subsample_rows
from privsynth.metrics.discretize import discretize_pair, quantile_edges
from privsynth.metrics.fidelity import (
    MAX_TRIPLES,
    association_difference,
    association_matrix,
    coverage,
    fidelity_summary,
    marginal_tvd,
    mean_association_difference,
    tvd_table,
)
from privsynth.metrics.utility import ml_efficacy

__all__ = [
    "MAX_TRIPLES",
    "association_difference",
    "association_matrix",
    "coverage",
    "discretize_pair",
    "fidelity_summary",
    "marginal_tvd",
    "mean_association_difference",
    "ml_efficacy",
    "quantile_edges",
    "subsample_rows",
    "tvd_table",
]

"""Empirical privacy risk of a synthetic release: attacks, diagnostics, epsilon bounds.

The claim "epsilon = 1" is a proof about the mechanism. This package collects
evidence about the actual release: it attacks the synthetic data the way an
adversary would (membership inference by distance, by density ratio, and by
shadow models) and reports how well the attacks do, next to what the claimed
(epsilon, delta) allows. See ``docs/risk.md``.

- :func:`assess_risk` runs everything and returns a :class:`RiskResult`.
- :mod:`~privsynth.risk.distance`: Gower distance on the public schema, exact
  nearest neighbours, DCR / NNDR diagnostics (diagnostics, not proof of privacy).
- :mod:`~privsynth.risk.split`: members, non-members and the reference
  population drawn from the three tables.
- :mod:`~privsynth.risk.membership`: the membership-inference attacks.
- :mod:`~privsynth.risk.roc`: scoring an attack (ROC AUC, TPR at low FPR).
- :mod:`~privsynth.risk.audit_bound`: empirical epsilon lower bounds and the
  TPR ceiling of a claim.
"""

from privsynth.risk.assess import assess_risk
from privsynth.risk.audit_bound import (
    best_epsilon_lower_bound,
    clopper_pearson,
    epsilon_lower_bound,
    tpr_upper_bound,
)
from privsynth.risk.distance import distance_diagnostics, gower_distances, nearest_neighbors
from privsynth.risk.membership import (
    AttackScores,
    density_attack,
    distance_attack,
    evaluate_attack,
    shadow_attack,
)
from privsynth.risk.result import AttackResult, RiskResult
from privsynth.risk.roc import roc_auc, roc_curve, tpr_at_fpr

__all__ = [
    "AttackResult",
    "AttackScores",
    "RiskResult",
    "assess_risk",
    "best_epsilon_lower_bound",
    "clopper_pearson",
    "density_attack",
    "distance_attack",
    "distance_diagnostics",
    "epsilon_lower_bound",
    "evaluate_attack",
    "gower_distances",
    "nearest_neighbors",
    "roc_auc",
    "roc_curve",
    "shadow_attack",
    "tpr_at_fpr",
    "tpr_upper_bound",
]

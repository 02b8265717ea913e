"""Empirical privacy risk of a synthetic release: attacks, diagnostics, verdicts.

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
- :mod:`~privsynth.risk.audit_bound`: empirical epsilon estimates (diagnostics),
  the one-run audit bound and the TPR ceiling of a claim.
- :mod:`~privsynth.risk.verdict`: "no problem found", "inconclusive" or "problem
  found", and the power rule behind them.
- :mod:`~privsynth.risk.criteria`: the anonymisation criteria of the Article 29
  Working Party (singling out, linkability, inference) as member-versus-control
  attacks (:mod:`~privsynth.risk.singling_out`, :mod:`~privsynth.risk.linkability`,
  :mod:`~privsynth.risk.inference_attack`, :mod:`~privsynth.risk.success_rate`).
"""

from privsynth.risk.assess import assess_risk
from privsynth.risk.audit_bound import (
    best_epsilon_lower_bound,
    bonferroni_confidence,
    clopper_pearson,
    epsilon_lower_bound,
    max_demonstrable_epsilon,
    one_run_epsilon_lower_bound,
    tpr_upper_bound,
)
from privsynth.risk.criteria import CriteriaResult, assess_criteria, criterion_verdict
from privsynth.risk.distance import distance_diagnostics, gower_distances, nearest_neighbors
from privsynth.risk.inference_attack import inference_risk
from privsynth.risk.linkability import linkability_risk
from privsynth.risk.membership import (
    AttackScores,
    density_attack,
    distance_attack,
    evaluate_attack,
    shadow_attack,
)
from privsynth.risk.result import AttackResult, RiskResult
from privsynth.risk.roc import roc_auc, roc_curve, tpr_at_fpr
from privsynth.risk.singling_out import singling_out_risk
from privsynth.risk.success_rate import CriterionResult, normalised_risk, wilson_interval
from privsynth.risk.verdict import INCONCLUSIVE, NO_PROBLEM, PROBLEM, VERDICTS

__all__ = [
    "INCONCLUSIVE",
    "NO_PROBLEM",
    "PROBLEM",
    "VERDICTS",
    "AttackResult",
    "AttackScores",
    "CriteriaResult",
    "CriterionResult",
    "RiskResult",
    "assess_criteria",
    "assess_risk",
    "best_epsilon_lower_bound",
    "bonferroni_confidence",
    "clopper_pearson",
    "criterion_verdict",
    "density_attack",
    "distance_attack",
    "distance_diagnostics",
    "epsilon_lower_bound",
    "evaluate_attack",
    "gower_distances",
    "inference_risk",
    "linkability_risk",
    "max_demonstrable_epsilon",
    "nearest_neighbors",
    "normalised_risk",
    "one_run_epsilon_lower_bound",
    "roc_auc",
    "roc_curve",
    "shadow_attack",
    "singling_out_risk",
    "tpr_at_fpr",
    "tpr_upper_bound",
    "wilson_interval",
]

"""Section "Empirical attacks": membership attacks and distance diagnostics on the release.

Attack results are evidence, never proof. The verdicts ("no problem found",
"inconclusive" when the test lacks power, "problem found") and their rule
are the risk module's (:mod:`privsynth.risk.verdict`); this section copies
them with the numbers a reader needs, and nothing that would reveal a private
count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from privsynth.errors import ParameterError
from privsynth.report._values import jsonable, rounded
from privsynth.report.evaluation import EVALUATION_NOTE, safe_text
from privsynth.risk.result import RiskResult
from privsynth.schema import Schema


def attacks_section(real: pd.DataFrame, holdout: pd.DataFrame | None, synthetic: pd.DataFrame,
                    schema: Schema, claim_eps: float | None, claim_delta: float,
                    random_state: int, enabled: bool, skipped_reason: str | None,
                    options: Mapping[str, Any]) -> dict[str, Any]:
    """Section "Empirical attacks": :func:`privsynth.risk.assess_risk` on the release.

    Needs a holdout (non-members); otherwise, or when disabled or skipped, the
    section only says why it is absent.
    """
    return run_attacks(real, holdout, synthetic, schema, claim_eps, claim_delta, random_state,
                       enabled, skipped_reason, options)[0]


def run_attacks(real: pd.DataFrame, holdout: pd.DataFrame | None, synthetic: pd.DataFrame,
                schema: Schema, claim_eps: float | None, claim_delta: float,
                random_state: int, enabled: bool, skipped_reason: str | None,
                options: Mapping[str, Any]) -> tuple[dict[str, Any], RiskResult | None]:
    """:func:`attacks_section` and the :class:`~privsynth.risk.RiskResult` it was built from.

    The result (None when the attacks did not run) also carries the
    anonymisation criteria, which have a section of their own.
    """
    if skipped_reason is not None:
        return {"included": False, "reason": skipped_reason}, None
    if not enabled:
        return {"included": False, "reason": "Attacks were not requested (attacks=False)."}, None
    if holdout is None:
        return {"included": False, "reason": (
            "No holdout was given: membership attacks need real records that were not used "
            "for training (non-members), e.g. a test split. Pass holdout= to run them.")}, None
    from privsynth.risk import assess_risk

    for key in ("epsilon", "delta", "random_state"):
        if key in options:
            raise ParameterError(f"risk_options must not set {key!r}: audit() passes the "
                                 "release's claim and its own random_state")
    eps = claim_eps if claim_eps is not None and 0 < claim_eps < math.inf else None
    risk = assess_risk(real, holdout, synthetic, schema, epsilon=eps,
                       delta=claim_delta if eps is not None else 0.0,
                       random_state=random_state, **dict(options))
    results: list[dict[str, Any]] = []
    for a in risk.attacks:
        notes = safe_text(a.notes)
        notes += [f"TPR at FPR {k} not reported: too few non-members in the evaluation."
                  for k, v in a.tpr_at_fpr.items() if v is None]
        results.append({
            "name": a.name,
            "description": a.description,
            "auc": rounded(a.auc, 3),
            "auc_ci": [rounded(a.auc_ci[0], 3), rounded(a.auc_ci[1], 3)],
            "tpr_at_fpr": {k: rounded(v, 3) for k, v in a.tpr_at_fpr.items()},
            "epsilon_lower_bound": rounded(a.epsilon_lower_bound, 3),
            # two decimals: finer ROC steps would reveal the evaluation set's size
            "roc": {"fpr": [rounded(x, 2) for x in a.roc_fpr],
                    "tpr": [rounded(x, 2) for x in a.roc_tpr]},
            "notes": notes,
            "confidence": rounded(a.confidence, 6),
            # the risk module's reasons never hold a count of records
            "verdict": a.verdict,
            "verdict_reason": a.verdict_reason,
        })
    diag = risk.diagnostics
    hist = diag.get("histogram", {})

    def shares(counts: Sequence[float]) -> list[float | None]:
        total = float(sum(counts)) or 1.0
        return [rounded(c / total, 4) for c in counts]

    def quant(d: Mapping[str, Any]) -> dict[str, float | None]:
        return {k: rounded(v, 4) for k, v in d.items()}

    diagnostics = {
        "dcr_train": quant(diag["dcr_train"]),
        "dcr_holdout": quant(diag["dcr_holdout"]),
        "nndr_train": quant(diag["nndr_train"]),
        "nndr_holdout": quant(diag["nndr_holdout"]),
        "share_closer_to_train": rounded(diag["share_closer_to_train"], 4),
        "exact_copy_share": rounded(diag["exact_copy_share"], 4),
        "holdout_exact_copy_share": rounded(diag["holdout_exact_copy_share"], 4),
        "histogram": {"edges": [rounded(x, 4) for x in hist.get("edges", [])],
                      "dcr_train": shares(hist.get("dcr_train", [])),
                      "dcr_holdout": shares(hist.get("dcr_holdout", []))},
    }
    # the risk module's free texts may hold sizes derived from the private row counts:
    # only those without any digit are copied, the others are restated without numbers
    own = set(risk.criteria.caveats) if risk.criteria is not None else set()
    caveats = safe_text([c for c in risk.caveats if c not in own])  # criteria: own section
    settings = risk.settings
    if settings.get("subsampled"):
        caveats.append("Attacks and diagnostics were run on random subsamples (at most "
                       f"max_records = {settings.get('max_records')} records per set).")
    if settings.get("large_data_precut"):
        caveats.append("Large data: the training and synthetic data were first cut to random "
                       "subsamples of at most ten times max_records rows (the holdout to "
                       "twenty times); distances are to the nearest row of those subsamples, "
                       "which weakens the attacks somewhat.")
    if any(v is None for a in results for v in a["tpr_at_fpr"].values()):
        caveats.append("Some TPRs are not reported because the evaluation has too few "
                       "non-members for that false positive rate.")
    safe_settings = {k: settings.get(k) for k in ("random_state", "max_records", "subsampled",
                                                  "large_data_precut", "confidence",
                                                  "confidence_per_attack", "n_tests",
                                                  "n_bootstrap", "density_k", "fprs", "shadow")}
    return {
        "included": True,
        "reason": None,
        "note": EVALUATION_NOTE,
        "claimed_epsilon": risk.claimed_epsilon,
        "claimed_delta": risk.claimed_delta,
        "tpr_upper_bound": None if risk.tpr_upper_bound is None
        else {k: rounded(v, 6) for k, v in risk.tpr_upper_bound.items()},
        "results": results,
        "max_auc": max((r["auc"] for r in results), default=None),
        "max_epsilon_lower_bound": rounded(risk.max_epsilon_lower_bound, 3),
        "exceeds_claim": risk.exceeds_claim,
        "verdict": risk.verdict,
        "verdict_reason": risk.verdict_reason,
        "diagnostics": diagnostics,
        "caveats": caveats,
        "settings": jsonable(safe_settings),
    }, risk

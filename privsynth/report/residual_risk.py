"""Section "Residual risk": the verdict and what the guarantee leaves open."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from privsynth.report._values import fmt
from privsynth.report.threat_model import ROW_UNIT


def _several(unit: str) -> str:
    """What the privacy unit leaves open about people with several records."""
    if unit == ROW_UNIT:
        return ("A person who contributes several records is protected at a multiple of "
                "epsilon (k records: k times epsilon).")
    return (f"The guarantee protects one privacy unit ({unit}); a person who appears as "
            "several units (under several identifiers) is protected at a multiple of epsilon.")


def residual_risk_section(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The statement is rebuilt from the document of one edition (public or not)."""
    counts = doc["hazard_counts"]
    eps = doc["epsilon"]["epsilon"]
    delta = doc["epsilon"]["delta"]
    rel = doc["epsilon"].get("release_epsilon")
    claim = (f"({fmt(rel)}, {doc['epsilon']['release_delta']:.3g})-differentially private "
             f"on its own, and everything recorded for the data set is together "
             f"({fmt(eps)}, {delta:.3g})-differentially private"
             if rel is not None and eps is not None else
             f"({fmt(eps)}, {delta:.3g})-differentially private" if eps is not None else "")
    if eps is None or counts["fail"]:
        failed = ", ".join(h["title"].lower() for h in doc["hazards"] if h["status"] == "fail")
        verdict = ("fail", f"Do not publish this release as differentially private: "
                           f"{counts['fail']} check(s) failed ({failed}).")
    elif counts["warn"]:
        verdict = ("warn", f"This release is {claim}; state the {counts['warn']} warning(s) of "
                           "the checklist alongside this claim.")
    else:
        verdict = ("pass", f"This release is {claim}, for the privacy unit described above.")
    points = [
        "Differential privacy limits what can be learned about any one record; it does not "
        "hide facts about the population that many records share, which is what the release "
        "is for. Inferences about a person from such facts (for example from their group's "
        "statistics) remain possible.",
        _several(doc["threat_model"]["privacy_unit"]),
    ]
    if delta:
        points.append(f"With probability up to delta = {delta:.3g} the epsilon bound may not "
                      "hold.")
    for h in doc["hazards"]:
        if h["status"] != "pass" and not h.get("evaluation"):
            points.append(f"{h['title']} ({h['status']}): {h['explanation']}")
    attacks = doc["attacks"]
    if attacks.get("included"):
        points.append(f"Empirical attacks: {attacks['verdict']}. {attacks['verdict_reason']} "
                      f"The strongest membership attack tried reached ROC AUC "
                      f"{attacks.get('max_auc')} (0.5 is guessing); the largest empirical "
                      f"epsilon estimate (a diagnostic) is "
                      f"{attacks.get('max_epsilon_lower_bound')}.")
    elif not doc["public"]:
        points.append("No empirical attack was run: " + str(attacks.get("reason")))
    criteria = doc.get("criteria") or {}
    if criteria.get("results"):
        parts = [f"{criteria['method'][k]['title'].lower()} {r['verdict']} (risk {r['risk']})"
                 + (f", worst secret {r['secret']}" if r.get("secret") else "")
                 for k, r in criteria["results"].items()]
        points.append("Anonymisation criteria (WP29): " + "; ".join(parts) + ". Measured by "
                      "attacks: evidence, not proof.")
    points.append("The evaluation numbers of the steward's edition of this report (utility, "
                  "attacks, anonymisation criteria, distance diagnostics) are computed on the "
                  "private data without DP; share that edition only with people allowed to see "
                  "the data's aggregates." if not doc["public"] else
                  "This is the public edition: it holds only the public schema, DP outputs, "
                  "the ledger and the checklist.")
    return {"verdict": verdict[0], "statement": verdict[1], "points": points}

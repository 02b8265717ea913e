"""Section "Anonymisation criteria (WP29)": singling out, linkability and inference.

The section answers the three questions of the Article 29 Working Party's
Opinion 05/2014 (WP216) with the attacks of :mod:`privsynth.risk.criteria`.
It has two parts:

- ``method``: what each attack assumed, the columns it used and how many
  attacks it made when that number is public. Built from the public schema
  and the settings only, it is kept in the public edition.
- ``results``: the risks, their intervals, the success rates on members and
  control, and a plain verdict. Computed on the private data without
  differential privacy, they are in the steward's edition only.

No count of real rows is shown, exactly or otherwise: the number of
linkability and inference attacks equals the number of people attacked,
which comes from the row counts, so it is shown only when it is the public
cap ``max_records``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from privsynth.report._values import rounded
from privsynth.report.evaluation import safe_text
from privsynth.risk.criteria import VERDICTS, CriteriaResult, criterion_verdict
from privsynth.risk.success_rate import CRITERIA, CriterionResult

TITLES: dict[str, str] = {
    "singling_out": "Singling out",
    "linkability": "Linkability",
    "inference": "Inference",
}

QUESTIONS: dict[str, str] = {
    "singling_out": "Can someone use the synthetic data to pick out one real person in the "
                    "training data?",
    "linkability": "Can someone use the synthetic data to join two pieces of information "
                   "about the same real person?",
    "inference": "Can someone use the synthetic data to guess a real person's secret from what "
                 "they already know about that person?",
}

ASSUMPTIONS: dict[str, str] = {
    "singling_out": (
        "The attacker holds the synthetic data and writes yes/no questions about a record from "
        "it (a synthetic row's values, rarest first, until only that synthetic row answers "
        "yes; numbers equal, or within a small share of the public range). A question singles "
        "out when exactly one real record answers yes. Each question is asked of the training "
        "data and of as many real records that were not used."),
    "linkability": (
        "The attacker holds two tables about the same people with disjoint columns and no "
        "common key. It matches each record of the first table to its closest synthetic row, "
        "and that row to the closest record of the second table, and claims they are the same "
        "person. Run on people in the training data and on as many people who are not."),
    "inference": (
        "The attacker knows every other column of a person and guesses the secret column, "
        "from the closest synthetic row and from a random forest trained on the synthetic "
        "data. Run on people in the training data and on as many people who are not; the "
        "worst secret column is reported."),
}

NOTE = (
    "Each attack is run on people in the training data and on people of the same population "
    "who are not; only the excess on the first counts as risk: risk = (success on members - "
    "success on others) / (1 - success on others), from 0 (no better on members) to 1. What "
    "the release teaches about the population is its purpose, not a privacy breach. These "
    "are attacks: a low risk is evidence that these attacks found little, not proof that no "
    "attack can succeed; differential privacy is the proof."
)

COUNT_WITHHELD = (
    "as many people as the smaller of the training data and the holdout (the number is not "
    "shown: it is a count of real rows)"
)


def _n_attacks(c: CriterionResult, max_records: int | None) -> int | None:
    """The number of attacks when it is public, else None."""
    if c.name == "singling_out":
        return c.n_attacks  # depends on the synthetic data and the settings only
    return c.n_attacks if max_records is not None and c.n_attacks == max_records else None


def _method(c: CriterionResult, max_records: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "title": TITLES[c.name],
        "question": QUESTIONS[c.name],
        "assumption": ASSUMPTIONS[c.name],
        "columns": list(c.columns),
        "n_attacks": _n_attacks(c, max_records),
    }
    if out["n_attacks"] is None:
        out["n_attacks_note"] = COUNT_WITHHELD
    if c.name == "linkability":
        out["columns_a"] = list(c.details.get("columns_a", []))
        out["columns_b"] = list(c.details.get("columns_b", []))
    if c.name == "inference":
        # the worst secret is a result: nothing here may depend on which one it was
        out["secrets"] = list(c.details.get("secrets", []))
        known = c.details.get("known")
        out["known"] = list(known) if known is not None else None
        out["columns"] = sorted(set(c.columns) | set(out["secrets"]))
    return out


def _result(c: CriterionResult) -> dict[str, Any]:
    word = criterion_verdict(c)
    out: dict[str, Any] = {
        "verdict": word,
        "reading": VERDICTS[word],
        "risk": rounded(c.risk, 3),
        "risk_ci": [rounded(c.risk_ci[0], 3), rounded(c.risk_ci[1], 3)],
        "success_rate": rounded(c.success_rate, 3),
        "success_ci": [rounded(c.success_ci[0], 3), rounded(c.success_ci[1], 3)],
        "control_rate": rounded(c.control_rate, 3),
        "control_ci": [rounded(c.control_ci[0], 3), rounded(c.control_ci[1], 3)],
        "confidence": c.confidence,
        "interval": c.interval,
        "notes": safe_text(c.notes),
    }
    if c.name == "inference":
        out["secret"] = c.secret
        out["attack"] = c.details.get("attack")
    return out


def criteria_section(criteria: CriteriaResult | None, reason: str | None,
                     settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Section "Anonymisation criteria (WP29)" from the criteria of the risk assessment.

    Parameters
    ----------
    criteria : CriteriaResult or None
        The criteria computed by :func:`privsynth.risk.assess_risk`; None when
        they were not run.
    reason : str or None
        Why they were not run (shown instead of the results).
    settings : mapping, optional
        The assessment's settings; ``max_records`` decides whether the
        number of linkability and inference attacks is public.

    Returns
    -------
    dict
        ``{"included", "reason", "note", "method", "results", "caveats"}``.

    Examples
    --------
    >>> criteria_section(None, "No holdout was given.")
    {'included': False, 'reason': 'No holdout was given.'}
    """
    if criteria is None:
        return {"included": False, "reason": reason or "The criteria were not measured."}
    cap = (settings or {}).get("max_records")
    cap = int(cap) if isinstance(cap, int) and not isinstance(cap, bool) else None
    parts = {c.name: c for c in criteria}
    return {
        "included": True,
        "reason": None,
        "note": NOTE,
        "method": {name: _method(parts[name], cap) for name in CRITERIA},
        "results": {name: _result(parts[name]) for name in CRITERIA},
        "caveats": safe_text(criteria.caveats),
    }


def not_run_reason(skipped: str | None, attacks: bool, holdout_given: bool,
                   assessed: bool) -> str | None:
    """Why the criteria were not measured, or None when the assessment ran.

    >>> not_run_reason(None, True, False, False)[:18]
    'No holdout was giv'
    """
    if skipped is not None:
        return skipped
    if not attacks:
        return "The criteria were not requested (attacks=False)."
    if not holdout_given:
        return ("No holdout was given: each criterion compares the people in the training data "
                "with people of the same population who are not in it (a control set, e.g. a "
                "test split). Pass holdout= to measure them.")
    if assessed:
        return "The criteria were not requested (risk_options criteria=False)."
    return None


def public_criteria(section: Mapping[str, Any], omission: str) -> dict[str, Any]:
    """The public edition of the section: the method without any result."""
    out = dict(section)
    if out.get("included"):
        out["results"] = None
        out["results_omitted"] = omission
    return out


__all__ = ["criteria_section", "not_run_reason", "public_criteria"]

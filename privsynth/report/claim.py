"""The (epsilon, delta) the report stands behind, and its plain-language reading.

Section "What the guarantee means" is built from a :class:`Claim`: which
guarantee is stated, where it comes from (the ledger, the ledger plus a model
it does not record, or the model alone) and what it means for a membership
attacker.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from privsynth.report._values import rounded
from privsynth.report.model_facts import ModelFacts

#: False positive rates of the plain-language membership reading.
READING_FPRS = (0.01, 0.1)
_REL_TOL = 1e-9


@dataclass(frozen=True)
class Claim:
    """The (epsilon, delta) the report stands behind, and where it comes from."""

    epsilon: float | None
    delta: float
    source: str  # "ledger", "ledger+model", "model" or "none"
    method: str
    release_epsilon: float | None
    release_delta: float
    ledger_covers_model: bool | None

    def tested(self) -> tuple[float | None, float]:
        """The (epsilon, delta) the empirical attacks test: the release's own if known."""
        if self.release_epsilon is not None:
            return self.release_epsilon, self.release_delta
        return self.epsilon, self.delta


def make_claim(ledger: Mapping[str, Any], model: ModelFacts | None) -> Claim:
    """The claim of a release from its ledger section and the model's own guarantee."""
    rel_eps = model.epsilon if model is not None else None
    rel_delta = model.delta if model is not None else 0.0
    spent = ledger["spent"]
    if ledger["entries"]:
        eps = spent["epsilon"]  # None when the composition is infinite
        delta = float(spent["delta"] or 0.0)
        covers: bool | None = None
        if rel_eps is not None and eps is not None:
            covers = rel_eps <= eps * (1 + _REL_TOL) + 1e-12 \
                and rel_delta <= delta * (1 + _REL_TOL) + 1e-15
            if not covers:
                # the fit is not in this ledger: basic composition is a safe upper bound
                return Claim(eps + rel_eps, delta + rel_delta, "ledger+model",
                             "sum (ledger plus the model's own fit, not recorded in it)",
                             rel_eps, rel_delta, False)
        return Claim(eps, delta, "ledger", spent["method"], rel_eps, rel_delta, covers)
    if rel_eps is not None:
        return Claim(rel_eps, rel_delta, "model", "the model's own epsilon_",
                     rel_eps, rel_delta, None)
    return Claim(None, 0.0, "none", "none", None, 0.0, None)


def epsilon_section(claim: Claim) -> dict[str, Any]:
    """Section "What the guarantee means": the claim and what it means in words."""
    from privsynth.risk.audit_bound import tpr_upper_bound

    eps, delta = claim.epsilon, claim.delta
    out: dict[str, Any] = {
        "epsilon": eps, "delta": delta, "source": claim.source, "method": claim.method,
        "release_epsilon": claim.release_epsilon, "release_delta": claim.release_delta,
    }
    if eps is None or not math.isfinite(eps):
        out.update({"e_to_epsilon": None, "posterior_from_even_odds": None, "tpr_bounds": [],
                    "statements": ["No finite privacy guarantee is known for this release: "
                                   "the ledger is missing or its composition is unbounded."]})
        return out
    factor = math.exp(eps)
    posterior = factor / (1.0 + factor)
    bounds = [{"fpr": f, "tpr_upper_bound": rounded(tpr_upper_bound(f, eps, min(delta, 1.0)), 6)}
              for f in READING_FPRS]
    where = {"ledger": "everything recorded in the privacy ledger of this data set",
             "ledger+model": "everything in the ledger together with this model's fit",
             "model": "this model (the ledger is empty, so other releases are not counted)"}
    s = [
        f"The guarantee covers {where.get(claim.source, 'this release')}: "
        f"epsilon = {eps:.4g}, delta = {delta:.3g}.",
        f"Whether or not any one person's record is in the data changes the probability of "
        f"any outcome (any synthetic table, model file or statistic computed from them) by at "
        f"most a factor of e^epsilon = {factor:.3g}"
        + (f", except with probability at most delta = {delta:.3g}." if delta > 0 else "."),
        f"An attacker who thought beforehand that a person's record was in the data with "
        f"even odds (50 %) can, after seeing the release, be at most {posterior:.1%} sure of it"
        + (" (up to delta)." if delta > 0 else "."),
    ]
    for b in bounds:
        s.append(f"A membership attacker who wrongly accuses {b['fpr']:.0%} of the people "
                 f"who are not in the data (FPR {b['fpr']:g}) can correctly identify at most "
                 f"{b['tpr_upper_bound']:.1%} of those who are (TPR).")
    out.update({"e_to_epsilon": factor, "posterior_from_even_odds": posterior,
                "tpr_bounds": bounds, "statements": s})
    return out

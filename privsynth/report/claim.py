"""The two guarantees the report states, and their plain-language reading.

A report states two guarantees, separately:

- **this release's own** (``release_epsilon``, ``release_delta``): the fit's
  events composed alone, from the model's fit record. It is what one
  release, seen on its own, reveals about a person;
- **the data set's** (``epsilon``, ``delta``): the total of everything
  recorded about the data set. With the data set's ledger and a model whose
  entries are all in it (matched by id, never by numbers) this is the
  ledger's total. If some of the model's entries are not in the ledger, the
  total is the ledger composed with the model's own events (and a hazard
  fails). Without a ledger it is the model's own events, and other releases
  from the same data are not counted.

Section "What the guarantee means" reads the data set's guarantee in plain
words (what protects people is everything released about them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from privsynth.report._values import rounded
from privsynth.report.model_facts import ModelFacts

#: False positive rates of the plain-language membership reading.
READING_FPRS = (0.01, 0.1)


@dataclass(frozen=True)
class Claim:
    """The guarantees the report stands behind, and where they come from.

    ``epsilon``/``delta`` are the data set's (None: no finite guarantee is
    known), ``source`` says how it was obtained: ``"ledger"`` (the ledger
    given records the model, or there is no model), ``"ledger+model"`` (the
    ledger composed with the model's events it lacks), ``"model"`` (no ledger:
    the model's own events) or ``"none"``. ``release_*`` are the model's own.
    ``ledger_covers_model`` is True / False when both a ledger and a model are
    given (by entry ids), else None; ``missing`` counts the model's entries
    not in the ledger.
    """

    epsilon: float | None
    delta: float
    source: str
    method: str
    release_epsilon: float | None
    release_delta: float
    release_method: str | None
    release_id: str | None
    recorded: str | None  # the fit record's ledger kind: "file", "memory", "none"
    ledger_covers_model: bool | None
    missing: int = 0
    model_entries: int = 0

    def tested(self) -> tuple[float | None, float]:
        """The (epsilon, delta) the empirical attacks test: the release's own if known."""
        if self.release_epsilon is not None:
            return self.release_epsilon, self.release_delta
        return self.epsilon, self.delta


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def make_claim(accountant: Any, model: ModelFacts | None) -> Claim:
    """The claim of a release from the data set's accountant (or None) and the model."""
    rel: dict[str, Any] = {"release_epsilon": None, "release_delta": 0.0,
                           "release_method": None, "release_id": None, "recorded": None}
    if model is not None:
        r = model.record
        rel = {"release_epsilon": _finite(r.epsilon), "release_delta": r.delta,
               "release_method": r.method, "release_id": r.release or None,
               "recorded": r.ledger.kind, "model_entries": len(r.entries)}
    if accountant is not None:
        if model is None:
            s = accountant.spent()
            return Claim(_finite(s.epsilon), s.delta, "ledger", s.method,
                         ledger_covers_model=None, **rel)
        ids = {e.id for e in accountant.history}
        missing = [e for e in model.entries if e.id not in ids]
        if not missing:
            s = accountant.spent()
            return Claim(_finite(s.epsilon), s.delta, "ledger", s.method,
                         ledger_covers_model=True, **rel)
        s = accountant.spent_with(model.entries)
        return Claim(_finite(s.epsilon), s.delta, "ledger+model", s.method,
                     ledger_covers_model=False, missing=len(missing), **rel)
    if model is not None:
        from privsynth.accounting import compose_entries

        s = compose_entries(model.entries, model.delta)
        return Claim(_finite(s.epsilon), s.delta, "model", s.method,
                     ledger_covers_model=None, **rel)
    return Claim(None, 0.0, "none", "none", ledger_covers_model=None, **rel)


def _release_statements(claim: Claim) -> list[str]:
    if claim.release_epsilon is None:
        if claim.recorded is None:
            return ["No model was given to the audit: the guarantee of this release on its own "
                    "is not stated."]
        return ["The model states no finite guarantee for its own fit."]
    eps, delta = claim.release_epsilon, claim.release_delta
    out = [f"This release{f' ({claim.release_id})' if claim.release_id else ''} is "
           f"({eps:.4g}, {delta:.3g})-differentially private on its own: its own "
           f"{claim.model_entries} ledger entries composed alone"
           f"{f' ({claim.release_method})' if claim.release_method else ''}. This is what it "
           f"reveals to someone who sees this release and nothing else released from the data "
           f"set."]
    if claim.recorded == "none":
        out.append("This fit was recorded in no ledger (fit with accountant=None): its spend is "
                   "recorded nowhere but in the model itself. If anything else was released "
                   "from the same data, the data set's total is not known from these files.")
    elif claim.recorded == "memory":
        out.append("This fit was recorded in an in-memory ledger; keep that ledger "
                   "(Accountant.to_json) with the release.")
    return out


def epsilon_section(claim: Claim) -> dict[str, Any]:
    """Section "What the guarantee means": both guarantees and the data set's in plain words."""
    from privsynth.risk.audit_bound import tpr_upper_bound

    eps, delta = claim.epsilon, claim.delta
    out: dict[str, Any] = {
        "epsilon": eps, "delta": delta, "source": claim.source, "method": claim.method,
        "release_epsilon": claim.release_epsilon, "release_delta": claim.release_delta,
        "release_method": claim.release_method, "release_id": claim.release_id,
        "recorded": claim.recorded, "ledger_covers_model": claim.ledger_covers_model,
        "release_statements": _release_statements(claim),
    }
    if eps is None:
        out.update({"e_to_epsilon": None, "posterior_from_even_odds": None, "tpr_bounds": [],
                    "statements": ["No finite privacy guarantee is known for the data set: "
                                   "the ledger is missing or its composition is unbounded."]})
        return out
    factor = math.exp(eps)
    posterior = factor / (1.0 + factor)
    bounds = [{"fpr": f, "tpr_upper_bound": rounded(tpr_upper_bound(f, eps, min(delta, 1.0)), 6)}
              for f in READING_FPRS]
    where = {
        "ledger": "everything recorded in the privacy ledger of this data set",
        "ledger+model": "everything in the ledger given together with this model's fit, which "
                        "the ledger does not record",
        "model": "this model's fit only: no ledger of the data set was given, so other "
                 "releases from the same data are not counted",
    }
    s = [
        f"The data set's guarantee covers {where.get(claim.source, 'this release')}: "
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

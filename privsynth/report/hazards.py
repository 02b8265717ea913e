"""Section "Hazards checklist": a table of small checks, each giving one hazard.

A check is a function of the audit's :class:`Facts` that returns a
``(status, explanation)`` finding, or None when it does not apply. The table
:data:`HAZARD_CHECKS` gives each check its stable id and title; the checklist
is the table's findings in order, followed by the hazards the engine reports
about its own fit. Adding a hazard is adding one function and one row.

>>> [c.id for c in HAZARD_CHECKS][:3]
['claim', 'schema-source', 'row-count']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privsynth.report._values import fmt
from privsynth.report.claim import Claim
from privsynth.report.ledger import METHOD_TEXT
from privsynth.report.model_facts import ModelFacts
from privsynth.schema import Schema

STATUSES = ("pass", "warn", "fail")
_REL_TOL = 1e-9

@dataclass(frozen=True)
class Facts:
    """What the hazard checks may look at (all computed before the checks run)."""

    schema: Schema
    model: ModelFacts | None
    model_path: str | Path | None
    ledger: Mapping[str, Any]
    claim: Claim
    synthetic_problems: Sequence[Mapping[str, Any]]
    attacks: Mapping[str, Any]
    #: the "criteria" section (anonymisation criteria); empty when not built
    criteria: Mapping[str, Any] = field(default_factory=dict)
    #: whether the synthetic data have exactly as many rows as the real data (never the count)
    same_row_count: bool = False

    @property
    def n_hat(self) -> float | None:
        """The engine's noisy row count, if any."""
        return self.model.noisy_rows if self.model is not None else None


#: A check's result: (status, explanation); None when the check does not apply.
Finding = tuple[str, str] | None


@dataclass(frozen=True)
class HazardCheck:
    """One row of the hazard table: a stable id, a title and the check."""

    id: str
    title: str
    check: Callable[[Facts], Finding]
    evaluation: bool = False  # looks at evaluation results computed without DP


def make_hazard(hid: str, title: str, status: str, explanation: str,
                evaluation: bool = False) -> dict[str, Any]:
    """A hazard as it appears in the report document."""
    if status not in STATUSES:
        raise ValueError(f"unknown hazard status {status!r}")
    return {"id": hid, "title": title, "status": status, "explanation": explanation,
            "evaluation": evaluation}


# ---------------------------------------------------------------------------
# the checks
# ---------------------------------------------------------------------------
def claim_known(f: Facts) -> Finding:
    if f.claim.epsilon is not None:
        return None
    return ("fail", "Neither a ledger with a bounded total nor a fitted model with its "
                    "epsilon was given: the report cannot state a guarantee.")


def schema_public(f: Facts) -> Finding:
    if f.schema.source == "public":
        return ("pass", "The schema (column domains and category lists) is declared public: "
                        "it was written from documentation, not read from the data.")
    if f.schema.source == "dp":
        paid = [e for e in f.ledger["entries"]
                if f.ledger["given"] and str(e["label"]).startswith("infer_dp")]
        if paid:
            return ("pass", "The schema was estimated from the data with differential privacy; "
                            f"the ledger holds {len(paid)} infer_dp entries, so its cost is part "
                            "of the data set's total.")
        return ("warn", "The schema was estimated from the data with differential privacy, "
                        "but the ledger given holds no infer_dp entry: its cost is not part "
                        "of the total stated here (it was charged to another accountant, or "
                        "no ledger was given). Pass the data set's ledger that paid for it "
                        "(infer_dp(..., accountant=) the same ledger as the fit).")
    return ("fail", "The schema was read from the data without differential privacy "
                    f"(source {f.schema.source!r}). Its bounds and category lists may "
                    "disclose real values exactly: the release is not end-to-end "
                    "differentially private. Write the schema from public documentation "
                    "or estimate it with privsynth.infer_dp.")


def row_count_noisy(f: Facts) -> Finding:
    if f.model is None:
        return ("warn", "No model was given to the audit, so it cannot confirm that the "
                        "engine used a noisy row count.")
    if f.n_hat is None:
        return ("warn", f"The {f.model.engine} model's fit record holds no noisy row count; "
                        "the audit cannot confirm the row count was not used exactly.")
    return ("pass", f"The engine works with a noisy row count (about {round(f.n_hat):,}, "
                    "a DP output charged to the ledger); the exact count is never used "
                    "to calibrate noise nor released. This report shows only the noisy "
                    "count.")


def row_count_not_exact(f: Facts) -> Finding:
    if f.same_row_count:
        return ("fail", "The synthetic data have exactly as many rows as the real data: the "
                        "real row count is private, and this release publishes it exactly. "
                        "Sample without n (the model's noisy row count) or with a number that "
                        "does not come from the data.")
    return ("pass", "The synthetic row count is not the real one (the audit compared them; "
                    "the real count is not shown).")


def delta_small(f: Facts) -> Finding:
    delta = f.claim.delta
    if delta == 0:
        return ("pass", "delta = 0: the guarantee is pure epsilon-DP.")
    if f.n_hat is None:
        return ("warn", f"delta = {delta:.3g}, but no noisy row count is available to "
                        "compare it with 1/n. delta should be well below 1/n.")
    n1 = max(f.n_hat, 1.0)
    if delta <= n1 ** -1.1:
        st, why = "pass", "well below 1/n"
    elif delta <= 1.0 / n1:
        st, why = "warn", ("below 1/n but not by much: a mechanism that publishes a random "
                           "record with probability delta would be allowed")
    else:
        st, why = "fail", ("above 1/n: a mechanism that publishes about delta * n whole "
                           "records would satisfy this guarantee")
    return (st, f"delta = {delta:.3g} against 1/n = {1.0 / n1:.3g} (n from the noisy "
                f"row count); {why}. Pass needs delta <= 1/n^1.1.")


def noise_secure(f: Facts) -> Finding:
    repro = any(e["reproducible_noise"] for e in f.ledger["entries"])
    if repro or (f.model is not None and f.model.reproducible_noise):
        return ("fail", "Privacy noise was drawn from a seeded, reproducible generator "
                        "(Noise.insecure_for_tests): anyone with the seed can remove it. "
                        "This release is NOT differentially private; refit with the "
                        "default noise before publishing.")
    return ("pass", "No ledger entry and no model records reproducible (seeded) noise: "
                    "privsynth's samplers reseed from the operating system's CSPRNG.")


def model_file_safe(f: Facts) -> Finding:
    contents = f.model.record.contents if f.model is not None else ""
    contents = contents or "the engine's DP outputs"
    if f.model_path is not None:
        from privsynth._modelfile import peek_engine, read_model
        from privsynth.engines.record import FitRecord
        from privsynth.errors import ModelFileError

        try:
            file_engine = peek_engine(f.model_path)
            file_record = FitRecord.from_dict(read_model(f.model_path, file_engine)["record"])
        except (ModelFileError, KeyError, TypeError):
            return ("fail", "The model file is not a privsynth model file with a fit record; "
                            "the audit cannot vouch for what it contains.")
        if f.model is not None and \
                [e.id for e in file_record.entries] != [e.id for e in f.model.entries]:
            return ("fail", "The model file holds a different fit than the model audited (its "
                            "ledger entries differ): audit the released file itself.")
        return ("pass", f"The model file is a checksummed privsynth model file "
                        f"({file_engine}) of the audited fit. By construction it holds "
                        f"{file_record.contents or contents}; no training row is written and it "
                        "is never pickled.")
    if f.model is not None:
        return ("pass", f"By construction, the {f.model.engine} model's save() writes "
                        f"{contents}; no training row is written and the file is never "
                        "pickled.")
    return ("warn", "No model was given to the audit; if a model file is released, "
                    "audit it with model= and model_path=.")


def budget_respected(f: Facts) -> Finding:
    spent, budget = f.ledger["spent"], f.ledger["budget"]
    if f.ledger["source"] == "model":
        return ("warn", "No ledger of the data set was given: the total stated is this "
                        "model's own, and other releases from the same data are not counted. "
                        "Pass the data set's ledger (accountant=, or --ledger in the CLI).")
    if not f.ledger["given"] or not f.ledger["entries"]:
        return ("warn", "The ledger is missing or empty: the report cannot show what was spent "
                        "on this data set. Pass the data set's ledger (accountant=).")
    if spent["epsilon"] is None:
        return ("fail", "The composition of the ledger is unbounded at the budget's delta.")
    ok = spent["epsilon"] <= budget["epsilon"] * (1 + _REL_TOL) + 1e-12
    return ("pass" if ok else "fail",
            f"Spent epsilon {spent['epsilon']:.4g} of the budget "
            f"{budget['epsilon']:.4g} (delta {spent['delta']:.3g} of "
            f"{budget['delta']:.3g}).")


def composition_stated(f: Facts) -> Finding:
    method = f.ledger["spent"]["method"]
    if f.ledger["entries"] and method in METHOD_TEXT:
        return ("pass", f"The total is composed by {method!r}: {METHOD_TEXT[method]}. The "
                        "tightest valid bound of several methods is used.")
    return ("warn", "No composed total is available (empty or missing ledger).")


def ledger_covers_model(f: Facts) -> Finding:
    c = f.claim
    if c.ledger_covers_model is False:
        return ("fail", f"This model is not recorded in the ledger given: {c.missing} of its "
                        f"{c.model_entries} ledger entries are not in it (matched by entry id). "
                        "The data set's total stated is the ledger composed with the model's own "
                        "events. Audit with the ledger the model was fitted on.")
    if c.ledger_covers_model:
        return ("pass", f"All {c.model_entries} of the model's ledger entries are in the ledger "
                        "given (matched by entry id, not by numbers).")
    return None


def fit_recorded(f: Facts) -> Finding:
    if f.model is None:
        return None
    kind = f.model.record.ledger.kind
    if kind == "none":
        return ("warn", "The model was fitted without an accountant: its spend is recorded "
                        "nowhere but in the model itself. If anything else was released from "
                        "the same data, no ledger holds the data set's total; fit with the data "
                        "set's ledger.")
    where = "the data set's ledger file" if kind == "file" else "an in-memory ledger"
    return ("pass", f"The fit was recorded in {where} when it was made.")


def synthetic_in_schema(f: Facts) -> Finding:
    if f.synthetic_problems:
        parts = "; ".join(f"{p.get('column')}: {p.get('problem')} ({p.get('rows', '?')} rows)"
                          for p in f.synthetic_problems)
        return ("fail", "The synthetic data do not match the public schema (" + parts +
                        "). Values outside the public domains cannot come from the DP "
                        "model and may be copies of real values. The evaluation was "
                        "skipped.")
    return ("pass", "Every synthetic value lies in its column's public domain.")


def attacks_found_nothing(f: Facts) -> Finding:
    a = f.attacks
    if not a.get("included"):
        return None
    eps = f.claim.tested()[0]
    claim = fmt(eps) if eps is not None else "none"
    status = {"problem found": "fail", "inconclusive": "warn"}.get(a["verdict"], "pass")
    return (status, f"{a['verdict'].capitalize()}: {a['verdict_reason']} (largest empirical "
                    f"epsilon estimate {a['max_epsilon_lower_bound']}, a diagnostic; claim: "
                    f"{claim}.)")


def criteria_below_moderate(f: Facts) -> Finding:
    results = f.criteria.get("results") if f.criteria.get("included") else None
    if not results:
        return None
    titles = {k: m["title"].lower() for k, m in f.criteria["method"].items()}
    raised = [f"{titles[k]} {r['verdict']}" for k, r in results.items()
              if r["verdict"] in ("moderate", "high")]
    if raised:
        # a warning, not a failure: a differentially private release may legitimately let
        # attacks do better on the people in the data at a large epsilon; the guarantee
        # stands, and the controller weighs these risks in the anonymisation assessment
        return ("warn", "The anonymisation criteria found a risk on the people in the data: "
                        + "; ".join(raised) + ". Read the criteria section before deciding to "
                        "publish; for a release at a small epsilon this suggests a bug or a "
                        "false claim.")
    return ("pass", "No criterion found a moderate or high risk: "
                    + "; ".join(f"{titles[k]} {r['verdict']}" for k, r in results.items())
                    + ". Evidence from these attacks, not proof.")


#: The hazard table, in the order of the checklist.
HAZARD_CHECKS: tuple[HazardCheck, ...] = (
    HazardCheck("claim", "A finite privacy guarantee is known", claim_known),
    HazardCheck("schema-source", "Domains are public", schema_public),
    HazardCheck("row-count", "Row count is noisy", row_count_noisy),
    HazardCheck("row-count-exact", "Synthetic row count is not the real one",
                row_count_not_exact, evaluation=True),
    HazardCheck("delta", "Delta is much smaller than 1/n", delta_small),
    HazardCheck("noise", "Noise from a secure generator", noise_secure),
    HazardCheck("model-file", "Model file holds no training rows", model_file_safe),
    HazardCheck("budget", "Spending within the budget", budget_respected),
    HazardCheck("composition", "Composition method stated", composition_stated),
    HazardCheck("ledger-coverage", "The ledger records this release", ledger_covers_model),
    HazardCheck("fit-recorded", "The fit is recorded in a ledger", fit_recorded),
    HazardCheck("synthetic-schema", "Synthetic data stay within the public schema",
                synthetic_in_schema),
    HazardCheck("attacks", "Empirical attacks found no problem", attacks_found_nothing,
                evaluation=True),
    HazardCheck("criteria", "Anonymisation criteria found no moderate or high risk",
                criteria_below_moderate, evaluation=True),
)


def engine_hazards(model: ModelFacts | None) -> list[dict[str, Any]]:
    """The hazards the engine reports about its own fit (``insecure ...`` ones fail)."""
    if model is None:
        return []
    return [make_hazard(f"engine-{i}", f"Engine hazard ({model.engine})",
                        "fail" if text.lower().startswith("insecure") else "warn", text)
            for i, text in enumerate(model.hazards, start=1)]


def hazards_section(facts: Facts) -> list[dict[str, Any]]:
    """The checklist: every applicable check of the table, then the engine's own hazards."""
    out = []
    for row in HAZARD_CHECKS:
        found = row.check(facts)
        if found is not None:
            out.append(make_hazard(row.id, row.title, found[0], found[1], row.evaluation))
    return out + engine_hazards(facts.model)


def count(hazards: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How many hazards have each status."""
    return {s: sum(1 for h in hazards if h["status"] == s) for s in STATUSES}

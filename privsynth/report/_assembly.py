"""The steps every audit shares: the option checks, the release's accounting, the document.

:func:`~privsynth.report.build.audit` (one table) and
:func:`~privsynth.report.tables.audit_tables` (a release of related tables)
differ in their inputs and evaluation sections; they check their common
options, state the claim and the ledger, and assemble the document (residual
risk and sign-off last, from the finished document) through this module, so
that a rule added to one of these steps holds for both reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from privsynth._checks import check_int
from privsynth.report.claim import Claim, epsilon_section, make_claim
from privsynth.report.document import REPORT_FORMAT, REPORT_VERSION, AuditReport
from privsynth.report.hazards import count
from privsynth.report.ledger import ledger_section
from privsynth.report.model_facts import ModelFacts
from privsynth.report.residual_risk import residual_risk_section
from privsynth.report.sign_off import check_release_info, release_info, sign_off_section


def check_options(where: str, *, random_state: object, n_jobs: object, max_records: object,
                  release: Mapping[str, object]) -> dict[str, str | None]:
    """Check the options both audits take; return the checked release information.

    ``release`` holds ``purpose``, ``audience``, ``controller``, ``approver``
    and ``dataset`` as given (:func:`~privsynth.report.sign_off.check_release_info`).
    """
    check_int("random_state", random_state, lo=0, where=where)
    check_int("n_jobs", n_jobs, lo=1, none_ok=True, where=where)
    check_int("max_records", max_records, lo=100, none_ok=True, where=where)
    return check_release_info(dict(release))


@dataclass(frozen=True)
class Accounting:
    """The release's ledger section, its sign-off information and its privacy claim."""

    ledger: dict[str, Any]
    info: dict[str, Any]
    claim: Claim


def accounting(accountant: Any, facts: ModelFacts | None, given: Mapping[str, str | None]
               ) -> Accounting:
    """The ledger section, the release information (given or from the ledger), the claim."""
    ledger = ledger_section(accountant, facts)
    return Accounting(ledger, release_info(given, ledger), make_claim(accountant, facts))


def assemble(sections: Sequence[tuple[str, str]], acct: Accounting, *,
             identity: dict[str, Any], data: dict[str, Any], threat_model: dict[str, Any],
             hazards: list[dict[str, Any]], attacks: dict[str, Any],
             criteria: dict[str, Any], utility: dict[str, Any],
             configuration: dict[str, Any],
             extra: Mapping[str, dict[str, Any]] | None = None) -> AuditReport:
    """The steward's document of the given sections; residual risk and sign-off built last.

    ``extra`` holds the sections a report has beyond the single-table ones
    (in order, placed after ``utility``).
    """
    doc: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "public": False,
        "edition": "steward",
        "sections": [{"id": i, "title": t} for i, t in sections],
        "sign_off": {},  # built last, from the finished document
        "identity": identity,
        "data": data,
        "threat_model": threat_model,
        "ledger": acct.ledger,
        "epsilon": epsilon_section(acct.claim),
        "hazards": hazards,
        "hazard_counts": count(hazards),
        "attacks": attacks,
        "criteria": criteria,
        "utility": utility,
        **(extra or {}),
        "configuration": configuration,
    }
    doc["residual_risk"] = residual_risk_section(doc)
    doc["sign_off"] = sign_off_section(doc, acct.info)
    return AuditReport(doc)

"""The audit report as a document: :class:`AuditReport`, its format and its two editions.

A report is one JSON document (format :data:`REPORT_FORMAT`, version
:data:`REPORT_VERSION`, sections :data:`SECTIONS`); the HTML is a pure
function of the JSON of the same edition, so the HTML never shows anything
the JSON of that edition does not hold. The public edition drops everything
computed on the real data without DP.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from privsynth.errors import DataValidationError, ParameterError
from privsynth.report.criteria import public_criteria
from privsynth.report.hazards import count
from privsynth.report.residual_risk import residual_risk_section
from privsynth.report.sign_off import metadata_of, sign_off_section

REPORT_FORMAT = "privsynth.audit"
REPORT_VERSION = 2

#: Section ids (the HTML headings' ``id`` attributes) and titles, in order.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("sign-off", "Sign-off summary"),
    ("identity", "Release identity"),
    ("data", "Data description (public schema)"),
    ("threat-model", "Privacy unit and threat model"),
    ("ledger", "Privacy ledger"),
    ("epsilon", "What the guarantee means"),
    ("hazards", "Hazards checklist"),
    ("attacks", "Empirical attacks"),
    ("criteria", "Anonymisation criteria (WP29)"),
    ("utility", "Utility"),
    ("residual-risk", "Residual risk"),
    ("ledger-entries", "Appendix: ledger entries"),
    ("configuration", "Appendix: configuration"),
)

#: The sections of the report of a release of related tables (``audit_tables``): the
#: single-table utility section is replaced by one per table and one for the relation.
TABLES_SECTIONS: tuple[tuple[str, str], ...] = tuple(
    item for s in SECTIONS for item in (
        (("tables", "Utility of each table"), ("relation", "The parent-child relation"))
        if s[0] == "utility" else (s,)))

PUBLIC_OMISSION = (
    "Omitted from the public edition: these numbers are computed on the private data "
    "without differential privacy."
)


@dataclass(frozen=True)
class AuditReport:
    """The audit of one synthetic release: a JSON document with HTML and JSON views.

    Build it with :func:`audit`; read it back with :meth:`from_json`.

    Attributes
    ----------
    content : dict
        The full document (the steward's edition), JSON types only. Use
        :meth:`to_dict` rather than this attribute: it returns a copy, and the
        public edition on request.
    """

    content: Mapping[str, Any]

    def __post_init__(self) -> None:
        fmt = self.content.get("format") if isinstance(self.content, Mapping) else None
        if fmt != REPORT_FORMAT:
            raise DataValidationError(f"not a privsynth audit report (format "
                                      f"{fmt!r}, "
                                      f"expected {REPORT_FORMAT!r})")
        if self.content.get("version") != REPORT_VERSION:
            raise DataValidationError(
                f"audit report version {self.content.get('version')!r} is not supported "
                f"(this privsynth reads version {REPORT_VERSION})")

    # -- editions -----------------------------------------------------------
    def to_dict(self, *, public: bool = False) -> dict[str, Any]:
        """The report as JSON types; ``public=True`` drops everything computed on real data.

        The public edition keeps the identity, the schema, the threat model, the
        ledger, the reading of epsilon, the hazards that do not depend on the
        evaluation, the residual risk (rebuilt) and the configuration; the
        attacks and utility sections say they were omitted, and the
        anonymisation criteria keep their method without any result.
        """
        doc = copy.deepcopy(dict(self.content))
        if not public or doc.get("public"):
            return doc
        doc["public"] = True
        doc["edition"] = "public"
        for key in ("attacks", "utility"):
            doc[key] = {"included": False, "reason": PUBLIC_OMISSION}
        doc["criteria"] = public_criteria(doc["criteria"], PUBLIC_OMISSION)
        _public_tables(doc)
        # the evaluation's checks are left out of this edition (a failed row-count check
        # would give the real row count away), so a verdict without them could read "pass"
        # for a release they fail: no public edition is written then. The refusal reaches
        # the steward only; the public edition's content never depends on those checks.
        failed = [h["title"] for h in doc["hazards"]
                  if h.get("evaluation") and h["status"] == "fail"]
        if failed:
            raise ParameterError(
                "no public edition of this report: checks computed on the private data "
                f"failed ({'; '.join(failed)}), and the public edition leaves them out, so "
                "it would not show why the release should not be published. Fix the release "
                "(e.g. sample a number of rows other than the real one: the model's noisy "
                "count is the default) and audit again; the steward's edition shows the "
                "details.")
        doc["hazards"] = [h for h in doc["hazards"] if not h.get("evaluation")]
        doc["hazard_counts"] = count(doc["hazards"])
        doc["residual_risk"] = residual_risk_section(doc)
        doc["sign_off"] = sign_off_section(doc, metadata_of(doc.get("sign_off") or {}))
        return doc

    def to_json(self, path: str | Path | None = None, *, public: bool = False,
                indent: int = 2) -> str:
        """JSON text of the report (see ``docs/report.md``); also written to ``path``."""
        text = json.dumps(self.to_dict(public=public), indent=indent, allow_nan=False,
                          ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_html(self, path: str | Path | None = None, *, public: bool = False) -> str:
        """One self-contained HTML page (inline CSS and SVG, no script, no URL)."""
        from privsynth.report._html import render

        text = render(self.to_dict(public=public))
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def summary(self) -> dict[str, Any]:
        """Headline numbers (for the command line), from the steward's edition.

        A report of related tables adds ``tables`` (``tvd1`` and ``tvd2`` of
        each table) and ``relation`` (key integrity, the TVD of children per
        parent, the mean TVD of the parent x child pairs).
        """
        doc = self.content
        utility = doc["utility"]
        attacks = doc["attacks"]
        fid = utility.get("fidelity", {}) if utility.get("included") else {}
        ml = utility.get("ml_efficacy") if utility.get("included") else None
        out: dict[str, Any] = {
            "release_id": doc["identity"]["release_id"],
            "epsilon": doc["epsilon"]["epsilon"],
            "delta": doc["epsilon"]["delta"],
            "method": doc["epsilon"]["method"],
            "release_epsilon": doc["epsilon"]["release_epsilon"],
            "release_delta": doc["epsilon"]["release_delta"],
            "tvd1": fid.get("tvd1"),
            "tvd2": fid.get("tvd2"),
            "tstr_auc": ml.get("tstr_auc") if ml else None,
            "max_attack_auc": attacks.get("max_auc") if attacks.get("included") else None,
            "max_epsilon_lower_bound": attacks.get("max_epsilon_lower_bound")
            if attacks.get("included") else None,
            "hazards_fail": doc["hazard_counts"]["fail"],
            "hazards_warn": doc["hazard_counts"]["warn"],
        }
        if "relation" in doc:
            out.update(_tables_summary(doc))
        return out

    # -- reading back -----------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditReport:
        """A report from its :meth:`to_dict` form (checks format and version)."""
        if not isinstance(data, Mapping):
            raise DataValidationError(f"an audit report must be a JSON object, got "
                                      f"{type(data).__name__}")
        return cls(copy.deepcopy(dict(data)))

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> AuditReport:
        """Read a report written by :meth:`to_json` (JSON text or a file path)."""
        text = str(text_or_path)
        if isinstance(text_or_path, Path) or not text.lstrip().startswith("{"):
            try:
                text = Path(text_or_path).read_text(encoding="utf-8")
            except OSError as exc:
                raise DataValidationError(f"cannot read audit report {text_or_path}: "
                                          f"{exc.strerror or exc}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataValidationError(f"an audit report is not valid JSON: {exc.msg}") from exc
        return cls.from_dict(data)


def _public_tables(doc: dict[str, Any]) -> None:
    """The public edition of the sections of related tables: evaluation numbers dropped.

    Each table keeps its part of the release (epsilon, ledger entries, noisy
    row count: DP outputs) and its synthetic row count; the relation keeps its
    key integrity (computed on the synthetic tables only).
    """
    omitted = {"included": False, "reason": PUBLIC_OMISSION}
    for table in (doc.get("tables") or {}).get("tables", []):
        table["utility"] = dict(omitted)
    if "relation" in doc:
        doc["relation"]["evaluation"] = dict(omitted)


def _tables_summary(doc: Mapping[str, Any]) -> dict[str, Any]:
    tables = {}
    for t in doc["tables"]["tables"]:
        fid = t["utility"].get("fidelity", {}) if t["utility"].get("included") else {}
        tables[t["table"]] = {"tvd1": fid.get("tvd1"), "tvd2": fid.get("tvd2")}
    rel = doc["relation"]
    ev = rel["evaluation"] if rel["evaluation"].get("included") else {}
    return {"tables": tables, "relation": {
        "key_integrity": rel["key_integrity"]["share"],
        "children_tvd": ev.get("children", {}).get("tvd"),
        "mean_pair_tvd": ev.get("mean_pair_tvd")}}


def schema_path() -> Path:
    """Path of the JSON Schema (draft 2020-12) that every report document satisfies."""
    return Path(__file__).with_name("audit.schema.json")

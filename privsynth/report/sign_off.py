"""Section "Sign-off": the first page, a summary a data-protection officer can sign.

It says what is released (files and their SHA-256), to whom and for what
purpose, who the controller and the approver are, which data set it comes
from (its name and its ledger's genesis and head), the two guarantees in
words, the residual risks, what the steward must not do, how long to keep the
ledger, the legal framing, and a signature block. It is rebuilt from the
document of each edition (like the residual risk), so the public edition's
page matches the public edition's checklist.

The release metadata (purpose, audience, controller, approver, data set)
comes from :func:`~privsynth.report.audit`'s arguments and, where they are
not given, from the ledger's data-set header (``budget init --dataset ...
--owner ... --approved-by ...``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from privsynth.errors import ParameterError
from privsynth.report._values import fmt

#: The release metadata audit() accepts (each an optional non-empty string).
RELEASE_FIELDS = ("purpose", "audience", "controller", "approver", "dataset")

NOT_STATED = "not stated: fill in before signing"

MUST_NOT = (
    "Do not start a new ledger or budget for the same table (or a copy or part of it): "
    "every release from this data set must be charged to this ledger, or the data set's "
    "total stated here is false.",
    "Do not publish the steward's edition of this report: its evaluation numbers are computed "
    "on the private data without differential privacy. Publish the public edition.",
    "Do not fit again on the same data (with other seeds, settings or engines) and publish the "
    "result unless that fit is charged to this ledger. Drawing more rows from the released "
    "model is post-processing and costs nothing; a new fit is a new release.",
    "Do not sample with the real row count or publish it, and do not pass real rows to "
    "conditional sampling for a published output: neither is covered by the guarantee.",
    "Do not restore an older copy of the ledger or edit it: that silently refunds spends. "
    "Keep backups as copies only; the chain head printed here identifies the ledger's state.",
)

RETENTION = (
    "Keep the ledger file (and the key of its data-set fingerprint) unchanged for as long as "
    "any release from this data set is available or the source data are kept, whichever is "
    "longer, and at least as long as this report: it is the only proof of the data set's "
    "total. Later releases append to it; nothing is ever removed.")

LEGAL = (
    "Differential privacy is a technical measure: it bounds how much any one person's record "
    "can change what is released, as stated above. It is not by itself a legal finding. "
    "Whether the released data are anonymous information under the GDPR (Recital 26: "
    "identification by means reasonably likely to be used, taking into account cost, time "
    "and technology) is the controller's assessment, which this report informs but does not "
    "replace.")


def check_release_info(info: Mapping[str, object]) -> dict[str, str | None]:
    """The release metadata given to audit(), checked: None or a non-empty string each."""
    out: dict[str, str | None] = {}
    for key in RELEASE_FIELDS:
        value = info.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ParameterError(f"audit: {key}={value!r}; allowed: None or a non-empty string")
        out[key] = value.strip() if isinstance(value, str) else None
    return out


def release_info(given: Mapping[str, str | None],
                 ledger: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata of the release: the arguments given, else the ledger's data-set header.

    A data set name given to the audit must agree with the ledger's.
    """
    header = ledger.get("dataset") or {}
    name = header.get("name") or None
    if given["dataset"] is not None and name is not None and given["dataset"] != name:
        raise ParameterError(
            f"audit: dataset={given['dataset']!r}, but the ledger given belongs to data set "
            f"{name!r}; audit the release against its own data set's ledger (or omit dataset=)")
    sources = {}
    out: dict[str, Any] = {}
    for key, from_ledger in (("purpose", None), ("audience", None),
                             ("controller", header.get("owner") or None),
                             ("approver", header.get("approved_by") or None),
                             ("dataset", name)):
        value = given[key] if given[key] is not None else from_ledger
        out[key] = value
        sources[key] = ("audit" if given[key] is not None else
                        "ledger" if from_ledger is not None else None)
    out["sources"] = sources
    return out


def _released_files(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    idt = doc["identity"]
    syn, mod = idt["synthetic"], idt["model"]
    files = [{"what": f"synthetic table {t['table']}", "file_name": t.get("file_name"),
              "sha256": t["sha256"], "hashed": t["hashed"]}
             for t in idt["tables"]] if idt.get("tables") else [
        {"what": "synthetic data", "file_name": syn.get("file_name"),
         "sha256": syn["sha256"], "hashed": syn["hashed"]}]
    if mod.get("sha256"):
        files.append({"what": "model file", "file_name": mod.get("file_name"),
                      "sha256": mod["sha256"], "hashed": "file"})
    return files


def _guarantees(ep: Mapping[str, Any]) -> list[str]:
    out = []
    rel = ep.get("release_epsilon")
    if rel is not None:
        out.append(f"This release on its own: epsilon = {rel:.4g}, delta = "
                   f"{ep['release_delta']:.3g}. In words: whether or not one person's record "
                   f"is in the data changes the probability of anything seen in this release "
                   f"by at most a factor of {_factor(rel)}"
                   + (", except with probability delta." if ep["release_delta"] else ".")
                   + (" The fit was recorded in no ledger." if ep.get("recorded") == "none"
                      else ""))
    else:
        out.append("This release on its own: not stated (no model was given to the audit).")
    eps = ep.get("epsilon")
    if eps is None:
        out.append("The data set: no finite guarantee is known.")
    else:
        src = {"ledger": "everything recorded in the data set's ledger",
               "ledger+model": "the ledger given together with this model, which it does not "
                               "record",
               "model": "this model only (no ledger of the data set was given)"}
        out.append(f"The data set ({src.get(ep['source'], ep['source'])}): epsilon = "
                   f"{eps:.4g}, delta = {ep['delta']:.3g}. In words: for everything released "
                   f"from this data set together, that factor is at most {_factor(eps)}"
                   + (", except with probability delta." if ep["delta"] else "."))
    out.append("The values of a person known to be in the data are protected at twice these "
               "epsilons (a replace-one change).")
    return out


def _factor(eps: float) -> str:
    return f"e^{fmt(eps)} = {math.exp(eps):.3g}" if eps < 700 else f"e^{fmt(eps)}"


def sign_off_section(doc: Mapping[str, Any], info: Mapping[str, Any]) -> dict[str, Any]:
    """The sign-off page of one edition, from its document and the release metadata."""
    ep = doc["epsilon"]
    ledger = doc["ledger"]
    rr = doc["residual_risk"]
    return {
        "release_id": doc["identity"]["release_id"],
        "released_files": _released_files(doc),
        "purpose": info.get("purpose"),
        "audience": info.get("audience"),
        "controller": info.get("controller"),
        "approver": info.get("approver"),
        "dataset": {"name": info.get("dataset"), "genesis": ledger.get("genesis"),
                    "head": ledger.get("head")},
        "sources": dict(info.get("sources") or {}),
        "release_guarantee": {"epsilon": ep.get("release_epsilon"),
                              "delta": ep.get("release_delta")},
        "dataset_guarantee": {"epsilon": ep.get("epsilon"), "delta": ep.get("delta")},
        "guarantees": _guarantees(ep),
        "verdict": rr["verdict"],
        "verdict_statement": rr["statement"],
        "residual_risks": list(rr["points"]),
        "must_not": list(MUST_NOT),
        "retention": RETENTION,
        "legal": LEGAL,
        "signatures": [{"role": "Controller", "name": info.get("controller")},
                       {"role": "Approver", "name": info.get("approver")}],
    }


def metadata_of(sign_off: Mapping[str, Any]) -> dict[str, Any]:
    """The release metadata held by a sign-off section (to rebuild it for another edition)."""
    return {"purpose": sign_off.get("purpose"), "audience": sign_off.get("audience"),
            "controller": sign_off.get("controller"), "approver": sign_off.get("approver"),
            "dataset": (sign_off.get("dataset") or {}).get("name"),
            "sources": sign_off.get("sources") or {}}

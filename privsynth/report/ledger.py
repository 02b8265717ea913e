"""Section "Privacy ledger": every recorded spend on the data set and the composed total."""

from __future__ import annotations

from typing import Any

from privsynth.report._values import jsonable

#: Plain words for each composition method of the accountant.
METHOD_TEXT = {
    "sum": "pure epsilon-DP events added up (exact basic composition)",
    "pld": "privacy loss distributions (tight numerical composition, pessimistic estimate)",
    "rdp": "Renyi DP composition converted to (epsilon, delta)",
    "sum+pld": "pure events added up, the others composed by privacy loss distributions",
}


def ledger_section(accountant: Any) -> dict[str, Any]:
    """The ledger section of ``accountant`` (None: a section saying no ledger was given)."""
    if accountant is None:
        return {"given": False, "budget": None,
                "spent": {"epsilon": None, "delta": None, "method": "none"},
                "entries": [], "sha256": None, "libraries": {}}
    spent = accountant.spent()
    doc = accountant.to_dict()
    entries = []
    for i, entry in enumerate(accountant.history, start=1):
        ev = entry.event
        entries.append({
            "index": i,
            "label": entry.label,
            "kind": ev.kind,
            "mechanism": ev.describe(),
            "epsilon": jsonable(ev.pure_epsilon),
            "delta": jsonable(ev.delta),
            "timestamp": entry.timestamp,
            "release": entry.release,
            "reproducible_noise": bool(entry.reproducible_noise),
        })
    return {
        "given": True,
        "budget": {"epsilon": jsonable(accountant.epsilon), "delta": jsonable(accountant.delta)},
        "spent": {"epsilon": jsonable(spent.epsilon), "delta": jsonable(spent.delta),
                  "method": spent.method,
                  "method_text": METHOD_TEXT.get(spent.method, "no composition (no events)")},
        "entries": entries,
        "sha256": doc.get("head"),  # the chain head (H2 renames it in phase 2)
        "libraries": jsonable(doc.get("libraries", {})),
    }

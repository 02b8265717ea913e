"""Section "Privacy ledger": every recorded spend on the data set and the composed total.

The ledger shown is the data set's ledger given to the audit. Without one,
the model's own ledger entries (which every fitted or loaded model carries in
its fit record) are shown instead, and the section says so: the report never
falls back to an empty ledger. Each entry carries its id (the ledger is a
hash chain); the ledger is identified by its genesis and its head, the id of
its last entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from privsynth.accounting.ledger import LedgerEntry
from privsynth.report._values import jsonable
from privsynth.report.model_facts import ModelFacts

#: Plain words for each composition method of the accountant.
METHOD_TEXT = {
    "sum": "pure epsilon-DP events added up (exact basic composition)",
    "pld": "privacy loss distributions (tight numerical composition, pessimistic estimate)",
    "rdp": "Renyi DP composition converted to (epsilon, delta)",
    "sum+pld": "pure events added up, the others composed by privacy loss distributions",
    "release-sum": "each release's own guarantee composed alone, the releases added up "
                   "(basic composition over releases), where tighter than joint composition",
}


def _entries(entries: Sequence[LedgerEntry], model_ids: set[str]) -> list[dict[str, Any]]:
    out = []
    for i, entry in enumerate(entries, start=1):
        ev = entry.event
        out.append({
            "index": i,
            "id": entry.id,
            "label": entry.label,
            "kind": ev.kind,
            "mechanism": ev.describe(),
            "epsilon": jsonable(ev.pure_epsilon),
            "delta": jsonable(ev.delta),
            "timestamp": entry.timestamp,
            "release": entry.release,
            "release_delta": jsonable(entry.release_delta),
            "reproducible_noise": bool(entry.reproducible_noise),
            "this_model": entry.id in model_ids,
        })
    return out


def _spent(epsilon: float, delta: float, method: str) -> dict[str, Any]:
    return {"epsilon": jsonable(epsilon), "delta": jsonable(delta), "method": method,
            "method_text": METHOD_TEXT.get(method, "no composition (no events)")}


def ledger_section(accountant: Any, model: ModelFacts | None) -> dict[str, Any]:
    """The ledger section: the accountant's ledger, else the model's own entries."""
    model_ids = {e.id for e in model.entries} if model is not None else set()
    if accountant is not None:
        spent = accountant.spent()
        doc = accountant.to_dict()
        dataset = doc.get("dataset")
        return {
            "given": True,
            "source": "accountant",
            "kind": getattr(accountant, "kind", "memory"),
            "budget": {"epsilon": jsonable(accountant.epsilon),
                       "delta": jsonable(accountant.delta)},
            "spent": _spent(spent.epsilon, spent.delta, spent.method),
            "entries": _entries(accountant.history, model_ids),
            "genesis": doc.get("genesis"),
            "head": doc.get("head"),
            "dataset": jsonable(dataset) or None,
            "unit": doc.get("unit"),
            "libraries": jsonable(doc.get("libraries", {})),
        }
    if model is not None:
        from privsynth.accounting import compose_entries

        own = compose_entries(model.entries, model.delta)
        return {
            "given": False,
            "source": "model",
            "kind": None,
            "budget": None,
            "spent": _spent(own.epsilon, own.delta, own.method),
            "entries": _entries(model.entries, model_ids),
            "genesis": None,
            "head": model.record.ledger.head,
            "dataset": None,
            "unit": None,
            "libraries": {},
        }
    return {"given": False, "source": "none", "kind": None, "budget": None,
            "spent": {"epsilon": None, "delta": None, "method": "none"},
            "entries": [], "genesis": None, "head": None, "dataset": None, "unit": None,
            "libraries": {}}

"""Section "Appendix: configuration": engine parameters, audit settings, schema, ledger file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from privsynth.report._values import jsonable
from privsynth.report.model_facts import ModelFacts
from privsynth.schema import Schema


def configuration_section(model: ModelFacts | None, schema: Schema, accountant: Any,
                          audit_settings: Mapping[str, Any]) -> dict[str, Any]:
    """Everything needed to reproduce the release and the audit (all public)."""
    return {
        "engine": model.engine if model is not None else None,
        "parameters": model.params if model is not None else None,
        "model_description": model.description if model is not None else None,
        "audit": jsonable(dict(audit_settings)),
        "schema": schema.to_dict(),
        "ledger_document": jsonable(accountant.to_dict()) if accountant is not None else None,
        "fit_record": jsonable(model.record.to_dict()) if model is not None else None,
    }

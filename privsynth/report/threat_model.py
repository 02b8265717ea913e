"""Section "Privacy unit and threat model": what the guarantee protects, against whom.

Under add/remove neighbours (unbounded DP) the guarantee bounds what the
release reveals about *whether* a unit is in the data. Hiding the values of
a unit known to be present is a replace-one question (remove it, add another):
by group privacy it is protected at 2 epsilon, with delta (1 + e^epsilon) delta.

>>> threat_model_section(None)["privacy_unit"]
'one row of the training table'
"""

from __future__ import annotations

from typing import Any

from privsynth.report.model_facts import ModelFacts

ROW_UNIT = "one row of the training table"


def _several_records(model: ModelFacts | None) -> str:
    """What the unit does not cover about people with several rows."""
    if model is not None and model.unit and model.unit != ROW_UNIT:
        return ("a person who appears under several identifiers of the unit column (two "
                "patient numbers, say): each identifier is a unit of its own, so such a person "
                "is protected at that many times epsilon (group privacy)")
    return ("a person with several records: the protection of k records is k times epsilon "
            "(group privacy); declare a privacy unit to protect every record of a person "
            "(docs/units.md)")


def threat_model_section(model: ModelFacts | None) -> dict[str, Any]:
    """The threat model: the privacy unit, neighbouring data sets, what is and is not covered."""
    unit = model.unit if model is not None and model.unit else ROW_UNIT
    noise = list(model.noise) if model is not None else []
    return {
        "privacy_unit": unit,
        "neighbouring": "add or remove one privacy unit (unbounded differential privacy)",
        "protects": (
            "whether any one unit is in the training data: the guarantee bounds how much the "
            "release can reveal about a unit's presence or absence"),
        "values": (
            "the values of a unit that is known to be in the data are a replace-one question "
            "(removing it and adding another): they are protected at 2 epsilon, with delta "
            "(1 + e^epsilon) times delta (group privacy of two changes), not at epsilon"),
        "adversary_knows": [
            "the public schema: column names, kinds and domains",
            "the algorithm, its parameters and the privacy ledger (this report)",
            "the synthetic data and the model file",
            "any other information, including every other record of the data set",
        ],
        "noise_sources": noise,
        "not_covered": [
            "facts about the population that many records share: learning them is the "
            "purpose of the release",
            _several_records(model),
            "steps that are not in the ledger: a schema read from the data without DP, data "
            "cleaning that looked at the values, parameters tuned on the private data",
            "rows passed to conditional sampling (sample_conditions, conditions=): they are "
            "inputs chosen by whoever samples, not protected by the guarantee, and their "
            "values can reappear in the output",
            "side channels of the implementation such as running time or floating-point "
            "artefacts (DP-SGD noise is floating point, drawn from torch's ordinary "
            "generator; see the noise sources above)",
            "the evaluation numbers of the steward's edition of this report (computed on the "
            "private data without DP)",
        ],
    }

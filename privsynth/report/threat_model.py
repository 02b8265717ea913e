"""Section "Privacy unit and threat model": what the guarantee protects, against whom."""

from __future__ import annotations

from typing import Any


def threat_model_section() -> dict[str, Any]:
    """The threat model: the privacy unit, neighbouring data sets, what is and is not covered."""
    return {
        "privacy_unit": "one record (row) of the training table",
        "neighbouring": "add or remove one record (unbounded differential privacy)",
        "protects": "whether any one record is in the training data, and what its values are",
        "adversary_knows": [
            "the public schema: column names, kinds and domains",
            "the algorithm, its parameters and the privacy ledger (this report)",
            "the synthetic data and the model file",
            "any other information, including every other record of the data set",
        ],
        "not_covered": [
            "facts about the population that many records share: learning them is the "
            "purpose of the release",
            "a person with several records: the protection of k records is k times epsilon "
            "(group privacy)",
            "steps that are not in the ledger: a schema read from the data without DP, data "
            "cleaning that looked at the values, parameters tuned on the private data",
            "side channels of the implementation such as running time or floating-point "
            "artefacts",
            "the evaluation numbers of the steward's edition of this report (computed on the "
            "private data without DP)",
        ],
    }

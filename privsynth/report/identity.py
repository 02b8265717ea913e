"""Section "Release identity": ids, versions and SHA-256 hashes of the released files."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from privsynth.errors import ParameterError
from privsynth.report._values import sha256_file
from privsynth.report.model_facts import ModelFacts


def identity_section(synthetic: pd.DataFrame, synthetic_path: str | Path | None,
                     model: ModelFacts | None, model_path: str | Path | None,
                     release_id: str | None) -> dict[str, Any]:
    """The identity section; ``release_id`` defaults to a random UUID4."""
    from privsynth._version import __version__

    if release_id is None:
        release_id = str(uuid.uuid4())
    elif not isinstance(release_id, str) or not release_id.strip():
        raise ParameterError(f"release_id must be a non-empty string, got {release_id!r}")
    syn: dict[str, Any]
    if synthetic_path is not None:
        syn = {"sha256": sha256_file(synthetic_path, "synthetic_path"),
               "hashed": "file", "file_name": Path(synthetic_path).name}
    else:
        text = synthetic.to_csv(index=False, lineterminator="\n")
        syn = {"sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
               "hashed": "dataframe-csv", "file_name": None}
    syn["rows"] = len(synthetic)
    syn["columns"] = int(synthetic.shape[1])
    mod: dict[str, Any] = {"engine": model.engine if model is not None else None,
                           "sha256": None, "file_name": None}
    if model_path is not None:
        mod["sha256"] = sha256_file(model_path, "model_path")
        mod["file_name"] = Path(model_path).name
    return {
        "release_id": release_id,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "privsynth_version": __version__,
        "synthetic": syn,
        "model": mod,
        "hash_note": (
            "SHA-256 of the file as written" if synthetic_path is not None else
            "SHA-256 of the synthetic DataFrame written as CSV (pandas to_csv, index=False, "
            "UTF-8, '\\n' line ends); hash the released file itself with synthetic_path="),
    }

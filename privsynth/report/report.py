"""The audit report of a synthetic release: :func:`audit` and :class:`AuditReport`.

:func:`audit` gathers everything a reviewer needs to judge one release: its
identity (ids and file hashes), the public schema, the privacy unit and threat
model, the privacy ledger and its total (epsilon, delta), a plain-language
reading of that epsilon, a hazards checklist, the empirical attacks of
:mod:`privsynth.risk`, utility metrics of :mod:`privsynth.metrics`, a
residual-risk statement and the full configuration.

The report is computed by the data steward *from the private data*, so it is
itself an output that must not leak:

- it never contains a row of the real data, a real value outside the public
  schema, or an exact count of real rows (the row count shown is the engine's
  noisy, DP estimate);
- figures of the real data are drawn on the *public* bins of the schema
  (equal-width bins between the schema's bounds, the schema's categories),
  never on quantiles of the data;
- the *evaluation* parts (utility, attacks, distance diagnostics) are
  aggregates computed on the private data without DP. They are kept in the
  default edition, meant for the steward and auditors, and dropped from the
  public edition (``to_html(public=True)`` / ``to_json(public=True)``), which
  holds only the schema, DP outputs, the ledger and the hazards.

The HTML is a pure function of the JSON document of the same edition, so the
HTML never shows anything the JSON of that edition does not hold.

Example
-------
>>> import pandas as pd
>>> from privsynth.accounting import Accountant
>>> from privsynth.engines.privbayes import PrivBayes
>>> from privsynth.schema import Schema
>>> schema = Schema.from_dict({"columns": [
...     {"name": "age", "kind": "integer", "lower": 0, "upper": 99},
...     {"name": "smoker", "kind": "categorical", "categories": ["no", "yes"]}]})
>>> real = pd.DataFrame({"age": [20, 35, 50, 65] * 50, "smoker": ["no", "yes"] * 100})
>>> model = PrivBayes().fit(real, schema=schema, epsilon=1.0, accountant=Accountant(1.0))
>>> report = audit(real, model.sample(200, random_state=0), model=model)
>>> report.summary()["epsilon"], report.summary()["method"]
(1.0, 'sum')
>>> [h["status"] for h in report.to_dict()["hazards"] if h["id"] == "schema-source"]
['pass']
>>> html = report.to_html(public=True)
>>> '<h2 id="ledger">' in html and "://" not in html
True
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from privsynth.errors import DataValidationError, NotFittedError, ParameterError
from privsynth.schema import (
    BooleanColumn,
    CategoricalColumn,
    Column,
    DatetimeColumn,
    FloatColumn,
    IntegerColumn,
    Schema,
)

REPORT_FORMAT = "privsynth.audit"
REPORT_VERSION = 1

#: Section ids (the HTML headings' ``id`` attributes) and titles, in order.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("identity", "Release identity"),
    ("data", "Data description (public schema)"),
    ("threat-model", "Privacy unit and threat model"),
    ("ledger", "Privacy ledger"),
    ("epsilon", "What the guarantee means"),
    ("hazards", "Hazards checklist"),
    ("attacks", "Empirical attacks"),
    ("utility", "Utility"),
    ("residual-risk", "Residual risk"),
    ("configuration", "Appendix: configuration"),
)

STATUSES = ("pass", "warn", "fail")

#: False positive rates of the plain-language membership reading.
READING_FPRS = (0.01, 0.1)
#: Columns with the largest TVD drawn as marginal comparisons.
N_WORST_COLUMNS = 4
#: Most bins drawn for one marginal (more categories are merged into "other").
MAX_BARS = 24
#: Equal-width public bins of a numeric column in the marginal figures.
NUMERIC_BINS = 20

EVALUATION_NOTE = (
    "Computed on the private data without differential privacy: these are diagnostics for "
    "the data steward and auditors, not DP outputs, and this steward's edition is an "
    "internal document. They are omitted from the public edition of this report. Counts of "
    "real rows are never shown, exactly or otherwise."
)
#: Default cap on the rows of each real or synthetic table used by the evaluation.
DEFAULT_MAX_RECORDS = 50_000
#: Decimals of the shares of real data shown in the marginal figures: coarse enough that
#: a share times a (noisy) row count does not give back an exact cell count.
REAL_SHARE_DECIMALS = 2
PUBLIC_OMISSION = (
    "Omitted from the public edition: these numbers are computed on the private data "
    "without differential privacy."
)

_MODEL_CONTENTS = {
    "privbayes": "the public schema, the engine's parameters, the learned network structure "
                 "and the noisy conditional tables (all DP outputs)",
    "dpctgan": "the public schema, the engine's parameters, generator weights trained with "
               "DP-SGD and noisy category frequencies (all DP outputs)",
}
_METHOD_TEXT = {
    "sum": "pure epsilon-DP events added up (exact basic composition)",
    "pld": "privacy loss distributions (tight numerical composition, pessimistic estimate)",
    "rdp": "Renyi DP composition converted to (epsilon, delta)",
    "sum+pld": "pure events added up, the others composed by privacy loss distributions",
}
_REL_TOL = 1e-9


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    """``value`` as JSON types: numpy scalars unwrapped, non-finite floats as None."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _r(value: Any, digits: int) -> float | None:
    """Rounded float, None for missing or non-finite values."""
    if value is None:
        return None
    v = float(value)
    return round(v, digits) if math.isfinite(v) else None


def _sha256_file(path: str | Path, what: str) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise ParameterError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    return h.hexdigest()


def _fmt(x: float) -> str:
    return f"{x:.3g}"


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------
def _check_frame(df: object, what: str, schema: Schema) -> tuple[pd.DataFrame, int]:
    """The schema's columns of ``df``, validated; and how many other columns were ignored.

    Messages carry column names and counts only, never values.
    """
    from privsynth.validation import validate

    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    if not df.columns.is_unique:
        raise DataValidationError(f"{what} has duplicated column names")
    missing = [n for n in schema.names if n not in df.columns]
    if missing:
        raise DataValidationError(
            f"{what} lacks the schema's column(s) {missing}",
            [{"column": n, "problem": "absent"} for n in missing])
    ignored = sum(1 for c in df.columns if c not in schema.names)
    try:
        clean = validate(df[list(schema.names)], schema)
    except DataValidationError as exc:
        raise DataValidationError(f"{what} does not match the schema: {exc}",
                                  list(getattr(exc, "problems", []))) from exc
    return clean, ignored


def _resolve_schema(schema: Schema | None, model: Any) -> Schema:
    model_schema = getattr(model, "schema_", None) if model is not None else None
    if model is not None and model_schema is None:
        raise NotFittedError("the model given to audit() is not fitted (it has no schema_)")
    if schema is None:
        if model_schema is None:
            raise ParameterError("audit() needs the public schema: pass schema=... or a fitted "
                                 "model=... (its schema_ is used)")
        schema = model_schema
    if not isinstance(schema, Schema):
        raise ParameterError(f"schema must be a privsynth Schema, got {type(schema).__name__}")
    if model_schema is not None and model_schema.to_dict() != schema.to_dict():
        raise ParameterError("schema differs from the model's schema_; audit the release with "
                             "the schema the model was fitted with (or omit schema=)")
    return schema


def _engine_name(model: Any) -> str | None:
    if model is None:
        return None
    return str(getattr(model, "name", None) or type(model).__name__)


# ---------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------
def _identity(synthetic: pd.DataFrame, synthetic_path: str | Path | None,
              model: Any, model_path: str | Path | None, release_id: str | None) -> dict[str, Any]:
    from privsynth._version import __version__

    if release_id is None:
        release_id = str(uuid.uuid4())
    elif not isinstance(release_id, str) or not release_id.strip():
        raise ParameterError(f"release_id must be a non-empty string, got {release_id!r}")
    syn: dict[str, Any]
    if synthetic_path is not None:
        syn = {"sha256": _sha256_file(synthetic_path, "synthetic_path"),
               "hashed": "file", "file_name": Path(synthetic_path).name}
    else:
        text = synthetic.to_csv(index=False, lineterminator="\n")
        syn = {"sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
               "hashed": "dataframe-csv", "file_name": None}
    syn["rows"] = len(synthetic)
    syn["columns"] = int(synthetic.shape[1])
    mod: dict[str, Any] = {"engine": _engine_name(model), "sha256": None, "file_name": None}
    if model_path is not None:
        mod["sha256"] = _sha256_file(model_path, "model_path")
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


def _domain_text(col: Column) -> str:
    if isinstance(col, CategoricalColumn):
        return f"{col.size} categories: " + ", ".join(col.categories)
    if isinstance(col, BooleanColumn):
        return "true / false"
    if isinstance(col, DatetimeColumn):
        return f"{col.lower} to {col.upper} (resolution {col.resolution})"
    if isinstance(col, IntegerColumn | FloatColumn):
        return f"{col.lower:g} to {col.upper:g}"
    return ""


def _constraint_stats(model: Any) -> list[dict[str, Any]] | None:
    """The model's ``constraint_stats_`` (from its last sample call), checked and rounded.

    They describe rejection sampling from the DP model, i.e. post-processing of DP
    outputs; None when the model has none.
    """
    raw = getattr(model, "constraint_stats_", None) if model is not None else None
    if not raw:
        return None
    out = []
    for i, st in enumerate(raw):
        try:
            out.append({"constraint": str(st["constraint"]),
                        "raw_violation_share": _r(st["raw_violation_share"], 4),
                        "acceptance_rate": _r(st["acceptance_rate"], 4)})
        except (KeyError, TypeError, ValueError) as exc:
            raise ParameterError(f"the model's constraint_stats_[{i}] is malformed: it needs "
                                 "'constraint', 'raw_violation_share' and 'acceptance_rate'"
                                 ) from exc
    return out


def _data(schema: Schema, n_hat: float | None, n_synthetic: int,
          ignored: int, constraints: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    if n_hat is not None:
        rows = {"released": False, "noisy_estimate": round(n_hat),
                "statement": f"The number of real rows is private and not released. The "
                             f"engine's noisy estimate (a DP output) is about {round(n_hat):,}."}
    else:
        rows = {"released": False, "noisy_estimate": None,
                "statement": "The number of real rows is private and not released."}
    out: dict[str, Any] = {
        "schema_source": schema.source,
        "schema_is_public": schema.is_public,
        "n_columns": len(schema.columns),
        "columns": [{"name": c.name, "kind": c.kind, "nullable": c.nullable,
                     "domain": _domain_text(c), "description": c.description}
                    for c in schema.columns],
        "n_constraints": len(schema.constraints),
        "real_rows": rows,
        "synthetic_rows": n_synthetic,
        "ignored_columns": ignored,
    }
    if constraints:
        out["constraints"] = constraints
    return out


def _threat_model() -> dict[str, Any]:
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


def _ledger(accountant: Any) -> dict[str, Any]:
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
            "epsilon": _jsonable(ev.pure_epsilon),
            "delta": _jsonable(ev.delta),
            "timestamp": entry.timestamp,
            "release": entry.release,
            "reproducible_noise": bool(entry.reproducible_noise),
        })
    return {
        "given": True,
        "budget": {"epsilon": _jsonable(accountant.epsilon), "delta": _jsonable(accountant.delta)},
        "spent": {"epsilon": _jsonable(spent.epsilon), "delta": _jsonable(spent.delta),
                  "method": spent.method,
                  "method_text": _METHOD_TEXT.get(spent.method, "no composition (no events)")},
        "entries": entries,
        "sha256": doc.get("sha256"),
        "libraries": _jsonable(doc.get("libraries", {})),
    }


@dataclass(frozen=True)
class _Claim:
    """The (epsilon, delta) the report stands behind, and where it comes from."""

    epsilon: float | None
    delta: float
    source: str  # "ledger", "ledger+model", "model" or "none"
    method: str
    release_epsilon: float | None
    release_delta: float
    ledger_covers_model: bool | None


def _claim(ledger: Mapping[str, Any], model: Any) -> _Claim:
    rel_eps = getattr(model, "epsilon_", None) if model is not None else None
    rel_delta = float(getattr(model, "delta_", 0.0) or 0.0) if model is not None else 0.0
    spent = ledger["spent"]
    has_entries = bool(ledger["entries"])
    if has_entries:
        eps = spent["epsilon"]  # None when the composition is infinite
        delta = float(spent["delta"] or 0.0)
        covers: bool | None = None
        if rel_eps is not None and eps is not None:
            covers = float(rel_eps) <= eps * (1 + _REL_TOL) + 1e-12 \
                and rel_delta <= delta * (1 + _REL_TOL) + 1e-15
            if not covers:
                # the fit is not in this ledger: basic composition is a safe upper bound
                return _Claim(eps + float(rel_eps), delta + rel_delta, "ledger+model",
                              "sum (ledger plus the model's own fit, not recorded in it)",
                              float(rel_eps), rel_delta, False)
        return _Claim(eps, delta, "ledger", spent["method"],
                      None if rel_eps is None else float(rel_eps), rel_delta, covers)
    if rel_eps is not None:
        return _Claim(float(rel_eps), rel_delta, "model", "the model's own epsilon_",
                      float(rel_eps), rel_delta, None)
    return _Claim(None, 0.0, "none", "none", None, 0.0, None)


def _epsilon_reading(claim: _Claim) -> dict[str, Any]:
    from privsynth.risk.audit_bound import tpr_upper_bound

    eps, delta = claim.epsilon, claim.delta
    out: dict[str, Any] = {
        "epsilon": eps, "delta": delta, "source": claim.source, "method": claim.method,
        "release_epsilon": claim.release_epsilon, "release_delta": claim.release_delta,
    }
    if eps is None or not math.isfinite(eps):
        out.update({"e_to_epsilon": None, "posterior_from_even_odds": None, "tpr_bounds": [],
                    "statements": ["No finite privacy guarantee is known for this release: "
                                   "the ledger is missing or its composition is unbounded."]})
        return out
    factor = math.exp(eps)
    posterior = factor / (1.0 + factor)
    bounds = [{"fpr": f, "tpr_upper_bound": _r(tpr_upper_bound(f, eps, min(delta, 1.0)), 6)}
              for f in READING_FPRS]
    where = {"ledger": "everything recorded in the privacy ledger of this data set",
             "ledger+model": "everything in the ledger together with this model's fit",
             "model": "this model (the ledger is empty, so other releases are not counted)"}
    s = [
        f"The guarantee covers {where.get(claim.source, 'this release')}: "
        f"epsilon = {eps:.4g}, delta = {delta:.3g}.",
        f"Whether or not any one person's record is in the data changes the probability of "
        f"any outcome (any synthetic table, model file or statistic computed from them) by at "
        f"most a factor of e^epsilon = {factor:.3g}"
        + (f", except with probability at most delta = {delta:.3g}." if delta > 0 else "."),
        f"An attacker who thought beforehand that a person's record was in the data with "
        f"even odds (50 %) can, after seeing the release, be at most {posterior:.1%} sure of it"
        + (" (up to delta)." if delta > 0 else "."),
    ]
    for b in bounds:
        s.append(f"A membership attacker who wrongly accuses {b['fpr']:.0%} of the people "
                 f"who are not in the data (FPR {b['fpr']:g}) can correctly identify at most "
                 f"{b['tpr_upper_bound']:.1%} of those who are (TPR).")
    out.update({"e_to_epsilon": factor, "posterior_from_even_odds": posterior,
                "tpr_bounds": bounds, "statements": s})
    return out


def _hazard(hid: str, title: str, status: str, explanation: str,
            evaluation: bool = False) -> dict[str, Any]:
    assert status in STATUSES
    return {"id": hid, "title": title, "status": status, "explanation": explanation,
            "evaluation": evaluation}


def _hazards(schema: Schema, model: Any, model_path: str | Path | None,
             ledger: Mapping[str, Any], claim: _Claim, n_hat: float | None,
             synthetic_problems: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    out = []
    # 0. is there a claim at all?
    if claim.epsilon is None:
        out.append(_hazard("claim", "A finite privacy guarantee is known", "fail",
                           "Neither a ledger with a bounded total nor a fitted model with its "
                           "epsilon was given: the report cannot state a guarantee."))
    # 1. domains
    if schema.source == "public":
        out.append(_hazard("schema-source", "Domains are public", "pass",
                           "The schema (column domains and category lists) is declared public: "
                           "it was written from documentation, not read from the data."))
    elif schema.source == "dp":
        out.append(_hazard("schema-source", "Domains are public", "pass",
                           "The schema was estimated from the data with differential privacy; "
                           "its cost is part of the ledger."))
    else:
        out.append(_hazard("schema-source", "Domains are public", "fail",
                           "The schema was read from the data without differential privacy "
                           f"(source {schema.source!r}). Its bounds and category lists may "
                           "disclose real values exactly: the release is not end-to-end "
                           "differentially private. Write the schema from public documentation "
                           "or estimate it with Schema.infer_dp."))
    # 2. row count
    if model is None:
        out.append(_hazard("row-count", "Row count is noisy", "warn",
                           "No model was given to the audit, so it cannot confirm that the "
                           "engine used a noisy row count."))
    elif n_hat is None:
        out.append(_hazard("row-count", "Row count is noisy", "warn",
                           f"The {_engine_name(model)} model does not expose a noisy row count "
                           "(n_hat_); the audit cannot confirm the row count was not used "
                           "exactly."))
    else:
        out.append(_hazard("row-count", "Row count is noisy", "pass",
                           f"The engine works with a noisy row count (about {round(n_hat):,}, "
                           "a DP output charged to the ledger); the exact count is never used "
                           "to calibrate noise nor released. This report shows only the noisy "
                           "count."))
    # 3. delta against 1/n
    delta = claim.delta
    if delta == 0:
        out.append(_hazard("delta", "Delta is much smaller than 1/n", "pass",
                           "delta = 0: the guarantee is pure epsilon-DP."))
    elif n_hat is None:
        out.append(_hazard("delta", "Delta is much smaller than 1/n", "warn",
                           f"delta = {delta:.3g}, but no noisy row count is available to "
                           "compare it with 1/n. delta should be well below 1/n."))
    else:
        n1 = max(n_hat, 1.0)
        if delta <= n1 ** -1.1:
            st, why = "pass", "well below 1/n"
        elif delta <= 1.0 / n1:
            st, why = "warn", ("below 1/n but not by much: a mechanism that publishes a random "
                               "record with probability delta would be allowed")
        else:
            st, why = "fail", ("above 1/n: a mechanism that publishes about delta * n whole "
                               "records would satisfy this guarantee")
        out.append(_hazard("delta", "Delta is much smaller than 1/n", st,
                           f"delta = {delta:.3g} against 1/n = {1.0 / n1:.3g} (n from the noisy "
                           f"row count); {why}. Pass needs delta <= 1/n^1.1."))
    # 4. noise source
    repro = [e for e in ledger["entries"] if e["reproducible_noise"]]
    if repro or bool(getattr(model, "reproducible_noise_", False)):
        out.append(_hazard("noise", "Noise from a secure generator", "fail",
                           "Privacy noise was drawn from a seeded, reproducible generator "
                           "(Noise.insecure_for_tests): anyone with the seed can remove it. "
                           "This release is NOT differentially private; refit with the "
                           "default noise before publishing."))
    else:
        out.append(_hazard("noise", "Noise from a secure generator", "pass",
                           "No ledger entry and no model records reproducible (seeded) noise: "
                           "privsynth's samplers reseed from the operating system's CSPRNG."))
    # 5. model file contents
    engine = _engine_name(model)
    contents = _MODEL_CONTENTS.get(engine or "", "the engine's DP outputs")
    if model_path is not None:
        from privsynth._modelfile import peek_engine
        from privsynth.errors import ModelFileError

        try:
            file_engine = peek_engine(model_path)
        except ModelFileError:
            out.append(_hazard("model-file", "Model file holds no training rows", "fail",
                               "The model file is not a privsynth model file; the audit "
                               "cannot vouch for what it contains."))
        else:
            contents = _MODEL_CONTENTS.get(file_engine, "the engine's DP outputs")
            out.append(_hazard("model-file", "Model file holds no training rows", "pass",
                               f"The model file is a checksummed privsynth model file "
                               f"({file_engine}). By construction it holds {contents}; no "
                               "training row is written and it is never pickled."))
    elif model is not None:
        out.append(_hazard("model-file", "Model file holds no training rows", "pass",
                           f"By construction, the {engine} model's save() writes {contents}; "
                           "no training row is written and the file is never pickled."))
    else:
        out.append(_hazard("model-file", "Model file holds no training rows", "warn",
                           "No model was given to the audit; if a model file is released, "
                           "audit it with model= and model_path=."))
    # 6. budget and composition
    spent, budget = ledger["spent"], ledger["budget"]
    if not ledger["given"] or not ledger["entries"]:
        out.append(_hazard("budget", "Spending within the budget", "warn",
                           "The ledger is missing or empty (a model loaded from a file has a "
                           "fresh accountant): the report cannot show what was spent on this "
                           "data set. Pass the data set's accountant= (or load its ledger)."))
    elif spent["epsilon"] is None:
        out.append(_hazard("budget", "Spending within the budget", "fail",
                           "The composition of the ledger is unbounded at the budget's delta."))
    else:
        ok = spent["epsilon"] <= budget["epsilon"] * (1 + _REL_TOL) + 1e-12
        out.append(_hazard("budget", "Spending within the budget", "pass" if ok else "fail",
                           f"Spent epsilon {spent['epsilon']:.4g} of the budget "
                           f"{budget['epsilon']:.4g} (delta {spent['delta']:.3g} of "
                           f"{budget['delta']:.3g})."))
    if ledger["entries"] and spent["method"] in _METHOD_TEXT:
        out.append(_hazard("composition", "Composition method stated", "pass",
                           f"The total is composed by {spent['method']!r}: "
                           f"{_METHOD_TEXT[spent['method']]}. The tightest valid bound of "
                           "several methods is used."))
    else:
        out.append(_hazard("composition", "Composition method stated", "warn",
                           "No composed total is available (empty or missing ledger)."))
    if claim.ledger_covers_model is False:
        out.append(_hazard("ledger-coverage", "The ledger records this release", "fail",
                           f"The model's own epsilon ({claim.release_epsilon:.4g}) is not "
                           "covered by the ledger's total: this fit was charged to another "
                           "accountant. The report adds both (basic composition); pass the "
                           "accountant the model was fitted with."))
    elif claim.ledger_covers_model:
        out.append(_hazard("ledger-coverage", "The ledger records this release", "pass",
                           "The ledger's total covers the model's own epsilon."))
    # 7. engine-specific hazards
    for i, text in enumerate(getattr(model, "hazards_", None) or [], start=1):
        text = str(text)
        status = "fail" if text.lower().startswith("insecure") else "warn"
        out.append(_hazard(f"engine-{i}", f"Engine hazard ({engine})", status, text))
    # 8. the synthetic data itself
    if synthetic_problems:
        parts = "; ".join(f"{p.get('column')}: {p.get('problem')} ({p.get('rows', '?')} rows)"
                          for p in synthetic_problems)
        out.append(_hazard("synthetic-schema", "Synthetic data stay within the public schema",
                           "fail",
                           "The synthetic data do not match the public schema (" + parts +
                           "). Values outside the public domains cannot come from the DP "
                           "model and may be copies of real values. The evaluation was "
                           "skipped."))
    else:
        out.append(_hazard("synthetic-schema", "Synthetic data stay within the public schema",
                           "pass", "Every synthetic value lies in its column's public domain."))
    return out


def _count(hazards: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return {s: sum(1 for h in hazards if h["status"] == s) for s in STATUSES}


# ---------------------------------------------------------------------------
# evaluation: attacks
# ---------------------------------------------------------------------------
def _safe_text(texts: Sequence[str]) -> list[str]:
    """Free texts of the risk module that hold no number (numbers may be real counts)."""
    return [t for t in texts if not any(ch.isdigit() for ch in t)]


def _attacks(real: pd.DataFrame, holdout: pd.DataFrame | None, synthetic: pd.DataFrame,
             schema: Schema, claim_eps: float | None, claim_delta: float,
             random_state: int, enabled: bool, skipped_reason: str | None,
             options: Mapping[str, Any]) -> dict[str, Any]:
    if skipped_reason is not None:
        return {"included": False, "reason": skipped_reason}
    if not enabled:
        return {"included": False, "reason": "Attacks were not requested (attacks=False)."}
    if holdout is None:
        return {"included": False, "reason": (
            "No holdout was given: membership attacks need real records that were not used "
            "for training (non-members), e.g. a test split. Pass holdout= to run them.")}
    from privsynth.risk import assess_risk

    for key in ("epsilon", "delta", "random_state"):
        if key in options:
            raise ParameterError(f"risk_options must not set {key!r}: audit() passes the "
                                 "release's claim and its own random_state")
    eps = claim_eps if claim_eps is not None and 0 < claim_eps < math.inf else None
    risk = assess_risk(real, holdout, synthetic, schema, epsilon=eps,
                       delta=claim_delta if eps is not None else 0.0,
                       random_state=random_state, **dict(options))
    results: list[dict[str, Any]] = []
    for a in risk.attacks:
        notes = _safe_text(a.notes)
        notes += [f"TPR at FPR {k} not reported: too few non-members in the evaluation."
                  for k, v in a.tpr_at_fpr.items() if v is None]
        results.append({
            "name": a.name,
            "description": a.description,
            "auc": _r(a.auc, 3),
            "auc_ci": [_r(a.auc_ci[0], 3), _r(a.auc_ci[1], 3)],
            "tpr_at_fpr": {k: _r(v, 3) for k, v in a.tpr_at_fpr.items()},
            "epsilon_lower_bound": _r(a.epsilon_lower_bound, 3),
            # two decimals: finer ROC steps would reveal the evaluation set's size
            "roc": {"fpr": [_r(x, 2) for x in a.roc_fpr], "tpr": [_r(x, 2) for x in a.roc_tpr]},
            "notes": notes,
        })
    diag = risk.diagnostics
    hist = diag.get("histogram", {})

    def shares(counts: Sequence[float]) -> list[float | None]:
        total = float(sum(counts)) or 1.0
        return [_r(c / total, 4) for c in counts]

    def quant(d: Mapping[str, Any]) -> dict[str, float | None]:
        return {k: _r(v, 4) for k, v in d.items()}

    diagnostics = {
        "dcr_train": quant(diag["dcr_train"]),
        "dcr_holdout": quant(diag["dcr_holdout"]),
        "nndr_train": quant(diag["nndr_train"]),
        "nndr_holdout": quant(diag["nndr_holdout"]),
        "share_closer_to_train": _r(diag["share_closer_to_train"], 4),
        "exact_copy_share": _r(diag["exact_copy_share"], 4),
        "holdout_exact_copy_share": _r(diag["holdout_exact_copy_share"], 4),
        "histogram": {"edges": [_r(x, 4) for x in hist.get("edges", [])],
                      "dcr_train": shares(hist.get("dcr_train", [])),
                      "dcr_holdout": shares(hist.get("dcr_holdout", []))},
    }
    # the risk module's free texts may hold sizes derived from the private row counts:
    # only those without any digit are copied, the others are restated without numbers
    caveats = _safe_text(risk.caveats)
    settings = risk.settings
    if settings.get("subsampled"):
        caveats.append("Attacks and diagnostics were run on random subsamples (at most "
                       f"max_records = {settings.get('max_records')} records per set).")
    if settings.get("large_data_precut"):
        caveats.append("Large data: the training and synthetic data were first cut to random "
                       "subsamples of at most ten times max_records rows (the holdout to "
                       "twenty times); distances are to the nearest row of those subsamples, "
                       "which weakens the attacks somewhat.")
    if any(v is None for a in results for v in a["tpr_at_fpr"].values()):
        caveats.append("Some TPRs are not reported because the evaluation has too few "
                       "non-members for that false positive rate.")
    safe_settings = {k: settings.get(k) for k in ("random_state", "max_records", "subsampled",
                                                  "large_data_precut", "confidence",
                                                  "n_bootstrap", "density_k", "fprs", "shadow")}
    return {
        "included": True,
        "reason": None,
        "note": EVALUATION_NOTE,
        "claimed_epsilon": risk.claimed_epsilon,
        "claimed_delta": risk.claimed_delta,
        "tpr_upper_bound": None if risk.tpr_upper_bound is None
        else {k: _r(v, 6) for k, v in risk.tpr_upper_bound.items()},
        "results": results,
        "max_auc": max((r["auc"] for r in results), default=None),
        "max_epsilon_lower_bound": _r(risk.max_epsilon_lower_bound, 3),
        "exceeds_claim": risk.exceeds_claim,
        "diagnostics": diagnostics,
        "caveats": caveats,
        "settings": _jsonable(safe_settings),
    }


# ---------------------------------------------------------------------------
# evaluation: utility
# ---------------------------------------------------------------------------
def _public_bins(col: Column, values: pd.Series) -> tuple[list[str], np.ndarray]:
    """Labels of the column's public bins and each value's bin (-1 for missing).

    Bins come from the schema only: its categories, or equal-width bins between
    its bounds (one per integer when there are at most ``NUMERIC_BINS``).
    """
    miss = values.isna().to_numpy()
    codes = np.full(len(values), -1, dtype=np.int64)
    if isinstance(col, CategoricalColumn):
        labels = list(col.categories)
        cat = pd.Categorical(values.astype(object).where(~values.isna(), None),
                             categories=labels)
        codes = np.asarray(cat.codes, dtype=np.int64)
        return labels, codes
    if isinstance(col, BooleanColumn):
        present = values[~miss].astype(bool).to_numpy()
        codes[~miss] = present.astype(np.int64)
        return ["False", "True"], codes
    if isinstance(col, DatetimeColumn):
        x = col.to_units(values).to_numpy(dtype="float64")
        lo, hi = float(col.unit_lower), float(col.unit_upper) + 1.0
        k = int(min(NUMERIC_BINS, max(hi - lo, 1)))
        edges = np.linspace(lo, hi, k + 1)
        stamps = col.from_units(edges)
        fmt = "%Y-%m-%d" if col.resolution == "D" or (hi - lo) > k * 2 else "%Y-%m-%d %H:%M"
        labels = [f"{stamps.iloc[i].strftime(fmt)}" for i in range(k)]
    elif isinstance(col, IntegerColumn):
        x = values.to_numpy(dtype="float64", na_value=np.nan)
        lo, hi = float(col.lower), float(col.upper) + 1.0
        k = int(min(NUMERIC_BINS, hi - lo))
        edges = np.linspace(lo, hi, k + 1)
        starts = np.ceil(edges - 1e-9).astype(np.int64)
        labels = [str(starts[i]) if starts[i + 1] - starts[i] <= 1
                  else f"{starts[i]}–{starts[i + 1] - 1}" for i in range(k)]
    elif isinstance(col, FloatColumn):
        x = values.to_numpy(dtype="float64", na_value=np.nan)
        lo, hi = float(col.lower), float(col.upper)
        k = NUMERIC_BINS if hi > lo else 1
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, k + 1)
        labels = [f"{edges[i]:.3g}–{edges[i + 1]:.3g}" for i in range(k)]
    else:  # pragma: no cover - a new column kind must be added here
        raise ParameterError(f"column {col.name!r}: kind {col.kind!r} is not supported")
    inner = edges[1:-1]
    codes[~miss] = np.searchsorted(inner, x[~miss], side="right")
    return labels, codes


def _marginal(col: Column, real: pd.Series, synthetic: pd.Series) -> dict[str, Any]:
    labels, cr = _public_bins(col, real)
    _, cs = _public_bins(col, synthetic)
    k = len(labels)
    has_missing = col.nullable
    size = k + 1 if has_missing else k
    pr = np.bincount(np.where(cr < 0, k, cr), minlength=size)[:size] / max(len(cr), 1)
    ps = np.bincount(np.where(cs < 0, k, cs), minlength=size)[:size] / max(len(cs), 1)
    if has_missing:
        labels = [*labels, "missing"]
    if len(labels) > MAX_BARS:
        # keep the bins that matter most, in schema order; merge the rest
        keep = np.sort(np.argsort(-np.maximum(pr, ps), kind="stable")[: MAX_BARS - 1])
        rest = np.setdiff1d(np.arange(len(labels)), keep)
        labels = [labels[i] for i in keep] + [f"other ({len(rest)} bins)"]
        pr = np.append(pr[keep], pr[rest].sum())
        ps = np.append(ps[keep], ps[rest].sum())
    return {"column": col.name, "kind": col.kind, "labels": labels,
            "real": [_r(v, REAL_SHARE_DECIMALS) for v in pr],
            "synthetic": [_r(v, 4) for v in ps]}


def _utility(real: pd.DataFrame, holdout: pd.DataFrame | None, synthetic: pd.DataFrame,
             schema: Schema, target: str | None, random_state: int,
             skipped_reason: str | None, n_jobs: int | None = 1,
             max_records: int | None = DEFAULT_MAX_RECORDS) -> dict[str, Any]:
    if skipped_reason is not None:
        return {"included": False, "reason": skipped_reason}
    from privsynth import metrics

    # large tables: every utility number is computed on one random subsample per table
    rng = np.random.default_rng(np.random.SeedSequence([random_state, 8]))
    real, cut_real = metrics.subsample_rows(real, max_records, rng)
    synthetic, cut_syn = metrics.subsample_rows(synthetic, max_records, rng)
    cut_holdout = False
    if holdout is not None:
        holdout, cut_holdout = metrics.subsample_rows(holdout, max_records, rng)
    subsampled = cut_real or cut_syn or cut_holdout
    subsample = {
        "max_records": max_records,
        "subsampled": subsampled,
        "statement": (f"The real data, the holdout and the synthetic data were each cut to a "
                      f"random subsample of at most {max_records:,} rows (max_records) before "
                      "computing the utility numbers." if subsampled and max_records else
                      "Every row of each table was used."),
    }
    fid = metrics.fidelity_summary(real, synthetic, schema=schema, max_records=None)
    tvd = metrics.tvd_table(real, synthetic, schema=schema)
    cov = metrics.coverage(real, synthetic, schema).set_index("column")["coverage"]
    columns = [{"column": str(row.column), "tvd": _r(row.tvd, 4),
                "coverage": _r(cov.get(row.column), 4)} for row in tvd.itertuples()]
    worst = [str(c) for c in tvd["column"].head(N_WORST_COLUMNS)]
    marginals = [_marginal(schema[c], real[c], synthetic[c]) for c in worst]
    assoc = metrics.association_difference(real, synthetic, schema=schema)
    ml: dict[str, Any] | None = None
    ml_reason: str | None = None
    if target is None:
        ml_reason = "No target column was given (target=): train-on-synthetic was not run."
    elif holdout is None:
        ml_reason = ("Train-on-synthetic, test-on-real needs real test records: pass holdout= "
                     "to run it.")
    else:
        try:
            res = metrics.ml_efficacy(real, synthetic, holdout, target=target, schema=schema,
                                      random_state=random_state, n_threads=n_jobs,
                                      max_records=None)
        except DataValidationError as exc:
            # a message with numbers might quote counts of the real data
            ml_reason = "Train-on-synthetic could not run: " + (
                str(exc) if _safe_text([str(exc)]) else "the real data do not support it "
                "(for example a single class of the target).")
        else:
            ml = {"target": res["target"], "positive": res["positive"],
                  "tstr_auc": _r(res["tstr_auc"], 4), "trtr_auc": _r(res["trtr_auc"], 4),
                  "note": res.get("note")}
    return {
        "included": True,
        "reason": None,
        "note": EVALUATION_NOTE,
        "fidelity": {k: _r(v, 4) for k, v in fid.items()},
        "columns": columns,
        "marginals": marginals,
        "association_difference": {
            "columns": [str(c) for c in assoc.columns],
            "matrix": [[_r(v, 3) for v in row] for row in assoc.to_numpy()]},
        "ml_efficacy": ml,
        "ml_efficacy_reason": ml_reason,
        "subsample": subsample,
    }


# ---------------------------------------------------------------------------
# residual risk and configuration
# ---------------------------------------------------------------------------
def _residual_risk(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The statement is rebuilt from the document of one edition (public or not)."""
    counts = doc["hazard_counts"]
    eps = doc["epsilon"]["epsilon"]
    delta = doc["epsilon"]["delta"]
    if eps is None or counts["fail"]:
        failed = ", ".join(h["title"].lower() for h in doc["hazards"] if h["status"] == "fail")
        verdict = ("fail", f"Do not publish this release as differentially private: "
                           f"{counts['fail']} check(s) failed ({failed}).")
    elif counts["warn"]:
        verdict = ("warn", f"The release can be described as ({_fmt(eps)}, {delta:.3g})-"
                           f"differentially private, with the {counts['warn']} warning(s) of "
                           "the checklist stated alongside it.")
    else:
        verdict = ("pass", f"The release is ({_fmt(eps)}, {delta:.3g})-differentially private "
                           "for one record, as described above.")
    points = [
        "Differential privacy limits what can be learned about any one record; it does not "
        "hide facts about the population that many records share, which is what the release "
        "is for. Inferences about a person from such facts (for example from their group's "
        "statistics) remain possible.",
        "A person who contributes several records is protected at a multiple of epsilon "
        "(k records: k times epsilon).",
    ]
    if delta:
        points.append(f"With probability up to delta = {delta:.3g} the epsilon bound may not "
                      "hold.")
    for h in doc["hazards"]:
        if h["status"] != "pass" and not h.get("evaluation"):
            points.append(f"{h['title']} ({h['status']}): {h['explanation']}")
    attacks = doc["attacks"]
    if attacks.get("included"):
        worst = attacks.get("max_auc")
        bound = attacks.get("max_epsilon_lower_bound")
        if attacks.get("exceeds_claim"):
            points.append(f"An empirical attack proves epsilon >= {bound}, above the claim: "
                          "the claim does not hold for this release.")
        else:
            points.append(f"The strongest membership attack tried reached ROC AUC {worst} "
                          f"(0.5 is guessing) and proves only epsilon >= {bound}. Attacks are "
                          "evidence, not a guarantee: stronger attacks may exist.")
    elif not doc["public"]:
        points.append("No empirical attack was run: " + str(attacks.get("reason")))
    points.append("The evaluation numbers of the steward's edition of this report (utility, "
                  "attacks, distance diagnostics) are computed on the private data without "
                  "DP; share that edition only with people allowed to see the data's "
                  "aggregates." if not doc["public"] else
                  "This is the public edition: it holds only the public schema, DP outputs, "
                  "the ledger and the checklist.")
    return {"verdict": verdict[0], "statement": verdict[1], "points": points}


def _configuration(model: Any, schema: Schema, accountant: Any, audit_settings: Mapping[str, Any],
                   ) -> dict[str, Any]:
    params = None
    description = None
    if model is not None:
        get_params = getattr(model, "get_params", None)
        params = _jsonable(get_params()) if callable(get_params) else None
        describe = getattr(model, "describe", None)
        if callable(describe):
            description = _jsonable(describe())
    ledger_doc = _jsonable(accountant.to_dict()) if accountant is not None else None
    return {
        "engine": _engine_name(model),
        "parameters": params,
        "model_description": description,
        "audit": _jsonable(dict(audit_settings)),
        "schema": schema.to_dict(),
        "ledger_document": ledger_doc,
    }


# ---------------------------------------------------------------------------
# the report value
# ---------------------------------------------------------------------------
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
        attacks and utility sections say they were omitted.
        """
        doc = copy.deepcopy(dict(self.content))
        if not public or doc.get("public"):
            return doc
        doc["public"] = True
        doc["edition"] = "public"
        for key in ("attacks", "utility"):
            doc[key] = {"included": False, "reason": PUBLIC_OMISSION}
        doc["hazards"] = [h for h in doc["hazards"] if not h.get("evaluation")]
        doc["hazard_counts"] = _count(doc["hazards"])
        doc["residual_risk"] = _residual_risk(doc)
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
        """Headline numbers (for the command line), from the steward's edition."""
        doc = self.content
        ledger = doc["ledger"]
        utility = doc["utility"]
        attacks = doc["attacks"]
        fid = utility.get("fidelity", {}) if utility.get("included") else {}
        ml = utility.get("ml_efficacy") if utility.get("included") else None
        return {
            "release_id": doc["identity"]["release_id"],
            "epsilon": doc["epsilon"]["epsilon"],
            "delta": doc["epsilon"]["delta"],
            "method": ledger["spent"]["method"] if doc["epsilon"]["source"] == "ledger"
            else doc["epsilon"]["method"],
            "tvd1": fid.get("tvd1"),
            "tvd2": fid.get("tvd2"),
            "tstr_auc": ml.get("tstr_auc") if ml else None,
            "max_attack_auc": attacks.get("max_auc") if attacks.get("included") else None,
            "max_epsilon_lower_bound": attacks.get("max_epsilon_lower_bound")
            if attacks.get("included") else None,
            "hazards_fail": doc["hazard_counts"]["fail"],
            "hazards_warn": doc["hazard_counts"]["warn"],
        }

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


def schema_path() -> Path:
    """Path of the JSON Schema (draft 2020-12) that every report document satisfies."""
    return Path(__file__).with_name("audit.schema.json")


# ---------------------------------------------------------------------------
# the entry point
# ---------------------------------------------------------------------------
def audit(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    schema: Schema | None = None,
    holdout: pd.DataFrame | None = None,
    model: Any = None,
    accountant: Any = None,
    target: str | None = None,
    synthetic_path: str | Path | None = None,
    model_path: str | Path | None = None,
    release_id: str | None = None,
    attacks: bool = True,
    random_state: int = 0,
    risk_options: Mapping[str, Any] | None = None,
    n_jobs: int | None = 1,
    max_records: int | None = DEFAULT_MAX_RECORDS,
) -> AuditReport:
    """Audit a synthetic release: privacy claim, hazards, attacks and utility.

    Parameters
    ----------
    real : DataFrame
        The private training data of the release. Columns not in the schema are
        ignored (the report says how many, not which).
    synthetic : DataFrame
        The synthetic release.
    schema : Schema, optional
        The public schema; defaults to ``model.schema_``. One of the two is required.
    holdout : DataFrame, optional
        Real records of the same population *not* used for training (a test
        split). Needed by the membership attacks (as non-members) and by
        train-on-synthetic-test-on-real; without it both are skipped and the
        report says so.
    model : fitted engine, optional
        The model that produced ``synthetic`` (``PrivBayes``, ``DPCTGAN``, ...).
        Supplies the schema, the accountant, the noisy row count, the release's
        own (epsilon, delta), engine hazards (``hazards_``) and the configuration.
    accountant : Accountant, optional
        The data set's accountant; defaults to ``model.accountant_``.
    target : str, optional
        Column for the train-on-synthetic, test-on-real classifier.
    synthetic_path, model_path : path, optional
        The released files, hashed with SHA-256 (without ``synthetic_path`` the
        synthetic DataFrame's CSV text is hashed).
    release_id : str, optional
        Identifier of the release; a random UUID4 by default.
    attacks : bool
        Run the membership attacks of :func:`privsynth.risk.assess_risk` (needs ``holdout``).
    random_state : int
        Seed of the evaluation (subsampling, bootstraps, classifiers); never of privacy noise.
    risk_options : mapping, optional
        Extra keyword arguments for :func:`~privsynth.risk.assess_risk`, e.g.
        ``{"max_records": 2000, "n_bootstrap": 50}`` or
        ``{"engine_factory": lambda: PrivBayes()}`` to add the shadow-model attack.
    n_jobs : int or None
        Threads of the evaluation (the classifier and the nearest-neighbour
        searches). One by default: on small shared machines more threads
        oversubscribe the cores and run several times slower; None uses every
        core, which pays off on large tables. Results do not depend on it.
    max_records : int or None
        Large data: the utility numbers are computed on random subsamples of at
        most this many rows of each table (None: every row), and the report
        says so. The attacks subsample on their own (``risk_options``
        ``max_records``, 5,000 members and non-members by default).

    Returns
    -------
    AuditReport

    Raises
    ------
    ParameterError
        No schema and no fitted model; a schema that differs from the model's;
        an unknown target; unreadable files.
    NotFittedError
        An unfitted model.
    DataValidationError
        ``real`` or ``holdout`` lack schema columns or hold values outside the
        schema (the message names columns and counts, never values).
    """
    schema = _resolve_schema(schema, model)
    if accountant is None and model is not None:
        accountant = getattr(model, "accountant_", None)
    if target is not None and target not in schema.names:
        raise ParameterError(f"target {target!r} is not a column of the schema")
    if isinstance(random_state, bool) or not isinstance(random_state, int) or random_state < 0:
        raise ParameterError(f"random_state must be a non-negative integer, got {random_state!r}")
    if not isinstance(attacks, bool):
        raise ParameterError(f"attacks must be True or False, got {attacks!r}")
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int)
                               or n_jobs < 1):
        raise ParameterError(f"n_jobs must be None or a positive integer, got {n_jobs!r}")
    if max_records is not None and (isinstance(max_records, bool)
                                    or not isinstance(max_records, int) or max_records < 100):
        raise ParameterError(f"max_records must be None or an integer >= 100, "
                             f"got {max_records!r}")
    if risk_options is not None and not isinstance(risk_options, Mapping):
        raise ParameterError("risk_options must be a mapping of assess_risk keyword arguments")

    real_v, ignored = _check_frame(real, "the real data", schema)
    holdout_v = _check_frame(holdout, "the holdout", schema)[0] if holdout is not None else None
    if not isinstance(synthetic, pd.DataFrame):
        raise DataValidationError(f"the synthetic data must be a pandas DataFrame, got "
                                  f"{type(synthetic).__name__}")
    from privsynth.validation import validate

    synthetic_problems: list[dict[str, Any]] = []
    synth_v: pd.DataFrame | None = None
    try:
        synth_v = validate(synthetic, schema)
    except DataValidationError as exc:
        synthetic_problems = [dict(p) for p in getattr(exc, "problems", [])] or [
            {"column": None, "problem": "does not match the schema"}]
    if synth_v is not None and len(synth_v) == 0:
        synthetic_problems = [{"column": None, "problem": "no rows", "rows": 0}]
        synth_v = None

    n_hat_raw = getattr(model, "n_hat_", None) if model is not None else None
    n_hat = float(n_hat_raw) if n_hat_raw is not None and math.isfinite(n_hat_raw) else None

    ledger = _ledger(accountant)
    claim = _claim(ledger, model)
    hazards = _hazards(schema, model, model_path, ledger, claim, n_hat, synthetic_problems)
    skipped = ("The synthetic data do not match the public schema; evaluation skipped."
               if synth_v is None else None)
    attack_eps = claim.release_epsilon if claim.release_epsilon is not None else claim.epsilon
    attack_delta = claim.release_delta if claim.release_epsilon is not None else claim.delta
    attack_doc = _attacks(real_v, holdout_v, synth_v if synth_v is not None else synthetic,
                          schema, attack_eps, attack_delta, random_state, attacks, skipped,
                          {"n_jobs": n_jobs, **(risk_options or {})})
    if attack_doc["included"]:
        if attack_doc["exceeds_claim"]:
            hazards.append(_hazard(
                "attacks", "Empirical attacks are consistent with the claim", "fail",
                f"An attack proves epsilon >= {attack_doc['max_epsilon_lower_bound']} with "
                "95 % confidence, above the claimed epsilon: a privacy bug, a wrong "
                "accounting or a non-private step.", evaluation=True))
        else:
            hazards.append(_hazard(
                "attacks", "Empirical attacks are consistent with the claim", "pass",
                f"No attack proves more than epsilon >= "
                f"{attack_doc['max_epsilon_lower_bound']} (claim: "
                f"{_fmt(attack_eps) if attack_eps is not None else 'none'}).",
                evaluation=True))
    utility_doc = _utility(real_v, holdout_v, synth_v if synth_v is not None else synthetic,
                           schema, target, random_state, skipped, n_jobs, max_records)

    identity = _identity(synthetic, synthetic_path, model, model_path, release_id)
    doc: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "public": False,
        "edition": "steward",
        "sections": [{"id": i, "title": t} for i, t in SECTIONS],
        "identity": identity,
        "data": _data(schema, n_hat, len(synthetic), ignored, _constraint_stats(model)),
        "threat_model": _threat_model(),
        "ledger": ledger,
        "epsilon": _epsilon_reading(claim),
        "hazards": hazards,
        "hazard_counts": _count(hazards),
        "attacks": attack_doc,
        "utility": utility_doc,
        "configuration": _configuration(model, schema, accountant, {
            "target": target, "attacks": attacks, "random_state": random_state,
            "holdout_given": holdout is not None, "n_jobs": n_jobs,
            "max_records": max_records,
            "risk_options": {k: (v if isinstance(v, int | float | str | bool) or v is None
                                 else type(v).__name__)
                             for k, v in (risk_options or {}).items()},
        }),
    }
    doc["residual_risk"] = _residual_risk(doc)
    return AuditReport(doc)


__all__ = ["REPORT_FORMAT", "REPORT_VERSION", "SECTIONS", "AuditReport", "audit", "schema_path"]

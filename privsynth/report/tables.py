"""The audit of a release of related tables: :func:`audit_tables` (``PrivBayes().fit_tables``).

One report for the whole release (a parent table and its child table fitted
as one release, docs/units.md "Related tables"), in the same document format
as the single-table report (:class:`~privsynth.report.AuditReport`: HTML and
JSON, steward's and public editions). Every section of the single-table
report is built by the same module, from the release's fit record (both
parts' ledger entries, its own guarantee, its privacy unit); in place of the
single-table utility section it has

- **"Utility of each table"** (``tables``): for the parent and the child, its
  own part of the release (epsilon and ledger entries, the noisy row count:
  DP outputs) and the single-table utility section on its modelled columns
  (identifier columns are never modelled, so never compared);
- **"The parent-child relation"** (``relation``): key integrity (synthetic
  tables only), children per parent, and every parent-column x child-column
  pair (:mod:`privsynth.report.evaluation.relation`).

The real tables are compared as the fit saw them: bounded to one parent row
per key and at most ``k`` children per parent, children without a parent
left out. The evaluation numbers are computed on the private data without DP:
like the single-table report's utility and attacks, they are in the steward's
edition only; the public edition keeps the DP outputs, the ledger, the
hazards and the synthetic-only key integrity.

The membership attacks and the anonymisation criteria are left out, and the
report says why (:data:`ATTACKS_LEFT_OUT`).

Example
-------
>>> import numpy as np, pandas as pd, privsynth as ps
>>> planes = ps.Schema.from_dict({"columns": [
...     {"name": "tailnum", "kind": "id", "prefix": "SYN-"},
...     {"name": "big", "kind": "boolean"}]})
>>> flights = ps.Schema.from_dict({"columns": [
...     {"name": "tailnum", "kind": "id", "nullable": True},
...     {"name": "long", "kind": "boolean"}]})
>>> p = pd.DataFrame({"tailnum": [f"N{i}" for i in range(200)], "big": [True, False] * 100})
>>> f = pd.DataFrame({"tailnum": np.repeat(p["tailnum"], 3), "long": np.repeat(p["big"], 3)})
>>> acct = ps.Accountant(2.0, unit="tailnum")
>>> model = ps.PrivBayes().fit_tables(
...     {"planes": p, "flights": f}, schemas={"planes": planes, "flights": flights},
...     relations=[ps.Relation(parent="planes", child="flights", key="tailnum")],
...     epsilon=1.0, max_children=5, accountant=acct)
>>> report = audit_tables({"planes": p, "flights": f}, model.sample_tables(100, random_state=0),
...                       model=model, accountant=acct)
>>> doc = report.to_dict()
>>> doc["threat_model"]["privacy_unit"]
"one planes row (one value of 'tailnum') with up to 5 of its flights rows"
>>> doc["relation"]["key_integrity"]["share"], [t["table"] for t in doc["tables"]["tables"]]
(1.0, ['planes', 'flights'])
>>> report.to_dict(public=True)["relation"]["evaluation"]["included"]
False
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from privsynth.engines.tables import ENGINE as TABLES_ENGINE
from privsynth.errors import ParameterError
from privsynth.report._assembly import accounting, assemble, check_options
from privsynth.report.configuration import configuration_section
from privsynth.report.data import data_section
from privsynth.report.document import TABLES_SECTIONS, AuditReport
from privsynth.report.evaluation import DEFAULT_MAX_RECORDS
from privsynth.report.evaluation.relation import bound_pair, relation_section
from privsynth.report.evaluation.utility import utility_section
from privsynth.report.hazards import Facts, engine_hazards, hazards_section, make_hazard
from privsynth.report.identity import identity_section
from privsynth.report.inputs import check_frame, check_synthetic
from privsynth.report.model_facts import ModelFacts
from privsynth.report.threat_model import threat_model_section
from privsynth.schema import SOURCES, Schema

#: Why a report of related tables runs no membership attack and no anonymisation criterion.
ATTACKS_LEFT_OUT = (
    "Not run for a release of related tables. The membership attacks and the anonymisation "
    "criteria of privsynth.risk treat each row as one independent record; here the privacy "
    "unit is a parent row with up to k child rows, so rows of one unit are not independent "
    "and a row-level attack would neither test the unit-level claim nor give valid intervals. "
    "Attacks on whole units are not built yet.")

#: The single-table utility section of a tables report points to the per-table section.
UTILITY_MOVED = ("A release of related tables: the utility of each table is in section "
                 "\"Utility of each table\", the relation's in \"The parent-child relation\".")


@dataclasses.dataclass(frozen=True)
class TablesFacts:
    """What the report needs from a tables model: the whole release and its two parts."""

    release: ModelFacts  # the whole release: both parts' entries, the unit (key, k)
    parts: dict[str, ModelFacts]  # per table: its own part's record
    relation: Any  # privsynth.engines.tables.Relation
    schemas: dict[str, Schema]  # the public schemas as given to the fit
    max_children: int
    max_child_rows: int
    unit_words: str
    #: the steward's declared links {child column: [parent columns]} ({} when none)
    links: dict[str, list[str]] = dataclasses.field(default_factory=dict)


def is_tables_model(model: object) -> bool:
    """True for a fitted or loaded parent/child tables model (``fit_tables``)."""
    record = getattr(model, "record_", None)
    return getattr(record, "engine", None) == TABLES_ENGINE


def joint_schema(schemas: Mapping[str, Schema], order: tuple[str, str]) -> Schema:
    """One schema of both tables' columns, named ``"<table>.<column>"`` (for the checklist).

    Its source is the less public of the two (a schema read from the data makes
    the whole release's domains not public).
    """
    cols = [dataclasses.replace(c, name=f"{t}.{c.name}") for t in order
            for c in schemas[t].columns]
    source = max((schemas[t].source for t in order), key=SOURCES.index)
    return Schema(tuple(cols), source=source)


def tables_facts(model: object) -> TablesFacts:
    """The facts of a tables model, read through its fit records and public attributes."""
    from privsynth.engines.record import FitRecord
    from privsynth.errors import NotFittedError

    if not is_tables_model(model):
        raise ParameterError("audit_tables() needs a parent/child tables model "
                             "(PrivBayes().fit_tables or TablesModel.load)")
    rel = getattr(model, "relation_", None)
    schemas = getattr(model, "schemas_", None)
    parent_m = getattr(model, "parent_model_", None)
    child_m = getattr(model, "child_model_", None)
    record = model.record_  # type: ignore[attr-defined]
    if rel is None or not isinstance(schemas, Mapping) or parent_m is None or child_m is None:
        raise NotFittedError("the tables model given to audit_tables() is not fitted; fit it "
                             "with PrivBayes().fit_tables or load it with TablesModel.load")
    order = (rel.parent, rel.child)
    parts = {}
    for name, sub in zip(order, (parent_m, child_m), strict=True):
        if not isinstance(sub.record_, FitRecord):
            raise ParameterError(f"the {name} part's record_ must be a FitRecord")
        parts[name] = ModelFacts(schema=sub.schema_, record=sub.record_)
    k = int(record.unit.max_rows)
    k_child = int(record.description.get("max_child_rows", k))
    words = str(record.description.get("privacy_unit") or (
        f"one {rel.parent} row (one value of {rel.key!r}) with up to {k} of its {rel.child} "
        "rows"))
    release = ModelFacts(schema=joint_schema(schemas, order), record=record)
    raw = record.description.get("links") or {}
    links = {str(c): [str(p) for p in ps] for c, ps in raw.items()} if isinstance(
        raw, Mapping) else {}
    return TablesFacts(release, parts, rel, dict(schemas), k, k_child, words, links)


def _check_tables(given: object, what: str, names: tuple[str, str]) -> Mapping[str, Any]:
    if not isinstance(given, Mapping) or set(given) != set(names):
        got = sorted(given) if isinstance(given, Mapping) else type(given).__name__
        raise ParameterError(f"{what} must be a mapping {{{names[0]!r}: DataFrame, "
                             f"{names[1]!r}: DataFrame}} for this release of related tables, "
                             f"got {got}")
    return given


def _real_row_counts(real: Mapping[str, pd.DataFrame], facts: TablesFacts,
                    random_state: int) -> dict[str, set[int]]:
    """Every exact real row count of each table that a synthetic table must not reproduce.

    The tables as given, and as the fit bounds them
    (:func:`privsynth.engines.tables.bound_tables`): one parent row per key;
    children of a known parent, at most ``k`` per parent, and at most ``k'``
    per parent as the child model saw them. These counts do not depend on
    the random choice of the rows kept (only their number is used). Private
    numbers: they decide a hazard's status and are never shown.
    """
    from privsynth.engines.tables import N_CHILDREN, bound_tables

    rel = facts.relation
    rng = np.random.default_rng(np.random.SeedSequence([random_state, 23]))
    parents, children = bound_tables(real[rel.parent], real[rel.child], rel,
                                     facts.max_children, rng, facts.max_child_rows)
    return {rel.parent: {len(real[rel.parent]), len(parents)},
            rel.child: {len(real[rel.child]), int(parents[N_CHILDREN].sum()), len(children)}}


def _threat_model(facts: TablesFacts) -> dict[str, Any]:
    rel, k = facts.relation, facts.max_children
    doc = threat_model_section(facts.release)
    doc["privacy_unit"] = facts.unit_words
    doc["not_covered"] = [
        f"the {rel.child} rows of a {rel.parent} row beyond {k}: a random {k} of them are "
        "kept before anything is counted and the others are not used (nothing released "
        "depends on them, and how many there were is not released)",
        f"{rel.child} rows whose {rel.key!r} is missing or matches no {rel.parent} row: they "
        "belong to no unit and are not used",
        # a tables model has no conditional sampling: the single-table item does not apply
        *(t for t in doc["not_covered"] if not t.startswith("rows passed to conditional")),
    ]
    return doc


def _tables_section(facts: TablesFacts, real_b: Mapping[str, pd.DataFrame] | None,
                    synthetic: Mapping[str, pd.DataFrame], identity: list[dict[str, Any]],
                    random_state: int, skipped: str | None, n_jobs: int | None,
                    max_records: int | None) -> dict[str, Any]:
    rel = facts.relation
    out = []
    for (name, part), ident in zip(facts.parts.items(), identity, strict=True):
        modelled = facts.schemas[name].without_ids()
        if real_b is None:
            utility = {"included": False, "reason": skipped}
        else:
            utility = utility_section(real_b[name][list(modelled.names)], None,
                                      synthetic[name][list(modelled.names)], modelled, None,
                                      random_state, None, n_jobs, max_records)
        rows = part.noisy_rows
        out.append({
            "table": name,
            "role": "parent" if name == rel.parent else "child",
            "epsilon": part.epsilon,
            "ledger_entries": [e.id for e in part.entries],
            "noisy_rows": round(rows) if rows is not None else None,
            "synthetic_rows": ident["rows"],
            "identifier_columns": list(facts.schemas[name].id_columns),
            "modelled_columns": list(modelled.names),
            "utility": utility,
        })
    return {"tables": out}


def audit_tables(
    real: Mapping[str, pd.DataFrame],
    synthetic: Mapping[str, pd.DataFrame],
    *,
    model: object,
    accountant: Any = None,
    synthetic_paths: Mapping[str, str | Path] | None = None,
    model_path: str | Path | None = None,
    release_id: str | None = None,
    random_state: int = 0,
    n_jobs: int | None = 1,
    max_records: int | None = DEFAULT_MAX_RECORDS,
    purpose: str | None = None,
    audience: str | None = None,
    controller: str | None = None,
    approver: str | None = None,
    dataset: str | None = None,
) -> AuditReport:
    """Audit a release of related tables: its claim, its ledger, each table and the relation.

    Parameters
    ----------
    real : mapping of DataFrame
        The private tables of the release, ``{parent: ..., child: ...}`` (as
        given to ``fit_tables``).
    synthetic : mapping of DataFrame
        The synthetic tables (``model.sample_tables(...)``), same names.
    model : TablesModel
        The fitted or loaded tables model (its fit records, relation and schemas).
    accountant : Accountant, optional
        The data set's ledger; as for :func:`~privsynth.report.audit`.
    synthetic_paths : mapping of path, optional
        The released synthetic files, by table name (hashed with SHA-256;
        without them each table's CSV text is hashed).
    model_path : path, optional
        The released model file (hashed, and checked to hold the audited fit).
    release_id, random_state, n_jobs, max_records, purpose, audience, controller, approver, dataset
        As for :func:`~privsynth.report.audit`; ``random_state`` also seeds the
        bounding of the real tables for the comparison.

    Returns
    -------
    AuditReport

    Raises
    ------
    ParameterError
        Not a tables model; tables named otherwise than the relation's.
    DataValidationError
        A real table lacks schema columns or holds values outside its schema.
    """
    facts = tables_facts(model)
    rel = facts.relation
    order = (rel.parent, rel.child)
    given = check_options("audit_tables", random_state=random_state, n_jobs=n_jobs,
                          max_records=max_records, release={
                              "purpose": purpose, "audience": audience,
                              "controller": controller, "approver": approver,
                              "dataset": dataset})
    real = _check_tables(real, "real", order)
    synthetic = _check_tables(synthetic, "synthetic", order)
    paths = dict(_check_tables(synthetic_paths, "synthetic_paths", order)) \
        if synthetic_paths is not None else {}

    real_v: dict[str, pd.DataFrame] = {}
    synth_v: dict[str, pd.DataFrame] = {}
    problems: list[dict[str, Any]] = []
    ignored = 0
    for name in order:
        real_v[name], n_ignored = check_frame(real[name], f"the real {name} table",
                                              facts.schemas[name])
        ignored += n_ignored
        clean, found = check_synthetic(synthetic[name], facts.schemas[name])
        problems += [{**p, "column": f"{name}.{p.get('column')}"} for p in found]
        if clean is not None:
            synth_v[name] = clean
    identity = identity_section(synthetic[rel.parent], paths.get(rel.parent), facts.release,
                                model_path, release_id)
    idents = []
    for name in order:
        one = identity_section(synthetic[name], paths.get(name), None, None,
                               identity["release_id"])["synthetic"]
        idents.append({"table": name, **one})
    identity["tables"] = idents

    schema = facts.release.schema
    parent_rows = facts.parts[rel.parent].noisy_rows
    child_rows = facts.parts[rel.child].noisy_rows
    data = data_section(schema, parent_rows, sum(i["rows"] for i in idents), ignored)
    data["real_rows"]["statement"] = (
        "The numbers of real rows are private and not released. The engine's noisy estimates "
        "(DP outputs): about "
        + (f"{round(parent_rows):,}" if parent_rows is not None else "an unknown number of")
        + f" {rel.parent} rows, and about "
        + (f"{round(child_rows):,}" if child_rows is not None else "an unknown number of")
        + f" {rel.child} rows kept for the child model (at most {facts.max_child_rows} per "
        f"{rel.parent} row). The synthetic tables have "
        + " and ".join(f"{i['rows']:,} {i['table']} rows" for i in idents) + ".")

    acct = accounting(accountant, facts.release, given)
    skipped = ("The synthetic tables do not match their public schemas; evaluation skipped."
               if len(synth_v) < 2 else None)
    bounded = None
    real_b: dict[str, pd.DataFrame] | None = None
    if skipped is None:
        bounded = bound_pair(real_v, synth_v, rel, facts.max_children, random_state)
        real_b = {rel.parent: bounded[0], rel.child: bounded[1]}
    tables = _tables_section(facts, real_b, synth_v, idents, random_state, skipped, n_jobs,
                             max_records)
    relation = relation_section(bounded, synth_v if skipped is None else
                                {n: synthetic[n] for n in order}, facts.schemas, rel,
                                facts.max_children, facts.max_child_rows, skipped,
                                links=facts.links)
    attacks = {"included": False, "reason": ATTACKS_LEFT_OUT}
    # the synthetic tables against the real ones as given *and* as the fit bounded them
    real_counts = _real_row_counts(real_v, facts, random_state)
    same_rows = any(len(synthetic[n]) in real_counts[n] for n in order)
    hazards = hazards_section(Facts(schema, facts.release, model_path, acct.ledger, acct.claim,
                                    problems, attacks, {}, same_row_count=same_rows))
    for name, part in facts.parts.items():
        for h in engine_hazards(part):
            hazards.append({**h, "id": f"{h['id']}-{name}", "title": f"{h['title']}, {name}"})
    ki = relation["key_integrity"]
    hazards.append(make_hazard(
        "key-integrity", "Every synthetic child belongs to a synthetic parent",
        "pass" if ki["exact"] else "fail",
        ki["statement"] + ("" if ki["exact"] else " A child row without its parent, or two "
                           "parents with one key, is not what the model samples: the synthetic "
                           "tables were changed after sampling.")))
    return assemble(
        TABLES_SECTIONS, acct, identity=identity, data=data, threat_model=_threat_model(facts),
        hazards=hazards, attacks=attacks,
        criteria={"included": False, "reason": ATTACKS_LEFT_OUT},
        utility={"included": False, "reason": UTILITY_MOVED},
        extra={"tables": tables, "relation": relation},
        configuration=configuration_section(facts.release, schema, accountant, {
            "random_state": random_state, "n_jobs": n_jobs, "max_records": max_records,
            "tables": list(order), "attacks": False}))


__all__ = ["ATTACKS_LEFT_OUT", "TablesFacts", "audit_tables", "is_tables_model", "joint_schema",
           "tables_facts"]

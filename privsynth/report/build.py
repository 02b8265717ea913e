"""The public entry point :func:`audit`: check the inputs, build every section, one document.

The sections are built by their own modules (identity, data, threat model,
ledger, claim, hazards, evaluation, residual risk, configuration); the model
is read once, through :func:`~privsynth.report.model_facts.model_facts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from privsynth._checks import check_bool
from privsynth.errors import ParameterError
from privsynth.report._assembly import accounting, assemble, check_options
from privsynth.report.configuration import configuration_section
from privsynth.report.criteria import criteria_section, not_run_reason
from privsynth.report.data import constraint_stats, data_section
from privsynth.report.document import SECTIONS, AuditReport
from privsynth.report.evaluation import DEFAULT_MAX_RECORDS
from privsynth.report.evaluation.attacks import run_attacks
from privsynth.report.evaluation.utility import utility_section
from privsynth.report.hazards import Facts, hazards_section
from privsynth.report.identity import identity_section
from privsynth.report.inputs import check_frame, check_synthetic, resolve_schema
from privsynth.report.model_facts import model_facts
from privsynth.report.tables import audit_tables, is_tables_model
from privsynth.report.threat_model import threat_model_section
from privsynth.schema import Schema


def audit(
    real: pd.DataFrame | Mapping[str, pd.DataFrame],
    synthetic: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    schema: Schema | None = None,
    holdout: pd.DataFrame | None = None,
    model: object = None,
    accountant: Any = None,
    target: str | None = None,
    synthetic_path: str | Path | Mapping[str, str | Path] | None = None,
    model_path: str | Path | None = None,
    release_id: str | None = None,
    attacks: bool = True,
    random_state: int = 0,
    risk_options: Mapping[str, Any] | None = None,
    n_jobs: int | None = 1,
    max_records: int | None = DEFAULT_MAX_RECORDS,
    purpose: str | None = None,
    audience: str | None = None,
    controller: str | None = None,
    approver: str | None = None,
    dataset: str | None = None,
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
        The model that produced ``synthetic`` (``PrivBayes``, ``DPCTGAN``, ...),
        fitted or loaded. Its fit record (``record_``) supplies the release's own
        (epsilon, delta), its ledger entries, the noisy row count, the noise
        sources and engine hazards; ``schema_`` the schema.
    accountant : Accountant, optional
        The data set's ledger (an ``Accountant`` or ``FileAccountant``). The
        model's ledger entries are looked up in it by id: if some are missing,
        the data set's total stated is the ledger composed with the model's own
        events and a hazard fails. Without it, the data set's total stated is
        the model's own events (other releases are not counted) and a hazard
        warns; the model's own accountant is never used implicitly.
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

    purpose, audience : str, optional
        What the release is for and to whom it is given, for the sign-off page.
    controller, approver : str, optional
        The data controller and the person approving the release; default to
        the ledger's data-set header (``owner``, ``approved_by``).
    dataset : str, optional
        Identifier of the source data set; defaults to the ledger's data-set
        name, and must agree with it.

    A release of related tables (a model of ``PrivBayes().fit_tables``) is
    audited as one: ``real`` and ``synthetic`` are then mappings ``{table
    name: DataFrame}`` and ``synthetic_path`` a mapping of paths; see
    :func:`~privsynth.report.tables.audit_tables`.

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
    if is_tables_model(model):  # a release of related tables: one report of both
        unused = {"schema": schema, "holdout": holdout, "target": target,
                  "risk_options": risk_options}
        given_unused = sorted(k for k, v in unused.items() if v is not None)
        if given_unused:
            raise ParameterError(
                f"audit() of a release of related tables takes no {given_unused}: the schemas "
                "are the model's, and no attack or classifier runs on related tables "
                "(see audit_tables)")
        if not isinstance(real, Mapping) or not isinstance(synthetic, Mapping):
            names = [model.relation_.parent, model.relation_.child]  # type: ignore[attr-defined]
            raise ParameterError(
                "this model is a release of two related tables: its audit covers both tables "
                "and their relation, not one table. Give real= and synthetic= as mappings "
                f"{{{names[0]!r}: DataFrame, {names[1]!r}: DataFrame}} (synthetic: "
                "model.sample_tables(...))")
        if synthetic_path is not None and not isinstance(synthetic_path, Mapping):
            raise ParameterError("synthetic_path of a release of related tables is a mapping "
                                 "{table name: path}")
        return audit_tables(real, synthetic, model=model,
                            accountant=accountant, synthetic_paths=synthetic_path,
                            model_path=model_path, release_id=release_id,
                            random_state=random_state, n_jobs=n_jobs, max_records=max_records,
                            purpose=purpose, audience=audience, controller=controller,
                            approver=approver, dataset=dataset)
    if isinstance(synthetic_path, Mapping) or isinstance(synthetic, Mapping):
        raise ParameterError("mappings of tables (and of synthetic paths) are for a release of "
                             "related tables: pass its fit_tables model as model=")
    facts = model_facts(model)
    schema = resolve_schema(schema, facts)
    if target is not None and target not in schema.without_ids().names:
        raise ParameterError(f"target {target!r} is not a modelled column of the schema "
                             "(identifier columns are not modelled)")
    check_bool("attacks", attacks, where="audit")
    if risk_options is not None and not isinstance(risk_options, Mapping):
        raise ParameterError("risk_options must be a mapping of assess_risk keyword arguments")
    given = check_options("audit", random_state=random_state, n_jobs=n_jobs,
                          max_records=max_records, release={
                              "purpose": purpose, "audience": audience,
                              "controller": controller, "approver": approver,
                              "dataset": dataset})

    real_v, ignored = check_frame(real, "the real data", schema)
    holdout_v = check_frame(holdout, "the holdout", schema)[0] if holdout is not None else None
    synth_v, synthetic_problems = check_synthetic(synthetic, schema)
    n_hat = facts.noisy_rows if facts is not None else None
    # cheap sections first: a bad release id or an unreadable file fails before the evaluation
    identity = identity_section(synthetic, synthetic_path, facts, model_path, release_id)
    data = data_section(schema, n_hat, len(synthetic), ignored,
                        constraint_stats(facts.constraint_stats if facts else None))

    acct = accounting(accountant, facts, given)
    claim = acct.claim
    skipped = ("The synthetic data do not match the public schema; evaluation skipped."
               if synth_v is None else None)
    evaluated = synth_v if synth_v is not None else synthetic
    # identifier columns (kind "id") are never modelled: synthetic ones are fresh, so the
    # evaluation compares the modelled columns only (docs/units.md)
    modelled = schema.without_ids()
    if schema.id_columns:
        real_v, evaluated = real_v[list(modelled.names)], evaluated[list(modelled.names)]
        holdout_v = holdout_v[list(modelled.names)] if holdout_v is not None else None
    tested_eps, tested_delta = claim.tested()
    attack_doc, risk = run_attacks(real_v, holdout_v, evaluated, modelled, tested_eps,
                                   tested_delta, random_state, attacks, skipped,
                                   {"n_jobs": n_jobs, **(risk_options or {})})
    criteria_doc = criteria_section(
        None if risk is None else risk.criteria,
        not_run_reason(skipped, attacks, holdout is not None, risk is not None),
        None if risk is None else risk.settings)
    utility_doc = utility_section(real_v, holdout_v, evaluated, modelled, target, random_state,
                                  skipped, n_jobs, max_records)
    hazards = hazards_section(Facts(schema, facts, model_path, acct.ledger, claim,
                                    synthetic_problems, attack_doc, criteria_doc,
                                    same_row_count=len(synthetic) == len(real_v)))
    return assemble(
        SECTIONS, acct, identity=identity, data=data, threat_model=threat_model_section(facts),
        hazards=hazards, attacks=attack_doc, criteria=criteria_doc, utility=utility_doc,
        configuration=configuration_section(facts, schema, accountant, {
            "target": target, "attacks": attacks, "random_state": random_state,
            "holdout_given": holdout is not None, "n_jobs": n_jobs,
            "max_records": max_records,
            "risk_options": {k: (v if isinstance(v, int | float | str | bool) or v is None
                                 else type(v).__name__)
                             for k, v in (risk_options or {}).items()},
        }))

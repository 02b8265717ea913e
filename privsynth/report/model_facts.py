"""What the report learns from a fitted model, read in exactly one place: :func:`model_facts`.

A fitted (or loaded) model tells the report everything about its fit through
one typed value, its :class:`~privsynth.engines.record.FitRecord`
(``model.record_``): its own guarantee, its ledger entries (whose ids link it
to a ledger), the ledger that recorded them, the noisy row count, the noise
sources and hazards. Besides the record the report reads only the public
schema (``schema_``) and the statistics of the last constrained sampling call
(``constraint_stats_``). Every section and hazard check uses the
:class:`ModelFacts` built here, never the model object.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from privsynth.accounting.ledger import LedgerEntry
from privsynth.engines.record import FitRecord
from privsynth.engines.tables import ENGINE as TABLES_ENGINE
from privsynth.errors import NotFittedError, ParameterError
from privsynth.report._values import jsonable
from privsynth.schema import Schema


@dataclass(frozen=True)
class ModelFacts:
    """Everything the report needs from a fitted model.

    Attributes
    ----------
    schema : Schema
        The public schema the model was fitted with.
    record : FitRecord
        The record of the fit (see :mod:`privsynth.engines.record`).
    constraint_stats : tuple or None
        Statistics of the model's last constrained sampling call, unchecked.
    """

    schema: Schema
    record: FitRecord
    constraint_stats: tuple[Any, ...] | None = None

    @property
    def engine(self) -> str:
        return self.record.engine

    @property
    def epsilon(self) -> float:
        """This release's own epsilon (its events composed alone)."""
        return self.record.epsilon

    @property
    def delta(self) -> float:
        return self.record.delta

    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        return self.record.entries

    @property
    def noisy_rows(self) -> float | None:
        rows = self.record.noisy_rows
        return rows if rows is not None and math.isfinite(rows) else None

    @property
    def reproducible_noise(self) -> bool:
        return self.record.reproducible_noise

    @property
    def hazards(self) -> tuple[str, ...]:
        return self.record.hazards

    @property
    def noise(self) -> tuple[str, ...]:
        return self.record.noise

    @property
    def unit(self) -> str:
        return self.record.unit.describe()

    @property
    def params(self) -> Any:
        return jsonable(dict(self.record.params))

    @property
    def description(self) -> Any:
        return jsonable(dict(self.record.description)) or None


def model_facts(model: object) -> ModelFacts | None:
    """The facts of a fitted ``model`` (None for no model).

    Raises
    ------
    NotFittedError
        The model has no schema or no fit record (it is not fitted).
    ParameterError
        Its ``record_`` is not a :class:`~privsynth.engines.record.FitRecord`.
    """
    if model is None:
        return None
    schema = getattr(model, "schema_", None)
    record = getattr(model, "record_", None)
    if isinstance(record, FitRecord) and record.engine == TABLES_ENGINE:
        raise ParameterError(
            "a parent/child tables model (fit_tables) is a release of two tables: audit it "
            "with audit(real={<parent>: ..., <child>: ...}, synthetic=model.sample_tables(...), "
            "model=model, accountant=<the ledger>) or privsynth.report.audit_tables")
    if schema is None or record is None:
        raise NotFittedError("the model given to audit() is not fitted (it has no schema_ or "
                             "record_); fit it or load a saved model first")
    if not isinstance(record, FitRecord):
        raise ParameterError(f"the model's record_ must be a FitRecord, got "
                             f"{type(record).__name__}")
    stats = getattr(model, "constraint_stats_", None)
    return ModelFacts(schema=schema, record=record,
                      constraint_stats=tuple(stats) if stats else None)


__all__ = ["ModelFacts", "model_facts"]

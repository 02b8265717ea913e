"""The audit's inputs checked: the schema to audit against and the data frames.

Messages name columns and counts only, never values of the data.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from privsynth.errors import DataValidationError, ParameterError
from privsynth.report.model_facts import ModelFacts
from privsynth.schema import Schema


def resolve_schema(schema: Schema | None, model: ModelFacts | None) -> Schema:
    """The public schema of the audit: ``schema`` or the model's, which must agree."""
    model_schema = model.schema if model is not None else None
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


def check_frame(df: object, what: str, schema: Schema) -> tuple[pd.DataFrame, int]:
    """The schema's columns of ``df``, validated; and how many other columns were ignored."""
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


def check_synthetic(synthetic: object, schema: Schema
                    ) -> tuple[pd.DataFrame | None, list[dict[str, Any]]]:
    """The synthetic data validated against the schema, or None and what is wrong.

    Unlike the real data, synthetic data that break the schema are not an error
    but a failed hazard: the report says so and skips the evaluation.
    """
    from privsynth.validation import validate

    if not isinstance(synthetic, pd.DataFrame):
        raise DataValidationError(f"the synthetic data must be a pandas DataFrame, got "
                                  f"{type(synthetic).__name__}")
    try:
        clean = validate(synthetic, schema)
    except DataValidationError as exc:
        return None, [dict(p) for p in getattr(exc, "problems", [])] or [
            {"column": None, "problem": "does not match the schema"}]
    if len(clean) == 0:
        return None, [{"column": None, "problem": "no rows", "rows": 0}]
    return clean, []

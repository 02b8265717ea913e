"""Section "Data description": the public schema, row counts (noisy only) and constraints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from privsynth.columns import (
    BooleanColumn,
    CategoricalColumn,
    Column,
    DatetimeColumn,
    FloatColumn,
    IntegerColumn,
)
from privsynth.errors import ParameterError
from privsynth.report._values import rounded
from privsynth.schema import Schema


def domain_text(col: Column) -> str:
    """The column's public domain in words.

    >>> from privsynth.columns import IntegerColumn
    >>> domain_text(IntegerColumn("age", lower=0, upper=99))
    '0 to 99'
    """
    if isinstance(col, CategoricalColumn):
        return f"{col.size} categories: " + ", ".join(col.categories)
    if isinstance(col, BooleanColumn):
        return "true / false"
    if isinstance(col, DatetimeColumn):
        return f"{col.lower} to {col.upper} (resolution {col.resolution})"
    if isinstance(col, IntegerColumn | FloatColumn):
        return f"{col.lower:g} to {col.upper:g}"
    return ""


def constraint_stats(raw: Sequence[Any] | None) -> list[dict[str, Any]] | None:
    """The model's constraint statistics (from its last sample call), checked and rounded.

    They describe rejection sampling from the DP model, i.e. post-processing of DP
    outputs; None when the model has none.
    """
    if not raw:
        return None
    out = []
    for i, st in enumerate(raw):
        try:
            out.append({"constraint": str(st["constraint"]),
                        "raw_violation_share": rounded(st["raw_violation_share"], 4),
                        "acceptance_rate": rounded(st["acceptance_rate"], 4)})
        except (KeyError, TypeError, ValueError) as exc:
            raise ParameterError(f"the model's constraint_stats_[{i}] is malformed: it needs "
                                 "'constraint', 'raw_violation_share' and 'acceptance_rate'"
                                 ) from exc
    return out


def data_section(schema: Schema, n_hat: float | None, n_synthetic: int, ignored: int,
                 constraints: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The data section. The real row count appears only as the engine's noisy estimate."""
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
                     "domain": domain_text(c), "description": c.description}
                    for c in schema.columns],
        "n_constraints": len(schema.constraints),
        "real_rows": rows,
        "synthetic_rows": n_synthetic,
        "ignored_columns": ignored,
    }
    if constraints:
        out["constraints"] = constraints
    return out

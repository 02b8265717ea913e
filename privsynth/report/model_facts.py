"""What the report learns from a fitted model, read in exactly one place: :func:`model_facts`.

Every section and hazard check of the report uses the typed
:class:`ModelFacts`, never the model object itself, so the interface between
engines and the report is this one function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from privsynth.errors import NotFittedError
from privsynth.report._values import jsonable
from privsynth.schema import Schema


@dataclass(frozen=True)
class ModelFacts:
    """Everything the report needs from a fitted model.

    Attributes
    ----------
    engine : str
        The engine's registered name (its class name if it has none).
    schema : Schema
        The public schema the model was fitted with.
    epsilon, delta : float or None, float
        The release's own guarantee as the model states it (None: not stated).
    noisy_rows : float or None
        The engine's noisy row count (a DP output), if it has a finite one.
    reproducible_noise : bool
        True when the fit used seeded test noise.
    hazards : tuple of str
        Hazards the engine reports about its own fit.
    params, description : dict or None
        The engine's parameters and its description (JSON types).
    accountant : Accountant or None
        The accountant the model was fitted with.
    constraint_stats : tuple or None
        Statistics of the model's last constrained sampling call, unchecked.
    unit : str
        The privacy unit in words ("" when the model does not say: one row).
    noise : tuple of str
        Every noise source of the fit, in words.
    """

    engine: str
    schema: Schema
    epsilon: float | None
    delta: float
    noisy_rows: float | None
    reproducible_noise: bool
    hazards: tuple[str, ...] = ()
    params: Any = None
    description: Any = None
    accountant: Any = None
    constraint_stats: tuple[Any, ...] | None = field(default=None)
    unit: str = ""
    noise: tuple[str, ...] = ()


def model_facts(model: object) -> ModelFacts | None:
    """The facts of a fitted ``model`` (None for no model); NotFittedError if unfitted."""
    if model is None:
        return None
    schema = getattr(model, "schema_", None)
    if schema is None:
        raise NotFittedError("the model given to audit() is not fitted (it has no schema_)")
    rows = getattr(model, "n_hat_", None)
    eps = getattr(model, "epsilon_", None)
    get_params = getattr(model, "get_params", None)
    describe = getattr(model, "describe", None)
    stats = getattr(model, "constraint_stats_", None)
    return ModelFacts(
        engine=str(getattr(model, "name", None) or type(model).__name__),
        schema=schema,
        epsilon=None if eps is None else float(eps),
        delta=float(getattr(model, "delta_", 0.0) or 0.0),
        noisy_rows=float(rows) if rows is not None and math.isfinite(rows) else None,
        reproducible_noise=bool(getattr(model, "reproducible_noise_", False)),
        hazards=tuple(str(h) for h in (getattr(model, "hazards_", None) or [])),
        params=jsonable(get_params()) if callable(get_params) else None,
        description=jsonable(describe()) if callable(describe) else None,
        accountant=getattr(model, "accountant_", None),
        constraint_stats=tuple(stats) if stats else None,
    )


__all__ = ["ModelFacts", "model_facts"]

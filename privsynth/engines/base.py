"""The interface every synthesis engine follows, and the registry of engines by name.

An engine is a scikit-learn-style estimator: ``__init__`` stores parameters,
``fit(data, *, schema, epsilon, ...)`` learns with DP and returns ``self``,
learned state ends in ``_``, ``sample(n, random_state=..., conditions=...)``
draws synthetic rows (post-processing: free of privacy cost), ``save``/``load``
use the safe model file format of :mod:`privsynth._modelfile`.

Constraints and conditions (see :mod:`privsynth.constraints`) are enforced by
the generic rejection path :meth:`Synthesizer._sample_constrained`, which any
engine's ``sample`` can call with its raw sampler; an engine able to condition
exactly (PrivBayes) hands it an exact raw sampler instead. After each call the
model exposes ``constraint_stats_`` (one dict per declared rule).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import pandas as pd

from privsynth._limits import check_allocation
from privsynth.accounting import Accountant
from privsynth.constraints import (
    Constraint,
    check_satisfiable,
    column_domain_mask,
    normalize_conditions,
    parse_constraints,
)
from privsynth.engines._sampling import (
    DEFAULT_MAX_TRIES,
    SamplePlan,
    apply_unique_keys,
    rejection_sample,
)
from privsynth.errors import (
    ConstraintError,
    ModelFileError,
    NotFittedError,
    ParameterError,
)
from privsynth.mechanisms import Noise
from privsynth.schema import Schema

S = TypeVar("S", bound="Synthesizer")

#: Public bins of a numeric column for conditions on engines without exact
#: conditioning: a numeric condition accepts raw rows in the value's bin (then
#: sets the exact value). Coarse enough that rejection stays affordable.
GENERIC_CONDITION_BINS = 32
#: Memory one sampled cell needs (int64 working codes and the output frame), for
#: the resource check before sampling (see :mod:`privsynth._limits`).
SAMPLE_BYTES_PER_CELL = 48

#: A raw sampler: (rows, generator) -> DataFrame with the schema's columns.
RawDraw = Callable[[int, np.random.Generator], pd.DataFrame]
#: What an exact engine returns for given rules and conditions: a raw sampler
#: meeting the conditions and the rules it folds in, those rules, and a raw
#: sampler without them (to measure how often they would be violated).
ExactPlan = tuple[RawDraw, tuple[Constraint, ...], RawDraw | None]

_REGISTRY: dict[str, Callable[[], type[Synthesizer]]] = {}


def check_epsilon(epsilon: object, name: str = "epsilon") -> float:
    """Validate a user-given epsilon; returns it as a float."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float) \
            or not math.isfinite(epsilon) or epsilon <= 0:
        raise ParameterError(f"{name} must be a positive finite number, got {epsilon!r}")
    return float(epsilon)


def check_random_state(random_state: object) -> int | None:
    if random_state is None:
        return None
    if isinstance(random_state, bool) or not isinstance(random_state, int) or random_state < 0:
        raise ParameterError(f"random_state must be None or a non-negative integer, "
                             f"got {random_state!r}")
    return int(random_state)


def check_n(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ParameterError(f"n must be a non-negative integer number of rows, got {n!r}")
    return int(n)


class Synthesizer(ABC):
    """Base class of DP synthesizers.

    Subclasses set ``name`` and implement ``_fit``, ``_sample``, ``_to_payload``
    and ``_from_payload``. The base class validates inputs and owns the
    accountant wiring so every engine behaves the same.
    """

    name: ClassVar[str] = ""

    # learned state (set by fit / load)
    schema_: Schema
    accountant_: Accountant
    epsilon_: float
    delta_: float
    #: set by every sample call: {"constraint", "raw_violation_share", "acceptance_rate"}
    constraint_stats_: list[dict[str, Any]]

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "schema_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(data, schema=..., "
                "epsilon=...) or load a saved model first"
            )

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (public configuration, recorded in model files)."""
        import inspect

        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self"}

    @abstractmethod
    def fit(self: S, data: pd.DataFrame, *, schema: Schema, epsilon: float,
            accountant: Accountant | None = None, noise: Noise | None = None) -> S:
        """Learn a DP model of ``data``; spends ``epsilon`` from ``accountant``."""

    @abstractmethod
    def sample(self, n: int, *, random_state: int | None = None,
               conditions: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Draw ``n`` synthetic rows. ``random_state`` seeds sampling only, not privacy noise.

        ``conditions`` ({column: value}) restricts the rows to those values;
        the schema's constraints always hold. Both are post-processing.
        """

    def sample_conditions(self, partial: pd.DataFrame, *,
                          random_state: int | None = None) -> pd.DataFrame:
        """One synthetic row per row of ``partial``, agreeing with its given values.

        Parameters
        ----------
        partial : DataFrame
            Some of the schema's columns; a missing value (NaN/None) means
            "not conditioned" in that row.
        random_state : int, optional
            Seeds sampling only.

        Returns
        -------
        DataFrame
            ``len(partial)`` rows in the same order, index ``0..n-1``.
            ``constraint_stats_`` is averaged over the groups of equal conditions,
            weighted by their rows.
        """
        self._check_fitted()
        if not isinstance(partial, pd.DataFrame):
            raise ParameterError("sample_conditions needs a pandas DataFrame of partial rows")
        unknown = [c for c in partial.columns if c not in self.schema_.names]
        if unknown:
            raise ConstraintError(f"sample_conditions: column(s) {unknown} are not in the "
                                  f"schema; columns are {list(self.schema_.names)}")
        rng = np.random.default_rng(check_random_state(random_state))
        if len(partial) == 0:
            return self.sample(0, random_state=random_state)
        cols = list(partial.columns)
        groups: dict[tuple[tuple[str, Any], ...], list[int]] = {}
        obj = partial.astype(object)
        present = partial.notna().to_numpy()
        for i, row in enumerate(obj.itertuples(index=False, name=None)):
            key = tuple((c, v) for c, v, ok in zip(cols, row, present[i], strict=True) if ok)
            groups.setdefault(key, []).append(i)
        parts: list[pd.DataFrame] = []
        totals: dict[str, list[float]] = {}
        for key, rows in groups.items():
            part = self.sample(len(rows), random_state=int(rng.integers(2**63 - 1)),
                               conditions=dict(key))
            part.index = pd.Index(rows)
            parts.append(part)
            for st in getattr(self, "constraint_stats_", []):
                acc = totals.setdefault(st["constraint"], [0.0, 0.0])
                acc[0] += st["raw_violation_share"] * len(rows)
                acc[1] += st["acceptance_rate"] * len(rows)
        out = pd.concat(parts).sort_index().reset_index(drop=True)
        rules = parse_constraints(self.schema_)
        out = apply_unique_keys(out, rules, self.schema_, rng)
        self.constraint_stats_ = [
            {"constraint": name, "raw_violation_share": v / len(partial),
             "acceptance_rate": a / len(partial)} for name, (v, a) in totals.items()]
        return out

    def _sample_constrained(self, n: int, *, random_state: int | None, draw: RawDraw,
                            conditions: Mapping[str, Any] | None = None,
                            constraints: Sequence[Constraint | Mapping[str, Any]] = (),
                            max_tries: int = DEFAULT_MAX_TRIES,
                            exact: Callable[[tuple[Constraint, ...], dict[str, Any]],
                                            ExactPlan] | None = None) -> pd.DataFrame:
        """Sample ``n`` rows obeying the rules and ``conditions``; sets ``constraint_stats_``.

        The generic path for every engine: ``draw(m, rng)`` gives ``m`` raw,
        unconditioned rows of the model; rows violating a rule or a condition
        are rejected (a numeric condition accepts the value's bin among
        ``GENERIC_CONDITION_BINS`` public bins, then sets the exact value),
        with at most ``max_tries`` raw rows per row and a
        :class:`~privsynth.errors.ConstraintError` reporting the acceptance rate
        when fewer than ``1 / max_tries`` pass. ``exact``, when given, returns
        a sampler that meets the conditions (and folds some rules in) exactly.
        Contradictory rules or conditions are refused before any drawing.
        """
        from privsynth.binning import Discretizer

        schema = self.schema_
        # about 48 bytes a cell: int64 working codes and the output frame
        check_allocation(float(n) * len(schema.columns) * SAMPLE_BYTES_PER_CELL,
                         f"a sample of {n:,} rows x {len(schema.columns)} columns")
        rules = parse_constraints(schema, constraints)
        conds = normalize_conditions(conditions, schema, rules)
        rng = np.random.default_rng(random_state)
        if not rules and not conds:
            self.constraint_stats_ = []
            return draw(n, rng).reset_index(drop=True)
        check_satisfiable(rules, schema, conds, n)
        if exact is not None:
            exact_draw, folded, stats_draw = exact(rules, conds)
            plan = SamplePlan(schema, rules, conds, folded=folded, conditions_exact=True,
                              max_tries=max_tries)
            out, stats = rejection_sample(exact_draw, n, plan, rng, stats_draw)
        else:
            disc = Discretizer(schema, max_bins=GENERIC_CONDITION_BINS)
            plan = SamplePlan(schema, rules, conds, max_tries=max_tries,
                              condition_mask=lambda df: _condition_mask(df, conds, disc))
            out, stats = rejection_sample(draw, n, plan, rng)
        out = apply_unique_keys(out, rules, schema, rng)
        self.constraint_stats_ = stats
        return out

    @abstractmethod
    def save(self, path: str | Path) -> None:
        """Write the fitted model (DP outputs only) to ``path``."""

    @classmethod
    @abstractmethod
    def load(cls: type[S], path: str | Path) -> S:
        """Read a model written by :meth:`save`."""


def _condition_mask(df: pd.DataFrame, conditions: Mapping[str, Any], disc: Any) -> Any:
    """Rows meeting every condition: same category/boolean/missingness, or same public bin."""
    ok = np.ones(len(df), dtype=bool)
    for b in disc.bins:
        name = b.column.name
        if name not in conditions:
            continue
        s = df[name]
        v = conditions[name]
        missing = s.isna().to_numpy()
        if v is None:
            ok &= missing
            continue
        present = column_domain_mask(s, b.column)
        codes = np.full(len(df), -1, dtype=np.int64)
        codes[present] = disc.encode_column(b, s[present])
        ok &= codes == disc.encode_column(b, pd.Series([v]))[0]
    return ok


def register(name: str, loader: Callable[[], type[Synthesizer]]) -> None:
    """Register an engine class under ``name``; ``loader`` imports it lazily."""
    _REGISTRY[name] = loader


def names() -> list[str]:
    """Names of the registered engines."""
    return sorted(_REGISTRY)


def get(name: str) -> type[Synthesizer]:
    """The engine class registered as ``name`` (may raise MissingExtraError)."""
    if name not in _REGISTRY:
        raise ParameterError(f"unknown engine {name!r}; choose one of {names()}")
    return _REGISTRY[name]()


def load_model(path: str | Path) -> Synthesizer:
    """Load any saved model, choosing the engine from the file."""
    from privsynth._modelfile import peek_engine

    engine = peek_engine(path)
    if engine not in _REGISTRY:
        raise ModelFileError(f"{path} holds a model of unknown engine {engine!r}; this version "
                             f"of privsynth knows {names()}")
    return get(engine).load(path)

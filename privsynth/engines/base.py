"""The template every synthesis engine follows: fit, sample, save and load.

An engine is a scikit-learn-style estimator: ``__init__`` stores parameters,
``fit(data, *, schema, epsilon, ...)`` learns with DP and returns ``self``,
learned state ends in ``_``, ``sample(n, random_state=...)`` draws synthetic
rows (post-processing: free of privacy cost), ``save``/``load`` use the safe
model file format of :mod:`privsynth._modelfile`.

The public methods are *template methods* defined here once; an engine
implements only the steps that differ:

=====================  ====================================================
``_check_params()``    validate the constructor parameters (ParameterError)
``_fit_delta(delta)``  the delta of this fit (PrivBayes: 0; DP-SGD: > 0)
``_check_public(...)`` refuse, from public information only, a fit that
                       cannot succeed (sizes, resource caps, warnings)
``_fit(...)``          learn from the data, spending through the release,
                       with every sensitivity scaled to ``unit.max_rows``;
                       returns :class:`FitDetails`
``_draw_raw(n, rng)``  raw rows of the fitted model
``_exact_plan``        optional exact conditional sampler (PrivBayes)
``_to_payload()``      engine state for the model file (DP outputs only)
``_from_payload(p)``   rebuild and validate that state
=====================  ====================================================

What ``fit`` does, in order (nothing private is read before step 4):

1. check the parameters, epsilon, delta and the schema;
2. the engine's public checks (``_check_public``);
3. open a release on the accountant: the data set's budget must hold a
   release of guarantee (epsilon, delta) *whatever it draws*, and the release
   id must be new (see :meth:`~privsynth.accounting.Accountant.open_release`);
4. when the ledger is bound to a data set, check the keyed fingerprint of the
   data as given; then conform the data to the schema;
5. with a privacy unit, keep at most ``k`` rows per unit (:mod:`.units`);
   drop the identifier columns (never modelled);
6. ``_fit`` spends through the release, which holds every event to the fit's
   own guarantee and records it in the ledger before its noise is drawn;
7. build ``record_`` (:class:`~privsynth.engines.record.FitRecord`): the fit's
   own composed guarantee, its ledger entries, the privacy unit, and what
   reports need.

Engines see the *modelled* schema (``schema.without_ids()``) and data;
sampling adds fresh identifiers (:meth:`privsynth.columns.IdColumn.fresh`).
An engine that scales its sensitivities to a unit sets ``supports_units``.

Constraints and conditions (see :mod:`privsynth.constraints`) are enforced by
the generic rejection path :meth:`Synthesizer._sample_constrained`; an engine
able to condition exactly (PrivBayes) provides ``_exact_plan``.
"""

from __future__ import annotations

import inspect
import logging
import math
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import pandas as pd

from privsynth._checks import check_epsilon as _check_epsilon
from privsynth._checks import check_int, check_seed
from privsynth._limits import check_allocation
from privsynth._modelfile import read_model, write_model
from privsynth.accounting import Accountant, Release, check_entry_ids
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
from privsynth.engines.record import (
    FitRecord,
    LedgerRef,
    PrivacyUnit,
    check_claim,
    check_record_unit,
    schema_hazards,
    stated_epsilon,
)
from privsynth.engines.units import check_ledger_unit, check_unit, modelled_rows, with_fresh_ids
from privsynth.errors import (
    ConstraintError,
    DataValidationError,
    MissingExtraError,
    ModelFileError,
    NotFittedError,
    ParameterError,
    SchemaError,
)
from privsynth.mechanisms import Noise
from privsynth.schema import Schema

S = TypeVar("S", bound="Synthesizer")
log = logging.getLogger("privsynth.engines")

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


def check_epsilon(epsilon: object, name: str = "epsilon") -> float:
    """Validate a user-given epsilon; returns it as a float."""
    return _check_epsilon(epsilon, name)


def check_random_state(random_state: object) -> int | None:
    """A sampling seed: None or a non-negative integer."""
    return check_seed(random_state)


def check_n(n: object) -> int:
    """A number of rows to sample: a non-negative integer."""
    return check_int("n", n, lo=0)


def new_release_id(engine: str) -> str:
    """A fresh release id, e.g. ``privbayes-20261203T131500Z-3f9a``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{engine}-{stamp}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class FitPlan:
    """What a fit would do, decided from public information only (:meth:`Synthesizer.plan_fit`).

    ``ledger_bound`` is the most the data set's total can be after the fit
    (whatever its events), or None without an accountant.
    """

    engine: str
    epsilon: float
    delta: float
    release: str
    ledger_bound: float | None
    on_out_of_domain: str
    unit: PrivacyUnit = field(default_factory=PrivacyUnit)


@dataclass(frozen=True)
class FitDetails:
    """What an engine's ``_fit`` reports back to the template (all DP outputs or public)."""

    noisy_rows: float | None
    description: Mapping[str, Any] = field(default_factory=dict)
    hazards: tuple[str, ...] = ()
    noise: tuple[str, ...] = ()
    contents: str = ""


def _conform(data: pd.DataFrame, schema: Schema, on_out_of_domain: str,
             missing_values: Sequence[str] = ("",)) -> pd.DataFrame:
    """The data's schema columns, validated (errors go to the steward, never into a release).

    ``missing_values`` are the text tokens the engine's file reader would treat as
    missing (a fit's ``backend_options``), so a DataFrame and a file of the same
    rows are read alike.
    """
    from privsynth.backends.base import check_columns
    from privsynth.validation import validate

    check_columns(list(data.columns), schema)
    if len(data) == 0:
        raise DataValidationError("the data has no rows")
    return validate(data[list(schema.names)], schema, missing_values=missing_values,
                    on_out_of_domain=on_out_of_domain)  # type: ignore[arg-type]


def _missing_tokens(options: Mapping[str, Any]) -> Any:
    """The missing-value tokens of a fit's ``backend_options`` (default ``("",)``)."""
    return dict(options.get("backend_options") or {}).get("missing_values", ("",))


class Synthesizer(ABC):
    """Base class of DP synthesizers (see the module docstring for the template)."""

    name: ClassVar[str] = ""
    #: What the model file holds, in plain words (for reports).
    contents: ClassVar[str] = "the engine's DP outputs"
    #: Whether ``_fit`` scales every sensitivity to ``unit.max_rows`` (privacy units).
    supports_units: ClassVar[bool] = False

    # learned state (set by fit / load)
    schema_: Schema
    record_: FitRecord
    accountant_: Accountant | None
    #: set by every sample call: {"constraint", "raw_violation_share", "acceptance_rate"}
    constraint_stats_: list[dict[str, Any]]

    # ------------------------------------------------------------- state
    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "record_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(data, schema=..., "
                "epsilon=...) or load a saved model first")

    @property
    def epsilon_(self) -> float:
        """This release's own epsilon (its events composed alone), not the data set's total."""
        self._check_fitted()
        return self.record_.epsilon

    @property
    def delta_(self) -> float:
        """This release's own delta."""
        self._check_fitted()
        return self.record_.delta

    @property
    def n_hat_(self) -> float:
        """The noisy row count (a DP output)."""
        self._check_fitted()
        if self.record_.noisy_rows is None:
            raise NotFittedError(f"this {type(self).__name__} has no noisy row count")
        return self.record_.noisy_rows

    @property
    def reproducible_noise_(self) -> bool:
        self._check_fitted()
        return self.record_.reproducible_noise

    @property
    def hazards_(self) -> list[str]:
        self._check_fitted()
        return list(self.record_.hazards)

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (public configuration, recorded in model files)."""
        sig = inspect.signature(type(self).__init__)
        return {name: getattr(self, name) for name, p in sig.parameters.items()
                if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}

    # --------------------------------------------------------------- hooks
    @abstractmethod
    def _check_params(self) -> None:
        """Raise ParameterError for invalid constructor parameters."""

    def _fit_delta(self, delta: float | None, accountant: Accountant | None) -> float:
        """The delta of this fit. Default: pure epsilon-DP (delta must be None or 0)."""
        if delta not in (None, 0, 0.0) or isinstance(delta, bool):
            raise ParameterError(f"{type(self).__name__} is pure epsilon-DP: delta must be None "
                                 f"or 0, got {delta!r}")
        return 0.0

    def _check_public(self, schema: Schema, epsilon: float, delta: float,  # noqa: B027
                      options: Mapping[str, Any]) -> None:
        """Refuse, from public information only, a fit that cannot succeed (optional hook)."""

    @abstractmethod
    def _fit(self, data: Any, *, schema: Schema, release: Release, noise: Noise,
             **options: Any) -> FitDetails:
        """Learn from ``data`` spending only through ``release``.

        ``schema`` is the modelled schema (no identifier columns). Engines with
        ``supports_units`` also get ``unit`` (a :class:`PrivacyUnit`): one unit
        adds or removes up to ``unit.max_rows`` rows, so every sensitivity is
        that many times a row's. ``options["on_out_of_domain"]`` is the fit's
        policy: a pandas DataFrame arrives conformed with it, and an engine that
        reads other data (files, a dask frame) must apply it to every chunk.
        """

    @abstractmethod
    def _draw_raw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """``n`` raw rows of the fitted model (no conditions, no rules)."""

    _exact_plan: Callable[[tuple[Constraint, ...], dict[str, Any]], ExactPlan] | None = None

    @abstractmethod
    def _to_payload(self) -> dict[str, Any]:
        """Engine state for the model file: DP outputs only."""

    @abstractmethod
    def _from_payload(self, payload: Mapping[str, Any], schema: Schema) -> None:
        """Rebuild and validate the engine state read from a model file."""

    @classmethod
    def _params_from_file(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        """Constructor parameters as read from JSON (an engine may turn lists into tuples)."""
        return dict(params)

    # ----------------------------------------------------------------- fit
    def fit(self: S, data: Any, *, schema: Schema, epsilon: float, delta: float | None = None,
            accountant: Accountant | None = None, noise: Noise | None = None,
            release: str | None = None, on_out_of_domain: str | None = None,
            privacy_unit: str | None = None, max_rows_per_unit: int | None = None,
            **options: Any) -> S:
        """Learn a DP model of ``data``; the release's own guarantee is (epsilon, delta).

        Parameters
        ----------
        data : DataFrame (or what the engine accepts)
            The private table; its columns must match ``schema``.
        schema : Schema
            Public domains of the columns.
        epsilon : float
            This release's own guarantee: its events composed alone never
            exceed it. The data set's total is the accountant's.
        delta : float, optional
            This release's delta (engines that need one; default from the engine).
        accountant : Accountant, optional
            The data set's accountant (e.g. a
            :class:`~privsynth.accounting.persistent.FileAccountant`). Without
            one the spend is recorded nowhere but in the model itself, and
            reports say so.
        noise : Noise, optional
            Source of privacy noise; ``Noise.insecure_for_tests(seed)`` makes the
            fit reproducible and NOT private.
        release : str, optional
            The release id stamped on the ledger entries; must be new. Default:
            ``<engine>-<UTC time>-<random>``.
        on_out_of_domain : {"error", "clip", "map_to_missing"}, optional
            What to do with values outside the schema's domains. Default
            ``"error"``, or ``"clip"`` for a DP-estimated schema (whose bounds
            leave about 1 % of values outside by construction); the choice is
            recorded and stated in the report.
        privacy_unit : str, optional
            An identifier column (kind ``id``): all rows with one value form one
            privacy unit, and neighbouring data sets differ by one unit with all
            its rows (docs/units.md). Needs ``max_rows_per_unit``. The ledger
            must protect the same unit (``Accountant(unit=...)``).
        max_rows_per_unit : int, optional
            ``k``: the most rows of one unit the fit uses; a unit with more
            keeps a random ``k``. Public, chosen by the steward; every
            sensitivity is ``k`` times a row's.
        **options
            Engine-specific fit options (e.g. PrivBayes' ``backend``).
        """
        plan = self.plan_fit(schema=schema, epsilon=epsilon, delta=delta, accountant=accountant,
                             release=release, on_out_of_domain=on_out_of_domain,
                             privacy_unit=privacy_unit, max_rows_per_unit=max_rows_per_unit,
                             **options)
        eps, fit_delta, policy, unit = plan.epsilon, plan.delta, plan.on_out_of_domain, plan.unit
        schema_hazard = schema_hazards(schema)  # warns before anything is spent
        acct = accountant if accountant is not None \
            else Accountant(eps, fit_delta, unit=unit.column)
        rel = acct.open_release(plan.release, epsilon=eps, delta=fit_delta,
                                label=f"{type(self).__name__}.fit")
        noise = noise if noise is not None else Noise()
        # the data set's binding is checked on the data as given (before it is conformed:
        # clipping or coercion must not change what "the same table" means)
        self._check_dataset(acct, data, options)
        if isinstance(data, pd.DataFrame):
            data = _conform(data, schema, policy, _missing_tokens(options))
        # files and dask frames are validated by the engine's counting backend, chunk by
        # chunk: it gets the same policy, so they give what the same rows as a DataFrame give
        options["on_out_of_domain"] = policy
        data = modelled_rows(data, schema, unit, noise)
        log.info("%s: fitting release %s at epsilon %g, delta %g (privacy unit: %s)", self.name,
                 rel.release, eps, fit_delta, unit.describe())
        if self.supports_units:
            options["unit"] = unit
        details = self._fit(data, schema=schema.without_ids(), release=rel, noise=noise,
                            **options)
        own = rel.guarantee()
        # what the entries prove, never less: eps when they compose to it (or to one ulp
        # below it), the composition itself when float rounding of a sum of pieces of eps
        # lets it one ulp above (e.g. 0.30000000000000004 for 0.3)
        stated = stated_epsilon(own.epsilon, eps)
        self.schema_ = schema
        self.accountant_ = acct
        self.record_ = FitRecord(
            engine=self.name,
            params=_jsonable_params(self.get_params()),
            epsilon=stated,
            delta=fit_delta,
            method=own.method,
            entries=rel.entries,
            release=rel.release,
            ledger=LedgerRef.of(acct, recorded=accountant is not None),
            noisy_rows=details.noisy_rows,
            reproducible_noise=noise.reproducible,
            hazards=(*details.hazards, *schema_hazard),
            noise=details.noise,
            contents=details.contents or self.contents,
            description={**details.description, "on_out_of_domain": policy},
            unit=unit,
        )
        return self

    def plan_fit(self, *, schema: Schema, epsilon: float, delta: float | None = None,
                 accountant: Accountant | None = None, release: str | None = None,
                 on_out_of_domain: str | None = None, privacy_unit: str | None = None,
                 max_rows_per_unit: int | None = None, **options: Any) -> FitPlan:
        """Check a fit from public information only, reading no data; return its plan.

        Runs every check ``fit`` runs before it reads the data (parameters,
        epsilon, delta, schema, the privacy unit and the ledger's unit, the
        engine's public checks, the budget and the release id) and raises the
        same errors; spends nothing. ``fit`` calls it first.
        """
        from privsynth.accounting import check_release_id

        self._check_params()
        eps = check_epsilon(epsilon)
        if not isinstance(schema, Schema):
            raise SchemaError("fit needs schema=Schema(...); use privsynth.Schema.from_json")
        fit_delta = self._fit_delta(delta, accountant)
        policy = on_out_of_domain or ("clip" if schema.source == "dp" else "error")
        if policy not in ("error", "clip", "map_to_missing"):
            raise ParameterError(f"on_out_of_domain={on_out_of_domain!r}; allowed: 'error', "
                                 "'clip', 'map_to_missing'")
        unit = check_unit(schema, privacy_unit, max_rows_per_unit)
        if not unit.is_row and not self.supports_units:
            raise ParameterError(
                f"{type(self).__name__} does not support privacy units yet (it would need "
                "per-unit gradient clipping and unit sampling); fit with PrivBayes, which bounds "
                "each unit's rows and scales every sensitivity to the unit, or fit without "
                "privacy_unit (each row is then a unit). Nothing was spent.")
        self._check_public(schema.without_ids(), eps, fit_delta, options)
        if accountant is not None and not isinstance(accountant, Accountant):
            raise ParameterError("accountant must be a privsynth Accountant (or None)")
        check_ledger_unit(accountant, unit)
        rid = check_release_id(release if release is not None else new_release_id(self.name))
        bound = None
        if accountant is not None:
            if rid in accountant.releases():
                raise ParameterError(
                    f"release id {rid!r} is already in the ledger; a release id names one fit, "
                    "so two fits never merge into one release. Choose another id.")
            bound = accountant.check_release(eps, fit_delta, label=f"{type(self).__name__}.fit")
        return FitPlan(self.name, eps, fit_delta, rid, bound, policy, unit)

    def _check_dataset(self, acct: Accountant, data: Any, options: Mapping[str, Any]) -> None:
        """For a ledger bound to a data set, the table's keyed fingerprint must match.

        Computed on the data as given to ``fit``: a DataFrame, or files (read
        chunk by chunk through :mod:`privsynth.io` with the backend's
        ``missing_values`` and ``encoding``); values are hashed in a canonical
        form, so a CSV's text and the same rows typed by a schema agree.
        """
        from privsynth.io.fingerprint import check_binding

        read = dict(options.get("backend_options") or {})
        tokens = _missing_tokens(options)
        extra = {k: read[k] for k in ("encoding",) if k in read}
        check_binding(acct, data, what="the data", missing_values=tokens, **extra)

    # --------------------------------------------------------------- sample
    def sample(self, n: int | None = None, *, random_state: int | None = None,
               conditions: Mapping[str, Any] | None = None,
               constraints: Sequence[Any] = (), max_tries: int | None = None) -> pd.DataFrame:
        """Draw synthetic rows (post-processing: costs no privacy budget).

        Parameters
        ----------
        n : int, optional
            Number of rows. Default: the model's noisy row count (a DP output),
            so that a release never reveals the exact number of real rows.
        random_state : int, optional
            Seeds *sampling* only, never privacy noise.
        conditions : mapping, optional
            ``{column: value}``: rows with these values (exact for PrivBayes,
            by rejection otherwise). Rows passed as conditions are outside the
            guarantee: they are the caller's, not the model's.
        constraints : sequence, optional
            Extra rules for this call; the schema's rules always hold.
        max_tries : int, optional
            Raw rows drawn per row at most by rejection.
        """
        self._check_fitted()
        if n is None:
            rows = self.record_.noisy_rows
            if rows is None or not math.isfinite(rows):
                raise ParameterError("this model has no noisy row count; give n")
            n = max(1, round(rows))
        n = check_n(n)
        return with_fresh_ids(self._sample_modelled(n, random_state, conditions, constraints,
                                                    max_tries), self.schema_)

    @property
    def _modelled_schema(self) -> Schema:
        """The schema of what the engine models: ``schema_`` without identifier columns."""
        return self.schema_.without_ids()

    def _check_not_ids(self, names: Any) -> None:
        ids = [c for c in names if c in self.schema_.id_columns]
        if ids:
            raise ConstraintError(
                f"column {ids[0]!r} is an identifier (kind 'id'): it is never modelled and "
                "synthetic rows get fresh identifiers, so rows cannot be conditioned on it")

    def _sample_modelled(self, n: int, random_state: int | None,
                         conditions: Mapping[str, Any] | None, constraints: Sequence[Any],
                         max_tries: int | None) -> pd.DataFrame:
        """``n`` rows of the modelled columns (no identifiers yet)."""
        self._check_not_ids(conditions or {})
        tries = DEFAULT_MAX_TRIES if max_tries is None else check_int("max_tries", max_tries,
                                                                      lo=1)
        return self._sample_constrained(n, random_state=check_random_state(random_state),
                                        draw=self._draw_raw, conditions=conditions,
                                        constraints=constraints, max_tries=tries,
                                        exact=self._exact_plan)

    def sample_conditions(self, partial: pd.DataFrame, *,
                          random_state: int | None = None) -> pd.DataFrame:
        """One synthetic row per row of ``partial``, agreeing with its given values.

        Parameters
        ----------
        partial : DataFrame
            Some of the schema's columns; a missing value (NaN/None) means
            "not conditioned" in that row. These rows are the caller's: they
            are outside the privacy guarantee.
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
        self._check_not_ids(partial.columns)
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
            part = self._sample_modelled(len(rows), int(rng.integers(2**63 - 1)), dict(key),
                                         (), None)
            part.index = pd.Index(rows)
            parts.append(part)
            for st in getattr(self, "constraint_stats_", []):
                acc = totals.setdefault(st["constraint"], [0.0, 0.0])
                acc[0] += st["raw_violation_share"] * len(rows)
                acc[1] += st["acceptance_rate"] * len(rows)
        out = pd.concat(parts).sort_index().reset_index(drop=True)
        modelled = self._modelled_schema
        out = apply_unique_keys(out, parse_constraints(modelled), modelled, rng)
        self.constraint_stats_ = [
            {"constraint": name, "raw_violation_share": v / len(partial),
             "acceptance_rate": a / len(partial)} for name, (v, a) in totals.items()]
        return with_fresh_ids(out, self.schema_)

    def _sample_constrained(self, n: int, *, random_state: int | None, draw: RawDraw,
                            conditions: Mapping[str, Any] | None = None,
                            constraints: Sequence[Constraint | Mapping[str, Any]] = (),
                            max_tries: int = DEFAULT_MAX_TRIES,
                            exact: Callable[[tuple[Constraint, ...], dict[str, Any]],
                                            ExactPlan] | None = None) -> pd.DataFrame:
        """Sample ``n`` rows obeying the rules and ``conditions``; sets ``constraint_stats_``.

        ``draw(m, rng)`` gives ``m`` raw, unconditioned rows of the model;
        rows violating a rule or a condition are rejected (a numeric condition
        accepts the value's bin among ``GENERIC_CONDITION_BINS`` public bins,
        then sets the exact value), with at most ``max_tries`` raw rows per row
        and a :class:`~privsynth.errors.ConstraintError` reporting the
        acceptance rate when fewer than ``1 / max_tries`` pass. ``exact``, when
        given, returns a sampler that meets the conditions (and folds some
        rules in) exactly. Contradictory rules or conditions are refused
        before any drawing.
        """
        from privsynth.binning import Discretizer

        schema = self._modelled_schema
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

    # ---------------------------------------------------------------- files
    def save(self, path: str | Path) -> None:
        """Write the fitted model (DP outputs and its fit record only) to ``path``."""
        self._check_fitted()
        payload: dict[str, Any] = {
            "params": _jsonable_params(self.get_params()),
            "schema": self.schema_.to_dict(),
            "record": self.record_.to_dict(),
            **self._to_payload(),
        }
        write_model(path, self.name, payload)

    @classmethod
    def load(cls: type[S], path: str | Path) -> S:
        """Read a model written by :meth:`save`, validating every part."""
        from privsynth.errors import PrivsynthError

        p = read_model(path, cls.name)
        try:
            model = cls(**cls._params_from_file(p["params"]))
            model._check_params()
            schema = Schema.from_dict(p["schema"])
            record = FitRecord.from_dict(p["record"])
            check_entry_ids(record.entries)  # the entries link the model: never edited
            check_claim(record)  # and its epsilon is what they prove
            check_record_unit(record, schema, cls.supports_units)  # and its unit
            if record.engine != cls.name:
                raise ModelFileError(f"{path}: the fit record names engine {record.engine!r}")
            model._from_payload(p, schema.without_ids())
        except MissingExtraError:
            raise
        except ModelFileError as exc:
            raise ModelFileError(f"{path}: {exc}") from exc
        except (KeyError, TypeError, ValueError, IndexError, OverflowError, RuntimeError,
                PrivsynthError) as exc:
            raise ModelFileError(f"{path}: the {cls.__name__} model is malformed: {exc}") \
                from exc
        model.schema_ = schema
        model.record_ = record
        # a loaded model carries its own ledger entries in record_; the data set's
        # ledger is a separate file the report is given
        model.accountant_ = None
        return model


def _jsonable_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()}


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


__all__ = ["FitDetails", "FitPlan", "RawDraw", "Synthesizer", "check_epsilon", "check_n",
           "check_random_state", "new_release_id"]

"""What a fitted model tells the world about its own fit: one typed value, :class:`FitRecord`.

Everything the audit report, the CLI and the release manifest need from a
model comes from ``model.record_`` (never from engine attributes read with
``getattr``). A record is built by the engine template at the end of ``fit``,
saved in the model file and read back by ``load``, so a loaded model states
the same guarantee as the fitted one and stays linked to its ledger entries.

The guarantee stated (``epsilon``, ``delta``) is **this fit's own**: its
events composed alone (``method``). The data set's guarantee is the ledger's
total, which the report states separately. ``entries`` are the fit's own
ledger entries (events, labels, ids); their ids link the model to a ledger
(``ledger`` says which kind of ledger recorded them, if any).

>>> from privsynth.accounting import DiscreteLaplaceEvent, Ledger
>>> led = Ledger()
>>> e = led.append(DiscreteLaplaceEvent(0.5), label="hist", release="r1")
>>> rec = FitRecord(engine="demo", params={}, epsilon=0.5, delta=0.0, method="sum",
...                 entries=(e,), release="r1", ledger=LedgerRef("memory"),
...                 noisy_rows=100.0, reproducible_noise=False)
>>> FitRecord.from_dict(rec.to_dict()) == rec
True
>>> rec.recorded
True
>>> check_claim(rec)
>>> check_claim(FitRecord.from_dict({**rec.to_dict(), "epsilon": 0.05}))
Traceback (most recent call last):
...
privsynth.errors.ModelFileError: the fit record states epsilon 0.05, below the 0.5 its ...
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Context
from typing import Any, Literal

from privsynth.accounting.compose import compose
from privsynth.accounting.ledger import LedgerEntry
from privsynth.errors import ModelFileError, PrivacyWarning

LedgerKind = Literal["file", "memory", "none"]

#: A loaded record's stated epsilon may lie below its entries' composition by float
#: rounding only (relative 1e-9) when every event is pure (the composition is then an
#: exact sum), and by PLD/RDP numerics (relative 1e-3: discretization, another
#: dp-accounting version) otherwise: the tolerances of ``privsynth verify``
#: (:mod:`privsynth.release.independent`, which imports nothing from privsynth and
#: keeps its own copy; a test checks that they agree).
PURE_RELATIVE_TOLERANCE = 1e-9
RELATIVE_TOLERANCE = 1e-3


@dataclass(frozen=True)
class LedgerRef:
    """Which ledger recorded a fit's spends.

    ``kind`` is ``"file"`` (a :class:`~privsynth.accounting.persistent.FileAccountant`:
    the data set's persistent ledger), ``"memory"`` (an in-memory
    :class:`~privsynth.accounting.Accountant` given by the caller) or
    ``"none"`` (``fit(accountant=None)``: the spend is recorded nowhere but in
    the model itself). ``dataset`` and ``head`` identify a file ledger: the
    data set's name and the ledger's chain head right after the fit.
    """

    kind: LedgerKind
    path: str | None = None
    dataset: str | None = None
    head: str | None = None

    @classmethod
    def of(cls, acct: Any, *, recorded: bool) -> LedgerRef:
        """The reference to ``acct`` right after a fit (``recorded=False``: ``accountant=None``)."""
        kind: LedgerKind = acct.kind if recorded else "none"
        return cls(kind, str(getattr(acct, "path", "")) or None, acct.dataset.name or None,
                   acct.head)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "dataset": self.dataset,
                "head": self.head}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LedgerRef:
        if not isinstance(data, Mapping):
            raise ModelFileError("the model's ledger reference must be a JSON object")
        kind = data.get("kind")
        if kind not in ("file", "memory", "none"):
            raise ModelFileError(f"unknown ledger kind {kind!r} in the model's fit record")
        return cls(kind, _opt_str(data.get("path")), _opt_str(data.get("dataset")),
                   _opt_str(data.get("head")))


@dataclass(frozen=True)
class PrivacyUnit:
    """What one neighbouring change adds or removes: a row, or a unit with up to k rows.

    ``column`` names the identifier of a unit (None: one row is the unit) and
    ``max_rows`` the most rows of one unit the fit used (a unit with more kept
    a random ``max_rows``); every sensitivity of the fit is the unit's
    (docs/units.md). A noisy row count of a unit-level fit counts rows
    *after* that bound.
    """

    column: str | None = None
    max_rows: int = 1

    @property
    def is_row(self) -> bool:
        return self.column is None

    def describe(self) -> str:
        """Plain words for reports.

        >>> PrivacyUnit().describe()
        'one row of the training table'
        >>> PrivacyUnit("tailnum", 20).describe()
        "one value of 'tailnum' with up to 20 of its rows"
        """
        if self.column is None:
            return "one row of the training table"
        return f"one value of {self.column!r} with up to {self.max_rows} of its rows"

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "max_rows": self.max_rows}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PrivacyUnit:
        if not isinstance(data, Mapping):
            raise ModelFileError("the model's privacy unit must be a JSON object")
        col = data.get("column")
        k = data.get("max_rows", 1)
        if (col is not None and not isinstance(col, str)) or isinstance(k, bool) \
                or not isinstance(k, int) or k < 1 or (col is None and k != 1):
            raise ModelFileError("the model's privacy unit is malformed")
        return cls(col, k)


@dataclass(frozen=True)
class FitRecord:
    """The record of one fit: its own guarantee, its ledger entries, and what reports need.

    Attributes
    ----------
    engine : str
        Registered engine name (``"privbayes"``, ``"dpctgan"``).
    params : mapping
        The engine's constructor parameters (public configuration).
    epsilon, delta : float
        This fit's own guarantee: its events composed alone at ``delta``.
    method : str
        How those events were composed (``"sum"``, ``"pld"``, ...).
    entries : tuple of LedgerEntry
        The fit's own ledger entries, in order; their ids link the model to a ledger.
    release : str
        The release id stamped on the entries.
    ledger : LedgerRef
        Which ledger recorded the entries (``kind="none"``: nowhere else).
    noisy_rows : float or None
        The engine's noisy row count (a DP output), if it has one.
    reproducible_noise : bool
        True when the fit used seeded test noise (the release is NOT private).
    hazards : tuple of str
        Engine-specific hazards for the report (e.g. floating-point DP-SGD noise).
    noise : tuple of str
        Plain-words description of every noise source used by the fit.
    contents : str
        What the model file holds (all DP outputs), in plain words.
    description : mapping
        Engine-specific, JSON-ready details for the report (network, caps, DP-SGD plan...).
    unit : PrivacyUnit
        The privacy unit the guarantee protects.
    """

    engine: str
    params: Mapping[str, Any]
    epsilon: float
    delta: float
    method: str
    entries: tuple[LedgerEntry, ...]
    release: str
    ledger: LedgerRef
    noisy_rows: float | None
    reproducible_noise: bool
    hazards: tuple[str, ...] = ()
    noise: tuple[str, ...] = ()
    contents: str = ""
    description: Mapping[str, Any] = field(default_factory=dict)
    unit: PrivacyUnit = field(default_factory=PrivacyUnit)

    @property
    def end_to_end_dp(self) -> bool:
        """False when the fit's schema was read from the data without DP (rule 2)."""
        return SCHEMA_NOT_DP_HAZARD not in self.hazards

    @property
    def recorded(self) -> bool:
        """Whether the spend is recorded in a ledger other than the model itself."""
        return self.ledger.kind != "none"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (model files, reports)."""
        return {
            "engine": self.engine,
            "params": dict(self.params),
            "epsilon": self.epsilon,
            "delta": self.delta,
            "method": self.method,
            "entries": [e.to_dict() for e in self.entries],
            "release": self.release,
            "ledger": self.ledger.to_dict(),
            "noisy_rows": self.noisy_rows,
            "reproducible_noise": self.reproducible_noise,
            "hazards": list(self.hazards),
            "noise": list(self.noise),
            "contents": self.contents,
            "description": dict(self.description),
            "unit": self.unit.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FitRecord:
        """Rebuild a record from :meth:`to_dict`; raises ModelFileError on anything wrong."""
        from privsynth.errors import LedgerError

        if not isinstance(data, Mapping):
            raise ModelFileError("the model's fit record must be a JSON object")
        try:
            if not isinstance(data["entries"], list) or not all(
                    isinstance(data.get(k), Mapping) for k in ("ledger",)):
                raise ModelFileError("the model's fit record is malformed")
            entries = tuple(LedgerEntry.from_dict(e) for e in data["entries"])
            rows = data.get("noisy_rows")
            return cls(
                engine=str(data["engine"]),
                params=_mapping(data.get("params")),
                epsilon=float(data["epsilon"]),
                delta=float(data["delta"]),
                method=str(data["method"]),
                entries=entries,
                release=str(data.get("release", "")),
                ledger=LedgerRef.from_dict(data["ledger"]),
                noisy_rows=None if rows is None else float(rows),
                reproducible_noise=bool(data["reproducible_noise"]),
                hazards=_strings(data.get("hazards", [])),
                noise=_strings(data.get("noise", [])),
                contents=str(data.get("contents", "")),
                description=_mapping(data.get("description")),
                unit=PrivacyUnit.from_dict(data.get("unit") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError, LedgerError) as exc:
            raise ModelFileError(f"the model's fit record is malformed: {exc}") from exc


def stated_epsilon(composed: float, requested: float) -> float:
    """The epsilon a record states: ``composed`` rounded UP to 12 significant digits, capped.

    A fit's shares of epsilon are float products, so its events can compose
    to one ulp below the requested epsilon (``0.9999999999999999``); rounding a
    guarantee up keeps it true and states the requested number. A composition
    above the request (the release lets float rounding of a sum through, e.g.
    ``0.30000000000000004`` for 0.3) is stated as it is: never below it.

    >>> stated_epsilon(0.9999999999999999, 1.0), stated_epsilon(0.4, 1.0)
    (1.0, 0.4)
    >>> stated_epsilon(1/3, 1/3) == 1/3, stated_epsilon(1/3, 1.0)
    (True, 0.333333333334)
    >>> stated_epsilon(0.1 + 0.2, 0.3)
    0.30000000000000004
    """
    if composed > requested:
        return composed
    # from the shortest decimal that reads back as ``composed`` (0.4, not the float's
    # 0.40000000000000002...): float() is monotone, so the result is still >= composed
    up = float(_CEIL_12.create_decimal(repr(composed)))
    return min(max(up, composed), requested)


_CEIL_12 = Context(prec=12, rounding=ROUND_CEILING)


#: The fit record's hazard when a schema's domains were read from the data without DP.
SCHEMA_NOT_DP_HAZARD = (
    "The schema's domains (bounds, category lists, kinds) were read from the data without "
    "differential privacy (explicit opt-in, source 'data (not DP)'), and the model file "
    "holds them: the release is NOT end-to-end differentially private. Its epsilon covers "
    "the model's noise only, not the domains.")


def schema_hazards(*schemas: Any) -> tuple[str, ...]:
    """The record's hazards for schemas that are not public or DP (rule 2), and a warning.

    >>> from privsynth.schema import Schema
    >>> schema_hazards(Schema.from_dict({"columns": [
    ...     {"name": "a", "kind": "boolean"}]}))
    ()
    """
    if all(s.is_public for s in schemas):
        return ()
    warnings.warn(PrivacyWarning(
        "the schema was read from the data without DP (source 'data (not DP)'): this "
        "release is not end-to-end differentially private, its model file holds the "
        "domains read from the data, and the report and `privsynth verify` say so. Write "
        "the schema from public documentation or estimate it with privsynth.infer_dp."),
        stacklevel=3)
    return (SCHEMA_NOT_DP_HAZARD,)


def check_claim(record: FitRecord, what: str = "the fit record", *, whole: bool = True) -> None:
    """Raise ModelFileError unless ``record`` states what its own ledger entries prove.

    The entries' events are composed at the record's delta (as the fit
    composed them); the stated epsilon must be at least that, up to
    :data:`PURE_RELATIVE_TOLERANCE` when every event is pure and
    :data:`RELATIVE_TOLERANCE` otherwise. The entries themselves are checked
    against their ids separately (``check_entry_ids``). ``what`` names the
    record in the message (e.g. ``"the part of 'flights'"``).

    A fit without a ledger (``ledger.kind == "none"``) had its own accountant: its
    entries (``whole``: all of them, not a part's) are then one unbroken chain ending
    at the head the fit recorded, so dropping entries (and lowering the claim to what
    the rest prove) is refused. This raises the bar for an edited file; it is no
    proof against someone who rewrites it with care (the file's checksum is not
    keyed): the proof is ``privsynth verify`` against the data set's ledger.
    """
    eps, delta = record.epsilon, record.delta
    if math.isnan(eps) or not 0.0 <= delta < 1.0:
        raise ModelFileError(f"{what} states no valid guarantee (epsilon {eps!r}, delta "
                             f"{delta!r}): the file was edited; use the model file as the fit "
                             "saved it, or fit again")
    if not record.entries:
        raise ModelFileError(f"{what} lists no ledger entries, so nothing backs its claim: "
                             "the file was edited; use the model file as the fit saved it")
    ids = [e.id for e in record.entries]
    # a part of a related-tables release (saved alone) holds its table's entries only
    whole = whole and "table" not in record.description
    if whole and record.ledger.kind == "none" and (
            record.ledger.head != ids[-1]
            or any(e.prev != before
                   for before, e in zip(ids[:-1], record.entries[1:], strict=True))):
        raise ModelFileError(f"{what} lists ledger entries that are not the whole chain its "
                             "fit recorded (entries were removed or reordered): the file was "
                             "edited; use the model file as the fit saved it")
    if any(e.release != record.release or (e.release_delta is not None
                                           and e.release_delta != delta)
           for e in record.entries):
        raise ModelFileError(f"{what} states release {record.release!r} at delta {delta:g}, "
                             "but its ledger entries belong to another release or delta: the "
                             "file was edited; use the model file as the fit saved it")
    if record.reproducible_noise != any(e.reproducible_noise for e in record.entries):
        raise ModelFileError(f"{what} says its noise was {'not ' * (not record.reproducible_noise)}"
                             "seeded, its ledger entries say otherwise: the file was edited")
    events = [e.event for e in record.entries]
    own = compose(events, delta).epsilon
    pure = all(e.pure_epsilon is not None for e in events)
    tol = PURE_RELATIVE_TOLERANCE if pure else RELATIVE_TOLERANCE
    if not eps >= own * (1 - tol) - 1e-12:
        raise ModelFileError(f"{what} states epsilon {eps:g}, below the {own:.6g} its ledger "
                             f"entries compose to at delta {delta:g}: the claim is false. The "
                             "file was edited; use the model file as the fit saved it, or fit "
                             "again")


#: Events whose ``sensitivity`` is the count sensitivity of one privacy unit (every row
#: adds 1 to one cell of a count or table, so a unit of k rows moves it by k).
_COUNT_KINDS = ("discrete_laplace", "discrete_gaussian")


def check_record_unit(record: FitRecord, schema: Any, supports_units: bool,
               what: str = "the fit record") -> None:
    """Raise ModelFileError unless the record's privacy unit is the one its entries prove.

    A unit column must be a non-nullable identifier column of ``schema``, and
    only an engine that scales its sensitivities to a unit may state one. The
    counts' noise (discrete Laplace and Gaussian events) must be calibrated to
    the unit's ``max_rows``: a row-level fit relabelled as protecting a unit of
    k rows (whose rows it protects only at about k times its epsilon) is refused.
    """
    from privsynth.columns import IdColumn

    unit = record.unit
    if unit.column is not None:
        col = schema[unit.column] if unit.column in getattr(schema, "names", ()) else None
        if not supports_units or not isinstance(col, IdColumn) or col.nullable:
            raise ModelFileError(
                f"{what} states a privacy unit {unit.column!r} that its engine or schema "
                "cannot have (an engine that scales to units, a non-nullable identifier "
                "column): the file was edited; use the model file as the fit saved it")
    bad = [e.label for e in record.entries if e.event.kind in _COUNT_KINDS
           and getattr(e.event, "sensitivity", None) != unit.max_rows]
    if bad:
        raise ModelFileError(
            f"{what} states a privacy unit of up to {unit.max_rows} row(s), but the noise of "
            f"{len(bad)} of its counts (e.g. {bad[0]!r}) is calibrated to another number of "
            "rows: the claim is false. The file was edited; use the model file as the fit "
            "saved it")


def _mapping(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ModelFileError("the model's fit record is malformed (expected an object)")
    return dict(value)


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ModelFileError("the model's fit record is malformed (expected a list of texts)")
    return tuple(value)


def _opt_str(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ModelFileError("the model's ledger reference is malformed")
    return value


__all__ = ["PURE_RELATIVE_TOLERANCE", "RELATIVE_TOLERANCE", "SCHEMA_NOT_DP_HAZARD", "FitRecord",
           "LedgerRef", "PrivacyUnit", "check_claim", "schema_hazards", "stated_epsilon"]

"""The privacy accountant: one total (epsilon, delta) budget per data set, and its ledger.

Every release from a data set spends from one :class:`Accountant`. A spend is
checked against the budget under tight composition *before* it is recorded,
and it is recorded *before* any noise is drawn (mechanisms call
:meth:`Accountant.spend` first). A refused spend raises
:class:`~privsynth.errors.BudgetExceededError` and changes nothing.

A release (one fit) spends through :meth:`Accountant.open_release`, which
checks up front, before any data is read, that a release of guarantee
(epsilon, delta) fits the budget, and then holds the release to that
guarantee (see :class:`~privsynth.accounting.release.Release`).

The ledger's total is :func:`~privsynth.accounting.compose.compose_entries`
of its entries at the budget's delta: the tightest of the joint composition
and of basic composition over releases.

The JSON form is the same whoever writes it (this class, the file-backed
:class:`~privsynth.accounting.persistent.FileAccountant`, the CLI); see
``docs/accounting.md`` for every field and hash recipe.

>>> from privsynth.accounting.events import LaplaceEvent
>>> acct = Accountant(epsilon=1.0)
>>> for i in range(10):
...     _ = acct.spend(LaplaceEvent(0.1), label=f"q{i}")
>>> acct.spent()
Spent(epsilon=1.0, delta=0.0, method='sum')
>>> acct.remaining().epsilon
0.0
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from privsynth.accounting.compose import Spent, compose, compose_entries, compose_with_new_release
from privsynth.accounting.events import Event
from privsynth.accounting.ledger import Ledger, LedgerEntry, now, sha256_text
from privsynth.errors import BudgetExceededError, LedgerError, ParameterError

if TYPE_CHECKING:
    from privsynth.accounting.release import Release

LEDGER_FORMAT = "privsynth.ledger"
LEDGER_VERSION = 2
_GENESIS_TAG = "privsynth.ledger.genesis.v2\n"

# Relative slack when comparing a total with the budget: composition of
# epsilons that were split from a total (e.g. 0.3 + 0.7) must not be refused
# because of float rounding. 1e-9 of epsilon is far below any meaningful loss.
_REL_TOL = 1e-9


@dataclass(frozen=True)
class DatasetInfo:
    """Who and what a ledger belongs to (public metadata, part of the ledger's genesis).

    ``fingerprints`` are keyed fingerprints of the source table(s) (see
    :mod:`privsynth.accounting.fingerprint`); they reveal nothing without the
    steward's secret key, and let every fit check that it charges the right
    ledger.
    """

    name: str = ""
    owner: str = ""
    approved_by: str = ""
    created: str = ""
    fingerprints: tuple[str, ...] = ()
    key_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "owner": self.owner, "approved_by": self.approved_by,
                "created": self.created, "fingerprints": list(self.fingerprints),
                "key_id": self.key_id}

    @classmethod
    def from_dict(cls, data: object) -> DatasetInfo:
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise LedgerError("the ledger's dataset header must be a JSON object")
        fields = ("name", "owner", "approved_by", "created", "key_id")
        vals = {k: data.get(k, "") for k in fields}
        fps = data.get("fingerprints", [])
        if not all(isinstance(v, str) for v in vals.values()) or not isinstance(fps, list) \
                or not all(isinstance(f, str) for f in fps):
            raise LedgerError("the ledger's dataset header has fields of the wrong type")
        return cls(fingerprints=tuple(fps), **vals)


def _check_budget(epsilon: object, delta: object) -> tuple[float, float]:
    if not isinstance(epsilon, int | float) or isinstance(epsilon, bool) \
            or not math.isfinite(epsilon) or epsilon <= 0:
        raise ParameterError(f"Accountant: epsilon must be a positive number, got {epsilon!r}")
    if not isinstance(delta, int | float) or isinstance(delta, bool) or not 0 <= delta < 1:
        raise ParameterError(f"Accountant: delta must be in [0, 1), got {delta!r}")
    return float(epsilon), float(delta)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("privsynth", "dp-accounting", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "unknown"
    return out


class Accountant:
    """The total privacy budget of one data set and the ledger of its spends.

    Parameters
    ----------
    epsilon : float
        Total epsilon for everything ever released from this data set.
    delta : float, default 0
        Total delta. Leave 0 for pure-DP engines such as PrivBayes; DP-SGD and
        thresholded histograms need a delta much smaller than 1/n. It cannot
        be raised later.
    dataset : DatasetInfo, optional
        Who and what the budget belongs to.
    unit : str, optional
        The privacy unit the budget protects: None for one row, else the
        name of the column identifying a unit (a person with several rows).
        Every release charged here must protect the same unit.

    Examples
    --------
    >>> from privsynth.accounting.events import DiscreteLaplaceEvent
    >>> acct = Accountant(epsilon=0.5)
    >>> acct.spend(DiscreteLaplaceEvent(1.0), label="too much")
    Traceback (most recent call last):
    ...
    privsynth.errors.BudgetExceededError: refused 'too much'...
    >>> len(acct.ledger)
    0
    """

    #: How the ledger is kept: "memory" here, "file" for a FileAccountant.
    kind: Literal["memory", "file"] = "memory"

    def __init__(self, epsilon: float, delta: float = 0.0, *,
                 dataset: DatasetInfo | None = None, unit: str | None = None) -> None:
        self.epsilon, self.delta = _check_budget(epsilon, delta)
        if unit is not None and (not isinstance(unit, str) or not unit):
            raise ParameterError(f"Accountant: unit must be None or a column name, got {unit!r}")
        self.dataset = dataset if dataset is not None else DatasetInfo(created=now())
        self.unit = unit
        self.ledger = Ledger([], self.genesis)
        self._lock = threading.RLock()

    # -- identity ------------------------------------------------------------
    def header(self) -> dict[str, Any]:
        """The part of the ledger fixed at creation; its hash is the genesis."""
        return {"format": LEDGER_FORMAT, "version": LEDGER_VERSION,
                "budget": {"epsilon": self.epsilon, "delta": self.delta},
                "dataset": self.dataset.to_dict(), "unit": self.unit}

    @property
    def genesis(self) -> str:
        """``sha256("privsynth.ledger.genesis.v2\\n" + canonical(header))``."""
        return sha256_text(_GENESIS_TAG, self.header())

    @property
    def head(self) -> str:
        """The id of the last entry (the genesis when empty): identifies the ledger's state."""
        return self.ledger.head

    # -- queries ----------------------------------------------------------
    def __repr__(self) -> str:
        s = self.spent()
        return (f"{type(self).__name__}(epsilon={self.epsilon:g}, delta={self.delta:g}; "
                f"spent epsilon={s.epsilon:.6g} by {s.method}, {len(self.ledger)} events)")

    @property
    def history(self) -> list[LedgerEntry]:
        """The ledger entries, oldest first (a copy)."""
        return list(self.ledger.entries)

    def releases(self) -> list[str]:
        """The release ids recorded, oldest first."""
        return self.ledger.releases()

    def spent(self, events: Sequence[Event] | None = None) -> Spent:
        """The composed guarantee of the ledger (or of ``events``) at the budget's delta."""
        if events is not None:
            return compose(list(events), self.delta)
        return compose_entries(self.ledger.entries, self.delta)

    def spent_with(self, entries: Sequence[LedgerEntry]) -> Spent:
        """The total of the ledger together with ``entries`` not yet in it (e.g. a model's).

        Entries whose ids are already in the ledger are not counted twice.
        """
        ids = self.ledger.ids()
        extra = [e for e in entries if not e.id or e.id not in ids]
        return compose_entries([*self.ledger.entries, *extra], self.delta)

    def remaining(self) -> Spent:
        """Budget left, as (epsilon, delta) headroom.

        Under non-additive composition this is a guide, not an exact amount:
        whether a new event fits is decided by :meth:`check` on the full ledger.
        """
        s = self.spent()
        return Spent(max(0.0, self.epsilon - s.epsilon), self.delta, s.method)

    def release_room(self, delta: float = 0.0) -> float:
        """The largest own epsilon a new release stating ``delta`` can have.

        A new release is admitted when the ledger's earlier releases, composed
        at the budget's delta minus ``delta``, plus the release's own epsilon
        stay within the budget (:meth:`check_release`). That is less than
        :meth:`remaining` when earlier releases state their own delta.

        >>> from privsynth.accounting import Accountant, PureDPEvent
        >>> acct = Accountant(2.0, 1e-6)
        >>> _ = acct.spend(PureDPEvent(0.5), label="counts")
        >>> round(acct.release_room(), 6)
        1.5
        """
        if delta > self.delta:
            return 0.0
        bound = compose_with_new_release(self.ledger.entries, self.delta, 0.0, delta)
        return max(0.0, self.epsilon - bound)

    def _fits(self, total: Spent | float) -> bool:
        eps = total.epsilon if isinstance(total, Spent) else total
        return eps <= self.epsilon * (1 + _REL_TOL) + 1e-12

    def _refusal(self, label: str, asked: Spent, why: str = "") -> BudgetExceededError:
        before = self.spent()
        left = max(0.0, self.epsilon - before.epsilon)
        return BudgetExceededError(
            f"refused {label!r}: it needs epsilon {asked.epsilon:.4g} (delta "
            f"{asked.delta:.3g}) but only epsilon {left:.4g} of the total "
            f"{self.epsilon:g} is left (spent {before.epsilon:.4g} by {before.method} over "
            f"{len(self.ledger)} events).{why} Nothing was drawn or recorded. Ask for a "
            "smaller epsilon, or start a new budget only if this is a different data set.")

    def check(self, events: Iterable[Event], *, label: str = "request") -> Spent:
        """Raise BudgetExceededError unless ``events`` fit on top of the ledger.

        Records nothing. Returns the total the ledger would have afterwards.
        """
        new = list(events)
        for e in new:
            if not isinstance(e, Event):
                raise ParameterError(f"{label}: expected privacy events, got {type(e).__name__}")
        draft = [LedgerEntry(label, e, "") for e in new]
        return self._check_entries(draft, label)

    def _check_entries(self, new: Sequence[LedgerEntry], label: str) -> Spent:
        total = compose_entries([*self.ledger.entries, *new], self.delta)
        if not self._fits(total):
            why = ""
            if math.isinf(total.epsilon) and self.delta == 0:
                why = (" This mechanism needs delta > 0 but the budget has delta = 0, which is "
                       "fixed when a budget is created (a budget meant for DP-SGD needs a delta "
                       "much smaller than 1/n, chosen at creation).")
            raise self._refusal(label, compose([e.event for e in new], self.delta), why)
        return total

    def check_release(self, epsilon: float, delta: float, *, label: str) -> float:
        """Raise BudgetExceededError unless a release of own guarantee (epsilon, delta) fits.

        Decided before any data is read: whatever events the release draws,
        if they compose alone to at most (epsilon, delta), the ledger's total
        afterwards is at most the bound returned (see
        :func:`~privsynth.accounting.compose.compose_with_new_release`).
        """
        if delta > self.delta:
            raise BudgetExceededError(
                f"refused {label!r}: it needs delta {delta:.3g} but the budget's delta is "
                f"{self.delta:.3g} (fixed when the budget was created). Nothing was recorded.")
        bound = compose_with_new_release(self.ledger.entries, self.delta, epsilon, delta)
        if not self._fits(bound):
            why = ""
            if math.isinf(bound):
                why = (f" The earlier releases use delta {self._delta_used():.3g} of the "
                       f"budget's {self.delta:.3g}: ask for a delta of at most "
                       f"{self.unused_delta():.3g}.")
            else:
                why = (f" A release stating delta {delta:.3g} can have an own epsilon of at "
                       f"most {self.release_room(delta):.4g} here (the earlier releases count "
                       "at the delta the budget has left).")
            raise self._refusal(label, Spent(epsilon, delta, "release"), why)
        return bound

    def _delta_used(self) -> float:
        from privsynth.accounting.compose import release_groups

        return math.fsum(g.delta or 0.0 for g in release_groups(self.ledger.entries))

    def unused_delta(self) -> float:
        """The budget's delta not yet stated by a release (the most a new release can state)."""
        return max(0.0, self.delta - self._delta_used())

    # -- spending ---------------------------------------------------------
    def spend(self, event: Event, *, label: str, release: str = "",
              release_delta: float | None = None,
              reproducible_noise: bool = False) -> LedgerEntry:
        """Check and record one event. Call before drawing its noise."""
        return self.spend_many([(label, event)], release=release, release_delta=release_delta,
                               reproducible_noise=reproducible_noise)[0]

    def spend_many(self, items: Sequence[tuple[str, Event]], *, release: str = "",
                   release_delta: float | None = None,
                   reproducible_noise: bool = False) -> list[LedgerEntry]:
        """Check and record several events atomically: all or none. Returns them chained."""
        for _, e in items:
            if not isinstance(e, Event):
                raise ParameterError(f"expected privacy events, got {type(e).__name__}")
        drafts = [LedgerEntry(label, event, now(), release, release_delta, reproducible_noise)
                  for label, event in items]
        with self._lock:
            return self._commit(drafts)

    def _commit(self, drafts: list[LedgerEntry]) -> list[LedgerEntry]:
        """Check and append unchained entries. A file-backed accountant also writes the file."""
        self._check_entries(drafts, drafts[0].label if drafts else "request")
        return self.ledger.extend(drafts)

    def open_release(self, release: str, *, epsilon: float, delta: float = 0.0,
                     label: str = "release") -> Release:
        """Start a release of own guarantee (``epsilon``, ``delta``); see :class:`Release`.

        Refuses (BudgetExceededError, ParameterError) before anything is
        drawn when the release cannot fit or its id is already in the ledger.
        """
        from privsynth.accounting.release import Release

        return Release(self, release, epsilon=epsilon, delta=delta, label=label)

    # -- serialization ----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The ledger document (format ``privsynth.ledger`` version 2)."""
        s = self.spent()
        return {
            **self.header(),
            "genesis": self.genesis,
            "entries": self.ledger.to_dict(),
            "head": self.head,
            "spent": {"epsilon": s.epsilon, "delta": s.delta, "method": s.method},
            "libraries": _versions(),
        }

    def to_json(self, path: str | Path | None = None) -> str:
        """JSON text of the ledger; written atomically to ``path`` when given.

        The file is the same as a :class:`FileAccountant` writes: it can be
        opened by ``FileAccountant.open`` and every CLI command.
        """
        text = json.dumps(self.to_dict(), indent=2, allow_nan=True) + "\n"
        if path is not None:
            from privsynth._fileutil import atomic_write_text

            atomic_write_text(path, text)
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Accountant:
        """Rebuild and verify a ledger document (version 2, or version 1 migrated)."""
        if not isinstance(data, dict) or data.get("format") != LEDGER_FORMAT:
            raise LedgerError("not a privsynth ledger (missing format 'privsynth.ledger')")
        version = data.get("version")
        if version == 1:
            return cls._from_v1(data)
        if version != LEDGER_VERSION:
            raise LedgerError(
                f"ledger version {version!r} is not supported (this privsynth reads versions 1 "
                f"and {LEDGER_VERSION}); use the privsynth version that wrote it")
        acct = cls._from_header(data)
        if data.get("genesis") != acct.genesis:
            raise LedgerError("the ledger's genesis does not match its budget and data-set "
                              "header: the header was edited or corrupted. Refusing to use it; "
                              "restore it from a backup.")
        try:
            acct.ledger = Ledger.from_dict(data.get("entries"), genesis=acct.genesis)  # type: ignore[arg-type]
        except TypeError as exc:  # e.g. an unhashable event kind; the ledger is malformed
            raise LedgerError(f"the ledger's entries are malformed: {exc}") from exc
        except LedgerError as exc:
            raise LedgerError(f"{exc}. Refusing to use it; restore it from a backup.") from exc
        if data.get("head") != acct.head:
            raise LedgerError("the ledger's head does not match its last entry: entries were "
                              "removed or the file was edited. Refusing to use it.")
        if not acct._fits(acct.spent()):
            raise LedgerError("the ledger records more spending than its budget allows")
        return acct

    @classmethod
    def _from_header(cls, data: Mapping[str, Any]) -> Accountant:
        try:
            budget = data["budget"]
            acct = cls.__new__(cls)
            Accountant.__init__(acct, budget["epsilon"], budget.get("delta", 0.0),
                                dataset=DatasetInfo.from_dict(data.get("dataset")),
                                unit=data.get("unit"))
        except (KeyError, TypeError, ParameterError) as exc:
            raise LedgerError(f"the ledger's budget is missing or invalid: {exc}") from exc
        return acct

    @classmethod
    def _from_v1(cls, data: dict[str, Any]) -> Accountant:
        """A version-1 ledger (checksummed, not chained), migrated to a chain in memory."""
        import hashlib

        acct = cls._from_header({**data, "dataset": {}, "unit": None})
        try:
            entries = data.get("entries")
            if not isinstance(entries, list):
                raise LedgerError("the ledger entries must be a JSON list")
            old = [LedgerEntry.from_dict(e) for e in entries]
            canon = json.dumps(entries, sort_keys=True, separators=(",", ":"))
        except TypeError as exc:
            raise LedgerError(f"the ledger's entries are malformed: {exc}") from exc
        budget = json.dumps({"epsilon": acct.epsilon, "delta": acct.delta}, sort_keys=True)
        entries_digest = hashlib.sha256(canon.encode("utf-8")).hexdigest()
        if data.get("sha256") != hashlib.sha256(f"{budget}|{entries_digest}".encode()) \
                .hexdigest():
            raise LedgerError("the ledger's checksum does not match its entries: the file was "
                              "edited or corrupted. Refusing to use it; restore it from a backup.")
        # version 1 recorded no release deltas: its releases state no own guarantee
        acct.dataset = replace(acct.dataset, created="migrated from ledger version 1")
        acct.ledger = Ledger.rechain([replace(e, release_delta=None) for e in old], acct.genesis)
        if not acct._fits(acct.spent()):
            raise LedgerError("the ledger records more spending than its budget allows")
        return acct

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> Accountant:
        """Load from JSON text or a ledger file (whoever wrote it)."""
        text = str(text_or_path)
        if isinstance(text_or_path, Path) or not text.lstrip().startswith("{"):
            try:
                text = Path(text_or_path).read_text(encoding="utf-8")
            except (OSError, ValueError) as exc:  # ValueError: undecodable, or a NUL in the path
                raise LedgerError(f"cannot read ledger file {text_or_path}: {exc}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LedgerError(f"the ledger is not valid JSON: {exc.msg} (line {exc.lineno})") \
                from exc
        except RecursionError as exc:  # json recurses once per nesting level
            raise LedgerError("the ledger is nested too deeply to be a privsynth ledger") from exc
        return cls.from_dict(data)


__all__ = ["LEDGER_FORMAT", "LEDGER_VERSION", "Accountant", "DatasetInfo"]

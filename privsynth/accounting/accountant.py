"""The privacy accountant: one total (epsilon, delta) budget per data set.

Every release from a data set spends from one :class:`Accountant`. A spend is
checked against the budget under tight composition *before* it is recorded,
and it is recorded *before* any noise is drawn (mechanisms call
:meth:`Accountant.spend` first). A refused spend raises
:class:`~privsynth.errors.BudgetExceededError` and changes nothing.

Composition (``spent()``) takes the tightest of several valid bounds:

- ``sum``: exact additive composition when every event is pure epsilon-DP
  (dp-accounting's PLD returns infinity for these at delta = 0);
- ``pld``: privacy loss distributions (dp-accounting, pessimistic estimates);
- ``rdp``: Renyi DP (dp-accounting), when every event has an RDP description;
- ``sum+pld``: the pure events added up, the others composed by PLD.

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
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from privsynth.accounting.events import Event
from privsynth.accounting.ledger import Ledger, LedgerEntry, _now
from privsynth.errors import BudgetExceededError, LedgerError, ParameterError, PrivsynthError

LEDGER_FORMAT = "privsynth.ledger"
LEDGER_VERSION = 1

# Relative slack when comparing a total with the budget: composition of
# epsilons that were split from a total (e.g. 0.3 + 0.7) must not be refused
# because of float rounding. 1e-9 of epsilon is far below any meaningful loss.
_REL_TOL = 1e-9

# RDP orders: dense near 1 and wide, so that "optimal order is the largest"
# does not happen for the budgets we see.
_RDP_ORDERS = tuple(
    [1 + x / 10.0 for x in range(1, 100)] + list(range(11, 64)) + [80, 128, 256, 512, 1024]
)


@dataclass(frozen=True)
class Spent:
    """A composed privacy guarantee and the method that proved it."""

    epsilon: float
    delta: float
    method: str


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("privsynth", "dp-accounting", "diffprivlib", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "unknown"
    return out


@lru_cache(maxsize=512)
def _pld_epsilon(events: tuple[tuple[Event, int], ...], delta: float) -> float:
    """Epsilon at ``delta`` of the PLD composition of (event, multiplicity) pairs."""
    total = None
    # For epsilons in the hundreds, exp(-epsilon) underflows and scipy warns of an
    # overflow inside the discrete Laplace PLD; the (pessimistic) result is still right.
    with np.errstate(over="ignore", under="ignore"):
        for event, count in events:
            one = event.to_pld()
            if count > 1:
                one = one.self_compose(count)
            total = one if total is None else total.compose(one)
        if total is None:
            return 0.0
        return float(total.get_epsilon_for_delta(delta))


# A PLD's discretized support grows with an event's epsilon and integer sensitivity;
# beyond these bounds (far above any real budget) it can take minutes and gigabytes
# (found by fuzzing forged ledgers), so the event is composed by sum or RDP instead.
_PLD_MAX_EPSILON = 20.0
_PLD_MAX_SENSITIVITY = 1000
_PLD_MAX_RDP_EPSILON = 50.0


def _pld_safe(event: Event, delta: float) -> bool:
    """Whether building ``event``'s PLD is cheap (see ``_PLD_MAX_*``)."""
    sens = getattr(event, "sensitivity", 1)
    if isinstance(sens, int) and sens > _PLD_MAX_SENSITIVITY:
        return False
    eps = event.pure_epsilon if event.pure_epsilon is not None else getattr(event, "epsilon", None)
    if isinstance(eps, int | float):
        return eps <= _PLD_MAX_EPSILON
    return _rdp_epsilon(((event, 1),), delta) <= _PLD_MAX_RDP_EPSILON


@lru_cache(maxsize=512)
def _rdp_epsilon(events: tuple[tuple[Event, int], ...], delta: float) -> float:
    from dp_accounting.rdp import RdpAccountant

    acc = RdpAccountant(orders=list(_RDP_ORDERS))
    try:
        for event, count in events:
            dp_event = event.to_dp_event()
            if dp_event is None:
                return math.inf
            acc.compose(dp_event, count)
        return float(acc.get_epsilon(delta))
    except (OverflowError, FloatingPointError, ZeroDivisionError):  # absurd parameters
        # (e.g. epsilons near 1e300): no finite guarantee is claimed
        return math.inf


def compose(events: Sequence[Event], delta: float) -> Spent:
    """The tightest valid (epsilon, delta) of the composition of ``events``.

    ``delta`` is the target delta; it is used only when some event is not
    pure epsilon-DP. Returns epsilon = inf when no method can meet it.

    >>> from privsynth.accounting.events import SubsampledGaussianEvent
    >>> s = compose([SubsampledGaussianEvent(0.01, 1.0, 10_000)], delta=1e-5)
    >>> round(s.epsilon, 2), s.method
    (6.19, 'pld')
    """
    if not events:
        return Spent(0.0, 0.0, "none")
    pure = [e for e in events if e.pure_epsilon is not None]
    other = [e for e in events if e.pure_epsilon is None]
    pure_sum = math.fsum(e.pure_epsilon for e in pure)  # type: ignore[misc]
    if not other:
        return Spent(pure_sum, 0.0, "sum")
    own_delta = math.fsum(e.delta for e in other)
    if delta <= 0 or own_delta >= delta:
        return Spent(math.inf, delta, "none")
    grouped_all = tuple(Counter(events).items())
    grouped_other = tuple(Counter(other).items())
    candidates = []
    if all(_pld_safe(e, delta) for e in set(other)):
        if all(_pld_safe(e, delta) for e in set(pure)):
            candidates.append(Spent(_pld_epsilon(grouped_all, delta), delta, "pld"))
        candidates.append(Spent(pure_sum + _pld_epsilon(grouped_other, delta), delta, "sum+pld"))
    if own_delta == 0:
        candidates.append(Spent(_rdp_epsilon(grouped_all, delta), delta, "rdp"))
    if not candidates:  # no method applies cheaply: no finite guarantee is claimed
        return Spent(math.inf, delta, "none")
    return min(candidates, key=lambda s: s.epsilon)


class Accountant:
    """The total privacy budget of one data set and the ledger of its spends.

    Parameters
    ----------
    epsilon : float
        Total epsilon for everything ever released from this data set.
    delta : float, default 0
        Total delta. Leave 0 for pure-DP engines such as PrivBayes; DP-SGD and
        thresholded histograms need a delta much smaller than 1/n.

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

    def __init__(self, epsilon: float, delta: float = 0.0) -> None:
        if not isinstance(epsilon, int | float) or isinstance(epsilon, bool) \
                or not math.isfinite(epsilon) or epsilon <= 0:
            raise ParameterError(f"Accountant: epsilon must be a positive number, got {epsilon!r}")
        if not isinstance(delta, int | float) or isinstance(delta, bool) or not 0 <= delta < 1:
            raise ParameterError(f"Accountant: delta must be in [0, 1), got {delta!r}")
        self.epsilon = float(epsilon)
        self.delta = float(delta)
        self.ledger = Ledger()
        self._lock = threading.Lock()

    # -- queries ----------------------------------------------------------
    def __repr__(self) -> str:
        s = self.spent()
        return (f"Accountant(epsilon={self.epsilon:g}, delta={self.delta:g}; "
                f"spent epsilon={s.epsilon:.6g} by {s.method}, {len(self.ledger)} events)")

    @property
    def history(self) -> list[LedgerEntry]:
        """The ledger entries, oldest first (a copy)."""
        return list(self.ledger.entries)

    def spent(self, events: Sequence[Event] | None = None) -> Spent:
        """The composed guarantee of the ledger (or of ``events``) at the budget's delta."""
        evs = self.ledger.events if events is None else list(events)
        return compose(evs, self.delta)

    def remaining(self) -> Spent:
        """Budget left, as (epsilon, delta) headroom.

        Under non-additive composition this is a guide, not an exact amount:
        whether a new event fits is decided by :meth:`check` on the full ledger.
        """
        s = self.spent()
        return Spent(max(0.0, self.epsilon - s.epsilon), self.delta, s.method)

    def _fits(self, total: Spent) -> bool:
        return total.epsilon <= self.epsilon * (1 + _REL_TOL) + 1e-12

    def check(self, events: Iterable[Event], *, label: str = "request") -> Spent:
        """Raise BudgetExceededError unless ``events`` fit on top of the ledger.

        Records nothing. Returns the total the ledger would have afterwards.
        """
        new = list(events)
        for e in new:
            if not isinstance(e, Event):
                raise ParameterError(f"{label}: expected privacy events, got {type(e).__name__}")
        total = compose(self.ledger.events + new, self.delta)
        if not self._fits(total):
            asked = compose(new, self.delta)
            before = self.spent()
            left = max(0.0, self.epsilon - before.epsilon)
            why = ""
            if math.isinf(total.epsilon) and self.delta == 0:
                why = (" This mechanism needs delta > 0 but the budget has delta = 0; "
                       "create the accountant with a delta much smaller than 1/n.")
            raise BudgetExceededError(
                f"refused {label!r}: it needs epsilon {asked.epsilon:.4g} (delta "
                f"{asked.delta:.3g}) but only epsilon {left:.4g} of the total "
                f"{self.epsilon:g} is left (spent {before.epsilon:.4g} by {before.method} over "
                f"{len(self.ledger)} events).{why} Nothing was drawn or recorded. Ask for a "
                "smaller epsilon, or start a new budget only if this is a different data set."
            )
        return total

    # -- spending ---------------------------------------------------------
    def spend(
        self, event: Event, *, label: str, release: str = "", reproducible_noise: bool = False
    ) -> LedgerEntry:
        """Check and record one event. Call before drawing its noise."""
        return self.spend_many([(label, event)], release=release,
                               reproducible_noise=reproducible_noise)[0]

    def spend_many(
        self,
        items: Sequence[tuple[str, Event]],
        *,
        release: str = "",
        reproducible_noise: bool = False,
    ) -> list[LedgerEntry]:
        """Check and record several events atomically: all or none."""
        with self._lock:
            self.check([e for _, e in items], label=items[0][0] if items else "request")
            entries = [
                LedgerEntry(label, event, _now(), release, reproducible_noise)
                for label, event in items
            ]
            self._commit(entries)
            return entries

    def _commit(self, entries: list[LedgerEntry]) -> None:
        """Persist new entries. A file-backed accountant overrides this."""
        self.ledger.extend(entries)

    # -- serialization ----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        s = self.spent()
        return {
            "format": LEDGER_FORMAT,
            "version": LEDGER_VERSION,
            "budget": {"epsilon": self.epsilon, "delta": self.delta},
            "entries": self.ledger.to_dict(),
            "spent": {"epsilon": s.epsilon, "delta": s.delta, "method": s.method},
            "sha256": self.digest(),
            "libraries": _versions(),
        }

    def to_json(self, path: str | Path | None = None) -> str:
        """JSON text of the budget and the ledger; written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=2, allow_nan=True)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def digest(self) -> str:
        """SHA-256 over the budget and the ledger entries (tamper evidence for files)."""
        import hashlib

        budget = json.dumps({"epsilon": self.epsilon, "delta": self.delta}, sort_keys=True)
        return hashlib.sha256(f"{budget}|{self.ledger.digest()}".encode()).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Accountant:
        if not isinstance(data, dict) or data.get("format") != LEDGER_FORMAT:
            raise LedgerError("not a privsynth ledger (missing format 'privsynth.ledger')")
        if data.get("version") != LEDGER_VERSION:
            raise LedgerError(
                f"ledger version {data.get('version')!r} is not supported (expected "
                f"{LEDGER_VERSION}); use the privsynth version that wrote it"
            )
        try:
            budget = data["budget"]
            acct = cls(budget["epsilon"], budget.get("delta", 0.0))
        except (KeyError, TypeError, ParameterError) as exc:
            raise LedgerError(f"the ledger's budget is missing or invalid: {exc}") from exc
        try:
            acct.ledger = Ledger.from_dict(data.get("entries"))  # type: ignore[arg-type]
        except TypeError as exc:  # e.g. an unhashable event kind; the ledger is malformed
            raise LedgerError(f"the ledger's entries are malformed: {exc}") from exc
        digest = data.get("sha256")
        if digest != acct.digest():
            raise LedgerError(
                "the ledger's checksum does not match its entries: the file was edited or "
                "corrupted. Refusing to use it; restore it from a backup."
            )
        if not acct._fits(acct.spent()):
            raise LedgerError("the ledger records more spending than its budget allows")
        return acct

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> Accountant:
        """Load from JSON text or a file written by :meth:`to_json`."""
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


class Reservation:
    """Events charged in advance, drawn one by one by the mechanisms.

    An engine reserves its whole plan (all of it is checked and recorded at
    once, before any data is touched); mechanisms then ``spend`` against the
    reservation, which only accepts events that were planned. A crash midway
    leaves the budget spent, never refunded.
    """

    def __init__(self, items: Sequence[tuple[str, Event]], reproducible_noise: bool) -> None:
        self._left: Counter[Event] = Counter(e for _, e in items)
        self.reproducible_noise = reproducible_noise

    def spend(
        self, event: Event, *, label: str, release: str = "", reproducible_noise: bool = False
    ) -> None:
        if self._left[event] <= 0:
            raise PrivsynthError(
                f"internal error: {label!r} draws {event.describe()} which was not reserved; "
                "no noise was drawn. Please report this bug."
            )
        if reproducible_noise and not self.reproducible_noise:
            # The ledger already says this noise is secure; seeded noise would make it lie.
            raise PrivsynthError(
                f"{label!r} draws seeded (insecure test) noise against a reservation recorded "
                "as secure noise; no noise was drawn. Reserve with reproducible_noise=True."
            )
        self._left[event] -= 1

    @property
    def unused(self) -> int:
        """Number of reserved events not drawn (spent anyway: budget is never refunded)."""
        return sum(self._left.values())


def reserve(
    accountant: Accountant | None,
    items: Sequence[tuple[str, Event]],
    *,
    release: str = "",
    reproducible_noise: bool = False,
    default_delta: float = 0.0,
) -> tuple[Accountant, Reservation]:
    """Charge a plan of events to ``accountant`` (a fresh one sized to the plan if None)."""
    if accountant is None:
        total = compose([e for _, e in items], default_delta)
        accountant = Accountant(max(total.epsilon, 1e-12), default_delta)
    accountant.spend_many(items, release=release, reproducible_noise=reproducible_noise)
    return accountant, Reservation(items, reproducible_noise)

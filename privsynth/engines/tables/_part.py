"""One part of a release: the share of a multi-table release that one model spends.

A multi-table fit is **one** release on the ledger (one id, one stated
epsilon: sequential composition of its parts). Each model of the fit spends
through a :class:`ReleasePart`, which holds that model to its own share of
the epsilon, prefixes its ledger labels with the table's name (so the ledger
says which table every event measured) and records the events in the
release, which checks them again against the whole release's guarantee and
the ledger before any noise is drawn.

>>> from privsynth.accounting import Accountant, DiscreteLaplaceEvent
>>> rel = Accountant(epsilon=1.0).open_release("tables-1", epsilon=1.0)
>>> part = ReleasePart(rel, epsilon=0.4, table="planes")
>>> _ = part.spend(DiscreteLaplaceEvent(0.4), label="hist")
>>> [e.label for e in rel.entries], part.guarantee().epsilon
(['planes/hist'], 0.4)
>>> part.spend(DiscreteLaplaceEvent(0.1), label="more")
Traceback (most recent call last):
...
privsynth.errors.BudgetExceededError: refused 'planes/more': the part of release ...
"""

from __future__ import annotations

from collections.abc import Sequence

from privsynth.accounting import Release
from privsynth.accounting.events import Event
from privsynth.accounting.ledger import LedgerEntry
from privsynth.errors import BudgetExceededError

_REL_TOL = 1e-9


class ReleasePart(Release):
    """The part of ``release`` that one table's model spends, at most ``epsilon``."""

    def __init__(self, release: Release, *, epsilon: float, table: str) -> None:
        # not Release.__init__: the release is open already (its id may be in the ledger)
        self.whole = release
        self.accountant = release.accountant
        self.release = release.release
        self.epsilon = float(epsilon)
        self.delta = release.delta
        self.table = table
        self._entries: list[LedgerEntry] = []

    def spend_many(self, items: Sequence[tuple[str, Event]], *,
                   reproducible_noise: bool = False) -> list[LedgerEntry]:
        labelled = [(f"{self.table}/{label}", event) for label, event in items]
        own = self.guarantee([e for _, e in items])
        if not own.epsilon <= self.epsilon * (1 + _REL_TOL) + 1e-12:
            label = labelled[0][0] if labelled else "request"
            raise BudgetExceededError(
                f"refused {label!r}: the part of release {self.release!r} for the table "
                f"{self.table!r} states epsilon {self.epsilon:g} and its events would "
                f"compose to {own.epsilon:.4g}. Nothing was drawn or recorded.")
        made = self.whole.spend_many(labelled, reproducible_noise=reproducible_noise)
        self._entries.extend(made)
        return made


__all__ = ["ReleasePart"]

"""A release: the spends of one fit, held to the guarantee the fit states.

``accountant.open_release(release_id, epsilon=..., delta=...)`` checks,
before any data is read, that a release of own guarantee (epsilon, delta)
fits the data set's budget whatever it draws (see
:meth:`~privsynth.accounting.Accountant.check_release`), and refuses a
release id already in the ledger (two fits must not merge into one release).
Mechanisms then spend through the :class:`Release` (it is a ``Budget``):
every event is stamped with the release id and delta, checked against the
release's own guarantee (its events composed alone must stay within
(epsilon, delta)) *and* against the ledger, and recorded before its noise is
drawn. The entries it created link a model to the ledger.

>>> from privsynth.accounting import Accountant, DiscreteLaplaceEvent
>>> acct = Accountant(epsilon=1.0)
>>> rel = acct.open_release("fit-1", epsilon=0.5)
>>> _ = rel.spend(DiscreteLaplaceEvent(0.3), label="hist")
>>> rel.spend(DiscreteLaplaceEvent(0.3), label="table")
Traceback (most recent call last):
...
privsynth.errors.BudgetExceededError: refused 'table': release 'fit-1' states epsilon 0.5 ...
>>> rel.guarantee().epsilon, [e.release for e in rel.entries]
(0.3, ['fit-1'])
>>> acct.open_release("fit-1", epsilon=0.1)
Traceback (most recent call last):
...
privsynth.errors.ParameterError: release id 'fit-1' is already in the ledger; ...
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from privsynth.accounting.compose import Spent, compose
from privsynth.accounting.events import Event
from privsynth.accounting.ledger import LedgerEntry
from privsynth.errors import BudgetExceededError, ParameterError

if TYPE_CHECKING:
    from privsynth.accounting.accountant import Accountant

_REL_TOL = 1e-9
_RELEASE_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9 ._:@+/-]{0,126}[A-Za-z0-9._:@+/-])?$")


def check_release_id(release: object) -> str:
    """A release id: 1-128 letters, digits, spaces and ``._:@+/-``, starting with a letter or
    digit and not ending with a space.

    >>> check_release_id("adult-2024-05")
    'adult-2024-05'
    """
    if not isinstance(release, str) or not _RELEASE_ID.match(release):
        raise ParameterError(
            f"release={release!r}; allowed: 1 to 128 letters, digits, spaces and . _ : @ + / -, "
            "starting with a letter or digit (e.g. 'adult-2024-05')")
    return release


class Release:
    """The spends of one release, bounded by its own (epsilon, delta). See the module docstring.

    Parameters
    ----------
    accountant : Accountant
        The data set's accountant.
    release : str
        A release id not yet in the ledger.
    epsilon, delta : float
        The release's own guarantee: its events, composed alone at ``delta``,
        never exceed ``epsilon``.
    label : str
        Names the release in refusal messages.
    """

    def __init__(self, accountant: Accountant, release: str, *, epsilon: float,
                 delta: float = 0.0, label: str = "release") -> None:
        from privsynth._checks import check_delta, check_epsilon

        self.accountant = accountant
        self.release = check_release_id(release)
        self.epsilon = check_epsilon(epsilon)
        self.delta = check_delta(delta)
        if release in accountant.releases():
            raise ParameterError(
                f"release id {release!r} is already in the ledger; a release id names one "
                "fit, so two fits never merge into one release. Choose another id.")
        accountant.check_release(self.epsilon, self.delta, label=label)
        self._entries: list[LedgerEntry] = []

    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        """The entries this release recorded, oldest first (chained: they carry ids)."""
        return tuple(self._entries)

    @property
    def events(self) -> list[Event]:
        return [e.event for e in self._entries]

    def guarantee(self, events: Sequence[Event] = ()) -> Spent:
        """This release's own events (plus ``events``) composed alone at its delta."""
        return compose([*self.events, *events], self.delta)

    def remaining_epsilon(self) -> float:
        return max(0.0, self.epsilon - self.guarantee().epsilon)

    def spend(self, event: Event, *, label: str, release: str = "",
              reproducible_noise: bool = False) -> LedgerEntry:
        """Check and record one event of this release; call before drawing its noise."""
        return self.spend_many([(label, event)], reproducible_noise=reproducible_noise)[0]

    def spend_many(self, items: Sequence[tuple[str, Event]], *,
                   reproducible_noise: bool = False) -> list[LedgerEntry]:
        """Check several events against the release's guarantee and the ledger; record them."""
        own = self.guarantee([e for _, e in items])
        if not own.epsilon <= self.epsilon * (1 + _REL_TOL) + 1e-12:
            label = items[0][0] if items else "request"
            extra = "" if math.isfinite(own.epsilon) else \
                f" (these events need a delta above the release's {self.delta:.3g})"
            raise BudgetExceededError(
                f"refused {label!r}: release {self.release!r} states epsilon {self.epsilon:g} "
                f"(delta {self.delta:.3g}) and its events would compose to "
                f"{own.epsilon:.4g}{extra}. Nothing was drawn or recorded.")
        made = self.accountant.spend_many(items, release=self.release,
                                          release_delta=self.delta,
                                          reproducible_noise=reproducible_noise)
        self._entries.extend(made)
        return made


__all__ = ["Release", "check_release_id"]

"""Composition: the one place that decides what a set of privacy events costs together.

:func:`compose` gives the tightest of several valid (epsilon, delta) bounds of
a list of events:

- ``sum``: exact additive composition when every event is pure epsilon-DP
  (dp-accounting's PLD returns infinity for these at delta = 0);
- ``pld``: privacy loss distributions (dp-accounting, pessimistic estimates);
- ``rdp``: Renyi DP (dp-accounting), when every event has an RDP description;
- ``sum+pld``: the pure events added up, the others composed by PLD.

:func:`compose_entries` composes a *ledger*: its entries are grouped by
release, and each release states its own guarantee at its own delta
(``release_delta``). Besides the joint composition of everything, the total
may use basic composition over releases (their epsilons add up, their deltas
add up), which is always valid. Formally, for the first ``k`` releases and a
delta ``D``::

    T(k, D) = min( joint(releases 1..k, D),  T(k-1, D - delta_k) + own_k )

where ``own_k`` is release ``k``'s events composed alone at ``delta_k``. The
ledger's total is ``T(all, delta of the budget)``. Two consequences matter to
users: the data set's epsilon is never more than the sum of its releases'
epsilons, and a new release of (epsilon, delta) fits whenever
``T(all, budget delta - delta) + epsilon`` is within the budget, which can
be checked *before* the release touches any data.

>>> from privsynth.accounting.events import LaplaceEvent, SubsampledGaussianEvent
>>> compose([LaplaceEvent(0.3), LaplaceEvent(0.2)], delta=0.0)
Spent(epsilon=0.5, delta=0.0, method='sum')
>>> s = compose([SubsampledGaussianEvent(0.01, 1.0, 10_000)], delta=1e-5)
>>> round(s.epsilon, 2), s.method
(6.19, 'pld')
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from privsynth.accounting.events import MAX_PLD_COMPOSITIONS, Event, self_compose

if TYPE_CHECKING:
    from privsynth.accounting.ledger import LedgerEntry

# RDP orders: dense near 1 and wide, so that "optimal order is the largest" does not
# happen for the budgets we see.
RDP_ORDERS: tuple[float, ...] = tuple(
    [1 + x / 10.0 for x in range(1, 100)] + list(range(11, 64)) + [80, 128, 256, 512, 1024]
)

# A PLD's discretized support grows with an event's epsilon and integer sensitivity;
# beyond these bounds (far above any real budget) it can take minutes and gigabytes
# (found by fuzzing forged ledgers), so the event is composed by sum or RDP instead.
_PLD_MAX_EPSILON = 20.0
_PLD_MAX_SENSITIVITY = 1000
_PLD_MAX_RDP_EPSILON = 50.0


@dataclass(frozen=True)
class Spent:
    """A composed privacy guarantee and the method that proved it."""

    epsilon: float
    delta: float
    method: str


@lru_cache(maxsize=128)
def _event_pld(event: Event, count: int) -> Any:
    """The PLD of ``count`` compositions of ``event`` (cached: calibration searches compose
    the same earlier events with many candidate noise levels)."""
    with np.errstate(over="ignore", under="ignore"):
        return self_compose(event.to_pld(), count)


@lru_cache(maxsize=512)
def _pld_epsilon(events: tuple[tuple[Event, int], ...], delta: float) -> float:
    """Epsilon at ``delta`` of the PLD composition of (event, multiplicity) pairs."""
    total = None
    # For epsilons in the hundreds, exp(-epsilon) underflows and scipy warns of an
    # overflow inside the discrete Laplace PLD; the (pessimistic) result is still right.
    with np.errstate(over="ignore", under="ignore"):
        for event, count in events:
            one = _event_pld(event, count)
            total = one if total is None else total.compose(one)
        if total is None:
            return 0.0
        return float(total.get_epsilon_for_delta(delta))


def _pld_cheap(groups: tuple[tuple[Event, int], ...]) -> bool:
    """Whether no (event, multiplicity) group self-composes more than MAX_PLD_COMPOSITIONS
    times (beyond it the PLD's support grows past millions of points: RDP instead)."""
    return all(e.compositions * count <= MAX_PLD_COMPOSITIONS for e, count in groups)


def _pld_safe(event: Event, delta: float) -> bool:
    """Whether building ``event``'s PLD is cheap (see ``_PLD_MAX_*``) and defined."""
    if not event.has_pld:
        return False
    sens = getattr(event, "sensitivity", 1)
    if isinstance(sens, int) and sens > _PLD_MAX_SENSITIVITY:
        return False
    eps = event.pure_epsilon if event.pure_epsilon is not None else getattr(event, "epsilon", None)
    if isinstance(eps, int | float):
        return eps <= _PLD_MAX_EPSILON
    return _rdp_epsilon(((event, 1),), delta) <= _PLD_MAX_RDP_EPSILON


class _DropUnconvergedOrders(logging.Filter):
    """Drops dp-accounting's note that an RDP order did not converge.

    dp-accounting computes the RDP of a subsampled Gaussian at fractional
    orders by a series that does not converge for orders near 1 at large
    sampling rates; it then excludes that order (its RDP is infinite), which
    leaves a valid, slightly looser bound, and logs one warning per order and
    event (hundreds per DP-CTGAN fit). The exclusion is the handling; the
    message carries no news, so exactly that message is dropped while our own
    RDP computation runs. Every other log record passes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("_compute_log_a_frac failed to converge")


@contextlib.contextmanager
def _quiet_rdp() -> Iterator[None]:
    absl = logging.getLogger("absl")
    flt = _DropUnconvergedOrders()
    absl.addFilter(flt)
    try:
        yield
    finally:
        absl.removeFilter(flt)


@lru_cache(maxsize=512)
def _rdp_epsilon(events: tuple[tuple[Event, int], ...], delta: float) -> float:
    from dp_accounting.rdp import RdpAccountant

    acc = RdpAccountant(orders=list(RDP_ORDERS))
    try:
        with _quiet_rdp():
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
    if all(_pld_safe(e, delta) for e in set(other)) and _pld_cheap(grouped_other):
        if all(_pld_safe(e, delta) for e in set(pure)) and _pld_cheap(grouped_all):
            candidates.append(Spent(_pld_epsilon(grouped_all, delta), delta, "pld"))
        candidates.append(Spent(pure_sum + _pld_epsilon(grouped_other, delta), delta, "sum+pld"))
    if own_delta == 0:
        candidates.append(Spent(_rdp_epsilon(grouped_all, delta), delta, "rdp"))
    if not candidates:  # no method applies cheaply: no finite guarantee is claimed
        return Spent(math.inf, delta, "none")
    return min(candidates, key=lambda s: s.epsilon)


@dataclass(frozen=True)
class _Group:
    events: tuple[Event, ...]
    delta: float | None  # the release's own delta; None: the release states no guarantee


def release_groups(entries: Sequence[LedgerEntry]) -> list[_Group]:
    """Entries grouped by release, in order of first appearance.

    Entries without a release id are each a group of their own, with their
    ``release_delta`` (a pure event without one counts at delta 0).
    """
    order: list[str | int] = []
    events: dict[str | int, list[Event]] = {}
    deltas: dict[str | int, float | None] = {}
    for i, e in enumerate(entries):
        key: str | int = e.release if e.release else i
        if key not in events:
            order.append(key)
            events[key] = []
            rd = e.release_delta
            deltas[key] = 0.0 if rd is None and e.event.pure_epsilon is not None else rd
        events[key].append(e.event)
        if deltas[key] is not None and e.release_delta is not None:
            deltas[key] = max(deltas[key] or 0.0, e.release_delta)
    return [_Group(tuple(events[k]), deltas[k]) for k in order]


def _compose_groups(groups: Sequence[_Group], delta: float) -> Spent:
    """T(len(groups), delta), computed bottom-up (no recursion: ledgers may be long)."""
    if not groups:
        return Spent(0.0, 0.0, "none")
    if all(e.pure_epsilon is not None for g in groups for e in g.events):
        return compose([e for g in groups for e in g.events], delta)
    # deltas[k]: the delta at which the first k+1 groups are composed on the split path
    deltas: list[float | None] = [None] * len(groups)
    deltas[-1] = delta
    for k in range(len(groups) - 1, 0, -1):
        dk, g = deltas[k], groups[k]
        deltas[k - 1] = None if dk is None or g.delta is None or g.delta > dk else dk - g.delta
    best = Spent(0.0, 0.0, "none")
    for k, g in enumerate(groups):
        dk = deltas[k]
        if dk is None:  # the split path does not reach below here
            continue
        joint = compose([e for h in groups[:k + 1] for e in h.events], dk)
        if k > 0 and deltas[k - 1] is not None and g.delta is not None:
            split = best.epsilon + compose(g.events, g.delta).epsilon
            if split < joint.epsilon:
                best = Spent(split, dk, "release-sum")
                continue
        best = joint
    return best


def compose_entries(entries: Sequence[LedgerEntry], delta: float) -> Spent:
    """The total of ledger ``entries`` at the budget's ``delta`` (see the module docstring).

    >>> from privsynth.accounting.ledger import Ledger
    >>> from privsynth.accounting.events import LaplaceEvent
    >>> led = Ledger()
    >>> _ = led.append(LaplaceEvent(0.5), label="a", release="r1", release_delta=0.0)
    >>> _ = led.append(LaplaceEvent(0.25), label="b", release="r2", release_delta=0.0)
    >>> compose_entries(led.entries, 0.0)
    Spent(epsilon=0.75, delta=0.0, method='sum')
    """
    return _compose_groups(release_groups(entries), delta)


def compose_with_new_release(entries: Sequence[LedgerEntry], budget_delta: float,
                             epsilon: float, delta: float) -> float:
    """Upper bound of the ledger total after a new release of own guarantee (epsilon, delta).

    This is ``T(all, budget_delta - delta) + epsilon``: whatever events the new
    release draws, as long as they compose alone to at most ``epsilon`` at
    ``delta``, the ledger's total will be at most this. Returns inf when the
    deltas do not fit.
    """
    if delta > budget_delta:
        return math.inf
    before = _compose_groups(release_groups(entries), budget_delta - delta)
    return before.epsilon + epsilon


__all__ = ["RDP_ORDERS", "Spent", "compose", "compose_entries", "compose_with_new_release",
           "release_groups"]

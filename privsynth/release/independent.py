"""An independent recomputation of privsynth's privacy claims from the files alone.

An auditor should not have to trust the code that made a claim in order to
check it. This module therefore imports **nothing from privsynth**: from the
JSON of a ledger file and of a model's ledger entries, it recomputes

- the hash chain, with the recipes of ``docs/accounting.md`` (canonical JSON,
  the genesis of the header, every entry's id and ``prev``, the head);
- every epsilon, by rebuilding each event from its JSON parameters into
  dp-accounting's privacy loss distributions (PLD) and Renyi-DP events
  directly, composing them, and applying the release recursion of
  ``docs/accounting.md``::

      T(k, D) = min( joint(releases 1..k, D),  T(k-1, D - delta_k) + own_k )

It does not call ``privsynth.accounting`` (not ``compose``, not the events'
own ``to_pld``), so a bug there cannot hide itself here; what the two share
is only the documented definition and dp-accounting. ``joint`` is the
smallest of the same valid bounds privsynth uses (the exact sum when every
event is pure; PLD of all events; the pure events summed plus the PLD of the
others; RDP when no event has its own delta): an independent value is an
upper bound proven by dp-accounting, and a stated epsilon is *confirmed* when
it is at least that value, up to :data:`RELATIVE_TOLERANCE` (PLD
discretization), or only :data:`PURE_RELATIVE_TOLERANCE` (float rounding) when
every event is pure and the value is an exact sum.

Parameters of forged files are bounded before any computation (as privsynth
bounds them): an event outside the bounds (a parameter outside [1e-12, 1e12],
more than :data:`MAX_DPSGD_STEPS` DP-SGD steps) is refused with
:class:`RecomputeError`; PLDs are built only where their support stays small
(otherwise the bound comes from RDP), and no (event, multiplicity) group is
self-composed more than :data:`MAX_PLD_COMPOSITIONS` times (about 2 s at
worst, measured). Each distinct non-pure event still costs a PLD (up to about
half a second each), so the time grows with the number of distinct events a
file holds: a file's size limit bounds that, not this module.

>>> entries = [{"event": {"kind": "discrete_laplace", "epsilon": 0.25, "sensitivity": 1},
...             "release": "r1", "release_delta": 0.0},
...            {"event": {"kind": "laplace", "epsilon": 0.5, "sensitivity": 1.0},
...             "release": "r2", "release_delta": 0.0}]
>>> ledger_epsilon(entries, budget_delta=0.0)
0.75
>>> round(release_epsilon([{"kind": "subsampled_gaussian", "sampling_rate": 0.01,
...                         "noise_multiplier": 1.0, "steps": 10_000}], delta=1e-5), 2)
6.19
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

#: A stated epsilon is confirmed when ``stated >= recomputed * (1 - RELATIVE_TOLERANCE)``:
#: PLDs are discretized (grid 1e-4, pessimistic), and the order in which equal events
#: are composed moves the last digits.
RELATIVE_TOLERANCE = 1e-3
#: The tolerance when every event is pure: the recomputation is then an exact sum, and
#: only float rounding of sums (which a release lets through, relative 1e-9) may differ.
PURE_RELATIVE_TOLERANCE = 1e-9

_GRID = 1e-4
_ORDERS = tuple([1 + x / 10.0 for x in range(1, 100)] + list(range(11, 64))
                + [80, 128, 256, 512, 1024])
# Bounds on forged parameters (as privsynth's): beyond them a PLD takes minutes.
_MIN, _MAX = 1e-12, 1e12
_PLD_MAX_EPSILON = 20.0
_PLD_MAX_SENSITIVITY = 1000
_PLD_MAX_RDP_EPSILON = 50.0
#: The most DP-SGD steps one ``subsampled_gaussian`` event may hold (privsynth's bound).
MAX_DPSGD_STEPS = 10**7
#: The most compositions (steps times identical events) one PLD self-composition runs;
#: above it the group is composed by RDP only (privsynth's bound).
MAX_PLD_COMPOSITIONS = 10**7
_SPARSE_MAX = 1000  # dp-accounting composes a sparse PMF densely once size**n exceeds it
_GENESIS_TAG = "privsynth.ledger.genesis.v2\n"
_ENTRY_TAG = "privsynth.ledger.entry.v2\n"
_HEADER = ("format", "version", "budget", "dataset", "unit")


class RecomputeError(ValueError):
    """A file holds something the recomputation cannot read (an unknown or invalid event)."""


# ---------------------------------------------------------------------------
# hashes (docs/accounting.md, "Hash recipes")
# ---------------------------------------------------------------------------
def canonical(obj: Any) -> str:
    """The canonical JSON text every ledger hash is taken over.

    >>> canonical({"b": 0.5, "a": [True, None]})
    '{"a":[true,null],"b":0.5}'
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def _sha(tag: str, obj: Any) -> str:
    return hashlib.sha256((tag + canonical(obj)).encode("utf-8")).hexdigest()


def genesis(doc: Mapping[str, Any]) -> str:
    """The genesis of a ledger document: the hash of its header fields."""
    return _sha(_GENESIS_TAG, {k: doc.get(k) for k in _HEADER})


def entry_id(entry: Mapping[str, Any]) -> str:
    """The id an entry must carry: the hash of every field but ``id``."""
    return _sha(_ENTRY_TAG, {k: v for k, v in entry.items() if k != "id"})


def chain_problems(doc: Mapping[str, Any]) -> list[str]:
    """Every way the ledger document breaks its hash chain (empty: the chain holds).

    Checks the genesis against the header, each entry's id against its body,
    each ``prev`` against the entry before it (the genesis for the first),
    and the ``head`` against the last entry.
    """
    problems = []
    entries = doc.get("entries")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return ["its entries are not a list of objects"]
    try:
        gen = genesis(doc)
    except (TypeError, ValueError):
        return ["its header cannot be hashed (not plain JSON)"]
    if doc.get("genesis") != gen:
        problems.append("its genesis does not match its budget and data-set header (the "
                        "header was edited)")
    prev = doc.get("genesis")
    for i, e in enumerate(entries, start=1):
        if e.get("prev") != prev:
            problems.append(f"entry {i} does not follow entry {i - 1} (an entry was removed, "
                            "reordered or inserted)")
            break
        try:
            ok = e.get("id") == entry_id(e)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            problems.append(f"entry {i} does not match its id (the entry was edited)")
            break
        prev = e.get("id")
    else:
        if doc.get("head") != prev:
            problems.append("its head is not its last entry (entries were removed or added)")
    return problems


# ---------------------------------------------------------------------------
# events, rebuilt from their JSON (the table of docs/accounting.md)
# ---------------------------------------------------------------------------
_PARAMS: dict[str, dict[str, type]] = {
    "laplace": {"epsilon": float, "sensitivity": float},
    "discrete_laplace": {"epsilon": float, "sensitivity": int},
    "exponential": {"epsilon": float},
    "pure_dp": {"epsilon": float, "mechanism": str},
    "approx_dp": {"epsilon": float, "approx_delta": float, "mechanism": str},
    "gaussian": {"sigma": float, "sensitivity": float},
    "discrete_gaussian": {"sigma": float, "sensitivity": int},
    "subsampled_gaussian": {"sampling_rate": float, "noise_multiplier": float, "steps": int},
}
_DEFAULTS = {"sensitivity": 1, "mechanism": ""}


@dataclass(frozen=True)
class _Event:
    kind: str
    epsilon: float = 0.0
    sensitivity: float = 1.0
    delta: float = 0.0
    sigma: float = 0.0
    rate: float = 0.0
    steps: int = 1

    @property
    def pure(self) -> float | None:
        if self.kind in ("laplace", "discrete_laplace", "exponential", "pure_dp"):
            return self.epsilon
        if self.kind == "approx_dp" and self.delta == 0:
            return self.epsilon
        return None


def _number(kind: str, name: str, value: object, typ: type) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RecomputeError(f"event {kind!r}: {name} must be a finite number")
    if typ is int and not float(value).is_integer():
        raise RecomputeError(f"event {kind!r}: {name} must be an integer")
    return float(value)


def read_event(data: object) -> _Event:
    """An event's JSON checked and normalized; RecomputeError when it is not a known event."""
    if not isinstance(data, Mapping) or data.get("kind") not in _PARAMS:
        kind = data.get("kind") if isinstance(data, Mapping) else None
        raise RecomputeError(f"unknown privacy event kind {kind!r}")
    kind = str(data["kind"])
    spec = _PARAMS[kind]
    extra = set(data) - set(spec) - {"kind"}
    if extra:
        raise RecomputeError(f"event {kind!r} has unknown parameters {sorted(extra)}")
    vals: dict[str, float] = {}
    for name, typ in spec.items():
        value = data.get(name, _DEFAULTS.get(name))
        if typ is str:
            if not isinstance(value, str):
                raise RecomputeError(f"event {kind!r}: {name} must be text")
            continue
        if value is None:
            raise RecomputeError(f"event {kind!r} lacks its parameter {name!r}")
        vals[name] = _number(kind, name, value, typ)
    for name, v in vals.items():
        if name == "approx_delta":
            if not 0 <= v < 1:
                raise RecomputeError(f"event {kind!r}: approx_delta must be in [0, 1)")
        elif name == "sampling_rate":
            if not 0 < v <= 1:
                raise RecomputeError(f"event {kind!r}: sampling_rate must be in (0, 1]")
        elif not _MIN <= v <= _MAX:
            raise RecomputeError(f"event {kind!r}: {name} is outside [{_MIN:g}, {_MAX:g}]")
        elif name == "steps" and v > MAX_DPSGD_STEPS:
            raise RecomputeError(f"event {kind!r}: steps is above {MAX_DPSGD_STEPS:,}")
    return _Event(kind, epsilon=vals.get("epsilon", 0.0),
                  sensitivity=vals.get("sensitivity", 1.0), delta=vals.get("approx_delta", 0.0),
                  sigma=vals.get("sigma", vals.get("noise_multiplier", 0.0)),
                  rate=vals.get("sampling_rate", 0.0), steps=int(vals.get("steps", 1)))


@lru_cache(maxsize=256)
def _pld_of(ev: _Event, count: int, delta: float) -> Any:
    """The PLD of ``count`` compositions of ``ev``, or None when no PLD is valid or cheap.

    dp-accounting's pessimistic PLDs. ``delta`` (the target) decides whether an
    approximate event's PLD is cheap enough to build (as privsynth decides).

    Laplace kinds with sensitivity 1 use their own PLD; above 1 (a privacy unit
    may move several cells) the generic pure epsilon-DP pair, which dominates
    every epsilon-DP mechanism. The discrete Gaussian above sensitivity 1 has
    no PLD here (zCDP through RDP only).
    """
    if ev.steps * count > MAX_PLD_COMPOSITIONS:
        return None
    one = _pld_one(ev, delta)
    if one is None or count == 1:
        return one
    return _self_compose(one, count)


def _self_compose(one: Any, times: int) -> Any:
    """``one.self_compose(times)`` without dp-accounting's ``size ** times`` big number.

    dp-accounting composes a sparse PMF by a loop while ``size ** times`` is at
    most 1000 and densely otherwise, deciding by computing that power exactly
    (hours for 10^12); a size of 2 or more passes 1000 by 10 compositions, so
    the same path is taken here without the power. A one-point PMF is made
    dense above 1000 compositions.
    """
    from dp_accounting.pld import privacy_loss_distribution as pld

    if times <= 1:
        return one

    def dense_if_large(pmf: Any) -> Any:
        size = int(pmf.size)
        large = (times >= 10 or size ** times > _SPARSE_MAX) if size >= 2 \
            else times > _SPARSE_MAX
        return pmf.to_dense_pmf() if large else pmf

    remove = dense_if_large(one._pmf_remove)
    add = None if one._symmetric else dense_if_large(one._pmf_add)
    return pld.PrivacyLossDistribution(remove, add).self_compose(times)


def _pld_one(ev: _Event, delta: float) -> Any:
    from dp_accounting.pld import common
    from dp_accounting.pld import privacy_loss_distribution as pld

    if ev.sensitivity > _PLD_MAX_SENSITIVITY:
        return None
    if ev.pure is not None and ev.epsilon > _PLD_MAX_EPSILON:
        return None
    if ev.kind == "approx_dp":
        if ev.epsilon > _PLD_MAX_EPSILON:
            return None
        return pld.from_privacy_parameters(
            common.DifferentialPrivacyParameters(ev.epsilon, ev.delta),
            value_discretization_interval=_GRID)
    if ev.kind == "laplace" and ev.sensitivity == 1:
        return pld.from_laplace_mechanism(1.0 / ev.epsilon, sensitivity=1.0,
                                          value_discretization_interval=_GRID)
    if ev.kind == "discrete_laplace" and ev.sensitivity == 1:
        return pld.from_discrete_laplace_mechanism(ev.epsilon, sensitivity=1,
                                                   value_discretization_interval=_GRID)
    if ev.pure is not None:
        return pld.from_privacy_parameters(
            common.DifferentialPrivacyParameters(ev.epsilon, 0.0),
            value_discretization_interval=_GRID)
    if _rdp_epsilon(((ev, 1),), delta) > _PLD_MAX_RDP_EPSILON:
        return None
    if ev.kind == "gaussian":
        return pld.from_gaussian_mechanism(ev.sigma, sensitivity=ev.sensitivity,
                                           value_discretization_interval=_GRID)
    if ev.kind == "discrete_gaussian":
        if ev.sensitivity != 1:
            return None
        return pld.from_discrete_gaussian_mechanism(ev.sigma, sensitivity=1,
                                                    value_discretization_interval=_GRID)
    one = pld.from_gaussian_mechanism(ev.sigma, sampling_prob=ev.rate,
                                      value_discretization_interval=_GRID,
                                      use_connect_dots=True)
    return _self_compose(one, ev.steps)


def _rdp_event(ev: _Event) -> Any:
    import dp_accounting as dpa

    if ev.pure is not None and ev.kind != "approx_dp":  # epsilon-DP => epsilon^2/2-zCDP
        return dpa.ZCDpEvent(rho=ev.epsilon ** 2 / 2)
    if ev.kind == "gaussian":
        return dpa.GaussianDpEvent(noise_multiplier=ev.sigma / ev.sensitivity)
    if ev.kind == "discrete_gaussian":  # same zCDP as the continuous Gaussian
        return dpa.ZCDpEvent(rho=ev.sensitivity ** 2 / (2 * ev.sigma ** 2))
    if ev.kind == "subsampled_gaussian":
        one = dpa.PoissonSampledDpEvent(ev.rate, dpa.GaussianDpEvent(ev.sigma))
        return dpa.SelfComposedDpEvent(one, ev.steps)
    return None  # approx_dp with delta > 0 (and pure approx_dp, which is summed anyway)


@lru_cache(maxsize=512)
def _rdp_epsilon(events: tuple[tuple[_Event, int], ...], delta: float) -> float:
    import logging

    from dp_accounting.rdp import RdpAccountant

    acc = RdpAccountant(orders=list(_ORDERS))
    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)  # orders that do not converge are dropped; nothing to say
    try:
        for ev, count in events:
            dp_event = _rdp_event(ev)
            if dp_event is None:
                return math.inf
            acc.compose(dp_event, count)
        return float(acc.get_epsilon(delta))
    except (OverflowError, FloatingPointError, ZeroDivisionError, ValueError):
        return math.inf
    finally:
        absl.setLevel(level)


@lru_cache(maxsize=512)
def _pld_epsilon(events: tuple[tuple[_Event, int], ...], delta: float) -> float:
    import numpy as np

    total = None
    with np.errstate(over="ignore", under="ignore"):
        for ev, count in events:
            one = _pld_of(ev, count, delta)
            if one is None:
                return math.inf
            total = one if total is None else total.compose(one)
        return 0.0 if total is None else float(total.get_epsilon_for_delta(delta))


def joint_epsilon(events: Sequence[_Event], delta: float) -> float:
    """The tightest of the valid bounds for ``events`` composed together, at ``delta``."""
    if not events:
        return 0.0
    pure = [e for e in events if e.pure is not None]
    other = [e for e in events if e.pure is None]
    pure_sum = math.fsum(e.pure for e in pure)  # type: ignore[misc]
    if not other:
        return pure_sum
    own_delta = math.fsum(e.delta for e in other)
    if delta <= 0 or own_delta >= delta:
        return math.inf
    every = tuple(sorted(Counter(events).items(), key=repr))
    best = pure_sum + _pld_epsilon(tuple(sorted(Counter(other).items(), key=repr)), delta)
    if all(e.sensitivity <= _PLD_MAX_SENSITIVITY and e.epsilon <= _PLD_MAX_EPSILON
           for e in pure):
        best = min(best, _pld_epsilon(every, delta))
    if own_delta == 0:
        best = min(best, _rdp_epsilon(every, delta))
    return best


def release_epsilon(events: Sequence[Mapping[str, Any]], delta: float) -> float:
    """One release's own epsilon: its events' JSON composed alone at ``delta``."""
    return joint_epsilon([read_event(e) for e in events], float(delta))


def _groups(entries: Sequence[Mapping[str, Any]]) -> list[tuple[list[_Event], float | None]]:
    """Entries grouped by release id in order of first appearance, with the release's delta.

    An entry without a release id is a group of its own. A group's delta is
    its first entry's ``release_delta`` (a pure event without one counts at
    delta 0, any other at None: no own guarantee) and the largest stated by
    its later entries, unless it is None.
    """
    order: list[object] = []
    events: dict[object, list[_Event]] = {}
    deltas: dict[object, float | None] = {}
    for i, e in enumerate(entries):
        rel = e.get("release") or ""
        if not isinstance(rel, str):
            raise RecomputeError("an entry's release id is not text")
        rd = e.get("release_delta")
        if rd is not None and (isinstance(rd, bool) or not isinstance(rd, int | float)
                               or not 0 <= rd < 1):
            raise RecomputeError("an entry's release_delta is not null or in [0, 1)")
        ev = read_event(e.get("event"))
        key: object = rel if rel else ("#", i)
        if key not in events:
            order.append(key)
            events[key] = []
            deltas[key] = 0.0 if rd is None and ev.pure is not None else \
                (None if rd is None else float(rd))
        events[key].append(ev)
        if deltas[key] is not None and rd is not None:
            deltas[key] = max(deltas[key] or 0.0, float(rd))
    return [(events[k], deltas[k]) for k in order]


def ledger_epsilon(entries: Sequence[Mapping[str, Any]], budget_delta: float) -> float:
    """The data set's epsilon: ledger entries (JSON) composed by the release recursion.

    ``T(k, D) = min(joint(1..k, D), T(k-1, D - delta_k) + own_k)`` where
    ``own_k`` is release k's events alone at its own delta ``delta_k``;
    returns ``T(all, budget_delta)``.
    """
    groups = _groups(entries)
    if not groups:
        return 0.0
    if all(ev.pure is not None for evs, _ in groups for ev in evs):
        return joint_epsilon([ev for evs, _ in groups for ev in evs], budget_delta)
    # the delta available to the first k groups on the path that splits off later releases
    avail: list[float | None] = [None] * len(groups)
    avail[-1] = float(budget_delta)
    for k in range(len(groups) - 1, 0, -1):
        d, own = avail[k], groups[k][1]
        avail[k - 1] = None if d is None or own is None or own > d else d - own
    best = math.inf
    for k, (evs, own_delta) in enumerate(groups):
        d = avail[k]
        if d is None:
            continue
        value = joint_epsilon([ev for g in groups[:k + 1] for ev in g[0]], d)
        if k > 0 and avail[k - 1] is not None and own_delta is not None:
            value = min(value, best + joint_epsilon(evs, own_delta))
        best = value
    return best


def all_pure(events: Sequence[object]) -> bool:
    """Whether every event's JSON is a pure epsilon-DP event (then epsilons add exactly).

    >>> all_pure([{"kind": "laplace", "epsilon": 0.5}])
    True
    >>> all_pure([{"kind": "gaussian", "sigma": 2.0}])
    False
    """
    return all(read_event(e).pure is not None for e in events)


def confirms(stated: float, recomputed: float, *, pure: bool = False) -> bool:
    """Whether a stated epsilon is at least the recomputed one (up to the tolerance).

    ``pure``: every event is pure, so ``recomputed`` is an exact sum and only
    float rounding is tolerated (:data:`PURE_RELATIVE_TOLERANCE`); otherwise
    the PLD/RDP tolerance :data:`RELATIVE_TOLERANCE`.

    >>> confirms(0.4996, 0.5), confirms(0.4996, 0.5, pure=True)
    (True, False)
    >>> confirms(0.30000000000000004, 0.3, pure=True), confirms(0.3, 0.1 + 0.2, pure=True)
    (True, True)
    """
    if math.isnan(stated) or math.isnan(recomputed):
        return False
    if math.isinf(recomputed):
        return math.isinf(stated)
    tol = PURE_RELATIVE_TOLERANCE if pure else RELATIVE_TOLERANCE
    return stated >= recomputed * (1 - tol) - 1e-12


__all__ = ["MAX_DPSGD_STEPS", "MAX_PLD_COMPOSITIONS", "PURE_RELATIVE_TOLERANCE",
           "RELATIVE_TOLERANCE", "RecomputeError", "all_pure", "canonical", "chain_problems",
           "confirms", "entry_id", "genesis", "joint_epsilon", "ledger_epsilon", "read_event",
           "release_epsilon"]

"""Ledger totals recomputed from a ledger's JSON with dp-accounting directly (not privsynth).

Tests use this to check every epsilon privsynth states against an independent
computation: the events are rebuilt from their JSON parameters into
dp-accounting privacy loss distributions and RDP events here, and the release
recursion of ``docs/accounting.md`` is written out again. Nothing of
``privsynth`` is imported.

- ``ledger_total(doc)``: the total epsilon of a ledger document (its JSON) at the
  budget's delta;
- ``release_epsilon(events, delta)``: one release's own epsilon, from its events' JSON.

A stated epsilon is proven when it is at least the value computed here (up to
the PLD's discretization, ~1e-3 relative).
"""

from __future__ import annotations

import math
from typing import Any

_GRID = 1e-4
_ORDERS = [1 + x / 10.0 for x in range(1, 100)] + list(range(11, 64)) + [80, 128, 256, 512, 1024]
_PURE = ("laplace", "exponential", "pure_dp", "discrete_laplace")


def _pure_eps(ev: dict[str, Any]) -> float | None:
    if ev["kind"] in _PURE:
        return float(ev["epsilon"])
    if ev["kind"] == "approx_dp" and ev["approx_delta"] == 0:
        return float(ev["epsilon"])
    return None


def _pld(ev: dict[str, Any]) -> Any:
    """A pessimistic PLD of the event, or None when none is valid for every change."""
    from dp_accounting.pld import common
    from dp_accounting.pld import privacy_loss_distribution as p

    kind = ev["kind"]
    sens = ev.get("sensitivity", 1)
    if kind == "discrete_laplace" and sens == 1:
        return p.from_discrete_laplace_mechanism(ev["epsilon"], sensitivity=1,
                                                 value_discretization_interval=_GRID)
    if kind == "laplace" and sens == 1:
        return p.from_laplace_mechanism(1.0 / ev["epsilon"], sensitivity=1.0,
                                        value_discretization_interval=_GRID)
    if kind in _PURE:  # any pure epsilon-DP mechanism: the generic dominating pair
        return p.from_privacy_parameters(common.DifferentialPrivacyParameters(ev["epsilon"], 0.0),
                                         value_discretization_interval=_GRID)
    if kind == "approx_dp":
        return p.from_privacy_parameters(
            common.DifferentialPrivacyParameters(ev["epsilon"], ev["approx_delta"]),
            value_discretization_interval=_GRID)
    if kind == "gaussian":
        return p.from_gaussian_mechanism(ev["sigma"], sensitivity=ev["sensitivity"],
                                         value_discretization_interval=_GRID)
    if kind == "discrete_gaussian":
        if sens != 1:
            return None  # several cells may move: zCDP only
        return p.from_discrete_gaussian_mechanism(ev["sigma"], sensitivity=1,
                                                  value_discretization_interval=_GRID)
    if kind == "subsampled_gaussian":
        one = p.from_gaussian_mechanism(ev["noise_multiplier"], sampling_prob=ev["sampling_rate"],
                                        value_discretization_interval=_GRID,
                                        use_connect_dots=True)
        return one.self_compose(ev["steps"]) if ev["steps"] > 1 else one
    raise AssertionError(f"unknown event kind {kind}")


def _rdp_event(ev: dict[str, Any]) -> Any:
    import dp_accounting as dpa

    kind = ev["kind"]
    if kind in _PURE:
        return dpa.ZCDpEvent(rho=ev["epsilon"] ** 2 / 2)
    if kind == "gaussian":
        return dpa.GaussianDpEvent(noise_multiplier=ev["sigma"] / ev["sensitivity"])
    if kind == "discrete_gaussian":
        return dpa.ZCDpEvent(rho=ev["sensitivity"] ** 2 / (2 * ev["sigma"] ** 2))
    if kind == "subsampled_gaussian":
        one = dpa.PoissonSampledDpEvent(ev["sampling_rate"],
                                        dpa.GaussianDpEvent(ev["noise_multiplier"]))
        return dpa.SelfComposedDpEvent(one, ev["steps"])
    return None


def _joint(events: list[dict[str, Any]], delta: float) -> float:
    """Tightest of sum+PLD, all-PLD and RDP for ``events`` at ``delta``."""
    pure = [e for e in events if _pure_eps(e) is not None]
    other = [e for e in events if _pure_eps(e) is None]
    pure_sum = math.fsum(_pure_eps(e) for e in pure)  # type: ignore[misc]
    if not other:
        return pure_sum
    own_delta = math.fsum(e.get("approx_delta", 0.0) for e in other)
    if delta <= 0 or own_delta >= delta:
        return math.inf
    cands = [math.inf]
    plds = [_pld(e) for e in other]
    if all(x is not None for x in plds):
        acc = plds[0]
        for x in plds[1:]:
            acc = acc.compose(x)
        cands.append(pure_sum + acc.get_epsilon_for_delta(delta))
        for e in pure:
            acc = acc.compose(_pld(e))
        cands.append(acc.get_epsilon_for_delta(delta))
    rdp = [_rdp_event(e) for e in events]
    if own_delta == 0 and all(x is not None for x in rdp):
        from dp_accounting.rdp import RdpAccountant

        acc_r = RdpAccountant(orders=_ORDERS)
        for x in rdp:
            acc_r.compose(x)
        cands.append(acc_r.get_epsilon(delta))
    return min(cands)


def _groups(entries: list[dict[str, Any]]) -> list[tuple[list[dict[str, Any]], float | None]]:
    order: list[Any] = []
    events: dict[Any, list[dict[str, Any]]] = {}
    deltas: dict[Any, float | None] = {}
    for i, e in enumerate(entries):
        key = e["release"] or i
        if key not in events:
            order.append(key)
            events[key] = []
            rd = e.get("release_delta")
            deltas[key] = 0.0 if rd is None and _pure_eps(e["event"]) is not None else rd
        events[key].append(e["event"])
        if deltas[key] is not None and e.get("release_delta") is not None:
            deltas[key] = max(deltas[key], e["release_delta"])  # type: ignore[type-var]
    return [(events[k], deltas[k]) for k in order]


def _total(entries: list[dict[str, Any]], budget_delta: float) -> float:
    """T(k, D) = min(joint(1..k, D), T(k-1, D - delta_k) + own_k), releases in order."""
    groups = _groups(entries)
    if not groups:
        return 0.0
    ds: list[float | None] = [None] * len(groups)
    ds[-1] = budget_delta
    for k in range(len(groups) - 1, 0, -1):
        dk, gd = ds[k], groups[k][1]
        ds[k - 1] = None if dk is None or gd is None or gd > dk else dk - gd
    best = math.inf
    for k, (evs, gd) in enumerate(groups):
        if ds[k] is None:
            continue
        cand = _joint([ev for g in groups[: k + 1] for ev in g[0]], ds[k])  # type: ignore[arg-type]
        if k > 0 and ds[k - 1] is not None and gd is not None:
            cand = min(cand, best + _joint(evs, gd))
        best = cand
    return best


def ledger_total(doc: dict[str, Any]) -> float:
    """The total epsilon of a ledger document at its budget's delta."""
    return _total(doc["entries"], float(doc["budget"]["delta"]))


def release_epsilon(events: list[dict[str, Any]], delta: float) -> float:
    """One release's own epsilon: its events (JSON) composed alone at ``delta``."""
    return _joint(list(events), delta)

"""Tests of privsynth.accounting: composition, budget enforcement, ledger files, calibration."""

from __future__ import annotations

import copy
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import dp_accounting as dpa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq
from scipy.stats import norm

from privsynth import mechanisms
from privsynth.accounting import (
    Accountant,
    ApproxDPEvent,
    DiscreteGaussianEvent,
    DiscreteLaplaceEvent,
    Event,
    ExponentialEvent,
    GaussianEvent,
    LaplaceEvent,
    PureDPEvent,
    SubsampledGaussianEvent,
    compose,
    dpsgd_noise_multiplier,
    event_from_dict,
    gaussian_sigma,
)
from privsynth.accounting.compose import _pld_epsilon, _rdp_epsilon
from privsynth.accounting.persistent import FileAccountant
from privsynth.errors import (
    BudgetExceededError,
    LedgerError,
    ParameterError,
)


class SpyNoise(mechanisms.Noise):
    """A Noise whose source() calls are recorded (to prove nothing was drawn)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def source(self) -> mechanisms.RandomSource:
        self.calls += 1
        return super().source()


# ---------------------------------------------------------------------------
# Reference numbers
# ---------------------------------------------------------------------------
DPSGD = SubsampledGaussianEvent(0.01, 1.0, 10_000)


def test_subsampled_gaussian_matches_dp_accounting_pld_and_rdp() -> None:
    ours = compose([DPSGD], delta=1e-5)
    assert ours.method == "pld"
    assert ours.delta == 1e-5

    dp_event = DPSGD.to_dp_event()
    pld_acc = dpa.pld.PLDAccountant()
    pld_acc.compose(dp_event)
    their_pld = pld_acc.get_epsilon(1e-5)
    rdp_acc = dpa.rdp.RdpAccountant()
    rdp_acc.compose(dp_event)
    their_rdp = rdp_acc.get_epsilon(1e-5)

    assert ours.epsilon == pytest.approx(their_pld, rel=0.01)
    assert ours.epsilon == pytest.approx(6.1877, rel=0.01)
    assert their_pld == pytest.approx(6.1877, rel=0.01)
    assert their_rdp == pytest.approx(6.7128, rel=0.01)
    # our RDP path on the same event agrees with dp-accounting's RDP accountant
    ours_rdp = _rdp_epsilon(((DPSGD, 1),), 1e-5)
    assert ours_rdp == pytest.approx(their_rdp, rel=0.01)
    # the tightest method wins: PLD beats RDP here
    assert ours.epsilon < ours_rdp


def test_ten_laplace_compose_to_exactly_one() -> None:
    s = compose([LaplaceEvent(0.1)] * 10, delta=1e-6)
    assert s.epsilon == 1.0
    assert s.delta == 0.0
    assert s.method == "sum"


def test_empty_composition_is_zero() -> None:
    s = compose([], delta=1e-6)
    assert (s.epsilon, s.delta, s.method) == (0.0, 0.0, "none")


def test_mixed_ledger_takes_min_of_methods_and_beats_sum_of_parts() -> None:
    pure = [LaplaceEvent(0.5), ExponentialEvent(0.3), DiscreteLaplaceEvent(0.2)]
    gauss = GaussianEvent(3.0)
    events = [*pure, gauss]
    delta = 1e-6
    s = compose(events, delta)
    grouped_all = tuple((e, 1) for e in events)
    candidates = {
        "pld": _pld_epsilon(grouped_all, delta),
        "sum+pld": 1.0 + _pld_epsilon(((gauss, 1),), delta),
        "rdp": _rdp_epsilon(grouped_all, delta),
    }
    best = min(candidates, key=candidates.__getitem__)
    assert s.method == best
    assert s.epsilon == pytest.approx(candidates[best], rel=1e-12)
    assert s.delta == delta
    sum_of_parts = 1.0 + compose([gauss], delta).epsilon
    assert s.epsilon <= sum_of_parts + 1e-12


def test_approx_events_need_delta_headroom() -> None:
    # own delta consumes the target delta entirely: no method can meet it
    assert math.isinf(compose([ApproxDPEvent(0.5, 1e-6)], 1e-6).epsilon)
    s = compose([ApproxDPEvent(0.5, 1e-7)], 1e-6)
    assert s.epsilon <= 0.5 + 1e-9
    assert math.isinf(compose([GaussianEvent(5.0)], 0.0).epsilon)


def test_events_round_trip_and_validate() -> None:
    events: list[Event] = [
        LaplaceEvent(0.3, 2.0), DiscreteLaplaceEvent(0.2, 3), ExponentialEvent(0.1),
        PureDPEvent(0.4, "custom"), ApproxDPEvent(0.5, 1e-8, "thr"), GaussianEvent(2.0, 1.5),
        DiscreteGaussianEvent(3.0, 2), SubsampledGaussianEvent(0.1, 1.1, 7),
    ]
    for e in events:
        assert event_from_dict(json.loads(json.dumps(e.to_dict()))) == e
        assert e.kind in e.describe()
    with pytest.raises(ParameterError, match="epsilon must be positive"):
        LaplaceEvent(0.0)
    with pytest.raises(ParameterError, match="finite"):
        GaussianEvent(math.inf)
    with pytest.raises(ParameterError, match="sampling_rate"):
        SubsampledGaussianEvent(1.5, 1.0, 3)
    with pytest.raises(LedgerError, match="unknown privacy event kind 'nope'"):
        event_from_dict({"kind": "nope"})
    with pytest.raises(LedgerError, match="unknown parameter"):
        event_from_dict({"kind": "laplace", "epsilon": 1.0, "scale": 2.0})
    with pytest.raises(LedgerError, match="invalid parameters"):
        event_from_dict({"kind": "laplace", "epsilon": -1.0})


# ---------------------------------------------------------------------------
# Spending
# ---------------------------------------------------------------------------
def test_spend_refuses_before_recording() -> None:
    acct = Accountant(epsilon=1.0)
    acct.spend(LaplaceEvent(0.7), label="first")
    before = acct.to_json()
    with pytest.raises(BudgetExceededError) as info:
        acct.spend(LaplaceEvent(0.5), label="second")
    msg = str(info.value)
    assert "'second'" in msg
    assert "needs epsilon 0.5" in msg
    assert "only epsilon 0.3 of the total 1 is left" in msg
    assert acct.to_json() == before
    assert len(acct.ledger) == 1
    # what fits still fits
    acct.spend(LaplaceEvent(0.3), label="third")
    assert acct.spent().epsilon == pytest.approx(1.0)
    assert acct.remaining().epsilon == pytest.approx(0.0, abs=1e-12)


def test_split_budget_fits_despite_rounding() -> None:
    acct = Accountant(epsilon=1.0)
    for _ in range(3):
        acct.spend(LaplaceEvent(1.0 / 3), label="third")
    with pytest.raises(BudgetExceededError):
        acct.spend(LaplaceEvent(1e-6), label="more")


def test_spend_many_is_atomic() -> None:
    acct = Accountant(epsilon=1.0)
    with pytest.raises(BudgetExceededError, match="refused 'a'"):
        acct.spend_many([("a", LaplaceEvent(0.5)), ("b", LaplaceEvent(0.6))])
    assert len(acct.ledger) == 0
    entries = acct.spend_many([("a", LaplaceEvent(0.5)), ("b", LaplaceEvent(0.4))],
                              release="r1")
    assert [e.label for e in entries] == ["a", "b"]
    assert [e.release for e in acct.ledger] == ["r1", "r1"]
    assert acct.spent().epsilon == pytest.approx(0.9)


def test_zero_delta_budget_refuses_gaussian_and_explains_delta() -> None:
    acct = Accountant(epsilon=10.0)
    with pytest.raises(BudgetExceededError) as info:
        acct.spend(GaussianEvent(5.0), label="gauss")
    msg = str(info.value)
    assert "needs delta > 0" in msg
    assert "much smaller than 1/n" in msg
    assert len(acct.ledger) == 0


def test_check_records_nothing_and_rejects_non_events() -> None:
    acct = Accountant(epsilon=1.0, delta=1e-6)
    total = acct.check([LaplaceEvent(0.2), GaussianEvent(10.0)])
    assert 0.2 < total.epsilon < 1.0
    assert len(acct.ledger) == 0
    with pytest.raises(ParameterError, match="expected privacy events"):
        acct.check([0.5])  # type: ignore[list-item]


@pytest.mark.parametrize(("eps", "delta"), [(0.0, 0.0), (-1.0, 0.0), (math.inf, 0.0),
                                            (1.0, 1.0), (1.0, -1e-9), (True, 0.0)])
def test_accountant_validates_budget(eps: float, delta: float) -> None:
    with pytest.raises(ParameterError, match="Accountant"):
        Accountant(eps, delta)


def test_overspend_raises_before_noise_is_drawn() -> None:
    acct = Accountant(epsilon=0.5)
    spy = SpyNoise()
    with pytest.raises(BudgetExceededError):
        mechanisms.discrete_laplace([3, 4], epsilon=1.0, accountant=acct, label="hist",
                                    noise=spy)
    assert spy.calls == 0
    assert len(acct.ledger) == 0
    # the spy does draw when the spend fits (so the assertion above can fail)
    mechanisms.discrete_laplace([3, 4], epsilon=0.5, accountant=acct, label="hist", noise=spy)
    assert spy.calls == 1


def test_release_checks_up_front_and_holds_the_fit_to_its_own_guarantee() -> None:
    acct = Accountant(epsilon=1.0)
    acct.spend(DiscreteLaplaceEvent(0.5), label="earlier", release="r0", release_delta=0.0)
    with pytest.raises(BudgetExceededError, match="refused 'fit'"):
        acct.open_release("r1", epsilon=0.6, label="fit")  # refused before any draw
    assert len(acct.ledger) == 1
    rel = acct.open_release("r1", epsilon=0.4)
    spy = SpyNoise()
    mechanisms.discrete_laplace([1], epsilon=0.3, accountant=rel, label="a", noise=spy)
    with pytest.raises(BudgetExceededError, match=r"release 'r1' states epsilon 0\.4"):
        mechanisms.discrete_laplace([1], epsilon=0.2, accountant=rel, label="b", noise=spy)
    assert spy.calls == 1  # the refused one drew nothing
    assert [(e.label, e.release, e.release_delta) for e in rel.entries] == [("a", "r1", 0.0)]
    assert rel.entries[0].id == acct.head  # chained into the ledger
    assert rel.guarantee().epsilon == pytest.approx(0.3)
    with pytest.raises(ParameterError, match="already in the ledger"):
        acct.open_release("r1", epsilon=0.1)
    with pytest.raises(ParameterError, match="release="):
        acct.open_release(" leading space", epsilon=0.1)


def test_release_refuses_a_delta_the_budget_cannot_give() -> None:
    acct = Accountant(epsilon=5.0, delta=1e-6)
    with pytest.raises(BudgetExceededError, match="delta 1e-05"):
        acct.open_release("r1", epsilon=1.0, delta=1e-5)
    rel = acct.open_release("r2", epsilon=1.0, delta=1e-6)
    rel.spend(SubsampledGaussianEvent(0.01, 2.0, 100), label="dpsgd")
    # the budget's whole delta is taken: a second approximate release cannot start
    with pytest.raises(BudgetExceededError, match="delta of at most 0"):
        acct.open_release("r3", epsilon=1.0, delta=1e-6)
    assert len(acct.ledger) == 1


def test_ledger_total_never_exceeds_the_sum_of_release_guarantees(
        independent_accounting: Any) -> None:
    from privsynth.accounting import dpsgd_noise_multiplier

    acct = Accountant(epsilon=3.0, delta=1e-6)
    pb = acct.open_release("pb", epsilon=1.0)
    pb.spend(DiscreteLaplaceEvent(0.6), label="hist")
    pb.spend(ExponentialEvent(0.4), label="structure")
    for name in ("gan1", "gan2"):
        rel = acct.open_release(name, epsilon=1.0, delta=5e-7)
        sigma = dpsgd_noise_multiplier(1.0, 5e-7, sampling_rate=0.05, steps=200)
        rel.spend(SubsampledGaussianEvent(0.05, sigma, 200), label="dpsgd")
        assert rel.guarantee().epsilon <= 1.0
    total = acct.spent()
    assert total.epsilon <= 3.0 + 1e-9
    doc = acct.to_dict()
    assert total.epsilon == pytest.approx(independent_accounting.ledger_total(doc), abs=2e-3)


def test_accountant_written_from_python_opens_as_a_file_ledger(tmp_path: Path) -> None:
    acct = Accountant(epsilon=2.0, delta=1e-6)
    rel = acct.open_release("py", epsilon=0.5)
    rel.spend(DiscreteLaplaceEvent(0.5), label="hist")
    path = tmp_path / "ledger.json"
    acct.to_json(path)
    file_acct = FileAccountant.open(path)
    assert file_acct.head == acct.head and file_acct.spent() == acct.spent()
    file_acct.spend(DiscreteLaplaceEvent(0.25), label="more", release="cli")
    assert Accountant.from_json(path).spent().epsilon == pytest.approx(0.75)


# ---------------------------------------------------------------------------
# The ledger file
# ---------------------------------------------------------------------------
def _busy_accountant() -> Accountant:
    acct = Accountant(epsilon=3.0, delta=1e-6)
    acct.spend(LaplaceEvent(0.25, 2.0), label="mean", release="r1")
    acct.spend(DiscreteGaussianEvent(20.0), label="hist")
    acct.spend(ApproxDPEvent(0.3, 1e-8, "thresholded_histogram"), label="cats",
               reproducible_noise=True)
    return acct


def test_json_round_trip_is_exact(tmp_path: Path) -> None:
    acct = _busy_accountant()
    text = acct.to_json()
    again = Accountant.from_json(text)
    assert again.to_json() == text
    assert again.history == acct.history
    assert again.spent() == acct.spent()
    data = json.loads(text)
    assert data["format"] == "privsynth.ledger" and data["version"] == 2
    assert data["budget"] == {"epsilon": 3.0, "delta": 1e-6}
    assert data["entries"][2]["reproducible_noise"] is True
    assert data["entries"][0]["reproducible_noise"] is False
    assert data["entries"][1]["prev"] == data["entries"][0]["id"]
    assert data["entries"][0]["prev"] == data["genesis"]
    assert data["head"] == data["entries"][2]["id"]
    assert data["entries"][0]["event"] == {"kind": "laplace", "epsilon": 0.25, "sensitivity": 2.0}
    assert set(data["libraries"]) >= {"privsynth", "dp-accounting"}
    # and through a file
    path = tmp_path / "ledger.json"
    acct.to_json(path)
    assert Accountant.from_json(path).to_json() == text
    assert Accountant.from_json(str(path)).to_json() == text


def test_tampered_ledger_is_refused() -> None:
    data = _busy_accountant().to_dict()
    bad = copy.deepcopy(data)
    bad["entries"][0]["event"]["epsilon"] = 0.01
    with pytest.raises(LedgerError, match="does not match its id"):
        Accountant.from_dict(bad)
    # recomputing that entry's id breaks the link of the next entry
    from privsynth.accounting.ledger import LedgerEntry

    bad["entries"][0]["id"] = LedgerEntry.from_dict(bad["entries"][0]).chained(
        bad["entries"][0]["prev"]).id
    with pytest.raises(LedgerError, match="does not follow"):
        Accountant.from_dict(bad)
    dropped = copy.deepcopy(data)
    dropped["entries"].pop()
    with pytest.raises(LedgerError, match="head does not match"):
        Accountant.from_dict(dropped)
    middle = copy.deepcopy(data)
    del middle["entries"][1]
    with pytest.raises(LedgerError, match="chain is broken"):
        Accountant.from_dict(middle)
    raised = copy.deepcopy(data)
    raised["budget"]["epsilon"] = 30.0
    with pytest.raises(LedgerError, match="genesis does not match"):
        Accountant.from_dict(raised)


def test_version_1_ledgers_are_read_and_migrated() -> None:
    import hashlib

    entries = [{"label": "hist", "event": {"kind": "discrete_laplace", "epsilon": 0.5,
                                          "sensitivity": 1},
                "timestamp": "2026-11-20T10:00:00+00:00", "release": "old"}]
    canon = json.dumps(entries, sort_keys=True, separators=(",", ":"))
    budget = json.dumps({"epsilon": 1.0, "delta": 0.0}, sort_keys=True)
    digest = hashlib.sha256(f"{budget}|{hashlib.sha256(canon.encode()).hexdigest()}".encode())
    v1 = {"format": "privsynth.ledger", "version": 1, "budget": {"epsilon": 1.0, "delta": 0.0},
          "entries": entries, "sha256": digest.hexdigest()}
    acct = Accountant.from_dict(v1)
    assert acct.spent().epsilon == 0.5 and acct.ledger.entries[0].id
    assert Accountant.from_json(acct.to_json()).head == acct.head  # now version 2
    v1["entries"][0]["event"]["epsilon"] = 0.1
    with pytest.raises(LedgerError, match="checksum"):
        Accountant.from_dict(v1)


def test_wrong_version_truncated_or_foreign_ledger_is_refused() -> None:
    text = _busy_accountant().to_json()
    data = json.loads(text)
    data["version"] = 3
    with pytest.raises(LedgerError, match="version 3 is not supported"):
        Accountant.from_json(json.dumps(data))
    with pytest.raises(LedgerError, match="not valid JSON"):
        Accountant.from_json(text[: len(text) // 2])
    with pytest.raises(LedgerError, match="not a privsynth ledger"):
        Accountant.from_json('{"format": "something else"}')
    with pytest.raises(LedgerError, match="cannot read ledger file"):
        Accountant.from_json("/nonexistent/ledger.json")


def test_ledger_recording_more_than_its_budget_is_refused() -> None:
    data = _busy_accountant().to_dict()
    data["budget"]["epsilon"] = 0.5  # entries untouched
    with pytest.raises(LedgerError, match=r"genesis|more spending than its budget"):
        Accountant.from_dict(data)
    data["budget"] = {"epsilon": -1}
    with pytest.raises(LedgerError, match="budget is missing or invalid"):
        Accountant.from_dict(data)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------
_eps = st.floats(0.01, 1.0, allow_nan=False)
_events = st.one_of(
    st.builds(LaplaceEvent, _eps),
    st.builds(DiscreteLaplaceEvent, _eps),
    st.builds(ExponentialEvent, _eps),
    st.builds(GaussianEvent, st.floats(1.0, 20.0, allow_nan=False)),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(total=st.floats(0.5, 4.0, allow_nan=False), events=st.lists(_events, max_size=8))
def test_spending_properties(total: float, events: list[Event]) -> None:
    acct = Accountant(total, delta=1e-6)
    previous = acct.spent()
    for i, event in enumerate(events):
        before = acct.to_json()
        try:
            acct.spend(event, label=f"e{i}")
        except BudgetExceededError:
            assert acct.to_json() == before  # a refused spend changes nothing
            continue
        now = acct.spent()
        # never over budget after an accepted spend
        assert now.epsilon <= total * (1 + 1e-9) + 1e-12
        # monotone at a fixed delta. A ledger of pure events is reported at
        # delta 0 (exact sum); the first approximate event moves the report to
        # the budget's delta, where the epsilon of the same events may be smaller.
        if now.delta == previous.delta:
            assert now.epsilon >= previous.epsilon - 1e-9
        else:
            assert (previous.delta, now.delta) == (0.0, 1e-6)
            prefix = tuple(Counter(acct.ledger.events[:-1]).items())
            at_delta = min(previous.epsilon, _pld_epsilon(prefix, 1e-6)) if prefix else 0.0
            assert now.epsilon >= at_delta - 1e-9
        previous = now
    text = acct.to_json()
    assert Accountant.from_json(text).to_json() == text


# ---------------------------------------------------------------------------
# Calibration
# ---------------------------------------------------------------------------
def _analytic_gaussian_sigma(epsilon: float, delta: float) -> float:
    """Balle & Wang (2018), Theorem 8: the exact sigma for sensitivity 1."""

    def gap(s: float) -> float:
        return float(norm.cdf(1 / (2 * s) - epsilon * s)
                     - math.exp(epsilon) * norm.cdf(-1 / (2 * s) - epsilon * s) - delta)

    return float(brentq(gap, 0.05, 100.0, xtol=1e-12))


def test_gaussian_sigma_matches_analytic_gaussian_mechanism() -> None:
    exact = _analytic_gaussian_sigma(1.0, 1e-5)
    ours = gaussian_sigma(1.0, 1e-5)
    assert ours == pytest.approx(exact, rel=0.01)
    assert ours >= exact * 0.999  # pessimistic PLD never gives too little noise
    assert gaussian_sigma(1.0, 1e-5, sensitivity=2.0) == pytest.approx(2 * ours, rel=1e-9)
    with pytest.raises(ParameterError, match="delta"):
        gaussian_sigma(1.0, 0.0)


def test_gaussian_sigma_is_the_smallest_that_fits() -> None:
    sigma = gaussian_sigma(2.0, 1e-6)
    assert compose([GaussianEvent(sigma)], 1e-6).epsilon <= 2.0
    assert compose([GaussianEvent(sigma * 0.99)], 1e-6).epsilon > 2.0


@pytest.mark.slow  # each subsampled-Gaussian PLD takes about a second; calibration needs ~12
def test_dpsgd_noise_multiplier_is_the_smallest_that_fits() -> None:
    q, steps = 0.1, 10
    nm = dpsgd_noise_multiplier(1.0, 1e-5, sampling_rate=q, steps=steps)
    assert compose([SubsampledGaussianEvent(q, nm, steps)], 1e-5).epsilon <= 1.0
    assert compose([SubsampledGaussianEvent(q, nm * 0.99, steps)], 1e-5).epsilon > 1.0
    with pytest.raises(ParameterError, match="sampling_rate"):
        dpsgd_noise_multiplier(1.0, 1e-5, sampling_rate=0.0, steps=10)


def test_calibrated_event_fits_its_budget() -> None:
    sigma = gaussian_sigma(0.5, 1e-6)
    acct = Accountant(0.5, 1e-6)
    acct.spend(GaussianEvent(sigma), label="calibrated")
    assert acct.spent().epsilon <= 0.5


# ---------------------------------------------------------------------------
# forged step counts and multiplicities (review r2): bounded time, same numbers
# ---------------------------------------------------------------------------
def test_dp_sgd_steps_above_the_cap_are_refused_quickly() -> None:
    import time

    from privsynth.accounting.events import MAX_DPSGD_STEPS

    assert MAX_DPSGD_STEPS == 10**7
    SubsampledGaussianEvent(0.5, 1e6, MAX_DPSGD_STEPS)  # the cap itself is allowed
    start = time.monotonic()
    with pytest.raises(ParameterError, match="above 10,000,000"):
        SubsampledGaussianEvent(0.5, 1e6, 10**12)
    with pytest.raises(LedgerError, match="above 10,000,000"):
        event_from_dict({"kind": "subsampled_gaussian", "sampling_rate": 0.5,
                         "noise_multiplier": 1e6, "steps": MAX_DPSGD_STEPS + 1})
    assert time.monotonic() - start < 1


@pytest.mark.parametrize(("q", "sigma", "steps"), [(0.5, 1e3, 5), (0.5, 1e6, 3), (1.0, 1e6, 12),
                                                    (0.01, 1.0, 50), (0.5, 1e6, 1)])
def test_bounded_self_composition_equals_dp_accountings(q: float, sigma: float,
                                                        steps: int) -> None:
    """Sparse (size**n <= 1000: a loop) and dense paths give dp-accounting's own numbers."""
    from dp_accounting.pld import privacy_loss_distribution as pld

    one = pld.from_gaussian_mechanism(sigma, sampling_prob=q, value_discretization_interval=1e-4,
                                      use_connect_dots=True)
    want = one.self_compose(steps) if steps > 1 else one
    got = SubsampledGaussianEvent(q, sigma, steps).to_pld()
    for d in (1e-3, 1e-6, 1e-9):
        assert got.get_epsilon_for_delta(d) == want.get_epsilon_for_delta(d)


def test_the_largest_dp_sgd_event_composes_in_seconds() -> None:
    """10^7 steps of a sparse PLD took 13.5 s (10^8: hours) in dp-accounting's size**steps
    test; the same result comes from the dense path directly."""
    import time

    start = time.monotonic()
    s = compose([SubsampledGaussianEvent(0.5, 1e6, 10**7)], 1e-6)
    assert time.monotonic() - start < 6
    assert 0 < s.epsilon < 0.1


def test_many_identical_events_beyond_the_pld_cap_are_composed_by_rdp() -> None:
    """Multiplicity times steps above MAX_PLD_COMPOSITIONS: no PLD (its support would grow
    without bound), RDP instead, in both readers."""
    from privsynth.accounting.events import MAX_PLD_COMPOSITIONS
    from privsynth.release import independent

    ev = SubsampledGaussianEvent(0.001, 1.0, MAX_PLD_COMPOSITIONS // 4)
    at_cap, above = compose([ev] * 4, 1e-6), compose([ev] * 5, 1e-6)
    assert at_cap.method == "pld"  # at the cap the PLD still takes part (and is tighter)
    assert above.method == "rdp" and math.isfinite(above.epsilon)
    for n, s in ((4, at_cap), (5, above)):
        assert independent.release_epsilon([ev.to_dict()] * n, 1e-6) == pytest.approx(
            s.epsilon, rel=1e-3)

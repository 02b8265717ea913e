"""Small, sharp checks of privacy-relevant lines that the module tests left unguarded.

Each test here kills at least one mutant of the privacy mutation battery
(``tests/mutation/mutants.py``, docs/testing.md) that survived the rest of the
default suite: noise that ignores the declared sensitivity, a budget check with
slack, ledger totals of approximate-DP releases, the up-front check of a new
release's delta, and a ledger replaced by another of the same length.
Accountant numbers are compared with dp-accounting computed independently
(the ``independent_accounting`` fixture); nothing private is read.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from privsynth import mechanisms
from privsynth.accounting import (
    Accountant,
    DiscreteGaussianEvent,
    DiscreteLaplaceEvent,
    Event,
    GaussianEvent,
    LaplaceEvent,
)
from privsynth.accounting.persistent import FileAccountant, LedgerRolledBackError
from privsynth.errors import BudgetExceededError, InsecureNoiseWarning
from privsynth.mechanisms import Noise


class _Recorder:
    """A budget that records the events charged (and never refuses)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def spend(self, event: Event, *, label: str, release: str = "",
              reproducible_noise: bool = False) -> None:
        self.events.append(event)


def _seeded(seed: int) -> Noise:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureNoiseWarning)
        return Noise.insecure_for_tests(seed)


def _laplace_pmf(ratio: float, support: np.ndarray) -> np.ndarray:
    """P(z) proportional to exp(-|z| ratio) on ``support`` (normalized over all integers)."""
    return np.exp(-np.abs(support) * ratio) * math.tanh(ratio / 2)


# --------------------------------------------------------------------------- mechanisms
def test_discrete_laplace_noise_scales_with_sensitivity() -> None:
    """Sensitivity 3 at epsilon 0.9: noise P(z) ~ exp(-0.3 |z|), and the ledger says 3."""
    budget = _Recorder()
    z = mechanisms.discrete_laplace(np.zeros(30_000, dtype=np.int64), epsilon=0.9,
                                    sensitivity=3, accountant=budget, label="z",
                                    noise=_seeded(5))
    assert budget.events == [DiscreteLaplaceEvent(0.9, 3)]
    support = np.arange(-30, 31)
    obs = np.array([np.sum(z == s) for s in support] + [np.sum(np.abs(z) > 30)])

    def pvalue(ratio: float) -> float:
        p = _laplace_pmf(ratio, support)
        exp = np.append(p, max(1.0 - p.sum(), 1e-12)) * len(z)
        return float(stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue)

    assert pvalue(0.3) > 1e-4
    assert pvalue(0.9) < 1e-9  # the test has power: sensitivity-1 noise is rejected


# --------------------------------------------------------------------------- the budget
def test_budget_check_refuses_the_smallest_overspend() -> None:
    acct = Accountant(epsilon=1.0)
    acct.spend(LaplaceEvent(0.995), label="most")
    with pytest.raises(BudgetExceededError):
        acct.spend(LaplaceEvent(0.0075), label="0.25 % over")
    acct.spend(LaplaceEvent(0.005), label="exactly the rest")
    assert acct.spent().epsilon == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(BudgetExceededError):
        acct.check([LaplaceEvent(1e-6)], label="anything more")


def _approximate_ledger() -> Accountant:
    """Three releases whose total is set by the release recursion (basic composition over
    releases beats the joint composition, which has to use RDP for the unit table)."""
    acct = Accountant(epsilon=10.0, delta=1e-5)
    first = acct.open_release("r0", epsilon=3.0, delta=4e-6)
    first.spend_many([(f"count{i}", DiscreteLaplaceEvent(0.1)) for i in range(10)])
    first.spend(GaussianEvent(3.0), label="gauss")
    acct.open_release("r1", epsilon=2.0).spend(DiscreteLaplaceEvent(1.5), label="counts")
    # a privacy-unit table (sensitivity 2): accounted by zCDP (RDP) only
    acct.open_release("r2", epsilon=3.0, delta=3e-6).spend(DiscreteGaussianEvent(5.0, 2),
                                                           label="unit table")
    return acct


def test_ledger_of_approximate_releases_matches_independent_accounting(
        independent_accounting: Any) -> None:
    acct = _approximate_ledger()
    doc = acct.to_dict()
    independent = independent_accounting.ledger_total(doc)
    assert acct.spent().epsilon == pytest.approx(independent, rel=1e-3)
    # and never less than the proof from the file (a stated epsilon must be provable)
    assert acct.spent().epsilon >= independent * (1 - 1e-3)
    # each release's own guarantee, recomputed from its entries alone
    for rid in acct.releases():
        events = [e["event"] for e in doc["entries"] if e["release"] == rid]
        delta = next(e["release_delta"] for e in doc["entries"] if e["release"] == rid)
        own = independent_accounting.release_epsilon(events, delta)
        assert own <= 3.0 * (1 + 1e-3)


def test_up_front_check_reserves_the_new_releases_delta(independent_accounting: Any) -> None:
    acct = _approximate_ledger()
    doc = acct.to_dict()
    # a new release of (1.0, 5e-6) leaves delta 5e-6 to the earlier ones
    bound = acct.check_release(1.0, 5e-6, label="next")
    earlier = independent_accounting.ledger_total({**doc, "budget": {"epsilon": 10.0,
                                                                     "delta": 1e-5 - 5e-6}})
    assert bound == pytest.approx(earlier + 1.0, rel=1e-3)
    assert bound >= (earlier + 1.0) * (1 - 1e-3)


def test_mixed_ledger_matches_independent_accounting(independent_accounting: Any) -> None:
    # many small discrete Laplace counts next to a Gaussian: the joint PLD is the tightest
    acct = Accountant(epsilon=10.0, delta=1e-6)
    for i in range(10):
        acct.spend(DiscreteLaplaceEvent(0.1), label=f"count{i}")
    acct.spend(GaussianEvent(4.0), label="gauss")
    independent = independent_accounting.ledger_total(acct.to_dict())
    assert acct.spent().epsilon == pytest.approx(independent, rel=1e-3)
    # the discrete Gaussian of sensitivity 2 alone (RDP of its zCDP)
    alone = Accountant(epsilon=10.0, delta=1e-6)
    alone.spend(DiscreteGaussianEvent(3.0, 2), label="unit table")
    independent = independent_accounting.ledger_total(alone.to_dict())
    assert alone.spent().epsilon == pytest.approx(independent, rel=1e-3)


# --------------------------------------------------------------------------- the witness
def test_witness_notices_a_replaced_ledger_of_the_same_length(tmp_path: Path) -> None:
    """A ledger replaced by another with as many entries (but not the same) is refused."""
    path = tmp_path / "ledger.json"
    FileAccountant.init(path, epsilon=1.0)
    empty = path.read_text(encoding="utf-8")
    FileAccountant.open(path).spend(LaplaceEvent(0.5), label="the real spend")
    # someone restores the empty copy and records a cheaper spend in its place
    forged = Accountant.from_json(empty)
    forged.spend(LaplaceEvent(0.01), label="a cheaper spend")
    forged.to_json(path)
    with pytest.raises(LedgerRolledBackError, match="rolled back"):
        FileAccountant.open(path)

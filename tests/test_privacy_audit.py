"""End-to-end privacy audits: the claimed epsilon is tested by trying to break it.

Two audits per engine, each run on the honest engine (the empirical lower
bound must stay below the claimed epsilon) and on a deliberately broken one
(noise drawn at 10x the epsilon that is charged, a bug the ledger cannot see;
the same audit must then prove an epsilon *above* the claim):

1. **Neighbouring data sets.** Fit many times on D and on D' = D plus one
   distinctive record, with real (OS CSPRNG) noise. The statistic is the
   fitted model's probability of that record (any function of the released
   model is allowed). The best threshold rule on it gives a 95 %
   Clopper-Pearson lower bound on epsilon
   (:func:`privsynth.risk.audit_bound.best_epsilon_lower_bound`).
2. **One run** (Steinke, Nasr & Jagielski 2023, "Privacy auditing with one (1)
   training run"). m canary records, each included with probability 1/2 by a
   public coin; one fit; the auditor guesses every canary's inclusion from the
   model. For pure epsilon-DP the number of correct guesses among r is
   stochastically dominated by Binomial(r, e^eps / (1 + e^eps)) (their
   Theorem 3.1 with delta = 0), so a one-sided Clopper-Pearson lower bound p on
   the accuracy gives eps >= log(p / (1 - p)) with that confidence
   (:func:`privsynth.risk.one_run_epsilon_lower_bound`).

DPCTGAN's released category frequencies are audited the same way (its
DP-SGD stage is Opacus' and is not drawn by :mod:`privsynth.mechanisms`; a
GAN fit takes seconds, so hundreds of full fits do not fit the time limit).

The slow audits are ``slow``-marked; set ``PRIVSYNTH_AUDIT_REPORT=path`` to
append the measured bounds (JSON lines) to ``path``, for docs/testing.md.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from privsynth import mechanisms
from privsynth.accounting import Accountant
from privsynth.accounting.events import DiscreteLaplaceEvent
from privsynth.engines.privbayes import PrivBayes
from privsynth.errors import ParameterError
from privsynth.risk.audit_bound import best_epsilon_lower_bound, one_run_epsilon_lower_bound
from privsynth.schema import Schema

EPSILON = 1.0
TENFOLD = 10.0

SCHEMA = Schema.from_dict({"columns": [
    {"name": "a", "kind": "categorical", "categories": ["x", "y", "z"]},
    {"name": "b", "kind": "categorical", "categories": ["u", "v"]},
]})
#: D: 20 ordinary rows; the value "z" never occurs.
BASE = pd.DataFrame({"a": ["x", "y"] * 10, "b": ["u", "u", "v", "v"] * 5})
#: The distinctive record added to make the neighbour D'.
TARGET = {"a": "z", "b": "v"}


# --------------------------------------------------------------------------- helpers
def _record(path: str | None, **fields: Any) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(fields) + "\n")


class _Uncharged:
    """A budget that records nothing: the broken engine's hidden extra epsilon goes here."""

    def spend(self, event: Any, *, label: str, release: str = "",
              reproducible_noise: bool = False) -> None:
        return None


@pytest.fixture
def broken_noise(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every discrete Laplace draw uses 10x the epsilon it charges (noise 10x too small).

    The ledger still records exactly the claimed epsilon, so no accounting
    test can see this bug; only an audit of the outputs can.
    """
    honest = mechanisms.discrete_laplace

    def weakened(values: Any, *, epsilon: float, accountant: Any, label: str,
                 sensitivity: int = 1, noise: mechanisms.Noise | None = None) -> Any:
        accountant.spend(DiscreteLaplaceEvent(float(epsilon), sensitivity), label=label)
        return honest(values, epsilon=epsilon * TENFOLD, accountant=_Uncharged(), label=label,
                      sensitivity=sensitivity, noise=noise)

    monkeypatch.setattr(mechanisms, "discrete_laplace", weakened)
    yield


def _codes(model: PrivBayes, record: dict[str, str]) -> list[int]:
    """Fine codes of a record of categorical values (category index in the public schema)."""
    out = []
    for col in model.schema_.columns:
        out.append(list(col.categories).index(record[col.name]))  # type: ignore[attr-defined]
    return out


def record_probability(model: PrivBayes, record: dict[str, str]) -> float:
    """The fitted network's probability of ``record`` (a function of the released model only)."""
    fine = _codes(model, record)
    level = [int(lev.fine_to_level[f]) for lev, f in zip(model.levels_, fine, strict=True)]
    prob = 1.0
    for j, lev in enumerate(model.levels_):
        prob *= float(lev.within[fine[j]])
    for (child, parents), table in zip(model.network_, model.tables_, strict=True):
        idx = 0
        for p in parents:
            lev = model.levels_[p]
            idx = idx * lev.n_parent_levels + int(lev.level_to_parent[level[p]])
        prob *= float(table[idx, level[child]])
    return prob


def neighbour_audit(fit_stat: Callable[[pd.DataFrame], float], runs: int, seed: int = 0,
                    base: pd.DataFrame = BASE, target: dict[str, Any] | None = None,
                    ) -> tuple[float, np.ndarray, np.ndarray]:
    """Epsilon lower bound from ``runs`` fits on D' (``base`` + ``target``) and ``runs`` on D."""
    with_target = pd.concat([base, pd.DataFrame([target or TARGET])], ignore_index=True)
    members = np.array([fit_stat(with_target) for _ in range(runs)])
    others = np.array([fit_stat(base) for _ in range(runs)])
    return best_epsilon_lower_bound(members, others, random_state=seed), members, others


def _privbayes_stat(df: pd.DataFrame) -> float:
    model = PrivBayes().fit(df, schema=SCHEMA, epsilon=EPSILON)
    return record_probability(model, TARGET)


# --------------------------------------------------------------------------- fast smoke
def test_audit_smoke_statistic_and_broken_engine_look_normal_to_the_ledger(
        broken_noise: None) -> None:
    """Fast: the audit machinery runs, and the broken engine's ledger looks exactly right."""
    acct = Accountant(EPSILON)
    with_target = pd.concat([BASE, pd.DataFrame([TARGET])], ignore_index=True)
    model = PrivBayes().fit(with_target, schema=SCHEMA, epsilon=EPSILON, accountant=acct)
    assert acct.spent().epsilon == pytest.approx(EPSILON)  # the bug is invisible here
    p = record_probability(model, TARGET)
    assert 0.0 <= p <= 1.0
    total = sum(record_probability(model, {"a": a, "b": b}) for a in "xyz" for b in "uv")
    assert total == pytest.approx(1.0)
    bound, _, _ = neighbour_audit(_privbayes_stat, runs=8)
    assert 0.0 <= bound <= EPSILON  # 8 runs prove nothing either way; the machinery works
    assert one_run_epsilon_lower_bound(60, 100) < one_run_epsilon_lower_bound(90, 100)


def test_one_run_bound_matches_the_binomial_tail() -> None:
    # at the bound, P[Binomial(r, p(eps)) >= correct] is exactly 1 - confidence
    r, v = 1000, 700
    eps = one_run_epsilon_lower_bound(v, r)
    p = math.exp(eps) / (1 + math.exp(eps))
    assert stats.binom.sf(v - 1, r, p) == pytest.approx(0.05, rel=1e-6)
    with pytest.raises(ParameterError):
        one_run_epsilon_lower_bound(5, 3)


# --------------------------------------------------------------------------- PrivBayes
RUNS = 400  # per side; about 20 ms per fit


@pytest.mark.slow
def test_privbayes_neighbour_audit_stays_below_claim() -> None:
    bound, members, others = neighbour_audit(_privbayes_stat, RUNS)
    _record(os.environ.get("PRIVSYNTH_AUDIT_REPORT"), engine="privbayes", audit="neighbour",
            engine_variant="honest", claimed=EPSILON, lower_bound=bound, runs=RUNS)
    assert members.mean() > others.mean()  # the statistic does see the record
    assert bound < EPSILON


@pytest.mark.slow
def test_privbayes_neighbour_audit_flags_tenfold_weaker_noise(broken_noise: None) -> None:
    bound, _, _ = neighbour_audit(_privbayes_stat, RUNS)
    _record(os.environ.get("PRIVSYNTH_AUDIT_REPORT"), engine="privbayes", audit="neighbour",
            engine_variant="noise/10", claimed=EPSILON, lower_bound=bound, runs=RUNS)
    assert bound > EPSILON


# --------------------------------------------------------------------------- one run
M_CANARIES = 1000


def canary_audit(epsilon: float, seed: int = 0) -> tuple[float, int, int]:
    """One PrivBayes fit with M_CANARIES canaries (each in with prob 1/2); (bound, correct, r).

    Every canary is a record with its own category of column ``c``;
    ``max_levels`` is raised so each category is a level of its own and the
    released table holds one noisy count per canary. The guess is fixed in
    advance: "included" iff the model gives the canary's category more than
    the probability floor that PrivBayes keeps under emptied values (the
    smallest score of all: a function of the output only, as the audit allows).
    """
    rng = np.random.default_rng(seed)  # the public coins of the audit, not privacy noise
    common = [f"common{i}" for i in range(5)]
    canaries = [f"canary{i}" for i in range(M_CANARIES)]
    schema = Schema.from_dict({"columns": [
        {"name": "c", "kind": "categorical", "categories": common + canaries}]})
    included = rng.random(M_CANARIES) < 0.5
    rows = list(rng.choice(common, 2000)) + [c for c, inc in zip(canaries, included,
                                                                  strict=True) if inc]
    df = pd.DataFrame({"c": rows})
    model = PrivBayes(max_levels=len(common) + M_CANARIES + 1).fit(
        df, schema=schema, epsilon=epsilon)
    (child, parents), table = model.network_[0], model.tables_[0]
    assert child == 0 and parents == ()
    lev = model.levels_[0]
    scores = np.array([table[0, lev.fine_to_level[len(common) + i]] for i in range(M_CANARIES)])
    guesses = scores > scores.min() * 1.01
    correct = int(np.sum(guesses == included))
    return one_run_epsilon_lower_bound(correct, M_CANARIES), correct, M_CANARIES


@pytest.mark.slow
def test_privbayes_one_run_canary_audit_stays_below_claim() -> None:
    bound, correct, r = canary_audit(EPSILON)
    _record(os.environ.get("PRIVSYNTH_AUDIT_REPORT"), engine="privbayes", audit="one-run",
            engine_variant="honest", claimed=EPSILON, lower_bound=bound, correct=correct,
            guesses=r)
    assert correct > r / 2  # the canaries do leave a (bounded) trace
    assert bound < EPSILON


@pytest.mark.slow
def test_privbayes_one_run_canary_audit_flags_tenfold_weaker_noise(broken_noise: None) -> None:
    bound, correct, r = canary_audit(EPSILON)
    _record(os.environ.get("PRIVSYNTH_AUDIT_REPORT"), engine="privbayes", audit="one-run",
            engine_variant="noise/10", claimed=EPSILON, lower_bound=bound, correct=correct,
            guesses=r)
    assert bound > EPSILON


# --------------------------------------------------------------------------- DPCTGAN
def _gan_available() -> bool:
    try:
        from privsynth.engines.dpctgan import gan_available
    except ImportError:  # pragma: no cover
        return False
    return gan_available()


@pytest.fixture
def fast_gan(monkeypatch: pytest.MonkeyPatch) -> Any:
    """DPCTGAN with its DP-SGD stage stubbed out (the count release is what is audited).

    The stubbed stage still charges a DP-SGD event (of negligible epsilon), so
    the fit runs through the engine's real code up to the released frequencies.
    """
    if not _gan_available():
        pytest.skip("DPCTGAN needs the gan extra (torch, opacus)")
    from privsynth.engines import dpctgan
    from privsynth.engines.dpctgan import _plan, _train

    monkeypatch.setattr(_plan, "dpsgd_sigma", lambda *a, **k: 1e3)
    # a fixed rate makes the stand-in DP-SGD event identical in every fit, so its
    # (cached) accounting costs nothing; otherwise each fit spends ~1 s composing it
    monkeypatch.setattr(_plan, "round_rate", lambda q: 0.5)
    monkeypatch.setattr(_train, "train", lambda *a, **k: (None, None, []))
    return dpctgan.DPCTGAN


#: For DPCTGAN, b is numeric so that "a" is the only column with released counts
#: (the count budget is split over the categorical columns).
GAN_SCHEMA = Schema.from_dict({"columns": [
    {"name": "a", "kind": "categorical", "categories": ["x", "y", "z"]},
    {"name": "b", "kind": "integer", "lower": 0, "upper": 9},
]})
GAN_BASE = pd.DataFrame({"a": ["x", "y"] * 10, "b": list(range(10)) * 2})
GAN_TARGET = {"a": "z", "b": 5}


def _dpctgan_stat(gan_cls: Any) -> Callable[[pd.DataFrame], float]:
    def stat(df: pd.DataFrame) -> float:
        model = gan_cls(epochs=1, batch_size=10, count_share=0.49).fit(
            df, schema=GAN_SCHEMA, epsilon=EPSILON, delta=1e-3)
        assert len(model.cond_probs_) == 1
        # released frequencies of column a; index 2 is "z", held by the target only
        return float(model.cond_probs_[0][2])

    return stat


GAN_RUNS = 300


@pytest.mark.slow
def test_dpctgan_count_release_audit_stays_below_claim(fast_gan: Any) -> None:
    bound, members, others = neighbour_audit(_dpctgan_stat(fast_gan), GAN_RUNS, base=GAN_BASE,
                                             target=GAN_TARGET)
    _record(os.environ.get("PRIVSYNTH_AUDIT_REPORT"), engine="dpctgan", audit="neighbour",
            engine_variant="honest", claimed=EPSILON, lower_bound=bound, runs=GAN_RUNS)
    assert members.mean() > others.mean()
    assert bound < EPSILON


@pytest.mark.slow
def test_dpctgan_count_release_audit_flags_tenfold_weaker_noise(fast_gan: Any,
                                                                broken_noise: None) -> None:
    bound, _, _ = neighbour_audit(_dpctgan_stat(fast_gan), GAN_RUNS, base=GAN_BASE,
                                             target=GAN_TARGET)
    _record(os.environ.get("PRIVSYNTH_AUDIT_REPORT"), engine="dpctgan", audit="neighbour",
            engine_variant="noise/10", claimed=EPSILON, lower_bound=bound, runs=GAN_RUNS)
    assert bound > EPSILON


def test_report_path_helper_appends(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    _record(str(path), a=1)
    _record(str(path), a=2)
    _record(None, a=3)
    assert [json.loads(x)["a"] for x in path.read_text().splitlines()] == [1, 2]

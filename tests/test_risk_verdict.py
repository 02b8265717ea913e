"""Empirical bounds called what they are (issue 17): verdicts, their power rule, Bonferroni.

- a small test is "inconclusive", never a pass; a copy of the members is
  "problem found"; a well-powered test of a clean release is "no problem found";
- the best of several attacks is Bonferroni-corrected, and the correction
  changes the estimate exactly as the formula says;
- the one-run audit bound (the design that supports a bound from one fit);
- no text of the package calls an attack result a proof.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import privsynth
from privsynth.errors import DataValidationError, ParameterError
from privsynth.risk import (
    INCONCLUSIVE,
    NO_PROBLEM,
    PROBLEM,
    AttackScores,
    RiskResult,
    assess_risk,
    bonferroni_confidence,
    epsilon_lower_bound,
    evaluate_attack,
    max_demonstrable_epsilon,
    one_run_epsilon_lower_bound,
)
from privsynth.risk.result import NOT_ASSESSED
from privsynth.risk.verdict import (
    MAX_AUC_INTERVAL_WIDTH,
    auc_width_when_guessing,
    overall_verdict,
    verdict_of_attack,
)
from privsynth.schema import Schema


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    from privsynth.datasets import load_adult

    return load_adult("train").sample(frac=1.0, random_state=17).reset_index(drop=True)


@pytest.fixture(scope="module")
def schema() -> Schema:
    from privsynth.datasets import adult_schema

    return adult_schema()


def _shifted(n: int, shift: float, seed: int) -> AttackScores:
    rng = np.random.default_rng(seed)
    return AttackScores("toy", "toy", rng.normal(shift, 1.0, n), rng.normal(0.0, 1.0, n))


# ------------------------------------------------------------------ the verdict rule
def test_the_issues_small_example_is_inconclusive_not_a_pass() -> None:
    # 35 members vs 35 non-members with AUC interval 0.32-0.61 (issue 17)
    found, why = verdict_of_attack(epsilon_estimate=0.0, auc_ci=(0.32, 0.61), n_members=35,
                                   n_nonmembers=35, epsilon=1.0)
    assert found == INCONCLUSIVE and "lacks power" in why
    # the same attack with a skipped bootstrap (a zero-width interval) is no pass either
    assert verdict_of_attack(epsilon_estimate=0.0, auc_ci=(0.47, 0.47), n_members=35,
                             n_nonmembers=35, epsilon=1.0)[0] == INCONCLUSIVE


def test_the_power_rule_in_numbers() -> None:
    # a guessing attack's 95 % interval: 2 * 1.96 * sqrt((m + n + 1) / (12 m n))
    assert auc_width_when_guessing(35, 35) == pytest.approx(
        2 * stats.norm.ppf(0.975) * math.sqrt(71 / (12 * 35 * 35)))
    assert auc_width_when_guessing(250, 250) > MAX_AUC_INTERVAL_WIDTH
    assert auc_width_when_guessing(270, 270) < MAX_AUC_INTERVAL_WIDTH
    ok = dict(epsilon_estimate=0.0, auc_ci=(0.49, 0.52), n_members=5000, n_nonmembers=5000)
    assert verdict_of_attack(**ok, epsilon=1.0)[0] == NO_PROBLEM
    # a wide bootstrap interval makes even a large test inconclusive
    assert verdict_of_attack(**{**ok, "auc_ci": (0.40, 0.55)}, epsilon=1.0)[0] == INCONCLUSIVE
    # a claim no attack on 5,000 + 5,000 records could contradict (a perfect one shows ~6.5)
    found, why = verdict_of_attack(**ok, epsilon=10.0)
    assert found == INCONCLUSIVE and "even a perfect attack" in why
    assert max_demonstrable_epsilon(5000, 5000) == pytest.approx(
        epsilon_lower_bound(tp=2500, fn=0, fp=0, tn=2500))
    # above the claim: a problem, whatever the power
    found, why = verdict_of_attack(**{**ok, "epsilon_estimate": 1.2}, epsilon=1.0)
    assert found == PROBLEM and "1.2 lies above 1" in why
    # no claim: compared with 0, any demonstrated signal counts
    assert verdict_of_attack(**{**ok, "epsilon_estimate": 0.05}, epsilon=None)[0] == PROBLEM
    assert verdict_of_attack(**ok, epsilon=None)[0] == NO_PROBLEM


def test_overall_verdict_counts_only_attacks_with_power() -> None:
    assert overall_verdict([("distance", NO_PROBLEM), ("shadow", INCONCLUSIVE)])[0] == NO_PROBLEM
    assert overall_verdict([("distance", INCONCLUSIVE), ("shadow", INCONCLUSIVE)])[0] == \
        INCONCLUSIVE
    found, why = overall_verdict([("distance", NO_PROBLEM), ("shadow", PROBLEM)])
    assert found == PROBLEM and why == "Problem found by: shadow."
    assert overall_verdict([])[0] == INCONCLUSIVE


def test_small_assessment_is_inconclusive(adult: pd.DataFrame, schema: Schema) -> None:
    # 35 members, 35 non-members (+ 35 reference rows), a release from the same population
    train, holdout, other = adult.iloc[:35], adult.iloc[35:105], adult.iloc[200:1200]
    result = assess_risk(train, holdout, other, schema, epsilon=1.0, n_bootstrap=100)
    assert result.attack("distance").n_members == 35
    assert [a.verdict for a in result.attacks] == [INCONCLUSIVE, INCONCLUSIVE]
    assert result.verdict == INCONCLUSIVE
    assert "No attack had the power" in result.verdict_reason
    for a in result.attacks:
        assert a.auc_ci[1] - a.auc_ci[0] > MAX_AUC_INTERVAL_WIDTH
        assert "35" not in a.verdict_reason  # no private count in the words


def test_a_copy_of_the_members_is_a_problem_even_on_few_records(adult: pd.DataFrame,
                                                               schema: Schema) -> None:
    train, holdout = adult.iloc[:300], adult.iloc[300:900]
    result = assess_risk(train, holdout, train, schema, epsilon=1.0, n_bootstrap=50)
    assert result.verdict == PROBLEM
    assert result.attack("distance").verdict == PROBLEM
    # without a claim the reference is 0: still a problem
    assert assess_risk(train, holdout, train, schema, n_bootstrap=0).verdict == PROBLEM


def test_a_claim_beyond_the_tests_reach_is_inconclusive(adult: pd.DataFrame,
                                                        schema: Schema) -> None:
    train, holdout, other = adult.iloc[:1000], adult.iloc[1000:3000], adult.iloc[3000:4000]
    result = assess_risk(train, holdout, other, schema, epsilon=30.0, n_bootstrap=50)
    assert result.verdict == INCONCLUSIVE
    assert all("even a perfect attack" in a.verdict_reason for a in result.attacks)


# ------------------------------------------------------------------------ Bonferroni
def test_bonferroni_correction_values() -> None:
    assert bonferroni_confidence(0.95, 1) == 0.95
    assert bonferroni_confidence(0.95, 3) == pytest.approx(1 - 0.05 / 3)
    with pytest.raises(ParameterError, match="n_tests"):
        bonferroni_confidence(0.95, 0)


def test_bonferroni_changes_the_estimate_as_the_formula_says() -> None:
    # perfectly separated scores: the estimate is the perfect-attack bound on the halves,
    # whose Clopper-Pearson ends have a closed form: (alpha / 2)^(1 / 500)
    perfect = AttackScores("toy", "toy", np.ones(1000), np.zeros(1000))
    for k in (1, 2, 3):
        r = evaluate_attack(perfect, epsilon=1.0, n_tests=k, n_bootstrap=0)
        alpha = 0.05 / k
        p = (alpha / 2) ** (1 / 500)
        assert r.confidence == pytest.approx(1 - alpha)
        assert r.epsilon_lower_bound == pytest.approx(math.log(p / (1 - p)))
    # on real-looking scores: correcting for 3 attacks equals asking 1 - 0.05/3 directly,
    # and it lowers the estimate
    scores = _shifted(2000, 1.5, seed=4)
    corrected = evaluate_attack(scores, n_tests=3, n_bootstrap=0, random_state=5)
    direct = evaluate_attack(scores, confidence=1 - 0.05 / 3, n_bootstrap=0, random_state=5)
    plain = evaluate_attack(scores, n_tests=1, n_bootstrap=0, random_state=5)
    assert corrected.epsilon_lower_bound == direct.epsilon_lower_bound
    assert 0 < corrected.epsilon_lower_bound < plain.epsilon_lower_bound


def test_assess_risk_corrects_for_the_attacks_it_runs(adult: pd.DataFrame,
                                                     schema: Schema) -> None:
    train, holdout = adult.iloc[:300], adult.iloc[300:900]
    two = assess_risk(train, holdout, train, schema, epsilon=1.0, n_bootstrap=0)
    assert two.n_tests == 2 and two.settings["n_tests"] == 2
    assert [a.confidence for a in two.attacks] == pytest.approx([0.975] * 2)

    class Copy:
        def fit(self, data: pd.DataFrame, *, schema: Schema, epsilon: float,
                accountant: Any = None) -> Copy:
            self.data = data
            return self

        def sample(self, n: int, random_state: int | None = None) -> pd.DataFrame:
            return self.data.sample(n, replace=True, random_state=random_state)

    three = assess_risk(train, holdout, train, schema, epsilon=1.0, n_bootstrap=0,
                        engine_factory=Copy, n_targets=3, n_shadows=2)
    assert three.n_tests == 3
    assert [a.confidence for a in three.attacks] == pytest.approx([1 - 0.05 / 3] * 3)
    # the same records, one more attack: the distance attack's estimate can only drop
    assert three.attack("distance").epsilon_lower_bound <= \
        two.attack("distance").epsilon_lower_bound


# ------------------------------------------------------------------ the one-run audit
def test_one_run_bound_values_and_errors() -> None:
    # all 1,000 guesses right: the one-sided CP lower bound is 0.05^(1/1000)
    p = 0.05 ** (1 / 1000)
    assert one_run_epsilon_lower_bound(1000, 1000) == pytest.approx(math.log(p / (1 - p)))
    assert one_run_epsilon_lower_bound(0, 10) == 0.0
    assert one_run_epsilon_lower_bound(520, 1000) == 0.0  # not significant
    with pytest.raises(ParameterError, match="cannot exceed"):
        one_run_epsilon_lower_bound(11, 10)
    with pytest.raises(ParameterError, match="guesses"):
        one_run_epsilon_lower_bound(0, 0)


def test_one_run_bound_holds_on_a_simulated_epsilon_dp_guesser() -> None:
    # randomized response at epsilon 1: each guess right with probability e/(1+e), the
    # worst case the theorem allows; the 95 % bound stays below 1 in about 95 % of audits
    rng = np.random.default_rng(11)
    p = math.e / (1 + math.e)
    bounds = [one_run_epsilon_lower_bound(int(rng.binomial(500, p)), 500) for _ in range(400)]
    assert np.mean(np.array(bounds) > 1.0) < 0.09


# ------------------------------------------------------------------- results on file
def test_version_one_results_are_read_without_verdicts(adult: pd.DataFrame,
                                                       schema: Schema) -> None:
    train, holdout = adult.iloc[:300], adult.iloc[300:900]
    data = assess_risk(train, holdout, train, schema, epsilon=1.0, n_bootstrap=0).to_dict()
    old = {k: v for k, v in data.items() if k not in ("verdict", "verdict_reason", "n_tests")}
    old["version"] = 1
    old["attacks"] = [{k: v for k, v in a.items()
                       if k not in ("verdict", "verdict_reason", "confidence")}
                      for a in data["attacks"]]
    back = RiskResult.from_dict(old)
    assert back.verdict == INCONCLUSIVE
    assert all(a.verdict_reason == NOT_ASSESSED for a in back.attacks)
    bad = {**data, "attacks": [{**data["attacks"][0], "verdict": "fine"}]}
    with pytest.raises(DataValidationError, match="verdict must be one of"):
        RiskResult.from_dict(bad)


# ------------------------------------------------------------------------- wording
def test_no_text_of_the_package_calls_an_attack_result_a_proof() -> None:
    root = Path(privsynth.__file__).resolve().parent
    offending = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".py", ".json", ".md", ".html", ".txt", ".css"):
            continue
        text = path.read_text(encoding="utf-8")
        for word in (r"\bproves\b", r"privacy problem"):
            if re.search(word, text, flags=re.IGNORECASE):
                offending.append(f"{path.relative_to(root)}: {word}")
    assert not offending, offending

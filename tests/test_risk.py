"""Tests of privsynth.risk: Gower nearest neighbours, diagnostics, attacks, epsilon bounds."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from privsynth.columns import (
    BooleanColumn,
    CategoricalColumn,
    DatetimeColumn,
    FloatColumn,
    IntegerColumn,
)
from privsynth.errors import (
    DataValidationError,
    ParameterError,
    PrivsynthError,
    ResourceLimitError,
)
from privsynth.risk import (
    VERDICTS,
    AttackResult,
    AttackScores,
    RiskResult,
    assess_risk,
    best_epsilon_lower_bound,
    clopper_pearson,
    distance_diagnostics,
    epsilon_lower_bound,
    evaluate_attack,
    gower_distances,
    nearest_neighbors,
    roc_auc,
    shadow_attack,
    tpr_at_fpr,
    tpr_upper_bound,
)
from privsynth.risk import distance as distance_module
from privsynth.risk.result import about
from privsynth.risk.roc import roc_curve
from privsynth.schema import Schema

# --------------------------------------------------------------------------- fixtures
MIXED = Schema((
    IntegerColumn("age", lower=0, upper=100),
    FloatColumn("income", lower=0.0, upper=1000.0, nullable=True),
    CategoricalColumn("colour", categories=("red", "green", "blue"), nullable=True),
    BooleanColumn("smoker"),
    DatetimeColumn("seen", lower="2020-01-01", upper="2020-12-31", resolution="D"),
))


def _mixed(n: int, seed: int, missing: float = 0.1) -> pd.DataFrame:
    """Random rows of MIXED with some missing values (floats make rows unique)."""
    rng = np.random.default_rng(seed)
    income = rng.uniform(0, 1000, n)
    income[rng.random(n) < missing] = np.nan
    colour = np.array(["red", "green", "blue"], dtype=object)[rng.integers(0, 3, n)]
    colour[rng.random(n) < missing] = None
    days = rng.integers(0, 366, n)
    return pd.DataFrame({
        "age": rng.integers(0, 101, n),
        "income": income,
        "colour": colour,
        "smoker": rng.random(n) < 0.3,
        "seen": pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D"),
    })


def _brute_force(a: pd.DataFrame, b: pd.DataFrame, schema: Schema) -> np.ndarray:
    """Gower distances written straight from the definition, column by column."""
    total = np.zeros((len(a), len(b)))
    for col in schema:
        x, y = a[col.name], b[col.name]
        miss_x = x.isna().to_numpy()[:, None]
        miss_y = y.isna().to_numpy()[None, :]
        part: np.ndarray
        if isinstance(col, DatetimeColumn):
            ux = col.to_units(x).to_numpy(float)
            uy = col.to_units(y).to_numpy(float)
            lo, hi = float(col.unit_lower), float(col.unit_upper)
            part = np.abs(np.clip(ux, lo, hi)[:, None] - np.clip(uy, lo, hi)[None, :]) / (hi - lo)
        elif isinstance(col, IntegerColumn | FloatColumn):
            ux = x.to_numpy(float)
            uy = y.to_numpy(float)
            lo, hi = float(col.lower), float(col.upper)
            part = np.abs(np.clip(ux, lo, hi)[:, None] - np.clip(uy, lo, hi)[None, :]) / (hi - lo)
        else:
            vx = x.astype(object).to_numpy()[:, None]
            vy = y.astype(object).to_numpy()[None, :]
            part = (vx != vy).astype(float)
        part = np.where(miss_x & miss_y, 0.0, np.where(miss_x | miss_y, 1.0, part))
        total += part
    return total / len(schema)


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    from privsynth.datasets import load_adult

    return load_adult("train")


@pytest.fixture(scope="module")
def schema() -> Schema:
    from privsynth.datasets import adult_schema

    return adult_schema()


@pytest.fixture(scope="module")
def perm(adult: pd.DataFrame) -> np.ndarray:
    return np.random.default_rng(2024).permutation(len(adult))


class CopyEngine:
    """A "synthesizer" that returns its training rows: the worst possible release."""

    def __init__(self) -> None:
        self.accountants: list[Any] = []

    def fit(self, data: pd.DataFrame, *, schema: Schema, epsilon: float,
            accountant: Any = None) -> CopyEngine:
        self.data_ = data.reset_index(drop=True)
        self.accountants.append(accountant)
        return self

    def sample(self, n: int, random_state: int | None = None) -> pd.DataFrame:
        rng = np.random.default_rng(random_state)
        m = len(self.data_)
        # every training row at least once when n >= m, as a copying model would
        idx = np.concatenate([rng.permutation(m), rng.integers(0, m, max(0, n - m))])[:n]
        return self.data_.iloc[idx].reset_index(drop=True)


# ------------------------------------------------------------------- Gower and search
def test_gower_follows_the_per_column_rules() -> None:
    a = pd.DataFrame({
        "age": [10], "income": [100.0], "colour": ["red"], "smoker": [True],
        "seen": [pd.Timestamp("2020-01-01")],
    })
    b = pd.DataFrame({
        "age": [60, 10, 10], "income": [350.0, np.nan, 100.0], "colour": ["red", "red", None],
        "smoker": [True, True, False], "seen": pd.to_datetime(["2020-01-01"] * 2 + ["2020-12-31"]),
    })
    d = gower_distances(a, b, MIXED)[0]
    # row 0: age 50/100, income 250/1000 -> (0.5 + 0.25) / 5
    assert d[0] == pytest.approx(0.75 / 5)
    # row 1: income missing on one side only -> 1
    assert d[1] == pytest.approx(1.0 / 5)
    # row 2: colour missing on one side (1), smoker differs (1), dates at both bounds (1)
    assert d[2] == pytest.approx(3.0 / 5)
    both_missing = pd.DataFrame({"age": [5], "income": [np.nan], "colour": [None],
                                 "smoker": [False], "seen": [pd.Timestamp("2020-06-01")]})
    assert gower_distances(both_missing, both_missing, MIXED)[0, 0] == 0.0


def test_values_outside_public_bounds_are_clipped() -> None:
    s = Schema((IntegerColumn("x", lower=0, upper=10),))
    d = gower_distances(pd.DataFrame({"x": [50]}), pd.DataFrame({"x": [0, 10]}), s)
    assert d.tolist() == [[1.0, 0.0]]


def test_nearest_neighbors_match_brute_force() -> None:
    q, r = _mixed(150, seed=1), _mixed(5000, seed=2)  # several query blocks and ref tiles
    k = 3
    dist, idx = nearest_neighbors(q, r, MIXED, k=k, n_jobs=2)
    full = _brute_force(q, r, MIXED)
    expected = np.sort(full, axis=1)[:, :k]
    np.testing.assert_allclose(dist, expected, atol=1e-9)
    # the returned indices really are at those distances
    np.testing.assert_allclose(np.take_along_axis(full, idx, axis=1), expected, atol=1e-9)
    assert np.all(np.diff(dist, axis=1) >= 0)
    # where there is no tie, the neighbour is the brute-force one
    order = np.argsort(full, axis=1, kind="stable")
    gaps = np.sort(full, axis=1)[:, 1] - np.sort(full, axis=1)[:, 0]
    clear = gaps > 1e-6
    assert clear.sum() > 100
    np.testing.assert_array_equal(idx[clear, 0], order[clear, 0])
    # one thread gives the same answer
    d1, i1 = nearest_neighbors(q, r, MIXED, k=k, n_jobs=1)
    np.testing.assert_array_equal(i1, idx)
    np.testing.assert_array_equal(d1, dist)


def test_nearest_neighbors_large_k_uses_partial_sort() -> None:
    q, r = _mixed(20, seed=3), _mixed(300, seed=4)
    dist, idx = nearest_neighbors(q, r, MIXED, k=12)
    expected = np.sort(_brute_force(q, r, MIXED), axis=1)[:, :12]
    np.testing.assert_allclose(dist, expected, atol=1e-9)
    assert idx.shape == (20, 12)
    assert all(len(set(row)) == 12 for row in idx.tolist())


def test_exact_copy_has_distance_zero_and_ties_prefer_lower_position() -> None:
    r = _mixed(50, seed=5)
    r = pd.concat([r, r.iloc[[7]]], ignore_index=True)  # row 50 duplicates row 7
    dist, idx = nearest_neighbors(r.iloc[[7]], r, MIXED, k=2)
    assert dist.tolist() == [[0.0, 0.0]]
    assert idx.tolist() == [[7, 50]]


def test_nearest_neighbors_bad_inputs() -> None:
    q, r = _mixed(5, seed=6), _mixed(3, seed=7)
    with pytest.raises(DataValidationError, match="only 3 row"):
        nearest_neighbors(q, r, MIXED, k=4)
    with pytest.raises(ParameterError, match=r"k=0; allowed: an integer >= 1"):
        nearest_neighbors(q, r, MIXED, k=0)
    with pytest.raises(ParameterError, match="n_jobs"):
        nearest_neighbors(q, r, MIXED, n_jobs=0)
    with pytest.raises(DataValidationError, match=r"missing from the query table: \['colour'\]"):
        nearest_neighbors(q.drop(columns="colour"), r, MIXED)
    with pytest.raises(DataValidationError, match=r"not in the schema: \['extra'\]"):
        nearest_neighbors(q.assign(extra=1), r, MIXED)


def test_unknown_category_is_an_error_without_the_value() -> None:
    q = _mixed(5, seed=8)
    q.loc[2, "colour"] = "secret-purple"
    with pytest.raises(DataValidationError) as info:
        nearest_neighbors(q, _mixed(5, seed=9), MIXED)
    assert "colour" in str(info.value)
    assert "secret-purple" not in str(info.value)


def test_distance_matrix_size_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distance_module, "MAX_MATRIX_CELLS", 10)
    with pytest.raises(ResourceLimitError, match="nearest_neighbors"):
        gower_distances(_mixed(4, seed=1), _mixed(4, seed=2), MIXED)


# -------------------------------------------------------------------------- diagnostics
def test_diagnostics_of_a_copy(adult: pd.DataFrame, schema: Schema, perm: np.ndarray) -> None:
    train, holdout = adult.iloc[perm[:1500]], adult.iloc[perm[1500:3000]]
    out = distance_diagnostics(train, holdout, train, schema)
    assert out["exact_copies"] == 1500
    assert out["exact_copy_share"] == 1.0
    assert out["share_closer_to_train"] == 1.0
    assert out["dcr_train"] == {"q05": 0.0, "q50": 0.0, "q95": 0.0, "mean": 0.0}
    assert out["dcr_holdout"]["q50"] > 0.01
    hist = out["histogram"]
    assert len(hist["edges"]) == 51 and hist["edges"][0] == 0.0 and hist["edges"][-1] == 1.0
    assert sum(hist["dcr_train"]) == out["n_synthetic"] == 1500
    assert hist["dcr_train"][0] == 1500
    # only aggregates: no list as long as the data, and valid JSON
    json.dumps(out, allow_nan=False)
    assert max(len(v) for v in hist.values()) <= 51


def test_diagnostics_same_population(adult: pd.DataFrame, schema: Schema,
                                     perm: np.ndarray) -> None:
    train = adult.iloc[perm[:3000]]
    holdout = adult.iloc[perm[3000:9000]]
    other = adult.iloc[perm[9000:12000]]
    out = distance_diagnostics(train, holdout, other, schema, random_state=1)
    assert out["n_reference"] == 3000  # holdout subsampled to the training size
    assert out["share_closer_to_train"] == pytest.approx(0.5, abs=0.05)
    assert out["exact_copy_share"] < 0.01
    assert out["dcr_train"]["q50"] == pytest.approx(out["dcr_holdout"]["q50"], rel=0.2)
    assert 0 < out["nndr_train"]["q50"] <= 1


def test_closer_share_splits_ties() -> None:
    s = Schema((IntegerColumn("x", lower=0, upper=10),))
    out = distance_diagnostics(pd.DataFrame({"x": [1, 1]}), pd.DataFrame({"x": [3, 3]}),
                               pd.DataFrame({"x": [2, 1]}), s)
    # row 2 is a tie (counts half), row 1 is closer to train
    assert out["share_closer_to_train"] == 0.75
    assert out["exact_copies"] == 1


# -------------------------------------------------------------------------- audit bound
def _hand_bound(tp: int, fn: int, fp: int, tn: int, delta: float = 0.0) -> float:
    alpha = 0.05
    tpr_lo = stats.beta.ppf(alpha / 2, tp, fn + 1) if tp > 0 else 0.0
    fpr_hi = stats.beta.ppf(1 - alpha / 2, fp + 1, tn) if tn > 0 else 1.0
    terms = [0.0]
    if tpr_lo - delta > 0:
        terms.append(math.log((tpr_lo - delta) / fpr_hi))
    if 1 - delta - fpr_hi > 0:
        terms.append(math.log((1 - delta - fpr_hi) / (1 - tpr_lo)))
    return max(terms)


@pytest.mark.parametrize(("tp", "fn", "fp", "tn", "delta"), [
    (80, 20, 5, 95, 0.0),
    (80, 20, 5, 95, 1e-3),
    (1000, 0, 500, 500, 0.0),  # the second term binds
    (1000, 0, 0, 1000, 0.0),
    (3, 7, 2, 8, 0.0),
])
def test_epsilon_lower_bound_matches_hand_computation(
    tp: int, fn: int, fp: int, tn: int, delta: float
) -> None:
    assert epsilon_lower_bound(tp, fn, fp, tn, delta=delta) == pytest.approx(
        _hand_bound(tp, fn, fp, tn, delta), rel=1e-9, abs=1e-12)


def test_epsilon_lower_bound_values() -> None:
    # 1000/1000 perfectly separated: CP bounds 0.025^(1/1000) and 1 - that
    p = 0.025 ** (1 / 1000)
    assert epsilon_lower_bound(1000, 0, 0, 1000) == pytest.approx(math.log(p / (1 - p)))
    assert epsilon_lower_bound(50, 50, 50, 50) == 0.0
    # the second term: few false negatives with many false positives
    first = math.log(stats.beta.ppf(0.025, 1000, 1) / stats.beta.ppf(0.975, 501, 500))
    assert epsilon_lower_bound(1000, 0, 500, 500) > first + 3
    lo, hi = clopper_pearson(3, 10)
    assert lo == pytest.approx(stats.beta.ppf(0.025, 3, 8))
    assert hi == pytest.approx(stats.beta.ppf(0.975, 4, 7))


def test_epsilon_lower_bound_bad_inputs() -> None:
    with pytest.raises(ParameterError, match="tp"):
        epsilon_lower_bound(-1, 0, 0, 1)
    with pytest.raises(ParameterError, match="delta"):
        epsilon_lower_bound(1, 0, 0, 1, delta=1.0)
    with pytest.raises(ParameterError, match="at least one member"):
        epsilon_lower_bound(0, 0, 3, 3)
    with pytest.raises(ParameterError, match="confidence"):
        epsilon_lower_bound(1, 1, 1, 1, confidence=1.0)


def test_best_bound_chooses_on_one_half_and_tests_on_the_other() -> None:
    separated = best_epsilon_lower_bound(np.ones(1000), np.zeros(1000))
    assert separated == pytest.approx(epsilon_lower_bound(500, 0, 0, 500))
    rng = np.random.default_rng(0)
    same = best_epsilon_lower_bound(rng.normal(size=2000), rng.normal(size=2000))
    assert same < 0.3
    with pytest.raises(DataValidationError, match="at least 2"):
        best_epsilon_lower_bound([1.0], [0.0, 1.0])
    with pytest.raises(DataValidationError, match="non-finite"):
        best_epsilon_lower_bound([1.0, np.nan], [0.0, 1.0])


def test_tpr_upper_bound_known_values() -> None:
    assert tpr_upper_bound(0.01, 1.0) == pytest.approx(math.e * 0.01)
    assert tpr_upper_bound(0.5, 1.0) == pytest.approx(1 - 0.5 / math.e)
    assert tpr_upper_bound(0.001, 1.0, 1e-5) == pytest.approx(math.e * 0.001 + 1e-5)
    assert tpr_upper_bound(0.2, 0.0) == pytest.approx(0.2)  # no privacy loss: TPR = FPR
    assert tpr_upper_bound(0.5, 20.0) == pytest.approx(1.0, abs=1e-8)
    with pytest.raises(ParameterError, match="fpr"):
        tpr_upper_bound(1.5, 1.0)
    with pytest.raises(ParameterError, match="epsilon"):
        tpr_upper_bound(0.1, -1.0)


# ------------------------------------------------------------------------------ metrics
def test_roc_auc_matches_sklearn_with_ties() -> None:
    rng = np.random.default_rng(0)
    m, n = rng.integers(0, 5, 300).astype(float), rng.integers(0, 4, 200).astype(float)
    y = np.r_[np.ones(300), np.zeros(200)]
    assert roc_auc(m, n) == pytest.approx(roc_auc_score(y, np.r_[m, n]))


def test_tpr_at_fpr_never_exceeds_the_fpr() -> None:
    rng = np.random.default_rng(1)
    m, n = rng.normal(1, 1, 5000), rng.normal(0, 1, 5000)
    for f in (0.001, 0.01, 0.1):
        tpr = tpr_at_fpr(m, n, f)
        threshold = np.sort(n)[::-1][math.floor(f * n.size)]
        assert np.mean(n > threshold) <= f
        assert tpr == np.mean(m > threshold)
    # ties at the top of the non-members are never counted as positives
    assert tpr_at_fpr([1.0, 1.0], [1.0] * 200, 0.01) == 0.0


def test_roc_curve_is_downsampled_and_monotone() -> None:
    rng = np.random.default_rng(2)
    fpr, tpr = roc_curve(rng.normal(1, 1, 3000), rng.normal(0, 1, 3000))
    assert len(fpr) == len(tpr) == 101
    assert fpr[0] == 0.0 and fpr[-1] == 1.0 and tpr[-1] == 1.0
    assert np.all(np.diff(tpr) >= 0)


def test_evaluate_attack_reports_null_tpr_with_reason() -> None:
    rng = np.random.default_rng(3)
    scores = AttackScores("toy", "toy", rng.normal(1, 1, 500), rng.normal(0, 1, 500))
    r = evaluate_attack(scores, n_bootstrap=50)
    assert r.tpr_at_fpr == {"0.001": None, "0.01": None}
    assert any("needs at least 1000 non-members" in note for note in r.notes)
    assert r.auc_ci[0] < r.auc < r.auc_ci[1]
    assert r.auc == pytest.approx(stats.norm.cdf(1 / math.sqrt(2)), abs=0.04)
    with pytest.raises(DataValidationError, match="needs at least 100 non-members"):
        evaluate_attack(AttackScores("toy", "toy", np.ones(50), np.zeros(50)), fprs=[0.1])
    ok = evaluate_attack(AttackScores("toy", "toy", np.ones(100), np.zeros(100)), fprs=[0.1])
    assert ok.tpr_at_fpr == {"0.1": 1.0}


# ------------------------------------------------------------------------------ attacks
def test_copy_synthesizer_is_caught_by_every_attack(
    adult: pd.DataFrame, schema: Schema, perm: np.ndarray
) -> None:
    train, holdout = adult.iloc[perm[:2000]], adult.iloc[perm[2000:4000]]
    engine = CopyEngine()
    result = assess_risk(train, holdout, train, schema, epsilon=1.0,
                         engine_factory=lambda: engine, n_bootstrap=50)
    assert [a.name for a in result.attacks] == ["distance", "density", "shadow"]
    for attack in result.attacks:
        assert attack.auc > 0.9, attack.name
    for name in ("distance", "density"):
        assert result.attack(name).epsilon_lower_bound > 2, name
        tpr = result.attack(name).tpr_at_fpr["0.01"]
        assert tpr is not None and tpr > 0.5
    assert result.exceeds_claim is True
    assert result.verdict == "problem found"
    assert result.verdict_reason.startswith("Problem found by: distance, density")
    assert [a.verdict for a in result.attacks] == ["problem found", "problem found",
                                                   "inconclusive"]  # 5 + 5 shadow targets
    assert any(c.startswith("Problem found: the ") and "not a proof" in c
               for c in result.caveats)
    assert result.diagnostics["exact_copy_share"] == 1.0
    # the shadow fits never charged an accountant
    assert engine.accountants and all(a is None for a in engine.accountants)
    # with enough targets the shadow attack proves a large epsilon too
    scores = shadow_attack(train, holdout, train, schema, CopyEngine, epsilon=1.0,
                           n_targets=100, n_shadows=4)
    assert evaluate_attack(scores, n_bootstrap=0).epsilon_lower_bound > 2


def test_release_from_the_same_population_looks_like_guessing(
    adult: pd.DataFrame, schema: Schema, perm: np.ndarray
) -> None:
    # "synthetic" rows are real rows the synthesizer never saw: nothing can leak
    train = adult.iloc[perm[:3000]]
    holdout = adult.iloc[perm[3000:9000]]
    other = adult.iloc[perm[9000:12000]]
    result = assess_risk(train, holdout, other, schema, epsilon=1.0, n_bootstrap=50)
    for attack in result.attacks:
        assert attack.auc == pytest.approx(0.5, abs=0.05), attack.name
        assert attack.auc_ci[0] < 0.5 + 0.05 and attack.auc_ci[1] > 0.5 - 0.05
        assert attack.epsilon_lower_bound < 1.0
        assert attack.n_members == attack.n_nonmembers == 3000
    assert result.diagnostics["share_closer_to_train"] == pytest.approx(0.5, abs=0.05)
    assert result.exceeds_claim is False
    # 3,000 against 3,000: the test has the power to pass
    assert result.verdict == "no problem found"
    assert all(a.verdict == "no problem found" for a in result.attacks)
    assert any("shadow-model attack was not run" in c for c in result.caveats)
    assert result.tpr_upper_bound == {
        "0.001": pytest.approx(math.e * 0.001), "0.01": pytest.approx(math.e * 0.01)}


def test_privbayes_at_epsilon_one_respects_the_claim(schema: Schema, adult: pd.DataFrame,
                                                     perm: np.ndarray) -> None:
    from privsynth.datasets import load_adult
    from privsynth.engines.privbayes import PrivBayes

    train = adult.iloc[perm[:5000]]
    holdout = load_adult("test").iloc[:4000]
    synthetic = PrivBayes().fit(train, schema=schema, epsilon=1.0).sample(5000, random_state=0)
    result = assess_risk(train, holdout, synthetic, schema, epsilon=1.0, n_bootstrap=20)
    # a bound above the claim would be a privacy bug
    for attack in result.attacks:
        assert attack.epsilon_lower_bound <= 1.0, attack.name
        assert attack.auc < 0.6, attack.name
    assert result.exceeds_claim is False
    assert result.verdict == "no problem found"


def test_model_fitted_on_the_holdout_only_looks_like_guessing(
    adult: pd.DataFrame, schema: Schema, perm: np.ndarray
) -> None:
    # the synthesizer never saw a training row: it was fitted on the holdout alone
    from privsynth.engines.privbayes import PrivBayes

    train, holdout = adult.iloc[perm[:3000]], adult.iloc[perm[3000:9000]]
    synthetic = PrivBayes().fit(holdout, schema=schema, epsilon=1.0).sample(3000,
                                                                            random_state=1)
    result = assess_risk(train, holdout, synthetic, schema, epsilon=1.0, n_bootstrap=20)
    assert [a.name for a in result.attacks] == ["distance", "density"]
    for attack in result.attacks:
        assert attack.auc == pytest.approx(0.5, abs=0.05), attack.name
        assert attack.epsilon_lower_bound <= 1.0, attack.name
    assert result.diagnostics["share_closer_to_train"] == pytest.approx(0.5, abs=0.05)
    assert result.exceeds_claim is False


def test_large_tables_are_cut_first_and_the_result_says_so() -> None:
    train, holdout = _mixed(700, seed=20), _mixed(1300, seed=21)
    synthetic = _mixed(900, seed=22)
    # max_records=30: train and synthetic cut to 300 rows, the holdout to 600
    result = assess_risk(train, holdout, synthetic, MIXED, epsilon=1.0, max_records=30,
                         n_bootstrap=0)
    assert result.settings["large_data_precut"] is True and result.settings["subsampled"]
    assert result.settings["n_synthetic"] == 300
    assert result.attack("distance").n_members == 30
    assert any(c.startswith("Large data: the training and synthetic data were first cut")
               and "at most 300 rows and the holdout to 600" in c for c in result.caveats)
    small = assess_risk(train, holdout, synthetic, MIXED, max_records=300, n_bootstrap=0)
    assert small.settings["large_data_precut"] is False
    assert not any(c.startswith("Large data") for c in small.caveats)


def test_no_exact_private_count_in_texts_or_settings() -> None:
    # odd sizes: the sets derived from them (halves, members) must not be printed
    n_train, n_holdout = 613, 1487
    train, holdout = _mixed(n_train, seed=30), _mixed(n_holdout, seed=31)
    result = assess_risk(train, holdout, _mixed(500, seed=32), MIXED, epsilon=1.0,
                         n_bootstrap=0)
    n_eval = result.attack("distance").n_members
    assert n_eval == min(n_train, n_holdout - n_holdout // 2)
    private = {n_train, n_holdout, n_holdout // 2, n_holdout - n_holdout // 2, n_eval}
    texts = list(result.caveats) + [n for a in result.attacks for n in a.notes]
    texts += [a.verdict_reason for a in result.attacks] + [result.verdict_reason]
    numbers = {int(t) for text in texts for t in re.findall(r"(?<![\w.])\d+(?![\w.])", text)}
    assert not private & numbers, private & numbers
    assert any("subsamples of about 610 members" in c for c in result.caveats)
    assert not {"n_train", "n_holdout", "n_reference"} & set(result.settings)
    # the helper behind it
    assert about(5000, 5000) == "5000" and about(613) == "about 610"
    assert about(1487) == "about 1500" and about(4) == "fewer than 10"


@pytest.mark.slow
def test_privbayes_full_adult_with_shadow_models(schema: Schema, adult: pd.DataFrame) -> None:
    from privsynth.datasets import load_adult
    from privsynth.engines.privbayes import PrivBayes

    holdout = load_adult("test")
    synthetic = PrivBayes().fit(adult, schema=schema, epsilon=1.0).sample(len(adult),
                                                                           random_state=0)
    result = assess_risk(adult, holdout, synthetic, schema, epsilon=1.0,
                         engine_factory=PrivBayes, n_shadows=6)
    assert [a.name for a in result.attacks] == ["distance", "density", "shadow"]
    for attack in result.attacks:
        assert attack.epsilon_lower_bound <= 1.0, attack.name
    assert result.exceeds_claim is False


def test_shadow_fits_see_only_reference_rows_and_targets() -> None:
    train, holdout = _mixed(300, seed=10, missing=0.0), _mixed(300, seed=11, missing=0.0)
    seen: list[pd.DataFrame] = []

    class Recording(CopyEngine):
        def fit(self, data: pd.DataFrame, *, schema: Schema, epsilon: float,
                accountant: Any = None) -> Recording:
            seen.append(data.copy())
            assert accountant is None
            assert epsilon == 0.5
            super().fit(data, schema=schema, epsilon=epsilon, accountant=accountant)
            return self

    scores = shadow_attack(train, holdout, holdout.iloc[:200], MIXED, Recording,
                           epsilon=0.5, n_targets=3, n_shadows=4)
    assert len(seen) == 4
    assert scores.member_scores.shape == scores.nonmember_scores.shape == (3,)
    train_incomes = set(train["income"])
    for data in seen:
        # half of the holdout is the base; each target is inside half of the fits
        from_train = data["income"].isin(train_incomes).sum()
        assert from_train <= 3
        assert len(data) - from_train >= 150
    member_inclusions = sum(int(d["income"].isin(train_incomes).sum()) for d in seen)
    assert member_inclusions == 3 * 4 // 2


# ------------------------------------------------------------------------- result values
def test_risk_result_round_trips_through_json(adult: pd.DataFrame, schema: Schema,
                                              perm: np.ndarray, tmp_path: Any) -> None:
    train, holdout = adult.iloc[perm[:600]], adult.iloc[perm[600:1800]]
    result = assess_risk(train, holdout, adult.iloc[perm[1800:2400]], schema,
                         epsilon=2.0, delta=1e-6, n_bootstrap=10, max_records=400)
    text = result.to_json(tmp_path / "risk.json")
    assert RiskResult.from_json(tmp_path / "risk.json") == result
    assert RiskResult.from_json(text) == result
    data = json.loads(text)
    assert data["format"] == "privsynth.risk" and data["version"] == 2
    assert data["verdict"] == result.verdict and data["n_tests"] == 2
    assert {a["verdict"] for a in data["attacks"]} <= set(VERDICTS)
    assert data["claimed_epsilon"] == 2.0 and data["claimed_delta"] == 1e-6
    assert all(len(a["roc"]["fpr"]) <= 101 for a in data["attacks"])
    assert result.settings["subsampled"] is True and result.settings["n_members"] == 400
    assert any("random subsamples of 400 members" in c for c in result.caveats)
    assert any("not proof of privacy" in c for c in result.caveats)
    with pytest.raises(DataValidationError, match="not a privsynth risk result"):
        RiskResult.from_dict({"format": "something else"})
    with pytest.raises(DataValidationError, match="version"):
        RiskResult.from_dict({**data, "version": 99})


def test_attack_result_normalises_numpy_types() -> None:
    # numpy values where plain ones are declared: the point of the test
    loose: dict[str, Any] = {"n_members": np.int64(3), "auc_ci": (np.float32(0.1), 0.9),
                             "roc_fpr": np.array([0.0, 1.0]), "roc_tpr": [0.0, 1.0]}
    a = AttackResult(name="x", description="d", n_nonmembers=3, auc=np.float64(0.5),
                     tpr_at_fpr={"0.1": np.float64(0.2)}, epsilon_lower_bound=np.float64(0),
                     **loose)
    json.dumps(a.to_dict())
    assert AttackResult.from_dict(a.to_dict()) == a


# ---------------------------------------------------------------------------- bad inputs
def _frames(adult: pd.DataFrame, perm: np.ndarray) -> tuple[pd.DataFrame, ...]:
    return adult.iloc[perm[:300]], adult.iloc[perm[300:600]], adult.iloc[perm[600:900]]


def test_mismatched_columns_are_named(adult: pd.DataFrame, schema: Schema,
                                      perm: np.ndarray) -> None:
    train, holdout, synthetic = _frames(adult, perm)
    with pytest.raises(DataValidationError, match=r"the synthetic data .*\['age'\]") as info:
        assess_risk(train, holdout, synthetic.drop(columns="age"), schema)
    assert info.value.problems == [{"column": "age", "problem": "missing from the synthetic data"}]
    with pytest.raises(DataValidationError, match=r"the holdout .*\['id'\]"):
        assess_risk(train, holdout.assign(id=1), synthetic, schema)
    with pytest.raises(DataValidationError, match="the training data"):
        assess_risk(train.drop(columns="sex"), holdout, synthetic, schema)


def test_empty_or_small_holdout(adult: pd.DataFrame, schema: Schema, perm: np.ndarray) -> None:
    train, holdout, synthetic = _frames(adult, perm)
    with pytest.raises(DataValidationError, match="holdout has no rows") as info:
        assess_risk(train, holdout.iloc[:0], synthetic, schema)
    assert isinstance(info.value, PrivsynthError)
    with pytest.raises(DataValidationError, match="holdout has 10 rows"):
        assess_risk(train, holdout.iloc[:10], synthetic, schema)
    # 150 non-members cannot support an explicitly asked FPR of 1 %
    with pytest.raises(DataValidationError, match=r"FPR 0.01 needs at least 1000 non-members"):
        assess_risk(train, holdout, synthetic, schema, fprs=[0.01])


def test_bad_parameters(adult: pd.DataFrame, schema: Schema, perm: np.ndarray) -> None:
    train, holdout, synthetic = _frames(adult, perm)
    with pytest.raises(ParameterError, match="give epsilon="):
        assess_risk(train, holdout, synthetic, schema, engine_factory=CopyEngine)
    with pytest.raises(ParameterError, match=r"epsilon=-1.0; allowed: a finite number > 0"):
        assess_risk(train, holdout, synthetic, schema, epsilon=-1.0)
    with pytest.raises(ParameterError, match="delta"):
        assess_risk(train, holdout, synthetic, schema, delta=1.5)
    with pytest.raises(ParameterError, match="max_records"):
        assess_risk(train, holdout, synthetic, schema, max_records=1)
    with pytest.raises(ParameterError, match="false positive rate"):
        assess_risk(train, holdout, synthetic, schema, fprs=[0.0])
    with pytest.raises(ParameterError, match="schema must be a privsynth Schema"):
        assess_risk(train, holdout, synthetic, {"columns": []})  # type: ignore[arg-type]

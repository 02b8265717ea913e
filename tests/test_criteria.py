"""The WP29 anonymisation criteria: singling out, linkability, inference (issue 20).

The main fixture builds, from the bundled Adult splits, 1,500 members (training
rows), 1,500 control rows and four synthetic tables: a copy of the members, a
naively perturbed copy (ages and hours jittered by +-2, 20 % of occupations and
workclasses swapped), an independent sample of the same population (other test
rows, evaluated against the control set) and a PrivBayes release at epsilon 1.
The slow test repeats the yardstick of issue 20 at 5,000 rows.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from benchmarks.bench_criteria import perturb, tables
from privsynth.engines.privbayes import PrivBayes
from privsynth.errors import DataValidationError, ParameterError, PrivsynthError
from privsynth.risk.criteria import CriteriaResult, assess_criteria, criterion_verdict
from privsynth.risk.inference_attack import inference_risk
from privsynth.risk.linkability import linkability_risk
from privsynth.risk.singling_out import singling_out_risk
from privsynth.risk.success_rate import (
    CriterionResult,
    normalised_risk,
    score_attack,
    wilson_interval,
)
from privsynth.schema import Schema

N = 1500


@pytest.fixture(scope="module")
def adult_sets(adult_schema: Schema) -> dict[str, pd.DataFrame]:
    t = tables(seed=0, n=N)
    t["privbayes"] = PrivBayes().fit(t["members"], schema=adult_schema,
                                     epsilon=1.0).sample(N, random_state=0)
    return t


@pytest.fixture(scope="module")
def results(adult_sets: dict[str, pd.DataFrame],
            adult_schema: Schema) -> dict[str, CriteriaResult]:
    t = adult_sets
    cases = {"copy": (t["members"], t["control"]),
             "perturbed": (t["perturbed"], t["control"]),
             "independent": (t["control2"], t["control"]),
             "privbayes": (t["privbayes"], t["control"])}
    return {name: assess_criteria(t["members"], control, synthetic, adult_schema,
                                  n_attacks=1000, random_state=1)
            for name, (synthetic, control) in cases.items()}


# ---------------------------------------------------------------------------
# the yardstick cases
# ---------------------------------------------------------------------------
def test_copies_are_flagged_on_every_criterion(results: dict[str, CriteriaResult]) -> None:
    copy = results["copy"]
    assert copy.singling_out.risk > 0.95 and copy.singling_out.success_rate > 0.95
    assert copy.inference.risk > 0.9
    assert copy.linkability.risk > 0.2
    for c in copy:
        assert criterion_verdict(c) in ("moderate", "high"), c.name
        assert c.risk_ci[0] > 0.15, c.name


def test_perturbed_copies_are_flagged(results: dict[str, CriteriaResult]) -> None:
    pert = results["perturbed"]
    assert pert.singling_out.risk > 0.5
    assert pert.inference.risk > 0.5
    assert pert.linkability.risk > 0.1
    for c in pert:
        assert c.risk_ci[0] > 0.08, c.name
        # far above what a DP release shows
        assert c.risk > getattr(results["privbayes"], c.name).risk + 0.1, c.name


@pytest.mark.parametrize("case", ["independent", "privbayes"])
def test_releases_without_members_score_near_zero(results: dict[str, CriteriaResult],
                                                  case: str) -> None:
    r = results[case]
    assert r.singling_out.risk < 0.08
    assert r.linkability.risk < 0.02
    # the worst of 9 secrets x 2 attacks on 1,500 people: chance alone reaches ~0.15
    assert r.inference.risk < 0.25
    for c in r:
        # no excess beyond chance: every interval reaches zero
        assert c.risk_ci[0] == 0.0, c.name
    assert criterion_verdict(r.singling_out) == "not detected"
    assert criterion_verdict(r.linkability) == "not detected"
    # 1,500 people cannot exclude an inference risk of 0.25 for every secret column
    assert criterion_verdict(r.inference) in ("not detected", "inconclusive")


def test_the_ordering_of_the_yardstick(results: dict[str, CriteriaResult]) -> None:
    for name in ("singling_out", "linkability", "inference"):
        copy, pert, pb = (getattr(results[k], name).risk
                          for k in ("copy", "perturbed", "privbayes"))
        assert copy >= pert > pb, name


def test_population_level_inference_is_not_counted(results: dict[str, CriteriaResult]) -> None:
    # an independent sample predicts income for strangers as well as anyone: a high
    # control rate, and no risk
    income = results["independent"].inference.details["by_secret"]["income"]
    assert income["model"]["control_rate"] > 0.75
    assert income["risk"] < 0.25


def test_result_fields_and_json(results: dict[str, CriteriaResult]) -> None:
    d = results["copy"].to_dict()
    assert list(d) == ["singling_out", "linkability", "inference"]
    for name, c in d.items():
        for key in ("risk", "risk_ci", "success_rate", "success_ci", "control_rate",
                    "control_ci", "n_attacks", "columns", "interval"):
            assert key in c, (name, key)
        assert c["interval"] == "wilson"
        assert 0 <= c["risk_ci"][0] <= c["risk"] <= c["risk_ci"][1] <= 1
        assert c["success_ci"][0] <= c["success_rate"] <= c["success_ci"][1]
    assert d["singling_out"]["n_attacks"] == 1000
    assert d["inference"]["secret"] in d["inference"]["details"]["by_secret"]
    assert set(d["linkability"]["details"]["columns_a"]).isdisjoint(
        d["linkability"]["details"]["columns_b"])
    back = CriteriaResult.from_dict(json.loads(json.dumps(d)))
    assert back.to_dict() == d
    with pytest.raises(DataValidationError):
        CriteriaResult.from_dict({"singling_out": d["singling_out"]})


def test_reproducible(adult_sets: dict[str, pd.DataFrame], adult_schema: Schema) -> None:
    t = adult_sets
    small = t["members"].iloc[:300]
    a = assess_criteria(small, t["control"], t["perturbed"], adult_schema, n_attacks=200,
                        random_state=3, model=False)
    b = assess_criteria(small, t["control"], t["perturbed"], adult_schema, n_attacks=200,
                        random_state=3, model=False)
    assert a.to_dict() == b.to_dict()


# ---------------------------------------------------------------------------
# intervals: coverage
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("n", [20, 100, 1000])
@pytest.mark.parametrize("p", [0.01, 0.1, 0.5, 0.9])
def test_wilson_interval_covers_at_its_level(n: int, p: float) -> None:
    # exact coverage probability, summed over the binomial distribution
    k = np.arange(n + 1)
    covered = np.array([lo <= p <= hi for lo, hi in (wilson_interval(int(j), n) for j in k)])
    coverage = float(stats.binom.pmf(k, n, p)[covered].sum())
    assert coverage > 0.90, coverage  # Wilson keeps close to 95 % even near 0 and 1
    # and the interval is not trivially wide
    lo, hi = wilson_interval(round(n * p), n)
    assert hi - lo < 4 * math.sqrt(p * (1 - p) / n) + 4 / n


def _ids(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame({"a": rng.choice(10**6, n, replace=False),
                         "b": rng.choice(10**6, n, replace=False)})


def test_intervals_cover_the_truth_on_a_planted_linkage() -> None:
    # Every member is copied into the synthetic data with probability p; a copied member
    # is always linked (its two halves are unique), any other target only by chance 1/n.
    # The true success rate is p + (1 - p)/n, the control rate 1/n, so the risk is p.
    schema = Schema.from_dict({"columns": [
        {"name": "a", "kind": "integer", "lower": 0, "upper": 10**6},
        {"name": "b", "kind": "integer", "lower": 0, "upper": 10**6}]})
    n, p, reps = 200, 0.3, 60
    rng = np.random.default_rng(7)
    hit_rate = hit_risk = 0
    for rep in range(reps):
        members, control = _ids(rng, n), _ids(rng, n)
        copied = members[rng.random(n) < p]
        synthetic = pd.concat([copied, _ids(rng, n - len(copied))], ignore_index=True)
        r = linkability_risk(members, control, synthetic, schema, columns=(["a"], ["b"]),
                             random_state=rep, n_jobs=1)
        hit_rate += r.success_ci[0] <= p + (1 - p) / n <= r.success_ci[1]
        hit_risk += r.risk_ci[0] <= p <= r.risk_ci[1]
    assert hit_rate / reps >= 0.88, hit_rate
    assert hit_risk / reps >= 0.9, hit_risk


def test_risk_interval_is_conservative_and_ordered() -> None:
    r = score_attack("inference", 600, 1000, 500, 1000, columns=["x"], secret="x")
    assert r.risk == pytest.approx(0.2)
    lo, hi = r.risk_ci
    assert 0 < lo < 0.2 < hi < 0.4
    assert normalised_risk(r.success_ci[0], r.control_ci[1]) >= lo
    # a control run that is already perfect leaves nothing to gain: risk 0
    assert score_attack("inference", 10, 10, 10, 10, columns=["x"]).risk == 0.0


# ---------------------------------------------------------------------------
# the attacks one by one
# ---------------------------------------------------------------------------
def test_singling_out_with_a_smaller_control_set_understates(
        adult_sets: dict[str, pd.DataFrame], adult_schema: Schema) -> None:
    t = adult_sets
    half = t["control"].iloc[: N // 2]
    r = singling_out_risk(t["members"], half, t["members"], adult_schema, n_attacks=500)
    assert r.details["control_scaled"] is True
    assert any("scaled up" in note for note in r.notes)
    assert r.risk > 0.9  # a copy stays flagged
    fresh = singling_out_risk(t["members"], half, t["control2"], adult_schema, n_attacks=500)
    assert fresh.risk < 0.05


def test_singling_out_with_nothing_to_isolate() -> None:
    schema = Schema.from_dict({"columns": [
        {"name": "c", "kind": "categorical", "categories": ["a", "b"]}]})
    twins = pd.DataFrame({"c": ["a", "a", "b", "b"]})
    r = singling_out_risk(twins, twins, twins, schema, n_attacks=10)
    assert r.n_attacks == 0 and r.risk == 0.0 and criterion_verdict(r) == "not measured"
    assert any("nothing to bet on" in note for note in r.notes)


def test_exact_predicates_single_out_an_untouched_identifier(adult_schema: Schema) -> None:
    # numbers compared exactly: one unique weight is enough to isolate its row
    t = tables(seed=2, n=400)
    synthetic = t["control2"].copy()
    synthetic["fnlwgt"] = t["members"]["fnlwgt"].to_numpy()  # only the weights leak
    r = singling_out_risk(t["members"], t["control"], synthetic, adult_schema,
                          n_attacks=400, tolerance=0.0)
    assert r.risk > 0.5
    assert r.details["mean_conditions"] < 2


def test_inference_on_a_chosen_secret_and_known_columns(
        adult_sets: dict[str, pd.DataFrame], adult_schema: Schema) -> None:
    t = adult_sets
    r = inference_risk(t["members"], t["control"], t["members"], adult_schema,
                       secrets="income", known=["age", "fnlwgt", "sex"], model=False)
    assert r.secret == "income" and r.columns == ("age", "fnlwgt", "sex", "income")
    assert list(r.details["by_secret"]) == ["income"]
    assert r.risk > 0.9  # fnlwgt and age find the copy
    assert any("known" in note for note in r.notes)


def test_inference_on_a_numeric_secret_uses_the_tolerance(
        adult_sets: dict[str, pd.DataFrame], adult_schema: Schema) -> None:
    t = adult_sets
    r = inference_risk(t["members"], t["control"], t["perturbed"], adult_schema,
                       secrets=["age"], tolerance=0.05, model=False)
    assert r.risk > 0.5  # jitter of 2 years is within 5 % of 17..90
    exact = inference_risk(t["members"], t["control"], t["perturbed"], adult_schema,
                           secrets=["age"], tolerance=0.0, model=False)
    assert exact.success_rate < r.success_rate


def test_one_search_for_all_secrets_matches_a_search_per_secret(
        adult_sets: dict[str, pd.DataFrame], adult_schema: Schema) -> None:
    from privsynth.risk._encode import encode
    from privsynth.risk._nearest_many import nearest_without
    from privsynth.risk._subset import numeric_mask, restrict, value_matrix
    from privsynth.risk.distance import knn_encoded, pair_distances

    names = list(adult_schema.names)
    q = encode(adult_sets["perturbed"].iloc[:150], adult_schema)
    r = encode(adult_sets["privbayes"].iloc[:700], adult_schema)
    drop = [names.index(c) for c in ("age", "workclass", "income")]
    idx = nearest_without(value_matrix(q, adult_schema, names),
                          value_matrix(r, adult_schema, names),
                          numeric_mask(adult_schema, names), drop, n_jobs=2)
    rows = np.arange(q.n_rows)
    for k, s in enumerate(drop):
        known = [n for i, n in enumerate(names) if i != s]
        qk, rk = restrict(q, adult_schema, known), restrict(r, adult_schema, known)
        best, _ = knn_encoded(qk, rk, 1, n_jobs=1)
        chosen = pair_distances(qk, rows, rk, idx[:, k])
        np.testing.assert_allclose(chosen, best[:, 0], atol=1e-6)


def test_linkability_default_columns_are_the_two_halves(
        adult_sets: dict[str, pd.DataFrame], adult_schema: Schema) -> None:
    r = linkability_risk(adult_sets["members"], adult_sets["control"],
                         adult_sets["members"], adult_schema, max_records=300)
    names = list(adult_schema.names)
    assert r.details["columns_a"] == names[:7] and r.details["columns_b"] == names[7:]
    assert r.n_attacks == 300


# ---------------------------------------------------------------------------
# through assess_risk
# ---------------------------------------------------------------------------
def test_assess_risk_carries_the_criteria(adult_sets: dict[str, pd.DataFrame],
                                          adult_schema: Schema) -> None:
    from privsynth.risk import RiskResult, assess_risk

    t = adult_sets
    r = assess_risk(t["members"].iloc[:400], t["control"].iloc[:600], t["members"].iloc[:400],
                    adult_schema, n_bootstrap=0, secrets=["income", "sex"],
                    criteria_options={"n_attacks": 300, "model": False})
    d = r.to_dict()["criteria"]
    assert set(d) == {"singling_out", "linkability", "inference"}
    assert d["singling_out"]["risk"] > 0.9 and d["inference"]["risk"] > 0.9
    assert d["inference"]["secret"] in ("income", "sex")
    assert set(d["inference"]["details"]["by_secret"]) == {"income", "sex"}
    assert r.settings["criteria"]["secrets"] == ["income", "sex"]
    assert any("not proof" in c for c in r.caveats)
    assert RiskResult.from_json(r.to_json()) == r
    off = assess_risk(t["members"].iloc[:100], t["control"].iloc[:100], t["members"].iloc[:100],
                      adult_schema, n_bootstrap=0, criteria=False)
    assert off.criteria is None and off.to_dict()["criteria"] is None
    with pytest.raises(ParameterError, match="unknown setting"):
        assess_risk(t["members"].iloc[:100], t["control"].iloc[:100], t["members"].iloc[:100],
                    adult_schema, criteria_options={"secret": ["income"]})


def test_criteria_a_schema_cannot_support_are_not_run() -> None:
    from privsynth.risk import assess_risk

    schema = Schema.from_dict({"columns": [
        {"name": "x", "kind": "float", "lower": 0, "upper": 1}]})
    rng = np.random.default_rng(0)
    train, holdout = (pd.DataFrame({"x": rng.random(n)}) for n in (200, 400))
    r = assess_risk(train, holdout, train, schema, n_bootstrap=0)
    assert r.criteria is not None
    assert r.criteria.singling_out.risk > 0.9
    for c in (r.criteria.linkability, r.criteria.inference):
        assert c.n_attacks == 0 and c.risk == 0.0 and "not measured" in c.notes[0]
        assert criterion_verdict(c) == "not measured"
    # but an explicit request the schema cannot satisfy is an error
    with pytest.raises(ParameterError):
        assess_risk(train, holdout, train, schema, secrets=["x"])


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, words", [
    ({"secrets": ["nope"]}, "not in the schema"),
    ({"secrets": []}, "empty"),
    ({"known": ["income"], "secrets": ["income"]}, "at least one known column"),
    ({"link_columns": (["age"], ["age", "sex"])}, "share ['age']"),
    ({"link_columns": ["age"]}, "pair of column lists"),
    ({"tolerance": 1.5}, "tolerance"),
    ({"n_attacks": 0}, "n_attacks"),
    ({"confidence": 1.0}, "confidence"),
    ({"max_records": True}, "max_records"),
    ({"random_state": -1}, "random_state"),
])
def test_argument_errors(adult_sets: dict[str, pd.DataFrame], adult_schema: Schema,
                         kwargs: dict[str, Any], words: str) -> None:
    t = adult_sets
    with pytest.raises(ParameterError) as info:
        assess_criteria(t["members"], t["control"], t["members"], adult_schema, **kwargs)
    assert words in str(info.value)


def test_data_errors_name_columns_not_values(adult_sets: dict[str, pd.DataFrame],
                                            adult_schema: Schema) -> None:
    t = adult_sets
    bad = t["members"].copy()
    bad.loc[3, "workclass"] = "Secret-Employer-XYZ"
    with pytest.raises(PrivsynthError) as info:
        assess_criteria(bad, t["control"], t["members"], adult_schema)
    assert "workclass" in str(info.value) and "Secret-Employer-XYZ" not in str(info.value)
    with pytest.raises(DataValidationError, match=r"missing from the training data: \['age'\]"):
        assess_criteria(t["members"].drop(columns="age"), t["control"], t["members"],
                        adult_schema)


def test_malformed_results_are_refused() -> None:
    good = score_attack("singling_out", 1, 2, 0, 2, columns=["a"]).to_dict()
    with pytest.raises(DataValidationError):
        CriterionResult.from_dict("singling_out", {**good, "risk": "high"})
    with pytest.raises(DataValidationError):
        CriterionResult.from_dict("singling_out", {**good, "risk_ci": [0.5, 0.1]})
    with pytest.raises(ParameterError):
        score_attack("membership", 1, 2, 0, 2, columns=["a"])


# ---------------------------------------------------------------------------
# the yardstick of issue 20 (slow: 5,000 rows)
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_yardstick_ordering_on_5000_adult_rows() -> None:
    from benchmarks.bench_criteria import run

    rows = run(seed=0)["releases"]
    for name in ("singling_out", "linkability", "inference"):
        copy, pert, pb, ind = (rows[k][name]["risk"]
                               for k in ("copy", "perturbed", "privbayes_eps1", "independent"))
        assert copy >= pert > pb, name
        assert pert > 3 * max(pb, ind, 0.02), name
        assert pb < 0.1 and ind < 0.1, name
    assert rows["copy"]["income"]["risk"] > 0.8 and rows["perturbed"]["income"]["risk"] > 0.5
    assert rows["privbayes_eps1"]["income"]["risk"] < 0.1


def test_perturb_changes_what_it_says(adult_sets: dict[str, pd.DataFrame]) -> None:
    m = adult_sets["members"]
    p = perturb(m, np.random.default_rng(5))
    assert (p["age"] - m["age"]).abs().max() <= 2 and (p["age"] != m["age"]).mean() > 0.5
    changed = (p["occupation"].fillna("?") != m["occupation"].fillna("?")).mean()
    assert 0.05 < changed <= 0.2
    assert (p["income"] == m["income"]).all()

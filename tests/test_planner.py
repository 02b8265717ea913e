"""The budget planner (issue 19): public inputs only, the engine's own rules, and predictions
that match real releases.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import privsynth as ps
from privsynth import cli
from privsynth.metrics import marginal_tvd
from privsynth.schema import Schema


def _no_data(*args: object, **kwargs: object) -> object:
    raise AssertionError("the planner must not read data")


@pytest.fixture
def no_data_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way privsynth reads a data table raises."""
    import privsynth.io

    for mod, name in ((privsynth.io, "read_table"), (pd, "read_csv"), (pd, "read_parquet")):
        monkeypatch.setattr(mod, name, _no_data)


# ------------------------------------------------------------------ public inputs only
def test_plan_reads_no_data_and_spends_nothing(no_data_reads: None, adult_schema: Schema) -> None:
    p = ps.plan(adult_schema, [0.3, 3], n=5_000, delta=1e-6)
    assert [e.epsilon for e in p.plans] == [0.3, 3.0]
    assert p.rows == 5_000 and p.synthetic_rows == 5_000 and p.delta == 1e-6
    assert p.columns == 15 and p.pairs == 105
    for e in p.plans:
        assert 0 < e.tvd1 < e.tvd2 < 1


def test_cli_plan_runs_with_no_data_file(no_data_reads: None, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    schema = tmp_path / "s.json"
    ps.datasets.adult_schema().to_json(schema)
    monkeypatch.chdir(tmp_path)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["s.json"]  # no data anywhere
    code = cli.main(["plan", "--schema", str(schema), "--rows", "30000",
                     "--epsilon", "0.1,1,10", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    doc = json.loads(out)
    assert [p["epsilon"] for p in doc["plans"]] == [0.1, 1.0, 10.0]
    assert {"epsilon", "tvd1", "tvd2", "degree", "verdict", "message",
            "tables"} <= set(doc["plans"][0])
    tvd2 = [p["tvd2"] for p in doc["plans"]]
    assert tvd2 == sorted(tvd2, reverse=True)


def test_cli_plan_table_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = tmp_path / "s.json"
    ps.datasets.adult_schema().to_json(schema)
    page = tmp_path / "plan.html"
    code = cli.main(["plan", "--schema", str(schema), "--rows", "500", "--epsilon", "0.1,10",
                     "--html", str(page), "--target", "0.2"])
    out = capsys.readouterr().out
    assert code == 0
    assert "epsilon" in out and "noise-dominated" in out and "Goal tvd2 <= 0.2" in out
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count("<polyline") == 2
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


@pytest.mark.parametrize("argv", [
    ["--epsilon", "0,1"], ["--epsilon", "x"], ["--rows", "0"], ["--engine", "dpctgan"],
])
def test_cli_plan_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               argv: list[str]) -> None:
    schema = tmp_path / "s.json"
    ps.datasets.adult_schema().to_json(schema)
    base = ["plan", "--schema", str(schema), "--rows", "100"]
    assert cli.main(base + argv) == 2
    assert capsys.readouterr().err.startswith("privsynth: error:")


def test_cli_plan_missing_schema_is_invalid_input(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["plan", "--schema", str(tmp_path / "none.json"), "--rows", "10"]) == 4
    assert "schema file not found" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs, match", [
    ({"engine": "ctgan"}, "planner knows"),
    ({"epsilons": [0.0]}, "epsilon"),
    ({"epsilons": []}, "empty"),
    ({"epsilons": "1"}, "list of positive numbers"),
    ({"n": 0}, "n"),
    ({"target": 0}, "target"),
    ({"engine_options": {"colour": 1}}, "parameters"),
    ({"engine_options": {"theta": -1}}, "theta"),
])
def test_plan_errors(adult_schema: Schema, kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"n": 100, **kwargs}
    with pytest.raises(ps.ParameterError, match=match):
        ps.plan(adult_schema, **args)  # type: ignore[arg-type]


def test_plan_needs_a_schema() -> None:
    with pytest.raises(ps.ParameterError, match="Schema"):
        ps.plan({"columns": []}, n=10)  # type: ignore[arg-type]


# -------------------------------------------------------------- shape of the predictions
def test_more_budget_or_rows_predict_less_error(adult_schema: Schema) -> None:
    eps = [0.05, 0.3, 1, 3, 30]
    small = ps.plan(adult_schema, eps, n=400).plans
    large = ps.plan(adult_schema, eps, n=40_000).plans
    for plans in (small, large):
        assert [p.tvd2 for p in plans] == sorted((p.tvd2 for p in plans), reverse=True)
        assert [p.tvd1 for p in plans] == sorted((p.tvd1 for p in plans), reverse=True)
    assert all(s.tvd2 > g.tvd2 for s, g in zip(small, large, strict=True))
    # the theta rule: more signal per cell allows larger tables, so a higher degree
    assert small[0].degree <= small[-1].degree and large[0].degree < large[-1].degree
    assert small[0].verdict == "noise-dominated" and large[-1].verdict == "good"
    assert "drowned in noise" in small[0].message
    assert small[0].drowned_pairs > 0.5 and large[-1].drowned_pairs == 0


def test_fewer_synthetic_rows_add_sampling_error(adult_schema: Schema) -> None:
    full = ps.plan(adult_schema, 10, n=30_000).plans[0]
    few = ps.plan(adult_schema, 10, n=30_000, synthetic_rows=1_000).plans[0]
    assert few.tvd1 > 1.5 * full.tvd1


def test_plan_follows_the_engine_parameters(adult_schema: Schema) -> None:
    base = ps.plan(adult_schema, 1, n=30_000).plans[0]
    independent = ps.plan(adult_schema, 1, n=30_000, engine_options={"degree": 0}).plans[0]
    assert independent.degree == 0 and independent.covered_pairs == 0
    assert base.degree > 0 and base.covered_pairs > 0
    strict = ps.plan(adult_schema, 1, n=30_000, engine_options={"theta": 40}).plans[0]
    assert strict.clique_cap < base.clique_cap


def test_plan_agrees_with_a_fit_on_cap_and_degree(adult_schema: Schema) -> None:
    """The planner calls the engine's rules: a fit with the same noisy n gets the same cap."""
    df = ps.datasets.load_adult().head(3000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ps.PrivBayes().fit(df, schema=adult_schema, epsilon=2.0)
    # the noisy row count the engine's caps came from (the recorded n_hat_ also uses
    # the tables, drawn after the caps)
    n_hat = round(model.describe()["budget"]["rows_for_caps"])
    p = ps.plan(adult_schema, 2.0, n=n_hat).plans[0]
    assert abs(p.clique_cap - model.clique_cap_) <= 1
    assert model.describe()["degree"] == round(p.degree)


def test_privacy_units_multiply_the_noise(adult_schema: Schema) -> None:
    """A unit of k rows: sensitivity k, so the plan at epsilon e matches rows at e / k."""
    row = ps.plan(adult_schema, [1.0, 3.0], n=30_000).plans
    unit = ps.plan(adult_schema, [1.0, 3.0], n=30_000, max_rows_per_unit=4).plans
    assert all(u.tvd2 > r.tvd2 and u.noise_tvd2 > r.noise_tvd2
               for u, r in zip(unit, row, strict=True))
    assert unit[0].clique_cap == pytest.approx(row[0].clique_cap / 4, abs=1)
    with pytest.raises(ps.ParameterError, match="max_rows_per_unit"):
        ps.plan(adult_schema, 1, n=100, max_rows_per_unit=0)


def test_identifier_columns_are_not_planned() -> None:
    schema = Schema.from_dict({"columns": [
        {"name": "pid", "kind": "id"},
        {"name": "a", "kind": "categorical", "categories": ["x", "y"]},
        {"name": "b", "kind": "integer", "lower": 0, "upper": 9}]})
    p = ps.plan(schema, 1, n=1000)
    assert p.columns == 2 and p.pairs == 1


def test_target_gives_the_smallest_epsilon_reaching_it(adult_schema: Schema) -> None:
    p = ps.plan(adult_schema, [1], n=20_000, target=0.1)
    eps = p.epsilon_for_target
    assert eps is not None
    assert ps.plan(adult_schema, eps, n=20_000).plans[0].tvd2 <= 0.1
    assert ps.plan(adult_schema, eps * 0.9, n=20_000).plans[0].tvd2 > 0.1
    assert ps.plan(adult_schema, [1], n=50, target=0.001).epsilon_for_target is None


def test_plan_to_dict_is_json(adult_schema: Schema) -> None:
    doc = ps.plan(adult_schema, [1], n=1000).to_dict()
    again = json.loads(json.dumps(doc))
    assert again["format"] == "privsynth.plan.v1" and again["engine"] == "privbayes"
    assert again["plans"][0]["tables"][0]["noise_to_count"] > 0
    assert "fnlwgt" in again["coarse_columns"]


# -------------------------------------------------------------------- against real fits
def _measured(df: pd.DataFrame, schema: Schema, eps: float, seeds: int) -> tuple[float, float]:
    t1, t2 = [], []
    for seed in range(seeds):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ps.PrivBayes().fit(df, schema=schema, epsilon=eps)
        syn = model.sample(len(df), random_state=seed)
        t1.append(marginal_tvd(df, syn, way=1, schema=schema))
        t2.append(marginal_tvd(df, syn, way=2, schema=schema))
    return float(np.mean(t1)), float(np.mean(t2))


@pytest.mark.parametrize("eps", [1.0, 10.0])
def test_prediction_within_factor_2_on_the_adult_fixture(adult_sample: pd.DataFrame,
                                                         adult_schema: Schema,
                                                         eps: float) -> None:
    """400 rows of Adult (tests/data): the prediction is within a factor 2 of real fits."""
    pred = ps.plan(adult_schema, eps, n=len(adult_sample)).plans[0]
    tvd1, tvd2 = _measured(adult_sample, adult_schema, eps, seeds=3)
    assert 0.5 <= pred.tvd1 / tvd1 <= 2.0, (pred.tvd1, tvd1)
    assert 0.5 <= pred.tvd2 / tvd2 <= 2.0, (pred.tvd2, tvd2)


@pytest.mark.slow
@pytest.mark.parametrize("eps", [0.3, 1.0])
def test_prediction_within_factor_2_on_bundled_adult(adult_schema: Schema, eps: float) -> None:
    """All 32,561 rows of the bundled Adult training split."""
    df = ps.datasets.load_adult()
    pred = ps.plan(adult_schema, eps, n=len(df)).plans[0]
    tvd1, tvd2 = _measured(df, adult_schema, eps, seeds=2)
    assert 0.5 <= pred.tvd1 / tvd1 <= 2.0, (pred.tvd1, tvd1)
    assert 0.5 <= pred.tvd2 / tvd2 <= 2.0, (pred.tvd2, tvd2)


# ------------------------------------------------------------------------- DP-CTGAN
def test_dpctgan_plan_needs_delta_below_one_over_n(adult_schema: Schema) -> None:
    with pytest.raises(ps.ParameterError, match="delta below 1/n"):
        ps.plan(adult_schema, 1, n=400, engine="dpctgan")
    with pytest.raises(ps.ParameterError, match="delta below 1/n"):
        ps.plan(adult_schema, 1, n=400, engine="dpctgan", delta=0.01)
    with pytest.raises(ps.ParameterError, match="no parameters"):
        ps.plan(adult_schema, 1, n=400, engine="dpctgan", delta=1e-6,
                engine_options={"theta": 4})


@pytest.mark.slow  # two DP-SGD calibrations (~20 s idle)
def test_dpctgan_plan_names_too_few_steps_and_too_much_noise(adult_schema: Schema) -> None:
    """Measured on Adult (docs/dpctgan.md): a GAN needs ~300 steps; noise matters below ~1."""
    pytest.importorskip("torch")

    def msg(n: int, eps: float, **options: object) -> str:
        return ps.plan(adult_schema, eps, n=n, engine="dpctgan", delta=1e-7,
                       engine_options=options).plans[0].message

    short = msg(10_000, 3.0, epochs=10)  # 100 steps: learned little whatever the noise
    assert "only 100 DP-SGD steps" in short and "raise it to 30" in short
    assert "noise drowns" not in short
    noisy = msg(1000, 0.3)
    assert "not expected to learn" in noisy and "the noise drowns" in noisy
    assert "DP-SGD steps" not in noisy


@pytest.mark.slow
def test_dpctgan_plan_agrees_with_the_fit_on_learnability(adult_sample: pd.DataFrame,
                                                          adult_schema: Schema) -> None:
    """400 rows at epsilon 1: the plan says DP-SGD cannot learn, and the fit warns so."""
    pytest.importorskip("torch")
    from privsynth.engines.dpctgan import CannotLearnWarning

    p = ps.plan(adult_schema, 1.0, n=len(adult_sample), engine="dpctgan", delta=1e-5,
                engine_options={"epochs": 1})
    e = p.plans[0]
    assert e.learnability is not None and e.learnability < 10
    assert "not expected to learn" in e.message and "use PrivBayes" in e.message
    assert "only 1 DP-SGD steps" in e.message
    assert "DP-SGD s/n" in p.table()
    with pytest.warns(CannotLearnWarning):
        ps.DPCTGAN(epochs=1).fit(adult_sample, schema=adult_schema, epsilon=1.0, delta=1e-5)
    big = ps.plan(adult_schema, 3.0, n=30_000, engine="dpctgan", delta=1e-6).plans[0]
    assert big.learnability is not None and big.learnability > 10
    assert "can learn" in big.message


def test_the_plan_follows_the_target_star_of_a_small_table() -> None:
    """500 Adult rows at epsilon 3: independent marginals without a target, the target
    star (degree 1, every column's table holds the target) with one, as the fit decides."""
    schema = ps.datasets.adult_schema()
    plain = ps.plan(schema, [3.0], n=500).plans[0]
    star = ps.plan(schema, [3.0], n=500, engine_options={"target": "income"}).plans[0]
    assert plain.degree == 0 and star.degree == 1
    assert star.tvd2 < plain.tvd2  # the target's pairs are measured

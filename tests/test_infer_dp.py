"""Tests of DP schema inference (privsynth.inference.infer_dp)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from privsynth import mechanisms
from privsynth._infer_plan import category_threshold, public_grid
from privsynth.accounting import Accountant, ApproxDPEvent, ExponentialEvent, LaplaceEvent
from privsynth.accounting.persistent import FileAccountant
from privsynth.columns import (
    BooleanColumn,
    CategoricalColumn,
    DatetimeColumn,
    FloatColumn,
    IntegerColumn,
)
from privsynth.errors import (
    BudgetExceededError,
    DataValidationError,
    IncompleteDraftError,
    ParameterError,
    PartialInferenceError,
    SchemaError,
)
from privsynth.inference import InferencePlan, infer_dp, plan_inference
from privsynth.mechanisms import InsecureNoiseWarning, Noise
from privsynth.schema import Schema
from privsynth.schema_import import complete, fill, needs

# Public coarse ranges (documented or physical limits, not read from the data).
ADULT_COARSE = {
    "age": (0, 150), "fnlwgt": (0, 2_000_000), "education-num": (0, 30),
    "capital-gain": (0, 100_000), "capital-loss": (0, 10_000), "hours-per-week": (0, 168),
}


def seeded(seed: int) -> Noise:
    with pytest.warns(InsecureNoiseWarning):
        return Noise.insecure_for_tests(seed)


class SpyNoise(Noise):
    """Records source() calls: nothing may be drawn when a request is refused."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def source(self) -> mechanisms.RandomSource:
        self.calls += 1
        return super().source()


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    from privsynth.datasets import load_adult

    return load_adult()


def _coarse_for(df: pd.DataFrame) -> dict[str, tuple[int, int]]:
    return {c: ADULT_COARSE[c] for c in df.columns if c in ADULT_COARSE}


def _kinds_for(df: pd.DataFrame) -> dict[str, str]:
    """Adult's kinds, as its public documentation declares them (never from dtypes)."""
    return {c: "integer" if c in ADULT_COARSE else "categorical" for c in df.columns}


def _categories(schema: Schema, name: str) -> tuple[str, ...]:
    col = schema[name]
    assert isinstance(col, CategoricalColumn)
    return col.categories


def _numeric_names(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])
            and not pd.api.types.is_bool_dtype(df[c])]


# ---------------------------------------------------------------------------
# Adult
# ---------------------------------------------------------------------------
def test_adult_charges_exactly_epsilon_and_brackets_the_data(adult: pd.DataFrame) -> None:
    acct = Accountant(epsilon=2.0, delta=1e-6)
    acct.spend(LaplaceEvent(0.5), label="earlier release")
    schema = infer_dp(adult, kinds=_kinds_for(adult), epsilon=1.0, accountant=acct,
                      coarse=_coarse_for(adult),
                      noise=seeded(1))
    assert schema.source == "dp"
    assert schema.is_public
    assert schema.names == tuple(adult.columns)
    assert all(c.nullable for c in schema)

    new = acct.history[1:]
    assert math.fsum(e.event.epsilon for e in new  # type: ignore[attr-defined]
                     ) == pytest.approx(1.0, rel=1e-12)
    assert all(e.reproducible_noise for e in new)
    numeric = _numeric_names(adult)
    categorical = [c for c in adult.columns if c not in numeric]
    assert sorted(e.label for e in new if isinstance(e.event, ExponentialEvent)) == sorted(
        f"infer_dp/{c}/{side}" for c in numeric for side in ("lower", "upper"))
    approx = [e.event for e in new if isinstance(e.event, ApproxDPEvent)]
    assert len(approx) == len(categorical)
    # default: half the accountant's delta for category discovery, split by column
    assert math.fsum(e.approx_delta for e in approx) <= 0.5e-6
    assert acct.spent().epsilon <= 1.5 + 1e-9

    for name in numeric:
        col = schema[name]
        assert isinstance(col, IntegerColumn)
        lo, hi = ADULT_COARSE[name]
        assert lo <= col.lower <= col.upper <= hi
        x = adult[name].dropna()
        inside = ((x >= col.lower) & (x <= col.upper)).mean()
        assert inside >= 0.98, name
    for name in categorical:
        col = schema[name]
        assert isinstance(col, CategoricalColumn)
        assert list(col.categories) == sorted(col.categories)
        assert set(col.categories) <= set(adult[name].dropna().astype(str))
    # frequent values are always found
    assert {"Male", "Female"} <= set(_categories(schema, "sex"))
    assert "United-States" in _categories(schema, "native-country")


def test_adult_overspend_raises_before_drawing(adult: pd.DataFrame) -> None:
    acct = Accountant(epsilon=1.0, delta=1e-6)
    acct.spend(LaplaceEvent(0.5), label="earlier release")
    before = acct.to_json()
    spy = SpyNoise()
    with pytest.raises(BudgetExceededError, match="refused 'infer_dp'"):
        infer_dp(adult, kinds=_kinds_for(adult), epsilon=0.9, accountant=acct,
                 coarse=_coarse_for(adult), noise=spy)
    assert spy.calls == 0
    assert acct.to_json() == before


# ---------------------------------------------------------------------------
# Rare categories
# ---------------------------------------------------------------------------
def test_single_record_category_is_found_with_probability_delta() -> None:
    frame = pd.DataFrame({"c": ["common"] * 60 + ["rare"]})
    runs, found_rare = 300, 0
    deltas = set()
    for seed in range(runs):
        acct = Accountant(epsilon=1.0, delta=0.3)
        schema = infer_dp(frame, kinds={"c": "categorical"}, epsilon=1.0, accountant=acct,
                          delta_categories=0.2,
                          noise=seeded(1000 + seed))
        cats = _categories(schema, "c")
        assert "common" in cats
        found_rare += "rare" in cats
        [entry] = acct.ledger.entries
        deltas.add(entry.event.approx_delta)  # type: ignore[attr-defined]
    [delta] = deltas
    # smallest threshold with delta <= 0.2 at epsilon 1 is 3: delta = e^-2 / (1 + e^-1)
    assert delta == pytest.approx(math.exp(-2) / (1 + math.exp(-1)), rel=1e-5)
    assert delta <= 0.2
    upper = stats.binom.ppf(1 - 1e-4, runs, delta)
    lower = stats.binom.ppf(1e-4, runs, delta)
    assert lower <= found_rare <= upper


def test_threshold_is_smallest_that_meets_delta() -> None:
    for eps, delta in [(1.0, 0.2), (0.07, 1e-8), (0.5, 1e-6), (3.0, 0.4)]:
        t = category_threshold(eps, delta)
        assert t >= 2
        assert mechanisms.thresholded_histogram_delta(eps, t) <= delta
        if t > 2:
            assert mechanisms.thresholded_histogram_delta(eps, t - 1) > delta


def test_max_categories_keeps_the_largest() -> None:
    values = [f"v{i:02d}" for i in range(30) for _ in range(100 + 50 * i)]
    frame = pd.DataFrame({"c": values})
    schema = infer_dp(frame, kinds={"c": "categorical"}, epsilon=5.0,
                      accountant=Accountant(5.0, 1e-6),
                      max_categories=5, noise=seeded(3))
    assert _categories(schema, "c") == ("v25", "v26", "v27", "v28", "v29")


# ---------------------------------------------------------------------------
# Column kinds, coarse ranges, errors
# ---------------------------------------------------------------------------
def _mixed_frame(n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(0)  # data, not noise
    return pd.DataFrame({
        "when": pd.to_datetime("2021-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
        "flag": rng.random(n) < 0.3,
        "score": rng.normal(50.0, 5.0, n),
        "city": rng.choice(["Oslo", "Lima", "Pune"], n),
        "code": rng.integers(0, 3, n),
    })


MIXED_KINDS = {"when": "datetime", "flag": "boolean", "score": "float", "city": "categorical",
               "code": "integer"}


def test_declared_kinds_of_every_kind() -> None:
    df = _mixed_frame()
    acct = Accountant(epsilon=2.0, delta=1e-6)
    schema = infer_dp(
        df, epsilon=2.0, accountant=acct, kinds={**MIXED_KINDS, "code": "categorical"},
        coarse={"when": ("2000-01-01", "2030-12-31"), "score": (-1000.0, 1000.0)},
        noise=seeded(4),
    )
    assert isinstance(schema["flag"], BooleanColumn)
    assert isinstance(schema["city"], CategoricalColumn)
    assert _categories(schema, "city") == ("Lima", "Oslo", "Pune")
    assert _categories(schema, "code") == ("0", "1", "2")
    score = schema["score"]
    assert isinstance(score, FloatColumn)
    assert -1000.0 <= score.lower < 40.0 and 60.0 < score.upper <= 1000.0
    when = schema["when"]
    assert isinstance(when, DatetimeColumn)
    assert when.resolution == "D"
    assert "2000-01-01" <= when.lower <= "2021-01-05"
    assert "2021-12-27" <= when.upper <= "2030-12-31"
    # booleans cost nothing: epsilon is split over the four other columns
    eps = sorted(e.event.epsilon for e in acct.ledger)  # type: ignore[attr-defined]
    assert eps == pytest.approx([0.25] * 4 + [0.5] * 2)
    assert math.fsum(eps) == pytest.approx(2.0)
    assert len(acct.ledger) == 6


def test_datetime_resolution_from_coarse_and_explicit() -> None:
    df = pd.DataFrame({"t": pd.to_datetime("2022-03-01 12:00")
                       + pd.to_timedelta(np.arange(500), "min")})
    schema = infer_dp(df, kinds={"t": "datetime"}, epsilon=10.0, accountant=Accountant(10.0),
                      coarse={"t": ("2022-03-01T00:00:00", "2022-03-02T12:30:00")},
                      noise=seeded(5))
    assert schema["t"].resolution == "s"  # type: ignore[attr-defined]
    schema = infer_dp(df, kinds={"t": "datetime"}, epsilon=10.0, accountant=Accountant(10.0),
                      coarse={"t": ("2022-03-01", "2022-03-03", "h")}, noise=seeded(6))
    col = schema["t"]
    assert isinstance(col, DatetimeColumn) and col.resolution == "h"
    assert "2022-03-01T00:00:00" <= col.lower <= "2022-03-01T12:00:00"
    assert "2022-03-01T20:00:00" <= col.upper <= "2022-03-03T00:00:00"


def test_missing_coarse_range_is_a_schema_error_before_anything() -> None:
    df = _mixed_frame(50)
    acct = Accountant(epsilon=1.0, delta=1e-6)
    spy = SpyNoise()
    with pytest.raises(SchemaError, match="needs public bounds") as info:
        infer_dp(df, kinds=MIXED_KINDS, epsilon=1.0, accountant=acct,
                 coarse={"when": ("2000-01-01", "2030-12-31")}, noise=spy)
    assert "'score' (float), 'code' (integer): needs public bounds" in str(info.value)
    assert isinstance(info.value, IncompleteDraftError)
    assert set(info.value.needs) == {"score", "code"}
    assert "'city'" not in str(info.value)
    assert spy.calls == 0 and len(acct.ledger) == 0


def test_categories_need_delta() -> None:
    df = pd.DataFrame({"c": ["a"] * 100})
    acct = Accountant(epsilon=1.0)
    with pytest.raises(BudgetExceededError, match="needs delta > 0") as info:
        infer_dp(df, kinds={"c": "categorical"}, epsilon=1.0, accountant=acct)
    assert "much smaller than 1/n" in str(info.value)
    assert len(acct.ledger) == 0
    # a pure-DP budget is enough for numeric and boolean columns
    ok = infer_dp(pd.DataFrame({"x": np.arange(100), "b": [True, False] * 50}),
                  kinds={"x": "integer", "b": "boolean"}, epsilon=1.0,
                  accountant=acct, coarse={"x": (0, 1000)}, noise=seeded(7))
    assert [c.kind for c in ok] == ["integer", "boolean"]


def test_parameter_errors_charge_nothing() -> None:
    df = pd.DataFrame({"x": [1, 2, 3], "c": ["a", "b", "c"]})
    kinds = {"x": "integer", "c": "categorical"}
    acct = Accountant(epsilon=1.0, delta=1e-6)
    cases = [
        (dict(epsilon=0.0, coarse={"x": (0, 10)}), ParameterError, "epsilon"),
        (dict(epsilon=1.0, coarse={"x": (10, 0)}), ParameterError, "lower < upper"),
        (dict(epsilon=1.0, coarse={"x": ("0", "10")}), ParameterError, "pair of finite"),
        (dict(epsilon=1.0, coarse={"x": (0, 10), "c": (0, 1)}), ParameterError, "not numeric"),
        (dict(epsilon=1.0, coarse={"x": (0, 10), "y": (0, 1)}), SchemaError, "not in the table"),
        (dict(epsilon=1.0, coarse={"x": (0, 10)}, kinds={"x": "integer", "c": "text"}),
         SchemaError, "unknown kind"),
        (dict(epsilon=1.0, coarse={"x": (0, 10)}, max_categories=0), ParameterError,
         "max_categories"),
        (dict(epsilon=1.0, coarse={"x": (0, 10)}, delta_categories=1.5), ParameterError,
         "delta_categories"),
        (dict(epsilon=1.0, coarse={"x": (0, 10)}, quantiles=(0.9, 0.1)), ParameterError,
         "quantiles"),
    ]
    for kwargs, error, match in cases:
        with pytest.raises(error, match=match):
            infer_dp(df, accountant=acct, **{"kinds": kinds, **kwargs})  # type: ignore
    with pytest.raises(ParameterError, match="Accountant"):
        infer_dp(df, kinds=kinds, epsilon=1.0, accountant=None,  # type: ignore[arg-type]
                 coarse={"x": (0, 10)})
    assert len(acct.ledger) == 0


def test_bad_values_are_reported_without_values_and_before_drawing() -> None:
    df = pd.DataFrame({"x": ["1", "2", "secret-value", "4"]})
    acct = Accountant(epsilon=1.0)
    spy = SpyNoise()
    with pytest.raises(DataValidationError) as info:
        infer_dp(df, epsilon=1.0, accountant=acct, kinds={"x": "integer"},
                 coarse={"x": (0, 10)}, noise=spy)
    assert "secret-value" not in str(info.value)
    assert info.value.problems == [{"column": "x", "problem": "not numbers", "rows": 1}]
    assert spy.calls == 0 and len(acct.ledger) == 0


def test_no_category_frequent_enough_is_explained() -> None:
    df = pd.DataFrame({"c": ["a", "b", "c"]})
    acct = Accountant(epsilon=1.0, delta=1e-6)
    with pytest.raises(SchemaError, match=r"no category of column\(s\) \['c'\]"):
        infer_dp(df, kinds={"c": "categorical"}, epsilon=1.0, accountant=acct,
                 noise=seeded(8))
    assert len(acct.ledger) == 1  # the attempt was a release and stays charged


def test_grid_is_public_sorted_and_log_spaced_when_wide() -> None:
    g = public_grid(0.0, 150.0, 1000, integer=True)
    assert g[0] == 0 and g[-1] == 150 and np.all(np.diff(g) > 0)
    assert np.array_equal(g, np.arange(151))
    wide = public_grid(0.0, 1e6, 1000, integer=False)
    assert wide[0] == 0.0 and wide[-1] == 1e6 and np.all(np.diff(wide) > 0)
    assert np.sum(wide < 100) >= 100  # fine resolution near zero
    narrow = public_grid(-5.0, 5.0, 1000, integer=False)
    assert narrow.size == 1000 and np.allclose(np.diff(narrow), 10 / 999)


def test_bounds_are_widened_to_grid_neighbours() -> None:
    # With a huge epsilon the DP quantiles land on the best grid points: 11 (#{x < 11}
    # = 200 is closest to 0.05 n = 110) and 20 (#{x < 20} = 2000 is closest to
    # 0.95 n = 2090). The bounds are one grid step outside those.
    df = pd.DataFrame({"x": np.repeat(np.arange(10, 21), 200)})
    schema = infer_dp(df, kinds={"x": "integer"}, epsilon=2000.0, accountant=Accountant(2000.0),
                      coarse={"x": (0, 100)}, quantiles=(0.05, 0.95), noise=seeded(9))
    assert (schema["x"].lower, schema["x"].upper) == (10, 21)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# Declared kinds, drafts, dry runs and partial results (issues 17, 19, 24)
# ---------------------------------------------------------------------------
DRAFT: dict[str, Any] = {
    "format": "privsynth.schema-draft",
    "version": 1,
    "columns": [
        {"name": "age", "kind": "integer", "lower": None, "upper": None, "coarse": [0, 150]},
        {"name": "sex", "kind": "categorical", "categories": ["F", "M"], "nullable": False},
        {"name": "city", "kind": "categorical", "categories": None},
        {"name": "ok", "kind": "boolean"},
    ],
}


def _people(n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(11)  # data, not noise
    return pd.DataFrame({
        "age": rng.integers(18, 80, n),
        "sex": rng.choice(["F", "M"], n),
        "city": rng.choice(["Oslo", "Lima", "Pune"], n),
        "ok": rng.random(n) < 0.5,
    })


class Untouchable:
    """A data object that fails on any access: a dry run must not read it."""

    def __getattribute__(self, name: str) -> Any:
        raise AssertionError(f"the data was accessed ({name})")

    def __len__(self) -> int:
        raise AssertionError("the data was accessed (len)")

    def __getitem__(self, key: object) -> Any:
        raise AssertionError("the data was accessed ([])")

    def __iter__(self) -> Any:
        raise AssertionError("the data was accessed (iter)")


@pytest.fixture()
def ledger(tmp_path: Path) -> tuple[FileAccountant, Path]:
    path = tmp_path / "ledger.json"
    return FileAccountant.init(path, epsilon=2.0, delta=1e-6), path


def test_kinds_are_never_read_from_dtypes(ledger: tuple[FileAccountant, Path]) -> None:
    acct, path = ledger
    before = path.read_bytes()
    spy = SpyNoise()
    df = _people(100)
    with pytest.raises(IncompleteDraftError, match="needs every column's kind") as info:
        infer_dp(df, epsilon=1.0, accountant=acct, coarse={"age": (0, 150)}, noise=spy)
    assert "never read from the data" in str(info.value)
    # a draft with a kind left null: the column is named with what it needs
    draft = {**DRAFT, "columns": [*DRAFT["columns"][:3], {"name": "ok", "kind": None}]}
    with pytest.raises(IncompleteDraftError, match=r"'ok': needs a kind") as info:
        infer_dp(df, draft, epsilon=1.0, accountant=acct, noise=spy)
    assert list(info.value.needs) == ["ok"]
    # a data column the draft does not declare
    with pytest.raises(IncompleteDraftError, match=r"\['extra'\] of the data have no declared"):
        infer_dp(df.assign(extra=1), DRAFT, epsilon=1.0, accountant=acct, noise=spy)
    # a numeric column with neither bounds nor a coarse range
    no_coarse = {**DRAFT, "columns": [{"name": "age", "kind": "integer"}, *DRAFT["columns"][1:]]}
    with pytest.raises(SchemaError, match=r"'age' \(integer\): needs public bounds"):
        infer_dp(df, no_coarse, epsilon=1.0, accountant=acct, noise=spy)
    assert spy.calls == 0
    assert path.read_bytes() == before  # byte for byte: nothing charged, nothing rewritten


def test_every_missing_declaration_is_listed_at_once() -> None:
    draft = {"format": "privsynth.schema-draft", "columns": [
        {"name": "a", "kind": None}, {"name": "b", "kind": "float"},
        {"name": "c", "kind": "datetime", "lower": "2020-01-01"}]}
    acct = Accountant(epsilon=1.0, delta=1e-6)
    with pytest.raises(IncompleteDraftError) as info:
        infer_dp(None, draft, epsilon=1.0, accountant=acct, dry_run=True)
    assert list(info.value.needs) == ["a", "b", "c"]
    text = str(info.value)
    assert "3 column(s)" in text
    assert "'a': needs a kind" in text
    assert "'b' (float): needs public bounds ['lower', 'upper']" in text
    assert "'c' (datetime): needs public bounds ['upper']" in text


def test_draft_domains_are_kept_and_only_holes_are_charged() -> None:
    acct = Accountant(epsilon=1.0, delta=1e-6)
    schema = infer_dp(_people(), DRAFT, epsilon=0.6, accountant=acct, noise=seeded(21))
    assert schema.source == "dp"
    assert _categories(schema, "sex") == ("F", "M")   # declared: kept, free
    assert _categories(schema, "city") == ("Lima", "Oslo", "Pune")
    age = schema["age"]
    assert isinstance(age, IntegerColumn) and 0 <= age.lower <= 19 and 78 <= age.upper <= 150
    assert schema["sex"].nullable is False           # declared: kept
    assert schema["age"].nullable and schema["city"].nullable and schema["ok"].nullable
    labels = sorted(e.label for e in acct.ledger.entries)
    assert labels == ["infer_dp/age/lower", "infer_dp/age/upper", "infer_dp/city/categories"]
    eps = {e.label: e.event.epsilon for e in acct.ledger.entries}  # type: ignore[attr-defined]
    assert eps["infer_dp/city/categories"] == pytest.approx(0.3)
    assert eps["infer_dp/age/lower"] == pytest.approx(0.15)
    assert math.fsum(eps.values()) == pytest.approx(0.6)


def test_one_declared_bound_is_kept_and_the_other_gets_the_whole_share() -> None:
    draft = {"format": "privsynth.schema-draft", "columns": [
        {"name": "age", "kind": "integer", "lower": 0, "coarse": [0, 150]}]}
    acct = Accountant(epsilon=1.0)
    schema = infer_dp(_people()[["age"]], draft, epsilon=0.5, accountant=acct,
                      noise=seeded(22))
    age = schema["age"]
    assert isinstance(age, IntegerColumn) and age.lower == 0 and 78 <= age.upper <= 150
    [entry] = acct.ledger.entries
    assert entry.label == "infer_dp/age/upper"
    assert entry.event.epsilon == pytest.approx(0.5)  # type: ignore[attr-defined]


def test_a_complete_schema_costs_nothing() -> None:
    schema = Schema((IntegerColumn("age", lower=0, upper=120),))
    acct = Accountant(epsilon=1.0)
    out = infer_dp(_people()[["age"]], schema, epsilon=1.0, accountant=acct)
    assert out == schema and len(acct.ledger) == 0


def test_per_column_missing_tokens() -> None:
    # "N" means "not applicable" in the numeric column and is a category in the other
    df = pd.DataFrame({"income": ["N", "100", "2500", "N"] * 500,
                       "flag": ["N", "Y", "Y", "N"] * 500})
    draft = {"format": "privsynth.schema-draft", "columns": [
        {"name": "income", "kind": "integer", "missing_values": ["N"], "coarse": [0, 10000]},
        {"name": "flag", "kind": "categorical"}]}
    acct = Accountant(epsilon=2.0, delta=1e-6)
    schema = infer_dp(df, draft, epsilon=2.0, accountant=acct, noise=seeded(23))
    assert _categories(schema, "flag") == ("N", "Y")
    assert schema["income"].missing_values == ("N",)
    assert schema["income"].upper >= 2500  # type: ignore[attr-defined]
    # without the column's token, "N" is not a number: refused before any charge
    acct2 = Accountant(epsilon=2.0, delta=1e-6)
    plain = {**draft, "columns": [{k: v for k, v in draft["columns"][0].items()
                                   if k != "missing_values"}, draft["columns"][1]]}
    with pytest.raises(DataValidationError) as info:
        infer_dp(df, plain, epsilon=2.0, accountant=acct2)
    assert info.value.problems == [{"column": "income", "problem": "not numbers", "rows": 1000}]
    assert len(acct2.ledger) == 0


def test_dry_run_reads_no_data_and_charges_nothing(
        ledger: tuple[FileAccountant, Path]) -> None:
    acct, path = ledger
    before = path.read_bytes()
    plan = infer_dp(Untouchable(), DRAFT, epsilon=0.6, accountant=acct,  # type: ignore[arg-type]
                    dry_run=True)
    assert isinstance(plan, InferencePlan)
    assert [c.name for c in plan.columns] == ["age", "city"]
    assert plan.declared == ("sex", "ok")
    assert plan.epsilon == pytest.approx(0.6) and 0 < plan.delta <= 0.5e-6
    # the ledger composes tightly (PLD), so its total is at most the sum
    assert plan.fits and plan.total_after == pytest.approx(0.6, rel=1e-4)
    assert plan.total_after <= 0.6 + 1e-12
    assert plan.remaining_after == pytest.approx(2.0 - plan.total_after)
    assert str(path) in plan.accountant
    assert len(plan.events) == 3
    doc = json.loads(json.dumps(plan.to_dict()))
    assert doc["charge"]["epsilon"] == pytest.approx(0.6) and doc["fits"] is True
    assert "age" in str(plan) and "would charge" in str(plan)
    assert path.read_bytes() == before
    # the same plan charged for real costs what the dry run said
    real = infer_dp(_people(), DRAFT, epsilon=0.6, accountant=acct, noise=seeded(24))
    assert real.source == "dp"
    assert acct.spent().epsilon == pytest.approx(plan.total_after)
    assert [e.label for e in acct.history] == [label for label, _ in plan.labelled]


def test_dry_run_says_when_the_budget_would_refuse() -> None:
    acct = Accountant(epsilon=1.0, delta=1e-6)
    acct.spend(LaplaceEvent(0.8), label="earlier release")
    plan = plan_inference(DRAFT, epsilon=0.5, accountant=acct)
    assert not plan.fits and plan.total_after is None and plan.remaining_after is None
    assert "refused" in plan.refusal and "REFUSE" in str(plan)
    assert len(acct.ledger) == 1


def test_partial_success_keeps_the_domains_paid_for() -> None:
    df = _people(400).assign(city=[f"c{i}" for i in range(400)])  # every city held once
    acct = Accountant(epsilon=1.0, delta=1e-6)
    with pytest.raises(PartialInferenceError) as info:
        infer_dp(df, DRAFT, epsilon=1.0, accountant=acct, noise=seeded(25))
    err = info.value
    assert isinstance(err, SchemaError)
    assert err.failed == ["city"]
    assert len(acct.ledger) == 3  # everything was charged, and is kept
    draft = err.draft
    assert draft["format"] == "privsynth.schema-draft" and draft["source"] == "dp"
    cols = {c["name"]: c for c in draft["columns"]}
    assert 0 <= cols["age"]["lower"] <= 19 and 78 <= cols["age"]["upper"] <= 150
    assert cols["sex"]["categories"] == ["F", "M"]
    assert cols["city"]["categories"] is None and "public code list" in cols["city"]["todo"]
    assert [n.column for n in needs(draft)] == ["city"]
    # completing the draft by hand gives the schema, without paying again
    done = Schema.from_dict(complete(fill(draft, {"city": {"categories": ["Oslo"]}})))
    assert done["age"] == Schema.from_dict(complete(fill(draft, {"city": {
        "categories": ["x"]}})))["age"]
    assert done.source == "dp"


def test_an_undeclared_nullable_flag_is_true_except_for_an_id_column() -> None:
    # nullable is never read from the data: undeclared means "may be missing", except for
    # an identifier (a key, which a privacy unit needs complete)
    df = pd.DataFrame({"pid": [f"p{i}" for i in range(300)],
                       "city": ["Lima", "Oslo"] * 150})
    draft = {"format": "privsynth.schema-draft", "columns": [
        {"name": "pid", "kind": "id"}, {"name": "city", "kind": "categorical"}]}
    schema = infer_dp(df, draft, epsilon=1.0, accountant=Accountant(1.0, 1e-6),
                      noise=seeded(3))
    assert schema["pid"].kind == "id" and schema["pid"].nullable is False
    assert schema["city"].nullable is True

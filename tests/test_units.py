"""Privacy units with several rows (issue 22): identifier columns, bounding, scaled sensitivities.

Everything through public behaviour: the schema, ``fit(privacy_unit=...,
max_rows_per_unit=...)``, the fit record, the ledger and the samples. The
paired-run audits at the end (slow) fit many times on D and on D plus one
whole unit, and check that the unit-level claim holds for the honest engine
and fails for engines that forget to bound the units or to scale the noise.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import privsynth
from privsynth import mechanisms
from privsynth.accounting import Accountant
from privsynth.accounting.events import DiscreteLaplaceEvent
from privsynth.accounting.persistent import FileAccountant
from privsynth.engines import units
from privsynth.engines.dpctgan import DPCTGAN
from privsynth.engines.privbayes import PrivBayes
from privsynth.engines.record import PrivacyUnit
from privsynth.errors import (
    ConstraintError,
    DataValidationError,
    LedgerError,
    ModelFileError,
    ParameterError,
    SchemaError,
)
from privsynth.mechanisms import Noise
from privsynth.risk.audit_bound import best_epsilon_lower_bound
from privsynth.schema import Schema
from privsynth.validation import validate

SCHEMA = Schema.from_dict({"columns": [
    {"name": "pid", "kind": "id", "prefix": "P-"},
    {"name": "a", "kind": "categorical", "categories": ["x", "y", "z"]},
    {"name": "b", "kind": "integer", "lower": 0, "upper": 9},
]})


def visits(units_: int = 100, rows: int = 5, seed: int = 0) -> pd.DataFrame:
    """``units_`` patients with ``rows`` rows each (never 'z' in column a)."""
    rng = np.random.default_rng(seed)
    n = units_ * rows
    return pd.DataFrame({"pid": [f"p{i // rows}" for i in range(n)],
                         "a": rng.choice(["x", "y"], n), "b": rng.integers(0, 10, n)})


def ledger(tmp_path: Path, unit: str | None = "pid") -> FileAccountant:
    return FileAccountant.init(tmp_path / "ledger.json", 2.0, unit=unit)


# --------------------------------------------------------------------------- id columns
def test_id_column_round_trips_and_is_not_modelled() -> None:
    again = Schema.from_dict(SCHEMA.to_dict())
    assert again.to_dict() == SCHEMA.to_dict()
    assert SCHEMA.id_columns == ("pid",)
    assert SCHEMA.without_ids().names == ("a", "b")
    assert SCHEMA["pid"].fresh(3) == ["P-1", "P-2", "P-3"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("prefix", ["", " s", 7, "x" * 33])
def test_id_prefix_must_be_short_text(prefix: object) -> None:
    with pytest.raises(SchemaError, match="prefix"):
        Schema.from_dict({"columns": [{"name": "pid", "kind": "id", "prefix": prefix},
                                      {"name": "ok", "kind": "boolean"}]})


def test_rules_cannot_name_an_identifier_and_ids_alone_model_nothing() -> None:
    with pytest.raises(SchemaError, match="'pid'"):
        Schema.from_dict({**SCHEMA.to_dict(),
                          "constraints": [{"kind": "unique", "column": "pid"}]})
    only = Schema.from_dict({"columns": [{"name": "pid", "kind": "id"}]})
    with pytest.raises(SchemaError, match="nothing to model"):
        only.without_ids()


def test_validate_reads_identifiers_as_text_and_refuses_missing_ones() -> None:
    out = validate(pd.DataFrame({"pid": [7, 8], "a": ["x", "y"], "b": [1, 2]}), SCHEMA)
    assert out["pid"].tolist() == ["7", "8"]
    with pytest.raises(DataValidationError) as err:
        validate(pd.DataFrame({"pid": ["p1", None], "a": ["x", "y"], "b": [1, 2]}), SCHEMA)
    assert "pid" in str(err.value) and "p1" not in str(err.value)


def test_row_level_fit_drops_ids_and_samples_fresh_ones() -> None:
    df = visits()
    model = PrivBayes().fit(df, schema=SCHEMA, epsilon=1.0)
    assert model.record_.unit == PrivacyUnit()
    out = model.sample(120, random_state=0)
    assert list(out.columns) == ["pid", "a", "b"]
    assert out["pid"].is_unique and out["pid"].str.startswith("P-").all()
    assert not set(out["pid"]) & set(df["pid"])
    assert model.describe()["network"]  # the network never names the identifier
    assert "pid" not in {e["child"] for e in model.describe()["network"]}


def test_conditions_cannot_name_an_identifier_and_conditional_samples_get_fresh_ids() -> None:
    model = PrivBayes().fit(visits(), schema=SCHEMA, epsilon=1.0, privacy_unit="pid",
                            max_rows_per_unit=2)
    with pytest.raises(ConstraintError, match="identifier"):
        model.sample(3, conditions={"pid": "p1"})
    with pytest.raises(ConstraintError, match="identifier"):
        model.sample_conditions(pd.DataFrame({"pid": ["p1"], "a": ["x"]}))
    out = model.sample_conditions(pd.DataFrame({"a": ["x", "z", "y"]}), random_state=0)
    assert out["a"].tolist() == ["x", "z", "y"]
    assert out["pid"].tolist() == ["P-1", "P-2", "P-3"]


def test_real_identifiers_with_the_synthetic_prefix_are_refused_before_spending(
        tmp_path: Path) -> None:
    df = visits()
    df.loc[3, "pid"] = "P-17"
    acct = ledger(tmp_path, unit=None)
    with pytest.raises(DataValidationError, match="prefix") as err:
        PrivBayes().fit(df, schema=SCHEMA, epsilon=1.0, accountant=acct)
    assert "P-17" not in str(err.value)
    assert FileAccountant.open(acct.path).history == []


# --------------------------------------------------------------------------- units
def test_unit_fit_records_the_unit_and_scales_every_sensitivity(tmp_path: Path) -> None:
    acct = ledger(tmp_path)
    model = PrivBayes().fit(visits(), schema=SCHEMA, epsilon=1.0, accountant=acct,
                            privacy_unit="pid", max_rows_per_unit=3)
    assert model.record_.unit == PrivacyUnit("pid", 3)
    assert model.record_.unit.describe() == "one value of 'pid' with up to 3 of its rows"
    events = [e.event for e in FileAccountant.open(acct.path).history]
    laplace = [e for e in events if isinstance(e, DiscreteLaplaceEvent)]
    assert laplace and all(e.sensitivity == 3 for e in laplace)
    assert FileAccountant.open(acct.path).unit == "pid"
    path = tmp_path / "m.json"
    model.save(path)
    loaded = PrivBayes.load(path)
    assert loaded.record_.unit == PrivacyUnit("pid", 3)
    assert loaded.sample(5, random_state=1)["pid"].tolist() == [f"P-{i}" for i in range(1, 6)]


def test_rows_beyond_the_bound_are_not_used() -> None:
    # 200 units of 10 rows, k = 2: the fit sees 400 rows; the noisy count says so
    df = visits(units_=200, rows=10)
    model = PrivBayes().fit(df, schema=SCHEMA, epsilon=50.0, privacy_unit="pid",
                            max_rows_per_unit=2)
    assert model.n_hat_ == pytest.approx(400, abs=20)
    row_level = PrivBayes().fit(df, schema=SCHEMA, epsilon=50.0)
    assert row_level.n_hat_ == pytest.approx(2000, abs=20)


def test_bounding_keeps_a_uniform_subset_of_each_unit() -> None:
    df = pd.DataFrame({"pid": ["a"] * 3 + ["b"] * 2 + ["c"], "x": range(6)})
    rng = np.random.default_rng(1)
    kept_counts = np.zeros(6)
    for _ in range(3000):
        kept = units.bound_units(df, "pid", 1, rng)
        assert kept["pid"].value_counts().to_dict() == {"a": 1, "b": 1, "c": 1}
        kept_counts[kept["x"].to_numpy()] += 1
    # each of a's three rows about 1/3 of the time, each of b's two 1/2, c's always
    assert kept_counts[:3] / 3000 == pytest.approx([1 / 3] * 3, abs=0.04)
    assert kept_counts[3:5] / 3000 == pytest.approx([0.5] * 2, abs=0.04)
    assert kept_counts[5] == 3000


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"privacy_unit": "nope", "max_rows_per_unit": 2}, "not a column"),
    ({"privacy_unit": "a", "max_rows_per_unit": 2}, "must be an identifier column"),
    ({"privacy_unit": "pid"}, "needs max_rows_per_unit"),
    ({"max_rows_per_unit": 2}, "needs privacy_unit"),
    ({"privacy_unit": "pid", "max_rows_per_unit": 0}, "max_rows_per_unit"),
    ({"privacy_unit": "pid", "max_rows_per_unit": True}, "max_rows_per_unit"),
    ({"privacy_unit": "pid", "max_rows_per_unit": 2.5}, "max_rows_per_unit"),
])
def test_bad_unit_declarations_are_refused_before_spending(
        tmp_path: Path, kwargs: dict[str, Any], match: str) -> None:
    acct = ledger(tmp_path)
    with pytest.raises(ParameterError, match=match):
        PrivBayes().fit(visits(), schema=SCHEMA, epsilon=1.0, accountant=acct, **kwargs)
    assert FileAccountant.open(acct.path).history == []


def test_a_nullable_unit_column_is_refused() -> None:
    d = SCHEMA.to_dict()
    d["columns"][0]["nullable"] = True
    with pytest.raises(ParameterError, match="nullable"):
        PrivBayes().plan_fit(schema=Schema.from_dict(d), epsilon=1.0, privacy_unit="pid",
                             max_rows_per_unit=2)


@pytest.mark.parametrize(("ledger_unit", "fit_unit"), [(None, "pid"), ("pid", None),
                                                       ("household", "pid")])
def test_the_ledger_refuses_a_fit_of_another_unit_before_spending(
        tmp_path: Path, ledger_unit: str | None, fit_unit: str | None) -> None:
    acct = ledger(tmp_path, unit=ledger_unit)
    kwargs = {} if fit_unit is None else {"privacy_unit": fit_unit, "max_rows_per_unit": 2}
    with pytest.raises(LedgerError, match="one kind of unit"):
        PrivBayes().fit(visits(), schema=SCHEMA, epsilon=1.0, accountant=acct, **kwargs)
    assert FileAccountant.open(acct.path).history == []
    assert acct.spent().epsilon == 0


def test_without_an_accountant_the_private_ledger_has_the_fits_unit() -> None:
    model = PrivBayes().fit(visits(), schema=SCHEMA, epsilon=1.0, privacy_unit="pid",
                            max_rows_per_unit=2)
    assert model.accountant_ is not None and model.accountant_.unit == "pid"


def test_dpctgan_refuses_a_unit_before_spending(tmp_path: Path) -> None:
    acct = FileAccountant.init(tmp_path / "ledger.json", 2.0, 1e-5, unit="pid")
    with pytest.raises(ParameterError, match="does not support privacy units"):
        DPCTGAN().fit(visits(), schema=SCHEMA, epsilon=1.0, delta=1e-6, accountant=acct,
                      privacy_unit="pid", max_rows_per_unit=2)
    assert FileAccountant.open(acct.path).history == []
    with pytest.raises(ParameterError, match="does not support privacy units"):
        DPCTGAN().plan_fit(schema=SCHEMA, epsilon=1.0, delta=1e-6, privacy_unit="pid",
                           max_rows_per_unit=1)


def test_dp_schema_inference_refuses_a_unit_ledger_and_declares_ids_for_free() -> None:
    df = visits(units_=20, rows=3)
    acct = Accountant(1.0, 1e-6, unit="pid")
    with pytest.raises(LedgerError, match="one row only"):
        privsynth.infer_dp(df, kinds={"pid": "id", "a": "categorical", "b": "integer"},
                           coarse={"b": (0, 100)}, epsilon=0.5, accountant=acct)
    assert acct.spent().epsilon == 0
    row = Accountant(5.0, 1e-6)
    s = privsynth.infer_dp(visits(units_=300, rows=3)[["pid", "a"]],
                           kinds={"pid": "id", "a": "categorical"}, epsilon=4.0, accountant=row)
    assert s["pid"].kind == "id"


def test_privacy_unit_in_the_model_file_is_checked() -> None:
    assert PrivacyUnit.from_dict({"column": "pid", "max_rows": 4}) == PrivacyUnit("pid", 4)
    for bad in ({"column": "pid", "max_rows": 0}, {"column": None, "max_rows": 3},
                {"column": 5, "max_rows": 1}, {"column": "pid", "max_rows": True}, []):
        with pytest.raises(ModelFileError):
            PrivacyUnit.from_dict(bad)  # type: ignore[arg-type]


def test_audit_states_the_unit_and_skips_identifiers() -> None:
    df = visits()
    model = PrivBayes().fit(df, schema=SCHEMA, epsilon=1.0, privacy_unit="pid",
                            max_rows_per_unit=3)
    report = privsynth.audit(df, model.sample(400, random_state=0), model=model,
                             attacks=False).to_dict()
    threat = report["threat_model"]
    assert threat["privacy_unit"] == "one value of 'pid' with up to 3 of its rows"
    assert any("several identifiers" in t for t in threat["not_covered"])


def _table(xs: np.ndarray, ps: np.ndarray) -> np.ndarray:
    t = np.zeros((3, 3))
    np.add.at(t, (xs, ps), 1.0)
    return t


def test_structure_score_moves_by_at_most_2k_and_more_than_2() -> None:
    """The structure score's unit sensitivity (docs/units.md), checked by brute force."""
    from privsynth.engines.privbayes._structure import g_score, score_sensitivity

    rng = np.random.default_rng(0)
    k, worst = 5, 0.0
    for trial in range(400):
        n = int(rng.integers(1, 40))
        xs, ps = rng.integers(0, 3, n), rng.integers(0, 3, n)
        if trial % 3 == 0:  # a concentrated table and a unit far from it: the large moves
            xs, ps = np.zeros(n, np.int64), np.zeros(n, np.int64)
        ux, up = rng.integers(0, 3, k), rng.integers(0, 3, k)
        if trial % 2 == 0:
            ux, up = np.full(k, 2), np.full(k, 1)
        before = g_score(_table(xs, ps))
        after = g_score(_table(np.r_[xs, ux], np.r_[ps, up]))
        worst = max(worst, abs(after - before))
    assert worst <= score_sensitivity(k) + 1e-9
    assert worst > score_sensitivity(1)  # a unit of k rows moves it by more than a row's bound


# --------------------------------------------------------------------------- paired runs
# D: 20 units of two rows over column a; D' adds one unit of UNIT_ROWS rows whose value
# 'z' never occurs in D. The fit is bounded to K rows per unit. With one modelled column
# the table gets (nearly) the whole epsilon, so the statistic (the model's probability of
# 'z') sees the unit's full effect: at most EPSILON for the honest engine, about K times
# that when the noise is not scaled, UNIT_ROWS / K times when the unit is not bounded.
EPSILON = 1.0
K = 5
UNIT_ROWS = 4 * K
AUDIT_SCHEMA = Schema.from_dict({"columns": [
    {"name": "pid", "kind": "id"},
    {"name": "a", "kind": "categorical", "categories": ["x", "y", "z"]}]})
BASE = pd.DataFrame({"pid": [f"u{i // 2}" for i in range(40)], "a": ["x", "y"] * 20})
NEIGHBOUR = pd.concat([BASE, pd.DataFrame({"pid": ["target"] * UNIT_ROWS,
                                           "a": ["z"] * UNIT_ROWS})], ignore_index=True)
RUNS = 400  # per side


def _z_probability(df: pd.DataFrame, unit: bool = True) -> float:
    kwargs: dict[str, Any] = {"privacy_unit": "pid", "max_rows_per_unit": K} if unit else {}
    model = PrivBayes().fit(df, schema=AUDIT_SCHEMA, epsilon=EPSILON, **kwargs)
    return _table_z(model)


def _table_z(model: PrivBayes) -> float:
    # the released conditional table of 'a' (no parents): P(a = 'z') at the level of 'z'
    (child, parents), table = model.network_[0], model.tables_[0]
    assert parents == ()
    return float(table[0, model.levels_[child].fine_to_level[2]])


def unit_audit(runs: int, unit: bool = True, seed: int = 0) -> tuple[float, float]:
    """(epsilon lower bound, mean statistic difference) from ``runs`` fits on D' and on D."""
    members = np.array([_z_probability(NEIGHBOUR, unit) for _ in range(runs)])
    others = np.array([_z_probability(BASE, unit) for _ in range(runs)])
    return (best_epsilon_lower_bound(members, others, random_state=seed),
            float(members.mean() - others.mean()))


class _Uncharged:
    def spend(self, event: Any, *, label: str, release: str = "",
              reproducible_noise: bool = False) -> None:
        return None


@pytest.fixture
def unscaled_noise(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Mutant: every count is charged at the unit's sensitivity but noised for one row."""
    honest = mechanisms.discrete_laplace

    def unscaled(values: Any, *, epsilon: float, accountant: Any, label: str,
                 sensitivity: int = 1, noise: Noise | None = None) -> Any:
        accountant.spend(DiscreteLaplaceEvent(float(epsilon), sensitivity), label=label)
        return honest(values, epsilon=epsilon, accountant=_Uncharged(), label=label,
                      sensitivity=1, noise=noise)

    monkeypatch.setattr(mechanisms, "discrete_laplace", unscaled)
    yield


@pytest.fixture
def unbounded_units(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Mutant: the template forgets to keep at most k rows per unit."""
    monkeypatch.setattr(units, "bound_units", lambda df, column, k, rng: df)
    yield


def test_unit_audit_machinery_smoke() -> None:
    bound, _ = unit_audit(6)
    assert 0.0 <= bound <= EPSILON  # 6 runs prove nothing either way; the machinery works
    # with little noise the statistic sees the k kept rows of the unit (5 of 45 rows)
    sharp = {"privacy_unit": "pid", "max_rows_per_unit": K}
    with_unit = PrivBayes().fit(NEIGHBOUR, schema=AUDIT_SCHEMA, epsilon=500.0, **sharp)
    without = PrivBayes().fit(BASE, schema=AUDIT_SCHEMA, epsilon=500.0, **sharp)
    assert _table_z(with_unit) == pytest.approx(K / (len(BASE) + K), abs=0.02)
    assert _table_z(without) < 0.01


def _report(variant: str, bound: float) -> None:
    path = os.environ.get("PRIVSYNTH_AUDIT_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"engine": "privbayes", "audit": "unit-neighbour",
                                 "engine_variant": variant, "claimed": EPSILON, "k": K,
                                 "unit_rows": UNIT_ROWS, "lower_bound": bound,
                                 "runs": RUNS}) + "\n")


@pytest.mark.slow
def test_unit_neighbour_audit_stays_below_the_unit_claim() -> None:
    bound, diff = unit_audit(RUNS)
    _report("honest", bound)
    assert diff > 0  # the statistic does see the unit
    assert bound < EPSILON


@pytest.mark.slow
def test_unit_neighbour_audit_flags_unscaled_noise(unscaled_noise: None) -> None:
    bound, _ = unit_audit(RUNS)
    _report("noise not scaled to k", bound)
    assert bound > EPSILON


@pytest.mark.slow
def test_unit_neighbour_audit_flags_unbounded_units(unbounded_units: None) -> None:
    bound, _ = unit_audit(RUNS)
    _report("units not bounded", bound)
    assert bound > EPSILON


@pytest.mark.slow
def test_a_row_level_fit_visibly_exceeds_the_unit_claim() -> None:
    bound, _ = unit_audit(RUNS, unit=False)
    _report("row-level fit", bound)
    assert bound > EPSILON


# --------------------------------------------------------------------------- CLI
def test_cli_fits_a_unit_on_a_unit_ledger_and_refuses_a_row_level_fit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from privsynth import cli

    data, schema_file, led = tmp_path / "v.csv", tmp_path / "s.json", tmp_path / "l.json"
    visits().to_csv(data, index=False)
    schema_file.write_text(json.dumps(SCHEMA.to_dict()), encoding="utf-8")
    assert cli.main(["-q", "budget", "init", str(led), "--epsilon", "2", "--unit", "pid"]) == 0
    common = ["-q", "fit", str(data), "--schema", str(schema_file), "--epsilon", "1",
              "--ledger", str(led)]
    code = cli.main([*common, "--out", str(tmp_path / "row.json")])
    assert code != 0 and "one kind of unit" in capsys.readouterr().err
    assert FileAccountant.open(led).history == []
    unit = ["--privacy-unit", "pid", "--max-rows-per-unit", "3"]
    assert cli.main([*common, "--out", str(tmp_path / "m.json"), *unit, "--dry-run"]) == 0
    assert "one value of 'pid' with up to 3 of its rows" in capsys.readouterr().out
    assert cli.main([*common, "--out", str(tmp_path / "m.json"), *unit]) == 0
    assert PrivBayes.load(tmp_path / "m.json").record_.unit == PrivacyUnit("pid", 3)
    assert FileAccountant.open(led).spent().epsilon == pytest.approx(1.0)

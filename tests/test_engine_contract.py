"""The contract battery every registered engine must pass.

One toy table with every column kind; each engine is fitted small and fast.
A new engine only needs an entry in ``FAST_PARAMS`` (and the registry).
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from privsynth import engines
from privsynth.accounting import Accountant
from privsynth.errors import (
    BudgetExceededError,
    DataValidationError,
    ModelFileError,
    NotFittedError,
    ParameterError,
    SchemaError,
)
from privsynth.mechanisms import InsecureNoiseWarning, Noise
from privsynth.schema import Schema

FAST_PARAMS: dict[str, dict[str, object]] = {
    "privbayes": {},
    "dpctgan": {"epochs": 2, "batch_size": 64},
}
NEEDS_DELTA = {"dpctgan"}

SCHEMA = Schema.from_dict({"columns": [
    {"name": "cat", "kind": "categorical", "categories": ["a", "b", "c"]},
    {"name": "num", "kind": "integer", "lower": 0, "upper": 100},
    {"name": "real", "kind": "float", "lower": -5, "upper": 5, "decimals": 2},
    {"name": "when", "kind": "datetime", "lower": "2020-01-01", "upper": "2020-12-31",
     "resolution": "D"},
    {"name": "flag", "kind": "boolean"},
    {"name": "maybe", "kind": "categorical", "categories": ["u", "v"], "nullable": True},
]})


def _toy(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cat = rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1])
    num = np.clip(rng.normal(40, 15, n).round(), 0, 100).astype(np.int64)
    maybe = rng.choice(np.array(["u", "v", None], dtype=object), n)
    return pd.DataFrame({
        "cat": cat,
        "num": num,
        "real": np.clip(rng.normal(0, 2, n), -5, 5).round(2),
        "when": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
        "flag": pd.array(rng.random(n) < 0.3, dtype="boolean"),
        "maybe": maybe,
    })


def _available(name: str) -> bool:
    if name == "dpctgan":
        return importlib.util.find_spec("torch") is not None \
            and importlib.util.find_spec("opacus") is not None
    return True


ENGINE_NAMES = [pytest.param(n, marks=pytest.mark.skipif(not _available(n),
                                                          reason=f"{n} needs an extra"))
                for n in engines.names()]


def _fit(name: str, data: pd.DataFrame, epsilon: float = 2.0,
         accountant: Accountant | None = None, noise: Noise | None = None):
    cls = engines.get(name)
    model = cls(**FAST_PARAMS.get(name, {}))
    kwargs: dict[str, object] = {"schema": SCHEMA, "epsilon": epsilon, "accountant": accountant}
    if noise is not None:
        kwargs["noise"] = noise
    if name in NEEDS_DELTA:
        kwargs["delta"] = 1e-5
    return model.fit(data, **kwargs)


def _budget(name: str, epsilon: float) -> Accountant:
    return Accountant(epsilon, 1e-5 if name in NEEDS_DELTA else 0.0)


@pytest.fixture(scope="module")
def toy() -> pd.DataFrame:
    return _toy()


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_sample_matches_schema(name: str, toy: pd.DataFrame) -> None:
    model = _fit(name, toy)
    out = model.sample(300, random_state=1)
    assert list(out.columns) == list(SCHEMA.names)
    assert len(out) == 300
    assert set(out["cat"].dropna()) <= {"a", "b", "c"} and out["cat"].notna().all()
    assert out["num"].dtype == np.int64 and out["num"].between(0, 100).all()
    assert out["real"].dtype == np.float64 and out["real"].between(-5, 5).all()
    assert np.allclose(out["real"], out["real"].round(2))
    assert pd.api.types.is_datetime64_any_dtype(out["when"])
    assert out["when"].between(pd.Timestamp("2020-01-01"), pd.Timestamp("2020-12-31")).all()
    assert str(out["flag"].dtype) == "boolean" and out["flag"].notna().all()
    assert set(out["maybe"].dropna()) <= {"u", "v"}
    assert model.sample(0).shape == (0, len(SCHEMA))


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_budget_charged_and_bounded(name: str, toy: pd.DataFrame) -> None:
    acct = _budget(name, 3.0)
    _fit(name, toy, epsilon=2.0, accountant=acct)
    spent = acct.spent().epsilon
    assert 0.9 * 2.0 <= spent <= 2.0 * (1 + 1e-9)
    if name == "privbayes":  # pure DP: the ledger adds up to exactly what was asked
        assert spent == pytest.approx(2.0, abs=1e-12)
    assert len(acct.ledger) >= 2


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_refuses_before_touching_data(name: str) -> None:
    acct = _budget(name, 0.5)
    # Data that would fail validation if it were read: the budget error must come first.
    unreadable = pd.DataFrame({"nonsense": [1, 2, 3]})
    with pytest.raises(BudgetExceededError, match="refused"):
        _fit(name, unreadable, epsilon=1.0, accountant=acct)
    assert len(acct.ledger) == 0


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_save_load_round_trip(name: str, toy: pd.DataFrame, tmp_path) -> None:
    model = _fit(name, toy)
    path = tmp_path / "model.json"
    model.save(path)
    again = engines.get(name).load(path)
    pd.testing.assert_frame_equal(model.sample(200, random_state=7),
                                  again.sample(200, random_state=7))
    generic = engines.load_model(path)
    assert type(generic) is type(model)
    # the file holds no training row
    text = path.read_text(encoding="utf-8")
    assert "2020-" in text  # the public schema bounds are there ...
    # a real value as a number of its own (not inside a longer number, e.g. a timestamp)
    assert not any(re.search(rf"(?<![\d.]){re.escape(str(v))}(?![\d])", text)
                   for v in toy["real"].head(20) if abs(v) > 0.5 and v != round(v))


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_tampered_and_foreign_files_rejected(name: str, toy: pd.DataFrame, tmp_path) -> None:
    model = _fit(name, toy)
    path = tmp_path / "m.json"
    model.save(path)
    raw = bytearray(path.read_bytes())
    i = raw.index(b'"payload"') + 40
    raw[i] = ord("A") if raw[i] != ord("A") else ord("B")
    bad = tmp_path / "bad.json"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError):
        engines.get(name).load(bad)
    truncated = tmp_path / "trunc.json"
    truncated.write_bytes(bytes(raw[: len(raw) // 2]))
    with pytest.raises(ModelFileError):
        engines.get(name).load(truncated)


class _Boom:
    def __reduce__(self):
        return (os.system, ("touch PWNED_BY_PICKLE",))


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_pickle_payload_never_executed(name: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.json"
    path.write_bytes(pickle.dumps(_Boom()))
    with pytest.raises(ModelFileError, match="never loads pickle"):
        engines.get(name).load(path)
    assert not (tmp_path / "PWNED_BY_PICKLE").exists()


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_bad_inputs(name: str, toy: pd.DataFrame) -> None:
    cls = engines.get(name)
    model = cls(**FAST_PARAMS.get(name, {}))
    with pytest.raises(NotFittedError):
        model.sample(3)
    for eps in (0, -1, float("nan"), float("inf"), "1"):
        with pytest.raises(ParameterError, match="epsilon"):
            model.fit(toy, schema=SCHEMA, epsilon=eps)  # type: ignore[arg-type]
    with pytest.raises(SchemaError):
        model.fit(toy, schema={"columns": []}, epsilon=1.0)  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="extra"):
        _fit(name, toy.assign(extra=1))
    with pytest.raises(DataValidationError):
        _fit(name, toy.drop(columns=["num"]))
    with pytest.raises(DataValidationError):
        _fit(name, toy.iloc[:0])
    fitted = _fit(name, toy)
    for n in (-1, 2.5, "10", True):
        with pytest.raises(ParameterError):
            fitted.sample(n)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_reproducible_test_mode_and_fresh_noise(name: str, toy: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureNoiseWarning)
        a = _fit(name, toy, noise=Noise.insecure_for_tests(11)).sample(100, random_state=0)
        b = _fit(name, toy, noise=Noise.insecure_for_tests(11)).sample(100, random_state=0)
    pd.testing.assert_frame_equal(a, b)
    # default noise is fresh: two fits differ somewhere even with one sampling seed
    c = _fit(name, toy).sample(400, random_state=0)
    d = _fit(name, toy).sample(400, random_state=0)
    assert not c.equals(d)

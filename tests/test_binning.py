"""The discretizer (privsynth.binning): public bins, codes and back, for every column kind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from privsynth.binning import Discretizer, column_bins
from privsynth.columns import (
    BooleanColumn,
    CategoricalColumn,
    DatetimeColumn,
    FloatColumn,
    IntegerColumn,
)
from privsynth.errors import DataValidationError, ParameterError
from privsynth.schema import Schema

MIXED = Schema((
    CategoricalColumn("c", categories=("x", "y", "z"), nullable=True),
    BooleanColumn("b", nullable=True),
    IntegerColumn("small", lower=-3, upper=6),            # 10 values: one per bin
    IntegerColumn("wide", lower=0, upper=100_000),        # many values per bin
    FloatColumn("f", lower=-1.0, upper=1.0, nullable=True),
    DatetimeColumn("d", lower="2020-01-01", upper="2020-01-10", resolution="D"),
    DatetimeColumn("t", lower="2020-01-01", upper="2021-01-01", resolution="h"),
))


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    """Valid rows of MIXED (data, not privacy noise)."""
    rng = np.random.default_rng(seed)
    c = rng.choice(np.array(["x", "y", "z", None], dtype=object), n)
    b = pd.array(rng.choice([True, False], n), dtype="boolean")
    b[rng.random(n) < 0.2] = pd.NA
    f = np.round(rng.uniform(-1, 1, n), 3)
    f[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "c": c,
        "b": b,
        "small": rng.integers(-3, 7, n),
        "wide": rng.integers(0, 100_001, n),
        "f": f,
        "d": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 10, n), "D"),
        "t": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 8784, n), "h"),
    })


def test_codes_round_trip_on_every_kind() -> None:
    disc = Discretizer(MIXED, max_bins=16)
    df = _frame(2000)
    codes = disc.encode(df)
    assert codes.shape == (2000, 7)
    assert (codes >= 0).all() and (codes < np.asarray(disc.sizes)).all()
    out = disc.decode(codes, np.random.default_rng(1))
    assert list(out.columns) == list(MIXED.names)
    # decoding lands every value in the bin it came from: encode(decode(codes)) == codes
    assert np.array_equal(disc.encode(out), codes)
    # exact round trip where every bin holds one value
    assert out["c"].fillna("-").tolist() == df["c"].fillna("-").tolist()
    pd.testing.assert_series_equal(out["b"], df["b"], check_names=False)
    assert out["small"].tolist() == df["small"].tolist()
    assert (out["d"] == df["d"]).all()
    # dtypes follow the schema
    assert str(out["small"].dtype) == "int64" and str(out["wide"].dtype) == "int64"
    assert str(out["f"].dtype) == "float64" and str(out["b"].dtype) == "boolean"
    assert str(out["d"].dtype).startswith("datetime64")


def test_decoded_values_stay_in_bounds_and_respect_decimals() -> None:
    disc = Discretizer(MIXED, max_bins=8)
    codes = disc.encode(_frame(3000, seed=2))
    out = disc.decode(codes, np.random.default_rng(3))
    assert out["f"].dropna().between(-1.0, 1.0).all()
    rounded = Discretizer(Schema((FloatColumn("r", lower=-1.0, upper=1.0, decimals=2),)), 8)
    r = rounded.decode(np.arange(8).repeat(50).reshape(-1, 1), np.random.default_rng(4))["r"]
    assert r.between(-1.0, 1.0).all() and np.allclose(r, np.round(r, 2))
    assert out["wide"].between(0, 100_000).all()
    assert out["t"].between(pd.Timestamp("2020-01-01"), pd.Timestamp("2021-01-01")).all()
    # the hour resolution: decoded datetimes are whole hours
    assert (out["t"].dt.minute == 0).all() and (out["t"].dt.second == 0).all()


def test_bins_follow_the_public_bounds_only() -> None:
    """Two data sets as different as can be get the same bins; other bounds, other bins."""
    col = IntegerColumn("x", lower=0, upper=1000)
    schema = Schema((col,))
    a, b = Discretizer(schema, max_bins=11), Discretizer(schema, max_bins=11)
    a.encode(pd.DataFrame({"x": np.full(500, 3)}))
    b.encode(pd.DataFrame({"x": np.arange(1001)}))
    assert a.bins == b.bins == (column_bins(col, 11),)
    edges = a.bins[0].edges
    # a point bin for the lower bound, then equal-width integer bins up to upper + 1
    assert edges[0] == 0 and edges[1] == 1 and edges[-1] == 1001
    widths = np.diff(edges[1:])
    assert widths.max() - widths.min() <= 1
    wider = column_bins(IntegerColumn("x", lower=0, upper=2000), 11)
    assert wider.edges != edges and wider.edges[-1] == 2001


def test_lower_bound_has_its_own_point_bin() -> None:
    disc = Discretizer(Schema((IntegerColumn("gain", lower=0, upper=99_999),
                               FloatColumn("loss", lower=0.0, upper=10.0))), max_bins=5)
    codes = disc.encode(pd.DataFrame({"gain": [0, 1, 99_999], "loss": [0.0, 1e-9, 10.0]}))
    assert codes[:, 0].tolist() == [0, 1, 4]
    assert codes[:, 1].tolist() == [0, 1, 4]
    out = disc.decode(np.zeros((50, 2), dtype=np.int64), np.random.default_rng(0))
    assert (out["gain"] == 0).all() and (out["loss"] == 0.0).all()


def test_integer_columns_with_one_value_per_bin() -> None:
    disc = Discretizer(Schema((IntegerColumn("k", lower=5, upper=12),)), max_bins=8)
    assert disc.sizes == (8,)
    values = np.arange(5, 13)
    codes = disc.encode(pd.DataFrame({"k": values}))
    assert codes[:, 0].tolist() == list(range(8))
    out = disc.decode(codes, np.random.default_rng(0))
    assert out["k"].tolist() == values.tolist()
    # one more value than bins: the range is binned (point bin for 5, then wider bins)
    assert Discretizer(Schema((IntegerColumn("k", lower=5, upper=13),)), max_bins=8).sizes[0] < 9


def test_missing_gets_the_last_code_and_decodes_to_missing() -> None:
    schema = Schema((IntegerColumn("n", lower=0, upper=3, nullable=True),
                     CategoricalColumn("c", categories=("a", "b"), nullable=True),
                     BooleanColumn("b", nullable=True),
                     DatetimeColumn("d", lower="2020-01-01", upper="2020-01-03",
                                    resolution="D", nullable=True)))
    disc = Discretizer(schema, max_bins=10)
    assert disc.sizes == (5, 3, 3, 4)
    assert [b.missing_code for b in disc.bins] == [4, 2, 2, 3]
    df = pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "c": ["a", None],
                       "b": pd.array([True, None], dtype="boolean"),
                       "d": pd.to_datetime(["2020-01-02", None])})
    codes = disc.encode(df)
    assert codes.tolist() == [[1, 0, 1, 1], [4, 2, 2, 3]]
    out = disc.decode(codes, np.random.default_rng(0))
    assert out.iloc[1].isna().all()
    assert out.iloc[0].tolist() == [1, "a", True, pd.Timestamp("2020-01-02")]


def test_missing_in_a_non_nullable_column_is_refused() -> None:
    disc = Discretizer(Schema((IntegerColumn("n", lower=0, upper=3),)))
    assert disc.bins[0].missing_code is None
    with pytest.raises(DataValidationError, match="not nullable") as info:
        disc.encode(pd.DataFrame({"n": [1.0, np.nan, np.nan]}))
    assert info.value.problems == [{"column": "n", "problem": "missing values", "rows": 2}]


def test_out_of_domain_values_are_refused_without_showing_them() -> None:
    disc = Discretizer(Schema((IntegerColumn("n", lower=0, upper=3),
                               CategoricalColumn("c", categories=("a",)))))
    with pytest.raises(DataValidationError) as info:
        disc.encode(pd.DataFrame({"n": [1, 987654], "c": ["a", "a"]}))
    assert "987654" not in str(info.value)
    assert info.value.problems == [{"column": "n", "problem": "out of domain", "rows": 1}]
    with pytest.raises(DataValidationError, match="'c'"):
        disc.encode(pd.DataFrame({"n": [1], "c": ["secret"]}))
    with pytest.raises(DataValidationError, match="lacks schema column"):
        disc.encode(pd.DataFrame({"n": [1]}))


def test_datetime_codes_count_resolution_units_from_the_lower_bound() -> None:
    col = DatetimeColumn("d", lower="2020-01-01", upper="2020-01-31", resolution="D")
    disc = Discretizer(Schema((col,)), max_bins=64)
    assert disc.sizes == (31,)
    days = pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-31"])
    assert disc.encode(pd.DataFrame({"d": days}))[:, 0].tolist() == [0, 1, 30]
    # a time within a day falls in that day's bin
    assert disc.encode(pd.DataFrame({"d": pd.to_datetime(["2020-01-02 18:30"])}))[0, 0] == 1


def test_max_bins_is_checked() -> None:
    for bad in (1, 0, True, 2.5, "8"):
        with pytest.raises(ParameterError, match="max_bins"):
            Discretizer(MIXED, max_bins=bad)  # type: ignore[arg-type]

"""Direct tests of the risk module's encoder (privsynth/risk/_encode.py).

The encoder turns a table into the arrays the Gower nearest-neighbour search
reads. Its contract: scales and category codes come from the public schema
only, so a row's encoding never depends on the other rows of the table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from privsynth.columns import (
    BooleanColumn,
    CategoricalColumn,
    DatetimeColumn,
    FloatColumn,
    IntegerColumn,
)
from privsynth.errors import DataValidationError, ParameterError
from privsynth.risk._encode import encode
from privsynth.schema import Schema

SCHEMA = Schema((
    IntegerColumn("age", lower=0, upper=100),
    FloatColumn("income", lower=-50.0, upper=150.0, nullable=True),
    CategoricalColumn("colour", categories=("red", "green", "blue"), nullable=True),
    BooleanColumn("smoker", nullable=True),
    DatetimeColumn("seen", lower="2020-01-01", upper="2020-01-11", resolution="D"),
))


def _rows() -> pd.DataFrame:
    return pd.DataFrame({
        "age": [0, 50, 100, 25],
        "income": [-50.0, np.nan, 150.0, 0.0],
        "colour": ["blue", None, "red", "green"],
        "smoker": pd.array([True, False, None, True], dtype="boolean"),
        "seen": pd.to_datetime(["2020-01-01", "2020-01-06", "2020-01-11", "2020-01-02"]),
    })


def test_numbers_are_scaled_by_the_public_bounds() -> None:
    e = encode(_rows(), SCHEMA)
    assert e.n_rows == 4 and e.n_columns == 5
    # age, income and seen (datetime in days) are the numeric columns, in schema order
    assert e.numeric.dtype == np.float32 and e.numeric.shape == (3, 4)
    np.testing.assert_allclose(e.numeric[0], [0.0, 0.5, 1.0, 0.25])
    np.testing.assert_allclose(e.numeric[2], [0.0, 0.5, 1.0, 0.1])
    assert e.ranges == (100.0, 200.0, 10.0)
    # offsets keep the column's own units (exact for integers), NaN where missing
    np.testing.assert_array_equal(e.offsets[0], [0.0, 50.0, 100.0, 25.0])
    assert np.isnan(e.offsets[1, 1]) and e.offsets[1, 3] == 50.0


def test_a_missing_number_is_one_away_from_every_value_and_zero_from_missing() -> None:
    e = encode(_rows(), SCHEMA)
    sentinel = float(e.numeric[1, 1])
    present = e.numeric[1, [0, 2, 3]]
    # scaled values lie in [0, 1]: the sentinel differs from each by at least 1
    assert np.all(np.abs(sentinel - present) >= 1.0)
    assert e.numeric_nullable == (False, True, False)


def test_categories_are_coded_in_schema_order_with_a_code_for_missing() -> None:
    e = encode(_rows(), SCHEMA)
    colour, smoker = e.categorical
    assert colour.tolist() == [2, 3, 0, 1]  # blue, missing (= 3 categories), red, green
    assert smoker.tolist() == [1, 0, 2, 1]  # True, False, missing, True
    assert e.categorical.dtype == np.int8


def test_many_categories_widen_the_code_type() -> None:
    cats = tuple(f"c{i}" for i in range(300))
    schema = Schema((CategoricalColumn("c", categories=cats),))
    e = encode(pd.DataFrame({"c": ["c299", "c0"]}), schema)
    assert e.categorical.dtype == np.int16
    assert e.categorical[0].tolist() == [299, 0]


def test_values_outside_the_bounds_are_clipped_and_a_zero_width_range_is_safe() -> None:
    schema = Schema((IntegerColumn("x", lower=0, upper=10), FloatColumn("k", lower=3, upper=3)))
    e = encode(pd.DataFrame({"x": [-5, 15], "k": [3.0, 3.0]}), schema)
    assert e.numeric[0].tolist() == [0.0, 1.0]
    assert e.ranges == (10.0, 1.0) and e.numeric[1].tolist() == [0.0, 0.0]


def test_a_rows_encoding_does_not_depend_on_the_other_rows() -> None:
    rows = _rows()
    whole = encode(rows, SCHEMA)
    for i in range(len(rows)):
        alone = encode(rows.iloc[[i]], SCHEMA)
        np.testing.assert_array_equal(alone.numeric[:, 0], whole.numeric[:, i])
        np.testing.assert_array_equal(alone.categorical[:, 0], whole.categorical[:, i])
        assert alone.keys[0] == whole.keys[i]


def test_keys_identify_equal_rows_whatever_the_column_order() -> None:
    rows = _rows()
    doubled = pd.concat([rows, rows.iloc[[1]]], ignore_index=True)
    e = encode(doubled[list(reversed(rows.columns))], SCHEMA)
    assert e.keys[4] == e.keys[1]
    assert len(set(e.keys[:4].tolist())) == 4


def test_take_and_stack_select_and_join_rows() -> None:
    rows = _rows()
    e = encode(rows, SCHEMA)
    joined = e.take(np.array([3, 0])).stack(e.take(np.array([1])))
    direct = encode(rows.iloc[[3, 0, 1]], SCHEMA)
    np.testing.assert_array_equal(joined.numeric, direct.numeric)
    np.testing.assert_array_equal(joined.categorical, direct.categorical)
    np.testing.assert_array_equal(joined.keys, direct.keys)
    assert joined.numeric_nullable == e.numeric_nullable


def test_bad_tables_are_refused_with_names_and_counts_only() -> None:
    rows = _rows()
    bad = rows.assign(colour=["red", "secret-mauve", "red", "secret-mauve"])
    with pytest.raises(DataValidationError, match="the holdout") as info:
        encode(bad, SCHEMA, "the holdout")
    assert "colour" in str(info.value) and "secret-mauve" not in str(info.value)
    with pytest.raises(DataValidationError, match=r"missing from the data: \['age'\]"):
        encode(rows.drop(columns="age"), SCHEMA)
    with pytest.raises(DataValidationError, match="has no rows"):
        encode(rows.iloc[:0], SCHEMA)
    with pytest.raises(DataValidationError, match="duplicated column names"):
        encode(pd.concat([rows, rows[["age"]]], axis=1), SCHEMA)
    with pytest.raises(DataValidationError, match="must be a pandas DataFrame"):
        encode(rows.to_dict(), SCHEMA)
    with pytest.raises(ParameterError, match="schema must be a privsynth Schema"):
        encode(rows, SCHEMA.to_dict())  # type: ignore[arg-type]

"""validate(): every bad input is reported at once, counts only, never values; coercion."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from privsynth.errors import DataValidationError, ParameterError, PrivacyWarning, SchemaError
from privsynth.inference import infer_unsafe
from privsynth.io import read_table
from privsynth.schema import Schema
from privsynth.validation import MAX_VALUE_BYTES, validate

SCHEMA = Schema.from_dict(
    {
        "columns": [
            {"name": "age", "kind": "integer", "lower": 17, "upper": 90},
            {"name": "job", "kind": "categorical", "categories": ["a", "b", "1"], "nullable": True},
            {"name": "score", "kind": "float", "lower": 0, "upper": 1, "nullable": True},
            {"name": "day", "kind": "datetime", "lower": "2020-01-01", "upper": "2020-12-31"},
            {"name": "flag", "kind": "boolean", "nullable": True},
        ]
    }
)

SECRET = "ZQX-ALICE-SECRET-93471"


def _good(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [20, 35, 50, 89][:n],
            "job": ["a", "b", "1", None][:n],
            "score": [0.0, 0.5, None, 1.0][:n],
            "day": ["2020-01-01", "2020-06-30", "2020-12-31", "2020-02-29"][:n],
            "flag": ["yes", "no", None, "T"][:n],
        }
    )


def _problems(df: pd.DataFrame, schema: Schema = SCHEMA, **kwargs: object) -> list[tuple]:
    with pytest.raises(DataValidationError) as info:
        validate(df, schema, **kwargs)  # type: ignore[arg-type]
    return [(p["column"], p["problem"], p["rows"]) for p in info.value.problems]


def _one_col(kind_spec: dict[str, object]) -> Schema:
    return Schema.from_dict({"columns": [{"name": "x", **kind_spec}]})


# -- the happy path and coercion --------------------------------------------------


def test_good_frame_coerced_to_schema_dtypes() -> None:
    df = _good()
    before = df.copy()
    out = validate(df, SCHEMA)
    pd.testing.assert_frame_equal(df, before)  # the input is not modified
    assert out is not df
    assert list(out.columns) == list(SCHEMA.names)
    assert out.dtypes.astype(str).tolist() == [
        "int64",
        "object",
        "float64",
        "datetime64[ns]",
        "boolean",
    ]
    assert out["age"].tolist() == [20, 35, 50, 89]
    assert out["job"].tolist()[:3] == ["a", "b", "1"] and pd.isna(out["job"].iloc[3])
    assert out["day"].iloc[3] == pd.Timestamp("2020-02-29")
    assert out["flag"].tolist() == [True, False, pd.NA, True]


def test_columns_returned_in_schema_order() -> None:
    df = _good()[["flag", "day", "score", "job", "age"]]
    assert list(validate(df, SCHEMA).columns) == list(SCHEMA.names)


def test_csv_text_is_coerced_by_the_schema() -> None:
    # everything as read from a CSV file: text with stray whitespace
    df = pd.DataFrame(
        {
            "age": [" 17", "90 ", "4.2e1", "+30"],
            "job": [" a", "1", "b ", ""],
            "score": ["0.25", "1", "", "1e-3"],
            "day": ["2020-03-04", "2020-03-04T05:06:07", " 2020-12-30 23:00:00 ", "2020-01-01"],
            "flag": ["TRUE", "false", "0", " Yes"],
        },
        dtype=str,
    )
    out = validate(df, SCHEMA)
    assert out["age"].tolist() == [17, 90, 42, 30]
    assert out["job"].tolist()[:3] == ["a", "1", "b"] and pd.isna(out["job"].iloc[3])
    assert out["score"].tolist()[:2] == [0.25, 1.0] and np.isnan(out["score"].iloc[2])
    assert out["day"].tolist()[1] == pd.Timestamp("2020-03-04 05:06:07")
    assert out["day"].tolist()[2] == pd.Timestamp("2020-12-30 23:00:00")
    assert out["flag"].tolist() == [True, False, False, True]


def test_numbers_are_compared_with_categories_as_text() -> None:
    schema = _one_col({"kind": "categorical", "categories": ["1", "2", "10"]})
    assert validate(pd.DataFrame({"x": [1, 2, 10]}), schema)["x"].tolist() == ["1", "2", "10"]
    # floats that are whole (an int column with NaN becomes float) still match
    floats = pd.DataFrame({"x": [1.0, 10.0]})
    assert validate(floats, schema)["x"].tolist() == ["1", "10"]
    assert _problems(pd.DataFrame({"x": [1.5]}), schema) == [
        ("x", "values not among the schema's categories", 1)
    ]
    # "01" is text, not the number 1
    assert _problems(pd.DataFrame({"x": ["01"]}), schema)[0][1].startswith("values not among")


def test_pandas_categorical_input() -> None:
    schema = _one_col({"kind": "categorical", "categories": ["a", "b"], "nullable": True})
    df = pd.DataFrame({"x": pd.Categorical(["a", "b", None, "a"])})
    out = validate(df, schema)
    assert out["x"].dtype == object
    assert out["x"].tolist()[:2] == ["a", "b"] and pd.isna(out["x"].iloc[2])


def test_nullable_integer_becomes_Int64() -> None:
    schema = _one_col({"kind": "integer", "lower": 0, "upper": 10, "nullable": True})
    out = validate(pd.DataFrame({"x": ["3", "", None, "7.0"]}), schema)
    assert str(out["x"].dtype) == "Int64"
    assert out["x"].tolist() == [3, pd.NA, pd.NA, 7]
    out = validate(pd.DataFrame({"x": [1.0, np.nan]}), schema)
    assert out["x"].tolist() == [1, pd.NA]


def test_datetime_format_and_timezones() -> None:
    schema = _one_col(
        {
            "kind": "datetime",
            "lower": "2020-01-01",
            "upper": "2020-12-31",
            "format": "%d/%m/%Y",
        }
    )
    out = validate(pd.DataFrame({"x": ["31/01/2020", "01/02/2020"]}), schema)
    assert out["x"].tolist() == [pd.Timestamp("2020-01-31"), pd.Timestamp("2020-02-01")]
    assert _problems(pd.DataFrame({"x": ["2020-01-31"]}), schema) == [
        ("x", "values that cannot be read as a datetime", 1)
    ]
    iso = _one_col({"kind": "datetime", "lower": "2020-01-01", "upper": "2020-12-31"})
    # offsets are converted to UTC, then dropped
    out = validate(pd.DataFrame({"x": ["2020-05-01T12:00:00+02:00", "2020-05-01"]}), iso)
    assert out["x"].tolist() == [pd.Timestamp("2020-05-01 10:00"), pd.Timestamp("2020-05-01")]
    typed = pd.DataFrame({"x": pd.to_datetime(["2020-05-01"]).tz_localize("Europe/Paris")})
    assert validate(typed, iso)["x"].iloc[0] == pd.Timestamp("2020-04-30 22:00")
    assert str(validate(typed, iso)["x"].dtype) == "datetime64[ns]"


def test_date_only_upper_bound_is_midnight() -> None:
    # the bound is a point in time, as in DatetimeColumn.unit_upper
    assert _problems(_good().assign(day=["2020-12-31 00:00:01"] * 4)) == [
        ("day", "values outside the schema bounds [2020-01-01, 2020-12-31]", 4)
    ]


def test_datetimes_outside_the_nanosecond_range_are_unreadable() -> None:
    iso = _one_col({"kind": "datetime", "lower": "2020-01-01", "upper": "2020-12-31"})
    assert _problems(pd.DataFrame({"x": ["3000-01-01", "2020-01-01"]}), iso) == [
        ("x", "values that cannot be read as a datetime", 1)
    ]


def test_boolean_tokens() -> None:
    schema = _one_col({"kind": "boolean"})
    tokens = ["true", "FALSE", "Yes", "no", "1", "0", "t", "F"]
    out = validate(pd.DataFrame({"x": tokens}), schema)
    assert out["x"].tolist() == [True, False, True, False, True, False, True, False]
    assert validate(pd.DataFrame({"x": [1, 0]}), schema)["x"].tolist() == [True, False]
    assert validate(pd.DataFrame({"x": [True, False]}), schema)["x"].dtype == "boolean"
    problems = _problems(pd.DataFrame({"x": ["maybe", "2", "true"]}), schema)
    assert problems == [
        (
            "x",
            "values that cannot be read as a boolean (accepted: true/false, yes/no, 1/0, t/f)",
            2,
        )
    ]
    assert _problems(pd.DataFrame({"x": [2, 1]}), schema)[0][2] == 1


def test_integer_accepts_whole_floats_but_not_fractions() -> None:
    schema = _one_col({"kind": "integer", "lower": 0, "upper": 100})
    assert validate(pd.DataFrame({"x": [3.0, 4.0]}), schema)["x"].tolist() == [3, 4]
    assert _problems(pd.DataFrame({"x": [3.5, 4.0, "2.25"]}), schema) == [
        ("x", "values that are not whole numbers", 2)
    ]


# -- table-level problems --------------------------------------------------------


def test_empty_table() -> None:
    df = _good().iloc[:0]
    with pytest.raises(DataValidationError, match="no rows") as info:
        validate(df, SCHEMA)
    assert info.value.problems == [{"column": None, "problem": "the table has no rows", "rows": 0}]
    assert "at least one row" in str(info.value)


def test_zero_columns() -> None:
    problems = _problems(pd.DataFrame(index=range(3)))
    assert (None, "the table has no columns", 3) in problems
    # and every schema column is reported missing, in the same error
    missing = [p for p in problems if p[1] == "the schema column is missing from the data"]
    assert [p[0] for p in missing] == list(SCHEMA.names)


def test_duplicate_column_names() -> None:
    df = _good()
    df.insert(1, "age", [1, 2, 3, 4], allow_duplicates=True)
    problems = _problems(df)
    assert problems == [("age", "the column name appears more than once in the data", 4)]


def test_extra_and_missing_columns_both_reported() -> None:
    df = _good().drop(columns=["score", "flag"]).assign(extra1=1, extra2=2)
    problems = _problems(df)
    assert ("extra1", "the column is in the data but not in the schema", 4) in problems
    assert ("extra2", "the column is in the data but not in the schema", 4) in problems
    assert ("score", "the schema column is missing from the data", 4) in problems
    assert ("flag", "the schema column is missing from the data", 4) in problems
    assert len(problems) == 4


def test_entirely_missing_column_not_nullable() -> None:
    df = _good().assign(age=[None] * 4)
    assert _problems(df) == [
        (
            "age",
            "the column is entirely missing but the schema does not allow missing values",
            4,
        )
    ]
    # the same for a nullable column is fine
    out = validate(_good().assign(job=[None] * 4), SCHEMA)
    assert out["job"].isna().all()


def test_missing_in_non_nullable_column_and_missing_tokens() -> None:
    df = _good().assign(age=["20", "", None, "30"])
    assert _problems(df) == [("age", "missing values in a column that is not nullable", 2)]
    # "?" is NOT missing by default ...
    df = _good().assign(job=["a", "?", "b", "a"])
    assert _problems(df) == [("job", "values not among the schema's categories", 1)]
    # ... unless listed
    out = validate(df, SCHEMA, missing_values=("", "?"))
    assert pd.isna(out["job"].iloc[1])
    # NA as a token for numbers
    df = _good().assign(score=["NA", "0.5", " NA ", "1"])
    assert validate(df, SCHEMA, missing_values=["NA"])["score"].isna().sum() == 2


def test_mixed_types_are_counted_as_coercion_failures() -> None:
    df = _good().assign(age=[20, "thirty", 40.0, True])
    assert _problems(df) == [("age", "values that cannot be read as an integer", 2)]
    df = _good().assign(score=[0.5, "x", b"bytes", None])
    assert _problems(df) == [("score", "values that cannot be read as a float", 2)]


def test_non_finite_and_nan_in_numeric() -> None:
    df = _good().assign(score=[np.inf, -np.inf, np.nan, 0.5])
    assert _problems(df) == [("score", "non-finite values (inf or -inf)", 2)]
    df = _good().assign(age=["inf", "-Infinity", "nan", "20"])
    problems = _problems(df)
    assert ("age", "non-finite values (inf or -inf)", 2) in problems
    # the text "nan" is not a number and not a missing token unless listed
    assert ("age", "values that cannot be read as an integer", 1) in problems
    df = _good().assign(age=[20, np.nan, 30, 40])
    assert _problems(df) == [("age", "missing values in a column that is not nullable", 1)]


def test_strings_longer_than_one_megabyte() -> None:
    long_ascii = "a" * (MAX_VALUE_BYTES + 1)
    long_utf8 = "é" * (MAX_VALUE_BYTES // 2 + 1)  # fewer characters, more bytes
    fine = "é" * (MAX_VALUE_BYTES // 2 - 1)
    schema = _one_col({"kind": "categorical", "categories": ["a"]})
    df = pd.DataFrame({"x": [long_ascii, long_utf8, "a"]})
    assert _problems(df, schema) == [("x", "value longer than 1 MB", 2)]
    assert _problems(pd.DataFrame({"x": [fine]}), schema) == [
        ("x", "values not among the schema's categories", 1)
    ]
    num = _one_col({"kind": "float", "lower": 0, "upper": 1})
    assert _problems(pd.DataFrame({"x": ["1" * (MAX_VALUE_BYTES + 5)]}), num) == [
        ("x", "value longer than 1 MB", 1)
    ]


def test_non_utf8_bytes_via_csv(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("age,job\n20,a\n30,caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataValidationError, match="not valid utf-8") as info:
        read_table(path, schema=SCHEMA.select(["age", "job"]))
    message = str(info.value)
    assert "line 3" in message and "encoding=" in message
    assert "caf" not in message


# -- out-of-domain policies ---------------------------------------------------------


def _out_of_domain() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [10, 20, 95, 90],
            "job": ["a", "b", "a", "b"],
            "score": [-0.5, 0.5, 1.5, 2.0],
            "day": ["2019-12-31", "2020-06-01", "2021-01-01", "2020-12-31"],
            "flag": [True, False, True, None],
        }
    )


def test_out_of_domain_default_is_an_error() -> None:
    assert _problems(_out_of_domain()) == [
        ("age", "values outside the schema bounds [17, 90]", 2),
        ("score", "values outside the schema bounds [0.0, 1.0]", 3),
        ("day", "values outside the schema bounds [2020-01-01, 2020-12-31]", 2),
    ]


def test_out_of_domain_clip() -> None:
    out = validate(_out_of_domain(), SCHEMA, on_out_of_domain="clip")
    assert out["age"].tolist() == [17, 20, 90, 90]
    assert out["score"].tolist() == [0.0, 0.5, 1.0, 1.0]
    assert out["day"].tolist() == [
        pd.Timestamp("2020-01-01"),
        pd.Timestamp("2020-06-01"),
        pd.Timestamp("2020-12-31"),
        pd.Timestamp("2020-12-31"),
    ]


def test_clip_does_not_apply_to_categories() -> None:
    df = _good().assign(job=["a", "zzz", "b", None])
    assert _problems(df, on_out_of_domain="clip") == [
        (
            "job",
            "values not among the schema's categories (clip does not apply to categorical columns)",
            1,
        )
    ]


def test_out_of_domain_map_to_missing() -> None:
    nullable = Schema.from_dict(
        {
            "columns": [
                {"name": "n", "kind": "integer", "lower": 0, "upper": 10, "nullable": True},
                {"name": "c", "kind": "categorical", "categories": ["a"], "nullable": True},
                {
                    "name": "d",
                    "kind": "datetime",
                    "lower": "2020-01-01",
                    "upper": "2020-12-31",
                    "nullable": True,
                },
            ]
        }
    )
    df = pd.DataFrame(
        {"n": [5, 11, -1], "c": ["a", "b", "a"], "d": ["2020-05-05", "", "2030-01-01"]}
    )
    out = validate(df, nullable, on_out_of_domain="map_to_missing")
    assert out["n"].tolist() == [5, pd.NA, pd.NA]
    assert out["c"].tolist()[0] == "a" and pd.isna(out["c"].iloc[1])
    assert out["d"].isna().tolist() == [False, True, True]
    # not allowed for a non-nullable column
    problems = _problems(_out_of_domain(), on_out_of_domain="map_to_missing")
    assert (
        "age",
        "out-of-domain values cannot be mapped to missing because the column is not nullable",
        2,
    ) in problems
    # the nullable float column was mapped without complaint
    assert all(p[0] != "score" for p in problems)


# -- the message -------------------------------------------------------------------


def test_every_problem_at_once_and_never_the_values() -> None:
    df = pd.DataFrame(
        {
            "age": [SECRET, "20", "200", ""],
            "job": ["a", SECRET, "b", "a"],
            "score": ["0.5", "0.1", SECRET, "inf"],
            "day": ["2020-01-01", SECRET, "2020-01-02", "2020-01-03"],
            "flag": [SECRET, "yes", "no", "t"],
            "leak": [SECRET] * 4,
        }
    )
    with pytest.raises(DataValidationError) as info:
        validate(df, SCHEMA)
    message = str(info.value)
    columns = {p["column"] for p in info.value.problems}
    assert columns == {"age", "job", "score", "day", "flag", "leak"}
    assert len(info.value.problems) == 9
    for p in info.value.problems:
        assert set(p) == {"column", "problem", "rows"}
        assert isinstance(p["rows"], int)
        assert f"column {p['column']!r}: {p['problem']}" in message
    assert "9 problems" in message and "What to do" in message
    assert "missing_values=" in message and "on_out_of_domain" in message
    assert SECRET not in message
    assert "ZQX" not in message and "ALICE" not in message
    assert SECRET not in repr(info.value.problems)
    # nothing derived from the numeric value either
    assert "200" not in message


def test_row_counts_are_plural_aware() -> None:
    with pytest.raises(DataValidationError) as info:
        validate(_good().assign(age=[20, 30, 300, 400]), SCHEMA)
    assert "(2 rows)" in str(info.value)
    with pytest.raises(DataValidationError) as info:
        validate(_good().assign(age=[20, 30, 300, 40]), SCHEMA)
    assert "(1 row)" in str(info.value)


# -- arguments -------------------------------------------------------------------------


def test_bad_arguments() -> None:
    with pytest.raises(ParameterError, match="on_out_of_domain"):
        validate(_good(), SCHEMA, on_out_of_domain="drop")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="missing_values"):
        validate(_good(), SCHEMA, missing_values="NA")
    with pytest.raises(ParameterError, match="DataFrame"):
        validate([[1, 2]], SCHEMA)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="Schema"):
        validate(_good(), SCHEMA.to_dict())  # type: ignore[arg-type]


# -- infer_unsafe -----------------------------------------------------------------------


def test_infer_unsafe_warns_and_marks_the_schema() -> None:
    df = pd.DataFrame(
        {
            "n": [1, 2, None],
            "x": [0.5, 2.0, 3.0],
            "t": ["3", "10", ""],
            "r": ["1.5", "2", "x1"],
            "c": ["b", "a", "b"],
            "b": [True, False, True],
            "d": pd.to_datetime(["2020-01-01", "2021-06-30 12:00", None], format="ISO8601"),
        }
    )
    with pytest.warns(PrivacyWarning, match="NOT end-to-end DP"):
        s = infer_unsafe(df)
    assert issubclass(PrivacyWarning, UserWarning)
    assert s.source == "data (not DP)" and not s.is_public
    assert [c.kind for c in s] == [
        "integer",
        "float",
        "integer",
        "categorical",
        "categorical",
        "boolean",
        "datetime",
    ]
    assert (s["n"].lower, s["n"].upper, s["n"].nullable) == (1, 2, True)
    assert (s["x"].lower, s["x"].upper, s["x"].nullable) == (0.5, 3.0, False)
    assert (s["t"].lower, s["t"].upper, s["t"].nullable) == (3, 10, True)
    assert s["c"].categories == ("a", "b")
    assert s["r"].categories == ("1.5", "2", "x1")
    assert s["d"].lower.startswith("2020-01-01") and s["d"].resolution == "s"
    # what it inferred validates the data it came from
    out = validate(df, s)
    assert out["n"].tolist() == [1, 2, pd.NA]


def test_infer_unsafe_without_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = infer_unsafe(pd.DataFrame({"a": ["x"]}), warn=False)
    assert s["a"].categories == ("x",)


def test_infer_unsafe_refuses_too_many_categories() -> None:
    df = pd.DataFrame({"id": [f"p{i}" for i in range(30)]})
    with pytest.raises(SchemaError, match="bin it") as info:
        infer_unsafe(df, max_categories=20, warn=False)
    assert "p1" not in str(info.value)
    assert infer_unsafe(df, max_categories=30, warn=False)["id"].size == 30


@pytest.mark.parametrize(
    ("df", "fragment"),
    [
        (pd.DataFrame({"a": [None, None]}), "entirely missing"),
        (pd.DataFrame({"a": [np.nan, np.inf]}), "no finite values"),
        (pd.DataFrame({"a": pd.Series([], dtype=float)}), "no rows"),
        (pd.DataFrame(index=range(2)), "no columns"),
    ],
)
def test_infer_unsafe_cannot_infer(df: pd.DataFrame, fragment: str) -> None:
    with pytest.raises(SchemaError, match=fragment):
        infer_unsafe(df, warn=False)


def test_infer_unsafe_bad_arguments() -> None:
    with pytest.raises(ParameterError, match="max_categories"):
        infer_unsafe(pd.DataFrame({"a": [1]}), max_categories=0, warn=False)


# -- speed ---------------------------------------------------------------------------


def _wide_text_frame(n: int, seed: int = 0) -> tuple[pd.DataFrame, Schema]:
    rng = np.random.default_rng(seed)
    cols: list[dict[str, object]] = []
    data: dict[str, np.ndarray] = {}
    for i in range(5):
        data[f"i{i}"] = rng.integers(0, 100, n).astype(str)
        cols.append({"name": f"i{i}", "kind": "integer", "lower": 0, "upper": 99})
    for i in range(3):
        data[f"f{i}"] = (rng.random(n) * 10).round(3).astype(str)
        cols.append({"name": f"f{i}", "kind": "float", "lower": 0, "upper": 10})
    cats = ["alpha", "beta", "gamma", "delta"]
    for i in range(5):
        data[f"c{i}"] = rng.choice(cats, n)
        cols.append({"name": f"c{i}", "kind": "categorical", "categories": cats})
    data["b"] = rng.choice(["yes", "no", "True", "0"], n)
    cols.append({"name": "b", "kind": "boolean"})
    seconds = rng.integers(1_500_000_000, 1_600_000_000, n)
    data["d"] = pd.to_datetime(seconds, unit="s").astype(str).to_numpy()
    cols.append({"name": "d", "kind": "datetime", "lower": "2000-01-01", "upper": "2030-01-01"})
    return pd.DataFrame(data).astype(str), Schema.from_dict({"columns": cols})


def test_validate_is_vectorized() -> None:
    df, schema = _wide_text_frame(100_000)
    start = time.perf_counter()
    out = validate(df, schema)
    assert time.perf_counter() - start < 10  # about 0.3 s here
    assert out.shape == (100_000, 15)


@pytest.mark.slow
def test_validate_one_million_rows_in_seconds() -> None:
    df, schema = _wide_text_frame(1_000_000)
    start = time.perf_counter()
    validate(df, schema)
    assert time.perf_counter() - start < 15  # about 2-3 s on 2 cores


def test_a_column_s_own_missing_tokens_replace_the_table_s() -> None:
    schema = Schema.from_dict({"columns": [
        {"name": "income", "kind": "integer", "lower": 0, "upper": 9999, "nullable": True,
         "missing_values": ["N"]},
        {"name": "status", "kind": "categorical", "categories": ["N", "Y"], "nullable": True},
    ]})
    raw = pd.DataFrame({"income": ["N", "120", " N "], "status": ["N", "", "Y"]})
    out = validate(raw, schema)
    assert out["income"].isna().tolist() == [True, False, True]
    assert out["status"].tolist()[0] == "N" and pd.isna(out["status"].tolist()[1])
    # "" is missing by the table's tokens, but not in the column that replaced them
    with pytest.raises(DataValidationError) as info:
        validate(pd.DataFrame({"income": ["", "1"], "status": ["Y", "Y"]}), schema)
    assert info.value.problems[0]["column"] == "income"
    assert "cannot be read as an integer" in str(info.value.problems[0]["problem"])

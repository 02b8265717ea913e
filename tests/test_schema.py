"""Schema value types: construction, JSON round trip and every SchemaError case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from privsynth.columns import (
    BooleanColumn,
    CategoricalColumn,
    DatetimeColumn,
    FloatColumn,
    IntegerColumn,
    column_from_dict,
)
from privsynth.errors import PrivsynthError, SchemaError
from privsynth.schema import Schema

FULL: dict[str, Any] = {
    "format": "privsynth.schema",
    "version": 1,
    "source": "public",
    "columns": [
        {"name": "sex", "kind": "categorical", "categories": ["F", "M"], "description": "sex"},
        {"name": "age", "kind": "integer", "lower": 0, "upper": 120, "nullable": True},
        {"name": "bmi", "kind": "float", "lower": 10.0, "upper": 80.5, "decimals": 1},
        {
            "name": "seen",
            "kind": "datetime",
            "lower": "2020-01-01",
            "upper": "2020-12-31",
            "resolution": "D",
            "format": "%Y-%m-%d",
        },
        {"name": "smoker", "kind": "boolean"},
    ],
    "constraints": [{"kind": "order", "columns": ["age", "bmi"]}],
}


def _one(column: dict[str, Any]) -> dict[str, Any]:
    return {"columns": [column]}


def test_from_dict_builds_each_kind() -> None:
    s = Schema.from_dict(FULL)
    assert s.names == ("sex", "age", "bmi", "seen", "smoker")
    assert [type(c) for c in s] == [
        CategoricalColumn,
        IntegerColumn,
        FloatColumn,
        DatetimeColumn,
        BooleanColumn,
    ]
    assert s["sex"].categories == ("F", "M")
    assert s["age"].nullable is True and s["age"].upper == 120
    assert s["bmi"].decimals == 1 and s["bmi"].upper == 80.5
    assert s["seen"].resolution == "D"
    assert s.is_public
    assert len(s) == 5 and "age" in s and "nope" not in s


def test_dict_and_json_round_trip(tmp_path: Path) -> None:
    s = Schema.from_dict(FULL)
    assert Schema.from_dict(s.to_dict()) == s
    assert Schema.from_json(s.to_json()) == s
    path = tmp_path / "s.json"
    text = s.to_json(path)
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(text)
    assert Schema.from_json(path) == s
    assert Schema.from_json(str(path)) == s
    # defaults are left out of the JSON form
    assert "nullable" not in s.to_dict()["columns"][0]
    assert s.to_dict()["constraints"] == FULL["constraints"]


def test_select_keeps_order_and_source() -> None:
    s = Schema.from_dict({**FULL, "source": "dp"})
    sub = s.select(["smoker", "age"])
    assert sub.names == ("smoker", "age") and sub.source == "dp"


def test_unsafe_source_is_not_public() -> None:
    s = Schema.from_dict({**FULL, "source": "data (not DP)"})
    assert not s.is_public


@pytest.mark.parametrize(
    ("column", "fragment"),
    [
        ({"name": "x", "kind": "integer", "lower": 5, "upper": 1}, "greater than upper"),
        ({"name": "x", "kind": "float", "lower": 1.5, "upper": 0.5}, "greater than upper"),
        ({"name": "x", "kind": "categorical", "categories": []}, "category list is empty"),
        ({"name": "x", "kind": "categorical", "categories": ["a", "b", "a"]}, "duplicated"),
        ({"name": "x", "kind": "categorical", "categories": [1, 2]}, "must be strings"),
        ({"name": "x", "kind": "categorical", "categories": "ab"}, "list of strings"),
        ({"name": "x", "kind": "text"}, "unknown kind"),
        ({"name": "x"}, "unknown kind"),
        ({"name": "x", "kind": "integer", "lower": 0}, "missing ['upper']"),
        ({"name": "x", "kind": "float"}, "missing ['lower', 'upper']"),
        ({"name": "x", "kind": "datetime", "upper": "2020-01-01"}, "missing ['lower']"),
        ({"name": "x", "kind": "float", "lower": 0, "upper": float("inf")}, "finite"),
        ({"name": "x", "kind": "float", "lower": float("nan"), "upper": 1}, "finite"),
        ({"name": "x", "kind": "integer", "lower": "0", "upper": 1}, "finite numbers"),
        ({"name": "x", "kind": "integer", "lower": 0.5, "upper": 1}, "whole number"),
        ({"name": "x", "kind": "datetime", "lower": "soon", "upper": "2020-01-01"}, "ISO 8601"),
        (
            {"name": "x", "kind": "datetime", "lower": "2021-01-01", "upper": "2020-01-01"},
            "after upper",
        ),
        (
            {
                "name": "x",
                "kind": "datetime",
                "lower": "2020-01-01",
                "upper": "2021-01-01",
                "resolution": "week",
            },
            "resolution",
        ),
        ({"name": "x", "kind": "float", "lower": 0, "upper": 1, "decimals": 99}, "decimals"),
        ({"name": "x", "kind": "boolean", "lower": 0}, "unknown key"),
        ({"name": "", "kind": "boolean"}, "non-empty string"),
        ({"name": "x", "kind": "boolean", "nullable": "yes"}, "nullable"),
    ],
)
def test_bad_columns_raise_schema_error(column: dict[str, Any], fragment: str) -> None:
    with pytest.raises(SchemaError) as info:
        Schema.from_dict(_one(column))
    assert fragment in str(info.value)
    assert isinstance(info.value, PrivsynthError)


def test_non_finite_bounds_from_json_text() -> None:
    # Python's json module reads the non-standard literal Infinity
    text = '{"columns": [{"name": "x", "kind": "float", "lower": 0, "upper": Infinity}]}'
    with pytest.raises(SchemaError, match="finite"):
        Schema.from_json(text)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({**FULL, "version": 2}, "version 2 is not supported"),
        ({**FULL, "format": "something.else"}, "not a privsynth schema"),
        ({**FULL, "source": "guessed"}, "source must be one of"),
        ({**FULL, "extra": 1}, "unknown top-level"),
        ({"format": "privsynth.schema"}, "'columns' list"),
        ({"columns": []}, "no columns"),
        ({"columns": "age"}, "'columns' list"),
        ({"columns": ["age"]}, "JSON object"),
        ({**FULL, "constraints": "none"}, "constraints"),
        (
            {"columns": [{"name": "a", "kind": "boolean"}, {"name": "a", "kind": "boolean"}]},
            "duplicated column names",
        ),
    ],
)
def test_bad_schemas_raise_schema_error(data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(SchemaError) as info:
        Schema.from_dict(data)
    assert fragment in str(info.value)


def test_schema_must_be_a_mapping() -> None:
    with pytest.raises(SchemaError, match="JSON object"):
        Schema.from_dict(["columns"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    ['{"columns": [', '{"columns": [{"name": "x",}]}', "{not json}"],
)
def test_bad_json_text(text: str) -> None:
    with pytest.raises(SchemaError, match="not valid JSON") as info:
        Schema.from_json(text)
    assert "line 1" in str(info.value)


def test_schema_file_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "nope.schema.json"
    with pytest.raises(SchemaError, match="schema file not found"):
        Schema.from_json(missing)
    with pytest.raises(SchemaError, match="schema file not found"):
        Schema.from_json(str(missing))


def test_schema_file_with_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"columns": [}', encoding="utf-8")
    with pytest.raises(SchemaError, match="not valid JSON"):
        Schema.from_json(path)


def test_unknown_column_lookup() -> None:
    s = Schema.from_dict(FULL)
    with pytest.raises(SchemaError, match="no column 'nope'"):
        s["nope"]


def test_columns_are_frozen() -> None:
    s = Schema.from_dict(FULL)
    with pytest.raises(AttributeError):
        s["age"].upper = 5  # type: ignore[misc]


def test_datetime_units_round_trip() -> None:
    c = DatetimeColumn("d", lower="2020-01-01", upper="2020-12-31", resolution="D")
    ts = pd.Series(pd.to_datetime(["2020-01-01", "2020-03-01", None]))
    units = c.to_units(ts)
    assert units.iloc[0] == c.unit_lower == 18262
    assert pd.isna(units.iloc[2])
    back = c.from_units(units)
    assert back.iloc[1] == pd.Timestamp("2020-03-01")
    assert c.unit_upper - c.unit_lower == 365


def test_column_missing_values_round_trip_and_errors() -> None:
    spec = {"name": "income", "kind": "integer", "lower": 0, "upper": 10, "nullable": True,
            "missing_values": ["N", " NA "]}
    col = column_from_dict(spec)
    assert col.missing_values == ("N", "NA")
    assert col.to_dict()["missing_values"] == ["N", "NA"]
    assert "missing_values" not in IntegerColumn("x", lower=0, upper=1).to_dict()
    s = Schema((col,))
    assert Schema.from_json(s.to_json()) == s
    assert col.missing_tokens(("",)) == ("N", "NA")
    assert IntegerColumn("x").missing_tokens(("", "?")) == ("", "?")
    for bad, match in [("N", "list of strings"), ([1], "list of strings"),
                       (["N", "N"], "twice")]:
        with pytest.raises(SchemaError, match=match):
            column_from_dict({**spec, "missing_values": bad})
    with pytest.raises(SchemaError, match="'N' is both a category and a missing-value token"):
        column_from_dict({"name": "c", "kind": "categorical", "categories": ["N", "Y"],
                          "missing_values": ["N"]})

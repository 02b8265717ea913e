"""The bundled Adult copy and its public schema; the shared data sets read with schemas."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from privsynth.datasets import load_adult
from privsynth.errors import ParameterError
from privsynth.io import read_table
from privsynth.schema import Schema

ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]
INTEGERS = {"age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"}
PACKAGE = resources.files("privsynth.datasets")


@pytest.fixture(scope="module")
def adult_test() -> pd.DataFrame:
    return load_adult("test")


@pytest.fixture(scope="module")
def adult_train(_adult_train_full: pd.DataFrame) -> pd.DataFrame:
    return _adult_train_full


@pytest.mark.parametrize(("split", "rows"), [("train", 32_561), ("test", 16_281)])
def test_load_adult_shapes_and_dtypes(
    split: str, rows: int, adult_train: pd.DataFrame, adult_test: pd.DataFrame
) -> None:
    df = adult_train if split == "train" else adult_test
    assert df.shape == (rows, 15)
    assert list(df.columns) == ADULT_COLUMNS
    for name in ADULT_COLUMNS:
        expected = "int64" if name in INTEGERS else "object"
        assert str(df[name].dtype) == expected, name
    assert set(df["income"].unique()) == {"<=50K", ">50K"}
    assert not df["age"].isna().any()


def test_adult_known_counts(adult_train: pd.DataFrame, adult_test: pd.DataFrame) -> None:
    # the published class balance and unknown counts of the original files
    assert adult_train["income"].value_counts().to_dict() == {"<=50K": 24_720, ">50K": 7_841}
    assert adult_test["income"].value_counts().to_dict() == {"<=50K": 12_435, ">50K": 3_846}
    assert adult_train.isna().sum()[lambda s: s > 0].to_dict() == {
        "workclass": 1_836,
        "occupation": 1_843,
        "native-country": 583,
    }
    # adult.names: 30,162 / 15,060 rows remain when rows with unknowns are removed
    assert len(adult_train.dropna()) == 30_162
    assert len(adult_test.dropna()) == 15_060


def test_every_row_validates_against_the_public_schema(
    adult_schema: Schema, adult_train: pd.DataFrame, adult_test: pd.DataFrame
) -> None:
    # load_adult already validated; validate the raw text files once more explicitly
    for split in ("train", "test"):
        with resources.as_file(PACKAGE / f"adult_{split}.csv.gz") as path:
            raw = read_table(path)
        checked = read_table(raw, schema=adult_schema)
        expected = adult_train if split == "train" else adult_test
        pd.testing.assert_frame_equal(checked, expected)


def test_adult_schema_is_public_and_documented(adult_schema: Schema) -> None:
    s = adult_schema
    assert s.source == "public" and s.is_public
    assert s.names == tuple(ADULT_COLUMNS)
    bounds = {c.name: (c.lower, c.upper) for c in s if c.kind == "integer"}
    assert bounds == {
        "age": (17, 90),
        "fnlwgt": (0, 1_500_000),
        "education-num": (1, 16),
        "capital-gain": (0, 99_999),
        "capital-loss": (0, 5_000),
        "hours-per-week": (1, 99),
    }
    assert {c.name for c in s if c.nullable} == {"workclass", "occupation", "native-country"}
    assert s["income"].categories == ("<=50K", ">50K")
    assert s["education"].size == 16 and s["native-country"].size == 41
    assert s["workclass"].size == 8 and s["occupation"].size == 14
    assert all(c.description for c in s)
    assert "not the largest value in the data" in s["capital-loss"].description


def _numbers(text: str) -> set[float]:
    """Every number written in ``text`` (thousands separators allowed)."""
    return {float(m.replace(",", "")) for m in re.findall(r"\d(?:[\d,]*\d)?", text)}


def test_adult_schema_text_states_no_private_extreme(adult_schema: Schema) -> None:
    # a data minimum or maximum is private (it is one person's value) unless it is also the
    # column's public bound (a documented top-code or extraction rule): no description, and
    # no other text of the bundled schema, may state one
    text = (PACKAGE / "adult.schema.json").read_text(encoding="utf-8")
    public = {float(v) for c in adult_schema if c.kind == "integer"
              for v in (c.lower, c.upper)}
    private = set()
    for split in ("train", "test"):
        df = load_adult(split)
        for name in INTEGERS:
            private |= {float(df[name].min()), float(df[name].max())}
    private -= public
    assert {12285.0, 1484705.0, 4356.0} <= private  # the check looks at real extremes
    assert not _numbers(text) & private
    assert _numbers("the largest value in the data (4,356), which") & private  # can fail


def test_schema_categories_match_adult_names(test_data: Path, adult_schema: Schema) -> None:
    # tests/data/adult.names is an unchanged copy of the original (test_fixtures.py)
    text = (test_data / "adult.names").read_text(encoding="utf-8")
    for col in adult_schema:
        if col.kind != "categorical" or col.name == "income":
            continue
        line = next(x for x in text.splitlines() if x.startswith(f"{col.name}:"))
        listed = [v.strip() for v in line.split(":", 1)[1].rstrip(".").split(",")]
        assert tuple(listed) == col.categories, col.name


def test_bundled_copy_matches_the_original(shared_datasets: Path) -> None:
    for split, name, skip in (("train", "adult.data", 0), ("test", "adult.test", 1)):
        original = pd.read_csv(
            shared_datasets / "adult" / name,
            header=None,
            names=ADULT_COLUMNS,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            skiprows=skip,
        )
        original = original.replace("?", "")
        original["income"] = original["income"].str.rstrip(".")
        with resources.as_file(PACKAGE / f"adult_{split}.csv.gz") as path:
            bundled = pd.read_csv(path, dtype=str, keep_default_na=False)
        pd.testing.assert_frame_equal(bundled, original, check_dtype=False)


def test_bundled_files_are_small_and_documented() -> None:
    for name, limit in (("adult_train.csv.gz", 600_000), ("adult_test.csv.gz", 300_000)):
        size = len((PACKAGE / name).read_bytes())
        assert 0 < size < limit, name
    source = (PACKAGE / "SOURCE.md").read_text(encoding="utf-8")
    assert "10.24432/C5XW20" in source and "CC BY 4.0" in source
    assert json.loads((PACKAGE / "adult.schema.json").read_text(encoding="utf-8"))["version"] == 1


def test_load_adult_bad_split() -> None:
    with pytest.raises(ParameterError, match="split"):
        load_adult("validation")  # type: ignore[arg-type]


def test_fixture_small_train(adult_train_small: pd.DataFrame, adult_schema: Schema) -> None:
    assert adult_train_small.shape == (2_000, 15)
    assert list(adult_train_small.columns) == list(adult_schema.names)


# -- the shipped fixtures and the shared data sets, read with public schemas ------------


def test_penguins_with_public_schema(penguins_df: pd.DataFrame) -> None:
    assert penguins_df.shape == (344, 8)
    assert str(penguins_df["body_mass_g"].dtype) == "Int64"
    assert str(penguins_df["bill_length_mm"].dtype) == "float64"
    assert penguins_df["bill_length_mm"].isna().sum() == 2
    assert penguins_df["sex"].isna().sum() == 11
    assert set(penguins_df["species"]) == {"Adelie", "Chinstrap", "Gentoo"}


def test_nist_acs_with_public_schema(shared_datasets: Path, acs_schema: Schema) -> None:
    # acs_schema is written from tests/data/acs_dictionary.json, an unchanged copy of
    # the shared data_dictionary.json (test_fixtures.py)
    folder = shared_datasets / "nist_acs"
    dictionary = json.loads((folder / "data_dictionary.json").read_text(encoding="utf-8"))
    df = read_table(folder / "national2019.csv", schema=acs_schema, missing_values=("N",))
    assert df.shape == (27_253, 24)
    assert list(df.columns) == list(dictionary)
    assert str(df["AGEP"].dtype) == "int64"
    assert str(df["PINCP"].dtype) == "Int64"
    assert str(df["DENSITY"].dtype) == "float64"
    assert df["MSP"].isna().sum() == df["PINCP"].isna().sum() == 4_247

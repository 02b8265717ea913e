"""The shipped test data (``tests/data``): readable with their schemas, faithful to the originals.

The first group runs from a clean clone. The second compares every fixture
with the full file in ``../shared/datasets`` and skips cleanly without it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from privsynth.columns import CategoricalColumn
from privsynth.schema import Schema


# ------------------------------------------------------------------ clean clone
def test_every_fixture_has_a_source_entry(test_data: Path) -> None:
    source = (test_data / "SOURCE.md").read_text(encoding="utf-8")
    for path in sorted(test_data.iterdir()):
        # folders (e.g. schema_import/) belong to one test module and describe themselves
        if path.is_file() and path.name != "SOURCE.md":
            assert f"`{path.name}`" in source, f"{path.name} is not described in SOURCE.md"
    for licence in ("CC BY 4.0", "public domain", "CC0"):
        assert licence in source


def test_adult_sample_is_rows_of_the_bundled_copy(adult_sample: pd.DataFrame,
                                                  _adult_train_full: pd.DataFrame) -> None:
    assert adult_sample.shape == (400, 15)
    assert list(adult_sample.columns) == list(_adult_train_full.columns)
    assert adult_sample.dtypes.equals(_adult_train_full.dtypes)
    matched = adult_sample.merge(_adult_train_full.drop_duplicates(), how="left",
                                 indicator=True)
    assert (matched["_merge"] == "both").all()
    assert adult_sample["income"].nunique() == 2
    assert adult_sample[["workclass", "occupation"]].isna().any().all()


def test_acs_sample_reads_with_the_schema_of_the_dictionary(
        test_data: Path, acs_sample: pd.DataFrame, acs_schema: Schema) -> None:
    dictionary = json.loads((test_data / "acs_dictionary.json").read_text(encoding="utf-8"))
    assert acs_schema.is_public and list(acs_schema.names) == list(dictionary)
    for col in acs_schema:
        values = dictionary[col.name].get("values") or {}
        if isinstance(col, CategoricalColumn):
            assert list(col.categories) == [k for k in values if k != "N"], col.name
        assert col.nullable == ("N" in values or col.name == "INDP"), col.name
    assert acs_sample.shape == (400, 24)
    assert str(acs_sample["AGEP"].dtype) == "int64"
    assert str(acs_sample["PINCP"].dtype) == "Int64"
    assert str(acs_sample["DENSITY"].dtype) == "float64"
    # "N/A (age less than 15 years)": the same rows lack marital status and income
    children = acs_sample["AGEP"] < 15
    assert children.any()
    assert (acs_sample["MSP"].isna() == children).all()
    assert (acs_sample["PINCP"].isna() == children).all()


def test_planes_and_flights_keep_the_parent_child_shape(
        planes_and_flights: tuple[pd.DataFrame, pd.DataFrame, Schema, Schema]) -> None:
    planes, flights, planes_schema, flights_schema = planes_and_flights
    assert planes.shape == (60, 9) and flights.shape == (450, 19)
    assert planes["tailnum"].is_unique
    key = flights["tailnum"]
    assert int(key.isin(set(planes["tailnum"])).sum()) == 400
    assert int(key.isna().sum()) == 10
    assert int((key.notna() & ~key.isin(set(planes["tailnum"]))).sum()) == 40
    # every plane of the fixture flies at least once: a real parent of its flights
    assert set(planes["tailnum"]) <= set(key.dropna())
    assert flights["time_hour"].dt.year.eq(2013).all()
    # the key and model lists were read from the rows, and the schemas say so
    assert not planes_schema.is_public and not flights_schema.is_public


def test_penguins_fixture_is_the_whole_table(penguins_df: pd.DataFrame) -> None:
    assert penguins_df.shape == (344, 8)
    assert penguins_df.groupby("species").size().to_dict() == {
        "Adelie": 152, "Chinstrap": 68, "Gentoo": 124}


# ----------------------------------------------------------- against the originals
def _text(path: Path, **kw: object) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, **kw)  # type: ignore[call-overload]


def _rows_of(sample: pd.DataFrame, full: pd.DataFrame) -> bool:
    merged = sample.merge(full.drop_duplicates(), how="left", indicator=True)
    return bool(len(merged) == len(sample) and (merged["_merge"] == "both").all())


@pytest.mark.parametrize(("name", "original"), [
    ("penguins.csv", "penguins/penguins.csv"),
    ("adult.names", "adult/adult.names"),
    ("acs_dictionary.json", "nist_acs/data_dictionary.json"),
])
def test_whole_files_are_unchanged_copies(test_data: Path, shared_datasets: Path,
                                          name: str, original: str) -> None:
    assert (test_data / name).read_bytes() == (shared_datasets / original).read_bytes()


def test_sample_rows_are_rows_of_the_originals(test_data: Path, shared_datasets: Path) -> None:
    acs = _text(shared_datasets / "nist_acs" / "national2019.csv")
    assert _rows_of(_text(test_data / "acs_sample.csv"), acs)
    planes = _text(shared_datasets / "nycflights13" / "planes.csv")
    assert _rows_of(_text(test_data / "planes_sample.csv"), planes)
    flights = _text(shared_datasets / "nycflights13" / "flights.csv.gz")
    assert _rows_of(_text(test_data / "flights_sample.csv"), flights)

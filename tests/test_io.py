"""read_table(): CSV/TSV/gzip/Parquet/DataFrame input and clear errors for broken files."""

from __future__ import annotations

import builtins
import gzip
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from privsynth.errors import DataValidationError, MissingExtraError, ParameterError
from privsynth.io import read_table
from privsynth.schema import Schema

SCHEMA = Schema.from_dict(
    {
        "columns": [
            {"name": "id", "kind": "categorical", "categories": ["007", "7", "x"]},
            {"name": "n", "kind": "integer", "lower": 0, "upper": 100, "nullable": True},
            {"name": "when", "kind": "datetime", "lower": "2020-01-01", "upper": "2021-01-01"},
            {"name": "ok", "kind": "boolean"},
        ]
    }
)
CSV = "id,n,when,ok\n007,1,2020-01-02,yes\n7,,2020-05-06 07:08:09,f\n"


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _error(source: Any, **kwargs: Any) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        read_table(source, **kwargs)
    return info.value


def test_csv_read_as_text(tmp_path: Path) -> None:
    df = read_table(_write(tmp_path, "t.csv", CSV))
    assert list(df.columns) == ["id", "n", "when", "ok"]
    assert df["id"].tolist() == ["007", "7"]  # text, not the number 7 twice
    assert df["n"].iloc[0] == "1" and pd.isna(df["n"].iloc[1])


def test_csv_with_schema_is_validated(tmp_path: Path) -> None:
    df = read_table(_write(tmp_path, "t.csv", CSV), schema=SCHEMA)
    assert df.dtypes.astype(str).tolist() == ["object", "Int64", "datetime64[ns]", "boolean"]
    assert df["id"].tolist() == ["007", "7"]
    assert df["n"].tolist() == [1, pd.NA]
    assert df["when"].iloc[1] == pd.Timestamp("2020-05-06 07:08:09")
    assert df["ok"].tolist() == [True, False]


def test_custom_missing_values(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "id,n,when,ok\nx,NA,2020-01-02,t\nx, ? ,2020-01-02,t\n")
    raw = read_table(path, missing_values=("", "NA", "?"))
    assert raw["n"].isna().all()
    assert read_table(path, schema=SCHEMA, missing_values=["NA", "?"])["n"].isna().all()
    err = _error(path, schema=SCHEMA)
    assert err.problems == [
        {"column": "n", "problem": "values that cannot be read as an integer", "rows": 2}
    ]


def test_gzip_and_tsv(tmp_path: Path) -> None:
    gz = tmp_path / "t.csv.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.write(CSV)
    assert read_table(gz, schema=SCHEMA).shape == (2, 4)
    tsv = _write(tmp_path, "t.tsv", CSV.replace(",", "\t"))
    assert read_table(tsv, schema=SCHEMA).shape == (2, 4)
    semi = _write(tmp_path, "t.csv", CSV.replace(",", ";"))
    assert read_table(semi, sep=";", schema=SCHEMA).shape == (2, 4)


def test_other_encoding_when_told(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "id,name\n1,café\n".encode("latin-1"))
    df = read_table(path, encoding="latin-1")
    assert df["name"].tolist() == ["café"]


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "\ufeff" + CSV)
    assert read_table(path).columns[0] == "id"


def test_quoted_fields_with_delimiters_and_newlines(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", 'a,b\n"x,y",\n"two\nlines",2\n')
    df = read_table(path)
    assert df["a"].tolist() == ["x,y", "two\nlines"]
    assert pd.isna(df["b"].iloc[0])


def test_nrows(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", CSV)
    assert read_table(path, nrows=1)["id"].tolist() == ["007"]


def test_header_only_file_gives_empty_table_and_schema_says_so(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "id,n,when,ok\n")
    assert read_table(path).shape == (0, 4)
    assert "no rows" in str(_error(path, schema=SCHEMA))


# -- broken files ---------------------------------------------------------------------


def test_file_not_found(tmp_path: Path) -> None:
    err = _error(tmp_path / "nope.csv")
    assert "file not found" in str(err) and "nope.csv" in str(err)


def test_directory(tmp_path: Path) -> None:
    assert "directory" in str(_error(tmp_path))


@pytest.mark.parametrize("content", ["", "   \n\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    err = _error(_write(tmp_path, "t.csv", content))
    assert "empty" in str(err) or "only whitespace" in str(err)


def test_non_utf8_bytes(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a,b\n1,ok\n2,caf\xe9 au lait\n".encode("latin-1"))
    message = str(_error(path))
    assert "not valid utf-8" in message
    assert "line 3" in message
    assert "encoding=" in message
    assert "caf" not in message and "lait" not in message


def test_non_utf8_bytes_far_into_the_file(tmp_path: Path) -> None:
    # beyond the sample checked up front: found by pandas, located by a re-scan
    text = "a,b\n" + "1,x\n" * 30_000 + "2,caf\xe9\n"
    path = _write(tmp_path, "t.csv", text.encode("latin-1"))
    message = str(_error(path))
    assert "line 30002" in message and "encoding=" in message


def test_duplicate_headers(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, "t.csv", "a,b,a, b\n1,2,3,4\n"))
    assert "repeats the column name(s) ['a', 'b']" in str(err)


def test_empty_header_name(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, "t.csv", "a,b,\n1,2,\n"))
    assert "empty column name" in str(err) and "[3]" in str(err)


def test_row_with_too_many_fields(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a,b,c\n1,2,3\n4,5,6,SECRET7\n")
    message = str(_error(path))
    assert "line 3 has 4 fields but the header has 3" in message
    assert "SECRET7" not in message


def test_rows_with_too_few_fields(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a,b,c\n1,2,3\n4,5\n6,7,\n8\n")
    message = str(_error(path))
    assert "lines 3, 5 do not have 3 fields" in message


def test_many_ragged_rows_are_summarised(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a,b\n" + "1\n" * 9)
    assert "lines 2, 3, 4, 5, 6 and 4 more" in str(_error(path))


def test_trailing_empty_fields_are_not_ragged(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a,b,c\n1,2,\n3,4,\n")
    assert read_table(path)["c"].isna().all()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (bytes(range(256)) * 40, "binary"),
        (b"a,b\n1,\x002\n", "NUL"),
        (b"PAR1\x15\x04\x15\x10", "Parquet"),
        (b"PK\x03\x04rest", "Excel"),
        (gzip.compress(b"a,b\n1,2\n"), "gzip-compressed"),
        (np.random.default_rng(0).bytes(4096), "binary"),
    ],
)
def test_binary_garbage(tmp_path: Path, content: bytes, fragment: str) -> None:
    message = str(_error(_write(tmp_path, "t.csv", content)))
    assert fragment in message


def test_corrupt_gzip(tmp_path: Path) -> None:
    assert "not a valid gzip" in str(_error(_write(tmp_path, "t.csv.gz", "a,b\n1,2\n")))


def test_unsupported_suffix(tmp_path: Path) -> None:
    assert "unsupported file type '.xlsx'" in str(_error(_write(tmp_path, "t.xlsx", "x")))


def test_reserved_pandas_arguments(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="header"):
        read_table(_write(tmp_path, "t.csv", CSV), header=None)
    with pytest.raises(ParameterError, match="encoding"):
        read_table(_write(tmp_path, "t.csv", CSV), encoding="no-such-codec")
    with pytest.raises(ParameterError, match="source"):
        read_table(42)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="missing_values"):
        read_table(_write(tmp_path, "t.csv", CSV), missing_values="NA")


# -- DataFrame and Parquet ------------------------------------------------------------


def test_dataframe_is_copied() -> None:
    df = pd.DataFrame({"a": [1, 2]})
    out = read_table(df)
    assert out is not df
    out.loc[0, "a"] = 99
    assert df.loc[0, "a"] == 1


def test_dataframe_with_schema() -> None:
    df = pd.DataFrame({"id": [7, "x"], "n": [1, None], "when": ["2020-02-02"] * 2, "ok": [1, 0]})
    out = read_table(df, schema=SCHEMA)
    assert out["id"].tolist() == ["7", "x"] and out["ok"].tolist() == [True, False]
    clipped = read_table(df.assign(n=[1, 500]), schema=SCHEMA, on_out_of_domain="clip")
    assert clipped["n"].tolist() == [1, 100]


def test_parquet_round_trip(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    typed = read_table(_write(tmp_path, "t.csv", CSV), schema=SCHEMA)
    path = tmp_path / "t.parquet"
    typed.to_parquet(path)
    back = read_table(path, schema=SCHEMA)
    pd.testing.assert_frame_equal(back, typed)


def test_not_a_parquet_file(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    assert "not a valid Parquet" in str(_error(_write(tmp_path, "t.parquet", CSV)))


def test_parquet_without_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_pyarrow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    path = _write(tmp_path, "t.parquet", b"PAR1")
    with pytest.raises(MissingExtraError, match=r'pip install "privsynth\[parquet\]"'):
        read_table(path)


# -- writing ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["t.csv", "t.tsv.gz", "t.txt", "t.parquet"])
def test_write_table_round_trips_through_read_table(tmp_path: Path, name: str) -> None:
    from privsynth.io.write import write_table

    if name.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    typed = read_table(_write(tmp_path, "src.csv", CSV), schema=SCHEMA)
    write_table(typed, tmp_path / name)
    back = read_table(tmp_path / name, schema=SCHEMA)
    pd.testing.assert_frame_equal(back, typed)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_write_table_missing_token_and_failures_leave_no_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from privsynth.io.write import write_table

    df = pd.DataFrame({"a": ["x", None], "b": [1.5, np.nan]})
    write_table(df, tmp_path / "na.csv", na_rep="NA")
    assert (tmp_path / "na.csv").read_text() == "a,b\nx,1.5\nNA,NA\n"
    write_table(df, tmp_path / "na.csv", na_rep="NA", column_na_rep={"b": "N"})
    assert (tmp_path / "na.csv").read_text() == "a,b\nx,1.5\nNA,N\n"
    with pytest.raises(ParameterError, match=r"does not have: \['c'\]"):
        write_table(df, tmp_path / "t.csv", column_na_rep={"c": "N"})
    with pytest.raises(DataValidationError, match=r"unsupported file type '\.xlsx'"):
        write_table(df, tmp_path / "t.xlsx")
    with pytest.raises(ParameterError, match="na_rep"):
        write_table(df, tmp_path / "t.csv", na_rep=None)  # type: ignore[arg-type]

    def broken(self: pd.DataFrame, *args: Any, **kwargs: Any) -> None:
        Path(args[0]).write_text("a,b\nhalf")
        raise OSError("disk full")

    (tmp_path / "keep.csv").write_text("old\n")
    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        write_table(df, tmp_path / "keep.csv")
    assert (tmp_path / "keep.csv").read_text() == "old\n"  # the old file, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv", "na.csv"]

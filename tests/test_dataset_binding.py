"""A ledger bound to its data set: `budget init --data`, keyed fingerprints, every fit's check.

The fingerprint must not depend on how the table was read (text of a CSV
file, or the same rows typed by a schema), must be checked on the data as
given to ``fit`` (before clipping), and must tell another table apart.
"""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import privsynth
from privsynth.accounting.fingerprint import canonical_values, table_fingerprint
from privsynth.accounting.persistent import FileAccountant, read_ledger
from privsynth.datasets import adult_schema, load_adult
from privsynth.errors import LedgerError
from privsynth.io.fingerprint import source_fingerprint

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks")

KEY = bytes(range(32))
Run = Callable[..., tuple[int, str, str]]




# ---------------------------------------------------------------------------
# the canonical form: how a table was read does not matter, its content does
# ---------------------------------------------------------------------------
def test_text_and_typed_tables_fingerprint_alike() -> None:
    text = pd.DataFrame({
        "x": ["1.50", "1e2", "-3", None],
        "n": ["1", None, "3", "4"],
        "b": ["yes", "no", "True", None],
        "d": ["2024-01-02", "2024-01-02T06:00:00", None, "2023-12-31"],
        "c": [" a", "b", "c", None],
    })
    typed = pd.DataFrame({
        "c": ["a", "b", "c", None],
        "d": pd.to_datetime(["2024-01-02", "2024-01-02 06:00", None, "2023-12-31"],
                            format="ISO8601"),
        "b": pd.array([True, False, True, None], dtype="boolean"),
        "n": pd.array([1, None, 3, 4], dtype="Int64"),
        "x": [1.5, 100.0, -3.0, np.nan],
    })
    as_float = typed.assign(n=[1.0, np.nan, 3.0, 4.0])
    assert table_fingerprint(text, KEY) == table_fingerprint(typed, KEY) \
        == table_fingerprint(as_float, KEY) == table_fingerprint(typed.iloc[::-1], KEY)


@pytest.mark.parametrize("change", [
    lambda df: df.iloc[1:],                              # a row removed
    lambda df: pd.concat([df, df.iloc[:1]]),             # a row added (a duplicate)
    lambda df: df.assign(x=[1.5, 100.0, -3.0, 0.0]),     # a missing value filled
    lambda df: df.assign(x=[1.5, 100.0, -3.5, np.nan]),  # one number changed
    lambda df: df.rename(columns={"x": "y"}),            # a column renamed
])
def test_another_table_fingerprints_differently(change: Callable[[pd.DataFrame],
                                                                 pd.DataFrame]) -> None:
    df = pd.DataFrame({"x": [1.5, 100.0, -3.0, np.nan], "c": ["a", "b", "c", None]})
    assert table_fingerprint(change(df), KEY) != table_fingerprint(df, KEY)
    assert table_fingerprint(df, bytes(32)) != table_fingerprint(df, KEY)  # keyed


def test_canonical_values_of_each_kind() -> None:
    assert canonical_values(pd.Series([True, False])).tolist() == ["1", "0"]
    assert canonical_values(pd.Series(["t", "F", "No"])).tolist() == ["1", "0", "0"]
    assert canonical_values(pd.Series([2 ** 60, -1])).tolist() == [str(2 ** 60), "-1"]
    assert canonical_values(pd.Series([0.1, 1e300, float("inf")])).tolist() == \
        ["0.1", "1e+300", "inf"]
    utc = pd.Series(pd.to_datetime(["2024-01-02T01:00:00+01:00"]))
    assert canonical_values(utc).tolist() == canonical_values(
        pd.Series(["2024-01-02T00:00:00Z"])).tolist()
    assert canonical_values(pd.Series([None, np.nan, pd.NA, pd.NaT], dtype=object)).tolist() \
        == ["\x00NA"] * 4


def test_a_file_is_fingerprinted_chunk_by_chunk_like_the_frame(tmp_path: Path) -> None:
    df = load_adult().head(300)
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    whole = source_fingerprint(df, KEY)
    assert source_fingerprint(path, KEY, chunk_rows=37) == whole
    assert source_fingerprint(path, KEY) == whole
    typed = privsynth.read_table(path, schema=adult_schema())
    assert table_fingerprint(typed, KEY) == whole


# ---------------------------------------------------------------------------
# budget init --data and the fits that follow
# ---------------------------------------------------------------------------
@pytest.fixture
def bound(tmp_path: Path, run: Run) -> dict[str, Path]:
    data = tmp_path / "visits.csv"
    load_adult().iloc[:500].to_csv(data, index=False)
    other = tmp_path / "other.csv"
    load_adult().iloc[1:500].to_csv(other, index=False)  # one person fewer
    schema = tmp_path / "schema.json"
    adult_schema().to_json(schema)
    ledger = tmp_path / "ledger.json"
    code, out, err = run("budget", "init", ledger, "--epsilon", 3, "--dataset", "clinic-2026",
                         "--owner", "City Hospital", "--approved-by", "DPO", "--data", data)
    assert code == 0, err
    assert "keep it private" in out
    return {"data": data, "other": other, "schema": schema, "ledger": ledger,
            "key": tmp_path / "ledger.json.key", "dir": tmp_path}


def test_budget_init_records_who_and_what_and_binds_the_table(bound: dict[str, Path]) -> None:
    doc = json.loads(bound["ledger"].read_text())
    ds = doc["dataset"]
    assert (ds["name"], ds["owner"], ds["approved_by"]) == ("clinic-2026", "City Hospital",
                                                           "DPO")
    key = bytes.fromhex(bound["key"].read_text().strip())
    assert ds["fingerprints"] == [source_fingerprint(bound["data"], key)]
    assert key.hex() not in bound["ledger"].read_text()
    assert stat.S_IMODE(bound["key"].stat().st_mode) == 0o600


def fit(run: Run, b: dict[str, Path], data: Path, out: str, *extra: object) -> tuple[int, str]:
    code, _, err = run("fit", data, "--schema", b["schema"], "--epsilon", 0.5, "--ledger",
                       b["ledger"], "--out", b["dir"] / out, "--param", "degree=1", *extra)
    return code, err


def test_a_fit_on_the_bound_table_passes_and_another_table_is_refused(
        bound: dict[str, Path], run: Run) -> None:
    code, err = fit(run, bound, bound["data"], "m1.json")
    assert code == 0, err
    spent = read_ledger(bound["ledger"]).spent().epsilon
    code, err = fit(run, bound, bound["other"], "m2.json")
    assert code == 4 and "is not the data set ledger" in err and "Nothing was spent" in err
    assert read_ledger(bound["ledger"]).spent().epsilon == spent
    assert not (bound["dir"] / "m2.json").exists()


def test_the_check_runs_before_clipping(bound: dict[str, Path], run: Run) -> None:
    """A schema narrower than the data, clipped: the table is still the bound one."""
    narrow = adult_schema().to_dict()
    for col in narrow["columns"]:
        if col["name"] == "age":
            col["upper"] = 40
    path = bound["dir"] / "narrow.json"
    path.write_text(json.dumps(narrow))
    code, err = fit(run, {**bound, "schema": path}, bound["data"], "m.json",
                    "--out-of-domain", "clip")
    assert code == 0, err


def test_without_the_key_a_bound_ledger_refuses(bound: dict[str, Path], run: Run) -> None:
    moved = bound["dir"] / "elsewhere.key"
    bound["key"].rename(moved)
    code, err = fit(run, bound, bound["data"], "m.json")
    assert code == 4 and "the key is not available" in err
    assert len(read_ledger(bound["ledger"]).ledger) == 0
    code, err = fit(run, bound, bound["data"], "m.json", "--key-file", moved)
    assert code == 0, err


def test_a_second_ledger_for_the_table_is_refused_with_a_shared_key(tmp_path: Path,
                                                                    run: Run) -> None:
    data = tmp_path / "t.csv"
    load_adult().iloc[:50].to_csv(data, index=False)
    key = tmp_path / "steward.key"
    assert run("budget", "init", tmp_path / "a.json", "--epsilon", 1, "--data", data,
               "--key-file", key)[0] == 0
    code, _, err = run("budget", "init", tmp_path / "b.json", "--epsilon", 5, "--data", data,
                       "--key-file", key)
    assert code == 3 and "already has a ledger" in err
    assert key.exists() and not (tmp_path / "b.json").exists()
    # a new key that fails to make its ledger is not left behind
    (tmp_path / "c.json").write_text("{}")
    code, _, err = run("budget", "init", tmp_path / "c.json", "--epsilon", 1, "--data", data)
    assert code == 3 and not (tmp_path / "c.json.key").exists()


def test_key_file_without_data_is_a_usage_error(tmp_path: Path, run: Run) -> None:
    code, _, err = run("budget", "init", tmp_path / "l.json", "--epsilon", 1, "--key-file",
                       tmp_path / "k")
    assert code == 2 and "--key-file" in err and not (tmp_path / "l.json").exists()


def test_python_fits_check_frames_and_files(tmp_path: Path) -> None:
    df = load_adult().head(400)
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    from privsynth.accounting.fingerprint import new_key

    key = new_key()
    ledger = tmp_path / "l.json"
    FileAccountant.init(ledger, 3.0, fingerprint=source_fingerprint(path, key), key=key)
    acct = FileAccountant.open(ledger, key=key)
    privsynth.PrivBayes(degree=1).fit(df, schema=adult_schema(), epsilon=0.5, accountant=acct)
    privsynth.PrivBayes(degree=1).fit(str(path), schema=adult_schema(), epsilon=0.5,
                                      accountant=acct, backend="chunked")
    with pytest.raises(LedgerError, match="not the data set"):
        privsynth.PrivBayes(degree=1).fit(df.iloc[:-1], schema=adult_schema(), epsilon=0.5,
                                          accountant=acct)
    assert len(acct.releases()) == 2


def test_a_ledger_bound_to_a_table_and_its_split_parts_accepts_fits_on_the_parts(
        tmp_path: Path, run: Run) -> None:
    data = tmp_path / "visits.csv"
    load_adult().iloc[:400].to_csv(data, index=False)
    schema = tmp_path / "schema.json"
    adult_schema().to_json(schema)
    train, holdout = tmp_path / "train.csv", tmp_path / "holdout.csv"
    code, _, err = run("split", data, "--holdout", "0.25", "--seed", 3, "--out-train", train,
                       "--out-holdout", holdout)
    assert code == 0, err
    ledger = tmp_path / "ledger.json"
    code, out, err = run("budget", "init", ledger, "--epsilon", 2, "--data", data,
                         "--data", train)
    assert code == 0, err
    assert f"{data}, {train}" in out
    assert len(json.loads(ledger.read_text())["dataset"]["fingerprints"]) == 2
    b = {"schema": schema, "ledger": ledger, "dir": tmp_path}
    assert fit(run, b, train, "m1.json")[0] == 0  # the training part is this data set
    code, err = fit(run, b, holdout, "m2.json")  # the holdout was not bound
    assert code == 4 and "a part of the table" in err


# ---------------------------------------------------------------------------
# schema infer --dp spends on the data set too: the same binding applies
# ---------------------------------------------------------------------------
def test_schema_infer_dp_checks_the_bound_table(tmp_path: Path, run: Run) -> None:
    """Missing cells (read raw by `schema infer`, as tokens by `budget init`) agree."""
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"age": rng.integers(18, 90, 3000),
                          "sex": rng.choice(["F", "M", ""], 3000)})
    data, other = tmp_path / "t.csv", tmp_path / "o.csv"
    table.to_csv(data, index=False)
    table.iloc[1:].to_csv(other, index=False)
    draft = tmp_path / "draft.json"
    draft.write_text(json.dumps({"columns": [
        {"name": "age", "kind": "integer", "coarse": [0, 150]},
        {"name": "sex", "kind": "categorical"}]}))
    ledger = tmp_path / "l.json"
    code, _, err = run("budget", "init", ledger, "--epsilon", 3, "--delta", "1e-6",
                       "--data", data)
    assert code == 0, err
    argv = ["--dp", "--epsilon", "1", "--ledger", ledger, "--schema", draft]
    code, _, err = run("schema", "infer", other, *argv, "--out", tmp_path / "o.json")
    assert code == 4 and "is not the data set ledger" in err and "Nothing was spent" in err
    assert len(read_ledger(ledger).ledger) == 0 and not (tmp_path / "o.json").exists()
    code, _, err = run("schema", "infer", data, *argv, "--out", tmp_path / "s.json")
    assert code == 0, err
    assert read_ledger(ledger).spent().epsilon == pytest.approx(1.0, rel=1e-4)


def test_python_infer_dp_checks_the_bound_table(tmp_path: Path) -> None:
    table = pd.DataFrame({"age": [20 + i % 60 for i in range(2000)]})
    key = bytes(range(32))
    acct = FileAccountant.init(tmp_path / "l.json", epsilon=2, delta=1e-6,
                               fingerprint=table_fingerprint(table, key), key=key)
    kinds = {"age": "integer"}
    with pytest.raises(LedgerError, match="is not the data set"):
        privsynth.infer_dp(table.iloc[1:], kinds=kinds, coarse={"age": (0, 150)},
                           epsilon=1, accountant=acct)
    assert len(read_ledger(acct.path).ledger) == 0
    schema = privsynth.infer_dp(table, kinds=kinds, coarse={"age": (0, 150)}, epsilon=1,
                                accountant=acct)
    assert schema["age"].lower >= 0

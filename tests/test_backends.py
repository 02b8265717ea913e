"""Counting backends: numpy, Dask (LocalCluster) and chunked files give the same model."""

from __future__ import annotations

import gzip
import itertools
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from privsynth.backends import Clique, NumpyBackend, bernoulli_rows, open_backend, row_uniforms
from privsynth.backends.base import compact_dtype, count_clique
from privsynth.binning import Discretizer
from privsynth.engines.privbayes import PrivBayes
from privsynth.errors import (
    DataValidationError,
    MissingExtraError,
    ParameterError,
    PrivsynthError,
)
from privsynth.mechanisms import InsecureNoiseWarning, Noise
from privsynth.schema import Schema

dd = pytest.importorskip("dask.dataframe")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

SCHEMA = Schema.from_dict({"columns": [
    {"name": "cat", "kind": "categorical", "categories": ["a", "b", "c", "d", "e"]},
    {"name": "age", "kind": "integer", "lower": 0, "upper": 99},
    {"name": "score", "kind": "float", "lower": 0.0, "upper": 10.0, "decimals": 2,
     "nullable": True},
    {"name": "flag", "kind": "boolean"},
    {"name": "grp", "kind": "categorical", "categories": [f"g{i}" for i in range(12)]},
]})


def _data(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cat = rng.choice(list("abcde"), n, p=[0.4, 0.3, 0.15, 0.1, 0.05])
    age = np.clip(rng.normal(40, 15, n).round(), 0, 99).astype(np.int64)
    score = np.round(np.clip(age / 10 + rng.normal(0, 1, n), 0, 10), 2)
    score = np.where(rng.random(n) < 0.1, np.nan, score)
    flag = (age > 45) ^ (rng.random(n) < 0.1)
    grp = np.array([f"g{i}" for i in range(12)])[(np.searchsorted(list("abcde"), cat) * 2
                                                   + rng.integers(0, 3, n)) % 12]
    df = pd.DataFrame({"cat": cat, "age": age, "score": score, "flag": flag, "grp": grp})
    # sorted by category: partitions then miss categories that others have
    return df.sort_values("cat", kind="stable").reset_index(drop=True)


def _pieces(df: pd.DataFrame) -> list[pd.DataFrame]:
    """Uneven partitions, with empty ones at the start, middle and end."""
    cuts = [0, 0, 700, 700, 1500, 2900, len(df), len(df)]
    return [df.iloc[a:b] for a, b in itertools.pairwise(cuts)]


def _dask_frame(df: pd.DataFrame) -> Any:
    pieces = _pieces(df)
    return dd.from_delayed([dask.delayed(p) for p in pieces], meta=df.iloc[:0],
                           verify_meta=False)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cluster start-up chatter is not under test
        cluster = distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                           dashboard_address=None)
        c = distributed.Client(cluster)
    yield c
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c.close()
        cluster.close()


def _seeded(seed: int) -> Noise:
    with pytest.warns(InsecureNoiseWarning):
        return Noise.insecure_for_tests(seed)


def _fit(data: Any, seed: int = 5, **kwargs: Any) -> PrivBayes:
    model = PrivBayes(structure_rows=1000)
    return model.fit(data, schema=SCHEMA, epsilon=2.0, noise=_seeded(seed), **kwargs)


def _assert_same_model(a: PrivBayes, b: PrivBayes) -> None:
    assert a.network_ == b.network_
    assert a.n_hat_ == b.n_hat_
    assert len(a.tables_) == len(b.tables_)
    for ta, tb in zip(a.tables_, b.tables_, strict=True):
        np.testing.assert_array_equal(ta, tb)
    for la, lb in zip(a.levels_, b.levels_, strict=True):
        np.testing.assert_array_equal(la.fine_to_level, lb.fine_to_level)
        np.testing.assert_array_equal(la.within, lb.within)
    labels = [[e.label for e in m.accountant_.history] for m in (a, b)]
    assert labels[0] == labels[1]


def _cliques() -> list[Clique]:
    ident = [np.arange(s, dtype=np.int64) for s in Discretizer(SCHEMA).sizes]
    half = np.arange(Discretizer(SCHEMA).sizes[1], dtype=np.int64) // 50
    return [Clique((0,), (ident[0],), (5,)),
            Clique((4, 0, 3), (ident[4], ident[0], ident[3]), (12, 5, 2)),
            Clique((1, 2), (half, ident[2]), (2, len(ident[2])))]


# ---------------------------------------------------------------- helpers
def test_row_uniforms_depend_only_on_key_and_position() -> None:
    whole = row_uniforms(123, 0, 1000)
    parts = np.concatenate([row_uniforms(123, a, b - a) for a, b in [(0, 1), (1, 400),
                                                                     (400, 400), (400, 1000)]])
    np.testing.assert_array_equal(whole, parts)
    assert not np.array_equal(whole, row_uniforms(124, 0, 1000))
    assert whole.min() >= 0.0 and whole.max() < 1.0


def test_bernoulli_rows_is_a_bernoulli_sample() -> None:
    keep = bernoulli_rows(2**62 + 11, 10**9, 200_000, 0.3)
    # binomial sd is about 205 rows; 6 sd
    assert abs(int(keep.sum()) - 60_000) < 1_300
    # neighbouring rows are not correlated
    assert abs(float(np.mean(keep[1:] & keep[:-1])) - 0.09) < 0.005
    assert bernoulli_rows(1, 0, 5, 1.0).all()


def test_count_clique_and_compact_dtype() -> None:
    codes = np.array([[0, 1], [2, 1], [2, 0], [1, 1]])
    c = Clique((1, 0), (np.array([0, 1]), np.array([0, 0, 1])), (2, 2))
    # cells (col1 map, col0 map): rows -> 2, 3, 1, 2
    assert count_clique(codes, c).tolist() == [0, 1, 2, 1]
    assert compact_dtype([2, 256]) == np.uint8
    assert compact_dtype([257]) == np.uint16
    assert compact_dtype([70_000]) == np.int32


# ---------------------------------------------------------------- counts
def test_dask_counts_equal_numpy_counts(client: Any) -> None:
    df = _data()
    disc = Discretizer(SCHEMA)
    ref = NumpyBackend(df, disc)
    ddf = _dask_frame(df)
    assert ddf.npartitions == 7
    for persist in (True, False):
        with open_backend(ddf, disc, persist=persist) as back:
            assert back.name == "dask"
            for h_ref, h in zip(ref.histograms(), back.histograms(), strict=True):
                np.testing.assert_array_equal(h_ref, h)
            assert back.n_rows == ref.n_rows == len(df)
            for t_ref, t in zip(ref.joint_counts(_cliques()), back.joint_counts(_cliques()),
                                strict=True):
                np.testing.assert_array_equal(t_ref, t)
            sub_ref = ref.bernoulli_subsample(0.25, 99)
            sub = back.bernoulli_subsample(0.25, 99)
            np.testing.assert_array_equal(sub_ref, sub)
            assert 0.15 * len(df) < len(sub) < 0.35 * len(df)
            assert len(back.bernoulli_subsample(1.0, 0)) == len(df)
    # the histogram of "cat" is the exact count, including categories absent from partitions
    assert ref.histograms()[0].tolist() == [int((df["cat"] == c).sum()) for c in "abcde"]


# ---------------------------------------------------------------- models
def test_dask_model_equals_numpy_model(client: Any) -> None:
    df = _data()
    ref = _fit(df)
    assert ref.n_hat_ > 1000  # the structure step ran on a subsample
    _assert_same_model(ref, _fit(_dask_frame(df)))
    _assert_same_model(ref, _fit(_dask_frame(df), backend_options={"persist": False}))
    # a different seed gives a different model: the comparison can fail
    other = _fit(df, seed=6)
    assert other.n_hat_ != ref.n_hat_ or any(
        not np.array_equal(a, b) for a, b in zip(other.tables_, ref.tables_, strict=True))


def test_files_give_the_same_model(client: Any, tmp_path: Path) -> None:
    df = _data()
    pieces = _pieces(df)
    csv_dir, pq_dir = tmp_path / "csv", tmp_path / "pq"
    csv_dir.mkdir()
    pq_dir.mkdir()
    for i, p in enumerate(pieces):
        # header-only files are empty partitions
        p.to_csv(csv_dir / f"part{i:02d}.csv", index=False)
        p.to_parquet(pq_dir / f"part{i:02d}.parquet", index=False)
    ref = _fit(df)
    _assert_same_model(ref, _fit(str(csv_dir / "part*.csv")))
    _assert_same_model(ref, _fit(pq_dir))
    _assert_same_model(ref, _fit(str(csv_dir / "*.csv"), backend="chunked",
                                 backend_options={"chunk_rows": 400}))
    _assert_same_model(ref, _fit(sorted(pq_dir.iterdir()), backend="chunked",
                                 backend_options={"chunk_rows": 1000, "cache_codes": False}))
    syn = _fit(str(csv_dir / "part*.csv")).sample(200, random_state=0)
    assert list(syn.columns) == list(SCHEMA.names)


# ---------------------------------------------------------------- errors
def test_errors_are_clear(client: Any, tmp_path: Path) -> None:
    df = _data(200)
    disc = Discretizer(SCHEMA)
    with pytest.raises(DataValidationError, match=r"not in the schema: \['extra'\]"):
        open_backend(_dask_frame(df.assign(extra=1)), disc)
    empty = dd.from_pandas(df.iloc[:0], npartitions=1)
    with pytest.raises(DataValidationError, match="no rows"):
        _fit(empty)
    bad = df.copy()
    bad.loc[150, "cat"] = "zzz"
    with pytest.raises(DataValidationError, match="cat") as info:
        _fit(dd.from_pandas(bad, npartitions=3))
    assert "zzz" not in str(info.value)  # never the private value itself
    with pytest.raises(DataValidationError, match="no data file matches"):
        open_backend(str(tmp_path / "nothing*.csv"), disc)
    with pytest.raises(ParameterError, match="backend='spark'"):
        open_backend(df, disc, backend="spark")
    with pytest.raises(DataValidationError, match="pandas DataFrame, a dask DataFrame"):
        open_backend(np.zeros((3, 5)), disc)
    (tmp_path / "a.csv").write_text("cat\n")
    (tmp_path / "b.parquet").write_text("x")
    with pytest.raises(DataValidationError, match="mix formats"):
        open_backend([tmp_path / "a.csv", tmp_path / "b.parquet"], disc)


def test_missing_dask_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from privsynth.backends.dask_backend import import_dask

    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(MissingExtraError, match=r'pip install "privsynth\[dask\]"'):
        import_dask()


# ---------------------------------------------------------------- broken files, every backend
# One reader for every file (privsynth.io): whatever backend reads a broken file, fit
# raises a DataValidationError that names the file and the line and never a value.
FILE_BACKENDS = [("numpy", {}), ("chunked", {"chunk_rows": 7}), ("dask", {}),
                 ("dask", {"blocksize": 40}), ("dask", {"persist": False, "blocksize": None})]


def _csv_text(df: pd.DataFrame) -> str:
    return str(df.to_csv(index=False, lineterminator="\n"))


def _broken_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Broken variants of a valid CSV: (path, what the message must say)."""
    lines = _csv_text(_data(40)).splitlines(keepends=True)
    out: dict[str, tuple[Path, str]] = {}

    def write(name: str, raw: bytes, says: str) -> None:
        path = tmp_path / name
        path.write_bytes(raw)
        out[name] = (path, says)

    long_row = lines[30].rstrip("\n") + ",SECRET-EXTRA\n"
    write("ragged_long.csv", "".join([*lines[:30], long_row, *lines[31:]]).encode(),
          "line 31 has 6 fields but the header has 5")
    short_row = ",".join(lines[25].split(",")[:3]) + "\n"
    write("ragged_short.csv", "".join([*lines[:25], short_row, *lines[26:]]).encode(),
          "line 26 has 3 fields but the header has 5")
    latin = [*lines[:33], lines[33].replace(lines[33].split(",")[4], "g\xe9"), *lines[34:]]
    write("latin1.csv", "".join(latin).encode("latin-1"), "line 34 are not valid utf-8")
    write("empty.csv", b"", "the file is empty")
    write("binary.csv", bytes(range(256)) * 8, "binary")
    write("damaged.csv.gz", gzip.compress("".join(lines).encode())[:-30],
          "not a valid gzip file")
    write("dup_header.csv", ("cat,cat,age,score,flag\n" + "".join(lines[1:])).encode(),
          "repeats the column name")
    return out


@pytest.mark.parametrize("backend, options", FILE_BACKENDS,
                         ids=[f"{b}-{'-'.join(f'{k}{v}' for k, v in o.items())}"
                              for b, o in FILE_BACKENDS])
def test_fit_on_broken_files_raises_a_clear_error_through_every_backend(
        client: Any, tmp_path: Path, backend: str, options: dict[str, Any]) -> None:
    for name, (path, says) in _broken_files(tmp_path).items():
        with pytest.raises(PrivsynthError) as info:
            PrivBayes().fit(path, schema=SCHEMA, epsilon=1.0, backend=backend,
                            backend_options=options)
        assert isinstance(info.value, DataValidationError), (name, info.value)
        message = str(info.value)
        assert says in message, (name, message)
        assert path.name in message, (name, message)
        assert "SECRET" not in message and "g\xe9" not in message


def test_a_latin1_file_is_read_when_the_encoding_is_given(client: Any, tmp_path: Path) -> None:
    df = _data(300)
    df.loc[df["cat"] == "a", "cat"] = "\xe9"
    schema = Schema.from_dict({"columns": [
        {"name": "cat", "kind": "categorical", "categories": ["\xe9", "b", "c", "d", "e"]},
        *SCHEMA.to_dict()["columns"][1:]]})
    path = tmp_path / "latin1.csv"
    path.write_bytes(_csv_text(df).encode("latin-1"))
    ref = NumpyBackend(df, Discretizer(schema)).histograms()
    for backend in ("numpy", "chunked", "dask"):
        with open_backend(str(path), Discretizer(schema), backend,
                          encoding="latin-1") as counter:
            for a, b in zip(ref, counter.histograms(), strict=True):
                np.testing.assert_array_equal(a, b)


def test_missing_value_tokens_reach_every_backend(client: Any, tmp_path: Path) -> None:
    df = _data(300)
    text = _csv_text(df.assign(score=df["score"].map(lambda v: "NA" if pd.isna(v) else v)))
    path = tmp_path / "na.tsv"
    path.write_text(text.replace(",", "\t"))
    disc = Discretizer(SCHEMA)
    ref = NumpyBackend(df, disc).histograms()
    for backend in ("numpy", "chunked", "dask"):
        with pytest.raises(DataValidationError, match="score"):
            open_backend(path, disc, backend).histograms()
        with open_backend(path, disc, backend, missing_values=("", "NA")) as counter:
            for a, b in zip(ref, counter.histograms(), strict=True):
                np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- the chunked backend alone
def test_chunked_counts_equal_numpy_counts_for_every_chunk_size(tmp_path: Path) -> None:
    from privsynth.backends.chunked import ChunkedBackend

    df = _data(500)
    for i, part in enumerate([df.iloc[:200], df.iloc[200:]]):
        part.to_csv(tmp_path / f"p{i}.csv.gz", index=False)
    disc = Discretizer(SCHEMA)
    ref = NumpyBackend(df, disc)
    for chunk_rows in (97, 10_000):
        for cache in (True, False):
            back = ChunkedBackend(str(tmp_path / "p*.csv.gz"), disc, chunk_rows=chunk_rows,
                                  cache_codes=cache)
            for _ in range(2):  # a second pass (from the cache, or re-read) gives the same
                for a, b in zip(ref.histograms(), back.histograms(), strict=True):
                    np.testing.assert_array_equal(a, b)
            assert back.n_rows == 500
            np.testing.assert_array_equal(ref.bernoulli_subsample(0.3, 4),
                                          back.bernoulli_subsample(0.3, 4))
            for a, b in zip(ref.joint_counts(_cliques()), back.joint_counts(_cliques()),
                            strict=True):
                np.testing.assert_array_equal(a, b)


def test_chunked_checks_its_arguments_and_headers_up_front(tmp_path: Path) -> None:
    from privsynth.backends.chunked import ChunkedBackend

    disc = Discretizer(SCHEMA)
    path = tmp_path / "t.csv"
    _data(20).to_csv(path, index=False)
    for bad in ({"chunk_rows": 0}, {"chunk_rows": True}, {"cache_codes": 1},
                {"missing_values": "NA"}, {"encoding": "no-such-codec"}):
        with pytest.raises(ParameterError):
            ChunkedBackend(path, disc, **bad)
    with pytest.raises(DataValidationError, match="chunked backend reads CSV or Parquet"):
        open_backend(_data(20), disc, "chunked")
    other = tmp_path / "other.csv"
    other.write_text("cat,age\na,3\n")
    with pytest.raises(DataValidationError,
                       match=r"missing from the data: \['score', 'flag', 'grp'\]"):
        ChunkedBackend(other, disc)  # refused before any pass over the rows
    with pytest.raises(DataValidationError, match="no rows"):
        header_only = tmp_path / "h" / "h.csv"
        header_only.parent.mkdir()
        header_only.write_text("cat,age,score,flag,grp\n")
        ChunkedBackend(header_only, disc).histograms()


def test_numpy_backend_reads_files_and_refuses_options_for_frames(tmp_path: Path) -> None:
    df = _data(200)
    df.iloc[:120].to_csv(tmp_path / "a.csv", index=False)
    df.iloc[120:][["grp", "cat", "age", "score", "flag"]].to_csv(tmp_path / "b.csv",
                                                                 index=False)
    disc = Discretizer(SCHEMA)
    back = open_backend(str(tmp_path / "*.csv"), disc, "numpy")
    for a, b in zip(NumpyBackend(df, disc).histograms(), back.histograms(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ParameterError, match="numpy backend takes only"):
        open_backend(df, disc, "numpy", chunk_rows=5)


# ---------------------------------------------------------------- files: suffixes and globs
def test_files_resolve_in_sorted_order_with_one_list_of_suffixes(tmp_path: Path) -> None:
    from privsynth.io.formats import TABLE_SUFFIXES, file_format, resolve_files

    for name in ("b.csv", "a.txt.gz", "c.tsv", "notes.md", "d.parquet"):
        (tmp_path / name).write_text("x")
    assert [p.name for p in resolve_files(tmp_path)] == ["a.txt.gz", "b.csv", "c.tsv",
                                                         "d.parquet"]
    assert [p.name for p in resolve_files(str(tmp_path / "*.csv"))] == ["b.csv"]
    assert file_format(resolve_files([tmp_path / "a.txt.gz", tmp_path / "b.csv"])) == "csv"
    assert file_format([tmp_path / "c.tsv"]) == "tsv"
    with pytest.raises(DataValidationError, match="mix formats"):
        file_format(resolve_files(tmp_path))
    with pytest.raises(DataValidationError, match=r"unsupported file type '\.md'"):
        file_format([tmp_path / "notes.md"])
    assert {".csv", ".csv.gz", ".tsv", ".txt", ".parquet", ".pq"} <= set(TABLE_SUFFIXES)


# ---------------------------------------------------------------- the fit's policy on files
# fit(on_out_of_domain=...) and backend_options' missing_values reach every backend: files
# (read chunk by chunk) and a dask frame give what the same rows as a DataFrame give.
POLICY_SOURCES = [("numpy", {}), ("chunked", {"chunk_rows": 97}),
                  ("dask", {"blocksize": 4000}), ("dask-frame", {})]


def _out_of_domain(score_only: bool) -> pd.DataFrame:
    """Rows with scores above the bound 10 (a nullable column) and, unless score_only,
    ages above the bound 99 (a column that is not nullable)."""
    df = _data(600)
    df.loc[3::40, "score"] = 12.5
    if not score_only:
        df.loc[::50, "age"] = 150
    return df


def _fit_or_error(data: Any, policy: str, backend: str | None = None,
                  backend_options: dict[str, Any] | None = None) -> PrivBayes | str:
    from privsynth.accounting import Accountant

    acct = Accountant(2.0)
    kwargs: dict[str, Any] = {} if backend is None else {"backend": backend}
    try:
        return _fit(data, on_out_of_domain=policy, accountant=acct,
                    backend_options=backend_options or {}, **kwargs)
    except DataValidationError as exc:
        assert acct.history == []  # refused before anything was spent
        assert "12.5" not in str(exc) and "150" not in str(exc)  # counts, never values
        # which problems (a chunked reader counts the rows of the first bad chunk only)
        return f"{type(exc).__name__}: {[(p['column'], p['problem']) for p in exc.problems]}"


@pytest.mark.parametrize("score_only", [True, False], ids=["nullable", "not-nullable"])
@pytest.mark.parametrize("policy", ["error", "clip", "map_to_missing"])
def test_a_file_and_a_dataframe_get_the_same_out_of_domain_policy(
        client: Any, tmp_path: Path, policy: str, score_only: bool) -> None:
    df = _out_of_domain(score_only)
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    ref = _fit_or_error(df, policy)
    expected_ok = policy == "clip" or (policy == "map_to_missing" and score_only)
    assert isinstance(ref, PrivBayes) == expected_ok, ref
    for source, options in POLICY_SOURCES:
        if source == "dask-frame":
            got = _fit_or_error(_dask_frame(df), policy)
        else:
            got = _fit_or_error(str(path), policy, source, options)
        if isinstance(ref, PrivBayes):
            assert isinstance(got, PrivBayes), (source, got)
            _assert_same_model(ref, got)
            assert got.record_.description["on_out_of_domain"] == policy
        else:
            assert got == ref, source
    if isinstance(ref, PrivBayes):  # the policy changed the rows: the comparison can fail
        before = _fit(_data(600))
        assert before.network_ != ref.network_ or any(
            not np.array_equal(a, b) for a, b in zip(before.tables_, ref.tables_, strict=True))


def test_missing_value_tokens_of_a_fit_apply_to_a_dataframe_as_to_a_file(
        client: Any, tmp_path: Path) -> None:
    df = _data(600)
    path = tmp_path / "na.csv"
    df.to_csv(path, index=False, na_rep="NA")
    text = pd.read_csv(path, dtype=str, keep_default_na=False)  # "NA" as text
    assert (text["score"] == "NA").sum() == df["score"].isna().sum() > 0
    ref = _fit(df)
    tokens = {"missing_values": ("", "NA")}
    _assert_same_model(ref, _fit(text, backend_options=tokens))
    for backend, options in POLICY_SOURCES[:3]:
        _assert_same_model(ref, _fit(str(path), backend=backend,
                                     backend_options={**options, **tokens}))
    with pytest.raises(DataValidationError, match="score"):
        _fit(text)  # without the token, "NA" is not a number


def test_the_policy_is_given_to_fit_not_in_backend_options(tmp_path: Path) -> None:
    df = _data(50)
    with pytest.raises(ParameterError, match="give on_out_of_domain to fit"):
        PrivBayes().fit(df, schema=SCHEMA, epsilon=1.0,
                        backend_options={"on_out_of_domain": "clip"})
    disc = Discretizer(SCHEMA)
    for backend in ("numpy", "chunked", "dask"):
        df.to_csv(tmp_path / "t.csv", index=False)
        with pytest.raises(ParameterError, match="on_out_of_domain='drop'"):
            open_backend(str(tmp_path / "t.csv"), disc, backend, on_out_of_domain="drop")

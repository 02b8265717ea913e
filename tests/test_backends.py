"""Counting backends: numpy, Dask (LocalCluster) and chunked files give the same model."""

from __future__ import annotations

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
from privsynth.engines.privbayes import PrivBayes
from privsynth.errors import DataValidationError, MissingExtraError, ParameterError
from privsynth.mechanisms import InsecureNoiseWarning, Noise
from privsynth.schema import Schema
from privsynth.transform import Discretizer

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
    with pytest.raises(DataValidationError, match=r"not in schema .*'extra'"):
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

"""Counting on Dask: a dask DataFrame, or CSV/Parquet files read partition by partition.

Each partition is validated and encoded on the workers with the public
schema's :class:`~privsynth.transform.Discretizer`; only exact counts (summed
in a tree on the cluster) and the small structure subsample come back to the
driver. Noise is added in the driver by :mod:`privsynth.mechanisms`.

Dask is imported lazily; without it a :class:`~privsynth.errors.MissingExtraError`
names ``pip install "privsynth[dask]"``. The scheduler is Dask's current one:
a ``distributed.Client`` if one is active, otherwise the threaded scheduler.

>>> import pandas as pd, dask.dataframe as dd
>>> from privsynth.schema import Schema
>>> from privsynth.transform import Discretizer
>>> schema = Schema.from_dict({"columns": [
...     {"name": "a", "kind": "categorical", "categories": ["x", "y"]}]})
>>> ddf = dd.from_pandas(pd.DataFrame({"a": ["x", "y", "y"]}), npartitions=2)
>>> with DaskBackend(ddf, Discretizer(schema)) as backend:
...     [h.tolist() for h in backend.histograms()], backend.n_rows
([[1, 2]], 3)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from privsynth.backends.base import (
    Clique,
    CodeArray,
    CountingBackend,
    IntArray,
    bernoulli_rows,
    check_columns,
    compact_dtype,
    count_cliques,
    encode_frame,
    histograms,
)
from privsynth.backends.files import (
    CSV_TEXT_OPTIONS,
    Source,
    file_format,
    is_path_source,
    require_pyarrow,
    resolve_files,
)
from privsynth.errors import DataValidationError, MissingExtraError
from privsynth.transform import Discretizer

INSTALL_HINT = 'pip install "privsynth[dask]"'

#: Partial results combined per task when reducing (a tree of this fan-in).
_FAN_IN = 8


def import_dask() -> Any:
    """The ``dask`` module, or a MissingExtraError naming the extra to install."""
    try:
        import dask
        import dask.dataframe
    except ImportError as exc:
        raise MissingExtraError(
            f"counting on Dask needs dask[dataframe] and distributed, which are not "
            f"installed; run: {INSTALL_HINT}") from exc
    return dask


def is_dask_frame(data: object) -> bool:
    """True for a dask DataFrame (without importing dask when it is not loaded)."""
    import sys

    if "dask.dataframe" not in sys.modules:
        return False
    import dask.dataframe as dd

    return isinstance(data, dd.DataFrame)


# ---------------------------------------------------------------- partition tasks
def _part_hist(codes: CodeArray, sizes: tuple[int, ...]) -> tuple[int, list[IntArray]]:
    return len(codes), histograms(codes, sizes)


def _first(result: tuple[int, list[IntArray]]) -> int:
    return result[0]


def _sum_hists(parts: list[tuple[int, list[IntArray]]]) -> tuple[int, list[IntArray]]:
    n = sum(p[0] for p in parts)
    return n, [np.sum([p[1][j] for p in parts], axis=0) for j in range(len(parts[0][1]))]


def _sum_tables(parts: list[list[IntArray]]) -> list[IntArray]:
    return [np.sum([p[k] for p in parts], axis=0) for k in range(len(parts[0]))]


def _part_subsample(codes: CodeArray, offset: int, rate: float, key: int) -> CodeArray:
    return np.asarray(codes[bernoulli_rows(key, offset, len(codes), rate)])


def _read_row_group(path: str, index: int, columns: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).read_row_group(index, columns=columns).to_pandas()


def _concat(parts: list[CodeArray]) -> CodeArray:
    return np.concatenate(parts, axis=0)


def _tree(dask: Any, tasks: list[Any], combine: Callable[[list[Any]], Any]) -> Any:
    """Reduce delayed partial results in a tree, so no task holds them all."""
    delayed = dask.delayed
    while len(tasks) > 1:
        tasks = [delayed(combine)(tasks[i:i + _FAN_IN]) for i in range(0, len(tasks), _FAN_IN)]
    return tasks[0]


class DaskBackend(CountingBackend):
    """Counts computed partition by partition on a Dask scheduler.

    Parameters
    ----------
    data : dask DataFrame, str, Path or list of them
        A dask DataFrame with the schema's columns, or CSV/TSV (optionally
        gzipped) or Parquet files: a path, a directory, a glob, or a list.
        Files are read in sorted order; CSV fields are read as text and the
        schema decides their meaning (as in ``privsynth.read_table``).
    discretizer : Discretizer
        Public bins of the schema.
    persist : bool, default True
        Keep the encoded partitions (one small integer per cell, e.g. 1 GB for
        50 million rows x 20 columns) in the cluster's memory, so the data is
        read and validated once instead of once per pass. With ``False``,
        every pass re-reads the source (for tables whose codes do not fit).
    blocksize : str or int, default "64MB"
        Partition size when reading uncompressed CSV files.
    """

    name: ClassVar[str] = "dask"

    def __init__(self, data: Any, discretizer: Discretizer, *, persist: bool = True,
                 blocksize: str | int = "64MB") -> None:
        super().__init__(discretizer)
        self._dask = dask = import_dask()
        import dask.dataframe as dd

        if is_path_source(data):
            parts = self._read_files(dask, dd, data, blocksize)
        elif isinstance(data, dd.DataFrame):
            check_columns(list(data.columns), discretizer.schema)
            parts = data.to_delayed()
        else:
            raise DataValidationError("the Dask backend needs a dask DataFrame or a path/glob "
                                      "of CSV or Parquet files")
        dtype = compact_dtype(self.sizes)
        self._parts: list[Any] = [dask.delayed(encode_frame)(p, discretizer, dtype)
                                  for p in parts]
        if persist:
            self._parts = list(dask.persist(*self._parts))
        self._lens: list[int] | None = None

    def _read_files(self, dask: Any, dd: Any, source: Source, blocksize: str | int
                    ) -> list[Any]:
        """Delayed pandas partitions of the files, in sorted file order."""
        files = resolve_files(source)
        fmt = file_format(files)
        names = [str(f) for f in files]
        schema = self.discretizer.schema
        if fmt == "parquet":
            # one partition per row group, read with pyarrow directly (the
            # footers are read here, in the driver: column names and row groups)
            require_pyarrow()
            import pyarrow.parquet as pq

            parts = []
            for name in names:
                meta = pq.ParquetFile(name)
                check_columns(meta.schema_arrow.names, schema)
                parts += [dask.delayed(_read_row_group)(name, i, list(schema.names))
                          for i in range(meta.num_row_groups)]
            return parts
        compressed = any(n.lower().endswith(".gz") for n in names)
        ddf = dd.read_csv(names, blocksize=None if compressed else blocksize,
                          sep="\t" if fmt == "tsv" else ",", **CSV_TEXT_OPTIONS)
        check_columns(list(ddf.columns), schema)
        return list(ddf.to_delayed())

    # -------------------------------------------------------------- passes
    def _compute(self, task: Any) -> Any:
        (out,) = self._dask.compute(task)
        return out

    def _lengths(self) -> list[int]:
        if self._lens is None:
            lens = self._dask.compute(*[self._dask.delayed(len)(p) for p in self._parts])
            self._lens = [int(v) for v in lens]
        return self._lens

    @property
    def n_rows(self) -> int:
        return sum(self._lengths())

    def histograms(self) -> list[IntArray]:
        delayed = self._dask.delayed
        per_part = [delayed(_part_hist)(p, self.sizes) for p in self._parts]
        # lengths come back with the histograms (one pass), then the sums in a tree
        lens_and_total = self._dask.compute(
            [delayed(_first)(t) for t in per_part], _tree(self._dask, per_part, _sum_hists))
        lens, (n, hists) = lens_and_total
        self._lens = [int(v) for v in lens]
        if n == 0:
            raise DataValidationError("the data has no rows")
        return [np.asarray(h, dtype=np.int64) for h in hists]

    def joint_counts(self, cliques: Sequence[Clique]) -> list[IntArray]:
        if not cliques:
            return []
        delayed = self._dask.delayed
        cl = list(cliques)
        per_part = [delayed(count_cliques)(p, cl) for p in self._parts]
        tables = self._compute(_tree(self._dask, per_part, _sum_tables))
        return [np.asarray(t, dtype=np.int64) for t in tables]

    def bernoulli_subsample(self, rate: float, key: int) -> CodeArray:
        lens = self._lengths()
        offsets = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
        delayed = self._dask.delayed
        tasks = [delayed(_part_subsample)(p, int(o), float(rate), int(key))
                 for p, o in zip(self._parts, offsets, strict=True)]
        return np.asarray(self._compute(delayed(_concat)(tasks)))

    def close(self) -> None:
        self._parts = []

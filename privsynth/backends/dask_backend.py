"""Counting on Dask: a dask DataFrame, or CSV/Parquet files read partition by partition.

Each partition is validated and encoded on the workers with the public
schema's :class:`~privsynth.binning.Discretizer`; only exact counts (summed
in a tree on the cluster) and the small structure subsample come back to the
driver. Noise is added in the driver by :mod:`privsynth.mechanisms`.

Dask is imported lazily; without it a :class:`~privsynth.errors.MissingExtraError`
names ``pip install "privsynth[dask]"``. The scheduler is Dask's current one:
a ``distributed.Client`` if one is active, otherwise the threaded scheduler.

>>> import pandas as pd, dask.dataframe as dd
>>> from privsynth.schema import Schema
>>> from privsynth.binning import Discretizer
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

from privsynth._checks import check_bool, check_int
from privsynth.backends.base import (
    Clique,
    CodeArray,
    CountingBackend,
    IntArray,
    bernoulli_rows,
    check_columns,
    check_missing_values,
    check_policy,
    compact_dtype,
    count_cliques,
    encode_frame,
    histograms,
)
from privsynth.binning import Discretizer
from privsynth.errors import DataValidationError, MissingExtraError, ParameterError
from privsynth.io.checks import check_encoding
from privsynth.io.formats import Source, file_format, is_path_source, resolve_files
from privsynth.io.parquet import parquet_layout, read_row_group
from privsynth.io.text import csv_blocks, read_csv_block, read_csv_header

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


def _concat(parts: list[CodeArray]) -> CodeArray:
    return np.concatenate(parts, axis=0)


def _tree(dask: Any, tasks: list[Any], combine: Callable[[list[Any]], Any]) -> Any:
    """Reduce delayed partial results in a tree, so no task holds them all."""
    delayed = dask.delayed
    while len(tasks) > 1:
        tasks = [delayed(combine)(tasks[i:i + _FAN_IN]) for i in range(0, len(tasks), _FAN_IN)]
    return tasks[0]


def _block_bytes(blocksize: object) -> int | None:
    """``blocksize`` ("64MB", an int of bytes, or None) as bytes."""
    if blocksize is None:
        return None
    if isinstance(blocksize, str):
        from dask.utils import parse_bytes

        try:
            blocksize = parse_bytes(blocksize)
        except (ValueError, TypeError):
            raise ParameterError(f"blocksize={blocksize!r}; allowed: a size such as '64MB', "
                                 "a number of bytes, or None") from None
    return check_int("blocksize", blocksize, lo=1)


class DaskBackend(CountingBackend):
    """Counts computed partition by partition on a Dask scheduler.

    Parameters
    ----------
    data : dask DataFrame, str, Path or list of them
        A dask DataFrame with the schema's columns, or CSV/TSV (optionally
        gzipped) or Parquet files: a path, a directory, a glob, or a list.
        Files are read in sorted order by :mod:`privsynth.io` (the reader
        behind ``privsynth.read_table``: fields are text, the schema decides
        their meaning, and a ragged row, a wrongly encoded byte or a damaged
        gzip stream is a DataValidationError naming the file and line). The
        headers (Parquet footers) are read in the driver, the rows on the
        workers, one byte block (Parquet row group) per partition.
    discretizer : Discretizer
        Public bins of the schema.
    persist : bool, default True
        Keep the encoded partitions (one small integer per cell, e.g. 1 GB for
        50 million rows x 20 columns) in the cluster's memory, so the data is
        read and validated once instead of once per pass. With ``False``,
        every pass re-reads the source (for tables whose codes do not fit).
    blocksize : str, int or None, default "64MB"
        Partition size when reading uncompressed CSV files; ``None`` reads
        each file as one partition (needed when quoted fields span lines).
        Gzipped files are always one partition each.
    missing_values : sequence of str, default ("",)
        Text meaning "missing" in CSV/TSV fields (and text columns).
    encoding : str, default "utf-8"
        Encoding of CSV/TSV files.
    on_out_of_domain : {"error", "clip", "map_to_missing"}, default "error"
        What to do with values outside a column's domain (the fit's policy),
        applied to every partition.
    """

    name: ClassVar[str] = "dask"

    def __init__(self, data: Any, discretizer: Discretizer, *, persist: bool = True,
                 blocksize: str | int | None = "64MB", missing_values: Sequence[str] = ("",),
                 encoding: str = "utf-8", on_out_of_domain: str = "error") -> None:
        super().__init__(discretizer)
        self._dask = dask = import_dask()
        import dask.dataframe as dd

        persist = check_bool("persist", persist)
        tokens = check_missing_values(missing_values)
        policy = check_policy(on_out_of_domain)
        if is_path_source(data):
            parts = self._read_files(dask, data, _block_bytes(blocksize),
                                     check_encoding(encoding))
        elif isinstance(data, dd.DataFrame):
            check_columns(list(data.columns), discretizer.schema)
            parts = data.to_delayed()
        else:
            raise DataValidationError("the Dask backend needs a dask DataFrame or a path/glob "
                                      "of CSV or Parquet files")
        dtype = compact_dtype(self.sizes)
        self._parts: list[Any] = [dask.delayed(encode_frame)(p, discretizer, dtype, tokens,
                                                            policy)
                                  for p in parts]
        if persist:
            self._parts = list(dask.persist(*self._parts))
        self._lens: list[int] | None = None

    def _read_files(self, dask: Any, source: Source, blocksize: int | None, encoding: str
                    ) -> list[Any]:
        """Delayed pandas partitions of the files, in sorted file order."""
        files = resolve_files(source)
        fmt = file_format(files)
        schema = self.discretizer.schema
        delayed = dask.delayed
        parts: list[Any] = []
        for f in files:
            if fmt == "parquet":
                # one partition per row group (the footer is read here, in the driver)
                names, groups = parquet_layout(f)
                check_columns(names, schema)
                parts += [delayed(read_row_group)(str(f), i, list(schema.names))
                          for i in range(groups)]
            else:
                header = read_csv_header(f, encoding=encoding)
                check_columns(header, schema)
                parts += [delayed(read_csv_block)(f, start, stop, header=header,
                                                  encoding=encoding)
                          for start, stop in csv_blocks(f, blocksize, encoding)]
        return parts

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

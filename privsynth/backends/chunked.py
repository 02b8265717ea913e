"""Out-of-core counting on one machine: CSV/Parquet files read chunk by chunk.

No extra dependency (pandas; pyarrow for Parquet). The raw table is never
held in memory: each chunk is validated, encoded and reduced to counts. With
``cache_codes=True`` (default) the encoded chunks are kept, one small integer
per cell, so later passes do not re-read the files; with ``False`` every pass
re-reads them and memory stays at about one chunk.

>>> import pathlib, tempfile
>>> from privsynth.schema import Schema
>>> from privsynth.binning import Discretizer
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "part1.csv").write_text("a\\nx\\ny\\n")
>>> _ = (folder / "part2.csv").write_text("a\\ny\\n")
>>> schema = Schema.from_dict({"columns": [
...     {"name": "a", "kind": "categorical", "categories": ["x", "y"]}]})
>>> backend = ChunkedBackend(str(folder / "*.csv"), Discretizer(schema), chunk_rows=1)
>>> [h.tolist() for h in backend.histograms()], backend.n_rows
([[1, 2]], 3)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar

import numpy as np
import pandas as pd

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
from privsynth.errors import DataValidationError
from privsynth.io.checks import check_encoding
from privsynth.io.formats import Source, file_format, resolve_files
from privsynth.io.parquet import parquet_batches, parquet_layout
from privsynth.io.text import csv_frames, read_csv_header


class ChunkedBackend(CountingBackend):
    """Counts over CSV/TSV/Parquet files read ``chunk_rows`` rows at a time, in one process.

    Files are read by :mod:`privsynth.io` (the reader behind
    :func:`privsynth.read_table`): a ragged row, a wrongly encoded byte or a
    damaged gzip stream raises the same
    :class:`~privsynth.errors.DataValidationError`, naming the file and line.

    Parameters
    ----------
    source : str, Path or list of them
        A file, a directory, a glob, or a list; read in sorted order.
    discretizer : Discretizer
        Public bins of the schema.
    chunk_rows : int, default 1_000_000
        Rows per chunk (memory is about one chunk of raw text).
    cache_codes : bool, default True
        Keep the encoded chunks between passes (see the module docstring).
    missing_values : sequence of str, default ("",)
        Text meaning "missing" in CSV/TSV fields.
    encoding : str, default "utf-8"
        Encoding of CSV/TSV files.
    on_out_of_domain : {"error", "clip", "map_to_missing"}, default "error"
        What to do with values outside a column's domain (the fit's policy),
        applied to every chunk.
    """

    name: ClassVar[str] = "chunked"

    def __init__(self, source: Source, discretizer: Discretizer, *, chunk_rows: int = 1_000_000,
                 cache_codes: bool = True, missing_values: Sequence[str] = ("",),
                 encoding: str = "utf-8", on_out_of_domain: str = "error") -> None:
        super().__init__(discretizer)
        self.on_out_of_domain = check_policy(on_out_of_domain)
        self.chunk_rows = check_int("chunk_rows", chunk_rows, lo=1)
        self.cache_codes = check_bool("cache_codes", cache_codes)
        self.missing_values = check_missing_values(missing_values)
        self.encoding = check_encoding(encoding)
        self.files = resolve_files(source)
        self.format = file_format(self.files)
        # the headers (footers for Parquet) are checked now, before any pass
        for f in self.files:
            if self.format == "parquet":
                names = parquet_layout(f)[0]
            else:
                names = read_csv_header(f, encoding=self.encoding)
            check_columns(names, discretizer.schema)
        self._dtype = compact_dtype(self.sizes)
        self._cache: list[CodeArray] | None = None
        self._n: int | None = None

    # ------------------------------------------------------------------ reading
    def _frames(self) -> Iterator[pd.DataFrame]:
        for f in self.files:
            if self.format == "parquet":
                yield from parquet_batches(f, self.chunk_rows)
            else:
                yield from csv_frames(f, chunk_rows=self.chunk_rows, encoding=self.encoding)

    def _chunks(self) -> Iterator[CodeArray]:
        if self._cache is not None:
            yield from self._cache
            return
        kept: list[CodeArray] = []
        for frame in self._frames():
            codes = encode_frame(frame, self.discretizer, self._dtype, self.missing_values,
                                 self.on_out_of_domain)
            if self.cache_codes:
                kept.append(codes)
            yield codes
        if self.cache_codes:
            self._cache = kept

    # ------------------------------------------------------------------ passes
    @property
    def n_rows(self) -> int:
        if self._n is None:
            self._n = sum(len(c) for c in self._chunks())
        return self._n

    def histograms(self) -> list[IntArray]:
        total = [np.zeros(s, dtype=np.int64) for s in self.sizes]
        n = 0
        for codes in self._chunks():
            n += len(codes)
            for t, h in zip(total, histograms(codes, self.sizes), strict=True):
                t += h
        self._n = n
        if n == 0:
            raise DataValidationError("the data has no rows")
        return total

    def joint_counts(self, cliques: Sequence[Clique]) -> list[IntArray]:
        total = [np.zeros(c.cells, dtype=np.int64) for c in cliques]
        if not cliques:
            return total
        for codes in self._chunks():
            for t, h in zip(total, count_cliques(codes, cliques), strict=True):
                t += h
        return total

    def bernoulli_subsample(self, rate: float, key: int) -> CodeArray:
        kept: list[CodeArray] = []
        offset = 0
        for codes in self._chunks():
            kept.append(np.asarray(codes[bernoulli_rows(key, offset, len(codes), rate)]))
            offset += len(codes)
        self._n = offset
        if not kept:
            return np.empty((0, len(self.sizes)), dtype=self._dtype)
        return np.concatenate(kept, axis=0)

    def close(self) -> None:
        self._cache = None

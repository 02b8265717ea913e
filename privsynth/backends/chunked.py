"""Out-of-core counting on one machine: CSV/Parquet files read chunk by chunk.

No extra dependency (pandas; pyarrow for Parquet). The raw table is never
held in memory: each chunk is validated, encoded and reduced to counts. With
``cache_codes=True`` (default) the encoded chunks are kept, one small integer
per cell, so later passes do not re-read the files; with ``False`` every pass
re-reads them and memory stays at about one chunk.

>>> import pathlib, tempfile
>>> from privsynth.schema import Schema
>>> from privsynth.transform import Discretizer
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
    require_pyarrow,
    resolve_files,
)
from privsynth.errors import DataValidationError, ParameterError
from privsynth.transform import Discretizer


class ChunkedBackend(CountingBackend):
    """Counts over CSV/TSV/Parquet files read ``chunk_rows`` rows at a time, in one process.

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
    """

    name: ClassVar[str] = "chunked"

    def __init__(self, source: Source, discretizer: Discretizer, *, chunk_rows: int = 1_000_000,
                 cache_codes: bool = True) -> None:
        super().__init__(discretizer)
        if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
            raise ParameterError(f"chunk_rows={chunk_rows!r}; allowed: an integer >= 1")
        self.files = resolve_files(source)
        self.format = file_format(self.files)
        if self.format == "parquet":
            require_pyarrow()
        self.chunk_rows = chunk_rows
        self.cache_codes = cache_codes
        self._dtype = compact_dtype(self.sizes)
        self._cache: list[CodeArray] | None = None
        self._n: int | None = None

    # ------------------------------------------------------------------ reading
    def _frames(self) -> Iterator[pd.DataFrame]:
        for f in self.files:
            if self.format == "parquet":
                import pyarrow.parquet as pq

                pf = pq.ParquetFile(f)
                check_columns(pf.schema_arrow.names, self.discretizer.schema)
                for batch in pf.iter_batches(batch_size=self.chunk_rows):
                    yield batch.to_pandas()
            else:
                sep = "\t" if self.format == "tsv" else ","
                reader = pd.read_csv(f, sep=sep, chunksize=self.chunk_rows,
                                     **CSV_TEXT_OPTIONS)
                with reader:
                    first = True
                    for chunk in reader:
                        if first:
                            check_columns(list(chunk.columns), self.discretizer.schema)
                            first = False
                        yield chunk

    def _chunks(self) -> Iterator[CodeArray]:
        if self._cache is not None:
            yield from self._cache
            return
        kept: list[CodeArray] = []
        for frame in self._frames():
            codes = encode_frame(frame, self.discretizer, self._dtype)
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

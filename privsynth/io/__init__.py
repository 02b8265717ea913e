"""Reading data files: one reader, one list of suffixes, one set of errors.

Every table privsynth reads from a file goes through this package, whether
:func:`read_table` reads it whole or a counting backend reads it in chunks
(:mod:`privsynth.backends.chunked`) or byte blocks on Dask workers
(:mod:`privsynth.backends.dask_backend`). So a ragged row, a Latin-1 byte in
a UTF-8 file or a damaged gzip stream gives the same
:class:`~privsynth.errors.DataValidationError` (naming the file and the line,
never a value) through every path.

- :mod:`~privsynth.io.formats`: the suffixes read (``.csv``, ``.tsv``,
  ``.txt``, optionally ``.gz``; ``.parquet``, ``.pq``) and paths/globs resolved
  to sorted files;
- :mod:`~privsynth.io.checks`: what can be wrong with a file (missing, empty,
  binary, encoding, gzip) as clear errors;
- :mod:`~privsynth.io.text`: the CSV/TSV parser (whole, chunks, byte blocks);
- :mod:`~privsynth.io.parquet`: Parquet (whole, batches, row groups);
- :mod:`~privsynth.io.table`: :func:`read_table`, the public entry point.

>>> import pandas as pd
>>> read_table(pd.DataFrame({"a": [1, 2]})).shape
(2, 1)
"""

from __future__ import annotations

from privsynth.io.formats import CSV_SUFFIXES, PARQUET_SUFFIXES, TABLE_SUFFIXES
from privsynth.io.table import read_table

__all__ = ["CSV_SUFFIXES", "PARQUET_SUFFIXES", "TABLE_SUFFIXES", "read_table"]

"""The keyed fingerprint of a data source: a DataFrame, or files read chunk by chunk.

A ledger bound to a data set (``budget init --data``) stores the keyed
fingerprint of its source table (see :mod:`privsynth.accounting.fingerprint`);
every fit on that ledger recomputes it from the data it is given and refuses
another table. Files are read here, through the one reader of
:mod:`privsynth.io`, a chunk at a time (a table larger than memory is
fingerprinted without being loaded); their text values are hashed in the
canonical form, so the file's fingerprint equals that of the same rows typed
by a schema.

>>> import tempfile, pathlib, pandas as pd
>>> key = bytes(range(32))
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
>>> _ = path.write_text("age,smoker\\n34,yes\\n71.0,\\n")
>>> typed = pd.DataFrame({"age": [71, 34], "smoker": pd.array([None, True], dtype="boolean")})
>>> source_fingerprint(path, key, chunk_rows=1) == source_fingerprint(typed, key)
True
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from privsynth.accounting.fingerprint import combine, row_digest, table_fingerprint
from privsynth.errors import DataValidationError, LedgerError
from privsynth.io.formats import Source, file_format, is_path_source, resolve_files

#: Rows per chunk when a file is fingerprinted.
CHUNK_ROWS = 100_000


def _frames(files: Sequence[Path], missing_values: Sequence[str], chunk_rows: int,
            **kwargs: Any) -> Iterator[pd.DataFrame]:
    from privsynth.io.parquet import parquet_batches
    from privsynth.io.text import csv_frames

    parquet = file_format(files) == "parquet"
    for f in files:
        if parquet:
            yield from parquet_batches(f, chunk_rows)
        else:
            yield from csv_frames(f, chunk_rows=chunk_rows, missing_values=missing_values,
                                  **kwargs)


def source_fingerprint(source: Source | pd.DataFrame, key: bytes, *,
                       missing_values: Sequence[str] = ("",), chunk_rows: int = CHUNK_ROWS,
                       **kwargs: Any) -> str:
    """The keyed fingerprint of a DataFrame, or of the rows of files (path, glob, list).

    ``missing_values`` are the text tokens read as missing (as for
    :func:`~privsynth.io.read_table`); ``kwargs`` go to the CSV reader
    (``encoding``, ``sep``...). Several files are one table: their columns
    must agree.
    """
    if isinstance(source, pd.DataFrame):
        return table_fingerprint(source, key)
    files = resolve_files(source)
    columns: list[str] | None = None
    parts = []
    for frame in _frames(files, missing_values, chunk_rows, **kwargs):
        names = [str(c) for c in frame.columns]
        if columns is None:
            columns = names
        elif sorted(names) != sorted(columns):
            raise DataValidationError("the data files do not have the same columns; a data "
                                      "set's fingerprint is taken over one table")
        parts.append(row_digest(frame, key))
    return combine(columns or [], parts, key)


def _tokens_as_missing(df: pd.DataFrame, missing_values: Sequence[str]) -> pd.DataFrame:
    """Text cells equal to a missing-value token (after stripping) become missing."""
    tokens = {str(t).strip() for t in missing_values}
    if not tokens:
        return df
    out = df.copy()
    for name in out.columns:
        col = out[name]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            hit = col.map(lambda v: isinstance(v, str) and v.strip() in tokens)
            if hit.any():
                out[name] = col.mask(hit.astype(bool))
    return out


def check_binding(accountant: Any, data: Any, *, what: str,
                  missing_values: Sequence[str] = ("",), text_tokens: bool = False,
                  **read_kwargs: Any) -> None:
    """For a ledger bound to a data set (``budget init --data``), ``data`` must be that table.

    Does nothing for an unbound ledger or an in-memory accountant. Otherwise
    the keyed fingerprint of ``data`` (a DataFrame or data files, read with
    ``missing_values`` and ``read_kwargs``) must be one the ledger holds, else
    :class:`~privsynth.errors.LedgerError` (nothing is spent: callers check
    before any draw). ``text_tokens=True`` says a DataFrame still holds the
    missing-value tokens as text (read raw), so they are made missing first,
    as ``budget init`` reads them.
    """
    check = getattr(accountant, "check_fingerprint", None)
    dataset = getattr(accountant, "dataset", None)
    if check is None or dataset is None or not dataset.fingerprints:
        return
    key = getattr(accountant, "key", None)
    if key is None:
        check(None, what=what)  # refuses: the ledger is bound and the key is missing
        return
    if isinstance(data, pd.DataFrame):
        if text_tokens:
            data = _tokens_as_missing(data, missing_values)
    elif not is_path_source(data):
        raise LedgerError("this ledger is bound to a data set by its fingerprint, which "
                          "privsynth checks on DataFrames and data files; read the table "
                          "with privsynth.read_table first. Nothing was spent.")
    check(source_fingerprint(data, key, missing_values=missing_values, **read_kwargs),
          what=what)


__all__ = ["CHUNK_ROWS", "check_binding", "source_fingerprint"]

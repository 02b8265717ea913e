"""Writing tables: the same file types as reading, written whole or not at all.

:func:`write_table` picks the format from the name (``.csv``, ``.tsv``,
``.txt``, optionally ``.gz``; ``.parquet``, ``.pq``), writes to a temporary
file in the target folder and renames it into place, so a failure (a full
disk, an interrupt) never leaves a half-written table under the final name.

>>> import pathlib, tempfile
>>> import pandas as pd
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.tsv"
>>> write_table(pd.DataFrame({"a": ["x", None]}), path, na_rep="NA")
>>> path.read_text()
'a\\nx\\nNA\\n'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from privsynth.errors import DataValidationError, ParameterError
from privsynth.io.formats import (
    CSV_SUFFIXES,
    PARQUET_SUFFIXES,
    SUFFIXES_TEXT,
    separator,
    table_suffix,
)
from privsynth.io.parquet import require_pyarrow


def write_table(df: pd.DataFrame, path: str | Path, *, na_rep: str = "",
                column_na_rep: Mapping[str, str] | None = None) -> None:
    """Write ``df`` to ``path`` (format from the suffix), atomically.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; the index is not written.
    path : str or Path
        The file to write; its folder must exist.
    na_rep : str, default ""
        How missing values are written in text files (e.g. ``"NA"``).
    column_na_rep : mapping of str to str, optional
        Per-column tokens replacing ``na_rep`` in those columns (e.g. the
        schema's own missing-value tokens: ``{"income": "N"}``). Text files only.

    Raises
    ------
    DataValidationError
        The suffix is not one privsynth reads.
    ParameterError
        ``na_rep`` is not a string.
    """
    path = Path(path)
    tokens = dict(column_na_rep or {})
    if not isinstance(na_rep, str) or not all(isinstance(t, str) for t in tokens.values()):
        raise ParameterError(f"na_rep={na_rep!r}, column_na_rep={column_na_rep!r}; allowed: "
                             "strings such as '' or 'NA'")
    unknown = sorted(set(tokens) - {str(c) for c in df.columns})
    if unknown:
        raise ParameterError(f"column_na_rep names columns the table does not have: {unknown}")
    suffix = table_suffix(path)
    if suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise DataValidationError(
            f"cannot write {path}: unsupported file type {path.suffix.lower() or '(none)'!r}; "
            f"use {SUFFIXES_TEXT}")
    if suffix in PARQUET_SUFFIXES:
        require_pyarrow()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if suffix in PARQUET_SUFFIXES:
            df.to_parquet(tmp, index=False)
        else:
            df = _with_tokens(df, tokens)
            df.to_csv(tmp, index=False, sep=separator(suffix), na_rep=na_rep,
                      compression="gzip" if suffix.endswith(".gz") else None,
                      lineterminator="\n")
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _with_tokens(df: pd.DataFrame, tokens: Mapping[str, str]) -> pd.DataFrame:
    """``df`` with the missing cells of the columns in ``tokens`` written as text tokens."""
    if not tokens:
        return df
    out = df.copy()
    for name, token in tokens.items():
        col = df[name]
        # the column's values as to_csv would write them, then the token where missing
        text = col.astype(str)
        out[name] = text.where(col.notna(), token)
    return out


__all__ = ["write_table"]

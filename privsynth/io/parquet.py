"""Parquet files: whole, in batches, or by row group, with the same clear errors as CSV.

pyarrow is imported lazily; without it a
:class:`~privsynth.errors.MissingExtraError` names ``pip install "privsynth[parquet]"``.
A file that is not valid Parquet raises
:class:`~privsynth.errors.DataValidationError` naming it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from privsynth.errors import MissingExtraError
from privsynth.io.checks import check_path, fail

INSTALL_HINT = 'pip install "privsynth[parquet]"'


def require_pyarrow() -> Any:
    """The ``pyarrow`` module, or a MissingExtraError naming the extra to install."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:
        raise MissingExtraError(f"reading Parquet files needs pyarrow: {INSTALL_HINT}") from exc
    return pyarrow


def _invalid(path: Path, exc: BaseException) -> Exception:
    return fail(path, "the file is not a valid Parquet file",
                "check the file, or give CSV text a .csv name")


def _errors(pa: Any) -> tuple[type[BaseException], ...]:
    return (pa.ArrowException, OSError)


def read_parquet(path: Path, **kwargs: Any) -> pd.DataFrame:
    """The whole file (``kwargs`` go to :func:`pandas.read_parquet`)."""
    path = Path(path)
    check_path(path)
    pa = require_pyarrow()
    try:
        return pd.read_parquet(path, **kwargs)
    except _errors(pa) as exc:
        raise _invalid(path, exc) from exc


def parquet_layout(path: Path) -> tuple[list[str], int]:
    """(column names, number of row groups) from the file's footer; reads no rows."""
    path = Path(path)
    check_path(path)
    pa = require_pyarrow()
    try:
        meta = pa.parquet.ParquetFile(path)
        return list(meta.schema_arrow.names), int(meta.num_row_groups)
    except _errors(pa) as exc:
        raise _invalid(path, exc) from exc


def parquet_batches(path: Path, batch_rows: int) -> Iterator[pd.DataFrame]:
    """The file ``batch_rows`` rows at a time."""
    path = Path(path)
    check_path(path)
    pa = require_pyarrow()
    try:
        pf = pa.parquet.ParquetFile(path)
        for batch in pf.iter_batches(batch_size=batch_rows):
            yield batch.to_pandas()
    except _errors(pa) as exc:
        raise _invalid(path, exc) from exc


def read_row_group(path: str | Path, index: int, columns: Sequence[str]) -> pd.DataFrame:
    """Row group ``index`` of the file, ``columns`` only."""
    pa = require_pyarrow()
    try:
        table = pa.parquet.ParquetFile(path).read_row_group(index, columns=list(columns))
        return table.to_pandas()
    except _errors(pa) as exc:
        raise _invalid(Path(path), exc) from exc


__all__ = ["INSTALL_HINT", "parquet_batches", "parquet_layout", "read_parquet",
           "read_row_group", "require_pyarrow"]

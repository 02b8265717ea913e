"""Reading input tables: CSV (optionally gzipped), TSV, Parquet or a DataFrame.

:func:`read_table` reads every CSV field as text, so that the schema, not
pandas' guessing, decides what a value means (``"007"`` stays a category,
``"1"`` is compared with the category ``"1"``). Problems with the file
itself (not found, empty, not UTF-8, binary, duplicated headers, rows with
the wrong number of fields) raise
:class:`~privsynth.errors.DataValidationError` with the line number and what
to do, never with the file's contents.

Example
-------
>>> import pandas as pd
>>> df = read_table(pd.DataFrame({"a": [1, 2]}))
>>> df.shape
(2, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from privsynth.errors import ParameterError
from privsynth.io.checks import check_path, fail
from privsynth.io.formats import CSV_SUFFIXES, PARQUET_SUFFIXES, SUFFIXES_TEXT, table_suffix
from privsynth.io.parquet import read_parquet
from privsynth.io.text import csv_frames
from privsynth.schema import Schema
from privsynth.validation import OutOfDomain, validate


def read_table(
    source: str | Path | pd.DataFrame,
    *,
    schema: Schema | None = None,
    missing_values: Sequence[str] = ("",),
    on_out_of_domain: OutOfDomain = "error",
    **kwargs: Any,
) -> pd.DataFrame:
    """Read a table from a file or a DataFrame, optionally validated against a schema.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        ``.csv``, ``.tsv`` (tab-separated) or ``.txt``, each optionally
        gzipped (``.csv.gz``), or ``.parquet``; a DataFrame is copied. The
        suffixes are those of :mod:`privsynth.io.formats`, shared by every
        backend.
    schema : Schema, optional
        When given, the result is :func:`~privsynth.validation.validate`-d:
        coerced to the schema's kinds, with exactly its columns.
    missing_values : sequence of str
        Text tokens meaning "missing" (after stripping whitespace). Without
        a schema, such CSV fields become NaN; with a schema they are passed to
        ``validate``.
    on_out_of_domain : {"error", "clip", "map_to_missing"}
        Passed to ``validate`` when ``schema`` is given.
    **kwargs
        Passed to :func:`pandas.read_csv` (e.g. ``encoding="latin-1"``,
        ``sep=";"``, ``nrows=1000``) or :func:`pandas.read_parquet`.

    Returns
    -------
    pandas.DataFrame
        Without a schema, CSV columns are text (missing as NaN).

    Raises
    ------
    DataValidationError
        The file is missing, empty, binary, not in the given encoding, has
        duplicated header names or rows with the wrong number of fields, or
        (with a schema) the data does not match it.
    MissingExtraError
        A Parquet file was given and pyarrow is not installed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from privsynth.schema import Schema
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "people.csv"
    >>> _ = path.write_text("age,smoker\\n34,yes\\n71,\\n")
    >>> read_table(path)["smoker"].tolist()
    ['yes', nan]
    >>> schema = Schema.from_dict({"columns": [
    ...     {"name": "age", "kind": "integer", "lower": 0, "upper": 120},
    ...     {"name": "smoker", "kind": "boolean", "nullable": True}]})
    >>> read_table(path, schema=schema).dtypes.astype(str).tolist()
    ['int64', 'boolean']
    """
    if isinstance(missing_values, str):
        raise ParameterError("missing_values must be a sequence of strings, e.g. ('', 'NA')")
    if isinstance(source, pd.DataFrame):
        df = source.copy()
    elif isinstance(source, str | Path):
        path = Path(source)
        check_path(path)
        suffix = table_suffix(path)
        if suffix in CSV_SUFFIXES:
            tokens = None if schema is not None else missing_values
            df = next(csv_frames(path, missing_values=tokens, **kwargs))
        elif suffix in PARQUET_SUFFIXES:
            df = read_parquet(path, **kwargs)
        else:
            raise fail(
                path,
                f"unsupported file type {path.suffix.lower() or '(no suffix)'!r}",
                f"use {SUFFIXES_TEXT}, or read it with pandas and pass the DataFrame",
            )
    else:
        raise ParameterError(
            f"source must be a path or a pandas DataFrame, got {type(source).__name__}"
        )
    if schema is not None:
        return validate(
            df, schema, on_out_of_domain=on_out_of_domain, missing_values=missing_values
        )
    return df


__all__ = ["read_table"]

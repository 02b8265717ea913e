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

import codecs
import csv
import gzip
import io
import re
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from privsynth.errors import DataValidationError, MissingExtraError, ParameterError
from privsynth.schema import Schema
from privsynth.validation import OutOfDomain, validate

_CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")
_PARQUET_SUFFIXES = (".parquet", ".pq")
# read_table controls these itself: every field is text, the first line is the header
_RESERVED = ("dtype", "header", "names", "index_col", "keep_default_na", "na_values", "na_filter")
# with these, physical lines and records no longer line up simply; the
# ragged-row check (which reports line numbers) is then left to pandas
_LINE_ALTERING = ("comment", "skiprows", "skipfooter", "lineterminator", "quoting", "engine")
_SAMPLE_BYTES = 1 << 16
# what a damaged .gz file raises, wherever the damage is (header, deflate stream, CRC)
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)
_MAX_LINES_SHOWN = 5


def _fail(path: Path, what: str, advice: str) -> DataValidationError:
    problem: dict[str, object] = {"column": None, "problem": what, "rows": 0}
    return DataValidationError(f"cannot read {path}: {what}; {advice}", problems=[problem])


@contextmanager
def _open_binary(path: Path) -> Iterator[IO[bytes]]:
    if path.name.lower().endswith(".gz"):
        with gzip.open(path, "rb") as gz:
            yield gz  # type: ignore[misc]
    else:
        with path.open("rb") as fh:
            yield fh


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in (*_CSV_SUFFIXES, *_PARQUET_SUFFIXES):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def _lines_text(lines: Sequence[int], total: int) -> str:
    shown = ", ".join(str(n) for n in lines[:_MAX_LINES_SHOWN])
    more = f" and {total - _MAX_LINES_SHOWN} more" if total > _MAX_LINES_SHOWN else ""
    return f"line{'s' if total != 1 else ''} {shown}{more}"


def _check_sample(path: Path, encoding: str) -> None:
    """Refuse empty, binary and wrongly encoded files before pandas sees them."""
    try:
        with _open_binary(path) as fh:
            sample = fh.read(_SAMPLE_BYTES)
    except (*_GZIP_ERRORS, OSError) as exc:
        raise _fail(
            path,
            "the file is not a valid gzip file",
            "rename it without '.gz' if it is plain text, or re-compress it",
        ) from exc
    if not sample:
        raise _fail(path, "the file is empty", "expected a header line and at least one row")
    if not sample.strip():
        raise _fail(path, "the file holds only whitespace", "expected a header line and rows")
    magic = {
        b"PAR1": "it looks like a Parquet file; give it a .parquet name",
        b"PK\x03\x04": "it looks like a zip archive or an Excel file; export it as CSV",
        b"\x1f\x8b": "it looks gzip-compressed; give it a .csv.gz name",
    }
    for head, advice in magic.items():
        if sample.startswith(head):
            raise _fail(path, "the file is binary, not CSV text", advice)
    wide = codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    if not wide and b"\x00" in sample:
        raise _fail(
            path,
            "the file is binary, not CSV text (it contains NUL bytes)",
            "check that this is the table you meant; pass encoding='utf-16' if it is UTF-16 text",
        )
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        text = decoder.decode(sample, final=False)
    except UnicodeDecodeError as exc:
        garbled = sample.decode(encoding, errors="replace")
        odd = sum(1 for ch in garbled if ch == "\ufffd" or (ch < " " and ch not in "\t\r\n"))
        if odd > 0.1 * len(garbled):
            raise _fail(
                path,
                "the file is binary, not CSV text",
                "check that this is the table you meant",
            ) from exc
        line = sample[: exc.start].count(b"\n") + 1
        raise _encoding_error(path, encoding, line) from exc
    odd = sum(1 for ch in text if ch < " " and ch not in "\t\r\n\x0c\x0b")
    if odd > 0.1 * max(len(text), 1):
        raise _fail(
            path, "the file is binary, not CSV text", "check that this is the table you meant"
        )


def _encoding_error(path: Path, encoding: str, line: int | None) -> DataValidationError:
    where = f" at line {line}" if line is not None else ""
    return _fail(
        path,
        f"the bytes{where} are not valid {encoding} text",
        "pass the file's real encoding, e.g. read_table(path, encoding='latin-1') or "
        "encoding='cp1252', or re-save the file as UTF-8",
    )


def _first_undecodable_line(path: Path, encoding: str) -> int | None:
    try:
        with _open_binary(path) as fh:
            for number, raw in enumerate(fh, start=1):
                try:
                    raw.decode(encoding)
                except UnicodeDecodeError:
                    return number
    except (OSError, EOFError, zlib.error):  # pragma: no cover - the file changed under us
        return None
    return None


def _ragged_lines(
    path: Path, encoding: str, sep: str, width: int, kwargs: dict[str, Any]
) -> list[int]:
    """Physical line numbers of records whose field count differs from the header."""
    bad: list[int] = []
    with _open_binary(path) as raw:
        # newline="" as the csv module asks: quoted fields may hold line breaks
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        reader = csv.reader(
            text,
            delimiter=sep,
            quotechar=kwargs.get("quotechar", '"'),
            escapechar=kwargs.get("escapechar"),
            doublequote=kwargs.get("doublequote", True),
            skipinitialspace=kwargs.get("skipinitialspace", False),
        )
        for record in reader:
            if record and len(record) != width:
                bad.append(reader.line_num)
    return bad


def _read_csv(
    path: Path, suffix: str, missing_values: Sequence[str] | None, kwargs: dict[str, Any]
) -> pd.DataFrame:
    kwargs = dict(kwargs)
    clash = sorted(set(kwargs) & set(_RESERVED))
    if clash:
        raise ParameterError(
            f"read_table does not accept {clash}: it reads every field as text and takes the "
            "first line as the header; select or convert columns after reading, or pass a "
            "DataFrame you read yourself"
        )
    encoding = kwargs.pop("encoding", "utf-8")
    default_sep = "\t" if suffix.startswith(".tsv") else ","
    sep = kwargs.pop("sep", kwargs.pop("delimiter", default_sep))
    if "nrows" in kwargs and kwargs["nrows"] is not None:
        kwargs["nrows"] = int(kwargs["nrows"]) + 1  # the header is read as a row
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise ParameterError(f"unknown encoding {encoding!r}") from exc
    _check_sample(path, encoding)
    try:
        raw = pd.read_csv(
            path,
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding=encoding,
            **kwargs,
        )
    except UnicodeDecodeError as exc:
        raise _encoding_error(path, encoding, _first_undecodable_line(path, encoding)) from exc
    except _GZIP_ERRORS as exc:  # damage past the sample checked above
        raise _fail(path, "the file is not a valid gzip file (it is damaged or truncated)",
                    "re-compress it from the original") from exc
    except pd.errors.EmptyDataError as exc:
        raise _fail(path, "the file has no header line", "expected a header and rows") from exc
    except pd.errors.ParserError as exc:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if match:
            width, line, seen = match.groups()
            raise _fail(
                path,
                f"line {line} has {seen} fields but the header has {width}",
                "check the delimiter and the quoting on that line (an unquoted "
                f"{sep!r} inside a value splits it)",
            ) from exc
        raise _fail(
            path, "the CSV text cannot be parsed", "check the delimiter and quoting"
        ) from exc
    header = [str(h).strip() for h in raw.iloc[0].tolist()] if len(raw) else []
    if not header:
        raise _fail(path, "the file has no header line", "expected a header and rows")
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    empty = [i + 1 for i, h in enumerate(header) if not h]
    if empty:
        raise _fail(
            path,
            f"the header has empty column name(s) at position(s) {empty}",
            "name every column (a trailing delimiter on the header line makes an empty name)",
        )
    dup = sorted(h for h, k in Counter(header).items() if k > 1)  # linear: wide files exist
    if dup:
        raise _fail(
            path,
            f"the header repeats the column name(s) {dup}",
            "give every column a unique name",
        )
    data = raw.iloc[1:].reset_index(drop=True)
    data.columns = pd.Index(header)
    width = len(header)
    if len(data) and width > 1 and not set(kwargs) & set(_LINE_ALTERING) and len(sep) == 1:
        # pandas silently pads short rows with empty strings; a padded row
        # necessarily ends with an empty field, so only then is the file re-scanned
        if bool((data.iloc[:, -1] == "").any()):
            bad = _ragged_lines(path, encoding, sep, width, kwargs)
            if bad:
                raise _fail(
                    path,
                    f"{_lines_text(bad, len(bad))} "
                    f"{'do' if len(bad) != 1 else 'does'} not have {width} fields like the header",
                    "fix those rows (a missing delimiter, or a delimiter inside an unquoted value)",
                )
    if missing_values and data.size:
        # one vectorized pass over all cells (every field is text here): a per-column
        # loop costs seconds on files with thousands of columns
        tokens = [t.strip() for t in missing_values]
        cells = data.to_numpy(dtype=object, copy=True)  # may be a read-only view otherwise
        cells[np.isin(_strip_all(cells), tokens)] = np.nan
        data = pd.DataFrame(cells, columns=data.columns, index=data.index)
    return data


_strip_all = np.frompyfunc(str.strip, 1, 1)


def _read_parquet(path: Path, kwargs: dict[str, Any]) -> pd.DataFrame:
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError(
            'reading Parquet files needs pyarrow: pip install "privsynth[parquet]"'
        ) from exc
    import pyarrow as pa

    try:
        return pd.read_parquet(path, **kwargs)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _fail(
            path,
            "the file is not a valid Parquet file",
            "check the file, or give CSV text a .csv name",
        ) from exc


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
        ``.csv``, ``.csv.gz``, ``.tsv`` (tab-separated) or ``.parquet``; a
        DataFrame is copied.
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
        if not path.exists():
            raise _fail(path, "file not found", "check the path and the working directory")
        if path.is_dir():
            raise _fail(path, "it is a directory, not a file", "give the path of a table file")
        suffix = _suffix(path)
        if suffix in _CSV_SUFFIXES:
            df = _read_csv(path, suffix, None if schema is not None else missing_values, kwargs)
        elif suffix in _PARQUET_SUFFIXES:
            df = _read_parquet(path, kwargs)
        else:
            raise _fail(
                path,
                f"unsupported file type {suffix or '(no suffix)'!r}",
                "use .csv, .csv.gz, .tsv or .parquet, or read it with pandas and pass the "
                "DataFrame",
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

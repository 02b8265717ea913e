"""The one CSV/TSV text parser: whole files, chunks of rows, and byte blocks for Dask.

Every field is read as text (``"007"`` stays ``"007"``); only the schema
decides what a value means. Whichever way a file is cut, the same checks run
and the same errors come out (:class:`~privsynth.errors.DataValidationError`
naming the file and the line, never quoting a value):

- :func:`csv_frames` reads a file whole or ``chunk_rows`` rows at a time
  (:func:`~privsynth.io.read_table`, the chunked backend);
- :func:`read_csv_header` and :func:`read_csv_block` read a file's header in
  the driver and byte ranges of it on Dask workers (the Dask backend).

Checked: the header (no empty or repeated names), the encoding (the line of
the first undecodable byte), damaged gzip streams, and rows with more *or
fewer* fields than the header (pandas pads short rows silently; a padded row
ends with an empty field, so only then is the text re-scanned for them).

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
>>> _ = path.write_text("a,b\\n1,2\\n3\\n")
>>> next(csv_frames(path))
Traceback (most recent call last):
...
privsynth.errors.DataValidationError: cannot read ...t.csv: line 3 has 1 field but the ...
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from privsynth.errors import ParameterError
from privsynth.io.checks import (
    GZIP_ERRORS,
    check_encoding,
    check_path,
    check_sample,
    encoding_error,
    fail,
    first_undecodable_line,
    gzip_error,
    is_wide,
    lines_text,
    open_binary,
)
from privsynth.io.formats import separator, table_suffix

# csv_frames controls these itself: every field is text, the first line is the header
RESERVED = ("dtype", "header", "names", "index_col", "keep_default_na", "na_values",
            "na_filter", "chunksize", "iterator")
# with these, physical lines and records no longer line up simply; the
# ragged-row check (which reports line numbers) is then left to pandas
_LINE_ALTERING = ("comment", "skiprows", "skipfooter", "lineterminator", "quoting", "engine")
_TEXT = {"header": None, "dtype": str, "keep_default_na": False, "na_filter": False}
_EXPECTED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_COUNT_BYTES = 1 << 20


# ---------------------------------------------------------------------- shared pieces
def _header(path: Path, names: Sequence[object]) -> list[str]:
    """The checked column names of a header record."""
    header = [str(h).strip() for h in names]
    if not header:
        raise fail(path, "the file has no header line", "expected a header and rows")
    if header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    empty = [i + 1 for i, h in enumerate(header) if not h]
    if empty:
        raise fail(
            path,
            f"the header has empty column name(s) at position(s) {empty}",
            "name every column (a trailing delimiter on the header line makes an empty name)",
        )
    dup = sorted(h for h, k in Counter(header).items() if k > 1)  # linear: wide files exist
    if dup:
        raise fail(path, f"the header repeats the column name(s) {dup}",
                   "give every column a unique name")
    return header


def _ragged_lines(path: Path, text: TextIO, sep: str, width: int, kwargs: dict[str, Any],
                  base: int = 0) -> list[tuple[int, int]]:
    """(physical line number, fields) of the records not ``width`` wide.

    Line numbers are ``base`` + the line in ``text`` where the record ends.
    """
    reader = csv.reader(
        text,
        delimiter=sep,
        quotechar=kwargs.get("quotechar", '"'),
        escapechar=kwargs.get("escapechar"),
        doublequote=kwargs.get("doublequote", True),
        skipinitialspace=kwargs.get("skipinitialspace", False),
    )
    try:
        return [(base + reader.line_num, len(record)) for record in reader
                if record and len(record) != width]
    except csv.Error as exc:  # an unclosed quote, or a field over csv's size limit
        raise fail(path, "the CSV text cannot be parsed",
                   "check the quoting (an unclosed quote) and the delimiter") from exc


def _ragged_error(path: Path, bad: Sequence[tuple[int, int]], width: int) -> Exception:
    if len(bad) == 1:
        (line, seen), = bad
        what = f"line {line} has {seen} field{'s' if seen != 1 else ''} but the header has {width}"
    else:
        what = (f"{lines_text([line for line, _ in bad], len(bad))} do not have {width} fields "
                "like the header")
    return fail(path, what,
                "fix those rows (a missing delimiter, or a delimiter inside an unquoted value)")


def _parser_error(path: Path, exc: Exception, sep: str, base: int = 0) -> Exception:
    match = _EXPECTED.search(str(exc))
    if match:
        width, line, seen = match.groups()
        return fail(
            path,
            f"line {base + int(line)} has {seen} fields but the header has {width}",
            "check the delimiter and the quoting on that line (an unquoted "
            f"{sep!r} inside a value splits it)",
        )
    return fail(path, "the CSV text cannot be parsed", "check the delimiter and quoting")


_strip_all = np.frompyfunc(str.strip, 1, 1)


def to_missing(data: pd.DataFrame, tokens: Sequence[str]) -> pd.DataFrame:
    """Text cells equal (after stripping) to one of ``tokens`` become NaN.

    >>> to_missing(pd.DataFrame({"a": ["1", " NA ", ""]}), ["NA", ""])["a"].tolist()
    ['1', nan, nan]
    """
    if not tokens or not data.size:
        return data
    # one vectorized pass over all cells (every field is text here): a per-column
    # loop costs seconds on files with thousands of columns
    stripped = [t.strip() for t in tokens]
    cells = data.to_numpy(dtype=object, copy=True)  # may be a read-only view otherwise
    cells[np.isin(_strip_all(cells), stripped)] = np.nan
    return pd.DataFrame(cells, columns=data.columns, index=data.index)


def _options(path: Path, kwargs: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(encoding, separator, remaining pandas options) of a read, checked."""
    kwargs = dict(kwargs)
    clash = sorted(set(kwargs) & set(RESERVED))
    if clash:
        raise ParameterError(
            f"read_table does not accept {clash}: it reads every field as text and takes the "
            "first line as the header; select or convert columns after reading, or pass a "
            "DataFrame you read yourself"
        )
    encoding = check_encoding(kwargs.pop("encoding", "utf-8"))
    sep = kwargs.pop("sep", kwargs.pop("delimiter", separator(table_suffix(path))))
    return encoding, sep, kwargs


# ---------------------------------------------------------------------- whole files, chunks
def csv_frames(path: Path, *, chunk_rows: int | None = None,
               missing_values: Sequence[str] | None = None,
               **kwargs: Any) -> Iterator[pd.DataFrame]:
    """The rows of a CSV/TSV file as text frames: one frame, or ``chunk_rows`` rows each.

    Parameters
    ----------
    path : Path
        A ``.csv``, ``.tsv`` or ``.txt`` file, optionally ``.gz``.
    chunk_rows : int, optional
        Rows per frame; ``None`` reads the whole file as one frame.
    missing_values : sequence of str, optional
        Tokens (after stripping) that become NaN; ``None`` keeps every field's text.
    **kwargs
        Passed to :func:`pandas.read_csv` (``encoding``, ``sep``, ``nrows``,
        ``quotechar``...), except the options listed in :data:`RESERVED`.

    Yields
    ------
    pandas.DataFrame
        Columns named by the header; a header-only file gives one empty frame.

    Raises
    ------
    DataValidationError
        The file is missing, empty, binary, not in the encoding, a damaged
        gzip, has a bad header or rows of the wrong width. Raised when the
        frame holding the problem is read, so a chunked reader may already
        have yielded earlier frames.
    """
    path = Path(path)
    check_path(path)
    encoding, sep, kwargs = _options(path, kwargs)
    if kwargs.get("nrows") is not None:
        kwargs["nrows"] = int(kwargs["nrows"]) + 1  # the header is read as a row
    check_sample(path, encoding)
    checkable = not set(kwargs) & set(_LINE_ALTERING) and len(sep) == 1
    scanned: list[tuple[int, int]] | None = None  # ragged lines of the whole file, scanned once
    header: list[str] | None = None
    try:
        with contextlib.ExitStack() as stack:
            if chunk_rows is None:
                chunks: Any = [pd.read_csv(path, sep=sep, encoding=encoding, **_TEXT, **kwargs)]
            else:
                chunks = stack.enter_context(pd.read_csv(
                    path, sep=sep, encoding=encoding, chunksize=chunk_rows, **_TEXT, **kwargs))
            for raw in chunks:
                if header is None:
                    if not len(raw):
                        raise fail(path, "the file has no header line",
                                   "expected a header and rows")
                    header = _header(path, raw.iloc[0].tolist())
                    raw = raw.iloc[1:]
                data = raw.reset_index(drop=True)
                data.columns = pd.Index(header)
                width = len(header)
                if len(data) and width > 1 and checkable:
                    # a short row is padded with "" by pandas: rescan only then
                    if bool((data.iloc[:, -1] == "").any()):
                        if scanned is None:
                            with open_binary(path) as fh:
                                text = io.TextIOWrapper(fh, encoding=encoding, newline="")
                                scanned = _ragged_lines(path, text, sep, width, kwargs)
                        if scanned:
                            raise _ragged_error(path, scanned, width)
                yield to_missing(data, missing_values) if missing_values else data
    except UnicodeDecodeError as exc:
        raise encoding_error(path, encoding, first_undecodable_line(path, encoding)) from exc
    except GZIP_ERRORS as exc:  # damage past the sample checked up front
        raise gzip_error(path) from exc
    except pd.errors.EmptyDataError as exc:
        raise fail(path, "the file has no header line", "expected a header and rows") from exc
    except pd.errors.ParserError as exc:
        raise _parser_error(path, exc, sep) from exc


# ---------------------------------------------------------------------- byte blocks (Dask)
def read_csv_header(path: Path, *, encoding: str = "utf-8", sep: str | None = None
                    ) -> list[str]:
    """The checked column names on the first line of a CSV/TSV file (reads one record)."""
    path = Path(path)
    check_path(path)
    encoding = check_encoding(encoding)
    sep = sep if sep is not None else separator(table_suffix(path))
    check_sample(path, encoding)
    try:
        with open_binary(path) as fh:
            text = io.TextIOWrapper(fh, encoding=encoding, newline="")
            record = next(csv.reader(text, delimiter=sep), None)
    except UnicodeDecodeError as exc:
        raise encoding_error(path, encoding, first_undecodable_line(path, encoding)) from exc
    except GZIP_ERRORS as exc:
        raise gzip_error(path) from exc
    except csv.Error as exc:
        raise fail(path, "the header line cannot be parsed", "check its quoting") from exc
    if record is None:
        raise fail(path, "the file has no header line", "expected a header and rows")
    return _header(path, record)


def csv_blocks(path: Path, blocksize: int | None, encoding: str = "utf-8"
               ) -> list[tuple[int, int | None]]:
    """Byte ranges ``(start, stop)`` cutting ``path`` into blocks for :func:`read_csv_block`.

    A gzipped or UTF-16/32 file, or ``blocksize=None``, is one block ``(0, None)``.
    """
    if blocksize is None or path.name.lower().endswith(".gz") or is_wide(encoding):
        return [(0, None)]
    size = path.stat().st_size
    return [(start, min(start + blocksize, size)) for start in range(0, max(size, 1), blocksize)]


def _block_bytes(fh: Any, start: int, stop: int | None) -> tuple[int, bytes]:
    """(offset of the first record, bytes of the records starting in [start, stop)).

    A record starts at offset 0 and after every ``\\n``; a block owns the
    records that start inside it (the convention of Dask's ``read_bytes``).
    """
    if stop is None:
        return 0, fh.read()
    begin = start
    if start > 0:
        fh.seek(start - 1)
        if fh.read(1) != b"\n":
            begin = start + len(fh.readline())  # the rest of a record owned by the block before
    fh.seek(begin)
    if begin >= stop:
        return begin, b""
    data = fh.read(stop - begin)
    if data and not data.endswith(b"\n"):
        data += fh.readline()
    return begin, data


def _lines_before(path: Path, offset: int) -> int:
    """Newlines in the first ``offset`` bytes of ``path`` (only for error messages)."""
    count = 0
    with open_binary(path) as fh:
        left = offset
        while left > 0:
            piece = fh.read(min(_COUNT_BYTES, left))
            if not piece:
                break
            count += piece.count(b"\n")
            left -= len(piece)
    return count


def read_csv_block(path: Path, start: int, stop: int | None, *, header: Sequence[str],
                   encoding: str = "utf-8", sep: str | None = None) -> pd.DataFrame:
    """The rows of one byte block of a CSV/TSV file, as text, columns named by ``header``.

    The block holding offset 0 skips the header line. Quoted fields must not
    span lines when a file is cut into several blocks (each block is parsed on
    its own); read such files with ``blocksize=None``.
    """
    path = Path(path)
    sep = sep if sep is not None else separator(table_suffix(path))
    width = len(header)
    try:
        with open_binary(path) as fh:
            begin, data = _block_bytes(fh, start, stop)
    except GZIP_ERRORS as exc:
        raise gzip_error(path) from exc

    def base() -> int:  # physical lines before the block (computed only for messages)
        return _lines_before(path, begin) if begin else 0

    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = None if is_wide(encoding) else base() + data[:exc.start].count(b"\n") + 1
        raise encoding_error(path, encoding, line) from exc
    skip = 1 if begin == 0 else 0  # the header record
    frame: pd.DataFrame | None
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, **_TEXT) if text.strip() else None
    except pd.errors.EmptyDataError:
        frame = None
    except pd.errors.ParserError:
        frame = pd.DataFrame()  # located by the scan below
    if frame is None:
        return pd.DataFrame({h: pd.Series([], dtype=object) for h in header})
    rows = frame.iloc[skip:]
    suspicious = frame.shape[1] != width or (
        len(rows) and width > 1 and bool((rows.iloc[:, -1] == "").any()))
    if suspicious:
        lines = base()
        bad = _ragged_lines(path, io.StringIO(text, newline=""), sep, width, {}, lines)
        if bad:
            raise _ragged_error(path, bad, width)
        if frame.shape[1] != width:
            raise fail(path, f"the text after line {lines} cannot be parsed",
                       "check the delimiter and quoting")
    data_rows = rows.reset_index(drop=True)
    data_rows.columns = pd.Index(list(header))
    return data_rows


__all__ = ["RESERVED", "csv_blocks", "csv_frames", "read_csv_block", "read_csv_header",
           "to_missing"]

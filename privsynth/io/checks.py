"""What can be wrong with a data file before and while it is parsed, as clear errors.

Every reader goes through these: a missing path, a directory, an empty,
binary or wrongly encoded file, a damaged gzip stream. Each problem becomes a
:class:`~privsynth.errors.DataValidationError` that names the file, says what
is wrong (with a line number where there is one) and what to do, and never
quotes the file's contents.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
>>> _ = path.write_bytes(("name\\n" + "ok\\n" * 9 + "caf\\xe9\\n").encode("latin-1"))
>>> check_sample(path, "utf-8")
Traceback (most recent call last):
...
privsynth.errors.DataValidationError: cannot read ...t.csv: the bytes at line 11 are not valid ...
>>> check_sample(path, "latin-1")  # no problem: returns None
"""

from __future__ import annotations

import codecs
import gzip
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from privsynth.errors import DataValidationError, ParameterError

#: Bytes read up front to refuse empty, binary and wrongly encoded files early.
SAMPLE_BYTES = 1 << 16
#: What a damaged .gz file raises, wherever the damage is (header, deflate stream, CRC).
GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)
#: ... and what opening or reading any file may raise besides.
READ_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error, OSError)
_MAX_LINES_SHOWN = 5


def fail(path: Path | str, what: str, advice: str) -> DataValidationError:
    """The error for a file that cannot be read: ``cannot read PATH: WHAT; ADVICE``."""
    problem: dict[str, object] = {"column": None, "problem": what, "rows": 0}
    return DataValidationError(f"cannot read {path}: {what}; {advice}", problems=[problem])


def check_path(path: Path) -> None:
    """Refuse a path that does not exist or is a directory."""
    if not path.exists():
        raise fail(path, "file not found", "check the path and the working directory")
    if path.is_dir():
        raise fail(path, "it is a directory, not a file", "give the path of a table file")


def check_encoding(encoding: object) -> str:
    """``encoding`` if Python knows it, else a ParameterError."""
    if not isinstance(encoding, str):
        raise ParameterError(f"encoding={encoding!r}; allowed: a codec name such as 'utf-8'")
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise ParameterError(f"unknown encoding {encoding!r}") from exc
    return encoding


def is_wide(encoding: str) -> bool:
    """True for UTF-16/UTF-32, where a newline is not the single byte ``\\n``."""
    return codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))


@contextmanager
def open_binary(path: Path) -> Iterator[IO[bytes]]:
    """The file's bytes, decompressed when its name ends in ``.gz``."""
    if path.name.lower().endswith(".gz"):
        with gzip.open(path, "rb") as gz:
            yield gz  # type: ignore[misc]
    else:
        with path.open("rb") as fh:
            yield fh


def gzip_error(path: Path) -> DataValidationError:
    """A ``.gz`` file damaged past its first bytes."""
    return fail(path, "the file is not a valid gzip file (it is damaged or truncated)",
                "re-compress it from the original")


def lines_text(lines: Sequence[int], total: int) -> str:
    """``line 3`` / ``lines 2, 3, 4, 5, 6 and 4 more``."""
    shown = ", ".join(str(n) for n in lines[:_MAX_LINES_SHOWN])
    more = f" and {total - _MAX_LINES_SHOWN} more" if total > _MAX_LINES_SHOWN else ""
    return f"line{'s' if total != 1 else ''} {shown}{more}"


def encoding_error(path: Path, encoding: str, line: int | None) -> DataValidationError:
    """The file's bytes (at ``line`` when known) are not text in ``encoding``."""
    where = f" at line {line}" if line is not None else ""
    return fail(
        path,
        f"the bytes{where} are not valid {encoding} text",
        "pass the file's real encoding, e.g. read_table(path, encoding='latin-1') or "
        "encoding='cp1252' (for fit on files: backend_options={'encoding': 'latin-1'}), or "
        "re-save the file as UTF-8",
    )


def first_undecodable_line(path: Path, encoding: str) -> int | None:
    """The first physical line of ``path`` that is not text in ``encoding`` (None if all are)."""
    if is_wide(encoding):
        return None  # lines are not split on the byte b"\n"
    try:
        with open_binary(path) as fh:
            for number, raw in enumerate(fh, start=1):
                try:
                    raw.decode(encoding)
                except UnicodeDecodeError:
                    return number
    except READ_ERRORS:  # pragma: no cover - the file changed under us
        return None
    return None


def _binary(path: Path, advice: str = "check that this is the table you meant"
            ) -> DataValidationError:
    return fail(path, "the file is binary, not CSV text", advice)


def check_sample(path: Path, encoding: str) -> None:
    """Refuse empty, binary and wrongly encoded (or damaged gzip) files before parsing.

    Reads the first :data:`SAMPLE_BYTES` bytes only; damage further on is found
    (and translated) by the parser.
    """
    try:
        with open_binary(path) as fh:
            sample = fh.read(SAMPLE_BYTES)
    except READ_ERRORS as exc:
        raise fail(
            path,
            "the file is not a valid gzip file",
            "rename it without '.gz' if it is plain text, or re-compress it",
        ) from exc
    if not sample:
        raise fail(path, "the file is empty", "expected a header line and at least one row")
    if not sample.strip():
        raise fail(path, "the file holds only whitespace", "expected a header line and rows")
    magic = {
        b"PAR1": "it looks like a Parquet file; give it a .parquet name",
        b"PK\x03\x04": "it looks like a zip archive or an Excel file; export it as CSV",
        b"\x1f\x8b": "it looks gzip-compressed; give it a .csv.gz name",
    }
    for head, advice in magic.items():
        if sample.startswith(head):
            raise _binary(path, advice)
    if not is_wide(encoding) and b"\x00" in sample:
        raise fail(
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
            raise _binary(path) from exc
        line = sample[: exc.start].count(b"\n") + 1
        raise encoding_error(path, encoding, line) from exc
    odd = sum(1 for ch in text if ch < " " and ch not in "\t\r\n\x0c\x0b")
    if odd > 0.1 * max(len(text), 1):
        raise _binary(path)


__all__ = [
    "GZIP_ERRORS",
    "READ_ERRORS",
    "SAMPLE_BYTES",
    "check_encoding",
    "check_path",
    "check_sample",
    "encoding_error",
    "fail",
    "first_undecodable_line",
    "gzip_error",
    "is_wide",
    "lines_text",
    "open_binary",
]

"""Which files privsynth reads: the one list of suffixes, and paths/globs resolved to files.

Every reader (:func:`~privsynth.io.read_table` and the counting backends)
accepts the same file types, decided by the name alone:

- comma-separated text: ``.csv``, ``.txt`` (gzipped: ``.csv.gz``, ``.txt.gz``);
- tab-separated text: ``.tsv`` (``.tsv.gz``);
- Parquet: ``.parquet``, ``.pq`` (needs pyarrow).

A path, a directory, a glob or a list of them resolves to files in sorted
order, the same for every backend, so a row has the same global position
whichever backend reads it (see :func:`~privsynth.backends.base.row_uniforms`).

>>> table_suffix(Path("Survey.CSV.gz")), file_format([Path("a.csv"), Path("b.txt.gz")])
('.csv.gz', 'csv')
>>> separator(".tsv.gz")
'\\t'
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from privsynth.errors import DataValidationError

#: Text tables: comma-separated unless the name says ``.tsv``.
CSV_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")
PARQUET_SUFFIXES: tuple[str, ...] = (".parquet", ".pq")
#: Every file name privsynth reads as a table.
TABLE_SUFFIXES: tuple[str, ...] = CSV_SUFFIXES + PARQUET_SUFFIXES
#: How the suffixes are named in messages.
SUFFIXES_TEXT = ".csv, .tsv, .txt (optionally .gz) or .parquet"

PathLike = str | Path
Source = PathLike | Sequence[PathLike]


def table_suffix(path: Path) -> str:
    """The table suffix of ``path`` (lower case, ``.csv.gz`` as one), or ``""`` for others.

    >>> table_suffix(Path("notes.md"))
    ''
    """
    name = path.name.lower()
    # longest first: ".csv.gz" before ".gz"-less matches cannot collide, but be explicit
    for suffix in sorted(TABLE_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return ""


def separator(suffix: str) -> str:
    """The field separator of a text table with this suffix (tab for ``.tsv``)."""
    return "\t" if suffix.startswith(".tsv") else ","


def is_path_source(data: object) -> bool:
    """True for a path, a glob, or a non-empty list of them.

    >>> is_path_source("data/*.csv"), is_path_source([]), is_path_source(3)
    (True, False, False)
    """
    if isinstance(data, str | Path):
        return True
    return (isinstance(data, list | tuple) and len(data) > 0
            and all(isinstance(x, str | Path) for x in data))


def resolve_files(source: Source) -> list[Path]:
    """The sorted files a path, directory, glob or list of them names.

    A directory contributes its files with a table suffix; a glob the files it
    matches. Nothing matching is a :class:`~privsynth.errors.DataValidationError`.
    """
    items = [source] if isinstance(source, str | Path) else list(source)
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and table_suffix(q))
        elif p.is_file():
            found = [p]
        else:
            found = sorted(Path(x) for x in glob.glob(str(item)) if Path(x).is_file())
        if not found:
            raise DataValidationError(
                f"no data file matches {str(item)!r}; check the path, directory or glob "
                f"(files named {SUFFIXES_TEXT})",
                [{"column": None, "problem": "no file", "rows": 0}])
        out.extend(found)
    return out


def file_format(files: Sequence[Path]) -> str:
    """``"csv"``, ``"tsv"`` or ``"parquet"``; the files must all be of one format."""
    kinds = set()
    for f in files:
        s = table_suffix(f)
        if not s:
            raise DataValidationError(
                f"cannot read {f}: unsupported file type {f.suffix.lower() or '(no suffix)'!r}; "
                f"use {SUFFIXES_TEXT}",
                [{"column": None, "problem": "unsupported file type", "rows": 0}])
        kinds.add("parquet" if s in PARQUET_SUFFIXES else "tsv" if s.startswith(".tsv")
                  else "csv")
    if len(kinds) != 1:
        raise DataValidationError(f"the files mix formats {sorted(kinds)}; give one format")
    return kinds.pop()


__all__ = [
    "CSV_SUFFIXES",
    "PARQUET_SUFFIXES",
    "SUFFIXES_TEXT",
    "TABLE_SUFFIXES",
    "PathLike",
    "Source",
    "file_format",
    "is_path_source",
    "resolve_files",
    "separator",
    "table_suffix",
]

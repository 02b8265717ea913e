"""Resolving a path or glob of CSV/Parquet files into an ordered list of files.

The order is the sorted file names, the same for every backend, so a row has
the same global position whichever backend reads it (see
:func:`~privsynth.backends.base.row_uniforms`).

>>> file_format([Path("a.csv"), Path("b.csv.gz")])
'csv'
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from privsynth.errors import DataValidationError

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")

#: read_csv settings: every field is text and only the schema decides what a
#: value means (as in privsynth.read_table); "" is missing after validation.
CSV_TEXT_OPTIONS: dict[str, object] = {"dtype": str, "keep_default_na": False,
                                       "na_filter": False}

PathLike = str | Path
Source = PathLike | Sequence[PathLike]


def is_path_source(data: object) -> bool:
    """True for a path, a glob, or a non-empty list of them."""
    if isinstance(data, str | Path):
        return True
    return (isinstance(data, list | tuple) and len(data) > 0
            and all(isinstance(x, str | Path) for x in data))


def resolve_files(source: Source) -> list[Path]:
    """The sorted files a path, directory, glob or list of them names."""
    items = [source] if isinstance(source, str | Path) else list(source)
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and _suffix(q))
        elif p.is_file():
            found = [p]
        else:
            found = sorted(Path(x) for x in glob.glob(str(item)) if Path(x).is_file())
        if not found:
            raise DataValidationError(f"no data file matches {str(item)!r}",
                                      [{"column": None, "problem": "no file", "rows": 0}])
        out.extend(found)
    return out


def _suffix(p: Path) -> str:
    name = p.name.lower()
    for s in CSV_SUFFIXES + PARQUET_SUFFIXES:
        if name.endswith(s):
            return s
    return ""


def file_format(files: Sequence[Path]) -> str:
    """``"csv"``, ``"tsv"`` or ``"parquet"``; the files must all be of one format."""
    kinds = set()
    for f in files:
        s = _suffix(f)
        if not s:
            raise DataValidationError(
                f"{f.name}: unknown file type; use .csv, .csv.gz, .tsv or .parquet")
        kinds.add("parquet" if s in PARQUET_SUFFIXES else s.split(".")[1])
    if len(kinds) != 1:
        raise DataValidationError(f"the files mix formats {sorted(kinds)}; give one format")
    return kinds.pop()


def require_pyarrow() -> None:
    from privsynth.errors import MissingExtraError

    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError(
            'reading Parquet files needs pyarrow: pip install "privsynth[parquet]"') from exc

"""What every command of the ``privsynth`` CLI shares: exit codes, errors, argument types,
file checks, progress lines and logging.

A command group is one module of :mod:`privsynth.cli` with a
``register(sub, common)`` function that adds its sub-parsers (with
``set_defaults(func=...)``); everything it needs from its neighbours is here.

>>> exit_code(UsageError("bad")), exit_code(ValueError("?"))
(2, 1)
>>> positive_float("0.5")
0.5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

from privsynth.errors import (
    BudgetExceededError,
    DataValidationError,
    LedgerError,
    ModelFileError,
    ParameterError,
    PrivsynthError,
    SchemaError,
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BUDGET = 3
EXIT_INVALID = 4

PROG = "privsynth"
_MAX_PROBLEMS_SHOWN = 3

#: Progress and warning lines of the commands (stderr, silenced by ``-q``).
log = logging.getLogger("privsynth.cli")

#: What ``sub.add_parser`` is called on (argparse's private class, named once here).
Subparsers = argparse._SubParsersAction


# ---------------------------------------------------------------------------
# errors and exit codes
# ---------------------------------------------------------------------------
class UsageError(Exception):
    """A command-line usage mistake (exit 2)."""


def exit_code(exc: BaseException) -> int:
    """The documented exit code for an error raised while running a command.

    >>> exit_code(BudgetExceededError("no")), exit_code(SchemaError("bad"))
    (3, 4)
    """
    from privsynth.accounting.persistent import LedgerExistsError

    if isinstance(exc, BudgetExceededError | LedgerExistsError):
        return EXIT_BUDGET
    if isinstance(exc, UsageError | ParameterError):
        return EXIT_USAGE
    if isinstance(exc, SchemaError | DataValidationError | LedgerError | ModelFileError):
        return EXIT_INVALID
    return EXIT_ERROR


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines too) made one space."""
    return " ".join(str(text).split())


def message(exc: BaseException) -> str:
    """A one-line message for ``exc`` (never the data's values: ours never hold them)."""
    if isinstance(exc, DataValidationError) and exc.problems:
        head = str(exc).splitlines()[0] if str(exc).strip() else "invalid data"
        if head.startswith("cannot read "):
            return one_line(head)  # a file problem: the message says it all
        shown = []
        for p in exc.problems[:_MAX_PROBLEMS_SHOWN]:
            col = p.get("column")
            where = f"column {col!r}: " if col is not None else ""
            rows = p.get("rows")
            count = f" ({rows} row{'s' if rows != 1 else ''})" if rows else ""
            shown.append(f"{where}{p.get('problem')}{count}")
        more = len(exc.problems) - len(shown)
        tail = f"; and {more} more" if more > 0 else ""
        hint = ""
        if ":" in head and "schema" in head:
            hint = (" (list every problem with `privsynth schema check DATA --schema SCHEMA`; "
                    "see --missing-value and --out-of-domain)")
        return one_line(f"{head.rstrip(':')}: {'; '.join(shown)}{tail}{hint}")
    return one_line(str(exc)) or type(exc).__name__


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit 2 (via main)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


# ---------------------------------------------------------------------------
# argument types
# ---------------------------------------------------------------------------
def positive_float(text: str) -> float:
    """A finite number > 0 (``--epsilon``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def delta(text: str) -> float:
    """A number in [0, 1) (``--delta``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer > 0 (``-n``, ``--rows``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def seed(text: str) -> int:
    """A non-negative integer (``--seed``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


def param(text: str) -> tuple[str, Any]:
    """``name=value`` with a JSON value (``degree=2``, ``generator_dim=[256,256]``) or text.

    >>> param("degree=2"), param("name=x y")
    (('degree', 2), ('name', 'x y'))
    """
    name, sep, raw = text.partition("=")
    if not sep or not name.strip().isidentifier():
        raise argparse.ArgumentTypeError(f"must be NAME=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return name.strip(), value


def common_options(quiet: bool = True) -> Parser:
    """Options accepted both before and after the command name."""
    p = Parser(add_help=False)
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the full traceback of errors and debug log lines")
    if quiet:
        p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                       help="only errors on stderr (no progress, log or warning lines)")
    return p


def data_options(p: argparse.ArgumentParser, *, out_of_domain: bool = True) -> None:
    """``--missing-value`` (and ``--out-of-domain``) of commands that read data."""
    p.add_argument("--missing-value", action="append", metavar="TOKEN",
                   help="text meaning 'missing' in CSV files (repeatable; default: empty field)")
    if out_of_domain:
        p.add_argument("--out-of-domain", choices=("error", "clip", "map_to_missing"),
                       default=None,
                       help="what to do with values outside the schema's domains (default: "
                            "error; clip for a schema estimated with DP, whose bounds leave "
                            "about 1 %% of values outside by construction)")


def missing_tokens(args: argparse.Namespace) -> tuple[str, ...]:
    """The ``--missing-value`` tokens (default: the empty field)."""
    return tuple(getattr(args, "missing_value", None) or ("",))


# ---------------------------------------------------------------------------
# progress and logging
# ---------------------------------------------------------------------------
class Progress:
    """Step lines on the ``privsynth.cli`` logger: ``[2/5] fitting ...`` then ``done in 1.2 s``."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.i = 0

    @contextlib.contextmanager
    def step(self, text: str) -> Iterator[None]:
        self.i += 1
        start = time.perf_counter()
        log.info("[%d/%d] %s ...", self.i, self.total, text)
        yield
        log.info("      done in %.1f s", time.perf_counter() - start)

    def note(self, text: str) -> None:
        log.info("%s", text)


class _StderrHandler(logging.Handler):
    """Writes to the *current* ``sys.stderr`` (so redirections and test capture work)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream: TextIO = sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    log.warning("%s: warning: %s", PROG, one_line(str(message)))


@contextlib.contextmanager
def cli_logging(*, quiet: bool, debug: bool) -> Iterator[None]:
    """Route the ``privsynth.*`` loggers and Python warnings to stderr for one command.

    Default: info and above (progress, engine and accountant log lines,
    warnings as ``privsynth: warning: ...``); ``-q``: errors only;
    ``--debug``: everything, with the logger's name. The previous logging
    state is restored afterwards (the CLI may be called from Python).
    """
    top = logging.getLogger("privsynth")
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s" if debug else "%(message)s"))
    saved = top.level, top.propagate
    top.addHandler(handler)
    top.setLevel(logging.ERROR if quiet else logging.DEBUG if debug else logging.INFO)
    top.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            yield
    finally:
        top.removeHandler(handler)
        top.setLevel(saved[0])
        top.propagate = saved[1]


# ---------------------------------------------------------------------------
# files, schemas, engines
# ---------------------------------------------------------------------------
def note_unrefunded(exc: BaseException, acct: Any, before: int, ledger: object) -> None:
    """Add to a failed spending command's error what it had already charged (never refunded)."""
    if len(acct.ledger) > before and not isinstance(exc, KeyboardInterrupt):
        spent = acct.spent([e.event for e in acct.ledger.entries[before:]])
        exc.add_note(f"epsilon {spent.epsilon:.4g} was already charged to {ledger} "
                     "and is not refunded")


def claim_scope(record: Any) -> str:
    """What a printed claim adds when the fit is not end-to-end DP (rule 2), else "".

    >>> class R: end_to_end_dp = True
    >>> claim_scope(R())
    ''
    """
    if record.end_to_end_dp:
        return ""
    return " for the model's noise only (NOT end-to-end DP: a schema read from the data)"


def plural(n: int, word: str) -> str:
    """``plural(1, "release")`` is ``1 release``; otherwise ``n releases``.

    >>> plural(2, "spend")
    '2 spends'
    """
    return f"{n} {word}{'' if n == 1 else 's'}"


def utc_now() -> str:
    """The time now, ``2026-01-02T03:04:05Z`` (release ids)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def need_file(path: str, what: str, error: type[PrivsynthError]) -> Path:
    """``path`` as a Path if it is an existing file, else ``error`` naming ``what``."""
    p = Path(path)
    if not p.exists():
        raise error(f"{what} not found: {p}")
    if p.is_dir():
        raise error(f"{what} {p} is a directory, not a file")
    return p


def output_path(path: str, what: str) -> Path:
    """Check, before anything is spent, that ``path`` can be written."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{what} {p} is a directory; give a file name")
    if not p.parent.is_dir():
        raise UsageError(f"the folder of {what} {p} does not exist; create it first")
    if not os.access(p.parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise UsageError(f"{what} {p} cannot be written (no permission); choose another place")
    return p


def table_output(path: str, what: str) -> Path:
    """An output table: writable, with a suffix privsynth reads (.csv, .tsv, .parquet...)."""
    from privsynth.io.formats import SUFFIXES_TEXT, TABLE_SUFFIXES, table_suffix

    p = output_path(path, what)
    if table_suffix(p) not in TABLE_SUFFIXES:
        raise UsageError(f"{what} {p}: unsupported file type; name it {SUFFIXES_TEXT}")
    return p


def paid_output(path: str, what: str) -> Path:
    """An output of a command that spends budget: writable, and not there yet.

    Checked before the ledger is charged, so that a paid-for result is never
    lost to a typo and never silently replaces an earlier one.
    """
    p = output_path(path, what)
    if p.exists():
        raise UsageError(
            f"refused: {what} {p} already exists, and this command spends privacy budget, so "
            "it never overwrites its output; choose another name, or move the old file away "
            "first (nothing was spent)")
    return p


def used_releases(acct: Any) -> set[str]:
    """The release ids already recorded in a ledger."""
    return {e.release for e in acct.ledger if e.release}


def check_new_release(acct: Any, release: str, ledger: str) -> None:
    """Refuse a release id already in the ledger (two fits would merge into one release)."""
    if release in used_releases(acct):
        raise UsageError(
            f"refused: the release id {release!r} is already recorded in {ledger}; every "
            "release needs its own id (a reused id would merge two releases into one); choose "
            "another --release (nothing was spent)")


def load_schema(path: str) -> Any:
    """The schema in the JSON file ``path`` (SchemaError if missing or invalid)."""
    from privsynth.schema import Schema

    return Schema.from_json(need_file(path, "schema file", SchemaError))


def read_data(path: str, what: str, **kwargs: Any) -> Any:
    """``read_table`` of the file ``path``; errors name it as ``what`` (e.g. "holdout data file").

    A file that cannot be read raises a DataValidationError naming the file;
    data that does not match the schema one that says which input it is.
    """
    from privsynth import io

    data_path = need_file(path, what, DataValidationError)
    try:
        return io.read_table(data_path, **kwargs)
    except DataValidationError as exc:
        if str(exc).startswith("cannot read "):
            raise
        raise DataValidationError(f"{what} {data_path}: {exc}", problems=exc.problems) from exc


def write_output(df: Any, path: Path, na_rep: str = "",
                 column_na_rep: dict[str, str] | None = None) -> None:
    """Write the table ``df`` to ``path`` (CSV, TSV or Parquet by suffix), atomically."""
    from privsynth.io.write import write_table

    write_table(df, path, na_rep=na_rep, column_na_rep=column_na_rep)


def make_engine(name: str, params: Sequence[tuple[str, Any]]) -> Any:
    """An unfitted engine ``name`` with the ``--param`` values."""
    from privsynth import engines

    cls = engines.get(name)  # ParameterError for unknown names
    kwargs = dict(params)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        import inspect

        allowed = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        raise ParameterError(
            f"engine {name!r} does not take the parameter(s) {sorted(kwargs)}; allowed: "
            f"{allowed}") from exc


def risk_options(args: argparse.Namespace) -> dict[str, Any] | None:
    """``risk_options`` of ``report.audit`` from ``--max-records``."""
    return None if args.max_records is None else {"max_records": args.max_records}


def import_report() -> Any:
    """:mod:`privsynth.report`, or a clear error if this installation lacks it."""
    try:
        from privsynth import report
    except ImportError as exc:
        raise PrivsynthError(f"the audit report module is not available in this installation "
                             f"(privsynth.report: {exc})") from exc
    if not hasattr(report, "audit"):
        raise PrivsynthError("the audit report module is not available in this installation "
                             "(privsynth.report has no audit())")
    return report

"""The ``privsynth`` command line: a data steward's release workflow from the shell.

Commands (``privsynth COMMAND --help`` for each)::

    privsynth demo     [--epsilon 1.0] [--engine privbayes] [--out DIR] [--rows N]
                       [--train-rows N] [--max-records N] [--no-attacks] [--seed S]
    privsynth budget   init LEDGER --epsilon E [--delta D] | show LEDGER
    privsynth schema   infer DATA --out SCHEMA (--unsafe | --dp --epsilon E --ledger L)
                       | check [DATA] --schema SCHEMA
    privsynth fit      DATA --schema SCHEMA --engine NAME --epsilon E --ledger LEDGER --out MODEL
    privsynth sample   MODEL -n N --out SYNTH.csv [--seed S] [--where COLUMN=VALUE ...]
    privsynth audit    --real R --synthetic S [--holdout H] [--model M] [--ledger L]
                       --out REPORT.html [--json REPORT.json] [--public]

Exit codes: 0 success; 1 other error; 2 usage error (bad option or value);
3 budget refused; 4 invalid input (data, schema, ledger or model file missing,
unreadable, tampered with or not matching). Errors are one line on stderr
starting with ``privsynth: error:``; ``--debug`` adds the traceback.

>>> main(["--version"])  # doctest: +ELLIPSIS
privsynth ...
0
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
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

_PROG = "privsynth"
_MAX_PROBLEMS_SHOWN = 3


# ---------------------------------------------------------------------------
# errors and exit codes
# ---------------------------------------------------------------------------
class _UsageError(Exception):
    """A command-line usage mistake (exit 2)."""


def exit_code(exc: BaseException) -> int:
    """The documented exit code for an error raised while running a command.

    >>> exit_code(BudgetExceededError("no")), exit_code(SchemaError("bad"))
    (3, 4)
    """
    from privsynth.accounting.persistent import LedgerExistsError

    if isinstance(exc, BudgetExceededError | LedgerExistsError):
        return EXIT_BUDGET
    if isinstance(exc, _UsageError | ParameterError):
        return EXIT_USAGE
    if isinstance(exc, SchemaError | DataValidationError | LedgerError | ModelFileError):
        return EXIT_INVALID
    return EXIT_ERROR


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _message(exc: BaseException) -> str:
    """A one-line message for ``exc`` (never the data's values: ours never hold them)."""
    if isinstance(exc, DataValidationError) and exc.problems:
        head = str(exc).splitlines()[0] if str(exc).strip() else "invalid data"
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
        return _one_line(f"{head.rstrip(':')}: {'; '.join(shown)}{tail}{hint}")
    return _one_line(str(exc)) or type(exc).__name__


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit 2 (via main)."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see `{self.prog} --help`)")


# ---------------------------------------------------------------------------
# argument types
# ---------------------------------------------------------------------------
def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _delta(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


def _param(text: str) -> tuple[str, Any]:
    """``name=value`` with a JSON value (``degree=2``, ``generator_dim=[256,256]``) or text."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip().isidentifier():
        raise argparse.ArgumentTypeError(f"must be NAME=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return name.strip(), value


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------
class _Progress:
    """Step lines on stderr: ``[2/5] fitting ...`` then ``      done in 1.2 s``."""

    def __init__(self, total: int, quiet: bool, stream: TextIO | None = None) -> None:
        self.total = total
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.i = 0

    @contextlib.contextmanager
    def step(self, text: str) -> Iterator[None]:
        self.i += 1
        start = time.perf_counter()
        self._say(f"[{self.i}/{self.total}] {text} ...")
        yield
        self._say(f"      done in {time.perf_counter() - start:.1f} s")

    def note(self, text: str) -> None:
        self._say(text)

    def _say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)


def _plural(n: int, word: str) -> str:
    """``_plural(1, "release")`` is ``1 release``; otherwise ``n releases``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _need_file(path: str, what: str, error: type[PrivsynthError]) -> Path:
    p = Path(path)
    if not p.exists():
        raise error(f"{what} not found: {p}")
    if p.is_dir():
        raise error(f"{what} {p} is a directory, not a file")
    return p


def _output_path(path: str, what: str) -> Path:
    """Check, before anything is spent, that ``path`` can be written."""
    p = Path(path)
    if p.is_dir():
        raise _UsageError(f"{what} {p} is a directory; give a file name")
    if not p.parent.is_dir():
        raise _UsageError(f"the folder of {what} {p} does not exist; create it first")
    return p


def _load_schema(path: str) -> Any:
    from privsynth.schema import Schema

    return Schema.from_json(_need_file(path, "schema file", SchemaError))


def _write_csv(df: Any, path: Path) -> None:
    from privsynth._modelfile import atomic_write_text

    atomic_write_text(path, df.to_csv(index=False))


def _make_engine(name: str, params: Sequence[tuple[str, Any]]) -> Any:
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


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.4g}"
    return str(value)


def _summary_lines(summary: dict[str, Any], spent: Any, budget: float) -> list[str]:
    """Headline lines of a report summary; unknown keys are listed as they are."""
    def get(key: str) -> Any:
        return summary.pop(key, None)

    def num(value: Any) -> str:
        return "not measured" if value is None else _fmt(value)

    for key in ("release_id", "epsilon", "delta", "method"):
        get(key)
    tvd1, tvd2, tstr = get("tvd1"), get("tvd2"), get("tstr_auc")
    auc, lower = get("max_attack_auc"), get("max_epsilon_lower_bound")
    fail, warn = get("hazards_fail"), get("hazards_warn")
    lines = [
        f"{'privacy':<10} epsilon {spent.epsilon:.4g} of {budget:g} spent (delta "
        f"{spent.delta:g}, composed by {spent.method}); privacy unit: one person's row",
        f"{'fidelity':<10} tvd1 {num(tvd1)}, tvd2 {num(tvd2)} (mean total variation distance "
        "of 1- and 2-way marginals; 0 is identical)",
        f"{'utility':<10} TSTR AUC {num(tstr)} (trained on synthetic, tested on real rows)",
        f"{'attacks':<10} "
        + ("not run" if auc is None else
           f"best membership-attack AUC {num(auc)} (0.5 is guessing); empirical epsilon "
           f"lower bound {num(lower)}"),
    ]
    if fail is not None or warn is not None:
        lines.append(f"{'hazards':<10} {num(fail)} fail, {num(warn)} warn (see the report)")
    lines += [f"{key:<10} {_fmt(value)}" for key, value in _flatten(summary)]
    return lines


def _flatten(summary: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(summary, dict):
        out: list[tuple[str, Any]] = []
        for k, v in summary.items():
            out += _flatten(v, f"{prefix}{k}." if isinstance(v, dict) else f"{prefix}{k}")
        return out
    return [(prefix.rstrip("."), summary)]


# ---------------------------------------------------------------------------
# budget
# ---------------------------------------------------------------------------
def _cmd_budget_init(args: argparse.Namespace) -> int:
    from privsynth.accounting.persistent import FileAccountant, LedgerExistsError, read_ledger

    path = _output_path(args.ledger, "ledger")
    overwrite = False
    if path.exists() and args.overwrite:
        # Only an unused ledger may be replaced: forgetting spends would refund them.
        old = read_ledger(path)
        if len(old.ledger):
            raise LedgerExistsError(
                f"refused: the ledger {path} already records "
                f"{_plural(len(old.ledger), 'spend')}; a data set has one budget forever, so it "
                "is never reset")
        overwrite = True
    acct = FileAccountant.init(path, args.epsilon, args.delta, overwrite=overwrite)
    print(f"created ledger {path}: total budget epsilon {acct.epsilon:g}, delta {acct.delta:g}")
    return EXIT_OK


def _release_rows(acct: Any) -> list[dict[str, Any]]:
    from privsynth.accounting import compose

    groups: dict[str, list[Any]] = {}
    for entry in acct.ledger:
        groups.setdefault(entry.release or "(no release id)", []).append(entry)
    rows = []
    for release, entries in groups.items():
        cost = compose([e.event for e in entries], acct.delta)
        rows.append({"release": release, "events": len(entries), "epsilon": cost.epsilon,
                     "delta": cost.delta, "first": entries[0].timestamp,
                     "insecure_noise": any(e.reproducible_noise for e in entries)})
    return rows


def _cmd_budget_show(args: argparse.Namespace) -> int:
    from privsynth.accounting.persistent import read_ledger

    acct = read_ledger(args.ledger)
    spent, left = acct.spent(), acct.remaining()
    rows = _release_rows(acct)
    if args.json:
        print(json.dumps({
            "ledger": str(args.ledger),
            "budget": {"epsilon": acct.epsilon, "delta": acct.delta},
            "spent": {"epsilon": spent.epsilon, "delta": spent.delta, "method": spent.method},
            "remaining": {"epsilon": left.epsilon},
            "releases": rows,
            "entries": acct.ledger.to_dict() if args.entries else None,
        }, indent=2))
        return EXIT_OK
    print(f"ledger     {args.ledger}")
    print(f"budget     epsilon {acct.epsilon:g}, delta {acct.delta:g}")
    print(f"spent      epsilon {spent.epsilon:.6g}, delta {spent.delta:g} (composed by "
          f"{spent.method}) over {_plural(len(acct.ledger), 'event')} in "
          f"{_plural(len(rows), 'release')}")
    print(f"remaining  epsilon {left.epsilon:.6g}")
    if rows:
        width = max(len("release"), *(len(r["release"]) for r in rows))
        print()
        print(f"{'release':<{width}}  {'events':>6}  {'epsilon':>9}  first spend (UTC)")
        for r in rows:
            flag = "  INSECURE TEST NOISE" if r["insecure_noise"] else ""
            print(f"{r['release']:<{width}}  {r['events']:>6}  {r['epsilon']:>9.4g}  "
                  f"{r['first']}{flag}")
    if args.entries and len(acct.ledger):
        print()
        for e in acct.ledger:
            print(f"{e.timestamp}  {e.event.describe()}  {e.label}")
    return EXIT_OK


# ---------------------------------------------------------------------------
# schema
# ---------------------------------------------------------------------------
def _coarse_spec(path: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse a coarse-range file: ``{"age": [0, 150], "when": {"kind": "datetime", ...}}``."""
    p = _need_file(path, "coarse-range file", SchemaError)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaError(f"coarse-range file {p} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SchemaError(f"coarse-range file {p} must hold a JSON object of column -> range")
    coarse: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    for name, spec in data.items():
        kind = None
        if isinstance(spec, dict):
            kind, spec = spec.get("kind"), spec.get("range")
            if not isinstance(kind, str):
                raise SchemaError(f"coarse-range file {p}: column {name!r} needs a 'kind'")
        if spec is not None:
            if not isinstance(spec, list) or len(spec) not in (2, 3):
                raise SchemaError(f"coarse-range file {p}: the range of {name!r} must be "
                                  "[lower, upper] (datetimes: [start, end, resolution?])")
            if kind is None:
                if all(isinstance(v, str) for v in spec):
                    kind = "datetime"
                elif all(isinstance(v, int) and not isinstance(v, bool) for v in spec):
                    kind = "integer"
                else:
                    kind = "float"
            coarse[name] = tuple(spec)
        if kind is not None:
            kinds[name] = kind
    return coarse, kinds


def _cmd_schema_infer(args: argparse.Namespace) -> int:
    from privsynth._modelfile import atomic_write_text
    from privsynth.io import read_table

    if args.unsafe == args.dp:
        raise _UsageError("schema infer needs exactly one of --dp (differentially private, "
                          "spends budget) or --unsafe (reads domains from the data, NOT private)")
    out = _output_path(args.out, "schema output")
    data_path = _need_file(args.data, "data file", DataValidationError)
    missing = tuple(args.missing_value or ("",))
    if args.unsafe:
        from privsynth.validation import infer_unsafe

        print("privsynth: warning: --unsafe reads category lists and bounds from the data "
              "itself, WITHOUT differential privacy; anything released with this schema reveals "
              "them. Prefer a public schema or --dp.", file=sys.stderr)
        df = read_table(data_path, missing_values=missing)
        schema = infer_unsafe(df, warn=False, max_categories=args.max_categories)
        atomic_write_text(out, schema.to_json() + "\n")
        print(f"wrote {out}: {len(schema.columns)} columns (source: data, NOT DP)")
        return EXIT_OK

    if args.epsilon is None or args.ledger is None:
        raise _UsageError("schema infer --dp needs --epsilon and --ledger")
    try:
        from privsynth._infer_dp import infer_dp
    except ImportError as exc:
        raise PrivsynthError(
            "schema infer --dp is not available in this installation (privsynth._infer_dp "
            f"cannot be imported: {exc})") from exc
    from privsynth.accounting.persistent import FileAccountant, read_ledger

    coarse, kinds = _coarse_spec(args.coarse) if args.coarse else ({}, {})
    read_ledger(args.ledger)  # fail closed before reading the data
    df = read_table(data_path, missing_values=missing)
    release = args.release or f"schema:{out.name}@{_utc_now()}"
    with FileAccountant.locked(args.ledger, lock_timeout=args.lock_timeout,
                               release=release) as acct:
        schema = infer_dp(df, epsilon=args.epsilon, accountant=acct, coarse=coarse,
                          kinds=kinds, max_categories=args.max_categories)
        left = acct.remaining().epsilon
    atomic_write_text(out, schema.to_json() + "\n")
    print(f"wrote {out}: {len(schema.columns)} columns (source: dp); spent epsilon "
          f"{args.epsilon:g}, remaining epsilon {left:.4g} in {args.ledger}")
    return EXIT_OK


def _cmd_schema_check(args: argparse.Namespace) -> int:
    from privsynth.io import read_table
    from privsynth.validation import validate

    schema = _load_schema(args.schema)
    print(f"schema {args.schema}: {len(schema.columns)} columns, source {schema.source!r}")
    if args.data is None:
        return EXIT_OK
    data_path = _need_file(args.data, "data file", DataValidationError)
    missing = tuple(args.missing_value or ("",))
    try:
        raw = read_table(data_path, missing_values=())
        validate(raw, schema, missing_values=missing, on_out_of_domain=args.out_of_domain)
    except DataValidationError as exc:
        print(f"{args.data} does not match the schema ({len(exc.problems)} problems; counts "
              "only, values are never shown):")
        for p in exc.problems:
            col = p.get("column")
            print(f"  - {'column ' + repr(col) if col is not None else 'file'}: "
                  f"{p.get('problem')} ({p.get('rows')} rows)")
        raise
    print(f"{args.data} matches the schema")
    return EXIT_OK


# ---------------------------------------------------------------------------
# fit, sample, audit
# ---------------------------------------------------------------------------
def _cmd_fit(args: argparse.Namespace) -> int:
    from privsynth.accounting import PureDPEvent
    from privsynth.accounting.persistent import FileAccountant, read_ledger
    from privsynth.io import read_table

    progress = _Progress(3, args.quiet)
    model = _make_engine(args.engine, args.param or ())
    out = _output_path(args.out, "model output")
    schema = _load_schema(args.schema)
    # Fail closed on a bad ledger, and refuse an overspend, before the data is read. The
    # engine checks again (and charges) under the lock: another process may spend meanwhile.
    read_ledger(args.ledger).check([PureDPEvent(args.epsilon, mechanism=args.engine)],
                                   label=f"fit {args.engine}")
    data_path = _need_file(args.data, "data file", DataValidationError)
    with progress.step(f"reading and validating {data_path.name}"):
        data = read_table(data_path, schema=schema,
                          missing_values=tuple(args.missing_value or ("",)),
                          on_out_of_domain=args.out_of_domain)
    release = args.release or f"{out.name}@{_utc_now()}"
    kwargs: dict[str, Any] = {} if args.delta is None else {"delta": args.delta}
    with progress.step(f"fitting {args.engine} (epsilon {args.epsilon:g}); the ledger is "
                       "charged before any noise is drawn"), \
            FileAccountant.locked(args.ledger, lock_timeout=args.lock_timeout,
                                  release=release) as acct:
        before = len(acct.ledger)
        try:
            model.fit(data, schema=schema, epsilon=args.epsilon, accountant=acct, **kwargs)
        except BaseException as exc:
            if len(acct.ledger) > before and not isinstance(exc, KeyboardInterrupt):
                spent = acct.spent([e.event for e in acct.ledger.entries[before:]])
                exc.add_note(f"epsilon {spent.epsilon:.4g} was already charged to {args.ledger} "
                             "and is not refunded")
            raise
        total, left = acct.spent(), acct.remaining()
    with progress.step(f"writing {out.name}"):
        model.save(out)
    print(f"fitted {args.engine}: release {release!r} spent epsilon {args.epsilon:g}; ledger "
          f"{args.ledger} now at epsilon {total.epsilon:.4g} of {acct.epsilon:g} (remaining "
          f"{left.epsilon:.4g}); model written to {out}")
    return EXIT_OK


def _where_pair(text: str) -> tuple[str, str]:
    """``COLUMN=VALUE`` of ``sample --where`` (the value is converted once the schema is known)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"must be COLUMN=VALUE, got {text!r}")
    return name.strip(), value


_TRUE = frozenset({"true", "yes", "1", "t", "y"})
_FALSE = frozenset({"false", "no", "0", "f", "n"})


def _condition_value(col: Any, text: str) -> Any:
    """Text of a ``--where`` value as the column's kind; an empty value means missing."""
    from privsynth.schema import BooleanColumn, FloatColumn, IntegerColumn

    if text == "":
        return None
    if isinstance(col, BooleanColumn):
        low = text.strip().lower()
        if low in _TRUE | _FALSE:
            return low in _TRUE
        raise _UsageError(f"--where {col.name}=...: column {col.name!r} is boolean; use true "
                          "or false")
    if isinstance(col, IntegerColumn | FloatColumn):
        try:
            number = float(text)
        except ValueError:
            raise _UsageError(f"--where {col.name}=...: column {col.name!r} is numeric; give a "
                              f"number, got {text!r}") from None
        return int(number) if isinstance(col, IntegerColumn) and number.is_integer() else number
    return text  # categories are strings; datetimes are ISO 8601 text


def _conditions(pairs: Sequence[tuple[str, str]], schema: Any) -> dict[str, Any]:
    """The ``--where`` options as ``{column: value}`` typed by the model's public schema."""
    cond: dict[str, Any] = {}
    for name, text in pairs:
        if name not in schema.names:
            raise _UsageError(f"--where: the model has no column {name!r}; its columns are "
                              f"{list(schema.names)}")
        if name in cond:
            raise _UsageError(f"--where: column {name!r} is given more than once")
        cond[name] = _condition_value(schema[name], text)
    return cond


def _accepts_conditions(model: Any) -> bool:
    import inspect

    try:
        params = inspect.signature(model.sample).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False
    return "conditions" in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _cmd_sample(args: argparse.Namespace) -> int:
    from privsynth import engines
    from privsynth.errors import ConstraintError

    path = _need_file(args.model, "model file", ModelFileError)
    out = _output_path(args.out, "output")
    model = engines.load_model(path)
    kwargs: dict[str, Any] = {}
    if args.where:
        if not _accepts_conditions(model):
            raise _UsageError(f"--where: the {type(model).__name__} engine of this privsynth "
                              "version cannot sample with conditions; leave out --where")
        kwargs["conditions"] = _conditions(args.where, model.schema_)
    try:
        df = model.sample(args.n, random_state=args.seed, **kwargs)
    except ConstraintError as exc:
        if not args.where:
            raise
        # the conditions asked for are impossible or invalid: a usage mistake
        raise _UsageError(f"--where: {_one_line(str(exc))}") from exc
    _write_csv(df, out)
    where = f" where {', '.join(f'{k}={v}' for k, v in args.where)}" if args.where else ""
    print(f"wrote {len(df)} synthetic rows{where} to {out} (sampling is post-processing: no "
          "privacy cost)")
    return EXIT_OK


def _risk_options(args: argparse.Namespace) -> dict[str, Any] | None:
    return None if args.max_records is None else {"max_records": args.max_records}


def _import_report() -> Any:
    try:
        from privsynth import report
    except ImportError as exc:
        raise PrivsynthError(f"the audit report module is not available in this installation "
                             f"(privsynth.report: {exc})") from exc
    if not hasattr(report, "audit"):
        raise PrivsynthError("the audit report module is not available in this installation "
                             "(privsynth.report has no audit())")
    return report


def _cmd_audit(args: argparse.Namespace) -> int:
    from privsynth import engines
    from privsynth.accounting.persistent import read_ledger
    from privsynth.io import read_table

    if args.schema is None and args.model is None:
        raise _UsageError("audit needs the public schema: give --schema or --model")
    out = _output_path(args.out, "report output")
    json_out = _output_path(args.json, "JSON report output") if args.json else None
    report_mod = _import_report()
    model = engines.load_model(_need_file(args.model, "model file", ModelFileError)) \
        if args.model else None
    schema = _load_schema(args.schema) if args.schema else model.schema_  # type: ignore[union-attr]
    accountant = read_ledger(args.ledger) if args.ledger else None
    missing = tuple(args.missing_value or ("",))

    def read(path: str, what: str) -> Any:
        return read_table(_need_file(path, what, DataValidationError), schema=schema,
                          missing_values=missing)

    progress = _Progress(3, args.quiet)
    with progress.step("reading the real, synthetic and holdout tables"):
        real = read(args.real, "real data file")
        synthetic = read(args.synthetic, "synthetic data file")
        holdout = read(args.holdout, "holdout data file") if args.holdout else None
    with progress.step("measuring utility" + ("" if args.no_attacks else
                                              " and running membership attacks")):
        rep = report_mod.audit(
            real, synthetic, schema=schema, holdout=holdout, model=model, accountant=accountant,
            target=args.target, synthetic_path=args.synthetic, model_path=args.model,
            release_id=args.release, attacks=not args.no_attacks, random_state=args.seed,
            risk_options=_risk_options(args))
    edition = "public" if args.public else "steward's"
    with progress.step(f"writing {out.name}" + (f" and {json_out.name}" if json_out else "")):
        rep.to_html(out, public=args.public)
        if json_out is not None:
            rep.to_json(json_out, public=args.public)
    print(f"wrote the {edition} edition of the report: {out}"
          + (f" and {json_out}" if json_out else ""))
    return EXIT_OK


# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------
def _cmd_demo(args: argparse.Namespace) -> int:
    from privsynth._modelfile import atomic_write_text
    from privsynth.accounting.persistent import FileAccountant
    from privsynth.datasets import adult_schema, load_adult

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise _UsageError(f"--out {out} exists and is not a folder")
    model = _make_engine(args.engine, args.param or ())
    report_mod = _import_report()
    out.mkdir(parents=True, exist_ok=True)
    files = {name: out / name for name in ("schema.json", "ledger.json", "synthetic.csv",
                                           f"model.{args.engine}.json", "audit.html",
                                           "audit.json")}
    progress = _Progress(5, args.quiet)
    # DP-SGD is (epsilon, delta)-DP: delta far below 1/n for the 32,561 training rows.
    delta = 1e-6 if args.engine != "privbayes" else 0.0

    with progress.step("writing the public Adult schema and a new ledger with total epsilon "
                       f"{args.epsilon:g}"):
        schema = adult_schema()
        atomic_write_text(files["schema.json"], schema.to_json() + "\n")
        if files["ledger.json"].exists():
            progress.note(f"      (replacing the demo ledger {files['ledger.json']})")
        FileAccountant.init(files["ledger.json"], args.epsilon, delta, overwrite=True)
    release = f"demo-{args.engine}@{_utc_now()}"
    with progress.step(f"fitting {args.engine} on the bundled Adult training split "
                       f"(epsilon {args.epsilon:g})"):
        train = load_adult("train")
        if args.train_rows is not None:
            # a fixed, data-independent subset (the first rows): quicker trials, same DP unit
            train = train.iloc[:args.train_rows].reset_index(drop=True)
        with FileAccountant.locked(files["ledger.json"], release=release) as acct:
            model.fit(train, schema=schema, epsilon=args.epsilon, accountant=acct)
            spent = acct.spent()
        model.save(files[f"model.{args.engine}.json"])
    n_rows = args.rows if args.rows is not None else max(1, round(model.n_hat_))
    with progress.step(f"sampling {n_rows:,} synthetic rows"):
        synth = model.sample(n_rows, random_state=args.seed)
        _write_csv(synth, files["synthetic.csv"])
    attacks = "without" if args.no_attacks else "with"
    with progress.step(f"auditing against the bundled Adult test split ({attacks} membership "
                       "attacks)"):
        test = load_adult("test")
        rep = report_mod.audit(
            train, synth, schema=schema, holdout=test, model=model, accountant=acct,
            target="income", synthetic_path=files["synthetic.csv"],
            model_path=files[f"model.{args.engine}.json"], release_id=release,
            attacks=not args.no_attacks, risk_options=_risk_options(args),
            random_state=args.seed if args.seed is not None else 0)
    with progress.step("writing audit.html and audit.json"):
        rep.to_html(files["audit.html"])
        rep.to_json(files["audit.json"])

    summary = dict(rep.summary()) if hasattr(rep, "summary") else {}
    print(f"privsynth demo: {args.engine} on UCI Adult, release {release}")
    for line in _summary_lines(summary, spent, args.epsilon):
        print(f"  {line}")
    print(f"  {'files':<10} {out}{os.sep}: {', '.join(p.name for p in files.values())}")
    print(f"  {'next':<10} open {files['audit.html']} in a browser; "
          f"privsynth budget show {files['ledger.json']}")
    return EXIT_OK


# ---------------------------------------------------------------------------
# the parser
# ---------------------------------------------------------------------------
def _common(quiet: bool = True) -> _Parser:
    """Options accepted both before and after the command name."""
    p = _Parser(add_help=False)
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the full traceback of errors")
    if quiet:
        p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                       help="no progress lines on stderr")
    return p


def _data_options(p: argparse.ArgumentParser, *, out_of_domain: bool = True) -> None:
    p.add_argument("--missing-value", action="append", metavar="TOKEN",
                   help="text meaning 'missing' in CSV files (repeatable; default: empty field)")
    if out_of_domain:
        p.add_argument("--out-of-domain", choices=("error", "clip", "map_to_missing"),
                       default="error",
                       help="what to do with values outside the schema's domains (default: "
                            "error)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``privsynth`` command."""
    from privsynth._version import __version__

    common = _common()
    parser = _Parser(
        prog=_PROG, parents=[common],
        description="Differentially private synthetic data with an auditable privacy ledger.",
        epilog="Exit codes: 0 success, 1 other error, 2 usage error, 3 budget refused, "
               "4 invalid data, schema, ledger or model file.")
    parser.add_argument("--version", action="version", version=f"{_PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    # demo
    p = sub.add_parser("demo", parents=[common], help="the whole workflow on the bundled Adult",
                       description="Fit, sample and audit on the bundled UCI Adult data.")
    p.add_argument("--epsilon", type=_positive_float, default=1.0,
                   help="total privacy budget of the demo (default 1.0)")
    p.add_argument("--engine", default="privbayes",
                   help="privbayes (default) or dpctgan (needs the gan extra)")
    p.add_argument("--out", default="privsynth-demo",
                   help="output folder (default ./privsynth-demo)")
    p.add_argument("--rows", type=_positive_int, help="synthetic rows (default: the model's "
                   "noisy row count)")
    p.add_argument("--train-rows", type=_positive_int, metavar="N",
                   help="fit on the first N rows of the training split only (quicker trials; "
                        "default: all 32,561)")
    p.add_argument("--seed", type=_seed, help="seed of the sampling only (never of the "
                   "privacy noise)")
    p.add_argument("--no-attacks", action="store_true", help="skip the membership attacks")
    p.add_argument("--max-records", type=_positive_int, metavar="N",
                   help="records per side used by the attacks (default 5000; smaller is faster)")
    p.add_argument("--param", type=_param, action="append", metavar="NAME=VALUE",
                   help="engine parameter (repeatable), e.g. --param degree=2")
    p.set_defaults(func=_cmd_demo)

    # budget
    p = sub.add_parser("budget", parents=[common], help="create or show a ledger",
                       description="The persistent privacy budget of one data set.")
    bsub = p.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    q = bsub.add_parser("init", parents=[common], help="create a ledger with its total budget")
    q.add_argument("ledger", metavar="LEDGER")
    q.add_argument("--epsilon", type=_positive_float, required=True,
                   help="total epsilon for everything ever released from this data set")
    q.add_argument("--delta", type=_delta, default=0.0,
                   help="total delta (default 0; DP-CTGAN needs e.g. 1e-6)")
    q.add_argument("--overwrite", action="store_true",
                   help="replace an existing ledger that records no spends")
    q.set_defaults(func=_cmd_budget_init)
    q = bsub.add_parser("show", parents=[common], help="total budget, spends and remaining")
    q.add_argument("ledger", metavar="LEDGER")
    q.add_argument("--entries", action="store_true", help="also list every ledger entry")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=_cmd_budget_show)

    # schema
    p = sub.add_parser("schema", parents=[common], help="infer or check a schema",
                       description="Schemas hold the public domains of the columns.")
    ssub = p.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    q = ssub.add_parser("infer", parents=[common], help="write a schema from data")
    q.add_argument("data", metavar="DATA")
    q.add_argument("--out", required=True, metavar="SCHEMA.json", help="the schema file to write")
    q.add_argument("--unsafe", action="store_true",
                   help="read domains from the data WITHOUT differential privacy")
    q.add_argument("--dp", action="store_true", help="estimate domains with DP (spends budget)")
    q.add_argument("--epsilon", type=_positive_float, help="budget for --dp")
    q.add_argument("--ledger", help="ledger charged by --dp")
    q.add_argument("--coarse", metavar="COARSE.json",
                   help="public coarse ranges of numeric columns for --dp, e.g. "
                        '{"age": [0, 150]}')
    q.add_argument("--max-categories", type=_positive_int, default=200, metavar="N",
                   help="most categories kept per column (default 200)")
    q.add_argument("--release", help="release id recorded in the ledger")
    q.add_argument("--lock-timeout", type=_positive_float, default=300.0, metavar="SECONDS",
                   help="how long to wait for another process using the ledger (default 300)")
    _data_options(q, out_of_domain=False)
    q.set_defaults(func=_cmd_schema_infer)
    q = ssub.add_parser("check", parents=[common], help="check a schema, and data against it")
    q.add_argument("data", metavar="DATA", nargs="?", help="a CSV or Parquet file (optional)")
    q.add_argument("--schema", required=True, metavar="SCHEMA.json", help="the schema to check")
    _data_options(q)
    q.set_defaults(func=_cmd_schema_check)

    # fit
    p = sub.add_parser("fit", parents=[common], help="fit a DP model, charging the ledger",
                       description="Fit a synthesizer on DATA with differential privacy.")
    p.add_argument("data", metavar="DATA", help="the private table (CSV or Parquet)")
    p.add_argument("--schema", required=True, metavar="SCHEMA.json", help="the public schema")
    p.add_argument("--engine", default="privbayes", help="privbayes (default) or dpctgan")
    p.add_argument("--epsilon", type=_positive_float, required=True, help="epsilon of this fit")
    p.add_argument("--delta", type=_delta, help="delta of this fit (DP-CTGAN; default: the "
                   "ledger's)")
    p.add_argument("--ledger", required=True, metavar="LEDGER.json",
                   help="the data set's ledger (create it with `privsynth budget init`)")
    p.add_argument("--out", required=True, metavar="MODEL.json", help="the model file to write")
    p.add_argument("--param", type=_param, action="append", metavar="NAME=VALUE",
                   help="engine parameter (repeatable), e.g. --param degree=2")
    p.add_argument("--release", help="release id recorded in the ledger (default: model file "
                   "name and time)")
    p.add_argument("--lock-timeout", type=_positive_float, default=300.0, metavar="SECONDS",
                   help="how long to wait for another process using the ledger (default 300)")
    _data_options(p)
    p.set_defaults(func=_cmd_fit)

    # sample
    p = sub.add_parser("sample", parents=[common], help="draw synthetic rows from a model")
    p.add_argument("model", metavar="MODEL", help="a model file written by fit or demo")
    p.add_argument("-n", type=_positive_int, required=True, help="number of rows")
    p.add_argument("--out", required=True, metavar="SYNTH.csv", help="the CSV file to write")
    p.add_argument("--seed", type=_seed, help="seed of the sampling (reproducible output)")
    p.add_argument("--where", type=_where_pair, action="append", metavar="COLUMN=VALUE",
                   help="sample only rows with this value (repeatable): a category, a number, "
                        "true/false, an ISO date; empty (COLUMN=) means missing")
    p.set_defaults(func=_cmd_sample)

    # audit
    p = sub.add_parser("audit", parents=[common], help="write the audit report",
                       description="Utility, privacy attacks and the ledger, as HTML (+ JSON).")
    p.add_argument("--real", required=True, help="the private training data (CSV or Parquet)")
    p.add_argument("--synthetic", required=True, help="the synthetic data (CSV or Parquet)")
    p.add_argument("--holdout", help="real rows NOT used in training (for TSTR and attacks)")
    p.add_argument("--model", help="the model file")
    p.add_argument("--ledger", help="the data set's ledger")
    p.add_argument("--schema", help="the public schema (default: the model's)")
    p.add_argument("--target", help="column predicted in train-on-synthetic tests")
    p.add_argument("--out", required=True, metavar="REPORT.html", help="the HTML report to write")
    p.add_argument("--json", metavar="REPORT.json", help="also write the JSON report")
    p.add_argument("--public", action="store_true",
                   help="write the public edition: no evaluation numbers (utility, attacks), "
                        "only the schema, DP outputs, the ledger and the checklist")
    p.add_argument("--release", help="release id shown in the report")
    p.add_argument("--no-attacks", action="store_true", help="skip the membership attacks")
    p.add_argument("--max-records", type=_positive_int, metavar="N",
                   help="records per side used by the attacks (default 5000; smaller is faster)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the attacks (default 0)")
    _data_options(p, out_of_domain=False)
    p.set_defaults(func=_cmd_audit)
    return parser


# ---------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``privsynth`` command with ``argv``; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"{_PROG}: error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    # --debug and --quiet may come before or after the command; absent means False
    args.debug = getattr(args, "debug", False)
    args.quiet = getattr(args, "quiet", False)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        name = " ".join(x for x in (getattr(args, "command", None),) if x)
        print(f"{_PROG}: error: missing {'action' if name else 'command'} (see "
              f"`{_PROG} {name + ' ' if name else ''}--help`)", file=sys.stderr)
        return EXIT_USAGE
    try:
        return func(args)
    except KeyboardInterrupt:
        print(f"{_PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except (PrivsynthError, _UsageError, OSError) as exc:
        if args.debug:
            traceback.print_exc()
        msg = _message(exc)
        if isinstance(exc, OSError) and not isinstance(exc, PrivsynthError):
            where = f" {exc.filename}" if exc.filename else ""
            msg = f"cannot access{where}: {exc.strerror or exc}"
        notes = " ".join(getattr(exc, "__notes__", []))
        print(f"{_PROG}: error: {msg}{' (' + _one_line(notes) + ')' if notes else ''}",
              file=sys.stderr)
        return exit_code(exc)
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        # Not one of ours: its message might quote data values, so it is not shown.
        print(f"{_PROG}: error: internal error ({type(exc).__name__}); run again with --debug "
              "to see the traceback (it may show data values) and please report it",
              file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

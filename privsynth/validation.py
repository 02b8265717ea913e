"""Check a table against its public :class:`~privsynth.schema.Schema`, and coerce it.

:func:`validate` is the gate every table passes before an engine sees it. It
follows the schema instead of guessing: a categorical column becomes text
compared with the category list, an integer column becomes whole numbers, a
datetime column is parsed with the column's ``format`` (ISO 8601 when none is
given). It collects *every* problem before raising one
:class:`~privsynth.errors.DataValidationError`, so a data steward fixes a file
in one round trip. Messages give column names and row counts, never the
offending values: the data is private.

Reading a schema *from* the data goes the other way and lives above, in
:mod:`privsynth.inference`; the text helpers it shares with validation
(:func:`text_view`, :func:`parse_numbers`) are public here for it.

Example
-------
>>> import pandas as pd
>>> from privsynth.schema import Schema
>>> schema = Schema.from_dict({"columns": [
...     {"name": "age", "kind": "integer", "lower": 0, "upper": 120},
...     {"name": "smoker", "kind": "boolean"},
... ]})
>>> raw = pd.DataFrame({"age": ["34", " 71"], "smoker": ["yes", "F"]})
>>> clean = validate(raw, schema)
>>> clean["age"].tolist(), clean["smoker"].tolist()
([34, 71], [True, False])
>>> str(clean["age"].dtype), str(clean["smoker"].dtype)
('int64', 'boolean')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from privsynth._checks import FALSE_TOKENS, TRUE_TOKENS, check_choice
from privsynth.columns import (
    BooleanColumn,
    CategoricalColumn,
    Column,
    DatetimeColumn,
    FloatColumn,
    IdColumn,
    IntegerColumn,
)
from privsynth.errors import DataValidationError, ParameterError, PrivacyWarning, SchemaError
from privsynth.schema import Schema

OutOfDomain = Literal["error", "clip", "map_to_missing"]
_POLICIES: tuple[str, ...] = ("error", "clip", "map_to_missing")

#: Longest accepted text value, in UTF-8 bytes. Longer values are almost
#: always a mis-parsed file (an unclosed quote swallowing the rest of it).
MAX_VALUE_BYTES = 1_000_000

# the accepted true/false tokens, for messages: "true/false, yes/no, 1/0, t/f"
_BOOL_TEXT = ", ".join(f"{t}/{f}" for t, f in zip(TRUE_TOKENS, FALSE_TOKENS, strict=True))

# problem texts (also the keys of the advice given at the end of the message)
P_EMPTY = "the table has no rows"
P_NO_COLUMNS = "the table has no columns"
P_DUPLICATE = "the column name appears more than once in the data"
P_EXTRA = "the column is in the data but not in the schema"
P_ABSENT = "the schema column is missing from the data"
P_ALL_MISSING = "the column is entirely missing but the schema does not allow missing values"
P_MISSING = "missing values in a column that is not nullable"
P_TOO_LONG = "value longer than 1 MB"
P_NOT_FINITE = "non-finite values (inf or -inf)"
P_NOT_WHOLE = "values that are not whole numbers"
P_OUT_CATEGORIES = "values not among the schema's categories"
P_MAP_NOT_NULLABLE = (
    "out-of-domain values cannot be mapped to missing because the column is not nullable"
)

_ADVICE = {
    P_EMPTY: "supply a table with at least one row",
    P_NO_COLUMNS: "check the file's delimiter and header line",
    P_DUPLICATE: "rename or drop the duplicated columns so that every name is unique",
    P_EXTRA: "drop the extra columns (df[schema.names]) or add them to the schema",
    P_ABSENT: "add the missing columns to the data or remove them from the schema",
    P_ALL_MISSING: 'mark the column "nullable": true in the schema, or drop it',
    P_MISSING: (
        'mark the column "nullable": true in the schema, or remove or fill those rows; '
        "tokens treated as missing are set by missing_values=..."
    ),
    P_TOO_LONG: "check the file for an unclosed quote, or drop the column",
    P_NOT_FINITE: "replace infinite values or remove those rows",
    P_NOT_WHOLE: "round the values or declare the column as float",
    P_OUT_CATEGORIES: (
        "add the categories to the schema (from public documentation), or pass "
        "on_out_of_domain='map_to_missing' for a nullable column"
    ),
    P_MAP_NOT_NULLABLE: 'mark the column "nullable": true or use on_out_of_domain="error"',
}
_ADVICE_UNREADABLE = (
    "fix the values; if they are codes for missing data, list them in "
    'missing_values=...; for datetimes, set the column\'s "format" in the schema'
)
_ADVICE_BOUNDS = (
    "check the public bounds in the schema, or pass on_out_of_domain='clip' "
    "(numeric and datetime) or 'map_to_missing' (nullable columns)"
)


@dataclass
class _Report:
    """Problems found so far; each is a dict {column, problem, rows}."""

    problems: list[dict[str, object]] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)

    def add(self, column: str | None, problem: str, rows: int, advice: str | None = None) -> None:
        self.problems.append({"column": column, "problem": problem, "rows": int(rows)})
        tip = advice if advice is not None else _ADVICE.get(problem)
        if tip and tip not in self.advice:
            self.advice.append(tip)

    def add_count(
        self, column: str, problem: str, mask: np.ndarray, advice: str | None = None
    ) -> None:
        n = int(np.count_nonzero(mask))
        if n:
            self.add(column, problem, n, advice)

    def raise_if_any(self) -> None:
        if not self.problems:
            return
        n = len(self.problems)
        lines = [
            f"the data does not match the schema: {n} problem{'s' if n != 1 else ''} found "
            "(values are not shown because the data may be private; counts only)"
        ]
        for p in self.problems:
            where = "table" if p["column"] is None else f"column {p['column']!r}"
            rows = int(p["rows"])  # type: ignore[call-overload]
            lines.append(f"  - {where}: {p['problem']} ({rows} row{'s' if rows != 1 else ''})")
        lines.append("What to do:")
        lines.extend(f"  * {tip}" for tip in self.advice)
        raise DataValidationError("\n".join(lines), problems=self.problems)


# -- text handling -----------------------------------------------------------------


def is_text_like(s: pd.Series) -> bool:
    """True for columns holding text (object, string or categorical dtype)."""
    return bool(
        ptypes.is_object_dtype(s.dtype)
        or ptypes.is_string_dtype(s.dtype)
        or isinstance(s.dtype, pd.CategoricalDtype)
    )


def _numbers_as_text(values: pd.Series) -> pd.Series:
    """Numbers to the text a CSV would hold: whole floats without ``.0``."""
    if ptypes.is_bool_dtype(values.dtype):
        return values.astype(object).map(str)
    arr = values.to_numpy(dtype="float64", na_value=np.nan)
    whole = np.isfinite(arr) & (np.floor(arr) == arr) & (np.abs(arr) < 2.0**53)
    ints = np.where(whole, arr, 0.0).astype(np.int64).astype(str)
    floats = arr.astype(str)
    return pd.Series(np.where(whole, ints, floats), index=values.index, dtype=object)


def _element_as_text(x: object) -> str:
    if isinstance(x, float | np.floating) and math.isfinite(x) and float(x).is_integer():
        return str(int(x))
    return str(x)


@dataclass
class TextView:
    """A text view of a column: stripped strings plus missing / too-long masks."""

    stripped: pd.Series
    missing: np.ndarray
    too_long: np.ndarray


def text_view(s: pd.Series, missing_values: Sequence[str]) -> TextView:
    """Values as stripped text with masks of missing (NaN or a token) and too-long values."""
    na = s.isna().to_numpy(dtype=bool, copy=True)
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if ptypes.is_string_dtype(s.dtype) and not ptypes.is_object_dtype(s.dtype):
        text = s.fillna("")
    elif ptypes.is_object_dtype(s.dtype):
        # object columns may mix strings with numbers or other objects (mixed
        # types); rendering each as text lets the schema's kind decide.
        if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
            text = s.where(~na, "").astype(str)
        else:
            text = s.where(~na, "").map(_element_as_text).astype(str)
    elif ptypes.is_numeric_dtype(s.dtype) or ptypes.is_bool_dtype(s.dtype):
        text = _numbers_as_text(s).where(~na, "")
    else:
        text = s.astype(str).where(~na, "")
    lengths = text.str.len().to_numpy(dtype="float64", na_value=0)
    too_long = lengths > MAX_VALUE_BYTES
    # characters are 1-4 UTF-8 bytes; only the ambiguous middle needs encoding
    maybe = np.flatnonzero((lengths > MAX_VALUE_BYTES / 4) & ~too_long)
    for i in maybe:
        too_long[i] = len(str(text.iloc[i]).encode("utf-8")) > MAX_VALUE_BYTES
    stripped = text.str.strip()
    missing = na | stripped.isin(list(missing_values)).to_numpy(dtype=bool)
    missing &= ~too_long
    return TextView(stripped=stripped, missing=missing, too_long=too_long)


def _non_text_missing(s: pd.Series) -> TextView:
    na = s.isna().to_numpy(dtype=bool, copy=True)
    return TextView(stripped=s, missing=na, too_long=np.zeros(len(s), dtype=bool))


# -- per kind ----------------------------------------------------------------------


def _missing_checks(col: Column, missing: np.ndarray, report: _Report) -> None:
    if col.nullable or not missing.any():
        return
    if missing.all():
        report.add(col.name, P_ALL_MISSING, len(missing))
    else:
        report.add_count(col.name, P_MISSING, missing)


def _unreadable(kind: str) -> str:
    article = "an" if kind[0] in "aeiou" else "a"
    return f"values that cannot be read as {article} {kind}"


def _domain_policy(
    col: Column,
    outside: np.ndarray,
    policy: str,
    report: _Report,
    bounds_text: str,
) -> np.ndarray:
    """Apply ``policy`` to out-of-domain rows; returns the rows to turn into missing."""
    none = np.zeros(len(outside), dtype=bool)
    if not outside.any():
        return none
    if policy == "map_to_missing":
        if col.nullable:
            return outside
        report.add_count(col.name, P_MAP_NOT_NULLABLE, outside)
        return none
    if policy == "clip" and col.is_numeric:
        return none  # the caller clips
    problem = (
        P_OUT_CATEGORIES
        if isinstance(col, CategoricalColumn)
        else f"values outside the schema bounds {bounds_text}"
    )
    advice = _ADVICE[P_OUT_CATEGORIES] if isinstance(col, CategoricalColumn) else _ADVICE_BOUNDS
    if policy == "clip":
        problem += " (clip does not apply to categorical columns)"
    report.add_count(col.name, problem, outside, advice)
    return none


def _categorical(
    s: pd.Series, col: CategoricalColumn, policy: str, mv: Sequence[str], report: _Report
) -> pd.Series:
    cats = list(col.categories)
    n = len(s)
    missing = s.isna().to_numpy(dtype=bool, copy=True)
    too_long = np.zeros(n, dtype=bool)
    if is_text_like(s):
        # fast path: values that already equal a category need no stripping
        known = s.isin(cats).to_numpy(dtype=bool, copy=True)
        if mv:
            known &= ~s.isin(list(mv)).to_numpy(dtype=bool)
        out = s.astype(object)
    else:
        known = np.zeros(n, dtype=bool)
        out = pd.Series(np.full(n, np.nan, dtype=object), index=s.index)
    rest = np.flatnonzero(~known & ~missing)
    if rest.size:
        tv = text_view(s.iloc[rest], mv)
        missing[rest] = tv.missing
        too_long[rest] = tv.too_long
        known[rest] = tv.stripped.isin(cats).to_numpy(dtype=bool) & ~tv.missing & ~tv.too_long
        out.iloc[rest] = tv.stripped.astype(object).to_numpy()
    report.add_count(col.name, P_TOO_LONG, too_long)
    _missing_checks(col, missing, report)
    outside = ~known & ~missing & ~too_long
    to_missing = _domain_policy(col, outside, policy, report, "")
    return out.where(~(missing | to_missing), np.nan)


def _identifier(s: pd.Series, col: IdColumn, mv: Sequence[str], report: _Report) -> pd.Series:
    """Identifiers as stripped text (None where missing).

    Real identifiers that start with the column's synthetic prefix are refused
    by the fit (:func:`privsynth.engines.units.check_fresh_prefix`), not here:
    synthetic tables, which have such identifiers, validate too.
    """
    tv = text_view(s, mv)
    report.add_count(col.name, P_TOO_LONG, tv.too_long)
    _missing_checks(col, tv.missing, report)
    present = ~tv.missing & ~tv.too_long
    out = tv.stripped.astype(object)
    return out.where(present, None)


def to_float(s: pd.Series, mv: Sequence[str]) -> tuple[np.ndarray, TextView]:
    """Values as float64 (NaN where missing or unreadable) and the text view.

    Numeric columns are taken as they are; text is stripped, ``mv`` tokens are
    missing, and the rest parsed as numbers (NaN where it does not parse).
    """
    if ptypes.is_bool_dtype(s.dtype) or (ptypes.is_numeric_dtype(s.dtype) and not is_text_like(s)):
        tv = _non_text_missing(s)
        return s.to_numpy(dtype="float64", na_value=np.nan), tv
    tv = text_view(s, mv)
    return parse_numbers(tv.stripped.where(~(tv.missing | tv.too_long))), tv


def parse_numbers(text: pd.Series) -> np.ndarray:
    """Text to float64, NaN where missing or not a number."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:  # pragma: no cover - pyarrow comes with the parquet and dev extras
        pass
    else:
        # pyarrow's cast is some 50x faster than pandas.to_numeric; it refuses
        # the whole column if one value does not parse, and then the slow,
        # value-by-value path below finds which ones.
        try:
            cast = pc.cast(pa.array(text, from_pandas=True), pa.float64())
            return np.asarray(cast.to_numpy(zero_copy_only=False), dtype="float64")
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass
    parsed = pd.to_numeric(text, errors="coerce")
    return np.asarray(parsed.to_numpy(dtype="float64", na_value=np.nan))


def _numeric(
    s: pd.Series, col: IntegerColumn | FloatColumn, policy: str, mv: Sequence[str], report: _Report
) -> pd.Series:
    values, tv = to_float(s, mv)
    report.add_count(col.name, P_TOO_LONG, tv.too_long)
    _missing_checks(col, tv.missing, report)
    present = ~tv.missing & ~tv.too_long
    nan = np.isnan(values)
    report.add_count(col.name, _unreadable(col.kind), present & nan, _ADVICE_UNREADABLE)
    inf = np.isinf(values)
    report.add_count(col.name, P_NOT_FINITE, present & inf)
    ok = present & ~nan & ~inf
    if isinstance(col, IntegerColumn):
        with np.errstate(invalid="ignore"):
            fractional = ok & (np.floor(values) != values)
        report.add_count(col.name, P_NOT_WHOLE, fractional)
        ok &= ~fractional
    lower, upper = col.lower, col.upper
    outside = ok & ((values < lower) | (values > upper))
    to_missing = _domain_policy(col, outside, policy, report, f"[{lower}, {upper}]")
    if policy == "clip":
        values = np.where(ok, np.clip(values, lower, upper), values)
    missing = tv.missing | to_missing
    values = np.where(missing, np.nan, values)
    if isinstance(col, FloatColumn):
        return pd.Series(values, index=s.index, dtype="float64")
    # Only in-domain values are cast: under "error" an out-of-domain value (say 1e19)
    # was recorded as a problem but is still in ``values``, and would overflow int64.
    fits = ok & ~missing if policy == "clip" else ok & ~missing & ~outside
    if col.nullable:
        ints = np.where(fits, values, 0).astype(np.int64)
        arr = pd.array(ints, dtype="Int64")
        arr[~(ok & ~missing)] = pd.NA
        return pd.Series(arr, index=s.index)
    # when some rows are not ok a problem was recorded and nothing is returned
    return pd.Series(np.where(fits, values, 0).astype(np.int64), index=s.index)


def _naive_utc(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def to_datetime_ns(
    s: pd.Series, col: DatetimeColumn, mv: Sequence[str]
) -> tuple[pd.Series, TextView]:
    """Parse to timezone-naive datetime64[ns]; NaT where missing or unreadable.

    Text is read with the column's ``format`` (ISO 8601 when none); ``mv``
    tokens are missing. Also returns the text view (its missing mask).
    """
    if ptypes.is_datetime64_any_dtype(s.dtype):
        tv = _non_text_missing(s)
        parsed = s
    else:
        tv = text_view(s, mv)
        if ptypes.is_object_dtype(s.dtype) and pd.api.types.infer_dtype(s, skipna=True) in (
            "datetime",
            "datetime64",
        ):
            candidates: pd.Series = s.where(~tv.missing)
            fmt = None
        else:
            candidates = tv.stripped.where(~(tv.missing | tv.too_long))
            fmt = col.format or "ISO8601"
        # utc=True: offsets are converted to UTC and then dropped, so a column
        # mixing offsets still parses; naive text stays as written.
        parsed = pd.to_datetime(candidates, format=fmt, errors="coerce", utc=True)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    # datetime64[ns] spans the years 1677-2262; later or earlier dates do not fit
    lo_ns, hi_ns = pd.Timestamp.min, pd.Timestamp.max
    fits = (parsed >= lo_ns) & (parsed <= hi_ns)
    parsed = parsed.where(fits).astype("datetime64[ns]")
    return parsed, tv


def _datetime(
    s: pd.Series, col: DatetimeColumn, policy: str, mv: Sequence[str], report: _Report
) -> pd.Series:
    parsed, tv = to_datetime_ns(s, col, mv)
    report.add_count(col.name, P_TOO_LONG, tv.too_long)
    _missing_checks(col, tv.missing, report)
    present = ~tv.missing & ~tv.too_long
    nat = parsed.isna().to_numpy()
    report.add_count(col.name, _unreadable("datetime"), present & nat, _ADVICE_UNREADABLE)
    ok = present & ~nat
    lower, upper = _naive_utc(pd.Timestamp(col.lower)), _naive_utc(pd.Timestamp(col.upper))
    outside = ok & ((parsed < lower) | (parsed > upper)).to_numpy(dtype=bool)
    to_missing = _domain_policy(col, outside, policy, report, f"[{col.lower}, {col.upper}]")
    if policy == "clip":
        parsed = parsed.clip(lower, upper)
    return parsed.where(~(tv.missing | to_missing)).astype("datetime64[ns]")


def _boolean(
    s: pd.Series, col: BooleanColumn, policy: str, mv: Sequence[str], report: _Report
) -> pd.Series:
    if ptypes.is_bool_dtype(s.dtype):
        tv = _non_text_missing(s)
        flags = s.to_numpy(dtype=bool, na_value=False)
        readable = ~tv.missing
    elif ptypes.is_numeric_dtype(s.dtype) and not is_text_like(s):
        tv = _non_text_missing(s)
        num = s.to_numpy(dtype="float64", na_value=np.nan)
        readable = (num == 0) | (num == 1)
        flags = num == 1
    else:
        tv = text_view(s, mv)
        lowered = tv.stripped.str.lower()
        readable = lowered.isin([*TRUE_TOKENS, *FALSE_TOKENS]).to_numpy(dtype=bool)
        flags = lowered.isin(list(TRUE_TOKENS)).to_numpy(dtype=bool)
    report.add_count(col.name, P_TOO_LONG, tv.too_long)
    _missing_checks(col, tv.missing, report)
    present = ~tv.missing & ~tv.too_long
    report.add_count(
        col.name,
        _unreadable("boolean") + f" (accepted: {_BOOL_TEXT})",
        present & ~readable,
        _ADVICE_UNREADABLE,
    )
    arr = pd.array(flags, dtype="boolean")
    arr[tv.missing] = pd.NA
    return pd.Series(arr, index=s.index)


# -- public API --------------------------------------------------------------------


def _check_arguments(
    df: object, schema: object, on_out_of_domain: str, missing_values: object
) -> tuple[str, ...]:
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if not isinstance(schema, Schema):
        raise ParameterError(f"'schema' must be a privsynth Schema, got {type(schema).__name__}")
    check_choice("on_out_of_domain", on_out_of_domain, _POLICIES, where="validate")
    return check_missing_values(missing_values)


def check_missing_values(missing_values: object) -> tuple[str, ...]:
    """The missing-value tokens, stripped; ParameterError unless a sequence of strings."""
    if isinstance(missing_values, str) or not isinstance(missing_values, Sequence | set):
        raise ParameterError(
            "missing_values must be a sequence of strings, e.g. ('', 'NA'), "
            f"got {type(missing_values).__name__}"
        )
    tokens = tuple(missing_values)
    if not all(isinstance(t, str) for t in tokens):
        raise ParameterError("missing_values must contain only strings")
    return tuple(t.strip() for t in tokens)


def validate(
    df: pd.DataFrame,
    schema: Schema,
    *,
    on_out_of_domain: OutOfDomain = "error",
    missing_values: Sequence[str] = ("",),
) -> pd.DataFrame:
    """Check ``df`` against ``schema`` and return a new, coerced DataFrame.

    Every problem is collected first and reported together in one
    :class:`~privsynth.errors.DataValidationError`, whose ``problems`` holds
    one dict ``{"column", "problem", "rows"}`` per problem. Messages carry
    column names and row counts, never the values themselves.

    Parameters
    ----------
    df : pandas.DataFrame
        The data: typed columns, or text as read from a CSV file.
    schema : Schema
        The public description of the columns. The result has exactly these
        columns, in this order.
    on_out_of_domain : {"error", "clip", "map_to_missing"}
        What to do with values outside a column's public domain. ``"clip"``
        moves numeric and datetime values to the nearest bound (categories
        still raise); ``"map_to_missing"`` turns them into missing values
        (only allowed for nullable columns).
    missing_values : sequence of str
        Text tokens that mean "missing", compared after stripping surrounding
        whitespace. NaN, None and NaT are always missing. ``"?"`` is *not*
        missing unless listed. A column that declares its own
        ``missing_values`` in the schema uses those instead.

    Returns
    -------
    pandas.DataFrame
        Same index as ``df``. Dtypes: categorical -> object (the category
        strings, NaN for missing); integer -> ``int64``, or ``Int64`` when
        nullable; float -> ``float64``; datetime -> ``datetime64[ns]``
        (timezone offsets converted to UTC and dropped); boolean ->
        ``boolean``; id -> object (the identifiers as stripped text, None
        for missing).

    Raises
    ------
    DataValidationError
        If anything does not match. Nothing is returned partially.

    Examples
    --------
    >>> import pandas as pd
    >>> from privsynth.schema import Schema
    >>> schema = Schema.from_dict({"columns": [
    ...     {"name": "hours", "kind": "integer", "lower": 1, "upper": 99}]})
    >>> clean = validate(pd.DataFrame({"hours": [40, 120]}), schema, on_out_of_domain="clip")
    >>> clean["hours"].tolist()
    [40, 99]
    >>> try:
    ...     validate(pd.DataFrame({"hours": ["40", "lots"]}), schema)
    ... except DataValidationError as exc:
    ...     print(exc.problems)
    [{'column': 'hours', 'problem': 'values that cannot be read as an integer', 'rows': 1}]
    """
    tokens = _check_arguments(df, schema, on_out_of_domain, missing_values)
    report = _Report()
    n_rows = len(df)
    if n_rows == 0:
        report.add(None, P_EMPTY, 0)
    if df.shape[1] == 0:
        report.add(None, P_NO_COLUMNS, n_rows)
    names = list(df.columns)
    counts = pd.Series(names, dtype=object).value_counts(sort=False)
    duplicated = [n for n in counts.index if counts[n] > 1]
    for name in duplicated:
        report.add(str(name), P_DUPLICATE, n_rows)
    wanted = set(schema.names)
    for name in dict.fromkeys(names):
        if name not in wanted:
            report.add(str(name), P_EXTRA, n_rows)
    present = set(names)
    for name in schema.names:
        if name not in present:
            report.add(name, P_ABSENT, n_rows)

    out: dict[str, pd.Series] = {}
    for col in schema.columns:
        if col.name not in present or col.name in duplicated:
            continue
        s = df[col.name]
        mv = col.missing_tokens(tokens)  # the column's own tokens replace the table's
        if isinstance(col, CategoricalColumn):
            out[col.name] = _categorical(s, col, on_out_of_domain, mv, report)
        elif isinstance(col, IntegerColumn | FloatColumn):
            out[col.name] = _numeric(s, col, on_out_of_domain, mv, report)
        elif isinstance(col, DatetimeColumn):
            out[col.name] = _datetime(s, col, on_out_of_domain, mv, report)
        elif isinstance(col, BooleanColumn):
            out[col.name] = _boolean(s, col, on_out_of_domain, mv, report)
        elif isinstance(col, IdColumn):
            out[col.name] = _identifier(s, col, mv, report)
        else:  # pragma: no cover - a new kind must be added here
            raise SchemaError(f"column {col.name!r}: kind {col.kind!r} is not supported")
    report.raise_if_any()
    return pd.DataFrame(out, index=df.index, columns=list(schema.names))


__all__ = [
    "MAX_VALUE_BYTES",
    "OutOfDomain",
    "PrivacyWarning",
    "check_missing_values",
    "is_text_like",
    "parse_numbers",
    "text_view",
    "to_datetime_ns",
    "to_float",
    "validate",
]

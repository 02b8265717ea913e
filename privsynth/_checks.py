"""Argument checks shared by the whole package (bottom layer: imports only ``errors``).

Every public function validates its arguments with these, so that a user
mistake always raises :class:`~privsynth.errors.ParameterError` with a
message naming the parameter, the value given and what is allowed. ``bool``
is never accepted where a number is expected (``True`` is an ``int`` in
Python, and ``max_bins=True`` is always a mistake).

>>> check_int("k", 3, lo=1)
3
>>> check_int("k", True, lo=1)
Traceback (most recent call last):
...
privsynth.errors.ParameterError: k=True; allowed: an integer >= 1
>>> check_number("rate", 0.5, lo=0, hi=1, lo_open=True)
0.5
>>> check_seed(None), check_seed(7)
(None, 7)
>>> parse_bool("Yes"), parse_bool("0")
(True, False)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from privsynth.errors import DataValidationError, ParameterError

if TYPE_CHECKING:
    import pandas as pd

#: Tokens read as true / false (case-insensitive) wherever text becomes a boolean:
#: data validation, CLI conditions, data dictionaries. One list for the package.
#: (No single-letter "y"/"n": "N" is a common missing-value token, e.g. in the ACS.)
TRUE_TOKENS: tuple[str, ...] = ("true", "yes", "1", "t")
FALSE_TOKENS: tuple[str, ...] = ("false", "no", "0", "f")


def _where(where: str, name: str) -> str:
    return f"{where}: {name}" if where else name


def _range_text(kind: str, lo: float | None, hi: float | None, lo_open: bool,
                hi_open: bool) -> str:
    if lo is not None and hi is not None:
        left, right = ("(" if lo_open else "["), (")" if hi_open else "]")
        return f"{kind} in {left}{lo:g}, {hi:g}{right}"
    if lo is not None:
        return f"{kind} {'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f"{kind} {'<' if hi_open else '<='} {hi:g}"
    return kind


def is_integer(value: object) -> bool:
    """True for Python and numpy integers, never for ``bool``.

    >>> is_integer(3), is_integer(True), is_integer(3.0)
    (True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """True for real numbers (ints, floats, numpy scalars), never for ``bool``.

    >>> is_number(2.5), is_number(False), is_number("1")
    (True, False, False)
    """
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int(name: str, value: object, *, lo: int | None = None, hi: int | None = None,
              where: str = "", none_ok: bool = False) -> int:
    """``value`` as an ``int`` within [lo, hi], else ParameterError.

    >>> check_int("n", 5, lo=0, hi=3, where="sample")
    Traceback (most recent call last):
    ...
    privsynth.errors.ParameterError: sample: n=5; allowed: an integer in [0, 3]
    """
    if value is None and none_ok:
        return None  # type: ignore[return-value]
    ok = is_integer(value)
    if ok:
        v = int(value)  # type: ignore[call-overload]
        ok = (lo is None or v >= lo) and (hi is None or v <= hi)
    if not ok:
        allowed = _range_text("an integer", lo, hi, False, False)
        raise ParameterError(f"{_where(where, name)}={value!r}; allowed: "
                             f"{'None or ' if none_ok else ''}{allowed}")
    return int(value)  # type: ignore[call-overload]


def check_number(name: str, value: object, *, lo: float | None = None,
                 hi: float | None = None, lo_open: bool = False, hi_open: bool = False,
                 where: str = "", none_ok: bool = False) -> float:
    """``value`` as a finite ``float`` within the given bounds, else ParameterError.

    >>> check_number("theta", float("nan"), lo=0, lo_open=True)
    Traceback (most recent call last):
    ...
    privsynth.errors.ParameterError: theta=nan; allowed: a finite number > 0
    """
    if value is None and none_ok:
        return None  # type: ignore[return-value]
    ok = is_number(value) and math.isfinite(float(value))  # type: ignore[arg-type]
    if ok:
        x = float(value)  # type: ignore[arg-type]
        if lo is not None:
            ok = x > lo if lo_open else x >= lo
        if ok and hi is not None:
            ok = x < hi if hi_open else x <= hi
    if not ok:
        allowed = _range_text("a finite number", lo, hi, lo_open, hi_open)
        raise ParameterError(f"{_where(where, name)}={value!r}; allowed: "
                             f"{'None or ' if none_ok else ''}{allowed}")
    return float(value)  # type: ignore[arg-type]


def check_epsilon(value: object, name: str = "epsilon", where: str = "") -> float:
    """A privacy epsilon: a positive finite number.

    >>> check_epsilon(0)
    Traceback (most recent call last):
    ...
    privsynth.errors.ParameterError: epsilon=0; allowed: a finite number > 0
    """
    return check_number(name, value, lo=0, lo_open=True, where=where)


def check_delta(value: object, name: str = "delta", where: str = "",
                positive: bool = False) -> float:
    """A privacy delta in [0, 1), or (0, 1) with ``positive=True``."""
    return check_number(name, value, lo=0, hi=1, lo_open=positive, hi_open=True, where=where)


def check_seed(value: object, name: str = "random_state", where: str = "") -> int | None:
    """A sampling seed: None or a non-negative integer."""
    if value is None:
        return None
    return check_int(name, value, lo=0, where=where)


def check_bool(name: str, value: object, where: str = "") -> bool:
    """A real ``bool`` (not 0/1, not a string)."""
    if not isinstance(value, bool):
        raise ParameterError(f"{_where(where, name)}={value!r}; allowed: True or False")
    return value


def check_choice(name: str, value: object, choices: tuple[str, ...], where: str = "") -> str:
    """One of ``choices`` (strings).

    >>> check_choice("engine", "gan", ("privbayes", "dpctgan"))
    Traceback (most recent call last):
    ...
    privsynth.errors.ParameterError: engine='gan'; allowed: one of 'privbayes', 'dpctgan'
    """
    if not isinstance(value, str) or value not in choices:
        raise ParameterError(f"{_where(where, name)}={value!r}; allowed: one of "
                             + ", ".join(repr(c) for c in choices))
    return value


def check_frame(df: object, what: str, *, allow_empty: bool = False) -> pd.DataFrame:
    """``df`` as a pandas DataFrame with columns, unique column names and rows.

    Raises :class:`~privsynth.errors.DataValidationError` (a data problem, not
    an argument mistake) naming ``what`` ("the synthetic data", ...); with
    ``allow_empty=True`` a frame without rows is accepted.

    >>> import pandas as pd
    >>> check_frame(pd.DataFrame({"a": []}), "the holdout")
    Traceback (most recent call last):
    ...
    privsynth.errors.DataValidationError: the holdout has no rows
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    if df.shape[1] == 0:
        raise DataValidationError(f"{what} has no columns")
    if not df.columns.is_unique:
        dup = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise DataValidationError(
            f"{what} has duplicated column names {dup}; rename them",
            [{"column": c, "problem": "duplicated column name"} for c in dup],
        )
    if not allow_empty and len(df) == 0:
        raise DataValidationError(f"{what} has no rows")
    return df


def check_columns(columns: Iterable[object], expected: Sequence[object], *,
                  what: str = "the data", reference: str = "the schema",
                  hint: str = "") -> None:
    """Raise unless ``columns`` are exactly the ``expected`` names, in any order.

    The error names the missing and the extra columns (names only, never
    values) and lists them in ``problems``; ``hint`` is appended to its
    message (say what to do next).

    >>> check_columns(["b", "a"], ["a", "b"])
    >>> check_columns(["a", "x"], ["a", "b"], what="the synthetic data")
    Traceback (most recent call last):
    ...
    privsynth.errors.DataValidationError: the synthetic data and the schema must have the \
same columns; missing from the synthetic data: ['b']; not in the schema: ['x']
    """
    given = list(columns)
    given_set, expected_set = set(given), set(expected)
    missing = [c for c in expected if c not in given_set]
    extra = [c for c in given if c not in expected_set]
    if not (missing or extra):
        return
    parts = []
    if missing:
        parts.append(f"missing from {what}: {[str(c) for c in missing]}")
    if extra:
        parts.append(f"not in {reference}: {[str(c) for c in extra]}")
    problems: list[dict[str, object]] = [
        {"column": c, "problem": f"missing from {what}"} for c in missing]
    problems += [{"column": c, "problem": f"not in {reference}"} for c in extra]
    raise DataValidationError(
        f"{what} and {reference} must have the same columns; " + "; ".join(parts)
        + (f". {hint}" if hint else ""),
        problems,
    )


def parse_bool(text: str) -> bool | None:
    """``True``/``False`` for a token of :data:`TRUE_TOKENS` / :data:`FALSE_TOKENS`, else None."""
    low = text.strip().lower()
    if low in TRUE_TOKENS:
        return True
    if low in FALSE_TOKENS:
        return False
    return None


__all__ = [
    "FALSE_TOKENS",
    "TRUE_TOKENS",
    "check_bool",
    "check_choice",
    "check_columns",
    "check_delta",
    "check_epsilon",
    "check_frame",
    "check_int",
    "check_number",
    "check_seed",
    "is_integer",
    "is_number",
    "parse_bool",
]

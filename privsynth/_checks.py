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

from privsynth.errors import ParameterError

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
    "check_delta",
    "check_epsilon",
    "check_int",
    "check_number",
    "check_seed",
    "is_integer",
    "is_number",
    "parse_bool",
]

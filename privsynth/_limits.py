"""A memory cap checked before large allocations, so a request fails with a clear error.

Engines allocate tables whose size follows from parameters (a clique's cell
count, a requested sample size). Asking the operating system for tens of
gigabytes ends in an out-of-memory kill that loses the whole process, or in
swapping that looks like a hang. :func:`check_allocation` is called *before*
such an allocation and raises :class:`~privsynth.errors.ResourceLimitError`
naming what was requested, how much memory it needs and how to change the
cap.

The cap is, in order of precedence: the ``limit`` argument, the environment
variable ``PRIVSYNTH_MEMORY_LIMIT`` (bytes, or a number with a unit such as
``512MiB``, ``8GB``, ``2g``), else :func:`default_memory_limit`: half the
machine's physical memory, and never less than :data:`DEFAULT_MEMORY_LIMIT`
(4 GiB, also used when the physical memory cannot be read). The environment
is read at every call (no module state).

Example
-------
>>> check_allocation(1024, "a small table")
>>> try:
...     check_allocation(5 * 2**30, "a clique table of 671,088,640 cells", limit="1GiB")
... except ResourceLimitError as exc:
...     print(str(exc)[:64])
a clique table of 671,088,640 cells needs 5 GiB of memory, above
>>> parse_size("1.5 GiB")
1610612736
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping

from privsynth.errors import ParameterError, ResourceLimitError

#: Environment variable holding the memory cap (bytes or a size with a unit).
ENV_VAR = "PRIVSYNTH_MEMORY_LIMIT"
#: The smallest default cap, and the default when physical memory is unknown: 4 GiB.
DEFAULT_MEMORY_LIMIT = 4 * 2**30


def default_memory_limit() -> int:
    """Half the physical memory (one allocation should leave room for the rest), >= 4 GiB.

    >>> default_memory_limit() >= DEFAULT_MEMORY_LIMIT
    True
    """
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # not POSIX, or not reported
        return DEFAULT_MEMORY_LIMIT
    return max(DEFAULT_MEMORY_LIMIT, int(physical) // 2)

_UNITS = {
    "": 1, "b": 1,
    "k": 2**10, "kb": 10**3, "kib": 2**10,
    "m": 2**20, "mb": 10**6, "mib": 2**20,
    "g": 2**30, "gb": 10**9, "gib": 2**30,
    "t": 2**40, "tb": 10**12, "tib": 2**40,
}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zA-Z]*)\s*$")


def parse_size(value: int | str) -> int:
    """Bytes from an integer or a text size (``"4GiB"``, ``"512 MB"``, ``"2g"``, ``"1000"``).

    Raises :class:`~privsynth.errors.ParameterError` for anything else
    (negative, zero, non-finite, unknown unit, wrong type).

    >>> parse_size("2g"), parse_size(100), parse_size("1kB")
    (2147483648, 100, 1000)
    """
    if isinstance(value, bool):
        raise ParameterError(f"a memory size must be a positive number of bytes, got {value!r}")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str):
        match = _SIZE.match(value)
        unit = match.group(2).lower() if match else ""
        if match is None or unit not in _UNITS:
            raise ParameterError(
                f"cannot read the memory size {value[:40]!r}; write bytes or a number with a "
                "unit, e.g. 4GiB, 512MB, 2g"
            )
        number = float(match.group(1)) * _UNITS[unit]
        if not math.isfinite(number):
            raise ParameterError(f"the memory size {value[:40]!r} is too large")
        size = int(number)
    else:
        raise ParameterError(
            f"a memory size must be an integer or a text like '4GiB', got {type(value).__name__}"
        )
    if size <= 0:
        raise ParameterError(f"a memory size must be positive, got {value!r}")
    return size


def memory_limit(limit: int | str | None = None, environ: Mapping[str, str] | None = None) -> int:
    """The memory cap in bytes: ``limit``, else ``$PRIVSYNTH_MEMORY_LIMIT``, else the default.

    >>> memory_limit("1MiB"), memory_limit(environ={}) == default_memory_limit()
    (1048576, True)
    >>> memory_limit(environ={"PRIVSYNTH_MEMORY_LIMIT": "8GB"})
    8000000000
    """
    if limit is not None:
        return parse_size(limit)
    env = os.environ if environ is None else environ
    text = env.get(ENV_VAR, "").strip()
    if not text:
        return default_memory_limit()
    try:
        return parse_size(text)
    except ParameterError as exc:
        raise ParameterError(f"environment variable {ENV_VAR}: {exc}") from exc


def _human(n_bytes: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= size:
            return f"{n_bytes / size:.3g} {unit}"
    return f"{int(n_bytes)} bytes"


def check_allocation(
    n_bytes: float, what: str, *, limit: int | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Raise :class:`ResourceLimitError` if allocating ``n_bytes`` for ``what`` exceeds the cap.

    Parameters
    ----------
    n_bytes : int or float
        Bytes the allocation needs. Compute it in Python integers or floats
        (``cells * 8``), never in fixed-width numpy integers, which overflow
        silently for the very requests this check is meant to catch.
    what : str
        What is being allocated, for the message (e.g. ``"the table of
        income|age,sex (1,048,576 cells)"``). Never put data values here.
    limit : int or str, optional
        The cap; see :func:`memory_limit`.
    environ : mapping, optional
        Environment to read instead of ``os.environ`` (tests).
    """
    if isinstance(n_bytes, bool) or not isinstance(n_bytes, int | float):
        raise ParameterError(f"n_bytes must be a number, got {type(n_bytes).__name__}")
    if math.isnan(n_bytes) or n_bytes < 0:
        raise ParameterError(f"n_bytes must be a non-negative number, got {n_bytes!r}")
    cap = memory_limit(limit, environ)
    if n_bytes > cap:
        raise ResourceLimitError(
            f"{what} needs {_human(n_bytes)} of memory, above the limit of {_human(cap)}; "
            "ask for less (fewer rows, fewer bins or a lower degree), or raise the limit with "
            f"the environment variable {ENV_VAR} (e.g. {ENV_VAR}=16GiB) if the machine has "
            "the memory"
        )


__all__ = ["DEFAULT_MEMORY_LIMIT", "ENV_VAR", "check_allocation", "default_memory_limit",
           "memory_limit", "parse_size"]

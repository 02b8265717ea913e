"""Small value helpers shared by the report's sections: JSON types, rounding, file hashes."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from privsynth.errors import ParameterError


def jsonable(value: Any) -> Any:
    """``value`` as JSON types: numpy scalars unwrapped, non-finite floats as None.

    >>> jsonable({"a": np.float64(1.5), "b": (np.int64(2), float("inf"))})
    {'a': 1.5, 'b': [2, None]}
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return str(value)


def rounded(value: Any, digits: int) -> float | None:
    """Rounded float, None for missing or non-finite values.

    >>> rounded(0.123456, 3), rounded(None, 3), rounded(float("nan"), 3)
    (0.123, None, None)
    """
    if value is None:
        return None
    v = float(value)
    return round(v, digits) if math.isfinite(v) else None


def fmt(x: float) -> str:
    """Three significant digits, as the report's sentences write epsilons."""
    return f"{x:.3g}"


def sha256_file(path: str | Path, what: str) -> str:
    """SHA-256 of a file's bytes; ParameterError naming ``what`` if it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise ParameterError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    return h.hexdigest()

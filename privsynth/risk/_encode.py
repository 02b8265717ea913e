"""Schema-driven encoding of a table for the Gower distance.

Only the public :class:`~privsynth.schema.Schema` decides how a value is
scaled, so the distance between two rows never depends on which private rows
happen to be in the data set:

- integer and float columns are scaled to ``[0, 1]`` by the public bounds,
  ``(x - lower) / (upper - lower)``; datetime columns likewise after
  :meth:`~privsynth.columns.DatetimeColumn.to_units`;
- categorical and boolean columns become integer codes in the schema's order;
- a missing value is a code of its own (categorical) or the sentinel
  ``_NUMERIC_MISSING`` (numeric), chosen so that the per-column distance is 0
  when both values are missing and 1 when only one is.

The arrays are stored column-major (one contiguous row per column) because the
nearest-neighbour search reads one column at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth._checks import check_columns as shared_check_columns
from privsynth._checks import check_frame
from privsynth.columns import (
    BooleanColumn,
    CategoricalColumn,
    DatetimeColumn,
    FloatColumn,
    IntegerColumn,
)
from privsynth.errors import DataValidationError, ParameterError
from privsynth.schema import Schema
from privsynth.validation import validate

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]

#: Stands for a missing numeric value. Scaled values lie in [0, 1], so the
#: difference to a present value is >= 2 and is clipped to 1 by the search,
#: while two missing values differ by exactly 0.
_NUMERIC_MISSING = np.float32(3.0)


@dataclass(frozen=True, eq=False)
class Encoded:
    """A table encoded for Gower distances (internal; never leaves the process).

    Attributes
    ----------
    numeric : ndarray of float32, shape (n_numeric, n_rows)
        Scaled numeric values, ``_NUMERIC_MISSING`` where missing (for the search).
    offsets : ndarray of float64, shape (n_numeric, n_rows)
        ``clip(x, lower, upper) - lower`` in the column's units, NaN where
        missing: exact for integers, so equal distances compare equal when the
        distances of the chosen neighbours are recomputed in double precision.
    ranges : tuple of float
        ``upper - lower`` per numeric column (1 for a zero-width range).
    numeric_nullable : tuple of bool
        Per numeric column, whether it may hold the missing sentinel (only those
        columns need the clipping step in the search).
    categorical : ndarray of int, shape (n_categorical, n_rows)
        Category codes; the code ``size`` means missing.
    n_columns : int
        Number of columns in the schema (the Gower mean divides by it).
    keys : ndarray of uint64, shape (n_rows,)
        A hash of each whole row, to count exact copies.
    """

    numeric: F32
    offsets: F64
    ranges: tuple[float, ...]
    numeric_nullable: tuple[bool, ...]
    categorical: npt.NDArray[np.integer]
    n_columns: int
    keys: U64

    @property
    def n_rows(self) -> int:
        return int(self.keys.shape[0])

    def stack(self, other: Encoded) -> Encoded:
        """The rows of ``self`` followed by the rows of ``other`` (same schema)."""
        return Encoded(
            np.concatenate([self.numeric, other.numeric], axis=1),
            np.concatenate([self.offsets, other.offsets], axis=1),
            self.ranges,
            tuple(x or y for x, y in zip(self.numeric_nullable, other.numeric_nullable,
                                         strict=True)),
            np.concatenate([self.categorical, other.categorical], axis=1),
            self.n_columns,
            np.concatenate([self.keys, other.keys]),
        )

    def take(self, rows: I64) -> Encoded:
        """The encoded rows at positions ``rows``."""
        return Encoded(
            np.ascontiguousarray(self.numeric[:, rows]),
            np.ascontiguousarray(self.offsets[:, rows]),
            self.ranges,
            self.numeric_nullable,
            np.ascontiguousarray(self.categorical[:, rows]),
            self.n_columns,
            self.keys[rows],
        )


def _code_dtype(schema: Schema) -> type[np.integer]:
    # The smallest type that holds every code plus the missing code keeps the
    # per-tile comparisons cheap (int8 compares 4x more values per instruction).
    largest = max(
        (c.size if isinstance(c, CategoricalColumn | BooleanColumn) else 0) for c in schema
    )
    if largest < np.iinfo(np.int8).max:
        return np.int8
    if largest < np.iinfo(np.int16).max:
        return np.int16
    return np.int32


def check_columns(df: object, schema: Schema, what: str) -> pd.DataFrame:
    """``df`` as a non-empty DataFrame with exactly the schema's columns, or a precise error.

    >>> s = Schema.from_dict({"columns": [{"name": "a", "kind": "boolean"}]})
    >>> check_columns(pd.DataFrame({"b": [True]}), s, "the holdout")
    Traceback (most recent call last):
    ...
    privsynth.errors.DataValidationError: the holdout and the schema must have the same \
columns; missing from the holdout: ['a']; not in the schema: ['b']. The training data, \
holdout and synthetic data must all have exactly the columns of the schema
    """
    if not isinstance(schema, Schema):
        raise ParameterError(
            f"schema must be a privsynth Schema, got {type(schema).__name__}; "
            "use privsynth.Schema.from_json"
        )
    frame = check_frame(df, what, allow_empty=True)
    shared_check_columns(frame.columns, schema.names, what=what, reference="the schema",
                         hint="The training data, holdout and synthetic data must all have "
                              "exactly the columns of the schema")
    if len(frame) == 0:
        raise DataValidationError(f"{what} has no rows")
    return frame


def encode(df: object, schema: Schema, what: str = "the data") -> Encoded:
    """Validate ``df`` against ``schema`` and encode it for Gower distances.

    Parameters
    ----------
    df : DataFrame
        Rows to encode; must have exactly the schema's columns (any order).
    schema : Schema
        Public domains: the only source of scales and category lists.
    what : str
        How to name the table in error messages ("the synthetic data" ...).

    Numeric values outside the public bounds are clipped to them; values not
    among a column's categories are an error (messages give column names and
    counts only).

    Examples
    --------
    >>> s = Schema.from_dict({"columns": [
    ...     {"name": "age", "kind": "integer", "lower": 0, "upper": 100},
    ...     {"name": "sex", "kind": "categorical", "categories": ["F", "M"], "nullable": True}]})
    >>> e = encode(pd.DataFrame({"age": [0, 50], "sex": ["M", None]}), s)
    >>> e.numeric.tolist(), e.categorical.tolist()
    ([[0.0, 0.5]], [[1, 2]])
    """
    frame = check_columns(df, schema, what)
    try:
        clean = validate(frame[list(schema.names)], schema, on_out_of_domain="clip")
    except DataValidationError as exc:
        raise DataValidationError(f"{what}: {exc}", exc.problems) from exc

    n = len(clean)
    numeric: list[F64] = []
    offsets: list[F64] = []
    ranges: list[float] = []
    nullable: list[bool] = []
    codes: list[npt.NDArray[np.int64]] = []
    for col in schema:
        s = clean[col.name]
        if isinstance(col, CategoricalColumn):
            c = pd.Categorical(s, categories=list(col.categories)).codes.astype(np.int64)
            codes.append(np.where(c < 0, col.size, c))
        elif isinstance(col, BooleanColumn):
            b = s.astype("boolean")
            missing = b.isna().to_numpy()
            v = b.fillna(False).to_numpy(dtype=bool).astype(np.int64)
            codes.append(np.where(missing, 2, v))
        else:
            if isinstance(col, DatetimeColumn):
                units = col.to_units(s).to_numpy(dtype=np.float64)
                lo, hi = float(col.unit_lower), float(col.unit_upper)
            elif isinstance(col, IntegerColumn | FloatColumn):
                units = s.to_numpy(dtype=np.float64, na_value=np.nan)
                lo, hi = float(col.lower), float(col.upper)
            else:  # pragma: no cover - a new column kind must be added here
                raise ParameterError(f"column {col.name!r}: kind {col.kind!r} is not supported")
            # A zero-width public range makes every present value identical.
            width = hi - lo if hi > lo else 1.0
            offset = np.clip(units, lo, hi) - lo
            scaled = offset / width
            missing = np.isnan(units)
            scaled[missing] = _NUMERIC_MISSING
            numeric.append(scaled)
            offsets.append(offset)
            ranges.append(width)
            nullable.append(bool(missing.any()) or col.nullable)

    code_dtype = _code_dtype(schema)
    num = np.vstack(numeric) if numeric else np.empty((0, n), np.float64)
    off = np.vstack(offsets) if offsets else np.empty((0, n), np.float64)
    cat = np.vstack(codes).astype(code_dtype) if codes else np.empty((0, n), code_dtype)
    keys = pd.util.hash_pandas_object(clean, index=False).to_numpy(dtype=np.uint64)
    return Encoded(
        np.ascontiguousarray(num, dtype=np.float32),
        np.ascontiguousarray(off, dtype=np.float64),
        tuple(ranges),
        tuple(nullable),
        np.ascontiguousarray(cat),
        len(schema),
        keys,
    )

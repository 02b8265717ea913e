"""Column subsets of an encoded table, for the attacks that see only some columns.

The anonymisation attacks (:mod:`privsynth.risk.criteria`) play adversaries
who know some columns of a person and not others. They reuse the encoding of
:mod:`privsynth.risk._encode` (public scales, category codes) and the exact
nearest-neighbour search of :mod:`privsynth.risk.distance`, on the columns the
adversary knows.

>>> import pandas as pd
>>> from privsynth.schema import Schema
>>> from privsynth.risk._encode import encode
>>> s = Schema.from_dict({"columns": [
...     {"name": "age", "kind": "integer", "lower": 0, "upper": 100},
...     {"name": "sex", "kind": "categorical", "categories": ["F", "M"]}]})
>>> e = encode(pd.DataFrame({"age": [50], "sex": ["M"]}), s)
>>> restrict(e, s, ["sex"]).categorical.tolist(), restrict(e, s, ["sex"]).n_columns
([[1]], 1)
>>> value_matrix(e, s, ["sex", "age"]).tolist()
[[1.0], [0.5]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from privsynth.columns import BooleanColumn, CategoricalColumn
from privsynth.errors import ParameterError
from privsynth.risk._encode import Encoded
from privsynth.schema import Schema

F32 = npt.NDArray[np.float32]


def column_slots(schema: Schema) -> dict[str, tuple[bool, int]]:
    """``{name: (is_numeric, row)}``: where each column sits in an :class:`Encoded` table."""
    slots: dict[str, tuple[bool, int]] = {}
    n_num = n_cat = 0
    for col in schema:
        if isinstance(col, CategoricalColumn | BooleanColumn):
            slots[col.name] = (False, n_cat)
            n_cat += 1
        else:
            slots[col.name] = (True, n_num)
            n_num += 1
    return slots


def check_names(schema: Schema, names: object, what: str) -> tuple[str, ...]:
    """``names`` as a tuple of distinct schema column names, else ParameterError."""
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise ParameterError(f"{what} must be a list of column names, got {names!r}")
    out = tuple(names)
    unknown = [str(n) for n in out if n not in schema.names]
    if unknown:
        raise ParameterError(f"{what}: {unknown} not in the schema; columns are "
                             f"{list(schema.names)}")
    if len(set(out)) != len(out):
        raise ParameterError(f"{what} names a column twice: {list(out)}")
    if not out:
        raise ParameterError(f"{what} is empty; give at least one column")
    return out


def restrict(enc: Encoded, schema: Schema, names: Sequence[str]) -> Encoded:
    """The encoded table reduced to the columns ``names`` (Gower means over them only)."""
    slots = column_slots(schema)
    num = [slots[n][1] for n in names if slots[n][0]]
    cat = [slots[n][1] for n in names if not slots[n][0]]
    return Encoded(
        np.ascontiguousarray(enc.numeric[num]),
        np.ascontiguousarray(enc.offsets[num]),
        tuple(enc.ranges[i] for i in num),
        tuple(enc.numeric_nullable[i] for i in num),
        np.ascontiguousarray(enc.categorical[cat]),
        len(names),
        enc.keys,
    )


def value_matrix(enc: Encoded, schema: Schema, names: Sequence[str]) -> F32:
    """One float32 row per column of ``names``: scaled numbers or category codes.

    Numbers are in public-range units (missing = 3.0, more than 1 away from
    any present value); categories are their integer codes (exact in float32).
    """
    slots = column_slots(schema)
    rows = [enc.numeric[i] if is_num else enc.categorical[i].astype(np.float32)
            for is_num, i in (slots[n] for n in names)]
    return np.ascontiguousarray(np.vstack(rows), dtype=np.float32)


def numeric_mask(schema: Schema, names: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Whether each column of ``names`` is numeric (integer, float, datetime)."""
    slots = column_slots(schema)
    return np.array([slots[n][0] for n in names], dtype=bool)

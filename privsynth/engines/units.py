"""Privacy units with several rows: declaring a unit and bounding what one unit contributes.

By default the guarantee protects one row: neighbouring data sets differ by
one row. Declaring ``privacy_unit="patient_id"`` with ``max_rows_per_unit=k``
makes neighbouring data sets differ by *one unit with all its rows* (every
row whose identifier is that value). Before anything is counted, a unit with
more than ``k`` rows keeps ``k`` of them chosen uniformly at random (the rest
are not used, and the report says the bound is applied); ``k`` is public,
chosen by the steward. The engine then scales every sensitivity to ``k``
(the derivations are in docs/units.md and next to each mechanism call).

Why bounding is sound: each unit's kept rows are a uniform random ``k``-subset
of *that unit's* rows, drawn independently of every other unit. So for a
data set ``D`` and its neighbour ``D'`` = ``D`` plus one unit ``u``, the kept
rows of the units they share have the same distribution, and for every fixed
choice of them the two bounded tables differ by the at most ``k`` kept rows
of ``u``. An engine that is epsilon-DP for changes of ``k`` rows is therefore
epsilon-DP for ``D`` and ``D'`` (a mixture, over the same choice, of pairs of
epsilon-close distributions).

The identifier column of a unit must not be nullable: a row whose unit is
unknown could belong to any unit, which no bound can account for. The random
choice of kept rows uses a fresh generator from the operating system (or the
test noise seed in the insecure test mode), never ``random_state``; it is not
privacy noise (which rows are kept is never released, and the guarantee
holds for every choice).

>>> import pandas as pd
>>> import numpy as np
>>> df = pd.DataFrame({"pid": ["a", "a", "a", "b"], "x": [1, 2, 3, 4]})
>>> kept = bound_units(df, "pid", 2, np.random.default_rng(0))
>>> kept["pid"].value_counts().sort_index().tolist()
[2, 1]
"""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np
import pandas as pd

from privsynth._checks import check_int
from privsynth.accounting import Accountant
from privsynth.columns import IdColumn
from privsynth.engines.record import PrivacyUnit
from privsynth.errors import DataValidationError, LedgerError, ParameterError
from privsynth.mechanisms import Noise
from privsynth.schema import Schema


def check_unit(schema: Schema, privacy_unit: object, max_rows_per_unit: object) -> PrivacyUnit:
    """The declared privacy unit, checked against the public schema (reads no data).

    ``privacy_unit`` must name a non-nullable identifier column (kind ``id``)
    and ``max_rows_per_unit`` must be given with it (a whole number >= 1).

    >>> s = Schema.from_dict({"columns": [{"name": "pid", "kind": "id"},
    ...                                   {"name": "ok", "kind": "boolean"}]})
    >>> check_unit(s, "pid", 5).describe()
    "one value of 'pid' with up to 5 of its rows"
    >>> check_unit(s, "ok", 5)
    Traceback (most recent call last):
    ...
    privsynth.errors.ParameterError: privacy_unit='ok' must be an identifier column: ...
    """
    if privacy_unit is None:
        if max_rows_per_unit is not None:
            raise ParameterError("max_rows_per_unit needs privacy_unit=<the identifier column "
                                 "of a unit>; without a unit every row is its own unit")
        return PrivacyUnit()
    if not isinstance(privacy_unit, str) or privacy_unit not in schema.names:
        raise ParameterError(f"privacy_unit={privacy_unit!r} is not a column of the schema; "
                             f"columns are {list(schema.names)}")
    col = schema[privacy_unit]
    if not isinstance(col, IdColumn):
        raise ParameterError(
            f"privacy_unit={privacy_unit!r} must be an identifier column: declare it "
            f'{{"name": "{privacy_unit}", "kind": "id"}} in the schema (an identifier is never '
            "modelled, so it cannot leak through the synthetic data)")
    if col.nullable:
        raise ParameterError(
            f"the privacy unit's column {privacy_unit!r} is declared nullable; a row without "
            "an identifier could belong to any unit, so no bound on a unit's rows would hold. "
            "Declare it with nullable false and remove (or assign) rows without one.")
    if max_rows_per_unit is None:
        raise ParameterError(
            "privacy_unit needs max_rows_per_unit=k: the most rows of one unit the fit uses "
            "(a unit with more keeps a random k). k is public; choose it from what you know "
            "of the data's design (e.g. the number of visits a study allows), not by looking "
            "at the data.")
    k = check_int("max_rows_per_unit", max_rows_per_unit, lo=1)
    return PrivacyUnit(privacy_unit, k)


def check_ledger_unit(accountant: Accountant | None, unit: PrivacyUnit) -> None:
    """A ledger protects one kind of unit: the fit's unit must be the ledger's.

    A unit-level release composes with others only under the same neighbouring
    relation, so a row-level fit cannot be charged to a unit-level ledger (its
    epsilon would not bound a unit), nor the other way round (the ledger would
    then state a row-level total for releases that protect more).
    """
    if accountant is None or accountant.unit == unit.column:
        return
    if accountant.unit is None:
        raise LedgerError(
            f"this ledger protects one row, but the fit declares the privacy unit "
            f"{unit.column!r}; a ledger protects one kind of unit. Fit without privacy_unit, "
            "or keep the spends of this unit in a ledger created with "
            f"unit={unit.column!r}. Nothing was spent.")
    wanted = "one row" if unit.column is None else f"the unit {unit.column!r}"
    raise LedgerError(
        f"this ledger protects the privacy unit {accountant.unit!r} (all rows of one "
        f"identifier), but the fit protects {wanted}; a ledger protects one kind of unit. "
        f"Fit with privacy_unit={accountant.unit!r} and max_rows_per_unit=k. Nothing was "
        "spent.")


def unit_generator(noise: Noise) -> np.random.Generator:
    """The generator choosing kept rows: fresh from the OS, or the test seed in test mode."""
    if noise.reproducible:
        return noise.generator()
    return np.random.Generator(np.random.PCG64DXSM(secrets.randbits(256)))


def bound_units(df: pd.DataFrame, column: str, k: int, rng: np.random.Generator
                ) -> pd.DataFrame:
    """The rows of ``df`` with at most ``k`` per value of ``column``, a uniform random choice.

    Rows keep their order. Each unit's kept rows are a uniform ``k``-subset of
    its own rows (a uniform random ranking within the unit), independent of
    the other units.
    """
    n = len(df)
    codes, _ = pd.factorize(df[column], use_na_sentinel=True)
    u = rng.random(n)
    order = np.lexsort((u, codes))  # by unit, random order within a unit
    ranked = codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ranked)) + 1] if n else np.zeros(0, np.int64)
    lengths = np.diff(np.r_[starts, n])
    rank = np.arange(n) - np.repeat(starts, lengths)
    keep = np.zeros(n, dtype=bool)
    keep[order[rank < k]] = True
    return df[keep]


def count_prefixed(values: pd.Series, prefix: str) -> int:
    """How many present identifiers start with ``prefix`` (a count, never a value).

    >>> count_prefixed(pd.Series(["SYN-1", "N1", None]), "SYN-")
    1
    """
    present = values.dropna().astype(str)
    return int(present.str.startswith(prefix).sum())


def check_fresh_prefix(data: pd.DataFrame, schema: Schema) -> None:
    """Refuse real identifiers that start with their column's synthetic prefix.

    Synthetic identifiers are ``prefix`` + a number, so a real identifier
    without the prefix can never equal one. The message gives counts only.
    """
    for name in schema.id_columns:
        col = schema[name]
        assert isinstance(col, IdColumn)
        clash = count_prefixed(data[name], col.prefix)
        if clash:
            raise DataValidationError(
                f"column {name!r}: {clash} identifier(s) start with {col.prefix!r}, the prefix "
                "of synthetic identifiers; choose another 'prefix' for this id column in the "
                "schema, one that no real identifier starts with (synthetic identifiers must "
                "never equal real ones). Nothing was spent.",
                [{"column": name, "problem": "starts with the synthetic prefix",
                  "rows": clash}])


def modelled_rows(data: Any, schema: Schema, unit: PrivacyUnit, noise: Noise) -> Any:
    """What an engine learns from: at most ``k`` rows per unit, identifier columns dropped.

    ``data`` is the conformed table. Without identifier columns it is returned
    as it is (a row-level fit of any data the engine accepts).
    """
    if not schema.id_columns:
        return data
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(
            f"the schema has identifier columns {list(schema.id_columns)}, which privsynth "
            "drops from pandas DataFrames only for now; read the table with "
            "privsynth.read_table first. Nothing was spent.")
    check_fresh_prefix(data, schema)
    if unit.column is not None:
        data = bound_units(data, unit.column, unit.max_rows, unit_generator(noise))
    return data[list(schema.without_ids().names)]


def with_fresh_ids(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """``frame`` (the modelled columns) with fresh identifiers added, in schema order."""
    if not schema.id_columns:
        return frame
    out: dict[str, Any] = {}
    for col in schema.columns:
        if isinstance(col, IdColumn):
            out[col.name] = pd.Series(col.fresh(len(frame)), index=frame.index, dtype=object)
        else:
            out[col.name] = frame[col.name]
    return pd.DataFrame(out, index=frame.index)


__all__ = ["bound_units", "check_fresh_prefix", "check_ledger_unit", "check_unit",
           "count_prefixed", "modelled_rows", "unit_generator", "with_fresh_ids"]

"""The counting interface: every pass an engine makes over the private rows.

PrivBayes touches the data only to count: one-way histograms of the encoded
columns, a Bernoulli row subsample for the structure search, and one joint
table per clique. A :class:`CountingBackend` computes those *exact* counts, on
the public bins of a :class:`~privsynth.binning.Discretizer`, wherever the
rows live (a pandas frame, a Dask cluster, files read chunk by chunk). Noise
is never drawn here: the engine adds it in the driver, through
:mod:`privsynth.mechanisms`, after the exact counts have been reduced.

Row selection for the subsample is a counter-based function of a key and the
row's global position (:func:`row_uniforms`), so that every backend selects
the same rows from the same key, however the rows are partitioned.

>>> import numpy as np
>>> clique = Clique(columns=(0, 1), maps=(np.array([0, 1, 1]), np.array([0, 0, 1])),
...                 sizes=(2, 2))
>>> count_clique(np.array([[0, 0], [1, 2], [2, 2]]), clique).tolist()
[1, 0, 0, 2]
>>> bool(np.array_equal(row_uniforms(7, 0, 5)[2:], row_uniforms(7, 2, 3)))
True
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth._checks import check_choice
from privsynth._checks import check_columns as shared_check_columns
from privsynth._types import FloatArray, IntArray
from privsynth.binning import Discretizer
from privsynth.errors import DataValidationError, ParameterError
from privsynth.schema import Schema

#: What to do with values outside a column's public domain (as in
#: :func:`privsynth.validation.validate`); every backend applies the fit's choice.
POLICIES: tuple[str, ...] = ("error", "clip", "map_to_missing")

#: Encoded rows: shape (rows, columns), any unsigned/signed integer dtype.
CodeArray = npt.NDArray[np.integer]

# SplitMix64 constants (Steele, Lea & Flood 2014): a counter-based generator
# whose i-th output depends only on (key, i), so a partition can draw its
# rows' uniforms knowing only its offset.
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@dataclass(frozen=True, eq=False)
class Clique:
    """One joint table to count: cell index = ravel(maps[k][code of columns[k]]).

    ``maps[k]`` sends a fine code of column ``columns[k]`` to a position in
    ``range(sizes[k])`` (e.g. fine code -> level, or -> parent level). Cells are
    laid out row-major in the order of ``columns``.
    """

    columns: tuple[int, ...]
    maps: tuple[IntArray, ...]
    sizes: tuple[int, ...]

    @property
    def cells(self) -> int:
        return math.prod(self.sizes)


def count_clique(codes: CodeArray, clique: Clique) -> IntArray:
    """Exact joint counts of ``clique`` over the encoded rows ``codes``."""
    idx = np.zeros(len(codes), dtype=np.int64)
    for j, m, s in zip(clique.columns, clique.maps, clique.sizes, strict=True):
        idx *= s
        idx += m[codes[:, j]]
    return np.bincount(idx, minlength=clique.cells).astype(np.int64, copy=False)


def count_cliques(codes: CodeArray, cliques: Sequence[Clique]) -> list[IntArray]:
    """:func:`count_clique` for several cliques, mapping each (column, map) once."""
    mapped: dict[tuple[int, int], IntArray] = {}
    out = []
    for clique in cliques:
        idx = np.zeros(len(codes), dtype=np.int64)
        for j, m, s in zip(clique.columns, clique.maps, clique.sizes, strict=True):
            key = (j, id(m))
            if key not in mapped:
                mapped[key] = m[codes[:, j]]
            idx *= s
            idx += mapped[key]
        out.append(np.bincount(idx, minlength=clique.cells).astype(np.int64, copy=False))
    return out


def histograms(codes: CodeArray, sizes: Sequence[int]) -> list[IntArray]:
    """One-way counts of every column of ``codes`` (``sizes[j]`` cells each)."""
    return [np.bincount(codes[:, j], minlength=s).astype(np.int64, copy=False)
            for j, s in enumerate(sizes)]


def row_uniforms(key: int, start: int, n: int) -> FloatArray:
    """Uniforms in [0, 1) for the rows at global positions ``start .. start + n - 1``.

    SplitMix64 output ``start + i`` of the stream ``key``: a function of the key
    and the position only, so partitions compute their part independently.
    """
    pos = np.arange(start + 1, start + n + 1, dtype=np.uint64)
    z = pos * _GAMMA + np.uint64(key % 2**64)
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)


def bernoulli_rows(key: int, start: int, n: int, rate: float) -> npt.NDArray[np.bool_]:
    """Which of ``n`` rows starting at global position ``start`` a Bernoulli(rate) sample keeps."""
    if rate >= 1.0:
        return np.ones(n, dtype=bool)
    return row_uniforms(key, start, n) < rate


def compact_dtype(sizes: Sequence[int]) -> np.dtype[np.integer]:
    """The smallest integer dtype holding every fine code (saves memory on workers)."""
    top = max(sizes, default=1)
    for dt in (np.uint8, np.uint16, np.int32):
        if top <= np.iinfo(dt).max + 1:
            return np.dtype(dt)
    return np.dtype(np.int64)


def check_columns(names: Sequence[object], schema: Schema) -> None:
    """Refuse data whose column names do not match ``schema`` exactly (names only).

    The package's one column check (:func:`privsynth._checks.check_columns`),
    after refusing repeated names.
    """
    cols = [str(c) for c in names]
    if len(set(cols)) != len(cols):
        raise DataValidationError("the data has duplicated column names; rename them")
    shared_check_columns(cols, schema.names, hint="Drop or describe the extra columns, and "
                         "give every column of the schema")


def encode_frame(df: pd.DataFrame, disc: Discretizer, dtype: np.dtype[np.integer] | None = None,
                 missing_values: Sequence[str] = ("",),
                 on_out_of_domain: str = "error") -> CodeArray:
    """Validate one frame (or partition) against the schema and encode it.

    An empty frame gives an empty code array (partitions may be empty; the
    whole table being empty is checked once, by the backend). Text cells equal
    to one of ``missing_values`` (after stripping) are missing; values outside
    a column's domain are handled by ``on_out_of_domain`` (the fit's policy:
    every chunk of a file is treated as the same rows given as a DataFrame).
    """
    from privsynth.validation import validate

    d = len(disc.bins)
    dt = dtype if dtype is not None else np.dtype(np.int64)
    if len(df) == 0:
        return np.empty((0, d), dtype=dt)
    check_columns(list(df.columns), disc.schema)
    valid = validate(df[list(disc.schema.names)], disc.schema,
                     on_out_of_domain=check_policy(on_out_of_domain),  # type: ignore[arg-type]
                     missing_values=tuple(missing_values))
    codes = disc.encode(valid)
    return codes if codes.dtype == dt else codes.astype(dt)


def check_missing_values(missing_values: object) -> tuple[str, ...]:
    """``missing_values`` as a tuple of strings, else a ParameterError.

    >>> check_missing_values(["", "NA"])
    ('', 'NA')
    """
    if isinstance(missing_values, str) or not isinstance(missing_values, Sequence) or not all(
            isinstance(t, str) for t in missing_values):
        raise ParameterError(f"missing_values={missing_values!r}; allowed: a sequence of "
                             "strings, e.g. ('', 'NA')")
    return tuple(missing_values)


def check_policy(on_out_of_domain: object) -> str:
    """``on_out_of_domain`` if it is one of :data:`POLICIES`, else a ParameterError.

    >>> check_policy("clip")
    'clip'
    """
    return check_choice("on_out_of_domain", on_out_of_domain, POLICIES)


class CountingBackend(ABC):
    """Exact counts over one private table, encoded on a public discretizer.

    Implementations differ only in where the rows are and how a pass over them
    is run; every method returns exact counts (or a small row subsample) to the
    driver, which adds noise. ``n_rows`` is for bookkeeping (e.g. refusing an
    empty table); it must never set a sensitivity or a noise scale.
    """

    name: ClassVar[str] = "base"

    def __init__(self, discretizer: Discretizer) -> None:
        self.discretizer = discretizer
        self.sizes = tuple(int(s) for s in discretizer.sizes)

    @abstractmethod
    def histograms(self) -> list[IntArray]:
        """Exact one-way counts of every column's fine codes (schema order)."""

    @abstractmethod
    def joint_counts(self, cliques: Sequence[Clique]) -> list[IntArray]:
        """Exact counts of each clique's joint table, flattened row-major."""

    @abstractmethod
    def bernoulli_subsample(self, rate: float, key: int) -> CodeArray:
        """Fine codes of the rows kept by ``bernoulli_rows(key, position, 1, rate)``.

        Positions are global row numbers (partition offsets added), so the
        selection does not depend on the partitioning. With ``rate >= 1``
        every row is returned. The result is brought to the driver: call it
        only with a rate that keeps it small.
        """

    @property
    @abstractmethod
    def n_rows(self) -> int:
        """Exact number of rows (never used for a sensitivity or noise scale)."""

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release cached codes held by the backend (default: nothing to do)."""

    def __enter__(self) -> CountingBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""The DP-CTGAN data representation: public bins plus an offset, one-hot categories.

CTGAN normalizes each numeric column by the modes of a Gaussian mixture fitted
to the data ("mode-specific normalization"). Those modes are a function of the
private data and would need a DP mechanism of their own. Here they are
replaced by the *public* bins of :class:`~privsynth.binning.Discretizer`:
a numeric value is the one-hot of its bin plus a scalar offset in ``[-1, 1]``
locating it within the bin. The bins depend on the schema only, so this
representation costs no privacy budget and a model file can rebuild it from
the schema.

Every column is one *span* of the row vector:

- categorical / boolean: a one-hot over its codes (missing is a code);
- integer / float / datetime: a one-hot over its bins (missing is a code)
  followed by one offset unit.

The discrete columns (categorical and boolean) are the ones the conditional
vector of training-by-sampling refers to.

>>> from privsynth.schema import Schema
>>> s = Schema.from_dict({"columns": [
...     {"name": "c", "kind": "categorical", "categories": ["a", "b"]},
...     {"name": "x", "kind": "float", "lower": 0, "upper": 1}]})
>>> lay = GanLayout(s, max_bins=3)
>>> lay.dim, [sp.kind for sp in lay.spans]
(6, ['onehot', 'onehot', 'offset'])
>>> x, cond = lay.encode(pd.DataFrame({"c": ["b"], "x": [0.75]}))
>>> x.tolist(), cond.tolist()
([[0.0, 1.0, 0.0, 0.0, 1.0, 0.0]], [[1]])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth._types import FloatArray, IntArray
from privsynth.binning import ColumnBins, Discretizer, finish_numeric
from privsynth.columns import DatetimeColumn
from privsynth.schema import Schema

F32Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Span:
    """A slice ``[start, start + size)`` of the row vector and how to activate it."""

    column: int
    kind: str  # "onehot" (softmax) or "offset" (tanh)
    start: int
    size: int

    @property
    def stop(self) -> int:
        return self.start + self.size


class GanLayout:
    """Row-vector layout of a schema for the GAN; a function of the public schema only.

    Parameters
    ----------
    schema : Schema
        Public domains.
    max_bins : int
        Public bins per numeric column (see :class:`~privsynth.binning.Discretizer`).
    """

    def __init__(self, schema: Schema, max_bins: int) -> None:
        self.schema = schema
        self.discretizer = Discretizer(schema, max_bins=max_bins)
        spans: list[Span] = []
        pos = 0
        discrete: list[int] = []
        for j, b in enumerate(self.discretizer.bins):
            spans.append(Span(j, "onehot", pos, b.size))
            pos += b.size
            if b.column.is_numeric:
                spans.append(Span(j, "offset", pos, 1))
                pos += 1
            else:
                discrete.append(j)
        self.spans: tuple[Span, ...] = tuple(spans)
        self.dim = pos
        #: columns the conditional vector refers to (categorical and boolean)
        self.discrete: tuple[int, ...] = tuple(discrete)
        sizes = [self.discretizer.bins[j].size for j in discrete]
        #: where each discrete column's categories start in the conditional vector
        self.cond_offsets: tuple[int, ...] = tuple(int(v) for v in np.cumsum([0, *sizes])[:-1])
        self.cond_sizes: tuple[int, ...] = tuple(sizes)
        self.cond_dim = int(sum(sizes))
        self._onehot = {sp.column: sp for sp in spans if sp.kind == "onehot"}
        self._offset = {sp.column: sp for sp in spans if sp.kind == "offset"}

    def onehot_span(self, column: int) -> Span:
        return self._onehot[column]

    def groups(self, max_groups: int) -> list[IntArray]:
        """Per column, the coarse group of each code (public, from the schema only).

        Discrete columns keep one group per code. A numeric column with more
        than ``max_groups`` value codes keeps its point bin at the lower bound
        (zero-inflated columns) and merges the other bins into contiguous runs;
        missing is its own group. Used for the 2-way marginals that guide the
        generator.

        >>> from privsynth.schema import Schema
        >>> s = Schema.from_dict({"columns": [
        ...     {"name": "x", "kind": "integer", "lower": 0, "upper": 9, "nullable": True}]})
        >>> GanLayout(s, max_bins=10).groups(4)[0].tolist()
        [0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4]
        """
        out: list[IntArray] = []
        for b in self.discretizer.bins:
            nv = b.n_values
            if not b.column.is_numeric or nv <= max_groups:
                out.append(np.arange(b.size, dtype=np.int64))
                continue
            inner = 1 + ((np.arange(1, nv) - 1) * (max_groups - 1)) // (nv - 1)
            g = np.concatenate([[0], inner]).astype(np.int64)
            if b.missing_code is not None:
                g = np.concatenate([g, [max_groups]]).astype(np.int64)
            out.append(g)
        return out

    # ---------------------------------------------------------------- encode
    def encode(self, df: pd.DataFrame) -> tuple[F32Array, IntArray]:
        """Row vectors (n, dim) and the codes of the discrete columns (n, n_discrete).

        ``df`` must be validated against the schema (codes are in range).
        """
        codes = self.discretizer.encode(df)
        n = len(df)
        x = np.zeros((n, self.dim), dtype=np.float32)
        rows = np.arange(n)
        for j, b in enumerate(self.discretizer.bins):
            oh = self._onehot[j]
            x[rows, oh.start + codes[:, j]] = 1.0
            if j in self._offset:
                x[:, self._offset[j].start] = _offsets(b, df[b.column.name], codes[:, j])
        return x, codes[:, list(self.discrete)].astype(np.int64)

    # ---------------------------------------------------------------- decode
    def decode(self, codes: IntArray, offsets: FloatArray) -> pd.DataFrame:
        """A DataFrame from per-column codes (n, d) and offsets (n, d; unused for discrete)."""
        out: dict[str, pd.Series] = {}
        rng = np.random.default_rng(0)  # unused by discrete columns; Discretizer's signature
        for j, b in enumerate(self.discretizer.bins):
            c = b.column
            if not c.is_numeric:
                out[c.name] = self.discretizer.decode_column(b, codes[:, j], rng)
            else:
                out[c.name] = _decode_numeric(b, codes[:, j], offsets[:, j])
        return pd.DataFrame(out)


def _offsets(bins: ColumnBins, values: pd.Series, codes: IntArray) -> F32Array:
    """Position of each value within its bin, in [-1, 1] (0 for point bins and missing)."""
    c = bins.column
    x = c.to_units(values) if isinstance(c, DatetimeColumn) else values
    xv = pd.to_numeric(x, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    edges = np.asarray(bins.edges, dtype=np.float64)
    k = np.clip(codes, 0, bins.n_values - 1)
    lo, hi = edges[k], edges[k + 1]
    if bins.integral:
        # bin holds integers lo .. hi-1; their centres spread evenly over [-1, 1]
        width = np.maximum(hi - lo, 1.0)
        u = 2.0 * (xv - lo + 0.5) / width - 1.0
        u = np.where(width <= 1.0, 0.0, u)
    else:
        width = hi - lo
        safe = np.where(width > 0, width, 1.0)
        u = np.where(width > 0, 2.0 * (xv - lo) / safe - 1.0, 0.0)
    u = np.where(np.isfinite(xv) & (codes < bins.n_values), u, 0.0)
    return np.clip(u, -1.0, 1.0).astype(np.float32)


def _decode_numeric(bins: ColumnBins, codes: IntArray, offsets: FloatArray) -> pd.Series:
    """Values from bin codes and offsets, in the dtypes of :class:`Discretizer` output."""
    c = bins.column
    codes = np.asarray(codes, dtype=np.int64)
    missing = codes == bins.missing_code if bins.missing_code is not None else None
    edges = np.asarray(bins.edges, dtype=np.float64)
    k = np.clip(codes, 0, bins.n_values - 1)
    lo, hi = edges[k], edges[k + 1]
    frac = (np.clip(np.asarray(offsets, dtype=np.float64), -1.0, 1.0) + 1.0) / 2.0
    if bins.integral:
        width = np.maximum(hi - lo, 1.0)
        x = np.clip(lo + np.floor(frac * width), lo, lo + width - 1.0)
    else:
        x = np.where(hi > lo, lo + frac * (hi - lo), lo)
    return finish_numeric(c, x, missing)


__all__ = ["GanLayout", "Span"]

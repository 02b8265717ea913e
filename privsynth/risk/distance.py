"""Gower distance on the public schema, exact nearest neighbours, DCR and NNDR.

The Gower distance between two rows is the mean over the schema's columns of

- ``|x - y| / (upper - lower)`` for integer, float and datetime columns, with
  the *public* bounds of the schema (values are clipped to them);
- 0 if the categories (or booleans) are equal and 1 otherwise;
- for missing values: 0 if both are missing, 1 if only one is.

It lies in ``[0, 1]``: 0 for identical rows, 1 for rows that differ as much as
the schema allows in every column.

:func:`nearest_neighbors` is an exact brute-force search, made fast by working
on cache-sized tiles of the distance matrix with vectorized numpy and running
blocks of query rows on several threads (numpy releases the GIL). On 2 cores
it searches 50,000 x 50,000 rows of 15 columns in about 10 s
(``benchmarks/bench_nn.py``).

:func:`distance_diagnostics` summarises how close a synthetic table sits to
the training rows compared with holdout rows of the same population. These are
**diagnostics, not proof of privacy**: a release can pass them and still leak
(an attacker may use other features than nearest distances), and a DP release
can fail them on small data sets by chance.

Example
-------
>>> import pandas as pd
>>> from privsynth.schema import Schema
>>> s = Schema.from_dict({"columns": [
...     {"name": "age", "kind": "integer", "lower": 0, "upper": 100},
...     {"name": "sex", "kind": "categorical", "categories": ["F", "M"]}]})
>>> ref = pd.DataFrame({"age": [20, 60, 30], "sex": ["F", "M", "M"]})
>>> d, i = nearest_neighbors(pd.DataFrame({"age": [25], "sex": ["M"]}), ref, s, k=2)
>>> d.round(3).tolist(), i.tolist()
([[0.025, 0.175]], [[2, 1]])
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth._checks import check_int
from privsynth.errors import DataValidationError, ResourceLimitError
from privsynth.risk._encode import Encoded, encode
from privsynth.schema import Schema

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# Tile of the distance matrix worked on at once: 64 x 2048 float32 is 512 KiB,
# which stays in a core's L2 cache across the ~3 passes per column.
_QUERY_BLOCK = 64
_REF_BLOCK = 2048
# Above this k a partial sort of the tile beats k successive argmin passes.
_ARGMIN_MAX_K = 8
# Reported distances are rounded to this many decimals (far below any real gap).
_DECIMALS = 12
# Largest full distance matrix :func:`gower_distances` builds (float64 cells).
MAX_MATRIX_CELLS = 50_000_000

#: Fixed bin edges of the DCR histograms (Gower distances lie in [0, 1]).
HISTOGRAM_EDGES: tuple[float, ...] = tuple(float(x) for x in np.linspace(0.0, 1.0, 51))
#: Quantiles reported for DCR and NNDR (never per-row values).
QUANTILES: tuple[float, ...] = (0.05, 0.5, 0.95)


def _check_n_jobs(n_jobs: object) -> int:
    if n_jobs is None:
        return max(1, os.cpu_count() or 1)
    return check_int("n_jobs", n_jobs, lo=1)


def _check_k(k: object, n_reference: int) -> int:
    k = check_int("k", k, lo=1)
    if k > n_reference:
        raise DataValidationError(
            f"k={k} nearest neighbours asked but the reference table has only "
            f"{n_reference} row(s); lower k or give more reference rows"
        )
    return k


class _Tiles:
    """Per-thread scratch buffers and the code that fills one distance tile."""

    def __init__(self, q: Encoded, r: Encoded, rows: int) -> None:
        self.q, self.r = q, r
        shape = (rows, _REF_BLOCK)
        self.dist = np.empty(shape, np.float32)
        self.tmp = np.empty(shape, np.float32)
        # mismatch counts stay small integers: count them in the narrowest type
        count_type = np.uint8 if q.categorical.shape[0] < 255 else np.uint32
        self.count = np.empty(shape, count_type)
        self.neq = np.empty(shape, np.bool_)

    def sums(self, q0: int, q1: int, r0: int, r1: int) -> F32:
        """Sum over columns of per-column distances for queries q0:q1, refs r0:r1."""
        shape = (q1 - q0, r1 - r0)
        dist = self.dist[: shape[0], : shape[1]]
        tmp = self.tmp[: shape[0], : shape[1]]
        q, r = self.q, self.r
        n_cat = q.categorical.shape[0]
        if n_cat:
            count = self.count[: shape[0], : shape[1]]
            neq = self.neq[: shape[0], : shape[1]]
            count.fill(0)
            for j in range(n_cat):
                np.not_equal(q.categorical[j, q0:q1, None], r.categorical[j, None, r0:r1], out=neq)
                np.add(count, neq.view(np.uint8), out=count, casting="unsafe")
            np.copyto(dist, count, casting="unsafe")
        else:
            dist.fill(0.0)
        for j in range(q.numeric.shape[0]):
            np.subtract(q.numeric[j, q0:q1, None], r.numeric[j, None, r0:r1], out=tmp)
            np.abs(tmp, out=tmp)
            if q.numeric_nullable[j] or r.numeric_nullable[j]:
                # one side missing gives a difference >= 2: the distance is 1
                np.minimum(tmp, np.float32(1.0), out=tmp)
            np.add(dist, tmp, out=dist)
        return dist


def _tile_top_k(dist: F32, k: int) -> tuple[F32, I64]:
    """The k smallest entries of each row of ``dist`` (may overwrite ``dist``)."""
    k = min(k, dist.shape[1])
    if k <= _ARGMIN_MAX_K:
        rows = np.arange(dist.shape[0])
        vals = np.empty((dist.shape[0], k), np.float32)
        idx = np.empty((dist.shape[0], k), np.int64)
        for t in range(k):
            i = dist.argmin(axis=1)
            idx[:, t] = i
            vals[:, t] = dist[rows, i]
            dist[rows, i] = np.inf
        return vals, idx
    part = np.argpartition(dist, k - 1, axis=1)[:, :k]
    return np.take_along_axis(dist, part, axis=1), part.astype(np.int64)


def _knn_block(q: Encoded, r: Encoded, k: int, q0: int, q1: int) -> tuple[F32, I64]:
    tiles = _Tiles(q, r, q1 - q0)
    best_d = np.full((q1 - q0, k), np.inf, np.float32)
    best_i = np.full((q1 - q0, k), -1, np.int64)
    for r0 in range(0, r.n_rows, _REF_BLOCK):
        r1 = min(r0 + _REF_BLOCK, r.n_rows)
        vals, idx = _tile_top_k(tiles.sums(q0, q1, r0, r1), k)
        all_d = np.concatenate([best_d, vals], axis=1)
        all_i = np.concatenate([best_i, idx + r0], axis=1)
        # stable: among equal distances the earlier (lower) reference index wins
        order = np.argsort(all_d, axis=1, kind="stable")[:, :k]
        best_d = np.take_along_axis(all_d, order, axis=1)
        best_i = np.take_along_axis(all_i, order, axis=1)
    return best_d, best_i


def knn_encoded(q: Encoded, r: Encoded, k: int, n_jobs: int | None = None) -> tuple[F64, I64]:
    """Exact k nearest neighbours between encoded tables (Gower means, indices)."""
    k = _check_k(k, r.n_rows)
    jobs = _check_n_jobs(n_jobs)
    starts = list(range(0, q.n_rows, _QUERY_BLOCK))
    bounds = [(s, min(s + _QUERY_BLOCK, q.n_rows)) for s in starts]
    if jobs == 1 or len(bounds) == 1:
        parts = [_knn_block(q, r, k, a, b) for a, b in bounds]
    else:
        with ThreadPoolExecutor(max_workers=min(jobs, len(bounds))) as pool:
            parts = list(pool.map(lambda ab: _knn_block(q, r, k, ab[0], ab[1]), bounds))
    if not parts:
        return np.empty((0, k)), np.empty((0, k), np.int64)
    idx = np.concatenate([p[1] for p in parts])
    # The search ranks in float32; the reported distances are recomputed in
    # float64 for the k chosen pairs, and re-sorted in case of near ties.
    dist = pair_distances(q, np.repeat(np.arange(q.n_rows), k), r, idx.ravel()).reshape(idx.shape)
    order = np.argsort(dist, axis=1, kind="stable")
    return np.take_along_axis(dist, order, axis=1), np.take_along_axis(idx, order, axis=1)


def pair_distances(q: Encoded, q_rows: I64, r: Encoded, r_rows: I64) -> F64:
    """Gower distances in float64 between rows ``q_rows`` of q and ``r_rows`` of r, pairwise."""
    total = np.zeros(len(q_rows), np.float64)
    if q.categorical.shape[0]:
        total += np.count_nonzero(q.categorical[:, q_rows] != r.categorical[:, r_rows], axis=0)
    if q.offsets.shape[0]:
        a, b = q.offsets[:, q_rows], r.offsets[:, r_rows]
        part = np.abs(a - b) / np.asarray(q.ranges)[:, None]
        miss_a, miss_b = np.isnan(a), np.isnan(b)
        part = np.where(miss_a & miss_b, 0.0, np.where(miss_a | miss_b, 1.0, part))
        total += part.sum(axis=0)
    # rounding makes mathematically equal distances compare equal despite the
    # order of floating-point additions (ties matter: they are split half/half)
    return np.round(total / q.n_columns, _DECIMALS)


def pairwise_encoded(q: Encoded, r: Encoded) -> F64:
    """The full Gower distance matrix between two small encoded tables."""
    cells = q.n_rows * r.n_rows
    if cells > MAX_MATRIX_CELLS:
        raise ResourceLimitError(
            f"a {q.n_rows} x {r.n_rows} distance matrix is above the limit of "
            f"{MAX_MATRIX_CELLS} cells; use nearest_neighbors for large tables"
        )
    out = np.empty((q.n_rows, r.n_rows), np.float64)
    tiles = _Tiles(q, r, _QUERY_BLOCK)
    for q0 in range(0, q.n_rows, _QUERY_BLOCK):
        q1 = min(q0 + _QUERY_BLOCK, q.n_rows)
        for r0 in range(0, r.n_rows, _REF_BLOCK):
            r1 = min(r0 + _REF_BLOCK, r.n_rows)
            out[q0:q1, r0:r1] = tiles.sums(q0, q1, r0, r1)
    return out / q.n_columns


def nearest_neighbors(
    query_df: pd.DataFrame,
    reference_df: pd.DataFrame,
    schema: Schema,
    k: int = 2,
    *,
    n_jobs: int | None = None,
) -> tuple[F64, I64]:
    """Exact k nearest reference rows of every query row under the Gower distance.

    Parameters
    ----------
    query_df, reference_df : DataFrame
        Tables with exactly the schema's columns; values are validated against
        the schema (numbers outside the public bounds are clipped to them).
    schema : Schema
        Public domains used for scaling (see the module docstring).
    k : int, default 2
        Neighbours per query row; at most the number of reference rows.
    n_jobs : int or None
        Threads to use; None uses every CPU.

    Returns
    -------
    distances : ndarray of float64, shape (n_query, k)
        Gower distances in ``[0, 1]``, ascending along each row.
    indices : ndarray of int64, shape (n_query, k)
        Positions (0-based, not index labels) of the neighbours in
        ``reference_df``. Among equal distances the lower position comes first.

    Examples
    --------
    >>> import pandas as pd
    >>> s = Schema.from_dict({"columns": [{"name": "x", "kind": "float", "lower": 0, "upper": 10}]})
    >>> d, i = nearest_neighbors(pd.DataFrame({"x": [1.0]}), pd.DataFrame({"x": [4.0, 2.0]}), s)
    >>> d.round(6).tolist(), i.tolist()
    ([[0.1, 0.3]], [[1, 0]])
    """
    q = encode(query_df, schema, "the query table")
    r = encode(reference_df, schema, "the reference table")
    return knn_encoded(q, r, k, n_jobs)


def gower_distances(a: pd.DataFrame, b: pd.DataFrame, schema: Schema) -> F64:
    """The full matrix of Gower distances between the rows of two small tables.

    Raises :class:`~privsynth.errors.ResourceLimitError` above
    ``MAX_MATRIX_CELLS`` cells; use :func:`nearest_neighbors` for large tables.

    Examples
    --------
    >>> import pandas as pd
    >>> s = Schema.from_dict({"columns": [
    ...     {"name": "x", "kind": "float", "lower": 0, "upper": 10, "nullable": True},
    ...     {"name": "c", "kind": "categorical", "categories": ["a", "b"]}]})
    >>> a = pd.DataFrame({"x": [0.0, None], "c": ["a", "b"]})
    >>> gower_distances(a, a, s).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    return pairwise_encoded(encode(a, schema, "the first table"),
                            encode(b, schema, "the second table"))


# --------------------------------------------------------------------------- diagnostics
def summary(values: F64) -> dict[str, float]:
    """Mean and the 5/50/95 % quantiles: the only form per-row distances leave in."""
    qs = np.quantile(values, QUANTILES)
    out = {f"q{round(p * 100):02d}": float(v) for p, v in zip(QUANTILES, qs, strict=True)}
    out["mean"] = float(np.mean(values))
    return out


def histogram(values: F64) -> list[int]:
    """Counts of ``values`` in the fixed bins ``HISTOGRAM_EDGES`` (right edge included)."""
    counts, _ = np.histogram(np.clip(values, 0.0, 1.0), bins=np.asarray(HISTOGRAM_EDGES))
    return [int(c) for c in counts]


def nndr(distances: F64) -> F64:
    """Nearest-neighbour distance ratio ``d1 / d2`` from a (n, >=2) distance array.

    When the second distance is 0, the first is 0 too and the row sits on
    several identical records: the ratio is taken as 1 (not unique to one).
    """
    d1, d2 = distances[:, 0], distances[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d2 > 0, d1 / np.where(d2 > 0, d2, 1.0), 1.0)


def closer_share(to_train: F64, to_holdout: F64) -> float:
    """Share of rows strictly closer to train, counting ties as half."""
    closer = np.count_nonzero(to_train < to_holdout)
    ties = np.count_nonzero(to_train == to_holdout)
    return float((closer + 0.5 * ties) / len(to_train))


def _subsample(n: int, m: int, rng: np.random.Generator) -> I64:
    if m >= n:
        return np.arange(n, dtype=np.int64)
    return np.sort(rng.choice(n, size=m, replace=False)).astype(np.int64)


def diagnostics_encoded(
    train: Encoded,
    holdout: Encoded,
    synthetic: Encoded,
    rng: np.random.Generator,
    max_records: int | None = None,
    n_jobs: int | None = None,
) -> dict[str, Any]:
    """:func:`distance_diagnostics` on encoded tables."""
    if train.n_rows < 2 or holdout.n_rows < 2:
        raise DataValidationError(
            "distance diagnostics need at least 2 training and 2 holdout rows "
            f"(NNDR uses the second nearest record); got {train.n_rows} and {holdout.n_rows}"
        )
    m = min(train.n_rows, holdout.n_rows)
    if max_records is not None:
        m = min(m, max_records)
    m = max(m, 2)
    tr = train.take(_subsample(train.n_rows, m, rng))
    ho = holdout.take(_subsample(holdout.n_rows, m, rng))
    n_syn = synthetic.n_rows if max_records is None else min(synthetic.n_rows, max_records)
    syn = synthetic.take(_subsample(synthetic.n_rows, n_syn, rng))

    d_tr, _ = knn_encoded(syn, tr, 2, n_jobs)
    d_ho, _ = knn_encoded(syn, ho, 2, n_jobs)
    copies = int(np.count_nonzero(np.isin(synthetic.keys, train.keys)))
    holdout_copies = int(np.count_nonzero(np.isin(synthetic.keys, holdout.keys)))
    return {
        "n_synthetic": int(n_syn),
        "n_reference": int(m),
        "dcr_train": summary(d_tr[:, 0]),
        "dcr_holdout": summary(d_ho[:, 0]),
        "nndr_train": summary(nndr(d_tr)),
        "nndr_holdout": summary(nndr(d_ho)),
        "share_closer_to_train": closer_share(d_tr[:, 0], d_ho[:, 0]),
        "exact_copies": copies,
        "exact_copy_share": copies / synthetic.n_rows,
        "holdout_exact_copies": holdout_copies,
        "holdout_exact_copy_share": holdout_copies / synthetic.n_rows,
        "histogram": {
            "edges": list(HISTOGRAM_EDGES),
            "dcr_train": histogram(d_tr[:, 0]),
            "dcr_holdout": histogram(d_ho[:, 0]),
        },
    }


def distance_diagnostics(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    *,
    random_state: int = 0,
    max_records: int | None = None,
    n_jobs: int | None = None,
) -> dict[str, Any]:
    """Distance diagnostics of a synthetic table: DCR, NNDR, closer-to-train share, copies.

    These are **diagnostics, not proof of privacy**. They say whether the
    synthetic rows sit suspiciously close to the training rows; a release can
    look fine here and still leak through other features.

    Training and holdout rows are first subsampled to the same size (the
    smaller of the two, and at most ``max_records``) with a generator seeded
    by ``random_state``, so that "closer to train than to holdout" compares
    like with like: if the synthesizer learned nothing specific to the
    training rows, the share is about 0.5. The synthetic rows are subsampled
    to ``max_records`` too. Exact copies are counted on the full tables.

    Parameters
    ----------
    train, holdout, synthetic : DataFrame
        Training rows (members), holdout rows of the same population
        (non-members) and the synthetic release; all with the schema's columns.
    schema : Schema
        Public domains (scales of the Gower distance).
    random_state : int
        Seed of the subsampling.
    max_records : int or None
        Cap on the rows of each table used for the nearest-neighbour searches.
    n_jobs : int or None
        Threads for the searches; None uses every CPU.

    Returns
    -------
    dict
        ``dcr_train`` / ``dcr_holdout``: distance from each synthetic row to
        its closest training / holdout row, as ``{"q05", "q50", "q95", "mean"}``;
        ``nndr_train`` / ``nndr_holdout``: ratio of the closest to the second
        closest distance, same summary; ``share_closer_to_train`` (ties count
        half); ``exact_copies`` and ``exact_copy_share`` (synthetic rows equal
        to some training row), and the same against the holdout;
        ``histogram``: bin counts of both DCRs on fixed edges in [0, 1];
        ``n_synthetic`` and ``n_reference``: the rows used. Only aggregates:
        no per-row distance leaves this function.

    Examples
    --------
    >>> import pandas as pd
    >>> s = Schema.from_dict({"columns": [
    ...     {"name": "x", "kind": "integer", "lower": 0, "upper": 9}]})
    >>> train = pd.DataFrame({"x": [1, 3, 5, 7]})
    >>> holdout = pd.DataFrame({"x": [2, 4, 6, 8]})
    >>> out = distance_diagnostics(train, holdout, train, s)
    >>> out["exact_copies"], out["share_closer_to_train"], out["dcr_train"]["q50"]
    (4, 1.0, 0.0)
    """
    # NNDR needs a second neighbour: at least 2 rows of each table
    max_records = check_int("max_records", max_records, lo=2, none_ok=True)
    tr = encode(train, schema, "the training data")
    ho = encode(holdout, schema, "the holdout")
    syn = encode(synthetic, schema, "the synthetic data")
    rng = np.random.default_rng(check_int("random_state", random_state, lo=0))
    return diagnostics_encoded(tr, ho, syn, rng, max_records, n_jobs)


__all__ = [
    "HISTOGRAM_EDGES",
    "MAX_MATRIX_CELLS",
    "QUANTILES",
    "distance_diagnostics",
    "gower_distances",
    "nearest_neighbors",
]

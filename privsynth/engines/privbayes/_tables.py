"""PrivBayes conditional tables from noisy counts (post-processing of DP outputs).

Two steps, both post-processing (no budget): :func:`consistent_counts` makes
the noisy joint tables agree with each other on every column's one-way
marginal (weighted least squares, the noise variances as weights), then
:func:`conditional` turns each table into P(child | parents).

>>> project_rows(np.array([[5.0, -3.0, 1.0], [-1.0, -2.0, 0.5]]))
array([[3., 0., 0.],
       [0., 0., 0.]])
>>> t = conditional(np.array([10, 0, 0, 10]), 2, [2], scale=1.0)
>>> t.round(2).tolist()
[[0.88, 0.12], [0.12, 0.88]]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from privsynth._types import FloatArray, IntArray

#: Relative probability floor of a level the noisy counts made empty.
_MASS_FLOOR = 1e-6
#: Pseudo-count of a row's prior in :func:`conditional`, in noise standard deviations
#: (Laplace scales) of one cell. Measured on Adult and ACS: 3 beat 1 (1 was neutral).
BACKOFF = 3.0


def project_rows(t: FloatArray) -> FloatArray:
    """Each row of ``t`` projected onto {x >= 0, sum(x) = max(sum(row), 0)} (norm-sub)."""
    total = np.clip(t.sum(axis=1), 0.0, None)
    u = -np.sort(-t, axis=1)
    css = np.cumsum(u, axis=1)
    j = np.arange(1, t.shape[1] + 1)
    ok = u - (css - total[:, None]) / j > 0  # true on a prefix of each sorted row
    last = t.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1)
    shift = (css[np.arange(len(t)), last] - total) / (last + 1)
    out = np.clip(t - shift[:, None], 0.0, None)
    out[total <= 0] = 0.0
    return out


def conditional(noisy: IntArray | FloatArray, n_child: int, parent_sizes: list[int],
                scale: float) -> FloatArray:
    """P(child | parents) of shape (parent configs, child levels) from a noisy joint table.

    ``noisy`` is the (child, parents...) table of noisy counts (flattened or not)
    and ``scale`` the scale of a Laplace noise of the same variance (a public
    number).

    Every parent configuration's row of noisy counts is projected onto
    {x >= 0, sum x = max(noisy total, 0)} (norm-sub: plain clipping at 0 adds
    about half a noise scale to every empty cell; on Adult at epsilon 1 norm-sub
    lowered tvd2 0.083 -> 0.076 and raised TSTR AUC 0.867 -> 0.877, 8 seeds).
    Rows with few rows behind them are mostly noise, so each row is shrunk
    toward a prior with a pseudo-count of ``BACKOFF`` noise standard deviations
    of the row's cells. The prior backs off hierarchically (as in Katz back-off
    smoothing): P(child | a subset of the parents) comes from the same noisy
    table summed over the other parents (more rows per cell, relatively less
    noise), itself shrunk toward the mean of its own one-smaller subsets, down to
    the child's marginal. Post-processing of one table only. Measured (paired
    noise, 6 seeds), against shrinking toward the child's marginal alone:
    tvd2 -0.0004 to -0.0009 on Adult and ACS at epsilon 0.3 / 1 / 3, TSTR AUC
    +0.001 to +0.002 on Adult.

    >>> t = conditional(np.array([10, 0, 0, 10]), 2, [2], scale=1.0)
    >>> t.round(2).tolist()
    [[0.88, 0.12], [0.12, 0.88]]
    """
    k = len(parent_sizes)
    table = np.asarray(noisy, dtype=np.float64).reshape(n_child, *parent_sizes)
    table = np.moveaxis(table, 0, -1)  # (parents..., child)
    n_cfg = math.prod(parent_sizes)
    probs: dict[tuple[int, ...], FloatArray] = {}
    for size in range(k + 1):
        for keep in itertools.combinations(range(k), size):
            drop = tuple(a for a in range(k) if a not in keep)
            summed = table.sum(axis=drop) if drop else table
            rows = project_rows(summed.reshape(-1, n_child)).reshape(summed.shape)
            if size == 0:
                total = rows.sum()
                marg = rows / total if total > 0 else np.full(n_child, 1.0 / n_child)
                probs[keep] = (marg + _MASS_FLOOR / n_child) / (1.0 + _MASS_FLOOR)
                continue
            prior = np.zeros(summed.shape)
            for j in range(size):  # the mean of the one-smaller subsets' conditionals
                prior += np.expand_dims(probs[keep[:j] + keep[j + 1:]], axis=j)
            # a cell here sums n_cfg / cells(keep) cells of the table
            cells_summed = n_cfg // math.prod(parent_sizes[a] for a in keep)
            alpha = BACKOFF * scale * math.sqrt(cells_summed)
            shrunk = rows + alpha * prior / size
            probs[keep] = shrunk / shrunk.sum(axis=-1, keepdims=True)
    return probs[tuple(range(k))].reshape(-1, n_child)


def consistent_counts(network: Sequence[tuple[int, tuple[int, ...]]],
                      tables: Sequence[npt.NDArray[Any]], variances: Sequence[float],
                      to_parent: Sequence[IntArray],
                      histograms: Mapping[int, tuple[npt.NDArray[Any], IntArray, float]]
                      | None = None,
                      ) -> list[FloatArray]:
    """The noisy joint tables made consistent on every column's one-way marginal.

    A column appears in its own table (as the child, at its child levels) and in
    the table of every column it is a parent of (at its coarser parent levels);
    each gives a noisy estimate of the column's marginal at parent levels, and so
    may its noisy one-way histogram (which also refines the column's own table at
    its finer child levels, within every parent level, so the sums the other
    tables agree on stay put). Their inverse-variance weighted mean (a cell
    of a marginal summed from ``m`` table cells of variance ``v`` has variance
    ``m v``) is a better estimate than any one of them; each table is then moved
    to it by the least-squares correction, the marginal's error spread evenly
    over the cells that sum into it (Hay et al., PVLDB 2010, for the idea; the
    one-way consistency step of Qardaji et al.'s PriView, SIGMOD 2014). All
    tables are first moved to one common total (the inverse-variance weighted
    mean of their sums). On a full grid a correction of one column's marginal
    that keeps the total leaves every other column's marginal unchanged, so one
    pass over the columns makes all of them consistent.

    Measured on Adult and ACS (paired noise, 6 seeds, epsilon 0.3 / 1 / 3): tvd2
    lower by 0.0014 / 0.0016 / 0.0010 (Adult) and 0.0043 / 0.0039 / 0.0003
    (ACS), TSTR AUC +0.004 / +0.002 / +0.001 (Adult); the child-level step
    lowered tvd1 and tvd2 by another 0.0002 to 0.0009 on both (TSTR AUC unchanged
    within its standard error).

    Parameters
    ----------
    network : list of (child, parents)
        The network; table ``i`` belongs to ``network[i]``.
    tables : list of arrays
        Noisy counts of table ``i``, flattened or of shape (child levels,
        parent levels...).
    variances : list of float
        The noise variance of one cell of table ``i`` (public).
    to_parent : list of int arrays
        For every column, its child level -> its parent level.
    histograms : mapping, optional
        ``column -> (noisy histogram, fine code -> child level, variance per cell)``.

    Returns
    -------
    list of arrays
        The corrected tables, shaped (child levels, parent levels...).

    Examples
    --------
    Column 0 alone (counts 60, 40) and as the parent of column 1, whose table
    says 50, 50 for column 0 (a sum of two cells, so half the weight): both
    tables move to the weighted mean.

    >>> ident = np.arange(2)
    >>> t = consistent_counts([(0, ()), (1, (0,))],
    ...                       [np.array([60.0, 40.0]), np.array([30.0, 25.0, 20.0, 25.0])],
    ...                       [1.0, 1.0], [ident, ident])
    >>> t[0].round(2).tolist(), t[1].sum(axis=0).round(2).tolist()
    ([56.67, 43.33], [56.67, 43.33])
    """
    tabs: list[FloatArray] = []
    for (child, parents), t in zip(network, tables, strict=True):
        shape = (len(to_parent[child]), *(int(to_parent[p].max()) + 1 for p in parents))
        tabs.append(np.asarray(t, dtype=np.float64).reshape(shape).copy())
    hists = dict(histograms or {})
    # a common total: the sums' inverse-variance weighted mean (variance of a sum: m v)
    weights = [1.0 / (v * t.size) for t, v in zip(tabs, variances, strict=True)]
    sums = [float(t.sum()) for t in tabs]
    for h, _, v in hists.values():
        weights.append(1.0 / (v * h.size))
        sums.append(float(h.sum()))
    total = math.fsum(w * x for w, x in zip(weights, sums, strict=True)) / math.fsum(weights)
    tabs = [t + (total - t.sum()) / t.size for t in tabs]
    for col, to_par in enumerate(to_parent):
        n_par = int(to_par.max()) + 1
        # (table, axis, cells summed per marginal cell, its estimate)
        where: list[tuple[int, int, npt.NDArray[Any], npt.NDArray[Any]]] = []
        for i, (child, parents) in enumerate(network):
            t = tabs[i]
            if child == col:
                per_level = t.sum(axis=tuple(range(1, t.ndim)))
                est = np.bincount(to_par, weights=per_level, minlength=n_par)
                cnt = np.bincount(to_par, minlength=n_par) * (t.size // t.shape[0])
                where.append((i, 0, cnt.astype(np.float64), est))
            elif col in parents:
                axis = 1 + parents.index(col)
                est = t.sum(axis=tuple(a for a in range(t.ndim) if a != axis))
                where.append((i, axis, np.full(n_par, t.size / n_par), est))
        ests: list[tuple[npt.NDArray[Any], npt.NDArray[Any]]] = [
            (est, 1.0 / (variances[i] * np.maximum(cnt, 1.0)))
            for i, _, cnt, est in where]
        if col in hists:
            h, fine_to_level, v = hists[col]
            fine_to_par = to_par[fine_to_level]
            cnt_h = np.bincount(fine_to_par, minlength=n_par).astype(np.float64)
            ests.append((np.bincount(fine_to_par, weights=h, minlength=n_par),
                         1.0 / (v * np.maximum(cnt_h, 1.0))))
        if len(ests) < 2:
            continue
        w_sum = np.sum([w for _, w in ests], axis=0)
        target = np.sum([w * e for e, w in ests], axis=0) / w_sum
        for i, axis, cnt, est in where:
            step = (target - est) / np.maximum(cnt, 1.0)
            t = tabs[i]
            if axis == 0:  # the column's own table: child levels of one parent level
                tabs[i] = t + step[to_par].reshape((-1,) + (1,) * (t.ndim - 1))
            else:
                along = [1] * t.ndim
                along[axis] = n_par
                tabs[i] = t + step.reshape(along)
        own = next((i for i, (c, _) in enumerate(network) if c == col), None)
        if col in hists and own is not None:  # the finer child levels: table and histogram
            h, fine_to_level, v = hists[col]
            tabs[own] = _child_levels(tabs[own], variances[own], to_par, h, fine_to_level, v)
    return tabs


def _child_levels(t: FloatArray, var: float, to_par: IntArray, hist: npt.NDArray[Any],
                  fine_to_level: IntArray, var_h: float) -> FloatArray:
    """The column's own table moved toward its histogram at child levels, keeping the sums
    of every parent level (so the other tables stay consistent)."""
    n_lv = t.shape[0]
    own = t.sum(axis=tuple(range(1, t.ndim)))
    per_level = t.size // n_lv
    cnt_h = np.bincount(fine_to_level, minlength=n_lv).astype(np.float64)
    w_own = 1.0 / (var * per_level)
    w_h = 1.0 / (var_h * np.maximum(cnt_h, 1.0))
    target = (w_own * own + w_h * np.bincount(fine_to_level, weights=hist, minlength=n_lv)) \
        / (w_own + w_h)
    n_par = int(to_par.max()) + 1
    gap = np.bincount(to_par, weights=own - target, minlength=n_par)
    target += gap[to_par] / np.bincount(to_par, minlength=n_par)[to_par]
    return t + ((target - own) / per_level).reshape((-1,) + (1,) * (t.ndim - 1))


__all__ = ["conditional", "consistent_counts", "project_rows"]

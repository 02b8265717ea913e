"""PrivBayes structure: the Bayesian network chosen greedily by the exponential mechanism.

Each step adds one (child, parents) pair, drawn by the exponential mechanism
with the score G(X, P) = 1/2 * || C(X, P) - C(X) C(P) / n ||_1 on counts (the
count form of the paper's R score), whose sensitivity under add/remove-one is
at most 2 whatever n (see :data:`SCORE_SENSITIVITY`), and 2k under add/remove
one privacy unit of at most k rows (:func:`score_sensitivity`). Candidate parent sets
are limited to those whose noisy table would be theta-useful (at most ``cap``
cells), which chooses the degree automatically.

The network is a DAG; :func:`network_graph` gives it as a networkx graph
(names on the nodes) for reports and checks.

>>> table = np.array([[10.0, 0.0], [0.0, 10.0]])
>>> g_score(table)
10.0
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterable, Mapping, Sequence

import networkx as nx
import numpy as np

from privsynth import mechanisms
from privsynth._types import FloatArray, IntArray
from privsynth.backends import CountingBackend
from privsynth.engines.privbayes._levels import Levels
from privsynth.mechanisms import Budget, Noise

log = logging.getLogger("privsynth.engines.privbayes")

#: Sensitivity of G(X, P) = 1/2 ||C(X,P) - C(X)C(P)/n||_1 under add/remove-one.
#: Adding record (x0, p0): the joint table moves by 1 in L1; the product table
#: T = C(x)C(p)/n moves by [n p(x) d_p + n p(p) d_x + d_x d_p - n p(x) p(p)] / (n+1)
#: per cell (d_ = indicator of the new record), whose L1 norm is at most
#: (3n + 1)/(n + 1) < 3. So |dG| <= (1 + 3) / 2 = 2, for every n.
SCORE_SENSITIVITY = 2.0


def score_sensitivity(max_rows: int = 1) -> float:
    """Sensitivity of G when one privacy unit of at most ``max_rows`` rows is added or removed.

    Adding k rows with child/parent indicator sums a (over child values) and
    b (over parent configurations), ||a||_1 = ||b||_1 = k: the joint table moves
    by k in L1. With r, c the child and parent margins (||r||_1 = ||c||_1 = n),
    the product table moves from r c^T / n to (r + a)(c + b)^T / (n + k), a change
    of [a c^T + r b^T + a b^T] / (n + k) - k r c^T / (n (n + k)), whose L1 norm
    is at most (n k + n k + k^2 + n k) / (n + k) = k (3n + k) / (n + k) <= 3k.
    So |dG| <= (k + 3k) / 2 = 2k, for every n: the row bound times k (also
    what k add-one steps of the row bound give, by the triangle inequality).

    >>> score_sensitivity(1), score_sensitivity(20)
    (2.0, 40.0)
    """
    return SCORE_SENSITIVITY * max_rows

#: Candidate (child, parents) pairs scored per structure step at most; above
#: it, parent sets are a random (data-independent) selection. Bounds the work
#: on wide tables (d^(k+1) growth) without affecting privacy.
MAX_CANDIDATES = 2_000

Network = list[tuple[int, tuple[int, ...]]]


def g_score(table: FloatArray) -> float:
    """G = 1/2 ||T - row x col / n||_1 for a 2-d count table (child x parents)."""
    n = table.sum()
    if n <= 0:
        return 0.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    return 0.5 * float(np.abs(table - expected).sum())


def candidate_parent_sets(child: int, chosen: Sequence[int], n_lv: Sequence[int],
                          n_pv: Sequence[int], *, k_max: int, limit: int, fixed_degree: bool,
                          max_sets: int, rng: np.random.Generator,
                          maximal_only: bool = True) -> list[tuple[int, ...]]:
    """Maximal feasible parent sets for ``child`` among ``chosen``.

    Feasible: the table has at most ``limit`` cells (theta-usefulness; with a
    fixed degree, the resource cap). Maximal: no chosen attribute can be
    added without breaking feasibility (G is monotone, so a superset always
    scores at least as high). With ``maximal_only=False`` (a score penalized
    by table size is not monotone) every feasible set is a candidate. When
    there are more than ``max_sets`` subsets of one size, a uniformly random
    (data-independent) selection is used.
    """
    k_max = min(k_max, len(chosen))
    by_size = sorted(chosen, key=lambda p: n_pv[p])
    out: list[tuple[int, ...]] = []

    def extendable(ps: tuple[int, ...], cells: int) -> bool:
        if len(ps) >= k_max:
            return False
        for p in by_size:
            if p not in ps:
                return cells * n_pv[p] <= limit
        return False

    for k in range(k_max, 0, -1):
        if n_lv[child] * math.prod(n_pv[p] for p in by_size[:k]) > limit:
            continue
        if math.comb(len(chosen), k) <= max_sets:
            pool: Iterable[tuple[int, ...]] = itertools.combinations(chosen, k)
        else:
            arr = np.asarray(chosen)
            pool = sorted({tuple(sorted(int(v) for v in rng.choice(arr, k, replace=False)))
                           for _ in range(max_sets)})
        for ps in pool:
            cells = n_lv[child] * math.prod(n_pv[p] for p in ps)
            if cells <= limit and (fixed_degree or not maximal_only
                                   or not extendable(ps, cells)):
                out.append(ps)
        if fixed_degree and out:
            break  # a fixed degree uses the largest feasible size only
    if not out or not maximal_only or not extendable((), n_lv[child]):
        out.append(())
    return out


def learn_structure(counter: CountingBackend, levels: Sequence[Levels], *, epsilon: float,
                    n_hat: float, k_max: int, limit: int, fixed_degree: bool,
                    structure_rows: int, budget: Budget, noise: Noise,
                    names: Sequence[str], max_rows: int = 1, penalty: float = 0.0,
                    root: int | None = None, given: Sequence[int] = (),
                    links: Mapping[int, tuple[int, ...]] | None = None) -> Network:
    """The network, one exponential-mechanism draw per added column (``epsilon`` in all).

    ``max_rows`` is the most rows of one privacy unit: the scores'
    sensitivity is :func:`score_sensitivity` of it.
    ``penalty`` (public, >= 0) is subtracted from a candidate's score per cell its
    table adds over the child alone: with ``penalty = 1 / (2 e)`` for tables
    measured with epsilon ``e``, the score is G minus the expected L1 noise
    (halved, as G is) the bigger table will carry. It depends on public sizes
    only, so the score's sensitivity is unchanged. ``root`` (public, a column the
    release is meant to predict) is the first column and a parent of every
    column whose table can hold it. ``given`` (public: the parent table's columns
    of a child model, :mod:`privsynth.engines.tables`) are the network's first
    columns, without parents and without a draw; every other column may take
    them as parents, and none of them has another column as a parent, so
    sampling can fix them and draw the rest exactly given them. ``links`` (public:
    a child model's columns whose parents the steward declared, each a tuple of
    ``given`` columns) follow the given columns with those parents and without a
    draw; the structure's epsilon is spread over the draws that remain.
    """
    d = len(levels)
    n_lv = [lev.n_levels for lev in levels]
    n_pv = [lev.n_parent_levels for lev in levels]
    # Data-independent randomness (first attribute, Bernoulli subsample): it is
    # not privacy noise, but follows the noise seed in the insecure test mode.
    rng = noise.generator() if noise.reproducible else np.random.default_rng()
    # Rows are kept by a counter-based draw keyed by (key, global row position),
    # so every backend keeps the same rows whatever the partitioning.
    rate = structure_rows / n_hat if n_hat > structure_rows else 1.0
    row_key = int(rng.integers(0, 2**63)) if rate < 1.0 else 0
    given_set = set(given)
    if given:
        network: Network = [(g, ()) for g in given]
        chosen = list(given)
        for x, ps in (links or {}).items():
            if not set(ps) <= given_set:  # sampling fixes the given columns first
                raise ValueError("a declared link's parents must be given columns")
            network.append((x, tuple(ps)))
            chosen.append(x)
    else:
        first = int(rng.integers(d)) if root is None else root
        network = [(first, ())]
        chosen = [first]
    if len(chosen) == d:
        return network
    codes_s = counter.bernoulli_subsample(rate, row_key)
    # column-major: every score reads whole columns (a row-major column read
    # strides over all d columns and was the main cost on wide tables)
    lv_s = np.empty(codes_s.shape, dtype=np.int64, order="F")
    pv_s = np.empty(codes_s.shape, dtype=np.int64, order="F")
    for j, lev in enumerate(levels):
        lv_s[:, j] = lev.fine_to_level[codes_s[:, j]]
        pv_s[:, j] = lev.level_to_parent[lv_s[:, j]]
    eps_step = epsilon / (d - len(chosen))
    parent_codes: dict[tuple[int, ...], tuple[IntArray, int]] = {
        (): (np.zeros(len(lv_s), np.int64), 1)}
    scores: dict[tuple[int, tuple[int, ...]], float] = {}

    # The cache of parent-set codes is bounded (~256 MB): unbounded, it held one
    # int64 column per parent set ever scored (6 GB on 1M x 30).
    max_cached = max(64, (256 << 20) // max(1, 8 * len(lv_s)))

    def pcode(ps: tuple[int, ...]) -> tuple[IntArray, int]:
        hit = parent_codes.get(ps)
        if hit is not None:
            return hit
        base, mult = pcode(ps[:-1])
        out = (base * n_pv[ps[-1]] + pv_s[:, ps[-1]], mult * n_pv[ps[-1]])
        if len(parent_codes) < max_cached:
            parent_codes[ps] = out
        return out

    while len(chosen) < d:
        cands: list[tuple[int, tuple[int, ...]]] = []
        vals: list[float] = []
        remaining = [x for x in range(d) if x not in chosen]
        per_child = max(20, MAX_CANDIDATES // len(remaining))
        for x in remaining:
            pool = candidate_parent_sets(x, sorted(chosen), n_lv, n_pv, k_max=k_max,
                                         limit=limit, fixed_degree=fixed_degree,
                                         max_sets=per_child, rng=rng,
                                         maximal_only=penalty <= 0)
            if root is not None:
                pool = [ps for ps in pool if root in ps] or pool
            if given:  # a child table's column always takes a parent column as a parent
                pool = [ps for ps in pool if given_set.intersection(ps)] or pool
            for ps in pool:
                key = (x, ps)
                if key not in scores:
                    pc, mult = pcode(ps)
                    t = np.bincount(lv_s[:, x] * mult + pc, minlength=n_lv[x] * mult)
                    scores[key] = (g_score(t.reshape(n_lv[x], mult).astype(np.float64))
                                   - penalty * rate * n_lv[x] * (mult - 1))
                cands.append(key)
                vals.append(scores[key])
        i = mechanisms.exponential(
            vals, epsilon=eps_step, sensitivity=score_sensitivity(max_rows), accountant=budget,
            noise=noise, label=f"privbayes/structure/step{len(chosen)}")
        x, ps = cands[i]
        network.append((x, ps))
        chosen.append(x)
        log.info("structure %d/%d: %s <- %s", len(chosen), d, names[x], [names[p] for p in ps])
    return network


def network_graph(network: Sequence[tuple[int, tuple[int, ...]]],
                  names: Sequence[str] | None = None) -> nx.DiGraph:
    """The network as a networkx DAG (edges parent -> child; node attribute ``order``).

    >>> g = network_graph([(0, ()), (1, (0,)), (2, (0, 1))], ["a", "b", "c"])
    >>> sorted(g.edges()), nx.is_directed_acyclic_graph(g)
    ([('a', 'b'), ('a', 'c'), ('b', 'c')], True)
    """
    label = (lambda j: names[j]) if names is not None else (lambda j: j)
    g = nx.DiGraph()
    for order, (child, parents) in enumerate(network):
        g.add_node(label(child), order=order)
        g.add_edges_from((label(p), label(child)) for p in parents)
    return g


__all__ = ["MAX_CANDIDATES", "SCORE_SENSITIVITY", "Network", "candidate_parent_sets",
           "g_score", "learn_structure", "network_graph", "score_sensitivity"]

"""Exact inference on a fitted PrivBayes network, for conditional sampling.

The network is a product of conditional tables ``P(child level | parent levels)``
(parents enter through a coarser *parent level*, a function of their level).
Given evidence (some variables fixed) and optional 0/1 *rule factors* (e.g.
forbidden combinations of categories), rows are drawn from the exact posterior

    P(x | evidence, rules) ∝ prod_i P(x_i | pa_i) * prod_k rule_k(x) * [x agrees with evidence].

Only the ancestors of the evidence and rule variables need inference: every
other variable is drawn ancestrally afterwards from its own table (its
descendants carry no evidence, so summing them out gives one). The ancestors
are handled by variable elimination in a greedy small-factor order, chosen on
the moral graph of the network (networkx) with the rules' cliques added and
the evidence removed; sampling
then runs the order backwards, drawing each variable from its elimination
factor given the variables already drawn (forward filtering, backward
sampling), which is exact.

All of this is post-processing of the DP model: it reads only the noisy
tables and costs no privacy budget.

>>> import numpy as np
>>> # a -> b, both binary; b is observed as 1
>>> tables = [np.array([[0.5, 0.5]]), np.array([[0.9, 0.1], [0.2, 0.8]])]
>>> ident = np.arange(2)
>>> s = ConditionalSampler([2, 2], [ident, ident], [(0, ()), (1, (0,))], tables, {1: 1})
>>> s.marginal(0).round(3).tolist()  # P(a | b = 1) = (0.1, 0.8) / 0.9
[0.111, 0.889]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from privsynth._types import FloatArray, IntArray
from privsynth.errors import ConstraintError, ResourceLimitError

#: Largest factor built during elimination (cells); beyond it inference is refused.
MAX_FACTOR_CELLS = 20_000_000


@dataclass(frozen=True)
class Factor:
    """A non-negative table with one axis per variable (network column index)."""

    variables: tuple[int, ...]
    table: FloatArray

    def clamp(self, evidence: Mapping[int, int]) -> Factor:
        """The factor with evidence variables fixed (their axes removed)."""
        if not any(v in evidence for v in self.variables):
            return self
        index = tuple(evidence[v] if v in evidence else slice(None) for v in self.variables)
        return Factor(tuple(v for v in self.variables if v not in evidence), self.table[index])


def _aligned(f: Factor, variables: tuple[int, ...]) -> FloatArray:
    """``f.table`` transposed and reshaped to broadcast over ``variables``."""
    order = sorted(range(len(f.variables)), key=lambda a: variables.index(f.variables[a]))
    t = f.table.transpose(order)
    present = set(f.variables)
    shape = []
    it = iter(t.shape)
    for v in variables:
        shape.append(next(it) if v in present else 1)
    return t.reshape(shape)


def _product(factors: Sequence[Factor], sizes: Sequence[int]) -> Factor:
    variables = tuple(dict.fromkeys(v for f in factors for v in f.variables))
    cells = math.prod(sizes[v] for v in variables)
    if cells > MAX_FACTOR_CELLS:
        raise ResourceLimitError(
            f"conditional sampling needs a table of {cells} cells (limit "
            f"{MAX_FACTOR_CELLS}); condition on fewer columns or use fewer rules")
    out = np.ones([sizes[v] for v in variables], dtype=np.float64)
    for f in factors:
        out = out * _aligned(f, variables)
    return Factor(variables, out)


def cpt_factor(child: int, parents: tuple[int, ...], table: FloatArray, n_levels: Sequence[int],
               level_to_parent: Sequence[IntArray]) -> Factor:
    """``P(child | parents)`` as a factor over the *levels* of parents and child.

    >>> f = cpt_factor(1, (0,), np.array([[0.9, 0.1], [0.2, 0.8]]), [3, 2],
    ...                [np.array([0, 0, 1]), np.arange(2)])
    >>> f.variables, f.table.shape
    ((0, 1), (3, 2))
    """
    if not parents:
        return Factor((child,), np.asarray(table[0], dtype=np.float64))
    grid = np.indices([n_levels[p] for p in parents]).reshape(len(parents), -1)
    idx = np.zeros(grid.shape[1], dtype=np.int64)
    for k, p in enumerate(parents):
        lp = level_to_parent[p]
        idx = idx * (int(lp.max()) + 1) + lp[grid[k]]
    t = np.asarray(table, dtype=np.float64)[idx].reshape(
        *[n_levels[p] for p in parents], n_levels[child])
    return Factor((*parents, child), t)


def _draw(probs: FloatArray, rng: np.random.Generator) -> IntArray:
    """One index per row of ``probs`` (rows are non-negative, not necessarily normalized)."""
    cdf = np.cumsum(probs, axis=1)
    total = cdf[:, -1:]
    u = rng.random((len(probs), 1)) * total
    out = (u >= cdf).sum(axis=1)
    return np.minimum(out, probs.shape[1] - 1).astype(np.int64)


class ConditionalSampler:
    """Draws network levels from the exact posterior given evidence and rule factors.

    Parameters
    ----------
    n_levels : list of int
        Levels of each variable (network column).
    level_to_parent : list of int arrays
        Each variable's level -> parent-level map.
    network : list of (child, parents)
        In ancestral order, as fitted.
    tables : list of arrays
        ``tables[i][parent config, child level]``, aligned with ``network``.
    evidence : dict {variable: level}
        Observed levels.
    factors : list of Factor, optional
        Extra non-negative factors over levels (0/1 rule indicators).

    Raises
    ------
    ConstraintError
        When the evidence and factors have probability zero under the model.
    ResourceLimitError
        When elimination would build a factor above ``MAX_FACTOR_CELLS``.
    """

    def __init__(self, n_levels: Sequence[int], level_to_parent: Sequence[IntArray],
                 network: Sequence[tuple[int, tuple[int, ...]]], tables: Sequence[FloatArray],
                 evidence: Mapping[int, int], factors: Sequence[Factor] = ()) -> None:
        self.n_levels = [int(v) for v in n_levels]
        self.level_to_parent = list(level_to_parent)
        self.network = list(network)
        self.tables = list(tables)
        self.evidence = {int(k): int(v) for k, v in evidence.items()}
        dag = nx.DiGraph()
        dag.add_nodes_from(range(len(self.n_levels)))
        dag.add_edges_from((p, c) for c, ps in self.network for p in ps)
        # the ancestors of everything observed or touched by a rule (inclusive)
        relevant: set[int] = {*self.evidence, *(v for f in factors for v in f.variables)}
        for v in list(relevant):
            relevant |= nx.ancestors(dag, v)
        self.relevant = relevant
        pool = [cpt_factor(c, ps, t, self.n_levels, self.level_to_parent).clamp(self.evidence)
                for (c, ps), t in zip(self.network, self.tables, strict=True) if c in relevant]
        pool += [f.clamp(self.evidence) for f in factors]
        self._steps: list[tuple[int, Factor]] = []
        for v in elimination_order(dag, relevant, self.evidence, factors, self.n_levels):
            touching = [f for f in pool if v in f.variables]
            pool = [f for f in pool if v not in f.variables]
            psi = _product(touching, self.n_levels)
            self._steps.append((v, psi))
            axis = psi.variables.index(v)
            tau = psi.table.sum(axis=axis)
            top = float(tau.max()) if tau.size else 0.0
            if not top > 0:
                self._impossible()
            pool.append(Factor(tuple(u for u in psi.variables if u != v), tau / top))
        z = math.prod(float(f.table.sum()) if f.table.ndim else float(f.table) for f in pool)
        if not z > 0 or not math.isfinite(z):
            self._impossible()

    @staticmethod
    def _impossible() -> None:
        raise ConstraintError(
            "the conditions and rules have probability zero under the model: no synthetic "
            "row can satisfy them; relax the conditions or check the rules")

    def marginal(self, variable: int) -> FloatArray:
        """Exact posterior marginal of an observed variable or of the first one drawn.

        (The first variable drawn is the last eliminated: its factor holds it alone.)
        """
        if variable in self.evidence:
            out = np.zeros(self.n_levels[variable])
            out[self.evidence[variable]] = 1.0
            return out
        for v, psi in self._steps:
            if v == variable and len(psi.variables) == 1:
                return np.asarray(psi.table / psi.table.sum(), dtype=np.float64)
        raise ValueError(f"variable {variable} is not observed nor the first one drawn")

    def sample(self, n: int, rng: np.random.Generator) -> IntArray:
        """Levels of shape (n, number of variables), drawn from the posterior."""
        d = len(self.n_levels)
        lvl = np.zeros((n, d), dtype=np.int64)
        for v, level in self.evidence.items():
            lvl[:, v] = level
        for v, psi in reversed(self._steps):
            others = [u for u in psi.variables if u != v]
            t = np.moveaxis(psi.table, psi.variables.index(v), -1)
            probs = t[tuple(lvl[:, u] for u in others)] if others \
                else np.broadcast_to(t, (n, t.shape[-1]))
            lvl[:, v] = _draw(np.asarray(probs, dtype=np.float64), rng)
        for (child, parents), table in zip(self.network, self.tables, strict=True):
            if child in self.relevant:
                continue
            idx = np.zeros(n, dtype=np.int64)
            for p in parents:
                lp = self.level_to_parent[p]
                idx = idx * (int(lp.max()) + 1) + lp[lvl[:, p]]
            lvl[:, child] = _draw(table[idx], rng)
        return lvl


def elimination_order(dag: nx.DiGraph, relevant: set[int], evidence: Mapping[int, int],
                      factors: Sequence[Factor], sizes: Sequence[int]) -> list[int]:
    """Greedy elimination order of the hidden relevant variables (smallest factor first).

    The interaction graph is the moral graph of the relevant part of the
    network, plus a clique per rule factor, without the evidence. Eliminating
    a variable builds a factor over it and its neighbours, then connects the
    neighbours (fill-in). Ties go to the smallest variable index.

    >>> g = nx.DiGraph([(0, 1), (1, 2)])
    >>> elimination_order(g, {0, 1, 2}, {2: 0}, [], [2, 3, 2])
    [0, 1]
    """
    graph = nx.moral_graph(dag.subgraph(relevant))
    for f in factors:
        vs = [v for v in f.variables if v in relevant]
        graph.add_edges_from((a, b) for i, a in enumerate(vs) for b in vs[i + 1:])
    graph.remove_nodes_from(list(evidence))
    order: list[int] = []
    hidden = sorted(graph.nodes)
    while hidden:
        v = min(hidden, key=lambda h: sizes[h] * math.prod(sizes[u] for u in graph[h]))
        nbrs = list(graph[v])
        graph.add_edges_from((a, b) for i, a in enumerate(nbrs) for b in nbrs[i + 1:])
        graph.remove_node(v)
        hidden.remove(v)
        order.append(v)
    return order


__all__ = ["MAX_FACTOR_CELLS", "ConditionalSampler", "Factor", "cpt_factor",
           "elimination_order"]

"""What a child model takes from its parent: the given columns' levels, and declared links.

The child model of a parent/child fit (:mod:`privsynth.engines.tables`) holds
each kept child row joined with its parent's columns, the *given* columns:
sampling fixes them from a synthetic parent and draws the child's columns
given them. Two things about them come from outside the child model's data.

**Levels of the given columns.** A given column is a parent of child columns,
coarsened to a few parent levels; the levels are groups of about equal mass of
its fine codes (:func:`~._levels.make_levels`). The child model does not
measure a histogram of them: the parent model has already measured the
parent's columns, and rows drawn from it (post-processing of its DP output,
no budget) give the mass, each synthetic parent weighted as the child model
weighs its rows (``min(n_children, k')`` rows per parent). Measured on
planes -> flights at epsilon 1 (one flight per plane, 15 histograms sharing a
tenth of the child model's epsilon): the child model's own noisy histograms
of the given columns left the noise scale above 200 per bin for 3,300 planes,
so their levels were cut by noise alone (all of 20-200 seats in one level).
From the parent model's rows the cuts follow the real groups of seats.

**Declared links.** A link is the steward's public statement that a child
column depends on named parent columns (``links={"distance": "seats"}``). The
structure search draws one column's parents among many with the exponential
mechanism; with a few thousand parents it misses a real link about as often
as it finds it. A declared link is fitted without a draw, and its table gets
``LINK_WEIGHT`` times its share of the tables' budget (the release is declared
to serve it). Kept in network mode when its table fits the tables' cell cap;
otherwise the column's parents are searched as any other column's, and the
description says so. The cap of a link's table is the tables' cap scaled by
the larger share it gets (:func:`link_cap`).

>>> import numpy as np
>>> from privsynth.engines.privbayes._levels import Levels
>>> levels = [Levels.identity(4), Levels.identity(3), Levels.identity(2)]
>>> kept_links({2: (0,)}, (0, 1), levels, cap=100, independent=False, names=["a", "b", "c"])
({2: (0,)}, 'declared links kept without a structure draw: c <- a')
>>> kept_links({2: (0, 1)}, (0, 1), levels, cap=5, independent=False,
...            names=["a", "b", "c"])[0]
{}
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from privsynth._types import FloatArray
from privsynth.binning import Discretizer
from privsynth.engines.privbayes._levels import Levels
from privsynth.errors import ParameterError

log = logging.getLogger("privsynth.engines.privbayes")

#: Weight of a declared link's table in the tables' budget (times its square-root-of-cells
#: share). Measured on planes -> flights at epsilon 1 (scratch runs, 40 fits each, not in
#: benchmarks/results): correlation of seats (plane) and distance (flight) with the link
#: declared 0.31 at weight 1, 0.34 at weight 4 (sd 0.09 per fit: about 1.5 standard
#: errors apart, weak evidence); without the link 0.17 (sd 0.15). The link's table is
#: what the steward declared the release for, so a larger share is the intended trade.
LINK_WEIGHT = 4.0


@dataclass(frozen=True)
class ParentDraws:
    """Synthetic parents for a child model's given-column levels (post-processing).

    ``rows`` hold the given columns (named as in the child model); ``weights``
    how many rows the child model holds per such parent (``min(n_children, k')``).
    """

    rows: pd.DataFrame
    weights: FloatArray


def given_mass(disc: Discretizer, j: int, draws: ParentDraws) -> FloatArray:
    """The weighted mass of column ``j``'s fine codes among the parent model's draws.

    >>> from privsynth.schema import Schema
    >>> disc = Discretizer(Schema.from_dict({"columns": [
    ...     {"name": "p.x", "kind": "categorical", "categories": ["a", "b", "c"]}]}))
    >>> draws = ParentDraws(pd.DataFrame({"p.x": ["a", "c", "c"]}), np.array([1.0, 2.0, 0.0]))
    >>> given_mass(disc, 0, draws).tolist()
    [1.0, 0.0, 2.0]
    """
    bins = disc.bins[j]
    codes = disc.encode_column(bins, draws.rows[bins.column.name])
    return np.bincount(codes, weights=draws.weights, minlength=bins.size).astype(np.float64)


def link_cap(cap: int, n_tables: int, n_links: int) -> int:
    """The cell cap of a declared link's table.

    ``cap`` is the theta rule's cap for a table with an even share of the
    tables' epsilon over ``n_tables`` tables. A link's table gets
    ``LINK_WEIGHT`` times its share (tables of about equal size): its share is
    ``w / (n_tables + (w - 1) * n_links)`` instead of ``1 / n_tables``, so by
    the same rule it may hold that many times more cells.

    >>> link_cap(32, 8, 1), link_cap(32, 8, 0), link_cap(32, 1, 1)
    (93, 32, 32)
    """
    if n_links <= 0:
        return cap
    w = LINK_WEIGHT
    return int(cap * n_tables * w / (n_tables + (w - 1) * n_links))


def kept_links(links: Mapping[int, tuple[int, ...]], given: Sequence[int],
               levels: Sequence[Levels], cap: int, independent: bool, names: Sequence[str],
               max_cells: float = math.inf) -> tuple[dict[int, tuple[int, ...]], str]:
    """The declared links a fit keeps, and a sentence on them for the description.

    ``links`` maps a modelled column to its declared parents, all given
    columns. Kept in network mode when the link's table (the column's levels
    times its parents' parent levels) fits the cap of a link's table
    (:func:`link_cap`, from the tables' cell cap ``cap``) and the resource cap
    ``max_cells`` (``max_clique_cells``); public numbers only (the levels and
    the cap come from DP outputs).
    """
    if not links:
        return {}, ""
    if any(c in given or not ps or not set(ps) <= set(given) for c, ps in links.items()):
        raise ParameterError("links: each linked column must be a child column and its "
                             "parents given (parent-table) columns")
    words = {c: f"{names[c]} <- {', '.join(names[p] for p in ps)}" for c, ps in links.items()}
    if independent:
        text = ("declared links not used (" + "; ".join(words.values()) + "): the budget "
                "rule chose independent marginals, so no table holds a link")
        log.warning("%s", text)
        return {}, text
    kept: dict[int, tuple[int, ...]] = {}
    too_big = []
    limit = int(min(link_cap(cap, len(levels) - len(given), len(links)), max_cells))
    for c, ps in links.items():
        cells = levels[c].n_levels * math.prod(levels[p].n_parent_levels for p in ps)
        if cells <= limit:
            kept[c] = tuple(ps)
        else:
            too_big.append(f"{words[c]} ({cells} cells)")
    text = "declared links kept without a structure draw: " + (
        "; ".join(words[c] for c in kept) or "none")
    if too_big:
        text += (f"; searched instead, their tables exceed the cap of {limit} cells: "
                 + "; ".join(too_big))
        log.warning("%s", text)
    return kept, text


__all__ = ["LINK_WEIGHT", "ParentDraws", "given_mass", "kept_links", "link_cap"]

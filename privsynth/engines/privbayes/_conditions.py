"""Exact conditional sampling of a fitted PrivBayes model, with rules folded in.

``sample(conditions=...)`` clamps the evidence and draws its ancestors from
their exact posterior (:mod:`._inference`). Rules that are 0/1 functions of
network levels (combinations and conditional rules over categorical or
one-value-per-bin columns that are not coarsened) are folded into the
network as factors, so they hold exactly without rejection; the others are
checked by the generic rejection path. All post-processing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from privsynth.engines.privbayes._inference import ConditionalSampler, Factor

if TYPE_CHECKING:
    from privsynth.engines.privbayes._engine import PrivBayes

#: Largest rule factor folded into the network (cells); larger rules are checked by rejection.
MAX_RULE_CELLS = 1_000_000


def foldable(model: PrivBayes, rule: Any) -> bool:
    """Whether ``rule`` is a 0/1 function of network levels (so it folds in exactly)."""
    from privsynth.constraints import AllowedCombinations, Conditional, ForbiddenCombinations

    if not isinstance(rule, AllowedCombinations | ForbiddenCombinations | Conditional):
        return False
    names = model._discretizer.schema.names
    cells = 1
    for name in rule.columns:
        j = names.index(name)
        bins, lev = model._discretizer.bins[j], model.levels_[j]
        exact_bins = not bins.column.is_numeric or (
            bins.integral and bool(np.all(np.diff(np.asarray(bins.edges)) == 1)))
        m = len(lev.fine_to_level)
        if not exact_bins or not np.array_equal(lev.fine_to_level, np.arange(m)):
            return False
        cells *= m
    return cells <= MAX_RULE_CELLS


def rule_factor(model: PrivBayes, rule: Any) -> Factor:
    """A foldable rule as a 0/1 factor over its columns' levels."""
    names = model._discretizer.schema.names
    js = [names.index(c) for c in rule.columns]
    sizes = [len(model.levels_[j].fine_to_level) for j in js]
    grid = np.indices(sizes).reshape(len(js), -1)
    unused = np.random.default_rng(0)  # decoding one-value bins draws nothing
    disc = model._discretizer
    df = pd.DataFrame({names[j]: disc.decode_column(disc.bins[j], grid[k], unused)
                       for k, j in enumerate(js)})
    ok = rule.satisfied(df, model._discretizer.schema).astype(np.float64).reshape(sizes)
    return Factor(tuple(js), ok)


def exact_plan(model: PrivBayes, rules: tuple[Any, ...],
               conditions: Mapping[str, Any]) -> Any:
    """Exact raw samplers for ``conditions`` with the foldable ``rules`` folded in."""
    names = model._discretizer.schema.names
    disc = model._discretizer
    fixed: dict[int, int] = {}
    for name, value in conditions.items():
        j = names.index(name)
        b = disc.bins[j]
        code = b.missing_code if value is None \
            else int(disc.encode_column(b, pd.Series([value]))[0])
        assert code is not None
        fixed[j] = code
    evidence = {j: int(model.levels_[j].fine_to_level[f]) for j, f in fixed.items()}
    # rules reading a generated column (formula, key) are checked after generation
    generated = {r.column for r in rules if r.kind in ("formula", "unique")}
    folded = tuple(r for r in rules
                   if foldable(model, r) and not generated.intersection(r.columns))
    n_lv = [lev.n_levels for lev in model.levels_]
    to_parent = [lev.level_to_parent for lev in model.levels_]
    sampler = ConditionalSampler(n_lv, to_parent, model.network_, model.tables_, evidence,
                                 [rule_factor(model, r) for r in folded])

    def draw(m: int, rng: np.random.Generator) -> pd.DataFrame:
        return model._decode_levels(sampler.sample(m, rng), fixed, rng)

    if not folded:
        return draw, folded, None
    plain = ConditionalSampler(n_lv, to_parent, model.network_, model.tables_, evidence)

    def draw_plain(m: int, rng: np.random.Generator) -> pd.DataFrame:
        return model._decode_levels(plain.sample(m, rng), fixed, rng)

    return draw, folded, draw_plain


__all__ = ["MAX_RULE_CELLS", "exact_plan", "foldable", "rule_factor"]

"""Section "The parent-child relation": key integrity, children per parent, parent x child pairs.

A release of related tables (``PrivBayes().fit_tables``) is judged on its
tables *and* on their link. This module compares the synthetic pair with the
real pair as the fit saw it: the real tables are bounded exactly as the fit
bounds them (:func:`privsynth.engines.tables.bound_tables`: one parent row per
key, children without a matching parent dropped, at most ``k`` children per
parent, a uniform random choice seeded by the audit's ``random_state``), so
"real" means the real *capped* relation.

- **Key integrity** is computed on the synthetic tables alone (post-processing
  of DP outputs): the share of synthetic child rows whose key is a synthetic
  parent's key, and whether the parent keys are unique. It is kept in the
  public edition.
- **Children per parent**: the distribution of the number of children of a
  parent on the public domain ``0..k`` (binned as the report bins any
  integer column), real against synthetic, with its TVD and the relative
  difference of the mean numbers of children, ``(synthetic - real) / real``.
- **Parent-column x child-column pairs**: for every modelled parent column and
  every modelled child column, the TVD of their 2-way marginal over child
  rows (each child row carries its parent's value), on the schemas' *public*
  bins (:func:`~privsynth.report.evaluation.marginals.public_bins`); and for
  pairs of numeric columns (seats x distance) the difference of the Pearson
  correlations, ``synthetic - real``.

The last two are evaluation numbers (computed on the private data without
DP): steward's edition only. They follow the single-table report's rule
(:mod:`privsynth.report.evaluation.utility`): a statistic of the real data is
shown as its difference from the synthetic one, never as its raw value, and
real shares are coarsened (rounded to
:data:`~privsynth.report.evaluation.marginals.REAL_SHARE_DECIMALS` decimals),
so that no count of real rows can be read back. The raw synthetic mean and
correlation are left out too: next to a signed difference they would give the
real value back by subtraction (they can be computed from the released
tables).

>>> import pandas as pd
>>> from privsynth.engines.tables import Relation
>>> key_integrity(pd.DataFrame({"k": ["a", "b"]}), pd.DataFrame({"k": ["a", "a", "c", None]}),
...               Relation("p", "c", "k"))["share"]
0.5
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from privsynth.columns import Column, FloatColumn, IntegerColumn
from privsynth.engines.tables import N_CHILDREN, Relation, bound_tables
from privsynth.report._values import rounded
from privsynth.report.evaluation import EVALUATION_NOTE
from privsynth.report.evaluation.marginals import REAL_SHARE_DECIMALS, public_bins
from privsynth.schema import Schema

#: Pairs shown in the HTML table of the worst parent x child pairs (the JSON holds all).
N_WORST_PAIRS = 10


def key_integrity(parent: pd.DataFrame, child: pd.DataFrame, rel: Relation) -> dict[str, Any]:
    """Key integrity of a synthetic pair (computed on synthetic tables only)."""
    if rel.key not in parent.columns or rel.key not in child.columns:
        return {"child_rows": len(child), "matched_rows": 0, "share": None,
                "parent_keys_unique": False, "exact": False,
                "statement": f"The synthetic tables lack the key column {rel.key!r}: key "
                             "integrity cannot be checked."}
    keys = parent[rel.key]
    ckeys = child[rel.key]
    matched = ckeys.notna() & ckeys.astype(str).isin(set(keys.dropna().astype(str)))
    n = len(child)
    share = float(matched.mean()) if n else 1.0
    unique = bool(keys.notna().all() and keys.is_unique)
    return {
        "child_rows": n,
        "matched_rows": int(matched.sum()),
        "share": rounded(share, 6),
        "parent_keys_unique": unique,
        "exact": bool(share == 1.0 and unique),
        "statement": (
            f"{share:.1%} of the {n:,} synthetic {rel.child} rows have the key of a synthetic "
            f"{rel.parent} row" + ("" if unique else f"; the synthetic {rel.parent} keys are "
                                   "not unique") + " (computed on the synthetic tables only)."),
    }


def _counts_column(k: int) -> IntegerColumn:
    return IntegerColumn(N_CHILDREN, lower=0, upper=k, nullable=False)


def children_section(real_counts: pd.Series, synthetic_counts: pd.Series, k: int
                     ) -> dict[str, Any]:
    """Children per parent on the public domain ``0..k``: shares, TVD, relative difference.

    The relative difference of the means is ``(synthetic - real) / real``
    (None without real parents with children), rounded to 2 decimals; the
    means themselves are not shown.

    >>> out = children_section(pd.Series([1, 2, 3, 2]), pd.Series([2, 2, 3, 3]), 3)
    >>> out["relative_difference"], out["tvd"], "real_mean" in out
    (0.25, 0.25, False)
    """
    col = _counts_column(k)
    labels, cr = public_bins(col, real_counts.reset_index(drop=True))
    _, cs = public_bins(col, synthetic_counts.reset_index(drop=True))
    size = len(labels)
    pr = np.bincount(cr, minlength=size)[:size] / max(len(cr), 1)
    ps = np.bincount(cs, minlength=size)[:size] / max(len(cs), 1)
    real_mean = float(real_counts.mean()) if len(real_counts) else float("nan")
    syn_mean = float(synthetic_counts.mean()) if len(synthetic_counts) else float("nan")
    rel_diff = (syn_mean - real_mean) / real_mean if real_mean > 0 else float("nan")
    return {
        "max_children": k,
        "labels": labels,
        "real": [rounded(v, REAL_SHARE_DECIMALS) for v in pr],
        "synthetic": [rounded(v, 4) for v in ps],
        "tvd": rounded(0.5 * float(np.abs(pr - ps).sum()), 4),
        "relative_difference": rounded(rel_diff, 2),
    }


def _numeric(col: Column) -> bool:
    return isinstance(col, IntegerColumn | FloatColumn)


def _correlation(x: pd.Series, y: pd.Series) -> float | None:
    a = pd.to_numeric(x, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    b = pd.to_numeric(y, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return None
    return float(np.corrcoef(a[ok], b[ok])[0, 1]) + 0.0


def _signed(x: float | None) -> float | None:
    """No negative zero (-0.0 reads as a sign where there is none)."""
    return None if x is None else x + 0.0


def _joint(pc: Column, cc: Column, x: pd.Series, y: pd.Series) -> tuple[np.ndarray, int]:
    """Joint public-bin codes of two columns (missing values in a bin of their own)."""
    lx, cx = public_bins(pc, x.reset_index(drop=True))
    ly, cy = public_bins(cc, y.reset_index(drop=True))
    nx, ny = len(lx) + 1, len(ly) + 1  # the last bin of each is "missing"
    cx = np.where(cx < 0, nx - 1, cx)
    cy = np.where(cy < 0, ny - 1, cy)
    return cx * ny + cy, nx * ny


def pair_tvd(pc: Column, cc: Column, real_x: pd.Series, real_y: pd.Series,
             syn_x: pd.Series, syn_y: pd.Series) -> float:
    """TVD of the 2-way marginal of a parent column and a child column on the public bins."""
    jr, size = _joint(pc, cc, real_x, real_y)
    js, _ = _joint(pc, cc, syn_x, syn_y)
    pr = np.bincount(jr, minlength=size) / max(len(jr), 1)
    ps = np.bincount(js, minlength=size) / max(len(js), 1)
    return 0.5 * float(np.abs(pr - ps).sum())


def _difference(real: float | None, synthetic: float | None) -> float | None:
    """``synthetic - real`` (None when either is undefined), rounded to 2 decimals."""
    if real is None or synthetic is None:
        return None
    return _signed(rounded(synthetic - real, 2))


def pairs_section(real: pd.DataFrame, synthetic: pd.DataFrame, parent: Schema, child: Schema,
                  parent_name: str) -> list[dict[str, Any]]:
    """Every (parent column, child column) pair over child rows joined with their parent.

    ``real`` and ``synthetic`` are child rows carrying their parent's columns
    as ``"<parent>.<column>"`` (what :func:`bound_tables` returns). Each pair
    has its ``tvd`` and, for two numeric columns, ``correlation_difference``:
    the synthetic Pearson correlation minus the real one (None otherwise, or
    where a correlation is undefined).
    """
    out = []
    for pc in parent.columns:
        joined = f"{parent_name}.{pc.name}"
        for cc in child.columns:
            entry: dict[str, Any] = {
                "parent_column": pc.name, "child_column": cc.name,
                "tvd": rounded(pair_tvd(pc, cc, real[joined], real[cc.name],
                                        synthetic[joined], synthetic[cc.name]), 4),
                "correlation_difference": None}
            if _numeric(pc) and _numeric(cc):
                entry["correlation_difference"] = _difference(
                    _correlation(real[joined], real[cc.name]),
                    _correlation(synthetic[joined], synthetic[cc.name]))
            out.append(entry)
    return out


def bound_pair(real: dict[str, pd.DataFrame], synthetic: dict[str, pd.DataFrame],
               rel: Relation, k: int, random_state: int
               ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(real parents, real children, synthetic parents, synthetic children), bounded as the fit.

    Parents carry ``n_children``; children carry their parent's columns as
    ``"<parent>.<column>"`` (:func:`privsynth.engines.tables.bound_tables`).
    The random choices are seeded by the audit's ``random_state`` (this is
    evaluation, not a fit: no privacy noise is involved).
    """
    rng = np.random.default_rng(np.random.SeedSequence([random_state, 22]))
    real_p, real_c = bound_tables(real[rel.parent], real[rel.child], rel, k, rng)
    syn_p, syn_c = bound_tables(synthetic[rel.parent], synthetic[rel.child], rel, k, rng)
    return real_p, real_c, syn_p, syn_c


def relation_section(bounded: tuple[pd.DataFrame, ...] | None,
                     synthetic: dict[str, pd.DataFrame], schemas: dict[str, Schema],
                     rel: Relation, k: int, k_child: int,
                     skipped_reason: str | None,
                     links: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    """The relation section: key integrity (synthetic only) and the relation's fidelity.

    ``bounded`` is :func:`bound_pair`'s result (None when the evaluation is
    skipped), ``synthetic`` the synthetic tables as released, ``schemas`` the
    public schemas of both (identifier columns are not compared); ``links`` the
    steward's declared links (public), shown as declared.
    """
    section: dict[str, Any] = {
        "parent": rel.parent, "child": rel.child, "key": rel.key,
        "max_children": k, "max_child_rows": k_child,
        "links": {c: list(ps) for c, ps in (links or {}).items()},
        "key_integrity": key_integrity(synthetic[rel.parent], synthetic[rel.child], rel),
    }
    if skipped_reason is not None or bounded is None:
        section["evaluation"] = {"included": False,
                                 "reason": skipped_reason or "The evaluation was not run."}
        return section
    real_p, real_c, syn_p, syn_c = bounded
    p_modelled = schemas[rel.parent].without_ids()
    c_modelled = schemas[rel.child].without_ids()
    pairs = pairs_section(real_c, syn_c, p_modelled, c_modelled, rel.parent)
    tvds = [p["tvd"] for p in pairs if p["tvd"] is not None]
    diffs = [abs(p["correlation_difference"]) for p in pairs
             if p["correlation_difference"] is not None]
    section["evaluation"] = {
        "included": True,
        "reason": None,
        "note": EVALUATION_NOTE,
        "real_is": (
            f"the real tables bounded as the fit bounds them: one {rel.parent} row per key, "
            f"{rel.child} rows whose key matches no {rel.parent} row left out, at most {k} "
            f"{rel.child} rows per {rel.parent} row (a random choice seeded by the audit's "
            "random_state)"),
        "children": children_section(real_p[N_CHILDREN], syn_p[N_CHILDREN], k),
        "pairs": pairs,
        "mean_pair_tvd": rounded(float(np.mean(tvds)) if tvds else None, 4),
        "max_pair_tvd": rounded(max(tvds) if tvds else None, 4),
        "mean_abs_correlation_difference": rounded(
            float(np.mean(diffs)) if diffs else None, 3),
    }
    return section


__all__ = ["N_WORST_PAIRS", "bound_pair", "children_section", "key_integrity", "pair_tvd",
           "pairs_section", "relation_section"]

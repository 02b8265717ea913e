"""The HTML of the two sections of a report of related tables: each table, and the relation.

Same rules and look as :mod:`privsynth.report._html` (whose helpers and
utility renderer this module reuses): every string escaped, figures inline
SVG on the public bins, nothing the JSON of the edition does not hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from privsynth.report import _plots
from privsynth.report._html import (
    _e,
    _figure,
    _kv,
    _num,
    _omitted,
    _pct,
    _table,
    _utility,
)
from privsynth.report.evaluation.relation import N_WORST_PAIRS


def _tables(doc: Mapping[str, Any]) -> str:
    out = []
    for t in doc["tables"]["tables"]:
        out.append(f'<h3 id="table-{_e(t["table"])}">{_e(t["table"])} ({_e(t["role"])} '
                   "table)</h3>")
        out.append(_kv([
            ("Its part of the release", f"epsilon {_num(t['epsilon'], 4)}, "
                                        f"{_num(len(t['ledger_entries']))} ledger entries"),
            ("Real rows the model used (noisy estimate, a DP output)", _num(t["noisy_rows"])),
            ("Synthetic rows", _num(t["synthetic_rows"])),
            ("Identifier columns (not modelled, not compared)",
             _e(", ".join(t["identifier_columns"]) or "none")),
        ]))
        out.append(_utility({"utility": t["utility"]}))
    return "".join(out)


def _relation(doc: Mapping[str, Any]) -> str:
    r = doc["relation"]
    ki = r["key_integrity"]
    out = [_kv([
        ("Relation", _e(f"{r['parent']} -> {r['child']} on {r['key']!r}")),
        ("Most children per parent (k)", _num(r["max_children"])),
        ("Children per parent in the child model", _num(r["max_child_rows"])),
        ("Declared links (child column <- parent columns; public, kept without a structure "
         "draw where the budget allows)",
         _e("; ".join(f"{c} <- {', '.join(ps)}" for c, ps in r.get("links", {}).items())
            or "none")),
    ])]
    cls = "pass" if ki["exact"] else "fail"
    out.append(f'<div class="callout {cls}"><b>Key integrity.</b> {_e(ki["statement"])}</div>')
    ev = r["evaluation"]
    if not ev.get("included"):
        return "".join(out) + _omitted(ev)
    out.append(f'<div class="callout warn">{_e(ev["note"])}</div>')
    out.append(f'<p class="meta"><b>Real data:</b> {_e(ev["real_is"])}.</p>')
    ch = ev["children"]
    out.append("<h3>Children per parent</h3>")
    out.append(_table(["Measure", "Synthetic against real"], [
        ["relative difference of the mean number of children, (synthetic - real) / real",
         _pct(ch["relative_difference"])],
        ["TVD of the distributions", _num(ch["tvd"])],
    ], numeric=(1,)))
    out.append('<div class="figures">' + _figure(
        _plots.bar_pairs(f"{r['child']} rows per {r['parent']} row", ch["labels"], ch["real"],
                         ch["synthetic"]),
        f"Number of {r['child']} rows per {r['parent']} row (at most {ch['max_children']}), "
        "shares on the public domain.") + "</div>")
    pairs = ev["pairs"]
    out.append(f"<h3>{_e(r['parent'])} column x {_e(r['child'])} column</h3>")
    out.append(f"<p>TVD of the 2-way marginal of every {_e(r['parent'])} column with every "
               f"{_e(r['child'])} column, over {_e(r['child'])} rows carrying their parent's "
               f"values, on the public bins: mean {_num(ev['mean_pair_tvd'])}, largest "
               f"{_num(ev['max_pair_tvd'])} ({len(pairs)} pairs; all are in the JSON).</p>")
    parents = list(dict.fromkeys(p["parent_column"] for p in pairs))
    children = list(dict.fromkeys(p["child_column"] for p in pairs))
    tvd = {(p["parent_column"], p["child_column"]): p["tvd"] or 0.0 for p in pairs}
    if parents and children:
        out.append('<div class="figures">' + _figure(
            _plots.heatmap(children, [[tvd[(a, b)] for b in children] for a in parents],
                           rows=parents, title=f"TVD of {r['parent']} x {r['child']} pairs",
                           label=f"Heatmap of the TVD of each {r['parent']} column with "
                                 f"each {r['child']} column"),
            f"TVD of the 2-way marginal of each {r['parent']} column (rows) with each "
            f"{r['child']} column (columns), real against synthetic; white is a pair "
            "reproduced exactly.") + "</div>")
    worst = sorted(pairs, key=lambda p: -(p["tvd"] or 0.0))[:N_WORST_PAIRS]
    out.append(_table(["Parent column", "Child column", "TVD"],
                      [[_e(p["parent_column"]), _e(p["child_column"]), _num(p["tvd"])]
                       for p in worst], numeric=(2,)))
    # the largest differences first: never an order by a statistic of the real data
    numeric = sorted((p for p in pairs if p["correlation_difference"] is not None),
                     key=lambda p: -abs(p["correlation_difference"]))
    if numeric:
        out.append("<h3>Correlation of numeric pairs</h3>")
        out.append(f"<p>Difference of the Pearson correlations (synthetic - real) of numeric "
                   f"{_e(r['parent'])} columns with numeric {_e(r['child'])} columns, the "
                   f"{min(len(numeric), N_WORST_PAIRS)} largest of {len(numeric)} pairs (all "
                   "are in the JSON); mean absolute difference "
                   f"{_num(ev['mean_abs_correlation_difference'])}.</p>")
        numeric = numeric[:N_WORST_PAIRS]
        out.append(_table(["Parent column", "Child column", "Synthetic - real"],
                          [[_e(p["parent_column"]), _e(p["child_column"]),
                            _num(p["correlation_difference"])]
                           for p in numeric], numeric=(2,)))
    return "".join(out)


TABLE_RENDERERS = {"tables": _tables, "relation": _relation}

__all__ = ["TABLE_RENDERERS"]

"""The plan as a self-contained HTML page: the error curve as inline SVG, no script, no link.

A steward can attach the page to a request to a data-protection officer: it
shows the predicted error against epsilon, the verdict at each budget and what
the prediction assumes.

>>> import privsynth as ps
>>> page = ps.planner.plan_html(ps.plan(ps.datasets.adult_schema(), [0.3, 3], n=30_000))
>>> page.startswith("<!DOCTYPE html>") and "<svg" in page and "<script" not in page
True
"""

from __future__ import annotations

import math
from html import escape

from privsynth.planner.planning import GOOD_TVD2, ROUGH_TVD2, Plan

_W, _H = 640, 340
_LEFT, _RIGHT, _TOP, _BOTTOM = 60, 20, 20, 70
_COLOURS = {"tvd1": "#1f77b4", "tvd2": "#d62728"}
_BANDS = (("good", 0.0, GOOD_TVD2, "#e8f5e9"), ("rough", GOOD_TVD2, ROUGH_TVD2, "#fff8e1"),
          ("noise-dominated", ROUGH_TVD2, 1.0, "#ffebee"))


def _curve_svg(p: Plan) -> str:
    eps = [e.epsilon for e in p.plans]
    lo, hi = math.log10(min(eps)), math.log10(max(eps))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    top = max(0.3, *(e.tvd2 for e in p.plans), *(e.tvd1 for e in p.plans)) * 1.05
    ymax = min(1.0, math.ceil(top * 10) / 10)
    pw, ph = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def sx(v: float) -> float:
        return _LEFT + (math.log10(v) - lo) / (hi - lo) * pw

    def sy(v: float) -> float:
        return _TOP + ph - min(v, ymax) / ymax * ph

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
             f'viewBox="0 0 {_W} {_H}" role="img" aria-label="predicted error against epsilon">']
    for name, a, b, colour in _BANDS:
        if a >= ymax:
            continue
        y0, y1 = sy(min(b, ymax)), sy(a)
        parts.append(f'<rect x="{_LEFT}" y="{y0:.1f}" width="{pw}" height="{y1 - y0:.1f}" '
                     f'fill="{colour}"><title>{escape(name)} (tvd2)</title></rect>')
        parts.append(f'<text x="{_LEFT + pw - 4}" y="{y0 + 12:.1f}" font-size="10" '
                     f'text-anchor="end" fill="#555">{escape(name)}</text>')
    parts.append(f'<line x1="{_LEFT}" y1="{_TOP + ph}" x2="{_LEFT + pw}" y2="{_TOP + ph}" '
                 'stroke="#333"/>')
    parts.append(f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + ph}" stroke="#333"/>')
    for tick in eps:
        x = sx(tick)
        parts.append(f'<line x1="{x:.1f}" y1="{_TOP + ph}" x2="{x:.1f}" y2="{_TOP + ph + 4}" '
                     'stroke="#333"/>')
        parts.append(f'<text x="{x:.1f}" y="{_TOP + ph + 16}" font-size="11" '
                     f'text-anchor="middle">{tick:g}</text>')
    for k in range(round(ymax * 10) + 1):
        v = k / 10
        parts.append(f'<text x="{_LEFT - 6}" y="{sy(v) + 4:.1f}" font-size="11" '
                     f'text-anchor="end">{v:.1f}</text>')
    parts.append(f'<text x="{_LEFT + pw / 2}" y="{_TOP + ph + 34}" font-size="12" '
                 'text-anchor="middle">epsilon (log scale)</text>')
    parts.append(f'<text x="14" y="{_TOP + ph / 2}" font-size="12" text-anchor="middle" '
                 f'transform="rotate(-90 14 {_TOP + ph / 2})">predicted mean TVD</text>')
    for key, colour in _COLOURS.items():
        pts = " ".join(f"{sx(e.epsilon):.1f},{sy(getattr(e, key)):.1f}" for e in p.plans)
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                     'stroke-width="2"/>')
        for e in p.plans:
            val = getattr(e, key)
            parts.append(f'<circle cx="{sx(e.epsilon):.1f}" cy="{sy(val):.1f}" r="3.5" '
                         f'fill="{colour}"><title>epsilon {e.epsilon:g}: {key} '
                         f'{val:.3f}</title></circle>')
    # the legend, below the plot (never over a curve)
    for i, (key, colour) in enumerate(_COLOURS.items()):
        y, x = _H - 12, _LEFT + 220 * i
        label = "one-way marginals (tvd1)" if key == "tvd1" else "pairs of columns (tvd2)"
        parts.append(f'<line x1="{x}" y1="{y}" x2="{x + 20}" y2="{y}" '
                     f'stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{x + 26}" y="{y + 4}" font-size="11">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def plan_html(p: Plan, *, title: str | None = None) -> str:
    """The plan as one self-contained HTML page (inline SVG curve, table, verdicts, notes)."""
    head = title or f"Budget plan: {p.engine}, {p.rows:,} rows, {p.columns} columns"
    gan = any(e.learnability is not None for e in p.plans)
    rows = "\n".join(
        f"<tr><td>{e.epsilon:g}</td><td>{e.tvd1:.3f}</td><td>{e.tvd2:.3f}</td>"
        f"<td>{e.degree:.1f}</td><td>{e.noise_to_count:.2f}</td>"
        f"<td>{e.drowned_pairs:.0%}</td>"
        + (f"<td>{e.learnability:.1f}</td>" if e.learnability is not None else "")
        + f"<td>{escape(e.verdict)}</td></tr>" for e in p.plans)
    gan_head = "<th>DP-SGD signal-to-noise</th>" if gan else ""
    messages = "\n".join(f"<li>{escape(e.message)}</li>" for e in p.plans)
    notes = "\n".join(f"<li>{escape(n)}</li>" for n in p.notes)
    target = ""
    if p.target is not None:
        reach = (f"epsilon {p.epsilon_for_target:g}" if p.epsilon_for_target is not None
                 else "no epsilon up to 100")
        target = f"<p>Goal: mean two-way TVD at most {p.target:g}: reached at {reach}.</p>"
    delta = "" if p.delta is None else f", delta {p.delta:g}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(head)}</title>
<style>body{{font-family:sans-serif;max-width:760px;margin:2em auto;color:#222}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
th{{background:#f4f4f4}}</style></head><body>
<h1>{escape(head)}</h1>
<p>Predicted quality of a synthetic release at each privacy budget, computed from public
information only (the schema, the stated row count {p.rows:,}{escape(delta)}, the engine's
budget rules). Nothing was read from the data and no budget was spent. TVD is the share of a
marginal's mass the synthetic table places differently from the real one (0 = identical).</p>
{_curve_svg(p)}
{target}
<table><tr><th>epsilon</th><th>tvd1</th><th>tvd2</th><th>degree</th>
<th>noise / cell count</th><th>pairs drowned</th>{gan_head}<th>verdict</th></tr>
{rows}
</table>
<h2>In plain words</h2><ul>{messages}</ul>
<h2>What the prediction assumes</h2><ul>{notes}
<li>Measured against real releases on UCI Adult and the NIST ACS excerpt: see the planner's
documentation (docs/planner.md) for the predicted and measured values.</li></ul>
</body></html>
"""


__all__ = ["plan_html"]

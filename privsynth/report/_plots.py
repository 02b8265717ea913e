"""Inline SVG figures for the audit report, drawn in plain Python.

No plotting library: each function returns one ``<svg>`` element as a string
that the HTML embeds directly, so the report is a single file that renders
offline and prints cleanly. Every piece of text is escaped; coordinates are
rounded to 0.1 px. Figures take *aggregates* only (shares, curves, a matrix),
already chosen by the report's section modules to be safe to show.

The SVGs carry no ``xmlns`` attribute (inline SVG in HTML5 does not need it),
so the report contains no URL at all.

Example
-------
>>> svg = bar_pairs("age", ["17-30", "30-50"], [0.4, 0.6], [0.5, 0.5])
>>> svg.startswith("<svg") and svg.endswith("</svg>")
True
>>> "<title>" in svg
True
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from privsynth.errors import ParameterError

#: Colour-blind safe palette (Okabe & Ito): real, synthetic, then attacks.
REAL_COLOUR = "#0072B2"
SYNTHETIC_COLOUR = "#E69F00"
SERIES_COLOURS = ("#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#0072B2")
BOUND_COLOUR = "#222222"
_FONT = 11  # px, axis labels
# Largest width or height of any figure; keeps every coordinate below 1000.
MAX_SIZE = 720


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _n(x: float) -> str:
    """A coordinate: rounded to 0.1 px, no trailing zeros."""
    v = round(float(x), 1)
    if v == 0:
        v = 0.0  # no "-0"
    return f"{v:g}"


def _tick(v: float) -> str:
    return f"{v:.0%}" if v not in (0, 1) else f"{v:g}"


def _open(width: float, height: float, title: str, label: str) -> list[str]:
    return [
        f'<svg class="figure" width="{_n(width)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" role="img" aria-label="{_e(label)}">',
        f"<title>{_e(title)}</title>",
        f'<rect x="0" y="0" width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>',
    ]


def _text(x: float, y: float, text: str, *, anchor: str = "middle", size: int = _FONT,
          rotate: float | None = None, weight: str = "normal") -> str:
    transform = f' transform="rotate({_n(rotate)} {_n(x)} {_n(y)})"' if rotate else ""
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}"{transform}>{_e(text)}</text>')


def _short(label: str, limit: int = 16) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _legend(x: float, y: float, items: Sequence[tuple[str, str, str]]) -> list[str]:
    """Legend rows ``(label, colour, dash)`` starting at (x, y)."""
    out = []
    for i, (label, colour, dash) in enumerate(items):
        yy = y + i * 16
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{_n(x)}" y1="{_n(yy)}" x2="{_n(x + 22)}" y2="{_n(yy)}" '
                   f'stroke="{colour}" stroke-width="3"{dash_attr}/>')
        out.append(_text(x + 28, yy + 4, label, anchor="start"))
    return out


def _y_axis(left: float, top: float, height: float, right: float, ticks: Sequence[float],
            vmax: float) -> list[str]:
    out = []
    for t in ticks:
        y = top + height - height * t / vmax
        out.append(f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(right)}" y2="{_n(y)}" '
                   'stroke="#dddddd" stroke-width="1"/>')
        out.append(_text(left - 4, y + 4, _tick(t) if vmax <= 1 else f"{t:g}", anchor="end"))
    out.append(f'<line x1="{_n(left)}" y1="{_n(top)}" x2="{_n(left)}" '
               f'y2="{_n(top + height)}" stroke="#444444" stroke-width="1"/>')
    out.append(f'<line x1="{_n(left)}" y1="{_n(top + height)}" x2="{_n(right)}" '
               f'y2="{_n(top + height)}" stroke="#444444" stroke-width="1"/>')
    return out


def _nice_max(v: float) -> float:
    """A round upper limit for a share axis (at least 5 %)."""
    v = max(v, 0.05)
    for step in (0.05, 0.1, 0.2, 0.25, 0.5, 1.0):
        if v <= step * 5:
            return min(1.0, math.ceil(v / step - 1e-9) * step)
    return 1.0


def bar_pairs(
    title: str,
    labels: Sequence[str],
    real: Sequence[float],
    synthetic: Sequence[float],
    *,
    width: float = 340,
    height: float = 230,
) -> str:
    """Side-by-side bars of two distributions (shares) over the same public bins.

    >>> bar_pairs("x", ["a"], [1.0], [0.5]).count("<rect")
    3
    """
    if not (len(labels) == len(real) == len(synthetic)):
        raise ParameterError("labels, real and synthetic must have the same length")
    width, height = min(width, MAX_SIZE), min(height, MAX_SIZE)
    k = max(len(labels), 1)
    rotate = k > 6
    bottom = 78 if rotate else 36
    left, right, top = 42, width - 8, 40
    plot_h = height - top - bottom
    vmax = _nice_max(max([*real, *synthetic, 0.0]))
    ticks = [vmax * i / 4 for i in range(5)]
    out = _open(width, height, f"Marginal of {title}: real against synthetic",
                f"Bar chart comparing real and synthetic shares of {title}")
    out.append(_text(width / 2, 15, title, weight="bold", size=12))
    out += _legend(left + 4, 28, [("real", REAL_COLOUR, "")])
    out += _legend(left + 70, 28, [("synthetic", SYNTHETIC_COLOUR, "")])
    out += _y_axis(left, top, plot_h, right, ticks, vmax)
    slot = (right - left) / k
    bar = max(slot * 0.38, 0.5)
    for i, (lab, r, s) in enumerate(zip(labels, real, synthetic, strict=True)):
        x0 = left + i * slot + slot * 0.12
        for j, (v, colour) in enumerate(((r, REAL_COLOUR), (s, SYNTHETIC_COLOUR))):
            h = plot_h * min(max(v, 0.0), vmax) / vmax
            out.append(f'<rect x="{_n(x0 + j * bar)}" y="{_n(top + plot_h - h)}" '
                       f'width="{_n(bar)}" height="{_n(h)}" fill="{colour}"/>')
        cx = left + (i + 0.5) * slot
        if rotate:
            out.append(_text(cx + 3, top + plot_h + 8, _short(lab), anchor="end", size=9,
                             rotate=-60))
        else:
            out.append(_text(cx, top + plot_h + 14, _short(lab, 10), size=10))
    out.append("</svg>")
    return "".join(out)


def _heat_colour(v: float) -> str:
    """White (0) to dark red (1)."""
    t = min(max(v, 0.0), 1.0)
    r = round(255 - t * (255 - 165))
    g = round(255 - t * 255)
    b = round(255 - t * 255 * 0.9)
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(columns: Sequence[str], matrix: Sequence[Sequence[float]], *,
            title: str = "Association difference |V real - V synthetic|",
            rows: Sequence[str] | None = None,
            label: str = "Heatmap of the association difference between columns") -> str:
    """A heatmap of values in [0, 1] with labelled rows and columns.

    Square (one row per column) by default; with ``rows``, ``matrix`` has one
    row per entry of ``rows`` and one value per entry of ``columns``.

    >>> svg = heatmap(["a", "b"], [[0.0, 0.5], [0.5, 0.0]])
    >>> svg.count('class="cell"')
    4
    >>> heatmap(["a", "b", "c"], [[0.1, 0.2, 0.3]], rows=["x"]).count('class="cell"')
    3
    """
    names = list(columns) if rows is None else list(rows)
    d, r = len(columns), len(names)
    if len(matrix) != r or any(len(row) != d for row in matrix):
        raise ParameterError("matrix must have one row per row label and one value per column"
                             if rows is not None else
                             "matrix must be square with one row per column")
    label_w = 110
    cell = max(6.0, min(28.0, (MAX_SIZE - label_w - 80) / max(d, r, 1)))
    width, height = label_w + cell * d + 70, label_w + cell * r + 30
    out = _open(width, height, title, label)
    out.append(_text(width / 2, 14, title, weight="bold", size=12))
    top = 20 + label_w
    for i, name in enumerate(names):
        out.append(_text(label_w - 4, top + (i + 0.5) * cell + 4, _short(name, 18),
                         anchor="end", size=10))
    for j, name in enumerate(columns):
        x = label_w + (j + 0.5) * cell
        out.append(_text(x + 3, top - 4, _short(name, 18), anchor="start", size=10,
                         rotate=-60))
    for i in range(r):
        for j in range(d):
            v = float(matrix[i][j])
            out.append(
                f'<rect class="cell" x="{_n(label_w + j * cell)}" y="{_n(top + i * cell)}" '
                f'width="{_n(cell)}" height="{_n(cell)}" fill="{_heat_colour(v)}" '
                'stroke="#ffffff" stroke-width="0.5"/>')
    # colour scale
    sx, sh = label_w + cell * d + 16, cell * r
    for k in range(20):
        out.append(f'<rect x="{_n(sx)}" y="{_n(top + sh * (1 - (k + 1) / 20))}" width="12" '
                   f'height="{_n(sh / 20 + 0.3)}" fill="{_heat_colour((k + 0.5) / 20)}"/>')
    out.append(f'<rect x="{_n(sx)}" y="{_n(top)}" width="12" height="{_n(sh)}" fill="none" '
               'stroke="#444444" stroke-width="0.5"/>')
    out.append(_text(sx + 16, top + 8, "1", anchor="start", size=10))
    out.append(_text(sx + 16, top + sh, "0", anchor="start", size=10))
    out.append("</svg>")
    return "".join(out)


def _polyline(points: Sequence[tuple[float, float]], colour: str, dash: str = "",
              width: float = 2) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
    return (f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="{width}"'
            f'{dash_attr}/>')


def roc_curves(
    curves: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    bound: Sequence[tuple[float, float]] | None = None,
    *,
    bound_label: str = "DP bound",
    size: float = 360,
) -> str:
    """ROC curves of the attacks, the chance diagonal and the ceiling of the DP claim.

    >>> svg = roc_curves([("distance", [0, 1], [0, 1])], [(0, 0), (1, 1)])
    >>> svg.count("<polyline")
    3
    """
    size = min(size, MAX_SIZE)
    left, top = 46, 28
    plot = size - 80
    legend_h = 16 * (len(curves) + (1 if bound else 0) + 1)
    width, height = size + 150, top + plot + 42 + max(0, legend_h - plot)
    out = _open(width, height, "ROC curves of the membership-inference attacks",
                "ROC curves of the attacks with the bound implied by the privacy claim")
    out.append(_text(left + plot / 2, 16, "Membership attacks: ROC", weight="bold", size=12))

    def xy(f: float, t: float) -> tuple[float, float]:
        return left + plot * f, top + plot - plot * t

    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        x, y = xy(t, t)
        out.append(f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(left + plot)}" y2="{_n(y)}" '
                   'stroke="#eeeeee"/>')
        out.append(f'<line x1="{_n(x)}" y1="{_n(top)}" x2="{_n(x)}" y2="{_n(top + plot)}" '
                   'stroke="#eeeeee"/>')
        out.append(_text(left - 4, y + 4, f"{t:g}", anchor="end"))
        out.append(_text(x, top + plot + 14, f"{t:g}"))
    out.append(f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(plot)}" height="{_n(plot)}" '
               'fill="none" stroke="#444444"/>')
    out.append(_text(left + plot / 2, top + plot + 32, "false positive rate"))
    out.append(_text(14, top + plot / 2, "true positive rate", rotate=-90))
    out.append(_polyline([xy(0, 0), xy(1, 1)], "#999999", "2 3", 1))
    items: list[tuple[str, str, str]] = [("chance", "#999999", "2 3")]
    if bound:
        out.append(_polyline([xy(f, t) for f, t in bound], BOUND_COLOUR, "6 3", 2))
        items.append((bound_label, BOUND_COLOUR, "6 3"))
    dashes = ("", "4 2", "1 2", "8 2 2 2")
    for i, (name, fpr, tpr) in enumerate(curves):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        dash = dashes[i % len(dashes)]
        out.append(_polyline([xy(f, t) for f, t in zip(fpr, tpr, strict=True)], colour, dash))
        items.append((name, colour, dash))
    out += _legend(left + plot + 14, top + 8, items)
    out.append("</svg>")
    return "".join(out)


def histograms(
    edges: Sequence[float],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str = "Distance to closest record (DCR)",
    xlabel: str = "Gower distance of each synthetic row to its closest record",
    width: float = 520,
    height: float = 260,
) -> str:
    """Overlaid step histograms (shares per bin) on shared edges.

    The x axis stops after the last bin that holds any mass.

    >>> svg = histograms([0, 0.5, 1], [("train", [0.5, 0.5]), ("holdout", [1.0, 0.0])])
    >>> svg.count("<polyline")
    2
    """
    width, height = min(width, MAX_SIZE), min(height, MAX_SIZE)
    k = len(edges) - 1
    if k < 1 or any(len(s) != k for _, s in series):
        raise ParameterError("every series needs one value per bin")
    last = max((i for _, s in series for i, v in enumerate(s) if v > 0), default=k - 1)
    stop = min(k, last + 2)
    lo, hi = float(edges[0]), float(edges[stop])
    left, right, top, bottom = 46, width - 130, 28, 42
    plot_h = height - top - bottom
    vmax = _nice_max(max((v for _, s in series for v in s[:stop]), default=0.0))
    out = _open(width, height, title, f"Histogram: {title}")
    out.append(_text((left + right) / 2, 16, title, weight="bold", size=12))
    out += _y_axis(left, top, plot_h, right, [vmax * i / 4 for i in range(5)], vmax)

    def x_of(v: float) -> float:
        return left + (right - left) * (v - lo) / (hi - lo if hi > lo else 1.0)

    for t in range(5):
        v = lo + (hi - lo) * t / 4
        out.append(_text(x_of(v), top + plot_h + 14, f"{v:.2g}"))
    out.append(_text((left + right) / 2, top + plot_h + 32, xlabel, size=10))
    items = []
    for i, (name, shares) in enumerate(series):
        colour = (REAL_COLOUR, SYNTHETIC_COLOUR, *SERIES_COLOURS)[i % 8]
        pts: list[tuple[float, float]] = [(x_of(lo), top + plot_h)]
        for b in range(stop):
            y = top + plot_h - plot_h * min(float(shares[b]), vmax) / vmax
            pts += [(x_of(float(edges[b])), y), (x_of(float(edges[b + 1])), y)]
        pts.append((x_of(hi), top + plot_h))
        dash = "" if i == 0 else "5 2"
        out.append(_polyline(pts, colour, dash))
        items.append((name, colour, dash))
    out += _legend(right + 12, top + 8, items)
    out.append("</svg>")
    return "".join(out)


__all__ = ["bar_pairs", "heatmap", "histograms", "roc_curves"]

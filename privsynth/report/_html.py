"""The HTML view of an audit report: one self-contained, printable page.

:func:`render` turns the JSON document of one edition (see
:meth:`privsynth.report.AuditReport.to_dict`) into HTML. Rules:

- everything inline: CSS in a ``<style>`` element, figures as inline SVG
  (:mod:`privsynth.report._plots`); no script, no font, no image file, no URL;
  a Content-Security-Policy meta tag forbids the browser from fetching
  anything even if some text slipped through;
- every string from the document is escaped with :func:`html.escape`;
- section headings are ``<h2 id="...">`` with the stable ids of
  :data:`privsynth.report.document.SECTIONS`, present in both editions.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from privsynth.report import _plots

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; max-width: 1040px; margin: 0 auto; padding: 24px 28px 48px;
       color: #1a1a1a; background: #ffffff; line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.3em; margin: 2.2em 0 0.6em; padding-bottom: 4px;
     border-bottom: 2px solid #d0d7de; }
h3 { font-size: 1.05em; margin: 1.4em 0 0.4em; }
p { margin: 0.5em 0; }
.meta { color: #555555; font-size: 0.9em; }
.banner { margin: 14px 0; padding: 10px 14px; border-radius: 6px; border: 1px solid; }
.banner.steward { background: #fff4e5; border-color: #e0a100; }
.banner.public { background: #eaf5ea; border-color: #5a9e5a; }
.callout { margin: 10px 0; padding: 8px 12px; border-left: 4px solid #888888;
           background: #f6f8fa; }
.callout.fail { border-color: #b42318; background: #fdecea; }
.callout.warn { border-color: #b7791f; background: #fff8e1; }
.callout.pass { border-color: #2f855a; background: #eaf5ea; }
.headline { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
.headline div { flex: 1 1 150px; border: 1px solid #d0d7de; border-radius: 6px;
                padding: 8px 12px; }
.headline b { display: block; font-size: 1.35em; }
nav ol { columns: 2; margin: 6px 0; padding-left: 22px; }
nav a { color: #0b5cad; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 12px; font-size: 0.88em; }
th, td { border: 1px solid #d0d7de; padding: 4px 7px; text-align: left; vertical-align: top; }
th { background: #f3f5f7; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.hash { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
          font-size: 0.85em; word-break: break-all; }
.blank { color: #8a1c1c; font-style: italic; }
table.signatures td { height: 3.2em; }
.badge { display: inline-block; min-width: 3.6em; text-align: center; padding: 1px 8px;
         border-radius: 10px; font-weight: 700; font-size: 0.8em; letter-spacing: 0.03em; }
.badge.pass { background: #d8f0dd; color: #135e2a; }
.badge.warn { background: #ffefc2; color: #7a5200; }
.badge.fail { background: #fbd5d5; color: #8a1c1c; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0; }
figure { margin: 0; }
figcaption { font-size: 0.82em; color: #555555; max-width: 520px; }
svg.figure { max-width: 100%; height: auto; border: 1px solid #e5e7eb; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
           fill: #222222; }
pre { white-space: pre-wrap; word-break: break-all; font-size: 0.75em; background: #f6f8fa;
      border: 1px solid #e5e7eb; padding: 8px; max-height: none; }
ul { margin: 0.4em 0; padding-left: 22px; }
footer { margin-top: 3em; font-size: 0.8em; color: #666666; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h2.major { break-before: page; page-break-before: always; }
  table, figure, .callout, .headline { break-inside: avoid; page-break-inside: avoid; }
  tr { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  .badge { border: 1px solid #888888; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

# Content-Security-Policy: nothing may be fetched; only the inline style applies.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; script-src 'none'"


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{float(value):.{digits}g}"


def _pct(value: Any) -> str:
    return "—" if value is None else f"{float(value):.1%}"


def _badge(status: str) -> str:
    return f'<span class="badge {_e(status)}">{_e(status.upper())}</span>'


def _table(header: Sequence[str], rows: Sequence[Sequence[str]],
           numeric: Sequence[int] = ()) -> str:
    """A table; cells are HTML already escaped by the caller."""
    head = "".join(f'<th class="num">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>"
                   for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kv(rows: Sequence[tuple[str, str]], cls: str = "") -> str:
    """A two-column table of (label, HTML value)."""
    attr = f' class="{cls}"' if cls else ""
    body = "".join(f"<tr><th>{_e(k)}</th><td{attr}>{v}</td></tr>" for k, v in rows)
    return f"<table><tbody>{body}</tbody></table>"


def _list(items: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{_e(caption)}</figcaption></figure>"


def _json_block(value: Any) -> str:
    return f"<pre>{_e(json.dumps(value, indent=2, ensure_ascii=False))}</pre>"


# ---------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------
def _or_blank(value: object) -> str:
    return _e(value) if value else '<span class="blank">not stated: fill in before signing</span>'


def _sign_off(doc: Mapping[str, Any]) -> str:
    so = doc["sign_off"]
    files = "".join(
        f"<li>{_e(f['what'])}"
        + (f" <b>{_e(f['file_name'])}</b>" if f.get("file_name") else "")
        + f'<br><span class="hash">SHA-256 {_e(f["sha256"])}</span>'
        + (" (of the data frame written as CSV)" if f.get("hashed") == "dataframe-csv" else "")
        + "</li>" for f in so["released_files"])
    ds = so["dataset"]
    dataset = _or_blank(ds.get("name"))
    if ds.get("head"):
        dataset += (f'<br><span class="hash">ledger chain head {_e(ds["head"])}</span>')
    if ds.get("genesis"):
        dataset += (f'<br><span class="hash">ledger genesis {_e(ds["genesis"])}</span>')
    out = [_kv([
        ("Release", _e(so["release_id"])),
        ("What is released", f"<ul>{files}</ul>"),
        ("Given to", _or_blank(so.get("audience"))),
        ("Purpose", _or_blank(so.get("purpose"))),
        ("Controller", _or_blank(so.get("controller"))),
        ("Approver", _or_blank(so.get("approver"))),
        ("Data set", dataset),
    ])]
    out.append("<h3>Privacy guarantees</h3>" + _list(so["guarantees"]))
    out.append(f'<div class="callout {_e(so["verdict"])}">{_badge(so["verdict"])} '
               f"{_e(so['verdict_statement'])}</div>")
    out.append("<h3>Residual risks</h3>" + _list(so["residual_risks"]))
    out.append("<h3>The data steward must not</h3>" + _list(so["must_not"]))
    out.append(f"<h3>Keeping the ledger</h3><p>{_e(so['retention'])}</p>")
    out.append(f"<h3>Legal framing</h3><p>{_e(so['legal'])}</p>")
    rows = [[_e(s["role"]), _or_blank(s.get("name")), "", ""] for s in so["signatures"]]
    out.append('<h3>Signatures</h3><table class="signatures"><thead><tr><th>Role</th>'
               "<th>Name</th><th>Signature</th><th>Date</th></tr></thead><tbody>"
               + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
               + "</tbody></table>")
    return "".join(out)


def _identity(doc: Mapping[str, Any]) -> str:
    idt = doc["identity"]
    syn, mod = idt["synthetic"], idt["model"]
    rows = [
        ("Release id", _e(idt["release_id"])),
        ("Created (UTC)", _e(idt["created"])),
        ("privsynth version", _e(idt["privsynth_version"])),
        *([(f"Synthetic data: {t['table']}" if "table" in t else "Synthetic data",
            f"{_num(t['rows'])} rows, {_num(t['columns'])} columns"
            + (f" — file {_e(t['file_name'])}" if t.get("file_name") else "")
            + f'<br><span class="hash">SHA-256 {_e(t["sha256"])}</span>')
           for t in idt.get("tables") or [syn]]),
        ("Hash of", _e(idt["hash_note"])),
        ("Engine", _e(mod["engine"] or "not given")),
        ("Model file SHA-256", f'<span class="hash">{_e(mod["sha256"])}</span>'
         + (f" — file {_e(mod['file_name'])}" if mod.get("file_name") else "")
         if mod.get("sha256") else "no model file given"),
    ]
    return _kv(rows)


def _data(doc: Mapping[str, Any]) -> str:
    d = doc["data"]
    src = d["schema_source"]
    out = [f"<p>This section uses only the public schema (source: <b>{_e(src)}</b>"
           + ("" if d["schema_is_public"] else ", <b>not public: read from the data without "
              "DP</b>") + f"). {_num(d['n_columns'])} columns"
           + (f", {_num(d['n_constraints'])} constraint(s)" if d["n_constraints"] else "")
           + ".</p>",
           f"<p>{_e(d['real_rows']['statement'])} The synthetic data have "
           f"{_num(d['synthetic_rows'])} rows.</p>"]
    if d["ignored_columns"]:
        out.append(f"<p>{_num(d['ignored_columns'])} column(s) of the real data are not in the "
                   "public schema; they were ignored and are not described here.</p>")
    rows = [[_e(c["name"]), _e(c["kind"]), "yes" if c["nullable"] else "no", _e(c["domain"]),
             _e(c["description"])] for c in d["columns"]]
    out.append(_table(["Column", "Kind", "Missing allowed", "Public domain", "Description"],
                      rows))
    stats = d.get("constraints")
    if stats:
        out.append('<h3 id="constraints">Constraints</h3>')
        out.append("<p>Logical rules every synthetic row obeys, enforced by rejection sampling "
                   "from the DP model (post-processing: no privacy cost). The shares come from "
                   "the model's most recent sampling.</p>")
        out.append(_table(
            ["Constraint", "Raw samples violating it", "Acceptance rate"],
            [[_e(c["constraint"]), _pct(c["raw_violation_share"]), _pct(c["acceptance_rate"])]
             for c in stats], numeric=(1, 2)))
    elif d["n_constraints"]:
        out.append('<h3 id="constraints">Constraints</h3>'
                   f"<p>The schema declares {_num(d['n_constraints'])} constraint(s); the model "
                   "reports no sampling statistics for them.</p>")
    return "".join(out)


def _threat(doc: Mapping[str, Any]) -> str:
    t = doc["threat_model"]
    rows = [("Privacy unit", _e(t["privacy_unit"])),
            ("Neighbouring data sets", _e(t["neighbouring"])),
            ("Protected", _e(t["protects"]))]
    if t.get("values"):
        rows.append(("Values of a unit known to be present", _e(t["values"])))
    return (_kv(rows)
            + ("<h3>Noise sources of the fit</h3>" + _list(t["noise_sources"])
               if t.get("noise_sources") else "")
            + "<h3>The adversary is assumed to know</h3>" + _list(t["adversary_knows"])
            + "<h3>Not covered by the guarantee</h3>" + _list(t["not_covered"]))


def _ledger(doc: Mapping[str, Any]) -> str:
    led = doc["ledger"]
    source = led.get("source", "accountant")
    if source == "none":
        return ('<div class="callout warn">No ledger and no model were given: the report '
                "cannot show what was spent on this data set.</div>")
    s = led["spent"]
    rows: list[tuple[str, str]] = []
    if source == "model":
        out = ['<div class="callout warn">No ledger of the data set was given. Shown below are '
               "the model's own ledger entries, from its fit record: they cover this release "
               "only, not other releases from the same data.</div>"]
    else:
        out = []
        b = led["budget"]
        ds = led.get("dataset") or {}
        if ds.get("name"):
            rows.append(("Data set", _e(ds["name"])
                         + (f" — owner {_e(ds['owner'])}" if ds.get("owner") else "")
                         + (f", approved by {_e(ds['approved_by'])}"
                            if ds.get("approved_by") else "")))
        rows.append(("Budget of the data set", f"epsilon = {_num(b['epsilon'], 4)}, "
                                               f"delta = {_num(b['delta'])}"))
    rows += [
        ("Total spent" if source != "model" else "Total of the model's entries",
         f"<b>epsilon = {_num(s['epsilon'], 4)}, delta = {_num(s['delta'])}</b>"
         + ("" if s["epsilon"] is not None else " (unbounded)")),
        ("Composition", f"{_e(s['method'])}: {_e(s.get('method_text', ''))}"),
    ]
    if led.get("head"):
        rows.append(("Ledger chain head", f'<span class="hash">{_e(led["head"])}</span> (the '
                                          "id of the ledger's last entry"
                                          + (" when the model was fitted"
                                             if source == "model" else "")
                                          + "; it identifies the ledger's state and whole "
                                          "history; see docs/accounting.md)"))
    if led.get("genesis"):
        rows.append(("Genesis", f'<span class="hash">{_e(led["genesis"])}</span> (hash of the '
                                "ledger's budget and data-set header)"))
    rows.append(("Entries", _num(len(led["entries"]))
                 + (' (listed in the <a href="#ledger-entries">appendix</a>)'
                    if led["entries"] else "")))
    out.append(_kv(rows))
    if not led["entries"]:
        out.append('<div class="callout warn">The ledger is empty.</div>')
    return "".join(out)


def _ledger_entries(doc: Mapping[str, Any]) -> str:
    led = doc["ledger"]
    source = led.get("source", "accountant")
    entries = led["entries"]
    if not entries:
        return "<p>No ledger entries.</p>"
    with_release = any(e["release"] for e in entries)
    mark = source != "model" and any(e.get("this_model") for e in entries)
    table = [[str(e["index"]), _e(e["label"]), _e(e["mechanism"]), _num(e["epsilon"], 4),
              _num(e["delta"]), *([_e(e["release"])] if with_release else []),
              *(["yes" if e.get("this_model") else ""] if mark else []),
              # to the second: the microseconds of the ledger add nothing for a reader
              _e(str(e["timestamp"])[:19].replace("T", " "))
              + (" <b>reproducible noise</b>" if e["reproducible_noise"] else "")]
             for e in entries]
    header = ["#", "Label", "Mechanism", "epsilon", "delta",
              *(["Release"] if with_release else []), *(["This model"] if mark else []),
              "Time (UTC)"]
    intro = ("<p>The model's own ledger entries, from its fit record.</p>" if source == "model"
             else "<p>Every entry of the data set's ledger, oldest first"
             + ("; <b>This model</b> marks the audited fit's entries" if mark else "")
             + ".</p>")
    return intro + _table(header, table, numeric=(0, 3, 4))


def _epsilon(doc: Mapping[str, Any]) -> str:
    ep = doc["epsilon"]
    out = ["<h3>This release on its own</h3>"]
    out += [f"<p>{_e(s)}</p>" for s in ep.get("release_statements", [])]
    out.append("<h3>The data set</h3>")
    out += [f"<p>{_e(s)}</p>" for s in ep["statements"]]
    if ep["tpr_bounds"]:
        rows = [[_num(b["fpr"]), _pct(b["tpr_upper_bound"])] for b in ep["tpr_bounds"]]
        out.append(_table(["False positive rate", "Highest possible true positive rate"], rows,
                          numeric=(0, 1)))
    return "".join(out)


def _hazards(doc: Mapping[str, Any]) -> str:
    c = doc["hazard_counts"]
    rows = [[_badge(h["status"]), _e(h["title"]) + (" <span class=\"meta\">(evaluation)"
                                                    "</span>" if h.get("evaluation") else ""),
             _e(h["explanation"])] for h in doc["hazards"]]
    return (f"<p>{c['pass']} passed, {c['warn']} warning(s), {c['fail']} failed.</p>"
            + _table(["Status", "Check", "Explanation"], rows))


def _omitted(section: Mapping[str, Any]) -> str:
    return f'<div class="callout">{_e(section.get("reason"))}</div>'


def _attacks(doc: Mapping[str, Any]) -> str:
    a = doc["attacks"]
    if not a.get("included"):
        return _omitted(a)
    out = [f'<div class="callout warn">{_e(a["note"])}</div>']
    claim = a.get("claimed_epsilon")
    verdict = a.get("verdict")
    if verdict:
        cls = {"problem found": "fail", "inconclusive": "warn"}.get(verdict, "pass")
        out.append(f'<div class="callout {cls}"><b>{_e(verdict.capitalize())}.</b> '
                   f"{_e(a.get('verdict_reason'))} Largest empirical epsilon estimate (a "
                   f"diagnostic): {_num(a['max_epsilon_lower_bound'])}; claimed epsilon of "
                   f"this release: {_num(claim)}."
                   "</div>")
    fprs = sorted({k for r in a["results"] for k in r["tpr_at_fpr"]}, key=float)
    rows = []
    for r in a["results"]:
        rows.append([_e(r["name"]), _e(r["description"]),
                     f"{_num(r['auc'])} [{_num(r['auc_ci'][0])}, {_num(r['auc_ci'][1])}]",
                     *[_pct(r["tpr_at_fpr"].get(f)) for f in fprs],
                     _num(r["epsilon_lower_bound"]),
                     _e(r.get("verdict", "")) + (f'<br><span class="meta">'
                                                 f'{_e(r["verdict_reason"])}</span>'
                                                 if r.get("verdict_reason") else "")])
    out.append(_table(["Attack", "What it does", "ROC AUC [95 % CI]",
                       *[f"TPR at FPR {f}" for f in fprs], "epsilon estimate", "Verdict"],
                      rows, numeric=tuple(range(2, 4 + len(fprs)))))
    if claim is not None:
        bounds = a.get("tpr_upper_bound") or {}
        out.append(f"<p>Claimed epsilon of this release: {_num(claim, 4)} (delta "
                   f"{_num(a['claimed_delta'])}). Under the claim no attack can exceed TPR "
                   + ", ".join(f"{_pct(v)} at FPR {_e(k)}" for k, v in bounds.items())
                   + ".</p>")
    figs = []
    if a["results"]:
        bound = None
        if claim is not None:
            from privsynth.risk.audit_bound import tpr_upper_bound

            grid = [i / 200 for i in range(201)]
            bound = [(f, tpr_upper_bound(f, claim, min(a["claimed_delta"], 1.0)))
                     for f in grid]
        svg = _plots.roc_curves([(r["name"], r["roc"]["fpr"], r["roc"]["tpr"])
                                 for r in a["results"]], bound,
                                bound_label=f"DP bound (epsilon {_num(claim)})")
        figs.append(_figure(svg, "ROC curves of the membership attacks. The dashed black "
                                 "curve is the most any attack can achieve under the claim; "
                                 "the grey diagonal is guessing."))
    diag = a["diagnostics"]
    hist = diag["histogram"]
    if hist["edges"]:
        svg = _plots.histograms(hist["edges"], [("to training rows", hist["dcr_train"]),
                                                ("to holdout rows", hist["dcr_holdout"])])
        figs.append(_figure(svg, "Distance of each synthetic row to its closest training row "
                                 "and to its closest holdout row (shares of synthetic rows). "
                                 "Similar curves mean the synthetic data are no closer to "
                                 "the training rows than to unseen rows."))
    out.append('<div class="figures">' + "".join(figs) + "</div>")

    def q(d: Mapping[str, Any]) -> list[str]:
        return [_num(d.get(k), 3) for k in ("q05", "q50", "q95", "mean")]

    out.append("<h3>Distance diagnostics</h3>")
    out.append(_table(["Statistic", "5 %", "median", "95 %", "mean"], [
        ["DCR to training rows", *q(diag["dcr_train"])],
        ["DCR to holdout rows", *q(diag["dcr_holdout"])],
        ["NNDR to training rows", *q(diag["nndr_train"])],
        ["NNDR to holdout rows", *q(diag["nndr_holdout"])],
    ], numeric=(1, 2, 3, 4)))
    out.append(_kv([
        ("Share of synthetic rows closer to training than to holdout rows",
         _pct(diag["share_closer_to_train"]) + " (about 50 % expected)"),
        ("Share of synthetic rows equal to a training row", _pct(diag["exact_copy_share"])),
        ("Share of synthetic rows equal to a holdout row",
         _pct(diag["holdout_exact_copy_share"])),
    ]))
    out.append("<h3>Caveats</h3>" + _list(a["caveats"]))
    notes = [f"{r['name']}: {n}" for r in a["results"] for n in r["notes"]]
    if notes:
        out.append("<h3>Notes</h3>" + _list(notes))
    return "".join(out)


_VERDICT_STATUS = {"not detected": "pass", "low": "pass", "moderate": "warn", "high": "fail",
                   "not measured": "warn", "inconclusive": "warn"}


def _criteria(doc: Mapping[str, Any]) -> str:
    c = doc.get("criteria") or {"included": False, "reason": "Not part of this report."}
    if not c.get("included"):
        return _omitted(c)
    out = [f"<p>{_e(c['note'])}</p>"]
    results = c.get("results")
    if results is None:
        out.append(f'<div class="callout">{_e(c.get("results_omitted"))}</div>')
    else:
        rows = []
        for name, r in results.items():
            title = _e(c["method"][name]["title"])
            if r.get("secret"):
                title += f" (worst secret: {_e(r['secret'])})"
            verdict = (f'<span class="badge {_VERDICT_STATUS.get(r["verdict"], "warn")}">'
                       f'{_e(r["verdict"])}</span>')

            def interval(v: Any, ci: Sequence[Any], pct: bool = True) -> str:
                f = _pct if pct else (lambda x: "—" if x is None else f"{float(x):.2f}")
                return f"{f(v)} [{f(ci[0])}, {f(ci[1])}]"

            rows.append([title, verdict, interval(r["risk"], r["risk_ci"], pct=False),
                         interval(r["success_rate"], r["success_ci"]),
                         interval(r["control_rate"], r["control_ci"]), _e(r["reading"])])
        out.append(_table(["Criterion", "Verdict", "Risk [interval]",
                           "Success on people in the data", "Success on other people",
                           "Reading"], rows, numeric=(2, 3, 4)))
        notes = [f"{c['method'][n]['title']}: {x}" for n, r in results.items() for x in r["notes"]]
        if notes:
            out.append("<h3>Notes</h3>" + _list(notes))
    for m in c["method"].values():
        n = (_num(m["n_attacks"]) if m.get("n_attacks") is not None
             else _e(m.get("n_attacks_note", "")))
        items = [("Question", _e(m["question"])), ("What the attack assumed", _e(m["assumption"])),
                 ("Columns used", _e(", ".join(m["columns"]))), ("Number of attacks", n)]
        if "columns_a" in m:
            items.append(("The two sets of columns", _e(", ".join(m["columns_a"])) + " | "
                          + _e(", ".join(m["columns_b"]))))
        if "secrets" in m:
            items.append(("Secret columns tried", _e(", ".join(m["secrets"]))))
        out.append(f"<h3>{_e(m['title'])}</h3>" + _kv(items))
    out.append("<h3>What these numbers do and do not show</h3>" + _list(c["caveats"]))
    return "".join(out)


def _utility(doc: Mapping[str, Any]) -> str:
    u = doc["utility"]
    if not u.get("included"):
        return _omitted(u)
    f = u["fidelity"]
    sub = u.get("subsample") or {}
    out = [f'<div class="callout warn">{_e(u["note"])}</div>']
    if sub.get("subsampled"):
        out.append(f'<p class="meta"><b>Subsample:</b> {_e(sub.get("statement"))}</p>')
    out += [_table(["Measure", "Value", "Meaning"], [
               ["tvd1", _num(f.get("tvd1")), "mean total-variation distance of the 1-way "
                                             "marginals (0 = identical, 1 = disjoint)"],
               ["tvd2", _num(f.get("tvd2")), "same for all pairs of columns"],
               ["tvd3", _num(f.get("tvd3")), "same for (up to 500) triples of columns"],
               ["association difference", _num(f.get("mean_association_difference")),
                "mean |Cramér's V real − synthetic| over pairs of columns"],
           ], numeric=(1,))]
    ml = u.get("ml_efficacy")
    if ml:
        out.append(f"<p>Train on synthetic, test on real (target <b>{_e(ml['target'])}</b>"
                   + (f", positive class {_e(ml['positive'])}" if ml.get("positive") else "")
                   + f"): ROC AUC <b>{_num(ml['tstr_auc'])}</b>, against "
                   f"{_num(ml['trtr_auc'])} when trained on the real training data.</p>")
        if ml.get("note"):
            out.append(f"<p class=\"meta\">{_e(ml['note'])}</p>")
    else:
        out.append(f"<p>{_e(u.get('ml_efficacy_reason'))}</p>")
    figs = [_figure(_plots.bar_pairs(m["column"], m["labels"], m["real"], m["synthetic"]),
                    f"{m['column']}: shares on the public bins of the schema.")
            for m in u["marginals"]]
    out.append(f"<h3>Marginals of the {len(figs)} columns with the largest TVD</h3>")
    out.append('<div class="figures">' + "".join(figs) + "</div>")
    ad = u["association_difference"]
    if len(ad["columns"]) > 1:
        out.append("<h3>Association difference</h3>")
        out.append('<div class="figures">' + _figure(
            _plots.heatmap(ad["columns"], ad["matrix"]),
            "|Cramér's V real − Cramér's V synthetic| for each pair of columns; white is "
            "a preserved association.") + "</div>")
    out.append("<h3>Every column</h3>")
    out.append(_table(["Column", "TVD", "Coverage"],
                      [[_e(c["column"]), _num(c["tvd"]), _num(c["coverage"])]
                       for c in u["columns"]], numeric=(1, 2)))
    return "".join(out)


def _residual(doc: Mapping[str, Any]) -> str:
    r = doc["residual_risk"]
    return (f'<div class="callout {_e(r["verdict"])}">{_badge(r["verdict"])} '
            f"{_e(r['statement'])}</div>" + _list(r["points"]))


def _configuration(doc: Mapping[str, Any]) -> str:
    c = doc["configuration"]
    out = [_kv([("Engine", _e(c["engine"] or "not given"))])]
    if c.get("parameters"):
        out.append("<h3>Engine parameters</h3>")
        out.append(_table(["Parameter", "Value"],
                          [[_e(k), _e(json.dumps(v))] for k, v in c["parameters"].items()]))
    desc = c.get("model_description")
    if desc:
        out.append("<h3>Model description (DP outputs)</h3>")
        network = desc.get("network") if isinstance(desc, Mapping) else None
        if isinstance(network, list):
            rows = [[_e(n.get("child")), _e(", ".join(n.get("parents", [])) or "—")]
                    for n in network if isinstance(n, Mapping)]
            out.append(_table(["Column", "Parents in the network"], rows))
            rest = {k: v for k, v in desc.items() if k != "network"}
            out.append(_json_block(rest))
        else:
            out.append(_json_block(desc))
    out.append("<h3>Audit settings</h3>" + _json_block(c["audit"]))
    out.append("<h3>Public schema</h3>" + _json_block(c["schema"]))
    if c.get("ledger_document") is not None:
        out.append("<h3>Ledger document</h3>" + _json_block(c["ledger_document"]))
    return "".join(out)


_RENDERERS = {
    "sign-off": _sign_off,
    "identity": _identity,
    "data": _data,
    "threat-model": _threat,
    "ledger": _ledger,
    "epsilon": _epsilon,
    "hazards": _hazards,
    "attacks": _attacks,
    "criteria": _criteria,
    "utility": _utility,
    "residual-risk": _residual,
    "ledger-entries": _ledger_entries,
    "configuration": _configuration,
}


def render(doc: Mapping[str, Any]) -> str:
    """The HTML page of a report document (one edition)."""
    idt = doc["identity"]
    ep = doc["epsilon"]
    counts = doc["hazard_counts"]
    public = bool(doc.get("public"))
    banner = (
        '<div class="banner public"><b>Public edition.</b> Holds only the public schema, '
        "differentially private outputs, the privacy ledger and the checklist.</div>"
        if public else
        '<div class="banner steward"><b>Steward\'s edition — not for publication.</b> '
        "The utility and attack sections are computed on the private data without "
        "differential privacy. Publish the public edition instead.</div>")
    eps_text = "unknown" if ep["epsilon"] is None else _num(ep["epsilon"], 4)
    rel = ep.get("release_epsilon")
    rel_text = "—" if rel is None else _num(rel, 4)
    head = [
        f'<div class="headline"><div>this release<b>ε {rel_text}</b>'
        f"δ {_num(ep.get('release_delta'))}</div>"
        f"<div>data set total<b>ε {eps_text}</b>δ {_num(ep['delta'])}</div>"
        f"<div>checks<b>{counts['pass']} / {counts['warn']} / {counts['fail']}</b>"
        "pass / warn / fail</div>"
        f"<div>verdict<b>{_badge(doc['residual_risk']['verdict'])}</b></div></div>",
    ]
    nav = "<nav><b>Contents</b><ol>" + "".join(
        f'<li><a href="#{_e(s["id"])}">{_e(s["title"])}</a></li>' for s in doc["sections"]
    ) + "</ol></nav>"
    from privsynth.report._html_tables import TABLE_RENDERERS

    renderers = {**_RENDERERS, **TABLE_RENDERERS}
    body = []
    for s in doc["sections"]:
        render_section = renderers[s["id"]]
        cls = ' class="major"' if s["id"] in ("identity", "attacks", "ledger-entries",
                                               "configuration") else ""
        body.append(f'<section><h2 id="{_e(s["id"])}"{cls}>{_e(s["title"])}</h2>'
                    f"{render_section(doc)}</section>")
    title = f"privsynth audit report — {idt['release_id']}"
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f'<meta http-equiv="Content-Security-Policy" content="{_e(_CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        "<header><h1>Audit report of a synthetic data release</h1>",
        f'<p class="meta">Release {_e(idt["release_id"])} · created {_e(idt["created"])} UTC '
        f"· privsynth {_e(idt['privsynth_version'])}</p></header>",
        # the sign-off page first; the contents after it
        banner, *head, *body[:1], nav, *body[1:],
        f"<footer>Generated by privsynth {_e(idt['privsynth_version'])}. Report format "
        f"{_e(doc['format'])} version {_e(doc['version'])} ({_e(doc['edition'])} edition)."
        "</footer></body></html>\n",
    ])


__all__ = ["render"]

"""The benchmark harness's pure parts: public ACS schema, output coercion, summaries, report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks import harness
from privsynth.columns import CategoricalColumn, FloatColumn, IntegerColumn
from privsynth.schema import Schema

DICTIONARY = {
    "AGEP": {"description": "age", "values": {"min": 0, "max": 99}},
    "NOC": {"description": "children", "values": {"N": "n/a", "0": "none", "min": 1, "max": 19}},
    "POVPIP": {"description": "poverty", "values": {"N": "n/a", "min": 0, "max": 500,
                                                    "501": "above 5x"}},
    "PINCP": {"description": "income", "values": {"N": "n/a", "min": -9000, "max": 1341000}},
    "SEX": {"description": "sex", "values": {"1": "Male", "2": "Female"}},
    "DREM": {"description": "cognitive", "values": {"N": "n/a", "1": "Yes", "2": "No"}},
    "INDP": {"description": "industry", "details": "271 codes"},
}


def test_acs_schema_comes_from_the_dictionary_alone() -> None:
    s = harness.acs_schema(DICTIONARY)
    agep, noc, povpip, pincp, indp = (s[n] for n in ("AGEP", "NOC", "POVPIP", "PINCP", "INDP"))
    assert isinstance(agep, IntegerColumn)
    assert (agep.lower, agep.upper, agep.nullable) == (0, 99, False)
    # "0" extends the range below min, "N" makes the numeric column nullable
    assert isinstance(noc, IntegerColumn) and (noc.lower, noc.upper, noc.nullable) == (0, 19, True)
    assert isinstance(povpip, IntegerColumn) and povpip.upper == 501
    assert isinstance(pincp, FloatColumn) and pincp.lower == -9000
    # categorical "N" stays a category
    drem = s["DREM"]
    assert isinstance(drem, CategoricalColumn) and drem.categories == ("N", "1", "2")
    assert isinstance(indp, IntegerColumn)
    assert (indp.lower, indp.upper, indp.nullable) == (0, 9999, True)
    assert s.is_public


def _schema() -> Schema:
    return Schema.from_dict({"columns": [
        {"name": "age", "kind": "integer", "lower": 0, "upper": 10},
        {"name": "c", "kind": "categorical", "categories": ["1", "2"], "nullable": True},
        {"name": "x", "kind": "float", "lower": 0.0, "upper": 1.0, "nullable": True},
    ]})


def test_coerce_rounds_clips_and_counts() -> None:
    raw = pd.DataFrame({"age": ["3.4", "12", "-1"], "c": ["2.0", "9", None],
                        "x": [0.5, 2.0, None]})
    out, changed = harness.coerce(raw, _schema())
    assert out["age"].tolist() == [3, 10, 0]
    assert out["c"].iloc[0] == "2" and pd.isna(out["c"].iloc[1]) and pd.isna(out["c"].iloc[2])
    assert out["x"].iloc[1] == 1.0 and pd.isna(out["x"].iloc[2])
    # 3.4 rounded, 12 and -1 clipped, "9" unknown, 2.0 clipped
    assert changed == 5


def test_loglog_slope() -> None:
    x = [1e4, 1e5, 1e6]
    assert harness.loglog_slope(x, [2 * v for v in x]) == pytest.approx(1.0)
    assert harness.loglog_slope(x, [v**0.5 for v in x]) == pytest.approx(0.5)
    assert harness.loglog_slope([1.0], [1.0]) is None


def _record(tool: str, seed: int, tvd2: float, status: str = "ok") -> dict[str, object]:
    return {"dataset": "adult", "tool": tool, "mode": "binned", "epsilon": 1.0, "seed": seed,
            "status": status, "tvd1": 0.1, "tvd2": tvd2, "tstr_auc": 0.8, "fit_s": 1.0,
            "sample_s": 0.5, "fit_sample_s": 1.5, "risk_auc": 0.5, "notes": ["reads domains"]}


def test_summarize_mean_and_sample_sd() -> None:
    rows = harness.summarize([_record("mst", 0, 0.1), _record("mst", 1, 0.3),
                              _record("mst", 2, 0.9, status="failed")])
    assert len(rows) == 1
    r = rows[0]
    assert (r["runs"], r["ok"], r["status"]) == (3, 2, "ok")
    assert r["tvd2"] == pytest.approx(0.2)
    assert r["tvd2_sd"] == pytest.approx(math.sqrt(0.02))
    assert r["notes"] == ["reads domains"]


def test_render_merges_newest_file_and_labels_anchors(tmp_path: Path) -> None:
    def write(name: str, date: str, tvd2: float) -> None:
        d = {"format": harness.RESULT_FORMAT, "machine": {"date_utc": date, "cpus": 2,
                                                          "loadavg_start": [1.0]},
             "records": [_record("mst", 0, tvd2)], "scale": [
                 {"axis": "rows", "rows": r, "columns": 14, "status": "ok", "fit_s": r / 1e4,
                  "sample_100k_s": 1.0, "fit_peak_rss_mb": 100 + r / 1e3,
                  "fit_alloc_peak_mb": r / 1e3, "peak_rss_mb": 200.0,
                  "baseline_rss_mb": 100.0, "data_mb": 1.0} for r in (10_000, 100_000)]}
        (tmp_path / name).write_text(json.dumps(d), encoding="utf-8")

    write("old.json", "2026-01-01T00:00:00+00:00", 0.9)
    write("new.json", "2026-02-01T00:00:00+00:00", 0.25)
    (tmp_path / "other.json").write_text('{"not": "ours"}', encoding="utf-8")
    doc = harness.render(tmp_path, tmp_path / "b.md")
    text = doc.read_text(encoding="utf-8")
    assert "| SmartNoise MST | binned | 1 | 1/1 |" in text
    assert "0.250" in text and "0.900" not in text
    assert "These are the anchors' measurements, not this harness's." in text
    assert "fit time 1.00, fit peak allocation 1.00" in text  # both proportional to rows
    assert (tmp_path / "benchmarks_scaling_rows.svg").read_text().startswith("<svg")


def test_dpctgan_records_from_bench_output(tmp_path: Path) -> None:
    p = tmp_path / "dpctgan_adult.json"
    p.write_text(json.dumps({"epsilon": 1.0, "runs": [
        {"seed": 0, "epsilon_spent": 0.99, "fit_sample_seconds": 120.0, "tvd1": 0.1,
         "tvd2": 0.2, "tstr_auc": 0.8},
        {"seed": 1, "fit_sample_seconds": 100.0, "tvd1": 0.1, "tvd2": 0.4, "tstr_auc": 0.7},
        {"seed": 2, "error": "crashed"}]}), encoding="utf-8")
    recs = harness.dpctgan_records(p)
    assert [r["seed"] for r in recs] == [0, 1]
    assert recs[0]["tool"] == "privsynth dpctgan" and recs[0]["fit_sample_s"] == 120.0
    assert recs[0]["epsilon"] == 1.0 and recs[0]["epsilon_spent"] == 0.99
    assert harness.dpctgan_records(tmp_path / "missing.json") == []
    text = harness.render(tmp_path, tmp_path / "b.md").read_text(encoding="utf-8")
    assert "| **privsynth dpctgan** | public schema | 1 | 2/2 |" in text
    assert "0.300 ± 0.141" in text  # tvd2 mean and sample sd over the two runs


def test_load_acs_split_and_target(shared_datasets: Path) -> None:
    d = harness.load_acs(shared_datasets)
    assert len(d.train) + len(d.test) == 27_253
    assert len(d.test) == 27_253 // 5
    assert d.target == "OWN_RENT" and set(d.train["OWN_RENT"]) == {"0", "1", "2"}
    # "N" became a missing value of the numeric columns
    assert d.train["INDP"].isna().any() and not (d.train["AGEP"].isna().any())
    assert np.isfinite(d.train["DENSITY"]).all()


def test_budget_curve_section_shows_the_floor_and_held_out_sets() -> None:
    from benchmarks import budget_curve

    summary = [
        {"dataset": ds, "tool": f"privsynth {tool}", "mode": "public schema", "epsilon": eps,
         "status": "ok", "tstr_auc": auc, "tvd2": tvd2}
        for ds, tool, eps, auc, tvd2 in (
            ("penguins", "privbayes", 1.0, 0.61, 0.55), ("penguins", "independent", 1.0, 0.5, 0.5),
            ("adult", "privbayes", 10.0, 0.9, 0.03))]
    lines = budget_curve.section(summary)
    text = "\n".join(lines)
    assert "| eps 1 | eps 10 |" in text
    assert "| penguins (241 rows), held out | privbayes | 0.610 / 0.550 | - |" in text
    assert "| penguins (241 rows), held out | independent | 0.500 / 0.500 | - |" in text
    assert "| Adult (32,561 rows) | privbayes | - | 0.900 / 0.030 |" in text
    assert budget_curve.section([]) == []


def test_target_head_ipf_recovers_an_interaction_and_its_section_renders(tmp_path: Path) -> None:
    from benchmarks import bench_target_head as th

    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(4000, 2))
    y = x[:, 0] ^ x[:, 1]
    cell = x[:, 0] * 2 + x[:, 1]
    exact = np.stack([np.bincount(cell[y == v], minlength=4) for v in (0, 1)], axis=1)
    singles = [(x[:, j], 2) for j in (0, 1)]
    single_counts = [np.stack([np.bincount(x[y == v, j], minlength=2) for v in (0, 1)], axis=1)
                     for j in (0, 1)]
    grid = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    # the pair's table holds y = x1 XOR x2: P(y = 1 | x) near 1 exactly where x1 != x2
    thetas = th.fit_head(x, 2, [*singles, (cell, 4)], [*single_counts, exact.astype(float)],
                         [0.0, 0.0, 0.0])
    logits = thetas[0][grid[:, 0]] + thetas[1][grid[:, 1]] + thetas[2][grid[:, 0] * 2 + grid[:, 1]]
    log_odds = logits[:, 1] - logits[:, 0]
    assert np.all(log_odds[[1, 2]] > 4) and np.all(log_odds[[0, 3]] < -4)
    # singles alone cannot see it: P(y | x1) = P(y | x2) = 1/2
    thetas = th.fit_head(x, 2, singles, single_counts, [0.0, 0.0])
    assert max(float(np.abs(t[:, 1] - t[:, 0]).max()) for t in thetas) < 0.2

    records = [{"dataset": "adult", "epsilon": 10.0, "seed": s, "variant": v, "tstr_auc": a,
                "tvd2": 0.03} for s in (0, 1) for v, a in (("target=", 0.90 + s / 100),
                                                           ("head", 0.89))]
    path = tmp_path / "target_head.json"
    path.write_text(json.dumps({"records": records, "summary": th.summary(records)}))
    text = "\n".join(th.section(path))
    assert "| Adult | 10 | 0.905 ± 0.007 / 0.030 | 0.890 ± 0.000 / 0.030 | - |" in text
    assert th.section(tmp_path / "missing.json") == []


def test_diag_caps_section_shows_mean_sd_and_caps_per_configuration(tmp_path: Path) -> None:
    from benchmarks import diag_caps

    plan = {"mode": "network", "max_levels": 64, "max_parent_levels": 16, "max_degree": 5,
            "max_bins": 1024}
    records = [{"dataset": "acs", "config": c, "epsilon": 1e4, "seed": s, "plan": plan,
                "mean_parents": 4.0, "tstr_auc": a + s / 100, "tvd2": 0.05}
               for s in (0, 1) for c, a in (("default", 0.86), ("pl32", 0.85))]
    path = tmp_path / "diag_caps.json"
    path.write_text(json.dumps({"records": records}))
    text = "\n".join(diag_caps.section(path))
    assert ("| ACS | 10000 | the rule's caps (`target=` the label) | L64 P16 k5 B1024 | 4.0 | "
            "0.865 ± 0.007 | 0.050 |") in text
    assert "| ACS | 10000 | parent levels ceiling 16 -> 32 |" in text
    assert text.index("the rule's caps") < text.index("parent levels ceiling")
    assert diag_caps.section(tmp_path / "missing.json") == []
    # every configuration is labelled in the docs table
    assert set(diag_caps.CONFIGS) == set(diag_caps.LABELS)

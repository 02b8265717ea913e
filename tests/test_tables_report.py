"""The audit of a release of related tables (issue 22): ``audit_tables`` and the CLI dossier.

A planes -> flights fit on the shipped nycflights13 fixture (60 planes, 450
flights) is audited once; the report's per-table and relation numbers are
checked against values computed here directly with pandas (joins, crosstabs,
correlations), the threat model must name the unit, the public edition must
hold no evaluation number, and a ``fit-tables`` release folder must verify,
and fail to verify once tampered with.
"""

from __future__ import annotations

import html
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import privsynth as ps
from privsynth.accounting import Accountant
from privsynth.columns import IdColumn
from privsynth.engines.tables import bound_tables
from privsynth.errors import InsecureNoiseWarning, ParameterError
from privsynth.mechanisms import Noise
from privsynth.report import TABLES_SECTIONS, AuditReport, audit_tables, schema_path
from privsynth.report.evaluation.relation import bound_pair, relation_section
from privsynth.schema import Schema

REL = ps.Relation(parent="planes", child="flights", key="tailnum")
K = 30  # above the fixture's most flights of one plane (29): the real side is not capped


def _with_id(schema: Schema, *, nullable: bool) -> Schema:
    cols = tuple(IdColumn("tailnum", nullable=nullable, prefix="SYN-")
                 if c.name == "tailnum" else c for c in schema.columns)
    # declared public here: these tests check the tables' claims and files; a schema read
    # from the data (the fixtures' own source) fails verify by rule 2 (tests/test_release.py)
    return Schema(cols, source="public")


@pytest.fixture(scope="module")
def release(planes_and_flights: tuple[pd.DataFrame, pd.DataFrame, Schema, Schema]
            ) -> dict[str, Any]:
    planes, flights, sp, sf = planes_and_flights
    tables = {"planes": planes, "flights": flights}
    schemas = {"planes": _with_id(sp, nullable=False), "flights": _with_id(sf, nullable=True)}
    acct = Accountant(3.0, unit="tailnum")
    model = ps.PrivBayes().fit_tables(tables, schemas=schemas, relations=[REL], epsilon=2.0,
                                      max_children=K, accountant=acct)
    synthetic = model.sample_tables(90, random_state=3)
    report = ps.audit(tables, synthetic, model=model, accountant=acct)
    return {"tables": tables, "schemas": schemas, "acct": acct, "model": model,
            "synthetic": synthetic, "report": report, "doc": report.to_dict()}


@pytest.fixture(scope="module")
def seeded(release: dict[str, Any]) -> dict[str, Any]:
    """The same release fitted with seeded (insecure, test-only) noise whose noisy row counts
    are known to differ from the exact ones, so that a report showing exact counts is seen."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureNoiseWarning)
        model = ps.PrivBayes().fit_tables(
            release["tables"], schemas=release["schemas"], relations=[REL], epsilon=2.0,
            max_children=K, noise=Noise.insecure_for_tests(0))
    report = audit_tables(release["tables"], model.sample_tables(40, random_state=1),
                          model=model, max_records=None)
    return {"model": model, "report": report}


def _exact_rows(tables: dict[str, pd.DataFrame], k: int, k_child: int) -> dict[str, set[int]]:
    """Every exact real row count a report could leak: as given, and bounded as the fit."""
    parents, children = bound_tables(tables["planes"], tables["flights"], REL, k,
                                     np.random.default_rng(0), k_child)
    return {"planes": {len(tables["planes"]), len(parents)},
            "flights": {len(tables["flights"]), int(parents["n_children"].sum()),
                        len(children)}}


def _joined(parents: pd.DataFrame, children: pd.DataFrame) -> pd.DataFrame:
    """Children with their parent's columns (inner join: children without a parent dropped)."""
    return children.merge(parents.drop_duplicates("tailnum"), on="tailnum",
                          suffixes=("", "_parent"))


def _shares(df: pd.DataFrame, cols: list[str]) -> pd.Series:
    return df[cols].astype(object).fillna("<missing>").value_counts(normalize=True)


def test_the_report_has_each_table_and_the_relation_and_fits_its_json_schema(
        release: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    doc = release["doc"]
    assert [s["id"] for s in doc["sections"]] == [i for i, _ in TABLES_SECTIONS]
    assert "tables" in [i for i, _ in TABLES_SECTIONS] and "utility" not in dict(TABLES_SECTIONS)
    tables = {t["table"]: t for t in doc["tables"]["tables"]}
    assert set(tables) == {"planes", "flights"}
    assert tables["planes"]["role"] == "parent" and tables["flights"]["role"] == "child"
    for name, t in tables.items():
        assert t["utility"]["included"] is True
        assert t["identifier_columns"] == ["tailnum"]
        assert t["modelled_columns"] == list(release["schemas"][name].without_ids().names)
        assert t["synthetic_rows"] == len(release["synthetic"][name])
    validator = jsonschema.Draft202012Validator(json.loads(schema_path().read_text("utf-8")))
    validator.validate(doc)
    validator.validate(release["report"].to_dict(public=True))
    again = AuditReport.from_json(release["report"].to_json())
    assert again.to_dict() == doc


def test_each_tables_column_tvd_is_the_one_computed_directly(release: dict[str, Any]) -> None:
    doc, syn = release["doc"], release["synthetic"]
    planes, flights = release["tables"]["planes"], release["tables"]["flights"]
    matched = flights[flights["tailnum"].isin(set(planes["tailnum"]))]  # no cap: K > 29
    for name, real, column in (("planes", planes, "engine"), ("flights", matched, "origin"),
                               ("flights", matched, "carrier")):
        t = next(t for t in doc["tables"]["tables"] if t["table"] == name)
        got = {c["column"]: c["tvd"] for c in t["utility"]["columns"]}[column]
        p, q = _shares(real, [column]), _shares(syn[name], [column])
        want = 0.5 * p.sub(q, fill_value=0).abs().sum()
        assert got == pytest.approx(want, abs=1e-4), (name, column)


def test_parent_by_child_pairs_are_the_ones_computed_directly(release: dict[str, Any]) -> None:
    ev = release["doc"]["relation"]["evaluation"]
    assert ev["included"] is True
    planes, flights = release["tables"]["planes"], release["tables"]["flights"]
    real = _joined(planes, flights)
    syn = _joined(release["synthetic"]["planes"], release["synthetic"]["flights"])
    pairs = {(p["parent_column"], p["child_column"]): p for p in ev["pairs"]}
    assert len(pairs) == 8 * 18  # every modelled planes column with every modelled flights one
    assert not any("tailnum" in key for key in pairs)  # identifiers are never compared
    for pc, cc in (("engine", "origin"), ("manufacturer", "carrier"), ("type", "origin")):
        p, q = _shares(real, [pc, cc]), _shares(syn, [pc, cc])
        want = 0.5 * p.sub(q, fill_value=0).abs().sum()
        assert pairs[(pc, cc)]["tvd"] == pytest.approx(want, abs=1e-4), (pc, cc)
        assert pairs[(pc, cc)]["correlation_difference"] is None  # categorical
    # a real statistic only as its difference from the synthetic one (the single-table rule)
    for p in ev["pairs"]:
        assert set(p) == {"parent_column", "child_column", "tvd", "correlation_difference"}
    real_sd = real["seats"].corr(real["distance"])
    assert real_sd > 0.2  # bigger aircraft fly longer routes: a pair worth checking
    want = syn["seats"].corr(syn["distance"]) - real_sd
    assert pairs[("seats", "distance")]["correlation_difference"] == pytest.approx(
        round(want, 2), abs=1e-9)
    diffs = [abs(p["correlation_difference"]) for p in ev["pairs"]
             if p["correlation_difference"] is not None]
    assert len(diffs) > 1
    assert ev["mean_abs_correlation_difference"] == pytest.approx(np.mean(diffs), abs=1e-3)
    tvds = [p["tvd"] for p in ev["pairs"]]
    assert ev["mean_pair_tvd"] == pytest.approx(np.mean(tvds), abs=1e-4)
    assert ev["max_pair_tvd"] == max(tvds)


def test_the_html_orders_numeric_pairs_by_their_difference_never_a_real_statistic(
        release: dict[str, Any]) -> None:
    import re

    ev = release["doc"]["relation"]["evaluation"]
    page = release["report"].to_html()
    part = page.split("<h3>Correlation of numeric pairs</h3>", 1)[1].split("</table>", 1)[0]
    head = re.findall(r"<th[^>]*>([^<]*)</th>", part)
    assert head == ["Parent column", "Child column", "Synthetic - real"]
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td>", part)
    diff = {(p["parent_column"], p["child_column"]): p["correlation_difference"]
            for p in ev["pairs"] if p["correlation_difference"] is not None}
    want = sorted(diff, key=lambda k: -abs(diff[k]))[:len(rows)]
    assert len(rows) == min(len(diff), 10)
    assert [abs(diff[r]) for r in rows] == [abs(diff[k]) for k in want]


def test_children_per_parent_are_the_real_capped_counts(release: dict[str, Any]) -> None:
    planes, flights = release["tables"]["planes"], release["tables"]["flights"]
    syn, schemas = release["synthetic"], release["schemas"]
    for k in (K, 10):  # 10: 15 planes have more flights and count as 10
        counts = flights["tailnum"].value_counts().reindex(planes["tailnum"], fill_value=0)
        real_counts = counts.clip(upper=k).to_numpy()
        syn_counts = syn["flights"]["tailnum"].value_counts().reindex(
            syn["planes"]["tailnum"], fill_value=0).clip(upper=k).to_numpy()
        section = relation_section(bound_pair(release["tables"], syn, REL, k, 0), syn, schemas,
                                   REL, k, k, None)["evaluation"]["children"]
        assert "real_mean" not in section and "synthetic_mean" not in section
        rel = (syn_counts.mean() - real_counts.mean()) / real_counts.mean()
        _assert_rounded(section["relative_difference"], rel)
        if k == 10:  # one public bin per count 0..10
            want_r = np.bincount(real_counts, minlength=11) / len(real_counts)
            want_s = np.bincount(syn_counts, minlength=11) / len(syn_counts)
            assert section["labels"] == [str(i) for i in range(11)]
            assert section["real"] == [round(v, 2) for v in want_r]
            assert section["tvd"] == pytest.approx(0.5 * np.abs(want_r - want_s).sum(),
                                                   abs=1e-4)
    doc_children = release["doc"]["relation"]["evaluation"]["children"]
    real_mean = flights["tailnum"].isin(set(planes["tailnum"])).sum() / len(planes)
    syn_mean = syn["flights"]["tailnum"].isin(set(syn["planes"]["tailnum"])).sum() / len(
        syn["planes"])
    _assert_rounded(doc_children["relative_difference"], (syn_mean - real_mean) / real_mean)


def _assert_rounded(shown: float, exact: float) -> None:
    """``shown`` is ``exact`` to 2 decimals: a 2-decimal number at most half a unit away (a
    value on the rounding boundary may round either way after another float order)."""
    assert shown == round(shown, 2), shown
    assert abs(shown - exact) <= 0.005 + 1e-9, (shown, exact)


def test_key_integrity_is_measured_on_the_synthetic_tables(release: dict[str, Any]) -> None:
    doc, syn = release["doc"], release["synthetic"]
    ki = doc["relation"]["key_integrity"]
    assert ki["share"] == 1.0 and ki["exact"] and ki["child_rows"] == len(syn["flights"])
    assert {h["id"]: h["status"] for h in doc["hazards"]}["key-integrity"] == "pass"
    # a synthetic parent removed after sampling: its children lose their parent
    dropped = syn["planes"]["tailnum"].iloc[0]
    broken = {"planes": syn["planes"].iloc[1:], "flights": syn["flights"]}
    rep = audit_tables(release["tables"], broken, model=release["model"],
                       accountant=release["acct"], max_records=None)
    ki = rep.to_dict()["relation"]["key_integrity"]
    want = (syn["flights"]["tailnum"] != dropped).mean()
    assert ki["share"] == pytest.approx(want) and not ki["exact"]
    assert {h["id"]: h["status"] for h in rep.to_dict()["hazards"]}["key-integrity"] == "fail"


def test_the_threat_model_and_the_ledger_are_the_releases(release: dict[str, Any]) -> None:
    doc, model, acct = release["doc"], release["model"], release["acct"]
    unit = doc["threat_model"]["privacy_unit"]
    assert "planes" in unit and "flights" in unit and "tailnum" in unit
    assert f"up to {K} of its flights" in unit
    assert any("no planes row" in t for t in doc["threat_model"]["not_covered"])
    assert html.escape(unit, quote=True) in release["report"].to_html(public=True)
    ids = [e.id for e in model.record_.entries]
    marked = [e["id"] for e in doc["ledger"]["entries"] if e["this_model"]]
    assert marked == ids and len(ids) == len(acct.history)
    labels = {e["label"].split("/")[0] for e in doc["ledger"]["entries"]}
    assert labels == {"planes", "flights"}  # both parts of the release
    parts = {t["table"]: t for t in doc["tables"]["tables"]}
    assert parts["planes"]["ledger_entries"] + parts["flights"]["ledger_entries"] == ids
    assert parts["planes"]["epsilon"] + parts["flights"]["epsilon"] == pytest.approx(2.0)
    assert doc["epsilon"]["release_epsilon"] == pytest.approx(2.0)
    assert doc["epsilon"]["epsilon"] == pytest.approx(acct.spent().epsilon)
    assert doc["attacks"]["included"] is False and "unit" in doc["attacks"]["reason"]


def test_the_public_edition_holds_no_evaluation_number(release: dict[str, Any]) -> None:
    pub = release["report"].to_dict(public=True)
    assert pub["relation"]["evaluation"]["included"] is False
    assert pub["relation"]["key_integrity"] == release["doc"]["relation"]["key_integrity"]
    for t in pub["tables"]["tables"]:
        assert t["utility"]["included"] is False
        assert t["epsilon"] > 0 and t["ledger_entries"]  # DP outputs and the ledger stay
    text = json.dumps(pub)
    assert '"relative_difference"' not in text and '"tvd"' not in text
    assert "correlation_difference" not in text
    page = release["report"].to_html(public=True)
    assert "<h3>Children per parent</h3>" not in page and "Key integrity" in page
    assert "<h3>Children per parent</h3>" in release["report"].to_html()
    summary = release["report"].summary()
    assert summary["relation"]["key_integrity"] == 1.0
    assert set(summary["tables"]) == {"planes", "flights"}


def test_the_public_edition_shows_the_noisy_row_counts_never_the_exact_ones(
        release: dict[str, Any], seeded: dict[str, Any]) -> None:
    model, report = seeded["model"], seeded["report"]
    noisy = {"planes": round(model.parent_model_.record_.noisy_rows),
             "flights": round(model.child_model_.record_.noisy_rows)}
    k_child = int(model.record_.description["max_child_rows"])
    exact = _exact_rows(release["tables"], K, k_child)
    for name in noisy:  # the fixture's seed: no noisy count rounds to an exact one
        assert noisy[name] not in exact[name], (name, noisy[name], exact[name])
    pub = report.to_dict(public=True)
    parts = {t["table"]: t for t in pub["tables"]["tables"]}
    assert {name: parts[name]["noisy_rows"] for name in noisy} == noisy
    rows = pub["data"]["real_rows"]
    assert rows["released"] is False and rows["noisy_estimate"] == noisy["planes"]
    statement = rows["statement"]
    assert f"about {noisy['planes']:,} planes rows" in statement
    assert f"about {noisy['flights']:,} flights rows" in statement
    page = report.to_html(public=True)
    for name, counts in exact.items():
        for n in counts:
            assert f"about {n:,} {name} rows" not in statement
            assert f"about {n:,} {name} rows" not in page


def test_a_synthetic_table_as_long_as_a_bounded_real_one_fails_the_row_count_hazard(
        release: dict[str, Any]) -> None:
    tables, syn, model = release["tables"], release["synthetic"], release["model"]
    k_child = int(model.record_.description["max_child_rows"])
    exact = _exact_rows(tables, K, k_child)["flights"]
    assert len(exact) >= 2 and len(tables["flights"]) in exact  # 450 given, 400 bounded
    assert len(syn["planes"]) not in _exact_rows(tables, K, k_child)["planes"]

    def status(n_flights: int) -> str:
        flights = syn["flights"].sample(n_flights, replace=True, random_state=0)
        doc = audit_tables(tables, {"planes": syn["planes"], "flights": flights}, model=model,
                           max_records=None).to_dict()
        hazards = {h["id"]: h for h in doc["hazards"]}
        assert hazards["key-integrity"]["status"] == "pass"
        return str(hazards["row-count-exact"]["status"])

    assert {n: status(n) for n in sorted(exact)} == {n: "fail" for n in sorted(exact)}
    assert status(max(exact) + 1) == "pass"


def test_what_a_tables_audit_refuses(release: dict[str, Any]) -> None:
    tables, syn, model = release["tables"], release["synthetic"], release["model"]
    with pytest.raises(ParameterError, match="holdout"):
        ps.audit(tables, syn, model=model, holdout=tables["planes"])
    with pytest.raises(ParameterError, match="planes"):
        audit_tables({"planes": tables["planes"]}, syn, model=model)
    with pytest.raises(ParameterError, match="tables model"):
        audit_tables(tables, syn, model=ps.PrivBayes())


def test_synthetic_tables_off_their_schema_fail_and_skip_the_evaluation(
        release: dict[str, Any]) -> None:
    syn = release["synthetic"]
    broken = {"planes": syn["planes"], "flights": syn["flights"].drop(columns="tailnum")}
    doc = audit_tables(release["tables"], broken, model=release["model"]).to_dict()
    status = {h["id"]: h["status"] for h in doc["hazards"]}
    assert status["synthetic-schema"] == "fail" and status["key-integrity"] == "fail"
    assert doc["relation"]["evaluation"]["included"] is False
    assert doc["relation"]["key_integrity"]["share"] is None
    assert all(not t["utility"]["included"] for t in doc["tables"]["tables"])
    assert doc["residual_risk"]["verdict"] == "fail"


# ---------------------------------------------------------------------------
# the command line: fit-tables writes the release dossier, audit and verify read it
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, release: dict[str, Any]) -> Path:
    from privsynth import cli

    root = tmp_path_factory.mktemp("tables-release")
    data = Path(__file__).parent / "data"
    for name in ("planes", "flights"):
        (root / f"{name}.schema.json").write_text(
            json.dumps(release["schemas"][name].to_dict()), encoding="utf-8")
    rel = root / "release"
    rel.mkdir()
    common = ["-q"]
    assert cli.main([*common, "budget", "init", str(rel / "ledger.json"), "--epsilon", "3",
                     "--unit", "tailnum"]) == 0
    assert cli.main([*common, "fit-tables", "--table", f"planes={data / 'planes_sample.csv'}",
                     "--table", f"flights={data / 'flights_sample.csv'}",
                     "--schema", f"planes={root / 'planes.schema.json'}",
                     "--schema", f"flights={root / 'flights.schema.json'}",
                     "--relation", "planes:flights:tailnum", "--max-children", "10",
                     "--epsilon", "1", "--ledger", str(rel / "ledger.json"),
                     "--out", str(rel / "model.json"), "--missing-value", "NA"]) == 0
    assert cli.main([*common, "sample-tables", str(rel / "model.json"), "-n", "50", "--seed",
                     "1", "--na-rep", "NA", "--out", str(rel)]) == 0
    return rel


def test_fit_tables_writes_a_manifest_that_verifies(folder: Path) -> None:
    from privsynth.release import verify_release

    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    record = ps.TablesModel.load(folder / "model.json").record_
    (stated,) = manifest["releases"]
    assert stated["engine"] == "privbayes-tables" and stated["epsilon"] == 1.0
    assert stated["entries"] == [e.id for e in record.entries]
    assert {e.label.split("/")[0] for e in record.entries} == {"planes", "flights"}
    roles = {f["name"]: f["role"] for f in manifest["files"]}
    assert roles == {"model.json": "model", "planes.csv": "synthetic",
                     "flights.csv": "synthetic"}
    v = verify_release(folder)
    assert v.passed, v.lines()


def _copy(folder: Path, to: Path) -> Path:
    import shutil

    return Path(shutil.copytree(folder, to))


def test_a_tampered_tables_dossier_does_not_verify(folder: Path, tmp_path: Path) -> None:
    from privsynth.release import verify_release

    # a synthetic table changed after the release
    changed = _copy(folder, tmp_path / "changed")
    with (changed / "flights.csv").open("a", encoding="utf-8") as fh:
        fh.write("\n")
    assert verify_release(changed).exit_code == 5
    # the release claimed at the parent model's part only: its entries and its epsilon
    partial = _copy(folder, tmp_path / "partial")
    doc = json.loads((partial / "manifest.json").read_text("utf-8"))
    record = ps.TablesModel.load(partial / "model.json").record_
    parent_ids = [e.id for e in record.entries if e.label.startswith("planes/")]
    doc["releases"][0]["entries"] = parent_ids
    doc["releases"][0]["epsilon"] = record.description["epsilon_split"]["planes"]
    (partial / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")
    v = verify_release(partial)
    assert not v.passed and v.exit_code in (6, 7)
    assert any("more entries of this release" in c.message for c in v.failures)


def test_the_cli_audits_a_tables_release(folder: Path,
                                         run: Callable[..., tuple[int, str, str]]) -> None:
    data = Path(__file__).parent / "data"
    code, _, err = run("audit", "--model", folder / "model.json", "--ledger",
                         folder / "ledger.json",
                         "--real", f"planes={data / 'planes_sample.csv'}",
                         "--real", f"flights={data / 'flights_sample.csv'}",
                         "--synthetic", f"planes={folder / 'planes.csv'}",
                         "--synthetic", f"flights={folder / 'flights.csv'}",
                         "--missing-value", "NA", "--out", folder / "audit.html",
                         "--json", folder / "audit.json")
    assert code == 0, err
    doc = json.loads((folder / "audit.json").read_text("utf-8"))
    assert doc["relation"]["key_integrity"]["exact"] is True
    assert {f["file_name"] for f in doc["sign_off"]["released_files"]} == {
        "planes.csv", "flights.csv", "model.json"}
    assert {h["id"]: h["status"] for h in doc["hazards"]}["model-file"] == "pass"
    code, _, err = run("audit", "--model", folder / "model.json",
                       "--real", data / "planes_sample.csv",
                       "--synthetic", folder / "planes.csv", "--out", folder / "x.html")
    assert code == 2 and "planes=PATH" in err
    code, _, err = run("audit", "--model", folder / "model.json", "--holdout", "h.csv",
                       "--real", f"planes={data / 'planes_sample.csv'}",
                       "--real", f"flights={data / 'flights_sample.csv'}",
                       "--synthetic", f"planes={folder / 'planes.csv'}",
                       "--synthetic", f"flights={folder / 'flights.csv'}",
                       "--out", folder / "x.html")
    assert code == 2 and "--holdout" in err

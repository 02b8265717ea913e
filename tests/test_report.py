"""The audit report: sections, JSON schema, hazards, editions, leaks, and a real browser.

The main fixture fits PrivBayes (epsilon 1) on 2,987 rows of the bundled Adult
training split into which distinctive values were planted, and audits it
against a 1,493-row holdout from the same split. The leak tests then look for
the planted values, the exact row counts and an extra private column in every
output, in both editions.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import struct
import subprocess
import uuid
import warnings
import zlib
from html import unescape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from privsynth.accounting import Accountant, DatasetInfo
from privsynth.accounting.events import (
    ApproxDPEvent,
    GaussianEvent,
    PureDPEvent,
    SubsampledGaussianEvent,
)
from privsynth.accounting.ledger import Ledger
from privsynth.engines.privbayes import PrivBayes
from privsynth.engines.record import FitRecord, LedgerRef
from privsynth.errors import (
    DataValidationError,
    NotFittedError,
    ParameterError,
    PrivsynthError,
)
from privsynth.mechanisms import InsecureNoiseWarning, Noise
from privsynth.report import REPORT_FORMAT, SECTIONS, AuditReport, _plots, audit, schema_path
from privsynth.risk import tpr_upper_bound
from privsynth.schema import Schema

N_TRAIN = 2987
N_HOLDOUT = 1493
PLANTED_GAIN = 98765
PLANTED_WEIGHT = 1234567
TOKEN = f"ZZLEAK-{uuid.uuid4().hex[:12]}"
EXTRA_COLUMN = f"zzleakcol_{uuid.uuid4().hex[:8]}"
SECTION_IDS = [s for s, _ in SECTIONS]
SUMMARY_KEYS = {"release_id", "epsilon", "delta", "method", "release_epsilon",
                "release_delta", "tvd1", "tvd2", "tstr_auc", "max_attack_auc",
                "max_epsilon_lower_bound", "hazards_fail", "hazards_warn"}


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def adult_release(_adult_train_full: pd.DataFrame, adult_schema: Schema) -> dict[str, Any]:
    train = _adult_train_full.iloc[:N_TRAIN].reset_index(drop=True).copy()
    holdout = _adult_train_full.iloc[N_TRAIN:N_TRAIN + N_HOLDOUT].reset_index(drop=True).copy()
    # distinctive values, inside the public bounds, in three training rows only
    for i in (5, 500, 1500):
        train.loc[i, "capital-gain"] = PLANTED_GAIN
        train.loc[i, "fnlwgt"] = PLANTED_WEIGHT
    acct = Accountant(2.0, 1e-6)
    model = PrivBayes(degree=2).fit(train, schema=adult_schema, epsilon=1.0, accountant=acct)
    synthetic = model.sample(3000, random_state=0)
    real = train.copy()
    real[EXTRA_COLUMN] = [f"{TOKEN}-{i}" for i in range(len(real))]  # private, not in schema
    report = audit(real, synthetic, holdout=holdout, model=model, accountant=acct,
                   target="income", release_id="adult-test-release",
                   risk_options={"n_bootstrap": 30})
    return {"train": train, "holdout": holdout, "model": model, "acct": acct,
            "synthetic": synthetic, "report": report}


@pytest.fixture(scope="module")
def outputs(adult_release: dict[str, Any]) -> dict[str, str]:
    r: AuditReport = adult_release["report"]
    return {"html": r.to_html(), "json": r.to_json(),
            "public_html": r.to_html(public=True), "public_json": r.to_json(public=True)}


def _tiny_schema(source: str = "public", description: str = "") -> Schema:
    return Schema.from_dict({"source": source, "columns": [
        {"name": "age", "kind": "integer", "lower": 0, "upper": 99,
         "description": description},
        {"name": "smoker", "kind": "categorical", "categories": ["no", "yes"]}]})


def _tiny_frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.integers(18, 90, n),
                         "smoker": rng.choice(["no", "yes"], n)})


class _FakeModel:
    """A fitted-engine stand-in: a schema and a fit record of one event of the given guarantee.

    With ``accountant`` the event is spent there (as an engine does); otherwise the fit is
    recorded nowhere else (``accountant=None``).
    """

    name = "fake"

    def __init__(self, schema: Schema, *, epsilon: float = 1.0, delta: float = 0.0,
                 n_hat: float | None = 1000.0, hazards: tuple[str, ...] = (),
                 accountant: Accountant | None = None, noise: tuple[str, ...] = ()) -> None:
        event = PureDPEvent(epsilon) if delta == 0 else ApproxDPEvent(epsilon, delta)
        release = f"fake-{uuid.uuid4().hex[:8]}"
        if accountant is not None:
            entry = accountant.spend(event, label="fake fit", release=release,
                                     release_delta=delta)
            kind = "memory"
        else:
            entry = Ledger().append(event, label="fake fit", release=release,
                                    release_delta=delta)
            kind = "none"
        self.schema_ = schema
        self.record_ = FitRecord(
            engine="fake", params={"setting": 1}, epsilon=epsilon, delta=delta,
            method="sum" if delta == 0 else "approx", entries=(entry,), release=release,
            ledger=LedgerRef(kind), noisy_rows=n_hat, reproducible_noise=False,
            hazards=hazards, noise=noise, contents="nothing (a test stand-in)")


def _tiny_report(**kwargs: Any) -> AuditReport:
    schema = kwargs.pop("schema", _tiny_schema())
    model = kwargs.pop("model", _FakeModel(schema))
    return audit(_tiny_frame(), _tiny_frame(150, seed=1), model=model, **kwargs)


def _hazard(report: AuditReport, hid: str) -> dict[str, Any]:
    matches = [h for h in report.to_dict()["hazards"] if h["id"] == hid]
    assert len(matches) == 1, [h["id"] for h in report.to_dict()["hazards"]]
    return matches[0]


def _numbers(text: str) -> set[float]:
    """Every standalone number written in ``text`` (1,234 and 1234.0 count as 1234)."""
    found = re.findall(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w])", text)
    out = set()
    for tok in found:
        try:
            out.add(float(tok.replace(",", "")))
        except ValueError:  # pragma: no cover - e.g. "1,2,3" still parses after removal
            continue
    return out


# ---------------------------------------------------------------------------
# structure and schema
# ---------------------------------------------------------------------------
def test_every_section_heading_in_both_editions(outputs: dict[str, str]) -> None:
    for key in ("html", "public_html"):
        for sid in SECTION_IDS:
            assert f'<h2 id="{sid}"' in outputs[key], (key, sid)
    for key in ("json", "public_json"):
        doc = json.loads(outputs[key])
        assert [s["id"] for s in doc["sections"]] == SECTION_IDS
        assert doc["format"] == REPORT_FORMAT and doc["version"] == 2
    assert SECTION_IDS == ["sign-off", "identity", "data", "threat-model", "ledger", "epsilon",
                           "hazards", "attacks", "criteria", "utility", "residual-risk",
                           "ledger-entries", "configuration"]


def test_json_validates_against_its_schema(outputs: dict[str, str]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for key in ("json", "public_json"):
        validator.validate(json.loads(outputs[key]))
    # the schema has teeth: a wrong status, a missing section, a leaked row count
    doc = json.loads(outputs["json"])
    doc["hazards"][0]["status"] = "maybe"
    assert not validator.is_valid(doc)
    doc = json.loads(outputs["json"])
    del doc["ledger"]
    assert not validator.is_valid(doc)
    doc = json.loads(outputs["json"])
    doc["data"]["real_rows"]["released"] = True
    assert not validator.is_valid(doc)
    # and a tiny report without holdout, target or ledger validates too
    validator.validate(_tiny_report().to_dict())


def test_json_format_page_documents_every_field() -> None:
    page = Path(__file__).resolve().parents[1] / "docs" / "audit-json.md"
    text = page.read_text(encoding="utf-8")
    schema = json.loads(schema_path().read_text(encoding="utf-8"))

    def fields(node: dict[str, Any]) -> set[str]:
        for option in node.get("oneOf", [node]):
            if "properties" in option:
                return set(option["properties"])
        return set()

    names = set(schema["properties"])
    for section in schema["properties"].values():
        names |= fields(section)
    for defined in ("hazard", "attack", "marginal", "criterion_method", "criterion_result"):
        names |= fields(schema["$defs"][defined])
    undocumented = sorted(n for n in names if f"`{n}`" not in text)
    assert not undocumented, f"fields missing from docs/audit-json.md: {undocumented}"
    assert "schema_path()" in text and "version" in text


def test_report_page_has_a_heading_for_every_section_and_json_key() -> None:
    # docs/report.md follows SECTIONS and the JSON Schema: a section added to one and not
    # described in the other fails here
    page = Path(__file__).resolve().parents[1] / "docs" / "report.md"
    headings = [line for line in page.read_text(encoding="utf-8").splitlines()
                if line.startswith("## ")]
    missing = [title for _, title in SECTIONS if not any(title in h for h in headings)]
    assert not missing, f"docs/report.md has no heading for {missing}"
    keys = set(re.findall(r"`(\w+)`", " ".join(headings)))
    content = set(json.loads(schema_path().read_text(encoding="utf-8"))["properties"]) - {
        "format", "version", "public", "edition", "sections"}
    assert content <= keys, f"docs/report.md headings do not name {sorted(content - keys)}"


def test_summary_and_headline_numbers(adult_release: dict[str, Any]) -> None:
    report: AuditReport = adult_release["report"]
    s = report.summary()
    assert set(s) == SUMMARY_KEYS
    spent = adult_release["acct"].spent()
    assert s["epsilon"] == pytest.approx(spent.epsilon) and s["epsilon"] == pytest.approx(1.0)
    assert s["delta"] == 0.0 and s["method"] == "sum"
    assert s["release_id"] == "adult-test-release"
    assert s["hazards_fail"] == 0 and s["hazards_warn"] == 0
    assert _hazard(report, "criteria")["status"] == "pass"  # PrivBayes at epsilon 1
    assert 0 < s["tvd1"] < 1 and 0 < s["tvd2"] < 1
    assert 0.5 < s["tstr_auc"] <= 1.0
    assert 0.3 < s["max_attack_auc"] < 0.7  # epsilon = 1 on 3,000 rows: no real attack
    assert s["max_epsilon_lower_bound"] <= 1.0
    doc = report.to_dict()
    assert doc["residual_risk"]["verdict"] == "pass"
    assert doc["attacks"]["verdict"] == "no problem found"  # about 750 against 750
    assert len(doc["ledger"]["entries"]) == len(adult_release["acct"].history)
    assert doc["ledger"]["head"] == adult_release["acct"].head
    assert doc["ledger"]["genesis"] == adult_release["acct"].genesis
    assert all(e["this_model"] for e in doc["ledger"]["entries"])
    assert _hazard(report, "ledger-coverage")["status"] == "pass"
    assert [m["column"] for m in doc["utility"]["marginals"]] == \
        [c["column"] for c in doc["utility"]["columns"][:4]]


def test_plain_language_reading_of_epsilon(adult_release: dict[str, Any]) -> None:
    ep = adult_release["report"].to_dict()["epsilon"]
    assert ep["source"] == "ledger"
    assert ep["e_to_epsilon"] == pytest.approx(np.e)
    assert ep["posterior_from_even_odds"] == pytest.approx(np.e / (1 + np.e))
    assert [b["fpr"] for b in ep["tpr_bounds"]] == [0.01, 0.1]
    for b in ep["tpr_bounds"]:
        assert b["tpr_upper_bound"] == pytest.approx(tpr_upper_bound(b["fpr"], 1.0), abs=1e-6)
    text = " ".join(ep["statements"])
    assert "factor of e^epsilon = 2.72" in text
    assert "at most 2.7% of those who are" in text and "at most 27.2%" in text


# ---------------------------------------------------------------------------
# privacy of the report itself
# ---------------------------------------------------------------------------
def test_no_private_value_or_count_in_any_output(adult_release: dict[str, Any],
                                                 outputs: dict[str, str]) -> None:
    train = adult_release["train"]
    # the planted values are really in the training data, and nowhere public
    assert (train["capital-gain"] == PLANTED_GAIN).sum() == 3
    assert (train["fnlwgt"] == PLANTED_WEIGHT).sum() == 3
    schema_text = adult_release["model"].schema_.to_json()
    assert str(PLANTED_GAIN) not in schema_text and str(PLANTED_WEIGHT) not in schema_text
    forbidden = {float(PLANTED_GAIN), float(PLANTED_WEIGHT), float(N_HOLDOUT)}
    if round(adult_release["model"].n_hat_) != N_TRAIN:  # the noisy count may be shown
        forbidden.add(float(N_TRAIN))
    # the attack sets derive from the private counts: halves of the holdout (reference,
    # non-members), and the member / non-member evaluation sets
    halves = {N_HOLDOUT // 2, N_HOLDOUT - N_HOLDOUT // 2}
    forbidden |= {float(h) for h in halves | {min(N_TRAIN, h) for h in halves}}
    # exact cell counts of the real data: every 1- and 2-way count of the categorical
    # columns that is not a round, public-looking number
    cats = [c.name for c in adult_release["model"].schema_.columns if c.kind == "categorical"]
    cells: set[float] = set()
    for frame in (train, adult_release["holdout"]):
        for i, a in enumerate(cats):
            cells |= {float(v) for v in frame[a].value_counts()}
            for b in cats[i + 1:]:
                cells |= {float(v) for v in frame.groupby([a, b], observed=True).size()}
    # numbers of the public edition's JSON come from the schema, the engine's parameters
    # and DP outputs (e.g. a bin label "251–500", max_bins 128): not leaks
    public = _numbers(outputs["public_json"])
    # the steward edition's marginal charts label the schema's public bins ("250–251"):
    # computed from the schema alone, so their numbers are public too
    from privsynth.report.evaluation.marginals import public_bins

    for col in adult_release["model"].schema_.columns:
        labels, _ = public_bins(col, train[col.name].iloc[:0])
        public |= _numbers(" ".join(labels))
    forbidden |= {c for c in cells if c >= 100 and c % 100 and c not in public}
    for key, text in outputs.items():
        assert TOKEN not in text, key
        assert EXTRA_COLUMN not in text, key
        assert str(PLANTED_WEIGHT) not in text and "1,234,567" not in text, key
        # SVG coordinates are drawing positions, not data: checked as text without them
        leaked = forbidden & _numbers(re.sub(r"<svg.*?</svg>", "", text, flags=re.S))
        assert not leaked, (key, leaked)
    doc = json.loads(outputs["json"])
    assert doc["data"]["ignored_columns"] == 1
    assert doc["data"]["real_rows"]["released"] is False
    assert doc["data"]["real_rows"]["noisy_estimate"] == round(adult_release["model"].n_hat_)
    # no attack count leaks through the risk module's free texts
    assert "n_members" not in outputs["json"] and "n_train" not in outputs["json"]
    # the anonymisation criteria are in the outputs checked above (so the check covers them)
    assert doc["criteria"]["included"] and doc["criteria"]["results"]["inference"]["secret"]
    assert doc["criteria"]["method"]["linkability"]["n_attacks"] is None  # a count of real rows


def test_numbers_helper_finds_a_leak() -> None:
    # the leak check above must be able to fail
    assert 2987.0 in _numbers("the data has 2,987 rows")
    assert 98765.0 in _numbers('{"max": 98765.0}')
    assert 2987.0 not in _numbers("auc 0.2987 id ab2987 x2987")


def test_public_edition_omits_every_evaluation_number(outputs: dict[str, str]) -> None:
    steward, public = json.loads(outputs["json"]), json.loads(outputs["public_json"])
    assert steward["attacks"]["included"] and steward["utility"]["included"]
    assert public["public"] is True and public["edition"] == "public"
    for key in ("attacks", "utility"):
        assert public[key] == {"included": False, "reason": public[key]["reason"]}
        assert "Omitted from the public edition" in public[key]["reason"]
    assert not any(h["evaluation"] for h in public["hazards"])
    # anonymisation criteria: the method is public, the results are not
    assert steward["criteria"]["results"] is not None and public["criteria"]["results"] is None
    assert public["criteria"]["method"] == steward["criteria"]["method"]
    assert "Omitted from the public edition" in public["criteria"]["results_omitted"]
    assert "Singling out" in outputs["public_html"] and "Secret columns tried" in outputs["html"]
    assert "Success on people in the data" not in outputs["public_html"]
    assert "Success on people in the data" in outputs["html"]
    assert any(h["evaluation"] for h in steward["hazards"])
    for word in ("tvd1", "auc", "dcr_train", "share_closer_to_train", "marginals"):
        assert word in outputs["json"]
        assert word not in outputs["public_json"], word
    assert "<svg" in outputs["html"] and "<svg" not in outputs["public_html"]
    assert "ROC AUC" in outputs["html"] and "ROC AUC" not in outputs["public_html"]
    assert "Steward" in outputs["html"] and "Public edition" in outputs["public_html"]
    # the public edition keeps the DP outputs, the ledger and the checklist
    assert public["ledger"] == steward["ledger"] and public["epsilon"] == steward["epsilon"]
    assert public["configuration"] == steward["configuration"]


def test_marginals_use_public_bins_only(adult_release: dict[str, Any]) -> None:
    doc = adult_release["report"].to_dict()
    schema = adult_release["model"].schema_
    allowed_numbers = set()
    for col in schema.columns:
        if hasattr(col, "lower"):
            allowed_numbers |= {float(col.lower), float(col.upper)}
    for m in doc["utility"]["marginals"]:
        col = schema[m["column"]]
        assert len(m["labels"]) == len(m["real"]) == len(m["synthetic"])
        # real shares are coarsened to 2 decimals (no exact cell counts), synthetic ones not
        assert all(v == round(v, 2) for v in m["real"])
        assert sum(m["real"]) == pytest.approx(1.0, abs=0.005 * len(m["real"]) + 1e-9)
        assert sum(m["synthetic"]) == pytest.approx(1.0, abs=1e-3)
        if col.kind == "categorical":
            extra = {lab for lab in m["labels"]
                     if lab not in col.categories and lab != "missing"
                     and not lab.startswith("other (")}
            assert not extra
        elif col.kind == "integer":
            # equal-width bins from the schema bounds: first starts at lower
            assert m["labels"][0].startswith(str(col.lower))


def test_values_outside_the_schema_are_refused_without_echo() -> None:
    real = _tiny_frame()
    real.loc[3, "smoker"] = TOKEN
    with pytest.raises(DataValidationError) as info:
        audit(real, _tiny_frame(seed=1), schema=_tiny_schema())
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value.problems)
    assert "the real data" in str(info.value) and "smoker" in str(info.value)
    with pytest.raises(DataValidationError, match="lacks the schema's column"):
        audit(_tiny_frame().drop(columns="age"), _tiny_frame(), schema=_tiny_schema())


def test_strings_are_escaped() -> None:
    schema = _tiny_schema(description='<script>alert("x")</script> & <b>')
    html = _tiny_report(schema=schema).to_html()
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in html


def test_html_is_self_contained(outputs: dict[str, str]) -> None:
    for key in ("html", "public_html"):
        html = outputs[key]
        refs = re.findall(r"""(?:src|href|xlink:href|action|srcset)\s*=\s*["']?([^"'\s>]*)""",
                          html, flags=re.IGNORECASE)
        assert refs and all(r.startswith("#") for r in refs), refs
        for bad in ("://", "url(", "@import", "<script", "<img", "<link", "<iframe"):
            assert bad not in html.lower(), (key, bad)
        assert "Content-Security-Policy" in html and "default-src 'none'" in unescape(html)
        assert "@media print" in html


# ---------------------------------------------------------------------------
# hazards
# ---------------------------------------------------------------------------
def test_every_hazard_check_is_documented_and_unique() -> None:
    from privsynth.report.hazards import HAZARD_CHECKS

    ids = [c.id for c in HAZARD_CHECKS]
    assert len(ids) == len(set(ids))
    page = (Path(__file__).resolve().parents[1] / "docs" / "report.md").read_text("utf-8")
    table = {line.split("|")[1].strip() for line in page.splitlines()
             if line.startswith("| ") and line.count("|") >= 3}
    missing = [c.title for c in HAZARD_CHECKS if c.title not in table]
    assert not missing, f"hazards missing from the table in docs/report.md: {missing}"
    # every id the checks produce in a report comes from the table or the engine
    report = _tiny_report()
    assert {h["id"] for h in report.to_dict()["hazards"]} <= set(ids)


def test_schema_read_from_data_fails() -> None:
    report = _tiny_report(schema=_tiny_schema(source="data (not DP)"))
    h = _hazard(report, "schema-source")
    assert h["status"] == "fail" and "not end-to-end" in h["explanation"]
    assert report.to_dict()["residual_risk"]["verdict"] == "fail"
    assert report.summary()["hazards_fail"] >= 1
    # a DP schema whose cost the given ledger does not hold is not called paid for
    assert _hazard(_tiny_report(schema=_tiny_schema(source="dp")), "schema-source")["status"] \
        == "warn"


def test_a_dp_schema_passes_only_when_the_ledger_holds_its_cost() -> None:
    from privsynth import Accountant, infer_dp

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"age": rng.integers(18, 90, 2000),
                       "city": rng.choice(["Oslo", "Bergen", "Tromso"], 2000)})
    kw: dict[str, Any] = {"kinds": {"age": "integer", "city": "categorical"},
                          "coarse": {"age": (0, 150)}, "epsilon": 2.0}
    for same in (True, False):
        ledger = Accountant(epsilon=4.0, delta=1e-6)
        schema = infer_dp(df, accountant=ledger if same else Accountant(4.0, 1e-6), **kw)
        m = PrivBayes(degree=1).fit(df, schema=schema, epsilon=1.0, accountant=ledger)
        report = audit(df, m.sample(random_state=0), model=m, accountant=ledger, attacks=False)
        h = _hazard(report, "schema-source")
        assert h["status"] == ("pass" if same else "warn"), h
        assert ("is part of" in h["explanation"]) is same


def test_reproducible_noise_fails() -> None:
    schema = _tiny_schema()
    with pytest.warns(InsecureNoiseWarning):
        noise = Noise.insecure_for_tests(7)
    acct = Accountant(1.0)
    model = PrivBayes().fit(_tiny_frame(), schema=schema, epsilon=1.0, accountant=acct,
                            noise=noise)
    report = audit(_tiny_frame(), model.sample(200, random_state=0), model=model)
    h = _hazard(report, "noise")
    assert h["status"] == "fail" and "NOT differentially private" in h["explanation"]
    assert report.to_dict()["residual_risk"]["verdict"] == "fail"
    assert "reproducible noise" in report.to_html()
    # the same fit with the default noise passes
    secure = PrivBayes().fit(_tiny_frame(), schema=schema, epsilon=1.0)
    assert _hazard(audit(_tiny_frame(), secure.sample(200, random_state=0), model=secure),
                   "noise")["status"] == "pass"


@pytest.mark.parametrize(("delta", "status"), [
    (0.0, "pass"), (1000 ** -1.2, "pass"), (9e-4, "warn"), (0.01, "fail")])
def test_delta_against_the_noisy_row_count(delta: float, status: str) -> None:
    schema = _tiny_schema()
    report = _tiny_report(schema=schema, model=_FakeModel(schema, delta=delta, n_hat=1000.0))
    assert _hazard(report, "delta")["status"] == status
    assert report.to_dict()["epsilon"]["delta"] == delta


def test_missing_ledger_and_row_count_warn() -> None:
    schema = _tiny_schema()
    report = _tiny_report(schema=schema, model=_FakeModel(schema, n_hat=None, delta=1e-6))
    assert _hazard(report, "row-count")["status"] == "warn"
    assert _hazard(report, "delta")["status"] == "warn"
    assert _hazard(report, "budget")["status"] == "warn"
    assert _hazard(report, "composition")["status"] == "warn"
    assert report.to_dict()["epsilon"]["source"] == "model"
    # no model and no accountant: no claim at all
    bare = audit(_tiny_frame(), _tiny_frame(seed=1), schema=schema)
    assert _hazard(bare, "claim")["status"] == "fail"
    assert bare.summary()["epsilon"] is None
    assert "unknown" in bare.to_html()


def test_engine_hazards_are_listed() -> None:
    schema = _tiny_schema()
    gan_text = "DP-SGD noise is drawn by torch's pseudo-random generator"
    report = _tiny_report(schema=schema, model=_FakeModel(schema, hazards=(
        gan_text, "insecure test mode: all noise was seeded")))
    assert _hazard(report, "engine-1") == {
        "id": "engine-1", "title": "Engine hazard (fake)", "status": "warn",
        "explanation": gan_text, "evaluation": False}
    assert _hazard(report, "engine-2")["status"] == "fail"


def test_ledger_that_misses_the_model_fails_and_adds_up() -> None:
    # issue 17: three fits of epsilon 1 on a ledger, a fourth fitted with accountant=None.
    # By numbers the ledger (3) "covers" the model (1); by entry ids it does not.
    schema = _tiny_schema()
    ledger = Accountant(5.0)
    for _ in range(3):
        PrivBayes().fit(_tiny_frame(), schema=schema, epsilon=1.0, accountant=ledger)
    m4 = PrivBayes().fit(_tiny_frame(), schema=schema, epsilon=1.0)
    report = audit(_tiny_frame(), m4.sample(100, random_state=0), model=m4, accountant=ledger)
    h = _hazard(report, "ledger-coverage")
    assert h["status"] == "fail" and "not recorded in the ledger given" in h["explanation"]
    ep = report.to_dict()["epsilon"]
    assert ep["source"] == "ledger+model" and ep["ledger_covers_model"] is False
    assert ep["epsilon"] == pytest.approx(4.0) and ep["release_epsilon"] == pytest.approx(1.0)
    assert ep["recorded"] == "none" and _hazard(report, "fit-recorded")["status"] == "warn"
    assert "recorded in no ledger" in " ".join(ep["release_statements"])
    assert report.to_dict()["residual_risk"]["verdict"] == "fail"
    assert report.summary()["epsilon"] == pytest.approx(4.0)
    # an approximate-DP ledger of someone else's release: composed together, not just added
    other = Accountant(3.0, 1e-5)
    other.spend(GaussianEvent(sigma=4.0), label="someone else's release", release="x",
                release_delta=1e-5)
    mixed = audit(_tiny_frame(), m4.sample(100, random_state=0), model=m4, accountant=other)
    ep = mixed.to_dict()["epsilon"]
    assert ep["source"] == "ledger+model"
    assert ep["epsilon"] == pytest.approx(other.spent_with(m4.record_.entries).epsilon)
    assert ep["epsilon"] <= other.spent().epsilon + 1.0 + 1e-9


class _Watched:
    """A fitted model whose attribute reads are recorded."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return getattr(self._model, name)


def test_the_report_reads_only_the_fit_record_of_a_model() -> None:
    # issue 17: a model is linked to the ledger by its record's entries; the accountant the
    # model was fitted with (model.accountant_) is never read, nor the convenience properties
    schema = _tiny_schema()
    ledger = Accountant(5.0)
    PrivBayes().fit(_tiny_frame(), schema=schema, epsilon=1.0, accountant=ledger)
    fitted = PrivBayes().fit(_tiny_frame(), schema=schema, epsilon=0.5, accountant=ledger)
    watched = _Watched(fitted)
    report = audit(_tiny_frame(), fitted.sample(100, random_state=0), model=watched,
                   accountant=ledger)
    assert watched.read <= {"schema_", "record_", "constraint_stats_"}, watched.read
    assert {"schema_", "record_"} <= watched.read
    assert report.to_dict()["epsilon"]["release_epsilon"] == pytest.approx(0.5)
    # without a ledger: the model's own entries, not the accountant it was fitted with
    watched = _Watched(fitted)
    alone = audit(_tiny_frame(), fitted.sample(100, random_state=0), model=watched).to_dict()
    assert "accountant_" not in watched.read
    assert alone["epsilon"]["epsilon"] == pytest.approx(0.5)  # not the ledger's 1.5
    assert alone["epsilon"]["source"] == "model"


def test_saved_model_is_linked_to_its_ledger_by_ids_not_numbers(tmp_path: Path) -> None:
    schema = _tiny_schema()
    ledger, twin = Accountant(3.0), Accountant(3.0)
    model = PrivBayes().fit(_tiny_frame(), schema=schema, epsilon=1.0, accountant=ledger)
    PrivBayes().fit(_tiny_frame(), schema=schema, epsilon=1.0, accountant=twin)  # same numbers
    model.save(tmp_path / "model.json")
    loaded = PrivBayes.load(tmp_path / "model.json")
    syn = loaded.sample(100, random_state=0)
    own = audit(_tiny_frame(), syn, model=loaded, accountant=ledger)
    assert _hazard(own, "ledger-coverage")["status"] == "pass"
    assert own.to_dict()["epsilon"]["source"] == "ledger"
    assert own.to_dict()["epsilon"]["epsilon"] == pytest.approx(1.0)
    wrong = audit(_tiny_frame(), syn, model=loaded, accountant=twin)
    assert _hazard(wrong, "ledger-coverage")["status"] == "fail"
    assert wrong.to_dict()["epsilon"]["epsilon"] == pytest.approx(2.0)
    # without a ledger a loaded model's report shows the model's own entries, never nothing
    alone = audit(_tiny_frame(), syn, model=loaded).to_dict()
    assert alone["ledger"]["source"] == "model"
    assert len(alone["ledger"]["entries"]) == len(model.record_.entries) > 0
    assert alone["epsilon"]["source"] == "model"
    assert alone["epsilon"]["epsilon"] == pytest.approx(1.0)
    assert [h["status"] for h in alone["hazards"] if h["id"] == "budget"] == ["warn"]
    # the released model file is the audited fit; a different fit's file fails
    other_fit = PrivBayes().fit(_tiny_frame(), schema=schema, epsilon=1.0)
    other_fit.save(tmp_path / "other.json")
    assert _hazard(audit(_tiny_frame(), syn, model=loaded, accountant=ledger,
                         model_path=tmp_path / "model.json"), "model-file")["status"] == "pass"
    assert _hazard(audit(_tiny_frame(), syn, model=loaded, accountant=ledger,
                         model_path=tmp_path / "other.json"), "model-file")["status"] == "fail"


def _stated_epsilons(doc: dict[str, Any]) -> list[float]:
    """Every epsilon written in the report's sentences ("epsilon = x", "(x, d)-differentially")."""
    ep = doc["epsilon"]
    texts = [*ep["statements"], *ep["release_statements"], doc["residual_risk"]["statement"],
             *doc["residual_risk"]["points"], *doc["sign_off"]["guarantees"],
             doc["sign_off"]["verdict_statement"], *(h["explanation"] for h in doc["hazards"])]
    found = []
    for t in texts:
        found += [float(x) for x in re.findall(r"(?<!\^)epsilon = ([\d.]+(?:e-?\d+)?)", t)]
        found += [float(x) for x in re.findall(r"\(([\d.]+), [\d.e-]+\)-differentially", t)]
        found += [float(x) for x in re.findall(r"Spent epsilon ([\d.]+)", t)]
    return found


@pytest.mark.parametrize(("linked", "other"), [
    (True, "gaussian"), (False, "gaussian"),
    pytest.param(True, "dp-sgd", marks=pytest.mark.slow),
    pytest.param(False, "dp-sgd", marks=pytest.mark.slow)])
def test_every_epsilon_statement_recomputed_from_the_files_with_dp_accounting(
        tmp_path: Path, linked: bool, other: str, independent_accounting: Any) -> None:
    # dp-accounting used directly, without privsynth's composition code (tests/conftest.py)
    ledger_total = independent_accounting.ledger_total
    release_epsilon = independent_accounting.release_epsilon

    schema = _tiny_schema()
    acct = Accountant(10.0, 1e-5)
    PrivBayes().fit(_tiny_frame(), schema=schema, epsilon=1.0, accountant=acct)
    # another release of (epsilon, delta)-DP: a noisy mean, or DP-SGD training
    event = GaussianEvent(sigma=3.0) if other == "gaussian" else \
        SubsampledGaussianEvent(0.05, 1.5, 40)
    acct.spend(event, label=f"another release ({other})", release="other", release_delta=1e-6)
    model = PrivBayes().fit(_tiny_frame(), schema=schema, epsilon=0.5,
                            accountant=acct if linked else None)
    ledger_file = tmp_path / "ledger.json"
    acct.to_json(ledger_file)
    model.save(tmp_path / "model.json")
    loaded = PrivBayes.load(tmp_path / "model.json")
    report = audit(_tiny_frame(), loaded.sample(100, random_state=0), model=loaded,
                   accountant=Accountant.from_json(ledger_file))
    doc = report.to_dict()
    ep = doc["epsilon"]

    # the files alone, read as JSON, recomputed without privsynth's composition code
    ledger_doc = json.loads(ledger_file.read_text(encoding="utf-8"))
    model_doc = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    record = model_doc["payload"]["record"]
    ids = {e["id"] for e in ledger_doc["entries"]}
    missing = [e for e in record["entries"] if e["id"] not in ids]
    assert bool(missing) is not linked
    total = ledger_total({**ledger_doc, "entries": [*ledger_doc["entries"], *missing]})
    own = release_epsilon([e["event"] for e in record["entries"]], record["delta"])

    def proven(stated: float, truth: float) -> None:
        # a statement is proven when it is at least the independent value, and useful
        # when it is not much looser
        assert truth * (1 - 1e-3) <= stated <= truth * 1.02 + 1e-9, (stated, truth)

    proven(ep["epsilon"], total)
    proven(ep["release_epsilon"], own)
    assert ep["source"] == ("ledger" if linked else "ledger+model")
    assert ep["delta"] == pytest.approx(ledger_doc["budget"]["delta"])
    if linked:
        proven(doc["ledger"]["spent"]["epsilon"], ledger_total(ledger_doc))
    assert doc["ledger"]["budget"] == ledger_doc["budget"]
    for shown, entry in zip(doc["ledger"]["entries"], ledger_doc["entries"], strict=True):
        assert shown["id"] == entry["id"]
        pure = entry["event"].get("epsilon") if entry["event"]["kind"] in (
            "laplace", "discrete_laplace", "exponential", "pure_dp") else None
        assert shown["epsilon"] == (pytest.approx(pure) if pure is not None else None)
    # every epsilon written in a sentence is one of the recomputed values (as printed)
    stated = _stated_epsilons(doc)
    assert len(stated) >= 5  # the epsilon section, the residual risk and the sign-off page
    truths = [total, own, ledger_total(ledger_doc), ledger_doc["budget"]["epsilon"]]
    for x in stated:
        assert any(abs(x - t) <= 0.002 * max(t, 1e-3) + 5e-4 for t in truths), (x, truths)
    # the factor e^epsilon, printed to three significant figures, of the proven total
    factors = [float(x) for t in ep["statements"] for x in re.findall(r"e\^epsilon = ([\d.]+)", t)]
    assert factors
    for f in factors:
        half_unit = 0.5 * 10 ** (np.floor(np.log10(f)) - 2)
        assert abs(f - np.exp(ep["epsilon"])) <= half_unit * (1 + 1e-9), (f, ep["epsilon"])


def test_synthetic_outside_the_schema_fails_and_skips_evaluation() -> None:
    syn = _tiny_frame(seed=1)
    syn.loc[0, "smoker"] = "maybe"
    report = audit(_tiny_frame(), syn, model=_FakeModel(_tiny_schema()))
    h = _hazard(report, "synthetic-schema")
    assert h["status"] == "fail" and "smoker" in h["explanation"]
    assert report.to_dict()["utility"]["included"] is False


# ---------------------------------------------------------------------------
# options, files, errors
# ---------------------------------------------------------------------------
def test_without_holdout_attacks_are_skipped_and_said() -> None:
    report = _tiny_report(target="smoker")
    doc = report.to_dict()
    assert doc["attacks"]["included"] is False
    assert "holdout" in doc["attacks"]["reason"] and "non-members" in doc["attacks"]["reason"]
    assert doc["utility"]["ml_efficacy"] is None
    assert "holdout" in doc["utility"]["ml_efficacy_reason"]
    assert report.summary()["max_attack_auc"] is None
    assert "No empirical attack was run" in " ".join(doc["residual_risk"]["points"])
    assert "non-members" in report.to_html()


def test_small_audit_with_holdout_runs_attacks() -> None:
    report = audit(_tiny_frame(), _tiny_frame(seed=1), holdout=_tiny_frame(seed=2),
                   model=_FakeModel(_tiny_schema()), target="smoker",
                   risk_options={"n_bootstrap": 0})
    doc = report.to_dict()
    assert doc["attacks"]["included"] and {r["name"] for r in doc["attacks"]["results"]} == \
        {"distance", "density"}
    assert doc["utility"]["ml_efficacy"]["target"] == "smoker"
    assert _hazard(report, "attacks")["evaluation"] is True
    # 100 members against 100 non-members cannot tell guessing from an AUC of 0.6
    assert doc["attacks"]["verdict"] == "inconclusive"
    assert _hazard(report, "attacks")["status"] == "warn"
    assert "Inconclusive" in report.to_html()
    with pytest.raises(ParameterError, match="risk_options must not set 'epsilon'"):
        audit(_tiny_frame(), _tiny_frame(seed=1), holdout=_tiny_frame(seed=2),
              model=_FakeModel(_tiny_schema()), risk_options={"epsilon": 5.0})


def test_attack_verdicts_never_claim_proof() -> None:
    schema = _tiny_schema()
    real = _tiny_frame(400, seed=0)
    # the case: 35 members against 35 non-members is inconclusive, never a pass
    small = audit(real, _tiny_frame(400, seed=1), holdout=_tiny_frame(70, seed=2),
                  model=_FakeModel(schema), risk_options={"n_bootstrap": 20})
    att = small.to_dict()["attacks"]
    assert att["verdict"] == "inconclusive" and att["exceeds_claim"] is False
    assert _hazard(small, "attacks")["status"] == "warn"
    # a "release" that copies distinct training rows, claiming epsilon 0.01: problem found
    wide = Schema.from_dict({"source": "public", "columns": [
        {"name": "x", "kind": "float", "lower": 0, "upper": 1},
        {"name": "smoker", "kind": "categorical", "categories": ["no", "yes"]}]})
    rng = np.random.default_rng(3)
    rows, other = (pd.DataFrame({"x": rng.random(400), "smoker": rng.choice(["no", "yes"], 400)})
                   for _ in range(2))
    copied = audit(rows, rows.copy(), holdout=other, model=_FakeModel(wide, epsilon=0.01),
                   risk_options={"n_bootstrap": 0})
    att = copied.to_dict()["attacks"]
    assert att["verdict"] == "problem found" and att["exceeds_claim"] is True
    assert _hazard(copied, "attacks")["status"] == "fail"
    # the anonymisation criteria see the copy too; their hazard warns (never fails)
    crit = _hazard(copied, "criteria")
    assert crit["status"] == "warn" and "singling out high" in crit["explanation"]
    assert crit["evaluation"] is True
    assert copied.to_dict()["residual_risk"]["verdict"] == "fail"
    for rep in (small, copied):
        for text in (rep.to_json(), rep.to_html()):
            assert "proves" not in text.lower() and "PRIVACY PROBLEM" not in text


def test_sign_off_page_first_with_its_fields_in_html_and_json(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(
        json.loads(schema_path().read_text(encoding="utf-8")))
    schema = _tiny_schema()
    ledger = Accountant(2.0, dataset=DatasetInfo(name="clinic-visits-2025", owner="City Hospital",
                                                 approved_by="Dr. Data Officer"))
    model = PrivBayes().fit(_tiny_frame(), schema=schema, epsilon=1.0, accountant=ledger)
    syn = model.sample(120, random_state=0)
    syn.to_csv(tmp_path / "synthetic.csv", index=False)
    model.save(tmp_path / "model.json")
    report = audit(_tiny_frame(), syn, model=model, accountant=ledger,
                   synthetic_path=tmp_path / "synthetic.csv", model_path=tmp_path / "model.json",
                   purpose="teaching statistics", audience="course participants",
                   approver="Ms. Sign Off")
    for public in (False, True):
        doc = report.to_dict(public=public)
        validator.validate(doc)
        so = doc["sign_off"]
        assert [f["what"] for f in so["released_files"]] == ["synthetic data", "model file"]
        assert so["released_files"][0]["sha256"] == \
            hashlib.sha256((tmp_path / "synthetic.csv").read_bytes()).hexdigest()
        assert so["released_files"][1]["sha256"] == \
            hashlib.sha256((tmp_path / "model.json").read_bytes()).hexdigest()
        assert (so["purpose"], so["audience"]) == ("teaching statistics", "course participants")
        # controller from the ledger's header, approver given to the audit (overrides it)
        assert (so["controller"], so["approver"]) == ("City Hospital", "Ms. Sign Off")
        assert so["sources"]["controller"] == "ledger" and so["sources"]["approver"] == "audit"
        assert so["dataset"] == {"name": "clinic-visits-2025", "genesis": ledger.genesis,
                                 "head": ledger.head}
        assert so["release_guarantee"] == {"epsilon": pytest.approx(1.0), "delta": 0.0}
        assert so["dataset_guarantee"]["epsilon"] == pytest.approx(1.0)
        assert len(so["must_not"]) >= 5 and "Recital 26" in so["legal"]
        assert "controller's assessment" in so["legal"] and "ledger" in so["retention"]
        assert so["verdict"] == doc["residual_risk"]["verdict"]
        html = report.to_html(public=public)
        # the sign-off page is the first section, before the contents and the ledger
        assert html.index('<h2 id="sign-off"') < html.index("<nav>") \
            < html.index('<h2 id="ledger"') < html.index('<h2 id="ledger-entries"')
        page = unescape(html[html.index('<h2 id="sign-off"'):html.index("<nav>")])
        for text in ("teaching statistics", "course participants", "City Hospital",
                     "Ms. Sign Off", "clinic-visits-2025", ledger.head, "synthetic.csv",
                     so["released_files"][0]["sha256"], "Recital 26", "Signature",
                     "must not", so["must_not"][0], so["guarantees"][0]):
            assert text in page, text
    # the ledger table is in the appendix, not in the ledger section
    html = report.to_html()
    ledger_part = html[html.index('<h2 id="ledger"'):html.index('<h2 id="epsilon"')]
    appendix = html[html.index('<h2 id="ledger-entries"'):html.index('<h2 id="configuration"')]
    assert "<table><thead>" not in ledger_part and appendix.count("<tr>") > len(ledger.history)
    # nothing given and no ledger header: the page says what is missing
    bare = _tiny_report().to_dict()["sign_off"]
    assert bare["purpose"] is None and bare["controller"] is None
    assert "not stated: fill in before signing" in _tiny_report().to_html()
    # a data set name that contradicts the ledger's is refused before any evaluation
    with pytest.raises(ParameterError, match="belongs to data set 'clinic-visits-2025'"):
        audit(_tiny_frame(), syn, model=model, accountant=ledger, dataset="another-table")
    with pytest.raises(ParameterError, match="purpose"):
        audit(_tiny_frame(), syn, model=model, purpose="  ")


def test_synthetic_row_count_equal_to_the_real_one_fails_without_showing_it() -> None:
    schema = _tiny_schema()
    real = _tiny_frame(237, seed=4)
    exact = audit(real, _tiny_frame(237, seed=1), model=_FakeModel(schema))
    h = _hazard(exact, "row-count-exact")
    assert h["status"] == "fail" and h["evaluation"] is True
    assert exact.to_dict()["residual_risk"]["verdict"] == "fail"
    # the hazard never prints the real count (the synthetic count is public)
    assert "237" not in h["explanation"]
    other = audit(real, _tiny_frame(236, seed=1), model=_FakeModel(schema))
    assert _hazard(other, "row-count-exact")["status"] == "pass"
    assert "236" not in _hazard(other, "row-count-exact")["explanation"]
    # computed on the private data without DP: not in the public edition, which is refused
    # while that check fails (and shows nothing of it when it passes)
    with pytest.raises(ParameterError, match="no public edition"):
        exact.to_dict(public=True)
    assert "row-count-exact" not in {h["id"] for h in other.to_dict(public=True)["hazards"]}


def test_constraints_are_listed_with_their_sampling_statistics() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(
        json.loads(schema_path().read_text(encoding="utf-8")))
    schema = _tiny_schema()
    model = _FakeModel(schema)
    model.constraint_stats_ = [  # type: ignore[attr-defined]
        {"constraint": "age >= 18 if smoker == 'yes'", "raw_violation_share": 0.250049,
         "acceptance_rate": np.float64(0.749951)},
        {"constraint": "unique(age)", "raw_violation_share": 0.0, "acceptance_rate": 1.0}]
    report = _tiny_report(model=model)
    doc = report.to_dict()
    assert doc["data"]["constraints"] == [
        {"constraint": "age >= 18 if smoker == 'yes'", "raw_violation_share": 0.25,
         "acceptance_rate": 0.75},
        {"constraint": "unique(age)", "raw_violation_share": 0.0, "acceptance_rate": 1.0}]
    for public in (False, True):
        validator.validate(report.to_dict(public=public))
        assert report.to_dict(public=public)["data"]["constraints"] == doc["data"]["constraints"]
        html = report.to_html(public=public)
        assert '<h3 id="constraints">Constraints</h3>' in html
        assert "age &gt;= 18 if smoker == &#x27;yes&#x27;" in html
        assert "25.0%" in html and "75.0%" in html and "100.0%" in html
    # a wrong type is refused by the JSON schema; no stats: no subsection
    bad = report.to_dict()
    bad["data"]["constraints"][0]["acceptance_rate"] = "high"
    assert not validator.is_valid(bad)
    plain = _tiny_report()
    assert "constraints" not in plain.to_dict()["data"]
    assert 'id="constraints"' not in plain.to_html()
    model.constraint_stats_ = [{"constraint": "x"}]  # type: ignore[attr-defined]
    with pytest.raises(ParameterError, match=r"constraint_stats_\[0\] is malformed"):
        _tiny_report(model=model)


def test_large_real_data_utility_on_a_subsample_and_said() -> None:
    schema = _tiny_schema()
    real, holdout = _tiny_frame(400, seed=0), _tiny_frame(300, seed=2)
    cut = audit(real, _tiny_frame(400, seed=1), model=_FakeModel(schema), holdout=holdout,
                target="smoker", attacks=False, max_records=150)
    sub = cut.to_dict()["utility"]["subsample"]
    assert sub["subsampled"] is True and sub["max_records"] == 150
    assert "random subsample of at most 150 rows" in sub["statement"]
    assert "<b>Subsample:</b>" in cut.to_html()
    assert cut.to_dict()["configuration"]["audit"]["max_records"] == 150
    whole = audit(real, _tiny_frame(400, seed=1), model=_FakeModel(schema), attacks=False)
    assert whole.to_dict()["utility"]["subsample"]["subsampled"] is False
    assert "<b>Subsample:</b>" not in whole.to_html()
    assert cut.summary()["tvd1"] != whole.summary()["tvd1"]
    with pytest.raises(ParameterError, match="max_records"):
        audit(real, real, model=_FakeModel(schema), max_records=5)


def test_file_hashes_and_model_file(tmp_path: Path) -> None:
    schema = _tiny_schema()
    model = PrivBayes().fit(_tiny_frame(), schema=schema, epsilon=1.0)
    syn = model.sample(100, random_state=0)
    syn_path, model_path = tmp_path / "synthetic.csv", tmp_path / "model.json"
    syn.to_csv(syn_path, index=False)
    model.save(model_path)
    report = audit(_tiny_frame(), syn, model=model, synthetic_path=syn_path,
                   model_path=model_path)
    idt = report.to_dict()["identity"]
    assert idt["synthetic"]["sha256"] == hashlib.sha256(syn_path.read_bytes()).hexdigest()
    assert idt["synthetic"]["hashed"] == "file" and idt["synthetic"]["file_name"] == \
        "synthetic.csv"
    assert idt["model"]["sha256"] == hashlib.sha256(model_path.read_bytes()).hexdigest()
    assert str(tmp_path) not in report.to_json()  # file names only, not private paths
    h = _hazard(report, "model-file")
    assert h["status"] == "pass" and "noisy conditional tables" in h["explanation"]
    # without a path the DataFrame's CSV text is hashed, labelled as such
    plain = audit(_tiny_frame(), syn, model=model).to_dict()["identity"]["synthetic"]
    assert plain["hashed"] == "dataframe-csv"
    text = syn.to_csv(index=False, lineterminator="\n")
    assert plain["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    # a model file that is not a privsynth model fails the check
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"rows": [[1, 2]]}')
    assert _hazard(audit(_tiny_frame(), syn, model=model, model_path=bogus),
                   "model-file")["status"] == "fail"
    # writing files
    report.to_html(tmp_path / "r.html")
    report.to_json(tmp_path / "r.json", public=True)
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == report.to_html()
    assert json.loads((tmp_path / "r.json").read_text())["public"] is True


def test_round_trip_through_json() -> None:
    report = _tiny_report()
    again = AuditReport.from_json(report.to_json())
    assert again == report and again.to_html() == report.to_html()
    public = AuditReport.from_json(report.to_json(public=True))
    assert public.to_dict(public=False)["public"] is True  # a public edition stays public
    with pytest.raises(DataValidationError, match="not a privsynth audit report"):
        AuditReport.from_dict({"format": "something else"})
    with pytest.raises(DataValidationError, match="version"):
        AuditReport.from_dict({**report.to_dict(), "version": 99})


def test_argument_errors() -> None:
    with pytest.raises(ParameterError, match="needs the public schema"):
        audit(_tiny_frame(), _tiny_frame())
    with pytest.raises(NotFittedError):
        audit(_tiny_frame(), _tiny_frame(), model=PrivBayes())
    with pytest.raises(ParameterError, match="target 'nope'"):
        _tiny_report(target="nope")
    with pytest.raises(ParameterError, match="differs from the model"):
        audit(_tiny_frame(), _tiny_frame(), schema=_tiny_schema(source="dp"),
              model=_FakeModel(_tiny_schema()))
    with pytest.raises(ParameterError, match="random_state"):
        _tiny_report(random_state=-1)
    with pytest.raises(DataValidationError, match="must be a pandas DataFrame"):
        audit([1, 2], _tiny_frame(), schema=_tiny_schema())


def test_bad_holdouts_raise_clear_privsynth_errors() -> None:
    real, syn = _tiny_frame(), _tiny_frame(seed=1)
    with pytest.raises(DataValidationError, match=r"the holdout lacks the schema's column\(s\) "
                       r"\['smoker'\]") as info:
        _tiny_report(holdout=_tiny_frame(seed=2).drop(columns="smoker"))
    assert isinstance(info.value, PrivsynthError)
    with pytest.raises(DataValidationError,
                       match=r"(?s)the holdout does not match the schema.*has no rows"):
        _tiny_report(holdout=_tiny_frame(seed=2).iloc[:0])
    # 100 non-members cannot support an asked FPR of 1 % (1,000 needed)
    with pytest.raises(DataValidationError, match=r"FPR 0\.01 needs at least 1000 non-members"):
        audit(real, syn, model=_FakeModel(_tiny_schema()), holdout=_tiny_frame(seed=2),
              risk_options={"fprs": [0.01], "n_bootstrap": 0})
    with pytest.raises(DataValidationError, match="the real data lacks"):
        audit(real.drop(columns="age"), syn, model=_FakeModel(_tiny_schema()))


def test_plots_are_valid_svg_fragments() -> None:
    svg = _plots.roc_curves([("a", [0, 0.5, 1], [0, 0.7, 1])],
                            [(f, tpr_upper_bound(f, 1.0)) for f in (0, 0.5, 1)])
    assert svg.startswith("<svg") and svg.endswith("</svg>") and "xmlns" not in svg
    with pytest.raises(ParameterError):
        _plots.bar_pairs("x", ["a", "b"], [1.0], [1.0])
    heat = _plots.heatmap(["a&b", "c"], [[0, 1], [1, 0]])
    assert "a&amp;b" in heat and 'fill="#a5001a"' in heat  # 1 is dark red


# ---------------------------------------------------------------------------
# a real browser
# ---------------------------------------------------------------------------
def _read_png_rgb(path: Path) -> np.ndarray:
    """Decode an 8-bit RGB(A), non-interlaced PNG (what Chromium writes) to an array."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, []
    width = height = depth = ctype = interlace = 0
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    assert depth == 8 and interlace == 0 and ctype in (2, 6), (depth, ctype, interlace)
    bpp = 3 if ctype == 2 else 4
    stride = width * bpp
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8)
    raw = raw.reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int64)
    for y in range(height):
        f, line = int(raw[y, 0]), raw[y, 1:].astype(np.int64)
        if f == 0:
            cur = line
        elif f == 1:  # Sub: a running sum along each channel
            cur = line.reshape(width, bpp).cumsum(axis=0).reshape(-1) % 256
        elif f == 2:  # Up
            cur = (line + prev) % 256
        else:  # Average and Paeth depend on the decoded left neighbour: byte by byte
            lb, pb, cb = line.tolist(), prev.tolist(), [0] * stride
            for x in range(stride):
                a = cb[x - bpp] if x >= bpp else 0
                b = pb[x]
                if f == 3:
                    cb[x] = (lb[x] + ((a + b) >> 1)) & 255
                    continue
                c = pb[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pbb, pc = abs(p - a), abs(p - b), abs(p - c)
                cb[x] = (lb[x] + (a if pa <= pbb and pa <= pc else b if pbb <= pc else c)) & 255
            cur = np.asarray(cb, dtype=np.int64)
        out[y] = cur
        prev = cur
    return out.reshape(height, width, bpp)[:, :, :3]


def _chromium(html_path: Path, work: Path, height: int = 14000) -> tuple[Path, str, list[str]]:
    """Render with headless Chromium: screenshot, stderr, and URLs the page requested."""
    png, netlog = work / "shot.png", work / "net.json"
    proc = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--hide-scrollbars", f"--user-data-dir={work / 'profile'}",
         "--enable-logging=stderr", "--v=0", f"--log-net-log={netlog}",
         f"--window-size=1100,{height}", "--force-device-scale-factor=0.5",
         f"--screenshot={png}", html_path.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    urls: list[str] = []
    if netlog.exists():
        log = json.loads(netlog.read_text(encoding="utf-8", errors="replace") or "{}")
        types = {v: k for k, v in log.get("constants", {}).get("logEventTypes", {}).items()}
        for event in log.get("events", []):
            params = event.get("params") or {}
            if types.get(event.get("type")) != "URL_REQUEST_START_JOB" or not params.get("url"):
                continue
            # Chromium's own background traffic has no initiating origin; a page's
            # requests are initiated by the file:// document
            if params.get("initiator") != "not an origin" or \
                    "file://" in str(params.get("network_isolation_key", "")):
                urls.append(params["url"])
    return png, proc.stderr, urls


needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None,
                                    reason="headless Chromium is not installed")


@needs_chromium
def test_browser_check_catches_errors_and_requests(tmp_path: Path) -> None:
    # the checks below must be able to fail: a page with a script error and a fetch
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><p>x</p><img src="http://127.0.0.1:9/x.png">'
                   "<script>undefinedFunction();</script></body></html>", encoding="utf-8")
    _, stderr, urls = _chromium(bad, tmp_path, height=400)
    assert "Uncaught" in stderr and ":CONSOLE" in stderr
    assert "http://127.0.0.1:9/x.png" in urls


@needs_chromium
@pytest.mark.parametrize("edition", ["steward", "public"])
def test_report_renders_in_headless_chromium(outputs: dict[str, str], tmp_path: Path,
                                             edition: str) -> None:
    html_path = tmp_path / "audit.html"
    html_path.write_text(outputs["html" if edition == "steward" else "public_html"],
                         encoding="utf-8")
    png, stderr, urls = _chromium(html_path, tmp_path,
                                  height=14000 if edition == "steward" else 7000)
    console = [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    assert not console, console
    assert not urls, urls
    img = _read_png_rgb(png)
    assert img.shape[0] > 1000 and img.shape[1] > 300
    ink = float((img.min(axis=2) < 240).mean())
    assert ink > 0.03, f"screenshot nearly blank ({ink:.2%} non-white pixels)"

    def pixels_near(colour: str, tol: int = 12) -> int:
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(img.astype(np.int64) - rgb).max(axis=2) <= tol).sum())

    real_px, syn_px = pixels_near(_plots.REAL_COLOUR), pixels_near(_plots.SYNTHETIC_COLOUR)
    if edition == "steward":  # the figures were drawn: bars and curves in both colours
        assert real_px > 100 and syn_px > 100, (real_px, syn_px)
        # every section heading is in the DOM the browser built (not only in the source)
        dom = subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             f"--user-data-dir={tmp_path / 'profile-dom'}", "--dump-dom",
             html_path.resolve().as_uri()],
            capture_output=True, text=True, timeout=120, check=False)
        assert dom.returncode == 0, dom.stderr[-2000:]
        headings = dict(re.findall(r'<h2 id="([\w-]+)"[^>]*>(.*?)</h2>', dom.stdout))
        for sid, title in SECTIONS:
            assert sid in headings and unescape(headings[sid]).startswith(title), (sid, headings)
        assert dom.stdout.count("<svg") >= 4  # ROC, DCR histogram, marginals, heatmap
    else:  # no figure in the public edition
        assert syn_px < 20, syn_px


def test_no_warning_from_a_plain_audit() -> None:
    # pytest turns warnings into errors; make it explicit for the audit path
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _tiny_report()


def test_no_public_edition_when_a_check_it_leaves_out_fails() -> None:
    """A sample of exactly the real row count fails the steward's row-count check; the
    public edition (which leaves that check out, its status would give n away) must not
    read "pass": it is refused, to the steward, and says which checks to fix."""
    from privsynth import Accountant, datasets
    from privsynth.schema import Schema

    cols = ["age", "sex", "race", "income"]
    schema = Schema(tuple(datasets.adult_schema()[c] for c in cols))
    train = datasets.load_adult()[cols].iloc[:600]
    acct = Accountant(epsilon=3.0)
    m = PrivBayes(degree=1).fit(train, schema=schema, epsilon=1.0, accountant=acct)
    exact = audit(train, m.sample(len(train), random_state=0), model=m, accountant=acct,
                  attacks=False)
    assert exact.to_dict()["residual_risk"]["verdict"] == "fail"
    with pytest.raises(ParameterError, match=r"no public edition.*Synthetic row count"):
        exact.to_dict(public=True)
    with pytest.raises(ParameterError, match="no public edition"):
        exact.to_html(public=True)
    fine = audit(train, m.sample(len(train) + 17, random_state=0), model=m, accountant=acct,
                 attacks=False)
    assert fine.to_dict(public=True)["residual_risk"]["verdict"] == \
        fine.to_dict()["residual_risk"]["verdict"] != "fail"

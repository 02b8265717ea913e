"""The ``privsynth`` command: the demo, a steward's multi-release session, exit codes, ``--where``.

Most tests call :func:`privsynth.cli.main` in-process (fast); a few run
``python -m privsynth`` for real to see the process's own stderr and exit
status. The crash and concurrency tests of the ledger file are in
``test_persistent_ledger.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import privsynth
from privsynth import cli, mechanisms
from privsynth.accounting import DatasetInfo, LaplaceEvent
from privsynth.accounting.persistent import FileAccountant, read_ledger
from privsynth.cli import sample as cli_sample
from privsynth.cli._common import UsageError
from privsynth.datasets import adult_schema, load_adult
from privsynth.engines.privbayes import PrivBayes
from privsynth.errors import BudgetExceededError, ConstraintError, LedgerError, ParameterError
from privsynth.schema import Schema

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks")

SECRET = "ZZ-SECRET-VALUE-42"


# ---------------------------------------------------------------------------
# helpers and fixtures
# ---------------------------------------------------------------------------
Run = Callable[..., tuple[int, str, str]]




def assert_one_line_error(err: str, *, contains: str = "") -> None:
    """A user mistake: exactly one line on stderr, no traceback, no private value."""
    assert err.startswith("privsynth: error: "), err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    assert SECRET not in err
    if contains:
        assert contains in err, err


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small private table, its public schema, a holdout, and broken variants."""
    folder = tmp_path_factory.mktemp("cli")
    adult = load_adult()
    adult.iloc[:800].to_csv(folder / "adult.csv", index=False)
    adult.iloc[800:1200].to_csv(folder / "holdout.csv", index=False)
    schema = adult_schema()
    schema.to_json(folder / "adult.schema.json")
    # a draft: every kind declared, the domains left for `schema infer --dp` to estimate
    draft = schema.to_dict() | {"format": "privsynth.schema-draft"}
    for col in draft["columns"]:
        if col["name"] in ("sex", "race", "income"):
            col["categories"] = None
        elif col["name"] in ("age", "hours-per-week"):
            col.update(lower=None, upper=None, coarse=[0, 10 * col["upper"]])
    (folder / "adult.draft.json").write_text(json.dumps(draft), encoding="utf-8")
    # a category outside the public list, holding a value that must never be echoed
    bad = adult.iloc[:50].copy()
    bad.loc[bad.index[3], "workclass"] = SECRET
    bad.to_csv(folder / "out_of_domain.csv", index=False)
    # the schema of some other table
    Schema.from_dict({"columns": [{"name": "x", "kind": "integer", "lower": 0, "upper": 9}]}
                     ).to_json(folder / "other.schema.json")
    (folder / "broken.schema.json").write_text('{"columns": [', encoding="utf-8")
    (folder / "not_a_model.json").write_text('{"hello": 1}', encoding="utf-8")
    return {p.stem.replace(".", "_"): p for p in folder.iterdir()} | {"dir": folder}


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.json"
    FileAccountant.init(path, epsilon=1.0)
    return path


@pytest.fixture(scope="module")
def model_file(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    FileAccountant.init(folder / "ledger.json", epsilon=1.0)
    code = cli.main(["-q", "fit", str(files["adult"]), "--schema", str(files["adult_schema"]),
                     "--epsilon", "0.5", "--ledger", str(folder / "ledger.json"),
                     "--out", str(folder / "model.json")])
    assert code == 0
    return folder / "model.json"


def tamper(path: Path) -> None:
    data = json.loads(path.read_text())
    data["budget"]["epsilon"] = 100.0  # a "bigger budget", by hand
    path.write_text(json.dumps(data))


# ---------------------------------------------------------------------------
# the demo
# ---------------------------------------------------------------------------
def test_demo_end_to_end_writes_files_that_parse(run: Run, tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    out = tmp_path / "demo"
    code, stdout, err = run("demo", "--out", out, "--epsilon", "0.5", "--rows", "300",
                            "--train-rows", "3000", "--max-records", "200", "--seed", "3")
    assert code == 0, err
    names = {"schema.json", "ledger.json", "synthetic.csv", "model.privbayes.json",
             "audit-public.html", "audit-public.json", "manifest.json"}
    assert names <= {p.name for p in out.iterdir()}
    # the release folder holds the public edition of the report only; the steward's edition
    # (evaluation numbers computed on the private data without DP) is next to the folder
    steward = tmp_path / "demo-steward"
    assert {p.name for p in steward.iterdir()} == {"audit-steward.html", "audit-steward.json"}
    assert not list(out.glob("*steward*")) and not (out / "audit.html").exists()
    assert str(steward) in stdout and "steward's edition" in stdout
    # the summary: budget spent, headline numbers, where the files are
    assert "epsilon 0.5 of 0.5 spent" in stdout
    for word in ("tvd1", "TSTR AUC", "membership-attack AUC", str(out)):
        assert word in stdout
    # the synthetic table fits the public schema
    schema = Schema.from_json(out / "schema.json")
    synth = privsynth.read_table(out / "synthetic.csv", schema=schema)
    assert synth.shape == (300, len(schema.columns))
    # the model loads and samples; the same seed gives the same rows as the demo's
    model = privsynth.load_model(out / "model.privbayes.json")
    assert isinstance(model, PrivBayes)
    again = model.sample(300, random_state=3)
    assert again.to_csv(index=False) == (out / "synthetic.csv").read_text()
    # the ledger verifies and records exactly the fit
    acct = FileAccountant.open(out / "ledger.json")
    assert acct.epsilon == 0.5
    assert acct.spent().epsilon == pytest.approx(0.5)
    assert all(e.release.startswith("demo-privbayes@") for e in acct.ledger)
    # the JSON report satisfies its published schema
    with privsynth.report.schema_path().open(encoding="utf-8") as fh:
        validator = jsonschema.Draft202012Validator(json.load(fh))
    public = json.loads((out / "audit-public.json").read_text(encoding="utf-8"))
    validator.validate(public)
    assert public["edition"] == "public" and public["utility"]["included"] is False
    assert public["attacks"]["included"] is False
    doc = json.loads((steward / "audit-steward.json").read_text(encoding="utf-8"))
    validator.validate(doc)
    assert doc["edition"] == "steward" and doc["attacks"]["included"] is True
    html = (out / "audit-public.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") and "Public edition" in html
    assert (steward / "audit-steward.html").read_text(encoding="utf-8").lstrip().lower(
    ).startswith("<!doctype html")


def test_demo_shows_progress_on_stderr(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    code = cli.main(["demo", "--out", str(tmp_path / "d"), "--rows", "50",
                     "--train-rows", "1000", "--no-attacks", "--epsilon", "0.3"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "[1/5]" in err and "[5/5]" in err and "done in" in err
    assert "not run" in out  # attacks skipped, and said so


@pytest.mark.parametrize("argv, code, text", [
    (["--engine", "nope"], 2, "unknown engine 'nope'"),
    (["--epsilon", "0"], 2, "must be a positive number"),
    (["--epsilon=-1"], 2, "must be a positive number"),
    (["--rows", "0"], 2, "must be a positive integer"),
    (["--param", "no_such_parameter=1"], 2, "does not take the parameter"),
])
def test_demo_usage_errors(run: Run, tmp_path: Path, argv: list[str], code: int,
                           text: str) -> None:
    got, _, err = run("demo", "--out", tmp_path / "d", *argv)
    assert got == code
    assert_one_line_error(err, contains=text)
    assert not (tmp_path / "d").exists()  # refused before writing anything


def test_demo_out_must_be_a_folder(run: Run, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    code, _, err = run("demo", "--out", tmp_path / "file")
    assert code == 2
    assert_one_line_error(err, contains="is not a folder")
    (tmp_path / "d-steward").write_text("x")  # where the steward's edition would go
    code, _, err = run("demo", "--out", tmp_path / "d")
    assert code == 2
    assert_one_line_error(err, contains="is not a folder")
    assert not (tmp_path / "d").exists()  # refused before writing anything


# ---------------------------------------------------------------------------
# a steward's session: several releases spend one ledger
# ---------------------------------------------------------------------------
def test_several_releases_spend_one_ledger(run: Run, files: dict[str, Path],
                                           tmp_path: Path) -> None:
    ledger = tmp_path / "adult.ledger.json"
    code, out, _ = run("budget", "init", ledger, "--epsilon", "1.0")
    assert code == 0 and "total budget epsilon 1" in out
    code, out, _ = run("schema", "check", files["adult"], "--schema", files["adult_schema"])
    assert code == 0 and "matches the schema" in out

    def fit(name: str, eps: str) -> tuple[int, str, str]:
        return run("fit", files["adult"], "--schema", files["adult_schema"], "--epsilon", eps,
                   "--ledger", ledger, "--out", tmp_path / name, "--release", name)

    code, out, _ = fit("v1.json", "0.4")
    assert code == 0 and "remaining 0.6" in out
    code, out, _ = fit("v2.json", "0.4")
    assert code == 0 and "remaining 0.2" in out
    before = ledger.read_bytes()
    code, _, err = fit("v3.json", "0.4")  # above the remaining 0.2
    assert code == 3
    assert_one_line_error(err, contains="refused")
    assert ledger.read_bytes() == before and not (tmp_path / "v3.json").exists()

    code, out, _ = run("budget", "show", ledger)
    assert code == 0
    assert "epsilon 0.8" in out and "remaining  epsilon 0.2" in out
    assert "v1.json" in out and "v2.json" in out
    code, out, _ = run("budget", "show", ledger, "--json", "--entries")
    shown = json.loads(out)
    assert shown["budget"] == {"epsilon": 1.0, "delta": 0.0}
    assert shown["spent"]["epsilon"] == pytest.approx(0.8)
    assert shown["remaining"]["epsilon"] == pytest.approx(0.2)
    assert [r["release"] for r in shown["releases"]] == ["v1.json", "v2.json"]
    assert len(shown["entries"]) == len(read_ledger(ledger).ledger) > 0

    # sampling costs nothing and is reproducible with --seed
    synth = [tmp_path / "s1.csv", tmp_path / "s2.csv"]
    for path in synth:
        code, out, _ = run("sample", tmp_path / "v1.json", "-n", "40", "--out", path,
                           "--seed", "7")
        assert code == 0 and "no privacy cost" in out
    assert synth[0].read_bytes() == synth[1].read_bytes()
    assert read_ledger(ledger).spent().epsilon == pytest.approx(0.8)

    report = tmp_path / "report.html"
    code, out, err = run("audit", "--real", files["adult"], "--synthetic", synth[0],
                         "--holdout", files["holdout"], "--model", tmp_path / "v1.json",
                         "--ledger", ledger, "--out", report, "--json",
                         tmp_path / "report.json", "--max-records", "100", "--target", "income")
    assert code == 0, err
    assert "steward's edition" in out and report.exists()
    doc = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert doc["format"] == privsynth.report.REPORT_FORMAT
    assert doc["public"] is False and doc["attacks"]["included"] is True
    assert doc["ledger"]["spent"]["epsilon"] == pytest.approx(0.8)
    assert doc["identity"]["release_id"]  # a random id when none is given

    code, out, err = run("audit", "--real", files["adult"], "--synthetic", synth[0],
                         "--model", tmp_path / "v1.json", "--ledger", ledger, "--public",
                         "--release", "v1", "--no-attacks", "--out", tmp_path / "public.html",
                         "--json", tmp_path / "public.json")
    assert code == 0, err
    assert "public edition" in out
    public = json.loads((tmp_path / "public.json").read_text(encoding="utf-8"))
    assert public["public"] is True and public["identity"]["release_id"] == "v1"
    assert public["utility"]["included"] is False and public["attacks"]["included"] is False


def test_fit_charges_the_ledger_file_before_each_noise_draw(
        run: Run, files: dict[str, Path], ledger: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every discrete-Laplace draw of a CLI fit happens after its charge is on disk."""
    seen: list[int] = []
    original = mechanisms._sample_discrete_laplace

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(len(read_ledger(ledger).ledger))
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mechanisms, "_sample_discrete_laplace", spy)
    code, _, err = run("fit", files["adult"], "--schema", files["adult_schema"],
                       "--epsilon", "0.5", "--ledger", ledger, "--out", tmp_path / "m.json")
    assert code == 0, err
    assert seen and all(count >= i + 1 for i, count in enumerate(seen)), seen


def test_a_fit_that_fails_after_spending_says_so_and_keeps_the_spend(
        run: Run, files: dict[str, Path], ledger: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    original = mechanisms.discrete_laplace
    calls = {"n": 0}

    def crash(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:  # after two noisy histograms were charged and drawn
            raise ParameterError("simulated failure half-way through the fit")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mechanisms, "discrete_laplace", crash)
    code, _, err = run("fit", files["adult"], "--schema", files["adult_schema"],
                       "--epsilon", "0.5", "--ledger", ledger, "--out", tmp_path / "m.json")
    assert code == 2
    assert_one_line_error(err, contains="already charged")
    assert "is not refunded" in err
    assert 0 < read_ledger(ledger).spent().epsilon < 0.5
    assert not (tmp_path / "m.json").exists()


# ---------------------------------------------------------------------------
# bad input: documented exit code, one line on stderr
# ---------------------------------------------------------------------------
FIT_CASES = [
    # name, changes to the good command, exit code, text in the message
    ("missing data file", {"data": "nope.csv"}, 4, "data file not found"),
    ("missing schema file", {"--schema": "nope.json"}, 4, "schema file not found"),
    ("broken schema file", {"--schema": "broken.schema.json"}, 4, ""),
    ("schema of another table", {"--schema": "other.schema.json"}, 4, ""),
    ("data outside the schema", {"data": "out_of_domain.csv"}, 4, "workclass"),
    ("missing ledger", {"--ledger": "nope.ledger.json"}, 4, "budget init"),
    ("zero epsilon", {"--epsilon": "0"}, 2, "must be a positive number"),
    ("negative epsilon", {"--epsilon": "-0.5"}, 2, "must be a positive number"),
    ("epsilon not a number", {"--epsilon": "lots"}, 2, "must be a positive number"),
    ("infinite epsilon", {"--epsilon": "inf"}, 2, "must be a positive number"),
    ("epsilon above the budget", {"--epsilon": "1.5"}, 3, "refused"),
    ("unknown engine", {"--engine": "magic"}, 2, "unknown engine 'magic'"),
    ("unknown engine parameter", {"--param": "colour=1"}, 2, "does not take"),
    ("output folder missing", {"--out": "no/such/folder/m.json"}, 2, "does not exist"),
    ("delta of 1", {"--delta": "1"}, 2, "must be a number in [0, 1)"),
]


@pytest.mark.parametrize("name, change, code, text", FIT_CASES, ids=[c[0] for c in FIT_CASES])
def test_fit_bad_input(run: Run, files: dict[str, Path], ledger: Path, tmp_path: Path,
                       name: str, change: dict[str, str], code: int, text: str) -> None:
    opts = {"--schema": str(files["adult_schema"]), "--epsilon": "0.5",
            "--ledger": str(ledger), "--out": str(tmp_path / "m.json")}
    data = str(files["adult"])
    for key, value in change.items():
        if key == "data":
            data = str(files["dir"] / value)
        elif key in ("--schema",):
            opts[key] = str(files["dir"] / value)
        elif key in ("--out", "--ledger"):
            opts[key] = str(tmp_path / value)
        else:
            opts[key] = value
    argv = ["fit", data, *(f"{key}={value}" for key, value in opts.items())]
    before = ledger.read_bytes()
    got, _, err = run(*argv)
    assert got == code, err
    assert_one_line_error(err, contains=text)
    assert ledger.read_bytes() == before  # nothing spent
    assert not (tmp_path / "m.json").exists()


def _forbid_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any read of the data file fail the test (refusals must come first)."""

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data was read")

    monkeypatch.setattr("privsynth.io.read_table", no_reading)


def test_fit_above_the_remaining_budget_refuses_before_reading_data(
        run: Run, files: dict[str, Path], ledger: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    FileAccountant.open(ledger).spend(LaplaceEvent(0.75), label="earlier release")
    before = ledger.read_bytes()
    _forbid_reading(monkeypatch)
    code, _, err = run("fit", files["adult"], "--schema", files["adult_schema"],
                       "--epsilon", "0.5", "--ledger", ledger, "--out", tmp_path / "m.json")
    assert code == 3
    assert_one_line_error(err, contains="only epsilon 0.25 of the total 1 is left")
    assert ledger.read_bytes() == before


def test_fit_on_a_tampered_ledger_refuses_before_reading_data(
        run: Run, files: dict[str, Path], ledger: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    tamper(ledger)
    _forbid_reading(monkeypatch)
    code, _, err = run("fit", files["adult"], "--schema", files["adult_schema"],
                       "--epsilon", "0.1", "--ledger", ledger, "--out", tmp_path / "m.json")
    assert code == 4
    assert_one_line_error(err, contains="edited or corrupted")


def _forbid_header(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make reading even the data file's header fail the test."""

    def no_header(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data file was opened")

    monkeypatch.setattr("privsynth.schema_import.draft_from_header", no_header)
    monkeypatch.setattr("privsynth.schema_import.read_header", no_header)


def test_schema_infer_dp_without_declared_kinds_exits_2_before_anything(
        run: Run, files: dict[str, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = FileAccountant.init(tmp_path / "l.json", epsilon=1.0, delta=1e-6).path
    before = ledger.read_bytes()
    _forbid_reading(monkeypatch)
    # no draft: the header gives the names (never a row), and no column has a kind
    code, _, err = run("schema", "infer", files["adult"], "--dp", "--epsilon", "0.5",
                       "--ledger", ledger, "--out", tmp_path / "s.json")
    assert code == 2
    assert_one_line_error(err, contains="'age', 'workclass'")
    assert "needs a kind" in err and "nothing was read or charged" in err
    # a draft whose numeric column has neither bounds nor a coarse range
    draft = json.loads(files["adult_draft"].read_text())
    del draft["columns"][0]["coarse"]
    (tmp_path / "d.json").write_text(json.dumps(draft))
    code, _, err = run("schema", "infer", files["adult"], "--dp", "--epsilon", "0.5",
                       "--ledger", ledger, "--out", tmp_path / "s.json",
                       "--schema", tmp_path / "d.json")
    assert code == 2
    assert_one_line_error(err, contains="'age' (integer): needs public bounds")
    assert ledger.read_bytes() == before  # byte for byte
    assert not (tmp_path / "s.json").exists()


def test_schema_infer_dp_dry_run_reads_no_data(
        run: Run, files: dict[str, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = FileAccountant.init(tmp_path / "l.json", epsilon=1.0, delta=1e-6).path
    before = ledger.read_bytes()
    _forbid_reading(monkeypatch)
    _forbid_header(monkeypatch)
    argv = ["schema", "infer", files["adult"], "--dp", "--epsilon", "0.3", "--ledger", ledger,
            "--out", tmp_path / "s.json", "--schema", files["adult_draft"], "--dry-run"]
    code, out, err = run(*argv)
    assert code == 0, err
    assert f"the ledger file {ledger}" in out and "epsilon 0.3" in out
    assert "age (integer): lower, upper" in out and "income (categorical)" in out
    assert "kept as declared (free): workclass" in out
    code, out, _ = run(*argv, "--json")
    plan = json.loads(out)
    assert plan["charge"]["epsilon"] == pytest.approx(0.3) and plan["fits"] is True
    after = plan["ledger_after"]
    assert after["epsilon"] <= 0.3 + 1e-12
    assert after["remaining_epsilon"] == pytest.approx(1 - after["epsilon"])
    assert [c["column"] for c in plan["estimated"]] == [
        "age", "race", "sex", "hours-per-week", "income"]
    # more than the budget: the dry run says it would be refused (exit 3)
    code, out, _ = run(*argv[:5], "1.5", *argv[6:])
    assert code == 3 and "REFUSE" in out
    assert ledger.read_bytes() == before and not (tmp_path / "s.json").exists()


def test_schema_infer_dp_fills_a_draft_and_keeps_what_it_paid_for(
        run: Run, files: dict[str, Path], tmp_path: Path) -> None:
    ledger = FileAccountant.init(tmp_path / "l.json", epsilon=2.0, delta=1e-6).path
    code, out, err = run("schema", "infer", files["adult"], "--dp", "--epsilon", "1",
                         "--ledger", ledger, "--out", tmp_path / "s.json",
                         "--schema", files["adult_draft"])
    assert code == 0, err
    schema = Schema.from_json(tmp_path / "s.json")
    assert schema.source == "dp" and schema.names == adult_schema().names
    assert "spent epsilon 1" in out
    # a column whose every value is held by one record: no category can be released
    unique = pd.read_csv(files["adult"]).assign(fnlwgt=lambda d: [f"id{i}" for i in
                                                                  range(len(d))])
    unique.to_csv(tmp_path / "u.csv", index=False)
    draft = json.loads(files["adult_draft"].read_text())
    draft["columns"][2] = {"name": "fnlwgt", "kind": "categorical"}
    (tmp_path / "d.json").write_text(json.dumps(draft))
    spent = read_ledger(ledger).spent().epsilon
    code, _, err = run("schema", "infer", tmp_path / "u.csv", "--dp", "--epsilon", "0.5",
                       "--ledger", ledger, "--out", tmp_path / "partial.json",
                       "--schema", tmp_path / "d.json")
    assert code == 4
    assert "fnlwgt" in err and "id1" not in err
    kept = json.loads((tmp_path / "partial.json").read_text())
    assert kept["format"] == "privsynth.schema-draft" and kept["source"] == "dp"
    cols = {c["name"]: c for c in kept["columns"]}
    assert cols["fnlwgt"]["categories"] is None and cols["sex"]["categories"]
    assert cols["age"]["lower"] is not None
    assert read_ledger(ledger).spent().epsilon > spent  # charged, and kept


def test_data_errors_never_show_the_values(run: Run, files: dict[str, Path]) -> None:
    code, out, err = run("schema", "check", files["out_of_domain"], "--schema",
                         files["adult_schema"])
    assert code == 4
    assert_one_line_error(err, contains="workclass")
    assert "workclass" in out and SECRET not in out  # the problem list: counts only


@pytest.mark.parametrize("argv, code, text", [
    (["budget", "init", "{tmp}/l.json", "--epsilon", "0"], 2, "must be a positive number"),
    (["budget", "init", "{tmp}/l.json", "--epsilon=-2"], 2, "must be a positive number"),
    (["budget", "init", "{tmp}/l.json"], 2, "--epsilon"),
    (["budget", "init", "{tmp}/no/such/l.json", "--epsilon", "1"], 2, "does not exist"),
    (["budget", "init", "{ledger}", "--epsilon", "5"], 3, "one budget forever"),
    (["budget", "show", "{tmp}/nope.json"], 4, "no ledger at"),
    (["budget", "show", "{bad_ledger}"], 4, "edited or corrupted"),
    (["budget"], 2, "missing action"),
    (["budget", "reset", "{ledger}"], 2, "invalid choice"),
    (["schema", "check", "--schema", "{dir}/nope.json"], 4, "schema file not found"),
    (["schema", "check", "--schema", "{dir}/broken.schema.json"], 4, ""),
    (["schema", "check", "{dir}/nope.csv", "--schema", "{dir}/adult.schema.json"], 4,
     "data file not found"),
    (["schema", "check", "{dir}/adult.csv", "--schema", "{dir}/other.schema.json"], 4, ""),
    (["schema", "infer", "{dir}/adult.csv", "--out", "{tmp}/s.json"], 2, "--dp"),
    (["schema", "infer", "{dir}/adult.csv", "--out", "{tmp}/s.json", "--dp"], 2,
     "needs --epsilon and --ledger"),
    (["schema", "infer", "{dir}/adult.csv", "--out", "{tmp}/s.json", "--dp", "--epsilon", "0",
      "--ledger", "{ledger}"], 2, "must be a positive number"),
    (["schema", "infer", "{dir}/adult.csv", "--out", "{tmp}/s.json", "--dp", "--epsilon", "3",
      "--ledger", "{delta_ledger}", "--schema", "{dir}/adult.draft.json"], 3, "refused"),
    (["schema", "infer", "{dir}/adult.csv", "--out", "{tmp}/s.json", "--dp", "--epsilon", "0.5",
      "--ledger", "{ledger}", "--schema", "{dir}/adult.draft.json"], 3, "needs delta > 0"),
    (["schema", "infer", "{dir}/adult.csv", "--out", "{tmp}/s.json", "--dp", "--epsilon", "0.5",
      "--ledger", "{delta_ledger}"], 2, "not declared well enough"),
    (["schema", "infer", "{dir}/adult.csv", "--out", "{tmp}/s.json", "--dp", "--epsilon",
      "0.1", "--ledger", "{bad_ledger}"], 4, "edited or corrupted"),
    (["schema", "infer", "{dir}/nope.csv", "--out", "{tmp}/s.json", "--unsafe"], 4,
     "data file not found"),
    (["sample", "{tmp}/nope.json", "-n", "5", "--out", "{tmp}/s.csv"], 4,
     "model file not found"),
    (["sample", "{dir}/not_a_model.json", "-n", "5", "--out", "{tmp}/s.csv"], 4, ""),
    (["sample", "{dir}/adult.csv", "-n", "5", "--out", "{tmp}/s.csv"], 4, ""),
    (["sample", "{model}", "-n", "0", "--out", "{tmp}/s.csv"], 2, "must be a positive integer"),
    (["sample", "{model}", "-n", "-3", "--out", "{tmp}/s.csv"], 2, ""),
    (["sample", "{model}", "-n", "5", "--out", "{tmp}/s.csv", "--seed", "-1"], 2,
     "non-negative integer"),
    (["sample", "{model}", "-n", "5"], 2, "--out"),
    (["audit", "--real", "{dir}/nope.csv", "--synthetic", "{dir}/adult.csv", "--schema",
      "{dir}/adult.schema.json", "--out", "{tmp}/r.html"], 4, "real data file not found"),
    (["audit", "--real", "{dir}/adult.csv", "--synthetic", "{dir}/nope.csv", "--schema",
      "{dir}/adult.schema.json", "--out", "{tmp}/r.html"], 4, "synthetic data file not found"),
    (["audit", "--real", "{dir}/adult.csv", "--synthetic", "{dir}/adult.csv",
      "--out", "{tmp}/r.html"], 2, "--schema or --model"),
    (["audit", "--real", "{dir}/adult.csv", "--synthetic", "{dir}/adult.csv", "--schema",
      "{dir}/other.schema.json", "--out", "{tmp}/r.html"], 4, ""),
    (["audit", "--real", "{dir}/adult.csv", "--synthetic", "{dir}/adult.csv", "--model",
      "{dir}/not_a_model.json", "--out", "{tmp}/r.html"], 4, ""),
    (["audit", "--real", "{dir}/adult.csv", "--synthetic", "{dir}/adult.csv", "--schema",
      "{dir}/adult.schema.json", "--ledger", "{bad_ledger}", "--out", "{tmp}/r.html"], 4,
     "edited or corrupted"),
    ([], 2, "missing command"),
    (["publish"], 2, "invalid choice"),
    (["fit", "--no-such-option"], 2, ""),
])
def test_bad_input_exit_codes(run: Run, files: dict[str, Path], ledger: Path,
                              model_file: Path, tmp_path: Path, argv: list[str], code: int,
                              text: str) -> None:
    bad = tmp_path / "bad.ledger.json"
    FileAccountant.init(bad, epsilon=1.0)
    tamper(bad)
    with_delta = FileAccountant.init(tmp_path / "delta.ledger.json", epsilon=1.0, delta=1e-6)
    subs = {"tmp": str(tmp_path), "dir": str(files["dir"]), "ledger": str(ledger),
            "bad_ledger": str(bad), "model": str(model_file), "delta_ledger": str(with_delta.path)}
    before = ledger.read_bytes(), with_delta.path.read_bytes()
    got, _, err = run(*(a.format(**subs) for a in argv))
    assert got == code, err
    assert_one_line_error(err, contains=text)
    assert (ledger.read_bytes(), with_delta.path.read_bytes()) == before  # nothing spent
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "s.csv").exists()


def test_exit_code_mapping() -> None:
    assert cli.exit_code(BudgetExceededError("x")) == 3
    assert cli.exit_code(LedgerError("x")) == 4
    assert cli.exit_code(ParameterError("x")) == 2
    assert cli.exit_code(RuntimeError("x")) == 1


def test_unexpected_errors_hide_their_message_unless_debug(
        run: Run, files: dict[str, Path], ledger: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"internal detail {SECRET}")

    monkeypatch.setattr("privsynth.io.read_table", boom)
    argv = ["fit", files["adult"], "--schema", files["adult_schema"], "--epsilon", "0.1",
            "--ledger", ledger, "--out", tmp_path / "m.json"]
    code, _, err = run(*argv)
    assert code == 1
    assert_one_line_error(err, contains="internal error (RuntimeError)")
    code, _, err = run("--debug", *argv)
    assert code == 1
    assert "Traceback" in err and "RuntimeError" in err


def test_real_process_exit_status_and_stderr(files: dict[str, Path], ledger: Path,
                                             tmp_path: Path) -> None:
    tamper(ledger)
    cases = [
        (["--version"], 0),
        (["budget", "show", str(ledger)], 4),
        (["fit", str(files["adult"]), "--schema", str(files["adult_schema"]), "--epsilon", "0",
          "--ledger", str(ledger), "--out", str(tmp_path / "m.json")], 2),
    ]
    for argv, code in cases:
        proc = subprocess.run([sys.executable, "-m", "privsynth", *argv], capture_output=True,
                              text=True, timeout=120, cwd=tmp_path)
        assert proc.returncode == code, proc.stderr
        if code:
            assert_one_line_error(proc.stderr)
        else:
            assert proc.stdout.strip() == f"privsynth {privsynth.__version__}"


# ---------------------------------------------------------------------------
# sample --where
# ---------------------------------------------------------------------------
def test_where_is_parsed_by_the_schema() -> None:
    schema = adult_schema()
    cond = cli_sample.conditions([("sex", "Female"), ("age", "40"), ("workclass", "")], schema)
    assert cond == {"sex": "Female", "age": 40, "workclass": None}
    assert isinstance(cond["age"], int)
    with pytest.raises(UsageError, match="no column 'colour'"):
        cli_sample.conditions([("colour", "red")], schema)
    with pytest.raises(UsageError, match="numeric"):
        cli_sample.conditions([("age", "old")], schema)
    with pytest.raises(UsageError, match="more than once"):
        cli_sample.conditions([("sex", "Male"), ("sex", "Female")], schema)
    assert cli_sample.where_pair("workclass=a=b") == ("workclass", "a=b")


def test_sample_where_restricts_the_rows(run: Run, model_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "women40.csv"
    code, stdout, err = run("sample", model_file, "-n", "60", "--out", out, "--seed", "1",
                            "--where", "sex=Female", "--where", "age=40")
    assert code == 0, err
    assert "where sex=Female, age=40" in stdout
    df = pd.read_csv(out)
    assert len(df) == 60
    assert (df["sex"] == "Female").all() and (df["age"] == 40).all()


@pytest.mark.parametrize("where, text", [
    ("sex=Alien", "--where"),
    ("colour=red", "no column 'colour'"),
    ("age=old", "numeric"),
    ("noequals", "must be COLUMN=VALUE"),
])
def test_sample_where_bad_values_are_usage_errors(run: Run, model_file: Path, tmp_path: Path,
                                                  where: str, text: str) -> None:
    code, _, err = run("sample", model_file, "-n", "5", "--out", tmp_path / "s.csv",
                       "--where", where)
    assert code == 2
    assert_one_line_error(err, contains=text)
    assert not (tmp_path / "s.csv").exists()


def test_sample_where_with_an_engine_without_conditions(
        run: Run, model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Old:
        schema_ = adult_schema()

        def sample(self, n: int, *, random_state: int | None = None) -> pd.DataFrame:
            raise AssertionError("must not be called")

    monkeypatch.setattr("privsynth.engines.load_model", lambda path: Old())
    code, _, err = run("sample", model_file, "-n", "5", "--out", tmp_path / "s.csv",
                       "--where", "sex=Female")
    assert code == 2
    assert_one_line_error(err, contains="cannot sample with conditions")


def test_sample_where_engine_constraint_errors_become_usage_errors(
        run: Run, model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Picky:
        schema_ = adult_schema()

        def sample(self, n: int, *, random_state: int | None = None,
                   conditions: dict[str, object] | None = None) -> pd.DataFrame:
            raise ConstraintError("conditions contradict the rule 'age >= 18'")

    monkeypatch.setattr("privsynth.engines.load_model", lambda path: Picky())
    code, _, err = run("sample", model_file, "-n", "5", "--out", tmp_path / "s.csv",
                       "--where", "age=10")
    assert code == 2
    assert_one_line_error(err, contains="contradict")


def test_budget_init_overwrite_only_replaces_an_unused_ledger(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "l.json"
    assert run("budget", "init", path, "--epsilon", "1")[0] == 0
    code, out, _ = run("budget", "init", path, "--epsilon", "2", "--delta", "1e-6",
                       "--overwrite")
    assert code == 0 and "epsilon 2, delta 1e-06" in out
    FileAccountant.open(path).spend(LaplaceEvent(0.5), label="released")
    before = path.read_bytes()
    code, _, err = run("budget", "init", path, "--epsilon", "9", "--overwrite")
    assert code == 3
    assert_one_line_error(err, contains="already records 1 spend;")
    assert path.read_bytes() == before
    code, out, _ = run("budget", "show", path, "--entries")
    assert code == 0 and "1 event in 1 release" in out and "released" in out


def test_debug_and_quiet_work_before_or_after_the_command(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for argv in (["--debug", "budget", "show", str(tmp_path / "x.json")],
                 ["budget", "show", str(tmp_path / "x.json"), "--debug"]):
        assert cli.main(argv) == 4
        err = capsys.readouterr().err
        assert "Traceback" in err and err.rstrip().splitlines()[-1].startswith(
            "privsynth: error: no ledger at")


# ---------------------------------------------------------------------------
# logging, -q, true/false tokens, inputs named in errors
# ---------------------------------------------------------------------------
@pytest.mark.filterwarnings("default")  # the CLI shows warnings as lines; not errors here
def test_quiet_leaves_only_errors_on_stderr(capsys: pytest.CaptureFixture[str],
                                            files: dict[str, Path], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import logging
    import warnings

    original = PrivBayes.fit

    def chatty(self: PrivBayes, *args: object, **kwargs: object) -> PrivBayes:
        logging.getLogger("privsynth.engines.privbayes").info("ENGINE-LOG-LINE")
        logging.getLogger("privsynth.accounting").warning("ACCOUNTANT-LOG-LINE")
        logging.getLogger("privsynth.engines.privbayes").debug("DEBUG-LINE")
        warnings.warn("LIBRARY-WARNING", UserWarning, stacklevel=1)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(PrivBayes, "fit", chatty)
    handlers = list(logging.getLogger("privsynth").handlers)
    FileAccountant.init(tmp_path / "l.json", epsilon=1.0)

    def fit(*extra: str, out: str = "m.json") -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main([*extra, "fit", str(files["adult"]), "--schema",
                         str(files["adult_schema"]), "--epsilon", "0.1", "--ledger",
                         str(tmp_path / "l.json"), "--out", str(tmp_path / out)])
        return code, *capsys.readouterr()

    code, out, err = fit()
    assert code == 0, err
    assert "[2/3] fitting privbayes" in err and "ENGINE-LOG-LINE" in err
    assert "ACCOUNTANT-LOG-LINE" in err
    assert "privsynth: warning: LIBRARY-WARNING" in err and "DEBUG-LINE" not in err
    assert "fitted privbayes" in out  # the result stays on stdout
    code, out, err = fit("-q", out="m2.json")
    assert code == 0 and err == "" and "fitted privbayes" in out
    code, _, err = fit("--debug", out="m3.json")
    assert code == 0 and "privsynth.engines.privbayes: DEBUG-LINE" in err
    code, _, err = fit("-q", "--debug", out="m4.json")
    assert code == 0 and err == ""
    code, _, err = fit("-q", out="no/such/folder/m.json")
    assert code == 2
    assert_one_line_error(err, contains="does not exist")  # errors are never silenced
    # the logging set-up is undone: calling main from Python leaves no handler behind
    assert logging.getLogger("privsynth").handlers == handlers


def test_where_uses_the_one_true_false_token_list() -> None:
    from privsynth._checks import FALSE_TOKENS, TRUE_TOKENS

    schema = Schema.from_dict({"columns": [{"name": "smoker", "kind": "boolean"}]})
    for token in TRUE_TOKENS:
        assert cli_sample.conditions([("smoker", token.upper())], schema) == {"smoker": True}
    for token in FALSE_TOKENS:
        assert cli_sample.conditions([("smoker", token)], schema) == {"smoker": False}
    # validation refuses "y"/"n" (a common missing token), and so does the CLI now
    for token in ("y", "n", "maybe"):
        with pytest.raises(UsageError, match="is boolean; use one of true"):
            cli_sample.conditions([("smoker", token)], schema)


def test_audit_errors_name_the_input_that_failed(run: Run, files: dict[str, Path],
                                                 tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("age,workclass\n1,2\n3\n")
    base = ["audit", "--schema", files["adult_schema"], "--out", tmp_path / "r.html",
            "--no-attacks"]
    code, _, err = run(*base, "--real", files["adult"], "--synthetic", ragged)
    assert code == 4
    assert_one_line_error(err, contains=f"cannot read {ragged}: line 3 has 1 field")
    code, _, err = run(*base, "--real", files["adult"], "--synthetic", files["adult"],
                       "--holdout", files["out_of_domain"])
    assert code == 4
    assert_one_line_error(err, contains=f"holdout data file {files['out_of_domain']}:")
    assert "workclass" in err
    assert not (tmp_path / "r.html").exists()


# ---------------------------------------------------------------------------
# no silent loss, sampling without -n, split (issue 24)
# ---------------------------------------------------------------------------
def test_fit_refuses_an_existing_output_and_a_reused_release_before_spending(
        run: Run, files: dict[str, Path], ledger: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def fit(out: Path, *extra: object) -> tuple[int, str, str]:
        return run("fit", files["adult"], "--schema", files["adult_schema"], "--epsilon", "0.2",
                   "--ledger", ledger, "--out", out, *extra)

    code, _, err = fit(tmp_path / "a.json", "--release", "2026-01")
    assert code == 0, err
    kept = (tmp_path / "a.json").read_bytes()
    before = ledger.read_bytes()
    _forbid_reading(monkeypatch)  # refusals come before the data is read
    code, _, err = fit(tmp_path / "a.json", "--release", "2026-02")
    assert code == 2
    assert_one_line_error(err, contains="already exists")
    assert (tmp_path / "a.json").read_bytes() == kept
    code, _, err = fit(tmp_path / "b.json", "--release", "2026-01")
    assert code == 2
    assert_one_line_error(err, contains="release id '2026-01' is already recorded")
    assert ledger.read_bytes() == before and not (tmp_path / "b.json").exists()


def test_schema_infer_dp_refuses_an_existing_output_and_a_reused_release(
        run: Run, files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = tmp_path / "l.json"
    FileAccountant.init(ledger, epsilon=1.0, delta=1e-6)
    FileAccountant.open(ledger).spend(LaplaceEvent(0.1), label="x", release="used")
    (tmp_path / "s.json").write_text("{}")
    before = ledger.read_bytes()
    _forbid_reading(monkeypatch)
    base = ["schema", "infer", files["adult"], "--dp", "--epsilon", "0.1", "--ledger", ledger,
            "--schema", files["adult_draft"]]
    code, _, err = run(*base, "--out", tmp_path / "s.json")
    assert code == 2
    assert_one_line_error(err, contains="already exists")
    code, _, err = run(*base, "--out", tmp_path / "new.json", "--release", "used")
    assert code == 2
    assert_one_line_error(err, contains="release id 'used' is already recorded")
    assert ledger.read_bytes() == before and (tmp_path / "s.json").read_text() == "{}"
    # --unsafe spends nothing: it may replace its output
    monkeypatch.undo()
    code, _, err = run("schema", "infer", files["adult"], "--unsafe", "--out", tmp_path / "s.json")
    assert code == 0, err
    assert Schema.from_json(tmp_path / "s.json").names == adult_schema().names


def test_sample_without_n_draws_the_noisy_row_count(run: Run, model_file: Path,
                                                    tmp_path: Path) -> None:
    model = PrivBayes.load(model_file)
    out = tmp_path / "s.csv"
    code, stdout, err = run("sample", model_file, "--out", out, "--seed", "2")
    assert code == 0, err
    assert "(the model's noisy row count)" in stdout
    df = pd.read_csv(out)
    assert len(df) == max(1, round(model.n_hat_))  # not the training table's 800 rows
    # -n still works, and --na-rep writes missing values as the source's token (rows drawn
    # with workclass missing, so that the test does not depend on the model's missing rate)
    na = tmp_path / "na.tsv.gz"
    code, _, err = run("sample", model_file, "-n", "40", "--seed", "2", "--out", na,
                       "--na-rep", "N/A", "--where", "workclass=")
    assert code == 0, err
    back = pd.read_csv(na, sep="\t", keep_default_na=False, dtype=str)
    same = model.sample(40, random_state=2, conditions={"workclass": None})
    assert len(back) == 40 and (back["workclass"] == "N/A").all()
    missing = same.isna().to_numpy()
    assert (back.to_numpy()[missing] == "N/A").all()
    assert not (back.to_numpy()[~missing] == "N/A").any()
    code, _, err = run("sample", model_file, "--out", tmp_path / "s.xlsx")
    assert code == 2
    assert_one_line_error(err, contains="unsupported file type")


def test_split_writes_a_seeded_random_holdout(run: Run, files: dict[str, Path],
                                              tmp_path: Path) -> None:
    source = tmp_path / "src.csv"
    raw = files["adult"].read_text().splitlines()
    header, rows = raw[0], raw[1:]
    rows[3] = "NA," + ",".join(rows[3].split(",")[1:])  # a token that must stay as written
    source.write_text("\n".join([header, *rows]) + "\n")

    def split(seed: str, train: str, hold: str, *extra: object) -> tuple[int, str, str]:
        return run("split", source, "--holdout", "0.25", "--seed", seed, "--out-train",
                   tmp_path / train, "--out-holdout", tmp_path / hold, *extra)

    code, out, err = split("5", "t.csv", "h.csv")
    assert code == 0, err
    assert "seed 5" in out and "about 25%" in out and str(len(rows)) not in out
    t = (tmp_path / "t.csv").read_text().splitlines()
    h = (tmp_path / "h.csv").read_text().splitlines()
    assert t[0] == h[0] == header
    assert len(h) - 1 == round(0.25 * len(rows)) and len(t) - 1 + len(h) - 1 == len(rows)
    assert sorted(t[1:] + h[1:]) == sorted(rows)  # a partition, every field as written
    assert [r for r in rows if r in set(t[1:])] == t[1:]  # order kept within a part
    # the same seed gives the same split; another seed another one
    assert split("5", "t2.csv", "h2.csv")[0] == 0
    assert (tmp_path / "h2.csv").read_bytes() == (tmp_path / "h.csv").read_bytes()
    assert split("6", "t3.csv", "h3.csv")[0] == 0
    assert (tmp_path / "h3.csv").read_bytes() != (tmp_path / "h.csv").read_bytes()
    # refusals: existing outputs, the input as an output, an empty part, a bad fraction
    code, _, err = split("5", "t.csv", "h9.csv")
    assert code == 2
    assert_one_line_error(err, contains="already exists")
    assert split("5", "t.csv", "h9.csv", "--overwrite")[0] == 0
    code, _, err = run("split", source, "--holdout", "0.2", "--out-train", source,
                       "--out-holdout", tmp_path / "x.csv", "--overwrite")
    assert code == 2
    assert_one_line_error(err, contains="is the input file")
    for bad in ("0", "1", "1.5", "nan"):
        code, _, err = run("split", source, "--holdout", bad, "--out-train",
                           tmp_path / "y.csv", "--out-holdout", tmp_path / "z.csv")
        assert code == 2
        assert_one_line_error(err, contains="fraction between 0 and 1")
    tiny = tmp_path / "tiny.csv"
    tiny.write_text(header + "\n" + rows[0] + "\n")
    code, _, err = run("split", tiny, "--holdout", "0.5", "--out-train", tmp_path / "y.csv",
                       "--out-holdout", tmp_path / "z.csv")
    assert code == 2
    assert_one_line_error(err, contains="leaves one part empty")
    assert not (tmp_path / "y.csv").exists() and not (tmp_path / "z.csv").exists()
    # without --seed a fresh seed is drawn and printed, so the split can be repeated
    code, out, _ = run("split", source, "--holdout", "0.25", "--out-train", tmp_path / "r.csv",
                       "--out-holdout", tmp_path / "rh.csv")
    assert code == 0
    drawn = out.split("seed ")[1].split(".")[0]
    assert split(drawn, "r2.csv", "rh2.csv")[0] == 0
    assert (tmp_path / "rh2.csv").read_bytes() == (tmp_path / "rh.csv").read_bytes()


def test_fit_dry_run_prints_the_charge_and_reads_no_data_row(
        run: Run, files: dict[str, Path], ledger: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    FileAccountant.open(ledger).spend(LaplaceEvent(0.25), label="earlier", release="r0")
    before = ledger.read_bytes()
    # a valid header, then rows no reader could parse: only the header may be read
    data = tmp_path / "data.csv"
    header = files["adult"].read_text().splitlines()[0]
    data.write_bytes(header.encode() + b"\n" + bytes(range(256)) * 50)
    _forbid_reading(monkeypatch)
    argv = ["fit", data, "--schema", files["adult_schema"], "--ledger", ledger,
            "--out", tmp_path / "m.json", "--release", "r1", "--dry-run"]
    code, out, err = run(*argv, "--epsilon", "0.5")
    assert code == 0, err
    assert "would charge  epsilon 0.5 to" in out and "as release 'r1'" in out
    assert "ledger now    epsilon 0.25 of 1 spent (remaining 0.75)" in out
    assert "after the fit epsilon at most 0.75 of 1 spent (remaining at least 0.25)" in out
    assert "give --rows N" in out
    assert ledger.read_bytes() == before and not (tmp_path / "m.json").exists()
    # a stated public row count adds the planner's prediction; more budget, smaller error
    tvd2 = []
    for eps in ("0.05", "0.7"):
        code, out, err = run(*argv, "--epsilon", eps, "--rows", "30000")
        assert code == 0, err
        line = next(x for x in out.splitlines() if x.lstrip().startswith("expected"))
        assert "30,000 rows stated" in line
        tvd2.append(float(line.split("tvd2 ")[1].split()[0]))
    assert tvd2[0] > tvd2[1] > 0
    code, _, err = run(*argv[:-1], "--epsilon", "0.5", "--rows", "100")  # --rows without a dry run
    assert code == 2 and "--rows only serves --dry-run" in err
    assert ledger.read_bytes() == before
    # what the real fit would refuse, the dry run refuses the same way
    code, _, err = run(*argv, "--epsilon", "0.9")
    assert code == 3
    assert_one_line_error(err, contains="refused")
    other = tmp_path / "other.csv"
    other.write_text("x,y\n1,2\n")
    code, _, err = run("fit", other, "--schema", files["adult_schema"], "--ledger", ledger,
                       "--out", tmp_path / "m.json", "--epsilon", "0.1", "--dry-run")
    assert code == 4
    assert_one_line_error(err, contains="header does not match the schema")
    code, _, err = run(*argv[:-3], "--release", "r0", "--dry-run", "--epsilon", "0.1")
    assert code == 2
    assert_one_line_error(err, contains="already recorded")
    assert ledger.read_bytes() == before


def test_demo_runs_again_in_the_same_folder(run: Run, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    argv = ("demo", "--out", out, "--rows", "50", "--train-rows", "500", "--no-attacks",
            "--epsilon", "0.3")
    assert run(*argv)[0] == 0
    code, _, err = run(*argv)
    assert code == 0, err
    acct = read_ledger(out / "ledger.json")
    assert acct.spent().epsilon == pytest.approx(0.3)  # a fresh demo ledger, one release


def test_sample_writes_each_column_in_its_own_missing_token(run: Run, tmp_path: Path) -> None:
    # ACS-like: "N" is a category of one column and the missing token of a numeric one
    schema = Schema.from_dict({"columns": [
        {"name": "status", "kind": "categorical", "categories": ["N", "A"]},
        {"name": "income", "kind": "integer", "lower": 0, "upper": 100, "nullable": True,
         "missing_values": ["N"]},
        {"name": "note", "kind": "categorical", "categories": ["x", "y"], "nullable": True},
    ]})
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({"status": rng.choice(["N", "A"], n),
                       "income": pd.array(np.where(rng.random(n) < 0.3, None,
                                                   rng.integers(0, 100, n)), dtype="Int64"),
                       "note": np.where(rng.random(n) < 0.3, None, rng.choice(["x", "y"], n))})
    model_path = tmp_path / "m.json"
    PrivBayes().fit(df, schema=schema, epsilon=5.0).save(model_path)
    out = tmp_path / "s.csv"
    code, _, err = run("sample", model_path, "-n", "60", "--seed", "1", "--where", "income=",
                       "--schema-tokens", "--na-rep", "NA", "--out", out)
    assert code == 0, err
    text = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert (text["income"] == "N").all()  # the column's own token
    assert set(text["status"]) <= {"N", "A"}  # "N" stays a category where it is one
    assert set(text["note"]) <= {"x", "y", "NA"}
    # read back with the source's conventions, the file gives the sampled table
    back = privsynth.read_table(out, schema=schema, missing_values=("NA",))
    sampled = PrivBayes.load(model_path).sample(60, random_state=1,
                                               conditions={"income": None})
    def cells(frame: pd.DataFrame) -> list[list[object]]:  # missing as None, whatever kind
        return frame.astype(object).where(frame.notna(), None).to_numpy().tolist()

    assert cells(back) == cells(sampled)


def test_audit_sign_off_metadata_from_options_and_the_ledger(
        run: Run, files: dict[str, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = tmp_path / "named.ledger.json"
    FileAccountant.init(ledger, epsilon=1.0, dataset=DatasetInfo(
        name="adult-2026", owner="Statistics Office", approved_by="Data Protection Officer"))
    base = ["audit", "--real", files["adult"], "--synthetic", files["holdout"], "--schema",
            files["adult_schema"], "--ledger", ledger, "--no-attacks"]
    code, _, err = run(*base, "--out", tmp_path / "r.html", "--json", tmp_path / "r.json",
                       "--purpose", "Teaching statistics", "--audience", "Students",
                       "--approver", "J. Doe", "--dataset", "adult-2026")
    assert code == 0, err
    so = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["sign_off"]
    assert (so["purpose"], so["audience"]) == ("Teaching statistics", "Students")
    # given on the command line, or else read from the ledger's data-set header
    assert (so["approver"], so["controller"]) == ("J. Doe", "Statistics Office")
    assert so["dataset"]["name"] == "adult-2026"
    assert so["sources"]["approver"] == "audit" and so["sources"]["controller"] == "ledger"
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Teaching statistics" in html and "J. Doe" in html
    # the metadata is public: the public edition shows it too
    code, _, err = run(*base, "--public", "--out", tmp_path / "p.html", "--json",
                       tmp_path / "p.json", "--purpose", "Teaching statistics")
    assert code == 0, err
    public = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))["sign_off"]
    assert public["purpose"] == "Teaching statistics" and public["audience"] is None
    assert public["approver"] == "Data Protection Officer"

    # a data set name that is not the ledger's is refused before any table is read
    _forbid_reading(monkeypatch)
    code, _, err = run(*base, "--out", tmp_path / "x.html", "--dataset", "penguins")
    assert code == 2
    assert_one_line_error(err, contains="belongs to data set 'adult-2026'")
    code, _, err = run(*base, "--out", tmp_path / "x.html", "--purpose", "  ")
    assert code == 2
    assert_one_line_error(err, contains="must not be empty")
    assert not (tmp_path / "x.html").exists()


def test_budget_init_states_that_delta_is_permanent(run: Run, tmp_path: Path) -> None:
    code, out, _ = run("budget", "init", tmp_path / "pure.json", "--epsilon", "1")
    assert code == 0 and "delta 0 is permanent" in out and "--delta 1e-9" in out
    code, out, _ = run("budget", "init", tmp_path / "approx.json", "--epsilon", "1",
                       "--delta", "1e-9")
    assert code == 0 and "delta 1e-09 is permanent" in out
    assert read_ledger(tmp_path / "approx.json").delta == pytest.approx(1e-9)


@pytest.mark.parametrize("argv", [["budget", "show", "\x00"], ["fit", "--data", "a\x00b"]])
def test_a_nul_character_in_an_argument_is_a_usage_error(run: Run, argv: list[str]) -> None:
    """Found by the hostile-arguments fuzz test: open() raised ValueError (internal error)."""
    code, _, err = run(*argv)
    assert code == 2 and "NUL character" in err and "internal error" not in err

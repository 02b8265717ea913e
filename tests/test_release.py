"""Release folders: ``manifest.json`` written by fit/sample/demo, and ``privsynth verify``.

A folder that verifies is copied and then broken in one way per test (a byte
of the model, a removed ledger entry, an older ledger copy, a stated epsilon
edited down, a missing file...); each must fail with the exit code and the
reason that names what broke. The recomputation module must import nothing
from privsynth, and agree with the tests' own independent accounting.
"""

from __future__ import annotations

import ast
import hashlib
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import privsynth
from privsynth import cli
from privsynth.accounting import (
    Accountant,
    GaussianEvent,
    LaplaceEvent,
    SubsampledGaussianEvent,
)
from privsynth.accounting.persistent import read_ledger
from privsynth.datasets import adult_schema, load_adult
from privsynth.errors import InsecureNoiseWarning, ModelFileError
from privsynth.release import independent, read_manifest, verify_release, write_manifest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks")

Run = Callable[..., tuple[int, str, str]]




@pytest.fixture(scope="module")
def release_dir(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A release folder made by the CLI: ledger, two fits (r1 then r2), a sample of r1.

    Also keeps ``old-ledger.json``: the ledger copied after r1 (a backup).
    """
    base = tmp_path_factory.mktemp("release")
    data = base / "adult.csv"
    load_adult().iloc[:600].to_csv(data, index=False)
    schema = base / "adult.schema.json"
    adult_schema().to_json(schema)
    rel = base / "rel"
    rel.mkdir()
    ledger = rel / "ledger.json"

    def main(*argv: object) -> None:
        assert cli.main(["-q", *(str(a) for a in argv)]) == 0

    main("budget", "init", ledger, "--epsilon", 3)
    main("fit", data, "--schema", schema, "--epsilon", 1, "--ledger", ledger,
         "--out", rel / "model.json", "--release", "r1", "--param", "degree=1")
    shutil.copy(ledger, base / "old-ledger.json")
    main("sample", rel / "model.json", "--out", rel / "synthetic.csv", "--seed", 7)
    main("fit", data, "--schema", schema, "--epsilon", 0.5, "--ledger", ledger,
         "--out", rel / "model2.json", "--release", "r2", "--param", "degree=1")
    return {"base": base, "rel": rel, "ledger": ledger, "old": base / "old-ledger.json",
            "data": data, "schema": schema}


@pytest.fixture
def folder(release_dir: dict[str, Path], tmp_path: Path) -> Path:
    """A fresh copy of the release folder for one test to break."""
    dst = tmp_path / "copy"
    shutil.copytree(release_dir["rel"], dst)
    return dst


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc, indent=2))


def reasons(v: privsynth.release.Verification) -> str:
    return "\n".join(c.line() for c in v.failures)


# ---------------------------------------------------------------------------
# what the commands write
# ---------------------------------------------------------------------------
def test_fit_and_sample_write_a_manifest_that_states_the_release(
        release_dir: dict[str, Path]) -> None:
    rel = release_dir["rel"]
    doc = read_manifest(rel)
    names = {f["name"]: f for f in doc["files"]}
    assert set(names) == {"model.json", "synthetic.csv", "model2.json"}
    for name, f in names.items():
        assert f["sha256"] == hashlib.sha256((rel / name).read_bytes()).hexdigest()
    synth = names["synthetic.csv"]
    assert synth["role"] == "synthetic" and synth["release"] == "r1" and synth["seed"] == 7
    assert synth["rows"] == len((rel / "synthetic.csv").read_text().splitlines()) - 1
    releases = {r["release"]: r for r in doc["releases"]}
    assert releases["r1"]["epsilon"] == 1.0 and releases["r2"]["epsilon"] == 0.5
    model = privsynth.load_model(rel / "model.json")
    assert releases["r1"]["entries"] == [e.id for e in model.record_.entries]
    acct = read_ledger(release_dir["ledger"])
    assert doc["ledger"]["head"] == acct.head and doc["ledger"]["genesis"] == acct.genesis
    assert doc["ledger"]["file"] == "ledger.json"
    assert doc["ledger"]["total"]["epsilon"] == pytest.approx(1.5)
    assert doc["ledger"]["budget"] == {"epsilon": 3.0, "delta": 0.0}


def test_a_good_folder_verifies(release_dir: dict[str, Path], run: Run) -> None:
    v = verify_release(release_dir["rel"])
    assert v.passed and v.exit_code == 0, "\n".join(v.lines())
    assert not v.failures
    code, out, _ = run("verify", release_dir["rel"])
    assert code == 0
    assert "VERIFIED: all" in out and "NOT VERIFIED" not in out
    assert "release r1: stated own epsilon 1" in out
    assert "data set: stated total epsilon 1.5" in out


# ---------------------------------------------------------------------------
# what breaks it, and the reason given
# ---------------------------------------------------------------------------
def flip_byte(path: Path, at: int = 200) -> None:
    raw = bytearray(path.read_bytes())
    raw[at] = ord("x") if raw[at] != ord("x") else ord("y")
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("name", ["model.json", "synthetic.csv"])
def test_a_changed_file_fails_with_exit_5(folder: Path, name: str, run: Run) -> None:
    flip_byte(folder / name)
    v = verify_release(folder)
    assert v.exit_code == 5
    assert f"file {name}: changed since the release" in reasons(v)
    code, out, _ = run("verify", folder)
    assert code == 5 and f"FAIL  file {name}" in out and "NOT VERIFIED" in out


def test_a_missing_file_fails_with_exit_5(folder: Path) -> None:
    (folder / "synthetic.csv").unlink()
    v = verify_release(folder)
    assert v.exit_code == 5 and "file synthetic.csv: missing" in reasons(v)


def test_a_ledger_with_a_removed_entry_fails_with_exit_6(folder: Path) -> None:
    edit_json(folder / "ledger.json", lambda d: d["entries"].pop(3))
    v = verify_release(folder)
    assert v.exit_code == 6
    assert "entry 4 does not follow entry 3 (an entry was removed" in reasons(v)


def test_a_rechained_ledger_without_the_last_release_fails(folder: Path) -> None:
    """A forger who drops release r2 and recomputes the chain's head: the manifest's head
    is gone, and r2's entries are not in it."""
    def drop_r2(doc: dict) -> None:
        doc["entries"] = [e for e in doc["entries"] if e["release"] != "r2"]
        doc["head"] = doc["entries"][-1]["id"]

    edit_json(folder / "ledger.json", drop_r2)
    v = verify_release(folder)
    assert v.exit_code == 6
    assert "does not hold the head" in reasons(v) and "older copy" in reasons(v)


def test_an_older_copy_of_the_ledger_fails(release_dir: dict[str, Path], folder: Path,
                                           run: Run) -> None:
    code, out, _ = run("verify", folder, "--ledger", release_dir["old"])
    assert code == 6
    assert "does not hold the head" in out


def test_a_later_ledger_still_verifies_the_earlier_state(folder: Path, tmp_path: Path,
                                                          release_dir: dict[str, Path]) -> None:
    """Releases made after the manifest do not break it: its total is checked at its head."""
    later = tmp_path / "later.json"
    acct = Accountant.from_json(release_dir["ledger"])
    acct.spend(LaplaceEvent(0.25), label="a later count", release="r3", release_delta=0.0)
    acct.to_json(later)
    v = verify_release(folder, ledger=later)
    assert v.passed, "\n".join(v.lines())
    notes = [c.message for c in v.checks if c.status == "note"]
    assert any("1 entries were added since" in n for n in notes)
    assert any("epsilon 1.75" in n for n in notes)


def test_a_stated_epsilon_edited_down_fails_with_exit_7(folder: Path) -> None:
    def lower(doc: dict) -> None:
        doc["releases"][0]["epsilon"] = 0.5

    edit_json(folder / "manifest.json", lower)
    v = verify_release(folder)
    assert v.exit_code == 7
    assert "the model states epsilon 1.0" in reasons(v)
    assert "stated own epsilon 0.5 (delta 0) is below the 1 recomputed" in reasons(v)


def test_a_stated_total_edited_down_fails_with_exit_7(folder: Path) -> None:
    edit_json(folder / "manifest.json", lambda d: d["ledger"]["total"].update(epsilon=1.0))
    v = verify_release(folder)
    assert v.exit_code == 7
    assert "stated total epsilon 1.0 is below the 1.5 recomputed" in reasons(v)


def test_a_forged_model_record_is_caught_by_recomputation(folder: Path) -> None:
    """The model's epsilon edited down, its own checksum and the manifest's hashes redone:
    the stated numbers are still checked against the events, by load and by verify."""
    path = folder / "model.json"
    _rewrite_model(folder, "model.json", lambda p: p["record"].update(epsilon=0.25))
    _rehash(folder, lambda m: m["releases"][0].update(epsilon=0.25))
    # the forgery passes the model file's own checksum, not the check of its entries
    with pytest.raises(ModelFileError, match=r"states epsilon 0\.25, below the 1 its ledger"):
        privsynth.load_model(path)
    v = verify_release(folder)
    assert v.exit_code == 7
    assert "stated own epsilon 0.25 (delta 0) is below the 1 recomputed" in reasons(v)


def test_a_forged_dp_sgd_event_of_too_many_steps_is_refused_quickly(folder: Path) -> None:
    """Review r2: a model file whose record holds one subsampled Gaussian event of 10^12
    steps (ids and checksums redone) made load and verify run for hours in dp-accounting;
    steps above the public cap are now refused by both readers within seconds."""
    import time

    path = folder / "model.json"
    forged: dict = {}

    def one_huge_event(p: dict) -> None:
        rec = p["record"]
        forged.update(rec["entries"][0])
        forged["event"] = {"kind": "subsampled_gaussian", "sampling_rate": 0.5,
                           "noise_multiplier": 1e6, "steps": 10**12}
        forged["release_delta"] = rec["delta"] = 1e-6
        forged["id"] = independent.entry_id(forged)
        rec["entries"] = [forged]

    _rewrite_model(folder, "model.json", one_huge_event)
    _rehash(folder, lambda m: m["releases"][0].update(delta=1e-6, entries=[forged["id"]]))
    start = time.monotonic()
    with pytest.raises(ModelFileError, match="steps = 1000000000000 is above 10,000,000"):
        privsynth.load_model(path)
    v = verify_release(folder)
    assert time.monotonic() - start < 10
    assert v.exit_code != 0 and "above 10,000,000" in reasons(v)
    with pytest.raises(independent.RecomputeError, match="steps is above 10,000,000"):
        independent.read_event(forged["event"])


def test_an_edited_entry_in_the_model_fails(folder: Path) -> None:
    path = folder / "model.json"
    doc = json.loads(path.read_text())
    doc["payload"]["record"]["entries"][0]["event"]["epsilon"] /= 2
    path.write_text(json.dumps(doc))
    edit_json(folder / "manifest.json", lambda m: [
        f.update(sha256=hashlib.sha256((folder / f["name"]).read_bytes()).hexdigest())
        for f in m["files"]])
    v = verify_release(folder)
    assert v.exit_code == 6 and "entry 1 does not match its id" in reasons(v)


def test_a_model_whose_entry_was_edited_under_its_id_is_refused_on_load(folder: Path) -> None:
    """An entry's epsilon halved and the model file's own checksum redone: the entry's id
    (which links the model to the ledger) no longer matches it, so load refuses."""
    path = folder / "model.json"
    doc = json.loads(path.read_text())
    doc["payload"]["record"]["entries"][0]["event"]["epsilon"] /= 2
    canon = json.dumps(doc["payload"], sort_keys=True, separators=(",", ":"))
    doc["sha256"] = hashlib.sha256(canon.encode()).hexdigest()
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match=r"entry 1 .* does not match its id"):
        privsynth.load_model(path)


def test_a_pure_release_stating_slightly_less_fails(folder: Path) -> None:
    """0.04 % below the exact sum of pure events: beyond float rounding, so not proven
    (the PLD tolerance of 1e-3 is for composed PLD/RDP bounds only)."""
    def lower(doc: dict) -> None:
        doc["releases"][0]["epsilon"] = 0.9996

    edit_json(folder / "manifest.json", lower)
    v = verify_release(folder)
    assert v.exit_code == 7
    assert "stated own epsilon 0.9996 (delta 0) is below the 1 recomputed" in reasons(v)


def test_a_sample_written_elsewhere_states_its_release(release_dir: dict[str, Path],
                                                      tmp_path: Path, run: Run) -> None:
    """`sample` into a folder without the model: the manifest lists the synthetic file and
    the model's release (its entries and own guarantee), checked against the ledger."""
    out = tmp_path / "published"
    out.mkdir()
    code, _, err = run("sample", release_dir["rel"] / "model2.json", "--out",
                       out / "synthetic.csv")
    assert code == 0, err
    doc = read_manifest(out)
    assert [f["name"] for f in doc["files"]] == ["synthetic.csv"]
    assert doc["files"][0]["seed"] is None and doc["releases"][0]["release"] == "r2"
    assert doc["ledger"]["total"] is None and doc["ledger"]["genesis"] is None
    v = verify_release(out, ledger=release_dir["ledger"])
    assert v.passed, "\n".join(v.lines())
    assert "release r2: stated own epsilon 0.5" in "\n".join(v.lines())
    assert verify_release(out, ledger=release_dir["old"]).exit_code == 6  # before r2 existed


def test_without_a_ledger_nothing_fails_but_it_is_not_verified(folder: Path,
                                                                 release_dir: dict[str, Path],
                                                                 run: Run) -> None:
    (folder / "ledger.json").unlink()
    v = verify_release(folder)
    assert v.exit_code == 6 and "missing or not JSON" in reasons(v)
    edit_json(folder / "manifest.json", lambda m: m["ledger"].update(file=None))
    v = verify_release(folder)
    assert v.exit_code == 8 and not v.failures and not v.passed
    assert "give the ledger with --ledger" in "\n".join(v.lines())
    code, out, _ = run("verify", folder, "--ledger", release_dir["ledger"])
    assert code == 0, out


def test_no_manifest_is_exit_4_and_bad_arguments_are_usage_errors(tmp_path: Path,
                                                                   run: Run) -> None:
    code, out, _ = run("verify", tmp_path)
    assert code == 4 and "manifest.json" in out and "is missing" in out
    (tmp_path / "manifest.json").write_text("{not json")
    assert verify_release(tmp_path).exit_code == 4
    code, _, err = run("verify", tmp_path / "nowhere")
    assert code == 2 and "not a folder" in err
    code, _, err = run("verify", tmp_path, "--ledger", tmp_path / "none.json")
    assert code == 2 and "no such file" in err


def test_seeded_test_noise_is_never_verified(tmp_path: Path) -> None:
    acct = Accountant(2.0)
    df = load_adult().head(300)
    with pytest.warns(InsecureNoiseWarning):
        noise = privsynth.Noise.insecure_for_tests(1)
    m = privsynth.PrivBayes(degree=1).fit(df, schema=adult_schema(), epsilon=0.5,
                                          accountant=acct, release="t", noise=noise)
    m.save(tmp_path / "m.json")
    acct.to_json(tmp_path / "ledger.json")
    write_manifest(tmp_path, model=m, model_file=tmp_path / "m.json", accountant=acct,
                   ledger_file=tmp_path / "ledger.json")
    assert read_manifest(tmp_path)["ledger"]["file"] == "ledger.json"
    v = verify_release(tmp_path)
    assert v.exit_code == 7 and "NOT private" in reasons(v)


# ---------------------------------------------------------------------------
# writing manifests
# ---------------------------------------------------------------------------
def test_fit_refuses_an_unreadable_manifest_before_spending(release_dir: dict[str, Path],
                                                            tmp_path: Path, run: Run) -> None:
    ledger = tmp_path / "ledger.json"
    assert run("budget", "init", ledger, "--epsilon", 1)[0] == 0
    (tmp_path / "manifest.json").write_text("not a manifest")
    code, _, err = run("fit", release_dir["data"], "--schema", release_dir["schema"],
                       "--epsilon", 0.5, "--ledger", ledger, "--out", tmp_path / "m.json")
    assert code == 4 and "not a readable privsynth manifest" in err
    assert len(read_ledger(ledger).ledger) == 0
    assert not (tmp_path / "m.json").exists()


def test_write_manifest_lists_only_files_of_its_folder(tmp_path: Path) -> None:
    inside, outside = tmp_path / "rel", tmp_path / "other.txt"
    inside.mkdir()
    outside.write_text("x")
    with pytest.raises(privsynth.ParameterError, match="not inside the release folder"):
        write_manifest(inside, files=[outside])
    with pytest.raises(privsynth.ParameterError, match="does not exist"):
        write_manifest(tmp_path / "absent")


def test_a_manifest_entry_pointing_outside_the_folder_is_refused(folder: Path) -> None:
    edit_json(folder / "manifest.json",
              lambda m: m["files"].append({"name": "../secret.csv", "sha256": "0" * 64}))
    v = verify_release(folder)
    assert v.exit_code == 5 and "malformed ('../secret.csv')" in reasons(v)


# ---------------------------------------------------------------------------
# the recomputation is independent, and agrees with the tests' own
# ---------------------------------------------------------------------------
def test_the_recomputation_imports_nothing_from_privsynth() -> None:
    tree = ast.parse(Path(independent.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported and not any(m.split(".")[0] == "privsynth" for m in imported), imported


def test_recomputed_totals_agree_with_the_tests_independent_accounting(
        independent_accounting: object) -> None:
    acct = Accountant(10.0, 1e-5)
    acct.spend(LaplaceEvent(0.3), label="count", release="a", release_delta=0.0)
    acct.spend(GaussianEvent(sigma=4.0), label="sum", release="b", release_delta=1e-6)
    acct.spend(GaussianEvent(sigma=6.0), label="sum2", release="b", release_delta=1e-6)
    acct.spend(LaplaceEvent(0.2), label="loose")
    acct.spend(SubsampledGaussianEvent(sampling_rate=0.02, noise_multiplier=1.5, steps=200),
               label="dp-sgd", release="c", release_delta=1e-6)
    doc = acct.to_dict()
    mine = independent.ledger_epsilon(doc["entries"], doc["budget"]["delta"])
    theirs = independent_accounting.ledger_total(doc)  # type: ignore[attr-defined]
    assert mine == pytest.approx(theirs, rel=2e-3)
    assert independent.confirms(acct.spent().epsilon, mine)
    events = [e["event"] for e in doc["entries"] if e["release"] == "b"]
    assert independent.release_epsilon(events, 1e-6) == pytest.approx(
        independent_accounting.release_epsilon(events, 1e-6), rel=2e-3)  # type: ignore[attr-defined]
    assert independent.chain_problems(doc) == []


def test_the_demo_folder_verifies(run: Run, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    code, stdout, _ = run("demo", "--train-rows", 400, "--no-attacks", "--out", out,
                          "--seed", 3)
    assert code == 0 and "manifest.json" in stdout
    doc = read_manifest(out)
    assert {f["name"] for f in doc["files"]} == {
        "model.privbayes.json", "synthetic.csv", "schema.json", "audit-public.html",
        "audit-public.json"}
    # the report in the release folder is the public edition; the steward's is outside it
    assert json.loads((out / "audit-public.json").read_text("utf-8"))["edition"] == "public"
    assert not list(out.glob("*steward*"))
    steward = json.loads((tmp_path / "demo-steward" / "audit-steward.json").read_text("utf-8"))
    assert steward["edition"] == "steward" and steward["utility"]["included"] is True
    assert doc["ledger"]["file"] == "ledger.json"
    code, stdout, _ = run("verify", out)
    assert code == 0, stdout


# ---------------------------------------------------------------------------
# a schema read from the data without DP (rule 2): never stated as end-to-end DP
# ---------------------------------------------------------------------------
def test_a_fit_on_a_schema_read_from_the_data_is_never_verified(tmp_path: Path) -> None:
    from privsynth.errors import PrivacyWarning

    df = load_adult().head(400)[["age", "sex", "income"]]
    with pytest.warns(PrivacyWarning):
        unsafe = privsynth.infer_unsafe(df)
    acct = Accountant(2.0)
    with pytest.warns(PrivacyWarning, match="not end-to-end"):
        m = privsynth.PrivBayes(degree=1).fit(df, schema=unsafe, epsilon=0.5, accountant=acct,
                                              release="u")
    assert any("NOT end-to-end" in h for h in m.record_.hazards)
    m.save(tmp_path / "m.json")
    acct.to_json(tmp_path / "ledger.json")
    write_manifest(tmp_path, model=m, model_file=tmp_path / "m.json", accountant=acct,
                   ledger_file=tmp_path / "ledger.json")
    assert read_manifest(tmp_path)["releases"][0]["end_to_end_dp"] is False
    v = verify_release(tmp_path)
    assert v.exit_code == 7 and "not end-to-end DP" in reasons(v)
    # the same data on the public schema: no hazard, stated end to end, verified
    m2 = privsynth.PrivBayes(degree=1).fit(df, schema=adult_schema().select(list(df.columns)),
                                           epsilon=0.5, accountant=Accountant(2.0))
    assert not m2.record_.hazards and m2.record_.to_dict()["hazards"] == []


def test_related_tables_on_a_schema_read_from_the_data_carry_the_hazard(
        linked_numbers: Callable[..., tuple[dict[str, object], dict[str, object]]]) -> None:
    from privsynth.errors import PrivacyWarning
    from privsynth.release.verify import _schemas_not_dp
    from privsynth.schema import Schema

    tables, schemas = linked_numbers(300, 1)
    planes = schemas["planes"].to_dict()
    schemas = {**schemas, "planes": Schema.from_dict({**planes, "source": "data (not DP)"})}
    with pytest.warns(PrivacyWarning, match="not end-to-end"):
        m = privsynth.PrivBayes(degree=1).fit_tables(
            tables, schemas=schemas, relations=[privsynth.Relation(
                parent="planes", child="flights", key="tailnum")],
            epsilon=1.0, max_children=8)
    for record in (m.record_, m.parent_model_.record_, m.child_model_.record_):
        assert any("NOT end-to-end" in h for h in record.hazards)
    payload = {"schemas": {k: s.to_dict() for k, s in schemas.items()},
               "parent": {"schema": m.parent_model_.schema_.to_dict()},
               "child": {"schema": m.child_model_.schema_.to_dict()}}
    assert _schemas_not_dp(payload) == ["table planes: source 'data (not DP)'",
                                        "parent model: source 'data (not DP)'",
                                        "child model: source 'data (not DP)'"]


# ---------------------------------------------------------------------------
# claims the ledger never recorded (review r2): each is refused by verify
# ---------------------------------------------------------------------------
def _rewrite_model(folder: Path, name: str, change: Callable[[dict], None]) -> None:
    """Edit a model file's payload, redo its own checksum and the manifest's hashes."""
    path = folder / name
    doc = json.loads(path.read_text())
    change(doc["payload"])
    canon = json.dumps(doc["payload"], sort_keys=True, separators=(",", ":"))
    doc["sha256"] = hashlib.sha256(canon.encode()).hexdigest()
    path.write_text(json.dumps(doc))


def _rehash(folder: Path, change: Callable[[dict], None] = lambda m: None) -> None:
    def redo(m: dict) -> None:
        change(m)
        for f in m["files"]:
            f["sha256"] = hashlib.sha256((folder / f["name"]).read_bytes()).hexdigest()

    edit_json(folder / "manifest.json", redo)


def test_a_release_id_stated_twice_fails(folder: Path) -> None:
    def twice(m: dict) -> None:
        m["releases"].insert(0, {**m["releases"][0], "epsilon": 0.01})

    edit_json(folder / "manifest.json", twice)
    v = verify_release(folder)
    assert v.exit_code == 6 and "stated more than once" in reasons(v)


def test_a_release_with_no_entries_fails(folder: Path) -> None:
    shutil.copy(folder / "model2.json", folder / "model3.json")

    def empty(p: dict) -> None:
        p["record"].update(entries=[], epsilon=0.001, release="r3")

    _rewrite_model(folder, "model3.json", empty)
    _rehash(folder, lambda m: (m["files"].append({"name": "model3.json", "role": "model",
                                                   "release": "r3", "sha256": ""}),
                               m["releases"].append({**m["releases"][1], "release": "r3",
                                                     "entries": [], "epsilon": 0.001})))
    v = verify_release(folder)
    assert v.exit_code == 6 and "lists no ledger entries" in reasons(v)


def test_another_releases_entry_under_a_new_id_fails(folder: Path) -> None:
    """r1's model renamed r3, keeping one of its entries (a cheap one) and stating its
    epsilon: the entry's own release field (under its hash) still says r1."""
    kept: list[str] = []

    def one_entry(p: dict) -> None:
        p["record"]["entries"] = p["record"]["entries"][:1]
        kept.append(p["record"]["entries"][0]["id"])
        p["record"].update(release="r3", epsilon=0.01)

    _rewrite_model(folder, "model.json", one_entry)

    def restate(m: dict) -> None:
        m["releases"][0].update(release="r3", entries=kept, epsilon=0.01)
        for f in m["files"]:
            if f.get("release") == "r1":
                f["release"] = "r3"

    _rehash(folder, restate)
    v = verify_release(folder)
    assert v.exit_code in (6, 7) and "an entry of another release ('r1')" in reasons(v)


def test_a_delta_other_than_the_recorded_one_fails(folder: Path) -> None:
    def restate(m: dict) -> None:
        m["releases"][1]["delta"] = 1e-3

    _rewrite_model(folder, "model2.json", lambda p: p["record"].update(delta=1e-3))
    _rehash(folder, restate)
    v = verify_release(folder)
    assert "charged for delta 0.0; the release states delta 0.001" in reasons(v)


def test_a_model_listed_under_another_role_is_still_checked(folder: Path) -> None:
    """A truncated model (one entry, epsilon 0.01) relisted as a plain file: it can still
    be loaded, so verify checks its claim."""
    def truncate(p: dict) -> None:
        p["record"]["entries"] = p["record"]["entries"][:1]
        p["record"]["epsilon"] = 0.01

    _rewrite_model(folder, "model.json", truncate)

    def relist(m: dict) -> None:
        for f in m["files"]:
            if f["name"] == "model.json":
                f["role"] = "file"

    _rehash(folder, relist)
    v = verify_release(folder)
    assert not v.passed and "model model.json" in reasons(v)


def test_a_model_without_a_ledger_refuses_dropped_entries_on_load(tmp_path: Path) -> None:
    m = privsynth.PrivBayes(degree=1).fit(load_adult().head(300), schema=adult_schema(),
                                          epsilon=0.5)
    m.save(tmp_path / "m.json")
    doc = json.loads((tmp_path / "m.json").read_text())
    rec = doc["payload"]["record"]
    assert rec["ledger"]["kind"] == "none"
    for cut in (rec["entries"][:-1], rec["entries"][:1] + rec["entries"][2:]):
        bad = json.loads(json.dumps(doc))
        bad["payload"]["record"].update(entries=cut, epsilon=0.01)
        canon = json.dumps(bad["payload"], sort_keys=True, separators=(",", ":"))
        bad["sha256"] = hashlib.sha256(canon.encode()).hexdigest()
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        with pytest.raises(ModelFileError, match="not the whole chain"):
            privsynth.load_model(tmp_path / "bad.json")
    assert privsynth.load_model(tmp_path / "m.json").epsilon_ == 0.5


def test_a_model_under_another_name_and_role_is_still_checked(folder: Path) -> None:
    def truncate(p: dict) -> None:
        p["record"]["entries"] = p["record"]["entries"][:1]
        p["record"]["epsilon"] = 0.01

    _rewrite_model(folder, "model.json", truncate)
    (folder / "model.json").rename(folder / "model.txt")

    def relist(m: dict) -> None:
        for f in m["files"]:
            if f["name"] == "model.json":
                f.update(name="model.txt", role="file")

    _rehash(folder, relist)
    v = verify_release(folder)
    assert not v.passed and "model model.txt" in reasons(v)


def test_a_part_of_a_related_tables_release_saved_alone_loads(
        linked_numbers: Callable[..., tuple[dict[str, object], dict[str, object]]],
        tmp_path: Path) -> None:
    tables, schemas = linked_numbers(300, 2)
    m = privsynth.PrivBayes(degree=1).fit_tables(
        tables, schemas=schemas, relations=[privsynth.Relation(
            parent="planes", child="flights", key="tailnum")], epsilon=1.0, max_children=8)
    for part in (m.parent_model_, m.child_model_):
        part.save(tmp_path / "part.json")
        assert privsynth.load_model(tmp_path / "part.json").epsilon_ == part.epsilon_
        (tmp_path / "part.json").unlink()

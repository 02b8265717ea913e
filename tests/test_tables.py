"""Parent/child tables (issue 22): ``PrivBayes().fit_tables`` and ``TablesModel``.

The privacy unit is one parent row with up to ``k`` children. Tests check key
integrity and fresh keys, the children's count domain, refusals before any
spend, the release's epsilon against the ledger, the model file, and (paired
runs) that adding one unit moves every count by at most the sensitivity the
ledger records. Data: the shipped nycflights13 fixture (60 planes, 450
flights) with ``tailnum`` declared an identifier.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import privsynth as ps
from privsynth import mechanisms
from privsynth.accounting import Accountant
from privsynth.accounting.persistent import FileAccountant
from privsynth.columns import IdColumn
from privsynth.errors import (
    BudgetExceededError,
    DataValidationError,
    InsecureNoiseWarning,
    LedgerError,
    ModelFileError,
    ParameterError,
    SchemaError,
)
from privsynth.mechanisms import Noise
from privsynth.schema import Schema

REL = ps.Relation(parent="planes", child="flights", key="tailnum")


def _with_id(schema: Schema, *, nullable: bool, prefix: str = "SYN-") -> Schema:
    cols = tuple(IdColumn("tailnum", nullable=nullable, prefix=prefix)
                 if c.name == "tailnum" else c for c in schema.columns)
    # declared public here: these tests check the tables' claims and files; a schema read
    # from the data (the fixtures' own source) fails verify by rule 2 (tests/test_release.py)
    return Schema(cols, source="public")


@pytest.fixture(scope="module")
def pf(planes_and_flights: tuple[pd.DataFrame, pd.DataFrame, Schema, Schema]
       ) -> dict[str, Any]:
    planes, flights, sp, sf = planes_and_flights
    return {"tables": {"planes": planes, "flights": flights},
            "schemas": {"planes": _with_id(sp, nullable=False),
                        "flights": _with_id(sf, nullable=True)}}


def _seeded(seed: int) -> Noise:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureNoiseWarning)
        return Noise.insecure_for_tests(seed)


def _fit(pf: dict[str, Any], **kw: Any) -> ps.TablesModel:
    opts: dict[str, Any] = {"epsilon": 2.0, "max_children": 10, **kw}
    return ps.PrivBayes().fit_tables(pf["tables"], schemas=pf["schemas"], relations=[REL],
                                     **opts)


@pytest.fixture(scope="module")
def model(pf: dict[str, Any]) -> ps.TablesModel:
    return _fit(pf)


# ------------------------------------------------------------------ sampling
def test_every_child_key_is_a_synthetic_parents_key_and_no_real_one(
        model: ps.TablesModel, pf: dict[str, Any]) -> None:
    out = model.sample_tables(300, random_state=1)
    planes, flights = out["planes"], out["flights"]
    assert list(planes.columns) == list(pf["schemas"]["planes"].names)
    assert list(flights.columns) == list(pf["schemas"]["flights"].names)
    assert len(planes) == 300 and planes["tailnum"].is_unique
    assert flights["tailnum"].isin(set(planes["tailnum"])).all()  # 100 % key integrity
    real = set(pf["tables"]["planes"]["tailnum"]) | set(
        pf["tables"]["flights"]["tailnum"].dropna())
    assert not (set(planes["tailnum"]) | set(flights["tailnum"])) & real
    assert planes["tailnum"].str.startswith("SYN-").all()
    per_parent = flights["tailnum"].value_counts()
    assert per_parent.max() <= 10  # n_children within 0..k
    assert len(flights) > 0
    # children have the child schema's domains
    assert ps.validate(flights, pf["schemas"]["flights"]) is not None


def test_default_sample_size_is_the_noisy_parent_count(model: ps.TablesModel) -> None:
    out = model.sample_tables(random_state=0)
    assert len(out["planes"]) == max(1, round(model.parent_model_.record_.noisy_rows or 0))


def test_child_columns_follow_their_parents_columns() -> None:
    """Children are drawn given their parent: a strong parent/child link survives."""
    rng = np.random.default_rng(3)
    n = 3000
    big = rng.random(n) < 0.5
    planes = pd.DataFrame({"tailnum": [f"N{i}" for i in range(n)], "big": big})
    reps = rng.integers(1, 6, n)
    flights = pd.DataFrame({"tailnum": np.repeat(planes["tailnum"], reps),
                            "long": np.repeat(big, reps)})
    schemas = {"planes": Schema.from_dict({"columns": [
                   {"name": "tailnum", "kind": "id"}, {"name": "big", "kind": "boolean"}]}),
               "flights": Schema.from_dict({"columns": [
                   {"name": "tailnum", "kind": "id"}, {"name": "long", "kind": "boolean"}]})}
    m = ps.PrivBayes(degree=1).fit_tables({"planes": planes, "flights": flights},
                                          schemas=schemas, relations=[REL], epsilon=2.0,
                                          max_children=5)
    out = m.sample_tables(2000, random_state=0)
    joined = out["flights"].merge(out["planes"], on="tailnum")
    agree = float((joined["long"].astype(bool) == joined["big"].astype(bool)).mean())
    assert agree > 0.9
    mean_children = len(out["flights"]) / len(out["planes"])
    assert abs(mean_children - reps.mean()) / reps.mean() < 0.2


@pytest.mark.parametrize("seed", [0, 1])
def test_a_numeric_parent_child_link_survives_with_the_defaults(
        seed: int, linked_numbers: Callable[..., Any]) -> None:
    """seats (parent) x distance (child) stays clearly correlated at epsilon 1.5 on 2,000
    planes. Before the child model's own level floors and one child row per unit, the
    child model measured independent marginals here (correlation 0): k-fold noise put
    the budget rule in independent mode, and the single-table floors (16 levels x 8)
    made every child x parent-column table exceed its cell cap."""
    tables, schemas = linked_numbers(2000, 7)
    real = tables["flights"].merge(tables["planes"], on="tailnum")
    assert real["seats"].corr(real["distance"]) > 0.85
    m = ps.PrivBayes().fit_tables(tables, schemas=schemas, relations=[REL], epsilon=1.5,
                                  max_children=8, noise=_seeded(seed))
    assert m.record_.description["max_child_rows"] == 1
    network = {e["child"]: e["parents"] for e in m.child_model_.describe()["network"]}
    assert network["distance"] == ["planes.seats"]
    out = m.sample_tables(1000, random_state=seed)
    joined = out["flights"].merge(out["planes"], on="tailnum")
    corr = joined["seats"].astype(float).corr(joined["distance"].astype(float))
    assert corr > 0.5


def test_save_load_gives_the_same_samples_and_record(model: ps.TablesModel,
                                                     tmp_path: Path) -> None:
    path = tmp_path / "tables.model.json"
    model.save(path)
    back = ps.TablesModel.load(path)
    assert back.record_ == model.record_
    a, b = model.sample_tables(50, random_state=7), back.sample_tables(50, random_state=7)
    for name in ("planes", "flights"):
        pd.testing.assert_frame_equal(a[name], b[name])


def test_the_model_file_holds_no_real_key(model: ps.TablesModel, pf: dict[str, Any],
                                          tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    model.save(path)
    text = path.read_text()
    real = set(pf["tables"]["planes"]["tailnum"])
    assert not [k for k in real if k in text]


def test_a_tampered_model_file_is_refused(model: ps.TablesModel, tmp_path: Path) -> None:
    from privsynth._modelfile import read_model, write_model

    path = tmp_path / "m.json"
    model.save(path)
    payload = read_model(path, "privbayes-tables")
    payload["child"]["record"]["entries"] = payload["child"]["record"]["entries"][:-1]
    write_model(path, "privbayes-tables", payload)
    with pytest.raises(ModelFileError, match="entries"):
        ps.TablesModel.load(path)
    with pytest.raises(ModelFileError, match="privbayes-tables"):
        ps.PrivBayes.load(path)



# ------------------------------------------------------------------ the parts' claims
def _tampered_release(model: ps.TablesModel, folder: Path,
                      change: Callable[[dict[str, Any]], None]) -> Path:
    """A release folder of ``model`` whose model file was edited by ``change``, hashes redone."""
    import hashlib

    from privsynth._modelfile import read_model, write_model
    from privsynth.release import write_manifest

    folder.mkdir()
    path = folder / "model.json"
    model.save(path)
    write_manifest(folder, model=model, model_file=path)
    payload = read_model(path, "privbayes-tables")
    change(payload)
    write_model(path, "privbayes-tables", payload)
    doc = json.loads((folder / "manifest.json").read_text("utf-8"))
    for f in doc["files"]:
        if f["name"] == "model.json":
            f["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")
    return path


def _understate_parts(payload: dict[str, Any]) -> None:
    for role in ("parent", "child"):
        payload[role]["record"]["epsilon"] = 0.01
    payload["record"]["description"]["epsilon_split"] = {"planes": 0.01, "flights": 0.01}


def _move_child_entries(payload: dict[str, Any]) -> None:
    parent, child = payload["parent"]["record"], payload["child"]["record"]
    parent["entries"] = parent["entries"] + child["entries"]
    child["entries"] = []
    child["unit"]["max_rows"] = 10


def _child_unit(payload: dict[str, Any]) -> None:
    payload["child"]["record"]["unit"]["max_rows"] = 10


def _shrink_part_events(payload: dict[str, Any]) -> None:
    """Every part event's epsilon divided by 100 under the whole's ids, the parts' claims
    and the split to match: only the entries themselves (not their ids) betray it."""
    for role in ("parent", "child"):
        record = payload[role]["record"]
        for entry in record["entries"]:
            entry["event"]["epsilon"] /= 100
        record["epsilon"] /= 100
    payload["record"]["description"]["epsilon_split"] = {
        "planes": payload["parent"]["record"]["epsilon"],
        "flights": payload["child"]["record"]["epsilon"]}


def _understate_parent_slightly(payload: dict[str, Any]) -> None:
    """The parent states 0.04 % less than its events sum to (0.4996 for 0.5)."""
    payload["parent"]["record"]["epsilon"] *= 1 - 4e-4
    payload["record"]["description"]["epsilon_split"]["planes"] = \
        payload["parent"]["record"]["epsilon"]


def test_an_untouched_tables_release_passes_every_part_check(model: ps.TablesModel,
                                                             tmp_path: Path) -> None:
    from privsynth.release import verify_release

    path = _tampered_release(model, tmp_path / "r", lambda p: None)
    assert ps.TablesModel.load(path).record_ == model.record_
    v = verify_release(tmp_path / "r")
    assert not v.failures, v.lines()  # no ledger (accountant=None): skipped, not failed
    assert sum(c.status == "ok" and "part" in c.subject for c in v.checks) == 2


@pytest.mark.parametrize(("change", "load_match", "code"), [
    (_understate_parts, "below the", 7),
    (_move_child_entries, "entries", 6),
    (_child_unit, "privacy units", 7),
    (_shrink_part_events, "entries", 6),
    (_understate_parent_slightly, "below the", 7),
], ids=["part-epsilon-understated", "entries-moved-between-parts", "child-unit-changed",
        "part-events-edited-ids-kept", "part-epsilon-understated-0.04pct"])
def test_a_tampered_part_is_refused_on_load_and_by_verify(
        model: ps.TablesModel, tmp_path: Path, change: Callable[[dict[str, Any]], None],
        load_match: str, code: int) -> None:
    from privsynth.release import verify_release

    path = _tampered_release(model, tmp_path / "r", change)
    with pytest.raises(ModelFileError, match=load_match):
        ps.TablesModel.load(path)
    v = verify_release(tmp_path / "r")
    assert v.exit_code == code, v.lines()
    assert all("part" in c.subject or "split" in c.message or "parts" in c.message
               for c in v.failures)


def test_an_edited_entry_of_the_whole_is_refused_on_load(model: ps.TablesModel,
                                                        tmp_path: Path) -> None:
    """Every event edited down everywhere (the whole and its parts) under the old ids: the
    ids no longer match the entries."""
    def shrink_all(payload: dict[str, Any]) -> None:
        _shrink_part_events(payload)
        for entry in payload["record"]["entries"]:
            entry["event"]["epsilon"] /= 100
        payload["record"]["epsilon"] /= 100

    path = _tampered_release(model, tmp_path / "r", shrink_all)
    with pytest.raises(ModelFileError, match="does not match its id"):
        ps.TablesModel.load(path)


def test_a_claim_within_rounding_is_not_printed_as_at_least(model: ps.TablesModel,
                                                            tmp_path: Path) -> None:
    """A part stating 1e-12 (relative) less than its pure events' exact sum passes as float
    rounding, and verify says so instead of printing '>='."""
    from privsynth.release import verify_release

    def round_down(payload: dict[str, Any]) -> None:
        payload["parent"]["record"]["epsilon"] *= 1 - 1e-12
        payload["record"]["description"]["epsilon_split"]["planes"] = \
            payload["parent"]["record"]["epsilon"]

    path = _tampered_release(model, tmp_path / "r", round_down)
    ps.TablesModel.load(path)
    v = verify_release(tmp_path / "r")
    assert not v.failures, v.lines()
    line = next(c.message for c in v.checks if c.subject.endswith("part 'planes'"))
    assert "within the accounting tolerance" in line and ">=" not in line


@pytest.mark.parametrize("requested", [0.3, 1.0, 1 / 3, 2.0, 1e-6])
def test_a_stated_epsilon_is_never_below_its_composition(requested: float) -> None:
    from privsynth.engines.record import stated_epsilon

    for composed in (requested, 0.1 + 0.2, math.nextafter(requested, math.inf),
                     math.nextafter(requested, 0.0), requested * (1 + 1e-10),
                     requested * (1 - 1e-10), requested / 3):
        stated = stated_epsilon(composed, requested)
        assert stated >= composed
        if composed <= requested:
            assert stated <= requested
    assert stated_epsilon(0.1 + 0.2, 0.3) == 0.1 + 0.2


def test_an_epsilon_1_fit_states_exactly_1(pf: dict[str, Any]) -> None:
    m = _fit(pf, epsilon=1.0)
    parts = [m.parent_model_.record_.epsilon, m.child_model_.record_.epsilon]
    assert m.record_.epsilon == 1.0
    assert m.record_.description["epsilon_split"] == {"planes": parts[0], "flights": parts[1]}
    assert sum(parts) == pytest.approx(1.0, rel=1e-12) and all(p < 1.0 for p in parts)
    # every stated epsilon is at least its events' sum
    for r in (m.record_, m.parent_model_.record_, m.child_model_.record_):
        assert r.epsilon >= math.fsum(e.event.epsilon for e in r.entries)


# ------------------------------------------------------------------ accounting
def test_one_release_whose_epsilon_is_the_sum_of_its_ledger_events(
        pf: dict[str, Any], tmp_path: Path) -> None:
    acct = FileAccountant.init(tmp_path / "ledger.json", 3.0, unit="tailnum")
    m = _fit(pf, accountant=acct, epsilon=1.5, release="planes-2026", max_child_rows=10)
    history = FileAccountant.open(acct.path).history
    assert {e.release for e in history} == {"planes-2026"}
    assert [e.id for e in history] == [e.id for e in m.record_.entries]
    total = math.fsum(e.event.epsilon for e in history)
    assert total == pytest.approx(m.record_.epsilon, rel=1e-9)
    assert m.record_.epsilon <= 1.5 + 1e-12
    assert FileAccountant.open(acct.path).spent().epsilon == pytest.approx(total)
    # the parts: the parent's events are sensitivity 1, the child's k' (= k here); labels
    # name the table
    parent = [e for e in history if e.label.startswith("planes/")]
    child = [e for e in history if e.label.startswith("flights/")]
    assert len(parent) + len(child) == len(history) and parent and child
    assert all(getattr(e.event, "sensitivity", 1) == 1 for e in parent)
    assert any(getattr(e.event, "sensitivity", 0) == 10 for e in child)
    split = m.record_.description["epsilon_split"]
    assert split["planes"] + split["flights"] == pytest.approx(m.record_.epsilon)
    assert m.record_.unit == ps.engines.PrivacyUnit("tailnum", 10)
    assert m.record_.ledger.kind == "file"


def test_an_independent_child_model_does_not_measure_its_parent_columns(
        pf: dict[str, Any]) -> None:
    """Independent marginals (degree 0): the parent's columns in the child table are fixed
    from the synthetic parent when sampling, so nothing is spent on their histograms."""
    m = ps.PrivBayes(degree=0).fit_tables(pf["tables"], schemas=pf["schemas"],
                                          relations=[REL], epsilon=1.0, max_children=10)
    parent_cols = {f"planes.{c}" for c in pf["schemas"]["planes"].names}
    assert parent_cols & set(m.child_model_.schema_.names)  # the child table holds them
    measured = {e.label.rsplit("/", 1)[-1] for e in m.record_.entries
                if e.label.startswith("flights/privbayes/marginal/")}
    own = set(pf["schemas"]["flights"].names) - {"tailnum"}
    assert measured and not measured & parent_cols, measured & parent_cols
    assert measured <= own
    out = m.sample_tables(20, random_state=0)
    assert len(out["planes"]) == 20 and set(out["flights"]["tailnum"]) <= set(
        out["planes"]["tailnum"])


def test_parent_share_sets_the_split(pf: dict[str, Any]) -> None:
    m = _fit(pf, epsilon=1.0, parent_share=0.25)
    assert m.record_.description["epsilon_split"]["planes"] == pytest.approx(0.25)
    with pytest.raises(ParameterError, match="parent_share"):
        _fit(pf, parent_share=1.0)


BAD: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("two relations", {"relations": [REL, ps.Relation("planes", "other", "tailnum")]},
     ParameterError, "exactly one relation"),
    ("unknown table", {"relations": [ps.Relation("planes", "trips", "tailnum")]},
     ParameterError, "no Schema for the table 'trips'"),
    ("key not an id", {"relations": [ps.Relation("planes", "flights", "year")]},
     SchemaError, "must be an identifier column"),
    ("k zero", {"max_children": 0}, ParameterError, "max_children"),
    ("k not int", {"max_children": 2.5}, ParameterError, "max_children"),
    ("k' above k", {"max_child_rows": 11}, ParameterError, "max_child_rows"),
    ("epsilon", {"epsilon": -1.0}, ParameterError, "epsilon"),
    ("overspend", {"epsilon": 5.0}, BudgetExceededError, "budget|exceed|remain"),
    ("target", {"engine": ps.PrivBayes(target="seats")}, ParameterError, "target"),
]


@pytest.mark.parametrize(("case", "change", "error", "match"), BAD, ids=[b[0] for b in BAD])
def test_bad_declarations_are_refused_before_anything_is_spent(
        pf: dict[str, Any], tmp_path: Path, case: str, change: dict[str, Any],
        error: type[Exception], match: str) -> None:
    acct = FileAccountant.init(tmp_path / "ledger.json", 2.0, unit="tailnum")
    before = acct.path.read_bytes()
    opts: dict[str, Any] = {"relations": [REL], "epsilon": 1.0, "max_children": 10,
                            "accountant": acct, **change}
    engine = opts.pop("engine", ps.PrivBayes())
    with pytest.raises(error, match=match):
        engine.fit_tables(pf["tables"], schemas=pf["schemas"], **opts)
    assert acct.path.read_bytes() == before


def test_a_ledger_of_another_unit_is_refused_before_spending(pf: dict[str, Any],
                                                             tmp_path: Path) -> None:
    acct = FileAccountant.init(tmp_path / "ledger.json", 2.0)  # one row
    before = acct.path.read_bytes()
    with pytest.raises(LedgerError, match="tailnum"):
        _fit(pf, accountant=acct, epsilon=1.0)
    assert acct.path.read_bytes() == before


def test_children_matching_no_parent_are_refused_before_spending(pf: dict[str, Any],
                                                                 tmp_path: Path) -> None:
    """A failure after the parent's spend would leave half a release charged (review)."""
    acct = FileAccountant.init(tmp_path / "ledger.json", 2.0, unit="tailnum")
    before = acct.path.read_bytes()
    orphans = pf["tables"]["flights"].assign(tailnum="N-NOT-A-PLANE")
    with pytest.raises(DataValidationError, match="Nothing was spent"):
        ps.PrivBayes().fit_tables({"planes": pf["tables"]["planes"], "flights": orphans},
                                  schemas=pf["schemas"], relations=[REL], epsilon=1.0,
                                  max_children=10, accountant=acct)
    assert acct.path.read_bytes() == before


def test_a_ledger_bound_to_other_tables_refuses_before_spending(pf: dict[str, Any],
                                                                tmp_path: Path) -> None:
    from privsynth.accounting.fingerprint import table_fingerprint

    key = bytes(range(32))
    planes, flights = pf["tables"]["planes"], pf["tables"]["flights"]
    acct = FileAccountant.init(
        tmp_path / "ledger.json", 2.0, unit="tailnum", key=key,
        fingerprint=[table_fingerprint(planes, key), table_fingerprint(flights, key)])
    before = acct.path.read_bytes()
    with pytest.raises(LedgerError, match=r"^table 'flights': .*is not the data set"):
        ps.PrivBayes().fit_tables({"planes": planes, "flights": flights.iloc[1:]},
                                  schemas=pf["schemas"], relations=[REL], epsilon=1.0,
                                  max_children=10, accountant=acct)
    assert acct.path.read_bytes() == before
    _fit(pf, accountant=acct, epsilon=1.0)  # the bound tables themselves pass


def test_a_real_parent_key_with_the_synthetic_prefix_is_refused(pf: dict[str, Any]) -> None:
    planes = pf["tables"]["planes"].copy()
    planes.loc[planes.index[0], "tailnum"] = "SYN-7"
    with pytest.raises(DataValidationError,
                       match=r"^table 'planes': .*prefix of synthetic identifiers"):
        ps.PrivBayes().fit_tables({"planes": planes, "flights": pf["tables"]["flights"]},
                                  schemas=pf["schemas"], relations=[REL], epsilon=1.0,
                                  max_children=10)


def test_a_value_outside_its_domain_names_its_table_and_keeps_the_problems(
        pf: dict[str, Any], tmp_path: Path) -> None:
    acct = FileAccountant.init(tmp_path / "ledger.json", 2.0, unit="tailnum")
    flights = pf["tables"]["flights"].copy()
    flights.loc[flights.index[:3], "origin"] = "BOS"
    with pytest.raises(DataValidationError, match=r"^table 'flights': ") as err:
        ps.PrivBayes().fit_tables({"planes": pf["tables"]["planes"], "flights": flights},
                                  schemas=pf["schemas"], relations=[REL], epsilon=1.0,
                                  max_children=5, accountant=acct)
    assert "BOS" not in str(err.value)  # counts, never the values
    assert [p["column"] for p in err.value.problems] == ["origin"]
    assert FileAccountant.open(acct.path).history == []


def test_bad_schemas_are_refused(pf: dict[str, Any]) -> None:
    s = dict(pf["schemas"])
    nullable_parent = {**s, "planes": _with_id(s["planes"], nullable=True)}
    with pytest.raises(SchemaError, match="nullable"):
        ps.PrivBayes().fit_tables(pf["tables"], schemas=nullable_parent, relations=[REL],
                                  epsilon=1.0, max_children=5)
    with pytest.raises(ParameterError, match="tables must be a mapping"):
        ps.PrivBayes().fit_tables({"planes": pf["tables"]["planes"]}, schemas=s,
                                  relations=[REL], epsilon=1.0, max_children=5)
    clash = {**s, "planes": Schema((*s["planes"].columns,
                                    ps.columns.IntegerColumn("n_children", lower=0, upper=3)))}
    with pytest.raises(SchemaError, match="n_children"):
        ps.PrivBayes().fit_tables(pf["tables"], schemas=clash, relations=[REL], epsilon=1.0,
                                  max_children=5)


def test_real_keys_with_the_synthetic_prefix_are_refused_before_spending(
        pf: dict[str, Any], tmp_path: Path) -> None:
    acct = FileAccountant.init(tmp_path / "ledger.json", 2.0, unit="tailnum")
    flights = pf["tables"]["flights"].copy()
    flights.loc[flights.index[0], "tailnum"] = "SYN-007"  # an orphan child, but a clash
    # the child's own id prefix differs: the parents' prefix (of the synthetic keys) counts
    schemas = {**pf["schemas"], "flights": _with_id(pf["schemas"]["flights"], nullable=True,
                                                     prefix="child-")}
    with pytest.raises(DataValidationError, match="prefix of the parent's synthetic keys"):
        ps.PrivBayes().fit_tables({"planes": pf["tables"]["planes"], "flights": flights},
                                  schemas=schemas, relations=[REL], epsilon=1.0,
                                  max_children=5, accountant=acct)
    assert FileAccountant.open(acct.path).history == []


def test_too_many_children_are_capped_at_k(pf: dict[str, Any]) -> None:
    """Parents with more than k children are bounded (the fixture has planes with > 2)."""
    counts = pf["tables"]["flights"]["tailnum"].value_counts()
    assert counts.max() > 2
    m = _fit(pf, max_children=2)
    out = m.sample_tables(200, random_state=0)
    assert out["flights"]["tailnum"].value_counts().max() <= 2


# ------------------------------------------------------------------ paired runs
class _Capture:
    """Every discrete Laplace call: its label, exact input and declared sensitivity."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, np.ndarray, int]] = []
        honest = mechanisms.discrete_laplace

        def wrapped(values: Any, **kw: Any) -> Any:
            self.calls.append((kw["label"], np.array(values, dtype=np.int64),
                               int(kw.get("sensitivity", 1))))
            return honest(values, **kw)

        monkeypatch.setattr(mechanisms, "discrete_laplace", wrapped)

    def take(self) -> list[tuple[str, np.ndarray, int]]:
        out, self.calls = self.calls, []
        return out


def _unit_data(n_parents: int, children: Callable[[int], int]
               ) -> tuple[dict[str, pd.DataFrame], dict[str, Schema]]:
    rng = np.random.default_rng(11)
    keys = [f"P{i}" for i in range(n_parents)]
    parents = pd.DataFrame({"pid": keys, "size": rng.integers(0, 4, n_parents)})
    reps = np.array([children(i) for i in range(n_parents)])
    kids = pd.DataFrame({"pid": np.repeat(keys, reps),
                         "kind": rng.choice(["a", "b", "c"], int(reps.sum()))})
    schemas = {"p": Schema.from_dict({"columns": [
        {"name": "pid", "kind": "id"},
        {"name": "size", "kind": "integer", "lower": 0, "upper": 3}]}),
        "c": Schema.from_dict({"columns": [
            {"name": "pid", "kind": "id"},
            {"name": "kind", "kind": "categorical", "categories": ["a", "b", "c"]}]})}
    return {"p": parents, "c": kids}, schemas


@pytest.mark.parametrize("child_rows", [None, 2, 4])
def test_one_more_unit_moves_every_count_by_at_most_its_recorded_sensitivity(
        monkeypatch: pytest.MonkeyPatch, child_rows: int | None) -> None:
    """Paired runs: D, and D' = D plus one parent with k + 3 children (k = 4 are used;
    the child model uses max_child_rows of them, by default 1)."""
    k = 4
    kc = 1 if child_rows is None else child_rows
    # every parent within the bounds, so that the random choices of kept rows are the same
    # in both runs (the coupling of the proof); the new one is above both
    tables, schemas = _unit_data(40, lambda i: 1 + i % kc)
    new_p = pd.DataFrame({"pid": ["NEW"], "size": [3]})
    new_c = pd.DataFrame({"pid": ["NEW"] * (k + 3), "kind": ["c"] * (k + 3)})
    bigger = {"p": pd.concat([tables["p"], new_p], ignore_index=True),
              "c": pd.concat([tables["c"], new_c], ignore_index=True)}
    cap = _Capture(monkeypatch)
    rel = ps.Relation("p", "c", "pid")
    runs = []
    for data in (tables, bigger):
        ps.PrivBayes(degree=0).fit_tables(data, schemas=schemas, relations=[rel],
                                          epsilon=1.0, max_children=k, noise=_seeded(5),
                                          max_child_rows=child_rows)
        runs.append(cap.take())
    on_d, on_d2 = runs
    assert [c[0] for c in on_d] == [c[0] for c in on_d2]
    moved: list[tuple[str, int, int]] = []
    for (label, a, sens), (_, b, sens2) in zip(on_d, on_d2, strict=True):
        assert sens == sens2
        change = int(np.abs(b - a).sum())
        assert change <= sens, f"{label}: moved by {change}, declared {sens}"
        moved.append((label, change, sens))
    # the parent model spends first (its row count, then its histograms), then the child's
    second = [i for i, m in enumerate(moved) if m[0] == "privbayes/row_count"][1]
    parent, child = moved[:second], moved[second:]
    # the parent model's counts move by one row, the child model's by the k kept children
    assert parent[0][1:] == (1, 1) and child[0][1:] == (kc, kc)
    assert [m[1:] for m in parent if m[0].endswith("/n_children")] == [(1, 1)]
    assert [m[1:] for m in child if m[0].endswith("/kind")] == [(kc, kc)]


@pytest.mark.parametrize("child_rows", [None, 3])
def test_network_path_structure_scores_move_within_the_units_sensitivity(
        monkeypatch: pytest.MonkeyPatch, child_rows: int | None) -> None:
    """Paired runs through the child model's structure search (degree 1): D is 100 big
    planes with one long flight each, D' adds a small plane with k' short flights (the
    worst case of the score G). Every exponential-mechanism call must declare the unit's
    sensitivity, 2 k' (k' = max_child_rows, default 1), and its scores move by at most that;
    the worst move is close to it, so a sensitivity declared for one row would be seen."""
    k = 3
    kc = 1 if child_rows is None else child_rows
    keys = [f"P{i}" for i in range(100)]
    planes = pd.DataFrame({"pid": keys, "big": [True] * 100})
    flights = pd.DataFrame({"pid": keys, "long": [True] * 100})
    bigger = {"p": pd.concat([planes, pd.DataFrame({"pid": ["NEW"], "big": [False]})],
                             ignore_index=True),
              "c": pd.concat([flights, pd.DataFrame({"pid": ["NEW"] * kc, "long": [False] * kc})],
                             ignore_index=True)}
    schemas = {"p": Schema.from_dict({"columns": [
        {"name": "pid", "kind": "id"}, {"name": "big", "kind": "boolean"}]}),
        "c": Schema.from_dict({"columns": [
            {"name": "pid", "kind": "id"}, {"name": "long", "kind": "boolean"}]})}
    calls: list[tuple[str, np.ndarray, float]] = []
    honest = mechanisms.exponential

    def wrapped(scores: Any, **kw: Any) -> int:
        out = honest(scores, **kw)
        calls.append((kw["label"], np.asarray(scores, dtype=np.float64),
                      float(kw["sensitivity"])))
        return out

    monkeypatch.setattr(mechanisms, "exponential", wrapped)
    runs = []
    for data in ({"p": planes, "c": flights}, bigger):
        ps.PrivBayes(degree=1).fit_tables(data, schemas=schemas,
                                          relations=[ps.Relation("p", "c", "pid")],
                                          epsilon=1.0, max_children=k, noise=_seeded(3),
                                          max_child_rows=child_rows)
        runs.append(list(calls))
        calls.clear()
    on_d, on_d2 = runs
    # the parent model (big, n_children: one step) draws first, then the child model's
    # one step (long, after its two given columns big and n_children)
    assert ([c[0] for c in on_d] == [c[0] for c in on_d2]
            == ["privbayes/structure/step1", "privbayes/structure/step2"])
    for model, (a, b), rows in (("parent", (on_d[0], on_d2[0]), 1),
                                ("child", (on_d[1], on_d2[1]), kc)):
        assert a[2] == b[2] == 2.0 * rows, f"{model}: declared {a[2]}, the unit's is {2 * rows}"
        move = float(np.abs(b[1] - a[1]).max())
        assert move <= a[2] + 1e-9, f"{model}: scores moved by {move}, declared {a[2]}"
    # the worst case is sharp: the child's scores move by almost 2 k'
    assert float(np.abs(on_d2[1][1] - on_d[1][1]).max()) > 0.9 * 2 * kc


def test_children_of_no_parent_and_without_key_are_not_used(
        monkeypatch: pytest.MonkeyPatch) -> None:
    tables, schemas = _unit_data(30, lambda i: 2)
    orphans = pd.DataFrame({"pid": ["GONE"] * 5 + [None] * 3, "kind": ["a"] * 8})
    schemas["c"] = Schema.from_dict({"columns": [
        {"name": "pid", "kind": "id", "nullable": True},
        {"name": "kind", "kind": "categorical", "categories": ["a", "b", "c"]}]})
    with_orphans = {"p": tables["p"],
                    "c": pd.concat([tables["c"], orphans], ignore_index=True)}
    cap = _Capture(monkeypatch)
    rel = ps.Relation("p", "c", "pid")
    runs = []
    for data in (tables, with_orphans):
        ps.PrivBayes(degree=0).fit_tables(data, schemas=schemas, relations=[rel],
                                          epsilon=1.0, max_children=3, noise=_seeded(2))
        runs.append(cap.take())
    for (label, a, _), (_, b, _) in zip(*runs, strict=True):
        assert np.array_equal(a, b), label


def test_duplicated_parent_keys_count_once() -> None:
    from privsynth.engines.tables import bound_tables

    parents = pd.DataFrame({"id": ["a", "a", "b"], "x": [1, 2, 3]})
    kids = pd.DataFrame({"id": ["a"] * 6 + ["b"], "y": range(7)})
    p, c = bound_tables(parents, kids, ps.Relation("p", "c", "id"), 4,
                        np.random.default_rng(0))
    assert sorted(p["id"]) == ["a", "b"]
    assert dict(zip(p["id"], p["n_children"], strict=True)) == {"a": 4, "b": 1}
    assert len(c) == 5 and set(c["p.x"][c["id"] == "a"]) <= {1, 2}


def test_relation_is_checked() -> None:
    with pytest.raises(ParameterError, match="different"):
        ps.Relation("t", "t", "k")
    with pytest.raises(ParameterError, match="key"):
        ps.Relation("a", "b", "")
    # the ledger labels say which table an event measured ("<table>/..."): with "t" and
    # "t/privbayes" an entry would belong to both
    for parent, child in (("t", "t/privbayes"), ("a/b", "c")):
        with pytest.raises(ParameterError, match="cannot hold '/'"):
            ps.Relation(parent, child, "k")
    rel = ps.Relation("a", "b", "k")
    with pytest.raises(dataclasses.FrozenInstanceError):
        rel.key = "z"  # type: ignore[misc]
    assert ps.Relation.from_dict(rel.to_dict()) == rel


def test_memory_accountant_of_the_key_is_charged(pf: dict[str, Any]) -> None:
    acct = Accountant(3.0, unit="tailnum")
    m = _fit(pf, accountant=acct, epsilon=1.0)
    assert acct.spent().epsilon == pytest.approx(m.record_.epsilon)
    assert m.record_.ledger.kind == "memory"


def test_a_part_cannot_spend_beyond_its_share() -> None:
    from privsynth.accounting import DiscreteLaplaceEvent
    from privsynth.engines.tables import ReleasePart

    whole = Accountant(2.0).open_release("r", epsilon=2.0)
    part = ReleasePart(whole, epsilon=0.5, table="p")
    part.spend(DiscreteLaplaceEvent(0.3), label="a")
    with pytest.raises(BudgetExceededError, match="the table 'p'"):
        part.spend(DiscreteLaplaceEvent(0.3), label="b")
    assert [e.label for e in whole.entries] == ["p/a"]


# ------------------------------------------------------------------ command line
def test_cli_fit_tables_and_sample_tables(pf: dict[str, Any], tmp_path: Path,
                                          run: Callable[..., tuple[int, str, str]]) -> None:
    paths = {}
    for name in ("planes", "flights"):
        pf["tables"][name].to_csv(tmp_path / f"{name}.csv", index=False)
        pf["schemas"][name].to_json(tmp_path / f"{name}.schema.json")
        paths[name] = tmp_path / f"{name}.csv"
    ledger = tmp_path / "ledger.json"
    code, _, err = run("budget", "init", ledger, "--epsilon", "2", "--unit", "tailnum")
    assert code == 0, err
    model = tmp_path / "pair.model.json"
    argv = ["fit-tables", "--table", f"planes={paths['planes']}",
            "--table", f"flights={paths['flights']}",
            "--schema", f"planes={tmp_path / 'planes.schema.json'}",
            "--schema", f"flights={tmp_path / 'flights.schema.json'}",
            "--relation", "planes:flights:tailnum", "--max-children", "10",
            "--epsilon", "1", "--ledger", ledger, "--out", model]
    before = ledger.read_bytes()
    code, _, err = run(*argv[:-2], "--out", tmp_path / "over.json", "--epsilon", "5")
    assert code == 3 and "privsynth: error:" in err  # overspend: refused, nothing spent
    assert ledger.read_bytes() == before
    code, out, err = run(*argv)
    assert code == 0, err
    assert "one planes row" in out and FileAccountant.open(ledger).spent().epsilon == \
        pytest.approx(1.0)
    code, _, err = run(*argv)  # the model file exists: refused before spending
    assert code == 2 and "already exists" in err
    folder = tmp_path / "synth"
    folder.mkdir()
    code, out, err = run("sample-tables", model, "-n", "40", "--out", folder, "--seed", "3")
    assert code == 0, err
    planes = pd.read_csv(folder / "planes.csv")
    flights = pd.read_csv(folder / "flights.csv")
    assert len(planes) == 40 and flights["tailnum"].isin(set(planes["tailnum"])).all()
    code, _, err = run("sample", model, "--out", tmp_path / "x.csv")
    assert code != 0 and "sample-tables" in err


@pytest.mark.parametrize(("extra", "match"), [
    (["--param", "degree=-3"], "degree"),
    (["--max-child-rows", "11"], "max_child_rows"),
    (["--param", "target='seats'"], "target"),
], ids=["engine-parameter", "child-rows-above-k", "target"])
def test_cli_fit_tables_checks_declarations_before_reading_data(
        pf: dict[str, Any], tmp_path: Path, run: Callable[..., tuple[int, str, str]],
        extra: list[str], match: str) -> None:
    """Rule 8 in the shell: a bad declaration is named even though the data files are absent."""
    for name in ("planes", "flights"):
        pf["schemas"][name].to_json(tmp_path / f"{name}.schema.json")
    ledger = tmp_path / "ledger.json"
    assert run("budget", "init", ledger, "--epsilon", "2", "--unit", "tailnum")[0] == 0
    code, _, err = run("fit-tables", "--table", f"planes={tmp_path / 'absent1.csv'}",
                       "--table", f"flights={tmp_path / 'absent2.csv'}",
                       "--schema", f"planes={tmp_path / 'planes.schema.json'}",
                       "--schema", f"flights={tmp_path / 'flights.schema.json'}",
                       "--relation", "planes:flights:tailnum", "--max-children", "10",
                       "--epsilon", "1", "--ledger", ledger, "--out", tmp_path / "m.json",
                       *extra)
    assert code != 0 and match in err and "absent" not in err


def test_audit_refuses_a_tables_model_and_audits_each_table(model: ps.TablesModel,
                                                           pf: dict[str, Any]) -> None:
    out = model.sample_tables(60, random_state=0)
    with pytest.raises(ParameterError, match="one table"):
        ps.audit(pf["tables"]["flights"], out["flights"], model=model, attacks=False)
    for name in ("planes", "flights"):
        report = ps.audit(pf["tables"][name], out[name], schema=model.schemas_[name],
                          attacks=False)
        assert report is not None

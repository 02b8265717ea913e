"""What a child model of ``fit_tables`` takes from its parent: given levels and declared links.

- The given columns (the parent's columns in the child model) are never
  measured by the child model: their levels come from rows drawn from the
  fitted parent model. A statistical check sees a version that reads them from
  the real rows instead (mutant ``tables-given-levels-from-real-rows``).
- A declared link (``links={"distance": "seats"}``) is fitted without a
  structure draw, checked before anything is spent, and reported.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import privsynth as ps
from privsynth.accounting.persistent import FileAccountant
from privsynth.errors import InsecureNoiseWarning, ParameterError
from privsynth.mechanisms import Noise
from privsynth.schema import Schema

REL = ps.Relation(parent="planes", child="flights", key="tailnum")


def _seeded(seed: int) -> Noise:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureNoiseWarning)
        return Noise.insecure_for_tests(seed)


@pytest.fixture(scope="module")
def data(linked_numbers: Callable[..., Any]) -> tuple[dict[str, pd.DataFrame], dict[str, Schema]]:
    """Planes and flights whose distance follows seats (conftest's ``linked_numbers``)."""
    return linked_numbers(2000, 7)


def _labels(model: ps.TablesModel, prefix: str) -> list[str]:
    return [e.label for e in model.record_.entries if e.label.startswith(prefix)]


# ---------------------------------------------------------------- given levels


def test_the_child_model_measures_no_histogram_of_its_parent_columns(
        data: tuple[dict[str, pd.DataFrame], dict[str, Schema]]) -> None:
    tables, schemas = data
    m = ps.PrivBayes(degree=1).fit_tables(tables, schemas=schemas, relations=[REL],
                                          epsilon=1.5, max_children=8, noise=_seeded(0))
    assert m.child_model_.describe()["budget"]["mode"] == "network"
    measured = {label.rsplit("/", 1)[-1]
                for label in _labels(m, "flights/privbayes/marginal/")}
    assert measured and measured <= {"distance", "month"}, measured
    assert "parent model" in m.child_model_.describe()["budget"]["given_levels"]
    # every event of the release is its own: the composition is the stated epsilon
    assert m.record_.epsilon == pytest.approx(1.5)
    names = m.child_model_.schema_.names
    seats = m.child_model_.levels_[names.index("planes.seats") - 1]  # levels skip the key
    assert 2 <= seats.n_parent_levels <= seats.n_levels


def test_a_units_unique_parent_value_shows_in_the_given_levels_only_through_dp() -> None:
    """One plane holds a seats value no other has (bin of 480..483). Fitted on the data
    with it, the child model's level of that bin gets a real share of mass only when the
    parent model's noisy output kept it (about one fit in four at this budget, where noise
    peaks of the parent's histogram decide which bins keep mass: 0.24 with the plane, 0.22
    without, over 3,000 fits), never because the child model looked at the rows: read from
    the real rows, it has the mass of one plane in every fit. False failure rate of the
    bound below: about 1e-8."""
    rng = np.random.default_rng(2)
    n = 300
    planes = pd.DataFrame({"tailnum": [f"N{i}" for i in range(n)],
                           "seats": np.r_[rng.integers(20, 120, n - 1), 481]})
    flights = pd.DataFrame({"tailnum": planes["tailnum"], "long": rng.random(n) < 0.5})
    schemas = {"planes": Schema.from_dict({"columns": [
        {"name": "tailnum", "kind": "id"},
        {"name": "seats", "kind": "integer", "lower": 1, "upper": 500}]}),
        "flights": Schema.from_dict({"columns": [
            {"name": "tailnum", "kind": "id"}, {"name": "long", "kind": "boolean"}]})}
    hits = 0
    for _ in range(20):  # secure noise: independent fits
        m = ps.PrivBayes(degree=1).fit_tables(
            {"planes": planes, "flights": flights}, schemas=schemas, relations=[REL],
            epsilon=1.0, max_children=1)
        disc = m.child_model_._discretizer
        j = disc.schema.names.index("planes.seats")
        code = int(disc.encode_column(disc.bins[j], pd.Series([481]))[0])
        lev = m.child_model_.levels_[j]
        hits += bool(lev.within[code] > 1e-3)
    assert hits <= 16, f"the unique value had mass in {hits} of 20 fits"


# ---------------------------------------------------------------- declared links


def test_a_declared_link_is_fitted_without_a_structure_draw(
        data: tuple[dict[str, pd.DataFrame], dict[str, Schema]]) -> None:
    """Even a link the data would not choose (distance <- year) is kept as declared; the
    structure spends on the other column's draw only, and the ledger still holds it all."""
    tables, schemas = data
    plain = ps.PrivBayes().fit_tables(tables, schemas=schemas, relations=[REL],
                                      epsilon=1.5, max_children=8, noise=_seeded(1))
    m = ps.PrivBayes().fit_tables(tables, schemas=schemas, relations=[REL], epsilon=1.5,
                                  max_children=8, noise=_seeded(1),
                                  links={"distance": "year"})
    network = {e["child"]: e["parents"] for e in m.child_model_.describe()["network"]}
    assert network["distance"] == ["planes.year"]
    draws = _labels(m, "flights/privbayes/structure/")
    assert len(draws) == len(_labels(plain, "flights/privbayes/structure/")) - 1 == 1
    assert m.record_.epsilon == pytest.approx(1.5)
    assert m.record_.description["links"] == {"distance": ["year"]}
    assert "distance <- planes.year" in m.child_model_.describe()["budget"]["links"]


def test_links_with_independent_marginals_are_reported_not_used(
        data: tuple[dict[str, pd.DataFrame], dict[str, Schema]],
        caplog: pytest.LogCaptureFixture) -> None:
    tables, schemas = data
    with caplog.at_level(logging.WARNING, logger="privsynth"):  # too little budget for a link
        m = ps.PrivBayes().fit_tables(tables, schemas=schemas, relations=[REL], epsilon=0.05,
                                      max_children=8, links={"distance": "seats"})
    text = m.child_model_.describe()["budget"]["links"]
    assert "not used" in text and "independent" in text
    assert any("declared links not used" in r.getMessage() for r in caplog.records)
    assert all(not e["parents"] for e in m.child_model_.describe()["network"])


def test_every_column_linked_gives_the_structure_share_to_the_tables(
        data: tuple[dict[str, pd.DataFrame], dict[str, Schema]]) -> None:
    """No structure draw is left: the release still spends (and states) all of epsilon."""
    tables, schemas = data
    m = ps.PrivBayes().fit_tables(tables, schemas=schemas, relations=[REL], epsilon=1.5,
                                  max_children=8, noise=_seeded(2),
                                  links={"distance": "seats", "month": "year"})
    assert not _labels(m, "flights/privbayes/structure/")
    assert m.record_.epsilon == pytest.approx(1.5)
    budget = m.child_model_.describe()["budget"]
    assert budget["structure_share"] == 0.0
    assert budget["marginal_share"] + budget["table_share"] + budget["count_share"] == \
        pytest.approx(1.0)


def test_a_link_never_exceeds_max_clique_cells(
        data: tuple[dict[str, pd.DataFrame], dict[str, Schema]]) -> None:
    tables, schemas = data
    m = ps.PrivBayes(max_clique_cells=90).fit_tables(
        tables, schemas=schemas, relations=[REL], epsilon=5.0, max_children=8,
        noise=_seeded(3), links={"distance": "seats"})
    lv = m.child_model_.levels_
    cells = [lv[c].n_levels * int(np.prod([lv[p].n_parent_levels for p in ps]))
             for c, ps in m.child_model_.network_ if ps]
    assert cells and max(cells) <= 90, cells


BAD_LINKS: list[tuple[str, Any, str]] = [
    ("not a mapping", ["distance", "seats"], "must be a mapping"),
    ("unknown child column", {"speed": "seats"}, "'speed' is not a modelled column of "
                                                 "'flights'"),
    ("the key as a child column", {"tailnum": "seats"}, "not a modelled column of 'flights'"),
    ("unknown parent column", {"distance": "engines"}, "'engines' is not a modelled column "
                                                      "of 'planes'"),
    ("the key as a parent", {"distance": "tailnum"}, "not a modelled column of 'planes'"),
    ("no parent", {"distance": []}, "one or more distinct columns"),
    ("a repeated parent", {"distance": ["seats", "seats"]}, "one or more distinct"),
]


BAD_LINKS += [
    ("degree 0", ({"degree": 0}, {"distance": "seats"}), r"degree=0\) allows at most 0"),
    ("more parents than the degree", ({"degree": 1}, {"distance": ["seats", "year"]}),
     r"degree=1\) allows at most 1 parent\(s\) per column, a declared link has 2"),
]


@pytest.mark.parametrize(("case", "links", "match"), BAD_LINKS, ids=[b[0] for b in BAD_LINKS])
def test_bad_links_are_refused_before_anything_is_spent(
        data: tuple[dict[str, pd.DataFrame], dict[str, Schema]], tmp_path: Path, case: str,
        links: Any, match: str) -> None:
    tables, schemas = data
    params: dict[str, Any] = {}
    if isinstance(links, tuple):
        params, links = links
    acct = FileAccountant.init(tmp_path / "ledger.json", 2.0, unit="tailnum")
    before = acct.path.read_bytes()
    with pytest.raises(ParameterError, match=match):
        ps.PrivBayes(**params).fit_tables(tables, schemas=schemas, relations=[REL],
                                          epsilon=1.0, max_children=8, accountant=acct,
                                          links=links)
    assert acct.path.read_bytes() == before


def test_cli_link(data: tuple[dict[str, pd.DataFrame], dict[str, Schema]], tmp_path: Path,
                  run: Any) -> None:
    tables, schemas = data
    args = []
    for name in ("planes", "flights"):
        tables[name].to_csv(tmp_path / f"{name}.csv", index=False)
        (tmp_path / f"{name}.schema.json").write_text(json.dumps(schemas[name].to_dict()))
        args += ["--table", f"{name}={tmp_path / f'{name}.csv'}",
                 "--schema", f"{name}={tmp_path / f'{name}.schema.json'}"]
    code, _, err = run("budget", "init", tmp_path / "l.json", "--epsilon", 2, "--unit",
                       "tailnum")
    assert code == 0, err
    common = [*args, "--relation", "planes:flights:tailnum", "--max-children", 8,
              "--epsilon", 1, "--ledger", tmp_path / "l.json"]
    code, _, err = run("fit-tables", *common, "--link", "distance=nope",
                       "--out", tmp_path / "bad.model.json")
    assert code != 0 and "'nope' is not a modelled column of 'planes'" in err
    assert not (tmp_path / "bad.model.json").exists()
    code, _, err = run("fit-tables", *common, "--link", "distance=seats",
                       "--out", tmp_path / "m.model.json")
    assert code == 0, err
    m = ps.TablesModel.load(tmp_path / "m.model.json")
    assert m.record_.description["links"] == {"distance": ["seats"]}
    network = {e["child"]: e["parents"] for e in m.child_model_.describe()["network"]}
    assert network["distance"] == ["planes.seats"]


def test_the_report_shows_the_declared_links(
        data: tuple[dict[str, pd.DataFrame], dict[str, Schema]]) -> None:
    """The compliance officer sees what the steward declared, in both editions."""
    jsonschema = pytest.importorskip("jsonschema")
    from privsynth.report import schema_path

    tables, schemas = data
    small = {"planes": tables["planes"].head(300),
             "flights": tables["flights"][tables["flights"]["tailnum"].isin(
                 set(tables["planes"]["tailnum"].head(300)))]}
    m = ps.PrivBayes().fit_tables(small, schemas=schemas, relations=[REL], epsilon=2.0,
                                  max_children=8, noise=_seeded(4),
                                  links={"distance": "seats"})
    report = ps.audit(small, m.sample_tables(100, random_state=0), model=m,
                      accountant=m.accountant_, attacks=False)
    validator = jsonschema.Draft202012Validator(json.loads(schema_path().read_text("utf-8")))
    for doc in (report.to_dict(), report.to_dict(public=True)):
        validator.validate(doc)
        assert doc["relation"]["links"] == {"distance": ["seats"]}
    assert "distance &lt;- seats" in report.to_html()
    plain = ps.PrivBayes().fit_tables(small, schemas=schemas, relations=[REL], epsilon=2.0,
                                      max_children=8, noise=_seeded(4))
    doc = ps.audit(small, plain.sample_tables(100, random_state=0), model=plain,
                   accountant=plain.accountant_, attacks=False).to_dict()
    assert doc["relation"]["links"] == {}

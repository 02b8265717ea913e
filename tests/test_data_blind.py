"""Data-blind fits: an engine sees private data only through its mechanisms.

Every mechanism of :mod:`privsynth.mechanisms` is wrapped so that what goes
*in* (counts, scores) is replaced by a fixed, data-independent value of the
same shape before the real mechanism runs (and charges the ledger). With the
same seeded test noise, the outputs of every mechanism are then the same for
neighbouring data sets D and D' = D plus one record. So must be everything
the fitted model holds: its samples, its recorded noisy row count, its
description. Any path by which private data reaches the model around the
mechanisms (an exact histogram fed to post-processing, an exact row count,
exact counts in a table) makes the two models differ, whatever line it is on.
This catches leaks the call-by-call sensitivity checks of test_paired_runs.py
cannot see, because they happen outside any mechanism call.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

import privsynth as ps
from privsynth import mechanisms
from privsynth.columns import IdColumn
from privsynth.errors import InsecureNoiseWarning
from privsynth.mechanisms import Noise
from privsynth.schema import Schema

FIXED_COUNT = 37  # what every count cell "is", whatever the data


def _seeded(seed: int) -> Noise:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureNoiseWarning)
        return Noise.insecure_for_tests(seed)


@pytest.fixture
def blind(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Mechanisms see fixed inputs; yields the labels of the calls made."""
    calls: list[str] = []
    laplace, gaussian, expo = (mechanisms.discrete_laplace, mechanisms.discrete_gaussian,
                               mechanisms.exponential)

    def fixed(values: Any) -> np.ndarray:
        return np.full(np.shape(np.asarray(values)), FIXED_COUNT, dtype=np.int64)

    def blind_laplace(values: Any, **kw: Any) -> Any:
        calls.append(kw["label"])
        return laplace(fixed(values), **kw)

    def blind_gaussian(values: Any, **kw: Any) -> Any:
        calls.append(kw["label"])
        return gaussian(fixed(values), **kw)

    def blind_exponential(scores: Any, **kw: Any) -> int:
        calls.append(kw["label"])
        return expo(np.zeros(np.shape(np.asarray(scores))), **kw)

    monkeypatch.setattr(mechanisms, "discrete_laplace", blind_laplace)
    monkeypatch.setattr(mechanisms, "discrete_gaussian", blind_gaussian)
    monkeypatch.setattr(mechanisms, "exponential", blind_exponential)
    yield calls


def _fit(df: pd.DataFrame, schema: Schema, seed: int, **kw: Any) -> ps.PrivBayes:
    params = kw.pop("params", {})
    return ps.PrivBayes(**params).fit(df, schema=schema, epsilon=kw.pop("epsilon", 2.0),
                                      noise=_seeded(seed), **kw)


def _same_model(a: Any, b: Any) -> None:
    assert a.record_.noisy_rows == b.record_.noisy_rows
    assert a.describe() == b.describe()
    pd.testing.assert_frame_equal(a.sample(300, random_state=0), b.sample(300, random_state=0))


@pytest.mark.parametrize("params", [{"degree": 2}, {}, {"degree": 0}],
                         ids=["network", "budget-rule", "independent"])
def test_privbayes_sees_data_only_through_its_mechanisms(
        blind: list[str], adult_sample: pd.DataFrame, adult_schema: Schema,
        params: dict[str, Any]) -> None:
    d = adult_sample
    d2 = pd.concat([d, d.iloc[[7]]], ignore_index=True)  # D' = D plus one record
    for seed in (0, 1):
        blind.clear()
        a = _fit(d, adult_schema, seed, params=params)
        calls_a = list(blind)
        blind.clear()
        b = _fit(d2, adult_schema, seed, params=params)
        assert blind == calls_a  # the same mechanism calls, in the same order
        _same_model(a, b)
    if params.get("degree") == 2:  # the network path ran: histograms, structure, tables
        assert any("structure" in c for c in calls_a) and any("table" in c for c in calls_a)


def test_gaussian_tables_see_data_only_through_their_mechanism(
        blind: list[str], adult_sample: pd.DataFrame, adult_schema: Schema) -> None:
    d2 = pd.concat([adult_sample, adult_sample.iloc[[3]]], ignore_index=True)
    a = _fit(adult_sample, adult_schema, 5, params={"degree": 2}, delta=1e-6)
    b = _fit(d2, adult_schema, 5, params={"degree": 2}, delta=1e-6)
    _same_model(a, b)


def test_fit_tables_sees_data_only_through_its_mechanisms(
        blind: list[str], planes_and_flights: tuple[pd.DataFrame, pd.DataFrame, Schema, Schema],
        monkeypatch: pytest.MonkeyPatch) -> None:
    planes, flights, sp, sf = planes_and_flights
    # In the test mode the bounding draws from the noise's own seeded generator, one draw
    # per row, so D' (more rows) would shift every later noise draw; give it its own.
    from privsynth.engines.tables import _fit as tables_fit

    monkeypatch.setattr(tables_fit, "unit_generator", lambda noise: np.random.default_rng(0))

    def with_id(schema: Schema, nullable: bool) -> Schema:
        return Schema(tuple(IdColumn("tailnum", nullable=nullable)
                            if c.name == "tailnum" else c for c in schema.columns))

    schemas = {"planes": with_id(sp, False), "flights": with_id(sf, True)}
    rel = ps.Relation(parent="planes", child="flights", key="tailnum")
    # D' = D plus one unit: a new plane with three flights
    new_plane = planes.iloc[[0]].assign(tailnum="N-NEW-1")
    new_flights = flights.dropna(subset=["tailnum"]).iloc[:3].assign(tailnum="N-NEW-1")
    pairs = ({"planes": planes, "flights": flights},
             {"planes": pd.concat([planes, new_plane], ignore_index=True),
              "flights": pd.concat([flights, new_flights], ignore_index=True)})
    models = [ps.PrivBayes(degree=1).fit_tables(t, schemas=schemas, relations=[rel],
                                                epsilon=2.0, max_children=10, noise=_seeded(3))
              for t in pairs]
    a, b = (m.sample_tables(50, random_state=0) for m in models)
    for name in ("planes", "flights"):
        pd.testing.assert_frame_equal(a[name], b[name])
    # and every DP output the model file holds, e.g. the child model's levels of the
    # parent's columns (drawn from the parent model, never from the rows)
    for part in ("parent_model_", "child_model_"):
        pa, pb = (json.dumps(getattr(m, part)._to_payload(), sort_keys=True,
                             default=lambda x: np.asarray(x).tolist()) for m in models)
        assert pa == pb, part


def test_the_target_star_sees_data_only_through_its_mechanisms(
        blind: list[str], adult_sample: pd.DataFrame, adult_schema: Schema,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A declared target on a table too small for a structure search: the star network
    (the target the only parent of every column) is public, its tables are noisy."""
    monkeypatch.setitem(globals(), "FIXED_COUNT", 300)  # a count the rule gives the star
    d2 = pd.concat([adult_sample, adult_sample.iloc[[11]]], ignore_index=True)
    target = adult_schema.names[-1]
    for seed in (0, 1):
        a = _fit(adult_sample, adult_schema, seed, params={"target": target}, epsilon=10.0)
        b = _fit(d2, adult_schema, seed, params={"target": target}, epsilon=10.0)
        _same_model(a, b)
    assert a.describe()["budget"]["mode"] == "star"
    assert not any("structure" in c for c in blind) and any("table" in c for c in blind)

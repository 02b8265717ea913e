"""Shared fixtures: the shipped test data of ``tests/data``, the shared data sets, schemas.

Two sources of real data:

- ``tests/data`` (in the repository): a few hundred rows each of Adult, the
  NIST ACS excerpt, Palmer penguins and a planes/flights pair of
  nycflights13, with public schemas (see ``tests/data/SOURCE.md``). Tests that
  use them run from a clean clone.
- ``../shared/datasets`` (outside the repository, the full files): the
  ``shared_datasets`` fixture skips a test cleanly when the folder is absent.
  ``PRIVSYNTH_SHARED_DATASETS=<folder>`` points it elsewhere; a folder that
  does not exist (``PRIVSYNTH_SHARED_DATASETS=none``) runs the suite as a clean
  clone would.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from privsynth.schema import Schema

TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED_DATASETS = Path(
    os.environ.get("PRIVSYNTH_SHARED_DATASETS")
    or Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
)


def _schema(name: str) -> Schema:
    return Schema.from_json((TEST_DATA / f"{name}.schema.json").read_text(encoding="utf-8"))


def _read(name: str, schema: Schema, missing: tuple[str, ...]) -> pd.DataFrame:
    from privsynth.io import read_table

    return read_table(TEST_DATA / name, schema=schema, missing_values=missing)




def _load_independent_accounting() -> Any:
    """tests/independent_accounting.py, loaded by path (``tests`` is not a package: another
    distribution's top-level ``tests`` package could shadow it)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "privsynth_tests_independent_accounting",
        Path(__file__).with_name("independent_accounting.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def independent_accounting() -> Any:
    """Ledger totals recomputed with dp-accounting directly: ``.ledger_total(doc)``,
    ``.release_epsilon(events, delta)`` (see tests/independent_accounting.py)."""
    return _load_independent_accounting()

@pytest.fixture(scope="session")
def test_data() -> Path:
    """The folder of the shipped fixtures (``tests/data``)."""
    return TEST_DATA


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """Path to ../shared/datasets; skips the test when the folder is absent."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"shared data sets not found at {SHARED_DATASETS}")
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def adult_schema() -> Schema:
    """The bundled public schema of UCI Adult."""
    from privsynth.datasets import adult_schema

    return adult_schema()


@pytest.fixture(scope="session")
def _adult_train_full() -> pd.DataFrame:
    from privsynth.datasets import load_adult

    return load_adult("train")


@pytest.fixture
def adult_train_small(_adult_train_full: pd.DataFrame) -> pd.DataFrame:
    """The first 2,000 rows of the bundled Adult training split, coerced (a fresh copy)."""
    return _adult_train_full.iloc[:2000].copy()


@pytest.fixture(scope="session")
def adult_sample(adult_schema: Schema) -> pd.DataFrame:
    """400 random rows of the Adult training split (``tests/data/adult_sample.csv``)."""
    return _read("adult_sample.csv", adult_schema, ("",))


@pytest.fixture(scope="session")
def penguins_schema() -> Schema:
    """A public schema for Palmer penguins, written from the published description.

    Bounds are round ranges that cover what is known of the three species
    (Adelie, Chinstrap, Gentoo) from field guides, not the data's minima and
    maxima. The study years are 2007-2009. "NA" marks missing measurements.
    """
    return _schema("penguins")


@pytest.fixture(scope="session")
def penguins_df(penguins_schema: Schema) -> pd.DataFrame:
    """All 344 Palmer penguins (``tests/data/penguins.csv``), read with ``penguins_schema``."""
    return _read("penguins.csv", penguins_schema, ("", "NA"))


@pytest.fixture(scope="session")
def acs_schema() -> Schema:
    """The NIST ACS excerpt's schema, written from NIST's public data dictionary."""
    return _schema("acs")


@pytest.fixture(scope="session")
def acs_sample(acs_schema: Schema) -> pd.DataFrame:
    """400 random rows of the NIST ACS excerpt; "N" (not applicable) is missing."""
    return _read("acs_sample.csv", acs_schema, ("N",))


@pytest.fixture(scope="session")
def planes_and_flights() -> tuple[pd.DataFrame, pd.DataFrame, Schema, Schema]:
    """A parent/child pair of nycflights13: 60 planes and 450 flights, with schemas.

    400 flights are by the 60 planes, 40 by planes missing from planes.csv and
    10 have no tailnum, as in the full tables. Returns ``(planes, flights,
    planes_schema, flights_schema)``.
    """
    planes_schema, flights_schema = _schema("planes"), _schema("flights")
    return (_read("planes_sample.csv", planes_schema, ("NA",)),
            _read("flights_sample.csv", flights_schema, ("NA",)),
            planes_schema, flights_schema)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``run("fit", ...)`` -> (exit code, stdout, stderr) of ``privsynth -q ...`` in-process."""
    from privsynth import cli

    def _run(*argv: object) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main(["-q", *(str(a) for a in argv)])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Tiny networks: torch's intra-op threads only contend on a busy machine (10x slower).

    Skips the test when torch (the ``gan`` extra) is not installed.
    """
    torch = pytest.importorskip("torch", reason="DPCTGAN needs the gan extra (torch, opacus)")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="session")
def linked_numbers() -> Callable[[int, int], tuple[dict[str, pd.DataFrame], dict[str, Schema]]]:
    """``linked_numbers(n, seed)``: planes (seats 20..400, year) with 1..8 flights each whose
    distance is 10 x seats plus noise: a numeric parent/child link (correlation about 0.88
    across the join), with the schemas of both tables (key ``tailnum``)."""

    def make(n: int, seed: int) -> tuple[dict[str, pd.DataFrame], dict[str, Schema]]:
        rng = np.random.default_rng(seed)
        seats = rng.integers(20, 401, n)
        reps = rng.integers(1, 9, n)
        planes = pd.DataFrame({"tailnum": [f"N{i}" for i in range(n)], "seats": seats,
                               "year": rng.integers(1990, 2014, n)})
        distance = np.repeat(seats, reps) * 10 + rng.normal(0, 600, reps.sum())
        flights = pd.DataFrame({"tailnum": np.repeat(planes["tailnum"].to_numpy(), reps),
                                "distance": np.clip(distance, 0, 5000).astype(int),
                                "month": rng.integers(1, 13, reps.sum())})
        schemas = {"planes": Schema.from_dict({"columns": [
            {"name": "tailnum", "kind": "id"},
            {"name": "seats", "kind": "integer", "lower": 1, "upper": 500},
            {"name": "year", "kind": "integer", "lower": 1950, "upper": 2013}]}),
            "flights": Schema.from_dict({"columns": [
                {"name": "tailnum", "kind": "id"},
                {"name": "distance", "kind": "integer", "lower": 0, "upper": 5000},
                {"name": "month", "kind": "integer", "lower": 1, "upper": 12}]})}
        return {"planes": planes, "flights": flights}, schemas

    return make

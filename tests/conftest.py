"""Shared fixtures: bundled and shared data sets, public schemas, the engine registry.

The read-only data sets live outside the repository in ``../shared/datasets``;
every fixture that needs them skips cleanly when that folder is absent.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd
import pytest

from privsynth.schema import Schema

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def registered_engines() -> list[str]:
    """Names of the engines in the registry, or [] while no registry exists yet.

    The contract battery parametrizes over these; a test that takes an
    ``engine_name`` argument runs once per registered engine.
    """
    for module_name in ("privsynth.engines.registry", "privsynth.engines"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        names = getattr(module, "names", None)
        if callable(names):
            return sorted(str(n) for n in names())
    return []


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # tests asking for ``engine_name`` run once per registered engine
    if "engine_name" in metafunc.fixturenames:
        metafunc.parametrize("engine_name", registered_engines())


@pytest.fixture(scope="session")
def engines() -> list[str]:
    """The registered engine names (possibly empty)."""
    return registered_engines()


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
def penguins_schema() -> Schema:
    """A public schema for Palmer penguins, written from the published description.

    Bounds are round ranges that cover what is known of the three species
    (Adelie, Chinstrap, Gentoo) from field guides, not the data's minima and
    maxima. The study years are 2007-2009. "NA" marks missing measurements.
    """
    return Schema.from_dict(
        {
            "source": "public",
            "columns": [
                {
                    "name": "species",
                    "kind": "categorical",
                    "categories": ["Adelie", "Chinstrap", "Gentoo"],
                },
                {
                    "name": "island",
                    "kind": "categorical",
                    "categories": ["Biscoe", "Dream", "Torgersen"],
                    "description": "the three islands of the Palmer Archipelago studied",
                },
                {
                    "name": "bill_length_mm",
                    "kind": "float",
                    "lower": 30,
                    "upper": 60,
                    "nullable": True,
                    "decimals": 1,
                },
                {
                    "name": "bill_depth_mm",
                    "kind": "float",
                    "lower": 10,
                    "upper": 25,
                    "nullable": True,
                    "decimals": 1,
                },
                {
                    "name": "flipper_length_mm",
                    "kind": "integer",
                    "lower": 150,
                    "upper": 250,
                    "nullable": True,
                },
                {
                    "name": "body_mass_g",
                    "kind": "integer",
                    "lower": 2000,
                    "upper": 7000,
                    "nullable": True,
                },
                {
                    "name": "sex",
                    "kind": "categorical",
                    "categories": ["female", "male"],
                    "nullable": True,
                },
                {"name": "year", "kind": "integer", "lower": 2007, "upper": 2009},
            ],
        }
    )


@pytest.fixture(scope="session")
def penguins_df(shared_datasets: Path, penguins_schema: Schema) -> pd.DataFrame:
    """Palmer penguins from ../shared/datasets, validated against ``penguins_schema``."""
    from privsynth.io import read_table

    return read_table(
        shared_datasets / "penguins" / "penguins.csv",
        schema=penguins_schema,
        missing_values=("", "NA"),
    )

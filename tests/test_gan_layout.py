"""The DP-CTGAN data representation (public bins + offset): a lossless round trip.

GanLayout is what DP-CTGAN trains on and decodes from; it depends on the public
schema only. Encoding a validated frame and decoding the one-hot codes with
their offsets must give the frame back: integers and categories exactly,
floats and dates up to float32 precision within their bin, missing as missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from privsynth.engines.dpctgan._layout import GanLayout
from privsynth.schema import Schema

SCHEMA = Schema.from_dict({"columns": [
    {"name": "c", "kind": "categorical", "categories": ["a", "b", "c"], "nullable": True},
    {"name": "i", "kind": "integer", "lower": -5, "upper": 120, "nullable": True},
    {"name": "f", "kind": "float", "lower": 0.0, "upper": 1000.0},
    {"name": "d", "kind": "datetime", "lower": "2020-01-01", "upper": "2020-12-31"},
    {"name": "b", "kind": "boolean"},
]})


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    i = pd.array(rng.integers(-5, 121, n), dtype="Int64")
    i[rng.random(n) < 0.1] = pd.NA
    c = pd.Series(rng.choice(["a", "b", "c"], n), dtype="object")
    c[rng.random(n) < 0.1] = None
    days = rng.integers(0, 365, n)
    return pd.DataFrame({
        "c": c, "i": i, "f": rng.uniform(0, 1000, n),
        "d": pd.to_datetime("2020-01-01") + pd.to_timedelta(days, unit="D"),
        "b": rng.random(n) < 0.5,
    })


def _decode(layout: GanLayout, x: np.ndarray) -> pd.DataFrame:
    d = len(layout.schema.columns)
    codes = np.zeros((len(x), d), dtype=np.int64)
    offsets = np.zeros((len(x), d))
    for sp in layout.spans:
        if sp.kind == "onehot":
            codes[:, sp.column] = x[:, sp.start:sp.stop].argmax(axis=1)
        else:
            offsets[:, sp.column] = x[:, sp.start]
    return layout.decode(codes, offsets)


@pytest.mark.parametrize("max_bins", [2, 7, 64])
def test_encode_then_decode_gives_the_rows_back(max_bins: int) -> None:
    df = _frame(500, seed=max_bins)
    layout = GanLayout(SCHEMA, max_bins=max_bins)
    x, cond = layout.encode(df)
    assert x.shape == (500, layout.dim)
    # every one-hot span holds exactly one 1; offsets lie in [-1, 1]
    for sp in layout.spans:
        block = x[:, sp.start:sp.stop]
        if sp.kind == "onehot":
            assert (block.sum(axis=1) == 1).all()
        else:
            assert (np.abs(block) <= 1).all()
    # the conditional codes are those of the discrete columns (c and b)
    assert cond.shape == (500, 2)
    back = _decode(layout, x)
    assert back["c"].isna().tolist() == df["c"].isna().tolist()
    assert back["c"].dropna().tolist() == df["c"].dropna().tolist()
    assert back["i"].isna().tolist() == df["i"].isna().tolist()
    assert back["i"].dropna().astype(int).tolist() == df["i"].dropna().astype(int).tolist()
    np.testing.assert_allclose(back["f"].to_numpy(float), df["f"].to_numpy(), atol=1000 / 2**18)
    gap = (pd.to_datetime(back["d"]) - df["d"]).abs().max()
    assert gap < pd.Timedelta(days=1)
    assert back["b"].astype(bool).tolist() == df["b"].tolist()


def test_the_layout_depends_on_the_schema_only() -> None:
    a = GanLayout(SCHEMA, max_bins=16)
    b = GanLayout(SCHEMA, max_bins=16)
    assert a.spans == b.spans and a.dim == b.dim and a.cond_sizes == b.cond_sizes
    # bins are public: encoding two different frames uses the same positions
    xa, _ = a.encode(_frame(50, 1))
    xb, _ = a.encode(_frame(50, 2))
    assert xa.shape[1] == xb.shape[1] == a.dim

"""Determinism: the insecure test seed reproduces everything, and nothing else does.

- With ``Noise.insecure_for_tests(seed)``, fit and sample are bit-identical
  across runs *and across processes* (different ``PYTHONHASHSEED``): the saved
  model file and the sampled CSV have the same SHA-256.
- Without it, privacy noise is fresh on every fit (two fits differ), while
  ``random_state`` still makes sampling from one fitted model reproducible.
- The ledger marks seeded (non-private) fits, and only those.

The in-process reproducibility of every engine is in the engine contract
tests; this module adds the cross-process and file-level checks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from privsynth.accounting import Accountant
from privsynth.engines.privbayes import PrivBayes
from privsynth.mechanisms import InsecureNoiseWarning, Noise
from privsynth.schema import Schema

SCHEMA_DICT: dict[str, Any] = {"columns": [
    {"name": "a", "kind": "categorical", "categories": ["x", "y", "z"]},
    {"name": "n", "kind": "integer", "lower": 0, "upper": 99},
    {"name": "f", "kind": "float", "lower": 0.0, "upper": 1.0, "nullable": True},
    {"name": "b", "kind": "boolean"},
]}
SCHEMA = Schema.from_dict(SCHEMA_DICT)


def _data(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(7)  # the test's own data, not privacy noise
    f = rng.random(n)
    f[rng.random(n) < 0.1] = np.nan
    a = rng.choice(["x", "y", "z"], n, p=[0.6, 0.3, 0.1])
    return pd.DataFrame({"a": a, "n": rng.integers(0, 100, n), "f": f,
                         "b": (a == "x") ^ (rng.random(n) < 0.2)})


def _seeded(seed: int) -> Noise:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureNoiseWarning)
        return Noise.insecure_for_tests(seed)


# The hashes compared: of the model file's DP content and of a sample. The fit record
# (ledger entries with their timestamps and ids, the release id) is unique to each fit by
# design (it links the model to its own ledger entries), so it is left out; everything the
# noise determines is compared. Shared verbatim with the child process below.
_FINGERPRINT = textwrap.dedent("""
    def _fingerprint(model, tmp):
        import hashlib, json
        path = tmp / "model.json"
        model.save(path)
        payload = json.loads(path.read_text())["payload"]
        record = payload.pop("record")
        for entry in record["entries"]:
            for key in ("timestamp", "release", "prev", "id"):
                entry.pop(key)
        for key in ("release", "ledger"):
            record.pop(key)
        payload["record"] = record
        csv = model.sample(500, random_state=3).to_csv(index=False)
        return (hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest(),
                hashlib.sha256(csv.encode()).hexdigest())
""")
_ns: dict[str, Any] = {}
exec(_FINGERPRINT, _ns)
_fingerprint = _ns["_fingerprint"]


def test_seeded_fit_and_sample_are_bit_identical(tmp_path: Path) -> None:
    first = PrivBayes().fit(_data(), schema=SCHEMA, epsilon=1.0, noise=_seeded(5))
    second = PrivBayes().fit(_data(), schema=SCHEMA, epsilon=1.0, noise=_seeded(5))
    assert first.network_ == second.network_
    for t1, t2 in zip(first.tables_, second.tables_, strict=True):
        assert t1.tobytes() == t2.tobytes()  # bit-identical, not merely close
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    assert _fingerprint(first, tmp_path / "1") == _fingerprint(second, tmp_path / "2")
    # another seed gives another model
    other = PrivBayes().fit(_data(), schema=SCHEMA, epsilon=1.0, noise=_seeded(6))
    assert any(a.shape != b.shape or a.tobytes() != b.tobytes()
               for a, b in zip(first.tables_, other.tables_, strict=False)) \
        or first.network_ != other.network_


_CHILD = textwrap.dedent("""
    import hashlib, json, sys, warnings, tempfile, pathlib
    import numpy as np, pandas as pd
    exec(json.loads(sys.argv[1])["fingerprint"])
    from privsynth.engines.privbayes import PrivBayes
    from privsynth.mechanisms import InsecureNoiseWarning, Noise
    from privsynth.schema import Schema
    spec = json.loads(sys.argv[1])
    df = pd.read_json(spec["data"], orient="split")
    warnings.simplefilter("ignore", InsecureNoiseWarning)
    model = PrivBayes().fit(df, schema=Schema.from_dict(spec["schema"]), epsilon=1.0,
                            noise=Noise.insecure_for_tests(spec["seed"]))
    print(json.dumps(list(_fingerprint(model, pathlib.Path(tempfile.mkdtemp())))))
""")


def _in_subprocess(seed: int, hashseed: str, data_json: Path) -> tuple[str, str]:
    spec = json.dumps({"schema": SCHEMA_DICT, "seed": seed, "data": str(data_json),
                       "fingerprint": _FINGERPRINT})
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    out = subprocess.run([sys.executable, "-c", _CHILD, spec], capture_output=True, text=True,
                         env=env, timeout=300, check=True)
    a, b = json.loads(out.stdout.strip().splitlines()[-1])
    return a, b


def test_seeded_fit_is_identical_across_processes(tmp_path: Path) -> None:
    data_json = tmp_path / "data.json"
    df = _data()
    data_json.write_text(df.to_json(orient="split"))
    # what the child reads back is what is fitted here (json round trip of the data)
    df_back = pd.read_json(data_json, orient="split")
    local = _fingerprint(PrivBayes().fit(df_back, schema=SCHEMA, epsilon=1.0,
                                         noise=_seeded(11)), tmp_path)
    assert _in_subprocess(11, "1", data_json) == local
    assert _in_subprocess(11, "12345", data_json) == local


def test_default_noise_is_fresh_on_every_fit() -> None:
    df = _data()
    fits = [PrivBayes().fit(df, schema=SCHEMA, epsilon=1.0) for _ in range(3)]
    keys = {(tuple(map(str, m.network_)), b"".join(t.tobytes() for t in m.tables_))
            for m in fits}
    assert len(keys) == 3  # three fits, three different noisy models


def test_random_state_reproduces_sampling_from_one_unseeded_model() -> None:
    model = PrivBayes().fit(_data(), schema=SCHEMA, epsilon=1.0)
    a = model.sample(400, random_state=42)
    b = model.sample(400, random_state=42)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(model.sample(400, random_state=43))
    assert not model.sample(400).equals(model.sample(400))  # no seed: fresh draws


def test_ledger_marks_seeded_fits_only() -> None:
    seeded, fresh = Accountant(1.0), Accountant(1.0)
    m1 = PrivBayes().fit(_data(), schema=SCHEMA, epsilon=1.0, accountant=seeded,
                         noise=_seeded(1))
    m2 = PrivBayes().fit(_data(), schema=SCHEMA, epsilon=1.0, accountant=fresh)
    assert seeded.ledger.entries and all(e.reproducible_noise for e in seeded.ledger)
    assert fresh.ledger.entries and not any(e.reproducible_noise for e in fresh.ledger)
    assert m1.reproducible_noise_ is True and m2.reproducible_noise_ is False


def test_insecure_noise_warns() -> None:
    with pytest.warns(InsecureNoiseWarning, match="NOT"):
        Noise.insecure_for_tests(0)


@pytest.mark.slow
def test_dpctgan_seeded_fit_is_bit_identical() -> None:
    from privsynth.engines.dpctgan import DPCTGAN, gan_available

    if not gan_available():
        pytest.skip("DPCTGAN needs the gan extra (torch, opacus)")
    df = _data(200)

    def fit(seed: int) -> Any:
        return DPCTGAN(epochs=1, batch_size=50, generator_dim=(16,), discriminator_dim=(16,),
                       embedding_dim=8).fit(df, schema=SCHEMA, epsilon=2.0, delta=1e-4,
                                            noise=_seeded(seed))

    a, b = fit(3), fit(3)
    pd.testing.assert_frame_equal(a.sample(200, random_state=0), b.sample(200, random_state=0))
    for pa, pb in zip(a.cond_probs_, b.cond_probs_, strict=True):
        assert pa.tobytes() == pb.tobytes()

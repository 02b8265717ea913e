"""A single-table model states what its own ledger entries prove, and only that (rule 7).

A fit states its entries' composition, never less (rounded up to the request
when float shares compose one ulp below it). A model file whose stated
epsilon was lowered (its own checksum and the manifest's hashes redone, the
entries untouched) is refused by ``load`` and fails ``privsynth verify``
with exit 7, for PrivBayes (pure events: exact sums) and DP-CTGAN (PLD/RDP
compositions). Multi-table files have the same check (tests/test_tables.py).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import privsynth
from privsynth.accounting import Accountant, GaussianEvent, LaplaceEvent, Ledger, compose
from privsynth.datasets import adult_schema, load_adult
from privsynth.engines.base import FitDetails, Synthesizer
from privsynth.engines.record import FitRecord, LedgerRef, PrivacyUnit, check_claim
from privsynth.errors import ModelFileError
from privsynth.mechanisms import Noise
from privsynth.release import independent, verify_release, write_manifest
from privsynth.schema import Schema

Run = Callable[..., tuple[int, str, str]]
GAN = importlib.util.find_spec("torch") is not None \
    and importlib.util.find_spec("opacus") is not None


# --------------------------------------------------------------------------- fit
class _Spender(Synthesizer):
    """A stand-in engine: spends Laplace events of the given shares of epsilon, learns nothing."""

    name = "spender-test"

    def __init__(self, shares: tuple[float, ...] = (1.0,)) -> None:
        self.shares = shares

    @classmethod
    def _params_from_file(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"shares": tuple(params["shares"])}

    def _check_params(self) -> None:
        pass

    def _fit(self, data: Any, *, schema: Schema, release: Any, noise: Noise,
             **options: Any) -> FitDetails:
        for i, share in enumerate(self.shares):
            release.spend(LaplaceEvent(release.epsilon * share), label=f"spender/{i}")
        return FitDetails(noisy_rows=None)

    def _draw_raw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        return pd.DataFrame({"c": rng.choice(["a", "b"], n)})

    def _to_payload(self) -> dict[str, Any]:
        return {}

    def _from_payload(self, payload: Mapping[str, Any], schema: Schema) -> None:
        pass


SPENDER_SCHEMA = Schema.from_dict({"columns": [
    {"name": "c", "kind": "categorical", "categories": ["a", "b"]}]})


@pytest.mark.parametrize(("shares", "epsilon", "stated"), [
    ((0.3, 0.3, 0.4), 0.9, 0.9000000000000001),  # the shares' sum rounds one ulp above 0.9
    ((1 / 3, 1 / 3, 1 / 3), 0.9, 0.9),  # ... one ulp below: stated as asked, rounded up
    ((1 / 3, 1 / 3, 1 / 3), 1.0, 1.0),
    ((0.1, 0.2), 1.0, 0.300000000001),  # a fit that spends less states what it spent
], ids=["composition-above", "composition-one-ulp-below", "epsilon-1", "spends-less"])
def test_a_fit_states_its_composition_never_less(shares: tuple[float, ...], epsilon: float,
                                                  stated: float, tmp_path: Path) -> None:
    data = pd.DataFrame({"c": ["a", "b", "a"]})
    model = _Spender(shares).fit(data, schema=SPENDER_SCHEMA, epsilon=epsilon)
    composed = compose([e.event for e in model.record_.entries], 0.0).epsilon
    assert composed == math.fsum(epsilon * s for s in shares)
    assert model.record_.epsilon == stated
    assert model.record_.epsilon >= composed
    model.save(tmp_path / "m.json")
    assert _Spender.load(tmp_path / "m.json").record_ == model.record_


def test_an_epsilon_1_privbayes_fit_states_exactly_1() -> None:
    model = privsynth.PrivBayes(degree=1).fit(load_adult().head(400), schema=adult_schema(),
                                              epsilon=1.0)
    assert model.record_.epsilon == 1.0


@pytest.mark.parametrize(("degree", "epsilon"), [(1, 0.3), (1, 0.5), (1, 0.7), (2, 0.9),
                                                 (0, 0.7), (None, 0.3)])
def test_a_privbayes_fit_never_composes_an_ulp_above_its_epsilon(degree: int | None,
                                                                 epsilon: float) -> None:
    """Float shares of these epsilons summed to 0.30000000000000004 etc.; the last table's
    (or histogram's) epsilon is lowered by that ulp, so the stated number is the request
    and the entries prove it."""
    params = {} if degree is None else {"degree": degree}
    model = privsynth.PrivBayes(**params).fit(load_adult().head(400), schema=adult_schema(),
                                              epsilon=epsilon)
    assert model.record_.epsilon == epsilon


# --------------------------------------------------------------------------- load, verify
def _privbayes(acct: Accountant) -> Synthesizer:
    return privsynth.PrivBayes(degree=1).fit(load_adult().head(400), schema=adult_schema(),
                                             epsilon=1.0, accountant=acct, release="r1")


def _dpctgan(acct: Accountant) -> Synthesizer:
    from privsynth.engines.dpctgan import DPCTGAN

    schema = Schema.from_dict({"columns": [
        {"name": "x", "kind": "float", "lower": -5, "upper": 5, "decimals": 2},
        {"name": "c", "kind": "categorical", "categories": ["p", "q"]}]})
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x": rng.uniform(-5, 5, 400).round(2), "c": rng.choice(["p", "q"], 400)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a small table: DP-SGD cannot learn much (warned)
        return DPCTGAN(epochs=1, batch_size=100, generator_dim=(16,), discriminator_dim=(16,),
                       embedding_dim=8).fit(df, schema=schema, epsilon=1.0, delta=1e-5,
                                            accountant=acct, release="r1")


def _release_folder(folder: Path, engine: str) -> Path:
    """A release folder (model, ledger, manifest) of one fit at epsilon 1; the model's path."""
    folder.mkdir()
    acct = Accountant(2.0, 1e-5) if engine == "dpctgan" else Accountant(2.0)
    model = _dpctgan(acct) if engine == "dpctgan" else _privbayes(acct)
    model.save(folder / "model.json")
    acct.to_json(folder / "ledger.json")
    write_manifest(folder, model=model, model_file=folder / "model.json", accountant=acct,
                   ledger_file=folder / "ledger.json")
    return folder / "model.json"


def _restate(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Edit the model's record, redo its checksum, and state the same in the manifest."""
    path = folder / "model.json"
    doc = json.loads(path.read_text())
    change(doc["payload"]["record"])
    canon = json.dumps(doc["payload"], sort_keys=True, separators=(",", ":"))
    doc["sha256"] = hashlib.sha256(canon.encode()).hexdigest()
    path.write_text(json.dumps(doc))
    manifest = json.loads((folder / "manifest.json").read_text())
    for f in manifest["files"]:
        f["sha256"] = hashlib.sha256((folder / f["name"]).read_bytes()).hexdigest()
    manifest["releases"][0]["epsilon"] = doc["payload"]["record"]["epsilon"]
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("engine", ["privbayes", pytest.param("dpctgan", marks=pytest.mark.skipif(
    not GAN, reason="DPCTGAN needs the gan extra (torch, opacus)"))])
def test_a_lowered_claim_is_refused_on_load_and_by_verify(engine: str, tmp_path: Path,
                                                          run: Run,
                                                          request: pytest.FixtureRequest) -> None:
    if engine == "dpctgan":
        request.getfixturevalue("one_torch_thread")
    folder = tmp_path / "release"
    path = _release_folder(folder, engine)
    loaded = privsynth.load_model(path)  # the untouched file loads
    assert (loaded.record_.method == "sum") == (engine == "privbayes")  # exact sum or PLD/RDP
    _restate(folder, lambda record: record.update(epsilon=0.01))
    with pytest.raises(ModelFileError, match=r"the fit record states epsilon 0\.01, below the "
                       r"(1|0\.99\d*) its ledger entries compose to.*fit again"):
        privsynth.load_model(path)
    code, out, _ = run("verify", folder)
    assert code == 7, out
    assert "stated own epsilon 0.01" in out and "is below the" in out


def test_a_pure_claim_below_the_exact_sum_is_refused_but_rounding_is_not(tmp_path: Path) -> None:
    """0.04 % below the exact sum of pure events: refused (the PLD tolerance is for PLD/RDP
    bounds only); 1e-12 below (float rounding of a sum): loads, and verifies."""
    folder = tmp_path / "release"
    path = _release_folder(folder, "privbayes")
    _restate(folder, lambda record: record.update(epsilon=record["epsilon"] * (1 - 4e-4)))
    with pytest.raises(ModelFileError, match=r"states epsilon 0\.9996, below the 1 "):
        privsynth.load_model(path)
    assert verify_release(folder).exit_code == 7
    _restate(folder, lambda record: record.update(epsilon=(1 - 1e-12)))
    assert privsynth.load_model(path).record_.epsilon == 1 - 1e-12
    assert verify_release(folder).passed


FORGED: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    # a row-level fit relabelled as protecting a plane with 50 rows (it protects those
    # rows only at about 50 times its epsilon)
    ("unit added", lambda r: r.update(unit={"column": "age", "max_rows": 50}),
     "privacy unit 'age' that its engine or schema cannot have"),
    ("unit rows raised", lambda r: r.update(unit={"column": None, "max_rows": 50}),
     "privacy unit is malformed"),
    ("delta edited", lambda r: r.update(delta=1e-4, epsilon=r["epsilon"] * 0.9),
     "another release or delta"),
    ("release renamed", lambda r: r.update(release="other"), "another release or delta"),
    ("noise flag flipped", lambda r: r.update(reproducible_noise=True),
     "says its noise was seeded, its ledger entries say otherwise"),
    ("no entries", lambda r: r.update(entries=[], epsilon=0.0), "lists no ledger entries"),
]


@pytest.mark.parametrize(("case", "change", "match"), FORGED, ids=[f[0] for f in FORGED])
def test_a_record_that_contradicts_its_entries_is_refused_on_load(
        tmp_path: Path, case: str, change: Callable[[dict[str, Any]], None],
        match: str) -> None:
    """The unit, delta, release and noise a record states are the ones its entries carry
    (review r6): a forged unit would make the report's threat model promise what the
    noise does not give."""
    folder = tmp_path / "release"
    path = _release_folder(folder, "privbayes")
    _restate(folder, change)
    with pytest.raises(ModelFileError, match=match):
        privsynth.load_model(path)
    if case == "unit added":  # verify: the ledger (its unit under the genesis hash) disagrees
        v = verify_release(folder)
        assert v.exit_code == 7 and any("the data set's ledger protects None" in line
                                        for line in v.lines()), v.lines()


def _unit_release(folder: Path) -> Path:
    """A release folder of one unit-level PrivBayes fit (unit 'pid', 5 rows); the model's path."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"pid": rng.integers(0, 80, 400).astype(str),
                       "x": rng.choice(["a", "b"], 400)})
    schema = Schema.from_dict({"columns": [{"name": "pid", "kind": "id"},
                                           {"name": "x", "kind": "categorical",
                                            "categories": ["a", "b"]}]})
    folder.mkdir()
    acct = Accountant(2.0, unit="pid")
    m = privsynth.PrivBayes().fit(df, schema=schema, epsilon=1.0, privacy_unit="pid",
                                  max_rows_per_unit=5, accountant=acct, release="r1")
    m.save(folder / "model.json")
    acct.to_json(folder / "ledger.json")
    write_manifest(folder, model=m, model_file=folder / "model.json", accountant=acct,
                   ledger_file=folder / "ledger.json")
    return folder / "model.json"


def test_verify_refuses_a_unit_its_counts_were_not_noised_for(tmp_path: Path) -> None:
    """A unit-level release whose record raises max_rows 5 -> 50 (checksums redone)."""
    folder = tmp_path / "release"
    _unit_release(folder)
    assert verify_release(folder).passed
    _restate(folder, lambda r: r["unit"].update(max_rows=50))
    v = verify_release(folder)
    assert v.exit_code == 7 and any("noise is calibrated for another number of rows" in line
                                    for line in v.lines()), v.lines()


def test_an_honest_unit_level_fit_loads(tmp_path: Path) -> None:
    folder = tmp_path / "release"
    path = _unit_release(folder)
    assert privsynth.load_model(path).record_.unit == PrivacyUnit("pid", 5)
    # its unit raised to 50 rows: the counts' noise is for 5, so the claim is false
    _restate(folder, lambda r: r["unit"].update(max_rows=50))
    with pytest.raises(ModelFileError, match=r"privacy unit of up to 50 row\(s\), but the "
                       r"noise of \d+ of its counts \(e\.g\. 'privbayes/row_count'\)"):
        privsynth.load_model(path)


# --------------------------------------------------------------------------- the check
def _gaussian_record(epsilon: float | None = None, delta: float = 1e-5) -> FitRecord:
    led = Ledger()
    entries = tuple(led.append(GaussianEvent(sigma=4.0), label=f"g{i}", release="r",
                               release_delta=1e-5) for i in range(3))
    own = compose([e.event for e in entries], 1e-5).epsilon
    return FitRecord(engine="demo", params={}, epsilon=own if epsilon is None else epsilon,
                     delta=delta, method="pld", entries=entries, release="r",
                     ledger=LedgerRef("none", head=led.head), noisy_rows=None,
                     reproducible_noise=False)


def test_a_composed_claim_has_the_pld_tolerance_and_nothing_more() -> None:
    own = _gaussian_record().epsilon
    check_claim(_gaussian_record())
    check_claim(_gaussian_record(own * (1 - 5e-4)))  # PLD numerics: within 1e-3
    with pytest.raises(ModelFileError, match="below the"):
        check_claim(_gaussian_record(own * (1 - 2e-3)))
    # the same epsilon at a smaller delta is a stronger claim than the entries prove; the
    # entries carry the delta their release was fitted at
    with pytest.raises(ModelFileError, match=r"another release or delta"):
        check_claim(_gaussian_record(own, delta=1e-9))
    for delta in (float("nan"), -1e-5, 1.0):
        with pytest.raises(ModelFileError, match="states no valid guarantee"):
            check_claim(_gaussian_record(own, delta=delta))
    with pytest.raises(ModelFileError, match="states no valid guarantee"):
        check_claim(_gaussian_record(float("nan")))


def test_load_and_verify_use_the_same_tolerances() -> None:
    """verify recomputes independently (imports nothing from privsynth); its rules match."""
    from privsynth.engines import record

    assert record.PURE_RELATIVE_TOLERANCE == independent.PURE_RELATIVE_TOLERANCE
    assert record.RELATIVE_TOLERANCE == independent.RELATIVE_TOLERANCE

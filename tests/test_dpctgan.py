"""DP-CTGAN specifics beyond the contract battery (issue 6).

- the ledger's epsilon for the DP-SGD run agrees with Opacus' own accountant;
- a fit that does not fit the remaining budget is refused before training;
- the insecure reproducible mode is reproducible, the default is not;
- a small fit on the penguins data gives schema-valid rows;
- without torch, DPCTGAN raises MissingExtraError naming the extra;
- ``import privsynth`` does not import torch.

Fits are tiny (a few DP-SGD steps); the whole file runs in well under a minute.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from privsynth.accounting import Accountant, PureDPEvent, SubsampledGaussianEvent, compose
from privsynth.errors import BudgetExceededError, MissingExtraError
from privsynth.mechanisms import InsecureNoiseWarning, Noise
from privsynth.schema import Schema

pytestmark = pytest.mark.gan

SCHEMA = Schema.from_dict({"columns": [
    {"name": "c", "kind": "categorical", "categories": ["a", "b", "c"]},
    {"name": "x", "kind": "integer", "lower": 0, "upper": 100},
    {"name": "y", "kind": "float", "lower": -5, "upper": 5, "decimals": 2},
    {"name": "f", "kind": "boolean"},
]})
FAST = {"epochs": 2, "batch_size": 100, "generator_dim": (32,), "discriminator_dim": (32,),
        "embedding_dim": 16}


def _toy(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1])
    return pd.DataFrame({
        "c": c,
        "x": np.clip(rng.normal(40, 15, n).round(), 0, 100).astype(np.int64),
        "y": np.clip(rng.normal(0, 2, n), -5, 5).round(2),
        "f": pd.array(c == "a", dtype="boolean"),
    })


def _insecure(seed: int) -> Noise:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureNoiseWarning)
        return Noise.insecure_for_tests(seed)


@pytest.fixture(scope="module")
def gan() -> Iterator[type]:
    torch = pytest.importorskip("torch")
    pytest.importorskip("opacus")
    from privsynth.engines.dpctgan import DPCTGAN

    # tiny tensors gain nothing from threads, and on a busy machine torch's spinning
    # worker threads make each op 10-100x slower
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield DPCTGAN
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def toy() -> pd.DataFrame:
    return _toy()


@pytest.fixture(scope="module")
def fitted(gan: type, toy: pd.DataFrame) -> tuple[Any, Accountant]:
    acct = Accountant(1.0, 1e-5)
    model = gan(**FAST).fit(toy, schema=SCHEMA, epsilon=1.0, accountant=acct,
                            noise=_insecure(3))
    return model, acct


# -- (a) our ledger vs Opacus' accountant -------------------------------------
def test_ledger_epsilon_matches_opacus_accountant(fitted: tuple[Any, Accountant]) -> None:
    from opacus.accountants import PRVAccountant, RDPAccountant

    model, acct = fitted
    delta = acct.delta
    sgd = [e.event for e in acct.history if e.label == "dpctgan/dpsgd"]
    assert len(sgd) == 1 and isinstance(sgd[0], SubsampledGaussianEvent)
    event = sgd[0]
    # the event charged is the run that happened: same sigma, rate and number of steps
    assert (event.noise_multiplier, event.sampling_rate, event.steps) == (
        model.noise_multiplier_, model.sampling_rate_, model.steps_)
    # Opacus' accountant was fed by the optimizer's step hook: it saw every step taken,
    # so training stopped exactly at the planned (and charged) number of steps
    assert model.opacus_accountant_.history == [
        (event.noise_multiplier, event.sampling_rate, event.steps)]

    ours = compose([event], delta).epsilon
    prv = PRVAccountant()
    prv.history = [(event.noise_multiplier, event.sampling_rate, event.steps)]
    prv_eps = prv.get_epsilon(delta, eps_error=1e-3)  # an upper bound within 1e-3
    assert ours == pytest.approx(prv_eps, rel=0.01)
    rdp = RDPAccountant()
    rdp.history = list(prv.history)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        rdp_eps = rdp.get_epsilon(delta)
    assert ours <= rdp_eps * (1 + 1e-9)  # PLD is tighter than Opacus' RDP bound

    # never above the request: counts + DP-SGD within epsilon = 1, and most of it used
    total = acct.spent().epsilon
    assert 0.9 <= total <= 1.0 * (1 + 1e-9)
    counts = [e for e in acct.history if e.label.startswith("dpctgan/counts/")]
    assert [e.label for e in counts] == ["dpctgan/counts/c", "dpctgan/counts/f"]


# -- (b) refused before training ------------------------------------------------
def test_over_budget_refused_before_anything_is_read(gan: type) -> None:
    class Untouchable(pd.DataFrame):
        """A frame whose rows must not be read (the refusal comes first)."""

        def __getitem__(self, key: object) -> Any:
            raise AssertionError("the data was read although the budget refuses the fit")

    data = Untouchable(_toy(50))
    acct = Accountant(1.0, 1e-5)
    acct.spend(PureDPEvent(0.7), label="earlier release")
    with pytest.raises(BudgetExceededError, match=r"DPCTGAN\.fit"):
        gan(**FAST).fit(data, schema=SCHEMA, epsilon=0.5, accountant=acct)
    assert [e.label for e in acct.history] == ["earlier release"]  # nothing was charged
    with pytest.raises(BudgetExceededError):
        gan(**FAST).fit(data, schema=SCHEMA, epsilon=1.5, delta=1e-5,
                        accountant=Accountant(1.0, 1e-5))


def test_own_guarantee_does_not_borrow_from_earlier_releases(gan: type,
                                                             toy: pd.DataFrame) -> None:
    """Issue 17: after a PrivBayes fit on the same ledger, DP-CTGAN's own events compose to
    at most the epsilon asked, and epsilon_ states exactly that composition."""
    from privsynth.engines.privbayes import PrivBayes

    acct = Accountant(2.0, 1e-6)
    PrivBayes().fit(toy, schema=SCHEMA, epsilon=1.0, accountant=acct, noise=_insecure(2))
    model = gan(**FAST).fit(toy, schema=SCHEMA, epsilon=1.0, delta=1e-6, accountant=acct,
                            noise=_insecure(4))
    own = compose([e.event for e in model.record_.entries], 1e-6)
    assert 0.9 <= own.epsilon <= 1.0 * (1 + 1e-9)
    assert model.epsilon_ == pytest.approx(own.epsilon, rel=1e-12)
    # alone, the same plan needs the same noise as on a fresh ledger (nothing borrowed)
    alone = gan(**FAST).fit(toy, schema=SCHEMA, epsilon=1.0, delta=1e-6, noise=_insecure(4))
    assert model.noise_multiplier_ == pytest.approx(alone.noise_multiplier_, rel=1e-9)
    assert acct.spent().epsilon <= 2.0 * (1 + 1e-9)
    assert {e.id for e in model.record_.entries} <= {e.id for e in acct.history}


def test_delta_is_refused_at_or_above_one_over_n(gan: type, toy: pd.DataFrame) -> None:
    from privsynth.errors import ParameterError

    with pytest.raises(ParameterError, match="not below 1/n"):
        gan(**FAST).fit(toy, schema=SCHEMA, epsilon=1.0, delta=0.01, noise=_insecure(1))


def test_more_dp_sgd_steps_than_the_cap_are_refused_before_dp_sgd(gan: type,
                                                                 toy: pd.DataFrame) -> None:
    from privsynth.errors import ParameterError

    acct = Accountant(2.0, 1e-5)  # 100,000 passes of batches of 2 over ~600 rows: 3e7 steps
    with pytest.raises(ParameterError, match=r"above 10,000,000.*Only the category counts"):
        gan(**{**FAST, "epochs": 100_000, "batch_size": 2}).fit(
            toy, schema=SCHEMA, epsilon=1.0, delta=1e-5, accountant=acct, noise=_insecure(1))
    assert {e.label.split("/")[1] for e in acct.history} == {"counts"}


def test_small_table_warns_that_dp_sgd_cannot_learn(gan: type, toy: pd.DataFrame) -> None:
    from privsynth.engines.dpctgan import CannotLearnWarning

    with pytest.warns(CannotLearnWarning, match="PrivBayes"):
        model = gan(**FAST).fit(toy, schema=SCHEMA, epsilon=1.0, delta=1e-5,
                                noise=_insecure(1))
    assert any("not expected to learn" in h for h in model.hazards_)


@pytest.mark.slow  # composes a ledger with an earlier DP-SGD run many times (~15 s idle)
def test_fit_after_approximate_dp_release_stays_in_budget(gan: type, toy: pd.DataFrame) -> None:
    # an earlier DP-SGD release states its own delta; the new one takes the rest of the
    # budget's delta and is calibrated on its own events only
    acct = Accountant(2.0, 1e-5)
    rel = acct.open_release("earlier", epsilon=1.0, delta=5e-6)
    rel.spend(SubsampledGaussianEvent(0.1, 2.0, 10), label="earlier DP-SGD")
    before = acct.spent().epsilon
    assert 0.2 < before < 1.0
    # the earlier release counts at the delta left (5e-6), so less than 2 - before is left
    room = acct.release_room(acct.unused_delta())
    assert 0.5 < room < 2.0 - before
    with pytest.raises(BudgetExceededError, match="own epsilon of at most"):
        gan(**FAST).fit(toy, schema=SCHEMA, epsilon=2.0 - before, accountant=acct,
                        noise=_insecure(1))
    model = gan(**FAST).fit(toy, schema=SCHEMA, epsilon=room, accountant=acct,
                            noise=_insecure(1))
    assert model.delta_ == pytest.approx(5e-6)
    assert acct.spent().epsilon <= 2.0 * (1 + 1e-9)
    assert model.steps_ >= 1


# -- (c) reproducible test mode -----------------------------------------------
def test_insecure_seed_reproducible_default_not(gan: type, toy: pd.DataFrame) -> None:
    def run(noise: Noise | None) -> pd.DataFrame:
        kwargs = {} if noise is None else {"noise": noise}
        model = gan(**FAST).fit(toy, schema=SCHEMA, epsilon=1.0, delta=1e-5, **kwargs)
        return model.sample(200, random_state=0)

    a, b = run(_insecure(11)), run(_insecure(11))
    pd.testing.assert_frame_equal(a, b)
    c, d = run(None), run(None)
    assert not c.equals(d)
    assert not a.equals(c)


def test_insecure_mode_is_flagged(fitted: tuple[Any, Accountant]) -> None:
    model, acct = fitted
    assert model.reproducible_noise_ is True
    assert any("NOT differentially private" in h for h in model.hazards_)
    assert all(e.reproducible_noise for e in acct.history)


# -- (d) penguins ---------------------------------------------------------------
def test_penguins_small_fit_schema_valid(gan: type, penguins_df: pd.DataFrame,
                                         penguins_schema: Schema) -> None:
    from privsynth.validation import validate

    model = gan(**FAST).fit(penguins_df, schema=penguins_schema, epsilon=2.0, delta=1e-5,
                            noise=_insecure(5))
    out = model.sample(500, random_state=2)
    assert list(out.columns) == list(penguins_schema.names)
    assert len(out) == 500
    clean = validate(out, penguins_schema)  # raises DataValidationError on any problem
    assert clean.shape == out.shape
    assert set(out["species"]) <= {"Adelie", "Chinstrap", "Gentoo"}
    assert out["year"].between(2007, 2009).all()
    assert out["body_mass_g"].dropna().between(2000, 7000).all()


# -- (e) missing extra ----------------------------------------------------------
def test_missing_torch_raises_missing_extra(fitted: tuple[Any, Accountant],
                                            tmp_path: object,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from privsynth.engines import dpctgan

    model, _ = fitted
    path = f"{tmp_path}/m.json"
    model.save(path)
    # None in sys.modules makes ``import torch`` fail and find_spec report it absent
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "opacus", None)
    assert dpctgan.gan_available() is False
    hint = 'pip install "privsynth[gan]"'
    with pytest.raises(MissingExtraError) as err:
        dpctgan.DPCTGAN()
    assert hint in str(err.value)
    with pytest.raises(MissingExtraError, match=r'pip install "privsynth\[gan\]"'):
        dpctgan.DPCTGAN.load(path)
    with pytest.raises(MissingExtraError, match=r'pip install "privsynth\[gan\]"'):
        model.sample(3)


# -- (f) no torch on import -------------------------------------------------------
def test_import_privsynth_does_not_import_torch() -> None:
    code = ("import sys, privsynth, privsynth.engines; "
            "from privsynth.engines import dpctgan; "
            "bad = sorted(m for m in ('torch', 'opacus') if m in sys.modules); "
            "print(','.join(bad))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert res.stdout.strip() == ""

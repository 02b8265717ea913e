"""PrivBayes budget rule: caps and shares follow the budget, from public quantities only."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from privsynth.accounting import Accountant
from privsynth.engines.privbayes import PrivBayes
from privsynth.engines.privbayes._budget import BINS, MAX_BINS, fine_bins, plan_budget
from privsynth.errors import ParameterError
from privsynth.mechanisms import Noise
from privsynth.schema import Schema

SIZES = [128] * 6 + [16] * 4 + [2] * 5  # an Adult-like table: numeric, categorical, binary
EPSILONS = [0.05, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]
ROWS = [50, 300, 2_000, 20_000, 200_000]
CAPS = ("cell_cap", "max_levels", "max_parent_levels", "max_degree")


def _schema(k: int = 5, cats: str = "pqrs") -> Schema:
    return Schema.from_dict({"columns": [
        {"name": f"c{i}", "kind": "categorical", "categories": list(cats)} for i in range(k)]})


def _chain(n: int, seed: int, k: int = 5) -> pd.DataFrame:
    """Columns that copy their left neighbour 90 % of the time (strong dependencies)."""
    rng = np.random.default_rng(seed)
    cols = [rng.choice(list("pqrs"), n)]
    for _ in range(k - 1):
        keep = rng.random(n) < 0.9
        cols.append(np.where(keep, cols[-1], rng.choice(list("pqrs"), n)))
    return pd.DataFrame({f"c{i}": c for i, c in enumerate(cols)})


@pytest.mark.parametrize("n", ROWS)
def test_caps_never_fall_as_epsilon_grows(n: int) -> None:
    plans = [plan_budget(n, eps, SIZES) for eps in EPSILONS]
    for lo, hi in itertools.pairwise(plans):
        # once dependencies are detectable, more budget never goes back to independent
        assert not (lo.mode == "network" and hi.mode == "independent")
        if lo.mode == hi.mode == "network":
            for cap in CAPS:
                assert getattr(hi, cap) >= getattr(lo, cap), (cap, lo, hi)
            assert hi.table_share >= lo.table_share - 1e-12
    # the caps do grow: the largest budget allows finer tables than the smallest network one
    nets = [p for p in plans if p.mode == "network"]
    if len(nets) >= 2 and nets[-1].cell_cap > 64 * nets[0].cell_cap:
        assert nets[-1].max_levels > nets[0].max_levels


@pytest.mark.parametrize("eps", EPSILONS)
def test_caps_never_fall_as_rows_grow(eps: float) -> None:
    plans = [plan_budget(n, eps, SIZES) for n in ROWS]
    for lo, hi in itertools.pairwise(plans):
        assert not (lo.mode == "network" and hi.mode == "independent")
        if lo.mode == hi.mode == "network":
            for cap in CAPS:
                assert getattr(hi, cap) >= getattr(lo, cap)


def test_shares_add_up_and_follow_the_mode() -> None:
    for n, eps in itertools.product(ROWS, EPSILONS):
        p = plan_budget(n, eps, SIZES)
        total = p.count_share + p.marginal_share + p.structure_share + p.table_share
        assert total == pytest.approx(1.0, abs=1e-12)
        if p.mode == "independent":
            assert p.structure_share == 0.0 and p.table_share == 0.0 and p.max_degree == 0
        else:
            assert 0.1 <= p.structure_share <= 0.3
            assert 3 <= p.max_degree <= 5 and 16 <= p.max_levels <= 64


def test_rule_falls_back_on_small_tables_and_keeps_the_network_on_large() -> None:
    assert plan_budget(300, 1.0, SIZES).mode == "independent"
    assert plan_budget(2_000, 0.3, SIZES).mode == "independent"
    big = plan_budget(30_000, 1.0, SIZES)
    assert big.mode == "network"
    # the old fixed caps at epsilon 1 on a table of Adult's size
    assert (big.max_levels, big.max_parent_levels, big.max_degree) == (16, 8, 3)
    assert big.structure_share == pytest.approx(0.3)
    rich = plan_budget(30_000, 10.0, SIZES)
    assert rich.max_levels > 16 and rich.structure_share < 0.3
    assert "dependencies detectable" in big.reason and "no dependency" in plan_budget(
        300, 1.0, SIZES).reason


def test_user_caps_override_the_rule() -> None:
    p = plan_budget(30_000, 10.0, SIZES, fixed={"max_levels": 8, "max_degree": 2,
                                                 "structure_share": 0.2})
    assert (p.max_levels, p.max_degree, p.structure_share) == (8, 2, 0.2)
    assert plan_budget(50, 1.0, SIZES, fixed={"degree": 1}).mode == "network"
    assert plan_budget(10**6, 10.0, SIZES, fixed={"degree": 0}).mode == "independent"


@pytest.mark.filterwarnings("ignore::privsynth.errors.InsecureNoiseWarning")
def test_paired_tables_of_one_public_description_get_the_same_plan() -> None:
    """The plan reads public quantities only: two different tables with the same schema,
    row count and noise stream (insecure test mode) get the same caps and shares."""
    schema = _schema()
    a = _chain(3_000, seed=1)
    rng = np.random.default_rng(2)
    b = pd.DataFrame(rng.choice(list("pqrs"), (3_000, 5)), columns=a.columns)  # independent
    plans = []
    for df in (a, b):
        model = PrivBayes().fit(df, schema=schema, epsilon=1.0,
                                noise=Noise.insecure_for_tests(7))
        plans.append(model.describe()["budget"])
    assert plans[0] == plans[1]
    assert plans[0]["mode"] == "network"


def test_fallback_spends_nothing_on_structure_and_keeps_the_marginals() -> None:
    # 8 columns: the noisy count (scale 100 rows) would have to read above ~1,260 rows for
    # the rule to build a network, which it does with probability ~exp(-12)
    schema = _schema(8)
    df = _chain(60, seed=3, k=8)
    acct = Accountant(2.0)
    model = PrivBayes().fit(df, schema=schema, epsilon=1.0, accountant=acct)
    desc = model.describe()
    assert desc["budget"]["mode"] == "independent"
    assert all(not parents for _, parents in model.network_)
    labels = [e.label for e in acct.ledger]
    assert not any(lab.startswith(("privbayes/structure/", "privbayes/table/"))
                   for lab in labels)
    assert sum(lab.startswith("privbayes/marginal/") for lab in labels) == len(schema)
    assert acct.spent().epsilon == pytest.approx(1.0, abs=1e-12)
    assert model.record_.description["budget"]["mode"] == "independent"
    syn = model.sample(500, random_state=0)
    assert syn.shape == (500, len(schema)) and syn["c0"].isin(list("pqrs")).all()


@pytest.mark.filterwarnings("ignore::privsynth.errors.InsecureNoiseWarning")
def test_fallback_marginals_are_accurate_at_large_epsilon() -> None:
    """Independent mode measures the one-way marginals with (almost) the whole budget."""
    schema = _schema(3)
    rng = np.random.default_rng(4)
    df = pd.DataFrame({f"c{i}": rng.choice(list("pqrs"), 100, p=[0.7, 0.1, 0.1, 0.1])
                       for i in range(3)})
    # seeded: the count's epsilon is 0.005 (noise scale 200), so about 1 secure fit in 8
    # reads n_hat above the ~380 rows a network needs here (Q2 saw it fail 2 runs in 6)
    model = PrivBayes(structure_share=0.3).fit(df, schema=schema, epsilon=0.5,
                                               noise=Noise.insecure_for_tests(3))
    assert model.describe()["budget"]["mode"] == "independent"
    # degree=0 asks for the same mode; 2,000 rows at epsilon 1: noise scale 3 per count
    big = pd.concat([df] * 20, ignore_index=True)
    model = PrivBayes(degree=0).fit(big, schema=schema, epsilon=1.0)
    assert model.describe()["budget"]["mode"] == "independent"
    syn = model.sample(20_000, random_state=0)
    assert abs((syn["c0"] == "p").mean() - (big["c0"] == "p").mean()) < 0.05


def test_budget_decision_survives_save_and_load(tmp_path) -> None:
    schema = _schema()
    model = PrivBayes().fit(_chain(2_000, seed=5), schema=schema, epsilon=3.0)
    path = tmp_path / "m.json"
    model.save(path)
    loaded = PrivBayes.load(path)
    assert loaded.describe()["budget"] == model.describe()["budget"]
    assert set(model.describe()["budget"]) >= {"mode", "reason", "max_levels",
                                               "max_parent_levels", "max_degree",
                                               "structure_share", "table_share"}


def test_target_is_the_root_and_a_parent_of_the_others() -> None:
    schema = _schema()
    df = _chain(5_000, seed=6)
    model = PrivBayes(target="c4").fit(df, schema=schema, epsilon=5.0)
    t = schema.names.index("c4")
    assert model.network_[0] == (t, ())
    with_target = sum(t in parents for _, parents in model.network_[1:])
    assert with_target == len(schema) - 1


def _star(n: int, seed: int, k: int = 8) -> pd.DataFrame:
    """c0 is a binary label; every other column copies it 80 % of the time."""
    rng = np.random.default_rng(seed)
    t = rng.choice(list("pq"), n)
    return pd.DataFrame({"c0": t, **{f"c{i}": np.where(rng.random(n) < 0.8, t,
                                                       rng.choice(list("pqrs"), n))
                                     for i in range(1, k)}})


@pytest.mark.filterwarnings("ignore::privsynth.errors.InsecureNoiseWarning")
def test_a_declared_target_gets_the_star_where_no_structure_can_be_searched() -> None:
    """800 rows, 8 columns, epsilon 1: no dependency can be found above the noise, so
    without a target the fit measures independent marginals; with one, the star
    (target -> every column) is declared, costs no structure budget and keeps the
    label's relation to every column."""
    schema = Schema.from_dict({"columns": [
        {"name": "c0", "kind": "categorical", "categories": ["p", "q"]},
        *_schema(8).to_dict()["columns"][1:]]})
    df = _star(800, seed=2)
    plain = PrivBayes().fit(df, schema=schema, epsilon=1.0, noise=Noise.insecure_for_tests(1))
    assert plain.describe()["budget"]["mode"] == "independent"
    acct = Accountant(1.0)
    model = PrivBayes(target="c0").fit(df, schema=schema, epsilon=1.0, accountant=acct,
                                       noise=Noise.insecure_for_tests(1))
    budget = model.describe()["budget"]
    assert budget["mode"] == "star" and "target star" in budget["reason"]
    assert "fixed by the declared target" in model.record_.contents
    assert not any("exponential" in n for n in model.record_.noise)  # no structure search
    assert "no network" in plain.record_.contents
    assert model.network_ == [(0, ())] + [(j, (0,)) for j in range(1, 8)]
    labels = [e.label for e in acct.ledger]
    assert not any(lab.startswith("privbayes/structure/") for lab in labels)
    assert sum(lab.startswith("privbayes/table/") for lab in labels) == 8  # root too
    assert acct.spent().epsilon == pytest.approx(1.0, abs=1e-12)

    def link(m: PrivBayes) -> float:
        """Mean P(ci = p | c0 = p) - P(ci = p | c0 = q) over the columns (real: 0.8)."""
        syn = m.sample(4_000, random_state=0)
        is_p = syn["c0"] == "p"
        return float(np.mean([(syn.loc[is_p, f"c{i}"] == "p").mean()
                              - (syn.loc[~is_p, f"c{i}"] == "p").mean() for i in range(1, 8)]))

    assert abs(link(plain)) < 0.1
    assert link(model) > 0.4


@pytest.mark.parametrize("n", [100, 300, 800, 3_000])
@pytest.mark.parametrize("eps", [0.3, 1.0, 3.0, 10.0])
@pytest.mark.parametrize("target_size", [2, 3, 16])
def test_the_star_keeps_every_table_within_its_cap_and_the_users_caps(
        n: int, eps: float, target_size: int) -> None:
    sizes = [16] * 7 + [target_size]
    for missing in (False, True):
        p = plan_budget(n, eps, sizes, target=7, target_missing=missing)
        if p.mode != "star":
            continue
        cells = p.max_levels * p.max_parent_levels
        assert cells <= n * eps * p.table_share / len(sizes) / 4.0  # the theta cap
        assert p.max_parent_levels - int(missing) >= 2  # two value levels of the target
        assert f"of up to {cells} cells within the cap" in p.reason
        # the resource cap and a user's max_degree=0 are kept
        assert plan_budget(n, eps, sizes, target=7, target_missing=missing,
                           max_cells=cells - 1).mode == "independent"
        assert plan_budget(n, eps, sizes, target=7, target_missing=missing,
                           fixed={"max_degree": 0}).mode == "independent"
        # fixed levels whose tables exceed the cap: no star
        assert plan_budget(n, eps, sizes, target=7, target_missing=missing,
                           fixed={"max_levels": 64}).mode == "independent"


@pytest.mark.filterwarnings("ignore::privsynth.errors.InsecureNoiseWarning")
def test_a_nullable_target_keeps_its_values_apart_in_the_star() -> None:
    schema = Schema.from_dict({"columns": [
        {"name": "c0", "kind": "categorical", "categories": ["p", "q"], "nullable": True},
        *_schema(8).to_dict()["columns"][1:]]})
    df = _star(1_200, seed=2)  # with the missing code the star needs 3 x 2 cells: more rows
    df.loc[df.index[:60], "c0"] = None
    model = PrivBayes(target="c0").fit(df, schema=schema, epsilon=1.0,
                                       noise=Noise.insecure_for_tests(1))
    assert model.describe()["budget"]["mode"] == "star"
    assert model.describe()["budget"]["max_parent_levels"] >= 3
    syn = model.sample(4_000, random_state=0)
    is_p, is_q = syn["c0"] == "p", syn["c0"] == "q"
    link = np.mean([(syn.loc[is_p, f"c{i}"] == "p").mean()
                    - (syn.loc[is_q, f"c{i}"] == "p").mean() for i in range(1, 8)])
    assert link > 0.3


def test_unknown_target_is_refused_before_any_spend() -> None:
    acct = Accountant(1.0)
    with pytest.raises(ParameterError, match="not a column"):
        PrivBayes(target="nope").fit(_chain(100, 0), schema=_schema(), epsilon=0.5,
                                     accountant=acct)
    assert acct.spent().epsilon == 0.0
    with pytest.raises(ParameterError):
        PrivBayes(target=3).fit(_chain(100, 0), schema=_schema(), epsilon=0.5)  # type: ignore[arg-type]


def test_more_budget_gives_finer_tables_on_the_same_data() -> None:
    schema = Schema.from_dict({"columns": [
        {"name": "x", "kind": "integer", "lower": 0, "upper": 999},
        {"name": "y", "kind": "integer", "lower": 0, "upper": 999}]})
    rng = np.random.default_rng(8)
    x = rng.integers(0, 1000, 20_000)
    df = pd.DataFrame({"x": x, "y": np.clip(x + rng.integers(-20, 20, len(x)), 0, 999)})
    low = PrivBayes().fit(df, schema=schema, epsilon=1.0).describe()["budget"]
    high = PrivBayes().fit(df, schema=schema, epsilon=50.0).describe()["budget"]
    assert low["mode"] == high["mode"] == "network"
    assert high["max_levels"] > low["max_levels"]
    assert high["table_share"] >= low["table_share"]


def test_size_penalty_shrinks_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The (optional) penalty is public and only ever removes parents."""
    from privsynth.engines.privbayes import _budget

    df = _chain(3_000, seed=9, k=6)
    schema = _schema(6)
    plain = PrivBayes(degree=None).fit(df, schema=schema, epsilon=0.5,
                                       noise=None).describe()["budget"]
    assert plain["penalty"] == 0.0
    monkeypatch.setattr(_budget, "PENALTY", 1e6)
    model = PrivBayes().fit(df, schema=schema, epsilon=0.5)
    assert math.isfinite(model.describe()["budget"]["penalty"])
    assert all(len(ps) == 0 for _, ps in model.network_)


def test_fine_bins_rise_with_the_histograms_signal_only() -> None:
    # the old fixed 128 bins at small budgets; finer as rows x epsilon grow; bounded
    assert fine_bins(300, 0.01) == fine_bins(32_000, 0.01) == BINS
    assert fine_bins(32_000, 0.1, theta=40.0) < fine_bins(32_000, 0.1)
    seq = [fine_bins(32_000, e) for e in (0.001, 0.01, 0.03, 0.1, 0.3, 1.0, 10.0)]
    assert seq == sorted(seq) and seq[-1] == MAX_BINS and len(set(seq)) >= 3
    assert fine_bins(32_000, 1.0, {"max_bins": 40}) == 40
    # the plan carries them; Adult-like sizes: 128 at epsilon 1, finer at 10
    assert plan_budget(30_000, 1.0, SIZES).max_bins == BINS
    assert plan_budget(30_000, 10.0, SIZES).max_bins > BINS
    assert plan_budget(30_000, 10.0, SIZES, fixed={"max_bins": 64}).max_bins == 64


def _wide(n: int, seed: int) -> tuple[pd.DataFrame, Schema]:
    """Incomes on a public range 100 times wider than where most values lie."""
    schema = Schema.from_dict({"columns": [
        {"name": "income", "kind": "float", "lower": 0.0, "upper": 1_000_000.0},
        {"name": "g", "kind": "categorical", "categories": ["a", "b"]}]})
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b"], n)
    income = np.where(g == "a", rng.gamma(2.0, 4_000.0, n), rng.gamma(2.0, 8_000.0, n))
    return pd.DataFrame({"income": np.minimum(income, 1e6), "g": g}), schema


def test_finer_bins_at_large_budget_resolve_a_narrow_distribution(tmp_path) -> None:
    df, schema = _wide(20_000, seed=9)
    low = PrivBayes().fit(df, schema=schema, epsilon=0.05)
    high = PrivBayes().fit(df, schema=schema, epsilon=10.0)
    assert low.describe()["budget"]["max_bins"] == BINS
    assert high.describe()["budget"]["max_bins"] == MAX_BINS
    # 128 bins of 7,800 dollars hold most incomes in 3 bins; 1,024 bins place them
    q = np.quantile(df["income"], [0.1, 0.25, 0.5, 0.75])
    err_low = np.abs(np.quantile(low.sample(20_000, random_state=0)["income"],
                                 [0.1, 0.25, 0.5, 0.75]) - q).max()
    syn = high.sample(20_000, random_state=0)
    err_high = np.abs(np.quantile(syn["income"], [0.1, 0.25, 0.5, 0.75]) - q).max()
    assert err_high < 0.5 * err_low, (err_low, err_high)
    # the model file rebuilds the same public bins
    high.save(tmp_path / "m.json")
    loaded = PrivBayes.load(tmp_path / "m.json")
    assert loaded.describe()["budget"]["max_bins"] == MAX_BINS
    pd.testing.assert_frame_equal(loaded.sample(500, random_state=3),
                                  high.sample(500, random_state=3))


def test_explicit_max_bins_wins_over_the_rule() -> None:
    df, schema = _wide(5_000, seed=10)
    model = PrivBayes(max_bins=32).fit(df, schema=schema, epsilon=10.0)
    assert model.describe()["budget"]["max_bins"] == 32
    assert len(model.levels_[0].fine_to_level) == 32
    with pytest.raises(ParameterError, match="max_bins"):
        PrivBayes(max_bins=1).fit(df, schema=schema, epsilon=1.0)


def test_fine_bins_follow_the_noisy_count_not_the_exact_one() -> None:
    """7,240 rows sit on the boundary between 128 and 256 bins (n * 0.1 / 4 = 181, the
    log-midpoint): read from the noisy count, fits choose both; from the exact one, never."""
    schema = Schema.from_dict({"columns": [
        {"name": "x", "kind": "integer", "lower": 0, "upper": 99_999}]})
    df = pd.DataFrame({"x": np.random.default_rng(11).integers(0, 100_000, 7_240)})
    assert fine_bins(7_240, 0.1) == 128 and fine_bins(7_241, 0.1) == 256
    # each secure fit chooses either side with probability about 1/2: up to 40 fits see both
    # (a false failure 1 run in 2^39), and no fit can choose anything else
    bins: set[int] = set()
    for _ in range(40):
        bins.add(PrivBayes().fit(df, schema=schema, epsilon=1.0).describe()["budget"]["max_bins"])
        if len(bins) > 1:
            break
    assert bins == {128, 256}, bins

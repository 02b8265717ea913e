"""Statistical tests of privsynth.mechanisms: exact distributions and the DP claim.

Every test draws from ``Noise.insecure_for_tests`` with fixed seeds, so it is
deterministic: the confidence levels below only guard against an unlucky
choice of seed, they do not make the tests flaky.

The DP claim is checked on neighbouring inputs with one harness,
:func:`max_lower_log_ratio`, which is shown to *fail* on deliberately
under-noised mechanisms (otherwise a passing test would prove nothing).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats

from privsynth import mechanisms
from privsynth.accounting import (
    Accountant,
    ApproxDPEvent,
    DiscreteGaussianEvent,
    DiscreteLaplaceEvent,
    Event,
    ExponentialEvent,
)
from privsynth.errors import BudgetExceededError, ParameterError
from privsynth.mechanisms import InsecureNoiseWarning, Noise

IntArray = npt.NDArray[np.int64]


class FreeBudget:
    """A Budget that records what is charged and never refuses (for sampling many times)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def spend(self, event: Event, *, label: str, release: str = "",
              reproducible_noise: bool = False) -> None:
        assert reproducible_noise, "tests draw seeded noise and must say so"
        self.events.append(event)


def seeded(seed: int) -> Noise:
    with pytest.warns(InsecureNoiseWarning, match="NOT differentially private"):
        return Noise.insecure_for_tests(seed)


def _rng(seed: int) -> np.random.Generator:
    """The raw generator of a seeded Noise (for calling the internal samplers)."""
    return seeded(seed).generator()


# ---------------------------------------------------------------------------
# The harness
# ---------------------------------------------------------------------------
def max_lower_log_ratio(a: npt.ArrayLike, b: npt.ArrayLike, *, alpha: float = 1e-6,
                        min_count: int = 30) -> float:
    """Largest lower confidence bound of |log P_a(v) / P_b(v)| over outputs v.

    ``a`` and ``b`` are samples of a mechanism on two neighbouring inputs. For
    every output value seen at least ``min_count`` times in either sample,
    Clopper-Pearson intervals (Bonferroni-corrected, total level ``alpha``)
    bound both probabilities; the returned value is the largest log ratio
    that is still certain at that level. An epsilon-DP mechanism gives a
    value <= epsilon with probability >= 1 - alpha.
    """
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    values = np.union1d(a, b)
    ca = np.array([np.count_nonzero(a == v) for v in values])
    cb = np.array([np.count_nonzero(b == v) for v in values])
    keep = (ca >= min_count) | (cb >= min_count)
    ca, cb = ca[keep], cb[keep]
    level = alpha / (4 * max(1, int(keep.sum())))  # two intervals, two sides, every value

    def lower(c: IntArray, n: int) -> npt.NDArray[np.float64]:
        return np.where(c > 0, stats.beta.ppf(level, c, n - c + 1), 0.0)

    def upper(c: IntArray, n: int) -> npt.NDArray[np.float64]:
        return np.where(c < n, stats.beta.ppf(1 - level, c + 1, n - c), 1.0)

    with np.errstate(divide="ignore"):
        ab = np.log(lower(ca, a.size)) - np.log(upper(cb, b.size))
        ba = np.log(lower(cb, b.size)) - np.log(upper(ca, a.size))
    return float(np.max(np.maximum(ab, ba)))


def chi_square_pvalue(samples: IntArray, pmf: Callable[[npt.NDArray[np.int64]], npt.NDArray],
                      support: tuple[int, int]) -> float:
    """Chi-square goodness of fit of integer samples to an exact pmf on ``support``.

    Cells with small expected counts are merged into the two tails.
    """
    lo, hi = support
    zs = np.arange(lo, hi + 1)
    p = pmf(zs)
    assert abs(p.sum() - 1.0) < 1e-9
    n = samples.size
    obs = np.bincount(np.clip(samples, lo, hi) - lo, minlength=zs.size).astype(float)
    exp = p * n
    inner = exp >= 20
    first, last = np.flatnonzero(inner)[[0, -1]]
    f_obs = np.concatenate([[obs[: first].sum()], obs[first: last + 1], [obs[last + 1:].sum()]])
    f_exp = np.concatenate([[exp[: first].sum()], exp[first: last + 1], [exp[last + 1:].sum()]])
    mask = f_exp > 0
    return float(stats.chisquare(f_obs[mask], f_exp[mask]).pvalue)


def laplace_pmf(a: float) -> Callable[[npt.NDArray[np.int64]], npt.NDArray]:
    """P(z) = (1 - e^-a) / (1 + e^-a) e^(-a |z|), tails folded into the end cells."""

    def pmf(zs: npt.NDArray[np.int64]) -> npt.NDArray:
        assert zs[0] == -zs[-1]
        p = (1 - math.exp(-a)) / (1 + math.exp(-a)) * np.exp(-a * np.abs(zs).astype(float))
        tail = math.exp(-a * (int(zs[-1]) + 1)) / (1 + math.exp(-a))  # P(Z > hi) = P(Z < lo)
        p[0] += tail
        p[-1] += tail
        return p

    return pmf


def gaussian_pmf(sigma2: float) -> Callable[[npt.NDArray[np.int64]], npt.NDArray]:
    """Exact discrete Gaussian pmf, normalized over a support wide enough to hold it all."""
    half = int(40 * math.sqrt(sigma2)) + 40
    full = np.arange(-half, half + 1)
    w = np.exp(-(full.astype(float) ** 2) / (2 * sigma2))
    w /= w.sum()

    def pmf(zs: npt.NDArray[np.int64]) -> npt.NDArray:
        p = w[zs + half].copy()
        p[0] += w[: zs[0] + half].sum()
        p[-1] += w[zs[-1] + half + 1:].sum()
        return p

    return pmf


# ---------------------------------------------------------------------------
# Discrete Laplace
# ---------------------------------------------------------------------------
def _laplace_neighbours(n: int, epsilon: float, seed: int) -> tuple[IntArray, IntArray]:
    budget = FreeBudget()
    a = mechanisms.discrete_laplace(np.full(n, 5), epsilon=epsilon, accountant=budget,
                                    label="a", noise=seeded(seed))
    b = mechanisms.discrete_laplace(np.full(n, 6), epsilon=epsilon, accountant=budget,
                                    label="b", noise=seeded(seed + 1))
    assert budget.events == [DiscreteLaplaceEvent(epsilon)] * 2
    return a, b


def _under_noised_neighbours(n: int, seed: int) -> tuple[IntArray, IntArray]:
    # Broken on purpose: claims epsilon = 1 but draws noise for epsilon = 3.
    rng = _rng(seed)
    return (5 + mechanisms._sample_discrete_laplace(n, 3, 1, rng),
            6 + mechanisms._sample_discrete_laplace(n, 3, 1, rng))


@pytest.mark.parametrize("n", [pytest.param(40_000, id="fast"),
                               pytest.param(200_000, id="full", marks=pytest.mark.slow)])
def test_discrete_laplace_neighbouring_counts(n: int) -> None:
    a, b = _laplace_neighbours(n, 1.0, seed=11)
    assert max_lower_log_ratio(a, b) <= 1.0
    bad_a, bad_b = _under_noised_neighbours(n, seed=12)
    assert max_lower_log_ratio(bad_a, bad_b) > 1.0


@pytest.mark.slow
def test_discrete_laplace_sensitivity_two_neighbours() -> None:
    budget = FreeBudget()
    a = mechanisms.discrete_laplace(np.full(200_000, 5), epsilon=1.0, sensitivity=2,
                                    accountant=budget, label="a", noise=seeded(21))
    b = mechanisms.discrete_laplace(np.full(200_000, 7), epsilon=1.0, sensitivity=2,
                                    accountant=budget, label="b", noise=seeded(22))
    assert budget.events == [DiscreteLaplaceEvent(1.0, 2)] * 2
    assert max_lower_log_ratio(a, b) <= 1.0
    # the same noise on counts that differ by 3 (sensitivity exceeded) is caught
    assert max_lower_log_ratio(a, b + 1) > 1.0


@pytest.mark.parametrize(("n", "eps", "sens"), [
    pytest.param(50_000, 0.7, 1, id="fast"),
    pytest.param(400_000, 0.7, 1, id="full", marks=pytest.mark.slow),
    pytest.param(400_000, 0.25, 3, id="full-sens3", marks=pytest.mark.slow),
])
def test_discrete_laplace_exact_pmf(n: int, eps: float, sens: int) -> None:
    budget = FreeBudget()
    z = mechanisms.discrete_laplace(np.zeros(n, dtype=np.int64), epsilon=eps, sensitivity=sens,
                                    accountant=budget, label="z", noise=seeded(31))
    used = float(mechanisms._epsilon_fraction(eps, what="test") / sens)
    assert used <= eps / sens
    support = (-40 * sens, 40 * sens)
    assert chi_square_pvalue(z, laplace_pmf(used), support) > 1e-4
    # the test has power: 5% less noise is rejected
    assert chi_square_pvalue(z, laplace_pmf(used * 1.05), support) < 1e-6


def test_discrete_laplace_output_and_validation() -> None:
    acct = Accountant(epsilon=1.0)
    out = mechanisms.discrete_laplace(np.array([[1, 2], [3, 4]]), epsilon=0.5,
                                      accountant=acct, label="2d")
    assert out.shape == (2, 2) and out.dtype == np.int64
    assert [e.event for e in acct.ledger] == [DiscreteLaplaceEvent(0.5)]
    assert acct.ledger.entries[0].reproducible_noise is False
    with pytest.raises(ParameterError, match="integer counts"):
        mechanisms.discrete_laplace([0.5], epsilon=0.1, accountant=acct, label="x")
    with pytest.raises(ParameterError, match="sensitivity"):
        mechanisms.discrete_laplace([1], epsilon=0.1, accountant=acct, label="x", sensitivity=0)
    with pytest.raises(ParameterError, match="below the supported"):
        mechanisms.discrete_laplace([1], epsilon=1e-7, accountant=acct, label="x")
    assert len(acct.ledger) == 1  # invalid calls charge nothing


# ---------------------------------------------------------------------------
# Discrete Gaussian
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("n", "sigma"), [
    pytest.param(50_000, 1.5, id="fast"),
    pytest.param(400_000, 1.5, id="full", marks=pytest.mark.slow),
    pytest.param(400_000, 0.6, id="full-small-sigma", marks=pytest.mark.slow),
])
def test_discrete_gaussian_exact_pmf(n: int, sigma: float) -> None:
    budget = FreeBudget()
    z = mechanisms.discrete_gaussian(np.zeros(n, dtype=np.int64), sigma=sigma,
                                     accountant=budget, label="z", noise=seeded(41))
    assert budget.events == [DiscreteGaussianEvent(sigma)]
    sigma2 = sigma**2  # 2.25 and 0.36 are on the sampler's 1e-4 grid
    support = (-int(12 * sigma) - 2, int(12 * sigma) + 2)
    assert chi_square_pvalue(z, gaussian_pmf(sigma2), support) > 1e-4
    assert chi_square_pvalue(z, gaussian_pmf(sigma2 * 0.9), support) < 1e-6


@pytest.mark.parametrize("n", [pytest.param(50_000, id="fast"),
                               pytest.param(400_000, id="full", marks=pytest.mark.slow)])
def test_internal_discrete_gaussian_sampler_pmf(n: int) -> None:
    z = mechanisms._sample_discrete_gaussian(n, Fraction(7, 3), _rng(42))
    assert chi_square_pvalue(z, gaussian_pmf(7 / 3), (-25, 25)) > 1e-4


def test_discrete_gaussian_far_tail_proposal_is_rejected_not_an_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A proposal so far in the tail that gamma's numerator exceeds int64 must be
    # handled exactly (and rejected), not raise after the budget was charged.
    real = mechanisms._sample_discrete_laplace
    calls: list[int] = []

    def with_a_huge_proposal(size: int, s: int, t: int, rng: np.random.Generator) -> IntArray:
        out = real(size, s, t, rng)
        if not calls:
            out[0] = 10**12
        calls.append(size)
        return out

    monkeypatch.setattr(mechanisms, "_sample_discrete_laplace", with_a_huge_proposal)
    z = mechanisms._sample_discrete_gaussian(1000, Fraction(22501, 10_000), _rng(44))
    assert len(calls) >= 2  # the huge proposal was rejected and redrawn
    assert z.size == 1000 and int(np.abs(z).max()) < 100


@pytest.mark.parametrize("sigma", [3.7312, 150.3, 2500.5, 1e4])
def test_discrete_gaussian_variance(sigma: float) -> None:
    n = 20_000
    acct = Accountant(epsilon=100.0, delta=1e-6)
    with pytest.warns(InsecureNoiseWarning):
        noise = Noise.insecure_for_tests(43)
    z = mechanisms.discrete_gaussian(np.zeros(n, dtype=np.int64), sigma=sigma,
                                     accountant=acct, label="var", noise=noise)
    assert acct.ledger.entries[0].reproducible_noise is True
    # for sigma >= 1 the discrete Gaussian's variance is sigma^2 within 1e-9 relative
    var = float(np.mean(z.astype(float) ** 2))
    # var of the sample variance ~ 2 sigma^4 / n (Gaussian kurtosis): 6 standard errors
    assert abs(var / sigma**2 - 1) < 6 * math.sqrt(2 / n)
    assert abs(float(z.mean())) < 6 * sigma / math.sqrt(n)


def test_discrete_gaussian_validates_before_charging() -> None:
    acct = Accountant(epsilon=1.0, delta=1e-6)
    with pytest.raises(ParameterError, match="sigma"):
        mechanisms.discrete_gaussian([1], sigma=2e4, accountant=acct, label="x")
    with pytest.raises(ParameterError, match="integer counts"):
        mechanisms.discrete_gaussian(["a"], sigma=2.0, accountant=acct, label="x")
    assert len(acct.ledger) == 0


# ---------------------------------------------------------------------------
# Exponential mechanism
# ---------------------------------------------------------------------------
def _draw_exponential(scores: npt.ArrayLike, n: int, epsilon: float, seed: int,
                      monotonic: bool = False) -> IntArray:
    budget = FreeBudget()
    noise = seeded(seed)
    out = np.array([
        mechanisms.exponential(scores, epsilon=epsilon, sensitivity=1.0, accountant=budget,
                               label="pick", noise=noise, monotonic=monotonic)
        for _ in range(n)
    ])
    assert budget.events == [ExponentialEvent(epsilon)] * n
    return out


@pytest.mark.parametrize("n", [pytest.param(4_000, id="fast"),
                               pytest.param(20_000, id="full", marks=pytest.mark.slow)])
def test_exponential_frequencies(n: int) -> None:
    scores = np.array([0.0, 1.0, 2.0, 3.0, 4.5])
    eps = 1.0
    picks = _draw_exponential(scores, n, eps, seed=51)
    # exact law of the implementation: scores on a 1/1024 grid, sensitivity widened
    # by one grid step (so a little *more* noise than the textbook mechanism)
    exact = np.exp(eps * np.floor(scores * 1024) / (2 * 1025))
    exact /= exact.sum()
    textbook = np.exp(eps * scores / 2)
    textbook /= textbook.sum()
    assert np.allclose(exact, textbook, rtol=0.01)
    obs = np.bincount(picks, minlength=scores.size)
    assert stats.chisquare(obs, exact * n).pvalue > 1e-4
    wrong = np.exp(1.3 * eps * scores / 2)
    assert stats.chisquare(obs, wrong / wrong.sum() * n).pvalue < 1e-6


@pytest.mark.parametrize("n", [pytest.param(2_000, id="fast"),
                               pytest.param(15_000, id="full", marks=pytest.mark.slow)])
def test_exponential_neighbouring_scores(n: int) -> None:
    # Neighbouring score vectors: each score moves by at most the sensitivity (1),
    # in opposite directions, which is what the factor 2 in the exponent pays for.
    eps = 2.0
    k = 50
    scores = np.zeros(k)
    shifted = -np.ones(k)
    shifted[0] = 1.0
    a = _draw_exponential(scores, n, eps, seed=52)
    b = _draw_exponential(shifted, n, eps, seed=53)
    assert max_lower_log_ratio(a, b) <= eps
    # monotonic=True drops the factor 2; it is wrong for these neighbours and the
    # harness sees it
    bad = _draw_exponential(shifted, n, eps, seed=54, monotonic=True)
    assert max_lower_log_ratio(a, bad) > eps


def test_exponential_picks_the_clear_winner_and_validates() -> None:
    picks = _draw_exponential([0.0, 0.0, 500.0, 0.0], 50, 1.0, seed=55)
    assert set(picks.tolist()) == {2}
    acct = Accountant(1.0)
    with pytest.raises(ParameterError, match="scores"):
        mechanisms.exponential([], epsilon=1.0, sensitivity=1.0, accountant=acct, label="x")
    with pytest.raises(ParameterError, match="scores"):
        mechanisms.exponential([1.0, math.nan], epsilon=1.0, sensitivity=1.0,
                               accountant=acct, label="x")
    with pytest.raises(ParameterError, match="sensitivity"):
        mechanisms.exponential([1.0], epsilon=1.0, sensitivity=0.0, accountant=acct, label="x")
    assert len(acct.ledger) == 0


# ---------------------------------------------------------------------------
# Quantile, thresholded histogram, noisy count
# ---------------------------------------------------------------------------
def test_quantile_lands_on_grid_near_true_quantile() -> None:
    x = np.random.default_rng(0).normal(size=20_000)  # data, not noise
    grid = np.linspace(-4, 4, 801)
    budget = FreeBudget()
    noise = seeded(61)
    for q in (0.1, 0.5, 0.95):
        got = mechanisms.quantile(x, q, grid=grid, epsilon=50.0, accountant=budget,
                                  label=f"q{q}", noise=noise)
        assert got in grid
        assert abs(got - np.quantile(x, q)) <= 0.03
    assert budget.events == [ExponentialEvent(50.0)] * 3
    with pytest.raises(ParameterError, match="grid"):
        mechanisms.quantile(x, 0.5, grid=[1.0, 0.0], epsilon=1.0, accountant=budget, label="g")
    with pytest.raises(ParameterError, match="q must be"):
        mechanisms.quantile(x, 1.5, grid=grid, epsilon=1.0, accountant=budget, label="g")


def test_quantile_score_sensitivity_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # The DP of quantile() rests on its scores moving by at most the declared
    # sensitivity when one record is added; check that on random neighbours.
    seen: list[tuple[npt.NDArray[np.float64], float]] = []

    def capture(scores: npt.ArrayLike, *, sensitivity: float, **_: object) -> int:
        seen.append((np.asarray(scores, dtype=float), sensitivity))
        return 0

    monkeypatch.setattr(mechanisms, "exponential", capture)
    data_rng = np.random.default_rng(3)  # data, not noise
    grid = np.linspace(-3, 3, 61)
    for _ in range(200):
        x = data_rng.normal(size=int(data_rng.integers(0, 40)))
        extra = data_rng.choice([data_rng.normal(), -10.0, 10.0, math.nan])
        q = float(data_rng.choice([0.0, 0.005, 0.3, 0.5, 0.995, 1.0]))
        for values in (x, np.append(x, extra)):
            mechanisms.quantile(values, q, grid=grid, epsilon=1.0, accountant=FreeBudget(),
                                label="q", noise=None)
        (s0, sens0), (s1, sens1) = seen[-2:]
        assert sens0 == sens1 == 1.0
        assert np.max(np.abs(s1 - s0)) <= 1.0 + 1e-12


def test_thresholded_histogram_single_record_keys_appear_with_probability_delta() -> None:
    eps, threshold = 1.0, 3
    n_single = 100_000
    counts = {f"rare{i}": 1 for i in range(n_single)}
    counts |= {"big": 1000, "large": 400}
    acct = Accountant(epsilon=1.0, delta=0.5)
    out = mechanisms.thresholded_histogram(counts, epsilon=eps, threshold=threshold,
                                           accountant=acct, label="cats", noise=seeded(71))
    delta = math.exp(-eps * (threshold - 1)) / (1 + math.exp(-eps))  # P(Z >= threshold - 1)
    assert mechanisms.thresholded_histogram_delta(eps, threshold) == pytest.approx(delta)
    [entry] = acct.ledger.entries
    assert entry.event == ApproxDPEvent(eps, mechanisms.thresholded_histogram_delta(eps, 3),
                                        mechanism="thresholded_histogram")
    assert entry.reproducible_noise is True
    assert {"big", "large"} <= set(out)
    assert all(v >= threshold for v in out.values())
    released = sum(k.startswith("rare") for k in out)
    lo, hi = stats.binom.ppf([1e-6, 1 - 1e-6], n_single, delta)
    assert lo <= released <= hi


def test_thresholded_histogram_validates_and_handles_empty() -> None:
    acct = Accountant(epsilon=1.0, delta=1e-3)
    with pytest.raises(ParameterError, match="threshold"):
        mechanisms.thresholded_histogram({"a": 3}, epsilon=0.1, threshold=1, accountant=acct,
                                         label="x")
    assert len(acct.ledger) == 0
    assert mechanisms.thresholded_histogram({}, epsilon=0.1, threshold=200, accountant=acct,
                                            label="x") == {}
    assert len(acct.ledger) == 1  # charged even when empty: emptiness is a release


def test_thresholded_histogram_needs_delta() -> None:
    spy_acct = Accountant(epsilon=5.0)
    with pytest.raises(BudgetExceededError, match="delta"):
        mechanisms.thresholded_histogram({"a": 10}, epsilon=1.0, threshold=20,
                                         accountant=spy_acct, label="x")


def test_noisy_count_is_non_negative() -> None:
    budget = FreeBudget()
    noise = seeded(81)
    out = [mechanisms.noisy_count(0, epsilon=0.5, accountant=budget, label="n", noise=noise)
           for _ in range(300)]
    assert min(out) == 0 and max(out) > 0
    assert all(isinstance(v, int) for v in out)
    assert budget.events == [DiscreteLaplaceEvent(0.5)] * 300


# ---------------------------------------------------------------------------
# The noise source
# ---------------------------------------------------------------------------
def test_default_noise_is_fresh_every_call() -> None:
    acct = Accountant(epsilon=2.0)
    zeros = np.zeros(200, dtype=np.int64)
    a = mechanisms.discrete_laplace(zeros, epsilon=1.0, accountant=acct, label="a")
    b = mechanisms.discrete_laplace(zeros, epsilon=1.0, accountant=acct, label="b",
                                    noise=Noise())
    assert not np.array_equal(a, b)
    assert [e.reproducible_noise for e in acct.ledger] == [False, False]
    assert Noise().reproducible is False
    g1, g2 = Noise().source(), Noise().source()
    assert g1.integers(0, 2**62) != g2.integers(0, 2**62)
    assert isinstance(g1, mechanisms.OSRandom)  # the OS CSPRNG, not a seeded generator


def test_os_random_is_uniform_on_ranges_that_do_not_divide_two_to_the_64() -> None:
    from scipy.stats import chisquare

    src = mechanisms.OSRandom()
    draws = src.integers(0, 7, 70_000)
    assert chisquare(np.bincount(draws, minlength=7)).pvalue > 1e-4
    # array bounds, as the Bernoulli sampler uses them
    highs = np.array([1, 2, 3, 2**40 + 3], dtype=np.int64)
    out = np.stack([src.integers(0, highs) for _ in range(2000)])
    assert (out >= 0).all() and (out < highs).all()
    assert set(out[:, 1]) == {0, 1} and out[:, 0].max() == 0


def test_insecure_noise_is_reproducible_and_marked_in_the_ledger() -> None:
    zeros = np.zeros(200, dtype=np.int64)
    outs = []
    for _ in range(2):
        acct = Accountant(epsilon=1.0)
        outs.append(mechanisms.discrete_laplace(zeros, epsilon=1.0, accountant=acct,
                                                label="a", noise=seeded(7)))
        [entry] = acct.ledger.entries
        assert entry.reproducible_noise is True
        assert '"reproducible_noise": true' in acct.to_json()
    assert np.array_equal(outs[0], outs[1])
    other = mechanisms.discrete_laplace(zeros, epsilon=1.0, accountant=FreeBudget(),
                                        label="b", noise=seeded(8))
    assert not np.array_equal(outs[0], other)

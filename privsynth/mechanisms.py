"""The only place where privacy noise is drawn.

Every function here first *spends* its privacy event (on an
:class:`~privsynth.accounting.Accountant` or a
:class:`~privsynth.accounting.Reservation`), then draws. A refused spend
raises :class:`~privsynth.errors.BudgetExceededError` and nothing is drawn.

Floating-point safety. Textbook samplers (``numpy.random.laplace``,
softmax-then-choice) leak through the floating-point representation of their
output (Mironov 2012) or only approximate the distribution they claim. Here:

- counts get **discrete** noise (integers, so there are no low-order bits to
  leak) sampled *exactly* with integer arithmetic, after Canonne, Kamath &
  Steinke, "The Discrete Gaussian for Differential Privacy" (2020),
  Algorithms 1-3, vectorized over arrays;
- the exponential mechanism is sampled exactly by rejection: propose a
  candidate uniformly, accept it with probability exp(-gamma) drawn by the
  same exact Bernoulli sampler. Scores are quantized to a grid first and the
  sensitivity widened by one grid step, so every exponent is rational.

Rational rounding always goes in the safe direction (more noise / a smaller
epsilon actually used than the one charged).

Randomness. By default every random integer the samplers use comes straight
from the operating system's CSPRNG (``os.urandom``: getrandom on Linux), made
uniform on its range by rejection (:class:`OSRandom`). A seeded
:class:`Noise` (``Noise.insecure_for_tests(seed)``) uses a PCG64DXSM generator
instead, so noise is reproducible for tests; such releases are NOT private
and the ledger marks them. Measured on 10^6 discrete Laplace draws, the OS
source costs about twice the time of PCG64DXSM (a few seconds per million
noisy cells on a loaded 2-core machine); PrivBayes on Adult draws a few
thousand.
Timing side channels (rejection loops run a data-dependent number of rounds)
are out of scope.

>>> from privsynth.accounting import Accountant
>>> acct = Accountant(epsilon=1.0)
>>> noisy = discrete_laplace([10, 0, 5], epsilon=1.0, accountant=acct, label="hist")
>>> noisy.dtype, noisy.shape, acct.spent().epsilon
(dtype('int64'), (3,), 1.0)
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from privsynth._types import IntArray
from privsynth.accounting.events import (
    ApproxDPEvent,
    DiscreteGaussianEvent,
    DiscreteLaplaceEvent,
    Event,
    ExponentialEvent,
)
from privsynth.errors import InsecureNoiseWarning, ParameterError

# Denominator used to turn epsilons into fractions (rounded down: less epsilon used).
_EPS_DENOM = 1_000_000
# Score grid of the exponential mechanism, in units of the sensitivity.
_SCORE_GRID = 1024
#: Largest sigma :func:`discrete_gaussian` accepts (its exact sampler's integers stay within
#: int64 up to it); engines skip or fall back to Laplace beyond it.
MAX_GAUSSIAN_SIGMA = 1e4


class RandomSource(Protocol):
    """What the exact samplers draw from: uniform integers in ``[low, high)``."""

    def integers(self, low: int, high: int | IntArray, size: int | None = None) -> Any: ...


class OSRandom:
    """Uniform integers from the operating system's CSPRNG (``os.urandom``), vectorized.

    Each value is a 64-bit word from the OS, accepted when it is below the
    largest multiple of the range that fits in 64 bits (so no value is more
    likely than another) and reduced modulo the range.

    >>> draws = OSRandom().integers(0, 6, 10_000)
    >>> int(draws.min()), int(draws.max()), abs(float(draws.mean()) - 2.5) < 0.1
    (0, 5, True)
    """

    def integers(self, low: int, high: int | IntArray, size: int | None = None) -> IntArray:
        high_arr = np.asarray(high, dtype=np.int64)
        shape = high_arr.shape if size is None else (int(size),)
        span = np.broadcast_to(high_arr - low, shape).astype(np.uint64).reshape(-1)
        if span.size and int(span.min()) < 1:
            raise ParameterError("OSRandom.integers: high must exceed low")
        limit = np.iinfo(np.uint64).max // span * span
        out = np.empty(span.size, dtype=np.uint64)
        todo = np.arange(span.size)
        while todo.size:
            words = np.frombuffer(os.urandom(8 * todo.size), dtype=np.uint64)
            ok = words < limit[todo]
            out[todo[ok]] = words[ok] % span[todo[ok]]
            todo = todo[~ok]
        return (out.astype(np.int64) + int(low)).reshape(shape)


class Budget(Protocol):
    """What mechanisms charge: an Accountant or a Reservation."""

    def spend(
        self, event: Event, *, label: str, release: str = "", reproducible_noise: bool = False
    ) -> object: ...


@dataclass
class Noise:
    """The source of privacy noise.

    ``Noise()`` (the default everywhere) draws every random integer from the OS
    CSPRNG (:class:`OSRandom`). ``Noise.insecure_for_tests(seed)`` is
    reproducible and therefore not private: use it for tests and demos only.
    """

    seed: int | None = None
    _rng: np.random.Generator | None = field(default=None, repr=False)

    @classmethod
    def insecure_for_tests(cls, seed: int) -> Noise:
        warnings.warn(
            "privacy noise is seeded (insecure test mode): outputs are reproducible and NOT "
            "differentially private; never publish them",
            InsecureNoiseWarning,
            stacklevel=2,
        )
        return cls(seed=int(seed), _rng=np.random.Generator(np.random.PCG64DXSM(int(seed))))

    @property
    def reproducible(self) -> bool:
        return self.seed is not None

    def generator(self) -> np.random.Generator:
        """The seeded test generator (only in the insecure test mode)."""
        if self._rng is None:
            raise ParameterError("Noise.generator() exists only in the insecure test mode; "
                                 "privacy noise comes from source()")
        return self._rng

    def source(self) -> RandomSource:
        """Where the samplers draw from: the OS CSPRNG, or the seeded test generator."""
        return self._rng if self._rng is not None else OSRandom()


def _noise(noise: Noise | None) -> Noise:
    return noise if noise is not None else Noise()


def _epsilon_fraction(epsilon: float, *, what: str) -> Fraction:
    """A fraction <= epsilon (rounded down), refusing values that round to 0."""
    if not (isinstance(epsilon, int | float) and not isinstance(epsilon, bool)
            and math.isfinite(epsilon) and epsilon > 0):
        raise ParameterError(f"{what}: epsilon must be a positive number, got {epsilon!r}")
    num = math.floor(Fraction(epsilon) * _EPS_DENOM)
    if num < 1:
        raise ParameterError(f"{what}: epsilon {epsilon!r} is below the supported 1e-6")
    return Fraction(num, _EPS_DENOM)


# --------------------------------------------------------------------------
# Exact samplers (Canonne, Kamath & Steinke 2020), vectorized.
# --------------------------------------------------------------------------
def _bernoulli_exp_unit(num: IntArray, den: int | IntArray, rng: RandomSource
                        ) -> npt.NDArray[np.bool_]:
    """Exact Bernoulli(exp(-num/den)) for 0 <= num/den <= 1 (CKS Algorithm 1)."""
    num = np.asarray(num, dtype=np.int64)
    den_arr = np.broadcast_to(np.asarray(den, dtype=np.int64), num.shape)
    k = np.ones(num.shape, dtype=np.int64)
    active = np.ones(num.shape, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        # A ~ Bernoulli(gamma / k): uniform integer below den*k is < num
        a = rng.integers(0, den_arr[idx] * k[idx]) < num[idx]
        k[idx[a]] += 1
        active[idx[~a]] = False
    return (k % 2) == 1


def _bernoulli_exp(num: IntArray, den: int | IntArray, rng: RandomSource
                   ) -> npt.NDArray[np.bool_]:
    """Exact Bernoulli(exp(-num/den)) for any num/den >= 0 (CKS Algorithm 1, gamma > 1)."""
    num = np.asarray(num, dtype=np.int64)
    den_arr = np.broadcast_to(np.asarray(den, dtype=np.int64), num.shape)
    whole = num // den_arr
    return _bernoulli_exp_parts(whole, num - whole * den_arr, den_arr, rng)


def _bernoulli_exp_parts(whole: IntArray, frac: IntArray, den: int | IntArray,
                         rng: RandomSource) -> npt.NDArray[np.bool_]:
    """Exact Bernoulli(exp(-(whole + frac/den))) with 0 <= frac < den."""
    den_arr = np.broadcast_to(np.asarray(den, dtype=np.int64), whole.shape)
    alive = np.ones(whole.shape, dtype=bool)
    i = 0
    while True:
        need = alive & (whole > i)
        if not need.any():
            break
        idx = np.flatnonzero(need)
        alive[idx] = _bernoulli_exp_unit(np.ones(idx.size, np.int64), 1, rng)
        i += 1
    idx = np.flatnonzero(alive)
    if idx.size:
        alive[idx] = _bernoulli_exp_unit(frac[idx], den_arr[idx], rng)
    return alive


def _sample_discrete_laplace(size: int, s: int, t: int, rng: RandomSource) -> IntArray:
    """Exact samples with P(z) proportional to exp(-|z| * s / t) (CKS Algorithm 2)."""
    out = np.empty(size, dtype=np.int64)
    todo = np.arange(size)
    while todo.size:
        m = todo.size
        u = rng.integers(0, t, m)
        d = _bernoulli_exp_unit(u, t, rng)
        # V ~ Geometric with success 1 - exp(-1): count Bernoulli(exp(-1)) successes
        v = np.zeros(m, dtype=np.int64)
        going = np.ones(m, dtype=bool)
        while going.any():
            idx = np.flatnonzero(going)
            a = _bernoulli_exp_unit(np.ones(idx.size, np.int64), 1, rng)
            v[idx[a]] += 1
            going[idx[~a]] = False
        x = u + t * v
        y = x // s
        b = rng.integers(0, 2, m).astype(bool)
        ok = d & ~(b & (y == 0))
        out[todo[ok]] = np.where(b[ok], -y[ok], y[ok])
        todo = todo[~ok]
    return out


def _sample_discrete_gaussian(size: int, sigma2: Fraction, rng: RandomSource) -> IntArray:
    """Exact discrete Gaussian samples of variance parameter sigma2 (CKS Algorithm 3)."""
    t = math.floor(math.sqrt(sigma2)) + 1
    out = np.empty(size, dtype=np.int64)
    todo = np.arange(size)
    a, b = sigma2.numerator, sigma2.denominator
    den = 2 * a * t * t * b
    if den >= 2**56:  # the caller rounds sigma2 so that this cannot happen for sigma <= 1e4
        raise ParameterError("discrete Gaussian sigma too large for the exact sampler (> 1e4)")
    while todo.size:
        y = _sample_discrete_laplace(todo.size, 1, t, rng)
        # gamma = (|y| - sigma2/t)^2 / (2 sigma2) = (|y| t b - a)^2 / (2 a t^2 b)
        diff = np.abs(y) * (t * b) - a
        # diff^2 overflows int64 for far-tail proposals; split gamma into whole and
        # fractional parts with exact Python integers for those few entries.
        big = np.abs(diff) > 3_037_000_499
        sq = np.where(big, 0, diff) ** 2
        whole = sq // den
        frac = sq - whole * den
        for i in np.flatnonzero(big):
            w, r = divmod(int(diff[i]) ** 2, den)
            # acceptance probability below exp(-2**62) either way
            whole[i], frac[i] = min(w, 2**62), r
        c = _bernoulli_exp_parts(whole, frac, den, rng)
        out[todo[c]] = y[c]
        todo = todo[~c]
    return out


# --------------------------------------------------------------------------
# Mechanisms
# --------------------------------------------------------------------------
def _as_int_counts(values: npt.ArrayLike, what: str) -> IntArray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "iub":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ParameterError(f"{what}: values must be integer counts")
    return arr.astype(np.int64, copy=False)


def discrete_laplace(
    values: npt.ArrayLike,
    *,
    epsilon: float,
    accountant: Budget,
    label: str,
    sensitivity: int = 1,
    noise: Noise | None = None,
) -> IntArray:
    """Integer values plus exact discrete Laplace noise; epsilon-DP for L1 ``sensitivity``.

    For a histogram under add/remove-one-record the L1 sensitivity is 1.
    """
    counts = _as_int_counts(values, "discrete_laplace")
    if not isinstance(sensitivity, int) or sensitivity < 1:
        raise ParameterError("discrete_laplace: sensitivity must be a positive integer")
    eps = _epsilon_fraction(epsilon, what="discrete_laplace")
    src = _noise(noise)
    accountant.spend(DiscreteLaplaceEvent(float(epsilon), sensitivity), label=label,
                     reproducible_noise=src.reproducible)
    # P(z) ~ exp(-|z| eps/sens): s/t = eps/sens with eps rounded down
    ratio = eps / sensitivity
    z = _sample_discrete_laplace(counts.size, ratio.numerator, ratio.denominator, src.source())
    return counts + z.reshape(counts.shape)


def discrete_gaussian(
    values: npt.ArrayLike,
    *,
    sigma: float,
    accountant: Budget,
    label: str,
    sensitivity: int = 1,
    noise: Noise | None = None,
) -> IntArray:
    """Integer values plus exact discrete Gaussian noise of parameter ``sigma`` (L2 sensitivity)."""
    counts = _as_int_counts(values, "discrete_gaussian")
    if not (isinstance(sigma, int | float) and math.isfinite(sigma)
            and 0 < sigma <= MAX_GAUSSIAN_SIGMA):
        raise ParameterError(f"discrete_gaussian: sigma must be in (0, {MAX_GAUSSIAN_SIGMA:g}], "
                             f"got {sigma!r}")
    # sigma^2 rounded up: at least the noise that was charged. The grid is
    # coarser for large sigma (relative change < 1e-4) to keep the sampler's
    # integers within int64.
    grid = 10_000 if sigma <= 100 else 1
    sig2 = Fraction(math.ceil(Fraction(sigma) ** 2 * grid), grid)
    src = _noise(noise)
    accountant.spend(DiscreteGaussianEvent(float(sigma), sensitivity), label=label,
                     reproducible_noise=src.reproducible)
    z = _sample_discrete_gaussian(counts.size, sig2, src.source())
    return counts + z.reshape(counts.shape)


def noisy_count(
    n: int, *, epsilon: float, accountant: Budget, label: str, noise: Noise | None = None
) -> int:
    """A record count with discrete Laplace noise, clamped at 0 (post-processing)."""
    out = discrete_laplace([int(n)], epsilon=epsilon, accountant=accountant, label=label,
                           noise=noise)
    return max(0, int(out[0]))


def exponential(
    scores: npt.ArrayLike,
    *,
    epsilon: float,
    sensitivity: float,
    accountant: Budget,
    label: str,
    noise: Noise | None = None,
    monotonic: bool = False,
) -> int:
    """Index drawn by the exponential mechanism: P(i) ~ exp(epsilon * score_i / (2 * sensitivity)).

    ``sensitivity`` bounds how much any score changes when one record is added
    or removed; it must not depend on the private data. With ``monotonic=True``
    (every score moves in the same direction under add/remove-one) the factor 2
    is dropped, as in McSherry & Talwar. Exact sampling: see the module docstring.

    >>> from privsynth.accounting import Accountant
    >>> exponential([0.0, 100.0], epsilon=1.0, sensitivity=1.0,
    ...             accountant=Accountant(1.0), label="pick")
    1
    """
    q = np.asarray(scores, dtype=np.float64)
    if q.ndim != 1 or q.size == 0 or not np.all(np.isfinite(q)):
        raise ParameterError("exponential: scores must be a non-empty 1-d array of finite numbers")
    if not (isinstance(sensitivity, int | float) and math.isfinite(sensitivity)
            and sensitivity > 0):
        raise ParameterError("exponential: sensitivity must be a positive number")
    eps = _epsilon_fraction(epsilon, what="exponential")
    src = _noise(noise)
    accountant.spend(ExponentialEvent(float(epsilon)), label=label,
                     reproducible_noise=src.reproducible)
    rng = src.source()
    # Quantize scores on a grid of sensitivity/_SCORE_GRID; flooring can move a
    # score by one more grid step, so the quantized sensitivity is GRID + 1.
    units = np.floor(q / sensitivity * _SCORE_GRID)
    units -= units.max()  # <= 0; shifting all scores by a constant does not change the mechanism
    gap = (-units).astype(np.float64)
    factor = 1 if monotonic else 2
    # gamma_i = eps * gap_i / (factor * (GRID + 1)) = P_i / Q
    q_den = eps.denominator * factor * (_SCORE_GRID + 1)
    # Cap the gaps at about 60 nats: the mechanism then runs on the scores
    # max(u_i, u_max - cap), a maximum of functions of sensitivity GRID + 1,
    # so it is still exactly epsilon-DP; it keeps the integers in int64 and
    # changes any probability by less than exp(-60).
    cap = math.ceil(60 * q_den / eps.numerator)
    gap_int = np.minimum(gap, cap).astype(np.int64)
    p_num = gap_int * eps.numerator
    k = q.size
    batch = max(64, min(65_536, 4 * k))
    while True:
        cand = rng.integers(0, k, batch)
        ok = _bernoulli_exp(p_num[cand], q_den, rng)
        hit = np.flatnonzero(ok)
        if hit.size:
            return int(cand[hit[0]])


def thresholded_histogram(
    counts: dict[str, int],
    *,
    epsilon: float,
    threshold: int,
    accountant: Budget,
    label: str,
    noise: Noise | None = None,
) -> dict[str, int]:
    """Release the keys (and noisy counts) of a histogram whose noisy count reaches ``threshold``.

    Used to discover category lists privately: a key held by one record only
    appears with probability at most delta = P(Z >= threshold - 1) for discrete
    Laplace noise Z, which is charged as (epsilon, delta)-DP. Each record must
    contribute to exactly one key.
    """
    if not isinstance(threshold, int) or threshold < 2:
        raise ParameterError("thresholded_histogram: threshold must be an integer >= 2")
    eps = float(_epsilon_fraction(epsilon, what="thresholded_histogram"))
    delta = math.exp(-eps * (threshold - 1)) / (1 + math.exp(-eps))
    src = _noise(noise)
    accountant.spend(ApproxDPEvent(float(epsilon), delta, mechanism="thresholded_histogram"),
                     label=label, reproducible_noise=src.reproducible)
    keys = list(counts)
    if not keys:
        return {}
    ratio = _epsilon_fraction(epsilon, what="thresholded_histogram")
    z = _sample_discrete_laplace(len(keys), ratio.numerator, ratio.denominator, src.source())
    values = np.fromiter((counts[k] for k in keys), dtype=np.int64, count=len(keys)) + z
    return {k: int(v) for k, v in zip(keys, values, strict=True) if v >= threshold}


def thresholded_histogram_delta(epsilon: float, threshold: int) -> float:
    """The delta :func:`thresholded_histogram` charges (to plan budgets)."""
    eps = float(_epsilon_fraction(epsilon, what="thresholded_histogram"))
    return math.exp(-eps * (threshold - 1)) / (1 + math.exp(-eps))


def quantile(
    values: npt.ArrayLike,
    q: float,
    *,
    grid: npt.ArrayLike,
    epsilon: float,
    accountant: Budget,
    label: str,
    noise: Noise | None = None,
) -> float:
    """A DP quantile of ``values`` chosen among the public ``grid`` points.

    Exponential mechanism with utility -|#{x < g} - q * n| for each grid point g;
    the utility moves by at most 1 when a record is added or removed.
    ``n`` enters only through the scores, whose sensitivity is still 1 (the
    target rank q*n shifts by q <= 1 and the count by at most 1 in the same
    direction, so the difference moves by at most max(q, 1-q) <= 1).
    """
    x = np.asarray(values, dtype=np.float64)
    x = np.sort(x[np.isfinite(x)])
    g = np.asarray(grid, dtype=np.float64)
    if g.ndim != 1 or g.size < 2 or not np.all(np.diff(g) > 0):
        raise ParameterError("quantile: grid must be at least 2 increasing public values")
    if not 0 <= q <= 1:
        raise ParameterError("quantile: q must be in [0, 1]")
    below = np.searchsorted(x, g, side="left")
    scores = -np.abs(below - q * x.size)
    return float(g[exponential(scores, epsilon=epsilon, sensitivity=1.0, accountant=accountant,
                               label=label, noise=noise)])

"""DP-CTGAN's privacy plan: sampling rate, steps, calibrated noise, and whether DP-SGD can learn.

All inputs are public or DP outputs (the noisy row count, the release's own
events so far); calibration is the accountant's one search
(:func:`~privsynth.accounting.calibrate.smallest_noise`) over the *release's
own* events, so the fit's guarantee is its own and never borrows from earlier
releases in the ledger.

>>> round_rate(0.03071), round_rate(0.177), round_rate(3.0)
(0.031, 0.18, 1.0)
>>> learnability(noise_multiplier=1.2, batch=1000, steps=330, n_params=30_000) > 10
True
>>> learnability(noise_multiplier=12.0, batch=800, steps=10, n_params=30_000) < 10
True
>>> dpsgd_steps(None, 1.0), dpsgd_steps(None, 0.031), dpsgd_steps(2, 0.5)
(300, 323, 4)
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from privsynth.accounting import DiscreteGaussianEvent, DiscreteLaplaceEvent, Event
from privsynth.accounting.calibrate import discrete_gaussian_sigma, dpsgd_noise_multiplier
from privsynth.errors import ParameterError
from privsynth.mechanisms import MAX_GAUSSIAN_SIGMA

#: Below this :func:`learnability`, DP-SGD is not expected to learn. Measured on
#: UCI Adult (``benchmarks/bench_dpctgan_learn.py``, docs/dpctgan.md): with about
#: 300 steps, runs at 0.78 and above learned (TSTR AUC 0.78-0.83), runs at 0.74
#: and below did not (0.42-0.49); 1.0 leaves a margin (single seeds near the edge).
MIN_LEARNABILITY = 1.0
#: Fewer DP-SGD steps than this and the GAN has not trained, whatever the noise:
#: measured on Adult, 100 steps gave TSTR AUC 0.58-0.64 at signal-to-noise up to
#: 40, while 260-370 steps gave 0.76-0.83 at 1.3-95.
MIN_STEPS = 250
#: Default training length: at least ``DEFAULT_EPOCHS`` passes and at least
#: ``DEFAULT_MIN_STEPS`` steps (a small table gets more passes, see MIN_STEPS).
DEFAULT_EPOCHS = 10
DEFAULT_MIN_STEPS = 300
#: Largest useful discrete Gaussian sigma of the pair tables; beyond it they are skipped.
MAX_MARGINAL_SIGMA = MAX_GAUSSIAN_SIGMA


def round_rate(q: float) -> float:
    """The sampling rate rounded to two significant digits, at most 1.

    Rounding changes the expected batch by under 5% and makes the plan (and so
    the calibration and composition, which are cached) the same for fits whose
    noisy row counts differ slightly.
    """
    if q >= 1:
        return 1.0
    digits = 1 - math.floor(math.log10(q))
    return min(1.0, round(q, digits))


@functools.lru_cache(maxsize=64)
def marginal_sigma(epsilon: float, delta: float, pairs: int) -> float | None:
    """Discrete Gaussian sigma so that ``pairs`` tables are (epsilon, delta); None if useless."""
    try:
        sigma = discrete_gaussian_sigma(epsilon, delta, 1, count=pairs)
    except ParameterError:
        return None
    return sigma if sigma <= MAX_MARGINAL_SIGMA else None


def opacus_guess(epsilon: float, delta: float, q: float, steps: int) -> float | None:
    """Opacus' RDP calibration (cheap, looser) as a starting point; None if it fails."""
    try:
        from opacus.accountants.utils import get_noise_multiplier
    except ImportError:  # pragma: no cover - opacus is part of the gan extra
        return None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        try:
            return float(get_noise_multiplier(target_epsilon=epsilon, target_delta=delta,
                                              sample_rate=q, steps=steps, accountant="rdp",
                                              epsilon_tolerance=0.01 * epsilon))
        except ValueError:
            return None


def dpsgd_sigma(epsilon: float, delta: float, q: float, steps: int,
                prior: Sequence[Event]) -> float:
    """Smallest noise multiplier with ``prior`` + DP-SGD composing to (epsilon, delta)."""
    from privsynth.accounting import compose

    spent = compose(list(prior), delta).epsilon
    guess = opacus_guess(max(epsilon - spent, 0.05 * epsilon), delta, q, steps)
    start = 0.95 * guess if guess is not None else 1.0  # PLD is tighter than RDP
    return dpsgd_noise_multiplier(epsilon, delta, sampling_rate=q, steps=steps,
                                  prior=tuple(prior), start=start)


def dpsgd_steps(epochs: int | None, q: float) -> int:
    """DP-SGD steps for ``epochs`` expected passes at sampling rate ``q`` (public).

    ``epochs=None`` (DP-CTGAN's default) takes ``DEFAULT_EPOCHS`` passes but
    at least ``DEFAULT_MIN_STEPS`` steps, so a small table trains long enough.
    """
    if epochs is None:
        return max(round(DEFAULT_EPOCHS / q), DEFAULT_MIN_STEPS)
    return max(1, round(epochs / q))


def learnability(*, noise_multiplier: float, batch: float, steps: int, n_params: int) -> float:
    """A signal-to-noise figure of a DP-SGD run, from public quantities only.

    The clipped mean gradient of a batch of ``batch`` records has norm at most
    the clipping norm C, spread over ``n_params`` coordinates (about
    C / sqrt(n_params) each), while the noise adds ``sigma C / batch`` per
    coordinate; ``steps`` steps average it down by sqrt(steps):
    ``sqrt(steps) * batch / (sigma * sqrt(n_params))``.
    """
    return math.sqrt(steps) * batch / (noise_multiplier * math.sqrt(max(n_params, 1)))


def discriminator_params(in_dim: int, hidden: Sequence[int]) -> int:
    """Parameters of the discriminator: an MLP ``in_dim -> hidden... -> 1`` (public).

    >>> discriminator_params(10, (4,))
    49
    """
    total, d = 0, in_dim
    for h in hidden:
        total += d * h + h
        d = h
    return total + d + 1


@dataclass(frozen=True)
class DpsgdOutlook:
    """What DP-SGD would run with at a budget, from public numbers (see :func:`dpsgd_outlook`)."""

    sampling_rate: float
    steps: int
    noise_multiplier: float
    learnability: float

    @property
    def can_learn(self) -> bool:
        """Whether :data:`MIN_STEPS` steps are taken and the signal-to-noise figure
        reaches :data:`MIN_LEARNABILITY`."""
        return self.steps >= MIN_STEPS and self.learnability >= MIN_LEARNABILITY

    def problem(self) -> str:
        """Why DP-SGD is not expected to learn, in words ('' when it is)."""
        parts = []
        if self.steps < MIN_STEPS:
            parts.append(f"only {self.steps} DP-SGD steps (a GAN needs about "
                         f"{DEFAULT_MIN_STEPS}: leave epochs at its default, or raise it to "
                         f"{math.ceil(DEFAULT_MIN_STEPS * self.sampling_rate)} or more)")
        if self.learnability < MIN_LEARNABILITY:
            parts.append(f"DP-SGD signal-to-noise {self.learnability:.1f}, below "
                         f"{MIN_LEARNABILITY:g} (the noise drowns the gradients; more rows or "
                         "a larger epsilon would help)")
        return "; ".join(parts)


def dpsgd_outlook(*, discrete: int, pairs: int, in_dim: int, epsilon: float, delta: float,
                  n_hat: float, count_share: float, marginal_share: float, batch_size: int,
                  epochs: int | None, discriminator_dim: Sequence[int]) -> DpsgdOutlook:
    """DP-SGD's rate, steps, noise and learnability for a fit, before any data is read.

    Follows the fit's order: ``discrete`` noisy category counts (or one row
    count) with ``count_share`` of epsilon, ``pairs`` noisy pair tables with
    ``marginal_share`` (skipped when too noisy to be useful), then DP-SGD
    calibrated so that all of them compose to (epsilon, delta). For the budget
    planner: the fit itself calibrates on the events it actually spent.
    """
    eps_counts = epsilon * count_share
    prior: list[Event] = ([DiscreteLaplaceEvent(eps_counts / discrete)] * discrete if discrete
                          else [DiscreteLaplaceEvent(eps_counts)])
    if marginal_share > 0 and pairs > 0:
        sigma_m = marginal_sigma(epsilon * marginal_share, delta, pairs)
        if sigma_m is not None:
            prior += [DiscreteGaussianEvent(sigma_m)] * pairs
    q = round_rate(batch_size / n_hat)
    steps = dpsgd_steps(epochs, q)
    sigma = dpsgd_sigma(epsilon, delta, q, steps, tuple(prior))
    learn = learnability(noise_multiplier=sigma, batch=q * n_hat, steps=steps,
                         n_params=discriminator_params(in_dim, discriminator_dim))
    return DpsgdOutlook(q, steps, sigma, learn)


__all__ = ["DEFAULT_EPOCHS", "DEFAULT_MIN_STEPS", "MAX_MARGINAL_SIGMA", "MIN_LEARNABILITY",
           "MIN_STEPS", "DpsgdOutlook", "discriminator_params", "dpsgd_outlook", "dpsgd_sigma",
           "dpsgd_steps", "learnability", "marginal_sigma", "opacus_guess",
           "round_rate"]

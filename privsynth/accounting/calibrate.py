"""Noise calibration: the smallest noise that meets a target (epsilon, delta). One search for all.

Every calibration goes through :func:`smallest_noise`, which uses the same
composition as the accountant (:func:`~privsynth.accounting.compose.compose`),
so a calibrated event always fits the target it was calibrated for: the value
returned is one the composition itself judged feasible.

>>> laplace_scale(0.5)
2.0
>>> s = gaussian_sigma(1.0, 1e-5)
>>> 3.7 < s < 3.8
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from privsynth.accounting.compose import compose
from privsynth.accounting.events import (
    DiscreteGaussianEvent,
    Event,
    GaussianEvent,
    SubsampledGaussianEvent,
)
from privsynth.errors import ParameterError

#: Largest noise parameter searched; a target needing more is refused.
MAX_NOISE = 1e6


def _check_target(epsilon: float, delta: float, need_delta: bool) -> None:
    if isinstance(epsilon, bool) or not (isinstance(epsilon, int | float)
                                         and math.isfinite(epsilon) and epsilon > 0):
        raise ParameterError(f"epsilon must be a positive number, got {epsilon!r}")
    if need_delta and not (0 < delta < 1):
        raise ParameterError(f"this mechanism needs 0 < delta < 1, got delta={delta!r}")


def laplace_scale(epsilon: float, sensitivity: float = 1.0) -> float:
    """Scale b of Laplace noise giving epsilon-DP at L1 ``sensitivity``: b = sensitivity/epsilon."""
    _check_target(epsilon, 0.0, need_delta=False)
    return sensitivity / epsilon


def smallest_noise(events_of: Callable[[float], Sequence[Event]], epsilon: float,
                   delta: float, *, start: float = 1.0, rel_tol: float = 2e-3,
                   max_evals: int = 40) -> float:
    """Smallest noise parameter ``s`` with ``compose(events_of(s), delta) <= epsilon``.

    ``events_of`` must give events whose composed epsilon decreases as ``s``
    grows (more noise). The search brackets from ``start`` (a close guess
    saves evaluations), then narrows the bracket by secant steps on
    log-epsilon against log-s, safeguarded by bisection, until it is within
    ``rel_tol``. The result is always a value judged feasible.

    >>> s = smallest_noise(lambda s: [GaussianEvent(s)] * 4, 1.0, 1e-5, start=7.0)
    >>> compose([GaussianEvent(s)] * 4, 1e-5).epsilon <= 1.0
    True
    >>> smallest_noise(lambda s: [GaussianEvent(s)], 1.0, 1e-5) / gaussian_sigma(1.0, 1e-5)
    ... # doctest: +ELLIPSIS
    1.00...

    Raises
    ------
    ParameterError
        When no noise up to :data:`MAX_NOISE` reaches the target.
    """
    def eps_of(s: float) -> float:
        return compose(list(events_of(s)), delta).epsilon

    hi, e_hi = start, eps_of(start)
    evals = 1
    while not e_hi <= epsilon:
        hi *= 2.0
        if hi > MAX_NOISE:
            raise ParameterError(
                f"no noise level up to {MAX_NOISE:g} reaches epsilon={epsilon:g} at "
                f"delta={delta:g}; increase epsilon or delta, or reduce the number of steps")
        e_hi = eps_of(hi)
        evals += 1
    lo, e_lo = hi / 2.0, eps_of(hi / 2.0)
    evals += 1
    while lo > 1e-3 and e_lo <= epsilon:
        hi, e_hi = lo, e_lo
        lo = lo / 2.0
        e_lo = eps_of(lo)
        evals += 1
    # invariant: eps_of(hi) <= epsilon < eps_of(lo)
    while (hi - lo) / hi > rel_tol and evals < max_evals:
        mid = math.sqrt(lo * hi)
        if math.isfinite(e_lo) and e_lo > 0 and e_hi > 0 and e_lo != e_hi:
            # secant on (log s, log eps), kept inside the middle of the bracket
            slope = (math.log(e_hi) - math.log(e_lo)) / (math.log(hi) - math.log(lo))
            guess = math.exp(math.log(hi) + (math.log(epsilon * (1 - rel_tol / 4))
                                             - math.log(e_hi)) / slope)
            width = hi - lo
            mid = min(max(guess, lo + 0.05 * width), hi - 0.05 * width)
        e_mid = eps_of(mid)
        evals += 1
        if e_mid <= epsilon:
            hi, e_hi = mid, e_mid
        else:
            lo, e_lo = mid, e_mid
    return hi


def gaussian_sigma(epsilon: float, delta: float, sensitivity: float = 1.0) -> float:
    """Standard deviation of Gaussian noise for (epsilon, delta)-DP (tight, via PLD)."""
    _check_target(epsilon, delta, need_delta=True)
    return sensitivity * smallest_noise(lambda s: [GaussianEvent(s)], epsilon, delta,
                                        rel_tol=1e-3)


def discrete_gaussian_sigma(epsilon: float, delta: float, sensitivity: int = 1,
                            count: int = 1, prior: Sequence[Event] = ()) -> float:
    """Sigma of discrete Gaussian noise so that ``count`` such releases are (epsilon, delta)-DP.

    With ``prior`` events (earlier events of the same release), ``prior`` and the
    ``count`` releases compose *together* to at most (epsilon, delta); the
    composition is the accountant's own (tight PLD where it applies), so pure
    epsilon-DP events spent before often leave more room than their sum.

    >>> from privsynth.accounting.events import DiscreteLaplaceEvent
    >>> alone = discrete_gaussian_sigma(1.0, 1e-6, count=10)
    >>> after = discrete_gaussian_sigma(1.0, 1e-6, count=10, prior=[DiscreteLaplaceEvent(0.3)])
    >>> compose([DiscreteLaplaceEvent(0.3), *[DiscreteGaussianEvent(after)] * 10],
    ...         1e-6).epsilon <= 1.0, after > alone
    (True, True)
    """
    _check_target(epsilon, delta, need_delta=True)
    # zCDP gives a close, valid start: rho = count s^2 / (2 sigma^2)
    log_d = math.log(1 / delta)
    rho = (math.sqrt(log_d + epsilon) - math.sqrt(log_d)) ** 2
    start = sensitivity * math.sqrt(count / (2 * rho)) * 0.9
    before = list(prior)
    return smallest_noise(
        lambda s: [*before, *[DiscreteGaussianEvent(s, sensitivity)] * count], epsilon,
        delta, start=max(start, 1e-3), rel_tol=3e-3)


def dpsgd_noise_multiplier(epsilon: float, delta: float, *, sampling_rate: float, steps: int,
                           prior: Sequence[Event] = (), start: float | None = None) -> float:
    """DP-SGD noise multiplier (sigma / clipping norm) for ``steps`` Poisson-sampled steps.

    With ``prior`` events (the other events of the same release), the
    multiplier is the smallest for which ``prior`` and the DP-SGD steps
    compose *together* to at most (epsilon, delta): tight composition inside
    one release.

    >>> round(dpsgd_noise_multiplier(1.0, 1e-5, sampling_rate=0.1, steps=10), 1)
    1.7
    """
    _check_target(epsilon, delta, need_delta=True)
    if not (0 < sampling_rate <= 1) or steps < 1:
        raise ParameterError("sampling_rate must be in (0, 1] and steps at least 1")
    return smallest_noise(
        lambda s: [*prior, SubsampledGaussianEvent(sampling_rate, s, int(steps))], epsilon,
        delta, start=start if start is not None else 1.0, rel_tol=2e-3)


__all__ = ["MAX_NOISE", "discrete_gaussian_sigma", "dpsgd_noise_multiplier", "gaussian_sigma",
           "laplace_scale", "smallest_noise"]

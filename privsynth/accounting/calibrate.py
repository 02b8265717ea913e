"""Noise calibration: the smallest noise that meets a target (epsilon, delta).

Calibration uses the same composition as the accountant (:func:`compose`),
so a calibrated event always fits the budget it was calibrated for.

>>> laplace_scale(0.5)
2.0
>>> s = gaussian_sigma(1.0, 1e-5)
>>> 3.7 < s < 3.8
True
"""

from __future__ import annotations

import math
from collections.abc import Callable

from privsynth.accounting.compose import compose
from privsynth.accounting.events import (
    DiscreteGaussianEvent,
    Event,
    GaussianEvent,
    SubsampledGaussianEvent,
)
from privsynth.errors import ParameterError


def _check_target(epsilon: float, delta: float, need_delta: bool) -> None:
    if not (isinstance(epsilon, int | float) and math.isfinite(epsilon) and epsilon > 0):
        raise ParameterError(f"epsilon must be a positive number, got {epsilon!r}")
    if need_delta and not (0 < delta < 1):
        raise ParameterError(f"this mechanism needs 0 < delta < 1, got delta={delta!r}")


def laplace_scale(epsilon: float, sensitivity: float = 1.0) -> float:
    """Scale b of Laplace noise giving epsilon-DP at L1 ``sensitivity``: b = sensitivity/epsilon."""
    _check_target(epsilon, 0.0, need_delta=False)
    return sensitivity / epsilon


def _smallest_noise(
    make: Callable[[float], Event], epsilon: float, delta: float, *, rel_tol: float = 1e-3
) -> float:
    """Smallest noise parameter whose event composes to at most ``epsilon`` at ``delta``."""

    def eps_of(x: float) -> float:
        return compose([make(x)], delta).epsilon

    hi = 1.0
    while eps_of(hi) > epsilon:
        hi *= 2.0
        if hi > 1e6:
            raise ParameterError(
                f"no noise level up to 1e6 reaches epsilon={epsilon} at delta={delta}; "
                "increase epsilon or delta, or reduce the number of steps"
            )
    lo = hi / 2.0
    while lo > 1e-3 and eps_of(lo) <= epsilon:
        hi, lo = lo, lo / 2.0
    # invariant: eps_of(hi) <= epsilon < eps_of(lo)
    while (hi - lo) / hi > rel_tol:
        mid = math.sqrt(lo * hi)
        if eps_of(mid) <= epsilon:
            hi = mid
        else:
            lo = mid
    return hi


def gaussian_sigma(epsilon: float, delta: float, sensitivity: float = 1.0) -> float:
    """Standard deviation of Gaussian noise for (epsilon, delta)-DP (tight, via PLD)."""
    _check_target(epsilon, delta, need_delta=True)
    return sensitivity * _smallest_noise(lambda s: GaussianEvent(s), epsilon, delta)


def discrete_gaussian_sigma(epsilon: float, delta: float, sensitivity: int = 1) -> float:
    """Sigma of discrete Gaussian noise on integers for (epsilon, delta)-DP."""
    _check_target(epsilon, delta, need_delta=True)
    return _smallest_noise(lambda s: DiscreteGaussianEvent(s, sensitivity), epsilon, delta)


def dpsgd_noise_multiplier(
    epsilon: float, delta: float, *, sampling_rate: float, steps: int
) -> float:
    """DP-SGD noise multiplier (sigma / clipping norm) for ``steps`` Poisson-sampled steps.

    >>> round(dpsgd_noise_multiplier(1.0, 1e-5, sampling_rate=0.1, steps=10), 1)
    1.7
    """
    _check_target(epsilon, delta, need_delta=True)
    if not (0 < sampling_rate <= 1) or steps < 1:
        raise ParameterError("sampling_rate must be in (0, 1] and steps at least 1")
    return _smallest_noise(
        lambda s: SubsampledGaussianEvent(sampling_rate, s, int(steps)), epsilon, delta,
        rel_tol=2e-3,
    )

"""Typed, immutable descriptions of privacy mechanisms (values, not behaviour).

An event says *what* was released with *which* noise; the accountant decides
what that costs. Each event knows three views of itself:

- ``pure_epsilon``: its epsilon when it is pure epsilon-DP (else ``None``);
- ``to_pld()``: a dp-accounting privacy loss distribution (tight, pessimistic);
- ``to_dp_event()``: a dp-accounting ``DpEvent`` for the RDP accountant, or
  ``None`` when RDP cannot describe it.

All events are for the add-or-remove-one-unit neighbouring relation (a unit is
one record unless a privacy unit is declared; sensitivities are then the
unit's).

Multi-coordinate changes. dp-accounting's PLDs of the Laplace, discrete
Laplace and discrete Gaussian mechanisms describe a change of *one*
coordinate by the sensitivity. That is exact for a histogram under
add/remove-one-record (one cell moves by 1), but a unit with several rows
may move several cells. So an event with sensitivity above 1 is accounted in
a form that holds for any change of that norm: the Laplace kinds by the
generic pure epsilon-DP privacy loss distribution (every epsilon-DP mechanism
is dominated by it), the discrete Gaussian by zCDP only (rho =
sensitivity^2 / (2 sigma^2) holds for any change of L2 norm at most the
sensitivity; Canonne, Kamath & Steinke 2020), through RDP. The continuous
Gaussian's loss depends on the L2 norm only, so its PLD is exact either way.

>>> e = DiscreteLaplaceEvent(epsilon=0.5)
>>> e.pure_epsilon
0.5
>>> event_from_dict(e.to_dict()) == e
True
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

from privsynth.errors import LedgerError, ParameterError

if TYPE_CHECKING:  # dp-accounting is heavy (scipy.signal): imported on first use
    import dp_accounting as dpa
    from dp_accounting.pld import privacy_loss_distribution as pld


def _dpa() -> Any:
    import dp_accounting

    return dp_accounting


def _pld() -> Any:
    from dp_accounting.pld import privacy_loss_distribution

    return privacy_loss_distribution


def _dp_params(epsilon: float, delta: float) -> Any:
    from dp_accounting.pld import common

    return common.DifferentialPrivacyParameters(epsilon, delta)

# Discretization of privacy-loss values in PLDs. Pessimistic estimates are
# used throughout, so the reported epsilon is an upper bound whatever the grid.
_PLD_GRID = 1e-4


_MIN_PARAM, _MAX_PARAM = 1e-12, 1e12

#: The most DP-SGD steps one :class:`SubsampledGaussianEvent` may hold (public). DP-CTGAN
#: takes hundreds to tens of thousands (``10 * n / batch_size`` by default); ten million
#: steps would train for weeks. Above it a PLD self-composition takes seconds to hours
#: (dp-accounting's test of a sparse PLD computes ``size ** steps``), so a forged file
#: could stall every reader: such an event is refused.
MAX_DPSGD_STEPS = 10**7
#: The most compositions (DP-SGD steps times identical events) one PLD self-composition
#: runs; above it the PLD's support (and its FFT) grows past millions of entries, and
#: the events are composed by RDP instead (valid, slightly looser). Measured: at this
#: cap, the worst Gaussian shapes that pass the other bounds take about 2 s.
MAX_PLD_COMPOSITIONS = 10**7
# dp-accounting composes a sparse PMF of ``size`` points ``n`` times by a loop of
# sparse products while ``size ** n <= 1000``, densely (FFT) otherwise.
_SPARSE_MAX = 1000


def _positive(name: str, value: float, cls: str) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ParameterError(f"{cls}: {name} must be a finite number, got {value!r}")
    if value <= 0:
        raise ParameterError(f"{cls}: {name} must be positive, got {value!r}")
    # Far outside any meaningful mechanism; such values (e.g. in a forged ledger) make the
    # accounting libraries divide by zero or overflow instead of answering.
    if not _MIN_PARAM <= value <= _MAX_PARAM:
        raise ParameterError(f"{cls}: {name} = {value!r} is outside [{_MIN_PARAM:g}, "
                             f"{_MAX_PARAM:g}], the range privsynth accounts for")


def _dense_if_large(pmf: Any, times: int) -> Any:
    """``pmf`` as dp-accounting itself would compose it ``times`` times, decided cheaply.

    dp-accounting decides by computing ``size ** times`` exactly (a number of
    ``times * log2(size)`` bits: hours for 10^12 steps); a size of 2 or more
    reaches 1000 by 10 compositions, so the same decision needs no big number.
    A one-point PMF (never an honest event) is made dense above 1000 times
    instead of being multiplied in a loop of ``times`` rounds.
    """
    size = int(pmf.size)
    if size >= 2:
        large = times >= 10 or size ** times > _SPARSE_MAX
    else:
        large = times > _SPARSE_MAX
    return pmf.to_dense_pmf() if large else pmf


def self_compose(one: pld.PrivacyLossDistribution, times: int) -> pld.PrivacyLossDistribution:
    """``one`` composed ``times`` times, as ``one.self_compose(times)`` but bounded in time.

    Same result as dp-accounting's (the same sparse or dense path is taken),
    without its ``size ** times`` big-number test.
    """
    if times <= 1:
        return one
    remove = _dense_if_large(one._pmf_remove, times)
    if one._symmetric:
        return _pld().PrivacyLossDistribution(remove).self_compose(times)
    add = _dense_if_large(one._pmf_add, times)
    return _pld().PrivacyLossDistribution(remove, add).self_compose(times)


@dataclass(frozen=True)
class Event:
    """Base class of privacy events. Subclasses are frozen dataclasses."""

    kind: ClassVar[str] = ""

    @property
    def pure_epsilon(self) -> float | None:
        """Epsilon when the event is pure epsilon-DP, else None."""
        return None

    @property
    def delta(self) -> float:
        """A delta the event consumes by itself (approximate-DP events only)."""
        return 0.0

    @property
    def has_pld(self) -> bool:
        """Whether :meth:`to_pld` describes the event (else it is composed by sum or RDP)."""
        return True

    @property
    def compositions(self) -> int:
        """How many mechanisms the event composes (DP-SGD: its steps; else 1)."""
        return 1

    def to_pld(self) -> pld.PrivacyLossDistribution:
        """A pessimistic privacy loss distribution of the event."""
        raise NotImplementedError

    def to_dp_event(self) -> dpa.DpEvent | None:
        """A dp-accounting DpEvent for RDP accounting, or None if unsupported."""
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"kind": ..., <parameters>}``."""
        return {"kind": self.kind, **asdict(self)}

    def describe(self) -> str:
        """One line for people (ledger tables, reports)."""
        params = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in asdict(self).items())
        return f"{self.kind}({params})"


def _pure_pld(epsilon: float) -> pld.PrivacyLossDistribution:
    # The dominating pair of a generic epsilon-DP mechanism.
    return _pld().from_privacy_parameters(
        _dp_params(epsilon, 0.0),
        value_discretization_interval=_PLD_GRID,
    )


@dataclass(frozen=True)
class LaplaceEvent(Event):
    """Continuous Laplace noise of scale ``sensitivity / epsilon`` (L1 sensitivity)."""

    epsilon: float
    sensitivity: float = 1.0
    kind: ClassVar[str] = "laplace"

    def __post_init__(self) -> None:
        _positive("epsilon", self.epsilon, "LaplaceEvent")
        _positive("sensitivity", self.sensitivity, "LaplaceEvent")

    @property
    def pure_epsilon(self) -> float:
        return float(self.epsilon)

    def to_pld(self) -> pld.PrivacyLossDistribution:
        if self.sensitivity != 1:  # possibly several coordinates: see the module docstring
            return _pure_pld(self.epsilon)
        return _pld().from_laplace_mechanism(
            1.0 / self.epsilon, sensitivity=1.0, value_discretization_interval=_PLD_GRID,
        )

    def to_dp_event(self) -> dpa.DpEvent:
        return _dpa().LaplaceDpEvent(noise_multiplier=1.0 / self.epsilon)


@dataclass(frozen=True)
class DiscreteLaplaceEvent(Event):
    """Discrete Laplace (two-sided geometric) noise, P(z) ~ exp(-epsilon |z| / sensitivity).

    ``sensitivity`` is the integer L1 sensitivity of the released counts
    (1 for a histogram under add/remove-one).
    """

    epsilon: float
    sensitivity: int = 1
    kind: ClassVar[str] = "discrete_laplace"

    def __post_init__(self) -> None:
        _positive("epsilon", self.epsilon, "DiscreteLaplaceEvent")
        if not isinstance(self.sensitivity, int) or self.sensitivity < 1:
            raise ParameterError("DiscreteLaplaceEvent: sensitivity must be a positive integer")

    @property
    def pure_epsilon(self) -> float:
        return float(self.epsilon)

    def to_pld(self) -> pld.PrivacyLossDistribution:
        if self.sensitivity != 1:  # possibly several coordinates: see the module docstring
            return _pure_pld(self.epsilon)
        return _pld().from_discrete_laplace_mechanism(
            self.epsilon, sensitivity=1, value_discretization_interval=_PLD_GRID,
        )

    def to_dp_event(self) -> dpa.DpEvent:
        # epsilon-DP implies (epsilon^2 / 2)-zCDP (Bun & Steinke 2016).
        return _dpa().ZCDpEvent(rho=self.epsilon**2 / 2)


@dataclass(frozen=True)
class _PureEpsilonEvent(Event):
    """A pure epsilon-DP mechanism known by its epsilon alone (generic dominating pair)."""

    epsilon: float

    def __post_init__(self) -> None:
        _positive("epsilon", self.epsilon, type(self).__name__)

    @property
    def pure_epsilon(self) -> float:
        return float(self.epsilon)

    def to_pld(self) -> pld.PrivacyLossDistribution:
        return _pure_pld(self.epsilon)

    def to_dp_event(self) -> dpa.DpEvent:
        # epsilon-DP implies (epsilon^2 / 2)-zCDP (Bun & Steinke 2016).
        return _dpa().ZCDpEvent(rho=self.epsilon**2 / 2)


@dataclass(frozen=True)
class ExponentialEvent(_PureEpsilonEvent):
    """One draw of the exponential mechanism (or any pure epsilon-DP selection)."""

    kind: ClassVar[str] = "exponential"


@dataclass(frozen=True)
class PureDPEvent(_PureEpsilonEvent):
    """Any other pure epsilon-DP mechanism, described by its epsilon only."""

    mechanism: str = "pure"
    kind: ClassVar[str] = "pure_dp"


@dataclass(frozen=True)
class ApproxDPEvent(Event):
    """An (epsilon, delta)-DP mechanism, e.g. a thresholded histogram."""

    epsilon: float
    approx_delta: float
    mechanism: str = "approx"
    kind: ClassVar[str] = "approx_dp"

    def __post_init__(self) -> None:
        _positive("epsilon", self.epsilon, "ApproxDPEvent")
        if not (0 <= self.approx_delta < 1):
            raise ParameterError("ApproxDPEvent: delta must be in [0, 1)")

    @property
    def pure_epsilon(self) -> float | None:
        return float(self.epsilon) if self.approx_delta == 0 else None

    @property
    def delta(self) -> float:
        return float(self.approx_delta)

    def to_pld(self) -> pld.PrivacyLossDistribution:
        return _pld().from_privacy_parameters(
            _dp_params(self.epsilon, self.approx_delta),
            value_discretization_interval=_PLD_GRID,
        )


@dataclass(frozen=True)
class GaussianEvent(Event):
    """Continuous Gaussian noise of standard deviation ``sigma`` (L2 sensitivity)."""

    sigma: float
    sensitivity: float = 1.0
    kind: ClassVar[str] = "gaussian"

    def __post_init__(self) -> None:
        _positive("sigma", self.sigma, "GaussianEvent")
        _positive("sensitivity", self.sensitivity, "GaussianEvent")

    def to_pld(self) -> pld.PrivacyLossDistribution:
        return _pld().from_gaussian_mechanism(
            self.sigma, sensitivity=self.sensitivity, value_discretization_interval=_PLD_GRID
        )

    def to_dp_event(self) -> dpa.DpEvent:
        return _dpa().GaussianDpEvent(noise_multiplier=self.sigma / self.sensitivity)


@dataclass(frozen=True)
class DiscreteGaussianEvent(Event):
    """Discrete Gaussian noise (Canonne, Kamath & Steinke 2020) on integer values."""

    sigma: float
    sensitivity: int = 1
    kind: ClassVar[str] = "discrete_gaussian"

    def __post_init__(self) -> None:
        _positive("sigma", self.sigma, "DiscreteGaussianEvent")
        if not isinstance(self.sensitivity, int) or self.sensitivity < 1:
            raise ParameterError("DiscreteGaussianEvent: sensitivity must be a positive integer")

    @property
    def has_pld(self) -> bool:
        # one-coordinate PLD only; above sensitivity 1, zCDP through RDP (module docstring)
        return self.sensitivity == 1

    def to_pld(self) -> pld.PrivacyLossDistribution:
        if self.sensitivity != 1:
            raise NotImplementedError("discrete Gaussian above sensitivity 1: use zCDP (RDP)")
        return _pld().from_discrete_gaussian_mechanism(
            self.sigma, sensitivity=1, value_discretization_interval=_PLD_GRID
        )

    def to_dp_event(self) -> dpa.DpEvent:
        # The discrete Gaussian satisfies the same zCDP as the continuous one (CKS 2020, Thm 4).
        return _dpa().ZCDpEvent(rho=self.sensitivity**2 / (2 * self.sigma**2))


@dataclass(frozen=True)
class SubsampledGaussianEvent(Event):
    """``steps`` rounds of a Poisson-subsampled Gaussian mechanism (DP-SGD).

    ``noise_multiplier`` is sigma divided by the clipping norm; ``sampling_rate``
    is the Poisson sampling probability of each record in each step. ``steps``
    is at most :data:`MAX_DPSGD_STEPS`.
    """

    sampling_rate: float
    noise_multiplier: float
    steps: int
    kind: ClassVar[str] = "subsampled_gaussian"

    def __post_init__(self) -> None:
        if not (0 < self.sampling_rate <= 1):
            raise ParameterError("SubsampledGaussianEvent: sampling_rate must be in (0, 1]")
        _positive("noise_multiplier", self.noise_multiplier, "SubsampledGaussianEvent")
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ParameterError("SubsampledGaussianEvent: steps must be a positive integer")
        if self.steps > MAX_DPSGD_STEPS:
            raise ParameterError(f"SubsampledGaussianEvent: steps = {self.steps} is above "
                                 f"{MAX_DPSGD_STEPS:,}, the most DP-SGD steps privsynth "
                                 "accounts for")

    @property
    def compositions(self) -> int:
        return int(self.steps)

    def to_pld(self) -> pld.PrivacyLossDistribution:
        one = _pld().from_gaussian_mechanism(
            self.noise_multiplier, sampling_prob=self.sampling_rate,
            value_discretization_interval=_PLD_GRID, use_connect_dots=True,
        )
        return self_compose(one, self.steps)

    def to_dp_event(self) -> dpa.DpEvent:
        one = _dpa().PoissonSampledDpEvent(
            self.sampling_rate, _dpa().GaussianDpEvent(self.noise_multiplier)
        )
        return _dpa().SelfComposedDpEvent(one, self.steps)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        LaplaceEvent, DiscreteLaplaceEvent, ExponentialEvent, PureDPEvent, ApproxDPEvent,
        GaussianEvent, DiscreteGaussianEvent, SubsampledGaussianEvent,
    )
}


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from :meth:`Event.to_dict`; raises LedgerError on anything wrong."""
    if not isinstance(data, dict) or data.get("kind") not in EVENT_TYPES:
        kind = data.get("kind") if isinstance(data, dict) else None
        raise LedgerError(f"unknown privacy event kind {kind!r}; known: {sorted(EVENT_TYPES)}")
    cls = EVENT_TYPES[data["kind"]]
    params = {k: v for k, v in data.items() if k != "kind"}
    unknown = sorted(set(params) - {f.name for f in fields(cls)})
    if unknown:
        raise LedgerError(f"event {data['kind']!r} has unknown parameter(s) {unknown}")
    try:
        return cls(**params)
    except (TypeError, ParameterError) as exc:
        raise LedgerError(f"invalid parameters for event {data['kind']!r}: {exc}") from exc


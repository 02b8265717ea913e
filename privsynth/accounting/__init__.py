"""Privacy accounting: typed events, the append-only ledger, the accountant, calibration.

One place decides composition. Mechanisms (``privsynth.mechanisms``) describe
what they release as events and spend them here before drawing noise.
"""

from privsynth.accounting.accountant import (
    Accountant,
    Reservation,
    Spent,
    compose,
    reserve,
)
from privsynth.accounting.calibrate import (
    discrete_gaussian_sigma,
    dpsgd_noise_multiplier,
    gaussian_sigma,
    laplace_scale,
)
from privsynth.accounting.events import (
    ApproxDPEvent,
    DiscreteGaussianEvent,
    DiscreteLaplaceEvent,
    Event,
    ExponentialEvent,
    GaussianEvent,
    LaplaceEvent,
    PureDPEvent,
    SubsampledGaussianEvent,
    event_from_dict,
)
from privsynth.accounting.ledger import Ledger, LedgerEntry

__all__ = [
    "Accountant",
    "ApproxDPEvent",
    "DiscreteGaussianEvent",
    "DiscreteLaplaceEvent",
    "Event",
    "ExponentialEvent",
    "GaussianEvent",
    "LaplaceEvent",
    "Ledger",
    "LedgerEntry",
    "PureDPEvent",
    "Reservation",
    "Spent",
    "SubsampledGaussianEvent",
    "compose",
    "discrete_gaussian_sigma",
    "dpsgd_noise_multiplier",
    "event_from_dict",
    "gaussian_sigma",
    "laplace_scale",
    "reserve",
]

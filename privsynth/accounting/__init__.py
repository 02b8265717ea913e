"""Privacy accounting: typed events, the hash-chained ledger, composition, releases, budgets.

One place decides composition (:mod:`~privsynth.accounting.compose`). Mechanisms
(``privsynth.mechanisms``) describe what they release as events and spend them
here (through a :class:`Release` during a fit) before drawing noise.
"""

from privsynth.accounting.accountant import LEDGER_VERSION, Accountant, DatasetInfo
from privsynth.accounting.calibrate import (
    discrete_gaussian_sigma,
    dpsgd_noise_multiplier,
    gaussian_sigma,
    laplace_scale,
)
from privsynth.accounting.compose import (
    Spent,
    compose,
    compose_entries,
    compose_with_new_release,
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
from privsynth.accounting.ledger import Ledger, LedgerEntry, check_entry_ids
from privsynth.accounting.release import Release, check_release_id

__all__ = [
    "LEDGER_VERSION",
    "Accountant",
    "ApproxDPEvent",
    "DatasetInfo",
    "DiscreteGaussianEvent",
    "DiscreteLaplaceEvent",
    "Event",
    "ExponentialEvent",
    "GaussianEvent",
    "LaplaceEvent",
    "Ledger",
    "LedgerEntry",
    "PureDPEvent",
    "Release",
    "Spent",
    "SubsampledGaussianEvent",
    "check_entry_ids",
    "check_release_id",
    "compose",
    "compose_entries",
    "compose_with_new_release",
    "discrete_gaussian_sigma",
    "dpsgd_noise_multiplier",
    "event_from_dict",
    "gaussian_sigma",
    "laplace_scale",
]

"""DP-CTGAN, the DP-SGD generative engine (needs the ``gan`` extra; torch loads lazily).

Modules: ``_engine`` (the estimator and its privacy accounting), ``_plan``
(sampling rate, steps, calibrated noise, learnability), ``_train`` (DP-SGD
training), ``_layout`` (public-bin representation), ``_conditions``
(conditional vectors, marginal targets), ``_nets`` (networks and losses;
imports torch).
"""

from privsynth.engines.dpctgan._engine import (
    DPCTGAN,
    INSTALL_HINT,
    CannotLearnWarning,
    gan_available,
)

__all__ = ["DPCTGAN", "INSTALL_HINT", "CannotLearnWarning", "gan_available"]

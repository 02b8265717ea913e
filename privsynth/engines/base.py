"""The interface every synthesis engine follows, and the registry of engines by name.

An engine is a scikit-learn-style estimator: ``__init__`` stores parameters,
``fit(data, *, schema, epsilon, ...)`` learns with DP and returns ``self``,
learned state ends in ``_``, ``sample(n, random_state=...)`` draws synthetic
rows (post-processing: free of privacy cost), ``save``/``load`` use the safe
model file format of :mod:`privsynth._modelfile`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pandas as pd

from privsynth.accounting import Accountant
from privsynth.errors import NotFittedError, ParameterError, PrivsynthError
from privsynth.mechanisms import Noise
from privsynth.schema import Schema

S = TypeVar("S", bound="Synthesizer")

_REGISTRY: dict[str, Callable[[], type[Synthesizer]]] = {}


def check_epsilon(epsilon: object, name: str = "epsilon") -> float:
    """Validate a user-given epsilon; returns it as a float."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float) \
            or not math.isfinite(epsilon) or epsilon <= 0:
        raise ParameterError(f"{name} must be a positive finite number, got {epsilon!r}")
    return float(epsilon)


def check_random_state(random_state: object) -> int | None:
    if random_state is None:
        return None
    if isinstance(random_state, bool) or not isinstance(random_state, int) or random_state < 0:
        raise ParameterError(f"random_state must be None or a non-negative integer, "
                             f"got {random_state!r}")
    return int(random_state)


def check_n(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ParameterError(f"n must be a non-negative integer number of rows, got {n!r}")
    return int(n)


class Synthesizer(ABC):
    """Base class of DP synthesizers.

    Subclasses set ``name`` and implement ``_fit``, ``_sample``, ``_to_payload``
    and ``_from_payload``. The base class validates inputs and owns the
    accountant wiring so every engine behaves the same.
    """

    name: ClassVar[str] = ""

    # learned state (set by fit / load)
    schema_: Schema
    accountant_: Accountant
    epsilon_: float
    delta_: float

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "schema_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(data, schema=..., "
                "epsilon=...) or load a saved model first"
            )

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (public configuration, recorded in model files)."""
        import inspect

        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self"}

    @abstractmethod
    def fit(self: S, data: pd.DataFrame, *, schema: Schema, epsilon: float,
            accountant: Accountant | None = None, noise: Noise | None = None) -> S:
        """Learn a DP model of ``data``; spends ``epsilon`` from ``accountant``."""

    @abstractmethod
    def sample(self, n: int, *, random_state: int | None = None) -> pd.DataFrame:
        """Draw ``n`` synthetic rows. ``random_state`` seeds sampling only, not privacy noise."""

    @abstractmethod
    def save(self, path: str | Path) -> None:
        """Write the fitted model (DP outputs only) to ``path``."""

    @classmethod
    @abstractmethod
    def load(cls: type[S], path: str | Path) -> S:
        """Read a model written by :meth:`save`."""


def register(name: str, loader: Callable[[], type[Synthesizer]]) -> None:
    """Register an engine class under ``name``; ``loader`` imports it lazily."""
    _REGISTRY[name] = loader


def names() -> list[str]:
    """Names of the registered engines."""
    return sorted(_REGISTRY)


def get(name: str) -> type[Synthesizer]:
    """The engine class registered as ``name`` (may raise MissingExtraError)."""
    if name not in _REGISTRY:
        raise ParameterError(f"unknown engine {name!r}; choose one of {names()}")
    return _REGISTRY[name]()


def load_model(path: str | Path) -> Synthesizer:
    """Load any saved model, choosing the engine from the file."""
    from privsynth._modelfile import peek_engine

    engine = peek_engine(path)
    if engine not in _REGISTRY:
        raise PrivsynthError(f"{path} holds a model of unknown engine {engine!r}")
    return get(engine).load(path)

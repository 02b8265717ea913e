"""Engines by name: the registry used by the CLI, model files and :func:`load_model`.

>>> from privsynth.engines import names
>>> names()
['dpctgan', 'privbayes']
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from privsynth.engines.base import Synthesizer
from privsynth.errors import ModelFileError, ParameterError

_REGISTRY: dict[str, Callable[[], type[Synthesizer]]] = {}


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
    if engine == "privbayes-tables":
        raise ModelFileError(f"{path} holds a parent/child tables model (fit_tables); load it "
                             "with privsynth.TablesModel.load, or sample it with `privsynth "
                             "sample-tables`")
    if engine not in _REGISTRY:
        raise ModelFileError(f"{path} holds a model of unknown engine {engine!r}; this version "
                             f"of privsynth knows {names()}")
    return get(engine).load(path)


__all__ = ["get", "load_model", "names", "register"]

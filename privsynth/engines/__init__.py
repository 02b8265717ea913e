"""Synthesis engines and their registry. Engines are imported lazily by name."""

from privsynth.engines.base import Synthesizer, get, load_model, names, register


def _privbayes() -> type[Synthesizer]:
    from privsynth.engines.privbayes import PrivBayes

    return PrivBayes


def _dpctgan() -> type[Synthesizer]:
    from privsynth.engines.dpctgan import DPCTGAN

    return DPCTGAN


register("privbayes", _privbayes)
register("dpctgan", _dpctgan)

__all__ = ["Synthesizer", "get", "load_model", "names", "register"]

"""Synthesis engines, their shared template and their registry. Engines load lazily by name."""

from privsynth.engines.base import FitDetails, Synthesizer
from privsynth.engines.record import FitRecord, LedgerRef, PrivacyUnit
from privsynth.engines.registry import get, load_model, names, register


def _privbayes() -> type[Synthesizer]:
    from privsynth.engines.privbayes import PrivBayes

    return PrivBayes


def _dpctgan() -> type[Synthesizer]:
    from privsynth.engines.dpctgan import DPCTGAN

    return DPCTGAN


register("privbayes", _privbayes)
register("dpctgan", _dpctgan)

__all__ = ["FitDetails", "FitRecord", "LedgerRef", "PrivacyUnit", "Synthesizer", "get",
           "load_model", "names", "register"]

"""The version of privsynth (one place; read by the package, model files, ledgers and reports)."""

__version__ = "0.2.0.dev0"

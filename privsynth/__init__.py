"""privsynth: differentially private synthetic data with an auditable privacy ledger.

>>> import privsynth as ps
>>> acct = ps.Accountant(epsilon=1.0)
>>> schema = ps.datasets.adult_schema()
>>> df = ps.datasets.load_adult().head(2000)
>>> model = ps.PrivBayes().fit(df, schema=schema, epsilon=0.5, accountant=acct)
>>> model.sample(10, random_state=0).shape
(10, 15)
>>> round(acct.spent().epsilon, 6)
0.5
"""

from typing import Any

from privsynth import datasets, planner
from privsynth._version import __version__
from privsynth.accounting import Accountant
from privsynth.engines import load_model
from privsynth.engines.privbayes import PrivBayes
from privsynth.engines.tables import Relation, TablesModel
from privsynth.errors import (
    BudgetExceededError,
    ConstraintError,
    DataValidationError,
    IncompleteDraftError,
    LedgerError,
    MissingExtraError,
    ModelFileError,
    NotFittedError,
    ParameterError,
    PartialInferenceError,
    PrivacyWarning,
    PrivsynthError,
    ResourceLimitError,
    SchemaError,
)
from privsynth.inference import infer_dp, infer_unsafe
from privsynth.io import read_table
from privsynth.mechanisms import Noise
from privsynth.planner import plan
from privsynth.schema import Schema
from privsynth.validation import validate


def __getattr__(name: str) -> Any:
    # Heavy or optional parts load on first use: `import privsynth` never imports torch.
    if name == "DPCTGAN":
        from privsynth.engines.dpctgan import DPCTGAN

        return DPCTGAN
    if name == "audit":
        from privsynth.report import audit

        return audit
    if name in ("write_manifest", "verify_release"):
        from privsynth import release

        return getattr(release, name)
    if name in ("metrics", "risk"):
        import importlib

        return importlib.import_module(f"privsynth.{name}")
    raise AttributeError(f"module 'privsynth' has no attribute {name!r}")


__all__ = [
    "DPCTGAN",
    "Accountant",
    "BudgetExceededError",
    "ConstraintError",
    "DataValidationError",
    "IncompleteDraftError",
    "LedgerError",
    "MissingExtraError",
    "ModelFileError",
    "Noise",
    "NotFittedError",
    "ParameterError",
    "PartialInferenceError",
    "PrivBayes",
    "PrivacyWarning",
    "PrivsynthError",
    "Relation",
    "ResourceLimitError",
    "Schema",
    "SchemaError",
    "TablesModel",
    "__version__",
    "audit",
    "datasets",
    "infer_dp",
    "infer_unsafe",
    "load_model",
    "plan",
    "planner",
    "read_table",
    "validate",
    "verify_release",
    "write_manifest",
]

"""privsynth: differentially private synthetic data with an auditable privacy ledger."""

from privsynth.errors import (
    BudgetExceededError,
    ConstraintError,
    DataValidationError,
    LedgerError,
    MissingExtraError,
    ModelFileError,
    NotFittedError,
    ParameterError,
    PrivsynthError,
    ResourceLimitError,
    SchemaError,
)
from privsynth.schema import Schema

__version__ = "0.1.0"

__all__ = [
    "BudgetExceededError",
    "ConstraintError",
    "DataValidationError",
    "LedgerError",
    "MissingExtraError",
    "ModelFileError",
    "NotFittedError",
    "ParameterError",
    "PrivsynthError",
    "ResourceLimitError",
    "Schema",
    "SchemaError",
    "__version__",
]

"""The exceptions and warnings of privsynth (bottom layer: imports nothing).

Every error raised for a user mistake or a refused operation is a
:class:`PrivsynthError`, so callers can catch one class. Messages say what is
wrong and what to do next. Messages never contain private values: at most
column names, counts of offending rows and public schema values.

Every warning class lives here too: :class:`PrivacyWarning` (an operation
weakens the privacy guarantee) and :class:`InsecureNoiseWarning` (privacy noise
from a seeded generator, for tests only).
"""

from __future__ import annotations


class PrivsynthError(Exception):
    """Root of every error privsynth raises on purpose."""


class SchemaError(PrivsynthError):
    """The schema is malformed or inconsistent (bad bounds, empty categories ...)."""


class IncompleteDraftError(SchemaError):
    """A draft lacks declarations an operation needs (a kind, public bounds, a coarse range).

    Raised by :func:`privsynth.infer_dp` before anything is read or charged.
    ``needs`` maps each such column to what it needs, in words.
    """

    def __init__(self, message: str, needs: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.needs: dict[str, str] = dict(needs or {})


class PartialInferenceError(SchemaError):
    """DP schema inference estimated some domains but not all; the paid-for ones are kept.

    Raised by :func:`privsynth.infer_dp` when no category of some column was
    frequent enough to be released. ``draft`` is a schema draft (a dict,
    ``"format": "privsynth.schema-draft"``) holding every domain estimated so
    far (charged: save it, running again would pay again) with the failed
    columns left to fill; ``failed`` lists those columns.
    """

    def __init__(self, message: str, *, draft: dict[str, object], failed: list[str]) -> None:
        super().__init__(message)
        self.draft: dict[str, object] = draft
        self.failed: list[str] = list(failed)


class DataValidationError(PrivsynthError):
    """The data does not conform to the schema, or cannot be read.

    ``problems`` lists one entry per problem found: column, what is wrong and
    how many rows are affected (never the offending values themselves).
    """

    def __init__(self, message: str, problems: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.problems: list[dict[str, object]] = list(problems or [])


class BudgetExceededError(PrivsynthError):
    """A privacy spend was refused because it would exceed the total budget.

    Raised before any noise is drawn; nothing is recorded in the ledger.
    """


class LedgerError(PrivsynthError):
    """A ledger file is corrupted, tampered with, or of an unknown version."""


class ModelFileError(PrivsynthError):
    """A saved model file is malformed, tampered with, or of an unknown version."""


class MissingExtraError(PrivsynthError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class NotFittedError(PrivsynthError):
    """A method that needs a fitted model was called before ``fit``."""


class ParameterError(PrivsynthError, ValueError):
    """A parameter has an invalid value; the message names it and the allowed values."""


class ConstraintError(PrivsynthError):
    """A sampling constraint or condition is contradictory or nearly impossible."""


class ResourceLimitError(PrivsynthError):
    """An operation would exceed a configured memory or size cap."""


class PrivacyWarning(UserWarning):
    """An operation weakens the privacy guarantee (for example a schema read from the data)."""


class InsecureNoiseWarning(UserWarning):
    """Privacy noise is being drawn from a seeded, reproducible generator."""


__all__ = [
    "BudgetExceededError",
    "ConstraintError",
    "DataValidationError",
    "IncompleteDraftError",
    "InsecureNoiseWarning",
    "LedgerError",
    "MissingExtraError",
    "ModelFileError",
    "NotFittedError",
    "ParameterError",
    "PartialInferenceError",
    "PrivacyWarning",
    "PrivsynthError",
    "ResourceLimitError",
    "SchemaError",
]

"""The evaluation parts of the report: empirical attacks, utility and marginal figures.

They are aggregates computed on the private data *without* DP: diagnostics
for the data steward and auditors, kept in the steward's edition and dropped
from the public one. Free texts and numbers are chosen so that they never
quote a real value or an exact count of real rows.
"""

from __future__ import annotations

from collections.abc import Sequence

EVALUATION_NOTE = (
    "Computed on the private data without differential privacy: these are diagnostics for "
    "the data steward and auditors, not DP outputs, and this steward's edition is an "
    "internal document. They are omitted from the public edition of this report. Counts of "
    "real rows are never shown, exactly or otherwise."
)
#: Default cap on the rows of each real or synthetic table used by the evaluation.
DEFAULT_MAX_RECORDS = 50_000


def safe_text(texts: Sequence[str]) -> list[str]:
    """Free texts that hold no digit (numbers in them may be real counts).

    >>> safe_text(["too few non-members", "only 35 members"])
    ['too few non-members']
    """
    return [t for t in texts if not any(ch.isdigit() for ch in t)]

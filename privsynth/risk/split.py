"""Members, non-members and the reference population: how an assessment splits its tables.

The user gives the training data (the members), a holdout of the same
population that the synthesizer never saw, and the synthetic release.
:func:`prepare` checks the three tables against the public schema, encodes
them for the Gower distance and draws the evaluation sets: the holdout is
split at random into a *reference* half (the population an adversary can
sample from) and an *evaluation* half (the non-members); members are drawn at
random from the training data to the same number, capped at ``max_records``.

The epsilon estimates of :mod:`privsynth.risk.audit_bound` read members and
non-members as random draws of one population, which holds when the training
data itself was drawn at random from the data set (see ``docs/risk.md``).

:func:`seeds` gives one generator per purpose, so every entry point (one
attack alone, or :func:`~privsynth.risk.assess_risk`) draws the same sets from
the same ``random_state``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth._checks import check_int
from privsynth.errors import DataValidationError
from privsynth.risk._encode import Encoded, check_columns, encode
from privsynth.schema import Schema

I64 = npt.NDArray[np.int64]

#: Fewest rows of each evaluation set (members, non-members).
MIN_EVAL_RECORDS = 10
#: Large data: the training and synthetic tables are first cut to random subsamples
#: of ``LARGE_DATA_FACTOR * max_records`` rows (the holdout to twice that), so that
#: the searches and the shadow fits take bounded time whatever the table sizes.
LARGE_DATA_FACTOR = 10


@dataclass(frozen=True, eq=False)
class Split:
    """The encoded tables an assessment works on (internal).

    ``member_rows`` index the training frame; ``nonmember_rows`` and
    ``reference_rows`` index the holdout frame.
    """

    train: pd.DataFrame
    holdout: pd.DataFrame
    members: Encoded
    nonmembers: Encoded
    reference: Encoded
    synthetic: Encoded
    member_rows: I64
    nonmember_rows: I64
    reference_rows: I64
    train_all: Encoded
    holdout_all: Encoded
    subsampled: bool
    #: the raw tables were first cut to LARGE_DATA_FACTOR * max_records rows (large data)
    precut: bool = False


def check_max_records(max_records: object) -> int:
    """The cap on each evaluation set: an integer >= ``MIN_EVAL_RECORDS``."""
    return check_int("max_records", max_records, lo=MIN_EVAL_RECORDS)


def seeds(random_state: int) -> dict[str, np.random.Generator]:
    """Independent generators per purpose, so every entry point splits the same way.

    >>> sorted(seeds(0))
    ['diagnostics', 'evaluation', 'shadow', 'split']
    """
    names = ("split", "diagnostics", "evaluation", "shadow")
    children = np.random.SeedSequence(random_state).spawn(len(names))
    return {n: np.random.default_rng(c) for n, c in zip(names, children, strict=True)}


def prepare(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    max_records: int,
    rng: np.random.Generator,
) -> Split:
    """Check the three tables, encode them and draw balanced evaluation sets."""
    max_records = check_max_records(max_records)
    if isinstance(holdout, pd.DataFrame) and len(holdout) == 0:
        raise DataValidationError(
            "the holdout has no rows; membership attacks need holdout records from the "
            "same population that were not used for training (e.g. a test split)")
    for df, what in ((train, "the training data"), (holdout, "the holdout"),
                     (synthetic, "the synthetic data")):
        check_columns(df, schema, what)
    if len(holdout) < 2 * MIN_EVAL_RECORDS:
        raise DataValidationError(
            f"the holdout has {len(holdout)} rows; the attacks need at least "
            f"{2 * MIN_EVAL_RECORDS} (half as reference population, half as non-members)")
    if len(train) < MIN_EVAL_RECORDS:
        raise DataValidationError(
            f"the training data has {len(train)} rows; the attacks need at least "
            f"{MIN_EVAL_RECORDS} members")
    # large data: cut the raw tables first (only then is the generator used, so small
    # tables split exactly as before)
    cap = LARGE_DATA_FACTOR * max_records
    precut = False
    if len(train) > cap:
        train, precut = train.iloc[np.sort(rng.choice(len(train), cap, replace=False))], True
    if len(holdout) > 2 * cap:
        holdout, precut = holdout.iloc[np.sort(rng.choice(len(holdout), 2 * cap,
                                                          replace=False))], True
    if len(synthetic) > cap:
        synthetic = synthetic.iloc[np.sort(rng.choice(len(synthetic), cap, replace=False))]
        precut = True
    tr = encode(train, schema, "the training data")
    ho = encode(holdout, schema, "the holdout")
    syn = encode(synthetic, schema, "the synthetic data")

    perm = rng.permutation(ho.n_rows).astype(np.int64)
    half = ho.n_rows // 2
    reference_rows, eval_rows = np.sort(perm[:half]), np.sort(perm[half:])
    n_eval = min(tr.n_rows, eval_rows.size, max_records)
    member_rows = np.sort(rng.choice(tr.n_rows, size=n_eval, replace=False)).astype(np.int64)
    nonmember_rows = np.sort(rng.choice(eval_rows, size=n_eval, replace=False)).astype(np.int64)
    return Split(
        train=train,
        holdout=holdout,
        members=tr.take(member_rows),
        nonmembers=ho.take(nonmember_rows),
        reference=ho.take(reference_rows),
        synthetic=syn,
        member_rows=member_rows,
        nonmember_rows=nonmember_rows,
        reference_rows=reference_rows,
        train_all=tr,
        holdout_all=ho,
        subsampled=precut or n_eval < tr.n_rows or n_eval < eval_rows.size,
        precut=precut,
    )


__all__ = [
    "LARGE_DATA_FACTOR",
    "MIN_EVAL_RECORDS",
    "Split",
    "check_max_records",
    "prepare",
    "seeds",
]

"""Linkability: can the synthetic data help join two records about the same person?

The Article 29 Working Party (Opinion 05/2014) calls *linkability* "the ability
to link, at least, two records concerning the same data subject or a group of
data subjects (either in the same database or in two different databases)".
Picture two organisations holding different columns about the same people,
say demographics at one and job details at the other, with no shared key.
Could the released synthetic data act as the key?

The attack
----------
The adversary holds, for a set of targets, two tables with disjoint columns
``A`` and ``B`` whose rows are in unrelated orders. For each ``A`` record it
finds the closest synthetic row on the ``A`` columns, then the ``B`` record
closest to that synthetic row on the ``B`` columns, and claims the two
records belong to the same person. Distances are Gower distances on the
public schema (:mod:`privsynth.risk.distance`); ties are broken at random.
The attack succeeds for a target when the claimed ``B`` record is the
target's own.

Run on the members (training rows) and on a control set of the same size
from the same population, it separates two things. A release that keeps
population-level relations (people with this education tend to have that
occupation) links control records about as well as members: that is
statistics, not a privacy breach. A release that copies or nearly copies its
training rows links members far better, because the synthetic twin of a
member carries both halves of that member's record.

With ``n`` targets, guessing links a record with probability ``1/n``; the
control run measures what the synthetic data add to that for strangers.

Example
-------
>>> import numpy as np, pandas as pd
>>> from privsynth.schema import Schema
>>> s = Schema.from_dict({"columns": [
...     {"name": "a", "kind": "integer", "lower": 0, "upper": 999},
...     {"name": "b", "kind": "integer", "lower": 0, "upper": 999}]})
>>> rng = np.random.default_rng(0)
>>> def sample(n):
...     return pd.DataFrame({"a": rng.integers(0, 1000, n), "b": rng.integers(0, 1000, n)})
>>> train, control = sample(300), sample(300)
>>> linkability_risk(train, control, train, s, columns=(["a"], ["b"])).risk > 0.5   # a copy
True
>>> linkability_risk(train, control, sample(300), s, columns=(["a"], ["b"])).risk < 0.05
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth._checks import check_int
from privsynth.errors import ParameterError
from privsynth.risk._encode import Encoded, encode
from privsynth.risk._subset import check_names, restrict
from privsynth.risk.distance import knn_encoded
from privsynth.risk.success_rate import CriterionResult, check_confidence, score_attack
from privsynth.schema import Schema

I64 = npt.NDArray[np.int64]

DESCRIPTION = (
    "each target's first-half record is matched to its closest synthetic row on those "
    "columns, and that synthetic row to the closest second-half record on the other columns; "
    "a success is a match with the target's own second half"
)


def default_columns(schema: Schema) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The schema's columns in their order, cut into a first and a second half.

    >>> from privsynth.schema import Schema
    >>> s = Schema.from_dict({"columns": [
    ...     {"name": n, "kind": "integer", "lower": 0, "upper": 1} for n in "abcde"]})
    >>> default_columns(s)
    (('a', 'b'), ('c', 'd', 'e'))
    """
    names = tuple(schema.names)
    if len(names) < 2:
        raise ParameterError("linkability needs at least two columns (two disjoint sets "
                             "of columns to link); this schema has one")
    half = len(names) // 2
    return names[:half], names[half:]


def check_columns_pair(schema: Schema, columns: object) -> tuple[tuple[str, ...],
                                                                   tuple[str, ...]]:
    """``columns`` as two disjoint, non-empty lists of schema columns (None: the default)."""
    if columns is None:
        return default_columns(schema)
    if isinstance(columns, str) or not isinstance(columns, Sequence) or len(columns) != 2:
        raise ParameterError(
            "link columns must be a pair of column lists, e.g. "
            "(['age', 'sex'], ['occupation', 'hours-per-week'])")
    a = check_names(schema, columns[0], "the first set of link columns")
    b = check_names(schema, columns[1], "the second set of link columns")
    both = sorted(set(a) & set(b))
    if both:
        raise ParameterError(f"the two sets of link columns share {both}; they must be "
                             "disjoint (the attacker holds each half separately)")
    return a, b


def _links(targets: Encoded, synthetic: Encoded, schema: Schema, a: Sequence[str],
           b: Sequence[str], rng: np.random.Generator, n_jobs: int | None) -> int:
    """Number of targets whose two halves the attack joins correctly."""
    n = targets.n_rows
    shuffle = rng.permutation(n).astype(np.int64)  # the B table arrives in another order
    b_side = restrict(targets.take(shuffle), schema, b)
    _, s_idx = knn_encoded(restrict(targets, schema, a), restrict(synthetic, schema, a), 1,
                           n_jobs)
    _, b_idx = knn_encoded(restrict(synthetic.take(s_idx[:, 0]), schema, b), b_side, 1, n_jobs)
    return int(np.count_nonzero(shuffle[b_idx[:, 0]] == np.arange(n)))


def linkability_encoded(
    members: Encoded,
    control: Encoded,
    synthetic: Encoded,
    schema: Schema,
    *,
    columns: tuple[Sequence[str], Sequence[str]],
    confidence: float,
    rng: np.random.Generator,
    n_jobs: int | None = None,
) -> CriterionResult:
    """:func:`linkability_risk` on encoded tables of equal size (members, control)."""
    a, b = columns
    # random row order of the synthetic data: the search breaks ties by position
    syn = synthetic.take(rng.permutation(synthetic.n_rows).astype(np.int64))
    on_members = _links(members, syn, schema, a, b, rng, n_jobs)
    on_control = _links(control, syn, schema, a, b, rng, n_jobs)
    notes = [DESCRIPTION + "."]
    details = {"columns_a": list(a), "columns_b": list(b), "description": DESCRIPTION}
    return score_attack("linkability", on_members, members.n_rows, on_control, control.n_rows,
                        columns=tuple(a) + tuple(b), confidence=confidence, details=details,
                        notes=notes)


def equal_sets(train: Encoded, control: Encoded, max_records: int,
               rng: np.random.Generator) -> tuple[Encoded, Encoded]:
    """Random subsets of members and control of one size: the smaller table's, capped."""
    m = min(train.n_rows, control.n_rows, max_records)

    def cut(enc: Encoded) -> Encoded:
        if enc.n_rows == m:
            return enc
        return enc.take(np.sort(rng.choice(enc.n_rows, m, replace=False)).astype(np.int64))

    return cut(train), cut(control)


def linkability_risk(
    train: pd.DataFrame,
    control: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    *,
    columns: tuple[Sequence[str], Sequence[str]] | None = None,
    max_records: int = 5000,
    confidence: float = 0.95,
    random_state: int = 0,
    n_jobs: int | None = None,
) -> CriterionResult:
    """Linkability risk of a synthetic release (see the module docstring).

    Parameters
    ----------
    train : DataFrame
        The training data of the release (the members).
    control : DataFrame
        Rows of the same population not used for training.
    synthetic : DataFrame
        The release.
    schema : Schema
        Public domains (scales of the distance).
    columns : pair of lists of str, optional
        The two disjoint column sets the attacker holds separately. Default:
        the schema's columns in order, cut in a first and a second half.
    max_records : int
        Members and control are random subsets of one size: the smaller
        table's, at most ``max_records``.
    confidence : float
        Coverage of the Wilson intervals.
    random_state : int
        Seed of the subsets, row orders and tie breaks.
    n_jobs : int or None
        Threads of the nearest-neighbour searches.

    Returns
    -------
    CriterionResult
        ``success_rate``: share of members whose halves were joined;
        ``control_rate``: the same on the control set.

    Examples
    --------
    >>> import pandas as pd
    >>> from privsynth.schema import Schema
    >>> s = Schema.from_dict({"columns": [
    ...     {"name": n, "kind": "integer", "lower": 0, "upper": 99} for n in "ab"]})
    >>> train = pd.DataFrame({"a": range(0, 40), "b": range(40, 80)})
    >>> control = pd.DataFrame({"a": range(1, 80, 2), "b": range(0, 80, 2)})
    >>> linkability_risk(train, control, train, s).success_rate   # a copy links everyone
    1.0
    """
    pair = check_columns_pair(schema, columns)
    cap = check_int("max_records", max_records, lo=2)
    conf = check_confidence(confidence)
    rng = np.random.default_rng(check_int("random_state", random_state, lo=0))
    tr = encode(train, schema, "the training data")
    co = encode(control, schema, "the control data")
    syn = encode(synthetic, schema, "the synthetic data")
    members, ctl = equal_sets(tr, co, cap, rng)
    return linkability_encoded(members, ctl, syn, schema, columns=pair, confidence=conf,
                               rng=rng, n_jobs=n_jobs)


__all__ = ["default_columns", "linkability_risk"]

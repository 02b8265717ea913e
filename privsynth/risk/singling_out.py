"""Singling out: can the synthetic data help isolate one person in the training data?

The Article 29 Working Party (Opinion 05/2014 on anonymisation techniques)
calls *singling out* "the possibility to isolate some or all records which
identify an individual in the dataset". Cohen and Nissim ("Towards formalizing
the GDPR's notion of singling out", PNAS 2020) made this precise as
*predicate singling out*: an adversary outputs a predicate (a yes/no
question about a record, e.g. "age is 71 and occupation is Farming-fishing
and native-country is Poland"), and succeeds if exactly one record of the
data set satisfies it. Isolation alone shows little: a predicate that a
share ``w`` of the population satisfies isolates one of ``n`` independent
records with probability ``n w (1 - w)^(n - 1)`` (at most about 1/e), even
for an adversary who never saw the data. What matters is whether seeing the
release makes isolation *likelier than this baseline*.

The attack
----------
The adversary holds the synthetic data and builds predicates from it. For
each attack it picks a synthetic row and adds conditions on that row's
values, the row's rarest value first (the value fewest synthetic rows share),
until the predicate matches that synthetic row only. It bets only on such
predicates: one that matches several synthetic rows gives no reason to
expect it to isolate a real person. Conditions are

- for a category (or boolean, or missing value): "the column equals the
  row's value";
- for a number (or date): "the column equals the row's value" in half of the
  predicates, and "the column is within ``tolerance`` of the row's value" in
  the other half, ``tolerance`` being a share of the column's public range
  (5 % by default): exact values are the most specific conditions, windows
  still match numbers that were perturbed by a little noise.

A predicate of one condition is a rare value (the only synthetic row with
some country, or some exact weight); longer ones are rare combinations.

Each predicate is then applied to the training data (success: it matches
exactly one training row) and to a control set of the same population and
size that the synthesizer never saw (success: exactly one control row). The
same predicate isolates in two independent samples of equal size equally
often, so a release that teaches only population-level facts gives equal
rates; a release that copies or nearly copies training rows gives rare
predicates that match training rows and not control rows.

Sizes
-----
The isolation baseline depends on the size of the data set, so the control
set must be as large as the training data: a larger control set is cut at
random to that size. A smaller one cannot be enlarged; its success rate is
then multiplied by (training size / control size), which can only overstate
the baseline (``n w (1 - w)^(n-1)`` grows at most in proportion to ``n``), so
the risk is, if anything, understated, and a note says so.

Example
-------
>>> import numpy as np, pandas as pd
>>> from privsynth.schema import Schema
>>> s = Schema.from_dict({"columns": [
...     {"name": "x", "kind": "integer", "lower": 0, "upper": 999},
...     {"name": "c", "kind": "categorical", "categories": list("abcdefgh")}]})
>>> rng = np.random.default_rng(0)
>>> def sample(n):
...     return pd.DataFrame({"x": rng.integers(0, 1000, n), "c": rng.choice(list("abcdefgh"), n)})
>>> train, control = sample(400), sample(400)
>>> r = singling_out_risk(train, control, train, s, n_attacks=300)   # a copy
>>> r.risk > 0.9
True
>>> singling_out_risk(train, control, sample(400), s, n_attacks=300).risk < 0.2
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth._checks import check_int, check_number
from privsynth.risk._encode import Encoded, encode
from privsynth.risk._subset import numeric_mask, value_matrix
from privsynth.risk.success_rate import (
    CriterionResult,
    check_confidence,
    no_attack,
    score_attack,
)
from privsynth.schema import Schema

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

#: Default number of predicates.
DEFAULT_ATTACKS = 2000
#: Default window of a number condition, as a share of the column's public range
#: (used by half of the predicates; the other half compare numbers exactly).
DEFAULT_TOLERANCE = 0.05
# Cells of one boolean match matrix (predicates x rows) worked on at once.
_CELLS = 2_000_000

DESCRIPTION = (
    "predicates built from synthetic rows (conditions on the row's values, rarest first, "
    "until the predicate matches that synthetic row only) single out a person when they "
    "match exactly one row"
)


@dataclass(frozen=True, eq=False)
class Predicates:
    """Conjunctions of conditions, one per attack (internal: never written out).

    Predicate ``p`` requires, for ``j < lengths[p]``, that column
    ``orders[p, j]`` be within ``tol[orders[p, j]]`` of ``targets[p, j]``.
    """

    orders: I64
    lengths: I64
    targets: F32

    @property
    def n(self) -> int:
        return int(self.lengths.shape[0])


def _batch(n_rows: int) -> int:
    return int(np.clip(_CELLS // max(n_rows, 1), 8, 512))


def _conditions(values: F32, tol: F32, cols: I64, targets: F32) -> npt.NDArray[np.bool_]:
    """``|values[cols[i], r] - targets[i]| <= tol[cols[i]]`` for every i and row r."""
    diff = values[cols]
    np.subtract(diff, targets[:, None], out=diff)
    np.abs(diff, out=diff)
    return diff <= tol[cols][:, None]


def _grow(synthetic: F32, tol: F32, rows: I64, orders: I64) -> I64:
    """Conditions each predicate needs to match only its synthetic row (0: never unique)."""
    n_cols, n_rows = synthetic.shape
    lengths = np.zeros(rows.size, np.int64)
    step = _batch(n_rows)
    for b0 in range(0, rows.size, step):
        b1 = min(b0 + step, rows.size)
        mask = np.ones((b1 - b0, n_rows), bool)
        open_ = np.arange(b1 - b0)
        for j in range(n_cols):
            cols = orders[b0 + open_, j]
            sub = mask[open_] & _conditions(synthetic, tol, cols, synthetic[cols, rows[b0 + open_]])
            mask[open_] = sub
            unique = np.count_nonzero(sub, axis=1) == 1
            lengths[b0 + open_[unique]] = j + 1
            open_ = open_[~unique]
            if open_.size == 0:
                break
    return lengths


def _frequencies(synthetic: F32, tol: F32, rows: I64) -> npt.NDArray[np.float64]:
    """Share of synthetic rows within each column's window of each chosen row's value."""
    n_cols, n_rows = synthetic.shape
    out = np.empty((rows.size, n_cols), np.float64)
    for c in range(n_cols):
        ordered = np.sort(synthetic[c])
        v = synthetic[c, rows]
        lo = np.searchsorted(ordered, v - tol[c], side="left")
        hi = np.searchsorted(ordered, v + tol[c], side="right")
        out[:, c] = (hi - lo) / n_rows
    return out


def _rarest_first(synthetic: F32, tol: F32, rows: I64, rng: np.random.Generator) -> I64:
    """Column orders: the row's rarest value first (ties in random order)."""
    freq = _frequencies(synthetic, tol, rows)
    return np.lexsort((rng.random(freq.shape), freq), axis=1).astype(np.int64)


def build_predicates(synthetic: F32, tol: F32, n_attacks: int,
                     rng: np.random.Generator) -> Predicates:
    """Predicates that each match exactly one synthetic row, grown from random rows.

    A rational adversary bets only on predicates that isolate a row of the
    synthetic data: one that matches several synthetic rows has no reason to
    isolate a real record. Rows are drawn at random (every row once before any
    row twice), each with a random column order; a row that stays
    matched by other rows once every column is used (a duplicate, or values
    inside every window of another row) gives no predicate, and further rows
    are drawn, up to ``10 * n_attacks`` tries. Fewer predicates than asked come
    back when the synthetic data have few unique rows.

    Parameters
    ----------
    synthetic : ndarray of float32, shape (n_columns, n_rows)
        The synthetic data as a value matrix (:func:`~privsynth.risk._subset.value_matrix`).
    tol : ndarray of float32, shape (n_columns,)
        Window of each column's condition (0: equality).
    n_attacks : int
        Number of predicates wanted.
    rng : Generator
        Source of the rows and column orders.

    Examples
    --------
    >>> v = np.array([[0, 0, 1, 1], [0, 1, 2, 2]], np.float32)
    >>> p = build_predicates(v, np.zeros(2, np.float32), 5, np.random.default_rng(0))
    >>> p.n <= 5, set(p.lengths.tolist()) <= {1, 2}   # rows 2 and 3 are equal: never used
    (True, True)
    >>> count_matches(v, np.zeros(2, np.float32), p).tolist() == [1] * p.n
    True
    """
    n_rows = synthetic.shape[1]
    kept: list[tuple[I64, I64]] = []
    found = tried = 0
    queue = np.empty(0, np.int64)
    while found < n_attacks and tried < 10 * n_attacks:
        want = min(max(2 * (n_attacks - found), 64), 10 * n_attacks - tried)
        while queue.size < want:  # every row once before any row twice
            queue = np.concatenate([queue, rng.permutation(n_rows).astype(np.int64)])
        rows, queue = queue[:want], queue[want:]
        orders = _rarest_first(synthetic, tol, rows, rng)
        lengths = _grow(synthetic, tol, rows, orders)
        ok = np.flatnonzero(lengths > 0)[: n_attacks - found]
        kept.append((np.column_stack([rows[ok], lengths[ok]]), orders[ok]))
        found += ok.size
        tried += want
    rows_len = np.concatenate([k[0] for k in kept])
    orders = np.concatenate([k[1] for k in kept])
    targets = synthetic[orders, rows_len[:, :1]]
    return Predicates(orders, rows_len[:, 1].copy(),
                      np.ascontiguousarray(targets, dtype=np.float32))


def count_matches(values: F32, tol: F32, predicates: Predicates) -> I64:
    """Number of rows of ``values`` (shape (n_columns, n_rows)) each predicate matches.

    Examples
    --------
    >>> v = np.array([[0, 1, 2], [5, 5, 6]], np.float32)
    >>> p = build_predicates(v, np.zeros(2, np.float32), 3, np.random.default_rng(0))
    >>> other = np.array([[0, 0, 1, 2], [5, 5, 5, 6]], np.float32)
    >>> sorted(count_matches(other, np.zeros(2, np.float32), p).tolist())
    [1, 1, 2]
    """
    n_rows = values.shape[1]
    out = np.zeros(predicates.n, np.int64)
    if predicates.n == 0:
        return out
    step = _batch(n_rows)
    for b0 in range(0, predicates.n, step):
        b1 = min(b0 + step, predicates.n)
        lengths = predicates.lengths[b0:b1]
        mask = np.ones((b1 - b0, n_rows), bool)
        for j in range(int(lengths.max())):
            active = np.flatnonzero(lengths > j)
            cond = _conditions(values, tol, predicates.orders[b0 + active, j],
                               predicates.targets[b0 + active, j])
            mask[active] &= cond
        out[b0:b1] = np.count_nonzero(mask, axis=1)
    return out


def _family(synthetic: F32, train: F32, control: F32, tol: F32, n_attacks: int,
            rng: np.random.Generator) -> tuple[int, int, int, float]:
    """Predicates of one window: (attacks, isolations in train, in control, mean length)."""
    predicates = build_predicates(synthetic, tol, n_attacks, rng)
    if predicates.n == 0:
        return 0, 0, 0, 0.0
    on_train = count_matches(train, tol, predicates)
    on_control = count_matches(control, tol, predicates)
    return (predicates.n, int(np.count_nonzero(on_train == 1)),
            int(np.count_nonzero(on_control == 1)), float(np.mean(predicates.lengths)))


def singling_out_encoded(
    train: Encoded,
    control: Encoded,
    synthetic: Encoded,
    schema: Schema,
    *,
    n_attacks: int,
    tolerance: float,
    confidence: float,
    rng: np.random.Generator,
) -> CriterionResult:
    """:func:`singling_out_risk` on encoded tables (the training data in full)."""
    names = tuple(schema.names)
    numeric = numeric_mask(schema, names)
    notes = [DESCRIPTION + f"; numbers compared exactly in half of the predicates and within "
             f"{tolerance:g} of the public range in the other half."]
    scale = 1.0
    if control.n_rows > train.n_rows:
        control = control.take(np.sort(rng.choice(control.n_rows, train.n_rows, replace=False)))
    elif control.n_rows < train.n_rows:
        scale = train.n_rows / control.n_rows
        notes.append(
            "The control set is smaller than the training data: its isolation rate was scaled "
            "up by the ratio of the sizes, an upper bound on the rate of a control set as large "
            "as the training data, so this risk is if anything understated.")
    syn_v = value_matrix(synthetic, schema, names)
    train_v = value_matrix(train, schema, names)
    control_v = value_matrix(control, schema, names)
    windows = (0.0, tolerance) if numeric.any() and tolerance > 0 else (0.0,)
    counts = np.zeros(3, np.int64)
    by_window: dict[str, dict[str, float]] = {}
    lengths = 0.0
    for i, w in enumerate(windows):
        share = n_attacks // len(windows) + (1 if i < n_attacks % len(windows) else 0)
        tol = np.where(numeric, np.float32(w), np.float32(0.0)).astype(np.float32)
        n, k_train, k_control, mean_len = _family(syn_v, train_v, control_v, tol, share, rng)
        counts += (n, k_train, k_control)
        lengths += n * mean_len
        by_window[f"{w:g}"] = {"n_attacks": n,
                               "success_rate": k_train / n if n else 0.0,
                               "control_rate": min(1.0, scale * k_control / n) if n else 0.0}
    n, k_train, k_control = (int(x) for x in counts)
    details = {
        "mean_conditions": lengths / n if n else 0.0,
        "tolerance": tolerance,
        "by_window": by_window,
        "control_scaled": scale > 1.0,
        "description": DESCRIPTION,
    }
    if n == 0:
        notes.append("No predicate isolates a synthetic row (every synthetic row has a "
                     "twin): this attack found nothing to bet on.")
        return no_attack("singling_out", names, confidence, details, notes)
    if n < n_attacks:
        notes.append("Fewer predicates than asked: few synthetic rows can be isolated.")
    return score_attack("singling_out", k_train, n, k_control, n, columns=names,
                        confidence=confidence, control_scale=scale, details=details,
                        notes=notes)


def check_tolerance(tolerance: object) -> float:
    """A number window as a share of the public range: in [0, 1)."""
    return check_number("tolerance", tolerance, lo=0.0, hi=1.0, hi_open=True)


def singling_out_risk(
    train: pd.DataFrame,
    control: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    *,
    n_attacks: int = DEFAULT_ATTACKS,
    tolerance: float = DEFAULT_TOLERANCE,
    confidence: float = 0.95,
    random_state: int = 0,
) -> CriterionResult:
    """Singling-out risk of a synthetic release (see the module docstring).

    Parameters
    ----------
    train : DataFrame
        The training data of the release (every row is a possible target).
    control : DataFrame
        Rows of the same population not used for training; cut at random to
        the training size when larger.
    synthetic : DataFrame
        The release.
    schema : Schema
        Public domains (scales of the number conditions, category codes).
    n_attacks : int
        Number of predicates.
    tolerance : float
        Window of a number condition, as a share of the public range, in the
        half of the predicates that do not compare numbers exactly (0: every
        predicate compares exactly).
    confidence : float
        Coverage of the Wilson intervals.
    random_state : int
        Seed of the rows, column orders and the control subsample.

    Returns
    -------
    CriterionResult
        ``success_rate``: share of predicates isolating one training row;
        ``control_rate``: the same on the control set; ``risk``: the normalised
        excess.

    Examples
    --------
    >>> import pandas as pd
    >>> from privsynth.schema import Schema
    >>> s = Schema.from_dict({"columns": [
    ...     {"name": "id", "kind": "integer", "lower": 0, "upper": 99}]})
    >>> train, control = pd.DataFrame({"id": range(0, 50)}), pd.DataFrame({"id": range(50, 100)})
    >>> r = singling_out_risk(train, control, train, s, n_attacks=20, tolerance=0.0)
    >>> r.success_rate, r.control_rate, r.risk    # each id isolates its own row
    (1.0, 0.0, 1.0)
    """
    n = check_int("n_attacks", n_attacks, lo=1)
    tol = check_tolerance(tolerance)
    conf = check_confidence(confidence)
    seed = check_int("random_state", random_state, lo=0)
    tr = encode(train, schema, "the training data")
    co = encode(control, schema, "the control data")
    syn = encode(synthetic, schema, "the synthetic data")
    return singling_out_encoded(tr, co, syn, schema, n_attacks=n, tolerance=tol,
                                confidence=conf, rng=np.random.default_rng(seed))


__all__ = [
    "DEFAULT_ATTACKS",
    "DEFAULT_TOLERANCE",
    "Predicates",
    "build_predicates",
    "count_matches",
    "singling_out_risk",
]

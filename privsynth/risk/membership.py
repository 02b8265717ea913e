"""Membership-inference attacks on a synthetic release, and how to score them.

Each attack plays an adversary who holds a record and the synthetic data and
guesses whether the record was in the training data. It returns one score per
record (higher means "more likely a member") for a balanced set of members
(training rows) and non-members (holdout rows of the same population, never
seen by the synthesizer). :func:`evaluate_attack` turns the scores into ROC
AUC, TPR at low FPR and an empirical lower bound on epsilon.

The holdout is split at random into two halves: the *reference* half stands
for the population the adversary can sample from (the density attack's
denominator, the shadow attack's training data), the other half provides the
non-members. Non-members are therefore never scored against themselves.

Attacks
-------
distance
    Score = minus the Gower distance from the record to its closest synthetic
    record. Catches synthesizers that copy or barely perturb training rows.
density (DOMIAS-style, van Breugel et al. 2023)
    Score = log of the synthetic data's density at the record over the
    reference population's density there. A record where the synthetic data
    is denser than the population predicts is flagged: overfitting shows up as
    local over-density around members, and the ratio discounts records that
    are merely in a dense part of the population. Both densities are
    estimated the same mixed-type way, with the k-nearest-neighbour estimator
    on the Gower distance (Loftsgaarden and Quesenberry 1965):
    ``p_S(x) ~ j / (|S| r_j(x)^D)`` where ``r_j`` is the distance to the
    ``j``-th nearest row of ``S``. Mixed data has no dimension ``D``; it only
    scales the log-ratio, so we set ``D = 1`` and average the estimates of
    orders ``j = 1..k``: ``score = mean_j log((r_j,ref + e) / (r_j,syn + e))``
    (up to a constant), with ``e`` a thousandth of one column's range so that
    an exact copy gets a finite score. We chose this over a kernel estimator
    with a global bandwidth because it adapts to the local scale of the data
    and needs no bandwidth; on Adult it was the stronger of the two against
    both copying and near-copying synthesizers.
shadow (Stadler et al. 2022, targeting outliers)
    Picks the most outlying members and non-members (largest mean distance to
    their nearest reference rows: those are the records a synthesizer is most
    likely to memorise), fits the same engine several times on the reference
    half with and without each target, describes each synthetic output by
    two features per target (distance from the target to its closest
    synthetic row, share of synthetic rows within the target's radius: its
    distance to its 5th nearest reference row), trains a logistic regression
    on them and applies it to the real release.

Example
-------
>>> import numpy as np
>>> m, n = np.array([0.9, 0.8, 0.7]), np.array([0.1, 0.75, 0.2])
>>> round(roc_auc(m, n), 3)
0.889
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from privsynth.errors import DataValidationError, ParameterError
from privsynth.risk._encode import Encoded, check_columns, encode
from privsynth.risk.audit_bound import best_epsilon_lower_bound
from privsynth.risk.distance import knn_encoded, pairwise_encoded
from privsynth.risk.result import AttackResult
from privsynth.schema import Schema

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: False positive rates reported by default.
DEFAULT_FPRS: tuple[float, ...] = (0.001, 0.01)
#: Fewest non-members per expected false positive for a TPR at some FPR:
#: ``ceil(MIN_FALSE_POSITIVES / fpr)`` non-members are needed.
MIN_FALSE_POSITIVES = 10
#: Fewest rows of each evaluation set (members, non-members).
MIN_EVAL_RECORDS = 10
#: Points of the ROC curve kept for plotting.
ROC_POINTS = 101
#: Large data: the training and synthetic tables are first cut to random subsamples
#: of ``LARGE_DATA_FACTOR * max_records`` rows (the holdout to twice that), so that
#: the searches and the shadow fits take bounded time whatever the table sizes.
LARGE_DATA_FACTOR = 10

DISTANCE_DESCRIPTION = (
    "score = closeness of the record to its nearest synthetic record (Gower distance)"
)
DENSITY_DESCRIPTION = (
    "score = synthetic density over reference-population density at the record "
    "(DOMIAS-style, k-nearest-neighbour densities on the Gower distance)"
)
SHADOW_DESCRIPTION = (
    "shadow models: the engine refitted on reference data with and without each of the "
    "most outlying records; a classifier on the synthetic outputs attacks the release"
)


class SynthesizerLike(Protocol):
    """What the shadow attack needs from an engine."""

    def fit(self, data: pd.DataFrame, *, schema: Schema, epsilon: float,
            accountant: Any = None) -> Any: ...

    def sample(self, n: int, *, random_state: int | None = None) -> pd.DataFrame: ...


@dataclass(frozen=True, eq=False)
class AttackScores:
    """Per-record scores of one attack (kept in memory, never written out).

    Higher scores mean "more likely a member".
    """

    name: str
    description: str
    member_scores: F64
    nonmember_scores: F64
    notes: tuple[str, ...] = ()


# ----------------------------------------------------------------------------- metrics
def _as_scores(name: str, values: npt.ArrayLike) -> F64:
    a = np.asarray(values, dtype=np.float64).ravel()
    if a.size == 0:
        raise DataValidationError(f"{name} is empty")
    if not np.all(np.isfinite(a)):
        raise DataValidationError(f"{name} holds non-finite scores")
    return a


def roc_auc(member_scores: npt.ArrayLike, nonmember_scores: npt.ArrayLike) -> float:
    """Area under the ROC curve (ties count one half): P(member score > non-member score).

    Examples
    --------
    >>> roc_auc([1, 2], [0, 0]), roc_auc([0, 0], [0, 0])
    (1.0, 0.5)
    """
    m = _as_scores("member_scores", member_scores)
    n = _as_scores("nonmember_scores", nonmember_scores)
    ranks = stats.rankdata(np.concatenate([m, n]))
    r_m = float(ranks[: m.size].sum())
    return (r_m - m.size * (m.size + 1) / 2.0) / (m.size * n.size)


def _bootstrap_auc(m: F64, n: F64, n_boot: int, rng: np.random.Generator) -> tuple[float, float]:
    """Percentile 95 % interval; members and non-members are resampled separately."""
    if n_boot == 0:
        auc = roc_auc(m, n)
        return auc, auc
    aucs = np.empty(n_boot)
    for b in range(n_boot):
        aucs[b] = roc_auc(m[rng.integers(0, m.size, m.size)], n[rng.integers(0, n.size, n.size)])
    lo, hi = np.quantile(aucs, [0.025, 0.975])
    return float(lo), float(hi)


def min_nonmembers(fpr: float) -> int:
    """Non-members needed to report a TPR at ``fpr``: ``ceil(10 / fpr)``.

    With fewer, the threshold would rest on fewer than 10 false positives and
    the TPR would be mostly noise.

    >>> min_nonmembers(0.01), min_nonmembers(0.001)
    (1000, 10000)
    """
    return math.ceil(MIN_FALSE_POSITIVES / fpr - 1e-9)


def tpr_at_fpr(member_scores: npt.ArrayLike, nonmember_scores: npt.ArrayLike,
               fpr: float) -> float:
    """True positive rate of the rule "member iff score > t" with FPR at most ``fpr``.

    ``t`` is the smallest threshold whose false positive rate on the
    non-members does not exceed ``fpr``; ties at the threshold count as
    negatives, so the FPR never exceeds the target.

    Examples
    --------
    >>> tpr_at_fpr([5, 6, 7, 0], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 0.1)
    0.0
    >>> tpr_at_fpr([5, 6, 7, 10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 0.1)
    0.25
    """
    m = _as_scores("member_scores", member_scores)
    n = np.sort(_as_scores("nonmember_scores", nonmember_scores))[::-1]
    allowed = math.floor(fpr * n.size + 1e-9)
    if allowed >= n.size:
        return 1.0
    threshold = n[allowed]  # the (allowed+1)-th highest non-member score
    return float(np.mean(m > threshold))


def roc_curve(member_scores: npt.ArrayLike, nonmember_scores: npt.ArrayLike,
              points: int = ROC_POINTS) -> tuple[list[float], list[float]]:
    """The ROC curve at ``points`` evenly spaced FPRs (best TPR with FPR at most each).

    Examples
    --------
    >>> fpr, tpr = roc_curve([1, 2, 3], [0, 1, 2], points=3)
    >>> fpr, [round(t, 3) for t in tpr]
    ([0.0, 0.5, 1.0], [0.333, 0.667, 1.0])
    """
    m = _as_scores("member_scores", member_scores)
    n = _as_scores("nonmember_scores", nonmember_scores)
    thresholds = np.unique(np.concatenate([m, n]))[::-1]
    m_sorted, n_sorted = np.sort(m), np.sort(n)
    tp = m.size - np.searchsorted(m_sorted, thresholds, side="left")
    fp = n.size - np.searchsorted(n_sorted, thresholds, side="left")
    fprs = np.concatenate([[0.0], fp / n.size])
    tprs = np.concatenate([[0.0], tp / m.size])
    grid = np.linspace(0.0, 1.0, points)
    pos = np.searchsorted(fprs, grid + 1e-12, side="right") - 1
    return [float(g) for g in grid], [float(t) for t in tprs[pos]]


def _fpr_key(fpr: float) -> str:
    return f"{fpr:g}"


def check_fprs(fprs: object) -> tuple[float, ...]:
    """Validate a sequence of false positive rates in (0, 1)."""
    if isinstance(fprs, str) or not isinstance(fprs, Sequence | np.ndarray):
        raise ParameterError(f"fprs must be a sequence of rates in (0, 1), got {fprs!r}")
    out = []
    for f in fprs:
        if isinstance(f, bool) or not isinstance(f, int | float | np.floating) \
                or not 0 < float(f) < 1:
            raise ParameterError(f"each false positive rate must be in (0, 1), got {f!r}")
        out.append(float(f))
    if not out:
        raise ParameterError("fprs is empty; give at least one false positive rate")
    return tuple(out)


def about(n: int, cap: int | None = None) -> str:
    """``n`` for a caveat: exact when it is the public ``cap``, else rounded to 2 figures.

    Sizes derived from a private table's row count must not be printed exactly.

    >>> about(5000, 5000), about(747, 5000), about(12345), about(7)
    ('5000', 'about 750', 'about 12000', 'fewer than 10')
    """
    if cap is not None and n == cap:
        return str(n)
    if n < 10:
        return "fewer than 10"
    digits = len(str(n)) - 2
    return f"about {round(n, -digits)}"


def require_fprs(fprs: Sequence[float], n_nonmembers: int, where: str) -> None:
    """Raise if ``n_nonmembers`` cannot support an explicitly asked FPR."""
    for f in fprs:
        need = min_nonmembers(f)
        if n_nonmembers < need:
            raise DataValidationError(
                f"a TPR at FPR {f:g} needs at least {need} non-members "
                f"(ceil({MIN_FALSE_POSITIVES}/FPR)), but {where} has {n_nonmembers}; "
                "give a larger holdout or a larger max_records, or ask for a larger FPR",
                [{"column": None, "problem": f"too few non-members for FPR {f:g}",
                  "rows": n_nonmembers}],
            )


def evaluate_attack(
    scores: AttackScores,
    *,
    fprs: Sequence[float] | None = None,
    delta: float = 0.0,
    confidence: float = 0.95,
    n_bootstrap: int = 200,
    random_state: int = 0,
) -> AttackResult:
    """Score one attack: AUC with a bootstrap interval, TPR at FPRs, epsilon lower bound.

    Parameters
    ----------
    scores : AttackScores
        Output of an attack.
    fprs : sequence of float, optional
        False positive rates at which to report the TPR. By default
        ``DEFAULT_FPRS``; a rate the non-members cannot support (fewer than
        ``ceil(10 / fpr)``) is then reported as None with a note. Rates given
        explicitly must be supported, otherwise DataValidationError.
    delta : float
        Delta of the claim, used by the epsilon lower bound.
    confidence : float
        Confidence of the Clopper-Pearson bounds.
    n_bootstrap : int
        Bootstrap resamples for the AUC interval (0 to skip).
    random_state : int
        Seed of the bootstrap and of the threshold-selection split.

    Examples
    --------
    >>> import numpy as np
    >>> s = AttackScores("toy", "toy", np.arange(50.0) + 25, np.arange(50.0))
    >>> r = evaluate_attack(s, n_bootstrap=0)
    >>> r.auc, r.tpr_at_fpr
    (0.875, {'0.001': None, '0.01': None})
    """
    explicit = fprs is not None
    rates = check_fprs(DEFAULT_FPRS if fprs is None else fprs)
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 0:
        raise ParameterError(f"n_bootstrap must be a non-negative integer, got {n_bootstrap!r}")
    m = _as_scores("member_scores", scores.member_scores)
    n = _as_scores("nonmember_scores", scores.nonmember_scores)
    if explicit:
        require_fprs(rates, n.size, f"the {scores.name} attack's evaluation set")
    rng = np.random.default_rng(random_state)
    notes = list(scores.notes)
    tprs: dict[str, float | None] = {}
    for f in rates:
        if n.size >= min_nonmembers(f):
            tprs[_fpr_key(f)] = tpr_at_fpr(m, n, f)
        else:
            tprs[_fpr_key(f)] = None
            # the set size may derive from a private row count: rounded (see about)
            notes.append(f"TPR at FPR {f:g} not reported: it needs at least "
                         f"{min_nonmembers(f)} non-members, the evaluation has "
                         f"{about(n.size)}")
    if m.size >= 2 and n.size >= 2:
        eps_lb = best_epsilon_lower_bound(m, n, delta, confidence,
                                          random_state=int(rng.integers(2**31)))
    else:
        eps_lb = 0.0
        notes.append("epsilon lower bound not computed: it needs at least 2 members and "
                     "2 non-members")
    fpr_grid, tpr_grid = roc_curve(m, n)
    return AttackResult(
        name=scores.name,
        description=scores.description,
        n_members=m.size,
        n_nonmembers=n.size,
        auc=roc_auc(m, n),
        auc_ci=_bootstrap_auc(m, n, n_bootstrap, rng),
        tpr_at_fpr=tprs,
        epsilon_lower_bound=eps_lb,
        roc_fpr=tuple(fpr_grid),
        roc_tpr=tuple(tpr_grid),
        notes=tuple(notes),
    )


# ------------------------------------------------------------------------ evaluation sets
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
    if isinstance(max_records, bool) or not isinstance(max_records, int) \
            or max_records < MIN_EVAL_RECORDS:
        raise ParameterError(
            f"max_records must be an integer >= {MIN_EVAL_RECORDS}, got {max_records!r}")
    return max_records


def check_seed(random_state: object) -> int:
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer) \
            or random_state < 0:
        raise ParameterError(
            f"random_state must be a non-negative integer, got {random_state!r}")
    return int(random_state)


def seeds(random_state: int) -> dict[str, np.random.Generator]:
    """Independent generators per purpose, so every entry point splits the same way."""
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


# ------------------------------------------------------------------------------ attacks
def neighbour_distances(split: Split, k: int, n_jobs: int | None) -> tuple[F64, F64]:
    """k-NN distances of members then non-members to the synthetic data and to the reference."""
    both = _concat(split.members, split.nonmembers)
    d_syn, _ = knn_encoded(both, split.synthetic, min(k, split.synthetic.n_rows), n_jobs)
    d_ref, _ = knn_encoded(both, split.reference, min(k, split.reference.n_rows), n_jobs)
    return d_syn, d_ref


def _concat(a: Encoded, b: Encoded) -> Encoded:
    return Encoded(
        np.concatenate([a.numeric, b.numeric], axis=1),
        np.concatenate([a.offsets, b.offsets], axis=1),
        a.ranges,
        tuple(x or y for x, y in zip(a.numeric_nullable, b.numeric_nullable, strict=True)),
        np.concatenate([a.categorical, b.categorical], axis=1),
        a.n_columns,
        np.concatenate([a.keys, b.keys]),
    )


def distance_scores(split: Split, d_syn: F64) -> AttackScores:
    n_m = split.members.n_rows
    score = -d_syn[:, 0]
    return AttackScores("distance", DISTANCE_DESCRIPTION, score[:n_m], score[n_m:])


def density_scores(split: Split, d_syn: F64, d_ref: F64, k: int) -> AttackScores:
    """Mean over orders j <= k of log(r_j,ref / r_j,syn): a kNN log density ratio."""
    # a thousandth of one column's range: exact copies get a large, finite score
    floor = 1e-3 / split.members.n_columns
    score = np.mean(np.log(d_ref[:, :k] + floor) - np.log(d_syn[:, :k] + floor), axis=1)
    n_m = split.members.n_rows
    # the reference size is half the private holdout: not printed (a count of private rows)
    note = (f"k = {k} nearest neighbours among {split.synthetic.n_rows} synthetic rows and "
            "the reference half of the holdout")
    return AttackScores("density", DENSITY_DESCRIPTION, score[:n_m], score[n_m:], (note,))


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ParameterError(f"k must be a positive integer, got {k!r}")
    return k


def distance_attack(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    *,
    max_records: int = 5000,
    random_state: int = 0,
    n_jobs: int | None = None,
) -> AttackScores:
    """Distance-based membership inference: the closer to a synthetic row, the likelier a member.

    Parameters
    ----------
    train, holdout, synthetic : DataFrame
        Members, non-members from the same population, and the release.
    schema : Schema
        Public domains (scales of the Gower distance).
    max_records : int
        Cap on the size of each balanced evaluation set.
    random_state : int
        Seed of the holdout split and the subsampling (the same seed gives the
        same evaluation sets in every attack and in :func:`assess_risk`).
    n_jobs : int or None
        Threads for the nearest-neighbour search.

    Returns
    -------
    AttackScores
        Equal numbers of member and non-member scores.
    """
    rng = seeds(check_seed(random_state))["split"]
    split = prepare(train, holdout, synthetic, schema, max_records, rng)
    both = _concat(split.members, split.nonmembers)
    d_syn, _ = knn_encoded(both, split.synthetic, 1, n_jobs)
    return distance_scores(split, d_syn)


def density_attack(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    *,
    k: int = 3,
    max_records: int = 5000,
    random_state: int = 0,
    n_jobs: int | None = None,
) -> AttackScores:
    """Density-based (DOMIAS-style) membership inference on mixed-type data.

    ``score(x) = log p_syn(x) - log p_ref(x)`` (up to a constant), both
    densities estimated by k nearest neighbours on the Gower distance (see
    the module docstring), the reference being the half of the holdout not
    used as non-members: no record is scored against itself.

    Parameters
    ----------
    k : int
        Neighbour orders averaged in the density estimates.
    max_records, random_state, n_jobs
        As in :func:`distance_attack`.
    """
    k = _check_k(k)
    rng = seeds(check_seed(random_state))["split"]
    split = prepare(train, holdout, synthetic, schema, max_records, rng)
    d_syn, d_ref = neighbour_distances(split, k, n_jobs)
    return density_scores(split, d_syn, d_ref, min(k, d_syn.shape[1], d_ref.shape[1]))


# ------------------------------------------------------------------------- shadow models
def _check_shadow_params(n_targets: object, n_shadows: object, epsilon: object,
                         n_synthetic: object, radius: object) -> None:
    for name, v, lo in (("n_targets", n_targets, 1), ("n_shadows", n_shadows, 2)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ParameterError(f"{name} must be an integer >= {lo}, got {v!r}")
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float) \
            or not 0 < epsilon < math.inf:
        raise ParameterError(
            f"the shadow attack needs epsilon=, the positive epsilon the release was "
            f"fitted with (the shadows are fitted the same way); got {epsilon!r}")
    if n_synthetic is not None and (isinstance(n_synthetic, bool)
                                    or not isinstance(n_synthetic, int) or n_synthetic < 1):
        raise ParameterError(f"n_synthetic must be None or a positive integer, "
                             f"got {n_synthetic!r}")
    if radius is not None and (isinstance(radius, bool) or not isinstance(radius, int | float)
                               or not 0 < radius <= 1):
        raise ParameterError(f"radius must be None or a number in (0, 1], got {radius!r}")


def _features(targets: Encoded, synthetic: Encoded, radii: F64) -> tuple[F64, F64]:
    """Per target: distance to its closest synthetic row, share of rows within its radius."""
    d = pairwise_encoded(targets, synthetic)
    return d.min(axis=1), (d <= radii[:, None]).mean(axis=1)


def shadow_scores(
    split: Split,
    schema: Schema,
    engine_factory: Callable[[], SynthesizerLike],
    *,
    epsilon: float,
    n_targets: int,
    n_shadows: int,
    n_synthetic: int | None,
    radius: float | None,
    rng: np.random.Generator,
    n_jobs: int | None = None,
) -> AttackScores:
    """The shadow-model attack on a prepared split (see the module docstring)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    _check_shadow_params(n_targets, n_shadows, epsilon, n_synthetic, radius)
    if not callable(engine_factory):
        raise ParameterError("engine_factory must be a callable returning an unfitted engine")
    n_t = min(n_targets, split.members.n_rows, split.nonmembers.n_rows)
    k = min(5, split.reference.n_rows)

    # 1. targets: the most outlying members and non-members w.r.t. the population;
    #    a target's radius is the distance to its k-th nearest reference row
    def outliers(enc: Encoded) -> tuple[I64, F64]:
        d, _ = knn_encoded(enc, split.reference, k, n_jobs)
        top = np.argsort(-d.mean(axis=1), kind="stable")[:n_t].astype(np.int64)
        return top, d[top, k - 1]

    (t_mem, r_mem), (t_non, r_non) = outliers(split.members), outliers(split.nonmembers)
    radii = np.concatenate([r_mem, r_non]) if radius is None else np.full(2 * n_t, radius)
    targets = _concat(split.members.take(t_mem), split.nonmembers.take(t_non))
    target_rows = pd.concat(
        [split.train.iloc[split.member_rows[t_mem]],
         split.holdout.iloc[split.nonmember_rows[t_non]]],
        ignore_index=True,
    )[list(schema.names)]
    n_all = 2 * n_t

    # 2. shadow fits on the reference half; each target is in exactly half of them
    n_syn = split.synthetic.n_rows if n_synthetic is None else n_synthetic
    n_syn = min(n_syn, split.synthetic.n_rows)
    base = split.holdout.iloc[split.reference_rows][list(schema.names)]
    inside = np.zeros((n_all, n_shadows), dtype=bool)
    for t in range(n_all):
        inside[t, rng.permutation(n_shadows)[: n_shadows // 2]] = True
    shadow_d = np.empty((n_all, n_shadows))
    shadow_c = np.empty((n_all, n_shadows))
    for s in range(n_shadows):
        data = pd.concat([base, target_rows[inside[:, s]]], ignore_index=True)
        data = data.iloc[rng.permutation(len(data))].reset_index(drop=True)
        engine = engine_factory()
        # accountant=None: each shadow fit draws on a throwaway budget of its own,
        # never on the real data set's accountant
        fitted = engine.fit(data, schema=schema, epsilon=float(epsilon), accountant=None)
        fitted = engine if fitted is None else fitted
        out = fitted.sample(n_syn, random_state=int(rng.integers(2**31)))
        enc = encode(out, schema, f"the output of shadow model {s + 1}")
        shadow_d[:, s], shadow_c[:, s] = _features(targets, enc, radii)

    # 3. the real release, at the same size as the shadow outputs
    real = split.synthetic
    if real.n_rows > n_syn:
        real = real.take(np.sort(rng.choice(real.n_rows, size=n_syn, replace=False)))
    real_d, real_c = _features(targets, real, radii)

    # 4. per-target centring removes how outlying each target is; one classifier for all
    mean_d, mean_c = shadow_d.mean(axis=1, keepdims=True), shadow_c.mean(axis=1, keepdims=True)
    x_train = np.column_stack([(shadow_d - mean_d).ravel(), (shadow_c - mean_c).ravel()])
    y_train = inside.ravel().astype(int)
    x_real = np.column_stack([real_d - mean_d[:, 0], real_c - mean_c[:, 0]])
    scaler = StandardScaler().fit(x_train)
    clf = LogisticRegression(C=1.0).fit(scaler.transform(x_train), y_train)
    score = clf.decision_function(scaler.transform(x_real))
    note = (f"{n_t} member and {n_t} non-member targets (most outlying), {n_shadows} shadow "
            f"fits at epsilon {float(epsilon):g} on {len(base)} reference rows, "
            f"{n_syn} synthetic rows per output, median radius {float(np.median(radii)):.4g}")
    return AttackScores("shadow", SHADOW_DESCRIPTION, score[:n_t], score[n_t:], (note,))


def shadow_attack(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    engine_factory: Callable[[], SynthesizerLike],
    *,
    epsilon: float,
    n_targets: int = 5,
    n_shadows: int = 6,
    n_synthetic: int | None = None,
    radius: float | None = None,
    max_records: int = 5000,
    random_state: int = 0,
    n_jobs: int | None = None,
) -> AttackScores:
    """Shadow-model membership inference against the most vulnerable records.

    Parameters
    ----------
    engine_factory : callable
        ``engine_factory()`` returns an unfitted engine with
        ``fit(df, *, schema, epsilon, accountant=None)`` and
        ``sample(n, random_state=None)``. Shadow fits see only the reference
        half of the holdout plus the targets, and pass ``accountant=None``,
        so the real data set's accountant is never charged.
    epsilon : float
        The epsilon the release was fitted with; shadows use the same.
    n_targets : int
        Targets per group: the ``n_targets`` most outlying members and as many
        non-members.
    n_shadows : int
        Shadow fits (>= 2); each target is inside exactly half of them.
    n_synthetic : int or None
        Rows sampled from each shadow model (and drawn from the release);
        None uses the size of the release.
    radius : float or None
        Radius (Gower) of the "synthetic rows nearby" feature; None gives each
        target the distance to its 5th nearest reference row (its local scale).
    max_records, random_state, n_jobs
        As in :func:`distance_attack`.

    Returns
    -------
    AttackScores
        ``n_targets`` member and ``n_targets`` non-member scores: few records,
        so the AUC interval is wide and the epsilon bound weak; the attack is
        for spotting a synthesizer that memorises outliers.
    """
    seed = check_seed(random_state)
    gens = seeds(seed)
    split = prepare(train, holdout, synthetic, schema, max_records, gens["split"])
    return shadow_scores(split, schema, engine_factory, epsilon=epsilon, n_targets=n_targets,
                         n_shadows=n_shadows, n_synthetic=n_synthetic, radius=radius,
                         rng=gens["shadow"], n_jobs=n_jobs)


__all__ = [
    "DEFAULT_FPRS",
    "MIN_FALSE_POSITIVES",
    "AttackScores",
    "density_attack",
    "distance_attack",
    "evaluate_attack",
    "min_nonmembers",
    "roc_auc",
    "roc_curve",
    "shadow_attack",
    "tpr_at_fpr",
]

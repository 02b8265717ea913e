"""Membership-inference attacks on a synthetic release, and how to score them.

Each attack plays an adversary who holds a record and the synthetic data and
guesses whether the record was in the training data. It returns one score per
record (higher means "more likely a member") for a balanced set of members
(training rows) and non-members (holdout rows of the same population, never
seen by the synthesizer). :func:`evaluate_attack` turns the scores into ROC
AUC, TPR at low FPR and an empirical epsilon estimate (metrics in
:mod:`~privsynth.risk.roc`, the estimate in :mod:`~privsynth.risk.audit_bound`).

The evaluation sets come from :mod:`~privsynth.risk.split`: the holdout is
split at random into two halves; the *reference* half stands for the
population the adversary can sample from (the density attack's denominator,
the shadow attack's training data), the other half provides the
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
>>> s = AttackScores("toy", "toy", np.array([0.9, 0.8, 0.7]), np.array([0.1, 0.75, 0.2]))
>>> round(evaluate_attack(s, n_bootstrap=0).auc, 3)
0.889
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth._checks import check_delta, check_epsilon, check_int, check_number
from privsynth.errors import ParameterError
from privsynth.risk._encode import Encoded, encode
from privsynth.risk.audit_bound import best_epsilon_lower_bound, bonferroni_confidence
from privsynth.risk.distance import knn_encoded, pairwise_encoded
from privsynth.risk.result import AttackResult, about
from privsynth.risk.roc import (
    DEFAULT_FPRS,
    as_scores,
    bootstrap_auc_interval,
    check_fprs,
    fpr_key,
    min_nonmembers,
    require_fprs,
    roc_auc,
    roc_curve,
    tpr_at_fpr,
)
from privsynth.risk.split import Split, prepare, seeds
from privsynth.risk.verdict import verdict_of_attack
from privsynth.schema import Schema

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

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


# ----------------------------------------------------------------------------- scoring
def evaluate_attack(
    scores: AttackScores,
    *,
    fprs: Sequence[float] | None = None,
    epsilon: float | None = None,
    delta: float = 0.0,
    confidence: float = 0.95,
    n_tests: int = 1,
    n_bootstrap: int = 200,
    random_state: int = 0,
) -> AttackResult:
    """Score one attack: AUC with a bootstrap interval, TPR at FPRs, epsilon estimate, verdict.

    Parameters
    ----------
    scores : AttackScores
        Output of an attack.
    fprs : sequence of float, optional
        False positive rates at which to report the TPR. By default
        ``DEFAULT_FPRS``; a rate the non-members cannot support (fewer than
        ``ceil(10 / fpr)``) is then reported as None with a note. Rates given
        explicitly must be supported, otherwise DataValidationError.
    epsilon : float, optional
        The claimed epsilon the verdict compares with; None compares with 0
        (any membership signal is then a finding).
    delta : float
        Delta of the claim, used by the epsilon estimate.
    confidence : float
        Confidence of the whole family of ``n_tests`` estimates.
    n_tests : int
        How many attacks' estimates are compared, of which the largest is
        reported: this one's confidence is ``1 - (1 - confidence) / n_tests``
        (Bonferroni; :func:`~privsynth.risk.audit_bound.bonferroni_confidence`).
    n_bootstrap : int
        Bootstrap resamples for the AUC interval (0 to skip).
    random_state : int
        Seed of the bootstrap and of the threshold-selection split.

    Returns
    -------
    AttackResult
        With ``verdict`` and ``verdict_reason`` (:mod:`privsynth.risk.verdict`).

    Examples
    --------
    >>> import numpy as np
    >>> s = AttackScores("toy", "toy", np.arange(50.0) + 25, np.arange(50.0))
    >>> r = evaluate_attack(s, epsilon=1.0, n_bootstrap=0)
    >>> r.auc, r.tpr_at_fpr, r.verdict
    (0.875, {'0.001': None, '0.01': None}, 'inconclusive')
    """
    explicit = fprs is not None
    rates = check_fprs(DEFAULT_FPRS if fprs is None else fprs)
    n_bootstrap = check_int("n_bootstrap", n_bootstrap, lo=0)
    claim = None if epsilon is None else check_epsilon(epsilon)
    delta = check_delta(delta)
    each = bonferroni_confidence(confidence, n_tests)
    m = as_scores("member_scores", scores.member_scores)
    n = as_scores("nonmember_scores", scores.nonmember_scores)
    if explicit:
        require_fprs(rates, n.size, f"the {scores.name} attack's evaluation set")
    rng = np.random.default_rng(random_state)
    notes = list(scores.notes)
    tprs: dict[str, float | None] = {}
    for f in rates:
        if n.size >= min_nonmembers(f):
            tprs[fpr_key(f)] = tpr_at_fpr(m, n, f)
        else:
            tprs[fpr_key(f)] = None
            # the set size may derive from a private row count: rounded (see about)
            notes.append(f"TPR at FPR {f:g} not reported: it needs at least "
                         f"{min_nonmembers(f)} non-members, the evaluation has "
                         f"{about(n.size)}")
    if m.size >= 2 and n.size >= 2:
        eps_lb = best_epsilon_lower_bound(m, n, delta, each,
                                          random_state=int(rng.integers(2**31)))
    else:
        eps_lb = 0.0
        notes.append("epsilon estimate not computed: it needs at least 2 members and "
                     "2 non-members")
    fpr_grid, tpr_grid = roc_curve(m, n)
    auc_ci = bootstrap_auc_interval(m, n, n_bootstrap, rng)
    found, why = verdict_of_attack(epsilon_estimate=eps_lb, auc_ci=auc_ci, n_members=m.size,
                                   n_nonmembers=n.size, epsilon=claim, delta=delta,
                                   confidence=each)
    return AttackResult(
        name=scores.name,
        description=scores.description,
        n_members=m.size,
        n_nonmembers=n.size,
        auc=roc_auc(m, n),
        auc_ci=auc_ci,
        tpr_at_fpr=tprs,
        epsilon_lower_bound=eps_lb,
        roc_fpr=tuple(fpr_grid),
        roc_tpr=tuple(tpr_grid),
        notes=tuple(notes),
        confidence=each,
        verdict=found,
        verdict_reason=why,
    )


# ------------------------------------------------------------------------------ attacks
def neighbour_distances(split: Split, k: int, n_jobs: int | None) -> tuple[F64, F64]:
    """k-NN distances of members then non-members to the synthetic data and to the reference."""
    both = split.members.stack(split.nonmembers)
    d_syn, _ = knn_encoded(both, split.synthetic, min(k, split.synthetic.n_rows), n_jobs)
    d_ref, _ = knn_encoded(both, split.reference, min(k, split.reference.n_rows), n_jobs)
    return d_syn, d_ref


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
    rng = seeds(check_int("random_state", random_state, lo=0))["split"]
    split = prepare(train, holdout, synthetic, schema, max_records, rng)
    both = split.members.stack(split.nonmembers)
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
    k = check_int("k", k, lo=1)
    rng = seeds(check_int("random_state", random_state, lo=0))["split"]
    split = prepare(train, holdout, synthetic, schema, max_records, rng)
    d_syn, d_ref = neighbour_distances(split, k, n_jobs)
    return density_scores(split, d_syn, d_ref, min(k, d_syn.shape[1], d_ref.shape[1]))


# ------------------------------------------------------------------------- shadow models
def _check_shadow_params(n_targets: object, n_shadows: object, epsilon: object,
                         n_synthetic: object, radius: object) -> float:
    check_int("n_targets", n_targets, lo=1)
    check_int("n_shadows", n_shadows, lo=2)
    check_int("n_synthetic", n_synthetic, lo=1, none_ok=True)
    check_number("radius", radius, lo=0, hi=1, lo_open=True, none_ok=True)
    # the shadows are fitted the same way as the release: they need its epsilon
    return check_epsilon(epsilon, where="shadow attack (the epsilon the release was fitted with)")


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

    epsilon = _check_shadow_params(n_targets, n_shadows, epsilon, n_synthetic, radius)
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
    targets = split.members.take(t_mem).stack(split.nonmembers.take(t_non))
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
    gens = seeds(check_int("random_state", random_state, lo=0))
    split = prepare(train, holdout, synthetic, schema, max_records, gens["split"])
    return shadow_scores(split, schema, engine_factory, epsilon=epsilon, n_targets=n_targets,
                         n_shadows=n_shadows, n_synthetic=n_synthetic, radius=radius,
                         rng=gens["shadow"], n_jobs=n_jobs)


__all__ = [
    "AttackScores",
    "SynthesizerLike",
    "density_attack",
    "distance_attack",
    "evaluate_attack",
    "shadow_attack",
]

"""One call that attacks a synthetic release and gathers the evidence: :func:`assess_risk`.

The evidence ends in a verdict (:mod:`privsynth.risk.verdict`): every attack's
empirical epsilon estimate is computed at the Bonferroni-corrected confidence
``1 - (1 - confidence) / n_attacks``, so the largest of them, which the result
reports, holds at ``confidence`` as a family. The estimates are diagnostics,
never proof (:mod:`privsynth.risk.audit_bound`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from privsynth._checks import check_bool, check_delta, check_epsilon, check_int
from privsynth.errors import ParameterError
from privsynth.risk.audit_bound import tpr_upper_bound
from privsynth.risk.criteria import CRITERIA_OPTIONS, criteria_encoded
from privsynth.risk.criteria import criteria_options as check_criteria
from privsynth.risk.distance import diagnostics_encoded
from privsynth.risk.membership import (
    AttackScores,
    SynthesizerLike,
    density_scores,
    distance_scores,
    evaluate_attack,
    neighbour_distances,
    shadow_scores,
)
from privsynth.risk.result import AttackResult, RiskResult, about
from privsynth.risk.roc import DEFAULT_FPRS, check_fprs, min_nonmembers, require_fprs
from privsynth.risk.split import LARGE_DATA_FACTOR, prepare, seeds
from privsynth.schema import Schema

CAVEAT_DIAGNOSTICS = (
    "DCR and NNDR are diagnostics, not proof of privacy: synthetic rows far from every "
    "training row can still leak information through other features, and close rows are "
    "expected by chance in dense regions of the data."
)
CAVEAT_ATTACKS = (
    "The attacks give evidence, not guarantees: stronger attacks may exist. Each attack's "
    "empirical epsilon estimate treats every member and non-member as an independent trial "
    "of one release, and the best of the attacks is reported (its confidence corrected for "
    "their number, Bonferroni): it is a diagnostic estimate, not a proof. An estimate below "
    "the claimed epsilon is expected and does not confirm the claim; one above it is "
    "evidence against the claim."
)
CAVEAT_RANDOM_SPLIT = (
    "The estimates mean something only if the training data (members) and the holdout "
    "(non-members) are a random split of one data set (for example by `privsynth split`); "
    "a holdout from another period or source makes the attacks look better or worse than "
    "they are."
)
CAVEAT_NOT_DP = (
    "These numbers are computed from the private training data without differential "
    "privacy; share them only as widely as the audit report itself."
)


def _check_claim(epsilon: object, delta: object) -> tuple[float | None, float]:
    eps = None if epsilon is None else check_epsilon(epsilon)
    return eps, check_delta(delta)


def assess_risk(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    *,
    epsilon: float | None = None,
    delta: float = 0.0,
    engine_factory: Callable[[], SynthesizerLike] | None = None,
    random_state: int = 0,
    max_records: int = 5000,
    fprs: Sequence[float] | None = None,
    confidence: float = 0.95,
    n_bootstrap: int = 200,
    density_k: int = 3,
    n_targets: int = 5,
    n_shadows: int = 6,
    criteria: bool = True,
    secrets: str | Sequence[str] | None = None,
    criteria_options: Mapping[str, Any] | None = None,
    n_jobs: int | None = None,
) -> RiskResult:
    """Attack a synthetic release the way an adversary would, and report how well it went.

    Runs the distance diagnostics (DCR, NNDR, closer-to-train share, exact
    copies) and the membership-inference attacks of
    :mod:`privsynth.risk.membership` (distance, density, and shadow models
    when ``engine_factory`` is given), scores each attack (ROC AUC with a
    bootstrap interval, TPR at low FPR, empirical epsilon lower bound) and
    sets the bounds beside the claimed ``(epsilon, delta)``. It also measures
    the three anonymisation criteria of the Article 29 Working Party
    (singling out, linkability, inference; :mod:`privsynth.risk.criteria`),
    with the whole holdout as the control set.

    Parameters
    ----------
    train : DataFrame
        The training data of the release (the members).
    holdout : DataFrame
        Records of the same population not used for training (the
        non-members), e.g. a test split. Half serves as the reference
        population, half as non-members.
    synthetic : DataFrame
        The synthetic release.
    schema : Schema
        Public domains of the columns; all three tables must have exactly its columns.
    epsilon, delta : float
        The claim of the release. Without epsilon the bounds are reported
        without comparison, and the shadow attack cannot run.
    engine_factory : callable, optional
        Returns an unfitted engine of the kind that made the release (e.g.
        ``lambda: PrivBayes(degree=2)``); enables the shadow-model attack.
    random_state : int
        Seed of every random choice of the assessment (not of privacy noise).
    max_records : int
        Cap on each balanced evaluation set (members, non-members) and on the
        rows used by the diagnostics; the result says when it subsampled. Large
        data: training and synthetic tables longer than ``10 * max_records``
        rows (the holdout: ``20 * max_records``) are first cut to a random
        subsample of that size, and a caveat says so.
    fprs : sequence of float, optional
        False positive rates for the TPR. Default (0.001, 0.01), each reported
        only when the evaluation has ``ceil(10 / fpr)`` non-members; rates
        given explicitly must be supported or DataValidationError is raised.
    confidence : float
        Confidence of the attacks' epsilon estimates as a family: each one is
        computed at ``1 - (1 - confidence) / n_attacks`` (Bonferroni), so the
        largest, which is the one compared with the claim, holds at
        ``confidence`` (under a random member/non-member split; still a
        diagnostic, see :mod:`privsynth.risk.audit_bound`).
    n_bootstrap : int
        Resamples for the AUC intervals.
    density_k : int
        Neighbours of the density attack.
    n_targets, n_shadows : int
        Size of the shadow-model attack (targets per group, shadow fits).
    criteria : bool
        Measure the anonymisation criteria (``RiskResult.criteria``).
    secrets : str or list of str, optional
        The sensitive columns of the inference criterion. Default: every
        categorical and boolean column, the worst one reported.
    criteria_options : mapping, optional
        Further settings of :func:`~privsynth.risk.criteria.assess_criteria`:
        ``known``, ``link_columns``, ``n_attacks``, ``tolerance``, ``model``.
    n_jobs : int or None
        Threads for the nearest-neighbour searches.

    Returns
    -------
    RiskResult
        Every attack with its verdict, and the overall ``verdict`` /
        ``verdict_reason`` ("no problem found", "inconclusive" or "problem
        found"; the rule is in :mod:`privsynth.risk.verdict`).

    Raises
    ------
    DataValidationError
        Mismatched columns, values outside the schema, an empty or too small
        holdout, or a holdout too small for an explicitly asked FPR.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from privsynth.schema import Schema
    >>> s = Schema.from_dict({"columns": [{"name": "x", "kind": "float",
    ...                                     "lower": 0, "upper": 1}]})
    >>> rng = np.random.default_rng(0)
    >>> train = pd.DataFrame({"x": rng.random(200)})
    >>> holdout = pd.DataFrame({"x": rng.random(400)})
    >>> r = assess_risk(train, holdout, synthetic=train, schema=s, epsilon=1.0, n_bootstrap=0)
    >>> r.attack("distance").auc > 0.9, r.exceeds_claim, r.verdict
    (True, True, 'problem found')
    """
    claimed_eps, claimed_delta = _check_claim(epsilon, delta)
    seed = check_int("random_state", random_state, lo=0)
    rates = check_fprs(DEFAULT_FPRS if fprs is None else fprs)
    if engine_factory is not None:
        if not callable(engine_factory):
            raise ParameterError("engine_factory must be None or a callable returning an "
                                 "unfitted engine")
        if claimed_eps is None:
            raise ParameterError("the shadow-model attack fits the engine at the release's "
                                 "epsilon: give epsilon= together with engine_factory=")
    gens = seeds(seed)
    split = prepare(train, holdout, synthetic, schema, max_records, gens["split"])
    options = None
    if check_bool("criteria", criteria):
        extra = dict(criteria_options or {})
        unknown = sorted(set(extra) - set(CRITERIA_OPTIONS))
        if unknown:
            raise ParameterError(f"criteria_options: unknown setting(s) {unknown}; allowed: "
                                 f"{list(CRITERIA_OPTIONS)}")
        options = check_criteria(schema, secrets=secrets, **extra)
    n_eval = split.members.n_rows
    if fprs is not None:
        require_fprs(rates, n_eval, "the non-member evaluation set (half of the holdout, "
                     "capped by max_records and the training size)")

    run_shadow = engine_factory is not None and claimed_eps is not None
    # the largest of n_tests estimates is reported: each one is Bonferroni-corrected
    n_tests = 3 if run_shadow else 2

    def evaluate(scores: AttackScores, strict_rates: Sequence[float] | None) -> AttackResult:
        return evaluate_attack(scores, fprs=strict_rates, epsilon=claimed_eps,
                               delta=claimed_delta, confidence=confidence, n_tests=n_tests,
                               n_bootstrap=n_bootstrap,
                               random_state=int(gens["evaluation"].integers(2**31)))

    d_syn, d_ref = neighbour_distances(split, density_k, n_jobs)
    k = min(density_k, d_syn.shape[1], d_ref.shape[1])
    attacks = [
        evaluate(distance_scores(split, d_syn), fprs),
        evaluate(density_scores(split, d_syn, d_ref, k), fprs),
    ]
    caveats = [CAVEAT_DIAGNOSTICS, CAVEAT_ATTACKS, CAVEAT_RANDOM_SPLIT, CAVEAT_NOT_DP]
    if engine_factory is not None and claimed_eps is not None:  # run_shadow
        shadow = shadow_scores(split, schema, engine_factory, epsilon=claimed_eps,
                               n_targets=n_targets, n_shadows=n_shadows, n_synthetic=None,
                               radius=None, rng=gens["shadow"], n_jobs=n_jobs)
        # the shadow attack has few targets by design: unsupported rates are None, not errors
        attacks.append(evaluate(shadow, None if fprs is None else rates))
    else:
        caveats.append("The shadow-model attack was not run (no engine_factory given).")

    diagnostics = diagnostics_encoded(split.train_all, split.holdout_all, split.synthetic,
                                      gens["diagnostics"], max_records, n_jobs)
    # Row counts of the private tables (and set sizes derived from them) are private:
    # caveats show only the public cap max_records or a coarsely rounded size.
    if split.subsampled:
        caveats.append(
            f"Attacks were run on random subsamples of {about(n_eval, max_records)} members "
            f"and as many non-members (max_records={max_records}).")
    caveats.append(
        "The holdout was split at random: one half served as the reference population "
        "(density and shadow attacks), the other half as non-members.")
    if split.precut:
        caveats.append(
            f"Large data: the training and synthetic data were first cut to random subsamples "
            f"of at most {LARGE_DATA_FACTOR * max_records} rows and the holdout to "
            f"{2 * LARGE_DATA_FACTOR * max_records} (max_records={max_records}); distances "
            "are to the nearest row of those subsamples, which weakens the attacks somewhat.")
    unsupported = [f for f in rates if n_eval < min_nonmembers(f)]
    if unsupported:
        caveats.append(
            "Some TPRs are not reported because the evaluation has too few non-members: "
            + ", ".join(f"FPR {f:g} needs {min_nonmembers(f)}" for f in unsupported)
            + f", there are {about(n_eval, max_records)}.")
    if not schema.is_public:
        caveats.append("The schema's domains were read from the data without DP: the "
                       "release is not end-to-end differentially private.")

    bound: dict[str, float] | None = None
    if claimed_eps is None:
        caveats.append("No claimed epsilon was given: the verdicts compare the attacks with "
                       "epsilon 0, so any membership signal they can show counts as a problem.")
    else:
        bound = {f"{f:g}": tpr_upper_bound(f, claimed_eps, claimed_delta) for f in rates}
        worst = max(attacks, key=lambda a: a.epsilon_lower_bound)
        if worst.epsilon_lower_bound > claimed_eps:
            caveats.append(
                f"Problem found: the {worst.name} attack's empirical epsilon estimate "
                f"{worst.epsilon_lower_bound:.3g} lies above the claimed epsilon "
                f"{claimed_eps:g} (at {confidence:.0%} confidence for the {n_tests} attacks "
                "together). This is evidence against the claim, not a proof: look for a bug, "
                "a wrong accounting or a non-private step before publishing.")

    found = None
    if options is not None:
        found = criteria_encoded(split.train_all, split.holdout_all, split.synthetic, schema,
                                 options, max_records=max_records, confidence=confidence,
                                 random_state=seed, n_jobs=n_jobs)
        caveats.extend(found.caveats)

    settings = {
        "random_state": seed,
        "max_records": max_records,
        "n_members": n_eval,
        "n_nonmembers": n_eval,
        # no exact n_train / n_holdout / n_reference: private counts stay out of outputs
        "n_synthetic": split.synthetic.n_rows,
        "subsampled": split.subsampled,
        "large_data_precut": split.precut,
        "confidence": confidence,
        "n_tests": n_tests,
        "confidence_per_attack": attacks[0].confidence,
        "n_bootstrap": n_bootstrap,
        "density_k": k,
        "fprs": list(rates),
        "shadow": None if engine_factory is None
        else {"n_targets": n_targets, "n_shadows": n_shadows},
        "criteria": None if options is None else options.settings(),
    }
    return RiskResult(
        attacks=tuple(attacks),
        diagnostics=diagnostics,
        claimed_epsilon=claimed_eps,
        claimed_delta=claimed_delta,
        tpr_upper_bound=bound,
        criteria=found,
        caveats=tuple(caveats),
        settings=settings,
    )


__all__ = ["assess_risk"]

"""Empirical epsilon from a membership attack (a diagnostic), one-run audits, the TPR ceiling.

An (epsilon, delta)-DP mechanism limits every membership test: at false
positive rate ``FPR`` its true positive rate satisfies

    TPR <= e^eps * FPR + delta    and    1 - FPR <= e^eps * (1 - TPR) + delta

(Kairouz et al. 2015, the hypothesis-testing view of DP). Turned around, a
test that reaches some TPR at some FPR bounds the mechanism's epsilon from
below:

    eps >= max( log((TPR - delta) / FPR), log((1 - delta - FPR) / (1 - TPR)) )

(Jagielski et al. 2020; Nasr et al. 2021). :func:`epsilon_lower_bound` puts a
Clopper-Pearson lower bound on TPR and upper bound on FPR into it (each
one-sided at ``1 - (1 - confidence) / 2``).

**What the number means depends on the test design.** The Clopper-Pearson
bounds treat every member and every non-member as an independent trial. That
holds when each trial is its own run of the mechanism (many fits on
neighbouring data sets, as in ``tests/test_privacy_audit.py``); the result is
then a lower bound at the stated confidence. Applied to the members and
non-members of *one* release (:func:`best_epsilon_lower_bound` as
:mod:`privsynth.risk` uses it) all trials share one run: the number is an
**empirical epsilon estimate, a diagnostic**, and no guarantee follows from
it. It means something only when members and non-members are a random split
of one population; :func:`privsynth.risk.assess_risk` reports the best of
several attacks and corrects each one's confidence for that
(:func:`bonferroni_confidence`).

A design that does support a lower bound from a single run is the one-run
audit of Steinke, Nasr and Jagielski (2023): canary records, each put into
the training data by an independent fair coin *before* the fit, whose
inclusion the auditor then guesses (:func:`one_run_epsilon_lower_bound`).

An estimate below the claimed epsilon is the expected outcome; it does not
confirm the claim (attacks are never optimal). An estimate above it is a
reason to look for an implementation bug, a wrong accounting or a non-DP
step.

Example
-------
>>> round(epsilon_lower_bound(tp=990, fn=10, fp=10, tn=990), 2)
3.98
>>> tpr_upper_bound(0.01, epsilon=1.0, delta=0.0)  # doctest: +ELLIPSIS
0.0271...
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import stats

from privsynth._checks import check_int, check_number, is_number
from privsynth.errors import DataValidationError, ParameterError
from privsynth.risk.roc import as_scores

F64 = npt.NDArray[np.float64]
# Threshold candidates tried when choosing the best cut (quantiles of the scores).
_MAX_THRESHOLDS = 2000


def _check_count(name: str, value: object) -> int:
    return check_int(name, value, lo=0)


def _check_prob(name: str, value: object, *, open_upper: bool = False) -> float:
    return check_number(name, value, lo=0, hi=1, hi_open=open_upper)


def _check_confidence(confidence: object) -> float:
    return check_number("confidence", confidence, lo=0, hi=1, lo_open=True, hi_open=True)


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Clopper-Pearson interval of a binomial proportion.

    Each end is a one-sided bound at level ``1 - (1 - confidence) / 2``.

    Examples
    --------
    >>> lo, hi = clopper_pearson(0, 10)
    >>> lo, round(hi, 4)
    (0.0, 0.3085)
    """
    k = _check_count("successes", successes)
    n = _check_count("trials", trials)
    if k > n:
        raise ParameterError(f"successes ({k}) cannot exceed trials ({n})")
    if n == 0:
        raise ParameterError("a proportion needs at least one trial")
    alpha = 1.0 - _check_confidence(confidence)
    lo = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lo, hi


def _bound_from_rates(tpr_lo: F64, fpr_hi: F64, delta: float) -> F64:
    """Vectorized two-sided bound from conservative rates, clipped at 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(tpr_lo - delta > 0, np.log(np.maximum(tpr_lo - delta, 1e-300) / fpr_hi),
                     -np.inf)
        num = 1.0 - delta - fpr_hi
        b = np.where(num > 0, np.log(np.maximum(num, 1e-300) / (1.0 - tpr_lo)), -np.inf)
    return np.maximum(np.maximum(a, b), 0.0)


def _rates(tp: F64, fn: F64, fp: F64, tn: F64, confidence: float) -> tuple[F64, F64]:
    alpha = 1.0 - confidence
    # the guards avoid beta(0, .) at the ends, where the bound is exactly 0 or 1
    tpr_lo = np.where(tp > 0, stats.beta.ppf(alpha / 2, np.maximum(tp, 1), fn + 1), 0.0)
    fpr_hi = np.where(tn > 0, stats.beta.ppf(1 - alpha / 2, fp + 1, np.maximum(tn, 1)), 1.0)
    return np.asarray(tpr_lo, np.float64), np.asarray(fpr_hi, np.float64)


def epsilon_lower_bound(
    tp: int, fn: int, fp: int, tn: int, delta: float = 0.0, confidence: float = 0.95
) -> float:
    """Lower bound on epsilon from one membership test's confusion matrix.

    A lower bound at ``confidence`` when the counts come from independent
    trials (each its own run of the mechanism); on the members and
    non-members of one release it is a diagnostic estimate (module docstring).

    Parameters
    ----------
    tp, fn : int
        Members the test called members / non-members.
    fp, tn : int
        Non-members the test called members / non-members.
    delta : float
        The delta of the claim being tested (0 for pure DP).
    confidence : float
        Confidence of the Clopper-Pearson bounds (0.95: with independent
        trials the result is a valid lower bound with probability >= 95 %).

    Returns
    -------
    float
        ``max(log((TPR_lo - delta) / FPR_hi), log((1 - delta - FPR_hi) / (1 - TPR_lo)), 0)``.

    Examples
    --------
    >>> epsilon_lower_bound(tp=5, fn=5, fp=5, tn=5)
    0.0
    >>> round(epsilon_lower_bound(tp=1000, fn=0, fp=0, tn=1000), 2)
    5.6
    """
    counts = [_check_count(n, v) for n, v in (("tp", tp), ("fn", fn), ("fp", fp), ("tn", tn))]
    if counts[0] + counts[1] == 0 or counts[2] + counts[3] == 0:
        raise ParameterError("the bound needs at least one member (tp + fn) and one "
                             "non-member (fp + tn)")
    d = _check_prob("delta", delta, open_upper=True)
    c = _check_confidence(confidence)
    arr = [np.asarray([float(x)]) for x in counts]
    tpr_lo, fpr_hi = _rates(arr[0], arr[1], arr[2], arr[3], c)
    return float(_bound_from_rates(tpr_lo, fpr_hi, d)[0])


def _threshold_bounds(
    members: F64, nonmembers: F64, thresholds: F64, delta: float, confidence: float
) -> F64:
    """Bound for the rule "member iff score >= t" at every threshold t."""
    m_sorted, n_sorted = np.sort(members), np.sort(nonmembers)
    tp = (m_sorted.size - np.searchsorted(m_sorted, thresholds, side="left")).astype(np.float64)
    fp = (n_sorted.size - np.searchsorted(n_sorted, thresholds, side="left")).astype(np.float64)
    fn = m_sorted.size - tp
    tn = n_sorted.size - fp
    tpr_lo, fpr_hi = _rates(tp, fn, fp, tn, confidence)
    return _bound_from_rates(tpr_lo, fpr_hi, delta)


def _candidates(members: F64, nonmembers: F64) -> F64:
    values = np.unique(np.concatenate([members, nonmembers]))
    if values.size > _MAX_THRESHOLDS:
        values = np.unique(np.quantile(values, np.linspace(0.0, 1.0, _MAX_THRESHOLDS)))
    return values


def best_epsilon_lower_bound(
    member_scores: npt.ArrayLike,
    nonmember_scores: npt.ArrayLike,
    delta: float = 0.0,
    confidence: float = 0.95,
    *,
    random_state: int = 0,
) -> float:
    """The epsilon estimate of the best threshold rule on an attack's scores.

    The rule is "member iff score >= t" (higher scores mean "more likely a
    member"). Choosing ``t`` to maximise the bound on the same records that
    then evaluate it would overstate the bound (the maximum of many noisy
    estimates is biased upwards, and the Clopper-Pearson guarantee holds for
    one test fixed in advance). So both groups are split at random in halves:
    ``t`` is chosen on the first halves and :func:`epsilon_lower_bound` is
    computed on the second halves only, as one test fixed in advance. On the
    members and non-members of one release the result is still a diagnostic
    estimate, not a bound (module docstring).

    Parameters
    ----------
    member_scores, nonmember_scores : array-like of float
        Attack scores of members and non-members (at least 2 of each).
    delta : float
        Delta of the claim being tested.
    confidence : float
        Confidence of the Clopper-Pearson bounds.
    random_state : int
        Seed of the split into halves.

    Examples
    --------
    >>> m = [1.0] * 500 + [0.0] * 500
    >>> n = [0.0] * 1000
    >>> round(best_epsilon_lower_bound(m, n), 1)
    4.1
    """
    members = as_scores("member_scores", member_scores)
    nonmembers = as_scores("nonmember_scores", nonmember_scores)
    if members.size < 2 or nonmembers.size < 2:
        raise DataValidationError(
            f"the bound needs at least 2 member and 2 non-member scores (one for choosing "
            f"the threshold, one for testing it); got {members.size} and {nonmembers.size}"
        )
    d = _check_prob("delta", delta, open_upper=True)
    c = _check_confidence(confidence)
    rng = np.random.default_rng(random_state)
    pm, pn = rng.permutation(members.size), rng.permutation(nonmembers.size)
    hm, hn = members.size // 2, nonmembers.size // 2
    choose_m, test_m = members[pm[:hm]], members[pm[hm:]]
    choose_n, test_n = nonmembers[pn[:hn]], nonmembers[pn[hn:]]
    thresholds = _candidates(choose_m, choose_n)
    bounds = _threshold_bounds(choose_m, choose_n, thresholds, d, c)
    best = thresholds[int(np.argmax(bounds))]
    return float(_threshold_bounds(test_m, test_n, np.asarray([best]), d, c)[0])


def bonferroni_confidence(confidence: float, n_tests: int) -> float:
    """The confidence each of ``n_tests`` estimates needs for all to hold at ``confidence``.

    ``1 - (1 - confidence) / n_tests`` (Bonferroni): reporting the largest of
    several estimates made at 95 % each would hold only at ``1 - 0.05 k``.
    Bonferroni needs no assumption about how the attacks depend on each other
    (they share their records, so they do).

    >>> round(bonferroni_confidence(0.95, 3), 4)
    0.9833
    """
    c = _check_confidence(confidence)
    k = check_int("n_tests", n_tests, lo=1)
    return 1.0 - (1.0 - c) / k


def max_demonstrable_epsilon(n_members: int, n_nonmembers: int, delta: float = 0.0,
                             confidence: float = 0.95) -> float:
    """The largest estimate :func:`best_epsilon_lower_bound` can give on sets of these sizes.

    What a perfect attack (every member scored above every non-member) would
    show: :func:`epsilon_lower_bound` with no error on the halves the estimate
    is computed on. A claim at or above it cannot be contradicted by any attack
    on so few records: the test has no power against it.

    >>> round(max_demonstrable_epsilon(35, 35), 2), round(max_demonstrable_epsilon(5000, 5000), 2)
    (1.48, 6.52)
    """
    m = check_int("n_members", n_members, lo=0)
    n = check_int("n_nonmembers", n_nonmembers, lo=0)
    if m < 2 or n < 2:
        return 0.0
    return epsilon_lower_bound(tp=m - m // 2, fn=0, fp=0, tn=n - n // 2, delta=delta,
                               confidence=confidence)


def one_run_epsilon_lower_bound(correct: int, guesses: int, confidence: float = 0.95) -> float:
    """Lower bound on a pure-DP epsilon from a one-run canary audit (Steinke et al. 2023).

    The design: canary records, each put into the training data by an
    independent fair coin before the one fit; the auditor guesses the
    inclusion of some of them (``guesses``; it may abstain on the others) and
    ``correct`` guesses are right. Under epsilon-DP the number of correct
    guesses is stochastically dominated by ``Binomial(guesses, e^eps / (1 +
    e^eps))`` (Steinke, Nasr and Jagielski 2023, Theorem 3.1 with delta = 0),
    so a one-sided Clopper-Pearson lower bound ``p`` on the accuracy at
    ``confidence`` gives ``eps >= log(p / (1 - p))`` with that confidence (0
    when ``p <= 1/2``). For (epsilon, delta)-DP with delta > 0 the paper's
    bound is weaker; it is not implemented here.

    >>> round(one_run_epsilon_lower_bound(1000, 1000), 2)
    5.81
    >>> one_run_epsilon_lower_bound(500, 1000)
    0.0
    """
    k = _check_count("correct", correct)
    r = check_int("guesses", guesses, lo=1)
    if k > r:
        raise ParameterError(f"correct ({k}) cannot exceed guesses ({r}); count the right "
                             "guesses among the guesses made")
    c = _check_confidence(confidence)
    if k == 0:
        return 0.0
    p = float(stats.beta.ppf(1.0 - c, k, r - k + 1))
    if p <= 0.5:
        return 0.0
    return math.log(p / (1.0 - p)) if p < 1.0 else math.inf


def tpr_upper_bound(fpr: float, epsilon: float, delta: float = 0.0) -> float:
    """The highest TPR any membership attack can reach at ``fpr`` under (epsilon, delta)-DP.

    ``min(1, e^eps * fpr + delta, 1 - e^-eps * (1 - delta - fpr))``: the
    boundary of the hypothesis-testing region of (epsilon, delta)-DP.

    Examples
    --------
    >>> round(tpr_upper_bound(0.001, epsilon=1.0), 5)
    0.00272
    >>> round(tpr_upper_bound(0.5, epsilon=1.0), 4)  # the second constraint binds
    0.8161
    >>> tpr_upper_bound(0.5, epsilon=1.0, delta=0.6)
    1.0
    """
    f = _check_prob("fpr", fpr)
    d = _check_prob("delta", delta)
    if is_number(epsilon) and float(epsilon) == math.inf:
        return 1.0  # no claim at all: any TPR is possible
    eps = check_number("epsilon", epsilon, lo=0)
    first = math.exp(eps) * f + d
    second = 1.0 - math.exp(-eps) * (1.0 - d - f)
    return float(min(1.0, first, second))


__all__ = [
    "best_epsilon_lower_bound",
    "bonferroni_confidence",
    "clopper_pearson",
    "epsilon_lower_bound",
    "max_demonstrable_epsilon",
    "one_run_epsilon_lower_bound",
    "tpr_upper_bound",
]

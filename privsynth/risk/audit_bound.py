"""Empirical lower bounds on epsilon from a membership attack, and the TPR ceiling of a claim.

An (epsilon, delta)-DP mechanism limits every membership test: at false
positive rate ``FPR`` its true positive rate satisfies

    TPR <= e^eps * FPR + delta    and    1 - FPR <= e^eps * (1 - TPR) + delta

(Kairouz et al. 2015, the hypothesis-testing view of DP). Turned around, an
attack that reaches some TPR at some FPR *proves* that the mechanism is no
better than

    eps >= max( log((TPR - delta) / FPR), log((1 - delta - FPR) / (1 - TPR)) )

(Jagielski et al. 2020; Nasr et al. 2021). TPR and FPR are only estimated
from a finite number of members and non-members, so we use a 95 %
Clopper-Pearson lower bound on TPR and upper bound on FPR: the resulting
epsilon is a lower bound that holds with that confidence (each of the two
one-sided bounds at ``1 - (1 - confidence) / 2``).

An empirical lower bound **below** the claimed epsilon is the expected
outcome; it does not prove the claim (attacks are never optimal). A bound
**above** the claimed epsilon means the release is not as private as claimed:
an implementation bug, a wrong accounting, or a non-DP step somewhere.

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
    """Lower bound on epsilon proven by one membership test's confusion matrix.

    Parameters
    ----------
    tp, fn : int
        Members the test called members / non-members.
    fp, tn : int
        Non-members the test called members / non-members.
    delta : float
        The delta of the claim being tested (0 for pure DP).
    confidence : float
        Confidence of the Clopper-Pearson bounds (0.95: the result is a valid
        lower bound with probability at least 95 %).

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
    """The epsilon lower bound of the best threshold rule on an attack's scores.

    The rule is "member iff score >= t" (higher scores mean "more likely a
    member"). Choosing ``t`` to maximise the bound on the same records that
    then evaluate it would overstate the bound (the maximum of many noisy
    estimates is biased upwards, and the Clopper-Pearson guarantee holds for
    one test fixed in advance). So both groups are split at random in halves:
    ``t`` is chosen on the first halves and the bound is computed on the
    second halves only, where it is a valid one-test bound.

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
    "clopper_pearson",
    "epsilon_lower_bound",
    "tpr_upper_bound",
]

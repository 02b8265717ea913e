"""Scoring a membership attack from its scores: ROC AUC, TPR at low FPR, the ROC curve.

Every function takes the scores of members and of non-members (higher means
"more likely a member") and never sees a record. A TPR at false positive rate
``f`` rests on ``f * n`` expected false positives, so it is reported only with
at least ``ceil(MIN_FALSE_POSITIVES / f)`` non-members (:func:`min_nonmembers`).

Example
-------
>>> import numpy as np
>>> m, n = np.array([0.9, 0.8, 0.7]), np.array([0.1, 0.75, 0.2])
>>> round(roc_auc(m, n), 3)
0.889
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import stats

from privsynth._checks import check_number
from privsynth.errors import DataValidationError, ParameterError

F64 = npt.NDArray[np.float64]

#: False positive rates reported by default.
DEFAULT_FPRS: tuple[float, ...] = (0.001, 0.01)
#: Fewest non-members per expected false positive for a TPR at some FPR:
#: ``ceil(MIN_FALSE_POSITIVES / fpr)`` non-members are needed.
MIN_FALSE_POSITIVES = 10
#: Points of the ROC curve kept for plotting.
ROC_POINTS = 101


def as_scores(name: str, values: object) -> F64:
    """Attack scores as a flat float64 array: non-empty and finite, else a precise error.

    >>> as_scores("member_scores", [[1, 2], [3, 4]]).tolist()
    [1.0, 2.0, 3.0, 4.0]
    """
    try:
        a = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{name} must be a sequence of numbers") from exc
    if a.size == 0:
        raise DataValidationError(f"{name} is empty; give the scores of at least one record")
    if not np.all(np.isfinite(a)):
        raise DataValidationError(f"{name} holds {int(np.sum(~np.isfinite(a)))} non-finite "
                                  "score(s); scores must be finite numbers")
    return a


def roc_auc(member_scores: npt.ArrayLike, nonmember_scores: npt.ArrayLike) -> float:
    """Area under the ROC curve (ties count one half): P(member score > non-member score).

    Examples
    --------
    >>> roc_auc([1, 2], [0, 0]), roc_auc([0, 0], [0, 0])
    (1.0, 0.5)
    """
    m = as_scores("member_scores", member_scores)
    n = as_scores("nonmember_scores", nonmember_scores)
    ranks = stats.rankdata(np.concatenate([m, n]))
    r_m = float(ranks[: m.size].sum())
    return (r_m - m.size * (m.size + 1) / 2.0) / (m.size * n.size)


def bootstrap_auc_interval(m: F64, n: F64, n_boot: int,
                           rng: np.random.Generator) -> tuple[float, float]:
    """Percentile 95 % interval of the AUC; members and non-members are resampled separately.

    ``n_boot=0`` skips the bootstrap: the interval is then the AUC itself.
    """
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
    m = as_scores("member_scores", member_scores)
    n = np.sort(as_scores("nonmember_scores", nonmember_scores))[::-1]
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
    m = as_scores("member_scores", member_scores)
    n = as_scores("nonmember_scores", nonmember_scores)
    thresholds = np.unique(np.concatenate([m, n]))[::-1]
    m_sorted, n_sorted = np.sort(m), np.sort(n)
    tp = m.size - np.searchsorted(m_sorted, thresholds, side="left")
    fp = n.size - np.searchsorted(n_sorted, thresholds, side="left")
    fprs = np.concatenate([[0.0], fp / n.size])
    tprs = np.concatenate([[0.0], tp / m.size])
    grid = np.linspace(0.0, 1.0, points)
    pos = np.searchsorted(fprs, grid + 1e-12, side="right") - 1
    return [float(g) for g in grid], [float(t) for t in tprs[pos]]


def fpr_key(fpr: float) -> str:
    return f"{fpr:g}"


def check_fprs(fprs: object) -> tuple[float, ...]:
    """Validate a sequence of false positive rates in (0, 1).

    >>> check_fprs([0.01, 0.1])
    (0.01, 0.1)
    """
    if isinstance(fprs, str) or not isinstance(fprs, Sequence | np.ndarray):
        raise ParameterError(f"fprs must be a sequence of rates in (0, 1), got {fprs!r}")
    out = tuple(check_number(f"fprs[{i}]", f, lo=0, hi=1, lo_open=True, hi_open=True,
                             where="false positive rate") for i, f in enumerate(fprs))
    if not out:
        raise ParameterError("fprs is empty; give at least one false positive rate")
    return out



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


__all__ = [
    "DEFAULT_FPRS",
    "MIN_FALSE_POSITIVES",
    "ROC_POINTS",
    "as_scores",
    "bootstrap_auc_interval",
    "check_fprs",
    "fpr_key",
    "min_nonmembers",
    "require_fprs",
    "roc_auc",
    "roc_curve",
    "tpr_at_fpr",
]

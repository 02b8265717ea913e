"""The verdict of a membership attack: "no problem found", "inconclusive" or "problem found".

An attack's empirical epsilon estimate (:mod:`privsynth.risk.audit_bound`) is
evidence, never proof, and a test on a few dozen records can neither find nor
rule out much. So every attack result, and every assessment, ends in one of
three verdicts, decided by a documented rule (``docs/risk.md``):

``"problem found"``
    The attack's epsilon estimate lies above the reference epsilon: the
    claimed epsilon, or 0 when none is claimed (then any membership signal
    the attack can show is a finding). The estimates of all attacks of one
    assessment are Bonferroni-corrected, so at ``confidence`` 95 % a correct
    release shows this for at most one assessment in twenty *if* members and
    non-members were a random split of one population.
``"inconclusive"``
    The test lacks power: its ROC AUC interval is wider than
    :data:`MAX_AUC_INTERVAL_WIDTH` (0.1), so it cannot tell guessing (AUC
    0.5) from a clear attack advantage (0.6); or even a perfect attack on this
    many members and non-members could not show an epsilon above the
    reference. 35 members against 35 non-members (an AUC interval of about
    0.36 to 0.64 for a guessing attack) are inconclusive, never a pass.
``"no problem found"``
    A test with that power found nothing. Stronger attacks may exist.

The width is the larger of the attack's bootstrap interval and the interval a
guessing attack would have on this many records (the Mann-Whitney standard
error under no difference, Hanley and McNeil 1982), so a test does not pass
because its bootstrap was skipped or degenerate. An assessment's verdict is
"problem found" when any attack finds a problem, else "no problem found" when
at least one attack was conclusive, else "inconclusive": an attack without
power adds no evidence either way and is listed by name.

Example
-------
>>> verdict_of_attack(epsilon_estimate=0.0, auc_ci=(0.32, 0.61), n_members=35,
...                   n_nonmembers=35, epsilon=1.0)[0]
'inconclusive'
>>> verdict_of_attack(epsilon_estimate=0.0, auc_ci=(0.49, 0.52), n_members=5000,
...                   n_nonmembers=5000, epsilon=1.0)[0]
'no problem found'
>>> round(auc_width_when_guessing(35, 35), 2)
0.27
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats

from privsynth._checks import check_int, check_number
from privsynth.risk.audit_bound import max_demonstrable_epsilon

NO_PROBLEM = "no problem found"
INCONCLUSIVE = "inconclusive"
PROBLEM = "problem found"
#: The three verdicts, from best to worst.
VERDICTS: tuple[str, ...] = (NO_PROBLEM, INCONCLUSIVE, PROBLEM)
#: Widest AUC interval of a conclusive test: a wider one cannot tell guessing (0.5)
#: from a clear advantage (0.6). A guessing attack needs about 260 members and as
#: many non-members to get below it.
MAX_AUC_INTERVAL_WIDTH = 0.1


def auc_width_when_guessing(n_members: int, n_nonmembers: int,
                            confidence: float = 0.95) -> float:
    """Width of the normal ``confidence`` interval of the AUC of a guessing attack.

    Under no difference between members and non-members the AUC's standard
    error is ``sqrt((m + n + 1) / (12 m n))`` (the Mann-Whitney statistic's,
    Hanley and McNeil 1982); the width is ``2 z`` times that.

    >>> round(auc_width_when_guessing(1000, 1000), 3)
    0.051
    """
    m = check_int("n_members", n_members, lo=1)
    n = check_int("n_nonmembers", n_nonmembers, lo=1)
    c = check_number("confidence", confidence, lo=0, hi=1, lo_open=True, hi_open=True)
    z = float(stats.norm.ppf(0.5 + c / 2))
    return 2.0 * z * math.sqrt((m + n + 1) / (12.0 * m * n))


def verdict_of_attack(
    *,
    epsilon_estimate: float,
    auc_ci: Sequence[float],
    n_members: int,
    n_nonmembers: int,
    epsilon: float | None,
    delta: float = 0.0,
    confidence: float = 0.95,
) -> tuple[str, str]:
    """The verdict of one attack and one sentence saying why (no count of records in it).

    Parameters
    ----------
    epsilon_estimate : float
        The attack's empirical epsilon estimate, at ``confidence``.
    auc_ci : (float, float)
        Its AUC interval (bootstrap; equal ends when the bootstrap was skipped).
    n_members, n_nonmembers : int
        Sizes of the evaluation sets.
    epsilon : float or None
        The claimed epsilon; None compares with 0 (any membership signal).
    delta : float
        The claimed delta.
    confidence : float
        Confidence of the estimate (after the Bonferroni correction).
    """
    reference = 0.0 if epsilon is None else float(epsilon)
    claim = ("no epsilon was claimed, so any membership signal counts" if epsilon is None
             else f"the claimed epsilon is {reference:g}")
    if epsilon_estimate > reference:
        return PROBLEM, (f"its empirical epsilon estimate {epsilon_estimate:.3g} lies above "
                         f"{reference:g} ({claim}); a correct release makes this unlikely, "
                         "so look for a bug, a wrong accounting or a non-private step")
    perfect = max_demonstrable_epsilon(n_members, n_nonmembers, delta, confidence)
    if perfect <= reference:
        return INCONCLUSIVE, ("too few members and non-members: even a perfect attack on this "
                              f"evaluation could not show an epsilon above {reference:g}; give "
                              "a larger holdout or a larger max_records")
    width = max(float(auc_ci[1]) - float(auc_ci[0]),
                auc_width_when_guessing(n_members, n_nonmembers))
    if width > MAX_AUC_INTERVAL_WIDTH:
        return INCONCLUSIVE, (f"the test lacks power: its AUC interval is wider than "
                              f"{MAX_AUC_INTERVAL_WIDTH:g}, so it cannot tell guessing from a "
                              "clear attack advantage; give a larger holdout (a few hundred "
                              "non-members at least)")
    return NO_PROBLEM, (f"its empirical epsilon estimate is not above {reference:g} and the "
                        "test had the power to show a clear advantage; stronger attacks may "
                        "exist")


def overall_verdict(verdicts: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """The assessment's verdict from its attacks' ``(name, verdict)`` pairs, and why.

    >>> overall_verdict([("distance", NO_PROBLEM), ("shadow", INCONCLUSIVE)])
    ('no problem found', 'No attack found a problem; conclusive: distance; inconclusive \
(too little power to count either way): shadow.')
    """
    found = [name for name, v in verdicts if v == PROBLEM]
    conclusive = [name for name, v in verdicts if v == NO_PROBLEM]
    weak = [name for name, v in verdicts if v == INCONCLUSIVE]
    weak_text = ("; inconclusive (too little power to count either way): " + ", ".join(weak)
                 if weak else "")
    if found:
        return PROBLEM, f"Problem found by: {', '.join(found)}."
    if conclusive:
        return NO_PROBLEM, ("No attack found a problem; conclusive: " + ", ".join(conclusive)
                            + weak_text + ".")
    if not verdicts:
        return INCONCLUSIVE, "No attack was run."
    return INCONCLUSIVE, ("No attack had the power to find a problem or rule one out: "
                          + ", ".join(weak) + ".")


__all__ = [
    "INCONCLUSIVE",
    "MAX_AUC_INTERVAL_WIDTH",
    "NO_PROBLEM",
    "PROBLEM",
    "VERDICTS",
    "auc_width_when_guessing",
    "overall_verdict",
    "verdict_of_attack",
]

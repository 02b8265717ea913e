"""Success rates of the anonymisation attacks, their intervals and the normalised risk.

Each of the three anonymisation criteria (singling out, linkability,
inference; see :mod:`privsynth.risk.criteria`) is measured by one attack run
twice with the same synthetic data: once against the **members** (the rows the
synthesizer was fitted on) and once against a **control** set (rows of the
same population that the synthesizer never saw). The control run measures
what the synthetic data teach about the *population*, which is the purpose of
a release; only the excess of the member run over the control run is
evidence of something learnt about the *people in the data*.

Arithmetic
----------
success rate
    successes / attacks, with a two-sided **Wilson score interval**
    (Wilson 1927): unlike the normal approximation it stays inside [0, 1] and
    keeps its coverage near 0 and 1, where these rates often are.
normalised risk
    ``(s - c) / (1 - c)`` for member rate ``s`` and control rate ``c``, clipped
    to [0, 1]: of what the attacker could still gain over the control
    baseline (``1 - c``), the share that the member run did gain. 0 means the
    attack did no better on members than on strangers; 1 means it succeeded
    on every member where it could. This normalisation follows the
    member-versus-control design of Giomi et al. (PoPETs 2023).
risk interval
    Each rate gets a Wilson interval at confidence ``1 - (1 - confidence)/2``
    (a Bonferroni split, valid whether or not the two runs are correlated),
    and the risk's interval runs from ``risk(s_low, c_high)`` to
    ``risk(s_high, c_low)``: the risk rises with ``s`` and falls with ``c``, so
    this interval holds with at least the stated confidence.

Example
-------
>>> r = score_attack("singling_out", member_successes=900, n_member=1000,
...                  control_successes=100, n_control=1000, columns=["age"])
>>> round(r.risk, 3), round(r.success_rate, 2), round(r.control_rate, 2)
(0.889, 0.9, 0.1)
>>> r.risk_ci[0] < r.risk < r.risk_ci[1]
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy import stats

from privsynth._checks import check_int, check_number
from privsynth.errors import DataValidationError, ParameterError

#: Name of the interval method, written into every result.
INTERVAL = "wilson"
#: The three criteria, in the order the report shows them.
CRITERIA: tuple[str, ...] = ("singling_out", "linkability", "inference")


def plain(value: Any, where: str) -> Any:
    """``value`` with numpy scalars and tuples turned into JSON types (checked).

    >>> import numpy as np
    >>> plain({"a": (np.float64(0.5), 1)}, "x")
    {'a': [0.5, 1]}
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DataValidationError(f"{where}: non-finite number {value!r} is not valid JSON")
        return float(value)
    if hasattr(value, "item") and callable(value.item) and getattr(value, "shape", None) == ():
        return plain(value.item(), where)
    if isinstance(value, Mapping):
        return {str(k): plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise DataValidationError(f"{where}: {type(value).__name__} is not a JSON type")


def check_confidence(confidence: object) -> float:
    """``confidence`` as a float in (0, 1), else ParameterError."""
    return check_number("confidence", confidence, lo=0.0, hi=1.0, lo_open=True, hi_open=True)


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Wilson score interval of a binomial success rate.

    Parameters
    ----------
    successes, trials : int
        Observed successes out of ``trials`` (``trials >= 1``).
    confidence : float
        Coverage of the interval, e.g. 0.95.

    Returns
    -------
    (low, high) : tuple of float
        Inside [0, 1]; ``low`` is 0 when there is no success and ``high`` is 1
        when every trial succeeded.

    Examples
    --------
    >>> lo, hi = wilson_interval(50, 100)
    >>> round(lo, 4), round(hi, 4)
    (0.4038, 0.5962)
    >>> wilson_interval(0, 10)[0], wilson_interval(10, 10)[1]
    (0.0, 1.0)
    """
    n = check_int("trials", trials, lo=1)
    k = check_int("successes", successes, lo=0, hi=n)
    conf = check_confidence(confidence)
    z = float(stats.norm.ppf(0.5 + conf / 2.0))
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


def normalised_risk(success_rate: float, control_rate: float) -> float:
    """``(s - c) / (1 - c)`` clipped to [0, 1]: the member run's excess over the control.

    When the control run already succeeds every time (``c = 1``) nothing is
    left to gain and the risk is 0.

    Examples
    --------
    >>> normalised_risk(0.75, 0.5), normalised_risk(0.1, 0.2), normalised_risk(1.0, 1.0)
    (0.5, 0.0, 0.0)
    """
    s = check_number("success_rate", success_rate, lo=0.0, hi=1.0)
    c = check_number("control_rate", control_rate, lo=0.0, hi=1.0)
    if c >= 1.0:
        return 0.0
    return min(1.0, max(0.0, (s - c) / (1.0 - c)))


@dataclass(frozen=True)
class CriterionResult:
    """What one anonymisation criterion's attack achieved on members and on control.

    Attributes
    ----------
    name : str
        ``"singling_out"``, ``"linkability"`` or ``"inference"``.
    risk : float
        Normalised risk in [0, 1] (see the module docstring).
    risk_ci : (float, float)
        Interval of the risk at ``confidence``.
    success_rate, success_ci
        Share of attacks on members that succeeded, with its Wilson interval.
    control_rate, control_ci
        The same on the control set (the population baseline).
    n_attacks : int
        Attacks on the members (the same number on the control set).
    columns : tuple of str
        Columns the attacker used.
    confidence : float
        Coverage of the intervals.
    secret : str or None
        Inference only: the secret column of the worst case.
    details : dict
        Criterion-specific JSON details (e.g. every secret's result).
    notes : tuple of str
        How the attack was set up, and anything that weakens the reading.
    interval : str
        ``"wilson"``.
    """

    name: str
    risk: float
    risk_ci: tuple[float, float]
    success_rate: float
    success_ci: tuple[float, float]
    control_rate: float
    control_ci: tuple[float, float]
    n_attacks: int
    columns: tuple[str, ...]
    confidence: float = 0.95
    secret: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    interval: str = INTERVAL

    def __post_init__(self) -> None:
        for name in ("risk", "success_rate", "control_rate", "confidence"):
            object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("risk_ci", "success_ci", "control_ci"):
            pair = tuple(float(x) for x in getattr(self, name))
            if len(pair) != 2 or not 0.0 <= pair[0] <= pair[1] <= 1.0:
                raise DataValidationError(
                    f"criterion {self.name!r}: {name} must be two numbers 0 <= low <= high <= 1")
            object.__setattr__(self, name, pair)
        for name in ("risk", "success_rate", "control_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise DataValidationError(f"criterion {self.name!r}: {name} must lie in [0, 1]")
        object.__setattr__(self, "n_attacks", int(self.n_attacks))
        object.__setattr__(self, "columns", tuple(str(c) for c in self.columns))
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes))
        object.__setattr__(self, "details", plain(self.details, f"criterion {self.name!r}"))
        if self.secret is not None:
            object.__setattr__(self, "secret", str(self.secret))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (``secret`` only for inference)."""
        out: dict[str, Any] = {
            "risk": self.risk,
            "risk_ci": list(self.risk_ci),
            "success_rate": self.success_rate,
            "success_ci": list(self.success_ci),
            "control_rate": self.control_rate,
            "control_ci": list(self.control_ci),
            "n_attacks": self.n_attacks,
            "columns": list(self.columns),
            "confidence": self.confidence,
            "interval": self.interval,
        }
        if self.name == "inference" or self.secret is not None:
            out["secret"] = self.secret
        out["details"] = dict(self.details)
        out["notes"] = list(self.notes)
        return plain(out, f"criterion {self.name!r}")

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> CriterionResult:
        """Inverse of :meth:`to_dict` (the name is the key the dictionary was stored under)."""
        try:
            return cls(
                name=str(name),
                risk=float(data["risk"]),
                risk_ci=(float(data["risk_ci"][0]), float(data["risk_ci"][1])),
                success_rate=float(data["success_rate"]),
                success_ci=(float(data["success_ci"][0]), float(data["success_ci"][1])),
                control_rate=float(data["control_rate"]),
                control_ci=(float(data["control_ci"][0]), float(data["control_ci"][1])),
                n_attacks=int(data["n_attacks"]),
                columns=tuple(data["columns"]),
                confidence=float(data.get("confidence", 0.95)),
                secret=data.get("secret"),
                details=dict(data.get("details", {})),
                notes=tuple(data.get("notes", ())),
                interval=str(data.get("interval", INTERVAL)),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise DataValidationError(
                f"malformed {name!r} entry in the anonymisation criteria: {exc!r}") from exc


def score_attack(
    name: str,
    member_successes: int,
    n_member: int,
    control_successes: int,
    n_control: int,
    *,
    columns: Sequence[str],
    confidence: float = 0.95,
    control_scale: float = 1.0,
    secret: str | None = None,
    details: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
) -> CriterionResult:
    """Turn the success counts of one attack into a :class:`CriterionResult`.

    Parameters
    ----------
    name : str
        The criterion.
    member_successes, n_member : int
        Successful attacks on the members, out of ``n_member``.
    control_successes, n_control : int
        The same on the control set.
    columns : sequence of str
        Columns the attacker used.
    confidence : float
        Coverage of every interval.
    control_scale : float
        Factor (>= 1) applied to the control rate and its interval, capped at 1.
        Singling out uses it when the control set is smaller than the training
        data: isolating one of ``n`` rows is likelier in a larger set, and the
        scaled rate is an upper bound on the rate in a control set as large as
        the training data (so the risk is, if anything, understated).
    secret, details, notes
        Stored as given.

    Returns
    -------
    CriterionResult

    Examples
    --------
    >>> r = score_attack("linkability", 10, 100, 10, 100, columns=["a", "b"])
    >>> r.risk, r.risk_ci[0]
    (0.0, 0.0)
    """
    check_int("n_member", n_member, lo=1)
    check_int("n_control", n_control, lo=1)
    conf = check_confidence(confidence)
    scale = check_number("control_scale", control_scale, lo=1.0)
    if name not in CRITERIA:
        raise ParameterError(f"name={name!r}; allowed: one of {list(CRITERIA)}")
    s = member_successes / n_member
    c = min(1.0, scale * control_successes / n_control)
    s_ci = wilson_interval(member_successes, n_member, conf)
    c_lo, c_hi = wilson_interval(control_successes, n_control, conf)
    c_ci = (min(1.0, scale * c_lo), min(1.0, scale * c_hi))
    # Bonferroni: both rates inside their intervals with probability >= confidence
    split = 1.0 - (1.0 - conf) / 2.0
    s_lo2, s_hi2 = wilson_interval(member_successes, n_member, split)
    c_lo2, c_hi2 = wilson_interval(control_successes, n_control, split)
    c_lo2, c_hi2 = min(1.0, scale * c_lo2), min(1.0, scale * c_hi2)
    risk = normalised_risk(s, c)
    risk_ci = (min(risk, normalised_risk(s_lo2, c_hi2)), max(risk, normalised_risk(s_hi2, c_lo2)))
    return CriterionResult(
        name=name, risk=risk, risk_ci=risk_ci, success_rate=s, success_ci=s_ci,
        control_rate=c, control_ci=c_ci, n_attacks=n_member, columns=tuple(columns),
        confidence=conf, secret=secret, details=dict(details or {}), notes=tuple(notes))


def no_attack(name: str, columns: Sequence[str], confidence: float,
              details: Mapping[str, Any], notes: Sequence[str]) -> CriterionResult:
    """The result of an attack that could not be mounted: risk 0, every interval [0, 1].

    >>> no_attack("singling_out", ["a"], 0.95, {}, ["nothing to bet on"]).n_attacks
    0
    """
    return CriterionResult(
        name=name, risk=0.0, risk_ci=(0.0, 1.0), success_rate=0.0, success_ci=(0.0, 1.0),
        control_rate=0.0, control_ci=(0.0, 1.0), n_attacks=0, columns=tuple(columns),
        confidence=confidence, details=details, notes=tuple(notes))


__all__ = [
    "CRITERIA",
    "INTERVAL",
    "CriterionResult",
    "no_attack",
    "normalised_risk",
    "score_attack",
    "wilson_interval",
]

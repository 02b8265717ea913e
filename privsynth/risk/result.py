"""The results of the risk assessment: plain values, JSON in and out.

:class:`AttackResult` holds the scores of one membership-inference attack;
:class:`RiskResult` gathers every attack, the distance diagnostics, the
claimed (epsilon, delta) and the caveats, and is what the audit report reads.
Both are frozen and hold only JSON types (str, int, float, bool, None, lists
and dicts), so ``RiskResult.from_dict(r.to_dict()) == r``.

Nothing in them is a per-record value: AUCs, rates, estimates, quantiles and
a ROC curve of at most 101 points. Every attack, and the whole assessment,
carries a verdict (``"no problem found"``, ``"inconclusive"`` or ``"problem
found"``, see :mod:`privsynth.risk.verdict`) with one sentence saying why.

Example
-------
>>> a = AttackResult(name="distance", description="closeness to the synthetic data",
...     n_members=100, n_nonmembers=100, auc=0.5, auc_ci=(0.42, 0.58),
...     tpr_at_fpr={"0.01": None}, epsilon_lower_bound=0.0,
...     roc_fpr=(0.0, 1.0), roc_tpr=(0.0, 1.0))
>>> r = RiskResult(attacks=(a,), diagnostics={}, claimed_epsilon=1.0)
>>> RiskResult.from_json(r.to_json()) == r
True
>>> r.exceeds_claim, r.verdict
(False, 'inconclusive')
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privsynth.errors import DataValidationError
from privsynth.risk.criteria import CriteriaResult
from privsynth.risk.verdict import INCONCLUSIVE, VERDICTS, overall_verdict

RISK_FORMAT = "privsynth.risk"
#: Version 2 added the verdicts and the per-attack confidence; version 1 is still read.
RISK_VERSION = 2
_READABLE_VERSIONS = (1, 2)
#: The reason of a verdict that was never computed (results built by hand, version 1 files).
NOT_ASSESSED = ("no verdict was computed for this result (built by hand or read from a "
                "version 1 file); run the assessment again")


def _plain(value: Any, where: str) -> Any:
    """``value`` with numpy scalars and tuples turned into JSON types (checked)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DataValidationError(f"{where}: non-finite number {value!r} is not valid JSON")
        return float(value)
    if hasattr(value, "item") and callable(value.item) and getattr(value, "shape", None) == ():
        return _plain(value.item(), where)
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise DataValidationError(f"{where}: {type(value).__name__} is not a JSON type")


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


@dataclass(frozen=True)
class AttackResult:
    """How well one membership-inference attack did.

    Attributes
    ----------
    name : str
        ``"distance"``, ``"density"`` or ``"shadow"``.
    description : str
        One sentence on what the attack does.
    n_members, n_nonmembers : int
        Sizes of the evaluation sets (balanced).
    auc : float
        ROC AUC; 0.5 is guessing, 1 is perfect.
    auc_ci : (float, float)
        95 % bootstrap interval of the AUC.
    tpr_at_fpr : dict
        True positive rate at each false positive rate (keys like ``"0.001"``);
        None when the evaluation set has too few non-members for that rate.
    epsilon_lower_bound : float
        The attack's empirical epsilon estimate at ``confidence``: a
        diagnostic, not a bound anyone can rely on, because members and
        non-members of one release are not independent trials (see
        :mod:`privsynth.risk.audit_bound`).
    roc_fpr, roc_tpr : tuple of float
        The ROC curve on at most 101 points (for plotting).
    notes : tuple of str
        Why some numbers are missing, and how the attack was configured.
    confidence : float
        Confidence of the estimate, after the Bonferroni correction for the
        number of attacks whose best is reported.
    verdict : str
        ``"no problem found"``, ``"inconclusive"`` or ``"problem found"``
        (:mod:`privsynth.risk.verdict`).
    verdict_reason : str
        One sentence saying why, with no count of records in it.
    """

    name: str
    description: str
    n_members: int
    n_nonmembers: int
    auc: float
    auc_ci: tuple[float, float]
    tpr_at_fpr: Mapping[str, float | None]
    epsilon_lower_bound: float
    roc_fpr: tuple[float, ...]
    roc_tpr: tuple[float, ...]
    notes: tuple[str, ...] = ()
    confidence: float = 0.95
    verdict: str = INCONCLUSIVE
    verdict_reason: str = NOT_ASSESSED

    def __post_init__(self) -> None:
        # normalise to plain Python types so equality survives a JSON round trip
        object.__setattr__(self, "auc_ci", tuple(float(x) for x in self.auc_ci))
        object.__setattr__(self, "tpr_at_fpr", {
            str(k): (None if v is None else float(v)) for k, v in self.tpr_at_fpr.items()})
        object.__setattr__(self, "roc_fpr", tuple(float(x) for x in self.roc_fpr))
        object.__setattr__(self, "roc_tpr", tuple(float(x) for x in self.roc_tpr))
        object.__setattr__(self, "notes", tuple(str(x) for x in self.notes))
        object.__setattr__(self, "auc", float(self.auc))
        object.__setattr__(self, "epsilon_lower_bound", float(self.epsilon_lower_bound))
        object.__setattr__(self, "n_members", int(self.n_members))
        object.__setattr__(self, "n_nonmembers", int(self.n_nonmembers))
        object.__setattr__(self, "confidence", float(self.confidence))
        object.__setattr__(self, "verdict_reason", str(self.verdict_reason))
        if self.verdict not in VERDICTS:
            raise DataValidationError(f"attack {self.name!r}: verdict must be one of "
                                      f"{list(VERDICTS)}, got {self.verdict!r}")
        if len(self.auc_ci) != 2:
            raise DataValidationError(f"attack {self.name!r}: auc_ci must hold two numbers")
        if len(self.roc_fpr) != len(self.roc_tpr):
            raise DataValidationError(f"attack {self.name!r}: roc_fpr and roc_tpr differ in length")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return _plain({
            "name": self.name,
            "description": self.description,
            "n_members": self.n_members,
            "n_nonmembers": self.n_nonmembers,
            "auc": self.auc,
            "auc_ci": list(self.auc_ci),
            "tpr_at_fpr": dict(self.tpr_at_fpr),
            "epsilon_lower_bound": self.epsilon_lower_bound,
            "roc": {"fpr": list(self.roc_fpr), "tpr": list(self.roc_tpr)},
            "notes": list(self.notes),
            "confidence": self.confidence,
            "verdict": self.verdict,
            "verdict_reason": self.verdict_reason,
        }, f"attack {self.name!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttackResult:
        """Inverse of :meth:`to_dict`, with a precise error for a malformed entry."""
        try:
            roc = data["roc"]
            return cls(
                name=str(data["name"]),
                description=str(data["description"]),
                n_members=int(data["n_members"]),
                n_nonmembers=int(data["n_nonmembers"]),
                auc=float(data["auc"]),
                auc_ci=(float(data["auc_ci"][0]), float(data["auc_ci"][1])),
                tpr_at_fpr=dict(data["tpr_at_fpr"]),
                epsilon_lower_bound=float(data["epsilon_lower_bound"]),
                roc_fpr=tuple(roc["fpr"]),
                roc_tpr=tuple(roc["tpr"]),
                notes=tuple(data.get("notes", ())),
                confidence=float(data.get("confidence", 0.95)),
                verdict=str(data.get("verdict", INCONCLUSIVE)),
                verdict_reason=str(data.get("verdict_reason", NOT_ASSESSED)),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise DataValidationError(f"malformed attack entry in a risk result: {exc!r}") from exc


@dataclass(frozen=True)
class RiskResult:
    """Empirical privacy risk of a synthetic release (consumed by the audit report).

    Attributes
    ----------
    attacks : tuple of AttackResult
        One entry per membership-inference attack that was run.
    diagnostics : dict
        Distance diagnostics (see :func:`privsynth.risk.distance_diagnostics`).
    claimed_epsilon : float or None
        The epsilon the release claims, when known.
    claimed_delta : float
        The delta of the claim.
    tpr_upper_bound : dict or None
        Highest TPR any attack can reach at each FPR under the claim (keys like
        ``"0.01"``); None without a claimed epsilon.
    caveats : tuple of str
        What the numbers do and do not show. Always includes that the
        distance diagnostics are not proof of privacy.
    settings : dict
        How the assessment was run (sizes, subsampling, seeds, confidence,
        ``n_tests`` and the per-attack ``confidence_per_attack``).
    criteria : CriteriaResult or None
        The anonymisation criteria of the Article 29 Working Party (singling
        out, linkability, inference; :mod:`privsynth.risk.criteria`); None
        when they were not run.

    The properties :attr:`verdict`, :attr:`verdict_reason` and :attr:`n_tests`
    are derived from the attacks (and written by :meth:`to_dict`).
    """

    attacks: tuple[AttackResult, ...]
    diagnostics: Mapping[str, Any]
    claimed_epsilon: float | None = None
    claimed_delta: float = 0.0
    tpr_upper_bound: Mapping[str, float] | None = None
    caveats: tuple[str, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)
    criteria: CriteriaResult | None = None

    def __post_init__(self) -> None:
        if self.criteria is not None and not isinstance(self.criteria, CriteriaResult):
            raise DataValidationError("RiskResult.criteria must be a CriteriaResult or None")
        object.__setattr__(self, "attacks", tuple(self.attacks))
        for a in self.attacks:
            if not isinstance(a, AttackResult):
                raise DataValidationError("RiskResult.attacks must hold AttackResult values")
        object.__setattr__(self, "diagnostics", _plain(self.diagnostics, "diagnostics"))
        object.__setattr__(self, "settings", _plain(self.settings, "settings"))
        object.__setattr__(self, "caveats", tuple(str(c) for c in self.caveats))
        if self.claimed_epsilon is not None:
            object.__setattr__(self, "claimed_epsilon", float(self.claimed_epsilon))
        object.__setattr__(self, "claimed_delta", float(self.claimed_delta))
        if self.tpr_upper_bound is not None:
            object.__setattr__(self, "tpr_upper_bound", {
                str(k): float(v) for k, v in self.tpr_upper_bound.items()})

    # -- reading -----------------------------------------------------------
    def attack(self, name: str) -> AttackResult:
        """The result of the attack called ``name``."""
        for a in self.attacks:
            if a.name == name:
                return a
        raise KeyError(f"no attack {name!r} in this result; attacks are "
                       f"{[a.name for a in self.attacks]}")

    @property
    def max_epsilon_lower_bound(self) -> float:
        """The largest empirical epsilon estimate over all attacks (0 without attacks).

        Each estimate is Bonferroni-corrected for the number of attacks, so the
        largest holds at the assessment's ``confidence``; still a diagnostic.
        """
        return max((a.epsilon_lower_bound for a in self.attacks), default=0.0)

    @property
    def exceeds_claim(self) -> bool | None:
        """True if some attack's empirical epsilon estimate lies above the claimed epsilon.

        Evidence against the claim (a privacy bug, or a wrong claim), not a
        proof; the verdict is then "problem found". None when no epsilon is
        claimed.
        """
        if self.claimed_epsilon is None:
            return None
        return self.max_epsilon_lower_bound > self.claimed_epsilon

    @property
    def verdict(self) -> str:
        """The assessment's verdict: "problem found" when any attack found one, else
        "no problem found" when at least one attack had the power to find one, else
        "inconclusive" (:func:`privsynth.risk.verdict.overall_verdict`)."""
        return overall_verdict([(a.name, a.verdict) for a in self.attacks])[0]

    @property
    def verdict_reason(self) -> str:
        """Why, naming the attacks behind the verdict (no count of records)."""
        return overall_verdict([(a.name, a.verdict) for a in self.attacks])[1]

    @property
    def n_tests(self) -> int:
        """How many attacks the Bonferroni correction covers (the attacks run)."""
        return len(self.attacks)

    # -- serialization -----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON-ready form (``verdict``, ``verdict_reason`` and ``n_tests``
        are written for readers; they are recomputed from the attacks when read)."""
        return {
            "format": RISK_FORMAT,
            "version": RISK_VERSION,
            "verdict": self.verdict,
            "verdict_reason": self.verdict_reason,
            "n_tests": self.n_tests,
            "claimed_epsilon": self.claimed_epsilon,
            "claimed_delta": self.claimed_delta,
            "tpr_upper_bound": None if self.tpr_upper_bound is None
            else dict(self.tpr_upper_bound),
            "attacks": [a.to_dict() for a in self.attacks],
            "diagnostics": _plain(self.diagnostics, "diagnostics"),
            "caveats": list(self.caveats),
            "settings": _plain(self.settings, "settings"),
            "criteria": None if self.criteria is None else self.criteria.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RiskResult:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, Mapping):
            raise DataValidationError(f"a risk result must be a JSON object, "
                                      f"got {type(data).__name__}")
        if data.get("format") != RISK_FORMAT:
            raise DataValidationError(f"not a privsynth risk result (format "
                                      f"{data.get('format')!r}, expected {RISK_FORMAT!r})")
        if data.get("version") not in _READABLE_VERSIONS:
            raise DataValidationError(
                f"risk result version {data.get('version')!r} is not supported "
                f"(this privsynth reads versions {', '.join(map(str, _READABLE_VERSIONS))}); "
                "run the assessment again with this version")
        try:
            return cls(
                attacks=tuple(AttackResult.from_dict(a) for a in data["attacks"]),
                diagnostics=dict(data["diagnostics"]),
                claimed_epsilon=data.get("claimed_epsilon"),
                claimed_delta=float(data.get("claimed_delta", 0.0)),
                tpr_upper_bound=data.get("tpr_upper_bound"),
                caveats=tuple(data.get("caveats", ())),
                settings=dict(data.get("settings", {})),
                criteria=None if data.get("criteria") is None
                else CriteriaResult.from_dict(data["criteria"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataValidationError(f"malformed risk result: {exc!r}") from exc

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """Serialize to JSON text; also write it to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> RiskResult:
        """Read a result written by :meth:`to_json` (JSON text or a file path)."""
        if isinstance(text_or_path, Path) or not str(text_or_path).lstrip().startswith("{"):
            try:
                text = Path(text_or_path).read_text(encoding="utf-8")
            except OSError as exc:
                raise DataValidationError(f"cannot read risk result {text_or_path}: {exc}") \
                    from exc
        else:
            text = str(text_or_path)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataValidationError(f"a risk result is not valid JSON: {exc.msg}") from exc
        return cls.from_dict(data)


__all__ = ["NOT_ASSESSED", "RISK_FORMAT", "RISK_VERSION", "AttackResult", "RiskResult",
           "about"]

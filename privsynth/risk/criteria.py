"""The three anonymisation criteria of the Article 29 Working Party, measured on a release.

Data protection authorities in the EU read anonymisation through three risks
named in the Article 29 Working Party's Opinion 05/2014 on anonymisation
techniques (WP216): can a person be **singled out**, can records about a
person be **linked**, can attributes of a person be **inferred**. This module
measures each with an attack on the synthetic release:

- :mod:`~privsynth.risk.singling_out` (after Cohen and Nissim, PNAS 2020):
  predicates built from the synthetic data that isolate one training record;
- :mod:`~privsynth.risk.linkability`: joining two halves of a person's record
  through the synthetic data;
- :mod:`~privsynth.risk.inference_attack` (after Stadler, Oprisanu and
  Troncoso, USENIX Security 2022): guessing a secret column from the others.

Every attack runs twice with the same synthetic data, against the members
(training rows) and against a control set of the same population that the
synthesizer never saw, and the result is the normalised excess of the first
over the second (:mod:`~privsynth.risk.success_rate`). The control run is
what the release teaches about the population, which is its purpose; the
excess is what it gives away about the people in it.

These are **evidence, not proof**: a low risk means these attacks found
little, not that no attack can; differential privacy is the proof. And they
are computed from the private data without differential privacy, so the
numbers belong in the steward's edition of the audit report.

Example
-------
>>> import numpy as np, pandas as pd
>>> from privsynth.schema import Schema
>>> s = Schema.from_dict({"columns": [
...     {"name": "x", "kind": "integer", "lower": 0, "upper": 999},
...     {"name": "z", "kind": "integer", "lower": 0, "upper": 999},
...     {"name": "y", "kind": "categorical", "categories": ["a", "b"]}]})
>>> rng = np.random.default_rng(0)
>>> def sample(n):
...     return pd.DataFrame({"x": rng.integers(0, 1000, n), "z": rng.integers(0, 1000, n),
...                          "y": rng.choice(["a", "b"], n)})
>>> train, control = sample(300), sample(300)
>>> copy = assess_criteria(train, control, train, s, n_attacks=200)
>>> {k: v["risk"] > 0.5 for k, v in copy.to_dict().items()}
{'singling_out': True, 'linkability': True, 'inference': True}
>>> fresh = assess_criteria(train, control, sample(300), s, n_attacks=200)
>>> max(c.risk for c in fresh) < 0.2
True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from privsynth._checks import check_bool, check_int
from privsynth.errors import DataValidationError
from privsynth.risk._encode import Encoded, encode
from privsynth.risk.inference_attack import check_secrets, default_secrets, inference_encoded
from privsynth.risk.linkability import check_columns_pair, equal_sets, linkability_encoded
from privsynth.risk.singling_out import (
    DEFAULT_ATTACKS,
    DEFAULT_TOLERANCE,
    check_tolerance,
    singling_out_encoded,
)
from privsynth.risk.success_rate import CRITERIA, CriterionResult, check_confidence, no_attack
from privsynth.schema import Schema

#: Rows of the training data and the synthetic data the singling-out attack
#: works on, as a multiple of ``max_records`` (larger tables are cut at random).
LARGE_DATA_FACTOR = 10


@dataclass(frozen=True)
class CriteriaResult:
    """The three criteria of one release.

    Attributes
    ----------
    singling_out, linkability, inference : CriterionResult
        One result per criterion.
    caveats : tuple of str
        What the numbers do and do not show (not part of :meth:`to_dict`,
        whose keys are exactly the three criteria, nor of equality; the risk
        assessment adds them to its own caveats).
    """

    singling_out: CriterionResult
    linkability: CriterionResult
    inference: CriterionResult
    caveats: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        for name in CRITERIA:
            value = getattr(self, name)
            if not isinstance(value, CriterionResult) or value.name != name:
                raise DataValidationError(f"CriteriaResult.{name} must be the CriterionResult "
                                          f"named {name!r}")
        object.__setattr__(self, "caveats", tuple(str(c) for c in self.caveats))

    def __iter__(self) -> Iterator[CriterionResult]:
        return iter((self.singling_out, self.linkability, self.inference))

    def to_dict(self) -> dict[str, Any]:
        """``{"singling_out": {...}, "linkability": {...}, "inference": {...}}``."""
        return {c.name: c.to_dict() for c in self}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CriteriaResult:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, Mapping) or set(data) != set(CRITERIA):
            raise DataValidationError(
                f"the anonymisation criteria must be an object with exactly the keys "
                f"{list(CRITERIA)}")
        parts = [CriterionResult.from_dict(name, data[name]) for name in CRITERIA]
        return cls(singling_out=parts[0], linkability=parts[1], inference=parts[2])


_STREAM = 29  # WP29

#: Risk at and above which a verdict reads "high", and below which "low".
HIGH_RISK = 0.5
LOW_RISK = 0.1
#: Power rule: "not detected" needs a risk interval that reaches 0 *and* excludes this
#: risk; a wider interval (too few people, or a secret column that is almost fully
#: predictable from the others) makes the verdict "inconclusive".
MAX_UNDETECTED = 0.25

VERDICTS: dict[str, str] = {
    "not measured": "the attack could not be run on this data (the notes say why)",
    "inconclusive": "no excess beyond chance was found, but the test is too small to exclude "
                    "a sizeable risk (give a larger holdout)",
    "not detected": "the attack did no better on the people in the data than on other people "
                    "of the same population (the difference is within chance)",
    "low": "the attack did slightly better on the people in the data than on others",
    "moderate": "the attack did clearly better on the people in the data than on others",
    "high": "the attack succeeded on the people in the data far more often than on others: "
            "the release gives them away",
}


def criterion_verdict(result: CriterionResult) -> str:
    """A plain reading of one criterion (the words' meanings are in :data:`VERDICTS`).

    - ``not measured``: no attack could be made;
    - ``inconclusive``: the risk's interval reaches 0 but also reaches
      :data:`MAX_UNDETECTED` (the test lacks the power to exclude a sizeable risk);
    - ``not detected``: the interval reaches 0 and stays below :data:`MAX_UNDETECTED`;
    - otherwise by the risk: below :data:`LOW_RISK` ``low``, from
      :data:`HIGH_RISK` ``high``, ``moderate`` between.

    >>> from privsynth.risk.success_rate import score_attack
    >>> criterion_verdict(score_attack("linkability", 3, 1000, 2, 1000, columns=["a", "b"]))
    'not detected'
    >>> criterion_verdict(score_attack("linkability", 3, 30, 2, 30, columns=["a", "b"]))
    'inconclusive'
    >>> criterion_verdict(score_attack("linkability", 900, 1000, 10, 1000, columns=["a", "b"]))
    'high'
    """
    if result.n_attacks == 0:
        return "not measured"
    if result.risk_ci[0] <= 0.0:
        return "inconclusive" if result.risk_ci[1] >= MAX_UNDETECTED else "not detected"
    if result.risk < LOW_RISK:
        return "low"
    return "high" if result.risk >= HIGH_RISK else "moderate"


def _cut(enc: Encoded, cap: int, rng: np.random.Generator) -> tuple[Encoded, bool]:
    if enc.n_rows <= cap:
        return enc, False
    return enc.take(np.sort(rng.choice(enc.n_rows, cap, replace=False)).astype(np.int64)), True


CAVEAT_EVIDENCE = (
    "The anonymisation criteria (singling out, linkability, inference) are measured by "
    "attacks: a low risk is evidence that these attacks found little, not proof that no "
    "attack can succeed. Differential privacy is the proof.")
CAVEAT_POPULATION = (
    "Each attack is compared with the same attack on people who were not in the training "
    "data: what the release teaches about the population (its purpose) is not counted as "
    "risk; only the excess on the people in the data is.")


#: Settings of the criteria that :func:`privsynth.risk.assess_risk` passes on.
CRITERIA_OPTIONS: tuple[str, ...] = ("known", "link_columns", "n_attacks", "tolerance", "model")


@dataclass(frozen=True)
class CriteriaOptions:
    """Checked settings of the three attacks (see :func:`criteria_options`).

    ``secrets`` or ``link_columns`` is None when the schema leaves nothing to
    attack by default (a single column, no categorical column); ``skipped``
    then says why, and that criterion is reported as not run.
    """

    secrets: tuple[str, ...] | None
    known: tuple[str, ...] | None
    link_columns: tuple[tuple[str, ...], tuple[str, ...]] | None
    n_attacks: int
    tolerance: float
    model: bool
    skipped: Mapping[str, str]

    def settings(self) -> dict[str, Any]:
        """JSON settings (public: column names and parameters only)."""
        return {
            "secrets": None if self.secrets is None else list(self.secrets),
            "known": None if self.known is None else list(self.known),
            "link_columns": None if self.link_columns is None
            else [list(self.link_columns[0]), list(self.link_columns[1])],
            "n_attacks": self.n_attacks,
            "tolerance": self.tolerance,
            "model": self.model,
        }


def criteria_options(
    schema: Schema,
    *,
    secrets: object = None,
    known: object = None,
    link_columns: object = None,
    n_attacks: object = DEFAULT_ATTACKS,
    tolerance: object = DEFAULT_TOLERANCE,
    model: object = True,
) -> CriteriaOptions:
    """Check the settings of the criteria before any data is read.

    Explicit settings that cannot work raise ParameterError; defaults that the
    schema cannot support (linkability on one column, inference without a
    categorical or boolean column) mark that criterion as skipped instead.

    Examples
    --------
    >>> from privsynth.schema import Schema
    >>> s = Schema.from_dict({"columns": [{"name": "x", "kind": "integer",
    ...                                     "lower": 0, "upper": 9}]})
    >>> sorted(criteria_options(s).skipped)
    ['inference', 'linkability']
    """
    skipped: dict[str, str] = {}
    pair = None
    if link_columns is None and len(schema.names) < 2:
        skipped["linkability"] = ("Linkability was not measured: it needs two sets of columns "
                                  "and the schema has a single column.")
    else:
        pair = check_columns_pair(schema, link_columns)
    chosen: tuple[str, ...] | None = None
    known_cols: tuple[str, ...] | None = None
    if secrets is None and (len(schema.names) < 2 or not default_secrets(schema)):
        skipped["inference"] = (
            "Inference was not measured: the schema has no categorical or boolean column to "
            "use as the secret (name the sensitive columns with secrets=).")
    else:
        chosen, known_cols = check_secrets(schema, secrets, known)
    return CriteriaOptions(
        secrets=chosen, known=known_cols, link_columns=pair,
        n_attacks=check_int("n_attacks", n_attacks, lo=1),
        tolerance=check_tolerance(tolerance), model=check_bool("model", model),
        skipped=skipped)


def criteria_encoded(
    train: Encoded,
    control: Encoded,
    synthetic: Encoded,
    schema: Schema,
    options: CriteriaOptions,
    *,
    max_records: int,
    confidence: float,
    random_state: int,
    n_jobs: int | None = None,
) -> CriteriaResult:
    """:func:`assess_criteria` on encoded tables (arguments already checked)."""
    # an own stream, distinct from the children of SeedSequence(random_state) that the
    # membership attacks use, so the two parts of an assessment draw independently
    root = np.random.SeedSequence(random_state, spawn_key=(_STREAM,))
    gens = [np.random.default_rng(s) for s in root.spawn(4)]
    caveats = [CAVEAT_EVIDENCE, CAVEAT_POPULATION, *options.skipped.values()]
    cap = LARGE_DATA_FACTOR * max_records
    universe, cut_train = _cut(train, cap, gens[0])
    syn, cut_syn = _cut(synthetic, cap, gens[0])
    ctl, _ = _cut(control, cap, gens[0])
    if cut_train or cut_syn:
        caveats.append(
            f"Large data: singling out was measured on random subsets of at most {cap} "
            f"training and synthetic rows (max_records={max_records}); a predicate that "
            "isolates a row of the subset may match other rows of the full data.")
    singling = singling_out_encoded(universe, ctl, syn, schema, n_attacks=options.n_attacks,
                                    tolerance=options.tolerance, confidence=confidence,
                                    rng=gens[1])
    members, ctl_eq = equal_sets(train, control, max_records, gens[2])
    if options.link_columns is None:
        link = no_attack("linkability", (), confidence, {},
                         [options.skipped["linkability"]])
    else:
        link = linkability_encoded(members, ctl_eq, syn, schema, columns=options.link_columns,
                                   confidence=confidence, rng=gens[2], n_jobs=n_jobs)
    if options.secrets is None:
        infer = no_attack("inference", (), confidence, {"secrets": []},
                          [options.skipped["inference"]])
    else:
        infer = inference_encoded(members, ctl_eq, syn, schema, secrets=options.secrets,
                                  known=options.known, tolerance=options.tolerance,
                                  confidence=confidence, rng=gens[3], use_model=options.model,
                                  n_jobs=n_jobs)
    return CriteriaResult(singling, link, infer, tuple(caveats))


def assess_criteria(
    train: pd.DataFrame,
    control: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    *,
    secrets: str | Sequence[str] | None = None,
    known: Sequence[str] | None = None,
    link_columns: tuple[Sequence[str], Sequence[str]] | None = None,
    n_attacks: int = DEFAULT_ATTACKS,
    tolerance: float = DEFAULT_TOLERANCE,
    max_records: int = 5000,
    model: bool = True,
    confidence: float = 0.95,
    random_state: int = 0,
    n_jobs: int | None = None,
) -> CriteriaResult:
    """Singling-out, linkability and inference risk of a synthetic release.

    Parameters
    ----------
    train : DataFrame
        The training data of the release (the members).
    control : DataFrame
        Rows of the same population that were not used for training (e.g. a
        test split): the control set.
    synthetic : DataFrame
        The release.
    schema : Schema
        Public domains; all three tables must have exactly its columns.
    secrets : str or list of str, optional
        Sensitive columns for the inference attack. Default: every
        categorical and boolean column, the worst reported.
    known : list of str, optional
        Columns the inference attacker knows. Default: all but the secret.
    link_columns : pair of lists of str, optional
        The two disjoint column sets of the linkability attack. Default: the
        schema's columns cut into a first and a second half.
    n_attacks : int
        Predicates of the singling-out attack.
    tolerance : float
        Window for numbers, as a share of the public range (singling-out
        predicates and inference guesses).
    max_records : int
        Size cap of the member and control sets of the linkability and
        inference attacks (both get the same size: the smaller table's, at
        most this); singling out uses up to ``10 * max_records`` training rows.
    model : bool
        Run the model-based inference attack (a random forest) besides the
        nearest-neighbour one.
    confidence : float
        Coverage of the intervals.
    random_state : int
        Seed of every random choice of the attacks.
    n_jobs : int or None
        Threads for the searches and the forest.

    Returns
    -------
    CriteriaResult

    Examples
    --------
    >>> import pandas as pd
    >>> from privsynth.schema import Schema
    >>> s = Schema.from_dict({"columns": [
    ...     {"name": n, "kind": "integer", "lower": 0, "upper": 99} for n in "ab"]
    ...     + [{"name": "y", "kind": "boolean"}]})
    >>> train = pd.DataFrame({"a": range(40), "b": range(40, 80), "y": [True, False] * 20})
    >>> control = pd.DataFrame({"a": range(20, 60), "b": range(10, 50), "y": [False, True] * 20})
    >>> r = assess_criteria(train, control, train, s, n_attacks=40, model=False)
    >>> [criterion_verdict(c) for c in r]
    ['high', 'high', 'high']
    """
    options = criteria_options(schema, secrets=secrets, known=known, link_columns=link_columns,
                               n_attacks=n_attacks, tolerance=tolerance, model=model)
    cap = check_int("max_records", max_records, lo=2)
    conf = check_confidence(confidence)
    seed = check_int("random_state", random_state, lo=0)
    tr = encode(train, schema, "the training data")
    co = encode(control, schema, "the control data")
    syn = encode(synthetic, schema, "the synthetic data")
    return criteria_encoded(tr, co, syn, schema, options, max_records=cap, confidence=conf,
                            random_state=seed, n_jobs=n_jobs)


__all__ = ["CRITERIA_OPTIONS", "HIGH_RISK", "LARGE_DATA_FACTOR", "LOW_RISK", "MAX_UNDETECTED",
           "VERDICTS", "CriteriaOptions", "CriteriaResult", "assess_criteria",
           "criteria_options", "criterion_verdict"]

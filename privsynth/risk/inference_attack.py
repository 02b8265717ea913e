"""Attribute inference: can the synthetic data reveal a person's secret from what is known?

The Article 29 Working Party (Opinion 05/2014) calls *inference* "the
possibility to deduce, with significant probability, the value of an
attribute from the values of a set of other attributes". The difficulty is
that deducing attributes is exactly what a useful release allows *at the
level of the population*: if the data show that most nurses are women, then
anyone can guess the sex of a nurse, whether or not that nurse's record was
used. That is statistics, not a breach of that nurse's privacy. What must not
happen is that the release lets an attacker guess better *for the people in
the training data* than for anyone else.

The attacks
-----------
The attacker knows every column of a target except one *secret* column (or
the columns the steward names) and guesses the secret in two ways, after
Stadler, Oprisanu and Troncoso ("Synthetic Data -- Anonymisation Groundhog
Day", USENIX Security 2022):

nearest neighbour
    The secret of the synthetic row closest to the target on the known
    columns (Gower distance on the public schema, ties broken at random).
    Catches releases that copy or nearly copy training rows.
model
    A random forest trained on the synthetic data (at most 10,000 rows, a
    random subset) to predict the secret from the known columns, applied to
    the target. Catches releases whose statistical model fits its training
    rows much better than the population.

A guess of a category (or boolean) is right when it equals the secret; a
guess of a number is right when it is within ``tolerance`` of the public
range (5 % by default).

Both attacks run on the members (training rows) and on a control set of the
same size and population; the risk of a secret is the larger normalised
excess of the two attacks. By default every categorical and boolean column is
a secret in turn, and the result reports the worst one.

Reading it
----------
The control success rate is the population-level inference the release
allows (often high, and the point of the release). The risk measures only
the excess on members. With many secret columns the largest of their risks
is pushed up by chance; every secret's interval is widened for the number of
secrets and attacks (Bonferroni), so an interval reaching 0 means the excess
could be chance.

Example
-------
>>> import numpy as np, pandas as pd
>>> from privsynth.schema import Schema
>>> s = Schema.from_dict({"columns": [
...     {"name": "x", "kind": "integer", "lower": 0, "upper": 999},
...     {"name": "y", "kind": "categorical", "categories": ["a", "b"]}]})
>>> rng = np.random.default_rng(0)
>>> def sample(n):
...     return pd.DataFrame({"x": rng.integers(0, 1000, n), "y": rng.choice(["a", "b"], n)})
>>> train, control = sample(300), sample(300)
>>> r = inference_risk(train, control, train, s)   # a copy: y follows from x
>>> r.secret, r.risk > 0.8
('y', True)
>>> inference_risk(train, control, sample(300), s).risk < 0.2
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth._checks import check_bool, check_int
from privsynth.columns import BooleanColumn, CategoricalColumn
from privsynth.errors import ParameterError
from privsynth.risk._encode import Encoded, encode
from privsynth.risk._nearest_many import nearest_without
from privsynth.risk._subset import check_names, numeric_mask, restrict, value_matrix
from privsynth.risk.distance import knn_encoded
from privsynth.risk.linkability import equal_sets
from privsynth.risk.singling_out import DEFAULT_TOLERANCE, check_tolerance
from privsynth.risk.success_rate import (
    CriterionResult,
    check_confidence,
    score_attack,
)
from privsynth.schema import Schema

F32 = npt.NDArray[np.float32]
B = npt.NDArray[np.bool_]

#: Trees of the model attack (fully grown: the attack should be able to memorise).
N_TREES = 30
#: The forest is trained on at most this many synthetic rows (a random subset), which
#: bounds its cost; the nearest-neighbour attack always uses every synthetic row.
MODEL_ROWS = 10_000

DESCRIPTION = (
    "the attacker knows every other column of a target and guesses the secret column from "
    "the closest synthetic row, and from a random forest trained on the synthetic data"
)


def default_secrets(schema: Schema) -> tuple[str, ...]:
    """Every categorical and boolean column of the schema.

    >>> from privsynth.schema import Schema
    >>> default_secrets(Schema.from_dict({"columns": [
    ...     {"name": "x", "kind": "integer", "lower": 0, "upper": 9},
    ...     {"name": "y", "kind": "boolean"}]}))
    ('y',)
    """
    return tuple(c.name for c in schema if isinstance(c, CategoricalColumn | BooleanColumn))


def check_secrets(schema: Schema, secrets: object, known: object) -> tuple[
        tuple[str, ...], tuple[str, ...] | None]:
    if len(schema.names) < 2:
        raise ParameterError("attribute inference needs at least two columns (known columns "
                             "and a secret); this schema has one")
    if secrets is None:
        chosen = default_secrets(schema)
        if not chosen:
            raise ParameterError("the schema has no categorical or boolean column to use as "
                                 "the default secret; name the sensitive columns with secrets=")
    else:
        chosen = check_names(schema, [secrets] if isinstance(secrets, str) else secrets,
                             "secrets")
    known_cols = None if known is None else check_names(schema, known, "known columns")
    if known_cols is not None and any(set(known_cols) <= {s} for s in chosen):
        raise ParameterError("the attacker needs at least one known column besides the "
                             "secret; add columns to known=")
    return chosen, known_cols


def _correct(guess: F32, truth: F32, tol: float) -> B:
    return np.asarray(np.abs(guess - truth) <= np.float32(tol))


def _nearest_guess(targets: Encoded, synthetic: Encoded, schema: Schema,
                   known: Sequence[str], secret_values: F32, n_jobs: int | None) -> F32:
    _, idx = knn_encoded(restrict(targets, schema, known), restrict(synthetic, schema, known),
                         1, n_jobs)
    return secret_values[idx[:, 0]]


def _model(features: F32, target: F32, numeric: bool, seed: int, n_jobs: int | None) -> Any:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestRegressor if numeric else RandomForestClassifier
    model = cls(n_estimators=N_TREES, max_features="sqrt", random_state=seed,
                n_jobs=-1 if n_jobs is None else n_jobs)
    return model.fit(features, target if numeric else target.astype(np.int64))


def _nearest_all(members: Encoded, control: Encoded, synthetic: Encoded, schema: Schema,
                 secrets: Sequence[str], n_jobs: int | None) -> dict[str, dict[str, F32]]:
    """Nearest-neighbour guesses of every secret when the attacker knows all other columns.

    One search for all secrets (:func:`~privsynth.risk._nearest_many.nearest_without`).
    """
    names = list(schema.names)
    syn = value_matrix(synthetic, schema, names)
    both = np.hstack([value_matrix(members, schema, names), value_matrix(control, schema, names)])
    idx = nearest_without(both, syn, numeric_mask(schema, names),
                          [names.index(s) for s in secrets], n_jobs)
    out = {}
    for k, secret in enumerate(secrets):
        guess = syn[names.index(secret), idx[:, k]]
        out[secret] = {"members": guess[: members.n_rows], "control": guess[members.n_rows:]}
    return out


def _secret(members: Encoded, control: Encoded, synthetic: Encoded, schema: Schema,
            secret: str, known: Sequence[str], tolerance: float, confidence: float,
            use_model: bool, rng: np.random.Generator, n_jobs: int | None,
            nearest: dict[str, F32] | None) -> dict[str, CriterionResult]:
    """Both attacks on one secret column (``nearest``: the guesses of the first, if known)."""
    is_num = bool(numeric_mask(schema, [secret])[0])
    tol = tolerance if is_num else 0.0
    secret_syn = value_matrix(synthetic, schema, [secret])[0]
    truth = {"members": value_matrix(members, schema, [secret])[0],
             "control": value_matrix(control, schema, [secret])[0]}
    targets = {"members": members, "control": control}
    guesses: dict[str, dict[str, F32]] = {"nearest_neighbour": {}}
    for side, enc in targets.items():
        guesses["nearest_neighbour"][side] = (
            nearest[side] if nearest is not None
            else _nearest_guess(enc, synthetic, schema, known, secret_syn, n_jobs))
    if use_model:
        train_rows = slice(None, MODEL_ROWS)  # the synthetic rows arrive in random order
        model = _model(value_matrix(synthetic, schema, known)[:, train_rows].T,
                       secret_syn[train_rows], is_num, int(rng.integers(2**31)), n_jobs)
        guesses["model"] = {side: np.asarray(model.predict(value_matrix(enc, schema, known).T),
                                             dtype=np.float32)
                            for side, enc in targets.items()}
    out = {}
    for attack, g in guesses.items():
        hits = {side: int(np.count_nonzero(_correct(g[side], truth[side], tol)))
                for side in targets}
        out[attack] = score_attack("inference", hits["members"], members.n_rows,
                                   hits["control"], control.n_rows,
                                   columns=(*known, secret), confidence=confidence,
                                   secret=secret, details={"attack": attack})
    return out


def inference_encoded(
    members: Encoded,
    control: Encoded,
    synthetic: Encoded,
    schema: Schema,
    *,
    secrets: Sequence[str],
    known: Sequence[str] | None,
    tolerance: float,
    confidence: float,
    rng: np.random.Generator,
    use_model: bool = True,
    n_jobs: int | None = None,
) -> CriterionResult:
    """:func:`inference_risk` on encoded tables of equal size (members, control)."""
    syn = synthetic.take(rng.permutation(synthetic.n_rows).astype(np.int64))
    n_tests = len(secrets) * (2 if use_model else 1)
    # Bonferroni over every (secret, attack) so that the worst one's interval stays honest
    wide = 1.0 - (1.0 - confidence) / n_tests
    by_secret: dict[str, dict[str, Any]] = {}
    best: CriterionResult | None = None
    nearest = None if known is not None else _nearest_all(members, control, syn, schema,
                                                          secrets, n_jobs)
    for secret in secrets:
        cols = [c for c in (known if known is not None else schema.names)
                if c != secret]
        results = _secret(members, control, syn, schema, secret, cols, tolerance, wide,
                          use_model, rng, n_jobs, None if nearest is None else nearest[secret])
        top = max(results.values(), key=lambda r: r.risk)
        by_secret[secret] = {
            "risk": top.risk, "risk_ci": list(top.risk_ci), "attack": top.details["attack"],
            **{name: {"risk": r.risk, "success_rate": r.success_rate,
                      "control_rate": r.control_rate} for name, r in results.items()}}
        if best is None or top.risk > best.risk:
            best = top
    assert best is not None  # secrets is never empty
    notes = [DESCRIPTION + "; the result is the worst secret column and the stronger attack.",
             f"Intervals are widened for {n_tests} comparisons (secrets x attacks); the "
             "success and control intervals of the worst case are shown at that width."]
    if known is not None:
        notes.append("The attacker was assumed to know only the columns named as known.")
    return CriterionResult(
        name="inference", risk=best.risk, risk_ci=best.risk_ci,
        success_rate=best.success_rate, success_ci=best.success_ci,
        control_rate=best.control_rate, control_ci=best.control_ci,
        n_attacks=best.n_attacks, columns=best.columns, confidence=confidence,
        secret=best.secret,
        details={"attack": best.details["attack"], "secrets": list(secrets),
                 "known": None if known is None else list(known),
                 "tolerance": tolerance, "by_secret": by_secret, "description": DESCRIPTION},
        notes=tuple(notes))


def inference_risk(
    train: pd.DataFrame,
    control: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    *,
    secrets: str | Sequence[str] | None = None,
    known: Sequence[str] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    max_records: int = 5000,
    model: bool = True,
    confidence: float = 0.95,
    random_state: int = 0,
    n_jobs: int | None = None,
) -> CriterionResult:
    """Attribute-inference risk of a synthetic release (see the module docstring).

    Parameters
    ----------
    train : DataFrame
        The training data of the release (the members).
    control : DataFrame
        Rows of the same population not used for training.
    synthetic : DataFrame
        The release.
    schema : Schema
        Public domains.
    secrets : str or list of str, optional
        The sensitive columns, attacked one at a time. Default: every
        categorical and boolean column.
    known : list of str, optional
        The columns the attacker knows (the secret itself is left out).
        Default: every other column.
    tolerance : float
        A number guess is right within this share of the public range.
    max_records : int
        Members and control are random subsets of one size: the smaller
        table's, at most ``max_records``.
    model : bool
        Also run the model attack (a random forest on the synthetic data).
    confidence : float
        Coverage of the intervals (before the Bonferroni widening).
    random_state : int
        Seed of the subsets, tie breaks and the forest.
    n_jobs : int or None
        Threads of the searches and the forest.

    Returns
    -------
    CriterionResult
        The worst secret (``secret``) with its stronger attack;
        ``details["by_secret"]`` holds every secret's risk and both attacks'
        rates.

    Examples
    --------
    >>> import pandas as pd
    >>> from privsynth.schema import Schema
    >>> s = Schema.from_dict({"columns": [
    ...     {"name": "x", "kind": "integer", "lower": 0, "upper": 99},
    ...     {"name": "y", "kind": "boolean"}]})
    >>> train = pd.DataFrame({"x": range(0, 60), "y": [i % 3 == 0 for i in range(60)]})
    >>> control = pd.DataFrame({"x": range(30, 90), "y": [i % 2 == 0 for i in range(60)]})
    >>> r = inference_risk(train, control, train, s, model=False)
    >>> r.secret, r.success_rate     # the copy's nearest row is the member itself
    ('y', 1.0)
    """
    chosen, known_cols = check_secrets(schema, secrets, known)
    tol = check_tolerance(tolerance)
    cap = check_int("max_records", max_records, lo=2)
    use_model = check_bool("model", model)
    conf = check_confidence(confidence)
    rng = np.random.default_rng(check_int("random_state", random_state, lo=0))
    tr = encode(train, schema, "the training data")
    co = encode(control, schema, "the control data")
    syn = encode(synthetic, schema, "the synthetic data")
    members, ctl = equal_sets(tr, co, cap, rng)
    return inference_encoded(members, ctl, syn, schema, secrets=chosen, known=known_cols,
                             tolerance=tol, confidence=conf, rng=rng, use_model=use_model,
                             n_jobs=n_jobs)


__all__ = ["default_secrets", "inference_risk"]

"""Utility of a synthetic table for machine learning: train on synthetic, test on real.

TSTR (:func:`ml_efficacy`): a scikit-learn ``HistGradientBoostingClassifier``
(categorical columns as categories, ``random_state=0``) trained on the
synthetic data, ROC AUC on a real test split; TRTR (trained on the real
training data) is the reference. scikit-learn is imported only when a model
is fitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth._checks import check_int
from privsynth._types import FloatArray
from privsynth.errors import DataValidationError, ParameterError
from privsynth.metrics._inputs import (
    KIND_BOOLEAN,
    KIND_CATEGORICAL,
    KIND_DATETIME,
    KIND_NUMERIC,
    as_float,
    check_pair,
    check_schema,
    column_kind,
    datetime_format,
    label_codes,
    subsample_rows,
)
from privsynth.schema import Schema

# HistGradientBoosting accepts at most this many categories per feature.
_HGB_MAX_CATEGORIES = 255


def _hgb_features(
    frames: Sequence[pd.DataFrame],
    features: Sequence[Any],
    kinds: dict[Any, str],
    schema: Schema | None,
) -> tuple[list[pd.DataFrame], list[str]]:
    """Feature frames for HistGradientBoosting with codes that agree across frames.

    Categorical columns become pandas categoricals on the union of the
    categories of all frames (so a category has the same code in training and
    test); above the 255 categories HistGradientBoosting accepts, they fall back
    to numeric codes, which the returned notes say.
    """
    out: list[dict[str, Any]] = [{} for _ in frames]
    notes: list[str] = []
    for name in features:
        kind = kinds[name]
        if kind in (KIND_NUMERIC, KIND_DATETIME):
            for k, f in enumerate(frames):
                out[k][name] = as_float(f[name], kind, "the data",
                                         datetime_format(name, schema))
            continue
        codes_list, cats = label_codes([f[name] for f in frames], kind)
        too_many = len(cats) > _HGB_MAX_CATEGORIES
        if too_many:
            notes.append(f"column {name!r} has {len(cats)} categories, more than "
                         f"{_HGB_MAX_CATEGORIES}; it was used as ordinal codes")
        for k, codes in enumerate(codes_list):
            if too_many:
                out[k][name] = np.where(codes < 0, np.nan, codes.astype("float64"))
            else:
                out[k][name] = pd.Categorical.from_codes(codes, categories=cats)
    return [pd.DataFrame(o, index=f.index) for o, f in zip(out, frames, strict=True)], notes


def _auc(y_true: npt.NDArray[Any], scores: FloatArray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y_true, scores))


def _fit_score(
    x_train: pd.DataFrame,
    y_train: npt.NDArray[np.object_],
    x_test: pd.DataFrame,
    y_test: npt.NDArray[np.object_],
    classes: list[str],
    positive: str | None,
    random_state: int,
) -> float | None:
    """ROC AUC on the test set of a model trained on (x_train, y_train); None if one class."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    if positive is not None:
        y_fit = y_train == positive
    else:
        y_fit = y_train
    if len(np.unique(y_fit)) < 2:
        return None
    model = HistGradientBoostingClassifier(
        categorical_features="from_dtype", random_state=random_state
    ).fit(x_train, y_fit)
    proba = model.predict_proba(x_test)
    learned = list(model.classes_)
    if positive is not None:
        return _auc(y_test == positive, proba[:, learned.index(True)])
    # macro one-vs-rest over the test classes; a class the model never saw
    # scores 0 for every row, i.e. AUC 0.5
    aucs = []
    for c in classes:
        score = proba[:, learned.index(c)] if c in learned else np.zeros(len(y_test))
        aucs.append(_auc(y_test == c, score))
    return float(np.mean(aucs))


def ml_efficacy(
    train_real: pd.DataFrame,
    synthetic: pd.DataFrame,
    test_real: pd.DataFrame,
    *,
    target: str,
    schema: Schema | None = None,
    positive: object = None,
    random_state: int = 0,
    reference: bool = True,
    n_threads: int | None = None,
    max_records: int | None = 200_000,
) -> dict[str, Any]:
    """Train on synthetic, test on real (TSTR), with train-on-real (TRTR) as reference.

    A ``HistGradientBoostingClassifier(categorical_features="from_dtype",
    random_state=random_state)`` learns ``target`` from every other column
    (categorical and boolean columns as categories on the union of all
    frames' categories, numeric and datetime columns as numbers, missing values
    left to the model) and is scored by ROC AUC on ``test_real``. Rows with a
    missing target are dropped.

    The target is binary when ``positive`` is given (that class against the
    rest) or when ``test_real`` has exactly two classes; the positive class is
    then the rarer one in ``test_real`` (ties: the later in sorted order). With
    more classes the score is the macro average of one-vs-rest AUCs over the
    classes of ``test_real``. Target values are compared as text.

    Parameters
    ----------
    train_real, synthetic, test_real : DataFrame
        Same columns (``synthetic`` and ``test_real`` are reordered to
        ``train_real``'s order).
    target : str
        The column to predict.
    schema : Schema, optional
        Column kinds; inferred from ``train_real``'s dtypes when omitted.
    positive : object, optional
        The positive class of a binary task.
    random_state : int
        Seed of the classifier (its early-stopping split).
    reference : bool
        Also fit on ``train_real`` (TRTR); ``trtr_auc`` is None when False.
    n_threads : int, optional
        Cap on the classifier's OpenMP threads (via threadpoolctl) during this
        call; None leaves scikit-learn's default. On a small busy machine 1 is
        often several times faster than oversubscribed threads; the scores do
        not depend on it.
    max_records : int or None
        Each of the three frames with more rows is replaced by a random
        subsample of ``max_records`` rows (seeded by ``random_state``), so large
        data sets are evaluated in bounded time; None uses every row.

    Returns
    -------
    dict
        ``target``, ``positive`` (None for multi-class), ``tstr_auc``,
        ``trtr_auc``, ``n_train_synthetic``, ``n_test``, ``subsampled`` (True
        when some frame was cut to ``max_records`` rows); plus ``note`` when a
        training set had a single class (its AUC is then 0.5, chance), a
        column had too many categories, or the frames were subsampled.
    """
    train_real, synthetic = check_pair(train_real, synthetic, "the synthetic data",
                                       "the real training data")
    _, test_real = check_pair(train_real, test_real, "the real test data",
                              "the real training data")
    check_schema(schema, train_real)
    if target not in train_real.columns:
        raise DataValidationError(
            f"target column {target!r} is not in the data; columns are "
            f"{[str(c) for c in train_real.columns]}"
        )
    random_state = check_int("random_state", random_state, lo=0)
    n_threads = check_int("n_threads", n_threads, lo=1, none_ok=True)
    cut_rng = np.random.default_rng(random_state)
    cut = [subsample_rows(f, max_records, cut_rng) for f in (train_real, synthetic, test_real)]
    (train_real, _), (synthetic, _), (test_real, _) = cut
    subsampled = any(c for _, c in cut)
    kinds = {c: column_kind(c, train_real[c], schema) for c in train_real.columns}
    target_kind = kinds[target] if kinds[target] == KIND_BOOLEAN else KIND_CATEGORICAL

    parts = (synthetic, test_real, train_real)
    target_codes, target_cats = label_codes([f[target] for f in parts], target_kind)
    labels_all = np.array([*target_cats, ""], dtype=object)  # "" never used: -1 is dropped
    frames = [f.loc[c >= 0] for f, c in zip(parts, target_codes, strict=True)]
    y_syn, y_test, y_train = (labels_all[c[c >= 0]] for c in target_codes)
    if len(y_test) == 0 or len(y_syn) == 0:
        which = "the real test data" if len(y_test) == 0 else "the synthetic data"
        raise DataValidationError(f"{which} has no row with a value of target {target!r}")
    classes = sorted(set(y_test.tolist()))
    if len(classes) < 2:
        raise DataValidationError(
            f"the real test data has a single class of target {target!r}; "
            "ROC AUC needs at least two"
        )
    pos: str | None
    if positive is not None:
        pos = str(positive)
        if pos not in classes:
            raise ParameterError(
                f"positive class {pos!r} does not occur in the real test data's {target!r}"
            )
    elif len(classes) == 2:
        counts = {c: int((y_test == c).sum()) for c in classes}
        pos = min(reversed(classes), key=lambda c: counts[c])
    else:
        pos = None

    features = [c for c in train_real.columns if c != target]
    notes: list[str] = []
    if features:
        (x_syn, x_test, x_train), notes = _hgb_features(frames, features, kinds, schema)
    else:
        # no features: every model is constant, which the AUC of 0.5 reflects
        x_syn, x_test, x_train = (pd.DataFrame({"_const": np.zeros(len(f))}) for f in frames)

    # scikit-learn's OpenMP runtime must be loaded before threadpoolctl can cap it
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_threads, user_api="openmp"):
        tstr = _fit_score(x_syn, y_syn, x_test, y_test, classes, pos, random_state)
        trtr: float | None = None
        if reference:
            trtr = _fit_score(x_train, y_train, x_test, y_test, classes, pos, random_state)
    if tstr is None:
        notes.append("the synthetic data has a single class of the target; TSTR AUC set to 0.5")
        tstr = 0.5
    if reference and trtr is None:
        notes.append("the real training data has a single class of the target; "
                     "TRTR AUC set to 0.5")
        trtr = 0.5
    out: dict[str, Any] = {
        "target": target,
        "positive": pos,
        "tstr_auc": float(tstr),
        "trtr_auc": trtr,
        "n_train_synthetic": len(y_syn),
        "n_test": len(y_test),
        "subsampled": subsampled,
    }
    if subsampled:
        notes.append(f"evaluated on random subsamples of at most {max_records} rows per table")
    if notes:
        out["note"] = "; ".join(notes)
    return out


__all__ = ["ml_efficacy"]

"""Small public data sets shipped with privsynth, with their public schemas.

The package carries its own compressed copy of UCI Adult (see ``SOURCE.md``
next to this file), so the demos and examples need no download.

Example
-------
>>> schema = adult_schema()
>>> schema["age"].lower, schema["age"].upper, schema.is_public
(17, 90, True)
"""

from __future__ import annotations

from importlib import resources
from typing import Literal

import pandas as pd

from privsynth.errors import ParameterError
from privsynth.io import read_table
from privsynth.schema import Schema

_SPLITS = {"train": "adult_train.csv.gz", "test": "adult_test.csv.gz"}


def adult_schema() -> Schema:
    """The public schema of UCI Adult, written from its documentation ``adult.names``.

    Category lists are the documented ones and numeric bounds come from the
    documented extraction rules and Census top-codes, never from the data;
    each column's ``description`` says where its domain comes from.

    Returns
    -------
    Schema
        15 columns; ``workclass``, ``occupation`` and ``native-country`` are
        nullable (the original files write unknown as ``?``).

    Examples
    --------
    >>> adult_schema()["income"].categories
    ('<=50K', '>50K')
    """
    text = resources.files(__name__).joinpath("adult.schema.json").read_text(encoding="utf-8")
    return Schema.from_json(text)


def load_adult(split: Literal["train", "test"] = "train") -> pd.DataFrame:
    """UCI Adult (Census Income, 1994 CPS), validated against :func:`adult_schema`.

    Parameters
    ----------
    split : {"train", "test"}
        The original split: 32,561 training rows or 16,281 test rows.

    Returns
    -------
    pandas.DataFrame
        15 columns, coerced by the schema: integers as ``int64``,
        categories as text (``object``), unknown values as missing (NaN).

    Examples
    --------
    >>> df = load_adult()
    >>> df.shape
    (32561, 15)
    >>> df["income"].value_counts().to_dict()
    {'<=50K': 24720, '>50K': 7841}
    """
    if split not in _SPLITS:
        raise ParameterError(f"split must be one of {list(_SPLITS)}, got {split!r}")
    with resources.as_file(resources.files(__name__).joinpath(_SPLITS[split])) as path:
        return read_table(path, schema=adult_schema())


__all__ = ["adult_schema", "load_adult"]

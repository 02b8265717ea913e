"""The default backend: a pandas DataFrame encoded once into an in-memory code matrix.

>>> import pandas as pd
>>> from privsynth.schema import Schema
>>> from privsynth.transform import Discretizer
>>> schema = Schema.from_dict({"columns": [
...     {"name": "a", "kind": "categorical", "categories": ["x", "y"]}]})
>>> backend = NumpyBackend(pd.DataFrame({"a": ["x", "y", "y"]}), Discretizer(schema))
>>> [h.tolist() for h in backend.histograms()], backend.n_rows
([[1, 2]], 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pandas as pd

from privsynth.backends.base import (
    Clique,
    CodeArray,
    CountingBackend,
    IntArray,
    bernoulli_rows,
    check_columns,
    count_cliques,
    encode_frame,
    histograms,
)
from privsynth.errors import DataValidationError
from privsynth.transform import Discretizer


class NumpyBackend(CountingBackend):
    """Counts on a pandas DataFrame held in memory (validated and encoded at construction).

    Parameters
    ----------
    data : pandas.DataFrame
        The private table, with exactly the schema's columns.
    discretizer : Discretizer
        Public bins of the schema.
    """

    name: ClassVar[str] = "numpy"

    def __init__(self, data: pd.DataFrame, discretizer: Discretizer) -> None:
        super().__init__(discretizer)
        if not isinstance(data, pd.DataFrame):
            raise DataValidationError("the numpy backend needs a pandas DataFrame; read files "
                                      "with privsynth.read_table")
        check_columns(list(data.columns), discretizer.schema)
        if len(data) == 0:
            raise DataValidationError("the data has no rows")
        self.codes: CodeArray = encode_frame(data, discretizer)

    @property
    def n_rows(self) -> int:
        return len(self.codes)

    def histograms(self) -> list[IntArray]:
        return histograms(self.codes, self.sizes)

    def joint_counts(self, cliques: Sequence[Clique]) -> list[IntArray]:
        return count_cliques(self.codes, cliques)

    def bernoulli_subsample(self, rate: float, key: int) -> CodeArray:
        if rate >= 1.0:
            return self.codes
        keep = bernoulli_rows(key, 0, len(self.codes), rate)
        return np.asarray(self.codes[keep])

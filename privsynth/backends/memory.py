"""The default backend: a pandas DataFrame encoded once into an in-memory code matrix.

Files (a path, directory, glob or list) are read whole with
:func:`privsynth.read_table` (the same reader and errors as every backend)
and then encoded like a DataFrame.

>>> import pandas as pd
>>> from privsynth.schema import Schema
>>> from privsynth.binning import Discretizer
>>> schema = Schema.from_dict({"columns": [
...     {"name": "a", "kind": "categorical", "categories": ["x", "y"]}]})
>>> backend = NumpyBackend(pd.DataFrame({"a": ["x", "y", "y"]}), Discretizer(schema))
>>> [h.tolist() for h in backend.histograms()], backend.n_rows
([[1, 2]], 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from privsynth.backends.base import (
    Clique,
    CodeArray,
    CountingBackend,
    IntArray,
    bernoulli_rows,
    check_columns,
    check_missing_values,
    check_policy,
    count_cliques,
    encode_frame,
    histograms,
)
from privsynth.binning import Discretizer
from privsynth.errors import DataValidationError
from privsynth.io.checks import check_encoding
from privsynth.io.formats import Source, file_format, is_path_source, resolve_files
from privsynth.io.table import read_table


def read_files(source: Source, *, encoding: str = "utf-8") -> pd.DataFrame:
    """Every file of ``source`` read with :func:`~privsynth.io.read_table` (text), stacked."""
    files = resolve_files(source)
    fmt = file_format(files)
    kwargs: dict[str, Any] = {} if fmt == "parquet" else {"encoding": check_encoding(encoding)}
    frames = [read_table(f, missing_values=(), **kwargs) for f in files]
    first = list(frames[0].columns)
    for f, frame in zip(files[1:], frames[1:], strict=True):
        if sorted(frame.columns) != sorted(first):
            raise DataValidationError(f"cannot read {f}: its columns differ from those of "
                                      f"{files[0]}; give files of one table")
    if len(frames) == 1:
        return frames[0]
    return pd.concat([f[first] for f in frames], ignore_index=True)


class NumpyBackend(CountingBackend):
    """Counts on a pandas DataFrame held in memory (validated and encoded at construction).

    Parameters
    ----------
    data : pandas.DataFrame, str, Path or list of them
        The private table, with exactly the schema's columns, or CSV/TSV/Parquet
        files (a path, directory, glob or list) read whole into memory.
    discretizer : Discretizer
        Public bins of the schema.
    missing_values : sequence of str, default ("",)
        Text meaning "missing" (files, or text columns of a DataFrame).
    encoding : str, default "utf-8"
        Encoding of CSV/TSV files.
    on_out_of_domain : {"error", "clip", "map_to_missing"}, default "error"
        What to do with values outside a column's domain (the fit's policy).
    """

    name: ClassVar[str] = "numpy"

    def __init__(self, data: pd.DataFrame | Source, discretizer: Discretizer, *,
                 missing_values: Sequence[str] = ("",), encoding: str = "utf-8",
                 on_out_of_domain: str = "error") -> None:
        super().__init__(discretizer)
        tokens = check_missing_values(missing_values)
        policy = check_policy(on_out_of_domain)
        if not isinstance(data, pd.DataFrame):
            if not is_path_source(data):
                raise DataValidationError("the numpy backend needs a pandas DataFrame or a "
                                          "path/glob of CSV or Parquet files")
            data = read_files(data, encoding=encoding)
        check_columns(list(data.columns), discretizer.schema)
        if len(data) == 0:
            raise DataValidationError("the data has no rows")
        self.codes: CodeArray = encode_frame(data, discretizer, missing_values=tokens,
                                              on_out_of_domain=policy)

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

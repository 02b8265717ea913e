"""Counting backends: where the exact counts behind a DP model are computed.

An engine asks a :class:`CountingBackend` for exact one-way histograms, joint
counts of cliques and a small Bernoulli row subsample; it adds the privacy
noise itself, in the driver. Backends:

- ``"numpy"`` (default for a pandas DataFrame): in memory (files are read whole);
- ``"dask"`` (default for a dask DataFrame or a path/glob; ``pip install
  "privsynth[dask]"``): partition by partition on the current Dask scheduler;
- ``"chunked"``: CSV/Parquet files read chunk by chunk in one process.

Every backend reads files through :mod:`privsynth.io`, so the same file
types are accepted and a broken file raises the same
:class:`~privsynth.errors.DataValidationError` whichever backend reads it.
File options for every backend: ``encoding`` (CSV/TSV, default ``"utf-8"``),
``missing_values`` (default ``("",)``) and ``on_out_of_domain`` (default
``"error"``; a fit passes its own policy, so files and a DataFrame of the same
rows are treated alike).

>>> import pandas as pd
>>> from privsynth.schema import Schema
>>> from privsynth.binning import Discretizer
>>> schema = Schema.from_dict({"columns": [
...     {"name": "a", "kind": "categorical", "categories": ["x", "y"]}]})
>>> open_backend(pd.DataFrame({"a": ["x"]}), Discretizer(schema)).name
'numpy'
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from privsynth.backends.base import Clique, CountingBackend, bernoulli_rows, row_uniforms
from privsynth.backends.memory import NumpyBackend
from privsynth.binning import Discretizer
from privsynth.errors import DataValidationError, ParameterError
from privsynth.io.formats import is_path_source

BACKENDS = ("chunked", "dask", "numpy")

__all__ = ["BACKENDS", "Clique", "CountingBackend", "NumpyBackend", "bernoulli_rows",
           "open_backend", "row_uniforms"]


def open_backend(data: Any, discretizer: Discretizer, backend: str | None = None,
                 **options: Any) -> CountingBackend:
    """A counting backend over ``data``.

    Parameters
    ----------
    data : pandas DataFrame, dask DataFrame, str, Path or list of paths
        The private table, or CSV/Parquet files (path, directory or glob).
    discretizer : Discretizer
        Public bins of the schema.
    backend : {"numpy", "dask", "chunked"} or None
        ``None`` picks ``"numpy"`` for a pandas DataFrame and ``"dask"`` for a
        dask DataFrame or files.
    **options
        Passed to the backend (e.g. ``persist=False``, ``blocksize="128MB"``,
        ``chunk_rows=500_000``, ``encoding="latin-1"``, ``missing_values=("", "NA")``).
    """
    from privsynth.backends.dask_backend import is_dask_frame

    if backend is None:
        if isinstance(data, pd.DataFrame):
            backend = "numpy"
        elif is_dask_frame(data) or is_path_source(data):
            backend = "dask"
        else:
            raise DataValidationError(
                "fit needs a pandas DataFrame, a dask DataFrame or a path/glob of CSV or "
                "Parquet files; read other sources with privsynth.read_table")
    if backend == "numpy":
        allowed = {"missing_values", "encoding", "on_out_of_domain"}
        if set(options) - allowed:
            raise ParameterError(f"the numpy backend takes only the options {sorted(allowed)}, "
                                 f"got {sorted(options)}")
        return NumpyBackend(data, discretizer, **options)
    if backend == "dask":
        from privsynth.backends.dask_backend import DaskBackend

        return DaskBackend(data, discretizer, **options)
    if backend == "chunked":
        from privsynth.backends.chunked import ChunkedBackend

        if not is_path_source(data):
            raise DataValidationError("the chunked backend reads CSV or Parquet files; give a "
                                      "path, directory or glob")
        return ChunkedBackend(data, discretizer, **options)
    raise ParameterError(f"backend={backend!r}; allowed: {', '.join(BACKENDS)} or None")

"""Schema inference: a schema's domains estimated from the data, with DP or without.

A schema's domains (numeric bounds, category lists) reach every output of
privsynth, so reading them from the private data would leak it: the maximum
age *is* somebody's age, and a category held by one person names that person.
This is the one module that reads domains from data:

- :func:`infer_dp` fills the *missing domains* of a draft with DP mechanisms
  charged to an accountant. The draft (or a schema imported from a public
  description, or ``kinds=``) declares every column's kind: kinds are never
  read from the data or its dtypes (one NaN turns integers into floats, one
  stray string makes a column text). Numeric bounds (integer, float,
  datetime) are DP quantiles (exponential mechanism) at 0.5 % and 99.5 % on
  a public grid over a *public coarse range*, widened outward by one grid
  step; category lists come from a thresholded histogram with discrete
  Laplace noise (a value held by few records is released only with a tiny
  probability delta); booleans need nothing. A column whose ``nullable`` is
  not declared is made nullable ("this column has missing values", read
  from the data, would itself be a release). The plan is made from public
  information first (:mod:`privsynth._infer_plan`) and checked against the
  budget before any data is read; ``dry_run=True`` returns it and reads
  nothing. When some columns fail (no category frequent enough), the domains
  already paid for are kept in :class:`~privsynth.errors.PartialInferenceError`.
- :func:`infer_unsafe` reads them *without* DP, for exploration only: the
  schema is marked ``source="data (not DP)"``, a
  :class:`~privsynth.errors.PrivacyWarning` is emitted and every report says
  the release is not end-to-end DP.

Both used to be ``Schema.infer_dp`` / ``Schema.infer_unsafe``; they are
functions here because they sit above the schema, the accountant and the
mechanisms in the stack of layers (the schema imports nothing above it).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from privsynth import mechanisms
from privsynth._checks import check_bool, check_int
from privsynth._infer_plan import (
    DEFAULT_GRID_SIZE,
    DEFAULT_QUANTILES,
    ColumnPlan,
    InferencePlan,
    check_parameters,
    make_plan,
    plan_columns,
    public_grid,
)
from privsynth._types import FloatArray
from privsynth.accounting import Accountant
from privsynth.columns import (
    BooleanColumn,
    CategoricalColumn,
    Column,
    DatetimeColumn,
    FloatColumn,
    IntegerColumn,
)
from privsynth.errors import (
    DataValidationError,
    IncompleteDraftError,
    ParameterError,
    PartialInferenceError,
    PrivacyWarning,
    SchemaError,
)
from privsynth.io.fingerprint import check_binding
from privsynth.schema import SOURCE_DP, SOURCE_UNSAFE, Schema
from privsynth.schema_import import DRAFT_FORMAT, fill, load_draft
from privsynth.validation import (
    check_missing_values,
    is_text_like,
    parse_numbers,
    text_view,
    to_datetime_ns,
    to_float,
)

#: What :func:`infer_dp` accepts as a draft: a Schema, a schema or draft dict, JSON text, a path.
DraftLike = Schema | Mapping[str, Any] | str | Path


# --------------------------------------------------------------------------
# DP inference
# --------------------------------------------------------------------------
def _draft(draft: DraftLike | None, kinds: Mapping[str, str] | None) -> dict[str, Any]:
    """The draft as a checked dict; ``kinds`` declares the kinds a draft leaves null."""
    if draft is None:
        if not kinds:
            raise IncompleteDraftError(
                "infer_dp needs every column's kind: pass a draft or schema (privsynth "
                "schema draft / schema import write one) or kinds={'age': 'integer', ...}. "
                "Kinds are never read from the data or its dtypes. Nothing was read or "
                "charged.")
        data: Any = {"format": DRAFT_FORMAT, "columns": [{"name": n, "kind": None}
                                                          for n in kinds]}
    elif isinstance(draft, Schema):
        data = draft.to_dict()
    else:
        data = draft
    loaded = load_draft(data)
    if loaded["format"] != DRAFT_FORMAT:  # a complete schema declares nullable (default false)
        loaded["columns"] = [{**c, "nullable": c.get("nullable", False)}
                             for c in loaded["columns"]]
    if kinds:
        by_name = {c["name"]: c for c in loaded["columns"]}
        unknown = sorted(set(kinds) - set(by_name))
        if unknown:
            raise SchemaError(f"infer_dp: kinds names column(s) {unknown} not in the draft")
        clash = sorted(n for n, k in kinds.items()
                       if by_name[n].get("kind") not in (None, k))
        if clash:
            raise SchemaError(f"infer_dp: kinds contradicts the draft's declared kind of "
                              f"column(s) {clash}")
        loaded = load_draft({**loaded, "format": DRAFT_FORMAT, "columns": [
            {**c, "kind": kinds.get(c["name"], c.get("kind"))} for c in loaded["columns"]]})
    return loaded


def plan_inference(
    draft: DraftLike | None = None,
    *,
    epsilon: float,
    accountant: Accountant,
    coarse: Mapping[str, object] | None = None,
    delta_categories: float | None = None,
    kinds: Mapping[str, str] | None = None,
) -> InferencePlan:
    """What :func:`infer_dp` would charge, and to which accountant; reads no data.

    Takes the same draft and parameters as :func:`infer_dp` (see there) and
    raises the same errors for an incomplete draft. Nothing is recorded.

    Examples
    --------
    >>> from privsynth.accounting import Accountant
    >>> acct = Accountant(epsilon=1.0, delta=1e-6)
    >>> plan = plan_inference(kinds={"age": "integer", "sex": "categorical", "ok": "boolean"},
    ...                       coarse={"age": (0, 150)}, epsilon=0.5, accountant=acct)
    >>> [c.name for c in plan.columns], plan.declared, plan.epsilon, plan.fits
    (['age', 'sex'], ('ok',), 0.5, True)
    >>> len(acct.ledger)
    0
    """
    if not isinstance(accountant, Accountant):
        raise ParameterError("plan_inference: accountant must be a privsynth Accountant")
    loaded = _draft(draft, kinds)
    plans = plan_columns(loaded["columns"], epsilon=epsilon, accountant=accountant,
                         coarse=coarse or {}, delta_categories=delta_categories)
    return make_plan(loaded["columns"], plans, accountant)


@overload
def infer_dp(
    data: pd.DataFrame | None,
    draft: DraftLike | None = ...,
    *,
    epsilon: float,
    accountant: Accountant,
    coarse: Mapping[str, object] | None = ...,
    delta_categories: float | None = ...,
    kinds: Mapping[str, str] | None = ...,
    max_categories: int = ...,
    missing_values: Sequence[str] = ...,
    noise: mechanisms.Noise | None = ...,
    quantiles: tuple[float, float] = ...,
    grid_size: int = ...,
    dry_run: Literal[False] = ...,
) -> Schema: ...


@overload
def infer_dp(
    data: pd.DataFrame | None,
    draft: DraftLike | None = ...,
    *,
    epsilon: float,
    accountant: Accountant,
    coarse: Mapping[str, object] | None = ...,
    delta_categories: float | None = ...,
    kinds: Mapping[str, str] | None = ...,
    max_categories: int = ...,
    missing_values: Sequence[str] = ...,
    noise: mechanisms.Noise | None = ...,
    quantiles: tuple[float, float] = ...,
    grid_size: int = ...,
    dry_run: Literal[True],
) -> InferencePlan: ...


def infer_dp(
    data: pd.DataFrame | None,
    draft: DraftLike | None = None,
    *,
    epsilon: float,
    accountant: Accountant,
    coarse: Mapping[str, object] | None = None,
    delta_categories: float | None = None,
    kinds: Mapping[str, str] | None = None,
    max_categories: int = 200,
    missing_values: Sequence[str] = ("",),
    noise: mechanisms.Noise | None = None,
    quantiles: tuple[float, float] = DEFAULT_QUANTILES,
    grid_size: int = DEFAULT_GRID_SIZE,
    dry_run: bool = False,
) -> Schema | InferencePlan:
    """Fill a draft schema's missing domains from private data, with differential privacy.

    Every column's *kind* must be declared (by the draft, or ``kinds``);
    domains the draft declares are kept as they are and cost nothing; only
    the missing ones are estimated and charged. Everything the estimate needs
    (kinds, coarse ranges of numeric columns, the budget) is checked before
    any data is read, so a run that cannot succeed spends nothing.

    Parameters
    ----------
    data : pandas.DataFrame
        The private table, one record per row; its columns are the draft's.
        Not touched with ``dry_run=True`` (may be None).
    draft : Schema, dict, JSON text or path, optional
        A draft (``"format": "privsynth.schema-draft"``, from ``privsynth
        schema draft`` or ``schema import``) or a schema: every column with its
        ``kind``; domains (``categories``; ``lower``/``upper``) may be null or
        absent, and numeric columns with a missing bound need a public
        ``coarse`` range ``[low, high]``. Default: the columns of ``kinds``.
    epsilon : float
        Epsilon spent in total, split equally over the columns estimated; a
        numeric column's share equally over the bounds it estimates.
    accountant : Accountant
        Charged through the mechanisms (a ledger file with
        :class:`~privsynth.accounting.persistent.FileAccountant`).
    coarse : mapping, optional
        Public coarse ranges by column, adding to or replacing the draft's:
        ``{"age": (0, 150), "when": ("2000-01-01", "2030-12-31")}``. Datetime
        ranges are ISO strings, optionally followed by a resolution (``"s"``,
        ``"min"``, ``"h"``, ``"D"``; else the column's declared resolution,
        else ``"D"`` when both bounds are dates and ``"s"`` otherwise). Known
        without looking at the data (legal, physical or documented limits).
    delta_categories : float, optional
        Total delta for category discovery, split equally over the estimated
        categorical columns. Default: half of ``accountant.delta``.
    kinds : mapping, optional
        Column kinds (``categorical``, ``integer``, ``float``, ``datetime``,
        ``boolean``): the columns when there is no draft, or kinds a draft
        leaves null.
    max_categories : int, default 200
        At most this many categories per column are kept (those with the
        largest noisy counts).
    missing_values : sequence of str, default ("",)
        Text tokens meaning "missing" in columns that declare no
        ``missing_values`` of their own (missing values are not categories
        and not numbers).
    noise : Noise, optional
        Source of privacy noise; fresh OS randomness by default.
    quantiles : (float, float), default (0.005, 0.995)
        Quantiles whose DP estimates become the lower and upper bounds.
    grid_size : int, default 1000
        Size of the public grid over each coarse range. When the range is
        non-negative and its upper end is at least 1000 times
        ``max(lower, 1)``, half of the points are spaced geometrically.
    dry_run : bool, default False
        Return the :class:`~privsynth._infer_plan.InferencePlan` (what would
        be charged, to which accountant, what remains after) without reading
        ``data`` or recording anything.

    Returns
    -------
    Schema or InferencePlan
        The schema (``source="dp"`` when anything was estimated), or the plan
        with ``dry_run=True``.

    Raises
    ------
    IncompleteDraftError
        A column's kind is missing (in the draft, or a data column the draft
        does not list), or a numeric column has neither bounds nor a coarse
        range: every column is named with what it needs (``.needs``). A
        :class:`~privsynth.errors.SchemaError`; nothing is read or charged.
    SchemaError
        The draft is malformed, or lists columns the data does not have.
    BudgetExceededError
        The plan does not fit the budget, or categories must be discovered
        but the accountant's delta is 0. Nothing is drawn or recorded.
    DataValidationError
        Values that cannot be read as their column's kind (counts only, never
        values); raised after the budget check, before any noise is drawn.
    PartialInferenceError
        No category of some column was frequent enough to be released. Its
        ``draft`` keeps every domain already paid for (save it: running again
        would pay again) and leaves those columns to fill; ``failed`` names
        them.

    Examples
    --------
    >>> import pandas as pd
    >>> from privsynth.accounting import Accountant
    >>> df = pd.DataFrame({"age": [20 + i % 50 for i in range(2000)],
    ...                    "sex": ["F", "M"] * 1000})
    >>> acct = Accountant(epsilon=1.0, delta=1e-6)
    >>> s = infer_dp(df, kinds={"age": "integer", "sex": "categorical"},
    ...              coarse={"age": (0, 150)}, epsilon=1.0, accountant=acct)
    >>> s.source, s["sex"].categories, s["age"].kind
    ('dp', ('F', 'M'), 'integer')
    >>> 0 <= s["age"].lower <= 21 and 68 <= s["age"].upper <= 150
    True
    >>> round(sum(e.event.epsilon for e in acct.ledger), 12)
    1.0
    """
    check_parameters(accountant=accountant, max_categories=max_categories,
                     grid_size=grid_size, quantiles=quantiles)
    dry = check_bool("dry_run", dry_run, where="infer_dp")
    tokens = check_missing_values(missing_values)
    loaded = _draft(draft, kinds)
    columns = loaded["columns"]
    plans = plan_columns(columns, epsilon=epsilon, accountant=accountant,
                         coarse=coarse or {}, delta_categories=delta_categories)
    if dry:
        return make_plan(columns, plans, accountant)
    _check_header(data, [c["name"] for c in columns])
    assert isinstance(data, pd.DataFrame)
    # a ledger bound to a data set (budget init --data) accepts that table only; its
    # text tokens are made missing first, as budget init reads the file
    check_binding(accountant, data, what="the data", missing_values=tokens, text_tokens=True)
    events = [e for p in plans for _, e in p.events()]
    if events:
        accountant.check(events, label="infer_dp")
    # Read and validate all the data before the first draw, so that a data
    # problem cannot leave the budget half spent.
    spec = {c["name"]: c for c in columns}
    values = {p.name: _prepare(data[p.name], p, spec[p.name], tokens) for p in plans}

    updates: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    for p in plans:
        if p.kind == "categorical":
            counts = values[p.name]
            assert isinstance(counts, dict)
            found = mechanisms.thresholded_histogram(
                counts, epsilon=p.epsilon, threshold=p.threshold, accountant=accountant,
                label=f"infer_dp/{p.name}/categories", noise=noise)
            if not found:
                failed.append(p.name)
                continue
            keep = sorted(found, key=lambda k: (-found[k], k))[:max_categories]
            updates[p.name] = {"categories": sorted(keep)}
        else:
            x = values[p.name]
            assert isinstance(x, np.ndarray)
            updates[p.name] = _bounds(p, x, spec[p.name], accountant, noise, quantiles,
                                      grid_size)
    return _result(loaded, plans, updates, failed)


def _check_header(data: object, names: Sequence[str]) -> None:
    """The data's column names (public) are exactly the draft's: else SchemaError."""
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(f"infer_dp: data must be a pandas DataFrame, got "
                             f"{type(data).__name__}")
    bad_names = [c for c in data.columns if not isinstance(c, str) or not c]
    if bad_names:
        raise SchemaError(f"infer_dp: column names must be non-empty strings, got {bad_names}")
    if len(set(data.columns)) != data.shape[1]:
        raise SchemaError("infer_dp: the table has duplicated column names")
    extra = [c for c in data.columns if c not in set(names)]
    if extra:
        raise IncompleteDraftError(
            f"infer_dp: column(s) {extra} of the data have no declared kind: add them to the "
            "draft with their kind, or drop them from the data. Nothing was read or charged.",
            needs=dict.fromkeys(extra, "needs a kind"))
    absent = [n for n in names if n not in data.columns]
    if absent:
        raise SchemaError(f"infer_dp: column(s) {absent} of the draft are not in the data. "
                          "Nothing was read or charged.")


def _result(loaded: Mapping[str, Any], plans: Sequence[ColumnPlan],
            updates: Mapping[str, dict[str, Any]], failed: Sequence[str]) -> Schema:
    """The schema; or, when columns failed, PartialInferenceError keeping what was paid for."""
    source = loaded["source"]
    if plans and source != SOURCE_UNSAFE:
        source = SOURCE_DP
    # a nullable flag the draft does not declare is true: read from the data it would leak.
    # An identifier column is a key (a privacy unit needs it complete): never nullable
    # unless declared so.
    keys: dict[str, dict[str, Any]] = {
        c["name"]: {"nullable": c.get("kind") != "id"} for c in loaded["columns"]
        if "nullable" not in c}
    for name, upd in updates.items():
        keys.setdefault(name, {}).update(upd)
    eps = {p.name: p.epsilon for p in plans}
    for name in failed:
        keys.setdefault(name, {})["todo"] = (
            f"no category was held by enough records to be released at epsilon "
            f"{eps[name]:.3g} (charged); list its categories from a public code list, or "
            "estimate them again with a larger epsilon or delta_categories")
    out = fill({**loaded, "source": source}, keys)
    if failed:
        raise PartialInferenceError(
            f"no category of column(s) {list(failed)} is held by enough records to be "
            "released at this epsilon and delta (the budget for it has been spent). The "
            f"domains of the other {len(updates)} estimated column(s) were paid for and are "
            "kept in this error's draft: save it (the CLI writes it to --out) and fill in "
            "the categories of the failed columns from a public code list, or estimate them "
            "again with a larger epsilon or delta_categories.",
            draft=out, failed=list(failed))
    return Schema.from_dict(out)


def _prepare(series: pd.Series, plan: ColumnPlan, col: Mapping[str, Any],
             tokens: Sequence[str]) -> FloatArray | dict[str, int]:
    """The values a mechanism needs; errors name the column and counts, never values."""
    own = col.get("missing_values")
    mv = tuple(t.strip() for t in own) if own is not None else tuple(tokens)

    def refuse(problem: str, rows: int) -> DataValidationError:
        return DataValidationError(
            f"column {plan.name!r}: {rows} value(s) are {problem} (values are not shown: the "
            "data is private); fix them, or list the codes for missing data in "
            "missing_values. Nothing was charged.",
            problems=[{"column": plan.name, "problem": problem, "rows": rows}])

    if plan.kind == "categorical":
        tv = text_view(series, mv)
        if tv.too_long.any():
            raise refuse("longer than 1 MB", int(tv.too_long.sum()))
        counts = tv.stripped[~tv.missing].astype(str).value_counts()
        return {str(k): int(v) for k, v in counts.items()}
    if plan.kind == "datetime":
        fmt = DatetimeColumn(plan.name, lower="1970-01-01", upper="1970-01-02",
                             resolution=plan.resolution, format=col.get("format"))
        parsed, tv = to_datetime_ns(series, fmt, mv)
        bad = int((parsed.isna().to_numpy() & ~tv.missing).sum())
        if bad:
            raise refuse("not dates or times", bad)
        return fmt.to_units(parsed).to_numpy(dtype=np.float64)
    numbers, tv = to_float(series, mv)
    bad = int((np.isnan(numbers) & ~tv.missing).sum())
    if bad:
        raise refuse("not numbers", bad)
    return numbers


def _bounds(plan: ColumnPlan, values: FloatArray, col: Mapping[str, Any],
            accountant: Accountant, noise: mechanisms.Noise | None,
            quantiles: tuple[float, float], grid_size: int) -> dict[str, Any]:
    """The estimated bounds of a numeric column as draft keys (JSON values)."""
    integer = plan.kind in ("integer", "datetime")
    # datetimes are counted from an arbitrary epoch: no geometric spacing for them
    grid = public_grid(plan.lower, plan.upper, grid_size, integer=integer,
                       wide=plan.kind != "datetime")
    q_of = dict(zip(("lower", "upper"), quantiles, strict=True))
    picks = {side: mechanisms.quantile(values, q_of[side], grid=grid, epsilon=plan.epsilon,
                                       accountant=accountant,
                                       label=f"infer_dp/{plan.name}/{side}", noise=noise)
             for side in plan.sides}
    # Post-processing: order the picks, widen each to its outer grid neighbour, keep a
    # declared bound as it is (the estimated one never crosses it).
    dt = DatetimeColumn(plan.name, lower="1970-01-01", upper="1970-01-02",
                        resolution=plan.resolution)
    declared = {s: _units(plan, col[s], dt) for s in ("lower", "upper") if s not in picks}
    lo_pick = min(picks.values()) if "lower" in picks else None
    hi_pick = max(picks.values()) if "upper" in picks else None
    out: dict[str, Any] = {}
    if lo_pick is not None:
        i = int(np.searchsorted(grid, lo_pick))
        lo = float(grid[max(i - 1, 0)])
        lo = min(lo, declared.get("upper", lo))
        out["lower"] = _json_bound(plan, math.floor(lo) if integer else lo, dt)
    if hi_pick is not None:
        j = int(np.searchsorted(grid, hi_pick))
        hi = float(grid[min(j + 1, grid.size - 1)])
        hi = max(hi, declared.get("lower", hi))
        out["upper"] = _json_bound(plan, math.ceil(hi) if integer else hi, dt)
    if plan.kind == "datetime" and col.get("resolution") is None:
        out["resolution"] = plan.resolution
    return out


def _units(plan: ColumnPlan, value: Any, dt: DatetimeColumn) -> float:
    if plan.kind == "datetime":
        return float(dt.to_units(pd.Series([pd.Timestamp(value)])).iloc[0])
    return float(value)


def _json_bound(plan: ColumnPlan, x: float, dt: DatetimeColumn) -> Any:
    if plan.kind == "float":
        return float(x)
    if plan.kind == "integer":
        return int(x)
    fmt = "%Y-%m-%d" if plan.resolution == "D" else "%Y-%m-%dT%H:%M:%S"
    return dt.from_units([x]).iloc[0].strftime(fmt)


# --------------------------------------------------------------------------
# Inference without DP (explicit opt-in)
# --------------------------------------------------------------------------
def _infer_numeric(name: str, values: np.ndarray, nullable: bool) -> Column:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise SchemaError(
            f"column {name!r} has no finite values, so its domain cannot be read from the "
            "data; describe it in the schema by hand or drop it"
        )
    lo, hi = float(finite.min()), float(finite.max())
    if np.all(np.floor(finite) == finite):
        return IntegerColumn(name, nullable=nullable, lower=int(lo), upper=int(hi))
    return FloatColumn(name, nullable=nullable, lower=lo, upper=hi)


def _infer_column(
    name: str, s: pd.Series, max_categories: int, missing_values: Sequence[str]
) -> Column:
    if ptypes.is_bool_dtype(s.dtype):
        return BooleanColumn(name, nullable=bool(s.isna().any()))
    if ptypes.is_datetime64_any_dtype(s.dtype):
        ts = s.dropna()
        if ts.empty:
            raise SchemaError(
                f"column {name!r} is entirely missing, so its domain cannot be read from the "
                "data; describe it in the schema by hand or drop it"
            )
        if isinstance(ts.dtype, pd.DatetimeTZDtype):
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        return DatetimeColumn(
            name,
            nullable=bool(s.isna().any()),
            lower=ts.min().isoformat(),
            upper=ts.max().isoformat(),
            resolution="s",
        )
    if ptypes.is_numeric_dtype(s.dtype) and not is_text_like(s):
        values = s.to_numpy(dtype="float64", na_value=np.nan)
        return _infer_numeric(name, values, bool(np.isnan(values).any()))
    tv = text_view(s, missing_values)
    if tv.too_long.any():
        raise SchemaError(f"column {name!r} holds values longer than 1 MB; drop the column")
    nullable = bool(tv.missing.any())
    present = tv.stripped[~tv.missing]
    if present.empty:
        raise SchemaError(
            f"column {name!r} is entirely missing, so its domain cannot be read from the "
            "data; describe it in the schema by hand or drop it"
        )
    numbers = parse_numbers(present)
    if not np.isnan(numbers).any():
        return _infer_numeric(name, numbers, nullable)
    categories = pd.unique(present.astype(object))
    if len(categories) > max_categories:
        raise SchemaError(
            f"column {name!r} has more than max_categories={max_categories} distinct values; "
            "bin it into public ranges, declare it by hand, or drop it (identifiers and free "
            "text should not be synthesized)"
        )
    return CategoricalColumn(
        name, nullable=nullable, categories=tuple(sorted(str(c) for c in categories))
    )


def infer_unsafe(
    df: pd.DataFrame,
    *,
    max_categories: int = 1000,
    warn: bool = True,
    missing_values: Sequence[str] = ("",),
) -> Schema:
    """Read a schema from the data itself, WITHOUT differential privacy.

    The category lists and bounds are the data's own values (its minimum,
    maximum, every distinct category), so publishing anything built on this
    schema reveals them. The schema is marked ``source="data (not DP)"`` and
    reports say the release is not end-to-end DP. Prefer a public schema, or
    :func:`infer_dp`.

    Parameters
    ----------
    df : pandas.DataFrame
        The data.
    max_categories : int
        A text column with more distinct values raises :class:`SchemaError`.
    warn : bool
        Emit a :class:`PrivacyWarning` (default). Turn off only in code that
        has already told its user.
    missing_values : sequence of str
        Text tokens that mean "missing" (see :func:`validate`).

    Returns
    -------
    Schema
        Integers where every value is whole, floats otherwise; ``bool`` ->
        boolean; datetimes -> datetime at resolution ``"s"``; text that all
        parses as numbers -> numeric; other text -> categorical. A column is
        nullable when any value is missing.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> df = pd.DataFrame({"n": ["3", "5"], "x": [0.5, 2.0], "c": ["b", "a"]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", PrivacyWarning)
    ...     s = infer_unsafe(df)
    >>> [c.kind for c in s], s["n"].upper, s["c"].categories, s.source
    (['integer', 'float', 'categorical'], 5, ('a', 'b'), 'data (not DP)')
    """
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"expected a pandas DataFrame, got {type(df).__name__}")
    tokens = check_missing_values(missing_values)
    check_int("max_categories", max_categories, lo=1, where="infer_unsafe")
    if df.shape[1] == 0:
        raise SchemaError("the table has no columns; there is nothing to infer")
    if len(df) == 0:
        raise SchemaError("the table has no rows; a domain cannot be read from it")
    if not df.columns.is_unique:
        dup = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise SchemaError(f"duplicated column names in the data: {dup}")
    if warn:
        warnings.warn(
            PrivacyWarning(
                "infer_unsafe reads category lists and numeric bounds from the private data "
                "without differential privacy: the schema reveals private values (minimums, "
                "maximums, rare categories), and a release that uses it is NOT end-to-end DP. "
                "Write a public schema (from documentation) or use privsynth.infer_dp instead."
            ),
            stacklevel=2,
        )
    columns = tuple(
        _infer_column(str(name), df[name], max_categories, tokens) for name in df.columns
    )
    return Schema(columns, source=SOURCE_UNSAFE)



__all__ = ["DraftLike", "InferencePlan", "infer_dp", "infer_unsafe", "plan_inference"]

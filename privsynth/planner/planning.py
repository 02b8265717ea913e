"""The budget planner: what a release would look like at each epsilon, before any budget is spent.

:func:`plan` reads only public information: the schema (domains), a row count
the steward states (a public figure, or a noisy count already released; it is
never read from the data), epsilon and delta, and the engine's own public
rules (PrivBayes: its budget split, theta-usefulness cap and table budgets,
called from :mod:`privsynth.engines.privbayes._budget`). It spends nothing and
opens no data file.

>>> import privsynth as ps
>>> p = ps.plan(ps.datasets.adult_schema(), [0.1, 1.0], n=30_000)
>>> [e.verdict for e in p.plans]
['rough', 'good']
>>> p.plans[1].tvd2 < p.plans[0].tvd2
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from privsynth._checks import check_int, check_number
from privsynth.engines.privbayes import PrivBayes
from privsynth.engines.privbayes._budget import BINS
from privsynth.errors import ParameterError
from privsynth.planner._model import (
    ColumnFacts,
    TableNoise,
    column_facts,
    engine_rules,
    predict,
)
from privsynth.schema import Schema

#: Epsilons planned when none are given.
DEFAULT_EPSILONS = (0.1, 0.3, 1.0, 3.0, 10.0)
#: Verdict thresholds on the predicted mean tvd2 (pairs of columns).
GOOD_TVD2 = 0.10
ROUGH_TVD2 = 0.25
#: Engines the planner knows. For DP-CTGAN it says whether DP-SGD can learn at all
#: (its accuracy is not predictable from public numbers) next to PrivBayes' prediction.
ENGINES = ("privbayes", "dpctgan")
#: Format tag of :meth:`Plan.to_dict`.
FORMAT = "privsynth.plan.v1"


@dataclass(frozen=True)
class EpsilonPlan:
    """The predicted quality of one release at one epsilon.

    Attributes
    ----------
    epsilon : float
        The release's epsilon.
    tvd1, tvd2 : float
        Predicted mean total-variation distance of the one-way and two-way
        marginals between the real and the synthetic table (the metric of
        :func:`privsynth.metrics.marginal_tvd`; 0 is perfect, 1 is disjoint).
    noise_tvd2 : float
        The part of ``tvd2`` due to privacy noise alone.
    degree : float
        Parents per column the engine would allow (the network degree, mean
        over the networks the planner drew).
    clique_cap : int
        Most cells of one table at this budget (PrivBayes' theta rule).
    covered_pairs : float
        Share of column pairs that one table of the network holds together.
    drowned_pairs : float
        Share of column pairs whose noise alone misplaces more than a quarter
        of their mass.
    noise_to_count : float
        Median over the tables of the noise standard deviation divided by the
        expected count of one cell (below 0.25: signal; above 1: drowned).
    verdict : str
        ``"good"``, ``"rough"`` or ``"noise-dominated"``.
    message : str
        The verdict in plain words.
    tables : tuple of TableNoise
        Size, epsilon and noise of each table of one network the engine could
        choose (the columns it joins depend on the data).
    learnability : float or None
        DP-CTGAN only: the DP-SGD signal-to-noise figure of the fit (below 10 it
        is not expected to learn); the TVDs are then PrivBayes' prediction.
    """

    epsilon: float
    tvd1: float
    tvd2: float
    noise_tvd2: float
    degree: float
    clique_cap: int
    covered_pairs: float
    drowned_pairs: float
    noise_to_count: float
    verdict: str
    message: str
    tables: tuple[TableNoise, ...] = field(repr=False)
    learnability: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tables as dicts with their noise-to-count ratio)."""
        out = {k: v for k, v in asdict(self).items() if k != "tables"}
        out["tables"] = [{"cells": t.cells, "epsilon": t.epsilon, "noise_sd": t.noise_sd,
                          "mean_count": t.mean_count, "noise_to_count": t.noise_to_count}
                         for t in self.tables]
        return out


@dataclass(frozen=True)
class Plan:
    """The planner's answer: one :class:`EpsilonPlan` per epsilon, and what it assumed."""

    engine: str
    rows: int
    synthetic_rows: int
    delta: float | None
    columns: int
    pairs: int
    plans: tuple[EpsilonPlan, ...]
    coarse_columns: tuple[str, ...]
    target: float | None = None
    epsilon_for_target: float | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"format", "engine", ..., "plans": [...]}``."""
        out = {k: v for k, v in asdict(self).items() if k != "plans"}
        out["coarse_columns"] = list(self.coarse_columns)
        out["notes"] = list(self.notes)
        out["plans"] = [p.to_dict() for p in self.plans]
        return {"format": FORMAT, **out}

    def table(self) -> str:
        """The plans as a plain-text table (what ``privsynth plan`` prints)."""
        gan = any(p.learnability is not None for p in self.plans)
        head = (f"{'epsilon':>8}  {'tvd1':>6}  {'tvd2':>6}  {'degree':>6}  "
                f"{'noise/count':>11}  " + ("DP-SGD s/n  " if gan else "") + "verdict")
        lines = [head, "-" * len(head)]
        for p in self.plans:
            learn = f"{p.learnability:10.1f}  " if p.learnability is not None else ""
            lines.append(f"{_num(p.epsilon):>8}  {p.tvd1:6.3f}  {p.tvd2:6.3f}  {p.degree:6.1f}  "
                         f"{p.noise_to_count:11.2f}  {learn}{p.verdict}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _num(x: float) -> str:
    return f"{x:g}"


def _verdict(epsilon: float, tvd1: float, tvd2: float, drowned: float) -> tuple[str, str]:
    eps = _num(epsilon)
    if tvd2 <= GOOD_TVD2 and drowned < 0.5:
        return "good", (f"at epsilon {eps} one-way and two-way marginals are expected to be "
                        f"close (on average {tvd1:.0%} and {tvd2:.0%} of their mass misplaced)")
    if tvd2 <= ROUGH_TVD2 and drowned < 0.5:
        return "rough", (f"at epsilon {eps} the main patterns survive but pairs of columns are "
                         f"rough (on average {tvd2:.0%} of a pair's mass misplaced); a larger "
                         "epsilon or fewer columns helps")
    share = "most" if drowned >= 0.5 else "many"
    return "noise-dominated", (f"at epsilon {eps} {share} pairs of columns are drowned in noise "
                               f"(on average {tvd2:.0%} of a pair's mass misplaced); "
                               "raise epsilon, drop or coarsen columns, or release fewer tables")


def _check_epsilons(epsilons: Sequence[float] | float | None) -> tuple[float, ...]:
    if epsilons is None:
        return DEFAULT_EPSILONS
    if isinstance(epsilons, int | float) and not isinstance(epsilons, bool):
        epsilons = [epsilons]
    if isinstance(epsilons, str | bytes) or not isinstance(epsilons, Sequence):
        raise ParameterError(f"plan: epsilons={epsilons!r}; give a list of positive numbers "
                             "such as [0.3, 1, 3]")
    out = []
    for e in epsilons:
        check_number("epsilon", e, lo=0, lo_open=True, where="plan")
        if not math.isfinite(float(e)):
            raise ParameterError(f"plan: epsilon={e!r} must be finite")
        out.append(float(e))
    if not out:
        raise ParameterError("plan: epsilons is empty; give at least one epsilon")
    return tuple(sorted(set(out)))


def plan(schema: Schema, epsilons: Sequence[float] | float | None = None, *, n: int,
         delta: float | None = None, engine: str = "privbayes", target: float | None = None,
         synthetic_rows: int | None = None, engine_options: Mapping[str, Any] | None = None,
         max_rows_per_unit: int | None = None) -> Plan:
    """Predict the quality of a release at each epsilon from public information only.

    Parameters
    ----------
    schema : Schema
        The public schema (its domains decide the tables' sizes).
    epsilons : float or sequence of float, optional
        The budgets to plan; default ``(0.1, 0.3, 1, 3, 10)``.
    n : int
        The number of rows, as the steward knows it publicly (or a noisy count
        already released). It is never read from the data.
    delta : float, optional
        The release's delta; PrivBayes is pure epsilon-DP and does not use it
        (kept in the plan for the record).
    engine : {"privbayes", "dpctgan"}
        The engine whose public rules are followed. For ``"dpctgan"`` the plan
        says whether DP-SGD can learn at each epsilon (``learnability``) and
        gives PrivBayes' predicted TVDs next to it (DP-CTGAN's accuracy is not
        predictable from public numbers); ``delta`` is then required.
    target : float, optional
        A goal for the mean two-way tvd; the plan then also gives the smallest
        epsilon predicted to reach it (``epsilon_for_target``, None when even
        epsilon 100 does not).
    synthetic_rows : int, optional
        Rows that will be sampled (default ``n``); fewer rows add sampling error.
    engine_options : mapping, optional
        The engine's parameters (e.g. ``{"theta": 6}``), as given to its constructor.
    max_rows_per_unit : int, optional
        For a fit with a privacy unit (``fit(..., privacy_unit=..., max_rows_per_unit=k)``):
        every count then has sensitivity ``k``, so its noise is ``k`` times larger;
        ``n`` is the number of rows after bounding each unit to ``k`` rows.

    Returns
    -------
    Plan
        One :class:`EpsilonPlan` per epsilon, smallest first.

    Raises
    ------
    ParameterError
        For an unknown engine, an engine option it does not have, or a
        non-positive epsilon, row count or target.
    """
    if not isinstance(schema, Schema):
        raise ParameterError(f"plan: schema must be a privsynth Schema, got "
                             f"{type(schema).__name__}; load one with Schema.from_json(path)")
    if engine not in ENGINES:
        raise ParameterError(f"plan: engine={engine!r}; the planner knows {list(ENGINES)}")
    eps_list = _check_epsilons(epsilons)
    check_int("n", n, lo=1, where="plan")
    unit_rows = 1 if max_rows_per_unit is None else max_rows_per_unit
    check_int("max_rows_per_unit", unit_rows, lo=1, where="plan")
    # identifier columns are never modelled (fresh values in every sample)
    schema = schema.without_ids()
    m = n if synthetic_rows is None else synthetic_rows
    check_int("synthetic_rows", m, lo=1, where="plan")
    if delta is not None:
        check_number("delta", delta, lo=0, hi=1, hi_open=True, where="plan")
    if target is not None:
        check_number("target", target, lo=0, lo_open=True, hi=1, where="plan")
    gan: dict[str, Any] | None = None
    if engine == "dpctgan":
        gan = _gan_params(engine_options, delta, n)
        model = PrivBayes()
    else:
        try:
            model = PrivBayes(**dict(engine_options or {}))
        except TypeError as exc:
            raise ParameterError(f"plan: {exc}; see help(privsynth.PrivBayes) for its "
                                 "parameters") from None
        model._check_params()
    facts = column_facts(schema, max_bins=model.max_bins or BINS)
    by_bins = {model.max_bins or BINS: facts}

    def at(eps: float) -> EpsilonPlan:
        # the fit reads its rule at the first bins and re-bins numeric columns when the
        # rule asks for finer ones (fine_bins); the plan predicts at the bins the fit uses
        bins = engine_rules(model, facts, eps, float(n), unit_rows).max_bins
        if bins not in by_bins:
            by_bins[bins] = column_facts(schema, max_bins=bins)
        one = _one(by_bins[bins], eps, n, m, model, unit_rows)
        if gan is None:
            return one
        return _with_gan(one, schema, eps, float(delta or 0.0), n, gan)

    plans = tuple(at(e) for e in eps_list)
    eps_target = _solve_target(at, target) if target is not None else None
    coarse = tuple(f.name for f in facts if f.coarse)
    notes = [
        "Predictions assume each column's values spread over its public bins; the network "
        "the engine learns depends on the data, so the planner averages over networks of "
        "the sizes the engine allows.",
    ]
    if coarse:
        notes.append(
            "Numeric columns with wide public bins: " + ", ".join(coarse) + ". The plan "
            "adds a prior for what their bins cannot resolve; if their values crowd into a "
            "small part of the declared range, they lose more whatever the epsilon. Tighter "
            "public bounds help.")
    if len(facts) < 2:
        notes.append("One column: there are no pairs; tvd2 is reported as 0.")
    if gan is not None:
        notes.insert(0, "DP-CTGAN's accuracy is not predicted from public numbers: tvd1 and "
                        "tvd2 are PrivBayes' prediction on the same schema and rows; the "
                        "planner says whether DP-SGD can learn at all (learnability).")
    return Plan(engine=engine, rows=n, synthetic_rows=m, delta=delta, columns=len(facts),
                pairs=len(facts) * (len(facts) - 1) // 2, plans=plans, coarse_columns=coarse,
                target=target, epsilon_for_target=eps_target, notes=tuple(notes))


def _one(facts: Sequence[ColumnFacts], eps: float, n: int, m: int, model: PrivBayes,
         unit_rows: int = 1) -> EpsilonPlan:
    pred = predict(facts, epsilon=eps, n=float(n), m=float(m), model=model,
                   max_rows=unit_rows)
    ratios = sorted(t.noise_to_count for t in pred.tables)
    median = ratios[len(ratios) // 2] if ratios else 0.0
    verdict, message = _verdict(eps, pred.tvd1, pred.tvd2, pred.drowned_pairs)
    return EpsilonPlan(epsilon=eps, tvd1=pred.tvd1, tvd2=pred.tvd2, noise_tvd2=pred.noise_tvd2,
                       degree=pred.degree, clique_cap=pred.clique_cap,
                       covered_pairs=pred.covered_pairs, drowned_pairs=pred.drowned_pairs,
                       noise_to_count=median, verdict=verdict, message=message,
                       tables=pred.tables)


def _gan_params(options: Mapping[str, Any] | None, delta: float | None,
                n: int) -> dict[str, Any]:
    """DP-CTGAN's parameters (its defaults, updated by ``options``) and checks of delta."""
    import inspect

    from privsynth.engines.dpctgan import DPCTGAN

    defaults = {k: v.default for k, v in inspect.signature(DPCTGAN.__init__).parameters.items()
                if k != "self"}
    unknown = sorted(set(options or {}) - set(defaults))
    if unknown:
        raise ParameterError(f"plan: DP-CTGAN has no parameters {unknown}; see "
                             "help(privsynth.DPCTGAN) for its parameters")
    params = {**defaults, **dict(options or {})}
    if not delta or delta >= 1.0 / n:
        raise ParameterError(f"plan: DP-CTGAN needs a delta below 1/n (n = {n:,}), got "
                             f"{delta!r}; e.g. delta={1.0 / n ** 1.5:.1g}")
    for name in ("batch_size", "epochs", "max_bins"):
        if name != "epochs" or params[name] is not None:
            check_int(name, params[name], lo=1, where="plan (DP-CTGAN)")
    for name in ("count_share", "marginal_share"):
        check_number(name, params[name], lo=0, hi=1, where="plan (DP-CTGAN)")
    return params


def _with_gan(one: EpsilonPlan, schema: Schema, eps: float, delta: float, n: int,
              params: Mapping[str, Any]) -> EpsilonPlan:
    """``one`` (PrivBayes' prediction) with DP-CTGAN's learnability and verdict."""
    from privsynth.engines.dpctgan._layout import GanLayout
    from privsynth.engines.dpctgan._plan import dpsgd_outlook

    layout = GanLayout(schema, params["max_bins"])
    d = len(schema.columns)
    look = dpsgd_outlook(discrete=len(layout.discrete), pairs=d * (d - 1) // 2,
                         in_dim=layout.dim + layout.cond_dim, epsilon=eps, delta=delta,
                         n_hat=float(n), count_share=params["count_share"],
                         marginal_share=params["marginal_share"],
                         batch_size=params["batch_size"], epochs=params["epochs"],
                         discriminator_dim=tuple(params["discriminator_dim"]))
    if look.can_learn:
        msg = (f"at epsilon {_num(eps)} DP-CTGAN can learn (DP-SGD signal-to-noise "
               f"{look.learnability:.0f}); its accuracy is not predicted. For PrivBayes: "
               + one.message)
    else:
        msg = (f"at epsilon {_num(eps)} DP-CTGAN is not expected to learn with {n:,} rows "
               f"({look.problem()}): use PrivBayes. For PrivBayes: " + one.message)
    return replace(one, learnability=look.learnability, message=msg)


def _solve_target(at: Any, target: float, lo: float = 1e-3, hi: float = 100.0) -> float | None:
    """Smallest epsilon (two significant digits) whose predicted tvd2 is at most ``target``."""
    if at(hi).tvd2 > target:
        return None
    if at(lo).tvd2 <= target:
        return lo
    for _ in range(30):  # bisection on log epsilon
        mid = math.sqrt(lo * hi)
        if at(mid).tvd2 <= target:
            hi = mid
        else:
            lo = mid
        if hi / lo < 1.05:
            break
    return float(f"{hi:.2g}") if at(float(f"{hi:.2g}")).tvd2 <= target else float(f"{hi:.3g}")


__all__ = ["DEFAULT_EPSILONS", "ENGINES", "FORMAT", "GOOD_TVD2", "ROUGH_TVD2", "EpsilonPlan",
           "Plan", "plan"]

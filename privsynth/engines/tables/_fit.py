"""Fitting a parent/child pair of tables as one release (``PrivBayes().fit_tables``).

The privacy unit is **one parent row with at most k of its children**
(``k = max_children``): neighbouring data sets differ by one parent key with
its parent row and all its child rows. What the fit does, in order:

1. every public check (:func:`~._relation.plan_tables`: the relation, the
   schemas, ``k``; the engine's parameters and resource checks for both
   models; epsilon, the ledger's unit (it must be the key), the release id,
   and the accountant's room for the whole release). Nothing is read before.
2. one release of own guarantee ``epsilon`` opens on the accountant; the
   ledger's data-set binding is checked on each table as given; the tables
   are conformed to their schemas; real keys starting with the parent key's
   synthetic prefix are refused (in both tables).
3. bounding, before anything is counted: a parent key held by several parent
   rows keeps one of them (uniform random); children whose key is missing or
   matches no parent are **dropped** (they belong to no unit in the data); a
   parent with more than ``k`` children keeps a uniform random ``k`` of them
   (the same bounding as :mod:`privsynth.engines.units`). How many rows any
   of these steps removed is never computed into an output.
4. the **parent model**: PrivBayes on the parent's columns plus
   ``n_children`` (the number of kept children, ``0..k``, a public domain).
   One unit is one parent row: every count has sensitivity 1.
5. the **child model**: PrivBayes on each kept child row joined with its
   parent's columns (named ``"<parent>.<column>"``). The parent's columns are
   the network's first columns and no child column is a parent of them
   (``given``), so sampling fixes them and draws the child's columns exactly
   given them; ``n_children`` is one of these given columns. It learns from
   ``max_child_rows = k'`` (default 1, at most ``k``) uniform random children
   of each parent: one unit adds up to ``k'`` rows, every sensitivity is
   ``k'`` times a row's (docs/units.md); because the model conditions on
   ``n_children``, the within-parent subsample leaves its conditional
   distribution unbiased. Its budget rule may choose coarser levels than a
   single table's (``CHILD_LEVEL_FLOORS``), so that a child column with one of
   its parent's columns as a parent fits the cell cap. The given columns'
   levels come from rows drawn from the fitted parent model (post-processing,
   :func:`parent_draws`), not from histograms of their own; a child column
   whose parents the steward declared (``links``) takes them without a
   structure draw (:mod:`privsynth.engines.privbayes._given`).

The two models spend through :class:`~._part.ReleasePart` objects of one
release: sequential composition, the release's epsilon is the sum of its
events. The split: the parent model gets ``parent_share`` of epsilon,
default ``p / (p + c + g)``: ``p`` parent columns plus ``n_children`` (one
table each in the parent model), ``c`` child columns (one table each in the
child model) and the ``g = p`` given columns, on which every child table is
conditioned. A function of public sizes only. The parent's share of the
tables alone, ``p / (p + c)``, kept less of the links between plane and flight
columns on planes -> flights at epsilon 1 (seats x distance 0.16 -> 0.13, 0.32
-> 0.22 with the link declared; scratch runs of 30 to 40 fits, not in
benchmarks/results).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from privsynth._checks import check_epsilon, check_int, check_number
from privsynth.accounting import Accountant, check_release_id
from privsynth.columns import IdColumn
from privsynth.engines.base import _conform, _jsonable_params, new_release_id
from privsynth.engines.privbayes._given import ParentDraws
from privsynth.engines.record import (
    FitRecord,
    LedgerRef,
    PrivacyUnit,
    schema_hazards,
    stated_epsilon,
)
from privsynth.engines.tables._part import ReleasePart
from privsynth.engines.tables._relation import (
    N_CHILDREN,
    Relation,
    TablesPlan,
    check_links,
    given_name,
    plan_tables,
)
from privsynth.engines.units import (
    bound_units,
    check_fresh_prefix,
    check_ledger_unit,
    count_prefixed,
    unit_generator,
)
from privsynth.errors import DataValidationError, LedgerError, ParameterError, SchemaError
from privsynth.mechanisms import Noise
from privsynth.schema import Schema

if TYPE_CHECKING:
    from privsynth.engines.privbayes import PrivBayes
    from privsynth.engines.tables._model import TablesModel

log = logging.getLogger("privsynth.engines.tables")

ENGINE = "privbayes-tables"

#: Smallest (max_levels, max_parent_levels) the child model's budget rule may choose. The
#: single-table floors (16 x 8) exceed the child model's cell cap at epsilon 1 (a few dozen
#: cells on planes -> flights), so no child column could take a parent column: the rule's
#: own choice from the cap (8 x 4 there) is used instead.
CHILD_LEVEL_FLOORS = (2, 2)
#: Default ``max_child_rows``: each unit adds one child row to the child model. The child
#: model's noise grows k'-fold with k' rows per unit, its signal at most k'-fold (parents
#: with fewer children add fewer), so at the budgets this tool is meant for the noise per
#: unit of signal is smallest at k' = 1 (docs/units.md, "Related tables", measured).
CHILD_ROWS = 1


def epsilon_split(plan: TablesPlan, epsilon: float, parent_share: float | None
                  ) -> tuple[float, float]:
    """(parent model's epsilon, child model's epsilon); they add up to ``epsilon``.

    >>> from privsynth.schema import Schema
    >>> p = Schema.from_dict({"columns": [{"name": "k", "kind": "id"},
    ...                                   {"name": "a", "kind": "boolean"}]})
    >>> c = Schema.from_dict({"columns": [{"name": "k", "kind": "id"},
    ...     {"name": "b", "kind": "boolean"}, {"name": "x", "kind": "boolean"}]})
    >>> plan = plan_tables({"p": p, "c": c}, [Relation("p", "c", "k")], max_children=3)
    >>> epsilon_split(plan, 1.0, None)  # p = 2 (a, n_children), c = 2 (b, x), g = p
    (0.3333333333333333, 0.6666666666666667)
    """
    if parent_share is None:
        p = len(plan.parent_schema.without_ids().columns)
        c = len(plan.child_schema.without_ids().columns) - len(plan.given)
        share = p / (p + c + len(plan.given))
    else:
        share = check_number("parent_share", parent_share, lo=0, hi=1, lo_open=True,
                             hi_open=True)
    eps_parent = epsilon * share
    return eps_parent, epsilon - eps_parent


@dataclass(frozen=True)
class CheckedTables:
    """What :func:`check_public_tables` found: the plan and the split of the budget."""

    plan: TablesPlan
    epsilon: float
    eps_parent: float
    eps_child: float
    k: int
    k_child: int
    #: declared links in the child model's names ({} when none)
    links: Mapping[str, tuple[str, ...]]


def check_public_tables(engine: PrivBayes, *, schemas: Mapping[str, Schema],
                        relations: Sequence[Relation] | Relation, epsilon: float,
                        max_children: int, parent_share: float | None = None,
                        on_out_of_domain: str = "error",
                        max_child_rows: int | None = None,
                        links: Mapping[str, object] | None = None) -> CheckedTables:
    """Every check of a parent/child fit that needs no data (the CLI runs it before reading).

    Raises the error a fit would raise, before anything is read or spent.
    """
    engine._check_params()
    if engine.target is not None:
        raise ParameterError("fit_tables does not support PrivBayes(target=...) yet; leave "
                             "target None. Nothing was spent.")
    eps = check_epsilon(epsilon)
    plan = plan_tables(schemas, relations, max_children=max_children)
    k = plan.max_children
    eps_parent, eps_child = epsilon_split(plan, eps, parent_share)
    if on_out_of_domain not in ("error", "clip", "map_to_missing"):
        raise ParameterError(f"on_out_of_domain={on_out_of_domain!r}; allowed: 'error', "
                             "'clip', 'map_to_missing'")
    engine._check_public(plan.parent_schema.without_ids(), eps_parent, 0.0, {})
    engine._check_public(plan.child_schema.without_ids(), eps_child, 0.0, {})
    k_child = min(k, CHILD_ROWS) if max_child_rows is None else check_int(
        "max_child_rows", max_child_rows, lo=1, hi=k)
    checked_links = check_links(links, plan)
    if checked_links and engine.degree is not None:
        most = max(len(ps) for ps in checked_links.values())
        if engine.degree == 0 or most > engine.degree:
            raise ParameterError(
                f"links: PrivBayes(degree={engine.degree}) allows at most {engine.degree} "
                f"parent(s) per column, a declared link has {most}; leave degree unset (the "
                "budget rule chooses it) or declare fewer parent columns. Nothing was spent.")
    return CheckedTables(plan, eps, eps_parent, eps_child, k, k_child, checked_links)


def fit_tables(engine: PrivBayes, tables: Mapping[str, pd.DataFrame], *,
               schemas: Mapping[str, Schema], relations: Sequence[Relation] | Relation,
               epsilon: float, accountant: Accountant | None = None, max_children: int,
               release: str | None = None, noise: Noise | None = None,
               parent_share: float | None = None, on_out_of_domain: str = "error",
               max_child_rows: int | None = None,
               links: Mapping[str, object] | None = None) -> TablesModel:
    """Fit a parent/child pair as one release; see the module docstring."""
    from privsynth.engines.tables._model import TablesModel

    # ---- 1. public checks (rule 8): nothing is read or spent before they pass
    checked = check_public_tables(engine, schemas=schemas, relations=relations,
                                  epsilon=epsilon, max_children=max_children,
                                  parent_share=parent_share,
                                  on_out_of_domain=on_out_of_domain,
                                  max_child_rows=max_child_rows, links=links)
    plan, eps, rel, k = checked.plan, checked.epsilon, checked.plan.relation, checked.k
    eps_parent, eps_child, k_child = checked.eps_parent, checked.eps_child, checked.k_child
    if noise is not None and not isinstance(noise, Noise):
        raise ParameterError("noise must be a privsynth Noise (or None)")
    if accountant is not None and not isinstance(accountant, Accountant):
        raise ParameterError("accountant must be a privsynth Accountant (or None)")
    unit = PrivacyUnit(rel.key, k)
    child_unit = PrivacyUnit(rel.key, k_child)  # what one unit adds to the child model
    schema_hazard = schema_hazards(*schemas.values())  # warns before anything is spent
    check_ledger_unit(accountant, unit)
    rid = check_release_id(release if release is not None else new_release_id(ENGINE))
    if not isinstance(tables, Mapping) or set(tables) != {rel.parent, rel.child}:
        got = sorted(tables) if isinstance(tables, Mapping) else type(tables).__name__
        raise ParameterError(f"tables must be a mapping {{{rel.parent!r}: DataFrame, "
                             f"{rel.child!r}: DataFrame}}, got {got}. Nothing was spent.")
    for name in (rel.parent, rel.child):
        if not isinstance(tables[name], pd.DataFrame):
            raise ParameterError(f"tables[{name!r}] must be a pandas DataFrame (read files "
                                 "with privsynth.read_table). Nothing was spent.")
    acct = accountant if accountant is not None else Accountant(eps, unit=rel.key)
    whole = acct.open_release(rid, epsilon=eps, label="PrivBayes.fit_tables")
    noise = noise if noise is not None else Noise()

    # ---- 2. data checks (the steward's errors; nothing spent yet)
    for name in (rel.parent, rel.child):
        with naming_table(name):
            engine._check_dataset(acct, tables[name], {})
    parent_schema = schemas[rel.parent]
    with naming_table(rel.parent):
        parent = _conform(tables[rel.parent], parent_schema, on_out_of_domain)
        check_fresh_prefix(parent, parent_schema)
    with naming_table(rel.child):
        child = _conform(tables[rel.child], schemas[rel.child], on_out_of_domain)
        check_fresh_prefix(child, schemas[rel.child])
    _check_key_prefix(child[rel.key], rel, parent_schema)

    # ---- 3. bounding (units.py's uniform random choice, never random_state)
    rng = unit_generator(noise)
    parent_rows, child_rows = bound_tables(parent, child, rel, k, rng, k_child)
    if len(child_rows) == 0:
        # Refused here, before anything is spent: failing later would leave the parent's
        # part of the release charged (found by review). The steward sees the error; nothing
        # is released either way.
        raise DataValidationError(
            f"no {rel.child} row has a {rel.key!r} found among the {rel.parent} keys (rows "
            "without a matching parent are dropped): check that the key columns hold the same "
            "identifiers, read as text in both tables. Nothing was spent.")

    # ---- 4./5. the two models, one release
    from privsynth.engines.privbayes import PrivBayes

    params = engine.get_params()
    parent_model, child_model = PrivBayes(**params), PrivBayes(**params)
    p_part = ReleasePart(whole, epsilon=eps_parent, table=rel.parent)
    c_part = ReleasePart(whole, epsilon=eps_child, table=rel.child)
    p_modelled = plan.parent_schema.without_ids()
    c_modelled = plan.child_schema.without_ids()
    log.info("fit_tables: release %s at epsilon %g (%s: %g, %s: %g; unit: %s)", rid, eps,
             rel.parent, eps_parent, rel.child, eps_child, _unit_words(rel, k))
    p_details = parent_model._fit(parent_rows[list(p_modelled.names)], schema=p_modelled,
                                  release=p_part, noise=noise, unit=PrivacyUnit(rel.key, 1))
    given = tuple(c_modelled.names.index(g) for g in plan.given)
    c_links = {c_modelled.names.index(c): tuple(c_modelled.names.index(p) for p in ps)
               for c, ps in checked.links.items()}
    given_rows = parent_draws(parent_model, rel, k_child, noise)
    c_details = child_model._fit(child_rows[list(c_modelled.names)], schema=c_modelled,
                                 release=c_part, noise=noise, unit=child_unit, given=given,
                                 level_floors=CHILD_LEVEL_FLOORS, links=c_links,
                                 given_rows=given_rows)

    ledger = LedgerRef.of(acct, recorded=accountant is not None)
    for sub, part, details, schema, table_unit in (
            (parent_model, p_part, p_details, plan.parent_schema, PrivacyUnit(rel.key, 1)),
            (child_model, c_part, c_details, plan.child_schema, child_unit)):
        own = part.guarantee()
        sub.schema_ = schema
        sub.accountant_ = acct
        sub.record_ = FitRecord(
            engine=engine.name, params=_jsonable_params(params),
            epsilon=stated_epsilon(own.epsilon, part.epsilon), delta=0.0, method=own.method,
            entries=part.entries, release=rid, ledger=ledger, noisy_rows=details.noisy_rows,
            reproducible_noise=noise.reproducible, noise=details.noise,
            contents=details.contents, unit=table_unit,
            hazards=(*details.hazards, *schema_hazard),
            description={**details.description, "on_out_of_domain": on_out_of_domain,
                         "table": part.table})
    own = whole.guarantee()
    record = FitRecord(
        engine=ENGINE, params=_jsonable_params(params), epsilon=stated_epsilon(own.epsilon, eps),
        delta=0.0, method=own.method, entries=whole.entries, release=rid, ledger=ledger,
        noisy_rows=p_details.noisy_rows, reproducible_noise=noise.reproducible,
        noise=p_details.noise, contents=CONTENTS, unit=unit, hazards=schema_hazard,
        description={"relation": rel.to_dict(), "max_children": k, "max_child_rows": k_child,
                     "links": {c: [p.split(".", 1)[1] for p in ps]
                               for c, ps in checked.links.items()},
                     "epsilon_split": {rel.parent: parent_model.record_.epsilon,
                                       rel.child: child_model.record_.epsilon},
                     "privacy_unit": _unit_words(rel, k),
                     "on_out_of_domain": on_out_of_domain})
    model = TablesModel(rel, parent_model, child_model, record,
                        {rel.parent: schemas[rel.parent], rel.child: schemas[rel.child]})
    model.accountant_ = acct
    return model


#: Synthetic parents drawn from the parent model for the child model's given-column levels.
GIVEN_DRAWS = 50_000


def parent_draws(parent_model: PrivBayes, rel: Relation, k_child: int, noise: Noise
                 ) -> ParentDraws:
    """Given columns for the child model's levels: post-processing of the parent model.

    ``GIVEN_DRAWS`` synthetic parents, columns named as in the child model,
    each weighted ``min(n_children, k')`` (the rows the child model holds per
    parent). Their randomness is sampling, not privacy noise; it follows the
    noise seed in the insecure test mode only.
    """
    rng = noise.generator() if noise.reproducible else np.random.default_rng()
    syn = parent_model._draw_raw(GIVEN_DRAWS, rng)
    weights = np.minimum(syn[N_CHILDREN].to_numpy(dtype=np.int64), k_child)
    rows = syn.rename(columns={c: given_name(rel.parent, c) for c in syn.columns})
    return ParentDraws(rows, weights.astype(np.float64))


CONTENTS = ("the public schemas and relation, the engine's parameters, and for each of the "
            "parent and the child model the learned network structure and the noisy "
            "conditional tables (all DP outputs)")


@contextmanager
def naming_table(name: str) -> Iterator[None]:
    """Re-raise a data or ledger error of one table with the table's name in front.

    The error keeps its class and attributes (``problems``); its message gains
    ``"table 'name': "``, so a steward fitting two tables knows which one to fix.

    >>> with naming_table("planes"):
    ...     raise DataValidationError("the data has no rows")
    Traceback (most recent call last):
    ...
    privsynth.errors.DataValidationError: table 'planes': the data has no rows
    """
    try:
        yield
    except (DataValidationError, LedgerError, SchemaError) as exc:
        prefix = f"table {name!r}"
        text = str(exc)
        if text.startswith(prefix):
            raise
        named = copy.copy(exc)
        named.args = (f"{prefix}: {text}", *exc.args[1:])
        raise named from exc


def _unit_words(rel: Relation, k: int) -> str:
    return (f"one {rel.parent} row (one value of {rel.key!r}) with up to {k} of its "
            f"{rel.child} rows")


def _check_key_prefix(keys: pd.Series, rel: Relation, parent_schema: Schema) -> None:
    """Refuse child keys starting with the parent key's synthetic prefix (counts only)."""
    col = parent_schema[rel.key]
    assert isinstance(col, IdColumn)
    clash = count_prefixed(keys, col.prefix)
    if clash:
        raise DataValidationError(
            f"table {rel.child!r}, column {rel.key!r}: {clash} key(s) start with "
            f"{col.prefix!r}, the prefix of the parent's synthetic keys; choose another "
            f"'prefix' for {rel.key!r} in the schema of {rel.parent!r}. Nothing was spent.",
            [{"column": rel.key, "problem": "starts with the synthetic prefix",
              "rows": clash}])


def bound_tables(parent: pd.DataFrame, child: pd.DataFrame, rel: Relation, k: int,
                 rng: np.random.Generator, child_rows: int | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The modelled rows: (parents with ``n_children``, kept children joined with their parent).

    One parent row per key (a random one when a key repeats); children whose
    key is missing or matches no kept parent are dropped; at most ``k``
    children per parent, a uniform random choice; ``n_children`` counts them.
    The joined rows (for the child model) keep at most ``child_rows`` of those
    per parent (a uniform random subset; default all ``k``) and carry the
    parent's columns and ``n_children``, named ``"<parent>.<column>"``.

    >>> p = pd.DataFrame({"id": ["a", "b"], "x": [1, 2]})
    >>> c = pd.DataFrame({"id": ["a", "a", "a", "z", None], "y": [1, 2, 3, 4, 5]})
    >>> ps, cs = bound_tables(p, c, Relation("p", "c", "id"), 2, np.random.default_rng(0))
    >>> ps["n_children"].tolist(), sorted(cs.columns), len(cs)
    ([2, 0], ['id', 'p.n_children', 'p.x', 'y'], 2)
    """
    parent = bound_units(parent, rel.key, 1, rng)
    keys = parent[rel.key].astype(str)
    ckeys = child[rel.key]
    known = ckeys.notna().to_numpy(dtype=bool) & ckeys.astype(str).isin(set(keys)).to_numpy(
        dtype=bool)
    kept = bound_units(child[known], rel.key, k, rng)
    kept_keys = kept[rel.key].astype(str)
    counts = kept_keys.value_counts()
    parent = parent.copy()
    parent[N_CHILDREN] = keys.map(counts).fillna(0).astype(np.int64).to_numpy()
    if child_rows is not None and child_rows < k:  # a uniform subset of a uniform subset
        kept = bound_units(kept, rel.key, child_rows, rng)
        kept_keys = kept[rel.key].astype(str)
    pos = pd.Index(keys).get_indexer(kept_keys)  # keys are unique now
    out = kept.reset_index(drop=True).copy()
    out[rel.key] = kept_keys.to_numpy()
    for c in parent.columns:
        if c != rel.key:
            out[f"{rel.parent}.{c}"] = parent[c].iloc[pos].reset_index(drop=True)
    return parent, out


__all__ = ["ENGINE", "CheckedTables", "bound_tables", "check_public_tables", "epsilon_split",
           "fit_tables", "naming_table"]

"""A fitted parent/child pair: sampling linked tables, and its model file.

:meth:`TablesModel.sample_tables` draws ``n`` parents from the parent model
(fresh keys: the key column's ``prefix`` and a number, matching no real key),
repeats each parent's columns ``n_children`` times and draws the children's
columns from the child model given those parent columns, all parents at
once (vectorized). The child model's network has the parent's columns first
and no child column among their parents, so ancestral sampling with them
fixed is exact sampling from the model's conditional distribution of a
child given its parent. Every child's key is its parent's fresh key: key
integrity holds by construction. Sampling is post-processing of DP outputs
and costs no budget; ``random_state`` seeds it, never privacy noise.

The model file (:mod:`privsynth._modelfile`: JSON and raw arrays, never
pickle) holds the relation, the whole release's fit record and, for each
model, its schema, its part of the record and its DP outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from privsynth._checks import check_int, check_seed
from privsynth._modelfile import read_model, write_model
from privsynth.accounting import Accountant, check_entry_ids
from privsynth.columns import IdColumn
from privsynth.engines.privbayes import PrivBayes
from privsynth.engines.privbayes._draw import draw_rows, draw_within
from privsynth.engines.record import FitRecord, PrivacyUnit, check_claim, check_record_unit
from privsynth.engines.tables._fit import ENGINE
from privsynth.engines.tables._relation import N_CHILDREN, Relation, given_name
from privsynth.errors import LedgerError, ModelFileError, PrivsynthError
from privsynth.schema import Schema


def draw_given(model: PrivBayes, given: pd.DataFrame, rng: np.random.Generator
               ) -> pd.DataFrame:
    """The other modelled columns of ``model``, one row per row of ``given``, drawn given it.

    ``given`` holds columns of the model's first, parentless network block
    (validated and in their domains); the rest are drawn ancestrally.
    """
    disc = model._discretizer
    names = disc.schema.names
    levels = model.levels_
    n, d = len(given), len(names)
    lvl = np.zeros((n, d), dtype=np.int64)
    par = np.zeros((n, d), dtype=np.int64)
    fine = np.zeros((n, d), dtype=np.int64)
    fixed = {names.index(c) for c in given.columns}
    for j in fixed:
        fine[:, j] = disc.encode_column(disc.bins[j], given[names[j]].reset_index(drop=True))
        lvl[:, j] = levels[j].fine_to_level[fine[:, j]]
        par[:, j] = levels[j].level_to_parent[lvl[:, j]]
    drawn: list[int] = []
    for (child, parents), table in zip(model.network_, model.tables_, strict=True):
        if child in fixed:
            continue
        idx = np.zeros(n, dtype=np.int64)
        for p in parents:
            idx = idx * levels[p].n_parent_levels + par[:, p]
        lvl[:, child] = draw_rows(table, idx, rng)
        par[:, child] = levels[child].level_to_parent[lvl[:, child]]
        fine[:, child] = draw_within(levels[child], lvl[:, child], rng)
        drawn.append(child)
    return pd.DataFrame({names[j]: disc.decode_column(disc.bins[j], fine[:, j], rng)
                         for j in sorted(drawn)})


class TablesModel:
    """A parent/child pair of tables fitted as one release (``PrivBayes().fit_tables``).

    Attributes
    ----------
    relation_ : Relation
        The parent, the child and their key.
    parent_model_, child_model_ : PrivBayes
        The parent model (parent columns and ``n_children``) and the child
        model (child columns and the parent's, named ``"<parent>.<column>"``).
    record_ : FitRecord
        The whole release: its own epsilon (the sum of its events), every
        ledger entry of both models, and the privacy unit (the key, ``k``).
    max_children_ : int
        ``k``: the most children of one parent the fit used.

    Examples
    --------
    >>> import privsynth as ps
    >>> planes = ps.Schema.from_dict({"columns": [
    ...     {"name": "tailnum", "kind": "id", "prefix": "SYN-"},
    ...     {"name": "big", "kind": "boolean"}]})
    >>> flights = ps.Schema.from_dict({"columns": [
    ...     {"name": "tailnum", "kind": "id", "nullable": True},
    ...     {"name": "long", "kind": "boolean"}]})
    >>> p = pd.DataFrame({"tailnum": [f"N{i}" for i in range(200)], "big": [True, False] * 100})
    >>> f = pd.DataFrame({"tailnum": np.repeat(p["tailnum"], 3), "long": np.repeat(p["big"], 3)})
    >>> model = ps.PrivBayes().fit_tables(
    ...     {"planes": p, "flights": f}, schemas={"planes": planes, "flights": flights},
    ...     relations=[ps.Relation(parent="planes", child="flights", key="tailnum")],
    ...     epsilon=1.0, max_children=5)
    >>> out = model.sample_tables(50, random_state=0)
    >>> len(out["planes"]), set(out["flights"]["tailnum"]) <= set(out["planes"]["tailnum"])
    (50, True)
    >>> model.record_.unit.describe()
    "one value of 'tailnum' with up to 5 of its rows"
    """

    def __init__(self, relation: Relation, parent_model: PrivBayes, child_model: PrivBayes,
                 record: FitRecord, schemas: Mapping[str, Schema]) -> None:
        if set(schemas) != {relation.parent, relation.child}:
            raise ModelFileError("the schemas do not name the relation's two tables")
        self._schemas = dict(schemas)
        self.relation_ = relation
        self.parent_model_ = parent_model
        self.child_model_ = child_model
        self.record_ = record
        self.max_children_ = record.unit.max_rows
        self.accountant_: Accountant | None = None

    @property
    def epsilon_(self) -> float:
        """The release's own epsilon (both models' events composed), not the ledger's total."""
        return self.record_.epsilon

    @property
    def schemas_(self) -> dict[str, Schema]:
        """The public schema of each table, as given to the fit."""
        return dict(self._schemas)

    # ------------------------------------------------------------------ sample
    def sample_tables(self, n: int | None = None, *, random_state: int | None = None
                      ) -> dict[str, pd.DataFrame]:
        """Draw ``n`` synthetic parents and their children (costs no privacy budget).

        Parameters
        ----------
        n : int, optional
            Number of parent rows. Default: the parent model's noisy row count
            (a DP output).
        random_state : int, optional
            Seeds sampling only, never privacy noise.

        Returns
        -------
        dict of DataFrame
            ``{parent: ..., child: ...}`` with the schemas' columns. Parent keys
            are fresh (the key column's ``prefix`` and a number); each parent
            has ``0..k`` children, whose key is their parent's.
        """
        rel = self.relation_
        if n is None:
            rows = self.parent_model_.record_.noisy_rows
            n = max(1, round(rows)) if rows is not None else 0
        n = check_int("n", n, lo=0)
        rng = np.random.default_rng(check_seed(random_state))
        parents = self.parent_model_.sample(n, random_state=int(rng.integers(2**63 - 1)))
        counts = parents[N_CHILDREN].to_numpy(dtype=np.int64)
        pos = np.repeat(np.arange(n), counts)
        schemas = self.schemas_
        modelled = [c for c in schemas[rel.parent].without_ids().names]
        modelled.append(N_CHILDREN)
        given = pd.DataFrame({given_name(rel.parent, c): parents[c].iloc[pos].to_numpy()
                              for c in modelled})
        for c in modelled:  # keep the parent model's column types (nullable integers...)
            given[given_name(rel.parent, c)] = given[given_name(rel.parent, c)].astype(
                parents[c].dtype)
        drawn = draw_given(self.child_model_, given, rng)
        out: dict[str, Any] = {}
        for col in schemas[rel.child].columns:
            if col.name == rel.key:
                out[col.name] = parents[rel.key].to_numpy(dtype=object)[pos]
            elif isinstance(col, IdColumn):
                out[col.name] = np.asarray(col.fresh(len(pos)), dtype=object)
            else:
                out[col.name] = drawn[col.name]
        children = pd.DataFrame(out, index=pd.RangeIndex(len(pos)))
        return {rel.parent: parents[list(schemas[rel.parent].names)].reset_index(drop=True),
                rel.child: children}

    # ------------------------------------------------------------------- files
    def save(self, path: str | Path) -> None:
        """Write the model (DP outputs, schemas, relation and fit records only) to ``path``."""
        parts = {}
        for role, m in (("parent", self.parent_model_), ("child", self.child_model_)):
            parts[role] = {"schema": m.schema_.to_dict(), "record": m.record_.to_dict(),
                           **m._to_payload()}
        write_model(path, ENGINE, {"relation": self.relation_.to_dict(),
                                   "schemas": {k: v.to_dict() for k, v in self._schemas.items()},
                                   "params": dict(self.record_.params),
                                   "record": self.record_.to_dict(), **parts})

    @classmethod
    def load(cls, path: str | Path) -> TablesModel:
        """Read a model written by :meth:`save`, validating every part."""
        p = read_model(path, ENGINE)
        try:
            rel = Relation.from_dict(p["relation"])
            record = FitRecord.from_dict(p["record"])
            models = [_load_part(p["params"], p[role]) for role in ("parent", "child")]
            _check_parts(rel, record, *models)
            schemas = {k: Schema.from_dict(v) for k, v in p["schemas"].items()}
        except ModelFileError as exc:
            raise ModelFileError(f"{path}: {exc}") from exc
        except (KeyError, TypeError, ValueError, IndexError, PrivsynthError) as exc:
            raise ModelFileError(f"{path}: the tables model is malformed: {exc}") from exc
        return cls(rel, models[0], models[1], record, schemas)


def _load_part(params: Mapping[str, Any], part: Mapping[str, Any]) -> PrivBayes:
    model = PrivBayes(**PrivBayes._params_from_file(params))
    model._check_params()
    schema = Schema.from_dict(part["schema"])
    model._from_payload(part, schema.without_ids())
    model.schema_ = schema
    model.record_ = FitRecord.from_dict(part["record"])
    model.accountant_ = None
    return model


def _check_parts(rel: Relation, record: FitRecord, parent: PrivBayes, child: PrivBayes) -> None:
    """The parts of a loaded model fit together and state what their entries prove."""
    if record.engine != ENGINE or record.unit.column != rel.key:
        raise ModelFileError("the fit record does not describe this relation's release")
    _check_part_records(rel, record, parent.record_, child.record_)
    for t, m in ((rel.parent, parent), (rel.child, child)):  # counts noised for its own unit
        check_record_unit(m.record_, m.schema_, True, f"the part of {t!r}")
    if N_CHILDREN not in parent.schema_.names or rel.key not in child.schema_.names:
        raise ModelFileError("the parent or the child model lacks its relation's columns")
    names = child._discretizer.schema.names
    given = {j for j, name in enumerate(names) if name.startswith(f"{rel.parent}.")}
    done: set[int] = set()
    for c, ps in child.network_:
        # the parent's columns come first (parentless); each child column's parents are
        # parent columns or child columns drawn before it
        if (c in given and ps) or not set(ps) <= done | given:
            raise ModelFileError("the child model's network does not keep the parent's "
                                 "columns first")
        done.add(c)


def part_entries(rel: Relation, entries: Sequence[Any]) -> dict[str, list[Any]]:
    """A release's entries by table: ``{parent: [...], child: [...]}``, order kept.

    An entry belongs to the table its label names (``"<table>/..."``; table
    names hold no ``/``, so at most one matches); one labelled with neither
    raises ModelFileError. Works on :class:`LedgerEntry` objects and on their
    JSON dicts (and returns what it was given).
    """
    out: dict[str, list[Any]] = {rel.parent: [], rel.child: []}
    for e in entries:
        label = e.get("label") if isinstance(e, Mapping) else e.label
        table = label.split("/", 1)[0] if isinstance(label, str) and "/" in label else None
        if table not in out:
            raise ModelFileError(f"the release's entry {label!r} names neither table: the "
                                 "model's entries are not the release's entries")
        out[table].append(e)
    return out


def part_entry_ids(rel: Relation, entries: Sequence[Any]) -> dict[str, list[Any]]:
    """The ids of a release's entries by table (see :func:`part_entries`)."""
    return {t: [e.get("id") if isinstance(e, Mapping) else e.id for e in es]
            for t, es in part_entries(rel, entries).items()}


def _check_part_records(rel: Relation, record: FitRecord, parent: FitRecord,
                        child: FitRecord) -> None:
    """Each part: the whole's entries of its table, an epsilon they prove, the fit's unit."""
    parts = {rel.parent: parent, rel.child: child}
    try:
        check_entry_ids(record.entries)
    except LedgerError as exc:
        raise ModelFileError(f"the release's {exc}") from exc
    by_table = part_entries(rel, record.entries)
    # the entries themselves, not their ids: a part whose events were edited under the
    # whole's ids would state what the whole's entries do not prove
    if any(r.release != record.release or r.delta != record.delta for r in parts.values()) \
            or any(list(r.entries) != by_table[t] for t, r in parts.items()):
        raise ModelFileError("the models' ledger entries are not the release's entries of "
                             "their tables (each part holds exactly the entries labelled with "
                             "its table's name)")
    for name, r in (("the release", record), *((f"the part of {t!r}", r)
                                               for t, r in parts.items())):
        check_claim(r, name, whole=r is record)
    desc = record.description
    if desc.get("epsilon_split") != {t: r.epsilon for t, r in parts.items()}:
        raise ModelFileError("the record's epsilon_split is not the parts' stated epsilons")
    k, k_child = desc.get("max_children"), desc.get("max_child_rows")
    if not isinstance(k_child, int) or isinstance(k_child, bool) or k != record.unit.max_rows \
            or not 1 <= k_child <= record.unit.max_rows \
            or parent.unit != PrivacyUnit(rel.key, 1) \
            or child.unit != PrivacyUnit(rel.key, k_child):
        raise ModelFileError("the parts' privacy units are not the ones the fit records "
                             f"(parent: one {rel.key!r} with 1 row; child: with "
                             "max_child_rows rows; the release: with max_children rows)")


def load_tables(path: str | Path) -> TablesModel:
    """Read a tables model file (see :meth:`TablesModel.load`)."""
    return TablesModel.load(path)


__all__ = ["TablesModel", "draw_given", "load_tables", "part_entries", "part_entry_ids"]

"""A parent/child relation between two tables, and the public checks of a fit on it.

:class:`Relation` names a parent table, a child table and the key they share
(an identifier column, kind ``id``, in both schemas). :func:`plan_tables`
checks everything a multi-table fit declares, from public information only
(rule 8: nothing is read or spent before it passes), and derives the two
schemas the fit models:

- the *parent model's* schema: the parent's columns plus ``n_children``, a
  public-domain integer column ``0..k`` (``k = max_children``);
- the *child model's* schema: the child's columns (its key not nullable:
  children without a key are dropped) followed by the parent's modelled
  columns and ``n_children``, renamed ``"<parent>.<column>"``.

>>> from privsynth.schema import SOURCES, Schema
>>> planes = Schema.from_dict({"columns": [
...     {"name": "tailnum", "kind": "id", "prefix": "SYN-"},
...     {"name": "seats", "kind": "integer", "lower": 1, "upper": 500}]})
>>> flights = Schema.from_dict({"columns": [
...     {"name": "tailnum", "kind": "id", "nullable": True},
...     {"name": "distance", "kind": "integer", "lower": 0, "upper": 5000}]})
>>> rel = Relation(parent="planes", child="flights", key="tailnum")
>>> plan = plan_tables({"planes": planes, "flights": flights}, [rel], max_children=20)
>>> plan.parent_schema.names
('tailnum', 'seats', 'n_children')
>>> plan.child_schema.names
('tailnum', 'distance', 'planes.seats', 'planes.n_children')
>>> Relation(parent="planes", child="planes", key="tailnum")
Traceback (most recent call last):
...
privsynth.errors.ParameterError: Relation: the parent and the child must be two different ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from privsynth._checks import check_int
from privsynth.columns import Column, IdColumn, IntegerColumn
from privsynth.errors import ParameterError, SchemaError
from privsynth.schema import SOURCES, Schema

#: The parent model's column holding each parent's number of children (capped at k).
N_CHILDREN = "n_children"


@dataclass(frozen=True)
class Relation:
    """A parent/child relation: every child row belongs to the parent row with its key.

    Parameters
    ----------
    parent, child : str
        Table names (the keys of the ``tables`` and ``schemas`` mappings),
        without ``/`` (the ledger labels each event ``"<table>/..."``).
    key : str
        The identifier column (kind ``id``) that both tables hold: a child row
        belongs to the parent row with the same value.

    Examples
    --------
    >>> Relation(parent="planes", child="flights", key="tailnum").describe()
    "planes -> flights on 'tailnum'"
    """

    parent: str
    child: str
    key: str

    def __post_init__(self) -> None:
        for name in ("parent", "child", "key"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ParameterError(f"Relation: {name}={value!r}; give a non-empty name "
                                     "(a table name for parent and child, a column for key)")
        for name in ("parent", "child"):
            if "/" in getattr(self, name):
                raise ParameterError(
                    f"Relation: {name}={getattr(self, name)!r}; a table name cannot hold '/' "
                    "(the ledger labels each event '<table>/...' to say which table it "
                    "measured). Rename the table. Nothing was spent.")
        if self.parent == self.child:
            raise ParameterError("Relation: the parent and the child must be two different "
                                 f"tables, got {self.parent!r} twice")

    def describe(self) -> str:
        return f"{self.parent} -> {self.child} on {self.key!r}"

    def to_dict(self) -> dict[str, str]:
        return {"parent": self.parent, "child": self.child, "key": self.key}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Relation:
        return cls(parent=data["parent"], child=data["child"],  # type: ignore[arg-type]
                   key=data["key"])  # type: ignore[arg-type]


@dataclass(frozen=True)
class TablesPlan:
    """What a multi-table fit models, decided from public information only."""

    relation: Relation
    max_children: int
    parent_schema: Schema
    child_schema: Schema
    #: names of the parent's modelled columns in the child model ("<parent>.<column>")
    given: tuple[str, ...]


def given_name(parent: str, column: str) -> str:
    """The name of a parent's column in the child model."""
    return f"{parent}.{column}"


def plan_tables(schemas: Mapping[str, Schema], relations: Sequence[Relation] | Relation, *,
                max_children: object) -> TablesPlan:
    """Check the relation, the schemas and ``max_children``; derive the modelled schemas.

    Raises ParameterError or SchemaError (nothing is read or spent).
    """
    if isinstance(relations, Relation):
        relations = [relations]
    if not isinstance(relations, Sequence) or not all(isinstance(r, Relation)
                                                      for r in relations):
        raise ParameterError("relations must be a list of privsynth.Relation(parent=..., "
                             "child=..., key=...)")
    if len(relations) != 1:
        raise ParameterError(
            f"fit_tables supports exactly one relation (one parent table and one child "
            f"table) for now, got {len(relations)}; fit each parent/child pair on its own "
            "(on one ledger), or join the tables first. Nothing was spent.")
    rel = relations[0]
    k = check_int("max_children", max_children, lo=1)
    if not isinstance(schemas, Mapping):
        raise ParameterError("schemas must be a mapping {table name: Schema}")
    for table in (rel.parent, rel.child):
        if not isinstance(schemas.get(table), Schema):
            raise ParameterError(
                f"schemas has no Schema for the table {table!r} of the relation "
                f"{rel.describe()}; give schemas={{{rel.parent!r}: ..., {rel.child!r}: ...}}")
    extra = sorted(set(schemas) - {rel.parent, rel.child})
    if extra:
        raise ParameterError(f"schemas names table(s) {extra} that no relation uses; give the "
                             f"schemas of {rel.parent!r} and {rel.child!r} only")
    parent, child = schemas[rel.parent], schemas[rel.child]
    for table, schema in ((rel.parent, parent), (rel.child, child)):
        if rel.key not in schema.names or not isinstance(schema[rel.key], IdColumn):
            raise SchemaError(
                f"the key {rel.key!r} must be an identifier column of the table {table!r}: "
                f'declare {{"name": "{rel.key}", "kind": "id"}} in its schema (an '
                "identifier is never modelled; synthetic rows get fresh ones)")
        if schema.constraints:
            raise ParameterError(
                f"the schema of {table!r} declares constraints, which fit_tables does not "
                "enforce yet; remove them (or fit the table alone with fit()). Nothing was "
                "spent.")
    if parent[rel.key].nullable:
        raise SchemaError(
            f"the parent key {rel.key!r} of {rel.parent!r} is declared nullable; a parent "
            "row without a key cannot be a privacy unit. Declare it with nullable false and "
            "remove (or assign) such rows.")
    if N_CHILDREN in parent.names:
        raise SchemaError(f"the parent table {rel.parent!r} has a column {N_CHILDREN!r}, the "
                          "name fit_tables gives the number of children; rename that column")
    p_model = parent.without_ids()  # SchemaError when the parent has nothing to model
    child.without_ids()  # SchemaError when the child has nothing to model
    given = tuple(given_name(rel.parent, n) for n in (*p_model.names, N_CHILDREN))
    counts = IntegerColumn(N_CHILDREN, lower=0, upper=k, nullable=False,
                           description=f"children in {rel.child!r} (at most {k})")
    clash = sorted(set(given) & set(child.names))
    if clash:
        raise SchemaError(f"the child table {rel.child!r} has column(s) {clash}, the names "
                          "its parent's columns take in the child model; rename them")
    parent_schema = Schema((*parent.columns, counts), source=parent.source)
    key_col = dataclasses.replace(child[rel.key], nullable=False)
    child_cols: list[Column] = [key_col if c.name == rel.key else c for c in child.columns]
    # the child model may condition on every parent column and on the number of children
    # (keeping fewer children per parent, max_child_rows, weights each parent equally; a
    # child column conditioned on n_children is unbiased, docs/units.md)
    renamed = [dataclasses.replace(c, name=given_name(rel.parent, c.name))
               for c in (*p_model.columns, counts)]
    # the joined schema is as public as the less public of the two
    source = max(parent.source, child.source, key=SOURCES.index)
    child_schema = Schema((*child_cols, *renamed), source=source)
    return TablesPlan(rel, k, parent_schema, child_schema, given)


def check_links(links: object, plan: TablesPlan) -> dict[str, tuple[str, ...]]:
    """The steward's declared links, checked: ``{child column: (parent columns, ...)}``.

    A link says that a child column depends on the named columns of its parent
    (public knowledge about the data, as a declared target is): the child model
    gives that column those parents without a structure draw. Values may be one
    column name or a list; ``n_children`` may be named. Returns the names the
    child model uses (``"<parent>.<column>"``). Raises ParameterError (nothing is
    read or spent).

    >>> from privsynth.schema import Schema
    >>> p = Schema.from_dict({"columns": [{"name": "k", "kind": "id"},
    ...                                   {"name": "a", "kind": "boolean"}]})
    >>> c = Schema.from_dict({"columns": [{"name": "k", "kind": "id"},
    ...                                   {"name": "b", "kind": "boolean"}]})
    >>> plan = plan_tables({"p": p, "c": c}, [Relation("p", "c", "k")], max_children=3)
    >>> check_links({"b": "a"}, plan)
    {'b': ('p.a',)}
    >>> check_links({"b": ["z"]}, plan)
    Traceback (most recent call last):
    ...
    privsynth.errors.ParameterError: links: 'z' is not a modelled column of 'p'; choose among ...
    """
    if links is None:
        return {}
    rel = plan.relation
    if not isinstance(links, Mapping):
        raise ParameterError("links must be a mapping {child column: parent column or list of "
                             "parent columns}, e.g. {'distance': 'seats'}")
    modelled = [n for n in plan.child_schema.names
                if n != rel.key and n not in plan.given]
    out: dict[str, tuple[str, ...]] = {}
    for column, parents in links.items():
        if column not in modelled:
            raise ParameterError(f"links: {column!r} is not a modelled column of "
                                 f"{rel.child!r}; choose among {modelled}. Nothing was spent.")
        names = [parents] if isinstance(parents, str) else parents
        if not isinstance(names, Sequence) or not names or not all(
                isinstance(n, str) for n in names) or len(set(names)) != len(names):
            raise ParameterError(f"links[{column!r}] must name one or more distinct columns of "
                                 f"{rel.parent!r}. Nothing was spent.")
        for n in names:
            if given_name(rel.parent, n) not in plan.given:
                allowed = [g.split(".", 1)[1] for g in plan.given]
                raise ParameterError(
                    f"links: {n!r} is not a modelled column of {rel.parent!r}; choose among "
                    f"{allowed}. Nothing was spent.")
        out[column] = tuple(given_name(rel.parent, n) for n in names)
    return out


__all__ = ["N_CHILDREN", "Relation", "TablesPlan", "check_links", "given_name", "plan_tables"]

"""Parent/child tables: one release for a parent table and its child table (issue 22).

``PrivBayes().fit_tables(tables, schemas=..., relations=[Relation(...)],
epsilon=..., max_children=k)`` fits both tables as one release whose privacy
unit is one parent row with up to ``k`` of its children (docs/units.md,
"Related tables"); :class:`TablesModel` samples linked tables with exact key
integrity and saves to the safe model-file format.
"""

from privsynth.engines.tables._fit import (
    ENGINE,
    CheckedTables,
    bound_tables,
    check_public_tables,
    epsilon_split,
    fit_tables,
)
from privsynth.engines.tables._model import TablesModel, draw_given, load_tables
from privsynth.engines.tables._part import ReleasePart
from privsynth.engines.tables._relation import N_CHILDREN, Relation, TablesPlan, plan_tables

__all__ = [
    "ENGINE",
    "N_CHILDREN",
    "CheckedTables",
    "Relation",
    "ReleasePart",
    "TablesModel",
    "TablesPlan",
    "bound_tables",
    "check_public_tables",
    "draw_given",
    "epsilon_split",
    "fit_tables",
    "load_tables",
    "plan_tables",
]

"""The audit report of a synthetic release: :func:`audit` and :class:`AuditReport`.

HTML for people, JSON for machines (``docs/report.md``, ``docs/audit-json.md``).

:func:`audit` gathers everything a reviewer needs to judge one release: its
identity (ids and file hashes), the public schema, the privacy unit and threat
model, the privacy ledger, the two guarantees (this release's own and the data
set's total, the model linked to the ledger by entry ids), a plain-language
reading of the total, a hazards checklist, the empirical attacks of
:mod:`privsynth.risk`, utility metrics of :mod:`privsynth.metrics`, a
residual-risk statement and the full configuration. A release of related
tables (``fit_tables``) gets one report of both tables and their relation
(:func:`audit_tables`, also reached through :func:`audit` with mappings of
tables).

The report is computed by the data steward *from the private data*, so it is
itself an output that must not leak:

- it never contains a row of the real data, a real value outside the public
  schema, or an exact count of real rows (the row count shown is the engine's
  noisy, DP estimate);
- figures of the real data are drawn on the *public* bins of the schema
  (equal-width bins between the schema's bounds, the schema's categories),
  never on quantiles of the data;
- the *evaluation* parts (utility, attacks, distance diagnostics) are
  aggregates computed on the private data without DP. They are kept in the
  default edition, meant for the steward and auditors, and dropped from the
  public edition (``to_html(public=True)`` / ``to_json(public=True)``), which
  holds only the schema, DP outputs, the ledger and the hazards.

The HTML is a pure function of the JSON document of the same edition, so the
HTML never shows anything the JSON of that edition does not hold.

Example
-------
>>> import pandas as pd
>>> from privsynth.accounting import Accountant
>>> from privsynth.engines.privbayes import PrivBayes
>>> from privsynth.schema import Schema
>>> schema = Schema.from_dict({"columns": [
...     {"name": "age", "kind": "integer", "lower": 0, "upper": 99},
...     {"name": "smoker", "kind": "categorical", "categories": ["no", "yes"]}]})
>>> real = pd.DataFrame({"age": [20, 35, 50, 65] * 50, "smoker": ["no", "yes"] * 100})
>>> ledger = Accountant(2.0)
>>> model = PrivBayes().fit(real, schema=schema, epsilon=1.0, accountant=ledger)
>>> report = audit(real, model.sample(random_state=0), model=model, accountant=ledger)
>>> s = report.summary()
>>> s["release_epsilon"], s["epsilon"], s["method"]
(1.0, 1.0, 'sum')
>>> [h["status"] for h in report.to_dict()["hazards"] if h["id"] == "schema-source"]
['pass']
>>> REPORT_FORMAT, REPORT_VERSION, schema_path().name
('privsynth.audit', 2, 'audit.schema.json')
>>> html = report.to_html(public=True)
>>> '<h2 id="ledger">' in html and "://" not in html
True
"""

from privsynth.report.build import audit
from privsynth.report.document import (
    REPORT_FORMAT,
    REPORT_VERSION,
    SECTIONS,
    TABLES_SECTIONS,
    AuditReport,
    schema_path,
)
from privsynth.report.tables import audit_tables

__all__ = ["REPORT_FORMAT", "REPORT_VERSION", "SECTIONS", "TABLES_SECTIONS", "AuditReport",
           "audit", "audit_tables", "schema_path"]

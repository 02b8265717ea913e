"""The audit report of a synthetic release: HTML for people, JSON for machines.

>>> from privsynth.report import REPORT_FORMAT, REPORT_VERSION, schema_path
>>> REPORT_FORMAT, REPORT_VERSION, schema_path().name
('privsynth.audit', 1, 'audit.schema.json')

See :func:`audit` and ``docs/report.md``.
"""

from privsynth.report.report import (
    REPORT_FORMAT,
    REPORT_VERSION,
    SECTIONS,
    AuditReport,
    audit,
    schema_path,
)

__all__ = ["REPORT_FORMAT", "REPORT_VERSION", "SECTIONS", "AuditReport", "audit", "schema_path"]

"""The data dictionary of the reporting database, generated from the models and the views (docs/reporting.md)."""

from __future__ import annotations

import sqlglot

from groupscope.reporting import models, views

SCHEMA_NAMES = {
    models.REPORTING: "reporting schema (config `reporting.schema_name`, default `groupscope`)",
    models.RESTRICTED: "restricted schema (config `reporting.restricted_schema`, default `groupscope_restricted`)",
}


def view_columns(v: views.View) -> list[str]:
    return sqlglot.parse_one(v.select.format(rs="rs"), read="postgres").named_selects


def reporting_markdown() -> str:
    lines = [
        "# Reporting database: data dictionary",
        "",
        "Generated from groupscope/reporting/models.py and views.py by `python -m groupscope.docs`.",
        "BI tools read the views and tables of the reporting schema. Telephone numbers appear there only as",
        "`number_key` (keyed pseudonym) and `number_masked`; clear numbers are in the restricted schema,",
        "which only the exports read. Every table with a `period` column holds one row set per month; a",
        "load replaces a month in one transaction.",
    ]
    for schema in (models.REPORTING, models.RESTRICTED):
        lines += ["", f"## Tables of the {SCHEMA_NAMES[schema]}"]
        for t in sorted((t for t in models.metadata.sorted_tables if t.schema == schema), key=lambda t: t.name):
            pk = ", ".join(c.name for c in t.primary_key.columns) or "none"
            lines += ["", f"### {t.name}", "", f"{t.comment}. Key: `{pk}`.", ""]
            lines += ["| column | type | null | meaning |", "|---|---|---|---|"]
            for c in t.columns:
                lines.append(f"| {c.name} | {str(c.type).lower()} | {'yes' if c.nullable else 'no'} | {c.comment or ''} |")
    lines += ["", "## Views of the reporting schema (for BI)"]
    for v in views.CURRENT:
        lines += ["", f"### {v.name}", "", v.description + ".", "", "Columns: " + ", ".join(f"`{c}`" for c in view_columns(v)) + "."]
    return "\n".join(lines) + "\n"

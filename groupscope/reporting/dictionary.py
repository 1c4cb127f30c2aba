"""The data dictionary of the reporting database, generated from the models and the views (docs/reporting.md)."""

from __future__ import annotations

import sqlglot

from groupscope.reporting import models, views

SCHEMA_NAMES = {
    models.REPORTING: "reporting schema (config `reporting.schema_name`, default `groupscope`)",
    models.RESTRICTED: "restricted schema (config `reporting.restricted_schema`, default `groupscope_restricted`)",
}


CAMPAIGN_NOTES = [
    "",
    "## Win-over campaigns",
    "",
    "The campaign tables (`campaign`, `campaign_target`, `campaign_feedback`, `campaign_evaluation`) are kept by",
    "the `groupscope campaign` steps, not by the monthly load: a re-run of a month leaves them alone. The",
    "workflow: `create` stores the settings and criteria (`campaign`); `select` ranks the month's potential",
    "members by expected value (group value score x employee score) within budget and capacity, draws the",
    "hold-out and records the cut-off (`campaign_target`, `campaign.cutoff_*`); `assign` fills",
    "`campaign_target.account_manager_id` (group owner first, then balanced) and writes the worklists;",
    "`feedback` keeps the latest accepted answer per campaign and number (`campaign_feedback`; rows for an",
    "unknown campaign, a non-target or a hold-out target go to the month's quarantine with the reason);",
    "`evaluate` writes `campaign_evaluation` from the feedback and the following months' bills",
    "(`fact_subscriber_value.revenue`). BI reads `v_campaign_evaluation` (level `campaign`, `account_manager`,",
    "`tranche` for the marginal efficiency by rank, `employee_score` for likely employees against the other",
    "targets) and `v_campaign_targets`.",
]


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
    lines += CAMPAIGN_NOTES
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

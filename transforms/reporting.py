"""The rows of every reporting table for one period, as SQL over the period's results (no I/O).

Each query selects exactly the columns of its model in groupscope/reporting/models.py, in order, so the
load can bulk-copy it. Telephone numbers are replaced by `number_key` through the relation `numbers`
(msisdn, number_key, number_masked); only `number_identity` keeps the clear number.

Relations the queries read (names are SQL relations, e.g. read_parquet(...)):
member_scores, potential_members, group_summary, group_value, subscriber_value, market_calibration,
prospect_groups, prospect_members, groups, account_managers, number_ranges, ported_numbers, numbers,
validation, quarantine, source_files.
"""

from __future__ import annotations

import sqlalchemy as sa

from groupscope.reporting import models as m
from transforms.sql import lit


def _select(table: sa.Table, source: str, exprs: dict[str, str] | None = None, tail: str = "") -> str:
    exprs = exprs or {}
    unknown = set(exprs) - set(table.c.keys())
    if unknown:
        raise KeyError(f"{table.name} has no column(s) {sorted(unknown)}")
    cols = ", ".join(f'{exprs.get(c, chr(34) + c + chr(34))} AS "{c}"' for c in table.c.keys())
    return f"SELECT {cols} FROM {source} {tail}".strip()


# Tables that describe the ingest of a period; they are loaded even when a run stops after validation.
INGEST_TABLES = ("fact_data_quality", "fact_quarantine_count", "fact_source_rows", "quarantine_row")


def load_queries(rel: dict[str, str], period: str, home_carrier: str, ingest_only: bool = False) -> dict[str, str]:
    return _ingest_queries(rel, period) if ingest_only else _all_queries(rel, period, home_carrier)


def _ingest_queries(rel: dict[str, str], period: str) -> dict[str, str]:
    p = lit(period)
    return {
        "fact_data_quality": _select(
            m.fact_data_quality,
            rel["validation"],
            {
                "period": p,
                "check_no": 'CAST(row_number() OVER (ORDER BY "table", expectation, observed, detail) AS INTEGER)',
                "source": '"table"',
            },
        ),
        "fact_quarantine_count": _select(
            m.fact_quarantine_count,
            rel["quarantine"],
            # a file-level row (a file not read, no row number) names the file; its rows are unknown
            {"period": p, "rows": "count(row_number)"},
            "GROUP BY source, file, reason ORDER BY source, file, reason",
        ),
        "fact_source_rows": _select(m.fact_source_rows, rel["source_files"], {"period": p, "source": '"table"'}),
        # PostgreSQL text cannot hold NUL; it is the only character a quarantined raw row is stored without.
        "quarantine_row": _select(
            m.quarantine_row, rel["quarantine"], {"period": p, "raw": "replace(raw, chr(0), '\\x00')"}
        ),
    }


def _all_queries(rel: dict[str, str], period: str, home_carrier: str) -> dict[str, str]:
    p = lit(period)
    am = f"(SELECT group_id, account_manager_id FROM {rel['group_summary']})"
    num = f"{rel['numbers']} AS n"
    return {
        "dim_period": _select(
            m.dim_period,
            "(SELECT CAST(" + lit(period + "-01") + " AS DATE) AS d)",
            {"period": p, "month_start": "d", "year": "year(d)", "quarter": "quarter(d)", "month": "month(d)"},
        ),
        "dim_carrier": _select(
            m.dim_carrier,
            f"(SELECT carrier, number_type, prefix FROM {rel['number_ranges']} UNION ALL "
            f"SELECT carrier, NULL, NULL FROM {rel['ported_numbers']})",
            {
                "is_home": f"carrier = {lit(home_carrier)}",
                "number_types": "coalesce(string_agg(DISTINCT number_type, ',' ORDER BY number_type), '')",
                "prefixes": "CAST(count(prefix) AS INTEGER)",
            },
            "WHERE carrier IS NOT NULL GROUP BY carrier ORDER BY carrier",
        ),
        "dim_industry": _select(
            m.dim_industry, f"{rel['groups']}", tail="WHERE industry IS NOT NULL GROUP BY industry ORDER BY industry"
        ),
        "dim_region": _select(
            m.dim_region,
            f"(SELECT region FROM {rel['groups']} UNION SELECT region FROM {rel['account_managers']})",
            tail="WHERE region IS NOT NULL ORDER BY region",
        ),
        "dim_account_manager": _select(m.dim_account_manager, rel["account_managers"], {"period": p}),
        "dim_group": _select(m.dim_group, rel["groups"], {"period": p}),
        "dim_number": _select(m.dim_number, rel["numbers"], tail="ORDER BY number_key"),
        "number_identity": _select(m.number_identity, rel["numbers"], tail="ORDER BY number_key"),
        "fact_member_audit": _select(
            m.fact_member_audit,
            f"{rel['member_scores']} AS s JOIN {num} USING (msisdn) LEFT JOIN {am} AS a USING (group_id)",
            {"period": p},
        ),
        "fact_group_month": _select(
            m.fact_group_month,
            f"{rel['group_summary']} AS s LEFT JOIN {rel['group_value']} AS v USING (group_id)",
            {
                "period": p,
                "listed_members": "s.listed_members",
                "real_members": "s.real_members",
                "purity": "s.purity",
                "est_offnet_employees": "s.est_offnet_employees",
                "market_share": "s.market_share",
                "real_revenue": "CAST(v.real_revenue AS DECIMAL(16,2))",
            },
        ),
        "fact_potential_member": _select(
            m.fact_potential_member,
            f"{rel['potential_members']} AS s JOIN {num} USING (msisdn) LEFT JOIN {am} AS a USING (group_id)",
            {"period": p},
        ),
        "fact_subscriber_value": _select(
            m.fact_subscriber_value,
            f"{rel['subscriber_value']} AS s JOIN {num} USING (msisdn)",
            {"period": p, "revenue": "CAST(revenue AS DECIMAL(16,2))"},
        ),
        "fact_market_calibration": _select(m.fact_market_calibration, rel["market_calibration"], {"period": p}),
        "fact_prospect_group": _select(m.fact_prospect_group, rel["prospect_groups"], {"period": p}),
        "fact_prospect_member": _select(
            m.fact_prospect_member, f"{rel['prospect_members']} AS s JOIN {num} USING (msisdn)", {"period": p}
        ),
        **_ingest_queries(rel, period),
    }

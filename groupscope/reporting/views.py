"""The BI views, versioned: a migration creates the views of one version; a later change of a view is a
new version here and a new migration that replaces it.

The SQL is plain enough for PostgreSQL and DuckDB alike. On PostgreSQL the views are created with
`security_invoker`, so row-level security of the underlying tables applies to whoever reads the view.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class View:
    name: str
    description: str
    select: str  # {rs} is the reporting schema

    def create_sql(self, rs: str, dialect: str) -> str:
        opts = " WITH (security_invoker = true)" if dialect == "postgresql" else ""
        body = self.select.format(rs=f'"{rs}"')
        return f'CREATE VIEW "{rs}"."{self.name}"{opts} AS {body}'

    def drop_sql(self, rs: str) -> str:
        return f'DROP VIEW IF EXISTS "{rs}"."{self.name}"'


_GROUP = "LEFT JOIN {rs}.dim_group AS g ON g.period = f.period AND g.group_id = f.group_id"

V1 = [
    View(
        "v_group_scorecard",
        "one row per group and month: who owns it, its real size, purity, market share and value",
        "SELECT f.period, f.group_id, g.group_name, g.industry, g.region, f.account_manager_id, "
        "m.name AS account_manager_name, f.listed_members, f.suspect_members, f.real_members, f.purity, "
        "f.est_onnet_unregistered, f.est_offnet_employees, f.market_share, f.correction_coefficient, "
        "f.real_revenue, f.value_score, f.value_tier, f.value_grid "
        "FROM {rs}.fact_group_month AS f " + _GROUP + " "
        "LEFT JOIN {rs}.dim_account_manager AS m ON m.period = f.period AND m.account_manager_id = f.account_manager_id",
    ),
    View(
        "v_account_manager_worklist",
        "what each account manager should act on: suspected fake members to verify, likely employees "
        "and key competitor users to win over (numbers masked)",
        "SELECT f.period, f.account_manager_id, f.group_id, g.group_name, 'verify suspected fake member' AS action, "
        "f.number_key, n.number_masked, f.fake_score AS score, CAST(NULL AS TEXT) AS carrier, "
        "CAST(NULL AS BOOLEAN) AS on_net, f.members_contacted, f.reasons AS detail "
        "FROM {rs}.fact_member_audit AS f " + _GROUP + " "
        "LEFT JOIN {rs}.dim_number AS n ON n.number_key = f.number_key WHERE f.is_suspect "
        "UNION ALL "
        "SELECT f.period, f.account_manager_id, f.group_id, g.group_name, "
        "CASE WHEN f.on_net THEN 'register on-net employee' ELSE 'win over competitor user' END AS action, "
        "f.number_key, n.number_masked, f.score, f.carrier, f.on_net, f.members_contacted, "
        "'in contact with ' || CAST(f.members_contacted AS TEXT) || ' members' AS detail "
        "FROM {rs}.fact_potential_member AS f " + _GROUP + " "
        "LEFT JOIN {rs}.dim_number AS n ON n.number_key = f.number_key WHERE f.likely_employee",
    ),
    View(
        "v_market_share_trend",
        "market share of every group month over month, with the previous month and the change",
        "SELECT f.period, f.group_id, g.group_name, g.industry, f.account_manager_id, f.market_share, "
        "lag(f.market_share) OVER (PARTITION BY f.group_id ORDER BY f.period) AS previous_market_share, "
        "f.market_share - lag(f.market_share) OVER (PARTITION BY f.group_id ORDER BY f.period) AS change, "
        "f.real_members, f.est_onnet_unregistered, f.est_offnet_employees "
        "FROM {rs}.fact_group_month AS f " + _GROUP,
    ),
    View(
        "v_value_pyramid",
        "count and revenue of groups and subscribers in each value tier per month",
        "SELECT period, 'group' AS level, value_tier, count(*) AS entities, sum(real_revenue) AS revenue "
        "FROM {rs}.fact_group_month GROUP BY period, value_tier "
        "UNION ALL SELECT period, 'subscriber' AS level, value_tier, count(*), sum(revenue) "
        "FROM {rs}.fact_subscriber_value GROUP BY period, value_tier",
    ),
    View(
        "v_value_grid",
        "count of groups and subscribers in each cell of the current x potential value grid per month",
        "SELECT period, 'group' AS level, value_grid, count(*) AS entities FROM {rs}.fact_group_month "
        "GROUP BY period, value_grid UNION ALL SELECT period, 'subscriber' AS level, value_grid, count(*) "
        "FROM {rs}.fact_subscriber_value GROUP BY period, value_grid",
    ),
    View(
        "v_source_accounting",
        "rows read, accepted and quarantined per source table and month (read = accepted + quarantined)",
        "SELECT period, source, count(*) AS files, sum(rows_read) AS rows_read, sum(accepted) AS accepted, "
        "sum(quarantined) AS quarantined FROM {rs}.fact_source_rows GROUP BY period, source",
    ),
]

# Win-over campaigns (migration 0003_campaigns).
CAMPAIGN_V1 = [
    View(
        "v_campaign_evaluation",
        "evaluation of every campaign: overall, per account manager, per tranche of targets by rank and by "
        "employee score: contacted, converted, conversion rate, revenue won, cost, ROI, uplift against the hold-out",
        "SELECT e.campaign_id, c.name AS campaign_name, c.period, c.status, e.level, e.level_key, "
        "e.evaluated_through, e.rank_from, e.rank_to, e.targets, e.contacted, e.converted, e.conversion_rate, "
        "e.billed, e.billed_rate, e.revenue, e.cost, e.roi, e.holdout_targets, e.holdout_billed_rate, e.uplift "
        "FROM {rs}.campaign_evaluation AS e JOIN {rs}.campaign AS c ON c.campaign_id = e.campaign_id",
    ),
    View(
        "v_campaign_targets",
        "every selected target of every campaign with its assignment and feedback (numbers masked)",
        "SELECT t.campaign_id, c.name AS campaign_name, c.period, t.rank, t.number_key, t.number_masked, "
        "t.group_id, t.account_manager_id, t.assignment, t.holdout, t.expected_value, t.score, "
        "t.likely_employee, t.carrier, t.on_net, t.value_tier, t.industry, t.region, f.outcome, "
        "f.contacted_at, f.cost_yuan, f.feedback_period "
        "FROM {rs}.campaign_target AS t JOIN {rs}.campaign AS c ON c.campaign_id = t.campaign_id "
        "LEFT JOIN {rs}.campaign_feedback AS f ON f.campaign_id = t.campaign_id AND f.number_key = t.number_key",
    ),
]

# Version 2 (migration 0003_market_share_both_ways): the market-share trend reads the month-over-month
# change the analytics stored, split into movement and recalibration, both ways (score and the
# operator's 10 % rule); a missing previous month is NULL with previous_month = 'missing', never the
# change since an older month.
MARKET_SHARE_TREND_V2 = View(
    "v_market_share_trend",
    "market share of every group month over month, both ways (score-based and the operator's 10 % rule), "
    "with the change split into movement and recalibration; previous_month says when last month is missing",
    "SELECT f.period, f.group_id, g.group_name, g.industry, f.account_manager_id, f.market_share, "
    "f.previous_market_share, f.share_change AS change, "
    "f.real_members, f.est_onnet_unregistered, f.est_offnet_employees, "
    "f.previous_month, f.share_change_movement, f.share_change_recalibration, "
    "f.correction_coefficient, f.coefficient_scope, "
    "f.offnet_key_competitor, f.rule_market_share, f.rule_previous_market_share, f.rule_share_change, "
    "f.rule_share_change_movement, f.rule_share_change_recalibration, f.rule_correction_coefficient, "
    "f.rule_coefficient_scope "
    "FROM {rs}.fact_group_month AS f " + _GROUP,
)
V2 = [MARKET_SHARE_TREND_V2 if v.name == MARKET_SHARE_TREND_V2.name else v for v in V1]


# Version 3 (migration 0005_worklist_wording): the worklist (version 1 until then)'s detail of a likely employee says "1 member",
# not "1 members".
WORKLIST_V1 = next(v for v in V1 if v.name == "v_account_manager_worklist")
WORKLIST_V3 = View(
    WORKLIST_V1.name,
    WORKLIST_V1.description,
    WORKLIST_V1.select.replace(
        "' members' AS detail",
        "CASE WHEN f.members_contacted = 1 THEN ' member' ELSE ' members' END AS detail",
    ),
)
assert WORKLIST_V3.select != WORKLIST_V1.select
V3 = [WORKLIST_V3 if v.name == WORKLIST_V3.name else v for v in V2]


CURRENT = V3 + CAMPAIGN_V1

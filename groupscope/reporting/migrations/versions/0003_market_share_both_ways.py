"""Market share both ways (score and the operator's 10 % rule) with leave-one-out errors and the
month-over-month change split into movement and recalibration; evidence and confidence of member scores.

Revision ID: 0003_market_share_both_ways
Revises: 0003_campaigns
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import context, op

from groupscope.reporting.views import MARKET_SHARE_TREND_V2, V1

revision = "0003_market_share_both_ways"
down_revision = "0003_campaigns"
branch_labels = None
depends_on = None

NEW = {
    "fact_member_audit": {
        "evidence": (sa.Text(), "sufficient, or insufficient: too little to judge, never flagged"),
        "confidence": (sa.Double(), "0..1 confidence in is_suspect (0 when evidence is insufficient)"),
    },
    "fact_group_month": {
        "insufficient_members": (sa.BigInteger(), "members with too little evidence to judge (never flagged)"),
        "offnet_key_competitor": (
            sa.BigInteger(),
            "key competitor users: off-net numbers in contact with more than 10 % of the members (the operator's rule)",
        ),
        "rule_correction_coefficient": (
            sa.Double(), "survey-calibrated factor applied to offnet_key_competitor; empty when uncalibrated"
        ),
        "rule_coefficient_scope": (sa.Text(), "industry, global, or uncalibrated"),
        "rule_est_offnet_employees": (
            sa.Double(), "offnet_key_competitor x rule_correction_coefficient (uncorrected when uncalibrated)"
        ),
        "rule_market_share": (sa.Double(), "market share from the operator's 10 % rule"),
        "previous_month": (sa.Text(), "present, missing (no results for the previous month) or new group"),
        "previous_market_share": (sa.Double(), "last month's market_share as it was reported"),
        "share_change": (sa.Double(), "market_share - previous_market_share"),
        "share_change_movement": (
            sa.Double(), "part of the change from this month's counts (under last month's coefficient)"
        ),
        "share_change_recalibration": (
            sa.Double(), "part of the change from the new coefficient (on this month's counts)"
        ),
        "rule_previous_market_share": (sa.Double(), "last month's rule_market_share"),
        "rule_share_change": (sa.Double(), "rule_market_share - rule_previous_market_share"),
        "rule_share_change_movement": (sa.Double(), "part of the rule change from this month's counts"),
        "rule_share_change_recalibration": (sa.Double(), "part of the rule change from the new coefficient"),
    },
    "fact_market_calibration": {
        "status": (sa.Text(), "calibrated, or which method is uncalibrated (no surveys or nothing counted on them)"),
        "loo_mae_pp": (
            sa.Double(),
            "leave-one-out mean absolute error of the score-based market share on the surveys, percentage points",
        ),
        "rule_coefficient": (sa.Double(), "factor applied to key competitor users (10 % rule); empty when uncalibrated"),
        "rule_mae_employees": (sa.Double(), "mean absolute error of the rule's off-net employees on the surveys"),
        "rule_loo_mae_pp": (
            sa.Double(), "leave-one-out mean absolute error of the rule-based market share, percentage points"
        ),
    },
}
# (table, column): (comment in 0003, comment before)
COMMENTS = {
    ("fact_group_month", "correction_coefficient"): (
        "survey-calibrated factor applied to offnet_detected; empty when uncalibrated",
        "survey-calibrated factor applied to offnet_detected",
    ),
    ("fact_group_month", "coefficient_scope"): (
        "industry the coefficient was fitted on, global, or uncalibrated",
        "industry the coefficient was fitted on, or global",
    ),
    ("fact_market_calibration", "coefficient"): (
        "factor applied to detected off-net employees; empty when uncalibrated",
        "factor applied to detected off-net employees",
    ),
}


def _schema() -> str:
    return context.config.attributes["schemas"]["reporting"]


def _comment(rs: str, table: str, column: str, text: str) -> None:
    op.execute(f"""COMMENT ON COLUMN "{rs}".{table}.{column} IS '{text.replace("'", "''")}'""")


def _old_trend():
    return next(v for v in V1 if v.name == MARKET_SHARE_TREND_V2.name)


def upgrade() -> None:
    rs = _schema()
    op.execute(_old_trend().drop_sql(rs))
    for table, cols in NEW.items():
        for name, (type_, comment) in cols.items():
            op.add_column(table, sa.Column(name, type_, nullable=True), schema=rs)
            _comment(rs, table, name, comment)
    op.execute(f'ALTER TABLE "{rs}".fact_market_calibration ALTER COLUMN coefficient DROP NOT NULL')
    for (table, column), (new, _old) in COMMENTS.items():
        _comment(rs, table, column, new)
    op.execute(MARKET_SHARE_TREND_V2.create_sql(rs, op.get_bind().dialect.name))


def downgrade() -> None:
    rs = _schema()
    op.execute(MARKET_SHARE_TREND_V2.drop_sql(rs))
    op.execute(f'DELETE FROM "{rs}".fact_market_calibration WHERE coefficient IS NULL')
    op.execute(f'ALTER TABLE "{rs}".fact_market_calibration ALTER COLUMN coefficient SET NOT NULL')
    for (table, column), (_new, old) in COMMENTS.items():
        _comment(rs, table, column, old)
    for table, cols in reversed(list(NEW.items())):
        for name in reversed(list(cols)):
            op.drop_column(table, name, schema=rs)
    op.execute(_old_trend().create_sql(rs, op.get_bind().dialect.name))

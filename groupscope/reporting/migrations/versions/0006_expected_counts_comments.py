"""fact_group_month's estimate columns described as they are computed since the score-based estimate
counts expected employees (each unregistered contact weighted by its employee score) and the
coefficient is fitted per size band: the comments BI tools show were those of the hard count per industry.

Revision ID: 0006_expected_counts_comments
Revises: 0005_worklist_wording
Create Date: 2026-12-02
"""

from alembic import context, op

revision = "0006_expected_counts_comments"
down_revision = "0005_worklist_wording"
branch_labels = None
depends_on = None

# column: (comment after, comment before)
COMMENTS = {
    "est_onnet_unregistered": (
        "home-carrier employees not registered: expected on-net employees among the group's contacts "
        "x correction_coefficient, rounded",
        "home-carrier likely employees not registered",
    ),
    "correction_coefficient": (
        "survey-calibrated factor applied to the expected unregistered employees, on-net and off-net; "
        "empty when uncalibrated",
        "survey-calibrated factor applied to offnet_detected; empty when uncalibrated",
    ),
    "coefficient_scope": (
        "scope the coefficient was fitted on (size band, or global), or uncalibrated",
        "industry the coefficient was fitted on, global, or uncalibrated",
    ),
    "est_offnet_employees": (
        "expected off-net employees among the group's contacts (weighted by employee score) x correction_coefficient",
        "offnet_detected x correction_coefficient",
    ),
}


def _comment(column: str, text: str) -> None:
    rs = context.config.attributes["schemas"]["reporting"]
    op.execute(f"""COMMENT ON COLUMN "{rs}".fact_group_month.{column} IS '{text.replace("'", "''")}'""")


def upgrade() -> None:
    for column, (after, _) in COMMENTS.items():
        _comment(column, after)


def downgrade() -> None:
    for column, (_, before) in COMMENTS.items():
        _comment(column, before)

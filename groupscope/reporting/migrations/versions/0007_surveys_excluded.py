"""fact_market_calibration.surveys_excluded: the surveys a scope's calibration left out as implausible
(analytics.survey_max_ratio); one absurd headcount had set every group's coefficient.

Revision ID: 0007_surveys_excluded
Revises: 0006_expected_counts_comments
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import context, op

from groupscope.reporting.models import SURVEYS_EXCLUDED_COMMENT

revision = "0007_surveys_excluded"
down_revision = "0006_expected_counts_comments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    rs = context.config.attributes["schemas"]["reporting"]
    op.add_column("fact_market_calibration", sa.Column("surveys_excluded", sa.BigInteger(), nullable=True), schema=rs)
    text = SURVEYS_EXCLUDED_COMMENT.replace("'", "''")
    op.execute(f"""COMMENT ON COLUMN "{rs}".fact_market_calibration.surveys_excluded IS '{text}'""")


def downgrade() -> None:
    rs = context.config.attributes["schemas"]["reporting"]
    op.drop_column("fact_market_calibration", "surveys_excluded", schema=rs)

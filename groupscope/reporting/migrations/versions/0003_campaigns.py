"""Win-over (策反) campaigns: campaigns, their ranked targets, feedback and evaluation; BI views.

Revision ID: 0003_campaigns
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import context, op

from groupscope.reporting.views import CAMPAIGN_V1

revision = "0003_campaigns"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ["campaign_evaluation", "campaign_feedback", "campaign_target", "campaign"]


def upgrade() -> None:
    op.create_table(
        "campaign",
        sa.Column("campaign_id", sa.Text(), nullable=False, comment="campaign key"),
        sa.Column("name", sa.Text(), nullable=False, comment="name given at creation"),
        sa.Column(
            "period",
            sa.String(length=7),
            nullable=False,
            comment="YYYY-MM of the potential-member results it selects from",
        ),
        sa.Column("criteria", sa.Text(), nullable=False, comment="selection criteria as JSON"),
        sa.Column(
            "offer_cost",
            sa.Numeric(precision=12, scale=2),
            nullable=False,
            comment="planned cost per approached target, yuan",
        ),
        sa.Column(
            "budget",
            sa.Numeric(precision=16, scale=2),
            nullable=False,
            comment="budget for approached targets, yuan",
        ),
        sa.Column(
            "capacity_per_am", sa.Integer(), nullable=False, comment="targets one account manager can work"
        ),
        sa.Column(
            "holdout_share",
            sa.Double(),
            nullable=False,
            comment="share of selected targets held out (not approached)",
        ),
        sa.Column(
            "seed", sa.BigInteger(), nullable=False, comment="seed of tie-breaks and of the hold-out draw"
        ),
        sa.Column(
            "status",
            sa.Text(),
            nullable=False,
            comment="created / selected / assigned / feedback / evaluated",
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False, comment="when created (UTC)"),
        sa.Column(
            "selected_at", sa.DateTime(), nullable=True, comment="when targets were last selected (UTC)"
        ),
        sa.Column(
            "assigned_at", sa.DateTime(), nullable=True, comment="when targets were last assigned (UTC)"
        ),
        sa.Column(
            "candidates", sa.BigInteger(), nullable=True, comment="potential members meeting the criteria"
        ),
        sa.Column("targets", sa.BigInteger(), nullable=True, comment="selected targets, hold-out included"),
        sa.Column("holdout", sa.BigInteger(), nullable=True, comment="selected targets held out"),
        sa.Column("cutoff_rank", sa.BigInteger(), nullable=True, comment="rank of the last selected target"),
        sa.Column(
            "cutoff_expected_value",
            sa.Double(),
            nullable=True,
            comment="expected value of the last selected target",
        ),
        sa.Column(
            "cutoff_reason",
            sa.Text(),
            nullable=True,
            comment="what stopped the selection: budget, capacity or candidates",
        ),
        sa.PrimaryKeyConstraint("campaign_id"),
        schema="reporting",
        comment="win-over campaigns: their settings, selection criteria, cut-off and state",
    )
    op.create_table(
        "campaign_target",
        sa.Column("campaign_id", sa.Text(), nullable=False, comment="campaign.campaign_id"),
        sa.Column(
            "number_key",
            sa.String(length=32),
            nullable=False,
            comment="keyed pseudonym of the telephone number (HMAC-SHA-256, 32 hex digits); join restricted.number_identity for the number",
        ),
        sa.Column("number_masked", sa.Text(), nullable=True, comment="display form, e.g. 138****1234"),
        sa.Column("rank", sa.BigInteger(), nullable=False, comment="1 = highest expected value"),
        sa.Column(
            "expected_value", sa.Double(), nullable=False, comment="group value score x employee score"
        ),
        sa.Column("group_id", sa.Text(), nullable=False, comment="group customer key"),
        sa.Column(
            "owner_account_manager_id", sa.Text(), nullable=True, comment="account manager owning the group"
        ),
        sa.Column(
            "account_manager_id",
            sa.Text(),
            nullable=True,
            comment="account manager assigned to approach it; empty for hold-out",
        ),
        sa.Column(
            "assignment",
            sa.Text(),
            nullable=True,
            comment="owner / balanced / holdout; empty before assignment",
        ),
        sa.Column(
            "holdout", sa.Boolean(), nullable=False, comment="selected but not approached, to measure uplift"
        ),
        sa.Column("score", sa.Double(), nullable=False, comment="employee score 0..1 in the campaign period"),
        sa.Column("likely_employee", sa.Boolean(), nullable=False, comment="score at or above the threshold"),
        sa.Column(
            "member_share", sa.Double(), nullable=False, comment="share of the group's members it contacted"
        ),
        sa.Column(
            "members_contacted", sa.BigInteger(), nullable=True, comment="distinct members it contacted"
        ),
        sa.Column("carrier", sa.Text(), nullable=True, comment="carrier in the campaign period"),
        sa.Column(
            "on_net", sa.Boolean(), nullable=False, comment="home-carrier subscriber in the campaign period"
        ),
        sa.Column("group_value_score", sa.Double(), nullable=True, comment="value score of the group 0..100"),
        sa.Column("value_tier", sa.Text(), nullable=True, comment="value tier of the group"),
        sa.Column("industry", sa.Text(), nullable=True, comment="industry of the group"),
        sa.Column("region", sa.Text(), nullable=True, comment="region of the group"),
        sa.PrimaryKeyConstraint("campaign_id", "number_key"),
        schema="reporting",
        comment="selected targets of each campaign, ranked by expected value, with their assignment",
    )
    op.create_table(
        "campaign_feedback",
        sa.Column("campaign_id", sa.Text(), nullable=False, comment="campaign.campaign_id"),
        sa.Column(
            "number_key",
            sa.String(length=32),
            nullable=False,
            comment="keyed pseudonym of the telephone number (HMAC-SHA-256, 32 hex digits); join restricted.number_identity for the number",
        ),
        sa.Column("account_manager_id", sa.Text(), nullable=True, comment="account manager who reported it"),
        sa.Column(
            "outcome", sa.Text(), nullable=False, comment="converted / declined / unreachable / pending"
        ),
        sa.Column("contacted_at", sa.Date(), nullable=True, comment="date of contact"),
        sa.Column(
            "cost_yuan",
            sa.Numeric(precision=14, scale=2),
            nullable=False,
            comment="incentive and effort spent on this target",
        ),
        sa.Column(
            "feedback_period",
            sa.String(length=7),
            nullable=False,
            comment="month partition the feedback arrived in",
        ),
        sa.Column("file", sa.Text(), nullable=True, comment="landing file it came from"),
        sa.PrimaryKeyConstraint("campaign_id", "number_key"),
        schema="reporting",
        comment="account managers' accepted feedback per target; a re-delivery replaces the earlier row",
    )
    op.create_table(
        "campaign_evaluation",
        sa.Column("campaign_id", sa.Text(), nullable=False, comment="campaign.campaign_id"),
        sa.Column(
            "level",
            sa.Text(),
            nullable=False,
            comment="campaign / account_manager / tranche / employee_score",
        ),
        sa.Column(
            "level_key",
            sa.Text(),
            nullable=False,
            comment="all, the account manager, the tranche (ranks a-b) or likely employee / other",
        ),
        sa.Column(
            "evaluated_through",
            sa.String(length=7),
            nullable=False,
            comment="last month whose bills were counted",
        ),
        sa.Column("rank_from", sa.BigInteger(), nullable=True, comment="first rank in the row"),
        sa.Column("rank_to", sa.BigInteger(), nullable=True, comment="last rank in the row"),
        sa.Column(
            "targets", sa.BigInteger(), nullable=False, comment="approached targets (hold-out excluded)"
        ),
        sa.Column(
            "contacted",
            sa.BigInteger(),
            nullable=False,
            comment="targets with feedback other than unreachable or pending",
        ),
        sa.Column("converted", sa.BigInteger(), nullable=False, comment="targets reported converted"),
        sa.Column("conversion_rate", sa.Double(), nullable=True, comment="converted / targets"),
        sa.Column(
            "billed",
            sa.BigInteger(),
            nullable=False,
            comment="targets off-net at selection with a bill in a following month (won, from the bills)",
        ),
        sa.Column("billed_rate", sa.Double(), nullable=True, comment="billed / targets off-net at selection"),
        sa.Column(
            "revenue",
            sa.Numeric(precision=16, scale=2),
            nullable=False,
            comment="following months' bills of converted targets, less their bill in the campaign month",
        ),
        sa.Column(
            "cost", sa.Numeric(precision=16, scale=2), nullable=False, comment="cost reported in feedback"
        ),
        sa.Column("roi", sa.Double(), nullable=True, comment="(revenue - cost) / cost"),
        sa.Column(
            "holdout_targets",
            sa.BigInteger(),
            nullable=True,
            comment="hold-out targets (campaign and tranche rows)",
        ),
        sa.Column("holdout_billed_rate", sa.Double(), nullable=True, comment="billed rate of the hold-out"),
        sa.Column("uplift", sa.Double(), nullable=True, comment="billed_rate - holdout_billed_rate"),
        sa.PrimaryKeyConstraint("campaign_id", "level", "level_key"),
        schema="reporting",
        comment="evaluation of each campaign: overall, per account manager, per tranche of targets by rank, and by employee score",
    )
    rs = context.config.attributes["schemas"]["reporting"]
    for v in CAMPAIGN_V1:
        op.execute(v.create_sql(rs, op.get_bind().dialect.name))


def downgrade() -> None:
    rs = context.config.attributes["schemas"]["reporting"]
    for v in reversed(CAMPAIGN_V1):
        op.execute(v.drop_sql(rs))
    for name in TABLES:
        op.drop_table(name, schema="reporting")

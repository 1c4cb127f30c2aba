"""The contract's market share and the employees' share side by side: `market_share` is the contract's
formula over real_members (data lines included); `market_share_staff` counts on-net staff (real members
less data cards and IoT SIMs), with `data_lines` the difference.

Revision ID: 0004_market_share_staff
Revises: 0003_market_share_both_ways
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0004_market_share_staff"
down_revision = "0003_market_share_both_ways"
branch_labels = None
depends_on = None

NEW = {
    "data_lines": (
        sa.BigInteger(),
        "real members that are data cards or IoT SIMs (data-only bill, no calls or SMS): lines, not employees",
    ),
    "market_share_staff": (
        sa.Double(),
        "share of the group's employees on the home carrier: market_share with on-net staff "
        "(real_members - data_lines) in place of real_members",
    ),
}
# comment of fact_group_month.market_share: (in 0004, before)
MARKET_SHARE_COMMENT = (
    "(real_members + est_onnet_unregistered) / (real_members + est_onnet_unregistered + est_offnet_employees), "
    "the contract's formula; data lines count as members",
    "home carrier's share of the group's estimated employees",
)


def _comment(column: str, text: str) -> None:
    rs = context.config.attributes["schemas"]["reporting"]
    op.execute(f"""COMMENT ON COLUMN "{rs}".fact_group_month.{column} IS '{text.replace("'", "''")}'""")


def upgrade() -> None:
    rs = context.config.attributes["schemas"]["reporting"]
    for name, (type_, comment) in NEW.items():
        op.add_column("fact_group_month", sa.Column(name, type_, nullable=True), schema=rs)
        _comment(name, comment)
    _comment("market_share", MARKET_SHARE_COMMENT[0])


def downgrade() -> None:
    rs = context.config.attributes["schemas"]["reporting"]
    _comment("market_share", MARKET_SHARE_COMMENT[1])
    for name in reversed(list(NEW)):
        op.drop_column("fact_group_month", name, schema=rs)

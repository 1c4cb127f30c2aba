"""The account-manager worklist's detail of a likely employee in the singular when it is in contact with
one member ("in contact with 1 member").

Revision ID: 0005_worklist_wording
Revises: 0004_market_share_staff
Create Date: 2026-12-02
"""

from alembic import context, op

from groupscope.reporting.views import WORKLIST_V1, WORKLIST_V3

revision = "0005_worklist_wording"
down_revision = "0004_market_share_staff"
branch_labels = None
depends_on = None


def _replace(view) -> None:
    rs = context.config.attributes["schemas"]["reporting"]
    op.execute(view.drop_sql(rs))
    op.execute(view.create_sql(rs, op.get_bind().dialect.name))


def upgrade() -> None:
    _replace(WORKLIST_V3)


def downgrade() -> None:
    _replace(WORKLIST_V1)

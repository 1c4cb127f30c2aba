"""Prospect groups: the teams a prospect joins and its region; attachment counted in working time.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLE = "fact_prospect_group"
NEW = {
    "teams": (sa.BigInteger(), "tightly knit teams (departments) it joins"),
    "region": (sa.Text(), "most frequent region of its home-carrier numbers"),
}
# column: (comment in 0002, comment in 0001)
COMMENTS = {
    "prospect_id": ("prospect number within the month, largest first", "community number within the month"),
    "nearest_group": ("registered group whose members it calls most in working hours", "registered group it is most tied to"),
    "group_attachment": (
        "its working-time calls with nearest_group's members per working-time call inside it",
        "share of its ties that go to nearest_group",
    ),
}


def _schema() -> str:
    """The configured name of the reporting schema (column DDL does not pass the schema translate map)."""
    return context.config.attributes["schemas"]["reporting"]


def _comment(rs: str, column: str, text: str) -> None:
    # COMMENT ON is the same on PostgreSQL and DuckDB; Alembic's own comment DDL has no DuckDB compiler
    op.execute(f"""COMMENT ON COLUMN "{rs}".{TABLE}.{column} IS '{text.replace("'", "''")}'""")


def upgrade() -> None:
    rs = _schema()
    for name, (type_, comment) in NEW.items():
        op.add_column(TABLE, sa.Column(name, type_, nullable=True), schema=rs)
        _comment(rs, name, comment)
    for name, (new, _old) in COMMENTS.items():
        _comment(rs, name, new)


def downgrade() -> None:
    rs = _schema()
    for name, (_new, old) in COMMENTS.items():
        _comment(rs, name, old)
    for name in reversed(NEW):
        op.drop_column(TABLE, name, schema=rs)

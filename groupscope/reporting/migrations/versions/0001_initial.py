"""Initial reporting schema: star schema, restricted schema, BI views (version 1).

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import context, op

from groupscope.reporting.views import V1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "am_access",
        sa.Column("role_name", sa.Text(), nullable=False, comment="database role of an account manager"),
        sa.Column("account_manager_id", sa.Text(), nullable=False, comment="account manager it may see"),
        sa.PrimaryKeyConstraint("role_name", "account_manager_id"),
        schema="reporting",
        comment="which database role acts for which account manager (row-level security on PostgreSQL)",
    )
    op.create_table(
        "dim_account_manager",
        sa.Column(
            "period", sa.String(length=7), nullable=False, comment="YYYY-MM of the month the row describes"
        ),
        sa.Column("account_manager_id", sa.Text(), nullable=False, comment="account manager key"),
        sa.Column("name", sa.Text(), nullable=True, comment="display name (may be Chinese)"),
        sa.Column("region", sa.Text(), nullable=True, comment="region"),
        sa.Column("branch", sa.Text(), nullable=True, comment="branch office"),
        sa.PrimaryKeyConstraint("period", "account_manager_id"),
        schema="reporting",
        comment="account managers as delivered for the month",
    )
    op.create_table(
        "dim_carrier",
        sa.Column("carrier", sa.Text(), nullable=False, comment="carrier code, e.g. CMCC"),
        sa.Column("is_home", sa.Boolean(), nullable=False, comment="true for the carrier running groupscope"),
        sa.Column(
            "number_types",
            sa.Text(),
            nullable=False,
            comment="kinds of number it holds ranges for, e.g. fixed,mobile",
        ),
        sa.Column("prefixes", sa.Integer(), nullable=False, comment="number of prefixes in the reference"),
        sa.PrimaryKeyConstraint("carrier"),
        schema="reporting",
        comment="carriers of the number-range reference",
    )
    op.create_table(
        "dim_group",
        sa.Column(
            "period", sa.String(length=7), nullable=False, comment="YYYY-MM of the month the row describes"
        ),
        sa.Column("group_id", sa.Text(), nullable=False, comment="group customer key"),
        sa.Column(
            "group_name",
            sa.Text(),
            nullable=True,
            comment="name as delivered (may contain quotes, commas, Chinese)",
        ),
        sa.Column("industry", sa.Text(), nullable=True, comment="industry"),
        sa.Column("region", sa.Text(), nullable=True, comment="region"),
        sa.Column(
            "account_manager_id",
            sa.Text(),
            nullable=True,
            comment="account manager who owns the group; row-level security filters on it",
        ),
        sa.Column("registered_at", sa.Date(), nullable=True, comment="date the group was registered"),
        sa.Column("status", sa.Text(), nullable=True, comment="active / closed"),
        sa.PrimaryKeyConstraint("period", "group_id"),
        schema="reporting",
        comment="group customers (集团客户) as delivered for the month",
    )
    op.create_table(
        "dim_industry",
        sa.Column(
            "industry", sa.Text(), nullable=False, comment="industry name as delivered, e.g. manufacturing"
        ),
        sa.PrimaryKeyConstraint("industry"),
        schema="reporting",
        comment="industries of group customers",
    )
    op.create_table(
        "dim_number",
        sa.Column(
            "number_key",
            sa.String(length=32),
            nullable=False,
            comment="keyed pseudonym of the telephone number (HMAC-SHA-256, 32 hex digits); join restricted.number_identity for the number",
        ),
        sa.Column(
            "number_masked",
            sa.Text(),
            nullable=False,
            comment="display form with the middle digits hidden, e.g. 138****1234",
        ),
        sa.PrimaryKeyConstraint("number_key"),
        schema="reporting",
        comment="telephone numbers, pseudonymised: never the clear number",
    )
    op.create_table(
        "dim_period",
        sa.Column(
            "period", sa.String(length=7), nullable=False, comment="YYYY-MM of the month the row describes"
        ),
        sa.Column("month_start", sa.Date(), nullable=False, comment="first day of the month"),
        sa.Column("year", sa.Integer(), nullable=False, comment="calendar year"),
        sa.Column("quarter", sa.Integer(), nullable=False, comment="calendar quarter 1..4"),
        sa.Column("month", sa.Integer(), nullable=False, comment="calendar month 1..12"),
        sa.PrimaryKeyConstraint("period"),
        schema="reporting",
        comment="one row per month that has been loaded",
    )
    op.create_table(
        "dim_region",
        sa.Column("region", sa.Text(), nullable=False, comment="region name as delivered"),
        sa.PrimaryKeyConstraint("region"),
        schema="reporting",
        comment="regions of group customers and account managers",
    )
    op.create_table(
        "fact_data_quality",
        sa.Column(
            "period", sa.String(length=7), nullable=False, comment="YYYY-MM of the month the row describes"
        ),
        sa.Column(
            "check_no", sa.Integer(), autoincrement=False, nullable=False, comment="number of the check within the month"
        ),
        sa.Column("source", sa.Text(), nullable=False, comment="contract table"),
        sa.Column("expectation", sa.Text(), nullable=False, comment="check or Great Expectations expectation"),
        sa.Column("severity", sa.Text(), nullable=False, comment="blocking / warning"),
        sa.Column("success", sa.Boolean(), nullable=False, comment="passed"),
        sa.Column("observed", sa.Text(), nullable=True, comment="what was observed"),
        sa.Column(
            "detail", sa.Text(), nullable=True, comment="further detail, e.g. sample of failing values"
        ),
        sa.PrimaryKeyConstraint("period", "check_no"),
        schema="reporting",
        comment="result of every validation check of the month's inputs",
    )
    op.create_table(
        "fact_group_month",
        sa.Column(
            "period", sa.String(length=7), nullable=False, comment="YYYY-MM of the month the row describes"
        ),
        sa.Column("group_id", sa.Text(), nullable=False, comment="group customer key"),
        sa.Column(
            "account_manager_id",
            sa.Text(),
            nullable=True,
            comment="account manager who owns the group; row-level security filters on it",
        ),
        sa.Column(
            "listed_members", sa.BigInteger(), nullable=False, comment="registered members at period end"
        ),
        sa.Column("suspect_members", sa.BigInteger(), nullable=False, comment="members flagged as fake"),
        sa.Column(
            "real_members", sa.BigInteger(), nullable=False, comment="listed_members - suspect_members"
        ),
        sa.Column("purity", sa.Double(), nullable=True, comment="real_members / listed_members (纯度)"),
        sa.Column(
            "est_onnet_unregistered",
            sa.BigInteger(),
            nullable=True,
            comment="home-carrier likely employees not registered",
        ),
        sa.Column(
            "offnet_detected",
            sa.BigInteger(),
            nullable=True,
            comment="off-net likely employees detected in the call graph",
        ),
        sa.Column(
            "correction_coefficient",
            sa.Double(),
            nullable=True,
            comment="survey-calibrated factor applied to offnet_detected",
        ),
        sa.Column(
            "coefficient_scope",
            sa.Text(),
            nullable=True,
            comment="industry the coefficient was fitted on, or global",
        ),
        sa.Column(
            "est_offnet_employees",
            sa.Double(),
            nullable=True,
            comment="offnet_detected x correction_coefficient",
        ),
        sa.Column(
            "market_share",
            sa.Double(),
            nullable=True,
            comment="home carrier's share of the group's estimated employees",
        ),
        sa.Column(
            "real_revenue",
            sa.Numeric(precision=16, scale=2),
            nullable=True,
            comment="billed revenue of the real members in the month",
        ),
        sa.Column("current_score", sa.Double(), nullable=True, comment="AHP current-value score 0..100"),
        sa.Column("potential_score", sa.Double(), nullable=True, comment="AHP potential-value score 0..100"),
        sa.Column("value_score", sa.Double(), nullable=True, comment="overall value score 0..100"),
        sa.Column("value_tier", sa.Text(), nullable=True, comment="value pyramid tier label"),
        sa.Column("value_grid", sa.Text(), nullable=True, comment="current x potential 2x2 grid cell"),
        sa.Column(
            "top_indicator",
            sa.Text(),
            nullable=True,
            comment="indicator contributing most to the value score",
        ),
        sa.PrimaryKeyConstraint("period", "group_id"),
        schema="reporting",
        comment="one row per active group and month: purity, real size, market share, value",
    )
    op.create_table(
        "fact_market_calibration",
        sa.Column(
            "period", sa.String(length=7), nullable=False, comment="YYYY-MM of the month the row describes"
        ),
        sa.Column("scope", sa.Text(), nullable=False, comment="industry, or global"),
        sa.Column("surveys", sa.BigInteger(), nullable=False, comment="surveyed groups it was fitted on"),
        sa.Column(
            "coefficient", sa.Double(), nullable=False, comment="factor applied to detected off-net employees"
        ),
        sa.Column(
            "mae_employees",
            sa.Double(),
            nullable=True,
            comment="mean absolute error of off-net employees on the surveys",
        ),
        sa.PrimaryKeyConstraint("period", "scope"),
        schema="reporting",
        comment="correction coefficients of the month and their fit on the surveyed groups",
    )
    op.create_table(
        "fact_member_audit",
        sa.Column(
            "period", sa.String(length=7), nullable=False, comment="YYYY-MM of the month the row describes"
        ),
        sa.Column("group_id", sa.Text(), nullable=False, comment="group customer key"),
        sa.Column(
            "number_key",
            sa.String(length=32),
            nullable=False,
            comment="keyed pseudonym of the telephone number (HMAC-SHA-256, 32 hex digits); join restricted.number_identity for the number",
        ),
        sa.Column(
            "account_manager_id",
            sa.Text(),
            nullable=True,
            comment="account manager who owns the group; row-level security filters on it",
        ),
        sa.Column(
            "fake_score", sa.Double(), nullable=False, comment="0..1, higher = more likely not a real member"
        ),
        sa.Column(
            "is_suspect",
            sa.Boolean(),
            nullable=False,
            comment="fake_score at or above analytics.fake_threshold",
        ),
        sa.Column(
            "members_contacted",
            sa.BigInteger(),
            nullable=True,
            comment="distinct other members it exchanged calls or SMS with",
        ),
        sa.Column(
            "in_work_share",
            sa.Double(),
            nullable=True,
            comment="share of its member contacts in working hours",
        ),
        sa.Column(
            "colocation",
            sa.Double(),
            nullable=True,
            comment="share of colleagues seen in the same cells during working hours",
        ),
        sa.Column(
            "own_events",
            sa.BigInteger(),
            nullable=True,
            comment="calls and SMS of the number in the month (0 = dormant)",
        ),
        sa.Column(
            "reasons", sa.Text(), nullable=True, comment="short explanation with the figures behind the score"
        ),
        sa.PrimaryKeyConstraint("period", "group_id", "number_key"),
        schema="reporting",
        comment="every registered member of every active group, with the fake-member score and its reasons",
    )
    op.create_table(
        "fact_pipeline_run",
        sa.Column("run_id", sa.String(length=32), nullable=False, comment="run identifier"),
        sa.Column(
            "stage", sa.String(length=16), nullable=False, comment="ingest (data quality, quarantine) or results"
        ),
        sa.Column(
            "period", sa.String(length=7), nullable=False, comment="YYYY-MM of the month the row describes"
        ),
        sa.Column(
            "loaded_at", sa.DateTime(), nullable=False, comment="when the load committed (UTC, without time zone)"
        ),
        sa.Column(
            "rows_loaded", sa.BigInteger(), nullable=False, comment="rows written to the month's tables"
        ),
        sa.Column("code_version", sa.Text(), nullable=True, comment="groupscope version"),
        sa.PrimaryKeyConstraint("run_id", "stage"),
        schema="reporting",
        comment="history of loads: one row per run and stage that loaded a month (the only table a re-run adds to)",
    )
    op.create_table(
        "fact_potential_member",
        sa.Column(
            "period", sa.String(length=7), nullable=False, comment="YYYY-MM of the month the row describes"
        ),
        sa.Column("group_id", sa.Text(), nullable=False, comment="group customer key"),
        sa.Column(
            "number_key",
            sa.String(length=32),
            nullable=False,
            comment="keyed pseudonym of the telephone number (HMAC-SHA-256, 32 hex digits); join restricted.number_identity for the number",
        ),
        sa.Column(
            "account_manager_id",
            sa.Text(),
            nullable=True,
            comment="account manager who owns the group; row-level security filters on it",
        ),
        sa.Column("carrier", sa.Text(), nullable=True, comment="carrier of the number in the month"),
        sa.Column("on_net", sa.Boolean(), nullable=False, comment="home-carrier subscriber"),
        sa.Column(
            "members_contacted",
            sa.BigInteger(),
            nullable=False,
            comment="distinct registered members contacted",
        ),
        sa.Column("member_share", sa.Double(), nullable=False, comment="members_contacted / listed members"),
        sa.Column("score", sa.Double(), nullable=False, comment="0..1 likelihood of being an employee"),
        sa.Column("likely_employee", sa.Boolean(), nullable=False, comment="score at or above the threshold"),
        sa.PrimaryKeyConstraint("period", "group_id", "number_key"),
        schema="reporting",
        comment="numbers that are not registered members of a group but are in contact with it (潜在成员 / 重点异网用户)",
    )
    op.create_table(
        "fact_prospect_group",
        sa.Column(
            "period", sa.String(length=7), nullable=False, comment="YYYY-MM of the month the row describes"
        ),
        sa.Column(
            "prospect_id", sa.BigInteger(), nullable=False, comment="community number within the month"
        ),
        sa.Column("size", sa.BigInteger(), nullable=False, comment="numbers in the community"),
        sa.Column("onnet", sa.BigInteger(), nullable=False, comment="home-carrier numbers"),
        sa.Column("offnet", sa.BigInteger(), nullable=False, comment="numbers on other carriers"),
        sa.Column("carrier_mix", sa.Text(), nullable=True, comment="numbers per carrier"),
        sa.Column(
            "density", sa.Double(), nullable=True, comment="share of possible pairs that call each other"
        ),
        sa.Column(
            "work_share", sa.Double(), nullable=True, comment="share of the community's calls in working hours"
        ),
        sa.Column("nearest_group", sa.Text(), nullable=True, comment="registered group it is most tied to"),
        sa.Column(
            "group_attachment",
            sa.Double(),
            nullable=True,
            comment="share of its ties that go to nearest_group",
        ),
        sa.PrimaryKeyConstraint("period", "prospect_id"),
        schema="reporting",
        comment="tightly knit calling communities outside the registered groups (prospect groups)",
    )
    op.create_table(
        "fact_prospect_member",
        sa.Column(
            "period", sa.String(length=7), nullable=False, comment="YYYY-MM of the month the row describes"
        ),
        sa.Column("prospect_id", sa.BigInteger(), nullable=False, comment="fact_prospect_group.prospect_id"),
        sa.Column(
            "number_key",
            sa.String(length=32),
            nullable=False,
            comment="keyed pseudonym of the telephone number (HMAC-SHA-256, 32 hex digits); join restricted.number_identity for the number",
        ),
        sa.Column("carrier", sa.Text(), nullable=True, comment="carrier"),
        sa.Column("on_net", sa.Boolean(), nullable=False, comment="home-carrier subscriber"),
        sa.PrimaryKeyConstraint("period", "prospect_id", "number_key"),
        schema="reporting",
        comment="numbers of each prospect group",
    )
    op.create_table(
        "fact_quarantine_count",
        sa.Column(
            "period", sa.String(length=7), nullable=False, comment="YYYY-MM of the month the row describes"
        ),
        sa.Column("source", sa.Text(), nullable=False, comment="contract table"),
        sa.Column("file", sa.Text(), nullable=False, comment="file relative to LANDING, or SQL table"),
        sa.Column("reason", sa.Text(), nullable=False, comment="why rows were not accepted"),
        sa.Column("rows", sa.BigInteger(), nullable=False, comment="rows quarantined for this reason"),
        sa.PrimaryKeyConstraint("period", "source", "file", "reason"),
        schema="reporting",
        comment="quarantined input rows per source file and reason",
    )
    op.create_table(
        "fact_source_rows",
        sa.Column(
            "period", sa.String(length=7), nullable=False, comment="YYYY-MM of the month the row describes"
        ),
        sa.Column("source", sa.Text(), nullable=False, comment="contract table"),
        sa.Column("file", sa.Text(), nullable=False, comment="file relative to LANDING, or SQL table"),
        sa.Column("sha256", sa.Text(), nullable=True, comment="content hash of the file"),
        sa.Column("status", sa.Text(), nullable=True, comment="ok, or why the file was not read"),
        sa.Column("rows_read", sa.BigInteger(), nullable=False, comment="data rows read"),
        sa.Column("accepted", sa.BigInteger(), nullable=False, comment="rows accepted"),
        sa.Column("quarantined", sa.BigInteger(), nullable=False, comment="rows quarantined"),
        sa.PrimaryKeyConstraint("period", "source", "file"),
        schema="reporting",
        comment="row accounting of every source file read for the month: read = accepted + quarantined",
    )
    op.create_table(
        "fact_subscriber_value",
        sa.Column(
            "period", sa.String(length=7), nullable=False, comment="YYYY-MM of the month the row describes"
        ),
        sa.Column(
            "number_key",
            sa.String(length=32),
            nullable=False,
            comment="keyed pseudonym of the telephone number (HMAC-SHA-256, 32 hex digits); join restricted.number_identity for the number",
        ),
        sa.Column(
            "revenue", sa.Numeric(precision=16, scale=2), nullable=True, comment="billed amount in the month"
        ),
        sa.Column("minutes", sa.Double(), nullable=True, comment="voice minutes in the month"),
        sa.Column("sms", sa.BigInteger(), nullable=True, comment="SMS in the month"),
        sa.Column("active_days", sa.BigInteger(), nullable=True, comment="days with any call or SMS"),
        sa.Column("current_score", sa.Double(), nullable=True, comment="AHP current-value score 0..100"),
        sa.Column("potential_score", sa.Double(), nullable=True, comment="AHP potential-value score 0..100"),
        sa.Column("value_score", sa.Double(), nullable=True, comment="overall value score 0..100"),
        sa.Column("value_tier", sa.Text(), nullable=True, comment="value pyramid tier label"),
        sa.Column("value_grid", sa.Text(), nullable=True, comment="current x potential 2x2 grid cell"),
        sa.Column(
            "top_indicator", sa.Text(), nullable=True, comment="indicator contributing most to the score"
        ),
        sa.Column("clv", sa.Double(), nullable=True, comment="discounted expected residual lifetime value"),
        sa.PrimaryKeyConstraint("period", "number_key"),
        schema="reporting",
        comment="value score, tier and lifetime value of every home-carrier subscriber",
    )
    op.create_table(
        "number_identity",
        sa.Column(
            "number_key",
            sa.String(length=32),
            nullable=False,
            comment="keyed pseudonym of the telephone number (HMAC-SHA-256, 32 hex digits); join restricted.number_identity for the number",
        ),
        sa.Column("msisdn", sa.Text(), nullable=False, comment="the telephone number"),
        sa.PrimaryKeyConstraint("number_key"),
        schema="restricted",
        comment="clear telephone numbers behind the pseudonyms; read only by the exports",
    )
    op.create_table(
        "quarantine_row",
        sa.Column(
            "period", sa.String(length=7), nullable=False, comment="YYYY-MM of the month the row describes"
        ),
        sa.Column("source", sa.Text(), nullable=False, comment="contract table"),
        sa.Column("file", sa.Text(), nullable=False, comment="file relative to LANDING, or SQL table"),
        sa.Column("row_number", sa.BigInteger(), nullable=True, comment="1-based data row within the file"),
        sa.Column(
            "column",
            sa.Text(),
            nullable=True,
            comment="offending column; empty when the row as a whole is bad",
        ),
        sa.Column("reason", sa.Text(), nullable=False, comment="why"),
        sa.Column("raw", sa.Text(), nullable=True, comment="the row as read"),
        schema="restricted",
        comment="every input row of the month that was not accepted, as it was read (may hold personal data)",
    )
    op.create_index(
        "ix_quarantine_row_period", "quarantine_row", ["period"], unique=False, schema="restricted"
    )

    rs = context.config.attributes["schemas"]["reporting"]
    for v in V1:
        op.execute(v.create_sql(rs, op.get_bind().dialect.name))


def downgrade() -> None:
    rs = context.config.attributes["schemas"]["reporting"]
    for v in reversed(V1):
        op.execute(v.drop_sql(rs))
    for schema, name in [
        ("restricted", "quarantine_row"),
        ("restricted", "number_identity"),
        ("reporting", "fact_subscriber_value"),
        ("reporting", "fact_source_rows"),
        ("reporting", "fact_quarantine_count"),
        ("reporting", "fact_prospect_member"),
        ("reporting", "fact_prospect_group"),
        ("reporting", "fact_potential_member"),
        ("reporting", "fact_pipeline_run"),
        ("reporting", "fact_member_audit"),
        ("reporting", "fact_market_calibration"),
        ("reporting", "fact_group_month"),
        ("reporting", "fact_data_quality"),
        ("reporting", "dim_region"),
        ("reporting", "dim_period"),
        ("reporting", "dim_number"),
        ("reporting", "dim_industry"),
        ("reporting", "dim_group"),
        ("reporting", "dim_carrier"),
        ("reporting", "dim_account_manager"),
        ("reporting", "am_access"),
    ]:
        op.drop_table(name, schema=schema)

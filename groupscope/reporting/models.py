"""The reporting schema as SQLAlchemy 2 models: a star schema that BI tools read, and a restricted schema.

Two symbolic schemas are used here, `reporting` and `restricted`; the configured names
(`reporting.schema`, `reporting.restricted_schema`) are put in at connection time with SQLAlchemy's
schema_translate_map, so one model serves every deployment and every test schema.

Telephone numbers are personal data: the `reporting` tables carry only `number_key` (a keyed
pseudonym, HMAC-SHA-256) and `number_masked` (e.g. 138****1234). The clear number lives only in
`restricted.number_identity`, which the exports join and the BI role cannot read.

The migrations under groupscope/reporting/migrations build exactly these tables (a test compares
them); this module is what the loads, the exports and the data dictionary read.
"""

from __future__ import annotations

import sqlalchemy as sa

REPORTING = "reporting"
RESTRICTED = "restricted"

metadata = sa.MetaData()

PERIOD = "YYYY-MM of the month the row describes"
NUMBER_KEY = "keyed pseudonym of the telephone number (HMAC-SHA-256, 32 hex digits); join restricted.number_identity for the number"


def _period(primary_key: bool = True) -> sa.Column:
    return sa.Column("period", sa.String(7), primary_key=primary_key, nullable=False, comment=PERIOD)


def _number_key(primary_key: bool = True) -> sa.Column:
    return sa.Column("number_key", sa.String(32), primary_key=primary_key, nullable=False, comment=NUMBER_KEY)


def _am(comment: str = "account manager who owns the group; row-level security filters on it") -> sa.Column:
    return sa.Column("account_manager_id", sa.Text, nullable=True, comment=comment)


def _group_id(primary_key: bool = True) -> sa.Column:
    return sa.Column("group_id", sa.Text, primary_key=primary_key, nullable=False, comment="group customer key")


def _table(name: str, comment: str, *cols: sa.Column | sa.Index, schema: str = REPORTING) -> sa.Table:
    return sa.Table(name, metadata, *cols, schema=schema, comment=comment)


# ---------------------------------------------------------------- dimensions

dim_period = _table(
    "dim_period",
    "one row per month that has been loaded",
    _period(),
    sa.Column("month_start", sa.Date, nullable=False, comment="first day of the month"),
    sa.Column("year", sa.Integer, nullable=False, comment="calendar year"),
    sa.Column("quarter", sa.Integer, nullable=False, comment="calendar quarter 1..4"),
    sa.Column("month", sa.Integer, nullable=False, comment="calendar month 1..12"),
)

dim_carrier = _table(
    "dim_carrier",
    "carriers of the number-range reference",
    sa.Column("carrier", sa.Text, primary_key=True, comment="carrier code, e.g. CMCC"),
    sa.Column("is_home", sa.Boolean, nullable=False, comment="true for the carrier running groupscope"),
    sa.Column("number_types", sa.Text, nullable=False, comment="kinds of number it holds ranges for, e.g. fixed,mobile"),
    sa.Column("prefixes", sa.Integer, nullable=False, comment="number of prefixes in the reference"),
)

dim_industry = _table(
    "dim_industry",
    "industries of group customers",
    sa.Column("industry", sa.Text, primary_key=True, comment="industry name as delivered, e.g. manufacturing"),
)

dim_region = _table(
    "dim_region",
    "regions of group customers and account managers",
    sa.Column("region", sa.Text, primary_key=True, comment="region name as delivered"),
)

dim_account_manager = _table(
    "dim_account_manager",
    "account managers as delivered for the month",
    _period(),
    sa.Column("account_manager_id", sa.Text, primary_key=True, comment="account manager key"),
    sa.Column("name", sa.Text, comment="display name (may be Chinese)"),
    sa.Column("region", sa.Text, comment="region"),
    sa.Column("branch", sa.Text, comment="branch office"),
)

dim_group = _table(
    "dim_group",
    "group customers (集团客户) as delivered for the month",
    _period(),
    _group_id(),
    sa.Column("group_name", sa.Text, comment="name as delivered (may contain quotes, commas, Chinese)"),
    sa.Column("industry", sa.Text, comment="industry"),
    sa.Column("region", sa.Text, comment="region"),
    _am(),
    sa.Column("registered_at", sa.Date, comment="date the group was registered"),
    sa.Column("status", sa.Text, comment="active / closed"),
)

dim_number = _table(
    "dim_number",
    "telephone numbers, pseudonymised: never the clear number",
    _number_key(),
    sa.Column("number_masked", sa.Text, nullable=False, comment="display form with the middle digits hidden, e.g. 138****1234"),
)

# ---------------------------------------------------------------- facts

fact_member_audit = _table(
    "fact_member_audit",
    "every registered member of every active group, with the fake-member score and its reasons",
    _period(),
    _group_id(),
    _number_key(),
    _am(),
    sa.Column("fake_score", sa.Double, nullable=False, comment="0..1, higher = more likely not a real member"),
    sa.Column("is_suspect", sa.Boolean, nullable=False, comment="fake_score at or above analytics.fake_threshold"),
    sa.Column("members_contacted", sa.BigInteger, comment="distinct other members it exchanged calls or SMS with"),
    sa.Column("in_work_share", sa.Double, comment="share of its member contacts in working hours"),
    sa.Column("colocation", sa.Double, comment="share of colleagues seen in the same cells during working hours"),
    sa.Column("own_events", sa.BigInteger, comment="calls and SMS of the number in the month (0 = dormant)"),
    sa.Column("reasons", sa.Text, comment="short explanation with the figures behind the score"),
    sa.Column("evidence", sa.Text, comment="sufficient, or insufficient: too little to judge, never flagged"),
    sa.Column("confidence", sa.Double, comment="0..1 confidence in is_suspect (0 when evidence is insufficient)"),
)

fact_group_month = _table(
    "fact_group_month",
    "one row per active group and month: purity, real size, market share, value",
    _period(),
    _group_id(),
    _am(),
    sa.Column("listed_members", sa.BigInteger, nullable=False, comment="registered members at period end"),
    sa.Column("suspect_members", sa.BigInteger, nullable=False, comment="members flagged as fake"),
    sa.Column("real_members", sa.BigInteger, nullable=False, comment="listed_members - suspect_members"),
    sa.Column("purity", sa.Double, comment="real_members / listed_members (纯度)"),
    sa.Column("est_onnet_unregistered", sa.BigInteger, comment="home-carrier employees not registered: expected on-net employees among the group's contacts x correction_coefficient, rounded"),
    sa.Column("offnet_detected", sa.BigInteger, comment="off-net likely employees detected in the call graph"),
    sa.Column("correction_coefficient", sa.Double, comment="survey-calibrated factor applied to the expected unregistered employees, on-net and off-net; empty when uncalibrated"),
    sa.Column("coefficient_scope", sa.Text, comment="scope the coefficient was fitted on (size band, or global), or uncalibrated"),
    sa.Column("est_offnet_employees", sa.Double, comment="expected off-net employees among the group's contacts (weighted by employee score) x correction_coefficient"),
    sa.Column("market_share", sa.Double, comment="(real_members + est_onnet_unregistered) / (real_members + est_onnet_unregistered + est_offnet_employees), the contract's formula; data lines count as members"),
    sa.Column("real_revenue", sa.Numeric(16, 2), comment="billed revenue of the real members in the month"),
    sa.Column("current_score", sa.Double, comment="AHP current-value score 0..100"),
    sa.Column("potential_score", sa.Double, comment="AHP potential-value score 0..100"),
    sa.Column("value_score", sa.Double, comment="overall value score 0..100"),
    sa.Column("value_tier", sa.Text, comment="value pyramid tier label"),
    sa.Column("value_grid", sa.Text, comment="current x potential 2x2 grid cell"),
    sa.Column("top_indicator", sa.Text, comment="indicator contributing most to the value score"),
    sa.Column("insufficient_members", sa.BigInteger, comment="members with too little evidence to judge (never flagged)"),
    sa.Column("offnet_key_competitor", sa.BigInteger, comment="key competitor users: off-net numbers in contact with more than 10 % of the members (the operator's rule)"),
    sa.Column("rule_correction_coefficient", sa.Double, comment="survey-calibrated factor applied to offnet_key_competitor; empty when uncalibrated"),
    sa.Column("rule_coefficient_scope", sa.Text, comment="industry, global, or uncalibrated"),
    sa.Column("rule_est_offnet_employees", sa.Double, comment="offnet_key_competitor x rule_correction_coefficient (uncorrected when uncalibrated)"),
    sa.Column("rule_market_share", sa.Double, comment="market share from the operator's 10 % rule"),
    sa.Column("previous_month", sa.Text, comment="present, missing (no results for the previous month) or new group"),
    sa.Column("previous_market_share", sa.Double, comment="last month's market_share as it was reported"),
    sa.Column("share_change", sa.Double, comment="market_share - previous_market_share"),
    sa.Column("share_change_movement", sa.Double, comment="part of the change from this month's counts (under last month's coefficient)"),
    sa.Column("share_change_recalibration", sa.Double, comment="part of the change from the new coefficient (on this month's counts)"),
    sa.Column("rule_previous_market_share", sa.Double, comment="last month's rule_market_share"),
    sa.Column("rule_share_change", sa.Double, comment="rule_market_share - rule_previous_market_share"),
    sa.Column("rule_share_change_movement", sa.Double, comment="part of the rule change from this month's counts"),
    sa.Column("rule_share_change_recalibration", sa.Double, comment="part of the rule change from the new coefficient"),
    sa.Column("data_lines", sa.BigInteger, comment="real members that are data cards or IoT SIMs (data-only bill, no calls or SMS): lines, not employees"),
    sa.Column("market_share_staff", sa.Double, comment="share of the group's employees on the home carrier: market_share with on-net staff (real_members - data_lines) in place of real_members"),
)

fact_potential_member = _table(
    "fact_potential_member",
    "numbers that are not registered members of a group but are in contact with it (潜在成员 / 重点异网用户)",
    _period(),
    _group_id(),
    _number_key(),
    _am(),
    sa.Column("carrier", sa.Text, comment="carrier of the number in the month"),
    sa.Column("on_net", sa.Boolean, nullable=False, comment="home-carrier subscriber"),
    sa.Column("members_contacted", sa.BigInteger, nullable=False, comment="distinct registered members contacted"),
    sa.Column("member_share", sa.Double, nullable=False, comment="members_contacted / listed members"),
    sa.Column("score", sa.Double, nullable=False, comment="0..1 likelihood of being an employee"),
    sa.Column("likely_employee", sa.Boolean, nullable=False, comment="score at or above the threshold"),
)

fact_subscriber_value = _table(
    "fact_subscriber_value",
    "value score, tier and lifetime value of every home-carrier subscriber",
    _period(),
    _number_key(),
    sa.Column("revenue", sa.Numeric(16, 2), comment="billed amount in the month"),
    sa.Column("minutes", sa.Double, comment="voice minutes in the month"),
    sa.Column("sms", sa.BigInteger, comment="SMS in the month"),
    sa.Column("active_days", sa.BigInteger, comment="days with any call or SMS"),
    sa.Column("current_score", sa.Double, comment="AHP current-value score 0..100"),
    sa.Column("potential_score", sa.Double, comment="AHP potential-value score 0..100"),
    sa.Column("value_score", sa.Double, comment="overall value score 0..100"),
    sa.Column("value_tier", sa.Text, comment="value pyramid tier label"),
    sa.Column("value_grid", sa.Text, comment="current x potential 2x2 grid cell"),
    sa.Column("top_indicator", sa.Text, comment="indicator contributing most to the score"),
    sa.Column("clv", sa.Double, comment="discounted expected residual lifetime value"),
)

SURVEYS_EXCLUDED_COMMENT = ("surveys of the scope left out as implausible (analytics.survey_max_ratio, survey_slack: a headcount "
                            "far above what the group's calls predict, or far below its on-net staff); the run's log names them")

fact_market_calibration = _table(
    "fact_market_calibration",
    "correction coefficients of the month and their fit on the surveyed groups",
    _period(),
    sa.Column("scope", sa.Text, primary_key=True, comment="industry, or global"),
    sa.Column("surveys", sa.BigInteger, nullable=False, comment="surveyed groups it was fitted on"),
    sa.Column("coefficient", sa.Double, nullable=True, comment="factor applied to detected off-net employees; empty when uncalibrated"),
    sa.Column("mae_employees", sa.Double, comment="mean absolute error of off-net employees on the surveys"),
    sa.Column("status", sa.Text, comment="calibrated, or which method is uncalibrated (no surveys or nothing counted on them)"),
    sa.Column("loo_mae_pp", sa.Double, comment="leave-one-out mean absolute error of the score-based market share on the surveys, percentage points"),
    sa.Column("rule_coefficient", sa.Double, comment="factor applied to key competitor users (10 % rule); empty when uncalibrated"),
    sa.Column("rule_mae_employees", sa.Double, comment="mean absolute error of the rule's off-net employees on the surveys"),
    sa.Column("rule_loo_mae_pp", sa.Double, comment="leave-one-out mean absolute error of the rule-based market share, percentage points"),
    sa.Column("surveys_excluded", sa.BigInteger, comment=SURVEYS_EXCLUDED_COMMENT),
)

fact_prospect_group = _table(
    "fact_prospect_group",
    "tightly knit calling communities outside the registered groups (prospect groups)",
    _period(),
    sa.Column("prospect_id", sa.BigInteger, primary_key=True, comment="prospect number within the month, largest first"),
    sa.Column("size", sa.BigInteger, nullable=False, comment="numbers in the community"),
    sa.Column("onnet", sa.BigInteger, nullable=False, comment="home-carrier numbers"),
    sa.Column("offnet", sa.BigInteger, nullable=False, comment="numbers on other carriers"),
    sa.Column("carrier_mix", sa.Text, comment="numbers per carrier"),
    sa.Column("density", sa.Double, comment="share of possible pairs that call each other"),
    sa.Column("work_share", sa.Double, comment="share of the community's calls in working hours"),
    sa.Column("nearest_group", sa.Text, comment="registered group whose members it calls most in working hours"),
    sa.Column(
        "group_attachment", sa.Double,
        comment="its working-time calls with nearest_group's members per working-time call inside it",
    ),
    sa.Column("teams", sa.BigInteger, comment="tightly knit teams (departments) it joins"),
    sa.Column("region", sa.Text, comment="most frequent region of its home-carrier numbers"),
)

fact_prospect_member = _table(
    "fact_prospect_member",
    "numbers of each prospect group",
    _period(),
    sa.Column("prospect_id", sa.BigInteger, primary_key=True, comment="fact_prospect_group.prospect_id"),
    _number_key(),
    sa.Column("carrier", sa.Text, comment="carrier"),
    sa.Column("on_net", sa.Boolean, nullable=False, comment="home-carrier subscriber"),
)

fact_data_quality = _table(
    "fact_data_quality",
    "result of every validation check of the month's inputs",
    _period(),
    sa.Column("check_no", sa.Integer, primary_key=True, autoincrement=False, comment="number of the check within the month"),
    sa.Column("source", sa.Text, nullable=False, comment="contract table"),
    sa.Column("expectation", sa.Text, nullable=False, comment="check or Great Expectations expectation"),
    sa.Column("severity", sa.Text, nullable=False, comment="blocking / warning"),
    sa.Column("success", sa.Boolean, nullable=False, comment="passed"),
    sa.Column("observed", sa.Text, comment="what was observed"),
    sa.Column("detail", sa.Text, comment="further detail, e.g. sample of failing values"),
)

fact_quarantine_count = _table(
    "fact_quarantine_count",
    "quarantined input rows per source file and reason",
    _period(),
    sa.Column("source", sa.Text, primary_key=True, comment="contract table"),
    sa.Column("file", sa.Text, primary_key=True, comment="file relative to LANDING, or SQL table"),
    sa.Column("reason", sa.Text, primary_key=True, comment="why rows were not accepted"),
    sa.Column("rows", sa.BigInteger, nullable=False, comment="rows quarantined for this reason"),
)

fact_source_rows = _table(
    "fact_source_rows",
    "row accounting of every source file read for the month: read = accepted + quarantined",
    _period(),
    sa.Column("source", sa.Text, primary_key=True, comment="contract table"),
    sa.Column("file", sa.Text, primary_key=True, comment="file relative to LANDING, or SQL table"),
    sa.Column("sha256", sa.Text, comment="content hash of the file"),
    sa.Column("status", sa.Text, comment="ok, or why the file was not read"),
    sa.Column("rows_read", sa.BigInteger, nullable=False, comment="data rows read"),
    sa.Column("accepted", sa.BigInteger, nullable=False, comment="rows accepted"),
    sa.Column("quarantined", sa.BigInteger, nullable=False, comment="rows quarantined"),
)

fact_pipeline_run = _table(
    "fact_pipeline_run",
    "history of loads: one row per run and stage that loaded a month (the only table a re-run adds to)",
    sa.Column("run_id", sa.String(32), primary_key=True, comment="run identifier"),
    sa.Column("stage", sa.String(16), primary_key=True, comment="ingest (data quality, quarantine) or results"),
    _period(primary_key=False),
    sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="when the load committed (UTC, without time zone)"),
    sa.Column("rows_loaded", sa.BigInteger, nullable=False, comment="rows written to the month's tables"),
    sa.Column("code_version", sa.Text, comment="groupscope version"),
)

am_access = _table(
    "am_access",
    "which database role acts for which account manager (row-level security on PostgreSQL)",
    sa.Column("role_name", sa.Text, primary_key=True, comment="database role of an account manager"),
    sa.Column("account_manager_id", sa.Text, primary_key=True, comment="account manager it may see"),
)

# ---------------------------------------------------------------- restricted (never readable by BI)

number_identity = _table(
    "number_identity",
    "clear telephone numbers behind the pseudonyms; read only by the exports",
    _number_key(),
    sa.Column("msisdn", sa.Text, nullable=False, comment="the telephone number"),
    schema=RESTRICTED,
)

quarantine_row = _table(
    "quarantine_row",
    "every input row of the month that was not accepted, as it was read (may hold personal data)",
    _period(primary_key=False),
    sa.Column("source", sa.Text, nullable=False, comment="contract table"),
    sa.Column("file", sa.Text, nullable=False, comment="file relative to LANDING, or SQL table"),
    sa.Column("row_number", sa.BigInteger, comment="1-based data row within the file"),
    sa.Column("column", sa.Text, comment="offending column; empty when the row as a whole is bad"),
    sa.Column("reason", sa.Text, nullable=False, comment="why"),
    sa.Column("raw", sa.Text, comment="the row as read"),
    sa.Index("ix_quarantine_row_period", "period"),
    schema=RESTRICTED,
)

# Tables whose rows belong to one period: a load of that period replaces exactly these rows.
PERIOD_TABLES = [
    t for t in metadata.sorted_tables if "period" in t.c and t.name != "fact_pipeline_run"
]
# Tables shared across periods: a load adds missing rows and updates changed ones.
SHARED_TABLES = [dim_carrier, dim_industry, dim_region, dim_number, number_identity]
# Tables whose rows a group's account manager may see, and the column that says whose they are.
OWNED_TABLES = [dim_group, fact_member_audit, fact_group_month, fact_potential_member]

# ---------------------------------------------------------------- win-over (策反) campaigns
# Campaign state is not period data: these tables are defined after PERIOD_TABLES on purpose, so a
# monthly load never deletes them. They hold pseudonyms only (number_key); worklists join
# restricted.number_identity for the clear number.

campaign = _table(
    "campaign",
    "win-over campaigns: their settings, selection criteria, cut-off and state",
    sa.Column("campaign_id", sa.Text, primary_key=True, comment="campaign key"),
    sa.Column("name", sa.Text, nullable=False, comment="name given at creation"),
    sa.Column("period", sa.String(7), nullable=False, comment="YYYY-MM of the potential-member results it selects from"),
    sa.Column("criteria", sa.Text, nullable=False, comment="selection criteria as JSON"),
    sa.Column("offer_cost", sa.Numeric(12, 2), nullable=False, comment="planned cost per approached target, yuan"),
    sa.Column("budget", sa.Numeric(16, 2), nullable=False, comment="budget for approached targets, yuan"),
    sa.Column("capacity_per_am", sa.Integer, nullable=False, comment="targets one account manager can work"),
    sa.Column("holdout_share", sa.Double, nullable=False, comment="share of selected targets held out (not approached)"),
    sa.Column("seed", sa.BigInteger, nullable=False, comment="seed of tie-breaks and of the hold-out draw"),
    sa.Column("status", sa.Text, nullable=False, comment="created / selected / assigned / feedback / evaluated"),
    sa.Column("created_at", sa.DateTime(), nullable=False, comment="when created (UTC)"),
    sa.Column("selected_at", sa.DateTime(), nullable=True, comment="when targets were last selected (UTC)"),
    sa.Column("assigned_at", sa.DateTime(), nullable=True, comment="when targets were last assigned (UTC)"),
    sa.Column("candidates", sa.BigInteger, nullable=True, comment="potential members meeting the criteria"),
    sa.Column("targets", sa.BigInteger, nullable=True, comment="selected targets, hold-out included"),
    sa.Column("holdout", sa.BigInteger, nullable=True, comment="selected targets held out"),
    sa.Column("cutoff_rank", sa.BigInteger, nullable=True, comment="rank of the last selected target"),
    sa.Column("cutoff_expected_value", sa.Double, nullable=True, comment="expected value of the last selected target"),
    sa.Column("cutoff_reason", sa.Text, nullable=True, comment="what stopped the selection: budget, capacity or candidates"),
)

campaign_target = _table(
    "campaign_target",
    "selected targets of each campaign, ranked by expected value, with their assignment",
    sa.Column("campaign_id", sa.Text, primary_key=True, comment="campaign.campaign_id"),
    _number_key(),
    sa.Column("number_masked", sa.Text, comment="display form, e.g. 138****1234"),
    sa.Column("rank", sa.BigInteger, nullable=False, comment="1 = highest expected value"),
    sa.Column("expected_value", sa.Double, nullable=False, comment="group value score x employee score"),
    _group_id(primary_key=False),
    sa.Column("owner_account_manager_id", sa.Text, comment="account manager owning the group"),
    sa.Column("account_manager_id", sa.Text, comment="account manager assigned to approach it; empty for hold-out"),
    sa.Column("assignment", sa.Text, comment="owner / balanced / holdout; empty before assignment"),
    sa.Column("holdout", sa.Boolean, nullable=False, comment="selected but not approached, to measure uplift"),
    sa.Column("score", sa.Double, nullable=False, comment="employee score 0..1 in the campaign period"),
    sa.Column("likely_employee", sa.Boolean, nullable=False, comment="score at or above the threshold"),
    sa.Column("member_share", sa.Double, nullable=False, comment="share of the group's members it contacted"),
    sa.Column("members_contacted", sa.BigInteger, comment="distinct members it contacted"),
    sa.Column("carrier", sa.Text, comment="carrier in the campaign period"),
    sa.Column("on_net", sa.Boolean, nullable=False, comment="home-carrier subscriber in the campaign period"),
    sa.Column("group_value_score", sa.Double, comment="value score of the group 0..100"),
    sa.Column("value_tier", sa.Text, comment="value tier of the group"),
    sa.Column("industry", sa.Text, comment="industry of the group"),
    sa.Column("region", sa.Text, comment="region of the group"),
)

campaign_feedback = _table(
    "campaign_feedback",
    "account managers' accepted feedback per target; a re-delivery replaces the earlier row",
    sa.Column("campaign_id", sa.Text, primary_key=True, comment="campaign.campaign_id"),
    _number_key(),
    sa.Column("account_manager_id", sa.Text, comment="account manager who reported it"),
    sa.Column("outcome", sa.Text, nullable=False, comment="converted / declined / unreachable / pending"),
    sa.Column("contacted_at", sa.Date, comment="date of contact"),
    sa.Column("cost_yuan", sa.Numeric(14, 2), nullable=False, comment="incentive and effort spent on this target"),
    sa.Column("feedback_period", sa.String(7), nullable=False, comment="month partition the feedback arrived in"),
    sa.Column("file", sa.Text, comment="landing file it came from"),
)

campaign_evaluation = _table(
    "campaign_evaluation",
    "evaluation of each campaign: overall, per account manager, per tranche of targets by rank, and by employee score",
    sa.Column("campaign_id", sa.Text, primary_key=True, comment="campaign.campaign_id"),
    sa.Column("level", sa.Text, primary_key=True, comment="campaign / account_manager / tranche / employee_score"),
    sa.Column("level_key", sa.Text, primary_key=True, comment="all, the account manager, the tranche (ranks a-b) or likely employee / other"),
    sa.Column("evaluated_through", sa.String(7), nullable=False, comment="last month whose bills were counted"),
    sa.Column("rank_from", sa.BigInteger, comment="first rank in the row"),
    sa.Column("rank_to", sa.BigInteger, comment="last rank in the row"),
    sa.Column("targets", sa.BigInteger, nullable=False, comment="approached targets (hold-out excluded)"),
    sa.Column("contacted", sa.BigInteger, nullable=False, comment="targets with feedback other than unreachable or pending"),
    sa.Column("converted", sa.BigInteger, nullable=False, comment="targets reported converted"),
    sa.Column("conversion_rate", sa.Double, comment="converted / targets"),
    sa.Column("billed", sa.BigInteger, nullable=False, comment="targets off-net at selection with a bill in a following month (won, from the bills)"),
    sa.Column("billed_rate", sa.Double, comment="billed / targets off-net at selection"),
    sa.Column("revenue", sa.Numeric(16, 2), nullable=False, comment="following months' bills of converted targets, less their bill in the campaign month"),
    sa.Column("cost", sa.Numeric(16, 2), nullable=False, comment="cost reported in feedback"),
    sa.Column("roi", sa.Double, comment="(revenue - cost) / cost"),
    sa.Column("holdout_targets", sa.BigInteger, comment="hold-out targets (campaign and tranche rows)"),
    sa.Column("holdout_billed_rate", sa.Double, comment="billed rate of the hold-out"),
    sa.Column("uplift", sa.Double, comment="billed_rate - holdout_billed_rate"),
)

CAMPAIGN_TABLES = [campaign, campaign_target, campaign_feedback, campaign_evaluation]
# An account manager's role sees the targets assigned to them and the feedback they reported.
OWNED_TABLES += [campaign_target, campaign_feedback]

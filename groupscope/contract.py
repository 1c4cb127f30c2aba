"""The data contract (shared/CONTRACT.md, version 1) as code.

This module is the single place that states the schema of every input table and every output list.
The synthetic operator, the extract stage, the Great Expectations suites, the reporting loads and the
exports all read it; none of them restates a column name, a type or an allowed value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

from groupscope.period import Period

CONTRACT_VERSION = 1

# Logical column types of the contract. Every type has a textual form (as it appears in CSV), a regular
# expression that the textual form must match, and an Arrow type it is staged as.
ColumnType = Literal["text", "msisdn", "digits", "date", "datetime", "month", "money", "int"]

TYPE_PATTERNS: dict[str, str] = {
    "msisdn": r"^1[0-9]{10}$",
    "digits": r"^[0-9]+$",
    "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "datetime": r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$",
    "month": r"^[0-9]{4}-(0[1-9]|1[0-2])$",
    "money": r"^-?[0-9]+(\.[0-9]{1,2})?$",
    "int": r"^-?[0-9]+$",
}

MONEY_ARROW = pa.decimal128(14, 2)

ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "msisdn": pa.string(),
    "digits": pa.string(),
    "date": pa.date32(),
    "datetime": pa.timestamp("s"),
    "month": pa.string(),
    "money": MONEY_ARROW,
    "int": pa.int64(),
}

# DuckDB column types used when staging; the same logical types as ARROW_TYPES.
SQL_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "msisdn": "VARCHAR",
    "digits": "VARCHAR",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "month": "VARCHAR",
    "money": "DECIMAL(14,2)",
    "int": "BIGINT",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = True  # False: may be empty (NULL)
    allowed: tuple[str, ...] | None = None  # closed set of values (enums)
    min_value: float | None = None  # inclusive lower bound for numeric types
    description: str = ""

    @property
    def pattern(self) -> str | None:
        return TYPE_PATTERNS.get(self.type)

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]

    def accepts_text(self, value: str | None) -> bool:
        """True when the textual form `value` (None or '' for empty) satisfies this column."""
        if value is None or value == "":
            return not self.required
        if self.allowed is not None and value not in self.allowed:
            return False
        pat = self.pattern
        if pat is not None and not re.match(pat, value):
            return False
        if self.min_value is not None and float(value) < self.min_value:
            return False
        return True


Partitioning = Literal["reference", "month", "day"]


@dataclass(frozen=True)
class Table:
    name: str
    partitioning: Partitioning
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    optional: bool = False
    may_be_empty: bool = False  # delivered every period, but a header alone is a valid delivery
    description: str = ""
    extra_checks: tuple[str, ...] = field(default_factory=tuple)  # row rules beyond single columns

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=not c.required) for c in self.columns])

    def partition_keys(self, period: str) -> list[str]:
        """Partitions a period reads: `reference`, `month=YYYY-MM`, or every `dt=YYYY-MM-DD` of the month."""
        if self.partitioning == "reference":
            return ["reference"]
        if self.partitioning == "month":
            return [f"month={period}"]
        return [f"dt={d.isoformat()}" for d in Period.parse(period).days()]

    def partition_dir(self, key: str) -> str:
        """Folder of a partition relative to LANDING, e.g. `billing/month=2026-10` or `reference`."""
        return "reference" if key == "reference" else f"{self.name}/{key}"


CARRIER_DESC = "carrier code, e.g. CMCC, CUCC, CTCC, CBN, or an MVNO code"

NUMBER_TYPES = ("mobile", "fixed", "service")
GROUP_STATUSES = ("active", "closed")
SUBSCRIBER_STATUSES = ("active", "suspended", "closed")
MEMBER_ROLES = ("member", "key_person", "admin")
CAMPAIGN_OUTCOMES = ("converted", "declined", "unreachable", "pending")
RECORD_TYPES = ("MOC", "MTC", "SMS_MO", "SMS_MT")

NUMBER_RANGES = Table(
    "number_ranges",
    "reference",
    (
        Column("prefix", "digits", description="leading digits of a national number, e.g. 139, 1705, 010"),
        Column("carrier", "text", description=CARRIER_DESC),
        Column("number_type", "text", allowed=NUMBER_TYPES, description="kind of number"),
    ),
    key=("prefix",),
    description="prefix -> carrier; longest prefix wins",
)

PORTED_NUMBERS = Table(
    "ported_numbers",
    "reference",
    (
        Column("msisdn", "msisdn", description="a ported mobile number"),
        Column("carrier", "text", description="the carrier it belongs to now"),
        Column("ported_at", "date", description="from when"),
    ),
    key=("msisdn", "ported_at"),
    may_be_empty=True,  # an operator (or a young number range) may have no ported numbers yet
    description="numbers that moved carrier (mobile number portability)",
)

ACCOUNT_MANAGERS = Table(
    "account_managers",
    "month",
    (
        Column("account_manager_id", "text"),
        Column("name", "text", description="may be Chinese"),
        Column("region", "text"),
        Column("branch", "text"),
    ),
    key=("account_manager_id",),
)

GROUPS = Table(
    "groups",
    "month",
    (
        Column("group_id", "text"),
        Column("group_name", "text", description="may be Chinese, may contain commas and quotes"),
        Column("industry", "text", description="government, education, manufacturing, finance, retail, ..."),
        Column("region", "text"),
        Column("account_manager_id", "text", description="owning account manager"),
        Column("registered_at", "date"),
        Column("status", "text", allowed=GROUP_STATUSES),
    ),
    key=("group_id",),
    description="group customers (集团客户)",
)

SUBSCRIBERS = Table(
    "subscribers",
    "month",
    (
        Column("subscriber_id", "text"),
        Column("msisdn", "msisdn", description="unique among active subscribers"),
        Column("status", "text", allowed=SUBSCRIBER_STATUSES, description="at month end"),
        Column("activated_at", "date"),
        Column("closed_at", "date", required=False, description="empty if open"),
        Column("plan_code", "text", description="tariff plan"),
        Column("region", "text"),
    ),
    key=("subscriber_id",),
    description="the home carrier's own subscribers",
)

MEMBERSHIPS = Table(
    "memberships",
    "month",
    (
        Column("group_id", "text"),
        Column("msisdn", "msisdn"),
        Column("joined_at", "date"),
        Column("left_at", "date", required=False, description="empty if still a member"),
        Column("member_role", "text", allowed=MEMBER_ROLES),
    ),
    key=("group_id", "msisdn", "joined_at"),
    description="registered group members; a number belongs to at most one group at a time",
)

BILLING = Table(
    "billing",
    "month",
    (
        Column("bill_id", "text"),
        Column("msisdn", "msisdn"),
        Column("bill_month", "month"),
        Column("voice_fee", "money", min_value=0),
        Column("data_fee", "money", min_value=0),
        Column("sms_fee", "money", min_value=0),
        Column("vas_fee", "money", min_value=0),
        Column("discount", "money", min_value=0, description="group and promotional discounts"),
        Column("total_due", "money", description="voice+data+sms+vas-discount to the fen"),
        Column("paid_amount", "money", min_value=0, description="paid so far"),
        Column("paid_at", "datetime", required=False, description="empty if unpaid"),
    ),
    key=("bill_id",),
    description="one bill per subscriber per month",
    extra_checks=("total_due = voice_fee + data_fee + sms_fee + vas_fee - discount",),
)

SURVEYS = Table(
    "surveys",
    "month",
    (
        Column("group_id", "text"),
        Column("surveyed_headcount", "int", min_value=1, description="employees counted on site, all carriers"),
        Column("surveyed_at", "date"),
    ),
    key=("group_id", "surveyed_at"),
    optional=True,
    description="surveyed headcount of some groups; calibrates the market-share correction",
)

CAMPAIGN_FEEDBACK = Table(
    "campaign_feedback",
    "month",
    (
        Column("campaign_id", "text"),
        Column("msisdn", "msisdn", description="the target"),
        Column("account_manager_id", "text"),
        Column("outcome", "text", allowed=CAMPAIGN_OUTCOMES),
        Column("contacted_at", "date"),
        Column("cost_yuan", "money", min_value=0, description="incentive and effort spent on this target"),
    ),
    key=("campaign_id", "msisdn"),
    optional=True,
    description="account managers' win-over results",
)

CDR = Table(
    "cdr",
    "day",
    (
        Column("record_id", "text", description="unique per record"),
        Column("record_type", "text", allowed=RECORD_TYPES),
        Column("served_msisdn", "msisdn", description="the home-carrier subscriber this record belongs to"),
        Column("other_party", "text", description="the other number as signalled"),
        Column("start_time", "datetime", description="local time, Asia/Shanghai"),
        Column("duration_s", "int", min_value=0, description="0 for SMS"),
        Column("cell_id", "text", required=False, description="serving cell"),
    ),
    key=("record_id",),
    description="call detail records (话单), one row per record as the switch wrote it",
)

INPUT_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        NUMBER_RANGES,
        PORTED_NUMBERS,
        ACCOUNT_MANAGERS,
        GROUPS,
        SUBSCRIBERS,
        MEMBERSHIPS,
        BILLING,
        SURVEYS,
        CAMPAIGN_FEEDBACK,
        CDR,
    )
}

REFERENCE_TABLES = [t for t in INPUT_TABLES.values() if t.partitioning == "reference"]
MONTHLY_TABLES = [t for t in INPUT_TABLES.values() if t.partitioning == "month"]
DAILY_TABLES = [t for t in INPUT_TABLES.values() if t.partitioning == "day"]

# File endings a table may arrive in.
FILE_FORMATS = {".csv": "csv", ".csv.gz": "csv.gz", ".parquet": "parquet"}


def file_format(path: str) -> str | None:
    """The contract format of a file name (`csv`, `csv.gz`, `parquet`), or None if not a data file."""
    for ending, fmt in FILE_FORMATS.items():
        if path.endswith(ending):
            return fmt
    return None


# ---------------------------------------------------------------------------------------------------
# Output lists (CONTRACT.md section 3)


@dataclass(frozen=True)
class OutputColumn:
    name: str
    description: str


@dataclass(frozen=True)
class OutputList:
    name: str
    columns: tuple[OutputColumn, ...]
    description: str = ""
    # groupscope's columns beyond the contract's, exported after them
    extra: tuple[OutputColumn, ...] = ()
    notes: str = ""  # rules of the list (which rows it holds), under its columns

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


FAKE_MEMBERS = OutputList(
    "fake-members",
    (
        OutputColumn("group_id", ""),
        OutputColumn("msisdn", "the registered member"),
        OutputColumn("fake_score", "0..1, higher = more likely not a real member"),
        OutputColumn("is_suspect", "true / false: flagged as a fake member at the configured threshold"),
        OutputColumn("reasons", "short human-readable explanation"),
    ),
    "every registered member of every active group, scored (虚假成员清单)",
    extra=(
        OutputColumn("evidence", "sufficient, or insufficient: too little to judge (such a member is never flagged)"),
        OutputColumn("confidence", "0..1 confidence in is_suspect (0 when evidence is insufficient)"),
    ),
)

POTENTIAL_MEMBERS = OutputList(
    "potential-members",
    (
        OutputColumn("group_id", ""),
        OutputColumn("msisdn", "normalised 11-digit mobile number"),
        OutputColumn("carrier", "its carrier"),
        OutputColumn("on_net", "true when it is a home-carrier subscriber"),
        OutputColumn("members_contacted", "distinct registered members it exchanged calls or SMS with"),
        OutputColumn("member_share", "members_contacted / the group's registered member count"),
        OutputColumn("score", "0..1 likelihood of being an employee of the group"),
        OutputColumn("likely_employee", "true / false: score at or above the configured threshold"),
    ),
    "numbers that are not registered members of the group but are in contact with it (潜在成员 / 重点异网用户)",
    notes="A number is listed when `member_share` is greater than `analytics.potential_member_share` (default "
    "10 %) or when its `score` reaches `analytics.employee_score_threshold` (default 0.65); `likely_employee` "
    "says whether the score reached it. An off-net number listed here is a key competitor user (重点异网用户).",
)

GROUP_SUMMARY = OutputList(
    "group-summary",
    (
        OutputColumn("group_id", ""),
        OutputColumn("listed_members", "registered members at period end"),
        OutputColumn("suspect_members", "members flagged as fake"),
        OutputColumn("real_members", "listed_members - suspect_members"),
        OutputColumn("purity", "real_members / listed_members (纯度); empty for an active group without members at "
                     "period end (every member left, or none registered yet), whose shares are empty too"),
        OutputColumn("est_onnet_unregistered", "estimated employees who are home-carrier subscribers but not "
                     "registered members (its expected on-net employees among its contacts x the survey-calibrated "
                     "correction coefficient, rounded)"),
        OutputColumn("est_offnet_employees", "estimated employees on other carriers: its expected off-net employees "
                     "among its contacts (each weighted by its employee score, docs/models.md) x the survey-calibrated "
                     "correction coefficient"),
        OutputColumn(
            "market_share",
            "(real_members + est_onnet_unregistered) / (real_members + est_onnet_unregistered + est_offnet_employees):"
            " the home carrier's share of the group's employees",
        ),
        OutputColumn("value_score", "0..100: AHP-weighted current and potential value"),
        OutputColumn("value_tier", "tier label of the value pyramid (value.pyramid_labels)"),
    ),
    "one row per active group: its real size, purity, estimated employees by carrier, market share and value",
    extra=(
        OutputColumn(
            "market_share_staff",
            "market_share with on-net staff (real_members - data_lines) in place of real_members: data cards and"
            " IoT SIMs are lines, not employees, and market_share counts them",
        ),
        OutputColumn("data_lines", "real members that are data cards or IoT SIMs (data-only bill, no calls or SMS)"),
        OutputColumn("coefficient_scope", "group size band the correction coefficient was fitted on, global, or "
                     "uncalibrated"),
        OutputColumn("correction_coefficient", "survey-calibrated factor applied to the off-net likely employees; "
                     "empty when uncalibrated"),
        OutputColumn("offnet_key_competitor", "key competitor users: off-net numbers in contact with more than "
                     "10 % of the members (the operator's rule)"),
        OutputColumn("rule_coefficient_scope", "as coefficient_scope, for the operator's rule"),
        OutputColumn("rule_correction_coefficient", "survey-calibrated factor applied to offnet_key_competitor; "
                     "empty when uncalibrated"),
        OutputColumn("rule_est_offnet_employees", "offnet_key_competitor x rule_correction_coefficient"),
        OutputColumn("rule_market_share", "the operator's rule: (on-net staff + on-net likely employees) / (that + "
                     "rule_est_offnet_employees); on-net staff = real_members - data_lines; on-net likely employees = the "
                     "group's unregistered on-net contacts whose contact score, before the work gate and the one-member "
                     "floor (docs/models.md), reaches analytics.employee_score_threshold, uncorrected (a count not exported)"),
        OutputColumn("previous_month", "whether share_change compares with last month: `present` (the group had "
                     "results last month), `new group` (it had none), `missing` (no results loaded for last month; "
                     "the changes are empty)"),
        OutputColumn("share_change", "market_share - last month's market_share"),
        OutputColumn("share_change_movement", "part of the change from this month's counts (under last month's "
                     "coefficient)"),
        OutputColumn("share_change_recalibration", "part of the change from the new coefficient (on this month's "
                     "counts)"),
        OutputColumn("insufficient_members", "members with too little evidence to judge (never flagged)"),
    ),
)

QUARANTINE = OutputList(
    "quarantine",
    (
        OutputColumn("source", "contract table name"),
        OutputColumn("file", "path of the source file relative to LANDING (or the SQL source's table)"),
        OutputColumn("row_number", "1-based data row within that file (header not counted); empty for a file "
                     "that was not read (unreadable or refused): its reason names the error, its rows are unknown"),
        OutputColumn("column", "the offending column, empty when the row as a whole is bad"),
        OutputColumn("reason", "short reason"),
        OutputColumn("raw", "the row as it was read"),
    ),
    "every input row that was not accepted, with why",
)

WORKLIST = OutputList(
    "worklist",
    (
        OutputColumn("account_manager_id", "account manager who owns the group"),
        OutputColumn("group_id", ""),
        OutputColumn("group_name", ""),
        OutputColumn("action", "verify suspected fake member / register on-net employee / win over competitor user"),
        OutputColumn("msisdn", "the number to act on"),
        OutputColumn("carrier", "its carrier (potential members)"),
        OutputColumn("on_net", "true / false (potential members); empty for registered members"),
        OutputColumn("score", "fake_score of a suspect, employee score of a potential member"),
        OutputColumn("members_contacted", "distinct registered members it exchanged calls or SMS with"),
        OutputColumn("detail", "the reasons behind the score"),
    ),
    "groupscope's own list, beyond the contract's lists: an account manager's suspects and likely employees to act on",
)

PROSPECT_GROUPS = OutputList(
    "prospect-groups",
    (
        OutputColumn("prospect_id", "prospect group within the month, largest first"),
        OutputColumn("size", "numbers in the calling community"),
        OutputColumn("teams", "tightly knit teams (departments) it joins"),
        OutputColumn("region", "most frequent region of its home-carrier numbers"),
        OutputColumn("onnet", "its home-carrier numbers"),
        OutputColumn("offnet", "its numbers on other carriers"),
        OutputColumn("carrier_mix", "numbers per carrier"),
        OutputColumn("msisdn", "one number of the prospect group (one row per number)"),
        OutputColumn("carrier", "its carrier"),
        OutputColumn("on_net", "true when it is a home-carrier subscriber"),
    ),
    "groupscope's own list, beyond the contract's lists: companies without a registered group, seen as tightly "
    "knit calling communities in working time (prospects for a new group)",
)

OUTPUT_LISTS: dict[str, OutputList] = {
    o.name: o for o in (FAKE_MEMBERS, POTENTIAL_MEMBERS, GROUP_SUMMARY, QUARANTINE, PROSPECT_GROUPS, WORKLIST)
}

# CONTRACT.md section 2: the commands the operator's scripts rely on (groupscope accepts more options).
CONTRACT_COMMANDS = [
    ("run --landing LANDING --period YYYY-MM [--db URL]", "the whole monthly pipeline"),
    *((f"export {o} --period YYYY-MM --out FILE.csv [--db URL]", f"the {o} list")
      for o in ("fake-members", "potential-members", "group-summary", "quarantine")),
]


def _landing_markdown() -> list[str]:
    width = 50
    tree = []
    for t in INPUT_TABLES.values():
        where = {"reference": f"reference/{t.name}.csv", "month": f"{t.name}/month=YYYY-MM/*.csv",
                 "day": f"{t.name}/dt=YYYY-MM-DD/*.csv | *.csv.gz | *.parquet"}[t.partitioning]
        note = t.description + (" (optional)" if t.optional else "")
        tree.append(f"  {where:<{width}}  {note}".rstrip())
    formats = ", ".join(f"`{e}`" for e in FILE_FORMATS)
    return [
        "## Landing directory (input)", "",
        "One root folder, `LANDING`. Monthly snapshots live under `month=YYYY-MM`, daily call records under "
        f"`dt=YYYY-MM-DD`. Every table may arrive as {formats} (file endings in any case), one or many files per "
        "partition; CSV is RFC 4180 with a header row, UTF-8 unless `sources.encodings.<table>` (or "
        "`sources.default_encoding`) names another encoding, e.g. `gbk`. Column order in CSV is free; column names "
        "are exact. Unknown extra columns are kept out of the results and reported (`extra_columns`), not fatal.",
        "", "```", "LANDING/", *tree, "```", "",
    ]


def _command_line_markdown() -> list[str]:
    return [
        "## Command line", "",
        "The commands the operator's scripts rely on (every command and option: README, `groupscope --help`):", "",
        "```", *(f"groupscope {cmd:<66} # {what}" for cmd, what in CONTRACT_COMMANDS), "```", "",
        "Without `--db`, the embedded database under the work directory is used; with it, any SQLAlchemy URL "
        "(PostgreSQL in production). Exit status 0 on success; 2 with a one-line reason on stderr when the run "
        "must stop (a missing partition, a source failing a blocking expectation, an unreachable database); 1 on "
        "an unexpected failure.", "",
    ]


def contract_markdown() -> str:
    """The schemas above rendered as Markdown, for docs/contract.md."""
    lines = [f"# groupscope data contract (version {CONTRACT_VERSION}), generated from groupscope/contract.py", ""]
    lines += _landing_markdown()
    lines.append("## Input tables")
    for t in INPUT_TABLES.values():
        where = {"reference": "reference/", "month": f"{t.name}/month=YYYY-MM/", "day": f"{t.name}/dt=YYYY-MM-DD/"}[
            t.partitioning
        ]
        opt = " (optional)" if t.optional else ""
        lines += ["", f"### {t.name}{opt}", "", f"Location: `{where}`. Key: `{', '.join(t.key)}`. {t.description}", ""]
        lines.append("| column | type | required | allowed | meaning |")
        lines.append("|---|---|---|---|---|")
        for c in t.columns:
            allowed = " / ".join(c.allowed) if c.allowed else (f">= {c.min_value:g}" if c.min_value is not None else "")
            lines.append(f"| {c.name} | {c.type} | {'yes' if c.required else 'no'} | {allowed} | {c.description} |")
        for rule in t.extra_checks:
            lines.append(f"\nRow rule: `{rule}`.")
    lines += ["", *_command_line_markdown(), "## Output lists (CSV, UTF-8, header row)"]
    for o in OUTPUT_LISTS.values():
        lines += ["", f"### {o.name}", "", o.description, "", "| column | meaning |", "|---|---|"]
        lines += [f"| {c.name} | {c.description} |" for c in o.columns]
        if o.notes:
            lines += ["", o.notes]
        if o.extra:
            lines += ["", "Beyond the contract, the first columns after the contract's ones:", ""]
            lines += [f"- `{c.name}`: {c.description}" for c in o.extra]
    return "\n".join(lines) + "\n"

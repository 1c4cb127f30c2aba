"""Great Expectations suites, one per contract table, built from groupscope/contract.py.

Each expectation carries `meta`:
  level:    "row"   - a failing row is quarantined with `reason` (first failing expectation wins)
            "dedupe"- rows repeating an earlier row's key are quarantined with `reason`
            "conflict" - rows that cannot all be true together (two active subscribers with one msisdn):
                      every row of a conflict is quarantined with `reason`, since the pipeline cannot
                      know which one is right (`CONFLICT_RULES`, evaluated over the whole period after
                      the repeated keys are out)
            "table" - a property of the whole table; its severity (blocking / warning) comes from config
  reason:   the short text written to the quarantine
  column:   the offending column ('' for the row as a whole)

The same expectation objects are used twice: compiled to SQL predicates (`row_rules`) so that the
engine quarantines failing rows at scale, and run by Great Expectations itself over the staged data
(pipelines/validate.py), which also builds the Data Docs.
"""

from __future__ import annotations

from dataclasses import dataclass

import great_expectations as gx
import great_expectations.expectations as gxe

from groupscope.contract import INPUT_TABLES, TYPE_PATTERNS, Column, Table

TYPE_REASONS = {
    "msisdn": "{col} not an 11-digit mobile number",
    "digits": "{col} not digits",
    "date": "{col} not a valid date",
    "datetime": "{col} not a valid datetime",
    "month": "{col} not YYYY-MM",
    "money": "{col} not a decimal amount",
    "int": "{col} not an integer",
}

# Derived columns: computed from a row's own values (SQL over the raw text columns), validated like
# any other column. Kept here so the rule and its meaning live in one place.
BILL_GAP_SQL = (
    "round(TRY_CAST(total_due AS DECIMAL(18,2)) - (TRY_CAST(voice_fee AS DECIMAL(18,2)) + "
    "TRY_CAST(data_fee AS DECIMAL(18,2)) + TRY_CAST(sms_fee AS DECIMAL(18,2)) + "
    "TRY_CAST(vas_fee AS DECIMAL(18,2)) - TRY_CAST(discount AS DECIMAL(18,2))), 2)"
)
DERIVED: dict[str, dict[str, str]] = {"billing": {"reconciliation_gap": BILL_GAP_SQL}}

# Values the staged types hold: BIGINT and DECIMAL(14,2).
TYPE_RANGES = {"int": (-(2**63), 2**63 - 1), "money": (-999_999_999_999.99, 999_999_999_999.99)}

OTHER_PARTY_REGEX = r"^\+?[0-9]{3,20}$"

# strftime formats of the contract, as (exact shape, SQL type whose cast checks the calendar)
STRFTIME_SQL = {
    "%Y-%m-%d": (TYPE_PATTERNS["date"], "DATE"),
    "%Y-%m-%d %H:%M:%S": (TYPE_PATTERNS["datetime"], "TIMESTAMP"),
}


def _meta(level: str, reason: str, column: str) -> dict:
    return {"level": level, "reason": reason, "column": column}


def _column_expectations(c: Column) -> list:
    out: list = []
    if c.required:
        out.append(gxe.ExpectColumnValuesToNotBeNull(column=c.name, meta=_meta("row", f"{c.name} is empty", c.name)))
    if c.pattern:
        reason = TYPE_REASONS[c.type].format(col=c.name)
        out.append(gxe.ExpectColumnValuesToMatchRegex(column=c.name, regex=c.pattern, meta=_meta("row", reason, c.name)))
    if c.type in ("date", "datetime", "money", "int"):
        # the pattern admits 2026-02-30 or 25:61:00; a value must also convert to its type
        fmt = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%d %H:%M:%S"}.get(c.type)
        reason = TYPE_REASONS[c.type].format(col=c.name)
        if fmt:
            out.append(
                gxe.ExpectColumnValuesToMatchStrftimeFormat(
                    column=c.name, strftime_format=fmt, meta=_meta("row", reason, c.name)
                )
            )
    if c.type in TYPE_RANGES:
        # a well-formed number may still not fit the staged type (BIGINT, DECIMAL(14,2)): quarantined here,
        # never a failed cast when staging
        lo, hi = TYPE_RANGES[c.type]
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=c.name, min_value=lo, max_value=hi,
                meta=_meta("row", f"{c.name} out of range for {c.sql_type}", c.name) | {"fits": c.sql_type},
            )
        )
    if c.allowed:
        out.append(
            gxe.ExpectColumnValuesToBeInSet(
                column=c.name, value_set=list(c.allowed), meta=_meta("row", f"{c.name} not allowed", c.name)
            )
        )
    if c.min_value is not None:
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=c.name, min_value=c.min_value, meta=_meta("row", f"{c.name} < {c.min_value:g}", c.name)
            )
        )
    return out


def build_suite(table: Table) -> gx.ExpectationSuite:
    exps: list = []
    exps.append(
        gxe.ExpectTableColumnsToMatchSet(
            column_set=table.column_names, exact_match=False, meta=_meta("table", "missing contract column", "")
        )
    )
    for c in table.columns:
        exps += _column_expectations(c)
    if table.name == "cdr":
        exps.append(
            gxe.ExpectColumnValuesToMatchRegex(
                column="other_party", regex=OTHER_PARTY_REGEX, meta=_meta("row", "other_party not a number", "other_party")
            )
        )
    if table.name == "billing":
        exps.append(
            gxe.ExpectColumnValuesToBeBetween(
                column="reconciliation_gap",
                min_value=0,
                max_value=0,
                meta=_meta("row", "total_due != voice_fee+data_fee+sms_fee+vas_fee-discount", "total_due"),
            )
        )
    for r in conflict_rules(table.name):
        # the measure is a column of the period's rows (`ConflictRule.sql`); Great Expectations sees it too
        exps.append(
            gxe.ExpectColumnValuesToBeBetween(column=r.measure, max_value=1, meta=_meta("conflict", r.reason, r.column))
        )
    if table.key:
        reason = f"duplicate {', '.join(table.key)}"
        if len(table.key) == 1:
            e = gxe.ExpectColumnValuesToBeUnique(column=table.key[0], meta=_meta("dedupe", reason, table.key[0]))
        else:
            e = gxe.ExpectCompoundColumnsToBeUnique(column_list=list(table.key), meta=_meta("dedupe", reason, table.key[0]))
        exps.append(e)
    # an ExpectationSuite built from a list needs no data context; validate.py adds it to one
    return gx.ExpectationSuite(name=f"groupscope.{table.name}", expectations=exps)


# ---- rules over the rows of a whole period: rows in conflict with each other ------------------------


@dataclass(frozen=True)
class ConflictRule:
    """Rows that cannot all be true at once. `measure_sql` selects every row of `{rows}` (all staged rows of
    a table's period) with one more column, `measure`; a row whose measure is above 1 is in conflict, and
    all the rows of a conflict are quarantined with `reason` (none of them can be trusted over the others).
    The staged rows carry `__file` and `__row`, which identify a row across the period."""

    measure: str
    column: str  # the offending column in the quarantine
    reason: str
    measure_sql: str

    def sql(self, rows: str) -> str:
        return self.measure_sql.replace("{rows}", rows)


_OPEN_END = "DATE '9999-12-31'"
CONFLICT_RULES: dict[str, tuple[ConflictRule, ...]] = {
    # contract: msisdn is unique among active subscribers. A closed (or suspended) row may share the number
    # of an active one (a recycled number): it has no measure and never conflicts.
    "subscribers": (
        ConflictRule(
            "active_subscribers_of_msisdn", "msisdn", "msisdn shared with another active subscriber",
            "SELECT t.*, CASE WHEN t.status = 'active' THEN coalesce(c.n, 1) END AS active_subscribers_of_msisdn "
            "FROM {rows} AS t LEFT JOIN (SELECT msisdn, count(*) AS n FROM {rows} WHERE status = 'active' "
            "GROUP BY msisdn HAVING count(*) > 1) AS c ON c.msisdn = t.msisdn AND t.status = 'active'",
        ),
    ),
    # contract: a number belongs to at most one group at a time. Membership periods are [joined_at, left_at)
    # (open when left_at is empty): leaving one group and joining another on the same day is no overlap;
    # two rows of the same group are not a second group.
    "memberships": (
        ConflictRule(
            "groups_at_once", "msisdn", "msisdn in another group at the same time",
            "WITH c AS (SELECT r.* FROM {rows} AS r SEMI JOIN (SELECT msisdn FROM {rows} GROUP BY msisdn "
            "HAVING count(DISTINCT group_id) > 1) AS k USING (msisdn)), "
            "o AS (SELECT a.__file, a.__row, count(DISTINCT b.group_id) AS n FROM c AS a JOIN c AS b "
            "ON b.msisdn = a.msisdn AND b.group_id <> a.group_id "
            f"AND greatest(a.joined_at, b.joined_at) < least(coalesce(a.left_at, {_OPEN_END}), coalesce(b.left_at, {_OPEN_END})) "
            "GROUP BY a.__file, a.__row) "
            "SELECT t.*, 1 + coalesce(o.n, 0) AS groups_at_once FROM {rows} AS t "
            "LEFT JOIN o ON o.__file = t.__file AND o.__row = t.__row",
        ),
    ),
}


def conflict_rules(table: str) -> tuple[ConflictRule, ...]:
    return CONFLICT_RULES.get(table, ())


def with_conflict_measures(table: str, rows: str) -> str:
    """A relation: `rows` (staged rows with __file, __row) with the measure column of every conflict rule."""
    for r in conflict_rules(table):
        rows = f"({r.sql(rows)})"
    return rows


SUITES: dict[str, gx.ExpectationSuite] = {}


def suite_for(table: str) -> gx.ExpectationSuite:
    if table not in SUITES:
        SUITES[table] = build_suite(INPUT_TABLES[table])
    return SUITES[table]


# ---- compilation of row-level expectations to SQL --------------------------------------------------


@dataclass(frozen=True)
class RowRule:
    column: str
    reason: str
    fails_sql: str  # true when the row fails (evaluated over text columns)
    # the same test over columns held in their staged types (SQL_TYPES: a Parquet file whose physical types are
    # the contract's, read without a round trip through text); it fails exactly the rows that `fails_sql` fails
    # on the text form of the same values, once the rules before it passed. None: no typed form, such a file is
    # read as text.
    typed_sql: str | None = None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(v: str) -> str:
    return "'" + str(v).replace("'", "''") + "'"


def _value_sql(table: str, column: str) -> str:
    derived = DERIVED.get(table, {})
    return f"({derived[column]})" if column in derived else _q(column)


def compile_expectation(table: str, e) -> RowRule | None:
    """SQL that is true for a row failing expectation `e`; None for non-row expectations.

    Nulls and empty strings count as missing: only ExpectColumnValuesToNotBeNull fails on them,
    as in Great Expectations, where the other column expectations ignore missing values.
    """
    meta = e.meta or {}
    if meta.get("level") != "row":
        return None
    col = e.column
    v = _value_sql(table, col)
    present = f"({v} IS NOT NULL AND CAST({v} AS VARCHAR) <> '')"
    kind = e.expectation_type
    if kind == "expect_column_values_to_not_be_null":
        cond = f"NOT {present}"
    elif kind == "expect_column_values_to_match_regex":
        cond = f"{present} AND NOT regexp_matches(CAST({v} AS VARCHAR), {_lit(e.regex)})"
    elif kind == "expect_column_values_to_match_strftime_format":
        shape, sql_type = STRFTIME_SQL[e.strftime_format]
        text = f"CAST({v} AS VARCHAR)"
        cond = f"{present} AND (NOT regexp_matches({text}, {_lit(shape)}) OR TRY_CAST({text} AS {sql_type}) IS NULL)"
    elif kind == "expect_column_values_to_be_in_set":
        cond = f"{present} AND CAST({v} AS VARCHAR) NOT IN ({', '.join(_lit(x) for x in e.value_set)})"
    elif kind == "expect_column_values_to_be_between" and meta.get("fits"):
        # exact: whether the text converts to the staged type (a DOUBLE comparison rounds near the limits)
        cond = f"{present} AND TRY_CAST(CAST({v} AS VARCHAR) AS {meta['fits']}) IS NULL"
    elif kind == "expect_column_values_to_be_between":
        num = f"TRY_CAST({v} AS DOUBLE)"
        parts = []
        if e.min_value is not None:
            parts.append(f"{num} < {float(e.min_value)!r}")
        if e.max_value is not None:
            parts.append(f"{num} > {float(e.max_value)!r}")
        cond = f"{present} AND ({' OR '.join(parts)})"
    else:  # pragma: no cover - a new expectation type must be compiled before use
        raise ValueError(f"row-level {kind} has no SQL compilation: add it here before using it in a suite")
    return RowRule(meta.get("column", col), meta["reason"], cond, _typed_form(table, e, v, cond))


# Text forms of typed values (what a reader of the text would see) and the values whose text certainly
# passes the type's pattern and strftime format: a typed date or datetime outside this range (a year
# before 1000, after 9999, infinity) is judged by its text form, exactly as the text path does.
TYPED_TEXT = {"date": "strftime({v}, '%Y-%m-%d')", "datetime": "strftime({v}, '%Y-%m-%d %H:%M:%S')"}
TYPED_SAFE = {
    "date": "{v} BETWEEN DATE '1000-01-01' AND DATE '9999-12-31'",
    "datetime": "{v} BETWEEN TIMESTAMP '1000-01-01 00:00:00' AND TIMESTAMP '9999-12-31 23:59:59.999999'",
}
STRING_TYPES = ("text", "msisdn", "digits", "month")


def _typed_form(table: str, e, v: str, cond: str) -> str | None:  # noqa: PLR0911 - one return per case
    """`cond` (over the text form of the column) as SQL over the column in its staged type: a text column is
    the same text; BIGINT and DECIMAL(14,2) values always have the shape of their type; a date or datetime
    has it inside TYPED_SAFE and is tested through its text form outside it. None where no exact typed form
    is known."""
    col = e.column
    if col in DERIVED.get(table, {}):
        return cond  # computed with TRY_CAST over the source columns, which read typed values alike
    c = INPUT_TABLES[table].column(col)
    if c.type in STRING_TYPES:
        return cond
    kind, meta = e.expectation_type, e.meta or {}
    present = f"{v} IS NOT NULL"
    if kind == "expect_column_values_to_not_be_null":
        return f"{v} IS NULL"
    if c.type in ("int", "money"):
        if kind == "expect_column_values_to_match_regex" and e.regex == c.pattern:
            return "false"  # the text of a BIGINT or a DECIMAL with at most 2 decimals is -?digits(.d{1,2})?
        if kind == "expect_column_values_to_be_between" and meta.get("fits"):
            return "false" if c.type == "int" else f"{present} AND TRY_CAST({v} AS {meta['fits']}) IS NULL"
        if kind == "expect_column_values_to_be_between":
            parts = []
            if e.min_value is not None:
                parts.append(f"CAST({v} AS DOUBLE) < {float(e.min_value)!r}")
            if e.max_value is not None:
                parts.append(f"CAST({v} AS DOUBLE) > {float(e.max_value)!r}")
            return f"{present} AND ({' OR '.join(parts)})"
        return None
    if c.type in TYPED_TEXT:
        # the text of a typed value is never '': present when not NULL; outside the safe range, the text test
        text = TYPED_TEXT[c.type].format(v=v)
        if kind == "expect_column_values_to_match_regex":
            test = f"NOT regexp_matches({text}, {_lit(e.regex)})"
        elif kind == "expect_column_values_to_match_strftime_format":
            shape, sql_type = STRFTIME_SQL[e.strftime_format]
            test = f"(NOT regexp_matches({text}, {_lit(shape)}) OR TRY_CAST({text} AS {sql_type}) IS NULL)"
        else:
            return None
        return f"{present} AND NOT ({TYPED_SAFE[c.type].format(v=v)}) AND {test}"
    return None


def row_rules(table: str) -> list[RowRule]:
    """The row-level rules of a table's suite, in suite order (the first failing one is the reason)."""
    rules = [compile_expectation(table, e) for e in suite_for(table).expectations]
    return [r for r in rules if r is not None]


def dedupe_key(table: str) -> tuple[list[str], str] | None:
    for e in suite_for(table).expectations:
        if (e.meta or {}).get("level") == "dedupe":
            cols = [e.column] if hasattr(e, "column") and getattr(e, "column", None) else list(e.column_list)
            return cols, e.meta["reason"]
    return None
